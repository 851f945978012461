//! Where the items of the lists merged item by item (`resources:`,
//! `patches:`, `configMapGenerator:`, `commonLabels:`, ...) sit in a file.
//!
//! Only the shapes nearly every file uses are modelled: a block list whose
//! items are one-line strings, each on its own `- item` line at one column,
//! written without escapes; a block list of block maps, each starting on its
//! own `- key:` line at one column; a block map of one-line `key: value`
//! pairs. A list written any other way (flow style, an item YAML 1.1 reads
//! as a number, an anchor, a tag, a multi-line string item) is reported as
//! present but unmodelled, and the merge leaves it to git's line merge.

use std::borrow::Cow;
use std::ops::Range;

use granit_parser::{Event, ScalarStyle, StructureStyle};

use super::Error;
use super::parser::{
    Walker, expect_stream_start, line_end, line_start, next_line, offset, verbatim,
};
use super::schema::{ITEM_LISTS, ItemShape, ItemsSchema};
use crate::yaml11::{self, Plain};

/// One list merged item by item, as written in a file.
#[derive(Debug, Clone)]
pub struct ItemList<'a> {
    /// What the list is.
    pub schema: &'static ItemsSchema,
    /// Whole lines, from the start of the key's line to the end of the last
    /// item's line, without its line break.
    pub region: Range<usize>,
    /// The key's line, without its line break.
    pub header: Range<usize>,
    /// The column of every item's `-` (a pair's key).
    pub dash_col: usize,
    /// The items in source order.
    pub items: Vec<Item<'a>>,
}

/// One item of an [`ItemList`].
#[derive(Debug, Clone)]
pub struct Item<'a> {
    /// From the start of the first line after the previous item (so comments
    /// and blank lines above an item travel with it) to the end of its line,
    /// without the line break.
    pub span: Range<usize>,
    /// A string item's string as kustomize reads it; a pair's value and an
    /// entry's lines as written.
    pub value: &'a str,
    /// What identifies the item in its list (see [`ItemsSchema`]).
    pub id: Cow<'a, str>,
}

impl Item<'_> {
    /// Where [`Item::value`] starts in `src`, the text the item was read from.
    pub fn value_start(&self, src: &str) -> usize {
        self.value.as_ptr() as usize - src.as_ptr() as usize
    }
}

/// A list's key, and the list when the model covers how it is written
/// (`None`: present, but git's line merge handles it).
pub type Located<'a> = (&'static str, Option<ItemList<'a>>);

/// Locates every top-level list of [`ITEM_LISTS`] in `src`, in source
/// order. A key written twice is unmodelled, in both places.
pub fn item_lists(src: &str) -> Result<Vec<Located<'_>>, Error> {
    item_lists_in(src, &ITEM_LISTS)
}

/// Locates the lists of `table` in a mapping (a whole file, or one entry
/// of a list with its `-` blanked out), in source order.
pub fn item_lists_in<'a>(
    src: &'a str,
    table: &'static [ItemsSchema],
) -> Result<Vec<Located<'a>>, Error> {
    let mut w = Walker::new(src);
    expect_stream_start(&mut w)?;
    let mut out: Vec<Located<'_>> = Vec::new();
    // An empty stream, or a document that isn't a block mapping, holds no
    // lists to model.
    if !matches!(w.next()?.0, Event::DocumentStart(..))
        || !matches!(
            w.next()?.0,
            Event::MappingStart(StructureStyle::Block, 0, None)
        )
    {
        return Ok(out);
    }
    loop {
        let (ev, span) = w.next()?;
        let key = match ev {
            Event::MappingEnd => break,
            Event::Scalar(key, ..) => key,
            _ => return Ok(Vec::new()),
        };
        let (key_start, key_end) = offset(span);
        let (value, vspan) = w.next()?;
        let Some(schema) = table.iter().find(|s| s.key == key) else {
            w.skip_node(&value, vspan)?;
            continue;
        };
        let header = line_start(src, key_start)..line_end(src, key_end);
        let list = match (value, schema.shape) {
            (Event::SequenceStart(StructureStyle::Block, 0, None), shape)
                if shape != ItemShape::Pairs && shape != ItemShape::Scalar =>
            {
                sequence_items(&mut w, src, schema, header)?
            }
            (Event::MappingStart(StructureStyle::Block, 0, None), ItemShape::Pairs) => {
                pair_items(&mut w, src, schema, header)?
            }
            (Event::Scalar(_, _, 0, None), ItemShape::Scalar) => {
                let end = line_end(src, offset(vspan).1.max(key_end));
                (!src[header.start..end].contains('\n')).then(|| ItemList {
                    schema,
                    region: header.start..end,
                    header: header.start..end,
                    dash_col: 0,
                    items: Vec::new(),
                })
            }
            (value, _) => {
                w.skip_node(&value, vspan)?;
                None
            }
        };
        if let Some(seen) = out.iter_mut().find(|(k, _)| *k == schema.key) {
            seen.1 = None;
            continue;
        }
        out.push((schema.key, list));
    }
    Ok(out)
}

