//! mcpctl's Prometheus client against a real Prometheus served over HTTPS behind basic auth
//! (`web.config.file`; a CA and certificate made for the run with `openssl`). A test binary of
//! its own, so that every test binary runs one Prometheus.

#[path = "analysis/common.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{DEADLINE, block_on};
use mcpctl::fleet::NoDataPolicy;
use mcpctl::gate::analysis::Verdict;
use mcpctl::gate::prometheus::{Auth, Client, Options, QueryErrorKind, QueryResult};
use test_prometheus::{Prometheus, Traffic};

fn client(auth: Auth, with_ca: bool) -> Client {
    let prom = Prometheus::shared_secured();
    let s = prom.secured().expect("secured");
    Client::new(&Options {
        url: prom.url().into(),
        timeout: Duration::from_secs(20),
        auth,
        ca_file: with_ca.then(|| s.ca.clone()),
    })
    .expect("client")
}

fn basic() -> Auth {
    let s = Prometheus::shared_secured().secured().unwrap();
    Auth::Basic {
        user: s.user.into(),
        password: s.password.into(),
    }
}

#[test]
fn ca_file_and_basic_auth_reach_a_secured_prometheus() {
    let got = block_on(client(basic(), true).query("1 + 1")).unwrap();
    assert_eq!(got, QueryResult::Scalar(2.0));
}

#[test]
fn missing_or_wrong_credentials_are_http_401() {
    let e = block_on(client(Auth::None, true).query("1")).unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Http(401), "{e}");
    let s = Prometheus::shared_secured().secured().unwrap();
    let wrong = Auth::Basic {
        user: s.user.into(),
        password: "not-the-password".into(),
    };
    let e = block_on(client(wrong, true).query("1")).unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Http(401), "{e}");
    // Prometheus serves no bearer tokens: the header arrives and is refused.
    let e = block_on(client(Auth::Bearer("token".into()), true).query("1")).unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Http(401), "{e}");
}

#[test]
fn an_unknown_certificate_authority_is_unreachable_and_says_why() {
    let e = block_on(client(basic(), false).query("1")).unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Unreachable, "{e}");
    assert!(e.message.to_lowercase().contains("certificate"), "{e}");
}

#[test]
fn a_sample_through_tls_and_basic_auth() {
    let prom = Prometheus::shared_secured();
    prom.set_traffic(
        "tls",
        "secure",
        "canary",
        Traffic {
            rps: 20.0,
            http_errors: 0.5,
            jsonrpc_errors: 0.0,
        },
    );
    let vars = common::vars("tls", "secure", "canary");
    let spec = common::spec(0.01, NoDataPolicy::Fail);
    let client = client(basic(), true);
    let stable = vars.for_track("stable", "1");
    // Sample until the data is there (the canary's first samples have too few requests).
    let start = Instant::now();
    let sample = loop {
        let readings =
            block_on(mcpctl::gate::sample::take(&client, &spec, &vars, &stable)).unwrap();
        let s = spec.judge(&readings);
        if s.verdict != Verdict::NoData {
            break s;
        }
        assert!(start.elapsed() < DEADLINE, "still no data: {s:#?}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(sample.verdict, Verdict::Fail, "{sample:#?}");
    let v = sample.deciding().unwrap().value.unwrap();
    assert!(
        (v - 0.5).abs() < 0.02,
        "error rate {v}, the endpoint serves 0.5"
    );
}

/// The token sources: a flag value, an environment variable, a key of a Kubernetes Secret
/// (read through mcpctl's cluster client from the API server stand-in).
#[test]
fn bearer_tokens_come_from_a_flag_a_variable_or_a_secret() {
    use mcpctl::gate::prometheus::{TokenSource, token};
    block_on(async {
        assert_eq!(
            token(&TokenSource::Value(" t0k\n".into()), None)
                .await
                .unwrap(),
            "t0k"
        );
        // A variable every test process has; its value is not a secret.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(
            token(&TokenSource::Env("PATH".into()), None).await.unwrap(),
            path.trim()
        );
        let e = token(
            &TokenSource::Env("MCPCTL_TEST_NO_SUCH_VARIABLE".into()),
            None,
        )
        .await
        .unwrap_err();
        assert!(e.contains("`MCPCTL_TEST_NO_SUCH_VARIABLE`"), "{e}");

        let srv = test_apiserver::ApiServer::builder().start().await;
        srv.put_object(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "prometheus-token", "namespace": "monitoring"},
            "data": {"token": "c2VjcmV0LXRva2VuCg=="}
        }));
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        srv.write_kubeconfig(&kubeconfig, "test", "mcp");
        let cluster = mcpctl::cluster::connect(&mcpctl::cluster::ConnectOptions {
            kubeconfig: Some(kubeconfig),
            context: None,
        })
        .await
        .unwrap();
        let source = |key: &str| TokenSource::Secret {
            namespace: "monitoring".into(),
            name: "prometheus-token".into(),
            key: key.into(),
        };
        assert_eq!(
            token(&source("token"), Some(&cluster)).await.unwrap(),
            "secret-token"
        );
        let e = token(&source("tokn"), Some(&cluster)).await.unwrap_err();
        assert!(e.contains("no key `tokn`") && e.contains("token"), "{e}");
        let e = token(
            &TokenSource::Secret {
                namespace: "monitoring".into(),
                name: "absent".into(),
                key: "token".into(),
            },
            Some(&cluster),
        )
        .await
        .unwrap_err();
        assert!(e.contains("Secret monitoring/absent"), "{e}");
        let e = token(&source("token"), None).await.unwrap_err();
        assert!(e.contains("needs a cluster connection"), "{e}");
    });
}
