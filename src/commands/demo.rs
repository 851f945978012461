//! `kustomerge demo`: the README's "see it for yourself" command.
//!
//! It races N pipelines against a throwaway bare repository twice, once with
//! the `git pull --rebase` retry loop people write by hand and once with
//! `kustomerge set-image --commit` + `kustomerge push` (optionally a third
//! time, one job after another, the serialised workaround), and prints the
//! runs side by side. The engine is [`crate::push::race`], shared with the
//! tests and `benches/push-race.sh`.

use std::io::Write;

use anyhow::Context;

use crate::cli::{DemoArgs, Layout};
use crate::exit;
use crate::push::race::{Arena, Pipeline, table};

/// Runs the demo; exits 0 only if every kustomerge job landed and its tag is
/// in the final file.
pub fn run(args: &DemoArgs) -> anyhow::Result<u8> {
    let exe = std::env::current_exe().context("could not find the kustomerge binary's own path")?;
    let jobs = args.jobs.max(1);
    let arena = Arena::new(&exe, jobs, args.layout)?;
    let layout = match args.layout {
        Layout::Block => "block",
        Layout::Flow => "flow",
    };
    eprintln!(
        "kustomerge demo: {jobs} pipelines, {layout} layout, in {}",
        arena.path().display()
    );
    let mut runs = vec![
        (
            format!(
                "plain git (pull --rebase, {} retries)",
                crate::push::race::PLAIN_RETRIES
            ),
            Pipeline::PlainGit,
            true,
        ),
        ("kustomerge push".to_owned(), Pipeline::Kustomerge, true),
    ];
    if args.serial {
        runs.push((
            "serialised (one at a time)".to_owned(),
            Pipeline::PlainGit,
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
    let ours = &reports[1];
    let ok = ours.landed() == jobs && ours.missing.is_empty();
    if ok {
        writeln!(
            out,
            "kustomerge: all {jobs} jobs landed and every tag is in the final file."
        )?;
    } else {
        writeln!(
            out,
            "kustomerge: {} of {jobs} jobs landed; missing from the final file: {:?}",
            ours.landed(),
            ours.missing
        )?;
    }
    Ok(if ok { exit::SUCCESS } else { exit::ERROR })
}
