//! The schema and the decoder agree: every wrong value the shape table can
//! describe (a wrong type, a bad word, a number out of range, an unknown key)
//! is generated for every key of every block and must be rejected by both, at
//! the same place; valid fleet files must be accepted by both.

use std::path::Path;

use serde_json::{Value, json};

use super::schema::fleet_schema;
use super::shape::{self, Block, FLEET, Field, Kind};
use super::{Severity, load_str};
use crate::error::Error;

struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Self {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        // Compiling checks the schema against the draft 2020-12 meta-schema.
        compiler
            .add_resource("urn:mcpctl:fleet", fleet_schema())
            .expect("schema resource");
        let index = compiler
            .compile("urn:mcpctl:fleet", &mut schemas)
            .unwrap_or_else(|e| panic!("the fleet schema does not compile: {e:#}"));
        Validator { schemas, index }
    }

    /// The innermost errors: instance location (a JSON pointer) and what is wrong.
    fn errors(&self, doc: &Value) -> Vec<(String, String)> {
        match self.schemas.validate(doc, self.index) {
            Ok(()) => Vec::new(),
            Err(e) => {
                let mut out = Vec::new();
                leaves(&e, &mut out);
                out
            }
        }
    }
}

fn leaves(e: &boon::ValidationError, out: &mut Vec<(String, String)>) {
    if e.causes.is_empty() {
        out.push((e.instance_location.to_string(), e.kind.to_string()));
    }
    for c in &e.causes {
        leaves(c, out);
    }
}

/// The error paths the decoder reports for `doc` (empty when it loads).
fn decoder_errors(doc: &Value) -> Vec<String> {
    let text = serde_saphyr::to_string(doc).expect("YAML");
    match load_str(&text, Path::new("f.yaml")) {
        Ok(_) => Vec::new(),
        Err(Error::Invalid(ds)) => ds
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect(),
        Err(e) => panic!("unexpected error {e}\n{text}"),
    }
}

/// The errors of reading `doc`, each value checked on its own, before
/// merging and cross-field rules.
fn read_errors(doc: &Value) -> Vec<String> {
    let text = serde_saphyr::to_string(doc).expect("YAML");
    let (root, problems) = super::yaml::parse(&text);
    assert!(problems.is_empty(), "{problems:?}\n{text}");
    let mut cx = super::decode::Ctx::new(Path::new("f.yaml"));
    super::read::decode(&mut cx, &root.expect("a document"));
    cx.diags
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.path, d.message))
        .collect()
}

/// `servers[0].canary.steps` as the JSON pointer `/servers/0/canary/steps`.
fn pointer(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push('/');
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped.find(']').expect("closing bracket");
                out.push('/');
                out.push_str(&stripped[..end]);
                rest = &stripped[end + 1..];
            }
        } else {
            out.push('/');
            out.push_str(rest);
        }
    }
    out
}

/// At `path` or under it.
fn within(reported: &str, path: &str, sep: &[char]) -> bool {
    reported == path
        || reported
            .strip_prefix(path)
            .is_some_and(|r| r.starts_with(sep))
}

fn base() -> Value {
    json!({
        "fleet": "acme",
        "namespace": "mcp",
        "servers": [{"name": "github", "image": "ghcr.io/acme/github-mcp:1.4.2"}],
    })
}

/// `doc` with `value` at the key path (`servers[0].canary.steps`), creating
/// the mappings and one-entry lists on the way.
fn set(doc: &mut Value, path: &str, value: Value) {
    let mut at = doc;
    let ptr = pointer(path);
    let parts: Vec<&str> = ptr.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if let Ok(n) = part.parse::<usize>() {
            let list = at.as_array_mut().expect("a list on the way");
            while list.len() <= n {
                list.push(json!({}));
            }
            at = &mut list[n];
        } else {
            let map = at.as_object_mut().expect("a mapping on the way");
            let next = parts.get(i + 1).map(|p| p.parse::<usize>().is_ok());
            let fresh = match next {
                Some(true) => json!([]),
                _ => json!({}),
            };
            let slot = map.entry(part.to_string()).or_insert(fresh);
            if last {
                *slot = value;
                return;
            }
            at = slot;
        }
    }
}

