//! One AuthorizationPolicy rule → one Envoy RBAC `Policy`
//! (istiod-gateway-security.md §3.2.3): `permissions` from `to` (and the
//! destination-side `when` keys), `principals` from `from` (and the
//! source-side ones), every condition matched as istiod's matchers do.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::super::json::any;
use crate::model::istio::{AuthorizationRule, Source};

/// The `when` keys istiod knows (pilot/pkg/security/authz/model).
const REQUEST_HEADERS: &str = "request.headers";
const REQUEST_CLAIMS: &str = "request.auth.claims";
const ENVOY_FILTER: &str = "experimental.envoy.filters.";
const JWT_FILTER: &str = "envoy.filters.http.jwt_authn";
const JWT_PAYLOAD: &str = "payload";
const SPIFFE: &str = "spiffe://";

/// What a condition matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    DestIp,
    DestPort,
    ConnSni,
    EnvoyFilter,
    SrcIp,
    RemoteIp,
    SrcNamespace,
    SrcTrustDomain,
    SrcServiceAccount,
    SrcPrincipal,
    RequestPrincipal,
    RequestAudiences,
    RequestPresenter,
    RequestHeader,
    RequestClaims,
    Host,
    Path,
    Method,
}

impl Attr {
    /// Attributes whose values are matched together by one matcher
    /// (istiod's "extended" generators) rather than one matcher per value.
    fn aggregates(self) -> bool {
        matches!(
            self,
            Attr::EnvoyFilter
                | Attr::RequestPrincipal
                | Attr::RequestAudiences
                | Attr::RequestPresenter
                | Attr::RequestClaims
        )
    }
}

/// One condition: an attribute with the values it must (and must not) match.
#[derive(Debug, Clone)]
struct Cond {
    attr: Attr,
    key: String,
    values: Vec<String>,
    not_values: Vec<String>,
}

/// Why a value cannot be matched; an ALLOW rule is dropped for it, DENY
/// and AUDIT rules drop only the value (a wider match).
type Fail = String;

/// How a rule is built: the action decides what a failure costs.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub tcp: bool,
    /// ALLOW: a failing condition drops the whole rule.
    pub strict: bool,
}

/// A rule as condition lists, one per permission and one per principal.
/// `when` conditions are shared by every list of their side.
#[derive(Debug)]
pub struct Model {
    permissions: Vec<Vec<Cond>>,
    /// Per principal: its own conditions, then the shared `when` ones.
    principals: Vec<Vec<Cond>>,
    /// How many shared (`when`) conditions end each principal list.
    shared_principal_conds: usize,
    /// The policy's namespace: service accounts default to it.
    namespace: String,
}

