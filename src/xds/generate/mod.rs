//! Generation: the configuration istiod would push to one proxy, built from
//! the registry (istiod-sidecar.md) and held as a graph.
//!
//! Builders write Envoy resources as proto-JSON with proto field names
//! (snake_case), exactly what Envoy's `/config_dump` prints; [`graph`] holds
//! them as listener → filter chain → route configuration → virtual host →
//! route → cluster → endpoints, and the config dump is produced from it.

pub mod authz;
pub mod bootstrap;
pub mod clusters;
pub mod dump;
pub mod filters;
pub mod graph;
pub mod inbound;
pub mod json;
pub mod outbound;
pub mod proxy;
pub mod rds;
pub mod route;
pub mod scope;
pub mod tls;

use crate::registry::Mesh;
use crate::registry::catalog::Catalog;
use crate::registry::config::IstioConfig;

pub use proxy::{Interception, Proxy};

/// The Istio version meshsim emulates (the 1.31 line).
pub const ISTIO_VERSION: &str = "1.31.0";

/// Everything generation reads: built once per run, shared by every proxy.
pub struct Context<'a> {
    pub mesh: &'a Mesh,
    pub catalog: &'a Catalog,
    pub config: &'a IstioConfig,
}

/// One proxy's generated configuration.
pub struct ProxyConfig {
    pub proxy: Proxy,
    pub graph: graph::ConfigGraph,
}

/// Generate the configuration of the workload `workload` (a proxy).
pub fn generate(ctx: &Context, workload: usize, kind: crate::registry::ProxyType) -> ProxyConfig {
    use graph::Origin;
    let proxy = Proxy::new(ctx.mesh, workload, kind);
    let scope = scope::build(ctx, &proxy);
    let inbound = inbound::build(ctx, &proxy);
    // Listeners with their routes, and clusters with their endpoints, depend
    // only on the scope: each pair is built on its own core.
    let ((outbound, routes), (clusters, endpoints)) = std::thread::scope(|threads| {
        let side = threads.spawn(|| {
            let outbound = outbound::listeners(ctx, &proxy, &scope);
            let routes = rds::route_configs(ctx, &proxy, &scope, &rds::referenced(&outbound));
            (outbound, routes)
        });
        let mut clusters = clusters::outbound_clusters(ctx, &proxy, &scope.cds_services);
        clusters.extend(inbound.clusters);
        // Duplicate names over the whole list: the first wins (§7.1).
        let mut seen = std::collections::BTreeSet::new();
        clusters.retain(|c| seen.insert(c["name"].as_str().unwrap_or_default().to_string()));
        let endpoints = clusters::load_assignments(ctx, &proxy, &clusters);
        let listeners = side
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (listeners, (clusters, endpoints))
    });

    let mut g = graph::ConfigGraph::default();
    for l in bootstrap::static_listeners() {
        g.add_listener(l, Origin::Static);
    }
    for l in outbound
        .into_iter()
        .chain(inbound.virtual_inbound)
        .chain(inbound.bound_listeners)
    {
        g.add_listener(l, Origin::Dynamic);
    }
    for rc in routes {
        g.add_route_config(rc, Origin::Dynamic);
    }
    for c in bootstrap::static_clusters() {
        g.add_cluster(c, Origin::Static);
    }
    for c in clusters {
        g.add_cluster(c, Origin::Dynamic);
    }
    for e in endpoints {
        g.add_endpoints(e);
    }
    g.link();
    ProxyConfig { proxy, graph: g }
}
