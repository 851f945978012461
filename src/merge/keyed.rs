//! The keyed three-way merge of one list (`images:` or `replicas:`).
//!
//! Identity is `name`. Entries are read as kustomize reads them ([`Read`]):
//! each key under the field Go's JSON decoder matches it to (`NEWTAG` is
//! `newTag`), each value typed the way go-yaml v2 types it (`1.10` unquoted
//! is a number, `null` is no value). Per entry, each facet (see [`schema`])
//! goes through the three-way rule on those values, so re-quoting,
//! re-spelling a key or re-indenting is never a semantic change. The entry's
//! bytes come from a *carrier*: the side whose formatting changed (comments,
//! key order), with the merged values spliced in. Entries added on one side
//! are copied byte for byte from it.
//!
//! [`schema`]: crate::kustomization::schema

// foldhash, not std's SipHash: hashing names was a fifth of a 10,000-image
// merge. Its seed is random per process and the driver's runs are short and
// unobservable, so names crafted to collide still can't slow it down.
use foldhash::{HashMap as Map, HashMapExt};

use crate::kustomization::schema::{Facet, IMAGES, ListSchema};
use crate::kustomization::{Entry, Field, Style};
use crate::merge::rule::{Pick, pick};
use crate::merge::{Fallback, Side, Which};
use crate::version::SameImagePolicy;
use crate::yaml11::{Plain, resolve};

/// One entry of the merged list.
#[derive(Debug)]
pub enum Planned<'d> {
    /// A clean entry: `carrier`'s bytes with `values` spliced over its fields.
    Clean {
        /// Whose bytes the entry is written from.
        carrier: Which,
        /// The carrier's entry.
        entry: &'d Entry<'d>,
        /// Replacement tokens by field, where they differ from the carrier's.
        tokens: Vec<(usize, Token<'d>)>,
    },
    /// Both sides changed the entry incompatibly.
    Conflict {
        /// The entry on each side (absent where that side lacks it).
        base: Option<&'d Entry<'d>>,
        /// Current side.
        current: Option<&'d Entry<'d>>,
        /// Other side.
        other: Option<&'d Entry<'d>>,
        /// The facets whose values conflict, when only values do: the
        /// renderer can then mark just their lines. Empty when the entry
        /// as a whole conflicts (a removal, formatting changed on both sides).
        facets: Vec<Facet>,
    },
}

/// A scalar token copied from one side.
#[derive(Debug, Clone, Copy)]
pub struct Token<'d> {
    /// The side it comes from.
    pub from: Which,
    /// The field on that side.
    pub field: &'d crate::kustomization::Field<'d>,
}

/// The merged list: entries in their final order.
#[derive(Debug)]
pub struct Plan<'d> {
    /// The entries in final order, by name.
    pub entries: Vec<(&'d str, Planned<'d>)>,
    /// How many entries conflict.
    pub conflicts: usize,
}

/// Every name of the list, each with its entry on each side: one table for
/// the three sides, so the merge hashes each name once per side and then
/// works on small integer ids.
struct Table<'d> {
    /// Names by id.
    names: Vec<&'d str>,
    /// Each name's entry on each side (indexed by [`Which`]), by id.
    entries: Vec<[Option<&'d Entry<'d>>; 3]>,
    /// Each side's order, as ids (indexed by [`Which`]).
    order: [Vec<usize>; 3],
}

