//! A sidecar's outbound listeners (istiod-sidecar.md §4): one per
//! (bind, port) key, filter chains per protocol, conflicts resolved as
//! istiod does, then `virtualOutbound`.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde_json::{Value, json};

use super::filters::{
    ChainFilters, ListenerClass, listener_filter, mongo_proxy, outbound_hcm, tcp_proxy,
    tcp_proxy_with,
};
use super::focus::Focus;
use super::json::object;
use super::scope::{EgressListener, OutboundMode, ScopedService, SidecarScope};
use super::{Context, Interception, Proxy};
use crate::model::istio::{Destination, L4MatchAttributes, RouteDestination};
use crate::registry::catalog::{CatalogService, Port, Registry, Resolution};
use crate::registry::config::VirtualServiceEntry;
use crate::registry::protocol::Protocol;

/// Plaintext HTTP ALPNs the HTTP inspector reports.
const PLAIN_HTTP_ALPN: [&str; 2] = ["http/1.1", "h2c"];
/// Ports Envoy itself listens on: no outbound listener may take them.
const RESERVED: [u16; 4] = [15001, 15006, 15021, 15090];

/// How a listener treats its traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Http,
    Tcp,
    Auto,
}

fn class_of(p: Protocol) -> Class {
    if p.is_http() {
        Class::Http
    } else if p.is_unsupported() {
        Class::Auto
    } else {
        Class::Tcp
    }
}

/// A filter chain before it becomes JSON.
#[derive(Debug, Clone, PartialEq)]
struct Chain {
    server_names: Vec<String>,
    prefix_ranges: Vec<String>,
    transport: Option<&'static str>,
    alpn: Vec<&'static str>,
    filters: Vec<Value>,
    /// `istio.config` of the VirtualService match it came from.
    config: Option<String>,
    http: bool,
}

impl Chain {
    fn match_all(&self) -> bool {
        self.server_names.is_empty()
            && self.prefix_ranges.is_empty()
            && self.transport.is_none()
            && self.alpn.is_empty()
    }

    /// istiod drops an incoming chain whose match equals an existing one.
    fn same_match(&self, other: &Chain) -> bool {
        fn names(c: &Chain) -> Vec<&String> {
            let mut v: Vec<&String> = c.server_names.iter().filter(|s| *s != "*").collect();
            v.sort();
            v
        }
        fn cidrs(c: &Chain) -> Vec<&String> {
            let mut v: Vec<&String> = c
                .prefix_ranges
                .iter()
                .filter(|s| !s.starts_with("0.0.0.0"))
                .collect();
            v.sort();
            v
        }
        self.transport == other.transport
            && self.alpn == other.alpn
            && names(self) == names(other)
            && cidrs(self) == cidrs(other)
    }
}

/// One listener under construction.
#[derive(Debug)]
struct Entry {
    bind: String,
    port: u16,
    class: Class,
    /// The protocol of the first service (well-known port conflicts).
    protocol: Protocol,
    chains: Vec<Chain>,
    /// Built by a ported egress listener: the catch-all cannot extend it.
    locked: bool,
    bind_to_port: bool,
}

/// What the chain builders read beside the service: the proxy, what its
/// outbound chains carry (telemetry, extensions), and the focus, if any.
struct Cx<'a> {
    proxy: &'a Proxy,
    filters: ChainFilters<'a>,
    focus: Option<&'a Focus>,
}

/// The listeners under construction, by key in the order keys first come.
struct Table {
    entries: BTreeMap<(String, u16), Entry>,
    order: Vec<(String, u16)>,
    /// With a focus: the keys of one service's own address (or endpoint)
    /// seen, with whether the focus touches their service.
    own: HashMap<(String, u16), bool>,
    /// A key touched and untouched services share: what the touched ones
    /// give cannot be built apart.
    mixed: bool,
}

