//! The three-way rule on meaning, as an oracle for clean merges: shared by
//! the property tests (`properties.rs`) and the fuzz target
//! (`fuzz/fuzz_targets/merge.rs` includes this file by path), so that both
//! hold the merge to one statement of the rule.
//!
//! It is written from the wording, not from `src/merge/verify.rs`,
//! and uses nothing of the merge but [`kustomerge::meaning::read`]'s output:
//!
//! - per top-level field: the side that changed it; the same change on both
//!   sides is that change. Where both changed a field differently, git's
//!   line merge may combine them (two lines added to `resources:`), so a
//!   clean result is only held to "not the base's" (both changes lost);
//! - per `images:`/`replicas:` entry by `name` (when every entry has a name
//!   and no name repeats; otherwise the list is one field as above): the
//!   side that changed the entry; where both changed it, per facet
//!   (`newName`; `newTag`+`digest`+`tagSuffix`; `count`) the side that
//!   changed the facet. A facet both changed differently, an entry removed
//!   on one side and changed on the other, or one added on both sides
//!   differently, is a finding when it comes out clean, except the version
//!   facet under `--same-image newest`, where either side's version will do.
//!
//! Entry order is not held: kustomize applies `images:` and `replicas:` by
//! name.

use std::collections::{BTreeMap, BTreeSet};

use kustomerge::meaning::{Kustomization, Value};

/// The facets of each keyed list's entries (fields that change as one).
const FACETS: [(&str, &[&[&str]]); 2] = [
    (
        "images",
        &[&["newName"], &["newTag", "digest", "tagSuffix"]],
    ),
    ("replicas", &[&["count"]]),
];

/// The facet newest-wins may resolve.
const VERSION: &[&str] = &["newTag", "digest", "tagSuffix"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Changed {
    /// Neither side, or both the same way: the current side's value.
    Neither,
    Current,
    Other,
    /// Both, differently.
    Both,
}

fn changed<T: PartialEq>(o: &T, a: &T, b: &T) -> Changed {
    match (a == o, b == o) {
        _ if a == b => Changed::Neither,
        (true, false) => Changed::Other,
        (false, true) => Changed::Current,
        _ => Changed::Both,
    }
}

/// Checks that `got`, a clean merge of `base`, `current` and `other` as
/// kustomize reads them, is what the three-way rule gives. `newest`: the
/// merge ran with `--same-image newest`.
pub fn three_way(
    [o, a, b]: [&Kustomization<'_>; 3],
    got: &Kustomization<'_>,
    newest: bool,
) -> Result<(), String> {
    let keys: BTreeSet<&str> = [o, a, b, got]
        .iter()
        .flat_map(|k| k.fields.keys().copied())
        .collect();
    for key in keys {
        let [vo, va, vb, vr] = [o, a, b, got].map(|k| k.fields.get(key));
        let entries = FACETS.iter().find(|(k, _)| *k == key).and_then(|(_, f)| {
            let [eo, ea, eb, er] = [vo, va, vb, vr].map(by_name);
            Some((f, [eo?, ea?, eb?, er?]))
        });
        match entries {
            Some((facets, lists)) => keyed(key, facets, lists, newest)?,
            None => whole(&format!("`{key}`"), &[vo, va, vb], &vr)?,
        }
    }
    Ok(())
}

fn whole<T: PartialEq + std::fmt::Debug>(
    what: &str,
    [o, a, b]: &[T; 3],
    r: &T,
) -> Result<(), String> {
    let ok = match changed(&o, &a, &b) {
        Changed::Neither | Changed::Current => r == a,
        Changed::Other => r == b,
        Changed::Both => r != o,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what}: the result is not what the three-way rule gives\n  base:    {o:?}\n  current: {a:?}\n  other:   {b:?}\n  result:  {r:?}"
        ))
    }
}

type Fields<'v> = BTreeMap<&'static str, &'v Value<'v>>;

