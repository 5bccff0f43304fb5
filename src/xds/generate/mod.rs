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
pub mod focus;
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

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use crate::registry::catalog::{Catalog, Port};
use crate::registry::config::IstioConfig;
use crate::registry::config::virtual_services::resolved_short_name;
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

/// The resources of one side of a proxy, before EnvoyFilters and secrets.
#[derive(Default)]
struct Half {
    listeners: Vec<Value>,
    routes: Vec<Value>,
    clusters: Vec<Value>,
    endpoints: Vec<Value>,
}

impl Half {
    /// As a configuration of its own (no static resources, no secrets),
    /// with the secret names it references: a part `diff` shares.
    fn into_part(self, proxy: Proxy) -> (ProxyConfig, Vec<String>) {
        let (graph, sds) = graph_of(false, self, |_| Vec::new());
        let config = ProxyConfig {
            proxy,
            graph,
            extension_configs: Vec::new(),
            warnings: Vec::new(),
        };
        (config, sds)
    }
}

/// What a gateway's listeners add beside the resources.
#[derive(Default)]
struct GatewayFacts {
    verified: std::collections::BTreeSet<String>,
    auto_passthrough: bool,
    port_map: envoyfilter::PortMap,
}

/// The outbound half: listeners with their routes, and clusters with their
/// endpoints, from the scope alone (for a gateway, its servers). Each pair
/// is built on its own core.
fn outbound_half(
    ctx: &Context,
    proxy: &Proxy,
    scope: &scope::SidecarScope,
) -> (Half, GatewayFacts) {
    let mut facts = GatewayFacts::default();
    let ((listeners, routes), (clusters, endpoints)) = crate::parallel::join(
        || match proxy.kind {
            ProxyType::Sidecar => sidecar_listeners(ctx, proxy, scope, None, &|_| false)
                .expect("without a focus every route configuration is built"),
            ProxyType::Router => {
                let g = gateway::build(ctx, proxy, scope);
                facts.verified.extend(g.verified_credentials);
                facts.auto_passthrough = g.auto_passthrough;
                facts.port_map = g.port_map;
                (g.listeners, g.routes)
            }
        },
        || outbound_clusters(ctx, proxy, &scope.cds_services),
    );
    let mut half = Half {
        listeners,
        routes,
        clusters,
        endpoints,
    };
    if facts.auto_passthrough {
        let sni = clusters::sni_dnat_clusters(ctx, &half.clusters);
        half.endpoints
            .extend(clusters::load_assignments(ctx, proxy, &sni));
        half.clusters.extend(sni);
    }
    (half, facts)
}

/// A sidecar's outbound listeners and the route configurations they name
/// (with a focus, see [`rds::route_configs`]).
fn sidecar_listeners(
    ctx: &Context,
    proxy: &Proxy,
    scope: &scope::SidecarScope,
    focus: Option<&focus::Focus>,
    reused: &(dyn Fn(&str) -> bool + Sync),
) -> Option<(Vec<Value>, Vec<Value>)> {
    let outbound = outbound::listeners(ctx, proxy, scope, focus)?;
    let names = rds::referenced(&outbound);
    let routes = rds::route_configs(ctx, proxy, scope, &names, focus, reused)?;
    Some((outbound, routes))
}

/// The outbound clusters of a scope's services and their endpoints.
fn outbound_clusters(
    ctx: &Context,
    proxy: &Proxy,
    services: &[scope::ScopedService],
) -> (Vec<Value>, Vec<Value>) {
    let clusters = unique(clusters::outbound_clusters(ctx, proxy, services));
    let endpoints = clusters::load_assignments(ctx, proxy, &clusters);
    (clusters, endpoints)
}

/// Duplicate cluster names: the first wins (§7.1).
fn unique(mut clusters: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::BTreeSet::new();
    clusters.retain(|c| seen.insert(c["name"].as_str().unwrap_or_default().to_string()));
    clusters
}

