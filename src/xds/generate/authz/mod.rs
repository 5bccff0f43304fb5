//! AuthorizationPolicy → Envoy RBAC and ext_authz filters
//! (istiod-gateway-security.md §3.2; istiod's `security/authz/builder`).
//!
//! [`Authz::for_workload`] gathers what applies to one proxy; its four
//! builders give the filters of each kind of chain, which the listener
//! builders place: CUSTOM first (`custom_http`, `custom_tcp`: an RBAC
//! filter evaluating the CUSTOM rules in shadow mode, then ext_authz gated
//! on that result), then, after authentication, the AUDIT, DENY and ALLOW
//! RBAC filters (`local_http`, `local_tcp`).

mod ext_authz;
mod rule;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Context;
use super::filters::named;
use super::json::any;
use crate::model::Labels;
use crate::registry::config::authz::{AuthzPolicy, WorkloadPolicies};

pub use ext_authz::{Providers, resolve as resolve_providers};

const HTTP_RBAC: &str = "envoy.filters.http.rbac";
const TCP_RBAC: &str = "envoy.filters.network.rbac";
const HTTP_RBAC_TYPE: &str = "envoy.extensions.filters.http.rbac.v3.RBAC";
const TCP_RBAC_TYPE: &str = "envoy.extensions.filters.network.rbac.v3.RBAC";
const HTTP_EXT_AUTHZ: &str = "envoy.filters.http.ext_authz";
const TCP_EXT_AUTHZ: &str = "envoy.filters.network.ext_authz";
const HTTP_EXT_AUTHZ_TYPE: &str = "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz";
const TCP_EXT_AUTHZ_TYPE: &str = "envoy.extensions.filters.network.ext_authz.v3.ExtAuthz";
const EXT_AUTHZ_PREFIX: &str = "istio-ext-authz";
const EXT_AUTHZ_STAT_PREFIX: &str = "istio_ext_authz_";
const DRY_RUN_ALLOW_PREFIX: &str = "istio_dry_run_allow_";
const DRY_RUN_DENY_PREFIX: &str = "istio_dry_run_deny_";
const BAD_CUSTOM_SUFFIX: &str = "-deny-due-to-bad-CUSTOM-action";
/// istio-proxy's RBAC filters record the shadow result under this key.
const SHADOW_EFFECTIVE_POLICY_ID: &str = "shadow_effective_policy_id";

/// The RBAC action (`envoy.config.rbac.v3.RBAC.Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RbacAction {
    Allow,
    Deny,
    Log,
}

/// An `envoy.config.rbac.v3.RBAC`: an action and named policies.
#[derive(Debug, Clone)]
struct Rbac {
    action: RbacAction,
    policies: BTreeMap<String, Value>,
}

impl Rbac {
    fn new(action: RbacAction) -> Rbac {
        Rbac {
            action,
            policies: BTreeMap::new(),
        }
    }

    /// Proto-JSON: ALLOW is the default and an empty map is left out.
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        match self.action {
            RbacAction::Allow => {}
            RbacAction::Deny => {
                m.insert("action".into(), json!("DENY"));
            }
            RbacAction::Log => {
                m.insert("action".into(), json!("LOG"));
            }
        }
        if !self.policies.is_empty() {
            let p: Map<String, Value> = self
                .policies
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            m.insert("policies".into(), Value::Object(p));
        }
        Value::Object(m)
    }

    /// The same policies as a DENY, for a CUSTOM action that cannot call
    /// its provider: requests its rules match are denied.
    fn bad_custom_deny(&self) -> Rbac {
        Rbac {
            action: RbacAction::Deny,
            policies: self
                .policies
                .iter()
                .map(|(k, v)| (format!("{k}{BAD_CUSTOM_SUFFIX}"), v.clone()))
                .collect(),
        }
    }
}

/// The rules of one action: enforced and dry-run (None when no policy of
/// that kind exists).
struct Built {
    rules: Option<Rbac>,
    shadow: Option<Rbac>,
}

/// A proxy's security filters, built once for all its chains
/// (`authn::security_filters`), in groups: extension filters of the AUTHN
/// and AUTHZ phases go between them.
#[derive(Debug, Clone, Default)]
pub struct SecurityFilters {
    /// CUSTOM authorization (right after the metadata exchange filter).
    pub custom_http: Vec<Value>,
    /// JWT authentication.
    pub jwt: Option<Value>,
    /// The AUDIT, DENY and ALLOW RBAC filters.
    pub local_http: Vec<Value>,
    pub custom_tcp: Vec<Value>,
    pub local_tcp: Vec<Value>,
}

