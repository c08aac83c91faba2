//! Benchmark of mcpctl's cluster commands against the in-process fake API
//! server (`test-apiserver`): requests made by `apply` of one server, and the
//! requests and wall time of `status -o json` for 100 to 10,000 servers next to
//! the `kubectl get` a platform engineer would type for the same information.
//!
//! Run with `cargo bench --bench cluster` (stdout is a Markdown report).
//! A last section counts the lock's requests per minute while an `apply` of 1,000 servers
//! holds it (the fleet Lease) against one of 10 servers (10 server Leases).
//!
//! `CLUSTER_BENCH_ONLY=fleet` runs only the fleet section (`cluster/fleet.rs`: `apply` and
//! `status` of whole fleets, and kubectl's `apply --server-side` of the same objects), which
//! a run of all sections leaves out for its length.
//!
//! Knobs: `CLUSTER_BENCH_ONLY=apply|deploy|status|lock|fleet` runs only that section;
//! `CLUSTER_BENCH_RUNS` (timed runs per size, default 10),
//! `CLUSTER_BENCH_SIZES` (comma-separated fleet sizes, default
//! `100,1000,10000`), `CLUSTER_BENCH_LARGE_RUNS` (runs per size above 1,000 servers in the
//! fleet section, default 1), `KUBECTL` (default `/usr/bin/kubectl`; the comparison is
//! skipped with a note when it is absent).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use test_apiserver::{ApiServer, Behaviour, RequestRecord};

#[path = "../tests/cli/seed.rs"]
mod seed;

#[path = "cluster/fleet.rs"]
mod fleet;

const NS: &str = "mcp";
const MCPCTL: &str = env!("CARGO_BIN_EXE_mcpctl");

