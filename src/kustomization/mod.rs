//! A kustomization file as byte spans, not as a value tree.
//!
//! kustomerge never re-serialises YAML: `kustomize edit` does, and that is
//! what drops comments, re-sorts keys and re-quotes strings. Instead
//! [`Document::parse`] records where each top-level key and each entry of the
//! keyed lists (`images:`, `replicas:`) sit in the source, and the editors
//! splice new bytes into exactly those spans ([`edit`]).
//!
//! Anything the locator can't model exactly (several documents, aliases in a
//! keyed list, nested values in an entry, multi-line scalars) is an [`Error`],
//! and the callers take their safe path: `merge` falls back to git's line
//! merge, `check` reports it, the setters refuse.

mod parser;
mod scanner;

pub mod edit;
pub mod image_arg;
pub mod items;
pub mod schema;
pub mod setter;

use std::marker::PhantomData;
use std::ops::Range;

pub(crate) use parser::line_start;
pub use parser::{Error, ErrorKind};

/// Line ending convention of a file, detected from its first line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eol {
    /// `\n`
    Lf,
    /// `\r\n`
    Crlf,
}

impl Eol {
    /// Detects the convention from the first line break (LF when there is none).
    pub fn detect(src: &str) -> Self {
        match src.find('\n') {
            Some(i) if i > 0 && src.as_bytes()[i - 1] == b'\r' => Self::Crlf,
            _ => Self::Lf,
        }
    }

    /// The line break itself.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lf => "\n",
            Self::Crlf => "\r\n",
        }
    }
}

/// A parsed kustomization: the source plus the spans of what kustomerge edits.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    /// The whole source, BOM included (spans index into it).
    pub src: &'a str,
    /// The line ending convention.
    pub eol: Eol,
    /// Top-level keys in source order.
    pub keys: Vec<TopKey>,
    /// The keyed lists present (`images:`, `replicas:`), in source order.
    pub lists: Vec<KeyedList<'a>>,
}

/// One top-level key.
#[derive(Debug, Clone)]
pub struct TopKey {
    /// The key as written (after unquoting).
    pub name: String,
    /// 1-based line of the key.
    pub line: usize,
    /// Byte span of the key's lines: from the start of the key's line to the
    /// end of its value's last line, without the final line break.
    pub span: Range<usize>,
}

/// How a keyed list is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `- name: x` items on their own lines; `dash_col` is the column of `-`.
    Block {
        /// Byte column of each item's `-`.
        dash_col: usize,
        /// Byte column of the item's first key (so `key_col - dash_col` is the
        /// item's inner indentation).
        key_col: usize,
    },
    /// `[{name: x}, ...]`.
    Flow,
    /// `images:` with no value, or `images: []` written as an empty flow list
    /// is [`Style::Flow`]; this is the null case.
    Empty,
}

/// A top-level list of mappings keyed by `name` (`images:` or `replicas:`).
#[derive(Debug, Clone)]
pub struct KeyedList<'a> {
    /// `images` or `replicas`.
    pub key: String,
    /// Whole lines, from the start of the key's line to the end of the list's
    /// last line, without its final line break.
    pub region: Range<usize>,
    /// Block: the key's line (up to its line break). Flow: from the region's
    /// start through `[` and anything before the first entry.
    pub header: Range<usize>,
    /// Block: empty at the region's end. Flow: from after the last entry
    /// (or the header) to the region's end, `]` included.
    pub trailer: Range<usize>,
    /// How the list is written.
    pub style: Style,
    /// The entries in source order.
    pub entries: Vec<Entry<'a>>,
}

/// One entry of a keyed list.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Block: from the start of the first line after the previous entry (so
    /// comments and blank lines above an entry travel with it) to the end of
    /// its last line, without the line break. Flow: `{` through `}`.
    pub span: Range<usize>,
    /// Offset of the entry's `-` (block) or `{` (flow).
    pub start: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// The entry's fields in source order.
    pub fields: Fields<'a>,
}

/// An entry's fields in source order. A plain vector: keeping up to four in
/// the entry itself saved only 0.4–1% of a merge's instructions at 10 to
/// 1,000 images (callgrind, whole process).
pub type Fields<'a> = Vec<Field<'a>>;

/// A `key: scalar` pair inside an entry, as spans of its source.
///
/// A large list holds tens of thousands of fields, and their size was most
/// of the driver's memory and page faults: a field is 20 bytes of offsets,
/// and its key and value are read from the source on demand. That is exact
/// because only scalars whose text is their value are modelled: plain ones,
/// and quoted ones without escapes (image names, tags and digests can't hold
/// a quote or a backslash). Its line and column, needed only for messages,
/// come from [`Self::value_span`] and the source.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// Byte span of the key token, quotes included.
    key_at: Span,
    /// Byte span of the value token, quotes included.
    value_at: Span,
    key_quoted: bool,
    value_quoted: bool,
    /// The spans index a source of this lifetime.
    src: PhantomData<&'a str>,
}

