//! The check before exit 0: the written bytes, read from scratch the way
//! kustomize reads them ([`crate::meaning`]), must mean what the merge
//! promised.
//!
//! Two promises are checked, and a clean result of git's line merge (the
//! fallback) is held to the second one too:
//!
//! 1. **The plan** (structured merges only): each keyed list, as kustomize
//!    would apply it, in order, equals the planned entries, and everything
//!    else equals the merged text around the lists.
//! 2. **The three-way rule on meaning**: per top-level field, and per
//!    `images:`/`replicas:` entry by `name` and per facet (the version unit
//!    `newTag`+`digest`+`tagSuffix` is one), the result holds the side that
//!    changed, and nothing both sides changed differently comes out clean.
//!    The other lists (`resources:`, `patches:`, generators, `commonLabels:`)
//!    are held to it per item, by identity, with their order rules.
//!    This is what catches a merge whose plan was wrong, not just its
//!    rendering: a tag bump next to a `Digest:` spelled with a capital, a
//!    "list" that was really the inside of a quoted string, two `images:` keys.
//!
//! Any disagreement is an error string saying what differs; the caller falls
//! back (from the structured merge) or writes a conflict (from the fallback).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::kustomization::schema::{
    ItemShape, ItemsSchema, LISTS, ListSchema, Order, pinned_version,
};
use crate::meaning::{Kustomization, ReadError, Value, scalar};
use crate::merge::Which;
use crate::merge::keyed::{Plan, Planned};
use crate::merge::rule::{Pick, pick, renamed_apart};
use crate::version::SameImagePolicy;

/// The three inputs as kustomize reads them (indexed by `Which`).
pub type Readings<'a> = [Result<Kustomization<'a>, ReadError>; 3];

/// What the fields around the keyed lists must be in a structured merge's
/// result.
#[derive(Debug)]
pub enum Around {
    /// Exactly one side's, whose text there was taken whole.
    Side(Which),
    /// What the merged text around the lists (their lines removed) reads as
    /// on its own: git merged it from both sides.
    Text(String),
}

/// Checks promise 1 and 2 for a structured merge's clean result. `lists` are
/// the planned lists' meanings (absent when the result lacks the list).
pub fn structured(
    inputs: &Readings,
    result: &[u8],
    lists: &[(&str, Option<Value>)],
    around: &Around,
    policy: SameImagePolicy,
) -> Result<(), String> {
    let got = read_result(result)?;
    for (key, planned) in lists {
        if got.fields.get(key) != planned.as_ref() {
            return Err(format!(
                "`{key}:` as kustomize reads the result is not the planned list"
            ));
        }
    }
    let read_text;
    let around = match around {
        Around::Side(side) => inputs[*side]
            .as_ref()
            .map_err(|e| format!("the {side} input does not read as kustomize reads it ({e})"))?,
        Around::Text(text) => {
            read_text = crate::meaning::read(text.as_bytes())
                .map_err(|e| format!("the text around the lists does not read on its own ({e})"))?;
            &read_text
        }
    };
    fn outside<'k>(
        k: &'k Kustomization<'_>,
        lists: &[(&str, Option<Value<'_>>)],
    ) -> BTreeMap<&'k str, &'k Value<'k>> {
        k.fields
            .iter()
            .filter(|(key, _)| !lists.iter().any(|(l, _)| l == *key))
            .map(|(k, v)| (*k, v))
            .collect()
    }
    if outside(&got, lists) != outside(around, lists) {
        return Err("the fields around the lists are not the merged ones".into());
    }
    three_way(inputs, &got, policy)
}

/// Checks promise 2 for a clean result of git's line merge. Inputs kustomize
/// can't read leave nothing to hold the result to: git's verdict stands.
pub fn fallback(inputs: &Readings, result: &[u8], policy: SameImagePolicy) -> Result<(), String> {
    if inputs.iter().any(Result::is_err) {
        return Ok(());
    }
    three_way(inputs, &read_result(result)?, policy)
}

fn read_result(result: &[u8]) -> Result<Kustomization<'_>, String> {
    crate::meaning::read(result).map_err(|e| format!("kustomize would not read the result ({e})"))
}