/// The items of one list as they are read, and whether every one is in the
/// model and at one column.
struct Collect<'a> {
    src: &'a str,
    schema: &'static ItemsSchema,
    header: Range<usize>,
    items: Vec<Item<'a>>,
    dash_col: Option<usize>,
    modelled: bool,
}

impl<'a> Collect<'a> {
    fn new(src: &'a str, schema: &'static ItemsSchema, header: Range<usize>) -> Self {
        Self {
            src,
            schema,
            header,
            items: Vec::new(),
            dash_col: None,
            modelled: true,
        }
    }

    /// Adds an item whose `-` (a pair's key) is at `col` (`None`: not where
    /// the model wants it) and whose content ends at `end`. Its lines run
    /// from the line after the previous item, so comments above it are its.
    fn push(&mut self, col: Option<usize>, end: usize, value: &'a str, id: Cow<'a, str>) {
        if col.is_none() || self.dash_col.is_some_and(|d| Some(d) != col) {
            self.modelled = false;
            return;
        }
        self.dash_col = col;
        let start = next_line(
            self.src,
            self.items.last().map_or(self.header.end, |i| i.span.end),
        );
        let end = line_end(self.src, end);
        self.items.push(Item {
            span: start..end,
            value,
            id,
        });
    }

    /// A node outside the model: consumes it, and the list is unmodelled.
    fn skip(
        &mut self,
        w: &mut Walker<'a>,
        ev: &Event<'a>,
        span: granit_parser::Span,
    ) -> Result<(), Error> {
        w.skip_node(ev, span)?;
        self.modelled = false;
        Ok(())
    }

    /// The list, when every item was in the model and at one column.
    fn finish(self) -> Option<ItemList<'a>> {
        let end = self.items.last().map_or(self.header.end, |i| i.span.end);
        match (self.modelled, self.dash_col) {
            (true, Some(dash_col)) => Some(ItemList {
                schema: self.schema,
                region: self.header.start..end,
                header: self.header,
                dash_col,
                items: self.items,
            }),
            _ => None,
        }
    }
}

/// The items of a block list whose `SequenceStart` was just read (strings,
/// or map entries, as `schema` says); `None` (with the list's events
/// consumed) when an item is outside the model.
fn sequence_items<'a>(
    w: &mut Walker<'a>,
    src: &'a str,
    schema: &'static ItemsSchema,
    header: Range<usize>,
) -> Result<Option<ItemList<'a>>, Error> {
    let entries = matches!(schema.shape, ItemShape::Entries(_));
    let mut list = Collect::new(src, schema, header);
    loop {
        let (ev, span) = w.next()?;
        let (s, e) = offset(span);
        match ev {
            Event::SequenceEnd => break,
            Event::Scalar(v, style, 0, None) if list.modelled && !entries => {
                let (value, col) = one_line(src, (s, e), style, &v).unzip();
                let value = value.unwrap_or_default();
                list.push(col, e, value, schema.identity(value).0);
            }
            Event::MappingStart(StructureStyle::Block, 0, None) if list.modelled && entries => {
                let Some((first, end, fields)) = entry(w, src)? else {
                    list.modelled = false;
                    continue;
                };
                let start = line_start(src, first);
                let col = src[start..first]
                    .trim_end_matches(' ')
                    .strip_suffix('-')
                    .filter(|d| d.bytes().all(|b| b == b' '))
                    .map(str::len);
                let value = |f: &str| fields.iter().find(|(k, _)| k == f).map(|(_, v)| v.clone());
                let id = Cow::Owned(schema.entry_identity(value));
                list.push(col, end, &src[start..line_end(src, end)], id);
            }
            other => list.skip(w, &other, span)?,
        }
    }
    Ok(list.finish())
}

