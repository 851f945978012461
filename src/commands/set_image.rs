//! `kustomerge set-image` (and the command side `set-replicas` shares:
//! finding the file, committing, reporting; the edit itself is [`crate::edit`]).
//!
//! The arguments mean exactly what they mean to `kustomize edit set image`
//! (see [`crate::kustomization::image_arg`]), but only the changed scalars'
//! bytes are written ([`crate::kustomization::setter`]), so the edit merges
//! cleanly with a concurrent one and Flux markers survive.
//!
//! Guards make the setter safe to run from racing pipelines:
//!
//! - `--expect TAG` is compare-and-set: every named image's current tag must
//!   equal TAG (an image with no entry or no tag has the empty tag).
//! - `--no-downgrade` skips an image whose file already holds a newer tag
//!   ([`crate::version::compare`], the order `merge --same-image newest`
//!   uses), prints `skipped: ...` and still sets the other images. It exits
//!   0: an older build finishing late must not fail the pipeline, and `push
//!   --no-downgrade` makes the same call on the fresh tip. Tags that don't
//!   compare (`latest`, commit SHAs, mixed schemes) are set: the flag is
//!   about the ordering of versions only.
//!
//! A refusal by `--expect` exits [`exit::REFUSED`] and doesn't touch the
//! file. Setting what is already there exits 0 without rewriting it. Values
//! kustomize or a registry would reject (a bad tag or digest, a negative
//! count, an empty tag from an unset variable) are refused with exit 2
//! before anything is read ([`image_arg::validate_image`]). Files are
//! replaced atomically (temp file + rename) so a reader never sees half a
//! file.
//!
//! With `--commit`, everything a commit needs (an identity, no operation in
//! progress) is checked before writing, and a re-run after a failed commit
//! finds the edit uncommitted in the work tree and commits it.
//!
//! `--commit` records each argument as a trailer,
//! `Kustomerge-Set-Image: <path from repo root> <arg>`, which is what
//! [`crate::edit::reapply`] (used by `push`) replays on a fresh tip instead
//! of rebasing.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::cli::{EditArgs, SetImageArgs};
use crate::edit::{Outcome, Request, Rewritten};
use crate::exit;
use crate::git::Git;
use crate::kustomization::FILE_NAMES;
use crate::kustomization::image_arg;
use crate::trailer::Edit;

/// Runs `set-image`.
pub fn run(args: &SetImageArgs) -> anyhow::Result<u8> {
    for arg in &args.images {
        image_arg::validate_image(arg, args.allow_empty_tag)?;
    }
    let request = Request::Images {
        images: image_arg::parse_images(&args.images)?,
        expect: args.expect.clone(),
        no_downgrade: args.no_downgrade,
    };
    request.run(&args.edit, &args.images)
}

/// What `set-image --json` and `set-replicas --json` print: the same keys
/// every time, in the style of `check --format json`.
#[derive(Debug, Serialize)]
struct JsonReport {
    /// The kustomization file edited (or that would be).
    file: String,
    /// `updated`, `would-update` (with `--dry-run`), `unchanged` or `refused`.
    outcome: &'static str,
    /// Whether the file's bytes differ (or would, with `--dry-run`).
    changed: bool,
    /// Whether this run was a `--dry-run`.
    dry_run: bool,
    /// Whether a commit was made.
    committed: bool,
    /// Images left as they are under `--no-downgrade`.
    skipped: Vec<Skipped>,
    /// Why `--expect` refused the edit, when it did.
    refused: Option<String>,
    /// The unified diff of the edit (empty when nothing changes).
    diff: String,
}

#[derive(Debug, Serialize)]
struct Skipped {
    name: String,
    reason: String,
}

