//! The proxy istiod configures: identity, addresses, labels and metadata of
//! one pod running Envoy (istiod-sidecar.md §1.6).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::Context;
use crate::load::yaml::decode_text;
use crate::model::Labels;
use crate::model::mesh_config::MeshProxyConfig;
use crate::registry::catalog::{CatalogService, spiffe};
use crate::registry::workloads::{Workload, canonical_name, canonical_revision};
use crate::registry::{DOMAIN_SUFFIX, ProxyType};

/// A workload's labels as its proxy has them: its pod's, plus the
/// topology labels istiod adds.
pub fn labels(w: &Workload) -> Labels {
    let mut labels = w.labels.clone();
    labels.insert("topology.istio.io/cluster".into(), "Kubernetes".into());
    if let Some(node) = &w.node {
        labels.insert("kubernetes.io/hostname".into(), node.clone());
    }
    let locality = w.locality.as_deref().unwrap_or_default();
    let keys = [
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "topology.istio.io/subzone",
    ];
    for (key, v) in keys.into_iter().zip(locality.split('/')) {
        if !v.is_empty() {
            labels.insert(key.into(), v.into());
        }
    }
    labels
}

/// How inbound and outbound traffic reaches Envoy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interception {
    Redirect,
    Tproxy,
    /// No capture: only explicitly bound listeners.
    None,
}

#[derive(Debug, Clone)]
pub struct Proxy {
    /// Index into `Mesh::workloads`.
    pub workload: usize,
    pub kind: ProxyType,
    /// `name.namespace`.
    pub id: String,
    pub name: String,
    pub namespace: String,
    /// Pod labels plus the topology labels istiod adds.
    pub labels: Labels,
    pub ips: Vec<IpAddr>,
    /// `<ns>.svc.cluster.local`.
    pub dns_domain: String,
    pub interception: Interception,
    /// Node metadata from `ISTIO_META_*` variables of the effective proxy
    /// configuration's `proxyMetadata`, e.g. `HTTP10`, `DNS_CAPTURE`.
    pub metadata: BTreeMap<String, String>,
    /// The effective proxy configuration (MeshConfig `defaultConfig`,
    /// ProxyConfig resources, the `proxy.istio.io/config` annotation).
    pub config: MeshProxyConfig,
    /// `region/zone/subzone`, or "".
    pub locality: String,
    pub service_account: String,
    /// SPIFFE identity.
    pub identity: String,
    pub node: Option<String>,
    /// Its controller's name (or its own): the injector's fallback for the
    /// canonical service.
    pub workload_name: String,
}

impl Proxy {
    pub fn new(ctx: &Context, workload: usize, kind: ProxyType) -> Proxy {
        let mesh = ctx.mesh;
        let w = &mesh.workloads[workload];
        let labels = labels(w);
        let locality = w.locality.clone().unwrap_or_default();
        let interception = match w
            .annotations
            .get("sidecar.istio.io/interceptionMode")
            .map(String::as_str)
        {
            Some("TPROXY") => Interception::Tproxy,
            Some("NONE") => Interception::None,
            _ => Interception::Redirect,
        };
        let annotation = w
            .annotations
            .get("proxy.istio.io/config")
            .and_then(|text| decode_text::<MeshProxyConfig>(text, &mut |_| {}).ok());
        let config = ctx.config.proxy_configs.effective(
            mesh.mesh_config.default_config(),
            &w.namespace,
            &w.labels,
            annotation,
        );
        Proxy {
            workload,
            kind,
            id: w.id(),
            name: w.name.clone(),
            namespace: w.namespace.clone(),
            labels,
            ips: vec![w.ip],
            dns_domain: format!("{}.svc.{DOMAIN_SUFFIX}", w.namespace),
            interception,
            metadata: node_metadata(&config),
            config,
            locality,
            service_account: w.service_account.clone(),
            identity: spiffe(
                mesh.mesh_config.trust_domain(),
                &w.namespace,
                &w.service_account,
            ),
            node: w.node.clone(),
            workload_name: w.workload_name().to_string(),
        }
    }

    pub fn ip(&self) -> IpAddr {
        self.ips[0]
    }

    /// Envoy's node id: `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`.
    pub fn node_id(&self) -> String {
        let kind = match self.kind {
            ProxyType::Sidecar => "sidecar",
            ProxyType::Router => "router",
        };
        format!("{kind}~{}~{}~{}", self.ip(), self.id, self.dns_domain)
    }

    /// The node's cluster, `<service>.<namespace>`: the tracer's service
    /// name too.
    pub fn service_cluster(&self) -> String {
        let service = self
            .labels
            .get("service.istio.io/canonical-name")
            .or_else(|| self.labels.get("app"))
            .unwrap_or(&self.name);
        format!("{service}.{}", self.namespace)
    }

    /// The canonical service and revision the injector labels the pod with.
    pub fn canonical(&self) -> (String, String) {
        (
            canonical_name(&self.labels, &self.workload_name),
            canonical_revision(&self.labels),
        )
    }

    /// Labels ⊇ `selector`?
    pub fn selected_by(&self, selector: &Labels) -> bool {
        selector.iter().all(|(k, v)| self.labels.get(k) == Some(v))
    }

    /// The service's addresses as this proxy knows them (istiod's
    /// `GetAllAddressesForProxy`): its VIPs, or for a ServiceEntry host
    /// without one, the allocated address when the proxy's agent captures
    /// DNS and asked for allocation. An iterator, not a list: listeners and
    /// domains ask this of every service.
    pub fn vips<'a>(&self, s: &'a CatalogService) -> impl Iterator<Item = &'a str> + use<'a> {
        let allocated = match &s.auto_allocated {
            Some(ip)
                if s.cluster_vips.is_empty()
                    && self.flag("DNS_CAPTURE")
                    && self.flag("DNS_AUTO_ALLOCATE") =>
            {
                Some(ip.as_str())
            }
            _ => None,
        };
        s.cluster_vips.iter().map(String::as_str).chain(allocated)
    }

    /// The address listeners of the service bind to for this proxy.
    pub fn address_of<'a>(&self, s: &'a CatalogService) -> &'a str {
        self.vips(s).next().unwrap_or(&s.address)
    }

    /// A node-metadata flag set to a true value (`HTTP10: "1"`, `"true"`).
    pub fn flag(&self, key: &str) -> bool {
        self.metadata
            .get(key)
            .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
    }
}

/// The `ISTIO_META_*` variables of `proxyMetadata`, prefix dropped: that
/// is how they reach the node metadata.
fn node_metadata(config: &MeshProxyConfig) -> BTreeMap<String, String> {
    config
        .proxy_metadata
        .iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.strip_prefix("ISTIO_META_")?.to_string(), v.clone())))
        .collect()
}
