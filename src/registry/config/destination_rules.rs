//! DestinationRules: merged per host and namespace, looked up for a proxy
//! and a service in istiod's order (istiod-sidecar.md §3.7).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::diag::Diagnostics;
use crate::model::istio::{DestinationRule, Subset, TrafficPolicy};
use crate::model::{Labels, Object, Store};

use super::super::{Mesh, all_of};
use super::virtual_services::resolve_short_name;
use super::{ConfigMeta, selects};

/// Which of istiod's three DestinationRule indexes a merged rule belongs to;
/// each is merged on its own, so one rule may appear in two of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleScope {
    /// What proxies of the rule's own namespace look up first: exportTo
    /// unset, `*`, `.` or naming the namespace.
    Local,
    /// What other namespaces may find: every rule not private to its namespace.
    Exported,
    /// Private rules of the root namespace, which its own proxies look up
    /// instead of `Local`.
    RootLocal,
}

/// The DestinationRule that applies to one host: the merge of every rule for
/// that host in one namespace (subsets concatenated, first name wins; the
/// oldest top-level traffic policy).
#[derive(Debug, Clone)]
pub struct MergedRule {
    /// The host as written, resolved to an FQDN (may be a wildcard).
    pub host: String,
    pub traffic_policy: Option<TrafficPolicy>,
    pub subsets: Vec<Subset>,
    /// `workloadSelector` labels, when the rule has one.
    pub selector: Option<Labels>,
    /// exportTo as written; `.` for a rule with a selector, which is never
    /// exported. Rules merge only when these sets are equal (istiod's
    /// enhanced merge, on by default).
    pub export_to: Vec<String>,
    /// The rules merged into this one, oldest first; `metas[0]` names it
    /// (the `istio.config` metadata and istioctl's DESTINATION RULE column).
    pub metas: Vec<ConfigMeta>,
    pub scope: RuleScope,
}

impl MergedRule {
    pub fn namespace(&self) -> &str {
        &self.metas[0].namespace
    }

    /// Whether it hashes consistently anywhere (its subsets too): what
    /// routes read of it.
    pub fn hashes(&self) -> bool {
        self.policies().any(TrafficPolicy::hashes)
    }

    /// Whether it balances load by the original destination anywhere (its
    /// subsets too).
    pub fn passes_through(&self) -> bool {
        self.policies().any(TrafficPolicy::passes_through)
    }

    /// Its traffic policy and its subsets'.
    fn policies(&self) -> impl Iterator<Item = &TrafficPolicy> {
        let subsets = self
            .subsets
            .iter()
            .filter_map(|s| s.traffic_policy.as_ref());
        self.traffic_policy.iter().chain(subsets)
    }

    /// Exported to clients of `ns` (unset counts as everywhere, as istiod
    /// only indexes unset rules here when the mesh default is public).
    fn exported_to(&self, ns: &str) -> bool {
        self.exported_to_all() || self.export_to.iter().any(|e| e == ns)
    }

    /// Exported to clients of every namespace.
    fn exported_to_all(&self) -> bool {
        self.export_to.is_empty() || self.export_to.iter().any(|e| e == "*")
    }
}

#[derive(Debug, Default)]
pub struct DestinationRules {
    /// Every merged rule of every scope, sorted by namespace, scope and host;
    /// rules for one host keep istiod's merge order (selector rules first,
    /// then config order).
    pub rules: Vec<MergedRule>,
    pub root_namespace: String,
    /// Where each namespace's rules of a scope for a host are in `rules`:
    /// a view of a large mesh looks up thousands of hosts, each in up to
    /// three namespaces.
    index: foldhash::HashMap<String, [HostRuns; 3]>,
}

/// The rules of one namespace and scope, by host.
#[derive(Debug, Default)]
struct HostRuns {
    exact: foldhash::HashMap<String, Range<usize>>,
    /// The wildcard hosts (`*.example.com`) among them.
    wildcards: Vec<(String, Range<usize>)>,
}

impl HostRuns {
    /// Index sorted `rules` (namespace, scope, host): one entry per run.
    fn index(rules: &[MergedRule]) -> foldhash::HashMap<String, [HostRuns; 3]> {
        let mut out: foldhash::HashMap<String, [HostRuns; 3]> = Default::default();
        let mut start = 0;
        for (i, r) in rules.iter().enumerate() {
            let next = rules.get(i + 1);
            if next.is_some_and(|n| {
                (n.namespace(), n.scope, &n.host) == (r.namespace(), r.scope, &r.host)
            }) {
                continue;
            }
            let runs = &mut out.entry(r.namespace().to_string()).or_default()[r.scope as usize];
            if r.host.starts_with('*') {
                runs.wildcards.push((r.host.clone(), start..i + 1));
            }
            runs.exact.insert(r.host.clone(), start..i + 1);
            start = i + 1;
        }
        out
    }
}

