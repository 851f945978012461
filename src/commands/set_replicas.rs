//! `kustomerge set-replicas`: `kustomize edit set replicas` without the
//! rewrite. It shares everything with `set-image` (file lookup, the
//! schema-driven setter, atomic writes, `--commit` trailers); only the
//! grammar differs.

use crate::cli::SetReplicasArgs;
use crate::edit::Request;
use crate::kustomization::image_arg;

/// Runs `set-replicas`.
pub fn run(args: &SetReplicasArgs) -> anyhow::Result<u8> {
    for arg in &args.replicas {
        image_arg::validate_replica(arg)?;
    }
    let request = Request::Replicas(image_arg::parse_replicas(&args.replicas)?);
    request.run(&args.edit, &args.replicas)
}
