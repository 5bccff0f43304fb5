//! Which objects istiod's validating webhook sees (§5.2): the webhooks of the
//! loaded ValidatingWebhookConfigurations that call istiod's `/validate`, or,
//! when none is loaded, the one Istio's default revision installs
//! (`validation.istio.io`: CREATE/UPDATE of every resource of the four Istio
//! groups, no selectors).

use std::collections::BTreeMap;

use crate::model::core::{RuleWithOperations, ValidatingWebhookConfiguration};
use crate::model::{LabelSelector, Store};

use super::ISTIO_GROUPS;

#[derive(Debug)]
struct Hook {
    name: String,
    rules: Vec<RuleWithOperations>,
    namespace_selector: LabelSelector,
    object_selector: LabelSelector,
}

/// The validating webhooks that lead to istiod.
#[derive(Debug)]
pub struct Webhooks {
    hooks: Vec<Hook>,
}

impl Webhooks {
    pub fn from_store(store: &Store) -> Webhooks {
        let mut hooks = Vec::new();
        for (_, vwc) in store.of::<ValidatingWebhookConfiguration>() {
            for wh in &vwc.webhooks {
                if !(wh.name.ends_with("validation.istio.io") || wh.path().ends_with("/validate")) {
                    continue;
                }
                hooks.push(Hook {
                    name: wh.name.clone(),
                    rules: wh.rules.clone(),
                    namespace_selector: wh.namespace_selector.clone().unwrap_or_default(),
                    object_selector: wh.object_selector.clone().unwrap_or_default(),
                });
            }
        }
        if hooks.is_empty() {
            hooks.push(Hook {
                name: "validation.istio.io".to_string(),
                rules: vec![RuleWithOperations {
                    operations: vec!["CREATE".into(), "UPDATE".into()],
                    api_groups: ISTIO_GROUPS.iter().map(|g| (*g).to_string()).collect(),
                    api_versions: vec!["*".into()],
                    resources: vec!["*".into()],
                    scope: None,
                }],
                namespace_selector: LabelSelector::default(),
                object_selector: LabelSelector::default(),
            });
        }
        Webhooks { hooks }
    }

    /// The name of the first webhook that selects an object (created, as
    /// `kubectl apply` of a new object does), or None.
    pub fn select(
        &self,
        group: &str,
        version: &str,
        kind: &str,
        namespace_labels: &BTreeMap<String, String>,
        labels: &BTreeMap<String, String>,
    ) -> Option<&str> {
        let resource = plural(kind);
        self.hooks
            .iter()
            .find(|h| {
                h.rules
                    .iter()
                    .any(|r| rule_matches(r, group, version, &resource))
                    && h.namespace_selector.matches(namespace_labels)
                    && h.object_selector.matches(labels)
            })
            .map(|h| h.name.as_str())
    }
}

fn rule_matches(r: &RuleWithOperations, group: &str, version: &str, resource: &str) -> bool {
    let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
    any(&r.operations, "CREATE")
        && any(&r.api_groups, group)
        && any(&r.api_versions, version)
        && r.resources
            .iter()
            .any(|x| x == "*" || x == resource || x.strip_suffix("/*") == Some(resource))
}

/// The resource name of a kind, as CRDs name them (`serviceentries`).
fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    match lower.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{lower}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::meta::LabelSelectorRequirement;

    fn rev_hook() -> Hook {
        Hook {
            name: "rev.validation.istio.io".into(),
            rules: vec![RuleWithOperations {
                operations: vec!["CREATE".into()],
                api_groups: vec!["security.istio.io".into()],
                api_versions: vec!["*".into()],
                resources: vec!["authorizationpolicies".into()],
                scope: None,
            }],
            namespace_selector: LabelSelector::default(),
            object_selector: LabelSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![LabelSelectorRequirement {
                    key: "istio.io/rev".into(),
                    operator: "In".into(),
                    values: vec!["canary".into()],
                }],
            },
        }
    }

    #[test]
    fn rules_and_selectors_decide() {
        let hooks = Webhooks {
            hooks: vec![rev_hook()],
        };
        let none = BTreeMap::new();
        let canary: BTreeMap<String, String> =
            [("istio.io/rev".to_string(), "canary".to_string())].into();
        let sel = |kind, labels| hooks.select("security.istio.io", "v1", kind, &none, labels);
        assert_eq!(
            sel("AuthorizationPolicy", &canary),
            Some("rev.validation.istio.io")
        );
        assert_eq!(sel("AuthorizationPolicy", &none), None);
        assert_eq!(sel("PeerAuthentication", &canary), None);
    }

    #[test]
    fn defaults_cover_the_istio_groups() {
        let hooks = Webhooks::from_store(&Store::default());
        let none = BTreeMap::new();
        assert_eq!(
            hooks.select("networking.istio.io", "v1", "ServiceEntry", &none, &none),
            Some("validation.istio.io")
        );
        assert_eq!(
            hooks.select("gateway.networking.k8s.io", "v1", "Gateway", &none, &none),
            None
        );
        assert_eq!(plural("ServiceEntry"), "serviceentries");
        assert_eq!(plural("Gateway"), "gateways");
        assert_eq!(plural("AuthorizationPolicy"), "authorizationpolicies");
    }
}
