//! The local "no change" decision against the stand-in's dry runs (see `agreement.rs`), and
//! what it saves: an unchanged apply of the example fleet sends no dry run.

use std::process::Command;

use serde_json::Value;

use crate::agreement::{self, Side};
use crate::cluster_support::*;

impl Side for Env {
    fn write_fleet(&self, text: &str) {
        Env::write_fleet(self, text)
    }
    fn command(&self, args: &[&str]) -> Command {
        Env::command(self, args)
    }
    fn get(&self, path: &str) -> Option<Value> {
        self.srv.get(path)
    }
    fn patch(&self, path: &str, content_type: &str, body: &Value) -> (u16, String) {
        let s = http(&self.srv, "PATCH", path, content_type, &body.to_string());
        (s, String::new())
    }
    fn namespace(&self) -> String {
        NS.to_string()
    }
}

#[test]
fn local_no_change_agrees_with_the_dry_run() {
    let env = Env::start(&[]);
    agreement::local_no_change_agrees_with_the_dry_run(&env);
    // The last step left the fleet applied and unchanged: its plan sends no dry run.
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
    let dry_runs: Vec<_> = reqs
        .iter()
        .filter(|r| r.query_param("dryRun").is_some())
        .collect();
    assert!(dry_runs.is_empty(), "{}", describe(&reqs));
}
