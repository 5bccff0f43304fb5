//! Istio mTLS and DestinationRule TLS contexts (istiod-sidecar.md §6.4, §7.4).
//!
//! Every context is returned as a whole transport socket
//! (`envoy.transport_sockets.tls`), fields in proto field-number order as
//! Envoy's config dump prints them.

use serde_json::{Map, Value, json};

use crate::model::istio::{ClientTlsSettings, ServerTlsSettings};
use crate::model::mesh_config::{MeshConfig, TlsConfig};

use super::json::{any, object};

const TLS_SOCKET: &str = "envoy.transport_sockets.tls";
const UPSTREAM_TLS: &str = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
const DOWNSTREAM_TLS: &str = "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

/// Ciphers of mesh mTLS servers unless `meshMTLS.cipherSuites` is set.
const MESH_CIPHERS: [&str; 6] = [
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
];

/// Istio mTLS UpstreamTlsContext (transport socket `envoy.transport_sockets.tls`)
/// with SNI outbound_.PORT_.SUBSET_.HOST and SANs.
pub fn istio_upstream_tls(sni: &str, sans: &[String], h2: bool) -> Value {
    let alpn: &[&str] = if h2 {
        &["istio-peer-exchange", "istio", "h2"]
    } else {
        &["istio-peer-exchange", "istio"]
    };
    let common = object([
        ("tls_params", tls_params("TLSv1_2")),
        ("alpn_protocols", json!(alpn)),
        (
            "tls_certificate_sds_secret_configs",
            Value::Array(vec![sds_secret("default")]),
        ),
        (
            "combined_validation_context",
            object([
                ("default_validation_context", san_matchers(sans, &[])),
                ("validation_context_sds_secret_config", sds_secret("ROOTCA")),
            ]),
        ),
    ]);
    socket(
        UPSTREAM_TLS,
        object([("common_tls_context", common), ("sni", json!(sni))]),
    )
}

/// Istio mTLS DownstreamTlsContext for inbound chains (§6.4): ALPN given by caller.
pub fn istio_downstream_tls(alpn: &[&str], mesh_config: &MeshConfig) -> Value {
    let mtls = mesh_config.mesh_mtls.as_ref();
    let min = match mtls.and_then(|m| m.min_protocol_version.as_deref()) {
        Some("TLSV1_3") => "TLSv1_3",
        _ => "TLSv1_2",
    };
    let ciphers: Vec<String> = match mtls.filter(|m| !m.cipher_suites.is_empty()) {
        Some(m) => m.cipher_suites.clone(),
        None => MESH_CIPHERS.iter().map(|c| c.to_string()).collect(),
    };
    let mut params = tls_params(min);
    params["cipher_suites"] = json!(ciphers);
    // Clients are matched by SPIFFE prefix of the trust domain and its
    // aliases, always (istiod's TrustDomainsForValidation), deduplicated.
    let mut prefixes: Vec<String> = Vec::new();
    let domains = std::iter::once(mesh_config.trust_domain())
        .chain(
            mesh_config
                .trust_domain_aliases()
                .iter()
                .map(String::as_str),
        )
        .chain(
            mesh_config
                .ca_certificates
                .iter()
                .flatten()
                .flat_map(|ca| ca.trust_domains.iter().map(String::as_str)),
        );
    for d in domains.filter(|d| !d.is_empty()) {
        let p = format!("spiffe://{d}/");
        if !prefixes.contains(&p) {
            prefixes.push(p);
        }
    }
    let common = json!({
        "tls_params": params,
        "alpn_protocols": alpn,
        "tls_certificate_sds_secret_configs": [sds_secret("default")],
        "combined_validation_context": {
            "default_validation_context": san_matchers(&[], &prefixes),
            "validation_context_sds_secret_config": sds_secret("ROOTCA"),
        },
    });
    socket(
        DOWNSTREAM_TLS,
        json!({"common_tls_context": common, "require_client_certificate": true}),
    )
}

/// A DestinationRule `SIMPLE`/`MUTUAL` context (§7.4 1.), or None where istiod
/// sends no TLS at all: a client certificate without its key, or a sidecar
/// using a Secret `credentialName` from a rule without `workloadSelector`.
pub struct UserTls {
    pub socket: Value,
    /// `upstream_http_protocol_options.auto_sni` (no `sni` given).
    pub auto_sni: bool,
    /// `upstream_http_protocol_options.auto_san_validation`.
    pub auto_san_validation: bool,
}

