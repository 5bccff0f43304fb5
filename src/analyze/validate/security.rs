//! istiod's rules for AuthorizationPolicy, RequestAuthentication and
//! PeerAuthentication (`ValidateAuthorizationPolicy` and friends).

use super::common::{self, parse_duration};
use super::{Findings, Obj};
use crate::model::istio::{
    AuthorizationPolicySpec, JwtRule, PeerAuthenticationSpec, RequestAuthenticationSpec,
};

/// `security.CheckEmptyValues`.
fn empty_values(key: &str, values: &[String]) -> Result<(), String> {
    if values.iter().any(String::is_empty) {
        return Err(format!("empty value not allowed, found in {key}"));
    }
    Ok(())
}

/// `security.CheckWildcardValues`.
fn wildcard_values(key: &str, values: &[String]) -> Result<(), String> {
    empty_values(key, values)?;
    for v in values {
        let n = v.matches('*').count();
        if n > 1 {
            return Err(format!(
                "at most one wildcard is allowed, found in {key}: {v:?}"
            ));
        }
        if n == 1 && v != "*" && !v.starts_with('*') && !v.ends_with('*') {
            return Err(format!(
                "wildcard is only allowed at the start or end, found in {key}: {v:?}"
            ));
        }
    }
    Ok(())
}

fn trust_domain_values(key: &str, values: &[String]) -> Result<(), String> {
    wildcard_values(key, values)?;
    if let Some(v) = values.iter().find(|v| v.contains('/')) {
        return Err(format!(
            "trust domain must not contain '/', found in {key}: {v:?}"
        ));
    }
    Ok(())
}

/// `security.CheckServiceAccount`.
fn service_accounts(key: &str, values: &[String]) -> Result<(), String> {
    if values.len() > 16 {
        return Err("may not have more than 16 values".into());
    }
    const FORMAT: &str = "expected format 'serviceAccount' or 'namespace/serviceAccount'";
    for v in values {
        if v.is_empty() {
            return Err(format!("empty value not allowed, found in {key}"));
        }
        if v.contains('*') {
            return Err(format!("wildcard not allowed, found in {key}"));
        }
        if v.matches('/').count() > 1 {
            return Err(format!("{FORMAT}, found {v:?} in {key}"));
        }
        if v.len() > 320 {
            return Err(format!(
                "value cannot exceed 320 characters, found {v:?} in {key}"
            ));
        }
        if let Some((ns, sa)) = v.split_once('/') {
            if ns.is_empty() {
                return Err(format!("{FORMAT}, found empty namespace {v:?} in {key}"));
            }
            if sa.is_empty() {
                return Err(format!(
                    "{FORMAT}, found empty serviceAccount {v:?} in {key}"
                ));
            }
        }
    }
    Ok(())
}

/// `security.ValidateIPs`: every bad entry, joined as multierror does.
fn ips(f: &mut Findings, values: &[String]) {
    for v in values {
        if v.contains('/') {
            if !common::is_cidr(v) {
                f.error(format!("bad CIDR range ({v})"));
            }
        } else if !common::is_ip(v) {
            f.error(format!("bad IP address ({v})"));
        }
    }
}

fn ips_result(values: &[String]) -> Result<(), String> {
    let mut f = Findings::default();
    ips(&mut f, values);
    f.errors.into_iter().next().map_or(Ok(()), Err)
}

/// `security.ValidatePorts`.
fn ports(f: &mut Findings, values: &[String]) {
    if let Err(e) = ports_result(values) {
        f.error(e);
    }
}

fn ports_result(values: &[String]) -> Result<(), String> {
    for p in values {
        match p.parse::<u32>() {
            Ok(n) if n <= 65535 => {}
            Ok(_) => return Err(format!("bad port ({p}): <nil>")),
            Err(_) => {
                return Err(format!(
                    "bad port ({p}): strconv.ParseUint: parsing {p:?}: invalid syntax"
                ));
            }
        }
    }
    Ok(())
}

/// `a[b]` keys (headers, claims, experimental filter metadata).
fn map_key(key: &str) -> Result<(), String> {
    match key.find('[') {
        Some(open) if key.ends_with(']') && open > 0 && open < key.len() - 2 => Ok(()),
        _ => Err(format!("bad key ({key}): should have format a[b]")),
    }
}

