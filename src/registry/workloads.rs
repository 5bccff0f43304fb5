//! Workloads: the pods (and VMs) that would run, whether the input lists them
//! or only describes them through a controller.
//!
//! A manifest repository holds Deployments; an export of a live cluster holds
//! Deployments, ReplicaSets and their Pods together. Given Pods are taken as
//! they are; a controller is expanded into synthesized pods only when none of
//! its pods were given (ownership followed through ownerReferences, directly
//! or via a ReplicaSet), so both shapes of input give one pod per replica.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use crate::diag::{Diagnostics, Severity, Span};
use crate::model::core::{
    DaemonSet, Deployment, HorizontalPodAutoscaler, Node, Pod, PodSpec, PodTemplateSpec,
    ReplicaSet, StatefulSet,
};
use crate::model::{Labels, Object, ObjectMeta, Store};

use super::names::{self, IpPool, Range};

/// Where a workload comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// A Pod object of the input.
    Pod,
    /// Synthesized for replica `replica` of a controller.
    Synthesized { replica: usize },
    /// An Istio WorkloadEntry (a VM or other non-pod endpoint).
    WorkloadEntry,
}

/// The controller a pod belongs to, followed up to the top (a ReplicaSet
/// owned by a Deployment counts as the Deployment).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Controller {
    pub kind: &'static str,
    pub name: String,
}

/// A port a workload's containers declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: String,
}

/// One pod or VM.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub namespace: String,
    pub origin: Origin,
    pub controller: Option<Controller>,
    pub labels: Labels,
    pub annotations: Labels,
    pub ip: IpAddr,
    pub node: Option<String>,
    /// `region/zone/subzone`, as istiod derives it (see `registry::locality`).
    pub locality: Option<String>,
    pub service_account: String,
    pub ports: Vec<ContainerPort>,
    /// Containers by name, for proxy detection (`istio-proxy`).
    pub containers: Vec<ContainerFacts>,
    pub ready: bool,
    pub host_network: bool,
    /// `(hostname, subdomain)` when the pod has a subdomain: its DNS name is
    /// `<hostname>.<subdomain>.<namespace>.svc.<domain>`.
    pub dns_name: Option<(String, String)>,
    /// Load-balancing weight of its endpoints: a WorkloadEntry's `weight`,
    /// 1 for pods (§1.5).
    pub weight: u32,
    /// Where the object that defines it was written.
    pub span: Span,
}

/// What proxy detection needs to know about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerFacts {
    pub name: String,
    pub args: Vec<String>,
    pub image: Option<String>,
}

impl Workload {
    /// `name.namespace`, as istioctl proxy-status names a proxy.
    pub fn id(&self) -> String {
        format!("{}.{}", self.name, self.namespace)
    }

    /// The port named `name` in its containers.
    pub fn named_port(&self, name: &str) -> Option<u16> {
        self.ports
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
            .map(|p| p.port)
    }

    /// The name telemetry gives the workload: its controller's, a
    /// WorkloadEntry's group (or `service.istio.io/workload-name`), else
    /// its own.
    pub fn workload_name(&self) -> &str {
        match &self.controller {
            Some(c) => &c.name,
            None if self.origin == Origin::WorkloadEntry => self
                .annotations
                .get("istio.io/autoRegistrationGroup")
                .or_else(|| self.labels.get(WORKLOAD_NAME))
                .unwrap_or(&self.name),
            None => &self.name,
        }
    }
}

/// The label that names a non-pod endpoint's workload (telemetry).
pub const WORKLOAD_NAME: &str = "service.istio.io/workload-name";

/// The canonical service of a workload (`service.istio.io/canonical-name`,
/// which the injector sets): that label, else `app.kubernetes.io/name`,
/// else `app`, else the workload's name.
pub fn canonical_name(labels: &Labels, workload_name: &str) -> String {
    [
        "service.istio.io/canonical-name",
        "app.kubernetes.io/name",
        "app",
    ]
    .iter()
    .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()))
    .map_or(workload_name, String::as_str)
    .to_string()
}

