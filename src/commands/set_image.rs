//! `kustomerge set-image` (and the machinery `set-replicas` and `push` share).
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
//! - `--no-downgrade` refuses when the file already holds a newer tag
//!   ([`crate::version::compare`], the order `merge --same-image newest`
//!   uses). Tags that don't compare (`latest`, commit SHAs, mixed schemes)
//!   are allowed: refusing them would block every pipeline that doesn't use
//!   versions, and the flag is about the ordering of versions only.
//!
//! A refusal exits [`exit::REFUSED`] and doesn't touch the file. Setting
//! what is already there exits 0 without rewriting it. Files are replaced
//! atomically (temp file + rename) so a reader never sees half a file.
//!
//! `--commit` records each argument as a trailer,
//! `Kustomerge-Set-Image: <path from repo root> <arg>`, which is what
//! [`reapply`] (used by `push`) replays on a fresh tip instead of rebasing.

use std::cmp::Ordering;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::SetImageArgs;
use crate::exit;
use crate::git::Git;
use crate::kustomization::image_arg::{self, ImageArg, KEEP, ReplicaArg};
use crate::kustomization::schema::{IMAGES, ListSchema, REPLICAS};
use crate::kustomization::{self, Document, FILE_NAMES, setter};
use crate::version;

/// The trailer `set-image --commit` writes.
pub const IMAGE_TRAILER: &str = "Kustomerge-Set-Image";
/// The trailer `set-replicas --commit` writes.
pub const REPLICAS_TRAILER: &str = "Kustomerge-Set-Replicas";

/// The outcome of [`reapply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reapplied {
    /// The file was rewritten; the caller stages and commits it.
    Changed,
    /// The tip already holds the recorded value; nothing was written.
    AlreadySet,
    /// `no_downgrade` saw a newer version on the tip; nothing was written.
    SkippedNewer,
}

/// Replays one recorded edit on the current worktree of `repo_root`.
///
/// `trailer_key` is [`IMAGE_TRAILER`] or [`REPLICAS_TRAILER`] (matched
/// case-insensitively, as git matches trailer keys) and `trailer_value` is
/// `<path> <arg>` as `--commit` wrote it. Only the file is written; staging
/// and committing are the caller's.
pub fn reapply(
    repo_root: &Path,
    trailer_key: &str,
    trailer_value: &str,
    no_downgrade: bool,
    notes: bool,
) -> anyhow::Result<Reapplied> {
    // Arguments never contain spaces (`--commit` refuses them), paths may.
    let (path, arg) = trailer_value.trim().rsplit_once(' ').with_context(|| {
        format!("malformed {trailer_key} trailer `{trailer_value}`: expected `<path> <arg>`")
    })?;
    let args = [arg.to_owned()];
    let request = if trailer_key.eq_ignore_ascii_case(IMAGE_TRAILER) {
        Request::Images {
            images: image_arg::parse_images(&args)?,
            expect: None,
            no_downgrade,
        }
    } else if trailer_key.eq_ignore_ascii_case(REPLICAS_TRAILER) {
        Request::Replicas(image_arg::parse_replicas(&args)?)
    } else {
        bail!("`{trailer_key}` is not a kustomerge trailer");
    };
    Ok(match request.edit(&repo_root.join(path), notes)? {
        Outcome::Changed => Reapplied::Changed,
        Outcome::Unchanged => Reapplied::AlreadySet,
        Outcome::Refused(_) => Reapplied::SkippedNewer,
    })
}

/// Runs `set-image`.
pub fn run(args: &SetImageArgs) -> anyhow::Result<u8> {
    let request = Request::Images {
        images: image_arg::parse_images(&args.images)?,
        expect: args.expect.clone(),
        no_downgrade: args.no_downgrade,
    };
    request.run(
        args.file.as_deref(),
        &args.images,
        args.commit,
        args.message.as_deref(),
    )
}

/// One setter invocation: parsed arguments plus their guards.
pub(crate) enum Request {
    /// `set-image`.
    Images {
        images: Vec<ImageArg>,
        expect: Option<String>,
        no_downgrade: bool,
    },
    /// `set-replicas` (no guards: a replica count has no order to protect).
    Replicas(Vec<ReplicaArg>),
}

/// What [`Request::edit`] did.
enum Outcome {
    Changed,
    Unchanged,
    Refused(String),
}

