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
//!
//! What it is worth (callgrind, whole `kustomerge merge` process, both sides
//! bumping entries and appending one): with the full parser instead, 35%
//! more instructions at 10 images, 50% at 100 and 52% at 1,000.

use std::ops::Range;

use super::parser::next_line;
use super::schema::ListSchema;
use super::{Document, Entry, Eol, Field, Fields, KeyedList, MAX_LEN, Style};

/// Scans `src`, or returns `None` when it isn't the simple shape.
///
/// Besides the lists, it returns the spans of the sequences of one-line
/// scalars under other top-level keys (`resources:` and the like): the
/// scanner vouches for those lines itself, so that the full parser, which
/// checks the text outside the lists (see [`super::Scanned::validate`]),
/// needn't read a long `resources:` list. Anything else outside the lists is
/// left to that check.
pub(super) fn scan(src: &str) -> Option<(Document<'_>, Vec<Range<usize>>)> {
    let bytes = src.as_bytes();
    // Tabs (YAML allows them in places, but they complicate columns) and
    // NUL are controls, which `printable` finds. A CR that doesn't end a
    // CRLF is a line break to YAML but not to us.
    if src.len() >= MAX_LEN
        || !printable(src)
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
    let mut vouched = Vec::new();
    let mut lines = Lines::new(src, body_start);
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
        } else if is_trivia(rest) {
            vouched.extend(scalar_sequence(&mut lines));
        }
    }
    Some((doc, vouched))
}

/// Whether every character may appear in a YAML stream (YAML 1.2's
/// c-printable) and is no tab, with a byte order mark only at the start. The
/// full parser rejects the others; the scanner vouches for the lines it
/// reads, so it must too.
fn printable(src: &str) -> bool {
    // Branch-free and without an early exit, so that the loop vectorises.
    let mut control = 0u8;
    for &b in src.as_bytes() {
        control |=
            u8::from(b < 0x20) & u8::from(b != b'\n') & u8::from(b != b'\r') | u8::from(b == 0x7f);
    }
    control == 0
        && (src.is_ascii()
            || !src.char_indices().any(|(i, c)| {
                matches!(c, '\u{80}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
                    || c == '\u{feff}' && i > 0
            }))
}

/// A block sequence of one-line scalars (the value of a top-level key whose
/// own line holds nothing else): the span of its item lines, consumed from
/// `lines`. `None`, when the value is anything else, leaves it to the full
/// parser; lines consumed then are indented or items, which the caller would
/// skip anyway.
fn scalar_sequence<'a>(lines: &mut Lines<'a>) -> Option<Range<usize>> {
    let mut span: Option<Range<usize>> = None;
    let mut dash_col = None;
    while let Some((line, indent)) = peek_content(lines) {
        let text = line.text;
        let Some(item) = text[indent..].strip_prefix("- ") else {
            // Only the next key ends the sequence; `-`, `-x` or `---` at
            // column 0 are the full parser's to judge.
            return (indent == 0 && !text.starts_with('-')).then_some(span?);
        };
        if *dash_col.get_or_insert(indent) != indent {
            return None;
        }
        one_line_scalar(&item[spaces(item)..])?;
        lines.next();
        let start = span.map_or(line.start, |s| s.start);
        span = Some(start..line.start + text.len());
    }
    span
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
    breaks: Breaks,
    /// The next line, once [`Self::peek`] has read it.
    peeked: Option<Line<'a>>,
}

impl<'a> Lines<'a> {
    fn new(src: &'a str, at: usize) -> Self {
        Self {
            src,
            at,
            number: 0,
            breaks: Breaks::new(src.as_bytes()),
            peeked: None,
        }
    }

