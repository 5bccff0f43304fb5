//! Generation: the configuration istiod would push to one proxy, built from
//! the registry (istiod-sidecar.md) and held as a graph.
//!
//! Builders write Envoy resources as proto-JSON with proto field names
//! (snake_case), exactly what Envoy's `/config_dump` prints; [`graph`] holds
//! them as listener → filter chain → route configuration → virtual host →
//! route → cluster → endpoints, and the config dump is produced from it.

pub mod authn;
pub mod authz;
pub mod bootstrap;
pub mod clusters;
pub mod dump;
pub mod envoyfilter;
pub mod extensions;
pub mod filters;
pub mod gateway;
pub mod graph;
pub mod inbound;
pub mod json;
pub mod nds;
pub mod outbound;
pub mod proxy;
pub mod rds;
pub mod route;
pub mod scope;
pub mod secrets;
pub mod simulated_cert;
pub mod telemetry;
pub mod tls;

use serde_json::Value;

use crate::registry::catalog::Catalog;
use crate::registry::config::IstioConfig;
use crate::registry::{Mesh, ProxyType};

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
    /// ECDS resources the listeners fetch: EnvoyFilter EXTENSION_CONFIGs,
    /// then Wasm extensions.
    pub extension_configs: Vec<Value>,
    /// EnvoyFilter patches meshsim could not apply as written.
    pub warnings: Vec<String>,
}

/// The DNS name table of the workload `workload` (a proxy), as istiod's
/// `/debug/ndsz` prints it.
pub fn name_table(ctx: &Context, workload: usize, kind: ProxyType) -> Value {
    let proxy = Proxy::new(ctx, workload, kind);
    let scope = scope::build(ctx, &proxy);
    nds::to_json(&nds::name_table(ctx, &proxy, &scope))
}

/// Generate the configuration of the workload `workload` (a proxy).
pub fn generate(ctx: &Context, workload: usize, kind: ProxyType) -> ProxyConfig {
    use graph::Origin;
    let proxy = Proxy::new(ctx, workload, kind);
    let scope = scope::build(ctx, &proxy);
    let inbound = match kind {
        ProxyType::Sidecar => inbound::build(ctx, &proxy),
        // Gateways have no inbound side: their listeners are the servers.
        ProxyType::Router => inbound::Inbound::default(),
    };
    // Listeners with their routes, and clusters with their endpoints, depend
    // only on the scope: each pair is built on its own core.
    let mut verified = std::collections::BTreeSet::new();
    let mut auto_passthrough = false;
    let mut port_map = envoyfilter::PortMap::new();
    let ((listeners, routes), (clusters, endpoints)) = std::thread::scope(|threads| {
        let side = threads.spawn(|| match kind {
            ProxyType::Sidecar => {
                let outbound = outbound::listeners(ctx, &proxy, &scope);
                let routes = rds::route_configs(ctx, &proxy, &scope, &rds::referenced(&outbound));
                (outbound, routes)
            }
            ProxyType::Router => {
                let g = gateway::build(ctx, &proxy, &scope);
                verified.extend(g.verified_credentials);
                auto_passthrough = g.auto_passthrough;
                port_map = g.port_map;
                (g.listeners, g.routes)
            }
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

    let (mut clusters, mut endpoints) = (clusters, endpoints);
    if auto_passthrough {
        let sni = clusters::sni_dnat_clusters(ctx, &clusters);
        endpoints.extend(clusters::load_assignments(ctx, &proxy, &sni));
        clusters.extend(sni);
    }
    let (mut listeners, mut routes) = (listeners, routes);
    let (mut virtual_inbound, mut bound_listeners) =
        (inbound.virtual_inbound, inbound.bound_listeners);
    let applied = envoyfilter::apply(
        ctx,
        &proxy,
        envoyfilter::Generated {
            listeners: &mut listeners,
            virtual_inbound: &mut virtual_inbound,
            bound_listeners: &mut bound_listeners,
            routes: &mut routes,
            clusters: &mut clusters,
            port_map: &port_map,
        },
    );
    let listeners: Vec<Value> = listeners
        .into_iter()
        .chain(virtual_inbound)
        .chain(bound_listeners)
        .collect();
    let mut extension_configs = applied.extension_configs;
    extension_configs.extend(extensions::extension_configs(
        ctx,
        &proxy,
        &envoyfilter::discovered_names(&listeners),
    ));
    let sds = secrets::referenced(listeners.iter().chain(&clusters));
    let secrets = secrets::secrets(
        &ctx.config.credentials,
        &proxy,
        ctx.mesh.mesh_config.trust_domain(),
        &sds,
        &verified,
    );

    let mut g = graph::ConfigGraph::default();
    for l in bootstrap::static_listeners() {
        g.add_listener(l, Origin::Static);
    }
    for l in listeners {
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
    for s in secrets {
        g.add_secret(s);
    }
    g.link();
    ProxyConfig {
        proxy,
        graph: g,
        extension_configs,
        warnings: applied.warnings,
    }
}
