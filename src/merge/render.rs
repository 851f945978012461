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
use crate::kustomization::{Entry, Eol, KeyedList, Style};
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

/// The merged list's region text (no final line break), and the ending of
/// its last line where the list decides it (`None`: keep the one the merge
/// of the text around the lists wrote).
pub fn region(
    plan: &Plan<'_>,
    sides: [&Side<'_>; 3],
    target: &Side<'_>,
    header: &str,
    trailer: &str,
    markers: &Markers,
    style: ConflictStyle,
) -> (String, Option<&'static str>) {
    let list = target.list.expect("the target side has the list");
    let breaks = Breaks::new(sides, target);
    let eol = breaks.convention;
    match list.style {
        Style::Block { .. } | Style::Empty => {
            let mut out = String::from(header);
            // The ending of the line last written, put once a line follows.
            let mut pending = breaks.header();
            // A comment heading the list sits in its first entry's span; an
            // entry inserted at the top takes it over, and when both sides
            // did so it must still be written once.
            let heading = sides[Which::Base]
                .list
                .and_then(|l| l.entries.first())
                .map_or("", |e| lead(sides[Which::Base].src, e));
            let mut headed = false;
            let mut piece = |from: Which, entry: &Entry, mut text: String, keep: bool| {
                let side = sides[from];
                let mut ends = breaks.of(from, entry, text.matches('\n').count() + 1);
                let own = lead(side.src, entry);
                let first = side
                    .list
                    .and_then(|l| l.entries.first())
                    .map(|e| e.span.start);
                // Only an entry inserted at the top inherits the heading; blank
                // lines alone are spacing, which every entry may carry.
                let inserted = || {
                    let name = entry.name(side.src);
                    let base = sides[Which::Base];
                    !base
                        .list
                        .is_some_and(|l| l.entries.iter().any(|e| e.name(base.src) == name))
                };
                if !heading.trim().is_empty() && own == heading && first == Some(entry.span.start) {
                    if headed && inserted() {
                        text.drain(..own.len());
                        ends.drain(..own.matches('\n').count());
                    } else if keep {
                        headed = true;
                    }
                }
                let last = ends.pop().flatten();
                let inner: Vec<&str> = ends.iter().map(|e| e.unwrap_or(eol.as_str())).collect();
                (rebreak(&text, &inner), last)
            };
            for (_, planned) in &plan.entries {
                match planned {
                    Planned::Clean {
                        carrier,
                        entry,
                        tokens,
                    } => {
                        let text = entry_text(sides, target, *carrier, entry, tokens);
                        let (text, end) = piece(*carrier, entry, text, true);
                        out.push_str(pending.unwrap_or(eol.as_str()));
                        out.push_str(&text);
                        pending = end;
                    }
                    Planned::Conflict { facets, .. } => {
                        let versions = [Which::Base, Which::Current, Which::Other].map(|w| {
                            version(planned, w).map(|e| {
                                let text = entry_text(sides, target, w, e, &[]);
                                let (text, end) = piece(w, e, text, w == Which::Current);
                                let lines = group(sides[w], e, facets, &text);
                                (end, text, lines)
                            })
                        });
                        if style == ConflictStyle::VirtualBase {
                            if let Some((end, text, _)) = &versions[Which::Base] {
                                out.push_str(pending.unwrap_or(eol.as_str()));
                                out.push_str(text);
                                pending = *end;
                            }
                            continue;
                        }
                        out.push_str(pending.unwrap_or(eol.as_str()));
                        out.push_str(&conflict_text(&versions, markers, style, eol));
                        pending = Some(eol.as_str());
                    }
                }
            }
            (out, pending)
        }
        Style::Flow => {
            let variant =
                |pick: Which| flow_variant(plan, sides, target, header, trailer, pick, eol);
            if plan.conflicts == 0 {
                (variant(Which::Current), breaks.flow_end())
            } else if style == ConflictStyle::VirtualBase {
                (variant(Which::Base), None)
            } else {
                // Flow entries share lines, so the markers cover the list.
                let text = conflict_block(
                    Some(&variant(Which::Current)),
                    Some(&variant(Which::Base)),
                    Some(&variant(Which::Other)),
                    markers,
                    style,
                    eol,
                );
                (text, None)
            }
        }
    }
}

/// A conflicting entry version: the ending of its last line, its text, and
/// its conflicting field group as a range of its lines (see [`group`]).
type Version = Option<(Option<&'static str>, String, Option<Range<usize>>)>;

/// The markers for one conflicting entry: around the conflicting field group
/// only, when both sides hold it as one run of lines and agree on every
/// other line; around the whole entry otherwise.
fn conflict_text(
    versions: &[Version; 3],
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
/// one the side that changed it wrote, the ending of an entry's last line
/// included (it stays on that line, whatever follows it). A line only one
/// side has keeps its own, unless the other side converted the whole list.
struct Breaks<'s, 'd> {
    sides: [&'s Side<'d>; 3],
    target: Which,
    /// The list's merged convention: for markers and re-synthesised entries.
    convention: Eol,
    /// The side that changed the ending of every line of the list, with the
    /// ending it wrote.
    converted: Option<(Which, &'static str)>,
    /// Each side's block entries by name, only built for lists with a CR at
    /// all (without one, every break is `\n`).
    names: Option<[HashMap<&'d str, &'d Entry<'d>>; 3]>,
}

impl<'s, 'd> Breaks<'s, 'd> {
    fn new(sides: [&'s Side<'d>; 3], target: &Side<'d>) -> Self {
        // The list's lines, with the ending of its last one.
        let text = |s: &Side<'d>| {
            s.list.map(|l| {
                let end = break_at(s.src, l.region.end).map_or(0, str::len);
                &s.src[l.region.start..l.region.end + end]
            })
        };
        let mixed = sides
            .iter()
            .any(|s| text(s).is_some_and(|t| memchr::memchr(b'\r', t.as_bytes()).is_some()));
        // A side's convention is the ending most of its list's lines have:
        // one flipped line, the key's included, doesn't make one.
        let usual = |s: &Side<'d>| {
            let ends = line_breaks(text(s)?);
            let crlf = ends.iter().filter(|e| **e == "\r\n").count();
            Some(match (2 * crlf).cmp(&ends.len()) {
                std::cmp::Ordering::Greater => Eol::Crlf,
                std::cmp::Ordering::Less => Eol::Lf,
                std::cmp::Ordering::Equal => s.eol,
            })
        };
        let [o, a, b] = if mixed {
            sides.map(usual)
        } else {
            sides.map(|s| s.list.map(|_| s.eol))
        };
        let convention = match (o, a, b) {
            (Some(o), Some(a), Some(b)) => match pick(Some(&o), &a, &b) {
                Pick::Other => b,
                _ => a,
            },
            _ => target.eol,
        };
        if !mixed {
            return Self {
                sides,
                target: target.which,
                convention,
                converted: None,
                names: None,
            };
        }
        let uniform = |s: &Side<'d>| {
            let ends = line_breaks(text(s)?);
            let first = *ends.first()?;
            ends.iter().all(|e| *e == first).then_some(first)
        };
        let base = uniform(sides[Which::Base]);
        let converted = [Which::Current, Which::Other].into_iter().find_map(|w| {
            let e = uniform(sides[w])?;
            (base? != e).then_some((w, e))
        });
        let names = sides.map(|s| {
            s.list
                .filter(|l| matches!(l.style, Style::Block { .. }))
                .map(|l| {
                    l.entries
                        .iter()
                        .filter_map(|e| Some((e.name(s.src)?, e)))
                        .collect()
                })
                .unwrap_or_default()
        });
        Self {
            sides,
            target: target.which,
            convention,
            converted,
            names: Some(names),
        }
    }

    /// The ending of a block list's key line.
    fn header(&self) -> Option<&'static str> {
        self.rule(|s, l| break_at(s.src, l.header.end))
    }

    /// The ending of a flow list's last line.
    fn flow_end(&self) -> Option<&'static str> {
        self.names.as_ref()?;
        self.rule(|s, l| break_at(s.src, l.region.end))
    }

    /// The three-way rule on the ending of a line of the list's frame, where
    /// every side writes the list the same way; the target's ending where
    /// not.
    fn rule(
        &self,
        end: impl Fn(&Side<'_>, &KeyedList<'_>) -> Option<&'static str>,
    ) -> Option<&'static str> {
        let [o, a, b] = self
            .sides
            .map(|s| s.list.map(|l| (s.style_kind(), end(s, l))));
        let own = || {
            let t = self.sides[self.target];
            t.list.and_then(|l| end(t, l))
        };
        let (Some(o), Some(a), Some(b)) = (o, a, b) else {
            return own();
        };
        if o.0 != a.0 || a.0 != b.0 {
            return own();
        }
        taken(Some(&o.1), a.1, b.1, own())
    }

    /// The ending of each of the `count` lines of `entry` (of side `from`)
    /// as rendered; `None` where its side wrote none (the end of the file).
    fn of(&self, from: Which, entry: &Entry, count: usize) -> Vec<Option<&'static str>> {
        let side = self.sides[from];
        let block = matches!(side.list.map(|l| l.style), Some(Style::Block { .. }));
        let Some(names) = self.names.as_ref().filter(|_| block) else {
            // No CR in any side's list, or an entry re-synthesised from a
            // flow list: its lines are new, in the list's convention.
            return vec![Some(self.convention.as_str()); count];
        };
        let own = lines_of(side.src, entry);
        let name = entry.name(side.src);
        let all = [Which::Base, Which::Current, Which::Other].map(|w| {
            if w == from {
                return None;
            }
            let s = self.sides[w];
            name.and_then(|n| names[w].get(n))
                .map(|e| lines_of(s.src, e))
        });
        own.iter()
            .map(|(id, mine)| {
                let [o, a, b] = [Which::Base, Which::Current, Which::Other].map(|w| {
                    if w == from {
                        return Some(*mine);
                    }
                    all[w]
                        .as_ref()?
                        .iter()
                        .find(|(i, _)| i == id)
                        .map(|(_, e)| *e)
                });
                match (o, a, b) {
                    (_, Some(a), Some(b)) => taken(o.as_ref(), a, b, *mine),
                    (None, ..) => match self.converted {
                        Some((w, e)) if w != from => Some(e),
                        _ => *mine,
                    },
                    _ => *mine,
                }
            })
            .collect()
    }
}

