//! The kustomization's lists other than `images:` and `replicas:`
//! (`resources:`, `components:`, `patches:`, generators, `commonLabels:`,
//! ...), merged item by item.
//!
//! Git merges lines: two teams that each append an app to a root
//! `resources:` both change the list's last line, and git stops; so do two
//! re-pins of neighbouring remote bases. Here each list merges by item
//! identity (the string; for a remote base, its URL without `?ref=`), with
//! the three-way rule per item on its text, comments above it included:
//!
//! - additions from both sides are kept, the other side's after their
//!   predecessor (and after the current side's additions there); the same
//!   item added on both sides is kept once (kustomize rejects a duplicate);
//! - a removal is honoured when the other side left the item alone; removed
//!   on one side and changed on the other is a conflict around that item;
//! - one base pinned to two refs is a conflict on that item's line, unless
//!   `--same-image newest` orders the two refs as versions;
//! - order: the side that reordered the items both kept sets the order;
//!   both reordering differently is git's business. For lists applied in
//!   order (`components:`, `transformers:`), additions from both sides at
//!   one place have no order to take, and go to git too.
//!
//! This runs only when both sides changed the text around the keyed lists,
//! in place of `git merge-file` on it: each list both sides hold in the
//! modelled shape ([`crate::kustomization::items`]) is swapped for a
//! placeholder line, git merges the rest, and the merged list is put back.
//! A list the model can't plan goes to git's line merge on its own, so a
//! conflict there stays there; a list written outside the model stays in
//! the text git merges.
//! The result is checked like every clean merge ([`super::verify`]), which
//! holds these lists to the same rules, read independently.

use std::borrow::Cow;
use std::collections::HashMap;

use super::render::{ConflictStyle, break_at, conflict_block};
use super::rule::{Pick, pick, renamed_apart};
use super::text::Markers;
use super::{Fallback, Which, put};
use crate::kustomization::edit::splice;
use crate::kustomization::items::{ItemList, Located, item_lists_in};
use crate::kustomization::schema::{ITEM_LISTS, ItemsSchema, Order, pinned_version};
use crate::kustomization::{Eol, placeholder};
use crate::version::SameImagePolicy;

/// A merge of three texts: the merged text and its number of conflicts.
type Merged = Result<(String, usize), Fallback>;

/// Merges the three `rests` (the texts around the keyed lists), each list of
/// [`ITEM_LISTS`] item by item and the text around those with `line_merge`.
/// `conflicts_as` says how a conflict is written; it is asked only when one
/// is.
pub fn merge(
    rests: &[String; 3],
    policy: SameImagePolicy,
    conflicts_as: &dyn Fn() -> (ConflictStyle, Markers),
    line_merge: &mut dyn FnMut(&[String; 3]) -> Merged,
) -> Merged {
    merge_in(rests, &ITEM_LISTS, policy, conflicts_as, line_merge)
}

