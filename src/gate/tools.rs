//! MCP tools as `tools/list` returns them, and the compatibility of a new
//! tool list with an old one: which changes break clients written against the
//! old list and which do not.
//!
//! The rules, from the client's side:
//!
//! * **Input schemas** describe what clients send. A change is breaking when
//!   the new schema may reject a call the old one accepted: a tool removed or
//!   renamed, a new required input, an input made required, a type narrowed
//!   (`number`→`integer`, `["string","null"]`→`string`), a tighter bound
//!   (`minimum`, `maxLength`, …) or a new `pattern`, an enum value removed,
//!   `additionalProperties` turned off.
//! * **A removed input property** is breaking when calls that send it are
//!   now rejected (`additionalProperties: false` in the new schema) or when it
//!   was required (every existing client sends it, and what it meant is gone);
//!   otherwise it is a warning: callers that send it have it ignored.
//! * **Output schemas** describe what clients get back. A change is breaking
//!   when the new schema promises less: the output schema removed, a property
//!   removed or no longer required, a type the old schema did not allow.
//! * Everything else is compatible: tools added, optional inputs added,
//!   titles and descriptions, enum values added, types widened, bounds
//!   loosened, annotations. A tool that becomes destructive (by
//!   `destructiveHint`, or by losing `readOnlyHint` with the spec's default of
//!   `destructiveHint: true`) is a warning.
//! * Composition keywords (`anyOf`, `oneOf`, `allOf`, `not`, `$ref`) are not
//!   analysed; a change there is a warning asking for a look.
//!
//! A removed tool and an added tool with the same input schema are reported as
//! one rename.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One tool of a `tools/list` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

/// How much a change matters to existing clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Existing clients keep working.
    Compatible,
    /// Existing clients keep working, but someone should look.
    Warning,
    /// Existing clients may fail.
    Breaking,
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The tool (the old name for a rename).
    pub tool: String,
    /// Where in the tool, e.g. `inputSchema.properties.limit.type`; empty for
    /// the tool as a whole.
    pub path: String,
    pub severity: Severity,
    /// What changed, in words.
    pub what: String,
}

/// Every change between two tool lists, breaking ones first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDiff {
    pub changes: Vec<Change>,
}

impl ToolDiff {
    /// The changes that may break existing clients.
    pub fn breaking(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.severity == Severity::Breaking)
            .collect()
    }

    pub fn has_breaking(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.severity == Severity::Breaking)
    }
}

/// Classifies every change from `old` to `new`.
pub fn compare(old: &[Tool], new: &[Tool]) -> ToolDiff {
    let mut out = Diff::default();
    let removed: Vec<&Tool> = old
        .iter()
        .filter(|o| !new.iter().any(|n| n.name == o.name))
        .collect();
    let mut added: Vec<&Tool> = new
        .iter()
        .filter(|n| !old.iter().any(|o| o.name == n.name))
        .collect();
    for r in removed {
        match added.iter().position(|a| a.input_schema == r.input_schema) {
            Some(i) => {
                let a = added.remove(i);
                out.tool = r.name.clone();
                out.push(
                    "",
                    Severity::Breaking,
                    format!(
                        "tool renamed to `{}` (same input schema): clients calling `{}` fail",
                        a.name, r.name
                    ),
                );
            }
            None => {
                out.tool = r.name.clone();
                out.push(
                    "",
                    Severity::Breaking,
                    "tool removed: clients calling it fail".into(),
                );
            }
        }
    }
    for a in added {
        out.tool = a.name.clone();
        out.push("", Severity::Compatible, "tool added".into());
    }
    for o in old {
        if let Some(n) = new.iter().find(|n| n.name == o.name) {
            out.tool = o.name.clone();
            tool_changes(&mut out, o, n);
        }
    }
    let mut changes = out.changes;
    // Breaking first, then by tool and path; stable for equal keys.
    changes.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.tool.cmp(&b.tool))
            .then_with(|| a.path.cmp(&b.path))
    });
    ToolDiff { changes }
}

#[derive(Default)]
struct Diff {
    tool: String,
    changes: Vec<Change>,
}

