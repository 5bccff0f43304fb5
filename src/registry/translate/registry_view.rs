//! What the translation asks of istiod's service registry: does a hostname
//! exist in a namespace, and which ports of it have instances (for gateway
//! addresses and the Programmed condition). The mesh answers from the
//! [`Catalog`]; the conformance harness from its own fixed registry.

use crate::model::Labels;
use crate::registry::catalog::Catalog;

/// One port of a registry service and the endpoint ports of its instances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServicePortInstances {
    pub port: u16,
    /// One entry per instance (0 when the instance names no port).
    pub endpoint_ports: Vec<u32>,
}

/// A registry service as the gateway controller sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryService {
    pub ports: Vec<ServicePortInstances>,
    /// Load-balancer addresses per cluster, flattened.
    pub external_addresses: Vec<String>,
    /// Carries istiod's `gateway.istio.io/managed` label.
    pub managed: bool,
    /// Service labels (an InferencePool shadow Service's endpoint picker).
    pub labels: Labels,
}

/// The service registry, by hostname and namespace (istiod's
/// `ServiceIndex.HostnameAndNamespace`).
pub trait RegistryView {
    fn service(&self, host: &str, namespace: &str) -> Option<RegistryService>;
    /// Namespaces holding `host`, for "found in another namespace" hints.
    fn namespaces_of(&self, host: &str) -> Vec<String>;
}

impl RegistryView for Catalog {
    fn service(&self, host: &str, namespace: &str) -> Option<RegistryService> {
        let (_, s) = self
            .with_host(host)
            .find(|(_, s)| s.namespace == namespace)?;
        let endpoints = self.endpoints_of(s);
        Some(RegistryService {
            ports: s
                .ports
                .iter()
                .map(|p| ServicePortInstances {
                    port: p.port,
                    endpoint_ports: endpoints
                        .iter()
                        .filter(|e| e.service_port_name == p.name)
                        .map(|e| u32::from(e.port))
                        .collect(),
                })
                .collect(),
            external_addresses: Vec::new(),
            managed: false,
            labels: Labels::new(),
        })
    }

    fn namespaces_of(&self, host: &str) -> Vec<String> {
        self.with_host(host)
            .map(|(_, s)| s.namespace.clone())
            .collect()
    }
}
