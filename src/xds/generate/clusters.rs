//! Outbound clusters and their endpoints (istiod-sidecar.md §7, §8).
//!
//! Resources are written field by field under their proto field numbers and
//! printed in that order, as Envoy's config dump does; enum values equal to
//! the proto default (type `STATIC`, lb_policy `ROUND_ROBIN`) are omitted
//! for the same reason.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::model::istio::{
    ClientTlsSettings, ConnectionPoolSettings, ConsistentHashLb, LoadBalancerSettings,
    OutlierDetection, ProxyProtocol, RetryBudget, Subset, TcpKeepalive, TrafficPolicy,
};
use crate::model::mesh_config::MeshConfig;
use crate::registry::catalog::{CatalogService, Health, IstioEndpoint, Port, Registry, Resolution};
use crate::registry::config::{MergedRule, MtlsMode};
use crate::registry::protocol::Protocol;
use crate::registry::workloads::{canonical_name, canonical_revision};

use super::filters::tcp_metadata_exchange;
use super::json::{any, duration, duration_secs, object, socket_address};
use super::scope::ScopedService;
use super::tls::{UserTls, istio_upstream_tls, raw_buffer, user_upstream_tls};
use super::{Context, Proxy};

const HTTP_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// Outbound clusters for the scope's services in istiod's CDS order (§7.1): per service and port (not UDP, not Alias): `outbound|PORT||HOST` then subset clusters in DR order; then BlackHoleCluster, PassthroughCluster. DNS/STATIC clusters with no endpoints are omitted; duplicate names are dropped over the whole CDS list by the caller.
pub fn outbound_clusters(ctx: &Context, proxy: &Proxy, services: &[ScopedService]) -> Vec<Value> {
    // Services are independent: built on every core, kept in their order.
    let per_service = crate::parallel::map(services, |scoped| {
        let mut out = Vec::new();
        let svc = scoped.service;
        // Aliases use their target's clusters; wildcard DYNAMIC_DNS services
        // need Envoy's dynamic forward proxy, which meshsim does not build.
        if matches!(svc.resolution, Resolution::Alias | Resolution::DynamicDns) {
            return out;
        }
        let rule = destination_rule(ctx, proxy, svc);
        let ns_mode = ctx.config.peer_authn.for_namespace(&svc.namespace);
        let pa = |e: &IstioEndpoint| workload_allows_mtls(ctx, e);
        for port in cluster_ports(scoped) {
            out.extend(port_clusters(ctx, proxy, svc, port, rule, ns_mode, &pa));
        }
        out
    });
    let mut out: Vec<Value> = per_service.into_iter().flatten().collect();
    out.push(blackhole_cluster(&ctx.mesh.mesh_config));
    // Gateways forward only to what they know (istiod-gateway-security.md §1.7).
    if proxy.kind == crate::registry::ProxyType::Sidecar {
        out.push(passthrough_cluster(&ctx.mesh.mesh_config));
    }
    out
}

/// The ports of a service that have clusters.
fn cluster_ports<'s>(scoped: &'s ScopedService) -> impl Iterator<Item = &'s Port> {
    scoped.ports.iter().filter(|p| p.protocol != Protocol::Udp)
}

/// `outbound|PORT|SUBSET|HOST`.
fn cluster_name(port: u16, subset: &str, host: &str) -> String {
    format!("outbound|{port}|{subset}|{host}")
}

/// What the clusters of `svc` read of its endpoints, when that is only
/// their service accounts (the SANs clients verify) and every cluster is
/// an EDS cluster: endpoints that change otherwise leave the clusters
/// alone, and only their ClusterLoadAssignments differ (as istiod then
/// pushes EDS alone). None when the clusters read more: DNS clusters hold
/// their endpoints, passthrough ones read the endpoints' TLS modes, and
/// aliases have no clusters of their own.
pub fn endpoint_reads<'c>(
    ctx: &Context<'c>,
    svc: &CatalogService,
    rule: Option<&MergedRule>,
) -> Option<Vec<&'c str>> {
    if svc.resolution != Resolution::ClientSideLb || rule.is_some_and(MergedRule::passes_through) {
        return None;
    }
    let accounts: BTreeSet<&str> = (ctx.catalog.endpoints_of(svc).iter())
        .map(|e| e.service_account.as_str())
        .filter(|a| !a.is_empty())
        .collect();
    Some(accounts.into_iter().collect())
}

/// The DestinationRule that applies to `svc` for `proxy` (istiod's lookup:
/// the proxy's namespace, the service's, the root namespace).
pub fn destination_rule<'c>(
    ctx: &Context<'c>,
    proxy: &Proxy,
    svc: &CatalogService,
) -> Option<&'c MergedRule> {
    ctx.config.destination_rules.for_proxy(
        &proxy.namespace,
        &proxy.labels,
        &svc.hostname,
        &svc.namespace,
    )
}

/// An AUTO_PASSTHROUGH gateway's SNI-DNAT clusters (istiod-gateway-security.md
/// §1.7): each mesh-internal service cluster again as `outbound_.P_.S_.H`,
/// the name Istio clients send as SNI, without TLS of its own (the client's
/// mTLS passes through).
pub fn sni_dnat_clusters(ctx: &Context, clusters: &[Value]) -> Vec<Value> {
    clusters
        .iter()
        .filter_map(|c| {
            let (port, subset, host) = parse_outbound(c["name"].as_str()?)?;
            if c["name"].as_str()?.starts_with("outbound_.") {
                return None;
            }
            let external = ctx.catalog.with_host(host).any(|(_, s)| s.mesh_external);
            if external {
                return None;
            }
            let name = format!("outbound_.{port}_.{subset}_.{host}");
            let mut out = c.clone();
            let m = out.as_object_mut()?;
            m.insert("name".into(), json!(name));
            if let Some(eds) = m.get_mut("eds_cluster_config") {
                eds["service_name"] = json!(name);
            }
            m.remove("transport_socket");
            m.remove("transport_socket_matches");
            Some(out)
        })
        .collect()
}

