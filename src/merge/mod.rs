//! The merge driver's pipeline: a keyed merge of `images:` and `replicas:`,
//! git's own line merge for everything else, and a check of the result.
//!
//! 1. Trivial cases (a side equal to the base, or both sides equal) take the
//!    changed side verbatim.
//! 2. Each side is parsed into byte spans ([`Document`]). Each keyed list's
//!    region is swapped for a placeholder line, giving each side's *rest*.
//! 3. The rests merge by the three-way rule; only when both changed does
//!    `git merge-file` run on them (with git's labels, marker size and the
//!    repo's conflict style).
//! 4. Each keyed list merges by `name` ([`keyed`]) and is rendered into the
//!    placeholder ([`render`]), starting from the current side's bytes.
//! 5. A clean result is checked independently ([`verify`]): read from
//!    scratch the way kustomize reads it ([`crate::meaning`]), it must hold
//!    the planned lists and obey the three-way rule on meaning. Anything
//!    else, any input kustomize refuses and any panic fall back to
//!    `git merge-file` on the original inputs, whose clean result is held to
//!    the same rule (a wrong one becomes a conflict).

pub mod items;
pub mod keyed;
pub mod markers;
pub mod render;
pub mod rule;
pub mod text;
pub mod verify;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::git::Git;
use crate::kustomization::schema::LISTS;
use crate::kustomization::{
    Document, Eol, KeyedList, PLACEHOLDER_PREFIX, Scanned, Style, decode, placeholder,
};
use crate::version::SameImagePolicy;
use render::ConflictStyle;
use rule::{Pick, pick};
pub use text::Markers;

/// The three inputs, in git's argument order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `%O`, the merge base.
    Base = 0,
    /// `%A`, the current side (in a rebase: the upstream being rebased onto).
    Current = 1,
    /// `%B`, the other side (in a rebase: the commit being replayed).
    Other = 2,
}

/// The three inputs' anything (sides, texts, readings) are `[T; 3]` in
/// git's order, indexed by which input they belong to.
impl<T> std::ops::Index<Which> for [T; 3] {
    type Output = T;

    fn index(&self, which: Which) -> &T {
        &self[which as usize]
    }
}

impl<T> std::ops::IndexMut<Which> for [T; 3] {
    fn index_mut(&mut self, which: Which) -> &mut T {
        &mut self[which as usize]
    }
}

impl fmt::Display for Which {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Base => "base",
            Self::Current => "current",
            Self::Other => "other",
        })
    }
}

/// Why the structured merge stepped aside for git's line merge. The message
/// is printed as is: it names the input and line, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Fallback(pub String);

/// How the merge should behave.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Same image, different versions.
    pub policy: SameImagePolicy,
    /// Labels and the requested marker size (git's `%L`).
    pub markers: Markers,
    /// Where git runs (the repository, for `merge.conflictStyle`).
    pub git: Git,
    /// Git's inner merge of a criss-cross history: conflicting entries keep
    /// their base version (see [`ConflictStyle::VirtualBase`]).
    pub virtual_base: bool,
    /// Git's line merge for every file, for this reason (the user's kill
    /// switch, read by the command).
    pub forced_fallback: Option<String>,
}

impl Options {
    /// The markers to write for these inputs: [`Self::markers`], lengthened
    /// past any marker-like line the inputs already hold.
    fn markers_for(&self, inputs: [&[u8]; 3]) -> Markers {
        Markers {
            size: text::marker_size(self.markers.size, inputs),
            ..self.markers.clone()
        }
    }
}

/// The merge result.
#[derive(Debug)]
pub struct Outcome {
    /// The bytes to write to `%A`.
    pub bytes: Vec<u8>,
    /// Number of conflicts; 0 means clean and verified.
    pub conflicts: usize,
    /// Set when git's line merge produced the result, with the reason.
    pub fallback: Option<String>,
}

/// One input as the merge sees it.
#[derive(Debug)]
pub struct Side<'d> {
    /// Which input this is.
    pub which: Which,
    /// The decoded source.
    pub src: &'d str,
    /// The list's line endings (a file may mix them; the list's own count).
    pub eol: Eol,
    /// The keyed list being merged, if this side has it.
    pub list: Option<&'d KeyedList<'d>>,
}

