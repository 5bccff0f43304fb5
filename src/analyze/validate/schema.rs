//! What the API server checks before istiod sees an Istio object: the CRD's
//! structural schema (types, enums, lengths, required fields) and its CEL
//! rules, with the API server's messages
//! (`<path>: Invalid value: "object": <rule message>`). Only the rules users
//! meet, and those the webhook cannot see (an empty string is not an unset
//! one to istiod), are written here; the webhook judges the rest.

use serde_json::Value;

use super::Findings;
use super::common::parse_duration;

/// Values at `pattern` under `root`: dot-separated keys, a `[]` suffix walks
/// an array's items, a `{}` suffix a map's values. Paths as the API server
/// writes them (`spec.rules[0].from[1].source`, `spec.portLevelMtls[80]`).
fn each<'a>(root: &'a Value, pattern: &str) -> Vec<(String, &'a Value)> {
    let mut out = vec![(String::new(), root)];
    for seg in pattern.split('.') {
        let (key, iter) = if let Some(k) = seg.strip_suffix("[]") {
            (k, Some('['))
        } else if let Some(k) = seg.strip_suffix("{}") {
            (k, Some('{'))
        } else {
            (seg, None)
        };
        let mut next = Vec::new();
        for (path, v) in out {
            let Some(child) = v.get(key).filter(|c| !c.is_null()) else {
                continue;
            };
            let path = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            match (iter, child) {
                (None, _) => next.push((path, child)),
                (Some('['), Value::Array(items)) => next.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| (format!("{path}[{i}]"), item)),
                ),
                (Some(_), Value::Object(map)) => {
                    next.extend(map.iter().map(|(k, item)| (format!("{path}[{k}]"), item)));
                }
                _ => {}
            }
        }
        out = next;
    }
    out
}

/// The checks of one object, each naming its path.
struct Schema<'a> {
    root: &'a Value,
    f: &'a mut Findings,
}

