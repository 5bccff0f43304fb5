//! EnvoyFilters: which patches apply to a proxy, in istiod's order
//! (istiod-sidecar.md §9.1, istiod-gateway-security.md §4.3).

use std::collections::BTreeMap;

use regex_automata::meta::Regex;
use serde_json::Value;

use crate::diag::{Diagnostics, Severity};
use crate::model::istio::{
    EnvoyConfigObjectMatch, EnvoyConfigObjectPatch, EnvoyFilter, PolicyTargetReference,
};
use crate::model::{Labels, Store};
use crate::xds::proto::snake_case_fields;

use super::super::Mesh;
use super::ConfigMeta;
use super::attachment::{attaches, policy_namespaces};

/// istiod refuses to compile longer `proxyVersion` patterns (a patch with
/// one then matches no proxy).
const MAX_PROXY_VERSION_LEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyTo {
    Listener,
    FilterChain,
    NetworkFilter,
    HttpFilter,
    RouteConfiguration,
    VirtualHost,
    HttpRoute,
    Cluster,
    ExtensionConfig,
    Bootstrap,
    ListenerFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Merge,
    MergeAndReplaceList,
    Add,
    Remove,
    InsertBefore,
    InsertAfter,
    InsertFirst,
    Replace,
}

impl Operation {
    pub fn is_merge(self) -> bool {
        matches!(self, Operation::Merge | Operation::MergeAndReplaceList)
    }
}

/// Where a patch applies (`match.context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchContext {
    Any,
    SidecarInbound,
    SidecarOutbound,
    Gateway,
    /// Ambient waypoints, which meshsim does not generate.
    Waypoint,
}

#[derive(Debug, Clone)]
enum VersionMatch {
    Any,
    Regex(Box<Regex>),
    Never,
}

/// One `configPatches[]` entry, ready to apply.
#[derive(Debug, Clone)]
pub struct Patch {
    /// `namespace/name` of its EnvoyFilter.
    pub source: String,
    pub apply_to: ApplyTo,
    pub operation: Operation,
    pub context: PatchContext,
    /// `match` as written (an absent one matches everything).
    pub matcher: EnvoyConfigObjectMatch,
    /// The Envoy message, with proto field names (snake_case).
    pub value: Value,
    version: VersionMatch,
}

impl Patch {
    /// `match.proxy`: the proxy's Istio version and node metadata.
    fn matches_proxy(&self, version: &str, metadata: &BTreeMap<String, String>) -> bool {
        let ok = match &self.version {
            VersionMatch::Any => true,
            VersionMatch::Regex(r) => !version.is_empty() && r.is_match(version),
            VersionMatch::Never => false,
        };
        ok && self.matcher.proxy.as_ref().is_none_or(|p| {
            p.metadata
                .iter()
                .all(|(k, v)| metadata.get(k).is_some_and(|m| m == v))
        })
    }
}

#[derive(Debug, Clone)]
pub struct EnvoyFilterEntry {
    pub meta: ConfigMeta,
    pub selector: Option<Labels>,
    pub target_refs: Vec<PolicyTargetReference>,
    pub priority: i32,
    pub patches: Vec<Patch>,
}

#[derive(Debug, Default)]
pub struct EnvoyFilters {
    /// In config order: priority, then creation time, then name.
    pub all: Vec<EnvoyFilterEntry>,
    pub root_namespace: String,
}