/// The canonical revision of a workload
/// (`service.istio.io/canonical-revision`): that label, else
/// `app.kubernetes.io/version`, else `version`, else `latest`.
pub fn canonical_revision(labels: &Labels) -> String {
    [
        "service.istio.io/canonical-revision",
        "app.kubernetes.io/version",
        "version",
    ]
    .iter()
    .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()))
    .map_or_else(|| "latest".to_string(), Clone::clone)
}

/// A workload before its IP is known.
struct Pending {
    w: Workload,
    ip: Option<IpAddr>,
}

/// Derive every workload of the store.
pub fn build(
    store: &Store,
    synthesized: &[Object],
    extra: Vec<ExtraWorkload>,
    diags: &mut Diagnostics,
) -> Vec<Workload> {
    let replica_sets: BTreeMap<(&str, &str), &ReplicaSet> = store
        .of::<ReplicaSet>()
        .map(|(o, rs)| ((o.namespace(), o.name()), rs))
        .collect();
    let deployments: BTreeSet<(&str, &str)> = store
        .of::<Deployment>()
        .map(|(o, _)| (o.namespace(), o.name()))
        .collect();

    let mut pending: Vec<Pending> = Vec::new();
    let mut covered: BTreeSet<(String, Controller)> = BTreeSet::new();
    for (o, pod) in store.of::<Pod>() {
        let controller = pod_controller(o.meta(), o.namespace(), &replica_sets, &deployments);
        if let Some(c) = &controller {
            covered.insert((o.namespace().to_string(), c.clone()));
            if c.kind == "Deployment"
                && let Some(rs) = direct_owner(o.meta(), "ReplicaSet")
            {
                // The ReplicaSet is covered too, so it is not expanded on its own.
                covered.insert((
                    o.namespace().to_string(),
                    Controller {
                        kind: "ReplicaSet",
                        name: rs.to_string(),
                    },
                ));
            }
        }
        let ip = pod
            .status
            .as_ref()
            .and_then(|s| {
                s.pod_ip
                    .as_deref()
                    .or(s.pod_ips.first().map(|p| p.ip.as_str()))
            })
            .and_then(|ip| parse_ip(ip, o, diags));
        let ready = pod_ready(pod);
        pending.push(Pending {
            w: from_pod_spec(o, o.meta(), &pod.spec, Origin::Pod, controller, ready),
            ip,
        });
    }

    let nodes: Vec<(&Object, &Node)> = store.of::<Node>().collect();
    let hpa_min = hpa_min_replicas(store);
    let mut synth = |o: &Object,
                     kind: &'static str,
                     replicas: usize,
                     template: &PodTemplateSpec,
                     name_of: &dyn Fn(usize) -> (String, Option<String>)| {
        let controller = Controller {
            kind,
            name: o.name().to_string(),
        };
        if covered.contains(&(o.namespace().to_string(), controller.clone())) {
            return;
        }
        for replica in 0..replicas {
            let (name, node) = name_of(replica);
            let mut meta = template.metadata.clone();
            meta.name = name;
            meta.namespace = Some(o.namespace().to_string());
            let mut w = from_pod_spec(
                o,
                &meta,
                &template.spec,
                Origin::Synthesized { replica },
                Some(controller.clone()),
                true,
            );
            if node.is_some() {
                w.node = node;
            }
            pending.push(Pending { w, ip: None });
        }
    };

    for (o, d) in super::all_of::<Deployment>(store, synthesized) {
        let replicas = replicas(o, d.spec.replicas, &hpa_min, "Deployment");
        let hash = names::template_hash(o.namespace(), o.name());
        let rs_name = format!("{}-{hash}", o.name());
        let ns = o.namespace();
        synth(o, "Deployment", replicas, &d.spec.template, &|i| {
            let suffix = names::pod_suffix("ReplicaSet", ns, &rs_name, &i.to_string());
            (format!("{rs_name}-{suffix}"), None)
        });
    }
    for (o, s) in store.of::<StatefulSet>() {
        let replicas = replicas(o, s.spec.replicas, &hpa_min, "StatefulSet");
        let start = s.spec.ordinals.as_ref().and_then(|x| x.start).unwrap_or(0);
        let name = o.name().to_string();
        // The StatefulSet controller puts its pods under the governing
        // Service's subdomain.
        let mut template = s.spec.template.clone();
        template.spec.subdomain.clone_from(&s.spec.service_name);
        synth(o, "StatefulSet", replicas, &template, &|i| {
            (format!("{name}-{}", start + i as i64), None)
        });
    }
    for (o, rs) in store.of::<ReplicaSet>() {
        // A ReplicaSet owned by a Deployment is the Deployment's business.
        if direct_owner(o.meta(), "Deployment").is_some() {
            continue;
        }
        let Some(template) = &rs.spec.template else {
            continue;
        };
        let replicas = replicas(o, rs.spec.replicas, &hpa_min, "ReplicaSet");
        let (ns, name) = (o.namespace(), o.name().to_string());
        synth(o, "ReplicaSet", replicas, template, &|i| {
            let suffix = names::pod_suffix("ReplicaSet", ns, &name, &i.to_string());
            (format!("{name}-{suffix}"), None)
        });
    }
    for (o, ds) in store.of::<DaemonSet>() {
        let selector = &ds.spec.template.spec.node_selector;
        let chosen: Vec<String> = nodes
            .iter()
            .filter(|(n, _)| {
                selector
                    .iter()
                    .all(|(k, v)| n.meta().labels.get(k) == Some(v))
            })
            .map(|(n, _)| n.name().to_string())
            .collect();
        let (ns, name) = (o.namespace(), o.name().to_string());
        let count = if nodes.is_empty() { 1 } else { chosen.len() };
        synth(o, "DaemonSet", count, &ds.spec.template, &|i| {
            // Named after the node, so adding a node renames no other pod.
            let node = chosen.get(i).cloned();
            let suffix = names::pod_suffix("DaemonSet", ns, &name, node.as_deref().unwrap_or(""));
            (format!("{name}-{suffix}"), node)
        });
    }
    for e in extra {
        pending.push(Pending {
            w: e.workload,
            ip: e.ip,
        });
    }
    assign_ips(pending)
}

