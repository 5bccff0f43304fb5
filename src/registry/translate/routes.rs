//! Routes: which parents they attach to (istiod's
//! `extractParentReferenceInfo`, `referenceAllowed`), their status
//! (`createRouteStatus`), and the VirtualServices they become, HTTP and
//! gRPC merged per parent listener and host (`mergeHTTPRoutes`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::conditions::{Cond, Conds, ConfigError, StatusDoc, cond, merge_conditions, write};
use super::gateways::{Gateways, ParentInfo, status_doc};
use super::http::{self, Filter, Rule, WeightedBackend};
use super::names::{self, CONTROLLER, GATEWAY_GROUP, K8S_GATEWAY};
use super::{Ctx, istio_object, k8s_json, l4, meta};
use crate::diag::{Diagnostics, Severity};
use crate::model::gateway_api::{
    GrpcRoute, HttpPathMatch, HttpRoute, HttpRouteMatch, ParentReference, TcpRoute, TlsRoute,
};
use crate::model::istio::{
    self as ist, TcpRoute as IstTcp, TlsMatchAttributes, TlsRoute as IstTls,
};
use crate::model::{Body, Labels, Object};

/// A route's reference to one parent listener (or the mesh).
#[derive(Debug, Clone)]
struct RouteParent {
    internal_name: String,
    /// Gateway, ListenerSet, Service or ServiceEntry.
    kind: String,
    /// The listener's hostname as written.
    hostname: String,
    denied: Option<ConfigError>,
    original: ParentReference,
    banned: BTreeSet<String>,
    key: (String, String),
    section: String,
}

impl RouteParent {
    fn is_mesh(&self) -> bool {
        self.internal_name == "mesh"
    }

    /// Isolation: a wildcard listener leaves hostnames that a more specific
    /// listener on the same port owns to that listener.
    fn host_allowed(&self, route_host: &str) -> bool {
        let ours = self.hostname.as_str();
        if !ours.is_empty() && !ours.starts_with('*') {
            return true;
        }
        if !ours.is_empty() && !host_matches(route_host, ours) {
            return false;
        }
        self.banned
            .iter()
            .all(|other| ours.len() > other.len() || !host_subset(route_host, other))
    }
}

/// istiod's `host.Name.Matches`: either side's wildcard covers the other.
fn host_matches(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (None, None) => a == b,
        (Some(sa), None) => b.ends_with(sa),
        (None, Some(sb)) => a.ends_with(sb),
        (Some(sa), Some(sb)) => sa.ends_with(sb) || sb.ends_with(sa),
    }
}

/// istiod's `host.Name.SubsetOf`: `a` is within `b`.
fn host_subset(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (_, None) => a == b,
        (None, Some(sb)) => a.ends_with(sb),
        (Some(sa), Some(sb)) => sa.ends_with(sb),
    }
}

/// `group/kind/name/section/port.namespace`, istiod's parent order.
fn parent_ref_string(r: &ParentReference, ns: &str) -> String {
    format!(
        "{}/{}/{}/{}/{}.{}",
        r.group.as_deref().unwrap_or(GATEWAY_GROUP),
        r.kind.as_deref().unwrap_or("Gateway"),
        r.name,
        r.section_name.as_deref().unwrap_or(""),
        r.port.unwrap_or(0),
        r.namespace.as_deref().unwrap_or(ns)
    )
}

const MESH_KINDS: [&str; 4] = ["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute"];

