//! The canary analysis against a real Prometheus (one per test binary, see
//! `tests/prometheus`): mcpctl's client and built-in queries read counters a
//! test sets on a metrics endpoint Prometheus scrapes every second. Every
//! test uses its own server name, so tests share the Prometheus safely. No
//! Prometheus response here is made up: errors come from a real Prometheus, a
//! closed port, or a socket that never answers.

mod common;
mod dashboard;

use std::time::Duration;

use common::{DEADLINE, block_on, spec};
use mcpctl::fleet::NoDataPolicy;
use mcpctl::gate::analysis::{Analysis, Baseline, Decision, Outcome, Sample, Spec, Verdict};
use mcpctl::gate::prometheus::{Auth, Client, Options, QueryErrorKind, QueryResult};
use mcpctl::gate::query::{self, Vars};
use mcpctl::gate::sample;
use test_prometheus::{Prometheus, Traffic};

const NS: &str = "analysis";

fn vars(server: &str, track: &str) -> Vars {
    common::vars(NS, server, track)
}

fn client_for(url: &str, timeout: Duration) -> Client {
    Client::new(&Options {
        url: url.into(),
        timeout,
        auth: Auth::None,
        ca_file: None,
    })
    .expect("client")
}

fn client() -> Client {
    client_for(Prometheus::shared().url(), Duration::from_secs(20))
}

/// Takes and judges one sample of `server`'s canary (and stable) track.
fn take(client: &Client, spec: &Spec, server: &str) -> Sample {
    let readings = block_on(sample::take(
        client,
        spec,
        &vars(server, "canary"),
        &vars(server, "stable"),
    ))
    .expect("templates render");
    spec.judge(&readings)
}

/// Waits until Prometheus has at least `n` requests of the track in the window, and a value
/// of the built-in error rate for it.
fn wait_for_requests(server: &str, track: &str, n: f64) {
    let prom = Prometheus::shared();
    let v = vars(server, track);
    let requests = query::render(&query::requests_template(), &v).unwrap();
    prom.wait_for(
        &format!("{n} {track} requests of {server}"),
        &requests,
        DEADLINE,
        |r| r.first().is_some_and(|x| *x >= n),
    );
    let rate = query::render(&query::error_rate_template(), &v).unwrap();
    prom.wait_for(
        &format!("the {track} error rate of {server}"),
        &rate,
        DEADLINE,
        |r| r.first().is_some_and(|x| x.is_finite()),
    );
}

fn traffic(rps: f64, http_errors: f64, jsonrpc_errors: f64) -> Traffic {
    Traffic {
        rps,
        http_errors,
        jsonrpc_errors,
    }
}

fn metric_check(s: &Sample) -> &mcpctl::gate::analysis::Check {
    s.checks
        .iter()
        .find(|c| c.name == "error-rate")
        .expect("error-rate check")
}

#[test]
fn healthy_canary_passes() {
    let prom = Prometheus::shared();
    prom.set_traffic(NS, "healthy", "canary", traffic(20.0, 0.0, 0.0));
    wait_for_requests("healthy", "canary", 20.0);
    let spec = spec(0.01, NoDataPolicy::Fail);
    let s = take(&client(), &spec, "healthy");
    assert_eq!(s.verdict, Verdict::Pass, "{s:#?}");
    assert_eq!(metric_check(&s).value, Some(0.0));
    let mut a = Analysis::new(spec);
    assert_eq!(a.observe(s), Decision::Continue);
}

#[test]
fn error_rate_over_the_threshold_fails_the_first_sample() {
    let prom = Prometheus::shared();
    prom.set_traffic(NS, "failing", "canary", traffic(20.0, 0.3, 0.0));
    wait_for_requests("failing", "canary", 20.0);
    let mut a = Analysis::new(spec(0.01, NoDataPolicy::Fail));
    let s = take(&client(), a.spec(), "failing");
    let Decision::Abort(why) = a.observe(s) else {
        panic!("a 30% error rate did not abort: {:#?}", a.samples())
    };
    assert_eq!(why.sample, 0);
    assert_eq!(why.check.name, "error-rate");
    let v = why.check.value.unwrap();
    assert!(
        (v - 0.3).abs() < 0.02,
        "error rate {v}, the endpoint serves 0.3"
    );
    assert!(
        why.check
            .query
            .contains("mcp_server=\"failing\",track=\"canary\"")
    );
    assert!(why.to_string().contains("is above 0.01"), "{why}");
}

