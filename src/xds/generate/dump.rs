//! A generated configuration as Envoy's admin endpoints would print it:
//! `/config_dump?include_eds` and `/clusters?format=json`, so every
//! istioctl view renders it exactly as it renders a live proxy's.

use petgraph::graph::NodeIndex;
use serde_json::{Value, json};

use super::graph::{ConfigGraph, Kind, Origin};
use super::json::{any, object};
use super::{ProxyConfig, bootstrap};
use crate::xds::proto::FromJson;
use crate::xds::{Any, ConfigDump, DumpError};

/// Generated configuration has no push time; a fixed one keeps output
/// byte-identical between runs.
const UPDATED: &str = "2026-01-01T00:00:00Z";
/// The version istiod would stamp on a push.
const VERSION: &str = "meshsim";

const ADMIN: &str = "envoy.admin.v3.";
const CLUSTER: &str = "envoy.config.cluster.v3.Cluster";
const LISTENER: &str = "envoy.config.listener.v3.Listener";
const ROUTE: &str = "envoy.config.route.v3.RouteConfiguration";

impl ProxyConfig {
    /// Envoy's `/config_dump?include_eds` for this proxy. Consumes the
    /// configuration: each resource moves into the dump once.
    pub fn config_dump(self) -> Value {
        object([("configs", Value::Array(self.sections()))])
    }

    /// The config dump as istioctl reads it: what reading the text of
    /// [`Self::config_dump`] gives, without the text. Each section's trees
    /// move into the typed dump (nothing is printed or copied), the
    /// sections spread over the cores.
    pub fn read_config_dump(self) -> Result<ConfigDump, DumpError> {
        let read = crate::parallel::map_owned(self.sections(), Any::from_json);
        Ok(ConfigDump {
            configs: read.into_iter().collect::<Result<_, _>>()?,
            ..ConfigDump::default()
        })
    }

