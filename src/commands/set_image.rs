//! `kustomerge set-image`: not built yet.

use crate::cli::SetImageArgs;

/// Not built yet.
pub fn run(_args: &SetImageArgs) -> anyhow::Result<u8> {
    anyhow::bail!("set-image is not built yet")
}
