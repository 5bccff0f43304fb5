//! istiod's rules for networking.istio.io kinds: Gateway, VirtualService,
//! DestinationRule, ServiceEntry, WorkloadEntry/Group, Sidecar, EnvoyFilter,
//! ProxyConfig (`pkg/config/validation/validation.go`, `virtualservice.go`,
//! `envoyfilter/envoyfilter.go`).

use std::collections::BTreeSet;

use super::common::{self, is_dns1123_label, is_ip};
use super::{Findings, Obj};
use crate::model::istio::{
    ClientTlsSettings, ConnectionPoolSettings, Destination, DestinationRuleSpec, EnvoyFilterSpec,
    GatewaySpec, HttpRoute, LoadBalancerSettings, OutlierDetection, Port, ProxyConfigSpec,
    ServerTlsSettings, ServiceEntrySpec, SidecarSpec, TrafficPolicy, VirtualServiceSpec,
    WorkloadEntrySpec, WorkloadGroupSpec, WorkloadSelector,
};

const UNIX_PREFIX: &str = "unix://";

/// Istio's protocol names (`protocol.Parse`), upper-cased; None when unknown.
fn protocol(name: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "TCP",
        "UDP",
        "GRPC",
        "GRPC-WEB",
        "HTTP",
        "HTTP_PROXY",
        "HTTP2",
        "HTTPS",
        "TLS",
        "MONGO",
        "REDIS",
        "MYSQL",
    ];
    let upper = name.to_ascii_uppercase();
    KNOWN.iter().copied().find(|p| *p == upper)
}

fn is_http(p: Option<&str>) -> bool {
    matches!(
        p,
        Some("HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB" | "HTTP_PROXY")
    )
}

fn is_tls(p: Option<&str>) -> bool {
    matches!(p, Some("HTTPS" | "TLS"))
}

/// `ValidateUnixAddress`.
fn unix_address(f: &mut Findings, addr: &str) {
    if addr.is_empty() {
        f.error("unix address must not be empty");
    } else if !addr.starts_with('@') && (!addr.starts_with('/') || addr.ends_with('/')) {
        f.error(format!("{addr} is not an absolute path to a file"));
    }
}

/// `validateExportTo`.
fn export_to(
    f: &mut Findings,
    namespace: &str,
    export_to: &[String],
    service_entry: bool,
    dr_selector: bool,
) {
    if export_to.is_empty() {
        return;
    }
    let mut seen = BTreeSet::new();
    for e in export_to {
        let key = if e == "." { namespace } else { e.as_str() };
        if seen.contains(key) {
            if key != e {
                f.error(format!(
                    "duplicate entries in exportTo: . and current namespace {namespace}"
                ));
            } else {
                f.error(format!("duplicate entries in exportTo for entry {e}"));
            }
        } else if (service_entry && e == "~") || key == "*" || is_dns1123_label(key) {
            seen.insert(key);
        } else if e == "~" {
            f.error("exportTo ~ (none) is not allowed for Istio configuration objects");
        } else {
            f.error(format!(
                "only .(current namespace) or *(all namespaces) or ~(none) or a valid namespace name is allowed as exportTo, found {key}"
            ));
        }
    }
    if dr_selector && !seen.is_empty() {
        if seen.contains(namespace) {
            if seen.len() > 1 {
                f.error("destination rule with workload selector cannot have multiple entries in exportTo");
            }
        } else {
            f.error("destination rule with workload selector cannot have exportTo beyond current namespace");
        }
    }
    if seen.contains("*") && export_to.len() > 1 {
        f.error("cannot have both public (*) and non-public exportTo values for a resource");
    }
    if seen.contains("~") && export_to.len() > 1 {
        f.error("cannot export service entry to no one (~) and someone");
    }
}

/// `ValidateAlphaWorkloadSelector`, the `labels` selector of Sidecar,
/// ServiceEntry and EnvoyFilter: false when it is bad, which ends istiod's
/// validation of the object; one without labels is a warning naming `what`.
fn alpha_selector(f: &mut Findings, selector: Option<&WorkloadSelector>, what: &str) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let before = f.errors.len();
    common::selector_labels(f, &selector.labels);
    if f.errors.len() > before {
        return false;
    }
    if selector.labels.is_empty() {
        f.warn(format!(
            "{what}: workload selector specified without labels, will be applied to all services in namespace"
        ));
    }
    true
}

// ---------------------------------------------------------------------------
// Gateway

pub fn gateway(obj: &Obj, spec: &GatewaySpec, f: &mut Findings) {
    if !is_dns1123_label(obj.name) {
        f.error(format!("invalid gateway name: {:?}", obj.name));
    }
    if spec.servers.is_empty() {
        f.error("gateway must have at least one server");
    }
    for server in &spec.servers {
        if server.hosts.is_empty() {
            f.error("server config must contain at least one host");
        }
        for host in &server.hosts {
            namespace_slash_host(f, host, true);
        }
        let bind = server.bind.as_deref().unwrap_or("");
        let port_ok = server_port(f, server.port.as_ref(), bind);
        if let Some(after) = bind.strip_prefix(UNIX_PREFIX) {
            unix_address(f, after);
            if let Some(p) = &server.port
                && p.number.unwrap_or(0) != 0
            {
                f.error(format!(
                    "port number must be 0 for unix domain socket: {}",
                    port_text(p)
                ));
            }
        } else if !bind.is_empty() && !is_ip(bind) {
            f.error(format!("{bind} is not a valid IP"));
        }
        if let Some(tls) = &server.tls {
            tls_options(f, tls);
        }
        if port_ok && let Some(port) = &server.port {
            let p = protocol(port.protocol.as_deref().unwrap_or(""));
            if is_tls(p) && server.tls.is_none() {
                f.error("server must have TLS settings for HTTPS/TLS protocols");
            } else if !is_tls(p)
                && let Some(tls) = &server.tls
            {
                if is_http(p) {
                    let passthrough = tls.https_redirect == Some(true)
                        || tls.mode.as_deref() == Some("PASSTHROUGH");
                    let certs = [
                        &tls.ca_certificates,
                        &tls.private_key,
                        &tls.server_certificate,
                    ]
                    .iter()
                    .any(|c| c.as_deref().is_some_and(|s| !s.is_empty()));
                    if !passthrough || certs {
                        f.error("server cannot have TLS settings for plain text HTTP ports");
                    }
                } else {
                    f.error("server cannot have TLS settings for non HTTPS/TLS ports");
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    for server in &spec.servers {
        let Some(port) = &server.port else { continue };
        let name = port.name.clone().unwrap_or_default();
        if !names.insert(name.clone()) {
            f.error(format!(
                "port names in servers must be unique: duplicate name {name}"
            ));
        }
        if !is_http(protocol(port.protocol.as_deref().unwrap_or("")))
            && server.tls.as_ref().and_then(|t| t.https_redirect) == Some(true)
        {
            f.warn("tls.httpsRedirect should only be used with http servers");
        }
    }
}

/// A port as Go's `%v` prints the proto.
fn port_text(p: &Port) -> String {
    let mut parts = Vec::new();
    if let Some(n) = p.number.filter(|n| *n != 0) {
        parts.push(format!("number:{n}"));
    }
    if let Some(proto) = p.protocol.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("protocol:{proto:?}"));
    }
    if let Some(name) = p.name.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("name:{name:?}"));
    }
    parts.join(" ")
}

