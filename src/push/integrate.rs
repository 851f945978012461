//! Step 2 of the loop: put our commits on the freshly fetched tip.
//!
//! A commit made by `set-image --commit` (or `set-replicas --commit`) records
//! its edit as a trailer, so instead of merging it we redo the edit on the new
//! tip. That can't conflict, survives other writers reformatting the file, and
//! lets `--no-downgrade` judge against what is really there now. Every other
//! commit (a human's, a bot's, a multi-file change) is rebased with the merge
//! driver active, which is the only way to combine edits we don't understand.
//!
//! Commits are carried over in their original order, one run at a time, so a
//! reapplied edit never jumps ahead of a commit it was made on top of. The
//! work happens on a detached HEAD: the user's branch only moves once the push
//! has landed (see `Restore` in the parent module).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::commands::set_image::{IMAGE_TRAILER, REPLICAS_TRAILER, Reapplied, reapply};
use crate::git::Git;

/// Trailers that `set-image --commit` and `set-replicas --commit` write.
pub const TRAILER_KEYS: [&str; 2] = [IMAGE_TRAILER, REPLICAS_TRAILER];

/// One edit recorded in a commit trailer: `Key: <path> <arg>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The trailer key, e.g. `Kustomerge-Set-Image`.
    pub key: String,
    /// The trailer value, `<path> <arg>`.
    pub value: String,
}

impl Edit {
    /// The file the edit applies to, relative to the repository root. The
    /// argument never holds a space (`--commit` refuses one), so the path is
    /// everything before the last one, spaces included.
    fn path(&self) -> &str {
        self.value.rsplit_once(' ').map_or("", |(p, _)| p.trim())
    }
}

impl std::fmt::Display for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.value)
    }
}

/// One local commit not yet on the remote branch.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Full SHA.
    pub sha: String,
    /// First line of the message.
    pub subject: String,
    /// More than one parent.
    pub merge: bool,
    /// The recorded edits, when the commit touches nothing but their files.
    pub edits: Option<Vec<Edit>>,
}

/// Our commits between `tip` and `head`, oldest first. Descriptions are
/// kept in `seen` across attempts: a commit's trailers and files don't
/// change, and every git call saved shortens the window a race is lost in.
pub fn local_commits(
    git: &Git,
    tip: &str,
    head: &str,
    seen: &mut HashMap<String, Commit>,
) -> anyhow::Result<Vec<Commit>> {
    let list = git.run([
        "rev-list",
        "--reverse",
        "--topo-order",
        "--parents",
        &format!("{tip}..{head}"),
    ])?;
    list.lines()
        .map(|line| {
            let mut shas = line.split(' ');
            let sha = shas.next().unwrap_or_default().to_owned();
            let parents = shas.count();
            if let Some(known) = seen.get(&sha) {
                return Ok(known.clone());
            }
            let commit = describe(git, sha, parents)?;
            seen.insert(commit.sha.clone(), commit.clone());
            Ok(commit)
        })
        .collect()
}

fn describe(git: &Git, sha: String, parents: usize) -> anyhow::Result<Commit> {
    let shown = git.run(["show", "-s", "--format=%s%x00%(trailers:only,unfold)", &sha])?;
    let (subject, trailers) = shown.split_once('\0').unwrap_or((&shown, ""));
    let edits: Vec<Edit> = trailers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(k, v)| {
            let key = TRAILER_KEYS
                .iter()
                .find(|t| t.eq_ignore_ascii_case(k.trim()))?;
            Some(Edit {
                key: (*key).to_owned(),
                value: v.trim().to_owned(),
            })
        })
        .collect();
    // Reapplying is only faithful when the recorded edits are the commit's
    // whole change; anything else it did (a label added to the same file
    // before `set-image --commit` committed it) would be dropped. So such a
    // commit is rebased through the driver instead.
    let reapplicable =
        parents == 1 && !edits.is_empty() && edits_are_the_whole_change(git, &sha, &edits)?;
    Ok(Commit {
        subject: subject.to_owned(),
        merge: parents > 1,
        edits: reapplicable.then_some(edits),
        sha,
    })
}

