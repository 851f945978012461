//! The lint behind `kustomerge check`: what would make kustomize fail (or
//! silently do something other than what the file says), found before the
//! file reaches a cluster, each with a position and a fix.
//!
//! It reuses the span locator ([`Document::parse`]), which is stricter than
//! kustomize: it also refuses layouts kustomize accepts but kustomerge can't
//! edit (anchors, multi-line values). Those are *notes*, not problems, so a
//! valid file never blocks a push. The problems are what kustomize itself
//! would reject or misread, plus two spellings it tolerates but the tools
//! around it don't: `Images:` and `NewTag:` (kustomize matches keys
//! case-insensitively; Flux, Argo CD Image Updater and kustomerge's merge
//! match them exactly).
//!
//! The rules come in families, one file each: the file as a whole
//! ([`structure`]: encoding, conflict markers, YAML, top-level keys), the
//! `images:`/`replicas:` entries ([`entries`]), and the kustomization's
//! other lists ([`lists`]: what kustomize would load twice). [`fix`] applies
//! the mechanical fixes. This module holds the findings and where files
//! come from: a directory walk, or the commits a push publishes.

mod entries;
mod fix;
mod lists;
mod structure;

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::git::{self, Git};
use crate::kustomization::schema::ListSchema;
use crate::kustomization::{self, Document, FILE_NAMES};

pub use fix::fix_bytes;

/// One thing kustomize would reject or misread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, as given on the command line or as a repository path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// A stable identifier (`unknown-field`, `yaml11-scalar`, ...).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// Something kustomize accepts but kustomerge could not look into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Why the file (or the rest of it) was not checked.
    pub message: String,
}

/// Everything one run found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// How many files were read.
    pub files_checked: usize,
    /// The problems, file by file in the order checked (with `--fix`, the
    /// ones left after fixing).
    pub problems: Vec<Problem>,
    /// Files or parts of files that were skipped, and why.
    pub notes: Vec<Note>,
    /// With `--fix` only: the problems fixed, where they were found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Vec<Problem>>,
    /// With `--fix` only: the files to rewrite, with their fixed text
    /// (already held to [`fix`]'s guard). Writing them is the caller's.
    #[serde(skip)]
    pub rewrites: Vec<(PathBuf, String)>,
    /// The mechanical fix of each fixable problem: (index into
    /// `problems`, byte range of the file, replacement).
    #[serde(skip)]
    edits: Vec<(usize, std::ops::Range<usize>, String)>,
}

impl Report {
    fn problem(
        &mut self,
        file: &str,
        (line, column): (usize, usize),
        code: &'static str,
        message: String,
        fix: String,
    ) {
        self.problems.push(Problem {
            file: file.to_owned(),
            line,
            column,
            code,
            message,
            fix,
        });
    }

    /// Records how to fix the problem just reported.
    fn fixable(&mut self, range: std::ops::Range<usize>, text: String) {
        self.edits.push((self.problems.len() - 1, range, text));
    }

    fn note(&mut self, file: &str, (line, column): (usize, usize), message: String) {
        self.notes.push(Note {
            file: file.to_owned(),
            line,
            column,
            message,
        });
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn position(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Checks one file's bytes; `file` labels what is reported.
pub fn check_bytes(file: &str, bytes: &[u8], report: &mut Report) {
    report.files_checked += 1;
    let src = match kustomization::decode(bytes) {
        Ok(src) => src,
        Err(e) => {
            report.problem(file, (e.line, e.column), "encoding", e.message, e.hint);
            return;
        }
    };
    if structure::conflict_markers(file, src, report) {
        return;
    }
    let doc = match Document::parse(src) {
        Ok(doc) => doc,
        Err(e) => return structure::unparsed(file, src, &e, report),
    };
    if structure::not_kustomize(file, &doc, report) {
        return;
    }
    structure::top_level_keys(file, &doc, report);
    for list in &doc.lists {
        if let Some(schema) = ListSchema::for_key(&list.key) {
            entries::entries(file, &doc, schema, list, report);
        }
    }
    lists::lists(file, src, report);
}

/// Checks files and directories (recursively, skipping hidden directories).
/// An explicitly named file is checked whatever its name. With `fix`, the
/// report's `rewrites` say what to write.
pub fn check_paths(paths: &[PathBuf], fix: bool) -> anyhow::Result<Report> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files).with_context(|| format!("could not read {}", path.display()))?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{} does not exist", path.display());
        }
    }
    let mut report = Report {
        fixed: fix.then(Vec::new),
        ..Report::default()
    };
    let mut dirs_seen = BTreeSet::new();
    for file in &files {
        let label = file.display().to_string();
        let bytes = std::fs::read(file).with_context(|| format!("could not read {label}"))?;
        if fix {
            fix::fix_file(file, &label, &bytes, &mut report)?;
        } else {
            check_bytes(&label, &bytes, &mut report);
        }
        let dir = file.parent().unwrap_or(Path::new(""));
        if is_kustomization_name(file) && dirs_seen.insert(dir.to_path_buf()) {
            let present: Vec<&str> = FILE_NAMES
                .iter()
                .copied()
                .filter(|n| dir.join(n).is_file())
                .collect();
            several_files(&dir.display().to_string(), &present, &mut report);
        }
    }
    Ok(report)
}

