//! One `set-image` or `set-replicas` request applied to a file: the
//! guards (`--expect`, `--no-downgrade`), the setter, and the atomic write.
//! `commands/set_image.rs` and `commands/set_replicas.rs` add finding the
//! file, committing and reporting; `push` replays a recorded request
//! ([`reapply`]) on a fresh tip instead of rebasing it.

use std::cmp::Ordering;
use std::fs;
use std::path::Path;

use anyhow::{Context, bail};

use crate::fs::write_atomically;
use crate::kustomization::image_arg::{self, ImageArg, KEEP, ReplicaArg};
use crate::kustomization::schema::{IMAGES, ListSchema, REPLICAS};
use crate::kustomization::{self, Document, setter};
use crate::trailer::{Edit, IMAGE_TRAILER, REPLICAS_TRAILER};
use crate::version;

/// The outcome of [`reapply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reapplied {
    /// The file was rewritten; the caller stages and commits it.
    Changed,
    /// The tip already holds the recorded value; nothing was written.
    AlreadySet,
    /// `no_downgrade` saw a newer version on the tip; nothing was written.
    /// The text says which (`` `api` 1.5.0 is older than 2.0.0 ``).
    SkippedNewer(String),
}

/// Replays one recorded edit on the current worktree of `repo_root`.
///
/// The edit's key is [`IMAGE_TRAILER`] or [`REPLICAS_TRAILER`] (matched
/// case-insensitively, as git matches trailer keys) and its value is
/// `<path> <arg>` as `--commit` wrote it. Only the file is written; staging
/// and committing are the caller's. `notes` prints the setter's notes (off
/// for a dry run).
pub fn reapply(
    repo_root: &Path,
    edit: &Edit,
    no_downgrade: bool,
    notes: bool,
) -> anyhow::Result<Reapplied> {
    let (path, request) = recorded(edit, no_downgrade)?;
    let path = repo_root.join(path);
    let bytes = fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
    let (outcome, text) = replayed(request.rewrite(&bytes, &path, notes)?)?;
    if let Some(text) = &text {
        write_atomically(&path, text.as_bytes())?;
    }
    Ok(outcome)
}

/// [`reapply`] on a file's bytes, for copies that are only compared (push's
/// proofs and carried commits): what happened, and the new text when it
/// changed.
pub fn reapply_bytes(
    edit: &Edit,
    bytes: &[u8],
    no_downgrade: bool,
) -> anyhow::Result<(Reapplied, Option<String>)> {
    let (path, request) = recorded(edit, no_downgrade)?;
    replayed(request.rewrite(bytes, Path::new(path), false)?)
}

/// The file a recorded edit names, and the request it records.
fn recorded(edit: &Edit, no_downgrade: bool) -> anyhow::Result<(&str, Request)> {
    let (path, arg) = edit.split().with_context(|| {
        format!(
            "malformed {} trailer `{}`: expected `<path> <arg>`",
            edit.key, edit.value
        )
    })?;
    let args = [arg.to_owned()];
    let request = if edit.is_image() {
        Request::Images {
            images: image_arg::parse_images(&args)?,
            expect: None,
            no_downgrade,
        }
    } else if edit.key.eq_ignore_ascii_case(REPLICAS_TRAILER) {
        Request::Replicas(image_arg::parse_replicas(&args)?)
    } else {
        bail!("`{}` is not a kustomerge trailer", edit.key);
    };
    Ok((path, request))
}

/// What a replayed request's rewrite means to push.
fn replayed(rewritten: Rewritten) -> anyhow::Result<(Reapplied, Option<String>)> {
    Ok(match rewritten {
        Rewritten::Refused(reason) => bail!("{reason}"),
        Rewritten::Text { skipped, .. } if !skipped.is_empty() => {
            let why = skipped.into_iter().map(|(_, why)| why).collect::<Vec<_>>();
            (Reapplied::SkippedNewer(why.join("; ")), None)
        }
        Rewritten::Text {
            text: Some(text), ..
        } => (Reapplied::Changed, Some(text)),
        Rewritten::Text { text: None, .. } => (Reapplied::AlreadySet, None),
    })
}

/// The unified diff from `old` to `new`, both labelled `label` (git's
/// `a/` and `b/` prefixes are left out: the label is a path to open).
pub fn unified_diff(label: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(label, label)
        .to_string()
}

/// One setter invocation: parsed arguments plus their guards.
pub enum Request {
    /// `set-image`.
    Images {
        images: Vec<ImageArg>,
        expect: Option<String>,
        no_downgrade: bool,
    },
    /// `set-replicas` (no guards: a replica count has no order to protect).
    Replicas(Vec<ReplicaArg>),
}

