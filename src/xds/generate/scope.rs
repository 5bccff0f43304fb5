//! The SidecarScope: what one proxy sees (istiod-sidecar.md §3): its Sidecar
//! resource, the services and VirtualServices of each egress listener, the
//! services that get clusters, and the outbound traffic policy.

use std::borrow::Cow;

use super::{Context, Proxy};
use crate::model::istio::Destination;
use crate::registry::ProxyType;
use crate::registry::catalog::{CatalogService, Port, Registry};
use crate::registry::config::virtual_services::MESH_GATEWAY;
use crate::registry::config::{SidecarEntry, VirtualServiceEntry};
use crate::registry::protocol::Protocol;

/// A service as one egress listener (or CDS) sees it: possibly trimmed to
/// some ports.
#[derive(Debug, Clone)]
pub struct ScopedService<'a> {
    pub service: &'a CatalogService,
    /// Borrowed when all of the service's: a scope of a large mesh holds
    /// thousands, most with every port.
    pub ports: Cow<'a, [Port]>,
}

/// What happens to traffic to unknown destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundMode {
    AllowAny,
    RegistryOnly,
}

/// One egress listener of the Sidecar (or the implicit `*/*` one).
#[derive(Debug, Clone)]
pub struct EgressListener<'a> {
    /// The Sidecar's port for this listener; None for the catch-all.
    pub port: Option<EgressPort>,
    pub bind: Option<String>,
    /// `captureMode: NONE`.
    pub capture_none: bool,
    pub services: Vec<ScopedService<'a>>,
    pub virtual_services: Vec<&'a VirtualServiceEntry>,
    /// `virtual_services` by host, for per-service lookups.
    pub vs_hosts: VsHosts<'a>,
}

/// VirtualServices indexed by their hosts: exact hosts by name, wildcard
/// hosts listed (they are few). A scope may hold thousands of services and
/// VirtualServices; each service looks up only its own.
#[derive(Debug, Clone, Default)]
pub struct VsHosts<'a> {
    exact: foldhash::HashMap<&'a str, Vec<usize>>,
    wildcard: Vec<(usize, &'a str)>,
}

impl<'a> VsHosts<'a> {
    pub fn new(vss: &[&'a VirtualServiceEntry]) -> VsHosts<'a> {
        let mut index = VsHosts::default();
        for (i, vs) in vss.iter().enumerate() {
            for h in &vs.spec.hosts {
                if h.starts_with('*') {
                    index.wildcard.push((i, h.as_str()));
                } else {
                    index.exact.entry(h.as_str()).or_default().push(i);
                }
            }
        }
        index
    }

    /// Positions of the VirtualServices with a host covering `host`, in order.
    pub fn covering(&self, host: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self.exact.get(host).cloned().unwrap_or_default();
        out.extend(
            self.wildcard
                .iter()
                .filter(|(_, h)| host_subset(host, h))
                .map(|(i, _)| *i),
        );
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The VirtualService whose host matches `host` most specifically: an
    /// exact host, else the longest wildcard; ties go to the first.
    pub fn most_specific(&self, host: &str) -> Option<usize> {
        if let Some(first) = self.exact.get(host).and_then(|v| v.first()) {
            return Some(*first);
        }
        let mut best: Option<(usize, usize)> = None;
        for &(i, h) in &self.wildcard {
            if host_subset(host, h)
                && best.is_none_or(|(len, at)| h.len() > len || (h.len() == len && i < at))
            {
                best = Some((h.len(), i));
            }
        }
        best.map(|(_, i)| i)
    }
}

#[derive(Debug, Clone)]
pub struct EgressPort {
    pub number: u16,
    pub protocol: Protocol,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct SidecarScope<'a> {
    pub sidecar: Option<&'a SidecarEntry>,
    /// Ported listeners first as written, the catch-all last.
    pub egress: Vec<EgressListener<'a>>,
    /// Services that get outbound clusters: every egress listener's services
    /// plus VirtualService destinations, one per hostname (§3.5, §3.6).
    pub cds_services: Vec<ScopedService<'a>>,
    pub outbound_mode: OutboundMode,
}

/// Build the scope of one proxy.
pub fn build<'a>(ctx: &Context<'a>, proxy: &Proxy) -> SidecarScope<'a> {
    let ns = proxy.namespace.as_str();
    // Gateways ignore Sidecar resources: they see every exported service.
    let sidecar = match proxy.kind {
        ProxyType::Sidecar => ctx.config.sidecars.for_proxy(ns, &proxy.labels),
        ProxyType::Router => None,
    };
    let default_export = default_service_export(ctx);
    // Services visible to the namespace: private first, then public, each in
    // catalog (creation) order (§3.2).
    let visible: Vec<&'a CatalogService> = {
        let all = ctx
            .catalog
            .services
            .iter()
            .filter(|s| s.visible_from(ns, &default_export));
        let (private, public): (Vec<_>, Vec<_>) =
            all.partition(|s| s.private_to(ns, &default_export));
        private.into_iter().chain(public).collect()
    };
    let vs_candidates = ctx
        .config
        .virtual_services
        .for_gateway_visible_to("mesh", ns);

