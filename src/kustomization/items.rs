//! Where the items of the lists of strings (`resources:`, `components:`, ...)
//! sit in a file, for the merge of those lists item by item.
//!
//! Only the shape nearly every file uses is modelled: a block list whose
//! items are one-line strings, each on its own `- item` line at one column,
//! written without escapes. A list written any other way (flow style, an
//! item YAML 1.1 reads as a number, an anchor, a multi-line inline patch) is
//! reported as present but unmodelled, and the merge leaves it to git's line
//! merge, as before.

use std::ops::Range;

use granit_parser::{Event, ScalarStyle, StructureStyle};

use super::locate::{Walker, is_null, line_end, line_start, next_line, offset, verbatim};
use super::schema::ItemsSchema;
use super::{Error, ErrorKind};
use crate::yaml11::{self, Plain};

/// One list of strings as written in a file.
#[derive(Debug, Clone)]
pub struct ItemList<'a> {
    /// What the list is.
    pub schema: &'static ItemsSchema,
    /// Whole lines, from the start of the key's line to the end of the last
    /// item's line, without its line break.
    pub region: Range<usize>,
    /// The key's line, without its line break.
    pub header: Range<usize>,
    /// The column of every item's `-`.
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
    /// The string, as kustomize reads it.
    pub value: &'a str,
}

/// A top-level list of strings: its key, and the list when the model covers
/// how it is written (`None`: present, but git's line merge handles it).
pub type Located<'a> = (&'static str, Option<ItemList<'a>>);

/// Locates every top-level list of strings in `src`, in source order. A key
/// written twice is unmodelled, in both places.
pub fn item_lists(src: &str) -> Result<Vec<Located<'_>>, Error> {
    let mut w = Walker::new(src);
    for expected in ["stream", "document"] {
        match w.next()? {
            (Event::StreamStart | Event::DocumentStart(..), _) => {}
            (_, span) => {
                return Err(Error::new(
                    span.start.line(),
                    span.start.col() + 1,
                    format!("no YAML {expected} start"),
                    "fix the YAML",
                )
                .kind(ErrorKind::Syntax));
            }
        }
    }
    let mut out: Vec<Located<'_>> = Vec::new();
    if !matches!(
        w.next()?.0,
        Event::MappingStart(StructureStyle::Block, 0, None)
    ) {
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
        let Some(schema) = ItemsSchema::for_key(&key) else {
            w.skip_node(&value, vspan)?;
            continue;
        };
        let header = line_start(src, key_start)..line_end(src, key_end);
        let list = match value {
            Event::SequenceStart(StructureStyle::Block, 0, None) => {
                block_items(&mut w, src, schema, header)?
            }
            _ => {
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

/// The items of a block list whose `SequenceStart` was just read; `None`
/// (with the list's events consumed) when an item is outside the model.
fn block_items<'a>(
    w: &mut Walker<'a>,
    src: &'a str,
    schema: &'static ItemsSchema,
    header: Range<usize>,
) -> Result<Option<ItemList<'a>>, Error> {
    let mut items = Vec::new();
    let mut dash_col = None;
    let mut modelled = true;
    let mut prev_end = header.end;
    loop {
        let (ev, span) = w.next()?;
        let (s, e) = offset(span);
        match ev {
            Event::SequenceEnd => break,
            Event::Scalar(v, style, 0, None) if modelled => {
                match one_line(src, (s, e), style, &v) {
                    Some((value, col)) if dash_col.is_none_or(|d| d == col) => {
                        dash_col = Some(col);
                        items.push(Item {
                            span: next_line(src, prev_end)..line_end(src, e),
                            value,
                        });
                        prev_end = line_end(src, e);
                    }
                    _ => modelled = false,
                }
            }
            other => {
                w.skip_node(&other, span)?;
                modelled = false;
            }
        }
    }
    Ok(match (modelled, dash_col) {
        (true, Some(dash_col)) => Some(ItemList {
            schema,
            region: header.start..prev_end,
            header,
            dash_col,
            items,
        }),
        _ => None,
    })
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
    if !quoted && (is_null(value) || !matches!(yaml11::resolve(value), Plain::Str)) {
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
    fn other_shapes_are_present_but_unmodelled() {
        for src in [
            "resources: [a, b]\n",
            "resources:\n- a\n- 1\n",
            "resources:\n- a\n- b\n  c\n",
            "resources:\n- \"a\\tb\"\n",
            "resources:\n- &x a\n",
            "resources:\n- a\nresources:\n- b\n",
            "patchesStrategicMerge:\n- |\n  kind: X\n",
        ] {
            let lists = item_lists(src).unwrap();
            assert!(lists.iter().all(|(_, l)| l.is_none()), "{src}");
            assert!(!lists.is_empty(), "{src}");
        }
        assert!(item_lists("images:\n- name: a\n").unwrap().is_empty());
    }
}