fn three_way(
    inputs: &Readings,
    got: &Kustomization,
    policy: SameImagePolicy,
) -> Result<(), String> {
    let [Ok(o), Ok(a), Ok(b)] = inputs else {
        return Err("an input does not read as kustomize reads it".into());
    };
    let keys: BTreeSet<&str> = [o, a, b, got]
        .iter()
        .flat_map(|k| k.fields.keys().copied())
        .collect();
    for key in keys {
        let [vo, va, vb, vr] = [o, a, b, got].map(|k| k.fields.get(key));
        if let Some(schema) = LISTS.into_iter().find(|s| s.key == key) {
            keyed(schema, [vo, va, vb], vr, policy)?;
        } else if let Some(schema) =
            ItemsSchema::for_key(key).filter(|s| s.shape != ItemShape::Scalar)
        {
            items(schema, [vo, va, vb], vr, policy)?;
        } else {
            whole(&format!("`{key}`"), [vo, va, vb], &vr)?;
        }
    }
    Ok(())
}

/// The three-way rule on one value. Where both sides changed it differently
/// and the line merge combined them, only losing both changes is wrong.
fn whole<T: PartialEq>(what: &str, [o, a, b]: [T; 3], r: &T) -> Result<(), String> {
    let holds = match pick(Some(&o), &a, &b) {
        Pick::Current => *r == a,
        Pick::Other => *r == b,
        Pick::Conflict => *r != o,
    };
    if holds {
        Ok(())
    } else {
        Err(format!("{what} is not what the three-way rule gives"))
    }
}

type Entry<'v> = &'v [(&'static str, Value<'v>)];