impl DestinationRules {
    /// The rule a proxy in `proxy_ns` with `proxy_labels` uses for
    /// `host` (a service of `service_ns`): proxy namespace (selector rules
    /// matching the proxy first), then the service's namespace, then the
    /// root namespace; most specific host match within each.
    pub fn for_proxy(
        &self,
        proxy_ns: &str,
        proxy_labels: &Labels,
        host: &str,
        service_ns: &str,
    ) -> Option<&MergedRule> {
        let local = if proxy_ns == self.root_namespace {
            RuleScope::RootLocal
        } else {
            RuleScope::Local
        };
        // A host match in the proxy namespace ends the search even when none
        // of its rules fits the proxy (only selector rules of other workloads).
        if let Some(found) = self.most_specific(proxy_ns, local, host) {
            return pick(found, proxy_ns, proxy_labels);
        }
        for ns in [service_ns, self.root_namespace.as_str()] {
            if ns.is_empty() {
                continue;
            }
            if let Some(found) = self.most_specific(ns, RuleScope::Exported, host) {
                let mut visible = found.iter().filter(|r| r.exported_to(proxy_ns)).peekable();
                if visible.peek().is_some() {
                    return pick(visible, proxy_ns, proxy_labels);
                }
            }
        }
        None
    }

    /// The exact hosts of the rules proxies of `ns` look up first (its
    /// own, [`Self::for_proxy`]); None when one of them is a wildcard.
    pub fn local_hosts(&self, ns: &str) -> Option<Vec<&str>> {
        let scope = if ns == self.root_namespace {
            RuleScope::RootLocal
        } else {
            RuleScope::Local
        };
        let Some(runs) = self.index.get(ns) else {
            return Some(Vec::new());
        };
        let runs = &runs[scope as usize];
        (runs.wildcards.is_empty()).then(|| runs.exact.keys().map(String::as_str).collect())
    }

    /// Whether proxies with no rule of their own namespace for `host` (a
    /// service of `service_ns`) find the same one whatever their namespace
    /// and labels: the rules found for it elsewhere are exported to all.
    pub fn found_alike_elsewhere(&self, host: &str, service_ns: &str) -> bool {
        for ns in [service_ns, self.root_namespace.as_str()] {
            if ns.is_empty() {
                continue;
            }
            if let Some(found) = self.most_specific(ns, RuleScope::Exported, host) {
                return found.iter().all(MergedRule::exported_to_all);
            }
        }
        true
    }

    /// The rules of one namespace and scope for the host that best matches
    /// `needle`: the exact host, else the longest matching wildcard.
    fn most_specific(&self, ns: &str, scope: RuleScope, needle: &str) -> Option<&[MergedRule]> {
        let runs = &self.index.get(ns)?[scope as usize];
        if let Some(run) = runs.exact.get(needle) {
            return Some(&self.rules[run.clone()]);
        }
        let bare = needle.strip_prefix('*').unwrap_or(needle);
        let (_, run) = runs
            .wildcards
            .iter()
            .filter(|(h, _)| bare.ends_with(&h[1..]))
            .max_by_key(|(h, _)| h.len())?;
        Some(&self.rules[run.clone()])
    }
}

/// istiod's per-proxy choice among the rules for one host: the first
/// selector rule of the proxy's namespace whose labels the proxy has, else
/// the last selector-less one.
fn pick<'a>(
    rules: impl IntoIterator<Item = &'a MergedRule>,
    proxy_ns: &str,
    labels: &Labels,
) -> Option<&'a MergedRule> {
    let mut catch_all = None;
    for r in rules {
        match &r.selector {
            None => catch_all = Some(r),
            Some(sel) => {
                if r.namespace() == proxy_ns && selects(sel, labels) {
                    return Some(r);
                }
            }
        }
    }
    catch_all
}

