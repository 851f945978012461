//! `kustomerge demo`: not built yet.

use crate::cli::DemoArgs;

/// Not built yet.
pub fn run(_args: &DemoArgs) -> anyhow::Result<u8> {
    anyhow::bail!("demo is not built yet")
}
