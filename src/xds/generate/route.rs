//! VirtualService HTTP routes and default routes as Envoy routes
//! (istiod-sidecar.md §5.6, §5.7).
//!
//! Routes are written the way Envoy's `/config_dump` prints them: proto field
//! names, fields in field-number order (so a route's `name`, field 14, comes
//! after its action), proto3 defaults (empty strings, zero numbers, enum value
//! 0 such as `MOVED_PERMANENTLY` or `APPEND_IF_EXISTS_OR_ADD`) left out, while
//! wrappers (`BoolValue`, `UInt32Value`) and oneof members print whenever set.

use serde_json::{Map, Value, json};

use super::Proxy;
use super::json::{any, duration, parse_duration};
use crate::model::istio::{
    CorsPolicy, Destination, HeaderOperations, Headers, HttpDirectResponse, HttpFaultInjection,
    HttpMatchRequest, HttpRedirect, HttpRetry, HttpRoute, HttpRouteDestination, Percent,
    StringMatch,
};
use crate::registry::config::VirtualServiceEntry;

/// What route translation needs to know beyond the VirtualService.
pub struct RouteContext<'a> {
    pub proxy: &'a Proxy,
    /// The listener / route-configuration port (`"9080"` → 9080).
    pub port: u16,
    /// The gateway names the routes are built for (`["mesh"]` for sidecars; gateways later).
    pub gateways: &'a [String],
    /// Cluster name for a destination (the caller knows services and ports:
    /// `outbound|<port>|<subset>|<host>`).
    pub cluster_name: &'a dyn Fn(&Destination) -> String,
    /// The route `hash_policy` entries from the destination's DestinationRule
    /// consistentHash, if any. `Some` means the DR hashes, even when the list
    /// is empty (a hash without a key still drops the previous-hosts retry
    /// predicate).
    pub hash_policy: &'a dyn Fn(&Destination) -> Option<Vec<Value>>,
    /// MeshConfig `defaultHttpRetryPolicy`, if set.
    pub mesh_retry: Option<&'a HttpRetry>,
}

impl<'a> RouteContext<'a> {
    /// Routes for `proxy` on `port`, under the mesh's default retry policy.
    pub fn of_mesh(
        ctx: &'a super::Context,
        proxy: &'a Proxy,
        port: u16,
        gateways: &'a [String],
        cluster_name: &'a dyn Fn(&Destination) -> String,
        hash_policy: &'a dyn Fn(&Destination) -> Option<Vec<Value>>,
    ) -> RouteContext<'a> {
        RouteContext {
            proxy,
            port,
            gateways,
            cluster_name,
            hash_policy,
            mesh_retry: ctx.mesh.mesh_config.default_http_retry_policy.as_ref(),
        }
    }
}

const NO_TIMEOUT: &str = "0s";
const DEFAULT_RETRY_ON: &str =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
const CORS_FILTER: &str = "envoy.filters.http.cors";
const FAULT_FILTER: &str = "envoy.filters.http.fault";
const JWT_CLAIM_HEADER: &str = "@request.auth.claims";

/// The Envoy routes of one VirtualService for this port, in order; empty if
/// every match is filtered out.
pub fn virtual_service_routes(vs: &VirtualServiceEntry, cx: &RouteContext) -> Vec<Value> {
    let mut out = Vec::new();
    for http in &vs.spec.http {
        if http.r#match.is_empty() {
            // Matches everything: whatever follows is unreachable.
            out.push(translate_route(vs, http, None, cx));
            return out;
        }
        for m in http.r#match.iter().filter(|m| match_applies(m, cx)) {
            let route = translate_route(vs, http, Some(m), cx);
            let catch_all = is_catch_all(&route);
            out.push(route);
            if catch_all {
                return out;
            }
        }
    }
    out
}

/// The `default` route of a service without a VirtualService (§5.7).
pub fn default_route(
    cluster: &str,
    host: &str,
    port: u16,
    hash_policy: Option<Vec<Value>>,
) -> Value {
    default_route_with_retry(cluster, host, port, hash_policy, None)
}

/// [`default_route`] under a MeshConfig `defaultHttpRetryPolicy`.
pub fn default_route_with_retry(
    cluster: &str,
    host: &str,
    port: u16,
    hash_policy: Option<Vec<Value>>,
    mesh_retry: Option<&HttpRetry>,
) -> Value {
    // istiod builds this retry policy as if there were no consistent hash:
    // the default route keeps previous_hosts even when it gets a hash_policy.
    let retry = match mesh_retry {
        Some(p) => convert_retry(p, false),
        None => Some(default_retry_policy(false)),
    };
    let action = obj([
        ("cluster", Some(json!(cluster))),
        ("timeout", Some(json!(NO_TIMEOUT))),
        ("retry_policy", retry),
        ("hash_policy", hash_policy.and_then(list)),
        ("max_grpc_timeout", Some(json!(NO_TIMEOUT))),
    ]);
    obj([
        ("match", Some(json!({"prefix": "/"}))),
        ("route", Some(action)),
        (
            "decorator",
            Some(json!({"operation": format!("{host}:{port}/*")})),
        ),
        ("name", Some(json!("default"))),
    ])
}

/// The default retry policy (§5.6), omitting previous_hosts when `consistent_hash`.
pub fn default_retry_policy(consistent_hash: bool) -> Value {
    // Most routes have it: built once (a copy hashes no keys).
    static POLICIES: std::sync::OnceLock<[Value; 2]> = std::sync::OnceLock::new();
    let policies = POLICIES.get_or_init(|| {
        // Two attempts and nothing else is exactly istiod's default policy.
        let two = HttpRetry {
            attempts: Some(2),
            ..HttpRetry::default()
        };
        [false, true].map(|hash| retry_fields(&two, hash))
    });
    policies[usize::from(consistent_hash)].clone()
}

/// Whether a route is a catch-all (prefix `/` or regex `.*`, no header/query
/// matchers): later routes are unreachable.
pub fn is_catch_all(route: &Value) -> bool {
    let m = &route["match"];
    let any_path =
        m["prefix"] == "/" || m["path_separated_prefix"] == "/" || m["safe_regex"]["regex"] == ".*";
    any_path
        && ["headers", "query_parameters", "dynamic_metadata"]
            .iter()
            .all(|k| {
                m.get(*k)
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
            })
}

/// Whether a match is meant for this port and this proxy.
fn match_applies(m: &HttpMatchRequest, cx: &RouteContext) -> bool {
    if m.port.is_some_and(|p| p != 0 && p != u32::from(cx.port)) {
        return false;
    }
    if !m.gateways.is_empty() {
        // istiod judges a match naming gateways by them alone: its source
        // labels and namespace are then not checked.
        return m.gateways.iter().any(|g| cx.gateways.contains(g));
    }
    cx.proxy.selected_by(&m.source_labels)
        && m.source_namespace
            .as_deref()
            .is_none_or(|ns| ns.is_empty() || ns == cx.proxy.namespace)
}

