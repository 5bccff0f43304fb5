//! Outbound route configurations (istiod-sidecar.md §5.1-§5.5): `"PORT"`
//! for the shared HTTP listener of a port, `"HOST:PORT"` for a sniffed
//! per-VIP listener; virtual hosts per service and per VirtualService host.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::clusters::{destination_rule, hash_policy};
use super::focus::Focus;
use super::json::object;
use super::outbound::destination_cluster;
use super::route::{RouteContext, default_route, virtual_service_routes};
use super::scope::{OutboundMode, SidecarScope, VsHosts, host_subset};
use super::{Context, Proxy};
use crate::model::istio::Destination;
use crate::registry::catalog::{CatalogService, Resolution};
use crate::registry::config::VirtualServiceEntry;
use crate::registry::config::virtual_services::{resolve_short_name, resolved_short_name};

/// The route configurations named `names` (as outbound HCMs reference
/// them), in that order. The virtual hosts of a port are built once and
/// shared by its `"PORT"` and every `"HOST:PORT"` configuration, which only
/// pick theirs by domain: a mesh has one sniffed route per service port.
///
/// With a focus, a `"PORT"` configuration holds the virtual hosts of the
/// hosts it touches (the listeners name sniffed ones of touched hosts
/// only); None when those could differ from a full generation's
/// ([`virtual_hosts`]).
pub fn route_configs(
    ctx: &Context,
    proxy: &Proxy,
    scope: &SidecarScope,
    names: &[String],
    focus: Option<&Focus>,
    reused: &(dyn Fn(&str) -> bool + Sync),
) -> Option<Vec<Value>> {
    let parsed: Vec<(Option<&str>, Option<u16>)> = names
        .iter()
        .map(|name| match name.rsplit_once(':') {
            Some((h, p)) => (Some(h), p.parse::<u16>().ok()),
            None => (None, name.parse::<u16>().ok()),
        })
        .collect();
    // Each port's sniffed hosts; each port's virtual hosts are their own
    // work: on every core.
    let mut ports: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for &(host, port) in &parsed {
        if let Some(port) = port {
            ports.entry(port).or_default().extend(host);
        }
    }
    let built = crate::parallel::map_owned(ports.into_iter().collect(), |(port, sniffed)| {
        let hosts = virtual_hosts(ctx, proxy, scope, port, focus, reused, &sniffed);
        (port, hosts.map(PortHosts::new))
    });
    let mut per_port: HashMap<u16, PortHosts> = HashMap::new();
    for (port, hosts) in built {
        per_port.insert(port, hosts?);
    }
    // Names that are no route name get an empty configuration, as istiod
    // sends.
    let mut out: Vec<Option<Value>> = names
        .iter()
        .zip(&parsed)
        .map(|(name, (_, port))| port.is_none().then(|| config_json(name, Vec::new())))
        .collect();
    // Sniffed routes copy the vhosts they pick; the shared `PORT` routes
    // then take the port's vhosts, so no large list is copied.
    for (i, (name, &(host, port))) in names.iter().zip(&parsed).enumerate() {
        let (Some(h), Some(port)) = (host, port) else {
            continue;
        };
        let hosts = &per_port[&port];
        let wanted = format!("{h}:{port}");
        let mut picked: BTreeSet<usize> = BTreeSet::new();
        for d in [h, wanted.as_str()] {
            picked.extend(hosts.by_domain.get(d).into_iter().flatten());
        }
        let mut vhosts: Vec<Value> = picked
            .into_iter()
            .map(|i| hosts.vhosts[i].0.clone())
            .collect();
        if let [only] = vhosts.as_mut_slice() {
            only["domains"] = json!(["*"]);
        }
        out[i] = Some(config_json(name, vhosts));
    }
    for (i, (name, &(host, port))) in names.iter().zip(&parsed).enumerate() {
        if host.is_some() {
            continue;
        }
        let Some(port) = port else {
            continue;
        };
        let hosts = match per_port.remove(&port) {
            Some(hosts) => hosts.vhosts,
            // Names are distinct, so a port's vhosts are taken once; build
            // them again should that ever change.
            None => virtual_hosts(ctx, proxy, scope, port, focus, reused, &[])?,
        };
        let mut vhosts: Vec<Value> = hosts
            .into_iter()
            .filter_map(|(v, focused)| focused.then_some(v))
            .collect();
        vhosts.push(catch_all(scope.outbound_mode));
        out[i] = Some(config_json(name, vhosts));
    }
    Some(out.into_iter().flatten().collect())
}