/// A list's entries by name; `None` when some entry has no name, is not a
/// map or shares its name (then the list is checked as one value).
fn by_name<'v>(list: Option<&'v Value<'v>>) -> Option<BTreeMap<&'v str, Entry<'v>>> {
    let Some(Value::Seq(items)) = list else {
        return Some(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for item in items {
        let Value::Entry(fields) = item else {
            return None;
        };
        let Some((_, Value::Str(name))) = fields.iter().find(|(k, _)| *k == "name") else {
            return None;
        };
        if out.insert(name.as_ref(), fields.as_slice()).is_some() {
            return None;
        }
    }
    Some(out)
}

fn keyed(
    schema: &ListSchema,
    lists: [Option<&Value>; 3],
    r: Option<&Value>,
    policy: SameImagePolicy,
) -> Result<(), String> {
    let (Some(o), Some(a), Some(b)) = (by_name(lists[0]), by_name(lists[1]), by_name(lists[2]))
    else {
        return whole(&format!("`{}`", schema.key), lists, &r);
    };
    // Two entries of one name apply one after the other: a result that
    // made them out of inputs with none has merged an addition twice.
    let Some(got) = by_name(r) else {
        return Err(format!(
            "`{}` names an image twice (or has an entry without a name) where no input did",
            schema.key
        ));
    };
    let names: BTreeSet<&str> = [&o, &a, &b, &got]
        .iter()
        .flat_map(|m| m.keys().copied())
        .collect();
    for name in names {
        let [eo, ea, eb, er] = [&o, &a, &b, &got].map(|m| m.get(name).copied());
        let what = format!("`{}` entry `{name}`", schema.key);
        if pick(Some(&eo), &ea, &eb) != Pick::Conflict {
            whole(&what, [eo, ea, eb], &er)?;
            continue;
        }
        let (Some(ea), Some(eb), Some(er)) = (ea, eb, er) else {
            return Err(format!(
                "{what} was removed on one side and changed on the other, yet came out clean"
            ));
        };
        for facet in schema.facets {
            let [fo, fa, fb, fr] = [eo, Some(ea), Some(eb), Some(er)].map(|e| part(e, facet));
            let newest = policy == SameImagePolicy::Newest && facet.contains(&"newTag");
            let holds = match pick(Some(&fo), &fa, &fb) {
                Pick::Current => fr == fa,
                Pick::Other => fr == fb,
                Pick::Conflict => newest && (fr == fa || fr == fb),
            };
            if !holds {
                return Err(format!(
                    "{what}: both sides changed {} differently, yet it came out clean",
                    facet.join("/")
                ));
            }
        }
        let known = |k: &str| k == "name" || schema.facets.iter().any(|f| f.contains(&k));
        if er.iter().any(|(k, _)| !known(k)) {
            return Err(format!("{what} holds a field no facet covers"));
        }
    }
    Ok(())
}

/// A list of [`ItemsSchema`], by identity (a remote base's URL without its
/// pin, an entry's identifying fields, a pair's key): the three-way rule per
/// item; no identity twice where no input had it
/// twice (kustomize rejects a duplicate resource); the order of the side
/// that reordered (or the current side's), with the other side's additions
/// after their predecessor there; and, for lists applied in order, no place
/// where both sides added items (their order would be a guess).
fn items(
    schema: &ItemsSchema,
    lists: [Option<&Value>; 3],
    r: Option<&Value>,
    policy: SameImagePolicy,
) -> Result<(), String> {
    let key = schema.key;
    if pick(Some(&lists[0]), &lists[1], &lists[2]) != Pick::Conflict {
        // At most one side changed the list: the result is that side's.
        return whole(&format!("`{key}`"), lists, &r);
    }
    let (Some(o), Some(a), Some(b)) = (
        by_id(schema, lists[0]),
        by_id(schema, lists[1]),
        by_id(schema, lists[2]),
    ) else {
        return whole(&format!("`{key}`"), lists, &r);
    };
    let Some(got) = by_id(schema, r) else {
        return Err(format!("`{key}` holds an item twice where no input did"));
    };
    let ids: BTreeSet<&str> = [&o, &a, &b, &got]
        .iter()
        .flat_map(|m| m.order.iter().map(|id| id.as_ref()))
        .collect();
    for id in ids {
        let [vo, va, vb, vr] = [&o, &a, &b, &got].map(|m| m.value(id));
        let holds = match pick(Some(&vo), &va, &vb) {
            Pick::Current => vr == va,
            Pick::Other => vr == vb,
            Pick::Conflict => {
                (policy == SameImagePolicy::Newest
                    && schema.pinned
                    && newer(schema, va, vb).is_some_and(|n| vr == Some(n)))
                    || within(schema, [vo, va, vb], vr, policy)
            }
        };
        if !holds {
            return Err(format!(
                "`{key}` item `{}` is not what the three-way rule gives",
                brief(id)
            ));
        }
    }
    let orders = [&o, &a, &b].map(|m| m.order.iter().map(AsRef::as_ref).collect::<Vec<&str>>());
    if let Some(x) = renamed_apart(&orders[0], &orders[1], &orders[2]) {
        return Err(format!(
            "`{key}` item `{}` was removed or renamed apart on the two sides, yet it came out clean",
            brief(x)
        ));
    }
    if schema.shape == ItemShape::Pairs {
        // A map's keys have no order to kustomize (nor in this reading).
        return Ok(());
    }
    let [ko, ka, kb] = [&o, &a, &b].map(|m| m.kept(&[&o, &a, &b]));
    let (lead, follow) = match (ka != ko, kb != ko) {
        (true, true) if ka != kb => {
            return Err(format!(
                "both sides reordered `{key}` differently, yet it came out clean"
            ));
        }
        (false, true) => (&b, &a),
        _ => (&a, &b),
    };
    let in_order = |side: &Ids, ids: &dyn Fn(&str) -> bool| {
        let mine: Vec<&str> = side
            .order
            .iter()
            .map(|x| x.as_ref())
            .filter(|x| ids(x) && got.has(x))
            .collect();
        let theirs: Vec<&str> = got
            .order
            .iter()
            .map(|x| x.as_ref())
            .filter(|x| ids(x) && side.has(x))
            .collect();
        mine == theirs
    };
    if !in_order(lead, &|_| true) || !in_order(follow, &|x| !o.has(x)) {
        return Err(format!("`{key}` is not in the order its sides give"));
    }
    // Each of the follower's additions comes after its predecessor there.
    let at: HashMap<&str, usize> = got
        .order
        .iter()
        .enumerate()
        .map(|(i, x)| (x.as_ref(), i))
        .collect();
    let mut pred: Option<usize> = None;
    for x in &follow.order {
        let Some(&i) = at.get(x.as_ref()) else {
            continue;
        };
        if !o.has(x) && !lead.has(x) && pred.is_some_and(|p| i < p) {
            return Err(format!(
                "`{key}` item `{}` is not after its predecessor",
                brief(x)
            ));
        }
        pred = Some(i);
    }
    if schema.order == Order::Sequence {
        let both = |x: &str| a.has(x) && b.has(x);
        let (pa, pb) = (a.anchors(&o, &got, &both), b.anchors(&o, &got, &both));
        if pa.intersection(&pb).next().is_some() {
            return Err(format!(
                "both sides added to `{key}` at one place, whose order is a guess, yet it came out clean"
            ));
        }
    }
    Ok(())
}

/// One entry both sides changed: each list inside it (a generator's
/// `literals:`) holds to these rules item by item, and each other field to
/// the three-way rule on its own.
fn within(
    schema: &ItemsSchema,
    entries: [Option<&Value>; 3],
    r: Option<&Value>,
    policy: SameImagePolicy,
) -> bool {
    let (
        nested,
        [
            Some(Value::Map(o)),
            Some(Value::Map(a)),
            Some(Value::Map(b)),
        ],
        Some(Value::Map(r)),
    ) = (schema.nested(), entries, r)
    else {
        return false;
    };
    let fields: BTreeSet<&str> = [o, a, b, r]
        .iter()
        .flat_map(|m| m.keys().map(AsRef::as_ref))
        .collect();
    !nested.is_empty()
        && fields.into_iter().all(|f| {
            let [fo, fa, fb, fr] = [o, a, b, r].map(|m| m.get(f));
            match nested.iter().find(|s| s.key == f) {
                Some(list) => items(list, [fo, fa, fb], fr, policy).is_ok(),
                None => whole(f, [fo, fa, fb], &fr).is_ok(),
            }
        })
}

/// An item's identity for a message: an entry's is all its identifying
/// fields, an inline patch included, so only its first line, shortened.
fn brief(id: &str) -> String {
    let line = id.lines().find(|l| !l.ends_with('=')).unwrap_or_default();
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None if line.len() < id.len() => format!("{line}…"),
        None => line.to_owned(),
    }
}

