//! Validation the real server does on the objects mcpctl writes (422 Invalid with field
//! causes; some decode errors are 400).
//!
//! API conventions, "Naming conventions" / identifiers: object names are DNS subdomains
//! ("a lowercase RFC 1123 subdomain ... regex used for validation is
//! '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'"), Services and Namespaces
//! DNS labels; label values at most 63 characters.

use crate::status::Cause;
use serde_json::Value;

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_label_value(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let b = s.as_bytes();
    s.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
}

fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix
        && !is_dns_subdomain(p)
    {
        return false;
    }
    !name.is_empty() && is_label_value(name)
}

fn q(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Go's `%#v` of a map[string]string (keys sorted), as in transcript 28.
fn go_map(m: &serde_json::Map<String, Value>) -> String {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys
        .iter()
        .map(|k| format!("{}:{}", q(k), q(m[*k].as_str().unwrap_or_default())))
        .collect();
    format!("map[string]string{{{}}}", parts.join(", "))
}

fn check_meta(obj: &Value, name_is_label: bool, causes: &mut Vec<Cause>) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let gen_name = obj
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() && gen_name.is_empty() {
        causes.push(Cause::new(
            "FieldValueRequired",
            "metadata.name",
            "Required value: name or generateName is required",
        ));
    } else if !name.is_empty() {
        let ok = if name_is_label {
            is_dns_label(name)
        } else {
            is_dns_subdomain(name)
        };
        if !ok {
            let msg = if name_is_label {
                LABEL_MSG
            } else {
                SUBDOMAIN_MSG
            };
            causes.push(Cause::new(
                "FieldValueInvalid",
                "metadata.name",
                format!("Invalid value: {}: {msg}", q(name)),
            ));
        }
    }
    check_labels(obj.pointer("/metadata/labels"), "metadata.labels", causes);
    if let Some(ann) = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for k in ann.keys() {
            if !is_qualified_name(k) {
                causes.push(Cause::new("FieldValueInvalid", "metadata.annotations", format!("Invalid value: {}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", q(k))));
            }
        }
    }
}

fn check_labels(labels: Option<&Value>, field: &str, causes: &mut Vec<Cause>) {
    let Some(m) = labels.and_then(Value::as_object) else {
        return;
    };
    for (k, v) in m {
        if !is_qualified_name(k) {
            causes.push(Cause::new("FieldValueInvalid", field, format!("Invalid value: {}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')", q(k))));
        }
        let s = v.as_str().unwrap_or_default();
        if !is_label_value(s) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                field,
                format!("Invalid value: {}: {LABEL_VALUE_MSG}", q(s)),
            ));
        }
    }
}

fn selector_matches(sel: &Value, labels: &serde_json::Map<String, Value>) -> bool {
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object)
        && ml.iter().any(|(k, v)| labels.get(k) != Some(v))
    {
        return false;
    }
    crate::util::match_expressions(sel).iter().all(|e| {
        let have = labels.get(e.key).and_then(Value::as_str);
        match e.operator {
            "In" => have.is_some_and(|h| e.values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !e.values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    })
}

fn check_pod_spec(spec: Option<&Value>, field: &str, causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match containers {
        None => causes.push(Cause::new(
            "FieldValueRequired",
            &format!("{field}.containers"),
            "Required value",
        )),
        Some(cs) if cs.is_empty() => causes.push(Cause::new(
            "FieldValueRequired",
            &format!("{field}.containers"),
            "Required value",
        )),
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                let f = format!("{field}.containers[{i}]");
                let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                if name.is_empty() {
                    causes.push(Cause::new(
                        "FieldValueRequired",
                        &format!("{f}.name"),
                        "Required value",
                    ));
                } else if !is_dns_label(name) {
                    causes.push(Cause::new(
                        "FieldValueInvalid",
                        &format!("{f}.name"),
                        format!("Invalid value: {}: {LABEL_MSG}", q(name)),
                    ));
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .is_empty()
                {
                    causes.push(Cause::new(
                        "FieldValueRequired",
                        &format!("{f}.image"),
                        "Required value",
                    ));
                }
                for (j, p) in c
                    .get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let n = p.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
                    if !(1..=65535).contains(&n) {
                        causes.push(Cause::new(
                            "FieldValueInvalid",
                            &format!("{f}.ports[{j}].containerPort"),
                            format!("Invalid value: {n}: must be between 1 and 65535, inclusive"),
                        ));
                    }
                }
            }
        }
    }
}