/// `fallback_sans` are the ServiceEntry `subjectAltNames`, used when the rule
/// names none (istiod does so only for ServiceEntry services).
pub fn user_upstream_tls(
    tls: &ClientTlsSettings,
    mutual: bool,
    fallback_sans: &[String],
    h2: bool,
    rule_has_selector: bool,
    tls_defaults: Option<&TlsConfig>,
) -> Option<UserTls> {
    let credential = tls.credential_name.as_deref().filter(|c| !c.is_empty());
    if credential.is_some_and(|c| !c.starts_with("configmap://")) && !rule_has_selector {
        return None;
    }
    let sni = tls.sni.as_deref().unwrap_or("");
    let skip_verify = tls.insecure_skip_verify == Some(true);
    let auto_sni = sni.is_empty();
    let auto_san_validation = auto_sni && tls.subject_alt_names.is_empty() && !skip_verify;
    let sans = if tls.subject_alt_names.is_empty() {
        fallback_sans
    } else {
        &tls.subject_alt_names
    };
    let mut common = Map::new();
    let mut params = tls_params("TLSv1_2");
    if let Some(d) = tls_defaults.filter(|d| !d.cipher_suites.is_empty()) {
        params["cipher_suites"] = json!(d.cipher_suites);
    }
    if let Some(d) = tls_defaults.filter(|d| !d.ecdh_curves.is_empty()) {
        params["ecdh_curves"] = json!(d.ecdh_curves);
    }
    common.insert("tls_params".into(), params);
    if h2 {
        common.insert("alpn_protocols".into(), json!(["h2"]));
    }
    if let Some(name) = credential {
        // Served by istiod's SDS over ADS (a Secret, or `configmap://` CA).
        let resource = credential_resource(name);
        if mutual {
            common.insert(
                "tls_certificate_sds_secret_configs".into(),
                json!([ads_secret(&resource)]),
            );
        }
        common.insert(
            "combined_validation_context".into(),
            json!({
                "default_validation_context": san_matchers(sans, &[]),
                "validation_context_sds_secret_config": ads_secret(&format!("{resource}-cacert")),
            }),
        );
    } else {
        if mutual {
            let cert = tls.client_certificate.as_deref().unwrap_or("");
            let key = tls.private_key.as_deref().unwrap_or("");
            if cert.is_empty() || key.is_empty() {
                return None;
            }
            common.insert(
                "tls_certificate_sds_secret_configs".into(),
                json!([sds_secret(&format!("file-cert:{cert}~{key}"))]),
            );
        }
        if skip_verify {
            common.insert("validation_context".into(), json!({}));
        } else {
            let ca = tls
                .ca_certificates
                .as_deref()
                .filter(|c| !c.is_empty())
                .unwrap_or("system");
            let mut default = san_matchers(sans, &[]);
            if let Some(crl) = tls.ca_crl.as_deref().filter(|c| !c.is_empty()) {
                default["crl"] = json!({"filename": crl});
            }
            common.insert(
                "combined_validation_context".into(),
                json!({
                    "default_validation_context": default,
                    "validation_context_sds_secret_config": sds_secret(&format!("file-root:{ca}")),
                }),
            );
        }
    }
    // Field-number order: alpn_protocols (4) precedes the SDS configs (6, 8).
    let order = [
        "tls_params",
        "alpn_protocols",
        "validation_context",
        "tls_certificate_sds_secret_configs",
        "combined_validation_context",
    ];
    let common: Map<String, Value> = order
        .iter()
        .filter_map(|k| common.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    let mut ctx = json!({"common_tls_context": common});
    if !sni.is_empty() {
        ctx["sni"] = json!(sni);
    }
    Some(UserTls {
        socket: socket(UPSTREAM_TLS, ctx),
        auto_sni,
        auto_san_validation,
    })
}

/// A gateway server's DownstreamTlsContext as a transport socket
/// (istiod-gateway-security.md §1.5.2), or None for passthrough servers.
/// `tcp_terminate`: a TLS (not HTTPS) server terminating TLS, whose
/// ISTIO_MUTUAL clients also negotiate the peer-exchange ALPN.
pub fn server_tls(
    tls: &ServerTlsSettings,
    tls_defaults: Option<&TlsConfig>,
    tcp_terminate: bool,
) -> Option<Value> {
    let mode = tls.mode.as_deref().unwrap_or("PASSTHROUGH");
    if matches!(mode, "PASSTHROUGH" | "AUTO_PASSTHROUGH") {
        return None;
    }
    let istio_mutual = mode == "ISTIO_MUTUAL";
    let alpn: &[&str] = if istio_mutual && tcp_terminate {
        &["istio-peer-exchange", "h2", "http/1.1"]
    } else {
        &["h2", "http/1.1"]
    };
    let require_client = matches!(mode, "MUTUAL" | "ISTIO_MUTUAL");
    let validate_client = require_client || mode == "OPTIONAL_MUTUAL";
    let skip_verify = tls.insecure_skip_verify == Some(true);
    let mut common = Map::new();
    let mut credentials: Vec<&str> = tls.credential_names.iter().map(String::as_str).collect();
    if credentials.is_empty() {
        credentials.extend(tls.credential_name.as_deref().filter(|c| !c.is_empty()));
    }
    let client_validation = |extra: &[(&str, Value)]| {
        let mut v = san_matchers(&tls.subject_alt_names, &[]);
        for (k, x) in extra {
            v[*k] = x.clone();
        }
        if skip_verify {
            v["trust_chain_verification"] = json!("ACCEPT_UNTRUSTED");
        }
        v
    };
    if istio_mutual || credentials.is_empty() {
        // The workload certificate, or files mounted into the pod.
        let file_certs: Vec<String> = if istio_mutual {
            Vec::new()
        } else if tls.tls_certificates.is_empty() {
            file_cert(
                tls.server_certificate.as_deref(),
                tls.private_key.as_deref(),
            )
            .into_iter()
            .collect()
        } else {
            tls.tls_certificates
                .iter()
                .filter_map(|c| {
                    file_cert(c.server_certificate.as_deref(), c.private_key.as_deref())
                })
                .collect()
        };
        let certs: Vec<Value> = if file_certs.is_empty() {
            vec![sds_secret("default")]
        } else {
            file_certs.iter().map(|c| sds_secret(c)).collect()
        };
        common.insert(
            "tls_certificate_sds_secret_configs".into(),
            Value::Array(certs),
        );
        if validate_client {
            let root = match tls
                .ca_certificates
                .as_deref()
                .filter(|c| !c.is_empty() && !istio_mutual)
            {
                Some(ca) => format!("file-root:{ca}"),
                None => "ROOTCA".to_string(),
            };
            let crl: Vec<(&str, Value)> = tls
                .ca_crl
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| ("crl", json!({"filename": c})))
                .into_iter()
                .collect();
            common.insert(
                "combined_validation_context".into(),
                object([
                    ("default_validation_context", client_validation(&crl)),
                    ("validation_context_sds_secret_config", sds_secret(&root)),
                ]),
            );
        }
    } else {
        common.insert(
            "tls_certificate_sds_secret_configs".into(),
            credentials.iter().map(|c| credential_secret(c)).collect(),
        );
        if matches!(mode, "MUTUAL" | "OPTIONAL_MUTUAL") {
            let ca = tls
                .ca_cert_credential_name
                .clone()
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| format!("{}-cacert", credentials[0]));
            let mut pins: Vec<(&str, Value)> = Vec::new();
            if !tls.verify_certificate_hash.is_empty() {
                pins.push((
                    "verify_certificate_hash",
                    json!(tls.verify_certificate_hash),
                ));
            }
            if !tls.verify_certificate_spki.is_empty() {
                pins.push((
                    "verify_certificate_spki",
                    json!(tls.verify_certificate_spki),
                ));
            }
            common.insert(
                "combined_validation_context".into(),
                object([
                    ("default_validation_context", client_validation(&pins)),
                    (
                        "validation_context_sds_secret_config",
                        credential_secret(&ca),
                    ),
                ]),
            );
        } else if !tls.subject_alt_names.is_empty() {
            common.insert(
                "validation_context".into(),
                san_matchers(&tls.subject_alt_names, &[]),
            );
        }
    }
    common.insert("alpn_protocols".into(), json!(alpn));
    if matches!(mode, "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL") {
        let params = server_tls_params(tls, tls_defaults);
        if !params.is_empty() {
            common.insert("tls_params".into(), Value::Object(params));
        }
    }
    let order = [
        "tls_params",
        "validation_context",
        "alpn_protocols",
        "tls_certificate_sds_secret_configs",
        "combined_validation_context",
    ];
    let common: Map<String, Value> = order
        .iter()
        .filter_map(|k| common.remove(*k).map(|v| (k.to_string(), v)))
        .collect();
    Some(socket(
        DOWNSTREAM_TLS,
        object([
            ("common_tls_context", Value::Object(common)),
            ("require_client_certificate", json!(require_client)),
        ]),
    ))
}

