//! meshsim: istiod, offline.
//!
//! Reads Kubernetes, Istio and Gateway API manifests from files and shows the
//! Envoy configuration istiod would push to each proxy, the way
//! `istioctl proxy-config` prints it. The crate is a pipeline whose stages
//! depend only on the ones before them:
//!
//! ```text
//! load      files, stdin -> documents with file:line            (load/)
//! model     documents -> typed objects, unknown fields reported (model/)
//! registry  objects -> services, workloads, endpoints, proxies  (registry/)
//! xds       a proxy -> Envoy listeners, routes, clusters, ...   (xds/)
//! render    Envoy config -> istioctl's tables, JSON, YAML       (render/)
//! diff      two revisions -> per-proxy changes, attributed      (diff/)
//! cli       argument parsing and printing; nothing else         (cli/)
//! ```
#![forbid(unsafe_code)]

pub mod analyze;
pub mod base64;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod load;
pub mod model;
pub mod parallel;
pub mod registry;
pub mod render;
pub mod session;
pub mod xds;