/// The three-way rule's pick, or `own` (the carrier's) where both sides
/// changed it differently.
fn taken<T: PartialEq + Copy>(base: Option<&T>, current: T, other: T, own: T) -> T {
    match pick(base, &current, &other) {
        Pick::Current => current,
        Pick::Other => other,
        Pick::Conflict => own,
    }
}

/// Which line of an entry a line is, across sides: the one holding a field's
/// key, or else the n-th line with this text (a comment, a blank line).
#[derive(PartialEq, Eq)]
enum LineId<'s> {
    Field(&'s str),
    Text(&'s str, usize),
}

/// Each line of a block entry with its ending.
fn lines_of<'s>(src: &'s str, entry: &Entry) -> Vec<(LineId<'s>, Option<&'static str>)> {
    let mut fields = entry.fields.iter().peekable();
    let mut out: Vec<(LineId<'s>, Option<&'static str>)> = Vec::new();
    let mut at = entry.span.start;
    for line in src[entry.span.clone()].split('\n') {
        let end = at + line.len();
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut key = None;
        while let Some(f) = fields.next_if(|f| f.key_span().start <= end) {
            key.get_or_insert(f.key(src));
        }
        let id = match key {
            Some(key) => LineId::Field(key),
            None => {
                let seen = out
                    .iter()
                    .filter(|(id, _)| matches!(id, LineId::Text(t, _) if *t == line))
                    .count();
                LineId::Text(line, seen)
            }
        };
        let eol = if line.len() < end - at {
            Some("\r\n")
        } else {
            break_at(src, end)
        };
        out.push((id, eol));
        at = end + 1;
    }
    out
}

