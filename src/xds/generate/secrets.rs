//! The SDS secrets istiod itself serves a proxy (istiod-gateway-security.md
//! §1.9): every `credentialName` its listeners and clusters reference, read
//! from the manifests' Secrets and ConfigMaps as istiod's SDS server would,
//! or left warming when istiod cannot or may not serve it; and the workload
//! certificate and root (`default`, `ROOTCA`) istio-agent serves, simulated.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::Proxy;
use super::json::object;
use super::simulated_cert::pem_base64;
use crate::base64;
use crate::registry::config::credentials::Credentials;

/// What Envoy shows for a private key: never the key.
const REDACTED: &str = "[redacted]";

/// The workload certificate and the mesh root, which istio-agent serves.
const AGENT_SECRETS: [&str; 2] = ["default", "ROOTCA"];

/// Names of the SDS resources fetched over ADS, and of the agent's
/// certificate and root, anywhere in `resources`, in first-reference order.
pub fn referenced<'a>(resources: impl Iterator<Item = &'a Value>) -> Vec<String> {
    // Only the fields on the way to a TLS context are searched: a large
    // mesh's clusters are otherwise walked whole.
    const PATH: [&str; 9] = [
        "filter_chains",
        "default_filter_chain",
        "transport_socket",
        "transport_socket_matches",
        "typed_config",
        "common_tls_context",
        "tls_certificate_sds_secret_configs",
        "combined_validation_context",
        "validation_context_sds_secret_config",
    ];
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                // One pass over the (few) entries instead of a hashed lookup
                // per field name; the fields are still walked in PATH order.
                let (mut name, mut source) = (None, None);
                let mut next: [Option<&Value>; PATH.len()] = [None; PATH.len()];
                for (k, x) in m {
                    match k.as_str() {
                        "name" => name = Some(x),
                        "sds_config" => source = Some(x),
                        k => {
                            if let Some(i) = PATH.iter().position(|p| *p == k) {
                                next[i] = Some(x);
                            }
                        }
                    }
                }
                if let (Some(Value::String(name)), Some(source)) = (name, source)
                    && (source.get("ads").is_some() || AGENT_SECRETS.contains(&name.as_str()))
                    && !out.contains(name)
                {
                    out.push(name.clone());
                }
                next.into_iter().flatten().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    resources.for_each(|r| walk(r, &mut out));
    out
}

/// The Secret resources for `names`: with their material when istiod
/// serves it, as a bare name (warming) when it does not.
/// `verified` lists the `kubernetes-gateway://` credentials the proxy's
/// Gateway API gateways may read.
pub fn secrets(
    credentials: &Credentials,
    proxy: &Proxy,
    trust_domain: &str,
    names: &[String],
    verified: &BTreeSet<String>,
) -> Vec<Value> {
    names
        .iter()
        .map(|name| {
            agent_material(proxy, trust_domain, name)
                .or_else(|| material(credentials, proxy, name, verified))
                .map(|(k, v)| object([("name", json!(name)), (k, v)]))
                .unwrap_or_else(|| json!({"name": name}))
        })
        .collect()
}

/// The simulated workload certificate (for the proxy's SPIFFE identity)
/// or mesh root (for the trust domain).
fn agent_material(proxy: &Proxy, trust_domain: &str, name: &str) -> Option<(&'static str, Value)> {
    match name {
        "default" => Some((
            "tls_certificate",
            json!({
                "certificate_chain": {"inline_bytes": pem_base64(&proxy.identity, Some(&proxy.identity))},
                "private_key": {"inline_bytes": base64::encode(REDACTED.as_bytes())},
            }),
        )),
        "ROOTCA" => Some((
            "validation_context",
            json!({"trusted_ca": {"inline_bytes": pem_base64(trust_domain, None)}}),
        )),
        _ => None,
    }
}

/// The secret's field (`tls_certificate` or `validation_context`), if served.
fn material(
    credentials: &Credentials,
    proxy: &Proxy,
    name: &str,
    verified: &BTreeSet<String>,
) -> Option<(&'static str, Value)> {
    let (ns, secret, from_config_map) = if let Some(rest) = name.strip_prefix("kubernetes://") {
        // Always the proxy's own namespace: istiod denies any other.
        let (ns, secret) = rest.split_once('/').unwrap_or((&proxy.namespace, rest));
        if ns != proxy.namespace {
            return None;
        }
        (ns, secret, false)
    } else if let Some(rest) = name.strip_prefix("kubernetes-gateway://") {
        if !verified.contains(name) {
            return None;
        }
        let (ns, secret) = rest.split_once('/')?;
        (ns, secret, false)
    } else if let Some(rest) = name.strip_prefix("configmap://") {
        let (ns, cm) = rest.split_once('/')?;
        (ns, cm, true)
    } else {
        return None;
    };
    match secret.strip_suffix("-cacert") {
        Some(base) => {
            let ca = if from_config_map {
                credentials.config_map_ca(ns, base)
            } else {
                credentials.ca_cert(ns, base)
            };
            let ca = ca.ok()?;
            Some((
                "validation_context",
                json!({"trusted_ca": {"inline_bytes": ca}}),
            ))
        }
        None if from_config_map => None,
        None => {
            let pair = credentials.key_pair(ns, secret).ok()?;
            Some((
                "tls_certificate",
                json!({
                    "certificate_chain": {"inline_bytes": pair.cert},
                    "private_key": {"inline_bytes": base64::encode(REDACTED.as_bytes())},
                }),
            ))
        }
    }
}