/// A list's items by identity, in order.
struct Ids<'v> {
    order: Vec<Cow<'v, str>>,
    values: HashMap<Cow<'v, str>, &'v Value<'v>>,
}

impl Ids<'_> {
    fn has(&self, id: &str) -> bool {
        self.values.contains_key(id)
    }

    fn value(&self, id: &str) -> Option<&Value<'_>> {
        self.values.get(id).copied()
    }

    /// The identities every list in `all` holds, in this list's order.
    fn kept(&self, all: &[&Ids; 3]) -> Vec<&str> {
        let everywhere = |id: &&str| all.iter().all(|x| x.has(id));
        self.order
            .iter()
            .map(|id| id.as_ref())
            .filter(everywhere)
            .collect()
    }

    /// The places this side added items at: for each addition in `got`
    /// (not added by both sides), the base item before it here. An item
    /// `got` lost was replaced there by what the other side put in its
    /// place, so it still marks a place.
    fn anchors(
        &self,
        base: &Ids,
        got: &Ids,
        both: &dyn Fn(&str) -> bool,
    ) -> BTreeSet<Option<&str>> {
        let mut anchor = None;
        let mut out = BTreeSet::new();
        for x in &self.order {
            if base.has(x) {
                anchor = Some(x.as_ref());
            } else if !base.has(x) && got.has(x) && !both(x) {
                out.insert(anchor);
            }
        }
        out
    }
}

/// `None` when the value is not a list of the schema's items or an identity
/// repeats.
fn by_id<'v>(schema: &ItemsSchema, list: Option<&'v Value<'v>>) -> Option<Ids<'v>> {
    let mut ids = Ids {
        order: Vec::new(),
        values: HashMap::new(),
    };
    let mut add = |id: Cow<'v, str>, value: &'v Value<'v>| {
        ids.order.push(id.clone());
        ids.values.insert(id, value).is_none()
    };
    let fresh = match (schema.shape, list) {
        (_, None) => true,
        (ItemShape::Pairs, Some(Value::Map(pairs))) => {
            pairs.iter().all(|(k, v)| add(Cow::Borrowed(k.as_ref()), v))
        }
        (ItemShape::Strings | ItemShape::Assignments, Some(Value::Seq(items))) => {
            items.iter().all(|item| match item {
                Value::Str(s) => add(schema.identity(s).0, item),
                _ => false,
            })
        }
        (ItemShape::Entries(_), Some(Value::Seq(items))) => items.iter().all(|item| match item {
            Value::Map(fields) => {
                let text = |f: &str| {
                    fields.get(f).map(|v| match v {
                        Value::Str(s) => s.clone(),
                        other => Cow::Owned(format!("{other:?}")),
                    })
                };
                add(Cow::Owned(schema.entry_identity(text)), item)
            }
            _ => false,
        }),
        _ => false,
    };
    fresh.then_some(ids)
}

/// The item whose pin is the higher version, when both are strings whose
/// pins read as versions.
fn newer<'v>(
    schema: &ItemsSchema,
    a: Option<&'v Value<'v>>,
    b: Option<&'v Value<'v>>,
) -> Option<&'v Value<'v>> {
    let (Value::Str(sa), Value::Str(sb)) = (a?, b?) else {
        return None;
    };
    let (pa, pb) = (schema.identity(sa).1, schema.identity(sb).1);
    let order = crate::version::compare(pinned_version(&pa)?, pinned_version(&pb)?)?;
    if order.is_ge() { a } else { b }
}