/// `security.ValidateAttribute`: the `when` keys and their values.
fn attribute(key: &str, values: &[String]) -> Result<(), String> {
    empty_values(key, values)?;
    match key {
        _ if key.starts_with("request.headers") => map_key(key),
        "source.ip" | "remote.ip" | "destination.ip" => ips_result(values),
        "source.serviceAccount" => service_accounts(key, values),
        "source.trustDomain" => wildcard_values(key, values),
        _ if key.starts_with("request.auth.claims") => map_key(key),
        "destination.port" => ports_result(values),
        _ if key.starts_with("experimental.envoy.filters.") => map_key(key),
        "source.namespace"
        | "source.principal"
        | "request.auth.principal"
        | "request.auth.audiences"
        | "request.auth.presenter"
        | "connection.sni" => Ok(()),
        "destination.namespace" => Err(format!(
            "attribute {key} is replaced by the metadata.namespace"
        )),
        _ if key.starts_with("destination.labels") => Err(format!(
            "attribute {key} is replaced by the workload selector"
        )),
        "destination.name" | "destination.user" => Err(format!(
            "deprecated attribute {key}: only supported in v1alpha1"
        )),
        _ => Err(format!("unknown attribute: {key}")),
    }
}

/// Path templates (`{*}`, `{**}`) in operation paths.
fn path_templates(key: &str, paths: &[String]) -> Result<(), String> {
    for path in paths {
        let templated = path.contains("{*}") || path.contains("{**}");
        let trimmed = path.trim_matches('/');
        let mut any_seen = false;
        for glob in trimmed.split('/') {
            match glob {
                "{*}" if !any_seen => continue,
                "{**}" if !any_seen => {
                    any_seen = true;
                    continue;
                }
                "{*}" | "{**}" => {
                    return Err(format!(
                        "invalid or unsupported path {trimmed}, found in {key}. {{**}} is not the last operator"
                    ));
                }
                _ => {}
            }
            if glob.contains(['{', '}']) {
                return Err(format!(
                    "invalid or unsupported path {trimmed}, found in {key}. Contains '{{' or '}}' beyond a supported path template"
                ));
            }
            if templated && !is_valid_literal(glob) {
                return Err(format!(
                    "invalid or unsupported path {trimmed}, found in {key}. Contains segment {glob} with invalid string literal"
                ));
            }
        }
    }
    Ok(())
}

/// RFC 3986 pchar literals (what Envoy accepts around path templates).
fn is_valid_literal(glob: &str) -> bool {
    !glob.is_empty()
        && glob
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()+,;:@=".contains(&b))
}