/// A port's virtual hosts (each with whether its host is focused), with an
/// index from each domain to them.
struct PortHosts {
    vhosts: Vec<(Value, bool)>,
    by_domain: HashMap<String, Vec<usize>>,
}

impl PortHosts {
    fn new(vhosts: Vec<(Value, bool)>) -> PortHosts {
        let mut by_domain: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (v, _)) in vhosts.iter().enumerate() {
            for d in v["domains"].as_array().into_iter().flatten() {
                if let Some(d) = d.as_str() {
                    by_domain.entry(d.to_string()).or_default().push(i);
                }
            }
        }
        PortHosts { vhosts, by_domain }
    }
}

fn config_json(name: &str, vhosts: Vec<Value>) -> Value {
    object([
        ("name", json!(name)),
        ("virtual_hosts", Value::Array(vhosts)),
        ("validate_clusters", json!(false)),
        ("max_direct_response_body_size_bytes", json!(1048576)),
        ("ignore_port_in_host_matching", json!(true)),
    ])
}

/// `allow_any` or `block_all` (§5.4).
fn catch_all(mode: OutboundMode) -> Value {
    let (name, action) = match mode {
        OutboundMode::AllowAny => (
            "allow_any",
            json!({"route": {"cluster": "PassthroughCluster", "timeout": "0s", "max_grpc_timeout": "0s"}}),
        ),
        OutboundMode::RegistryOnly => ("block_all", json!({"direct_response": {"status": 502}})),
    };
    let mut route = json!({"match": {"prefix": "/"}});
    if let (Some(r), Value::Object(a)) = (route.as_object_mut(), action) {
        r.extend(a);
        r.insert("name".into(), json!(name));
    }
    json!({
        "name": name,
        "domains": ["*"],
        "routes": [route],
        "include_request_attempt_count": true,
    })
}

/// A virtual host before its routes are built.
struct Entry<'s> {
    /// Its name without the port: a service's hostname, or a host of a
    /// VirtualService that names no service.
    host: &'s str,
    /// The service whose domains it has, if any (else only `host`).
    service: Option<&'s CatalogService>,
    /// Index of the VirtualService giving its routes, else its service.
    from: Result<usize, &'s CatalogService>,
    /// A host the focus touches (every host without one).
    focused: bool,
}

