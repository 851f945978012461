//! `kustomerge push`: not built yet.

use crate::cli::PushArgs;

/// Not built yet.
pub fn run(_args: &PushArgs) -> anyhow::Result<u8> {
    anyhow::bail!("push is not built yet")
}
