//! Network and HTTP filters shared by the listener builders, and what
//! every chain of a listener class carries ([`ChainFilters`]).

use serde_json::{Map, Value, json};

use super::authz::SecurityFilters;
use super::extensions::ProxyExtensions;
use super::json::{any, object};
use super::telemetry::ClassTelemetry;
use super::{Context, Proxy};
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
    named(
        "envoy.filters.network.tcp_proxy",
        any(
            "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            fields,
        ),
    )
}

/// Which kind of listener a filter chain serves: istiod varies filters by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerClass {
    SidecarInbound,
    SidecarOutbound,
    Gateway,
}

/// Envoy's Mongo filter in front of the TCP proxy of a Mongo port.
pub fn mongo_proxy(protocol: Protocol, stat_prefix: &str) -> Option<Value> {
    (protocol == Protocol::Mongo).then(|| {
        named(
            "envoy.filters.network.mongo_proxy",
            any(
                "envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy",
                json!({"stat_prefix": stat_prefix}),
            ),
        )
    })
}

/// `{name, typed_config}`.
pub fn named(name: &str, typed_config: Value) -> Value {
    object([("name", json!(name)), ("typed_config", typed_config)])
}

/// A config wrapped as istiod writes configs of istio-proxy's own
/// extensions: a `TypedStruct` naming the real type.
pub fn typed_struct(type_name: &str, value: Value) -> Value {
    any(
        "udpa.type.v1.TypedStruct",
        object([
            (
                "type_url",
                Value::String(format!("type.googleapis.com/{type_name}")),
            ),
            ("value", value),
        ]),
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

/// What a proxy's chains of one listener class carry beside their
/// routing: security filters (sidecar inbound and gateways), telemetry,
/// and WasmPlugin/TrafficExtension filters. Built once per proxy and class;
/// the chain builders ask it for their filter lists.
#[derive(Debug, Clone)]
pub struct ChainFilters<'a> {
    pub class: ListenerClass,
    pub security: SecurityFilters,
    pub telemetry: ClassTelemetry,
    pub extensions: ProxyExtensions<'a>,
}

impl<'a> ChainFilters<'a> {
    /// What `proxy`'s listeners of `class` get; sidecar outbound chains
    /// carry no authentication or authorization.
    pub fn for_proxy(ctx: &Context<'a>, proxy: &Proxy, class: ListenerClass) -> ChainFilters<'a> {
        ChainFilters {
            class,
            security: match class {
                ListenerClass::SidecarOutbound => SecurityFilters::default(),
                _ => super::authn::security_filters(ctx, proxy),
            },
            telemetry: super::telemetry::for_class(ctx, proxy, class),
            extensions: ProxyExtensions::for_proxy(ctx, proxy),
        }
    }

    /// An HTTP connection manager's filters for a listener on `port` (the
    /// service port outbound, the container port on gateways, the target
    /// port inbound), in
    /// istiod's order: metadata exchange, CUSTOM authorization, AUTHN
    /// extensions, JWT, AUTHZ extensions, RBAC, STATS and unspecified
    /// extensions, then Envoy's own filters, `istio.stats` and the router.
    pub fn http_filters(&self, protocol: Protocol, port: u16) -> Vec<Value> {
        let inbound = self.class == ListenerClass::SidecarInbound;
        let ext = self.extensions.filters(self.class, port, true);
        let sec = &self.security;
        let mut out = vec![peer_metadata(inbound)];
        out.extend(sec.custom_http.iter().cloned());
        out.extend(ext.authn);
        out.extend(sec.jwt.iter().cloned());
        out.extend(ext.authz);
        out.extend(sec.local_http.iter().cloned());
        out.extend(ext.stats);
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
        out.extend(self.telemetry.http_stats.iter().cloned());
        out.push(router());
        out
    }

    /// The network filters in front of an HCM on `port`: its network
    /// extensions (security and stats filters are HTTP ones there).
    pub fn http_network_filters(&self, port: u16) -> Vec<Value> {
        self.extensions
            .filters(self.class, port, false)
            .all()
            .cloned()
            .collect()
    }

    /// A TCP chain on (service) `port`: metadata exchange when asked,
    /// CUSTOM authorization, AUTHN and AUTHZ extensions, RBAC (unless
    /// `secured` is false: AUTO_PASSTHROUGH chains), STATS extensions,
    /// `istio.stats`, the protocol's own filter, then `tcp_proxy` with the
    /// access logs.
    pub fn tcp_filters(
        &self,
        port: u16,
        metadata_exchange: bool,
        secured: bool,
        protocol_filter: Option<Value>,
        tcp_proxy: Value,
    ) -> Vec<Value> {
        let ext = self.extensions.filters(self.class, port, false);
        let mut out = Vec::new();
        if metadata_exchange {
            out.push(tcp_metadata_exchange());
        }
        if secured {
            out.extend(self.security.custom_tcp.iter().cloned());
        }
        out.extend(ext.authn);
        out.extend(ext.authz);
        if secured {
            out.extend(self.security.local_tcp.iter().cloned());
        }
        out.extend(ext.stats);
        out.extend(self.telemetry.tcp_stats.iter().cloned());
        out.extend(protocol_filter);
        out.push(self.logged(tcp_proxy));
        out
    }

    /// `istio.stats` then a `tcp_proxy` (logged or not): the catch-all and
    /// blackhole chains, which get no extensions.
    pub fn stats_then(&self, tcp_proxy: Value, log: bool) -> Vec<Value> {
        let mut out = self.telemetry.tcp_stats.clone();
        out.push(if log {
            self.logged(tcp_proxy)
        } else {
            tcp_proxy
        });
        out
    }

    /// A `tcp_proxy` filter with this class's access logs, in field-number
    /// order (after the cluster, before everything numbered above 5).
    pub fn logged(&self, mut tcp_proxy: Value) -> Value {
        let logs = &self.telemetry.tcp_access_log;
        if let Some(m) = tcp_proxy
            .get_mut("typed_config")
            .and_then(Value::as_object_mut)
            .filter(|_| !logs.is_empty())
        {
            insert_before(
                m,
                "access_log",
                Value::Array(logs.clone()),
                &[
                    "weighted_clusters",
                    "idle_timeout",
                    "metadata_match",
                    "hash_policy",
                ],
            );
        }
        tcp_proxy
    }

    /// A listener (as a field map) with this class's listener access logs.
    pub fn log_listener(&self, listener: &mut Map<String, Value>) {
        let logs = &self.telemetry.listener_access_log;
        if !logs.is_empty() {
            insert_before(
                listener,
                "access_log",
                Value::Array(logs.clone()),
                &[
                    "default_filter_chain",
                    "bind_to_port",
                    "internal_listener",
                    "max_connections_to_accept_per_socket_event",
                ],
            );
        }
    }

    /// An HTTP connection manager's `tracing` (after its filters) and
    /// `access_log` (before `use_remote_address`), into its fields so far.
    pub fn hcm_telemetry(&self, hcm: &mut Map<String, Value>) {
        if let Some(t) = &self.telemetry.tracing {
            insert_before(
                hcm,
                "tracing",
                t.clone(),
                &[
                    "http_protocol_options",
                    "http2_protocol_options",
                    "server_name",
                ],
            );
        }
        if !self.telemetry.http_access_log.is_empty() {
            hcm.insert(
                "access_log".into(),
                Value::Array(self.telemetry.http_access_log.clone()),
            );
        }
    }

    /// The UUID request ID extension, sampling traces by the request ID
    /// unless tracing says otherwise.
    pub fn request_id_extension(&self) -> Value {
        object([(
            "typed_config",
            any(
                "envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig",
                json!({"use_request_id_for_trace_sampling": self.telemetry.use_request_id_for_trace_sampling}),
            ),
        )])
    }
}

/// Insert `key` before the first of `later` (fields numbered after it)
/// that `m` has, else at the end: Envoy prints fields in number order.
fn insert_before(m: &mut Map<String, Value>, key: &str, value: Value, later: &[&str]) {
    match m.keys().position(|k| later.contains(&k.as_str())) {
        Some(i) => {
            m.shift_insert(i, key.to_string(), value);
        }
        None => {
            m.insert(key.to_string(), value);
        }
    }
}

/// The HTTP router, always last.
pub fn router() -> Value {
    named(
        "envoy.filters.http.router",
        any("envoy.extensions.filters.http.router.v3.Router", json!({})),
    )
}

/// ADS as a config source.
pub fn ads() -> Value {
    json!({"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"})
}

/// The outbound HTTP connection manager of a sidecar on (service) `port`:
/// routes from RDS.
pub fn outbound_hcm(stat_prefix: &str, rds: &str, port: u16, filters: &ChainFilters) -> Value {
    rds_hcm(stat_prefix, rds, (filters, port), Protocol::Http, None)
}

/// A gateway's HTTP connection manager (istiod-gateway-security.md
/// §1.5.3): the client's address is trusted, client certificate details
/// sanitised and set, HTTP/1.0 accepted when the node asks.
pub fn gateway_hcm(
    stat_prefix: &str,
    rds: &str,
    (protocol, port): (Protocol, u16),
    http10: bool,
    filters: &ChainFilters,
) -> Value {
    let http1 = if http10 {
        json!({"accept_http_10": true})
    } else {
        json!({})
    };
    rds_hcm(stat_prefix, rds, (filters, port), protocol, Some(http1))
}

/// An HTTP connection manager with routes from RDS, fields in field-number
/// order; `gateway` holds a gateway's HTTP/1 options. Extensions match the
/// listener's port.
fn rds_hcm(
    stat_prefix: &str,
    rds: &str,
    (filters, port): (&ChainFilters, u16),
    protocol: Protocol,
    gateway: Option<Value>,
) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("stat_prefix".into(), json!(stat_prefix));
    m.insert(
        "rds".into(),
        json!({"config_source": ads(), "route_config_name": rds}),
    );
    m.insert(
        "http_filters".into(),
        Value::Array(filters.http_filters(protocol, port)),
    );
    let is_gateway = gateway.is_some();
    if let Some(http1) = gateway {
        m.insert("http_protocol_options".into(), http1);
        m.insert("server_name".into(), json!("istio-envoy"));
    }
    filters.hcm_telemetry(&mut m);
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
        filters.request_id_extension(),
    );
    m.insert(
        "path_with_escaped_slashes_action".into(),
        json!("KEEP_UNCHANGED"),
    );
    named(
        "envoy.filters.network.http_connection_manager",
        any(
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            Value::Object(m),
        ),
    )
}

/// A listener filter by its extension name and config type.
pub fn listener_filter(name: &str, type_name: &str) -> Value {
    named(name, any(type_name, json!({})))
}
