//! The inbound side of a sidecar: `virtualInbound`, its chains per target
//! port and mTLS mode, inbound clusters (istiod-sidecar.md §6).
//!
//! [`build`] resolves what the registry decides (service targets, Sidecar,
//! PeerAuthentication) and hands it to [`generate`], which only builds JSON
//! and is what the tests drive. Resources are written with proto field names
//! in proto field-number order, as Envoy's `/config_dump` prints them.
//!
//! Security, telemetry and extension filters come from [`ChainFilters`].
//! Not modelled yet: DestinationRule / Sidecar connection pools on inbound
//! clusters, `ingress[].tls` (`ENABLE_TLS_ON_SIDECAR_INGRESS` is off by
//! default), dual stack.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value, json};

use crate::model::istio::IngressListener;
use crate::model::mesh_config::MeshConfig;
use crate::registry::catalog::{CatalogService, Port, Registry};
use crate::registry::config::peer_authn::WorkloadMtls;
use crate::registry::config::{MtlsMode, SidecarEntry};
use crate::registry::protocol::Protocol;
use crate::registry::services::TargetPort;

use super::filters::{
    ChainFilters, ListenerClass, mongo_proxy, named, tcp_metadata_exchange, tcp_proxy,
};
use super::json::{any, duration, socket_address};
use super::tls::istio_downstream_tls;
use super::{Context, Interception, Proxy};

/// What one proxy gets on its inbound side.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    /// `virtualInbound` (absent when interception is NONE).
    pub virtual_inbound: Option<Value>,
    /// Real bound listeners (Sidecar ingress captureMode NONE / proxy interception NONE).
    pub bound_listeners: Vec<Value>,
    /// `inbound|TP||` clusters then `InboundPassthroughCluster`.
    pub clusters: Vec<Value>,
}

/// One (service, service port, target port) that reaches this proxy
/// (istiod's `ServiceTarget`).
#[derive(Debug, Clone)]
pub struct ServiceTarget<'a> {
    pub service: &'a CatalogService,
    pub port: &'a Port,
    pub target_port: u16,
}

/// The proxy's inbound listeners and clusters: its Sidecar, PeerAuthentication
/// modes and service targets resolved, then [`generate`].
pub fn build(ctx: &Context, proxy: &Proxy) -> Inbound {
    let sidecar = ctx
        .config
        .sidecars
        .for_proxy(&proxy.namespace, &proxy.labels);
    let mtls = ctx
        .config
        .peer_authn
        .for_workload(&proxy.namespace, &proxy.labels);
    let targets = service_targets(ctx, proxy);
    let filters = ChainFilters::for_proxy(ctx, proxy, ListenerClass::SidecarInbound);
    generate(
        &ctx.mesh.mesh_config,
        proxy,
        &targets,
        &mtls,
        sidecar,
        &filters,
    )
}

/// The proxy's service targets (§6.1): ServiceEntry instances on the proxy
/// IP in its namespace, then Kubernetes Services selecting the pod (or, for
/// selector-less Services, endpoints on the pod IP); stably sorted by
/// service creation time, then hostname, as istiod's `SetServiceTargets`.
pub fn service_targets<'a>(ctx: &Context<'a>, proxy: &Proxy) -> Vec<ServiceTarget<'a>> {
    let catalog = ctx.catalog;
    let ip = proxy.ip().to_string();
    let workload = &ctx.mesh.workloads[proxy.workload];
    let in_ns = |registry: Registry| {
        catalog
            .in_namespace(&proxy.namespace)
            .filter(move |s| s.registry == registry)
    };
    let on_proxy = |svc: &'a CatalogService| {
        catalog
            .endpoints_of(svc)
            .iter()
            .filter(|e| e.address == ip)
            .filter_map(move |e| Some((svc.port_named(&e.service_port_name)?, e.port)))
    };
    let mut out: Vec<ServiceTarget<'a>> = Vec::new();
    let mut push = |service: &'a CatalogService, port: &'a Port, target_port: u16| {
        // Deduplicated per service by (TP, protocol).
        let dup = out.iter().any(|t| {
            std::ptr::eq(t.service, service)
                && t.target_port == target_port
                && t.port.protocol == port.protocol
        });
        if !dup {
            out.push(ServiceTarget {
                service,
                port,
                target_port,
            });
        }
    };
    for svc in in_ns(Registry::External) {
        for (port, tp) in on_proxy(svc) {
            push(svc, port, tp);
        }
    }
    for svc in in_ns(Registry::Kubernetes) {
        let Some(selector) = &svc.selector else {
            for (port, tp) in on_proxy(svc) {
                push(svc, port, tp);
            }
            continue;
        };
        if !selector
            .iter()
            .all(|(k, v)| workload.labels.get(k) == Some(v))
        {
            continue;
        }
        let kube = ctx
            .mesh
            .services
            .binary_search_by(|k| {
                (k.namespace.as_str(), k.name.as_str())
                    .cmp(&(svc.source.namespace.as_str(), svc.source.name.as_str()))
            })
            .ok()
            .map(|i| &ctx.mesh.services[i]);
        let Some(kube) = kube else { continue };
        for port in &svc.ports {
            let Some(kp) = kube.ports.iter().find(|p| p.port == port.port) else {
                continue;
            };
            // A named targetPort needs a container port of that name and
            // the same L4 protocol; without one the port has no target.
            let tp = match &kp.target {
                TargetPort::Number(n) => Some(*n),
                TargetPort::Name(name) => workload
                    .ports
                    .iter()
                    .find(|c| {
                        c.name.as_deref() == Some(name.as_str())
                            && c.protocol.eq_ignore_ascii_case(&kp.protocol)
                    })
                    .map(|c| c.port),
            };
            if let Some(tp) = tp {
                push(svc, port, tp);
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.service.creation, &a.service.hostname).cmp(&(&b.service.creation, &b.service.hostname))
    });
    out
}

/// The testable core: listeners and clusters from resolved inputs.
pub fn generate(
    mesh: &MeshConfig,
    proxy: &Proxy,
    targets: &[ServiceTarget],
    mtls: &WorkloadMtls,
    sidecar: Option<&SidecarEntry>,
    filters: &ChainFilters,
) -> Inbound {
    let ingress = sidecar.filter(|s| !s.spec.ingress.is_empty());
    let b = Builder {
        mesh,
        proxy,
        filters,
    };
    let mut service_chains = Vec::new();
    let mut bound_listeners = Vec::new();
    for cc in chain_configs(mesh, proxy, targets, ingress) {
        let chains = b.chains(&cc, mtls.for_port(u32::from(cc.target_port)));
        if cc.bind_to_port {
            bound_listeners.push(b.listener(
                &cc.name(false),
                &cc.bind,
                cc.target_port,
                true,
                chains,
            ));
        } else {
            service_chains.extend(chains);
        }
    }
    let virtual_inbound = (proxy.interception != Interception::None).then(|| {
        let mut chains = vec![b.blackhole()];
        for (port, mode) in passthrough_modes(mtls, targets, ingress) {
            chains.extend(b.chains(&ChainConfig::passthrough(port), mode));
        }
        chains.extend(service_chains);
        let port = u16::try_from(mesh.proxy_inbound_listen_port()).unwrap_or(15006);
        b.listener(VIRTUAL_INBOUND, "0.0.0.0", port, false, chains)
    });
    let mut clusters = b.inbound_clusters(targets, ingress);
    clusters.push(b.passthrough_cluster());
    Inbound {
        virtual_inbound,
        bound_listeners,
        clusters,
    }
}

const VIRTUAL_INBOUND: &str = "virtualInbound";
const CATCHALL_HTTP: &str = "virtualInbound-catchall-http";
const PASSTHROUGH_CLUSTER: &str = "InboundPassthroughCluster";
const BLACKHOLE: &str = "BlackHoleCluster";
/// `pilot-agent`'s status and Prometheus ports: static listeners on 0.0.0.0.
const STATIC_LISTENER_PORTS: [u16; 2] = [15021, 15090];
/// `time.Duration`'s largest whole-second value istiod uses to mean "never".
const NEVER: &str = "9223372035s";

const ALPN_MTLS_HTTP: &[&str] = &["istio-http/1.0", "istio-http/1.1", "istio-h2"];
const ALPN_ALL_ISTIO: &[&str] = &[
    "istio",
    "istio-peer-exchange",
    "istio-http/1.0",
    "istio-http/1.1",
    "istio-h2",
];
const ALPN_PLAIN_HTTP: &[&str] = &["http/1.1", "h2c"];
const ALPN_TCP_MX: &[&str] = &["istio-peer-exchange", "istio"];

