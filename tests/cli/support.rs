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
        .env("NO_COLOR", "1")
        .output()
        .expect("run mcpctl")
}

/// Runs `mcpctl` from the repository root.
pub fn mcpctl(args: &[&str]) -> Output {
    mcpctl_in(&repo_root(), args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