impl Diff {
    fn push(&mut self, path: &str, severity: Severity, what: String) {
        self.changes.push(Change {
            tool: self.tool.clone(),
            path: path.to_string(),
            severity,
            what,
        });
    }
}

fn tool_changes(out: &mut Diff, o: &Tool, n: &Tool) {
    if o.title != n.title {
        out.push("title", Severity::Compatible, "title changed".into());
    }
    if o.description != n.description {
        out.push(
            "description",
            Severity::Compatible,
            "description changed".into(),
        );
    }
    schema(
        out,
        Side::Input,
        "inputSchema",
        &o.input_schema,
        &n.input_schema,
    );
    match (&o.output_schema, &n.output_schema) {
        (Some(_), None) => out.push(
            "outputSchema",
            Severity::Breaking,
            "output schema removed: clients reading structured results lose them".into(),
        ),
        (None, Some(_)) => out.push(
            "outputSchema",
            Severity::Compatible,
            "output schema added".into(),
        ),
        (Some(a), Some(b)) => schema(out, Side::Output, "outputSchema", a, b),
        (None, None) => {}
    }
    annotations(out, o.annotations.as_ref(), n.annotations.as_ref());
}

fn annotations(out: &mut Diff, o: Option<&Value>, n: Option<&Value>) {
    if o == n {
        return;
    }
    out.push(
        "annotations",
        Severity::Compatible,
        "annotations changed".into(),
    );
    if !destructive(o) && destructive(n) {
        out.push(
            "annotations.destructiveHint",
            Severity::Warning,
            "the tool now says it may be destructive (destructiveHint true): clients may ask for confirmation or refuse it".into(),
        );
    }
}

/// Whether annotations declare a destructive tool, with the spec's defaults
/// (`readOnlyHint: false`, `destructiveHint: true`).
fn destructive(a: Option<&Value>) -> bool {
    let flag = |k: &str| a.and_then(|a| a.get(k)).and_then(Value::as_bool);
    !flag("readOnlyHint").unwrap_or(false) && flag("destructiveHint").unwrap_or(true)
}

/// Whether a schema describes what clients send or what they get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Input,
    Output,
}

fn schema(out: &mut Diff, side: Side, path: &str, o: &Value, n: &Value) {
    if o == n {
        return;
    }
    let empty = Map::new();
    let om = o.as_object().unwrap_or(&empty);
    let nm = n.as_object().unwrap_or(&empty);
    types(out, side, path, om, nm);
    enums(out, side, path, om, nm);
    if side == Side::Input {
        bounds(out, path, om, nm);
    }
    properties(out, side, path, om, nm);
    match (om.get("items"), nm.get("items")) {
        (Some(a), Some(b)) => schema(out, side, &format!("{path}.items"), a, b),
        (None, Some(_)) if side == Side::Input => out.push(
            &format!("{path}.items"),
            Severity::Breaking,
            "array items now constrained".into(),
        ),
        (Some(_), None) if side == Side::Output => out.push(
            &format!("{path}.items"),
            Severity::Breaking,
            "array items no longer described".into(),
        ),
        _ => {}
    }
    for k in ["anyOf", "oneOf", "allOf", "not", "$ref"] {
        if om.get(k) != nm.get(k) {
            out.push(
                &format!("{path}.{k}"),
                Severity::Warning,
                format!("`{k}` changed; mcpctl does not analyse it: check it by hand"),
            );
        }
    }
}

/// The JSON types a schema allows (`None`: any).
fn type_set(m: &Map<String, Value>) -> Option<BTreeSet<String>> {
    match m.get("type")? {
        Value::String(s) => Some([s.clone()].into()),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect(),
        ),
        _ => None,
    }
}

/// Whether every value of type `t` is allowed by `set` (`number` covers `integer`).
fn covered(t: &str, set: &BTreeSet<String>) -> bool {
    set.contains(t) || (t == "integer" && set.contains("number"))
}

fn show(set: &Option<BTreeSet<String>>) -> String {
    match set {
        None => "any".into(),
        Some(s) if s.len() == 1 => s.iter().next().cloned().unwrap_or_default(),
        Some(s) => format!("[{}]", s.iter().cloned().collect::<Vec<_>>().join(", ")),
    }
}