/// The ALPN the mTLS server side offers, per terminating filter.
const ALPN_OFFER_TCP: &[&str] = &["istio-peer-exchange", "h2", "http/1.1"];
const ALPN_OFFER_HTTP: &[&str] = &["h2", "http/1.1"];

/// One inbound chain configuration (istiod's `inboundChainConfig`): a
/// target port of a service or Sidecar ingress, or a passthrough.
#[derive(Debug, Clone)]
struct ChainConfig {
    cluster: String,
    /// The service (or Sidecar) port: names the vhost and the decorator.
    service_port: u16,
    /// 0 for the catch-all passthrough (no destination_port match).
    target_port: u16,
    protocol: Protocol,
    bind: String,
    bind_to_port: bool,
    passthrough: bool,
    /// The service hostname (or `<sidecar>.<ns>`) for the decorator.
    hostname: String,
    /// `istio.config` of chains built from a Sidecar.
    config_path: Option<String>,
}

impl ChainConfig {
    fn passthrough(port: u16) -> ChainConfig {
        ChainConfig {
            cluster: PASSTHROUGH_CLUSTER.to_string(),
            service_port: 0,
            target_port: port,
            protocol: Protocol::Unsupported,
            bind: String::new(),
            bind_to_port: false,
            passthrough: true,
            hostname: String::new(),
            config_path: None,
        }
    }

    /// Passthrough chains have fixed names per protocol; the rest are
    /// `<bind>_<TP>` whatever the protocol.
    fn name(&self, http: bool) -> String {
        match (self.passthrough, http) {
            (true, true) => CATCHALL_HTTP.to_string(),
            (true, false) => VIRTUAL_INBOUND.to_string(),
            (false, _) => format!("{}_{}", self.bind, self.target_port),
        }
    }

    fn http_stat_prefix(&self) -> String {
        if self.passthrough {
            format!("{};", self.cluster)
        } else {
            format!("inbound_{};", self.name(true))
        }
    }
}

/// §6.2: one chain config per target port (first target wins), or the
/// Sidecar's ingress listeners instead; sorted by target port.
fn chain_configs(
    mesh: &MeshConfig,
    proxy: &Proxy,
    targets: &[ServiceTarget],
    ingress: Option<&SidecarEntry>,
) -> Vec<ChainConfig> {
    let proxy_none = proxy.interception == Interception::None;
    let mut by_port: BTreeMap<u16, ChainConfig> = BTreeMap::new();
    match ingress {
        None if proxy_none => {}
        None => {
            let reserved = [
                u16::try_from(mesh.proxy_listen_port()).unwrap_or(15001),
                u16::try_from(mesh.proxy_inbound_listen_port()).unwrap_or(15006),
            ];
            for t in targets {
                let tp = t.target_port;
                if STATIC_LISTENER_PORTS.contains(&tp) || reserved.contains(&tp) {
                    continue;
                }
                by_port.entry(tp).or_insert_with(|| ChainConfig {
                    cluster: inbound_cluster_name(tp),
                    service_port: t.port.port,
                    target_port: tp,
                    protocol: t.port.protocol,
                    bind: "0.0.0.0".to_string(),
                    bind_to_port: false,
                    passthrough: false,
                    hostname: t.service.hostname.clone(),
                    config_path: None,
                });
            }
        }
        Some(sc) => {
            for i in &sc.spec.ingress {
                let Some(port) = ingress_port(i) else {
                    continue;
                };
                let protocol = Protocol::parse(
                    i.port
                        .as_ref()
                        .and_then(|p| p.protocol.as_deref())
                        .unwrap_or(""),
                );
                let bind = i.bind.clone().filter(|b| !b.is_empty());
                // Only a wildcard bind (or none, for HTTP) can clash with the
                // static listeners; the capture ports are not checked here.
                let clashes = match &bind {
                    Some(b) => b == "0.0.0.0",
                    None => protocol.is_http(),
                } && STATIC_LISTENER_PORTS.contains(&port);
                if clashes {
                    continue;
                }
                let bind_to_port = match i.capture_mode.as_deref() {
                    None | Some("DEFAULT") => proxy_none,
                    Some(mode) => mode == "NONE",
                };
                by_port.entry(port).or_insert_with(|| ChainConfig {
                    cluster: inbound_cluster_name(port),
                    service_port: port,
                    target_port: port,
                    protocol,
                    bind: bind.unwrap_or_else(|| sidecar_bind(proxy)),
                    bind_to_port,
                    passthrough: false,
                    hostname: format!("{}.{}", sc.meta.name, sc.meta.namespace),
                    config_path: Some(format!(
                        "/apis/networking.istio.io/v1/namespaces/{}/sidecar/{}",
                        sc.meta.namespace, sc.meta.name
                    )),
                });
            }
        }
    }
    by_port.into_values().collect()
}

fn ingress_port(i: &IngressListener) -> Option<u16> {
    i.port
        .as_ref()
        .and_then(|p| p.number)
        .and_then(|n| u16::try_from(n).ok())
}

/// Sidecar ingress without `bind`: the pod IP when it is global unicast
/// (private ranges count), else the wildcard.
fn sidecar_bind(proxy: &Proxy) -> String {
    let ip = proxy.ip();
    let global = match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_unspecified()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unicast_link_local())
        }
    };
    if global {
        ip.to_string()
    } else if ip.is_ipv6() {
        "::".to_string()
    } else {
        "0.0.0.0".to_string()
    }
}

/// §6.5: the workload mode for the catch-all (port 0), then every
/// port-level mode whose port no service target (or Sidecar ingress)
/// covers. istiod walks a map for the latter; ascending port order here.
fn passthrough_modes(
    mtls: &WorkloadMtls,
    targets: &[ServiceTarget],
    ingress: Option<&SidecarEntry>,
) -> Vec<(u16, MtlsMode)> {
    let covered = |port: u16| match ingress {
        Some(sc) => sc
            .spec
            .ingress
            .iter()
            .any(|i| ingress_port(i) == Some(port)),
        None => targets.iter().any(|t| t.target_port == port),
    };
    let mut per_port: Vec<(u16, MtlsMode)> = mtls
        .ports
        .iter()
        .filter_map(|&(p, m)| Some((u16::try_from(p).ok()?, m)))
        .filter(|&(p, _)| p != 0 && !covered(p))
        .collect();
    per_port.sort_by_key(|&(p, _)| p);
    per_port.dedup_by_key(|(p, _)| *p);
    let mut out = vec![(0, mtls.mode)];
    out.extend(per_port);
    out
}

fn inbound_cluster_name(port: u16) -> String {
    format!("inbound|{port}||")
}

/// The network side of a chain: HCM or TCP proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    Tcp,
}

/// One filter chain to build for a chain config (istiod's
/// `FilterChainMatchOptions`).
#[derive(Debug, Clone, Copy)]
struct MatchOption {
    alpn: &'static [&'static str],
    transport: &'static str,
    kind: Kind,
    /// Terminate Istio mTLS.
    mtls: bool,
}

/// A struct literal, so the option tables below are promoted to statics.
macro_rules! opt {
    ($alpn:expr, $transport:expr, $kind:expr, $mtls:expr) => {
        MatchOption {
            alpn: $alpn,
            transport: $transport,
            kind: $kind,
            mtls: $mtls,
        }
    };
}

const TLS: &str = "tls";
const RAW: &str = "raw_buffer";

/// §6.4: the (mode × protocol) matrix. HTTP-class protocols take the HTTP
/// row, "auto" the Auto row, every other protocol (UDP included) the TCP row.
fn match_options(mode: MtlsMode, protocol: Protocol) -> &'static [MatchOption] {
    use Kind::{Http, Tcp};
    use MtlsMode::{Disable, Permissive, Strict};
    const NONE: &[&str] = &[];
    if protocol.is_http() {
        match mode {
            Disable => &[opt!(NONE, RAW, Http, false)],
            Permissive => &[
                opt!(ALPN_ALL_ISTIO, TLS, Http, true),
                opt!(NONE, RAW, Http, false),
            ],
            Strict => &[opt!(NONE, TLS, Http, true)],
        }
    } else if protocol.is_unsupported() {
        match mode {
            Disable => &[
                opt!(ALPN_PLAIN_HTTP, RAW, Http, false),
                opt!(NONE, RAW, Tcp, false),
            ],
            Permissive => &[
                opt!(ALPN_MTLS_HTTP, TLS, Http, true),
                opt!(ALPN_PLAIN_HTTP, RAW, Http, false),
                opt!(ALPN_TCP_MX, TLS, Tcp, true),
                opt!(NONE, RAW, Tcp, false),
                opt!(NONE, TLS, Tcp, false),
            ],
            Strict => &[
                opt!(ALPN_MTLS_HTTP, TLS, Http, true),
                opt!(NONE, TLS, Tcp, true),
            ],
        }
    } else {
        match mode {
            Disable => &[opt!(NONE, RAW, Tcp, false)],
            Permissive => &[
                opt!(ALPN_ALL_ISTIO, TLS, Tcp, true),
                opt!(NONE, TLS, Tcp, false),
                opt!(NONE, RAW, Tcp, false),
            ],
            Strict => &[opt!(NONE, TLS, Tcp, true)],
        }
    }
}

