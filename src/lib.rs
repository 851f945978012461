//! kustomerge: many CI pipelines writing image tags into one GitOps repo at
//! once, with no failed pushes, no conflicts a machine could solve, and no lost
//! or reformatted line.
//!
//! - [`kustomization`] finds byte spans in a kustomization file and splices
//!   edits into them without re-serialising anything.
//! - [`merge`] is the keyed three-way merge of `images:` and `replicas:`, plus
//!   git's own line merge for everything else.
//! - [`driver`] is the driver line git runs: written by `install`, checked
//!   by `doctor`, passed by `push`.
//! - [`git`] is the only place that runs git.
//! - [`commands`] holds one file per subcommand.

pub mod cli;
pub mod commands;
pub mod driver;
pub mod exit;
pub mod git;
pub mod kustomization;
pub mod meaning;
pub mod merge;
pub mod push;
pub mod version;
pub mod yaml11;
