//! Server-side apply and field ownership (`metadata.managedFields`).
//!
//! Semantics follow the Kubernetes documentation "Server-Side Apply": "Server-Side Apply helps
//! users and controllers manage their resources through declarative configuration ... the
//! server tracks a field manager for every field"; "a conflict is a special status error that
//! occurs when an Apply operation tries to change a field that another manager also claims to
//! manage"; "if the field has the same value, the manager becomes a shared owner"; with
//! `force=true` "the field will be set to the value it specifies and the managers that
//! previously owned it will be removed"; "if a field is removed from the manifest and no other
//! field manager owns it, the field is removed from the live object". Apply and Update are
//! distinct owners even with the same manager name (transcript 37).
//!
//! Field sets are kept in the FieldsV1 form: paths of `f:<field>`, `k:<json keys>` (items of
//! lists of type map), `v:<json value>` (items of sets), with `.` marking the node itself.

use crate::typed::{ListType, Ty, key_elem};
use crate::util::now_rfc3339;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub type Path = Vec<String>;
pub type FieldSet = BTreeSet<Path>;

/// Metadata fields the field manager never tracks.
const IGNORED_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// Which part of an object a write may touch, as the registry strategies reset fields:
/// main-resource writes of kinds with a status subresource ignore status; /status writes
/// ignore everything but status (and metadata).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scope {
    Main { has_status: bool },
    Status,
}

pub fn strip_for_tracking(v: &Value, scope: Scope) -> Value {
    let mut out = v.clone();
    if let Some(m) = out.as_object_mut() {
        m.shift_remove("apiVersion");
        m.shift_remove("kind");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in IGNORED_META {
                meta.remove(*k);
            }
            if meta.is_empty() {
                m.shift_remove("metadata");
            }
        }
        match scope {
            Scope::Main { has_status: true } => {
                m.shift_remove("status");
            }
            Scope::Main { has_status: false } => {}
            Scope::Status => m.retain(|k, _| k == "status" || k == "metadata"),
        }
    }
    out
}

fn key_json(item: &Value, keys: &[String], defaults: Option<&Map<String, Value>>) -> String {
    let mut m = Map::new();
    let mut ks: Vec<&String> = keys.iter().collect();
    ks.sort();
    for k in ks {
        let v = item
            .get(k)
            .cloned()
            .or_else(|| defaults.and_then(|d| d.get(k)).cloned())
            .unwrap_or(Value::Null);
        if !v.is_null() {
            m.insert(k.clone(), v);
        }
    }
    format!("k:{}", Value::Object(m))
}

fn item_elem(item: &Value, ty: Ty, index: usize) -> String {
    match ty.list_type() {
        ListType::Map if item.is_object() => key_json(item, &ty.map_keys(), ty.key_defaults()),
        ListType::Set => format!("v:{item}"),
        _ => format!("i:{index}"),
    }
}

fn is_granular_object(v: &Value, ty: Ty) -> bool {
    v.as_object().is_some_and(|m| !m.is_empty())
        && !ty.atomic_map()
        && ty.type_name() != Some("array")
}

fn is_granular_list(v: &Value, ty: Ty) -> bool {
    v.is_array() && ty.list_type() != ListType::Atomic
}

/// The set an Apply configuration claims: its leaves, and the items of keyed lists and sets.
pub fn apply_set(v: &Value, ty: Ty) -> FieldSet {
    let mut out = FieldSet::new();
    leaves(v, ty, &mut Vec::new(), &mut out);
    out
}

fn leaves(v: &Value, ty: Ty, prefix: &mut Path, out: &mut FieldSet) {
    if v.is_null() {
        return;
    }
    if is_granular_object(v, ty) {
        visit_fields(v, ty, prefix, out, leaves);
    } else if is_granular_list(v, ty) {
        visit_items(v, ty, prefix, out, leaves);
    } else if !prefix.is_empty() {
        out.insert(prefix.clone());
    }
}

/// A walk over a typed object that records paths in a field set.
type Visit = fn(&Value, Ty, &mut Path, &mut FieldSet);