impl Request {
    /// The whole command: find the file, edit it, maybe commit. `raw_args`
    /// are the value arguments as given, for trailers and messages.
    pub(crate) fn run(&self, args: &EditArgs, raw_args: &[String]) -> anyhow::Result<u8> {
        let (commit, message) = (args.commit, args.message.as_deref());
        let (dry_run, json) = (args.dry_run, args.json);
        let path = find_kustomization(args.file.as_deref().unwrap_or(Path::new(".")))?;
        let mut report = JsonReport {
            file: path.display().to_string(),
            outcome: "unchanged",
            changed: false,
            dry_run,
            committed: false,
            skipped: Vec::new(),
            refused: None,
            diff: String::new(),
        };
        let print = |report: &JsonReport| -> anyhow::Result<()> {
            if json {
                println!("{}", serde_json::to_string_pretty(report)?);
            }
            Ok(())
        };
        // Everything a commit needs is checked before writing: a commit that
        // can't happen must not leave an uncommitted edit behind.
        let repo = commit.then(|| repo_path(&path)).transpose()?;
        if let Some((root, _)) = &repo {
            if let Some(bad) = raw_args.iter().find(|a| a.contains(char::is_whitespace)) {
                bail!("argument {bad:?} contains whitespace, which a commit trailer can't record");
            }
            let git = Git::in_dir(root);
            if let Some(op) = git.operation_in_progress()? {
                bail!(
                    "a {op} is in progress in {}; finish or abort it, then run this command again",
                    root.display()
                );
            }
            if let Some(who) = git.missing_identity() {
                bail!(
                    "git has no {who} identity to commit with; set user.name and user.email (or GIT_AUTHOR_NAME/EMAIL and GIT_COMMITTER_NAME/EMAIL), then run this command again. {} is untouched",
                    path.display()
                );
            }
        }
        let (outcome, diff) = self.edit_or_preview(&path, true, dry_run)?;
        let (changed, skipped) = match outcome {
            Outcome::Refused(reason) => {
                eprintln!(
                    "kustomerge: refused: {reason}; {} left untouched",
                    path.display()
                );
                report.outcome = "refused";
                report.refused = Some(reason);
                print(&report)?;
                return Ok(exit::REFUSED);
            }
            Outcome::Done { changed, skipped } => {
                for (_, why) in &skipped {
                    eprintln!(
                        "kustomerge: skipped: {why} in {} (--no-downgrade); left as it is",
                        path.display()
                    );
                }
                (changed, skipped)
            }
        };
        report.changed = changed;
        report.skipped = skipped
            .iter()
            .map(|(name, reason)| Skipped {
                name: name.clone(),
                reason: reason.clone(),
            })
            .collect();
        if dry_run {
            if changed {
                eprintln!(
                    "kustomerge: {}: would be updated (--dry-run: nothing written)",
                    path.display()
                );
                report.outcome = "would-update";
            }
            if json {
                report.diff = diff;
                print(&report)?;
            } else {
                print!("{diff}");
            }
            return Ok(exit::SUCCESS);
        }
        if changed {
            eprintln!("kustomerge: updated {}", path.display());
            report.outcome = "updated";
            report.diff = diff;
        }
        let Some((root, rel)) = repo else {
            if !changed && skipped.is_empty() {
                eprintln!("kustomerge: {}: already set, nothing to do", path.display());
            }
            print(&report)?;
            return Ok(exit::SUCCESS);
        };
        let args: Vec<&String> = raw_args
            .iter()
            .filter(|a| {
                !skipped
                    .iter()
                    .any(|(n, _)| self.name(a).as_ref() == Some(n))
            })
            .collect();
        if !changed && !self.left_uncommitted(&root, &rel, &path)? {
            eprintln!(
                "kustomerge: {}: already set, nothing to commit",
                path.display()
            );
            print(&report)?;
            return Ok(exit::SUCCESS);
        }
        self.commit(&root, &rel, &args, message)?;
        report.committed = true;
        print(&report)?;
        Ok(exit::SUCCESS)
    }

    /// Whether the work tree holds this very edit, uncommitted: what an
    /// earlier run leaves when its commit failed (a hook, a lock). Then the
    /// re-run commits it. Other uncommitted changes in the file are an error
    /// with the way out, not something to commit under our trailer.
    fn left_uncommitted(&self, root: &Path, rel: &str, path: &Path) -> anyhow::Result<bool> {
        let worktree =
            fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
        let Some(head) = Git::in_dir(root).blob_at("HEAD", rel)? else {
            bail!(
                "{rel} is not committed yet; commit it first (`git add -- {rel} && git commit`), then run this command again"
            );
        };
        if head == worktree {
            return Ok(false);
        }
        let redone = match self.rewrite(&head, path, false)? {
            Rewritten::Text { text, .. } => text.map(String::into_bytes),
            Rewritten::Refused(_) => None,
        };
        if redone.as_deref() == Some(&worktree[..]) {
            eprintln!(
                "kustomerge: {rel} holds this edit uncommitted (an earlier run's commit failed?); committing it"
            );
            return Ok(true);
        }
        bail!(
            "{rel} already holds these values but has other uncommitted changes too (see `git diff HEAD -- {rel}`); commit or discard them, then run this command again"
        )
    }