impl<'d> Table<'d> {
    fn new(schema: &ListSchema, sides: [&Side<'d>; 3]) -> Result<Self, Fallback> {
        let len = |s: &Side<'d>| s.list.map_or(0, |l| l.entries.len());
        let most = sides.iter().map(|s| len(s)).max().unwrap_or(0);
        let mut ids: Map<&'d str, usize> = Map::with_capacity(most);
        let mut table = Table {
            names: Vec::with_capacity(most),
            entries: Vec::with_capacity(most),
            order: sides.map(|s| Vec::with_capacity(len(s))),
        };
        for side in sides {
            let Some(list) = side.list else { continue };
            let (which, key) = (side.which, &list.key);
            for entry in &list.entries {
                let name = identity(schema, side, entry)?;
                let id = *ids.entry(name).or_insert_with(|| {
                    table.names.push(name);
                    table.entries.push([None; 3]);
                    table.names.len() - 1
                });
                let slot = &mut table.entries[id][which];
                if slot.replace(entry).is_some() {
                    return Err(Fallback(format!(
                        "{which} input, line {}: `{key}:` names `{name}` twice; kustomize applies duplicates in order, so git's line merge handles the file (merge the two entries into one)",
                        entry.line
                    )));
                }
                table.order[which].push(id);
            }
        }
        Ok(table)
    }

    /// Whether the entry `id` is on side `which`.
    fn on(&self, id: usize, which: Which) -> bool {
        self.entries[id][which].is_some()
    }
}

/// A value as kustomize decodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value<'d> {
    /// No value: the field is absent, `null`, or an empty string in a
    /// string field. kustomize's fields are plain Go strings, so all three
    /// decode to `""`, which it treats as unset.
    Unset,
    /// A string.
    Str(&'d str),
    /// An integer; an absent or `null` integer field is 0, Go's zero value.
    Int(i128),
    /// A bool, only in a field kustomize doesn't know.
    Bool(bool),
    /// A float's bits, only in a field kustomize doesn't know.
    Float(u64),
}

/// The field `f`'s key as kustomize's field name (or the key itself, for a
/// field kustomize doesn't know).
fn field_name<'d>(
    schema: &ListSchema,
    side: &Side<'d>,
    f: &Field<'d>,
) -> Result<&'d str, Fallback> {
    let key = f.key(side.src);
    match schema.field(key) {
        Ok(name) => Ok(name.unwrap_or(key)),
        Err(name) => Err(Fallback(format!(
            "{} input, line {}: kustomize may or may not read `{key}` as `{name}` (Go's case folding of non-ASCII letters changed between releases); spell it `{name}`. Until then git's line merge handles the file",
            side.which,
            f.line(side.src)
        ))),
    }
}

/// What field `f` (kustomize's field `name`) holds to kustomize: the one
/// place the planner types a value, so that every comparison sees what
/// kustomize sees. A value kustomize would refuse in that field makes the
/// input invalid to it, and the merge steps aside.
fn typed<'d>(
    schema: &ListSchema,
    side: &Side<'d>,
    f: &Field<'d>,
    name: &str,
) -> Result<Value<'d>, Fallback> {
    let text = f.value(side.src);
    let value = if f.plain() {
        match resolve(text) {
            Plain::Null => Value::Unset,
            Plain::Str => Value::Str(text),
            Plain::Int(n) => Value::Int(n),
            Plain::Float(x) => Value::Float(x.to_bits()),
            Plain::Bool(b) => Value::Bool(b),
        }
    } else {
        Value::Str(text)
    };
    if !schema.fields.contains(&name) {
        return Ok(value);
    }
    let int = schema.is_int(name);
    match (int, value) {
        (true, Value::Unset) => return Ok(Value::Int(0)),
        (true, Value::Int(n)) if i64::try_from(n).is_ok() => return Ok(value),
        (false, Value::Str("")) => return Ok(Value::Unset),
        (false, Value::Unset | Value::Str(_)) => return Ok(value),
        _ => {}
    }
    let quoted = format!("quote it: `{}: \"{text}\"`", f.key(side.src));
    let (what, fix) = match value {
        Value::Str(s) if matches!(resolve(s), Plain::Int(_)) => {
            ("a string", "unquote it".to_owned())
        }
        Value::Str(_) | Value::Float(_) if int => {
            ("not an integer", "write a whole number".to_owned())
        }
        Value::Int(_) if int => ("out of range", "write a smaller number".to_owned()),
        Value::Bool(_) => ("a bool", quoted),
        _ => ("a number", quoted),
    };
    let want = if int { "an integer" } else { "a string" };
    Err(Fallback(format!(
        "{} input, line {}: `{}` is {what} to kustomize, which wants {want} there and refuses to build; {fix}. Until then git's line merge handles the file",
        side.which,
        f.line(side.src),
        &side.src[f.key_span().start..f.value_span().end],
    )))
}

