//! `mcpctl schema`: the JSON Schema editors check fleet files with. The
//! example fleet and every fleet fixture are checked against it, with the
//! decoder (`mcpctl validate`) as the judge it must never be stricter than.

use std::path::Path;

use serde_json::Value;

use crate::support::{mcpctl, mcpctl_in, out, repo_root, stdout};

struct Schema {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

/// The schema `mcpctl schema` prints, compiled (which checks it against the
/// draft 2020-12 meta-schema).
fn printed_schema() -> (Value, Schema) {
    let o = mcpctl(&["schema"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let value: Value = serde_json::from_slice(&o.stdout).expect("the schema is JSON");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("urn:mcpctl:fleet", value.clone())
        .unwrap();
    let index = compiler
        .compile("urn:mcpctl:fleet", &mut schemas)
        .unwrap_or_else(|e| panic!("the printed schema does not compile: {e:#}"));
    (value, Schema { schemas, index })
}

impl Schema {
    /// Why the schema rejects the file, or `None` when it accepts it. A file
    /// that is not YAML text (not UTF-8, a syntax error) is rejected.
    fn rejects(&self, file: &Path) -> Option<String> {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => return Some(format!("unreadable: {e}")),
        };
        let doc: Value = match serde_saphyr::from_str(&text) {
            Ok(v) => v,
            Err(e) => return Some(format!("not YAML: {e}")),
        };
        self.schemas
            .validate(&doc, self.index)
            .err()
            .map(|e| format!("{e:#}"))
    }
}

#[test]
fn the_schema_is_draft_2020_12_with_every_top_level_key_described() {
    let (schema, _) = printed_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    for key in ["fleet", "namespace", "defaults", "servers"] {
        assert!(
            schema["properties"][key]["description"].is_string(),
            "{key} has no description"
        );
    }
    assert_eq!(
        schema["required"],
        serde_json::json!(["fleet", "namespace", "servers"])
    );
    assert_eq!(
        schema["$defs"]["settings"]["properties"]["strategy"]["enum"],
        serde_json::json!(["rolling", "blue-green", "canary"])
    );
}

/// Fixtures the decoder rejects for what the schema can see: the shape of a
/// value, an unknown key, a word outside a choice, a bound, a name that is
/// not a DNS label. The others it rejects (image references, duplicates, the
/// last canary step) only the decoder checks.
const SCHEMA_REJECTS: &[&str] = &[
    "bad_dns_name.yaml",
    "bad_duration.yaml",
    "comments_only.yaml",
    "empty.yaml",
    "error_rate.yaml",
    "many_errors.yaml",
    "not_utf8.yaml",
    "syntax_error.yaml",
    "unknown_key.yaml",
    "wrong_type.yaml",
];

#[test]
fn the_example_and_every_fleet_fixture_agree_with_the_decoder() {
    let (_, schema) = printed_schema();
    let root = repo_root();
    let example = root.join("examples/fleet.yaml");
    assert_eq!(schema.rejects(&example), None, "examples/fleet.yaml");

    let dir = root.join("tests/fixtures/fleets");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "{files:?}");
    let mut accepted_by_both = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let decoder = mcpctl(&["validate", "-f", file.to_str().unwrap()]);
        let decoder_ok = decoder.status.code() == Some(0);
        assert!(
            matches!(decoder.status.code(), Some(0 | 2)),
            "{name}: {}",
            out(&decoder)
        );
        let schema_says = schema.rejects(file);
        if SCHEMA_REJECTS.contains(&name) {
            assert!(schema_says.is_some(), "{name}: the schema should reject it");
        } else {
            assert_eq!(schema_says, None, "{name}: the schema should accept it");
        }
        // The schema is never stricter than the decoder.
        if decoder_ok {
            assert_eq!(
                schema_says, None,
                "{name}: valid, yet the schema rejects it"
            );
            accepted_by_both += 1;
        } else if schema_says.is_none() {
            assert!(!SCHEMA_REJECTS.contains(&name), "{name}: {}", out(&decoder));
        }
    }
    assert!(accepted_by_both >= 2, "{accepted_by_both}");
}

#[test]
fn init_writes_the_schema_its_first_line_points_at() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fleets")).unwrap();
    let o = mcpctl_in(dir.path(), &["init", "-f", "fleets/prod.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let fleet = std::fs::read_to_string(dir.path().join("fleets/prod.yaml")).unwrap();
    assert_eq!(
        fleet.lines().next(),
        Some("# yaml-language-server: $schema=mcpctl.schema.json")
    );
    // yaml-language-server resolves the path from the fleet file's directory.
    let written = std::fs::read_to_string(dir.path().join("fleets/mcpctl.schema.json")).unwrap();
    assert_eq!(written, stdout(&mcpctl(&["schema"])));
    let (_, schema) = printed_schema();
    assert_eq!(schema.rejects(&dir.path().join("fleets/prod.yaml")), None);
}
