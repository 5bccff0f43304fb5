//! PeerAuthentication: the mTLS mode of a workload's ports
//! (istiod-sidecar.md §6.3, §7.4).

use crate::diag::{Diagnostics, Severity};
use crate::model::istio::{MutualTls, PeerAuthentication};
use crate::model::{Labels, Object, Store};

use super::super::Mesh;
use super::{ConfigMeta, selects};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtlsMode {
    Disable,
    Permissive,
    Strict,
}

/// One PeerAuthentication, as written.
#[derive(Debug, Clone)]
pub struct PeerAuthnEntry {
    pub meta: ConfigMeta,
    /// `selector.matchLabels`; None when absent or empty, which makes the
    /// policy namespace-wide (or mesh-wide in the root namespace).
    pub selector: Option<Labels>,
    /// None: UNSET (inherit).
    pub mode: Option<MtlsMode>,
    /// Port → mode (None: UNSET, inherit the workload mode).
    pub port_level: Vec<(u32, Option<MtlsMode>)>,
}

#[derive(Debug, Default)]
pub struct PeerAuthentications {
    /// In config order.
    pub all: Vec<PeerAuthnEntry>,
    pub root_namespace: String,
}

/// A workload's effective modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadMtls {
    /// The mode of ports without a port-level setting.
    pub mode: MtlsMode,
    /// Port-level modes of the workload policy (target ports), resolved.
    pub ports: Vec<(u32, MtlsMode)>,
    /// The policies that decided, for attribution: the mesh, namespace and
    /// workload level ones that apply, in that order.
    pub sources: Vec<ConfigMeta>,
}

impl WorkloadMtls {
    pub fn for_port(&self, port: u32) -> MtlsMode {
        self.ports
            .iter()
            .find(|(p, _)| *p == port)
            .map_or(self.mode, |(_, m)| *m)
    }
}

impl PeerAuthentications {
    /// The modes of a workload in `ns` with `labels`: mesh (root namespace),
    /// namespace and workload level, oldest wins per level, UNSET inherits,
    /// nothing at all means PERMISSIVE.
    pub fn for_workload(&self, ns: &str, labels: &Labels) -> WorkloadMtls {
        let mesh = self.namespace_wide(&self.root_namespace);
        // Root-namespace policies are mesh level only: istiod ignores those
        // with a selector, even for workloads of the root namespace.
        let (namespace, workload) = if ns == self.root_namespace {
            (None, None)
        } else {
            (
                self.namespace_wide(ns),
                self.all.iter().find(|p| {
                    p.meta.namespace == ns
                        && p.selector.as_ref().is_some_and(|s| selects(s, labels))
                }),
            )
        };
        let levels = [mesh, namespace, workload];
        let mode = levels
            .iter()
            .flatten()
            .filter_map(|p| p.mode)
            .next_back()
            .unwrap_or(MtlsMode::Permissive);
        let ports = workload.map_or_else(Vec::new, |w| {
            w.port_level
                .iter()
                .map(|(port, m)| (*port, m.unwrap_or(mode)))
                .collect()
        });
        WorkloadMtls {
            mode,
            ports,
            sources: levels.iter().flatten().map(|p| p.meta.clone()).collect(),
        }
    }

    /// The oldest selector-less policy of `ns`.
    fn namespace_wide(&self, ns: &str) -> Option<&PeerAuthnEntry> {
        self.all
            .iter()
            .find(|p| p.meta.namespace == ns && p.selector.is_none())
    }

    /// The namespace-level (else mesh-level, else PERMISSIVE) mode of `ns`:
    /// what clients infer for auto mTLS.
    pub fn for_namespace(&self, ns: &str) -> MtlsMode {
        [ns, self.root_namespace.as_str()]
            .into_iter()
            .find_map(|n| self.namespace_wide(n)?.mode)
            .unwrap_or(MtlsMode::Permissive)
    }
}

pub fn build(store: &Store, mesh: &Mesh, diags: &mut Diagnostics) -> PeerAuthentications {
    let mut all: Vec<PeerAuthnEntry> = store
        .of::<PeerAuthentication>()
        .map(|(o, pa)| {
            let spec = &pa.spec;
            PeerAuthnEntry {
                meta: ConfigMeta::of(o),
                selector: spec
                    .selector
                    .as_ref()
                    .map(|s| s.match_labels.clone())
                    .filter(|l| !l.is_empty()),
                mode: mode(spec.mtls.as_ref(), o, "mtls", diags),
                port_level: spec
                    .port_level_mtls
                    .iter()
                    .map(|(port, m)| {
                        let at = format!("portLevelMtls.{}", port.0);
                        (port.0, mode(Some(m), o, &at, diags))
                    })
                    .collect(),
            }
        })
        .collect();
    all.sort_by(|a, b| a.meta.order_key().cmp(&b.meta.order_key()));
    PeerAuthentications {
        all,
        root_namespace: mesh.mesh_config.root_namespace().to_string(),
    }
}

