//! A YAML document as a tree of nodes that remember where they were written.
//!
//! The fleet file is decoded from this tree rather than straight through serde
//! so that every problem (unknown keys, wrong types, bad values) can be
//! collected in one pass, each with its line and column, instead of stopping
//! at the first. The events come from serde-saphyr's parser (`granit_parser`);
//! plain scalars are typed by the YAML 1.2 core schema.

use serde_saphyr::granit_parser::{Event, Marker, Options, Parser, ScalarStyle};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }

    fn from_marker(m: &Marker) -> Self {
        Pos {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// A node's value, typed by the YAML core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Where the node starts.
    pub pos: Pos,
    /// The scalar's text as written (after unquoting); empty for collections.
    pub text: String,
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    /// How the value reads in a "found …" message.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "nothing (null)".into(),
            Value::Bool(b) => format!("boolean {b}"),
            Value::Int(_) | Value::Float(_) => format!("number {}", self.text),
            Value::Str(s) => format!("string {s:?}"),
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }

    /// The scalar as text, for fields that take strings: numbers and booleans
    /// are accepted as written (`cpu: 1`, `PORT: 8080`).
    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(&self.text),
            _ => None,
        }
    }
}

/// A problem found while reading the YAML itself.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlProblem {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
    /// Syntax errors stop parsing; other problems (duplicate keys) do not.
    pub fatal: bool,
}

/// Upper bound on nodes, so that alias expansion ("billion laughs") cannot
/// exhaust memory.
const MAX_NODES: usize = 1_000_000;

/// Parses one YAML document. Returns `None` for an empty document (nothing
/// but comments or whitespace), plus every problem found.
pub fn parse(text: &str) -> (Option<Node>, Vec<YamlProblem>) {
    let mut b = Builder::default();
    let mut opts = Options::default();
    opts.emit_comments = false;
    let mut parser = Parser::new_from_str_with_options(text, opts);
    let mut documents = 0;
    while let Some(ev) = parser.next_event() {
        let (event, span) = match ev {
            Ok(x) => x,
            Err(e) => {
                b.problems.push(YamlProblem {
                    pos: Pos::from_marker(e.marker()),
                    message: format!("YAML syntax error: {}", e.info()),
                    hint: syntax_hint(&e.info()),
                    fatal: true,
                });
                return (None, b.problems);
            }
        };
        let pos = Pos::from_marker(&span.start);
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    b.problems.push(YamlProblem {
                        pos,
                        message: "the fleet file holds more than one YAML document".into(),
                        hint: Some("keep one fleet per file; remove the `---` separator".into()),
                        fatal: true,
                    });
                    return (None, b.problems);
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag_pos = span.tag_start.as_ref().map_or(pos, Pos::from_marker);
                let tag = tag.map(|t| {
                    t.core_suffix()
                        .map(str::to_owned)
                        .ok_or_else(|| t.original())
                });
                let node = match tag {
                    Some(Err(original)) => {
                        b.problems.push(YamlProblem {
                            pos: tag_pos,
                            message: format!("unsupported YAML tag `{original}`"),
                            hint: Some("remove the tag; fleet files use plain values".into()),
                            fatal: false,
                        });
                        scalar(&value, ScalarStyle::SingleQuoted, None, pos)
                    }
                    Some(Ok(suffix)) => scalar(&value, style, Some(&suffix), pos),
                    None => scalar(&value, style, None, pos),
                };
                b.push(node, anchor);
            }
            Event::SequenceStart(_, anchor, _) => b.open(Frame::Seq(pos, anchor, Vec::new())),
            Event::MappingStart(_, anchor, _) => b.open(Frame::Map(pos, anchor, Vec::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => b.close(),
            Event::Alias(id) => match b.anchors.get(&id).cloned() {
                Some(node) => {
                    b.count += count_nodes(&node);
                    b.push(node, 0);
                }
                None => b.push(
                    Node {
                        value: Value::Null,
                        pos,
                        text: String::new(),
                    },
                    0,
                ),
            },
            _ => {}
        }
        if b.count > MAX_NODES {
            b.problems.push(YamlProblem {
                pos,
                message: format!("the document expands to more than {MAX_NODES} nodes"),
                hint: Some("aliases expand to copies; use fewer nested aliases".into()),
                fatal: true,
            });
            return (None, b.problems);
        }
    }
    (b.root, b.problems)
}

fn syntax_hint(info: &str) -> Option<String> {
    let hint = if info.contains("tab") {
        "indent with spaces, not tabs"
    } else if info.contains("mapping values are not allowed") {
        "a `key: value` is indented deeper than its siblings, or follows a plain value; check the indentation, and quote values that contain `: `"
    } else if info.contains("flow mapping") {
        "a `{` opened earlier is not closed with `}`, or a `,` is missing between its entries"
    } else if info.contains("flow sequence") || info.contains("illegal placement of ':'") {
        "a `[` or `{` opened earlier is not closed, or a `,` is missing between its items"
    } else if info.contains("block collection") || info.contains("block mapping") {
        "line this entry up with its siblings: keys of one mapping start in the same column, and so do the `-` of one list"
    } else if info.contains("unknown anchor") {
        "define the anchor (`&name`) before an alias (`*name`) uses it"
    } else if info.contains("escape") {
        "inside double quotes write a backslash as `\\\\`, or use single quotes"
    } else if info.contains("quoted scalar") {
        "a quote opened here is not closed"
    } else {
        "check the indentation and the brackets on this line and the one before"
    };
    Some(hint.to_string())
}

