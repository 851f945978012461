//! `kustomerge demo`: the README's "see it for yourself" command.
//!
//! It races N pipelines against a throwaway bare repository three times:
//! with the `git pull --rebase` retry loop people write by hand, with
//! `kustomerge set-image --commit` + `kustomerge push` (combining: losers
//! queue, the next winner carries them), and with `push --no-combine`
//! (every job races alone); optionally a fourth time, one kustomerge job
//! after another, the serialised workaround. It prints the runs side by
//! side, with the server calls each job made. The engine is [`crate::demo`], shared with the
//! tests and `benches/push-race.sh`.

use std::io::Write;

use std::time::Duration;

use anyhow::Context;

use crate::cli::DemoArgs;
use crate::demo::{Arena, Layout, Pipeline, table};
use crate::exit;

/// Runs the demo; exits 0 only if every kustomerge job landed and its tag is
/// in the final file.
pub fn run(args: &DemoArgs) -> anyhow::Result<u8> {
    let exe = std::env::current_exe().context("could not find the kustomerge binary's own path")?;
    let jobs = args.jobs.max(1);
    let latency = Duration::from_millis(args.latency);
    let layout = Layout::from(args.layout);
    let arena = Arena::with_latency(&exe, jobs, layout, latency)?;
    let layout = match layout {
        Layout::Block => "block",
        Layout::Flow => "flow",
    };
    eprintln!(
        "kustomerge demo: {jobs} pipelines, {layout} layout, {} ms per server call, in {}",
        args.latency,
        arena.path().display()
    );
    let mut runs = vec![
        (
            format!(
                "plain git (pull --rebase, {} retries)",
                crate::demo::PLAIN_RETRIES
            ),
            Pipeline::PlainGit,
            true,
        ),
        ("kustomerge push".to_owned(), Pipeline::Kustomerge, true),
        (
            "kustomerge push --no-combine".to_owned(),
            Pipeline::KustomergeAlone,
            true,
        ),
    ];
    if args.serial {
        runs.push((
            "serialised (kustomerge, one at a time)".to_owned(),
            Pipeline::Kustomerge,
            false,
        ));
    }
    let mut reports = Vec::new();
    for (label, pipeline, parallel) in runs {
        eprintln!("kustomerge demo: running {label} ...");
        let report = arena.race(&label, pipeline, parallel)?;
        for (i, job) in report.jobs.iter().enumerate() {
            if let Some(err) = &job.error {
                eprintln!("  job {i:02}: {err}");
            }
        }
        reports.push(report);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        table(&format!("{jobs} jobs, {layout} layout"), &reports)
    )?;
    // Every kustomerge run must land every job; the plain loop is the contrast.
    let mut ok = true;
    for r in &reports[1..] {
        if r.landed() == jobs && r.missing.is_empty() {
            continue;
        }
        ok = false;
        writeln!(
            out,
            "kustomerge: {}: {} of {jobs} jobs landed; missing from the final file: {:?}",
            r.label,
            r.landed(),
            r.missing
        )?;
    }
    if ok {
        writeln!(
            out,
            "kustomerge: all {jobs} jobs landed in every kustomerge run and every tag is in the final file."
        )?;
    }
    Ok(if ok { exit::SUCCESS } else { exit::ERROR })
}