fn translate_route(
    vs: &VirtualServiceEntry,
    http: &HttpRoute,
    m: Option<&HttpMatchRequest>,
    cx: &RouteContext,
) -> Value {
    let mut name = http.name.clone().unwrap_or_default();
    if let Some(match_name) = m.and_then(|m| m.name.as_deref()).filter(|n| !n.is_empty()) {
        name = format!("{name}.{match_name}");
    }
    let route_match = route_match(m);
    let mut ops = http.headers.as_ref().map(header_ops).unwrap_or_default();
    let (mut route, mut redirect, mut direct) = (None, None, None);
    if let Some(r) = &http.redirect {
        // An unsupported redirect code leaves the route without any action.
        redirect = redirect_action(r, cx.port);
    } else if let Some(d) = &http.direct_response {
        direct = Some(direct_response(d));
    } else {
        route = Some(route_action(http, &mut ops, cx));
    }
    let operation = operation(&route_match, route.as_ref(), &vs.meta.name, cx.port);
    let config = format!(
        "/apis/networking.istio.io/v1/namespaces/{}/virtual-service/{}",
        vs.meta.namespace, vs.meta.name
    );
    // Keys in sorted order, as Envoy prints proto maps.
    let mut per_filter = Map::new();
    if let Some(c) = &http.cors_policy {
        per_filter.insert(CORS_FILTER.to_string(), cors_policy(c));
    }
    if let Some(f) = &http.fault {
        per_filter.insert(FAULT_FILTER.to_string(), fault(f));
    }
    obj([
        ("match", Some(route_match)),
        ("route", route),
        ("redirect", redirect),
        (
            "metadata",
            Some(json!({"filter_metadata": {"istio": {"config": config}}})),
        ),
        ("decorator", Some(json!({ "operation": operation }))),
        ("direct_response", direct),
        ("request_headers_to_add", list(ops.request_add)),
        ("response_headers_to_add", list(ops.response_add)),
        ("response_headers_to_remove", strings(ops.response_remove)),
        ("request_headers_to_remove", strings(ops.request_remove)),
        (
            "typed_per_filter_config",
            (!per_filter.is_empty()).then_some(Value::Object(per_filter)),
        ),
        ("name", text(&name)),
        (
            "stat_prefix",
            m.and_then(|m| m.stat_prefix.as_deref()).and_then(text),
        ),
    ])
}

/// `RouteMatch`; no match at all is a bare `prefix: /`.
fn route_match(m: Option<&HttpMatchRequest>) -> Value {
    let Some(m) = m else {
        return json!({"prefix": "/"});
    };
    let mut headers = Vec::new();
    let mut claims = Vec::new();
    for (name, sm) in &m.headers {
        match jwt_claims(name) {
            Some(path) => claims.push(claim_matcher(&path, sm, false)),
            None => headers.push((name.as_str(), header_matcher(name, sm, false))),
        }
    }
    for (name, sm) in &m.without_headers {
        match jwt_claims(name) {
            Some(path) => claims.push(claim_matcher(&path, sm, true)),
            None => headers.push((name.as_str(), header_matcher(name, sm, true))),
        }
    }
    headers.sort_by_key(|(name, _)| *name);
    let mut headers: Vec<Value> = headers.into_iter().map(|(_, h)| h).collect();
    // The pseudo-header matchers follow the sorted user headers.
    for (name, sm) in [
        (":method", &m.method),
        (":authority", &m.authority),
        (":scheme", &m.scheme),
    ] {
        if let Some(sm) = sm {
            headers.push(header_matcher(name, sm, false));
        }
    }
    let query: Vec<Value> = m
        .query_params
        .iter()
        .map(|(name, sm)| {
            let present = presence_only(sm);
            obj([
                ("name", Some(json!(name))),
                (
                    "string_match",
                    if present { None } else { string_matcher(sm) },
                ),
                ("present_match", present.then_some(Value::Bool(true))),
            ])
        })
        .collect();
    let uri = m.uri.as_ref();
    let (mut prefix, mut path, mut regex) = (Some(json!("/")), None, None);
    if let Some(exact) = uri.and_then(|u| u.exact.as_deref()) {
        (prefix, path) = (None, Some(json!(exact)));
    } else if let Some(p) = uri.and_then(|u| u.prefix.as_deref()) {
        prefix = Some(json!(p));
    } else if let Some(r) = uri.and_then(|u| u.regex.as_deref()) {
        (prefix, regex) = (None, Some(obj([("regex", text(r))])));
    }
    obj([
        ("prefix", prefix),
        ("path", path),
        (
            "case_sensitive",
            Some(Value::Bool(!m.ignore_uri_case.unwrap_or(false))),
        ),
        ("headers", list(headers)),
        ("query_parameters", list(query)),
        ("safe_regex", regex),
        ("dynamic_metadata", list(claims)),
    ])
}

/// A `StringMatch` that only asks for presence: unset, or the regex `*`
/// (not RE2; istio reads it as "any value").
fn presence_only(sm: &StringMatch) -> bool {
    sm.exact.is_none() && sm.prefix.is_none() && sm.regex.as_deref().is_none_or(|r| r == "*")
}

/// `envoy.type.matcher.v3.StringMatcher`; None when the match is empty.
fn string_matcher(sm: &StringMatch) -> Option<Value> {
    if let Some(e) = &sm.exact {
        Some(json!({ "exact": e }))
    } else if let Some(p) = &sm.prefix {
        Some(json!({ "prefix": p }))
    } else {
        sm.regex
            .as_deref()
            .map(|r| json!({"safe_regex": obj([("regex", text(r))])}))
    }
}

fn header_matcher(name: &str, sm: &StringMatch, invert: bool) -> Value {
    let present = presence_only(sm);
    obj([
        ("name", Some(json!(name))),
        ("present_match", present.then_some(Value::Bool(true))),
        ("invert_match", invert.then_some(Value::Bool(true))),
        (
            "string_match",
            if present { None } else { string_matcher(sm) },
        ),
        // Envoy rejects this flag beside present_match.
        (
            "treat_missing_header_as_empty",
            (invert && !present).then_some(Value::Bool(true)),
        ),
    ])
}

/// The claim path of a `@request.auth.claims.a.b` / `@request.auth.claims[a][b]`
/// header, which istio matches against JWT metadata instead of headers.
fn jwt_claims(name: &str) -> Option<Vec<&str>> {
    let head = name.get(..JWT_CLAIM_HEADER.len())?;
    if !head.eq_ignore_ascii_case(JWT_CLAIM_HEADER) {
        return None;
    }
    let rest = &name[JWT_CLAIM_HEADER.len()..];
    if let Some(dotted) = rest.strip_prefix('.').filter(|d| !d.is_empty()) {
        Some(dotted.split('.').collect())
    } else if rest.len() > 2 && rest.starts_with('[') && rest.ends_with(']') {
        Some(rest[1..rest.len() - 1].split("][").collect())
    } else {
        None
    }
}

