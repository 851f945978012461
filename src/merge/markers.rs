//! Reading conflict markers back: the three sides a conflicted file was
//! written from, for `resolve` to merge again.
//!
//! A file in diff3 (or zdiff3) style holds every side of each hunk, and the
//! text outside the hunks is taken as common to all three: that is what git
//! wrote there (a change only one side made is already applied), so merging
//! the reconstruction again gives the same result as merging the originals.
//! Merge style drops the base, and no merge can be run without it.
//!
//! Markers are found by shape: a run of one marker character at the start of
//! a line, then the end of the line or a space and a label. The run length is
//! the longest `<` run in the file, not 7: kustomerge lengthens its markers
//! past marker-like lines the inputs hold, and git's `conflict-marker-size`
//! attribute does too, so shorter runs are content. Every marker line is
//! dropped whole (CRLF included); every content line is kept byte for byte.

use std::fmt;
use std::ops::Range;

use super::text::{DEFAULT_MARKER_SIZE, Markers};

/// One conflict hunk, borrowed from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk<'a> {
    /// The 1-based line of its opening `<<<<<<<` marker.
    pub line: usize,
    /// The current side's lines (between `<<<<<<<` and `|||||||`/`=======`).
    pub current: &'a [u8],
    /// The base's lines (after `|||||||`); `None` in merge style.
    pub base: Option<&'a [u8]>,
    /// The other side's lines (between `=======` and `>>>>>>>`).
    pub other: &'a [u8],
}

/// A part of a conflicted file: text shared by all sides, or a hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Lines outside any hunk.
    Common(&'a [u8]),
    /// A conflict hunk.
    Hunk(Hunk<'a>),
}

/// The labels written after the first hunk's markers; empty where a marker
/// had none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    /// After `<<<<<<<`.
    pub current: String,
    /// After `|||||||`.
    pub base: String,
    /// After `>>>>>>>`.
    pub other: String,
}

/// A file read as conflict hunks and the text around them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflicted<'a> {
    /// The marker run length.
    pub size: usize,
    /// The first hunk's labels.
    pub labels: Labels,
    /// The file, in order.
    pub segments: Vec<Segment<'a>>,
}

/// Markers that don't nest the way git writes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct Malformed {
    /// The 1-based line of the offending marker (or of the unclosed one).
    pub line: usize,
    /// What is wrong there.
    pub problem: String,
}

/// Why a conflicted file's sides can't all be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoBase {
    /// The first hunk without a base section.
    pub line: usize,
}

impl fmt::Display for NoBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the conflict at line {} has no base section (merge-style markers)",
            self.line
        )
    }
}

/// Which section of a hunk a line belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Current,
    Base,
    Other,
}

/// The marker character and label of `line` if it is a marker of `size`.
fn marker(line: &[u8], size: usize) -> Option<(u8, &[u8])> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let &c = line.first()?;
    if !matches!(c, b'<' | b'|' | b'=' | b'>') {
        return None;
    }
    let run = line.iter().take_while(|&&b| b == c).count();
    match &line[run..] {
        [] if run == size => Some((c, &[])),
        [b' ', label @ ..] if run == size => Some((c, label)),
        _ => None,
    }
}

/// The longest `<` marker run in `text`, if it has one of git's length or more.
fn marker_size(text: &[u8]) -> Option<usize> {
    text.split(|&b| b == b'\n')
        .filter_map(|line| {
            let run = line.iter().take_while(|&&b| b == b'<').count();
            (run >= DEFAULT_MARKER_SIZE && marker(line, run).is_some()).then_some(run)
        })
        .max()
}

/// A hunk being read: where it opened, the section now being read, and
/// each section's byte range so far.
struct Open {
    line: usize,
    section: Section,
    spans: [Option<Range<usize>>; 3],
    labels: Labels,
}

impl Open {
    /// Ends the section being read at `at`.
    fn close(&mut self, at: usize) {
        if let Some(span) = &mut self.spans[self.section as usize] {
            span.end = at;
        }
    }

    /// Ends the section being read at `at` and starts `next` at `from`.
    fn switch(&mut self, at: usize, next: Section, from: usize) {
        self.close(at);
        self.spans[next as usize] = Some(from..from);
        self.section = next;
    }
}

