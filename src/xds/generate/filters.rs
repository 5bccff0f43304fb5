//! Network and HTTP filters shared by the listener builders.

use serde_json::{Value, json};

use super::json::any;

/// The TCP proxy to one cluster.
pub fn tcp_proxy(cluster: &str) -> Value {
    tcp_proxy_with(cluster, json!({"cluster": cluster}))
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

/// Istio's stats filter (network form), present because the default
/// telemetry provider is Prometheus.
pub fn tcp_stats() -> Value {
    json!({
        "name": "istio.stats",
        "typed_config": any("stats.PluginConfig", json!({})),
    })
}

/// Istio's HTTP stats filter.
pub fn http_stats() -> Value {
    json!({
        "name": "istio.stats",
        "typed_config": any("stats.PluginConfig", json!({})),
    })
}

/// The peer metadata exchange HTTP filter of outbound HCMs.
pub fn peer_metadata_outbound() -> Value {
    json!({
        "name": "istio.metadata_exchange",
        "typed_config": any("io.istio.http.peer_metadata.Config", json!({
            "upstream_discovery": [{"istio_headers": {}}, {"workload_discovery": {}}],
            "upstream_propagation": [{"istio_headers": {}}],
        })),
    })
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
pub fn outbound_hcm(stat_prefix: &str, rds: &str) -> Value {
    json!({
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": any(
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            json!({
                "stat_prefix": stat_prefix,
                "rds": {"config_source": ads(), "route_config_name": rds},
                "http_filters": [
                    peer_metadata_outbound(),
                    {
                        "name": "istio.alpn",
                        "typed_config": any("istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig", json!({
                            "alpn_override": [
                                {"alpn_override": ["istio-http/1.0", "istio", "http/1.0"]},
                                {"upstream_protocol": "HTTP11", "alpn_override": ["istio-http/1.1", "istio", "http/1.1"]},
                                {"upstream_protocol": "HTTP2", "alpn_override": ["istio-h2", "istio", "h2"]},
                            ],
                        })),
                    },
                    {
                        "name": "envoy.filters.http.fault",
                        "typed_config": any("envoy.extensions.filters.http.fault.v3.HTTPFault", json!({})),
                    },
                    {
                        "name": "envoy.filters.http.cors",
                        "typed_config": any("envoy.extensions.filters.http.cors.v3.Cors", json!({})),
                    },
                    http_stats(),
                    router(),
                ],
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
    json!({"name": name, "typed_config": any(type_name, json!({}))})
}
