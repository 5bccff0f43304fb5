//! EnvoyFilter patches applied to a proxy's generated listeners, route
//! configurations and clusters, with istiod's match semantics and order
//! (istiod-sidecar.md §9.2-§9.5, istiod-gateway-security.md §4.3).
//!
//! Resources are proto-JSON here, so MERGE is proto merge spelled on JSON:
//! nested messages merge, lists append (or are replaced), scalars, `Any`s
//! and map entries are replaced, and setting one member of a oneof clears
//! its siblings.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::model::istio::ListenerMatch;
use crate::registry::config::attachment::policy_namespaces;
use crate::registry::config::envoy_filters::{ApplyTo, Operation, Patch, PatchContext};

use super::{Context, ISTIO_VERSION, Proxy};
use crate::registry::ProxyType;

const HCM: &str = "envoy.filters.network.http_connection_manager";

/// A gateway's listener (container) ports → the server ports whose routes
/// they carry: route configurations match `portNumber` on server ports.
pub type PortMap = BTreeMap<u32, BTreeSet<u32>>;

/// Map fields: merging replaces their entries whole.
const MAP_FIELDS: &[&str] = &[
    "filter_metadata",
    "typed_filter_metadata",
    "typed_per_filter_config",
    "typed_extension_protocol_options",
];

/// Oneof groups of the Envoy messages patches usually touch: setting one
/// member clears the others.
const ONEOFS: &[&[&str]] = &[
    &[
        "route",
        "redirect",
        "direct_response",
        "filter_action",
        "non_forwarding_action",
    ],
    &["rds", "route_config", "scoped_routes"],
    &["type", "cluster_type"],
    &["typed_config", "config_discovery"],
    &[
        "cluster",
        "cluster_header",
        "weighted_clusters",
        "cluster_specifier_plugin",
    ],
    &[
        "prefix",
        "path",
        "safe_regex",
        "connect_matcher",
        "path_separated_prefix",
        "path_match_policy",
    ],
    &[
        "host_rewrite_literal",
        "auto_host_rewrite",
        "host_rewrite_header",
        "host_rewrite_path_regex",
    ],
    &[
        "ring_hash_lb_config",
        "maglev_lb_config",
        "original_dst_lb_config",
        "least_request_lb_config",
        "round_robin_lb_config",
    ],
    &["socket_address", "pipe", "envoy_internal_address"],
];

/// The patches of one proxy, applied resource by resource.
pub struct Patcher<'a> {
    patches: Vec<&'a Patch>,
    /// Patches that could not be interpreted, for the user.
    pub warnings: Vec<String>,
}

/// A proxy's generated resources, by the patch context istiod builds them in.
pub struct Generated<'g> {
    /// Outbound listeners then `virtualOutbound`; a gateway's listeners.
    pub listeners: &'g mut Vec<Value>,
    pub virtual_inbound: &'g mut Option<Value>,
    pub bound_listeners: &'g mut Vec<Value>,
    pub routes: &'g mut Vec<Value>,
    pub clusters: &'g mut Vec<Value>,
    pub port_map: &'g PortMap,
}

/// What patching leaves beside the patched resources.
#[derive(Debug, Default)]
pub struct Applied {
    /// ECDS: the EXTENSION_CONFIG resources the patched listeners fetch.
    pub extension_configs: Vec<Value>,
    pub warnings: Vec<String>,
}

/// Apply the EnvoyFilters of `proxy` to its generated resources: route
/// configurations first (istiod patches them as it builds them, inline
/// inbound ones included), then listeners, then clusters.
pub fn apply(ctx: &Context, proxy: &Proxy, g: Generated) -> Applied {
    let patches = patches_for(ctx, proxy);
    if patches.is_empty() {
        return Applied::default();
    }
    let mut p = Patcher::new(patches);
    match proxy.kind {
        ProxyType::Router => {
            let ctx = PatchContext::Gateway;
            for rc in g.routes.iter_mut() {
                p.route_config(ctx, rc, g.port_map);
            }
            p.listeners(ctx, g.listeners, true);
            p.clusters(g.clusters, proxy.kind);
        }
        ProxyType::Sidecar => {
            let (inbound, outbound) = (PatchContext::SidecarInbound, PatchContext::SidecarOutbound);
            let no_ports = PortMap::new();
            for rc in g.routes.iter_mut() {
                p.route_config(outbound, rc, &no_ports);
            }
            for l in g
                .virtual_inbound
                .iter_mut()
                .chain(g.bound_listeners.iter_mut())
            {
                for rc in inline_routes(l) {
                    p.route_config(inbound, rc, &no_ports);
                }
            }
            // The virtual listeners are patched alone, without listener ADDs.
            let virtual_outbound = g
                .listeners
                .iter()
                .position(|l| l["name"] == "virtualOutbound")
                .map(|i| g.listeners.remove(i));
            p.listeners(outbound, g.listeners, true);
            let mut single: Vec<Value> = virtual_outbound.into_iter().collect();
            p.listeners(outbound, &mut single, false);
            g.listeners.extend(single);
            let mut single: Vec<Value> = g.virtual_inbound.take().into_iter().collect();
            p.listeners(inbound, &mut single, false);
            *g.virtual_inbound = single.pop();
            p.listeners(inbound, g.bound_listeners, true);
            p.clusters(g.clusters, proxy.kind);
        }
    }
    let names = discovered_names(
        g.listeners
            .iter()
            .chain(g.virtual_inbound.iter())
            .chain(g.bound_listeners.iter()),
    );
    Applied {
        extension_configs: extension_configs(p.patches(), &names),
        warnings: p.warnings,
    }
}