fn circuit_breakers() -> Value {
    let max = u32::MAX;
    json!({"thresholds": [{
        "max_connections": max,
        "max_pending_requests": max,
        "max_requests": max,
        "max_retries": max,
    }]})
}

fn http_protocol_options(fields: Value) -> Value {
    let t = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
    json!({ t: any(t, fields) })
}

/// An Envoy `Address` for an istiod bind string (`unix://` → pipe).
fn address(bind: &str, port: u16) -> Value {
    match bind.strip_prefix("unix://") {
        Some(path) => json!({"pipe": {"path": path}}),
        None => socket_address(bind, u32::from(port)),
    }
}

/// Inserts `key` when there is a value, keeping field order.
fn put(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.insert(key.to_string(), v);
    }
}

struct Builder<'a> {
    mesh: &'a MeshConfig,
    proxy: &'a Proxy,
    filters: &'a ChainFilters<'a>,
}

impl Builder<'_> {
    fn connect_timeout(&self) -> Value {
        duration(self.mesh.connect_timeout()).unwrap_or_else(|| json!("10s"))
    }

    /// Bind upstream connections to the passthrough source address. Port 0
    /// is written: it is a oneof member, which proto-JSON prints even at
    /// its default (and Envoy requires it set).
    fn upstream_bind(&self) -> Value {
        json!({"source_address": {"address": self.bind_source(), "port_value": 0}})
    }

    /// The inbound passthrough source address: iptables skips traffic from it.
    fn bind_source(&self) -> &'static str {
        if self.proxy.ip().is_ipv6() {
            "::6"
        } else {
            "127.0.0.6"
        }
    }

    fn chains(&self, cc: &ChainConfig, mode: MtlsMode) -> Vec<Value> {
        match_options(mode, cc.protocol)
            .iter()
            .map(|o| self.chain(cc, o))
            .collect()
    }

    fn chain(&self, cc: &ChainConfig, o: &MatchOption) -> Value {
        let mut m = Map::new();
        if cc.target_port > 0 {
            m.insert("destination_port".into(), json!(cc.target_port));
        }
        m.insert("transport_protocol".into(), json!(o.transport));
        if !o.alpn.is_empty() {
            m.insert("application_protocols".into(), json!(o.alpn));
        }
        let filters = match o.kind {
            Kind::Http => self.http_filters(cc),
            Kind::Tcp => self.tcp_filters(cc),
        };
        let mut chain = Map::new();
        chain.insert("filter_chain_match".into(), Value::Object(m));
        chain.insert("filters".into(), Value::Array(filters));
        put(
            &mut chain,
            "metadata",
            cc.config_path
                .as_ref()
                .map(|p| json!({"filter_metadata": {"istio": {"config": p}}})),
        );
        if o.mtls {
            let alpn = match o.kind {
                Kind::Http => ALPN_OFFER_HTTP,
                Kind::Tcp => ALPN_OFFER_TCP,
            };
            chain.insert(
                "transport_socket".into(),
                istio_downstream_tls(alpn, self.mesh),
            );
        }
        chain.insert("name".into(), json!(cc.name(o.kind == Kind::Http)));
        Value::Object(chain)
    }

    /// §6.7 TCP: metadata exchange, authz, extensions, stats, (Mongo),
    /// tcp_proxy; extensions match the service port (istiod's quirk: HTTP
    /// chains match the target port).
    fn tcp_filters(&self, cc: &ChainConfig) -> Vec<Value> {
        self.filters.tcp_filters(
            cc.service_port,
            true,
            true,
            mongo_proxy(cc.protocol, &cc.cluster),
            tcp_proxy(&cc.cluster, &cc.cluster),
        )
    }

    /// §6.7 HTTP: metadata exchange, network extensions, HCM.
    fn http_filters(&self, cc: &ChainConfig) -> Vec<Value> {
        let mut out = vec![tcp_metadata_exchange()];
        out.extend(self.filters.http_network_filters(cc.target_port));
        out.push(self.hcm(cc));
        out
    }

    fn hcm(&self, cc: &ChainConfig) -> Value {
        let http = self.filters.http_filters(cc.protocol, cc.target_port);
        let mut m = Map::new();
        m.insert("stat_prefix".into(), json!(cc.http_stat_prefix()));
        m.insert("route_config".into(), self.route_config(cc));
        m.insert("http_filters".into(), Value::Array(http));
        put(
            &mut m,
            "http_protocol_options",
            self.proxy
                .flag("HTTP10")
                .then(|| json!({"accept_http_10": true})),
        );
        put(
            &mut m,
            "http2_protocol_options",
            cc.protocol.is_http2().then(|| json!({})),
        );
        self.filters.hcm_telemetry(&mut m);
        m.insert("use_remote_address".into(), json!(false));
        m.insert(
            "forward_client_cert_details".into(),
            json!("APPEND_FORWARD"),
        );
        m.insert(
            "set_current_client_cert_details".into(),
            json!({"subject": true, "dns": true, "uri": true}),
        );
        m.insert(
            "upgrade_configs".into(),
            json!([{"upgrade_type": "websocket"}]),
        );
        m.insert("stream_idle_timeout".into(), json!("0s"));
        let normalization = self
            .mesh
            .path_normalization
            .as_ref()
            .and_then(|p| p.normalization.as_deref());
        let (normalize, merge, escaped) = match normalization {
            Some("NONE") => (false, false, "KEEP_UNCHANGED"),
            Some("MERGE_SLASHES") => (true, true, "KEEP_UNCHANGED"),
            Some("DECODE_AND_MERGE_SLASHES") => (true, true, "UNESCAPE_AND_FORWARD"),
            _ => (true, false, "KEEP_UNCHANGED"),
        };
        m.insert("normalize_path".into(), json!(normalize));
        if merge {
            m.insert("merge_slashes".into(), json!(true));
        }
        m.insert(
            "request_id_extension".into(),
            self.filters.request_id_extension(),
        );
        m.insert("path_with_escaped_slashes_action".into(), json!(escaped));
        named(
            "envoy.filters.network.http_connection_manager",
            any(
                "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                Value::Object(m),
            ),
        )
    }

    /// §6.8: the inline route configuration of an inbound HCM.
    fn route_config(&self, cc: &ChainConfig) -> Value {
        let mut action = Map::new();
        action.insert("cluster".into(), json!(cc.cluster));
        action.insert("timeout".into(), json!("0s"));
        // reset-before-request retries break gRPC streams: none on gRPC ports.
        if !cc.protocol.is_grpc() {
            action.insert(
                "retry_policy".into(),
                json!({"retry_on": "reset-before-request", "num_retries": 2}),
            );
        }
        action.insert(
            "max_stream_duration".into(),
            json!({"max_stream_duration": "0s", "grpc_timeout_header_max": "0s"}),
        );
        json!({
            "name": cc.cluster,
            "virtual_hosts": [{
                "name": format!("inbound|http|{}", cc.service_port),
                "domains": ["*"],
                "routes": [{
                    "match": {"prefix": "/"},
                    "route": action,
                    "decorator": {"operation": format!("{}:{}/*", cc.hostname, cc.service_port)},
                    "name": "default",
                }],
            }],
            "validate_clusters": false,
        })
    }

    /// `virtualInbound-blackhole`: traffic addressed to the capture port itself.
    fn blackhole(&self) -> Value {
        let mut filters = vec![tcp_metadata_exchange()];
        filters.extend(
            self.filters
                .stats_then(tcp_proxy(BLACKHOLE, BLACKHOLE), false),
        );
        let port = self.mesh.proxy_inbound_listen_port();
        json!({
            "filter_chain_match": {"destination_port": port},
            "filters": filters,
            "name": "virtualInbound-blackhole",
        })
    }

    /// §6.6: an inbound listener around its chains.
    fn listener(
        &self,
        name: &str,
        bind: &str,
        port: u16,
        bound: bool,
        chains: Vec<Value>,
    ) -> Value {
        let tproxy = self.proxy.interception == Interception::Tproxy;
        let mut filters = Vec::new();
        if !bound {
            filters.push(named(
                "envoy.filters.listener.original_dst",
                any(
                    "envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
                    json!({}),
                ),
            ));
            if tproxy {
                filters.push(named(
                    "envoy.filters.listener.original_src",
                    any(
                        "envoy.extensions.filters.listener.original_src.v3.OriginalSrc",
                        json!({"mark": 1337}),
                    ),
                ));
            }
        }
        filters.extend(inspectors(&chains));
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("address".into(), address(bind, port));
        m.insert("filter_chains".into(), Value::Array(chains));
        m.insert("listener_filters".into(), Value::Array(filters));
        if tproxy && !bound {
            m.insert("transparent".into(), json!(true));
        }
        let timeout =
            duration(self.mesh.protocol_detection_timeout()).unwrap_or_else(|| json!("0s"));
        m.insert("listener_filters_timeout".into(), timeout);
        m.insert("traffic_direction".into(), json!("INBOUND"));
        m.insert("continue_on_listener_filters_timeout".into(), json!(true));
        self.filters.log_listener(&mut m);
        // istiod's MAX_CONNECTIONS_PER_SOCKET_EVENT_LOOP default.
        m.insert(
            "max_connections_to_accept_per_socket_event".into(),
            json!(1),
        );
        any("envoy.config.listener.v3.Listener", Value::Object(m))
    }

    /// §6.9: `inbound|TP||` per target port (in port order), or per Sidecar
    /// ingress listener (in written order).
    fn inbound_clusters(
        &self,
        targets: &[ServiceTarget],
        ingress: Option<&SidecarEntry>,
    ) -> Vec<Value> {
        let Some(sc) = ingress else {
            if self.proxy.interception == Interception::None {
                return Vec::new();
            }
            let mut by_port: BTreeMap<u16, Vec<&ServiceTarget>> = BTreeMap::new();
            for t in targets {
                by_port.entry(t.target_port).or_default().push(t);
            }
            let localhost = self.mesh.inbound_traffic_policy_mode() == "LOCALHOST";
            let bind = if localhost { "127.0.0.1" } else { "" };
            return by_port
                .iter()
                .map(|(&tp, ts)| {
                    let first = ts[0];
                    let services = telemetry_services(first.port.port, ts);
                    let endpoint = (!bind.is_empty()).then(|| (bind.to_string(), tp));
                    self.inbound_cluster(tp, endpoint, first.port.protocol, services)
                })
                .collect();
        };
        sc.spec
            .ingress
            .iter()
            .filter_map(|i| {
                let port = ingress_port(i)?;
                let protocol = Protocol::parse(
                    i.port
                        .as_ref()
                        .and_then(|p| p.protocol.as_deref())
                        .unwrap_or(""),
                );
                let endpoint = match i.default_endpoint.as_deref().filter(|e| !e.is_empty()) {
                    None => None,
                    Some(e) if e.starts_with("unix://") => Some((e.to_string(), 0)),
                    Some(e) => {
                        let (host, p) = e.rsplit_once(':')?;
                        let p: u16 = p.parse().ok()?;
                        match host {
                            "0.0.0.0" => Some((self.proxy.ip().to_string(), p)),
                            "127.0.0.1" => Some(("127.0.0.1".to_string(), p)),
                            // Validation allows nothing else; istiod falls back
                            // to the original destination.
                            _ => None,
                        }
                    }
                };
                // The Service behind the ingress port, if a target has it.
                let services = targets
                    .iter()
                    .find(|t| t.target_port == port)
                    .map(|t| telemetry_services(port, &[t]))
                    .unwrap_or_default();
                Some(self.inbound_cluster(port, endpoint, protocol, services))
            })
            .collect()
    }

    fn inbound_cluster(
        &self,
        port: u16,
        endpoint: Option<(String, u16)>,
        protocol: Protocol,
        services: Vec<Value>,
    ) -> Value {
        let name = inbound_cluster_name(port);
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert(
            "type".into(),
            json!(if endpoint.is_some() {
                "STATIC"
            } else {
                "ORIGINAL_DST"
            }),
        );
        m.insert("connect_timeout".into(), self.connect_timeout());
        if endpoint.is_none() {
            m.insert("lb_policy".into(), json!("CLUSTER_PROVIDED"));
        }
        m.insert("circuit_breakers".into(), circuit_breakers());
        if endpoint.is_none() {
            m.insert("cleanup_interval".into(), json!(NEVER));
        }
        // Only loopback destinations skip the "magic" source address.
        let loopback = endpoint
            .as_ref()
            .is_some_and(|(a, _)| a == "127.0.0.1" || a == "::1");
        if !loopback {
            m.insert("upstream_bind_config".into(), self.upstream_bind());
        }
        if !services.is_empty() {
            m.insert(
                "metadata".into(),
                json!({"filter_metadata": {"istio": {"services": services}}}),
            );
        }
        m.insert("common_lb_config".into(), json!({}));
        m.insert("alt_stat_name".into(), json!(format!("{name};")));
        put(
            &mut m,
            "load_assignment",
            endpoint.map(|(addr, p)| {
                json!({
                    "cluster_name": name,
                    "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address(&addr, p)}}]}],
                })
            }),
        );
        let upstream = if protocol.is_http2() {
            Some(json!({"explicit_http_config": {"http2_protocol_options": {}}}))
        } else if protocol.is_unsupported() {
            Some(json!({"use_downstream_protocol_config": {
                "http_protocol_options": {},
                "http2_protocol_options": {},
            }}))
        } else {
            None
        };
        put(
            &mut m,
            "typed_extension_protocol_options",
            upstream.map(http_protocol_options),
        );
        any("envoy.config.cluster.v3.Cluster", Value::Object(m))
    }

    /// `InboundPassthroughCluster`: the outbound passthrough cluster renamed,
    /// so it keeps `PassthroughCluster;` as its alt stat name.
    fn passthrough_cluster(&self) -> Value {
        any(
            "envoy.config.cluster.v3.Cluster",
            json!({
                "name": PASSTHROUGH_CLUSTER,
                "type": "ORIGINAL_DST",
                "connect_timeout": self.connect_timeout(),
                "lb_policy": "CLUSTER_PROVIDED",
                "circuit_breakers": circuit_breakers(),
                "upstream_bind_config": self.upstream_bind(),
                "alt_stat_name": "PassthroughCluster;",
                "typed_extension_protocol_options": http_protocol_options(json!({
                    "common_http_protocol_options": {"idle_timeout": "300s"},
                    "use_downstream_protocol_config": {
                        "http_protocol_options": {},
                        "http2_protocol_options": {},
                    },
                })),
            }),
        )
    }
}

