//! The service catalog as istiod's push context holds it: Kubernetes Services
//! and ServiceEntries as one list of hostnames (one entry per host × address
//! of a ServiceEntry), with protocol-typed ports, resolution, visibility and
//! their endpoints (istiod-sidecar.md §1.1, §1.2, §1.5, §4.7, §8.1).
//!
//! Services are in istiod's canonical order: creation time, then name, then
//! namespace (§1.7). Manifests rarely carry `creationTimestamp`; without it the
//! name decides, where a live cluster would use apply time.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::diag::{Diagnostics, Severity};
use crate::model::istio::{ServiceEntry, WorkloadEntrySpec};
use crate::model::{Labels, Store};

use super::Mesh;
use super::injection::Decision;
use super::protocol::Protocol;
use super::services::{Service as KubeService, ServiceKind};
use super::workloads::{Origin, WORKLOAD_NAME, Workload};

/// Which registry a service comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Registry {
    Kubernetes,
    /// A ServiceEntry.
    External,
}

/// How the proxy finds the service's endpoints (istiod's `Resolution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Endpoints pushed by EDS (ClusterIP Services, `resolution: STATIC`).
    ClientSideLb,
    /// `resolution: DNS`.
    DnsLb,
    /// `resolution: DNS_ROUND_ROBIN`.
    DnsRoundRobin,
    /// Headless Services and `resolution: NONE`: the original destination.
    Passthrough,
    /// ExternalName Services: another hostname's configuration applies.
    Alias,
    /// `resolution: DYNAMIC_DNS` (wildcard hosts).
    DynamicDns,
}

/// One port of a catalog service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// "" when the Kubernetes port has no name.
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
    /// ServiceEntry `targetPort` (the default endpoint port).
    pub target_port: Option<u16>,
}

/// The object a catalog entry or endpoint comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjRef {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
}

/// One catalog service (istiod's `model.Service`).
#[derive(Debug, Clone)]
pub struct CatalogService {
    pub hostname: String,
    /// Kubernetes name; the hostname for ServiceEntries.
    pub name: String,
    pub namespace: String,
    pub registry: Registry,
    pub resolution: Resolution,
    pub mesh_external: bool,
    /// The VIP, a CIDR, or `0.0.0.0` when there is none.
    pub address: String,
    /// Every VIP (Kubernetes `clusterIPs`).
    pub cluster_vips: Vec<String>,
    pub ports: Vec<Port>,
    /// `exportTo` as written; empty means the mesh default.
    pub export_to: Vec<String>,
    /// Selector (Kubernetes) or workloadSelector (ServiceEntry).
    pub selector: Option<Labels>,
    /// `metadata.creationTimestamp` as written (RFC 3339 sorts as text).
    pub creation: Option<String>,
    /// Kubernetes headless Service (its vhosts get `*.` domains).
    pub k8s_headless: bool,
    /// ExternalName: the name it aliases.
    pub external_name: Option<String>,
    /// Alias hostnames (ExternalName Services) resolving to this service.
    pub aliases: Vec<String>,
    /// Service accounts from annotations or `subjectAltNames`.
    pub service_accounts: Vec<String>,
    /// `internalTrafficPolicy: Local`.
    pub node_local: bool,
    /// A ServiceEntry host without an address: the 240.240.x.y address
    /// istiod's legacy allocator gives it, which proxies asking for DNS
    /// auto-allocation resolve it to.
    pub auto_allocated: Option<String>,
    pub annotations: Labels,
    pub source: ObjRef,
}

impl CatalogService {
    pub fn port(&self, number: u16) -> Option<&Port> {
        self.ports.iter().find(|p| p.port == number)
    }