/// A written mode; unset, `UNSET` and (reported) unknown values inherit.
fn mode(m: Option<&MutualTls>, o: &Object, at: &str, diags: &mut Diagnostics) -> Option<MtlsMode> {
    match m?.mode.as_deref()? {
        "DISABLE" => Some(MtlsMode::Disable),
        "PERMISSIVE" => Some(MtlsMode::Permissive),
        "STRICT" => Some(MtlsMode::Strict),
        "UNSET" | "" => None,
        other => {
            diags.report(
                Severity::Warning,
                "invalid-value",
                Some(o.span.clone()),
                Some(o.describe()),
                format!("{at}.mode `{other}` is not one of UNSET, DISABLE, PERMISSIVE, STRICT; taken as UNSET"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::from_yaml;
    use super::MtlsMode::*;
    use crate::model::meta::labels;

    fn pa(name: &str, ns: &str, created: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: {name}, namespace: {ns}, creationTimestamp: '{created}'}}\nspec: {spec}\n"
        )
    }

    const OLD: &str = "2020-01-01T00:00:00Z";
    const NEW: &str = "2021-01-01T00:00:00Z";

    #[test]
    fn inheritance_and_port_level() {
        let yaml = [
            pa("mesh", "istio-system", OLD, "{mtls: {mode: STRICT}}"),
            pa("mesh-later", "istio-system", NEW, "{mtls: {mode: DISABLE}}"),
            pa("root-sel", "istio-system", OLD, "{selector: {matchLabels: {app: r}}, mtls: {mode: DISABLE}}"),
            pa("ns", "a", OLD, "{mtls: {mode: UNSET}}"),
            pa(
                "wl",
                "a",
                OLD,
                "{selector: {matchLabels: {app: x}}, mtls: {mode: DISABLE}, portLevelMtls: {8080: {mode: STRICT}, '9090': {mode: UNSET}}}",
            ),
            pa("wl-later", "a", NEW, "{selector: {matchLabels: {app: x}}, mtls: {mode: STRICT}}"),
            pa("wl-unset", "a", OLD, "{selector: {matchLabels: {app: u}}, portLevelMtls: {8080: {mode: DISABLE}}}"),
            pa("ns", "b", OLD, "{selector: {matchLabels: {}}, mtls: {mode: PERMISSIVE}}"),
        ]
        .concat();
        let (cfg, _) = from_yaml(&yaml);
        let pas = &cfg.peer_authn;
        let wl = |ns, app| pas.for_workload(ns, &labels(&[("app", app)]));

        let x = wl("a", "x");
        assert_eq!(x.mode, Disable);
        assert_eq!(x.ports, [(8080, Strict), (9090, Disable)]);
        assert_eq!(
            (x.for_port(8080), x.for_port(9090), x.for_port(1)),
            (Strict, Disable, Disable)
        );
        let sources: Vec<_> = x
            .sources
            .iter()
            .map(|m| format!("{}/{}", m.namespace, m.name))
            .collect();
        assert_eq!(sources, ["istio-system/mesh", "a/ns", "a/wl"]);

        // UNSET at namespace and workload level inherits the mesh's STRICT.
        assert_eq!(wl("a", "y").mode, Strict);
        let u = wl("a", "u");
        assert_eq!(
            (u.mode, u.ports.as_slice()),
            (Strict, &[(8080, Disable)][..])
        );
        // An empty selector is namespace level.
        assert_eq!(wl("b", "x").mode, Permissive);
        assert_eq!(wl("c", "x").mode, Strict);
        // A root-namespace policy with a selector is ignored, as istiod does.
        assert_eq!(wl("istio-system", "r").mode, Strict);

        assert_eq!(pas.for_namespace("a"), Strict);
        assert_eq!(pas.for_namespace("b"), Permissive);
        assert_eq!(pas.for_namespace("c"), Strict);
    }

    #[test]
    fn nothing_means_permissive_and_odd_modes_are_reported() {
        let (cfg, diags) = from_yaml(&pa("ns", "a", OLD, "{mtls: {mode: strict}}"));
        let w = cfg.peer_authn.for_workload("a", &labels(&[]));
        assert_eq!((w.mode, w.sources.len()), (Permissive, 1));
        assert_eq!(cfg.peer_authn.for_namespace("z"), Permissive);
        assert!(
            diags
                .iter()
                .any(|d| d.code == "invalid-value" && d.message.contains("`strict`"))
        );
    }
}
