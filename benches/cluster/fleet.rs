//! `CLUSTER_BENCH_ONLY=fleet`: `apply` and `status` of whole fleets (100 to
//! 10,000 servers), and the same objects applied by `kubectl apply
//! --server-side`, counted from the fake API server's request log.
//!
//! Each tool gets its own fresh server, so that neither finds the other's
//! objects or field managers. kubectl applies what `mcpctl render` prints
//! (with a Namespace document first: mcpctl creates the namespace itself),
//! as field manager `kubectl-bench`, with a discovery cache warmed before
//! timing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use test_apiserver::RequestRecord;

use super::{Env, MCPCTL, NS, by_path, kubectl_ok, load_average, secs, show, summary};
use std::collections::BTreeMap;

/// The fleet name of every fleet here.
const FLEET: &str = "acme";

/// One measured command: its requests (of the last run) and wall times.
struct Measured {
    requests: usize,
    writes: usize,
    walls: Vec<Duration>,
}

impl Measured {
    fn cells(&self) -> String {
        let (med, min, max) = summary(&self.walls);
        if self.walls.len() == 1 {
            format!("{} | {} | {} | – ", self.requests, self.writes, secs(med))
        } else {
            format!(
                "{} | {} | {} | {}–{}",
                self.requests,
                self.writes,
                secs(med),
                secs(min),
                secs(max)
            )
        }
    }
}

/// A fleet of `n` rolling servers behind a Service (8 objects each); the
/// servers whose `i % 100` is below `bumped` run 3 replicas instead of 2, so
/// that going from `bumped = k` to `k + 1` changes 1% of the servers.
fn rolling_fleet(n: usize, bumped: usize) -> String {
    let mut text = format!(
        "fleet: {FLEET}\nnamespace: {NS}\ndefaults:\n  replicas: 2\n  router: service\n  strategy: rolling\nservers:\n"
    );
    for i in 0..n {
        text.push_str(&format!(
            "  - name: s{i:05}\n    image: ghcr.io/acme/s:1.0.0\n"
        ));
        if i % 100 < bumped {
            text.push_str("    replicas: 3\n");
        }
    }
    text
}

/// The mixed fleet of `bench/gen_fleet.py` (all strategies and routers, about 11 objects a
/// server), with this module's fleet name.
fn generated_fleet(n: usize, dir: &Path) -> String {
    let fleet = dir.join(format!("generated-{n}.yaml"));
    let values = dir.join(format!("generated-{n}.json"));
    let o = Command::new("python3")
        .arg(super::repo_root().join("bench/gen_fleet.py"))
        .arg(n.to_string())
        .arg(&fleet)
        .arg(&values)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 bench/gen_fleet.py: {e}"));
    assert!(o.status.success(), "bench/gen_fleet.py {n}:\n{}", show(&o));
    let text = std::fs::read_to_string(&fleet)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", fleet.display()));
    let text = text.replacen("fleet: bench\n", &format!("fleet: {FLEET}\n"), 1);
    assert!(
        text.starts_with(&format!("fleet: {FLEET}\n")),
        "bench/gen_fleet.py no longer starts its fleet file with `fleet: bench`"
    );
    text
}

/// Runs `args` of mcpctl on `env`, timed, and counts its requests.
fn mcpctl(env: &Env, args: &[&str]) -> (Vec<RequestRecord>, Duration) {
    env.srv.clear_requests();
    let (_, wall) = env.mcpctl_ok(args);
    (env.srv.requests(), wall)
}

fn is_write(r: &RequestRecord) -> bool {
    super::is_write(r)
}

/// Runs mcpctl `runs` times with the fleet `fleet(run)` written before each run.
fn mcpctl_runs(
    env: &Env,
    args: &[&str],
    runs: usize,
    fleet: impl Fn(usize) -> Option<String>,
) -> (Measured, Vec<RequestRecord>) {
    let mut walls = Vec::new();
    let mut last = Vec::new();
    for run in 0..runs {
        if let Some(text) = fleet(run) {
            env.write_fleet(&text);
        }
        let (reqs, wall) = mcpctl(env, args);
        walls.push(wall);
        last = reqs;
    }
    (
        Measured {
            requests: last.len(),
            writes: last.iter().filter(|r| is_write(r)).count(),
            walls,
        },
        last,
    )
}

/// kubectl against its own fake server.
struct Kubectl {
    env: Env,
    program: PathBuf,
    cache: String,
}