/// `validateServerPort`; true when the port raised no error.
fn server_port(f: &mut Findings, port: Option<&Port>, bind: &str) -> bool {
    let Some(port) = port else {
        f.error("port is required");
        return false;
    };
    let before = f.errors.len();
    let proto = port.protocol.as_deref().unwrap_or("");
    if protocol(proto).is_none() {
        f.error(format!(
            "invalid protocol {proto:?}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"
        ));
    }
    let number = port.number.unwrap_or(0);
    if number > 0 || !bind.starts_with(UNIX_PREFIX) {
        common::port(f, i64::from(number));
    }
    if port.target_port.unwrap_or(0) > 0 {
        f.error("targetPort has no impact on Gateways");
    }
    if port.name.as_deref().unwrap_or("").is_empty() {
        f.error(format!("port name must be set: {}", port_text(port)));
    }
    f.errors.len() == before
}

/// `validateTLSOptions` of a server.
fn tls_options(f: &mut Findings, tls: &ServerTlsSettings) {
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    let mode = tls.mode.as_deref().unwrap_or("PASSTHROUGH");
    if matches!(
        tls.min_protocol_version.as_deref(),
        Some("TLSV1_0" | "TLSV1_1")
    ) && tls.cipher_suites.is_empty()
    {
        f.warn("TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.");
    }
    if mode == "ISTIO_MUTUAL" {
        let checks = [
            (set(&tls.server_certificate), "server certificate"),
            (set(&tls.private_key), "private key"),
            (set(&tls.ca_certificates), "CA bundle"),
            (!tls.tls_certificates.is_empty(), "tlsCertificates"),
            (set(&tls.credential_name), "credentialName"),
            (!tls.credential_names.is_empty(), "credentialNames"),
        ];
        for (present, what) in checks {
            if present {
                f.error(format!("ISTIO_MUTUAL TLS cannot have associated {what}"));
            }
        }
        return;
    }
    let any_cert = set(&tls.ca_crl)
        || set(&tls.server_certificate)
        || set(&tls.private_key)
        || set(&tls.ca_certificates)
        || !tls.tls_certificates.is_empty()
        || set(&tls.credential_name)
        || !tls.credential_names.is_empty();
    if matches!(mode, "PASSTHROUGH" | "AUTO_PASSTHROUGH") && any_cert {
        f.warn(format!(
            "{mode} mode does not use certificates, they will be ignored"
        ));
    }
    let sources = usize::from(set(&tls.server_certificate) && set(&tls.private_key))
        + usize::from(set(&tls.credential_name))
        + usize::from(!tls.credential_names.is_empty())
        + usize::from(!tls.tls_certificates.is_empty());
    if sources > 1 {
        f.error("only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified");
    }
    let terminating = matches!(mode, "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL");
    if terminating && (set(&tls.credential_name) || !tls.credential_names.is_empty()) {
        return;
    }
    if terminating {
        let prefix = if mode == "SIMPLE" {
            "SIMPLE TLS"
        } else {
            "MUTUAL TLS"
        };
        if prefix == "MUTUAL TLS" && !set(&tls.ca_certificates) {
            f.error(format!("{prefix} requires a client CA bundle"));
        }
        if tls.tls_certificates.len() > 2 {
            f.warn(format!("{prefix} can support up to 2 server certificates"));
        }
        let certs: Vec<(bool, bool)> = if tls.tls_certificates.is_empty() {
            vec![(set(&tls.server_certificate), set(&tls.private_key))]
        } else {
            tls.tls_certificates
                .iter()
                .map(|c| (set(&c.server_certificate), set(&c.private_key)))
                .collect()
        };
        for (cert, key) in certs {
            if !cert {
                f.error(format!("{prefix} requires a server certificate"));
            }
            if !key {
                f.error(format!("{prefix} requires a private key"));
            }
        }
    }
    if set(&tls.ca_crl) {
        if set(&tls.credential_name) {
            f.error("CRL is not supported with credentialName. CRL has to be specified in the credential");
        }
        if mode == "SIMPLE" {
            f.error("CRL is not supported with SIMPLE TLS");
        }
    }
}

/// `ValidateNamespaceSlashWildcardHostname`.
fn namespace_slash_host(f: &mut Findings, host: &str, is_gateway: bool) {
    let Some((ns, name)) = host.split_once('/') else {
        if is_gateway {
            host_part(f, host, true);
        } else {
            f.error("host must be of form namespace/dnsName");
        }
        return;
    };
    if ns.is_empty() || name.is_empty() {
        f.error("config namespace and dnsName in host entry cannot be empty");
    }
    if is_gateway {
        if ns != "*" && ns != "." && !is_dns1123_label(ns) {
            f.error(format!("invalid namespace value {ns:?} in gateway"));
        }
    } else {
        let bare = ns.strip_prefix('~').unwrap_or(ns);
        if !bare.is_empty() && bare != "*" && bare != "." && !is_dns1123_label(bare) {
            f.error(format!("invalid namespace value {ns:?} in sidecar"));
        }
    }
    host_part(f, name, is_gateway);
}

