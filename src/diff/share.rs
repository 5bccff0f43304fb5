//! Class the proxies of a session by equal generation inputs, so each
//! class is generated once.
//!
//! Replicas of one workload see the same configuration: generation reads a
//! proxy's namespace, labels, service account, metadata, interception,
//! locality, service targets, workload name and effective proxy
//! configuration, and its own IP and node only in a few
//! places (listeners of headless services it is an endpoint of, Sidecar
//! ingress binds, capture-less bound listeners, node-local services). The
//! key below holds exactly those inputs, the IP and node only where they
//! matter, so proxies with equal keys share one generation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use crate::registry::ProxyType;
use crate::registry::catalog::Resolution;
use crate::session::Session;
use crate::xds::generate::inbound::service_targets;
use crate::xds::generate::{Interception, Proxy};

use super::resources::Resources;

/// A proxy of one side.
#[derive(Debug, Clone)]
pub struct ProxyEntry {
    pub id: String,
    pub namespace: String,
    pub kind: ProxyType,
    /// Which configuration it has: proxies of one class have the same.
    pub class: usize,
}

/// One side of a comparison: its proxies, and each class's resources on
/// demand (so a large mesh never holds every configuration at once).
pub trait Side: Sync {
    /// By proxy id (`name.namespace`).
    fn proxies(&self) -> &BTreeMap<String, ProxyEntry>;
    /// The resources of a class, or why it has none (a gateway, before
    /// gateways are generated).
    fn resources(&self, class: usize) -> Result<Resources, String>;
}

/// The proxies of a session, classed by equal generation inputs.
pub struct Classes<'s> {
    session: &'s Session,
    proxies: BTreeMap<String, ProxyEntry>,
    /// A workload of each class, generated for all of them.
    representative: Vec<usize>,
}

impl Classes<'_> {
    pub fn len(&self) -> usize {
        self.representative.len()
    }

    pub fn is_empty(&self) -> bool {
        self.representative.is_empty()
    }

    /// The proxies of each class, in class order.
    pub fn members(&self) -> Vec<Vec<&ProxyEntry>> {
        let mut out = vec![Vec::new(); self.len()];
        for p in self.proxies.values() {
            out[p.class].push(p);
        }
        out
    }
}

impl Side for Classes<'_> {
    fn proxies(&self) -> &BTreeMap<String, ProxyEntry> {
        &self.proxies
    }

    fn resources(&self, class: usize) -> Result<Resources, String> {
        self.session
            .generate(self.representative[class])
            .map(Resources::from_config)
    }
}

/// What generation reads from one proxy (see the module comment).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Key {
    kind: &'static str,
    namespace: String,
    labels: Vec<(String, String)>,
    service_account: String,
    interception: String,
    metadata: Vec<(String, String)>,
    locality: String,
    node: Option<String>,
    ip: Option<IpAddr>,
    ipv6: bool,
    targets: Vec<(String, u16, u16)>,
    /// Tracing tags name the canonical service, which falls back to it.
    workload_name: String,
    /// The effective proxy configuration (tracing sampling and tags).
    proxy_config: String,
}

/// The session-wide facts that decide whether a proxy's IP or node matters.
struct Relevance {
    /// Addresses of endpoints of headless services and NONE ServiceEntries.
    passthrough_ips: HashSet<String>,
    node_local: bool,
}

impl Relevance {
    fn of(session: &Session) -> Relevance {
        let catalog = &session.catalog;
        let passthrough_ips = catalog
            .services
            .iter()
            .filter(|s| s.resolution == Resolution::Passthrough)
            .flat_map(|s| catalog.endpoints_of(s).iter().map(|e| e.address.clone()))
            .collect();
        Relevance {
            passthrough_ips,
            node_local: catalog.services.iter().any(|s| s.node_local),
        }
    }

    fn key(&self, session: &Session, proxy: &Proxy) -> Key {
        let ctx = session.context();
        let sidecar_ingress = session
            .config
            .sidecars
            .for_proxy(&proxy.namespace, &proxy.labels)
            .is_some_and(|s| !s.spec.ingress.is_empty());
        let ip = proxy.ip();
        let ip_matters = proxy.kind == ProxyType::Router
            || proxy.interception == Interception::None
            || sidecar_ingress
            || self.passthrough_ips.contains(&ip.to_string());
        let node_label = "kubernetes.io/hostname";
        Key {
            kind: proxy.kind.as_str(),
            namespace: proxy.namespace.clone(),
            labels: proxy
                .labels
                .iter()
                .filter(|(k, _)| self.node_local || k.as_str() != node_label)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            service_account: proxy.service_account.clone(),
            interception: format!("{:?}", proxy.interception),
            metadata: proxy
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            locality: proxy.locality.clone(),
            node: self.node_local.then(|| proxy.node.clone()).flatten(),
            ip: ip_matters.then_some(ip),
            ipv6: ip.is_ipv6(),
            targets: service_targets(&ctx, proxy)
                .iter()
                .map(|t| (t.service.hostname.clone(), t.port.port, t.target_port))
                .collect(),
            workload_name: proxy.workload_name.clone(),
            proxy_config: serde_json::to_string(&proxy.config).unwrap_or_default(),
        }
    }
}

/// Class the proxies `wanted` selects (by id).
pub fn classify<'s>(session: &'s Session, wanted: &dyn Fn(&str) -> bool) -> Classes<'s> {
    let relevance = Relevance::of(session);
    let mut out = Classes {
        session,
        proxies: BTreeMap::new(),
        representative: Vec::new(),
    };
    let mut class_of: HashMap<Key, usize> = HashMap::new();
    for (i, w, kind) in session.mesh.proxies() {
        let id = w.id();
        if !wanted(&id) {
            continue;
        }
        let proxy = Proxy::new(&session.context(), i, kind);
        let next = out.representative.len();
        let class = *class_of
            .entry(relevance.key(session, &proxy))
            .or_insert(next);
        if class == next {
            out.representative.push(i);
        }
        out.proxies.insert(
            id.clone(),
            ProxyEntry {
                id,
                namespace: w.namespace.clone(),
                kind,
                class,
            },
        );
    }
    out
}