pub fn authorization_policy(obj: &Obj, spec: &AuthorizationPolicySpec, out: &mut Findings) {
    let mut f = Findings::default();
    common::attachment(
        &mut f,
        spec.selector.as_ref(),
        spec.target_ref.as_ref(),
        &spec.target_refs,
    );
    let action = spec.action.as_deref().unwrap_or("ALLOW");
    if action == "CUSTOM" {
        if spec.rules.is_empty() {
            f.error("CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request");
        } else if spec
            .provider
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .is_none_or(str::is_empty)
        {
            f.error("`provider.name` must not be empty");
        }
        for rule in &spec.rules {
            for src in rule.from.iter().filter_map(|r| r.source.as_ref()) {
                let fields: [(&[String], &str); 10] = [
                    (&src.namespaces, "From.Namespaces"),
                    (&src.not_namespaces, "From.NotNamespaces"),
                    (&src.service_accounts, "From.ServiceAccounts"),
                    (&src.not_service_accounts, "From.NotServiceAccounts"),
                    (&src.trust_domains, "From.TrustDomains"),
                    (&src.not_trust_domains, "From.NotTrustDomains"),
                    (&src.principals, "From.Principals"),
                    (&src.not_principals, "From.NotPrincipals"),
                    (&src.request_principals, "From.RequestPrincipals"),
                    (&src.not_request_principals, "From.NotRequestPrincipals"),
                ];
                for (values, name) in fields {
                    if !values.is_empty() {
                        f.error(format!(
                            "{name} is currently not supported with CUSTOM action"
                        ));
                    }
                }
            }
            for when in &rule.when {
                let k = when.key.as_str();
                if matches!(
                    k,
                    "source.namespace"
                        | "source.serviceAccount"
                        | "source.trustDomain"
                        | "source.principal"
                ) || k.starts_with("request.auth.")
                {
                    f.error(format!("{k} is currently not supported with CUSTOM action"));
                }
            }
        }
    }
    if spec.provider.is_some() && action != "CUSTOM" {
        f.error(format!(
            "`provider` must not be with non CUSTOM action, found {action}"
        ));
    }
    if action == "DENY" && spec.rules.is_empty() {
        f.error("DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request");
    }
    for (i, rule) in spec.rules.iter().enumerate() {
        let (mut tcp_from, mut tcp_to, mut from_exists, mut to_exists) =
            (false, false, false, false);
        for from in &rule.from {
            let Some(src) = &from.source else {
                f.error(format!("`from.source` must not be nil, found at rule {i}"));
                continue;
            };
            from_exists = true;
            let principals_like = src.principals.len()
                + src.not_principals.len()
                + src.namespaces.len()
                + src.not_namespaces.len();
            let sas = src.service_accounts.len() + src.not_service_accounts.len();
            if principals_like > 0 && sas > 0 {
                f.error(format!(
                    "cannot set serviceAccounts with namespaces or principals, found at rule {i}"
                ));
            }
            let all: [&[String]; 14] = [
                &src.principals,
                &src.request_principals,
                &src.namespaces,
                &src.ip_blocks,
                &src.remote_ip_blocks,
                &src.not_principals,
                &src.not_request_principals,
                &src.not_namespaces,
                &src.not_ip_blocks,
                &src.not_remote_ip_blocks,
                &src.service_accounts,
                &src.not_service_accounts,
                &src.trust_domains,
                &src.not_trust_domains,
            ];
            if all.iter().all(|v| v.is_empty()) {
                f.error(format!(
                    "`from.source` must not be empty, found at rule {i}"
                ));
            }
            for list in [
                &src.ip_blocks,
                &src.not_ip_blocks,
                &src.remote_ip_blocks,
                &src.not_remote_ip_blocks,
            ] {
                ips(&mut f, list);
            }
            f.check(empty_values("Principals", &src.principals));
            f.check(empty_values("RequestPrincipals", &src.request_principals));
            f.check(empty_values("Namespaces", &src.namespaces));
            f.check(service_accounts("ServiceAccounts", &src.service_accounts));
            f.check(trust_domain_values("TrustDomains", &src.trust_domains));
            f.check(empty_values("IpBlocks", &src.ip_blocks));
            f.check(empty_values("RemoteIpBlocks", &src.remote_ip_blocks));
            f.check(empty_values("NotPrincipals", &src.not_principals));
            f.check(empty_values(
                "NotRequestPrincipals",
                &src.not_request_principals,
            ));
            f.check(empty_values("NotNamespaces", &src.not_namespaces));
            f.check(service_accounts(
                "NotServiceAccounts",
                &src.not_service_accounts,
            ));
            f.check(trust_domain_values(
                "NotTrustDomains",
                &src.not_trust_domains,
            ));
            f.check(empty_values("NotIpBlocks", &src.not_ip_blocks));
            f.check(empty_values("NotRemoteIpBlocks", &src.not_remote_ip_blocks));
            // Only source fields an L4 filter can match keep a DENY rule
            // meaningful on TCP ports.
            tcp_from |= [
                &src.principals,
                &src.not_principals,
                &src.ip_blocks,
                &src.not_ip_blocks,
                &src.namespaces,
                &src.not_namespaces,
                &src.remote_ip_blocks,
                &src.not_remote_ip_blocks,
                &src.service_accounts,
                &src.not_service_accounts,
            ]
            .iter()
            .any(|v| !v.is_empty());
        }
        for to in &rule.to {
            let Some(op) = &to.operation else {
                f.error(format!("`to.operation` must not be nil, found at rule {i}"));
                continue;
            };
            to_exists = true;
            let all: [&[String]; 8] = [
                &op.ports,
                &op.methods,
                &op.paths,
                &op.hosts,
                &op.not_ports,
                &op.not_methods,
                &op.not_paths,
                &op.not_hosts,
            ];
            if all.iter().all(|v| v.is_empty()) {
                f.error(format!(
                    "`to.operation` must not be empty, found at rule {i}"
                ));
            }
            ports(&mut f, &op.ports);
            ports(&mut f, &op.not_ports);
            for (key, values) in [
                ("Ports", &op.ports),
                ("Methods", &op.methods),
                ("Paths", &op.paths),
                ("Hosts", &op.hosts),
                ("NotPorts", &op.not_ports),
                ("NotMethods", &op.not_methods),
                ("NotPaths", &op.not_paths),
                ("NotHosts", &op.not_hosts),
            ] {
                f.check(empty_values(key, values));
            }
            f.check(path_templates("Paths", &op.paths));
            f.check(path_templates("NotPaths", &op.not_paths));
            tcp_to |= !op.ports.is_empty() || !op.not_ports.is_empty();
        }
        for cond in &rule.when {
            let key = cond.key.as_str();
            if key.is_empty() {
                f.error("`key` must not be empty");
            } else if cond.values.is_empty() && cond.not_values.is_empty() {
                f.error(format!(
                    "at least one of `values` or `notValues` must be set for key {key}"
                ));
            } else {
                if let Err(e) = attribute(key, &cond.values) {
                    f.error(format!("invalid `value` for `key` {key}: {e}"));
                }
                if let Err(e) = attribute(key, &cond.not_values) {
                    f.error(format!("invalid `notValue` for `key` {key}: {e}"));
                }
            }
        }
        if action == "DENY" && ((from_exists && !to_exists && !tcp_from) || (to_exists && !tcp_to))
        {
            f.warn("configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port");
        }
    }
    let prefix = format!("invalid policy {}.{}:", obj.name, obj.namespace);
    out.errors
        .extend(f.errors.into_iter().map(|e| format!("{prefix} {e}")));
    out.warnings.append(&mut f.warnings);
}