impl Schema<'_> {
    fn min_len(&mut self, pattern: &str) {
        for (path, v) in each(self.root, pattern) {
            if v.as_str() == Some("") {
                self.f
                    .error(format!("{path} in body should be at least 1 chars long"));
            }
        }
    }

    fn pattern(&mut self, pattern: &str, regex_text: &str, ok: fn(&str) -> bool) {
        for (path, v) in each(self.root, pattern) {
            if let Some(s) = v.as_str()
                && !ok(s)
            {
                self.f
                    .error(format!("{path} in body should match '{regex_text}'"));
            }
        }
    }

    fn one_of(&mut self, pattern: &str, allowed: &[&str]) {
        for (path, v) in each(self.root, pattern) {
            let Some(s) = v.as_str() else { continue };
            if !allowed.contains(&s) {
                let list: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
                self.f.error(format!(
                    "{path}: Unsupported value: {s:?}: supported values: {}",
                    list.join(", ")
                ));
            }
        }
    }

    /// A CEL rule on the values at `pattern`; `ty` is how the API server
    /// names the value's type in the message.
    fn rule(&mut self, pattern: &str, ty: &str, holds: impl Fn(&Value) -> bool, message: &str) {
        for (path, v) in each(self.root, pattern) {
            if !holds(v) {
                self.f
                    .error(format!("{path}: Invalid value: {ty:?}: {message}"));
            }
        }
    }

    fn required(&mut self, parent: &str, field: &str) {
        for (path, v) in each(self.root, parent) {
            if v.get(field).is_none_or(Value::is_null) {
                self.f.error(format!("{path}.{field}: Required value"));
            }
        }
    }

    /// Array items that must be objects.
    fn objects(&mut self, pattern: &str) {
        for (path, v) in each(self.root, pattern) {
            if v.is_null() {
                self.f
                    .error(format!("{path} in body must be of type object: \"null\""));
            }
        }
    }

    /// Items of a list keyed by `name` (`x-kubernetes-list-type: map`).
    fn unique_names(&mut self, pattern: &str) {
        let mut seen = std::collections::BTreeSet::new();
        for (path, item) in each(self.root, pattern) {
            let name = str_at(item, "name");
            if !seen.insert(name.to_string()) {
                self.f.error(format!(
                    "{path}: Duplicate value: map[string]interface {{}}{{\"name\":{name:?}}}"
                ));
            }
        }
    }

    /// The `labels` selector of networking kinds.
    fn workload_selector(&mut self) {
        self.rule(
            "spec.workloadSelector.labels{}",
            "string",
            |v| !v.as_str().unwrap_or("").contains('*'),
            "wildcard is not supported in selector",
        );
    }

    /// A field written with no value (`url:`), which the schema refuses
    /// and istiod would read as unset.
    fn not_null(&mut self, parent: &str, field: &str, ty: &str) {
        for (path, v) in each(self.root, parent) {
            if v.get(field).is_some_and(Value::is_null) {
                self.f.error(format!(
                    "{path}.{field} in body must be of type {ty}: \"null\""
                ));
            }
        }
    }

    fn ports(&mut self, pattern: &str) {
        self.rule(
            pattern,
            "integer",
            |v| v.as_i64().is_none_or(|p| (1..=65535).contains(&p)),
            "port must be between 1-65535",
        );
    }

    fn durations(&mut self, pattern: &str) {
        self.rule(
            pattern,
            "string",
            |v| {
                v.as_str()
                    .is_none_or(|s| parse_duration(s).is_some_and(|ns| ns >= 1_000_000))
            },
            "must be a valid duration greater than 1ms",
        );
    }

    fn range(&mut self, pattern: &str, min: f64, max: Option<f64>) {
        for (path, v) in each(self.root, pattern) {
            let Some(n) = v.as_f64() else { continue };
            if n < min {
                self.f.error(format!(
                    "{path}: Invalid value: {v}: {path} in body should be greater than or equal to {min}"
                ));
            } else if let Some(max) = max.filter(|m| n > *m) {
                self.f.error(format!(
                    "{path}: Invalid value: {v}: {path} in body should be less than or equal to {max}"
                ));
            }
        }
    }

    /// The `matchLabels` selector rules of security, telemetry, extension
    /// and ProxyConfig CRDs.
    fn match_labels(&mut self, selector: &str) {
        let labels = format!("{selector}.matchLabels");
        self.rule(
            &format!("{labels}{{}}"),
            "string",
            |v| !v.as_str().unwrap_or("").contains('*'),
            "wildcard not allowed in label value match",
        );
        self.rule(
            &labels,
            "object",
            |v| keys(v).all(|k| !k.contains('*')),
            "wildcard not allowed in label key match",
        );
        self.rule(
            &labels,
            "object",
            |v| keys(v).all(|k| !k.is_empty()),
            "key must not be empty",
        );
    }

    /// `selector` / `targetRef` / `targetRefs` of policy-attached kinds.
    fn attachment(&mut self, target_ref: bool) {
        self.match_labels("spec.selector");
        let mut refs = vec!["spec.targetRefs[]"];
        if target_ref {
            refs.push("spec.targetRef");
            self.rule(
                "spec",
                "object",
                |s| {
                    ["selector", "targetRef", "targetRefs"]
                        .iter()
                        .filter(|k| has(s, k))
                        .count()
                        <= 1
                },
                "only one of targetRefs or selector can be set",
            );
        } else {
            self.rule(
                "spec",
                "object",
                |s| !(has(s, "selector") && has(s, "targetRefs")),
                "only one of targetRefs or selector can be set",
            );
        }
        for r in refs {
            self.required(r, "name");
            self.required(r, "kind");
            self.pattern(&format!("{r}.group"), GROUP_PATTERN, is_group);
            self.pattern(&format!("{r}.kind"), KIND_PATTERN, is_kind);
            self.rule(
                r,
                "object",
                |v| {
                    v.get("namespace")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                },
                "cross namespace referencing is not currently supported",
            );
        }
    }

    /// The address and port rules of a WorkloadEntry spec (also a
    /// ServiceEntry endpoint and a WorkloadGroup template).
    fn workload(&mut self, at: &str, address_required: bool) {
        let addr = |v: &Value| {
            v.get("address")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if address_required {
            self.rule(
                at,
                "object",
                |v| has(v, "address") || has(v, "network"),
                "Address is required",
            );
        }
        self.rule(
            at,
            "object",
            |v| {
                addr(v)
                    .strip_prefix("unix://")
                    .is_none_or(|p| p.starts_with('/') || p.starts_with('@'))
            },
            "UDS must be an absolute path or abstract socket",
        );
        self.rule(
            at,
            "object",
            |v| {
                addr(v)
                    .strip_prefix("unix://")
                    .is_none_or(|p| !p.ends_with('/'))
            },
            "UDS may not be a dir",
        );
        self.rule(
            at,
            "object",
            |v| !addr(v).starts_with("unix://") || !has(v, "ports"),
            "UDS may not include ports",
        );
        self.ports(&format!("{at}.ports{{}}"));
        self.rule(
            &format!("{at}.ports"),
            "object",
            |v| keys(v).all(is_port_name),
            "port name must be valid",
        );
    }
}