impl<'a> Field<'a> {
    /// A field from its tokens' spans and whether each is quoted; the
    /// caller has checked that each token's text, unquoted, is its value.
    pub fn new(
        key: Range<usize>,
        key_quoted: bool,
        value: Range<usize>,
        value_quoted: bool,
    ) -> Self {
        Self {
            key_at: key.into(),
            value_at: value.into(),
            key_quoted,
            value_quoted,
            src: PhantomData,
        }
    }

    /// The key, read from `src` (the source the field was parsed from).
    #[inline]
    pub fn key<'s>(&self, src: &'s str) -> &'s str {
        unquote(src, self.key_at, self.key_quoted)
    }

    /// The value, read from `src` (the source the field was parsed from).
    #[inline]
    pub fn value<'s>(&self, src: &'s str) -> &'s str {
        unquote(src, self.value_at, self.value_quoted)
    }

    /// Whether the key is `key`; cheaper than comparing [`Self::key`], since
    /// most keys differ in length.
    #[inline]
    pub fn key_is(&self, src: &str, key: &str) -> bool {
        let quotes = 2 * usize::from(self.key_quoted);
        self.key_span().len() == key.len() + quotes && self.key(src) == key
    }

    /// The value kustomize reads: a plain `~`, `null` or nothing is absent.
    pub fn read<'s>(&self, src: &'s str) -> Option<&'s str> {
        let value = self.value(src);
        let null = self.plain() && crate::yaml11::is_null(value);
        (!null).then_some(value)
    }

    /// Whether the value is written plain (unquoted).
    pub fn plain(&self) -> bool {
        !self.value_quoted
    }

    /// Byte span of the key token.
    pub fn key_span(&self) -> Range<usize> {
        self.key_at.range()
    }

    /// Byte span of the value token, quotes included.
    pub fn value_span(&self) -> Range<usize> {
        self.value_at.range()
    }

    /// The 1-based line of the key in `src`, for messages: counted, since
    /// a field doesn't store it.
    pub fn line(&self, src: &str) -> usize {
        src[..self.key_span().start].matches('\n').count() + 1
    }
}

/// A token's text, without its quotes when it is quoted.
fn unquote(src: &str, at: Span, quoted: bool) -> &str {
    let r = at.range();
    if quoted {
        &src[r.start + 1..r.end - 1]
    } else {
        &src[r]
    }
}

/// A byte span in 32 bits: a field is stored tens of thousands of times on a
/// large list, and its size is most of the driver's memory. Sources of 4 GiB
/// or more are refused before any span is made (see [`MAX_LEN`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// The span as a range of byte offsets.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Self {
            start: narrow(r.start),
            end: narrow(r.end),
        }
    }
}

/// An offset, line or column of a source shorter than [`MAX_LEN`], in 32 bits.
fn narrow(n: usize) -> u32 {
    u32::try_from(n).expect("sources are shorter than MAX_LEN")
}

/// The longest source kustomerge models: offsets fit in 32 bits.
pub const MAX_LEN: usize = u32::MAX as usize;

impl Document<'_> {
    /// The keyed list named `key`, if present.
    pub fn list(&self, key: &str) -> Option<&KeyedList<'_>> {
        self.lists.iter().find(|l| l.key == key)
    }
}

impl<'a> Entry<'a> {
    /// The field named `key`; `src` is the entry's source.
    pub fn field(&self, src: &str, key: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.key_is(src, key))
    }

    /// The value of the field named `key`; `src` is the entry's source.
    pub fn get<'s>(&self, src: &'s str, key: &str) -> Option<&'s str> {
        self.field(src, key).map(|f| f.value(src))
    }

    /// The entry's identity (`name`), if it has one; `src` is its source.
    pub fn name<'s>(&self, src: &'s str) -> Option<&'s str> {
        self.get(src, "name")
    }

    /// The field kustomize decodes `key` from: field names match
    /// case-insensitively, as Go's JSON decoder matches them.
    pub fn field_ci(&self, src: &str, key: &str) -> Option<&Field<'a>> {
        self.fields
            .iter()
            .find(|f| f.key(src).eq_ignore_ascii_case(key))
    }

    /// The value kustomize reads for `key`: the key matched
    /// case-insensitively, a null value absent.
    pub fn read<'s>(&self, src: &'s str, key: &str) -> Option<&'s str> {
        self.field_ci(src, key).and_then(|f| f.read(src))
    }

    /// The entry's name as kustomize reads it (absent reads as empty).
    pub fn read_name<'s>(&self, src: &'s str) -> &'s str {
        self.read(src, "name").unwrap_or("")
    }
}

