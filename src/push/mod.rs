//! The push loop: fetch, put our commits on the fresh tip, push, and retry
//! lost races with jittered backoff until the budget runs out.
//!
//! Many pipelines pushing to one GitOps branch lose races all the time, and
//! the usual `until git push; do git pull --rebase; done` fails three ways:
//! it gives up after a fixed number of tries, it retries in lockstep, and it
//! leaves a half-finished rebase behind when a text merge conflicts. This
//! module replaces it:
//!
//! 1. fetch the branch (shallow clones keep their boundary, see [`fetch`]);
//! 2. reapply our recorded edits, rebase other commits with the merge driver
//!    active ([`integrate`]);
//! 3. push, and on failure decide from the text and a fresh read of the
//!    remote ref whether we lost a race, hit a transient network or server
//!    fault (both retried), or were refused ([`classify`]); a fetch that
//!    fails transiently is retried the same way;
//! 4. back off with full jitter ([`backoff`]) and go back to 1.
//!
//! **Combining** (the default; `--no-combine` is the loop above alone).
//! With every landed push invalidating every other job's work, N jobs need
//! about N/2 rounds each and the server sees O(N²) calls. So a job that
//! loses a race publishes its commit, unchanged, to a queue ref of its own
//! (`refs/heads/<prefix><unix time>-<random>`), and step 1 fetches the queue
//! with the branch in the same call. Whoever wins a push lands, with its own
//! commits, every queued job's recorded edits not yet there, one commit per
//! job, and deletes the refs it carried in the same `--atomic` push, each
//! under a lease; a queued job finds its commit on the branch and ends
//! `carried`. What may be carried, what clashes and what is stale is decided
//! in [`queue`]; a host that refuses the prefix gets the loop alone.
//!
//! **Driver activation.** `push` needs no config in the clone: every git call
//! carries `-c merge.kustomize.driver=<this binary> merge ...` and an
//! attributes file of its own through `-c core.attributesFile=...`. That file
//! has the *lowest* attribute precedence, on purpose: a repository whose
//! `.gitattributes` or `info/attributes` assigns kustomization files a merge
//! attribute has said how it wants them merged, and that choice wins (if it
//! names `merge=kustomize`, our `-c` definition serves it). The `-c` line
//! also replaces a configured `merge.kustomize.driver`, so the driver is
//! always this very binary (no PATH lookup, no version skew), with the policy
//! `push --same-image` names rather than one read back from the user's driver
//! line. No config or attributes file of the user's is written.
//!
//! **State.** All work happens on a detached HEAD; the user's branch moves
//! only once the push has landed. Whatever happens, including an error
//! halfway, [`Restore`] aborts any rebase and puts the original branch back.

pub mod backoff;
pub mod classify;
pub mod integrate;
pub mod queue;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::driver::{self, DriverLine};
use crate::git::Git;
use crate::version::SameImagePolicy;
use backoff::{Backoff, Rng};
use classify::{Decision, Verdict};
use integrate::{Conflict, Integrated};
use queue::{Carried, CarriedBy};

/// What `push` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The remote name or URL.
    pub remote: String,
    /// The remote branch; `None` means the current branch's name.
    pub branch: Option<String>,
    /// Total time for all attempts.
    pub budget: Duration,
    /// Most push attempts.
    pub max_attempts: u32,
    /// Skip recorded image edits that would downgrade the tip.
    pub no_downgrade: bool,
    /// The driver's policy while rebasing (`--same-image`).
    pub same_image: SameImagePolicy,
    /// The kustomerge binary the driver line runs.
    pub exe: PathBuf,
    /// Combine: on a lost race, queue our commit for the next winner to
    /// carry, and carry the queue when we win (`--no-combine` turns it off).
    pub combine: bool,
    /// Where queue refs live, under `refs/heads/`; ends in `/`.
    pub queue_prefix: String,
}

/// How the push ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Our commits are on the remote branch.
    Landed,
    /// Another job's push carried our commits onto the remote branch.
    Carried,
    /// Nothing to push: no local commits, or every edit was already there or skipped.
    Noop,
    /// A real conflict; the rebase was aborted.
    Conflict,
    /// The server refuses this push for a reason retrying can't fix.
    Rejected,
    /// The time budget or the attempt cap ran out.
    Exhausted,
}

impl Status {
    /// The process exit code (see [`crate::exit`]).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Landed | Self::Carried | Self::Noop => crate::exit::SUCCESS,
            Self::Conflict => crate::exit::PUSH_CONFLICT,
            Self::Rejected => crate::exit::REJECTED,
            Self::Exhausted => crate::exit::BUDGET_EXHAUSTED,
        }
    }
}

/// The outcome, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// How it ended.
    pub result: Status,
    /// The remote branch's SHA afterwards, when known.
    pub sha: Option<String>,
    /// Push attempts made (fetch-integrate-push rounds).
    pub attempts: u32,
    /// Wall time.
    pub seconds: f64,
    /// Fetches, pushes and ls-remotes made: each one a round trip to the server.
    pub server_calls: u32,
    /// The queue ref we published our commit to after a lost race, if any.
    pub queue_ref: Option<String>,
    /// When `result` is `carried`: the branch commit and who committed it.
    pub carried_by: Option<CarriedBy>,
    /// Other jobs' queued edits our push carried, one entry per job.
    pub carried: Vec<Carried>,
    /// Queue refs older than the time budget that our push deleted.
    pub stale_removed: Vec<String>,
    /// What the last round did with our commits.
    #[serde(flatten)]
    pub work: Integrated,
    /// The conflict, when `result` is `conflict`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
    /// The server's words or the reason for giving up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Runs the loop in the current directory's repository.
