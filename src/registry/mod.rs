//! The registry: the mesh as istiod sees it, derived from the typed model.
//!
//! Services, workloads (given pods, pods synthesized from controllers,
//! WorkloadEntries), endpoints, which workloads run a proxy and of which type,
//! and the mesh configuration. Every collection is sorted by (namespace,
//! name), so everything downstream iterates deterministically.

pub mod catalog;
pub mod config;
pub mod endpoints;
pub mod gateways;
pub mod injection;
pub mod names;
pub mod protocol;
pub mod resolve;
pub mod services;
pub mod translate;
pub mod workloads;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::diag::{Diagnostics, Severity, Span};
use crate::load::yaml::decode_text;
use crate::model::core::{ConfigMap, Namespace, Node};
use crate::model::istio::WorkloadEntry;
use crate::model::mesh_config::{MeshConfig, MeshNetworks};
use crate::model::{Labels, Object, Store, Typed, typed};

pub use endpoints::Endpoint;
pub use injection::{Decision, ProxyType};
pub use services::Service;
pub use workloads::Workload;

/// Options of the registry stage.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Take namespaces no Namespace object declares as `istio-injection: enabled`.
    pub implicit_injection: bool,
    /// `--mesh-config`, laid over the `istio` ConfigMap.
    pub mesh_config: Option<MeshConfig>,
}

/// A namespace: declared by a Namespace object, or only named by objects.
#[derive(Debug, Clone)]
pub struct NamespaceInfo {
    pub labels: Labels,
    pub declared: bool,
}

/// The derived mesh.
#[derive(Debug, Default)]
pub struct Mesh {
    pub mesh_config: MeshConfig,
    pub mesh_networks: MeshNetworks,
    pub namespaces: BTreeMap<String, NamespaceInfo>,
    pub services: Vec<Service>,
    pub workloads: Vec<Workload>,
    /// Parallel to `workloads`.
    pub decisions: Vec<Decision>,
    pub endpoints: Vec<Endpoint>,
}

/// The DNS suffix of Kubernetes Services.
pub const DOMAIN_SUFFIX: &str = "cluster.local";

impl Mesh {
    /// Workloads that run a proxy, with its type.
    pub fn proxies(&self) -> impl Iterator<Item = (usize, &Workload, ProxyType)> {
        self.workloads
            .iter()
            .zip(&self.decisions)
            .enumerate()
            .filter_map(|(i, (w, d))| match d {
                Decision::Proxy { kind, .. } => Some((i, w, *kind)),
                Decision::None(_) => None,
            })
    }

    /// Services whose selector picks the workload.
    pub fn services_of(&self, w: &Workload) -> impl Iterator<Item = &Service> {
        let (_, same_ns) = in_namespace(&self.services, &w.namespace, |s| &s.namespace);
        same_ns
            .iter()
            .filter(move |s| s.selects(&w.namespace, &w.labels))
    }

    /// Endpoints of one service.
    pub fn endpoints_of(&self, service: usize) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(move |e| e.service == service)
    }
}

pub fn build(store: &Store, opts: &Options, diags: &mut Diagnostics) -> Mesh {
    let (mesh_config, mesh_networks) = mesh_config(store, opts, diags);
    let namespaces = namespaces(store, opts.implicit_injection, diags);
    let injector = injection::Injector::from_store(store, diags);
    let synthesized = gateways::auto_deployments(store, diags);
    let mut workloads =
        workloads::build(store, &synthesized, workload_entries(store, diags), diags);
    let nodes: BTreeMap<&str, &Labels> = store
        .of::<Node>()
        .map(|(o, _)| (o.name(), &o.meta().labels))
        .collect();
    for w in &mut workloads {
        if w.locality.is_none() {
            w.locality = locality(
                &w.labels,
                w.node.as_deref().and_then(|n| nodes.get(n).copied()),
            );
        }
    }
    let services = services::build(store, &synthesized, DOMAIN_SUFFIX, diags);
    let endpoints = endpoints::build(store, &services, &workloads);
    let empty = Labels::new();
    let decisions = workloads
        .iter()
        .map(|w| {
            let labels = namespaces.get(&w.namespace).map_or(&empty, |n| &n.labels);
            injector.decide(w, labels)
        })
        .collect();
    Mesh {
        mesh_config,
        mesh_networks,
        namespaces,
        services,
        workloads,
        decisions,
        endpoints,
    }
}