    /// The next line, left in place.
    fn peek(&mut self) -> Option<Line<'a>> {
        if self.peeked.is_none() {
            self.peeked = self.read();
        }
        self.peeked
    }

    fn read(&mut self) -> Option<Line<'a>> {
        if self.at >= self.src.len() {
            return None;
        }
        let start = self.at;
        let (end, next) = match self.breaks.find(start) {
            // CRLF: the scanner accepts no CR but those before a LF.
            Some(nl) if nl > start && self.src.as_bytes()[nl - 1] == b'\r' => (nl - 1, nl + 1),
            Some(nl) => (nl, nl + 1),
            None => (self.src.len(), self.src.len()),
        };
        self.at = next;
        self.number += 1;
        Some(Line {
            start,
            text: &self.src[start..end],
            number: self.number,
        })
    }

    /// How many lines from `start` to the next top-level key are sequence
    /// items at column `indent`: at least the list's entries. Reserving that
    /// many up front spares the copies a growing vector makes, and the fresh
    /// pages each copy touches (on a large list, most of the driver's page
    /// faults). Counting past the list would reserve address space for the
    /// items of the keys after it, which a limit on it (`ulimit -v`) may not
    /// have to spare.
    fn items_from(&self, start: usize, indent: usize) -> usize {
        let bytes = self.src.as_bytes();
        let item = |at: usize| {
            bytes
                .get(at..at + indent)
                .is_some_and(|b| b.iter().all(|&c| c == b' '))
                && bytes.get(at + indent..at + indent + 2) == Some(b"- ")
        };
        let key = |at: usize| {
            !matches!(
                bytes.get(at),
                None | Some(b' ' | b'-' | b'#' | b'\r' | b'\n')
            )
        };
        1 + self
            .breaks
            .after(start)
            .map(|nl| nl + 1)
            .take_while(|&at| !key(at))
            .filter(|&at| item(at))
            .count()
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        self.peeked.take().or_else(|| self.read())
    }
}

/// Where the line feeds are: bit `i % 64` of word `i / 64` is set when byte
/// `i` is one. Found for the whole text in one pass, eight bytes at a time
/// (see [`line_feeds`]), so that a line's end is a bit scan: a byte search
/// called per line cost more than the rest of reading the line.
struct Breaks(Vec<u64>);

impl Breaks {
    fn new(bytes: &[u8]) -> Self {
        let mut chunks = bytes.chunks_exact(64);
        let mut words: Vec<u64> = Vec::with_capacity(bytes.len().div_ceil(64));
        words.extend((&mut chunks).map(|c| line_feeds(c.try_into().expect("64 bytes"))));
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0; 64];
            last[..rest.len()].copy_from_slice(rest);
            words.push(line_feeds(&last));
        }
        Self(words)
    }

    /// The first line feed at or after `from`.
    fn find(&self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let mut word = self.0.get(w)? & (u64::MAX << (from % 64));
        while word == 0 {
            w += 1;
            word = *self.0.get(w)?;
        }
        Some(w * 64 + word.trailing_zeros() as usize)
    }

    /// The line feeds at or after `from`, in order.
    fn after(&self, from: usize) -> impl Iterator<Item = usize> + '_ {
        let mut at = from;
        std::iter::from_fn(move || {
            let nl = self.find(at)?;
            at = nl + 1;
            Some(nl)
        })
    }
}

/// The line feeds of 64 bytes, as bits: eight bytes at a time, with the
/// exact zero-byte test (no carry crosses a byte) and a multiply that
/// gathers each byte's flag into one bit.
fn line_feeds(chunk: &[u8; 64]) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut mask = 0;
    for (i, word) in chunk.chunks_exact(8).enumerate() {
        let y = u64::from_le_bytes(word.try_into().expect("8 bytes")) ^ 0x0a0a_0a0a_0a0a_0a0a;
        let zero = !((y & LOW7).wrapping_add(LOW7) | y | LOW7);
        mask |= ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
    }
    mask
}

/// The next line that isn't blank or a comment, with its indentation; it is
/// left in `lines`, and the blank and comment lines before it are consumed.
// Inlined: it runs once per line, where a call's cost shows.
#[inline(always)]
fn peek_content<'a>(lines: &mut Lines<'a>) -> Option<(Line<'a>, usize)> {
    while let Some(line) = lines.peek() {
        if let Some(indent) = content_indent(line.text) {
            return Some((line, indent));
        }
        lines.next();
    }
    None
}

