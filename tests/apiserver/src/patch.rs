//! Non-apply patches: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes'
//! strategic merge patch.
//!
//! Kubernetes docs, "Update API Objects in Place Using kubectl patch": "With a JSON merge patch,
//! if you want to update a list, you have to specify the entire new list"; "with a strategic
//! merge patch, a list is either replaced or merged depending on its patch strategy ... the
//! containers field of PodSpec has patchStrategy merge and patchMergeKey name".

use crate::typed::{ListType, Ty};
use serde_json::{Map, Value};

/// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            let mut out = match target {
                Value::Object(t) => t.clone(),
                _ => Map::new(),
            };
            for (k, v) in p {
                if v.is_null() {
                    out.shift_remove(k);
                } else {
                    let merged = merge_patch(out.get(k).unwrap_or(&Value::Null), v);
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Why a JSON patch failed. A failed `test` is reported by the server as a generic 422
/// (transcripts 38, 39); other failures likewise.
#[derive(Debug)]
pub struct JsonPatchError(pub String);

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<Vec<String>, JsonPatchError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| JsonPatchError(format!("invalid path {path:?}")))?;
    Ok(rest.split('/').map(unescape).collect())
}

fn get_mut<'a>(v: &'a mut Value, toks: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m.get_mut(t)?,
            Value::Array(a) => a.get_mut(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn get<'a>(v: &'a Value, toks: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn add(doc: &mut Value, toks: &[String], value: Value) -> Result<(), JsonPatchError> {
    let Some((last, parent)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    let p =
        get_mut(doc, parent).ok_or_else(|| JsonPatchError("add: parent does not exist".into()))?;
    match p {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| JsonPatchError("add: bad index".into()))?;
            if i > a.len() {
                return Err(JsonPatchError("add: index out of range".into()));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(JsonPatchError("add: parent is not a container".into())),
    }
}

fn remove(doc: &mut Value, toks: &[String]) -> Result<Value, JsonPatchError> {
    let Some((last, parent)) = toks.split_last() else {
        return Err(JsonPatchError("remove: cannot remove the root".into()));
    };
    let p = get_mut(doc, parent)
        .ok_or_else(|| JsonPatchError("remove: parent does not exist".into()))?;
    match p {
        Value::Object(m) => m
            .shift_remove(last)
            .ok_or_else(|| JsonPatchError("remove: no such member".into())),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| JsonPatchError("remove: bad index".into()))?;
            if i >= a.len() {
                return Err(JsonPatchError("remove: index out of range".into()));
            }
            Ok(a.remove(i))
        }
        _ => Err(JsonPatchError("remove: parent is not a container".into())),
    }
}

/// RFC 6902. The whole patch is atomic: any failing operation rejects it.
pub fn json_patch(target: &Value, ops: &Value) -> Result<Value, JsonPatchError> {
    let ops = ops
        .as_array()
        .ok_or_else(|| JsonPatchError("a JSON patch must be a list".into()))?;
    let mut doc = target.clone();
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| JsonPatchError("missing op".into()))?;
        let path = split_pointer(op.get("path").and_then(Value::as_str).unwrap_or(""))?;
        match kind {
            "add" => add(
                &mut doc,
                &path,
                op.get("value").cloned().unwrap_or(Value::Null),
            )?,
            "remove" => {
                remove(&mut doc, &path)?;
            }
            "replace" => {
                let slot = get_mut(&mut doc, &path)
                    .ok_or_else(|| JsonPatchError("replace: path does not exist".into()))?;
                *slot = op.get("value").cloned().unwrap_or(Value::Null);
            }
            "move" => {
                let from = split_pointer(op.get("from").and_then(Value::as_str).unwrap_or(""))?;
                let v = remove(&mut doc, &from)?;
                add(&mut doc, &path, v)?;
            }
            "copy" => {
                let from = split_pointer(op.get("from").and_then(Value::as_str).unwrap_or(""))?;
                let v = get(&doc, &from)
                    .cloned()
                    .ok_or_else(|| JsonPatchError("copy: from does not exist".into()))?;
                add(&mut doc, &path, v)?;
            }
            "test" => {
                let have = get(&doc, &path);
                if have != op.get("value") {
                    return Err(JsonPatchError("test failed".into()));
                }
            }
            other => return Err(JsonPatchError(format!("unknown op {other:?}"))),
        }
    }
    Ok(doc)
}

