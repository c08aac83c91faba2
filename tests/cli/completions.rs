//! The checked-in completions under `completions/` must match what the binary
//! generates, so that they follow every change of the command line.

use crate::support::*;

/// Shell name as `mcpctl completions` takes it, and the checked-in file.
const SHELLS: &[(&str, &str)] = &[
    ("bash", "mcpctl.bash"),
    ("zsh", "_mcpctl"),
    ("fish", "mcpctl.fish"),
    ("powershell", "_mcpctl.ps1"),
    ("elvish", "mcpctl.elv"),
];

#[test]
fn checked_in_completions_are_current() {
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let out = mcpctl(&["completions", shell]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "mcpctl completions {shell}: {}",
            stderr(&out)
        );
        let generated = stdout(&out);
        assert!(
            generated.contains("lint") && generated.contains("render"),
            "completions for {shell} name no subcommand:\n{generated}"
        );
        let path = repo_root().join("completions").join(file);
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        if checked_in != generated {
            stale.push(format!(
                "completions/{file} is stale: run `cargo run -q -- completions {shell} > completions/{file}`"
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = mcpctl(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tcsh"), "{}", stderr(&out));
}