/// A keyed list's entries by name; `None` when an entry is not a mapping,
/// has no name, or shares its name.
fn by_name<'v>(list: Option<&'v Value<'v>>) -> Option<BTreeMap<&'v str, Fields<'v>>> {
    let mut out = BTreeMap::new();
    let items = match list {
        None => return Some(out),
        Some(Value::Seq(items)) => items,
        Some(_) => return None,
    };
    for item in items {
        let Value::Entry(fields) = item else {
            return None;
        };
        let fields: Fields<'_> = fields.iter().map(|(k, v)| (*k, v)).collect();
        let Some(Value::Str(name)) = fields.get("name") else {
            return None;
        };
        if out.insert(name.as_ref(), fields).is_some() {
            return None;
        }
    }
    Some(out)
}

fn keyed(
    key: &str,
    facets: &[&[&str]],
    [o, a, b, r]: [BTreeMap<&str, Fields<'_>>; 4],
    newest: bool,
) -> Result<(), String> {
    let names: BTreeSet<&str> = [&o, &a, &b, &r]
        .iter()
        .flat_map(|m| m.keys().copied())
        .collect();
    for name in names {
        let [eo, ea, eb, er] = [&o, &a, &b, &r].map(|m| m.get(name));
        let what = format!("`{key}` entry `{name}`");
        if changed(&eo, &ea, &eb) != Changed::Both {
            whole(&what, &[eo, ea, eb], &er)?;
            continue;
        }
        let (Some(ea), Some(eb), Some(er)) = (ea, eb, er) else {
            return Err(format!(
                "{what}: removed on one side and changed on the other (or removed in the result), yet clean"
            ));
        };
        let empty = Fields::new();
        let eo = eo.unwrap_or(&empty);
        for facet in facets {
            let [fo, fa, fb, fr] = [eo, ea, eb, er].map(|e| part(e, facet));
            let ok = match changed(&fo, &fa, &fb) {
                Changed::Neither | Changed::Current => fr == fa,
                Changed::Other => fr == fb,
                Changed::Both => newest && *facet == VERSION && (fr == fa || fr == fb),
            };
            if !ok {
                return Err(format!(
                    "{what}, {}: not what the three-way rule gives ({:?} changed it)\n  base:    {fo:?}\n  current: {fa:?}\n  other:   {fb:?}\n  result:  {fr:?}",
                    facet.join("/"),
                    changed(&fo, &fa, &fb),
                ));
            }
        }
        if let Some(stray) = er
            .keys()
            .find(|k| **k != "name" && !facets.iter().any(|f| f.contains(k)))
        {
            return Err(format!(
                "{what}: the result holds `{stray}`, which no facet covers"
            ));
        }
    }
    Ok(())
}

/// Reads the three inputs and a clean result and applies [`three_way`]:
/// `Ok(false)` when an input doesn't read (nothing to hold the result to),
/// `Err` when the result doesn't read although the inputs do, or breaks the
/// rule. (The fuzz target's entry point; the tests read inputs themselves.)
#[allow(dead_code)]
pub fn check_clean(inputs: [&[u8]; 3], result: &[u8], newest: bool) -> Result<bool, String> {
    let [Ok(o), Ok(a), Ok(b)] = inputs.map(kustomerge::meaning::read) else {
        return Ok(false);
    };
    let got = kustomerge::meaning::read(result)
        .map_err(|e| format!("the inputs read, but the clean result does not: {e}"))?;
    three_way([&o, &a, &b], &got, newest)?;
    Ok(true)
}

/// The fields of an entry that belong to `facet`.
fn part<'v>(entry: &Fields<'v>, facet: &[&str]) -> Vec<(&'static str, &'v Value<'v>)> {
    entry
        .iter()
        .filter(|(k, _)| facet.contains(k))
        .map(|(k, v)| (*k, *v))
        .collect()
}