impl Side<'_> {
    /// The list's style, ignoring indentation: entries can be compared
    /// byte-wise only between lists written the same way.
    pub fn style_kind(&self) -> Option<std::mem::Discriminant<Style>> {
        self.list.map(|l| std::mem::discriminant(&l.style))
    }
}

/// Merges `base`, `current` and `other`. Never panics: a panic in the
/// structured merge is caught and reported as a fallback. Errors only when
/// even git's line merge can't run.
pub fn merge(base: &[u8], current: &[u8], other: &[u8], opts: &Options) -> anyhow::Result<Outcome> {
    if current == other || base == other {
        return Ok(clean(current));
    }
    if base == current {
        return Ok(clean(other));
    }
    // What kustomize makes of the inputs, for checking a clean result: read
    // on a second thread while the merge runs, since reading every byte
    // with the full parser costs about as much as the merge itself.
    std::thread::scope(|s| {
        // The parser recurses as collections nest; the main thread's stack
        // size keeps a deeply nested file an error, not an overflow.
        let reader = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn_scoped(s, || [base, current, other].map(crate::meaning::read))
            .expect("spawning the reader thread");
        let reader = std::cell::Cell::new(Some(reader));
        let readings = std::cell::OnceCell::new();
        let inputs = || {
            readings.get_or_init(|| {
                let unread = |_| {
                    let e = crate::meaning::ReadError {
                        line: 0,
                        column: 0,
                        message: "the reader failed".into(),
                    };
                    [Err(e.clone()), Err(e.clone()), Err(e)]
                };
                reader
                    .take()
                    .expect("joined once")
                    .join()
                    .unwrap_or_else(unread)
            })
        };
        checked(base, current, other, opts, &inputs)
    })
}

/// [`merge`] with `inputs` giving what kustomize makes of the three inputs.
fn checked<'r>(
    base: &[u8],
    current: &[u8],
    other: &[u8],
    opts: &Options,
    inputs: &dyn Fn() -> &'r verify::Readings<'r>,
) -> anyhow::Result<Outcome> {
    let structured = catch_unwind(AssertUnwindSafe(|| {
        let (outcome, promise) = structured(base, current, other, opts)?;
        if let Some(p) = promise {
            verify::structured(inputs(), &outcome.bytes, &p.lists, &p.around, opts.policy)
                .map_err(|e| {
                    Fallback(format!(
                        "the merged result failed the independent check: {e}"
                    ))
                })?;
        }
        Ok(outcome)
    }));
    let reason = match structured {
        Ok(Ok(outcome)) => return Ok(outcome),
        Ok(Err(Fallback(reason))) => reason,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!("internal error in the structured merge ({msg}); please report it")
        }
    };
    let markers = opts.markers_for([base, current, other]);
    if [base, current, other].iter().any(|b| b.contains(&0)) {
        // git merge-file refuses binary input; git's own merge keeps ours
        // and reports a conflict, and so do we.
        return Ok(Outcome {
            bytes: current.to_vec(),
            conflicts: 1,
            fallback: Some(format!(
                "{reason}; the file holds NUL bytes, so like git's own merge of binary files the current side is kept"
            )),
        });
    }
    let merged = text::merge(&opts.git, base, current, other, &markers)?;
    let check = || {
        catch_unwind(AssertUnwindSafe(|| {
            verify::fallback(inputs(), &merged.bytes, opts.policy)
        }))
        .unwrap_or_else(|_| Err("the check itself failed; please report it".into()))
    };
    if merged.conflicts == 0
        && let Err(wrong) = check()
    {
        // git's clean line merge would lose a change: a conflict instead,
        // around every line the sides don't share.
        return Ok(Outcome {
            bytes: text::whole_conflict(base, current, other, &markers, conflict_style(opts)),
            conflicts: 1,
            fallback: Some(format!(
                "{reason}; git's line merge came out clean but wrong ({wrong}), so it is written as a conflict"
            )),
        });
    }
    Ok(Outcome {
        bytes: merged.bytes,
        conflicts: merged.conflicts,
        fallback: Some(reason),
    })
}

