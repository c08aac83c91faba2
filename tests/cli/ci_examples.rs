//! The example pipelines under `examples/ci/` parse, and every mcpctl
//! invocation in them runs against the test API server (with `--dry-run`
//! where the command changes the cluster), so none of them rots.

use std::path::Path;

use serde_json::Value;

use crate::cluster_support::{Env, out};
use crate::support::repo_root;

/// The shell lines of a GitHub Actions workflow (`run:` of every step) or a
/// GitLab CI file (`script`, `before_script`, `after_script` of every job).
fn shell_lines(doc: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    let mut add = |s: &str| {
        lines.extend(
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        )
    };
    for job in doc["jobs"].as_object().into_iter().flat_map(|m| m.values()) {
        for step in job["steps"].as_array().into_iter().flatten() {
            if let Some(r) = step["run"].as_str() {
                add(r);
            }
        }
    }
    for job in doc.as_object().into_iter().flat_map(|m| m.values()) {
        for key in ["before_script", "script", "after_script"] {
            for l in job[key].as_array().into_iter().flatten() {
                if let Some(s) = l.as_str() {
                    add(s);
                }
            }
        }
    }
    lines
}

fn check_pipeline(file: &str) {
    let path = repo_root().join("examples/ci").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"));
    let mcpctl_lines: Vec<String> = shell_lines(&doc)
        .into_iter()
        .filter(|l| l.starts_with("mcpctl "))
        .collect();
    assert!(
        mcpctl_lines.len() >= 5,
        "{file}: expected validate, lint, diff, deploy, abort and rollback: {mcpctl_lines:?}"
    );
    for verb in ["validate", "lint", "diff", "deploy", "abort", "rollback"] {
        assert!(
            mcpctl_lines
                .iter()
                .any(|l| l.starts_with(&format!("mcpctl {verb}"))),
            "{file} has no `mcpctl {verb}`"
        );
    }

    let env = Env::start(&[]);
    let fleet = repo_root().join("examples/fleet.yaml");
    let fleet = fleet.to_str().unwrap();
    let o = env.run(&["-f", fleet, "apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // An earlier canary deploy, so that the pipeline's rollback has a version to go back to
    // (one step, against the real Prometheus of this binary; the server has no traffic there).
    let o = env.run(&[
        "-f",
        fleet,
        "deploy",
        "github",
        "--image",
        "ghcr.io/acme/github-mcp:1.4.3",
        "--no-smoke",
        "--steps",
        "100",
        "--step-duration",
        "1s",
        "--analysis-interval",
        "1s",
        "--no-data",
        "pass",
        "--prometheus-url",
        test_prometheus::Prometheus::shared().url(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mcpctl")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in &mcpctl_lines {
        // Commands that change the cluster run as dry runs.
        let line = if line.starts_with("mcpctl deploy") || line.starts_with("mcpctl rollback") {
            format!("{line} --dry-run")
        } else {
            line.clone()
        };
        let o = env
            .command(&[])
            .env("MCPCTL_FLEET", fleet)
            .env("SERVER", "github")
            .env("IMAGE", "ghcr.io/acme/github-mcp:1.4.4")
            .env("PATH", &path)
            .output_of_shell(&line);
        assert_eq!(o.status.code(), Some(0), "{file}: `{line}`\n{}", out(&o));
    }
}

trait Shell {
    fn output_of_shell(&mut self, line: &str) -> std::process::Output;
}

impl Shell for std::process::Command {
    /// Runs `line` with bash in this command's directory and environment.
    fn output_of_shell(&mut self, line: &str) -> std::process::Output {
        let mut sh = std::process::Command::new("bash");
        sh.args(["-euo", "pipefail", "-c", line]);
        if let Some(dir) = self.get_current_dir() {
            sh.current_dir(dir);
        }
        for (k, v) in self.get_envs() {
            match v {
                Some(v) => sh.env(k, v),
                None => sh.env_remove(k),
            };
        }
        sh.output().expect("run bash")
    }
}

#[test]
fn github_actions_example_runs() {
    check_pipeline("github-actions.yml");
}

#[test]
fn gitlab_ci_example_runs() {
    check_pipeline("gitlab-ci.yml");
}
