//! `kustomerge completions <shell>`: shell completions generated from the CLI definition.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit;

/// Prints completions for the requested shell on stdout.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<u8> {
    // clap_complete panics when a write fails; written to memory first, a
    // closed stdout is an error like any other.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "kustomerge", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(exit::SUCCESS)
}
