//! Files the user owns, and directories only we use.
//!
//! Every command that changes a file the user owns (the setters'
//! kustomization files, `check --fix`) writes it one way, so a crash, a full
//! disk or a power cut leaves the old bytes or the new ones, never half of
//! each, and the file keeps its mode. The driver's `%A` goes the same way
//! but for the fsync (see [`write_merge_result`]).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use tempfile::TempDir;

/// Replaces `path`'s contents through a temp file in the same directory,
/// fsynced, given `path`'s permissions, then renamed over it; a symlink is
/// followed, not replaced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let target = std::fs::canonicalize(path)
        .with_context(|| format!("could not resolve {}", path.display()))?;
    replace(&target, bytes, true)
}

/// [`write_atomically`] for the driver's `%A`, git's own temp file, which
/// git reads back by name at once and then deletes: a symlink there is
/// replaced, not followed, and there is no fsync, since only a crash
/// halfway must not leave half a file. An fsync cost about 4 ms per merged
/// file on disk (measured against the merge's 3–6 ms), on every replayed
/// commit of a rebase.
pub fn write_merge_result(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    replace(path, bytes, false)
}

/// Writes `bytes` to a temp file beside `target`, fsynced if `durable`,
/// with `target`'s permissions, and renames it over `target`.
fn replace(target: &Path, bytes: &[u8], durable: bool) -> anyhow::Result<()> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .context("the file has no name")?
        .to_string_lossy();
    let result = (|| {
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".kustomerge.tmp")
            .tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        if durable {
            tmp.as_file().sync_all()?;
        }
        std::fs::set_permissions(tmp.path(), std::fs::metadata(target)?.permissions())?;
        tmp.persist(target).map_err(|e| e.error)?;
        Ok::<_, std::io::Error>(())
    })();
    result.with_context(|| format!("could not write {}", target.display()))
}

/// A private temp directory, `kustomerge-<what>-…`, removed on drop.
pub fn scratch(what: &str) -> anyhow::Result<TempDir> {
    let parent = std::env::temp_dir();
    tempfile::Builder::new()
        .prefix(&format!("kustomerge-{what}-"))
        .tempdir_in(&parent)
        .with_context(|| format!("could not create a temp directory in {}", parent.display()))
}
