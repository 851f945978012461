//! The line merge: git's own `git merge-file`, for the text outside the keyed
//! lists and for whole files kustomerge can't model.
//!
//! We shell out rather than reimplement: in merge style git runs xdiff at the
//! zealous level and folds nearby conflicts, writes CRLF markers in CRLF
//! files, and aligns repeated lines its own way. No pure-Rust merge matched it
//! byte for byte (see README, "Crates"), and the fallback must be exactly what
//! git would have done without us.

use std::path::PathBuf;

use anyhow::Context;

use crate::git::Git;
use crate::kustomization::Eol;
use crate::merge::render::{ConflictStyle, conflict_block};

/// The longest conflict markers a driver line's `%L` can ask for. git sends
/// 7, or the `conflict-marker-size` attribute, plus 2 per criss-cross level;
/// a larger value is a mistake, and one in the billions once aborted the
/// driver on allocation, which makes git abort the whole merge.
pub const MAX_MARKER_SIZE: usize = 1024;

/// `git merge-file`'s marker size, and the shortest run git writes.
pub const DEFAULT_MARKER_SIZE: usize = 7;

/// Git's `%L` as a marker size: 0 means the default, as it does for
/// `git merge-file`, and more than [`MAX_MARKER_SIZE`] is capped.
pub fn requested_marker_size(percent_l: usize) -> usize {
    match percent_l {
        0 => DEFAULT_MARKER_SIZE,
        n => n.min(MAX_MARKER_SIZE),
    }
}

/// Conflict labels and marker size, as git passes them to a driver.
#[derive(Debug, Clone)]
pub struct Markers {
    /// Label after `<<<<<<<`.
    pub current: String,
    /// Label after `|||||||` (diff3 style).
    pub base: String,
    /// Label after `>>>>>>>`.
    pub other: String,
    /// Length of each marker run.
    pub size: usize,
}

impl Default for Markers {
    /// `git merge-file`'s marker size with the labels git users know.
    fn default() -> Self {
        Self {
            current: "ours".into(),
            base: "base".into(),
            other: "theirs".into(),
            size: DEFAULT_MARKER_SIZE,
        }
    }
}

/// A line-merged text and its number of conflicts.
#[derive(Debug)]
pub struct TextMerge {
    /// The merged bytes, markers included.
    pub bytes: Vec<u8>,
    /// How many conflict hunks git reported.
    pub conflicts: usize,
}

/// Merges three buffers with `git merge-file`, through temp files.
pub fn merge(
    git: &Git,
    base: &[u8],
    current: &[u8],
    other: &[u8],
    markers: &Markers,
) -> anyhow::Result<TextMerge> {
    let dir = crate::fs::scratch("merge")?;
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<PathBuf> {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    let (o, a, b) = (
        write("base", base)?,
        write("current", current)?,
        write("other", other)?,
    );
    let out = git.merge_file(
        &a,
        &o,
        &b,
        [&markers.current, &markers.base, &markers.other],
        markers.size,
    )?;
    Ok(TextMerge {
        bytes: out.bytes,
        conflicts: out.conflicts,
    })
}

/// A marker size that can't be confused with lines already in the inputs:
/// `requested`, or one longer than the longest marker-like run present (as jj
/// does), so a file that holds `=======` in a comment still gets
/// unambiguous conflict markers.
pub fn marker_size(requested: usize, inputs: [&[u8]; 3]) -> usize {
    let mut size = requested;
    for input in inputs {
        for line in input.split(|&b| b == b'\n') {
            let Some(&c) = line.first() else { continue };
            if !matches!(c, b'<' | b'>' | b'=' | b'|') {
                continue;
            }
            let run = line.iter().take_while(|&&b| b == c).count();
            let rest = &line[run..];
            if run >= size && (rest.is_empty() || rest[0] == b' ' || rest == b"\r") {
                size = run + 1;
            }
        }
    }
    size
}

/// One conflict hunk around every line the three inputs don't share at
/// their start and end: for a clean line merge the check found wrong, where
/// no finer hunk is known to be right. Markers end lines as the current
/// side's first line does.
pub fn whole_conflict(
    base: &[u8],
    current: &[u8],
    other: &[u8],
    markers: &Markers,
    style: ConflictStyle,
) -> Vec<u8> {
    let lines = |b: &[u8]| -> Vec<Vec<u8>> {
        b.split_inclusive(|&c| c == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    };
    let [o, a, b] = [base, current, other].map(lines);
    let shortest = o.len().min(a.len()).min(b.len());
    let head = (0..shortest)
        .take_while(|&i| o[i] == a[i] && a[i] == b[i])
        .count();
    let tail = (0..shortest - head)
        .take_while(|&i| {
            let at = |v: &Vec<Vec<u8>>| v[v.len() - 1 - i].clone();
            at(&o) == at(&a) && at(&a) == at(&b)
        })
        .count();
    let middle = |v: &[Vec<u8>]| -> Option<String> {
        let text = String::from_utf8_lossy(&v[head..v.len() - tail].concat()).into_owned();
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        (!v[head..v.len() - tail].is_empty()).then(|| text.to_owned())
    };
    let eol = Eol::detect(&String::from_utf8_lossy(current));
    let block = conflict_block(
        middle(&a).as_deref(),
        middle(&o).as_deref(),
        middle(&b).as_deref(),
        markers,
        style,
        eol,
    );
    let mut out = a[..head].concat();
    out.extend_from_slice(block.as_bytes());
    out.extend_from_slice(eol.as_str().as_bytes());
    out.extend(a[a.len() - tail..].concat());
    out
}

#[cfg(test)]
mod tests {
    use super::{ConflictStyle, Markers, whole_conflict};

    /// The shared first and last lines stay outside the markers, the markers
    /// end lines as the file does, and diff3 style shows the base's lines.
    #[test]
    fn a_whole_conflict_marks_only_the_lines_the_sides_do_not_share() {
        let base = b"a: 1\r\nb: 1\r\nc: 1\r\n";
        let current = b"a: 1\r\nb: 2\r\nc: 1\r\n";
        let other = b"a: 1\r\nb: 3\r\nc: 1\r\n";
        let markers = Markers::default();
        let got = whole_conflict(base, current, other, &markers, ConflictStyle::Diff3);
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "a: 1\r\n<<<<<<< ours\r\nb: 2\r\n||||||| base\r\nb: 1\r\n=======\r\nb: 3\r\n>>>>>>> theirs\r\nc: 1\r\n"
        );
        // A side that only adds lines has an empty section.
        let got = whole_conflict(b"a\n", b"a\nb\n", b"a\nc\n", &markers, ConflictStyle::Merge);
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n"
        );
    }

    #[test]
    fn marker_size_grows_past_markers_in_the_inputs() {
        assert_eq!(super::marker_size(7, [b"a\n", b"b\n", b"c\n"]), 7);
        assert_eq!(super::marker_size(7, [b"=======\n", b"", b""]), 8);
        assert_eq!(super::marker_size(7, [b"", b"<<<<<<<<< x\r\n", b""]), 10);
        assert_eq!(super::marker_size(7, [b"", b"", b"==== short\n"]), 7);
    }

    #[test]
    fn percent_l_zero_is_the_default_and_huge_is_capped() {
        assert_eq!(super::requested_marker_size(0), 7);
        assert_eq!(super::requested_marker_size(9), 9);
        assert_eq!(super::requested_marker_size(usize::MAX), 1024);
    }
}