/// The authorization inputs of one proxy.
pub struct Authz<'a> {
    policies: WorkloadPolicies<'a>,
    /// The mesh's trust domain, then its aliases.
    trust_domains: Vec<String>,
    /// Resolved only when a CUSTOM policy applies.
    providers: Providers,
}

impl<'a> Authz<'a> {
    /// What applies to a workload in `namespace` with `labels` (a sidecar,
    /// or a gateway pod: the same selection).
    pub fn for_workload(ctx: &Context<'a>, namespace: &str, labels: &Labels) -> Authz<'a> {
        let mesh = &ctx.mesh.mesh_config;
        let policies = ctx.config.authz.for_workload(namespace, labels);
        let providers = if policies.custom.is_empty() {
            Providers::new()
        } else {
            ext_authz::resolve(mesh, ctx.catalog)
        };
        let mut trust_domains = vec![mesh.trust_domain().to_string()];
        trust_domains.extend(mesh.trust_domain_aliases().iter().cloned());
        Authz::new(policies, trust_domains, providers)
    }

    pub fn new(
        policies: WorkloadPolicies<'a>,
        trust_domains: Vec<String>,
        providers: Providers,
    ) -> Authz<'a> {
        Authz {
            policies,
            trust_domains,
            providers,
        }
    }

    /// HTTP filters of the CUSTOM policies (before authentication).
    pub fn custom_http(&self) -> Vec<Value> {
        self.custom(false)
    }

    /// Network filters of the CUSTOM policies (before the RBAC ones).
    pub fn custom_tcp(&self) -> Vec<Value> {
        self.custom(true)
    }

    /// The AUDIT, DENY and ALLOW RBAC HTTP filters, in that order.
    pub fn local_http(&self) -> Vec<Value> {
        self.local(false)
    }

    /// The AUDIT, DENY and ALLOW RBAC network filters, in that order.
    pub fn local_tcp(&self) -> Vec<Value> {
        self.local(true)
    }

    fn local(&self, tcp: bool) -> Vec<Value> {
        let p = &self.policies;
        let mut out = Vec::new();
        for (policies, action) in [
            (&p.audit, RbacAction::Log),
            (&p.deny, RbacAction::Deny),
            (&p.allow, RbacAction::Allow),
        ] {
            if policies.is_empty() {
                continue;
            }
            let built = self.build(policies, action, tcp);
            // Without dry-run rules the prefix is still written, as the
            // ALLOW one (istiod reads the action of an absent RBAC).
            let shadow_prefix = match built.shadow.as_ref().map(|s| s.action) {
                None | Some(RbacAction::Allow) => DRY_RUN_ALLOW_PREFIX,
                Some(RbacAction::Deny) => DRY_RUN_DENY_PREFIX,
                Some(RbacAction::Log) => "",
            };
            out.push(rbac_filter(
                tcp,
                built.rules.as_ref(),
                built.shadow.as_ref(),
                shadow_prefix,
            ));
        }
        out
    }

