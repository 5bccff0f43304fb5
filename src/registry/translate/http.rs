//! HTTPRoute and GRPCRoute rules → VirtualService HTTP routes
//! (istiod-gateway-security.md §2.5–2.6; istiod's `convertHTTPRoute`,
//! `convertGRPCRoute`, `sortHTTPRoutes`).

use std::collections::BTreeMap;

use super::backends::{self, BackendRef, Weighted};
use super::conditions::ConfigError;
use super::{Ctx, proto_duration};
use crate::model::Object;
use crate::model::gateway_api::{
    CorsFilter, GrpcBackendRef, GrpcRouteFilter, GrpcRouteMatch, HeaderFilter, HeaderMatch,
    HttpBackendRef, HttpRouteFilter, HttpRouteMatch, RequestMirrorFilter, RequestRedirectFilter,
    UrlRewriteFilter,
};
use crate::model::istio::{
    CorsPolicy, HeaderOperations, Headers, HttpDirectResponse, HttpMatchRequest, HttpMirrorPolicy,
    HttpRedirect, HttpRetry, HttpRewrite, HttpRoute, HttpRouteDestination, Percent, RegexRewrite,
    StringMatch,
};

/// One converted rule: the route (none on a hard error) and the error to report.
pub(crate) type Converted = (Option<HttpRoute>, Option<ConfigError>);

fn join(a: Option<ConfigError>, b: Option<ConfigError>) -> Option<ConfigError> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(mut a), Some(b)) => {
            a.message = format!("{}; {}", a.message, b.message);
            Some(a)
        }
    }
}

fn exact(s: &str) -> StringMatch {
    StringMatch {
        exact: Some(s.to_string()),
        ..Default::default()
    }
}

fn regex(s: &str) -> StringMatch {
    StringMatch {
        regex: Some(s.to_string()),
        ..Default::default()
    }
}

fn prefix(s: &str) -> StringMatch {
    StringMatch {
        prefix: Some(s.to_string()),
        ..Default::default()
    }
}

fn header_matches(
    headers: &[HeaderMatch],
    what: &str,
) -> Result<BTreeMap<String, StringMatch>, ConfigError> {
    headers
        .iter()
        .map(|h| match h.r#type.as_deref().unwrap_or("Exact") {
            "Exact" => Ok((h.name.clone(), exact(&h.value))),
            "RegularExpression" => Ok((h.name.clone(), regex(&h.value))),
            other => Err(ConfigError::new(
                "InvalidConfiguration",
                format!("unknown type: \"{other}\" is not supported {what} type"),
            )),
        })
        .collect()
}

pub(crate) fn http_match(m: &HttpRouteMatch) -> Result<HttpMatchRequest, ConfigError> {
    // A match without `path` has no URI match, as istiod's undefaulted
    // goldens have it; `http_match_defaulted` is the cluster's view.
    let uri = match &m.path {
        None => None,
        Some(p) => {
            let value = p.value.clone().unwrap_or_else(|| "/".to_string());
            Some(match p.r#type.as_deref().unwrap_or("PathPrefix") {
                "PathPrefix" => {
                    let v = if value == "/" {
                        value
                    } else {
                        value.trim_end_matches('/').to_string()
                    };
                    prefix(&v)
                }
                "Exact" => exact(&value),
                "RegularExpression" => regex(&value),
                other => {
                    return Err(ConfigError::new(
                        "InvalidConfiguration",
                        format!("unknown type: \"{other}\" is not supported Path match type"),
                    ));
                }
            })
        }
    };
    Ok(HttpMatchRequest {
        uri,
        headers: header_matches(&m.headers, "HeaderMatch")?,
        query_params: header_matches(&m.query_params, "QueryParams")?,
        method: m.method.as_deref().map(exact),
        ..Default::default()
    })
}

