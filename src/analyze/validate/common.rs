//! Checks several kinds share: ports, host names, addresses, selectors,
//! policy target references, durations. Messages are istiod's.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::Findings;
use crate::model::istio::{MatchLabelsSelector, PolicyTargetReference};

/// `agent.ValidatePort`.
pub fn port(f: &mut Findings, port: i64) {
    if !(1..=65535).contains(&port) {
        f.error(format!("port number {port} must be in the range 1..65535"));
    }
}

/// A DNS-1123 label: lowercase alphanumerics and '-', at most 63 characters,
/// starting and ending with an alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A DNS-1123 label, or `*`, or `*` followed by a label (`*foo`).
fn is_wildcard_dns1123_label(s: &str) -> bool {
    match s.strip_prefix('*') {
        Some("") => true,
        Some(rest) => is_dns1123_label(&format!("a{rest}")),
        None => is_dns1123_label(s),
    }
}

fn dns1123_preconditions(name: &str) -> Result<(), String> {
    if name.len() > 255 {
        return Err(format!("domain name {name:?} too long (max 255)"));
    }
    if name.is_empty() {
        return Err("empty domain name not allowed".into());
    }
    Ok(())
}

fn dns1123_labels(domain: &str) -> Result<(), String> {
    let parts: Vec<&str> = domain.split('.').collect();
    let tld = parts[parts.len() - 1];
    if tld.parse::<i64>().is_ok() {
        return Err(format!(
            "domain name {domain:?} invalid (top level domain {tld:?} cannot be all-numeric)"
        ));
    }
    for (i, label) in parts.iter().enumerate() {
        // A trailing dot (`istio.io.`) is allowed.
        if i == parts.len() - 1 && label.is_empty() {
            return Ok(());
        }
        if !is_dns1123_label(label) {
            return Err(format!(
                "domain name {domain:?} invalid (label {label:?} invalid)"
            ));
        }
    }
    Ok(())
}

/// `agent.ValidateFQDN`.
pub fn fqdn(name: &str) -> Result<(), String> {
    dns1123_preconditions(name)?;
    dns1123_labels(name)
}

/// `agent.ValidateWildcardDomain`: a wildcard only in the first label.
pub fn wildcard_domain(domain: &str) -> Result<(), String> {
    dns1123_preconditions(domain)?;
    let (first, rest) = match domain.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (domain, None),
    };
    if !is_wildcard_dns1123_label(first) {
        return Err(format!(
            "domain name {domain:?} invalid (label {first:?} invalid)"
        ));
    }
    match rest {
        Some(rest) => dns1123_labels(rest),
        None => Ok(()),
    }
}

/// `agent.ValidatePartialWildCard`.
pub fn partial_wildcard(host: &str) -> Result<(), String> {
    if host.contains('*') && host.len() != 1 && !host.starts_with("*.") {
        return Err(format!("partial wildcard {host:?} not allowed"));
    }
    Ok(())
}

pub fn is_ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

/// `a.b.c.d/len` or `x::/len` with a prefix length the family allows.
pub fn is_cidr(s: &str) -> bool {
    let Some((addr, len)) = s.split_once('/') else {
        return false;
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    !len.is_empty()
        && len.bytes().all(|b| b.is_ascii_digit())
        && len.parse::<u32>().is_ok_and(|n| n <= max)
}

/// `agent.ValidateIPSubnet`: an address or a CIDR block.
pub fn ip_subnet(s: &str) -> Result<(), String> {
    if s.matches('/').count() == 1 {
        if is_cidr(s) {
            Ok(())
        } else {
            Err(format!("{s} is not a valid CIDR block"))
        }
    } else if is_ip(s) {
        Ok(())
    } else {
        Err(format!("{s} is not a valid IP"))
    }
}

/// The labels of a workload selector: no empty keys, no wildcards.
pub fn selector_labels(f: &mut Findings, labels: &BTreeMap<String, String>) {
    for (k, v) in labels {
        if k.is_empty() {
            f.error(format!(
                "empty key is not supported in selector: {:?}",
                format!("{k}={v}")
            ));
        }
        if k.contains('*') || v.contains('*') {
            f.error(format!(
                "wildcard is not supported in selector: {:?}",
                format!("{k}={v}")
            ));
        }
    }
}

/// Every '%' of a URL starts a two-hex-digit escape.
pub fn escapes_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, c)| {
        *c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// `validateWorkloadSelector` (the `matchLabels` selector of security,
/// telemetry, extensions, ProxyConfig and DestinationRule).
pub fn match_labels_selector(f: &mut Findings, selector: Option<&MatchLabelsSelector>) {
    let Some(selector) = selector else { return };
    selector_labels(f, &selector.match_labels);
    if selector.match_labels.is_empty() {
        f.warn("workload selector specified without labels");
    }
}

/// How a policy picks its workloads: `selector`, `targetRef` or
/// `targetRefs`, checked as istiod checks all three.
pub fn attachment(
    f: &mut Findings,
    selector: Option<&MatchLabelsSelector>,
    target_ref: Option<&PolicyTargetReference>,
    refs: &[PolicyTargetReference],
) {
    one_of_selector_type(f, selector.is_some(), target_ref.is_some(), refs);
    match_labels_selector(f, selector);
    target_refs(f, target_ref.into_iter().chain(refs));
}

/// `validateOneOfSelectorType`.
fn one_of_selector_type(
    f: &mut Findings,
    selector: bool,
    target_ref: bool,
    target_refs: &[PolicyTargetReference],
) {
    let set =
        usize::from(selector) + usize::from(target_ref) + usize::from(!target_refs.is_empty());
    if set > 1 {
        f.error("only one of targetRefs or workloadSelector can be set");
    }
}

/// Group and kind of what a policy may point at (istiod prints the GVKs).
const ALLOWED_TARGET_REFS: &[(&str, &str)] = &[
    ("core", "Service"),
    ("networking.istio.io", "ServiceEntry"),
    ("gateway.networking.k8s.io", "Gateway"),
    ("gateway.networking.k8s.io", "GatewayClass"),
];

const ALLOWED_TARGET_REFS_TEXT: &str = "[core/v1/Service networking.istio.io/v1/ServiceEntry \
gateway.networking.k8s.io/v1/Gateway gateway.networking.k8s.io/v1/GatewayClass]";

/// `validatePolicyTargetReference(s)`.
fn target_refs<'a>(f: &mut Findings, refs: impl IntoIterator<Item = &'a PolicyTargetReference>) {
    for r in refs {
        if r.name.is_empty() {
            f.error("targetRef name must be set");
        }
        if r.namespace.as_deref().is_some_and(|ns| !ns.is_empty()) {
            f.error(
                "targetRef namespace must not be set; cross namespace referencing is not supported",
            );
        }
        let group = r.group.as_deref().unwrap_or("");
        let kind = r.kind.as_deref().unwrap_or("");
        let canonical = if group.is_empty() { "core" } else { group };
        if !ALLOWED_TARGET_REFS.contains(&(canonical, kind)) {
            f.error(format!(
                "targetRef must be to one of {ALLOWED_TARGET_REFS_TEXT} but was {group}/{kind}"
            ));
        }
    }
}