/// The indentation of a line with content; `None` for a blank or comment line.
fn content_indent(text: &str) -> Option<usize> {
    let indent = spaces(text);
    (!matches!(text.as_bytes().get(indent), None | Some(b'#'))).then_some(indent)
}

fn is_trivia(text: &str) -> bool {
    content_indent(text).is_none()
}

/// How many spaces `text` starts with. Bytes, not chars: the scanner asks
/// this of every line.
fn spaces(text: &str) -> usize {
    text.bytes().take_while(|&b| b == b' ').count()
}

/// A plain `key:` followed by a space or the end of the line.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    let len = bytes.iter().position(|&b| !KEY_BYTE[usize::from(b)])?;
    let rest = text[len..].strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((&text[..len], rest))
}

/// The bytes of a plain key the scanner reads: ASCII letters, digits, `_`,
/// `.`, `/` and `-`. A table, because the scanner tests every key byte.
static KEY_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-');
        b += 1;
    }
    table
};

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
    lines: &mut Lines<'a>,
) -> Option<KeyedList<'a>> {
    let region_start = key_line.start;
    let header_end = key_line.start + key_line.text.len();
    let mut entries: Vec<Entry> = Vec::new();
    let mut dash_col = None;
    let mut key_col = 0;
    let mut prev_end = header_end;
    while let Some((line, indent)) = peek_content(lines) {
        let text = line.text;
        let rest = &text[indent..];
        if indent == 0 && !rest.starts_with('-') {
            break; // the next top-level key
        }
        lines.next();
        if let Some(item) = rest.strip_prefix("- ") {
            let inner = spaces(item);
            let col = indent + 2 + inner;
            if *dash_col.get_or_insert(indent) != indent {
                return None;
            }
            if entries.is_empty() {
                key_col = col;
                // A failed reservation (address space may be limited) only
                // means growing.
                let _ = entries.try_reserve_exact(lines.items_from(line.start, indent));
            } else if col != key_col {
                return None;
            }
            let next_start = next_line(src, prev_end);
            entries.push(Entry {
                span: next_start..next_start,
                start: line.start + indent,
                line: line.number,
                fields: Fields::new(),
            });
        } else if indent != key_col || entries.is_empty() {
            return None;
        }
        let entry = entries.last_mut()?;
        let (key, field) = field(&line, key_col)?;
        if entry.fields.iter().any(|f| f.key_is(src, key)) {
            return None;
        }
        entry.fields.push(field);
        entry.span.end = line.start + text.len();
        prev_end = entry.span.end;
    }
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

/// `key: scalar` starting at byte column `col` of `line`: the key, and the
/// field.
fn field<'a>(line: &Line<'a>, col: usize) -> Option<(&'a str, Field<'a>)> {
    let text = &line.text[col..];
    let (key, rest) = split_key(text)?;
    let key_start = line.start + col;
    let after = spaces(rest);
    let v = &rest[after..];
    let value_start = key_start + key.len() + 1 + after;
    let (raw_len, quoted) = one_line_scalar(v)?;
    let field = Field::new(
        key_start..key_start + key.len(),
        false,
        value_start..value_start + raw_len,
        quoted,
    );
    Some((key, field))
}

/// A scalar that ends its line, or is followed only by a comment: see
/// [`scalar`].
// Inlined, like `scalar`: the scanner calls it once per field.
#[inline(always)]
fn one_line_scalar(v: &str) -> Option<(usize, bool)> {
    let scalar = scalar(v)?;
    // After the value: nothing, or a comment that a space separates from it.
    let tail = &v[scalar.0..];
    let comment = &tail[spaces(tail)..];
    (comment.is_empty() || comment.starts_with('#') && tail.starts_with(' ')).then_some(scalar)
}

