//! The examples that end every subcommand's `--help` (and the manual page):
//! kept in one table beside the command definition, added to it by
//! [`crate::cli::command`]. A test parses every example line, so an example
//! that names a flag which no longer exists fails the build's tests.

use clap::Command;

/// Examples by subcommand path (`"deploy"`, or `"certs status"` for a nested one).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "init",
        "# Write mcpctl.yaml and mcpctl.schema.json in the current directory
mcpctl init
# Start a fleet file elsewhere, replacing one that exists
mcpctl init -f fleets/prod.yaml --force",
    ),
    (
        "validate",
        "# Check ./mcpctl.yaml, every problem with its line and key path
mcpctl validate
# The same as JSON for a pipeline
mcpctl validate -f fleets/prod.yaml -o json",
    ),
    (
        "lint",
        "# Run the production checklist over every server
mcpctl lint
# Lint one server rendered with your template overrides, as JSON
mcpctl lint github --templates ./templates -o json",
    ),
    (
        "render",
        "# Print every manifest as multi-document YAML
mcpctl render
# One file per object for two servers, rendered for Kubernetes 1.29
mcpctl render github postgres --output-dir out/ --kube-version 1.29",
    ),
    (
        "completions",
        "# Install bash completions
mcpctl completions bash > /etc/bash_completion.d/mcpctl
# Install zsh completions
mcpctl completions zsh > ~/.zfunc/_mcpctl",
    ),
    (
        "diff",
        "# What apply would change (exit 1 when something differs)
mcpctl diff
# One server, in another context
mcpctl diff github --context staging",
    ),
    (
        "apply",
        "# Apply the fleet and wait for every Deployment to roll out
mcpctl apply --wait --timeout 10m
# See what the API server would do, object by object, without writing
mcpctl apply --dry-run=server -v
# Apply one server, taking fields someone changed by hand
mcpctl apply github --force-conflicts
# Apply and delete what the fleet file no longer renders (a removed server)
mcpctl apply --prune",
    ),
    (
        "delete",
        "# Uninstall one server, keeping its history (asks on a terminal)
mcpctl delete github
# Uninstall the whole fleet from a pipeline, history included
mcpctl delete --all --purge --yes",
    ),
    (
        "status",
        "# One row per server: version, traffic, replicas, last rollout, certificates
mcpctl status
# Follow two servers as their Deployments change
mcpctl status github postgres --watch
# Everything as JSON
mcpctl status -o json",
    ),
    (
        "history",
        "# The recorded revisions of a server, oldest first
mcpctl history github
mcpctl history github -o yaml",
    ),
    (
        "deploy",
        "# Deploy the image the fleet file names, with the server's strategy
mcpctl deploy github
# Deploy a new image blue-green; print the plan first
mcpctl deploy github --image ghcr.io/acme/github-mcp:1.5.0 --strategy blue-green --dry-run
mcpctl deploy github --image ghcr.io/acme/github-mcp:1.5.0 --strategy blue-green
# A canary in four steps of two minutes, gated by Prometheus
mcpctl deploy github --image ghcr.io/acme/github-mcp:1.5.0 --strategy canary --steps 10,25,50,100 --step-duration 2m
# Stricter than the fleet file, with the Prometheus token from the environment
mcpctl deploy github --strategy canary --max-error-rate 0.005 --min-requests 50 --prometheus-token-env PROM_TOKEN
# Continue a deploy that a cancelled CI job left half done
mcpctl deploy github --resume
# Stream the events as NDJSON for a pipeline
mcpctl deploy github --image ghcr.io/acme/github-mcp:1.5.0 --events ndjson",
    ),
    (
        "promote",
        "# End the current canary step now (the analysis of the next step still runs)
mcpctl promote github
# Skip every remaining step: the stable track takes the new image now
mcpctl promote github --full",
    ),
    (
        "abort",
        "# Send all traffic back to stable; the running deploy exits 6
mcpctl abort github
# After a cancelled CI job: restores stable itself once the dead job's lock expires
mcpctl abort github --timeout 2m",
    ),
    (
        "rollback",
        "# Back to the previous version (one traffic switch while it still runs)
mcpctl rollback github
# Back to a recorded revision; see the plan first
mcpctl rollback github --to-revision 3 --dry-run",
    ),
    (
        "reconcile",
        "# Perform the fleet's due tasks (delayed scale-downs), for a CronJob or CI schedule
mcpctl reconcile
mcpctl reconcile github postgres",
    ),
    (
        "rbac",
        "# The ServiceAccount, Role and RoleBinding a CI deploy job needs
mcpctl rbac | kubectl apply -f -
# Read-only access (status, history, diff) for every namespace
mcpctl rbac --for read-only --cluster-wide --name mcpctl-viewer",
    ),
    (
        "version",
        "mcpctl version
mcpctl version -o json",
    ),
    (
        "man",
        "# Read the manual page
mcpctl man | man -l -",
    ),
    (
        "smoke",
        "# Smoke-test a server of the fleet through the API server's proxy
mcpctl smoke github
# Every server of the fleet, one row each
mcpctl smoke --all
# An endpoint behind auth, compared with the version clients use now
mcpctl smoke --url https://mcp.acme.example/mcp -H 'Authorization: Bearer TOKEN' --compare-to https://mcp-old.acme.example/mcp",
    ),
    (
        "schema",
        "# Save the schema beside the fleet file for your editor
mcpctl schema > mcpctl.schema.json
# and point editors at it from the fleet file's first line (`mcpctl init` writes it):
# `# yaml-language-server: $schema=mcpctl.schema.json`",
    ),
    (
        "certs",
        "# A scheduled job: report every certificate (exit 8 when one expires soon),
# then rotate what expires within 30 days:
#   mcpctl certs status
#   mcpctl certs rotate --all --if-expiring-within 30d",
    ),
    (
        "certs status",
        "# Exit 8 when a certificate expires within 14 days (for a scheduled job)
mcpctl certs status --warn-days 14
# One server, as JSON
mcpctl certs status github -o json",
    ),
    (
        "certs init-ca",
        "# Create the fleet CA in the Secret the fleet file names
mcpctl certs init-ca
# Import a CA made elsewhere, replacing the one there
mcpctl certs init-ca --import-cert ca.crt --import-key ca.key --force
# An RSA CA, for clients that only speak RSA
mcpctl certs init-ca --key-type rsa-3072",
    ),
    (
        "certs rotate",
        "# Issue, install and check the certificate a server serves
mcpctl certs rotate github --verify-url https://github.mcp.example:8443
# Install a certificate from files
mcpctl certs rotate github --cert-file tls.crt --key-file tls.key
# Every server whose certificate expires within 30 days, two at a time
mcpctl certs rotate --all --if-expiring-within 30d --max-parallel 2",
    ),
    (
        "certs rollback",
        "# Put the newest backup of a server's certificate back
mcpctl certs rollback github",
    ),
    (
        "certs rotate-ca",
        "# Publish a bundle of the old and a new CA, re-issue every certificate
mcpctl certs rotate-ca
# Once clients have reloaded the bundle, drop the old CA
mcpctl certs rotate-ca --finish",
    ),
];

