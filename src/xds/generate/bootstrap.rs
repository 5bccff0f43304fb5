//! What Envoy holds beside istiod's resources: the static clusters and
//! listeners of Istio's bootstrap template, and the bootstrap's node
//! (istiod-sidecar.md §2.1, §2.2). istiod does not decide these; the
//! pilot-agent writes them from its template, so they are fixed here.

use serde_json::{Value, json};

use super::json::{any, socket_address};
use super::{ISTIO_VERSION, Proxy};

/// Envoy's version as the 1.31 proxy reports it.
pub const ENVOY_VERSION: &str = "1.35.0";

/// The bootstrap's node: id, cluster, and the metadata istioctl reads.
pub fn node(proxy: &Proxy) -> Value {
    let mut metadata = json!({
            "CLUSTER_ID": "Kubernetes",
            "ISTIO_VERSION": ISTIO_VERSION,
            "LABELS": proxy.labels,
            "NAME": proxy.name,
            "NAMESPACE": proxy.namespace,
            "INSTANCE_IPS": proxy.ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            "INTERCEPTION_MODE": match proxy.interception {
                super::Interception::Redirect => "REDIRECT",
                super::Interception::Tproxy => "TPROXY",
                super::Interception::None => "NONE",
            },
            "SERVICE_ACCOUNT": proxy.service_account,
    });
    // The effective proxy configuration and its `ISTIO_META_*` variables,
    // as the agent puts them in the node metadata.
    if let Some(m) = metadata.as_object_mut() {
        if let Some(config) = proxy_config_json(proxy) {
            m.insert("PROXY_CONFIG".into(), config);
        }
        for (k, v) in &proxy.metadata {
            m.entry(k.clone()).or_insert_with(|| json!(v));
        }
    }
    json!({
        "id": proxy.node_id(),
        "cluster": proxy.service_cluster(),
        "metadata": metadata,
        "user_agent_name": "envoy",
        "user_agent_build_version": {
            "version": {
                "major_number": 1,
                "minor_number": 35,
            },
            "metadata": {"revision.status": "Clean", "build.type": "RELEASE", "ssl.version": "BoringSSL"},
        },
    })
}

/// The effective proxy configuration as node metadata shows it: set fields
/// only, camelCase; None when nothing is set.
fn proxy_config_json(proxy: &Proxy) -> Option<Value> {
    fn prune(v: Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Object(m) => {
                let m: serde_json::Map<String, Value> = m
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, prune(v)?)))
                    .collect();
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Value::Array(a) if a.is_empty() => None,
            other => Some(other),
        }
    }
    serde_json::to_value(&proxy.config).ok().and_then(prune)
}

fn static_cluster(name: &str, address: Value) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
        },
    })
}

fn grpc_pipe_cluster(name: &str, path: &str) -> Value {
    let mut c = static_cluster(name, json!({"pipe": {"path": path}}));
    c["typed_extension_protocol_options"] = json!({
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": any(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            json!({"explicit_http_config": {"http2_protocol_options": {}}}),
        ),
    });
    c
}

/// `prometheus_stats`, `agent`, `sds-grpc`, `xds-grpc`.
pub fn static_clusters() -> Vec<Value> {
    vec![
        static_cluster("prometheus_stats", socket_address("127.0.0.1", 15000)),
        static_cluster("agent", socket_address("127.0.0.1", 15020)),
        grpc_pipe_cluster("sds-grpc", "./var/run/secrets/workload-spiffe-uds/socket"),
        grpc_pipe_cluster("xds-grpc", "./etc/istio/proxy/XDS"),
    ]
}

/// A bootstrap listener serving one path prefix from one cluster.
fn static_listener(port: u32, prefix: &str, cluster: &str, stat_prefix: &str) -> Value {
    json!({
        "address": socket_address("0.0.0.0", port),
        "filter_chains": [{
            "filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": any(
                    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    json!({
                        "stat_prefix": stat_prefix,
                        "route_config": {
                            "virtual_hosts": [{
                                "name": "backend",
                                "domains": ["*"],
                                "routes": [{"match": {"prefix": prefix}, "route": {"cluster": cluster}}],
                            }],
                        },
                        "http_filters": [super::filters::router()],
                    }),
                ),
            }],
        }],
    })
}

/// `0.0.0.0_15090` (Prometheus) and `0.0.0.0_15021` (readiness): Envoy
/// names unnamed bootstrap listeners by address, which istioctl shows.
pub fn static_listeners() -> Vec<Value> {
    vec![
        named(
            static_listener(15090, "/stats/prometheus", "prometheus_stats", "stats"),
            "0.0.0.0_15090",
        ),
        named(
            static_listener(15021, "/healthz/ready", "agent", "agent"),
            "0.0.0.0_15021",
        ),
    ]
}

fn named(mut v: Value, name: &str) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(name));
    if let Value::Object(o) = v.take() {
        m.extend(o);
    }
    Value::Object(m)
}