/// Whether redoing `edits` on the parent of `sha` gives exactly the tree of
/// `sha`: the same files changed, each with the same mode and, byte for
/// byte, the same content. Anything less and reapplying would lose part of
/// the commit (issue 12: a label added in the same file vanished).
pub(crate) fn edits_are_the_whole_change(
    git: &Git,
    sha: &str,
    edits: &[Edit],
) -> anyhow::Result<bool> {
    // `-z` keeps paths raw: `:<mode> <mode> <blob> <blob> <status>\0<path>\0`.
    let out = git.output([
        "diff-tree",
        "--no-commit-id",
        "-r",
        "--no-renames",
        "-z",
        sha,
    ])?;
    if !out.status.success() {
        bail!(
            "git diff-tree {sha} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let raw = String::from_utf8_lossy(&out.stdout);
    let mut fields = raw.split('\0');
    let mut changed: Vec<(String, String, String)> = Vec::new();
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let meta: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, old_blob, new_blob, status] = meta[..] else {
            return Ok(false);
        };
        // Only a modified file can be the result of an edit: not one added,
        // deleted or changed in mode.
        if status != "M" || old_mode != new_mode || !edits.iter().any(|e| e.path() == path) {
            return Ok(false);
        }
        changed.push((path.to_owned(), old_blob.to_owned(), new_blob.to_owned()));
    }
    // An edit whose file the commit did not change would be redone on the
    // tip all the same.
    if !edits
        .iter()
        .all(|e| changed.iter().any(|(p, ..)| p == e.path()))
    {
        return Ok(false);
    }
    let scratch = super::Scratch::new("reapply-check")?;
    for (path, old_blob, _) in &changed {
        let file = scratch.path().join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        std::fs::write(&file, git.blob(old_blob)?)
            .with_context(|| format!("could not write {}", file.display()))?;
    }
    for edit in edits {
        if reapply(scratch.path(), &edit.key, &edit.value, false, false).is_err() {
            return Ok(false);
        }
    }
    for (path, _, new_blob) in &changed {
        let redone = std::fs::read(scratch.path().join(path))
            .with_context(|| format!("could not read back {path}"))?;
        if redone != git.blob(new_blob)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A reapplied (or skipped) recorded edit, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The original commit.
    pub commit: String,
    /// The trailer, `Key: <path> <arg>`.
    pub trailer: String,
    /// `changed`, `already-set` or `skipped-newer`.
    pub result: &'static str,
    /// For `skipped-newer`: `` `api` 1.5.0 is older than 2.0.0 ``.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A commit carried over by rebasing, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Rebased {
    /// The original commit.
    pub commit: String,
    /// Its subject line.
    pub subject: String,
    /// The rebase left it out: its change is already on the tip.
    pub dropped: bool,
}

/// A file left conflicted, with the keys the conflict markers surround.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictFile {
    /// Path relative to the repository root.
    pub path: String,
    /// Top-level keys and `list[name]` entries inside conflict regions.
    pub keys: Vec<String>,
}

/// Why our commits could not be put on the tip.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// The commit that did not apply, `<sha> <subject>`.
    pub commit: String,
    /// The conflicted files.
    pub files: Vec<ConflictFile>,
    /// What git and the driver said (CONFLICT lines, driver messages).
    pub details: Vec<String>,
}

/// The rebuilt history on top of the tip.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Integrated {
    /// The new HEAD.
    #[serde(skip)]
    pub head: String,
    /// Recorded edits redone on the tip.
    pub reapplied: Vec<Applied>,
    /// Commits rebased with the driver active.
    pub rebased: Vec<Rebased>,
    /// Recorded edits skipped by `--no-downgrade`.
    pub skipped: Vec<Applied>,
}

/// Rebuilds `commits` on `tip`, leaving HEAD detached at the result. On a
/// conflict any rebase is aborted before returning.
pub fn integrate(
    git: &Git,
    root: &Path,
    tip: &str,
    commits: &[Commit],
    no_downgrade: bool,
) -> anyhow::Result<Result<Integrated, Conflict>> {
    git.run(["checkout", "-q", "--detach", tip])?;
    let mut done = Integrated::default();
    // A merge in our range can't be replayed commit by commit; rebase
    // linearises the whole range, as `git pull --rebase` would.
    if commits.iter().any(|c| c.merge) {
        // `tip..last` is exactly our range, whatever the merges' parents are.
        let last = &commits[commits.len() - 1];
        if let Err(conflict) = rebase(git, tip, &last.sha)? {
            return Ok(Err(conflict));
        }
        done.rebased = commits.iter().map(rebased).collect();
    } else {
        let mut rest = commits;
        while let Some(first) = rest.first() {
            let run = rest
                .iter()
                .take_while(|c| c.edits.is_some() == first.edits.is_some())
                .count();
            let (group, tail) = rest.split_at(run);
            rest = tail;
            if first.edits.is_some() {
                for commit in group {
                    if let Err(conflict) = redo(git, root, commit, no_downgrade, &mut done)? {
                        return Ok(Err(conflict));
                    }
                }
            } else {
                let last = &group[group.len() - 1];
                let onto = git.run(["rev-parse", "HEAD"])?;
                if let Err(conflict) = rebase(git, &format!("{}^", first.sha), &last.sha)? {
                    return Ok(Err(conflict));
                }
                done.rebased.extend(carried_over(git, &onto, group)?);
            }
        }
    }
    done.head = git.run(["rev-parse", "HEAD"])?;
    Ok(Ok(done))
}

