//! VirtualServices as istiod indexes them (istiod-sidecar.md §3.2, §3.4, §5.6).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::diag::{Diagnostics, Severity};
use crate::model::istio::{
    Destination, HttpMatchRequest, HttpRoute, StringMatch, VirtualService, VirtualServiceSpec,
};
use crate::model::{Labels, Object, Store};

use super::super::{DOMAIN_SUFFIX, Mesh, all_of};
use super::ConfigMeta;

/// The gateway name that stands for every sidecar.
pub const MESH_GATEWAY: &str = "mesh";

/// One VirtualService after istiod's preprocessing: hosts, destinations and
/// mirrors resolved to FQDNs against its namespace; a root's `delegate`
/// entries replaced by the merged delegate routes. Delegates themselves
/// (no hosts) are not listed.
#[derive(Debug, Clone)]
pub struct VirtualServiceEntry {
    pub meta: ConfigMeta,
    pub spec: VirtualServiceSpec,
    /// exportTo with `.` rewritten to the VS namespace; empty = mesh default.
    pub export_to: Vec<String>,
    /// `gateways`, short names resolved to `ns/name`; empty means `mesh`.
    pub gateways: Vec<String>,
}

impl VirtualServiceEntry {
    /// Bound to `gateway` (`mesh`: no gateways named, or `mesh` among them)?
    pub fn binds(&self, gateway: &str) -> bool {
        if self.gateways.is_empty() {
            return gateway == MESH_GATEWAY;
        }
        self.gateways.iter().any(|g| g == gateway)
    }
}

#[derive(Debug, Default)]
pub struct VirtualServices {
    /// In istiod's config order (creation, name, namespace).
    pub all: Vec<VirtualServiceEntry>,
    /// Mesh default `defaultVirtualServiceExportTo`.
    pub default_export: Vec<String>,
}

/// How one VS is indexed for one namespace (istiod's `initVirtualServices`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Visibility {
    /// Exported only to its own namespace (which is the asking one).
    Private,
    /// Exported to the asking namespace by name.
    Exported,
    Public,
}

impl VirtualServices {
    /// VSs bound to `gateway` (`mesh` for sidecars) that namespace `ns` may
    /// see, in istiod's order: private to ns, then exported to ns by name,
    /// then public (ns's own Gateway API routes first); each group in
    /// config order.
    pub fn for_gateway_visible_to<'a>(
        &'a self,
        gateway: &str,
        ns: &str,
    ) -> Vec<&'a VirtualServiceEntry> {
        let mut out: Vec<(Visibility, &VirtualServiceEntry)> = self
            .all
            .iter()
            .filter(|vs| vs.binds(gateway))
            .filter_map(|vs| Some((self.visibility(vs, ns)?, vs)))
            .collect();
        // Stable: config order within each group. Among public ones, Gateway
        // API routes of the asking namespace come first (istiod's "consumer
        // override" preference).
        out.sort_by_key(|(v, vs)| {
            let own_gateway_route = vs.meta.namespace == ns && is_gateway_route(vs);
            (*v, *v == Visibility::Public && !own_gateway_route)
        });
        out.into_iter().map(|(_, vs)| vs).collect()
    }

    /// Whether every VirtualService bound to `gateway` is listed alike
    /// from every namespace ([`Self::for_gateway_visible_to`]): each
    /// exported to all, none a Gateway API route (which its own namespace
    /// lists first).
    pub fn same_from_every_namespace(&self, gateway: &str) -> bool {
        self.all
            .iter()
            .filter(|vs| vs.binds(gateway))
            .all(|vs| self.export_of(vs).contains("*") && !is_gateway_route(vs))
    }

    /// The effective exportTo of a VS: its own, else the mesh default with
    /// `.` taken as the VS namespace.
    pub fn export_of(&self, vs: &VirtualServiceEntry) -> BTreeSet<String> {
        let set = if vs.export_to.is_empty() {
            &self.default_export
        } else {
            &vs.export_to
        };
        set.iter()
            .map(|e| {
                if e == "." {
                    vs.meta.namespace.clone()
                } else {
                    e.clone()
                }
            })
            .collect()
    }

    /// `*` wins over everything (even `~`), `~` hides the VS from all, and
    /// naming the VS's own namespace makes it private.
    fn visibility(&self, vs: &VirtualServiceEntry, ns: &str) -> Option<Visibility> {
        let export = self.export_of(vs);
        if export.contains("*") {
            Some(Visibility::Public)
        } else if export.contains("~") || !export.contains(ns) {
            None
        } else if vs.meta.namespace == ns {
            Some(Visibility::Private)
        } else {
            Some(Visibility::Exported)
        }
    }
}

