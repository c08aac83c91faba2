//! Benchmark of a whole canary deploy: the `mcpctl` binary against the test API server and a
//! real Prometheus (`tests/prometheus`, 1 s scrape), analysis every second.
//!
//! - **Detection to restore**: a canary held at 50% with healthy traffic; at one instant the
//!   metrics endpoint starts failing half the canary's requests; measured until the
//!   VirtualService (read from the API server's store every millisecond) sends 100% to stable.
//! - **Requests per step and overhead**: a healthy canary through 25, 50, 75, 100 with 3 s
//!   holds: the API requests of each weight step (scale, wait, weight, hold), and the deploy's
//!   wall time beyond the holds, per step.
//!
//! Run with `cargo bench --bench canary` (stdout is a Markdown report).
//! Knob: `CANARY_BENCH_RUNS` (default 10).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use test_apiserver::ApiServer;
use test_prometheus::{Prometheus, Traffic};

const NS: &str = "bench";
const V1: &str = "ghcr.io/acme/github-mcp:1.4.2";
const V2: &str = "ghcr.io/acme/github-mcp:1.5.0";
const DEADLINE: Duration = Duration::from_secs(180);

struct Env {
    srv: ApiServer,
    dir: tempfile::TempDir,
}

impl Env {
    fn start(server: &str) -> Env {
        let srv = ApiServer::builder()
            .crds_from_dir(test_apiserver::bundled_crds_dir())
            .start_blocking();
        let dir = tempfile::tempdir().unwrap();
        srv.write_kubeconfig(dir.path().join("kubeconfig"), "bench", "default");
        let prom = Prometheus::shared();
        std::fs::write(
            dir.path().join("mcpctl.yaml"),
            format!(
                "fleet: bench\nnamespace: {NS}\ndefaults:\n  replicas: 4\n  router: istio\n  strategy: canary\n\
                 \x20 prometheus: {{url: \"{}\"}}\n  canary:\n    steps: [50, 100]\n    stepDuration: 10m\n\
                 \x20   analysis: {{interval: 1s, window: 10s, maxErrorRate: 0.05, minRequests: 5, failureLimit: 1}}\n\
                 servers:\n  - name: {server}\n    image: {V1}\n",
                prom.url()
            ),
        )
        .unwrap();
        let env = Env { srv, dir };
        let o = env.command(&["apply", "--wait"]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        env
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mcpctl"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("NO_COLOR", "1")
            .env_remove("MCPCTL_FLEET")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .env_remove("CI");
        c
    }

    fn canary_weight(&self, server: &str) -> Option<i64> {
        let vs = self.srv.get(&format!(
            "/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices/{server}"
        ))?;
        vs["spec"]["http"][0]["route"][1]["weight"].as_i64()
    }
}

fn traffic(server: &str, track: &str, http_errors: f64) {
    let prom = Prometheus::shared();
    prom.set_traffic(
        NS,
        server,
        track,
        Traffic {
            rps: 50.0,
            http_errors,
            jsonrpc_errors: 0.0,
        },
    );
    let sel = format!("namespace=\"{NS}\",mcp_server=\"{server}\",track=\"{track}\"");
    prom.wait_for(
        "requests",
        &format!("sum(increase(mcp_requests_total{{{sel}}}[10s]))"),
        DEADLINE,
        |v| v.first().is_some_and(|v| *v >= 20.0),
    );
}

/// Runs a deploy with NDJSON events, calling `on_event(event, requests so far)` for each line.
fn deploy(env: &Env, args: &[&str], mut on_event: impl FnMut(&serde_json::Value, usize) -> bool) {
    let mut child = env
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for l in lines {
        let Ok(l) = l else { break };
        let Ok(e) = serde_json::from_str::<serde_json::Value>(&l) else {
            continue;
        };
        if !on_event(&e, env.srv.requests().len()) {
            break;
        }
    }
    let _ = child.wait();
}

fn main() {
    let runs: usize = std::env::var("CANARY_BENCH_RUNS")
        .unwrap_or_else(|_| "10".into())
        .parse()
        .expect("CANARY_BENCH_RUNS must be a positive whole number");
    assert!(runs > 0);

    let mut restore = Vec::new();
    for run in 0..runs {
        let server = format!("det-{run}");
        let env = Env::start(&server);
        traffic(&server, "stable", 0.0);
        traffic(&server, "canary", 0.0);
        let mut measured = None;
        deploy(
            &env,
            &[
                "deploy",
                &server,
                "--no-smoke",
                "--image",
                V2,
                "--events",
                "ndjson",
            ],
            |e, _| {
                // Held at 50% and one sample passed: the canary goes bad now.
                if e["event"] == "sample" && e["verdict"] == "pass" && measured.is_none() {
                    assert_eq!(env.canary_weight(&server), Some(50));
                    Prometheus::shared().set_traffic(
                        NS,
                        &server,
                        "canary",
                        Traffic {
                            rps: 50.0,
                            http_errors: 0.5,
                            jsonrpc_errors: 0.0,
                        },
                    );
                    let crossed = Instant::now();
                    while env.canary_weight(&server) != Some(0) {
                        assert!(crossed.elapsed() < DEADLINE, "never restored");
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    measured = Some(crossed.elapsed());
                }
                true
            },
        );
        restore.push(measured.expect("the deploy held at 50% with a passing sample"));
    }

    // A healthy canary through four steps.
    let server = "steps";
    let env = Env::start(server);
    traffic(server, "stable", 0.0);
    traffic(server, "canary", 0.0);
    env.srv.clear_requests();
    let mut at_step: Vec<(String, usize)> = Vec::new();
    let start = Instant::now();
    deploy(
        &env,
        &[
            "deploy",
            server,
            "--no-smoke",
            "--image",
            V2,
            "--events",
            "ndjson",
            "--steps",
            "25,50,75,100",
            "--step-duration",
            "3s",
        ],
        |e, n| {
            if e["event"] == "stepStarted" {
                at_step.push((e["text"].as_str().unwrap_or("").to_string(), n));
            }
            true
        },
    );
    let wall = start.elapsed();
    let total = env.srv.requests().len();
    at_step.push(("end".into(), total));
    // A weight step runs from the step before its weight change (scale, wait) to the next one.
    let weight_steps: Vec<usize> = at_step
        .iter()
        .enumerate()
        .filter(|(_, (t, _))| t.starts_with("set the canary weight to") && !t.contains(" 0%"))
        .map(|(i, _)| i)
        .collect();
    let mut per_step = Vec::new();
    for (k, &i) in weight_steps.iter().enumerate() {
        let from = if k == 0 { i } else { weight_steps[k - 1] + 2 };
        let to = i + 2;
        per_step.push(at_step[to].1 - at_step[from].1);
    }

    println!(
        "#### Canary detection to restore, {runs} runs, 1 s scrape, 1 s analysis interval, window 10s\n"
    );
    println!("| measure | min | median | max |\n|---|---|---|---|");
    restore.sort();
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!(
        "| error rate crosses the threshold at the endpoint → VirtualService sends 100% to stable | {} | {} | {} |\n",
        ms(restore[0]),
        ms(restore[restore.len() / 2]),
        ms(restore[restore.len() - 1])
    );
    println!("#### A healthy canary through 25, 50, 75, 100 with 3 s holds\n");
    println!("| measure | value |\n|---|---|");
    println!("| API requests, whole deploy | {total} |");
    println!(
        "| API requests per weight step (scale, wait, set weight + read back, 3 s hold) | {} |",
        per_step
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let holds = Duration::from_secs(3 * 4);
    println!("| wall time | {} |", ms(wall));
    println!(
        "| overhead beyond the holds, per step (wall − 12 s) / 4 | {} |",
        ms((wall.saturating_sub(holds)) / 4)
    );
}
