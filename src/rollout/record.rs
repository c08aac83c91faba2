//! Starting and recording operations: a new operation's journal entry, the
//! guard against overwriting another operation's interrupted record, and
//! what a revision records (every image involved, where traffic goes).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cluster::journal::{Operation, Revision, SCHEMA_VERSION, State};
use crate::cluster::observe;
use crate::error::{Error, Result};
use crate::render::Track;

/// A new operation of `kind` on `strategy`, started now (server clock).
pub fn operation(kind: &str, strategy: &str, started: String, holder: &str) -> Operation {
    Operation {
        schema_version: SCHEMA_VERSION,
        id: format!(
            "{}-{:08x}",
            started.replace([':', '-'], "").to_lowercase(),
            rand::random::<u32>()
        ),
        kind: kind.into(),
        strategy: strategy.into(),
        started,
        holder: holder.into(),
        who: crate::cluster::identity::who(),
        ..Default::default()
    }
}

/// Refuses to start `kind` on a server whose journal records another
/// operation in flight (interrupted: the lock is ours, so nobody runs it),
/// unless `force`. `resumable` lists the kinds this command finishes itself.
pub fn check_inflight(state: &State, server: &str, resumable: &[&str], force: bool) -> Result<()> {
    state.check_readable(server)?;
    let Some(op) = &state.inflight else {
        return Ok(());
    };
    if force || resumable.contains(&op.kind.as_str()) {
        return Ok(());
    }
    if [
        crate::certs::install::ROTATE,
        crate::certs::install::ROLLBACK,
    ]
    .contains(&op.kind.as_str())
    {
        return Err(Error::Failed(format!(
            "server {server} has an interrupted {} (operation {}, started {} by {}, stopped at: {}): \
             its Secret may hold the new certificate or the old one; run `mcpctl certs status {server}`, \
             then `mcpctl certs rotate {server}` or `mcpctl certs rollback {server}` to finish it; \
             --force goes on and forgets it",
            op.kind, op.id, op.started, op.who, op.step_text
        )));
    }
    Err(Error::Failed(format!(
        "server {server} has an interrupted {} ({} {} → {}, operation {}, started {} by {}, stopped at: {}): \
         finish it with `mcpctl deploy {server} --resume` or undo it with `mcpctl rollback {server}`; \
         --force goes on and forgets it",
        op.kind,
        op.strategy,
        if op.from.image.is_empty() {
            "-"
        } else {
            &op.from.image
        },
        if op.to.image.is_empty() {
            "-"
        } else {
            &op.to.image
        },
        op.id,
        op.started,
        op.who,
        op.step_text
    )))
}

/// Refuses to remove a server's objects (`delete`, `apply --prune` of a
/// removed server) while its journal records an operation in flight, naming
/// the operation and the command that finishes it; `what` is the refused
/// command, for the message.
pub fn refuse_removal_inflight(state: &State, server: &str, what: &str) -> Result<()> {
    state.check_readable(server)?;
    let Some(op) = &state.inflight else {
        return Ok(());
    };
    let finish = if op.kind == "apply" {
        format!("`mcpctl apply {server}`")
    } else {
        format!("`mcpctl deploy {server} --resume` or `mcpctl rollback {server}`")
    };
    Err(Error::Failed(format!(
        "server {server} has an operation in flight: {} {} (operation {}, started {} by {},          stopped at: {}); {what} does not remove a server in the middle of an operation.          Finish it first with {finish} (with {server} back in the fleet file if it was          removed), then run {what} again",
        op.kind,
        if op.strategy.is_empty() {
            String::new()
        } else {
            format!("({})", op.strategy)
        },
        op.id,
        op.started,
        op.who,
        op.step_text
    )))
}

/// The revision that records a server's objects removed (by `delete`, or by
/// `apply --prune` after it left the fleet file). Its outcome is not
/// `succeeded`, so a rollback never picks it as a version to go back to.
pub fn uninstalled(server: &str, when: &str, message: &str) -> Revision {
    Revision {
        server: server.to_string(),
        revision: 0,
        operation: "delete".into(),
        image: String::new(),
        strategy: String::new(),
        who: crate::cluster::identity::who(),
        when: when.to_string(),
        outcome: "uninstalled".into(),
        message: message.to_string(),
        has_objects: false,
        images: BTreeMap::new(),
        traffic: String::new(),
        from_image: String::new(),
        deployed: false,
    }
}

/// The image of every Deployment of `server` among `objects`, by colour or track.
pub fn images(server: &str, objects: &[Value]) -> BTreeMap<String, String> {
    objects
        .iter()
        .filter(|o| o["kind"] == "Deployment")
        .filter_map(|d| {
            let track = match observe::track_of(d).unwrap_or(Track::Stable) {
                Track::Stable => "stable",
                Track::Canary => "canary",
                Track::Blue => "blue",
                Track::Green => "green",
            };
            Some((track.to_string(), observe::deployment_image(d, server)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn another_interrupted_operation_is_refused_with_the_way_out() {
        let mut st = State::default();
        assert!(check_inflight(&st, "gh", &[], false).is_ok());
        let mut op = operation("deploy", "blue-green", "2026-11-21T06:00:00Z".into(), "me");
        op.to.image = "img:2".into();
        op.step_text = "switch traffic".into();
        st.inflight = Some(op);
        let e = check_inflight(&st, "gh", &["apply"], false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("interrupted deploy"), "{e}");
        assert!(
            e.contains("mcpctl deploy gh --resume") && e.contains("mcpctl rollback gh"),
            "{e}"
        );
        assert!(check_inflight(&st, "gh", &["deploy"], false).is_ok());
        assert!(check_inflight(&st, "gh", &[], true).is_ok());
        st.unreadable.push("bad".into());
        assert!(
            check_inflight(&st, "gh", &[], true).is_err(),
            "unreadable beats --force"
        );
    }

    #[test]
    fn removal_is_refused_in_flight_naming_the_way_out() {
        let mut st = State::default();
        assert!(refuse_removal_inflight(&st, "gh", "mcpctl delete").is_ok());
        let mut op = operation("deploy", "blue-green", "2026-11-21T06:00:00Z".into(), "me");
        op.step_text = "switch traffic".into();
        st.inflight = Some(op.clone());
        let e = refuse_removal_inflight(&st, "gh", "mcpctl delete")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("deploy (blue-green)") && e.contains(&op.id),
            "{e}"
        );
        assert!(e.contains("switch traffic"), "{e}");
        assert!(
            e.contains("mcpctl deploy gh --resume") && e.contains("mcpctl rollback gh"),
            "{e}"
        );
        op.kind = "apply".into();
        st.inflight = Some(op);
        let e = refuse_removal_inflight(&st, "gh", "mcpctl apply --prune")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`mcpctl apply gh`"), "{e}");
    }

    #[test]
    fn images_by_colour() {
        let d = |c: &str, i: &str| {
            json!({"kind": "Deployment", "metadata": {"labels": {"mcpctl.io/colour": c}},
            "spec": {"template": {"spec": {"containers": [{"name": "gh", "image": i}]}}}})
        };
        let m = images(
            "gh",
            &[
                d("blue", "a:1"),
                d("green", "a:2"),
                json!({"kind": "Service"}),
            ],
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m["green"], "a:2");
        let ids: std::collections::BTreeSet<String> = (0..20)
            .map(|_| operation("deploy", "x", "2026-11-21T06:00:00Z".into(), "me").id)
            .collect();
        assert_eq!(ids.len(), 20, "operation ids are unique");
    }
}
