//! A generated configuration as Envoy's admin endpoints would print it:
//! `/config_dump?include_eds` and `/clusters?format=json`, so every
//! istioctl view renders it exactly as it renders a live proxy's.

use serde_json::{Value, json};

use super::graph::{Kind, Origin};
use super::json::any;
use super::{ProxyConfig, bootstrap};

/// Generated configuration has no push time; a fixed one keeps output
/// byte-identical between runs.
const UPDATED: &str = "2026-01-01T00:00:00Z";
/// The version istiod would stamp on a push.
const VERSION: &str = "meshsim";

const ADMIN: &str = "envoy.admin.v3.";

impl ProxyConfig {
    /// Envoy's `/config_dump?include_eds` for this proxy.
    pub fn config_dump(&self) -> Value {
        let g = &self.graph;
        let res = |i| g.resource(i);
        let static_of = |kind: Kind, field: &str, type_name: &str| -> Vec<Value> {
            g.roots_of(kind, Origin::Static)
                .map(|i| json!({field: any(type_name, res(i)), "last_updated": UPDATED}))
                .collect()
        };
        let listeners = g
            .roots_of(Kind::Listener, Origin::Dynamic)
            .map(|i| {
                json!({
                    "name": g.node(i).name,
                    "active_state": {
                        "version_info": VERSION,
                        "listener": any("envoy.config.listener.v3.Listener", res(i)),
                        "last_updated": UPDATED,
                    },
                })
            })
            .collect::<Vec<_>>();
        let dynamic = |kind: Kind, field: &str, type_name: &str| -> Vec<Value> {
            g.roots_of(kind, Origin::Dynamic)
                .map(|i| {
                    json!({
                        "version_info": VERSION,
                        field: any(type_name, res(i)),
                        "last_updated": UPDATED,
                    })
                })
                .collect()
        };
        // Inline route configurations are what Envoy lists as static.
        let inline_routes: Vec<Value> = g
            .graph
            .node_indices()
            .filter(|&i| {
                let n = g.node(i);
                n.kind == Kind::RouteConfig && n.origin == Origin::Inline
            })
            .map(|i| {
                json!({
                    "route_config": any("envoy.config.route.v3.RouteConfiguration", res(i)),
                    "last_updated": UPDATED,
                })
            })
            .collect();
        // Envoy lists the hosts of clusters it got from istiod (EDS or
        // inline) as dynamic, its bootstrap clusters' as static.
        let endpoint_configs = |origin: Origin| -> Vec<Value> {
            g.roots_of(Kind::Cluster, origin)
                .filter_map(|i| {
                    let n = g.node(i);
                    g.find(Kind::Endpoints, &n.name)
                        .map(|e| g.node(e).value.clone())
                        .or_else(|| n.value.get("load_assignment").cloned())
                })
                .map(|cla| {
                    json!({
                        "endpoint_config": any(
                            "envoy.config.endpoint.v3.ClusterLoadAssignment",
                            as_envoy_reports(cla),
                        ),
                    })
                })
                .collect()
        };
        let endpoints = endpoint_configs(Origin::Dynamic);
        let static_endpoints = endpoint_configs(Origin::Static);
        json!({
            "configs": [
                any(&format!("{ADMIN}BootstrapConfigDump"), json!({
                    "bootstrap": {
                        "node": bootstrap::node(&self.proxy),
                        "static_resources": {
                            "listeners": g.roots_of(Kind::Listener, Origin::Static).map(res).collect::<Vec<_>>(),
                            "clusters": g.roots_of(Kind::Cluster, Origin::Static).map(res).collect::<Vec<_>>(),
                        },
                        "dynamic_resources": {
                            "lds_config": super::filters::ads(),
                            "cds_config": super::filters::ads(),
                            "ads_config": {
                                "api_type": "GRPC",
                                "transport_api_version": "V3",
                                "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}],
                                "set_node_on_first_message_only": true,
                            },
                        },
                    },
                    "last_updated": UPDATED,
                })),
                any(&format!("{ADMIN}ClustersConfigDump"), json!({
                    "version_info": VERSION,
                    "static_clusters": static_of(Kind::Cluster, "cluster", "envoy.config.cluster.v3.Cluster"),
                    "dynamic_active_clusters": dynamic(Kind::Cluster, "cluster", "envoy.config.cluster.v3.Cluster"),
                })),
                any(&format!("{ADMIN}ListenersConfigDump"), json!({
                    "version_info": VERSION,
                    "static_listeners": static_of(Kind::Listener, "listener", "envoy.config.listener.v3.Listener"),
                    "dynamic_listeners": listeners,
                })),
                any(&format!("{ADMIN}RoutesConfigDump"), json!({
                    "static_route_configs": inline_routes,
                    "dynamic_route_configs": dynamic(Kind::RouteConfig, "route_config", "envoy.config.route.v3.RouteConfiguration"),
                })),
                any(&format!("{ADMIN}SecretsConfigDump"), json!({})),
                any(&format!("{ADMIN}EndpointsConfigDump"), json!({
                    "static_endpoint_configs": static_endpoints,
                    "dynamic_endpoint_configs": endpoints,
                })),
            ],
        })
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
            let rest = std::mem::take(m);
            let endpoint = rest.get("endpoint").cloned();
            if let Some(e) = endpoint {
                m.insert("endpoint".into(), e);
            }
            m.insert(
                "health_status".into(),
                rest.get("health_status")
                    .cloned()
                    .unwrap_or(json!("HEALTHY")),
            );
            for (k, v) in rest {
                m.entry(k).or_insert(v);
            }
            m.entry("load_balancing_weight").or_insert(json!(1));
        }
    }
    if let Some(m) = cla.as_object_mut() {
        m.entry("policy")
            .or_insert(json!({"overprovisioning_factor": 140}));
    }
    cla
}
