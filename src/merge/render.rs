//! Writing a planned list back as bytes, in the target list's style.
//!
//! Entries are copied byte for byte from their carrier, with changed scalars
//! spliced in. Only when an entry moves between a block list and a flow list
//! (one side restyled the list) is it re-synthesised from its fields.

use std::collections::HashMap;
use std::ops::Range;

use crate::kustomization::edit::{
    line_breaks, plain_safe, rebreak, reindent, scalar_token, splice,
};
use crate::kustomization::schema::{Facet, ListSchema};
use crate::kustomization::{Entry, Eol, Style};
use crate::merge::keyed::{Plan, Planned, Token};
use crate::merge::rule::{Pick, pick};
use crate::merge::text::Markers;
use crate::merge::{Side, Which};

/// How conflicting entries are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictStyle {
    /// `<<<<<<<` / `=======` / `>>>>>>>`.
    Merge,
    /// With a `|||||||` base section too.
    Diff3,
    /// No markers: the base version, for git's inner merge of a criss-cross
    /// history (its result becomes the outer merge's base, so the conflict
    /// resurfaces there instead of being silently resolved).
    VirtualBase,
}

/// The merged list's region text (no final line break).
pub fn region(
    plan: &Plan<'_>,
    sides: [&Side<'_>; 3],
    target: &Side<'_>,
    header: &str,
    trailer: &str,
    markers: &Markers,
    style: ConflictStyle,
) -> String {
    let list = target.list.expect("the target side has the list");
    let breaks = Breaks::new(sides, target);
    let eol = breaks.convention;
    match list.style {
        Style::Block { .. } | Style::Empty => {
            let mut out = String::from(header);
            // A comment heading the list sits in its first entry's span; an
            // entry inserted at the top takes it over, and when both sides
            // did so it must still be written once.
            let heading = sides[Which::Base as usize]
                .list
                .and_then(|l| l.entries.first())
                .map_or("", |e| lead(sides[Which::Base as usize].src, e));
            let mut headed = false;
            let mut piece = |from: Which, entry: &Entry, text: String, keep: bool| {
                let side = sides[from as usize];
                let mut lines = breaks.of(from, entry);
                let own = lead(side.src, entry);
                let first = side
                    .list
                    .and_then(|l| l.entries.first())
                    .map(|e| e.span.start);
                let mut text = rebreak(&text, &lines[1..]);
                // Only an entry inserted at the top inherits the heading; blank
                // lines alone are spacing, which every entry may carry.
                let inserted = || {
                    let name = entry.name(side.src);
                    let base = sides[Which::Base as usize];
                    !base
                        .list
                        .is_some_and(|l| l.entries.iter().any(|e| e.name(base.src) == name))
                };
                if !heading.trim().is_empty() && own == heading && first == Some(entry.span.start) {
                    if headed && inserted() {
                        text.drain(..own.len());
                        lines.drain(1..=own.matches('\n').count());
                    } else if keep {
                        headed = true;
                    }
                }
                (lines[0], text)
            };
            for (_, planned) in &plan.entries {
                match planned {
                    Planned::Clean {
                        carrier,
                        entry,
                        tokens,
                    } => {
                        let text = entry_text(sides, target, *carrier, entry, tokens);
                        let (before, text) = piece(*carrier, entry, text, true);
                        out.push_str(before);
                        out.push_str(&text);
                    }
                    Planned::Conflict { facets, .. } => {
                        let versions = [Which::Base, Which::Current, Which::Other].map(|w| {
                            version(planned, w).map(|e| {
                                let text = entry_text(sides, target, w, e, &[]);
                                let (before, text) = piece(w, e, text, w == Which::Current);
                                let lines = group(sides[w as usize], e, facets, &text);
                                (before, text, lines)
                            })
                        });
                        let [b, c, o] = &versions;
                        if style == ConflictStyle::VirtualBase {
                            if let Some((before, text, _)) = b {
                                out.push_str(before);
                                out.push_str(text);
                            }
                            continue;
                        }
                        out.push_str(c.as_ref().or(o.as_ref()).map_or(eol.as_str(), |v| v.0));
                        out.push_str(&conflict_text(&versions, markers, style, eol));
                    }
                }
            }
            out
        }
        Style::Flow => {
            let variant = |pick: Which| flow_variant(plan, sides, target, header, trailer, pick);
            if plan.conflicts == 0 {
                variant(Which::Current)
            } else if style == ConflictStyle::VirtualBase {
                variant(Which::Base)
            } else {
                // Flow entries share lines, so the markers cover the list.
                conflict_block(
                    Some(&variant(Which::Current)),
                    Some(&variant(Which::Base)),
                    Some(&variant(Which::Other)),
                    markers,
                    style,
                    eol,
                )
            }
        }
    }
}

/// A conflicting entry version: the break before it, its text, and its
/// conflicting field group as a range of its lines (see [`group`]).
type Version<'s> = Option<(&'s str, String, Option<Range<usize>>)>;

