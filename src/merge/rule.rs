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

#[cfg(test)]
mod tests {
    use super::*;

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