/// The route configurations written inside a listener's HTTP connection
/// managers.
fn inline_routes(l: &mut Value) -> Vec<&mut Value> {
    let mut out = Vec::new();
    let Some(m) = l.as_object_mut() else {
        return out;
    };
    for (k, v) in m.iter_mut() {
        let chains: Vec<&mut Value> = match k.as_str() {
            "filter_chains" => v.as_array_mut().into_iter().flatten().collect(),
            "default_filter_chain" => vec![v],
            _ => continue,
        };
        for fc in chains {
            let filters = fc.get_mut("filters").and_then(Value::as_array_mut);
            for f in filters.into_iter().flatten() {
                if f["name"] != HCM {
                    continue;
                }
                if let Some(rc) = f
                    .get_mut("typed_config")
                    .and_then(|t| t.get_mut("route_config"))
                {
                    out.push(rc);
                }
            }
        }
    }
    out
}

/// The patches that apply to `proxy`, in istiod's order.
pub fn patches_for<'a>(ctx: &Context<'a>, proxy: &Proxy) -> Vec<&'a Patch> {
    // The node metadata costs more to build than most meshes' EnvoyFilters
    // (often none) take to check.
    let filters = &ctx.config.envoy_filters;
    let namespaces = policy_namespaces(&filters.root_namespace, &proxy.namespace);
    if !filters
        .all
        .iter()
        .any(|f| namespaces.contains(&f.meta.namespace.as_str()))
    {
        return Vec::new();
    }
    // `match.proxy.metadata` compares node metadata strings.
    let mut metadata: BTreeMap<String, String> = super::bootstrap::node(proxy)["metadata"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    metadata.extend(proxy.metadata.clone());
    ctx.config
        .envoy_filters
        .patches_for(&proxy.namespace, &proxy.labels, ISTIO_VERSION, &metadata)
}

/// ECDS: the `EXTENSION_CONFIG` ADDs named in `names` (what a proxy asks
/// for), in patch order; the patch context plays no part.
pub fn extension_configs(patches: &[&Patch], names: &BTreeSet<String>) -> Vec<Value> {
    patches
        .iter()
        .filter(|p| p.apply_to == ApplyTo::ExtensionConfig && p.operation == Operation::Add)
        .filter(|p| p.value["name"].as_str().is_some_and(|n| names.contains(n)))
        .map(|p| p.value.clone())
        .collect()
}

/// The extension config names filters fetch through ECDS (`config_discovery`).
pub fn discovered_names<'v>(values: impl IntoIterator<Item = &'v Value>) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if m.contains_key("config_discovery")
                    && let Some(n) = m.get("name").and_then(Value::as_str)
                {
                    out.insert(n.to_string());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    values.into_iter().for_each(|v| walk(v, &mut out));
    out
}

impl<'a> Patcher<'a> {
    pub fn new(patches: Vec<&'a Patch>) -> Self {
        let mut warnings = Vec::new();
        for p in &patches {
            if p.apply_to == ApplyTo::Bootstrap {
                warnings.push(format!(
                    "EnvoyFilter {}: BOOTSTRAP patches are applied by the istio-agent when Envoy starts; not simulated",
                    p.source
                ));
            }
        }
        Patcher { patches, warnings }
    }

    pub fn patches(&self) -> &[&'a Patch] {
        &self.patches
    }