    pub fn port_named(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Its exportTo, else `default_export` (mesh defaultServiceExportTo).
    fn export<'e>(&'e self, default_export: &'e [String]) -> &'e [String] {
        if self.export_to.is_empty() {
            default_export
        } else {
            &self.export_to
        }
    }

    /// Visible from `ns` under `default_export` (mesh defaultServiceExportTo)?
    pub fn visible_from(&self, ns: &str, default_export: &[String]) -> bool {
        let export = self.export(default_export);
        export.is_empty()
            || export.iter().any(|e| match e.as_str() {
                "*" => true,
                "." => self.namespace == ns,
                "~" => false,
                other => other == ns,
            })
    }

    /// Exported to `ns` privately (own namespace or named), as opposed to
    /// publicly (`*`): istiod lists private services first.
    pub fn private_to(&self, ns: &str, default_export: &[String]) -> bool {
        !self.exported_to_all(default_export) && self.visible_from(ns, default_export)
    }

    /// Visible from every namespace alike ([`Self::visible_from`] and
    /// [`Self::private_to`] the same whatever the namespace).
    pub fn alike_from_every_namespace(&self, default_export: &[String]) -> bool {
        self.export(default_export).is_empty() || self.exported_to_all(default_export)
    }

    fn exported_to_all(&self, default_export: &[String]) -> bool {
        self.export(default_export).iter().any(|e| e == "*")
    }
}

#[cfg(test)]
impl CatalogService {
    /// A service in `default` for unit tests, with only what a test names.
    pub fn for_test(
        hostname: &str,
        name: &str,
        registry: Registry,
        resolution: Resolution,
        ports: Vec<Port>,
    ) -> CatalogService {
        CatalogService {
            hostname: hostname.to_string(),
            name: name.to_string(),
            namespace: "default".to_string(),
            registry,
            resolution,
            mesh_external: registry == Registry::External,
            address: "0.0.0.0".to_string(),
            cluster_vips: Vec::new(),
            ports,
            export_to: Vec::new(),
            selector: None,
            creation: None,
            k8s_headless: false,
            external_name: None,
            aliases: Vec::new(),
            service_accounts: Vec::new(),
            node_local: false,
            auto_allocated: None,
            annotations: Labels::new(),
            source: ObjRef {
                kind: "Service",
                namespace: "default".to_string(),
                name: name.to_string(),
            },
        }
    }
}

/// Endpoint health as EDS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unhealthy,
    Draining,
}

/// One address:port behind one port of one service (istiod's `IstioEndpoint`).
#[derive(Debug, Clone)]
pub struct IstioEndpoint {
    /// An IP, a DNS name (DNS ServiceEntries) or a `unix://` path.
    pub address: String,
    pub port: u16,
    /// The service port name this endpoint serves.
    pub service_port_name: String,
    pub labels: Labels,
    /// `spiffe://<trust domain>/ns/<ns>/sa/<sa>`, or "".
    pub service_account: String,
    /// `region/zone/subzone`, or "".
    pub locality: String,
    /// `istio` or `disabled`.
    pub tls_mode: String,
    /// Owning controller's name (or the pod's), for telemetry metadata.
    pub workload_name: String,
    pub namespace: String,
    pub node: Option<String>,
    pub health: Health,
    pub weight: u32,
    /// Index into `Mesh::workloads`, when the endpoint is a known workload.
    pub workload: Option<usize>,
}

/// Every service istiod knows, with endpoints per (hostname, namespace).
#[derive(Debug, Default)]
pub struct Catalog {
    pub services: Vec<CatalogService>,
    /// Service indices per hostname, in catalog order (a fast hash: every
    /// view looks up thousands).
    by_host: foldhash::HashMap<String, Vec<usize>>,
    /// Service indices per namespace, in catalog order: a workload's
    /// services are looked up among its namespace's only.
    by_namespace: HashMap<String, Vec<usize>>,
    /// Endpoints per (hostname, namespace), every port.
    pub endpoints: BTreeMap<(String, String), Vec<IstioEndpoint>>,
}

impl Catalog {
    /// The catalog of `services` (in that order) and `endpoints`, indexed.
    pub fn new(
        services: Vec<CatalogService>,
        endpoints: BTreeMap<(String, String), Vec<IstioEndpoint>>,
    ) -> Catalog {
        let mut by_host: foldhash::HashMap<String, Vec<usize>> = Default::default();
        let mut by_namespace: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in services.iter().enumerate() {
            by_host.entry(s.hostname.clone()).or_default().push(i);
            by_namespace.entry(s.namespace.clone()).or_default().push(i);
        }
        Catalog {
            services,
            by_host,
            by_namespace,
            endpoints,
        }
    }

    /// The services of namespace `ns`, in catalog order.
    pub fn in_namespace(&self, ns: &str) -> impl Iterator<Item = &CatalogService> {
        self.by_namespace
            .get(ns)
            .into_iter()
            .flatten()
            .map(|&i| &self.services[i])
    }

    pub fn endpoints_of(&self, s: &CatalogService) -> &[IstioEndpoint] {
        self.endpoints
            .get(&(s.hostname.clone(), s.namespace.clone()))
            .map_or(&[], Vec::as_slice)
    }