/// The markers for one conflicting entry: around the conflicting field group
/// only, when both sides hold it as one run of lines and agree on every
/// other line; around the whole entry otherwise.
fn conflict_text(
    versions: &[Version<'_>; 3],
    markers: &Markers,
    style: ConflictStyle,
    eol: Eol,
) -> String {
    let [b, c, o] = versions;
    let whole = || {
        conflict_block(
            c.as_ref().map(|v| v.1.as_str()),
            b.as_ref().map(|v| v.1.as_str()),
            o.as_ref().map(|v| v.1.as_str()),
            markers,
            style,
            eol,
        )
    };
    let (Some((_, ct, Some(cg))), Some((_, ot, Some(og)))) = (c, o) else {
        return whole();
    };
    let (cl, ol): (Vec<&str>, Vec<&str>) = (
        ct.split_inclusive('\n').collect(),
        ot.split_inclusive('\n').collect(),
    );
    if cl[..cg.start] != ol[..og.start] || cl[cg.end..] != ol[og.end..] {
        return whole();
    }
    let base = match b {
        None => None,
        Some((_, bt, Some(bg))) => {
            Some(bt.split_inclusive('\n').collect::<Vec<_>>()[bg.clone()].concat())
        }
        // The base lacks the group's fields: its section is empty.
        Some((_, _, None)) if style != ConflictStyle::Diff3 => None,
        Some((_, bt, None)) if !bt.is_empty() => Some(String::new()),
        Some(_) => return whole(),
    };
    let run = |lines: &[&str]| {
        let text = lines.concat();
        let bare = text
            .strip_suffix('\n')
            .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
        bare.to_owned()
    };
    let base = base.map(|t| run(&[t.as_str()]));
    let mut out = cl[..cg.start].concat();
    out.push_str(&conflict_block(
        Some(&run(&cl[cg.clone()])),
        base.as_deref().filter(|t| !t.is_empty()),
        Some(&run(&ol[og.clone()])),
        markers,
        style,
        eol,
    ));
    if cg.end < cl.len() {
        out.push_str(eol.as_str());
        out.push_str(&cl[cg.end..].concat());
    }
    out
}

/// The lines of `text` (entry `entry` of `side`, as rendered) that hold the
/// fields of `facets`, when they are one run: `None` when there are none,
/// when they are interleaved with other lines, or when the entry was
/// re-synthesised (its lines no longer follow its source's).
fn group(side: &Side<'_>, entry: &Entry, facets: &[Facet], text: &str) -> Option<Range<usize>> {
    let list = side.list?;
    if facets.is_empty() || !matches!(list.style, Style::Block { .. }) {
        return None;
    }
    let schema = ListSchema::for_key(&list.key)?;
    // Rendering keeps the entry's lines, less a heading it may have dropped.
    let dropped = side.src[entry.span.clone()]
        .matches('\n')
        .count()
        .checked_sub(text.matches('\n').count())?;
    let lines: Vec<usize> = entry
        .fields
        .iter()
        .filter(|f| {
            schema
                .facet_of(f.key(side.src))
                .is_some_and(|x| facets.contains(&x))
        })
        .map(|f| {
            side.src[entry.span.start..f.key_span().start]
                .matches('\n')
                .count()
        })
        .collect();
    let (lo, hi) = (*lines.iter().min()?, *lines.iter().max()?);
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == hi - lo + 1 && lo >= dropped).then(|| lo - dropped..hi + 1 - dropped)
}