/// Whether a VS is a translated Gateway API route (istiod's "consumer
/// override": its own namespace lists it first).
fn is_gateway_route(vs: &VirtualServiceEntry) -> bool {
    let semantics = vs.meta.internal.get("internal.istio.io/route-semantics");
    semantics.map(String::as_str) == Some("gateway")
}

/// A delegate VS (no hosts), resolved against its own namespace.
struct Delegate {
    spec: VirtualServiceSpec,
    export: BTreeSet<String>,
}

pub fn build(
    store: &Store,
    translated: &[Object],
    mesh: &Mesh,
    diags: &mut Diagnostics,
) -> VirtualServices {
    let mut out = VirtualServices {
        all: Vec::new(),
        default_export: mesh
            .mesh_config
            .default_virtual_service_export_to()
            .into_iter()
            .map(String::from)
            .collect(),
    };
    let mut objects: Vec<_> = all_of::<VirtualService>(store, translated)
        .map(|(o, vs)| (o, ConfigMeta::of(o), resolve_spec(&vs.spec, o.namespace())))
        .collect();
    objects.sort_by(|a, b| a.1.order_key().cmp(&b.1.order_key()));

    let mut delegates: BTreeMap<(String, String), Delegate> = BTreeMap::new();
    let mut roots = Vec::new();
    for (o, meta, spec) in objects {
        let export_to = export_to(&spec.export_to, &meta.namespace);
        let gateways = spec.gateways.clone();
        let entry = VirtualServiceEntry {
            meta,
            spec,
            export_to,
            gateways,
        };
        if entry.spec.hosts.is_empty() {
            let export = out.export_of(&entry);
            delegates.insert(
                (entry.meta.namespace, entry.meta.name),
                Delegate {
                    spec: entry.spec,
                    export,
                },
            );
        } else {
            roots.push((o, entry));
        }
    }

    for (o, mut entry) in roots {
        if entry.spec.http.iter().any(|h| h.delegate.is_some()) {
            let mut merged = Vec::new();
            for route in std::mem::take(&mut entry.spec.http) {
                let Some(d) = &route.delegate else {
                    merged.push(route);
                    continue;
                };
                let name = d.name.clone().unwrap_or_default();
                let ns = d
                    .namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| entry.meta.namespace.clone());
                let mut warn = |msg: String| {
                    diags.report(
                        Severity::Warning,
                        "delegate",
                        Some(o.span.clone()),
                        Some(o.describe()),
                        msg,
                    );
                };
                let Some(delegate) = delegates.get(&(ns.clone(), name.clone())) else {
                    warn(format!(
                        "delegate VirtualService {ns}/{name} not found (a delegate has no hosts); its http route is dropped"
                    ));
                    continue;
                };
                if !delegate.export.contains("*")
                    && !delegate.export.contains(&entry.meta.namespace)
                {
                    warn(format!(
                        "delegate VirtualService {ns}/{name} is not exported to namespace {}; its http route is dropped",
                        entry.meta.namespace
                    ));
                    continue;
                }
                let (routes, conflicts) = merge_http_routes(&route, &delegate.spec.http);
                for c in conflicts {
                    warn(format!(
                        "route {c} of delegate VirtualService {ns}/{name} conflicts with the matches of the delegating route; dropped"
                    ));
                }
                merged.extend(routes);
            }
            entry.spec.http = merged;
        }
        out.all.push(entry);
    }
    out
}

/// `exportTo` as written, `.` rewritten to `ns`.
fn export_to(export: &[String], ns: &str) -> Vec<String> {
    export
        .iter()
        .map(|e| if e == "." { ns.to_string() } else { e.clone() })
        .collect()
}