impl Model {
    /// The rule's model, or the unknown `when` key that makes istiod skip it.
    pub fn new(policy_namespace: &str, rule: &AuthorizationRule) -> Result<Model, Fail> {
        let mut base_permission = Vec::new();
        let mut base_principal = Vec::new();
        for w in &rule.when {
            let k = w.key.as_str();
            let (attr, principal_side) = match k {
                "destination.ip" => (Attr::DestIp, false),
                "destination.port" => (Attr::DestPort, false),
                "connection.sni" => (Attr::ConnSni, false),
                _ if k.starts_with(ENVOY_FILTER) => (Attr::EnvoyFilter, false),
                "source.ip" => (Attr::SrcIp, true),
                "remote.ip" => (Attr::RemoteIp, true),
                "source.namespace" => (Attr::SrcNamespace, true),
                "source.trustDomain" => (Attr::SrcTrustDomain, true),
                "source.serviceAccount" => (Attr::SrcServiceAccount, true),
                "source.principal" => (Attr::SrcPrincipal, true),
                "request.auth.principal" => (Attr::RequestPrincipal, true),
                "request.auth.audiences" => (Attr::RequestAudiences, true),
                "request.auth.presenter" => (Attr::RequestPresenter, true),
                _ if k.starts_with(REQUEST_HEADERS) => (Attr::RequestHeader, true),
                _ if k.starts_with(REQUEST_CLAIMS) => (Attr::RequestClaims, true),
                _ => return Err(format!("unknown attribute {k}")),
            };
            let list = if principal_side {
                &mut base_principal
            } else {
                &mut base_permission
            };
            push(list, attr, k, &w.values, &w.not_values);
        }
        let shared_principal_conds = base_principal.len();

        let mut principals = Vec::new();
        for from in &rule.from {
            let mut own = Vec::new();
            if let Some(s) = &from.source {
                source_conds(&mut own, s);
            }
            own.extend(base_principal.iter().cloned());
            principals.push(own);
        }
        if rule.from.is_empty() {
            principals.push(base_principal);
        }
        let mut permissions = Vec::new();
        for to in &rule.to {
            let mut own = Vec::new();
            if let Some(o) = &to.operation {
                push(&mut own, Attr::Host, ":authority", &o.hosts, &o.not_hosts);
                push(
                    &mut own,
                    Attr::Method,
                    ":method",
                    &o.methods,
                    &o.not_methods,
                );
                push(&mut own, Attr::Path, "path-matcher", &o.paths, &o.not_paths);
                push(
                    &mut own,
                    Attr::DestPort,
                    "destination.port",
                    &o.ports,
                    &o.not_ports,
                );
            }
            own.extend(base_permission.iter().cloned());
            permissions.push(own);
        }
        if rule.to.is_empty() {
            permissions.push(base_permission);
        }
        Ok(Model {
            permissions,
            principals,
            shared_principal_conds,
            namespace: policy_namespace.to_string(),
        })
    }

    /// Principals and trust domains extended to the trust domain's aliases
    /// (`trust_domains`: the mesh's trust domain, then its aliases). istiod
    /// shares `when` conditions between principal lists and rewrites them
    /// in place once per list; so is it done here, which matters when a
    /// rule has several `from` and a `source.principal` condition.
    pub fn migrate_trust_domain(&mut self, trust_domains: &[String]) {
        let lists = self.principals.len();
        let shared = self.shared_principal_conds;
        let mut shared_done: Option<Vec<Cond>> = None;
        for list in &mut self.principals {
            let own = list.len() - shared;
            for c in &mut list[..own] {
                migrate(c, trust_domains);
            }
            let done = shared_done.get_or_insert_with(|| {
                let mut s = list[own..].to_vec();
                for _ in 0..lists {
                    s.iter_mut().for_each(|c| migrate(c, trust_domains));
                }
                s
            });
            list.truncate(own);
            list.extend(done.iter().cloned());
        }
    }

    /// The Envoy `Policy`, or why the rule is skipped.
    pub fn generate(&self, t: Target) -> Result<Value, Fail> {
        let permissions = self.side(&self.permissions, t, Side::Permission)?;
        let principals = self.side(&self.principals, t, Side::Principal)?;
        Ok(json!({"permissions": permissions, "principals": principals}))
    }

    /// One AND per condition list of a side.
    fn side(&self, lists: &[Vec<Cond>], t: Target, side: Side) -> Result<Vec<Value>, Fail> {
        lists
            .iter()
            .map(|l| {
                let mut and = Vec::new();
                for c in l {
                    and.extend(condition(c, t, side, &self.namespace)?);
                }
                Ok(and_of(side, and))
            })
            .collect()
    }
}

/// The never-matching policy of a policy without rules.
pub fn match_never() -> Value {
    json!({
        "permissions": [{"not_rule": {"any": true}}],
        "principals": [{"not_id": {"any": true}}],
    })
}

fn push(list: &mut Vec<Cond>, attr: Attr, key: &str, values: &[String], not_values: &[String]) {
    if values.is_empty() && not_values.is_empty() {
        return;
    }
    list.push(Cond {
        attr,
        key: key.to_string(),
        values: values.to_vec(),
        not_values: not_values.to_vec(),
    });
}