/// `http_match` over the match as the API server stores it: a missing
/// `path` is `PathPrefix /`.
pub(crate) fn http_match_defaulted(m: &HttpRouteMatch) -> Result<HttpMatchRequest, ConfigError> {
    let mut m = m.clone();
    m.path.get_or_insert_with(Default::default);
    http_match(&m)
}

pub(crate) fn grpc_match(m: &GrpcRouteMatch) -> Result<HttpMatchRequest, ConfigError> {
    let uri = match &m.method {
        None => None,
        Some(method) => {
            let (svc, name) = (method.service.as_deref(), method.method.as_deref());
            Some(
                match (method.r#type.as_deref().unwrap_or("Exact"), svc, name) {
                    ("Exact", None, Some(n)) => regex(&format!("/[^/]+/{n}")),
                    ("Exact", Some(s), None) => prefix(&format!("/{s}/")),
                    ("Exact", Some(s), Some(n)) => exact(&format!("/{s}/{n}")),
                    ("RegularExpression", Some(s), None) => regex(&format!("/{s}/.+")),
                    ("RegularExpression", None, Some(n)) => regex(&format!("/[^/]+/{n}")),
                    ("RegularExpression", Some(s), Some(n)) => regex(&format!("/{s}/{n}")),
                    (_, None, None) => {
                        return Ok(HttpMatchRequest {
                            headers: header_matches(&m.headers, "HeaderMatch")?,
                            ..Default::default()
                        });
                    }
                    (other, _, _) => {
                        return Err(ConfigError::new(
                            "InvalidConfiguration",
                            format!("unknown type: \"{other}\" is not supported Path match type"),
                        ));
                    }
                },
            )
        }
    };
    Ok(HttpMatchRequest {
        uri,
        headers: header_matches(&m.headers, "HeaderMatch")?,
        ..Default::default()
    })
}

fn header_ops(f: &HeaderFilter) -> Result<HeaderOperations, ConfigError> {
    for h in f.set.iter().chain(&f.add) {
        let valid = h
            .value
            .bytes()
            .all(|c| c == 0x09 || (c >= 0x20 && c != 0x7f));
        if !valid {
            return Err(ConfigError::new(
                "InvalidFilter",
                format!("header \"{}\" value contains invalid characters", h.name),
            ));
        }
    }
    let to_map = |list: &[crate::model::gateway_api::HttpHeader]| {
        let mut m = BTreeMap::new();
        for h in list {
            m.entry(h.name.to_lowercase())
                .or_insert_with(|| h.value.clone());
        }
        m
    };
    Ok(HeaderOperations {
        set: to_map(&f.set),
        add: to_map(&f.add),
        remove: f.remove.clone(),
    })
}

fn redirect(f: &RequestRedirectFilter) -> HttpRedirect {
    let mut r = HttpRedirect {
        redirect_code: f.status_code.and_then(|c| u32::try_from(c).ok()),
        authority: f.hostname.clone(),
        scheme: f.scheme.clone(),
        ..Default::default()
    };
    match f.port {
        Some(p) => r.port = u32::try_from(p).ok(),
        // A oneof member: printed even as the enum's zero value.
        None if f.scheme.is_some() => r.derive_port = Some("FROM_PROTOCOL_DEFAULT".to_string()),
        None => r.derive_port = Some("FROM_REQUEST_PORT".to_string()),
    }
    if let Some(path) = &f.path {
        match path.r#type.as_str() {
            "ReplaceFullPath" => r.uri = path.replace_full_path.clone(),
            "ReplacePrefixMatch" => r.prefix_rewrite = path.replace_prefix_match.clone(),
            _ => {}
        }
    }
    r
}