pub fn run(opts: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let repo = Repo::open(opts)?;
    let scratch = crate::fs::scratch("push")?;
    let git = driver_git(&repo.root, opts, scratch.path())?;
    let mut rng = Rng::from_entropy();
    let combine = opts.combine.then(|| Combine {
        prefix: opts.queue_prefix.clone(),
        name: queue::unique_name(&opts.queue_prefix, &mut rng),
        started: queue::now(),
        mine: None,
    });
    let mut pusher = Pusher {
        opts,
        refspec: format!("refs/heads/{}", repo.branch),
        restore: Restore {
            git: &git,
            repo: &repo,
            done: false,
        },
        seen: HashMap::new(),
        calls: 0,
        combine,
        queued_as: None,
    };
    let report = pusher.rounds(started, &mut rng);
    if report.is_err() {
        // We exit with an error: a queued commit must not land after that.
        // Best effort; failing that, the entry expires with the budget.
        let _ = pusher.withdraw();
    }
    queue::clear_local(&git);
    report
}

impl Pusher<'_> {
    /// Rounds until one ends the loop, backing off between lost ones.
    fn rounds(&mut self, started: Instant, rng: &mut Rng) -> anyhow::Result<Report> {
        let (opts, repo) = (self.opts, self.restore.repo);
        let backoff = Backoff::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let lost = match self.round(attempts)? {
                Round::Over(end) => return Ok(self.report(end, attempts, started)),
                Round::Lost(lost) => lost,
            };
            let wait = backoff.delay(attempts, rng);
            let out_of = if attempts >= opts.max_attempts {
                Some(format!("the attempt cap ({})", opts.max_attempts))
            } else if started.elapsed() + wait > opts.budget {
                Some(format!("the time budget ({} s)", opts.budget.as_secs()))
            } else {
                None
            };
            if let Some(out_of) = out_of {
                // Our queued commit must not land after we said it didn't.
                if let Some(end) = self.withdraw()? {
                    return Ok(self.report(end, attempts, started));
                }
                let msg = format!(
                    "made {attempts} attempt(s) (the last {}: {}) and ran out of {out_of}",
                    lost.what(),
                    lost.reason
                );
                eprintln!(
                    "kustomerge push: {msg}; {} is unchanged",
                    repo.branch_label()
                );
                let end = End::new(Status::Exhausted, lost.tip, lost.work).message(msg);
                return Ok(self.report(end, attempts, started));
            }
            eprintln!(
                "kustomerge push: attempt {attempts}/{} {} ({}); retrying in {:.2} s",
                opts.max_attempts,
                lost.what(),
                lost.reason,
                wait.as_secs_f64()
            );
            std::thread::sleep(wait);
        }
    }

    fn report(&self, end: End, attempts: u32, started: Instant) -> Report {
        Report {
            result: end.result,
            sha: end.sha,
            attempts,
            seconds: started.elapsed().as_secs_f64(),
            server_calls: self.calls,
            queue_ref: self.queued_as.clone(),
            carried_by: end.carried_by,
            carried: end.carried,
            stale_removed: end.stale_removed,
            work: end.work,
            conflict: end.conflict,
            message: end.message,
        }
    }
}

/// What one fetch-integrate-push round ended with.
enum Round {
    /// The loop is over, one way or another.
    Over(End),
    /// Someone else's push got in first: back off and go again.
    Lost(Lost),
}

/// A finished loop, before the attempt count and time are added.
struct End {
    result: Status,
    sha: Option<String>,
    work: Integrated,
    conflict: Option<Conflict>,
    message: Option<String>,
    carried_by: Option<CarriedBy>,
    carried: Vec<Carried>,
    stale_removed: Vec<String>,
}

impl End {
    fn new(result: Status, sha: Option<String>, work: Integrated) -> Self {
        Self {
            result,
            sha,
            work,
            conflict: None,
            message: None,
            carried_by: None,
            carried: Vec::new(),
            stale_removed: Vec::new(),
        }
    }

    fn message(mut self, message: String) -> Self {
        self.message = Some(message);
        self
    }
}

/// A round to try again: a lost race or a transient fault.
struct Lost {
    /// A network or server fault rather than another writer.
    transient: bool,
    /// For the progress line: the rejection and where the branch is now.
    reason: String,
    /// The tip we built on.
    tip: Option<String>,
    /// What the round did with our commits.
    work: Integrated,
}

impl Lost {
    fn what(&self) -> &'static str {
        if self.transient {
            "hit a transient fault"
        } else {
            "lost the race"
        }
    }
}

/// The combining push's state.
struct Combine {
    /// The queue's place under `refs/heads/`.
    prefix: String,
    /// Our queue ref's name (under `refs/heads/`), chosen up front.
    name: String,
    /// When we started, in seconds since the epoch: a withdrawal written
    /// after this is a clash with us.
    started: u64,
    /// Our queue ref and the SHA we published there, while it stands.
    mine: Option<(String, String)>,
}

impl Combine {
    /// Whether our queue ref is in the queue as last fetched.
    fn still_queued(&self, git: &Git) -> bool {
        let Some((mine, _)) = &self.mine else {
            return false;
        };
        let id = mine
            .trim_start_matches("refs/heads/")
            .trim_start_matches(&self.prefix);
        git.succeeds([
            "rev-parse",
            "-q",
            "--verify",
            &format!("{}{id}", queue::LOCAL),
        ])
    }
}

