//! What `apply` prints on stdout: one line per server by default
//! (`github: 3 created, 2 configured, 7 unchanged`), so a fleet of a thousand
//! servers prints a thousand lines, not eleven thousand, then one line per
//! object of the fleet's own (`fleet acme: configmap/mcpctl-dashboard-acme
//! created`); with `-v` first the line of every object, as `kubectl apply`
//! prints them.

use crate::cluster::apply::Change;

/// One planned write, as far as printing goes. An object with rollout fields
/// appears twice: once for its fields, once for the rollout fields.
#[derive(Debug, Clone)]
pub struct Applied {
    pub server: String,
    /// `deployment.apps/github`.
    pub object: String,
    pub change: Change,
    /// The entry for the rollout fields (field manager `mcpctl-rollout`).
    pub rollout: bool,
}

/// Every object's line; the rollout fields of an object show only when they
/// change. `suffix` follows every line (` (server dry run)`).
pub fn object_lines(applied: &[Applied], suffix: &str) -> String {
    let mut out = String::new();
    for a in applied {
        if a.rollout && a.change == Change::Unchanged {
            continue;
        }
        out.push_str(&format!(
            "{} {}{}{suffix}\n",
            a.object,
            a.change.as_str(),
            if a.rollout { " (rollout fields)" } else { "" }
        ));
    }
    out
}

/// One line per server, in the order servers first appear: how many objects
/// were created, configured and left unchanged (counts of zero left out). An
/// object counts once, by the larger of its two changes.
pub fn server_lines(applied: &[Applied], suffix: &str) -> String {
    let mut servers: Vec<(&str, Vec<(&str, Change)>)> = Vec::new();
    for a in applied.iter().filter(|a| !a.server.is_empty()) {
        let objects = match servers.iter_mut().find(|(s, _)| *s == a.server) {
            Some((_, objects)) => objects,
            None => {
                servers.push((&a.server, Vec::new()));
                &mut servers.last_mut().expect("just pushed").1
            }
        };
        match objects.iter_mut().find(|(o, _)| *o == a.object) {
            Some((_, change)) => *change = larger(*change, a.change),
            None => objects.push((&a.object, a.change)),
        }
    }
    let mut out = String::new();
    for (server, objects) in servers {
        let count = |c: Change| objects.iter().filter(|(_, x)| *x == c).count();
        let parts: Vec<String> = [Change::Created, Change::Configured, Change::Unchanged]
            .into_iter()
            .map(|c| (count(c), c))
            .filter(|(n, _)| *n > 0)
            .map(|(n, c)| format!("{n} {}", c.as_str()))
            .collect();
        out.push_str(&format!("{server}: {}{suffix}\n", parts.join(", ")));
    }
    out
}

/// The line of each of the fleet's own objects (its dashboard: `server`
/// empty), after the servers' lines and apart from them, since they belong to
/// no server: `fleet acme: configmap/mcpctl-dashboard-acme unchanged`.
pub fn fleet_lines(fleet: &str, applied: &[Applied], suffix: &str) -> String {
    applied
        .iter()
        .filter(|a| a.server.is_empty())
        .map(|a| {
            format!(
                "fleet {fleet}: {} {}{suffix}\n",
                a.object,
                a.change.as_str()
            )
        })
        .collect()
}

fn larger(a: Change, b: Change) -> Change {
    let rank = |c: Change| match c {
        Change::Unchanged => 0,
        Change::Configured => 1,
        Change::Created => 2,
        Change::Pruned => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(server: &str, object: &str, change: Change, rollout: bool) -> Applied {
        Applied {
            server: server.into(),
            object: object.into(),
            change,
            rollout,
        }
    }

    fn sample() -> Vec<Applied> {
        vec![
            a("github", "deployment.apps/github", Change::Unchanged, false),
            a("github", "deployment.apps/github", Change::Configured, true),
            a("github", "service/github", Change::Unchanged, false),
            a("github", "service/github", Change::Unchanged, true),
            a("github", "configmap/github-config", Change::Created, false),
            a(
                "postgres",
                "deployment.apps/postgres",
                Change::Created,
                false,
            ),
            a(
                "postgres",
                "deployment.apps/postgres",
                Change::Created,
                true,
            ),
            a("github", "serviceaccount/github", Change::Unchanged, false),
        ]
    }

    #[test]
    fn one_line_per_server_counts_each_object_once_by_its_larger_change() {
        assert_eq!(
            server_lines(&sample(), ""),
            "github: 1 created, 1 configured, 2 unchanged\npostgres: 1 created\n"
        );
        assert_eq!(
            server_lines(&sample()[4..6], " (server dry run)"),
            "github: 1 created (server dry run)\npostgres: 1 created (server dry run)\n"
        );
    }

    #[test]
    fn the_fleets_objects_have_lines_of_their_own() {
        let mut applied = sample();
        applied.push(a(
            "",
            "configmap/mcpctl-dashboard-acme",
            Change::Configured,
            false,
        ));
        assert_eq!(
            server_lines(&applied, ""),
            "github: 1 created, 1 configured, 2 unchanged\npostgres: 1 created\n"
        );
        assert_eq!(
            fleet_lines("acme", &applied, " (server dry run)"),
            "fleet acme: configmap/mcpctl-dashboard-acme configured (server dry run)\n"
        );
        assert_eq!(fleet_lines("acme", &sample(), ""), "");
    }

    #[test]
    fn object_lines_show_rollout_fields_only_when_they_change() {
        assert_eq!(
            object_lines(&sample()[..4], ""),
            "deployment.apps/github unchanged\n\
             deployment.apps/github configured (rollout fields)\n\
             service/github unchanged\n"
        );
    }
}