fn rewrite(f: &UrlRewriteFilter) -> Option<HttpRewrite> {
    let mut r = HttpRewrite::default();
    if let Some(path) = &f.path {
        match path.r#type.as_str() {
            "ReplacePrefixMatch" => {
                let v = path.replace_prefix_match.clone().unwrap_or_default();
                let v = v.strip_suffix('/').unwrap_or(&v).to_string();
                r.uri = Some(if v.is_empty() { "/".to_string() } else { v });
            }
            "ReplaceFullPath" => {
                r.uri_regex_rewrite = Some(RegexRewrite {
                    r#match: Some("/.*".to_string()),
                    rewrite: path.replace_full_path.clone(),
                });
            }
            _ => {}
        }
    }
    r.authority = f.hostname.clone();
    (r.uri.is_some() || r.uri_regex_rewrite.is_some() || r.authority.is_some()).then_some(r)
}

fn cors(f: &CorsFilter) -> CorsPolicy {
    let mut out = CorsPolicy::default();
    for o in f.allow_origins.iter().filter(|o| !o.is_empty()) {
        out.allow_origins.push(if o == "*" {
            regex(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s?#]+$")
        } else if !o.contains('*') {
            exact(o)
        } else if o.matches('*').count() == 1 && o.ends_with('*') {
            prefix(o.trim_end_matches('*'))
        } else {
            regex(&format!("^{}$", quote_meta(o).replace("\\*", ".*")))
        });
    }
    if f.allow_credentials == Some(true) {
        out.allow_credentials = Some(true);
    }
    out.allow_methods = f.allow_methods.clone();
    out.allow_headers = f.allow_headers.clone();
    out.expose_headers = f.expose_headers.clone();
    if let Some(age) = f.max_age.filter(|a| *a > 0) {
        out.max_age = Some(format!("{age}s"));
    }
    out.unmatched_preflights = Some("IGNORE".to_string());
    out
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn mirror(
    ctx: &Ctx,
    f: &RequestMirrorFilter,
    ns: &str,
    enforce: bool,
    kind: &str,
) -> Result<HttpMirrorPolicy, ConfigError> {
    let b = &f.backend_ref;
    let (dst, err) = backends::destination(ctx, BackendRef::from(b), ns, enforce, kind);
    if let Some(e) = err {
        return Err(e);
    }
    let percentage = match (&f.fraction, f.percent) {
        (Some(fr), _) => {
            Some(f64::from(fr.numerator) * 100.0 / f64::from(fr.denominator.unwrap_or(100)))
        }
        (None, Some(p)) => Some(f64::from(p)),
        (None, None) => None,
    };
    Ok(HttpMirrorPolicy {
        destination: dst.unwrap_or_default(),
        percentage: percentage.map(|v| Percent { value: Some(v) }),
    })
}

/// A backendRef with its weight and header filters.
pub(crate) struct WeightedBackend<'a> {
    pub to: BackendRef<'a>,
    pub weight: Option<i32>,
    pub request_headers: Vec<&'a HeaderFilter>,
    pub response_headers: Vec<&'a HeaderFilter>,
    /// A filter type other than the header modifiers (a hard error).
    pub unsupported_filter: Option<&'a str>,
}

impl Weighted for WeightedBackend<'_> {
    fn backend(&self) -> BackendRef<'_> {
        self.to
    }
    fn weight(&self) -> Option<i32> {
        self.weight
    }
}

/// A route entry per backend, with the backend's header modifiers.
fn destinations(
    ctx: &Ctx,
    backends: &[WeightedBackend],
    ns: &str,
    enforce: bool,
    kind: &str,
) -> Result<(Vec<HttpRouteDestination>, Option<ConfigError>), ConfigError> {
    backends::weighted_destinations(
        ctx,
        backends,
        ns,
        enforce,
        kind,
        |b, destination, weight| {
            if let Some(t) = b.unsupported_filter {
                let msg = format!("unsupported filter type \"{t}\"");
                return Err(ConfigError::new("InvalidFilter", msg));
            }
            let mut rd = HttpRouteDestination {
                destination,
                weight,
                headers: None,
            };
            for f in &b.request_headers {
                rd.headers.get_or_insert_with(Headers::default).request = Some(header_ops(f)?);
            }
            for f in &b.response_headers {
                rd.headers.get_or_insert_with(Headers::default).response = Some(header_ops(f)?);
            }
            Ok(rd)
        },
    )
}