    /// The `apply_to` patches whose context is `ctx` (or ANY), in order.
    fn of(&self, apply_to: ApplyTo, ctx: PatchContext) -> Vec<&'a Patch> {
        self.patches
            .iter()
            .copied()
            .filter(|p| {
                p.apply_to == apply_to && (p.context == ctx || p.context == PatchContext::Any)
            })
            .collect()
    }

    // -----------------------------------------------------------------
    // Listeners (listener_patch.go)

    /// Patch `listeners` in context `ctx`; listener ADDs are appended when
    /// `adds` (istiod adds none beside its single virtual listeners).
    pub fn listeners(&mut self, ctx: PatchContext, listeners: &mut Vec<Value>, adds: bool) {
        let kept: Vec<Value> = std::mem::take(listeners)
            .into_iter()
            .filter_map(|l| self.listener(ctx, l))
            .collect();
        *listeners = kept;
        if adds {
            for p in self.of(ApplyTo::Listener, ctx) {
                // An ANY-context listener ADD goes only to the outbound side
                // and to gateways.
                let skip = p.context == PatchContext::Any && ctx == PatchContext::SidecarInbound;
                if p.operation == Operation::Add && !skip {
                    listeners.push(p.value.clone());
                }
            }
        }
    }

    fn listener(&mut self, ctx: PatchContext, mut l: Value) -> Option<Value> {
        for p in self.of(ApplyTo::Listener, ctx) {
            if !listener_match(&l, p) {
                continue;
            }
            if p.operation == Operation::Remove {
                return None;
            }
            if p.operation.is_merge() {
                merge(
                    &mut l,
                    &p.value,
                    p.operation == Operation::MergeAndReplaceList,
                );
            }
        }
        self.listener_filters(ctx, &mut l);
        self.filter_chains(ctx, &mut l);
        Some(l)
    }

    fn listener_filters(&mut self, ctx: PatchContext, l: &mut Value) {
        for p in self.of(ApplyTo::ListenerFilter, ctx) {
            if !listener_match(l, p) {
                continue;
            }
            let wanted = p
                .matcher
                .listener
                .as_ref()
                .and_then(|m| m.listener_filter.as_deref())
                .filter(|n| !n.is_empty());
            let filters = list_mut(l, "listener_filters");
            if p.operation == Operation::Merge {
                // Into the named filters (istiod tries every listener filter
                // and fails on those of another type).
                if let Some(w) = wanted {
                    for f in filters.iter_mut().filter(|f| f["name"] == w) {
                        self.merge_filter(f, p);
                    }
                }
            } else {
                positional(filters, p.operation, &p.value, wanted);
            }
            drop_if_empty(l, "listener_filters");
        }
    }

    fn filter_chains(&mut self, ctx: PatchContext, l: &mut Value) {
        let mut removed = BTreeSet::new();
        let chains = l
            .get("filter_chains")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        for i in 0..chains {
            let mut fc = std::mem::take(&mut l["filter_chains"][i]);
            if !self.filter_chain(ctx, l, &mut fc) {
                removed.insert(i);
            }
            l["filter_chains"][i] = fc;
        }
        if l.get("default_filter_chain").is_some() {
            let mut fc = std::mem::take(&mut l["default_filter_chain"]);
            if self.filter_chain(ctx, l, &mut fc) {
                l["default_filter_chain"] = fc;
            } else if let Some(m) = l.as_object_mut() {
                m.shift_remove("default_filter_chain");
            }
        }
        for p in self.of(ApplyTo::FilterChain, ctx) {
            if p.operation == Operation::Add && listener_match(l, p) {
                list_mut(l, "filter_chains").push(p.value.clone());
            }
        }
        if !removed.is_empty() {
            let mut i = 0;
            list_mut(l, "filter_chains").retain(|_| {
                i += 1;
                !removed.contains(&(i - 1))
            });
        }
    }

    /// Patch one chain of `l`; false when it is removed.
    fn filter_chain(&mut self, ctx: PatchContext, l: &Value, fc: &mut Value) -> bool {
        if fc
            .get("filters")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            return true;
        }
        for p in self.of(ApplyTo::FilterChain, ctx) {
            if !listener_match(l, p) || !chain_match(l, fc, p) {
                continue;
            }
            if p.operation == Operation::Remove {
                return false;
            }
            if p.operation.is_merge() && !self.merge_transport_socket(fc, p) {
                merge(fc, &p.value, p.operation == Operation::MergeAndReplaceList);
            }
        }
        for p in self.of(ApplyTo::NetworkFilter, ctx) {
            if !listener_match(l, p) || !chain_match(l, fc, p) || p.operation.is_merge() {
                continue;
            }
            let wanted = filter_match(p).map(|f| f.name.as_deref().unwrap_or_default());
            positional(list_mut(fc, "filters"), p.operation, &p.value, wanted);
            drop_if_empty(fc, "filters");
        }
        let n = fc["filters"].as_array().map_or(0, Vec::len);
        for i in 0..n {
            let mut f = std::mem::take(&mut fc["filters"][i]);
            self.network_filter(ctx, l, fc, &mut f);
            fc["filters"][i] = f;
        }
        true
    }

    fn network_filter(&mut self, ctx: PatchContext, l: &Value, fc: &Value, f: &mut Value) {
        for p in self.of(ApplyTo::NetworkFilter, ctx) {
            if p.operation == Operation::Merge
                && listener_match(l, p)
                && chain_match(l, fc, p)
                && network_filter_match(f["name"].as_str().unwrap_or_default(), p)
            {
                self.merge_filter(f, p);
            }
        }
        if f["name"] != HCM {
            return;
        }
        let Some(hcm) = f.get_mut("typed_config") else {
            return;
        };
        for p in self.of(ApplyTo::HttpFilter, ctx) {
            if !listener_match(l, p) || !chain_match(l, fc, p) || !network_filter_match(HCM, p) {
                continue;
            }
            if p.operation.is_merge() {
                continue;
            }
            let wanted = filter_match(p)
                .and_then(|f| f.sub_filter.as_ref())
                .map(|s| s.name.as_deref().unwrap_or_default());
            positional(list_mut(hcm, "http_filters"), p.operation, &p.value, wanted);
            drop_if_empty(hcm, "http_filters");
        }
        let n = hcm["http_filters"].as_array().map_or(0, Vec::len);
        for i in 0..n {
            for p in self.of(ApplyTo::HttpFilter, ctx) {
                let sub = filter_match(p).and_then(|f| f.sub_filter.as_ref());
                if p.operation == Operation::Merge
                    && listener_match(l, p)
                    && chain_match(l, fc, p)
                    && network_filter_match(HCM, p)
                    && sub.is_none_or(|s| {
                        hcm["http_filters"][i]["name"]
                            == s.name.clone().unwrap_or_default().as_str()
                    })
                {
                    let mut hf = std::mem::take(&mut hcm["http_filters"][i]);
                    self.merge_filter(&mut hf, p);
                    hcm["http_filters"][i] = hf;
                }
            }
        }
    }

    /// A filter-level MERGE: the name replaced when the patch has one, the
    /// `typed_config` merged field by field when it is of the same type.
    /// Filters without a `typed_config` are left alone, as istiod does.
    fn merge_filter(&mut self, f: &mut Value, p: &Patch) {
        if f.get("typed_config").is_none() {
            return;
        }
        if let Some(name) = p
            .value
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            f["name"] = Value::String(name.to_string());
        }
        if let Some(src) = p.value.get("typed_config") {
            if let Err(e) = merge_any(&mut f["typed_config"], src) {
                self.warnings.push(format!(
                    "EnvoyFilter {}: {e}; filter left as generated",
                    p.source
                ));
            }
        }
    }

    /// A MERGE carrying a `transport_socket` of the chain's socket name
    /// merges the socket's config, and nothing else of the patch.
    fn merge_transport_socket(&mut self, fc: &mut Value, p: &Patch) -> bool {
        let Some(ts) = p.value.get("transport_socket") else {
            return false;
        };
        let same = fc
            .get("transport_socket")
            .is_some_and(|t| t["name"] == ts["name"]);
        if !same {
            return false;
        }
        if let (Some(dst), Some(src)) = (
            fc["transport_socket"].get_mut("typed_config"),
            ts.get("typed_config"),
        ) {
            if let Err(e) = merge_any(dst, src) {
                self.warnings
                    .push(format!("EnvoyFilter {}: {e}; patch skipped", p.source));
            }
        }
        true
    }

    // -----------------------------------------------------------------
    // Route configurations (rc_patch.go)

    /// Patch one route configuration in context `ctx`; gateways match
    /// `portNumber` through `port_map`.
    pub fn route_config(&mut self, ctx: PatchContext, rc: &mut Value, port_map: &PortMap) {
        let name = rc["name"].as_str().unwrap_or_default().to_string();
        let rc_match = |p: &Patch| route_config_match(ctx, &name, p, port_map);
        for p in self.of(ApplyTo::RouteConfiguration, ctx) {
            if p.operation.is_merge() && rc_match(p) {
                merge(rc, &p.value, p.operation == Operation::MergeAndReplaceList);
            }
        }
        let vh_patches: Vec<&Patch> = self
            .of(ApplyTo::VirtualHost, ctx)
            .into_iter()
            .filter(|p| rc_match(p))
            .collect();
        let route_patches: Vec<&Patch> = self
            .of(ApplyTo::HttpRoute, ctx)
            .into_iter()
            .filter(|p| rc_match(p))
            .collect();
        if vh_patches.is_empty() && route_patches.is_empty() {
            return;
        }
        let mut removed = BTreeSet::new();
        for vh in list_mut(rc, "virtual_hosts").iter_mut() {
            let mut gone = false;
            for p in &vh_patches {
                if !vhost_match(vh, p) {
                    continue;
                }
                match p.operation {
                    Operation::Remove => {
                        removed.insert(vh["name"].as_str().unwrap_or_default().to_string());
                        gone = true;
                        break;
                    }
                    Operation::Replace => *vh = p.value.clone(),
                    op if op.is_merge() => {
                        merge(vh, &p.value, op == Operation::MergeAndReplaceList)
                    }
                    _ => {}
                }
            }
            if !gone {
                http_routes(vh, &route_patches);
            }
        }
        let vhosts = list_mut(rc, "virtual_hosts");
        for p in &vh_patches {
            if p.operation == Operation::Add {
                vhosts.push(p.value.clone());
            }
        }
        if !removed.is_empty() {
            vhosts.retain(|vh| !removed.contains(vh["name"].as_str().unwrap_or_default()));
        }
        drop_if_empty(rc, "virtual_hosts");
    }

    // -----------------------------------------------------------------
    // Clusters (cluster_patch.go)

    /// Patch `clusters` (REMOVE and MERGE), a sidecar's inbound ones in the
    /// SIDECAR_INBOUND context, then insert the ADDed ones: outbound (and
    /// gateway) ADDs after the last outbound cluster, inbound ADDs at the end.
    pub fn clusters(&mut self, clusters: &mut Vec<Value>, kind: ProxyType) {
        let ctx_of = |c: &Value| {
            let name = c["name"].as_str().unwrap_or_default();
            if kind == ProxyType::Router {
                PatchContext::Gateway
            } else if name.starts_with("inbound|") || name.starts_with("InboundPassthroughCluster")
            {
                PatchContext::SidecarInbound
            } else {
                PatchContext::SidecarOutbound
            }
        };
        let mut kept = Vec::with_capacity(clusters.len());
        let mut after_outbound = 0;
        for mut c in std::mem::take(clusters) {
            let ctx = ctx_of(&c);
            if self.cluster(ctx, &mut c) {
                kept.push(c);
                if ctx != PatchContext::SidecarInbound {
                    after_outbound = kept.len();
                }
            }
        }
        let added = |ctx: PatchContext| -> Vec<Value> {
            self.of(ApplyTo::Cluster, ctx)
                .into_iter()
                .filter(|p| p.operation == Operation::Add)
                // An ANY-context ADD goes to the outbound side and gateways only.
                .filter(|p| {
                    !(p.context == PatchContext::Any && ctx == PatchContext::SidecarInbound)
                })
                .map(|p| p.value.clone())
                .collect()
        };
        let (outbound_adds, inbound_adds) = match kind {
            ProxyType::Router => (added(PatchContext::Gateway), Vec::new()),
            ProxyType::Sidecar => (
                added(PatchContext::SidecarOutbound),
                added(PatchContext::SidecarInbound),
            ),
        };
        kept.splice(after_outbound..after_outbound, outbound_adds);
        kept.extend(inbound_adds);
        *clusters = kept;
    }

    /// Patch one cluster; false when it is removed.
    fn cluster(&mut self, ctx: PatchContext, c: &mut Value) -> bool {
        // Inbound cluster names carry no host: they match the services
        // behind the port (the cluster's istio metadata lists them).
        let hosts: Vec<String> = c["metadata"]["filter_metadata"]["istio"]["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["host"].as_str().map(str::to_string))
            .collect();
        for p in self.of(ApplyTo::Cluster, ctx) {
            if !cluster_match(c, p, &hosts) {
                continue;
            }
            if p.operation == Operation::Remove {
                return false;
            }
            if p.operation.is_merge() && !self.merge_cluster_socket(c, p) {
                merge(c, &p.value, p.operation == Operation::MergeAndReplaceList);
            }
        }
        true
    }

    /// A cluster MERGE carrying a `transport_socket`: merged into the socket
    /// (or `transport_socket_matches` entry) of the same name, else it
    /// replaces the socket; the rest of the patch is not applied.
    fn merge_cluster_socket(&mut self, c: &mut Value, p: &Patch) -> bool {
        let Some(ts) = p.value.get("transport_socket") else {
            return false;
        };
        let has_matches = c
            .get("transport_socket_matches")
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty());
        let target = if has_matches {
            let found = list_mut(c, "transport_socket_matches")
                .iter_mut()
                .map(|m| &mut m["transport_socket"])
                .find(|t| t["name"] == ts["name"]);
            // No socket of that name: istiod drops the patch rather than
            // give the cluster both a socket and socket matches.
            let Some(t) = found else { return true };
            t
        } else if c
            .get("transport_socket")
            .is_some_and(|t| t["name"] == ts["name"])
        {
            &mut c["transport_socket"]
        } else {
            c["transport_socket"] = ts.clone();
            return true;
        };
        if let (Some(dst), Some(src)) = (target.get_mut("typed_config"), ts.get("typed_config")) {
            if let Err(e) = merge_any(dst, src) {
                self.warnings
                    .push(format!("EnvoyFilter {}: {e}; patch skipped", p.source));
            }
        }
        true
    }
}