impl Kubectl {
    fn start(program: &Path) -> Kubectl {
        let env = Env::start(false);
        let cache = env.dir.path().join("kube-cache").display().to_string();
        let k = Kubectl {
            env,
            program: program.to_path_buf(),
            cache,
        };
        // Warm the discovery cache, as on an operator's machine.
        k.run(&["api-resources"]);
        k
    }

    fn run(&self, args: &[&str]) -> Duration {
        let mut all = vec![
            "--kubeconfig".to_string(),
            self.env.kubeconfig().display().to_string(),
            "--cache-dir".to_string(),
            self.cache.clone(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        kubectl_ok(&self.program, &all).1
    }

    /// `kubectl apply --server-side` of what `mcpctl render` prints for `fleet`, `runs` times.
    fn apply(&self, fleet: &str, runs: usize) -> Measured {
        let objects = self.env.dir.path().join("objects.yaml");
        self.env.write_fleet(fleet);
        let (o, _) = self.env.mcpctl_ok(&["render"]);
        let mut text = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NS}\n---\n");
        text.push_str(&String::from_utf8_lossy(&o.stdout));
        std::fs::write(&objects, text).expect("write the rendered objects");
        let objects = objects.display().to_string();
        let mut walls = Vec::new();
        let mut last = Vec::new();
        for _ in 0..runs {
            self.env.srv.clear_requests();
            walls.push(self.run(&[
                "apply",
                "--server-side",
                "--field-manager=kubectl-bench",
                "-f",
                &objects,
            ]));
            last = self.env.srv.requests();
        }
        Measured {
            requests: last.len(),
            writes: last.iter().filter(|r| is_write(r)).count(),
            walls,
        }
    }
}

/// What a request of an apply is for.
fn phase(r: &RequestRecord) -> &'static str {
    let record = r.path.contains("/configmaps/mcpctl.")
        || (r.path.ends_with("/configmaps")
            && (r.method == "POST"
                || r.query_param("labelSelector")
                    .is_some_and(|s| s.starts_with("mcpctl.io/record"))));
    if r.path.contains("/leases") {
        "lock"
    } else if record {
        "journal and ApplySet parent"
    } else if r.query_param("dryRun").is_some() {
        "dry runs"
    } else if is_write(r) {
        "object writes"
    } else if r.path.ends_with("/namespaces") || r.path.ends_with(&format!("/namespaces/{NS}")) {
        "connect, discovery, namespace"
    } else if r.method == "GET" && r.path.contains("/namespaces/") {
        "reads (LISTs and GETs)"
    } else {
        "connect, discovery, namespace"
    }
}

/// [`by_path`] with each object's name left out (`…/deployments/*`), so that
/// a fleet's thousands of dry runs make one line per kind.
fn by_kind(reqs: &[RequestRecord]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (key, count) in by_path(reqs) {
        let (request, rest) = key
            .split_once(" ?")
            .map_or((key.as_str(), ""), |(a, b)| (a, b));
        let (request, flags) = match request.split_once(" (") {
            Some((r, f)) => (r, format!(" ({f}")),
            None => (request, String::new()),
        };
        let (method, path) = request.split_once(' ').unwrap_or(("", request));
        // `/namespaces/NS/KIND/NAME` → `/namespaces/NS/KIND/*`; collections stay as they are.
        let parts: Vec<&str> = path.split('/').collect();
        let named = parts.len() >= 4 && parts[parts.len() - 4] == "namespaces";
        let path = if named {
            format!("{}/*", parts[..parts.len() - 1].join("/"))
        } else {
            path.to_string()
        };
        let query = if rest.is_empty() {
            String::new()
        } else {
            format!(" ?{rest}")
        };
        *out.entry(format!("{method} {path}{query}{flags}"))
            .or_insert(0) += count;
    }
    out
}