/// The virtual hosts of port `port`, sorted by name (§5.2), each with
/// whether the focus touches it (always, without one).
///
/// With a focus, the routes of untouched hosts are not built: those
/// virtual hosts are left out, except those the `sniffed` hosts' route
/// configurations pick. That is exact as long as no touched virtual host
/// shares a name or a domain with another (a domain belongs to the first
/// virtual host using it: a sniffed host not listed picks a virtual host
/// of its own); None otherwise. The domains of the virtual hosts built
/// are checked against every other's only when the focus finds they may
/// be shared ([`Focus::sharing`]).
fn virtual_hosts<'s>(
    ctx: &Context,
    proxy: &Proxy,
    scope: &'s SidecarScope,
    port: u16,
    focus: Option<&Focus>,
    reused: &dyn Fn(&str) -> bool,
    sniffed: &[&str],
) -> Option<Vec<(Value, bool)>> {
    let Some(listener) = scope
        .egress
        .iter()
        .find(|l| l.port.as_ref().is_some_and(|p| p.number == port))
        .or_else(|| scope.egress.iter().find(|l| l.port.is_none()))
    else {
        return Some(Vec::new());
    };
    // Services with this port, by hostname (the last duplicate wins). A
    // hash map with a fast hash: a view of a large mesh has thousands, and a
    // focused generation looks up a few of them.
    let mut services: foldhash::HashMap<&str, &CatalogService> =
        HashMap::with_capacity_and_hasher(listener.services.len(), Default::default());
    for s in &listener.services {
        if s.ports.iter().any(|p| p.port == port) {
            services.insert(s.service.hostname.as_str(), s.service);
        }
    }
    // Wildcard service hostnames (ServiceEntries) are few; exact ones are
    // looked up by name.
    let wildcard_services: Vec<&str> = services
        .keys()
        .copied()
        .filter(|s| s.starts_with('*'))
        .collect();
    let names_a_service = |h: &str| {
        services.contains_key(h)
            || wildcard_services.iter().any(|s| host_subset(h, s))
            || (h.starts_with('*') && services.keys().any(|s| host_subset(s, h)))
    };
    let vss: Vec<&VirtualServiceEntry> = listener
        .virtual_services
        .iter()
        .copied()
        .filter(|vs| port == 80 || vs.spec.hosts.iter().any(|h| names_a_service(h)))
        .collect();
    let vs_hosts = VsHosts::new(&vss);

    let gateways = ["mesh".to_string()];
    let cluster_name = |d: &Destination| destination_cluster(d, port);
    let hash = |d: &Destination| {
        destination_hash(
            ctx,
            proxy,
            d,
            service_ns(ctx, &d.host, &proxy.namespace),
            port,
        )
    };
    let cx = RouteContext::of_mesh(ctx, proxy, port, &gateways, &cluster_name, &hash);
    // Each VirtualService's routes, once built. One the focus does not
    // touch is taken to have some: the hosts it matches are untouched too.
    let mut vs_routes: Vec<Option<Vec<Value>>> = vec![None; vss.len()];
    let mut entries: Vec<Entry> = Vec::new();
    let mut used: foldhash::HashSet<&str> = Default::default();
    for (vi, vs) in vss.iter().enumerate() {
        let focused = focus.is_none_or(|f| f.touches_virtual_service(vs))
            && vs.spec.hosts.iter().any(|h| !reused(h));
        if focused {
            let routes = virtual_service_routes(vs, &cx);
            if routes.is_empty() {
                continue;
            }
            vs_routes[vi] = Some(routes);
        }
        let mut matched: Vec<&CatalogService> = Vec::new();
        let mut foreign: Vec<&str> = Vec::new();
        for h in &vs.spec.hosts {
            if let Some(s) = services.get(h.as_str()) {
                matched.push(s);
            } else if h.starts_with('*') {
                // The services it covers that no more specific host does.
                let mut bound: Vec<&CatalogService> = services
                    .values()
                    .copied()
                    .filter(|s| {
                        host_subset(&s.hostname, h)
                            && vs_hosts.most_specific(&s.hostname) == Some(vi)
                    })
                    .collect();
                bound.sort_unstable_by(|x, y| x.hostname.cmp(&y.hostname));
                let any_match = services.keys().any(|s| host_subset(s, h));
                if !any_match {
                    foreign.push(h);
                }
                matched.extend(bound);
            } else {
                foreign.push(h);
            }
        }
        if matched.is_empty() && port != 80 {
            continue;
        }
        let entry = |host: &'s str, service| Entry {
            host,
            service,
            from: Ok(vi),
            focused: focused && !reused(host),
        };
        entries.extend(foreign.iter().map(|h| entry(h, None)));
        for s in matched {
            used.insert(s.hostname.as_str());
            entries.push(entry(&s.hostname, Some(s)));
        }
    }
    // A service's own vhost, when no VirtualService gives it one.
    let own_entry = |s: &'s CatalogService| {
        let p = s.port(port)?;
        let own = !used.contains(s.hostname.as_str())
            && s.resolution != Resolution::Alias
            && (p.protocol.is_http() || p.protocol.is_unsupported());
        own.then(|| Entry {
            host: &s.hostname,
            service: Some(s),
            from: Err(s),
            focused: focus.is_none_or(|f| f.touches(&s.hostname)) && !reused(&s.hostname),
        })
    };
    // Services' vhosts follow the VirtualServices' in hostname order. No
    // two share a name, nor one with a VirtualService's (which takes the
    // service's). A domain belongs to the first vhost using it; a focused
    // vhost sharing one with another could change with it. With a focus,
    // only the vhosts built and those that may hold their domains or a
    // sniffed host's are looked at (`looked_at`), so only those are listed.
    let mut looked_at: Option<foldhash::HashSet<&str>> = None;
    let mut own: Vec<Entry> = match focus {
        None => services.values().filter_map(|&s| own_entry(s)).collect(),
        Some(f) => {
            // The touched services, looked up by the touched hosts when
            // those are exact (wildcard services, few, checked each).
            let touched: Vec<&CatalogService> = match f.exact_hosts() {
                Some(hosts) => hosts
                    .chain(wildcard_services.iter().copied())
                    .filter_map(|h| services.get(h).copied())
                    .collect(),
                None => services.values().copied().collect(),
            };
            let mut own: Vec<Entry> = touched
                .into_iter()
                .filter_map(own_entry)
                .filter(|e| e.focused)
                .collect();
            let built = entries.iter().chain(&own).filter(|e| e.focused);
            let mut near: foldhash::HashSet<&str> = Default::default();
            for h in built.map(|e| e.host).chain(sniffed.iter().copied()) {
                near.extend(f.sharing(h).iter().map(String::as_str));
                near.insert(h);
            }
            own.extend(
                near.iter()
                    .filter_map(|&h| services.get(h))
                    .filter_map(|&s| own_entry(s))
                    .filter(|e| !e.focused),
            );
            looked_at = Some(near);
            own
        }
    };
    own.sort_unstable_by(|x, y| x.host.cmp(y.host));
    entries.extend(own);
    let domains_of = |e: &Entry| match e.service {
        Some(s) => domains(proxy, s),
        None => vec![e.host.to_string()],
    };

    // First vhost of a name wins; a focused vhost sharing its name with
    // another could change with it.
    let mut names: foldhash::HashMap<&str, usize> =
        HashMap::with_capacity_and_hasher(entries.len(), Default::default());
    let mut first: Vec<usize> = Vec::with_capacity(entries.len());
    let mut contended = false;
    for (i, e) in entries.iter().enumerate() {
        match names.get(e.host) {
            Some(&j) => contended |= e.focused || entries[j].focused,
            None => {
                names.insert(e.host, i);
                first.push(i);
            }
        }
    }
    if focus.is_some() && contended {
        return None;
    }
    // Owners are sized once, with a fast hash: a view of a large mesh has
    // thousands of vhosts.
    first.retain(|&i| {
        looked_at
            .as_ref()
            .is_none_or(|h| h.contains(entries[i].host))
    });
    let all: Vec<Vec<String>> = first.iter().map(|&i| domains_of(&entries[i])).collect();
    let mut owner: foldhash::HashMap<&str, usize> =
        HashMap::with_capacity_and_hasher(all.iter().map(Vec::len).sum(), Default::default());
    let mut held: Vec<(usize, Vec<&str>)> = Vec::with_capacity(first.len());
    for (&i, doms) in first.iter().zip(&all) {
        let e = &entries[i];
        let mut own = Vec::new();
        for d in doms {
            match owner.get(d.as_str()) {
                Some(&j) if j != i => contended |= e.focused || entries[j].focused,
                Some(_) => {}
                None => {
                    owner.insert(d, i);
                    own.push(d.as_str());
                }
            }
        }
        held.push((i, own));
    }
    // Untouched vhosts a sniffed host picks are built for it.
    let mut needed = vec![focus.is_none(); entries.len()];
    if focus.is_some() {
        if contended {
            return None;
        }
        for h in sniffed {
            let with_port = format!("{h}:{port}");
            for d in [*h, with_port.as_str()] {
                if let Some(&i) = owner.get(d) {
                    needed[i] = true;
                }
            }
        }
    }
    let kept: Vec<(usize, Vec<&str>)> = held
        .into_iter()
        .filter(|(i, _)| entries[*i].focused || needed[*i])
        .collect();
    // A VirtualService's routes are copied to each of its vhosts but the last.
    let mut last_of: Vec<usize> = vec![usize::MAX; vss.len()];
    for &(i, _) in &kept {
        if let Ok(vi) = entries[i].from {
            last_of[vi] = i;
        }
    }
    let mut vhosts: Vec<(String, Value, bool)> = Vec::with_capacity(kept.len());
    for (i, doms) in kept {
        let e = &entries[i];
        let routes = match e.from {
            Ok(vi) => {
                let routes = match vs_routes[vi].take() {
                    Some(r) => r,
                    None => virtual_service_routes(vss[vi], &cx),
                };
                // Taken to have routes when its hosts were listed.
                if routes.is_empty() {
                    return None;
                }
                if last_of[vi] != i {
                    vs_routes[vi] = Some(routes.clone());
                }
                routes
            }
            Err(s) => {
                let cluster = format!("outbound|{port}||{}", s.hostname);
                let rule = destination_rule(ctx, proxy, s);
                vec![default_route(
                    &cluster,
                    &s.hostname,
                    port,
                    hash_policy(rule, None, port),
                )]
            }
        };
        let name = format!("{}:{port}", e.host);
        let value = object([
            ("name", Value::String(name.clone())),
            ("domains", doms.into_iter().map(|d| json!(d)).collect()),
            ("routes", Value::Array(routes)),
            ("include_request_attempt_count", Value::Bool(true)),
        ]);
        vhosts.push((name, value, e.focused));
    }
    vhosts.sort_by(|a, b| a.0.cmp(&b.0));
    Some(vhosts.into_iter().map(|(_, v, f)| (v, f)).collect())
}

