//! Generation: the configuration istiod would push to one proxy, built from
//! the registry (istiod-sidecar.md) and held as a graph.
//!
//! Builders write Envoy resources as proto-JSON with proto field names
//! (snake_case), exactly what Envoy's `/config_dump` prints; [`graph`] holds
//! them as listener → filter chain → route configuration → virtual host →
//! route → cluster → endpoints, and the config dump is produced from it.

pub mod clusters;
pub mod inbound;
pub mod json;
pub mod proxy;
pub mod route;
pub mod scope;
pub mod tls;

use crate::model::Store;
use crate::registry::Mesh;
use crate::registry::catalog::Catalog;
use crate::registry::config::IstioConfig;

pub use proxy::{Interception, Proxy};

/// The Istio version meshsim emulates (the 1.31 line).
pub const ISTIO_VERSION: &str = "1.31.0";

/// Everything generation reads: built once per run, shared by every proxy.
pub struct Context<'a> {
    pub store: &'a Store,
    pub mesh: &'a Mesh,
    pub catalog: &'a Catalog,
    pub config: &'a IstioConfig,
}
