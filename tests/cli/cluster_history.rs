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

    let o = env.run(&["history", "github", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let revs: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
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
                "/api/v1/namespaces/{NS}/configmaps/mcpctl.rev.github.v2"
            ))
            .is_none()
    );
    let rec = env
        .srv
        .get(&format!(
            "/api/v1/namespaces/{NS}/configmaps/mcpctl.rev.github.v12"
        ))
        .unwrap();
    assert!(rec["binaryData"]["objects.json.gz"].is_string(), "{rec}");

    let o = env.run(&["history", "github"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.starts_with(" REVISION") || stdout.starts_with("REVISION"),
        "{}",
        out(&o)
    );
    assert!(
        stdout.contains("ghcr.io/acme/github-mcp:1.11.0"),
        "{}",
        out(&o)
    );
    assert_eq!(stdout.lines().count(), 11, "{}", out(&o));
}
