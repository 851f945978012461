//! Walks granit-parser's event stream once and records byte spans.
//!
//! granit-parser reports exact byte ranges for scalars (quotes included) and
//! flow brackets, but collections in block style get only a zero-length span
//! at their first token, and a block mapping's end sits at the *next* token.
//! So an entry's extent is derived here: from its `-` to the end of the line
//! holding its last scalar.

use std::fmt;

use granit_parser::{Event, Parser, ScalarStyle, Span, StructureStyle};

use super::{
    Document, Entry, Eol, Field, Fields, KeyedList, MAX_LEN, Style, TopKey, schema::ListSchema,
};

/// Why a file can't be modelled, with a 1-based position and a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// What kind of problem it is, for callers that branch on it (`check`).
    pub kind: ErrorKind,
}

/// Why the locator stopped, so callers branch on a kind, not on wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not UTF-8, NUL bytes, or lone CR line endings.
    Encoding,
    /// Not valid YAML.
    Syntax,
    /// More than one YAML document.
    MultipleDocuments,
    /// The top level is not a mapping.
    NotAMapping,
    /// A key appears twice, at the top level or within one entry.
    DuplicateKey,
    /// A keyed list's key spelled with capitals (`Images:`).
    KeyCase,
    /// A keyed list or entry shaped unlike kustomize's type (a scalar where
    /// a list belongs, a nested value in a string field), or carrying an
    /// anchor, alias or tag there.
    Structure,
    /// Valid to kustomize, but outside what kustomerge models.
    Unsupported,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {} ({})",
            self.line, self.column, self.message, self.hint
        )
    }
}

impl std::error::Error for Error {}

impl Error {
    pub(super) fn new(line: usize, column: usize, message: impl Into<String>, hint: &str) -> Self {
        Self {
            line,
            column,
            message: message.into(),
            hint: hint.to_owned(),
            kind: ErrorKind::Unsupported,
        }
    }

    /// The same error, of kind `kind`.
    pub(crate) fn kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    fn at(span: Span, message: impl Into<String>, hint: &str) -> Self {
        Self::new(span.start.line(), span.start.col() + 1, message, hint)
    }

    /// An error at a byte offset of raw (maybe non-UTF-8) bytes.
    pub(crate) fn at_offset(bytes: &[u8], offset: usize, message: &str, hint: &str) -> Self {
        let before = &bytes[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = offset
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        Self::new(line, col, message, hint)
    }
}

const UNSUPPORTED: &str = "kustomerge edits only plain `- name: ...` entries with one-line scalar values; git's line merge handles this file";

type Ev<'a> = (Event<'a>, Span);

/// granit-parser's events of one source, without comments.
pub(super) struct Walker<'a> {
    src: &'a str,
    parser: Parser<'a, granit_parser::StrInput<'a>>,
}

pub(super) fn locate(src: &str) -> Result<Document<'_>, Error> {
    let bytes = src.as_bytes();
    if bytes.len() >= MAX_LEN {
        return Err(Error::at_offset(
            bytes,
            0,
            "is 4 GiB or larger",
            "kustomerge models files under 4 GiB; git's line merge handles this one",
        ));
    }
    // YAML reads a lone CR as a line break, but spans here are LF-based
    // (CRLF included); old-Mac line endings are left to git's line merge.
    if bytes.contains(&b'\r')
        && let Some(i) =
            (0..bytes.len()).find(|&i| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    {
        return Err(Error::at_offset(
            bytes,
            i,
            "has a line ending with a lone CR (old Mac style)",
            "convert the file to LF or CRLF line endings",
        )
        .kind(ErrorKind::Encoding));
    }
    let mut w = Walker::new(src);
    let mut doc = Document {
        src,
        eol: Eol::detect(src),
        keys: Vec::new(),
        lists: Vec::new(),
    };
    expect_stream_start(&mut w)?;
    match w.next()? {
        (Event::StreamEnd, _) => return Ok(doc),
        (Event::DocumentStart(..), _) => {}
        (_, span) => return Err(Error::at(span, "unexpected YAML event", UNSUPPORTED)),
    }
    match w.next()? {
        (Event::MappingStart(StructureStyle::Block, _, _), _) => w.root_mapping(&mut doc)?,
        (Event::Scalar(v, ScalarStyle::Plain, _, _), _) if crate::yaml11::is_null(&v) => {}
        (_, span) => {
            return Err(Error::at(
                span,
                "the top level is not a mapping of keys",
                "a kustomization is a YAML mapping such as `resources:` / `images:`",
            )
            .kind(ErrorKind::NotAMapping));
        }
    }
    match w.next()? {
        (Event::DocumentEnd, _) => {}
        (_, span) => return Err(Error::at(span, "unexpected YAML event", UNSUPPORTED)),
    }
    match w.next()? {
        (Event::StreamEnd, _) => Ok(doc),
        (_, span) => Err(Error::at(
            span,
            "the file holds more than one YAML document",
            "kustomize reads a single document; remove the extra `---` section",
        )
        .kind(ErrorKind::MultipleDocuments)),
    }
}