/// The run of `items` (sorted by namespace first) in namespace `ns`, with
/// the index it starts at: selectors never cross namespaces, so matching
/// within the run keeps the work linear in the mesh.
pub fn in_namespace<'a, T>(items: &'a [T], ns: &str, ns_of: fn(&T) -> &String) -> (usize, &'a [T]) {
    let start = items.partition_point(|x| ns_of(x).as_str() < ns);
    let len = items[start..].partition_point(|x| ns_of(x).as_str() == ns);
    (start, &items[start..start + len])
}

/// A pod's locality as istiod reads it: the `topology.istio.io/locality` (or
/// legacy `istio-locality`) label, dots for slashes as label values allow no
/// `/`; else its Node's region, zone and Istio subzone labels, as
/// `region/zone/subzone` (istiod-sidecar.md §1.6).
fn locality(pod_labels: &Labels, node_labels: Option<&Labels>) -> Option<String> {
    if let Some(l) = pod_labels
        .get("topology.istio.io/locality")
        .or_else(|| pod_labels.get("istio-locality"))
        .filter(|l| !l.is_empty())
    {
        return Some(l.replace('.', "/"));
    }
    let node = node_labels?;
    let get = |ga: &str, beta: &str| {
        node.get(ga)
            .or_else(|| node.get(beta))
            .cloned()
            .unwrap_or_default()
    };
    let region = get(
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/region",
    );
    let zone = get(
        "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/zone",
    );
    let subzone = get("topology.istio.io/subzone", "topology.istio.io/subzone");
    if region.is_empty() && zone.is_empty() && subzone.is_empty() {
        return None;
    }
    Some(format!("{region}/{zone}/{subzone}"))
}

/// Objects of one type from the store and from those the registry
/// synthesized (gateway deployments, translated routes), as one sequence.
pub(crate) fn all_of<'a, T: Typed + 'a>(
    store: &'a Store,
    synthesized: &'a [Object],
) -> impl Iterator<Item = (&'a Object, &'a T)> {
    store.of::<T>().chain(typed::<T>(synthesized))
}

/// WorkloadEntries as workloads: labels from the spec under the object's own
/// (which win), the address as given.
fn workload_entries(store: &Store, diags: &mut Diagnostics) -> Vec<workloads::ExtraWorkload> {
    let mut out = Vec::new();
    for (o, we) in store.of::<WorkloadEntry>() {
        let spec = &we.spec;
        let address = spec.address.as_deref().unwrap_or("");
        let ip = match address.parse() {
            Ok(ip) => ip,
            Err(_) => {
                diags.report(
                    Severity::Warning,
                    "unsupported",
                    Some(o.span.clone()),
                    Some(o.describe()),
                    format!("address `{address}` is not an IP address; DNS names and Unix sockets are not resolved offline, so this entry has no endpoint"),
                );
                continue;
            }
        };
        let mut labels = spec.labels.clone();
        labels.extend(o.meta().labels.clone());
        out.push(workloads::ExtraWorkload {
            workload: Workload {
                name: o.name().to_string(),
                namespace: o.namespace().to_string(),
                origin: workloads::Origin::WorkloadEntry,
                controller: None,
                labels,
                annotations: o.meta().annotations.clone(),
                ip,
                node: None,
                locality: spec.locality.clone().filter(|l| !l.is_empty()),
                // "" when unset: a WorkloadEntry has no default identity.
                service_account: spec.service_account.clone().unwrap_or_default(),
                ports: spec
                    .ports
                    .iter()
                    .filter_map(|(name, port)| {
                        Some(workloads::ContainerPort {
                            name: Some(name.clone()),
                            port: u16::try_from(*port).ok()?,
                            protocol: "TCP".to_string(),
                        })
                    })
                    .collect(),
                containers: Vec::new(),
                ready: true,
                host_network: false,
                dns_name: None,
                weight: spec.weight.unwrap_or(1).max(1),
                span: o.span.clone(),
            },
            ip: Some(ip),
        });
    }
    out
}