impl<'a> Document<'a> {
    /// Locates the top-level keys and keyed lists of `src`.
    pub fn parse(src: &'a str) -> Result<Self, Error> {
        parser::locate(src)
    }

    /// The file with each keyed list's region replaced by its
    /// [`placeholder`] line: the text the merge merges line by line, and what
    /// the full parser checks for a scanned document.
    pub fn without_lists(&self) -> String {
        self.without(&[])
    }

    /// [`Self::without_lists`], also without the lines in `vouched`.
    fn without(&self, vouched: &[Range<usize>]) -> String {
        let lists = self
            .lists
            .iter()
            .map(|l| (l.region.clone(), placeholder(&l.key)));
        let vouched = vouched.iter().map(|r| (r.clone(), String::new()));
        edit::splice(self.src, lists.chain(vouched).collect())
    }

    /// Locates only the keyed lists ([`Self::keys`] may be left empty), with a
    /// line scanner when the file has the common simple shape and the full
    /// parser otherwise. For the merge driver, where speed on large lists
    /// matters and only the lists are edited.
    pub fn parse_lists(src: &'a str) -> Result<Self, Error> {
        Self::scan_lists(src).validate(&mut Vec::new())
    }

    /// The first half of [`Self::parse_lists`]: locate the lists, leaving the
    /// full parse of the text around them to [`Scanned::validate`], which
    /// several documents can share.
    pub fn scan_lists(src: &'a str) -> Scanned<'a> {
        match scanner::scan(src) {
            Some((doc, vouched)) => Scanned::ByLines { doc, vouched },
            None => Scanned::Full(parser::locate(src)),
        }
    }
}

/// A document whose lists are located but whose text around them may still
/// need the full parser's verdict.
#[derive(Debug)]
pub enum Scanned<'a> {
    /// Located by the line scanner; the text around the lists is unchecked,
    /// apart from the `vouched` lines the scanner read itself.
    ByLines {
        /// The document.
        doc: Document<'a>,
        /// Spans of lines the scanner checked itself (see `scanner::scan`).
        vouched: Vec<Range<usize>>,
    },
    /// Fully parsed already.
    Full(Result<Document<'a>, Error>),
}

impl<'a> Scanned<'a> {
    /// Finishes the parse: the full parser checks the text around the lists
    /// ([`Document::without_lists`], less the lines the scanner vouched
    /// for). `valid` holds the texts already accepted: three sides that
    /// didn't change that text, and a merge result made from one of them,
    /// share one full parse.
    pub fn validate(self, valid: &mut Vec<String>) -> Result<Document<'a>, Error> {
        let (doc, vouched) = match self {
            Self::Full(result) => return result,
            Self::ByLines { doc, vouched } => (doc, vouched),
        };
        let stub = doc.without(&vouched);
        if valid.contains(&stub) {
            return Ok(doc);
        }
        match parser::locate(&stub) {
            Ok(_) => {
                valid.push(stub);
                Ok(doc)
            }
            // The full parse of the original says what is wrong, and where.
            Err(_) => parser::locate(doc.src),
        }
    }
}

/// Decodes raw file bytes as UTF-8, or says where they stop being UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, Error> {
    if let Some(i) = memchr::memchr(0, bytes) {
        return Err(Error::at_offset(
            bytes,
            i,
            "contains a NUL byte (binary data)",
            "kustomization files are text; remove the NUL byte",
        )
        .kind(ErrorKind::Encoding));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Error::at_offset(
            bytes,
            e.valid_up_to(),
            "is not valid UTF-8",
            "re-encode the file as UTF-8 (kustomize reads nothing else)",
        )
        .kind(ErrorKind::Encoding)
    })
}

/// How every [`placeholder`] starts; an input that holds it can't be merged
/// by placeholders.
pub const PLACEHOLDER_PREFIX: &str = "@@kustomerge-list:";

/// The line that stands in for the keyed list `key`: valid YAML (a quoted key
/// holding an empty list), so the text around the lists still parses, and
/// text no real file holds.
pub fn placeholder(key: &str) -> String {
    format!("\"{PLACEHOLDER_PREFIX}{key}@@\": []")
}

/// The kustomization file names kustomize recognises, in its lookup order.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether the last `/`-separated part of `path` is one of [`FILE_NAMES`].
pub fn is_file_name(path: &str) -> bool {
    FILE_NAMES.contains(&path.rsplit('/').next().unwrap_or(path))
}
