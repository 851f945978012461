//! Real merges of kustomization files from public histories, in
//! `fixtures/replay/<repo>/<case>/{base,current,other,human}` (made by
//! `benches/replay/collect.sh`; the README's "Real merges replayed" says how).
//! The cases are other projects' files, fetched for measuring, so they are
//! not in this repository: the test runs when asked for
//! (`cargo test --test integration replay -- --ignored --nocapture`) and then
//! fails if the folder is missing or small.
//!
//! What the person merging committed is the reference, not an oracle: people
//! also edit while they merge, and settle clashes no file shows (two branches
//! adding the same thing under two names). So kustomerge is held to this: it
//! matches the human at least as often as git's line merge, and a clean
//! result of its own that differs from the human's is either git's clean
//! result too (the human edited further) or a case in `HUMAN_CHOICES`, with
//! the reason no merge tool could have known. Anything else is a wrong merge,
//! except the cases in `ORDER_TO_FIX`, where kustomerge keeps every entry the
//! human kept but in another order: they must stay that (the same lines), and
//! leave the list once the list merge places them the human's way.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{Sandbox, fixtures, git_merge_file};

/// Cases where kustomerge merges cleanly, git conflicts, and the person
/// resolved the clash with knowledge outside the three files.
const HUMAN_CHOICES: &[(&str, &str)] = &[
    ("argoproj+argo-cd/2b71e9c55d-1", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/2b71e9c55d-2", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/2b71e9c55d-3", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/74e80fe1c5-1", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/74e80fe1c5-2", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/74e80fe1c5-3", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/c7c9711a28-1", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/c7c9711a28-2", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/c89a64e6de-1", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/c89a64e6de-2", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/c89a64e6de-3", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/e6be60e10d-1", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/e6be60e10d-2", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/e6be60e10d-3", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/f23b049509-1", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/f23b049509-3", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/f23b049509-4", FORK_KEEPS_TAG),
    ("argoproj+argo-cd/89cc5e13e0-1", OWN_TAG),
    ("argoproj+argo-cd/89cc5e13e0-2", OWN_TAG),
    ("argoproj+argo-cd/89cc5e13e0-3", OWN_TAG),
    ("argoproj+argo-cd/5a341f4c69-1", KEPT_BASE),
    ("argoproj+argo-cd/5a341f4c69-2", KEPT_BASE),
    ("argoproj+argo-cd/d8e49f9344-1", ONE_OF_TWO_ADDS),
    ("kubeflow+manifests/604e8b2763-1", ONE_OF_TWO_ADDS),
    ("kubeflow+manifests/b7c6795b53-2", ONE_OF_TWO_ADDS),
    (
        "redhat-appstudio+infra-deployments/c37d738ac9-1",
        "the human dropped one side's new entry",
    ),
    ("cds-snc+notification-manifests/60c1c25d58-1", KEPT_REMOVED),
    (
        "stolostron+multiclusterhub-operator/2090218116-1",
        KEPT_REMOVED,
    ),
    (
        "stolostron+multiclusterhub-operator/72143679b8-1",
        KEPT_REMOVED,
    ),
    (
        "stolostron+multiclusterhub-operator/554d4ed656-1",
        KEPT_REMOVED,
    ),
    ("kubeflow+pipelines/5c5298e9c0-1", LOCKSTEP),
    ("kubeflow+pipelines/abd2249331-1", LOCKSTEP),
    ("kubeflow+pipelines/e1bedf7cb9-1", LOCKSTEP),
    ("redhat-appstudio+infra-deployments/71e2007d1c-1", LOCKSTEP),
    ("redhat-appstudio+infra-deployments/71e2007d1c-2", LOCKSTEP),
    ("redhat-appstudio+infra-deployments/e43a5e34ac-1", LOCKSTEP),
    (
        "redhat-appstudio+infra-deployments/d19c05e99a-1",
        "both appended one entry; the human put the other side's first",
    ),
    (
        "stolostron+multiclusterhub-operator/03e4873ed5-1",
        DROPPED_COMMENT,
    ),
    (
        "validatedpatterns+industrial-edge/26a7678894-1",
        DROPPED_COMMENT,
    ),
    (
        "stolostron+multiclusterhub-operator/777487cd7b-1",
        DROPPED_COMMENT,
    ),
    (
        "stolostron+multiclusterhub-operator/2dbe2f6cce-1",
        "the human dropped the final newline one side added",
    ),
    (
        "stolostron+multiclusterhub-operator/309bd8fc04-1",
        "one side moved an entry; the human kept it at both places",
    ),
    (
        "redhat-appstudio+infra-deployments/6e24936a10-1",
        "the human left a blank line inside an images entry",
    ),
];
const FORK_KEEPS_TAG: &str =
    "a fork took upstream's newTag bump on an entry whose newName it changed, and kept its own tag";