const GROUP_PATTERN: &str = r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const KIND_PATTERN: &str = "^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$";

fn is_group(s: &str) -> bool {
    s.is_empty() || s.split('.').all(super::common::is_dns1123_label)
}

fn is_kind(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// A port name the CRDs accept: a DNS-1123 label up to 15 characters
/// (Kubernetes' IANA service name rule, as the CRD's CEL spells it).
fn is_port_name(name: &str) -> bool {
    name.len() <= 15 && super::common::is_dns1123_label(name)
}

fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

fn keys(v: &Value) -> impl Iterator<Item = &str> {
    v.as_object()
        .into_iter()
        .flat_map(|m| m.keys().map(String::as_str))
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Kinds whose CRD requires `spec`.
const SPEC_REQUIRED: &[&str] = &["ServiceEntry", "WorkloadEntry", "WorkloadGroup"];

/// Judge `raw` (the whole document) against its CRD.
pub fn check(kind: &str, group: &str, raw: &Value, f: &mut Findings) {
    if group == super::GATEWAY_API_GROUP {
        return;
    }
    match raw.get("spec") {
        None if SPEC_REQUIRED.contains(&kind) => {
            f.error("spec: Required value");
            return;
        }
        Some(Value::Null) => {
            f.error("spec in body must be of type object: \"null\"");
            return;
        }
        _ => {}
    }
    let mut s = Schema { root: raw, f };
    match kind {
        "AuthorizationPolicy" => {
            s.attachment(true);
            s.one_of("spec.action", &["ALLOW", "DENY", "AUDIT", "CUSTOM"]);
            s.rule(
                "spec.rules[].from[].source",
                "object",
                |src| {
                    !(has(src, "serviceAccounts") || has(src, "notServiceAccounts"))
                        || !["principals", "notPrincipals", "namespaces", "notNamespaces"]
                            .iter()
                            .any(|k| has(src, k))
                },
                "Cannot set serviceAccounts with namespaces or principals",
            );
        }
        "RequestAuthentication" => {
            s.attachment(true);
            s.objects("spec.jwtRules[]");
            for list in [
                "audiences",
                "fromParams",
                "fromCookies",
                "spaceDelimitedClaims",
            ] {
                s.min_len(&format!("spec.jwtRules[].{list}[]"));
            }
            s.required("spec.jwtRules[].fromHeaders[]", "name");
            s.min_len("spec.jwtRules[].fromHeaders[].name");
            s.objects("spec.jwtRules[].outputClaimToHeaders[]");
            s.min_len("spec.jwtRules[].outputClaimToHeaders[].claim");
            s.min_len("spec.jwtRules[].outputClaimToHeaders[].header");
            s.pattern(
                "spec.jwtRules[].outputClaimToHeaders[].header",
                "^[-_A-Za-z0-9]+$",
                is_header_name,
            );
            s.rule(
                "spec.jwtRules[].jwksUri",
                "string",
                |v| {
                    let u = v.as_str().unwrap_or("");
                    u.is_empty() || u.starts_with("http://") || u.starts_with("https://")
                },
                "url must have scheme http:// or https://",
            );
            s.rule(
                "spec.jwtRules[]",
                "object",
                |r| !(has(r, "jwks") && has(r, "jwksUri")),
                "only one of jwks or jwksUri can be set",
            );
            s.durations("spec.jwtRules[].timeout");
            s.one_of("spec.jwtRules[].presence", &["OPTIONAL", "REQUIRED"]);
        }
        "PeerAuthentication" => {
            s.match_labels("spec.selector");
            let modes = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];
            s.one_of("spec.mtls.mode", &modes);
            s.one_of("spec.portLevelMtls{}.mode", &modes);
            for (path, v) in each(raw, "spec.portLevelMtls") {
                if v.as_object().is_some_and(|m| m.is_empty()) {
                    s.f.error(format!("{path} in body should have at least 1 properties"));
                }
            }
            s.rule(
                "spec",
                "object",
                |spec| !has(spec, "portLevelMtls") || has(spec, "selector"),
                "portLevelMtls requires selector",
            );
            for (path, v) in each(raw, "spec.portLevelMtls") {
                if keys(v).any(|k| k.parse::<i64>().is_err()) {
                    s.f.error(format!("{path}: Invalid value: \"object\": type conversion error from 'string' to 'int'"));
                } else if keys(v).any(|k| !k.parse::<i64>().is_ok_and(|p| (1..=65535).contains(&p)))
                {
                    s.f.error(format!(
                        "{path}: Invalid value: \"object\": port must be between 1-65535"
                    ));
                }
            }
        }
        "ProxyConfig" => {
            s.match_labels("spec.selector");
            s.range("spec.concurrency", 0.0, None);
        }
        "Telemetry" => {
            s.attachment(true);
            for part in ["metrics", "tracing", "accessLogging"] {
                s.min_len(&format!("spec.{part}[].providers[].name"));
            }
            s.min_len("spec.metrics[].overrides[].match.customMetric");
            s.durations("spec.metrics[].reportingInterval");
            s.one_of(
                "spec.metrics[].overrides[].tagOverrides{}.operation",
                &["UPSERT", "REMOVE"],
            );
            s.rule(
                "spec.metrics[].overrides[].tagOverrides{}",
                "object",
                |t| str_at(t, "operation") == "REMOVE" || has(t, "value"),
                "value must be set when operation is UPSERT",
            );
            s.rule(
                "spec.metrics[].overrides[].tagOverrides{}",
                "object",
                |t| str_at(t, "operation") != "REMOVE" || !has(t, "value"),
                "value must not be set when operation is REMOVE",
            );
        }
        "WasmPlugin" | "TrafficExtension" => {
            let at = if kind == "WasmPlugin" {
                "spec"
            } else {
                "spec.wasm"
            };
            s.attachment(kind == "WasmPlugin");
            if kind == "TrafficExtension" {
                s.rule(
                    "spec",
                    "object",
                    |v| has(v, "wasm") != has(v, "lua"),
                    "exactly one of wasm or lua must be set",
                );
            }
            s.not_null(at, "url", "string");
            s.min_len(&format!("{at}.url"));
            s.rule(
                &format!("{at}.url"),
                "string",
                |v| wasm_url_scheme_ok(v.as_str().unwrap_or("")),
                "url must have schema one of [http, https, file, oci]",
            );
            s.pattern(&format!("{at}.sha256"), "(^$|^[a-f0-9]{64}$)", |h| {
                h.is_empty()
                    || (h.len() == 64 && h.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9')))
            });
            s.min_len(&format!("{at}.imagePullSecret"));
            s.min_len(&format!("{at}.pluginName"));
            s.min_len(&format!("{at}.vmConfig.env[].name"));
            s.unique_names(&format!("{at}.vmConfig.env[]"));
            s.rule(
                &format!("{at}.vmConfig.env[]"),
                "object",
                |e| !has(e, "value") || matches!(str_at(e, "valueFrom"), "" | "INLINE"),
                "value may only be set when valueFrom is INLINE",
            );
            s.required("spec.match[].ports[]", "number");
            s.ports("spec.match[].ports[].number");
            s.one_of(
                "spec.phase",
                &["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"],
            );
            s.one_of(
                &format!("{at}.failStrategy"),
                &["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"],
            );
            s.one_of(
                &format!("{at}.imagePullPolicy"),
                &["UNSPECIFIED_POLICY", "IfNotPresent", "Always"],
            );
            s.one_of(
                &format!("{at}.vmConfig.env[].valueFrom"),
                &["INLINE", "HOST"],
            );
        }
        "ServiceEntry" => {
            s.required("spec", "hosts");
            s.rule(
                "spec.hosts[]",
                "string",
                |v| v.as_str() != Some("*"),
                "hostname cannot be wildcard",
            );
            s.workload_selector();
            s.rule(
                "spec",
                "object",
                |v| !(has(v, "workloadSelector") && has(v, "endpoints")),
                "only one of WorkloadSelector or Endpoints can be set",
            );
            s.rule(
                "spec",
                "object",
                |v| {
                    let cidr = v
                        .get("addresses")
                        .and_then(Value::as_array)
                        .is_some_and(|a| {
                            a.iter()
                                .any(|x| x.as_str().is_some_and(|x| x.contains('/')))
                        });
                    !cidr || matches!(str_at(v, "resolution"), "" | "NONE" | "STATIC")
                },
                "CIDR addresses are allowed only for NONE/STATIC resolution types",
            );
            s.rule(
                "spec",
                "object",
                |v| !matches!(str_at(v, "resolution"), "" | "NONE") || !has(v, "endpoints"),
                "NONE mode cannot set endpoints",
            );
            s.rule(
                "spec",
                "object",
                |v| {
                    str_at(v, "resolution") != "DNS_ROUND_ROBIN"
                        || v.get("endpoints")
                            .and_then(Value::as_array)
                            .is_none_or(|e| e.len() <= 1)
                },
                "DNS_ROUND_ROBIN mode cannot have multiple endpoints",
            );
            s.unique_names("spec.ports[]");
            s.rule(
                "spec.ports",
                "object",
                |v| {
                    let nums: Vec<i64> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p.get("number").and_then(Value::as_i64))
                        .collect();
                    nums.iter().enumerate().all(|(i, n)| !nums[..i].contains(n))
                },
                "port number cannot be duplicated",
            );
            s.ports("spec.ports[].number");
            s.ports("spec.ports[].targetPort");
            s.workload("spec.endpoints[]", true);
            s.one_of(
                "spec.resolution",
                &["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"],
            );
            s.one_of("spec.location", &["MESH_EXTERNAL", "MESH_INTERNAL"]);
        }
        "WorkloadEntry" => s.workload("spec", true),
        "WorkloadGroup" => {
            s.workload("spec.template", false);
            for probe in ["httpGet", "tcpSocket", "grpc"] {
                s.ports(&format!("spec.probe.{probe}.port"));
            }
            s.pattern(
                "spec.probe.httpGet.httpHeaders[].name",
                "^[-_A-Za-z0-9]+$",
                is_header_name,
            );
            s.rule(
                "spec.probe.httpGet",
                "object",
                |v| matches!(str_at(v, "scheme"), "" | "HTTP" | "HTTPS"),
                "scheme must be one of [HTTP, HTTPS]",
            );
        }
        "EnvoyFilter" => {
            s.rule(
                "spec.configPatches[].match",
                "object",
                |m| {
                    if str_at(m, "context") == "WAYPOINT" {
                        has(m, "waypoint")
                    } else {
                        !has(m, "waypoint")
                    }
                },
                "only support waypointMatch when context is WAYPOINT",
            );
            s.ports("spec.configPatches[].match.waypoint.portNumber");
            s.workload_selector();
            s.rule(
                "spec",
                "object",
                |v| !(has(v, "workloadSelector") && has(v, "targetRefs")),
                "only one of targetRefs or workloadSelector can be set",
            );
            s.one_of(
                "spec.configPatches[].applyTo",
                &[
                    "INVALID",
                    "LISTENER",
                    "FILTER_CHAIN",
                    "NETWORK_FILTER",
                    "HTTP_FILTER",
                    "ROUTE_CONFIGURATION",
                    "VIRTUAL_HOST",
                    "HTTP_ROUTE",
                    "CLUSTER",
                    "EXTENSION_CONFIG",
                    "BOOTSTRAP",
                    "LISTENER_FILTER",
                ],
            );
            s.one_of(
                "spec.configPatches[].match.context",
                &[
                    "ANY",
                    "SIDECAR_INBOUND",
                    "SIDECAR_OUTBOUND",
                    "GATEWAY",
                    "WAYPOINT",
                ],
            );
            s.one_of(
                "spec.configPatches[].patch.operation",
                &[
                    "INVALID",
                    "MERGE",
                    "ADD",
                    "REMOVE",
                    "INSERT_BEFORE",
                    "INSERT_AFTER",
                    "INSERT_FIRST",
                    "REPLACE",
                    "MERGE_AND_REPLACE_LIST",
                ],
            );
        }
        "DestinationRule" => {
            s.match_labels("spec.workloadSelector");
            for tp in ["spec.trafficPolicy", "spec.subsets[].trafficPolicy"] {
                for lb in [
                    format!("{tp}.loadBalancer"),
                    format!("{tp}.portLevelSettings[].loadBalancer"),
                ] {
                    s.required(&format!("{lb}.warmup"), "duration");
                    s.durations(&format!("{lb}.warmup.duration"));
                    s.range(&format!("{lb}.warmup.minimumPercent"), 0.0, Some(100.0));
                    s.range(&format!("{lb}.warmup.aggression"), 0.0, None);
                    s.one_of(
                        &format!("{lb}.simple"),
                        &[
                            "UNSPECIFIED",
                            "LEAST_CONN",
                            "RANDOM",
                            "PASSTHROUGH",
                            "ROUND_ROBIN",
                            "LEAST_REQUEST",
                        ],
                    );
                }
                s.durations(&format!("{tp}.connectionPool.tcp.connectTimeout"));
                s.durations(&format!("{tp}.outlierDetection.interval"));
                s.durations(&format!("{tp}.outlierDetection.baseEjectionTime"));
                s.one_of(
                    &format!("{tp}.tls.mode"),
                    &["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"],
                );
            }
        }
        "Gateway" => {
            s.one_of(
                "spec.servers[].tls.mode",
                &[
                    "PASSTHROUGH",
                    "SIMPLE",
                    "MUTUAL",
                    "AUTO_PASSTHROUGH",
                    "ISTIO_MUTUAL",
                    "OPTIONAL_MUTUAL",
                ],
            );
            s.rule(
                "spec.servers[].tls",
                "object",
                |t| !(has(t, "credentialName") && has(t, "credentialNames")),
                "only one of credentialName or credentialNames can be set",
            );
            s.rule(
                "spec.servers[].tls",
                "object",
                |t| !(has(t, "credentialName") && has(t, "tlsCertificates")),
                "only one of credentialName or tlsCertificates can be set",
            );
            s.rule(
                "spec.servers[].tls",
                "object",
                |t| !(has(t, "credentialNames") && has(t, "tlsCertificates")),
                "only one of credentialNames or tlsCertificates can be set",
            );
        }
        "VirtualService" => {
            s.durations("spec.http[].timeout");
            s.durations("spec.http[].retries.perTryTimeout");
        }
        "Sidecar" => {
            s.workload_selector();
        }
        _ => {}
    }
}

/// The WasmPlugin URL rule: parsed as is, or with `http://` prepended, the
/// scheme must be one Istio fetches from.
fn wasm_url_scheme_ok(url: &str) -> bool {
    if url.is_empty() {
        return true;
    }
    let scheme = |u: &str| -> Option<String> {
        let (s, rest) = u.split_once(':')?;
        let valid = s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        (valid && !rest.is_empty() && valid_url_chars(rest)).then(|| s.to_ascii_lowercase())
    };
    let ok = |s: &str| matches!(s, "" | "http" | "https" | "file" | "oci");
    match scheme(url) {
        Some(s) => ok(&s),
        None => valid_url_chars(url) && !url.starts_with('#') && !url.contains(':'),
    }
}

/// Characters and escapes a URL may hold (CEL's `isURL` refuses bad `%`
/// escapes and a second `#`).
fn valid_url_chars(s: &str) -> bool {
    super::common::escapes_ok(s) && s.matches('#').count() <= 1 && !s.contains(' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(kind: &str, doc: Value) -> Vec<String> {
        let mut f = Findings::default();
        check(kind, "x", &doc, &mut f);
        f.errors
    }

    #[test]
    fn paths_name_items_and_map_entries() {
        let doc = json!({"spec": {"portLevelMtls": {"80": {"mode": "BLAH"}}}});
        let found = each(&doc, "spec.portLevelMtls{}.mode");
        assert_eq!(found[0].0, "spec.portLevelMtls[80].mode");
        let doc = json!({"spec": {"rules": [{"from": [{}, {"source": {}}]}]}});
        assert_eq!(
            each(&doc, "spec.rules[].from[].source")[0].0,
            "spec.rules[0].from[1].source"
        );
    }

    #[test]
    fn enums_lengths_and_rules() {
        assert_eq!(
            errors(
                "PeerAuthentication",
                json!({"spec": {"mtls": {"mode": "BLAH"}}})
            ),
            vec![
                "spec.mtls.mode: Unsupported value: \"BLAH\": supported values: \"UNSET\", \"DISABLE\", \"PERMISSIVE\", \"STRICT\""
            ]
        );
        assert_eq!(
            errors(
                "WasmPlugin",
                json!({"spec": {"url": "x", "pluginName": ""}})
            ),
            vec!["spec.pluginName in body should be at least 1 chars long"]
        );
        assert_eq!(
            errors("ServiceEntry", json!({})),
            vec!["spec: Required value"]
        );
        assert!(errors("ServiceEntry", json!({"spec": {"hosts": ["a.com"]}})).is_empty());
    }

    #[test]
    fn wasm_urls() {
        assert!(wasm_url_scheme_ok("oci://ghcr.io/x"));
        assert!(wasm_url_scheme_ok("test"));
        assert!(!wasm_url_scheme_ok("fake://example.com"));
        assert!(!wasm_url_scheme_ok("#%blah$#@"));
    }
}