/// `name` → `name.<ns>.svc.cluster.local`; names with a dot, wildcards and
/// IPs are kept (istiod's short-name resolution).
pub fn resolve_short_name(host: &str, ns: &str) -> String {
    resolved_short_name(host, ns).into_owned()
}

/// [`resolve_short_name`], borrowing `host` when it is kept as it is.
pub fn resolved_short_name<'h>(host: &'h str, ns: &str) -> Cow<'h, str> {
    // `*.x` has a dot; only the bare `*` needs its own case. IPv6 addresses
    // have no dot, hence the parse.
    if host.is_empty() || host == "*" || host.contains('.') || host.parse::<IpAddr>().is_ok() {
        return Cow::Borrowed(host);
    }
    Cow::Owned(format!("{host}.{ns}.svc.{DOMAIN_SUFFIX}"))
}

/// A gateway reference as istiod normalizes it: `name` → `ns/name`,
/// `./name` → `ns/name`, the legacy `name.ns.svc…` → `ns/name`; `mesh` and
/// `ns/name` are kept.
fn resolve_gateway(gw: &str, ns: &str) -> String {
    if gw == MESH_GATEWAY {
        return gw.to_string();
    }
    match gw.split_once('/') {
        Some((".", name)) => format!("{ns}/{name}"),
        Some(_) => gw.to_string(),
        None => match gw.split_once('.') {
            None => format!("{ns}/{gw}"),
            Some((name, rest)) => {
                let gw_ns = rest.split_once('.').map_or(rest, |(n, _)| n);
                format!("{gw_ns}/{name}")
            }
        },
    }
}

/// Hosts, gateways (top level and in matches), destinations and mirrors
/// resolved against the VS namespace.
fn resolve_spec(spec: &VirtualServiceSpec, ns: &str) -> VirtualServiceSpec {
    let mut s = spec.clone();
    let host = |h: &mut String| *h = resolve_short_name(h, ns);
    let dest = |d: &mut Destination| d.host = resolve_short_name(&d.host, ns);
    let gateways = |gws: &mut Vec<String>| {
        for g in gws {
            *g = resolve_gateway(g, ns);
        }
    };
    s.hosts.iter_mut().for_each(host);
    gateways(&mut s.gateways);
    for h in &mut s.http {
        h.r#match.iter_mut().for_each(|m| gateways(&mut m.gateways));
        h.route.iter_mut().for_each(|r| dest(&mut r.destination));
        h.mirror.iter_mut().for_each(dest);
        h.mirrors.iter_mut().for_each(|m| dest(&mut m.destination));
    }
    for t in &mut s.tcp {
        t.r#match.iter_mut().for_each(|m| gateways(&mut m.gateways));
        t.route.iter_mut().for_each(|r| dest(&mut r.destination));
    }
    for t in &mut s.tls {
        t.r#match.iter_mut().for_each(|m| gateways(&mut m.gateways));
        t.route.iter_mut().for_each(|r| dest(&mut r.destination));
    }
    s
}

/// istiod's `MergeHTTPRoutes`: each delegate route merged with the root
/// route; returns the merged routes and the names of delegate routes
/// dropped for conflicting matches.
fn merge_http_routes(root: &HttpRoute, delegate: &[HttpRoute]) -> (Vec<HttpRoute>, Vec<String>) {
    let mut merged = Vec::new();
    let mut conflicts = Vec::new();
    for (i, d) in delegate.iter().enumerate() {
        match merge_http_route(root, d) {
            Some(r) => merged.push(r),
            None => conflicts
                .push(nonempty(&d.name).map_or_else(|| format!("#{}", i + 1), str::to_string)),
        }
    }
    (merged, conflicts)
}

/// Go's empty string is "unset".
fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// `root-leaf`, or whichever of the two is set.
fn join_names(root: &Option<String>, leaf: &Option<String>) -> Option<String> {
    match (nonempty(root), nonempty(leaf)) {
        (Some(r), Some(l)) => Some(format!("{r}-{l}")),
        (r, l) => l.or(r).map(str::to_string),
    }
}

