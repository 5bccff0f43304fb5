//! Which manifest objects caused a change: the objects that differ between
//! the two sides, intersected with what a changed resource depends on.
//!
//! Dependencies are derived here, in one place, from the registry rather
//! than recorded by the builders: each changed object reaches a set of
//! hostnames (the services it defines, routes or configures, the services
//! its workloads are endpoints of) and a set of proxies (the workloads it
//! defines, the proxies a Sidecar or policy applies to). A changed
//! resource mentions hostnames in its name and in the parts that differ
//! (`outbound|9080|v1|reviews...`, vhost `reviews...:9080`). Its causes are
//! the changed objects that reach one of those hosts or the proxy itself;
//! failing that, the changed objects whose reach meshsim does not model
//! (MeshConfig, webhooks, Nodes...); failing that, what caused the proxy's
//! other changes ([`super::compare_sides`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use crate::diag::Span;
use crate::model::{Body, Labels, Object};
use crate::registry::catalog::ObjRef;
use crate::registry::config::selects;
use crate::registry::config::virtual_services::resolve_short_name;
use crate::registry::{DOMAIN_SUFFIX, ProxyType};
use crate::session::Session;
use crate::xds::generate::focus::Focus;
use crate::xds::generate::proxy;
use crate::xds::generate::scope::host_subset;

use super::compare::Mentions;
use super::share::PartHosts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectOp {
    Added,
    Removed,
    Modified,
}

impl ObjectOp {
    pub fn name(self) -> &'static str {
        match self {
            ObjectOp::Added => "added",
            ObjectOp::Removed => "removed",
            ObjectOp::Modified => "modified",
        }
    }
}

/// A manifest object that differs between the two sides.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectChange {
    pub group: &'static str,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub op: ObjectOp,
    pub old: Option<Span>,
    pub new: Option<Span>,
}

impl ObjectChange {
    /// `Kind namespace/name`.
    pub fn describe(&self) -> String {
        crate::model::describe(self.kind, &self.namespace, &self.name)
    }
}

/// What one changed object can affect.
#[derive(Debug, Default)]
struct Reach {
    hosts: BTreeSet<String>,
    /// Proxy ids it defines (workloads) or serves (a Service's endpoints):
    /// their own, inbound side.
    proxies: BTreeSet<String>,
    /// Proxy ids a Sidecar applies to: everything they see.
    scoped: BTreeSet<String>,
    /// Every proxy of these namespaces ("" for all).
    namespaces: BTreeSet<String>,
    /// The own side of every proxy of these namespaces ("" for all).
    own_namespaces: BTreeSet<String>,
    /// meshsim does not model its reach: a cause when nothing else is.
    unmodelled: bool,
    /// It may change proxies beyond the ones it names (a Namespace's
    /// injection label decides which endpoints have sidecars).
    beyond: bool,
    /// It defines workloads or endpoints (Pods and their controllers,
    /// EndpointSlices, WorkloadEntries): what it feeds its own proxies'
    /// generation is in their keys ([`super::share`]), and what it feeds
    /// other proxies is its hosts' endpoints.
    workload: bool,
    /// What it changes of its hosts is their clusters alone, not their
    /// listeners or routes: a DestinationRule no consistent hashing rule
    /// of either side covers (routes read a rule's hash policy, nothing
    /// else), a PeerAuthentication (clients read the servers' mTLS mode).
    clusters_only: bool,
}

/// The changed objects and their reach.
#[derive(Debug, Default)]
pub struct Attribution {
    pub objects: Vec<ObjectChange>,
    reach: Vec<Reach>,
    /// The objects reaching each host.
    by_host: HashMap<String, Vec<usize>>,
    /// The wildcard hosts (`*.example.com`) of `by_host`: every part's
    /// hosts are matched against them.
    wild_hosts: Vec<String>,
    /// The objects reaching what a proxy sees, by proxy id (its Sidecar,
    /// the Gateways of a gateway).
    by_proxy: HashMap<String, Vec<usize>>,
    /// The objects reaching everything of a proxy, by namespace ("" for
    /// all).
    by_namespace: HashMap<String, Vec<usize>>,
    /// The objects reaching a proxy's own side, by proxy id and by
    /// namespace.
    own_by_proxy: HashMap<String, Vec<usize>>,
    own_by_namespace: HashMap<String, Vec<usize>>,
}

