//! A gateway's HTTP route configurations (istiod-gateway-security.md §1.6):
//! per route name, a virtual host per host where a server's hosts meet a
//! bound VirtualService's, named by the server port; identical route lists
//! collapse into one virtual host; a 404 blackhole when nothing binds.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::super::json::object;
use super::super::outbound::destination_cluster;
use super::super::rds::destination_hash;
use super::super::route::{RouteContext, is_catch_all, virtual_service_routes};
use super::super::scope::{best_service, default_service_export, host_subset};
use super::super::{Context, Proxy};
use super::merge::{Merged, MergedServer};
use crate::model::istio::Destination;
use crate::registry::config::VirtualServiceEntry;

/// One virtual host under construction: its route lists by the (gateway,
/// VirtualService) that produced them, so identical ones can collapse.
struct VHost {
    name: String,
    domains: Vec<String>,
    lists: Vec<usize>,
    require_tls: bool,
}

impl VHost {
    /// `<host>:<server port>`, matching the bare host only.
    fn new(host: &str, port: u16) -> VHost {
        VHost {
            name: format!("{host}:{port}"),
            domains: vec![host.to_string()],
            lists: Vec::new(),
            require_tls: false,
        }
    }
}

/// Every route configuration the gateway's HTTP connection managers name,
/// in name order.
pub fn route_configs(ctx: &Context, proxy: &Proxy, merged: &Merged) -> Vec<Value> {
    merged
        .by_route
        .iter()
        .map(|(name, servers)| {
            let servers: Vec<&MergedServer> = servers.iter().map(|&i| &merged.servers[i]).collect();
            route_config(ctx, proxy, name, &servers)
        })
        .collect()
}

fn route_config(ctx: &Context, proxy: &Proxy, name: &str, servers: &[&MergedServer]) -> Value {
    let mut lists: Vec<Vec<Value>> = Vec::new();
    // (gateway, VS namespace/name) → its route list, built once.
    let mut built: BTreeMap<(String, String), Option<usize>> = BTreeMap::new();
    let mut vhosts: BTreeMap<String, VHost> = BTreeMap::new();
    for s in servers {
        let redirect = s.https_redirect();
        for vs in ctx
            .config
            .virtual_services
            .for_gateway_visible_to(&s.gateway_name, &proxy.namespace)
        {
            let server_hosts = hosts_for_namespace(&s.server.hosts, &vs.meta.namespace);
            let hosts = intersection(&server_hosts, &vs.spec.hosts);
            if hosts.is_empty() {
                continue;
            }
            let key = (
                s.gateway_name.clone(),
                format!("{}/{}", vs.meta.namespace, vs.meta.name),
            );
            let list = *built.entry(key).or_insert_with(|| {
                let routes = routes_of(ctx, proxy, vs, s);
                if routes.is_empty() {
                    // istiod: no route matched, the VirtualService is skipped.
                    return None;
                }
                lists.push(routes);
                Some(lists.len() - 1)
            });
            let Some(list) = list else { continue };
            for host in hosts {
                let host = host.to_lowercase();
                let v = vhosts
                    .entry(host.clone())
                    .or_insert_with(|| VHost::new(&host, s.port));
                v.lists.push(list);
                v.require_tls |= redirect;
            }
        }
        // Redirecting hosts get a virtual host even without routes.
        if redirect {
            for h in &s.server.hosts {
                let host = h.to_lowercase();
                vhosts
                    .entry(host.clone())
                    .or_insert_with(|| VHost::new(&host, s.port))
                    .require_tls = true;
            }
        }
    }
    let mut out: Vec<(String, Value)> = if vhosts.is_empty() {
        let port = servers.first().map_or(0, |s| s.port);
        vec![(
            format!("blackhole:{port}"),
            object([
                ("name", json!(format!("blackhole:{port}"))),
                ("domains", json!(["*"])),
                ("routes", json!([])),
            ]),
        )]
    } else {
        collapse(vhosts)
            .into_iter()
            .map(|v| {
                let mut routes: Vec<Value> = v
                    .lists
                    .iter()
                    .flat_map(|&l| lists[l].iter().cloned())
                    .collect();
                // Catch-all routes last, order otherwise kept.
                routes.sort_by_key(is_catch_all);
                let mut fields = vec![
                    ("name", json!(v.name)),
                    ("domains", json!(v.domains)),
                    ("routes", Value::Array(routes)),
                ];
                if v.require_tls {
                    fields.push(("require_tls", json!("ALL")));
                }
                fields.push(("include_request_attempt_count", json!(true)));
                let mut m = serde_json::Map::new();
                for (k, x) in fields {
                    m.insert(k.into(), x);
                }
                (v.name, Value::Object(m))
            })
            .collect()
    };
    out.sort_by(|a, b| a.0.cmp(&b.0));
    object([
        ("name", json!(name)),
        (
            "virtual_hosts",
            Value::Array(out.into_iter().map(|(_, v)| v).collect()),
        ),
        ("validate_clusters", json!(false)),
        ("max_direct_response_body_size_bytes", json!(1048576)),
        ("ignore_port_in_host_matching", json!(true)),
    ])
}