fn merge_http_route(root: &HttpRoute, delegate: &HttpRoute) -> Option<HttpRoute> {
    let mut out = delegate.clone();
    out.r#match = merge_match_requests(&root.r#match, &delegate.r#match)?;
    out.name = join_names(&root.name, &delegate.name);
    fn fill<T: Clone>(field: &mut Option<T>, root: &Option<T>) {
        if field.is_none() {
            field.clone_from(root);
        }
    }
    fill(&mut out.rewrite, &root.rewrite);
    fill(&mut out.direct_response, &root.direct_response);
    fill(&mut out.timeout, &root.timeout);
    fill(&mut out.retries, &root.retries);
    fill(&mut out.fault, &root.fault);
    fill(&mut out.mirror, &root.mirror);
    fill(&mut out.mirror_percent, &root.mirror_percent);
    fill(&mut out.mirror_percent_snake, &root.mirror_percent_snake);
    fill(&mut out.mirror_percentage, &root.mirror_percentage);
    fill(&mut out.cors_policy, &root.cors_policy);
    fill(&mut out.headers, &root.headers);
    if out.mirrors.is_empty() {
        out.mirrors.clone_from(&root.mirrors);
    }
    Some(out)
}

/// Every delegate match must be compatible with at least one root match; the
/// result has one merged match per compatible (delegate, root) pair. None on
/// conflict.
fn merge_match_requests(
    root: &[HttpMatchRequest],
    delegate: &[HttpMatchRequest],
) -> Option<Vec<HttpMatchRequest>> {
    if root.is_empty() {
        return Some(delegate.to_vec());
    }
    if delegate.is_empty() {
        return Some(root.to_vec());
    }
    let mut out = Vec::new();
    for leaf in delegate {
        let before = out.len();
        out.extend(
            root.iter()
                .filter(|r| !match_conflict(r, leaf))
                .map(|r| merge_match_request(r, leaf)),
        );
        if out.len() == before {
            return None;
        }
    }
    Some(out)
}

/// The delegate's match with the root's fields filling what it leaves unset
/// (maps: the union, the delegate's entries winning).
fn merge_match_request(root: &HttpMatchRequest, leaf: &HttpMatchRequest) -> HttpMatchRequest {
    let mut out = leaf.clone();
    out.name = join_names(&root.name, &leaf.name);
    for (field, r) in [
        (&mut out.uri, &root.uri),
        (&mut out.scheme, &root.scheme),
        (&mut out.method, &root.method),
        (&mut out.authority, &root.authority),
    ] {
        if field.is_none() {
            field.clone_from(r);
        }
    }
    fn union<V: Clone>(
        root: &BTreeMap<String, V>,
        leaf: &BTreeMap<String, V>,
    ) -> BTreeMap<String, V> {
        let mut m = root.clone();
        m.extend(leaf.iter().map(|(k, v)| (k.clone(), v.clone())));
        m
    }
    out.headers = union(&root.headers, &leaf.headers);
    out.without_headers = union(&root.without_headers, &leaf.without_headers);
    out.query_params = union(&root.query_params, &leaf.query_params);
    out.source_labels = union::<String>(&root.source_labels, &leaf.source_labels);
    if out.port.unwrap_or(0) == 0 {
        out.port = root.port;
    }
    if nonempty(&out.source_namespace).is_none() {
        out.source_namespace.clone_from(&root.source_namespace);
    }
    if out.gateways.is_empty() {
        out.gateways.clone_from(&root.gateways);
    }
    if nonempty(&out.stat_prefix).is_none() {
        out.stat_prefix.clone_from(&root.stat_prefix);
    }
    out
}