/// Every outbound listener, then `virtualOutbound`. With a focus, of the
/// listeners of one service's own address only those of touched services
/// (shared addresses' in full); None when a touched service shares one with
/// an untouched one.
pub fn listeners<'a>(
    ctx: &Context<'a>,
    proxy: &'a Proxy,
    scope: &SidecarScope,
    focus: Option<&'a Focus>,
) -> Option<Vec<Value>> {
    let cx = Cx {
        proxy,
        filters: ChainFilters::for_proxy(ctx, proxy, ListenerClass::SidecarOutbound),
        focus,
    };
    let mut table = Table {
        entries: BTreeMap::new(),
        order: Vec::new(),
        own: HashMap::new(),
        mixed: false,
    };
    for l in &scope.egress {
        match &l.port {
            Some(p) => {
                let bind_to_port = l.capture_none
                    || l.bind.as_deref().is_some_and(|b| b.starts_with("unix://"))
                    || proxy.interception == Interception::None;
                let bind = l
                    .bind
                    .clone()
                    .or_else(|| bind_to_port.then(|| "127.0.0.1".to_string()));
                for s in &l.services {
                    let port = Port {
                        name: p.name.clone(),
                        port: p.number,
                        protocol: p.protocol,
                        target_port: None,
                    };
                    let target = ListenerTarget {
                        service: s,
                        port: &port,
                        bind: bind.clone(),
                        bind_to_port,
                    };
                    build_one(ctx, &cx, l, &target, &mut table);
                }
            }
            None => {
                for e in table.entries.values_mut() {
                    e.locked = true;
                }
                // Without traffic capture, Envoy must really listen, on localhost.
                let bind_to_port = proxy.interception == Interception::None;
                let bind = bind_to_port.then(|| "127.0.0.1".to_string());
                for s in &l.services {
                    for port in s.ports.iter() {
                        let target = ListenerTarget {
                            service: s,
                            port,
                            bind: bind.clone(),
                            bind_to_port,
                        };
                        build_one(ctx, &cx, l, &target, &mut table);
                    }
                }
            }
        }
    }
    if table.mixed {
        return None;
    }
    // Each key is in `order` once: entries move into their listeners.
    let mut out: Vec<Value> = table
        .order
        .iter()
        .filter_map(|k| table.entries.remove(k))
        .map(|e| listener_json(&cx, e, scope.outbound_mode))
        .collect();
    if proxy.interception != Interception::None {
        out.push(virtual_outbound(&cx, scope.outbound_mode));
    }
    Some(out)
}

/// One service port to make a listener for.
struct ListenerTarget<'s, 'a> {
    service: &'s ScopedService<'a>,
    port: &'s Port,
    /// The egress listener's bind, if any.
    bind: Option<String>,
    bind_to_port: bool,
}

fn build_one(ctx: &Context, cx: &Cx, l: &EgressListener, t: &ListenerTarget, table: &mut Table) {
    let svc = t.service.service;
    // Whether the focus touches the service (None: built anyway), for a
    // listener of its own address.
    let touched = |own: bool| {
        let f = cx.focus.filter(|_| own)?;
        Some(
            f.touches_listeners_of(svc)
                || vss_for_host(l, &svc.hostname).any(|vs| f.touches_virtual_service(vs)),
        )
    };
    let address = cx.proxy.address_of(svc);
    let protocol = t.port.protocol;
    if protocol == Protocol::Udp || svc.resolution == Resolution::Alias {
        return;
    }
    let class = class_of(protocol);
    // Headless services and NONE ServiceEntries: one listener per endpoint.
    if t.bind.is_none()
        && svc.resolution == Resolution::Passthrough
        && address == "0.0.0.0"
        && class != Class::Http
    {
        let endpoints: Vec<IpAddr> = headless_endpoints(ctx, cx.proxy, svc, t.port);
        if !endpoints.is_empty() {
            for ip in endpoints {
                let key = (ip.to_string(), t.port.port);
                let bind = key.0.clone();
                let chains = || chains_for(cx, l, svc, t.port, class, &bind, &[]);
                table.insert(key, touched(true), class, protocol, chains, false);
            }
            return;
        }
        if svc.registry == Registry::Kubernetes || svc.selector.is_some() {
            return;
        }
    }
    let (bind, cidrs) = match &t.bind {
        Some(b) => (b.clone(), Vec::new()),
        None if class == Class::Http => ("0.0.0.0".to_string(), Vec::new()),
        None if address.contains('/') => ("0.0.0.0".to_string(), vec![address.to_string()]),
        None => (address.to_string(), Vec::new()),
    };
    let wildcard = bind == "0.0.0.0";
    if RESERVED.contains(&t.port.port) && (wildcard || (t.bind.is_none() && class == Class::Http)) {
        return;
    }
    let key = (bind.clone(), t.port.port);
    if table.entries.get(&key).is_some_and(|e| e.locked) && t.bind.is_none() {
        return;
    }
    // The service's own address, not a bind or the wildcard shared by many.
    let touched = touched(t.bind.is_none() && !wildcard);
    let chains = || chains_for(cx, l, svc, t.port, class, &bind, &cidrs);
    table.insert(key, touched, class, protocol, chains, t.bind_to_port);
}

