//! Exit codes are API: pipelines branch on them, and git reads the driver's.
//!
//! `merge` follows git's merge-driver contract (gitattributes(5), "Defining a
//! custom merge driver"): 0 is a clean result, 1..=128 a conflict, and >128 a
//! failure that makes git abort the merge instead of recording a conflict.
//! Every other subcommand uses 0 for success and 2 for an error, like ripgrep
//! and difftastic, plus the specific codes below.

/// Success: a clean merge, a landed push, a clean check, a no-op edit.
pub const SUCCESS: u8 = 0;

/// `merge`: the result holds conflict markers. `check` and `doctor`: problems were found.
pub const CONFLICT: u8 = 1;

/// `check` and `doctor` report problems with the same code as a conflict.
pub const PROBLEMS: u8 = CONFLICT;

/// A usage error or an internal error outside `merge`.
pub const ERROR: u8 = 2;

/// `set-image`: `--expect` did not match. The file and the repository are
/// left untouched. (`--no-downgrade` seeing a newer version is not a
/// refusal: the image is skipped with a `skipped:` line and the exit is 0,
/// in `set-image` and `push` alike.)
pub const REFUSED: u8 = 3;

/// `push`: a real conflict that no policy resolves. The rebase was aborted and
/// the clone is back on its own commits.
pub const PUSH_CONFLICT: u8 = 4;

/// `push`: the time budget or the attempt cap ran out while racing other writers.
pub const BUDGET_EXHAUSTED: u8 = 5;

/// `push`: the server rejected the push for a reason retrying can't fix
/// (protected branch, hook, authentication). Never retried.
pub const REJECTED: u8 = 6;

/// `merge`: even the fallback could not run (unreadable inputs, no git).
/// Above 128, so git aborts the merge rather than recording our output.
pub const MERGE_FAILURE: u8 = 129;
