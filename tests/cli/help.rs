//! Every subcommand's `--help` ends with an `Examples:` section (the binary
//! itself is asked, for every subcommand the command definition has).

use crate::support::{mcpctl, out, stdout};

fn subcommands(cmd: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
    for c in cmd.get_subcommands() {
        let mut p = path.to_vec();
        p.push(c.get_name().to_string());
        out.push(p.clone());
        subcommands(c, &p, out);
    }
}

#[test]
fn every_subcommand_help_ends_with_examples() {
    let mut all = Vec::new();
    subcommands(&mcpctl::cli::command(), &[], &mut all);
    assert!(all.len() >= 15, "{all:?}");
    for path in all {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let o = mcpctl(&args);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let help = stdout(&o);
        let (_, examples) = help.split_once("\nExamples:\n").unwrap_or_else(|| {
            panic!(
                "`mcpctl {}` has no Examples section:\n{help}",
                path.join(" ")
            )
        });
        // Nothing after the examples but the examples: each line indented.
        assert!(
            examples.lines().all(|l| l.starts_with("  ")),
            "`mcpctl {}`: the help does not end with its examples:\n{help}",
            path.join(" ")
        );
        assert!(
            examples.contains(&format!("mcpctl {}", path.join(" "))),
            "{help}"
        );
    }
}