    fn custom(&self, tcp: bool) -> Vec<Value> {
        if self.policies.custom.is_empty() {
            return Vec::new();
        }
        // Per provider, sorted: enforced rules and dry-run rules.
        let mut by_provider: BTreeMap<&str, (Vec<&AuthzPolicy>, Vec<&AuthzPolicy>)> =
            BTreeMap::new();
        for p in &self.policies.custom {
            let e = by_provider.entry(p.provider.as_str()).or_default();
            if p.dry_run { &mut e.1 } else { &mut e.0 }.push(p);
        }
        let rules: Vec<(&str, Rbac, Rbac)> = by_provider
            .iter()
            .map(|(provider, (enforced, dry_run))| {
                (
                    *provider,
                    self.rules(enforced, RbacAction::Deny, tcp, Some(provider)),
                    self.rules(dry_run, RbacAction::Deny, tcp, Some(provider)),
                )
            })
            .collect();
        let bad = |rules: &Rbac| rbac_filter(tcp, Some(&rules.bad_custom_deny()), None, "");
        // Several providers on one workload need
        // PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS (off by default).
        if rules.len() > 1 {
            return rules.iter().map(|(_, enforced, _)| bad(enforced)).collect();
        }
        let mut out = Vec::new();
        for (provider, enforced, dry_run) in &rules {
            let ext = match self.providers.get(*provider) {
                Some(Ok(ext)) => ext,
                _ => {
                    out.push(bad(enforced));
                    continue;
                }
            };
            let config = if tcp {
                ext.tcp.as_ref()
            } else {
                Some(&ext.http)
            };
            // An HTTP provider has nothing to say on a TCP chain.
            let Some(config) = config else { continue };
            // The RBAC filter only evaluates: its result (in dynamic
            // metadata) decides whether ext_authz runs.
            let rules = (!dry_run.policies.is_empty()).then_some(dry_run);
            out.push(rbac_filter(
                tcp,
                rules,
                Some(enforced),
                EXT_AUTHZ_STAT_PREFIX,
            ));
            let mut config = config.clone();
            config.insert(
                "filter_enabled_metadata".into(),
                json!({
                    "filter": if tcp { TCP_RBAC } else { HTTP_RBAC },
                    "path": [{"key": format!("{EXT_AUTHZ_STAT_PREFIX}{SHADOW_EFFECTIVE_POLICY_ID}")}],
                    "value": {"string_match": {"prefix": format!("{EXT_AUTHZ_PREFIX}-{provider}")}},
                }),
            );
            let (name, type_name) = if tcp {
                (TCP_EXT_AUTHZ, TCP_EXT_AUTHZ_TYPE)
            } else {
                (HTTP_EXT_AUTHZ, HTTP_EXT_AUTHZ_TYPE)
            };
            out.push(named(name, any(type_name, Value::Object(config))));
        }
        out
    }

    /// The enforced and dry-run rules of the policies of one action.
    fn build(&self, policies: &[&AuthzPolicy], action: RbacAction, tcp: bool) -> Built {
        let (dry_run, enforced): (Vec<&AuthzPolicy>, Vec<&AuthzPolicy>) =
            policies.iter().partition(|p| p.dry_run);
        Built {
            rules: (!enforced.is_empty()).then(|| self.rules(&enforced, action, tcp, None)),
            shadow: (!dry_run.is_empty()).then(|| self.rules(&dry_run, action, tcp, None)),
        }
    }

    /// One RBAC of the policies' rules, each rule a named policy. A rule
    /// that cannot be built is left out (logged by istiod); a policy
    /// without rules is one policy that never matches.
    fn rules(
        &self,
        policies: &[&AuthzPolicy],
        action: RbacAction,
        tcp: bool,
        provider: Option<&str>,
    ) -> Rbac {
        let mut rbac = Rbac::new(action);
        let target = rule::Target {
            tcp,
            strict: action == RbacAction::Allow,
        };
        for p in policies {
            let name = |i: usize| {
                let prefix = match provider {
                    Some("") => format!("{EXT_AUTHZ_PREFIX}-"),
                    Some(provider) => format!("{EXT_AUTHZ_PREFIX}-{provider}-"),
                    None => String::new(),
                };
                format!(
                    "{prefix}ns[{}]-policy[{}]-rule[{i}]",
                    p.meta.namespace, p.meta.name
                )
            };
            for (i, r) in p.rules.iter().enumerate() {
                let Ok(mut model) = rule::Model::new(&p.meta.namespace, r) else {
                    continue;
                };
                model.migrate_trust_domain(&self.trust_domains);
                if let Ok(policy) = model.generate(target) {
                    rbac.policies.insert(name(i), policy);
                }
            }
            if p.rules.is_empty() {
                rbac.policies.insert(name(0), rule::match_never());
            }
        }
        rbac
    }
}