impl EnvoyFilters {
    /// The patches for a proxy in `ns` with `labels`, Istio `version` and
    /// node `metadata`, in application order: the root namespace's and the
    /// proxy namespace's EnvoyFilters that attach, by priority, root
    /// namespace first on ties, then age, then `name.namespace`.
    pub fn patches_for(
        &self,
        ns: &str,
        labels: &Labels,
        version: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Vec<&Patch> {
        let root = self.root_namespace.as_str();
        let namespaces = policy_namespaces(root, ns);
        let mut filters: Vec<&EnvoyFilterEntry> = self
            .all
            .iter()
            .filter(|f| namespaces.contains(&f.meta.namespace.as_str()))
            .filter(|f| {
                attaches(
                    &f.meta.namespace,
                    f.selector.as_ref(),
                    &f.target_refs,
                    ns,
                    labels,
                )
            })
            .collect();
        filters.sort_by(|a, b| {
            let key = |f: &EnvoyFilterEntry| {
                (
                    f.priority,
                    f.meta.namespace != root,
                    f.meta.creation.clone(),
                    format!("{}.{}", f.meta.name, f.meta.namespace),
                )
            };
            key(a).cmp(&key(b))
        });
        filters
            .into_iter()
            .flat_map(|f| &f.patches)
            .filter(|p| p.matches_proxy(version, metadata))
            .collect()
    }
}

pub fn build(store: &Store, mesh: &Mesh, diags: &mut Diagnostics) -> EnvoyFilters {
    let mut all: Vec<EnvoyFilterEntry> = store
        .of::<EnvoyFilter>()
        .map(|(o, ef)| {
            let spec = &ef.spec;
            let source = format!("{}/{}", o.namespace(), o.name());
            EnvoyFilterEntry {
                meta: ConfigMeta::of(o),
                selector: spec.workload_selector.as_ref().map(|s| s.labels.clone()),
                target_refs: spec.target_refs.clone(),
                priority: spec.priority.unwrap_or(0),
                patches: spec
                    .config_patches
                    .iter()
                    .enumerate()
                    .filter_map(|(i, cp)| {
                        let mut warn = |msg: String| {
                            diags.report(
                                Severity::Warning,
                                "envoy-filter",
                                Some(o.span.clone()),
                                Some(o.describe()),
                                format!("configPatches[{i}]: {msg}; patch ignored"),
                            )
                        };
                        patch(&source, cp, &mut warn)
                    })
                    .collect(),
            }
        })
        .collect();
    all.sort_by(|a, b| (a.priority, a.meta.order_key()).cmp(&(b.priority, b.meta.order_key())));
    EnvoyFilters {
        all,
        root_namespace: mesh.mesh_config.root_namespace().to_string(),
    }
}

/// One written patch, or why istiod would not use it.
fn patch(source: &str, cp: &EnvoyConfigObjectPatch, warn: &mut dyn FnMut(String)) -> Option<Patch> {
    let apply_to = match cp.apply_to.as_deref().unwrap_or("INVALID") {
        "LISTENER" => ApplyTo::Listener,
        "FILTER_CHAIN" => ApplyTo::FilterChain,
        "NETWORK_FILTER" => ApplyTo::NetworkFilter,
        "HTTP_FILTER" => ApplyTo::HttpFilter,
        "ROUTE_CONFIGURATION" => ApplyTo::RouteConfiguration,
        "VIRTUAL_HOST" => ApplyTo::VirtualHost,
        "HTTP_ROUTE" => ApplyTo::HttpRoute,
        "CLUSTER" => ApplyTo::Cluster,
        "EXTENSION_CONFIG" => ApplyTo::ExtensionConfig,
        "BOOTSTRAP" => ApplyTo::Bootstrap,
        "LISTENER_FILTER" => ApplyTo::ListenerFilter,
        other => {
            warn(format!("applyTo `{other}` is not one meshsim applies"));
            return None;
        }
    };
    let Some(p) = &cp.patch else {
        warn("no patch".to_string());
        return None;
    };
    let mut operation = match p.operation.as_deref().unwrap_or("INVALID") {
        "MERGE" => Operation::Merge,
        "MERGE_AND_REPLACE_LIST" => Operation::MergeAndReplaceList,
        "ADD" => Operation::Add,
        "REMOVE" => Operation::Remove,
        "INSERT_BEFORE" => Operation::InsertBefore,
        "INSERT_AFTER" => Operation::InsertAfter,
        "INSERT_FIRST" => Operation::InsertFirst,
        "REPLACE" => Operation::Replace,
        other => {
            warn(format!("operation `{other}` is not a patch operation"));
            return None;
        }
    };
    // Inserting is positional only among filters and routes; istiod turns
    // it into ADD for everything else.
    if matches!(
        operation,
        Operation::InsertBefore | Operation::InsertAfter | Operation::InsertFirst
    ) && !matches!(
        apply_to,
        ApplyTo::HttpFilter | ApplyTo::NetworkFilter | ApplyTo::HttpRoute | ApplyTo::ListenerFilter
    ) {
        operation = Operation::Add;
    }
    let matcher = cp.r#match.clone().unwrap_or_default();
    let context = match matcher.context.as_deref().unwrap_or("ANY") {
        "ANY" => PatchContext::Any,
        "SIDECAR_INBOUND" => PatchContext::SidecarInbound,
        "SIDECAR_OUTBOUND" => PatchContext::SidecarOutbound,
        "GATEWAY" => PatchContext::Gateway,
        "WAYPOINT" => PatchContext::Waypoint,
        other => {
            warn(format!("context `{other}` is not a patch context"));
            return None;
        }
    };
    let version = match matcher
        .proxy
        .as_ref()
        .and_then(|p| p.proxy_version.as_deref())
    {
        None | Some("") => VersionMatch::Any,
        Some(v) if v.len() > MAX_PROXY_VERSION_LEN => VersionMatch::Never,
        // istiod ignores a pattern that does not compile: no version check.
        Some(v) => Regex::new(v).map_or(VersionMatch::Any, |r| VersionMatch::Regex(Box::new(r))),
    };
    let mut value = p.value.clone().unwrap_or(Value::Null);
    snake_case_fields(&mut value);
    Some(Patch {
        source: source.to_string(),
        apply_to,
        operation,
        context,
        matcher,
        value,
        version,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::attachment::GATEWAY_NAME_LABEL;
    use super::super::from_yaml;
    use super::*;
    use crate::model::meta::labels;

    fn ef(name: &str, ns: &str, created: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {{name: {name}, namespace: {ns}, creationTimestamp: '{created}'}}\nspec: {spec}\n"
        )
    }

    const PATCH: &str = "configPatches: [{applyTo: CLUSTER, patch: {operation: MERGE, value: {connectTimeout: 1s}}}]";

    #[test]
    fn selection_and_order() {
        let yaml = [
            ef("b-local", "shop", "2020-01-01T00:00:00Z", &format!("{{{PATCH}}}")),
            ef("a-local", "shop", "2020-01-01T00:00:00Z", &format!("{{{PATCH}}}")),
            ef("old-local", "shop", "2019-01-01T00:00:00Z", &format!("{{{PATCH}}}")),
            ef("root", "istio-system", "2021-01-01T00:00:00Z", &format!("{{{PATCH}}}")),
            ef("first", "shop", "2022-01-01T00:00:00Z", &format!("{{priority: -1, {PATCH}}}")),
            ef("for-b", "shop", "2018-01-01T00:00:00Z", &format!("{{workloadSelector: {{labels: {{app: b}}}}, {PATCH}}}")),
            ef("other-ns", "other", "2018-01-01T00:00:00Z", &format!("{{{PATCH}}}")),
            ef("targeted", "shop", "2018-01-01T00:00:00Z", &format!("{{targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: gw}}], {PATCH}}}")),
        ]
        .concat();
        let (cfg, diags) = from_yaml(&yaml);
        assert!(diags.is_empty(), "{diags:?}");
        let order = |ns: &str, l: &[(&str, &str)]| -> Vec<String> {
            cfg.envoy_filters
                .patches_for(ns, &labels(l), "1.31.0", &BTreeMap::new())
                .iter()
                .map(|p| p.source.clone())
                .collect()
        };
        assert_eq!(
            order("shop", &[("app", "a")]),
            [
                "shop/first",
                "istio-system/root",
                "shop/old-local",
                "shop/a-local",
                "shop/b-local"
            ]
        );
        assert!(order("shop", &[("app", "b")]).contains(&"shop/for-b".to_string()));
        // A Gateway API pod takes the targeted one (and selector-based ones).
        let gw = order("shop", &[(GATEWAY_NAME_LABEL, "gw")]);
        assert!(gw.contains(&"shop/targeted".to_string()), "{gw:?}");
        assert!(!order("shop", &[("app", "a")]).contains(&"shop/targeted".to_string()));
        // The value is in proto field names.
        let p = cfg.envoy_filters.all[0].patches[0].value.clone();
        assert_eq!(p, serde_json::json!({"connect_timeout": "1s"}));
    }

    #[test]
    fn proxy_match_and_operations() {
        let yaml = ef(
            "v",
            "shop",
            "2020-01-01T00:00:00Z",
            r"{configPatches: [
              {applyTo: CLUSTER, match: {proxy: {proxyVersion: '^1\.31.*'}}, patch: {operation: ADD, value: {name: a}}},
              {applyTo: CLUSTER, match: {proxy: {proxyVersion: '^1\.2.*'}}, patch: {operation: ADD, value: {name: b}}},
              {applyTo: CLUSTER, match: {proxy: {metadata: {ROLE: x}}}, patch: {operation: ADD, value: {name: c}}},
              {applyTo: CLUSTER, patch: {operation: INSERT_FIRST, value: {name: d}}},
              {applyTo: NOPE, patch: {operation: ADD}},
              {applyTo: CLUSTER, match: {context: NOWHERE}, patch: {operation: ADD}}]}",
        );
        let (cfg, diags) = from_yaml(&yaml);
        assert_eq!(diags.iter().count(), 2, "{diags:?}");
        let meta: BTreeMap<String, String> = [("ROLE".to_string(), "x".to_string())].into();
        let names = |m: &BTreeMap<String, String>| -> Vec<String> {
            cfg.envoy_filters
                .patches_for("shop", &labels(&[]), "1.31.0", m)
                .iter()
                .map(|p| p.value["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(&BTreeMap::new()), ["a", "d"]);
        assert_eq!(names(&meta), ["a", "c", "d"]);
        let d = &cfg.envoy_filters.all[0].patches[2];
        assert_eq!(d.operation, Operation::Add);
    }
}