/// What [`extend_reach`] looks up on one side, indexed once: a mesh-wide
/// change modifies thousands of pods, and each would otherwise scan every
/// workload and endpoint.
struct SideIndex {
    /// Workloads by the object that defines them.
    workloads_at: HashMap<Span, Vec<usize>>,
    /// The hosts of the services each workload is an endpoint of.
    hosts_of: HashMap<usize, BTreeSet<String>>,
    /// Proxy ids by workload.
    proxy_of: HashMap<usize, String>,
    /// Catalog services by the object that defines them.
    services_from: HashMap<ObjRef, Vec<usize>>,
    /// Proxies (workload indices) by namespace.
    proxies_in: HashMap<String, Vec<usize>>,
    /// The hosts of DestinationRules that hash consistently.
    hashing: Vec<String>,
}

impl SideIndex {
    fn of(side: &Session) -> SideIndex {
        let catalog = &side.catalog;
        let mut out = SideIndex {
            workloads_at: HashMap::new(),
            hosts_of: HashMap::new(),
            proxy_of: side.mesh.proxies().map(|(i, w, _)| (i, w.id())).collect(),
            services_from: HashMap::new(),
            proxies_in: HashMap::new(),
            hashing: (side.config.destination_rules.rules.iter())
                .filter(|r| r.hashes())
                .map(|r| r.host.clone())
                .collect(),
        };
        for (i, w, _) in side.mesh.proxies() {
            out.proxies_in
                .entry(w.namespace.clone())
                .or_default()
                .push(i);
        }
        for (i, w) in side.mesh.workloads.iter().enumerate() {
            out.workloads_at.entry(w.span.clone()).or_default().push(i);
        }
        for (i, s) in catalog.services.iter().enumerate() {
            out.services_from
                .entry(s.source.clone())
                .or_default()
                .push(i);
            for w in catalog.endpoints_of(s).iter().filter_map(|e| e.workload) {
                out.hosts_of
                    .entry(w)
                    .or_default()
                    .insert(s.hostname.clone());
            }
        }
        out
    }

    fn proxies<'a>(
        &'a self,
        workloads: impl IntoIterator<Item = &'a usize>,
    ) -> impl Iterator<Item = String> {
        workloads
            .into_iter()
            .filter_map(|w| self.proxy_of.get(w).cloned())
    }
}

/// Addresses meshsim synthesized (Services' cluster IPs, Pods' IPs) that
/// differ between the sides for a service or workload whose object did not
/// change: hashes collided, and the smaller name kept the address. Each
/// moved one is put down to the objects holding either of its addresses on
/// the other side (by identity: the hosts and proxies that reaches); those
/// held by no object are returned apart (`workload` telling their kind).
fn moved_addresses(
    sides: [&Session; 2],
    indices: &[SideIndex; 2],
    changed: &dyn Fn(&Identity) -> bool,
) -> (HashMap<Identity, Reach>, Vec<(bool, Reach)>) {
    // Objects by span; identities are built only for the few looked up.
    let objects = sides.map(|s| -> HashMap<&Span, &Object> {
        s.store.objects().iter().map(|o| (&o.span, o)).collect()
    });
    let identity_at = |side: usize, span: &Span| objects[side].get(span).map(|o| identity(o));
    let services = sides.map(|s| -> Vec<Held> {
        let ip = |x: &crate::registry::services::Service| x.cluster_ip;
        s.mesh
            .services
            .iter()
            .map(|x| ((&x.namespace, &x.name), ip(x), &x.span))
            .collect()
    });
    let workloads = sides.map(|s| -> Vec<Held> {
        let w = &s.mesh.workloads;
        w.iter()
            .map(|w| ((&w.namespace, &w.name), Some(w.ip), &w.span))
            .collect()
    });
    let mut out: HashMap<Identity, Reach> = HashMap::new();
    let mut unclaimed = Vec::new();
    for (workload, held) in [(false, services), (true, workloads)] {
        let unchanged =
            |side: usize, span: &Span| identity_at(side, span).is_some_and(|id| !changed(&id));
        for (at, holders) in moved(&held) {
            if !(unchanged(0, held[0][at[0]].2) && unchanged(1, held[1][at[1]].2)) {
                continue;
            }
            let mut reach = Reach {
                workload,
                ..Reach::default()
            };
            for (side, &i) in at.iter().enumerate() {
                if workload {
                    let index = &indices[side];
                    reach
                        .hosts
                        .extend(index.hosts_of.get(&i).into_iter().flatten().cloned());
                    reach.proxies.extend(index.proxy_of.get(&i).cloned());
                } else {
                    reach
                        .hosts
                        .insert(sides[side].mesh.services[i].hostname.clone());
                }
            }
            let culprits: Vec<Identity> = holders
                .iter()
                .filter_map(|&(side, span)| identity_at(side, span))
                .filter(|id| changed(id))
                .collect();
            for c in culprits.iter().cloned() {
                let e = out.entry(c).or_default();
                e.hosts.extend(reach.hosts.iter().cloned());
                e.proxies.extend(reach.proxies.iter().cloned());
            }
            if culprits.is_empty() {
                unclaimed.push((workload, reach));
            }
        }
    }
    (out, unclaimed)
}

