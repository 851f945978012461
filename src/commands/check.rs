//! `kustomerge check`: a fast lint for kustomization files, for pre-push
//! hooks, pre-commit and CI. The rules are [`crate::lint`]'s; this reads
//! the arguments, writes what `--fix` fixed, prints the report and picks
//! the exit code.
//!
//! With `--pre-push` it is git's pre-push hook: it reads git's pre-push
//! lines and checks the kustomization files as they are in the pushed
//! commits; everything it prints goes to stderr, which git shows.
//!
//! Exit codes: 0 clean, [`exit::PROBLEMS`] (1) when anything was reported,
//! [`exit::ERROR`] (2) when the check itself could not run.

use std::collections::BTreeSet;
use std::io::Write;

use crate::cli::{CheckArgs, Format};
use crate::exit;
use crate::git::Git;
use crate::lint::{self, Report};

/// Runs `check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let report = match &args.pre_push {
        Some(remote) => lint::pre_push(&Git::new(), &remote[0], std::io::stdin().lock())?,
        None => lint::check_paths(&args.paths, args.fix)?,
    };
    for (path, text) in &report.rewrites {
        crate::fs::write_atomically(path, text.as_bytes())?;
    }
    // As a hook, everything is diagnostics: git shows the hook's stderr.
    let out: &mut dyn Write = if args.pre_push.is_some() {
        &mut std::io::stderr().lock()
    } else {
        &mut std::io::stdout().lock()
    };
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => print_text(&report, out)?,
    }
    Ok(if report.problems.is_empty() {
        exit::SUCCESS
    } else {
        exit::PROBLEMS
    })
}

fn print_text(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    for p in report.fixed.iter().flatten() {
        eprintln!(
            "{}:{}:{}: fixed: {} [{}]",
            p.file, p.line, p.column, p.message, p.code
        );
    }
    for p in &report.problems {
        writeln!(
            out,
            "{}:{}:{}: {} ({}) [{}]",
            p.file, p.line, p.column, p.message, p.fix, p.code
        )?;
    }
    for n in &report.notes {
        eprintln!("{}:{}:{}: note: {}", n.file, n.line, n.column, n.message);
    }
    let files = report
        .problems
        .iter()
        .map(|p| &p.file)
        .collect::<BTreeSet<_>>()
        .len();
    let fixed = report
        .fixed
        .as_ref()
        .map_or(String::new(), |f| format!(", {} fixed", f.len()));
    eprintln!(
        "kustomerge check: {} file(s) checked{fixed}, {} problem(s) in {files} file(s)",
        report.files_checked,
        report.problems.len()
    );
    Ok(())
}