/// The entry's identity: its `name`, however the key is spelled.
fn identity<'d>(
    schema: &ListSchema,
    side: &Side<'d>,
    entry: &'d Entry<'d>,
) -> Result<&'d str, Fallback> {
    let (which, key) = (side.which, side.list.map_or("", |l| l.key.as_str()));
    let mut found = None;
    for f in &entry.fields {
        if field_name(schema, side, f)? == "name" && found.replace(f).is_some() {
            return Err(twice(side, f, "name"));
        }
    }
    match found.map(|f| typed(schema, side, f, "name")).transpose()? {
        Some(Value::Str(name)) => Ok(name),
        _ => Err(Fallback(format!(
            "{which} input, line {}: an entry of `{key}:` has no `name` (add one; until then git's line merge handles the file)",
            entry.line
        ))),
    }
}

/// The message for a second key that kustomize reads as field `name`.
fn twice(side: &Side<'_>, f: &Field<'_>, name: &str) -> Fallback {
    Fallback(format!(
        "{} input, line {}: `{}` is `{name}` again to kustomize, which matches keys case-insensitively and silently keeps the last; delete one of them. Until then git's line merge handles the file",
        side.which,
        f.line(side.src),
        f.key(side.src)
    ))
}

/// An entry as kustomize reads it.
struct Read<'d> {
    /// Each field's name to kustomize and its value, in the entry's order.
    fields: Vec<(&'d str, Value<'d>)>,
    /// The schema's integer fields, whose zero value is 0.
    ints: &'static [&'static str],
}

impl<'d> Read<'d> {
    fn new(schema: &ListSchema, side: &Side<'d>, entry: &'d Entry<'d>) -> Result<Self, Fallback> {
        let mut fields: Vec<(&'d str, Value<'d>)> = Vec::with_capacity(entry.fields.len());
        for f in &entry.fields {
            let name = field_name(schema, side, f)?;
            if fields.iter().any(|(n, _)| *n == name) {
                return Err(twice(side, f, name));
            }
            fields.push((name, typed(schema, side, f, name)?));
        }
        Ok(Self {
            fields,
            ints: schema.ints,
        })
    }

    /// The position of field `name` in the entry.
    fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|(n, _)| *n == name)
    }

    /// The value of field `name`, its zero value when absent.
    fn value(&self, name: &str) -> Value<'d> {
        match self.fields.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => *v,
            None if self.ints.contains(&name) => Value::Int(0),
            None => Value::Unset,
        }
    }

    /// The facet's values, zero values included, in the schema's order.
    fn facet(&self, schema: &ListSchema, facet: &Facet) -> Vec<Value<'d>> {
        fields_of(schema, facet).map(|n| self.value(n)).collect()
    }

    /// The facets this entry holds a field of.
    fn facets(&self, schema: &ListSchema) -> Vec<Facet> {
        self.fields
            .iter()
            .filter_map(|(n, _)| schema.facet_of(n))
            .collect()
    }
}

/// The names of a facet's fields.
fn fields_of<'s>(schema: &'s ListSchema, facet: &'s Facet) -> impl Iterator<Item = &'s str> {
    let (declared, other): (&[&str], _) = match facet {
        Facet::Declared(i) => (schema.facets[*i], None),
        Facet::Other(key) => (&[], Some(key.as_str())),
    };
    declared.iter().copied().chain(other)
}

/// Whether two entries mean the same to kustomize: every facet holds the
/// same values.
fn same_values(schema: &ListSchema, x: &Read<'_>, y: &Read<'_>) -> bool {
    let mut facets = x.facets(schema);
    facets.extend(y.facets(schema));
    facets
        .iter()
        .all(|f| x.facet(schema, f) == y.facet(schema, f))
}

