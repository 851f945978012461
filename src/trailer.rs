//! The commit trailers `set-image --commit` and `set-replicas --commit`
//! write, and `push` reads back to redo the edit on a fresh tip instead of
//! rebasing it: `Kustomerge-Set-Image: <path from repo root> <arg>`.
//!
//! One grammar, written in one place and read in one place: the argument
//! never holds a space (`--commit` refuses one), so the path is everything
//! before the last space, spaces included. Keys match case-insensitively,
//! as git matches trailer keys.

use std::fmt;

/// The trailer `set-image --commit` writes.
pub const IMAGE_TRAILER: &str = "Kustomerge-Set-Image";
/// The trailer `set-replicas --commit` writes.
pub const REPLICAS_TRAILER: &str = "Kustomerge-Set-Replicas";
/// Every kustomerge trailer.
pub const KEYS: [&str; 2] = [IMAGE_TRAILER, REPLICAS_TRAILER];

/// One edit recorded in a commit trailer: `Key: <path> <arg>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The trailer key, e.g. `Kustomerge-Set-Image`.
    pub key: String,
    /// The trailer value, `<path> <arg>`.
    pub value: String,
}

impl Edit {
    /// The edit of `arg` on the file at `path` (relative to the repository
    /// root), under `key`.
    pub fn new(key: &str, path: &str, arg: &str) -> Self {
        Self {
            key: key.to_owned(),
            value: format!("{path} {arg}"),
        }
    }

    /// The file and the argument; `None` when the value has no space.
    pub fn split(&self) -> Option<(&str, &str)> {
        let (path, arg) = self.value.trim().rsplit_once(' ')?;
        Some((path.trim(), arg))
    }

    /// The file the edit applies to, relative to the repository root.
    pub fn path(&self) -> &str {
        self.split().map_or("", |(p, _)| p)
    }

    /// Whether this is a `set-image` edit.
    pub fn is_image(&self) -> bool {
        self.key.eq_ignore_ascii_case(IMAGE_TRAILER)
    }
}

impl fmt::Display for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.value)
    }
}

/// The kustomerge edits among a commit's trailers (`git log
/// --format=%(trailers:only,unfold)`), keys spelled canonically.
pub fn parse(trailers: &str) -> Vec<Edit> {
    trailers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(k, v)| {
            let key = KEYS.iter().find(|t| t.eq_ignore_ascii_case(k.trim()))?;
            Some(Edit {
                key: (*key).to_owned(),
                value: v.trim().to_owned(),
            })
        })
        .collect()
}
