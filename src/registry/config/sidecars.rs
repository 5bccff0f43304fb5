//! Sidecar resources and which one applies to a proxy (istiod-sidecar.md §3.1).

use crate::diag::Diagnostics;
use crate::model::istio::{Sidecar, SidecarSpec};
use crate::model::{Labels, Store};

use super::super::Mesh;
use super::{ConfigMeta, selects};

#[derive(Debug, Clone)]
pub struct SidecarEntry {
    pub meta: ConfigMeta,
    pub spec: SidecarSpec,
}

impl SidecarEntry {
    /// Applies to a workload with `labels`? (No selector: every workload.)
    fn selects(&self, labels: &Labels) -> bool {
        self.spec
            .workload_selector
            .as_ref()
            .is_none_or(|s| selects(&s.labels, labels))
    }
}

#[derive(Debug, Default)]
pub struct Sidecars {
    /// Those with a `workloadSelector` first, then those without; each group
    /// in config order (istiod's precedence).
    pub all: Vec<SidecarEntry>,
    pub root_namespace: String,
    /// Indices into `all` by namespace, in `all`'s order: every proxy of a
    /// diff's sides is looked up, for each changed Sidecar.
    by_namespace: foldhash::HashMap<String, Vec<usize>>,
}

impl Sidecars {
    /// The Sidecar for a proxy: its namespace's (selector ones first, oldest
    /// first), else the root namespace's selector-less one.
    pub fn for_proxy(&self, ns: &str, labels: &Labels) -> Option<&SidecarEntry> {
        let of = |ns: &str| {
            self.by_namespace
                .get(ns)
                .into_iter()
                .flatten()
                .map(|&i| &self.all[i])
        };
        of(ns)
            .find(|s| s.selects(labels))
            .or_else(|| of(&self.root_namespace).find(|s| s.spec.workload_selector.is_none()))
    }
}

pub fn build(store: &Store, mesh: &Mesh, _diags: &mut Diagnostics) -> Sidecars {
    let mut all: Vec<SidecarEntry> = store
        .of::<Sidecar>()
        .map(|(o, s)| SidecarEntry {
            meta: ConfigMeta::of(o),
            spec: s.spec.clone(),
        })
        .collect();
    all.sort_by(|a, b| {
        (a.spec.workload_selector.is_none(), a.meta.order_key())
            .cmp(&(b.spec.workload_selector.is_none(), b.meta.order_key()))
    });
    let mut by_namespace: foldhash::HashMap<String, Vec<usize>> = Default::default();
    for (i, s) in all.iter().enumerate() {
        by_namespace
            .entry(s.meta.namespace.clone())
            .or_default()
            .push(i);
    }
    Sidecars {
        all,
        root_namespace: mesh.mesh_config.root_namespace().to_string(),
        by_namespace,
    }
}

#[cfg(test)]
mod tests {
    use super::super::from_yaml;
    use crate::model::meta::labels;

    fn sidecar(name: &str, ns: &str, created: &str, selector: Option<&str>) -> String {
        let spec = selector.map_or("{}".to_string(), |app| {
            format!("{{workloadSelector: {{labels: {{app: {app}}}}}}}")
        });
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {{name: {name}, namespace: {ns}, creationTimestamp: '{created}'}}\nspec: {spec}\n"
        )
    }

    #[test]
    fn selection() {
        let yaml = [
            sidecar("ns-wide", "shop", "2020-01-01T00:00:00Z", None),
            sidecar("for-a-new", "shop", "2023-01-01T00:00:00Z", Some("a")),
            sidecar("for-a", "shop", "2022-01-01T00:00:00Z", Some("a")),
            sidecar("root", "istio-system", "2020-01-01T00:00:00Z", None),
            sidecar("root-b", "istio-system", "2020-01-01T00:00:00Z", Some("b")),
        ]
        .concat();
        let (cfg, _) = from_yaml(&yaml);
        let pick = |ns, app| {
            cfg.sidecars
                .for_proxy(ns, &labels(&[("app", app)]))
                .map_or("-".to_string(), |s| s.meta.name.clone())
        };
        assert_eq!(pick("shop", "a"), "for-a");
        assert_eq!(pick("shop", "c"), "ns-wide");
        assert_eq!(pick("other", "b"), "root");
        assert_eq!(pick("istio-system", "b"), "root-b");
        assert_eq!(pick("istio-system", "c"), "root");

        let (cfg, _) = from_yaml(&sidecar("for-a", "shop", "2020-01-01T00:00:00Z", Some("a")));
        assert!(
            cfg.sidecars
                .for_proxy("shop", &labels(&[("app", "b")]))
                .is_none()
        );
        assert!(cfg.sidecars.for_proxy("other", &labels(&[])).is_none());
    }
}