/// Calls `visit` on each field of the object `v` (no-op for other values), with the
/// field's `f:` element pushed on `prefix`.
fn visit_fields(v: &Value, ty: Ty, prefix: &mut Path, out: &mut FieldSet, visit: Visit) {
    if let Some(m) = v.as_object() {
        for (k, c) in m {
            let ft = ty.field(k).unwrap_or_else(crate::typed::untyped);
            prefix.push(format!("f:{k}"));
            visit(c, ft, prefix, out);
            prefix.pop();
        }
    }
}

/// Records each item of the granular list `v` and, in a keyed list (`map`), calls
/// `visit` on the fields of each item.
fn visit_items(v: &Value, ty: Ty, prefix: &mut Path, out: &mut FieldSet, visit: Visit) {
    let it = ty.items();
    for (i, item) in v.as_array().expect("array").iter().enumerate() {
        prefix.push(item_elem(item, ty, i));
        out.insert(prefix.clone());
        if ty.list_type() == ListType::Map {
            visit_fields(item, it, prefix, out, visit);
        }
        prefix.pop();
    }
}

/// Non-pointer struct fields in the Go types: they exist (empty) even in a zero object, so an
/// Update never "adds" them and FieldsV1 shows no `.` for them (transcript 30: `f:spec`,
/// `f:strategy` without `.`, `f:rollingUpdate` with it).
const VALUE_STRUCTS: &[&str] = &[
    "containers",
    "metadata",
    "spec",
    "status",
    "template",
    "strategy",
    "resources",
    "roleRef",
    "updateStrategy",
];

/// Everything under a node that an Update added: every node, with `.` for maps and items.
/// Custom resources have no value structs: their `spec` gets a `.` when added (checked
/// against v1.37.2 by tests/e2e/differential.rs).
fn added(v: &Value, ty: Ty, prefix: &mut Path, out: &mut FieldSet) {
    if v.is_null() {
        return;
    }
    let last_is_value_struct = prefix
        .last()
        .map(|l| ty.is_go_type() && VALUE_STRUCTS.iter().any(|s| l == &format!("f:{s}")))
        .unwrap_or(true);
    if is_granular_object(v, ty) {
        if !prefix.is_empty() && (!last_is_value_struct || ty.field("__probe__").is_some()) {
            out.insert(prefix.clone());
        }
        visit_fields(v, ty, prefix, out, added);
    } else if is_granular_list(v, ty) {
        if !last_is_value_struct {
            out.insert(prefix.clone());
        }
        visit_items(v, ty, prefix, out, added);
    } else if !prefix.is_empty() {
        out.insert(prefix.clone());
    }
}

/// Fields an Update changed or added (what the field manager gives to the updater).
pub fn changed_set(old: &Value, new: &Value, ty: Ty) -> FieldSet {
    let mut out = FieldSet::new();
    changed(Some(old), new, ty, &mut Vec::new(), &mut out);
    out
}

fn changed(old: Option<&Value>, new: &Value, ty: Ty, prefix: &mut Path, out: &mut FieldSet) {
    let Some(old) = old else {
        added(new, ty, prefix, out);
        return;
    };
    if old == new {
        return;
    }
    if is_granular_object(new, ty) && old.is_object() {
        for (k, c) in new.as_object().expect("object") {
            let ft = ty.field(k).unwrap_or_else(crate::typed::untyped);
            prefix.push(format!("f:{k}"));
            changed(old.get(k), c, ft, prefix, out);
            prefix.pop();
        }
    } else if is_granular_list(new, ty) && old.is_array() {
        let it = ty.items();
        let olds = old.as_array().expect("array");
        for (i, item) in new.as_array().expect("array").iter().enumerate() {
            let e = item_elem(item, ty, i);
            let prev = olds
                .iter()
                .enumerate()
                .find(|(j, o)| item_elem(o, ty, *j) == e)
                .map(|(_, o)| o);
            prefix.push(e);
            match prev {
                None => {
                    out.insert(prefix.clone());
                    if ty.list_type() == ListType::Map {
                        visit_fields(item, it, prefix, out, added);
                    }
                }
                Some(p) if ty.list_type() == ListType::Map => {
                    if let Some(m) = item.as_object() {
                        for (k, c) in m {
                            let ft = it.field(k).unwrap_or_else(crate::typed::untyped);
                            prefix.push(format!("f:{k}"));
                            changed(p.get(k), c, ft, prefix, out);
                            prefix.pop();
                        }
                    }
                }
                Some(_) => {}
            }
            prefix.pop();
        }
    } else if !prefix.is_empty() {
        out.insert(prefix.clone());
    }
}

