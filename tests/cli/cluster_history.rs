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