/// The pairs of a block map of strings whose `MappingStart` was just read;
/// `None` (with the map's events consumed) when one is outside the model.
fn pair_items<'a>(
    w: &mut Walker<'a>,
    src: &'a str,
    schema: &'static ItemsSchema,
    header: Range<usize>,
) -> Result<Option<ItemList<'a>>, Error> {
    let mut list = Collect::new(src, schema, header);
    loop {
        let (ev, span) = w.next()?;
        let (ks, ke) = offset(span);
        let key = match ev {
            Event::MappingEnd => break,
            Event::Scalar(key, _, 0, None) if list.modelled => key,
            other => {
                list.skip(w, &other, span)?;
                continue;
            }
        };
        let (ev, span) = w.next()?;
        let (s, e) = offset(span);
        let Event::Scalar(_, _, 0, None) = ev else {
            list.skip(w, &ev, span)?;
            continue;
        };
        let end = if e > s { e } else { ke };
        let start = line_start(src, ks);
        let one_line = !src[ks..end].contains('\n') && src[start..ks].bytes().all(|b| b == b' ');
        list.push(
            one_line.then_some(ks - start),
            end,
            &src[s.min(end)..end],
            key,
        );
    }
    Ok(list.finish())
}

/// An entry's fields: a scalar's value as read, a collection's as written.
type Fields<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// One block map entry whose `MappingStart` was just read: the offset of its
/// first key, the end of its last content, and its [`Fields`]; `None`, with
/// the entry's events consumed, when it holds an anchor, an alias, a tag or
/// a key that is not a string.
fn entry<'a>(
    w: &mut Walker<'a>,
    src: &'a str,
) -> Result<Option<(usize, usize, Fields<'a>)>, Error> {
    let (mut first, mut end) = (None, 0);
    let mut fields = Vec::new();
    let mut modelled = true;
    loop {
        let (ev, span) = w.next()?;
        let (ks, ke) = offset(span);
        let key = match ev {
            Event::MappingEnd => break,
            Event::Scalar(key, _, 0, None) if modelled => key,
            other => {
                end = end.max(w.skip_node(&other, span)?);
                modelled = false;
                continue;
            }
        };
        first.get_or_insert(ks);
        end = end.max(ke);
        let (ev, span) = w.next()?;
        let (s, e) = offset(span);
        match ev {
            Event::Scalar(v, style, 0, None) => {
                // A block scalar's span runs over the line breaks after it.
                end = end.max(s + src[s..e.max(s)].trim_end().len());
                modelled &= !trails_blank(&v, style);
                fields.push((key, v));
            }
            Event::SequenceStart(_, 0, None) | Event::MappingStart(_, 0, None) => {
                let (clean, last) = clean_node(w, src, &ev, span)?;
                end = end.max(last);
                modelled &= clean;
                fields.push((key, Cow::Borrowed(src[s..last.max(s)].trim())));
            }
            other => {
                end = end.max(w.skip_node(&other, span)?);
                modelled = false;
            }
        }
    }
    Ok(first.filter(|_| modelled).map(|f| (f, end, fields)))
}

/// Whether a block scalar's value ends in blank content: lines of spaces
/// more indented than its text belong to it, and the item's lines, which
/// end at its last text, would leave them behind when the item moves.
fn trails_blank(value: &str, style: ScalarStyle) -> bool {
    matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
        && value
            .strip_suffix('\n')
            .unwrap_or(value)
            .ends_with(char::is_whitespace)
}

/// Consumes a collection whose start event was just read, as
/// [`Walker::skip_node`] does, and says whether it was free of anchors,
/// aliases and tags, and where its content ends.
fn clean_node<'a>(
    w: &mut Walker<'a>,
    src: &str,
    ev: &Event<'a>,
    span: granit_parser::Span,
) -> Result<(bool, usize), Error> {
    let mut end = offset(span).1;
    let mut clean = true;
    let mut depth = match ev {
        Event::SequenceStart(..) | Event::MappingStart(..) => 1usize,
        _ => return Ok((true, end)),
    };
    while depth > 0 {
        let (ev, span) = w.next()?;
        let (s, e) = offset(span);
        match ev {
            Event::SequenceStart(_, 0, None) | Event::MappingStart(_, 0, None) => depth += 1,
            Event::SequenceEnd | Event::MappingEnd => depth -= 1,
            Event::Scalar(ref v, style, 0, None) => {
                end = end.max(s + src[s..e.max(s)].trim_end().len());
                clean &= !trails_blank(v, style);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                clean = false;
            }
            _ => clean = false,
        }
        // A block collection's end event sits at the next token; only flow
        // brackets and scalars mark real content.
        if e > s && !matches!(ev, Event::Scalar(..)) {
            end = end.max(e);
        }
    }
    Ok((clean, end))
}