/// istiod's positional operations on a list of filters: `wanted` is the
/// filter name the patch matches, when it names one.
fn positional(list: &mut Vec<Value>, op: Operation, value: &Value, wanted: Option<&str>) {
    let first = || wanted.and_then(|w| list.iter().position(|f| f["name"] == w));
    match (op, wanted) {
        (Operation::Add, _) | (Operation::InsertAfter, None) => list.push(value.clone()),
        (Operation::InsertFirst, _) | (Operation::InsertBefore, None) => {
            list.insert(0, value.clone())
        }
        (Operation::InsertAfter, Some(_)) => {
            if let Some(i) = first() {
                list.insert(i + 1, value.clone());
            }
        }
        (Operation::InsertBefore, Some(_)) => {
            if let Some(i) = first() {
                list.insert(i, value.clone());
            }
        }
        (Operation::Replace, Some(_)) => {
            if let Some(i) = first() {
                list[i] = value.clone();
            }
        }
        (Operation::Remove, Some(w)) => list.retain(|f| f["name"] != w),
        _ => {}
    }
}

/// HTTP_ROUTE patches of one virtual host: REMOVE and MERGE per route,
/// then the ADDs and inserts (removed routes hold their place meanwhile).
fn http_routes(vh: &mut Value, patches: &[&Patch]) {
    let relevant: Vec<&&Patch> = patches.iter().filter(|p| vhost_match(vh, p)).collect();
    if relevant.is_empty() {
        return;
    }
    let mut routes: Vec<Option<Value>> = std::mem::take(list_mut(vh, "routes"))
        .into_iter()
        .map(Some)
        .collect();
    for slot in routes.iter_mut() {
        for p in &relevant {
            let Some(r) = slot.as_mut() else { break };
            if !route_match(Some(r), p) {
                continue;
            }
            if p.operation == Operation::Remove {
                *slot = None;
                break;
            }
            if p.operation.is_merge() {
                merge(r, &p.value, p.operation == Operation::MergeAndReplaceList);
            }
        }
    }
    for p in &relevant {
        let has_match = route_matcher(p).is_some();
        let first = routes.iter().position(|r| route_match(r.as_ref(), p));
        let value = Some(p.value.clone());
        match p.operation {
            Operation::Add => routes.push(value),
            Operation::InsertAfter if !has_match => routes.push(value),
            Operation::InsertBefore | Operation::InsertFirst if !has_match => {
                routes.insert(0, value)
            }
            Operation::InsertAfter => {
                if let Some(i) = first {
                    routes.insert(i + 1, value);
                }
            }
            Operation::InsertBefore => {
                if let Some(i) = first {
                    routes.insert(i, value);
                }
            }
            Operation::InsertFirst if first.is_some() => routes.insert(0, value),
            _ => {}
        }
    }
    *list_mut(vh, "routes") = routes.into_iter().flatten().collect();
    drop_if_empty(vh, "routes");
}