/// A Go `time.ParseDuration` string ("1h2m3.5s", "300ms"), in nanoseconds.
pub fn parse_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&n| n > 0)?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[u..];
        total += value * unit;
    }
    let ns = total.round() as i128;
    Some(if neg { -ns } else { ns })
}

/// `agent.ValidateDuration` on a duration string that parsed.
pub fn duration(f: &mut Findings, ns: i128) {
    if ns < 1_000_000 {
        f.error("duration must be greater than 1ms");
    } else if ns % 1_000_000 != 0 {
        f.error("only durations to ms precision are supported");
    }
}

/// A duration field as istiod decodes it: a string that is not a duration
/// fails the decode before any rule runs.
pub fn duration_field(f: &mut Findings, value: Option<&String>) {
    if let Some(v) = value {
        match parse_duration(v) {
            Some(ns) => duration(f, ns),
            None => f.error(format!("bad Duration: time: invalid duration {v:?}")),
        }
    }
}

/// Label keys and values as Kubernetes accepts them
/// (`labels.Instance.Validate`).
pub fn labels(f: &mut Findings, labels: &BTreeMap<String, String>) {
    for (k, v) in labels {
        if !is_label_key(k) {
            f.error(format!("invalid tag key: {k:?}"));
        }
        if !is_label_value(v) {
            f.error(format!("invalid tag value: {v:?}"));
        }
    }
}

fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_label_key(k: &str) -> bool {
    match k.split_once('/') {
        Some((prefix, name)) => prefix.len() <= 253 && fqdn(prefix).is_ok() && is_label_name(name),
        None => is_label_name(k),
    }
}

fn is_label_value(v: &str) -> bool {
    v.is_empty() || is_label_name(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_go_does() {
        assert_eq!(parse_duration("300s"), Some(300_000_000_000));
        assert_eq!(parse_duration("1h2m"), Some(3_720_000_000_000));
        assert_eq!(parse_duration("1.5ms"), Some(1_500_000));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("apple"), None);
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn domains() {
        assert!(wildcard_domain("*.example.com").is_ok());
        assert!(wildcard_domain("*x").is_ok());
        assert_eq!(
            wildcard_domain("foo_bar.com"),
            Err("domain name \"foo_bar.com\" invalid (label \"foo_bar\" invalid)".into())
        );
        assert!(fqdn("example.com").is_ok());
        assert!(fqdn("1.2.3.4").is_err());
        assert_eq!(
            partial_wildcard("foo*.com"),
            Err("partial wildcard \"foo*.com\" not allowed".into())
        );
        assert!(partial_wildcard("*.com").is_ok());
    }

    #[test]
    fn subnets() {
        assert!(ip_subnet("1.2.3.4/16").is_ok());
        assert!(ip_subnet("2001:db8::/32").is_ok());
        assert_eq!(
            ip_subnet("1.2.3.4/99"),
            Err("1.2.3.4/99 is not a valid CIDR block".into())
        );
        assert_eq!(ip_subnet("foo"), Err("foo is not a valid IP".into()));
    }
}
