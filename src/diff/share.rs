//! Class the proxies of a session by equal generation inputs, so each
//! configuration part is generated once.
//!
//! A sidecar's configuration splits in four parts (unless EnvoyFilters
//! patch it, which may reach across them; gateways stay whole):
//!
//! - **outbound** (listeners and routes of what it sees): a function of
//!   its namespace, the Sidecar and the label-selecting configuration that
//!   picks it ([`OutboundSelectors`]), its metadata, proxy configuration,
//!   interception and locality, and of the tracing values naming the
//!   workload, which are generated as placeholders and put back per proxy
//!   ([`WorkloadNames`]). Every sidecar of a namespace usually shares one.
//! - **clusters** (outbound clusters and endpoints): a function of exactly
//!   what cluster generation reads ([`generate::ViewReads`]: the
//!   services seen, their ports and the DestinationRule each gets), so
//!   shared across namespaces that see the same mesh. It is most of the
//!   configuration.
//! - **inbound** (`virtualInbound`, inbound clusters): per workload.
//! - **own** (static resources, secrets): per workload, from the secret
//!   names the other parts reference.
//!
//! Replicas of one workload share everything: generation reads a proxy's
//! own IP and node only in a few places (listeners of headless services it
//! is an endpoint of, Sidecar ingress binds, capture-less bound listeners,
//! node-local services); the keys below hold them only where they matter.
//!
//! [`OutboundSelectors`]: crate::registry::config::OutboundSelectors
//! [`WorkloadNames`]: crate::xds::generate::telemetry::WorkloadNames

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::registry::ProxyType;
use crate::registry::catalog::Resolution;
use crate::registry::config::OutboundSelectors;
use crate::registry::config::attachment::GATEWAY_NAME_LABEL;
use crate::session::Session;
use crate::xds::generate::focus::Focus;
use crate::xds::generate::inbound::service_targets;
use crate::xds::generate::scope::SidecarScope;
use crate::xds::generate::telemetry::WorkloadNames;
use crate::xds::generate::{self, ClustersPart, Interception, Proxy};

use super::resources::{ResourceType, Resources};

/// What part of a proxy's configuration a part holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartKind {
    /// All of it.
    Whole,
    /// Outbound listeners and routes.
    Outbound,
    /// Outbound clusters and endpoints.
    Clusters,
    Inbound,
    Own,
}

impl PartKind {
    /// What the proxy sees, as opposed to what it is.
    pub fn is_outbound(self) -> bool {
        matches!(self, PartKind::Outbound | PartKind::Clusters)
    }

    /// The resource types a part of this kind can hold changes of.
    pub fn types(self) -> &'static [ResourceType] {
        use ResourceType::{Cluster, Endpoint, Listener, Route, Secret};
        match self {
            PartKind::Whole => &ResourceType::ALL,
            PartKind::Outbound => &[Listener, Route],
            PartKind::Clusters => &[Cluster, Endpoint],
            PartKind::Inbound => &[Listener, Route, Cluster, Endpoint],
            // Besides its secrets, the bootstrap's static listeners and
            // clusters, the same for every proxy.
            PartKind::Own => &[Secret],
        }
    }
}

/// A proxy of one side.
#[derive(Debug, Clone)]
pub struct ProxyEntry {
    pub id: String,
    pub namespace: String,
    pub kind: ProxyType,
    /// The parts its configuration is made of (indices into its side's
    /// parts): proxies sharing a part have the same resources in it.
    pub parts: Vec<usize>,
    /// Its own tracing values, which its parts hold as placeholders.
    pub names: Option<WorkloadNames>,
}

