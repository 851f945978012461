//! The keyed three-way merge of one list (`images:` or `replicas:`).
//!
//! Identity is `name`. Per entry, each facet (see [`schema`]) goes through the
//! three-way rule on its *values*, so re-quoting or re-indenting is never a
//! semantic change. The entry's bytes come from a *carrier*: the side whose
//! formatting changed (comments, key order), with the merged values spliced
//! in. Entries added on one side are copied byte for byte from it.
//!
//! [`schema`]: crate::kustomization::schema

use std::collections::BTreeMap;

// foldhash, not std's SipHash: hashing names was a fifth of a 10,000-image
// merge. Its seed is random per process and the driver's runs are short and
// unobservable, so names crafted to collide still can't slow it down.
use foldhash::{HashMap as Map, HashMapExt, HashSet, HashSetExt};

use crate::cli::SameImagePolicy;
use crate::kustomization::schema::{Facet, IMAGES, ListSchema};
use crate::kustomization::{Entry, KeyedList, Style};
use crate::merge::rule::{Pick, pick};
use crate::merge::{Fallback, Side, Which};

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

struct Indexed<'d> {
    order: Vec<&'d str>,
    by_name: Map<&'d str, &'d Entry<'d>>,
}

fn index<'d>(list: Option<&'d KeyedList<'d>>, which: Which) -> Result<Indexed<'d>, Fallback> {
    let entries = list.map_or(&[][..], |l| &l.entries);
    let mut ix = Indexed {
        order: Vec::with_capacity(entries.len()),
        by_name: Map::with_capacity(entries.len()),
    };
    for entry in entries {
        let key = &list.expect("entries imply a list").key;
        let Some(name) = entry.name() else {
            return Err(Fallback(format!(
                "{which} input, line {}: an entry of `{key}:` has no `name` (add one; until then git's line merge handles the file)",
                entry.line
            )));
        };
        if ix.by_name.insert(name, entry).is_some() {
            return Err(Fallback(format!(
                "{which} input, line {}: `{key}:` names `{name}` twice; kustomize applies duplicates in order, so git's line merge handles the file (merge the two entries into one)",
                entry.line
            )));
        }
        ix.order.push(name);
    }
    Ok(ix)
}

type FacetValues<'d> = BTreeMap<Facet, BTreeMap<&'d str, &'d str>>;