/// Looks a field-set path up in an object.
pub fn lookup<'a>(v: &'a Value, path: &[String], ty: Ty) -> Option<&'a Value> {
    let mut cur = v;
    let mut t = ty;
    for e in path {
        if let Some(f) = e.strip_prefix("f:") {
            cur = cur.as_object()?.get(f)?;
            t = t.field(f).unwrap_or_else(crate::typed::untyped);
        } else {
            let arr = cur.as_array()?;
            let (i, _) = arr
                .iter()
                .enumerate()
                .find(|(i, item)| &item_elem(item, t, *i) == e)?;
            cur = &arr[i];
            t = t.items();
        }
    }
    Some(cur)
}

fn remove_path(v: &mut Value, path: &[String], ty: Ty) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    let mut t = ty;
    for e in parents {
        if let Some(f) = e.strip_prefix("f:") {
            let Some(next) = cur.as_object_mut().and_then(|m| m.get_mut(f)) else {
                return;
            };
            cur = next;
            t = t.field(f).unwrap_or_else(crate::typed::untyped);
        } else {
            let Some(arr) = cur.as_array_mut() else {
                return;
            };
            let Some(i) = (0..arr.len()).find(|i| &item_elem(&arr[*i], t, *i) == e) else {
                return;
            };
            cur = &mut arr[i];
            t = t.items();
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.shift_remove(f);
        }
    } else if let Some(arr) = cur.as_array_mut()
        && let Some(i) = (0..arr.len()).find(|i| &item_elem(&arr[*i], t, *i) == last)
    {
        arr.remove(i);
    }
}

/// Merges an apply configuration into the live object: maps and structs field by field, keyed
/// lists item by item, sets by value; atomic lists, atomic maps and scalars are replaced.
pub fn merge(live: Option<&Value>, config: &Value, ty: Ty) -> Value {
    let Some(live) = live else {
        return config.clone();
    };
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if !ty.atomic_map() => {
            let mut out = l.clone();
            for (k, cv) in c {
                let ft = ty.field(k).unwrap_or_else(crate::typed::untyped);
                let merged = merge(l.get(k), cv, ft);
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) if ty.list_type() != ListType::Atomic => {
            let it = ty.items();
            let mut out = l.clone();
            for (ci, cv) in c.iter().enumerate() {
                let e = item_elem(cv, ty, ci);
                match (0..out.len()).find(|i| item_elem(&out[*i], ty, *i) == e) {
                    Some(i) => {
                        if ty.list_type() == ListType::Map {
                            out[i] = merge(Some(&out[i].clone()), cv, it);
                        }
                    }
                    None => out.push(cv.clone()),
                }
            }
            Value::Array(out)
        }
        _ => config.clone(),
    }
}

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: Option<String>,
    pub set: FieldSet,
}

impl Entry {
    fn same_owner(&self, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        m.insert("time".into(), json!(self.time));
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), set_to_fields_v1(&self.set));
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), json!(s));
        }
        Value::Object(m)
    }
}

#[derive(Default)]
struct Node {
    member: bool,
    children: BTreeMap<String, Node>,
}

pub fn set_to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Node::default();
    for p in set {
        let mut n = &mut root;
        for e in p {
            n = n.children.entry(e.clone()).or_default();
        }
        n.member = true;
    }
    fn render(n: &Node) -> Value {
        let mut m = Map::new();
        if n.member && !n.children.is_empty() {
            m.insert(".".into(), json!({}));
        }
        for (k, c) in &n.children {
            m.insert(k.clone(), render(c));
        }
        Value::Object(m)
    }
    render(&root)
}

pub fn fields_v1_to_set(v: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    fn walk(v: &Value, prefix: &mut Path, out: &mut FieldSet) {
        let Some(m) = v.as_object() else { return };
        for (k, c) in m {
            if k == "." {
                out.insert(prefix.clone());
                continue;
            }
            prefix.push(k.clone());
            if c.as_object().is_none_or(|o| o.is_empty()) {
                out.insert(prefix.clone());
            } else {
                walk(c, prefix, out);
            }
            prefix.pop();
        }
    }
    walk(v, &mut Vec::new(), &mut out);
    out
}

