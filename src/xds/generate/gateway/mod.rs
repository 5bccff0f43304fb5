//! Gateway proxies (istiod-gateway-security.md §1): the Gateways that
//! select the pod, merged into listeners and HTTP route configurations;
//! clusters come from the same outbound builders sidecars use.

pub mod listeners;
pub mod merge;
pub mod routes;

use serde_json::Value;

use super::inbound::service_targets;
use super::scope::SidecarScope;
use super::{Context, Proxy};

/// What a gateway proxy gets beside its clusters.
pub struct GatewayConfig {
    pub listeners: Vec<Value>,
    pub routes: Vec<Value>,
    /// Some server does AUTO_PASSTHROUGH: SNI-DNAT clusters are needed.
    pub auto_passthrough: bool,
    /// `kubernetes-gateway://` credentials this proxy may read.
    pub verified_credentials: std::collections::BTreeSet<String>,
    /// Route ports → server ports, for EnvoyFilter route matches.
    pub port_map: super::envoyfilter::PortMap,
}

pub fn build(ctx: &Context, proxy: &Proxy, scope: &SidecarScope) -> GatewayConfig {
    let targets = service_targets(ctx, proxy);
    let service_hosts: Vec<(&str, &str)> = targets
        .iter()
        .map(|t| (t.service.hostname.as_str(), t.service.namespace.as_str()))
        .collect();
    let selected = ctx
        .config
        .gateways
        .for_proxy(&ctx.mesh.workloads[proxy.workload].labels, &service_hosts);
    let merged = merge::merge(proxy, &selected, &targets);
    let listeners = listeners::listeners(ctx, proxy, scope, &merged);
    let routes = routes::route_configs(ctx, proxy, &merged);
    let mut port_map = super::envoyfilter::PortMap::new();
    for (route, servers) in &merged.by_route {
        let (port, _, _) = super::envoyfilter::parse_gateway_route_name(route);
        let entry = port_map.entry(port).or_default();
        entry.extend(servers.iter().map(|&i| u32::from(merged.servers[i].port)));
    }
    GatewayConfig {
        listeners,
        routes,
        auto_passthrough: merged.auto_passthrough,
        verified_credentials: merged.verified_credentials,
        port_map,
    }
}