fn facets<'d>(schema: &ListSchema, entry: &'d Entry<'d>) -> FacetValues<'d> {
    let mut out: FacetValues<'d> = BTreeMap::new();
    for f in &entry.fields {
        if let Some(facet) = schema.facet_of(&f.key) {
            out.entry(facet).or_default().insert(&f.key, &f.value);
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
    let [o, a, b] = sides;
    let (io, ia, ib) = (
        index(o.list, Which::Base)?,
        index(a.list, Which::Current)?,
        index(b.list, Which::Other)?,
    );
    let mut decided: Map<&'d str, Planned<'d>> =
        Map::with_capacity(ia.order.len().max(ib.order.len()));
    let mut names: Vec<&'d str> = ia.order.clone();
    names.extend(ib.order.iter().filter(|n| !ia.by_name.contains_key(*n)));
    names.extend(
        io.order
            .iter()
            .filter(|n| !ia.by_name.contains_key(*n) && !ib.by_name.contains_key(*n)),
    );
    for name in names {
        let (eo, ea, eb) = (
            io.by_name.get(name).copied(),
            ia.by_name.get(name).copied(),
            ib.by_name.get(name).copied(),
        );
        let planned = match (ea, eb) {
            (Some(ea), Some(eb)) => untouched(sides, eo, ea, eb)
                .or_else(|| merge_entry(schema, sides, eo, ea, eb, target_style, policy)),
            (Some(ea), None) => one_sided(sides, Which::Current, eo, ea),
            (None, Some(eb)) => one_sided(sides, Which::Other, eo, eb),
            (None, None) => None,
        };
        if let Some(p) = planned {
            decided.insert(name, p);
        }
    }

    let order = order(&io, &ia, &ib, &decided);
    let entries: Vec<_> = order
        .into_iter()
        .map(|name| {
            (
                name,
                decided.remove(name).expect("ordered names are decided"),
            )
        })
        .collect();
    let conflicts = entries
        .iter()
        .filter(|(_, p)| matches!(p, Planned::Conflict { .. }))
        .count();
    Ok(Plan { entries, conflicts })
}

impl Plan<'_> {
    /// Whether a re-parsed list holds exactly the planned entries, in order,
    /// each with exactly the planned fields and values.
    pub fn holds(&self, list: &KeyedList<'_>) -> bool {
        list.entries.len() == self.entries.len()
            && self
                .entries
                .iter()
                .zip(&list.entries)
                .all(|((name, planned), got)| {
                    let Planned::Clean { entry, tokens, .. } = planned else {
                        return false;
                    };
                    got.name() == Some(name)
                        && got.fields.len() == entry.fields.len()
                        && entry.fields.iter().enumerate().all(|(i, f)| {
                            let want = tokens
                                .iter()
                                .find(|(j, _)| *j == i)
                                .map_or(&f.value, |(_, t)| &t.field.value);
                            got.field(&f.key).is_some_and(|g| &g.value == want)
                        })
                })
    }
}

/// The common case, decided on bytes alone: an entry at most one side
/// touched. Most entries of a large list take this path.
fn untouched<'d>(
    sides: [&Side<'d>; 3],
    eo: Option<&'d Entry<'d>>,
    ea: &'d Entry<'d>,
    eb: &'d Entry<'d>,
) -> Option<Planned<'d>> {
    let text = |w: Which, e: &Entry| &sides[w as usize].src[e.span.clone()];
    let (ta, tb) = (text(Which::Current, ea), text(Which::Other, eb));
    let to = eo.map(|e| text(Which::Base, e));
    let (carrier, entry) = match pick(to, ta, tb) {
        Pick::Current => (Which::Current, ea),
        Pick::Other => (Which::Other, eb),
        Pick::Conflict => return None,
    };
    Some(Planned::Clean {
        carrier,
        entry,
        tokens: Vec::new(),
    })
}

/// An entry only one side still has: an addition, or a removal by the other side.
fn one_sided<'d>(
    sides: [&Side<'d>; 3],
    which: Which,
    eo: Option<&'d Entry<'d>>,
    e: &'d Entry<'d>,
) -> Option<Planned<'d>> {
    let Some(eo) = eo else {
        return Some(Planned::Clean {
            carrier: which,
            entry: e,
            tokens: Vec::new(),
        });
    };
    // Removed by the other side: honoured only if this side left it alone.
    let (side, base) = (sides[which as usize], sides[Which::Base as usize]);
    if same_values(eo, e)
        && (side.style_kind() != base.style_kind() || side.normalized(e) == base.normalized(eo))
    {
        return None;
    }
    let (current, other) = match which {
        Which::Current => (Some(e), None),
        _ => (None, Some(e)),
    };
    Some(Planned::Conflict {
        base: Some(eo),
        current,
        other,
    })
}

fn same_values(x: &Entry, y: &Entry) -> bool {
    fn map<'e>(e: &'e Entry<'_>) -> BTreeMap<&'e str, &'e str> {
        e.fields.iter().map(|f| (&*f.key, &*f.value)).collect()
    }
    map(x) == map(y)
}