/// A scalar item spanning `s..e` as the model takes it: alone on its
/// `- item` line (a comment may follow), without escapes, and a string to
/// kustomize. Its value, borrowed from `src`, and the column of its `-`.
fn one_line<'a>(
    src: &'a str,
    (s, e): (usize, usize),
    style: ScalarStyle,
    value: &str,
) -> Option<(&'a str, usize)> {
    if src[s..e].contains('\n') {
        return None;
    }
    let quoted = verbatim(src, (s, e), style, value)?;
    if !quoted && !matches!(yaml11::resolve(value), Plain::Str) {
        return None;
    }
    let start = line_start(src, s);
    let before = src[start..s].trim_end_matches(' ');
    let dash = before.strip_suffix('-')?;
    if !dash.bytes().all(|b| b == b' ') {
        return None;
    }
    let text = if quoted {
        &src[s + 1..e - 1]
    } else {
        &src[s..e]
    };
    Some((text, dash.len()))
}

#[cfg(test)]
mod tests {
    use super::item_lists;

    fn values(src: &str, key: &str) -> Option<Vec<String>> {
        let lists = item_lists(src).unwrap();
        let (_, list) = lists.into_iter().find(|(k, _)| *k == key)?;
        list.map(|l| l.items.iter().map(|i| i.value.to_owned()).collect())
    }

    #[test]
    fn items_carry_the_comments_above_them() {
        let src = "resources:\n# apps\n- a.yaml  # first\n\n- 'b c.yaml'\nnamespace: x\n";
        let lists = item_lists(src).unwrap();
        let list = lists[0].1.as_ref().unwrap();
        let spans: Vec<&str> = list.items.iter().map(|i| &src[i.span.clone()]).collect();
        assert_eq!(spans, ["# apps\n- a.yaml  # first", "\n- 'b c.yaml'"]);
        assert_eq!(
            &src[list.region.clone()],
            &src[..src.find("\nnamespace").unwrap()]
        );
        assert_eq!(values(src, "resources").unwrap(), ["a.yaml", "b c.yaml"]);
    }

    #[test]
    fn entries_and_pairs_are_items_by_their_identity() {
        let src = "patches:\n- path: p1.yaml\n# inline\n- target:\n    kind: Deployment\n  patch: |-\n    - op: remove\n      path: /x\n\nconfigMapGenerator:\n- name: cfg\n  literals:\n  - A=1\ncommonLabels:\n  app: shop # owner\n  team: \"core\"\n";
        let lists = item_lists(src).unwrap();
        let got: Vec<(&str, Vec<(String, &str)>)> = lists
            .iter()
            .map(|(k, l)| {
                let l = l.as_ref().unwrap();
                (
                    *k,
                    l.items
                        .iter()
                        .map(|i| (i.id.to_string(), &src[i.span.clone()]))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "patches",
                    vec![
                        ("path=p1.yaml\ntarget=\npatch=\noptions=".to_owned(), "- path: p1.yaml"),
                        (
                            "path=\ntarget=kind: Deployment\npatch=- op: remove\n  path: /x\noptions=".to_owned(),
                            "# inline\n- target:\n    kind: Deployment\n  patch: |-\n    - op: remove\n      path: /x"
                        ),
                    ]
                ),
                (
                    "configMapGenerator",
                    vec![("namespace=\nname=cfg".to_owned(), "- name: cfg\n  literals:\n  - A=1")]
                ),
                (
                    "commonLabels",
                    vec![
                        ("app".to_owned(), "  app: shop # owner"),
                        ("team".to_owned(), "  team: \"core\"")
                    ]
                ),
            ]
        );
    }

    #[test]
    fn other_shapes_are_present_but_unmodelled() {
        for src in [
            "resources: [a, b]\n",
            "resources:\n- a\n- 1\n",
            "resources:\n- a\n- b\n  c\n",
            "resources:\n- \"a\\tb\"\n",
            "resources:\n- &x a\n",
            "resources:\n- a\nresources:\n- b\n",
            "patchesStrategicMerge:\n- |\n  kind: X\n",
            "patches:\n- {path: a}\n",
            "patches:\n- path: a\n  target: &t {kind: X}\n",
            "patches:\n-\n  path: a\n",
            "commonLabels:\n  a: b\n  c: [d]\n",
            "commonLabels:\n  a: 'b\n    c'\n",
        ] {
            let lists = item_lists(src).unwrap();
            assert!(lists.iter().all(|(_, l)| l.is_none()), "{src}");
            assert!(!lists.is_empty(), "{src}");
        }
        assert!(item_lists("images:\n- name: a\n").unwrap().is_empty());
    }
}
