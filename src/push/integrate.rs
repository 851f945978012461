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

use crate::edit::{Reapplied, reapply, reapply_bytes};
use crate::git::Git;
use crate::merge::markers::conflict_keys;
use crate::trailer::{self, Edit};

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
    Ok(commits_of(git, tip, &[head], seen)?
        .pop()
        .unwrap_or_default())
}

/// For each of `heads`, its commits not in `tip`'s history, oldest first.
/// However many heads (a combining push reads one per queued job), it takes
/// one `rev-list` and, for commits not yet in `seen`, one process per step
/// of `describe_all`: at 40 jobs, per-commit calls would be hundreds of
/// processes in the window where the push races everyone else.
pub fn commits_of(
    git: &Git,
    tip: &str,
    heads: &[&str],
    seen: &mut HashMap<String, Commit>,
) -> anyhow::Result<Vec<Vec<Commit>>> {
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![
        "rev-list".to_owned(),
        "--reverse".to_owned(),
        "--topo-order".to_owned(),
        "--parents".to_owned(),
        format!("^{tip}"),
    ];
    args.extend(heads.iter().map(|h| (*h).to_owned()));
    let list = git.run(&args)?;
    let order: Vec<(String, Vec<String>)> = list
        .lines()
        .map(|line| {
            let mut shas = line.split(' ').map(str::to_owned);
            let sha = shas.next().unwrap_or_default();
            (sha, shas.collect())
        })
        .collect();
    let unknown: Vec<(&str, usize)> = order
        .iter()
        .filter(|(sha, _)| !seen.contains_key(sha))
        .map(|(sha, parents)| (sha.as_str(), parents.len()))
        .collect();
    for commit in describe_all(git, &unknown)? {
        seen.insert(commit.sha.clone(), commit);
    }
    let parents: HashMap<&str, &[String]> = order
        .iter()
        .map(|(sha, p)| (sha.as_str(), p.as_slice()))
        .collect();
    heads
        .iter()
        .map(|head| {
            // What `tip..head` lists: the head's ancestors outside tip's history.
            // Queue entries come as SHAs; only a name costs a process.
            let head = if head.len() >= 40 && head.bytes().all(|b| b.is_ascii_hexdigit()) {
                (*head).to_owned()
            } else {
                git.run(["rev-parse", "--verify", &format!("{head}^{{commit}}")])?
            };
            let mut mine = std::collections::HashSet::new();
            let mut stack = vec![head.as_str()];
            while let Some(sha) = stack.pop() {
                if let Some(ps) = parents.get(sha)
                    && mine.insert(sha)
                {
                    stack.extend(ps.iter().map(String::as_str));
                }
            }
            Ok(order
                .iter()
                .filter(|(sha, _)| mine.contains(sha.as_str()))
                .filter_map(|(sha, _)| seen.get(sha).cloned())
                .collect())
        })
        .collect()
}

/// Describes commits (SHA, number of parents): subject, recorded edits, and
/// whether those edits are the commit's whole change.
fn describe_all(git: &Git, commits: &[(&str, usize)]) -> anyhow::Result<Vec<Commit>> {
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    let input: String = commits.iter().map(|(sha, _)| format!("{sha}\n")).collect();
    let shown = git.run_with_input(
        [
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "--format=%H%x00%s%x00%(trailers:only,unfold)%x1e",
        ],
        input.as_bytes(),
    )?;
    let shown = String::from_utf8_lossy(&shown);
    let mut described: HashMap<&str, (&str, Vec<Edit>)> = HashMap::new();
    for record in shown.split('\x1e') {
        let mut fields = record.trim_start_matches('\n').splitn(3, '\0');
        let (Some(sha), Some(subject), trailers) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        described.insert(sha, (subject, trailer::parse(trailers.unwrap_or_default())));
    }
    // Reapplying is only faithful when the recorded edits are the commit's
    // whole change; anything else it did (a label added to the same file
    // before `set-image --commit` committed it) would be dropped. So such a
    // commit is rebased through the driver instead.
    let candidates: Vec<(&str, &[Edit])> = commits
        .iter()
        .filter(|(_, parents)| *parents == 1)
        .filter_map(|(sha, _)| {
            let (_, edits) = described.get(sha)?;
            (!edits.is_empty()).then_some((*sha, edits.as_slice()))
        })
        .collect();
    let proven = prove_all(git, &candidates)?;
    commits
        .iter()
        .map(|(sha, parents)| {
            let (subject, edits) = described
                .get(sha)
                .with_context(|| format!("git log did not describe {sha}"))?;
            let reapplicable = proven.contains(sha);
            Ok(Commit {
                sha: (*sha).to_owned(),
                subject: (*subject).to_owned(),
                merge: *parents > 1,
                edits: reapplicable.then(|| edits.clone()),
            })
        })
        .collect()
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
    Ok(prove_all(git, &[(sha, edits)])?.contains(sha))
}