fn parents(
    ctx: &Ctx,
    gws: &Gateways,
    o: &Object,
    refs: &[ParentReference],
    hostnames: &[String],
) -> Vec<RouteParent> {
    let ns = o.namespace();
    let kind = o.info.kind;
    let mut out = Vec::new();
    for r in refs {
        let group = r.group.as_deref().unwrap_or(GATEWAY_GROUP);
        let rkind = r.kind.as_deref().unwrap_or("Gateway");
        let pns = r.namespace.clone().unwrap_or_else(|| ns.to_string());
        let mesh = match (group, rkind) {
            (GATEWAY_GROUP, "Gateway" | "ListenerSet") => false,
            ("" | "core", "Service") | ("networking.istio.io", "ServiceEntry") => true,
            _ => continue,
        };
        if mesh && waypoint_of_another_controller(ctx, rkind, &pns, &r.name) {
            continue;
        }
        let candidates: Vec<ParentInfo> = if mesh {
            vec![ParentInfo {
                internal_name: "mesh".to_string(),
                allowed_kinds: MESH_KINDS
                    .iter()
                    .map(|k| (GATEWAY_GROUP.to_string(), k.to_string()))
                    .collect(),
                hostnames: Vec::new(),
                original_hostname: String::new(),
                section_name: String::new(),
                port: 0,
                protocol: String::new(),
            }]
        } else {
            gws.parents
                .get(&(rkind.to_string(), pns.clone(), r.name.clone()))
                .cloned()
                .unwrap_or_default()
        };
        for p in &candidates {
            let banned: BTreeSet<String> = candidates
                .iter()
                .filter(|g| {
                    g.internal_name != p.internal_name
                        && g.port == p.port
                        && g.protocol == p.protocol
                })
                .map(|g| g.original_hostname.clone())
                .filter(|h| *h != p.original_hostname)
                .collect();
            let denied = if mesh {
                mesh_denied(ctx, rkind, &pns, &r.name)
            } else {
                gateway_denied(p, r, hostnames, ns)
            }
            .or_else(|| {
                let allowed = p
                    .allowed_kinds
                    .iter()
                    .any(|(g, k)| k == kind && g == GATEWAY_GROUP);
                (!allowed).then(|| {
                    ConfigError::new(
                        "NotAllowedByListeners",
                        format!("kind {GATEWAY_GROUP}/v1, Kind={kind} is not allowed"),
                    )
                })
            });
            out.push(RouteParent {
                internal_name: p.internal_name.clone(),
                kind: rkind.to_string(),
                hostname: p.original_hostname.clone(),
                denied,
                original: r.clone(),
                banned,
                key: (pns.clone(), r.name.clone()),
                section: p.section_name.clone(),
            });
        }
    }
    out.sort_by_key(|p| parent_ref_string(&p.original, ns));
    out
}

/// A Service or ServiceEntry whose `istio.io/use-waypoint` (or its
/// namespace's) names a waypoint of another controller is that
/// controller's business: the parentRef is skipped.
fn waypoint_of_another_controller(ctx: &Ctx, kind: &str, ns: &str, name: &str) -> bool {
    const USE_WAYPOINT: &str = "istio.io/use-waypoint";
    let labels = match kind {
        "Service" => ctx
            .find::<crate::model::core::Service>(ns, name)
            .map(|(o, _)| &o.meta().labels),
        _ => ctx
            .find::<ist::ServiceEntry>(ns, name)
            .map(|(o, _)| &o.meta().labels),
    };
    let Some(labels) = labels else { return false };
    let labels = if labels.contains_key(USE_WAYPOINT) {
        labels
    } else {
        match ctx
            .store
            .of::<crate::model::core::Namespace>()
            .find(|(o, _)| o.name() == ns)
        {
            Some((o, _)) => &o.meta().labels,
            None => return false,
        }
    };
    let Some(waypoint) = labels
        .get(USE_WAYPOINT)
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("none"))
    else {
        return false;
    };
    let waypoint_ns = labels
        .get("istio.io/use-waypoint-namespace")
        .filter(|n| !n.is_empty())
        .map_or(ns, String::as_str);
    let Some((_, gw)) = ctx.find::<crate::model::gateway_api::Gateway>(waypoint_ns, waypoint)
    else {
        return false;
    };
    let class = ctx
        .store
        .of::<crate::model::gateway_api::GatewayClass>()
        .find(|(o, _)| o.name() == gw.spec.gateway_class_name);
    class.is_some_and(|(_, c)| {
        c.spec.controller_name != names::MESH_CONTROLLER && c.spec.controller_name != CONTROLLER
    })
}

fn mesh_denied(ctx: &Ctx, kind: &str, ns: &str, name: &str) -> Option<ConfigError> {
    let exists = match kind {
        "Service" => ctx.service_exists(ns, name),
        _ => ctx.find::<ist::ServiceEntry>(ns, name).is_some(),
    };
    let what = if kind == "Service" {
        "service"
    } else {
        "service entry"
    };
    (!exists).then(|| {
        ConfigError::new(
            "NoMatchingParent",
            format!("parent {what}: \"{name}\" not found"),
        )
    })
}

