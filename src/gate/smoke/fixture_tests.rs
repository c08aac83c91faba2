//! The smoke test against a real MCP server (rmcp, through `mcp-fixture`):
//! both eras, JSON and SSE answers, pagination, and each failure kind.

use std::time::Duration;

use mcp_fixture::{Era as FxEra, McpFixture};
use serde_json::json;

use super::*;

fn tools(n: usize) -> serde_json::Value {
    let list: Vec<_> = (0..n)
        .map(|i| json!({"name": format!("tool{i}"), "inputSchema": {"type": "object"}}))
        .collect();
    json!(list)
}

fn opts() -> SmokeOptions {
    SmokeOptions {
        timeout: Duration::from_secs(30),
        headers: Vec::new(),
    }
}

async fn run(fx: &McpFixture, opts: &SmokeOptions) -> Result<SmokeReport, SmokeFailure> {
    smoke(&Endpoint::Url(fx.url()), opts).await
}

fn methods(calls: &[CallTiming]) -> Vec<(&str, u16)> {
    calls
        .iter()
        .map(|c| (c.method.as_str(), c.status))
        .collect()
}

#[tokio::test]
async fn legacy_sse_server_gets_the_full_handshake_and_its_session_ended() {
    let fx = McpFixture::builder()
        .era(FxEra::Legacy)
        .server_info("echo-test", "1.2.3")
        .tools_json(tools(3))
        .start()
        .await;
    let r = run(&fx, &opts()).await.unwrap();
    assert_eq!(r.era, Era::Legacy);
    assert_eq!(
        (r.server_name.as_str(), r.server_version.as_str()),
        ("echo-test", "1.2.3")
    );
    assert_eq!(r.protocol_version, "2025-11-25");
    assert!(r.session);
    assert_eq!(r.tools.len(), 3);
    assert_eq!(
        methods(&r.calls),
        vec![
            ("server/discover", 400),
            ("initialize", 200),
            ("notifications/initialized", 202),
            ("tools/list", 200),
            ("ping", 200),
            ("DELETE", 202),
        ]
    );
    // The session id went on every request after initialize, and the DELETE ended it.
    let log = fx.requests();
    let sid = log[1].session_id.clone();
    assert!(sid.is_none(), "initialize carries no session");
    assert!(log[2..].iter().all(|r| r.session_id.is_some()), "{log:?}");
    assert_eq!(log.last().unwrap().http_method, "DELETE");
    assert!(
        log[2..]
            .iter()
            .all(|r| r.protocol_version.as_deref() == Some("2025-11-25"))
    );
}

#[tokio::test]
async fn modern_server_is_discovered_and_needs_no_session() {
    let fx = McpFixture::builder()
        .era(FxEra::Modern)
        .server_info("modern", "2.0.0")
        .tools_json(tools(2))
        .start()
        .await;
    let r = run(&fx, &opts()).await.unwrap();
    assert_eq!(r.era, Era::Modern);
    assert_eq!(r.protocol_version, "2026-07-28");
    assert_eq!(
        (r.server_name.as_str(), r.server_version.as_str()),
        ("modern", "2.0.0")
    );
    assert!(!r.session);
    assert_eq!(
        methods(&r.calls),
        vec![("server/discover", 200), ("tools/list", 200)]
    );
    assert_eq!(fx.count("initialize"), 0);
}

#[tokio::test]
async fn dual_era_server_is_spoken_to_in_the_modern_era() {
    let fx = McpFixture::builder()
        .era(FxEra::Dual)
        .tools_json(tools(1))
        .start()
        .await;
    let r = run(&fx, &opts()).await.unwrap();
    assert_eq!(r.era, Era::Modern);
}

#[tokio::test]
async fn json_answers_in_both_eras() {
    for era in [FxEra::Legacy, FxEra::Modern] {
        let fx = McpFixture::builder()
            .era(era)
            .json_response(true)
            .tools_json(tools(2))
            .start()
            .await;
        let r = run(&fx, &opts())
            .await
            .unwrap_or_else(|f| panic!("{era:?}: {f}"));
        assert_eq!(r.tools.len(), 2, "{era:?}");
        // rmcp answers JSON only without sessions: no DELETE.
        assert!(!r.session);
        assert!(!r.calls.iter().any(|c| c.method == "DELETE"));
    }
}