/// The patch merge key of a list, from the list-map keys of the schema (the first key: e.g.
/// `name` for containers, `containerPort` for container ports, `port` for service ports).
fn merge_key(ty: Ty) -> Option<String> {
    if ty.list_type() == ListType::Map {
        ty.map_keys().into_iter().next()
    } else {
        None
    }
}

/// Strategic merge patch for built-in kinds: like a merge patch, but lists with a patch merge
/// key merge item by item, `$patch: delete` removes an item, `$patch: replace` replaces the
/// list, and sets (finalizers) are unioned. `$setElementOrder`/`$retainKeys` directives are
/// accepted and ignored.
pub fn strategic_merge(target: &Value, patch: &Value, ty: Ty) -> Value {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut c = p.clone();
                c.shift_remove("$patch");
                return Value::Object(c);
            }
            let mut out = t.clone();
            for (k, v) in p {
                if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
                    continue;
                }
                if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
                    if let (Some(Value::Array(cur)), Value::Array(del)) = (out.get_mut(field), v) {
                        cur.retain(|x| !del.contains(x));
                    }
                    continue;
                }
                if v.is_null() {
                    out.shift_remove(k);
                    continue;
                }
                let ft = ty.field(k).unwrap_or_else(crate::typed::untyped);
                let merged = match out.get(k) {
                    Some(cur) => strategic_merge(cur, v, ft),
                    None => strip_directives(v),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(t), Value::Array(p)) => {
            if let Some(key) = merge_key(ty) {
                let it = ty.items();
                let mut out = t.clone();
                for item in p {
                    let directive = item.get("$patch").and_then(Value::as_str);
                    if directive == Some("replace") {
                        return Value::Array(
                            p.iter()
                                .filter(|i| i.get("$patch").is_none())
                                .cloned()
                                .collect(),
                        );
                    }
                    let kv = item.get(&key);
                    let pos = out.iter().position(|o| o.get(&key) == kv && kv.is_some());
                    match (directive, pos) {
                        (Some("delete"), Some(i)) => {
                            out.remove(i);
                        }
                        (Some("delete"), None) => {}
                        (_, Some(i)) => out[i] = strategic_merge(&out[i], item, it),
                        (_, None) => out.push(strip_directives(item)),
                    }
                }
                Value::Array(out)
            } else if ty.list_type() == ListType::Set {
                let mut out = t.clone();
                for v in p {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
                Value::Array(out)
            } else {
                strip_directives(patch)
            }
        }
        _ => strip_directives(patch),
    }
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_merges_maps_and_deletes_nulls() {
        let t = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        assert_eq!(
            merge_patch(&t, &json!({"a": {"b": null, "d": 3}, "l": [3]})),
            json!({"a": {"c": 2, "d": 3}, "l": [3]})
        );
    }

    #[test]
    fn json_patch_test_op_guards() {
        let t = json!({"metadata": {"resourceVersion": "5"}, "spec": {"selector": {"mcpctl.dev/color": "green"}}});
        let bad =
            json!([{"op": "test", "path": "/spec/selector/mcpctl.dev~1color", "value": "blue"}]);
        assert!(json_patch(&t, &bad).is_err());
        let ok = json!([{"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
            {"op": "replace", "path": "/spec/selector/mcpctl.dev~1color", "value": "blue"}]);
        assert_eq!(
            json_patch(&t, &ok).unwrap()["spec"]["selector"]["mcpctl.dev/color"],
            "blue"
        );
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let ty = Ty::builtin("apps/v1", "Deployment").unwrap();
        let t = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "mcp", "image": "a", "ports": [{"containerPort": 8080}]}, {"name": "side", "image": "s"}]}}}});
        let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "mcp", "image": "b"}]}}}});
        let out = strategic_merge(&t, &p, ty);
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            cs[0],
            json!({"name": "mcp", "image": "b", "ports": [{"containerPort": 8080}]})
        );
        assert_eq!(cs[1]["name"], "side");
    }
}