fn gateway_denied(
    p: &ParentInfo,
    r: &ParentReference,
    hostnames: &[String],
    ns: &str,
) -> Option<ConfigError> {
    if let Some(port) = r.port.filter(|port| *port != 0 && *port != p.port) {
        return Some(ConfigError::new(
            "NoMatchingParent",
            format!("port {port} not found"),
        ));
    }
    if let Some(s) = r
        .section_name
        .as_deref()
        .filter(|s| !s.is_empty() && *s != p.section_name)
    {
        return Some(ConfigError::new(
            "NoMatchingParent",
            format!("sectionName \"{s}\" not found"),
        ));
    }
    if p.hostnames.is_empty() {
        return None;
    }
    let wildcard = ["*".to_string()];
    let route_hosts = if hostnames.is_empty() {
        &wildcard[..]
    } else {
        hostnames
    };
    let mut host_matched = false;
    for rh in route_hosts {
        for ph in &p.hostnames {
            let (pns, phost) = ph.split_once('/').unwrap_or(("*", ph));
            let hm = host_matches(phost, rh);
            host_matched |= hm;
            if hm && (pns == "*" || pns == ns) {
                return None;
            }
        }
    }
    Some(if host_matched {
        ConfigError::new(
            "NotAllowedByListeners",
            format!(
                "hostnames matched parent hostname \"{}\", but namespace \"{ns}\" is not allowed by the parent",
                p.original_hostname
            ),
        )
    } else {
        ConfigError::new(
            "NoMatchingListenerHostname",
            format!(
                "no hostnames matched parent hostname \"{}\"",
                p.original_hostname
            ),
        )
    })
}

/// Accepted parents, by internal name.
fn filtered(parents: &[RouteParent]) -> Vec<&RouteParent> {
    let mut out: Vec<_> = parents.iter().filter(|p| p.denied.is_none()).collect();
    out.sort_by(|a, b| a.internal_name.cmp(&b.internal_name));
    out
}

/// The route's `status.parents`, istiod's way: one entry per parentRef,
/// the best result of its listeners; other controllers' entries kept.
fn route_status(
    o: &Object,
    parents: &[RouteParent],
    gw_err: &Option<ConfigError>,
    mesh_err: &Option<ConfigError>,
) -> Value {
    let ns = o.namespace();
    let generation = o.meta().generation.unwrap_or(0);
    let rank = |p: &RouteParent| match p.denied.as_ref().map(|d| d.reason.as_str()) {
        None => 0,
        Some("NotAllowedByListeners") => 1,
        Some("NoMatchingListenerHostname") => 2,
        Some("ParentRefConflict") => 3,
        Some("NoMatchingParent") => 4,
        Some(_) => 0,
    };
    let mut seen: BTreeMap<String, (RouteParent, usize)> = BTreeMap::new();
    for p in parents {
        let key = serde_json::to_string(&p.original).unwrap_or_default();
        let ok = usize::from(p.denied.is_none());
        match seen.get_mut(&key) {
            None => {
                seen.insert(key, (p.clone(), ok));
            }
            Some((best, count)) => {
                *count += ok;
                let (r_new, r_best) = (rank(p), rank(best));
                if r_new < r_best {
                    let c = *count;
                    *best = p.clone();
                    let _ = c;
                } else if r_new == r_best {
                    match (&mut best.denied, &p.denied) {
                        (None, d) => best.denied = d.clone(),
                        (Some(b), Some(d)) => b.message = format!("{}; {}", b.message, d.message),
                        (Some(_), None) => {}
                    }
                }
            }
        }
    }
    let mut ours: Vec<(String, Value)> = seen
        .into_values()
        .map(|(p, successes)| {
            let msg = if successes > 1 {
                format!("Route was valid, bound to {successes} parents")
            } else {
                "Route was valid".to_string()
            };
            let mut conds = Conds::from([
                ("Accepted", Cond::ok("Accepted", &msg)),
                (
                    "ResolvedRefs",
                    Cond::ok("ResolvedRefs", "All references resolved"),
                ),
            ]);
            let err = if p.is_mesh() { mesh_err } else { gw_err };
            if let Some(e) = err {
                cond(&mut conds, "ResolvedRefs").error = Some(e.clone());
            }
            if let Some(d) = &p.denied {
                cond(&mut conds, "Accepted").error = Some(d.clone());
            }
            let v = json!({
                "conditions": write(&conds, generation),
                "controllerName": CONTROLLER,
                "parentRef": k8s_json(&p.original),
            });
            (parent_ref_string(&p.original, ns), v)
        })
        .collect();
    // Entries of ours already in the status are updated in place (their
    // other conditions kept), stale ones dropped, new ones appended in
    // descending parentRef order; other controllers' entries are kept.
    let mut list = Vec::new();
    for mut existing in existing_parents(o) {
        if existing.get("controllerName").and_then(Value::as_str) != Some(CONTROLLER) {
            list.push(existing);
            continue;
        }
        let Ok(r) = serde_json::from_value::<ParentReference>(existing["parentRef"].clone()) else {
            continue;
        };
        let key = parent_ref_string(&r, ns);
        if let Some(i) = ours.iter().position(|(k, _)| *k == key) {
            let (_, mut new) = ours.remove(i);
            merge_conditions(&mut existing["conditions"], new["conditions"].take());
            new["conditions"] = existing["conditions"].take();
            list.push(new);
        }
    }
    ours.sort_by(|a, b| b.0.cmp(&a.0));
    list.extend(ours.into_iter().map(|(_, v)| v));
    json!({ "parents": list })
}