/// A one-line scalar whose text is its value (see [`Field`]): its raw
/// length and whether it is quoted. Escapes (`\` in double quotes, `''` in
/// single ones) are the full parser's to judge.
#[inline(always)]
fn scalar(v: &str) -> Option<(usize, bool)> {
    match v.as_bytes().first()? {
        b'"' => {
            let close = v[1..].find('"')? + 1;
            (!v[1..close].contains('\\')).then_some((close + 1, true))
        }
        b'\'' => {
            let close = v[1..].find('\'')? + 1;
            (v.as_bytes().get(close + 1) != Some(&b'\'')).then_some((close + 1, true))
        }
        b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' | b'[' | b']' | b'{'
        | b'}' | b',' | b'?' | b':' => None,
        b'-' if v.len() == 1 || v.as_bytes()[1] == b' ' => None,
        // Most values (image names, tags) hold no space, so neither ` #`
        // nor `: ` can occur in them.
        _ if memchr::memchr(b' ', v.as_bytes()).is_none() => {
            (!v.ends_with(':')).then_some((v.len(), false))
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
            Some((raw.len(), false))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser;

    /// The UTF-8 files of the corpus the repo carries.
    fn corpus() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/corpus/kustomize/files");
        let rd = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("test data {} is missing: {e}", dir.display()));
        rd.filter_map(|e| String::from_utf8(std::fs::read(e.unwrap().path()).unwrap()).ok())
            .collect()
    }

    /// Whatever the scanner accepts, it must read exactly as the full parser:
    /// the same lists, regions, entries, fields, values and positions.
    #[test]
    fn agrees_with_the_full_parser_on_the_corpus() {
        let (mut accepted, mut total) = (0, 0);
        for src in &corpus() {
            total += 1;
            let Some((fast, _)) =
                super::scan(src).filter(|(d, _)| parser::locate(&d.without_lists()).is_ok())
            else {
                continue;
            };
            accepted += 1;
            let full = parser::locate(src).expect("the scanner accepted a file the parser rejects");
            let vouched = crate::kustomization::Document::scan_lists(src).validate(&mut Vec::new());
            assert!(vouched.is_ok(), "{src}");
            assert_eq!(
                format!("{:?}", fast.lists),
                format!("{:?}", full.lists),
                "{src}"
            );
        }
        assert!(
            total > 0 && accepted * 2 > total,
            "only {accepted} of {total} accepted"
        );
    }

    /// The sequences the scanner vouches for never hide a problem from the
    /// full parser: over every mix of tricky items, at two indentations and
    /// with what may follow a sequence, the merge's two-step parse accepts a
    /// file exactly when the full parser does.
    #[test]
    fn vouched_sequences_never_change_the_verdict() {
        let items = [
            "- a",
            "- a # c",
            "- 'a''b'",
            "- \"a b\"",
            "- a:b",
            "- -a",
            "- a,b]",
            "-  a",
            "- a: b",
            "- [a",
            "- {a",
            "- \"a",
            "- 'a",
            "- &x a",
            "- *x",
            "- !t a",
            "- |",
            "- >",
            "- ? a",
            "- : a",
            "- a:",
            "- -",
            "- - a",
            "- \"a\\\"b\"",
            "- \"a\" b",
            "- 'a' b",
            "- a\u{1}",
            "- a\u{7f}",
            "- a\u{85}",
            "- a\u{9f}",
            "- \u{feff}a",
            "- a\u{fffe}",
            "- %a",
            "- @a",
            "- `a",
            "- ]",
            "- }",
            "- #",
            "-",
            "  b",
            "  - b",
            "  # c",
            "",
            "# c",
            "-x",
            "---",
            "...",
            "k2: v",
            "k2:",
        ];
        let mut seen = 0;
        for first in items {
            for second in items {
                for indent in ["", "  "] {
                    let src = format!(
                        "apiVersion: v1\nresources:\n{indent}{first}\n{indent}{second}\nkind: K\n"
                    );
                    let Some((_, vouched)) = super::scan(&src) else {
                        continue;
                    };
                    seen += usize::from(!vouched.is_empty());
                    let merge = crate::kustomization::Document::scan_lists(&src)
                        .validate(&mut Vec::new())
                        .is_ok();
                    assert_eq!(merge, parser::locate(&src).is_ok(), "{src:?}");
                }
            }
        }
        assert!(seen > 100, "only {seen} files had vouched lines");
    }
}
