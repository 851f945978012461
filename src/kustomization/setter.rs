//! Applying `set image` / `set replicas` arguments to a file's bytes.
//!
//! The *values* follow `kustomize edit` exactly (`setimage.go`'s
//! `updateImage` and `setreplicas.go`):
//! an argument replaces the whole entry of that name, so every field it does
//! not set is dropped unless it is `*`; the first entry of a name is the one
//! matched and later duplicates are discarded; a name not in the file adds an
//! entry. The *bytes* do not: kustomize re-serialises the whole file, while
//! this module splices only what changed, so comments (Flux `$imagepolicy`
//! markers included), key order, quoting and layout survive, and a
//! concurrent edit of a neighbouring line still merges.
//!
//! Everything is driven by [`ListSchema`], so `images:` and `replicas:` share
//! one implementation. Every result is parsed again and checked before it is
//! returned: a layout this module mishandles becomes an error, never a
//! damaged file.

use std::collections::BTreeMap;
use std::ops::Range;

use super::edit::{is_yaml11_non_string, needs_escapes, scalar_token, splice};
use super::parser::{line_end, line_start, next_line};
use super::schema::ListSchema;
use super::{Document, Entry, Error, ErrorKind, Field, KeyedList, Style};

/// What an argument asks of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `*`: keep the file's current value (none when the entry is new).
    Keep,
    /// A string field.
    Str(String),
    /// An integer field (`count`), always written plain.
    Int(i64),
}

/// A whole entry as an argument describes it. Fields not listed are absent:
/// applying it to an existing entry removes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The entry's `name`, which selects the entry to replace.
    pub name: String,
    /// The other fields, by their schema spelling.
    pub fields: Vec<(&'static str, Value)>,
}

/// The new text, and what the caller should tell the user.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The whole file after the edit (equal to the input when nothing changed).
    pub text: String,
    /// Side effects worth a line on stderr (discarded duplicates).
    pub notes: Vec<String>,
}

/// A resolved field value: what the entry must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Str(String),
    Int(i64),
}

impl Target {
    fn token(&self, like: Option<&str>, flow: bool) -> String {
        match self {
            Self::Str(s) => scalar_token(s, like, flow),
            Self::Int(n) => n.to_string(),
        }
    }

    /// Whether `field` already holds this value in a form kustomize reads as
    /// such: an unquoted `1.10` holds the right text but kustomize reads a
    /// number, so it is rewritten quoted.
    fn held_by(&self, src: &str, field: &Field) -> bool {
        match self {
            Self::Str(s) => {
                field.read(src) == Some(s.as_str()) && !(field.plain() && is_yaml11_non_string(s))
            }
            Self::Int(n) => field.plain() && field.value(src) == n.to_string(),
        }
    }
}

/// An entry's fields as the setter will write them: each key and its value.
type Targets = Vec<(&'static str, Target)>;

/// The value of `field` in the entry kustomize would match for `name` (the
/// first one of that name), if the entry and the field exist.
pub fn current_value<'d>(
    doc: &'d Document<'_>,
    schema: &ListSchema,
    name: &str,
    field: &str,
) -> Option<&'d str> {
    let src = doc.src;
    let entry = doc
        .list(schema.key)?
        .entries
        .iter()
        .find(|e| e.read_name(src) == name)?;
    entry.read(src, field)
}

fn error_at(src: &str, offset: usize, message: &str, hint: &str) -> Error {
    Error::at_offset(src.as_bytes(), offset, message, hint)
}

