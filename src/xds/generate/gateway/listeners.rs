//! A gateway's listeners (istiod-gateway-security.md §1.5): one per bind
//! and container port, with an HTTP connection manager for plaintext HTTP,
//! one SNI-matched chain per terminating HTTPS server, and TCP proxies for
//! TCP, TLS and passthrough servers chosen from the bound VirtualServices.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::super::clusters::destination_rule;
use super::super::filters::{
    ChainFilters, ListenerClass, gateway_hcm, listener_filter, mongo_proxy, tcp_proxy,
};
use super::super::json::socket_address;
use super::super::outbound::route_proxy;
use super::super::scope::{SidecarScope, host_subset};
use super::super::tls::server_tls;
use super::super::{Context, Proxy};
use super::merge::{ClaimedHosts, Merged, MergedServer, claim_hosts};
use crate::model::istio::{L4MatchAttributes, RouteDestination, TlsMatchAttributes};
use crate::registry::config::VirtualServiceEntry;
use crate::registry::protocol::Protocol;

/// The ALPNs an Istio mTLS client offers: AUTO_PASSTHROUGH chains match them.
const ISTIO_MTLS_ALPNS: [&str; 5] = [
    "istio",
    "istio-peer-exchange",
    "istio-http/1.0",
    "istio-http/1.1",
    "istio-h2",
];

/// A filter chain before it becomes JSON.
struct Chain {
    sni: Vec<String>,
    alpn: Vec<&'static str>,
    filters: Vec<Value>,
    tls: Option<Value>,
}

impl Chain {
    fn json(self) -> Value {
        let mut m = Map::new();
        if !(self.sni.is_empty() && self.alpn.is_empty()) {
            let mut fcm = Map::new();
            if !self.alpn.is_empty() {
                fcm.insert("application_protocols".into(), json!(self.alpn));
            }
            // A full wildcard matches every name: no server_names at all.
            if !self.sni.iter().any(|h| h == "*") {
                let mut names = self.sni;
                names.sort();
                fcm.insert("server_names".into(), json!(names));
            }
            m.insert("filter_chain_match".into(), Value::Object(fcm));
        }
        m.insert("filters".into(), Value::Array(self.filters));
        if let Some(t) = self.tls {
            m.insert("transport_socket".into(), t);
        }
        m.insert("transport_socket_connect_timeout".into(), json!("15s"));
        Value::Object(m)
    }
}

/// Everything the chain builders share.
struct Cx<'a> {
    ctx: &'a Context<'a>,
    proxy: &'a Proxy,
    scope: &'a SidecarScope<'a>,
    /// What the gateway's chains carry: security, telemetry, extensions.
    filters: ChainFilters<'a>,
}

/// The gateway's listeners in the order their ports were opened.
pub fn listeners<'a>(
    ctx: &'a Context<'a>,
    proxy: &'a Proxy,
    scope: &'a SidecarScope<'a>,
    merged: &Merged,
) -> Vec<Value> {
    let cx = Cx {
        ctx,
        proxy,
        scope,
        filters: ChainFilters::for_proxy(ctx, proxy, ListenerClass::Gateway),
    };
    let mut order: Vec<String> = Vec::new();
    let mut chains: BTreeMap<String, Vec<Chain>> = BTreeMap::new();
    // SNI names claimed by passthrough routes, per port and bind.
    let mut tls_hosts = ClaimedHosts::new();
    for p in &merged.ports {
        let bind = if p.bind.is_empty() {
            "0.0.0.0"
        } else {
            &p.bind
        };
        let name = format!("{bind}_{}", p.port);
        let stat_prefix = format!("outbound_{name};");
        let mut out: Vec<Chain> = Vec::new();
        // Network extensions of the listener port go in front of its HTTP
        // connection managers: istiod hands them out once per port, so only
        // the first terminating HTTPS server's chain gets them.
        let mut network = Some(cx.filters.http_network_filters(p.port));
        if p.protocol.is_http() {
            let mut filters = network.take().unwrap_or_default();
            filters.push(gateway_hcm(
                &stat_prefix,
                &p.route_name,
                (p.protocol, p.port),
                proxy.flag("HTTP10"),
                &cx.filters,
            ));
            out.push(Chain {
                sni: Vec::new(),
                alpn: Vec::new(),
                filters,
                tls: None,
            });
        } else {
            for &id in &p.servers {
                let s = &merged.servers[id];
                out.extend(server_chains(
                    &cx,
                    s,
                    &stat_prefix,
                    (p.port, &p.bind),
                    &mut network,
                    &mut tls_hosts,
                ));
            }
        }
        if !chains.contains_key(&name) {
            order.push(name.clone());
        }
        chains.entry(name).or_default().extend(out);
    }
    order
        .into_iter()
        .filter_map(|name| {
            let chains = chains.remove(&name)?;
            // A listener without chains is not sent (istiod logs and drops it).
            if chains.is_empty() {
                return None;
            }
            let (bind, port) = name.rsplit_once('_')?;
            Some(listener_json(&cx, &name, bind, port.parse().ok()?, chains))
        })
        .collect()
}