/// Proto-JSON has no empty lists: remove `obj[key]` when it is one.
fn drop_if_empty(obj: &mut Value, key: &str) {
    if obj[key].as_array().is_some_and(Vec::is_empty)
        && let Some(m) = obj.as_object_mut()
    {
        m.shift_remove(key);
    }
}

/// `obj[key]` as a mutable list, created when missing.
fn list_mut<'v>(obj: &'v mut Value, key: &str) -> &'v mut Vec<Value> {
    let m = obj.as_object_mut().expect("an Envoy message is an object");
    let v = m.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if !v.is_array() {
        *v = Value::Array(Vec::new());
    }
    v.as_array_mut().expect("just made a list")
}

// ---------------------------------------------------------------------
// Matches

fn listener_match(l: &Value, p: &Patch) -> bool {
    let Some(m) = &p.matcher.listener else {
        return true;
    };
    if m.name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && l["name"] != n)
    {
        return false;
    }
    // The virtual listeners hold every port in chains: below LISTENER the
    // port is matched on the chains' destination port.
    if p.apply_to != ApplyTo::Listener && is_virtual(l) {
        return true;
    }
    match m.port_number.filter(|&n| n != 0) {
        Some(n) => l["address"]["socket_address"]["port_value"].as_u64() == Some(u64::from(n)),
        None => true,
    }
}

