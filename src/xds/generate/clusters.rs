//! Outbound clusters and their endpoints (istiod-sidecar.md §7, §8).
