//! The combining push's queue: jobs that lost a race publish their commit,
//! unchanged, to a branch of their own under a prefix of `refs/heads/`, and
//! whoever wins the next push carries their recorded edits with its own.
//!
//! Everything here reads the queue as fetched into `refs/kustomerge/queue/`
//! (one fetch gives the branch and the whole queue) and decides, locally:
//!
//! - which entries may be carried: only live (younger than the time budget)
//!   commits whose whole change is their recorded edits, the proof `push`
//!   already needs to reapply ([`super::integrate`]);
//! - which entries clash: two edits of one image (or replica entry) in one
//!   file to different values. Under `--same-image conflict` neither is
//!   carried and each owner exits 4; under `newest` only a strictly higher
//!   version is carried over a lower one;
//! - whether our own commits were carried: a commit on the branch with our
//!   author, date and message, whose own change is exactly our recorded
//!   edits. Read from the branch's tree and trailers, never taken on trust.
//!
//! A job that exits 4 on a clash does not delete its entry, which would hide
//! the clash from the other owner; it replaces it (under a lease) with a
//! *withdrawal* commit: the same tree, its commit as parent, no trailers, so
//! nothing can ever carry it, and it expires with the budget like any entry.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::Serialize;

use super::integrate::{self, Commit};
use crate::git::Git;
use crate::kustomization::image_arg;
use crate::trailer::{Edit, IMAGE_TRAILER};
use crate::version::SameImagePolicy;

/// Where one fetch puts the remote's queue in the local repository; removed
/// when `push` ends ([`clear_local`]).
pub const LOCAL: &str = "refs/kustomerge/queue/";

/// The local ref the branch is fetched into next to the queue.
pub const LOCAL_TIP: &str = "refs/kustomerge/tip";

/// The subject line that marks a withdrawal commit.
pub const WITHDRAWN: &str = "kustomerge push: withdrawn";

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A queue ref name no other job uses: `<prefix><unix seconds>-<random>`.
/// The time is in the name because the ref's age is what expiry needs and
/// ls-remote can't tell when a ref was created; commit dates are the
/// author's and may be anything.
pub fn unique_name(prefix: &str, rng: &mut super::backoff::Rng) -> String {
    format!(
        "{prefix}{}-{:08x}{:016x}",
        now(),
        std::process::id(),
        rng.next_u64()
    )
}

/// When a queue ref was published, from its name.
pub fn queued_at(name: &str) -> Option<u64> {
    name.rsplit('/').next()?.split('-').next()?.parse().ok()
}

/// The fetch refspec for the queue under `prefix` (a path under `refs/heads/`
/// ending in `/`).
pub fn refspec(prefix: &str) -> String {
    format!("+refs/heads/{prefix}*:{LOCAL}*")
}

/// How long a queued job is trusted to be alive and pushing for the jobs
/// queued after it (see [`leaders`]). A round takes well under a second
/// against a 150 ms server; past this the job is presumed stuck or gone,
/// and the ones behind it push for themselves (its edits are still carried).
pub const LEAD: Duration = Duration::from_secs(10);

/// How many live entries were queued before ours (`mine`, a remote ref) and
/// less than [`LEAD`] ago: the jobs that are pushing and will carry ours.
/// Read from the names and subjects alone, without describing any commit,
/// so that a job waiting to be carried spends next to nothing per round.
pub fn leaders(git: &Git, prefix: &str, mine: &str) -> anyhow::Result<usize> {
    let Some(my_at) = queued_at(mine.rsplit('/').next().unwrap_or_default()) else {
        return Ok(0);
    };
    let listed = git.run(["for-each-ref", "--format=%(refname)%09%(subject)", LOCAL])?;
    let now = now();
    Ok(listed
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(local, subject)| {
            let id = local.trim_start_matches(LOCAL);
            let remote = format!("refs/heads/{prefix}{id}");
            !subject.starts_with(WITHDRAWN)
                && queued_at(id).is_some_and(|at| {
                    now.saturating_sub(at) <= LEAD.as_secs()
                        && (at, remote.as_str()) < (my_at, mine)
                })
        })
        .count())
}