const OWN_TAG: &str = "a fork set a tag of its own";
const KEPT_BASE: &str = "the human kept the base, dropping both sides";
const ONE_OF_TWO_ADDS: &str = "both sides added entries at one place; the human kept one side's";
const KEPT_REMOVED: &str = "the human kept entries one side removed or commented out";
const LOCKSTEP: &str =
    "one side bumped a release; the human moved the other side's new entry to that version too";
const DROPPED_COMMENT: &str = "the human dropped comment lines one side added";

/// Cases where kustomerge keeps the human's entries in another order: one
/// side replaced an entry in place and the other inserted after it (the
/// replacement lands after the insertion), or one side moved the entry the
/// other inserted next to (the insertion follows it).
const ORDER_TO_FIX: &[&str] = &["stolostron+multiclusterhub-operator/5ab9607a48-1"];

/// One tool's result against the human's: equal bytes, clean but different,
/// or a conflict.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Human,
    Differs,
    Conflict,
}

fn outcome(code: Option<i32>, result: &[u8], human: &[u8]) -> Outcome {
    match code {
        Some(0) if result == human => Outcome::Human,
        Some(0) => Outcome::Differs,
        _ => Outcome::Conflict,
    }
}

struct Replayed {
    git: Outcome,
    kustomerge: Outcome,
    same_bytes_as_git: bool,
    same_lines_as_human: bool,
}

fn replay(sb: &Sandbox, case: &Path) -> Replayed {
    let read = |file: &str| fs::read(case.join(file)).unwrap();
    let (base, current, other, human) =
        (read("base"), read("current"), read("other"), read("human"));
    fs::write(sb.path().join("current"), &current).unwrap();
    let out = sb
        .kustomerge_cmd(sb.path())
        .arg("merge")
        .arg(case.join("base"))
        .arg("current")
        .arg(case.join("other"))
        .args(["7", "kustomization.yaml"])
        .output()
        .unwrap();
    let merged = fs::read(sb.path().join("current")).unwrap();
    let (git, git_code) = git_merge_file(sb, [&base, &current, &other]);
    let sorted_lines = |bytes: &[u8]| {
        let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        lines.sort();
        lines
    };
    Replayed {
        git: outcome(Some(git_code), &git, &human),
        kustomerge: outcome(out.status.code(), &merged, &human),
        same_bytes_as_git: git_code == 0 && git == merged,
        same_lines_as_human: sorted_lines(&merged) == sorted_lines(&human),
    }
}

fn cases(root: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<_> = fs::read_dir(root)
        .unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): run benches/replay/collect.sh",
                root.display()
            )
        })
        .flat_map(|repo| fs::read_dir(repo.unwrap().path()).into_iter().flatten())
        .map(|case| case.unwrap().path())
        .filter(|case| case.join("human").is_file())
        .collect();
    cases.sort();
    cases
}

#[test]
#[ignore = "needs fixtures/replay, made by benches/replay/collect.sh from fetched histories"]
fn real_merges_match_the_human_at_least_as_often_as_git_and_never_differ_unexplained() {
    let root = fixtures().join("replay");
    let cases = cases(&root);
    assert!(
        cases.len() >= 100,
        "only {} cases in {}: rerun benches/replay/collect.sh",
        cases.len(),
        root.display()
    );
    // Two processes a case: two threads keep the run near ten seconds.
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let sb = Sandbox::new();
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let name = case
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    let replayed = replay(&sb, case);
                    results.lock().unwrap().push((name, replayed));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let count = |f: &dyn Fn(&Replayed) -> bool| results.iter().filter(|(_, r)| f(r)).count();
    let git_human = count(&|r| r.git == Outcome::Human);
    let ks_human = count(&|r| r.kustomerge == Outcome::Human);
    let ks_differs = count(&|r| r.kustomerge == Outcome::Differs);
    let extra_edits = count(&|r| r.kustomerge == Outcome::Differs && r.same_bytes_as_git);
    let explained = |name: &str, r: &Replayed| {
        r.same_bytes_as_git
            || HUMAN_CHOICES.iter().any(|(c, _)| *c == name)
            || (ORDER_TO_FIX.contains(&name) && r.same_lines_as_human)
    };
    let wrong: Vec<&str> = results
        .iter()
        .filter(|(name, r)| r.kustomerge == Outcome::Differs && !explained(name, r))
        .map(|(name, _)| name.as_str())
        .collect();
    eprintln!(
        "{} real merges: equal to the human's result: git merge-file {git_human}, kustomerge \
         {ks_human}; kustomerge clean but different {ks_differs}: {extra_edits} the same bytes \
         as git, {} human choices and {} orders to fix listed",
        cases.len(),
        HUMAN_CHOICES.len(),
        ORDER_TO_FIX.len()
    );
    assert!(
        wrong.is_empty(),
        "kustomerge merged cleanly and differs from both the human and git in:\n{}",
        wrong.join("\n")
    );
    assert!(
        ks_human >= git_human,
        "kustomerge matches the human {ks_human} times, git {git_human}"
    );
}