/// The inbound half of a sidecar (a gateway has none: its listeners are
/// the servers), `virtualInbound` first.
fn inbound_half(ctx: &Context, proxy: &Proxy) -> (Half, Option<Value>) {
    let inbound = match proxy.kind {
        ProxyType::Sidecar => inbound::build(ctx, proxy),
        ProxyType::Router => inbound::Inbound::default(),
    };
    let clusters = unique(inbound.clusters);
    let endpoints = clusters::load_assignments(ctx, proxy, &clusters);
    let half = Half {
        listeners: inbound.bound_listeners,
        routes: Vec::new(),
        clusters,
        endpoints,
    };
    (half, inbound.virtual_inbound)
}

/// Generate the configuration of the workload `workload` (a proxy).
pub fn generate(ctx: &Context, workload: usize, kind: ProxyType) -> ProxyConfig {
    let proxy = Proxy::new(ctx, workload, kind);
    let scope = scope::build(ctx, &proxy);
    let (inbound, mut virtual_inbound) = inbound_half(ctx, &proxy);
    let (mut out, facts) = outbound_half(ctx, &proxy, &scope);
    let mut bound_listeners = inbound.listeners;
    out.clusters.extend(inbound.clusters);
    out.endpoints.extend(inbound.endpoints);
    let applied = envoyfilter::apply(
        ctx,
        &proxy,
        envoyfilter::Generated {
            listeners: &mut out.listeners,
            virtual_inbound: &mut virtual_inbound,
            bound_listeners: &mut bound_listeners,
            routes: &mut out.routes,
            clusters: &mut out.clusters,
            port_map: &facts.port_map,
        },
    );
    out.listeners.extend(virtual_inbound);
    out.listeners.extend(bound_listeners);
    let mut extension_configs = applied.extension_configs;
    extension_configs.extend(extensions::extension_configs(
        ctx,
        &proxy,
        &envoyfilter::discovered_names(&out.listeners),
    ));
    let (graph, _) = graph_of(true, out, |names| {
        secrets::secrets(
            &ctx.config.credentials,
            &proxy,
            ctx.mesh.mesh_config.trust_domain(),
            names,
            &facts.verified,
        )
    });
    ProxyConfig {
        proxy,
        graph,
        extension_configs,
        warnings: applied.warnings,
    }
}

/// A sidecar's configuration in the parts `diff` shares between proxies:
/// what it sees (outbound listeners, routes, clusters and endpoints: up to
/// the tracing values naming the workload, the same for every sidecar of
/// one view) and what it serves (per workload). False
/// when the parts would not add up to [`generate`]'s result: gateways, and
/// proxies EnvoyFilters patch (a patch may reach across the parts).
pub fn splits(ctx: &Context, proxy: &Proxy) -> bool {
    proxy.kind == ProxyType::Sidecar && envoyfilter::patches_for(ctx, proxy).is_empty()
}

/// The outbound listeners and routes of a sidecar that [`splits`], the
/// values tracing takes from the workload written as placeholders
/// ([`telemetry::WorkloadNames`]): the same for every sidecar of one view,
/// from its scope ([`view_scope`]). With a focus, only the virtual hosts
/// (and sniffed route configurations) of the hosts it touches, less the
/// virtual hosts of those `reused` names (`diff` has them from another
/// view); None when those cannot be told apart from the others'
/// ([`rds::route_configs`]).
pub fn outbound_part(
    ctx: &Context,
    workload: usize,
    scope: &scope::SidecarScope,
    focus: Option<&focus::Focus>,
    reused: &(dyn Fn(&str) -> bool + Sync),
) -> Option<(ProxyConfig, Vec<String>)> {
    let proxy = Proxy::new(ctx, workload, ProxyType::Sidecar);
    let (mut listeners, routes) = sidecar_listeners(ctx, &proxy, scope, focus, reused)?;
    let names = telemetry::WorkloadNames::of(&proxy);
    listeners.iter_mut().for_each(|l| names.mask(l));
    let half = Half {
        listeners,
        routes,
        ..Half::default()
    };
    Some(half.into_part(proxy))
}

/// The outbound clusters and endpoints of a sidecar that [`splits`]: the
/// same for every sidecar with the same [`ViewReads::clusters_key`], across
/// namespaces. Its scope is built once; then it generates the resources of
/// any of its services: a service's clusters read nothing of the others',
/// so they are a function of its line of the key alone (see
/// [`clusters_key_services`]).
pub struct ClustersPart<'a> {
    ctx: Context<'a>,
    proxy: Proxy,
    scope: scope::SidecarScope<'a>,
}