/// `validateSidecarOrGatewayHostnamePart`.
fn host_part(f: &mut Findings, host: &str, is_gateway: bool) {
    if host != "*" && !host.contains('.') {
        f.error("short names (non FQDN) are not allowed");
    }
    if let Err(e) = common::wildcard_domain(host) {
        // Gateways also take an IP address as a host.
        if !is_gateway || !is_ip(host) {
            f.error(e);
        }
    }
    f.check(common::partial_wildcard(host));
}

// ---------------------------------------------------------------------------
// VirtualService

pub fn virtual_service(obj: &Obj, spec: &VirtualServiceSpec, f: &mut Findings) {
    if spec.hosts.is_empty() {
        // A delegate: only http routes mean anything.
        if !spec.gateways.is_empty() {
            f.error("delegate virtual service must have no gateways specified");
        }
        if !spec.tls.is_empty() {
            f.error("delegate virtual service must have no tls route specified");
        }
        if !spec.tcp.is_empty() {
            f.error("delegate virtual service must have no tcp route specified");
        }
    }
    let (applies_to_mesh, applies_to_gateway) = if spec.gateways.is_empty() {
        (true, false)
    } else {
        gateway_names(f, &spec.gateways);
        let gw = spec.gateways.iter().any(|g| g != "mesh");
        (!gw, gw)
    };
    if !applies_to_gateway {
        for m in spec.http.iter().flat_map(|h| &h.r#match) {
            for key in m.headers.keys().chain(m.without_headers.keys()) {
                if key.starts_with("@request.auth.claims") {
                    f.error(format!(
                        "JWT claim based routing (key: {key}) is only supported for gateway, found no gateways: [{}]",
                        spec.gateways.join(" ")
                    ));
                }
            }
        }
    }
    let mut all_valid = true;
    for host in &spec.hosts {
        match common::wildcard_domain(host) {
            Err(e) => {
                if !is_ip(host) {
                    f.error(e);
                    all_valid = false;
                }
            }
            Ok(()) if applies_to_mesh && host == "*" => {
                f.error(
                    "wildcard host * is not allowed for virtual services bound to the mesh gateway",
                );
                all_valid = false;
            }
            Ok(()) => {}
        }
    }
    if all_valid {
        for (i, a) in spec.hosts.iter().enumerate() {
            for b in &spec.hosts[i + 1..] {
                if hosts_match(a, b) {
                    f.error(format!("duplicate hosts in virtual service: {a} & {b}"));
                }
            }
        }
    }
    if spec.http.is_empty() && spec.tcp.is_empty() && spec.tls.is_empty() {
        f.error("http, tcp or tls must be provided in virtual service");
    }
    for route in &spec.http {
        http_route(f, route, spec.hosts.is_empty());
    }
    for tls in &spec.tls {
        if tls.r#match.is_empty() {
            f.error("TLS route must have at least one match condition");
        }
        for m in &tls.r#match {
            if m.sni_hosts.is_empty() {
                f.error("TLS match must have at least one SNI host");
            }
            for sni in &m.sni_hosts {
                sni_host(f, sni, &spec.hosts);
            }
            l4_match(f, &m.destination_subnets, m.port, &m.gateways);
        }
        if tls.route.is_empty() {
            f.error("TLS route is required");
        }
        route_destinations(f, tls.route.iter().map(|d| (&d.destination, d.weight)));
    }
    for tcp in &spec.tcp {
        for m in &tcp.r#match {
            l4_match(f, &m.destination_subnets, m.port, &m.gateways);
        }
        if tcp.route.is_empty() {
            f.error("TCP route is required");
        }
        route_destinations(f, tcp.route.iter().map(|d| (&d.destination, d.weight)));
    }
    export_to(f, obj.namespace, &spec.export_to, false, false);
}

/// What TLS and TCP matches share: subnets, port, gateways.
fn l4_match(f: &mut Findings, subnets: &[String], port: Option<u32>, gateways: &[String]) {
    for subnet in subnets {
        f.check(common::ip_subnet(subnet));
    }
    if let Some(p) = port.filter(|p| *p != 0) {
        common::port(f, i64::from(p));
    }
    gateway_names(f, gateways);
}

/// Whether two hosts overlap (`host.Name.Matches`): equal, or one wildcard
/// covers the other.
fn hosts_match(a: &str, b: &str) -> bool {
    let covers = |w: &str, h: &str| match w.strip_prefix('*') {
        Some(suffix) => h.ends_with(suffix) || h == w,
        None => false,
    };
    a == b || covers(a, b) || covers(b, a)
}

/// `validateSniHost`, for sidecars and gateways alike.
fn sni_host(f: &mut Findings, sni: &str, hosts: &[String]) {
    if let Err(e) = common::wildcard_domain(sni) {
        if is_ip(sni) {
            f.warn(format!(
                "using an IP address ({sni:?}) goes against SNI spec and most clients do not support this"
            ));
        } else {
            f.error(e);
        }
        return;
    }
    let subset = |h: &str| match (sni.strip_prefix('*'), h.strip_prefix('*')) {
        (_, Some(suffix)) => {
            sni.ends_with(suffix)
                && (sni.starts_with('*') == h.starts_with('*') || !sni.starts_with('*'))
        }
        (None, None) => sni == h,
        (Some(_), None) => false,
    };
    if !hosts.iter().any(|h| subset(h)) {
        f.error(format!(
            "SNI host {sni:?} is not a compatible subset of any of the virtual service hosts: [{}]",
            hosts.join(", ")
        ));
    }
}

/// `validateGatewayNames`.
fn gateway_names(f: &mut Findings, names: &[String]) {
    for name in names {
        let Some((ns, gw)) = name.split_once('/') else {
            if name.contains('.') {
                let parts: Vec<&str> = name.split('.').collect();
                f.warn(format!(
                    "using legacy gatewayName format {name:?}; prefer the <namespace>/<name> format: {:?}",
                    format!("{}/{}", parts[1], parts[0])
                ));
            }
            f.check(common::fqdn(name));
            return;
        };
        if ns.is_empty() || gw.is_empty() {
            f.error("config namespace and gateway name cannot be empty");
        }
        if !is_dns1123_label(ns) {
            f.error(format!("invalid value for namespace: {ns:?}"));
        }
        if !is_dns1123_label(gw) {
            f.error(format!("invalid value for gateway name: {gw:?}"));
        }
    }
}