/// Pod IPs behind a headless service port, the proxy's own left out.
fn headless_endpoints(
    ctx: &Context,
    proxy: &Proxy,
    svc: &CatalogService,
    port: &Port,
) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = ctx
        .catalog
        .endpoints_of(svc)
        .iter()
        .filter(|e| e.service_port_name == port.name)
        .filter_map(|e| e.address.parse::<IpAddr>().ok())
        .filter(|ip| !proxy.ips.contains(ip))
        .collect();
    out.dedup();
    out
}

impl Table {
    /// Apply istiod's conflict table (§4.2) for a new set of chains at `key`,
    /// unless `touched` says the focus leaves its service out. The chains are
    /// built only when the table keeps them: every HTTP service of a port
    /// after the first adds nothing to its listener.
    fn insert(
        &mut self,
        key: (String, u16),
        touched: Option<bool>,
        class: Class,
        protocol: Protocol,
        chains: impl FnOnce() -> Vec<Chain>,
        bind_to_port: bool,
    ) {
        if let Some(touched) = touched {
            self.mixed |= self
                .own
                .insert(key.clone(), touched)
                .is_some_and(|t| t != touched);
            if !touched {
                return;
            }
        }
        let Table { entries, order, .. } = self;
        let wildcard = key.0 == "0.0.0.0";
        let Some(e) = entries.get_mut(&key) else {
            let chains = chains();
            // HTTP on the wildcard address is stored as auto: TCP may join it.
            let class = if class == Class::Http && wildcard {
                Class::Auto
            } else {
                class
            };
            order.push(key.clone());
            entries.insert(
                key.clone(),
                Entry {
                    bind: key.0,
                    port: key.1,
                    class,
                    protocol,
                    chains,
                    locked: false,
                    bind_to_port,
                },
            );
            return;
        };
        let well_known = |p: Protocol| matches!(p, Protocol::Mongo | Protocol::Mysql);
        if (well_known(e.protocol) || well_known(protocol)) && e.protocol != protocol {
            return;
        }
        match (class, e.class) {
            (Class::Http, Class::Http | Class::Auto) => {}
            (Class::Http, Class::Tcp) => {
                merge(&mut e.chains, chains());
                e.class = Class::Auto;
            }
            (Class::Tcp, _) => {
                merge(&mut e.chains, chains());
                if e.class == Class::Http {
                    e.class = Class::Auto;
                }
            }
            (Class::Auto, Class::Http) => {
                e.chains = chains();
                e.class = Class::Auto;
                e.protocol = protocol;
            }
            (Class::Auto, Class::Tcp) => {
                merge(&mut e.chains, chains());
                e.class = Class::Auto;
            }
            (Class::Auto, Class::Auto) => {
                merge(
                    &mut e.chains,
                    chains().into_iter().filter(|c| !c.http).collect(),
                );
            }
        }
    }
}

fn merge(existing: &mut Vec<Chain>, incoming: Vec<Chain>) {
    for c in incoming {
        if !existing.iter().any(|e| e.same_match(&c)) {
            existing.push(c);
        }
    }
}

/// The chains one service port contributes (§4.3).
#[allow(clippy::too_many_arguments)]
fn chains_for(
    cx: &Cx,
    l: &EgressListener,
    svc: &CatalogService,
    port: &Port,
    class: Class,
    bind: &str,
    cidrs: &[String],
) -> Vec<Chain> {
    let wildcard = bind == "0.0.0.0" || bind == "::";
    let http_chain = |rds: String| Chain {
        server_names: Vec::new(),
        prefix_ranges: Vec::new(),
        transport: wildcard.then_some("raw_buffer"),
        alpn: if wildcard {
            PLAIN_HTTP_ALPN.to_vec()
        } else {
            Vec::new()
        },
        // The listener's network extensions go in front of its connection
        // manager (an outbound listener has one HTTP chain).
        filters: cx
            .filters
            .http_network_filters(port.port)
            .into_iter()
            .chain([outbound_hcm(
                &format!("outbound_{bind}_{}", port.port),
                &rds,
                port.port,
                &cx.filters,
            )])
            .collect(),
        config: None,
        http: true,
    };
    match class {
        Class::Http => vec![http_chain(port.port.to_string())],
        Class::Tcp if port.protocol.is_tls() => tls_chains(cx, l, svc, port, bind, cidrs),
        Class::Tcp => tcp_chains(cx, l, svc, port, cidrs),
        Class::Auto => {
            let mut chains = tcp_chains(cx, l, svc, port, cidrs);
            let rds = if wildcard {
                port.port.to_string()
            } else {
                format!("{}:{}", svc.hostname, port.port)
            };
            let mut http = http_chain(rds);
            http.transport = Some("raw_buffer");
            http.alpn = PLAIN_HTTP_ALPN.to_vec();
            chains.push(http);
            chains
        }
    }
}