/// An entry's fields under their schema spelling, refusing what kustomize
/// would refuse to read: unknown keys, and one key written twice in
/// different case.
fn known_fields<'e>(
    src: &str,
    schema: &ListSchema,
    entry: &'e Entry,
) -> Result<Vec<(&'static str, &'e Field<'e>)>, Error> {
    let mut out: Vec<(&'static str, &Field)> = Vec::new();
    for field in &entry.fields {
        let Some(key) = schema
            .fields
            .iter()
            .find(|k| k.eq_ignore_ascii_case(field.key(src)))
        else {
            let hint = match schema.suggest(field.key(src)) {
                Some(s) => format!("kustomize rejects unknown fields; did you mean `{s}`?"),
                None => format!(
                    "kustomize rejects unknown fields; it knows {}",
                    schema.fields.join(", ")
                ),
            };
            return Err(error_at(
                src,
                field.key_span().start,
                &format!(
                    "`{}` is not a field of `{}:` entries",
                    field.key(src),
                    schema.key
                ),
                &hint,
            ));
        };
        if out.iter().any(|(k, _)| k == key) {
            return Err(error_at(
                src,
                field.key_span().start,
                &format!("`{key}` is written twice in one entry (keys match case-insensitively)"),
                "kustomize keeps only the last one; delete the other",
            ));
        }
        out.push((key, field));
    }
    Ok(out)
}

/// The fields the entry must end up with: `*` takes the value from `old`
/// (kustomize's first duplicate), or vanishes when there is none.
fn resolve(src: &str, rep: &Replacement, old: &[(&'static str, &Field)]) -> Targets {
    rep.fields
        .iter()
        .filter_map(|(key, value)| {
            let target = match value {
                Value::Keep => Target::Str(
                    old.iter()
                        .find(|(k, _)| k == key)
                        .and_then(|(_, f)| f.read(src))?
                        .to_owned(),
                ),
                Value::Str(s) => Target::Str(s.clone()),
                Value::Int(n) => Target::Int(*n),
            };
            Some((*key, target))
        })
        .collect()
}

/// Applies `reps` to the `schema.key` list of `doc`.
pub fn apply(
    doc: &Document<'_>,
    schema: &ListSchema,
    reps: &[Replacement],
) -> Result<Applied, Error> {
    let src = doc.src;
    let list = doc.list(schema.key);
    let mut edits = Vec::new();
    let mut notes = Vec::new();
    let mut added: Vec<(&str, Targets)> = Vec::new();
    let mut expected: Vec<(&str, Targets)> = Vec::new();
    for rep in reps {
        if rep.name.is_empty() {
            return Err(Error {
                line: 1,
                column: 1,
                message: format!("an argument for `{}:` has an empty name", schema.key),
                hint: "give the entry a name (kustomize would write a nameless entry that matches nothing useful)"
                    .to_owned(),
                kind: ErrorKind::Structure,
            });
        }
        if let Some(value) = [rep.name.as_str()]
            .into_iter()
            .chain(rep.fields.iter().filter_map(|(_, v)| match v {
                Value::Str(s) => Some(s.as_str()),
                _ => None,
            }))
            .find(|v| needs_escapes(v))
        {
            return Err(Error {
                line: 1,
                column: 1,
                message: format!("`{value}` can't be written without escapes (it holds a control character, or a `'` with a `\"` or `\\`)"),
                hint: "an image name, tag or digest can't hold these characters, and kustomerge writes only values that need no escapes"
                    .to_owned(),
                kind: ErrorKind::Structure,
            });
        }
        let found = list.and_then(|l| {
            let mut same = l.entries.iter().filter(|e| e.read_name(src) == rep.name);
            same.next().map(|first| (l, first, same))
        });
        let Some((list, entry, same)) = found else {
            added.push((&rep.name, resolve(src, rep, &[])));
            continue;
        };
        let old = known_fields(src, schema, entry)?;
        let target = resolve(src, rep, &old);
        edits.extend(edit_entry(doc, schema, list, entry, &old, &target));
        for dup in same {
            notes.push(format!(
                "removed the duplicate `{}` entry at line {}, as kustomize does (its first entry is the one that was set)",
                rep.name, dup.line
            ));
            edits.push((remove_entry(src, list, dup), String::new()));
        }
        expected.push((&rep.name, target));
    }
    expected.extend(added.iter().cloned());
    if !added.is_empty() {
        edits.extend(add_entries(doc, schema, list, &added));
    }
    let text = splice(src, merge_removals(edits));
    recheck(&text, schema, &expected)?;
    Ok(Applied { text, notes })
}

/// Joins touching or overlapping removals. Only the last line of a file without a final
/// newline is removed together with the break *before* it, so that
/// property survives; when the line above goes too, the joint removal must
/// start one break earlier for the same reason.
fn merge_removals(mut edits: Vec<(Range<usize>, String)>) -> Vec<(Range<usize>, String)> {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out: Vec<(Range<usize>, String)> = Vec::with_capacity(edits.len());
    for (range, text) in edits {
        match out.last_mut() {
            Some((prev, prev_text))
                if prev_text.is_empty() && text.is_empty() && range.start <= prev.end =>
            {
                let overlap = prev.end - range.start;
                *prev = prev.start - overlap..prev.end.max(range.end);
            }
            _ => out.push((range, text)),
        }
    }
    out
}

/// Re-reads the result and checks that each named entry holds exactly its
/// target fields.
fn recheck(text: &str, schema: &ListSchema, expected: &[(&str, Targets)]) -> Result<(), Error> {
    let broken = |line: usize, what: String| Error {
        line,
        column: 1,
        message: format!("kustomerge could not edit this layout safely ({what})"),
        hint: "the file was left untouched; edit it by hand, and please report the layout"
            .to_owned(),
        kind: ErrorKind::Unsupported,
    };
    // Only the list is compared, so the merge driver's faster reader serves
    // (it still has the full parser check everything around the lists).
    let doc = Document::parse_lists(text)
        .map_err(|e| broken(e.line, format!("the result does not parse: {}", e.message)))?;
    for (name, fields) in expected {
        let entry = doc
            .list(schema.key)
            .and_then(|l| l.entries.iter().find(|e| e.read_name(text) == *name))
            .ok_or_else(|| broken(1, format!("entry `{name}` is missing from the result")))?;
        let have = entry
            .fields
            .iter()
            .filter(|f| !f.key(text).eq_ignore_ascii_case("name"))
            .count();
        let all_held = fields.iter().all(|(key, t)| {
            entry
                .field_ci(text, key)
                .is_some_and(|f| t.held_by(text, f))
        });
        if !all_held || have != fields.len() {
            return Err(broken(
                entry.line,
                format!("entry `{name}` does not read back as intended"),
            ));
        }
    }
    Ok(())
}

/// Whether an entry is a flow mapping (`{name: x}`), whatever its list's style.
fn is_flow_mapping(src: &str, entry: &Entry) -> bool {
    let rest = &src[entry.start..];
    rest.starts_with('{') || rest[1..].trim_start_matches([' ', '\t']).starts_with('{')
}

/// The range that removes whole lines `start..end` (a line start and a line
/// end), taking the preceding line break instead of the following one on a
/// last line without a final newline, so that property of the file survives.
pub(crate) fn line_removal(src: &str, start: usize, end: usize) -> Range<usize> {
    let next = next_line(src, end);
    if next > end || start == 0 {
        return start..next;
    }
    let before = if src[..start].ends_with("\r\n") { 2 } else { 1 };
    start - before..end
}

fn field_end(src: &str, f: &Field) -> usize {
    line_end(src, f.value_span().end.max(f.key_span().end))
}

/// Flux reads a setter marker from the comment line directly above a
/// scalar; when the scalar goes, its marker must not pass to the field below.
fn is_setter_marker(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('#') && (t.contains("$imagepolicy") || t.contains("io.k8s.cli.setters"))
}

fn marked_from_above(src: &str, f: &Field) -> bool {
    let start = line_start(src, f.key_span().start);
    start > 0 && is_setter_marker(&src[line_start(src, start - 1)..start])
}

fn remove_field_lines(src: &str, f: &Field) -> Range<usize> {
    let mut start = line_start(src, f.key_span().start);
    while start > 0 {
        let prev = line_start(src, start - 1);
        if !is_setter_marker(&src[prev..start]) {
            break;
        }
        start = prev;
    }
    line_removal(src, start, field_end(src, f))
}

fn remove_entry(src: &str, list: &KeyedList, entry: &Entry) -> Range<usize> {
    if list.style == Style::Flow {
        // Never the first entry (the first of its name is kept), so the
        // separator before it goes with it.
        let i = list
            .entries
            .iter()
            .position(|e| e.start == entry.start)
            .unwrap_or(0);
        let prev_end = list.entries[..i].last().map_or(entry.start, |p| p.span.end);
        return prev_end..entry.span.end;
    }
    line_removal(src, line_start(src, entry.start), entry.span.end)
}

/// What happens to one existing field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FieldEdit {
    Keep,
    Replace(String),
    Remove,
}

/// The token a new field copies its quoting from: the same field in the
/// first entry that has it.
fn like<'s>(src: &'s str, list: Option<&KeyedList>, key: &str) -> Option<&'s str> {
    list?
        .entries
        .iter()
        .find_map(|e| e.field_ci(src, key))
        .map(|f| &src[f.value_span()])
}