/// The state the rounds share.
struct Pusher<'a> {
    opts: &'a Options,
    refspec: String,
    restore: Restore<'a>,
    /// Our commits' descriptions, by SHA.
    seen: HashMap<String, integrate::Commit>,
    /// Round trips to the server so far.
    calls: u32,
    /// `None` without `--combine` or after the host refused the queue.
    combine: Option<Combine>,
    /// The queue ref we published to, for the report.
    queued_as: Option<String>,
}

impl Pusher<'_> {
    /// One round: fetch, put our commits on the tip, push, judge a failure.
    fn round(&mut self, attempt: u32) -> anyhow::Result<Round> {
        let (git, repo) = (self.restore.git, self.restore.repo);
        let (remote, refspec) = (&self.opts.remote, &self.refspec.clone());
        let tip = match self.fetch()? {
            Fetched::Tip(tip) => Some(tip),
            Fetched::Missing => bail!(
                "{remote} has no branch {}; check --branch (push never creates a branch: a typo would deploy nowhere). To create it on purpose: git push {remote} HEAD:{refspec}",
                repo.branch
            ),
            Fetched::Transient(reason) => {
                return Ok(Round::Lost(Lost {
                    transient: true,
                    reason: format!("fetching: {reason}"),
                    tip: None,
                    work: Integrated::default(),
                }));
            }
            Fetched::Refused(msg) => {
                eprintln!("kustomerge push: fetching {remote} was refused:\n{msg}");
                if let Some(end) = self.withdraw()? {
                    return Ok(Round::Over(end));
                }
                let end = End::new(Status::Rejected, None, Integrated::default());
                return Ok(Round::Over(end.message(msg)));
            }
        };
        let mut entries = Vec::new();
        let mut combining = Combining::default();
        let work = match &tip {
            Some(tip) => {
                // A full clone shares history with its remote once and for
                // all; a shallow one must be checked against every new tip.
                if repo.shallow || attempt == 1 {
                    self.calls += ensure_merge_base(git, remote, refspec, tip, repo)?;
                }
                let commits = integrate::local_commits(git, tip, &repo.head, &mut self.seen)?;
                if let Some(lost) = self.defer(tip)? {
                    return Ok(lost);
                }
                if let Some(c) = &self.combine {
                    let mine = c.mine.as_ref().map(|(r, _)| r.as_str());
                    entries =
                        queue::read(git, &c.prefix, tip, mine, self.opts.budget, &mut self.seen)?;
                    if let Some(end) = self.carried_or_clashed(tip, &commits, &entries)? {
                        return Ok(Round::Over(end));
                    }
                }
                if commits.is_empty() {
                    if let Some(end) = self.withdraw()? {
                        return Ok(Round::Over(end));
                    }
                    self.restore.finish(tip)?;
                    eprintln!(
                        "kustomerge push: nothing to push; {remote}/{} is at {}",
                        repo.branch,
                        short(tip)
                    );
                    let end = End::new(Status::Noop, Some(tip.clone()), Integrated::default());
                    return Ok(Round::Over(end));
                }
                let mut work = match integrate::integrate(
                    git,
                    &repo.root,
                    tip,
                    &commits,
                    self.opts.no_downgrade,
                )? {
                    Ok(work) => work,
                    Err(conflict) => {
                        if let Some(end) = self.withdraw()? {
                            return Ok(Round::Over(end));
                        }
                        self.restore.undo();
                        print_conflict(&conflict, repo, remote, tip);
                        let mut end =
                            End::new(Status::Conflict, Some(tip.clone()), Integrated::default());
                        end.conflict = Some(conflict);
                        return Ok(Round::Over(end));
                    }
                };
                if self.combine.is_some() {
                    combining = self.carry(&commits, &entries, &mut work)?;
                }
                work
            }
            // The branch doesn't exist yet: the push creates it as it is.
            None => Integrated {
                head: repo.head.clone(),
                ..Integrated::default()
            },
        };
        tell_what_was_left_out(&work, remote, &repo.branch);
        if Some(&work.head) == tip.as_ref() {
            if let Some(end) = self.withdraw()? {
                return Ok(Round::Over(end));
            }
            self.restore.finish(&work.head)?;
            let already = work
                .reapplied
                .iter()
                .filter(|a| a.result == "already-set")
                .count();
            let dropped = work.rebased.iter().filter(|r| r.dropped).count();
            eprintln!(
                "kustomerge push: nothing left to push ({already} edit(s) already on {remote}/{}, {} skipped as older, {dropped} commit(s) rebased into nothing); it stays at {}",
                repo.branch,
                work.skipped.len(),
                short(&work.head)
            );
            let head = work.head.clone();
            return Ok(Round::Over(End::new(Status::Noop, Some(head), work)));
        }
        self.calls += 1;
        let said = if combining.deletions.is_empty() {
            push(git, remote, &work.head, refspec)?
        } else {
            let lease = tip.as_deref().unwrap_or_default();
            push_atomic(
                git,
                remote,
                &work.head,
                refspec,
                lease,
                &combining.deletions,
            )?
        };
        let Some(said) = said else {
            self.restore.finish(&work.head)?;
            eprintln!(
                "kustomerge push: landed {} on {remote}/{} (attempt {attempt}; {} reapplied, {} rebased, {} skipped)",
                short(&work.head),
                repo.branch,
                work.reapplied.len(),
                work.rebased.len(),
                work.skipped.len()
            );
            if !combining.carried.is_empty() || !combining.stale.is_empty() {
                eprintln!(
                    "kustomerge push: carried {} queued job(s) in the same push and deleted their queue refs{}",
                    combining.carried.len(),
                    if combining.stale.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; removed {} queue ref(s) older than the budget",
                            combining.stale.len()
                        )
                    }
                );
            }
            if let Some(c) = &mut self.combine {
                c.mine = None;
            }
            let head = work.head.clone();
            let mut end = End::new(Status::Landed, Some(head), work);
            end.carried = combining.carried;
            end.stale_removed = combining.stale;
            return Ok(Round::Over(end));
        };
        let verdict = classify::classify(&said);
        if let Verdict::Transient(reason) = verdict {
            return Ok(Round::Lost(Lost {
                transient: true,
                reason: format!("pushing: {reason}"),
                tip,
                work,
            }));
        }
        // Queue refs were part of a refused push: the host may refuse the
        // prefix rather than our branch; the loop without them will tell.
        if let (Verdict::Refused(reason), false) = (verdict, combining.deletions.is_empty()) {
            // Racing alone from now on, we must not leave our entry for
            // someone else to carry after we have given our own answer.
            if let Some(end) = self.withdraw()? {
                return Ok(Round::Over(end));
            }
            self.fall_back(reason);
            return Ok(Round::Lost(Lost {
                transient: false,
                reason: format!("the push with queue refs was refused: {reason}"),
                tip,
                work,
            }));
        }
        // A recognised race needs no second look at the ref when combining:
        // the next fetch reads it anyway, and every call counts at scale.
        let now = match verdict {
            Verdict::Refused(_) => None,
            Verdict::LostRace(_) if self.combine.is_some() => Some(None),
            _ => {
                self.calls += 1;
                remote_tip(git, remote, refspec)
            }
        };
        let moved = now.as_ref().map(|now| now.as_ref() != tip.as_ref());
        if classify::decide(verdict, moved) == Decision::Reject {
            let msg = classify::server_message(&said);
            let why = match (verdict, moved) {
                (Verdict::Refused(reason), _) => reason,
                (_, Some(false)) => "unrecognised, and the branch did not move",
                _ => "unrecognised, and the branch could not be read again",
            };
            eprintln!("kustomerge push: {remote} rejected the push ({why}); not retrying:\n{msg}");
            if let Some(end) = self.withdraw()? {
                return Ok(Round::Over(end));
            }
            return Ok(Round::Over(
                End::new(Status::Rejected, tip, work).message(msg),
            ));
        }
        let reason = match (verdict, now.flatten()) {
            (Verdict::LostRace(r), Some(now)) => {
                format!("{r}; {} is now at {}", repo.branch, short(&now))
            }
            (Verdict::LostRace(r), None) => r.to_owned(),
            (_, Some(now)) => format!(
                "unrecognised rejection, but {} moved to {}",
                repo.branch,
                short(&now)
            ),
            (_, None) => "unrecognised rejection".to_owned(),
        };
        self.enqueue(tip.as_deref())?;
        Ok(Round::Lost(Lost {
            transient: false,
            reason,
            tip,
            work,
        }))
    }
}

