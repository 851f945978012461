//! `resolve`: merging again a file that already holds conflict markers,
//! because git merged it without the driver (not registered in this clone,
//! or a tool that ignores drivers), the way `mergiraf solve` does.
//!
//! Where the three versions come from decides what can be trusted:
//!
//! - During a merge, rebase or cherry-pick the index holds them exactly
//!   (stages 1, 2, 3), as checked out (filters and line endings applied).
//!   Git's notion of sides is kept: stage 2 is the current side, which in a
//!   rebase is the upstream, and the labels are the ones git wrote in the
//!   file. The file must still be the conflict git wrote, as far as its hunks
//!   show: a hunk edited by hand would be lost by merging the index again.
//! - Outside one, only the file's diff3 markers hold all three
//!   ([`crate::merge::markers`]); merge-style markers lost the base.
//!
//! Either way the merge is the driver's own ([`crate::merge::merge`]), with its
//! independent check: a result is clean only when the driver would call it
//! clean.

use std::path::Path;

use anyhow::Context;

use crate::git::{Git, Unmerged};
use crate::merge::markers::{self, Conflicted, conflict_keys};
use crate::merge::{self, Markers, Options, Outcome};
use crate::version::SameImagePolicy;

/// What became of one file.
#[derive(Debug)]
pub enum Resolution {
    /// The driver's merge ran: clean when `outcome.conflicts` is 0.
    Merged(Merged),
    /// The file can't be merged again; the message says why and what to do.
    Refused(String),
    /// Not unmerged and holding no conflict markers: nothing to do.
    Unconflicted,
}

/// A merge of the three versions, and where any conflicts it left are.
#[derive(Debug)]
pub struct Merged {
    /// The driver's result.
    pub outcome: Outcome,
    /// The lines of the conflicts' opening markers in `outcome.bytes`.
    pub conflict_lines: Vec<usize>,
    /// The keys the conflicts cover (`images[api]`, `namePrefix`).
    pub conflict_keys: Vec<String>,
}

/// Merges `file` again from the index (when `unmerged` has its stages) or
/// from its diff3 markers. `shown` is the path as the user should type it in
/// a suggested command.
pub fn resolve(
    git: &Git,
    file: &Path,
    shown: &str,
    unmerged: Option<&Unmerged>,
    policy: SameImagePolicy,
) -> anyhow::Result<Resolution> {
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed = match markers::parse(&text) {
        Ok(parsed) => parsed,
        Err(bad) => {
            return Ok(Resolution::Refused(format!(
                "its conflict markers are broken ({bad}); fix them by hand{}",
                if unmerged.is_some() {
                    format!(", or recreate the conflict with `git checkout -m -- {shown}`")
                } else {
                    String::new()
                }
            )));
        }
    };
    let (sides, conflicted) = match (unmerged, parsed) {
        (Some(entry), parsed) => match from_index(git, entry, parsed.as_ref(), shown)? {
            Ok(sides) => (sides, parsed),
            Err(refusal) => return Ok(Resolution::Refused(refusal)),
        },
        (None, None) => return Ok(Resolution::Unconflicted),
        (None, Some(parsed)) => match parsed.sides() {
            Ok(sides) => (sides, Some(parsed)),
            Err(no_base) => {
                return Ok(Resolution::Refused(format!(
                    "{no_base}, and a merge needs the base; recreate the conflict in diff3 style with \
                     `git checkout --conflict=diff3 -- {shown}` during the merge (or set \
                     `git config merge.conflictStyle diff3` before merging), then run resolve again"
                )));
            }
        },
    };
    let opts = Options {
        policy,
        markers: conflicted
            .as_ref()
            .map_or_else(Markers::default, Conflicted::markers),
        git: git.clone(),
        virtual_base: false,
        // `KUSTOMERGE_FALLBACK` switches the driver off; resolve is asked for
        // by hand and has nothing to fall back to.
        forced_fallback: None,
    };
    let [base, current, other] = &sides;
    let outcome = merge::merge(base, current, other, &opts)?;
    let (conflict_lines, conflict_keys) = if outcome.conflicts == 0 {
        Default::default()
    } else {
        let lines = markers::parse(&outcome.bytes)
            .ok()
            .flatten()
            .map(|c| c.hunks().map(|h| h.line).collect())
            .unwrap_or_default();
        (
            lines,
            conflict_keys(&String::from_utf8_lossy(&outcome.bytes)),
        )
    };
    Ok(Resolution::Merged(Merged {
        outcome,
        conflict_lines,
        conflict_keys,
    }))
}

/// The (base, current, other) stages of `entry`, or why they can't be used.
fn from_index(
    git: &Git,
    entry: &Unmerged,
    parsed: Option<&Conflicted<'_>>,
    shown: &str,
) -> anyhow::Result<Result<[Vec<u8>; 3], String>> {
    let [Some(_), Some(_)] = [&entry.stages[1], &entry.stages[2]] else {
        return Ok(Err(format!(
            "one side deleted it and the other changed it; kustomerge merges contents, not \
             deletions: keep it with `git add -- {shown}` or delete it with `git rm -- {shown}`"
        )));
    };
    let Some(parsed) = parsed else {
        return Ok(Err(format!(
            "it holds no conflict markers any more (resolved by hand?): mark it resolved with \
             `git add -- {shown}`, or recreate the conflict with `git checkout -m -- {shown}`"
        )));
    };
    let stage = |n: usize| -> anyhow::Result<Vec<u8>> {
        match entry.stages[n - 1] {
            Some(_) => git.stage_as_checked_out(n, &entry.path),
            None => Ok(Vec::new()),
        }
    };
    let sides = [stage(1)?, stage(2)?, stage(3)?];
    let contains =
        |hay: &[u8], part: &[u8]| part.is_empty() || hay.windows(part.len()).any(|w| w == part);
    let edited = parsed.hunks().find(|h| {
        let [base, current, other] = &sides;
        !(contains(current, h.current)
            && contains(other, h.other)
            && h.base.is_none_or(|b| contains(base, b)))
    });
    if let Some(hunk) = edited {
        return Ok(Err(format!(
            "the conflict at line {} is not what git wrote (edited by hand?), and merging the \
             index again would lose that edit; finish it by hand, or recreate the conflict with \
             `git checkout -m -- {shown}` (dropping the edit) and run resolve again",
            hunk.line
        )));
    }
    Ok(Ok(sides))
}