/// `/apis/networking.istio.io/v1/namespaces/<ns>/virtual-service/<name>`.
pub fn vs_config_path(vs: &VirtualServiceEntry) -> String {
    format!(
        "/apis/networking.istio.io/v1/namespaces/{}/virtual-service/{}",
        vs.meta.namespace, vs.meta.name
    )
}

/// VirtualServices of the egress listener naming this host (exact or wildcard).
fn vss_for_host<'a>(
    l: &'a EgressListener,
    host: &str,
) -> impl Iterator<Item = &'a VirtualServiceEntry> {
    l.vs_hosts
        .covering(host)
        .into_iter()
        .map(|i| l.virtual_services[i])
}

/// Does an L4 match apply to this proxy on this port?
fn l4_applies(m: &L4MatchAttributes, proxy: &Proxy, port: u16) -> bool {
    m.port.is_none_or(|p| p == 0 || p == u32::from(port))
        && proxy.selected_by(&m.source_labels)
        && m.source_namespace
            .as_deref()
            .is_none_or(|n| n == proxy.namespace)
        && (m.gateways.is_empty() || m.gateways.iter().any(|g| g == "mesh"))
}

/// `outbound|PORT|SUBSET|HOST` for a VirtualService destination: its own
/// port, else the listener's (istiod looks the destination up only among
/// the services of this port).
pub fn destination_cluster(d: &Destination, port: u16) -> String {
    let p = d
        .port
        .as_ref()
        .and_then(|p| p.number)
        .unwrap_or(u32::from(port));
    format!(
        "outbound|{p}|{}|{}",
        d.subset.as_deref().unwrap_or(""),
        d.host
    )
}

/// A tcp_proxy to the route's destinations (weighted when several).
pub fn route_proxy(vs: &VirtualServiceEntry, route: &[RouteDestination], port: u16) -> Value {
    let live: Vec<&RouteDestination> = route
        .iter()
        .filter(|r| route.len() == 1 || r.weight.unwrap_or(0) > 0)
        .collect();
    if let [one] = live.as_slice() {
        return cluster_proxy(&destination_cluster(&one.destination, port));
    }
    let clusters: Vec<Value> = live
        .iter()
        .map(|r| json!({"name": destination_cluster(&r.destination, port), "weight": r.weight.unwrap_or(0)}))
        .collect();
    tcp_proxy_with(
        &format!("{}.{}", vs.meta.name, vs.meta.namespace),
        json!({"weighted_clusters": {"clusters": clusters}}),
    )
}

/// The cluster a TCP service port's default chain sends to: when the
/// service has exactly one port, that port's number.
fn default_cluster(svc: &CatalogService, port: &Port) -> String {
    let number = match svc.ports.as_slice() {
        [only] => only.port,
        _ => port.port,
    };
    format!("outbound|{number}||{}", svc.hostname)
}