fn is_virtual(l: &Value) -> bool {
    l["name"] == "virtualInbound" || l["name"] == "virtualOutbound"
}

fn chain_match(l: &Value, fc: &Value, p: &Patch) -> bool {
    let Some(lm) = &p.matcher.listener else {
        return true;
    };
    let fcm = &fc["filter_chain_match"];
    let port = |n: u32| fcm["destination_port"].as_u64() == Some(u64::from(n));
    if is_virtual(l) && lm.port_number.is_some_and(|n| n > 0 && !port(n)) {
        return false;
    }
    let Some(m) = &lm.filter_chain else {
        return true;
    };
    let has =
        |list: &Value, item: &str| list.as_array().is_some_and(|l| l.iter().any(|v| v == item));
    if set(&m.name).is_some_and(|n| fc["name"].as_str().unwrap_or_default() != n) {
        return false;
    }
    if set(&m.sni).is_some_and(|s| !has(&fcm["server_names"], s)) {
        return false;
    }
    if set(&m.transport_protocol).is_some_and(|t| fcm["transport_protocol"] != t) {
        return false;
    }
    if set(&m.application_protocols)
        .is_some_and(|a| !a.split(',').all(|p| has(&fcm["application_protocols"], p)))
    {
        return false;
    }
    !m.destination_port.is_some_and(|n| n > 0 && !port(n))
}

/// A match field that is set (an empty string is unset).
fn set(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn filter_match(p: &Patch) -> Option<&crate::model::istio::FilterMatch> {
    p.matcher
        .listener
        .as_ref()
        .and_then(|l: &ListenerMatch| l.filter_chain.as_ref())
        .and_then(|c| c.filter.as_ref())
}

fn network_filter_match(name: &str, p: &Patch) -> bool {
    filter_match(p).is_none_or(|m| m.name.as_deref().unwrap_or_default() == name)
}

fn route_config_match(ctx: PatchContext, name: &str, p: &Patch, port_map: &PortMap) -> bool {
    let Some(m) = &p.matcher.route_configuration else {
        return true;
    };
    if m.name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && n != name)
    {
        return false;
    }
    let wanted_port = m.port_number.filter(|&n| n != 0);
    if ctx != PatchContext::Gateway {
        return wanted_port.is_none_or(|n| listener_port_of_route(name) == Some(n));
    }
    let (port, port_name, gateway) = parse_gateway_route_name(name);
    if m.port_name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && n != port_name)
    {
        return false;
    }
    if m.gateway
        .as_deref()
        .is_some_and(|g| !g.is_empty() && g != gateway)
    {
        return false;
    }
    wanted_port.is_none_or(|n| match port_map.get(&port) {
        Some(server_ports) => server_ports.contains(&n),
        None => port == n,
    })
}