/// Merge virtual hosts whose route lists and TLS requirement are the same:
/// the most specific host (istiod's host order) keeps its name, the others
/// add their domains to it.
fn collapse(vhosts: BTreeMap<String, VHost>) -> Vec<VHost> {
    let mut hosts: Vec<VHost> = vhosts.into_values().collect();
    hosts.sort_by(|a, b| more_specific_order(&a.domains[0], &b.domains[0]));
    let mut out: Vec<VHost> = Vec::new();
    for v in hosts {
        match out
            .iter_mut()
            .find(|o| o.lists == v.lists && o.require_tls == v.require_tls)
        {
            Some(o) => o.domains.extend(v.domains),
            None => out.push(v),
        }
    }
    out
}

/// istiod's host order: names before wildcards, then longest first, then
/// alphabetical.
fn more_specific_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a.starts_with('*'), std::cmp::Reverse(a.len()), a).cmp(&(
        b.starts_with('*'),
        std::cmp::Reverse(b.len()),
        b,
    ))
}

/// Server hosts a VirtualService of namespace `ns` may bind: those without
/// a namespace, or naming `*` or `ns` (the namespace removed).
fn hosts_for_namespace<'a>(hosts: &'a [String], ns: &str) -> Vec<&'a str> {
    hosts
        .iter()
        .filter_map(|h| match h.split_once('/') {
            Some(("*", host)) => Some(host),
            Some((n, host)) if n == ns => Some(host),
            Some(_) => None,
            None => Some(h.as_str()),
        })
        .collect()
}

/// For each pair of hosts that overlap, the narrower of the two, once.
fn intersection<'a>(server: &[&'a str], vs: &'a [String]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for s in server {
        for v in vs {
            let narrower = if host_subset(s, v) {
                *s
            } else if host_subset(v, s) {
                v.as_str()
            } else {
                continue;
            };
            if !out.contains(&narrower) {
                out.push(narrower);
            }
        }
    }
    out
}

/// The VirtualService's routes for this server: built for the server's own
/// port (the Service port, not the container port) and gateway.
fn routes_of(
    ctx: &Context,
    proxy: &Proxy,
    vs: &VirtualServiceEntry,
    s: &MergedServer,
) -> Vec<Value> {
    let default_export = default_service_export(ctx);
    let port = s.port;
    // The destination's service: the VirtualService's namespace's when
    // visible to the gateway, else any visible one.
    let service = |host: &str| {
        ctx.catalog
            .with_host(host)
            .map(|(_, svc)| svc)
            .find(|svc| {
                svc.namespace == vs.meta.namespace
                    && svc.visible_from(&proxy.namespace, &default_export)
            })
            .or_else(|| best_service(ctx, &default_export, host, &proxy.namespace))
    };
    // A destination without a port takes a single-port service's port.
    let port_of = |d: &Destination| match (d.port.as_ref().and_then(|p| p.number), service(&d.host))
    {
        (Some(_), _) | (None, None) => port,
        (None, Some(svc)) => match svc.ports.as_slice() {
            [only] => only.port,
            _ => port,
        },
    };
    let cluster_name = |d: &Destination| destination_cluster(d, port_of(d));
    let hash = |d: &Destination| {
        let svc = service(&d.host);
        let svc_ns = svc.map_or(proxy.namespace.as_str(), |s| s.namespace.as_str());
        destination_hash(ctx, proxy, d, svc_ns, port_of(d))
    };
    let gateways = [s.gateway_name.clone()];
    let cx = RouteContext::of_mesh(ctx, proxy, port, &gateways, &cluster_name, &hash);
    virtual_service_routes(vs, &cx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_meet_as_istiod_intersects_them() {
        let vs = vec!["a.example.com".to_string(), "*".to_string()];
        assert_eq!(
            intersection(&["*.example.com"], &vs),
            vec!["a.example.com", "*.example.com"]
        );
        assert_eq!(
            intersection(&["foo.bar"], &["*".to_string()]),
            vec!["foo.bar"]
        );
        assert!(intersection(&["x.com"], &["y.com".to_string()]).is_empty());
    }

    #[test]
    fn namespaced_server_hosts() {
        let hosts: Vec<String> = ["ns1/a.com", "*/b.com", "c.com", "ns2/d.com"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            hosts_for_namespace(&hosts, "ns1"),
            vec!["a.com", "b.com", "c.com"]
        );
    }

    #[test]
    fn specific_hosts_first() {
        let mut v = vec!["*", "a.com", "*.a.com", "bb.com", "ab.com"];
        v.sort_by(|a, b| more_specific_order(a, b));
        assert_eq!(v, vec!["ab.com", "bb.com", "a.com", "*.a.com", "*"]);
    }
}