/// Every key path the shape describes, with its kind, and every block path.
fn walk(
    block: &'static Block,
    path: &str,
    keys: &mut Vec<(String, &'static Field)>,
    blocks: &mut Vec<(String, &'static Block)>,
) {
    blocks.push((path.to_string(), block));
    for f in block.fields() {
        let p = if path.is_empty() {
            f.key.to_string()
        } else {
            format!("{path}.{}", f.key)
        };
        keys.push((p.clone(), f));
        match f.kind {
            Kind::Block(b) => walk(b, &p, keys, blocks),
            Kind::BlockList(b) => walk(b, &format!("{p}[0]"), keys, blocks),
            _ => {}
        }
    }
}

/// Values of the wrong type or out of range for `kind`.
fn wrong_values(kind: &Kind) -> Vec<Value> {
    match kind {
        Kind::Text => vec![json!({"a": 1}), json!(["a"]), Value::Null],
        Kind::Label { max } => vec![
            json!("GitHub"),
            json!("a_b"),
            json!("-a"),
            json!(""),
            json!("a".repeat(max + 1)),
            json!({"a": 1}),
            Value::Null,
        ],
        Kind::Int { min, max } => {
            vec![
                json!("three"),
                json!(true),
                json!(1.5),
                Value::Null,
                json!(min - 1),
                json!(max + 1),
            ]
        }
        Kind::Number { min, max } => {
            let mut v = vec![json!("x"), json!(false), json!([1])];
            if let Some(min) = min {
                v.push(json!(min - 0.5));
            }
            if let Some(max) = max {
                v.push(json!(max + 0.5));
            }
            v
        }
        Kind::Bool => vec![json!("enabled"), json!(1), Value::Null],
        Kind::Duration => vec![json!(true), json!(30), json!("5 minutes"), json!("1x")],
        Kind::Choice(_) => vec![json!("bogus"), json!(1), Value::Null],
        Kind::TextList => vec![json!("a"), json!([{"a": 1}]), json!(1)],
        Kind::IntList { min, max } => vec![
            json!([]),
            json!(["ten"]),
            json!([min - 1]),
            json!([max + 1]),
            json!("x"),
            Value::Null,
        ],
        Kind::TextMap => vec![json!([1]), json!({"K": {"a": 1}}), json!("x")],
        Kind::Block(_) => vec![json!("x"), json!([1]), json!(3)],
        Kind::BlockList(_) => vec![json!("x"), json!(["x"]), json!({"a": 1})],
    }
}

/// Both reject `doc`, the decoder at `path` (or under it), the schema at the
/// same place.
/// Values at the edges of what `kind` allows (bounds included, every word of
/// a choice); text is left out, its checks (names, URLs, quantities) are the
/// decoder's alone.
fn edge_values(kind: &Kind) -> Vec<Value> {
    match kind {
        Kind::Text => vec![],
        Kind::Label { max } => vec![json!("a"), json!("a-1"), json!("a".repeat(*max))],
        Kind::Int { min, max } => vec![json!(min), json!(max)],
        Kind::Number { min, max } => match (min, max) {
            (None, None) => vec![json!(0.5), json!(-3)],
            _ => min.iter().chain(max.iter()).map(|b| json!(b)).collect(),
        },
        Kind::Bool => vec![json!(true), json!(false)],
        Kind::Duration => vec![json!("1m"), json!("1h30m")],
        Kind::Choice(words) => words.iter().map(|w| json!(w)).collect(),
        Kind::TextList => vec![json!([]), Value::Null],
        Kind::IntList { min, max } => vec![json!([min, max]), json!([max])],
        Kind::TextMap => vec![json!({}), Value::Null],
        // An empty block may lack what merging needs (`autoscaling` its `maxReplicas`).
        Kind::Block(_) => vec![],
        Kind::BlockList(_) => vec![json!([]), Value::Null],
    }
}

fn both_reject(schema: &Validator, doc: &Value, path: &str, what: &str) {
    let ptr = pointer(path);
    both_reject_where(schema, doc, path, what, |loc, _| within(loc, &ptr, &['/']));
}

/// Both reject the key `path`, which its block does not have: the schema
/// reports it as an additional property of the block.
fn both_reject_unknown(schema: &Validator, doc: &Value, path: &str) {
    let (block, key) = path.rsplit_once('.').unwrap_or(("", path));
    let ptr = if block.is_empty() {
        String::new()
    } else {
        pointer(block)
    };
    let needle = format!("'{key}' not allowed");
    both_reject_where(schema, doc, path, "an unknown key", |loc, kind| {
        loc == ptr && kind.contains(&needle)
    });
}

fn both_reject_where(
    schema: &Validator,
    doc: &Value,
    path: &str,
    what: &str,
    schema_found: impl Fn(&str, &str) -> bool,
) {
    let decoder = decoder_errors(doc);
    assert!(
        decoder.iter().any(|e| {
            let p = e.split(": ").next().unwrap_or("");
            within(p, path, &['.', '['])
        }),
        "the decoder should reject {what} at `{path}`, found {decoder:?}\n{doc}"
    );
    let schema_errors = schema.errors(doc);
    assert!(
        schema_errors
            .iter()
            .any(|(loc, kind)| schema_found(loc, kind)),
        "the schema should reject {what} at `{path}`, found {schema_errors:?}\n{doc}"
    );
}

fn both_accept(schema: &Validator, doc: &Value, what: &str) {
    let decoder = decoder_errors(doc);
    assert!(decoder.is_empty(), "decoder rejects {what}: {decoder:?}");
    let schema_errors = schema.errors(doc);
    assert!(
        schema_errors.is_empty(),
        "schema rejects {what}: {schema_errors:?}"
    );
}

#[test]
fn every_wrong_value_of_every_key_is_rejected_by_both() {
    let schema = Validator::new();
    both_accept(&schema, &base(), "the base fleet");
    let (mut keys, mut blocks) = (Vec::new(), Vec::new());
    walk(&FLEET, "", &mut keys, &mut blocks);
    assert!(keys.len() > 100, "{} keys", keys.len());
    let mut cases = 0;
    for (path, field) in &keys {
        for value in wrong_values(&field.kind) {
            let mut doc = base();
            set(&mut doc, path, value.clone());
            both_reject(&schema, &doc, path, &format!("`{value}`"));
            cases += 1;
        }
    }
    for (path, _) in &blocks {
        let mut doc = base();
        let key = if path.is_empty() {
            "bogusKey".to_string()
        } else {
            format!("{path}.bogusKey")
        };
        set(&mut doc, &key, json!(1));
        both_reject_unknown(&schema, &doc, &key);
        cases += 1;
    }
    assert!(cases > 400, "{cases} cases");
}

/// The bounds of the shape are the decoder's: a value at the edge is taken
/// by the schema and by the decoder's reading of each value on its own
/// (cross-field rules, such as `minReplicas` ≤ `maxReplicas`, come after).
#[test]
fn edge_values_of_every_key_are_accepted_by_both() {
    let schema = Validator::new();
    let (mut keys, mut blocks) = (Vec::new(), Vec::new());
    walk(&FLEET, "", &mut keys, &mut blocks);
    for (path, field) in &keys {
        // A required list must have entries: `servers` is checked in the
        // required-keys test.
        if field.required {
            continue;
        }
        for value in edge_values(&field.kind) {
            let mut doc = base();
            set(&mut doc, path, value.clone());
            let decoder: Vec<String> = read_errors(&doc)
                .into_iter()
                .filter(|e| within(e.split(": ").next().unwrap_or(""), path, &['.', '[']))
                .collect();
            assert!(
                decoder.is_empty(),
                "the decoder rejects `{value}` at `{path}`: {decoder:?}"
            );
            let ptr = pointer(path);
            let schema_errors: Vec<_> = schema
                .errors(&doc)
                .into_iter()
                .filter(|(loc, _)| within(loc, &ptr, &['/']))
                .collect();
            assert!(
                schema_errors.is_empty(),
                "the schema rejects `{value}` at `{path}`: {schema_errors:?}"
            );
        }
    }
}

#[test]
fn required_keys_are_required_by_both() {
    let schema = Validator::new();
    for key in ["fleet", "namespace", "servers"] {
        let mut doc = base();
        doc.as_object_mut().unwrap().remove(key);
        assert!(!decoder_errors(&doc).is_empty(), "decoder without {key}");
        assert!(!schema.errors(&doc).is_empty(), "schema without {key}");
    }
    for key in ["name", "image"] {
        let mut doc = base();
        doc["servers"][0].as_object_mut().unwrap().remove(key);
        both_reject(
            &schema,
            &doc,
            "servers[0]",
            &format!("a server without {key}"),
        );
    }
    let mut doc = base();
    doc["servers"] = json!([]);
    both_reject(&schema, &doc, "servers", "no servers");
    for entry in [json!({"name": "T", "secret": "s"}), json!({"key": "k"})] {
        let mut doc = base();
        set(&mut doc, "servers[0].secretEnv", json!([entry]));
        both_reject(
            &schema,
            &doc,
            "servers[0].secretEnv[0]",
            "an incomplete entry",
        );
    }
    // `name` and `image` belong to each server, not to `defaults`.
    let mut doc = base();
    set(&mut doc, "defaults.image", json!("x/a:1"));
    both_reject_unknown(&schema, &doc, "defaults.image");
}

/// Valid fleets, each written differently from the base; both accept them.
#[test]
fn valid_fleets_are_accepted_by_both() {
    let schema = Validator::new();
    let cases: &[(&str, &[(&str, Value)])] = &[
        (
            "numbers as text",
            &[
                ("servers[0].env", json!({"PORT": 8080, "DEBUG": true})),
                ("servers[0].resources.limits.cpu", json!(1)),
            ],
        ),
        (
            "empty blocks and lists",
            &[
                ("defaults", Value::Null),
                ("servers[0].labels", Value::Null),
                ("servers[0].allowFromNamespaces", Value::Null),
                ("servers[0].tls", Value::Null),
            ],
        ),
        (
            "a whole number written as a decimal",
            &[("servers[0].replicas", json!(3.0))],
        ),
        (
            "bounds included",
            &[
                ("servers[0].port", json!(65535)),
                ("servers[0].drainSeconds", json!(0)),
                ("servers[0].replicas", json!(0)),
            ],
        ),
        (
            "canary with analysis",
            &[
                ("defaults.strategy", json!("canary")),
                ("defaults.prometheus.url", json!("http://prometheus:9090")),
                (
                    "defaults.canary",
                    json!({"steps": [5, 100], "stepDuration": "1h30m", "analysis": {"interval": "250ms", "maxErrorRate": 0, "noData": "ignore", "maxErrorRateRatio": 1}}),
                ),
                (
                    "servers[0].canary.analysis.metrics",
                    json!([{"name": "p95", "query": "x", "min": -1}]),
                ),
            ],
        ),
        (
            "gateway-api",
            &[
                ("servers[0].router", json!("gateway-api")),
                ("servers[0].ingress.gateway.name", json!("public")),
            ],
        ),
        (
            "blue-green",
            &[
                ("servers[0].strategy", json!("blue-green")),
                ("servers[0].blueGreen.scaleDownDelay", json!("30m")),
            ],
        ),
    ];
    for (what, sets) in cases {
        let mut doc = base();
        for (path, value) in *sets {
            set(&mut doc, path, value.clone());
        }
        both_accept(&schema, &doc, what);
    }
}

fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("YAML: {e}\n{text}"))
}