fn http_route(f: &mut Findings, http: &HttpRoute, delegate: bool) {
    let name = http.name.as_deref().unwrap_or("");
    if http.delegate.is_some() && !delegate {
        if http.redirect.is_some() {
            f.error(format!("root HTTP route {name} must not specify redirect"));
        }
        if !http.route.is_empty() {
            f.error(format!("root HTTP route {name} must not specify route"));
        }
    } else {
        if delegate && http.delegate.is_some() {
            f.error("delegate HTTP route cannot contain delegate");
        }
        // A redirect or a direct response answers the request itself: what
        // else the route says would never happen.
        let answer = if http.redirect.is_some() {
            Some("redirect")
        } else if http.direct_response.is_some() {
            Some("direct_response")
        } else {
            None
        };
        match answer {
            Some(answer) => {
                let others = [
                    (!http.route.is_empty(), "HTTP route", "route"),
                    (http.fault.is_some(), "HTTP route", "fault"),
                    (http.rewrite.is_some(), "HTTP route rule", "rewrite"),
                    (
                        answer == "redirect" && http.direct_response.is_some(),
                        "HTTP route rule",
                        "direct_response",
                    ),
                ];
                for (present, subject, what) in others {
                    if present {
                        f.error(format!("{subject} cannot contain both {what} and {answer}"));
                    }
                }
            }
            None if http.route.is_empty() => {
                f.error("HTTP route, redirect or direct_response is required");
            }
            None => {}
        }
        if http.mirror.is_some() && !http.mirrors.is_empty() {
            f.error("HTTP route cannot contain both mirror and mirrors");
        }
    }
    for m in &http.r#match {
        if let Some(uri) = &m.uri
            && uri.prefix.as_deref() == Some("")
        {
            f.error("\"uri\": prefix string match should not be empty");
        }
        if let Some(p) = m.port.filter(|p| *p != 0) {
            common::port(f, i64::from(p));
        }
        gateway_names(f, &m.gateways);
        if let Some(ns) = m.source_namespace.as_deref().filter(|s| !s.is_empty())
            && !is_dns1123_label(ns)
        {
            f.error(format!("sourceNamespace match {ns} is invalid"));
        }
    }
    if let Some(p) = http.mirror_percent.or(http.mirror_percent_snake) {
        if p > 100 {
            f.error(format!(
                "mirror_percent must have a max value of 100 (it has {p})"
            ));
        }
        f.warn("using deprecated setting \"mirrorPercent\", use \"mirrorPercentage\" instead");
    }
    if let Some(v) = http.mirror_percentage.as_ref().and_then(|p| p.value) {
        if v > 100.0 {
            f.error(format!(
                "mirror_percentage must have a max value of 100 (it has {v:.6})"
            ));
        }
        if v < 0.0 {
            f.error(format!(
                "mirror_percentage must have a min value of 0 (it has {v:.6})"
            ));
        }
    }
    if let Some(m) = &http.mirror {
        destination(f, m);
    }
    for m in &http.mirrors {
        destination(f, &m.destination);
    }
    if let Some(r) = &http.redirect {
        let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
        if set(&r.uri) && set(&r.prefix_rewrite) {
            f.error("redirect may only specify one of uri or prefix_rewrite");
        } else if !set(&r.uri)
            && !set(&r.prefix_rewrite)
            && !set(&r.authority)
            && r.port.is_none()
            && r.derive_port.is_none()
            && !set(&r.scheme)
        {
            f.error("redirect must specify URI, authority, scheme, or port");
        } else if let Some(code) = r
            .redirect_code
            .filter(|c| *c != 0 && !(300..=399).contains(c))
        {
            f.error(format!("{code} is not a valid redirect code, must be 3xx"));
        } else if set(&r.scheme) && !matches!(r.scheme.as_deref(), Some("http" | "https")) {
            f.error("invalid redirect scheme, must be \"http\" or \"https\"");
        } else if let Some(p) = r.port.filter(|p| *p > 0) {
            common::port(f, i64::from(p));
        }
    }
    if let Some(rw) = &http.rewrite
        && rw.uri.as_deref().is_some_and(|s| !s.is_empty())
        && rw.uri_regex_rewrite.is_some()
    {
        f.error("rewrite may only contain one of URI or UriRegexRewrite");
    }
    if let Some(retries) = &http.retries
        && retries.attempts.unwrap_or(0) < 0
    {
        f.error("attempts cannot be negative");
    }
    route_destinations(f, http.route.iter().map(|d| (&d.destination, d.weight)));
    common::duration_field(f, http.timeout.as_ref());
}

/// `validate(HTTP)RouteDestinations`: each destination and weight, and a
/// split that sends nothing anywhere.
fn route_destinations<'a>(
    f: &mut Findings,
    routes: impl ExactSizeIterator<Item = (&'a Destination, Option<i32>)>,
) {
    let several = routes.len() > 1;
    let mut total = 0i64;
    for (d, w) in routes {
        destination(f, d);
        weight(f, w);
        total += i64::from(w.unwrap_or(0));
    }
    if several && total == 0 {
        f.error("total destination weight = 0");
    }
}

fn weight(f: &mut Findings, w: Option<i32>) {
    if let Some(w) = w.filter(|w| *w < 0) {
        f.error(format!("weight {w} < 0"));
    }
}

/// `validateDestination`.
fn destination(f: &mut Findings, d: &Destination) {
    if d.host == "*" {
        f.error(format!("invalid destination host {}", d.host));
    } else {
        f.check(common::wildcard_domain(&d.host));
    }
    if let Some(subset) = d.subset.as_deref().filter(|s| !s.is_empty())
        && !is_dns1123_label(subset)
    {
        f.error(format!("subset name is invalid: {subset}"));
    }
    if let Some(p) = &d.port {
        common::port(f, i64::from(p.number.unwrap_or(0)));
    }
}

// ---------------------------------------------------------------------------
// DestinationRule

