//! The three-way rule, once, for everything kustomerge merges: whole entries,
//! facets of an entry, raw tokens, headers and the text outside the lists.
//!
//! Take the side that changed; the same change on both sides is fine;
//! different changes conflict (unless a named policy resolves them, which is
//! the caller's business). This is jj's `trivial_merge`.

/// Which side the three-way rule picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Take the current side (it changed, or both made the same change, or
    /// neither changed).
    Current,
    /// Take the other side (only it changed).
    Other,
    /// Both changed, differently.
    Conflict,
}

/// Applies the three-way rule. `base` may be absent (add/add): then the sides
/// must agree.
pub fn pick<T: PartialEq + ?Sized>(base: Option<&T>, current: &T, other: &T) -> Pick {
    if current == other || base == Some(other) {
        Pick::Current
    } else if base == Some(current) {
        Pick::Other
    } else {
        Pick::Conflict
    }
}

/// The three-way rule on a list item's identity, where a list is merged by
/// identity: an item a side renamed is, by identity, a removal and an
/// addition in its place. Both sides renaming one item differently, or one
/// removing it while the other renamed it, would otherwise merge as the
/// union (or the one rename) where a person sees one line changed two ways.
/// Returns the first base item so changed, if any.
pub fn renamed_apart<'s>(
    base: &[&'s str],
    current: &[&'s str],
    other: &[&'s str],
) -> Option<&'s str> {
    let (rc, ro) = (replaced(base, current), replaced(base, other));
    rc.into_iter().find_map(|(item, with_c)| {
        let with_o = ro.iter().find(|(x, _)| *x == item)?.1.as_slice();
        (with_c != with_o && !(with_c.is_empty() && with_o.is_empty())).then_some(item)
    })
}

/// Each base item `side` removed, with what `side` added in its place
/// (after the same kept predecessor).
fn replaced<'s>(base: &[&'s str], side: &[&'s str]) -> Vec<(&'s str, Vec<&'s str>)> {
    use std::collections::{HashMap, HashSet};
    let (in_base, in_side): (HashSet<_>, HashSet<_>) =
        (base.iter().collect(), side.iter().collect());
    let mut added: HashMap<Option<&str>, Vec<&str>> = HashMap::new();
    let mut anchor = None;
    for &x in side {
        if in_base.contains(&x) {
            anchor = Some(x);
        } else {
            added.entry(anchor).or_default().push(x);
        }
    }
    let mut anchor = None;
    let mut out = Vec::new();
    for &x in base {
        if in_side.contains(&x) {
            anchor = Some(x);
        } else {
            out.push((x, added.get(&anchor).cloned().unwrap_or_default()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_renamed_two_ways_or_removed_against_a_rename_is_changed_apart() {
        let base = ["a", "b", "c"];
        assert_eq!(
            renamed_apart(&base, &["a", "b2", "c"], &["a", "b3", "c"]),
            Some("b")
        );
        assert_eq!(
            renamed_apart(&base, &["a", "c"], &["a", "b3", "c"]),
            Some("b")
        );
        assert_eq!(
            renamed_apart(&base, &["a", "b2", "c"], &["a", "b2", "c"]),
            None
        );
        assert_eq!(renamed_apart(&base, &["a", "c"], &["a", "c"]), None);
        assert_eq!(
            renamed_apart(&base, &["a", "b2", "c"], &["a", "b", "c", "d"]),
            None
        );
        assert_eq!(
            renamed_apart(&base, &["b", "c"], &["a", "b", "c", "d"]),
            None
        );
    }

    #[test]
    fn takes_the_side_that_changed() {
        assert_eq!(pick(Some("o"), "o", "b"), Pick::Other);
        assert_eq!(pick(Some("o"), "a", "o"), Pick::Current);
        assert_eq!(pick(Some("o"), "x", "x"), Pick::Current);
        assert_eq!(pick(Some("o"), "a", "b"), Pick::Conflict);
        assert_eq!(pick(None, "a", "a"), Pick::Current);
        assert_eq!(pick(None, "a", "b"), Pick::Conflict);
    }
}