/// The example fleet, the `init` template with every optional setting
/// uncommented and the fixture `every_key.yaml` load, and the schema accepts
/// them; between them they write every key of the shape, so none is left
/// untried on the accepting side.
#[test]
fn valid_samples_pass_the_schema_and_use_every_key() {
    let schema = Validator::new();
    let example = include_str!("../../examples/fleet.yaml");
    let every_key = include_str!("../../tests/fixtures/fleets/every_key.yaml");
    let template = super::tests::uncomment_settings(super::INIT_TEMPLATE);
    let mut written = std::collections::BTreeSet::new();
    for (name, text) in [
        ("examples/fleet.yaml", example),
        ("init template", &template),
        ("tests/fixtures/fleets/every_key.yaml", every_key),
    ] {
        load_str(text, Path::new(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let doc = yaml_to_json(text);
        let errors = schema.errors(&doc);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        keys_written(&doc, "", &mut written);
    }
    let (mut keys, mut blocks) = (Vec::new(), Vec::new());
    walk(&FLEET, "", &mut keys, &mut blocks);
    let unused: Vec<&String> = keys
        .iter()
        .map(|(p, _)| p)
        .filter(|p| !written.contains(&generic(p)))
        .collect();
    assert!(unused.is_empty(), "keys no valid sample writes: {unused:?}");
}

/// Key paths of a document with list indexes as `[0]` and `defaults` folded
/// into `servers[0]` (both are settings), so `servers[3].tls.enabled` and
/// `defaults.tls.enabled` are both `servers[0].tls.enabled`.
fn keys_written(v: &Value, path: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                // A text map's keys are data, not schema keys.
                if !matches!(k.as_str(), "env" | "labels" | "podAnnotations") {
                    keys_written(v, &p, out);
                }
                out.insert(generic(&p));
            }
        }
        Value::Array(items) => {
            for item in items {
                keys_written(item, &format!("{path}[0]"), out);
            }
        }
        _ => {}
    }
}

fn generic(path: &str) -> String {
    let mut p = path.to_string();
    if let Some(rest) = p.strip_prefix("defaults") {
        p = format!("servers[0]{rest}");
    }
    // Collapse indexes: `servers[2]` reads `servers[0]`.
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' {
            while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                chars.next();
            }
            out.push('0');
        }
    }
    out
}

#[test]
fn the_choices_are_the_words_the_decoder_reads() {
    fn names<T>(t: &[(&'static str, T)]) -> Vec<&'static str> {
        t.iter().map(|(n, _)| *n).collect()
    }
    assert_eq!(names(super::raw::ROUTERS), shape::ROUTER_NAMES);
    assert_eq!(names(super::raw::STRATEGIES), shape::STRATEGY_NAMES);
    assert_eq!(names(super::raw::NO_DATA), shape::NO_DATA_NAMES);
}

#[test]
fn pointers_follow_key_paths() {
    assert_eq!(
        pointer("servers[0].canary.steps[2]"),
        "/servers/0/canary/steps/2"
    );
    assert_eq!(pointer("fleet"), "/fleet");
}
