//! Which workloads run an Envoy, and as what: sidecar or router (gateway).
//!
//! Decided as the sidecar injector would: first the MutatingWebhookConfiguration
//! gate (is the injector called for this pod at all?), from the loaded
//! injector webhooks or, when none is loaded, from the webhooks Istio's default
//! revision installs; then the injector's own checks (hostNetwork, system
//! namespaces, the `sidecar.istio.io/inject` label or annotation, the
//! never/always selectors, the policy). Pods that already carry an
//! `istio-proxy` container (a cluster export, a legacy gateway chart) are
//! proxies without asking.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diag::{Diagnostics, Severity};
use crate::load::yaml::decode_text;
use crate::model::core::{ConfigMap, MutatingWebhookConfiguration};
use crate::model::meta::{LabelSelector, LabelSelectorRequirement};
use crate::model::{Labels, Store};

use super::workloads::{Origin, Workload};

/// The two kinds of proxy istiod distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProxyType {
    Sidecar,
    Router,
}

impl ProxyType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyType::Sidecar => "sidecar",
            ProxyType::Router => "router",
        }
    }
}

/// Whether a workload runs a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Proxy {
        kind: ProxyType,
        /// The istiod revision that configures it (`default` for the default).
        revision: String,
    },
    /// No proxy, and why, in words for `meshsim proxies --all`.
    None(String),
}

/// One injector webhook entry: the injector is called for a pod when both
/// selectors match.
#[derive(Debug, Clone)]
struct InjectorWebhook {
    revision: String,
    namespace_selector: LabelSelector,
    object_selector: LabelSelector,
}

/// The injector as configured by the input.
#[derive(Debug, Clone)]
pub struct Injector {
    webhooks: Vec<InjectorWebhook>,
    /// True when no injector webhook was loaded and Istio's defaults stand in.
    pub defaults: bool,
    never_inject: Vec<LabelSelector>,
    always_inject: Vec<LabelSelector>,
    policy_enabled: bool,
}

/// Namespaces the injector never touches.
const IGNORED_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

const INJECT: &str = "sidecar.istio.io/inject";
const INJECTION_NS: &str = "istio-injection";
const REV: &str = "istio.io/rev";

fn req(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_string(),
        operator: operator.to_string(),
        values: values.iter().map(|v| (*v).to_string()).collect(),
    }
}

fn sel(reqs: Vec<LabelSelectorRequirement>) -> LabelSelector {
    LabelSelector {
        match_labels: BTreeMap::new(),
        match_expressions: reqs,
    }
}

/// The webhooks the default revision's injector installs (the istiod
/// chart's mutatingwebhook template).
fn default_webhooks() -> Vec<InjectorWebhook> {
    let rev = "default";
    let wh =
        |ns: Vec<LabelSelectorRequirement>, obj: Vec<LabelSelectorRequirement>| InjectorWebhook {
            revision: rev.to_string(),
            namespace_selector: sel(ns),
            object_selector: sel(obj),
        };
    vec![
        // rev.namespace: namespaces labelled istio.io/rev=default.
        wh(
            vec![
                req(REV, "In", &[rev]),
                req(INJECTION_NS, "DoesNotExist", &[]),
            ],
            vec![req(INJECT, "NotIn", &["false"])],
        ),
        // rev.object: pods labelled istio.io/rev=default in unlabelled namespaces.
        wh(
            vec![
                req(REV, "DoesNotExist", &[]),
                req(INJECTION_NS, "DoesNotExist", &[]),
            ],
            vec![req(INJECT, "NotIn", &["false"]), req(REV, "In", &[rev])],
        ),
        // namespace: the classic istio-injection=enabled.
        wh(
            vec![req(INJECTION_NS, "In", &["enabled"])],
            vec![req(INJECT, "NotIn", &["false"])],
        ),
        // object: pods labelled sidecar.istio.io/inject=true in unlabelled namespaces.
        wh(
            vec![
                req(INJECTION_NS, "DoesNotExist", &[]),
                req(REV, "DoesNotExist", &[]),
            ],
            vec![req(INJECT, "In", &["true"]), req(REV, "DoesNotExist", &[])],
        ),
    ]
}

/// The injector ConfigMap's `config` key, the parts that decide injection.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InjectorConfig {
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    never_inject_selector: Vec<LabelSelector>,
    #[serde(default)]
    always_inject_selector: Vec<LabelSelector>,
}

