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
//! - **the independent reader**: every clean result (structured or git's,
//!   either way round, and merged again) reads with `meaning::read` whenever
//!   the three inputs do, and is what the three-way rule on the inputs'
//!   meanings gives, per field, per entry by name and per facet
//!   (`tests/integration/oracle.rs`, shared with the property tests; a
//!   facet both sides changed differently may come out clean only under
//!   `--same-image newest`, as either side's version);
//! - a clean structured result parses and holds no conflict markers the
//!   inputs didn't; merging it again with the other side changes nothing
//!   (unless both sides changed the text outside the lists: that part is
//!   git's line merge, which isn't idempotent on every input);
//! - swapping the sides gives the same cleanliness (unless both changed the
//!   text outside the lists: git's line merge decides) and the same lists
//!   as kustomize reads them, order aside;
//! - a conflict always leaves markers.

#![no_main]

use std::sync::OnceLock;

use kustomerge::version::SameImagePolicy;
use kustomerge::git::Git;
use kustomerge::kustomization::{Document, decode};
use kustomerge::merge::{Markers, Options, Outcome, merge};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/integration/oracle.rs"]
mod oracle;

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
            forced_fallback: None,
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

/// The keyed lists as kustomize reads them (`None`: it doesn't), entry order aside (the sides'
/// additions come in the current side's order first). Field names are
/// compared as kustomize matches them, case-insensitively: `Name:` on one
/// side and `name:` on the other are one field.
fn lists(bytes: &[u8]) -> Option<Vec<(&'static str, Vec<String>)>> {
    let k = kustomerge::meaning::read(bytes).ok()?;
    let lists = ["images", "replicas"]
        .into_iter()
        .map(|key| {
            let mut entries: Vec<String> = match k.fields.get(key) {
                Some(kustomerge::meaning::Value::Seq(items)) => {
                    items.iter().map(|e| format!("{e:?}")).collect()
                }
                other => vec![format!("{other:?}")],
            };
            entries.sort();
            (key, entries)
        })
        .collect();
    Some(lists)
}

/// Merges, and holds every clean result to the three-way rule on meaning.
fn run(o: &[u8], a: &[u8], b: &[u8], opts: &Options) -> Outcome {
    let m = merge(o, a, b, opts).expect("the merge errs only when git can't run");
    if m.conflicts == 0 {
        let newest = opts.policy == SameImagePolicy::Newest;
        if let Err(e) = oracle::check_clean([o, a, b], &m.bytes, newest) {
            panic!(
                "a clean merge (fallback: {:?}) breaks the three-way rule on meaning: {e}\nresult:\n{}",
                m.fallback,
                String::from_utf8_lossy(&m.bytes)
            );
        }
    }
    m
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
    // Where both sides changed the text outside the lists, that text is git's
    // line merge, whose cleanliness hangs on which lines are adjacent: a
    // list both sides added at different places goes to the current side's
    // place, next to lines the other side may have changed. Only then may a
    // swap of the sides change cleanliness.
    let (ro, ra, rb) = (rest(o), rest(a), rest(b));
    let both_rests = ro != ra && ro != rb && ra != rb;
    let merged = lists(&m.bytes);
    let s = run(o, b, a, opts);
    if s.fallback.is_none() && (s.conflicts == 0 || !both_rests) {
        assert_eq!(s.conflicts, 0, "clean one way round, a conflict the other");
        assert_eq!(lists(&s.bytes), merged, "the sides don't commute");
    }
    if both_rests {
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