    /// Services with this hostname, in catalog order.
    pub fn with_host(&self, host: &str) -> impl Iterator<Item = (usize, &CatalogService)> {
        self.by_host
            .get(host)
            .into_iter()
            .flatten()
            .map(|&i| (i, &self.services[i]))
    }

    /// The hostname of an extension provider's `service` (istiod's
    /// `LookupCluster`): `ns/host`, or a `host` that only one namespace has.
    pub fn provider_host(&self, service: &str) -> Result<String, String> {
        if service.is_empty() {
            return Err("service must not be empty".to_string());
        }
        if let Some((ns, host)) = service.split_once('/') {
            if self.with_host(host).any(|(_, s)| s.namespace == ns) {
                return Ok(host.to_string());
            }
        } else {
            let mut namespaces: Vec<&str> = self
                .with_host(service)
                .map(|(_, s)| s.namespace.as_str())
                .collect();
            namespaces.dedup();
            match namespaces.len() {
                1 => return Ok(service.to_string()),
                0 => {}
                _ => {
                    return Err(format!(
                        "found {service} in multiple namespaces {namespaces:?}, specify the namespace explicitly in the format of <Namespace>/<Hostname>"
                    ));
                }
            }
        }
        Err(format!(
            "could not find service {service} in Istio service registry"
        ))
    }
}

/// The SPIFFE identity of a service account.
pub fn spiffe(trust_domain: &str, ns: &str, sa: &str) -> String {
    format!("spiffe://{trust_domain}/ns/{ns}/sa/{sa}")
}

pub fn build(store: &Store, mesh: &Mesh, diags: &mut Diagnostics) -> Catalog {
    let trust_domain = mesh.mesh_config.trust_domain().to_string();
    let mut services = Vec::new();
    let mut endpoints: BTreeMap<(String, String), Vec<IstioEndpoint>> = BTreeMap::new();

    let mut by_service: Vec<Vec<&super::Endpoint>> = vec![Vec::new(); mesh.services.len()];
    for e in &mesh.endpoints {
        by_service[e.service].push(e);
    }
    for (si, s) in mesh.services.iter().enumerate() {
        let cs = from_kube(s, &trust_domain);
        let key = (cs.hostname.clone(), cs.namespace.clone());
        let eps = endpoints.entry(key).or_default();
        for e in &by_service[si] {
            let Some(sp) = s.ports.iter().find(|p| p.port == e.service_port) else {
                continue;
            };
            let w = e.workload.map(|i| (i, &mesh.workloads[i]));
            eps.push(endpoint_of(
                mesh,
                w,
                e.address.to_string(),
                e.port,
                sp.name.clone().unwrap_or_default(),
                &s.namespace,
                if e.ready {
                    Health::Healthy
                } else {
                    Health::Unhealthy
                },
                e.node.clone(),
                &trust_domain,
            ));
        }
        services.push(cs);
    }

    for (o, se) in store.of::<ServiceEntry>() {
        let spec = &se.spec;
        let ns = o.namespace().to_string();
        let source = ObjRef {
            kind: "ServiceEntry",
            namespace: ns.clone(),
            name: o.name().to_string(),
        };
        let resolution = match spec.resolution.as_deref().unwrap_or("NONE") {
            "NONE" => Resolution::Passthrough,
            "STATIC" => Resolution::ClientSideLb,
            "DNS" => Resolution::DnsLb,
            "DNS_ROUND_ROBIN" => Resolution::DnsRoundRobin,
            "DYNAMIC_DNS" => Resolution::DynamicDns,
            other => {
                diags.report(
                    Severity::Warning,
                    "invalid-value",
                    Some(o.span.clone()),
                    Some(o.describe()),
                    format!("spec.resolution `{other}` is not a resolution; taken as NONE"),
                );
                Resolution::Passthrough
            }
        };
        let mesh_external = spec.location.as_deref() != Some("MESH_INTERNAL");
        let ports: Vec<Port> = spec
            .ports
            .iter()
            .filter_map(|p| {
                Some(Port {
                    name: p.name.clone().unwrap_or_default(),
                    port: u16::try_from(p.number?).ok()?,
                    protocol: Protocol::parse(p.protocol.as_deref().unwrap_or("")),
                    target_port: p.target_port.and_then(|t| u16::try_from(t).ok()),
                })
            })
            .collect();
        let addresses: Vec<String> = if spec.addresses.is_empty() {
            vec!["0.0.0.0".to_string()]
        } else {
            spec.addresses.iter().map(|a| bare_ip(a)).collect()
        };
        let selector = spec
            .workload_selector
            .as_ref()
            .map(|s| s.labels.clone())
            .filter(|l| !l.is_empty());
        for host in &spec.hosts {
            for address in &addresses {
                services.push(CatalogService {
                    hostname: host.clone(),
                    name: host.clone(),
                    namespace: ns.clone(),
                    registry: Registry::External,
                    resolution,
                    mesh_external,
                    address: address.clone(),
                    cluster_vips: if address == "0.0.0.0" {
                        Vec::new()
                    } else {
                        vec![address.clone()]
                    },
                    ports: ports.clone(),
                    export_to: spec.export_to.clone(),
                    selector: selector.clone(),
                    creation: o.meta().creation_timestamp.clone(),
                    k8s_headless: false,
                    external_name: None,
                    aliases: Vec::new(),
                    service_accounts: spec.subject_alt_names.clone(),
                    node_local: false,
                    auto_allocated: None,
                    annotations: o.meta().annotations.clone(),
                    source: source.clone(),
                });
            }
            let eps = endpoints.entry((host.clone(), ns.clone())).or_default();
            se_endpoints(
                mesh,
                spec.endpoints.as_slice(),
                selector.as_ref(),
                host,
                &source,
                resolution,
                &ports,
                &trust_domain,
                eps,
            );
        }
    }

    services.sort_by(|a, b| {
        // A missing timestamp sorts first, like Go's zero time.
        (&a.creation, &a.name, &a.namespace).cmp(&(&b.creation, &b.name, &b.namespace))
    });
    resolve_aliases(&mut services);
    auto_allocate(&mut services);
    Catalog::new(services, endpoints)
}