/// What a clean plan's list means to kustomize: each entry's fields in the
/// carrier's spelling, with the value the plan takes for each. `srcs` are
/// the inputs the plan indexes (by `Which`).
pub fn planned<'a>(
    key: &str,
    plan: &Plan<'_>,
    srcs: [&'a str; 3],
) -> Result<Option<Value<'a>>, String> {
    let entries = plan
        .entries
        .iter()
        .map(|(name, planned)| match planned {
            Planned::Clean {
                carrier,
                entry,
                tokens,
            } => {
                let src = srcs[*carrier];
                let fields = entry.fields.iter().enumerate().map(|(i, f)| {
                    let (vsrc, vf) = tokens
                        .iter()
                        .find(|(j, _)| *j == i)
                        .map_or((src, f), |(_, t)| (srcs[t.from], t.field));
                    (f.key(src).into(), scalar(vf.value(vsrc).into(), vf.plain()))
                });
                Ok(fields.collect())
            }
            Planned::Conflict { .. } => Err(format!("`{name}` conflicts in a clean plan")),
        })
        .collect::<Result<Vec<_>, String>>()?;
    crate::meaning::list_of(key, entries)
        .map_err(|e| format!("the planned `{key}:` is not what kustomize accepts ({e})"))
}

/// The fields of `entry` that belong to `facet`.
fn part<'v>(entry: Option<Entry<'v>>, facet: &[&str]) -> BTreeMap<&'v str, &'v Value<'v>> {
    entry
        .into_iter()
        .flatten()
        .filter(|(k, _)| facet.contains(k))
        .map(|(k, v)| (*k, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Readings, fallback};
    use crate::meaning::read;
    use crate::version::SameImagePolicy::{self, Conflict, Newest};

    fn check(o: &str, a: &str, b: &str, r: &str, policy: SameImagePolicy) -> Result<(), String> {
        let inputs: Readings = [o, a, b].map(|t| read(t.as_bytes()));
        fallback(&inputs, r.as_bytes(), policy)
    }

    const O: &str =
        "images:\n- name: api\n  newTag: '1'\n- name: web\n  newTag: '1'\nnamespace: a\n";

    #[test]
    fn a_result_that_takes_each_changed_side_holds() {
        let a = O.replacen("newTag: '1'", "newTag: '2'", 1);
        let b = O.replace("namespace: a", "namespace: b");
        let r = a.replace("namespace: a", "namespace: b");
        assert_eq!(check(O, &a, &b, &r, Conflict), Ok(()));
        // The same meaning however it is written.
        let restyled =
            "Namespace: b\nimages: [{Name: api, NEWTAG: \"2\"}, {name: web, newTag: \"1\"}]";
        assert_eq!(check(O, &a, &b, restyled, Conflict), Ok(()));
    }

    #[test]
    fn a_version_unit_changed_on_both_sides_is_never_clean_but_by_policy() {
        let a = O.replacen("newTag: '1'", "newTag: '2'", 1);
        let b = O.replacen("newTag: '1'", "newTag: '1'\n  Digest: sha256:1", 1);
        let r = a.replacen("newTag: '2'", "newTag: '2'\n  digest: sha256:1", 1);
        let err = check(O, &a, &b, &r, Conflict).unwrap_err();
        assert!(err.contains("entry `api`"), "{err}");
        let b3 = O.replacen("newTag: '1'", "newTag: '3'", 1);
        assert!(check(O, &a, &b3, &b3, Newest).is_ok());
        assert!(check(O, &a, &b3, &r, Newest).is_err());
    }

    #[test]
    fn lost_changes_duplicates_and_removals_against_edits_are_caught() {
        let a = O.replace("namespace: a", "namespace: b");
        let b = O.replace("namespace: a", "namespace: c");
        assert!(check(O, &a, &b, O, Conflict).is_err(), "both changes lost");
        let gone = O.replace("- name: web\n  newTag: '1'\n", "");
        let bumped = O.replacen("name: web\n  newTag: '1'", "name: web\n  newTag: '2'", 1);
        assert!(check(O, &gone, &bumped, &gone, Conflict).is_err());
        let added = O.replace("namespace: a", "- name: x\n  newTag: '1'\nnamespace: a");
        let added_too = O.replace("images:\n", "images:\n- name: x\n  newTag: '2'\n");
        let both = added.replace("images:\n", "images:\n- name: x\n  newTag: '2'\n");
        let err = check(O, &added, &added_too, &both, Conflict).unwrap_err();
        assert!(err.contains("twice"), "{err}");
        let twice = format!("{O}images:\n- name: x\n");
        let err = check(O, O, &a, &twice, Conflict).unwrap_err();
        assert!(err.contains("twice"), "{err}");
        // An input kustomize refuses leaves git's verdict standing.
        assert!(
            check(
                "images: [{name: a, newTag: 1.10}]",
                O,
                &a,
                "junk: [",
                Conflict
            )
            .is_ok()
        );
    }
}