/// `istio.services` of an inbound cluster: the targets on the first
/// target's service port, one per hostname; none when the first service is
/// mesh-external (ServiceEntries default to it).
fn telemetry_services(service_port: u16, targets: &[&ServiceTarget]) -> Vec<Value> {
    if targets.first().is_none_or(|t| t.service.mesh_external) {
        return Vec::new();
    }
    let mut hosts: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for t in targets.iter().filter(|t| t.port.port == service_port) {
        if hosts.contains(&t.service.hostname.as_str()) {
            continue;
        }
        hosts.push(&t.service.hostname);
        out.push(json!({
            "host": t.service.hostname,
            "name": t.service.name,
            "namespace": t.service.namespace,
        }));
    }
    out
}

/// §6.6: TLS and HTTP inspectors from what the chains match, enabled or
/// disabled per destination port (0 = the catch-all passthrough).
fn inspectors(chains: &[Value]) -> Vec<Value> {
    let mut need: BTreeMap<u64, (bool, bool)> = BTreeMap::new();
    for c in chains {
        let m = &c["filter_chain_match"];
        let port = m["destination_port"].as_u64().unwrap_or(0);
        let tls = m["transport_protocol"] == TLS;
        let http = m["application_protocols"]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p == "http/1.1" || p == "h2c"));
        let e = need.entry(port).or_default();
        e.0 |= tls;
        e.1 |= http;
    }
    let mut out = Vec::new();
    if need.values().any(|n| n.0) {
        // With the catch-all needing TLS, opt the other ports out; else opt
        // the ports that need it in.
        let default_on = need.get(&0).is_some_and(|n| n.0);
        let ports: Vec<u64> = need
            .iter()
            .filter(|&(&p, n)| p != 0 && n.0 != default_on)
            .map(|(&p, _)| p)
            .collect();
        let disabled = match (ports.is_empty(), default_on) {
            (true, _) => None,
            (false, true) => Some(port_ranges(&ports)),
            (false, false) => Some(json!({"not_match": port_ranges(&ports)})),
        };
        out.push(inspector(
            "envoy.filters.listener.tls_inspector",
            any(
                "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
                json!({"initial_read_buffer_size": 512}),
            ),
            disabled,
        ));
    }
    if need.values().any(|n| n.1) {
        let ports: Vec<u64> = need.iter().filter(|(_, n)| !n.1).map(|(&p, _)| p).collect();
        out.push(inspector(
            "envoy.filters.listener.http_inspector",
            any(
                "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
                json!({}),
            ),
            (!ports.is_empty()).then(|| port_ranges(&ports)),
        ));
    }
    out
}

