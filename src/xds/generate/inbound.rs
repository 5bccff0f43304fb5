//! The inbound side of a sidecar: `virtualInbound`, its chains per target
//! port and mTLS mode, inbound clusters (istiod-sidecar.md §6).
