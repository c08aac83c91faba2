//! Label and field selectors.
//!
//! Kubernetes docs, "Labels and Selectors": equality-based requirements `=`, `==`, `!=`;
//! set-based `in`, `notin`, and existence (`key`, `!key`); requirements are comma-separated
//! and ANDed. Field selectors support `metadata.name` and `metadata.namespace` on every
//! resource, with `=`, `==` and `!=`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c)
            }
            ')' => {
                depth -= 1;
                cur.push(c)
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

fn set_values(s: &str) -> Result<Vec<String>, String> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesised list, found {s:?}"))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

pub fn parse_labels(s: &str) -> Result<Vec<Req>, String> {
    let mut out = Vec::new();
    for part in split_top(s) {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        if let Some(k) = p.strip_prefix('!') {
            out.push(Req::NotExists(k.trim().to_string()));
        } else if let Some((k, v)) = p.split_once("!=") {
            out.push(Req::Ne(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = p.split_once("==") {
            out.push(Req::Eq(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = p.split_once('=') {
            out.push(Req::Eq(k.trim().into(), v.trim().into()));
        } else if let Some(i) = p.find(" notin ") {
            out.push(Req::NotIn(p[..i].trim().into(), set_values(&p[i + 7..])?));
        } else if let Some(i) = p.find(" in ") {
            out.push(Req::In(p[..i].trim().into(), set_values(&p[i + 4..])?));
        } else if p.contains(' ') || p.contains('(') {
            return Err(format!("unable to parse requirement: {p:?}"));
        } else {
            out.push(Req::Exists(p.to_string()));
        }
    }
    Ok(out)
}

pub fn matches(reqs: &[Req], labels: Option<&Value>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    reqs.iter().all(|r| match r {
        Req::Eq(k, v) => get(k) == Some(v.as_str()),
        Req::Ne(k, v) => get(k) != Some(v.as_str()),
        Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
        Req::Exists(k) => get(k).is_some(),
        Req::NotExists(k) => get(k).is_none(),
    })
}

/// A field selector: (path, wanted value, equal?).
pub type FieldReq = (String, String, bool);

pub fn parse_fields(s: &str, kind: &str) -> Result<Vec<FieldReq>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v, eq) = if let Some((k, v)) = part.split_once("!=") {
            (k, v, false)
        } else if let Some((k, v)) = part.split_once("==") {
            (k, v, true)
        } else if let Some((k, v)) = part.split_once('=') {
            (k, v, true)
        } else {
            return Err(format!(
                "invalid selector: '{s}'; can't understand '{part}'"
            ));
        };
        let k = k.trim();
        let supported = matches!(k, "metadata.name" | "metadata.namespace")
            || (kind == "Pod"
                && matches!(
                    k,
                    "status.phase" | "spec.nodeName" | "spec.restartPolicy" | "status.podIP"
                ))
            || (kind == "Secret" && k == "type")
            || (kind == "Event" && k.starts_with("involvedObject."));
        if !supported {
            return Err(format!("field label not supported: {k}"));
        }
        out.push((k.to_string(), v.trim().to_string(), eq));
    }
    Ok(out)
}

pub fn fields_match(reqs: &[FieldReq], obj: &Value) -> bool {
    reqs.iter().all(|(path, want, eq)| {
        let mut cur = Some(obj);
        for p in path.split('.') {
            cur = cur.and_then(|c| c.get(p));
        }
        let have = cur.and_then(Value::as_str).unwrap_or("");
        (have == want) == *eq
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selector_forms() {
        let l = json!({"app": "a", "tier": "web"});
        let ok = |s: &str| matches(&parse_labels(s).unwrap(), Some(&l));
        assert!(ok("app=a"));
        assert!(ok("app==a,tier!=db"));
        assert!(ok("tier in (web,api)"));
        assert!(!ok("tier notin (web)"));
        assert!(ok("app"));
        assert!(ok("!missing"));
        assert!(!ok("!app"));
        assert!(ok("app in (a, b),tier"));
    }
}
