//! YAML output for rendered objects: block style, two-space indent, list
//! items at their key's indentation (the `kubectl` look). A string is
//! written plain only when every YAML reader takes it as that same string
//! (see `fastyaml::is_plain_string`); anything else is a JSON string, which
//! is valid YAML double-quoted. Deterministic: key order is the objects'.

use std::fmt::Write;

use serde_json::{Map, Value};

use super::fastyaml::{is_plain_key, is_plain_string};

/// One document (no `---` marker).
pub fn document(v: &Value) -> String {
    let mut out = String::with_capacity(1024);
    match v {
        Value::Object(m) if !m.is_empty() => map(&mut out, m, 0, false),
        other => {
            scalar(&mut out, other);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// Mapping entries at `indent`; `inline_first`: the first key follows a `- `
/// already written.
fn map(out: &mut String, m: &Map<String, Value>, indent: usize, inline_first: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        key(out, k);
        out.push(':');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                map(out, inner, indent + 2, false);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                seq(out, items, indent);
            }
            _ => {
                out.push(' ');
                scalar(out, v);
                out.push('\n');
            }
        }
    }
}

fn seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                out.push_str("- ");
                map(out, inner, indent + 2, true);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push_str("-\n");
                seq(out, inner, indent + 2);
            }
            _ => {
                out.push_str("- ");
                scalar(out, item);
                out.push('\n');
            }
        }
    }
}

fn key(out: &mut String, k: &str) {
    if is_plain_key(k) {
        out.push_str(k);
    } else {
        quoted(out, k);
    }
}

/// Appends a scalar (or an empty `{}`/`[]`) to `out`.
fn scalar(out: &mut String, v: &Value) {
    debug_assert!(!is_block(v));
    match v {
        Value::String(s) if is_plain_string(s) => out.push_str(s),
        Value::String(s) => quoted(out, s),
        // JSON for the rest: numbers, booleans, null, `{}`, `[]`.
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Double quotes when nothing needs escaping (`"1.4.2"`), else single quotes
/// when only `"` or `\\` would (PromQL stays readable), else a double-quoted
/// string with escapes.
fn quoted(out: &mut String, s: &str) {
    if s.chars().any(needs_escape) {
        double_quoted(out, s);
    } else if !s.contains(['"', '\\']) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    }
}

/// Characters YAML does not allow unescaped (C0, DEL, C1 controls and the two
/// non-characters), which serde_json would write raw above U+001F.
fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// A double-quoted scalar using only escapes common to JSON and YAML.
fn double_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_back_as_written() {
        let v = json!({
            "apiVersion": "v1",
            "metadata": {"name": "a", "labels": {"app.kubernetes.io/version": "1.4.2", "x": "yes"}},
            "spec": {
                "n": 3, "f": 0.05, "neg": -2, "t": true, "z": null, "e": {}, "l": [],
                "list": [{"name": "x", "port": 80, "sub": {"k": "v"}, "xs": ["a", "b"]}, "s", [1, [2, 3]], {}],
                "odd keys": {"a: b": 1, "#c": 2, "": 3},
                "text": "line1\nline2: x # y",
                "controls": "a\u{7f}b\u{85}c\u{1}\t\r",
                "promql": "sum(rate(x{a=\"b\",c='d'}[5m])) > 0.05",
                "words": ["on", "off", "null", "~", "0755", "1e3", "25%", "-", "- x", "http://a.b/c", " lead", "trail "]
            }
        });
        let text = document(&v);
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
        assert_eq!(
            super::super::fastyaml::parse_documents(&text),
            Some(vec![v.clone()]),
            "{text}"
        );
        assert!(
            text.contains(
                "\n  list:\n  - name: x\n    port: 80\n    sub:\n      k: v\n    xs:\n    - a\n"
            ),
            "{text}"
        );
    }
}