fn rebased(c: &Commit) -> Rebased {
    Rebased {
        commit: c.sha.clone(),
        subject: c.subject.clone(),
        dropped: false,
    }
}

/// `group` as rebased onto `onto`, each marked `dropped` when the rebase
/// left it out because its change was already on the tip. git says so only
/// in its (quieted) progress text, so the new commits are matched to the
/// old ones in order by what a rebase keeps: author, author date, message.
fn carried_over(git: &Git, onto: &str, group: &[Commit]) -> anyhow::Result<Vec<Rebased>> {
    const SIGNATURE: &str = "--format=%an%x1f%ae%x1f%ad%x1f%B%x1e";
    let new = git.run(["log", "--reverse", SIGNATURE, &format!("{onto}..HEAD")])?;
    let mut new = new
        .split('\x1e')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .peekable();
    let mut out = Vec::with_capacity(group.len());
    for commit in group {
        let old = git.run(["show", "-s", SIGNATURE, &commit.sha])?;
        let old = old.trim().trim_end_matches('\x1e').trim();
        let kept = new.peek() == Some(&old);
        if kept {
            new.next();
        }
        out.push(Rebased {
            dropped: !kept,
            ..rebased(commit)
        });
    }
    Ok(out)
}

/// Redoes a queued job's commits on HEAD, one commit each (author, message
/// and trailers kept), for the combining push. On a conflict HEAD and the
/// work tree are put back as they were, and the entry is not carried.
pub fn carry(
    git: &Git,
    root: &Path,
    commits: &[Commit],
    no_downgrade: bool,
) -> anyhow::Result<Result<Integrated, Conflict>> {
    let before = git.run(["rev-parse", "HEAD"])?;
    let mut done = Integrated::default();
    for commit in commits {
        if let Err(conflict) = redo(git, root, commit, no_downgrade, &mut done)? {
            git.run(["reset", "-q", "--hard", &before])?;
            return Ok(Err(conflict));
        }
    }
    done.head = git.run(["rev-parse", "HEAD"])?;
    Ok(Ok(done))
}

/// Redoes one commit's recorded edits on HEAD and commits them with the
/// original message and author, unless nothing changed.
fn redo(
    git: &Git,
    root: &Path,
    commit: &Commit,
    no_downgrade: bool,
    done: &mut Integrated,
) -> anyhow::Result<Result<(), Conflict>> {
    let mut changed = false;
    for edit in commit.edits.iter().flatten() {
        let outcome = match reapply(root, &edit.key, &edit.value, no_downgrade, true) {
            Ok(outcome) => outcome,
            // The file or entry is gone or unreadable on the new tip: a real
            // conflict between our edit and someone else's change.
            Err(err) => {
                return Ok(Err(Conflict {
                    commit: format!("{} {}", commit.sha, commit.subject),
                    files: vec![ConflictFile {
                        path: edit.path().to_owned(),
                        keys: Vec::new(),
                    }],
                    details: vec![format!("could not reapply `{edit}`: {err:#}")],
                }));
            }
        };
        let (result, reason) = match &outcome {
            Reapplied::Changed => ("changed", None),
            Reapplied::AlreadySet => ("already-set", None),
            Reapplied::SkippedNewer(why) => ("skipped-newer", Some(why.clone())),
        };
        let applied = Applied {
            commit: commit.sha.clone(),
            trailer: edit.to_string(),
            result,
            reason,
        };
        changed |= outcome == Reapplied::Changed;
        if applied.reason.is_some() {
            done.skipped.push(applied);
        } else {
            done.reapplied.push(applied);
        }
    }
    if changed {
        // --no-verify: like the rebase path, replaying a commit doesn't rerun
        // the hooks that already accepted it.
        git.run(["commit", "-q", "-a", "--no-verify", "-C", &commit.sha])
            .with_context(|| format!("could not commit the reapplied edits of {}", commit.sha))?;
    }
    Ok(Ok(()))
}