/// A service's or workload's (namespace, name), address and object.
type Held<'s> = ((&'s String, &'s String), Option<IpAddr>, &'s Span);

/// An entry present on both sides whose address differs: its index on
/// each side, and the objects holding either address on the other side
/// (with that side).
type Moved<'s> = ([usize; 2], Vec<(usize, &'s Span)>);

/// The entries whose addresses differ between the sides.
fn moved<'s>(held: &[Vec<Held<'s>>; 2]) -> Vec<Moved<'s>> {
    let by_name: HashMap<(&String, &String), usize> =
        held[1].iter().enumerate().map(|(i, h)| (h.0, i)).collect();
    let holder = [0, 1].map(|side| -> HashMap<IpAddr, &Span> {
        held[side]
            .iter()
            .filter_map(|&(_, ip, span)| Some((ip?, span)))
            .collect()
    });
    let mut out = Vec::new();
    for (i, &(name, ip, _)) in held[0].iter().enumerate() {
        let Some(&j) = by_name.get(&name) else {
            continue;
        };
        let other = held[1][j].1;
        if ip == other {
            continue;
        }
        let mut holders = Vec::new();
        holders.extend(ip.and_then(|ip| holder[1].get(&ip)).map(|&s| (1, s)));
        holders.extend(other.and_then(|ip| holder[0].get(&ip)).map(|&s| (0, s)));
        out.push(([i, j], holders));
    }
    out
}

type Identity = (&'static str, &'static str, String, String);

fn identity(o: &Object) -> Identity {
    (
        o.info.group,
        o.info.kind,
        o.namespace().to_string(),
        o.name().to_string(),
    )
}