/// The route `hash_policy` of a destination: from the DestinationRule that
/// applies to this proxy for its host (of namespace `svc_ns`), at its own
/// port or else `default_port`.
pub fn destination_hash(
    ctx: &Context,
    proxy: &Proxy,
    d: &Destination,
    svc_ns: &str,
    default_port: u16,
) -> Option<Vec<Value>> {
    let rule =
        ctx.config
            .destination_rules
            .for_proxy(&proxy.namespace, &proxy.labels, &d.host, svc_ns);
    let p = d
        .port
        .as_ref()
        .and_then(|p| p.number)
        .and_then(|n| u16::try_from(n).ok())
        .unwrap_or(default_port);
    hash_policy(rule, d.subset.as_deref(), p)
}

/// What the virtual hosts of each host `focus` touches in a view read, by
/// host: written so that two views reading the same write the same text
/// whatever their namespaces, so a virtual host compared in one view need
/// not be generated in another with the same text (`diff`'s host lines).
/// Objects are named in full (two namespaces' objects of one name are not
/// the same); the proxy's namespace enters only as whether a service's
/// short names are its own, and through the rules found for it. None for
/// a host whose virtual hosts may read more of the view than is written: a
/// wildcard, a host sharing a domain, one a VirtualService names with other
/// hosts (or by wildcard, or delegating), or matched by source namespace or
/// labels.
pub fn host_reads(
    ctx: &Context,
    proxy: &Proxy,
    scope: &SidecarScope,
    focus: &Focus,
) -> Vec<(String, Option<String>)> {
    use std::fmt::Write;
    let ns = proxy.namespace.as_str();
    let service =
        |out: &mut String, s: &CatalogService, ports: &[crate::registry::catalog::Port]| {
            // Short domains are those of a hostname in the proxy's namespace.
            let own = std::iter::once(&s.hostname)
                .chain(&s.aliases)
                .any(|h| service_name(h).is_some_and(|(_, n)| n == ns));
            let _ = write!(
                out,
                " {:?}:{}/{}:{}:{}:{own}",
                s.registry, s.namespace, s.name, s.hostname, s.address
            );
            for p in ports {
                let _ = write!(out, ":{}/{}/{:?}", p.name, p.port, p.protocol);
            }
        };
    let rule = |out: &mut String, rule: Option<&crate::registry::config::MergedRule>| {
        for m in rule.iter().flat_map(|r| &r.metas) {
            let _ = write!(out, " dr:{}/{}", m.namespace, m.name);
        }
    };
    // The hosts touched, by host: each listener's services with them and the
    // VirtualServices naming them.
    let mut reads: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for (li, l) in scope.egress.iter().enumerate() {
        let mut hosts: BTreeSet<&str> = (l.services.iter())
            .map(|s| s.service.hostname.as_str())
            .filter(|h| focus.touches(h))
            .collect();
        for vs in &l.virtual_services {
            if focus.touches_virtual_service(vs) {
                hosts.extend(vs.spec.hosts.iter().map(String::as_str));
            }
        }
        // Each host touched with the VirtualServices covering it.
        let covered: Vec<(&str, Vec<&VirtualServiceEntry>)> = (hosts.into_iter())
            .map(|host| {
                let at = l.vs_hosts.covering(host).into_iter();
                (host, at.map(|i| l.virtual_services[i]).collect())
            })
            .collect();
        // The services of the hosts touched and of their VirtualServices'
        // destinations, by host: a view holds thousands, lines read few.
        let mut wanted: foldhash::HashSet<Cow<str>> = Default::default();
        for (host, vss) in &covered {
            wanted.insert(Cow::Borrowed(*host));
            for vs in vss {
                let named = super::scope::destinations(vs);
                wanted.extend(named.map(|(d, _)| resolved_short_name(d, &vs.meta.namespace)));
            }
        }
        let mut by_host: foldhash::HashMap<&str, Vec<usize>> = Default::default();
        for (i, s) in l.services.iter().enumerate() {
            let host = s.service.hostname.as_str();
            if wanted.contains(host) {
                by_host.entry(host).or_default().push(i);
            }
        }
        // Wildcard services (few) decide whether a VirtualService's host
        // names a service.
        let wildcards: Vec<usize> = (0..l.services.len())
            .filter(|&i| l.services[i].service.hostname.starts_with('*'))
            .collect();
        for (host, vss) in covered {
            let Some(line) = reads.entry(host).or_insert_with(|| Some(String::new())) else {
                continue;
            };
            let by_source = |vs: &VirtualServiceEntry| {
                vs.spec.http.iter().any(|r| {
                    r.delegate.is_some()
                        || r.r#match
                            .iter()
                            .any(|m| m.source_namespace.is_some() || !m.source_labels.is_empty())
                })
            };
            let shared = host.starts_with('*')
                || !focus.sharing(host).is_empty()
                || vss.iter().any(|vs| {
                    vs.spec.hosts.len() != 1 || vs.spec.hosts[0] != host || by_source(vs)
                });
            if shared {
                reads.insert(host, None);
                continue;
            }
            // Which listener serves which port decides where it has virtual
            // hosts.
            let _ = write!(line, "\n{li}");
            for e in &scope.egress {
                let _ = write!(line, " {:?}", e.port.as_ref().map(|p| p.number));
            }
            let covering = wildcards
                .iter()
                .filter(|&&i| host_subset(host, &l.services[i].service.hostname));
            for &i in by_host.get(host).into_iter().flatten().chain(covering) {
                service(line, l.services[i].service, &l.services[i].ports);
            }
            // An own virtual host's rule: that of the service of its port
            // (any of the host's).
            if vss.is_empty() {
                for &i in by_host.get(host).into_iter().flatten() {
                    rule(line, destination_rule(ctx, proxy, l.services[i].service));
                }
            }
            for vs in vss {
                let _ = write!(line, " vs:{}/{}", vs.meta.namespace, vs.meta.name);
                // What routes read of a destination: its service, the rule
                // hashing it (looked up as routes look it up).
                for (d, _) in super::scope::destinations(vs) {
                    let resolved = resolve_short_name(d, &vs.meta.namespace);
                    let _ = write!(line, " ->{d}");
                    for &i in by_host.get(resolved.as_str()).into_iter().flatten() {
                        service(line, l.services[i].service, &l.services[i].ports);
                    }
                    let svc_ns = service_ns(ctx, d, ns);
                    let found =
                        (ctx.config.destination_rules).for_proxy(ns, &proxy.labels, d, svc_ns);
                    rule(line, found);
                }
            }
        }
    }
    reads.into_iter().map(|(h, r)| (h.to_string(), r)).collect()
}

