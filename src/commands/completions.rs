//! `kustomerge completions <shell>`: shell completions generated from the CLI definition.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit;

/// Prints completions for the requested shell on stdout.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<u8> {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "kustomerge",
        &mut std::io::stdout(),
    );
    Ok(exit::SUCCESS)
}