pub fn destination_rule(obj: &Obj, spec: &DestinationRuleSpec, f: &mut Findings) {
    f.check(common::wildcard_domain(&spec.host));
    if let Some(tp) = &spec.traffic_policy {
        traffic_policy(f, obj.namespace, tp);
    }
    let mut names = BTreeSet::new();
    for subset in &spec.subsets {
        if !names.insert(subset.name.as_str()) {
            f.error(format!("duplicate subset names: {}", subset.name));
        }
        if subset.name.is_empty() {
            f.error("subset name cannot be empty");
        } else if !is_dns1123_label(&subset.name) {
            f.error(format!("subset name is invalid: {}", subset.name));
        }
        common::labels(f, &subset.labels);
        if let Some(tp) = &subset.traffic_policy {
            traffic_policy(f, obj.namespace, tp);
        }
    }
    export_to(
        f,
        obj.namespace,
        &spec.export_to,
        false,
        spec.workload_selector.is_some(),
    );
    common::match_labels_selector(f, spec.workload_selector.as_ref());
}

fn traffic_policy(f: &mut Findings, ns: &str, tp: &TrafficPolicy) {
    if tp.outlier_detection.is_none()
        && tp.connection_pool.is_none()
        && tp.load_balancer.is_none()
        && tp.tls.is_none()
        && tp.port_level_settings.is_empty()
        && tp.tunnel.is_none()
        && tp.proxy_protocol.is_none()
        && tp.retry_budget.is_none()
    {
        f.error("traffic policy must have at least one field");
        return;
    }
    if tp.tunnel.is_some() && tp.proxy_protocol.is_some() {
        f.error("tunnel and proxyProtocol must not be set together");
        return;
    }
    policies(
        f,
        ns,
        tp.outlier_detection.as_ref(),
        tp.connection_pool.as_ref(),
        tp.load_balancer.as_ref(),
        tp.tls.as_ref(),
    );
    for p in &tp.port_level_settings {
        if p.port.is_none() {
            f.error("portTrafficPolicy must have valid port");
        }
        if p.outlier_detection.is_none()
            && p.connection_pool.is_none()
            && p.load_balancer.is_none()
            && p.tls.is_none()
        {
            f.error("port traffic policy must have at least one field");
        } else {
            policies(
                f,
                ns,
                p.outlier_detection.as_ref(),
                p.connection_pool.as_ref(),
                p.load_balancer.as_ref(),
                p.tls.as_ref(),
            );
        }
    }
}

/// The parts a traffic policy and its per-port settings share.
fn policies(
    f: &mut Findings,
    ns: &str,
    outlier: Option<&OutlierDetection>,
    pool: Option<&ConnectionPoolSettings>,
    lb: Option<&LoadBalancerSettings>,
    tls: Option<&ClientTlsSettings>,
) {
    if let Some(o) = outlier {
        outlier_detection(f, o);
    }
    if let Some(p) = pool {
        connection_pool(f, p);
    }
    if let Some(lb) = lb {
        load_balancer(f, lb);
    }
    if let Some(t) = tls {
        client_tls(f, ns, t);
    }
}

fn outlier_detection(f: &mut Findings, o: &OutlierDetection) {
    common::duration_field(f, o.base_ejection_time.as_ref());
    if o.consecutive_errors.unwrap_or(0) != 0 {
        f.warn("outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead");
    }
    if o.split_external_local_origin_errors != Some(true)
        && o.consecutive_local_origin_failures.unwrap_or(0) > 0
    {
        f.error("outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false");
    }
    common::duration_field(f, o.interval.as_ref());
    for p in [o.max_ejection_percent, o.min_health_percent]
        .into_iter()
        .flatten()
    {
        if !(0..=100).contains(&p) {
            f.error(format!("percentage {p} is not in range 0..100"));
        }
    }
}

fn connection_pool(f: &mut Findings, pool: &ConnectionPoolSettings) {
    if pool.http.is_none() && pool.tcp.is_none() {
        f.error("connection pool must have at least one field");
        return;
    }
    let negative = |v: Option<i32>| v.unwrap_or(0) < 0;
    if let Some(h) = &pool.http {
        for (v, what) in [
            (h.http1_max_pending_requests, "http1 max pending requests"),
            (h.http2_max_requests, "http2 max requests"),
            (h.max_requests_per_connection, "max requests per connection"),
            (h.max_retries, "max retries"),
        ] {
            if negative(v) {
                f.error(format!("{what} must be non-negative"));
            }
        }
        common::duration_field(f, h.idle_timeout.as_ref());
        if h.h2_upgrade_policy.as_deref() == Some("UPGRADE") && h.use_client_protocol == Some(true)
        {
            f.error("use client protocol must not be true when H2UpgradePolicy is UPGRADE");
        }
        if negative(h.max_concurrent_streams) {
            f.error("max concurrent streams must be non-negative");
        }
        if let Some(ka) = &h.http2_keep_alive {
            match &ka.interval {
                None => f.error("http2 keepalive interval is required"),
                Some(i) => common::duration_field(f, Some(i)),
            }
            match &ka.timeout {
                None => f.error("http2 keepalive timeout is required"),
                Some(t) => common::duration_field(f, Some(t)),
            }
        }
    }
    if let Some(t) = &pool.tcp {
        if negative(t.max_connections) {
            f.error("max connections must be non-negative");
        }
        common::duration_field(f, t.connect_timeout.as_ref());
        common::duration_field(f, t.max_connection_duration.as_ref());
        // "0s" turns the idle timeout off.
        if t.idle_timeout.as_deref().and_then(common::parse_duration) != Some(0) {
            common::duration_field(f, t.idle_timeout.as_ref());
        }
        if let Some(ka) = &t.tcp_keepalive {
            common::duration_field(f, ka.time.as_ref());
            common::duration_field(f, ka.interval.as_ref());
        }
    }
}

