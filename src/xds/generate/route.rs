//! VirtualService HTTP routes and default routes as Envoy routes
//! (istiod-sidecar.md §5.6, §5.7).
