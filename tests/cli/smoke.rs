//! `mcpctl smoke` against real MCP servers (rmcp, through `mcp-fixture`):
//! both eras, JSON and SSE, pagination, every failure kind, `--compare-to`,
//! `-o json`, and the service-proxy requests of SERVER and `--all`.

use std::process::Output;
use std::time::Duration;

use mcp_fixture::{Era, McpFixture};
use serde_json::{Value, json};

use crate::cluster_support::{Env, NS, out};
use crate::support::*;

fn tools(n: usize) -> Value {
    let list: Vec<_> = (0..n)
        .map(|i| json!({"name": format!("tool{i}"), "description": format!("Tool {i}"), "inputSchema": {"type": "object"}}))
        .collect();
    json!(list)
}

fn smoke(args: &[&str]) -> Output {
    let mut all = vec!["smoke"];
    all.extend_from_slice(args);
    mcpctl(&all)
}

/// `smoke ARGS -o json`: the exit code and the parsed document.
fn smoke_json(args: &[&str]) -> (Option<i32>, Value, Output) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-o", "json"]);
    let o = smoke(&all);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out(&o)));
    assert_eq!(v["schemaVersion"], 1, "{v}");
    let first: Vec<&String> = v.as_object().unwrap().keys().take(3).collect();
    assert_eq!(first, ["schemaVersion", "ok", "results"], "{v}");
    (o.status.code(), v, o)
}

/// The failure of the only result, asserting exit 3 and `ok: false`.
fn failure(args: &[&str]) -> (Value, Output) {
    let (code, v, o) = smoke_json(args);
    assert_eq!(code, Some(3), "{}", out(&o));
    assert_eq!(v["ok"], false);
    (v["results"][0]["failure"].clone(), o)
}

#[test]
fn legacy_sse_server_passes_with_its_tools_calls_and_session() {
    let fx = McpFixture::builder()
        .era(Era::Legacy)
        .server_info("echo-test", "1.2.3")
        .tools_json(tools(3))
        .start_blocking();
    let o = smoke(&["--url", &fx.url()]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let text = stdout(&o);
    assert!(
        text.contains(
            "echo-test 1.2.3 speaks MCP 2025-11-25 (legacy, with a session), 3 tools in 1 page"
        ),
        "{text}"
    );
    for needle in [
        "tool2",
        "Tool 2",
        "notifications/initialized",
        "ping",
        "DELETE",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }

    let (code, v, o) = smoke_json(&["--url", &fx.url()]);
    assert_eq!(code, Some(0), "{}", out(&o));
    let r = &v["results"][0]["report"];
    assert_eq!(v["ok"], true);
    assert_eq!(r["era"], "legacy");
    assert_eq!(r["protocolVersion"], "2025-11-25");
    assert_eq!(r["serverName"], "echo-test");
    assert_eq!(r["serverVersion"], "1.2.3");
    assert_eq!(r["session"], true);
    assert_eq!(r["tools"].as_array().unwrap().len(), 3);
    assert_eq!(r["tools"][1]["inputSchema"], json!({"type": "object"}));
    let calls: Vec<&str> = r["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        calls,
        [
            "server/discover",
            "initialize",
            "notifications/initialized",
            "tools/list",
            "ping",
            "DELETE"
        ]
    );
    assert!(r["calls"][1]["millis"].as_f64().unwrap() >= 0.0);
}

#[test]
fn modern_json_server_passes_without_session_or_ping() {
    let fx = McpFixture::builder()
        .era(Era::Modern)
        .json_response(true)
        .server_info("modern", "2.0.0")
        .tools_json(tools(2))
        .start_blocking();
    let (code, v, o) = smoke_json(&["--url", &fx.url()]);
    assert_eq!(code, Some(0), "{}", out(&o));
    let r = &v["results"][0]["report"];
    assert_eq!(r["era"], "modern");
    assert_eq!(r["protocolVersion"], "2026-07-28");
    assert_eq!(r["serverName"], "modern");
    assert_eq!(r["session"], false);
    assert_eq!(r["calls"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(fx.count("ping"), 0);
}

#[test]
fn pagination_collects_every_page() {
    for era in [Era::Legacy, Era::Modern, Era::LegacySdk] {
        let fx = McpFixture::builder()
            .era(era)
            .tools_json(tools(5))
            .page_size(2)
            .start_blocking();
        let (code, v, o) = smoke_json(&["--url", &fx.url()]);
        assert_eq!(code, Some(0), "{era:?}: {}", out(&o));
        let r = &v["results"][0]["report"];
        assert_eq!(r["toolPages"], 3, "{era:?}");
        let names: Vec<&str> = r["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["tool0", "tool1", "tool2", "tool3", "tool4"],
            "{era:?}"
        );
    }
}

#[test]
fn connection_refused_fails_with_exit_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let (f, o) = failure(&["--url", &url]);
    assert_eq!(f["kind"]["type"], "connectionRefused");
    assert_eq!(f["step"], "server/discover");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("smoke test of {url} failed at server/discover")),
        "{err}"
    );
    assert!(err.contains("nothing listens there"), "{err}");
}

