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

/// Istio's stats filter (the same name and type as a network or HTTP
/// filter); inbound it does not fall back to the Host header for the
/// destination service.
pub fn stats(inbound: bool) -> Value {
    let config = if inbound {
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

/// A sidecar HCM's HTTP filters in istiod's order. Security filters
/// (authz, JWT) are inserted after the first (metadata exchange).
pub fn http_filters(protocol: Protocol, metrics: bool, inbound: bool) -> Vec<Value> {
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
        out.push(stats(inbound));
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
    let http_filters = http_filters(Protocol::Http, metrics, false);
    json!({
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": any(
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            json!({
                "stat_prefix": stat_prefix,
                "rds": {"config_source": ads(), "route_config_name": rds},
                "http_filters": http_filters,
                "use_remote_address": false,
                "upgrade_configs": [{"upgrade_type": "websocket"}],
                "stream_idle_timeout": "0s",
                "normalize_path": true,
                "request_id_extension": {
                    "typed_config": any("envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig", json!({"use_request_id_for_trace_sampling": true})),
                },
                "path_with_escaped_slashes_action": "KEEP_UNCHANGED",
            }),
        ),
    })
}

/// A listener filter by its extension name and config type.
pub fn listener_filter(name: &str, type_name: &str) -> Value {
    named(name, any(type_name, json!({})))
}
