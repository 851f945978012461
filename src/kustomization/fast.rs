//! A line scanner for the common layout, so the merge driver keeps pace with
//! `git merge-file` on large lists.
//!
//! granit-parser runs at ~15 MB/s, and the driver parses four texts (three
//! inputs and its own result). Most kustomization files are plain enough to
//! read line by line: top-level `key:` lines at column 0 and block lists of
//! `- key: value` entries with one-line scalars. This scanner accepts only
//! that shape and returns `None` on anything else (tabs, flow lists, anchors,
//! tags, escapes, multi-line scalars, document markers...), and the caller
//! falls back to the full parser. A differential test checks that whatever it
//! accepts, it reads exactly as the full parser does.
//!
//! It fills only [`Document::lists`]. The rest of the file is still checked by
//! the full parser, with the lists stubbed out: the rest is small next to a
//! large list, and that keeps "the file is valid YAML" a parser's verdict.

use std::borrow::Cow;

use super::locate::line_end;
use super::schema::ListSchema;
use super::{Document, Entry, Eol, Field, KeyedList, Style};

/// Scans `src`, or returns `None` when it isn't the simple shape. The text
/// outside the lists is not validated here: see [`Document::without_lists`].
pub(super) fn scan(src: &str) -> Option<Document<'_>> {
    let bytes = src.as_bytes();
    // A CR that doesn't end a CRLF is a line break to YAML but not to us.
    if memchr::memchr2(b'\t', 0, bytes).is_some()
        || memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'))
    {
        return None;
    }
    let body_start = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut doc = Document {
        src,
        eol: Eol::detect(src),
        keys: Vec::new(),
        lists: Vec::new(),
    };
    let mut lines = Lines::new(src, body_start).peekable();
    while let Some(line) = lines.next() {
        let text = line.text;
        if text.starts_with("---") || text.starts_with("...") {
            return None;
        }
        if is_trivia(text) || text.starts_with([' ', '-']) {
            // Values of other keys: not ours to read, but a line at column 0
            // that is neither a key nor a sequence item would be.
            continue;
        }
        let (key, rest) = split_key(text)?;
        if let Some(schema) = ListSchema::for_key(key) {
            if doc.list(schema.key).is_some() || !is_trivia(rest) {
                return None;
            }
            let list = block_list(src, schema, &line, &mut lines)?;
            doc.lists.push(list);
        } else if ListSchema::for_key(&key.to_ascii_lowercase()).is_some()
            || !simple_inline_value(rest)
        {
            return None;
        }
    }
    Some(doc)
}

/// One line: its start offset, its text (without the line break) and number.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    start: usize,
    text: &'a str,
    number: usize,
}

struct Lines<'a> {
    src: &'a str,
    at: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(src: &'a str, at: usize) -> Self {
        Self { src, at, number: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        if self.at >= self.src.len() {
            return None;
        }
        let start = self.at;
        let end = line_end(self.src, start);
        self.at = match self.src.as_bytes().get(end) {
            Some(b'\r') => end + 2,
            Some(_) => end + 1,
            None => end,
        };
        self.number += 1;
        Some(Line {
            start,
            text: &self.src[start..end],
            number: self.number,
        })
    }
}

fn is_trivia(text: &str) -> bool {
    let t = text.trim_start_matches(' ');
    t.is_empty() || t.starts_with('#')
}

/// A plain `key:` followed by a space or the end of the line.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let len = memchr::memchr(b':', text.as_bytes())?;
    let key = &text.as_bytes()[..len];
    if !key.first()?.is_ascii_alphabetic()
        || !key
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
    {
        return None;
    }
    let rest = &text[len + 1..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((&text[..len], rest))
}

/// The inline value of a key we don't otherwise read. It must not open a
/// construct that could run onto a column-0 line (a flow collection or a
/// quoted string left open) or carry YAML features we don't track.
fn simple_inline_value(rest: &str) -> bool {
    let v = rest.trim_start_matches(' ');
    match v.chars().next() {
        None | Some('#' | '|' | '>') => true,
        Some('&' | '*' | '!' | '%' | '@' | '`' | '?' | ':' | ',') => false,
        Some('[' | '{') => {
            let mut depth = 0i32;
            for c in v.chars() {
                match c {
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth -= 1,
                    '"' | '\'' | '#' | '&' | '*' | '!' => return false,
                    _ => {}
                }
            }
            depth == 0
        }
        Some('"') => v[1..].find('"').is_some() && !v.contains('\\'),
        Some('\'') => v[1..].contains('\''),
        Some(_) => {
            let plain = v.split(" #").next().unwrap_or(v);
            !plain.contains(": ") && !plain.trim_end().ends_with(':')
        }
    }
}