/// One side of a comparison: its proxies, and each part's resources on
/// demand (so a large mesh never holds every configuration at once).
pub trait Side: Sync {
    /// By proxy id (`name.namespace`).
    fn proxies(&self) -> &BTreeMap<String, ProxyEntry>;
    fn part_kind(&self, part: usize) -> PartKind;
    /// What the part was generated from, comparable with the other side's
    /// (None: unknown).
    fn part_key(&self, part: usize) -> Option<&str>;
    /// The hosts whose objects the part reads (outbound and inbound parts).
    fn part_hosts(&self, part: usize) -> PartHosts<'_>;
    /// The secret names the part references, once it has been generated
    /// whole (an outbound part's focus holds all of them: none).
    fn part_sds(&self, part: usize) -> Option<Vec<String>>;
    /// The resources of a part, or why there are none.
    fn resources(&self, part: usize) -> Result<Resources, String>;
    /// What of an outbound part the hosts `focus` touches give, less the
    /// virtual hosts of those `reused` names (see
    /// [`generate::outbound_part`]); None when that cannot be generated
    /// apart.
    fn focused(
        &self,
        _part: usize,
        _focus: &Focus,
        _reused: &(dyn Fn(&str) -> bool + Sync),
    ) -> Option<Resources> {
        None
    }
    /// An outbound part's host lines ([`Classes::read_hosts`]): each host
    /// the focus touches with the line of what its virtual hosts read, in
    /// host order; no line for a host whose virtual hosts read more. None
    /// when not read.
    fn host_lines(&self, _part: usize) -> Option<&[(String, Option<u32>)]> {
        None
    }
    /// A clusters part's key split by service
    /// ([`generate::clusters_key_services`]): what it reads in general, and
    /// each service's line by host. None for other parts.
    fn service_lines(&self, _part: usize) -> Option<(&str, Vec<(&str, &str)>)> {
        None
    }
    /// A clusters part, to generate service by service. None for other
    /// parts.
    fn by_service(&self, _part: usize) -> Option<ClustersPart<'_>> {
        None
    }
    /// A comparison holding the part was skipped: what was kept to
    /// generate it can go (it is built again should another need it).
    fn skipped(&self, _part: usize) {}
}

/// The hosts a part reads.
#[derive(Debug, Default)]
pub struct PartHosts<'a> {
    /// Hosts whose services, VirtualServices and DestinationRules it reads
    /// (a view's list is borrowed: it holds every service of the mesh).
    pub config: Cow<'a, [String]>,
    /// Hosts whose endpoints it reads too.
    pub endpoints: Cow<'a, [String]>,
    /// Whether it reads the cluster settings of `config` (DestinationRules'
    /// policies, the servers' mTLS modes), not only what listeners and
    /// routes read of them.
    pub clusters: bool,
}

/// A part to generate: its kind and a workload it is generated for.
#[derive(Debug, Clone)]
struct Part {
    kind: PartKind,
    workload: usize,
    /// For an own part: its proxy's other parts.
    others: Vec<usize>,
    /// Its key written out.
    key: String,
    /// For an outbound part: its key with the namespace left out, what
    /// every virtual host of its view reads of the proxy.
    general: String,
    /// For an outbound or clusters part: its view (index into
    /// [`Classes::scopes`]) and the hosts that reads (into
    /// [`Classes::hosts`]).
    view: Option<(usize, usize)>,
}

/// The proxies of a session, and the parts they share.
pub struct Classes<'s> {
    session: &'s Session,
    proxies: BTreeMap<String, ProxyEntry>,
    parts: Vec<Part>,
    /// Each view's scope, built for what it reads, until its outbound part
    /// takes it.
    scopes: Vec<Mutex<Option<Arc<SidecarScope<'s>>>>>,
    /// The distinct lists of hosts views read.
    hosts: Vec<Arc<Vec<String>>>,
    /// Secret names each generated part references, for the own parts.
    sds: Mutex<HashMap<usize, Vec<String>>>,
    /// Outbound parts' host lines, by part ([`Classes::read_hosts`]).
    host_lines: HashMap<usize, Vec<(String, Option<u32>)>>,
}

