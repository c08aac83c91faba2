//! `mcpctl history`: one revision per apply that changed something, capped at 10.

use crate::cluster_support::*;

#[test]
fn history_records_each_change_and_keeps_ten() {
    let env = Env::start(&[]);
    for i in 0..12 {
        env.write_fleet(&fleet_yaml(&format!("ghcr.io/acme/github-mcp:1.{i}.0"), 1));
        let o = env.run(&["apply"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    }
    // A no-op apply records nothing.
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));

    let revs = env.history_json("github");
    let revs = revs.as_array().unwrap();
    let numbers: Vec<u64> = revs
        .iter()
        .map(|r| r["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (3..=12).collect::<Vec<u64>>());
    let last = &revs[9];
    assert_eq!(last["image"], "ghcr.io/acme/github-mcp:1.11.0");
    assert_eq!(last["operation"], "apply");
    assert_eq!(last["strategy"], "rolling");
    assert_eq!(last["outcome"], "succeeded");
    assert!(
        last["who"].as_str().unwrap().starts_with("tester@"),
        "{last}"
    );
    assert_eq!(last["hasObjects"], true);
    // The oldest records are gone from the cluster too.
    assert!(
        env.srv
            .get(&format!(
                "/api/v1/namespaces/{NS}/configmaps/mcpctl.rev.acme.github.v2"
            ))
            .is_none()
    );
    let rec = env
        .srv
        .get(&format!(
            "/api/v1/namespaces/{NS}/configmaps/mcpctl.rev.acme.github.v12"
        ))
        .unwrap();
    assert!(rec["binaryData"]["objects.json.gz"].is_string(), "{rec}");

    let o = env.run(&["history", "github"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.starts_with("REVISION  WHEN "), "{}", out(&o));
    assert!(
        stdout.contains("ghcr.io/acme/github-mcp:1.11.0"),
        "{}",
        out(&o)
    );
    assert_eq!(stdout.lines().count(), 11, "{}", out(&o));

    // What `rollback --to-revision` reads: the stored objects of a revision.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let opts = mcpctl::cluster::ConnectOptions {
            kubeconfig: Some(env.kubeconfig()),
            context: None,
        };
        let cluster = mcpctl::cluster::connect(&opts).await.unwrap();
        let journal = mcpctl::cluster::journal::Journal::new(&cluster, NS, "acme");
        let (rev, objects) = journal
            .revision("github", 12)
            .await
            .unwrap()
            .expect("revision 12");
        assert_eq!(rev.image, "ghcr.io/acme/github-mcp:1.11.0");
        let dep = objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .expect("Deployment stored");
        assert_eq!(
            dep["spec"]["template"]["spec"]["containers"][0]["image"],
            "ghcr.io/acme/github-mcp:1.11.0"
        );
        assert!(
            journal.revision("github", 1).await.unwrap().is_none(),
            "pruned revision still there"
        );
        let states = journal.states().await.unwrap();
        assert_eq!(states["github"].last.as_ref().unwrap().revision, 12);
        assert!(states["github"].inflight.is_none());
    });
}

/// A revision is numbered from the state record's last one, without listing
/// the server's revisions (a scan of every record of the namespace); a number
/// already taken (a revision recorded without its state, say after a crash)
/// is found by the create's 409, and the next free number is taken.
#[test]
fn revisions_are_numbered_from_the_state_record_and_skip_numbers_taken() {
    let env = Env::start(&[]);
    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:1.0.0", 1));
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));

    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:1.1.0", 1));
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let reqs = env.srv.requests();
    let revision_lists: Vec<_> = reqs
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/configmaps"))
        .filter(|r| {
            r.query_param("labelSelector")
                .is_some_and(|s| s.contains("record=revision"))
        })
        .collect();
    assert!(
        revision_lists.is_empty(),
        "revisions listed to number one:\n{}",
        describe(&reqs)
    );

    // Revision 3 recorded without its state (the state still says 2).
    let v2 = env
        .srv
        .get(&format!(
            "/api/v1/namespaces/{NS}/configmaps/mcpctl.rev.acme.github.v2"
        ))
        .expect("revision 2");
    let mut v3 = v2.clone();
    let mut rev: serde_json::Value =
        serde_json::from_str(v2["data"]["revision.json"].as_str().unwrap()).unwrap();
    rev["revision"] = 3.into();
    v3["metadata"] = serde_json::json!({
        "name": "mcpctl.rev.acme.github.v3",
        "namespace": NS,
        "labels": v2["metadata"]["labels"].clone(),
    });
    v3["metadata"]["labels"]["mcpctl.io/revision"] = "3".into();
    v3["data"]["revision.json"] = rev.to_string().into();
    env.srv.put_object(v3);

    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:1.2.0", 1));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let numbers: Vec<u64> = env
        .history_json("github")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2, 3, 4]);
    let last = &env.history_json("github")[3];
    assert_eq!(last["image"], "ghcr.io/acme/github-mcp:1.2.0");
    let state = env.github_state();
    assert!(
        state["data"]["last"]
            .as_str()
            .unwrap()
            .contains("\"revision\":4"),
        "{state}"
    );
}

/// A first apply creates each server's state record at once (the fleet's
/// states showed none), where a patch would only be answered 404 first.
#[test]
fn a_first_apply_creates_the_state_records_without_patching_them_first() {
    let env = Env::start(&[]);
    let mut fleet = fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 1);
    fleet.push_str("  - name: slack\n    image: ghcr.io/acme/slack-mcp:1.0.0\n");
    env.write_fleet(&fleet);
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let reqs = env.srv.requests();
    let state_writes: Vec<String> = reqs
        .iter()
        .filter(|r| {
            r.path.contains("/configmaps/mcpctl.state.")
                || (r.method == "POST" && r.path.ends_with("/configmaps"))
        })
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect();
    let refused: Vec<&String> = state_writes.iter().filter(|w| w.ends_with("404")).collect();
    assert!(refused.is_empty(), "{}", state_writes.join("\n"));
    for server in ["github", "slack"] {
        let state = env
            .srv
            .get(&format!(
                "/api/v1/namespaces/{NS}/configmaps/mcpctl.state.acme.{server}"
            ))
            .unwrap_or_else(|| panic!("no state record of {server}"));
        assert!(state["data"]["inflight"].is_null(), "{state}");
        assert!(
            state["data"]["last"]
                .as_str()
                .unwrap()
                .contains("\"revision\":1"),
            "{state}"
        );
    }
}