/// `agent.ValidateTLS`: client TLS of a DestinationRule.
fn client_tls(f: &mut Findings, ns: &str, tls: &ClientTlsSettings) {
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    let mode = tls.mode.as_deref().unwrap_or("DISABLE");
    if let Some(rest) = tls
        .credential_name
        .as_deref()
        .and_then(|c| c.strip_prefix("configmap://"))
    {
        // configmap://NAME or configmap://NAMESPACE/NAME.
        let same_ns = rest.split_once('/').is_none_or(|(n, _)| n == ns);
        if !same_ns || ns.is_empty() {
            f.error(format!(
                "invalid configmap:// credentialName: namespace must match the configuration namespace {ns:?}"
            ));
        }
    }
    if tls.insecure_skip_verify == Some(true) {
        if mode == "SIMPLE"
            && (set(&tls.ca_certificates)
                || set(&tls.credential_name)
                || !tls.subject_alt_names.is_empty())
        {
            f.error("cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true");
        }
        if mode == "MUTUAL" && (set(&tls.ca_certificates) || !tls.subject_alt_names.is_empty()) {
            f.error("cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true");
        }
    }
    if matches!(mode, "SIMPLE" | "MUTUAL") && set(&tls.credential_name) {
        if set(&tls.client_certificate)
            || set(&tls.ca_certificates)
            || set(&tls.private_key)
            || set(&tls.ca_crl)
        {
            f.error("cannot specify client certificates or CA certificate or CA CRL If credentialName is set");
        }
        return;
    }
    if mode == "MUTUAL" {
        if !set(&tls.client_certificate) {
            f.error("client certificate required for mutual tls");
        }
        if !set(&tls.private_key) {
            f.error("private key required for mutual tls");
        }
    }
}

fn load_balancer(f: &mut Findings, lb: &LoadBalancerSettings) {
    if let Some(ch) = &lb.consistent_hash {
        if let Some(cookie) = &ch.http_cookie
            && cookie.name.is_empty()
        {
            f.error("name required for HttpCookie");
        }
        if ch.minimum_ring_size.unwrap_or(0) != 0 {
            f.warn("consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead");
            if ch.ring_hash.is_some() || ch.maglev.is_some() {
                f.error("only one of MinimumRingSize or Maglev/Ringhash can be specified");
            }
        }
        if let Some(m) = &ch.maglev {
            let size = m.table_size.unwrap_or(0);
            if size == 0 {
                f.error("tableSize must be set for maglev");
            }
            if size >= 5_000_011 {
                f.error("tableSize must be less than 5000011 for maglev");
            }
            if !is_prime(size) {
                f.error("tableSize must be a prime number for maglev");
            }
        }
    }
    if lb.locality_lb_setting.is_some() && lb.zone_aware_lb_setting.is_some() {
        f.error("only one of localityLbSetting and zoneAwareLbSetting can be set");
    }
    if let Some(w) = &lb.warmup {
        match &w.duration {
            None => f.error("duration is required"),
            Some(d) => common::duration_field(f, Some(d)),
        }
        if w.minimum_percent.unwrap_or(0.0) > 100.0 {
            f.error("minimumPercent value should be less than or equal to 100");
        }
        if w.aggression.is_some_and(|a| a <= 0.0) {
            f.error("aggression should be greater than 0");
        }
    }
}

/// Envoy's primality test for Maglev table sizes (0..3 count as prime).
fn is_prime(x: u64) -> bool {
    if x != 0 && x < 4 {
        return true;
    }
    if x % 2 == 0 || x % 3 == 0 {
        return false;
    }
    let mut i = 5;
    while i * i <= x {
        if x % i == 0 || x % (i + 2) == 0 {
            return false;
        }
        i += 6;
    }
    true
}

// ---------------------------------------------------------------------------
// ServiceEntry, WorkloadEntry, WorkloadGroup

pub fn service_entry(obj: &Obj, spec: &ServiceEntrySpec, f: &mut Findings) {
    if !alpha_selector(f, spec.workload_selector.as_ref(), "service entry") {
        return;
    }
    if spec.workload_selector.is_some() && !spec.endpoints.is_empty() {
        f.error("only one of WorkloadSelector or Endpoints is allowed in Service Entry");
    }
    let resolution = spec.resolution.as_deref().unwrap_or("NONE");
    if spec.hosts.is_empty() {
        f.error("service entry must have at least one host");
    }
    for host in &spec.hosts {
        if host == "*" {
            f.error(format!("invalid host {host}"));
        } else {
            f.check(common::wildcard_domain(host));
            if resolution != "DYNAMIC_DNS"
                && let Err(w) = common::partial_wildcard(host)
            {
                f.warn(w);
            }
        }
    }
    let mut cidr = false;
    for address in &spec.addresses {
        cidr |= address.contains('/');
        f.check(common::ip_subnet(address));
    }
    if cidr && resolution != "NONE" && resolution != "STATIC" {
        f.error("CIDR addresses are allowed only for NONE/STATIC resolution types");
    }
    let mut numbers = BTreeSet::new();
    let mut names = BTreeSet::new();
    for port in &spec.ports {
        let name = port.name.as_deref().unwrap_or("");
        let number = port.number.unwrap_or(0);
        if !names.insert(name) {
            f.error(format!("service entry port name {name:?} already defined"));
        }
        if !numbers.insert(number) {
            f.error(format!("service entry port {number} already defined"));
        }
        if let Some(t) = port.target_port.filter(|t| *t != 0) {
            common::port(f, i64::from(t));
        }
        // istiod allocates addresses itself (PILOT_ENABLE_IP_AUTOALLOCATE,
        // on by default) unless resolution is NONE or the object opts out.
        let auto = resolution != "NONE"
            && !obj
                .meta
                .labels
                .get("networking.istio.io/enable-autoallocate-ip")
                .is_some_and(|v| v.eq_ignore_ascii_case("false"));
        let proto = port.protocol.as_deref().unwrap_or("");
        if spec.addresses.is_empty() && !auto && (proto.is_empty() || proto == "TCP") {
            f.warn("addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled");
        }
        if !is_dns1123_label(name) {
            f.error(format!("invalid port name: {name}"));
        }
        if !proto.is_empty() && protocol(proto).is_none() {
            f.error(format!("unsupported protocol: {proto}"));
        }
        common::port(f, i64::from(number));
    }
    let port_names: BTreeSet<&str> = spec
        .ports
        .iter()
        .map(|p| p.name.as_deref().unwrap_or(""))
        .collect();
    match resolution {
        "NONE" => {
            if !spec.endpoints.is_empty() {
                f.error("no endpoints should be provided for resolution type none");
            }
            if spec.workload_selector.is_some() {
                f.warn("workloadSelector should not be set when resolution mode is NONE");
            }
        }
        "STATIC" => {
            for ep in &spec.endpoints {
                workload_entry_checks(f, ep, Some(&port_names), false);
            }
        }
        "DNS" | "DNS_ROUND_ROBIN" => {
            if spec.endpoints.is_empty()
                && let Some(e) = spec.hosts.iter().find_map(|h| common::fqdn(h).err())
            {
                f.error(format!(
                    "hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode {resolution}, {e}"
                ));
            }
            if resolution == "DNS_ROUND_ROBIN" && spec.endpoints.len() > 1 {
                f.error(format!(
                    "there must only be 0 or 1 endpoint for resolution mode {resolution}"
                ));
            }
            for ep in &spec.endpoints {
                let addr = ep.address.as_deref().unwrap_or("");
                if !is_ip(addr) && common::fqdn(addr).is_err() {
                    f.error(format!(
                        "endpoint address {addr:?} is not a valid FQDN or an IP address"
                    ));
                }
                common::labels(f, &ep.labels);
                for (name, port) in &ep.ports {
                    if !port_names.contains(name.as_str()) {
                        f.error(format!(
                            "endpoint port {port} is not defined by the service entry"
                        ));
                    }
                    if !is_dns1123_label(name) {
                        f.error(format!("invalid port name: {name}"));
                    }
                    common::port(f, i64::from(*port));
                }
            }
        }
        "DYNAMIC_DNS" => {
            for host in &spec.hosts {
                if !host.starts_with('*') {
                    f.error(format!(
                        "host must be wildcarded for resolution mode {resolution}"
                    ));
                }
            }
            if !spec.endpoints.is_empty() {
                f.error(format!("endpoints cannot be set for resolution type {resolution}. Destination IP address determined from hostsfield values"));
            }
        }
        other => f.error(format!("unsupported resolution type {other}")),
    }
    if resolution != "NONE" && spec.hosts.len() > 1 {
        let plain = spec.ports.iter().any(|p| {
            let proto = protocol(p.protocol.as_deref().unwrap_or(""));
            !is_http(proto) && !is_tls(proto)
        });
        if plain {
            f.error("multiple hosts provided with non-HTTP, non-TLS ports");
        }
    }
    export_to(f, obj.namespace, &spec.export_to, true, false);
}