fn block_list<'a>(
    src: &'a str,
    schema: &ListSchema,
    key_line: &Line<'a>,
    lines: &mut std::iter::Peekable<Lines<'a>>,
) -> Option<KeyedList<'a>> {
    let region_start = key_line.start;
    let header_end = key_line.start + key_line.text.len();
    let mut entries: Vec<Entry> = Vec::new();
    // An entry's fields gather here and move into it at its end, in a
    // vector of exactly their size: a large list holds tens of thousands.
    let mut fields: Vec<Field> = Vec::new();
    let finish = |entries: &mut Vec<Entry<'a>>, fields: &mut Vec<Field<'a>>| {
        if let Some(last) = entries.last_mut() {
            last.fields = fields.to_vec();
            fields.clear();
        }
    };
    let mut dash_col = None;
    let mut key_col = 0;
    let mut prev_end = header_end;
    while let Some(line) = lines.peek().copied() {
        let text = line.text;
        if is_trivia(text) {
            lines.next();
            continue;
        }
        let indent = text.len() - text.trim_start_matches(' ').len();
        let rest = &text[indent..];
        if indent == 0 && !rest.starts_with('-') {
            break; // the next top-level key
        }
        lines.next();
        if let Some(item) = rest.strip_prefix("- ") {
            let inner = item.len() - item.trim_start_matches(' ').len();
            let col = indent + 2 + inner;
            if *dash_col.get_or_insert(indent) != indent {
                return None;
            }
            if entries.is_empty() {
                key_col = col;
            } else if col != key_col {
                return None;
            }
            let next_start = next_line(src, prev_end);
            finish(&mut entries, &mut fields);
            entries.push(Entry {
                span: next_start..next_start,
                start: line.start + indent,
                line: line.number,
                fields: Vec::new(),
            });
        } else if indent != key_col || entries.is_empty() {
            return None;
        }
        let entry = entries.last_mut()?;
        let field = field(src, &line, key_col)?;
        if fields.iter().any(|f| f.key == field.key) {
            return None;
        }
        fields.push(field);
        entry.span.end = line.start + text.len();
        prev_end = entry.span.end;
    }
    finish(&mut entries, &mut fields);
    let dash_col = dash_col?;
    let region_end = prev_end;
    Some(KeyedList {
        key: schema.key.to_owned(),
        region: region_start..region_end,
        header: region_start..header_end,
        trailer: region_end..region_end,
        style: Style::Block { dash_col, key_col },
        entries,
    })
}

fn next_line(src: &str, end: usize) -> usize {
    match src.as_bytes().get(end) {
        Some(b'\r') => end + 2,
        Some(b'\n') => end + 1,
        _ => end,
    }
}

/// `key: scalar` starting at byte column `col` of `line`.
fn field<'a>(src: &'a str, line: &Line<'a>, col: usize) -> Option<Field<'a>> {
    let text = &line.text[col..];
    let (key, rest) = split_key(text)?;
    let key_start = line.start + col;
    let after = rest.len() - rest.trim_start_matches(' ').len();
    let v = &rest[after..];
    let value_start = key_start + key.len() + 1 + after;
    let (value, raw_len, plain) = scalar(v)?;
    // After the value: nothing, or a comment that a space separates from it.
    let tail = &v[raw_len..];
    let comment = tail.trim_start_matches(' ');
    if !(comment.is_empty() || comment.starts_with('#') && tail.starts_with(' ')) {
        return None;
    }
    let prefix = &src[line.start..value_start];
    Some(Field {
        key: Cow::Borrowed(key),
        key_span: key_start..key_start + key.len(),
        value,
        value_span: value_start..value_start + raw_len,
        plain,
        line: line.number,
        // Columns count characters, as the full parser's do.
        col: if prefix.is_ascii() {
            prefix.len()
        } else {
            prefix.chars().count()
        } + 1,
    })
}

/// A one-line scalar: its value, its raw length and whether it is plain.
fn scalar(v: &str) -> Option<(Cow<'_, str>, usize, bool)> {
    match v.chars().next()? {
        '"' => {
            let close = v[1..].find('"')? + 1;
            let inner = &v[1..close];
            (!inner.contains('\\')).then_some((Cow::Borrowed(inner), close + 1, false))
        }
        '\'' => {
            let mut i = 1;
            let bytes = v.as_bytes();
            let mut out = String::new();
            loop {
                let j = v[i..].find('\'')? + i;
                out.push_str(&v[i..j]);
                if bytes.get(j + 1) == Some(&b'\'') {
                    out.push('\'');
                    i = j + 2;
                } else if i == 1 {
                    // No `''` escape: the value is the text between the quotes.
                    return Some((Cow::Borrowed(&v[1..j]), j + 1, false));
                } else {
                    return Some((Cow::Owned(out), j + 1, false));
                }
            }
        }
        '#' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`' | '[' | ']' | '{' | '}' | ',' | '?'
        | ':' => None,
        '-' if v.len() == 1 || v.as_bytes()[1] == b' ' => None,
        // Most values (image names, tags) hold no space, so neither ` #`
        // nor `: ` can occur in them.
        _ if memchr::memchr(b' ', v.as_bytes()).is_none() => {
            (!v.ends_with(':')).then_some((Cow::Borrowed(v), v.len(), true))
        }
        _ => {
            // A plain scalar ends at ` #`; `: ` inside it would be a mapping.
            let b = v.as_bytes();
            let mut end = b.len();
            for i in 1..b.len() {
                if b[i] == b'#' && b[i - 1] == b' ' {
                    end = i - 1;
                    break;
                }
                if b[i] == b' ' && b[i - 1] == b':' {
                    return None;
                }
            }
            let raw = v[..end].trim_end_matches(' ');
            if raw.ends_with(':') {
                return None;
            }
            Some((Cow::Borrowed(raw), raw.len(), true))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::locate;

    /// Whatever the scanner accepts, it must read exactly as the full parser:
    /// the same lists, regions, entries, fields, values and positions.
    #[test]
    fn agrees_with_the_full_parser_on_the_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus/kustomize/files");
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return;
        };
        let (mut accepted, mut total) = (0, 0);
        for e in rd {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let Ok(src) = std::str::from_utf8(&bytes) else {
                continue;
            };
            total += 1;
            let Some(fast) =
                super::scan(src).filter(|d| locate::locate(&d.without_lists()).is_ok())
            else {
                continue;
            };
            accepted += 1;
            let full = locate::locate(src).expect("the scanner accepted a file the parser rejects");
            assert_eq!(
                format!("{:?}", fast.lists),
                format!("{:?}", full.lists),
                "{src}"
            );
        }
        assert!(
            total == 0 || accepted * 2 > total,
            "only {accepted} of {total} accepted"
        );
    }
}