/// What [`Request::edit_or_preview`] did.
pub enum Outcome {
    /// `--expect` did not hold; nothing was written.
    Refused(String),
    /// The rest of the request is in the file now.
    Done {
        /// Whether the file was rewritten.
        changed: bool,
        /// The images left out under `--no-downgrade`, as (name, why).
        skipped: Vec<(String, String)>,
    },
}

/// What [`Request::rewrite`] makes of a file's bytes.
pub enum Rewritten {
    /// `--expect` did not hold.
    Refused(String),
    /// The request applied.
    Text {
        /// The new text, `None` when it equals the old.
        text: Option<String>,
        /// As in [`Outcome::Done`].
        skipped: Vec<(String, String)>,
    },
}

impl Request {
    fn schema(&self) -> &'static ListSchema {
        match self {
            Self::Images { .. } => &IMAGES,
            Self::Replicas(_) => &REPLICAS,
        }
    }

    /// The trailer `--commit` records this request under.
    pub fn trailer(&self) -> &'static str {
        match self {
            Self::Images { .. } => IMAGE_TRAILER,
            Self::Replicas(_) => REPLICAS_TRAILER,
        }
    }

    /// The entries to write, without the images `skip` names.
    fn replacements(&self, skip: &[String]) -> Vec<setter::Replacement> {
        match self {
            Self::Images { images, .. } => images
                .iter()
                .filter(|i| !skip.contains(&i.name))
                .map(ImageArg::replacement)
                .collect(),
            Self::Replicas(replicas) => replicas.iter().map(ReplicaArg::replacement).collect(),
        }
    }

    /// Why `--expect` refuses this edit of `doc`, if it does; and the images
    /// `--no-downgrade` leaves out, as (name, reason).
    ///
    /// The two guards differ on purpose. `--expect` is a compare-and-set the
    /// caller asked to fail on. `--no-downgrade` is there so that an older
    /// build finishing late does nothing, and doing nothing is not a failure:
    /// a re-run of an old pipeline must not turn red, and `push
    /// --no-downgrade` makes the same call on the fresh tip.
    #[allow(clippy::type_complexity)]
    fn guards(&self, doc: &Document<'_>) -> anyhow::Result<Result<Vec<(String, String)>, String>> {
        let Self::Images {
            images,
            expect,
            no_downgrade,
        } = self
        else {
            return Ok(Ok(Vec::new()));
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
        let mut skipped = Vec::new();
        for image in images {
            let current = setter::current_value(doc, &IMAGES, &image.name, "newTag");
            if let Some(want) = expect
                && current.unwrap_or("") != want
            {
                return Ok(Err(format!(
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
                skipped.push((
                    image.name.clone(),
                    format!("`{}` {new} is older than {cur}", image.name),
                ));
            }
        }
        Ok(Ok(skipped))
    }

    /// The request applied to `bytes` (the file at `path`, named in errors).
    pub fn rewrite(&self, bytes: &[u8], path: &Path, notes: bool) -> anyhow::Result<Rewritten> {
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
        let src = kustomization::decode(bytes).map_err(at)?;
        let doc = Document::parse(src).map_err(at)?;
        let skipped = match self
            .guards(&doc)
            .with_context(|| format!("{}: refusing to edit", path.display()))?
        {
            Err(reason) => return Ok(Rewritten::Refused(reason)),
            Ok(skipped) => skipped,
        };
        let names: Vec<String> = skipped.iter().map(|(name, _)| name.clone()).collect();
        let replacements = self.replacements(&names);
        let text = if replacements.is_empty() {
            None
        } else {
            let applied = setter::apply(&doc, self.schema(), &replacements).map_err(at)?;
            for note in applied.notes.iter().filter(|_| notes) {
                eprintln!("kustomerge: {}: {note}", path.display());
            }
            (applied.text != src).then_some(applied.text)
        };
        Ok(Rewritten::Text { text, skipped })
    }

    /// Applies the request to `path`, writing only when something changes,
    /// or with `dry_run` the same decisions with nothing written; either way
    /// also the diff of the edit.
    pub fn edit_or_preview(
        &self,
        path: &Path,
        notes: bool,
        dry_run: bool,
    ) -> anyhow::Result<(Outcome, String)> {
        let bytes = fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
        Ok(match self.rewrite(&bytes, path, notes)? {
            Rewritten::Refused(reason) => (Outcome::Refused(reason), String::new()),
            Rewritten::Text { text, skipped } => {
                let mut diff = String::new();
                if let Some(text) = &text {
                    // `rewrite` decoded these bytes as UTF-8 already.
                    let old = String::from_utf8_lossy(&bytes);
                    diff = unified_diff(&path.display().to_string(), &old, text);
                    if !dry_run {
                        write_atomically(path, text.as_bytes())?;
                    }
                }
                let outcome = Outcome::Done {
                    changed: text.is_some(),
                    skipped,
                };
                (outcome, diff)
            }
        })
    }
}