/// A Kubernetes Service as istiod converts it.
fn from_kube(s: &KubeService, trust_domain: &str) -> CatalogService {
    let resolution = match s.kind {
        ServiceKind::Headless => Resolution::Passthrough,
        ServiceKind::ExternalName => Resolution::Alias,
        _ => Resolution::ClientSideLb,
    };
    let address = s
        .cluster_ip
        .map_or_else(|| "0.0.0.0".to_string(), |ip| ip.to_string());
    let split = |v: Option<&String>| -> Vec<String> {
        v.map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
    };
    let mut service_accounts = split(
        s.annotations
            .get("alpha.istio.io/canonical-serviceaccounts"),
    );
    service_accounts.extend(
        split(
            s.annotations
                .get("alpha.istio.io/kubernetes-serviceaccounts"),
        )
        .into_iter()
        .map(|sa| spiffe(trust_domain, &s.namespace, &sa)),
    );
    CatalogService {
        hostname: s.hostname.clone(),
        name: s.name.clone(),
        namespace: s.namespace.clone(),
        registry: Registry::Kubernetes,
        resolution,
        mesh_external: s.kind == ServiceKind::ExternalName,
        cluster_vips: s.cluster_ip.iter().map(ToString::to_string).collect(),
        address,
        ports: s
            .ports
            .iter()
            .map(|p| Port {
                name: p.name.clone().unwrap_or_default(),
                port: p.port,
                protocol: Protocol::of_kube_port(
                    p.port,
                    p.name.as_deref(),
                    &p.protocol,
                    p.app_protocol.as_deref(),
                ),
                target_port: None,
            })
            .collect(),
        export_to: split(s.annotations.get("networking.istio.io/exportTo")),
        selector: s.selector.clone().filter(|l| !l.is_empty()),
        creation: s.creation.clone(),
        k8s_headless: s.kind == ServiceKind::Headless,
        external_name: s.external_name.clone(),
        aliases: Vec::new(),
        service_accounts,
        node_local: s.internal_traffic_local,
        auto_allocated: None,
        annotations: s.annotations.clone(),
        source: ObjRef {
            kind: "Service",
            namespace: s.namespace.clone(),
            name: s.name.clone(),
        },
    }
}

/// `/32` and `/128` CIDRs are plain addresses to istiod.
fn bare_ip(a: &str) -> String {
    match a.split_once('/') {
        Some((ip, "32")) | Some((ip, "128")) if ip.parse::<IpAddr>().is_ok() => ip.to_string(),
        _ => a.to_string(),
    }
}