/// Whether schema types `a` allow every value that types `b` allow.
fn allows_all(a: &Option<BTreeSet<String>>, b: &Option<BTreeSet<String>>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => b.iter().all(|t| covered(t, a)),
    }
}

fn types(out: &mut Diff, side: Side, path: &str, o: &Map<String, Value>, n: &Map<String, Value>) {
    let (ot, nt) = (type_set(o), type_set(n));
    if ot == nt {
        return;
    }
    let p = format!("{path}.type");
    let what = format!("type changed from {} to {}", show(&ot), show(&nt));
    // Inputs: the new schema must accept what the old one did. Outputs: the
    // old schema must describe what the new one returns.
    let (wider, narrower) = match side {
        Side::Input => (allows_all(&nt, &ot), allows_all(&ot, &nt)),
        Side::Output => (allows_all(&ot, &nt), allows_all(&nt, &ot)),
    };
    match (side, wider) {
        (Side::Input, true) => out.push(&p, Severity::Compatible, format!("{what} (widened)")),
        (Side::Input, false) => out.push(
            &p,
            Severity::Breaking,
            format!(
                "{what} ({}): calls valid before may be rejected",
                if narrower { "narrowed" } else { "incompatible" }
            ),
        ),
        (Side::Output, true) => out.push(&p, Severity::Compatible, format!("{what} (narrowed)")),
        (Side::Output, false) => out.push(
            &p,
            Severity::Breaking,
            format!("{what}: clients may get values the old schema did not allow"),
        ),
    }
}

fn enums(out: &mut Diff, side: Side, path: &str, o: &Map<String, Value>, n: &Map<String, Value>) {
    let p = format!("{path}.enum");
    match (
        o.get("enum").and_then(Value::as_array),
        n.get("enum").and_then(Value::as_array),
    ) {
        (Some(a), Some(b)) => {
            let removed: Vec<String> = a
                .iter()
                .filter(|v| !b.contains(v))
                .map(Value::to_string)
                .collect();
            let added: Vec<String> = b
                .iter()
                .filter(|v| !a.contains(v))
                .map(Value::to_string)
                .collect();
            if !removed.is_empty() {
                let (sev, why) = match side {
                    Side::Input => (Severity::Breaking, "calls using them are rejected"),
                    Side::Output => (Severity::Compatible, "no longer returned"),
                };
                out.push(
                    &p,
                    sev,
                    format!("enum values removed: {} ({why})", removed.join(", ")),
                );
            }
            if !added.is_empty() {
                let (sev, why) = match side {
                    Side::Input => (Severity::Compatible, "accepted in addition"),
                    Side::Output => (Severity::Warning, "clients may not know them"),
                };
                out.push(
                    &p,
                    sev,
                    format!("enum values added: {} ({why})", added.join(", ")),
                );
            }
        }
        (None, Some(_)) if side == Side::Input => out.push(
            &p,
            Severity::Breaking,
            "values now restricted to an enum: calls valid before may be rejected".into(),
        ),
        (None, Some(_)) => out.push(
            &p,
            Severity::Compatible,
            "values now restricted to an enum".into(),
        ),
        (Some(_), None) if side == Side::Input => {
            out.push(&p, Severity::Compatible, "enum restriction removed".into())
        }
        (Some(_), None) => out.push(
            &p,
            Severity::Warning,
            "enum restriction removed: clients may get values they do not know".into(),
        ),
        (None, None) => {}
    }
}

/// Lower bounds (a larger new value is tighter) and upper bounds (a smaller one is).
const LOWER: &[&str] = &[
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
];
const UPPER: &[&str] = &[
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
];