/// A `MetadataMatcher` on the jwt_authn payload: the claim may be a string
/// or a list of strings, hence the or of a list match and a string match.
fn claim_matcher(claims: &[&str], sm: &StringMatch, invert: bool) -> Value {
    let value = string_matcher(sm).unwrap_or_else(|| json!({}));
    let path: Vec<Value> = std::iter::once("payload")
        .chain(claims.iter().copied())
        .map(|k| json!({ "key": k }))
        .collect();
    obj([
        ("filter", Some(json!("envoy.filters.http.jwt_authn"))),
        ("path", Some(Value::Array(path))),
        (
            "value",
            Some(json!({"or_match": {"value_matchers": [
                {"list_match": {"one_of": {"string_match": value}}},
                {"string_match": value},
            ]}})),
        ),
        ("invert", invert.then_some(Value::Bool(true))),
    ])
}

/// Header operations of a route or a destination.
#[derive(Default)]
struct HeaderOps {
    request_add: Vec<Value>,
    response_add: Vec<Value>,
    request_remove: Vec<String>,
    response_remove: Vec<String>,
    /// A `host` / `:authority` set or add: becomes `host_rewrite_literal`.
    authority: Option<String>,
}

fn header_ops(h: &Headers) -> HeaderOps {
    let none = HeaderOperations::default();
    let req = h.request.as_ref().unwrap_or(&none);
    let resp = h.response.as_ref().unwrap_or(&none);
    let (mut request_add, set_authority) = headers_to_add(&req.set, false);
    let (added, add_authority) = headers_to_add(&req.add, true);
    request_add.extend(added);
    let mut response_add = headers_to_add(&resp.set, false).0;
    response_add.extend(headers_to_add(&resp.add, true).0);
    let removable = |keys: &[String]| -> Vec<String> {
        keys.iter()
            .filter(|k| !internal_header(k))
            .cloned()
            .collect()
    };
    HeaderOps {
        request_add,
        response_add,
        request_remove: removable(&req.remove),
        response_remove: removable(&resp.remove),
        authority: set_authority.or(add_authority),
    }
}

/// Header value options, sorted by key (the map already is), and the last
/// non-empty authority among them.
fn headers_to_add(
    headers: &std::collections::BTreeMap<String, String>,
    append: bool,
) -> (Vec<Value>, Option<String>) {
    let mut authority = None;
    let mut out = Vec::new();
    for (key, value) in headers {
        if key.eq_ignore_ascii_case(":authority") || key.eq_ignore_ascii_case("host") {
            authority = Some(value.clone()).filter(|v| !v.is_empty());
        }
        if internal_header(key) {
            continue;
        }
        // APPEND_IF_EXISTS_OR_ADD is the enum's zero: it never prints.
        let action = (!append).then(|| json!("OVERWRITE_IF_EXISTS_OR_ADD"));
        out.push(obj([
            (
                "header",
                Some(obj([("key", text(key)), ("value", text(value))])),
            ),
            ("append_action", action),
        ]));
    }
    (out, authority)
}

/// Pseudo-headers and `host` cannot be changed by Envoy header operations.
fn internal_header(key: &str) -> bool {
    key.starts_with(':') || key.eq_ignore_ascii_case("host")
}

fn redirect_action(r: &HttpRedirect, listener_port: u16) -> Option<Value> {
    let code = match r.redirect_code.unwrap_or(0) {
        0 | 301 => None, // MOVED_PERMANENTLY, the enum's zero
        302 => Some("FOUND"),
        303 => Some("SEE_OTHER"),
        307 => Some("TEMPORARY_REDIRECT"),
        308 => Some("PERMANENT_REDIRECT"),
        _ => return None,
    };
    let scheme = r.scheme.as_deref().unwrap_or("");
    let mut port = 0;
    if r.port.is_some() || r.derive_port.is_some() {
        port = match (r.port, r.derive_port.as_deref()) {
            (Some(p), _) => p,
            // Routes are built per listener port, so the request's port is known.
            (None, Some("FROM_REQUEST_PORT")) => u32::from(listener_port),
            _ => 0,
        };
        // Sidecar listeners are plaintext: no scheme means http.
        let effective = if scheme.is_empty() { "http" } else { scheme };
        if (port == 80 && effective == "http") || (port == 443 && effective == "https") {
            port = 0;
        }
    }
    let prefix = r.prefix_rewrite.as_deref().filter(|p| !p.is_empty());
    // The path oneof is always set, so an empty path_redirect still prints.
    let path = prefix
        .is_none()
        .then(|| json!(r.uri.as_deref().unwrap_or("")));
    Some(obj([
        ("host_redirect", r.authority.as_deref().and_then(text)),
        ("path_redirect", path),
        ("response_code", code.map(|c| json!(c))),
        ("prefix_rewrite", prefix.map(|p| json!(p))),
        ("scheme_redirect", text(scheme)),
        ("port_redirect", (port != 0).then(|| json!(port))),
    ]))
}

fn direct_response(d: &HttpDirectResponse) -> Value {
    let body = d.body.as_ref().and_then(|b| {
        if let Some(s) = &b.string {
            Some(json!({ "inline_string": s }))
        } else {
            // Istio's bytes are base64 on the wire, as Envoy prints them.
            b.bytes.as_ref().map(|s| json!({ "inline_bytes": s }))
        }
    });
    obj([
        ("status", d.status.filter(|s| *s != 0).map(|s| json!(s))),
        ("body", body),
    ])
}