/// The namespace of the service a destination host names, for the
/// DestinationRule lookup (the proxy's own when it has one).
fn service_ns<'a>(ctx: &'a Context, host: &str, proxy_ns: &'a str) -> &'a str {
    let mut found = None;
    for (_, s) in ctx.catalog.with_host(host) {
        if s.namespace == proxy_ns {
            return proxy_ns;
        }
        found.get_or_insert(s.namespace.as_str());
    }
    found.unwrap_or(proxy_ns)
}

/// The domains of a service's virtual host as seen by this proxy (§5.5).
pub fn domains(proxy: &Proxy, s: &CatalogService) -> Vec<String> {
    let short_names = proxy.dns_domain.contains(".svc.");
    let view = View::Namespace(&proxy.namespace, short_names);
    domain_forms(s, view, proxy.vips(s))
        .into_iter()
        .map(|(d, _)| d)
        .collect()
}

/// Whose view of a service [`domain_forms`] gives.
#[derive(Clone, Copy)]
pub enum View<'a> {
    /// A proxy's of this namespace, with Kubernetes short names or not.
    Namespace(&'a str, bool),
    /// Every proxy's: all forms any view can hold.
    Any,
}

/// A Kubernetes service hostname's name and namespace
/// (`NAME.NAMESPACE.svc.cluster.local`): what short domains are made of.
fn service_name(host: &str) -> Option<(&str, &str)> {
    let (name, ns) = host.strip_suffix(".svc.cluster.local")?.split_once('.')?;
    (!ns.contains('.')).then_some((name, ns))
}