/// `status.parents` as the input carries it.
fn existing_parents(o: &Object) -> Vec<Value> {
    let status = match &o.body {
        Body::HttpRoute(r) => r.status.as_ref(),
        Body::GrpcRoute(r) => r.status.as_ref(),
        Body::TcpRoute(r) => r.status.as_ref(),
        Body::TlsRoute(r) => r.status.as_ref(),
        _ => None,
    };
    status
        .and_then(|s| s.get("parents"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// What the routes translate to.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    pub virtual_services: Vec<Object>,
    pub status: Vec<StatusDoc>,
    /// (gateway namespace, gateway name, listener) per attachment.
    pub attachments: Vec<(String, String, String)>,
    /// Routes dropped for a parent type by a hard error: (span, object, message).
    dropped: Vec<(crate::diag::Span, String, String)>,
}

/// A VirtualService before HTTP merging.
struct BaseVs {
    key: String,
    creation: Option<String>,
    namespace: String,
    name: String,
    parents: String,
    host: String,
    gateway: String,
    http: Vec<ist::HttpRoute>,
    span: crate::diag::Span,
}

fn annotations(parents: String) -> Labels {
    Labels::from([
        (names::PARENTS.to_string(), parents),
        (names::ROUTE_SEMANTICS.to_string(), "gateway".to_string()),
    ])
}

fn vs_object(
    o_span: crate::diag::Span,
    name: String,
    ns: &str,
    creation: Option<String>,
    parents: String,
    spec: ist::VirtualServiceSpec,
) -> Option<Object> {
    let m = meta(name, ns, creation, annotations(parents));
    istio_object("VirtualService", m, o_span, |metadata| {
        Body::VirtualService(Box::new(ist::VirtualService {
            metadata,
            spec,
            ..Default::default()
        }))
    })
}

/// Mesh parent hosts: the Service FQDN or the ServiceEntry's hosts.
fn mesh_hosts(ctx: &Ctx, p: &RouteParent) -> Vec<String> {
    let (ns, name) = &p.key;
    if p.kind == "ServiceEntry" {
        ctx.find::<ist::ServiceEntry>(ns, name)
            .map(|(_, se)| se.spec.hosts.clone())
            .unwrap_or_default()
    } else {
        vec![ctx.fqdn(name, ns)]
    }
}

/// Convert a route's rules for gateway (`enforce`) or mesh parents.
fn convert_all<T>(
    items: impl Iterator<Item = (Option<T>, Option<ConfigError>)>,
) -> (Vec<T>, Option<ConfigError>) {
    let mut routes = Vec::new();
    let mut err = None;
    for (route, e) in items {
        match route {
            None => return (Vec::new(), e),
            Some(r) => {
                if e.is_some() {
                    err = e;
                }
                routes.push(r);
            }
        }
    }
    (routes, err)
}

pub(crate) fn build(ctx: &Ctx, gws: &Gateways, diags: &mut Diagnostics) -> Routes {
    let mut out = Routes::default();
    let mut base: Vec<BaseVs> = Vec::new();
    for (o, r) in ctx.store.of::<HttpRoute>() {
        let rules = http_rules(r, ctx.opts.crd_defaults);
        http_like(
            ctx,
            gws,
            o,
            &r.spec.parent_refs,
            &r.spec.hostnames,
            &rules,
            &mut base,
            &mut out,
        );
    }
    for (o, r) in ctx.store.of::<GrpcRoute>() {
        let rules = grpc_rules(r);
        http_like(
            ctx,
            gws,
            o,
            &r.spec.parent_refs,
            &r.spec.hostnames,
            &rules,
            &mut base,
            &mut out,
        );
    }
    merge(base, &mut out);
    for (o, r) in ctx.store.of::<TcpRoute>() {
        l4_route(
            ctx,
            gws,
            o,
            &r.spec.parent_refs,
            &[],
            &r.spec.rules,
            false,
            &mut out,
        );
    }
    for (o, r) in ctx.store.of::<TlsRoute>() {
        l4_route(
            ctx,
            gws,
            o,
            &r.spec.parent_refs,
            &r.spec.hostnames,
            &r.spec.rules,
            true,
            &mut out,
        );
    }
    for (span, object, message) in std::mem::take(&mut out.dropped) {
        diags.report(
            Severity::Warning,
            "route-dropped",
            Some(span),
            Some(object),
            message,
        );
    }
    out
}

/// A route's rules converted for its mesh parents (no ReferenceGrant
/// enforced) and its gateway parents, as far as it has each; its status and
/// Gateway attachments recorded. Returns (mesh routes, gateway routes).
fn convert_for_parents<T>(
    o: &Object,
    parents: &[RouteParent],
    out: &mut Routes,
    convert: impl Fn(bool) -> (Vec<T>, Option<ConfigError>),
) -> (Vec<T>, Vec<T>) {
    let for_parents = |mesh: bool| {
        if parents.iter().any(|p| p.is_mesh() == mesh) {
            convert(!mesh)
        } else {
            (Vec::new(), None)
        }
    };
    let (mesh_routes, mesh_err) = for_parents(true);
    let (gw_routes, gw_err) = for_parents(false);
    for (routes, err, what) in [
        (&mesh_routes, &mesh_err, "mesh"),
        (&gw_routes, &gw_err, "gateway"),
    ] {
        if let Some(e) = err.as_ref().filter(|_| routes.is_empty()) {
            let msg = format!("no configuration for its {what} parents: {}", e.message);
            out.dropped.push((o.span.clone(), o.describe(), msg));
        }
    }
    let status = route_status(o, parents, &gw_err, &mesh_err);
    out.status.push(status_doc(o, o.info.kind, status));
    record_attachments(parents, out);
    (mesh_routes, gw_routes)
}

fn record_attachments(parents: &[RouteParent], out: &mut Routes) {
    for p in filtered(parents) {
        if p.kind == "Gateway" || p.kind == "ListenerSet" {
            out.attachments
                .push((p.key.0.clone(), p.key.1.clone(), p.section.clone()));
        }
    }
}

/// HTTPRoute rules, split per match. With `crd_defaults`, a rule without
/// matches gets the CRD's `[{path: {type: PathPrefix, value: /}}]` as the
/// API server would write it.
fn http_rules(r: &HttpRoute, crd_defaults: bool) -> Vec<Rule<'_>> {
    let default_match = [HttpRouteMatch {
        path: Some(HttpPathMatch {
            r#type: Some("PathPrefix".to_string()),
            value: Some("/".to_string()),
        }),
        ..Default::default()
    }];
    let rules = r.spec.rules.iter().enumerate();
    rules
        .flat_map(|(i, rule)| {
            let matches = match rule.matches.as_slice() {
                [] if crd_defaults => &default_match[..],
                m => m,
            };
            let convert = if crd_defaults {
                http::http_match_defaulted
            } else {
                http::http_match
            };
            http::split_matches(matches, convert).map(move |matched| Rule {
                name: rule.name.as_deref(),
                index: i,
                matched,
                filters: rule.filters.iter().map(Filter::from).collect(),
                backends: rule
                    .backend_refs
                    .iter()
                    .map(WeightedBackend::from)
                    .collect(),
                retry: rule.retry.as_ref(),
                timeouts: rule.timeouts.as_ref(),
                mirror_error_is_hard: false,
                crd_defaults,
            })
        })
        .collect()
}

fn grpc_rules(r: &GrpcRoute) -> Vec<Rule<'_>> {
    let rules = r.spec.rules.iter().enumerate();
    rules
        .flat_map(|(i, rule)| {
            http::split_matches(&rule.matches, http::grpc_match).map(move |matched| Rule {
                name: rule.name.as_deref(),
                index: i,
                matched,
                filters: rule.filters.iter().map(Filter::from).collect(),
                backends: rule
                    .backend_refs
                    .iter()
                    .map(WeightedBackend::from)
                    .collect(),
                retry: None,
                timeouts: None,
                mirror_error_is_hard: true,
                crd_defaults: false,
            })
        })
        .collect()
}

