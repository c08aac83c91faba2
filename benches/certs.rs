//! Benchmark of the certificate commands against the in-process fake API
//! server (`test-apiserver`, its Deployment controller on: pods ready 300 ms
//! after creation): the time to issue one server certificate, and the
//! requests and wall time of `certs status` and `certs rotate --all` for a
//! fleet of N servers with TLS.
//!
//! Run with `cargo bench --bench certs` (stdout is a Markdown report).
//! Knobs: `CERTS_BENCH_SERVERS` (default 100), `CERTS_BENCH_RUNS` (timed
//! runs of status and of rotate --all, default 3), `CERTS_BENCH_PARALLEL`
//! (`--max-parallel`, default 4).

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use test_apiserver::ApiServer;

const NS: &str = "mcp";
const MCPCTL: &str = env!("CARGO_BIN_EXE_mcpctl");

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a whole number, not {v:?}"))
        })
        .unwrap_or(default)
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn main() {
    let n = env_num("CERTS_BENCH_SERVERS", 100);
    let runs = env_num("CERTS_BENCH_RUNS", 3).max(1);
    let parallel = env_num("CERTS_BENCH_PARALLEL", 4).max(1);
    println!("## Certificates: report\n");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{cores} cores, load average {} at the start; mcpctl {} ({} build); the fake API \
         server runs in this process on the same cores.\n",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );

    // Issuing, in process: one ECDSA P-256 key and certificate signed by the CA.
    let now = jiff::Timestamp::now().as_second();
    let ca = mcpctl::certs::issue::new_ca("bench CA", now, 365, Default::default()).unwrap();
    let names =
        mcpctl::certs::names::required(&["github".into(), "github-preview".into()], NS, &[]);
    let mut issue = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        mcpctl::certs::issue::server(&ca.cert_pem, &ca.key_pem, &names, now, 90).unwrap();
        issue.push(t.elapsed());
    }
    println!(
        "Issuing one server certificate (key generation, 8 SANs, signature): median {:.2} ms of 200.\n",
        median(issue).as_secs_f64() * 1000.0
    );

    let srv = ApiServer::builder()
        .crds_from_dir(test_apiserver::bundled_crds_dir())
        .start_blocking();
    let dir = tempfile::tempdir().unwrap();
    srv.write_kubeconfig(dir.path().join("kubeconfig"), "bench", "default");
    let mut fleet = format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 1\n  router: service\n  strategy: rolling\n  tls: {{}}\nservers:\n"
    );
    for i in 0..n {
        fleet.push_str(&format!(
            "  - name: s{i:04}\n    image: ghcr.io/acme/mcp:1.0.0\n"
        ));
    }
    std::fs::write(dir.path().join("mcpctl.yaml"), fleet).unwrap();
    let run = |args: &[&str]| -> (Output, Duration) {
        let t = Instant::now();
        let o = Command::new(MCPCTL)
            .args(args)
            .current_dir(dir.path())
            .env_remove("MCPCTL_FLEET")
            .env("KUBECONFIG", dir.path().join("kubeconfig"))
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .env_remove("CI")
            .output()
            .unwrap();
        let wall = t.elapsed();
        assert!(
            o.status.code() == Some(0),
            "mcpctl {} exited {:?}:\n{}{}",
            args.join(" "),
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o, wall)
    };
    run(&["apply", "--wait"]);
    run(&["certs", "init-ca"]);

    let by_method = |srv: &ApiServer| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for r in srv.requests() {
            let key = if r.query_param("watch").as_deref() == Some("true") {
                "WATCH".to_string()
            } else {
                r.method.clone()
            };
            *m.entry(key).or_default() += 1;
        }
        let total: usize = m.values().sum();
        let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("{total} ({})", parts.join(", "))
    };

    let par = parallel.to_string();
    let rotate_args = [
        "certs",
        "rotate",
        "--all",
        "--max-parallel",
        par.as_str(),
        "-o",
        "json",
    ];
    println!("| command ({n} servers) | requests (last run) | median wall time | runs |");
    println!("|---|---|---|---|");
    let mut rotate = Vec::new();
    let mut rotate_requests = String::new();
    for _ in 0..runs {
        srv.clear_requests();
        let (o, wall) = run(&rotate_args);
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let ok = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["outcome"] == "succeeded")
            .count();
        assert_eq!(ok, n, "every server rotated");
        // The last run is the steady state: every Secret exists and is backed up.
        rotate_requests = by_method(&srv);
        rotate.push(wall);
    }
    let mut status = Vec::new();
    let mut status_requests = String::new();
    for _ in 0..runs {
        srv.clear_requests();
        let (o, wall) = run(&["certs", "status", "-o", "json"]);
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), n);
        status_requests = by_method(&srv);
        status.push(wall);
    }
    println!(
        "| `mcpctl certs status -o json` | {status_requests} | {:.2} s | {runs} |",
        median(status).as_secs_f64()
    );
    println!(
        "| `mcpctl certs rotate --all --max-parallel {parallel}` | {rotate_requests} | {:.2} s | {runs} |",
        median(rotate).as_secs_f64()
    );
}