/// `file-cert:CERT~KEY` for certificate files mounted into the pod.
fn file_cert(cert: Option<&str>, key: Option<&str>) -> Option<String> {
    match (
        cert.filter(|c| !c.is_empty()),
        key.filter(|k| !k.is_empty()),
    ) {
        (Some(c), Some(k)) => Some(format!("file-cert:{c}~{k}")),
        _ => None,
    }
}

/// The SDS config of a `credentialName`: `builtin://` is the workload's own
/// certificate, anything else a Secret (`kubernetes://` when no scheme is
/// given) istiod serves over ADS.
fn credential_secret(name: &str) -> Value {
    match name {
        "builtin://" => sds_secret("default"),
        "builtin://-cacert" => sds_secret("ROOTCA"),
        _ => {
            let name = name.strip_prefix("sds://").unwrap_or(name);
            ads_secret(&credential_resource(name))
        }
    }
}

/// istiod's `ToResourceName`: the SDS resource a credential name is served as.
pub fn credential_resource(name: &str) -> String {
    if name.starts_with("builtin://") {
        "default".to_string()
    } else if name.contains("://") {
        name.to_string()
    } else {
        format!("kubernetes://{name}")
    }
}

/// Mesh `tlsDefaults`, then the server's own versions, curves and ciphers.
fn server_tls_params(tls: &ServerTlsSettings, defaults: Option<&TlsConfig>) -> Map<String, Value> {
    let version = |v: Option<&str>| match v? {
        "TLSV1_0" => Some("TLSv1_0"),
        "TLSV1_1" => Some("TLSv1_1"),
        "TLSV1_2" => Some("TLSv1_2"),
        "TLSV1_3" => Some("TLSv1_3"),
        _ => None,
    };
    let mut min = defaults.and_then(|d| version(d.min_protocol_version.as_deref()));
    let mut curves = defaults.map(|d| d.ecdh_curves.clone()).unwrap_or_default();
    let mut ciphers = defaults
        .map(|d| d.cipher_suites.clone())
        .unwrap_or_default();
    if let Some(v) = version(tls.min_protocol_version.as_deref()) {
        min = Some(v);
    }
    if !tls.ecdh_curves.is_empty() {
        curves.clone_from(&tls.ecdh_curves);
    }
    if !tls.cipher_suites.is_empty() {
        ciphers.clone_from(&tls.cipher_suites);
    }
    let mut out = Map::new();
    if let Some(v) = min {
        out.insert("tls_minimum_protocol_version".into(), json!(v));
    }
    if let Some(v) = version(tls.max_protocol_version.as_deref()) {
        out.insert("tls_maximum_protocol_version".into(), json!(v));
    }
    if !ciphers.is_empty() {
        out.insert("cipher_suites".into(), json!(ciphers));
    }
    if !curves.is_empty() {
        out.insert("ecdh_curves".into(), json!(curves));
    }
    out
}