impl Attribution {
    /// Objects that differ (by identity and content), in kind, namespace,
    /// name order, each with its reach on both sides.
    pub fn build(old: &Session, new: &Session) -> Attribution {
        let index = |s: &Session| -> HashMap<Identity, usize> {
            s.store
                .objects()
                .iter()
                .enumerate()
                .map(|(i, o)| (identity(o), i))
                .collect()
        };
        let (old_index, new_index) = crate::parallel::join(|| index(old), || index(new));
        let mut ids: Vec<&Identity> = old_index.keys().chain(new_index.keys()).collect();
        ids.sort_by(|a, b| (a.1, &a.2, &a.3, a.0).cmp(&(b.1, &b.2, &b.3, b.0)));
        ids.dedup();
        let mut out = Attribution::default();
        let indices = {
            let (x, y) = crate::parallel::join(|| SideIndex::of(old), || SideIndex::of(new));
            [x, y]
        };
        // The objects that differ, each compared once.
        let sides = [(old, &old_index), (new, &new_index)];
        let object = |side: usize, id: &Identity| {
            let (s, index) = sides[side];
            index.get(id).map(|&i| &s.store.objects()[i])
        };
        let differ = crate::parallel::map(&ids, |id| {
            object(0, id).map(|o| &o.body) != object(1, id).map(|o| &o.body)
        });
        let ids: Vec<&Identity> = ids
            .into_iter()
            .zip(differ)
            .filter_map(|(id, d)| d.then_some(id))
            .collect();
        let changed: HashSet<&Identity> = ids.iter().copied().collect();
        let (mut moved, mut unclaimed) =
            moved_addresses([old, new], &indices, &|id| changed.contains(id));
        // Each object's reach on every core: a mesh-wide change has
        // thousands.
        let reaches = crate::parallel::map(&ids, |id| {
            let mut reach = Reach {
                clusters_only: matches!(
                    object(0, id).or(object(1, id)).map(|o| &o.body),
                    Some(Body::DestinationRule(_) | Body::PeerAuthentication(_))
                ),
                ..Reach::default()
            };
            for ((side, index), o) in [old, new]
                .into_iter()
                .zip(&indices)
                .zip([object(0, id), object(1, id)])
            {
                if let Some(o) = o {
                    extend_reach(side, index, o, &mut reach);
                }
            }
            reach
        });
        for (id, mut reach) in ids.into_iter().zip(reaches) {
            let (a, b) = (object(0, id), object(1, id));
            let op = match (a, b) {
                (Some(_), Some(_)) => ObjectOp::Modified,
                (None, Some(_)) => ObjectOp::Added,
                _ => ObjectOp::Removed,
            };
            if let Some(m) = moved.remove(id) {
                reach.clusters_only &= m.hosts.is_empty();
                reach.hosts.extend(m.hosts);
                reach.proxies.extend(m.proxies);
            }
            out.objects.push(ObjectChange {
                group: id.0,
                kind: id.1,
                namespace: id.2.clone(),
                name: id.3.clone(),
                op,
                old: a.map(|o| o.span.clone()),
                new: b.map(|o| o.span.clone()),
            });
            for h in &reach.hosts {
                out.by_host
                    .entry(h.clone())
                    .or_default()
                    .push(out.reach.len());
            }
            let at = out.reach.len();
            for id in &reach.scoped {
                out.by_proxy.entry(id.clone()).or_default().push(at);
            }
            for ns in &reach.namespaces {
                out.by_namespace.entry(ns.clone()).or_default().push(at);
            }
            for id in &reach.proxies {
                out.own_by_proxy.entry(id.clone()).or_default().push(at);
            }
            for ns in &reach.own_namespaces {
                out.own_by_namespace.entry(ns.clone()).or_default().push(at);
            }
            out.reach.push(reach);
        }
        // Moved by objects that did not change themselves (the address
        // they took was taken from them in turn): any changed object of
        // the kind may have started it.
        unclaimed.extend(moved.into_values().map(|m| (m.workload, m)));
        for (workload, m) in unclaimed {
            let of_kind = (0..out.reach.len()).filter(|&i| out.reach[i].workload == workload);
            for i in of_kind.collect::<Vec<_>>() {
                // A moved address changes listeners.
                out.reach[i].clusters_only &= m.hosts.is_empty();
                for h in &m.hosts {
                    if out.reach[i].hosts.insert(h.clone()) {
                        out.by_host.entry(h.clone()).or_default().push(i);
                    }
                }
                for id in &m.proxies {
                    if out.reach[i].proxies.insert(id.clone()) {
                        out.own_by_proxy.entry(id.clone()).or_default().push(i);
                    }
                }
            }
        }
        out.wild_hosts = out
            .by_host
            .keys()
            .filter(|h| h.starts_with('*'))
            .cloned()
            .collect();
        out
    }

    /// The changed objects that reach the proxy `id` in `namespace` itself,
    /// whatever its change.
    pub fn of_proxy(&self, id: &str, namespace: &str) -> ProxyReach {
        // The objects reaching the proxy by id, by its namespace or mesh-wide.
        let reaching = |by_id: &HashMap<String, Vec<usize>>,
                        by_ns: &HashMap<String, Vec<usize>>| {
            union(
                [by_id.get(id), by_ns.get(namespace), by_ns.get("")]
                    .into_iter()
                    .flatten()
                    .flatten(),
            )
        };
        let any = union(
            [self.by_namespace.get(namespace), self.by_namespace.get("")]
                .into_iter()
                .flatten()
                .flatten(),
        );
        let views = union(self.by_proxy.get(id).into_iter().flatten());
        let (workloads, inbound) = reaching(&self.own_by_proxy, &self.own_by_namespace)
            .into_iter()
            .partition(|&o| self.reach[o].workload);
        ProxyReach {
            any,
            views,
            inbound,
            workloads,
        }
    }