pub fn build(
    store: &Store,
    translated: &[Object],
    mesh: &Mesh,
    _diags: &mut Diagnostics,
) -> DestinationRules {
    let root = mesh.mesh_config.root_namespace().to_string();
    let default_private = mesh
        .mesh_config
        .default_destination_rule_export_to()
        .contains(&".");
    let mut drs: Vec<_> = all_of::<DestinationRule>(store, translated)
        .map(|(o, dr)| (ConfigMeta::of(o), &dr.spec))
        .collect();
    // Selector rules first, then config order: the merge order istiod uses.
    drs.sort_by(|a, b| {
        (a.1.workload_selector.is_none(), a.0.order_key())
            .cmp(&(b.1.workload_selector.is_none(), b.0.order_key()))
    });

    let mut pools: BTreeMap<(String, RuleScope, String), Vec<MergedRule>> = BTreeMap::new();
    for (meta, spec) in drs {
        let ns = meta.namespace.clone();
        let host = resolve_short_name(&spec.host, &ns);
        let export: BTreeSet<String> = if spec.workload_selector.is_some() {
            BTreeSet::from([".".to_string()])
        } else {
            spec.export_to.iter().cloned().collect()
        };
        let rule = MergedRule {
            host: host.clone(),
            traffic_policy: spec.traffic_policy.clone(),
            subsets: spec.subsets.clone(),
            selector: spec
                .workload_selector
                .as_ref()
                .map(|s| s.match_labels.clone()),
            export_to: export.iter().cloned().collect(),
            metas: vec![meta],
            scope: RuleScope::Local,
        };
        let local = export.is_empty()
            || export.contains("*")
            || export.contains(".")
            || export.contains(&ns);
        let private_only = (export.is_empty() && default_private)
            || (export.len() == 1 && (export.contains(".") || export.contains(&ns)));
        let mut add = |scope: RuleScope| {
            let list = pools.entry((ns.clone(), scope, host.clone())).or_default();
            merge(
                list,
                MergedRule {
                    scope,
                    ..rule.clone()
                },
                &export,
            );
        };
        if local {
            add(RuleScope::Local);
        }
        if !private_only {
            add(RuleScope::Exported);
        } else if ns == root {
            add(RuleScope::RootLocal);
        }
    }
    let rules: Vec<MergedRule> = pools.into_values().flatten().collect();
    DestinationRules {
        index: HostRuns::index(&rules),
        rules,
        root_namespace: root,
    }
}

/// istiod's `mergeDestinationRule` with enhanced merge: a rule merges into
/// each earlier one for its host with the same exportTo (or, still kept on
/// its own too, one whose exportTo it widens), unless both have different
/// selectors; it stays separate unless some earlier rule fully absorbs it.
/// A selector-less rule thus also lends its subsets to an earlier selector
/// rule with the same exportTo.
fn merge(list: &mut Vec<MergedRule>, incoming: MergedRule, export: &BTreeSet<String>) {
    let mut separate = true;
    for existing in list.iter_mut() {
        let theirs: BTreeSet<String> = existing.export_to.iter().cloned().collect();
        if *export == theirs {
            separate = false;
        } else if !theirs.is_empty() && export.is_superset(&theirs) {
            separate = true;
        } else {
            separate = true;
            continue;
        }
        match (&existing.selector, &incoming.selector) {
            (Some(a), Some(b)) if a != b => {
                separate = true;
                continue;
            }
            (None, None) | (Some(_), Some(_)) => separate = false,
            _ => {}
        }
        existing.metas.push(incoming.metas[0].clone());
        for s in &incoming.subsets {
            if !existing.subsets.iter().any(|e| e.name == s.name) {
                existing.subsets.push(s.clone());
            }
        }
        if existing.traffic_policy.is_none() {
            existing.traffic_policy.clone_from(&incoming.traffic_policy);
        }
    }
    if separate {
        list.push(incoming);
    }
}

#[cfg(test)]
mod tests {
    use super::super::from_yaml;
    use crate::model::meta::labels;

    const REVIEWS: &str = "reviews.svc.svc.cluster.local";

