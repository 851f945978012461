//! The binary: parse the command line, run the command, map the outcome to
//! an exit code.
//!
//! An ordinary `main`: on musl and the BSDs the arguments reach std through
//! the runtime set-up before it, so a C `main` (which skipped that set-up to
//! save 0.2 ms per driver call) gave a musl build no arguments at all.
//!
//! std ignores SIGPIPE, so a write to a closed pipe (`kustomerge check |
//! head`) fails with `BrokenPipe` instead of killing the process. Commands
//! write stdout through fallible writes and return that error; here it ends
//! the run quietly with success, as in ripgrep: the reader has all it wanted.
//!
//! A panic that escapes a command would exit 101, which git reads as a
//! conflict in `merge` and records `%A`; it is caught here and exits as a
//! failure instead (the panic hook has already printed the message).

use std::panic::catch_unwind;
use std::process::ExitCode;

use kustomerge::cli::{Cli, Command};
use kustomerge::{commands, exit};

fn main() -> ExitCode {
    let code = match Cli::parse_args() {
        Ok(cli) => {
            let failure = match cli.command {
                Command::Merge(_) => exit::MERGE_FAILURE,
                _ => exit::ERROR,
            };
            match catch_unwind(|| commands::run(cli)) {
                Ok(Ok(code)) => code,
                Ok(Err(err)) if is_broken_pipe(&err) => exit::SUCCESS,
                Ok(Err(err)) => {
                    eprintln!("kustomerge: {err:#}");
                    exit::ERROR
                }
                Err(_) => failure,
            }
        }
        Err(err) => commands::usage_error(&err),
    };
    ExitCode::from(code)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
