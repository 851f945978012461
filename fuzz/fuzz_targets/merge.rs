//! Fuzzes the merge with three inputs split at `0xFF` bytes (a byte UTF-8
//! never uses, so every valid file stays reachable).
//!
//! Inputs the structured merge rejects go to `git merge-file`, which is git's
//! code, not ours, and a process per run would slow the fuzzer a hundredfold:
//! those are skipped. The oracles are the merge laws the property tests check
//! on generated files, here on whatever the fuzzer finds:
//!
//! - no panic (the library catches its own, so a panic here is one that
//!   escaped `catch_unwind`), and no error (git is only needed for conflicts);
//! - a clean structured result parses and holds no conflict markers the
//!   inputs didn't; merging it again with the other side changes nothing
//!   (unless both sides changed the text outside the lists: that part is
//!   git's line merge, which isn't idempotent on every input);
//! - swapping the sides gives the same cleanliness and the same lists;
//! - a conflict always leaves markers.

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use kustomerge::cli::SameImagePolicy;
use kustomerge::git::Git;
use kustomerge::kustomization::{Document, decode};
use kustomerge::merge::{Markers, Options, Outcome, merge};
use libfuzzer_sys::fuzz_target;

fn options(policy: SameImagePolicy) -> &'static Options {
    static OPTIONS: OnceLock<[Options; 2]> = OnceLock::new();
    let all = OPTIONS.get_or_init(|| {
        [SameImagePolicy::Conflict, SameImagePolicy::Newest].map(|policy| Options {
            policy,
            markers: Markers::default(),
            git: Git::in_dir(std::env::temp_dir())
                .with_env("GIT_CONFIG_NOSYSTEM", "1")
                .with_env("GIT_CONFIG_GLOBAL", "/dev/null"),
            virtual_base: false,
        })
    });
    &all[usize::from(policy == SameImagePolicy::Newest)]
}

fn models(bytes: &[u8]) -> bool {
    decode(bytes).is_ok_and(|s| Document::parse(s).is_ok())
}

/// The text outside the keyed lists.
fn rest(bytes: &[u8]) -> String {
    let doc = Document::parse(decode(bytes).expect("checked")).expect("checked");
    let mut out = String::new();
    let mut at = 0;
    for list in &doc.lists {
        out.push_str(&doc.src[at..list.region.start]);
        out.push_str(&list.key);
        at = list.region.end;
    }
    out.push_str(&doc.src[at..]);
    out
}

fn has_markers(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .any(|l| l.starts_with(b"<<<<<<<") || l.starts_with(b">>>>>>>"))
}

/// Every keyed list's entries as (list, name) -> fields, order aside.
fn lists(bytes: &[u8]) -> BTreeMap<(String, String), BTreeMap<String, String>> {
    let text = std::str::from_utf8(bytes).expect("a clean structured result is UTF-8");
    let doc = Document::parse(text).expect("a clean structured result parses");
    let mut out = BTreeMap::new();
    for list in &doc.lists {
        for e in &list.entries {
            let fields = e
                .fields
                .iter()
                .map(|f| (f.key(text).to_owned(), f.value(text).to_owned()))
                .collect();
            out.insert(
                (list.key.clone(), e.name(text).unwrap_or_default().to_owned()),
                fields,
            );
        }
    }
    out
}

fn run(o: &[u8], a: &[u8], b: &[u8], opts: &Options) -> Outcome {
    merge(o, a, b, opts).expect("the merge errs only when git can't run")
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0xFF);
    let (o, a, b) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if ![o, a, b].into_iter().all(models) {
        return;
    }
    // Let the input pick the policy, so both get explored.
    let policy = if data.len() % 2 == 1 {
        SameImagePolicy::Newest
    } else {
        SameImagePolicy::Conflict
    };
    let opts = options(policy);
    let m = run(o, a, b, opts);
    if m.conflicts > 0 {
        assert!(has_markers(&m.bytes), "a conflict without markers");
        return;
    }
    if !has_markers(o) && !has_markers(a) && !has_markers(b) {
        assert!(!has_markers(&m.bytes), "markers in a clean result");
    }
    if m.fallback.is_some() {
        return;
    }
    let merged = lists(&m.bytes);
    let s = run(o, b, a, opts);
    if s.fallback.is_none() {
        assert_eq!(s.conflicts, 0, "clean one way round, a conflict the other");
        assert_eq!(lists(&s.bytes), merged, "the sides don't commute");
    }
    let (ro, ra, rb) = (rest(o), rest(a), rest(b));
    if ro != ra && ro != rb && ra != rb {
        return;
    }
    let again = run(o, &m.bytes, b, opts);
    assert_eq!(
        again.conflicts, 0,
        "merging the result again with the other side conflicts"
    );
    assert!(
        again.bytes == m.bytes,
        "merging the result again with the other side changes it"
    );
});
