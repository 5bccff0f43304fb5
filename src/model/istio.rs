//! Istio kinds (networking, security, telemetry, extensions), as served by
//! Istio 1.31. Field names follow istio.io/api.
