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
pub mod race;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::cli::SameImagePolicy;
use crate::driver::{self, DriverLine};
use crate::git::Git;
use crate::kustomization::FILE_NAMES;
use backoff::{Backoff, Rng};
use classify::{Decision, Verdict};
use integrate::{Conflict, Integrated};

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
}

/// How the push ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Our commits are on the remote branch.
    Landed,
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
            Self::Landed | Self::Noop => crate::exit::SUCCESS,
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
    let scratch = Scratch::new("push")?;
    let git = driver_git(&repo.root, opts, scratch.path())?;
    let mut pusher = Pusher {
        opts,
        refspec: format!("refs/heads/{}", repo.branch),
        restore: Restore {
            git: &git,
            repo: &repo,
            done: false,
        },
        seen: HashMap::new(),
    };
    let mut rng = Rng::from_entropy();
    let backoff = Backoff::default();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let lost = match pusher.round(attempts)? {
            Round::Over(end) => return Ok(end.report(attempts, started)),
            Round::Lost(lost) => lost,
        };
        let wait = backoff.delay(attempts, &mut rng);
        let out_of = if attempts >= opts.max_attempts {
            Some(format!("the attempt cap ({})", opts.max_attempts))
        } else if started.elapsed() + wait > opts.budget {
            Some(format!("the time budget ({} s)", opts.budget.as_secs()))
        } else {
            None
        };
        if let Some(out_of) = out_of {
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
            return Ok(end.report(attempts, started));
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
}

impl End {
    fn new(result: Status, sha: Option<String>, work: Integrated) -> Self {
        Self {
            result,
            sha,
            work,
            conflict: None,
            message: None,
        }
    }

    fn message(mut self, message: String) -> Self {
        self.message = Some(message);
        self
    }

    fn report(self, attempts: u32, started: Instant) -> Report {
        Report {
            result: self.result,
            sha: self.sha,
            attempts,
            seconds: started.elapsed().as_secs_f64(),
            work: self.work,
            conflict: self.conflict,
            message: self.message,
        }
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

/// The state the rounds share.
struct Pusher<'a> {
    opts: &'a Options,
    refspec: String,
    restore: Restore<'a>,
    /// Our commits' descriptions, by SHA.
    seen: HashMap<String, integrate::Commit>,
}

impl Pusher<'_> {
    /// One round: fetch, put our commits on the tip, push, judge a failure.
    fn round(&mut self, attempt: u32) -> anyhow::Result<Round> {
        let (git, repo) = (self.restore.git, self.restore.repo);
        let (remote, refspec) = (&self.opts.remote, &self.refspec);
        let tip = match fetch(git, remote, refspec)? {
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
                let end = End::new(Status::Rejected, None, Integrated::default());
                return Ok(Round::Over(end.message(msg)));
            }
        };
        let work = match &tip {
            Some(tip) => {
                // A full clone shares history with its remote once and for
                // all; a shallow one must be checked against every new tip.
                if repo.shallow || attempt == 1 {
                    ensure_merge_base(git, remote, refspec, tip, repo)?;
                }
                let commits = integrate::local_commits(git, tip, &repo.head, &mut self.seen)?;
                if commits.is_empty() {
                    self.restore.finish(tip)?;
                    eprintln!(
                        "kustomerge push: nothing to push; {remote}/{} is at {}",
                        repo.branch,
                        short(tip)
                    );
                    let end = End::new(Status::Noop, Some(tip.clone()), Integrated::default());
                    return Ok(Round::Over(end));
                }
                match integrate::integrate(git, &repo.root, tip, &commits, self.opts.no_downgrade)?
                {
                    Ok(work) => work,
                    Err(conflict) => {
                        self.restore.undo();
                        print_conflict(&conflict, repo, remote, tip);
                        let mut end =
                            End::new(Status::Conflict, Some(tip.clone()), Integrated::default());
                        end.conflict = Some(conflict);
                        return Ok(Round::Over(end));
                    }
                }
            }
            // The branch doesn't exist yet: the push creates it as it is.
            None => Integrated {
                head: repo.head.clone(),
                ..Integrated::default()
            },
        };
        tell_what_was_left_out(&work, remote, &repo.branch);
        if Some(&work.head) == tip.as_ref() {
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
        let Some(said) = push(git, remote, &work.head, refspec)? else {
            self.restore.finish(&work.head)?;
            eprintln!(
                "kustomerge push: landed {} on {remote}/{} (attempt {attempt}; {} reapplied, {} rebased, {} skipped)",
                short(&work.head),
                repo.branch,
                work.reapplied.len(),
                work.rebased.len(),
                work.skipped.len()
            );
            let head = work.head.clone();
            return Ok(Round::Over(End::new(Status::Landed, Some(head), work)));
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
        let now = match verdict {
            Verdict::Refused(_) => None,
            _ => remote_tip(git, remote, refspec),
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
        Ok(Round::Lost(Lost {
            transient: false,
            reason,
            tip,
            work,
        }))
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
    let lines: String = FILE_NAMES
        .iter()
        .map(|n| format!("{n} merge={}\n", driver::NAME))
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

/// Fetches the remote branch into `FETCH_HEAD`.
///
/// Never with `--depth`: in a shallow clone a plain fetch stops at the
/// existing boundary, so our commits keep a merge base with the tip, whereas
/// `--depth=1` cuts it off (git-merge-driver-contract.md §9).
fn fetch(git: &Git, remote: &str, refspec: &str) -> anyhow::Result<Fetched> {
    let out = git.output([
        "fetch",
        "-q",
        "--no-tags",
        "--no-recurse-submodules",
        remote,
        refspec,
    ])?;
    let said = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return Ok(Fetched::Tip(git.run([
            "rev-parse",
            "--verify",
            "FETCH_HEAD^{commit}",
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
fn ensure_merge_base(
    git: &Git,
    remote: &str,
    refspec: &str,
    tip: &str,
    repo: &Repo,
) -> anyhow::Result<()> {
    let related = || git.succeeds(["merge-base", tip, &repo.head]);
    if repo.shallow {
        for deepen in ["--deepen=50", "--deepen=500", "--unshallow"] {
            if related() {
                return Ok(());
            }
            git.run(["fetch", "-q", "--no-tags", deepen, remote, refspec])
                .context("could not deepen the shallow clone to find a merge base")?;
        }
    }
    if related() {
        return Ok(());
    }
    bail!(
        "{remote} {refspec} ({}) and HEAD ({}) share no history",
        short(tip),
        short(&repo.head)
    )
}

/// Pushes `head` to the branch; `None` on success, else what git said.
fn push(git: &Git, remote: &str, head: &str, refspec: &str) -> anyhow::Result<Option<String>> {
    let out = git.output(["push", "--porcelain", remote, &format!("{head}:{refspec}")])?;
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

/// A private temp directory, removed on drop.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates `$TMPDIR/kustomerge-<what>-<pid>-<nanos>`.
    pub fn new(what: &str) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("kustomerge-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
        Ok(Self(dir))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