/// Reads `text` as conflict hunks; `None` when it holds no conflict markers.
pub fn parse(text: &[u8]) -> Result<Option<Conflicted<'_>>, Malformed> {
    let Some(size) = marker_size(text) else {
        return Ok(None);
    };
    let mut first_labels = None;
    let mut segments = Vec::new();
    // Where the text outside hunks not yet pushed starts.
    let mut start = 0;
    let mut open: Option<Open> = None;
    let mut at = 0;
    let bad = |line: usize, c: u8, problem: &str| Malformed {
        line,
        problem: format!("`{}` {problem}", String::from(c as char).repeat(size)),
    };
    for (i, line) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let end = at + line.len();
        let lossy = |label: &[u8]| String::from_utf8_lossy(label).into_owned();
        match (marker(line, size), &mut open) {
            (None, _) => {}
            (Some((b'<', label)), None) => {
                if at > start {
                    segments.push(Segment::Common(&text[start..at]));
                }
                open = Some(Open {
                    line: n,
                    section: Section::Current,
                    spans: [Some(end..end), None, None],
                    labels: Labels {
                        current: lossy(label),
                        ..Labels::default()
                    },
                });
            }
            // A line of `=` alone is content outside a hunk (in a block scalar, say).
            (Some((b'=', _)), None) => {}
            (Some((c, _)), None) => return Err(bad(n, c, "outside a conflict")),
            (Some((c, label)), Some(hunk)) => match (c, hunk.section) {
                (b'|', Section::Current) => {
                    hunk.switch(at, Section::Base, end);
                    hunk.labels.base = lossy(label);
                }
                (b'=', Section::Current | Section::Base) => hunk.switch(at, Section::Other, end),
                (b'>', Section::Other) => {
                    hunk.close(at);
                    hunk.labels.other = lossy(label);
                    let slice = |s: Section| hunk.spans[s as usize].clone().map(|r| &text[r]);
                    segments.push(Segment::Hunk(Hunk {
                        line: hunk.line,
                        current: slice(Section::Current).unwrap_or_default(),
                        base: slice(Section::Base),
                        other: slice(Section::Other).unwrap_or_default(),
                    }));
                    first_labels.get_or_insert_with(|| hunk.labels.clone());
                    open = None;
                    start = end;
                }
                _ => {
                    let problem =
                        format!("out of place in the conflict opened at line {}", hunk.line);
                    return Err(bad(n, c, &problem));
                }
            },
        }
        at = end;
    }
    if let Some(hunk) = open {
        return Err(bad(hunk.line, b'<', "is never closed"));
    }
    if start < text.len() {
        segments.push(Segment::Common(&text[start..]));
    }
    Ok(Some(Conflicted {
        size,
        labels: first_labels.unwrap_or_default(),
        segments,
    }))
}

impl Conflicted<'_> {
    /// The labels and marker size the file was written with, so that a
    /// conflict written again reads as git's did; git's defaults where a
    /// marker had no label.
    pub fn markers(&self) -> Markers {
        let defaults = Markers::default();
        let or = |label: &str, default: String| {
            if label.is_empty() {
                default
            } else {
                label.to_owned()
            }
        };
        Markers {
            current: or(&self.labels.current, defaults.current),
            base: or(&self.labels.base, defaults.base),
            other: or(&self.labels.other, defaults.other),
            size: self.size,
        }
    }

    /// The hunks, in order.
    pub fn hunks(&self) -> impl Iterator<Item = &Hunk<'_>> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Hunk(h) => Some(h),
            Segment::Common(_) => None,
        })
    }

    /// The (base, current, other) texts the file was written from, with the
    /// text outside the hunks in all three.
    pub fn sides(&self) -> Result<[Vec<u8>; 3], NoBase> {
        let mut sides: [Vec<u8>; 3] = Default::default();
        for segment in &self.segments {
            match segment {
                Segment::Common(text) => sides.iter_mut().for_each(|s| s.extend(*text)),
                Segment::Hunk(h) => {
                    let base = h.base.ok_or(NoBase { line: h.line })?;
                    for (side, part) in sides.iter_mut().zip([base, h.current, h.other]) {
                        side.extend(part);
                    }
                }
            }
        }
        Ok(sides)
    }
}