fn bounds(out: &mut Diff, path: &str, o: &Map<String, Value>, n: &Map<String, Value>) {
    for (keys, lower) in [(LOWER, true), (UPPER, false)] {
        for k in keys {
            let p = format!("{path}.{k}");
            match (
                o.get(*k).and_then(Value::as_f64),
                n.get(*k).and_then(Value::as_f64),
            ) {
                (Some(a), Some(b)) if a != b => {
                    let tighter = if lower { b > a } else { b < a };
                    if tighter {
                        out.push(
                            &p,
                            Severity::Breaking,
                            format!(
                                "{k} tightened from {a} to {b}: calls valid before may be rejected"
                            ),
                        );
                    } else {
                        out.push(
                            &p,
                            Severity::Compatible,
                            format!("{k} loosened from {a} to {b}"),
                        );
                    }
                }
                (None, Some(b)) => out.push(
                    &p,
                    Severity::Breaking,
                    format!("{k} {b} added: calls valid before may be rejected"),
                ),
                (Some(a), None) => out.push(&p, Severity::Compatible, format!("{k} {a} removed")),
                _ => {}
            }
        }
    }
    let p = format!("{path}.pattern");
    match (o.get("pattern"), n.get("pattern")) {
        (a, Some(b)) if a != Some(b) => out.push(
            &p,
            Severity::Breaking,
            format!(
                "pattern {} {b}: calls valid before may be rejected",
                if a.is_some() { "changed to" } else { "added:" }
            ),
        ),
        (Some(_), None) => out.push(&p, Severity::Compatible, "pattern removed".into()),
        _ => {}
    }
}

fn required(m: &Map<String, Value>) -> BTreeSet<String> {
    m.get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn closed(m: &Map<String, Value>) -> bool {
    m.get("additionalProperties") == Some(&Value::Bool(false))
}

fn properties(
    out: &mut Diff,
    side: Side,
    path: &str,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
) {
    let empty = Map::new();
    let op = o
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let np = n
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let (oreq, nreq) = (required(o), required(n));
    for (name, os) in op {
        let p = format!("{path}.properties.{name}");
        match (np.get(name), side) {
            (Some(ns), _) => schema(out, side, &p, os, ns),
            (None, Side::Input) if closed(n) => out.push(
                &p,
                Severity::Breaking,
                format!("input `{name}` removed and additionalProperties is false: calls sending it are rejected"),
            ),
            (None, Side::Input) if oreq.contains(name) => out.push(
                &p,
                Severity::Breaking,
                format!("required input `{name}` removed: every existing call sends it and its meaning is gone"),
            ),
            (None, Side::Input) => out.push(
                &p,
                Severity::Warning,
                format!("optional input `{name}` removed: calls sending it have it ignored"),
            ),
            (None, Side::Output) => out.push(
                &p,
                Severity::Breaking,
                format!("output `{name}` removed: clients reading it break"),
            ),
        }
    }
    for name in np.keys().filter(|k| !op.contains_key(*k)) {
        let p = format!("{path}.properties.{name}");
        match (side, nreq.contains(name)) {
            (Side::Input, true) => out.push(
                &p,
                Severity::Breaking,
                format!("new required input `{name}`: existing calls lack it"),
            ),
            (Side::Input, false) => out.push(
                &p,
                Severity::Compatible,
                format!("optional input `{name}` added"),
            ),
            (Side::Output, _) => {
                out.push(&p, Severity::Compatible, format!("output `{name}` added"))
            }
        }
    }
    // Properties present in both whose requiredness changed.
    for name in op.keys().filter(|k| np.contains_key(*k)) {
        let p = format!("{path}.required");
        match (side, oreq.contains(name), nreq.contains(name)) {
            (Side::Input, false, true) => out.push(
                &p,
                Severity::Breaking,
                format!("input `{name}` is now required: calls without it are rejected"),
            ),
            (Side::Input, true, false) => out.push(
                &p,
                Severity::Compatible,
                format!("input `{name}` is now optional"),
            ),
            (Side::Output, true, false) => out.push(
                &p,
                Severity::Breaking,
                format!("output `{name}` is no longer required: clients may find it missing"),
            ),
            (Side::Output, false, true) => out.push(
                &p,
                Severity::Compatible,
                format!("output `{name}` is now always present"),
            ),
            _ => {}
        }
    }
    if side == Side::Input && closed(n) != closed(o) {
        let p = format!("{path}.additionalProperties");
        if closed(n) {
            out.push(
                &p,
                Severity::Breaking,
                "additionalProperties is now false: calls with extra inputs are rejected".into(),
            );
        } else {
            out.push(
                &p,
                Severity::Compatible,
                "additional inputs are now allowed".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests;
