//! `kustomerge doctor`: runs [`crate::setup::doctor`]'s checks and prints
//! one line per link of the chain (with the fix when it is broken), or one
//! JSON object. Problems exit 1; warnings don't.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::exit;
use crate::git::Git;
use crate::setup::doctor::{self, Check, Status};

/// What `doctor --json` prints: the same keys every time, in the style of
/// `check --format json`.
#[derive(Debug, Serialize)]
struct Report<'a> {
    /// Checks that failed (the run exits 1 when this isn't 0).
    problems: usize,
    /// Checks that warned.
    warnings: usize,
    /// Every check in the order run: `status` is `ok`, `warn` or `fail`.
    checks: &'a [Check],
}

/// `kustomerge doctor`.
pub fn run(args: &DoctorArgs) -> anyhow::Result<u8> {
    if let Some(dir) = &args.dir {
        std::env::set_current_dir(dir)
            .with_context(|| format!("-C {}: could not change into it", dir.display()))?;
    }
    let checks = doctor::diagnose(&Git::new())?;
    let mut out = std::io::stdout().lock();
    let count = |status| checks.iter().filter(|c| c.status == status).count();
    let (problems, warnings) = (count(Status::Fail), count(Status::Warn));
    let code = if problems == 0 {
        exit::SUCCESS
    } else {
        exit::PROBLEMS
    };
    if args.json {
        let report = Report {
            problems,
            warnings,
            checks: &checks,
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(code);
    }
    for check in &checks {
        let mark = match check.status {
            Status::Ok => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
        };
        writeln!(out, "{mark} {}", check.what)?;
        if let Some(fix) = &check.fix {
            writeln!(out, "    fix: {fix}")?;
        }
    }
    if problems == 0 && warnings == 0 {
        writeln!(out, "doctor: all checks passed")?;
    } else {
        writeln!(out, "doctor: {problems} problem(s), {warnings} warning(s)")?;
    }
    Ok(code)
}