/// An entry's formatting: its text from `from` on, each key written as
/// kustomize's field name, each value blanked and each run of blanks as
/// one, so that re-quoting, re-spelling a key or a stray space is no
/// change. The fields named in `drop` are left out, with the lines they
/// leave empty.
fn layout(
    side: &Side<'_>,
    entry: &Entry<'_>,
    read: &Read<'_>,
    from: usize,
    drop: &[&str],
) -> String {
    let flow = matches!(side.list.map(|l| l.style), Some(Style::Flow));
    let src = side.src;
    let mut text = String::with_capacity(entry.span.end - from);
    let mut at = from;
    for (f, (name, _)) in entry.fields.iter().zip(&read.fields) {
        let (k, v) = (f.key_span(), f.value_span());
        if drop.contains(name) {
            // In a flow entry the separator before the field goes with it.
            let start = if flow && at > from { at } else { k.start };
            text.push_str(&src[at..start]);
            text.push('\u{2}');
        } else {
            text.push_str(&src[at..k.start]);
            text.push_str(name);
            text.push_str(&src[k.end..v.start]);
            text.push('\u{1}');
        }
        at = v.end;
    }
    text.push_str(&src[at..entry.span.end]);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mark = out.len();
        for word in line.split_whitespace() {
            if word.chars().all(|c| c == '\u{2}') {
                continue;
            }
            if out.len() > mark {
                out.push(' ');
            }
            out.extend(word.chars().filter(|&c| c != '\u{2}'));
        }
        if out.len() > mark || !line.contains('\u{2}') {
            out.push('\n');
        }
    }
    out
}

/// Plans the merge of one keyed list.
pub fn plan<'d>(
    schema: &ListSchema,
    sides: [&Side<'d>; 3],
    target_style: Style,
    policy: SameImagePolicy,
) -> Result<Plan<'d>, Fallback> {
    let table = Table::new(schema, sides)?;
    let mut decided: Vec<Option<Planned<'d>>> = table
        .entries
        .iter()
        .map(|&[eo, ea, eb]| match (ea, eb) {
            (Some(ea), Some(eb)) => match untouched(schema, sides, eo, ea, eb)? {
                Some(planned) => Ok(Some(planned)),
                None => merge_entry(schema, sides, eo, ea, eb, target_style, policy).map(Some),
            },
            (Some(ea), None) => one_sided(schema, sides, Which::Current, eo, ea),
            (None, Some(eb)) => one_sided(schema, sides, Which::Other, eo, eb),
            (None, None) => Ok(None),
        })
        .collect::<Result<_, _>>()?;
    let entries: Vec<_> = order(&table, &decided)
        .into_iter()
        .map(|id| {
            let planned = decided[id].take().expect("ordered names are decided");
            (table.names[id], planned)
        })
        .collect();
    let conflicts = entries
        .iter()
        .filter(|(_, p)| matches!(p, Planned::Conflict { .. }))
        .count();
    Ok(Plan { entries, conflicts })
}

/// The common case, decided on bytes alone: an entry at most one side
/// touched. Most entries of a large list take this path. A changed entry is
/// still read, so that one kustomize would refuse is reported.
fn untouched<'d>(
    schema: &ListSchema,
    sides: [&Side<'d>; 3],
    eo: Option<&'d Entry<'d>>,
    ea: &'d Entry<'d>,
    eb: &'d Entry<'d>,
) -> Result<Option<Planned<'d>>, Fallback> {
    let text = |w: Which, e: &Entry| &sides[w].src[e.span.clone()];
    let (ta, tb) = (text(Which::Current, ea), text(Which::Other, eb));
    let to = eo.map(|e| text(Which::Base, e));
    let (carrier, entry, changed) = match pick(to, ta, tb) {
        Pick::Current => (Which::Current, ea, to != Some(ta)),
        Pick::Other => (Which::Other, eb, true),
        Pick::Conflict => return Ok(None),
    };
    if changed {
        Read::new(schema, sides[carrier], entry)?;
    }
    Ok(Some(Planned::Clean {
        carrier,
        entry,
        tokens: Vec::new(),
    }))
}