/// [`edits_are_the_whole_change`] for many commits, in one `diff-tree` and
/// one `cat-file` process; returns the SHAs that pass.
fn prove_all<'a>(
    git: &Git,
    commits: &[(&'a str, &[Edit])],
) -> anyhow::Result<std::collections::HashSet<&'a str>> {
    let mut proven = std::collections::HashSet::new();
    if commits.is_empty() {
        return Ok(proven);
    }
    let input: String = commits.iter().map(|(sha, _)| format!("{sha}\n")).collect();
    // `-z` keeps paths raw: each commit's SHA, then
    // `:<mode> <mode> <blob> <blob> <status>\0<path>\0` per file.
    let raw = git.run_with_input(
        ["diff-tree", "--stdin", "-r", "--no-renames", "-z"],
        input.as_bytes(),
    )?;
    let raw = String::from_utf8_lossy(&raw);
    let mut changes: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    let mut fields = raw.split('\0').filter(|f| !f.is_empty());
    let mut current: Option<&str> = None;
    while let Some(field) = fields.next() {
        if field.starts_with(':') {
            let path = fields.next().unwrap_or_default();
            if let Some(sha) = current {
                changes.entry(sha).or_default().push((field, path));
            }
        } else {
            current = Some(field.trim());
            changes.entry(field.trim()).or_default();
        }
    }
    // Only a modified file can be the result of an edit: not one added,
    // deleted or changed in mode. Each commit's (path, old blob, new blob).
    let mut shaped: Vec<(&str, &[Edit], Vec<Change>)> = Vec::new();
    'commits: for (sha, edits) in commits {
        let mut changed = Vec::new();
        for (meta, path) in changes.get(sha).map(Vec::as_slice).unwrap_or_default() {
            let meta: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
            let [old_mode, new_mode, old_blob, new_blob, status] = meta[..] else {
                continue 'commits;
            };
            if status != "M" || old_mode != new_mode || !edits.iter().any(|e| e.path() == *path) {
                continue 'commits;
            }
            changed.push(((*path).to_owned(), old_blob.to_owned(), new_blob.to_owned()));
        }
        // An edit whose file the commit did not change would be redone on
        // the tip all the same.
        if !edits
            .iter()
            .all(|e| changed.iter().any(|(p, ..)| p == e.path()))
        {
            continue;
        }
        shaped.push((sha, edits, changed));
    }
    let wanted: Vec<&str> = shaped
        .iter()
        .flat_map(|(_, _, c)| c.iter().flat_map(|(_, a, b)| [a.as_str(), b.as_str()]))
        .collect();
    let blobs = blobs(git, &wanted)?;
    let blob = |sha: &str| {
        blobs
            .get(sha)
            .with_context(|| format!("git cat-file did not return blob {sha}"))
    };
    for (sha, edits, changed) in &shaped {
        // The files the commit changed, as before it; the edits replayed on
        // them must give the files as the commit left them.
        let mut files: HashMap<&str, Vec<u8>> = HashMap::new();
        for (path, old_blob, _) in changed {
            files.insert(path, blob(old_blob)?.clone());
        }
        let redone = edits.iter().all(|edit| {
            let Some(bytes) = files.get(edit.path()) else {
                return false;
            };
            match reapply_bytes(edit, bytes, false) {
                Ok((_, Some(text))) => {
                    files.insert(edit.path(), text.into_bytes());
                    true
                }
                Ok((_, None)) => true,
                Err(_) => false,
            }
        });
        let mut same = redone;
        for (path, _, new_blob) in changed.iter().filter(|_| redone) {
            same &= files[path.as_str()] == *blob(new_blob)?;
        }
        if same {
            proven.insert(*sha);
        }
    }
    Ok(proven)
}

