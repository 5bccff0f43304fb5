//! Network and HTTP filters shared by the listener builders.

use serde_json::{Value, json};

use super::json::any;
use crate::model::mesh_config::MeshConfig;
use crate::registry::protocol::Protocol;

/// The TCP proxy to one cluster.
pub fn tcp_proxy(stat_prefix: &str, cluster: &str) -> Value {
    tcp_proxy_with(stat_prefix, json!({"cluster": cluster}))
}

/// The TCP proxy with its destination (`cluster` or `weighted_clusters`).
pub fn tcp_proxy_with(stat_prefix: &str, destination: Value) -> Value {
    let mut fields = json!({"stat_prefix": stat_prefix});
    if let (Some(f), Value::Object(d)) = (fields.as_object_mut(), destination) {
        f.extend(d);
    }
    json!({
        "name": "envoy.filters.network.tcp_proxy",
        "typed_config": any("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", fields),
    })
}

/// Whether proxies report Prometheus metrics: a default metrics provider
/// that is a Prometheus provider (no Telemetry resources considered yet).
pub fn metrics_enabled(mesh: &MeshConfig) -> bool {
    let providers = mesh.extension_providers();
    mesh.default_providers()
        .metrics
        .iter()
        .flatten()
        .any(|name| {
            providers
                .iter()
                .any(|p| &p.name == name && p.provider_type() == Some("prometheus"))
        })
}

/// Which kind of listener a filter chain serves: istiod varies filters by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerClass {
    SidecarInbound,
    SidecarOutbound,
    Gateway,
}

/// Istio's stats filter (the same name and type as a network or HTTP
/// filter); on inbound and gateway listeners it does not fall back to the
/// Host header for the destination service.
pub fn stats(class: ListenerClass) -> Value {
    let config = if class != ListenerClass::SidecarOutbound {
        json!({"disable_host_header_fallback": true})
    } else {
        json!({})
    };
    json!({
        "name": "istio.stats",
        "typed_config": any("stats.PluginConfig", config),
    })
}

/// `{name, typed_config}`.
pub fn named(name: &str, typed_config: Value) -> Value {
    json!({"name": name, "typed_config": typed_config})
}

/// A config wrapped as istiod writes configs of istio-proxy's own
/// extensions: a `TypedStruct` naming the real type.
pub fn typed_struct(type_name: &str, value: Value) -> Value {
    any(
        "udpa.type.v1.TypedStruct",
        json!({"type_url": format!("type.googleapis.com/{type_name}"), "value": value}),
    )
}

/// The TCP metadata exchange (network filter, and cluster filter upstream).
pub fn tcp_metadata_exchange() -> Value {
    named(
        "istio.metadata_exchange",
        typed_struct(
            "envoy.tcp.metadataexchange.config.MetadataExchange",
            json!({"protocol": "istio-peer-exchange", "enable_discovery": true}),
        ),
    )
}

/// The HTTP peer metadata filter: discovers and propagates the peer's
/// identity downstream (inbound) or upstream (outbound).
fn peer_metadata(inbound: bool) -> Value {
    let side = if inbound { "downstream" } else { "upstream" };
    named(
        "istio.metadata_exchange",
        typed_struct(
            "io.istio.http.peer_metadata.Config",
            json!({
                format!("{side}_discovery"): [{"istio_headers": {}}, {"workload_discovery": {}}],
                format!("{side}_propagation"): [{"istio_headers": {}}],
            }),
        ),
    )
}

