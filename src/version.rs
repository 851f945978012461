//! Ordering image tags, for `merge --same-image newest` and `--no-downgrade`.
//!
//! Tags are free text, so ordering is deliberately partial: two tags compare
//! only when both read as versions of the same shape (`1.2.3`, `v1.10`,
//! `1.2.3-rc.1`, `20240101`, `2024-01-02`). `latest`, commit SHAs and mixed
//! shapes don't compare, and callers must then treat the pair as a conflict
//! rather than guess.

use std::cmp::Ordering;

/// How two different versions of the same image are resolved (`merge`,
/// `push` and the registered driver line take it as `--same-image`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameImagePolicy {
    /// Report a conflict covering only that entry.
    #[default]
    Conflict,
    /// Keep the higher version (by [`compare`]); incomparable tags still conflict.
    Newest,
}

/// Compares two tags as versions, semver-style: numeric dot-separated cores
/// compare numerically (`1.10` > `1.9`), a pre-release sorts before its
/// release, and pre-release identifiers compare as semver says. `None` when
/// the tags can't be ordered.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (va, vb) = (Version::parse(a)?, Version::parse(b)?);
    // `v1.2` against `1.2.0.4` or a date against a semver: different schemes.
    if va.core.len() != vb.core.len() && (va.core.len() == 1 || vb.core.len() == 1) {
        return None;
    }
    let len = va.core.len().max(vb.core.len());
    for i in 0..len {
        let (x, y) = (
            va.core.get(i).copied().unwrap_or(0),
            vb.core.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Equal => {}
            other => return Some(other),
        }
    }
    match (va.pre, vb.pre) {
        (None, None) => (va.build == vb.build).then_some(Ordering::Equal),
        (None, Some(_)) => Some(Ordering::Greater),
        (Some(_), None) => Some(Ordering::Less),
        (Some(pa), Some(pb)) => compare_pre(pa, pb),
    }
}

struct Version<'a> {
    core: Vec<u64>,
    pre: Option<&'a str>,
    build: Option<&'a str>,
}

impl<'a> Version<'a> {
    fn parse(tag: &'a str) -> Option<Self> {
        let tag = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
        let (rest, build) = match tag.split_once('+') {
            Some((r, b)) => (r, Some(b)),
            None => (tag, None),
        };
        // A date tag such as 2024-01-02 is a core of three numbers.
        let is_date = rest.len() == 10
            && rest.as_bytes()[4] == b'-'
            && rest.as_bytes()[7] == b'-'
            && rest.bytes().filter(u8::is_ascii_digit).count() == 8;
        let (core, pre) = if is_date {
            (rest.replace('-', "."), None)
        } else {
            match rest.split_once('-') {
                Some((c, p)) => (c.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            }
        };
        let core = core
            .split('.')
            .map(|p| {
                (!p.is_empty() && p.len() <= 19 && p.bytes().all(|c| c.is_ascii_digit()))
                    .then(|| p.parse::<u64>().ok())
                    .flatten()
            })
            .collect::<Option<Vec<_>>>()?;
        if core.is_empty() || pre == Some("") {
            return None;
        }
        Some(Self { core, pre, build })
    }
}

/// Semver §11: identifiers compare numerically when numeric, lexically
/// otherwise, numeric below alphanumeric, and a longer list wins a tie.
fn compare_pre(a: &str, b: &str) -> Option<Ordering> {
    let mut ia = a.split('.');
    let mut ib = b.split('.');
    loop {
        return match (ia.next(), ib.next()) {
            (None, None) => Some(Ordering::Equal),
            (None, Some(_)) => Some(Ordering::Less),
            (Some(_), None) => Some(Ordering::Greater),
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(nx), Ok(ny)) => nx.cmp(&ny),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if ord == Ordering::Equal {
                    continue;
                }
                Some(ord)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn orders_versions_semver_style() {
        let cases = [
            ("1.10", "1.9", Some(Greater)),
            ("v1.2.3", "1.2.3", Some(Equal)),
            ("1.2.3-rc.1", "1.2.3", Some(Less)),
            ("1.2.3-rc.2", "1.2.3-rc.10", Some(Less)),
            ("1.2.3-alpha", "1.2.3-alpha.1", Some(Less)),
            ("2024-01-02", "2024-01-10", Some(Less)),
            ("20240102", "20240110", Some(Less)),
            ("1.2", "1.2.1", Some(Less)),
            ("latest", "1.0", None),
            ("abc1234", "def5678", None),
            ("1.0+build1", "1.0+build2", None),
            ("42", "1.2.3", None),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.map(Ordering::reverse), "{b} vs {a}");
        }
    }
}