fn merge_entry<'d>(
    schema: &ListSchema,
    sides: [&Side<'d>; 3],
    eo: Option<&'d Entry<'d>>,
    ea: &'d Entry<'d>,
    eb: &'d Entry<'d>,
    target_style: Style,
    policy: SameImagePolicy,
) -> Option<Planned<'d>> {
    let conflict = Planned::Conflict {
        base: eo,
        current: Some(ea),
        other: Some(eb),
    };
    let (fo, fa, fb) = (
        eo.map(|e| facets(schema, e)),
        facets(schema, ea),
        facets(schema, eb),
    );
    let empty = BTreeMap::new();
    let mut keys: Vec<&Facet> = fa
        .keys()
        .chain(fb.keys())
        .chain(fo.iter().flat_map(|f| f.keys()))
        .collect();
    keys.sort();
    keys.dedup();
    // Which side each facet's values come from.
    let mut chosen: Map<&Facet, Which> = Map::new();
    for facet in keys {
        let (va, vb) = (
            fa.get(facet).unwrap_or(&empty),
            fb.get(facet).unwrap_or(&empty),
        );
        let vo = fo.as_ref().map(|f| f.get(facet).unwrap_or(&empty));
        let side = match pick(vo, va, vb) {
            Pick::Current => Which::Current,
            Pick::Other => Which::Other,
            Pick::Conflict => match newest(schema, facet, va, vb, policy) {
                Some(side) => side,
                None => return Some(conflict),
            },
        };
        chosen.insert(facet, side);
    }

    // The carrier: whose bytes (comments, key order, spacing) the entry keeps.
    let (so, sa, sb) = (sides[0], sides[1], sides[2]);
    let skel = |side: &Side<'d>, e: &'d Entry<'d>| side.skeleton(e);
    let comparable = sa.style_kind() == sb.style_kind() && so.style_kind() == sa.style_kind();
    let carrier = if comparable {
        let sko = eo.map(|e| skel(so, e));
        match pick(sko.as_ref(), &skel(sa, ea), &skel(sb, eb)) {
            Pick::Current => Which::Current,
            Pick::Other => Which::Other,
            Pick::Conflict if eo.is_none() => Which::Current,
            Pick::Conflict => return Some(conflict),
        }
    } else if target_style_matches(sb, target_style) && !target_style_matches(sa, target_style) {
        Which::Other
    } else {
        Which::Current
    };
    let carrier_entry = if carrier == Which::Other { eb } else { ea };

    // Tokens: the chosen side's value; where the values agree, the three-way
    // rule on the raw token, so a re-quote on one side survives.
    let mut tokens = Vec::new();
    for (i, field) in carrier_entry.fields.iter().enumerate() {
        let Some(facet) = schema.facet_of(&field.key) else {
            continue;
        };
        let side = chosen.get(&facet).copied().unwrap_or(carrier);
        let from_entry = if side == Which::Other { eb } else { ea };
        if from_entry.field(&field.key).is_none() {
            // The chosen version lacks a field the carrier has: the carrier
            // can't hold the result without a structural edit.
            return Some(conflict);
        }
        let raw =
            |s: &Side<'d>, e: &Entry| e.field(&field.key).map(|f| &s.src[f.value_span.clone()]);
        // Only where both sides hold the same value may the raw token (a
        // re-quote) come from either; otherwise it comes from the side whose
        // version won, or the version unit would be split.
        let value = |e: &'d Entry<'d>| e.get(&field.key);
        let token_side = if value(ea) == value(eb) {
            let ro = eo.map(|e| raw(so, e));
            let (ra, rb) = (raw(sa, ea), raw(sb, eb));
            match pick(ro.as_ref(), &ra, &rb) {
                Pick::Other if rb.is_some() => Which::Other,
                _ => Which::Current,
            }
        } else {
            side
        };
        let token_entry = if token_side == Which::Other { eb } else { ea };
        if token_side != carrier
            && let Some(f) = token_entry.field(&field.key)
        {
            tokens.push((
                i,
                Token {
                    from: token_side,
                    field: f,
                },
            ));
        }
    }
    // Every chosen field must exist on the carrier.
    for (facet, side) in &chosen {
        let from_entry = if *side == Which::Other { eb } else { ea };
        for f in &from_entry.fields {
            if schema.facet_of(&f.key).as_ref() == Some(*facet)
                && carrier_entry.field(&f.key).is_none()
            {
                return Some(conflict);
            }
        }
    }
    Some(Planned::Clean {
        carrier,
        entry: carrier_entry,
        tokens,
    })
}