impl<'s> Classes<'s> {
    /// How many parts are generated for all the proxies.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Call `each` with every proxy and its resources (the union of its
    /// parts), in the order of their parts, so a part shared by
    /// consecutive proxies is generated once.
    pub fn each_proxy<E>(
        &self,
        mut each: impl FnMut(&ProxyEntry, &Result<Resources, String>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut order: Vec<&ProxyEntry> = self.proxies.values().collect();
        order.sort_by(|x, y| x.parts.cmp(&y.parts));
        let mut last: Vec<(usize, Result<Resources, String>)> = Vec::new();
        for p in order {
            let mut whole = Ok(Resources::default());
            for (slot, &part) in p.parts.iter().enumerate() {
                if last.get(slot).is_none_or(|(x, _)| *x != part) {
                    last.truncate(slot);
                    last.push((part, self.resources(part)));
                }
                match (&mut whole, &last[slot].1) {
                    (Ok(w), Ok(r)) => w.0.extend(r.0.iter().map(|(k, v)| (k.clone(), v.clone()))),
                    (w, Err(e)) => *w = Err(e.clone()),
                    (Err(_), Ok(_)) => {}
                }
            }
            if let (Ok(w), Some(names)) = (&mut whole, &p.names) {
                w.unmask(names);
            }
            each(p, &whole)?;
        }
        Ok(())
    }

    /// The secret names the part `part` references, generating it when it
    /// has not been.
    fn sds_of(&self, part: usize) -> Vec<String> {
        if let Some(names) = self.lock().get(&part) {
            return names.clone();
        }
        let _ = self.resources(part);
        self.lock().get(&part).cloned().unwrap_or_default()
    }

    /// Read each outbound part's host lines for `focus`
    /// ([`Side::host_lines`]): what the virtual hosts of each host it
    /// touches read in the part's view ([`generate::view_host_reads`])
    /// after what they read of the proxy, each line numbered (equal lines,
    /// equal numbers). Two views of this side with equal lines for a host
    /// give it the same virtual hosts, whatever their namespaces.
    pub fn read_hosts(&mut self, focus: &Focus) {
        let parts: Vec<(usize, usize)> = (self.parts.iter().enumerate())
            .filter(|(_, p)| p.kind == PartKind::Outbound)
            .filter_map(|(i, p)| Some((i, p.view?.0)))
            .collect();
        let ctx = self.session.context();
        let read = crate::parallel::map(&parts, |&(part, view)| {
            let workload = self.parts[part].workload;
            let held = self.scopes[view]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match held.as_ref() {
                Some(scope) => generate::view_host_reads(&ctx, workload, scope, focus),
                None => {
                    let scope = generate::view_scope(&ctx, workload);
                    generate::view_host_reads(&ctx, workload, &scope, focus)
                }
            }
        });
        // Lines are numbered by their part's general text and their own.
        let mut generals: HashMap<&str, u32> = HashMap::new();
        let mut numbers: HashMap<(u32, String), u32> = HashMap::new();
        for ((part, _), reads) in parts.into_iter().zip(read) {
            let next = generals.len() as u32;
            let general = *generals.entry(&self.parts[part].general).or_insert(next);
            let lines = reads
                .into_iter()
                .map(|(host, line)| {
                    let number = line.map(|l| {
                        let next = numbers.len() as u32;
                        *numbers.entry((general, l)).or_insert(next)
                    });
                    (host, number)
                })
                .collect();
            self.host_lines.insert(part, lines);
        }
    }

    /// The scope of an outbound part's view: the one classing built, taken
    /// (a view's outbound part is generated once, and outbound parts come
    /// before the larger clusters parts, which build their own: 400 MiB
    /// of scopes at 10,000 services cost more in page faults than building
    /// them again saved), or built again.
    fn outbound_scope(&self, part: usize) -> Arc<SidecarScope<'s>> {
        self.take_scope(part).unwrap_or_else(|| {
            Arc::new(generate::view_scope(
                &self.session.context(),
                self.parts[part].workload,
            ))
        })
    }