#[test]
fn json_rpc_errors_count_as_errors() {
    let prom = Prometheus::shared();
    // 10% HTTP 500 and 20% JSON-RPC errors inside HTTP 200.
    prom.set_traffic(NS, "jsonrpc", "canary", traffic(20.0, 0.1, 0.2));
    wait_for_requests("jsonrpc", "canary", 20.0);
    let s = take(&client(), &spec(0.5, NoDataPolicy::Fail), "jsonrpc");
    let v = metric_check(&s).value.unwrap();
    assert!(
        (v - 0.3).abs() < 0.02,
        "error rate {v}, the endpoint serves 0.1 + 0.2"
    );
    assert_eq!(s.verdict, Verdict::Pass);
}

#[test]
fn the_first_failing_sample_aborts_a_running_analysis() {
    let prom = Prometheus::shared();
    prom.set_traffic(NS, "turning", "canary", traffic(20.0, 0.0, 0.0));
    wait_for_requests("turning", "canary", 20.0);
    let client = client();
    let mut a = Analysis::new(spec(0.05, NoDataPolicy::Fail));
    let s = take(&client, a.spec(), "turning");
    assert_eq!(a.observe(s), Decision::Continue);
    // The canary goes bad; samples go on until the analysis aborts.
    prom.set_traffic(NS, "turning", "canary", traffic(20.0, 0.5, 0.0));
    let start = std::time::Instant::now();
    let why = loop {
        let s = take(&client, a.spec(), "turning");
        if let Decision::Abort(why) = a.observe(s) {
            break why;
        }
        assert!(start.elapsed() < DEADLINE, "no abort: {:#?}", a.samples());
        std::thread::sleep(Duration::from_secs(1));
    };
    // Every sample before the abort passed: the first failing one aborted.
    let (last, before) = a.samples().split_last().unwrap();
    assert!(
        before.iter().all(|s| s.verdict == Verdict::Pass),
        "{before:#?}"
    );
    assert_eq!(last.verdict, Verdict::Fail);
    assert_eq!(why.sample, a.samples().len() - 1);
    assert!(why.check.value.unwrap() > 0.05);
}

#[test]
fn no_traffic_is_no_data_and_the_policy_decides() {
    // No series at all for this server.
    let client = client();
    for (policy, aborts) in [
        (NoDataPolicy::Fail, true),
        (NoDataPolicy::Pass, false),
        (NoDataPolicy::Ignore, false),
    ] {
        let mut a = Analysis::new(spec(0.01, policy));
        let s = take(&client, a.spec(), "idle");
        assert_eq!(s.verdict, Verdict::NoData, "{s:#?}");
        match a.observe(s) {
            Decision::Abort(why) => {
                assert!(aborts, "{policy:?} aborted");
                assert!(why.no_data);
                assert_eq!(why.check.name, "requests");
            }
            Decision::Continue => assert!(!aborts, "{policy:?} did not abort"),
        }
    }
}

#[test]
fn fewer_requests_than_min_requests_is_no_data() {
    let prom = Prometheus::shared();
    // 0.5 requests a second: about 5 in the 10 s window, under minRequests 20.
    prom.set_traffic(NS, "quiet", "canary", traffic(0.5, 0.0, 0.0));
    wait_for_requests("quiet", "canary", 1.0);
    let s = take(&client(), &spec(0.01, NoDataPolicy::Fail), "quiet");
    assert_eq!(s.verdict, Verdict::NoData, "{s:#?}");
    let c = s.deciding().unwrap();
    assert!(
        matches!(&c.outcome, Outcome::NoData(w) if w.contains("fewer than minRequests 20")),
        "{c:?}"
    );
}