enum Frame {
    Seq(Pos, usize, Vec<Node>),
    /// A mapping being built; the last field holds a key waiting for its value.
    Map(Pos, usize, Vec<Entry>, Option<(String, Pos)>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    root: Option<Node>,
    problems: Vec<YamlProblem>,
    count: usize,
}

impl Builder {
    fn open(&mut self, frame: Frame) {
        self.count += 1;
        self.stack.push(frame);
    }

    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (node, anchor) = match frame {
            Frame::Seq(pos, anchor, items) => (
                Node {
                    value: Value::Seq(items),
                    pos,
                    text: String::new(),
                },
                anchor,
            ),
            Frame::Map(pos, anchor, entries, _) => {
                let entries = self.apply_merge_keys(entries);
                (
                    Node {
                        value: Value::Map(entries),
                        pos,
                        text: String::new(),
                    },
                    anchor,
                )
            }
        };
        self.push(node, anchor);
    }

    fn push(&mut self, node: Node, anchor: usize) {
        self.count += 1;
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                None => {
                    let key = match &node.value {
                        Value::Seq(_) | Value::Map(_) => {
                            self.problems.push(YamlProblem {
                                pos: node.pos,
                                message:
                                    "a mapping key must be a plain value, not a list or mapping"
                                        .into(),
                                hint: None,
                                fatal: false,
                            });
                            String::from("?")
                        }
                        _ => node.text.clone(),
                    };
                    *pending = Some((key, node.pos));
                }
                Some((key, key_pos)) => {
                    let mut node = node;
                    // `key:` with nothing after it: point at the key.
                    if node.value == Value::Null {
                        node.pos = key_pos;
                    }
                    if let Some(first) = entries.iter().find(|e| e.key == key && key != "<<") {
                        self.problems.push(YamlProblem {
                            pos: key_pos,
                            message: format!(
                                "duplicate key `{key}` (first set at line {}, column {})",
                                first.key_pos.line, first.key_pos.column
                            ),
                            hint: Some("remove one of them".into()),
                            fatal: false,
                        });
                    } else {
                        entries.push(Entry {
                            key,
                            key_pos,
                            value: node,
                        });
                    }
                }
            },
        }
    }

    /// YAML merge keys (`<<: *base`): entries of the merged mappings that the
    /// mapping does not set itself are added, in order.
    fn apply_merge_keys(&mut self, entries: Vec<Entry>) -> Vec<Entry> {
        if !entries.iter().any(|e| e.key == "<<") {
            return entries;
        }
        let mut out: Vec<Entry> = Vec::new();
        let mut merged: Vec<Entry> = Vec::new();
        for e in entries {
            if e.key != "<<" {
                out.push(e);
                continue;
            }
            let sources = match e.value.value {
                Value::Map(m) => vec![m],
                Value::Seq(items) => items
                    .into_iter()
                    .filter_map(|n| match n.value {
                        Value::Map(m) => Some(m),
                        _ => None,
                    })
                    .collect(),
                _ => {
                    self.problems.push(YamlProblem {
                        pos: e.value.pos,
                        message: "a merge key `<<` must refer to a mapping (`<<: *anchor`)".into(),
                        hint: None,
                        fatal: false,
                    });
                    Vec::new()
                }
            };
            merged.extend(sources.into_iter().flatten());
        }
        for m in merged {
            if !out.iter().any(|e| e.key == m.key) {
                out.push(m);
            }
        }
        out
    }
}

fn count_nodes(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|e| 1 + count_nodes(&e.value)).sum(),
        _ => 0,
    }
}

/// Types a scalar: quoted and block scalars are strings; plain ones follow the
/// YAML 1.2 core schema. A core tag (`!!str`, `!!int`…) decides explicitly.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&str>, pos: Pos) -> Node {
    let plain = style == ScalarStyle::Plain;
    let value = match tag {
        Some("str") => Value::Str(text.to_owned()),
        Some("null") => Value::Null,
        Some("bool") => resolve_bool(text).map_or_else(|| Value::Str(text.to_owned()), Value::Bool),
        Some("int") => resolve_int(text).map_or_else(|| Value::Str(text.to_owned()), Value::Int),
        Some("float") => {
            resolve_float(text).map_or_else(|| Value::Str(text.to_owned()), Value::Float)
        }
        _ if !plain => Value::Str(text.to_owned()),
        _ => resolve_plain(text),
    };
    Node {
        value,
        pos,
        text: text.to_owned(),
    }
}

