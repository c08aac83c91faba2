//! kubectl against the server (without kubectl: a failure when CI is set, else a loud skip):
//! server-side apply and a conflicting second manager, get -o yaml, rollout status (complete,
//! and failing on a stuck Deployment), patch of each type, scale, wait, get --watch, delete.

use std::path::PathBuf;
use std::process::Command;
use test_apiserver::ApiServer;

use test_apiserver::kubectl;

const INSTALL_KUBECTL: &str = "kubectl not found (not at $KUBECTL when set, else not on the \
    PATH nor at /usr/bin/kubectl): install it (`apt-get install kubectl` on Debian; scripts/test.sh does \
    it when run as root) or set KUBECTL=/path/to/kubectl";

/// Without kubectl: an error under CI (where the test must run), else a skip.
fn without_kubectl(ci: Option<std::ffi::OsString>) -> Result<(), String> {
    match ci {
        Some(v) if !v.is_empty() => Err(format!(
            "{INSTALL_KUBECTL}. CI is set, so the kubectl compatibility test may not be skipped"
        )),
        _ => Ok(()),
    }
}

#[test]
fn a_missing_kubectl_fails_under_ci_and_skips_elsewhere() {
    let e = without_kubectl(Some("true".into())).unwrap_err();
    assert!(
        e.contains("apt-get install kubectl") && e.contains("KUBECTL="),
        "{e}"
    );
    assert_eq!(without_kubectl(Some("".into())), Ok(()));
    assert_eq!(without_kubectl(None), Ok(()));
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        use std::io::Write;
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("KUBERNETES_SERVICE_HOST");
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("run kubectl");
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (code, out, err) = self.run(args, stdin);
        assert_eq!(code, 0, "kubectl {args:?} failed: {err}{out}");
        out
    }
}

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80, name: http}]
";

const STUCK: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
  annotations: {test-apiserver.mcpctl.dev/behaviour: never-ready}
spec:
  replicas: 1
  progressDeadlineSeconds: 1
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec: {containers: [{name: c, image: example/c:1}]}
";

#[test]
fn kubectl_works_against_the_standalone_server() {
    let Some(bin) = kubectl() else {
        if let Err(e) = without_kubectl(std::env::var_os("CI")) {
            panic!("{e}");
        }
        // Straight to stderr: the test harness captures eprintln! of a passing test.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED kubectl_works_against_the_standalone_server: {INSTALL_KUBECTL} ***\n"
        );
        return;
    };
    let srv = ApiServer::builder()
        .crds_from_dir(test_apiserver::bundled_crds_dir())
        .start_blocking();
    let dir = tempfile::tempdir().unwrap();
    let k = Kubectl {
        bin,
        kubeconfig: dir.path().join("kubeconfig"),
    };
    srv.write_kubeconfig(&k.kubeconfig, "test", "default");

    let out = k.ok(&["version", "-o", "json"], None);
    assert!(out.contains("\"gitVersion\": \"v1.37.2\""), "{out}");
    let out = k.ok(
        &[
            "api-resources",
            "--api-group=networking.istio.io",
            "-o",
            "name",
        ],
        None,
    );
    assert!(out.contains("virtualservices.networking.istio.io"), "{out}");

    let out = k.ok(&["apply", "--server-side", "-f", "-"], Some(WEB));
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    let (code, _, err) = k.run(
        &["apply", "--server-side", "--field-manager=other", "-f", "-"],
        Some(&WEB.replace("replicas: 2", "replicas: 3")),
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"),
        "{err}"
    );
    k.ok(
        &[
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            "-",
        ],
        Some(&WEB.replace("replicas: 2", "replicas: 3")),
    );
    let out = k.ok(&["rollout", "status", "deploy/web", "--timeout=20s"], None);
    assert!(out.contains("successfully rolled out"), "{out}");
    let yaml = k.ok(
        &[
            "get",
            "deploy",
            "web",
            "-o",
            "yaml",
            "--show-managed-fields",
        ],
        None,
    );
    assert!(
        yaml.contains("manager: other")
            && yaml.contains("replicas: 3")
            && yaml.contains("observedGeneration: 2"),
        "{yaml}"
    );

    k.ok(
        &[
            "patch",
            "deploy",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"x":"y"}}}"#,
        ],
        None,
    );
    k.ok(
        &[
            "patch",
            "deploy",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":1}]"#,
        ],
        None,
    );
    k.ok(&["patch", "deploy", "web", "--type", "strategic", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}}"#], None);
    k.ok(&["rollout", "status", "deploy/web", "--timeout=20s"], None);
    let out = k.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.labels.x} {.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].name} {.status.availableReplicas}"], None);
    assert_eq!(out, "y 1 nginx:1.26 http 1");

    // get --watch sees the scale.
    let mut watch = Command::new(&k.bin)
        .args([
            "get",
            "deploy",
            "web",
            "--watch",
            "-o",
            "jsonpath={.spec.replicas}{\"\\n\"}",
        ])
        .env("KUBECONFIG", &k.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut watched = Vec::new();
    let until_line = |want: &str, watched: &mut Vec<String>| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !watched.iter().any(|l| l == want) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) => watched.push(l),
                Err(_) => panic!("kubectl get --watch never printed {want:?}: {watched:?}"),
            }
        }
    };
    until_line("1", &mut watched);
    // Its watch request is open once the server logged it (a watch is logged as it starts).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !srv
        .requests()
        .iter()
        .any(|r| r.is_watch() && r.path.ends_with("/deployments"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "kubectl get --watch never opened a watch: {:?}",
            srv.requests()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    k.ok(&["scale", "deploy", "web", "--replicas=2"], None);
    until_line("2", &mut watched);
    let _ = watch.kill();
    let _ = watch.wait();
    k.ok(
        &[
            "wait",
            "--for=condition=Available",
            "deploy/web",
            "--timeout=10s",
        ],
        None,
    );
    k.ok(&["rollout", "status", "deploy/web", "--timeout=20s"], None);
    // Server-side printing: the columns of the real printers.
    let table = k.ok(&["get", "deploy", "web"], None);
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        "{table}"
    );
    assert!(
        table
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("web") && l.contains("2/2")),
        "{table}"
    );
    let pods = k.ok(&["get", "pods", "-l", "app=web"], None);
    assert!(
        pods.lines()
            .skip(1)
            .all(|l| l.contains("1/1") && l.contains("Running")),
        "{pods}"
    );

    k.ok(&["apply", "--server-side", "-f", "-"], Some(STUCK));
    let (code, out, err) = k.run(
        &["rollout", "status", "deploy/stuck", "--timeout=20s"],
        None,
    );
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("exceeded its progress deadline"), "{err}");

    k.ok(&["delete", "deploy", "web", "stuck"], None);
    let (code, _, err) = k.run(&["get", "deploy", "web"], None);
    assert_ne!(code, 0);
    assert!(err.contains("deployments.apps \"web\" not found"), "{err}");
    let pods = k.ok(&["get", "pods", "-o", "name"], None);
    assert!(
        pods.trim().is_empty(),
        "pods left after deleting their Deployments: {pods}"
    );
}
