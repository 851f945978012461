//! `kustomerge doctor`: not built yet.

/// Not built yet.
pub fn run() -> anyhow::Result<u8> {
    anyhow::bail!("doctor is not built yet")
}
