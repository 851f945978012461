//! What kustomize makes of a kustomization file: the independent reader that
//! checks every clean merge.
//!
//! The merge plans from byte spans found by a line scanner
//! ([`crate::kustomization`]); a check that reused those spans would share
//! their blind spots (a quoted scalar running over lines that look like list
//! entries, a field spelled `Digest:`). So the result is read here from
//! scratch, by another path: granit-parser's full event stream, no prior scan,
//! no placeholder text, into a value tree, the way kustomize reads it:
//!
//! - field names of kustomize's structs (the top level, `images:` and
//!   `replicas:` entries) match case-insensitively, as Go's `encoding/json`
//!   matches them; free maps (`commonLabels`) keep their keys as written;
//! - plain scalars are typed by YAML 1.1 as go-yaml v2 types them
//!   ([`crate::yaml11`]); a number or bool where kustomize wants a string is
//!   an error, as is a string where it wants a number;
//! - anchors and aliases are resolved; a duplicate key, which kustomize reads
//!   silently as "the last one wins", is an error here, since a merge that
//!   writes one has lost a side's value;
//! - an empty string and an absent field are the same (Go's zero value).
//!
//! What this reader refuses, the merge does not vouch for.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use granit_parser::{Event, Parser, ScalarStyle, Span};

use crate::yaml11::{self, Plain};

/// A value as kustomize sees it after YAML 1.1 typing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value<'a> {
    /// `null`, `~`, or nothing.
    Null,
    /// A YAML 1.1 bool.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// An integer above `i64::MAX` (go-yaml v2 reads these as `uint64`).
    Uint(u64),
    /// A float, by its bits (so that NaN equals itself).
    Float(u64),
    /// A string, borrowed from the source where it is written as it reads.
    Str(Cow<'a, str>),
    /// A sequence.
    Seq(Vec<Self>),
    /// A mapping: JSON object semantics, so key order doesn't count.
    Map(BTreeMap<Cow<'a, str>, Self>),
    /// An `images:` or `replicas:` entry: its fields by canonical name, in
    /// name order (a map's allocation per entry was most of a large list's
    /// memory).
    Entry(Vec<(&'static str, Self)>),
    /// A field the check only compares whole (all but the lists it holds to
    /// the three-way rule item by item), kept as a 128-bit digest of its value: a
    /// kustomization's other fields can be large, and three inputs and a
    /// result are held at once.
    Digest(u128),
}

impl Value<'_> {
    /// The value's [`Value::Digest`]: two 64-bit hashes with fixed seeds, so
    /// the same value digests the same in every reading.
    fn digest(&self) -> Self {
        use std::hash::BuildHasher;
        let half = |seed| foldhash::quality::FixedState::with_seed(seed).hash_one(self);
        Self::Digest(u128::from(half(0x6b75_7374)) << 64 | u128::from(half(0x6f6d_6572)))
    }
}

/// A kustomization as kustomize reads it: its top-level fields by their
/// canonical names. `images:` and `replicas:` entries are maps with canonical
/// field names and no empty fields; an empty or null list is absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Kustomization<'a> {
    /// Top-level fields by canonical name.
    pub fields: BTreeMap<&'static str, Value<'a>>,
}

/// Why kustomize would refuse a file (or this reader won't vouch for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, and what to do.
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Every field of kustomize's `Kustomization` type (api/types/kustomization.go),
/// with how its value is checked.
const TOP_LEVEL: [(&str, Shape); 34] = [
    ("apiVersion", Shape::Str),
    ("kind", Shape::Str),
    ("metadata", Shape::Any),
    ("openapi", Shape::StrMap),
    ("namePrefix", Shape::Str),
    ("nameSuffix", Shape::Str),
    ("namespace", Shape::Str),
    ("commonLabels", Shape::StrMap),
    ("labels", Shape::List),
    ("commonAnnotations", Shape::StrMap),
    ("patchesStrategicMerge", Shape::StrList),
    ("patchesJson6902", Shape::List),
    ("patches", Shape::List),
    ("images", Shape::Entries(IMAGE_FIELDS)),
    ("imageTags", Shape::Entries(IMAGE_FIELDS)),
    ("replacements", Shape::List),
    ("replicas", Shape::Entries(REPLICA_FIELDS)),
    ("vars", Shape::Any),
    ("sortOptions", Shape::Any),
    ("resources", Shape::StrList),
    ("components", Shape::StrList),
    ("crds", Shape::StrList),
    ("bases", Shape::StrList),
    ("configMapGenerator", Shape::List),
    ("secretGenerator", Shape::List),
    ("helmGlobals", Shape::Any),
    ("helmCharts", Shape::List),
    ("helmChartInflationGenerator", Shape::Any),
    ("generatorOptions", Shape::Any),
    ("configurations", Shape::StrList),
    ("generators", Shape::StrList),
    ("transformers", Shape::StrList),
    ("validators", Shape::StrList),
    ("buildMetadata", Shape::StrList),
];

/// kustomize's `Image` fields, all strings.
const IMAGE_FIELDS: &[(&str, Shape)] = &[
    ("name", Shape::Str),
    ("newName", Shape::Str),
    ("newTag", Shape::Str),
    ("digest", Shape::Str),
    ("tagSuffix", Shape::Str),
];

/// kustomize's `Replica` fields.
const REPLICA_FIELDS: &[(&str, Shape)] = &[("name", Shape::Str), ("count", Shape::Int)];

/// The Go type a field decodes into, as far as the check needs it.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `string`: null and `""` mean absent.
    Str,
    /// `int64`.
    Int,
    /// `[]string`.
    StrList,
    /// `map[string]string`.
    StrMap,
    /// A list of structs the check holds to the three-way rule item by
    /// item (`patches`, `configMapGenerator`, ...); otherwise as read.
    List,
    /// A list of structs with these fields.
    Entries(&'static [(&'static str, Self)]),
    /// Anything; compared as read.
    Any,
}