#[test]
fn unauthorized_without_a_token_and_the_token_never_printed() {
    let fx = McpFixture::builder()
        .era(Era::Legacy)
        .bearer_token("s3cret-token")
        .start_blocking();
    let (f, _) = failure(&["--url", &fx.url()]);
    assert_eq!(f["kind"], json!({"type": "httpStatus", "status": 401}));

    let (f, o) = failure(&[
        "--url",
        &fx.url(),
        "--header",
        "Authorization: Bearer wrong-token",
    ]);
    assert_eq!(f["kind"]["status"], 401);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("Authorization: <redacted>"), "{all}");
    assert!(!all.contains("wrong-token"), "{all}");

    let o = smoke(&[
        "--url",
        &fx.url(),
        "-H",
        "Authorization:Bearer s3cret-token",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(!stdout(&o).contains("s3cret-token"));
    assert!(
        fx.requests()
            .iter()
            .filter(|r| r.status != 401)
            .all(|r| r.authorization.as_deref() == Some("Bearer s3cret-token"))
    );
}

#[test]
fn a_lost_session_is_a_failure_without_reinitialising() {
    let fx = McpFixture::builder()
        .era(Era::Legacy)
        .lose_session_after_initialize()
        .start_blocking();
    let (f, o) = failure(&["--url", &fx.url()]);
    assert_eq!(f["kind"]["type"], "sessionLost");
    assert_eq!(f["step"], "tools/list");
    assert!(stderr(&o).contains("session affinity"), "{}", stderr(&o));
    assert_eq!(fx.count("initialize"), 1);
}

#[test]
fn not_acceptable_when_accept_is_overridden() {
    let fx = McpFixture::builder().era(Era::Legacy).start_blocking();
    let (f, _) = failure(&["--url", &fx.url(), "-H", "Accept: application/json"]);
    assert_eq!(f["kind"], json!({"type": "httpStatus", "status": 406}));
}

#[test]
fn server_error_and_json_rpc_error_name_their_step() {
    let fx = McpFixture::builder().http_status(500).start_blocking();
    let (f, _) = failure(&["--url", &fx.url()]);
    assert_eq!(f["kind"]["status"], 500);
    assert_eq!(f["step"], "server/discover");

    let fx = McpFixture::builder()
        .era(Era::Modern)
        .tools_list_error(-32603, "backend unavailable")
        .start_blocking();
    let (f, o) = failure(&["--url", &fx.url()]);
    assert_eq!(
        f["kind"],
        json!({"type": "jsonRpc", "code": -32603, "message": "backend unavailable"})
    );
    assert_eq!(f["step"], "tools/list");
    assert!(
        stderr(&o).contains("JSON-RPC error -32603: backend unavailable"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_slow_answer_times_out() {
    let fx = McpFixture::builder()
        .era(Era::Modern)
        .slow_tools_list(Duration::from_secs(120))
        .start_blocking();
    let (f, o) = failure(&["--url", &fx.url(), "--timeout", "2s"]);
    assert_eq!(f["kind"]["type"], "timeout");
    assert_eq!(f["step"], "tools/list");
    assert!(
        stderr(&o).contains("no complete answer within 2s"),
        "{}",
        stderr(&o)
    );
}

/// The version clients use now (baseline) and a candidate.
fn pair(old: Value, new: Value) -> (McpFixture, McpFixture) {
    let baseline = McpFixture::builder()
        .era(Era::Legacy)
        .tools_json(old)
        .start_blocking();
    let candidate = McpFixture::builder()
        .era(Era::Modern)
        .tools_json(new)
        .start_blocking();
    (baseline, candidate)
}

#[test]
fn compare_to_with_breaking_changes_exits_3() {
    let (baseline, candidate) = pair(
        json!([
            {"name": "search", "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}, "limit": {"type": "number"}}, "required": ["q"]}},
            {"name": "gone", "inputSchema": {"type": "object"}}
        ]),
        json!([
            {"name": "search", "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}, "limit": {"type": "integer"}}, "required": ["q"]}}
        ]),
    );
    let args = ["--url", &candidate.url(), "--compare-to", &baseline.url()];
    let (code, v, o) = smoke_json(&args);
    assert_eq!(code, Some(3), "{}", out(&o));
    assert_eq!(v["ok"], false);
    assert_eq!(v["results"][0]["ok"], true);
    assert_eq!(v["baseline"]["ok"], true);
    let changes = v["toolDiff"]["changes"].as_array().unwrap();
    let got: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["severity"].as_str().unwrap(),
                c["tool"].as_str().unwrap(),
                c["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("breaking", "gone", ""),
            ("breaking", "search", "inputSchema.properties.limit.type")
        ]
    );
    assert!(
        stderr(&o).contains("2 breaking tool changes"),
        "{}",
        stderr(&o)
    );

    let o = smoke(&args);
    assert_eq!(o.status.code(), Some(3));
    let text = stdout(&o);
    assert!(
        text.contains("SEVERITY") && text.contains("type changed from number to integer"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} (baseline)", baseline.url())),
        "{text}"
    );
}

#[test]
fn compare_to_with_compatible_changes_passes() {
    let (baseline, candidate) = pair(
        json!([{"name": "search", "description": "old", "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}}}]),
        json!([
            {"name": "search", "description": "new", "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}, "page": {"type": "integer"}}}},
            {"name": "more", "inputSchema": {"type": "object"}}
        ]),
    );
    let (code, v, o) = smoke_json(&["--url", &candidate.url(), "--compare-to", &baseline.url()]);
    assert_eq!(code, Some(0), "{}", out(&o));
    assert_eq!(v["ok"], true);
    let severities: Vec<&str> = v["toolDiff"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["compatible", "compatible", "compatible"]);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["smoke"],
        vec!["smoke", "--url", "http://x/mcp", "--all"],
        vec!["smoke", "--all", "--compare-to", "http://x/mcp"],
        vec!["smoke", "--url", "http://x/mcp", "-H", "no colon here"],
        vec!["smoke", "--url", "http://x/mcp", "--timeout", "soon"],
        vec!["smoke", "--url", "http://x/mcp", "--timeout", "0s"],
        // deploy's smoke gate takes its headers the same way.
        vec!["deploy", "github", "--header", "no colon here"],
    ] {
        let o = mcpctl(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", out(&o));
    }
}

/// The distinct paths POSTed to the test API server, sorted.
fn posted_paths(env: &Env) -> Vec<String> {
    let paths: std::collections::BTreeSet<String> = env
        .srv
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path.clone())
        .collect();
    paths.into_iter().collect()
}

/// SERVER and `--all` go through the API server's service proxy, on each
/// server's port and path: with no Services to proxy to, every smoke test
/// fails, and the requests show the proxy paths.
#[test]
fn server_and_all_go_through_the_service_proxy() {
    let env = Env::start(&[]);
    env.write_fleet(&format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  router: service\n  strategy: rolling\n\
         servers:\n  - name: github\n    image: ghcr.io/acme/github-mcp:1.4.2\n\
         \x20 - name: pg\n    image: ghcr.io/acme/pg-mcp:0.9.0\n    port: 9000\n    path: /v1/mcp\n"
    ));
    let o = env.run(&["smoke", "github", "-o", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["results"][0]["server"], "github");
    assert_eq!(
        v["results"][0]["failure"]["endpoint"],
        format!("service {NS}/github:8080/mcp (through the API server)")
    );
    assert_eq!(
        posted_paths(&env),
        [format!(
            "/api/v1/namespaces/{NS}/services/github:8080/proxy/mcp"
        )]
    );

    env.srv.clear_requests();
    let o = env.run(&["smoke", "--all"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let text = stdout(&o);
    assert!(
        text.contains("SERVER") && text.contains("github") && text.contains("pg"),
        "{text}"
    );
    assert_eq!(text.matches("FAILED").count(), 2, "{text}");
    assert_eq!(
        posted_paths(&env),
        [
            format!("/api/v1/namespaces/{NS}/services/github:8080/proxy/mcp"),
            format!("/api/v1/namespaces/{NS}/services/pg:9000/proxy/v1/mcp"),
        ]
    );

    let o = env.run(&["smoke", "gitlab"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        stderr(&o).contains("did you mean `github`"),
        "{}",
        stderr(&o)
    );
}

/// Through the test API server's Service proxy to real MCP servers: SERVER
/// and `--all`, both eras, a session ended through the proxy, and a server
/// without endpoints failing its row.
#[test]
fn server_and_all_reach_real_servers_through_the_proxy() {
    let github = McpFixture::builder()
        .era(Era::Legacy)
        .server_info("github-mcp", "1.4.2")
        .tools_json(tools(3))
        .start_blocking();
    let pg = McpFixture::builder()
        .era(Era::Modern)
        .json_response(true)
        .server_info("pg-mcp", "0.9.0")
        .tools_json(tools(1))
        .start_blocking();
    let base = |fx: &McpFixture| format!("http://127.0.0.1:{}", fx.port());
    let env = Env::start_with(|b| {
        b.proxy_service(NS, "github", 8080, &base(&github))
            .proxy_service(NS, "pg", 9000, &base(&pg))
    });
    env.write_fleet(&format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  router: service\n  strategy: rolling\n\
         servers:\n  - name: github\n    image: ghcr.io/acme/github-mcp:1.4.2\n\
         \x20 - name: pg\n    image: ghcr.io/acme/pg-mcp:0.9.0\n    port: 9000\n    path: /v1/mcp\n\
         \x20 - name: down\n    image: ghcr.io/acme/down-mcp:1.0.0\n"
    ));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    let o = env.run(&["smoke", "github", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v["results"][0]["report"];
    assert_eq!(r["serverName"], "github-mcp");
    assert_eq!(r["era"], "legacy");
    assert_eq!(r["session"], true);
    assert_eq!(r["tools"].as_array().unwrap().len(), 3);
    assert_eq!(
        github
            .requests()
            .last()
            .map(|r| r.http_method.clone())
            .as_deref(),
        Some("DELETE"),
        "the session is ended through the proxy"
    );

    let o = env.run(&["smoke", "--all", "-o", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows: Vec<(&str, bool)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["server"].as_str().unwrap(), r["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(rows, [("github", true), ("pg", true), ("down", false)]);
    assert_eq!(v["results"][1]["report"]["era"], "modern");
    assert_eq!(v["results"][1]["report"]["serverName"], "pg-mcp");
    let f = &v["results"][2]["failure"];
    assert_eq!(
        f["kind"],
        json!({"type": "httpStatus", "status": 503}),
        "{f}"
    );
    assert!(f["hint"].as_str().unwrap().contains("endpoints"), "{f}");
    assert!(
        stderr(&o).contains("service mcp/down:8080/mcp (through the API server)"),
        "{}",
        stderr(&o)
    );

    let o = env.run(&["smoke", "--all"]);
    let text = stdout(&o);
    assert_eq!(text.matches(" ok ").count(), 2, "{text}");
    assert_eq!(text.matches("FAILED").count(), 1, "{text}");
}