fn listener_json(cx: &Cx, name: &str, bind: &str, port: u32, chains: Vec<Chain>) -> Value {
    let inspect = chains.iter().any(|c| {
        !c.sni.is_empty()
            || c.tls.as_ref().is_some_and(|t| {
                t["typed_config"]["common_tls_context"]["alpn_protocols"].is_array()
            })
    });
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("address".into(), socket_address(bind, port));
    m.insert(
        "filter_chains".into(),
        chains.into_iter().map(Chain::json).collect(),
    );
    if inspect {
        m.insert(
            "listener_filters".into(),
            json!([listener_filter(
                "envoy.filters.listener.tls_inspector",
                "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
            )]),
        );
    }
    m.insert("traffic_direction".into(), json!("OUTBOUND"));
    cx.filters.log_listener(&mut m);
    Value::Object(m)
}

/// The chains of one non-HTTP-port server (§1.5.1) on the listener
/// (port, bind); `network` holds the port's network extensions until a
/// terminating HTTPS server takes them.
fn server_chains(
    cx: &Cx,
    s: &MergedServer,
    stat_prefix: &str,
    (listener_port, bind): (u16, &str),
    network: &mut Option<Vec<Value>>,
    tls_hosts: &mut ClaimedHosts,
) -> Vec<Chain> {
    let tls_defaults = cx.ctx.mesh.mesh_config.tls_defaults.as_ref();
    let Some(tls) = &s.server.tls else {
        // Opaque TCP: the first matching VirtualService TCP route.
        return tcp_route_filters(cx, s)
            .map(|filters| Chain {
                sni: Vec::new(),
                alpn: Vec::new(),
                filters,
                tls: None,
            })
            .into_iter()
            .collect();
    };
    if s.protocol == Protocol::Https && !s.passthrough() {
        let prefix = s
            .server
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(stat_prefix);
        let mut filters = network.take().unwrap_or_default();
        filters.push(gateway_hcm(
            prefix,
            &s.tls_route,
            (s.protocol, listener_port),
            cx.proxy.flag("HTTP10"),
            &cx.filters,
        ));
        return vec![Chain {
            sni: s.sni_hosts.clone(),
            alpn: Vec::new(),
            filters,
            tls: server_tls(tls, tls_defaults, false),
        }];
    }
    if !s.passthrough() {
        // TLS terminated here, then TCP to the route's destination.
        let terminate_tcp = !s.protocol.is_http() && s.protocol != Protocol::Https;
        return tcp_route_filters(cx, s)
            .map(|filters| Chain {
                sni: s.sni_hosts.clone(),
                alpn: Vec::new(),
                filters,
                tls: server_tls(tls, tls_defaults, terminate_tcp),
            })
            .into_iter()
            .collect();
    }
    if s.tls_mode() == Some("AUTO_PASSTHROUGH") {
        return auto_passthrough_chains(cx, s);
    }
    passthrough_chains(cx, s, listener_port, bind, tls_hosts)
}

/// VirtualServices bound to the server's gateway and visible to the proxy
/// whose hosts meet the server's (a `ns/` server host only meets the
/// VirtualServices of that namespace).
fn bound_virtual_services<'a>(cx: &Cx<'a>, s: &MergedServer) -> Vec<&'a VirtualServiceEntry> {
    cx.ctx
        .config
        .virtual_services
        .for_gateway_visible_to(&s.gateway_name, &cx.proxy.namespace)
        .into_iter()
        .filter(|vs| {
            vs.spec.hosts.iter().any(|vh| {
                s.server.hosts.iter().any(|sh| {
                    let host = match sh.split_once('/') {
                        Some((ns, h)) if ns == vs.meta.namespace => h,
                        Some(_) => return false,
                        None => sh.as_str(),
                    };
                    host_subset(host, vh) || host_subset(vh, host)
                })
            })
        })
        .collect()
}

/// Does an L4 match apply to this server of `gateway`?
fn l4_matches(port: Option<u32>, gateways: &[String], s: &MergedServer) -> bool {
    port.is_none_or(|p| p == 0 || p == u32::from(s.port))
        && (gateways.is_empty() || gateways.contains(&s.gateway_name))
}

