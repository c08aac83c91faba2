//! Typed reading of YAML nodes that records every problem instead of stopping
//! at the first: each getter returns `None` after recording a diagnostic.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::diagnostic::{Diagnostic, Severity};
use super::yaml::{Node, Pos, Value};

/// A value together with where it was written, so that checks made later
/// (after defaults are merged) can still point at the right line.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    pub pos: Pos,
    /// Key path, such as `servers[2].canary.steps[1]`.
    pub path: String,
}

impl<T> At<T> {
    pub fn new(value: T, pos: Pos, path: impl Into<String>) -> Self {
        At {
            value,
            pos,
            path: path.into(),
        }
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub struct Ctx {
    pub file: PathBuf,
    pub diags: Vec<Diagnostic>,
    /// Problems found per server at one place (often a value in `defaults`
    /// that many servers inherit), reported once with the servers named.
    groups: Vec<Group>,
}

#[derive(Debug)]
struct Group {
    pos: Pos,
    path: String,
    message: String,
    hint: Option<String>,
    servers: Vec<String>,
}

impl Ctx {
    pub fn new(file: &Path) -> Self {
        Ctx {
            file: file.to_path_buf(),
            diags: Vec::new(),
            groups: Vec::new(),
        }
    }

    pub fn error(
        &mut self,
        pos: Pos,
        path: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(Severity::Error, pos, path, message.into(), hint);
    }

    pub fn warn(&mut self, pos: Pos, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.push(Severity::Warning, pos, path, message.into(), hint);
    }

    fn push(
        &mut self,
        severity: Severity,
        pos: Pos,
        path: &str,
        message: String,
        hint: Option<String>,
    ) {
        let d = Diagnostic {
            severity,
            file: self.file.clone(),
            line: Some(pos.line),
            column: Some(pos.column),
            path: path.to_string(),
            message,
            hint,
        };
        // The same value, inherited from `defaults`, can be checked once per server.
        if !self.diags.contains(&d) {
            self.diags.push(d);
        }
    }

    /// An error that concerns `server`, found at `pos`; the same error at the
    /// same place for several servers becomes one diagnostic naming them all.
    pub fn server_error(
        &mut self,
        server: &str,
        pos: Pos,
        path: &str,
        message: String,
        hint: Option<String>,
    ) {
        match self
            .groups
            .iter_mut()
            .find(|g| g.pos == pos && g.path == path && g.message == message)
        {
            Some(g) => g.servers.push(server.to_string()),
            None => self.groups.push(Group {
                pos,
                path: path.to_string(),
                message,
                hint,
                servers: vec![server.to_string()],
            }),
        }
    }

    /// Turns the grouped server errors into diagnostics.
    pub fn flush_server_errors(&mut self) {
        const SHOWN: usize = 5;
        for g in std::mem::take(&mut self.groups) {
            let names: Vec<String> = g
                .servers
                .iter()
                .take(SHOWN)
                .map(|s| format!("`{s}`"))
                .collect();
            let which = match g.servers.len() {
                1 => format!("server {}", names[0]),
                n if n <= SHOWN => format!("servers {}", names.join(", ")),
                n => format!("servers {} and {} more", names.join(", "), n - SHOWN),
            };
            self.error(g.pos, &g.path, format!("{} ({which})", g.message), g.hint);
        }
    }

    /// Whether a problem was already reported at `path` or below it; a block
    /// missing a required key says so only when nothing more specific was.
    pub fn reported_under(&self, path: &str) -> bool {
        self.diags.iter().any(|d| d.path.starts_with(path))
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }

    fn type_error(&mut self, node: &Node, path: &str, expected: &str) {
        let hint = match &node.value {
            Value::Str(s) if expected.contains("number") && s.trim().parse::<f64>().is_ok() => {
                Some(format!("write it without quotes: `{}`", s.trim()))
            }
            Value::Str(s) if expected.contains("number") && s.trim().ends_with('%') => {
                Some("write a fraction without `%`: 0.01 for 1%".to_string())
            }
            _ => None,
        };
        self.error(
            node.pos,
            path,
            format!("expected {expected}, found {}", node.describe()),
            hint,
        );
    }

    /// The entries of a mapping; anything else is a type error. A key left
    /// empty (`defaults:` with everything commented out) is an empty mapping.
    pub fn entries<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [super::yaml::Entry]> {
        match &node.value {
            Value::Map(entries) => Some(entries),
            Value::Null => Some(&[]),
            _ => {
                self.type_error(node, path, "a mapping of `key: value`");
                None
            }
        }
    }

    /// Reports a key that is not one of `valid`, with the closest valid key.
    pub fn unknown_key(&mut self, key: &str, pos: Pos, path: &str, valid: &[&str]) {
        let hint = match closest(key, valid) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!(
                "valid keys here: {}",
                valid
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let where_ = if path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{path}`")
        };
        self.error(
            pos,
            &join(path, key),
            format!("unknown key `{key}` {where_}"),
            Some(hint),
        );
    }

    /// The items of a list, each with its path; a key left empty is an empty list.
    pub fn list<'n>(&mut self, node: &'n Node, path: &str) -> Option<Vec<(&'n Node, String)>> {
        match &node.value {
            Value::Null => Some(Vec::new()),
            Value::Seq(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n, format!("{path}[{i}]")))
                    .collect(),
            ),
            _ => {
                self.type_error(node, path, "a list");
                None
            }
        }
    }

    /// A string; numbers and booleans are taken as written.
    pub fn string(&mut self, node: &Node, path: &str) -> Option<At<String>> {
        match node.as_text() {
            Some(t) => Some(At::new(t.to_string(), node.pos, path)),
            None => {
                self.type_error(node, path, "a string");
                None
            }
        }
    }

    /// A string that must pass `check`; the failure reads "`value` <reason>".
    pub fn checked_string(
        &mut self,
        node: &Node,
        path: &str,
        what: &str,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<At<String>> {
        let s = self.string(node, path)?;
        match check(&s.value) {
            Ok(()) => Some(s),
            Err(reason) => {
                self.error(
                    node.pos,
                    path,
                    format!("{what} `{}` {reason}", s.value),
                    None,
                );
                None
            }
        }
    }

    /// A whole number in `min..=max`.
    pub fn int(&mut self, node: &Node, path: &str, min: i64, max: i64) -> Option<At<i64>> {
        let n = match &node.value {
            Value::Int(n) => *n,
            Value::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 1e15 => *f as i64,
            _ => {
                self.type_error(node, path, "a whole number");
                return None;
            }
        };
        if n < min || n > max {
            let range = if max >= i64::from(u32::MAX) {
                format!("must be {min} or more")
            } else {
                format!("must be between {min} and {max}")
            };
            self.error(node.pos, path, format!("{range}, found {n}"), None);
            return None;
        }
        Some(At::new(n, node.pos, path))
    }

    pub fn u32(&mut self, node: &Node, path: &str, min: u32) -> Option<At<u32>> {
        self.int(node, path, min.into(), u32::MAX.into())
            .map(|a| At::new(a.value as u32, a.pos, a.path))
    }

    /// A number (whole or decimal).
    pub fn number(&mut self, node: &Node, path: &str) -> Option<At<f64>> {
        match &node.value {
            Value::Int(n) => Some(At::new(*n as f64, node.pos, path)),
            Value::Float(f) if f.is_finite() => Some(At::new(*f, node.pos, path)),
            _ => {
                self.type_error(node, path, "a number");
                None
            }
        }
    }

    pub fn boolean(&mut self, node: &Node, path: &str) -> Option<At<bool>> {
        match &node.value {
            Value::Bool(b) => Some(At::new(*b, node.pos, path)),
            _ => {
                self.type_error(node, path, "`true` or `false`");
                None
            }
        }
    }

    /// A duration such as `30s`, `5m` or `1h30m`, greater than zero.
    pub fn duration(&mut self, node: &Node, path: &str) -> Option<At<Duration>> {
        let text = match &node.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) => node.text.clone(),
            _ => {
                self.type_error(node, path, "a duration such as `30s` or `5m`");
                return None;
            }
        };
        match super::duration::parse(&text) {
            Ok(d) if d.is_zero() => {
                self.error(
                    node.pos,
                    path,
                    "the duration must be greater than zero",
                    None,
                );
                None
            }
            Ok(d) => Some(At::new(d, node.pos, path)),
            Err(e) => {
                self.error(node.pos, path, format!("invalid duration: {e}"), None);
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub fn choice<T: Copy>(
        &mut self,
        node: &Node,
        path: &str,
        options: &[(&str, T)],
    ) -> Option<At<T>> {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let list = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let Value::Str(s) = &node.value else {
            self.type_error(node, path, &format!("one of {list}"));
            return None;
        };
        if let Some((_, v)) = options.iter().find(|(n, _)| n == s) {
            return Some(At::new(*v, node.pos, path));
        }
        let hint = closest(s, &names).map(|b| format!("did you mean `{b}`?"));
        self.error(node.pos, path, format!("`{s}` is not one of {list}"), hint);
        None
    }

    /// A mapping of string keys to string values, each key checked by `key_check`.
    pub fn string_map(
        &mut self,
        node: &Node,
        path: &str,
        what: &str,
        key_check: impl Fn(&str) -> Result<(), String>,
        value_check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<Vec<(At<String>, At<String>)>> {
        let entries = self.entries(node, path)?;
        let mut out = Vec::new();
        for e in entries {
            let p = join(path, &e.key);
            if let Err(reason) = key_check(&e.key) {
                self.error(e.key_pos, &p, format!("{what} `{}` {reason}", e.key), None);
                continue;
            }
            let Some(v) = self.string(&e.value, &p) else {
                continue;
            };
            if let Err(reason) = value_check(&v.value) {
                self.error(v.pos, &p, format!("value `{}` {reason}", v.value), None);
                continue;
            }
            out.push((At::new(e.key.clone(), e.key_pos, p.clone()), v));
        }
        Some(out)
    }
}

/// `path.key`, quoting keys that are not plain words: `labels["app.kubernetes.io/name"]`.
pub fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{key:?}]"),
    }
}

/// The valid key closest to `key`, if one is close enough to be a likely typo
/// (`replica`, `Replicas`, `step_duration`).
pub fn closest<'a>(key: &str, valid: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], "");
    let k = norm(key);
    if let Some(v) = valid.iter().find(|v| norm(v) == k) {
        return Some(v);
    }
    valid
        .iter()
        .map(|v| {
            (
                v,
                strsim::damerau_levenshtein(&k, &norm(v)),
                strsim::jaro_winkler(&k, &norm(v)),
            )
        })
        .filter(|(v, dist, jw)| *dist <= (v.len() / 3).max(1) || *jw >= 0.88)
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(v, _, _)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_and_case_slips() {
        let keys = ["replicas", "port", "path", "stepDuration", "strategy"];
        assert_eq!(closest("replica", &keys), Some("replicas"));
        assert_eq!(closest("Replicas", &keys), Some("replicas"));
        assert_eq!(closest("step_duration", &keys), Some("stepDuration"));
        assert_eq!(closest("stratgy", &keys), Some("strategy"));
        assert_eq!(closest("colour", &keys), None);
    }

    #[test]
    fn join_quotes_odd_keys() {
        assert_eq!(join("", "fleet"), "fleet");
        assert_eq!(join("servers[0]", "env"), "servers[0].env");
        assert_eq!(
            join("servers[0].labels", "app.kubernetes.io/name"),
            "servers[0].labels[\"app.kubernetes.io/name\"]"
        );
    }
}