/// An entry only one side still has: an addition, or a removal by the other side.
fn one_sided<'d>(
    schema: &ListSchema,
    sides: [&Side<'d>; 3],
    which: Which,
    eo: Option<&'d Entry<'d>>,
    e: &'d Entry<'d>,
) -> Result<Option<Planned<'d>>, Fallback> {
    let Some(eo) = eo else {
        Read::new(schema, sides[which], e)?;
        return Ok(Some(Planned::Clean {
            carrier: which,
            entry: e,
            tokens: Vec::new(),
        }));
    };
    // Removed by the other side: honoured only if this side left it alone.
    // It may have gained lines above the entry's own comments: what the
    // removal of the entry before it left behind, which are not this one's.
    let (side, base) = (sides[which], sides[Which::Base]);
    let (read, read_base) = (Read::new(schema, side, e)?, Read::new(schema, base, eo)?);
    let mine = layout(side, e, &read, e.span.start, &[]);
    let was = layout(base, eo, &read_base, eo.span.start, &[]);
    let kept = |above: &str| above.is_empty() || above.ends_with('\n');
    if same_values(schema, &read_base, &read)
        && (side.style_kind() != base.style_kind() || mine.strip_suffix(&was).is_some_and(kept))
    {
        return Ok(None);
    }
    let (current, other) = match which {
        Which::Current => (Some(e), None),
        _ => (None, Some(e)),
    };
    Ok(Some(Planned::Conflict {
        base: Some(eo),
        current,
        other,
        facets: Vec::new(),
    }))
}

