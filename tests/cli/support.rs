//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of the repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `mcpctl` with `args` in `dir` (no MCPCTL_FLEET or KUBECONFIG inherited).
pub fn mcpctl_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcpctl"))
        .args(args)
        .current_dir(dir)
        .env_remove("MCPCTL_FLEET")
        .env_remove("KUBECONFIG")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .env("NO_COLOR", "1")
        .output()
        .expect("run mcpctl")
}

/// Runs `mcpctl` from the repository root.
pub fn mcpctl(args: &[&str]) -> Output {
    mcpctl_in(&repo_root(), args)
}

/// Exit code, stdout and stderr of a run, for assertion messages.
pub fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `dir/deployment.yaml`: the built-in Deployment template with `from`
/// replaced by `to` (a template override). Fails when the built-in template no
/// longer contains `from`, so a test cannot silently override nothing.
pub fn deployment_template_with(dir: &Path, from: &str, to: &str) {
    let builtin = std::fs::read_to_string(repo_root().join("templates/deployment.yaml"))
        .expect("read templates/deployment.yaml");
    assert!(
        builtin.contains(from),
        "the built-in template changed: templates/deployment.yaml has no {from:?}"
    );
    std::fs::create_dir_all(dir).expect("create the template override directory");
    std::fs::write(dir.join("deployment.yaml"), builtin.replace(from, to))
        .expect("write the template override");
}