fn is_kustomization_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(kustomization::is_file_name)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        // `file_type` doesn't follow symlinks, so a link loop can't trap us.
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
            walk(&path, out)?;
        } else if kind.is_file() && is_kustomization_name(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// kustomize refuses a directory holding more than one kustomization file.
fn several_files(dir: &str, present: &[&str], report: &mut Report) {
    if let [first, rest @ ..] = present
        && !rest.is_empty()
    {
        let sep = if dir.is_empty() { "" } else { "/" };
        report.problem(
            &format!("{dir}{sep}{}", rest[0]),
            (1, 1),
            "several-kustomizations",
            format!(
                "this directory holds {} kustomization files ({}); kustomize refuses to build it",
                present.len(),
                present.join(", ")
            ),
            format!("keep one (kustomize would read `{first}`) and delete the others"),
        );
    }
}

/// Checks what a push would publish: the kustomization files the pushed
/// commits change, as they are *in those commits* (not in the worktree),
/// read with one `git cat-file --batch`. `lines` are git's pre-push input.
pub fn pre_push(git: &Git, remote: &str, lines: impl BufRead) -> anyhow::Result<Report> {
    // (commit, path) pairs, each once.
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for pushed in git::read_pre_push(lines)? {
        for path in git.pushed_paths(remote, &pushed.local_sha, &pushed.remote_sha)? {
            if is_kustomization_name(Path::new(&path)) {
                wanted.insert((pushed.local_sha.clone(), path));
            }
        }
    }
    let mut report = Report::default();
    let wanted: Vec<(String, String)> = wanted.into_iter().collect();
    let objects: Vec<String> = wanted
        .iter()
        .map(|(sha, path)| format!("{sha}:{path}"))
        .collect();
    for ((_, path), blob) in wanted.iter().zip(git.blobs(&objects)?) {
        // Absent at the pushed commit: changed on the way, then deleted.
        if let Some(bytes) = blob {
            check_bytes(path, &bytes, &mut report);
        }
    }
    let mut dirs: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (sha, path) in &wanted {
        dirs.entry(sha)
            .or_default()
            .insert(path.rsplit_once('/').map_or("", |(d, _)| d));
    }
    for (sha, dirs) in dirs {
        let tree = git.tree_paths(sha)?;
        let mut present: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for path in &tree {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if dirs.contains(dir)
                && let Some(n) = FILE_NAMES.iter().find(|n| **n == name)
            {
                present.entry(dir).or_default().push(n);
            }
        }
        for (dir, mut names) in present {
            names.sort_by_key(|n| FILE_NAMES.iter().position(|f| f == n));
            several_files(dir, &names, &mut report);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::{Report, check_bytes};

    pub(super) fn codes(src: &str) -> Vec<(usize, usize, &'static str)> {
        let mut report = Report::default();
        check_bytes("k.yaml", src.as_bytes(), &mut report);
        report
            .problems
            .iter()
            .map(|p| (p.line, p.column, p.code))
            .collect()
    }

    #[test]
    fn each_entry_problem_has_a_position() {
        let src = "images:\n- name: a\n  newTag: 1.10\n  newDigest: sha256:x\n- newTag: v1\n- name: a\n  digest: sha256:abc\nreplicas:\n- name: w\n  count: \"3\"\n";
        assert_eq!(
            codes(src),
            [
                (3, 11, "yaml11-scalar"),
                (4, 3, "unknown-field"),
                (5, 1, "missing-name"),
                (6, 9, "duplicate-name"),
                (7, 11, "malformed-digest"),
                (10, 10, "invalid-count"),
            ]
        );
    }
}