fn clean(bytes: &[u8]) -> Outcome {
    Outcome {
        bytes: bytes.to_vec(),
        conflicts: 0,
        fallback: None,
    }
}

/// Scans one input.
fn scan(which: Which, bytes: &[u8]) -> Result<Scanned<'_>, Fallback> {
    let src = decode(bytes).map_err(|e| Fallback(format!("{which} input, {e}")))?;
    if memchr::memmem::find(src.as_bytes(), PLACEHOLDER_PREFIX.as_bytes()).is_some() {
        return Err(Fallback(format!(
            "{which} input contains kustomerge's internal placeholder text"
        )));
    }
    Ok(Document::scan_lists(src))
}

/// `text` without the line that holds `needle` (its line break included).
fn without_line(text: &str, needle: &str) -> String {
    let Some(at) = text.find(needle) else {
        return text.to_owned();
    };
    let end = at + needle.len();
    let (start, end) = match text[end..].find('\n') {
        Some(i) if text[end..end + i].trim().is_empty() => (at, end + i + 1),
        _ if at > 0 && text[..at].ends_with('\n') => {
            let cut = if text[..at].ends_with("\r\n") { 2 } else { 1 };
            (at - cut, end)
        }
        _ => (at, end),
    };
    format!("{}{}", &text[..start], &text[end..])
}