/// Nodes aliases may expand to, in all: a file of aliases to aliases can
/// otherwise grow exponentially ("billion laughs"). Nodes written out in the
/// file are bounded by its size.
const MAX_ALIASED: usize = 10_000;

/// The longest list or map the check holds to the three-way rule item
/// by item (real kustomizations list a few hundred at most).
const MAX_ITEMS_KEPT: usize = 10_000;

/// How deep collections may nest: the tree is built by recursion, and no
/// kustomization comes near this.
const MAX_DEPTH: usize = 256;

/// Reads a kustomization file the way kustomize does.
pub fn read(bytes: &[u8]) -> Result<Kustomization<'_>, ReadError> {
    let src = std::str::from_utf8(bytes).map_err(|e| ReadError {
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        column: 1,
        message: "not valid UTF-8 (kustomize reads nothing else)".into(),
    })?;
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    Tree::new(src).document()
}

/// The top-level fields as written: keys as spelt, in source order, each
/// node with where it starts (aliases expanded, scalars typed as [`read`]
/// types them). For `check`, whose rules look inside the fields [`read`]
/// only compares whole; it fails where [`read`]'s YAML reading fails.
pub fn nodes(src: &str) -> Result<Vec<(Cow<'_, str>, Node<'_>)>, ReadError> {
    let mut tree = Tree::new(src);
    tree.next()?; // StreamStart
    let (ev, span) = match tree.next()? {
        (Event::DocumentStart(..), _) => tree.next()?,
        _ => return Ok(Vec::new()),
    };
    match tree.node(ev, span)?.kind {
        Kind::Map(pairs) => Ok(pairs),
        _ => Ok(Vec::new()),
    }
}

/// The names of kustomize's top-level fields.
pub fn top_level_fields() -> impl Iterator<Item = &'static str> {
    TOP_LEVEL.iter().map(|(name, _)| *name)
}