pub fn request_authentication(spec: &RequestAuthenticationSpec, f: &mut Findings) {
    common::attachment(
        f,
        spec.selector.as_ref(),
        spec.target_ref.as_ref(),
        &spec.target_refs,
    );
    for rule in &spec.jwt_rules {
        jwt_rule(rule, f);
    }
}

fn jwt_rule(rule: &JwtRule, f: &mut Findings) {
    if rule.audiences.iter().any(String::is_empty) {
        f.error("audience must be non-empty string");
    }
    let jwks_uri = rule
        .jwks_uri
        .as_deref()
        .or(rule.jwks_uri_snake.as_deref())
        .unwrap_or("");
    if rule.issuer.as_deref().unwrap_or("").is_empty() && jwks_uri.is_empty() {
        f.error("issuer or jwksUri must be non-empty string");
    }
    if !jwks_uri.is_empty() {
        f.check(jwks_uri_scheme(jwks_uri));
    }
    for h in &rule.from_headers {
        if h.name.is_empty() {
            f.error("location header name must be non-empty string");
        }
    }
    if rule.from_params.iter().any(String::is_empty) {
        f.error("location query must be non-empty string");
    }
    if rule.from_cookies.iter().any(String::is_empty) {
        f.error("cookie name must be non-empty string");
    }
    for c in &rule.output_claim_to_headers {
        if c.claim.is_empty() || c.header.is_empty() {
            f.error("outputClaimToHeaders header and claim value must be non-empty string");
            continue;
        }
        if !is_strict_header_name(&c.header) {
            f.error(format!(
                "header name {} is not a valid header name",
                c.header
            ));
        }
    }
    if let Some(t) = &rule.timeout {
        match parse_duration(t) {
            Some(ns) => common::duration(f, ns),
            None => f.error(format!("bad Duration: time: invalid duration {t:?}")),
        }
    }
}

/// `ValidateStrictHTTPHeaderName`.
fn is_strict_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The scheme part of `security.ParseJwksURI` (the rest is a URL parse).
fn jwks_uri_scheme(uri: &str) -> Result<(), String> {
    let scheme = match uri.split_once(':') {
        Some((s, _))
            if !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            s.to_ascii_lowercase()
        }
        _ => String::new(),
    };
    if scheme == "http" || scheme == "https" {
        Ok(())
    } else {
        Err(format!("URI scheme {scheme:?} is not supported"))
    }
}

/// `empty_port_level`: `portLevelMtls: {}` written out, which istiod tells
/// from an absent map.
pub fn peer_authentication(
    spec: &PeerAuthenticationSpec,
    empty_port_level: bool,
    f: &mut Findings,
) {
    let empty_selector = spec
        .selector
        .as_ref()
        .is_none_or(|s| s.match_labels.is_empty());
    if empty_selector && !spec.port_level_mtls.is_empty() {
        f.error("mesh/namespace peer authentication cannot have port level mTLS");
    }
    if empty_port_level {
        f.error("port level mTLS, if defined, must have at least one element");
    }
    for port in spec.port_level_mtls.keys() {
        if port.0 == 0 || port.0 > 65535 {
            f.error("port must be in range 1..65535");
        }
    }
    common::match_labels_selector(f, spec.selector.as_ref());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes() {
        assert!(attribute("request.headers[x]", &["a".into()]).is_ok());
        assert_eq!(
            attribute("request.headers", &["a".into()]),
            Err("bad key (request.headers): should have format a[b]".into())
        );
        assert_eq!(
            attribute("foo", &["a".into()]),
            Err("unknown attribute: foo".into())
        );
        assert_eq!(
            attribute("destination.port", &["99999".into()]),
            Err("bad port (99999): <nil>".into())
        );
    }

    #[test]
    fn path_template_rules() {
        assert!(path_templates("Paths", &["/{**}/path/template".into()]).is_ok());
        assert!(path_templates("Paths", &["/{**}/{*}".into()]).is_err());
        assert!(path_templates("Paths", &["/a{b".into()]).is_err());
    }

    #[test]
    fn jwks_uri_schemes() {
        assert!(jwks_uri_scheme("https://example.com/jwks").is_ok());
        assert!(jwks_uri_scheme("hTPp\\\\blah").is_err());
    }
}
