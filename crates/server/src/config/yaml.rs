//! Reading YAML into a small tree that remembers the line of every node and key, so each problem
//! can name where it is. Scalars keep their text; their type follows the YAML 1.2 core schema.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A node of the document with the line it starts on (1-based).
#[derive(Debug, Clone)]
pub struct Node {
    /// What it holds.
    pub value: Value,
    /// Its line.
    pub line: usize,
}

/// The value of a node.
#[derive(Debug, Clone)]
pub enum Value {
    /// A scalar: its text and resolved type.
    Scalar(String, ScalarKind),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping in file order; a key is its scalar text and the key's line.
    Map(Vec<Entry>),
}

/// One key of a mapping.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key's text.
    pub key: String,
    /// The key's line.
    pub line: usize,
    /// Its value.
    pub node: Node,
}

/// The type of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    /// `~`, `null` or nothing.
    Null,
    /// `true` or `false`.
    Bool,
    /// A whole number.
    Int,
    /// A number with a fraction or exponent.
    Float,
    /// Anything else, or any quoted or block scalar.
    Str,
}

impl Node {
    /// What kind of value this is, for messages: "a string", "a mapping"...
    pub fn describe(&self) -> &'static str {
        match &self.value {
            Value::Scalar(_, ScalarKind::Null) => "nothing",
            Value::Scalar(_, ScalarKind::Bool) => "a boolean",
            Value::Scalar(_, ScalarKind::Int) => "an integer",
            Value::Scalar(_, ScalarKind::Float) => "a number",
            Value::Scalar(_, ScalarKind::Str) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Whether this is `~`, `null` or an empty value.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Scalar(_, ScalarKind::Null))
    }
}

/// A structural problem found while reading: a duplicate or non-scalar key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeProblem {
    /// The line.
    pub line: usize,
    /// The dotted path of the mapping holding the key, and the key.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The line (1-based).
    pub line: usize,
    /// The parser's explanation.
    pub message: String,
}

/// Parses a document. An empty document (or one of only comments) gives `None`.
pub fn parse(text: &str) -> Result<(Option<Node>, Vec<ShapeProblem>), SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut builder, true)
        .map_err(|error| SyntaxError {
            line: error.marker().line().max(1),
            message: error.info().to_string(),
        })?;
    if let Some(line) = builder.second_document {
        return Err(SyntaxError {
            line,
            message: "the file holds more than one YAML document".to_string(),
        });
    }
    Ok((builder.root, builder.problems))
}

enum Frame {
    Seq {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        pending: Option<(String, usize)>,
        line: usize,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// The key paths of the open mappings, for messages about duplicate keys.
    path: Vec<String>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    second_document: Option<usize>,
    problems: Vec<ShapeProblem>,
}

impl Builder {
    fn dotted_path(&self) -> String {
        self.path.join(".")
    }

    /// A finished node goes to its parent: as an item, a key or a key's value.
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let path = self.dotted_path();
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, pending, ..
            }) => match pending.take() {
                None => {
                    let key = match node.value {
                        Value::Scalar(text, _) => text,
                        _ => {
                            self.problems.push(ShapeProblem {
                                line: node.line,
                                path,
                                message: "a key must be a plain name, not a list or mapping"
                                    .to_string(),
                            });
                            String::new()
                        }
                    };
                    *pending = Some((key.clone(), node.line));
                    self.path.push(key);
                }
                Some((key, line)) => {
                    self.path.pop();
                    if let Some(first) = entries.iter().find(|entry| entry.key == key) {
                        // `path` still ends with the key while its value is being finished.
                        let full = path;
                        self.problems.push(ShapeProblem {
                            line,
                            path: full,
                            message: format!("duplicate key; it is already on line {}", first.line),
                        });
                    } else if !key.is_empty() {
                        entries.push(Entry { key, line, node });
                    }
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line().max(1);
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 {
                    self.second_document = Some(line);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                let tagged_str = tag.is_some_and(|tag| tag.suffix == "str");
                let kind = if quoted || tagged_str {
                    ScalarKind::Str
                } else {
                    resolve(&text)
                };
                self.finish(
                    Node {
                        value: Value::Scalar(text, kind),
                        line,
                    },
                    anchor,
                );
            }
            Event::Alias(anchor) => {
                let node = self.anchors.get(&anchor).cloned().unwrap_or(Node {
                    value: Value::Scalar(String::new(), ScalarKind::Null),
                    line,
                });
                self.finish(Node { line, ..node }, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                items: Vec::new(),
                line,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                pending: None,
                line,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    items,
                    line,
                    anchor,
                }) => self.finish(
                    Node {
                        value: Value::Seq(items),
                        line,
                    },
                    anchor,
                ),
                Some(Frame::Map {
                    entries,
                    line,
                    anchor,
                    ..
                }) => self.finish(
                    Node {
                        value: Value::Map(entries),
                        line,
                    },
                    anchor,
                ),
                None => {}
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

/// The YAML 1.2 core schema's type of a plain scalar.
fn resolve(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return ScalarKind::Bool,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float,
        _ => {}
    }
    if parse_int(text).is_some() {
        return ScalarKind::Int;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let numeric = unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if numeric
        && unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && text.parse::<f64>().is_ok()
    {
        return ScalarKind::Float;
    }
    ScalarKind::Str
}

/// A core-schema integer: decimal with an optional sign, `0x...` or `0o...`.
pub fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return i64::from_str_radix(octal, 8).ok();
    }
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A core-schema number.
pub fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ => parse_int(text)
            .map(|n| n as f64)
            .or_else(|| text.parse().ok()),
    }
}