/// A `source`'s conditions, in the order istiod ends up with them.
fn source_conds(out: &mut Vec<Cond>, s: &Source) {
    push(
        out,
        Attr::SrcPrincipal,
        "source.principal",
        &s.principals,
        &s.not_principals,
    );
    push(
        out,
        Attr::RequestPrincipal,
        "request.auth.principal",
        &s.request_principals,
        &s.not_request_principals,
    );
    push(
        out,
        Attr::SrcServiceAccount,
        "source.serviceAccount",
        &s.service_accounts,
        &s.not_service_accounts,
    );
    push(
        out,
        Attr::SrcTrustDomain,
        "source.trustDomain",
        &s.trust_domains,
        &s.not_trust_domains,
    );
    push(
        out,
        Attr::SrcNamespace,
        "source.namespace",
        &s.namespaces,
        &s.not_namespaces,
    );
    push(
        out,
        Attr::RemoteIp,
        "remote.ip",
        &s.remote_ip_blocks,
        &s.not_remote_ip_blocks,
    );
    push(
        out,
        Attr::SrcIp,
        "source.ip",
        &s.ip_blocks,
        &s.not_ip_blocks,
    );
}

fn migrate(c: &mut Cond, tds: &[String]) {
    let f = match c.attr {
        Attr::SrcPrincipal => replace_trust_domain_aliases,
        Attr::SrcTrustDomain => expand_trust_domain_aliases,
        _ => return,
    };
    if !c.values.is_empty() {
        c.values = f(&c.values, tds);
    }
    if !c.not_values.is_empty() {
        c.not_values = f(&c.not_values, tds);
    }
}

/// Each `<td>/ns/<ns>/sa/<sa>` principal whose trust domain is the mesh's,
/// one of its aliases or `cluster.local`, once per trust domain.
fn replace_trust_domain_aliases(principals: &[String], tds: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for p in principals {
        let parts: Vec<&str> = p.split('/').collect();
        // Not a SPIFFE identity, or any trust domain: kept as written.
        if parts.len() != 5 || parts[0] == "*" {
            out.push(p.clone());
            continue;
        }
        let from = parts[0];
        if !(from == "cluster.local" || tds.iter().any(|td| td_match(from, td))) {
            out.push(p.clone());
            continue;
        }
        let mut mine: Vec<String> = Vec::new();
        for td in tds {
            let np = if suffix_match(td, from) {
                p.clone()
            } else {
                format!("{td}/{}", parts[1..].join("/"))
            };
            if !mine.contains(&np) {
                mine.push(np);
            }
        }
        out.extend(mine);
    }
    out
}

/// Trust domain values that name one of `tds` stand for all of them.
fn expand_trust_domain_aliases(values: &[String], tds: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let add: Vec<&String> = if tds.contains(v) {
            tds.iter().collect()
        } else {
            vec![v]
        };
        for a in add {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
    }
    out
}

/// Trust domain match with `*` wildcards on either side.
fn td_match(a: &str, s: &str) -> bool {
    a == s
        || s == "*"
        || prefix_match(a, s)
        || prefix_match(s, a)
        || suffix_match(a, s)
        || suffix_match(s, a)
}

fn prefix_match(a: &str, pattern: &str) -> bool {
    pattern.strip_suffix('*').is_some_and(|p| a.starts_with(p))
}

fn suffix_match(a: &str, pattern: &str) -> bool {
    pattern.strip_prefix('*').is_some_and(|p| a.ends_with(p))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Permission,
    Principal,
}

impl Side {
    fn and(self) -> (&'static str, &'static str) {
        match self {
            Side::Permission => ("and_rules", "rules"),
            Side::Principal => ("and_ids", "ids"),
        }
    }
    fn or(self) -> (&'static str, &'static str) {
        match self {
            Side::Permission => ("or_rules", "rules"),
            Side::Principal => ("or_ids", "ids"),
        }
    }
    fn not(self) -> &'static str {
        match self {
            Side::Permission => "not_rule",
            Side::Principal => "not_id",
        }
    }
}