/// The flow list with each conflicting entry taken from side `chosen`. What
/// follows each entry (the separator, with a comment after the entry on its
/// line: a Flux `$imagepolicy` marker) is the three-way rule's pick of what
/// followed it on each side, else its own side's.
fn flow_variant(
    plan: &Plan<'_>,
    sides: [&Side<'_>; 3],
    target: &Side<'_>,
    header: &str,
    trailer: &str,
    chosen: Which,
    eol: Eol,
) -> String {
    // A new separator follows the layout of a list with two entries, the
    // target's first: a lone entry shows none.
    let first_sep = std::iter::once(target)
        .chain(sides)
        .filter_map(|s| {
            match s
                .list
                .filter(|l| l.style == Style::Flow)?
                .entries
                .as_slice()
            {
                [first, second, ..] => Some(&s.src[first.span.end..second.span.start]),
                _ => None,
            }
        })
        .next()
        .unwrap_or(", ");
    // The indentation of a new line in a multi-line list.
    let indent = first_sep.find('\n').map(|i| &first_sep[i + 1..]);
    let trailer_rest = &trailer[first_line(trailer).len()..];
    let names = sides.map(|s| {
        s.list.filter(|l| l.style == Style::Flow).map(|l| {
            l.entries
                .iter()
                .filter_map(|e| Some((e.name(s.src)?, e)))
                .collect::<HashMap<_, _>>()
        })
    });
    // The separator and the ending of the entry's line, each by the rule.
    let follows = |from: Which, entry: &Entry| {
        let own = follower(sides[from], entry);
        let name = entry.name(sides[from].src);
        let [o, a, b] = [Which::Base, Which::Current, Which::Other].map(|w| {
            let e = names[w].as_ref()?.get(name?)?;
            Some(follower(sides[w], e))
        });
        let (Some(a), Some(b)) = (a, b) else {
            return own;
        };
        let o = o.as_ref();
        (
            taken(o.map(|o| &o.0), a.0, b.0, own.0),
            taken(o.map(|o| &o.1), a.1, b.1, own.1),
        )
    };
    let items: Vec<(String, (Follow<'_>, Option<&str>))> = plan
        .entries
        .iter()
        .filter_map(|(_, planned)| {
            let from = match planned {
                Planned::Clean { carrier, .. } => *carrier,
                Planned::Conflict { .. } => chosen,
            };
            let text = text_of(planned, sides, target, chosen)?;
            let entry = version(planned, chosen)?;
            Some((text, follows(from, entry)))
        })
        .collect();
    // The trailer after the last entry's line, that line's ending first.
    let close = |out: &mut String, end: Option<&str>| match trailer_rest
        .strip_prefix("\r\n")
        .or_else(|| trailer_rest.strip_prefix('\n'))
    {
        Some(after) => {
            out.push_str(end.unwrap_or(&trailer_rest[..trailer_rest.len() - after.len()]));
            out.push_str(after);
        }
        None => out.push_str(trailer_rest),
    };
    let mut out = String::from(header);
    for (i, (text, (follow, end))) in items.iter().enumerate() {
        out.push_str(text);
        let last = i + 1 == items.len();
        match (*follow, last, indent) {
            (Follow::Sep { line, indent }, false, _) => {
                out.push_str(line);
                if let Some(indent) = indent {
                    out.push_str(end.unwrap_or(eol.as_str()));
                    out.push_str(indent);
                }
            }
            (Follow::Sep { line, indent }, true, _) => {
                // A comment ends its line: a separator on one line has none.
                if indent.is_some() {
                    out.push_str(comment(line));
                }
                close(&mut out, *end);
            }
            (Follow::Tail(tail), false, Some(indent)) => {
                out.push(',');
                out.push_str(comment(tail));
                out.push_str(end.unwrap_or(eol.as_str()));
                out.push_str(indent);
            }
            (Follow::Tail(_), false, None) => out.push_str(first_sep),
            (Follow::Tail(tail), true, _) => {
                out.push_str(tail);
                close(&mut out, *end);
            }
        }
    }
    if items.is_empty() {
        out.push_str(trailer);
    }
    out
}

/// What follows a flow entry on its side, less the break that ends its line
/// (which [`follower`] gives apart, as a line's ending is the line's).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow<'s> {
    /// To the next entry: the rest of this entry's line, and the next line's
    /// indentation when the next entry is on a later line.
    Sep {
        line: &'s str,
        indent: Option<&'s str>,
    },
    /// The last entry: the rest of its line, before the trailer's break.
    Tail(&'s str),
}

/// What follows `entry` on `side`, and the ending of its line where it ends
/// before the next entry or the trailer's last line.
fn follower<'s>(side: &Side<'s>, entry: &Entry) -> (Follow<'s>, Option<&'static str>) {
    let Some(list) = side.list.filter(|l| l.style == Style::Flow) else {
        return (Follow::Tail(""), None);
    };
    let at = list
        .entries
        .binary_search_by_key(&entry.span.start, |e| e.span.start)
        .ok();
    let split = |text: &'s str| {
        let i = text.find('\n')?;
        let crlf = text[..i].ends_with('\r');
        let line = &text[..i - usize::from(crlf)];
        Some((line, &text[i + 1..], if crlf { "\r\n" } else { "\n" }))
    };
    match at.and_then(|i| list.entries.get(i + 1)) {
        Some(next) => {
            let sep = &side.src[entry.span.end..next.span.start];
            match split(sep) {
                Some((line, indent, end)) => (
                    Follow::Sep {
                        line,
                        indent: Some(indent),
                    },
                    Some(end),
                ),
                None => (
                    Follow::Sep {
                        line: sep,
                        indent: None,
                    },
                    None,
                ),
            }
        }
        None => match split(&side.src[list.trailer.clone()]) {
            Some((line, _, end)) => (Follow::Tail(line), Some(end)),
            None => (Follow::Tail(""), None),
        },
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
    let side = sides[from];
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
    let src = sides[t.from].src;
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

/// The line break at `at` (a line's end), if there is one.
/// The line break at `at`, if one starts there.
pub(super) fn break_at(src: &str, at: usize) -> Option<&'static str> {
    let rest = &src.as_bytes()[at..];
    if rest.starts_with(b"\r\n") {
        Some("\r\n")
    } else if rest.starts_with(b"\n") {
        Some("\n")
    } else {
        None
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
