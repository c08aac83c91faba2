//! Validation of objects against CRD OpenAPI v3 structural schemas, as the
//! API server does it for custom resources.
//!
//! Covered: `type`, `nullable`, `required`, `enum`, `properties` with unknown
//! fields reported (the API server prunes them silently, which hides a
//! misspelt field; here they are errors unless the schema sets
//! `x-kubernetes-preserve-unknown-fields`), `additionalProperties`, `items`,
//! `minimum`/`maximum` (and their exclusive forms), `minLength`/`maxLength`,
//! `pattern`, `minItems`/`maxItems`, `minProperties`/`maxProperties`,
//! `format: int32|int64`, `x-kubernetes-int-or-string`,
//! `x-kubernetes-embedded-resource`, and the value validations `anyOf`,
//! `oneOf`, `allOf` and `not` (which structural schemas use to express
//! "exactly one of these fields"). Not covered: CEL rules
//! (`x-kubernetes-validations`), list types and map keys, defaults, and the
//! metadata of the root object (the API server checks it as ObjectMeta, not
//! through the schema).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One problem: where in the object (`.spec.http[0].route`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "."
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// A CustomResourceDefinition, reduced to what tests need.
#[derive(Debug, Clone)]
pub struct Crd {
    /// `<plural>.<group>`.
    pub name: String,
    pub group: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub list_kind: String,
    pub short_names: Vec<String>,
    /// `Namespaced` or `Cluster`.
    pub scope: String,
    pub versions: Vec<CrdVersion>,
    /// The file it was read from.
    pub file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct CrdVersion {
    pub name: String,
    pub served: bool,
    pub storage: bool,
    /// `schema.openAPIV3Schema`, or `Value::Null` when the version has none.
    pub schema: Value,
}

impl Crd {
    /// The OpenAPI v3 schema of a version (`v1`, `v1beta1`).
    pub fn schema_for(&self, version: &str) -> Option<&Value> {
        self.versions
            .iter()
            .find(|v| v.name == version)
            .map(|v| &v.schema)
            .filter(|s| !s.is_null())
    }

    /// The storage version's name.
    pub fn storage_version(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.storage)
            .map(|v| v.name.as_str())
    }

    /// Reads a CRD from its JSON value (an `apiextensions.k8s.io/v1` object).
    pub fn from_value(v: &Value, file: &Path) -> Result<Crd, String> {
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if v["kind"] != "CustomResourceDefinition" {
            return Err(format!(
                "{}: not a CustomResourceDefinition",
                file.display()
            ));
        }
        let versions = v
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{}: spec.versions missing", file.display()))?
            .iter()
            .map(|ver| CrdVersion {
                name: ver["name"].as_str().unwrap_or("").to_string(),
                served: ver["served"].as_bool().unwrap_or(false),
                storage: ver["storage"].as_bool().unwrap_or(false),
                schema: ver
                    .pointer("/schema/openAPIV3Schema")
                    .cloned()
                    .unwrap_or(Value::Null),
            })
            .collect();
        let short_names = v
            .pointer("/spec/names/shortNames")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Crd {
            name: s("/metadata/name"),
            group: s("/spec/group"),
            kind: s("/spec/names/kind"),
            plural: s("/spec/names/plural"),
            singular: s("/spec/names/singular"),
            list_kind: s("/spec/names/listKind"),
            short_names,
            scope: s("/spec/scope"),
            versions,
            file: file.to_path_buf(),
        })
    }
}

/// Every CRD in the `*.yaml`/`*.yml` files of `dir`, in file-name order.
/// Panics naming the file on an unreadable directory, a YAML error, or a
/// document that is not a CRD; use [`try_load_crds`] to handle errors.
pub fn load_crds(dir: impl AsRef<Path>) -> Vec<Crd> {
    try_load_crds(dir.as_ref()).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`load_crds`], returning the first error instead of panicking.
pub fn try_load_crds(dir: &Path) -> Result<Vec<Crd>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read CRD directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        for doc in docs.iter().filter(|d| !d.is_null()) {
            out.push(Crd::from_value(doc, &file)?);
        }
    }
    Ok(out)
}