fn target_style_matches(side: &Side<'_>, target: Style) -> bool {
    side.list
        .is_some_and(|l| std::mem::discriminant(&l.style) == std::mem::discriminant(&target))
}

/// The `newest` policy: for the version facet of `images:`, the higher tag
/// wins. Symmetric by construction, so the result doesn't depend on which
/// side is which.
fn newest(
    schema: &ListSchema,
    facet: &Facet,
    va: &BTreeMap<&str, &str>,
    vb: &BTreeMap<&str, &str>,
    policy: SameImagePolicy,
) -> Option<Which> {
    if policy != SameImagePolicy::Newest
        || schema.key != IMAGES.key
        || schema.facet_of("newTag").as_ref() != Some(facet)
    {
        return None;
    }
    match crate::version::compare(va.get("newTag")?, vb.get("newTag")?)? {
        std::cmp::Ordering::Greater => Some(Which::Current),
        std::cmp::Ordering::Less => Some(Which::Other),
        std::cmp::Ordering::Equal => None,
    }
}

/// Final order: the current side's order (or the other side's, if only it
/// reordered the common entries), with the other side's entries placed
/// after their predecessor there; sorted when every version was sorted.
fn order<'d>(
    io: &Indexed<'d>,
    ia: &Indexed<'d>,
    ib: &Indexed<'d>,
    decided: &Map<&'d str, Planned<'d>>,
) -> Vec<&'d str> {
    // Did only the other side reorder the entries all three share? Most
    // merges touch no order at all, which equal name lists show cheaply.
    let other_reordered = !(ia.order == io.order && ib.order == io.order) && {
        let shared: HashSet<&'d str> = io
            .order
            .iter()
            .copied()
            .filter(|n| ia.by_name.contains_key(n) && ib.by_name.contains_key(n))
            .collect();
        let common = |ix: &Indexed<'d>| -> Vec<&'d str> {
            ix.order
                .iter()
                .copied()
                .filter(|n| shared.contains(n))
                .collect()
        };
        let (co, ca, cb) = (common(io), common(ia), common(ib));
        ca == co && cb != co
    };
    let (primary, secondary) = if other_reordered { (ib, ia) } else { (ia, ib) };
    let mut seq: Vec<&'d str> = primary
        .order
        .iter()
        .copied()
        .filter(|n| decided.contains_key(n))
        .collect();
    let mut placed = HashSet::with_capacity(seq.len());
    placed.extend(seq.iter().copied());
    let mut from_secondary: HashSet<&'d str> = HashSet::new();
    let mut last: Option<(&'d str, usize)> = None;
    for (i, name) in secondary.order.iter().enumerate() {
        if placed.contains(name) || !decided.contains_key(name) {
            continue;
        }
        let at = secondary.order[..i]
            .iter()
            .rev()
            .find_map(|p| {
                if last.is_some_and(|(name, _)| name == *p) {
                    // A run of additions: no search, so that appending
                    // thousands of entries stays linear.
                    return last.map(|(_, at)| at + 1);
                }
                placed
                    .contains(p)
                    .then(|| seq.iter().position(|s| s == p).map(|x| x + 1))
                    .flatten()
            })
            .unwrap_or(0);
        // After the predecessor, but also after what the primary side added
        // there (two appends keep both, the primary's first) and after what
        // this side placed there already (it comes first on this side).
        let at = at
            + seq[at..]
                .iter()
                .take_while(|n| {
                    from_secondary.contains(*n)
                        || !io.by_name.contains_key(*n) && primary.by_name.contains_key(*n)
                })
                .count();
        seq.insert(at, name);
        placed.insert(name);
        from_secondary.insert(name);
        last = Some((name, at));
    }
    let sorted = |ix: &Indexed<'_>| ix.order.windows(2).all(|w| w[0] <= w[1]);
    if sorted(io) && sorted(ia) && sorted(ib) {
        seq.sort_unstable();
    }
    seq
}