fn tcp_chains(
    cx: &Cx,
    l: &EgressListener,
    svc: &CatalogService,
    port: &Port,
    cidrs: &[String],
) -> Vec<Chain> {
    let mut out = Vec::new();
    let chain = |filters: Vec<Value>, ranges: Vec<String>, config: Option<String>| Chain {
        server_names: Vec::new(),
        prefix_ranges: ranges,
        transport: None,
        alpn: Vec::new(),
        filters,
        config,
        http: false,
    };
    for vs in vss_for_host(l, &svc.hostname) {
        for r in &vs.spec.tcp {
            if r.route.is_empty() {
                continue;
            }
            let proxy_filter = || tcp_filters(cx, route_proxy(vs, &r.route, port.port), port);
            if r.r#match.is_empty() {
                out.push(chain(
                    proxy_filter(),
                    cidrs.to_vec(),
                    Some(vs_config_path(vs)),
                ));
                return out;
            }
            let mut subnets = Vec::new();
            for m in r
                .r#match
                .iter()
                .filter(|m| l4_applies(m, cx.proxy, port.port))
            {
                if m.destination_subnets.is_empty() {
                    out.push(chain(
                        proxy_filter(),
                        cidrs.to_vec(),
                        Some(vs_config_path(vs)),
                    ));
                    return out;
                }
                subnets.extend(m.destination_subnets.iter().cloned());
            }
            if !subnets.is_empty() {
                out.push(chain(proxy_filter(), subnets, None));
            }
        }
    }
    out.push(chain(
        tcp_filters(cx, cluster_proxy(&default_cluster(svc, port)), port),
        cidrs.to_vec(),
        None,
    ));
    out
}

fn tls_chains(
    cx: &Cx,
    l: &EgressListener,
    svc: &CatalogService,
    port: &Port,
    bind: &str,
    cidrs: &[String],
) -> Vec<Chain> {
    let mut out: Vec<Chain> = Vec::new();
    for vs in vss_for_host(l, &svc.hostname) {
        for r in &vs.spec.tls {
            if r.route.is_empty() {
                continue;
            }
            for m in &r.r#match {
                let applies = m.port.is_none_or(|p| p == 0 || p == u32::from(port.port))
                    && cx.proxy.selected_by(&m.source_labels)
                    && m.source_namespace
                        .as_deref()
                        .is_none_or(|n| n == cx.proxy.namespace)
                    && (m.gateways.is_empty() || m.gateways.iter().any(|g| g == "mesh"));
                if !applies {
                    continue;
                }
                let c = Chain {
                    server_names: m.sni_hosts.clone(),
                    prefix_ranges: if m.destination_subnets.is_empty() {
                        cidrs.to_vec()
                    } else {
                        m.destination_subnets.clone()
                    },
                    transport: None,
                    alpn: Vec::new(),
                    filters: tcp_filters(cx, route_proxy(vs, &r.route, port.port), port),
                    config: Some(vs_config_path(vs)),
                    http: false,
                };
                if !out.iter().any(|o| o.same_match(&c)) {
                    out.push(c);
                }
            }
        }
    }
    if out.is_empty() {
        let sni = !cidrs.is_empty() || (svc.address == "0.0.0.0" && bind == "0.0.0.0");
        let mut names = Vec::new();
        if sni {
            names.push(svc.hostname.clone());
            names.extend(svc.aliases.iter().cloned());
        }
        out.push(Chain {
            server_names: names,
            prefix_ranges: cidrs.to_vec(),
            transport: None,
            alpn: Vec::new(),
            filters: tcp_filters(cx, cluster_proxy(&default_cluster(svc, port)), port),
            config: None,
            http: false,
        });
    }
    out
}

/// A TCP chain of a service port: extensions and stats, the protocol's
/// own filter (Mongo), then the proxy.
fn tcp_filters(cx: &Cx, proxy_filter: Value, port: &Port) -> Vec<Value> {
    let mongo = mongo_proxy(port.protocol, &format!("outbound|{}||", port.port));
    cx.filters
        .tcp_filters(port.port, false, true, mongo, proxy_filter)
}

fn chain_json(c: Chain, name: Option<&str>) -> Value {
    let mut m = serde_json::Map::new();
    let mut fcm = serde_json::Map::new();
    if !c.prefix_ranges.is_empty() {
        let mut ranges = c.prefix_ranges.clone();
        ranges.sort();
        fcm.insert(
            "prefix_ranges".into(),
            ranges.iter().map(|r| cidr_json(r)).collect(),
        );
    }
    if let Some(t) = c.transport {
        fcm.insert("transport_protocol".into(), json!(t));
    }
    if !c.alpn.is_empty() {
        fcm.insert("application_protocols".into(), json!(c.alpn));
    }
    if !c.server_names.is_empty() {
        let mut names = c.server_names.clone();
        names.sort();
        fcm.insert("server_names".into(), json!(names));
    }
    if !fcm.is_empty() {
        m.insert("filter_chain_match".into(), Value::Object(fcm));
    }
    m.insert("filters".into(), Value::Array(c.filters));
    if let Some(cfg) = &c.config {
        m.insert(
            "metadata".into(),
            json!({"filter_metadata": {"istio": {"config": cfg}}}),
        );
    }
    if let Some(n) = name {
        m.insert("name".into(), json!(n));
    }
    m.insert("transport_socket_connect_timeout".into(), json!("15s"));
    Value::Object(m)
}

