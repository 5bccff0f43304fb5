//! Service endpoints: from EndpointSlices or Endpoints when the input has
//! them (a cluster export, a selector-less Service), else from the Service's
//! selector over the workloads of its namespace, as the endpoints controller
//! would compute them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::model::Store;
use crate::model::core::{EndpointPort, EndpointSlice, Endpoints, ObjectReference};

use super::services::{Service, ServicePort, TargetPort};
use super::workloads::Workload;

/// Where an endpoint was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointSource {
    EndpointSlice,
    Endpoints,
    Selector,
}

/// One address:port behind one port of one Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Index into `Mesh::services`.
    pub service: usize,
    /// The Service port this endpoint serves.
    pub service_port: u16,
    pub address: IpAddr,
    pub port: u16,
    pub ready: bool,
    /// Index into `Mesh::workloads`, when the endpoint is a known workload.
    pub workload: Option<usize>,
    pub node: Option<String>,
    pub source: EndpointSource,
}

pub fn build(store: &Store, services: &[Service], workloads: &[Workload]) -> Vec<Endpoint> {
    let by_name: BTreeMap<(&str, &str), usize> = workloads
        .iter()
        .enumerate()
        .map(|(i, w)| ((w.namespace.as_str(), w.name.as_str()), i))
        .collect();
    let by_ip: BTreeMap<IpAddr, usize> = workloads
        .iter()
        .enumerate()
        .map(|(i, w)| (w.ip, i))
        .collect();
    let find = |ns: &str, target: Option<&ObjectReference>, ip: IpAddr| {
        target
            .filter(|t| t.kind.as_deref().is_none_or(|k| k == "Pod"))
            .and_then(|t| {
                let name = t.name.as_deref()?;
                by_name
                    .get(&(t.namespace.as_deref().unwrap_or(ns), name))
                    .copied()
            })
            .or_else(|| by_ip.get(&ip).copied())
    };

    let mut slices: BTreeMap<(&str, &str), Vec<&EndpointSlice>> = BTreeMap::new();
    for (o, s) in store.of::<EndpointSlice>() {
        if let Some(svc) = o.meta().labels.get("kubernetes.io/service-name") {
            slices
                .entry((o.namespace(), svc.as_str()))
                .or_default()
                .push(s);
        }
    }
    let legacy: BTreeMap<(&str, &str), &Endpoints> = store
        .of::<Endpoints>()
        .map(|(o, e)| ((o.namespace(), o.name()), e))
        .collect();

    let mut out = Vec::new();
    for (si, svc) in services.iter().enumerate() {
        let key = (svc.namespace.as_str(), svc.name.as_str());
        // Addresses the input states, from either object kind, then matched to
        // Service ports by name in one place.
        let mut given: Vec<Given<'_>> = Vec::new();
        if let Some(slices) = slices.get(&key) {
            for slice in slices {
                for ep in &slice.endpoints {
                    for ip in &ep.addresses {
                        given.push(Given {
                            ip,
                            ready: svc.publish_not_ready || ep.conditions.ready.unwrap_or(true),
                            target: ep.target_ref.as_ref(),
                            node: ep.node_name.as_ref(),
                            ports: &slice.ports,
                            source: EndpointSource::EndpointSlice,
                        });
                    }
                }
            }
        } else if let Some(eps) = legacy.get(&key) {
            for subset in &eps.subsets {
                let addrs = subset.addresses.iter().map(|a| (a, true)).chain(
                    subset
                        .not_ready_addresses
                        .iter()
                        .map(|a| (a, svc.publish_not_ready)),
                );
                for (addr, ready) in addrs {
                    given.push(Given {
                        ip: &addr.ip,
                        ready,
                        target: addr.target_ref.as_ref(),
                        node: addr.node_name.as_ref(),
                        ports: &subset.ports,
                        source: EndpointSource::Endpoints,
                    });
                }
            }
        }
        if slices.contains_key(&key) || legacy.contains_key(&key) {
            for g in given {
                let Ok(ip) = g.ip.parse::<IpAddr>() else {
                    continue;
                };
                for sp in g.ports {
                    let Some(port) = sp.port.and_then(|p| u16::try_from(p).ok()) else {
                        continue;
                    };
                    let Some(service_port) = port_by_name(&svc.ports, sp.name.as_deref()) else {
                        continue;
                    };
                    out.push(Endpoint {
                        service: si,
                        service_port: service_port.port,
                        address: ip,
                        port,
                        ready: g.ready,
                        workload: find(&svc.namespace, g.target, ip),
                        node: g.node.cloned(),
                        source: g.source,
                    });
                }
            }
        } else {
            let (first, same_ns) = super::in_namespace(workloads, &svc.namespace, |w| &w.namespace);
            for (wi, w) in same_ns.iter().enumerate().map(|(i, w)| (first + i, w)) {
                if !svc.selects(&w.namespace, &w.labels) {
                    continue;
                }
                for sp in &svc.ports {
                    // A pod without the named port is left out, as Kubernetes does.
                    let port = match &sp.target {
                        TargetPort::Number(n) => *n,
                        TargetPort::Name(name) => match w.named_port(name) {
                            Some(p) => p,
                            None => continue,
                        },
                    };
                    out.push(Endpoint {
                        service: si,
                        service_port: sp.port,
                        address: w.ip,
                        port,
                        ready: w.ready || svc.publish_not_ready,
                        workload: Some(wi),
                        node: w.node.clone(),
                        source: EndpointSource::Selector,
                    });
                }
            }
        }
    }
    out
}

/// An address an EndpointSlice or Endpoints object states for a Service.
struct Given<'a> {
    ip: &'a str,
    ready: bool,
    target: Option<&'a ObjectReference>,
    node: Option<&'a String>,
    ports: &'a [EndpointPort],
    source: EndpointSource,
}

/// The Service port an EndpointSlice/Endpoints port belongs to: same name
/// ("" and unset are the same, for single-port Services).
fn port_by_name<'a>(ports: &'a [ServicePort], name: Option<&str>) -> Option<&'a ServicePort> {
    let name = name.filter(|n| !n.is_empty());
    ports.iter().find(|p| p.name.as_deref() == name)
}