#[tokio::test]
async fn pagination_is_followed_to_the_end_in_both_eras() {
    for era in [FxEra::Legacy, FxEra::Modern] {
        let fx = McpFixture::builder()
            .era(era)
            .tools_json(tools(7))
            .page_size(3)
            .start()
            .await;
        let r = run(&fx, &opts())
            .await
            .unwrap_or_else(|f| panic!("{era:?}: {f}"));
        let names: Vec<&str> = r.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tool0", "tool1", "tool2", "tool3", "tool4", "tool5", "tool6"
            ],
            "{era:?}"
        );
        assert_eq!(r.tool_pages, 3);
        assert_eq!(fx.count("tools/list"), 3);
    }
}

#[tokio::test]
async fn connection_refused() {
    // A port that was just free: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = smoke(
        &Endpoint::Url(format!("http://127.0.0.1:{port}/mcp")),
        &opts(),
    )
    .await
    .unwrap_err();
    assert_eq!(f.kind, FailureKind::ConnectionRefused);
    assert_eq!(f.step, "server/discover");
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_failure() {
    let fx = McpFixture::builder().start().await;
    let url = fx.url().replace("http://", "https://");
    let f = smoke(&Endpoint::Url(url), &opts()).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::Tls, "{f}");
}

#[tokio::test]
async fn missing_bearer_token_is_401_and_a_good_one_passes() {
    let fx = McpFixture::builder()
        .era(FxEra::Legacy)
        .bearer_token("s3cret")
        .start()
        .await;
    let f = run(&fx, &opts()).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::HttpStatus { status: 401 });
    assert_eq!(f.step, "server/discover");
    assert!(
        f.message.contains("WWW-Authenticate: Bearer"),
        "{}",
        f.message
    );
    assert!(
        f.hint.contains("--header 'Authorization: Bearer TOKEN'"),
        "{}",
        f.hint
    );

    let mut wrong = opts();
    wrong.headers = vec![("Authorization".into(), "Bearer nope".into())];
    let f = run(&fx, &wrong).await.unwrap_err();
    assert!(f.to_string().contains("Authorization: <redacted>"), "{f}");
    assert!(!f.to_string().contains("nope"), "{f}");

    let mut good = opts();
    good.headers = vec![("Authorization".into(), "Bearer s3cret".into())];
    run(&fx, &good).await.unwrap();
    assert!(
        fx.requests()
            .iter()
            .rev()
            .take(6)
            .all(|r| r.authorization.as_deref() == Some("Bearer s3cret")),
        "the header goes on every request"
    );
}

#[tokio::test]
async fn lost_session_is_a_failure_not_a_new_handshake() {
    let fx = McpFixture::builder()
        .era(FxEra::Legacy)
        .lose_session_after_initialize()
        .tools_json(tools(1))
        .start()
        .await;
    let f = run(&fx, &opts()).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::SessionLost, "{f}");
    assert_eq!(f.step, "tools/list");
    assert_eq!(fx.count("initialize"), 1, "no silent re-initialisation");
    assert!(!fx.requests().iter().any(|r| r.http_method == "DELETE"));
}

#[tokio::test]
async fn a_refused_accept_header_is_406() {
    let fx = McpFixture::builder().era(FxEra::Legacy).start().await;
    let mut o = opts();
    o.headers = vec![("Accept".into(), "application/json".into())];
    let f = run(&fx, &o).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::HttpStatus { status: 406 });
    assert!(f.hint.contains("--header"), "{}", f.hint);
}

#[tokio::test]
async fn http_500_names_the_step() {
    let fx = McpFixture::builder().http_status(500).start().await;
    let f = run(&fx, &opts()).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::HttpStatus { status: 500 });
    assert_eq!(f.step, "server/discover");
    assert!(f.message.contains("forced failure"), "{}", f.message);
}

