//! Outbound route configurations (istiod-sidecar.md §5.1-§5.5): `"PORT"`
//! for the shared HTTP listener of a port, `"HOST:PORT"` for a sniffed
//! per-VIP listener; virtual hosts per service and per VirtualService host.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::clusters::{destination_rule, hash_policy};
use super::json::object;
use super::outbound::destination_cluster;
use super::route::{RouteContext, default_route, virtual_service_routes};
use super::scope::{OutboundMode, SidecarScope, VsHosts, host_subset};
use super::{Context, Proxy};
use crate::model::istio::Destination;
use crate::registry::catalog::{CatalogService, Resolution};
use crate::registry::config::VirtualServiceEntry;

/// The route configurations named `names` (as outbound HCMs reference
/// them), in that order. The virtual hosts of a port are built once and
/// shared by its `"PORT"` and every `"HOST:PORT"` configuration, which only
/// pick theirs by domain: a mesh has one sniffed route per service port.
pub fn route_configs(
    ctx: &Context,
    proxy: &Proxy,
    scope: &SidecarScope,
    names: &[String],
) -> Vec<Value> {
    let parsed: Vec<(Option<&str>, Option<u16>)> = names
        .iter()
        .map(|name| match name.rsplit_once(':') {
            Some((h, p)) => (Some(h), p.parse::<u16>().ok()),
            None => (None, name.parse::<u16>().ok()),
        })
        .collect();
    // Each port's virtual hosts are their own work: on every core.
    let ports: BTreeSet<u16> = parsed.iter().filter_map(|&(_, port)| port).collect();
    let mut per_port: HashMap<u16, PortHosts> =
        crate::parallel::map_owned(ports.into_iter().collect(), |port| {
            (port, PortHosts::new(virtual_hosts(ctx, proxy, scope, port)))
        })
        .into_iter()
        .collect();
    let mut out: Vec<Option<Value>> = vec![None; names.len()];
    // Sniffed routes copy the vhosts they pick; the shared `PORT` routes
    // then take the port's vhosts, so no large list is copied. Names that
    // are no route name get an empty configuration, as istiod sends.
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
            .map(|i| hosts.vhosts[i].clone())
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
        let mut vhosts = match per_port.remove(&port) {
            Some(hosts) => hosts.vhosts,
            // Names are distinct, so a port's vhosts are taken once; build
            // them again should that ever change.
            None => virtual_hosts(ctx, proxy, scope, port),
        };
        vhosts.push(catch_all(scope.outbound_mode));
        out[i] = Some(config_json(name, vhosts));
    }
    out.into_iter()
        .zip(names)
        .map(|(v, name)| v.unwrap_or_else(|| config_json(name, Vec::new())))
        .collect()
}

/// A port's virtual hosts, with an index from each domain to them.
struct PortHosts {
    vhosts: Vec<Value>,
    by_domain: HashMap<String, Vec<usize>>,
}

