//! Kubernetes Services as the registry holds them: hostname, cluster IP (given
//! or synthesized), kind (ClusterIP, headless, ExternalName, ...) and ports.

use std::net::IpAddr;

use crate::diag::{Diagnostics, Severity, Span};
use crate::model::Labels;
use crate::model::core::Service as KubeService;
use crate::model::meta::IntOrString;
use crate::model::{Object, Store};

use super::names::{IpPool, Range};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    ClusterIp,
    /// `clusterIP: None`: DNS answers with the endpoints themselves.
    Headless,
    /// A DNS alias for `external_name`.
    ExternalName,
    NodePort,
    LoadBalancer,
}

/// Where a Service port sends traffic on the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPort {
    Number(u16),
    /// A container port name, resolved per workload.
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub target: TargetPort,
    /// TCP, UDP or SCTP.
    pub protocol: String,
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub namespace: String,
    /// `name.namespace.svc.<domain suffix>`.
    pub hostname: String,
    pub kind: ServiceKind,
    pub cluster_ip: Option<IpAddr>,
    /// True when meshsim made the cluster IP up.
    pub cluster_ip_synthesized: bool,
    pub external_name: Option<String>,
    pub ports: Vec<ServicePort>,
    /// `None`: endpoints are managed by hand (EndpointSlices/Endpoints).
    pub selector: Option<Labels>,
    pub publish_not_ready: bool,
    /// `internalTrafficPolicy: Local`.
    pub internal_traffic_local: bool,
    /// `metadata.creationTimestamp` as written.
    pub creation: Option<String>,
    pub labels: Labels,
    pub annotations: Labels,
    pub span: Span,
}

impl Service {
    /// Does the selector pick a workload with these labels (same namespace)?
    pub fn selects(&self, namespace: &str, labels: &Labels) -> bool {
        namespace == self.namespace
            && self
                .selector
                .as_ref()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
    }
}

pub fn build(
    store: &Store,
    synthesized: &[Object],
    domain_suffix: &str,
    diags: &mut Diagnostics,
) -> Vec<Service> {
    let mut out: Vec<Service> = super::all_of::<KubeService>(store, synthesized)
        .filter_map(|(o, s)| convert(o, s, domain_suffix, diags))
        .collect();
    let taken = out.iter().filter_map(|s| match s.cluster_ip {
        Some(IpAddr::V4(v4)) => Some(v4),
        _ => None,
    });
    let mut pool = IpPool::new(Range::SERVICES, taken);
    let needs_ip = |s: &Service| {
        s.cluster_ip.is_none()
            && matches!(
                s.kind,
                ServiceKind::ClusterIp | ServiceKind::NodePort | ServiceKind::LoadBalancer
            )
    };
    for s in out.iter().filter(|s| needs_ip(s)) {
        pool.want(format!("{}/{}", s.namespace, s.name));
    }
    let assigned = pool.assign();
    for s in &mut out {
        if needs_ip(s)
            && let Some(ip) = assigned.get(&format!("{}/{}", s.namespace, s.name))
        {
            s.cluster_ip = Some(IpAddr::V4(*ip));
            s.cluster_ip_synthesized = true;
        }
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

fn convert(
    o: &Object,
    s: &KubeService,
    domain_suffix: &str,
    diags: &mut Diagnostics,
) -> Option<Service> {
    let spec = &s.spec;
    let warn = |diags: &mut Diagnostics, msg: String| {
        diags.report(
            Severity::Warning,
            "invalid-service",
            Some(o.span.clone()),
            Some(o.describe()),
            msg,
        )
    };
    let given_ip = spec
        .cluster_ip
        .as_deref()
        .or(spec.cluster_ips.first().map(String::as_str));
    let kind = match (spec.type_.as_deref(), given_ip) {
        (Some("ExternalName"), _) => ServiceKind::ExternalName,
        (_, Some("None")) => ServiceKind::Headless,
        (Some("NodePort"), _) => ServiceKind::NodePort,
        (Some("LoadBalancer"), _) => ServiceKind::LoadBalancer,
        (None | Some("ClusterIP"), _) => ServiceKind::ClusterIp,
        (Some(other), _) => {
            warn(
                diags,
                format!("spec.type `{other}` is not a Service type; taken as ClusterIP"),
            );
            ServiceKind::ClusterIp
        }
    };
    let cluster_ip = match given_ip {
        Some("None") | Some("") | None => None,
        Some(ip) => match ip.parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                warn(
                    diags,
                    format!(
                        "spec.clusterIP `{ip}` is not an IP address; a synthesized one is used"
                    ),
                );
                None
            }
        },
    };
    if kind == ServiceKind::ExternalName && spec.external_name.is_none() {
        warn(
            diags,
            "ExternalName Service without spec.externalName".to_string(),
        );
    }
    let ports = spec
        .ports
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let Ok(port) = u16::try_from(p.port) else {
                warn(
                    diags,
                    format!(
                        "spec.ports[{i}].port {} is out of range; port skipped",
                        p.port
                    ),
                );
                return None;
            };
            let target = match &p.target_port {
                None => TargetPort::Number(port),
                Some(IntOrString::Int(n)) => match u16::try_from(*n) {
                    Ok(n) if n > 0 => TargetPort::Number(n),
                    _ => TargetPort::Number(port),
                },
                // "8080" as a string is a number to the API server.
                Some(IntOrString::String(s)) => match s.parse::<u16>() {
                    Ok(n) => TargetPort::Number(n),
                    Err(_) => TargetPort::Name(s.clone()),
                },
            };
            Some(ServicePort {
                name: p.name.clone().filter(|n| !n.is_empty()),
                port,
                target,
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
                app_protocol: p.app_protocol.clone(),
            })
        })
        .collect();
    Some(Service {
        name: o.name().to_string(),
        namespace: o.namespace().to_string(),
        hostname: format!("{}.{}.svc.{domain_suffix}", o.name(), o.namespace()),
        kind,
        cluster_ip,
        cluster_ip_synthesized: false,
        external_name: spec.external_name.clone(),
        ports,
        selector: spec.selector.clone(),
        publish_not_ready: spec.publish_not_ready_addresses.unwrap_or(false),
        internal_traffic_local: spec.internal_traffic_policy.as_deref() == Some("Local"),
        creation: o.meta().creation_timestamp.clone(),
        labels: o.meta().labels.clone(),
        annotations: o.meta().annotations.clone(),
        span: o.span.clone(),
    })
}