    let default_egress = [EgressSpec {
        port: None,
        bind: None,
        capture_none: false,
        hosts: vec!["*/*".to_string()],
    }];
    let written: Vec<EgressSpec> = sidecar
        .map(|s| {
            s.spec
                .egress
                .iter()
                .map(|e| EgressSpec {
                    port: e.port.as_ref().and_then(|p| {
                        Some(EgressPort {
                            number: u16::try_from(p.number?).ok()?,
                            protocol: Protocol::parse(p.protocol.as_deref().unwrap_or("")),
                            name: p.name.clone().unwrap_or_default(),
                        })
                    }),
                    bind: e.bind.clone().filter(|b| !b.is_empty()),
                    capture_none: e.capture_mode.as_deref() == Some("NONE"),
                    hosts: e.hosts.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let specs: &[EgressSpec] = if written.is_empty() {
        &default_egress
    } else {
        &written
    };
    // Ported listeners first, the catch-all (no port) last.
    let mut ordered: Vec<&EgressSpec> = specs.iter().filter(|e| e.port.is_some()).collect();
    ordered.extend(specs.iter().filter(|e| e.port.is_none()));

    let egress: Vec<EgressListener<'a>> = ordered
        .into_iter()
        .map(|spec| {
            let imports: Vec<Import> = spec.hosts.iter().map(|h| Import::parse(h, ns)).collect();
            let mut services = ByHost::default();
            for s in &visible {
                if !imported(&imports, &s.namespace, &s.hostname, false) {
                    continue;
                }
                let ports: Cow<[Port]> = match &spec.port {
                    Some(p) if p.protocol != Protocol::HttpProxy => s
                        .ports
                        .iter()
                        .filter(|sp| sp.port == p.number)
                        .cloned()
                        .collect(),
                    _ => Cow::Borrowed(&s.ports),
                };
                if ports.is_empty() {
                    continue;
                }
                services.add_one_per_host(ScopedService { service: s, ports }, ns);
            }
            let virtual_services: Vec<&'a VirtualServiceEntry> = vs_candidates
                .iter()
                .copied()
                .filter(|vs| {
                    vs.spec
                        .hosts
                        .iter()
                        .any(|h| imported(&imports, &vs.meta.namespace, h, true))
                })
                .collect();
            EgressListener {
                port: spec.port.clone(),
                bind: spec.bind.clone(),
                capture_none: spec.capture_none,
                services: services.into_vec(),
                vs_hosts: VsHosts::new(&virtual_services),
                virtual_services,
            }
        })
        .collect();

    let mut cds = ByHost::default();
    for l in &egress {
        for s in &l.services {
            cds.merge_for_cds(s.clone());
        }
    }
    // VirtualService destinations get clusters too, without listeners (§3.5).
    // A host is often the destination of several routes (one per subset).
    let mut best: foldhash::HashMap<&str, Option<&'a CatalogService>> = Default::default();
    for l in &egress {
        for vs in &l.virtual_services {
            for (host, port) in destinations(vs) {
                let found = best
                    .entry(host)
                    .or_insert_with(|| best_service(ctx, &default_export, host, ns));
                let Some(s) = *found else {
                    continue;
                };
                let ports: Cow<[Port]> = match port {
                    Some(p) => s.ports.iter().filter(|sp| sp.port == p).cloned().collect(),
                    None => Cow::Borrowed(&s.ports),
                };
                if !ports.is_empty() {
                    cds.merge_for_cds(ScopedService { service: s, ports });
                }
            }
        }
    }

    let mode = sidecar
        .and_then(|s| s.spec.outbound_traffic_policy.as_ref())
        .and_then(|p| p.mode.as_deref())
        .unwrap_or(ctx.mesh.mesh_config.outbound_traffic_policy_mode());
    SidecarScope {
        sidecar,
        egress,
        cds_services: cds.into_vec(),
        outbound_mode: if mode == "REGISTRY_ONLY" {
            OutboundMode::RegistryOnly
        } else {
            OutboundMode::AllowAny
        },
    }
}

/// Whether a sidecar no Sidecar resource selects has the same scope in
/// every namespace: what [`build`] reads of its namespace changes nothing
/// when every service is visible from all namespaces alike, each hostname's
/// services are of one namespace and registry (no preference for the
/// proxy's namespace picks among them), and every mesh VirtualService is
/// listed alike from all. Such views share one build.
pub fn same_in_every_namespace(ctx: &Context) -> bool {
    let default_export = default_service_export(ctx);
    let mut hosts: foldhash::HashMap<&str, (&str, Registry)> = Default::default();
    let services_alike = ctx.catalog.services.iter().all(|s| {
        let first = *hosts
            .entry(s.hostname.as_str())
            .or_insert((s.namespace.as_str(), s.registry));
        s.alike_from_every_namespace(&default_export) && first == (s.namespace.as_str(), s.registry)
    });
    services_alike && (ctx.config.virtual_services).same_from_every_namespace(MESH_GATEWAY)
}

/// MeshConfig `defaultServiceExportTo`, as owned strings.
pub fn default_service_export(ctx: &Context) -> Vec<String> {
    ctx.mesh
        .mesh_config
        .default_service_export_to()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// An egress listener as written (or the implicit one).
struct EgressSpec {
    port: Option<EgressPort>,
    bind: Option<String>,
    capture_none: bool,
    hosts: Vec<String>,
}

/// One `ns/dnsName` import of an egress listener.
struct Import {
    /// `*`, or a namespace (`.` already resolved).
    namespace: String,
    host: String,
    exclude: bool,
}

impl Import {
    fn parse(text: &str, proxy_ns: &str) -> Import {
        let (ns, host) = text.split_once('/').unwrap_or(("*", text));
        let (exclude, ns) = match ns.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, ns),
        };
        let namespace = match ns {
            "." => proxy_ns.to_string(),
            "" => "*".to_string(),
            other => other.to_string(),
        };
        Import {
            namespace,
            host: host.to_string(),
            exclude,
        }
    }
}

/// Does `host` (a service hostname, or a VirtualService host when `both_ways`)
/// of namespace `ns` fall under the imports, exclusions applied?
fn imported(imports: &[Import], ns: &str, host: &str, both_ways: bool) -> bool {
    let applies = |i: &Import| {
        (i.namespace == "*" || i.namespace == ns)
            && (host_subset(host, &i.host) || (both_ways && host_subset(&i.host, host)))
    };
    imports.iter().any(|i| !i.exclude && applies(i))
        && !imports.iter().any(|i| i.exclude && applies(i))
}

/// Is `a` within `b` (wildcards: `*` all, `*.x` any name ending in `.x`)?
pub fn host_subset(a: &str, b: &str) -> bool {
    if b == "*" || a == b {
        return true;
    }
    // `*.x` covers `a.x` and `*.a.x`; an exact name covers only itself.
    b.strip_prefix('*')
        .is_some_and(|suffix| a.ends_with(suffix))
}

/// Services kept in order with an index by hostname: scopes hold every
/// service of a large mesh, and each addition looks its hostname up. The
/// items of one hostname are chained (most hostnames have one item: no
/// list of its own each, a scope holds thousands).
#[derive(Default)]
struct ByHost<'a> {
    items: Vec<Option<ScopedService<'a>>>,
    /// The next item of the same hostname, by item.
    next: Vec<Option<usize>>,
    /// The first item of each hostname.
    index: foldhash::HashMap<&'a str, usize>,
}

impl<'a> ByHost<'a> {
    fn first(&mut self, host: &str) -> Option<&mut ScopedService<'a>> {
        let at = *self.index.get(host)?;
        self.items[at].as_mut()
    }

    fn push(&mut self, s: ScopedService<'a>) {
        let at = self.items.len();
        match self.index.entry(s.service.hostname.as_str()) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let mut last = *first.get();
                while let Some(n) = self.next[last] {
                    last = n;
                }
                self.next[last] = Some(at);
            }
            std::collections::hash_map::Entry::Vacant(none) => {
                none.insert(at);
            }
        }
        self.items.push(Some(s));
        self.next.push(None);
    }

    /// Drop every item of `host`.
    fn remove(&mut self, host: &str) {
        let mut at = self.index.remove(host);
        while let Some(i) = at {
            self.items[i] = None;
            at = self.next[i];
        }
    }

    /// One namespace per hostname for an egress listener: the proxy
    /// namespace's wins, else the first seen, a Kubernetes Service beating
    /// a ServiceEntry (§3.3).
    fn add_one_per_host(&mut self, s: ScopedService<'a>, proxy_ns: &str) {
        let Some(existing) = self.first(&s.service.hostname).map(|e| e.service) else {
            self.push(s);
            return;
        };
        if existing.namespace == s.service.namespace {
            // The per-address copies of one ServiceEntry: the listener side
            // keeps each (one listener per address).
            self.push(s);
            return;
        }
        let replace = existing.namespace != proxy_ns
            && (s.service.namespace == proxy_ns
                || (s.service.registry == Registry::Kubernetes
                    && existing.registry != Registry::Kubernetes));
        if replace {
            self.remove(&s.service.hostname);
            self.push(s);
        }
    }

    /// CDS keeps one service per hostname: first wins, a Kubernetes Service
    /// replaces a ServiceEntry, same-namespace duplicates merge ports (§3.6).
    fn merge_for_cds(&mut self, s: ScopedService<'a>) {
        let Some(o) = self.first(&s.service.hostname) else {
            self.push(s);
            return;
        };
        if s.service.registry == Registry::Kubernetes && o.service.registry != Registry::Kubernetes
        {
            *o = s;
        } else if o.service.namespace == s.service.namespace {
            for p in s.ports.iter() {
                if !o.ports.iter().any(|q| q.port == p.port) {
                    o.ports.to_mut().push(p.clone());
                }
            }
        }
    }

    fn into_vec(self) -> Vec<ScopedService<'a>> {
        self.items.into_iter().flatten().collect()
    }
}