#[test]
fn unreachable_prometheus_is_a_failed_sample() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is dropped: nothing listens on the port.
    let client = client_for(&format!("http://127.0.0.1:{port}"), Duration::from_secs(20));
    let mut a = Analysis::new(spec(0.01, NoDataPolicy::Pass));
    let s = take(&client, a.spec(), "anything");
    assert_eq!(s.verdict, Verdict::Fail);
    let Decision::Abort(why) = a.observe(s) else {
        panic!()
    };
    let Outcome::Error(e) = &why.check.outcome else {
        panic!("{why:?}")
    };
    assert_eq!(e.kind, QueryErrorKind::Unreachable, "{e}");
    assert!(e.message.contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[test]
fn a_prometheus_that_does_not_answer_times_out() {
    // Connections are queued by the kernel and never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let client = client_for(&url, Duration::from_secs(1));
    let s = take(&client, &spec(0.01, NoDataPolicy::Pass), "anything");
    assert_eq!(s.verdict, Verdict::Fail);
    let Outcome::Error(e) = &s.deciding().unwrap().outcome else {
        panic!("{s:?}")
    };
    assert_eq!(e.kind, QueryErrorKind::Timeout, "{e}");
    drop(silent);
}

#[test]
fn a_bad_query_is_reported_as_a_query_error() {
    Prometheus::shared();
    let client = client();
    let e = block_on(client.query("sum(rate(mcp_requests_total[")).unwrap_err();
    let QueryErrorKind::Prometheus { error_type, status } = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!((error_type.as_str(), *status), ("bad_data", 400));
    assert!(e.message.contains("parse error"), "{e}");

    let mut spec = spec(0.01, NoDataPolicy::Pass);
    spec.metrics[0].query =
        "sum(rate(mcp_requests_total{mcp_server=\"{{ server }}\"[{{ window }}]))".into();
    let s = take(&client, &spec, "anything");
    assert_eq!(s.verdict, Verdict::Fail);
    assert!(matches!(
        &s.deciding().unwrap().outcome,
        Outcome::Error(e) if matches!(&e.kind, QueryErrorKind::Prometheus { error_type, .. } if error_type == "bad_data")
    ));
}

#[test]
fn http_errors_and_range_results_are_query_errors() {
    let prom = Prometheus::shared();
    // A path Prometheus does not serve: 404 with a plain-text body.
    let client = client_for(
        &format!("{}/no/such/prefix", prom.url()),
        Duration::from_secs(20),
    );
    let e = block_on(client.query("1")).unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Http(404), "{e}");

    let client = self::client();
    let e = block_on(client.query("mcp_requests_total[1m]")).unwrap_err();
    assert_eq!(
        e.kind,
        QueryErrorKind::UnexpectedType("matrix".into()),
        "{e}"
    );
    assert_eq!(
        block_on(client.query("1 + 1")).unwrap(),
        QueryResult::Scalar(2.0)
    );
    assert!(matches!(block_on(client.query("NaN")).unwrap(), QueryResult::Scalar(v) if v.is_nan()));
    assert_eq!(
        block_on(client.query("+Inf")).unwrap(),
        QueryResult::Scalar(f64::INFINITY)
    );
}

#[test]
fn two_series_where_one_is_expected_is_a_query_error() {
    let prom = Prometheus::shared();
    prom.set_traffic(NS, "split", "canary", traffic(20.0, 0.5, 0.0));
    wait_for_requests("split", "canary", 20.0);
    let mut spec = spec(0.01, NoDataPolicy::Pass);
    // Not aggregated over `code`: one series per status code.
    spec.metrics[0].query = "sum by (code) (rate(mcp_requests_total{namespace=\"{{ namespace }}\",mcp_server=\"{{ server }}\",track=\"{{ track }}\"}[{{ window }}]))".into();
    let rendered = query::render(&spec.metrics[0].query, &vars("split", "canary")).unwrap();
    prom.wait_for("both status codes", &rendered, DEADLINE, |v| v.len() == 2);
    let s = take(&client(), &spec, "split");
    assert_eq!(s.verdict, Verdict::Fail);
    let Outcome::Error(e) = &s.deciding().unwrap().outcome else {
        panic!("{s:?}")
    };
    assert_eq!(e.kind, QueryErrorKind::SeveralSeries(2));
    assert!(e.message.contains("2 series where one is expected"), "{e}");
    assert!(
        e.message.contains("code=\"200\"") && e.message.contains("code=\"500\""),
        "{e}"
    );
}