/// The domains of service `s` in `view` with addresses `vips`, in order,
/// each with the namespace whose views alone hold it (a bare service
/// name), if any.
pub fn domain_forms<'s>(
    s: &'s CatalogService,
    view: View,
    vips: impl Iterator<Item = &'s str>,
) -> Vec<(String, Option<&'s str>)> {
    let mut out = Vec::new();
    let (same_ns, short_names) = match view {
        View::Namespace(ns, short) => (Some(ns), short),
        View::Any => (None, true),
    };
    for h in std::iter::once(&s.hostname).chain(&s.aliases) {
        out.push((h.clone(), None));
        if h.parse::<std::net::IpAddr>().is_err() {
            out.push((format!("{h}."), None));
        }
        if short_names && let Some((name, ns)) = service_name(h) {
            let same = same_ns.map(|v| v == ns);
            if same != Some(false) {
                out.push((name.to_string(), Some(ns)));
            }
            if same == Some(true) {
                out.push((format!("{name}.{ns}.svc"), None));
                out.push((format!("{name}.{ns}"), None));
            } else {
                out.push((format!("{name}.{ns}"), None));
                out.push((format!("{name}.{ns}.svc"), None));
            }
        }
    }
    if s.k8s_headless {
        let wild: Vec<(String, Option<&str>)> = out
            .iter()
            .map(|(d, only)| (format!("*.{d}"), *only))
            .collect();
        out.extend(wild);
    }
    for vip in vips {
        if vip != "0.0.0.0" {
            let d = if vip.contains(':') {
                format!("[{vip}]")
            } else {
                vip.to_string()
            };
            out.push((d, None));
        }
    }
    out
}

/// The route configuration names the listeners reference, in order.
pub fn referenced(listeners: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in listeners {
        let chains = l["filter_chains"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(l.get("default_filter_chain"));
        for c in chains {
            for f in c["filters"].as_array().into_iter().flatten() {
                if let Some(n) = f["typed_config"]["rds"]["route_config_name"].as_str()
                    && !out.iter().any(|o| o == n)
                {
                    out.push(n.to_string());
                }
            }
        }
    }
    out
}