/// The port of a sidecar route name: `8080`, or that of `inbound|8080||`.
fn listener_port_of_route(name: &str) -> Option<u32> {
    if name.starts_with("inbound") {
        return subset_key(name).map(|k| k.3);
    }
    name.parse().ok()
}

/// A gateway route name's port, port name and `ns/gateway`:
/// `http.<port>` or `https.<port>.<port name>.<gateway>.<ns>`.
pub fn parse_gateway_route_name(name: &str) -> (u32, String, String) {
    if let Some(port) = name.strip_prefix("http.") {
        return (port.parse().unwrap_or(0), String::new(), String::new());
    }
    if let Some(rest) = name.strip_prefix("https.")
        && name.matches('.').count() == 4
    {
        let parts: Vec<&str> = rest.split('.').collect();
        return (
            parts[0].parse().unwrap_or(0),
            parts[1].to_string(),
            format!("{}/{}", parts[3], parts[2]),
        );
    }
    (0, String::new(), String::new())
}

/// `direction|port|subset|host`.
fn subset_key(name: &str) -> Option<(&str, &str, &str, u32)> {
    let parts: Vec<&str> = name.split('|').collect();
    if parts.len() < 4 {
        return None;
    }
    Some((parts[0], parts[2], parts[3], parts[1].parse().unwrap_or(0)))
}

fn vhost_match(vh: &Value, p: &Patch) -> bool {
    let Some(m) = p
        .matcher
        .route_configuration
        .as_ref()
        .and_then(|r| r.vhost.as_ref())
    else {
        return true;
    };
    let name_ok = m
        .name
        .as_deref()
        .is_none_or(|n| n.is_empty() || vh["name"] == n);
    let domain_ok = m.domain_name.as_deref().is_none_or(|d| {
        d.is_empty()
            || vh["domains"]
                .as_array()
                .is_some_and(|ds| ds.iter().any(|x| x == d))
    });
    name_ok && domain_ok
}

fn route_matcher(p: &Patch) -> Option<&crate::model::istio::RouteMatch> {
    p.matcher
        .route_configuration
        .as_ref()
        .and_then(|r| r.vhost.as_ref())
        .and_then(|v| v.route.as_ref())
}

fn route_match(r: Option<&Value>, p: &Patch) -> bool {
    let Some(m) = route_matcher(p) else {
        return true;
    };
    let Some(r) = r else {
        return false;
    };
    if m.name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && r["name"] != n)
    {
        return false;
    }
    let action = m.action.as_deref().unwrap_or("ANY");
    if action == "ANY" {
        return true;
    }
    for (field, a) in [
        ("route", "ROUTE"),
        ("redirect", "REDIRECT"),
        ("direct_response", "DIRECT_RESPONSE"),
    ] {
        if r.get(field).is_some() {
            return action == a;
        }
    }
    true
}

fn cluster_match(c: &Value, p: &Patch, inbound_hosts: &[String]) -> bool {
    let Some(m) = &p.matcher.cluster else {
        return true;
    };
    if let Some(n) = m.name.as_deref().filter(|n| !n.is_empty()) {
        return c["name"] == n;
    }
    let name = c["name"].as_str().unwrap_or_default();
    let (direction, subset, host, port) = subset_key(name).unwrap_or(("", "", "", 0));
    let hosts: Vec<&str> = if direction == "inbound" && !inbound_hosts.is_empty() {
        inbound_hosts.iter().map(String::as_str).collect()
    } else {
        vec![host]
    };
    m.subset
        .as_deref()
        .is_none_or(|s| s.is_empty() || s == subset)
        && m.service
            .as_deref()
            .is_none_or(|s| s.is_empty() || hosts.contains(&s))
        && m.port_number.is_none_or(|n| n == 0 || n == port)
}

// ---------------------------------------------------------------------
// Merging

/// Proto merge of `src` into `dst`, both messages.
pub fn merge(dst: &mut Value, src: &Value, replace_lists: bool) {
    match (dst.as_object_mut(), src.as_object()) {
        (Some(d), Some(s)) => merge_fields(d, s, replace_lists),
        _ => *dst = src.clone(),
    }
}