#[allow(
    clippy::too_many_arguments,
    reason = "one route's parts and the outputs it adds to"
)]
fn http_like(
    ctx: &Ctx,
    gws: &Gateways,
    o: &Object,
    refs: &[ParentReference],
    hostnames: &[String],
    rules: &[Rule],
    base: &mut Vec<BaseVs>,
    out: &mut Routes,
) {
    let parents = parents(ctx, gws, o, refs, hostnames);
    let (mesh_routes, gw_routes) = convert_for_parents(o, &parents, out, |enforce| {
        convert_all(rules.iter().map(|r| http::convert(ctx, o, r, enforce)))
    });
    let ns = o.namespace();
    let mut count = 0;
    for p in filtered(&parents) {
        let mut key = p.internal_name.clone();
        let mut hosts: Vec<String> = hostnames.to_vec();
        if hosts.is_empty() {
            hosts.push("*".to_string());
        }
        let mut routes = gw_routes.clone();
        if p.is_mesh() {
            routes = mesh_routes.clone();
            key = ns.to_string();
            if let Some(port) = p.original.port {
                for r in &mut routes {
                    if r.r#match.is_empty() {
                        r.r#match.push(ist::HttpMatchRequest::default());
                    }
                    for m in &mut r.r#match {
                        m.port = u32::try_from(port).ok();
                    }
                }
                key = format!("{key}/{port}");
            }
            hosts = mesh_hosts(ctx, p);
        }
        if routes.is_empty() {
            continue;
        }
        for h in hosts {
            if !p.host_allowed(&h) {
                continue;
            }
            http::sort_routes(&mut routes);
            base.push(BaseVs {
                key: format!("{key}/{h}"),
                creation: o.meta().creation_timestamp.clone(),
                namespace: ns.to_string(),
                name: format!("{}~{count}~{K8S_GATEWAY}", o.name()),
                parents: format!("{}/{}.{ns}", o.info.kind, o.name()),
                host: h,
                gateway: p.internal_name.clone(),
                http: routes.clone(),
                span: o.span.clone(),
            });
            count += 1;
        }
    }
}