impl<'a> ClustersPart<'a> {
    pub fn new(ctx: Context<'a>, workload: usize) -> ClustersPart<'a> {
        let proxy = Proxy::new(&ctx, workload, ProxyType::Sidecar);
        let scope = scope::build(&ctx, &proxy);
        ClustersPart { ctx, proxy, scope }
    }

    /// The part (with `keep`, only the clusters and endpoints of the
    /// services it keeps by host, and those of no service: the blackhole
    /// and passthrough clusters) and the secret names it references.
    pub fn generate(&self, keep: Option<&dyn Fn(&str) -> bool>) -> (ProxyConfig, Vec<String>) {
        let kept: Vec<scope::ScopedService>;
        let services = match keep {
            Some(keep) => {
                kept = self.kept(keep);
                &kept
            }
            None => &self.scope.cds_services,
        };
        let (clusters, endpoints) = outbound_clusters(&self.ctx, &self.proxy, services);
        let half = Half {
            clusters,
            endpoints,
            ..Half::default()
        };
        half.into_part(self.proxy.clone())
    }

    /// The ClusterLoadAssignments alone of the services it keeps by host,
    /// whose clusters must all be EDS clusters ([`reads_endpoints`] false
    /// of their lines).
    pub fn load_assignments(&self, keep: &dyn Fn(&str) -> bool) -> Vec<Value> {
        clusters::service_load_assignments(&self.ctx, &self.proxy, &self.kept(keep))
    }

    fn kept(&self, keep: &dyn Fn(&str) -> bool) -> Vec<scope::ScopedService<'a>> {
        (self.scope.cds_services.iter())
            .filter(|s| keep(&s.service.hostname))
            .cloned()
            .collect()
    }
}

/// What a sidecar's view reads, for `diff` to tell which parts to share and
/// which to regenerate.
pub struct ViewReads {
    /// What [`ClustersPart`] reads, written out: the services it sees with
    /// their ports, the DestinationRule that applies to each (by name) and
    /// what their clusters read of their endpoints
    /// ([`clusters::endpoint_reads`]), whether it has only IPv6 addresses,
    /// and its node when a service keeps traffic on the node. The
    /// namespace is not in it: sidecars of namespaces that see the same
    /// services under the same rules share their clusters.
    pub clusters_key: String,
    /// The hosts whose services, VirtualServices and DestinationRules the
    /// outbound parts read: what it sees and what its VirtualServices
    /// route to, sorted. Views sharing a scope share the list.
    pub hosts: Arc<Vec<String>>,
}

/// The scope of the sidecar `workload`: what its outbound and clusters
/// parts are generated from, and what [`view_reads`] reads.
pub fn view_scope<'a>(ctx: &Context<'a>, workload: usize) -> scope::SidecarScope<'a> {
    scope::build(ctx, &Proxy::new(ctx, workload, ProxyType::Sidecar))
}

/// Views' scopes ([`view_scope`]), built once for all the sidecars no
/// Sidecar resource selects when those see the same scope in every
/// namespace ([`scope::same_in_every_namespace`]): a large mesh's
/// namespaces without a Sidecar each built one of every service.
/// Their reads ([`ViewScopes::reads`]) are written once too, but for the
/// services whose DestinationRule may depend on the namespace.
pub struct ViewScopes<'c, 'a> {
    ctx: &'c Context<'a>,
    alike: bool,
    /// Held once, not copied per view: a scope of a large mesh holds every
    /// service (hundreds of MiB over its namespaces).
    shared: std::sync::OnceLock<Arc<scope::SidecarScope<'a>>>,
    lines: std::sync::OnceLock<SharedLines<'a>>,
    /// The shared scope's hosts ([`ViewReads::hosts`]).
    hosts: std::sync::OnceLock<Arc<Vec<String>>>,
}

