use serde_json::{Value, json};

use super::*;

fn tool(v: Value) -> Tool {
    serde_json::from_value(v).unwrap()
}

/// A tool `t` with input schema `input`.
fn with_input(input: Value) -> Tool {
    tool(json!({"name": "t", "inputSchema": input}))
}

/// The changes of one tool whose input schema goes from `a` to `b`, as
/// (severity, path) pairs.
fn input_change(a: Value, b: Value) -> Vec<(Severity, String)> {
    let d = compare(&[with_input(a)], &[with_input(b)]);
    d.changes
        .iter()
        .map(|c| (c.severity, c.path.clone()))
        .collect()
}

fn obj(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required})
}

use Severity::{Breaking, Compatible, Warning};

fn one(sev: Severity, path: &str) -> Vec<(Severity, String)> {
    vec![(sev, path.to_string())]
}

#[test]
fn identical_lists_have_no_changes() {
    let t = vec![with_input(obj(json!({"q": {"type": "string"}}), &["q"]))];
    let d = compare(&t, &t);
    assert!(d.changes.is_empty());
    assert!(!d.has_breaking());
}

#[test]
fn removed_tool_is_breaking_and_added_is_compatible() {
    let a = tool(json!({"name": "a", "inputSchema": {"type": "object"}}));
    let b = tool(
        json!({"name": "b", "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}}}),
    );
    let d = compare(std::slice::from_ref(&a), std::slice::from_ref(&b));
    assert_eq!(d.changes.len(), 2, "{d:?}");
    assert_eq!(
        (d.changes[0].tool.as_str(), d.changes[0].severity),
        ("a", Breaking)
    );
    assert!(
        d.changes[0].what.contains("removed"),
        "{}",
        d.changes[0].what
    );
    assert_eq!(
        (d.changes[1].tool.as_str(), d.changes[1].severity),
        ("b", Compatible)
    );
    assert_eq!(d.breaking().len(), 1);
}

#[test]
fn removal_plus_addition_with_the_same_input_schema_is_a_rename() {
    let schema = obj(json!({"q": {"type": "string"}}), &["q"]);
    let old = tool(json!({"name": "search", "inputSchema": schema}));
    let new = tool(json!({"name": "find", "inputSchema": schema}));
    let d = compare(&[old], &[new]);
    assert_eq!(d.changes.len(), 1, "{d:?}");
    let c = &d.changes[0];
    assert_eq!((c.tool.as_str(), c.severity), ("search", Breaking));
    assert!(c.what.contains("renamed to `find`"), "{}", c.what);
}

#[test]
fn new_required_input_is_breaking_optional_is_not() {
    let a = obj(json!({"q": {"type": "string"}}), &["q"]);
    let b = obj(
        json!({"q": {"type": "string"}, "limit": {"type": "integer"}}),
        &["q", "limit"],
    );
    assert_eq!(
        input_change(a.clone(), b),
        one(Breaking, "inputSchema.properties.limit")
    );
    let c = obj(
        json!({"q": {"type": "string"}, "limit": {"type": "integer"}}),
        &["q"],
    );
    assert_eq!(
        input_change(a, c),
        one(Compatible, "inputSchema.properties.limit")
    );
}

#[test]
fn an_input_made_required_is_breaking_and_made_optional_is_not() {
    let opt = obj(json!({"q": {"type": "string"}}), &[]);
    let req = obj(json!({"q": {"type": "string"}}), &["q"]);
    assert_eq!(
        input_change(opt.clone(), req.clone()),
        one(Breaking, "inputSchema.required")
    );
    assert_eq!(
        input_change(req, opt),
        one(Compatible, "inputSchema.required")
    );
}

#[test]
fn removed_input_property_depends_on_additional_properties_and_requiredness() {
    let two = |req: &[&str]| {
        obj(
            json!({"q": {"type": "string"}, "x": {"type": "string"}}),
            req,
        )
    };
    // Optional, extra inputs allowed: ignored, a warning.
    assert_eq!(
        input_change(two(&[]), obj(json!({"q": {"type": "string"}}), &[])),
        one(Warning, "inputSchema.properties.x")
    );
    // Required before: breaking.
    assert_eq!(
        input_change(two(&["x"]), obj(json!({"q": {"type": "string"}}), &[])),
        one(Breaking, "inputSchema.properties.x")
    );
    // Closed schema on both sides: calls sending it are rejected.
    let mut closed_old = two(&[]);
    closed_old["additionalProperties"] = json!(false);
    let mut closed_new = obj(json!({"q": {"type": "string"}}), &[]);
    closed_new["additionalProperties"] = json!(false);
    assert_eq!(
        input_change(closed_old, closed_new),
        one(Breaking, "inputSchema.properties.x")
    );
}

#[test]
fn closing_additional_properties_is_breaking_opening_is_not() {
    let open = obj(json!({"q": {"type": "string"}}), &[]);
    let mut closed = open.clone();
    closed["additionalProperties"] = json!(false);
    assert_eq!(
        input_change(open.clone(), closed.clone()),
        one(Breaking, "inputSchema.additionalProperties")
    );
    assert_eq!(
        input_change(closed, open),
        one(Compatible, "inputSchema.additionalProperties")
    );
}

#[test]
fn type_narrowing_is_breaking_and_widening_is_not() {
    let p = |t: Value| obj(json!({"n": {"type": t}}), &[]);
    let path = "inputSchema.properties.n.type";
    assert_eq!(
        input_change(p(json!("number")), p(json!("integer"))),
        one(Breaking, path)
    );
    assert_eq!(
        input_change(p(json!("integer")), p(json!("number"))),
        one(Compatible, path)
    );
    assert_eq!(
        input_change(p(json!(["string", "null"])), p(json!("string"))),
        one(Breaking, path)
    );
    assert_eq!(
        input_change(p(json!("string")), p(json!(["string", "null"]))),
        one(Compatible, path)
    );
    assert_eq!(
        input_change(p(json!("string")), p(json!("integer"))),
        one(Breaking, path)
    );
    // No type at all accepts anything.
    assert_eq!(
        input_change(obj(json!({"n": {}}), &[]), p(json!("string"))),
        one(Breaking, path)
    );
    assert_eq!(
        input_change(p(json!("string")), obj(json!({"n": {}}), &[])),
        one(Compatible, path)
    );
}

#[test]
fn type_change_message_says_what_changed() {
    let d = compare(
        &[with_input(obj(json!({"n": {"type": "number"}}), &[]))],
        &[with_input(obj(json!({"n": {"type": "integer"}}), &[]))],
    );
    assert_eq!(
        d.changes[0].what,
        "type changed from number to integer (narrowed): calls valid before may be rejected"
    );
}

#[test]
fn tighter_bounds_are_breaking_looser_are_not() {
    let s = |extra: Value| {
        let mut p = json!({"type": "string"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        obj(json!({"s": p}), &[])
    };
    let base = "inputSchema.properties.s";
    assert_eq!(
        input_change(s(json!({"maxLength": 100})), s(json!({"maxLength": 10}))),
        one(Breaking, &format!("{base}.maxLength"))
    );
    assert_eq!(
        input_change(s(json!({"maxLength": 10})), s(json!({"maxLength": 100}))),
        one(Compatible, &format!("{base}.maxLength"))
    );
    assert_eq!(
        input_change(s(json!({"minimum": 1})), s(json!({"minimum": 5}))),
        one(Breaking, &format!("{base}.minimum"))
    );
    assert_eq!(
        input_change(s(json!({"minimum": 5})), s(json!({"minimum": 1}))),
        one(Compatible, &format!("{base}.minimum"))
    );
    assert_eq!(
        input_change(s(json!({})), s(json!({"maximum": 9}))),
        one(Breaking, &format!("{base}.maximum"))
    );
    assert_eq!(
        input_change(s(json!({"maximum": 9})), s(json!({}))),
        one(Compatible, &format!("{base}.maximum"))
    );
    assert_eq!(
        input_change(s(json!({})), s(json!({"pattern": "^[a-z]+$"}))),
        one(Breaking, &format!("{base}.pattern"))
    );
    assert_eq!(
        input_change(s(json!({"pattern": "^[a-z]+$"})), s(json!({}))),
        one(Compatible, &format!("{base}.pattern"))
    );
}

#[test]
fn enum_value_removed_is_breaking_added_is_not() {
    let e = |vals: Value| obj(json!({"mode": {"type": "string", "enum": vals}}), &[]);
    let path = "inputSchema.properties.mode.enum";
    assert_eq!(
        input_change(e(json!(["a", "b"])), e(json!(["a"]))),
        one(Breaking, path)
    );
    assert_eq!(
        input_change(e(json!(["a"])), e(json!(["a", "b"]))),
        one(Compatible, path)
    );
    let d = compare(
        &[with_input(e(json!(["a", "b"])))],
        &[with_input(e(json!(["a"])))],
    );
    assert!(d.changes[0].what.contains("\"b\""), "{}", d.changes[0].what);
    // A new enum restricts; dropping one widens.
    let free = obj(json!({"mode": {"type": "string"}}), &[]);
    assert_eq!(
        input_change(free.clone(), e(json!(["a"]))),
        one(Breaking, path)
    );
    assert_eq!(input_change(e(json!(["a"])), free), one(Compatible, path));
}

#[test]
fn nested_objects_and_array_items_are_compared() {
    let nested = |t: &str, req: &[&str]| {
        obj(
            json!({"filter": obj(json!({"limit": {"type": t}, "tags": {"type": "array", "items": obj(json!({"k": {"type": "string"}}), req)}}), &[])}),
            &[],
        )
    };
    assert_eq!(
        input_change(nested("number", &[]), nested("integer", &[])),
        one(
            Breaking,
            "inputSchema.properties.filter.properties.limit.type"
        )
    );
    assert_eq!(
        input_change(nested("number", &[]), nested("number", &["k"])),
        one(
            Breaking,
            "inputSchema.properties.filter.properties.tags.items.required"
        )
    );
}

#[test]
fn description_and_title_changes_are_compatible() {
    let a = tool(
        json!({"name": "t", "title": "T", "description": "old", "inputSchema": {"type": "object"}}),
    );
    let b = tool(
        json!({"name": "t", "title": "T2", "description": "new", "inputSchema": {"type": "object"}}),
    );
    let d = compare(&[a], &[b]);
    let got: Vec<(Severity, &str)> = d
        .changes
        .iter()
        .map(|c| (c.severity, c.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(Compatible, "description"), (Compatible, "title")]
    );
}

#[test]
fn output_schema_removed_or_promising_less_is_breaking() {
    let out = |props: Value, req: &[&str]| {
        tool(
            json!({"name": "t", "inputSchema": {"type": "object"}, "outputSchema": obj(props, req)}),
        )
    };
    let bare = tool(json!({"name": "t", "inputSchema": {"type": "object"}}));
    let full = out(
        json!({"id": {"type": "string"}, "n": {"type": "integer"}}),
        &["id", "n"],
    );
    let sev_paths = |d: ToolDiff| -> Vec<(Severity, String)> {
        d.changes
            .into_iter()
            .map(|c| (c.severity, c.path))
            .collect()
    };
    assert_eq!(
        sev_paths(compare(
            std::slice::from_ref(&full),
            std::slice::from_ref(&bare)
        )),
        one(Breaking, "outputSchema")
    );
    assert_eq!(
        sev_paths(compare(
            std::slice::from_ref(&bare),
            std::slice::from_ref(&full)
        )),
        one(Compatible, "outputSchema")
    );
    // A property removed.
    assert_eq!(
        sev_paths(compare(
            std::slice::from_ref(&full),
            &[out(json!({"id": {"type": "string"}}), &["id"])]
        )),
        one(Breaking, "outputSchema.properties.n")
    );
    // No longer required.
    assert_eq!(
        sev_paths(compare(
            std::slice::from_ref(&full),
            &[out(
                json!({"id": {"type": "string"}, "n": {"type": "integer"}}),
                &["id"]
            )]
        )),
        one(Breaking, "outputSchema.required")
    );
    // A type the old schema did not allow; narrowing is fine for readers.
    assert_eq!(
        sev_paths(compare(
            std::slice::from_ref(&full),
            &[out(
                json!({"id": {"type": "string"}, "n": {"type": "number"}}),
                &["id", "n"]
            )]
        )),
        one(Breaking, "outputSchema.properties.n.type")
    );
    let wide = out(
        json!({"id": {"type": ["string", "null"]}, "n": {"type": "integer"}}),
        &["id", "n"],
    );
    assert_eq!(
        sev_paths(compare(&[wide], std::slice::from_ref(&full))),
        one(Compatible, "outputSchema.properties.id.type")
    );
    // A property added.
    assert_eq!(
        sev_paths(compare(
            std::slice::from_ref(&full),
            &[out(
                json!({"id": {"type": "string"}, "n": {"type": "integer"}, "extra": {"type": "string"}}),
                &["id", "n"]
            )]
        )),
        one(Compatible, "outputSchema.properties.extra")
    );
}

#[test]
fn annotations_change_is_compatible_and_becoming_destructive_warns() {
    let ann =
        |a: Value| tool(json!({"name": "t", "inputSchema": {"type": "object"}, "annotations": a}));
    let d = compare(
        &[ann(json!({"readOnlyHint": true}))],
        &[ann(json!({"readOnlyHint": true, "idempotentHint": true}))],
    );
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].severity, Compatible);

    let d = compare(
        &[ann(json!({"destructiveHint": false}))],
        &[ann(json!({"destructiveHint": true}))],
    );
    let got: Vec<(Severity, &str)> = d
        .changes
        .iter()
        .map(|c| (c.severity, c.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Warning, "annotations.destructiveHint"),
            (Compatible, "annotations")
        ]
    );
    assert!(!d.has_breaking());

    // Losing readOnlyHint makes the spec's default destructiveHint: true apply.
    let d = compare(&[ann(json!({"readOnlyHint": true}))], &[ann(json!({}))]);
    assert!(d.changes.iter().any(|c| c.severity == Warning), "{d:?}");
    // Already destructive by default: no warning.
    let d = compare(&[ann(json!({}))], &[ann(json!({"destructiveHint": true}))]);
    assert!(d.changes.iter().all(|c| c.severity == Compatible), "{d:?}");
}

#[test]
fn composition_keywords_are_flagged_not_analysed() {
    let a = obj(
        json!({"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}),
        &[],
    );
    let b = obj(json!({"v": {"anyOf": [{"type": "string"}]}}), &[]);
    assert_eq!(
        input_change(a, b),
        one(Warning, "inputSchema.properties.v.anyOf")
    );
}

#[test]
fn diff_serializes_with_severity_words() {
    let d = compare(&[with_input(json!({"type": "object"}))], &[]);
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(
        v,
        json!({"changes": [{"tool": "t", "path": "", "severity": "breaking", "what": "tool removed: clients calling it fail"}]})
    );
}

#[test]
fn breaking_changes_sort_first() {
    let old = vec![
        tool(json!({"name": "a", "description": "x", "inputSchema": {"type": "object"}})),
        tool(
            json!({"name": "z", "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}}}),
        ),
    ];
    let new = vec![tool(
        json!({"name": "a", "description": "y", "inputSchema": {"type": "object"}}),
    )];
    let d = compare(&old, &new);
    assert_eq!(d.changes[0].severity, Breaking);
    assert_eq!(d.changes[0].tool, "z");
    assert_eq!(d.changes[1].severity, Compatible);
}
