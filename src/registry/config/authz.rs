//! AuthorizationPolicy: which policies apply to a proxy, split by action
//! (istiod-gateway-security.md §3.1, §3.2.1).

use crate::diag::{Diagnostics, Severity};
use crate::model::istio::{AuthorizationPolicy, AuthorizationRule, PolicyTargetReference};
use crate::model::{Labels, Object, Store};

use super::super::Mesh;
use super::ConfigMeta;
use super::attachment::{attaches, policy_namespaces, target_refs};

const DRY_RUN_ANNOTATION: &str = "istio.io/dry-run";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
    Audit,
    Custom,
}

/// One AuthorizationPolicy, as istiod keeps it.
#[derive(Debug, Clone)]
pub struct AuthzPolicy {
    pub meta: ConfigMeta,
    /// `selector.matchLabels`; None when there is no selector (every
    /// workload of the namespace, or of the mesh in the root namespace).
    pub selector: Option<Labels>,
    /// `targetRefs`, or `targetRef` when that is all there is.
    pub target_refs: Vec<PolicyTargetReference>,
    pub action: Action,
    /// `provider.name` of a CUSTOM policy ("" when unnamed).
    pub provider: String,
    /// `istio.io/dry-run: "true"`: evaluated into shadow rules only.
    pub dry_run: bool,
    pub rules: Vec<AuthorizationRule>,
}

#[derive(Debug, Default)]
pub struct AuthorizationPolicies {
    /// In config order (creation time, name, namespace).
    pub all: Vec<AuthzPolicy>,
    pub root_namespace: String,
}

/// The policies that apply to one workload, by action, each in istiod's
/// order: the root namespace's, then the workload namespace's.
#[derive(Debug, Default)]
pub struct WorkloadPolicies<'a> {
    pub custom: Vec<&'a AuthzPolicy>,
    pub deny: Vec<&'a AuthzPolicy>,
    pub allow: Vec<&'a AuthzPolicy>,
    pub audit: Vec<&'a AuthzPolicy>,
}

impl AuthorizationPolicies {
    /// The policies for a workload in `ns` with `labels` (istiod's
    /// `ListAuthorizationPolicies` with `ShouldAttachPolicy`).
    pub fn for_workload(&self, ns: &str, labels: &Labels) -> WorkloadPolicies<'_> {
        let mut out = WorkloadPolicies::default();
        for n in policy_namespaces(&self.root_namespace, ns) {
            for p in self.all.iter().filter(|p| p.meta.namespace == n) {
                if attaches(
                    &p.meta.namespace,
                    p.selector.as_ref(),
                    &p.target_refs,
                    ns,
                    labels,
                ) {
                    match p.action {
                        Action::Custom => out.custom.push(p),
                        Action::Deny => out.deny.push(p),
                        Action::Allow => out.allow.push(p),
                        Action::Audit => out.audit.push(p),
                    }
                }
            }
        }
        out
    }
}

pub fn build(store: &Store, mesh: &Mesh, diags: &mut Diagnostics) -> AuthorizationPolicies {
    let authorizers: Vec<String> = mesh
        .mesh_config
        .extension_providers()
        .into_iter()
        .filter(|p| p.envoy_ext_authz_http.is_some() || p.envoy_ext_authz_grpc.is_some())
        .map(|p| p.name)
        .collect();
    let mut all: Vec<AuthzPolicy> = store
        .of::<AuthorizationPolicy>()
        .filter_map(|(o, ap)| entry(o, ap, &authorizers, diags))
        .collect();
    all.sort_by(|a, b| a.meta.order_key().cmp(&b.meta.order_key()));
    AuthorizationPolicies {
        all,
        root_namespace: mesh.mesh_config.root_namespace().to_string(),
    }
}

