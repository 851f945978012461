//! The merge driver (in progress).
