//! MeshConfig `extensionProviders` of the ext_authz kinds → the Envoy
//! ext_authz filter configs CUSTOM policies call (istiod-gateway-security.md
//! §3.2.1, §4.6; istiod's authz builder `extauthz.go`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::rule::string_exact_kind;
use crate::model::mesh_config::{
    ExtAuthzGrpcProvider, ExtAuthzHttpProvider, ExtAuthzRequestBody, MeshConfig,
};
use crate::registry::catalog::Catalog;
use crate::xds::generate::json::duration;

/// A provider's filter configs: HTTP always, TCP for gRPC providers.
/// `filter_enabled_metadata` is added per use.
#[derive(Debug, Clone)]
pub struct ExtAuthz {
    pub http: Map<String, Value>,
    pub tcp: Option<Map<String, Value>>,
}

/// Every ext_authz provider by name: its configs, or what is wrong with it
/// (CUSTOM policies naming it then deny instead).
pub type Providers = BTreeMap<String, Result<ExtAuthz, String>>;

pub fn resolve(mesh: &MeshConfig, catalog: &Catalog) -> Providers {
    let mut out = Providers::new();
    for (i, p) in mesh.extension_providers().iter().enumerate() {
        let built = match (&p.envoy_ext_authz_http, &p.envoy_ext_authz_grpc) {
            (Some(h), _) => common(
                (&h.service, h.port),
                (h.status_on_error.as_deref(), h.timeout.as_deref()),
                catalog,
                http_errors(h),
            )
            .map(|c| http(h, c)),
            (None, Some(g)) => common(
                (&g.service, g.port),
                (g.status_on_error.as_deref(), g.timeout.as_deref()),
                catalog,
                Vec::new(),
            )
            .map(|c| grpc(g, c)),
            (None, None) => continue,
        };
        let mut errs = Vec::new();
        if p.name.is_empty() {
            errs.push(format!(
                "extension provider name must not be empty, found empty at index: {i}"
            ));
        } else if let Err(e) = valid_name(&p.name) {
            errs.push(format!("invalid provider name {:?}: {e}", p.name));
        }
        let result = match built {
            Ok(b) if errs.is_empty() => Ok(b),
            Ok(_) => Err(errs.join("; ")),
            Err(e) => {
                errs.push(format!(
                    "failed to parse extension provider {:?}: {e}",
                    p.name
                ));
                Err(errs.join("; "))
            }
        };
        out.insert(p.name.clone(), result);
    }
    out
}

