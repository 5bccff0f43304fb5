//! ProxyConfig resources (istiod-gateway-security.md §4.4): bootstrap knobs
//! per workload, merged with MeshConfig `defaultConfig` and the pod's
//! `proxy.istio.io/config` annotation in istiod's precedence.

use crate::model::istio::{ProxyConfig, ProxyConfigSpec};
use crate::model::mesh_config::MeshProxyConfig;
use crate::model::{Labels, Store};

use super::super::Mesh;
use super::{ConfigMeta, selects};

#[derive(Debug, Clone)]
pub struct ProxyConfigEntry {
    pub meta: ConfigMeta,
    pub spec: ProxyConfigSpec,
}

#[derive(Debug, Default)]
pub struct ProxyConfigs {
    /// In config order (creation time, name, namespace).
    pub all: Vec<ProxyConfigEntry>,
    pub root_namespace: String,
}

impl ProxyConfigs {
    /// The effective proxy configuration of a workload in `ns` with
    /// `labels`, lowest precedence first: `mesh_default`, the root
    /// namespace's ProxyConfig without selector, the namespace's, the pod
    /// `annotation`, then the oldest ProxyConfig of the namespace whose
    /// selector picks the workload (istiod's `EffectiveProxyConfig`).
    pub fn effective(
        &self,
        mesh_default: MeshProxyConfig,
        ns: &str,
        labels: &Labels,
        annotation: Option<MeshProxyConfig>,
    ) -> MeshProxyConfig {
        let no_selector = |n: &str| {
            self.all
                .iter()
                .find(|p| p.meta.namespace == n && p.spec.selector.is_none())
        };
        let mut out = mesh_default;
        if let Some(p) = no_selector(&self.root_namespace) {
            out = out.overlay(as_mesh(&p.spec));
        }
        if ns != self.root_namespace
            && let Some(p) = no_selector(ns)
        {
            out = out.overlay(as_mesh(&p.spec));
        }
        if let Some(a) = annotation {
            out = out.overlay(a);
        }
        let selected = self.all.iter().find(|p| {
            p.meta.namespace == ns
                && p.spec
                    .selector
                    .as_ref()
                    .is_some_and(|s| selects(&s.match_labels, labels))
        });
        if let Some(p) = selected {
            out = out.overlay(as_mesh(&p.spec));
        }
        out
    }
}

/// A ProxyConfig resource as the `defaultConfig` fields it sets: its
/// environment variables are the proxy's metadata variables.
fn as_mesh(spec: &ProxyConfigSpec) -> MeshProxyConfig {
    MeshProxyConfig {
        concurrency: spec.concurrency,
        proxy_metadata: (!spec.environment_variables.is_empty())
            .then(|| spec.environment_variables.clone()),
        image: spec.image.clone(),
        ..MeshProxyConfig::default()
    }
}

pub fn build(store: &Store, mesh: &Mesh) -> ProxyConfigs {
    let mut all: Vec<ProxyConfigEntry> = store
        .of::<ProxyConfig>()
        .map(|(o, p)| ProxyConfigEntry {
            meta: ConfigMeta::of(o),
            spec: p.spec.clone(),
        })
        .collect();
    all.sort_by(|a, b| a.meta.order_key().cmp(&b.meta.order_key()));
    ProxyConfigs {
        all,
        root_namespace: mesh.mesh_config.root_namespace().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_istiods() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/proxyconfig/mesh.yaml"),
        )
        .unwrap();
        let (config, _) = super::super::from_yaml(&text);
        let pcs = &config.proxy_configs;
        let labels = |app: &str| Labels::from([("app".to_string(), app.to_string())]);
        let annotation = MeshProxyConfig {
            concurrency: Some(4),
            ..Default::default()
        };
        let mesh = MeshProxyConfig {
            concurrency: Some(1),
            ..Default::default()
        };
        // The selector ProxyConfig wins over the annotation, which wins
        // over the namespace's, which wins over the root namespace's.
        let api = pcs.effective(
            mesh.clone(),
            "team",
            &labels("api"),
            Some(annotation.clone()),
        );
        assert_eq!(api.concurrency, Some(8));
        let web = pcs.effective(mesh.clone(), "team", &labels("web"), Some(annotation));
        assert_eq!(web.concurrency, Some(4));
        let web = pcs.effective(mesh.clone(), "team", &labels("web"), None);
        assert_eq!(web.concurrency, Some(3));
        assert_eq!(
            web.image.and_then(|i| i.image_type).as_deref(),
            Some("distroless")
        );
        let elsewhere = pcs.effective(mesh, "other", &labels("x"), None);
        assert_eq!(elsewhere.concurrency, Some(2));
        assert_eq!(
            elsewhere
                .proxy_metadata
                .unwrap()
                .get("ISTIO_META_MESH_WIDE")
                .map(String::as_str),
            Some("yes")
        );
    }
}