/// The plaintext transport socket.
pub fn raw_buffer() -> Value {
    json!({
        "name": "envoy.transport_sockets.raw_buffer",
        "typed_config": any("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer", json!({})),
    })
}

fn socket(type_name: &str, ctx: Value) -> Value {
    object([
        ("name", json!(TLS_SOCKET)),
        ("typed_config", any(type_name, ctx)),
    ])
}

fn tls_params(min: &str) -> Value {
    json!({"tls_minimum_protocol_version": min, "tls_maximum_protocol_version": "TLSv1_3"})
}

/// `CertificateValidationContext` with exact SAN matchers, then prefix
/// matchers (trust-domain aliases); `{}` when there are none.
fn san_matchers(exact: &[String], prefix: &[String]) -> Value {
    let matchers: Vec<Value> = exact
        .iter()
        .map(|s| json!({"exact": s}))
        .chain(prefix.iter().map(|p| json!({"prefix": p})))
        .collect();
    if matchers.is_empty() {
        json!({})
    } else {
        json!({"match_subject_alt_names": matchers})
    }
}

/// An SDS secret from the agent's `sds-grpc` cluster; the workload
/// certificate and root never block startup (initial fetch timeout 0s).
fn sds_secret(name: &str) -> Value {
    let mut source = json!({
        "api_config_source": {
            "api_type": "GRPC",
            "grpc_services": [{"envoy_grpc": {"cluster_name": "sds-grpc"}}],
            "set_node_on_first_message_only": true,
            "transport_api_version": "V3",
        },
    });
    if name == "default" || name == "ROOTCA" {
        source["initial_fetch_timeout"] = json!("0s");
    }
    source["resource_api_version"] = json!("V3");
    object([("name", json!(name)), ("sds_config", source)])
}