/// What the combining push adds to a round that lands.
#[derive(Default)]
struct Combining {
    /// Queue refs the push deletes, each under a lease on its SHA.
    deletions: Vec<(String, String)>,
    /// The entries carried.
    carried: Vec<Carried>,
    /// The stale refs deleted.
    stale: Vec<String>,
}

impl Pusher<'_> {
    /// Fetches the branch, and with combining the whole queue too: one call.
    fn fetch(&mut self) -> anyhow::Result<Fetched> {
        self.calls += 1;
        let (git, remote) = (self.restore.git, &self.opts.remote);
        match &self.combine {
            None => fetch(
                git,
                remote,
                std::slice::from_ref(&self.refspec),
                "FETCH_HEAD",
            ),
            Some(c) => fetch(
                git,
                remote,
                &[
                    format!("+{}:{}", self.refspec, queue::LOCAL_TIP),
                    queue::refspec(&c.prefix),
                ],
                queue::LOCAL_TIP,
            ),
        }
    }

    /// A queued job lets the jobs queued before it push and carry it, rather
    /// than build and push a carry of the whole queue that most likely
    /// loses: with every queued job carrying, each round's work grows with
    /// the queue and the jobs crowd the CPU and the server. It waits only on
    /// jobs queued less than [`queue::LEAD`] ago, so a crashed one holds no
    /// one up for long. Carried or clashing, we still find out: the round
    /// after the wait reads the branch and the queue again.
    fn defer(&mut self, tip: &str) -> anyhow::Result<Option<Round>> {
        let git = self.restore.git;
        let Some(c) = &self.combine else {
            return Ok(None);
        };
        let Some((mine, _)) = &c.mine else {
            return Ok(None);
        };
        if !c.still_queued(git) {
            return Ok(None);
        }
        let ahead = queue::leaders(git, &c.prefix, mine)?;
        if ahead == 0 {
            return Ok(None);
        }
        Ok(Some(Round::Lost(Lost {
            transient: false,
            reason: format!("queued behind {ahead} job(s) that push for us; waiting to be carried"),
            tip: Some(tip.to_owned()),
            work: Integrated::default(),
        })))
    }

    /// Ends the round when our commits are on the branch, carried by another
    /// job, or when they clash with a queued job's (exit 4 for both owners).
    fn carried_or_clashed(
        &mut self,
        tip: &str,
        commits: &[integrate::Commit],
        entries: &[queue::Entry],
    ) -> anyhow::Result<Option<End>> {
        let (git, repo) = (self.restore.git, self.restore.repo);
        let (remote, branch) = (&self.opts.remote, &repo.branch);
        let Some(c) = &mut self.combine else {
            return Ok(None);
        };
        if let Some((mine, _)) = &c.mine
            && !c.still_queued(git)
        {
            if let Some(by) = queue::carried(git, tip, &repo.head, commits)? {
                c.mine = None;
                self.restore.finish(tip)?;
                eprintln!(
                    "kustomerge push: carried: {} (committed by {}) holds our edits on {remote}/{branch}, which is at {}; nothing left to do",
                    short(&by.commit),
                    by.committer,
                    short(tip)
                );
                let mut end =
                    End::new(Status::Carried, Some(tip.to_owned()), Integrated::default());
                end.carried_by = Some(by);
                return Ok(Some(end));
            }
            // Deleted without our edits landing as a commit of their own:
            // they were already there, skipped by the carrier's
            // --no-downgrade, or the ref expired under a shorter budget.
            // Our own round judges them now.
            eprintln!(
                "kustomerge push: our queue ref {mine} is gone and no commit on {remote}/{branch} carries our edits; going on without it"
            );
            c.mine = None;
        }
        let clashes = queue::clashes(commits, entries, c.started, self.opts.same_image);
        if clashes.is_empty() {
            return Ok(None);
        }
        let why = clashes
            .iter()
            .map(|x| x.detail.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        // The other owner must see the clash too: our entry stays, as a
        // withdrawal nothing can carry, and expires with the budget.
        let (name, lease) = match c.mine.take() {
            Some((r, sha)) => (r, sha),
            None => (format!("refs/heads/{}", c.name), String::new()),
        };
        let withdrawal = queue::withdrawal(git, &repo.head, &why)?;
        self.calls += 1;
        if let Some(said) = push_leased(git, remote, &withdrawal, &name, &lease)? {
            eprintln!(
                "kustomerge push: could not publish the withdrawal to {name}: {}",
                classify::server_message(&said)
            );
        } else {
            self.queued_as = Some(name);
        }
        self.restore.undo();
        let first = commits
            .first()
            .map_or(String::new(), |c| format!("{} {}", c.sha, c.subject));
        let conflict = Conflict {
            commit: first,
            files: clashes
                .iter()
                .map(|x| integrate::ConflictFile {
                    path: x.path.clone(),
                    keys: vec![x.key.clone()],
                })
                .collect(),
            details: clashes.iter().map(|x| x.detail.clone()).collect(),
        };
        eprintln!(
            "kustomerge push: conflict: another job in flight sets the same entry to something else, so neither is carried:"
        );
        for x in &clashes {
            eprintln!("  {}: {}", x.path, x.detail);
        }
        eprintln!(
            "kustomerge push: {} is untouched; decide which version ships, then push again",
            repo.branch_label()
        );
        let mut end = End::new(
            Status::Conflict,
            Some(tip.to_owned()),
            Integrated::default(),
        );
        end.conflict = Some(conflict);
        Ok(Some(end))
    }

    /// Carries every carriable queued entry onto `work`, one commit per job,
    /// and lists the refs the push must delete.
    fn carry(
        &mut self,
        commits: &[integrate::Commit],
        entries: &[queue::Entry],
        work: &mut Integrated,
    ) -> anyhow::Result<Combining> {
        let (git, repo) = (self.restore.git, self.restore.repo);
        let mut out = Combining::default();
        for entry in entries {
            if matches!(entry.kind, queue::Kind::Stale | queue::Kind::Landed) {
                out.deletions
                    .push((entry.remote_ref.clone(), entry.sha.clone()));
                if matches!(entry.kind, queue::Kind::Stale) {
                    out.stale.push(entry.remote_ref.clone());
                }
            }
            if let queue::Kind::Unprovable(why) = &entry.kind {
                eprintln!(
                    "kustomerge push: not carrying {}: {why} changes more than its recorded edits; its owner pushes it",
                    entry.remote_ref
                );
            }
        }
        let carriable = queue::carriable(commits, entries, self.opts.same_image);
        let jobs: Vec<&[integrate::Commit]> = carriable
            .iter()
            .map(|e| match &e.kind {
                queue::Kind::Live(theirs) => theirs.as_slice(),
                _ => &[],
            })
            .collect();
        let results = integrate::carry_all(git, &repo.root, &jobs, self.opts.no_downgrade)?;
        for (entry, result) in carriable.into_iter().zip(results) {
            match result {
                Ok(done) => {
                    work.head = done.head;
                    out.deletions
                        .push((entry.remote_ref.clone(), entry.sha.clone()));
                    out.carried.push(Carried {
                        queue_ref: entry.remote_ref.clone(),
                        edits: done.reapplied.into_iter().chain(done.skipped).collect(),
                    });
                }
                Err(conflict) => eprintln!(
                    "kustomerge push: not carrying {}: {}",
                    entry.remote_ref,
                    conflict.details.join("; ")
                ),
            }
        }
        if let Some(c) = &self.combine
            && let Some((r, sha)) = &c.mine
        {
            out.deletions.push((r.clone(), sha.clone()));
        }
        Ok(out)
    }

    /// After a lost race: publishes our commit, unchanged, to our queue ref,
    /// when it may be carried at all.
    fn enqueue(&mut self, tip: Option<&str>) -> anyhow::Result<()> {
        let (git, repo) = (self.restore.git, self.restore.repo);
        let Some(c) = &self.combine else {
            return Ok(());
        };
        if c.mine.is_some() {
            return Ok(());
        }
        let Some(tip) = tip else { return Ok(()) };
        let ours = integrate::local_commits(git, tip, &repo.head, &mut self.seen)?;
        // Only commits whose whole change is their recorded edits may be
        // carried; anything else keeps racing on its own, as before.
        if ours.is_empty() || ours.iter().any(|c| c.merge || c.edits.is_none()) {
            return Ok(());
        }
        let name = format!("refs/heads/{}", c.name);
        self.calls += 1;
        match push_leased(git, &self.opts.remote, &repo.head, &name, "")? {
            None => {
                eprintln!(
                    "kustomerge push: queued as {name}; whoever lands next carries our edits"
                );
                self.queued_as = Some(name.clone());
                if let Some(c) = &mut self.combine {
                    c.mine = Some((name, repo.head.clone()));
                }
            }
            Some(said) => match classify::classify(&said) {
                Verdict::Refused(reason) => self.fall_back(reason),
                // A fault on the way: the next lost race tries again.
                _ => eprintln!(
                    "kustomerge push: could not queue as {name} this time: {}",
                    classify::server_message(&said)
                ),
            },
        }
        Ok(())
    }

    /// The host refuses the queue: race on our own from now on, as
    /// `--no-combine` does, and say so once.
    fn fall_back(&mut self, reason: &str) {
        if let Some(c) = self.combine.take() {
            eprintln!(
                "kustomerge push: {} refuses refs/heads/{}* ({reason}); falling back to pushing on our own, as with --no-combine",
                self.opts.remote, c.prefix
            );
        }
    }

    /// Deletes our queue ref, under a lease, when the loop ends without our
    /// push landing. If it is already gone, another job may have carried us:
    /// one more fetch says, and then the loop ends as carried.
    fn withdraw(&mut self) -> anyhow::Result<Option<End>> {
        let Some((name, sha)) = self.combine.as_mut().and_then(|c| c.mine.take()) else {
            return Ok(None);
        };
        let (git, repo) = (self.restore.git, self.restore.repo);
        self.calls += 1;
        if push_leased(git, &self.opts.remote, "", &name, &sha)?.is_none() {
            eprintln!("kustomerge push: deleted our queue ref {name}");
            return Ok(None);
        }
        let Fetched::Tip(tip) = self.fetch()? else {
            return Ok(None);
        };
        let ours = integrate::local_commits(git, &tip, &repo.head, &mut self.seen)?;
        let Some(by) = queue::carried(git, &tip, &repo.head, &ours)? else {
            eprintln!(
                "kustomerge push: our queue ref {name} could not be deleted and holds what it held"
            );
            return Ok(None);
        };
        self.restore.finish(&tip)?;
        eprintln!(
            "kustomerge push: carried at the last moment: {} (committed by {}) holds our edits",
            short(&by.commit),
            by.committer
        );
        let mut end = End::new(Status::Carried, Some(tip), Integrated::default());
        end.carried_by = Some(by);
        Ok(Some(end))
    }
}