    /// The scope classing built for an outbound part's view, if still held.
    fn take_scope(&self, part: usize) -> Option<Arc<SidecarScope<'s>>> {
        let Part { kind, view, .. } = self.parts[part];
        let (v, _) = view.filter(|_| kind == PartKind::Outbound)?;
        self.scopes[v]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Vec<String>>> {
        self.sds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<'s> Side for Classes<'s> {
    fn proxies(&self) -> &BTreeMap<String, ProxyEntry> {
        &self.proxies
    }

    fn part_kind(&self, part: usize) -> PartKind {
        self.parts[part].kind
    }

    fn part_key(&self, part: usize) -> Option<&str> {
        Some(&self.parts[part].key)
    }

    fn part_hosts(&self, part: usize) -> PartHosts<'_> {
        let Part {
            kind,
            workload,
            view,
            ..
        } = self.parts[part];
        let ctx = self.session.context();
        let view: &[String] = view.map_or(&[], |(_, h)| self.hosts[h].as_slice());
        match kind {
            PartKind::Clusters => PartHosts {
                config: Cow::Borrowed(view),
                endpoints: Cow::Borrowed(view),
                clusters: true,
            },
            PartKind::Outbound => {
                // Listeners read the endpoints of headless services only.
                let endpoints = view
                    .iter()
                    .filter(|h| {
                        ctx.catalog
                            .with_host(h)
                            .any(|(_, s)| s.resolution == Resolution::Passthrough)
                    })
                    .cloned()
                    .collect();
                PartHosts {
                    config: Cow::Borrowed(view),
                    endpoints: Cow::Owned(endpoints),
                    clusters: false,
                }
            }
            // The endpoints it reads decide its targets: in its key. Its
            // mTLS mode comes from the policies that select it, not from
            // its services' hosts.
            PartKind::Inbound => PartHosts {
                config: Cow::Owned(generate::inbound_hosts(&ctx, workload)),
                endpoints: Cow::default(),
                clusters: false,
            },
            PartKind::Whole | PartKind::Own => PartHosts::default(),
        }
    }

    fn part_sds(&self, part: usize) -> Option<Vec<String>> {
        self.lock().get(&part).cloned()
    }

    fn resources(&self, part: usize) -> Result<Resources, String> {
        let Part {
            kind,
            workload,
            ref others,
            ..
        } = self.parts[part];
        let ctx = self.session.context();
        let (config, sds) = match kind {
            PartKind::Whole => return self.session.generate(workload).map(Resources::from_config),
            PartKind::Outbound => {
                generate::outbound_part(&ctx, workload, &self.outbound_scope(part), None, &|_| {
                    false
                })
                .expect("without a focus the whole part is generated")
            }
            PartKind::Clusters => {
                ClustersPart::new(self.session.context(), workload).generate(None)
            }
            PartKind::Inbound => generate::inbound_part(&ctx, workload),
            PartKind::Own => {
                let names: BTreeSet<String> = others.iter().flat_map(|&p| self.sds_of(p)).collect();
                let names: Vec<String> = names.into_iter().collect();
                (generate::own_part(&ctx, workload, &names), Vec::new())
            }
        };
        if kind != PartKind::Own {
            self.lock().insert(part, sds);
        }
        Ok(Resources::from_config(config))
    }

    fn focused(
        &self,
        part: usize,
        focus: &Focus,
        reused: &(dyn Fn(&str) -> bool + Sync),
    ) -> Option<Resources> {
        let Part { kind, workload, .. } = self.parts[part];
        if kind != PartKind::Outbound {
            return None;
        }
        let ctx = self.session.context();
        // A sidecar's outbound listeners and routes hold no TLS context:
        // the secret names (none) are the whole part's.
        let scope = self.outbound_scope(part);
        let (config, sds) = generate::outbound_part(&ctx, workload, &scope, Some(focus), reused)?;
        self.lock().insert(part, sds);
        Some(Resources::from_config(config))
    }

    fn host_lines(&self, part: usize) -> Option<&[(String, Option<u32>)]> {
        self.host_lines.get(&part).map(Vec::as_slice)
    }

    fn service_lines(&self, part: usize) -> Option<(&str, Vec<(&str, &str)>)> {
        let Part { kind, ref key, .. } = self.parts[part];
        (kind == PartKind::Clusters).then(|| {
            let (general, lines) = generate::clusters_key_services(key);
            (general, lines.collect())
        })
    }

    fn by_service(&self, part: usize) -> Option<ClustersPart<'_>> {
        let Part { kind, workload, .. } = self.parts[part];
        (kind == PartKind::Clusters).then(|| ClustersPart::new(self.session.context(), workload))
    }

    /// A skipped view's scope would otherwise stay through every
    /// comparison after (hundreds of MiB in a large mesh with a small
    /// change).
    fn skipped(&self, part: usize) {
        drop(self.take_scope(part));
    }
}

/// What generation reads from one proxy (see the module comment); the
/// outbound part's key leaves out what only the inbound side reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Key {
    kind: &'static str,
    namespace: String,
    /// The labels (outbound keys leave them out for `selected`).
    labels: Vec<(String, String)>,
    /// The outbound selectors the labels match (outbound keys only).
    selected: Vec<String>,
    service_account: String,
    interception: String,
    metadata: Vec<(String, String)>,
    proxy_config: String,
    locality: String,
    node: Option<String>,
    ip: Option<IpAddr>,
    ipv6: bool,
    targets: Vec<(String, u16, u16)>,
    /// Tracing names the workload (its canonical service falls back to
    /// it).
    workload_name: String,
    /// The Gateway API gateway a pod belongs to (target refs pick it).
    gateway: Option<String>,
    /// What the inbound side reads of its Sidecar (its name and ingress
    /// listeners, when it has some): a Sidecar reaches the outbound parts
    /// only ([`super::attribute::ProxyReach`]).
    sidecar: String,
    /// What a clusters part reads ([`generate::ViewReads`]; only
    /// there), as the first view reading the same: the text is large.
    reads: usize,
}