/// A rule's filters, whichever route kind they come from.
pub(crate) enum Filter<'a> {
    RequestHeaders(&'a HeaderFilter),
    ResponseHeaders(&'a HeaderFilter),
    Redirect(&'a RequestRedirectFilter),
    Mirror(&'a RequestMirrorFilter),
    Rewrite(&'a UrlRewriteFilter),
    Cors(&'a CorsFilter),
    /// Anything else, by its type name: a hard error.
    Unsupported(&'a str),
}

/// One rule, split to at most one match, of an HTTPRoute or GRPCRoute.
pub(crate) struct Rule<'a> {
    pub name: Option<&'a str>,
    pub index: usize,
    pub matched: Option<Result<HttpMatchRequest, ConfigError>>,
    pub filters: Vec<Filter<'a>>,
    pub backends: Vec<WeightedBackend<'a>>,
    pub retry: Option<&'a crate::model::gateway_api::HttpRouteRetry>,
    pub timeouts: Option<&'a crate::model::gateway_api::HttpRouteTimeouts>,
    /// A mirror error is hard for GRPCRoute, soft for HTTPRoute.
    pub mirror_error_is_hard: bool,
    /// Fill what the API server defaults (a redirect's 302).
    pub crd_defaults: bool,
}

/// A rule's matches, one per Istio route (a rule without matches is one
/// route without a match).
pub(crate) fn split_matches<M>(
    matches: &[M],
    convert: fn(&M) -> Result<HttpMatchRequest, ConfigError>,
) -> impl Iterator<Item = Option<Result<HttpMatchRequest, ConfigError>>> + use<M> {
    let converted: Vec<_> = matches.iter().map(|m| Some(convert(m))).collect();
    let whole = converted.is_empty().then_some(None);
    converted.into_iter().chain(whole)
}

impl<'a> From<&'a HttpRouteFilter> for Filter<'a> {
    fn from(f: &'a HttpRouteFilter) -> Filter<'a> {
        match f.r#type.as_str() {
            "RequestHeaderModifier" => f
                .request_header_modifier
                .as_ref()
                .map(Filter::RequestHeaders),
            "ResponseHeaderModifier" => f
                .response_header_modifier
                .as_ref()
                .map(Filter::ResponseHeaders),
            "RequestRedirect" => f.request_redirect.as_ref().map(Filter::Redirect),
            "RequestMirror" => f.request_mirror.as_ref().map(Filter::Mirror),
            "URLRewrite" => f.url_rewrite.as_ref().map(Filter::Rewrite),
            "CORS" => f.cors.as_ref().map(Filter::Cors),
            _ => None,
        }
        .unwrap_or(Filter::Unsupported(&f.r#type))
    }
}

impl<'a> From<&'a GrpcRouteFilter> for Filter<'a> {
    fn from(f: &'a GrpcRouteFilter) -> Filter<'a> {
        match f.r#type.as_str() {
            "RequestHeaderModifier" => f
                .request_header_modifier
                .as_ref()
                .map(Filter::RequestHeaders),
            "ResponseHeaderModifier" => f
                .response_header_modifier
                .as_ref()
                .map(Filter::ResponseHeaders),
            "RequestMirror" => f.request_mirror.as_ref().map(Filter::Mirror),
            _ => None,
        }
        .unwrap_or(Filter::Unsupported(&f.r#type))
    }
}

/// HTTP and gRPC backendRefs: only header modifiers are allowed on them.
macro_rules! weighted_backend_of {
    ($($ty:ty),*) => {$(
        impl<'a> From<&'a $ty> for WeightedBackend<'a> {
            fn from(b: &'a $ty) -> WeightedBackend<'a> {
                let mut out = WeightedBackend {
                    to: BackendRef::from(b),
                    weight: b.weight,
                    request_headers: Vec::new(),
                    response_headers: Vec::new(),
                    unsupported_filter: None,
                };
                for f in &b.filters {
                    match (f.r#type.as_str(), &f.request_header_modifier, &f.response_header_modifier) {
                        ("RequestHeaderModifier", Some(h), _) => out.request_headers.push(h),
                        ("ResponseHeaderModifier", _, Some(h)) => out.response_headers.push(h),
                        (ty, _, _) => out.unsupported_filter = out.unsupported_filter.or(Some(ty)),
                    }
                }
                out
            }
        }
    )*};
}

weighted_backend_of!(HttpBackendRef, GrpcBackendRef);

/// Convert one (split) rule of `route`.
pub(crate) fn convert(ctx: &Ctx, route: &Object, rule: &Rule, enforce: bool) -> Converted {
    let ns = route.namespace();
    let kind = route.info.kind;
    let mut vs = HttpRoute {
        name: Some(
            rule.name
                .map(str::to_string)
                .unwrap_or_else(|| format!("{ns}.{}.{}", route.name(), rule.index)),
        ),
        ..Default::default()
    };
    if let Some(m) = &rule.matched {
        match m {
            Ok(m) => vs.r#match.push(m.clone()),
            Err(e) => return (None, Some(e.clone())),
        }
    }
    let mut mirror_err = None;
    for f in &rule.filters {
        match f {
            Filter::RequestHeaders(h) => match header_ops(h) {
                Ok(ops) => vs.headers.get_or_insert_with(Headers::default).request = Some(ops),
                Err(e) => return (None, Some(e)),
            },
            Filter::ResponseHeaders(h) => match header_ops(h) {
                Ok(ops) => vs.headers.get_or_insert_with(Headers::default).response = Some(ops),
                Err(e) => return (None, Some(e)),
            },
            Filter::Redirect(r) => {
                let mut redirect = redirect(r);
                if rule.crd_defaults {
                    redirect.redirect_code.get_or_insert(302);
                }
                vs.redirect = Some(redirect);
            }
            Filter::Mirror(m) => match mirror(ctx, m, ns, enforce, kind) {
                Ok(p) => vs.mirrors.push(p),
                Err(e) if rule.mirror_error_is_hard => return (None, Some(e)),
                Err(e) => mirror_err = Some(e),
            },
            Filter::Rewrite(r) => vs.rewrite = rewrite(r),
            Filter::Cors(c) => vs.cors_policy = Some(cors(c)),
            Filter::Unsupported(t) => {
                return (
                    None,
                    Some(ConfigError::new(
                        "InvalidFilter",
                        format!("unsupported filter type \"{t}\""),
                    )),
                );
            }
        }
    }
    if let Some(r) = rule.retry {
        let attempts = r.attempts.unwrap_or(2);
        let mut on = vec![
            "connect-failure",
            "refused-stream",
            "unavailable",
            "cancelled",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        on.extend(r.codes.iter().map(i32::to_string));
        vs.retries = Some(HttpRetry {
            attempts: Some(attempts),
            retry_on: (attempts != 0).then(|| on.join(",")),
            backoff: r.backoff.as_deref().and_then(proto_duration),
            ..Default::default()
        });
    }
    if let Some(t) = rule.timeouts {
        if let Some(d) = t.request.as_deref().and_then(proto_duration) {
            vs.timeout = Some(d);
        }
        if let Some(d) = t.backend_request.as_deref().and_then(proto_duration) {
            match &mut vs.retries {
                Some(r) => r.per_try_timeout = Some(d),
                None => vs.timeout = Some(d),
            }
        }
    }
    let weight_sum: i32 = rule.backends.iter().map(|b| b.weight.unwrap_or(1)).sum();
    if weight_sum == 0 && vs.redirect.is_none() {
        vs.direct_response = Some(HttpDirectResponse {
            status: Some(500),
            body: None,
        });
        return (Some(vs), mirror_err);
    }
    match destinations(ctx, &rule.backends, ns, enforce, kind) {
        Ok((route, soft)) => {
            vs.route = route;
            (Some(vs), join(soft, mirror_err))
        }
        Err(e) => (None, Some(e)),
    }
}

/// Gateway API precedence over routes of at most one match each (stable).
pub(crate) fn sort_routes(routes: &mut [HttpRoute]) {
    fn rank(m: &HttpMatchRequest) -> (i32, usize) {
        match &m.uri {
            Some(StringMatch { exact: Some(e), .. }) => (3, e.len()),
            Some(StringMatch {
                prefix: Some(p), ..
            }) => (2, p.len()),
            Some(StringMatch { regex: Some(r), .. }) => (1, r.len()),
            _ => (-1, 0),
        }
    }
    // Go's sort.SliceStable with istiod's less; a merge sort keeps ties in order.
    routes.sort_by(|a, b| {
        use std::cmp::Ordering::*;
        match (a.r#match.first(), b.r#match.first()) {
            (None, None) => Equal,
            (None, Some(_)) => Greater,
            (Some(_), None) => Less,
            (Some(m1), Some(m2)) => {
                let (r1, l1) = rank(m1);
                let (r2, l2) = rank(m2);
                r2.cmp(&r1)
                    .then(l2.cmp(&l1))
                    .then(m2.method.is_some().cmp(&m1.method.is_some()))
                    .then(m2.headers.len().cmp(&m1.headers.len()))
                    .then(m2.query_params.len().cmp(&m1.query_params.len()))
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(name: &str, m: Option<HttpMatchRequest>) -> HttpRoute {
        HttpRoute {
            name: Some(name.to_string()),
            r#match: m.into_iter().collect(),
            ..Default::default()
        }
    }

    fn uri(s: StringMatch) -> Option<HttpMatchRequest> {
        Some(HttpMatchRequest {
            uri: Some(s),
            ..Default::default()
        })
    }

    #[test]
    fn gateway_api_precedence() {
        let mut with_method = uri(prefix("/a")).unwrap();
        with_method.method = Some(exact("GET"));
        let mut routes = vec![
            route("none", None),
            route("regex", uri(regex("/a.*/long"))),
            route("prefix-short", uri(prefix("/a"))),
            route("prefix-long", uri(prefix("/a/b"))),
            route("exact", uri(exact("/a"))),
            route("method", Some(with_method)),
            route("prefix-short-2", uri(prefix("/a"))),
        ];
        sort_routes(&mut routes);
        let names: Vec<_> = routes
            .iter()
            .map(|r| r.name.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            [
                "exact",
                "prefix-long",
                "method",
                "prefix-short",
                "prefix-short-2",
                "regex",
                "none"
            ]
        );
    }

    #[test]
    fn grpc_methods_become_paths() {
        let m = |ty: &str, svc: Option<&str>, method: Option<&str>| GrpcRouteMatch {
            method: Some(crate::model::gateway_api::GrpcMethodMatch {
                r#type: Some(ty.to_string()),
                service: svc.map(str::to_string),
                method: method.map(str::to_string),
            }),
            headers: Vec::new(),
        };
        let path = |g: GrpcRouteMatch| grpc_match(&g).ok().and_then(|m| m.uri);
        assert_eq!(path(m("Exact", Some("s"), Some("m"))), Some(exact("/s/m")));
        assert_eq!(path(m("Exact", Some("s"), None)), Some(prefix("/s/")));
        assert_eq!(path(m("Exact", None, Some("m"))), Some(regex("/[^/]+/m")));
        assert_eq!(
            path(m("RegularExpression", Some("s"), None)),
            Some(regex("/s/.+"))
        );
    }
}