    /// The entry name an argument sets, if it parses.
    fn name(&self, arg: &str) -> Option<String> {
        match self {
            Self::Images { .. } => image_arg::parse_image(arg).ok().map(|i| i.name),
            Self::Replicas(_) => image_arg::parse_replica(arg).ok().map(|r| r.name),
        }
    }

    fn commit(
        &self,
        root: &Path,
        rel: &str,
        raw_args: &[&String],
        message: Option<&str>,
    ) -> anyhow::Result<()> {
        let verb = match self {
            Self::Images { .. } => "set image",
            Self::Replicas(_) => "set replicas",
        };
        let joined: Vec<&str> = raw_args.iter().map(|a| a.as_str()).collect();
        let subject = message.map_or_else(
            || format!("kustomerge: {verb} {} in {rel}", joined.join(" ")),
            str::to_owned,
        );
        // `reapply` replays trailers one by one. In one invocation a later
        // argument for the same name replaces an earlier one (and its `*`
        // reads the file, not the earlier argument), so only the last
        // argument per name is recorded.
        let trailers: Vec<String> = raw_args
            .iter()
            .enumerate()
            .filter(|(i, a)| {
                !raw_args[i + 1..]
                    .iter()
                    .any(|b| self.name(b) == self.name(a))
            })
            .map(|(_, a)| Edit::new(self.trailer(), rel, a).to_string())
            .collect();
        let message = format!("{}\n\n{}\n", subject.trim_end(), trailers.join("\n"));
        let git = Git::in_dir(root);
        git.run(["add", "--", rel])?;
        // `-- <path>` commits only this file, whatever else is staged.
        git.run(["commit", "-q", "-m", &message, "--", rel])
            .with_context(|| {
                format!(
                    "{rel} was updated and staged, but the commit failed; fix the cause, then run the same command again to commit it: {}",
                    this_command()
                )
            })?;
        Ok(())
    }
}

/// The command line this process was started with, quoted for `sh`: the
/// exact command a recovery message tells the user to run again.
fn this_command() -> String {
    std::env::args()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 {
                "kustomerge".to_owned()
            } else {
                crate::driver::shell_quote(&a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Finds the kustomization file the way kustomize does: `target` itself if
/// it is a file, otherwise the one recognised name inside the directory.
pub(crate) fn find_kustomization(target: &Path) -> anyhow::Result<PathBuf> {
    if target.is_file() {
        return Ok(target.to_path_buf());
    }
    if !target.is_dir() {
        bail!("{} does not exist", target.display());
    }
    let found: Vec<PathBuf> = FILE_NAMES
        .iter()
        .map(|n| target.join(n))
        .filter(|p| p.is_file())
        .collect();
    match &found[..] {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no kustomization file in {} (looked for {})",
            target.display(),
            FILE_NAMES.join(", ")
        ),
        many => bail!(
            "{} holds several kustomization files ({}); kustomize refuses to pick one, so does kustomerge: keep one",
            target.display(),
            many.iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The repository holding `path`, and `path` relative to its root with `/`.
fn repo_path(path: &Path) -> anyhow::Result<(PathBuf, String)> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir =
        fs::canonicalize(dir).with_context(|| format!("could not resolve {}", dir.display()))?;
    let root = Git::in_dir(&dir)
        .run(["rev-parse", "--show-toplevel"])
        .with_context(|| {
            format!(
                "--commit needs {} to be inside a git repository",
                path.display()
            )
        })?;
    let root = fs::canonicalize(&root).with_context(|| format!("could not resolve {root}"))?;
    let name = path
        .file_name()
        .context("the kustomization path has no file name")?;
    let rel = dir
        .join(name)
        .strip_prefix(&root)
        .with_context(|| {
            format!(
                "{} is outside the repository at {}",
                path.display(),
                root.display()
            )
        })?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    Ok((root, rel))
}
