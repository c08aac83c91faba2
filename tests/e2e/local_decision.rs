//! The local "no change" decision against the real API server's dry runs, kind by kind (see
//! `tests/cli/agreement.rs`): the real server's defaulting, normalisation and field ownership,
//! including the bundled CRDs' schemas.

use std::process::Command;

use serde_json::Value;

use crate::agreement::{self, Side};
use crate::support::*;

impl Side for Env {
    fn write_fleet(&self, text: &str) {
        Env::write_fleet(self, text)
    }
    fn command(&self, args: &[&str]) -> Command {
        Env::command(self, args)
    }
    fn get(&self, path: &str) -> Option<Value> {
        self.cluster.get(path)
    }
    fn patch(&self, path: &str, content_type: &str, body: &Value) -> (u16, String) {
        let a = self
            .cluster
            .block_on(test_cluster::raw::send(
                &self.cluster.client(),
                "PATCH",
                path,
                content_type,
                Some(body),
            ))
            .unwrap_or_else(|e| panic!("PATCH {path}: {e}"));
        (a.status, a.body.to_string())
    }
    fn namespace(&self) -> String {
        self.ns.name().to_string()
    }
}

#[test]
fn local_no_change_agrees_with_the_dry_run() {
    let env = Env::new("agree", agreement::FLEET);
    agreement::local_no_change_agrees_with_the_dry_run(&env);
}