/// `text` with each `tok` replaced by `region`, and the line break after it
/// by `end` when given: the ending of the list's last line is the list's,
/// not the placeholder line's.
fn put(text: &str, tok: &str, region: &str, end: Option<&str>) -> String {
    let Some(end) = end else {
        return text.replace(tok, region);
    };
    let mut out = String::with_capacity(text.len() + region.len());
    let mut rest = text;
    while let Some(at) = rest.find(tok) {
        out.push_str(&rest[..at]);
        out.push_str(region);
        rest = &rest[at + tok.len()..];
        if let Some(after) = rest
            .strip_prefix("\r\n")
            .or_else(|| rest.strip_prefix('\n'))
        {
            out.push_str(end);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Set, it panics inside the structured merge, so a test can prove the
/// panic is caught. Debug builds (the tests') only: a release never reads it.
#[cfg(debug_assertions)]
const PANIC_ENV: &str = "KUSTOMERGE_TEST_PANIC";

fn structured<'a>(
    base: &'a [u8],
    current: &'a [u8],
    other: &'a [u8],
    opts: &Options,
) -> Result<(Outcome, Option<Promise<'a>>), Fallback> {
    if let Some(reason) = &opts.forced_fallback {
        return Err(Fallback(reason.clone()));
    }
    #[cfg(debug_assertions)]
    if std::env::var_os(PANIC_ENV).is_some() {
        panic!("{PANIC_ENV} is set");
    }
    // The second core already reads the inputs for the check (see
    // [`merge`]): a thread per side here would only compete with it.
    let (o, a, b) = (
        scan(Which::Base, base),
        scan(Which::Current, current),
        scan(Which::Other, other),
    );
    // The text around the lists is usually the same on every side: one full
    // parse of it serves all three, and the result.
    let mut valid = Vec::new();
    let docs = [(Which::Base, o), (Which::Current, a), (Which::Other, b)].map(|(which, s)| {
        s.and_then(|s| {
            s.validate(&mut valid)
                .map_err(|e| Fallback(format!("{which} input, {e}")))
        })
    });
    let [o, a, b] = docs;
    let docs = [o?, a?, b?];
    let mut rests = docs.each_ref().map(Document::without_lists);
    // Scanning the inputs for marker-like lines costs a pass over each, so
    // it happens only once a conflict is actually written.
    let marker_cell = std::cell::OnceCell::new();
    let markers = || {
        marker_cell
            .get_or_init(|| opts.markers_for([base, current, other]))
            .clone()
    };
    let line_merge = |rests: &[String; 3]| -> Result<(String, usize), Fallback> {
        let m = text::merge(
            &opts.git,
            rests[0].as_bytes(),
            rests[1].as_bytes(),
            rests[2].as_bytes(),
            &markers(),
        )
        .map_err(|e| Fallback(format!("{e:#}")))?;
        let s = String::from_utf8(m.bytes)
            .map_err(|_| Fallback("git merge-file returned non-UTF-8 text".into()))?;
        Ok((s, m.conflicts))
    };
    let merge_rests = |rests: &[String; 3]| -> Result<(String, usize), Fallback> {
        Ok(match pick(Some(&rests[0]), &rests[1], &rests[2]) {
            Pick::Current => (rests[1].clone(), 0),
            Pick::Other => (rests[2].clone(), 0),
            Pick::Conflict => items::merge(
                rests,
                opts.policy,
                &|| (conflict_style(opts), markers()),
                &mut { line_merge },
            )?,
        })
    };
    let (mut merged, mut conflicts) = merge_rests(&rests)?;
    // A list both sides added at different places (the base lacks it) would
    // come out twice, and kustomize silently reads only the last key: it is
    // one list, at the current side's place.
    let mut again = false;
    for schema in LISTS {
        let tok = placeholder(schema.key);
        if merged.matches(&tok).count() > 1 && docs[0].list(schema.key).is_none() {
            rests[2] = without_line(&rests[2], &tok);
            again = true;
        }
    }
    if again {
        (merged, conflicts) = merge_rests(&rests)?;
    }
    // Where one side's text around the lists was taken whole, the result
    // must mean what that side means there, which its reading already says;
    // only text git merged needs reading on its own.
    let around_side = match pick(Some(&rests[0]), &rests[1], &rests[2]) {
        _ if again => None,
        Pick::Current => Some(Which::Current),
        Pick::Other => Some(Which::Other),
        Pick::Conflict => None,
    };
    let merged_rest = merged.clone();
    let (merged, keyed_conflicts, plans) = keyed_lists(&docs, merged, opts, &markers)?;
    conflicts += keyed_conflicts;
    let promised = if conflicts == 0 {
        Some(promise(&docs, &plans, around_side, merged_rest)?)
    } else {
        None
    };
    Ok((
        Outcome {
            bytes: merged.into_bytes(),
            conflicts,
            fallback: None,
        },
        promised,
    ))
}

/// Each keyed list's plan, by key (`None` where the result has no such list).
type Plans<'d> = Vec<(&'static str, Option<keyed::Plan<'d>>)>;

/// The keyed lists (`images:`, `replicas:`) merged by name, each put in its
/// placeholder's place in `merged`; with their conflicts and plans.
fn keyed_lists<'d>(
    docs: &'d [Document<'d>; 3],
    mut merged: String,
    opts: &Options,
    markers: &dyn Fn() -> Markers,
) -> Result<(String, usize, Plans<'d>), Fallback> {
    let mut plans = Vec::new();
    let mut conflicts = 0;
    let mut style: Option<(ConflictStyle, Markers)> = None;
    for schema in LISTS {
        let mut which = [Which::Base, Which::Current, Which::Other].into_iter();
        let sides = docs.each_ref().map(|d| {
            let list = d.list(schema.key);
            Side {
                which: which.next().expect("three sides"),
                src: d.src,
                eol: list.map_or(d.eol, |l| Eol::detect(&d.src[l.header.start..])),
                list,
            }
        });
        if sides.iter().all(|s| s.list.is_none()) {
            continue;
        }
        let target = target(&sides)?;
        let tlist = target.list.expect("target has the list");
        let (header, trailer) = edges(&sides, target)?;
        let plan = keyed::plan(schema, sides.each_ref(), tlist.style, opts.policy)?;
        if matches!(tlist.style, Style::Empty) && !plan.entries.is_empty() {
            return Err(Fallback(format!(
                "`{}:` is empty on one side and filled on another in a way kustomerge can't place",
                schema.key
            )));
        }
        let (cstyle, cmarkers) = if plan.conflicts == 0 {
            (ConflictStyle::Merge, opts.markers.clone())
        } else {
            style
                .get_or_insert_with(|| (conflict_style(opts), markers()))
                .clone()
        };
        let (region, end) = render::region(
            &plan,
            sides.each_ref(),
            target,
            header,
            trailer,
            &cmarkers,
            cstyle,
        );
        let tok = placeholder(schema.key);
        let present = merged.contains(&tok);
        if !present && !plan.entries.is_empty() {
            return Err(Fallback(format!(
                "one side removed `{}:` while the other changed it",
                schema.key
            )));
        }
        merged = put(&merged, &tok, &region, end);
        conflicts += plan.conflicts;
        plans.push((schema.key, present.then_some(plan)));
    }
    Ok((merged, conflicts, plans))
}