pub fn read_entries(obj: &Value) -> Vec<Entry> {
    let Some(arr) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    arr.iter()
        .filter_map(|e| {
            Some(Entry {
                manager: e.get("manager")?.as_str()?.to_string(),
                operation: e.get("operation")?.as_str()?.to_string(),
                api_version: e
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                time: e
                    .get("time")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                subresource: e
                    .get("subresource")
                    .and_then(Value::as_str)
                    .map(String::from),
                set: e.get("fieldsV1").map(fields_v1_to_set).unwrap_or_default(),
            })
        })
        .collect()
}

/// Entries are kept in the order the real server encodes them: Apply before Update, then by
/// time, manager and apiVersion.
pub fn write_entries(obj: &mut Value, entries: &[Entry]) {
    let mut sorted: Vec<&Entry> = entries.iter().filter(|e| !e.set.is_empty()).collect();
    sorted.sort_by(|a, b| {
        (&a.operation, &a.time, &a.manager, &a.api_version).cmp(&(
            &b.operation,
            &b.time,
            &b.manager,
            &b.api_version,
        ))
    });
    let arr: Vec<Value> = sorted.into_iter().map(Entry::to_json).collect();
    if obj.is_object() && obj.get("metadata").is_none() && !arr.is_empty() {
        obj["metadata"] = json!({});
    }
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if arr.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(arr));
        }
    }
}

fn has_prefix(p: &[String], prefix: &[String]) -> bool {
    p.len() >= prefix.len() && p[..prefix.len()] == *prefix
}

fn prune_missing(entries: &mut Vec<Entry>, obj: &Value, ty: Ty) {
    prune_missing_under(entries, obj, ty, None);
}

/// Drops owned paths that no longer exist; with `only`, just those under these top-level
/// fields (the ones a write changed), which keeps large objects cheap to update.
fn prune_missing_under(entries: &mut Vec<Entry>, obj: &Value, ty: Ty, only: Option<&[String]>) {
    for e in entries.iter_mut() {
        e.set.retain(|p| {
            if let (Some(only), Some(first)) = (only, p.first())
                && !only.contains(first)
            {
                return true;
            }
            lookup(obj, p, ty).is_some()
        });
    }
    entries.retain(|e| !e.set.is_empty());
}

/// Records an Update (create, PUT, merge/JSON/strategic patch) by `manager`: the changed fields
/// move to the manager's Update entry. Returns the new entries (written into `new`).
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    ty: Ty,
    manager: &str,
    api_version: &str,
    scope: Scope,
) {
    let subresource = if scope == Scope::Status {
        Some("status")
    } else {
        None
    };
    let mut entries = read_entries(old.unwrap_or(&Value::Null));
    let old_s = old
        .map(|o| strip_for_tracking(o, scope))
        .unwrap_or_else(|| json!({}));
    let new_s = strip_for_tracking(new, scope);
    let ch = changed_set(&old_s, &new_s, ty);
    if !ch.is_empty() {
        for e in entries.iter_mut() {
            if e.same_owner(manager, "Update", subresource) {
                continue;
            }
            e.set.retain(|p| !ch.iter().any(|c| has_prefix(p, c)));
        }
        match entries
            .iter_mut()
            .find(|e| e.same_owner(manager, "Update", subresource))
        {
            Some(e) => {
                e.set.extend(ch);
                e.time = now_rfc3339();
                e.api_version = api_version.to_string();
            }
            None => entries.push(Entry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.to_string(),
                time: now_rfc3339(),
                subresource: subresource.map(String::from),
                set: ch,
            }),
        }
    }
    let full = strip_for_tracking(new, Scope::Main { has_status: false });
    let old_full = old.map(|o| strip_for_tracking(o, Scope::Main { has_status: false }));
    let changed_top: Vec<String> = match (&old_full, &full) {
        (Some(Value::Object(o)), Value::Object(n)) => o
            .iter()
            .filter(|(k, v)| n.get(*k) != Some(*v))
            .map(|(k, _)| format!("f:{k}"))
            .collect(),
        _ => Vec::new(),
    };
    prune_missing_under(&mut entries, &full, ty, Some(&changed_top));
    write_entries(new, &entries);
}

/// A conflict found by an apply.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub owner: String,
    pub field: String,
}