/// The repository as it was when `push` started.
#[derive(Debug)]
struct Repo {
    root: PathBuf,
    /// The checked-out local branch, if HEAD is not detached.
    local: Option<String>,
    /// The remote branch pushed to.
    branch: String,
    /// HEAD at the start: our commits end here.
    head: String,
    /// A shallow clone, whose boundary may hide the merge base.
    shallow: bool,
}

impl Repo {
    /// Finds the repository and checks what would make the loop fail halfway
    /// (missing identity, a dirty tree, an operation in progress) up front.
    fn open(opts: &Options) -> anyhow::Result<Self> {
        let root = Git::new()
            .run(["rev-parse", "--show-toplevel"])
            .context("kustomerge push must run inside a git work tree")?;
        let git = Git::in_dir(&root).with_env("LC_ALL", "C");
        if let Some(op) = git.operation_in_progress()? {
            bail!("a {op} is in progress in {root}; finish or abort it before pushing");
        }
        let dirty = git.run(["status", "--porcelain", "--untracked-files=no"])?;
        if !dirty.is_empty() {
            bail!(
                "the work tree has uncommitted changes; commit them (e.g. `kustomerge set-image --commit`) or stash them before pushing:\n{dirty}"
            );
        }
        if let Some(who) = git.missing_identity() {
            bail!(
                "git has no {who} identity, and reapplying or rebasing commits needs one; set user.name and user.email (or GIT_AUTHOR_NAME/EMAIL and GIT_COMMITTER_NAME/EMAIL) for the whole job"
            );
        }
        check_remote(&git, &opts.remote)?;
        let local = git
            .run(["symbolic-ref", "-q", "--short", "HEAD"])
            .ok()
            .filter(|b| !b.is_empty());
        let branch = match (&opts.branch, &local) {
            (Some(b), _) | (None, Some(b)) => b.clone(),
            (None, None) => {
                bail!("HEAD is detached; pass --branch to say which remote branch to push to")
            }
        };
        let head = git
            .run(["rev-parse", "--verify", "HEAD^{commit}"])
            .context("the repository has no commits to push")?;
        let shallow = git.run(["rev-parse", "--is-shallow-repository"])? == "true";
        Ok(Self {
            root: PathBuf::from(root),
            local,
            branch,
            head,
            shallow,
        })
    }