/// Every destination host of a VirtualService with the port it names.
pub fn destinations(vs: &VirtualServiceEntry) -> impl Iterator<Item = (&str, Option<u16>)> {
    let port = |d: &Destination| {
        d.port
            .as_ref()
            .and_then(|p| p.number)
            .and_then(|n| u16::try_from(n).ok())
    };
    // Walked for every VirtualService a view sees: no list built.
    let http = vs.spec.http.iter().flat_map(|h| {
        let routes = h.route.iter().map(|r| &r.destination);
        let mirrors = h
            .mirror
            .iter()
            .chain(h.mirrors.iter().map(|m| &m.destination));
        routes.chain(mirrors)
    });
    let tcp = vs.spec.tcp.iter().flat_map(|t| &t.route);
    let tls = vs.spec.tls.iter().flat_map(|t| &t.route);
    http.chain(tcp.map(|r| &r.destination))
        .chain(tls.map(|r| &r.destination))
        .map(move |d| (d.host.as_str(), port(d)))
}

/// The service a destination host means: the proxy namespace's, else a
/// visible Kubernetes Service, else the oldest visible one.
pub fn best_service<'a>(
    ctx: &Context<'a>,
    default_export: &[String],
    host: &str,
    proxy_ns: &str,
) -> Option<&'a CatalogService> {
    let (mut first, mut kubernetes) = (None, None);
    for (_, s) in ctx.catalog.with_host(host) {
        if !s.visible_from(proxy_ns, default_export) {
            continue;
        }
        if s.namespace == proxy_ns {
            return Some(s);
        }
        first = first.or(Some(s));
        if s.registry == Registry::Kubernetes {
            kubernetes = kubernetes.or(Some(s));
        }
    }
    kubernetes.or(first)
}

