//! `kustomerge install` / `uninstall`: not built yet.

use crate::cli::{InstallArgs, InstallScopeArgs};

/// Not built yet.
pub fn run(_args: &InstallArgs) -> anyhow::Result<u8> {
    anyhow::bail!("install is not built yet")
}

/// Not built yet.
pub fn uninstall(_args: &InstallScopeArgs) -> anyhow::Result<u8> {
    anyhow::bail!("uninstall is not built yet")
}
