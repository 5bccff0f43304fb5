//! The DNS name table istiod sends a proxy that captures DNS (NDS;
//! `pkg/dns/server/name_table.go`): for each service its egress listeners
//! see, the addresses its agent answers with. Only proxies with the
//! `DNS_CAPTURE` node metadata get one; `DNS_AUTO_ALLOCATE` adds the
//! allocated addresses of ServiceEntry hosts that have none.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::scope::SidecarScope;
use super::{Context, Proxy};
use crate::registry::catalog::{CatalogService, Health, Registry, Resolution};

/// One name's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameInfo {
    pub ips: Vec<String>,
    pub registry: Registry,
    /// Kubernetes Services: the agent answers `name`, `name.ns`... itself.
    pub shortname: Option<(String, String)>,
}

/// The name table, by hostname; empty unless the proxy captures DNS.
pub fn name_table(
    ctx: &Context,
    proxy: &Proxy,
    scope: &SidecarScope,
) -> BTreeMap<String, NameInfo> {
    let mut out: BTreeMap<String, NameInfo> = BTreeMap::new();
    if !proxy.flag("DNS_CAPTURE") {
        return out;
    }
    for listener in &scope.egress {
        for scoped in &listener.services {
            let s = scoped.service;
            let ips = addresses(ctx, proxy, s, &mut out);
            if ips.is_empty() {
                continue;
            }
            let kube_short =
                (s.registry == Registry::Kubernetes).then(|| (s.name.clone(), s.namespace.clone()));
            match out.get_mut(&s.hostname) {
                None => {
                    out.insert(
                        s.hostname.clone(),
                        NameInfo {
                            ips,
                            registry: s.registry,
                            shortname: kube_short,
                        },
                    );
                }
                // A Kubernetes Service wins over a ServiceEntry decorating it;
                // several ServiceEntry addresses of one host add up.
                Some(entry) if entry.registry != Registry::Kubernetes => {
                    if s.registry == Registry::Kubernetes {
                        *entry = NameInfo {
                            ips,
                            registry: Registry::Kubernetes,
                            shortname: kube_short,
                        };
                    } else {
                        entry.ips.extend(ips);
                    }
                }
                Some(_) => {}
            }
        }
    }
    out
}

/// What the agent answers for one service: its VIPs (IPs only, CIDRs
/// left out); for a headless one, its ready endpoints' IPs (and each pod
/// with a subdomain gets its own name in `table`, as Kubernetes DNS has);
/// for a ServiceEntry host without address, its allocated one when asked.
fn addresses(
    ctx: &Context,
    proxy: &Proxy,
    s: &CatalogService,
    table: &mut BTreeMap<String, NameInfo>,
) -> Vec<String> {
    let vips: Vec<&str> = proxy.vips(s).collect();
    if vips.is_empty() {
        if s.resolution != Resolution::Passthrough || s.ports.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        let domain = s.hostname.split_once('.').map(|(_, d)| d);
        for e in ctx.catalog.endpoints_of(s) {
            if e.health != Health::Healthy
                || e.address.parse::<IpAddr>().is_err()
                || out.contains(&e.address)
            {
                continue;
            }
            let pod_name = e
                .workload
                .and_then(|w| ctx.mesh.workloads[w].dns_name.as_ref());
            if let (Some((host, sub)), Some(domain)) = (pod_name, domain) {
                let short = format!("{host}.{sub}");
                table
                    .entry(format!("{short}.{domain}"))
                    .or_insert_with(|| NameInfo {
                        ips: Vec::new(),
                        registry: s.registry,
                        shortname: Some((short, s.namespace.clone())),
                    })
                    .ips
                    .push(e.address.clone());
            }
            out.push(e.address.clone());
        }
        return out;
    }
    vips.into_iter()
        .filter(|a| a.parse::<IpAddr>().is_ok())
        .map(str::to_string)
        .collect()
}

/// The table as istiod's `/debug/ndsz` prints it (proto JSON).
pub fn to_json(table: &BTreeMap<String, NameInfo>) -> Value {
    let entries: Map<String, Value> = table
        .iter()
        .map(|(host, info)| {
            let mut m = Map::new();
            m.insert("ips".into(), json!(info.ips));
            m.insert(
                "registry".into(),
                json!(match info.registry {
                    Registry::Kubernetes => "Kubernetes",
                    Registry::External => "External",
                }),
            );
            if let Some((name, ns)) = &info.shortname {
                m.insert("shortname".into(), json!(name));
                m.insert("namespace".into(), json!(ns));
            }
            (host.clone(), Value::Object(m))
        })
        .collect();
    json!({"table": entries})
}