    fn branch_label(&self) -> String {
        match &self.local {
            Some(b) => format!("branch {b} (at {})", short(&self.head)),
            None => format!("HEAD (at {})", short(&self.head)),
        }
    }
}

/// Refuses a remote that is neither a configured name nor a URL or path:
/// `--remote orign` is a usage error to fix, not a server's refusal.
fn check_remote(git: &Git, remote: &str) -> anyhow::Result<()> {
    let names = git.run(["remote"])?;
    if names.lines().any(|n| n == remote) {
        return Ok(());
    }
    // What git itself would take as a URL or a path.
    if remote.contains([':', '/']) || Path::new(remote).exists() {
        return Ok(());
    }
    let known: Vec<&str> = names.lines().collect();
    bail!(
        "there is no remote named {remote:?} (this clone has: {}); pass --remote with one of them or a URL",
        if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        }
    )
}

/// Puts the user's branch back unless the push finished: aborts a rebase in
/// progress and checks the original branch (or detached HEAD) out again.
struct Restore<'a> {
    git: &'a Git,
    repo: &'a Repo,
    done: bool,
}

impl Restore<'_> {
    /// Success: moves the local branch to `head` (what the remote now has).
    fn finish(&mut self, head: &str) -> anyhow::Result<()> {
        self.done = true;
        match &self.repo.local {
            Some(b) => self.git.run(["checkout", "-q", "-B", b, head])?,
            None => self.git.run(["checkout", "-q", "--detach", head])?,
        };
        Ok(())
    }

    /// Failure: aborts any rebase and checks the original state out again.
    fn undo(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let back = integrate::abort_rebase(self.git).and_then(|()| {
            match &self.repo.local {
                Some(b) => self.git.run(["checkout", "-q", "-f", b]),
                None => self
                    .git
                    .run(["checkout", "-q", "-f", "--detach", &self.repo.head]),
            }
            .map(drop)
        });
        if let Err(err) = back {
            eprintln!(
                "kustomerge push: could not restore {}: {err:#}",
                self.repo.branch_label()
            );
        }
    }
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        self.undo();
    }
}