/// A file a commit modified: (path, old blob, new blob).
type Change = (String, String, String);

/// A commit to write: the original, and the files it changed as they are after it.
type Carried<'a> = (&'a Commit, Vec<(String, Vec<u8>)>);

/// Blobs' raw bytes, by SHA, from one `git cat-file --batch`.
fn blobs(git: &Git, shas: &[&str]) -> anyhow::Result<HashMap<String, Vec<u8>>> {
    Ok(shas
        .iter()
        .zip(git.blobs(shas)?)
        .filter_map(|(sha, blob)| Some(((*sha).to_owned(), blob?)))
        .collect())
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

/// Redoes queued jobs' commits on HEAD for the combining push, one commit
/// per original commit (author, author date and message kept; we are the
/// committer), and moves HEAD to the result. Each job's outcome is its own:
/// a job whose edit can't be redone is left out, the others go on.
///
/// The edits run in process on copies of the files, and all the commits are
/// written by one `git fast-import`: redoing 40 jobs with `git commit` each
/// would be a hundred-odd processes, in the window where the push races.
pub fn carry_all(
    git: &Git,
    root: &Path,
    jobs: &[&[Commit]],
    no_downgrade: bool,
) -> anyhow::Result<Vec<Result<Integrated, Conflict>>> {
    let head = git.run(["rev-parse", "HEAD"])?;
    // The files as the commits so far leave them.
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut made: Vec<Carried> = Vec::new();
    let mut out = Vec::with_capacity(jobs.len());
    for commits in jobs {
        let before = files.clone();
        let made_before = made.len();
        let mut done = Integrated::default();
        let mut conflict = None;
        'commits: for commit in commits.iter() {
            let mut changed = Vec::new();
            for edit in commit.edits.iter().flatten() {
                let path = edit.path().to_owned();
                if !files.contains_key(&path) {
                    let bytes = std::fs::read(root.join(&path)).unwrap_or_default();
                    files.insert(path.clone(), bytes);
                }
                let outcome = match reapply_bytes(edit, &files[&path], no_downgrade) {
                    Ok((outcome, text)) => {
                        if let Some(text) = text {
                            files.insert(path.clone(), text.into_bytes());
                        }
                        outcome
                    }
                    Err(err) => {
                        conflict = Some(Conflict {
                            commit: format!("{} {}", commit.sha, commit.subject),
                            files: vec![ConflictFile {
                                path,
                                keys: Vec::new(),
                            }],
                            details: vec![format!("could not reapply `{edit}`: {err:#}")],
                        });
                        break 'commits;
                    }
                };
                if outcome == Reapplied::Changed && !changed.contains(&path) {
                    changed.push(path);
                }
                let (result, reason) = match outcome {
                    Reapplied::Changed => ("changed", None),
                    Reapplied::AlreadySet => ("already-set", None),
                    Reapplied::SkippedNewer(why) => ("skipped-newer", Some(why)),
                };
                let applied = Applied {
                    commit: commit.sha.clone(),
                    trailer: edit.to_string(),
                    result,
                    reason,
                };
                if applied.reason.is_some() {
                    done.skipped.push(applied);
                } else {
                    done.reapplied.push(applied);
                }
            }
            if !changed.is_empty() {
                let snapshot = changed
                    .into_iter()
                    .map(|p| {
                        let bytes = files[&p].clone();
                        (p, bytes)
                    })
                    .collect();
                made.push((commit, snapshot));
            }
        }
        out.push(match conflict {
            Some(conflict) => {
                files = before;
                made.truncate(made_before);
                Err(conflict)
            }
            None => Ok(done),
        });
    }
    if !made.is_empty() {
        let new_head = fast_import(git, &head, &made)?;
        git.run(["checkout", "-q", "--detach", &new_head])?;
    }
    let new_head = git.run(["rev-parse", "HEAD"])?;
    for done in out.iter_mut().flatten() {
        done.head.clone_from(&new_head);
    }
    Ok(out)
}

