//! The certificate material istiod's SDS server reads for gateways
//! (istiod-gateway-security.md §1.9): TLS keys of Secrets and CA keys of
//! ConfigMaps, by namespace and name. Other keys are not kept.

use std::collections::BTreeMap;

use crate::base64;
use crate::model::Store;
use crate::model::core::{ConfigMap, Secret};

/// Keys that carry TLS material (either naming convention istiod accepts).
const TLS_KEYS: [&str; 6] = ["tls.crt", "tls.key", "cert", "key", "ca.crt", "cacert"];

#[derive(Debug, Default)]
pub struct Credentials {
    /// (namespace, name) → key → base64 of the value.
    secrets: BTreeMap<(String, String), BTreeMap<String, String>>,
    /// ConfigMap CA bundles, same shape.
    config_maps: BTreeMap<(String, String), BTreeMap<String, String>>,
}

/// A certificate and key pair found in a Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// base64 of the PEM chain.
    pub cert: String,
}

/// Why istiod cannot serve a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    NotFound,
    /// The Secret exists without `cert`+`key` or `tls.crt`+`tls.key`.
    NoKeys(Vec<String>),
    Empty,
}

impl Credentials {
    /// The certificate of Secret `ns/name`, as istiod's `ExtractCertInfo`
    /// accepts it: `cert`+`key`, else `tls.crt`+`tls.key`.
    pub fn key_pair(&self, ns: &str, name: &str) -> Result<KeyPair, Missing> {
        let data = self
            .secrets
            .get(&(ns.to_string(), name.to_string()))
            .ok_or(Missing::NotFound)?;
        for (cert, key) in [("cert", "key"), ("tls.crt", "tls.key")] {
            if let (Some(c), Some(k)) = (data.get(cert), data.get(key)) {
                if c.is_empty() || k.is_empty() {
                    return Err(Missing::Empty);
                }
                return Ok(KeyPair { cert: c.clone() });
            }
        }
        Err(Missing::NoKeys(data.keys().cloned().collect()))
    }

    /// The CA bundle (base64) of a `-cacert` credential: Secret
    /// `<name>-cacert` if present, else Secret `<name>`; key `cacert`, then
    /// `ca.crt`.
    pub fn ca_cert(&self, ns: &str, name: &str) -> Result<String, Missing> {
        let own = format!("{name}-cacert");
        let data = self
            .secrets
            .get(&(ns.to_string(), own))
            .or_else(|| self.secrets.get(&(ns.to_string(), name.to_string())))
            .ok_or(Missing::NotFound)?;
        ca_of(data)
    }

    /// The CA bundle (base64) of ConfigMap `ns/name`.
    pub fn config_map_ca(&self, ns: &str, name: &str) -> Result<String, Missing> {
        let data = self
            .config_maps
            .get(&(ns.to_string(), name.to_string()))
            .ok_or(Missing::NotFound)?;
        ca_of(data)
    }
}

fn ca_of(data: &BTreeMap<String, String>) -> Result<String, Missing> {
    data.get("cacert")
        .filter(|v| !v.is_empty())
        .or_else(|| data.get("ca.crt"))
        .cloned()
        .ok_or_else(|| Missing::NoKeys(data.keys().cloned().collect()))
}

pub fn build(store: &Store) -> Credentials {
    let tls = |k: &String| TLS_KEYS.contains(&k.as_str());
    let mut out = Credentials::default();
    for (o, s) in store.of::<Secret>() {
        // `data` is base64 already; `stringData` wins over it, as the API
        // server merges them.
        let mut keys: BTreeMap<String, String> = s
            .data
            .iter()
            .filter(|(k, _)| tls(k))
            .map(|(k, v)| (k.clone(), canonical(v)))
            .collect();
        keys.extend(
            s.string_data
                .iter()
                .filter(|(k, _)| tls(k))
                .map(|(k, v)| (k.clone(), base64::encode(v.as_bytes()))),
        );
        out.secrets
            .insert((o.namespace().to_string(), o.name().to_string()), keys);
    }
    for (o, c) in store.of::<ConfigMap>() {
        let keys: BTreeMap<String, String> = c
            .data
            .iter()
            .filter(|(k, _)| tls(k))
            .map(|(k, v)| (k.clone(), base64::encode(v.as_bytes())))
            .collect();
        if !keys.is_empty() {
            out.config_maps
                .insert((o.namespace().to_string(), o.name().to_string()), keys);
        }
    }
    out
}

/// Secret data as Envoy prints bytes: base64 without line breaks.
fn canonical(b64: &str) -> String {
    base64::decode(b64).map_or_else(|| b64.to_string(), |bytes| base64::encode(&bytes))
}