/// A git runner for the repository with the merge driver active.
fn driver_git(root: &Path, opts: &Options, scratch: &Path) -> anyhow::Result<Git> {
    let attributes = scratch.join("attributes");
    let lines: String = crate::setup::attribute_lines()
        .map(|line| line + "\n")
        .collect();
    std::fs::write(&attributes, lines)
        .with_context(|| format!("could not write {}", attributes.display()))?;
    let attributes = attributes
        .to_str()
        .context("the temp directory's path is not UTF-8")?;
    let line = DriverLine {
        program: opts
            .exe
            .to_str()
            .context("the kustomerge binary's path is not UTF-8")?
            .to_owned(),
        policy: opts.same_image,
    };
    Ok(Git::in_dir(root)
        .with_config(driver::KEY, &line.to_string())
        .with_config("core.attributesFile", attributes)
        // The apply backend calls drivers only when a patch fails to apply.
        .with_config("rebase.backend", "merge")
        .with_config("rebase.autoStash", "false")
        .with_config("rebase.updateRefs", "false")
        // Background maintenance after each fetch and commit would compete
        // for the CPU inside the window a race is lost in.
        .with_config("maintenance.auto", "false")
        .with_config("gc.auto", "0")
        // Rejections are classified by their English text.
        .with_env("LC_ALL", "C"))
}

enum Fetched {
    Tip(String),
    /// The remote has no such branch.
    Missing,
    /// Worth trying again: the reason.
    Transient(&'static str),
    Refused(String),
}

/// Fetches `refspecs` (the branch first) and reads the tip from `tip_ref`:
/// `FETCH_HEAD`, or the local ref the first refspec names.
///
/// Never with `--depth`: in a shallow clone a plain fetch stops at the
/// existing boundary, so our commits keep a merge base with the tip, whereas
/// `--depth=1` cuts it off, and git would merge with no base at all.
fn fetch(git: &Git, remote: &str, refspecs: &[String], tip_ref: &str) -> anyhow::Result<Fetched> {
    let mut args = vec!["fetch", "-q", "--no-tags", "--no-recurse-submodules"];
    // `--prune` drops the local copies of queue refs deleted on the remote,
    // and only those: it applies to the command line's refspecs.
    if tip_ref != "FETCH_HEAD" {
        args.push("--prune");
    }
    args.push(remote);
    args.extend(refspecs.iter().map(String::as_str));
    let out = git.output(&args)?;
    let refspec = refspecs.first().map_or("", String::as_str);
    let said = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return Ok(Fetched::Tip(git.run([
            "rev-parse",
            "--verify",
            &format!("{tip_ref}^{{commit}}"),
        ])?));
    }
    if said.contains("couldn't find remote ref") {
        return Ok(Fetched::Missing);
    }
    // A misspelt remote name reads as a path that is no repository; the
    // name was checked up front, so this is a URL or path that is wrong.
    if said.contains("does not appear to be a git repository") {
        bail!("{remote} is not a git repository: {}", said.trim());
    }
    match classify::classify(&said) {
        Verdict::Refused(_) => Ok(Fetched::Refused(classify::server_message(&said))),
        Verdict::Transient(reason) => Ok(Fetched::Transient(reason)),
        _ => bail!("git fetch {remote} {refspec} failed: {}", said.trim()),
    }
}