/// `git rebase --onto HEAD <upstream> <last>` with the driver active (the
/// caller's `git` carries the `-c` settings). On failure, collects what
/// conflicted and aborts.
fn rebase(git: &Git, upstream: &str, last: &str) -> anyhow::Result<Result<(), Conflict>> {
    let out = git.output([
        "rebase",
        "-q",
        "--no-verify",
        "--onto",
        "HEAD",
        upstream,
        last,
    ])?;
    if out.status.success() {
        return Ok(Ok(()));
    }
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let stopped_at = git
        .run(["rev-parse", "--verify", "-q", "REBASE_HEAD"])
        .unwrap_or_default();
    let unmerged = git
        .run(["diff", "--name-only", "--diff-filter=U"])
        .unwrap_or_default();
    let root = git.run(["rev-parse", "--show-toplevel"])?;
    let files: Vec<ConflictFile> = unmerged
        .lines()
        .map(|path| ConflictFile {
            path: path.to_owned(),
            keys: std::fs::read_to_string(Path::new(&root).join(path))
                .map(|text| conflict_keys(&text))
                .unwrap_or_default(),
        })
        .collect();
    let subject = if stopped_at.is_empty() {
        String::new()
    } else {
        git.run(["show", "-s", "--format=%H %s", &stopped_at])?
    };
    abort_rebase(git)?;
    if files.is_empty() {
        bail!("git rebase failed without a conflict: {}", said.trim());
    }
    Ok(Err(Conflict {
        commit: subject,
        files,
        details: said
            .lines()
            .filter(|l| l.starts_with("CONFLICT") || l.contains("kustomerge"))
            .map(str::to_owned)
            .collect(),
    }))
}

/// Aborts a rebase in progress, if any; afterwards none is.
pub fn abort_rebase(git: &Git) -> anyhow::Result<()> {
    if rebase_in_progress(git)? {
        git.run(["rebase", "--abort"])?;
        if rebase_in_progress(git)? {
            bail!("`git rebase --abort` left a rebase in progress");
        }
    }
    Ok(())
}

fn rebase_in_progress(git: &Git) -> anyhow::Result<bool> {
    let root = git.run(["rev-parse", "--show-toplevel"])?;
    for state in ["rebase-merge", "rebase-apply"] {
        let path = git.run(["rev-parse", "--git-path", state])?;
        if Path::new(&root).join(path).exists() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The keys a file's conflict regions cover: top-level keys written inside a
/// region, and `list[name]` for entries of keyed lists (named inside the
/// region, or the entry the region sits in).
pub fn conflict_keys(text: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let (mut top, mut name) = (String::new(), String::new());
    let mut region: Option<bool> = None; // Some(named inside) while in a region
    for line in text.lines() {
        if line.starts_with("<<<<<<<") {
            region = Some(false);
            continue;
        }
        if line.starts_with(">>>>>>>") {
            if region == Some(false) && !name.is_empty() && !top.is_empty() {
                push_unique(&mut keys, format!("{top}[{name}]"));
            }
            region = None;
            continue;
        }
        if line.starts_with("=======") || line.starts_with("|||||||") {
            continue;
        }
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if line.len() == body.len() && !body.starts_with('-') {
            if let Some((key, _)) = body.split_once(':') {
                top = key.trim().to_owned();
                name.clear();
                if region.is_some() {
                    push_unique(&mut keys, top.clone());
                    region = Some(true);
                }
            }
            continue;
        }
        let item = body.trim_start_matches('-').trim_start();
        if let Some(value) = item.strip_prefix("name:") {
            let value = value.split(" #").next().unwrap_or_default();
            name = value.trim().trim_matches(['"', '\'']).to_owned();
            if region.is_some() {
                push_unique(&mut keys, format!("{top}[{name}]"));
                region = Some(true);
            }
        }
    }
    keys
}

fn push_unique(keys: &mut Vec<String>, key: String) {
    if !keys.contains(&key) {
        keys.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_names_its_file_even_with_spaces_in_the_path() {
        let edit = |value: &str| Edit {
            key: TRAILER_KEYS[0].to_owned(),
            value: value.to_owned(),
        };
        assert_eq!(
            edit("overlays/prod/kustomization.yaml app=reg/app:1.2").path(),
            "overlays/prod/kustomization.yaml"
        );
        assert_eq!(
            edit("my dir/kustomization.yaml app:1").path(),
            "my dir/kustomization.yaml"
        );
    }

    #[test]
    fn conflict_keys_name_top_level_keys_and_entries() {
        let text = "\
namespace: shop
<<<<<<< HEAD
namePrefix: a-
=======
namePrefix: b-
>>>>>>> 1234 (rename)
images:
  - name: api
<<<<<<< HEAD
    newTag: 1.2.0
=======
    newTag: 1.3.0
>>>>>>> 1234 (bump api)
  - name: web
    newTag: 2.0.0
<<<<<<< HEAD
  - name: \"worker\"  # added here
    newTag: 1.0.0
=======
  - name: cron
    newTag: 1.0.0
>>>>>>> 1234 (add cron)
";
        assert_eq!(
            conflict_keys(text),
            [
                "namePrefix",
                "images[api]",
                "images[worker]",
                "images[cron]"
            ]
        );
    }

    #[test]
    fn conflict_keys_on_a_flow_list_name_the_list() {
        let text = "<<<<<<< HEAD\nimages: [{name: a, newTag: \"1\"}]\n=======\nimages: [{name: a, newTag: \"2\"}]\n>>>>>>> x\n";
        assert_eq!(conflict_keys(text), ["images"]);
    }
}
