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

/// The checked-in manual page matches what `mcpctl man` generates.
#[test]
fn checked_in_man_page_is_current() {
    let out = mcpctl(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let generated = stdout(&out);
    assert!(
        generated.contains(".TH mcpctl 1") && generated.contains("deploy"),
        "not a manual page naming the commands:\n{generated}"
    );
    let checked_in = std::fs::read_to_string(repo_root().join("man/mcpctl.1")).unwrap_or_default();
    assert!(
        checked_in == generated,
        "man/mcpctl.1 is stale: run `cargo run -q -- man > man/mcpctl.1`"
    );
}

/// `mcpctl version` names the version, commit and date; `-o json` too.
#[test]
fn version_prints_commit_and_date() {
    let out = mcpctl(&["version", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let commit = v["gitCommit"].as_str().unwrap();
    assert!(
        commit.len() >= 12 && commit[..12].chars().all(|c| c.is_ascii_hexdigit()),
        "{v}"
    );
    let date = v["buildDate"].as_str().unwrap();
    assert!(date.len() == 10 && date.as_bytes()[4] == b'-', "{v}");
    let out = mcpctl(&["version"]);
    assert!(stdout(&out).starts_with(&format!("mcpctl {} (commit ", env!("CARGO_PKG_VERSION"))));
}
