use std::process::ExitCode;

use kustomerge::{cli::Cli, commands, exit};

fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(err) => return ExitCode::from(commands::usage_error(&err)),
    };
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("kustomerge: {err:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}
