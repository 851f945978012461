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
use foldhash::{HashMap as Map, HashMapExt};

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
    fn new(sides: [&Side<'d>; 3]) -> Result<Self, Fallback> {
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
                let Some(name) = entry.name(side.src) else {
                    return Err(Fallback(format!(
                        "{which} input, line {}: an entry of `{key}:` has no `name` (add one; until then git's line merge handles the file)",
                        entry.line
                    )));
                };
                let id = *ids.entry(name).or_insert_with(|| {
                    table.names.push(name);
                    table.entries.push([None; 3]);
                    table.names.len() - 1
                });
                let slot = &mut table.entries[id][which as usize];
                if slot.replace(entry).is_some() {
                    return Err(Fallback(format!(
                        "{which} input, line {}: `{key}:` names `{name}` twice; kustomize applies duplicates in order, so git's line merge handles the file (merge the two entries into one)",
                        entry.line
                    )));
                }
                table.order[which as usize].push(id);
            }
        }
        Ok(table)
    }

    /// Whether the entry `id` is on side `which`.
    fn on(&self, id: usize, which: Which) -> bool {
        self.entries[id][which as usize].is_some()
    }
}

type FacetValues<'d> = BTreeMap<Facet, BTreeMap<&'d str, &'d str>>;

fn facets<'d>(schema: &ListSchema, src: &'d str, entry: &'d Entry<'d>) -> FacetValues<'d> {
    let mut out: FacetValues<'d> = BTreeMap::new();
    for f in &entry.fields {
        let key = f.key(src);
        if let Some(facet) = schema.facet_of(key) {
            out.entry(facet).or_default().insert(key, f.value(src));
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
    let table = Table::new(sides)?;
    let mut decided: Vec<Option<Planned<'d>>> = table
        .entries
        .iter()
        .map(|&[eo, ea, eb]| match (ea, eb) {
            (Some(ea), Some(eb)) => untouched(sides, eo, ea, eb)
                .or_else(|| merge_entry(schema, sides, eo, ea, eb, target_style, policy)),
            (Some(ea), None) => one_sided(sides, Which::Current, eo, ea),
            (None, Some(eb)) => one_sided(sides, Which::Other, eo, eb),
            (None, None) => None,
        })
        .collect();
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

impl Plan<'_> {
    /// Whether a re-parsed list holds exactly the planned entries, in order,
    /// each with exactly the planned fields and values. `srcs` are the
    /// inputs (indexed by [`Which`]), `src` the re-parsed text.
    pub fn holds(&self, srcs: [&str; 3], list: &KeyedList<'_>, src: &str) -> bool {
        list.entries.len() == self.entries.len()
            && self
                .entries
                .iter()
                .zip(&list.entries)
                .all(|((name, planned), got)| {
                    let Planned::Clean {
                        carrier,
                        entry,
                        tokens,
                    } = planned
                    else {
                        return false;
                    };
                    let carrier_src = srcs[*carrier as usize];
                    // The same bytes parse the same: an entry copied as it was
                    // needs no field-by-field look.
                    if tokens.is_empty() && src[got.span.clone()] == carrier_src[entry.span.clone()]
                    {
                        return true;
                    }
                    // Rendering splices values and never moves a field, so
                    // the fields compare in order.
                    got.name(src) == Some(name)
                        && got.fields.len() == entry.fields.len()
                        && entry.fields.iter().zip(got.fields.iter()).enumerate().all(
                            |(i, (f, g))| {
                                let want = tokens
                                    .iter()
                                    .find(|(j, _)| *j == i)
                                    .map_or(f.value(carrier_src), |(_, t)| {
                                        t.field.value(srcs[t.from as usize])
                                    });
                                g.key_is(src, f.key(carrier_src)) && g.value(src) == want
                            },
                        )
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
    if same_values((base.src, eo), (side.src, e))
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
        facets: Vec::new(),
    })
}

/// Whether two entries, each with its source, hold the same fields and values.
fn same_values<'e>(x: (&'e str, &'e Entry<'e>), y: (&'e str, &'e Entry<'e>)) -> bool {
    fn map<'e>((src, e): (&'e str, &'e Entry<'e>)) -> BTreeMap<&'e str, &'e str> {
        e.fields
            .iter()
            .map(|f| (f.key(src), f.value(src)))
            .collect()
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
    let conflict = |facets| Planned::Conflict {
        base: eo,
        current: Some(ea),
        other: Some(eb),
        facets,
    };
    let (so, sa, sb) = (sides[0], sides[1], sides[2]);
    let (fo, fa, fb) = (
        eo.map(|e| facets(schema, so.src, e)),
        facets(schema, sa.src, ea),
        facets(schema, sb.src, eb),
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
    let mut conflicting = Vec::new();
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
                None => {
                    conflicting.push(facet.clone());
                    continue;
                }
            },
        };
        chosen.insert(facet, side);
    }
    if !conflicting.is_empty() {
        return Some(conflict(conflicting));
    }

    // The carrier: whose bytes (comments, key order, spacing) the entry keeps.
    let skel = |side: &Side<'d>, e: &'d Entry<'d>| side.skeleton(e);
    let comparable = sa.style_kind() == sb.style_kind() && so.style_kind() == sa.style_kind();
    let carrier = if comparable {
        let sko = eo.map(|e| skel(so, e));
        match pick(sko.as_ref(), &skel(sa, ea), &skel(sb, eb)) {
            Pick::Current => Which::Current,
            Pick::Other => Which::Other,
            Pick::Conflict if eo.is_none() => Which::Current,
            Pick::Conflict => return Some(conflict(Vec::new())),
        }
    } else if target_style_matches(sb, target_style) && !target_style_matches(sa, target_style) {
        Which::Other
    } else {
        Which::Current
    };
    // An entry on the current or other side, with that side's source.
    let of = |w: Which| {
        if w == Which::Other {
            (sb.src, eb)
        } else {
            (sa.src, ea)
        }
    };
    let (carrier_src, carrier_entry) = of(carrier);

    // Tokens: the chosen side's value; where the values agree, the three-way
    // rule on the raw token, so a re-quote on one side survives.
    let mut tokens = Vec::new();
    for (i, field) in carrier_entry.fields.iter().enumerate() {
        let key = field.key(carrier_src);
        let Some(facet) = schema.facet_of(key) else {
            continue;
        };
        let side = chosen.get(&facet).copied().unwrap_or(carrier);
        let (from_src, from_entry) = of(side);
        if from_entry.field(from_src, key).is_none() {
            // The chosen version lacks a field the carrier has: the carrier
            // can't hold the result without a structural edit.
            return Some(conflict(Vec::new()));
        }
        let raw =
            |s: &Side<'d>, e: &'d Entry<'d>| e.field(s.src, key).map(|f| &s.src[f.value_span()]);
        // Only where both sides hold the same value may the raw token (a
        // re-quote) come from either; otherwise it comes from the side whose
        // version won, or the version unit would be split.
        let token_side = if ea.get(sa.src, key) == eb.get(sb.src, key) {
            let ro = eo.map(|e| raw(so, e));
            let (ra, rb) = (raw(sa, ea), raw(sb, eb));
            match pick(ro.as_ref(), &ra, &rb) {
                Pick::Other if rb.is_some() => Which::Other,
                _ => Which::Current,
            }
        } else {
            side
        };
        let (token_src, token_entry) = of(token_side);
        if token_side != carrier
            && let Some(f) = token_entry.field(token_src, key)
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
        let (from_src, from_entry) = of(*side);
        for f in &from_entry.fields {
            let key = f.key(from_src);
            if schema.facet_of(key).as_ref() == Some(*facet)
                && carrier_entry.field(carrier_src, key).is_none()
            {
                return Some(conflict(Vec::new()));
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
    let mut seq: Vec<usize> = table.order[primary as usize]
        .iter()
        .copied()
        .filter(is_decided)
        .collect();
    let mut placed = vec![false; table.names.len()];
    let mut from_secondary = vec![false; table.names.len()];
    for &id in &seq {
        placed[id] = true;
    }
    let secondary_order = &table.order[secondary as usize];
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