/// [`merge`] for the lists of `table` (the top level's, or those inside one
/// entry).
fn merge_in(
    rests: &[String; 3],
    table: &'static [ItemsSchema],
    policy: SameImagePolicy,
    conflicts_as: &dyn Fn() -> (ConflictStyle, Markers),
    line_merge: &mut dyn FnMut(&[String; 3]) -> Merged,
) -> Merged {
    let [Ok(lo), Ok(la), Ok(lb)] = rests.each_ref().map(|r| item_lists_in(r, table)) else {
        return line_merge(rests);
    };
    fn find<'s>(located: &[Located<'s>], key: &str) -> Option<ItemList<'s>> {
        located
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, l)| l.clone())
    }
    let lists: Vec<[ItemList<'_>; 3]> = lo
        .iter()
        .filter_map(|(key, o)| {
            let sides = [o.clone()?, find(&la, key)?, find(&lb, key)?];
            sides
                .iter()
                .all(|l| l.dash_col == sides[0].dash_col)
                .then_some(sides)
        })
        .collect();
    if lists.is_empty() {
        return line_merge(rests);
    }
    let stubs: [String; 3] = std::array::from_fn(|i| {
        let edits = lists
            .iter()
            .map(|l| (l[i].region.clone(), placeholder(l[i].schema.key)))
            .collect();
        splice(&rests[i], edits)
    });
    let (mut merged, mut conflicts) = match pick(Some(&stubs[0]), &stubs[1], &stubs[2]) {
        Pick::Current => (stubs[1].clone(), 0),
        Pick::Other => (stubs[2].clone(), 0),
        Pick::Conflict => line_merge(&stubs)?,
    };
    let srcs = rests.each_ref().map(String::as_str);
    for sides in &lists {
        let tok = placeholder(sides[0].schema.key);
        // A placeholder git wrote twice (or not at all) has no one place.
        if merged.matches(&tok).count() != 1 {
            return line_merge(rests);
        }
        let (region, n) = match list(sides, srcs, policy, conflicts_as, line_merge) {
            Some(planned) => planned,
            None => {
                // Outside the model: git's line merge of this list alone, so
                // that a conflict stays in it and the other lists still merge
                // by item.
                let texts = [0, 1, 2].map(|i| format!("{}\n", &srcs[i][sides[i].region.clone()]));
                let (text, n) = line_merge(&texts)?;
                (text.strip_suffix('\n').unwrap_or(&text).to_owned(), n)
            }
        };
        merged = put(&merged, &tok, &region, None);
        conflicts += n;
    }
    Ok((merged, conflicts))
}

/// One side's list, indexed by identity.
struct View<'s> {
    src: &'s str,
    list: &'s ItemList<'s>,
    /// Identity to item index; `None` from [`View::new`] when an identity
    /// repeats (a duplicate item, or one base pinned twice).
    ids: HashMap<Cow<'s, str>, usize>,
}

impl<'s> View<'s> {
    fn new(src: &'s str, list: &'s ItemList<'s>) -> Option<Self> {
        let mut ids = HashMap::with_capacity(list.items.len());
        for (i, item) in list.items.iter().enumerate() {
            if ids.insert(item.id.clone(), i).is_some() {
                return None;
            }
        }
        Some(Self { src, list, ids })
    }

    fn id(&self, i: usize) -> Cow<'s, str> {
        self.list.items[i].id.clone()
    }

    fn text(&self, i: usize) -> &'s str {
        &self.src[self.list.items[i].span.clone()]
    }

    /// The line break after item `i` (the file's convention after a last
    /// line without one).
    fn break_after(&self, i: usize) -> &'static str {
        break_at(self.src, self.list.items[i].span.end)
            .unwrap_or_else(|| Eol::detect(self.src).as_str())
    }

    /// The identities of the items every side holds, in this side's order.
    fn kept<'v>(&'v self, all: &[&View<'_>; 3]) -> Vec<Cow<'s, str>> {
        (0..self.list.items.len())
            .map(|i| self.id(i))
            .filter(|id| all.iter().all(|v| v.ids.contains_key(id)))
            .collect()
    }
}

/// What the merged list holds at one place.
#[derive(Debug, Clone, Copy)]
enum Out {
    /// Item `.1` of side `.0`.
    Take(Which, usize),
    /// Both sides changed the item differently: its index on each side.
    Conflict([Option<usize>; 3]),
    /// A leader's item the follower removed: nothing is written, but what
    /// the follower put in its place goes there.
    Gone,
}

