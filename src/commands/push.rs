//! `kustomerge push`: the command-line face of [`crate::push`].
//!
//! The loop lives in `src/push/`; this file turns arguments into options and
//! the outcome into an exit code and, with `--json`, one JSON object on
//! stdout (stderr carries the progress lines either way, so CI logs show
//! them even when stdout is captured).

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::cli::PushArgs;
use crate::push::{self, Options};

/// Runs `push` and returns its exit code.
pub fn run(args: &PushArgs) -> anyhow::Result<u8> {
    let opts = Options {
        remote: args.remote.clone(),
        branch: args.branch.clone(),
        budget: Duration::from_secs(args.budget),
        max_attempts: args.max_attempts.max(1),
        no_downgrade: args.no_downgrade,
        same_image: args.same_image.into(),
        exe: std::env::current_exe().context("could not find the kustomerge binary's own path")?,
        combine: !args.no_combine,
        queue_prefix: queue_prefix(&args.queue_prefix)?,
    };
    match push::run(&opts) {
        Ok(report) => {
            if args.json {
                print_json(&report);
            }
            Ok(report.result.exit_code())
        }
        Err(err) => {
            // Pipelines parsing stdout still get one object.
            if args.json {
                print_json(
                    &serde_json::json!({ "result": "error", "message": format!("{err:#}") }),
                );
            }
            Err(err)
        }
    }
}

/// The queue prefix as a path under `refs/heads/` ending in `/`. A name git
/// would refuse is a usage error here, not a failed push halfway.
fn queue_prefix(given: &str) -> anyhow::Result<String> {
    let trimmed = given.trim_start_matches("refs/heads/").trim_matches('/');
    let ok = !trimmed.is_empty()
        && crate::git::Git::new()
            .succeeds(["check-ref-format", &format!("refs/heads/{trimmed}/x")]);
    if !ok {
        anyhow::bail!(
            "--queue-prefix {given:?} is not a usable branch path (e.g. kustomerge/queue/)"
        );
    }
    Ok(format!("{trimmed}/"))
}

/// Prints the one JSON object. The push has happened by then, so its exit
/// code stands whatever becomes of stdout: a failed write is only reported,
/// and a reader that went away (a closed pipe) not even that.
fn print_json(value: &impl Serialize) {
    let written = serde_json::to_string(value)
        .map_err(std::io::Error::from)
        .and_then(|json| writeln!(std::io::stdout().lock(), "{json}"));
    if let Err(err) = written
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("kustomerge: could not print the JSON report: {err}");
    }
}