/// The shared scope's service lines, written for the first view to ask.
struct SharedLines<'a> {
    /// The namespace of the view they were written for.
    namespace: String,
    text: String,
    /// Each service's line in `text`, in the scope's order.
    at: Vec<std::ops::Range<usize>>,
    /// Each service's index, by hostname (one service per hostname).
    index: foldhash::HashMap<&'a str, usize>,
    /// The services whose rule is found in other namespaces' rules that
    /// are not exported to all: written for each view.
    each: Vec<bool>,
}

impl<'c, 'a> ViewScopes<'c, 'a> {
    pub fn new(ctx: &'c Context<'a>) -> Self {
        ViewScopes {
            ctx,
            alike: scope::same_in_every_namespace(ctx),
            shared: std::sync::OnceLock::new(),
            lines: std::sync::OnceLock::new(),
            hosts: std::sync::OnceLock::new(),
        }
    }

    /// Whether the sidecar `proxy` has the shared scope.
    fn shares(&self, proxy: &Proxy) -> bool {
        let sidecars = &self.ctx.config.sidecars;
        self.alike
            && sidecars
                .for_proxy(&proxy.namespace, &proxy.labels)
                .is_none()
    }

    pub fn of(&self, workload: usize) -> Arc<scope::SidecarScope<'a>> {
        let proxy = Proxy::new(self.ctx, workload, ProxyType::Sidecar);
        if self.shares(&proxy) {
            let shared = self
                .shared
                .get_or_init(|| Arc::new(scope::build(self.ctx, &proxy)));
            return Arc::clone(shared);
        }
        Arc::new(scope::build(self.ctx, &proxy))
    }

    /// [`view_reads`] of the sidecar `workload` with the scope [`Self::of`]
    /// gave it. In the shared scope a service's line differs from one
    /// namespace to another only where a rule of either namespace names
    /// its host, or a rule found elsewhere is not exported to all
    /// ([`DestinationRules::for_proxy`]): the other lines are copied.
    ///
    /// [`DestinationRules::for_proxy`]: crate::registry::config::destination_rules::DestinationRules::for_proxy
    pub fn reads(&self, workload: usize, scope: &scope::SidecarScope<'a>) -> ViewReads {
        let ctx = self.ctx;
        let proxy = Proxy::new(ctx, workload, ProxyType::Sidecar);
        if !self.shares(&proxy) {
            return view_reads(ctx, workload, scope);
        }
        let rules = &ctx.config.destination_rules;
        let shared = self.lines.get_or_init(|| {
            let mut text = String::new();
            let mut at = Vec::with_capacity(scope.cds_services.len());
            let mut index: foldhash::HashMap<&'a str, usize> = Default::default();
            let mut each = Vec::with_capacity(scope.cds_services.len());
            for (i, s) in scope.cds_services.iter().enumerate() {
                let start = text.len();
                push_service_reads(&mut text, ctx, &proxy, s);
                at.push(start..text.len());
                index.insert(s.service.hostname.as_str(), i);
                each.push(!rules.found_alike_elsewhere(&s.service.hostname, &s.service.namespace));
            }
            SharedLines {
                namespace: proxy.namespace.clone(),
                text,
                at,
                index,
                each,
            }
        });
        let hosts = Arc::clone(self.hosts.get_or_init(|| Arc::new(view_hosts(scope))));
        let (Some(own), Some(first)) = (
            rules.local_hosts(&proxy.namespace),
            rules.local_hosts(&shared.namespace),
        ) else {
            return ViewReads {
                clusters_key: clusters_key(ctx, &proxy, scope),
                hosts,
            };
        };
        let mut fresh = shared.each.clone();
        for host in own.into_iter().chain(first) {
            if let Some(&i) = shared.index.get(host) {
                fresh[i] = true;
            }
        }
        let mut key = reads_general(&proxy, scope);
        key.reserve(shared.text.len());
        for (i, s) in scope.cds_services.iter().enumerate() {
            if fresh[i] {
                push_service_reads(&mut key, ctx, &proxy, s);
            } else {
                key.push_str(&shared.text[shared.at[i].clone()]);
            }
        }
        ViewReads {
            clusters_key: key,
            hosts,
        }
    }
}