fn merge_entry<'d>(
    schema: &ListSchema,
    sides: [&Side<'d>; 3],
    eo: Option<&'d Entry<'d>>,
    ea: &'d Entry<'d>,
    eb: &'d Entry<'d>,
    target_style: Style,
    policy: SameImagePolicy,
) -> Result<Planned<'d>, Fallback> {
    let conflict = |facets| Planned::Conflict {
        base: eo,
        current: Some(ea),
        other: Some(eb),
        facets,
    };
    let (so, sa, sb) = (sides[0], sides[1], sides[2]);
    let ro = eo.map(|e| Read::new(schema, so, e)).transpose()?;
    let (ra, rb) = (Read::new(schema, sa, ea)?, Read::new(schema, sb, eb)?);
    let mut facets: Vec<Facet> = (0..schema.facets.len()).map(Facet::Declared).collect();
    for r in [ro.as_ref(), Some(&ra), Some(&rb)].into_iter().flatten() {
        facets.extend(r.facets(schema));
    }
    facets.sort();
    facets.dedup();
    // Which side each facet's values come from.
    let mut chosen: Vec<(Facet, Which)> = Vec::with_capacity(facets.len());
    let mut conflicting = Vec::new();
    for facet in facets {
        let (va, vb) = (ra.facet(schema, &facet), rb.facet(schema, &facet));
        let vo = ro.as_ref().map(|r| r.facet(schema, &facet));
        let side = match pick(vo.as_ref(), &va, &vb) {
            Pick::Current => Which::Current,
            Pick::Other => Which::Other,
            Pick::Conflict => match newest(schema, &facet, &ra, &rb, policy) {
                Some(side) => side,
                None => {
                    conflicting.push(facet);
                    continue;
                }
            },
        };
        chosen.push((facet, side));
    }
    if !conflicting.is_empty() {
        return Ok(conflict(conflicting));
    }

    // An entry on the current or other side, with its side and reading.
    let of = |w: Which| {
        if w == Which::Other {
            (sb, eb, &rb)
        } else {
            (sa, ea, &ra)
        }
    };
    // Whether side `w`'s entry can carry the chosen values: it needs a field
    // wherever it has to take a different value, and rendering only
    // replaces values.
    let can_carry = |w: Which| {
        let (_, _, rw) = of(w);
        chosen.iter().all(|(facet, from)| {
            let (_, _, rf) = of(*from);
            fields_of(schema, facet).all(|n| {
                rw.value(n) == rf.value(n) || (rw.index(n).is_some() && rf.index(n).is_some())
            })
        })
    };
    // The carrier: whose bytes (comments, key order, spacing) the entry
    // keeps. Adding or removing a field is a value change, not formatting,
    // so the fields some sides lack are left out of the comparison.
    let reads = [ro.as_ref(), Some(&ra), Some(&rb)];
    let present = reads.iter().flatten().count();
    let mut drop: Vec<&str> = reads
        .iter()
        .flatten()
        .flat_map(|r| r.fields.iter().map(|(n, _)| *n))
        .filter(|n| {
            reads
                .iter()
                .flatten()
                .filter(|r| r.index(n).is_some())
                .count()
                < present
        })
        .collect();
    drop.sort_unstable();
    drop.dedup();
    let comparable = sa.style_kind() == sb.style_kind() && so.style_kind() == sa.style_kind();
    let candidates = if comparable {
        let lay = |s: &Side<'_>, e: &Entry<'_>, r: &Read<'_>| layout(s, e, r, e.span.start, &drop);
        let lo = eo.zip(ro.as_ref()).map(|(e, r)| lay(so, e, r));
        let (la, lb) = (lay(sa, ea, &ra), lay(sb, eb, &rb));
        // The side that changed the formatting must carry it; when neither
        // or both did alike, either may.
        match pick(lo.as_ref(), &la, &lb) {
            Pick::Current if la == lb => vec![Which::Current, Which::Other],
            Pick::Current => vec![Which::Current],
            Pick::Other => vec![Which::Other],
            Pick::Conflict if eo.is_none() => vec![Which::Current, Which::Other],
            Pick::Conflict => Vec::new(),
        }
    } else if target_style_matches(sb, target_style) && !target_style_matches(sa, target_style) {
        vec![Which::Other, Which::Current]
    } else {
        vec![Which::Current, Which::Other]
    };
    let Some(carrier) = candidates.into_iter().find(|&w| can_carry(w)) else {
        return Ok(conflict(Vec::new()));
    };
    let (_, carrier_entry, carrier_read) = of(carrier);

    // Tokens: the chosen side's value; where the values agree, the three-way
    // rule on the raw token, so a re-quote on one side survives.
    let raw = |s: &Side<'d>, e: &'d Entry<'d>, r: &Read<'_>, name: &str| {
        r.index(name).map(|i| &s.src[e.fields[i].value_span()])
    };
    let mut tokens = Vec::new();
    for (i, (name, _)) in carrier_read.fields.iter().enumerate() {
        let Some(facet) = schema.facet_of(name) else {
            continue;
        };
        let side = chosen
            .iter()
            .find(|(f, _)| *f == facet)
            .map_or(carrier, |(_, w)| *w);
        // Only where both sides hold the same value may the raw token (a
        // re-quote) come from either; otherwise it comes from the side whose
        // version won, or the version unit would be split.
        let token_side = if ra.value(name) == rb.value(name) {
            let ro_raw = eo.zip(ro.as_ref()).map(|(e, r)| raw(so, e, r, name));
            let (ra_raw, rb_raw) = (raw(sa, ea, &ra, name), raw(sb, eb, &rb, name));
            match pick(ro_raw.as_ref(), &ra_raw, &rb_raw) {
                Pick::Other if rb_raw.is_some() => Which::Other,
                _ => Which::Current,
            }
        } else {
            side
        };
        let (_, token_entry, token_read) = of(token_side);
        if token_side != carrier
            && let Some(j) = token_read.index(name)
        {
            tokens.push((
                i,
                Token {
                    from: token_side,
                    field: &token_entry.fields[j],
                },
            ));
        }
    }
    Ok(Planned::Clean {
        carrier,
        entry: carrier_entry,
        tokens,
    })
}