/// istiod's legacy address allocation for ServiceEntry hosts without an
/// address (`serviceentry/auto_allocation.go`; PILOT_ENABLE_IP_AUTOALLOCATE
/// off). Each `namespace/host` is placed by its FNV-32a hash among
/// 256 × 254 slots, collisions resolved by double hashing, and the slot's
/// position becomes `240.240.<x / 255>.<x % 255>` (never `.0`). The newer
/// allocator writes addresses into ServiceEntry status, which files lack;
/// this deterministic one stands in for it.
fn auto_allocate(services: &mut [CatalogService]) {
    const SLOTS: u32 = 256 * 254;
    const PRIME: u32 = 65011;
    let mut slots: Vec<Option<usize>> = vec![None; SLOTS as usize];
    for (i, s) in services.iter().enumerate() {
        if s.registry != Registry::External
            || s.address != "0.0.0.0"
            || s.hostname.starts_with('*')
            || s.resolution == Resolution::Passthrough
        {
            continue;
        }
        let h = fnv32a(format!("{}/{}", s.namespace, s.hostname).as_bytes());
        let mut slot = h % SLOTS;
        let step = PRIME - (h % PRIME);
        let mut n = 1u32;
        while slots[slot as usize].is_some() {
            slot = h.wrapping_add(n.wrapping_mul(step)) % (SLOTS - 1);
            n += 1;
        }
        slots[slot as usize] = Some(i);
    }
    let mut x = 0u32;
    let mut by_key: BTreeMap<String, String> = BTreeMap::new();
    for slot in slots {
        x += 1;
        let Some(i) = slot else { continue };
        if x % 255 == 0 {
            x += 1;
        }
        let key = format!("{}/{}", services[i].namespace, services[i].hostname);
        let ip = by_key
            .entry(key)
            .or_insert_with(|| format!("240.240.{}.{}", x / 255, x % 255))
            .clone();
        services[i].auto_allocated = Some(ip);
    }
}

/// The 32-bit FNV-1a hash (istiod's allocator uses it; so do the simulated
/// certificates' serials).
pub fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// ExternalName Services become aliases of the service they name, chains
/// flattened, loops dropped (§4.7).
fn resolve_aliases(services: &mut [CatalogService]) {
    let targets: BTreeMap<String, String> = services
        .iter()
        .filter(|s| s.resolution == Resolution::Alias)
        .filter_map(|s| {
            let target = s.external_name.as_ref()?.trim_end_matches('.').to_string();
            Some((s.hostname.clone(), target))
        })
        .collect();
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for alias in targets.keys() {
        let mut seen = vec![alias.clone()];
        let mut at = alias;
        while let Some(next) = targets.get(at) {
            if seen.contains(next) {
                break;
            }
            seen.push(next.clone());
            at = next;
        }
        if !targets.contains_key(at) && at != alias {
            aliases.entry(at.clone()).or_default().push(alias.clone());
        }
    }
    for s in services.iter_mut() {
        if s.resolution != Resolution::Alias
            && let Some(a) = aliases.get(&s.hostname)
        {
            s.aliases = a.clone();
        }
    }
}

/// An endpoint from a workload (pod or WorkloadEntry), or a bare address.
#[allow(clippy::too_many_arguments)]
fn endpoint_of(
    mesh: &Mesh,
    w: Option<(usize, &Workload)>,
    address: String,
    port: u16,
    service_port_name: String,
    namespace: &str,
    health: Health,
    node: Option<String>,
    trust_domain: &str,
) -> IstioEndpoint {
    let Some((wi, w)) = w else {
        return IstioEndpoint {
            address,
            port,
            service_port_name,
            labels: Labels::new(),
            service_account: String::new(),
            locality: String::new(),
            tls_mode: "disabled".to_string(),
            workload_name: String::new(),
            namespace: namespace.to_string(),
            node,
            health,
            weight: 1,
            workload: None,
        };
    };
    let proxied = matches!(mesh.decisions[wi], Decision::Proxy { .. });
    let tls_mode = w
        .labels
        .get("security.istio.io/tlsMode")
        .cloned()
        .unwrap_or_else(|| {
            // A WorkloadEntry with an identity is taken as running a proxy.
            let istio = if w.origin == Origin::WorkloadEntry {
                !w.service_account.is_empty()
            } else {
                proxied
            };
            if istio { "istio" } else { "disabled" }.to_string()
        });
    let mut labels = w.labels.clone();
    if proxied {
        labels
            .entry("security.istio.io/tlsMode".to_string())
            .or_insert_with(|| tls_mode.clone());
    }
    IstioEndpoint {
        address,
        port,
        service_port_name,
        labels,
        service_account: if w.service_account.is_empty() {
            String::new()
        } else {
            spiffe(trust_domain, &w.namespace, &w.service_account)
        },
        locality: w.locality.clone().unwrap_or_default(),
        tls_mode,
        workload_name: w.workload_name().to_string(),
        namespace: w.namespace.clone(),
        node: node.or_else(|| w.node.clone()),
        health,
        weight: w.weight,
        workload: Some(wi),
    }
}