/// An SDS secret istiod serves itself over ADS (credentialName).
fn ads_secret(name: &str) -> Value {
    json!({"name": name, "sds_config": {"ads": {}, "resource_api_version": "V3"}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_mtls_context() {
        let ts = istio_upstream_tls(
            "outbound_.80_._.a.ns.svc.cluster.local",
            &["spiffe://cluster.local/ns/ns/sa/a".to_string()],
            true,
        );
        assert_eq!(ts["name"], "envoy.transport_sockets.tls");
        let ctx = &ts["typed_config"];
        assert_eq!(
            ctx["@type"],
            "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
        );
        assert_eq!(ctx["sni"], "outbound_.80_._.a.ns.svc.cluster.local");
        let common = &ctx["common_tls_context"];
        assert_eq!(
            common["alpn_protocols"],
            json!(["istio-peer-exchange", "istio", "h2"])
        );
        let keys: Vec<&str> = common
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "tls_params",
                "alpn_protocols",
                "tls_certificate_sds_secret_configs",
                "combined_validation_context"
            ]
        );
        assert_eq!(
            common["combined_validation_context"]["default_validation_context"],
            json!({"match_subject_alt_names": [{"exact": "spiffe://cluster.local/ns/ns/sa/a"}]})
        );
        assert_eq!(
            common["tls_certificate_sds_secret_configs"][0]["sds_config"]["initial_fetch_timeout"],
            "0s"
        );
    }

    #[test]
    fn downstream_context() {
        let ts = istio_downstream_tls(&["h2", "http/1.1"], &MeshConfig::default());
        let ctx = &ts["typed_config"];
        assert_eq!(ctx["require_client_certificate"], true);
        assert_eq!(
            ctx["common_tls_context"]["tls_params"]["cipher_suites"][4],
            "AES256-GCM-SHA384"
        );
        // The trust domain itself is always matched by prefix.
        assert_eq!(
            ctx["common_tls_context"]["combined_validation_context"]["default_validation_context"],
            json!({"match_subject_alt_names": [{"prefix": "spiffe://cluster.local/"}]})
        );
    }

    #[test]
    fn simple_and_mutual() {
        let simple = ClientTlsSettings {
            mode: Some("SIMPLE".into()),
            ..Default::default()
        };
        let t = user_upstream_tls(&simple, false, &[], false, false, None).unwrap();
        assert!(t.auto_sni && t.auto_san_validation);
        let common = &t.socket["typed_config"]["common_tls_context"];
        assert_eq!(
            common["combined_validation_context"]["validation_context_sds_secret_config"]["name"],
            "file-root:system"
        );
        assert!(t.socket["typed_config"].get("sni").is_none());

        let mutual = ClientTlsSettings {
            mode: Some("MUTUAL".into()),
            client_certificate: Some("/c.pem".into()),
            private_key: Some("/k.pem".into()),
            sni: Some("x.example.com".into()),
            ..Default::default()
        };
        let t = user_upstream_tls(&mutual, true, &[], true, false, None).unwrap();
        assert!(!t.auto_sni && !t.auto_san_validation);
        let common = &t.socket["typed_config"]["common_tls_context"];
        assert_eq!(common["alpn_protocols"], json!(["h2"]));
        assert_eq!(
            common["tls_certificate_sds_secret_configs"][0]["name"],
            "file-cert:/c.pem~/k.pem"
        );
        // A Secret credential on a selector-less rule: no TLS from a sidecar.
        let cred = ClientTlsSettings {
            mode: Some("SIMPLE".into()),
            credential_name: Some("my-secret".into()),
            ..Default::default()
        };
        assert!(user_upstream_tls(&cred, false, &[], false, false, None).is_none());
    }
}
