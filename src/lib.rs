//! kustomerge: many CI pipelines writing image tags into one GitOps repo at
//! once, with no failed pushes, no conflicts a machine could solve, and no lost
//! or reformatted line. `ARCHITECTURE.md` says where each concept lives.
//!
//! - [`cli`] is the command line (clap), turned into plain values the
//!   domain modules take; [`commands`] holds one thin file per subcommand;
//!   [`exit`] their codes.
//! - [`kustomization`] finds byte spans in a kustomization file and splices
//!   edits into them without re-serialising anything.
//! - [`merge`] is the three-way merge of the keyed lists (`images:` and
//!   `replicas:` by name, the other lists by their items' identity), plus
//!   git's own line merge for everything else, and the check before exit 0.
//! - [`meaning`] reads a file the way kustomize does, independently of the
//!   span scanner: what the check holds every clean result to.
//! - [`lint`] is `check`'s rules: what kustomize would reject or misread.
//! - [`resolve`] merges again a file git left conflicted: from the index
//!   during a merge, from its diff3 markers after one.
//! - [`yaml11`] is go-yaml v2's typing of plain scalars; [`version`] orders
//!   tags for `--no-downgrade` and `--same-image newest`.
//! - [`edit`] applies one `set-image`/`set-replicas` request to a file;
//!   [`trailer`] is the commit trailer that records it.
//! - [`push`] is the fetch, reapply-or-rebase, push and retry loop; [`demo`]
//!   races pipelines through it for `kustomerge demo` and the tests.
//! - [`driver`] is the driver line git runs; [`setup`] is everything else
//!   `install` writes, `uninstall` removes and `doctor` checks.
//! - [`git`] is the only place that runs git; [`fs`] the only way a file
//!   the user owns is rewritten.

pub mod cli;
pub mod commands;
pub mod demo;
pub mod driver;
pub mod edit;
pub mod exit;
pub mod fs;
pub mod git;
pub mod kustomization;
pub mod lint;
pub mod meaning;
pub mod merge;
pub mod push;
pub mod resolve;
pub mod setup;
pub mod trailer;
pub mod version;
pub mod yaml11;