/// Makes sure the tip and our head share history, deepening a shallow clone
/// whose boundary is too recent (after an earlier fetch with `--depth`, say).
/// Returns the fetches it made.
fn ensure_merge_base(
    git: &Git,
    remote: &str,
    refspec: &str,
    tip: &str,
    repo: &Repo,
) -> anyhow::Result<u32> {
    let related = || git.succeeds(["merge-base", tip, &repo.head]);
    let mut calls = 0;
    if repo.shallow {
        for deepen in ["--deepen=50", "--deepen=500", "--unshallow"] {
            if related() {
                return Ok(calls);
            }
            calls += 1;
            git.run(["fetch", "-q", "--no-tags", deepen, remote, refspec])
                .context("could not deepen the shallow clone to find a merge base")?;
        }
    }
    if related() {
        return Ok(calls);
    }
    bail!(
        "{remote} {refspec} ({}) and HEAD ({}) share no history",
        short(tip),
        short(&repo.head)
    )
}

/// Pushes `head` to the branch; `None` on success, else what git said.
fn push(git: &Git, remote: &str, head: &str, refspec: &str) -> anyhow::Result<Option<String>> {
    said(&git.output(["push", "--porcelain", remote, &format!("{head}:{refspec}")])?)
}

/// Pushes the branch and the queue refs' deletions in one atomic push, each
/// ref under a lease: the branch must still be at `tip` and each queue ref at
/// the SHA we carried, or nothing changes at all. `None` on success.
fn push_atomic(
    git: &Git,
    remote: &str,
    head: &str,
    refspec: &str,
    tip: &str,
    deletions: &[(String, String)],
) -> anyhow::Result<Option<String>> {
    let mut args = vec![
        "push".to_owned(),
        "--porcelain".to_owned(),
        "--atomic".to_owned(),
        format!("--force-with-lease={refspec}:{tip}"),
    ];
    args.extend(
        deletions
            .iter()
            .map(|(r, sha)| format!("--force-with-lease={r}:{sha}")),
    );
    args.push(remote.to_owned());
    args.push(format!("{head}:{refspec}"));
    args.extend(deletions.iter().map(|(r, _)| format!(":{r}")));
    said(&git.output(&args)?)
}

/// Sets (or, with an empty `sha`, deletes) one ref under a lease: `expect`
/// is the SHA it must hold, or empty for "must not exist". `None` on success.
fn push_leased(
    git: &Git,
    remote: &str,
    sha: &str,
    name: &str,
    expect: &str,
) -> anyhow::Result<Option<String>> {
    said(&git.output([
        "push",
        "--porcelain",
        &format!("--force-with-lease={name}:{expect}"),
        remote,
        &format!("{sha}:{name}"),
    ])?)
}

/// A push's outcome: `None` on success, else what git said.
fn said(out: &std::process::Output) -> anyhow::Result<Option<String>> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    // `--porcelain` prints `!` for a rejected ref; older gits exited 0 anyway.
    let rejected = stdout.lines().any(|l| l.starts_with('!'));
    if out.status.success() && !rejected {
        return Ok(None);
    }
    Ok(Some(format!(
        "{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    )))
}

/// The remote branch's SHA now: `Some(None)` when it doesn't exist, `None`
/// when the remote can't be read.
fn remote_tip(git: &Git, remote: &str, refspec: &str) -> Option<Option<String>> {
    let listed = git.run(["ls-remote", remote, refspec]).ok()?;
    Some(listed.lines().find_map(|l| {
        l.split_once('\t')
            .filter(|(_, r)| *r == refspec)
            .map(|(sha, _)| sha.to_owned())
    }))
}

/// Says which of our commits or edits will not reach the remote, and why:
/// a pipeline that "succeeded" without its change must say so in its log.
fn tell_what_was_left_out(work: &Integrated, remote: &str, branch: &str) {
    for skip in &work.skipped {
        eprintln!(
            "kustomerge push: skipped: {} on {remote}/{branch} (--no-downgrade); {} is not applied",
            skip.reason.as_deref().unwrap_or("a newer version is there"),
            skip.trailer
        );
    }
    for gone in work.rebased.iter().filter(|r| r.dropped) {
        eprintln!(
            "kustomerge push: {} {} rebased into nothing: its change is already on {remote}/{branch}",
            short(&gone.commit),
            gone.subject
        );
    }
}

fn print_conflict(conflict: &Conflict, repo: &Repo, remote: &str, tip: &str) {
    eprintln!(
        "kustomerge push: conflict: {} does not apply on {remote}/{} ({}):",
        conflict.commit,
        repo.branch,
        short(tip)
    );
    for file in &conflict.files {
        if file.keys.is_empty() {
            eprintln!("  {}", file.path);
        } else {
            eprintln!("  {}: {}", file.path, file.keys.join(", "));
        }
    }
    for line in &conflict.details {
        eprintln!("  {line}");
    }
    eprintln!(
        "kustomerge push: the rebase was aborted and {} is untouched; resolve with `git pull --rebase {remote} {}`, then push again",
        repo.branch_label(),
        repo.branch
    );
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}