#[cfg(test)]
mod tests {
    use super::{VsHosts, host_subset};
    use crate::registry::catalog::ObjRef;
    use crate::registry::config::{ConfigMeta, VirtualServiceEntry};

    fn vs(hosts: &[&str]) -> VirtualServiceEntry {
        VirtualServiceEntry {
            meta: ConfigMeta {
                name: "vs".into(),
                namespace: "default".into(),
                creation: None,
                source: ObjRef {
                    kind: "VirtualService",
                    namespace: "default".into(),
                    name: "vs".into(),
                },
                internal: Default::default(),
            },
            spec: crate::model::istio::VirtualServiceSpec {
                hosts: hosts.iter().map(|h| h.to_string()).collect(),
                ..Default::default()
            },
            export_to: Vec::new(),
            gateways: Vec::new(),
        }
    }

    #[test]
    fn virtual_services_by_host() {
        let all = [
            vs(&["*.example.com"]),
            vs(&["a.example.com", "b.example.com"]),
            vs(&["*"]),
            vs(&["a.example.com"]),
            vs(&["*.com"]),
        ];
        let refs: Vec<&VirtualServiceEntry> = all.iter().collect();
        let index = VsHosts::new(&refs);
        assert_eq!(index.covering("a.example.com"), [0, 1, 2, 3, 4]);
        assert_eq!(index.covering("c.example.com"), [0, 2, 4]);
        assert_eq!(index.covering("other.org"), [2]);
        // Exact beats wildcard, the first exact wins; else the longest wildcard.
        assert_eq!(index.most_specific("a.example.com"), Some(1));
        assert_eq!(index.most_specific("c.example.com"), Some(0));
        assert_eq!(index.most_specific("x.com"), Some(4));
        assert_eq!(index.most_specific("other.org"), Some(2));
    }

    #[test]
    fn host_matching() {
        assert!(host_subset("a.b.c", "*"));
        assert!(host_subset("a.b.c", "*.b.c"));
        assert!(host_subset("*.x.b.c", "*.b.c"));
        assert!(!host_subset("b.c", "*.b.c"));
        assert!(!host_subset("*.b.c", "a.b.c"));
        assert!(host_subset("a.b.c", "a.b.c"));
    }
}