fn set(side_key: (&str, &str), items: Vec<Value>) -> Value {
    json!({side_key.0: {side_key.1: items}})
}

/// AND of the items, `any` when there are none.
fn and_of(side: Side, mut items: Vec<Value>) -> Value {
    if items.is_empty() {
        items.push(json!({"any": true}));
    }
    set(side.and(), items)
}

/// The matchers of one condition: its values OR-ed, its not-values OR-ed
/// under a NOT. A value that fails either fails the rule (ALLOW) or is
/// left out.
fn condition(c: &Cond, t: Target, side: Side, ns: &str) -> Result<Vec<Value>, Fail> {
    let keep = |r: Result<Option<Value>, Fail>| -> Result<Option<Value>, Fail> {
        match r {
            Err(e) if t.strict => Err(e),
            Err(_) => Ok(None),
            ok => ok,
        }
    };
    let mut out = Vec::new();
    for (values, negate) in [(&c.values, false), (&c.not_values, true)] {
        if values.is_empty() {
            continue;
        }
        let matched = if c.attr.aggregates() {
            keep(aggregate(c, values, t.tcp, side))?
        } else {
            let mut or = Vec::new();
            for v in values {
                if let Some(m) = keep(single(c, v, t.tcp, side, ns))? {
                    or.push(m);
                }
            }
            (!or.is_empty()).then(|| set(side.or(), or))
        };
        if let Some(m) = matched {
            out.push(if negate { json!({side.not(): m}) } else { m });
        }
    }
    Ok(out)
}

fn http_only(c: &Cond, tcp: bool) -> Result<(), Fail> {
    if tcp {
        Err(format!("{:?} is HTTP only", c.key))
    } else {
        Ok(())
    }
}

/// One value's matcher.
fn single(c: &Cond, v: &str, tcp: bool, side: Side, ns: &str) -> Result<Option<Value>, Fail> {
    let unimplemented = || Err("unimplemented".to_string());
    let m = match (side, c.attr) {
        (Side::Permission, Attr::DestIp) => json!({"destination_ip": cidr(v)?}),
        (Side::Permission, Attr::DestPort) => json!({"destination_port": port(v)?}),
        (Side::Permission, Attr::ConnSni) => json!({"requested_server_name": string_matcher(v)}),
        (Side::Permission, Attr::Host) => {
            http_only(c, tcp)?;
            json!({"header": header_matcher(":authority", v, true)})
        }
        (Side::Permission, Attr::Method) => {
            http_only(c, tcp)?;
            json!({"header": header_matcher(":method", v, false)})
        }
        (Side::Permission, Attr::Path) => {
            http_only(c, tcp)?;
            if v.contains("{*}") || v.contains("{**}") {
                json!({"uri_template": {
                    "name": "uri-template",
                    "typed_config": any(
                        "envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig",
                        json!({"path_template": v.replace("{**}", "**").replace("{*}", "*")}),
                    ),
                }})
            } else {
                json!({"url_path": {"path": string_matcher(v)}})
            }
        }
        (Side::Principal, Attr::SrcIp) => json!({"direct_remote_ip": cidr(v)?}),
        (Side::Principal, Attr::RemoteIp) => json!({"remote_ip": cidr(v)?}),
        (Side::Principal, Attr::SrcNamespace) => {
            let ns = v.split('*').map(quote_meta).collect::<Vec<_>>().join(".*");
            authenticated(regex(&format!(".*/ns/{ns}/.*")))
        }
        (Side::Principal, Attr::SrcServiceAccount) => {
            let (ns, sa) = v.split_once('/').unwrap_or((ns, v));
            authenticated(regex(&format!(
                "spiffe://.+/ns/{}/(.+/|)sa/{}(/.+)?",
                quote_meta(ns),
                quote_meta(sa)
            )))
        }
        (Side::Principal, Attr::SrcTrustDomain) => authenticated(match v.split_once('*') {
            _ if v == "*" => string_exact_kind("prefix", SPIFFE, false),
            None => string_exact_kind("prefix", &format!("{SPIFFE}{v}/"), false),
            Some((a, b)) => regex(&format!(
                "spiffe://{}[^/]*{}/.*",
                quote_meta(a),
                quote_meta(b)
            )),
        }),
        (Side::Principal, Attr::SrcPrincipal) => {
            authenticated(string_matcher_with_prefix(v, SPIFFE))
        }
        (Side::Principal, Attr::RequestHeader) => {
            http_only(c, tcp)?;
            let name = in_brackets(&c.key[REQUEST_HEADERS.len()..])?;
            json!({"header": header_matcher(name, v, false)})
        }
        _ => return unimplemented(),
    };
    Ok(Some(m))
}