/// The keys a file's conflict regions cover: top-level keys written inside a
/// region, and `list[name]` for entries of keyed lists (named inside the
/// region, or the entry the region sits in).
pub fn conflict_keys(text: &str) -> Vec<String> {
    let size = marker_size(text.as_bytes()).unwrap_or(DEFAULT_MARKER_SIZE);
    let is = |line: &str, c: u8| marker(line.as_bytes(), size).is_some_and(|(m, _)| m == c);
    let mut keys: Vec<String> = Vec::new();
    let (mut top, mut name) = (String::new(), String::new());
    let mut region: Option<bool> = None; // Some(named inside) while in a region
    for line in text.lines() {
        if is(line, b'<') {
            region = Some(false);
            continue;
        }
        if is(line, b'>') {
            if region == Some(false) && !name.is_empty() && !top.is_empty() {
                push_unique(&mut keys, format!("{top}[{name}]"));
            }
            region = None;
            continue;
        }
        if is(line, b'=') || is(line, b'|') {
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
    use super::{Labels, conflict_keys, parse};

    /// The (base, current, other) a text gives back, as text.
    fn sides(text: &[u8]) -> [String; 3] {
        let parsed = parse(text).unwrap().unwrap();
        parsed
            .sides()
            .unwrap()
            .map(|side| String::from_utf8(side).unwrap())
    }

    #[test]
    fn diff3_hunks_give_back_the_three_sides() {
        let text = b"a: 1\n<<<<<<< HEAD\nb: 2\n||||||| base\nb: 1\n=======\nb: 3\n>>>>>>> topic (bump b)\nc: 1\n";
        assert_eq!(
            sides(text),
            [
                "a: 1\nb: 1\nc: 1\n",
                "a: 1\nb: 2\nc: 1\n",
                "a: 1\nb: 3\nc: 1\n"
            ]
        );
        let parsed = parse(text).unwrap().unwrap();
        assert_eq!(
            parsed.labels,
            Labels {
                current: "HEAD".into(),
                base: "base".into(),
                other: "topic (bump b)".into()
            }
        );
        assert_eq!(parsed.hunks().map(|h| h.line).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn crlf_markers_are_dropped_whole_and_content_keeps_its_endings() {
        let text = b"a\r\n<<<<<<< ours\r\nb\r\n||||||| base\r\n=======\r\nc\n>>>>>>> theirs\r\nd";
        assert_eq!(sides(text), ["a\r\nd", "a\r\nb\r\nd", "a\r\nc\nd"]);
    }

    #[test]
    fn longer_markers_win_and_shorter_runs_are_content() {
        let text = b"<<<<<<<<<\n=======\n|||||||||\n<<<<<<< x\n=========\n>>>>>>>\n>>>>>>>>>\n";
        assert_eq!(parse(text).unwrap().unwrap().size, 9);
        assert_eq!(sides(text), ["<<<<<<< x\n", "=======\n", ">>>>>>>\n"]);
    }

    #[test]
    fn merge_style_hunks_have_no_base() {
        let text = b"a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n";
        let parsed = parse(text).unwrap().unwrap();
        assert_eq!(parsed.sides().unwrap_err().line, 2);
    }

    #[test]
    fn no_markers_and_broken_markers() {
        assert_eq!(parse(b"a: 1\n=======\n"), Ok(None));
        let err = |t: &[u8]| parse(t).unwrap_err().to_string();
        assert_eq!(err(b"<<<<<<< a\nx\n"), "line 1: `<<<<<<<` is never closed");
        assert_eq!(
            err(b"<<<<<<< a\n=======\n|||||||\n>>>>>>>\n"),
            "line 3: `|||||||` out of place in the conflict opened at line 1"
        );
        assert_eq!(
            err(b"<<<<<<< a\n=======\n>>>>>>>\n>>>>>>> b\n"),
            "line 4: `>>>>>>>` outside a conflict"
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

    #[test]
    fn conflict_keys_read_markers_at_the_files_own_size() {
        let text = "a: 1\n<<<<<<< not a marker here\nb: 2\n<<<<<<<<< ours\nc: 3\n=========\nc: 4\n>>>>>>>>> theirs\n";
        assert_eq!(conflict_keys(text), ["c"]);
    }
}