fn merge_fields(d: &mut Map<String, Value>, s: &Map<String, Value>, replace_lists: bool) {
    for (k, v) in s {
        if v.is_null() || k == "@type" {
            continue;
        }
        for group in ONEOFS.iter().filter(|g| g.contains(&k.as_str())) {
            for other in group.iter().filter(|o| **o != k) {
                d.shift_remove(*other);
            }
        }
        match (d.get_mut(k), v) {
            (Some(Value::Array(a)), Value::Array(b)) if !replace_lists => {
                a.extend(b.iter().cloned())
            }
            (Some(Value::Object(a)), Value::Object(b)) if MAP_FIELDS.contains(&k.as_str()) => {
                a.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            // An Any is replaced whole: its payload is bytes to proto merge.
            (Some(Value::Object(a)), Value::Object(b))
                if !a.contains_key("@type") && !b.contains_key("@type") =>
            {
                merge_fields(a, b, replace_lists);
            }
            _ => {
                d.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Merge two `Any`s of the same type field by field (istiod unpacks both);
/// of different types, istiod's merge fails.
fn merge_any(dst: &mut Value, src: &Value) -> Result<(), String> {
    let (dt, st) = (&dst["@type"], &src["@type"]);
    if dt != st {
        return Err(format!(
            "typed_config {} cannot be merged into {}",
            st.as_str().unwrap_or("without @type"),
            dt.as_str().unwrap_or("a config without @type")
        ));
    }
    if let (Some(d), Some(s)) = (dst.as_object_mut(), src.as_object()) {
        merge_fields(d, s, false);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_is_proto_merge() {
        let mut dst = json!({
            "name": "c",
            "connect_timeout": "10s",
            "type": "EDS",
            "circuit_breakers": {"thresholds": [{"max_retries": 1}]},
            "metadata": {"filter_metadata": {"istio": {"a": 1, "b": 2}}},
            "transport_socket": {"name": "tls", "typed_config": {"@type": "T", "sni": "x", "alpn": ["h2"]}},
        });
        merge(
            &mut dst,
            &json!({
                "connect_timeout": "1s",
                "cluster_type": {"name": "custom"},
                "circuit_breakers": {"thresholds": [{"max_retries": 2}]},
                "metadata": {"filter_metadata": {"istio": {"c": 3}}},
                "transport_socket": {"typed_config": {"@type": "T", "alpn": ["h3"]}},
                "ignored": null,
            }),
            false,
        );
        assert_eq!(
            dst,
            json!({
                "name": "c",
                "connect_timeout": "1s",
                // A oneof sibling clears `type`.
                "circuit_breakers": {"thresholds": [{"max_retries": 1}, {"max_retries": 2}]},
                // Map entries are replaced whole.
                "metadata": {"filter_metadata": {"istio": {"c": 3}}},
                // An Any is replaced whole by a top-level merge.
                "transport_socket": {"name": "tls", "typed_config": {"@type": "T", "alpn": ["h3"]}},
                "cluster_type": {"name": "custom"},
            })
        );
        let mut listed = json!({"alpn": ["h2"], "keep": 1});
        merge(&mut listed, &json!({"alpn": ["h3"]}), true);
        assert_eq!(listed, json!({"alpn": ["h3"], "keep": 1}));
    }

    #[test]
    fn filter_level_merge_needs_the_same_type() {
        let mut same = json!({"@type": "T", "a": {"x": 1}, "l": [1]});
        merge_any(&mut same, &json!({"@type": "T", "a": {"y": 2}, "l": [2]})).unwrap();
        assert_eq!(
            same,
            json!({"@type": "T", "a": {"x": 1, "y": 2}, "l": [1, 2]})
        );
        let mut other = json!({"@type": "T", "a": 1});
        assert!(merge_any(&mut other, &json!({"@type": "U", "a": 2})).is_err());
        assert_eq!(other, json!({"@type": "T", "a": 1}));
    }

    #[test]
    fn positional_operations() {
        let list = || {
            vec![
                json!({"name": "a"}),
                json!({"name": "b"}),
                json!({"name": "b"}),
            ]
        };
        let v = json!({"name": "new"});
        let is_b = "b";
        let run = |op, m: Option<&str>| {
            let mut l = list();
            positional(&mut l, op, &v, m);
            l.iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(Operation::Add, Some(is_b)), ["a", "b", "b", "new"]);
        assert_eq!(
            run(Operation::InsertFirst, Some(is_b)),
            ["new", "a", "b", "b"]
        );
        assert_eq!(
            run(Operation::InsertBefore, Some(is_b)),
            ["a", "new", "b", "b"]
        );
        assert_eq!(run(Operation::InsertBefore, None), ["new", "a", "b", "b"]);
        assert_eq!(
            run(Operation::InsertAfter, Some(is_b)),
            ["a", "b", "new", "b"]
        );
        assert_eq!(run(Operation::InsertAfter, None), ["a", "b", "b", "new"]);
        assert_eq!(run(Operation::Replace, Some(is_b)), ["a", "new", "b"]);
        assert_eq!(run(Operation::Replace, None), ["a", "b", "b"]);
        assert_eq!(run(Operation::Remove, Some(is_b)), ["a"]);
        assert_eq!(run(Operation::Remove, None), ["a", "b", "b"]);
    }

    #[test]
    fn route_names() {
        assert_eq!(
            parse_gateway_route_name("http.8080"),
            (8080, String::new(), String::new())
        );
        assert_eq!(
            parse_gateway_route_name("https.443.https.gw.ingress"),
            (443, "https".to_string(), "ingress/gw".to_string())
        );
        // A dot in a name: nothing parsed, as istiod does.
        assert_eq!(
            parse_gateway_route_name("https.443.https.my.gw.ingress").0,
            0
        );
        assert_eq!(listener_port_of_route("inbound|9080||"), Some(9080));
        assert_eq!(listener_port_of_route("9080"), Some(9080));
        assert_eq!(listener_port_of_route("web.shop:80"), None);
        assert_eq!(
            subset_key("outbound|80|v1|web.shop.svc.cluster.local"),
            Some(("outbound", "v1", "web.shop.svc.cluster.local", 80))
        );
        assert_eq!(subset_key("BlackHoleCluster"), None);
    }
}