/// One thing a recorded edit sets: an image or a replica entry in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// (trailer key, path, entry name): what two edits must share to clash.
    key: (String, String, String),
    /// What this edit sets it to (the argument as written).
    value: String,
    /// The tag, for images (ordering under `--same-image newest`).
    tag: Option<String>,
}

fn targets(edits: &[Edit]) -> Vec<Target> {
    let mut out = Vec::new();
    for edit in edits {
        let Some((path, arg)) = edit.split() else {
            continue;
        };
        let image = edit.is_image();
        let (name, tag) = if image {
            match image_arg::parse_image(arg) {
                Ok(i) => (i.name, Some(i.new_tag)),
                Err(_) => continue,
            }
        } else {
            match image_arg::parse_replica(arg) {
                Ok(r) => (r.name, None),
                Err(_) => continue,
            }
        };
        out.push(Target {
            key: (edit.key.to_ascii_lowercase(), path.trim().to_owned(), name),
            value: arg.to_owned(),
            tag,
        });
    }
    out
}

fn commit_targets(commits: &[Commit]) -> Vec<Target> {
    commits
        .iter()
        .flat_map(|c| targets(c.edits.as_deref().unwrap_or_default()))
        .collect()
}

/// Whether `a`, as one edit among others, must give way to `b` under
/// `policy`: same entry, different value, and (under `newest`) `a` not
/// strictly the higher version.
fn yields(a: &Target, b: &Target, policy: SameImagePolicy) -> bool {
    if a.key != b.key || a.value == b.value {
        return false;
    }
    match (policy, &a.tag, &b.tag) {
        (SameImagePolicy::Newest, Some(x), Some(y)) => {
            crate::version::compare(x, y) != Some(std::cmp::Ordering::Greater)
        }
        _ => true,
    }
}

/// What a queue ref holds.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Commits that may be carried, oldest first.
    Live(Vec<Commit>),
    /// Already in the branch's history: nothing left to carry.
    Landed,
    /// A commit whose change is not only recorded edits: never carried.
    Unprovable(String),
    /// A withdrawal, written at `at`, of these commits.
    Withdrawn { at: u64, commits: Vec<Commit> },
    /// Older than the time budget: ignored and deleted.
    Stale,
}

/// One queue ref as fetched.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The remote ref, `refs/heads/<prefix><id>`.
    pub remote_ref: String,
    /// Its SHA (the lease when deleting it).
    pub sha: String,
    /// When it was published.
    pub queued_at: u64,
    /// What it holds.
    pub kind: Kind,
}

/// Reads the fetched queue against `tip`. `mine` (our own ref) is left out.
pub fn read(
    git: &Git,
    prefix: &str,
    tip: &str,
    mine: Option<&str>,
    budget: Duration,
    seen: &mut HashMap<String, Commit>,
) -> anyhow::Result<Vec<Entry>> {
    let listed = git.run([
        "for-each-ref",
        "--format=%(refname)%09%(objectname)%09%(parent)%09%(committerdate:unix)%09%(subject)",
        LOCAL,
    ])?;
    let now = now();
    // (remote ref, sha, queued at, withdrawn at, the head whose commits count)
    let mut listed_entries = Vec::new();
    for line in listed.lines() {
        let mut f = line.splitn(5, '\t');
        let (Some(local), Some(sha), Some(parent), Some(date), Some(subject)) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let id = local.trim_start_matches(LOCAL);
        let remote_ref = format!("refs/heads/{prefix}{id}");
        if Some(remote_ref.as_str()) == mine {
            continue;
        }
        // A ref whose name carries no time can't be aged: it is not ours to
        // judge, so it is neither carried nor deleted.
        let Some(at) = queued_at(id) else {
            continue;
        };
        let stale = now.saturating_sub(at) > budget.as_secs();
        let withdrawn = subject.starts_with(WITHDRAWN);
        let head = if withdrawn { parent } else { sha };
        listed_entries.push((
            remote_ref,
            sha.to_owned(),
            at,
            (withdrawn && !stale).then(|| date.parse().unwrap_or(at)),
            (!stale).then(|| head.to_owned()),
        ));
    }
    // Every entry's commits in one batch (see `integrate::commits_of`).
    let heads: Vec<&str> = listed_entries
        .iter()
        .filter_map(|e| e.4.as_deref())
        .collect();
    let mut described = integrate::commits_of(git, tip, &heads, seen)?.into_iter();
    let mut entries = Vec::new();
    for (remote_ref, sha, at, withdrawn, head) in listed_entries {
        let kind = match (head, withdrawn) {
            (None, _) => Kind::Stale,
            (Some(_), Some(at)) => Kind::Withdrawn {
                at,
                commits: described.next().unwrap_or_default(),
            },
            (Some(_), None) => {
                let commits = described.next().unwrap_or_default();
                match commits.iter().find(|c| c.merge || c.edits.is_none()) {
                    _ if commits.is_empty() => Kind::Landed,
                    Some(c) => Kind::Unprovable(format!("{} {}", short(&c.sha), c.subject)),
                    None => Kind::Live(commits),
                }
            }
        };
        entries.push(Entry {
            remote_ref,
            sha,
            queued_at: at,
            kind,
        });
    }
    entries.sort_by(|a, b| (a.queued_at, &a.remote_ref).cmp(&(b.queued_at, &b.remote_ref)));
    Ok(entries)
}