/// ClusterLoadAssignments for the EDS clusters among `clusters` (§8.2), by cluster name order of `clusters`.
pub fn load_assignments(ctx: &Context, proxy: &Proxy, clusters: &[Value]) -> Vec<Value> {
    // As much work as the clusters: on every core too.
    crate::parallel::map(clusters, |c| {
        if c["type"] != "EDS" {
            return None;
        }
        let name = c["name"].as_str()?;
        let (port, subset, host) = parse_outbound(name)?;
        // The cluster records which service (namespace) it was built for.
        let ns = c["metadata"]["filter_metadata"]["istio"]["services"][0]["namespace"]
            .as_str()
            .unwrap_or_default();
        let svc = ctx
            .catalog
            .with_host(host)
            .map(|(_, s)| s)
            .find(|s| s.namespace == ns)?;
        let rule = destination_rule(ctx, proxy, svc);
        let pa = |e: &IstioEndpoint| workload_allows_mtls(ctx, e);
        Some(cluster_load_assignment(
            ctx, proxy, name, svc, port, subset, rule, &pa,
        ))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The ClusterLoadAssignments of services whose clusters [`endpoint_reads`]
/// finds all EDS, without building the clusters: one for each port's
/// default cluster and each subset's.
pub fn service_load_assignments(
    ctx: &Context,
    proxy: &Proxy,
    services: &[ScopedService],
) -> Vec<Value> {
    let per_service = crate::parallel::map(services, |scoped| {
        let svc = scoped.service;
        let rule = destination_rule(ctx, proxy, svc);
        let pa = |e: &IstioEndpoint| workload_allows_mtls(ctx, e);
        // The default cluster's, then each subset's; of subsets named
        // alike, the first (as the clusters' names are kept once).
        let mut subsets = vec![""];
        for s in rule.map_or(&[][..], |r| r.subsets.as_slice()) {
            if !subsets.contains(&s.name.as_str()) {
                subsets.push(&s.name);
            }
        }
        let mut out = Vec::new();
        for port in cluster_ports(scoped) {
            for &subset in &subsets {
                let name = cluster_name(port.port, subset, &svc.hostname);
                out.push(cluster_load_assignment(
                    ctx, proxy, &name, svc, port.port, subset, rule, &pa,
                ));
            }
        }
        out
    });
    per_service.into_iter().flatten().collect()
}

/// The consistent-hash route hash_policy for a destination (used by routes): from the DR that applies (subset- and port-level aware).
pub fn hash_policy(
    rule: Option<&MergedRule>,
    subset: Option<&str>,
    port: u16,
) -> Option<Vec<Value>> {
    let policy = subset_policy(rule, subset, port)?;
    let hash = policy.load_balancer.as_ref()?.consistent_hash.as_ref()?;
    let hp = if let Some(h) = &hash.http_header_name {
        json!({"header": {"header_name": h}})
    } else if let Some(c) = &hash.http_cookie {
        let mut cookie = json!({"name": c.name});
        if let Some(ttl) = c.ttl.as_deref().and_then(duration) {
            cookie["ttl"] = ttl;
        }
        if let Some(path) = c.path.as_deref().filter(|p| !p.is_empty()) {
            cookie["path"] = json!(path);
        }
        if !c.attributes.is_empty() {
            cookie["attributes"] = c
                .attributes
                .iter()
                .map(|a| match &a.value {
                    Some(v) => json!({"name": a.name, "value": v}),
                    None => json!({"name": a.name}),
                })
                .collect();
        }
        json!({"cookie": cookie})
    } else if hash.use_source_ip == Some(true) {
        json!({"connection_properties": {"source_ip": true}})
    } else if let Some(q) = &hash.http_query_parameter_name {
        json!({"query_parameter": {"name": q}})
    } else {
        return None;
    };
    Some(vec![hp])
}

// ---------------------------------------------------------------------------
// Traffic policy resolution (§7.2)

/// The parts of a TrafficPolicy that shape one cluster.
#[derive(Debug, Clone, Default)]
struct Policy {
    connection_pool: Option<ConnectionPoolSettings>,
    outlier_detection: Option<OutlierDetection>,
    load_balancer: Option<LoadBalancerSettings>,
    tls: Option<ClientTlsSettings>,
    proxy_protocol: Option<ProxyProtocol>,
    retry_budget: Option<RetryBudget>,
}

/// The policy for `port`: a matching port-level entry replaces the whole
/// policy (its four blocks only); the bool says one matched.
fn port_policy(tp: Option<&TrafficPolicy>, port: u16) -> (Option<Policy>, bool) {
    let Some(tp) = tp else {
        return (None, false);
    };
    if let Some(p) = tp
        .port_level_settings
        .iter()
        .find(|p| p.port.as_ref().and_then(|s| s.number) == Some(u32::from(port)))
    {
        let policy = Policy {
            connection_pool: p.connection_pool.clone(),
            outlier_detection: p.outlier_detection.clone(),
            load_balancer: p.load_balancer.clone(),
            tls: p.tls.clone(),
            ..Policy::default()
        };
        return (Some(policy), true);
    }
    let policy = Policy {
        connection_pool: tp.connection_pool.clone(),
        outlier_detection: tp.outlier_detection.clone(),
        load_balancer: tp.load_balancer.clone(),
        tls: tp.tls.clone(),
        proxy_protocol: tp.proxy_protocol.clone(),
        retry_budget: tp.retry_budget.clone(),
    };
    (Some(policy), false)
}

/// A subset's policy over the rule's: field by field, or all four blocks
/// when the subset has a port-level entry for this port.
fn merge_subset(base: Option<Policy>, subset: Option<&TrafficPolicy>, port: u16) -> Option<Policy> {
    let (Some(sub), port_level) = port_policy(subset, port) else {
        return base;
    };
    let Some(mut m) = base else {
        return Some(sub);
    };
    if port_level || sub.connection_pool.is_some() {
        m.connection_pool = sub.connection_pool;
    }
    if port_level || sub.outlier_detection.is_some() {
        m.outlier_detection = sub.outlier_detection;
    }
    if port_level || sub.load_balancer.is_some() {
        m.load_balancer = sub.load_balancer;
    }
    if port_level || sub.tls.is_some() {
        m.tls = sub.tls;
    }
    if sub.proxy_protocol.is_some() {
        m.proxy_protocol = sub.proxy_protocol;
    }
    if sub.retry_budget.is_some() {
        m.retry_budget = sub.retry_budget;
    }
    Some(m)
}

/// Mesh `defaultTrafficPolicy` fills the blocks the rule leaves unset.
fn with_mesh_defaults(mesh: &MeshConfig, policy: Option<Policy>) -> Option<Policy> {
    let Some(d) = &mesh.default_traffic_policy else {
        return policy;
    };
    let need_cp =
        d.connection_pool.is_some() && policy.as_ref().is_none_or(|p| p.connection_pool.is_none());
    let need_od = d.outlier_detection.is_some()
        && policy
            .as_ref()
            .is_none_or(|p| p.outlier_detection.is_none());
    if !need_cp && !need_od {
        return policy;
    }
    let mut p = policy.unwrap_or_default();
    if need_cp {
        p.connection_pool = d.connection_pool.clone();
    }
    if need_od {
        p.outlier_detection = d.outlier_detection.clone();
    }
    Some(p)
}

/// The rule's policy for a subset (None: the default cluster) and port.
fn subset_policy(rule: Option<&MergedRule>, subset: Option<&str>, port: u16) -> Option<Policy> {
    let rule = rule?;
    let base = port_policy(rule.traffic_policy.as_ref(), port).0;
    match subset {
        None => base,
        Some(name) => {
            let s = rule.subsets.iter().find(|s| s.name == name);
            merge_subset(base, s.and_then(|s| s.traffic_policy.as_ref()), port)
        }
    }
}

// ---------------------------------------------------------------------------
// Cluster building (§7.1, §7.3, §7.4, §7.5)

/// An Envoy message under construction: fields keyed by proto field number,
/// so they print in the order Envoy prints them.
#[derive(Default)]
struct Msg(BTreeMap<u32, (&'static str, Value)>);

impl Msg {
    fn set(&mut self, number: u32, name: &'static str, value: Value) {
        self.0.insert(number, (name, value));
    }

    fn has(&self, number: u32) -> bool {
        self.0.contains_key(&number)
    }

    fn remove(&mut self, number: u32) {
        self.0.remove(&number);
    }

    fn into_value(self) -> Value {
        Value::Object(
            self.0
                .into_values()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}

// Cluster field numbers.
const TYPE: u32 = 2;
const EDS_CLUSTER_CONFIG: u32 = 3;
const CONNECT_TIMEOUT: u32 = 4;
const LB_POLICY: u32 = 6;
const CIRCUIT_BREAKERS: u32 = 10;
const OUTLIER_DETECTION: u32 = 19;
const RING_HASH_LB_CONFIG: u32 = 23;
const TRANSPORT_SOCKET: u32 = 24;
const METADATA: u32 = 25;
const COMMON_LB_CONFIG: u32 = 27;
const UPSTREAM_CONNECTION_OPTIONS: u32 = 30;
const LOAD_ASSIGNMENT: u32 = 33;
const ORIGINAL_DST_LB_CONFIG: u32 = 34;
const TYPED_EXTENSION_PROTOCOL_OPTIONS: u32 = 36;
const LEAST_REQUEST_LB_CONFIG: u32 = 37;
const FILTERS: u32 = 40;
const TRANSPORT_SOCKET_MATCHES: u32 = 43;
const MAGLEV_LB_CONFIG: u32 = 52;
const ROUND_ROBIN_LB_CONFIG: u32 = 56;
/// The `lb_config` oneof.
const LB_CONFIGS: [u32; 5] = [
    RING_HASH_LB_CONFIG,
    MAGLEV_LB_CONFIG,
    ORIGINAL_DST_LB_CONFIG,
    LEAST_REQUEST_LB_CONFIG,
    ROUND_ROBIN_LB_CONFIG,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Eds,
    StrictDns,
    LogicalDns,
    OriginalDst,
}

impl Kind {
    fn of(svc: &CatalogService) -> Kind {
        match svc.resolution {
            Resolution::DnsLb if race_first_connect(svc) => Kind::LogicalDns,
            Resolution::DnsLb => Kind::StrictDns,
            Resolution::DnsRoundRobin => Kind::LogicalDns,
            Resolution::Passthrough => Kind::OriginalDst,
            _ => Kind::Eds,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Eds => "EDS",
            Kind::StrictDns => "STRICT_DNS",
            Kind::LogicalDns => "LOGICAL_DNS",
            Kind::OriginalDst => "ORIGINAL_DST",
        }
    }

    fn is_dns(self) -> bool {
        matches!(self, Kind::StrictDns | Kind::LogicalDns)
    }
}

fn race_first_connect(svc: &CatalogService) -> bool {
    svc.annotations
        .get("istio.io/connect-strategy")
        .is_some_and(|v| v == "RACE_FIRST_TCP_CONNECT")
}

/// How upstream HTTP is spoken (`HttpProtocolOptions.upstream_protocol_options`).
enum Upstream {
    Http1,
    Http2(Msg2),
    Downstream,
}

/// `Http2ProtocolOptions` fields istiod sets.
#[derive(Default)]
struct Msg2 {
    max_concurrent_streams: Option<u32>,
    connection_keepalive: Option<Value>,
}

/// The `envoy.extensions.upstreams.http.v3.HttpProtocolOptions` of a cluster,
/// written only when something set it.
#[derive(Default)]
struct HttpOptions {
    idle_timeout: Option<Value>,
    max_connection_duration: Option<Value>,
    max_requests_per_connection: Option<u32>,
    auto_sni: bool,
    auto_san_validation: bool,
    upstream: Option<Upstream>,
}

impl HttpOptions {
    fn into_value(self) -> Value {
        let mut m = Map::new();
        let mut common = Map::new();
        if let Some(v) = self.idle_timeout {
            common.insert("idle_timeout".into(), v);
        }
        if let Some(v) = self.max_connection_duration {
            common.insert("max_connection_duration".into(), v);
        }
        if let Some(v) = self.max_requests_per_connection {
            common.insert("max_requests_per_connection".into(), json!(v));
        }
        if !common.is_empty() {
            m.insert("common_http_protocol_options".into(), Value::Object(common));
        }
        if self.auto_sni || self.auto_san_validation {
            let mut u = Map::new();
            if self.auto_sni {
                u.insert("auto_sni".into(), json!(true));
            }
            if self.auto_san_validation {
                u.insert("auto_san_validation".into(), json!(true));
            }
            m.insert("upstream_http_protocol_options".into(), Value::Object(u));
        }
        // Envoy requires a protocol; istiod falls back to explicit HTTP/1.
        match self.upstream.unwrap_or(Upstream::Http1) {
            Upstream::Http1 => {
                m.insert(
                    "explicit_http_config".into(),
                    json!({"http_protocol_options": {}}),
                );
            }
            Upstream::Http2(h2) => {
                let mut o = Map::new();
                if let Some(n) = h2.max_concurrent_streams {
                    o.insert("max_concurrent_streams".into(), json!(n));
                }
                if let Some(k) = h2.connection_keepalive {
                    o.insert("connection_keepalive".into(), k);
                }
                m.insert(
                    "explicit_http_config".into(),
                    json!({"http2_protocol_options": o}),
                );
            }
            Upstream::Downstream => {
                m.insert(
                    "use_downstream_protocol_config".into(),
                    json!({"http_protocol_options": {}, "http2_protocol_options": {}}),
                );
            }
        }
        object([(HTTP_OPTIONS, any(HTTP_OPTIONS, Value::Object(m)))])
    }
}

/// One cluster being built.
struct Builder {
    c: Msg,
    kind: Kind,
    http: Option<HttpOptions>,
    common_lb: Map<String, Value>,
}

impl Builder {
    fn new(name: &str, kind: Kind) -> Builder {
        let mut c = Msg::default();
        c.set(1, "name", json!(name));
        c.set(TYPE, "type", json!(kind.as_str()));
        c.set(28, "alt_stat_name", json!(format!("{name};")));
        Builder {
            c,
            kind,
            http: None,
            common_lb: Map::new(),
        }
    }

    fn http(&mut self) -> &mut HttpOptions {
        self.http.get_or_insert_with(HttpOptions::default)
    }

    fn is_h2(&self) -> bool {
        matches!(
            self.http.as_ref().and_then(|h| h.upstream.as_ref()),
            Some(Upstream::Http2(_))
        )
    }

    fn set_lb_config(&mut self, number: u32, name: &'static str, value: Value) {
        for n in LB_CONFIGS {
            self.c.remove(n);
        }
        self.c.set(number, name, value);
    }

    fn build(mut self) -> Value {
        self.c.set(
            COMMON_LB_CONFIG,
            "common_lb_config",
            Value::Object(self.common_lb),
        );
        if let Some(h) = self.http {
            self.c.set(
                TYPED_EXTENSION_PROTOCOL_OPTIONS,
                "typed_extension_protocol_options",
                h.into_value(),
            );
        }
        self.c.into_value()
    }
}

/// What every cluster of one service port shares.
struct PortInputs<'a> {
    ctx: &'a Context<'a>,
    proxy: &'a Proxy,
    svc: &'a CatalogService,
    port: &'a Port,
    rule: Option<&'a MergedRule>,
    ns_mode: MtlsMode,
    sans: Vec<String>,
    pa_allows_mtls: &'a dyn Fn(&IstioEndpoint) -> bool,
}

/// The default cluster of one service port and its subset clusters.
fn port_clusters(
    ctx: &Context,
    proxy: &Proxy,
    svc: &CatalogService,
    port: &Port,
    rule: Option<&MergedRule>,
    ns_mode: MtlsMode,
    pa_allows_mtls: &dyn Fn(&IstioEndpoint) -> bool,
) -> Vec<Value> {
    let mesh = &ctx.mesh.mesh_config;
    let inputs = PortInputs {
        ctx,
        proxy,
        svc,
        port,
        rule,
        ns_mode,
        sans: service_sans(mesh, svc, ctx.catalog.endpoints_of(svc)),
        pa_allows_mtls,
    };
    let rule_tp = rule.and_then(|r| r.traffic_policy.as_ref());
    let base = with_mesh_defaults(mesh, port_policy(rule_tp, port.port).0);
    let mut out = Vec::new();
    let Some((default, kind)) = build_cluster(&inputs, None, Kind::of(svc), base.clone(), rule_tp)
    else {
        return out;
    };
    out.push(default);
    for subset in rule.map_or(&[][..], |r| r.subsets.as_slice()) {
        let policy = merge_subset(base.clone(), subset.traffic_policy.as_ref(), port.port);
        let kind = if is_passthrough_lb(subset.traffic_policy.as_ref()) {
            Kind::OriginalDst
        } else {
            kind
        };
        if let Some((c, _)) = build_cluster(
            &inputs,
            Some(subset),
            kind,
            policy,
            subset.traffic_policy.as_ref(),
        ) {
            out.push(c);
        }
    }
    out
}

fn is_passthrough_lb(tp: Option<&TrafficPolicy>) -> bool {
    tp.and_then(|t| t.load_balancer.as_ref())
        .is_some_and(LoadBalancerSettings::passes_through)
}

/// One outbound cluster, or None for a DNS cluster without endpoints.
/// `mode_tp` is the top-level policy istiod infers the mTLS mode from (the
/// rule's for the default cluster, the subset's for a subset). Returns the
/// final type, which a `PASSTHROUGH` load balancer changes.
fn build_cluster(
    inputs: &PortInputs,
    subset: Option<&Subset>,
    kind: Kind,
    policy: Option<Policy>,
    mode_tp: Option<&TrafficPolicy>,
) -> Option<(Value, Kind)> {
    let PortInputs { ctx, svc, port, .. } = *inputs;
    let mesh = &ctx.mesh.mesh_config;
    let subset_name = subset.map_or("", |s| s.name.as_str());
    let name = cluster_name(port.port, subset_name, &svc.hostname);
    let mut b = Builder::new(&name, kind);

    if kind.is_dns() {
        let endpoints = locality_endpoints(inputs, subset_name, false);
        if endpoints.is_empty() {
            return None;
        }
        let v6_only = inputs.proxy.ips.iter().all(|ip| ip.is_ipv6());
        let family = if race_first_connect(svc) {
            "ALL"
        } else if v6_only {
            "V6_ONLY"
        } else {
            "V4_ONLY"
        };
        b.c.set(
            16,
            "dns_refresh_rate",
            duration(mesh.dns_refresh_rate()).unwrap_or_else(|| json!("60s")),
        );
        b.c.set(17, "dns_lookup_family", json!(family));
        b.c.set(
            LOAD_ASSIGNMENT,
            "load_assignment",
            object([
                ("cluster_name", json!(name)),
                ("endpoints", Value::Array(endpoints)),
            ]),
        );
        b.c.set(39, "respect_dns_ttl", json!(true));
        b.c.set(
            55,
            "typed_dns_resolver_config",
            json!({
                "name": "envoy.network.dns_resolver.cares",
                "typed_config": any(
                    "envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
                    json!({"udp_max_queries": 100}),
                ),
            }),
        );
        b.c.set(58, "dns_jitter", duration_secs(0.1));
    }
    if kind == Kind::OriginalDst
        && svc.registry == Registry::External
        && let Some(tp) = port.target_port
    {
        b.c.set(
            ORIGINAL_DST_LB_CONFIG,
            "original_dst_lb_config",
            json!({"upstream_port_override": tp}),
        );
    }
    // Upstream protocol from the port: h2 for HTTP2/gRPC, the client's for
    // sniffed ports.
    if port.protocol.is_http2() {
        b.http().upstream = Some(Upstream::Http2(Msg2::default()));
    } else if port.protocol.is_unsupported() {
        b.http().upstream = Some(Upstream::Downstream);
    }

    let policy = policy.unwrap_or_default();
    apply_connection_pool(
        &mut b,
        mesh,
        port.protocol,
        policy.connection_pool.as_ref(),
        policy.retry_budget.as_ref(),
    );
    apply_outlier_detection(&mut b, svc, policy.outlier_detection.as_ref());
    apply_load_balancer(&mut b, mesh, policy.load_balancer.as_ref());
    apply_tls(inputs, &mut b, subset_name, policy.tls.as_ref(), mode_tp);
    if let Some(pp) = &policy.proxy_protocol {
        apply_proxy_protocol(&mut b, pp);
    }
    if b.kind == Kind::OriginalDst {
        b.c.set(LB_POLICY, "lb_policy", json!("CLUSTER_PROVIDED"));
    }
    if b.kind == Kind::Eds {
        b.c.set(
            EDS_CLUSTER_CONFIG,
            "eds_cluster_config",
            json!({
                "eds_config": {"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"},
                "service_name": name,
            }),
        );
    }
    b.c.set(
        FILTERS,
        "filters",
        Value::Array(vec![tcp_metadata_exchange()]),
    );
    b.c.set(
        METADATA,
        "metadata",
        cluster_metadata(svc, inputs.rule, subset, policy.tls.as_ref()),
    );
    let kind = b.kind;
    Some((b.build(), kind))
}

/// `filter_metadata.istio`: the service; `external` (default cluster of a
/// MESH_EXTERNAL service); the rule (`config`), `subset`, `alpn_override`.
fn cluster_metadata(
    svc: &CatalogService,
    rule: Option<&MergedRule>,
    subset: Option<&Subset>,
    tls: Option<&ClientTlsSettings>,
) -> Value {
    let mut istio = Map::new();
    istio.insert(
        "services".into(),
        json!([{"name": svc.name, "namespace": svc.namespace, "host": svc.hostname}]),
    );
    if subset.is_none() && svc.mesh_external {
        istio.insert("external".into(), json!(true));
    }
    if let Some(meta) = rule.and_then(|r| r.metas.first()) {
        istio.insert(
            "config".into(),
            json!(format!(
                "/apis/networking.istio.io/v1/namespaces/{}/destination-rule/{}",
                meta.namespace, meta.name
            )),
        );
        if let Some(s) = subset {
            istio.insert("subset".into(), json!(s.name));
        }
        if matches!(tls_mode(tls), Some("SIMPLE" | "MUTUAL")) {
            istio.insert("alpn_override".into(), json!("false"));
        }
    }
    object([("filter_metadata", object([("istio", Value::Object(istio))]))])
}

/// A TLS block's mode; `tls: {}` is `DISABLE`, the proto default.
fn tls_mode(tls: Option<&ClientTlsSettings>) -> Option<&str> {
    tls.map(|t| t.mode.as_deref().unwrap_or("DISABLE"))
}

/// A number as Envoy prints a double: integral values without a fraction.
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Circuit breakers, connect timeout, keepalive and HTTP pool options; the
/// defaults apply even without a connection pool.
fn apply_connection_pool(
    b: &mut Builder,
    mesh: &MeshConfig,
    protocol: Protocol,
    cp: Option<&ConnectionPoolSettings>,
    retry_budget: Option<&RetryBudget>,
) {
    let http = cp.and_then(|c| c.http.as_ref());
    let tcp = cp.and_then(|c| c.tcp.as_ref());
    if should_h2_upgrade(mesh, protocol, cp) && b.http.as_ref().is_none_or(|h| h.upstream.is_none())
    {
        b.http().upstream = Some(Upstream::Http2(Msg2::default()));
    }
    let positive = |v: Option<i32>| v.filter(|n| *n > 0).map(|n| n as u32);
    let mut t = Msg::default();
    let max = u32::MAX;
    t.set(
        2,
        "max_connections",
        json!(positive(tcp.and_then(|t| t.max_connections)).unwrap_or(max)),
    );
    t.set(
        3,
        "max_pending_requests",
        json!(positive(http.and_then(|h| h.http1_max_pending_requests)).unwrap_or(max)),
    );
    t.set(
        4,
        "max_requests",
        json!(positive(http.and_then(|h| h.http2_max_requests)).unwrap_or(max)),
    );
    t.set(
        5,
        "max_retries",
        json!(positive(http.and_then(|h| h.max_retries)).unwrap_or(max)),
    );
    if let Some(rb) = retry_budget {
        let mut r = Msg::default();
        r.set(
            1,
            "budget_percent",
            json!({"value": num(rb.percent.unwrap_or(20.0))}),
        );
        r.set(
            2,
            "min_retry_concurrency",
            json!(rb.min_retry_concurrency.filter(|n| *n > 0).unwrap_or(3)),
        );
        if let Some(d) = rb.budget_interval.as_deref().and_then(duration) {
            r.set(3, "budget_interval", d);
        }
        t.set(8, "retry_budget", r.into_value());
    }
    b.c.set(
        CIRCUIT_BREAKERS,
        "circuit_breakers",
        json!({"thresholds": [t.into_value()]}),
    );
    let connect = tcp
        .and_then(|t| t.connect_timeout.as_deref())
        .unwrap_or(mesh.connect_timeout());
    b.c.set(
        CONNECT_TIMEOUT,
        "connect_timeout",
        duration(connect).unwrap_or_else(|| json!("10s")),
    );
    if let Some(ka) = keepalive(
        mesh.tcp_keepalive.as_ref(),
        tcp.and_then(|t| t.tcp_keepalive.as_ref()),
    ) {
        b.c.set(
            UPSTREAM_CONNECTION_OPTIONS,
            "upstream_connection_options",
            json!({"tcp_keepalive": ka}),
        );
    }

    let idle = http
        .and_then(|h| h.idle_timeout.as_deref())
        .or_else(|| tcp.and_then(|t| t.idle_timeout.as_deref()))
        .and_then(duration);
    let max_duration = tcp
        .and_then(|t| t.max_connection_duration.as_deref())
        .and_then(duration);
    let per_conn = positive(http.and_then(|h| h.max_requests_per_connection));
    let streams = positive(http.and_then(|h| h.max_concurrent_streams));
    let h2_keepalive = http.and_then(|h| h.http2_keep_alive.as_ref()).map(|k| {
        let mut m = Map::new();
        if let Some(v) = k.interval.as_deref().and_then(duration) {
            m.insert("interval".into(), v);
        }
        if let Some(v) = k.timeout.as_deref().and_then(duration) {
            m.insert("timeout".into(), v);
        }
        Value::Object(m)
    });
    if idle.is_some()
        || max_duration.is_some()
        || per_conn.is_some()
        || streams.is_some()
        || h2_keepalive.is_some()
    {
        let h = b.http();
        h.idle_timeout = idle;
        h.max_connection_duration = max_duration;
        h.max_requests_per_connection = per_conn;
        if let Some(Upstream::Http2(o)) = &mut h.upstream {
            o.max_concurrent_streams = streams;
            o.connection_keepalive = h2_keepalive;
        }
    }
    if http.and_then(|h| h.use_client_protocol) == Some(true) {
        b.http().upstream = Some(Upstream::Downstream);
    }
}

/// `h2UpgradePolicy` of the pool, else the mesh's for declared-HTTP ports.
fn should_h2_upgrade(
    mesh: &MeshConfig,
    protocol: Protocol,
    cp: Option<&ConnectionPoolSettings>,
) -> bool {
    if let Some(h) = cp.and_then(|c| c.http.as_ref()) {
        if h.use_client_protocol == Some(true) {
            return false;
        }
        match h.h2_upgrade_policy.as_deref() {
            Some("UPGRADE") => return true,
            Some("DO_NOT_UPGRADE") => return false,
            _ => {}
        }
    }
    protocol.is_http() && mesh.h2_upgrade_policy.as_deref() == Some("UPGRADE")
}

/// Mesh keepalive, then the rule's per attribute; `{}` turns SO_KEEPALIVE on
/// with OS defaults.
fn keepalive(mesh: Option<&TcpKeepalive>, rule: Option<&TcpKeepalive>) -> Option<Value> {
    if mesh.is_none() && rule.is_none() {
        return None;
    }
    let (mut probes, mut time, mut interval) = (None, None, None);
    for k in [mesh, rule].into_iter().flatten() {
        if let Some(p) = k.probes.filter(|p| *p > 0) {
            probes = Some(p);
        }
        if let Some(t) = k.time.as_deref().and_then(super::json::parse_duration) {
            time = Some(t as u32);
        }
        if let Some(i) = k.interval.as_deref().and_then(super::json::parse_duration) {
            interval = Some(i as u32);
        }
    }
    let mut m = Map::new();
    if let Some(p) = probes {
        m.insert("keepalive_probes".into(), json!(p));
    }
    if let Some(t) = time {
        m.insert("keepalive_time".into(), json!(t));
    }
    if let Some(i) = interval {
        m.insert("keepalive_interval".into(), json!(i));
    }
    Some(Value::Object(m))
}

/// The service must be sent unhealthy endpoints regardless of any rule:
/// it asks for traffic distribution by locality (annotation form only).
fn forces_unhealthy(svc: &CatalogService) -> bool {
    svc.annotations
        .get("networking.istio.io/traffic-distribution")
        .is_some_and(|v| !v.is_empty() && v != "Any")
}

fn apply_outlier_detection(b: &mut Builder, svc: &CatalogService, od: Option<&OutlierDetection>) {
    let Some(od) = od else {
        return;
    };
    let mut o = Msg::default();
    let enforcing = |v: u32| json!(if v > 0 { 100 } else { 0 });
    if let Some(v) = od.consecutive_5xx_errors {
        o.set(1, "consecutive_5xx", json!(v));
        o.set(5, "enforcing_consecutive_5xx", enforcing(v));
    }
    if let Some(v) = od.interval.as_deref().and_then(duration) {
        o.set(2, "interval", v);
    }
    if let Some(v) = od.base_ejection_time.as_deref().and_then(duration) {
        o.set(3, "base_ejection_time", v);
    }
    if let Some(v) = od.max_ejection_percent.filter(|v| *v > 0) {
        o.set(4, "max_ejection_percent", json!(v));
    }
    o.set(6, "enforcing_success_rate", json!(0));
    if let Some(v) = od.consecutive_gateway_errors {
        o.set(11, "consecutive_gateway_failure", json!(v));
        o.set(12, "enforcing_consecutive_gateway_failure", enforcing(v));
    }
    if od.split_external_local_origin_errors == Some(true) {
        o.set(13, "split_external_local_origin_errors", json!(true));
        if let Some(v) = od.consecutive_local_origin_failures.filter(|v| *v > 0) {
            o.set(14, "consecutive_local_origin_failure", json!(v));
            o.set(15, "enforcing_consecutive_local_origin_failure", json!(100));
        }
        o.set(16, "enforcing_local_origin_success_rate", json!(0));
    }
    b.c.set(OUTLIER_DETECTION, "outlier_detection", o.into_value());
    let min = od.min_health_percent.unwrap_or(0);
    if min >= 0 {
        let min = if forces_unhealthy(svc) { 0 } else { min };
        b.common_lb
            .insert("healthy_panic_threshold".into(), percent(f64::from(min)));
    }
}

/// An `envoy.type.v3.Percent`: `{}` for 0, the proto default.
fn percent(v: f64) -> Value {
    if v == 0.0 {
        json!({})
    } else {
        json!({"value": num(v)})
    }
}

fn apply_load_balancer(b: &mut Builder, mesh: &MeshConfig, lb: Option<&LoadBalancerSettings>) {
    // Unhealthy endpoints are sent (1.31 default), so panic mode must not
    // route to them.
    b.common_lb
        .entry("healthy_panic_threshold")
        .or_insert_with(|| json!({}));
    // A rule's localityLbSetting replaces the mesh's.
    let locality = lb
        .and_then(|l| l.locality_lb_setting.as_ref())
        .or(mesh.locality_lb_setting.as_ref())
        .filter(|l| l.enabled != Some(false));
    if let Some(l) = locality {
        let failover = b.c.has(OUTLIER_DETECTION)
            && (!l.failover.is_empty() || !l.failover_priority.is_empty());
        if failover || !l.distribute.is_empty() {
            b.common_lb
                .insert("locality_weighted_lb_config".into(), json!({}));
        }
    }
    if b.kind == Kind::OriginalDst {
        return;
    }
    let simple = lb.and_then(|l| l.simple.as_deref());
    match simple {
        Some("RANDOM") => b.c.set(LB_POLICY, "lb_policy", json!("RANDOM")),
        Some("ROUND_ROBIN") => {
            // ROUND_ROBIN is the proto default: Envoy prints no lb_policy.
            if let Some(ss) = slow_start(lb) {
                b.set_lb_config(
                    ROUND_ROBIN_LB_CONFIG,
                    "round_robin_lb_config",
                    json!({"slow_start_config": ss}),
                );
            }
        }
        Some("PASSTHROUGH") => {
            b.kind = Kind::OriginalDst;
            b.c.set(TYPE, "type", json!("ORIGINAL_DST"));
            b.c.set(LB_POLICY, "lb_policy", json!("CLUSTER_PROVIDED"));
            b.c.remove(LOAD_ASSIGNMENT);
        }
        _ => {
            b.c.set(LB_POLICY, "lb_policy", json!("LEAST_REQUEST"));
            if let Some(ss) = slow_start(lb) {
                b.set_lb_config(
                    LEAST_REQUEST_LB_CONFIG,
                    "least_request_lb_config",
                    json!({"slow_start_config": ss}),
                );
            }
        }
    }
    if let Some(ch) = lb.and_then(|l| l.consistent_hash.as_ref()) {
        apply_consistent_hash(b, ch);
    }
}

/// `warmup` (or the deprecated `warmupDurationSecs`) as a slow start.
fn slow_start(lb: Option<&LoadBalancerSettings>) -> Option<Value> {
    let lb = lb?;
    if let Some(w) = &lb.warmup {
        let mut m = Map::new();
        if let Some(d) = w.duration.as_deref().and_then(duration) {
            m.insert("slow_start_window".into(), d);
        }
        // A fixed runtime key: the value cannot be changed at runtime.
        m.insert(
            "aggression".into(),
            json!({"default_value": num(w.aggression.unwrap_or(1.0)), "runtime_key": "("}),
        );
        m.insert(
            "min_weight_percent".into(),
            percent(w.minimum_percent.unwrap_or(10.0)),
        );
        return Some(Value::Object(m));
    }
    let d = lb.warmup_duration_secs.as_deref().and_then(duration)?;
    Some(json!({"slow_start_window": d}))
}

fn apply_consistent_hash(b: &mut Builder, ch: &ConsistentHashLb) {
    if let Some(m) = &ch.maglev {
        b.c.set(LB_POLICY, "lb_policy", json!("MAGLEV"));
        if let Some(size) = m.table_size.filter(|s| *s > 0) {
            b.set_lb_config(
                MAGLEV_LB_CONFIG,
                "maglev_lb_config",
                json!({"table_size": size.to_string()}),
            );
        }
    } else if let Some(r) = &ch.ring_hash {
        b.c.set(LB_POLICY, "lb_policy", json!("RING_HASH"));
        if let Some(size) = r.minimum_ring_size.filter(|s| *s > 0) {
            b.set_lb_config(
                RING_HASH_LB_CONFIG,
                "ring_hash_lb_config",
                json!({"minimum_ring_size": size.to_string()}),
            );
        }
    } else {
        // Envoy's default ring size, written explicitly by istiod.
        let size = ch.minimum_ring_size.filter(|s| *s > 0).unwrap_or(1024);
        b.c.set(LB_POLICY, "lb_policy", json!("RING_HASH"));
        b.set_lb_config(
            RING_HASH_LB_CONFIG,
            "ring_hash_lb_config",
            json!({"minimum_ring_size": size.to_string()}),
        );
    }
}

/// The mTLS mode a client infers for the service port (§7.4 2.): None when
/// unknown (external services).
fn inferred_mode(inputs: &PortInputs, mode_tp: Option<&TrafficPolicy>) -> Option<MtlsMode> {
    let svc = inputs.svc;
    if svc.mesh_external {
        return None;
    }
    if svc.resolution == Resolution::Passthrough || is_passthrough_lb(mode_tp) {
        let mut eps = port_endpoints(inputs.ctx.catalog.endpoints_of(svc), inputs.port).peekable();
        if eps.peek().is_none() || eps.any(|e| e.tls_mode == "disabled") {
            return Some(MtlsMode::Disable);
        }
    }
    Some(inputs.ns_mode)
}

fn apply_tls(
    inputs: &PortInputs,
    b: &mut Builder,
    subset: &str,
    tls: Option<&ClientTlsSettings>,
    mode_tp: Option<&TrafficPolicy>,
) {
    let svc = inputs.svc;
    let mesh = &inputs.ctx.mesh.mesh_config;
    let sni = format!("outbound_.{}_.{subset}_.{}", inputs.port.port, svc.hostname);
    let h2 = b.is_h2();
    match (tls, tls_mode(tls)) {
        (Some(t), Some(mode @ ("SIMPLE" | "MUTUAL"))) => {
            let fallback: &[String] = if svc.registry == Registry::External {
                &inputs.sans
            } else {
                &[]
            };
            let has_selector = inputs.rule.is_some_and(|r| r.selector.is_some());
            if let Some(UserTls {
                socket,
                auto_sni,
                auto_san_validation,
            }) = user_upstream_tls(
                t,
                mode == "MUTUAL",
                fallback,
                h2,
                has_selector,
                mesh.tls_defaults.as_ref(),
            ) {
                b.c.set(TRANSPORT_SOCKET, "transport_socket", socket);
                let h = b.http();
                h.auto_sni = auto_sni;
                h.auto_san_validation = auto_san_validation;
            }
        }
        (Some(t), Some("ISTIO_MUTUAL")) => {
            let sni = t.sni.clone().filter(|s| !s.is_empty()).unwrap_or(sni);
            let sans = if t.subject_alt_names.is_empty() {
                &inputs.sans
            } else {
                &t.subject_alt_names
            };
            b.c.set(
                TRANSPORT_SOCKET,
                "transport_socket",
                istio_upstream_tls(&sni, sans, h2),
            );
        }
        (Some(_), _) => {}
        (None, _) => {
            let mode = inferred_mode(inputs, mode_tp);
            if svc.mesh_external
                || !mesh.enable_auto_mtls()
                || matches!(mode, None | Some(MtlsMode::Disable))
            {
                return;
            }
            let socket = istio_upstream_tls(&sni, &inputs.sans, h2);
            if b.kind == Kind::OriginalDst {
                b.c.set(TRANSPORT_SOCKET, "transport_socket", socket);
            } else {
                b.c.set(
                    TRANSPORT_SOCKET_MATCHES,
                    "transport_socket_matches",
                    Value::Array(vec![
                        object([
                            ("name", json!("tlsMode-istio")),
                            ("match", json!({"tlsMode": "istio"})),
                            ("transport_socket", socket),
                        ]),
                        object([
                            ("name", json!("tlsMode-disabled")),
                            ("match", json!({})),
                            ("transport_socket", raw_buffer()),
                        ]),
                    ]),
                );
            }
        }
    }
}

/// Wraps the transport socket(s) in PROXY protocol (raw buffer if none).
fn apply_proxy_protocol(b: &mut Builder, pp: &ProxyProtocol) {
    // V1 is the proto default and is not printed.
    let config = match pp.version.as_deref() {
        Some("V2") => json!({"version": "V2"}),
        _ => json!({}),
    };
    let wrap = |inner: Value| {
        json!({
            "name": "envoy.transport_sockets.upstream_proxy_protocol",
            "typed_config": any(
                "envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport",
                json!({"config": config, "transport_socket": inner}),
            ),
        })
    };
    if let Some((_, matches)) = b.c.0.get_mut(&TRANSPORT_SOCKET_MATCHES) {
        for m in matches.as_array_mut().into_iter().flatten() {
            let inner = m["transport_socket"].take();
            m["transport_socket"] = wrap(inner);
        }
        return;
    }
    let inner = match b.c.0.remove(&TRANSPORT_SOCKET) {
        Some((_, ts)) => ts,
        None => raw_buffer(),
    };
    b.c.set(TRANSPORT_SOCKET, "transport_socket", wrap(inner));
}

/// `BlackHoleCluster`: STATIC and ROUND_ROBIN, both proto defaults.
fn blackhole_cluster(mesh: &MeshConfig) -> Value {
    json!({
        "name": "BlackHoleCluster",
        "connect_timeout": duration(mesh.connect_timeout()).unwrap_or_else(|| json!("10s")),
        "alt_stat_name": "BlackHoleCluster;",
    })
}

/// `PassthroughCluster`: the original destination, client's protocol, capped
/// by the mesh default connection pool.
fn passthrough_cluster(mesh: &MeshConfig) -> Value {
    let mut b = Builder::new("PassthroughCluster", Kind::OriginalDst);
    let cp = mesh
        .default_traffic_policy
        .as_ref()
        .and_then(|d| d.connection_pool.as_ref());
    apply_connection_pool(&mut b, mesh, Protocol::Tcp, cp, None);
    b.c.set(LB_POLICY, "lb_policy", json!("CLUSTER_PROVIDED"));
    b.c.set(
        TYPED_EXTENSION_PROTOCOL_OPTIONS,
        "typed_extension_protocol_options",
        json!({HTTP_OPTIONS: any(HTTP_OPTIONS, json!({
            "common_http_protocol_options": {"idle_timeout": "300s"},
            "use_downstream_protocol_config": {"http_protocol_options": {}, "http2_protocol_options": {}},
        }))}),
    );
    b.c.set(
        FILTERS,
        "filters",
        Value::Array(vec![tcp_metadata_exchange()]),
    );
    // The pool's HTTP options never reach this cluster (istiod sets them on a
    // copy), and it has no common_lb_config.
    b.c.into_value()
}

/// The SANs clients verify: every endpoint identity plus the service's own,
/// sorted, with trust-domain aliases (§7.4 3.).
fn service_sans(mesh: &MeshConfig, svc: &CatalogService, eps: &[IstioEndpoint]) -> Vec<String> {
    let mut out: BTreeSet<String> = eps
        .iter()
        .map(|e| e.service_account.clone())
        .chain(svc.service_accounts.iter().cloned())
        .filter(|s| !s.is_empty())
        .collect();
    let aliases = mesh.trust_domain_aliases();
    if !aliases.is_empty() {
        let prefix = format!("spiffe://{}/", mesh.trust_domain());
        let extra: Vec<String> = out
            .iter()
            .filter_map(|s| s.strip_prefix(&prefix))
            .flat_map(|rest| aliases.iter().map(move |a| format!("spiffe://{a}/{rest}")))
            .collect();
        out.extend(extra);
    }
    out.into_iter().collect()
}

// ---------------------------------------------------------------------------
// Endpoints (§8)

/// `outbound|PORT|SUBSET|HOST` → its parts.
/// (port, subset, host) of `outbound|P|S|H`, or of its SNI-DNAT form
/// `outbound_.P_.S_.H`.
fn parse_outbound(name: &str) -> Option<(u16, &str, &str)> {
    if let Some(sni) = name.strip_prefix("outbound_.") {
        let mut parts = sni.splitn(3, "_.");
        let port = parts.next()?.parse().ok()?;
        return Some((port, parts.next()?, parts.next()?));
    }
    let mut parts = name.splitn(4, '|');
    if parts.next()? != "outbound" {
        return None;
    }
    let port = parts.next()?.parse().ok()?;
    Some((port, parts.next()?, parts.next()?))
}

/// The endpoints of the service port (matched by port *name*).
fn port_endpoints<'a>(
    eps: &'a [IstioEndpoint],
    port: &'a Port,
) -> impl Iterator<Item = &'a IstioEndpoint> {
    eps.iter().filter(move |e| e.service_port_name == port.name)
}

/// The workload's own PeerAuthentication allows mTLS on the endpoint port.
fn workload_allows_mtls(ctx: &Context, e: &IstioEndpoint) -> bool {
    let labels = match e.workload {
        Some(wi) => &ctx.mesh.workloads[wi].labels,
        None => &e.labels,
    };
    ctx.config
        .peer_authn
        .for_workload(&e.namespace, labels)
        .for_port(u32::from(e.port))
        != MtlsMode::Disable
}

/// The rule's TLS mode for a cluster as the EDS mTLS check reads it: the
/// subset's (port-level first), else the rule's (port-level first).
fn rule_tls_mode<'a>(rule: Option<&'a MergedRule>, subset: &str, port: u16) -> Option<&'a str> {
    fn of(tp: Option<&TrafficPolicy>, port: u16) -> Option<&str> {
        let tp = tp?;
        let port_level = tp
            .port_level_settings
            .iter()
            .find(|p| p.port.as_ref().and_then(|s| s.number) == Some(u32::from(port)))
            .and_then(|p| p.tls.as_ref());
        tls_mode(port_level.or(tp.tls.as_ref()))
    }
    let rule = rule?;
    if subset.is_empty() {
        return of(rule.traffic_policy.as_ref(), port);
    }
    let s = rule.subsets.iter().find(|s| s.name == subset)?;
    of(s.traffic_policy.as_ref(), port).or_else(|| of(rule.traffic_policy.as_ref(), port))
}

/// The LocalityLbEndpoints of one cluster (§8.2): `eds_dump` adds what
/// Envoy's EDS dump shows, and the IP-address filter of EDS clusters.
fn locality_endpoints(inputs: &PortInputs, subset: &str, eds_dump: bool) -> Vec<Value> {
    let PortInputs {
        ctx,
        proxy,
        svc,
        port,
        rule,
        pa_allows_mtls,
        ..
    } = *inputs;
    let subset_labels = rule
        .and_then(|r| r.subsets.iter().find(|s| s.name == subset))
        .map(|s| &s.labels);
    let send_unhealthy = forces_unhealthy(svc)
        || subset_policy(rule, (!subset.is_empty()).then_some(subset), port.port)
            .and_then(|p| p.outlier_detection)
            .and_then(|o| o.min_health_percent)
            .is_none_or(|m| m <= 0);
    let dr_mode = rule_tls_mode(rule, subset, port.port);
    let mut groups: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut weights: BTreeMap<&str, u32> = BTreeMap::new();
    for e in port_endpoints(ctx.catalog.endpoints_of(svc), port) {
        if eds_dump && e.port != 0 && e.address.parse::<std::net::IpAddr>().is_err() {
            continue;
        }
        if subset_labels.is_some_and(|l| l.iter().any(|(k, v)| e.labels.get(k) != Some(v))) {
            continue;
        }
        if svc.node_local && e.node != proxy.node {
            continue;
        }
        let health = match e.health {
            Health::Healthy => "HEALTHY",
            Health::Unhealthy if send_unhealthy => "UNHEALTHY",
            // Draining endpoints are only for persistent-session services.
            Health::Unhealthy | Health::Draining => continue,
        };
        let mtls = match dr_mode {
            Some(m) => m == "ISTIO_MUTUAL",
            None => e.tls_mode == "istio" && pa_allows_mtls(e),
        };
        let mut filter = Map::new();
        if mtls {
            filter.insert(
                "envoy.transport_socket_match".into(),
                json!({"tlsMode": "istio"}),
            );
        }
        filter.insert(
            "istio".into(),
            object([("workload", Value::String(workload_metadata(svc, e)))]),
        );
        let address = match e.address.strip_prefix("unix://") {
            Some(path) => json!({"pipe": {"path": path}}),
            None => socket_address(&e.address, u32::from(e.port)),
        };
        // Built with `object`, not `json!`: this runs once per endpoint of
        // every cluster, and `json!` deep-copies embedded values.
        let mut endpoint = Map::new();
        endpoint.insert("address".into(), address);
        if eds_dump {
            endpoint.insert("health_check_config".into(), Value::Object(Map::new()));
        }
        groups.entry(&e.locality).or_default().push(object([
            ("endpoint", Value::Object(endpoint)),
            ("health_status", Value::String(health.into())),
            (
                "metadata",
                object([("filter_metadata", Value::Object(filter))]),
            ),
            ("load_balancing_weight", Value::from(e.weight)),
        ]));
        let w = weights.entry(&e.locality).or_default();
        *w = w.saturating_add(e.weight);
    }
    groups
        .into_iter()
        .map(|(locality, lb_endpoints)| {
            object([
                ("locality", locality_of(locality)),
                ("lb_endpoints", Value::Array(lb_endpoints)),
                ("load_balancing_weight", Value::from(weights[locality])),
            ])
        })
        .collect()
}

fn locality_of(label: &str) -> Value {
    let mut m = Map::new();
    for (key, part) in ["region", "zone", "sub_zone"]
        .into_iter()
        .zip(label.split('/'))
    {
        if !part.is_empty() {
            m.insert(key.into(), json!(part));
        }
    }
    Value::Object(m)
}

/// `<workload>;<ns>;<canonical name>;<canonical revision>;<cluster>`, the
/// revision empty when `latest` (istiod does not send the default).
fn workload_metadata(svc: &CatalogService, e: &IstioEndpoint) -> String {
    let name = canonical_name(&e.labels, &e.workload_name);
    let revision = Some(canonical_revision(&e.labels))
        .filter(|r| r != "latest")
        .unwrap_or_default();
    // An EndpointSlice address without a pod carries no namespace.
    let ns = if svc.registry == Registry::Kubernetes && e.workload.is_none() {
        ""
    } else {
        &e.namespace
    };
    format!("{};{ns};{name};{revision};Kubernetes", e.workload_name)
}

/// One EDS ClusterLoadAssignment as Envoy's config dump prints it.
#[allow(clippy::too_many_arguments)]
fn cluster_load_assignment(
    ctx: &Context,
    proxy: &Proxy,
    name: &str,
    svc: &CatalogService,
    port: u16,
    subset: &str,
    rule: Option<&MergedRule>,
    pa_allows_mtls: &dyn Fn(&IstioEndpoint) -> bool,
) -> Value {
    let mut out = json!({"cluster_name": name});
    if let Some(port) = svc.port(port) {
        // The mode and SANs only matter to clusters, not endpoints.
        let inputs = PortInputs {
            ctx,
            proxy,
            svc,
            port,
            rule,
            ns_mode: MtlsMode::Permissive,
            sans: Vec::new(),
            pa_allows_mtls,
        };
        let endpoints = locality_endpoints(&inputs, subset, true);
        if !endpoints.is_empty() {
            out["endpoints"] = Value::Array(endpoints);
        }
    }
    // Envoy reports its default overprovisioning factor.
    out["policy"] = json!({"overprovisioning_factor": 140});
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::registry::Mesh;
    use crate::registry::ProxyType;
    use crate::registry::catalog::{Catalog, ObjRef};
    use crate::registry::config::{ConfigMeta, IstioConfig};
    use crate::xds::generate::Interception;

    fn service(
        host: &str,
        resolution: Resolution,
        ports: &[(&str, u16, Protocol)],
    ) -> CatalogService {
        CatalogService {
            address: "10.0.0.1".to_string(),
            ..CatalogService::for_test(
                host,
                host.split('.').next().unwrap_or(host),
                Registry::Kubernetes,
                resolution,
                ports
                    .iter()
                    .map(|(name, port, protocol)| Port {
                        name: name.to_string(),
                        port: *port,
                        protocol: *protocol,
                        target_port: None,
                    })
                    .collect(),
            )
        }
    }

    fn endpoint(
        address: &str,
        port_name: &str,
        labels: &[(&str, &str)],
        sa: &str,
    ) -> IstioEndpoint {
        IstioEndpoint {
            address: address.to_string(),
            port: 9080,
            service_port_name: port_name.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            service_account: if sa.is_empty() {
                String::new()
            } else {
                format!("spiffe://cluster.local/ns/default/sa/{sa}")
            },
            locality: String::new(),
            tls_mode: if sa.is_empty() { "disabled" } else { "istio" }.to_string(),
            workload_name: format!("{sa}-wl"),
            namespace: "default".to_string(),
            node: None,
            health: Health::Healthy,
            weight: 1,
            workload: Some(0),
        }
    }

    fn proxy() -> Proxy {
        Proxy {
            config: Default::default(),
            workload: 0,
            kind: ProxyType::Sidecar,
            id: "client.default".into(),
            name: "client".into(),
            namespace: "default".into(),
            labels: BTreeMap::new(),
            ips: vec!["10.1.0.9".parse().unwrap()],
            dns_domain: "default.svc.cluster.local".into(),
            interception: Interception::Redirect,
            metadata: BTreeMap::new(),
            locality: String::new(),
            service_account: "client".into(),
            identity: String::new(),
            node: None,
            workload_name: "client".into(),
        }
    }

    fn catalog(services: Vec<CatalogService>, eps: Vec<IstioEndpoint>) -> Catalog {
        let endpoints = services
            .iter()
            .map(|s| ((s.hostname.clone(), s.namespace.clone()), eps.clone()))
            .collect();
        Catalog::new(services, endpoints)
    }

    fn rule(host: &str, yaml: &str) -> MergedRule {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Spec {
            traffic_policy: Option<TrafficPolicy>,
            #[serde(default)]
            subsets: Vec<Subset>,
        }
        let spec: Spec =
            crate::load::yaml::decode_text(yaml, &mut |_| {}).expect("test YAML decodes");
        MergedRule {
            host: host.into(),
            traffic_policy: spec.traffic_policy,
            subsets: spec.subsets,
            selector: None,
            export_to: Vec::new(),
            scope: crate::registry::config::destination_rules::RuleScope::Local,
            metas: vec![ConfigMeta {
                name: "dr".into(),
                namespace: "default".into(),
                creation: None,
                source: ObjRef {
                    kind: "DestinationRule",
                    namespace: "default".into(),
                    name: "dr".into(),
                },
                internal: Default::default(),
            }],
        }
    }

    /// Builds the clusters of every port of the catalog's first service.
    fn clusters_of(cat: &Catalog, rule: Option<&MergedRule>, ns_mode: MtlsMode) -> Vec<Value> {
        let (mesh, config) = (Mesh::default(), IstioConfig::default());
        let ctx = Context {
            mesh: &mesh,
            catalog: cat,
            config: &config,
        };
        let svc = &cat.services[0];
        svc.ports
            .iter()
            .flat_map(|p| port_clusters(&ctx, &proxy(), svc, p, rule, ns_mode, &|_| true))
            .collect()
    }

    fn reviews() -> Catalog {
        catalog(
            vec![service(
                "reviews.default.svc.cluster.local",
                Resolution::ClientSideLb,
                &[("http", 9080, Protocol::Http)],
            )],
            vec![
                endpoint(
                    "10.1.0.1",
                    "http",
                    &[("version", "v1"), ("app", "reviews")],
                    "reviews",
                ),
                endpoint("10.1.0.2", "http", &[("version", "v2")], "reviews-v2"),
            ],
        )
    }

    /// What `diff` relies on to generate a service's endpoints alone:
    /// clusters read no more of the endpoints than [`endpoint_reads`]
    /// gives, and the assignments built without the clusters are those
    /// built from them.
    #[test]
    fn endpoint_reads_are_all_eds_clusters_read_of_endpoints() {
        let host = "reviews.default.svc.cluster.local";
        let ports = [
            ("http", 9080, Protocol::Http),
            ("tcp", 9000, Protocol::Tcp),
            ("dns", 53, Protocol::Udp),
        ];
        let svc = service(host, Resolution::ClientSideLb, &ports);
        let mut before = reviews().endpoints_of(&reviews().services[0]).to_vec();
        // Moved, relabelled, one more: the same service accounts.
        let mut after = before.clone();
        after[0].address = "10.9.0.1".into();
        after[1].labels.insert("version".into(), "v1".into());
        after.push(endpoint("10.9.0.3", "tcp", &[("version", "v2")], "reviews"));
        // Of no workload the mesh has.
        for e in before.iter_mut().chain(&mut after) {
            e.workload = None;
        }
        let (a, b) = (
            catalog(vec![svc.clone()], before),
            catalog(vec![svc.clone()], after),
        );
        let subsets =
            "subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]";
        let tls = format!("trafficPolicy: {{tls: {{mode: ISTIO_MUTUAL}}}}\n{subsets}");
        let rules = [rule(host, subsets), rule(host, &tls)];
        let others = [Resolution::DnsLb, Resolution::Passthrough]
            .map(|resolution| catalog(vec![service(host, resolution, &ports)], Vec::new()));
        let (mesh, config) = (Mesh::default(), IstioConfig::default());
        let ctx = |catalog| Context {
            mesh: &mesh,
            catalog,
            config: &config,
        };
        let reads = |cat, rule| endpoint_reads(&ctx(cat), &cat.services[0], rule);
        for rule in [None, Some(&rules[0]), Some(&rules[1])] {
            assert_eq!(reads(&a, rule), reads(&b, rule));
            assert_eq!(
                reads(&a, rule).unwrap(),
                [
                    "spiffe://cluster.local/ns/default/sa/reviews",
                    "spiffe://cluster.local/ns/default/sa/reviews-v2"
                ]
            );
            for mode in [MtlsMode::Permissive, MtlsMode::Strict, MtlsMode::Disable] {
                assert_eq!(clusters_of(&a, rule, mode), clusters_of(&b, rule, mode));
            }
        }
        // Passthrough and DNS clusters read the endpoints themselves.
        let passthrough = rule(host, "trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}");
        assert_eq!(reads(&a, Some(&passthrough)), None);
        for cat in &others {
            assert_eq!(reads(cat, None), None);
        }
        // Without the clusters, the same assignments (no UDP port's).
        let scoped = [ScopedService {
            service: &b.services[0],
            ports: std::borrow::Cow::Borrowed(&b.services[0].ports),
        }];
        let ctx = ctx(&b);
        let with_clusters =
            load_assignments(&ctx, &proxy(), &outbound_clusters(&ctx, &proxy(), &scoped));
        assert_eq!(with_clusters.len(), 2);
        assert_eq!(
            service_load_assignments(&ctx, &proxy(), &scoped),
            with_clusters
        );
    }

    #[test]
    fn eds_cluster_with_auto_mtls_and_subsets() {
        let cat = reviews();
        let dr = rule(
            "reviews.default.svc.cluster.local",
            r#"
trafficPolicy:
  connectionPool:
    tcp: {maxConnections: 10, connectTimeout: 3s}
    http: {http1MaxPendingRequests: 5, maxRequestsPerConnection: 2}
  outlierDetection: {consecutive5xxErrors: 3, interval: 5s}
  loadBalancer: {simple: ROUND_ROBIN}
subsets:
- name: v1
  labels: {version: v1}
- name: v2
  labels: {version: v2}
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: x-user}
"#,
        );
        let cs = clusters_of(&cat, Some(&dr), MtlsMode::Permissive);
        let names: Vec<&str> = cs.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "outbound|9080||reviews.default.svc.cluster.local",
                "outbound|9080|v1|reviews.default.svc.cluster.local",
                "outbound|9080|v2|reviews.default.svc.cluster.local",
            ]
        );
        let c = &cs[0];
        assert_eq!(c["type"], "EDS");
        assert_eq!(
            c["alt_stat_name"],
            "outbound|9080||reviews.default.svc.cluster.local;"
        );
        assert_eq!(c["connect_timeout"], "3s");
        assert_eq!(c["eds_cluster_config"]["service_name"], c["name"]);
        assert_eq!(
            c["eds_cluster_config"]["eds_config"]["initial_fetch_timeout"],
            "0s"
        );
        // ROUND_ROBIN is the proto default: not printed.
        assert!(c.get("lb_policy").is_none());
        assert_eq!(
            c["circuit_breakers"]["thresholds"][0],
            json!({"max_connections": 10, "max_pending_requests": 5,
                   "max_requests": 4294967295u32, "max_retries": 4294967295u32})
        );
        assert_eq!(
            c["outlier_detection"],
            json!({"consecutive_5xx": 3, "interval": "5s", "enforcing_consecutive_5xx": 100,
                   "enforcing_success_rate": 0})
        );
        assert_eq!(
            c["common_lb_config"],
            json!({"healthy_panic_threshold": {}})
        );
        let opts = &c["typed_extension_protocol_options"][HTTP_OPTIONS];
        assert_eq!(
            opts["common_http_protocol_options"]["max_requests_per_connection"],
            2
        );
        assert_eq!(
            opts["explicit_http_config"],
            json!({"http_protocol_options": {}})
        );
        assert_eq!(
            c["metadata"]["filter_metadata"]["istio"]["config"],
            "/apis/networking.istio.io/v1/namespaces/default/destination-rule/dr"
        );
        let tsm = &c["transport_socket_matches"];
        assert_eq!(tsm[0]["name"], "tlsMode-istio");
        assert_eq!(tsm[0]["match"], json!({"tlsMode": "istio"}));
        assert_eq!(
            tsm[1],
            json!({"name": "tlsMode-disabled", "match": {},
            "transport_socket": raw_buffer()})
        );
        let tls = &tsm[0]["transport_socket"]["typed_config"];
        assert_eq!(
            tls["sni"],
            "outbound_.9080_._.reviews.default.svc.cluster.local"
        );
        assert_eq!(
            tls["common_tls_context"]["combined_validation_context"]["default_validation_context"]
                ["match_subject_alt_names"],
            json!([{"exact": "spiffe://cluster.local/ns/default/sa/reviews"},
                   {"exact": "spiffe://cluster.local/ns/default/sa/reviews-v2"}])
        );
        assert_eq!(
            c["filters"][0]["typed_config"]["type_url"],
            "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange"
        );
        // Subsets inherit the rule's policy; v2 switches to consistent hashing.
        let v1 = &cs[1];
        assert_eq!(v1["metadata"]["filter_metadata"]["istio"]["subset"], "v1");
        assert_eq!(v1["circuit_breakers"], c["circuit_breakers"]);
        assert_eq!(
            v1["transport_socket_matches"][0]["transport_socket"]["typed_config"]["sni"],
            "outbound_.9080_.v1_.reviews.default.svc.cluster.local"
        );
        let v2 = &cs[2];
        assert_eq!(v2["lb_policy"], "RING_HASH");
        assert_eq!(
            v2["ring_hash_lb_config"],
            json!({"minimum_ring_size": "1024"})
        );
        assert!(v2.get("outlier_detection").is_some());
        // Keys in proto field-number order.
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "name",
                "type",
                "eds_cluster_config",
                "connect_timeout",
                "circuit_breakers",
                "outlier_detection",
                "metadata",
                "common_lb_config",
                "alt_stat_name",
                "typed_extension_protocol_options",
                "filters",
                "transport_socket_matches",
            ]
        );
    }

    #[test]
    fn port_level_settings_replace_and_tls_modes() {
        let cat = reviews();
        let dr = rule(
            "reviews.default.svc.cluster.local",
            r#"
trafficPolicy:
  connectionPool: {tcp: {maxConnections: 10}}
  tls: {mode: ISTIO_MUTUAL}
  portLevelSettings:
  - port: {number: 9080}
    loadBalancer: {simple: RANDOM}
    tls: {mode: DISABLE}
"#,
        );
        let cs = clusters_of(&cat, Some(&dr), MtlsMode::Strict);
        let c = &cs[0];
        // The port-level entry replaces everything: no pool, no TLS.
        assert_eq!(c["lb_policy"], "RANDOM");
        assert_eq!(
            c["circuit_breakers"]["thresholds"][0]["max_connections"],
            4294967295u32
        );
        assert!(c.get("transport_socket").is_none());
        assert!(c.get("transport_socket_matches").is_none());

        let dr = rule(
            "reviews.default.svc.cluster.local",
            "trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}",
        );
        let c = &clusters_of(&cat, Some(&dr), MtlsMode::Permissive)[0];
        // Explicit ISTIO_MUTUAL: a plain transport socket, not socket matches.
        assert_eq!(
            c["transport_socket"]["typed_config"]["sni"],
            "outbound_.9080_._.reviews.default.svc.cluster.local"
        );
        assert!(c.get("transport_socket_matches").is_none());

        // Namespace PA DISABLE: no auto mTLS.
        let c = &clusters_of(&cat, None, MtlsMode::Disable)[0];
        assert!(c.get("transport_socket_matches").is_none());
        assert!(
            c["metadata"]["filter_metadata"]["istio"]
                .get("config")
                .is_none()
        );
    }

    #[test]
    fn dns_external_and_passthrough_types() {
        let mut se = service(
            "api.example.com",
            Resolution::DnsLb,
            &[("https", 443, Protocol::Tls)],
        );
        se.registry = Registry::External;
        se.mesh_external = true;
        let mut host_ep = endpoint("api.example.com", "https", &[], "");
        host_ep.port = 443;
        host_ep.workload = None;
        let cat = catalog(vec![se], vec![host_ep]);
        let c = &clusters_of(&cat, None, MtlsMode::Permissive)[0];
        assert_eq!(c["type"], "STRICT_DNS");
        assert_eq!(c["dns_lookup_family"], "V4_ONLY");
        assert_eq!(c["dns_refresh_rate"], "60s");
        assert_eq!(c["respect_dns_ttl"], true);
        assert_eq!(c["dns_jitter"], "0.100s");
        assert_eq!(
            c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"],
            json!({"address": {"socket_address": {"address": "api.example.com", "port_value": 443}}})
        );
        assert_eq!(c["metadata"]["filter_metadata"]["istio"]["external"], true);
        assert!(c.get("transport_socket_matches").is_none());

        // A DNS service without endpoints has no cluster at all.
        let mut empty = service(
            "none.example.com",
            Resolution::DnsLb,
            &[("tcp", 80, Protocol::Tcp)],
        );
        empty.registry = Registry::External;
        assert!(clusters_of(&catalog(vec![empty], vec![]), None, MtlsMode::Permissive).is_empty());

        // Headless: ORIGINAL_DST; a sidecar-less endpoint turns mTLS off.
        let headless = service(
            "db.default.svc.cluster.local",
            Resolution::Passthrough,
            &[("http", 9080, Protocol::Http)],
        );
        let eps = vec![
            endpoint("10.1.0.5", "http", &[], "db"),
            endpoint("10.1.0.6", "http", &[], ""),
        ];
        let c = &clusters_of(
            &catalog(vec![headless.clone()], eps),
            None,
            MtlsMode::Permissive,
        )[0];
        assert_eq!(c["type"], "ORIGINAL_DST");
        assert_eq!(c["lb_policy"], "CLUSTER_PROVIDED");
        assert!(c.get("eds_cluster_config").is_none());
        assert!(c.get("transport_socket").is_none());
        // All endpoints with sidecars: a plain transport socket (no matches).
        let eps = vec![endpoint("10.1.0.5", "http", &[], "db")];
        let c = &clusters_of(&catalog(vec![headless], eps), None, MtlsMode::Permissive)[0];
        assert!(c.get("transport_socket").is_some());
        assert!(c.get("transport_socket_matches").is_none());
    }

    #[test]
    fn upstream_protocols() {
        let cat = catalog(
            vec![service(
                "grpc.default.svc.cluster.local",
                Resolution::ClientSideLb,
                &[
                    ("grpc", 7070, Protocol::Grpc),
                    ("", 8080, Protocol::Unsupported),
                ],
            )],
            vec![],
        );
        let cs = clusters_of(&cat, None, MtlsMode::Permissive);
        let h2 = &cs[0]["typed_extension_protocol_options"][HTTP_OPTIONS];
        assert_eq!(
            h2["explicit_http_config"],
            json!({"http2_protocol_options": {}})
        );
        let alpn = &cs[0]["transport_socket_matches"][0]["transport_socket"]["typed_config"]["common_tls_context"]
            ["alpn_protocols"];
        assert_eq!(alpn, &json!(["istio-peer-exchange", "istio", "h2"]));
        let auto = &cs[1]["typed_extension_protocol_options"][HTTP_OPTIONS];
        assert_eq!(
            auto["use_downstream_protocol_config"],
            json!({"http_protocol_options": {}, "http2_protocol_options": {}})
        );
    }

    #[test]
    fn special_clusters() {
        let mesh = MeshConfig::default();
        assert_eq!(
            blackhole_cluster(&mesh),
            json!({"name": "BlackHoleCluster", "connect_timeout": "10s", "alt_stat_name": "BlackHoleCluster;"})
        );
        let p = passthrough_cluster(&mesh);
        assert_eq!(p["type"], "ORIGINAL_DST");
        assert_eq!(p["lb_policy"], "CLUSTER_PROVIDED");
        assert_eq!(
            p["typed_extension_protocol_options"][HTTP_OPTIONS]["common_http_protocol_options"],
            json!({"idle_timeout": "300s"})
        );
        assert!(p.get("common_lb_config").is_none());
    }

    #[test]
    fn eds_grouping_subsets_and_health() {
        let mut eps = vec![
            endpoint("10.1.0.1", "http", &[("version", "v1")], "reviews"),
            endpoint("10.1.0.2", "http", &[("version", "v2")], ""),
            endpoint("10.1.0.3", "http", &[("version", "v1")], "reviews"),
            endpoint("10.1.0.4", "other", &[("version", "v1")], "reviews"),
        ];
        eps[0].locality = "us-east/zone-b".into();
        eps[2].locality = "us-east/zone-a".into();
        eps[2].health = Health::Unhealthy;
        let cat = catalog(
            vec![service(
                "reviews.default.svc.cluster.local",
                Resolution::ClientSideLb,
                &[("http", 9080, Protocol::Http)],
            )],
            eps,
        );
        let (mesh, config) = (Mesh::default(), IstioConfig::default());
        let ctx = Context {
            mesh: &mesh,
            catalog: &cat,
            config: &config,
        };
        let svc = &cat.services[0];
        let name = "outbound|9080||reviews.default.svc.cluster.local";
        let cla = cluster_load_assignment(&ctx, &proxy(), name, svc, 9080, "", None, &|_| true);
        assert_eq!(cla["cluster_name"], name);
        let localities: Vec<&Value> = cla["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| &l["locality"])
            .collect();
        assert_eq!(
            localities,
            [
                &json!({}),
                &json!({"region": "us-east", "zone": "zone-a"}),
                &json!({"region": "us-east", "zone": "zone-b"})
            ]
        );
        // Unhealthy endpoints are sent (1.31); the sidecar-less one has no tlsMode.
        let a = &cla["endpoints"][1]["lb_endpoints"][0];
        assert_eq!(a["health_status"], "UNHEALTHY");
        assert_eq!(a["endpoint"]["health_check_config"], json!({}));
        let plain = &cla["endpoints"][0]["lb_endpoints"][0];
        assert_eq!(
            plain["metadata"],
            json!({"filter_metadata": {"istio": {"workload": "-wl;default;-wl;v2;Kubernetes"}}})
        );
        let b = &cla["endpoints"][2]["lb_endpoints"][0];
        assert_eq!(
            b["metadata"]["filter_metadata"]["envoy.transport_socket_match"],
            json!({"tlsMode": "istio"})
        );
        assert_eq!(cla["endpoints"][2]["load_balancing_weight"], 1);
        assert_eq!(cla["policy"], json!({"overprovisioning_factor": 140}));

        // Subset v1 with minHealthPercent: only the healthy v1 endpoint.
        let dr = rule(
            "reviews.default.svc.cluster.local",
            r#"
subsets:
- name: v1
  labels: {version: v1}
  trafficPolicy: {outlierDetection: {minHealthPercent: 50}}
"#,
        );
        let name = "outbound|9080|v1|reviews.default.svc.cluster.local";
        let cla =
            cluster_load_assignment(&ctx, &proxy(), name, svc, 9080, "v1", Some(&dr), &|_| true);
        let addrs: Vec<&Value> = cla["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|l| l["lb_endpoints"].as_array().unwrap())
            .map(|e| &e["endpoint"]["address"]["socket_address"]["address"])
            .collect();
        assert_eq!(addrs, [&json!("10.1.0.1")]);
        // A workload PA of DISABLE removes the tlsMode match.
        let cla =
            cluster_load_assignment(&ctx, &proxy(), name, svc, 9080, "v1", Some(&dr), &|_| false);
        assert!(
            cla["endpoints"][0]["lb_endpoints"][0]["metadata"]["filter_metadata"]
                .get("envoy.transport_socket_match")
                .is_none()
        );
    }

    #[test]
    fn route_hash_policy() {
        let dr = rule(
            "reviews.default.svc.cluster.local",
            r#"
trafficPolicy:
  loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 10s}}}
  portLevelSettings:
  - port: {number: 8080}
    loadBalancer: {simple: RANDOM}
subsets:
- name: v1
  trafficPolicy:
    loadBalancer: {consistentHash: {useSourceIp: true}}
"#,
        );
        assert_eq!(
            hash_policy(Some(&dr), None, 9080),
            Some(vec![json!({"cookie": {"name": "user", "ttl": "10s"}})])
        );
        assert_eq!(hash_policy(Some(&dr), None, 8080), None);
        assert_eq!(
            hash_policy(Some(&dr), Some("v1"), 9080),
            Some(vec![json!({"connection_properties": {"source_ip": true}})])
        );
        assert_eq!(hash_policy(None, None, 9080), None);
    }
}