/// The merged region of one list and its number of conflicts; `None` when
/// the model can't plan it (then git merges that list on its own).
fn list(
    sides: &[ItemList<'_>; 3],
    srcs: [&str; 3],
    policy: SameImagePolicy,
    conflicts_as: &dyn Fn() -> (ConflictStyle, Markers),
    line_merge: &mut dyn FnMut(&[String; 3]) -> Merged,
) -> Option<(String, usize)> {
    let regions = [0, 1, 2].map(|i| &srcs[i][sides[i].region.clone()]);
    match pick(Some(regions[0]), regions[1], regions[2]) {
        Pick::Current => return Some((regions[1].to_owned(), 0)),
        Pick::Other => return Some((regions[2].to_owned(), 0)),
        Pick::Conflict => {}
    }
    let headers = [0, 1, 2].map(|i| &srcs[i][sides[i].header.clone()]);
    let header_from = match pick(Some(headers[0]), headers[1], headers[2]) {
        Pick::Current => Which::Current,
        Pick::Other => Which::Other,
        Pick::Conflict => return None,
    };
    let [o, a, b] = [0, 1, 2].map(|i| View::new(srcs[i], &sides[i]));
    let views = [&o?, &a?, &b?];
    let ids = views.map(|v| (0..v.list.items.len()).map(|i| v.id(i)).collect::<Vec<_>>());
    let ids = ids
        .each_ref()
        .map(|l| l.iter().map(AsRef::as_ref).collect::<Vec<&str>>());
    if renamed_apart(&ids[0], &ids[1], &ids[2]).is_some() {
        return None;
    }
    let schema = sides[0].schema;
    // The side that reordered the items all three keep sets the order.
    let kept = views.map(|v| v.kept(&views));
    let (lead, follow) = match (kept[1] != kept[0], kept[2] != kept[0]) {
        (true, true) if kept[1] != kept[2] => return None,
        (false, true) => (Which::Other, Which::Current),
        _ => (Which::Current, Which::Other),
    };
    let decide = |id: &str| decide(views, id, policy);
    // (identity, what goes there, whether the follower added it)
    let mut out: Vec<(Cow<'_, str>, Out, bool)> = Vec::new();
    let lv = views[lead];
    for i in 0..lv.list.items.len() {
        let id = lv.id(i);
        let o = decide(&id).unwrap_or(Out::Gone);
        out.push((id, o, false));
    }
    let base_ids = &ids[0];
    let sorted = base_ids.len() > 1 && base_ids.is_sorted();
    let fv = views[follow];
    let mut after: Option<usize> = None;
    for i in 0..fv.list.items.len() {
        let id = fv.id(i);
        if let Some(at) = out.iter().position(|(x, _, _)| *x == id) {
            after = Some(at);
            continue;
        }
        // Past the leader's own additions after the predecessor (not past
        // an addition both sides made, which comes later on this side), or
        // up to the first that sorts after `id`.
        let from = after.map_or(0, |p| p + 1);
        let past = |stop: &dyn Fn(&str) -> bool| {
            from + out[from..]
                .iter()
                .take_while(|(x, _, by_follower)| {
                    !by_follower
                        && !views[0].ids.contains_key(x)
                        && !fv.ids.contains_key(x)
                        && !stop(x)
                })
                .count()
        };
        let Some(o) = decide(&id) else {
            // Removed by the leader: what the leader added in its place
            // took its place (a rename), so what follows it here follows
            // that.
            after = past(&|_| false).checked_sub(1).or(after);
            continue;
        };
        // After its predecessor, and after the leader's own additions there
        // (among them in order, where the base list is sorted: a person
        // adding to a sorted list keeps it sorted).
        let at = past(&|x| sorted && *x > *id);
        if at > from && schema.order == Order::Sequence {
            return None;
        }
        out.insert(at, (id, o, true));
        // Put in a removed item's place: the next one goes in the next
        // removed item's place (renames, one by one).
        after = match out.get(at + 1) {
            Some((_, Out::Gone, _)) => Some(at + 1),
            _ => Some(at),
        };
    }
    let mut region = headers[header_from].to_owned();
    let hv = views[header_from];
    let mut brk = break_at(hv.src, hv.list.header.end).unwrap_or("\n");
    let mut conflicts = 0;
    let mut written = None;
    for (_, o, _) in &out {
        let (text, next) = match *o {
            Out::Gone => continue,
            Out::Take(w, i) => {
                let v = views[w];
                (Cow::Borrowed(v.text(i)), v.break_after(i))
            }
            Out::Conflict(idx @ [_, Some(i), _])
                if let Some(text) = within(views, idx, policy, conflicts_as, line_merge) =>
            {
                (Cow::Owned(text), views[1].break_after(i))
            }
            Out::Conflict(idx) => {
                conflicts += 1;
                let (style, markers) = written.get_or_insert_with(conflicts_as).clone();
                let text = |w: usize| idx[w].map(|i| views[w].text(i));
                let eol = Eol::detect(views[1].src);
                let block = match style {
                    ConflictStyle::VirtualBase => match text(0) {
                        Some(t) => t.to_owned(),
                        None => continue,
                    },
                    _ => conflict_block(text(1), text(0), text(2), &markers, style, eol),
                };
                (Cow::Owned(block), eol.as_str())
            }
        };
        region.push_str(brk);
        region.push_str(&text);
        brk = next;
    }
    Some((region, conflicts))
}

/// One entry both sides changed, merged inside: the lists in it item by
/// item (a generator's `literals:`, see [`ItemsSchema::nested`]) and the
/// rest of it by lines, when that is clean. The entry's `-` is blanked out
/// so that its lines read as one mapping, and put back after.
fn within(
    views: [&View<'_>; 3],
    idx: [Option<usize>; 3],
    policy: SameImagePolicy,
    conflicts_as: &dyn Fn() -> (ConflictStyle, Markers),
    line_merge: &mut dyn FnMut(&[String; 3]) -> Merged,
) -> Option<String> {
    let nested = views[0].list.schema.nested();
    let dash_col = views[0].list.dash_col;
    if nested.is_empty() {
        return None;
    }
    let mut undashed: [String; 3] = Default::default();
    for (w, text) in undashed.iter_mut().enumerate() {
        let (v, i) = (views[w], idx[w]?);
        let item = &v.list.items[i];
        let at = item.value_start(v.src) - item.span.start + dash_col;
        *text = v.text(i).to_owned();
        (text.as_bytes().get(at) == Some(&b'-')).then(|| text.replace_range(at..=at, " "))?;
    }
    let (mut merged, 0) = merge_in(&undashed, nested, policy, conflicts_as, line_merge).ok()?
    else {
        return None;
    };
    let first = merged
        .split_inclusive('\n')
        .take_while(|l| matches!(l.trim_start().chars().next(), None | Some('#')))
        .map(str::len)
        .sum::<usize>();
    let at = first + dash_col;
    (merged.as_bytes().get(at) == Some(&b' ')).then(|| merged.replace_range(at..=at, "-"))?;
    Some(merged)
}

/// The three-way rule on one item, by its text: what the merged list holds
/// for it (`None`: removed).
fn decide(views: [&View<'_>; 3], id: &str, policy: SameImagePolicy) -> Option<Out> {
    let idx = views.map(|v| v.ids.get(id).copied());
    let text = |w: usize| idx[w].map(|i| views[w].text(i));
    match pick(Some(&text(0)), &text(1), &text(2)) {
        Pick::Current => idx[1].map(|i| Out::Take(Which::Current, i)),
        Pick::Other => idx[2].map(|i| Out::Take(Which::Other, i)),
        Pick::Conflict => Some(newest(views, idx, policy).unwrap_or(Out::Conflict(idx))),
    }
}

/// `--same-image newest` for a remote base both sides re-pinned: the side
/// whose ref is the higher version, when that is the only difference
/// between the two sides' items and both refs read as versions.
fn newest(views: [&View<'_>; 3], idx: [Option<usize>; 3], policy: SameImagePolicy) -> Option<Out> {
    if policy != SameImagePolicy::Newest || !views[0].list.schema.pinned {
        return None;
    }
    let (ia, ib) = (idx[1]?, idx[2]?);
    let item = |w: usize, i: usize| {
        let v = views[w];
        let it = &v.list.items[i];
        let at = it.value_start(v.src);
        let around = (
            &v.src[it.span.start..at],
            &v.src[at + it.value.len()..it.span.end],
        );
        (around, v.list.schema.identity(it.value).1)
    };
    let ((around_a, pin_a), (around_b, pin_b)) = (item(1, ia), item(2, ib));
    if around_a != around_b {
        return None;
    }
    let order = crate::version::compare(pinned_version(&pin_a)?, pinned_version(&pin_b)?)?;
    Some(if order.is_ge() {
        Out::Take(Which::Current, ia)
    } else {
        Out::Take(Which::Other, ib)
    })
}
