//! Which workloads a security policy attaches to (istiod's
//! `ShouldAttachPolicy`), shared by AuthorizationPolicy and
//! RequestAuthentication.

use crate::model::Labels;
use crate::model::istio::PolicyTargetReference;

use super::selects;

/// The label naming the Gateway API Gateway a gateway pod serves.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

/// The namespaces whose policies can apply to a workload of `ns`, in the
/// order istiod lists them: the root namespace first.
pub fn policy_namespaces<'a>(root: &'a str, ns: &'a str) -> Vec<&'a str> {
    let mut out = vec![root];
    if ns != root {
        out.push(ns);
    }
    out
}

/// Sidecars and classic gateways ignore policies with target refs and go
/// by selector (none: every workload of the policy's namespace); a Gateway
/// API gateway pod takes the policies of its namespace that target its
/// Gateway, and selector policies otherwise
/// (`ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY` is on by default).
/// A policy's `targetRefs`, or its singular `targetRef` when that is all
/// it has (istiod folds the one into the other).
pub fn target_refs(
    plural: &[PolicyTargetReference],
    singular: &Option<PolicyTargetReference>,
) -> Vec<PolicyTargetReference> {
    if plural.is_empty() {
        singular.iter().cloned().collect()
    } else {
        plural.to_vec()
    }
}

pub fn attaches(
    policy_ns: &str,
    selector: Option<&Labels>,
    target_refs: &[PolicyTargetReference],
    ns: &str,
    labels: &Labels,
) -> bool {
    let selected = || selector.is_none_or(|s| selects(s, labels));
    let Some(gateway) = labels.get(GATEWAY_NAME_LABEL) else {
        return target_refs.is_empty() && selected();
    };
    if target_refs.is_empty() {
        return selected();
    }
    policy_ns == ns
        && target_refs.iter().any(|r| {
            r.namespace
                .as_deref()
                .is_none_or(|n| n.is_empty() || n == ns)
                && r.group.as_deref() == Some("gateway.networking.k8s.io")
                && r.kind.as_deref() == Some("Gateway")
                && &r.name == gateway
        })
}