/// Can the delegate match `leaf` not be narrowed into the root match?
fn match_conflict(root: &HttpMatchRequest, leaf: &HttpMatchRequest) -> bool {
    let pairs = [
        (&root.uri, &leaf.uri),
        (&root.scheme, &leaf.scheme),
        (&root.method, &leaf.method),
        (&root.authority, &leaf.authority),
    ];
    if pairs
        .iter()
        .any(|(r, l)| string_match_conflict(r.as_ref(), l.as_ref()))
    {
        return true;
    }
    let map_conflict = |root: &BTreeMap<String, StringMatch>,
                        leaf: &BTreeMap<String, StringMatch>| {
        leaf.iter()
            .any(|(k, l)| string_match_conflict(root.get(k), Some(l)))
    };
    if map_conflict(&root.headers, &leaf.headers)
        || map_conflict(&root.without_headers, &leaf.without_headers)
        || map_conflict(&root.query_params, &leaf.query_params)
    {
        return true;
    }
    if root.ignore_uri_case.unwrap_or(false) != leaf.ignore_uri_case.unwrap_or(false) {
        return true;
    }
    let (rp, lp) = (root.port.unwrap_or(0), leaf.port.unwrap_or(0));
    if rp > 0 && lp > 0 && rp != lp {
        return true;
    }
    if let Some(ns) = nonempty(&root.source_namespace)
        && nonempty(&leaf.source_namespace) != Some(ns)
    {
        return true;
    }
    if labels_conflict(&root.source_labels, &leaf.source_labels) {
        return true;
    }
    // The root's gateways must be a superset of the delegate's.
    !root.gateways.is_empty()
        && !leaf.gateways.is_empty()
        && (root.gateways.len() < leaf.gateways.len()
            || leaf.gateways.iter().any(|g| !root.gateways.contains(g)))
}

fn labels_conflict(root: &Labels, leaf: &Labels) -> bool {
    leaf.iter()
        .any(|(k, v)| root.get(k).is_some_and(|r| r != v))
}

