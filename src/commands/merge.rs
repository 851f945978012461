//! `kustomerge merge`: the git merge driver entry point.
//!
//! Git's contract (gitattributes(5)): read `%O %A %B`, leave the result in
//! `%A`, exit 0 for clean, 1..=128 for a conflict, >128 for a failure. Nothing
//! goes to stdout (git mixes it into its own output); diagnostics go to
//! stderr. The result is written atomically, so a crash leaves `%A` intact.

use std::path::Path;

use anyhow::Context;

use crate::cli::MergeArgs;
use crate::exit;
use crate::git::Git;
use crate::merge::{self, Markers, Options};

/// Labels git 2.39 passes literally when the driver line uses `%S %X %Y`.
fn label(given: Option<&String>, placeholder: &str, default: &str) -> String {
    match given {
        Some(l) if l != placeholder && !l.is_empty() => l.clone(),
        _ => default.to_owned(),
    }
}

/// `KUSTOMERGE_FALLBACK=1` (anything but empty or `0`) forces git's line
/// merge for every file: a user's kill switch, documented in the README.
fn kill_switch() -> Option<String> {
    const VAR: &str = "KUSTOMERGE_FALLBACK";
    std::env::var_os(VAR)
        .filter(|v| !v.is_empty() && v != "0")
        .map(|_| format!("{VAR} is set"))
}

/// Runs the driver and returns git's exit code.
pub fn run(args: &MergeArgs) -> u8 {
    let path = args.path.as_deref().unwrap_or("kustomization");
    match try_run(args, path) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kustomerge: {path}: cannot merge: {err:#}");
            exit::MERGE_FAILURE
        }
    }
}

fn try_run(args: &MergeArgs, path: &str) -> anyhow::Result<u8> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let (base, current, other) = (read(&args.base)?, read(&args.current)?, read(&args.other)?);
    let defaults = Markers::default();
    let current_label = label(args.current_label.as_ref(), "%X", &defaults.current);
    let opts = Options {
        policy: args.same_image.into(),
        // Git's inner merge of a criss-cross history labels its sides so.
        virtual_base: current_label.starts_with("Temporary merge branch"),
        markers: Markers {
            current: current_label,
            base: label(args.base_label.as_ref(), "%S", &defaults.base),
            other: label(args.other_label.as_ref(), "%Y", &defaults.other),
            size: merge::text::requested_marker_size(args.marker_size),
        },
        git: Git::new(),
        forced_fallback: kill_switch(),
    };
    let outcome = merge::merge(&base, &current, &other, &opts)?;
    if let Some(reason) = &outcome.fallback {
        eprintln!("kustomerge: {path}: using git's line merge: {reason}");
    }
    if outcome.bytes != current {
        crate::fs::write_merge_result(&args.current, &outcome.bytes)?;
    }
    if outcome.conflicts == 0 {
        Ok(exit::SUCCESS)
    } else {
        eprintln!(
            "kustomerge: {path}: {} conflict(s) left for you to resolve",
            outcome.conflicts
        );
        Ok(exit::CONFLICT)
    }
}