impl Injector {
    pub fn from_store(store: &Store, diags: &mut Diagnostics) -> Injector {
        let mut webhooks = Vec::new();
        for (o, mwc) in store.of::<MutatingWebhookConfiguration>() {
            for wh in &mwc.webhooks {
                let path = wh
                    .client_config
                    .service
                    .as_ref()
                    .and_then(|s| s.path.as_deref())
                    .or(wh.client_config.url.as_deref())
                    .unwrap_or("");
                if !(wh.name.ends_with("sidecar-injector.istio.io") || path.ends_with("/inject")) {
                    continue;
                }
                let revision = o
                    .meta()
                    .labels
                    .get(REV)
                    .cloned()
                    .unwrap_or_else(|| "default".to_string());
                webhooks.push(InjectorWebhook {
                    revision,
                    namespace_selector: wh.namespace_selector.clone().unwrap_or_default(),
                    object_selector: wh.object_selector.clone().unwrap_or_default(),
                });
            }
        }
        let defaults = webhooks.is_empty();
        if defaults {
            webhooks = default_webhooks();
        }
        let mut config = InjectorConfig::default();
        if let Some((o, cm)) = store
            .of::<ConfigMap>()
            .find(|(o, _)| o.name() == "istio-sidecar-injector")
            && let Some(text) = cm.data.get("config")
        {
            // The template parts of this config are Go templates, not ours to read.
            match decode_text::<InjectorConfig>(text, &mut |_| {}) {
                Ok(c) => config = c,
                Err(e) => diags.report(
                    Severity::Warning,
                    "invalid-object",
                    Some(o.span.clone()),
                    Some(o.describe()),
                    format!("data.config: {}; injector defaults used", e.message),
                ),
            }
        }
        Injector {
            webhooks,
            defaults,
            never_inject: config.never_inject_selector,
            always_inject: config.always_inject_selector,
            policy_enabled: config.policy.as_deref() != Some("disabled"),
        }
    }

    /// Decide for one workload in a namespace with `ns_labels`.
    pub fn decide(&self, w: &Workload, ns_labels: &Labels) -> Decision {
        if w.origin == Origin::WorkloadEntry {
            return Decision::None(
                "a WorkloadEntry: its proxy, if any, runs outside Kubernetes".to_string(),
            );
        }
        if let Some(proxy) = w.containers.iter().find(|c| c.name == "istio-proxy") {
            if proxy.args.iter().any(|a| a == "router") {
                return proxy_of(ProxyType::Router, w);
            }
            // An injected pod from a cluster export: its proxy is there already.
            if proxy.args.iter().any(|a| a == "sidecar")
                || w.annotations.contains_key("sidecar.istio.io/status")
            {
                return proxy_of(ProxyType::Sidecar, w);
            }
        }
        if w.host_network {
            return Decision::None("hostNetwork pods are never injected".to_string());
        }
        if IGNORED_NAMESPACES.contains(&w.namespace.as_str()) {
            return Decision::None(format!("namespace {} is never injected", w.namespace));
        }
        let Some(hook) = self.webhooks.iter().find(|h| {
            h.namespace_selector.matches(ns_labels) && h.object_selector.matches(&w.labels)
        }) else {
            return Decision::None(not_selected_reason(w, ns_labels));
        };
        // The label wins over the annotation of the same name.
        let explicit = w
            .labels
            .get(INJECT)
            .or_else(|| w.annotations.get(INJECT))
            .map(String::as_str);
        let inject = match explicit {
            Some("false") => {
                return Decision::None(format!("pod sets {INJECT}=false"));
            }
            Some("true") => true,
            _ if self.never_inject.iter().any(|s| s.matches(&w.labels)) => {
                return Decision::None("the injector's neverInjectSelector matches".to_string());
            }
            _ if self.always_inject.iter().any(|s| s.matches(&w.labels)) => true,
            _ => self.policy_enabled,
        };
        if !inject {
            return Decision::None("the injector's policy is disabled".to_string());
        }
        let gateway = w
            .annotations
            .get("inject.istio.io/templates")
            .is_some_and(|t| t.split(',').any(|t| t.trim() == "gateway"));
        Decision::Proxy {
            kind: if gateway {
                ProxyType::Router
            } else {
                ProxyType::Sidecar
            },
            revision: hook.revision.clone(),
        }
    }
}