pub(super) fn expect_stream_start(w: &mut Walker<'_>) -> Result<(), Error> {
    match w.next()? {
        (Event::StreamStart, _) => Ok(()),
        (_, span) => Err(Error::at(span, "unexpected YAML event", UNSUPPORTED)),
    }
}

pub(super) fn offset(span: Span) -> (usize, usize) {
    // Parsing from a &str always yields byte offsets.
    (
        span.start.byte_offset().unwrap_or(0),
        span.end.byte_offset().unwrap_or(0),
    )
}

/// Start of the line holding `at`.
pub(crate) fn line_start(src: &str, at: usize) -> usize {
    src[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// End of the line holding `at`, before its line break.
pub(crate) fn line_end(src: &str, at: usize) -> usize {
    let nl = src[at..].find('\n').map_or(src.len(), |i| at + i);
    if nl > at && src.as_bytes()[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    }
}

/// Offset just past the line break that ends the line at `end` (a `line_end`).
pub(super) fn next_line(src: &str, end: usize) -> usize {
    let b = src.as_bytes();
    match b.get(end) {
        Some(b'\r') if b.get(end + 1) == Some(&b'\n') => end + 2,
        Some(b'\n') => end + 1,
        _ => end,
    }
}

impl<'a> Walker<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Self {
            src,
            parser: Parser::new_from_str(src),
        }
    }

    pub(super) fn next(&mut self) -> Result<Ev<'a>, Error> {
        // Comments are presentation only; entry spans are line-based and
        // already carry them.
        let next = loop {
            match self.parser.next_event() {
                Some(Ok((Event::Comment(..), _))) => {}
                other => break other,
            }
        };
        match next {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(Error::new(
                e.marker().line(),
                e.marker().col() + 1,
                format!("YAML syntax error: {}", e.info()),
                "fix the YAML (tabs are not allowed for indentation; `${VAR}` and `{{ }}` templates must be rendered first)",
            ).kind(ErrorKind::Syntax)),
            None => Err(Error::new(1, 1, "unexpected end of YAML", "fix the YAML").kind(ErrorKind::Syntax)),
        }
    }

    fn root_mapping(&mut self, doc: &mut Document<'a>) -> Result<(), Error> {
        loop {
            let (ev, span) = self.next()?;
            let key = match ev {
                Event::MappingEnd => return Ok(()),
                Event::Scalar(key, ..) => key.into_owned(),
                _ => {
                    return Err(Error::at(
                        span,
                        "a top-level key is not a plain string",
                        UNSUPPORTED,
                    ));
                }
            };
            let (key_start, key_end) = offset(span);
            let start = line_start(self.src, key_start);
            let schema = ListSchema::for_key(&key);
            if schema.is_none() && ListSchema::for_key(&key.to_ascii_lowercase()).is_some() {
                return Err(Error::at(
                    span,
                    format!("`{key}:` is spelled with capitals"),
                    "kustomize accepts it, but write it in lower case",
                )
                .kind(ErrorKind::KeyCase));
            }
            let end = if let Some(schema) = schema {
                if doc.list(schema.key).is_some() {
                    return Err(Error::at(
                        span,
                        format!("`{key}:` appears twice at the top level"),
                        "kustomize silently keeps only the last one; merge them into one list",
                    )
                    .kind(ErrorKind::DuplicateKey));
                }
                let list = self.keyed_list(schema, start, key_end)?;
                let end = list.region.end;
                doc.lists.push(list);
                end
            } else {
                let (ev, span) = self.next()?;
                let value_end = self.skip_node(&ev, span)?.max(key_end);
                line_end(self.src, value_end)
            };
            doc.keys.push(TopKey {
                name: key,
                line: span.start.line(),
                span: start..end,
            });
        }
    }

    /// Skips one node and returns the offset just past its last token.
    pub(super) fn skip_node(&mut self, ev: &Event<'a>, span: Span) -> Result<usize, Error> {
        let mut end = offset(span).1;
        let mut depth = match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => 1usize,
            _ => return Ok(end),
        };
        while depth > 0 {
            let (ev, span) = self.next()?;
            match ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
                Event::SequenceEnd | Event::MappingEnd => depth -= 1,
                _ => {}
            }
            // A block collection's end event sits at the next token; only
            // flow brackets and scalars mark real content.
            let (s, e) = offset(span);
            if e > s {
                end = end.max(e);
            }
        }
        Ok(end)
    }

    fn keyed_list(
        &mut self,
        schema: &ListSchema,
        region_start: usize,
        key_end: usize,
    ) -> Result<KeyedList<'a>, Error> {
        let src = self.src;
        let key = schema.key.to_owned();
        let (ev, span) = self.next()?;
        match ev {
            Event::Scalar(v, ScalarStyle::Plain, 0, None) if crate::yaml11::is_null(&v) => {
                let end = line_end(src, offset(span).1.max(key_end));
                Ok(KeyedList {
                    key,
                    region: region_start..end,
                    header: region_start..end,
                    trailer: end..end,
                    style: Style::Empty,
                    entries: Vec::new(),
                })
            }
            Event::SequenceStart(style, 0, None) => {
                let flow = style == StructureStyle::Flow;
                let mut entries = Vec::new();
                let header_end = if flow {
                    offset(span).1
                } else {
                    line_end(src, key_end)
                };
                let mut prev_end = header_end;
                loop {
                    let (ev, span) = self.next()?;
                    match ev {
                        Event::SequenceEnd => {
                            return Ok(self.finish_list(
                                key,
                                region_start,
                                header_end,
                                flow,
                                span,
                                entries,
                            ));
                        }
                        Event::MappingStart(mstyle, 0, None) => {
                            let entry = self.entry(mstyle, span, flow, prev_end)?;
                            prev_end = entry.span.end;
                            entries.push(entry);
                        }
                        _ => {
                            return Err(Error::at(
                                span,
                                format!("an entry of `{key}:` is not a plain mapping"),
                                UNSUPPORTED,
                            )
                            .kind(ErrorKind::Structure));
                        }
                    }
                }
            }
            _ => Err(Error::at(
                span,
                format!("`{key}:` is not a plain list (or it carries an anchor, alias or tag)"),
                UNSUPPORTED,
            )
            .kind(ErrorKind::Structure)),
        }
    }

    fn finish_list(
        &self,
        key: String,
        region_start: usize,
        header_end: usize,
        flow: bool,
        end_span: Span,
        entries: Vec<Entry<'a>>,
    ) -> KeyedList<'a> {
        let src = self.src;
        if flow {
            let (close, close_end) = offset(end_span);
            let region_end = line_end(src, close_end);
            let first = entries.first().map_or(close, |e| e.span.start);
            let last = entries.last().map_or(close, |e| e.span.end);
            KeyedList {
                key,
                region: region_start..region_end,
                header: region_start..first,
                trailer: last..region_end,
                style: Style::Flow,
                entries,
            }
        } else {
            let region_end = entries.last().map_or(header_end, |e| e.span.end);
            let first = &entries[0];
            let dash_col = first.start - line_start(src, first.start);
            let key_col = first.fields.first().map_or(dash_col + 2, |f| {
                f.key_span().start - line_start(src, f.key_span().start)
            });
            KeyedList {
                key,
                region: region_start..region_end,
                header: region_start..header_end,
                trailer: region_end..region_end,
                style: Style::Block { dash_col, key_col },
                entries,
            }
        }
    }

    fn entry(
        &mut self,
        style: StructureStyle,
        span: Span,
        in_flow: bool,
        prev_end: usize,
    ) -> Result<Entry<'a>, Error> {
        let src = self.src;
        let (open, open_end) = offset(span);
        let start = if in_flow {
            open
        } else {
            // The block sequence's `-` precedes the mapping's first token.
            let dash = src[..open].trim_end_matches([' ', '\t', '\r', '\n']);
            if !dash.ends_with('-') {
                return Err(Error::at(span, "cannot find this entry's `-`", UNSUPPORTED));
            }
            dash.len() - 1
        };
        let mut fields = Fields::new();
        let mut last = open_end;
        loop {
            let (ev, kspan) = self.next()?;
            let (key, key_quoted) = match ev {
                Event::MappingEnd => {
                    let (_, e) = offset(kspan);
                    if style == StructureStyle::Flow {
                        last = last.max(e);
                    }
                    break;
                }
                Event::Scalar(k, kstyle, 0, _) => match verbatim(src, offset(kspan), kstyle, &k) {
                    Some(quoted) => (k, quoted),
                    None => {
                        return Err(Error::at(
                            kspan,
                            "an entry key is written with escapes",
                            UNSUPPORTED,
                        ));
                    }
                },
                _ => {
                    return Err(Error::at(
                        kspan,
                        "an entry key is not a plain string",
                        UNSUPPORTED,
                    ));
                }
            };
            let (vev, vspan) = self.next()?;
            let Event::Scalar(value, vstyle, 0, _) = vev else {
                return Err(Error::at(
                    vspan,
                    format!(
                        "`{key}` does not hold a single scalar (nested value, anchor or alias)"
                    ),
                    UNSUPPORTED,
                )
                .kind(ErrorKind::Structure));
            };
            let (vs, ve) = offset(vspan);
            if src[vs..ve].contains('\n')
                || matches!(vstyle, ScalarStyle::Literal | ScalarStyle::Folded)
            {
                return Err(Error::at(
                    vspan,
                    format!("`{key}` holds a multi-line value"),
                    UNSUPPORTED,
                ));
            }
            if fields.iter().any(|f| f.key_is(src, &key)) {
                return Err(Error::at(
                    kspan,
                    format!("duplicate key `{key}` in one entry"),
                    "kustomize silently keeps the last one; delete the other",
                )
                .kind(ErrorKind::DuplicateKey));
            }
            let Some(value_quoted) = verbatim(src, (vs, ve), vstyle, &value) else {
                return Err(Error::at(
                    vspan,
                    format!("the value of `{key}` is written with escapes"),
                    UNSUPPORTED,
                ));
            };
            last = last.max(ve).max(offset(kspan).1);
            let (ks, ke) = offset(kspan);
            fields.push(Field::new(ks..ke, key_quoted, vs..ve, value_quoted));
        }
        let entry_span = if in_flow {
            start..last
        } else {
            next_line(src, prev_end)..line_end(src, last)
        };
        Ok(Entry {
            span: entry_span,
            start,
            line: span.start.line() - src[start..open].matches('\n').count(),
            fields,
        })
    }
}

/// Whether a scalar token, spanning `s..e`, is quoted, when its text is its
/// value; `None` when escapes make them differ (see [`Field`]).
pub(super) fn verbatim(
    src: &str,
    (s, e): (usize, usize),
    style: ScalarStyle,
    value: &str,
) -> Option<bool> {
    match style {
        ScalarStyle::Plain => (src.get(s..e) == Some(value)).then_some(false),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            (e >= s + 2 && src.get(s + 1..e - 1) == Some(value)).then_some(true)
        }
        _ => None,
    }
}
