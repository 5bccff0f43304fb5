//! Istio mTLS and DestinationRule TLS contexts (istiod-sidecar.md §6.4, §7.4).
