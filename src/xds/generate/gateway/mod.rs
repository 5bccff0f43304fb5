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
    GatewayConfig {
        listeners,
        routes,
        auto_passthrough: merged.auto_passthrough,
        verified_credentials: merged.verified_credentials,
    }
}
