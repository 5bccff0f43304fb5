//! RequestAuthentication: the JWT rules that apply to a proxy
//! (istiod-gateway-security.md §3.3), attached like AuthorizationPolicies.

use crate::diag::{Diagnostics, Severity};
use crate::model::istio::{JwtRule, PolicyTargetReference, RequestAuthentication};
use crate::model::{Labels, Store};

use super::super::Mesh;
use super::ConfigMeta;
use super::attachment::{attaches, policy_namespaces, target_refs};

#[derive(Debug, Clone)]
pub struct RequestAuthn {
    pub meta: ConfigMeta,
    pub selector: Option<Labels>,
    pub target_refs: Vec<PolicyTargetReference>,
    pub jwt_rules: Vec<JwtRule>,
}

#[derive(Debug, Default)]
pub struct RequestAuthentications {
    /// In config order (creation time, name, namespace).
    pub all: Vec<RequestAuthn>,
    pub root_namespace: String,
}

impl RequestAuthentications {
    /// The JWT rules for a workload in `ns` with `labels`: those of every
    /// policy that attaches (root namespace first), sorted by issuer as
    /// istiod sorts them (stably, so equal issuers keep policy order).
    pub fn for_workload(&self, ns: &str, labels: &Labels) -> Vec<&JwtRule> {
        let mut out: Vec<&JwtRule> = policy_namespaces(&self.root_namespace, ns)
            .into_iter()
            .flat_map(|n| self.all.iter().filter(move |p| p.meta.namespace == n))
            .filter(|p| {
                attaches(
                    &p.meta.namespace,
                    p.selector.as_ref(),
                    &p.target_refs,
                    ns,
                    labels,
                )
            })
            .flat_map(|p| &p.jwt_rules)
            .collect();
        out.sort_by(|a, b| a.issuer.cmp(&b.issuer));
        out
    }
}

pub fn build(store: &Store, mesh: &Mesh, diags: &mut Diagnostics) -> RequestAuthentications {
    let mut all: Vec<RequestAuthn> = store
        .of::<RequestAuthentication>()
        .map(|(o, ra)| {
            let spec = &ra.spec;
            for rule in &spec.jwt_rules {
                if rule.jwks.is_none()
                    && let Some(uri) = rule.jwks_uri.as_ref().or(rule.jwks_uri_snake.as_ref())
                {
                    diags.report(
                        Severity::Warning,
                        "offline",
                        Some(o.span.clone()),
                        Some(o.describe()),
                        format!(
                            "the JWKS at {uri} is not fetched offline; proxies show it as that URI (remote_jwks), where istiod would inline the keys it fetched"
                        ),
                    );
                }
            }
            RequestAuthn {
                meta: ConfigMeta::of(o),
                selector: spec.selector.as_ref().map(|s| s.match_labels.clone()),
                target_refs: target_refs(&spec.target_refs, &spec.target_ref),
                jwt_rules: spec.jwt_rules.clone(),
            }
        })
        .collect();
    all.sort_by(|a, b| a.meta.order_key().cmp(&b.meta.order_key()));
    RequestAuthentications {
        all,
        root_namespace: mesh.mesh_config.root_namespace().to_string(),
    }
}