fn resolve_plain(t: &str) -> Value {
    if matches!(t, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    if let Some(b) = resolve_bool(t) {
        return Value::Bool(b);
    }
    if let Some(i) = resolve_int(t) {
        return Value::Int(i);
    }
    if let Some(f) = resolve_float(t) {
        return Value::Float(f);
    }
    Value::Str(t.to_owned())
}

fn resolve_bool(t: &str) -> Option<bool> {
    match t {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn resolve_int(t: &str) -> Option<i64> {
    if let Some(h) = t.strip_prefix("0x") {
        return i64::from_str_radix(h, 16).ok();
    }
    if let Some(o) = t.strip_prefix("0o") {
        return i64::from_str_radix(o, 8).ok();
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn resolve_float(t: &str) -> Option<f64> {
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if t.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        _ => {}
    }
    if matches!(t, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    // [0-9]+ (. [0-9]*)? | . [0-9]+, then an optional exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = all_digits(int)
        && frac.is_none_or(all_digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let d = e.strip_prefix(['-', '+']).unwrap_or(e);
        !d.is_empty() && all_digits(d)
    });
    if mantissa_ok && exponent_ok {
        t.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let (node, problems) = parse(text);
        assert!(problems.is_empty(), "{problems:?}");
        node.unwrap()
    }

    #[test]
    fn types_plain_scalars_by_the_core_schema() {
        let n = root("a: 3\nb: three\nc: 0.5\nd: true\ne: ~\nf: '3'\ng: 1.4.2\nh: yes\n");
        let Value::Map(entries) = n.value else {
            panic!()
        };
        let values: Vec<_> = entries.iter().map(|e| e.value.value.clone()).collect();
        assert_eq!(
            values,
            vec![
                Value::Int(3),
                Value::Str("three".into()),
                Value::Float(0.5),
                Value::Bool(true),
                Value::Null,
                Value::Str("3".into()),
                Value::Str("1.4.2".into()),
                Value::Str("yes".into()),
            ]
        );
    }

    #[test]
    fn positions_are_one_based() {
        let n = root("fleet: x\nservers:\n  - name: a\n");
        let Value::Map(entries) = n.value else {
            panic!()
        };
        assert_eq!(entries[0].key_pos, Pos::new(1, 1));
        assert_eq!(entries[0].value.pos, Pos::new(1, 8));
        let Value::Seq(items) = &entries[1].value.value else {
            panic!()
        };
        assert_eq!(items[0].pos, Pos::new(3, 5));
    }

    #[test]
    fn empty_documents_have_no_root() {
        assert_eq!(parse("").0, None);
        assert_eq!(parse("# only a comment\n\n").0, None);
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let (node, problems) = parse("a: 1\n b: 2\nc: [1, 2\n");
        assert!(node.is_none());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].fatal);
        assert!(
            problems[0].message.starts_with("YAML syntax error"),
            "{:?}",
            problems[0]
        );
        assert_eq!(problems[0].pos.line, 2);
    }

    #[test]
    fn syntax_errors_get_specific_hints() {
        let hint = |t: &str| parse(t).1[0].hint.clone().unwrap();
        assert_eq!(hint("a:\n\tb: 1\n"), "indent with spaces, not tabs");
        assert!(hint("a: {b: 1\nc: 2\n").starts_with("a `{` opened earlier"));
        assert!(hint("a: [1, 2\nb: 3\n").starts_with("a `[` or `{` opened earlier"));
        assert!(hint("servers:\n  - name: a\n   image: b\n").starts_with("line this entry up"));
        assert!(hint("a: *nope\n").starts_with("define the anchor"));
        assert!(hint("a: 1\n  b: 2\n").starts_with("a `key: value` is indented deeper"));
    }

    #[test]
    fn custom_tags_are_refused_at_the_tag() {
        let (_, problems) = parse("a: !custom x\n");
        assert_eq!(problems[0].message, "unsupported YAML tag `!custom`");
        assert_eq!(problems[0].pos, Pos::new(1, 4));
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_first_kept() {
        let (node, problems) = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].pos, Pos::new(3, 1));
        assert!(problems[0].message.contains("duplicate key `a`"));
        let Value::Map(entries) = node.unwrap().value else {
            panic!()
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].value.value, Value::Int(1));
    }

    #[test]
    fn aliases_and_merge_keys_expand() {
        let n = root("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\ncopy: *b\n");
        let Value::Map(entries) = n.value else {
            panic!()
        };
        let Value::Map(other) = &entries[1].value.value else {
            panic!()
        };
        let pairs: Vec<_> = other
            .iter()
            .map(|e| (e.key.as_str(), e.value.value.clone()))
            .collect();
        assert_eq!(pairs, vec![("y", Value::Int(3)), ("x", Value::Int(1))]);
        assert!(matches!(&entries[2].value.value, Value::Map(m) if m.len() == 2));
    }

    #[test]
    fn a_second_document_is_an_error() {
        let (_, problems) = parse("a: 1\n---\nb: 2\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].pos.line, 2);
    }

    #[test]
    fn floats_and_ints_resolve_strictly() {
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("-.5"), Value::Float(-0.5));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("1_000"), Value::Str("1_000".into()));
        assert_eq!(resolve_plain("."), Value::Str(".".into()));
        assert_eq!(resolve_plain("e3"), Value::Str("e3".into()));
    }
}