/// An RBAC filter: HTTP, or network with the `tcp.` stat prefix.
fn rbac_filter(
    tcp: bool,
    rules: Option<&Rbac>,
    shadow: Option<&Rbac>,
    shadow_prefix: &str,
) -> Value {
    let mut m = Map::new();
    if let Some(r) = rules {
        m.insert("rules".into(), r.to_json());
    }
    if let Some(s) = shadow {
        m.insert("shadow_rules".into(), s.to_json());
    }
    if tcp {
        m.insert("stat_prefix".into(), json!("tcp."));
    }
    if !shadow_prefix.is_empty() {
        m.insert("shadow_rules_stat_prefix".into(), json!(shadow_prefix));
    }
    let (name, type_name) = if tcp {
        (TCP_RBAC, TCP_RBAC_TYPE)
    } else {
        (HTTP_RBAC, HTTP_RBAC_TYPE)
    };
    named(name, any(type_name, Value::Object(m)))
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::ext_authz::ExtAuthz;
    use super::{Authz, Providers};
    use crate::model::meta::labels;
    use crate::registry::config::from_yaml;

    fn ap(name: &str, meta: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: {name}, namespace: ns{meta}}}\nspec: {spec}\n"
        )
    }

    fn names(filters: &[Value]) -> Vec<&str> {
        filters
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect()
    }

    fn config(filter: &Value) -> &Value {
        &filter["typed_config"]
    }

    #[test]
    fn local_filters_per_action_and_chain() {
        let yaml = [
            ap(
                "dry",
                ", annotations: {istio.io/dry-run: 'true'}",
                "{rules: [{}]}",
            ),
            ap(
                "get-only",
                "",
                "{action: DENY, rules: [{to: [{operation: {methods: [GET], ports: ['80']}}]}]}",
            ),
            ap("audit", "", "{action: AUDIT}"),
        ]
        .concat();
        let (cfg, _) = from_yaml(&yaml);
        let authz = Authz::new(
            cfg.authz.for_workload("ns", &labels(&[])),
            vec![],
            Providers::new(),
        );
        let http = authz.local_http();
        assert_eq!(names(&http), ["envoy.filters.http.rbac"; 3]);
        // AUDIT: LOG, a never-matching policy for a policy without rules.
        assert_eq!(config(&http[0])["rules"]["action"], "LOG");
        assert_eq!(
            config(&http[0])["rules"]["policies"]["ns[ns]-policy[audit]-rule[0]"]["permissions"],
            json!([{"not_rule": {"any": true}}])
        );
        // ALLOW with only a dry-run policy: shadow rules, no rules.
        assert!(config(&http[2]).get("rules").is_none());
        assert_eq!(
            config(&http[2])["shadow_rules_stat_prefix"],
            "istio_dry_run_allow_"
        );
        assert!(config(&http[2])["shadow_rules"]["policies"].is_object());
        // On TCP the HTTP-only method drops out of the DENY rule; the port stays.
        let tcp = authz.local_tcp();
        assert_eq!(names(&tcp), ["envoy.filters.network.rbac"; 3]);
        assert_eq!(config(&tcp[1])["stat_prefix"], "tcp.");
        assert_eq!(
            config(&tcp[1])["rules"]["policies"]["ns[ns]-policy[get-only]-rule[0]"]["permissions"],
            json!([{"and_rules": {"rules": [{"or_rules": {"rules": [{"destination_port": 80}]}}]}}])
        );
        assert!(authz.custom_http().is_empty());
    }

    #[test]
    fn custom_filters_and_their_fallbacks() {
        let custom = |name: &str, provider: &str| {
            ap(
                name,
                "",
                &format!(
                    "{{action: CUSTOM, provider: {{name: {provider}}}, rules: [{{to: [{{operation: {{paths: [/a]}}}}]}}]}}"
                ),
            )
        };
        let http_only: Providers = [(
            "http".to_string(),
            Ok(ExtAuthz {
                http: Map::new(),
                tcp: None,
            }),
        )]
        .into();
        let run = |yaml: String, tcp: bool| {
            let (cfg, _) = from_yaml(&yaml);
            let authz = Authz::new(
                cfg.authz.for_workload("ns", &labels(&[])),
                vec![],
                http_only.clone(),
            );
            if tcp {
                authz.custom_tcp()
            } else {
                authz.custom_http()
            }
        };
        // A working provider: shadow RBAC, then ext_authz keyed on it.
        let ok = run(custom("a", "http"), false);
        assert_eq!(
            names(&ok),
            ["envoy.filters.http.rbac", "envoy.filters.http.ext_authz"]
        );
        assert_eq!(
            config(&ok[1])["filter_enabled_metadata"]["value"]["string_match"]["prefix"],
            "istio-ext-authz-http"
        );
        // An HTTP provider gives nothing on TCP.
        assert!(run(custom("a", "http"), true).is_empty());
        // An unknown provider, or two providers: their rules deny.
        let unknown = run(custom("a", "nope"), false);
        assert_eq!(names(&unknown), ["envoy.filters.http.rbac"]);
        assert_eq!(config(&unknown[0])["rules"]["action"], "DENY");
        assert!(config(&unknown[0])["rules"]["policies"]
            ["istio-ext-authz-nope-ns[ns]-policy[a]-rule[0]-deny-due-to-bad-CUSTOM-action"]
            .is_object());
        let two = run([custom("a", "http"), custom("b", "nope")].concat(), true);
        assert_eq!(names(&two), ["envoy.filters.network.rbac"; 2]);
    }
}