fn target_style_matches(side: &Side<'_>, target: Style) -> bool {
    side.list
        .is_some_and(|l| std::mem::discriminant(&l.style) == std::mem::discriminant(&target))
}

/// The `newest` policy: for the version facet of `images:`, the side with
/// the higher tag wins, its whole version (digest and suffix, or their
/// absence) with it. Symmetric by construction, so the result doesn't
/// depend on which side is which.
fn newest(
    schema: &ListSchema,
    facet: &Facet,
    ra: &Read<'_>,
    rb: &Read<'_>,
    policy: SameImagePolicy,
) -> Option<Which> {
    if policy != SameImagePolicy::Newest
        || schema.key != IMAGES.key
        || schema.facet_of("newTag").as_ref() != Some(facet)
    {
        return None;
    }
    let (Value::Str(a), Value::Str(b)) = (ra.value("newTag"), rb.value("newTag")) else {
        return None;
    };
    match crate::version::compare(a, b)? {
        std::cmp::Ordering::Greater => Some(Which::Current),
        std::cmp::Ordering::Less => Some(Which::Other),
        std::cmp::Ordering::Equal => None,
    }
}

/// Final order (as ids): the current side's order (or the other side's, if
/// only it reordered the common entries), with the other side's entries
/// placed after their predecessor there; sorted when every version was sorted.
fn order(table: &Table<'_>, decided: &[Option<Planned<'_>>]) -> Vec<usize> {
    let [io, ia, ib] = &table.order;
    let shared = |id: &&usize| table.entries[**id].iter().all(Option::is_some);
    // Did only the other side reorder the entries all three share? Most
    // merges touch no order at all, which equal id lists show cheaply.
    let other_reordered = !(ia == io && ib == io) && {
        let common = |ix: &Vec<usize>| ix.iter().filter(shared).copied().collect::<Vec<_>>();
        let (co, ca, cb) = (common(io), common(ia), common(ib));
        ca == co && cb != co
    };
    let (primary, secondary) = if other_reordered {
        (Which::Other, Which::Current)
    } else {
        (Which::Current, Which::Other)
    };
    let is_decided = |id: &usize| decided[*id].is_some();
    let mut seq: Vec<usize> = table.order[primary]
        .iter()
        .copied()
        .filter(is_decided)
        .collect();
    let mut placed = vec![false; table.names.len()];
    let mut from_secondary = vec![false; table.names.len()];
    for &id in &seq {
        placed[id] = true;
    }
    let secondary_order = &table.order[secondary];
    let mut last: Option<(usize, usize)> = None;
    for (i, &id) in secondary_order.iter().enumerate() {
        if placed[id] || !is_decided(&id) {
            continue;
        }
        let at = secondary_order[..i]
            .iter()
            .rev()
            .find_map(|&p| {
                if last.is_some_and(|(id, _)| id == p) {
                    // A run of additions: no search, so that appending
                    // thousands of entries stays linear.
                    return last.map(|(_, at)| at + 1);
                }
                placed[p]
                    .then(|| seq.iter().position(|&s| s == p).map(|x| x + 1))
                    .flatten()
            })
            .unwrap_or(0);
        // After the predecessor, but also after what the primary side added
        // there (two appends keep both, the primary's first) and after what
        // this side placed there already (it comes first on this side).
        let at = at
            + seq[at..]
                .iter()
                .take_while(|&&n| {
                    from_secondary[n] || !table.on(n, Which::Base) && table.on(n, primary)
                })
                .count();
        seq.insert(at, id);
        placed[id] = true;
        from_secondary[id] = true;
        last = Some((id, at));
    }
    let sorted = |ix: &Vec<usize>| {
        ix.windows(2)
            .all(|w| table.names[w[0]] <= table.names[w[1]])
    };
    if sorted(io) && sorted(ia) && sorted(ib) {
        seq.sort_unstable_by_key(|&id| table.names[id]);
    }
    seq
}