/// Validation of built-in kinds (the parts mcpctl's objects exercise).
pub fn builtin(group: &str, kind: &str, obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let label_names = matches!((group, kind), ("", "Service") | ("", "Namespace"));
    check_meta(obj, label_names, &mut causes);
    match (group, kind) {
        ("apps", "Deployment")
        | ("apps", "ReplicaSet")
        | ("apps", "StatefulSet")
        | ("apps", "DaemonSet") => {
            let spec = obj.get("spec");
            if let Some(r) = spec.and_then(|s| s.get("replicas")).and_then(Value::as_i64)
                && r < 0
            {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    "spec.replicas",
                    format!("Invalid value: {r}: must be greater than or equal to 0"),
                ));
            }
            let sel = spec.and_then(|s| s.get("selector"));
            let tlabels = spec
                .and_then(|s| s.pointer("/template/metadata/labels"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            match sel {
                None | Some(Value::Null) => causes.push(Cause::new(
                    "FieldValueRequired",
                    "spec.selector",
                    "Required value",
                )),
                Some(s) => {
                    let empty = s
                        .get("matchLabels")
                        .and_then(Value::as_object)
                        .is_none_or(|m| m.is_empty())
                        && s.get("matchExpressions")
                            .and_then(Value::as_array)
                            .is_none_or(|a| a.is_empty());
                    if empty {
                        causes.push(Cause::new("FieldValueInvalid", "spec.selector", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"));
                    } else if !selector_matches(s, &tlabels) {
                        causes.push(Cause::new(
                            "FieldValueInvalid",
                            "spec.template.metadata.labels",
                            format!(
                                "Invalid value: {}: `selector` does not match template `labels`",
                                go_map(&tlabels)
                            ),
                        ));
                    }
                }
            }
            check_labels(
                spec.and_then(|s| s.pointer("/template/metadata/labels")),
                "spec.template.metadata.labels",
                &mut causes,
            );
            check_pod_spec(
                spec.and_then(|s| s.pointer("/template/spec")),
                "spec.template.spec",
                &mut causes,
            );
        }
        ("", "Pod") => check_pod_spec(obj.get("spec"), "spec", &mut causes),
        ("", "Service") => {
            let spec = obj.get("spec");
            let ty = spec
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP");
            let ports = spec.and_then(|s| s.get("ports")).and_then(Value::as_array);
            if ty != "ExternalName"
                && ports.is_none_or(|p| p.is_empty())
                && spec
                    .and_then(|s| s.get("clusterIP"))
                    .and_then(Value::as_str)
                    != Some("None")
            {
                causes.push(Cause::new(
                    "FieldValueRequired",
                    "spec.ports",
                    "Required value",
                ));
            }
            for (i, p) in ports.into_iter().flatten().enumerate() {
                let n = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                if !(1..=65535).contains(&n) {
                    causes.push(Cause::new(
                        "FieldValueInvalid",
                        &format!("spec.ports[{i}].port"),
                        format!("Invalid value: {n}: must be between 1 and 65535, inclusive"),
                    ));
                }
            }
            if ports.is_some_and(|p| p.len() > 1) {
                for (i, p) in ports.into_iter().flatten().enumerate() {
                    if p.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .is_empty()
                    {
                        causes.push(Cause::new(
                            "FieldValueRequired",
                            &format!("spec.ports[{i}].name"),
                            "Required value",
                        ));
                    }
                }
            }
        }
        ("", "Secret") => {
            let ty = obj.get("type").and_then(Value::as_str).unwrap_or("Opaque");
            let data = obj.get("data").and_then(Value::as_object);
            let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
            if ty == "kubernetes.io/tls" {
                for k in ["tls.crt", "tls.key"] {
                    if !has(k) {
                        causes.push(Cause::new(
                            "FieldValueRequired",
                            &format!("data[{k}]"),
                            "Required value",
                        ));
                    }
                }
            }
            if ty == "kubernetes.io/dockerconfigjson" && !has(".dockerconfigjson") {
                causes.push(Cause::new(
                    "FieldValueRequired",
                    "data[.dockerconfigjson]",
                    "Required value",
                ));
            }
        }
        _ => {}
    }
    causes
}

/// Decode-time checks that answer 400 BadRequest "<Kind> in version "v1" cannot be handled as a
/// <Kind>: ..." (transcripts 55, 56, 64). Returns the text after the colon.
pub fn decode_errors(group: &str, kind: &str, obj: &mut Value) -> Option<String> {
    use base64::Engine;
    match (group, kind) {
        ("coordination.k8s.io", "Lease") => {
            for f in ["acquireTime", "renewTime"] {
                if let Some(t) = obj.pointer(&format!("/spec/{f}")).and_then(Value::as_str)
                    && let Some(e) = micro_time_error(t)
                {
                    return Some(e);
                }
            }
            None
        }
        ("", "Secret") => {
            if let Some(data) = obj.get("data").and_then(Value::as_object) {
                for v in data.values() {
                    let s = v.as_str().unwrap_or_default();
                    if let Err(e) = base64::engine::general_purpose::STANDARD.decode(s) {
                        let pos = match e {
                            base64::DecodeError::InvalidByte(p, _) => p,
                            base64::DecodeError::InvalidLength(p) => p,
                            base64::DecodeError::InvalidLastSymbol(p, _) => p,
                            base64::DecodeError::InvalidPadding => s.len(),
                        };
                        return Some(format!("illegal base64 data at input byte {pos}"));
                    }
                }
            }
            // stringData is write-only: merged into data, base64-encoded (transcript 62).
            if let Some(sd) = obj
                .as_object_mut()
                .and_then(|m| m.shift_remove("stringData"))
                && let Some(sd) = sd.as_object()
            {
                let data = crate::util::obj_mut(obj, &["data"]);
                for (k, v) in sd {
                    let enc = base64::engine::general_purpose::STANDARD
                        .encode(v.as_str().unwrap_or_default());
                    data.insert(k.clone(), Value::String(enc));
                }
                crate::util::sort_map(data);
            }
            None
        }
        _ => None,
    }
}

/// `metav1.MicroTime` decodes with Go layout "2006-01-02T15:04:05.000000Z07:00": exactly six
/// fractional digits.
fn micro_time_error(t: &str) -> Option<String> {
    let layout = "2006-01-02T15:04:05.000000Z07:00";
    let head_ok = t.len() >= 19 && t.as_bytes()[10] == b'T';
    if !head_ok {
        return Some(format!(
            "parsing time {} as {}: cannot parse {} as \"2006\"",
            q(t),
            q(layout),
            q(t)
        ));
    }
    let rest = &t[19..];
    let Some(frac) = rest.strip_prefix('.') else {
        return Some(format!(
            "parsing time {} as {}: cannot parse {} as \".000000\"",
            q(t),
            q(layout),
            q(rest)
        ));
    };
    let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 6 {
        return Some(format!(
            "parsing time {} as {}: cannot parse {} as \".000000\"",
            q(t),
            q(layout),
            q(rest)
        ));
    }
    let tail = &frac[6..];
    if tail != "Z" && !(tail.len() == 6 && (tail.starts_with('+') || tail.starts_with('-'))) {
        return Some(format!(
            "parsing time {} as {}: cannot parse {} as \"Z07:00\"",
            q(t),
            q(layout),
            q(tail)
        ));
    }
    None
}

/// Translates a [`crate::schema::SchemaError`] into the cause the real server gives for a
/// custom resource (transcripts 69, 73, 74: "spec.x in body must be of type integer",
/// "should be less than or equal to", "Unsupported value", "Required value").
pub fn crd_cause(e: &crate::schema::SchemaError) -> Option<Cause> {
    let field = e.path.trim_start_matches('.').to_string();
    let m = e.message.as_str();
    if m.starts_with("unknown field") {
        return None; // the server prunes unknown fields of custom resources
    }
    if m == "required field is missing" {
        return Some(Cause::new("FieldValueRequired", &field, "Required value"));
    }
    if let Some(rest) = m.strip_prefix("expected ") {
        // "expected integer, found string \"ten\""
        if let Some((want, found)) = rest.split_once(", found ") {
            let actual = found.split(' ').next().unwrap_or(found);
            let want = want.split(" or ").next().unwrap_or(want);
            return Some(Cause::new(
                "FieldValueTypeInvalid",
                &field,
                format!(
                    "Invalid value: {}: {field} in body must be of type {want}: {}",
                    q(actual),
                    q(actual)
                ),
            ));
        }
    }
    if let Some((n, max)) = m.split_once(" is above the maximum ") {
        return Some(Cause::new(
            "FieldValueInvalid",
            &field,
            format!("Invalid value: {n}: {field} in body should be less than or equal to {max}"),
        ));
    }
    if let Some((n, min)) = m.split_once(" is below the minimum ") {
        return Some(Cause::new(
            "FieldValueInvalid",
            &field,
            format!("Invalid value: {n}: {field} in body should be greater than or equal to {min}"),
        ));
    }
    if let Some((v, list)) = m.split_once(" is not one of [") {
        let list = list.trim_end_matches(']');
        return Some(Cause::new(
            "FieldValueNotSupported",
            &field,
            format!("Unsupported value: {v}: supported values: {list}"),
        ));
    }
    if let Some((_, max)) = m.split_once(" is longer than maxLength ") {
        return Some(Cause::new(
            "FieldValueTooLong",
            &field,
            format!("Too long: may not be longer than {max}"),
        ));
    }
    if let Some((v, p)) = m.split_once(" does not match pattern ") {
        return Some(Cause::new(
            "FieldValueInvalid",
            &field,
            format!("Invalid value: {v}: {field} in body should match '{p}'"),
        ));
    }
    if let Some((n, max)) = m.split_once(" items, more than maxItems ") {
        return Some(Cause::new(
            "FieldValueTooMany",
            &field,
            format!("Too many: {n}: must have at most {max} items"),
        ));
    }
    Some(Cause::new(
        "FieldValueInvalid",
        &field,
        format!("Invalid value: {m}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(is_dns_subdomain("mcp-github"));
        assert!(!is_dns_subdomain("MCP-GitHub"));
        assert!(is_dns_subdomain("a.b-c"));
        assert!(!is_dns_label("a.b"));
    }

    #[test]
    fn micro_time_needs_six_digits() {
        assert!(micro_time_error("2026-11-21T05:57:18.263923Z").is_none());
        assert_eq!(
            micro_time_error("2026-11-21T05:57:18Z").unwrap(),
            "parsing time \"2026-11-21T05:57:18Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\""
        );
        assert_eq!(
            micro_time_error("2026-11-21T05:57:18.485505123Z").unwrap(),
            "parsing time \"2026-11-21T05:57:18.485505123Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"123Z\" as \"Z07:00\""
        );
    }

    #[test]
    fn deployment_selector_must_match() {
        let d = json!({"metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "c"}}, "spec": {"containers": [{"name": "m", "image": "i"}]}}}});
        let c = builtin("apps", "Deployment", &d);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "spec.template.metadata.labels");
        assert!(c[0].message.contains("map[string]string{\"a\":\"c\"}"));
    }
}