/// An untagged scalar's value: typed by YAML 1.1 when plain, a string when
/// quoted or a block.
pub fn scalar(text: Cow<'_, str>, plain: bool) -> Value<'_> {
    if !plain {
        return Value::Str(text);
    }
    match yaml11::resolve(&text) {
        Plain::Null => Value::Null,
        Plain::Bool(b) => Value::Bool(b),
        Plain::Int(n) => i64::try_from(n).map_or_else(
            |_| u64::try_from(n).map_or(Value::Float((n as f64).to_bits()), Value::Uint),
            Value::Int,
        ),
        Plain::Float(f) => Value::Float(f.to_bits()),
        Plain::Str => Value::Str(text),
    }
}

/// A keyed list (`images`, `replicas`) built from entries given as
/// `(key, value)` pairs, normalised exactly as [`read`] normalises one read
/// from a file: what a merge plan must come out as. `None` is an absent list.
pub fn list_of<'a>(
    key: &str,
    entries: Vec<Vec<(Cow<'a, str>, Value<'a>)>>,
) -> Result<Option<Value<'a>>, ReadError> {
    let (name, shape) = field(&TOP_LEVEL, key).ok_or_else(|| ReadError {
        line: 0,
        column: 0,
        message: format!("`{key}` is not a kustomization field"),
    })?;
    let leaf = |value| Node {
        kind: Kind::Scalar(value),
        line: 0,
        column: 0,
    };
    let items = entries
        .into_iter()
        .map(|pairs| Node {
            kind: Kind::Map(pairs.into_iter().map(|(k, v)| (k, leaf(v))).collect()),
            line: 0,
            column: 0,
        })
        .collect();
    shaped(
        Node {
            kind: Kind::Seq(items),
            line: 0,
            column: 0,
        },
        name,
        shape,
    )
}

/// A node of the file with where it starts, for messages.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// What the node is.
    pub kind: Kind<'a>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A node's content.
