//! `kustomerge resolve [PATH...]`: merge again files git left conflicted.
//!
//! Each file is reported on its own and the others still run: one that
//! can't be resolved must not keep the rest from being. A file is written
//! only when the merge is clean, so a conflict left again leaves it byte
//! for byte as git wrote it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::ResolveArgs;
use crate::exit;
use crate::fs::write_atomically;
use crate::git::{Git, Unmerged};
use crate::kustomization::{self, FILE_NAMES};
use crate::resolve::{self, Resolution};

/// How one file ended, worst last (the exit code is the worst one's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Done,
    Left,
    Failed,
}

/// Resolves the named files, or every unmerged kustomization file.
pub fn run(args: &ResolveArgs) -> anyhow::Result<u8> {
    let git = Git::new();
    let in_repo = git.in_work_tree();
    let targets: Vec<(PathBuf, Option<Unmerged>)> = if args.paths.is_empty() {
        if !in_repo {
            anyhow::bail!(
                "resolve: not inside a git work tree, so there is no index to list conflicted files from; name the files: `kustomerge resolve PATH...`"
            );
        }
        let found: Vec<_> = git
            .unmerged(&[])?
            .into_iter()
            .filter(|u| kustomization::is_file_name(&u.path))
            .map(|u| (PathBuf::from(&u.path), Some(u)))
            .collect();
        if found.is_empty() {
            eprintln!(
                "kustomerge: resolve: no unmerged kustomization files ({}) in the index; name other files as PATH",
                FILE_NAMES.join(", ")
            );
        }
        found
    } else {
        args.paths.iter().map(|p| (p.clone(), None)).collect()
    };
    let mut worst = Status::Done;
    for (path, listed) in targets {
        let status = match one(&git, in_repo, &path, listed, args) {
            Ok(status) => status,
            Err(err) => {
                eprintln!("kustomerge: {}: cannot resolve: {err:#}", path.display());
                Status::Failed
            }
        };
        worst = worst.max(status);
    }
    Ok(match worst {
        Status::Done => exit::SUCCESS,
        Status::Left => exit::CONFLICT,
        Status::Failed => exit::ERROR,
    })
}

fn one(
    git: &Git,
    in_repo: bool,
    path: &Path,
    listed: Option<Unmerged>,
    args: &ResolveArgs,
) -> anyhow::Result<Status> {
    let shown = path.display().to_string();
    if path.is_dir() {
        eprintln!(
            "kustomerge: {shown}: a directory; name the files in it to resolve (or none, for every unmerged kustomization file)"
        );
        return Ok(Status::Failed);
    }
    let unmerged = match listed {
        Some(entry) => Some(entry),
        None if in_repo => git.unmerged(&[path])?.pop(),
        None => None,
    };
    if unmerged.is_none() && !path.exists() {
        eprintln!(
            "kustomerge: {shown}: no such file, and not unmerged in the index; check the path (`git status` lists the unmerged files)"
        );
        return Ok(Status::Failed);
    }
    let merged =
        match resolve::resolve(git, path, &shown, unmerged.as_ref(), args.same_image.into())? {
            Resolution::Merged(merged) => merged,
            Resolution::Refused(why) => {
                eprintln!("kustomerge: {shown}: left as it is: {why}");
                return Ok(Status::Left);
            }
            Resolution::Unconflicted => {
                eprintln!("kustomerge: {shown}: no conflict markers, nothing to resolve");
                return Ok(Status::Done);
            }
        };
    let outcome = &merged.outcome;
    if let Some(reason) = &outcome.fallback {
        eprintln!("kustomerge: {shown}: using git's line merge: {reason}");
    }
    if args.stdout {
        std::io::stdout().lock().write_all(&outcome.bytes)?;
    }
    if outcome.conflicts > 0 {
        let lines: Vec<String> = merged.conflict_lines.iter().map(usize::to_string).collect();
        let keys = if merged.conflict_keys.is_empty() {
            String::new()
        } else {
            format!(" in {}", merged.conflict_keys.join(", "))
        };
        eprintln!(
            "kustomerge: {shown}: still {} conflict(s){keys}, at line(s) {} of kustomerge's result (`--stdout` prints it); the file is left as it was: resolve them by hand",
            outcome.conflicts,
            lines.join(", ")
        );
        return Ok(Status::Left);
    }
    if args.stdout {
        eprintln!("resolved {shown}");
        return Ok(Status::Done);
    }
    write_atomically(path, &outcome.bytes)?;
    if args.add {
        git.add(path)?;
    }
    println!("resolved {shown}");
    Ok(Status::Done)
}