/// A clash between our commits and a queued entry, for the exit-4 report.
#[derive(Debug, Clone)]
pub struct Clash {
    /// The file.
    pub path: String,
    /// `images[<name>]` or `replicas[<name>]`.
    pub key: String,
    /// One line saying who set what.
    pub detail: String,
}

/// Our commits' clashes with entries in flight: live ones, and withdrawals
/// written after we started (a withdrawal from before we started is an old
/// clash, not one with us). Only under `--same-image conflict`; under
/// `newest` the higher version is carried instead.
pub fn clashes(
    ours: &[Commit],
    entries: &[Entry],
    started: u64,
    policy: SameImagePolicy,
) -> Vec<Clash> {
    if policy != SameImagePolicy::Conflict {
        return Vec::new();
    }
    let mine = commit_targets(ours);
    let mut out = Vec::new();
    for entry in entries {
        let (commits, how) = match &entry.kind {
            Kind::Live(c) => (c, "queued"),
            Kind::Withdrawn { at, commits } if *at >= started => (commits, "withdrawn"),
            _ => continue,
        };
        for theirs in commit_targets(commits) {
            if let Some(m) = mine.iter().find(|m| yields(m, &theirs, policy)) {
                let what = if m.key.0.eq_ignore_ascii_case(IMAGE_TRAILER) {
                    "images"
                } else {
                    "replicas"
                };
                out.push(Clash {
                    path: m.key.1.clone(),
                    key: format!("{what}[{}]", m.key.2),
                    detail: format!(
                        "{} sets `{}` here and `{}` in {how} {} ({})",
                        m.key.2,
                        m.value,
                        theirs.value,
                        entry.remote_ref,
                        short(&entry.sha)
                    ),
                });
            }
        }
    }
    out
}

/// The live entries we may carry, in queue order: none of their edits
/// clashes with ours, with another entry in flight, or with a withdrawal
/// written after the entry was queued.
pub fn carriable<'a>(
    ours: &[Commit],
    entries: &'a [Entry],
    policy: SameImagePolicy,
) -> Vec<&'a Entry> {
    let mine = commit_targets(ours);
    // (index, targets, when withdrawn): a live entry is in flight throughout.
    let others: Vec<(usize, Vec<Target>, Option<u64>)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.kind {
            Kind::Live(c) => Some((i, commit_targets(c), None)),
            Kind::Withdrawn { at, commits } => Some((i, commit_targets(commits), Some(*at))),
            _ => None,
        })
        .collect();
    entries
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            let Kind::Live(commits) = &e.kind else {
                return false;
            };
            let theirs = commit_targets(commits);
            !theirs.iter().any(|t| {
                mine.iter().any(|m| yields(t, m, policy))
                    || others.iter().any(|(j, other, withdrawn_at)| {
                        let in_flight = withdrawn_at.is_none_or(|at| at >= e.queued_at);
                        j != i && in_flight && other.iter().any(|o| yields(t, o, policy))
                    })
            })
        })
        .map(|(_, e)| e)
        .collect()
}

