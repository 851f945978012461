//! One module per subcommand. Each takes its parsed arguments and returns the
//! process exit code (see [`crate::exit`]).

pub mod check;
pub mod completions;
pub mod demo;
pub mod doctor;
pub mod install;
pub mod merge;
pub mod push;
pub mod resolve;
pub mod set_image;
pub mod set_replicas;

use crate::cli::{Cli, Command};
use crate::exit;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Merge(args) => Ok(merge::run(&args)),
        Command::SetImage(args) => set_image::run(&args),
        Command::SetReplicas(args) => set_replicas::run(&args),
        Command::Resolve(args) => resolve::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Push(args) => push::run(&args),
        Command::Install(args) => install::run(&args),
        Command::Uninstall(args) => install::uninstall(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Completions(args) => completions::run(&args),
    }
}

/// Reports a command-line error and picks its exit code.
///
/// clap exits 2 on a usage error, but for `merge` git reads 2 as "conflict"
/// and would record whatever is in `%A`. A malformed driver line is a setup
/// failure, so `merge` exits above 128 and git aborts the merge instead.
pub fn usage_error(err: &clap::Error) -> u8 {
    use clap::error::ErrorKind;
    let _ = err.print();
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => exit::SUCCESS,
        _ if std::env::args().nth(1).as_deref() == Some("merge") => exit::MERGE_FAILURE,
        _ => exit::ERROR,
    }
}
