//! `kustomerge merge`: in progress.

use crate::cli::MergeArgs;

/// In progress.
pub fn run(_args: &MergeArgs) -> u8 {
    crate::exit::MERGE_FAILURE
}