/// Who carried our commits, as the branch shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CarriedBy {
    /// The branch commit that holds our edits (the last one, for several).
    pub commit: String,
    /// Its committer, `Name <email>`: the job that carried it.
    pub committer: String,
}

/// Whether every one of `ours` is on the branch at `tip`, carried by
/// another job: a commit after the merge base with the same author, author
/// date and message, whose own change is exactly the recorded edits.
pub fn carried(
    git: &Git,
    tip: &str,
    head: &str,
    ours: &[Commit],
) -> anyhow::Result<Option<CarriedBy>> {
    if ours.is_empty() || ours.iter().any(|c| c.edits.is_none()) {
        return Ok(None);
    }
    let Ok(base) = git.run(["merge-base", tip, head]) else {
        return Ok(None);
    };
    const SIGNATURE: &str = "%an%x1f%ae%x1f%ad%x1f%B";
    let log = git.run([
        "log",
        &format!("--format=%H%x1f%cn <%ce>%x1f{SIGNATURE}%x1e"),
        &format!("{base}..{tip}"),
    ])?;
    let on_branch: Vec<(&str, &str, &str)> = log
        .split('\x1e')
        .filter_map(|rec| {
            let rec = rec.trim_start_matches('\n');
            let (sha, rest) = rec.split_once('\x1f')?;
            let (committer, sig) = rest.split_once('\x1f')?;
            Some((sha, committer, sig.trim_end()))
        })
        .collect();
    let mut by = None;
    for commit in ours {
        let sig = git.run(["show", "-s", &format!("--format={SIGNATURE}"), &commit.sha])?;
        let sig = sig.trim_end();
        let edits = commit.edits.as_deref().unwrap_or_default();
        let mut found = None;
        for (sha, committer, theirs) in &on_branch {
            if *theirs == sig && integrate::edits_are_the_whole_change(git, sha, edits)? {
                found = Some(CarriedBy {
                    commit: (*sha).to_owned(),
                    committer: (*committer).to_owned(),
                });
                break;
            }
        }
        match found {
            Some(f) => by = Some(f),
            None => return Ok(None),
        }
    }
    Ok(by)
}

/// A carried entry, as `--json` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Carried {
    /// The queue ref it came from (deleted by the same push).
    pub queue_ref: String,
    /// Its recorded edits, as reapplied on the tip (or skipped, or already there).
    pub edits: Vec<integrate::Applied>,
}

/// A withdrawal commit for `head`: its tree, `head` as parent, no trailers,
/// committed now by the real clock (a fixed `GIT_COMMITTER_DATE` would make
/// it look old to the jobs it must stop).
pub fn withdrawal(git: &Git, head: &str, why: &str) -> anyhow::Result<String> {
    let date = format!("@{} +0000", now());
    git.clone()
        .with_env("GIT_COMMITTER_DATE", &date)
        .run([
            "commit-tree",
            &format!("{head}^{{tree}}"),
            "-p",
            head,
            "-m",
            &format!("{WITHDRAWN}: {why}"),
        ])
        .context("could not write the withdrawal commit")
}