/// The position of `key` in the schema's field order (`name` first).
fn schema_pos(schema: &ListSchema, key: &str) -> usize {
    schema
        .fields
        .iter()
        .position(|k| *k == key)
        .unwrap_or(usize::MAX)
}

/// Where a new field goes among existing `keys` (index, schema spelling):
/// right after the one that precedes it in schema order, so `newTag` lands
/// after `newName` whatever order the entry uses. `None`: before them all.
fn slot_after<'k>(
    schema: &ListSchema,
    keys: impl Iterator<Item = (usize, &'k str)>,
    key: &str,
) -> Option<usize> {
    keys.filter(|(_, k)| schema_pos(schema, k) < schema_pos(schema, key))
        .max_by_key(|(_, k)| schema_pos(schema, k))
        .map(|(i, _)| i)
}

fn edit_entry(
    doc: &Document<'_>,
    schema: &ListSchema,
    list: &KeyedList,
    entry: &Entry,
    old: &[(&'static str, &Field)],
    target: &Targets,
) -> Vec<(Range<usize>, String)> {
    let src = doc.src;
    let flow = list.style == Style::Flow || is_flow_mapping(src, entry);
    let plans: Vec<FieldEdit> = old
        .iter()
        .map(|(key, f)| match target.iter().find(|(k, _)| k == key) {
            _ if *key == "name" => FieldEdit::Keep,
            Some((_, t)) if t.held_by(src, f) => FieldEdit::Keep,
            Some((_, t)) => FieldEdit::Replace(t.token(Some(&src[f.value_span()]), flow)),
            None => FieldEdit::Remove,
        })
        .collect();
    let survivors = || {
        (0..old.len())
            .filter(|&i| plans[i] != FieldEdit::Remove)
            .map(|i| (i, old[i].0))
    };
    let inserts: Vec<Insert> = target
        .iter()
        .filter(|(k, _)| !old.iter().any(|(o, _)| o == k))
        .map(|(k, t)| Insert {
            // `name` survives and precedes every other field, so there is
            // always an anchor; the last survivor is only a safe default.
            after: slot_after(schema, survivors(), k)
                .or_else(|| survivors().next_back().map(|(i, _)| i))
                .unwrap_or(0),
            text: format!("{k}: {}", t.token(like(src, Some(list), k), flow)),
        })
        .collect();
    if flow {
        flow_entry_edit(src, entry, old, &plans, &inserts)
            .into_iter()
            .collect()
    } else {
        block_entry_edits(doc, entry, old, &plans, &inserts)
    }
}

/// A field added to an existing entry: `key: token`, after field `after`.
struct Insert {
    after: usize,
    text: String,
}

/// The text of a field from its key to the end of its line, with its value
/// replaced as planned.
fn field_text(src: &str, f: &Field, plan: &FieldEdit) -> String {
    let mut out = String::from(&src[f.key_span().start..f.value_span().start]);
    match plan {
        FieldEdit::Replace(token) => out.push_str(token),
        _ => out.push_str(&src[f.value_span()]),
    }
    out.push_str(&src[f.value_span().end..field_end(src, f)]);
    out
}

/// The edit that sets a value: in place, or after the colon when the value
/// is empty (a null `key:` has no token to replace).
fn value_edit(src: &str, f: &Field, token: &str) -> (Range<usize>, String) {
    if f.value_span().is_empty() {
        let colon = f.key_span().end + src[f.key_span().end..].find(':').unwrap_or(0) + 1;
        return (colon..colon, format!(" {token}"));
    }
    (f.value_span(), token.to_owned())
}

fn block_entry_edits(
    doc: &Document<'_>,
    entry: &Entry,
    old: &[(&'static str, &Field)],
    plans: &[FieldEdit],
    inserts: &[Insert],
) -> Vec<(Range<usize>, String)> {
    let src = doc.src;
    let mut edits = Vec::new();
    let first = old[0].1;
    let on_dash_line = line_start(src, first.key_span().start) == line_start(src, entry.start);
    // The field written on the `- ` line can't simply lose its line: a
    // surviving field moves up to take its place, preferably one without a
    // setter marker above it (the marker would stay behind).
    let moved = (on_dash_line && plans[0] == FieldEdit::Remove)
        .then(|| {
            let mut survivors = (1..old.len()).filter(|&i| plans[i] != FieldEdit::Remove);
            survivors
                .clone()
                .find(|&i| !marked_from_above(src, old[i].1))
                .or_else(|| survivors.next())
        })
        .flatten();
    if let Some(s) = moved {
        let survivor = old[s].1;
        edits.push((
            first.key_span().start..field_end(src, first),
            field_text(src, survivor, &plans[s]),
        ));
        let start = line_start(src, survivor.key_span().start);
        edits.push((
            line_removal(src, start, field_end(src, survivor)),
            String::new(),
        ));
    }
    for (i, ((_, f), plan)) in old.iter().zip(plans).enumerate() {
        match plan {
            FieldEdit::Replace(token) if moved != Some(i) => edits.push(value_edit(src, f, token)),
            FieldEdit::Remove if !(i == 0 && moved.is_some()) => {
                edits.push((remove_field_lines(src, f), String::new()));
            }
            _ => {}
        }
    }
    // New fields go on lines of their own after their anchor.
    let indent = " ".repeat(first.key_span().start - line_start(src, first.key_span().start));
    let mut at: BTreeMap<usize, String> = BTreeMap::new();
    for insert in inserts {
        let pos = if moved == Some(insert.after) {
            field_end(src, first)
        } else {
            field_end(src, old[insert.after].1)
        };
        let text = at.entry(pos).or_default();
        text.push_str(doc.eol.as_str());
        text.push_str(&indent);
        text.push_str(&insert.text);
    }
    edits.extend(at.into_iter().map(|(pos, text)| (pos..pos, text)));
    edits
}

/// A flow mapping is rebuilt from its own pieces: the text before the first
/// key, each surviving `key: value`, the original separators, and the text
/// after the last value.
fn flow_entry_edit(
    src: &str,
    entry: &Entry,
    old: &[(&'static str, &Field)],
    plans: &[FieldEdit],
    inserts: &[Insert],
) -> Option<(Range<usize>, String)> {
    let open = entry.start + src[entry.start..].find('{')?;
    let last = old.last()?.1;
    let close = last.value_span().end + src[last.value_span().end..].find('}')? + 1;
    let seps: Vec<&str> = old
        .windows(2)
        .map(|w| &src[w[0].1.value_span().end..w[1].1.key_span().start])
        .collect();
    let sep = |i: usize| seps.get(i).or(seps.last()).copied().unwrap_or(", ");
    let mut items: Vec<String> = Vec::new();
    for (i, ((_, f), plan)) in old.iter().zip(plans).enumerate() {
        if *plan != FieldEdit::Remove {
            let mut t = String::from(&src[f.key_span().start..f.value_span().start]);
            match plan {
                FieldEdit::Replace(token) => t.push_str(token),
                _ => t.push_str(&src[f.value_span()]),
            }
            items.push(t);
        }
        items.extend(
            inserts
                .iter()
                .filter(|n| n.after == i)
                .map(|n| n.text.clone()),
        );
    }
    let mut text = String::from(&src[open..old[0].1.key_span().start]);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            text.push_str(sep(i - 1));
        }
        text.push_str(item);
    }
    text.push_str(&src[last.value_span().end..close]);
    (text != src[open..close]).then_some((open..close, text))
}

/// How a new entry is written, copied from an existing one when there is one.
struct EntryStyle {
    flow: bool,
    /// Block: the `- ` prefix of the first line (indentation included).
    /// Flow mapping: what precedes `{` (`- ` in a block list, nothing in a flow list).
    dash: String,
    /// Block: the indentation of the other lines. Flow: the text after `{`.
    indent: String,
    /// Flow: the separator between fields.
    sep: String,
    /// Flow: the text after the last value, `}` included.
    close: String,
    /// Field order, by schema spelling.
    order: Vec<&'static str>,
}

impl EntryStyle {
    fn block(dash_col: usize) -> Self {
        Self {
            flow: false,
            dash: format!("{}- ", " ".repeat(dash_col)),
            indent: " ".repeat(dash_col + 2),
            sep: String::new(),
            close: String::new(),
            order: Vec::new(),
        }
    }

    fn flow() -> Self {
        Self {
            flow: true,
            dash: String::new(),
            indent: String::new(),
            sep: ", ".to_owned(),
            close: "}".to_owned(),
            order: Vec::new(),
        }
    }

    fn from_entry(src: &str, schema: &ListSchema, entry: &Entry) -> Self {
        let order = entry
            .fields
            .iter()
            .filter_map(|f| {
                schema
                    .fields
                    .iter()
                    .copied()
                    .find(|k| k.eq_ignore_ascii_case(f.key(src)))
            })
            .collect();
        let Some(first) = entry.fields.first() else {
            return Self::block(entry.start - line_start(src, entry.start));
        };
        if is_flow_mapping(src, entry) {
            let open = entry.start + src[entry.start..].find('{').unwrap_or(0);
            let last = entry.fields.last().unwrap_or(first);
            let close_at = src[last.value_span().end..]
                .find('}')
                .map_or(last.value_span().end, |i| last.value_span().end + i + 1);
            let sep = match &entry.fields[..] {
                [a, b, ..] => src[a.value_span().end..b.key_span().start].to_owned(),
                _ => ", ".to_owned(),
            };
            return Self {
                flow: true,
                dash: if open == entry.start {
                    String::new()
                } else {
                    src[line_start(src, entry.start)..open].to_owned()
                },
                indent: src[open + 1..first.key_span().start].to_owned(),
                sep,
                close: src[last.value_span().end..close_at].to_owned(),
                order,
            };
        }
        let dash_col = entry.start - line_start(src, entry.start);
        let key_col = first.key_span().start - line_start(src, first.key_span().start);
        Self {
            flow: false,
            dash: format!(
                "{}-{}",
                " ".repeat(dash_col),
                " ".repeat(key_col.saturating_sub(dash_col + 1).max(1))
            ),
            indent: " ".repeat(key_col.max(dash_col + 2)),
            sep: String::new(),
            close: String::new(),
            order,
        }
    }

    /// Renders `name` plus `fields`, in the template's key order and then the
    /// schema's, with values quoted like the same fields of the list.
    fn render(
        &self,
        src: &str,
        schema: &ListSchema,
        list: Option<&KeyedList>,
        name: &str,
        fields: &Targets,
        eol: &str,
    ) -> String {
        let name_target = Target::Str(name.to_owned());
        let mut all: Vec<(&str, &Target)> = vec![("name", &name_target)];
        all.extend(fields.iter().map(|(k, t)| (*k, t)));
        // The template's keys keep its order; others follow their schema
        // predecessor (`-1`: before them all).
        let template = || self.order.iter().copied().enumerate();
        all.sort_by_key(|(k, _)| match self.order.iter().position(|o| o == k) {
            Some(pos) => (pos as i64, 0, 0),
            None => (
                slot_after(schema, template(), k).map_or(-1, |i| i as i64),
                1,
                schema_pos(schema, k),
            ),
        });
        let pairs = all
            .iter()
            .map(|(k, t)| format!("{k}: {}", t.token(like(src, list, k), self.flow)));
        if self.flow {
            let body: Vec<String> = pairs.collect();
            format!(
                "{}{{{}{}{}",
                self.dash,
                self.indent,
                body.join(&self.sep),
                self.close
            )
        } else {
            let mut out = String::new();
            for (i, pair) in pairs.enumerate() {
                if i == 0 {
                    out.push_str(&self.dash);
                } else {
                    out.push_str(eol);
                    out.push_str(&self.indent);
                }
                out.push_str(&pair);
            }
            out
        }
    }
}

/// The indentation the file uses for block sequences under top-level keys
/// (`resources:` then `  - a.yaml`), so a created list looks like its neighbours.
fn sequence_indent(doc: &Document<'_>) -> usize {
    let src = doc.src;
    doc.keys
        .iter()
        .find_map(|k| {
            let next = next_line(src, line_end(src, k.span.start));
            if next >= k.span.end {
                return None;
            }
            let line = &src[next..line_end(src, next)];
            let body = line.trim_start_matches(' ');
            (body.starts_with("- ") || body == "-").then(|| line.len() - body.len())
        })
        .unwrap_or(0)
}

/// The edits that add `added` to `list` (or a new `schema.key:` list),
/// each entry written in the style of the list's first.
fn add_entries(
    doc: &Document<'_>,
    schema: &ListSchema,
    list: Option<&KeyedList>,
    added: &[(&str, Targets)],
) -> Vec<(Range<usize>, String)> {
    // A list with no entries yet is sorted, like the one kustomize writes.
    let mut added: Vec<&(&str, Targets)> = added.iter().collect();
    if list.is_none_or(|l| l.entries.is_empty()) {
        added.sort_by(|a, b| a.0.cmp(b.0));
    }
    let Some(list) = list else {
        return vec![new_list(doc, schema, &added)];
    };
    let render = |style: &EntryStyle, (name, fields): &(&str, Targets)| {
        style.render(doc.src, schema, Some(list), name, fields, doc.eol.as_str())
    };
    match (list.style, list.entries.first()) {
        (Style::Empty, _) => {
            let style = EntryStyle::block(sequence_indent(doc));
            let texts = added.iter().map(|a| render(&style, a));
            into_null(doc, list, texts)
        }
        (_, None) => {
            // `images: []`: the entries go between the brackets.
            let texts: Vec<String> = added
                .iter()
                .map(|a| render(&EntryStyle::flow(), a))
                .collect();
            vec![(list.header.end..list.header.end, texts.join(", "))]
        }
        (_, Some(template)) => {
            let style = EntryStyle::from_entry(doc.src, schema, template);
            beside_entries(doc, list, &added, |a| render(&style, a))
        }
    }
}

/// A `key:` list holding `added`, appended to the file.
fn new_list(
    doc: &Document<'_>,
    schema: &ListSchema,
    added: &[&(&str, Targets)],
) -> (Range<usize>, String) {
    let (src, eol) = (doc.src, doc.eol.as_str());
    let style = EntryStyle::block(sequence_indent(doc));
    let mut text = String::new();
    let terminated = src.is_empty() || src.ends_with('\n');
    if !terminated {
        text.push_str(eol);
    }
    text.push_str(schema.key);
    text.push(':');
    for (name, fields) in added {
        text.push_str(eol);
        text.push_str(&style.render(src, schema, None, name, fields, eol));
    }
    if terminated {
        text.push_str(eol);
    }
    (src.len()..src.len(), text)
}

/// `images:` or `images: ~`: the null token goes, block entries follow.
fn into_null(
    doc: &Document<'_>,
    list: &KeyedList,
    texts: impl Iterator<Item = String>,
) -> Vec<(Range<usize>, String)> {
    let header = &doc.src[list.header.clone()];
    let mut edits = Vec::new();
    let after_colon = header.find(':').map_or(header.len(), |i| i + 1);
    let value = header[after_colon..].trim_start();
    if !value.is_empty() && !value.starts_with('#') {
        let start = list.header.start + header.len() - value.len();
        let len = value.find([' ', '\t']).unwrap_or(value.len());
        edits.push((start - 1..start + len, String::new()));
    }
    let eol = doc.eol.as_str();
    let text: String = texts.map(|t| format!("{eol}{t}")).collect();
    edits.push((list.header.end..list.header.end, text));
    edits
}

/// New entries among a list's existing ones: in name order where the list
/// is sorted, else at the end, separated as the list separates its own.
fn beside_entries(
    doc: &Document<'_>,
    list: &KeyedList,
    added: &[&(&str, Targets)],
    render: impl Fn(&(&str, Targets)) -> String,
) -> Vec<(Range<usize>, String)> {
    let (src, eol) = (doc.src, doc.eol.as_str());
    let entries = &list.entries;
    let sorted = entries
        .windows(2)
        .all(|w| w[0].read_name(src) <= w[1].read_name(src));
    let mut slots: BTreeMap<usize, Vec<&(&str, Targets)>> = BTreeMap::new();
    for a in added {
        let k = if sorted {
            entries.partition_point(|e| e.read_name(src) <= a.0)
        } else {
            entries.len()
        };
        slots.entry(k).or_default().push(a);
    }
    let last_end = entries[entries.len() - 1].span.end;
    let sep = match &entries[..] {
        [a, b, ..] => &src[a.span.end..b.start],
        _ => ", ",
    };
    let gap = if list.style == Style::Flow {
        ""
    } else {
        block_gap(src, entries)
    };
    slots
        .into_iter()
        .map(|(k, mut group)| {
            if sorted {
                group.sort_by(|a, b| a.0.cmp(b.0));
            }
            let texts = group.into_iter().map(&render);
            if list.style == Style::Flow {
                return match entries.get(k) {
                    Some(e) => (e.start..e.start, texts.map(|t| t + sep).collect()),
                    None => (
                        last_end..last_end,
                        texts.map(|t| format!("{sep}{t}")).collect(),
                    ),
                };
            }
            match entries.get(k) {
                Some(e) if k == 0 => (
                    e.span.start..e.span.start,
                    texts.map(|t| format!("{t}{eol}{gap}")).collect(),
                ),
                Some(e) => (
                    e.span.start..e.span.start,
                    texts.map(|t| format!("{gap}{t}{eol}")).collect(),
                ),
                None => (
                    last_end..last_end,
                    texts.map(|t| format!("{eol}{gap}{t}")).collect(),
                ),
            }
        })
        .collect()
}

/// The blank lines that separate a block list's entries, when every gap
/// is the same run of blank lines (so a new entry is spaced like the rest).
fn block_gap<'s>(src: &'s str, entries: &[Entry]) -> &'s str {
    let gaps: Vec<&str> = entries[1..]
        .iter()
        .map(|e| &src[e.span.start..line_start(src, e.start)])
        .collect();
    match gaps.first() {
        Some(g) if gaps.iter().all(|x| x == g) && g.trim().is_empty() => g,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kustomization::image_arg::{parse_images, parse_replicas};
    use crate::kustomization::schema::{IMAGES, REPLICAS};

    fn set(src: &str, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let reps: Vec<_> = parse_images(&args)
            .unwrap()
            .iter()
            .map(|i| i.replacement())
            .collect();
        let doc = Document::parse(src).unwrap();
        apply(&doc, &IMAGES, &reps).unwrap().text
    }

    fn replicas(src: &str, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let reps: Vec<_> = parse_replicas(&args)
            .unwrap()
            .iter()
            .map(|r| r.replacement())
            .collect();
        let doc = Document::parse(src).unwrap();
        apply(&doc, &REPLICAS, &reps).unwrap().text
    }

    #[test]
    fn replaces_only_the_changed_scalar() {
        let src = "images:\n- name: app # {\"$imagepolicy\": \"ns:app\"}\n  newName: reg/app\n  newTag: '1.0' # {\"$imagepolicy\": \"ns:app:tag\"}\n";
        assert_eq!(
            set(src, &["app=reg/app:1.10"]),
            src.replace("'1.0'", "'1.10'")
        );
        assert_eq!(set(src, &["app=*:1.1"]), src.replace("'1.0'", "'1.1'"));
    }

    #[test]
    fn quotes_yaml11_numbers_and_fixes_an_unquoted_one() {
        let src = "images:\n  - name: app\n    newTag: 1.9.0\n";
        assert_eq!(set(src, &["app:1.10"]), src.replace("1.9.0", "\"1.10\""));
        let unquoted = "images:\n- name: app\n  newTag: 1.10\n";
        assert_eq!(
            set(unquoted, &["app:1.10"]),
            unquoted.replace("1.10", "\"1.10\"")
        );
    }

    // The CLI now refuses a quote in a tag (it is no valid tag), so this
    // moved here from fixtures/set-image: the setter's quoting still has to
    // be right for whatever reaches it.
    #[test]
    fn a_single_quote_in_a_value_switches_to_double_quotes() {
        let src = "images:\n- name: 'api'\n  newName: 'reg/api'\n  newTag: 'v1'\n";
        assert_eq!(
            set(src, &["api=*:it's-v2"]),
            src.replace("'v1'", "\"it's-v2\"")
        );
    }

    #[test]
    fn whole_entry_replacement_drops_fields_and_keeps_star() {
        let src = "images:\n- name: app\n  newName: reg/app\n  newTag: v1\n  tagSuffix: -alpine\n- name: b\n  newTag: v1\n";
        assert_eq!(
            set(src, &["app:v2"]),
            "images:\n- name: app\n  newTag: v2\n- name: b\n  newTag: v1\n"
        );
        assert_eq!(
            set(src, &["app=*:v2"]),
            "images:\n- name: app\n  newName: reg/app\n  newTag: v2\n- name: b\n  newTag: v1\n"
        );
    }

    #[test]
    fn a_removed_first_key_on_the_dash_line_is_replaced_by_the_next_field() {
        let src = "images:\n- digest: sha256:aa\n  name: app\n  # {\"$imagepolicy\": \"ns:app:name\"}\n  newName: x\n";
        assert_eq!(
            set(src, &["app=*:v1"]),
            "images:\n- name: app\n  # {\"$imagepolicy\": \"ns:app:name\"}\n  newName: x\n  newTag: v1\n"
        );
        let marked = "images:\n- digest: sha256:aa\n  # {\"$imagepolicy\": \"ns:app:name\"}\n  newName: x\n  name: app\n";
        assert_eq!(
            set(marked, &["app=*:v1"]),
            "images:\n- name: app\n  # {\"$imagepolicy\": \"ns:app:name\"}\n  newName: x\n  newTag: v1\n"
        );
    }

    #[test]
    fn a_removed_field_takes_its_own_line_marker_along() {
        let src = "images:\n- name: app\n  # {\"$imagepolicy\": \"ns:app:digest\"}\n  digest: sha256:aa\n  newTag: v1\n";
        assert_eq!(
            set(src, &["app:v2"]),
            "images:\n- name: app\n  newTag: v2\n"
        );
    }

    #[test]
    fn inserts_fields_after_their_schema_predecessor_with_crlf() {
        let src = "images:\r\n  - name: app\r\n    newTag: v1 # pinned\r\n  - name: b\r\n";
        assert_eq!(
            set(src, &["app=reg/app:v1@sha256:bb"]),
            "images:\r\n  - name: app\r\n    newName: reg/app\r\n    newTag: v1 # pinned\r\n    digest: sha256:bb\r\n  - name: b\r\n"
        );
    }

    #[test]
    fn flow_entries_are_rebuilt_from_their_own_pieces() {
        let src = "images: [{name: a, newTag: v1}, {name: c, newTag: v1, digest: sha256:aa}]\n";
        assert_eq!(
            set(src, &["c:v2", "b:v3"]),
            "images: [{name: a, newTag: v1}, {name: b, newTag: v3}, {name: c, newTag: v2}]\n"
        );
        let block = "images:\n- {name: a, newTag: v1}\n";
        assert_eq!(
            set(block, &["a=x:1"]),
            "images:\n- {name: a, newName: x, newTag: \"1\"}\n"
        );
    }

    #[test]
    fn new_entries_go_to_their_sorted_place_or_the_end() {
        let spaced = "images:\n- name: a\n  newTag: v1\n\n- name: c\n  newTag: v1\n";
        assert_eq!(
            set(spaced, &["b:v2", "0:v2"]),
            "images:\n- name: \"0\"\n  newTag: v2\n\n- name: a\n  newTag: v1\n\n- name: b\n  newTag: v2\n\n- name: c\n  newTag: v1\n"
        );
        let commented = "images:\n- name: a\n# c is pinned\n- name: c\n";
        assert_eq!(
            set(commented, &["b:v2"]),
            "images:\n- name: a\n- name: b\n  newTag: v2\n# c is pinned\n- name: c\n"
        );
        let unsorted = "images:\n- name: c\n  newTag: \"1\"\n- name: a\n  newTag: \"1\"\n";
        assert_eq!(
            set(unsorted, &["b:2"]),
            format!("{unsorted}- name: b\n  newTag: \"2\"\n")
        );
    }

    #[test]
    fn creates_the_list_at_the_end_respecting_the_final_newline() {
        assert_eq!(
            set("resources:\n  - a.yaml", &["app:v1"]),
            "resources:\n  - a.yaml\nimages:\n  - name: app\n    newTag: v1"
        );
        assert_eq!(
            set("", &["app:1"]),
            "images:\n- name: app\n  newTag: \"1\"\n"
        );
        assert_eq!(
            set("images: ~ # none\n", &["app:v1"]),
            "images: # none\n- name: app\n  newTag: v1\n"
        );
        assert_eq!(
            set("images: []\n", &["app:v1"]),
            "images: [{name: app, newTag: v1}]\n"
        );
    }

    #[test]
    fn later_duplicates_are_removed_and_star_reads_the_first() {
        let src = "images:\n- name: a\n  newName: first\n- name: a\n  newName: second\n";
        assert_eq!(
            set(src, &["a=*:v1"]),
            "images:\n- name: a\n  newName: first\n  newTag: v1\n"
        );
    }

    #[test]
    fn unknown_fields_in_a_touched_entry_are_refused() {
        let src = "images:\n- name: a\n  newDigest: sha256:aa\n";
        let reps = [parse_images(&["a:v1".into()]).unwrap()[0].replacement()];
        let err = apply(&Document::parse(src).unwrap(), &IMAGES, &reps).unwrap_err();
        assert_eq!((err.line, err.column), (3, 3));
        assert!(err.hint.contains("`digest`"), "{err}");
    }

    #[test]
    fn removing_the_last_lines_of_a_file_without_final_newline() {
        let src = "images:\n- name: a\n  newName: x\n  digest: sha256:aa";
        assert_eq!(set(src, &["a:v1"]), "images:\n- name: a\n  newTag: v1");
        let three = "images:\n- name: a\n  newName: x\n  newTag: v1\n  digest: sha256:aa";
        assert_eq!(set(three, &["a="]), "images:\n- name: a");
    }

    #[test]
    fn keys_match_case_insensitively_and_keep_their_spelling() {
        let src = "images:\n- Name: a\n  NewTag: v1\n";
        assert_eq!(set(src, &["a:v2"]), "images:\n- Name: a\n  NewTag: v2\n");
    }

    #[test]
    fn replicas_share_the_setter() {
        let src = "replicas:\n- count: 1\n  name: app\n";
        assert_eq!(
            replicas(src, &["app=5"]),
            "replicas:\n- count: 5\n  name: app\n"
        );
        assert_eq!(
            replicas(src, &["web=2"]),
            "replicas:\n- count: 1\n  name: app\n- count: 2\n  name: web\n"
        );
        assert_eq!(
            replicas("replicas:\n- name: app\n  count: \"3\"\n", &["app=3"]),
            "replicas:\n- name: app\n  count: 3\n"
        );
    }

    #[test]
    fn setting_the_current_value_changes_nothing() {
        let src = "images:\n- name: app\n  newTag: \"1.0\"\n";
        assert_eq!(set(src, &["app:1.0"]), src);
    }
}