/// Writes `commits` on top of `parent` with one `git fast-import` and
/// returns the last one's SHA.
fn fast_import(git: &Git, parent: &str, commits: &[Carried]) -> anyhow::Result<String> {
    const REF: &str = "refs/kustomerge/carry";
    let input: String = commits
        .iter()
        .map(|(c, _)| format!("{}\n", c.sha))
        .collect();
    let shown = git.run_with_input(
        [
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "--date=raw",
            "--format=%H%x00%an <%ae> %ad%x00%B%x1e",
        ],
        input.as_bytes(),
    )?;
    let shown = String::from_utf8_lossy(&shown);
    let mut original: HashMap<&str, (&str, &str)> = HashMap::new();
    for record in shown.split('\x1e') {
        let mut f = record.trim_start_matches('\n').splitn(3, '\0');
        if let (Some(sha), Some(author), Some(message)) = (f.next(), f.next(), f.next()) {
            original.insert(sha, (author, message));
        }
    }
    let committer = git.run(["var", "GIT_COMMITTER_IDENT"])?;
    let paths: Vec<&str> = commits
        .iter()
        .flat_map(|(_, files)| files.iter().map(|(p, _)| p.as_str()))
        .collect();
    let mut args = vec!["ls-tree", "-z", parent, "--"];
    args.extend(&paths);
    let tree = git.run_with_input(&args, b"")?;
    // `<mode> <type> <sha>\t<path>\0`: keep each file's mode (an executable
    // kustomization is odd, but not ours to change).
    let modes: HashMap<String, String> = String::from_utf8_lossy(&tree)
        .split('\0')
        .filter_map(|e| {
            let (meta, path) = e.split_once('\t')?;
            Some((path.to_owned(), meta.split(' ').next()?.to_owned()))
        })
        .collect();
    let mut stream: Vec<u8> = Vec::new();
    for (n, (commit, files)) in commits.iter().enumerate() {
        let (author, message) = original
            .get(commit.sha.as_str())
            .with_context(|| format!("git log did not show {}", commit.sha))?;
        stream.extend(format!("commit {REF}\nauthor {author}\ncommitter {committer}\n").bytes());
        stream.extend(format!("data {}\n", message.len()).bytes());
        stream.extend(message.bytes());
        stream.push(b'\n');
        if n == 0 {
            stream.extend(format!("from {parent}\n").bytes());
        }
        for (path, bytes) in files {
            let mode = modes.get(path).map_or("100644", String::as_str);
            // Quoted as fast-import reads C-style paths, so any name survives.
            let quoted = path
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            stream.extend(format!("M {mode} inline \"{quoted}\"\ndata {}\n", bytes.len()).bytes());
            stream.extend(bytes);
            stream.push(b'\n');
        }
        stream.push(b'\n');
    }
    stream.extend(b"done\n");
    git.run_with_input(["fast-import", "--quiet", "--force", "--done"], &stream)
        .context("git fast-import could not write the carried commits")?;
    git.run(["rev-parse", "--verify", REF])
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
        let outcome = match reapply(root, edit, no_downgrade, true) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_names_its_file_even_with_spaces_in_the_path() {
        let edit = |value: &str| Edit {
            key: trailer::IMAGE_TRAILER.to_owned(),
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
}