    /// The sections of the config dump, in Envoy's order.
    fn sections(mut self) -> Vec<Value> {
        let g = &mut self.graph;
        let roots = |g: &ConfigGraph, kind: Kind, origin: Origin| -> Vec<NodeIndex> {
            g.roots_of(kind, origin).collect()
        };
        // Endpoints first: a DNS cluster's hosts are inside the cluster.
        // Envoy lists the hosts of clusters it got from istiod (EDS or
        // inline) as dynamic, its bootstrap clusters' as static.
        let mut endpoint_configs = |origin: Origin| -> Vec<Value> {
            roots(g, Kind::Cluster, origin)
                .into_iter()
                .filter_map(|i| {
                    let name = g.node(i).name.clone();
                    match g.find(Kind::Endpoints, &name) {
                        // EDS assignments are generated as Envoy reports them.
                        Some(e) => Some(g.take_resource(e)),
                        None => g
                            .node(i)
                            .value
                            .get("load_assignment")
                            .cloned()
                            .map(as_envoy_reports),
                    }
                })
                .map(|cla| {
                    object([(
                        "endpoint_config",
                        any("envoy.config.endpoint.v3.ClusterLoadAssignment", cla),
                    )])
                })
                .collect()
        };
        let endpoints = endpoint_configs(Origin::Dynamic);
        let static_endpoints = endpoint_configs(Origin::Static);
        // Bootstrap resources appear twice: in the bootstrap and as static.
        let static_listeners: Vec<Value> = roots(g, Kind::Listener, Origin::Static)
            .into_iter()
            .map(|i| g.resource(i))
            .collect();
        let static_clusters: Vec<Value> = roots(g, Kind::Cluster, Origin::Static)
            .into_iter()
            .map(|i| g.resource(i))
            .collect();
        let as_static = |field: &str, type_name: &str, values: &[Value]| -> Value {
            Value::Array(
                values
                    .iter()
                    .map(|v| {
                        object([
                            (field, any(type_name, v.clone())),
                            ("last_updated", json!(UPDATED)),
                        ])
                    })
                    .collect(),
            )
        };
        let mut dynamic = |kind: Kind, field: &str, type_name: &str| -> Value {
            Value::Array(
                roots(g, kind, Origin::Dynamic)
                    .into_iter()
                    .map(|i| {
                        let name = g.node(i).name.clone();
                        let resource = any(type_name, g.take_resource(i));
                        if kind == Kind::Listener {
                            object([
                                ("name", json!(name)),
                                (
                                    "active_state",
                                    object([
                                        ("version_info", json!(VERSION)),
                                        ("listener", resource),
                                        ("last_updated", json!(UPDATED)),
                                    ]),
                                ),
                            ])
                        } else {
                            object([
                                ("version_info", json!(VERSION)),
                                (field, resource),
                                ("last_updated", json!(UPDATED)),
                            ])
                        }
                    })
                    .collect(),
            )
        };
        let clusters = dynamic(Kind::Cluster, "cluster", CLUSTER);
        let listeners = dynamic(Kind::Listener, "listener", LISTENER);
        let routes = dynamic(Kind::RouteConfig, "route_config", ROUTE);
        // Inline route configurations are what Envoy lists as static.
        let inline: Vec<NodeIndex> = g
            .graph
            .node_indices()
            .filter(|&i| {
                let n = g.node(i);
                n.kind == Kind::RouteConfig && n.origin == Origin::Inline
            })
            .collect();
        let inline_routes: Vec<Value> = inline
            .into_iter()
            .map(|i| {
                object([
                    ("route_config", any(ROUTE, g.take_resource(i))),
                    ("last_updated", json!(UPDATED)),
                ])
            })
            .collect();
        let secrets = self.secrets_dump();
        // Envoy prints its ECDS section only when it fetched something.
        let ecds = (!self.extension_configs.is_empty()).then(|| {
            let filters = std::mem::take(&mut self.extension_configs)
                .into_iter()
                .map(|e| {
                    object([
                        ("version_info", json!(VERSION)),
                        (
                            "ecds_filter",
                            any("envoy.config.core.v3.TypedExtensionConfig", e),
                        ),
                        ("last_updated", json!(UPDATED)),
                    ])
                })
                .collect();
            any(
                &format!("{ADMIN}EcdsConfigDump"),
                object([("ecds_filters", Value::Array(filters))]),
            )
        });
        let bootstrap = any(
            &format!("{ADMIN}BootstrapConfigDump"),
            object([
                (
                    "bootstrap",
                    object([
                        ("node", bootstrap::node(&self.proxy)),
                        (
                            "static_resources",
                            object([
                                ("listeners", Value::Array(static_listeners.clone())),
                                ("clusters", Value::Array(static_clusters.clone())),
                            ]),
                        ),
                        (
                            "dynamic_resources",
                            json!({
                                "lds_config": super::filters::ads(),
                                "cds_config": super::filters::ads(),
                                "ads_config": {
                                    "api_type": "GRPC",
                                    "transport_api_version": "V3",
                                    "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}],
                                    "set_node_on_first_message_only": true,
                                },
                            }),
                        ),
                    ]),
                ),
                ("last_updated", json!(UPDATED)),
            ]),
        );
        let configs = [
            Some(bootstrap),
            Some(any(
                &format!("{ADMIN}ClustersConfigDump"),
                object([
                    ("version_info", json!(VERSION)),
                    (
                        "static_clusters",
                        as_static("cluster", CLUSTER, &static_clusters),
                    ),
                    ("dynamic_active_clusters", clusters),
                ]),
            )),
            ecds,
        ];
        configs
            .into_iter()
            .flatten()
            .chain([
                any(
                    &format!("{ADMIN}ListenersConfigDump"),
                    object([
                        ("version_info", json!(VERSION)),
                        (
                            "static_listeners",
                            as_static("listener", LISTENER, &static_listeners),
                        ),
                        ("dynamic_listeners", listeners),
                    ]),
                ),
                any(
                    &format!("{ADMIN}RoutesConfigDump"),
                    object([
                        ("static_route_configs", Value::Array(inline_routes)),
                        ("dynamic_route_configs", routes),
                    ]),
                ),
                any(&format!("{ADMIN}SecretsConfigDump"), secrets),
                any(
                    &format!("{ADMIN}EndpointsConfigDump"),
                    object([
                        ("static_endpoint_configs", Value::Array(static_endpoints)),
                        ("dynamic_endpoint_configs", Value::Array(endpoints)),
                    ]),
                ),
            ])
            .collect()
    }

