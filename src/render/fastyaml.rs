//! A fast reader for the plain subset of YAML the embedded templates emit:
//! block mappings and sequences, JSON values (what `{{ value }}` writes in a
//! `.yaml` template), and unambiguous plain scalars.
//!
//! It exists for speed: the general YAML parser reads about 8 MB/s, which made
//! parsing the rendered text the bulk of rendering a large fleet. It answers
//! `None` for anything outside the subset (quoting styles other than JSON,
//! anchors, tags, block scalars, multi-line plain scalars, YAML 1.1 words like
//! `yes`, numbers in other forms, duplicate keys, tabs...), and the caller then
//! uses the full parser, so it never changes what a document means. A test
//! checks that both readers agree on every embedded template's output.

use serde_json::{Map, Number, Value};

/// The documents of `text`, or `None` when the text leaves the subset.
pub fn parse_documents(text: &str) -> Option<Vec<Value>> {
    let mut docs = Vec::new();
    let mut lines: Vec<Line<'_>> = Vec::new();
    for raw in text.lines() {
        if raw == "---" {
            if !lines.is_empty() {
                docs.push(parse_document(std::mem::take(&mut lines))?);
            }
            continue;
        }
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with('\t')
            || raw.starts_with("---")
            || raw.starts_with("...")
            || raw.starts_with('%')
        {
            return None;
        }
        lines.push(Line {
            indent: raw.len() - content.len(),
            text: content.trim_end(),
        });
    }
    if !lines.is_empty() {
        docs.push(parse_document(lines)?);
    }
    Some(docs)
}

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

fn parse_document(lines: Vec<Line<'_>>) -> Option<Value> {
    let mut p = Parser { lines, pos: 0 };
    let indent = p.lines[0].indent;
    let v = p.node(indent)?;
    // Everything must have been consumed at the document's indentation.
    (p.pos == p.lines.len()).then_some(v)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// A block node starting at the current line, which has `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let line = self.peek()?;
        if line.indent != indent {
            return None;
        }
        if is_item(line.text) {
            self.sequence(indent)
        } else if split_key(line.text).is_some() {
            self.mapping(indent)
        } else {
            // A lone scalar as a block node.
            self.pos += 1;
            scalar(line.text)
        }
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_item(line.text) {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.peek() {
                    Some(next) if next.indent > indent => self.node(next.indent)?,
                    // `key:` followed by a sequence at the key's own indentation.
                    Some(next) if next.indent == indent && is_item(next.text) => {
                        self.sequence(indent)?
                    }
                    _ => Value::Null,
                }
            } else {
                let v = scalar(rest)?;
                // A deeper line after an inline value would continue a plain scalar.
                if self.peek().is_some_and(|n| n.indent > indent) {
                    return None;
                }
                v
            };
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && !is_item(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let rest = line.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
                match self.peek() {
                    Some(next) if next.indent > indent => items.push(self.node(next.indent)?),
                    _ => items.push(Value::Null),
                }
                continue;
            }
            if rest.starts_with('\t') {
                return None;
            }
            let col = indent + (line.text.len() - rest.len());
            if is_item(rest) || split_key(rest).is_some() {
                // `- key: value` / `- - x`: the rest is a node at its own column.
                self.lines[self.pos] = Line {
                    indent: col,
                    text: rest,
                };
                items.push(self.node(col)?);
            } else {
                self.pos += 1;
                items.push(scalar(rest)?);
                if self.peek().is_some_and(|n| n.indent > indent) {
                    return None;
                }
            }
        }
        Some(Value::Array(items))
    }
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// `key: rest` or `key:`; `None` when the line is not a mapping entry (or its
/// key is outside the subset).
fn split_key(text: &str) -> Option<(String, &str)> {
    if let Some(after) = text.strip_prefix('"') {
        let end = json_string_end(after)?;
        let key: String = serde_json::from_str(&text[..end + 2]).ok()?;
        let rest = &text[end + 2..];
        let rest = rest.strip_prefix(':')?;
        return match rest.strip_prefix(' ') {
            Some(r) => Some((key, r.trim_start_matches(' '))),
            None if rest.is_empty() => Some((key, "")),
            None => None,
        };
    }
    let (key, rest) = match text.find(": ") {
        Some(i) => (&text[..i], text[i + 2..].trim_start_matches(' ')),
        None => (text.strip_suffix(':')?, ""),
    };
    is_plain_key(key).then(|| (key.to_string(), rest))
}

/// A mapping key written plain: letters, digits, `_ - . /`, starting with a
/// letter or `_`, and not a YAML 1.1 word.
pub(super) fn is_plain_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && is_plain_string(key)
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
}

