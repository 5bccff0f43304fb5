//! Envoy configuration types (v3), as istiod pushes them and as Envoy's
//! admin `/config_dump` prints them.