    /// Whether what the changed objects reach is all known: then a part of
    /// a proxy that none of them reaches is the same on both sides.
    pub fn bounded(&self) -> bool {
        !self.reach.iter().any(|r| r.unmodelled || r.beyond)
    }

    /// Whether a changed object reaches what a part reads of `hosts`: the
    /// configuration of `hosts.config`, the endpoints too of
    /// `hosts.endpoints` (hosts and reached names may be wildcards).
    pub fn reaches_hosts(&self, hosts: &PartHosts) -> bool {
        // The reached names taking objects of either kind.
        let reached = |h: &str, endpoints: bool| {
            self.by_host.get(h).is_some_and(|objects| {
                endpoints
                    || objects.iter().any(|&o| {
                        let r = &self.reach[o];
                        !r.workload && (hosts.clusters || !r.clusters_only)
                    })
            })
        };
        let hit = |h: &str, endpoints: bool| {
            reached(h, endpoints)
                || self
                    .wild_hosts
                    .iter()
                    .any(|w| host_subset(h, w) && reached(w, endpoints))
                || (h.starts_with('*')
                    && self
                        .by_host
                        .keys()
                        .any(|r| host_subset(r, h) && reached(r, endpoints)))
        };
        hosts.config.iter().any(|h| hit(h, false)) || hosts.endpoints.iter().any(|h| hit(h, true))
    }

    /// The hosts a changed object reaches, by configuration, cluster
    /// settings or endpoints only: what a part of `sides` regenerated in
    /// focus must cover.
    pub fn focus(&self, sides: [&Session; 2]) -> Focus {
        let reached_by = |pick: fn(&Reach) -> bool| {
            (self.by_host.iter())
                .filter(move |(_, objects)| objects.iter().any(|&o| pick(&self.reach[o])))
                .map(|(h, _)| h.clone())
        };
        Focus::new(
            reached_by(|r| !r.workload && !r.clusters_only),
            reached_by(|r| !r.workload),
            self.by_host.keys().cloned(),
            &sides.map(|s| (&s.catalog, s.config.virtual_services.all.as_slice())),
        )
    }

    /// The changed objects that reach a host a change mentions.
    pub fn of_change(&self, mentions: &Mentions) -> Vec<usize> {
        union(
            mentioned_hosts(mentions)
                .into_iter()
                .filter_map(|h| self.by_host.get(h))
                .flatten(),
        )
    }

    /// Indices into `objects` of the causes on a proxy of a change whose
    /// hosts `by_hosts` reach ([`Attribution::of_change`]), `own` when it is
    /// about the proxy itself ([`is_own`]).
    pub fn causes(&self, proxy: &ProxyReach, by_hosts: &[usize], own: bool) -> Vec<usize> {
        let (inbound, workloads) = if own {
            (&proxy.inbound[..], &proxy.workloads[..])
        } else {
            (&[][..], &[][..])
        };
        let direct = union(
            by_hosts
                .iter()
                .chain(&proxy.any)
                .chain(&proxy.views)
                .chain(inbound)
                .chain(workloads),
        );
        if !direct.is_empty() {
            return direct;
        }
        (0..self.reach.len())
            .filter(|&i| self.reach[i].unmodelled)
            .collect()
    }
}

/// Object indices, sorted, each once.
fn union<'a>(indices: impl IntoIterator<Item = &'a usize>) -> Vec<usize> {
    let mut out: Vec<usize> = indices.into_iter().copied().collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A change naming no outbound cluster is about the proxy itself.
pub fn is_own(mentions: &Mentions) -> bool {
    !mentions.iter().any(|m| m.starts_with("outbound|"))
}

/// The changed objects that reach one proxy directly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProxyReach {
    /// Those reaching everything of it (its namespace, all).
    any: Vec<usize>,
    /// Those reaching what it sees (its Sidecar, a gateway's Gateways):
    /// what they feed its own side (a Sidecar's ingress) is in its inbound
    /// key ([`super::share`]). Causes of its changes of either side, as
    /// `any`.
    views: Vec<usize>,
    /// Those reaching its own, inbound side (policies, the services it
    /// serves).
    inbound: Vec<usize>,
    /// Those defining its workload: its key holds what they change of it.
    workloads: Vec<usize>,
}