fn proxy_of(kind: ProxyType, w: &Workload) -> Decision {
    Decision::Proxy {
        kind,
        revision: w
            .labels
            .get(REV)
            .cloned()
            .unwrap_or_else(|| "default".to_string()),
    }
}

/// Why no injector webhook was called, in the terms a user would check.
fn not_selected_reason(w: &Workload, ns_labels: &Labels) -> String {
    let ns = &w.namespace;
    match (ns_labels.get(INJECTION_NS), ns_labels.get(REV)) {
        (Some(v), _) if v != "enabled" => format!("namespace {ns} has {INJECTION_NS}={v}"),
        (Some(_), _) => format!("pod sets {INJECT}=false"),
        (None, Some(rev)) => {
            format!("namespace {ns} has {REV}={rev}, which no loaded injector webhook serves")
        }
        (None, None) => match w.labels.get(INJECT) {
            Some(v) if v == "false" => format!("pod sets {INJECT}=false"),
            _ => format!("namespace {ns} has no {INJECTION_NS} or {REV} label"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::meta::labels;
    use crate::registry::workloads::ContainerFacts;
    use std::net::{IpAddr, Ipv4Addr};

    fn mk_workload(pod_labels: &[(&str, &str)]) -> Workload {
        Workload {
            name: "p".into(),
            namespace: "shop".into(),
            origin: Origin::Pod,
            controller: None,
            labels: labels(pod_labels),
            annotations: Labels::new(),
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            node: None,
            locality: None,
            service_account: "default".into(),
            ports: vec![],
            containers: vec![ContainerFacts {
                name: "app".into(),
                args: vec![],
                image: None,
            }],
            ready: true,
            host_network: false,
            dns_name: None,
            weight: 1,
            span: crate::diag::Span::new(std::sync::Arc::from(std::path::Path::new("t")), 1),
        }
    }

    fn injector() -> Injector {
        Injector {
            webhooks: default_webhooks(),
            defaults: true,
            never_inject: vec![],
            always_inject: vec![],
            policy_enabled: true,
        }
    }

    fn is_sidecar(d: &Decision) -> bool {
        matches!(
            d,
            Decision::Proxy {
                kind: ProxyType::Sidecar,
                ..
            }
        )
    }

    #[test]
    fn default_webhooks_follow_istios_table() {
        let inj = injector();
        let enabled = labels(&[("istio-injection", "enabled")]);
        let disabled = labels(&[("istio-injection", "disabled")]);
        let rev = labels(&[("istio.io/rev", "default")]);
        let none = labels(&[]);
        assert!(is_sidecar(&inj.decide(&mk_workload(&[]), &enabled)));
        assert!(!is_sidecar(
            &inj.decide(&mk_workload(&[(INJECT, "false")]), &enabled)
        ));
        assert!(is_sidecar(&inj.decide(&mk_workload(&[]), &rev)));
        assert!(!is_sidecar(&inj.decide(&mk_workload(&[]), &none)));
        assert!(is_sidecar(
            &inj.decide(&mk_workload(&[(INJECT, "true")]), &none)
        ));
        assert_eq!(
            inj.decide(&mk_workload(&[(INJECT, "true")]), &disabled),
            Decision::None("namespace shop has istio-injection=disabled".into())
        );
    }

    #[test]
    fn annotation_blocks_in_a_labelled_namespace() {
        let inj = injector();
        let mut w = mk_workload(&[]);
        w.annotations.insert(INJECT.into(), "false".into());
        let d = inj.decide(&w, &labels(&[("istio-injection", "enabled")]));
        assert_eq!(d, Decision::None(format!("pod sets {INJECT}=false")));
    }

    #[test]
    fn gateway_template_makes_a_router_and_host_network_nothing() {
        let inj = injector();
        let mut w = mk_workload(&[(INJECT, "true")]);
        w.annotations
            .insert("inject.istio.io/templates".into(), "gateway".into());
        assert!(matches!(
            inj.decide(&w, &labels(&[])),
            Decision::Proxy {
                kind: ProxyType::Router,
                ..
            }
        ));
        w.host_network = true;
        assert!(matches!(inj.decide(&w, &labels(&[])), Decision::None(_)));
    }
}