/// The policy as indexed; `authorizers`: the mesh's ext_authz providers.
fn entry(
    o: &Object,
    ap: &AuthorizationPolicy,
    authorizers: &[String],
    diags: &mut Diagnostics,
) -> Option<AuthzPolicy> {
    let spec = &ap.spec;
    let mut warn = |message: String| {
        diags.report(
            Severity::Warning,
            "invalid-value",
            Some(o.span.clone()),
            Some(o.describe()),
            message,
        );
    };
    let action = match spec.action.as_deref().unwrap_or("ALLOW") {
        "ALLOW" | "" => Action::Allow,
        "DENY" => Action::Deny,
        "AUDIT" => Action::Audit,
        "CUSTOM" => Action::Custom,
        other => {
            warn(format!(
                "action `{other}` is not one of ALLOW, DENY, AUDIT, CUSTOM; the policy is ignored"
            ));
            return None;
        }
    };
    let provider = spec
        .provider
        .as_ref()
        .and_then(|p| p.name.clone())
        .unwrap_or_default();
    if action == Action::Custom && provider.is_empty() {
        warn("a CUSTOM policy names no provider; its rules deny instead".to_string());
    } else if action == Action::Custom && !authorizers.contains(&provider) {
        warn(format!(
            "provider `{provider}` is not an ext_authz provider of meshConfig.extensionProviders; its rules deny instead"
        ));
    }
    let dry_run = match o.meta().annotations.get(DRY_RUN_ANNOTATION) {
        None => false,
        Some(v) => parse_bool(v).unwrap_or_else(|| {
            warn(format!(
                "annotation {DRY_RUN_ANNOTATION} `{v}` is not a boolean; taken as false"
            ));
            false
        }),
    };
    let target_refs = target_refs(&spec.target_refs, &spec.target_ref);
    Some(AuthzPolicy {
        meta: ConfigMeta::of(o),
        selector: spec.selector.as_ref().map(|s| s.match_labels.clone()),
        target_refs,
        action,
        provider,
        dry_run,
        rules: spec.rules.clone(),
    })
}

/// Go's `strconv.ParseBool`, which istiod reads the dry-run annotation with.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::from_yaml;
    use super::Action;
    use crate::model::meta::labels;

    fn ap(name: &str, ns: &str, created: &str, extra_meta: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: {name}, namespace: {ns}, creationTimestamp: '{created}'{extra_meta}}}\nspec: {spec}\n"
        )
    }

    const OLD: &str = "2020-01-01T00:00:00Z";
    const NEW: &str = "2021-01-01T00:00:00Z";

    #[test]
    fn selection_order_and_actions() {
        let yaml = [
            ap("mesh", "istio-system", NEW, "", "{}"),
            ap(
                "mesh-sel",
                "istio-system",
                OLD,
                "",
                "{selector: {matchLabels: {app: x}}}",
            ),
            ap("b-deny", "a", OLD, "", "{action: DENY, rules: [{}]}"),
            ap("a-deny", "a", OLD, "", "{action: DENY, rules: [{}]}"),
            ap("new-deny", "a", NEW, "", "{action: DENY, rules: [{}]}"),
            ap(
                "other-app",
                "a",
                OLD,
                "",
                "{selector: {matchLabels: {app: y}}}",
            ),
            ap(
                "targeted",
                "a",
                OLD,
                "",
                "{targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]}",
            ),
            ap(
                "custom",
                "a",
                OLD,
                ", annotations: {istio.io/dry-run: 'true'}",
                "{action: CUSTOM, provider: {name: ext}, rules: [{}]}",
            ),
            ap(
                "audit",
                "a",
                OLD,
                ", annotations: {istio.io/dry-run: maybe}",
                "{action: AUDIT}",
            ),
            ap("bad", "a", OLD, "", "{action: LOG}"),
            ap("elsewhere", "b", OLD, "", "{}"),
        ]
        .concat();
        let (cfg, diags) = from_yaml(&yaml);
        let pols = &cfg.authz;
        let names =
            |v: &[&super::AuthzPolicy]| v.iter().map(|p| p.meta.name.clone()).collect::<Vec<_>>();
        let w = pols.for_workload("a", &labels(&[("app", "x")]));
        assert_eq!(names(&w.allow), ["mesh-sel", "mesh"]);
        assert_eq!(names(&w.deny), ["a-deny", "b-deny", "new-deny"]);
        assert_eq!(names(&w.custom), ["custom"]);
        assert!(w.custom[0].dry_run && w.custom[0].provider == "ext");
        assert_eq!(names(&w.audit), ["audit"]);
        assert!(!w.audit[0].dry_run);
        assert_eq!(w.audit[0].action, Action::Audit);
        // Another app of the namespace: the selector policies drop out.
        let y = pols.for_workload("a", &labels(&[("app", "y")]));
        assert_eq!(names(&y.allow), ["mesh", "other-app"]);
        // A Gateway API gateway pod takes the policy targeting its Gateway.
        let gw = pols.for_workload(
            "a",
            &labels(&[("gateway.networking.k8s.io/gateway-name", "gw")]),
        );
        assert_eq!(names(&gw.allow), ["mesh", "targeted"]);
        assert!(pols.for_workload("c", &labels(&[])).allow.len() == 1);
        for (code, text) in [
            ("invalid-value", "`LOG`"),
            ("invalid-value", "`maybe`"),
            ("invalid-value", "provider `ext`"),
        ] {
            assert!(
                diags
                    .iter()
                    .any(|d| d.code == code && d.message.contains(text)),
                "{text}"
            );
        }
    }
}
