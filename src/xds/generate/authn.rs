//! Request authentication (istiod-gateway-security.md §3.3): the
//! `envoy.filters.http.jwt_authn` filter from the RequestAuthentications
//! that select a proxy, and where it stands among the security filters.

use serde_json::{Map, Value, json};

use super::authz::{Authz, SecurityFilters};
use super::json::{any, duration, object};
use super::{Context, Proxy};
use crate::model::istio::JwtRule;
use crate::registry::ProxyType;

/// A proxy's security filters in istiod's order: CUSTOM authorization,
/// JWT authentication (HTTP only), then the AUDIT/DENY/ALLOW RBAC filters.
pub fn security_filters(ctx: &Context, proxy: &Proxy) -> SecurityFilters {
    let authz = Authz::for_workload(ctx, &proxy.namespace, &proxy.labels);
    let rules = ctx
        .config
        .request_authn
        .for_workload(&proxy.namespace, &proxy.labels);
    SecurityFilters {
        custom_http: authz.custom_http(),
        // Gateways let claims pick routes, so a validated token clears the route cache.
        jwt: jwt_filter(&rules, proxy.kind == ProxyType::Router),
        local_http: authz.local_http(),
        custom_tcp: authz.custom_tcp(),
        local_tcp: authz.local_tcp(),
    }
}

/// One provider `origins-<i>` per rule (sorted by issuer already); a
/// request without a token passes, one with a bad token is refused.
fn jwt_filter(rules: &[&JwtRule], clear_route_cache: bool) -> Option<Value> {
    if rules.is_empty() {
        return None;
    }
    let mut providers = Map::new();
    let mut each = Vec::new();
    let mut any_of = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let name = format!("origins-{i}");
        providers.insert(name.clone(), provider(rule, clear_route_cache));
        each.push(json!({"requires_any": {"requirements": [
            {"provider_name": name},
            {"allow_missing": {}},
        ]}}));
        any_of.push(json!({"provider_name": name}));
    }
    let requires = if each.len() == 1 {
        each.remove(0)
    } else {
        // A token, when present, must be valid for some provider; the outer
        // choice lets providers that share a location each try it.
        any_of.push(json!({"requires_all": {"requirements": each}}));
        json!({"requires_any": {"requirements": any_of}})
    };
    Some(object([
        ("name", json!("envoy.filters.http.jwt_authn")),
        (
            "typed_config",
            any(
                "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                object([
                    ("providers", Value::Object(providers)),
                    (
                        "rules",
                        json!([{"match": {"prefix": "/"}, "requires": requires}]),
                    ),
                    ("bypass_cors_preflight", json!(true)),
                ]),
            ),
        ),
    ]))
}

fn provider(rule: &JwtRule, clear_route_cache: bool) -> Value {
    let mut m = Map::new();
    if let Some(issuer) = rule.issuer.as_deref().filter(|i| !i.is_empty()) {
        m.insert("issuer".into(), json!(issuer));
    }
    if !rule.audiences.is_empty() {
        m.insert("audiences".into(), json!(rule.audiences));
    }
    let uri = rule.jwks_uri.as_ref().or(rule.jwks_uri_snake.as_ref());
    match (&rule.jwks, uri) {
        (Some(jwks), _) => {
            m.insert("local_jwks".into(), json!({"inline_string": jwks}));
        }
        // Offline nothing is fetched: the URI is shown as Envoy would
        // fetch it itself (istiod's remote-JWKS mode), a warning at load
        // says so.
        (None, Some(uri)) => {
            let timeout = rule
                .timeout
                .as_deref()
                .and_then(duration)
                .unwrap_or_else(|| json!("5s"));
            m.insert(
                "remote_jwks".into(),
                json!({
                    "http_uri": {"uri": uri, "cluster": jwks_cluster(uri), "timeout": timeout},
                    "cache_duration": "300s",
                }),
            );
        }
        (None, None) => {}
    }
    if rule.forward_original_token == Some(true) {
        m.insert("forward".into(), json!(true));
    }
    if !rule.from_headers.is_empty() {
        let headers: Vec<Value> = rule
            .from_headers
            .iter()
            .map(|h| match h.prefix.as_deref().filter(|p| !p.is_empty()) {
                Some(p) => json!({"name": h.name, "value_prefix": p}),
                None => json!({"name": h.name}),
            })
            .collect();
        m.insert("from_headers".into(), Value::Array(headers));
    }
    if !rule.from_params.is_empty() {
        m.insert("from_params".into(), json!(rule.from_params));
    }
    if let Some(h) = rule
        .output_payload_to_header
        .as_deref()
        .filter(|h| !h.is_empty())
    {
        m.insert("forward_payload_header".into(), json!(h));
    }
    m.insert("payload_in_metadata".into(), json!("payload"));
    if !rule.from_cookies.is_empty() {
        m.insert("from_cookies".into(), json!(rule.from_cookies));
    }
    if !rule.output_claim_to_headers.is_empty() {
        let claims: Vec<Value> = rule
            .output_claim_to_headers
            .iter()
            .map(|c| json!({"header_name": c.header, "claim_name": c.claim}))
            .collect();
        m.insert("claim_to_headers".into(), Value::Array(claims));
    }
    if clear_route_cache {
        m.insert("clear_route_cache".into(), json!(true));
    }
    // "permission" and "scope" are always space-delimited claims.
    let mut claims: Vec<&str> = vec!["permission", "scope"];
    claims.extend(rule.space_delimited_claims.iter().map(String::as_str));
    claims.sort_unstable();
    claims.dedup();
    m.insert(
        "normalize_payload_in_metadata".into(),
        json!({"space_delimited_claims": claims}),
    );
    Value::Object(m)
}