/// `cmd` with the examples of each subcommand (at any depth) after its help.
pub fn add(cmd: Command) -> Command {
    add_under(cmd, "")
}

fn add_under(mut cmd: Command, path: &str) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        let text = EXAMPLES
            .iter()
            .find(|(p, _)| *p == sub_path)
            .map(|(_, text)| format!("Examples:\n{}", indent(text)));
        cmd = cmd.mut_subcommand(&name, |c| {
            let c = match &text {
                Some(t) => c.after_help(t.clone()),
                None => c,
            };
            add_under(c, &sub_path)
        });
    }
    cmd
}

/// The examples of every subcommand as a manual page section (roff), for
/// the end of `mcpctl man`: comments in roman, commands in bold. It follows
/// a page rendered by `clap_mangen`, which defines the apostrophe string.
pub fn man_section() -> String {
    use roff::{Roff, bold, roman};
    let mut r = Roff::new();
    r.control("SH", ["EXAMPLES"]);
    for (path, text) in EXAMPLES {
        let title = format!("mcpctl {path}");
        r.control("SS", [title.as_str()]);
        for line in text.lines() {
            match line.strip_prefix("# ") {
                Some(comment) => r.text([roman(comment)]),
                None => r.text([bold(line)]),
            };
            r.control("br", [] as [&str; 0]);
        }
    }
    // The page before this section already defines what `render` puts
    // first (the apostrophe string); keep what follows it.
    let text = r.render();
    match text.find(".SH") {
        Some(at) => text[at..].to_string(),
        None => text,
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The words of an example's `mcpctl` command: the line up to a pipe or a
/// redirection, split at spaces, with `'…'` kept as one word.
pub fn words(line: &str) -> Vec<String> {
    let line = line.split(" | ").next().unwrap_or(line);
    let line = line.split(" > ").next().unwrap_or(line);
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_paths(cmd: &Command, path: &str, out: &mut Vec<String>) {
        for c in cmd.get_subcommands() {
            let p = if path.is_empty() {
                c.get_name().to_string()
            } else {
                format!("{path} {}", c.get_name())
            };
            out.push(p.clone());
            all_paths(c, &p, out);
        }
    }

    #[test]
    fn every_subcommand_has_examples_and_every_example_names_one() {
        let cmd = crate::cli::command();
        let mut paths = Vec::new();
        all_paths(&cmd, "", &mut paths);
        assert!(paths.len() >= 15, "{paths:?}");
        let missing: Vec<&String> = paths
            .iter()
            .filter(|p| p.as_str() != "help" && !EXAMPLES.iter().any(|(e, _)| e == p))
            .collect();
        assert!(
            missing.is_empty(),
            "subcommands without examples: {missing:?}"
        );
        let stray: Vec<&str> = EXAMPLES
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| !paths.iter().any(|q| q == p))
            .collect();
        assert!(stray.is_empty(), "examples of no subcommand: {stray:?}");
    }

    /// Every `mcpctl …` line parses, and runs the subcommand it is listed under.
    #[test]
    fn every_example_parses() {
        let mut parsed = 0;
        for (path, text) in EXAMPLES {
            for line in text.lines().map(str::trim) {
                let Some(at) = line.find("mcpctl ") else {
                    continue;
                };
                if line.starts_with('#') {
                    continue;
                }
                let words = words(&line[at..]);
                let m = crate::cli::command()
                    .try_get_matches_from(&words)
                    .unwrap_or_else(|e| panic!("`{line}` (under {path}) does not parse:\n{e}"));
                let mut sub = Vec::new();
                let mut m = &m;
                while let Some((name, inner)) = m.subcommand() {
                    sub.push(name);
                    m = inner;
                }
                assert_eq!(sub.join(" "), *path, "`{line}` runs another subcommand");
                parsed += 1;
            }
        }
        assert!(parsed >= EXAMPLES.len(), "{parsed} examples parsed");
    }

    #[test]
    fn the_manual_page_section_has_every_subcommand_and_its_commands() {
        let man = man_section();
        assert!(man.starts_with(".SH EXAMPLES\n"), "{man}");
        for (path, _) in EXAMPLES {
            assert!(man.contains(&format!(".SS \"mcpctl {path}\"\n")), "{path}");
        }
        assert!(
            man.contains("\\fBmcpctl deploy github \\-\\-resume\\fR"),
            "{man}"
        );
    }

    #[test]
    fn words_keep_quoted_text_and_stop_at_pipes() {
        assert_eq!(
            words("mcpctl smoke -H 'Authorization: Bearer x' --all | jq ."),
            ["mcpctl", "smoke", "-H", "Authorization: Bearer x", "--all"]
        );
        assert_eq!(words("mcpctl schema > s.json"), ["mcpctl", "schema"]);
    }
}