impl ProxyReach {
    /// Reached whatever the part: by namespace or mesh.
    pub fn whole(&self) -> bool {
        !self.any.is_empty()
    }

    /// Reached in what it sees: by namespace, mesh, Sidecar or Gateway.
    pub fn sees(&self) -> bool {
        self.whole() || !self.views.is_empty()
    }

    /// Reached on its own side (policies, the services it serves) by more
    /// than the objects defining its workload, whose changes to it its
    /// parts' keys show.
    pub fn own(&self) -> bool {
        !self.inbound.is_empty()
    }

    /// What of it a change's causes read ([`Attribution::causes`]): the
    /// objects reaching its own side only for a change about it (`own`).
    pub fn as_seen_by(&self, own: bool) -> ProxyReach {
        ProxyReach {
            any: self.any.clone(),
            views: self.views.clone(),
            inbound: if own {
                self.inbound.clone()
            } else {
                Vec::new()
            },
            workloads: if own {
                self.workloads.clone()
            } else {
                Vec::new()
            },
        }
    }
}

/// Hostnames in a change's mentions: cluster names' host, `host:port`
/// virtual host names' host, and every mention as it is (domains,
/// ServiceEntry hosts).
fn mentioned_hosts<'v>(mentions: &Mentions<'v>) -> foldhash::HashSet<&'v str> {
    // Thousands of mentions of a resource added whole: a fast hash.
    let mut out = foldhash::HashSet::default();
    for &m in mentions {
        out.insert(m);
        if let Some(rest) = m.strip_prefix("outbound|")
            && let Some(host) = rest.splitn(3, '|').nth(2)
        {
            out.insert(host);
        } else if let Some((host, _)) = m.rsplit_once(':') {
            out.insert(host);
        }
    }
    out
}