#[derive(Debug, Clone)]
pub enum Kind<'a> {
    /// A typed scalar (never a `Seq` or `Map`).
    Scalar(Value<'a>),
    Seq(Vec<Node<'a>>),
    /// Keys in source order, each once.
    Map(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    fn error(&self, message: impl Into<String>) -> ReadError {
        ReadError {
            line: self.line as usize,
            column: self.column as usize,
            message: message.into(),
        }
    }

    /// The node as a value, without positions.
    pub fn into_value(self) -> Value<'a> {
        match self.kind {
            Kind::Scalar(v) => v,
            Kind::Seq(items) => Value::Seq(items.into_iter().map(Self::into_value).collect()),
            Kind::Map(pairs) => Value::Map(
                pairs
                    .into_iter()
                    .map(|(k, n)| (k, n.into_value()))
                    .collect(),
            ),
        }
    }

    /// The number of nodes under this one, itself included.
    fn size(&self) -> usize {
        1 + match &self.kind {
            Kind::Scalar(_) => 0,
            Kind::Seq(items) => items.iter().map(Self::size).sum(),
            Kind::Map(pairs) => pairs.iter().map(|(_, n)| n.size()).sum(),
        }
    }
}

/// The canonical field a key names, matched as Go's JSON decoder matches it.
fn field(fields: &[(&'static str, Shape)], key: &str) -> Option<(&'static str, Shape)> {
    fields
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .copied()
}

/// A list or map of `len` items, kept item by item: the check holds these to
/// the three-way rule per item (`verify`). One longer than any real one is
/// compared whole, to bound the memory of four readings; the check then
/// takes only a side's value unchanged.
fn kept(node: Node<'_>, len: usize) -> Value<'_> {
    if len > MAX_ITEMS_KEPT {
        node.into_value().digest()
    } else {
        node.into_value()
    }
}

/// Checks `node` against the Go type `shape`; `None` is an absent field.
fn shaped<'a>(node: Node<'a>, name: &str, shape: Shape) -> Result<Option<Value<'a>>, ReadError> {
    let wrong = |node: &Node, want: &str| {
        Err(node.error(format!(
            "`{name}` must be {want} to kustomize (quote a value YAML 1.1 reads as a number or bool)"
        )))
    };
    let is_str = |n: &Node| matches!(n.kind, Kind::Scalar(Value::Str(_)));
    Ok(match (shape, &node.kind) {
        (Shape::Any, _) => Some(node.into_value().digest()),
        (_, Kind::Scalar(Value::Null)) => None,
        (Shape::Str, Kind::Scalar(Value::Str(s))) => (!s.is_empty()).then(|| node.into_value()),
        (Shape::Str, _) => return wrong(&node, "a string"),
        (Shape::Int, Kind::Scalar(Value::Int(_))) => Some(node.into_value()),
        (Shape::Int, Kind::Scalar(Value::Float(bits)))
            if f64::from_bits(*bits).fract() == 0.0 && f64::from_bits(*bits).abs() < 9.2e18 =>
        {
            // JSON carries `3.0` as `3`, which Go decodes into an int64.
            Some(Value::Int(f64::from_bits(*bits) as i64))
        }
        (Shape::Int, _) => return wrong(&node, "an integer"),
        (Shape::StrList, Kind::Seq(items)) => {
            if let Some(bad) = items.iter().find(|n| !is_str(n)) {
                return wrong(bad, "a list of strings");
            }
            let len = items.len();
            Some(kept(node, len))
        }
        (Shape::StrMap, Kind::Map(pairs)) => {
            let null = |n: &Node| matches!(n.kind, Kind::Scalar(Value::Null));
            if let Some((_, bad)) = pairs.iter().find(|(_, n)| !is_str(n) && !null(n)) {
                return wrong(bad, "a map of strings");
            }
            let len = pairs.len();
            Some(kept(node, len))
        }
        (Shape::List, Kind::Seq(items)) => {
            let len = items.len();
            Some(kept(node, len))
        }
        (Shape::List, _) => Some(node.into_value().digest()),
        (Shape::Entries(fields), Kind::Seq(_)) => {
            let Kind::Seq(items) = node.kind else {
                unreachable!("matched above")
            };
            let entries = items
                .into_iter()
                .map(|item| entry(item, name, fields))
                .collect::<Result<Vec<_>, _>>()?;
            (!entries.is_empty()).then_some(Value::Seq(entries))
        }
        (Shape::StrList | Shape::Entries(_), _) => return wrong(&node, "a list"),
        (Shape::StrMap, _) => return wrong(&node, "a map"),
    })
}

/// One entry of `images:` or `replicas:`, with canonical field names.
fn entry<'a>(
    node: Node<'a>,
    list: &str,
    fields: &[(&'static str, Shape)],
) -> Result<Value<'a>, ReadError> {
    let Kind::Map(pairs) = node.kind else {
        return Err(node.error(format!("an entry of `{list}` is not a mapping")));
    };
    let mut out: Vec<(&'static str, Value<'a>)> = Vec::with_capacity(pairs.len());
    for (key, child) in pairs {
        let (name, shape) = field(fields, &key).ok_or_else(|| {
            child.error(format!(
                "`{key}` is not a field of a `{list}` entry; kustomize refuses the file"
            ))
        })?;
        if out.iter().any(|(k, _)| *k == name) {
            return Err(child.error(format!(
                "`{name}` is given twice in one `{list}` entry (field names match case-insensitively)"
            )));
        }
        if let Some(value) = shaped(child, name, shape)? {
            out.push((name, value));
        }
    }
    out.sort_unstable_by_key(|(k, _)| *k);
    Ok(Value::Entry(out))
}

/// Builds the value tree from granit-parser's events.
struct Tree<'a> {
    src: &'a str,
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: BTreeMap<usize, Node<'a>>,
    /// Nodes aliases expanded to so far.
    aliased: usize,
    /// Collections open around the current node.
    depth: usize,
}

impl<'a> Tree<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            parser: Parser::new_from_str(src),
            anchors: BTreeMap::new(),
            aliased: 0,
            depth: 0,
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), ReadError> {
        loop {
            match self.parser.next_event() {
                Some(Ok((Event::Comment(..), _))) => {}
                Some(Ok(ev)) => return Ok(ev),
                Some(Err(e)) => {
                    return Err(ReadError {
                        line: e.marker().line(),
                        column: e.marker().col() + 1,
                        message: format!("YAML syntax error: {}", e.info()),
                    });
                }
                None => {
                    return Err(ReadError {
                        line: self.src.lines().count().max(1),
                        column: 1,
                        message: "unexpected end of YAML".into(),
                    });
                }
            }
        }
    }

    /// The one document of the stream (none is an empty kustomization).
    fn document(mut self) -> Result<Kustomization<'a>, ReadError> {
        self.next()?; // StreamStart
        let root = match self.next()? {
            (Event::StreamEnd, _) => return Ok(Kustomization::default()),
            (Event::DocumentStart(..), _) => self.top_level()?,
            (_, span) => return Err(at(span, "unexpected YAML event")),
        };
        self.next()?; // DocumentEnd
        match self.next()? {
            (Event::StreamEnd, _) => Ok(root),
            (_, span) => Err(at(
                span,
                "the file holds more than one YAML document (kustomize reads one; remove the extra `---` section)",
            )),
        }
    }

    /// The top-level mapping, each field checked as soon as it is read, so
    /// that only one field's tree is ever held.
    fn top_level(&mut self) -> Result<Kustomization<'a>, ReadError> {
        let mut fields = BTreeMap::new();
        match self.next()? {
            (Event::MappingStart(_, 0, None), _) => {}
            (ev, span) => {
                return match self.node(ev, span)?.kind {
                    Kind::Scalar(Value::Null) => Ok(Kustomization::default()),
                    _ => Err(at(span, "the top level is not a plain mapping of fields")),
                };
            }
        }
        let mut seen = Vec::new();
        loop {
            let (ev, span) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                return Ok(Kustomization { fields });
            }
            let key_node = self.node(ev, span)?;
            let key = key_of(&key_node)?;
            if seen.contains(&key) {
                return Err(key_node.error(format!(
                    "`{key}` appears twice at the top level (kustomize silently keeps the last one)"
                )));
            }
            let (name, shape) = field(&TOP_LEVEL, &key).ok_or_else(|| {
                key_node.error(format!(
                    "`{key}` is not a kustomization field; kustomize refuses the file"
                ))
            })?;
            let (ev, span) = self.next()?;
            let node = self.node(ev, span)?;
            if let Some(value) = shaped(node, name, shape)?
                && fields.insert(name, value).is_some()
            {
                return Err(key_node.error(format!(
                    "`{name}` is given twice (field names match case-insensitively)"
                )));
            }
            seen.push(key);
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<Node<'a>, ReadError> {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let (line, column) = (narrow(span.start.line()), narrow(span.start.col() + 1));
        let (kind, anchor) = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = match tag {
                    Some(tag) if tag.is_yaml_core_schema_tag("str") => Value::Str(text),
                    Some(tag) => {
                        return Err(at(span, format!("the tag `{tag}` is not read here")));
                    }
                    None => scalar(text, style == ScalarStyle::Plain),
                };
                (Kind::Scalar(value), anchor)
            }
            Event::SequenceStart(_, _, Some(_)) | Event::MappingStart(_, _, Some(_)) => {
                return Err(at(span, "tags on collections are not read here"));
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.depth >= MAX_DEPTH => {
                return Err(at(
                    span,
                    format!("collections nest deeper than {MAX_DEPTH} levels"),
                ));
            }
            Event::SequenceStart(_, anchor, None) => {
                self.depth += 1;
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, span)?);
                }
                self.depth -= 1;
                (Kind::Seq(items), anchor)
            }
            Event::MappingStart(_, anchor, None) => {
                self.depth += 1;
                let map = self.mapping()?;
                self.depth -= 1;
                (map, anchor)
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at(span, "an alias to an unknown anchor"))?;
                self.count(node.size(), span)?;
                return Ok(node);
            }
            _ => return Err(at(span, "unexpected YAML event")),
        };
        let node = Node { kind, line, column };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn count(&mut self, nodes: usize, span: Span) -> Result<(), ReadError> {
        self.aliased += nodes;
        if self.aliased > MAX_ALIASED {
            return Err(at(span, "aliases expand to over 10,000 nodes"));
        }
        Ok(())
    }

    fn mapping(&mut self) -> Result<Kind<'a>, ReadError> {
        let mut pairs: Vec<(Cow<'a, str>, Node<'a>)> = Vec::new();
        // Most mappings hold a handful of keys: a scan of them beats hashing
        // every key, and only large ones get a set.
        let mut seen: Option<std::collections::HashSet<Cow<'a, str>>> = None;
        loop {
            let (ev, span) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let key_node = self.node(ev, span)?;
            let key = key_of(&key_node)?;
            let twice = match &mut seen {
                Some(set) => !set.insert(key.clone()),
                None if pairs.len() < 16 => pairs.iter().any(|(k, _)| *k == key),
                None => {
                    let set = seen.insert(pairs.iter().map(|(k, _)| k.clone()).collect());
                    !set.insert(key.clone())
                }
            };
            if twice {
                return Err(key_node.error(format!(
                    "`{key}` appears twice in one mapping (kustomize silently keeps the last one)"
                )));
            }
            let (ev, span) = self.next()?;
            pairs.push((key, self.node(ev, span)?));
        }
        Ok(Kind::Map(pairs))
    }
}