/// One VirtualService per key, routes of every contributor, oldest first.
fn merge(base: Vec<BaseVs>, out: &mut Routes) {
    let mut by_key: BTreeMap<String, Vec<BaseVs>> = BTreeMap::new();
    for b in base {
        by_key.entry(b.key.clone()).or_default().push(b);
    }
    for (key, mut group) in by_key {
        let name = key.replace('/', "~");
        group.sort_by(|a, b| {
            (&a.creation, &a.namespace, &a.name).cmp(&(&b.creation, &b.namespace, &b.name))
        });
        let single = group.len() == 1;
        let mut iter = group.into_iter();
        let Some(first) = iter.next() else { continue };
        let mut http = first.http;
        let mut parents = first.parents;
        for b in iter {
            http.extend(b.http);
            parents = format!("{parents},{}", b.parents);
        }
        if !single {
            http::sort_routes(&mut http);
        }
        let spec = ist::VirtualServiceSpec {
            hosts: vec![first.host],
            gateways: vec![first.gateway],
            http,
            ..Default::default()
        };
        out.virtual_services.extend(vs_object(
            first.span,
            name,
            &first.namespace,
            first.creation,
            parents,
            spec,
        ));
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one route's parts and the output it adds to"
)]
fn l4_route(
    ctx: &Ctx,
    gws: &Gateways,
    o: &Object,
    refs: &[ParentReference],
    hostnames: &[String],
    rules: &[crate::model::gateway_api::L4RouteRule],
    tls: bool,
    out: &mut Routes,
) {
    let parents = parents(ctx, gws, o, refs, hostnames);
    let (mesh_routes, gw_routes) = convert_for_parents(o, &parents, out, |enforce| {
        convert_all(rules.iter().map(|r| l4::destinations(ctx, o, r, enforce)))
    });
    let ns = o.namespace();
    let sni: Vec<String> = if hostnames.is_empty() {
        vec!["*".to_string()]
    } else {
        hostnames.to_vec()
    };
    let mut count = 0;
    for p in filtered(&parents) {
        let dests = if p.is_mesh() {
            &mesh_routes
        } else {
            &gw_routes
        };
        let port = if p.is_mesh() {
            p.original.port.and_then(|x| u32::try_from(x).ok())
        } else {
            None
        };
        let mut hosts: Vec<String> = if p.is_mesh() {
            mesh_hosts(ctx, p)
        } else if tls {
            sni.clone()
        } else {
            vec!["*".to_string()]
        };
        let mut route_sni = sni.clone();
        if tls && !p.is_mesh() && !p.hostname.is_empty() {
            hosts = intersect(&hosts, &p.hostname);
            route_sni = intersect(&route_sni, &p.hostname);
        }
        for h in hosts {
            let name = format!(
                "{}~{}~{count}~{K8S_GATEWAY}",
                o.name(),
                if tls { "tls" } else { "tcp" }
            );
            let mut spec = ist::VirtualServiceSpec {
                hosts: vec![h.clone()],
                gateways: vec![p.internal_name.clone()],
                ..Default::default()
            };
            for d in dests {
                if tls {
                    let mut sni_hosts = route_sni.clone();
                    if p.is_mesh() {
                        if sni_hosts == ["*"] {
                            sni_hosts = mesh_hosts(ctx, p);
                        }
                        if sni_hosts.len() > 1 {
                            sni_hosts.retain(|s| host_matches(&h, s));
                        }
                    }
                    spec.tls.push(IstTls {
                        r#match: vec![TlsMatchAttributes {
                            sni_hosts,
                            port,
                            ..Default::default()
                        }],
                        route: d.clone(),
                    });
                } else {
                    let r#match = port
                        .map(|port| {
                            vec![ist::L4MatchAttributes {
                                port: Some(port),
                                ..Default::default()
                            }]
                        })
                        .unwrap_or_default();
                    spec.tcp.push(IstTcp {
                        r#match,
                        route: d.clone(),
                    });
                }
            }
            let parents = format!("{}/{}.{ns}", o.info.kind, o.name());
            out.virtual_services.extend(vs_object(
                o.span.clone(),
                name,
                ns,
                o.meta().creation_timestamp.clone(),
                parents,
                spec,
            ));
            count += 1;
        }
    }
}

/// Route hostnames within a listener hostname (the narrower of each pair).
fn intersect(hosts: &[String], listener: &str) -> Vec<String> {
    let mut out = Vec::new();
    for h in hosts {
        if host_subset(h, listener) {
            out.push(h.clone());
        } else if host_subset(listener, h) {
            out.push(listener.to_string());
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_hosts_match_both_ways_and_nest() {
        assert!(host_matches("*.example.com", "a.example.com"));
        assert!(host_matches("a.example.com", "*.example.com"));
        assert!(host_matches("*.com", "*.example.com"));
        assert!(!host_matches("a.example.com", "b.example.com"));
        assert!(host_subset("a.example.com", "*.example.com"));
        assert!(!host_subset("*.example.com", "a.example.com"));
        assert!(host_subset("*.a.example.com", "*.example.com"));
    }

    #[test]
    fn tls_hosts_narrow_to_the_listener() {
        let hosts = [
            "*.com".to_string(),
            "foo.example.com".to_string(),
            "other.org".to_string(),
        ];
        assert_eq!(
            intersect(&hosts, "*.example.com"),
            ["*.example.com", "foo.example.com"]
        );
    }
}