/// The matcher of all values of an aggregating attribute.
fn aggregate(c: &Cond, values: &[String], tcp: bool, side: Side) -> Result<Option<Value>, Fail> {
    match (side, c.attr) {
        (Side::Permission, Attr::EnvoyFilter) => {
            let (filter, key) = c.key["experimental.".len()..]
                .trim_end_matches(']')
                .split_once('[')
                .ok_or_else(|| format!("invalid key: {}", c.key))?;
            let matchers = values
                .iter()
                .map(|v| match v.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                    Some(inner) => {
                        json!({"list_match": {"one_of": {"string_match": string_matcher(inner)}}})
                    }
                    None => json!({"string_match": string_matcher(v)}),
                })
                .collect();
            Ok(Some(
                json!({"metadata": metadata(filter, &[key], or_matcher(matchers))}),
            ))
        }
        (Side::Principal, Attr::RequestPrincipal) => {
            http_only(c, tcp)?;
            let mut or: Vec<Value> = values.iter().map(|v| request_principal(v)).collect();
            Ok(Some(if or.len() == 1 {
                or.remove(0)
            } else {
                set(Side::Principal.or(), or)
            }))
        }
        (Side::Principal, Attr::RequestAudiences) => {
            http_only(c, tcp)?;
            Ok(Some(jwt_list_claim(&["aud"], values)))
        }
        (Side::Principal, Attr::RequestPresenter) => {
            http_only(c, tcp)?;
            Ok(Some(jwt_list_claim(&["azp"], values)))
        }
        (Side::Principal, Attr::RequestClaims) => {
            http_only(c, tcp)?;
            let claims = nested_brackets(&c.key[REQUEST_CLAIMS.len()..])?;
            let claims: Vec<&str> = claims.iter().map(String::as_str).collect();
            Ok(Some(jwt_list_claim(&claims, values)))
        }
        _ => Err("unimplemented".to_string()),
    }
}

/// `iss/sub` (the issuer may itself hold slashes): two JWT payload matchers.
fn request_principal(v: &str) -> Value {
    let any = || regex(".+");
    let (iss, sub) = match v.rfind('/') {
        Some(i) => (Some(&v[..i]), Some(&v[i + 1..])),
        None => (None, None),
    };
    let exact = |s: &str| string_exact_kind("exact", s, false);
    let (m_iss, m_sub) = if v == "*" {
        (any(), any())
    } else if let Some(rest) = v.strip_prefix('*') {
        match (iss, sub) {
            (Some("*"), Some(sub)) => (any(), exact(sub)),
            (Some(iss), Some(sub)) => (string_exact_kind("suffix", &iss[1..], false), exact(sub)),
            _ => (any(), string_exact_kind("suffix", rest, false)),
        }
    } else if let Some(rest) = v.strip_suffix('*') {
        match (iss, sub) {
            (Some(iss), Some("*")) => (exact(iss), any()),
            (Some(iss), Some(sub)) => (
                exact(iss),
                string_exact_kind("prefix", &sub[..sub.len() - 1], false),
            ),
            _ => (string_exact_kind("prefix", rest, false), any()),
        }
    } else {
        (exact(iss.unwrap_or(v)), exact(sub.unwrap_or("")))
    };
    let claim = |name: &str, m: Value| json!({"metadata": metadata(JWT_FILTER, &[JWT_PAYLOAD, name], json!({"string_match": m}))});
    set(
        Side::Principal.and(),
        vec![claim("iss", m_iss), claim("sub", m_sub)],
    )
}