/// `validateWorkloadEntry`: a WorkloadEntry, or (with the service's port
/// names, FQDNs not allowed) a STATIC ServiceEntry endpoint.
fn workload_entry_checks(
    f: &mut Findings,
    we: &WorkloadEntrySpec,
    service_ports: Option<&BTreeSet<&str>>,
    allow_fqdn: bool,
) {
    let addr = we.address.as_deref().unwrap_or("");
    if addr.is_empty() {
        match we.network.as_deref().filter(|n| !n.is_empty()) {
            None => {
                f.error("address is required");
                return;
            }
            Some(net) => f.warn(format!("address is unset with network {net:?}")),
        }
    }
    let unix = addr.starts_with(UNIX_PREFIX);
    if let Some(path) = addr.strip_prefix(UNIX_PREFIX) {
        unix_address(f, path);
        if !we.ports.is_empty() {
            f.error(format!("unix endpoint {addr} must not include ports"));
        }
    } else if !addr.is_empty() && !is_ip(addr) {
        if !allow_fqdn {
            f.error(format!(
                "endpoint address {addr:?} is not a valid IP address"
            ));
        } else if common::fqdn(addr).is_err() {
            f.error(format!(
                "endpoint address {addr:?} is not a valid FQDN or an IP address"
            ));
        }
    }
    for (name, port) in &we.ports {
        if let Some(sp) = service_ports
            && !sp.contains(name.as_str())
        {
            f.error(format!(
                "endpoint port {port} is not defined by the service entry"
            ));
        }
        if !is_dns1123_label(name) {
            f.error(format!("invalid port name: {name}"));
        }
        common::port(f, i64::from(*port));
    }
    common::labels(f, &we.labels);
    if unix && service_ports.is_some_and(|sp| sp.len() != 1) {
        f.error("exactly 1 service port required for unix endpoints");
    }
}

pub fn workload_entry(spec: &WorkloadEntrySpec, f: &mut Findings) {
    workload_entry_checks(f, spec, None, true);
}

pub fn workload_group(spec: &WorkloadGroupSpec, f: &mut Findings) {
    if spec.template.is_none() {
        f.error("template is required");
        return;
    }
    if let Some(meta) = &spec.metadata {
        let mut l = Findings::default();
        common::labels(&mut l, &meta.labels);
        if let Some(e) = l.errors.into_iter().next() {
            f.error(format!("invalid labels: {e}"));
            return;
        }
    }
    let Some(probe) = &spec.probe else { return };
    for (v, name) in [
        (probe.period_seconds, "periodSeconds"),
        (probe.initial_delay_seconds, "initialDelaySeconds"),
        (probe.timeout_seconds, "timeoutSeconds"),
        (probe.success_threshold, "successThreshold"),
        (probe.failure_threshold, "failureThreshold"),
    ] {
        if v.unwrap_or(0) < 0 {
            f.error(format!("{name} must be non-negative"));
        }
    }
    if let Some(h) = &probe.http_get {
        common::port(f, i64::from(h.port.unwrap_or(0)));
        if h.scheme
            .as_deref()
            .is_some_and(|s| !s.is_empty() && s != "HTTP" && s != "HTTPS")
        {
            f.error("httpGet.scheme must be one of \"HTTPS\", \"HTTP\"");
        }
        for header in &h.http_headers {
            if header.name.is_empty() {
                f.error("header name cannot be empty");
            } else if !header
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                f.error(format!(
                    "header name {} is not a valid header name",
                    header.name
                ));
            }
        }
    } else if let Some(t) = &probe.tcp_socket {
        common::port(f, i64::from(t.port.unwrap_or(0)));
    } else if let Some(e) = &probe.exec {
        if e.command.is_empty() {
            f.error("exec.command is required");
        }
    } else if probe.grpc.is_none() {
        f.error("unknown health check method <nil>");
    }
}

// ---------------------------------------------------------------------------
// Sidecar