#[cfg(test)]
mod tests {
    use super::{Read, Value, layout, typed};
    use crate::kustomization::schema::{IMAGES, REPLICAS};
    use crate::kustomization::{Document, Eol, Field};
    use crate::merge::{Side, Which};

    fn side<'d>(src: &'d str, doc: Option<&'d Document<'d>>) -> Side<'d> {
        Side {
            which: Which::Current,
            src,
            eol: Eol::Lf,
            list: doc.and_then(|d| d.list("images")),
        }
    }

    /// `src` is one `key: value` line; a value in double quotes is quoted.
    fn typed_line(src: &str) -> Result<Value<'_>, String> {
        let schema = if src.starts_with("count") {
            &REPLICAS
        } else {
            &IMAGES
        };
        let (key, value) = src.split_once(": ").expect("a key: value line");
        let field = Field::new(
            0..key.len(),
            false,
            key.len() + 2..src.len(),
            value.starts_with('"'),
        );
        let name = schema.field(key).unwrap().unwrap();
        typed(schema, &side(src, None), &field, name).map_err(|e| e.0)
    }

    #[test]
    fn values_compare_as_kustomize_decodes_them() {
        for (src, want) in [
            ("newTag: \"1.10\"", Value::Str("1.10")),
            ("newTag: 1.10.1", Value::Str("1.10.1")),
            ("newTag: \"null\"", Value::Str("null")),
            ("newTag: null", Value::Unset),
            ("newTag: ~", Value::Unset),
            ("newTag: ", Value::Unset),
            ("newTag: \"\"", Value::Unset),
            ("count: 3", Value::Int(3)),
            ("count: 0x3", Value::Int(3)),
            ("count: ~", Value::Int(0)),
        ] {
            assert_eq!(typed_line(src), Ok(want), "{src}");
        }
    }

    #[test]
    fn values_kustomize_refuses_are_reported_with_their_fix() {
        for (src, says) in [
            (
                "newTag: 1.10",
                "is a number to kustomize, which wants a string there and refuses to build; quote it: `newTag: \"1.10\"`",
            ),
            ("NEWTAG: 10", "quote it: `NEWTAG: \"10\"`"),
            ("digest: yes", "is a bool"),
            (
                "count: \"3\"",
                "is a string to kustomize, which wants an integer there and refuses to build; unquote it",
            ),
            ("count: 1.5", "is not an integer"),
            ("count: three", "is not an integer"),
        ] {
            let got = typed_line(src).expect_err(src);
            assert!(
                got.contains(says) && got.starts_with("current input, line 1: `"),
                "{src}: {got}"
            );
        }
    }

    fn layout_of(src: &str, drop: &[&str]) -> String {
        let doc = Document::parse(src).unwrap();
        let side = side(src, Some(&doc));
        let entry = &side.list.unwrap().entries[0];
        let read = Read::new(&IMAGES, &side, entry).unwrap();
        layout(&side, entry, &read, entry.span.start, drop)
    }

    #[test]
    fn formatting_ignores_quotes_key_case_and_spacing_but_not_comments() {
        let base = layout_of("images:\n- name: a\n  newTag: \"1\"\n", &[]);
        assert_eq!(
            layout_of("images:\n  -  Name: 'b'  \n     NEWTAG: v2\n", &[]),
            base
        );
        assert_ne!(
            layout_of("images:\n- name: a # ours\n  newTag: \"1\"\n", &[]),
            base
        );
        assert_eq!(
            layout_of(
                "images:\n- name: a\n  newTag: \"1\"\n  digest: sha256:1\n",
                &["digest"]
            ),
            base
        );
        assert_eq!(
            layout_of(
                "images: [{name: a, digest: x, newTag: \"1\"}]\n",
                &["digest"]
            ),
            layout_of("images: [{name: a, newTag: \"1\"}]\n", &[]),
        );
    }
}