/// A JWT claim that may be a string or a list of strings.
fn jwt_list_claim(claims: &[&str], values: &[String]) -> Value {
    let value = or_matcher(
        values
            .iter()
            .map(|v| json!({"string_match": string_matcher(v)}))
            .collect(),
    );
    let mut path = vec![JWT_PAYLOAD];
    path.extend_from_slice(claims);
    let either =
        json!({"or_match": {"value_matchers": [{"list_match": {"one_of": value.clone()}}, value]}});
    json!({"metadata": metadata(JWT_FILTER, &path, either)})
}

fn metadata(filter: &str, path: &[&str], value: Value) -> Value {
    let path: Vec<Value> = path.iter().map(|k| json!({"key": k})).collect();
    json!({"filter": filter, "path": path, "value": value})
}

/// One value matcher as it is, several OR-ed.
fn or_matcher(mut matchers: Vec<Value>) -> Value {
    if matchers.len() == 1 {
        matchers.remove(0)
    } else {
        json!({"or_match": {"value_matchers": matchers}})
    }
}

fn authenticated(name: Value) -> Value {
    json!({"authenticated": {"principal_name": name}})
}

/// `*` present, `*x` suffix, `x*` prefix, else exact.
pub(super) fn header_matcher(name: &str, v: &str, ignore_case: bool) -> Value {
    if v == "*" {
        return json!({"name": name, "present_match": true});
    }
    let m = if let Some(s) = v.strip_prefix('*') {
        string_exact_kind("suffix", s, ignore_case)
    } else if let Some(p) = v.strip_suffix('*') {
        string_exact_kind("prefix", p, ignore_case)
    } else {
        string_exact_kind("exact", v, ignore_case)
    };
    json!({"name": name, "string_match": m})
}

/// istiod's string convention with no prefix.
fn string_matcher(v: &str) -> Value {
    string_matcher_with_prefix(v, "")
}

/// `*` any non-empty, `*x` suffix (a regex when a prefix is prepended),
/// `x*` prefix, else exact; `prefix` prepended to the value.
fn string_matcher_with_prefix(v: &str, prefix: &str) -> Value {
    if v == "*" {
        regex(".+")
    } else if let Some(s) = v.strip_prefix('*') {
        if prefix.is_empty() {
            string_exact_kind("suffix", s, false)
        } else {
            regex(&format!("{prefix}.*{}", quote_meta(s)))
        }
    } else if let Some(p) = v.strip_suffix('*') {
        string_exact_kind("prefix", &format!("{prefix}{p}"), false)
    } else {
        string_exact_kind("exact", &format!("{prefix}{v}"), false)
    }
}

/// A `StringMatcher` of one kind (`exact`, `prefix`, `suffix`).
pub(super) fn string_exact_kind(kind: &str, v: &str, ignore_case: bool) -> Value {
    if ignore_case {
        json!({kind: v, "ignore_case": true})
    } else {
        json!({kind: v})
    }
}

fn regex(r: &str) -> Value {
    json!({"safe_regex": {"regex": r}})
}

