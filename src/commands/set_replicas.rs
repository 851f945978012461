//! `kustomerge set-replicas`: not built yet.

use crate::cli::SetReplicasArgs;

/// Not built yet.
pub fn run(_args: &SetReplicasArgs) -> anyhow::Result<u8> {
    anyhow::bail!("set-replicas is not built yet")
}