/// Deletes the local copies of the queue and the tip: they are `push`'s
/// working state, not the user's refs.
pub fn clear_local(git: &Git) {
    let Ok(refs) = git.run(["for-each-ref", "--format=%(refname)", "refs/kustomerge/"]) else {
        return;
    };
    for r in refs.lines() {
        let _ = git.run(["update-ref", "-d", r]);
    }
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(args: &[&str]) -> Commit {
        Commit {
            sha: "0".repeat(40),
            subject: "deploy".into(),
            merge: false,
            edits: Some(
                args.iter()
                    .map(|a| Edit {
                        key: IMAGE_TRAILER.into(),
                        value: format!("overlays/prod/kustomization.yaml {a}"),
                    })
                    .collect(),
            ),
        }
    }

    fn entry(name: &str, at: u64, kind: Kind) -> Entry {
        Entry {
            remote_ref: format!("refs/heads/kustomerge/queue/{name}"),
            sha: "1".repeat(40),
            queued_at: at,
            kind,
        }
    }

    #[test]
    fn names_carry_the_time_they_were_queued() {
        let mut rng = super::super::backoff::Rng::seeded(7);
        let name = unique_name("kustomerge/queue/", &mut rng);
        let at = queued_at(&name).unwrap();
        assert!(now().abs_diff(at) < 5, "{name}");
        assert_ne!(name, unique_name("kustomerge/queue/", &mut rng));
        assert_eq!(queued_at("q/notatime"), None);
    }

    #[test]
    fn two_queued_edits_of_one_image_are_not_carried_under_conflict() {
        let entries = [
            entry("1-a", 1, Kind::Live(vec![commit(&["api:1.1.0"])])),
            entry("2-b", 2, Kind::Live(vec![commit(&["api:1.2.0"])])),
            entry("3-c", 3, Kind::Live(vec![commit(&["web:2.0.0"])])),
        ];
        let ours = [commit(&["db:9.0.0"])];
        let got: Vec<_> = carriable(&ours, &entries, SameImagePolicy::Conflict)
            .iter()
            .map(|e| e.remote_ref.as_str())
            .collect();
        assert_eq!(got, ["refs/heads/kustomerge/queue/3-c"]);
        // Under `newest` the higher version is carried, the lower is not.
        let got: Vec<_> = carriable(&ours, &entries, SameImagePolicy::Newest)
            .iter()
            .map(|e| e.remote_ref.as_str())
            .collect();
        assert_eq!(
            got,
            [
                "refs/heads/kustomerge/queue/2-b",
                "refs/heads/kustomerge/queue/3-c"
            ]
        );
    }

    #[test]
    fn the_same_value_twice_is_no_clash_and_tags_that_dont_order_are_one() {
        let same = [
            entry("1-a", 1, Kind::Live(vec![commit(&["api:1.1.0"])])),
            entry("2-b", 2, Kind::Live(vec![commit(&["api:1.1.0"])])),
        ];
        assert_eq!(carriable(&[], &same, SameImagePolicy::Conflict).len(), 2);
        let unordered = [
            entry("1-a", 1, Kind::Live(vec![commit(&["api:latest"])])),
            entry("2-b", 2, Kind::Live(vec![commit(&["api:1.1.0"])])),
        ];
        assert!(carriable(&[], &unordered, SameImagePolicy::Newest).is_empty());
    }

    #[test]
    fn our_clash_with_a_queued_or_freshly_withdrawn_edit_is_reported() {
        let ours = [commit(&["api:1.3.0"])];
        let live = [entry("1-a", 1, Kind::Live(vec![commit(&["api:1.1.0"])]))];
        let got = clashes(&ours, &live, 100, SameImagePolicy::Conflict);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key, "images[api]");
        assert!(got[0].detail.contains("api:1.1.0"), "{}", got[0].detail);
        assert!(clashes(&ours, &live, 100, SameImagePolicy::Newest).is_empty());
        let withdrawn = |at| {
            [entry(
                "1-a",
                1,
                Kind::Withdrawn {
                    at,
                    commits: vec![commit(&["api:1.1.0"])],
                },
            )]
        };
        // Withdrawn while we ran: a clash with us. Before we started: not.
        assert_eq!(
            clashes(&ours, &withdrawn(150), 100, SameImagePolicy::Conflict).len(),
            1
        );
        assert!(clashes(&ours, &withdrawn(50), 100, SameImagePolicy::Conflict).is_empty());
    }

    #[test]
    fn stale_unprovable_and_withdrawn_entries_are_never_carried() {
        let entries = [
            entry("1-a", 1, Kind::Stale),
            entry("2-b", 2, Kind::Unprovable("x".into())),
            entry(
                "3-c",
                3,
                Kind::Withdrawn {
                    at: 3,
                    commits: vec![commit(&["web:1.0.0"])],
                },
            ),
            entry("4-d", 4, Kind::Landed),
        ];
        assert!(carriable(&[], &entries, SameImagePolicy::Conflict).is_empty());
    }
}