/// `RouteAction`. Headers of a single destination join the route's own
/// operations in `ops`.
fn route_action(http: &HttpRoute, ops: &mut HeaderOps, cx: &RouteContext) -> Value {
    let timeout = http
        .timeout
        .as_deref()
        .and_then(duration)
        .unwrap_or_else(|| json!(NO_TIMEOUT));
    let mut host_rewrite = ops.authority.clone();
    let (mut prefix_rewrite, mut regex_rewrite) = (None, None);
    if let Some(rw) = &http.rewrite {
        if let Some(rr) = &rw.uri_regex_rewrite {
            let pattern = obj([("regex", rr.r#match.as_deref().and_then(text))]);
            regex_rewrite = Some(obj([
                ("pattern", Some(pattern)),
                ("substitution", rr.rewrite.as_deref().and_then(text)),
            ]));
        } else if let Some(uri) = rw.uri.as_deref().filter(|u| !u.is_empty()) {
            prefix_rewrite = Some(json!(uri));
        }
        if let Some(a) = rw.authority.as_deref().filter(|a| !a.is_empty()) {
            host_rewrite = Some(a.to_string());
        }
    }

    let mut mirrors = Vec::new();
    if let Some(d) = &http.mirror {
        let legacy = http.mirror_percent.or(http.mirror_percent_snake);
        let fraction = match (&http.mirror_percentage, legacy) {
            (Some(p), _) => (p.value.unwrap_or(0.0) > 0.0).then(|| per_million(p)),
            (None, Some(n)) => (n > 0).then(|| percent(n)),
            (None, None) => Some(percent(100)),
        };
        mirrors.extend(fraction.map(|f| mirror_policy((cx.cluster_name)(d), f)));
    }
    for m in http
        .mirrors
        .iter()
        .filter(|m| !m.destination.host.is_empty())
    {
        let fraction = match &m.percentage {
            Some(p) => (p.value.unwrap_or(0.0) > 0.0).then(|| per_million(p)),
            None => Some(percent(100)),
        };
        mirrors.extend(fraction.map(|f| mirror_policy((cx.cluster_name)(&m.destination), f)));
    }

    let mut hash_policy = Vec::new();
    let mut consistent_hash = false;
    let (cluster, weighted) = if let [dst] = http.route.as_slice() {
        if let Some(h) = &dst.headers {
            let d = header_ops(h);
            ops.request_add.extend(d.request_add);
            ops.request_remove.extend(d.request_remove);
            ops.response_add.extend(d.response_add);
            ops.response_remove.extend(d.response_remove);
            // The route's own authority rewrite wins over the destination's.
            host_rewrite = host_rewrite.or(d.authority);
        }
        if let Some(h) = (cx.hash_policy)(&dst.destination) {
            consistent_hash = true;
            hash_policy.extend(h);
        }
        (Some(json!((cx.cluster_name)(&dst.destination))), None)
    } else {
        // Weighted routes keep previous_hosts: consistent_hash stays false.
        let clusters: Vec<Value> = http
            .route
            .iter()
            .filter(|d| d.weight.unwrap_or(0) != 0)
            .map(|d| {
                hash_policy.extend((cx.hash_policy)(&d.destination).unwrap_or_default());
                cluster_weight(d, cx)
            })
            .collect();
        (None, Some(obj([("clusters", list(clusters))])))
    };
    let retry = convert_retry_or_default(http.retries.as_ref().or(cx.mesh_retry), consistent_hash);

    obj([
        ("cluster", cluster),
        ("weighted_clusters", weighted),
        ("prefix_rewrite", prefix_rewrite),
        (
            "host_rewrite_literal",
            host_rewrite.as_deref().and_then(text),
        ),
        ("timeout", Some(timeout.clone())),
        ("retry_policy", retry),
        ("hash_policy", list(hash_policy)),
        ("max_grpc_timeout", Some(timeout)),
        ("request_mirror_policies", list(mirrors)),
        ("regex_rewrite", regex_rewrite),
    ])
}

fn cluster_weight(d: &HttpRouteDestination, cx: &RouteContext) -> Value {
    let ops = d.headers.as_ref().map(header_ops).unwrap_or_default();
    obj([
        ("name", text(&(cx.cluster_name)(&d.destination))),
        // uint32 on the wire; istiod converts the int32 as is.
        ("weight", Some(json!(d.weight.unwrap_or(0) as u32))),
        ("request_headers_to_add", list(ops.request_add)),
        ("response_headers_to_add", list(ops.response_add)),
        ("response_headers_to_remove", strings(ops.response_remove)),
        ("request_headers_to_remove", strings(ops.request_remove)),
        (
            "host_rewrite_literal",
            ops.authority.as_deref().and_then(text),
        ),
    ])
}

fn mirror_policy(cluster: String, fraction: Value) -> Value {
    json!({
        "cluster": cluster,
        "runtime_fraction": {"default_value": fraction},
        "trace_sampled": false,
    })
}

/// `FractionalPercent` out of a hundred (HUNDRED is the enum's zero).
fn percent(n: u32) -> Value {
    obj([("numerator", (n != 0).then(|| json!(n)))])
}

/// An Istio `Percent` as a `FractionalPercent` per million; istiod truncates.
fn per_million(p: &Percent) -> Value {
    let n = (p.value.unwrap_or(0.0) * 10_000.0) as u32;
    obj([
        ("numerator", (n != 0).then(|| json!(n))),
        ("denominator", Some(json!("MILLION"))),
    ])
}

/// The decorator operation: `host:port<path>` when the route goes to one
/// `outbound|…` cluster, else `<vsName>:<PORT><path>`.
fn operation(m: &Value, route: Option<&Value>, vs_name: &str, port: u16) -> String {
    let path = if let Some(p) = m.get("prefix").and_then(Value::as_str) {
        format!("{p}*")
    } else if let Some(p) = m.get("path").and_then(Value::as_str) {
        p.to_string()
    } else if let Some(r) = m.get("safe_regex") {
        r["regex"].as_str().unwrap_or("").to_string()
    } else {
        "/*".to_string()
    };
    let cluster = route.and_then(|r| r.get("cluster")).and_then(Value::as_str);
    match cluster.filter(|c| c.matches('|').count() == 3) {
        Some(c) => {
            let parts: Vec<&str> = c.split('|').collect();
            let cluster_port: i64 = parts[1].parse().unwrap_or(0);
            format!("{}:{cluster_port}{path}", parts[3])
        }
        None => format!("{vs_name}:{port}{path}"),
    }
}

fn fault(f: &HttpFaultInjection) -> Value {
    // Only fixed delays are supported; any other delay is dropped.
    let delay = f.delay.as_ref().and_then(|d| {
        let fixed = d.fixed_delay.as_deref()?;
        let pct = match &d.percentage {
            Some(p) => per_million(p),
            None => percent(d.percent.unwrap_or(0) as u32),
        };
        Some(obj([
            ("fixed_delay", duration(fixed)),
            ("percentage", Some(pct)),
        ]))
    });
    // Only HTTP and gRPC aborts are supported.
    let abort = f.abort.as_ref().and_then(|a| {
        let (http, grpc) = match (a.http_status, &a.grpc_status) {
            (Some(s), _) => (Some(json!(s as u32)), None),
            (None, Some(g)) => (None, Some(json!(grpc_code(g)))),
            (None, None) => return None,
        };
        Some(obj([
            ("http_status", http),
            ("percentage", a.percentage.as_ref().map(per_million)),
            ("grpc_status", grpc),
        ]))
    });
    any(
        "envoy.extensions.filters.http.fault.v3.HTTPFault",
        obj([("delay", delay), ("abort", abort)]),
    )
}

/// A gRPC status name as its code; unknown names are 0, as in istiod's lookup.
fn grpc_code(name: &str) -> u32 {
    const CODES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    CODES.iter().position(|c| *c == name).unwrap_or(0) as u32
}

fn cors_policy(c: &CorsPolicy) -> Value {
    let origins: Vec<Value> = if c.allow_origins.is_empty() {
        c.allow_origin
            .iter()
            .map(|o| json!({ "exact": o }))
            .collect()
    } else {
        c.allow_origins.iter().filter_map(string_matcher).collect()
    };
    // Envoy takes whole seconds, as a string.
    let max_age = c
        .max_age
        .as_deref()
        .and_then(parse_duration)
        .map(|s| json!((s.trunc() as i64).to_string()));
    any(
        "envoy.extensions.filters.http.cors.v3.CorsPolicy",
        obj([
            ("allow_origin_string_match", list(origins)),
            ("allow_methods", text(&c.allow_methods.join(","))),
            ("allow_headers", text(&c.allow_headers.join(","))),
            ("expose_headers", text(&c.expose_headers.join(","))),
            ("max_age", max_age),
            ("allow_credentials", c.allow_credentials.map(Value::Bool)),
            (
                "filter_enabled",
                Some(json!({"default_value": {"numerator": 100}})),
            ),
            (
                "forward_not_matching_preflights",
                Some(Value::Bool(
                    c.unmatched_preflights.as_deref() != Some("IGNORE"),
                )),
            ),
        ]),
    )
}

/// The retry policy of a route: the VS's (or the mesh's) policy, else the
/// default.
fn convert_retry_or_default(p: Option<&HttpRetry>, consistent_hash: bool) -> Option<Value> {
    match p {
        Some(p) => convert_retry(p, consistent_hash),
        None => Some(default_retry_policy(consistent_hash)),
    }
}

/// A user retry policy; `attempts` ≤ 0 (also when unset) disables retries.
fn convert_retry(p: &HttpRetry, consistent_hash: bool) -> Option<Value> {
    (p.attempts.unwrap_or(0) > 0).then(|| retry_fields(p, consistent_hash))
}

/// The default policy with the user's fields laid over it.
fn retry_fields(p: &HttpRetry, consistent_hash: bool) -> Value {
    let (retry_on, codes) = match p.retry_on.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => {
            let (mut on, codes) = parse_retry_on(r);
            // Bare status codes need the condition that enables them (istiod
            // appends it even to an otherwise empty list).
            if !codes.is_empty() && !on.contains("retriable-status-codes") {
                on.push_str(",retriable-status-codes");
            }
            (on, codes)
        }
        None => (DEFAULT_RETRY_ON.to_string(), Vec::new()),
    };
    let previous_hosts = p.retry_ignore_previous_hosts.unwrap_or(!consistent_hash);
    let priority = p.retry_remote_localities.unwrap_or(false).then(|| {
        json!({
            "name": "envoy.retry_priorities.previous_priorities",
            "typed_config": any(
                "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
                json!({"update_frequency": 2}),
            ),
        })
    });
    let predicate = previous_hosts.then(|| {
        json!([{
            "name": "envoy.retry_host_predicates.previous_hosts",
            "typed_config": any(
                "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
                json!({}),
            ),
        }])
    });
    obj([
        ("retry_on", text(&retry_on)),
        ("num_retries", Some(json!(p.attempts.unwrap_or(0) as u32))),
        (
            "per_try_timeout",
            p.per_try_timeout.as_deref().and_then(duration),
        ),
        ("retry_priority", priority),
        ("retry_host_predicate", predicate),
        // int64: a JSON string.
        ("host_selection_retry_max_attempts", Some(json!("5"))),
        (
            "retriable_status_codes",
            list(codes.into_iter().map(|c| json!(c)).collect()),
        ),
        (
            "retry_back_off",
            p.backoff
                .as_deref()
                .and_then(duration)
                .map(|b| json!({ "base_interval": b })),
        ),
    ])
}

/// Splits `retryOn` into Envoy conditions and HTTP status codes (integers
/// that are known status codes).
fn parse_retry_on(retry_on: &str) -> (String, Vec<u32>) {
    let mut on = Vec::new();
    let mut codes = Vec::new();
    for part in retry_on.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<i64>() {
            Ok(code) if known_status(code) => codes.push(code as u32),
            _ => on.push(part),
        }
    }
    (on.join(","), codes)
}

/// Status codes with a standard reason phrase (istiod asks Go's `http.StatusText`).
fn known_status(code: i64) -> bool {
    matches!(
        code,
        100..=103
            | 200..=208
            | 226
            | 300..=305
            | 307
            | 308
            | 400..=418
            | 421..=426
            | 428
            | 429
            | 431
            | 451
            | 500..=508
            | 510
            | 511
    )
}

/// An object from fields in proto field-number order; unset fields left out.
fn obj<const N: usize>(fields: [(&str, Option<Value>); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect(),
    )
}

/// A repeated field: unset when empty.
fn list(items: Vec<Value>) -> Option<Value> {
    (!items.is_empty()).then_some(Value::Array(items))
}

fn strings(items: Vec<String>) -> Option<Value> {
    list(items.into_iter().map(Value::String).collect())
}

/// A string field: unset when empty.
fn text(s: &str) -> Option<Value> {
    (!s.is_empty()).then(|| json!(s))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::load::yaml::decode_text;
    use crate::registry::ProxyType;
    use crate::registry::catalog::ObjRef;
    use crate::registry::config::ConfigMeta;
    use crate::xds::generate::Interception;

    const REVIEWS: &str = "reviews.default.svc.cluster.local";

    fn proxy(labels: &[(&str, &str)]) -> Proxy {
        Proxy {
            config: Default::default(),
            workload: 0,
            kind: ProxyType::Sidecar,
            id: "productpage-v1.default".into(),
            name: "productpage-v1".into(),
            namespace: "default".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ips: vec!["10.244.0.10".parse().unwrap()],
            dns_domain: "default.svc.cluster.local".into(),
            interception: Interception::Redirect,
            metadata: BTreeMap::new(),
            locality: String::new(),
            service_account: "default".into(),
            identity: "spiffe://cluster.local/ns/default/sa/default".into(),
            node: None,
            workload_name: "app".into(),
        }
    }

    fn vs(name: &str, spec: &str) -> VirtualServiceEntry {
        let meta = ConfigMeta {
            name: name.into(),
            namespace: "default".into(),
            creation: None,
            source: ObjRef {
                kind: "VirtualService",
                namespace: "default".into(),
                name: name.into(),
            },
            internal: Default::default(),
        };
        VirtualServiceEntry {
            meta,
            spec: decode_text(spec, &mut |_| {}).unwrap(),
            export_to: Vec::new(),
            gateways: Vec::new(),
        }
    }

    /// Routes of `spec` (VS `reviews`) on `port` for `proxy`; clusters named
    /// `outbound|<port>|<subset>|<host>`; destinations to `hashed` get a
    /// header hash policy.
    fn build(
        spec: &str,
        proxy: &Proxy,
        port: u16,
        hashed: &str,
        mesh: Option<&HttpRetry>,
    ) -> Vec<Value> {
        let cluster =
            |d: &Destination| crate::xds::generate::outbound::destination_cluster(d, port);
        let hash = |d: &Destination| {
            (d.host == hashed).then(|| vec![json!({"header": {"header_name": "x-user"}})])
        };
        let gateways = ["mesh".to_string()];
        let cx = RouteContext {
            proxy,
            port,
            gateways: &gateways,
            cluster_name: &cluster,
            hash_policy: &hash,
            mesh_retry: mesh,
        };
        virtual_service_routes(&vs("reviews", spec), &cx)
    }

    fn routes(spec: &str) -> Vec<Value> {
        build(spec, &proxy(&[("app", "productpage")]), 9080, "", None)
    }

    /// Exact JSON, field order included.
    fn same(actual: &Value, expected: &Value) {
        assert_eq!(
            serde_json::to_string_pretty(actual).unwrap(),
            serde_json::to_string_pretty(expected).unwrap()
        );
    }

    fn names(routes: &[Value]) -> Vec<&str> {
        routes
            .iter()
            .map(|r| r["name"].as_str().unwrap_or(""))
            .collect()
    }

    fn metadata() -> Value {
        json!({"filter_metadata": {"istio": {
            "config": "/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews"
        }}})
    }

    fn previous_hosts() -> Value {
        json!([{
            "name": "envoy.retry_host_predicates.previous_hosts",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}
        }])
    }

    fn default_retry() -> Value {
        json!({
            "retry_on": DEFAULT_RETRY_ON,
            "num_retries": 2,
            "retry_host_predicate": previous_hosts(),
            "host_selection_retry_max_attempts": "5"
        })
    }

    #[test]
    fn header_and_uri_matches_with_named_routes() {
        let out = routes(
            r#"
hosts: [reviews.default.svc.cluster.local]
http:
- name: jason
  match:
  - name: hdr
    uri: {prefix: /api}
    ignoreUriCase: true
    method: {exact: GET}
    headers:
      x-any: {regex: "*"}
      end-user: {exact: jason}
    withoutHeaders:
      x-skip: {prefix: "1"}
    queryParams:
      v: {regex: "v[0-9]+"}
  route:
  - destination: {host: reviews.default.svc.cluster.local, subset: v2}
- name: rest
  route:
  - destination: {host: reviews.default.svc.cluster.local, subset: v1}
"#,
        );
        assert_eq!(out.len(), 2);
        same(
            &out[0],
            &json!({
                "match": {
                    "prefix": "/api",
                    "case_sensitive": false,
                    "headers": [
                        {"name": "end-user", "string_match": {"exact": "jason"}},
                        {"name": "x-any", "present_match": true},
                        {"name": "x-skip", "invert_match": true, "string_match": {"prefix": "1"},
                         "treat_missing_header_as_empty": true},
                        {"name": ":method", "string_match": {"exact": "GET"}}
                    ],
                    "query_parameters": [{"name": "v", "string_match": {"safe_regex": {"regex": "v[0-9]+"}}}]
                },
                "route": {
                    "cluster": "outbound|9080|v2|reviews.default.svc.cluster.local",
                    "timeout": "0s",
                    "retry_policy": default_retry(),
                    "max_grpc_timeout": "0s"
                },
                "metadata": metadata(),
                "decorator": {"operation": "reviews.default.svc.cluster.local:9080/api*"},
                "name": "jason.hdr"
            }),
        );
        // No match: a bare prefix `/`, no case_sensitive.
        same(
            &out[1],
            &json!({
                "match": {"prefix": "/"},
                "route": {
                    "cluster": "outbound|9080|v1|reviews.default.svc.cluster.local",
                    "timeout": "0s",
                    "retry_policy": default_retry(),
                    "max_grpc_timeout": "0s"
                },
                "metadata": metadata(),
                "decorator": {"operation": "reviews.default.svc.cluster.local:9080/*"},
                "name": "rest"
            }),
        );
    }

    #[test]
    fn weights_retries_and_timeout() {
        let spec = r#"
hosts: [reviews]
http:
- name: split
  timeout: 5s
  retries:
    attempts: 3
    perTryTimeout: 2s
    retryOn: "gateway-error, 503,connect-failure,425,999"
    retryRemoteLocalities: true
    backoff: 100ms
  route:
  - destination: {host: reviews.default.svc.cluster.local, subset: v1}
    weight: 75
    headers:
      request: {set: {x-v: "1", host: v1.reviews}}
      response: {remove: [x-internal]}
  - destination: {host: reviews.default.svc.cluster.local, subset: v2}
    weight: 25
  - destination: {host: reviews.default.svc.cluster.local, subset: v3}
    weight: 0
"#;
        let out = build(spec, &proxy(&[]), 9080, REVIEWS, None);
        let hash = json!({"header": {"header_name": "x-user"}});
        same(
            &out[0],
            &json!({
                "match": {"prefix": "/"},
                "route": {
                    "weighted_clusters": {"clusters": [
                        {
                            "name": "outbound|9080|v1|reviews.default.svc.cluster.local",
                            "weight": 75,
                            "request_headers_to_add": [{"header": {"key": "x-v", "value": "1"},
                                                        "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
                            "response_headers_to_remove": ["x-internal"],
                            "host_rewrite_literal": "v1.reviews"
                        },
                        {"name": "outbound|9080|v2|reviews.default.svc.cluster.local", "weight": 25}
                    ]},
                    "timeout": "5s",
                    "retry_policy": {
                        "retry_on": "gateway-error,connect-failure,999,retriable-status-codes",
                        "num_retries": 3,
                        "per_try_timeout": "2s",
                        "retry_priority": {
                            "name": "envoy.retry_priorities.previous_priorities",
                            "typed_config": {
                                "@type": "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
                                "update_frequency": 2
                            }
                        },
                        // Weighted: previous_hosts stays despite the hash.
                        "retry_host_predicate": previous_hosts(),
                        "host_selection_retry_max_attempts": "5",
                        "retriable_status_codes": [503, 425],
                        "retry_back_off": {"base_interval": "0.100s"}
                    },
                    "hash_policy": [hash, hash],
                    "max_grpc_timeout": "5s"
                },
                "metadata": metadata(),
                "decorator": {"operation": "reviews:9080/*"},
                "name": "split"
            }),
        );
    }

    #[test]
    fn retry_policy_variants() {
        let one = |retries: &str, mesh: Option<&HttpRetry>| {
            let spec = format!(
                "hosts: [reviews]\nhttp:\n- route: [{{destination: {{host: {REVIEWS}}}}}]\n{retries}"
            );
            build(&spec, &proxy(&[]), 9080, REVIEWS, mesh).remove(0)["route"].clone()
        };
        // Consistent hash on a single destination: no previous_hosts.
        let hashed = one("", None);
        same(
            &hashed["retry_policy"],
            &json!({"retry_on": DEFAULT_RETRY_ON, "num_retries": 2, "host_selection_retry_max_attempts": "5"}),
        );
        same(
            &hashed["hash_policy"],
            &json!([{"header": {"header_name": "x-user"}}]),
        );
        same(&default_retry_policy(true), &hashed["retry_policy"]);
        // attempts 0 (or unset) disables retries.
        assert!(
            one("  retries: {attempts: 0}", None)
                .get("retry_policy")
                .is_none()
        );
        assert!(
            one("  retries: {perTryTimeout: 1s}", None)
                .get("retry_policy")
                .is_none()
        );
        // Codes alone still enable retriable-status-codes; the predicate can be forced.
        same(
            &one(
                "  retries: {attempts: 1, retryOn: \"503\", retryIgnorePreviousHosts: true}",
                None,
            )["retry_policy"],
            &json!({
                "retry_on": ",retriable-status-codes",
                "num_retries": 1,
                "retry_host_predicate": previous_hosts(),
                "host_selection_retry_max_attempts": "5",
                "retriable_status_codes": [503]
            }),
        );
        // The mesh default applies when the VS has none, and not over it.
        let mesh = HttpRetry {
            attempts: Some(4),
            retry_on: Some("5xx".into()),
            ..HttpRetry::default()
        };
        assert_eq!(one("", Some(&mesh))["retry_policy"]["retry_on"], "5xx");
        assert_eq!(
            one("  retries: {attempts: 1}", Some(&mesh))["retry_policy"]["num_retries"],
            1
        );
    }

    #[test]
    fn default_routes() {
        same(
            &default_route(
                "outbound|9080||details.default.svc.cluster.local",
                "details.default.svc.cluster.local",
                9080,
                None,
            ),
            &json!({
                "match": {"prefix": "/"},
                "route": {
                    "cluster": "outbound|9080||details.default.svc.cluster.local",
                    "timeout": "0s",
                    "retry_policy": default_retry(),
                    "max_grpc_timeout": "0s"
                },
                "decorator": {"operation": "details.default.svc.cluster.local:9080/*"},
                "name": "default"
            }),
        );
        // istiod keeps previous_hosts on a hashed default route.
        let hashed = default_route(
            "c",
            "h",
            80,
            Some(vec![json!({"connection_properties": {"source_ip": true}})]),
        );
        same(&hashed["route"]["retry_policy"], &default_retry());
        same(
            &hashed["route"]["hash_policy"],
            &json!([{"connection_properties": {"source_ip": true}}]),
        );
        let off = HttpRetry::default();
        assert!(
            default_route_with_retry("c", "h", 80, None, Some(&off))["route"]
                .get("retry_policy")
                .is_none()
        );
    }

    #[test]
    fn redirects_and_direct_responses() {
        let spec = r#"
hosts: [reviews]
http:
- name: moved
  match: [{uri: {exact: /old}}]
  redirect: {uri: /new, authority: new.example.com, redirectCode: 302, port: 8080, scheme: https}
- name: www
  match: [{uri: {prefix: /www}}]
  redirect: {authority: www.example.com, derivePort: FROM_REQUEST_PORT}
- name: gone
  match: [{uri: {regex: "/gone/.+"}}]
  directResponse: {status: 410, body: {string: gone}}
  headers: {response: {set: {x-why: gone}}}
"#;
        let out = build(spec, &proxy(&[]), 9080, "", None);
        same(
            &out[0],
            &json!({
                "match": {"path": "/old", "case_sensitive": true},
                "redirect": {
                    "host_redirect": "new.example.com",
                    "path_redirect": "/new",
                    "response_code": "FOUND",
                    "scheme_redirect": "https",
                    "port_redirect": 8080
                },
                "metadata": metadata(),
                "decorator": {"operation": "reviews:9080/old"},
                "name": "moved"
            }),
        );
        // 301 is the enum's zero and does not print; the path oneof does.
        same(
            &out[1]["redirect"],
            &json!({"host_redirect": "www.example.com", "path_redirect": "", "port_redirect": 9080}),
        );
        same(
            &out[2],
            &json!({
                "match": {"case_sensitive": true, "safe_regex": {"regex": "/gone/.+"}},
                "metadata": metadata(),
                "decorator": {"operation": "reviews:9080/gone/.+"},
                "direct_response": {"status": 410, "body": {"inline_string": "gone"}},
                "response_headers_to_add": [{"header": {"key": "x-why", "value": "gone"},
                                             "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
                "name": "gone"
            }),
        );
        // The request port is the protocol default on 80: no explicit port.
        let on_80 = build(spec, &proxy(&[]), 80, "", None);
        assert!(on_80[1]["redirect"].get("port_redirect").is_none());
    }

    #[test]
    fn fault_and_cors() {
        let out = routes(
            r#"
hosts: [reviews]
http:
- fault:
    delay: {fixedDelay: 7s, percentage: {value: 0.1}}
    abort: {grpcStatus: UNAVAILABLE, percentage: {value: 50}}
  corsPolicy:
    allowOrigins: [{exact: "https://a.example"}, {regex: ".*[.]b[.]example"}]
    allowMethods: [GET, POST]
    allowHeaders: [x-a]
    maxAge: 24h
    allowCredentials: true
  route: [{destination: {host: ratings.default.svc.cluster.local}}]
"#,
        );
        same(
            &out[0]["typed_per_filter_config"],
            &json!({
                "envoy.filters.http.cors": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
                    "allow_origin_string_match": [{"exact": "https://a.example"},
                                                  {"safe_regex": {"regex": ".*[.]b[.]example"}}],
                    "allow_methods": "GET,POST",
                    "allow_headers": "x-a",
                    "max_age": "86400",
                    "allow_credentials": true,
                    "filter_enabled": {"default_value": {"numerator": 100}},
                    "forward_not_matching_preflights": true
                },
                "envoy.filters.http.fault": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
                    "delay": {"fixed_delay": "7s", "percentage": {"numerator": 1000, "denominator": "MILLION"}},
                    "abort": {"percentage": {"numerator": 500000, "denominator": "MILLION"}, "grpc_status": 14}
                }
            }),
        );
        // No name: the field is left out; typed_per_filter_config precedes where name would be.
        assert!(out[0].get("name").is_none());
        let keys: Vec<&String> = out[0].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "match",
                "route",
                "metadata",
                "decorator",
                "typed_per_filter_config"
            ]
        );
    }

    #[test]
    fn mirrors_rewrites_and_header_operations() {
        let out = routes(
            r#"
hosts: [ratings]
http:
- name: m
  match: [{uri: {prefix: /v1/}, statPrefix: v1}]
  rewrite: {uri: /, authority: ratings-v2}
  headers:
    request:
      set: {x-b: "2", x-a: "1", ":path": /x}
      add: {x-c: "3"}
      remove: [x-d, host]
    response:
      add: {x-e: "5"}
  mirror: {host: shadow.default.svc.cluster.local, port: {number: 8080}}
  mirrorPercentage: {value: 12.5}
  mirrors:
  - destination: {host: other.default.svc.cluster.local}
  - destination: {host: never.default.svc.cluster.local}
    percentage: {value: 0}
  route:
  - destination: {host: ratings.default.svc.cluster.local}
    headers: {request: {set: {x-dst: d}}}
"#,
        );
        let set = |k: &str, v: &str| json!({"header": {"key": k, "value": v}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"});
        same(
            &out[0],
            &json!({
                "match": {"prefix": "/v1/", "case_sensitive": true},
                "route": {
                    "cluster": "outbound|9080||ratings.default.svc.cluster.local",
                    "prefix_rewrite": "/",
                    "host_rewrite_literal": "ratings-v2",
                    "timeout": "0s",
                    "retry_policy": default_retry(),
                    "max_grpc_timeout": "0s",
                    "request_mirror_policies": [
                        {"cluster": "outbound|8080||shadow.default.svc.cluster.local",
                         "runtime_fraction": {"default_value": {"numerator": 125000, "denominator": "MILLION"}},
                         "trace_sampled": false},
                        {"cluster": "outbound|9080||other.default.svc.cluster.local",
                         "runtime_fraction": {"default_value": {"numerator": 100}},
                         "trace_sampled": false}
                    ]
                },
                "metadata": metadata(),
                "decorator": {"operation": "ratings.default.svc.cluster.local:9080/v1/*"},
                // set (sorted), then add (sorted), then the destination's.
                "request_headers_to_add": [set("x-a", "1"), set("x-b", "2"),
                                           {"header": {"key": "x-c", "value": "3"}}, set("x-dst", "d")],
                "response_headers_to_add": [{"header": {"key": "x-e", "value": "5"}}],
                "request_headers_to_remove": ["x-d"],
                "name": "m",
                "stat_prefix": "v1"
            }),
        );
    }

    #[test]
    fn regex_rewrite_and_jwt_claims() {
        let out = routes(
            r#"
hosts: [reviews]
http:
- match:
  - headers: {"@request.auth.claims[groups]": {exact: admin}}
    withoutHeaders: {"@request.auth.claims.sub": {prefix: bot}}
  rewrite: {uriRegexRewrite: {match: "^/a/(.*)", rewrite: "/b/\\1"}}
  route: [{destination: {host: reviews.default.svc.cluster.local}}]
- route: [{destination: {host: reviews.default.svc.cluster.local, subset: v1}}]
"#,
        );
        // A claim matcher is no header matcher, but it keeps the route from being a catch-all.
        assert_eq!(out.len(), 2);
        let expected = |key: &str, m: Value, invert: bool| {
            let mut v = json!({
                "filter": "envoy.filters.http.jwt_authn",
                "path": [{"key": "payload"}, {"key": key}],
                "value": {"or_match": {"value_matchers": [
                    {"list_match": {"one_of": {"string_match": m}}}, {"string_match": m}
                ]}}
            });
            if invert {
                v["invert"] = json!(true);
            }
            v
        };
        same(
            &out[0]["match"],
            &json!({
                "prefix": "/",
                "case_sensitive": true,
                "dynamic_metadata": [
                    expected("groups", json!({"exact": "admin"}), false),
                    expected("sub", json!({"prefix": "bot"}), true)
                ]
            }),
        );
        same(
            &out[0]["route"]["regex_rewrite"],
            &json!({"pattern": {"regex": "^/a/(.*)"}, "substitution": "/b/\\1"}),
        );
    }

    #[test]
    fn source_gateway_and_port_filtering() {
        let spec = r#"
hosts: [reviews]
http:
- name: by-port
  match: [{port: 8080, uri: {prefix: /p}}, {port: 9080, uri: {prefix: /q}}]
  route: [{destination: {host: reviews.default.svc.cluster.local}}]
- name: by-source
  match:
  - {name: other-app, sourceLabels: {app: reviews}}
  - {name: other-ns, sourceLabels: {app: productpage}, sourceNamespace: other}
  - {name: gateway, gateways: [istio-system/gw]}
  - {name: mine, sourceLabels: {app: productpage}, sourceNamespace: default, uri: {prefix: /m}}
  # Naming gateways overrides the source checks.
  - {name: mesh, gateways: [mesh], sourceLabels: {app: nope}, headers: {x: {exact: "1"}}}
  route: [{destination: {host: reviews.default.svc.cluster.local}}]
"#;
        let me = proxy(&[("app", "productpage"), ("version", "v1")]);
        let on_9080 = build(spec, &me, 9080, "", None);
        assert_eq!(
            names(&on_9080),
            ["by-port", "by-source.mine", "by-source.mesh"]
        );
        assert_eq!(on_9080[0]["match"]["prefix"], "/q");
        let on_8080 = build(spec, &me, 8080, "", None);
        assert_eq!(on_8080[0]["match"]["prefix"], "/p");
        assert_eq!(
            on_8080[0]["route"]["cluster"],
            "outbound|8080||reviews.default.svc.cluster.local"
        );
        // Nothing applies: no routes.
        let only_other = "hosts: [reviews]\nhttp:\n- match: [{port: 1}]\n  route: [{destination: {host: reviews}}]\n";
        assert!(build(only_other, &me, 9080, "", None).is_empty());
    }

    #[test]
    fn catch_all_stops_translation() {
        let out = routes(
            r#"
hosts: [reviews]
http:
- name: a
  match:
  - {uri: {prefix: /}, headers: {x: {exact: "1"}}}
  - {uri: {regex: ".*"}}
  - {uri: {prefix: /never}}
  route: [{destination: {host: reviews.default.svc.cluster.local}}]
- name: b
  route: [{destination: {host: reviews.default.svc.cluster.local}}]
"#,
        );
        assert_eq!(names(&out), ["a", "a"]);
        assert!(!is_catch_all(&out[0]));
        assert!(is_catch_all(&out[1]));
        // A match-less entry ends the list too.
        let out = routes(
            r#"
hosts: [reviews]
http:
- {name: first, route: [{destination: {host: reviews}}]}
- {name: second, match: [{uri: {prefix: /x}}], route: [{destination: {host: reviews}}]}
"#,
        );
        assert_eq!(names(&out), ["first"]);
        assert!(is_catch_all(&default_route("c", "h", 80, None)));
    }
}