    /// The SecretsConfigDump: served secrets active, the others warming.
    fn secrets_dump(&mut self) -> Value {
        let g = &mut self.graph;
        let ids: Vec<NodeIndex> = g.roots_of(Kind::Secret, Origin::Dynamic).collect();
        let (mut active, mut warming) = (Vec::new(), Vec::new());
        for i in ids {
            let name = g.node(i).name.clone();
            let secret = g.take_resource(i);
            let served = secret.as_object().is_some_and(|m| m.len() > 1);
            let entry = object([
                ("name", json!(name)),
                ("version_info", json!(VERSION)),
                ("last_updated", json!(UPDATED)),
                (
                    "secret",
                    any("envoy.extensions.transport_sockets.tls.v3.Secret", secret),
                ),
            ]);
            if served {
                active.push(entry);
            } else {
                warming.push(entry);
            }
        }
        let mut m = serde_json::Map::new();
        if !active.is_empty() {
            m.insert("dynamic_active_secrets".into(), Value::Array(active));
        }
        if !warming.is_empty() {
            m.insert("dynamic_warming_secrets".into(), Value::Array(warming));
        }
        Value::Object(m)
    }

    /// Envoy's `/clusters?format=json`: every cluster with its hosts
    /// (EDS and inline endpoints; health as configured, nothing observed).
    pub fn clusters_status(&self) -> Value {
        let g = &self.graph;
        let mut statuses = Vec::new();
        for origin in [Origin::Static, Origin::Dynamic] {
            for i in g.roots_of(Kind::Cluster, origin) {
                let n = g.node(i);
                let cla = g
                    .find(Kind::Endpoints, &n.name)
                    .map(|e| g.node(e).value.clone())
                    .or_else(|| n.value.get("load_assignment").cloned())
                    .unwrap_or(Value::Null);
                let mut hosts = Vec::new();
                for loc in cla["endpoints"].as_array().into_iter().flatten() {
                    for lb in loc["lb_endpoints"].as_array().into_iter().flatten() {
                        let mut h = json!({
                            "address": lb["endpoint"]["address"],
                            "health_status": {
                                "eds_health_status": lb.get("health_status").cloned().unwrap_or(json!("HEALTHY")),
                            },
                            "weight": lb.get("load_balancing_weight").cloned().unwrap_or(json!(1)),
                        });
                        if let Some(l) = loc.get("locality") {
                            h["locality"] = l.clone();
                        }
                        hosts.push(h);
                    }
                }
                let mut s = json!({"name": n.name});
                if origin == Origin::Dynamic {
                    s["added_via_api"] = json!(true);
                }
                if !hosts.is_empty() {
                    s["host_statuses"] = json!(hosts);
                }
                s["observability_name"] = json!(n.name);
                statuses.push(s);
            }
        }
        json!({"cluster_statuses": statuses})
    }
}

/// A load assignment as Envoy's endpoint dump shows it: every host with
/// its (unchecked, so healthy) status and weight, every group with a
/// locality, and the default overprovisioning factor.
fn as_envoy_reports(mut cla: Value) -> Value {
    for group in cla
        .get_mut("endpoints")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let Some(g) = group.as_object_mut() else {
            continue;
        };
        if !g.contains_key("locality") {
            let rest = std::mem::take(g);
            g.insert("locality".into(), json!({}));
            g.extend(rest);
        }
        for lb in g
            .get_mut("lb_endpoints")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let Some(m) = lb.as_object_mut() else {
                continue;
            };
            if let Some(e) = m.get_mut("endpoint").and_then(Value::as_object_mut) {
                e.entry("health_check_config").or_insert(json!({}));
            }
            let mut rest = std::mem::take(m);
            if let Some(e) = rest.shift_remove("endpoint") {
                m.insert("endpoint".into(), e);
            }
            m.insert(
                "health_status".into(),
                rest.shift_remove("health_status")
                    .unwrap_or(json!("HEALTHY")),
            );
            m.extend(rest);
            m.entry("load_balancing_weight").or_insert(json!(1));
        }
    }
    if let Some(m) = cla.as_object_mut() {
        m.entry("policy")
            .or_insert(json!({"overprovisioning_factor": 140}));
    }
    cla
}
