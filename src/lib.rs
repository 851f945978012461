//! kustomerge: many CI pipelines writing image tags into one GitOps repo at
//! once, with no failed pushes, no conflicts a machine could solve, and no lost
//! or reformatted line. `ARCHITECTURE.md` says where each concept lives.
//!
//! - [`cli`] is the command line (clap), turned into plain argument structs.
//! - [`commands`] holds one thin file per subcommand; [`exit`] their codes.
//! - [`kustomization`] finds byte spans in a kustomization file and splices
//!   edits into them without re-serialising anything.
//! - [`merge`] is the keyed three-way merge of `images:` and `replicas:`, plus
//!   git's own line merge for everything else, and the check before exit 0.
//! - [`meaning`] reads a file the way kustomize does, independently of the
//!   span scanner: what the check holds every clean result to.
//! - [`yaml11`] is go-yaml v2's typing of plain scalars.
//! - [`push`] is the fetch, reapply-or-rebase, push and retry loop;
//!   [`version`] orders tags for `--no-downgrade` and `--same-image newest`.
//! - [`driver`] is the driver line git runs: written by `install`, checked
//!   by `doctor`, passed by `push`.
//! - [`git`] is the only place that runs git.

pub mod cli;
pub mod commands;
pub mod demo;
pub mod driver;
pub mod edit;
pub mod exit;
pub mod fs;
pub mod git;
pub mod kustomization;
pub mod meaning;
pub mod merge;
pub mod push;
pub mod setup;
pub mod trailer;
pub mod version;
pub mod yaml11;