/// Validates `obj` against an `openAPIV3Schema`; empty when valid.
pub fn validate(schema: &Value, obj: &Value) -> Vec<SchemaError> {
    let mut v = Validator { errors: Vec::new() };
    v.check(schema, obj, "", true, true);
    v.errors
}

struct Validator {
    errors: Vec<SchemaError>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

impl Validator {
    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(SchemaError {
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// `prune`: report fields the schema does not declare (false inside
    /// `anyOf`/`oneOf`/`allOf`/`not`, which constrain values but do not
    /// declare fields). `root`: the object itself, whose metadata the schema
    /// does not describe.
    fn check(&mut self, schema: &Value, v: &Value, path: &str, prune: bool, root: bool) {
        let Some(s) = schema.as_object() else { return };

        if v.is_null() {
            if !flag(schema, "nullable") && s.contains_key("type") {
                self.err(path, "null is not allowed here (the field is not nullable)");
            }
            return;
        }

        let int_or_string = flag(schema, "x-kubernetes-int-or-string");
        if int_or_string {
            if !matches!(type_name(v), "integer" | "string") {
                self.err(
                    path,
                    format!("expected an integer or a string, found {}", type_name(v)),
                );
                return;
            }
        } else if let Some(t) = s.get("type").and_then(Value::as_str) {
            let actual = type_name(v);
            let ok = match t {
                "number" => matches!(actual, "number" | "integer"),
                other => other == actual,
            };
            if !ok {
                self.err(path, format!("expected {t}, found {actual} {}", short(v)));
                return;
            }
        }

        if let Some(options) = s.get("enum").and_then(Value::as_array)
            && !options.contains(v)
        {
            let list: Vec<String> = options.iter().map(|o| o.to_string()).collect();
            self.err(
                path,
                format!("{} is not one of [{}]", short(v), list.join(", ")),
            );
        }

        match v {
            Value::Object(map) => self.check_object(s, schema, map, path, prune, root),
            Value::Array(items) => {
                if let Some(min) = s.get("minItems").and_then(Value::as_u64)
                    && (items.len() as u64) < min
                {
                    self.err(
                        path,
                        format!("{} items, fewer than minItems {min}", items.len()),
                    );
                }
                if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
                    && items.len() as u64 > max
                {
                    self.err(
                        path,
                        format!("{} items, more than maxItems {max}", items.len()),
                    );
                }
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{path}[{i}]"), prune, false);
                    }
                }
            }
            Value::String(text) => {
                let len = text.chars().count() as u64;
                if let Some(min) = s.get("minLength").and_then(Value::as_u64)
                    && len < min
                {
                    self.err(
                        path,
                        format!("{} is shorter than minLength {min}", short(v)),
                    );
                }
                if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
                    && len > max
                {
                    self.err(path, format!("{} is longer than maxLength {max}", short(v)));
                }
                if let Some(p) = s.get("pattern").and_then(Value::as_str) {
                    // Patterns are RE2; the few Rust's regex cannot compile are skipped.
                    if let Ok(re) = regex::Regex::new(p)
                        && !re.is_match(text)
                    {
                        self.err(path, format!("{} does not match pattern {p}", short(v)));
                    }
                }
            }
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
                    let excl = flag(schema, "exclusiveMinimum");
                    if x < min || (excl && x == min) {
                        self.err(path, format!("{n} is below the minimum {min}"));
                    }
                }
                if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
                    let excl = flag(schema, "exclusiveMaximum");
                    if x > max || (excl && x == max) {
                        self.err(path, format!("{n} is above the maximum {max}"));
                    }
                }
                match s.get("format").and_then(Value::as_str) {
                    Some("int32") if n.as_i64().is_some_and(|i| i32::try_from(i).is_err()) => {
                        self.err(path, format!("{n} does not fit format int32"));
                    }
                    Some("int64") if n.is_u64() && n.as_i64().is_none() => {
                        self.err(path, format!("{n} does not fit format int64"));
                    }
                    _ => {}
                }
            }
            _ => {}
        }

        self.check_junctors(s, v, path);
    }

    fn check_object(
        &mut self,
        s: &serde_json::Map<String, Value>,
        schema: &Value,
        map: &serde_json::Map<String, Value>,
        path: &str,
        prune: bool,
        root: bool,
    ) {
        let props = s.get("properties").and_then(Value::as_object);
        let embedded = flag(schema, "x-kubernetes-embedded-resource");
        let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");

        if let Some(required) = s.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(r) {
                    self.err(&format!("{path}.{r}"), "required field is missing");
                }
            }
        }
        if let Some(min) = s.get("minProperties").and_then(Value::as_u64)
            && (map.len() as u64) < min
        {
            self.err(
                path,
                format!("{} properties, fewer than minProperties {min}", map.len()),
            );
        }
        if let Some(max) = s.get("maxProperties").and_then(Value::as_u64)
            && map.len() as u64 > max
        {
            self.err(
                path,
                format!("{} properties, more than maxProperties {max}", map.len()),
            );
        }

        let additional = s.get("additionalProperties");
        for (key, value) in map {
            let p = format!("{path}.{key}");
            let implicit =
                (root || embedded) && matches!(key.as_str(), "apiVersion" | "kind" | "metadata");
            if let Some(sub) = props.and_then(|ps| ps.get(key)) {
                if implicit && key == "metadata" {
                    // ObjectMeta is validated by the API server itself.
                    if !value.is_object() {
                        self.err(&p, format!("expected object, found {}", type_name(value)));
                    }
                    continue;
                }
                self.check(sub, value, &p, prune, false);
            } else if let Some(add) = additional {
                match add {
                    Value::Bool(true) => {}
                    Value::Bool(false) => {
                        if prune && !implicit {
                            self.err(&p, "unknown field (no additional properties allowed)");
                        }
                    }
                    sub => self.check(sub, value, &p, prune, false),
                }
            } else if implicit {
                if key == "metadata" && !value.is_object() {
                    self.err(&p, format!("expected object, found {}", type_name(value)));
                }
            } else if prune && !preserve && (props.is_some() || schema.get("type").is_some()) {
                let known: Vec<&str> = props
                    .map(|ps| ps.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let hint = closest(key, &known)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                self.err(
                    &p,
                    format!("unknown field (the API server would drop it){hint}"),
                );
            }
        }
    }

    fn check_junctors(&mut self, s: &serde_json::Map<String, Value>, v: &Value, path: &str) {
        let passes = |sub: &Value| {
            let mut inner = Validator { errors: Vec::new() };
            inner.check(sub, v, path, false, false);
            inner.errors
        };
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                let errs = passes(sub);
                self.errors.extend(errs);
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            let results: Vec<Vec<SchemaError>> = any.iter().map(passes).collect();
            if !results.iter().any(Vec::is_empty) {
                let why: Vec<String> = results
                    .iter()
                    .filter_map(|r| r.first().map(|e| e.to_string()))
                    .collect();
                self.err(path, format!("matches none of anyOf: {}", why.join("; ")));
            }
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            let matching = one.iter().filter(|sub| passes(sub).is_empty()).count();
            if matching != 1 {
                self.err(
                    path,
                    format!(
                        "must match exactly one of oneOf ({} alternatives), matches {matching}",
                        one.len()
                    ),
                );
            }
        }
        if let Some(not) = s.get("not")
            && passes(not).is_empty()
        {
            self.err(path, format!("must not match {}", short(not)));
        }
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// The known field closest to a misspelt one, when close enough.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {
                    "type": "object",
                    "required": ["port"],
                    "properties": {
                        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "format": "int32"},
                        "mode": {"type": "string", "enum": ["a", "b"]},
                        "name": {"type": "string", "maxLength": 5, "minLength": 1, "pattern": "^[a-z]+$"},
                        "target": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "maybe": {"type": "string", "nullable": true},
                        "items": {"type": "array", "maxItems": 2, "items": {"type": "object", "properties": {"w": {"type": "number"}}}},
                        "match": {
                            "type": "object",
                            "properties": {"exact": {"type": "string"}, "prefix": {"type": "string"}},
                            "oneOf": [
                                {"not": {"anyOf": [{"required": ["exact"]}, {"required": ["prefix"]}]}},
                                {"required": ["exact"]},
                                {"required": ["prefix"]}
                            ]
                        }
                    }
                }
            }
        })
    }

    fn paths(obj: Value) -> Vec<String> {
        validate(&schema(), &obj)
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    #[test]
    fn valid_object_passes() {
        let obj = json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "labels": {"k": "v"}},
            "spec": {"port": 80, "mode": "a", "name": "abc", "target": "50%", "labels": {"x": "y"},
                     "free": {"anything": [1, 2]}, "maybe": null, "items": [{"w": 1.5}, {"w": 2}],
                     "match": {"exact": "/"}}
        });
        assert_eq!(validate(&schema(), &obj), vec![]);
        assert_eq!(
            paths(json!({"spec": {"port": 1, "target": 3, "match": {}}})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_rule_is_enforced() {
        assert_eq!(paths(json!({"spec": {}})), [".spec.port"]);
        assert_eq!(paths(json!({"spec": {"port": "80"}})), [".spec.port"]);
        assert_eq!(paths(json!({"spec": {"port": 0}})), [".spec.port"]);
        assert_eq!(paths(json!({"spec": {"port": 70000}})), [".spec.port"]);
        assert_eq!(paths(json!({"spec": {"port": 1.5}})), [".spec.port"]);
        assert_eq!(
            paths(json!({"spec": {"port": 1, "mode": "c"}})),
            [".spec.mode"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "name": "abcdef"}})),
            [".spec.name"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "name": ""}})),
            // Too short, and not matching the pattern either.
            [".spec.name", ".spec.name"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "name": "AB"}})),
            [".spec.name"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "target": true}})),
            [".spec.target"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "labels": {"a": 1}}})),
            [".spec.labels.a"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "mode": null}})),
            [".spec.mode"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "items": [{}, {}, {}]}})),
            [".spec.items"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "items": [{"w": "x"}]}})),
            [".spec.items[0].w"]
        );
        assert_eq!(
            paths(json!({"spec": {"port": 1, "match": {"exact": "a", "prefix": "b"}}})),
            [".spec.match"]
        );
    }

    #[test]
    fn unknown_fields_are_errors_with_a_hint() {
        let errs = validate(&schema(), &json!({"spec": {"port": 1, "prot": 2}}));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path, ".spec.prot");
        assert!(
            errs[0].message.contains("did you mean `port`"),
            "{}",
            errs[0].message
        );
        // Root apiVersion/kind/metadata are implicit even when undeclared.
        let bare = json!({"type": "object", "properties": {"spec": {"type": "object"}}});
        assert!(
            validate(
                &bare,
                &json!({"apiVersion": "a", "kind": "B", "metadata": {"name": "n"}})
            )
            .is_empty()
        );
        assert_eq!(
            validate(&bare, &json!({"spek": {}}))
                .into_iter()
                .map(|e| e.path)
                .collect::<Vec<_>>(),
            [".spek"]
        );
    }

    #[test]
    fn loads_the_shared_crds() {
        let dir = crate::bundled_crds_dir();
        let crds = load_crds(&dir);
        let mut kinds: Vec<&str> = crds.iter().map(|c| c.kind.as_str()).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "DestinationRule",
                "HTTPRoute",
                "PodMonitor",
                "PrometheusRule",
                "ServiceMonitor",
                "VirtualService"
            ]
        );
        let vs = crds.iter().find(|c| c.kind == "VirtualService").unwrap();
        assert_eq!(vs.group, "networking.istio.io");
        assert!(vs.schema_for("v1").is_some());
        assert!(vs.schema_for("v9").is_none());
        assert!(
            try_load_crds(Path::new("/nonexistent"))
                .unwrap_err()
                .contains("/nonexistent")
        );
    }
}