/// An HCM's HTTP filters in istiod's order. Security filters (authz, JWT)
/// are inserted after the first (metadata exchange).
pub fn http_filters(protocol: Protocol, metrics: bool, class: ListenerClass) -> Vec<Value> {
    let inbound = class == ListenerClass::SidecarInbound;
    let mut out = vec![peer_metadata(inbound)];
    if protocol == Protocol::GrpcWeb {
        out.push(named(
            "envoy.filters.http.grpc_web",
            any(
                "envoy.extensions.filters.http.grpc_web.v3.GrpcWeb",
                json!({}),
            ),
        ));
    }
    out.push(named(
        "envoy.filters.http.grpc_stats",
        any(
            "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
            json!({"emit_filter_state": true, "stats_for_all_methods": false}),
        ),
    ));
    if !inbound {
        // Upstream ALPN tells the server's sidecar which HTTP version follows.
        out.push(named(
            "istio.alpn",
            any(
                "istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig",
                json!({
                    "alpn_override": [
                        {"alpn_override": ["istio-http/1.0", "istio", "http/1.0"]},
                        {"upstream_protocol": "HTTP11", "alpn_override": ["istio-http/1.1", "istio", "http/1.1"]},
                        {"upstream_protocol": "HTTP2", "alpn_override": ["istio-h2", "istio", "h2"]},
                    ],
                }),
            ),
        ));
    }
    out.push(named(
        "envoy.filters.http.fault",
        any(
            "envoy.extensions.filters.http.fault.v3.HTTPFault",
            json!({}),
        ),
    ));
    out.push(named(
        "envoy.filters.http.cors",
        any("envoy.extensions.filters.http.cors.v3.Cors", json!({})),
    ));
    if metrics {
        out.push(stats(class));
    }
    out.push(router());
    out
}

/// The HTTP router, always last.
pub fn router() -> Value {
    json!({
        "name": "envoy.filters.http.router",
        "typed_config": any("envoy.extensions.filters.http.router.v3.Router", json!({})),
    })
}

/// ADS as a config source.
pub fn ads() -> Value {
    json!({"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"})
}

/// The outbound HTTP connection manager of a sidecar: routes from RDS.
pub fn outbound_hcm(stat_prefix: &str, rds: &str, metrics: bool) -> Value {
    let filters = http_filters(Protocol::Http, metrics, ListenerClass::SidecarOutbound);
    rds_hcm(stat_prefix, rds, filters, None)
}

/// A gateway's HTTP connection manager (istiod-gateway-security.md
/// §1.5.3): the client's address is trusted, client certificate details
/// sanitised and set, HTTP/1.0 accepted when the node asks; `security`
/// (authorization) filters right after the metadata exchange.
pub fn gateway_hcm(
    stat_prefix: &str,
    rds: &str,
    protocol: Protocol,
    metrics: bool,
    http10: bool,
    security: &[Value],
) -> Value {
    let mut filters = http_filters(protocol, metrics, ListenerClass::Gateway);
    filters.splice(1..1, security.iter().cloned());
    let http1 = if http10 {
        json!({"accept_http_10": true})
    } else {
        json!({})
    };
    rds_hcm(stat_prefix, rds, filters, Some(http1))
}

/// An HTTP connection manager with routes from RDS, fields in field-number
/// order; `gateway` holds a gateway's HTTP/1 options.
fn rds_hcm(
    stat_prefix: &str,
    rds: &str,
    http_filters: Vec<Value>,
    gateway: Option<Value>,
) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("stat_prefix".into(), json!(stat_prefix));
    m.insert(
        "rds".into(),
        json!({"config_source": ads(), "route_config_name": rds}),
    );
    m.insert("http_filters".into(), Value::Array(http_filters));
    let is_gateway = gateway.is_some();
    if let Some(http1) = gateway {
        m.insert("http_protocol_options".into(), http1);
        m.insert("server_name".into(), json!("istio-envoy"));
    }
    m.insert("use_remote_address".into(), json!(is_gateway));
    if is_gateway {
        m.insert("forward_client_cert_details".into(), json!("SANITIZE_SET"));
        m.insert(
            "set_current_client_cert_details".into(),
            json!({"subject": true, "cert": true, "dns": true, "uri": true}),
        );
        m.insert("proxy_100_continue".into(), json!(true));
    }
    m.insert(
        "upgrade_configs".into(),
        json!([{"upgrade_type": "websocket"}]),
    );
    m.insert("stream_idle_timeout".into(), json!("0s"));
    m.insert("normalize_path".into(), json!(true));
    m.insert(
        "request_id_extension".into(),
        json!({"typed_config": any("envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig", json!({"use_request_id_for_trace_sampling": true}))}),
    );
    m.insert(
        "path_with_escaped_slashes_action".into(),
        json!("KEEP_UNCHANGED"),
    );
    json!({
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": any(
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            Value::Object(m),
        ),
    })
}

/// A listener filter by its extension name and config type.
pub fn listener_filter(name: &str, type_name: &str) -> Value {
    named(name, any(type_name, json!({})))
}