/// A CIDR as `CidrRange` (a bare IP is a host route).
fn cidr_json(text: &str) -> Value {
    let (ip, len) = match text.split_once('/') {
        Some((ip, len)) => (ip, len.parse::<u32>().unwrap_or(32)),
        None => (text, if text.contains(':') { 128 } else { 32 }),
    };
    json!({"address_prefix": ip, "prefix_len": len})
}

/// A tcp_proxy named after its one cluster.
fn cluster_proxy(cluster: &str) -> Value {
    tcp_proxy(cluster, cluster)
}

/// The fallback for connections no chain matches: stats, and a logged
/// tcp_proxy.
fn passthrough_chain(cx: &Cx, mode: OutboundMode, name: &str) -> Value {
    let cluster = match mode {
        OutboundMode::AllowAny => "PassthroughCluster",
        OutboundMode::RegistryOnly => "BlackHoleCluster",
    };
    object([
        (
            "filters",
            Value::Array(cx.filters.stats_then(cluster_proxy(cluster), true)),
        ),
        ("name", json!(name)),
    ])
}

fn listener_json(cx: &Cx, e: Entry, mode: OutboundMode) -> Value {
    let tls = e
        .chains
        .iter()
        .any(|c| !c.server_names.is_empty() || c.transport == Some("tls"));
    let http = e.chains.iter().any(|c| !c.alpn.is_empty());
    let only_match_all = e.chains.len() == 1 && e.chains[0].match_all();
    let mut chains: Vec<Value> = Vec::new();
    let mut default = None;
    let only = e.chains.len() == 1;
    for c in e.chains {
        if c.match_all() && !only && default.is_none() {
            default = Some(chain_json(c, None));
        } else {
            chains.push(chain_json(c, None));
        }
    }
    if default.is_none() && !only_match_all {
        default = Some(passthrough_chain(cx, mode, "PassthroughFilterChain"));
    }
    let mut filters = Vec::new();
    if tls {
        filters.push(listener_filter(
            "envoy.filters.listener.tls_inspector",
            "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
        ));
    }
    if http {
        filters.push(listener_filter(
            "envoy.filters.listener.http_inspector",
            "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
        ));
    }
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(format!("{}_{}", e.bind, e.port)));
    m.insert(
        "address".into(),
        super::json::socket_address(&e.bind, u32::from(e.port)),
    );
    m.insert("filter_chains".into(), Value::Array(chains));
    if !filters.is_empty() {
        m.insert("listener_filters".into(), Value::Array(filters));
    }
    m.insert("listener_filters_timeout".into(), json!("0s"));
    m.insert("traffic_direction".into(), json!("OUTBOUND"));
    m.insert("continue_on_listener_filters_timeout".into(), json!(true));
    if let Some(d) = default {
        m.insert("default_filter_chain".into(), d);
    }
    m.insert("bind_to_port".into(), json!(e.bind_to_port));
    Value::Object(m)
}

/// `virtualOutbound` on 15001: captured traffic, dispatched by original
/// destination; what no listener takes goes to the passthrough (§4.5).
fn virtual_outbound(cx: &Cx, mode: OutboundMode) -> Value {
    let blackhole = json!({
        "filter_chain_match": {"destination_port": 15001},
        "filters": cx.filters.stats_then(cluster_proxy("BlackHoleCluster"), false),
        "name": "virtualOutbound-blackhole",
    });
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!("virtualOutbound"));
    m.insert(
        "address".into(),
        super::json::socket_address("0.0.0.0", 15001),
    );
    m.insert(
        "filter_chains".into(),
        json!([
            blackhole,
            passthrough_chain(cx, mode, "virtualOutbound-catchall-tcp")
        ]),
    );
    m.insert("use_original_dst".into(), json!(true));
    m.insert("traffic_direction".into(), json!("OUTBOUND"));
    cx.filters.log_listener(&mut m);
    Value::Object(m)
}
