//! The one integration-test binary (one link step keeps `cargo test` fast).
//! Every test drives the real `kustomerge` binary and the real git, with git
//! isolated from the user's config (see `common`).

mod common;

mod check;
mod driver_args;
mod hostile;
mod install;
mod kustomize_diff;
mod merge_corpus;
mod merge_fixtures;
mod merge_git;
mod oracle;
mod properties;
mod push;
mod set_image;
mod setter_safety;