/// Go's `regexp.QuoteMeta` (fewer characters than `regex::escape`).
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if r"\.+*?()|[]{}^$".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// An address or CIDR as a `CidrRange` (a bare address is a /32 or /128).
fn cidr(v: &str) -> Result<Value, Fail> {
    let bad = || format!("invalid IP address or CIDR {v:?}");
    let (addr, bits) = match v.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (v, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits: u32 = match bits {
        Some(b) => b.parse().ok().filter(|b| *b <= max).ok_or_else(bad)?,
        None => max,
    };
    Ok(json!({"address_prefix": ip.to_string(), "prefix_len": bits}))
}

fn port(v: &str) -> Result<u32, Fail> {
    v.parse::<u32>()
        .ok()
        .filter(|p| *p <= 65535)
        .ok_or_else(|| format!("invalid port {v}"))
}

/// `[name]` → `name`.
fn in_brackets(s: &str) -> Result<&str, Fail> {
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("expecting format [<NAME>], but found {s}"))
}

/// `[a][b]` → `[a, b]`; anything else must be one `[name]` (which may
/// then hold brackets itself).
fn nested_brackets(s: &str) -> Result<Vec<String>, Fail> {
    let b = s.as_bytes();
    let end_of = |begin: usize| -> Option<usize> {
        if b.get(begin) != Some(&b'[') {
            return None;
        }
        (begin + 1..b.len())
            .find(|&i| b[i] == b'[' || b[i] == b']')
            .filter(|&i| b[i] == b']')
    };
    let mut claims = Vec::new();
    let mut begin = 0;
    while begin < b.len() {
        match end_of(begin) {
            Some(end) => {
                claims.push(s[begin + 1..end].to_string());
                begin = end + 1;
            }
            None => return Ok(vec![in_brackets(s)?.to_string()]),
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_conventions() {
        assert_eq!(string_matcher("*"), json!({"safe_regex": {"regex": ".+"}}));
        assert_eq!(string_matcher("*x"), json!({"suffix": "x"}));
        assert_eq!(string_matcher("x*"), json!({"prefix": "x"}));
        assert_eq!(
            string_matcher_with_prefix("*-a.b", SPIFFE),
            json!({"safe_regex": {"regex": "spiffe://.*-a\\.b"}})
        );
        assert_eq!(
            header_matcher(":authority", "*.x.com", true),
            json!({"name": ":authority", "string_match": {"suffix": ".x.com", "ignore_case": true}})
        );
        assert_eq!(quote_meta("a-b[0]"), "a-b\\[0\\]");
    }

    #[test]
    fn addresses_ports_and_brackets() {
        assert_eq!(
            cidr("5.6.0.0/16").unwrap(),
            json!({"address_prefix": "5.6.0.0", "prefix_len": 16})
        );
        assert_eq!(cidr("::1").unwrap()["prefix_len"], 128);
        assert!(cidr("5.6.0.0/33").is_err() && cidr("x").is_err());
        assert!(port("65536").is_err() && port("80").is_ok());
        assert_eq!(nested_brackets("[a][b]").unwrap(), ["a", "b"]);
        assert_eq!(nested_brackets("[a[b]]").unwrap(), ["a[b]"]);
        assert!(nested_brackets("a").is_err());
    }

    #[test]
    fn trust_domain_aliases() {
        let tds = ["td1".to_string(), "cluster.local".to_string()];
        assert_eq!(
            replace_trust_domain_aliases(
                &[
                    "cluster.local/ns/a/sa/b".into(),
                    "*/ns/a/sa/b".into(),
                    "x".into(),
                    "other/ns/a/sa/b".into()
                ],
                &tds
            ),
            [
                "td1/ns/a/sa/b",
                "cluster.local/ns/a/sa/b",
                "*/ns/a/sa/b",
                "x",
                "other/ns/a/sa/b"
            ]
        );
        assert_eq!(
            expand_trust_domain_aliases(&["td1".into(), "z".into(), "cluster.local".into()], &tds),
            ["td1", "cluster.local", "z"]
        );
    }
}