/// Byte index (in `s`, which follows an opening quote) of the closing quote.
fn json_string_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// An inline value: JSON (string, flow collection, number, boolean, null) or
/// an unambiguous plain string.
fn scalar(text: &str) -> Option<Value> {
    let first = text.as_bytes().first().copied()?;
    match first {
        b'"' | b'{' | b'[' => serde_json::from_str(text).ok(),
        b'\'' => single_quoted(text),
        b'0'..=b'9' | b'-' | b'+' | b'.' => number(text),
        _ => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" | "~" => Some(Value::Null),
            _ if is_plain_string(text) => Some(Value::String(text.to_string())),
            _ => None,
        },
    }
}

/// `'...'` on one line, `''` standing for `'`.
fn single_quoted(text: &str) -> Option<Value> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(Value::String(inner.replace("''", "'")))
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`; other numeric-looking forms are left to
/// the full parser.
fn number(text: &str) -> Option<Value> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let int_ok = int == "0"
        || (!int.is_empty() && !int.starts_with('0') && int.bytes().all(|b| b.is_ascii_digit()));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    // `-0` and `-0.0` are left to the full parser rather than guessed at.
    if !(int_ok && frac_ok)
        || (text.starts_with('-') && digits.bytes().all(|b| matches!(b, b'0' | b'.')))
    {
        return None;
    }
    match frac {
        None => text
            .parse::<i64>()
            .ok()
            .map(|n| Value::Number(Number::from(n))),
        Some(_) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number),
    }
}

/// A plain scalar that every YAML reader takes as this same string: no
/// indicator characters, no comment or mapping marker, not a YAML 1.1 word.
pub(super) fn is_plain_string(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "NaN", "Inf",
    ];
    if WORDS.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        return false;
    }
    let first = text.chars().next().unwrap_or(' ');
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(' ')
        && !text.ends_with(':')
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '_' | '-'
                        | '.'
                        | '/'
                        | ' '
                        | ':'
                        | '='
                        | '+'
                        | '@'
                        | '%'
                        | '('
                        | ')'
                        | '<'
                        | '>'
                        | '~'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn both(text: &str) -> Option<Vec<Value>> {
        let fast = parse_documents(text);
        if let Some(f) = &fast {
            let full: Vec<Value> = serde_saphyr::from_multiple::<Value>(text)
                .unwrap()
                .into_iter()
                .filter(|v| !v.is_null())
                .collect();
            assert_eq!(f, &full, "fast and full readers disagree on:\n{text}");
        }
        fast
    }

    #[test]
    fn reads_the_subset() {
        let text = "---\napiVersion: v1\nkind: X\nmetadata:\n  name: \"a\"\n  labels: {\"k\":\"v\",\"a.b/c\":\"1\"}\nspec:\n  num: 3\n  f: 0.05\n  neg: -2\n  b: true\n  z: null\n  list:\n  - a\n  - name: x\n    port: 80\n  - - 1\n    - 2\n  deep:\n    - \"q\"\n    -\n      k: v\n  \"requests\":\n    cpu: \"100m\"\n  empty:\n  flow: [\"ALL\"]\n  e: {}\n---\n---\nkind: Why\n";
        let docs = both(text).expect("inside the subset");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["spec"]["list"][1], json!({"name": "x", "port": 80}));
        assert_eq!(docs[0]["spec"]["list"][2], json!([1, 2]));
        assert_eq!(docs[0]["spec"]["deep"], json!(["q", {"k": "v"}]));
        assert_eq!(docs[0]["spec"]["empty"], Value::Null);
        assert_eq!(docs[0]["spec"]["requests"]["cpu"], "100m");
    }

    #[test]
    fn leaves_everything_else_to_the_full_parser() {
        for text in [
            "a: yes\n",
            "a: 'x'y'\n",
            "a: 'x\n",
            "a: |\n  x\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 0755\n",
            "a: 1e3\n",
            "a: 25%\n",
            "a: 1.4.2\n",
            "a: 100m\n",
            "a: -0\n",
            "kind: Y\n",
            "n: 1\n",
            "a: x # c\n",
            "a: b: c\n",
            "a: x\n  continued\n",
            "a: 1\na: 2\n",
            "a:\n\t- x\n",
            "a: [x, y]\n",
            "? a\n: b\n",
            "a: .inf\n",
            "a: -\n",
        ] {
            assert_eq!(
                both(text),
                None,
                "{text:?} should be left to the full parser"
            );
        }
    }

    #[test]
    fn agrees_on_json_escapes() {
        let text = "data:\n  A: \"say \\\"hi\\\": {yes} # no\\n---\\n\\u00e9\"\n  B: \"0755\"\n";
        let docs = both(text).unwrap();
        assert_eq!(docs[0]["data"]["A"], "say \"hi\": {yes} # no\n---\né");
    }
}
