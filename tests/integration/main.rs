//! The one integration-test binary (one link step keeps `cargo test` fast).
//! Tests drive the real `kustomerge` binary, or call the library where a
//! property runs thousands of merges in-process, always with the real git,
//! isolated from the user's config (see `common`); `kustomize_diff` builds
//! results with the real `kubectl kustomize`.

mod common;

mod check;
mod check_fix;
mod conveniences;
mod driver_args;
mod hostile;
mod hostile_inputs;
mod install;
mod install_release;
mod kustomize_diff;
mod merge_corpus;
mod merge_fixtures;
mod merge_git;
mod merge_lists;
mod oracle;
mod properties;
mod push;
mod push_combine;
mod replay;
mod resolve;
mod set_image;
mod setter_safety;