/// The comment and blank lines above an entry's `-`, which travel with it.
fn lead<'s>(src: &'s str, entry: &Entry) -> &'s str {
    let text = &src[entry.span.start..entry.start];
    &text[..text.rfind('\n').map_or(0, |i| i + 1)]
}

/// The version of a planned entry on side `side`: its carrier's for a clean
/// entry.
fn version<'d>(planned: &Planned<'d>, side: Which) -> Option<&'d Entry<'d>> {
    match planned {
        Planned::Clean { entry, .. } => Some(entry),
        Planned::Conflict {
            base,
            current,
            other,
            ..
        } => match side {
            Which::Base => *base,
            Which::Current => *current,
            Which::Other => *other,
        },
    }
}

/// Line endings by the three-way rule, line by line: a line's ending is the
/// one the side that changed it wrote. A line only one side has keeps its
/// own, unless the other side converted the whole list.
struct Breaks<'s, 'd> {
    sides: [&'s Side<'d>; 3],
    /// The list's merged convention: for markers and re-synthesised entries.
    convention: Eol,
    /// The side that converted the whole list, with its convention.
    converted: Option<(Which, Eol)>,
    /// Each side's entries by name, only built for lists with a CR at all.
    names: Option<[HashMap<&'d str, &'d Entry<'d>>; 3]>,
}

impl<'s, 'd> Breaks<'s, 'd> {
    fn new(sides: [&'s Side<'d>; 3], target: &Side<'d>) -> Self {
        let [o, a, b] = sides.map(|s| s.list.map(|_| s.eol));
        let (convention, converted) = match (o, a, b) {
            (Some(o), Some(a), Some(b)) => match pick(Some(&o), &a, &b) {
                Pick::Current if a != o => (a, Some((Which::Current, a))),
                Pick::Other if b != o => (b, Some((Which::Other, b))),
                _ => (a, None),
            },
            _ => (target.eol, None),
        };
        let mixed = sides.iter().any(|s| {
            s.list.is_some_and(|l| {
                memchr::memchr(b'\r', s.src[l.region.clone()].as_bytes()).is_some()
            })
        });
        let names = mixed.then(|| {
            sides.map(|s| {
                s.list
                    .map(|l| {
                        l.entries
                            .iter()
                            .filter_map(|e| Some((e.name(s.src)?, e)))
                            .collect()
                    })
                    .unwrap_or_default()
            })
        });
        Self {
            sides,
            convention,
            converted,
            names,
        }
    }

    /// The break before `entry` (of side `from`) and each one inside it.
    fn of(&self, from: Which, entry: &Entry) -> Vec<&'static str> {
        let on = |side: &Side<'_>, e: &Entry| {
            let mut v = vec![break_before(side.src, e.span.start)];
            v.extend(line_breaks(&side.src[e.span.clone()]));
            v
        };
        let side = self.sides[from as usize];
        let Some(names) = &self.names else {
            // No CR in any side's list: every break is `\n`.
            return vec![
                self.convention.as_str();
                1 + side.src[entry.span.clone()].matches('\n').count()
            ];
        };
        let own = on(side, entry);
        let name = entry.name(side.src);
        let all = [Which::Base, Which::Current, Which::Other].map(|w| {
            let s = self.sides[w as usize];
            name.and_then(|n| names[w as usize].get(n))
                .filter(|_| matches!(s.list.map(|l| l.style), Some(Style::Block { .. })))
                .map(|e| on(s, e))
                .filter(|v| v.len() == own.len())
        });
        if let [Some(o), Some(a), Some(b)] = &all {
            return (0..own.len())
                .map(|i| match pick(Some(&o[i]), &a[i], &b[i]) {
                    Pick::Other => b[i],
                    Pick::Current => a[i],
                    Pick::Conflict => own[i],
                })
                .collect();
        }
        match self.converted {
            Some((w, eol)) if w != from => vec![eol.as_str(); own.len()],
            _ => own,
        }
    }
}