/// `outbound|PORT||HOST` of a JWKS URI (the port its scheme implies when
/// none is written).
fn jwks_cluster(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("https", uri));
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.to_string()),
        _ => (
            authority,
            if scheme == "http" { "80" } else { "443" }.to_string(),
        ),
    };
    format!("outbound|{port}||{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> JwtRule {
        crate::load::yaml::decode_text(yaml, &mut |_| {}).unwrap()
    }

    #[test]
    fn one_provider_allows_missing_tokens() {
        let r = rule(
            "{issuer: a, jwks: '{\"keys\":[]}', fromHeaders: [{name: x-jwt, prefix: 'Bearer '}]}",
        );
        let f = jwt_filter(&[&r], false).unwrap();
        let cfg = &f["typed_config"];
        assert_eq!(
            cfg["rules"][0]["requires"],
            json!({"requires_any": {"requirements": [{"provider_name": "origins-0"}, {"allow_missing": {}}]}})
        );
        let p = &cfg["providers"]["origins-0"];
        assert_eq!(p["local_jwks"]["inline_string"], "{\"keys\":[]}");
        assert_eq!(p["from_headers"][0]["value_prefix"], "Bearer ");
        assert_eq!(p["payload_in_metadata"], "payload");
        assert!(p.get("clear_route_cache").is_none());
        assert_eq!(cfg["bypass_cors_preflight"], true);
    }

    #[test]
    fn several_providers_and_remote_jwks() {
        let a = rule(
            "{issuer: a, jwksUri: 'https://keys.example.com/jwks', spaceDelimitedClaims: [roles]}",
        );
        let b = rule("{issuer: b, jwksUri: 'http://auth.ns:8080/keys'}");
        let f = jwt_filter(&[&a, &b], true).unwrap();
        let req = &f["typed_config"]["rules"][0]["requires"]["requires_any"]["requirements"];
        assert_eq!(req[0], json!({"provider_name": "origins-0"}));
        assert_eq!(req[1], json!({"provider_name": "origins-1"}));
        assert_eq!(
            req[2]["requires_all"]["requirements"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let p0 = &f["typed_config"]["providers"]["origins-0"];
        assert_eq!(
            p0["remote_jwks"]["http_uri"]["cluster"],
            "outbound|443||keys.example.com"
        );
        assert_eq!(
            p0["normalize_payload_in_metadata"]["space_delimited_claims"],
            json!(["permission", "roles", "scope"])
        );
        assert_eq!(p0["clear_route_cache"], true);
        assert_eq!(
            f["typed_config"]["providers"]["origins-1"]["remote_jwks"]["http_uri"]["cluster"],
            "outbound|8080||auth.ns"
        );
    }
}