/// istiod's `stringMatchConflict`: an unset side never conflicts; a regex
/// on either side conflicts with anything on the other; an exact root needs
/// the same exact leaf; a prefix root needs a leaf within it.
fn string_match_conflict(root: Option<&StringMatch>, leaf: Option<&StringMatch>) -> bool {
    let (Some(root), Some(leaf)) = (root, leaf) else {
        return false;
    };
    let get = |s: &Option<String>| s.clone().unwrap_or_default();
    let (r_exact, r_prefix, r_regex) = (get(&root.exact), get(&root.prefix), get(&root.regex));
    let (l_exact, l_prefix, l_regex) = (get(&leaf.exact), get(&leaf.prefix), get(&leaf.regex));
    let leaf_any = !(l_exact.is_empty() && l_prefix.is_empty() && l_regex.is_empty());
    let root_any = !(r_exact.is_empty() && r_prefix.is_empty() && r_regex.is_empty());
    if (!r_regex.is_empty() && leaf_any) || (!l_regex.is_empty() && root_any) {
        return true;
    }
    if !r_exact.is_empty() {
        return !l_prefix.is_empty() || l_exact != r_exact;
    }
    if !r_prefix.is_empty() {
        if !l_prefix.is_empty() {
            return !l_prefix.starts_with(&r_prefix);
        }
        if !l_exact.is_empty() {
            return !l_exact.starts_with(&r_prefix);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::from_yaml;
    use super::*;

    fn names(vss: &[&VirtualServiceEntry]) -> Vec<String> {
        vss.iter().map(|v| v.meta.name.clone()).collect()
    }

    #[test]
    fn short_names() {
        let r = |h| resolve_short_name(h, "shop");
        assert_eq!(r("reviews"), "reviews.shop.svc.cluster.local");
        assert_eq!(r("reviews.other"), "reviews.other");
        assert_eq!(r("*.example.com"), "*.example.com");
        assert_eq!(r("*"), "*");
        assert_eq!(r("10.0.0.1"), "10.0.0.1");
        assert_eq!(r("fd00::1"), "fd00::1");
    }

    #[test]
    fn preprocessing_resolves_hosts_gateways_and_export() {
        let (cfg, _) = from_yaml(
            r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: shop}
spec:
  hosts: [reviews, "*.example.com"]
  gateways: [mesh, gw, other/gw2, ./gw3, gw4.edge.svc.cluster.local]
  exportTo: [".", "team"]
  http:
  - match: [{gateways: [gw]}]
    route: [{destination: {host: reviews}}]
    mirror: {host: shadow}
    mirrors: [{destination: {host: shadow2.other.svc.cluster.local}}]
  tcp:
  - route: [{destination: {host: db}}]
  tls:
  - route: [{destination: {host: 10.1.2.3}}]
"#,
        );
        let vs = &cfg.virtual_services.all[0];
        assert_eq!(
            vs.spec.hosts,
            ["reviews.shop.svc.cluster.local", "*.example.com"]
        );
        assert_eq!(
            vs.gateways,
            ["mesh", "shop/gw", "other/gw2", "shop/gw3", "edge/gw4"]
        );
        assert_eq!(vs.export_to, ["shop", "team"]);
        let http = &vs.spec.http[0];
        assert_eq!(http.r#match[0].gateways, ["shop/gw"]);
        assert_eq!(
            http.route[0].destination.host,
            "reviews.shop.svc.cluster.local"
        );
        assert_eq!(
            http.mirror.as_ref().unwrap().host,
            "shadow.shop.svc.cluster.local"
        );
        assert_eq!(
            http.mirrors[0].destination.host,
            "shadow2.other.svc.cluster.local"
        );
        assert_eq!(
            vs.spec.tcp[0].route[0].destination.host,
            "db.shop.svc.cluster.local"
        );
        assert_eq!(vs.spec.tls[0].route[0].destination.host, "10.1.2.3");
    }

    const DELEGATION: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: front}
spec:
  hosts: [bookinfo.com]
  http:
  - name: pp
    match:
    - uri: {prefix: /productpage}
      headers: {x-team: {exact: a}}
    delegate: {name: pp, namespace: back}
    timeout: 5s
    retries: {attempts: 3}
  - name: gone
    delegate: {name: missing}
  - name: private
    delegate: {name: hidden, namespace: back}
  - name: rest
    route: [{destination: {host: fallback}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pp, namespace: back}
spec:
  http:
  - name: v1
    match: [{uri: {prefix: /productpage/v1}, headers: {x-user: {exact: b}}}]
    route: [{destination: {host: productpage}}]
    timeout: 1s
  - name: elsewhere
    match: [{uri: {prefix: /reviews}}]
    route: [{destination: {host: reviews}}]
  - route: [{destination: {host: productpage, subset: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hidden, namespace: back}
spec:
  exportTo: ["."]
  http:
  - route: [{destination: {host: secret}}]
"#;

    #[test]
    fn own_namespace_gateway_routes_come_first_among_public_ones() {
        let (cfg, _) = from_yaml(
            r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: other}
spec: {hosts: [a.com], gateways: [gw/g]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: b
  namespace: gw
  annotations: {internal.istio.io/route-semantics: gateway}
spec: {hosts: [b.com], gateways: [gw/g]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c, namespace: gw}
spec: {hosts: [c.com], gateways: [gw/g], exportTo: ["."]}
"#,
        );
        let order = |ns| names(&cfg.virtual_services.for_gateway_visible_to("gw/g", ns));
        assert_eq!(order("gw"), ["c", "b", "a"]);
        assert_eq!(order("elsewhere"), ["a", "b"]);
    }

    #[test]
    fn delegates_merge_into_the_root() {
        let (cfg, diags) = from_yaml(DELEGATION);
        let all = &cfg.virtual_services.all;
        assert_eq!(names(&all.iter().collect::<Vec<_>>()), ["root"]);
        let http = &all[0].spec.http;
        let route_names: Vec<_> = http.iter().map(|h| h.name.clone().unwrap()).collect();
        assert_eq!(route_names, ["pp-v1", "pp", "rest"]);

        let v1 = &http[0];
        let m = &v1.r#match[0];
        assert_eq!(
            m.uri.as_ref().unwrap().prefix.as_deref(),
            Some("/productpage/v1")
        );
        assert_eq!(m.headers.keys().collect::<Vec<_>>(), ["x-team", "x-user"]);
        assert_eq!(v1.timeout.as_deref(), Some("1s"));
        assert_eq!(v1.retries.as_ref().unwrap().attempts, Some(3));
        assert!(v1.delegate.is_none());
        // Destinations resolve against the delegate's namespace.
        assert_eq!(
            v1.route[0].destination.host,
            "productpage.back.svc.cluster.local"
        );

        // No match of its own: the root's; timeout inherited.
        let v2 = &http[1];
        assert_eq!(
            v2.r#match[0].uri.as_ref().unwrap().prefix.as_deref(),
            Some("/productpage")
        );
        assert_eq!(v2.timeout.as_deref(), Some("5s"));
        assert_eq!(
            http[2].route[0].destination.host,
            "fallback.front.svc.cluster.local"
        );

        let warnings: Vec<_> = diags
            .iter()
            .filter(|d| d.code == "delegate")
            .map(|d| d.message.clone())
            .collect();
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].contains("route elsewhere of delegate VirtualService back/pp conflicts")
        );
        assert!(warnings[1].contains("front/missing not found"));
        assert!(warnings[2].contains("back/hidden is not exported to namespace front"));
    }

    #[test]
    fn match_conflicts() {
        let sm = |exact: Option<&str>, prefix: Option<&str>, regex: Option<&str>| StringMatch {
            exact: exact.map(String::from),
            prefix: prefix.map(String::from),
            regex: regex.map(String::from),
        };
        let c = |r: &StringMatch, l: &StringMatch| string_match_conflict(Some(r), Some(l));
        assert!(!string_match_conflict(
            None,
            Some(&sm(Some("/a"), None, None))
        ));
        assert!(!c(
            &sm(None, Some("/a"), None),
            &sm(Some("/a/b"), None, None)
        ));
        assert!(c(
            &sm(None, Some("/a/b"), None),
            &sm(None, Some("/a"), None)
        ));
        assert!(c(&sm(Some("/a"), None, None), &sm(None, Some("/a"), None)));
        assert!(!c(&sm(Some("/a"), None, None), &sm(Some("/a"), None, None)));
        assert!(c(&sm(None, None, Some(".*")), &sm(None, Some("/"), None)));

        let root = HttpMatchRequest {
            port: Some(80),
            gateways: vec!["mesh".into()],
            source_labels: [("app".to_string(), "a".to_string())].into(),
            ..Default::default()
        };
        let leaf = |f: fn(&mut HttpMatchRequest)| {
            let mut m = HttpMatchRequest::default();
            f(&mut m);
            m
        };
        assert!(!match_conflict(&root, &leaf(|m| m.port = Some(80))));
        assert!(match_conflict(&root, &leaf(|m| m.port = Some(81))));
        assert!(match_conflict(
            &root,
            &leaf(|m| m.gateways = vec!["ns/gw".into()])
        ));
        assert!(match_conflict(
            &root,
            &leaf(|m| {
                m.source_labels = [("app".to_string(), "b".to_string())].into();
            })
        ));
        assert!(match_conflict(
            &root,
            &leaf(|m| m.ignore_uri_case = Some(true))
        ));
        let merged = merge_match_request(&root, &leaf(|m| m.name = Some("x".into())));
        assert_eq!((merged.port, merged.gateways.len()), (Some(80), 1));
        assert_eq!(merged.name.as_deref(), Some("x"));
    }

    #[test]
    fn visibility_order() {
        let (cfg, _) = from_yaml(
            r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: public-old, namespace: b, creationTimestamp: "2020-01-01T00:00:00Z"}
spec: {hosts: [p1]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: public-new, namespace: a, creationTimestamp: "2021-01-01T00:00:00Z"}
spec: {hosts: [p2], exportTo: ["*"]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: exported, namespace: b, creationTimestamp: "2022-01-01T00:00:00Z"}
spec: {hosts: [e], exportTo: [a, c]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: private, namespace: a, creationTimestamp: "2023-01-01T00:00:00Z"}
spec: {hosts: [x], exportTo: ["."]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hidden, namespace: b}
spec: {hosts: [h], exportTo: ["."]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: nobody, namespace: a}
spec: {hosts: [n], exportTo: ["~"]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ingress, namespace: a}
spec: {hosts: [i], gateways: [gw]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: both, namespace: a}
spec: {hosts: [both], gateways: [gw, mesh]}
"#,
        );
        let vss = &cfg.virtual_services;
        // Config order: no timestamp first (by name), then by time.
        assert_eq!(
            names(&vss.all.iter().collect::<Vec<_>>()),
            [
                "both",
                "hidden",
                "ingress",
                "nobody",
                "public-old",
                "public-new",
                "exported",
                "private"
            ]
        );
        assert_eq!(
            names(&vss.for_gateway_visible_to("mesh", "a")),
            ["private", "exported", "both", "public-old", "public-new"]
        );
        assert_eq!(
            names(&vss.for_gateway_visible_to("mesh", "b")),
            ["hidden", "both", "public-old", "public-new"]
        );
        assert_eq!(
            names(&vss.for_gateway_visible_to("a/gw", "a")),
            ["both", "ingress"]
        );
    }
}