    fn dr(name: &str, ns: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {spec}\n"
        )
    }

    /// The name of the rule a proxy gets, or "-".
    fn lookup(
        rules: &super::DestinationRules,
        proxy_ns: &str,
        app: &str,
        host: &str,
        svc_ns: &str,
    ) -> String {
        rules
            .for_proxy(proxy_ns, &labels(&[("app", app)]), host, svc_ns)
            .map_or("-".into(), |r| r.metas[0].name.clone())
    }

    #[test]
    fn lookup_order_and_host_specificity() {
        let yaml = [
            dr("mesh-wide", "istio-system", "{host: '*.cluster.local'}"),
            dr(
                "root-private",
                "istio-system",
                "{host: '*.b.svc.cluster.local', exportTo: ['.']}",
            ),
            dr("svc-dr", "svc", "{host: reviews, exportTo: ['*']}"),
            dr("svc-private", "svc", "{host: ratings, exportTo: ['.']}"),
            dr("svc-to-other", "svc", "{host: details, exportTo: [other]}"),
            dr("client-wild", "client", "{host: '*.svc.svc.cluster.local'}"),
            dr("client-wider", "client", "{host: '*.svc.cluster.local'}"),
            dr("client-star", "client", "{host: '*'}"),
        ]
        .concat();
        let (cfg, _) = from_yaml(&yaml);
        let rules = &cfg.destination_rules;
        let l = |ns, host, svc_ns| lookup(rules, ns, "x", host, svc_ns);
        // (2) the service's namespace, (3) the root namespace.
        assert_eq!(l("other", REVIEWS, "svc"), "svc-dr");
        assert_eq!(
            l("other", "ratings.svc.svc.cluster.local", "svc"),
            "mesh-wide"
        );
        assert_eq!(
            l("other", "details.svc.svc.cluster.local", "svc"),
            "svc-to-other"
        );
        assert_eq!(
            l("third", "details.svc.svc.cluster.local", "svc"),
            "mesh-wide"
        );
        // Exported only to others: not for the rule's own namespace.
        assert_eq!(
            l("svc", "details.svc.svc.cluster.local", "svc"),
            "mesh-wide"
        );
        assert_eq!(
            l("svc", "ratings.svc.svc.cluster.local", "svc"),
            "svc-private"
        );
        // (1) the proxy namespace first; the longest wildcard, then `*`.
        assert_eq!(l("client", REVIEWS, "svc"), "client-wild");
        assert_eq!(
            l("client", "x.other.svc.cluster.local", "other"),
            "client-wider"
        );
        assert_eq!(l("client", "example.com", ""), "client-star");
        // Root-namespace proxies: only the root's private rules come first
        // (its exported `*.cluster.local` does not beat the service namespace).
        assert_eq!(l("istio-system", REVIEWS, "svc"), "svc-dr");
        assert_eq!(
            l("istio-system", "a.b.svc.cluster.local", "b"),
            "root-private"
        );
        assert_eq!(l("other", "example.com", ""), "-");
    }

    #[test]
    fn workload_selector_rules() {
        let yaml = [
            dr("plain", "client", "{host: reviews.svc.svc.cluster.local, subsets: [{name: p1}]}"),
            dr(
                "special",
                "client",
                "{host: reviews.svc.svc.cluster.local, workloadSelector: {matchLabels: {app: special}}, subsets: [{name: s1}]}",
            ),
            dr(
                "root-sel",
                "istio-system",
                "{host: ratings.svc.svc.cluster.local, workloadSelector: {matchLabels: {app: gw}}, exportTo: ['*']}",
            ),
        ]
        .concat();
        let (cfg, _) = from_yaml(&yaml);
        let rules = &cfg.destination_rules;
        assert_eq!(
            lookup(rules, "client", "special", REVIEWS, "svc"),
            "special"
        );
        assert_eq!(lookup(rules, "client", "plain", REVIEWS, "svc"), "plain");
        // Selector rules are never exported.
        assert_eq!(
            lookup(rules, "other", "special", REVIEWS, "client"),
            "plain"
        );
        let ratings = "ratings.svc.svc.cluster.local";
        assert_eq!(
            lookup(rules, "istio-system", "gw", ratings, "svc"),
            "root-sel"
        );
        assert_eq!(lookup(rules, "client", "gw", ratings, "svc"), "-");
        let special = rules
            .for_proxy("client", &labels(&[("app", "special")]), REVIEWS, "svc")
            .unwrap();
        let subsets: Vec<_> = special.subsets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(subsets, ["s1"]);
        assert_eq!(special.export_to, ["."]);
    }

    #[test]
    fn rules_for_one_host_merge() {
        let yaml = [
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: b, namespace: svc, creationTimestamp: '2021-01-01T00:00:00Z'}\nspec: {host: reviews, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}, subsets: [{name: v2, labels: {version: b}}, {name: v3}]}\n",
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: a, namespace: svc, creationTimestamp: '2020-01-01T00:00:00Z'}\nspec: {host: reviews.svc.svc.cluster.local, subsets: [{name: v1}, {name: v2, labels: {version: a}}]}\n",
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: c, namespace: svc, creationTimestamp: '2022-01-01T00:00:00Z'}\nspec: {host: reviews, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}}\n",
        ]
        .concat();
        let (cfg, _) = from_yaml(&yaml);
        let rules = &cfg.destination_rules;
        let local: Vec<_> = rules
            .rules
            .iter()
            .filter(|r| r.scope == super::RuleScope::Local)
            .collect();
        assert_eq!(local.len(), 1);
        let m = rules
            .for_proxy("other", &labels(&[]), REVIEWS, "svc")
            .unwrap();
        let metas: Vec<_> = m.metas.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(metas, ["a", "b", "c"]);
        let subsets: Vec<_> = m
            .subsets
            .iter()
            .map(|s| (s.name.as_str(), s.labels.get("version").map(String::as_str)))
            .collect();
        assert_eq!(subsets, [("v1", None), ("v2", Some("a")), ("v3", None)]);
        let lb = m
            .traffic_policy
            .as_ref()
            .unwrap()
            .load_balancer
            .as_ref()
            .unwrap();
        assert_eq!(lb.simple.as_deref(), Some("ROUND_ROBIN"));
    }
}