/// Requests by phase: count, the time from the first one's arrival to the
/// last one's answer (from the run's first request), and how many were
/// served at once at most.
fn phases(reqs: &[RequestRecord]) {
    let Some(start) = reqs.iter().map(|r| r.received).min() else {
        return;
    };
    let order = [
        "connect, discovery, namespace",
        "reads (LISTs and GETs)",
        "dry runs",
        "lock",
        "journal and ApplySet parent",
        "object writes",
    ];
    println!("| phase | requests | from (s) | to (s) | most at once |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for p in order {
        let of: Vec<&RequestRecord> = reqs.iter().filter(|r| phase(r) == p).collect();
        if of.is_empty() {
            continue;
        }
        let from = of.iter().map(|r| r.received).min().unwrap() - start;
        let to = of.iter().map(|r| r.answered).max().unwrap() - start;
        println!(
            "| {p} | {} | {} | {} | {} |",
            of.len(),
            secs(from),
            secs(to),
            test_apiserver::most_at_once(of.iter().copied())
        );
    }
    let (idle, longest, at) = idle(reqs);
    println!(
        "\nNo request under way (mcpctl computing, or starting and exiting) for {} s of the \
         {} s from the first request to the last answer; the longest such stretch {} s, from \
         {} s.\n",
        secs(idle),
        secs(reqs.iter().map(|r| r.answered).max().unwrap() - start),
        secs(longest),
        secs(at)
    );
}

/// Time with no request of `reqs` under way, between the first arrival and
/// the last answer: the total, the longest stretch and where it began (from
/// the first arrival).
fn idle(reqs: &[RequestRecord]) -> (Duration, Duration, Duration) {
    let mut edges: Vec<(Instant, i32)> = reqs
        .iter()
        .flat_map(|r| [(r.received, 1), (r.answered, -1)])
        .collect();
    edges.sort();
    let start = edges[0].0;
    let (mut under_way, mut since) = (0, start);
    let (mut total, mut longest, mut at) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for (t, step) in edges {
        if under_way == 0 && step == 1 && t > since {
            total += t - since;
            if t - since > longest {
                longest = t - since;
                at = since - start;
            }
        }
        under_way += step;
        if under_way == 0 {
            since = t;
        }
    }
    (total, longest, at)
}