impl Request {
    fn schema(&self) -> &'static ListSchema {
        match self {
            Self::Images { .. } => &IMAGES,
            Self::Replicas(_) => &REPLICAS,
        }
    }

    fn trailer(&self) -> &'static str {
        match self {
            Self::Images { .. } => IMAGE_TRAILER,
            Self::Replicas(_) => REPLICAS_TRAILER,
        }
    }

    fn replacements(&self) -> Vec<setter::Replacement> {
        match self {
            Self::Images { images, .. } => images.iter().map(ImageArg::replacement).collect(),
            Self::Replicas(replicas) => replicas.iter().map(ReplicaArg::replacement).collect(),
        }
    }

    /// Why the guards refuse this edit of `doc`, if they do.
    fn refusal(&self, doc: &Document<'_>) -> anyhow::Result<Option<String>> {
        let Self::Images {
            images,
            expect,
            no_downgrade,
        } = self
        else {
            return Ok(None);
        };
        if let Some(key) = doc
            .keys
            .iter()
            .find(|k| k.name.eq_ignore_ascii_case("imageTags"))
        {
            // kustomize folds `imageTags:` into `images:` on every edit and
            // applies it after `images:` on build; editing `images:` alone
            // could be silently overridden.
            bail!(
                "line {}: the deprecated `imageTags:` list is present (move its entries under `images:`; kustomerge edits only `images:`)",
                key.line
            );
        }
        for image in images {
            let current = setter::current_value(doc, &IMAGES, &image.name, "newTag");
            if let Some(want) = expect
                && current.unwrap_or("") != want
            {
                return Ok(Some(format!(
                    "--expect {want:?}: `{}` is at {}",
                    image.name,
                    current.map_or_else(|| "no tag".to_owned(), |c| format!("{c:?}"))
                )));
            }
            let new = image.new_tag.as_str();
            if *no_downgrade
                && !new.is_empty()
                && new != KEEP
                && let Some(cur) = current
                && version::compare(cur, new) == Some(Ordering::Greater)
            {
                return Ok(Some(format!(
                    "--no-downgrade: `{}` is already at {cur:?}, newer than {new:?}",
                    image.name
                )));
            }
        }
        Ok(None)
    }

    /// Applies the request to `path`, writing only when something changes.
    /// `notes` prints the setter's notes (off for a dry run in scratch).
    fn edit(&self, path: &Path, notes: bool) -> anyhow::Result<Outcome> {
        let bytes = fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
        let at = |e: kustomization::Error| {
            anyhow::anyhow!(
                "{}:{}:{}: {} ({})",
                path.display(),
                e.line,
                e.column,
                e.message,
                e.hint
            )
        };
        let src = kustomization::decode(&bytes).map_err(at)?;
        let doc = Document::parse(src).map_err(at)?;
        if let Some(reason) = self
            .refusal(&doc)
            .with_context(|| format!("{}: refusing to edit", path.display()))?
        {
            return Ok(Outcome::Refused(reason));
        }
        let applied = setter::apply(&doc, self.schema(), &self.replacements()).map_err(at)?;
        for note in applied.notes.iter().filter(|_| notes) {
            eprintln!("kustomerge: {}: {note}", path.display());
        }
        if applied.text == src {
            return Ok(Outcome::Unchanged);
        }
        write_atomically(path, applied.text.as_bytes())?;
        Ok(Outcome::Changed)
    }

    /// The whole command: find the file, edit it, maybe commit.
    pub(crate) fn run(
        &self,
        file: Option<&Path>,
        raw_args: &[String],
        commit: bool,
        message: Option<&str>,
    ) -> anyhow::Result<u8> {
        let path = find_kustomization(file.unwrap_or(Path::new(".")))?;
        // Resolve the repository before writing: a commit that can't happen
        // must not leave an uncommitted edit behind.
        let repo = commit.then(|| repo_path(&path)).transpose()?;
        if repo.is_some()
            && let Some(bad) = raw_args.iter().find(|a| a.contains(char::is_whitespace))
        {
            bail!("argument {bad:?} contains whitespace, which a commit trailer can't record");
        }
        match self.edit(&path, true)? {
            Outcome::Refused(reason) => {
                eprintln!(
                    "kustomerge: refused: {reason}; {} left untouched",
                    path.display()
                );
                return Ok(exit::REFUSED);
            }
            Outcome::Unchanged => {
                eprintln!(
                    "kustomerge: {}: already set, nothing to do{}",
                    path.display(),
                    if commit { " (no commit)" } else { "" }
                );
                return Ok(exit::SUCCESS);
            }
            Outcome::Changed => eprintln!("kustomerge: updated {}", path.display()),
        }
        if let Some((root, rel)) = repo {
            self.commit(&root, &rel, raw_args, message)?;
        }
        Ok(exit::SUCCESS)
    }

    fn commit(
        &self,
        root: &Path,
        rel: &str,
        raw_args: &[String],
        message: Option<&str>,
    ) -> anyhow::Result<()> {
        let verb = match self {
            Self::Images { .. } => "set image",
            Self::Replicas(_) => "set replicas",
        };
        let subject = message.map_or_else(
            || format!("kustomerge: {verb} {} in {rel}", raw_args.join(" ")),
            str::to_owned,
        );
        // `reapply` replays trailers one by one. In one invocation a later
        // argument for the same name replaces an earlier one (and its `*`
        // reads the file, not the earlier argument), so only the last
        // argument per name is recorded.
        let name = |arg: &str| match self {
            Self::Images { .. } => image_arg::parse_image(arg).ok().map(|i| i.name),
            Self::Replicas(_) => image_arg::parse_replica(arg).ok().map(|r| r.name),
        };
        let trailers: Vec<String> = raw_args
            .iter()
            .enumerate()
            .filter(|(i, a)| !raw_args[i + 1..].iter().any(|b| name(b) == name(a)))
            .map(|(_, a)| format!("{}: {rel} {a}", self.trailer()))
            .collect();
        let message = format!("{}\n\n{}\n", subject.trim_end(), trailers.join("\n"));
        let git = Git::in_dir(root);
        git.run(["add", "--", rel])?;
        // `-- <path>` commits only this file, whatever else is staged.
        git.run(["commit", "-q", "-m", &message, "--", rel])
            .context("the file was updated but the commit failed")?;
        Ok(())
    }
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

/// Replaces `path`'s contents through a temp file in the same directory and
/// a rename, keeping its permissions; a symlink is followed, not replaced.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let target =
        fs::canonicalize(path).with_context(|| format!("could not resolve {}", path.display()))?;
    let dir = target
        .parent()
        .context("the file has no parent directory")?;
    let name = target
        .file_name()
        .context("the file has no name")?
        .to_string_lossy();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(
        ".{name}.{}.{nanos}.kustomerge.tmp",
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::set_permissions(&tmp, fs::metadata(&target)?.permissions())?;
        fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("could not write {}", target.display()))
}