/// The network filters of the first TCP route (or, for a TLSRoute-made
/// VirtualService on a terminating server, TLS route) that applies.
fn tcp_route_filters(cx: &Cx, s: &MergedServer) -> Option<Vec<Value>> {
    let istio_mutual = s.tls_mode() == Some("ISTIO_MUTUAL");
    for vs in bound_virtual_services(cx, s) {
        for tcp in &vs.spec.tcp {
            let applies = tcp.r#match.is_empty()
                || tcp
                    .r#match
                    .iter()
                    .any(|m: &L4MatchAttributes| l4_matches(m.port, &m.gateways, s));
            if applies && !tcp.route.is_empty() {
                return Some(network_filters(cx, s, vs, &tcp.route, istio_mutual));
            }
        }
        let from_tls_route = vs
            .meta
            .internal
            .get("internal.istio.io/parents")
            .is_some_and(|p| p.starts_with("TLSRoute/"));
        if from_tls_route && !s.passthrough() {
            for tls in &vs.spec.tls {
                if tls
                    .r#match
                    .iter()
                    .any(|m: &TlsMatchAttributes| l4_matches(m.port, &m.gateways, s))
                {
                    return Some(network_filters(cx, s, vs, &tls.route, istio_mutual));
                }
            }
        }
    }
    None
}

/// One chain per TLS route match of the bound VirtualServices, by SNI; a
/// name already claimed on the port is skipped (Envoy would reject two
/// chains with the same match).
fn passthrough_chains(
    cx: &Cx,
    s: &MergedServer,
    listener_port: u16,
    bind: &str,
    tls_hosts: &mut ClaimedHosts,
) -> Vec<Chain> {
    let mut out = Vec::new();
    for vs in bound_virtual_services(cx, s) {
        for tls in vs.spec.tls.iter().filter(|t| !t.route.is_empty()) {
            for m in &tls.r#match {
                if !l4_matches(m.port, &m.gateways, s) {
                    continue;
                }
                if !claim_hosts(tls_hosts, listener_port, &m.sni_hosts, bind) {
                    continue;
                }
                out.push(Chain {
                    sni: m.sni_hosts.clone(),
                    alpn: Vec::new(),
                    filters: network_filters(cx, s, vs, &tls.route, false),
                    tls: None,
                });
            }
        }
    }
    out
}

/// AUTO_PASSTHROUGH: a chain per mesh service port (and DestinationRule
/// subset) whose hostname the server covers, matched on the SNI-DNAT
/// cluster name Istio clients send, proxied to that cluster.
fn auto_passthrough_chains(cx: &Cx, s: &MergedServer) -> Vec<Chain> {
    let mut out = Vec::new();
    for scoped in &cx.scope.cds_services {
        let svc = scoped.service;
        if svc.mesh_external || !s.sni_hosts.iter().any(|h| host_subset(&svc.hostname, h)) {
            continue;
        }
        let rule = destination_rule(cx.ctx, cx.proxy, svc);
        let subsets: Vec<&str> = rule
            .map(|r| r.subsets.iter().map(|s| s.name.as_str()).collect())
            .unwrap_or_default();
        for port in svc.ports.iter().filter(|p| p.protocol != Protocol::Udp) {
            for subset in std::iter::once("").chain(subsets.iter().copied()) {
                let cluster = sni_dnat_cluster(port.port, subset, &svc.hostname);
                out.push(Chain {
                    sni: vec![cluster.clone()],
                    alpn: ISTIO_MTLS_ALPNS.to_vec(),
                    filters: cx.filters.tcp_filters(
                        port.port,
                        false,
                        false,
                        mongo_proxy(port.protocol, &format!("outbound|{}||", port.port)),
                        tcp_proxy(&cluster, &cluster),
                    ),
                    tls: None,
                });
            }
        }
    }
    out
}

/// `outbound_.PORT_.SUBSET_.HOST`: the cluster name Istio clients put in SNI.
pub fn sni_dnat_cluster(port: u16, subset: &str, host: &str) -> String {
    format!("outbound_.{port}_.{subset}_.{host}")
}

/// Metadata exchange for ISTIO_MUTUAL servers, authorization, extensions
/// and stats of the server port, then the TCP proxy to the route's
/// destinations (the server port is the default port). AUTO_PASSTHROUGH
/// chains have no authorization: the destination's sidecar enforces it.
fn network_filters(
    cx: &Cx,
    s: &MergedServer,
    vs: &VirtualServiceEntry,
    route: &[RouteDestination],
    metadata_exchange: bool,
) -> Vec<Value> {
    cx.filters.tcp_filters(
        s.port,
        metadata_exchange,
        true,
        mongo_proxy(s.protocol, &format!("outbound|{}||", s.port)),
        route_proxy(vs, route, s.port),
    )
}
