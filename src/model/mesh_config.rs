//! MeshConfig and meshNetworks: the mesh-wide settings istiod runs with.
//!
//! Every field is optional on input; the accessors fall back to Istio's
//! defaults (pkg/config/mesh DefaultMeshConfig), so a config read from the
//! `istio` ConfigMap or `--mesh-config` is "laid over" the defaults by
//! [`MeshConfig::overlay`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshConfig {
    #[serde(default)]
    pub root_namespace: Option<String>,
    #[serde(default)]
    pub trust_domain: Option<String>,
    #[serde(default)]
    pub trust_domain_aliases: Option<Vec<String>>,
    #[serde(default)]
    pub enable_auto_mtls: Option<bool>,
    #[serde(default)]
    pub outbound_traffic_policy: Option<OutboundTrafficPolicy>,
    #[serde(default)]
    pub default_config: Option<Value>,
    #[serde(default)]
    pub extension_providers: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundTrafficPolicy {
    #[serde(default)]
    pub mode: Option<String>,
}

impl MeshConfig {
    /// `other`'s fields win where set.
    pub fn overlay(self, other: MeshConfig) -> MeshConfig {
        MeshConfig {
            root_namespace: other.root_namespace.or(self.root_namespace),
            trust_domain: other.trust_domain.or(self.trust_domain),
            trust_domain_aliases: other.trust_domain_aliases.or(self.trust_domain_aliases),
            enable_auto_mtls: other.enable_auto_mtls.or(self.enable_auto_mtls),
            outbound_traffic_policy: other.outbound_traffic_policy.or(self.outbound_traffic_policy),
            default_config: other.default_config.or(self.default_config),
            extension_providers: other.extension_providers.or(self.extension_providers),
        }
    }

    pub fn root_namespace(&self) -> &str {
        self.root_namespace.as_deref().unwrap_or("istio-system")
    }

    pub fn trust_domain(&self) -> &str {
        self.trust_domain.as_deref().unwrap_or("cluster.local")
    }
}

/// meshNetworks: which endpoints sit on which network, and its gateways.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct MeshNetworks {
    #[serde(default)]
    pub networks: std::collections::BTreeMap<String, Value>,
}
