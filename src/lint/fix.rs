//! `check --fix`: the mechanical fixes the rules offer, changing only the
//! fixed tokens' bytes. It quotes YAML 1.1 numbers and bools in the
//! entries' string fields (`newTag: 1.10` -> `newTag: "1.10"`; never a
//! null, which quoted would become the string `~`), writes the field names
//! kustomize reads case-insensitively in their one spelling (`Images:`,
//! `NewTag:`), and deletes the later line of an item listed twice in one
//! list of strings. The rest is reported as usual, as what it could not
//! fix. A file kustomize could read before must read the same after, but
//! for the deleted repeats ([`meaning::read`]), or nothing is written.

use std::collections::HashSet;
use std::path::Path;

use anyhow::bail;

use super::{Problem, Report, check_bytes};
use crate::meaning::{self, Kustomization, Value};

/// Passes of fix-then-recheck: a fix can uncover problems the first pass
/// could not see (a `Images:` key hides the list's entries), and a pass
/// that fixes nothing ends the loop.
const FIX_PASSES: usize = 4;

/// `check --fix` on one file: applies every fix the check offers, checks
/// again (up to [`FIX_PASSES`] times), and records in `report` what was
/// fixed, what is left, and the file's new text when it changed.
///
/// The fixes change only the bytes of the fixed tokens, or delete the
/// later line of an item listed twice. As a guard against a fix that
/// changes what kustomize reads, a file the independent reader
/// ([`meaning::read`]) could read before must read the same after, but for
/// those repeats; otherwise nothing is written and the run fails.
pub(super) fn fix_file(
    path: &Path,
    label: &str,
    bytes: &[u8],
    report: &mut Report,
) -> anyhow::Result<()> {
    let (text, fixed, left) = fix_bytes(label, bytes);
    if let Some(text) = text {
        if let Ok(before) = meaning::read(bytes) {
            match meaning::read(text.as_bytes()).map(without_repeats) {
                Ok(after) if after == without_repeats(before) => {}
                after => bail!(
                    "{label}: the fixes would change what kustomize reads ({}); nothing written. This is a bug in kustomerge: please report it with the file",
                    after
                        .err()
                        .map_or("different values".to_owned(), |e| e.to_string())
                ),
            }
        }
        report.rewrites.push((path.to_owned(), text));
    }
    report.files_checked += left.files_checked;
    report.problems.extend(left.problems);
    report.notes.extend(left.notes);
    report.fixed.get_or_insert_with(Vec::new).extend(fixed);
    Ok(())
}

/// The fixes of [`fix_file`] on bytes: the new text (`None` when nothing
/// was fixed), the problems fixed, and the report on the new text.
pub fn fix_bytes(label: &str, bytes: &[u8]) -> (Option<String>, Vec<Problem>, Report) {
    let mut text: Option<String> = None;
    let mut fixed = Vec::new();
    for _ in 0..FIX_PASSES {
        let mut report = Report::default();
        let current = text.as_deref().map_or(bytes, str::as_bytes);
        check_bytes(label, current, &mut report);
        let Ok(src) = std::str::from_utf8(current) else {
            return (text, fixed, report);
        };
        let mut edits = std::mem::take(&mut report.edits);
        edits.sort_by_key(|(_, range, _)| range.start);
        // Overlapping edits can't both apply; the later one waits a pass.
        let mut end = 0;
        edits.retain(|(_, range, _)| {
            let keep = range.start >= end;
            end = end.max(range.end);
            keep
        });
        if edits.is_empty() {
            return (text, fixed, report);
        }
        let mut out = String::with_capacity(src.len() + 2 * edits.len());
        let mut at = 0;
        for (i, range, replacement) in &edits {
            out.push_str(&src[at..range.start]);
            out.push_str(replacement);
            at = range.end;
            fixed.push(report.problems[*i].clone());
        }
        out.push_str(&src[at..]);
        text = Some(out);
    }
    let mut report = Report::default();
    check_bytes(
        label,
        text.as_deref().map_or(bytes, str::as_bytes),
        &mut report,
    );
    (text, fixed, report)
}

/// What a file reads as, leaving out the later repeats of an item in a list
/// of strings: the one change to the meaning a fix may make.
fn without_repeats(mut k: Kustomization<'_>) -> Kustomization<'_> {
    for value in k.fields.values_mut() {
        if let Value::Seq(items) = value {
            let mut seen = HashSet::new();
            items.retain(|item| !matches!(item, Value::Str(_)) || seen.insert(item.clone()));
        }
    }
    k
}
