//! Fixtures for tests elsewhere in the crate: servers as the loader resolves
//! them, so tests start from the real built-in defaults and change only what
//! they are about.

use std::path::Path;

use super::{Fleet, Server};

/// `name` running `image` with every built-in default, as the loader resolves
/// a fleet file that says nothing else. The name is set afterwards, so tests
/// of later stages can use names the loader would refuse.
pub fn server(name: &str, image: &str) -> Server {
    let yaml =
        format!("fleet: acme\nnamespace: mcp\nservers:\n  - name: fixture\n    image: {image}\n");
    let loaded = super::load_str(&yaml, Path::new("fixture.yaml"))
        .unwrap_or_else(|e| panic!("fixture server with image {image}: {e}"));
    let server = loaded.fleet.servers.into_iter().next().expect("one server");
    Server {
        name: name.into(),
        ..server
    }
}

/// A fleet named `name` in namespace `mcp`.
pub fn fleet(name: &str, servers: Vec<Server>) -> Fleet {
    Fleet {
        name: name.into(),
        namespace: "mcp".into(),
        dashboard: true,
        servers,
    }
}

/// The fleet a fleet file's text resolves to (panics on an invalid file).
pub fn fleet_from(yaml: &str) -> Fleet {
    super::load_str(yaml, Path::new("fixture.yaml"))
        .unwrap_or_else(|e| panic!("fixture fleet: {e}\n{yaml}"))
        .fleet
}