impl PortHosts {
    fn new(vhosts: Vec<Value>) -> PortHosts {
        let mut by_domain: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, v) in vhosts.iter().enumerate() {
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

/// The virtual hosts of port `port`, sorted by name (§5.2).
fn virtual_hosts(ctx: &Context, proxy: &Proxy, scope: &SidecarScope, port: u16) -> Vec<Value> {
    let Some(listener) = scope
        .egress
        .iter()
        .find(|l| l.port.as_ref().is_some_and(|p| p.number == port))
        .or_else(|| scope.egress.iter().find(|l| l.port.is_none()))
    else {
        return Vec::new();
    };
    // Services with this port, by hostname (the last duplicate wins).
    let mut services: BTreeMap<&str, &CatalogService> = BTreeMap::new();
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
    let best_vs: BTreeMap<&str, usize> = services
        .keys()
        .filter_map(|host| Some((*host, vs_hosts.most_specific(host)?)))
        .collect();

    let mut out: Vec<(String, Vec<String>, Vec<Value>)> = Vec::new();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let gateways = ["mesh".to_string()];
    for (vi, vs) in vss.iter().enumerate() {
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
        let cx = RouteContext {
            proxy,
            port,
            gateways: &gateways,
            cluster_name: &cluster_name,
            hash_policy: &hash,
            mesh_retry: ctx.mesh.mesh_config.default_http_retry_policy.as_ref(),
        };
        let routes = virtual_service_routes(vs, &cx);
        if routes.is_empty() {
            continue;
        }
        let mut matched: Vec<&CatalogService> = Vec::new();
        let mut foreign: Vec<&str> = Vec::new();
        for h in &vs.spec.hosts {
            if let Some(s) = services.get(h.as_str()) {
                matched.push(s);
            } else if h.starts_with('*') {
                let bound: Vec<&CatalogService> = services
                    .values()
                    .filter(|s| {
                        host_subset(&s.hostname, h) && best_vs.get(s.hostname.as_str()) == Some(&vi)
                    })
                    .copied()
                    .collect();
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
        let mut hosts: Vec<(String, Vec<String>)> = foreign
            .iter()
            .map(|h| (format!("{h}:{port}"), vec![h.to_string()]))
            .collect();
        for s in matched {
            used.insert(s.hostname.as_str());
            hosts.push((format!("{}:{port}", s.hostname), domains(proxy, s)));
        }
        // The last host takes the routes, the others a copy.
        let copies = std::iter::repeat_n(routes, hosts.len());
        out.extend(hosts.into_iter().zip(copies).map(|((n, d), r)| (n, d, r)));
    }
    for s in services.values() {
        if used.contains(s.hostname.as_str()) || s.resolution == Resolution::Alias {
            continue;
        }
        let Some(p) = s.port(port) else { continue };
        if !(p.protocol.is_http() || p.protocol.is_unsupported()) {
            continue;
        }
        let cluster = format!("outbound|{port}||{}", s.hostname);
        let rule = destination_rule(ctx, proxy, s);
        let route = default_route(&cluster, &s.hostname, port, hash_policy(rule, None, port));
        out.push((
            format!("{}:{port}", s.hostname),
            domains(proxy, s),
            vec![route],
        ));
    }

    // First vhost of a name wins; a domain belongs to the first vhost using it.
    let mut names = BTreeSet::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut vhosts: Vec<(String, Value)> = Vec::new();
    for (name, doms, routes) in out {
        if !names.insert(name.clone()) {
            continue;
        }
        let doms: Vec<String> = doms
            .into_iter()
            .filter(|d| taken.insert(d.clone()))
            .collect();
        vhosts.push((
            name.clone(),
            object([
                ("name", Value::String(name)),
                ("domains", doms.into_iter().map(Value::String).collect()),
                ("routes", Value::Array(routes)),
                ("include_request_attempt_count", Value::Bool(true)),
            ]),
        ));
    }
    vhosts.sort_by(|a, b| a.0.cmp(&b.0));
    vhosts.into_iter().map(|(_, v)| v).collect()
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
    let mut out = Vec::new();
    let svc_suffix = ".svc.cluster.local";
    for h in std::iter::once(&s.hostname).chain(&s.aliases) {
        out.push(h.clone());
        if h.parse::<std::net::IpAddr>().is_err() {
            out.push(format!("{h}."));
        }
        if proxy.dns_domain.contains(".svc.")
            && let Some(base) = h.strip_suffix(svc_suffix)
            && let Some((name, ns)) = base.split_once('.')
            && !ns.contains('.')
        {
            if ns == proxy.namespace {
                out.push(name.to_string());
                out.push(format!("{name}.{ns}.svc"));
                out.push(format!("{name}.{ns}"));
            } else {
                out.push(format!("{name}.{ns}"));
                out.push(format!("{name}.{ns}.svc"));
            }
        }
    }
    if s.k8s_headless {
        let wild: Vec<String> = out.iter().map(|d| format!("*.{d}")).collect();
        out.extend(wild);
    }
    for vip in proxy.vips(s) {
        if vip != "0.0.0.0" {
            out.push(if vip.contains(':') {
                format!("[{vip}]")
            } else {
                vip.to_string()
            });
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