/// The flow list with each conflicting entry taken from side `pick`. Each
/// entry keeps the separator that followed it on its side (a comment after
/// it, on its line, is its own: a Flux `$imagepolicy` marker).
fn flow_variant(
    plan: &Plan<'_>,
    sides: [&Side<'_>; 3],
    target: &Side<'_>,
    header: &str,
    trailer: &str,
    pick: Which,
) -> String {
    let list = target.list.expect("the target side has the list");
    let first_sep = match list.entries.as_slice() {
        [first, second, ..] => &target.src[first.span.end..second.span.start],
        _ => ", ",
    };
    // Where a new line starts in a multi-line list: the break and indent.
    let newline = first_sep.find('\n').map(|i| {
        let i = if first_sep[..i].ends_with('\r') {
            i - 1
        } else {
            i
        };
        &first_sep[i..]
    });
    let trailer_rest = &trailer[first_line(trailer).len()..];
    let items: Vec<(String, Follow<'_>)> = plan
        .entries
        .iter()
        .filter_map(|(_, planned)| {
            let from = match planned {
                Planned::Clean { carrier, .. } => *carrier,
                Planned::Conflict { .. } => pick,
            };
            let text = text_of(planned, sides, target, pick)?;
            let entry = version(planned, pick)?;
            Some((text, follower(sides[from as usize], entry)))
        })
        .collect();
    let mut out = String::from(header);
    for (i, (text, follow)) in items.iter().enumerate() {
        out.push_str(text);
        let last = i + 1 == items.len();
        match (*follow, last, newline) {
            (Follow::Sep(sep), false, _) => out.push_str(sep),
            (Follow::Sep(sep), true, _) => {
                out.push_str(comment(first_line(sep)));
                out.push_str(trailer_rest);
            }
            (Follow::Tail(tail), false, Some(newline)) => {
                out.push(',');
                out.push_str(comment(tail));
                out.push_str(newline);
            }
            (Follow::Tail(_), false, None) => out.push_str(first_sep),
            (Follow::Tail(tail), true, _) => {
                out.push_str(tail);
                out.push_str(trailer_rest);
            }
        }
    }
    if items.is_empty() {
        out.push_str(trailer);
    }
    out
}

/// What follows a flow entry on its side: the separator to the next entry,
/// or for the last, the rest of its line (before the trailer's line break).
#[derive(Clone, Copy)]
enum Follow<'s> {
    Sep(&'s str),
    Tail(&'s str),
}

fn follower<'s>(side: &Side<'s>, entry: &Entry) -> Follow<'s> {
    let Some(list) = side.list.filter(|l| l.style == Style::Flow) else {
        return Follow::Tail("");
    };
    let at = list
        .entries
        .binary_search_by_key(&entry.span.start, |e| e.span.start)
        .ok();
    match at.and_then(|i| list.entries.get(i + 1)) {
        Some(next) => Follow::Sep(&side.src[entry.span.end..next.span.start]),
        None => Follow::Tail(first_line(&side.src[list.trailer.clone()])),
    }
}

/// The text before `s`'s first line break, or nothing if it has none.
pub fn first_line(s: &str) -> &str {
    match s.find('\n') {
        Some(i) => s[..i].strip_suffix('\r').unwrap_or(&s[..i]),
        None => "",
    }
}

/// A separator's line without its comma: the comment that follows.
fn comment(line: &str) -> &str {
    line.trim_start().strip_prefix(',').unwrap_or(line)
}

/// A planned entry's text in the target list: the merged entry, or for a
/// conflict, the version on side `side` (absent where that side lacks it).
fn text_of(
    planned: &Planned<'_>,
    sides: [&Side<'_>; 3],
    target: &Side<'_>,
    side: Which,
) -> Option<String> {
    match planned {
        Planned::Clean {
            carrier,
            entry,
            tokens,
        } => Some(entry_text(sides, target, *carrier, entry, tokens)),
        Planned::Conflict { .. } => {
            version(planned, side).map(|e| entry_text(sides, target, side, e, &[]))
        }
    }
}

/// One entry from side `from`, in the target list's style and indentation.
pub fn entry_text(
    sides: [&Side<'_>; 3],
    target: &Side<'_>,
    from: Which,
    entry: &Entry,
    tokens: &[(usize, Token<'_>)],
) -> String {
    let side = sides[from as usize];
    if side.which == target.which {
        // Its own entry: only the spliced scalars change, line endings too.
        return spliced(
            sides,
            side,
            entry,
            tokens,
            matches!(side.list.map(|l| l.style), Some(Style::Flow)),
        );
    }
    let src_style = side.list.expect("an entry implies a list").style;
    let dst_style = target.list.expect("the target side has the list").style;
    let flow = matches!(dst_style, Style::Flow);
    match (src_style, dst_style) {
        (
            Style::Block {
                dash_col: from_col, ..
            },
            Style::Block {
                dash_col: to_col, ..
            },
        ) => {
            let text = spliced(sides, side, entry, tokens, flow);
            reindent(&text, from_col, to_col, target.eol)
        }
        (Style::Flow, Style::Flow) => {
            let text = spliced(sides, side, entry, tokens, flow);
            convert_eol(&text, target.eol)
        }
        _ => synthesize(sides, side, entry, tokens, dst_style, target.eol),
    }
}

fn spliced(
    sides: [&Side<'_>; 3],
    side: &Side<'_>,
    entry: &Entry,
    tokens: &[(usize, Token<'_>)],
    flow: bool,
) -> String {
    let edits = tokens
        .iter()
        .map(|(i, t)| {
            let span = &entry.fields[*i].value_span();
            (
                span.start - entry.span.start..span.end - entry.span.start,
                token_text(sides, t, flow),
            )
        })
        .collect();
    splice(&side.src[entry.span.clone()], edits)
}

fn token_text(sides: [&Side<'_>; 3], t: &Token<'_>, flow: bool) -> String {
    let src = sides[t.from as usize].src;
    let (raw, value) = (&src[t.field.value_span()], t.field.value(src));
    if flow && t.field.plain() && !plain_safe(value, true) {
        scalar_token(value, None, true)
    } else {
        raw.to_owned()
    }
}

/// Rebuilds an entry from its fields when it changes between block and flow.
fn synthesize(
    sides: [&Side<'_>; 3],
    side: &Side<'_>,
    entry: &Entry,
    tokens: &[(usize, Token<'_>)],
    style: Style,
    eol: Eol,
) -> String {
    let flow = matches!(style, Style::Flow);
    let pairs: Vec<String> = entry
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let value = match tokens.iter().find(|(j, _)| *j == i) {
                Some((_, t)) => token_text(sides, t, flow),
                None if flow && f.plain() && !plain_safe(f.value(side.src), true) => {
                    scalar_token(f.value(side.src), None, true)
                }
                None => side.src[f.value_span()].to_owned(),
            };
            format!("{}: {value}", &side.src[f.key_span()])
        })
        .collect();
    match style {
        Style::Block { dash_col, key_col } => {
            let inner = key_col.saturating_sub(dash_col + 1).max(1);
            let mut out = format!("{}-{}", " ".repeat(dash_col), " ".repeat(inner));
            out.push_str(&pairs.join(&format!(
                "{}{}",
                eol.as_str(),
                " ".repeat(dash_col + 1 + inner)
            )));
            out
        }
        _ => format!("{{{}}}", pairs.join(", ")),
    }
}

/// The line break just before `at` (a line start).
fn break_before(src: &str, at: usize) -> &'static str {
    if src[..at].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

fn convert_eol(text: &str, eol: Eol) -> String {
    match eol {
        Eol::Lf => text.replace("\r\n", "\n"),
        Eol::Crlf => text.replace("\r\n", "\n").replace('\n', "\r\n"),
    }
}

/// Standard conflict markers around the given texts: entries, an entry's
/// field group, or a whole flow list.
pub fn conflict_block(
    current: Option<&str>,
    base: Option<&str>,
    other: Option<&str>,
    markers: &Markers,
    style: ConflictStyle,
    eol: Eol,
) -> String {
    let run = |c: char| c.to_string().repeat(markers.size);
    let mut lines: Vec<String> = vec![format!("{} {}", run('<'), markers.current)];
    lines.extend(current.map(str::to_owned));
    if style == ConflictStyle::Diff3 {
        lines.push(format!("{} {}", run('|'), markers.base));
        lines.extend(base.map(str::to_owned));
    }
    lines.push(run('='));
    lines.extend(other.map(str::to_owned));
    lines.push(format!("{} {}", run('>'), markers.other));
    lines.join(eol.as_str())
}