/// What a clean merge promises: each keyed list's meaning as planned, and
/// what the text around the lists means (`around_side`'s reading, or the
/// merged text around them, `merged_rest`, read on its own).
fn promise<'a>(
    docs: &[Document<'a>; 3],
    plans: &Plans<'_>,
    around_side: Option<Which>,
    merged_rest: String,
) -> Result<Promise<'a>, Fallback> {
    let srcs = docs.each_ref().map(|d| d.src);
    let lists = plans
        .iter()
        .map(|(key, plan)| {
            let value = match plan {
                Some(plan) => verify::planned(key, plan, srcs).map_err(Fallback)?,
                None => None,
            };
            Ok((*key, value))
        })
        .collect::<Result<Vec<_>, Fallback>>()?;
    let around = match around_side {
        Some(side) => verify::Around::Side(side),
        None => {
            let mut rest = merged_rest;
            for schema in LISTS {
                let tok = placeholder(schema.key);
                while rest.contains(&tok) {
                    rest = without_line(&rest, &tok);
                }
            }
            verify::Around::Text(rest)
        }
    };
    Ok(Promise { lists, around })
}

/// What a clean structured merge promises, for [`verify::structured`].
struct Promise<'a> {
    /// Each merged list's meaning (absent where the result has none).
    lists: Vec<(&'static str, Option<crate::meaning::Value<'a>>)>,
    /// What the fields around the lists must be.
    around: verify::Around,
}

/// Picks the list whose layout the result keeps: the current side's, unless
/// only the other side restyled or re-indented the list.
fn target<'s, 'd>(sides: &'s [Side<'d>; 3]) -> Result<&'s Side<'d>, Fallback> {
    let shape = |s: &Side<'_>| s.list.map(|l| l.style);
    let [o, a, b] = sides;
    Ok(match (a.list, b.list) {
        (Some(_), Some(_)) if shape(a) == shape(o) && shape(b) != shape(o) => b,
        (Some(_), _) => a,
        (None, Some(_)) => b,
        (None, None) => o,
    })
}

/// The list's header (the key's line, or a flow list's opening) and trailer,
/// by the three-way rule when all sides write the list the same way.
fn edges<'d>(sides: &[Side<'d>; 3], target: &Side<'d>) -> Result<(&'d str, &'d str), Fallback> {
    let texts = |s: &Side<'d>| {
        s.list
            .map(|l| (&s.src[l.header.clone()], &s.src[l.trailer.clone()]))
    };
    let tl = target.list.expect("target has the list");
    let own = (
        &target.src[tl.header.clone()],
        &target.src[tl.trailer.clone()],
    );
    let [o, a, b] = sides;
    if a.style_kind() != b.style_kind() || o.style_kind() != a.style_kind() {
        return Ok(own);
    }
    // A flow list's trailer starts with the rest of its last entry's line
    // (a comment after it): that is the entry's, and moves with it.
    let compared =
        |t: Option<(&'d str, &'d str)>| t.map(|(h, tr)| (h, &tr[render::first_line(tr).len()..]));
    let (to, ta, tb) = (texts(o), texts(a), texts(b));
    match pick(Some(&compared(to)), &compared(ta), &compared(tb)) {
        Pick::Current => Ok(ta.unwrap_or(own)),
        Pick::Other => Ok(tb.unwrap_or(own)),
        Pick::Conflict => Err(Fallback(format!(
            "both sides changed the `{}:` line differently",
            tl.key
        ))),
    }
}

fn conflict_style(opts: &Options) -> ConflictStyle {
    if opts.virtual_base {
        return ConflictStyle::VirtualBase;
    }
    match opts.git.run(["config", "merge.conflictStyle"]) {
        Ok(s) if s.contains("diff3") => ConflictStyle::Diff3,
        _ => ConflictStyle::Merge,
    }
}
