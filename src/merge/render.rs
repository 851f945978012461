//! Writing a planned list back as bytes, in the target list's style.
//!
//! Entries are copied byte for byte from their carrier, with changed scalars
//! spliced in. Only when an entry moves between a block list and a flow list
//! (one side restyled the list) is it re-synthesised from its fields.

use crate::kustomization::edit::{plain_safe, reindent, scalar_token, splice};
use crate::kustomization::{Entry, Eol, Style};
use crate::merge::keyed::{Plan, Planned, Token};
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
    match list.style {
        Style::Block { .. } | Style::Empty => {
            let eol = target.eol.as_str();
            let mut out = String::from(header);
            for (_, planned) in &plan.entries {
                let text = match planned {
                    Planned::Clean { .. } => text_of(planned, sides, target, Which::Current),
                    Planned::Conflict { .. } => {
                        let [b, c, o] = [Which::Base, Which::Current, Which::Other]
                            .map(|w| text_of(planned, sides, target, w));
                        if style == ConflictStyle::VirtualBase {
                            b
                        } else {
                            Some(conflict_block(
                                c.as_deref(),
                                b.as_deref(),
                                o.as_deref(),
                                markers,
                                style,
                                target.eol,
                            ))
                        }
                    }
                };
                if let Some(text) = text {
                    // An entry of the target's own keeps the line break it
                    // had, so a file mixing CRLF and LF keeps each line's.
                    out.push_str(match planned {
                        Planned::Clean { carrier, entry, .. } if *carrier == target.which => {
                            break_before(target.src, entry.span.start)
                        }
                        _ => eol,
                    });
                    out.push_str(&text);
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
                    target.eol,
                )
            }
        }
    }
}

/// The flow list with each conflicting entry taken from side `pick`.
fn flow_variant(
    plan: &Plan<'_>,
    sides: [&Side<'_>; 3],
    target: &Side<'_>,
    header: &str,
    trailer: &str,
    pick: Which,
) -> String {
    let list = target.list.expect("the target side has the list");
    let sep = match list.entries.as_slice() {
        [first, second, ..] => &target.src[first.span.end..second.span.start],
        _ => ", ",
    };
    let texts: Vec<String> = plan
        .entries
        .iter()
        .filter_map(|(_, planned)| text_of(planned, sides, target, pick))
        .collect();
    format!("{header}{}{trailer}", texts.join(sep))
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
        Planned::Conflict {
            base,
            current,
            other,
        } => {
            let version = match side {
                Which::Base => base,
                Which::Current => current,
                Which::Other => other,
            };
            version.map(|e| entry_text(sides, target, side, e, &[]))
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

/// Standard conflict markers around whole entries (or a whole flow list).
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