/// The session-wide facts that decide whether a proxy's IP or node matters.
struct Relevance<'s> {
    /// Addresses of endpoints of headless services and NONE ServiceEntries.
    passthrough_ips: HashSet<String>,
    node_local: bool,
    selectors: OutboundSelectors<'s>,
}

impl<'s> Relevance<'s> {
    fn of(session: &'s Session) -> Relevance<'s> {
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
            selectors: session.config.outbound_selectors(),
        }
    }

    /// The key of the whole configuration.
    fn key(&self, session: &Session, proxy: &Proxy) -> Key {
        let ctx = session.context();
        // Its Sidecar, when that has ingress listeners.
        let ingress = session
            .config
            .sidecars
            .for_proxy(&proxy.namespace, &proxy.labels)
            .filter(|s| !s.spec.ingress.is_empty());
        let ip = proxy.ip();
        let ip_matters = proxy.kind == ProxyType::Router
            || proxy.interception == Interception::None
            || ingress.is_some()
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
            selected: Vec::new(),
            service_account: proxy.service_account.clone(),
            interception: format!("{:?}", proxy.interception),
            metadata: proxy
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            proxy_config: serde_json::to_string(&proxy.config).unwrap_or_default(),
            locality: proxy.locality.clone(),
            node: self.node_local.then(|| proxy.node.clone()).flatten(),
            ip: ip_matters.then_some(ip),
            ipv6: ip.is_ipv6(),
            targets: service_targets(&ctx, proxy)
                .iter()
                .map(|t| (t.service.hostname.clone(), t.port.port, t.target_port))
                .collect(),
            workload_name: proxy.workload_name.clone(),
            gateway: proxy.labels.get(GATEWAY_NAME_LABEL).cloned(),
            sidecar: ingress.map_or_else(String::new, |s| {
                let listeners = serde_json::to_string(&s.spec.ingress).unwrap_or_default();
                format!("{}/{} {listeners}", s.meta.namespace, s.meta.name)
            }),
            reads: 0,
        }
    }

    /// The key of the outbound part, from the whole one's.
    fn outbound_key(&self, proxy: &Proxy, whole: &Key) -> Key {
        Key {
            kind: whole.kind,
            namespace: whole.namespace.clone(),
            labels: Vec::new(),
            selected: self.selectors.matching(&proxy.namespace, &proxy.labels),
            service_account: String::new(),
            interception: whole.interception.clone(),
            metadata: whole.metadata.clone(),
            proxy_config: whole.proxy_config.clone(),
            locality: whole.locality.clone(),
            node: whole.node.clone(),
            ip: whole.ip,
            ipv6: whole.ipv6,
            targets: Vec::new(),
            workload_name: String::new(),
            gateway: whole.gateway.clone(),
            sidecar: String::new(),
            reads: 0,
        }
    }
}