/// A workload the registry adds from another source (WorkloadEntry, a
/// Gateway API gateway's deployment), with its address when it has one.
pub struct ExtraWorkload {
    pub workload: Workload,
    pub ip: Option<IpAddr>,
}

fn parse_ip(text: &str, o: &Object, diags: &mut Diagnostics) -> Option<IpAddr> {
    match text.parse() {
        Ok(ip) => Some(ip),
        Err(_) => {
            diags.report(
                Severity::Warning,
                "invalid-ip",
                Some(o.span.clone()),
                Some(o.describe()),
                format!("`{text}` is not an IP address; a synthesized one is used"),
            );
            None
        }
    }
}

/// Pods without a given address get one by hash of `namespace/name`, after
/// every given address is known (so synthesized ones never collide with it).
fn assign_ips(pending: Vec<Pending>) -> Vec<Workload> {
    let taken = pending.iter().filter_map(|p| match p.ip {
        Some(IpAddr::V4(v4)) => Some(v4),
        _ => None,
    });
    let mut pool = IpPool::new(Range::PODS, taken);
    for p in pending.iter().filter(|p| p.ip.is_none()) {
        pool.want(ip_key(&p.w));
    }
    let assigned = pool.assign();
    let mut out: Vec<Workload> = pending
        .into_iter()
        .map(|p| {
            let mut w = p.w;
            w.ip =
                p.ip.or_else(|| assigned.get(&ip_key(&w)).copied().map(IpAddr::V4))
                    .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            w
        })
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

fn ip_key(w: &Workload) -> String {
    format!("{}/{}", w.namespace, w.name)
}

/// Ready unless the pod's status says otherwise: a Pod written by hand has no
/// status and would be running once applied.
fn pod_ready(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return true;
    };
    if let Some(phase) = &status.phase
        && phase != "Running"
    {
        return false;
    }
    match status.conditions.iter().find(|c| c.type_ == "Ready") {
        Some(c) => c.status == "True",
        None => status.phase.is_none(),
    }
}