pub fn human_path(p: &[String]) -> String {
    let mut s = String::new();
    for e in p {
        if let Some(f) = e.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = e.strip_prefix("k:") {
            let m: Value = serde_json::from_str(k).unwrap_or(Value::Null);
            let keys: Vec<String> = m
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            s.push_str(&key_elem(&m, &keys));
        } else if let Some(v) = e.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = e.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

/// The 409 message and causes of structured-merge-diff's conflict error (transcripts 18, 37).
pub fn conflict_error(conflicts: &[Conflict]) -> crate::status::ApiError {
    let n = conflicts.len();
    let mut by_owner: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in conflicts {
        by_owner.entry(&c.owner).or_default().push(&c.field);
    }
    let body = if n == 1 {
        format!(
            "conflict with {}: {}",
            conflicts[0].owner, conflicts[0].field
        )
    } else {
        by_owner
            .iter()
            .map(|(o, fs)| {
                if fs.len() == 1 {
                    format!("conflict with {o}: {}", fs[0])
                } else {
                    let lines: Vec<String> = fs.iter().map(|f| format!("- {f}")).collect();
                    format!("conflicts with {o}:\n{}", lines.join("\n"))
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let message = format!(
        "Apply failed with {n} conflict{}: {body}",
        if n == 1 { "" } else { "s" }
    );
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.owner), "field": c.field}))
        .collect();
    crate::status::ApiError::new(
        409,
        Some("Conflict"),
        &message,
        Some(json!({"causes": causes})),
    )
}

/// Result of an apply before defaulting/validation.
pub struct Applied {
    pub object: Value,
    pub entries: Vec<Entry>,
}

/// Server-side apply of `config` by `manager` onto `live` (None: create).
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    ty: Ty,
    manager: &str,
    api_version: &str,
    force: bool,
    scope: Scope,
) -> Result<Applied, crate::status::ApiError> {
    let subresource = if scope == Scope::Status {
        Some("status")
    } else {
        None
    };
    let cfg = strip_for_tracking(config, scope);
    let s = apply_set(&cfg, ty);
    let mut entries = live.map(read_entries).unwrap_or_default();
    let live_s = live.map(|l| strip_for_tracking(l, Scope::Main { has_status: false }));
    let merged_s = merge(live_s.as_ref(), &cfg, ty);

    // Conflicts: fields claimed by other owners whose value this apply would change.
    let mut conflicts = Vec::new();
    let mut taken: Vec<(usize, Path)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.same_owner(manager, "Apply", subresource) {
            continue;
        }
        for p in &s {
            if !e.set.contains(p) {
                continue;
            }
            let before = live_s.as_ref().and_then(|l| lookup(l, p, ty));
            let after = lookup(&merged_s, p, ty);
            if before != after {
                let owner = if e.operation == "Apply" {
                    format!("\"{}\"", e.manager)
                } else {
                    format!("\"{}\" using {}", e.manager, e.api_version)
                };
                conflicts.push(Conflict {
                    owner,
                    field: human_path(p),
                });
                taken.push((i, p.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&conflicts));
    }
    for (i, p) in taken {
        entries[i].set.remove(&p);
    }

    // Start from the full live object (metadata, status) and merge the configuration in.
    let mut object = merge(live, &scope_filter(config, scope), ty);
    if let (Scope::Main { has_status: true }, Some(l)) = (scope, live) {
        match l.get("status") {
            Some(st) => {
                object["status"] = st.clone();
            }
            None => {
                if let Some(m) = object.as_object_mut() {
                    m.shift_remove("status");
                }
            }
        }
    }

    // Fields this manager applied before and no longer does are removed, unless someone else
    // still owns them.
    let prev = entries
        .iter()
        .find(|e| e.same_owner(manager, "Apply", subresource))
        .map(|e| e.set.clone())
        .unwrap_or_default();
    let mut gone: Vec<&Path> = prev
        .iter()
        .filter(|p| !s.contains(*p) && !s.iter().any(|q| has_prefix(q, p)))
        .filter(|p| {
            !entries.iter().any(|e| {
                !e.same_owner(manager, "Apply", subresource)
                    && e.set.iter().any(|q| has_prefix(q, p))
            })
        })
        .collect();
    gone.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in gone {
        remove_path(&mut object, p, ty);
    }

    let changed = live
        .map(|l| strip_meta_noise(l) != strip_meta_noise(&object))
        .unwrap_or(true);
    match entries
        .iter_mut()
        .find(|e| e.same_owner(manager, "Apply", subresource))
    {
        Some(e) => {
            if changed || e.set != s {
                e.time = now_rfc3339();
                e.api_version = api_version.to_string();
            }
            e.set = s;
        }
        None => entries.insert(
            0,
            Entry {
                manager: manager.to_string(),
                operation: "Apply".into(),
                api_version: api_version.to_string(),
                time: now_rfc3339(),
                subresource: subresource.map(String::from),
                set: s,
            },
        ),
    }
    // Order like the real server: Apply entries first, in the order they were made.
    let full = strip_for_tracking(&object, Scope::Main { has_status: false });
    prune_missing(&mut entries, &full, ty);
    entries.sort_by_key(|e| if e.operation == "Apply" { 0 } else { 1 });
    Ok(Applied { object, entries })
}

/// The part of an apply configuration a write through this endpoint may set.
fn scope_filter(config: &Value, scope: Scope) -> Value {
    let mut out = config.clone();
    if let Some(m) = out.as_object_mut() {
        match scope {
            Scope::Main { has_status: true } => {
                m.shift_remove("status");
            }
            Scope::Main { has_status: false } => {}
            Scope::Status => {
                m.retain(|k, _| matches!(k.as_str(), "status" | "metadata" | "apiVersion" | "kind"))
            }
        }
    }
    out
}

fn strip_meta_noise(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy_ty() -> Ty<'static> {
        Ty::builtin("apps/v1", "Deployment").unwrap()
    }

    /// Server-side apply of a Deployment configuration to the main resource.
    fn apply_deployment(
        live: Option<&Value>,
        cfg: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Applied, crate::status::ApiError> {
        apply(
            live,
            cfg,
            deploy_ty(),
            manager,
            "apps/v1",
            force,
            Scope::Main { has_status: true },
        )
    }

    /// The Deployment `manager` created from `cfg`, its managedFields written.
    fn created_by(cfg: &Value, manager: &str) -> Value {
        let a = apply_deployment(None, cfg, manager, false).unwrap();
        let mut live = a.object;
        write_entries(&mut live, &a.entries);
        live
    }

    #[test]
    fn apply_set_matches_recorded_fields_v1() {
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "namespace": "rec", "labels": {"a": "1"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"a": "1"}},
              "template": {"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [
                {"name": "mcp", "image": "i", "ports": [{"name": "http", "containerPort": 8080}]}]}}}});
        let s = apply_set(
            &strip_for_tracking(&cfg, Scope::Main { has_status: true }),
            deploy_ty(),
        );
        let v = set_to_fields_v1(&s);
        assert_eq!(
            v,
            json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:replicas": {}, "f:selector": {},
              "f:template": {"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:containers": {
                "k:{\"name\":\"mcp\"}": {".": {}, "f:image": {}, "f:name": {},
                  "f:ports": {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}}}}}}}}})
        );
        assert_eq!(fields_v1_to_set(&v), s);
    }

    #[test]
    fn second_manager_conflicts_unless_forced() {
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"replicas": 3}});
        let live = created_by(&cfg, "mcpctl");
        let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"replicas": 5}});
        let err = apply_deployment(Some(&live), &other, "other", false)
            .err()
            .unwrap();
        assert_eq!(
            err.body["message"],
            "Apply failed with 1 conflict: conflict with \"mcpctl\": .spec.replicas"
        );
        let ok = apply_deployment(Some(&live), &other, "other", true).unwrap();
        assert_eq!(ok.object["spec"]["replicas"], 5);
        let mcpctl = ok.entries.iter().find(|e| e.manager == "mcpctl");
        assert!(
            mcpctl.is_none(),
            "mcpctl owned only replicas, its entry goes away"
        );
        // same value: shared ownership, no conflict
        let same = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"replicas": 3}});
        assert!(apply_deployment(Some(&live), &same, "third", false).is_ok());
    }

    #[test]
    fn dropped_fields_are_removed() {
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}});
        let live = created_by(&cfg, "m");
        let cfg2 = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "labels": {"a": "1"}}});
        let b = apply_deployment(Some(&live), &cfg2, "m", false).unwrap();
        assert_eq!(b.object["metadata"]["labels"], json!({"a": "1"}));
    }
}