/// A mapping key as the JSON object key kustomize decodes.
fn key_of<'a>(node: &Node<'a>) -> Result<Cow<'a, str>, ReadError> {
    match &node.kind {
        Kind::Scalar(Value::Str(s)) if s == "<<" => {
            Err(node.error("merge keys (`<<`) are not read here"))
        }
        Kind::Scalar(Value::Str(s)) => Ok(s.clone()),
        // YAMLToJSON writes these keys as their text.
        Kind::Scalar(Value::Int(n)) => Ok(n.to_string().into()),
        Kind::Scalar(Value::Uint(n)) => Ok(n.to_string().into()),
        Kind::Scalar(Value::Bool(b)) => Ok(b.to_string().into()),
        _ => Err(node.error("a key that is not a string")),
    }
}

fn at(span: Span, message: impl Into<String>) -> ReadError {
    ReadError {
        line: span.start.line(),
        column: span.start.col() + 1,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::read;

    /// kustomize refuses exactly these corpus files too: templates, several
    /// documents, YAML errors and fields it doesn't know. Anything else the
    /// reader refused would be a blind spot of its own.
    #[test]
    fn reads_every_corpus_file_kustomize_reads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/corpus/kustomize/files");
        let mut refused: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("test data {} is missing: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|f| read(&std::fs::read(f).unwrap()).is_err())
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        refused.sort();
        assert_eq!(
            refused,
            [
                "0037.yaml",
                "0065.yaml",
                "0254.yaml",
                "0263.yaml",
                "0349.yaml",
                "0350.yaml",
                "0351.yaml",
                "0352.yaml",
                "0353.yaml",
                "0381.yaml",
                "0382.yaml",
                "0383.yaml",
                "0384.yaml"
            ]
        );
    }

    #[test]
    fn fields_fold_values_type_and_duplicates_are_refused() {
        let k = read(b"Images:\n- Name: api\n  NEWTAG: '1.10'\n  digest: ''\nreplicas:\n- name: w\n  count: 3.0\n").unwrap();
        let images = format!("{:?}", k.fields["images"]);
        assert!(
            images.contains("\"name\", Str(\"api\")")
                && images.contains("\"newTag\", Str(\"1.10\")"),
            "{images}"
        );
        assert!(
            !images.contains("digest"),
            "an empty digest is absent: {images}"
        );
        assert!(format!("{:?}", k.fields["replicas"]).contains("Int(3)"));
        for (bad, why) in [
            (
                &b"images:\n- name: api\n  newTag: 1.10\n"[..],
                "must be a string",
            ),
            (
                b"images:\n- name: api\n  newTag: '1'\n  NewTag: '2'\n",
                "twice",
            ),
            (b"images: [{name: a}]\nImages: [{name: b}]\n", "twice"),
            (b"replicas:\n- name: w\n  count: '3'\n", "integer"),
            (b"namePrefix: a\nnamePrefix: b\n", "twice"),
            (b"metadata: &a [*a]\n", "alias"),
            (b"kind: x\n---\nkind: y\n", "more than one"),
        ] {
            let err = read(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{}: {err}", String::from_utf8_lossy(bad));
        }
    }
}