#[tokio::test]
async fn json_rpc_error_on_tools_list() {
    for era in [FxEra::Legacy, FxEra::Modern] {
        let fx = McpFixture::builder()
            .era(era)
            .tools_list_error(-32603, "database down")
            .start()
            .await;
        let f = run(&fx, &opts()).await.unwrap_err();
        assert_eq!(
            f.kind,
            FailureKind::JsonRpc {
                code: -32603,
                message: "database down".into()
            },
            "{era:?}"
        );
        assert_eq!(f.step, "tools/list");
    }
}

/// A server whose only version is one mcpctl does not speak: rmcp lists it
/// in the UnsupportedProtocolVersion answer to server/discover, and the
/// smoke test stops there instead of trying initialize.
#[tokio::test]
async fn a_server_speaking_an_unknown_version_fails_at_discover() {
    let fx = McpFixture::builder()
        .era(FxEra::Legacy)
        .answer_protocol_version("2024-10-07")
        .start()
        .await;
    let f = run(&fx, &opts()).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::UnsupportedVersion, "{f}");
    assert_eq!(f.step, "server/discover");
    assert!(f.message.contains("[2024-10-07]"), "{}", f.message);
    assert_eq!(fx.count("initialize"), 0);
}

#[tokio::test]
async fn a_slow_tools_list_times_out() {
    let fx = McpFixture::builder()
        .era(FxEra::Legacy)
        .slow_tools_list(Duration::from_secs(60))
        .start()
        .await;
    let o = SmokeOptions {
        timeout: Duration::from_secs(2),
        headers: Vec::new(),
    };
    let f = run(&fx, &o).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::Timeout);
    assert_eq!(f.step, "tools/list");
    assert!(f.to_string().contains("within 2s"), "{f}");
    // The session is still ended.
    assert_eq!(f.calls.last().unwrap().method, "DELETE");
}

#[tokio::test]
async fn a_disallowed_host_is_403() {
    let fx = McpFixture::builder()
        .allowed_hosts(&["mcp.example.com"])
        .start()
        .await;
    let f = run(&fx, &opts()).await.unwrap_err();
    assert_eq!(f.kind, FailureKind::HttpStatus { status: 403 });
    assert!(f.hint.contains("Host"), "{}", f.hint);
}

#[tokio::test]
async fn a_wrong_path_is_404_at_initialize() {
    // Every path reaches rmcp in the fixture; its forced status stands in
    // for a server with nothing at that path.
    let fx404 = McpFixture::builder().http_status(404).start().await;
    let f = run(&fx404, &opts()).await.unwrap_err();
    // 404 to server/discover is not a modern answer: legacy fallback, and
    // initialize fails the same way.
    assert_eq!(f.step, "initialize");
    assert_eq!(f.kind, FailureKind::HttpStatus { status: 404 });
    assert!(f.hint.contains("path"), "{}", f.hint);
}

/// rmcp 2.2 predates 2026-07-28: with sessions it answers server/discover
/// with HTTP 422 and no JSON-RPC error; without, with a JSON-RPC error that
/// is not a modern one. Both mean legacy.
#[tokio::test]
async fn a_server_on_an_sdk_without_discover_falls_back_to_initialize() {
    for json in [false, true] {
        let fx = McpFixture::builder()
            .era(FxEra::LegacySdk)
            .server_info("old-sdk", "0.1.0")
            .json_response(json)
            .tools_json(tools(5))
            .page_size(2)
            .start()
            .await;
        let r = run(&fx, &opts())
            .await
            .unwrap_or_else(|f| panic!("json {json}: {f}"));
        assert_eq!(
            (r.era, r.protocol_version.as_str()),
            (Era::Legacy, "2025-11-25")
        );
        assert_eq!(r.server(), "old-sdk 0.1.0");
        assert_eq!((r.tools.len(), r.tool_pages), (5, 3));
        let discover_status = if json { 200 } else { 422 };
        assert_eq!(r.calls[0].status, discover_status, "{:?}", r.calls);
        assert_eq!(r.calls[1].method, "initialize");
        assert_eq!(r.session, !json);
    }
}