/// The reference: the first apply of 200 generated servers, against kubectl.
fn reference(runs: usize, kubectl: Option<&Path>) {
    let n = 200;
    let scratch = tempfile::tempdir().expect("create a temporary directory");
    let fleet = generated_fleet(n, scratch.path());
    println!(
        "#### First apply of {n} generated servers (`bench/gen_fleet.py {n}`: all strategies and routers)\n"
    );
    println!("Load average before: {}.\n", load_average());
    let mut first = Vec::new();
    let mut unchanged = Vec::new();
    let mut first_reqs = Vec::new();
    for _ in 0..runs {
        let env = Env::start(false);
        env.write_fleet(&fleet);
        let (m, reqs) = mcpctl_runs(&env, &["apply"], 1, |_| None);
        first.push(m);
        first_reqs = reqs;
        unchanged.push(mcpctl_runs(&env, &["apply"], 1, |_| None).0);
    }
    let merge = |v: Vec<Measured>| Measured {
        requests: v.last().map_or(0, |m| m.requests),
        writes: v.last().map_or(0, |m| m.writes),
        walls: v.into_iter().flat_map(|m| m.walls).collect(),
    };
    let objects = first_reqs.iter().filter(|r| phase(r) == "dry runs").count();
    println!("| tool | apply | requests | writes | median wall (s) | min–max (s) |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    println!("| mcpctl | first | {} |", merge(first).cells());
    println!("| mcpctl | unchanged | {} |", merge(unchanged).cells());
    if let Some(program) = kubectl {
        let mut kfirst = Vec::new();
        let mut kagain = Vec::new();
        for _ in 0..runs {
            let k = Kubectl::start(program);
            kfirst.push(k.apply(&fleet, 1));
            kagain.push(k.apply(&fleet, 1));
        }
        println!("| kubectl | first | {} |", merge(kfirst).cells());
        println!("| kubectl | unchanged | {} |", merge(kagain).cells());
    }
    println!(
        "\n{objects} objects dry-run by mcpctl. {runs} runs each, every first apply on a fresh \
         server. The requests of mcpctl's last first apply, by phase (times from its first \
         request):\n"
    );
    phases(&first_reqs);
}

/// `apply` (unchanged, 1% changed) and `status` of `n` rolling servers, and
/// kubectl's first, unchanged and 1%-changed applies of the same objects.
fn scale(n: usize, runs: usize, kubectl: Option<&Path>) -> Vec<String> {
    eprintln!("fleet bench: {n} servers, load {}", load_average());
    let env = Env::start(false);
    env.write_fleet(&rolling_fleet(n, 0));
    let (first, first_reqs) = mcpctl_runs(&env, &["apply"], 1, |_| None);
    let (unchanged, unchanged_reqs) = mcpctl_runs(&env, &["apply"], runs, |_| None);
    let (changed, changed_reqs) = mcpctl_runs(&env, &["apply"], runs, |run| {
        Some(rolling_fleet(n, run + 1))
    });
    let (status, _) = mcpctl_runs(&env, &["status", "-o", "json"], runs, |_| None);
    let mut rows = vec![
        format!("| {n} | mcpctl | first apply | {} |", first.cells()),
        format!(
            "| {n} | mcpctl | apply, unchanged | {} |",
            unchanged.cells()
        ),
        format!("| {n} | mcpctl | apply, 1% changed | {} |", changed.cells()),
        format!("| {n} | mcpctl | `status -o json` | {} |", status.cells()),
    ];
    drop(env);
    eprintln!(
        "fleet bench: {n} servers, mcpctl measured:\n{}",
        rows.join("\n")
    );
    if let Some(program) = kubectl {
        let k = Kubectl::start(program);
        let first = k.apply(&rolling_fleet(n, 0), 1);
        let unchanged = k.apply(&rolling_fleet(n, 0), runs);
        // Each run renders the next 1% changed and applies the whole file.
        let mut walls = Vec::new();
        let mut last = None;
        for run in 0..runs {
            let m = k.apply(&rolling_fleet(n, run + 1), 1);
            walls.extend(m.walls.iter().copied());
            last = Some(m);
        }
        let last = last.expect("at least one run");
        let changed = Measured {
            requests: last.requests,
            writes: last.writes,
            walls,
        };
        rows.push(format!(
            "| {n} | kubectl | first apply | {} |",
            first.cells()
        ));
        rows.push(format!(
            "| {n} | kubectl | apply, unchanged | {} |",
            unchanged.cells()
        ));
        rows.push(format!(
            "| {n} | kubectl | apply, 1% changed | {} |",
            changed.cells()
        ));
    }
    if n == 1000 {
        println!("Requests of mcpctl's first apply of {n} servers, by phase:\n");
        phases(&first_reqs);
        println!("Requests of mcpctl's unchanged apply of {n} servers, by kind:\n");
        println!("| request | count |\n| --- | ---: |");
        for (key, count) in by_kind(&unchanged_reqs) {
            println!("| `{key}` | {count} |");
        }
        println!();
        println!("Requests of mcpctl's last apply with 1% changed ({n} servers), by phase:\n");
        phases(&changed_reqs);
    }
    rows
}

/// Fleets of 100 to 10,000 servers: prints the Markdown tables.
pub fn section(sizes: &[usize], runs: usize, large_runs: usize, kubectl: &Path) {
    let kubectl = kubectl.exists().then_some(kubectl);
    println!("### Fleets: `apply` and `status` of 100 to 10,000 servers, and kubectl\n");
    println!(
        "Each tool on its own fresh fake server without its controller (Deployments \
         `Unmanaged`). mcpctl: `{}` with the fleet file; kubectl: `kubectl apply --server-side \
         --field-manager=kubectl-bench -f objects.yaml` of what `mcpctl render` prints, with a \
         Namespace first, discovery cache warmed. Requests are those of the last run, counted \
         from the server's request log; \"writes\" are POST/PUT/PATCH/DELETE without `dryRun`.\n",
        Path::new(MCPCTL)
            .file_name()
            .map_or("mcpctl".into(), |f| f.to_string_lossy())
    );
    if kubectl.is_none() {
        println!("kubectl not found (set `KUBECTL`): the comparison is left out.\n");
    }
    reference(runs, kubectl);
    println!(
        "#### Fleets of rolling servers (router `service`, 8 objects a server)\n\n\
         Per size: the first apply (once), then `apply` with nothing changed, then `apply` \
         after `replicas` 2 → 3 of 1% of the servers (other servers each run), then \
         `status -o json`; {runs} runs each ({large_runs} above 1,000 servers). kubectl: the \
         first apply, unchanged, and the whole file again after the same 1% change.\n"
    );
    // Each size's rows as soon as they are measured, so that a long run
    // stopped part-way keeps what it measured.
    for &n in sizes {
        let runs = if n > 1000 { large_runs } else { runs };
        let rows = scale(n, runs, kubectl);
        println!(
            "| servers | tool | command | requests | writes | median wall (s) | min–max (s) |"
        );
        println!("| ---: | --- | --- | ---: | ---: | ---: | ---: |");
        for r in rows {
            println!("{r}");
        }
        println!();
    }
}