fn inspector(name: &str, typed_config: Value, disabled: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("typed_config".into(), typed_config);
    put(&mut m, "filter_disabled", disabled);
    Value::Object(m)
}

/// A predicate matching any of `ports` (each as `[p, p+1)`).
fn port_ranges(ports: &[u64]) -> Value {
    let mut rules: Vec<Value> = ports
        .iter()
        .map(|p| json!({"destination_port_range": {"start": p, "end": p + 1}}))
        .collect();
    if rules.len() == 1 {
        rules.remove(0)
    } else {
        json!({"or_match": {"rules": rules}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::istio::{self as ist, SidecarSpec};
    use crate::model::mesh_config::InboundTrafficPolicy;
    use crate::registry::ProxyType;
    use crate::registry::catalog::{ObjRef, Resolution};
    use crate::registry::config::ConfigMeta;
    use MtlsMode::{Disable, Permissive, Strict};

    /// The filters of a proxy without policies, Telemetry or extensions.
    fn plain_filters(mesh: &MeshConfig, proxy: &Proxy) -> ChainFilters<'static> {
        let class = ListenerClass::SidecarInbound;
        ChainFilters {
            class,
            security: Default::default(),
            telemetry: crate::xds::generate::telemetry::resolve(
                mesh,
                &Default::default(),
                proxy,
                &[],
                class,
            ),
            extensions: Default::default(),
        }
    }

    fn proxy(interception: Interception) -> Proxy {
        Proxy {
            config: Default::default(),
            workload: 0,
            kind: ProxyType::Sidecar,
            id: "app.default".into(),
            name: "app".into(),
            namespace: "default".into(),
            labels: [("app".to_string(), "app".to_string())].into(),
            ips: vec!["1.1.1.1".parse().unwrap()],
            dns_domain: "default.svc.cluster.local".into(),
            interception,
            metadata: BTreeMap::new(),
            locality: String::new(),
            service_account: "default".into(),
            identity: "spiffe://cluster.local/ns/default/sa/default".into(),
            node: None,
            workload_name: "app".into(),
        }
    }

    fn svc(name: &str, ports: &[(u16, Protocol)], registry: Registry) -> CatalogService {
        let hostname = match registry {
            Registry::Kubernetes => format!("{name}.default.svc.cluster.local"),
            Registry::External => name.to_string(),
        };
        CatalogService::for_test(
            &hostname,
            name,
            registry,
            Resolution::ClientSideLb,
            ports
                .iter()
                .map(|&(port, protocol)| Port {
                    name: format!("p{port}"),
                    port,
                    protocol,
                    target_port: None,
                })
                .collect(),
        )
    }

    /// Targets of `s`: (service port, target port).
    fn targets<'a>(s: &'a CatalogService, map: &[(u16, u16)]) -> Vec<ServiceTarget<'a>> {
        map.iter()
            .map(|&(port, tp)| ServiceTarget {
                service: s,
                port: s.port(port).unwrap(),
                target_port: tp,
            })
            .collect()
    }

    fn mtls(mode: MtlsMode, ports: &[(u32, MtlsMode)]) -> WorkloadMtls {
        WorkloadMtls {
            mode,
            ports: ports.to_vec(),
            sources: Vec::new(),
        }
    }

    fn ingress(port: u32, protocol: &str, default_endpoint: Option<&str>) -> IngressListener {
        IngressListener {
            port: Some(ist::Port {
                number: Some(port),
                protocol: Some(protocol.into()),
                name: Some(format!("p{port}")),
                target_port: None,
            }),
            default_endpoint: default_endpoint.map(str::to_string),
            ..Default::default()
        }
    }

    fn sidecar(ingress: Vec<IngressListener>) -> SidecarEntry {
        SidecarEntry {
            meta: ConfigMeta {
                name: "sc".into(),
                namespace: "default".into(),
                creation: None,
                source: ObjRef {
                    kind: "Sidecar",
                    namespace: "default".into(),
                    name: "sc".into(),
                },
                internal: Default::default(),
            },
            spec: SidecarSpec {
                ingress,
                ..Default::default()
            },
        }
    }

    fn run(targets: &[ServiceTarget], mtls: &WorkloadMtls, sc: Option<&SidecarEntry>) -> Inbound {
        generate(
            &MeshConfig::default(),
            &proxy(Interception::Redirect),
            targets,
            mtls,
            sc,
            &plain_filters(&MeshConfig::default(), &proxy(Interception::Redirect)),
        )
    }

    /// A chain as (name, destination port, transport, ALPN, terminates mTLS).
    type Shape = (String, u64, String, Vec<String>, bool);

    fn shapes(listener: &Value) -> Vec<Shape> {
        listener["filter_chains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let m = &c["filter_chain_match"];
                (
                    c["name"].as_str().unwrap().to_string(),
                    m["destination_port"].as_u64().unwrap_or(0),
                    m["transport_protocol"].as_str().unwrap_or("").to_string(),
                    m["application_protocols"]
                        .as_array()
                        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
                        .unwrap_or_default(),
                    c.get("transport_socket").is_some(),
                )
            })
            .collect()
    }

    fn shape(name: &str, port: u64, transport: &str, alpn: &[&str], mtls: bool) -> Shape {
        (
            name.into(),
            port,
            transport.into(),
            alpn.iter().map(|s| s.to_string()).collect(),
            mtls,
        )
    }

    fn on_port(listener: &Value, port: u64) -> Vec<Shape> {
        shapes(listener)
            .into_iter()
            .filter(|s| s.1 == port)
            .collect()
    }

    fn cluster_names(inbound: &Inbound) -> Vec<&str> {
        inbound
            .clusters
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect()
    }

    fn cluster<'a>(inbound: &'a Inbound, name: &str) -> &'a Value {
        inbound.clusters.iter().find(|c| c["name"] == name).unwrap()
    }

    fn listener_filter<'a>(listener: &'a Value, name: &str) -> Option<&'a Value> {
        listener["listener_filters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
    }

    const HTTP_CATCHALL: &str = "virtualInbound-catchall-http";

    #[test]
    fn inbound_clusters_without_targets() {
        let out = run(&[], &mtls(Permissive, &[]), None);
        assert_eq!(cluster_names(&out), ["InboundPassthroughCluster"]);
        let p = &out.clusters[0];
        assert_eq!(p["type"], "ORIGINAL_DST");
        assert_eq!(p["lb_policy"], "CLUSTER_PROVIDED");
        assert_eq!(
            p["upstream_bind_config"]["source_address"]["address"],
            "127.0.0.6"
        );
        assert_eq!(p["alt_stat_name"], "PassthroughCluster;");
    }

    #[test]
    fn inbound_clusters_named_by_target_port() {
        let s = svc(
            "a",
            &[(80, Protocol::Http), (81, Protocol::Http)],
            Registry::Kubernetes,
        );
        let out = run(
            &targets(&s, &[(80, 8080), (81, 8081)]),
            &mtls(Permissive, &[]),
            None,
        );
        assert_eq!(
            cluster_names(&out),
            [
                "inbound|8080||",
                "inbound|8081||",
                "InboundPassthroughCluster"
            ]
        );
        let c = cluster(&out, "inbound|8080||");
        assert_eq!(c["type"], "ORIGINAL_DST");
        assert_eq!(c["lb_policy"], "CLUSTER_PROVIDED");
        assert_eq!(c["cleanup_interval"], "9223372035s");
        assert_eq!(c["connect_timeout"], "10s");
        assert_eq!(
            c["upstream_bind_config"]["source_address"]["address"],
            "127.0.0.6"
        );
        assert_eq!(c["alt_stat_name"], "inbound|8080||;");
        assert!(c.get("load_assignment").is_none());
        assert_eq!(
            c["metadata"]["filter_metadata"]["istio"]["services"],
            json!([{"host": "a.default.svc.cluster.local", "name": "a", "namespace": "default"}])
        );
    }

    #[test]
    fn inbound_clusters_shared_service_port() {
        let a = svc("a", &[(80, Protocol::Http)], Registry::Kubernetes);
        let b = svc("b", &[(80, Protocol::Http)], Registry::Kubernetes);
        let services = |out: &Inbound, name: &str| {
            cluster(out, name)["metadata"]["filter_metadata"]["istio"]["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        // Different targets: one cluster each, attributed to its own service.
        let mut ts = targets(&a, &[(80, 8080)]);
        ts.extend(targets(&b, &[(80, 9090)]));
        let out = run(&ts, &mtls(Permissive, &[]), None);
        assert_eq!(services(&out, "inbound|8080||"), ["a"]);
        assert_eq!(services(&out, "inbound|9090||"), ["b"]);
        // Same target: one cluster listing both.
        let mut ts = targets(&a, &[(80, 8080)]);
        ts.extend(targets(&b, &[(80, 8080)]));
        let out = run(&ts, &mtls(Permissive, &[]), None);
        assert_eq!(
            cluster_names(&out),
            ["inbound|8080||", "InboundPassthroughCluster"]
        );
        assert_eq!(services(&out, "inbound|8080||"), ["a", "b"]);
    }

    #[test]
    fn inbound_clusters_localhost_mode() {
        let s = svc("a", &[(80, Protocol::Http)], Registry::Kubernetes);
        let mesh = MeshConfig {
            inbound_traffic_policy: Some(InboundTrafficPolicy {
                mode: Some("LOCALHOST".into()),
            }),
            ..Default::default()
        };
        let out = generate(
            &mesh,
            &proxy(Interception::Redirect),
            &targets(&s, &[(80, 8080)]),
            &mtls(Permissive, &[]),
            None,
            &plain_filters(&mesh, &proxy(Interception::Redirect)),
        );
        let c = cluster(&out, "inbound|8080||");
        assert_eq!(c["type"], "STATIC");
        assert!(c.get("upstream_bind_config").is_none());
        assert!(c.get("cleanup_interval").is_none());
        assert_eq!(
            c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"],
            json!({"socket_address": {"address": "127.0.0.1", "port_value": 8080}})
        );
    }

    #[test]
    fn inbound_clusters_sidecar_default_endpoint() {
        let endpoint = |default_endpoint: Option<&str>| {
            let sc = sidecar(vec![ingress(80, "HTTP", default_endpoint)]);
            let out = run(&[], &mtls(Permissive, &[]), Some(&sc));
            let c = cluster(&out, "inbound|80||").clone();
            assert_eq!(
                cluster_names(&out),
                ["inbound|80||", "InboundPassthroughCluster"]
            );
            c
        };
        let addr = |c: &Value| {
            c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"].clone()
        };
        let c = endpoint(Some("127.0.0.1:80"));
        assert_eq!(c["type"], "STATIC");
        assert_eq!(
            addr(&c),
            json!({"socket_address": {"address": "127.0.0.1", "port_value": 80}})
        );
        let c = endpoint(Some("127.0.0.1:8080"));
        assert_eq!(
            addr(&c),
            json!({"socket_address": {"address": "127.0.0.1", "port_value": 8080}})
        );
        let c = endpoint(Some("0.0.0.0:8080"));
        assert_eq!(
            addr(&c),
            json!({"socket_address": {"address": "1.1.1.1", "port_value": 8080}})
        );
        let c = endpoint(None);
        assert_eq!(c["type"], "ORIGINAL_DST");
        assert_eq!(
            c["upstream_bind_config"]["source_address"]["address"],
            "127.0.0.6"
        );
        let c = endpoint(Some("unix:///socket"));
        assert_eq!(addr(&c), json!({"pipe": {"path": "/socket"}}));

        let sc = sidecar(vec![
            ingress(80, "HTTP", Some("127.0.0.1:8080")),
            ingress(81, "HTTP", Some("127.0.0.1:8080")),
        ]);
        let out = run(&[], &mtls(Permissive, &[]), Some(&sc));
        assert_eq!(
            cluster_names(&out),
            ["inbound|80||", "inbound|81||", "InboundPassthroughCluster"]
        );
    }

    #[test]
    fn interception_none_has_no_virtual_inbound() {
        let s = svc("a", &[(80, Protocol::Http)], Registry::Kubernetes);
        let out = generate(
            &MeshConfig::default(),
            &proxy(Interception::None),
            &targets(&s, &[(80, 8080)]),
            &mtls(Permissive, &[]),
            None,
            &plain_filters(&MeshConfig::default(), &proxy(Interception::None)),
        );
        assert!(out.virtual_inbound.is_none());
        assert!(out.bound_listeners.is_empty());
        assert_eq!(cluster_names(&out), ["InboundPassthroughCluster"]);
    }

    /// TestInbound: SE `foo.bar` on the proxy with TCP 70, HTTP 80, auto 81.
    #[test]
    fn chain_matrix_per_mode() {
        let s = svc(
            "foo.bar",
            &[
                (70, Protocol::Tcp),
                (80, Protocol::Http),
                (81, Protocol::Unsupported),
            ],
            Registry::External,
        );
        let ts = targets(&s, &[(70, 70), (80, 80), (81, 81)]);
        let mx = ALPN_ALL_ISTIO;
        let (h, t) = (ALPN_MTLS_HTTP, ALPN_TCP_MX);

        let out = run(&ts, &mtls(Disable, &[]), None);
        let vi = out.virtual_inbound.as_ref().unwrap();
        assert_eq!(on_port(vi, 70), [shape("0.0.0.0_70", 70, RAW, &[], false)]);
        assert_eq!(on_port(vi, 80), [shape("0.0.0.0_80", 80, RAW, &[], false)]);
        assert_eq!(
            on_port(vi, 81),
            [
                shape("0.0.0.0_81", 81, RAW, ALPN_PLAIN_HTTP, false),
                shape("0.0.0.0_81", 81, RAW, &[], false),
            ]
        );
        // Nothing matches TLS: no TLS inspector at all.
        assert!(listener_filter(vi, "envoy.filters.listener.tls_inspector").is_none());

        let out = run(&ts, &mtls(Permissive, &[]), None);
        let vi = out.virtual_inbound.as_ref().unwrap();
        assert_eq!(
            on_port(vi, 70),
            [
                shape("0.0.0.0_70", 70, TLS, mx, true),
                shape("0.0.0.0_70", 70, TLS, &[], false),
                shape("0.0.0.0_70", 70, RAW, &[], false),
            ]
        );
        assert_eq!(
            on_port(vi, 80),
            [
                shape("0.0.0.0_80", 80, TLS, mx, true),
                shape("0.0.0.0_80", 80, RAW, &[], false),
            ]
        );
        assert_eq!(
            on_port(vi, 81),
            [
                shape("0.0.0.0_81", 81, TLS, h, true),
                shape("0.0.0.0_81", 81, RAW, ALPN_PLAIN_HTTP, false),
                shape("0.0.0.0_81", 81, TLS, t, true),
                shape("0.0.0.0_81", 81, RAW, &[], false),
                shape("0.0.0.0_81", 81, TLS, &[], false),
            ]
        );

        let out = run(&ts, &mtls(Strict, &[]), None);
        let vi = out.virtual_inbound.as_ref().unwrap();
        assert_eq!(on_port(vi, 70), [shape("0.0.0.0_70", 70, TLS, &[], true)]);
        assert_eq!(on_port(vi, 80), [shape("0.0.0.0_80", 80, TLS, &[], true)]);
        assert_eq!(
            on_port(vi, 81),
            [
                shape("0.0.0.0_81", 81, TLS, h, true),
                shape("0.0.0.0_81", 81, TLS, &[], true),
            ]
        );
        // Chain order: blackhole, passthrough (STRICT auto set), services by TP.
        let names: Vec<String> = shapes(vi).into_iter().map(|s| s.0).collect();
        assert_eq!(
            names,
            [
                "virtualInbound-blackhole",
                HTTP_CATCHALL,
                "virtualInbound",
                "0.0.0.0_70",
                "0.0.0.0_80",
                "0.0.0.0_81",
                "0.0.0.0_81",
            ]
        );
        assert_eq!(
            cluster_names(&out),
            [
                "inbound|70||",
                "inbound|80||",
                "inbound|81||",
                "InboundPassthroughCluster"
            ]
        );
    }

    #[test]
    fn passthrough_chains_per_mode() {
        let vi = |mode| run(&[], &mtls(mode, &[]), None).virtual_inbound.unwrap();
        let blackhole = shape("virtualInbound-blackhole", 15006, "", &[], false);
        assert_eq!(
            shapes(&vi(Disable)),
            [
                blackhole.clone(),
                shape(HTTP_CATCHALL, 0, RAW, ALPN_PLAIN_HTTP, false),
                shape("virtualInbound", 0, RAW, &[], false),
            ]
        );
        assert_eq!(
            shapes(&vi(Permissive)),
            [
                blackhole.clone(),
                shape(HTTP_CATCHALL, 0, TLS, ALPN_MTLS_HTTP, true),
                shape(HTTP_CATCHALL, 0, RAW, ALPN_PLAIN_HTTP, false),
                shape("virtualInbound", 0, TLS, ALPN_TCP_MX, true),
                shape("virtualInbound", 0, RAW, &[], false),
                shape("virtualInbound", 0, TLS, &[], false),
            ]
        );
        assert_eq!(
            shapes(&vi(Strict)),
            [
                blackhole,
                shape(HTTP_CATCHALL, 0, TLS, ALPN_MTLS_HTTP, true),
                shape("virtualInbound", 0, TLS, &[], true),
            ]
        );
    }

    /// peer_authentication_simulation_test: port-level modes on undeclared
    /// ports get their own passthrough chains; declared ports do not.
    #[test]
    fn port_level_passthrough_chains() {
        let out = run(&[], &mtls(Disable, &[(9000, Strict)]), None);
        let vi = out.virtual_inbound.clone().unwrap();
        assert_eq!(
            on_port(&vi, 9000),
            [
                shape(HTTP_CATCHALL, 9000, TLS, ALPN_MTLS_HTTP, true),
                shape("virtualInbound", 9000, TLS, &[], true),
            ]
        );
        assert!(on_port(&vi, 0).iter().all(|s| s.2 == RAW));

        let out = run(&[], &mtls(Strict, &[(9000, Disable)]), None);
        let vi = out.virtual_inbound.clone().unwrap();
        assert!(on_port(&vi, 9000).iter().all(|s| s.2 == RAW));
        assert!(on_port(&vi, 0).iter().all(|s| s.2 == TLS));

        // 8000 declared (HTTP): its service chain follows the port mode;
        // 9000 stays a per-port passthrough.
        let s = svc("a", &[(8000, Protocol::Http)], Registry::Kubernetes);
        let ts = targets(&s, &[(8000, 8000)]);
        let out = run(
            &ts,
            &mtls(Disable, &[(8000, Strict), (9000, Permissive)]),
            None,
        );
        let vi = out.virtual_inbound.clone().unwrap();
        assert_eq!(
            on_port(&vi, 8000),
            [shape("0.0.0.0_8000", 8000, TLS, &[], true)]
        );
        assert_eq!(on_port(&vi, 9000).len(), 5);
        assert!(on_port(&vi, 9000).iter().all(|s| s.0 != "0.0.0.0_9000"));
    }

    /// TCP service ports 8080 and 9090, PA STRICT with 9090 DISABLE; then a
    /// Sidecar whose ingress declares only 8080.
    #[test]
    fn sidecar_ingress_replaces_service_ports() {
        let s = svc(
            "a",
            &[(8080, Protocol::Tcp), (9090, Protocol::Tcp)],
            Registry::External,
        );
        let ts = targets(&s, &[(8080, 8080), (9090, 9090)]);
        let pa = mtls(Strict, &[(9090, Disable)]);
        let out = run(&ts, &pa, None);
        let vi = out.virtual_inbound.clone().unwrap();
        assert_eq!(
            on_port(&vi, 8080),
            [shape("0.0.0.0_8080", 8080, TLS, &[], true)]
        );
        assert_eq!(
            on_port(&vi, 9090),
            [shape("0.0.0.0_9090", 9090, RAW, &[], false)]
        );

        let sc = sidecar(vec![ingress(8080, "TCP", None)]);
        let out = run(&ts, &pa, Some(&sc));
        let vi = out.virtual_inbound.clone().unwrap();
        assert_eq!(
            on_port(&vi, 8080),
            [shape("1.1.1.1_8080", 8080, TLS, &[], true)]
        );
        assert_eq!(
            on_port(&vi, 9090),
            [
                shape(HTTP_CATCHALL, 9090, RAW, ALPN_PLAIN_HTTP, false),
                shape("virtualInbound", 9090, RAW, &[], false),
            ]
        );
        let chain = vi["filter_chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "1.1.1.1_8080")
            .unwrap();
        assert_eq!(
            chain["metadata"]["filter_metadata"]["istio"]["config"],
            "/apis/networking.istio.io/v1/namespaces/default/sidecar/sc"
        );
        assert_eq!(
            cluster_names(&out),
            ["inbound|8080||", "InboundPassthroughCluster"]
        );
    }

    #[test]
    fn sidecar_ingress_capture_none_binds() {
        let mut i = ingress(9080, "HTTP", Some("127.0.0.1:9080"));
        i.capture_mode = Some("NONE".into());
        let sc = sidecar(vec![i]);
        let out = run(&[], &mtls(Permissive, &[]), Some(&sc));
        assert_eq!(out.bound_listeners.len(), 1);
        let l = &out.bound_listeners[0];
        assert_eq!(l["name"], "1.1.1.1_9080");
        assert_eq!(
            l["address"],
            json!({"socket_address": {"address": "1.1.1.1", "port_value": 9080}})
        );
        assert!(listener_filter(l, "envoy.filters.listener.original_dst").is_none());
        assert!(listener_filter(l, "envoy.filters.listener.tls_inspector").is_some());
        assert_eq!(
            shapes(l),
            [
                shape("1.1.1.1_9080", 9080, TLS, ALPN_ALL_ISTIO, true),
                shape("1.1.1.1_9080", 9080, RAW, &[], false),
            ]
        );
        let vi = out.virtual_inbound.clone().unwrap();
        assert!(on_port(&vi, 9080).is_empty());
    }

    #[test]
    fn reserved_target_ports_get_no_chain() {
        let s = svc(
            "a",
            &[(15021, Protocol::Http), (80, Protocol::Http)],
            Registry::Kubernetes,
        );
        let out = run(
            &targets(&s, &[(15021, 15021), (80, 15006)]),
            &mtls(Permissive, &[]),
            None,
        );
        let vi = out.virtual_inbound.clone().unwrap();
        assert!(on_port(&vi, 15021).is_empty());
        assert_eq!(on_port(&vi, 15006).len(), 1);
        // istiod still builds their clusters.
        assert_eq!(
            cluster_names(&out),
            [
                "inbound|15006||",
                "inbound|15021||",
                "InboundPassthroughCluster"
            ]
        );
    }

    #[test]
    fn listener_filters_of_permissive_http_port() {
        let s = svc("a", &[(9080, Protocol::Http)], Registry::Kubernetes);
        let out = run(&targets(&s, &[(9080, 9080)]), &mtls(Permissive, &[]), None);
        let vi = out.virtual_inbound.clone().unwrap();
        assert_eq!(vi["name"], "virtualInbound");
        assert_eq!(
            vi["address"],
            json!({"socket_address": {"address": "0.0.0.0", "port_value": 15006}})
        );
        assert_eq!(vi["traffic_direction"], "INBOUND");
        assert_eq!(vi["continue_on_listener_filters_timeout"], true);
        assert_eq!(vi["listener_filters_timeout"], "0s");
        let names: Vec<&str> = vi["listener_filters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "envoy.filters.listener.original_dst",
                "envoy.filters.listener.tls_inspector",
                "envoy.filters.listener.http_inspector",
            ]
        );
        let tls = listener_filter(&vi, "envoy.filters.listener.tls_inspector").unwrap();
        assert_eq!(
            tls["filter_disabled"],
            json!({"destination_port_range": {"start": 15006, "end": 15007}})
        );
        let http = listener_filter(&vi, "envoy.filters.listener.http_inspector").unwrap();
        assert_eq!(
            http["filter_disabled"],
            json!({"or_match": {"rules": [
                {"destination_port_range": {"start": 9080, "end": 9081}},
                {"destination_port_range": {"start": 15006, "end": 15007}},
            ]}})
        );
    }

    #[test]
    fn tls_inspector_opts_ports_in_when_passthrough_is_plaintext() {
        let s = svc("a", &[(8000, Protocol::Tcp)], Registry::Kubernetes);
        let out = run(
            &targets(&s, &[(8000, 8000)]),
            &mtls(Disable, &[(8000, Strict)]),
            None,
        );
        let vi = out.virtual_inbound.clone().unwrap();
        let tls = listener_filter(&vi, "envoy.filters.listener.tls_inspector").unwrap();
        assert_eq!(
            tls["filter_disabled"],
            json!({"not_match": {"destination_port_range": {"start": 8000, "end": 8001}}})
        );
        let http = listener_filter(&vi, "envoy.filters.listener.http_inspector").unwrap();
        assert_eq!(
            http["filter_disabled"],
            json!({"or_match": {"rules": [
                {"destination_port_range": {"start": 8000, "end": 8001}},
                {"destination_port_range": {"start": 15006, "end": 15007}},
            ]}})
        );
    }

    #[test]
    fn network_filters_and_route() {
        let s = svc(
            "a",
            &[
                (80, Protocol::Http),
                (90, Protocol::Grpc),
                (70, Protocol::Tcp),
            ],
            Registry::Kubernetes,
        );
        let out = run(
            &targets(&s, &[(80, 8080), (90, 9090), (70, 7070)]),
            &mtls(Permissive, &[]),
            None,
        );
        let vi = out.virtual_inbound.clone().unwrap();
        let chains = vi["filter_chains"].as_array().unwrap();
        let first = |name: &str| chains.iter().find(|c| c["name"] == name).unwrap();

        let http = first("0.0.0.0_8080");
        assert_eq!(http["filters"][0]["name"], "istio.metadata_exchange");
        let hcm = &http["filters"][1]["typed_config"];
        assert_eq!(hcm["stat_prefix"], "inbound_0.0.0.0_8080;");
        assert_eq!(hcm["forward_client_cert_details"], "APPEND_FORWARD");
        assert!(hcm.get("http2_protocol_options").is_none());
        let filters: Vec<&str> = hcm["http_filters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            filters,
            [
                "istio.metadata_exchange",
                "envoy.filters.http.grpc_stats",
                "envoy.filters.http.fault",
                "envoy.filters.http.cors",
                "istio.stats",
                "envoy.filters.http.router",
            ]
        );
        let rc = &hcm["route_config"];
        assert_eq!(rc["name"], "inbound|8080||");
        let vh = &rc["virtual_hosts"][0];
        assert_eq!(vh["name"], "inbound|http|80");
        assert_eq!(vh["routes"][0]["route"]["cluster"], "inbound|8080||");
        assert_eq!(
            vh["routes"][0]["decorator"]["operation"],
            "a.default.svc.cluster.local:80/*"
        );
        assert_eq!(
            vh["routes"][0]["route"]["retry_policy"],
            json!({"retry_on": "reset-before-request", "num_retries": 2})
        );
        // The mTLS chain of an HTTP port offers h2 and http/1.1.
        assert_eq!(
            http["transport_socket"]["typed_config"]["common_tls_context"]["alpn_protocols"],
            json!(["h2", "http/1.1"])
        );

        let grpc = &first("0.0.0.0_9090")["filters"][1]["typed_config"];
        assert_eq!(grpc["http2_protocol_options"], json!({}));
        let route = &grpc["route_config"]["virtual_hosts"][0]["routes"][0]["route"];
        assert!(route.get("retry_policy").is_none());

        let tcp = first("0.0.0.0_7070");
        let names: Vec<&str> = tcp["filters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "istio.metadata_exchange",
                "istio.stats",
                "envoy.filters.network.tcp_proxy"
            ]
        );
        assert_eq!(
            tcp["filters"][2]["typed_config"]["cluster"],
            "inbound|7070||"
        );
        assert_eq!(
            tcp["transport_socket"]["typed_config"]["common_tls_context"]["alpn_protocols"],
            json!(["istio-peer-exchange", "h2", "http/1.1"])
        );

        let passthrough = first(HTTP_CATCHALL)["filters"][1]["typed_config"].clone();
        assert_eq!(passthrough["stat_prefix"], "InboundPassthroughCluster;");
        let vh = &passthrough["route_config"]["virtual_hosts"][0];
        assert_eq!(vh["name"], "inbound|http|0");
        assert_eq!(vh["routes"][0]["decorator"]["operation"], ":0/*");

        // gRPC upstreams speak h2; HTTP/1 ports get no protocol options.
        let c = cluster(&out, "inbound|9090||");
        let opts = &c["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
        assert_eq!(
            opts["explicit_http_config"],
            json!({"http2_protocol_options": {}})
        );
        assert!(
            cluster(&out, "inbound|8080||")
                .get("typed_extension_protocol_options")
                .is_none()
        );
    }

    #[test]
    fn stats_filters_with_prometheus_default_provider() {
        let mesh = MeshConfig {
            default_providers: Some(crate::model::mesh_config::DefaultProviders {
                metrics: Some(vec!["prometheus".into()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let s = svc("a", &[(70, Protocol::Tcp)], Registry::Kubernetes);
        let out = generate(
            &mesh,
            &proxy(Interception::Redirect),
            &targets(&s, &[(70, 70)]),
            &mtls(Disable, &[]),
            None,
            &plain_filters(&mesh, &proxy(Interception::Redirect)),
        );
        let vi = out.virtual_inbound.clone().unwrap();
        let chains = vi["filter_chains"].as_array().unwrap();
        let names = |c: &Value| -> Vec<String> {
            c["filters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            names(&chains[0]),
            [
                "istio.metadata_exchange",
                "istio.stats",
                "envoy.filters.network.tcp_proxy"
            ]
        );
        let tcp = chains.iter().find(|c| c["name"] == "0.0.0.0_70").unwrap();
        assert_eq!(tcp["filters"][1]["name"], "istio.stats");
        let http = chains.iter().find(|c| c["name"] == HTTP_CATCHALL).unwrap();
        let hf = &http["filters"][1]["typed_config"]["http_filters"];
        assert_eq!(hf[4]["name"], "istio.stats");
        assert_eq!(hf[5]["name"], "envoy.filters.http.router");
    }

    #[test]
    fn service_targets_from_manifests() {
        use crate::diag::Diagnostics;
        use crate::registry::config::IstioConfig;
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default, labels: {app: app}}
spec:
  containers:
  - name: app
    ports: [{name: web, containerPort: 8080}]
status: {podIP: 10.0.0.5}
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec:
  selector: {app: app}
  ports:
  - {name: http, port: 80, targetPort: web}
  - {name: http-missing, port: 82, targetPort: nope}
  - {name: tcp, port: 81, targetPort: 9090}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: default}
spec:
  selector: {app: other}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se, namespace: default}
spec:
  hosts: [foo.bar]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{name: tcp, number: 70, protocol: TCP, targetPort: 7070}]
  endpoints: [{address: 10.0.0.5}]
"#;
        let mut diags = Diagnostics::default();
        let mut loaded = crate::load::Loaded::default();
        crate::load::load_text(
            std::path::Path::new("t.yaml").into(),
            yaml.to_string(),
            &mut loaded,
            &mut diags,
        );
        let store = crate::model::build(&loaded.documents, &Default::default(), &mut diags);
        let mesh = crate::registry::build(&store, &Default::default(), &mut diags);
        let catalog = crate::registry::catalog::build(&store, &mesh, &mut diags);
        let config = IstioConfig::default();
        let ctx = Context {
            mesh: &mesh,
            catalog: &catalog,
            config: &config,
        };
        let w = mesh.workloads.iter().position(|w| w.name == "app").unwrap();
        let p = Proxy::new(&ctx, w, ProxyType::Sidecar);
        let got: Vec<(String, u16, u16)> = service_targets(&ctx, &p)
            .iter()
            .map(|t| (t.service.hostname.clone(), t.port.port, t.target_port))
            .collect();
        // No timestamps: hostname order.
        assert_eq!(
            got,
            [
                ("a.default.svc.cluster.local".to_string(), 80, 8080),
                ("a.default.svc.cluster.local".to_string(), 81, 9090),
                ("foo.bar".to_string(), 70, 7070),
            ]
        );
    }
}