pub fn sidecar(spec: &SidecarSpec, f: &mut Findings) {
    if !alpha_selector(f, spec.workload_selector.as_ref(), "sidecar") {
        return;
    }
    if spec.egress.is_empty()
        && spec.ingress.is_empty()
        && spec.outbound_traffic_policy.is_none()
        && spec.inbound_connection_pool.is_none()
    {
        f.error("sidecar: empty configuration provided");
        return;
    }
    let mut ports = BTreeSet::new();
    for ingress in &spec.ingress {
        let Some(port) = &ingress.port else {
            f.error("sidecar: port is required for ingress listeners");
            continue;
        };
        if port.target_port.unwrap_or(0) > 0 {
            f.error("targetPort has no impact on Sidecars");
        }
        if !ports.insert(port.number.unwrap_or(0)) {
            f.error("sidecar: ports on IP bound listeners must be unique");
        }
        if let Some(tls) = &ingress.tls {
            if !tls.subject_alt_names.is_empty() {
                f.error("sidecar: subjectAltNames is not supported in ingress tls");
            }
            if tls.https_redirect == Some(true) {
                f.error("sidecar: httpsRedirect is not supported");
            }
            if tls
                .credential_name
                .as_deref()
                .is_some_and(|s| !s.is_empty())
            {
                f.error("sidecar: credentialName is not currently supported");
            }
            if !tls.credential_names.is_empty() {
                f.error("sidecar: credentialNames is not currently supported");
            }
            if !tls.tls_certificates.is_empty() {
                f.error("sidecar: tls_certificates is not currently supported");
            }
            if let Some(mode @ ("ISTIO_MUTUAL" | "AUTO_PASSTHROUGH")) = tls.mode.as_deref() {
                f.error(format!(
                    "configuration is invalid: cannot set mode to {mode} in sidecar ingress tls"
                ));
            }
            if !is_tls(protocol(port.protocol.as_deref().unwrap_or(""))) {
                f.error("server cannot have TLS settings for non HTTPS/TLS ports");
            }
            tls_options(f, tls);
        }
        if let Some(pool) = &ingress.connection_pool {
            connection_pool(f, pool);
        }
    }
    if let Some(pool) = &spec.inbound_connection_pool {
        connection_pool(f, pool);
    }
    let mut ports = BTreeSet::new();
    let mut catch_all = false;
    for (i, egress) in spec.egress.iter().enumerate() {
        match &egress.port {
            None if catch_all => {
                f.error("sidecar: egress can have only one listener with empty port");
                continue;
            }
            None if i == spec.egress.len() - 1 => catch_all = true,
            None => f.error("sidecar: the egress listener with empty port should be the last listener in the list"),
            Some(port) => {
                if port.target_port.unwrap_or(0) > 0 {
                    f.error("targetPort has no impact on Sidecars");
                }
                let n = port.number.unwrap_or(0);
                if n != 0 && !ports.insert(n) {
                    f.error("sidecar: ports on IP bound listeners must be unique");
                }
            }
        }
        if egress.hosts.is_empty() {
            f.error("sidecar: egress listener must contain at least one host");
        }
        for host in &egress.hosts {
            namespace_slash_host(f, host, false);
        }
    }
}

// ---------------------------------------------------------------------------
// EnvoyFilter, ProxyConfig

pub fn envoy_filter(spec: &EnvoyFilterSpec, f: &mut Findings) {
    f.warn("EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.");
    if !alpha_selector(f, spec.workload_selector.as_ref(), "Envoy filter") {
        return;
    }
    for cp in &spec.config_patches {
        let m = cp.r#match.as_ref();
        // istiod does not judge waypoint patches yet.
        if m.and_then(|m| m.context.as_deref()) == Some("WAYPOINT") {
            continue;
        }
        let apply_to = cp.apply_to.as_deref().unwrap_or("INVALID");
        if apply_to == "INVALID" {
            f.error("Envoy filter: missing applyTo");
            continue;
        }
        let Some(patch) = &cp.patch else {
            f.error("Envoy filter: missing patch");
            continue;
        };
        let op = patch.operation.as_deref().unwrap_or("INVALID");
        if op == "INVALID" {
            f.error("Envoy filter: missing patch operation");
            continue;
        }
        if op != "REMOVE" && patch.value.is_none() {
            f.error("Envoy filter: missing patch value for non-remove operation");
            continue;
        }
        let Some(m) = m else { continue };
        let object = m.listener.is_some()
            || m.route_configuration.is_some()
            || m.cluster.is_some()
            || m.waypoint.is_some();
        match apply_to {
            "LISTENER" | "FILTER_CHAIN" | "NETWORK_FILTER" | "HTTP_FILTER" if object => {
                let Some(listener) = &m.listener else {
                    f.error("Envoy filter: applyTo for listener class objects cannot have non listener match");
                    continue;
                };
                let Some(filter) = listener
                    .filter_chain
                    .as_ref()
                    .and_then(|fc| fc.filter.as_ref())
                else {
                    continue;
                };
                if matches!(apply_to, "LISTENER" | "FILTER_CHAIN") {
                    f.warn(format!(
                        "Envoy filter: filter match has no effect when used with {apply_to}"
                    ));
                }
                let name = filter.name.as_deref().unwrap_or("");
                if name.is_empty() {
                    f.error("Envoy filter: filter match has no name to match on");
                    continue;
                }
                if let Some(sub) = &filter.sub_filter {
                    if apply_to != "HTTP_FILTER" {
                        f.error("Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only");
                        continue;
                    }
                    if name != "envoy.filters.network.http_connection_manager"
                        && name != "envoy.http_connection_manager"
                    {
                        f.error("Envoy filter: subfilter match requires filter match with envoy.filters.network.http_connection_manager");
                        continue;
                    }
                    if sub.name.as_deref().unwrap_or("").is_empty() {
                        f.error("Envoy filter: subfilter match has no name to match on");
                        continue;
                    }
                }
            }
            "ROUTE_CONFIGURATION" | "VIRTUAL_HOST" | "HTTP_ROUTE"
                if object && m.route_configuration.is_none() =>
            {
                f.error("Envoy filter: applyTo for http route class objects cannot have non route configuration match");
            }
            "CLUSTER" if object && m.cluster.is_none() => {
                f.error(
                    "Envoy filter: applyTo for cluster class objects cannot have non cluster match",
                );
            }
            _ => {}
        }
    }
}

pub fn proxy_config(spec: &ProxyConfigSpec, f: &mut Findings) {
    common::match_labels_selector(f, spec.selector.as_ref());
    if spec.concurrency.unwrap_or(0) < 0 {
        f.error("concurrency must be greater than or equal to 0");
    }
}