fn main() {
    let runs: usize = env_or("CLUSTER_BENCH_RUNS", "10")
        .parse()
        .expect("CLUSTER_BENCH_RUNS must be a positive whole number");
    assert!(runs > 0, "CLUSTER_BENCH_RUNS must be at least 1");
    let sizes: Vec<usize> = env_or("CLUSTER_BENCH_SIZES", "100,1000,10000")
        .split(',')
        .map(|s| {
            s.trim().parse().unwrap_or_else(|_| {
                panic!("CLUSTER_BENCH_SIZES: {s:?} is not a whole number (example: 100,1000)")
            })
        })
        .collect();
    let kubectl = PathBuf::from(env_or("KUBECTL", "/usr/bin/kubectl"));

    println!("## Cluster commands: report\n");
    machine_info(&kubectl);
    let only = env_or("CLUSTER_BENCH_ONLY", "");
    let run = |section: &str| only.is_empty() || only == section;
    if run("apply") {
        apply_section();
    }
    if run("deploy") {
        deploy_section(runs);
    }
    if run("status") {
        status_section(&sizes, runs, &kubectl);
    }
    if run("lock") {
        lock_section();
    }
    // Long (about half an hour with 10,000 servers): only when asked for.
    if only == "fleet" {
        let large_runs: usize = env_or("CLUSTER_BENCH_LARGE_RUNS", "1")
            .parse()
            .expect("CLUSTER_BENCH_LARGE_RUNS must be a positive whole number");
        assert!(
            large_runs > 0,
            "CLUSTER_BENCH_LARGE_RUNS must be at least 1"
        );
        fleet::section(&sizes, runs, large_runs, &kubectl);
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- machine

fn machine_info(kubectl: &Path) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or("unknown".into(), |kib| {
            format!("{:.0} GiB", kib / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or("unknown".into(), |s| s.trim().to_string());
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".into(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        });
    let kubectl_version = if kubectl.exists() {
        Command::new(kubectl)
            .args(["version", "--client"])
            .output()
            .ok()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default()
    } else {
        format!("{} absent", kubectl.display())
    };
    println!(
        "Machine: {cores} cores (nproc), {model}, {mem} RAM, Linux {kernel}. \
         mcpctl {} ({commit}, release build), kubectl: {kubectl_version}.\n",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "The fake API server runs inside this benchmark's process (2 tokio worker threads) \
         on the same cores as the measured commands.\n"
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

// ---------------------------------------------------------------- helpers

/// A fake API server with the CRDs mcpctl renders for, a kubeconfig pointing
/// at it and a working directory for the fleet file.
struct Env {
    srv: ApiServer,
    dir: tempfile::TempDir,
}

impl Env {
    fn start(controller: bool) -> Env {
        let mut b = ApiServer::builder().crds_from_dir(test_apiserver::bundled_crds_dir());
        if !controller {
            b = b.without_controller();
        }
        let srv = b.start_blocking();
        if !controller {
            srv.set_default_behaviour(Behaviour::Unmanaged);
        }
        let dir = tempfile::tempdir().expect("create a temporary directory");
        srv.write_kubeconfig(dir.path().join("kubeconfig"), "bench", "default");
        Env { srv, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn write_fleet(&self, text: &str) {
        let path = self.dir.path().join("mcpctl.yaml");
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    fn mcpctl(&self, args: &[&str]) -> Output {
        Command::new(MCPCTL)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("MCPCTL_FLEET")
            .env("KUBECONFIG", self.kubeconfig())
            .env("NO_COLOR", "1")
            .env("USER", "bench")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .env_remove("CI")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {MCPCTL}: {e}"))
    }

    /// Runs mcpctl and panics with its output unless it exits 0.
    fn mcpctl_ok(&self, args: &[&str]) -> (Output, Duration) {
        let started = Instant::now();
        let o = self.mcpctl(args);
        let wall = started.elapsed();
        if !o.status.success() {
            panic!("mcpctl {} failed:\n{}", args.join(" "), show(&o));
        }
        (o, wall)
    }
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn is_write(r: &RequestRecord) -> bool {
    matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
        && r.query_param("dryRun").is_none()
}

/// Request counts by method, with watches and dry runs apart.
#[derive(Default)]
struct ByMethod {
    get: usize,
    watch: usize,
    post: usize,
    put: usize,
    patch: usize,
    patch_dry: usize,
    delete: usize,
    other: usize,
}

impl ByMethod {
    fn of(reqs: &[RequestRecord]) -> ByMethod {
        let mut m = ByMethod::default();
        for r in reqs {
            let dry = r.query_param("dryRun").is_some();
            match r.method.as_str() {
                "GET" if r.is_watch() => m.watch += 1,
                "GET" => m.get += 1,
                "POST" => m.post += 1,
                "PUT" => m.put += 1,
                "PATCH" if dry => m.patch_dry += 1,
                "PATCH" => m.patch += 1,
                "DELETE" => m.delete += 1,
                _ => m.other += 1,
            }
        }
        m
    }
}

/// `METHOD path` (plus its label and field selectors, and whether it watched), with counts.
fn by_path(reqs: &[RequestRecord]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in reqs {
        let mut key = format!("{} {}", r.method, r.path);
        for param in ["labelSelector", "fieldSelector"] {
            if let Some(sel) = r.query_param(param) {
                key.push_str(&format!(" ?{param}={sel}"));
            }
        }
        if r.is_watch() {
            key.push_str(" (watch)");
        }
        if r.query_param("dryRun").is_some() {
            key.push_str(" (dryRun)");
        }
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

/// `configmaps/github-config` for `/api/v1/namespaces/mcp/configmaps/github-config`.
fn short_path(path: &str) -> &str {
    let marker = format!("/namespaces/{NS}/");
    match path.find(&marker) {
        Some(i) => &path[i + marker.len()..],
        None => path.rsplit('/').next().unwrap_or(path),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Median, min and max of the durations.
fn summary(times: &[Duration]) -> (Duration, Duration, Duration) {
    let mut t = times.to_vec();
    t.sort();
    let n = t.len();
    let median = if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2
    };
    (median, t[0], t[n - 1])
}

// ---------------------------------------------------------------- apply

struct ApplyCase {
    label: &'static str,
    fleet: &'static str,
    strategy: &'static str,
    router: &'static str,
    extra: &'static str,
}

const APPLY_CASES: [ApplyCase; 2] = [
    ApplyCase {
        label: "canary, istio",
        fleet: "bench-canary",
        strategy: "canary",
        router: "istio",
        extra: "  prometheus: {url: \"http://prometheus.monitoring:9090\"}\n",
    },
    ApplyCase {
        label: "rolling, service",
        fleet: "bench-rolling",
        strategy: "rolling",
        router: "service",
        extra: "",
    },
];

fn apply_fleet(case: &ApplyCase, replicas: u32, tag: &str) -> String {
    format!(
        "fleet: {}\nnamespace: {NS}\ndefaults:\n  replicas: {replicas}\n  router: {}\n  strategy: {}\n{}\
         servers:\n  - name: github\n    image: ghcr.io/acme/github-mcp:{tag}\n",
        case.fleet, case.router, case.strategy, case.extra
    )
}

/// Requests of a blue-green deploy and of an instant rollback, and the wall
/// time of `rollback` (from the command's start to its exit: an upper bound
/// of the time until the selector is switched, which happens before the
/// revision is recorded and the lock released).
fn deploy_section(runs: usize) {
    println!("### `mcpctl deploy` (blue-green) and `mcpctl rollback`: requests and time\n");
    println!(
        "One blue-green server `github` (2 replicas, router `service`), applied with `--wait`; \
         then {runs} rounds of `deploy --image … --no-smoke` (the idle colour is applied and \
         waited for: Pods ready 300 ms after creation) and `rollback --no-smoke` while the \
         previous colour still runs. \"traffic writes\" are writes to the Service. The smoke \
         test is left out so that the numbers are mcpctl's and the API server's only.\n"
    );
    let env = Env::start(true);
    env.write_fleet(
        "fleet: acme\nnamespace: mcp\ndefaults:\n  replicas: 2\n  router: service\n  strategy: blue-green\n\
         servers:\n  - name: github\n    image: ghcr.io/acme/github-mcp:1.4.2\n",
    );
    env.mcpctl_ok(&["apply", "--wait", "--timeout", "60s"]);
    let mut rows = Vec::new();
    let mut rollback_walls = Vec::new();
    let mut deploy_walls = Vec::new();
    for i in 0..runs {
        let image = format!("ghcr.io/acme/github-mcp:2.0.{i}");
        for (cmd, args) in [
            (
                "deploy",
                vec!["deploy", "github", "--image", image.as_str(), "--no-smoke"],
            ),
            ("rollback", vec!["rollback", "github", "--no-smoke"]),
        ] {
            env.srv.clear_requests();
            let (_, wall) = env.mcpctl_ok(&args);
            let reqs = env.srv.requests();
            let writes: Vec<&RequestRecord> = reqs.iter().filter(|r| is_write(r)).collect();
            let traffic = writes
                .iter()
                .filter(|r| r.path.contains("/services/"))
                .count();
            let deps = writes
                .iter()
                .filter(|r| r.path.contains("/deployments/"))
                .count();
            if i == 0 {
                rows.push(format!(
                    "| {cmd} | {} | {} | {traffic} | {deps} |",
                    reqs.len(),
                    writes.len()
                ));
            }
            if cmd == "rollback" {
                rollback_walls.push(wall);
            } else {
                deploy_walls.push(wall);
            }
        }
    }
    println!("| command | requests | writes | traffic writes | Deployment writes |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for r in rows {
        println!("{r}");
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    println!(
        "\nWall time over {runs} runs, median: `deploy` {} s (includes the wait for the new \
         colour's Pods), `rollback` {} s (command start to exit).\n",
        secs(median(&mut deploy_walls)),
        secs(median(&mut rollback_walls))
    );
}

fn apply_section() {
    println!("### `mcpctl apply` of one server: requests\n");
    println!(
        "Fleet file of one server `github` (2 replicas), on a fresh server each time with its \
         Deployment controller on (default behaviour: Pods ready 300 ms after creation). Four \
         applies in a row: the first creates everything, the second changes nothing, the third \
         follows a change of one value (`replicas` 2 → 3), the fourth a change of the image tag \
         (1.4.2 → 1.4.3; the tag is also the `app.kubernetes.io/version` label of every \
         object). Counted from the fake \
         server's request log; \"writes\" are POST/PUT/PATCH/DELETE without `dryRun`. Wall \
         time is one run each, for orientation only.\n"
    );
    println!(
        "| server | flags | apply | total | GET | GET watch | POST | PUT | PATCH | PATCH dryRun | DELETE | writes | wall (s) |"
    );
    println!(
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let mut details = Vec::new();
    let mut unchanged_reads = BTreeMap::new();
    for case in &APPLY_CASES {
        for wait in [false, true] {
            let env = Env::start(true);
            let mut args = vec!["apply"];
            if wait {
                args.extend(["--wait", "--timeout", "60s"]);
            }
            let flags = if wait { "`--wait`" } else { "(none)" };
            let steps = [
                ("1 create", 2, "1.4.2"),
                ("2 unchanged", 2, "1.4.2"),
                ("3 replicas 2→3", 3, "1.4.2"),
                ("4 image 1.4.2→1.4.3", 3, "1.4.3"),
            ];
            for (step, replicas, tag) in steps {
                env.write_fleet(&apply_fleet(case, replicas, tag));
                // Let the controller settle the previous rollout first.
                std::thread::sleep(Duration::from_millis(800));
                env.srv.clear_requests();
                let (o, wall) = env.mcpctl_ok(&args);
                let keeps_image =
                    String::from_utf8_lossy(&o.stderr).contains("keeps the running image");
                let reqs = env.srv.requests();
                let m = ByMethod::of(&reqs);
                let writes: Vec<&RequestRecord> = reqs.iter().filter(|r| is_write(r)).collect();
                assert_eq!(m.other, 0, "unexpected methods: {reqs:?}");
                println!(
                    "| {} | {flags} | {step} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    case.label,
                    reqs.len(),
                    m.get,
                    m.watch,
                    m.post,
                    m.put,
                    m.patch,
                    m.patch_dry,
                    m.delete,
                    writes.len(),
                    secs(wall)
                );
                if !wait && step.starts_with('2') && case.router == "istio" {
                    unchanged_reads = by_path(&reqs);
                }
                if !wait {
                    let list: Vec<String> = writes
                        .iter()
                        .map(|r| format!("{} {}", r.method, short_path(&r.path)))
                        .collect();
                    details.push(format!(
                        "- {}, apply {step}{}: {}",
                        case.label,
                        if keeps_image {
                            " (warned: apply keeps the running image; a rollout changes it)"
                        } else {
                            ""
                        },
                        if list.is_empty() {
                            "no writes".to_string()
                        } else {
                            list.join(", ")
                        }
                    ));
                }
            }
        }
    }
    println!("\nWrites of the runs without `--wait`:\n");
    for d in details {
        println!("{d}");
    }
    println!("\nRequests of the unchanged apply (canary, istio, no `--wait`), by path:\n");
    println!("| request | count |\n| --- | ---: |");
    for (key, count) in &unchanged_reads {
        println!("| `{key}` | {count} |");
    }
    println!();
}

// ---------------------------------------------------------------- status

fn seed(env: &Env, fleet: &str, n: usize) {
    env.write_fleet(&seed::ready_fleet(&env.srv, NS, fleet, n));
}

/// Checks `status -o json` answered one row per server, the last one deployed.
fn check_status(o: &Output, n: usize) {
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("mcpctl status -o json: not JSON ({e}):\n{}", show(o)));
    assert_eq!(
        v["schemaVersion"], 1,
        "mcpctl status -o json: no schemaVersion"
    );
    let v = &v["servers"];
    let rows = v.as_array().map_or(0, Vec::len);
    assert_eq!(
        rows, n,
        "mcpctl status -o json: {rows} rows for {n} servers"
    );
    let last = &v[n - 1];
    assert_eq!(last["version"], format!("1.0.{}", n - 1), "{last}");
    assert_eq!(last["deployed"], true, "{last}");
}

fn kubectl_args<'a>(env: &Env, cache: &'a str, fleet: &'a str) -> Vec<String> {
    vec![
        "--kubeconfig".into(),
        env.kubeconfig().display().to_string(),
        "--cache-dir".into(),
        cache.into(),
        "get".into(),
        "deployments,services".into(),
        "-n".into(),
        NS.into(),
        "-l".into(),
        format!("app.kubernetes.io/part-of={fleet}"),
        "-o".into(),
        "json".into(),
    ]
}

/// Runs kubectl, timed; panics with its output unless it exits 0.
fn kubectl_ok<S: AsRef<std::ffi::OsStr>>(kubectl: &Path, args: &[S]) -> (Output, Duration) {
    let started = Instant::now();
    let o = Command::new(kubectl)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", kubectl.display()));
    let wall = started.elapsed();
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    assert!(
        o.status.success(),
        "kubectl {} failed:\n{}",
        shown.join(" "),
        show(&o)
    );
    (o, wall)
}

fn run_kubectl(kubectl: &Path, args: &[String], n: usize) -> Duration {
    let (o, wall) = kubectl_ok(kubectl, args);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("kubectl -o json: not JSON ({e})"));
    let items = v["items"].as_array().map_or(0, Vec::len);
    assert_eq!(items, 2 * n, "kubectl: {items} items for {n} servers");
    wall
}

struct StatusResult {
    n: usize,
    requests: usize,
    mcpctl: Vec<Duration>,
    raw_lists: Vec<Duration>,
    kubectl: Option<(usize, Vec<Duration>)>,
}

/// Time for the fake server to answer the Deployment and Service LISTs of the
/// fleet to a client that only reads the bytes: the server's share of `status`.
fn raw_lists(srv: &ApiServer, fleet: &str) -> Duration {
    use std::io::{Read, Write};
    let addr = srv.url().trim_start_matches("http://").to_string();
    let started = Instant::now();
    for path in [
        format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        format!("/api/v1/namespaces/{NS}/services"),
    ] {
        let mut s = std::net::TcpStream::connect(&addr)
            .unwrap_or_else(|e| panic!("cannot connect to the fake server at {addr}: {e}"));
        write!(
            s,
            "GET {path}?labelSelector=app.kubernetes.io%2Fpart-of%3D{fleet} HTTP/1.1\r\n\
             Host: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        )
        .expect("send a request to the fake server");
        let mut body = Vec::new();
        s.read_to_end(&mut body)
            .expect("read the fake server's answer");
        assert!(
            body.starts_with(b"HTTP/1.1 200"),
            "GET {path}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
    }
    started.elapsed()
}

/// Median wall time of a command that does no work (process start-up).
fn startup(program: &Path, args: &[&str], runs: usize) -> Duration {
    let times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let o = Command::new(program)
                .args(args)
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
            assert!(
                o.status.success(),
                "{} {args:?}: {}",
                program.display(),
                show(&o)
            );
            started.elapsed()
        })
        .collect();
    summary(&times).0
}

fn status_section(sizes: &[usize], runs: usize, kubectl: &Path) {
    let have_kubectl = kubectl.exists();
    println!("### `mcpctl status -o json` of N servers, and `kubectl get`\n");
    println!(
        "Each size on a fresh server without its controller (Deployments `Unmanaged`), seeded \
         with `put_object`: per server one Deployment (ready) and one Service labelled \
         `app.kubernetes.io/part-of=FLEET`, as in the test \
         `status_of_1000_servers_lists_each_kind_in_pages_of_500`. One warm-up run of each \
         command (output checked: N rows, 2N items), then {runs} timed runs alternating \
         `mcpctl status -o json` and \
         `kubectl get deployments,services -n {NS} -l app.kubernetes.io/part-of=FLEET -o json` \
         (discovery cache in a fresh `--cache-dir`, warmed by the warm-up run). Wall time of \
         the whole process, stdout captured.\n"
    );
    if !have_kubectl {
        println!(
            "kubectl not found at {} (set `KUBECTL`): the comparison is skipped.\n",
            kubectl.display()
        );
    }
    let mut results = Vec::new();
    let mut paths: Vec<(usize, BTreeMap<String, usize>)> = Vec::new();
    for &n in sizes {
        assert!(n > 0, "CLUSTER_BENCH_SIZES: sizes must be at least 1");
        let fleet = "big";
        let env = Env::start(false);
        let seeding = Instant::now();
        seed(&env, fleet, n);
        let seeded = seeding.elapsed();
        let cache = env.dir.path().join("kube-cache").display().to_string();
        let kargs = kubectl_args(&env, &cache, fleet);

        let (o, _) = env.mcpctl_ok(&["status", "-o", "json"]);
        check_status(&o, n);
        let mut kubectl_requests = 0;
        if have_kubectl {
            run_kubectl(kubectl, &kargs, n);
        }
        eprintln!(
            "status bench: {n} servers seeded in {:.1}s, load {}",
            seeded.as_secs_f64(),
            load_average()
        );
        println!(
            "Load average before timing {n} servers: {}.\n",
            load_average()
        );

        let mut mcpctl_times = Vec::new();
        let mut kubectl_times = Vec::new();
        let mut raw_times = Vec::new();
        let mut requests = None;
        for _ in 0..runs {
            env.srv.clear_requests();
            let (o, wall) = env.mcpctl_ok(&["status", "-o", "json"]);
            let reqs = env.srv.requests();
            check_status(&o, n);
            match &requests {
                None => {
                    paths.push((n, by_path(&reqs)));
                    requests = Some(reqs.len());
                }
                Some(k) => assert_eq!(
                    *k,
                    reqs.len(),
                    "mcpctl status made a different number of requests from one run to the next"
                ),
            }
            mcpctl_times.push(wall);
            raw_times.push(raw_lists(&env.srv, fleet));
            if have_kubectl {
                env.srv.clear_requests();
                kubectl_times.push(run_kubectl(kubectl, &kargs, n));
                kubectl_requests = env.srv.requests().len();
            }
        }
        results.push(StatusResult {
            n,
            requests: requests.unwrap_or(0),
            mcpctl: mcpctl_times,
            raw_lists: raw_times,
            kubectl: have_kubectl.then_some((kubectl_requests, kubectl_times)),
        });
    }

    println!(
        "| servers | objects listed | mcpctl requests | mcpctl median (s) | min–max (s) | server alone: 2 LISTs median (s) | kubectl requests | kubectl median (s) | min–max (s) | kubectl / mcpctl |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &results {
        let (med, min, max) = summary(&r.mcpctl);
        let k = match &r.kubectl {
            Some((reqs, times)) => {
                let (kmed, kmin, kmax) = summary(times);
                format!(
                    "{reqs} | {} | {}–{} | {:.1}×",
                    secs(kmed),
                    secs(kmin),
                    secs(kmax),
                    kmed.as_secs_f64() / med.as_secs_f64()
                )
            }
            None => "– | – | – | –".to_string(),
        };
        println!(
            "| {} | {} | {} | {} | {}–{} | {} | {k} |",
            r.n,
            2 * r.n,
            r.requests,
            secs(med),
            secs(min),
            secs(max),
            secs(summary(&r.raw_lists).0)
        );
    }
    let mcpctl_start = startup(Path::new(MCPCTL), &["--version"], runs);
    let kubectl_start = if have_kubectl {
        format!(
            "`kubectl version --client` {} s",
            secs(startup(kubectl, &["version", "--client"], runs))
        )
    } else {
        "kubectl absent".to_string()
    };
    println!(
        "\n\"server alone\": the Deployment and Service LISTs of `status`, read by a bare HTTP \
         client after each mcpctl run (the fake server's own cost). Process start-up, median of \
         {runs}: `mcpctl --version` {} s, {kubectl_start}.",
        secs(mcpctl_start)
    );
    println!("\nRequests of one `mcpctl status -o json` run, by path:\n");
    let mut keys: Vec<&String> = paths.iter().flat_map(|(_, p)| p.keys()).collect();
    keys.sort();
    keys.dedup();
    let header: Vec<String> = paths.iter().map(|(n, _)| format!("{n} servers")).collect();
    println!("| request | {} |", header.join(" | "));
    println!("| --- |{}", " ---: |".repeat(paths.len()));
    for key in keys {
        let counts: Vec<String> = paths
            .iter()
            .map(|(_, p)| p.get(key).copied().unwrap_or(0).to_string())
            .collect();
        println!("| `{key}` | {} |", counts.join(" | "));
    }
    println!();
}

// ---------------------------------------------------------------- lock

/// How long the lock's requests are counted.
const LOCK_WINDOW: Duration = Duration::from_secs(60);

/// Starts `apply --wait` of `only` (all when empty) of an `n`-server fleet whose pods never
/// become ready, so that the apply holds its lock; counts the Lease requests made during
/// [`LOCK_WINDOW`] from when the lock is first seen; interrupts the apply.
fn lock_traffic(n: usize, only: &[String]) -> (usize, Vec<String>) {
    let env = Env::start(true);
    env.srv.set_default_behaviour(Behaviour::NeverReady);
    let mut fleet = format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 1\n  router: service\n  strategy: rolling\nservers:\n"
    );
    for i in 0..n {
        fleet.push_str(&format!(
            "  - name: s{i}\n    image: ghcr.io/acme/s:1.0.0\n"
        ));
    }
    env.write_fleet(&fleet);
    let mut args = vec!["apply", "--wait", "--timeout", "30m"];
    args.extend(only.iter().map(String::as_str));
    let mut child = Command::new(MCPCTL)
        .args(&args)
        .current_dir(env.dir.path())
        .env_remove("MCPCTL_FLEET")
        .env("KUBECONFIG", env.kubeconfig())
        .env("USER", "bench")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {MCPCTL}: {e}"));
    let leases = format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases");
    let deadline = Instant::now() + Duration::from_secs(1800);
    while !env
        .srv
        .requests()
        .iter()
        .any(|r| r.path.starts_with(&leases))
    {
        assert!(
            Instant::now() < deadline,
            "the apply of {n} servers never took its lock"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the apply of {n} servers ended early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    env.srv.clear_requests();
    std::thread::sleep(LOCK_WINDOW);
    let reqs = env.srv.requests();
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let lock: Vec<String> = reqs
        .iter()
        .filter(|r| r.path.starts_with(&leases))
        .map(|r| format!("{} {}", r.method, short_path(&r.path)))
        .collect();
    let distinct: std::collections::BTreeSet<String> = lock.iter().cloned().collect();
    (lock.len(), distinct.into_iter().collect())
}

fn lock_section() {
    println!("### Lock requests per minute while an operation holds its lock\n");
    println!(
        "`apply --wait` of a fleet of rolling servers whose pods never become ready, so that the \
         apply holds its lock (while it writes the objects, then while it waits); the Lease \
         requests of the {}s after the lock is first seen, from the request log.\n",
        LOCK_WINDOW.as_secs()
    );
    println!("| operation | Leases held | lock requests per minute | requests seen |");
    println!("| --- | --- | ---: | --- |");
    let ten: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    for (what, n, only, held) in [
        (
            "apply of 10 servers of 1,000",
            1000,
            ten,
            "10 server Leases",
        ),
        ("apply of 1,000 servers", 1000, Vec::new(), "1 fleet Lease"),
    ] {
        let (count, seen) = lock_traffic(n, &only);
        let per_minute = count as f64 * 60.0 / LOCK_WINDOW.as_secs_f64();
        println!(
            "| {what} | {held} | {per_minute:.0} | {} |",
            seen.join(", ")
        );
    }
    println!();
}
