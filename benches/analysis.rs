//! Benchmark of the canary analysis against a real Prometheus (`tests/prometheus`, 1 s scrape
//! interval): how long after the canary's error rate crosses the threshold at the metrics
//! endpoint the analysis aborts (the analysis part of the detection-to-restore time; the router
//! then sends 100% to stable), sampling every second; and how long one sample's queries take.
//!
//! Run with `cargo bench --bench analysis` (stdout is a Markdown report).
//! Knobs: `ANALYSIS_BENCH_RUNS` (default 10), `ANALYSIS_BENCH_WINDOW` (the queries' range,
//! default `10s`).

use std::time::{Duration, Instant};

use mcpctl::fleet::NoDataPolicy;
use mcpctl::gate::analysis::{Analysis, Bound, Decision, Metric, Spec};
use mcpctl::gate::prometheus::{Auth, Client, Options};
use mcpctl::gate::query::{self, Vars};
use test_prometheus::{Prometheus, Traffic};

const NS: &str = "bench";
const INTERVAL: Duration = Duration::from_secs(1);
const DEADLINE: Duration = Duration::from_secs(120);

fn main() {
    let runs: usize = std::env::var("ANALYSIS_BENCH_RUNS")
        .unwrap_or_else(|_| "10".into())
        .parse()
        .expect("ANALYSIS_BENCH_RUNS must be a positive whole number");
    assert!(runs > 0, "ANALYSIS_BENCH_RUNS must be at least 1");
    let window = mcpctl::fleet::duration::parse(
        &std::env::var("ANALYSIS_BENCH_WINDOW").unwrap_or_else(|_| "10s".into()),
    )
    .expect("ANALYSIS_BENCH_WINDOW must be a duration such as 10s");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let prom = Prometheus::shared();
    let client = Client::new(&Options {
        url: prom.url().into(),
        timeout: Duration::from_secs(10),
        auth: Auth::None,
        ca_file: None,
    })
    .expect("client");
    let spec = Spec {
        requests_query: query::requests_template(),
        min_requests: 20,
        metrics: vec![Metric {
            name: "error-rate".into(),
            query: query::error_rate_template(),
            bound: Bound::Max(0.01),
            baseline: None,
        }],
        no_data: NoDataPolicy::Fail,
        failure_limit: 1,
    };

    let mut detection = Vec::new();
    let mut sample_times = Vec::new();
    for run in 0..runs {
        let server = format!("bench-{run}");
        let vars = Vars {
            server: server.clone(),
            namespace: NS.into(),
            track: "canary".into(),
            version: "2".into(),
            interval: INTERVAL,
            window,
        };
        let stable = vars.for_track("stable", "1");
        // A healthy canary with enough traffic, analysed until a sample passes.
        prom.set_traffic(NS, &server, "canary", traffic(50.0, 0.0));
        let mut analysis = Analysis::new(spec.clone());
        let start = Instant::now();
        loop {
            let readings =
                runtime.block_on(mcpctl::gate::sample::take(&client, &spec, &vars, &stable));
            let s = spec.judge(&readings.expect("templates"));
            if s.verdict == mcpctl::gate::analysis::Verdict::Pass {
                break;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{server}: no passing sample: {s:?}"
            );
            std::thread::sleep(INTERVAL);
        }
        // The error rate crosses the threshold now: half the requests fail.
        prom.set_traffic(NS, &server, "canary", traffic(50.0, 0.5));
        let crossed = Instant::now();
        let mut next = crossed;
        loop {
            let t = Instant::now();
            let readings =
                runtime.block_on(mcpctl::gate::sample::take(&client, &spec, &vars, &stable));
            sample_times.push(t.elapsed());
            let s = spec.judge(&readings.expect("templates"));
            if let Decision::Abort(_) = analysis.observe(s) {
                detection.push(crossed.elapsed());
                break;
            }
            assert!(crossed.elapsed() < DEADLINE, "{server}: no abort");
            next += INTERVAL;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        prom.set_traffic(NS, &server, "canary", traffic(0.0, 0.0));
    }

    println!(
        "#### Analysis detection, {runs} runs, 1 s scrape, 1 s analysis interval, window {}\n",
        mcpctl::fleet::duration::format(window)
    );
    println!("| measure | min | median | max |\n|---|---|---|---|");
    row(
        "error rate crosses the threshold at the endpoint → analysis aborts",
        &mut detection,
    );
    row("one sample (2 queries, concurrent)", &mut sample_times);
}

fn traffic(rps: f64, http_errors: f64) -> Traffic {
    Traffic {
        rps,
        http_errors,
        jsonrpc_errors: 0.0,
    }
}

fn row(what: &str, v: &mut [Duration]) {
    v.sort();
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!(
        "| {what} | {} | {} | {} |",
        ms(v[0]),
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1])
    );
}