/// Add what `o` reaches in `side` to `reach`.
fn extend_reach(side: &Session, index: &SideIndex, o: &Object, reach: &mut Reach) {
    let me = ObjRef {
        kind: o.info.kind,
        namespace: o.namespace().to_string(),
        name: o.name().to_string(),
    };
    let ns = o.namespace();
    let root = side.mesh.mesh_config.root_namespace();
    let catalog = &side.catalog;
    let mesh = &side.mesh;
    // A policy's namespace, "" for the whole mesh (the root namespace).
    let policy_scope = if ns == root {
        String::new()
    } else {
        ns.to_string()
    };
    match &o.body {
        Body::Service(_) | Body::ServiceEntry(_) => {
            for &i in index.services_from.get(&me).into_iter().flatten() {
                let s = &catalog.services[i];
                reach.hosts.insert(s.hostname.clone());
                reach.hosts.extend(s.aliases.iter().cloned());
                let behind: BTreeSet<usize> = catalog
                    .endpoints_of(s)
                    .iter()
                    .filter_map(|e| e.workload)
                    .collect();
                reach.proxies.extend(index.proxies(&behind));
            }
        }
        Body::VirtualService(_) => {
            for vs in side
                .config
                .virtual_services
                .all
                .iter()
                .filter(|v| v.meta.source == me)
            {
                for h in &vs.spec.hosts {
                    reach
                        .hosts
                        .insert(resolve_short_name(h, &vs.meta.namespace));
                }
            }
        }
        Body::DestinationRule(_) => {
            for r in side
                .config
                .destination_rules
                .rules
                .iter()
                .filter(|r| r.metas.iter().any(|m| m.source == me))
            {
                let overlaps = |h: &String| host_subset(&r.host, h) || host_subset(h, &r.host);
                if index.hashing.iter().any(overlaps) {
                    reach.clusters_only = false;
                }
                reach.hosts.insert(r.host.clone());
            }
        }
        Body::EndpointSlice(_) | Body::Endpoints(_) => {
            reach.workload = true;
            let service = match &o.body {
                Body::EndpointSlice(_) => o
                    .meta()
                    .labels
                    .get("kubernetes.io/service-name")
                    .map_or(o.name(), String::as_str),
                _ => o.name(),
            };
            reach
                .hosts
                .insert(format!("{service}.{ns}.svc.{DOMAIN_SUFFIX}"));
        }
        Body::Pod(_)
        | Body::Deployment(_)
        | Body::StatefulSet(_)
        | Body::DaemonSet(_)
        | Body::ReplicaSet(_)
        | Body::WorkloadEntry(_) => {
            reach.workload = true;
            let defined = index.workloads_at.get(&o.span).into_iter().flatten();
            for w in defined.clone() {
                reach
                    .hosts
                    .extend(index.hosts_of.get(w).into_iter().flatten().cloned());
            }
            reach.proxies.extend(index.proxies(defined));
        }
        Body::Sidecar(_) => {
            reach.scoped.extend(
                mesh.proxies()
                    .filter(|(_, w, _)| {
                        side.config
                            .sidecars
                            .for_proxy(&w.namespace, &w.labels)
                            .is_some_and(|s| s.meta.source == me)
                    })
                    .map(|(_, w, _)| w.id()),
            );
        }
        Body::PeerAuthentication(_)
        | Body::AuthorizationPolicy(_)
        | Body::RequestAuthentication(_) => {
            // What a proxy serves (a sidecar's inbound side, a gateway's
            // listeners): of the proxies its selector picks, else of every
            // proxy of the namespace (of the mesh, for the root namespace).
            // istiod ignores a root namespace PeerAuthentication's selector.
            let peer = matches!(o.body, Body::PeerAuthentication(_));
            match policy_selector(&o.body).filter(|_| !(peer && ns == root)) {
                Some(selector) => {
                    let candidates: Vec<&usize> = if ns == root {
                        index.proxies_in.values().flatten().collect()
                    } else {
                        index.proxies_in.get(ns).into_iter().flatten().collect()
                    };
                    let picked = candidates
                        .into_iter()
                        .filter(|&&w| selects(selector, &proxy::labels(&mesh.workloads[w])));
                    reach.proxies.extend(index.proxies(picked));
                }
                None => {
                    reach.own_namespaces.insert(policy_scope);
                }
            }
            if matches!(o.body, Body::PeerAuthentication(_)) {
                // Clients choose mTLS by the server's mode.
                for s in &catalog.services {
                    if ns == root || s.namespace == ns {
                        reach.hosts.insert(s.hostname.clone());
                    }
                }
            }
        }
        Body::IstioGateway(_) => {
            // Only gateways read Gateways (sidecars bind to `mesh`):
            // everything every gateway sees, selectors not narrowed.
            reach.scoped.extend(
                mesh.proxies()
                    .filter(|(_, _, kind)| *kind == ProxyType::Router)
                    .map(|(_, w, _)| w.id()),
            );
        }
        Body::EnvoyFilter(_)
        | Body::Telemetry(_)
        | Body::WasmPlugin(_)
        | Body::TrafficExtension(_)
        | Body::ProxyConfig(_) => {
            // Selectors are not narrowed: every proxy of the namespace (of
            // the mesh, for the root namespace) may be affected.
            reach.namespaces.insert(policy_scope);
        }
        // Identities come from pods' serviceAccountName: the object
        // itself feeds no configuration.
        Body::ServiceAccount(_) => {}
        Body::Namespace(_) => {
            reach.namespaces.insert(o.name().to_string());
            reach.beyond = true;
        }
        _ => reach.unmodelled = true,
    }
}

/// The labels a security policy picks its workloads by, when it picks
/// them by labels alone (no target references); None when it applies to
/// every proxy of its namespace.
fn policy_selector(body: &Body) -> Option<&Labels> {
    let (selector, refs) = match body {
        Body::AuthorizationPolicy(p) => (
            &p.spec.selector,
            p.spec.target_ref.is_some() || !p.spec.target_refs.is_empty(),
        ),
        Body::RequestAuthentication(p) => (
            &p.spec.selector,
            p.spec.target_ref.is_some() || !p.spec.target_refs.is_empty(),
        ),
        Body::PeerAuthentication(p) => (&p.spec.selector, false),
        _ => return None,
    };
    let labels = &selector.as_ref()?.match_labels;
    (!refs && !labels.is_empty()).then_some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_from_cluster_and_vhost_names() {
        let m = vec![
            "outbound|9080|v3|reviews.default.svc.cluster.local",
            "ratings.default.svc.cluster.local:9080",
            "9080",
        ];
        let h = mentioned_hosts(&m);
        assert!(h.contains("reviews.default.svc.cluster.local"));
        assert!(h.contains("ratings.default.svc.cluster.local"));
        assert!(!h.contains("v3"));
    }
}