#[test]
fn baseline_comparison_tolerates_the_stable_error_rate() {
    let prom = Prometheus::shared();
    // A fleet with a known steady 5% error rate.
    prom.set_traffic(NS, "steady", "stable", traffic(20.0, 0.05, 0.0));
    prom.set_traffic(NS, "steady", "canary", traffic(20.0, 0.055, 0.0));
    prom.set_traffic(NS, "worse", "stable", traffic(20.0, 0.05, 0.0));
    prom.set_traffic(NS, "worse", "canary", traffic(20.0, 0.2, 0.0));
    for server in ["steady", "worse"] {
        wait_for_requests(server, "stable", 20.0);
        wait_for_requests(server, "canary", 20.0);
    }
    let absolute = spec(0.01, NoDataPolicy::Fail);
    let mut relative = absolute.clone();
    relative.metrics[0].baseline = Some(Baseline::Increase(0.01));
    let client = client();

    // Within stable + 1 point: passes, though above maxErrorRate alone.
    let s = take(&client, &relative, "steady");
    assert_eq!(s.verdict, Verdict::Pass, "{s:#?}");
    assert_eq!(take(&client, &absolute, "steady").verdict, Verdict::Fail);

    // Far above the stable track: fails, against stable + 1 point.
    let s = take(&client, &relative, "worse");
    assert_eq!(s.verdict, Verdict::Fail, "{s:#?}");
    let c = s.deciding().unwrap();
    let limit = c.threshold.unwrap().value();
    assert!((limit - 0.06).abs() < 0.005, "limit {limit}");
    assert!(
        matches!(&c.outcome, Outcome::Fail(w) if w.contains("stable 0.05")),
        "{c:?}"
    );

    let mut ratio = absolute.clone();
    ratio.metrics[0].baseline = Some(Baseline::Ratio(1.5));
    assert_eq!(take(&client, &ratio, "steady").verdict, Verdict::Pass);
    assert_eq!(take(&client, &ratio, "worse").verdict, Verdict::Fail);
}

/// From a fleet file's `canary.analysis` (window, baseline, a further metric with a `min`
/// bound) to samples of the real Prometheus.
#[test]
fn a_fleet_files_analysis_runs_as_written() {
    let text = r#"
fleet: acme
namespace: analysis
servers:
  - name: fleet-steady
    image: x/steady:2
    canary:
      analysis:
        interval: 1s
        window: 10s
        maxErrorRate: 0.01
        maxErrorRateIncrease: 0.01
        metrics:
          - name: request-rate
            query: 'sum(rate(mcp_requests_total{namespace="{{ namespace }}",mcp_server="{{ server }}",track="{{ track }}"}[{{ window }}]))'
            min: 5
"#;
    let fleet = mcpctl::fleet::load_str(text, std::path::Path::new("fleet.yaml"))
        .expect("fleet loads")
        .fleet;
    let server = &fleet.servers[0];
    let spec = Spec::from_fleet(&server.canary.analysis).expect("spec");
    assert_eq!(spec.metrics.len(), 2);
    let canary = Vars::new(&fleet.namespace, server, "canary", &server.version);
    let stable = Vars::new(&fleet.namespace, server, "stable", "1");
    assert_eq!(
        canary,
        vars("fleet-steady", "canary").for_track("canary", "2")
    );

    let prom = Prometheus::shared();
    prom.set_traffic(NS, "fleet-steady", "stable", traffic(20.0, 0.05, 0.0));
    prom.set_traffic(NS, "fleet-steady", "canary", traffic(20.0, 0.055, 0.0));
    wait_for_requests("fleet-steady", "stable", 20.0);
    // `rate()` averages over the whole window: a series younger than the window reads low, so
    // the request rate is judged once the window holds 9 s of the canary's 20 requests a second.
    wait_for_requests("fleet-steady", "canary", 180.0);
    let client = client();
    let readings = block_on(sample::take(&client, &spec, &canary, &stable)).unwrap();
    let s = spec.judge(&readings);
    assert_eq!(s.verdict, Verdict::Pass, "{s:#?}");
    let rate = s.checks.iter().find(|c| c.name == "request-rate").unwrap();
    let v = rate.value.unwrap();
    assert!(
        (v - 20.0).abs() < 2.0,
        "request rate {v}, the endpoint serves 20/s"
    );

    // The same fleet with a request rate the canary does not reach fails on that metric.
    let strict = text.replace("min: 5", "min: 500");
    let fleet = mcpctl::fleet::load_str(&strict, std::path::Path::new("fleet.yaml"))
        .unwrap()
        .fleet;
    let spec = Spec::from_fleet(&fleet.servers[0].canary.analysis).unwrap();
    let readings = block_on(sample::take(&client, &spec, &canary, &stable)).unwrap();
    let s = spec.judge(&readings);
    assert_eq!(s.verdict, Verdict::Fail, "{s:#?}");
    assert!(
        matches!(&s.deciding().unwrap().outcome, Outcome::Fail(w) if w.contains("request-rate") && w.contains("below 500"))
    );
}