/// What the view of the sidecar `workload`, whose scope is `scope`, reads.
pub fn view_reads(ctx: &Context, workload: usize, scope: &scope::SidecarScope) -> ViewReads {
    let proxy = Proxy::new(ctx, workload, ProxyType::Sidecar);
    ViewReads {
        clusters_key: clusters_key(ctx, &proxy, scope),
        hosts: Arc::new(view_hosts(scope)),
    }
}

/// [`ViewReads::clusters_key`], every line written.
fn clusters_key(ctx: &Context, proxy: &Proxy, scope: &scope::SidecarScope) -> String {
    let mut key = reads_general(proxy, scope);
    for s in &scope.cds_services {
        push_service_reads(&mut key, ctx, proxy, s);
    }
    key
}

/// The first line of a clusters key: what every cluster reads of the proxy.
fn reads_general(proxy: &Proxy, scope: &scope::SidecarScope) -> String {
    let v6_only = proxy.ips.iter().all(|ip| ip.is_ipv6());
    let node_local = scope.cds_services.iter().any(|s| s.service.node_local);
    format!("{v6_only} {:?}", node_local.then_some(&proxy.node))
}

/// A service's line of a clusters key: its ports and the DestinationRule
/// that applies to it for `proxy`.
fn push_service_reads(key: &mut String, ctx: &Context, proxy: &Proxy, s: &scope::ScopedService) {
    use std::fmt::Write;
    let svc = s.service;
    let rule = clusters::destination_rule(ctx, proxy, svc);
    key.push('\n');
    key.push_str(&svc.namespace);
    key.push('/');
    key.push_str(&svc.hostname);
    // Every field, written short: thousands of lines per view, so
    // without the formatter where it can be (the same text).
    for Port {
        name,
        port,
        protocol,
        target_port,
    } in s.ports.iter()
    {
        key.push(' ');
        push_debug_str(key, name);
        let _ = write!(key, ":{port}:{protocol:?}:{target_port:?}");
    }
    if let Some(r) = rule {
        for m in &r.metas {
            key.push(' ');
            key.push_str(&m.namespace);
            key.push('/');
            key.push_str(&m.name);
        }
    }
    // Last, what its clusters read of its endpoints ([`reads_endpoints`]).
    match clusters::endpoint_reads(ctx, svc, rule) {
        Some(accounts) => {
            key.push_str(" accounts:");
            for (i, a) in accounts.iter().enumerate() {
                key.push_str(if i == 0 { "" } else { "," });
                key.push_str(a);
            }
        }
        None => key.push_str(ENDPOINTS_READ),
    }
}

/// How a service's line ends when its clusters read its endpoints
/// themselves, not only their service accounts
/// ([`clusters::endpoint_reads`]).
const ENDPOINTS_READ: &str = " endpoints";

/// Whether the clusters of the service whose line of a clusters key is
/// `line` read its endpoints themselves: then endpoints that change may
/// change them.
pub fn reads_endpoints(line: &str) -> bool {
    line.ends_with(ENDPOINTS_READ)
}

/// The hosts a view's outbound parts read ([`ViewReads::hosts`]).
fn view_hosts(scope: &scope::SidecarScope) -> Vec<String> {
    let mut hosts: Vec<Cow<str>> = scope
        .cds_services
        .iter()
        .map(|s| Cow::Borrowed(s.service.hostname.as_str()))
        .collect();
    // The egress listeners' services are among the clusters' (one per
    // host); their VirtualServices' hosts mostly name those again.
    for l in &scope.egress {
        for vs in &l.virtual_services {
            let ns = &vs.meta.namespace;
            hosts.extend(vs.spec.hosts.iter().map(|h| resolved_short_name(h, ns)));
        }
    }
    // Each host once before it is copied.
    hosts.sort_unstable();
    hosts.dedup();
    hosts.into_iter().map(Cow::into_owned).collect()
}

/// What the virtual hosts of each host `focus` touches read in the view of
/// the sidecar `workload` ([`rds::host_reads`]).
pub fn view_host_reads(
    ctx: &Context,
    workload: usize,
    scope: &scope::SidecarScope,
    focus: &focus::Focus,
) -> Vec<(String, Option<String>)> {
    let proxy = Proxy::new(ctx, workload, ProxyType::Sidecar);
    rds::host_reads(ctx, &proxy, scope, focus)
}