/// A ServiceEntry's endpoints for one host: inline endpoints, else the
/// workloads (WorkloadEntries and pods) its selector picks, else for DNS the
/// host itself (§1.5, §8.1).
#[allow(clippy::too_many_arguments)]
fn se_endpoints(
    mesh: &Mesh,
    inline: &[WorkloadEntrySpec],
    selector: Option<&Labels>,
    host: &str,
    se: &ObjRef,
    resolution: Resolution,
    ports: &[Port],
    trust_domain: &str,
    out: &mut Vec<IstioEndpoint>,
) {
    let ns = se.namespace.as_str();
    // istiod names inline endpoints `<entry>-<index>` and the endpoint of a
    // DNS host after the entry, unless a workload-name label says otherwise.
    for (i, we) in inline.iter().enumerate() {
        let workload_name = we
            .labels
            .get(WORKLOAD_NAME)
            .cloned()
            .unwrap_or_else(|| format!("{}-{i}", se.name));
        let Some(address) = we.address.clone() else {
            continue;
        };
        let tls_mode = we
            .labels
            .get("security.istio.io/tlsMode")
            .cloned()
            .unwrap_or_else(|| {
                if we.service_account.is_some() {
                    "istio"
                } else {
                    "disabled"
                }
                .to_string()
            });
        for p in ports {
            let port = if address.starts_with("unix://") {
                0
            } else {
                we.ports
                    .get(&p.name)
                    .and_then(|n| u16::try_from(*n).ok())
                    .or(p.target_port)
                    .unwrap_or(p.port)
            };
            out.push(IstioEndpoint {
                address: address.clone(),
                port,
                service_port_name: p.name.clone(),
                labels: we.labels.clone(),
                service_account: we
                    .service_account
                    .as_deref()
                    .map(|sa| spiffe(trust_domain, ns, sa))
                    .unwrap_or_default(),
                locality: we.locality.clone().unwrap_or_default(),
                tls_mode: tls_mode.clone(),
                workload_name: workload_name.clone(),
                namespace: ns.to_string(),
                node: None,
                health: Health::Healthy,
                weight: we.weight.unwrap_or(1).max(1),
                workload: None,
            });
        }
    }
    if let Some(sel) = selector {
        let (first, same_ns) = super::in_namespace(&mesh.workloads, ns, |w| &w.namespace);
        for (wi, w) in same_ns.iter().enumerate().map(|(i, w)| (first + i, w)) {
            if !sel.iter().all(|(k, v)| w.labels.get(k) == Some(v)) {
                continue;
            }
            for p in ports {
                let port = w
                    .named_port(&p.name)
                    .filter(|_| w.origin == Origin::WorkloadEntry)
                    .or(p.target_port)
                    .unwrap_or(p.port);
                let health = if w.ready {
                    Health::Healthy
                } else {
                    Health::Unhealthy
                };
                out.push(endpoint_of(
                    mesh,
                    Some((wi, w)),
                    w.ip.to_string(),
                    port,
                    p.name.clone(),
                    ns,
                    health,
                    None,
                    trust_domain,
                ));
            }
        }
    }
    if inline.is_empty()
        && selector.is_none()
        && matches!(resolution, Resolution::DnsLb | Resolution::DnsRoundRobin)
    {
        for p in ports {
            out.push(IstioEndpoint {
                address: host.to_string(),
                port: p.target_port.unwrap_or(p.port),
                service_port_name: p.name.clone(),
                labels: Labels::new(),
                service_account: String::new(),
                locality: String::new(),
                tls_mode: "disabled".to_string(),
                workload_name: se.name.clone(),
                namespace: ns.to_string(),
                node: None,
                health: Health::Healthy,
                weight: 1,
                workload: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_host_needs_the_service() {
        let catalog = Catalog::default();
        assert!(
            catalog
                .provider_host("ns/a.b")
                .unwrap_err()
                .contains("could not find")
        );
        assert!(catalog.provider_host("").is_err());
    }
}
