//! `kustomerge check`: not built yet.

use crate::cli::CheckArgs;

/// Not built yet.
pub fn run(_args: &CheckArgs) -> anyhow::Result<u8> {
    anyhow::bail!("check is not built yet")
}