/// Declared namespaces with their labels, plus every namespace an object
/// names; the latter taken as injection-enabled unless told otherwise,
/// because manifest repositories often leave namespaces to the platform.
fn namespaces(
    store: &Store,
    implicit_injection: bool,
    diags: &mut Diagnostics,
) -> BTreeMap<String, NamespaceInfo> {
    let mut out: BTreeMap<String, NamespaceInfo> = store
        .of::<Namespace>()
        .map(|(o, _)| {
            (
                o.name().to_string(),
                NamespaceInfo {
                    labels: o.meta().labels.clone(),
                    declared: true,
                },
            )
        })
        .collect();
    let mut implicit = BTreeSet::new();
    for o in store.objects() {
        let ns = o.namespace();
        if ns.is_empty() || out.contains_key(ns) {
            continue;
        }
        let mut labels = Labels::new();
        if implicit_injection {
            labels.insert("istio-injection".to_string(), "enabled".to_string());
        }
        implicit.insert(ns.to_string());
        out.insert(
            ns.to_string(),
            NamespaceInfo {
                labels,
                declared: false,
            },
        );
    }
    if implicit_injection && !implicit.is_empty() {
        diags.report(
            Severity::Warning,
            "implicit-namespace",
            None,
            None,
            format!(
                "no Namespace object declares {}; taken as labelled istio-injection=enabled (--no-implicit-injection turns this off)",
                implicit.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    out
}

/// MeshConfig: Istio's defaults, then the `istio` ConfigMap, then `--mesh-config`.
fn mesh_config(
    store: &Store,
    opts: &Options,
    diags: &mut Diagnostics,
) -> (MeshConfig, MeshNetworks) {
    let mut config = MeshConfig::default();
    let mut networks = MeshNetworks::default();
    // istiod reads the ConfigMap of its own namespace; with none named
    // istio-system, a lone `istio` ConfigMap elsewhere is taken.
    let candidates: Vec<_> = store
        .of::<ConfigMap>()
        .filter(|(o, _)| o.name() == "istio")
        .collect();
    let chosen = candidates
        .iter()
        .find(|(o, _)| o.namespace() == "istio-system")
        .or(if candidates.len() == 1 {
            candidates.first()
        } else {
            None
        });
    if let Some((o, cm)) = chosen {
        let at = |key: &str| format!("{}: data.{key}", o.describe());
        if let Some(text) = cm.data.get("mesh") {
            if let Some(c) = decode_embedded::<MeshConfig>(text, &o.span, &at("mesh"), diags) {
                config = config.overlay(c);
            }
        }
        if let Some(text) = cm.data.get("meshNetworks")
            && let Some(n) =
                decode_embedded::<MeshNetworks>(text, &o.span, &at("meshNetworks"), diags)
        {
            networks = n;
        }
    }
    if let Some(c) = &opts.mesh_config {
        config = config.overlay(c.clone());
    }
    (config, networks)
}

/// A YAML document held in a ConfigMap value; problems are reported at the
/// ConfigMap.
fn decode_embedded<T: serde::de::DeserializeOwned>(
    text: &str,
    span: &Span,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    let mut unknown = Vec::new();
    let result = decode_text::<T>(text, &mut |p| unknown.push(p));
    for path in unknown {
        diags.report(
            Severity::Warning,
            "unknown-field",
            Some(span.clone()),
            Some(what.to_string()),
            format!("field `{path}` does not exist; ignored"),
        );
    }
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            diags.report(
                Severity::Error,
                "invalid-object",
                Some(span.clone()),
                Some(what.to_string()),
                format!("line {} of the embedded YAML: {}", e.line, e.message),
            );
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MeshConfigError {
    #[error("cannot read --mesh-config {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("--mesh-config {0} is not a valid MeshConfig (see the errors above)")]
    Invalid(String),
}

/// `--mesh-config FILE`: a MeshConfig YAML document.
pub fn read_mesh_config_file(
    path: &Path,
    diags: &mut Diagnostics,
) -> Result<MeshConfig, MeshConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| MeshConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let span = Span::new(std::sync::Arc::from(path), 1);
    decode_embedded::<MeshConfig>(&text, &span, "--mesh-config", diags)
        .ok_or_else(|| MeshConfigError::Invalid(path.display().to_string()))
}