fn direct_owner<'a>(meta: &'a ObjectMeta, kind: &str) -> Option<&'a str> {
    meta.owner_references
        .iter()
        .find(|r| r.kind == kind && r.controller != Some(false))
        .map(|r| r.name.as_str())
}

/// The top controller of a pod, from its ownerReferences.
fn pod_controller(
    meta: &ObjectMeta,
    namespace: &str,
    replica_sets: &BTreeMap<(&str, &str), &ReplicaSet>,
    deployments: &BTreeSet<(&str, &str)>,
) -> Option<Controller> {
    let owner = meta
        .owner_references
        .iter()
        .find(|r| r.controller == Some(true))
        .or(meta.owner_references.first())?;
    let kind = match owner.kind.as_str() {
        "ReplicaSet" => {
            let rs = replica_sets.get(&(namespace, owner.name.as_str()));
            let deployment = match rs {
                Some(rs) => direct_owner(&rs.metadata, "Deployment").map(str::to_string),
                // Without the ReplicaSet object, a Deployment named like the
                // ReplicaSet minus its hash suffix is its owner.
                None => owner
                    .name
                    .rsplit_once('-')
                    .map(|(d, _)| d.to_string())
                    .filter(|d| deployments.contains(&(namespace, d.as_str()))),
            };
            return Some(match deployment {
                Some(name) => Controller {
                    kind: "Deployment",
                    name,
                },
                None => Controller {
                    kind: "ReplicaSet",
                    name: owner.name.clone(),
                },
            });
        }
        "StatefulSet" => "StatefulSet",
        "DaemonSet" => "DaemonSet",
        "Deployment" => "Deployment",
        "Job" => "Job",
        _ => return None,
    };
    Some(Controller {
        kind,
        name: owner.name.clone(),
    })
}

/// HPA minReplicas by (namespace, kind, name) of its target.
fn hpa_min_replicas(store: &Store) -> BTreeMap<(String, String, String), usize> {
    store
        .of::<HorizontalPodAutoscaler>()
        .map(|(o, h)| {
            let min = h.spec.min_replicas.unwrap_or(1).max(0) as usize;
            (
                (
                    o.namespace().to_string(),
                    h.spec.scale_target_ref.kind.clone(),
                    h.spec.scale_target_ref.name.clone(),
                ),
                min,
            )
        })
        .collect()
}

/// spec.replicas, else an HPA's minReplicas, else Kubernetes' default of 1.
fn replicas(
    o: &Object,
    given: Option<i64>,
    hpa: &BTreeMap<(String, String, String), usize>,
    kind: &str,
) -> usize {
    match given {
        Some(n) => n.max(0) as usize,
        None => hpa
            .get(&(
                o.namespace().to_string(),
                kind.to_string(),
                o.name().to_string(),
            ))
            .copied()
            .unwrap_or(1),
    }
}

fn from_pod_spec(
    o: &Object,
    meta: &ObjectMeta,
    spec: &PodSpec,
    origin: Origin,
    controller: Option<Controller>,
    ready: bool,
) -> Workload {
    let ports = spec
        .containers
        .iter()
        .flat_map(|c| &c.ports)
        .filter_map(|p| {
            Some(ContainerPort {
                name: p.name.clone(),
                port: u16::try_from(p.container_port).ok()?,
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
            })
        })
        .collect();
    Workload {
        name: meta.name.clone(),
        namespace: o.namespace().to_string(),
        origin,
        controller,
        labels: meta.labels.clone(),
        annotations: meta.annotations.clone(),
        ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        node: spec.node_name.clone(),
        locality: None,
        service_account: spec
            .service_account_name
            .clone()
            .or_else(|| spec.service_account.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".to_string()),
        ports,
        containers: spec
            .containers
            .iter()
            .map(|c| ContainerFacts {
                name: c.name.clone(),
                args: c.args.clone(),
                image: c.image.clone(),
            })
            .collect(),
        ready,
        host_network: spec.host_network.unwrap_or(false),
        dns_name: spec.subdomain.clone().filter(|s| !s.is_empty()).map(|sub| {
            let host = spec
                .hostname
                .clone()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| meta.name.clone());
            (host, sub)
        }),
        weight: 1,
        span: o.span.clone(),
    }
}