/// `{name:?}` of a name, without the formatter when nothing in it is
/// escaped (port names, thousands per view).
fn push_debug_str(out: &mut String, name: &str) {
    use std::fmt::Write;
    if name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/'))
    {
        out.push('"');
        out.push_str(name);
        out.push('"');
    } else {
        let _ = write!(out, "{name:?}");
    }
}

/// A [`ViewReads::clusters_key`] (after any prefix on its first line) split
/// in what it reads in general (its first line) and each service's line, by
/// host: a service's clusters are a function of the two.
pub fn clusters_key_services(key: &str) -> (&str, impl Iterator<Item = (&str, &str)>) {
    let mut lines = key.split('\n');
    let general = lines.next().unwrap_or_default();
    // A service's line: `namespace/hostname ...`.
    fn host(line: &str) -> &str {
        let rest = line.split_once('/').map_or(line, |(_, r)| r);
        rest.split(' ').next().unwrap_or(rest)
    }
    (general, lines.map(|l| (host(l), l)))
}

/// The hosts of the services a sidecar's inbound part serves.
pub fn inbound_hosts(ctx: &Context, workload: usize) -> Vec<String> {
    let proxy = Proxy::new(ctx, workload, ProxyType::Sidecar);
    inbound::service_targets(ctx, &proxy)
        .iter()
        .map(|t| t.service.hostname.clone())
        .collect()
}

/// The inbound half of a sidecar that [`splits`], `virtualInbound` included.
pub fn inbound_part(ctx: &Context, workload: usize) -> (ProxyConfig, Vec<String>) {
    let proxy = Proxy::new(ctx, workload, ProxyType::Sidecar);
    let (mut half, virtual_inbound) = inbound_half(ctx, &proxy);
    half.listeners.splice(0..0, virtual_inbound);
    half.into_part(proxy)
}

/// The rest of a sidecar that [`splits`]: its static resources and the
/// secrets `sds` (the names the other parts reference).
pub fn own_part(ctx: &Context, workload: usize, sds: &[String]) -> ProxyConfig {
    let proxy = Proxy::new(ctx, workload, ProxyType::Sidecar);
    // The names come from the other parts: this one holds no TLS context.
    let (graph, _) = graph_of(true, Half::default(), |_| {
        secrets::secrets(
            &ctx.config.credentials,
            &proxy,
            ctx.mesh.mesh_config.trust_domain(),
            sds,
            &Default::default(),
        )
    });
    ProxyConfig {
        proxy,
        graph,
        extension_configs: Vec::new(),
        warnings: Vec::new(),
    }
}

/// The graph of `half`, with the bootstrap's static listeners and clusters
/// when `with_static`, and the secrets `secrets` makes of the SDS names
/// its chains and clusters reference; with those names.
fn graph_of(
    with_static: bool,
    half: Half,
    secrets: impl FnOnce(&[String]) -> Vec<Value>,
) -> (graph::ConfigGraph, Vec<String>) {
    use graph::Origin;
    let mut g = graph::ConfigGraph::default();
    if with_static {
        for l in bootstrap::static_listeners() {
            g.add_listener(l, Origin::Static);
        }
    }
    for l in half.listeners {
        g.add_listener(l, Origin::Dynamic);
    }
    for rc in half.routes {
        g.add_route_config(rc, Origin::Dynamic);
    }
    if with_static {
        for c in bootstrap::static_clusters() {
            g.add_cluster(c, Origin::Static);
        }
    }
    for c in half.clusters {
        g.add_cluster(c, Origin::Dynamic);
    }
    for e in half.endpoints {
        g.add_endpoints(e);
    }
    g.link();
    let names = g.add_secrets(secrets);
    (g, names)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_written_as_debug_writes_them() {
        for name in [
            "http",
            "grpc-api",
            "a.b_c/d",
            "",
            "has space",
            "q\"uote",
            "tab\t",
            "ü",
        ] {
            let mut out = String::new();
            super::push_debug_str(&mut out, name);
            assert_eq!(out, format!("{name:?}"));
        }
    }
}