/// Provider names end up in metadata keys and policy names: DNS labels.
fn valid_name(name: &str) -> Result<(), String> {
    if name.len() > 63 {
        return Err(format!(
            "provider name too long (max 63 characters): {}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "invalid character {c:?} (only lowercase letters, digits, and hyphens allowed)"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("provider name cannot start or end with hyphen".to_string());
    }
    Ok(())
}

/// The settings both provider kinds share, checked.
struct Common {
    hostname: String,
    cluster: String,
    status: Option<Value>,
    timeout: Value,
}

/// Checks the service (`service`, `port`) and the `statusOnError` and
/// `timeout` settings, after the provider's own `errs`.
fn common(
    (service, port): (&str, Option<u32>),
    (status, timeout): (Option<&str>, Option<&str>),
    catalog: &Catalog,
    mut errs: Vec<String>,
) -> Result<Common, String> {
    let port = port.unwrap_or(0);
    if !(1..=65535).contains(&port) {
        errs.push(format!(
            "port must be in the range [1, 65535], found: {port}"
        ));
    }
    let found = catalog
        .provider_host(service)
        .map_err(|e| errs.push(e))
        .ok();
    let status = match status.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<i32>().ok().and_then(status_name) {
            Some(name) => Some(json!({"code": name})),
            None => {
                errs.push(format!("unsupported statusOnError {s}"));
                None
            }
        },
    };
    let timeout = match timeout {
        None => json!("600s"),
        Some(t) => duration(t).unwrap_or_else(|| {
            errs.push(format!("invalid timeout {t:?}"));
            Value::Null
        }),
    };
    match found {
        Some(hostname) if errs.is_empty() => Ok(Common {
            cluster: format!("outbound|{port}||{hostname}"),
            hostname,
            status: status.map(|s| if s["code"] == "Empty" { json!({}) } else { s }),
            timeout,
        }),
        _ => Err(errs.join("; ")),
    }
}

/// What is wrong with an HTTP provider's own settings.
fn http_errors(p: &ExtAuthzHttpProvider) -> Vec<String> {
    let mut errs = Vec::new();
    if let Some(prefix) = p.path_prefix.as_deref().filter(|s| !s.is_empty())
        && !prefix.starts_with('/')
    {
        errs.push(format!("pathPrefix must begin with `/`, found: {prefix:?}"));
    }
    for (field, values) in [
        (
            "IncludeRequestHeadersInCheck",
            &p.include_request_headers_in_check,
        ),
        ("IncludeHeadersInCheck", &p.include_headers_in_check),
        (
            "HeadersToDownstreamOnDeny",
            &p.headers_to_downstream_on_deny,
        ),
        (
            "HeadersToDownstreamOnAllow",
            &p.headers_to_downstream_on_allow,
        ),
        ("HeadersToUpstreamOnAllow", &p.headers_to_upstream_on_allow),
    ] {
        if values.iter().any(|v| v == "*") {
            errs.push(format!(
                "a single wildcard (\"*\") is not supported, change it to either prefix or suffix match: {field}"
            ));
        }
    }
    errs
}

fn http(p: &ExtAuthzHttpProvider, c: Common) -> ExtAuthz {
    let mut service = Map::new();
    service.insert(
        "server_uri".into(),
        json!({"uri": format!("http://{}", c.hostname), "cluster": c.cluster, "timeout": c.timeout}),
    );
    if let Some(prefix) = p.path_prefix.as_deref().filter(|s| !s.is_empty()) {
        service.insert("path_prefix".into(), json!(prefix));
    }
    if !p.include_additional_headers_in_check.is_empty() {
        let add: Vec<Value> = p
            .include_additional_headers_in_check
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        service.insert(
            "authorization_request".into(),
            json!({"headers_to_add": add}),
        );
    }
    let (up, deny, allow) = (
        &p.headers_to_upstream_on_allow,
        &p.headers_to_downstream_on_deny,
        &p.headers_to_downstream_on_allow,
    );
    if !(up.is_empty() && deny.is_empty() && allow.is_empty()) {
        let mut r = Map::new();
        for (key, list) in [
            ("allowed_upstream_headers", up),
            ("allowed_client_headers", deny),
            ("allowed_client_headers_on_success", allow),
        ] {
            if let Some(h) = headers(list) {
                r.insert(key.into(), h);
            }
        }
        service.insert("authorization_response".into(), Value::Object(r));
    }
    let mut m = Map::new();
    if p.fail_open == Some(true) {
        m.insert("failure_mode_allow".into(), json!(true));
    }
    m.insert("http_service".into(), Value::Object(service));
    insert_body(&mut m, p.include_request_body_in_check.as_ref());
    if let Some(s) = c.status {
        m.insert("status_on_error".into(), s);
    }
    m.insert("transport_api_version".into(), json!("V3"));
    // The deprecated list counts only when the new one is empty.
    let allowed = headers(&p.include_request_headers_in_check)
        .or_else(|| headers(&p.include_headers_in_check));
    if let Some(h) = allowed {
        m.insert("allowed_headers".into(), h);
    }
    ExtAuthz { http: m, tcp: None }
}

fn grpc(p: &ExtAuthzGrpcProvider, c: Common) -> ExtAuthz {
    let grpc_service = json!({
        "envoy_grpc": {"cluster_name": c.cluster, "authority": c.hostname},
        "timeout": c.timeout,
    });
    let fail_open = p.fail_open == Some(true);
    let mut m = Map::new();
    m.insert("grpc_service".into(), grpc_service.clone());
    if fail_open {
        m.insert("failure_mode_allow".into(), json!(true));
    }
    insert_body(&mut m, p.include_request_body_in_check.as_ref());
    if let Some(s) = c.status {
        m.insert("status_on_error".into(), s);
    }
    m.insert("transport_api_version".into(), json!("V3"));
    let mut tcp = Map::new();
    tcp.insert("stat_prefix".into(), json!("tcp."));
    tcp.insert("grpc_service".into(), grpc_service);
    if fail_open {
        tcp.insert("failure_mode_allow".into(), json!(true));
    }
    tcp.insert("transport_api_version".into(), json!("V3"));
    ExtAuthz {
        http: m,
        tcp: Some(tcp),
    }
}

fn insert_body(m: &mut Map<String, Value>, body: Option<&ExtAuthzRequestBody>) {
    let Some(b) = body else { return };
    let mut s = Map::new();
    if let Some(n) = b.max_request_bytes.filter(|n| *n > 0) {
        s.insert("max_request_bytes".into(), json!(n));
    }
    if b.allow_partial_message == Some(true) {
        s.insert("allow_partial_message".into(), json!(true));
    }
    if b.pack_as_bytes == Some(true) {
        s.insert("pack_as_bytes".into(), json!(true));
    }
    m.insert("with_request_body".into(), Value::Object(s));
}

/// Header names as case-insensitive matchers (`*x` suffix, `x*` prefix).
fn headers(list: &[String]) -> Option<Value> {
    if list.is_empty() {
        return None;
    }
    let patterns: Vec<Value> = list
        .iter()
        .map(|h| {
            if let Some(s) = h.strip_prefix('*') {
                string_exact_kind("suffix", s, true)
            } else if let Some(p) = h.strip_suffix('*') {
                string_exact_kind("prefix", p, true)
            } else {
                string_exact_kind("exact", h, true)
            }
        })
        .collect();
    Some(json!({"patterns": patterns}))
}

/// `envoy.type.v3.StatusCode` names.
fn status_name(code: i32) -> Option<&'static str> {
    Some(match code {
        0 => "Empty",
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        207 => "MultiStatus",
        208 => "AlreadyReported",
        226 => "IMUsed",
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        305 => "UseProxy",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        407 => "ProxyAuthenticationRequired",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "LengthRequired",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        414 => "URITooLong",
        415 => "UnsupportedMediaType",
        416 => "RangeNotSatisfiable",
        417 => "ExpectationFailed",
        421 => "MisdirectedRequest",
        422 => "UnprocessableEntity",
        423 => "Locked",
        424 => "FailedDependency",
        426 => "UpgradeRequired",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        505 => "HTTPVersionNotSupported",
        506 => "VariantAlsoNegotiates",
        507 => "InsufficientStorage",
        508 => "LoopDetected",
        510 => "NotExtended",
        511 => "NetworkAuthenticationRequired",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_headers() {
        assert!(valid_name("my-ext").is_ok());
        assert!(valid_name("My").is_err() && valid_name("-a").is_err());
        assert_eq!(
            headers(&["x-*".into(), "*-y".into(), "Z".into()]).unwrap(),
            json!({"patterns": [
                {"prefix": "x-", "ignore_case": true},
                {"suffix": "-y", "ignore_case": true},
                {"exact": "Z", "ignore_case": true},
            ]})
        );
        assert_eq!(status_name(403), Some("Forbidden"));
        assert_eq!(status_name(999), None);
    }
}
