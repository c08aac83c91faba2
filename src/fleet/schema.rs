//! The JSON Schema (draft 2020-12) of the fleet file, generated from `shape`,
//! the same table the decoder reads its keys from. Editors (through
//! yaml-language-server) complete keys and flag mistakes with it; the decoder
//! stays the judge: cross-field rules (`canary` needs `prometheus.url`, names
//! are DNS labels, steps increase) are checked only by `mcpctl validate`.

use serde_json::{Map, Value, json};

use super::shape::{Block, FLEET, Kind};

/// Where the schema says it lives; `mcpctl init` points fleet files at a copy
/// written next to them (`mcpctl schema > mcpctl.schema.json`).
pub const SCHEMA_FILE: &str = "mcpctl.schema.json";

/// The schema of a fleet file.
pub fn fleet_schema() -> Value {
    let mut defs = Map::new();
    collect(&FLEET, &mut defs);
    let mut root = match block_schema(&FLEET) {
        Value::Object(m) => m,
        _ => unreachable!("a block's schema is an object"),
    };
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    out.insert("title".into(), json!("mcpctl fleet file"));
    out.append(&mut root);
    defs.remove(FLEET.name);
    out.insert("$defs".into(), Value::Object(defs));
    Value::Object(out)
}

/// Adds the definition of `block` and of every block under it.
fn collect(block: &'static Block, defs: &mut Map<String, Value>) {
    if defs.contains_key(block.name) {
        return;
    }
    defs.insert(block.name.into(), block_schema(block));
    for f in block.fields() {
        if let Kind::Block(b) | Kind::BlockList(b) = f.kind {
            collect(b, defs);
        }
    }
}

fn block_schema(block: &Block) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in block.fields() {
        let mut s = kind_schema(&f.kind);
        // A required list (`servers`) must have entries; others may be empty.
        if let (true, Kind::BlockList(_), Value::Object(m)) = (f.required, &f.kind, &mut s) {
            m.insert("type".into(), json!("array"));
            m.insert("minItems".into(), json!(1));
        }
        if let Value::Object(m) = &mut s {
            m.insert("description".into(), json!(f.doc));
        }
        props.insert(f.key.into(), s);
        if f.required {
            required.push(f.key);
        }
    }
    let mut m = Map::new();
    m.insert("description".into(), json!(block.doc));
    // A key left empty (`defaults:` with everything commented out) reads as
    // an empty mapping, except the document itself.
    m.insert(
        "type".into(),
        if block.name == FLEET.name {
            json!("object")
        } else {
            json!(["object", "null"])
        },
    );
    m.insert("properties".into(), Value::Object(props));
    m.insert("additionalProperties".into(), json!(false));
    if !required.is_empty() {
        m.insert("required".into(), json!(required));
    }
    Value::Object(m)
}

/// A DNS-1123 label, as `names::dns_label` checks it.
pub const LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// Text keys take numbers and booleans as written (`cpu: 1`, `PORT: 8080`).
fn text() -> Value {
    json!({"type": ["string", "number", "boolean"]})
}

fn kind_schema(kind: &Kind) -> Value {
    match kind {
        Kind::Text => text(),
        Kind::Label { max } => json!({
            "type": ["string", "number", "boolean"],
            "pattern": LABEL_PATTERN,
            "minLength": 1,
            "maxLength": max,
        }),
        Kind::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Number { min, max } => {
            let mut m = Map::new();
            m.insert("type".into(), json!("number"));
            if let Some(min) = min {
                m.insert("minimum".into(), json!(min));
            }
            if let Some(max) = max {
                m.insert("maximum".into(), json!(max));
            }
            Value::Object(m)
        }
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Duration => json!({
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h))+$",
            "examples": ["30s", "5m", "1h30m"],
        }),
        Kind::Choice(names) => json!({"type": "string", "enum": names}),
        Kind::TextList => json!({"type": ["array", "null"], "items": text()}),
        Kind::IntList { min, max } => json!({
            "type": "array",
            "minItems": 1,
            "items": {"type": "integer", "minimum": min, "maximum": max},
        }),
        Kind::TextMap => json!({
            "type": ["object", "null"],
            "additionalProperties": text(),
        }),
        Kind::Block(b) => json!({"$ref": format!("#/$defs/{}", b.name)}),
        Kind::BlockList(b) => json!({
            "type": ["array", "null"],
            "items": {"$ref": format!("#/$defs/{}", b.name)},
        }),
    }
}