/// Class the proxies `wanted` selects (by id) into shared parts.
pub fn classify<'s>(session: &'s Session, wanted: &dyn Fn(&str) -> bool) -> Classes<'s> {
    let relevance = Relevance::of(session);
    let ctx = session.context();
    let mut out = Classes {
        session,
        proxies: BTreeMap::new(),
        parts: Vec::new(),
        scopes: Vec::new(),
        hosts: Vec::new(),
        sds: Mutex::new(HashMap::new()),
        host_lines: HashMap::new(),
    };
    // Each proxy's keys, on every core.
    let wanted: Vec<(usize, &str, String, ProxyType)> = session
        .mesh
        .proxies()
        .map(|(i, w, kind)| (i, w.namespace.as_str(), w.id(), kind))
        .filter(|(_, _, id, _)| wanted(id))
        .collect();
    let keyed = crate::parallel::map(&wanted, |&(i, _, _, kind)| {
        let proxy = Proxy::new(&ctx, i, kind);
        let key = relevance.key(session, &proxy);
        let outbound = generate::splits(&ctx, &proxy).then(|| relevance.outbound_key(&proxy, &key));
        (key, outbound, WorkloadNames::of(&proxy))
    });
    // Equal outbound keys see the same services under the same rules: what
    // the clusters read is worked out once per view (on every core), and
    // views reading the same share one clusters part.
    // Keys are large: a fast hash.
    let mut views: foldhash::HashMap<&Key, usize> = Default::default();
    let mut first: Vec<usize> = Vec::new();
    for ((i, ..), (_, outbound, _)) in wanted.iter().zip(&keyed) {
        if let Some(k) = outbound {
            views.entry(k).or_insert_with(|| {
                first.push(*i);
                first.len() - 1
            });
        }
    }
    let view_scopes = generate::ViewScopes::new(&ctx);
    let (mut texts, scopes): (Vec<_>, Vec<_>) = crate::parallel::map(&first, |&i| {
        let scope = view_scopes.of(i);
        (view_scopes.reads(i, &scope), scope)
    })
    .into_iter()
    .unzip();
    // Each view's clusters key: the first view reading the same; and its
    // hosts, each distinct list held once.
    // Texts and lists are large: a fast hash.
    let mut first_with: foldhash::HashMap<&str, usize> = Default::default();
    let reads: Vec<usize> = texts
        .iter()
        .enumerate()
        .map(|(v, t)| *first_with.entry(t.clusters_key.as_str()).or_insert(v))
        .collect();
    let mut lists: foldhash::HashMap<&[String], usize> = Default::default();
    let hosts: Vec<usize> = texts
        .iter()
        .map(|t| {
            let next = lists.len();
            *lists.entry(t.hosts.as_slice()).or_insert(next)
        })
        .collect();
    // The first view with each list gives it up (thousands of hosts).
    let mut firsts: Vec<Option<usize>> = vec![None; lists.len()];
    drop(lists);
    for (v, &h) in hosts.iter().enumerate() {
        firsts[h].get_or_insert(v);
    }
    out.hosts = firsts
        .into_iter()
        .map(|v| std::mem::take(&mut texts[v.expect("each list is a view's")].hosts))
        .collect();
    // Parts by kind and key, the keys borrowed from `keyed` (a clusters
    // part's by the view's reads): each key hashed, never copied, and
    // written out once, for the part it first makes.
    let mut ids: foldhash::HashMap<(PartKind, &Key), usize> = Default::default();
    let mut clusters_ids: HashMap<(&str, usize), usize> = HashMap::new();
    let add = |parts: &mut Vec<Part>, kind, key, workload, view: Option<usize>| {
        parts.push(Part {
            kind,
            workload,
            others: Vec::new(),
            key,
            general: String::new(),
            view: view.map(|v| (v, hosts[v])),
        });
        parts.len() - 1
    };
    // A part by a key, the key's `text` written when first needed.
    fn by_key<'k>(
        ids: &mut foldhash::HashMap<(PartKind, &'k Key), usize>,
        (kind, key): (PartKind, &'k Key),
        text: &mut Option<String>,
        add: impl FnOnce(String) -> usize,
    ) -> usize {
        *ids.entry((kind, key))
            .or_insert_with(|| add(text.get_or_insert_with(|| format!("{key:?}")).clone()))
    }
    for ((i, namespace, id, kind), (key, outbound, names)) in wanted.iter().zip(&keyed) {
        let (i, kind) = (*i, *kind);
        // An inbound and an own part have the same key: written once.
        let mut text = None;
        let made = &mut out.parts;
        let parts = if let Some(outbound_key) = outbound {
            let view = views[outbound_key];
            let outbound = by_key(
                &mut ids,
                (PartKind::Outbound, outbound_key),
                &mut None,
                |t| add(made, PartKind::Outbound, t, i, Some(view)),
            );
            if made[outbound].general.is_empty() {
                let general = Key {
                    namespace: String::new(),
                    ..outbound_key.clone()
                };
                made[outbound].general = format!("{general:?}");
            }
            let clusters = *clusters_ids
                .entry((key.kind, reads[view]))
                .or_insert_with(|| {
                    let text = format!("{} {}", key.kind, texts[reads[view]].clusters_key);
                    add(made, PartKind::Clusters, text, i, Some(view))
                });
            let inbound = by_key(&mut ids, (PartKind::Inbound, key), &mut text, |t| {
                add(made, PartKind::Inbound, t, i, None)
            });
            let own = by_key(&mut ids, (PartKind::Own, key), &mut text, |t| {
                add(made, PartKind::Own, t, i, None)
            });
            made[own].others = vec![outbound, clusters, inbound];
            vec![outbound, clusters, inbound, own]
        } else {
            vec![by_key(&mut ids, (PartKind::Whole, key), &mut text, |t| {
                add(made, PartKind::Whole, t, i, None)
            })]
        };
        out.proxies.insert(
            id.clone(),
            ProxyEntry {
                id: id.clone(),
                namespace: namespace.to_string(),
                kind,
                parts,
                names: Some(names.clone()),
            },
        );
    }
    out.scopes = scopes.into_iter().map(|s| Mutex::new(Some(s))).collect();
    out
}
