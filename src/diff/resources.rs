//! A proxy's configuration as the resources Envoy holds, each keyed by type
//! and name: what `diff` compares and `snapshot` writes.
//!
//! Read from the config dump rather than the generation graph, so whatever
//! the dump comes to hold (secrets once they are generated) is compared too.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::xds::generate::ProxyConfig;
use crate::xds::generate::telemetry::WorkloadNames;

/// The resource types of `--type`, in the order output lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    Listener,
    Route,
    Cluster,
    Endpoint,
    Secret,
}

impl ResourceType {
    pub const ALL: [ResourceType; 5] = [
        ResourceType::Listener,
        ResourceType::Route,
        ResourceType::Cluster,
        ResourceType::Endpoint,
        ResourceType::Secret,
    ];

    /// The singular name used in output and in `--type`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceType::Listener => "listener",
            ResourceType::Route => "route",
            ResourceType::Cluster => "cluster",
            ResourceType::Endpoint => "endpoint",
            ResourceType::Secret => "secret",
        }
    }

    /// The key of a snapshot file's section.
    fn plural(self) -> &'static str {
        match self {
            ResourceType::Listener => "listeners",
            ResourceType::Route => "routes",
            ResourceType::Cluster => "clusters",
            ResourceType::Endpoint => "endpoints",
            ResourceType::Secret => "secrets",
        }
    }

    pub fn from_name(s: &str) -> Option<ResourceType> {
        ResourceType::ALL
            .into_iter()
            .find(|t| t.name() == s || t.plural() == s)
    }
}

/// One proxy's resources by (type, name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources(pub BTreeMap<(ResourceType, String), Value>);

impl Resources {
    /// Put a workload's own tracing values back into listeners generated
    /// for its view ([`WorkloadNames`]).
    pub fn unmask(&mut self, names: &WorkloadNames) {
        for ((t, _), v) in self.0.iter_mut() {
            if *t == ResourceType::Listener {
                names.unmask(v);
            }
        }
    }

    pub fn from_config(config: ProxyConfig) -> Resources {
        Resources::from_dump(config.config_dump())
    }

    /// Add ClusterLoadAssignments generated apart from their clusters,
    /// as the config dump holds them.
    pub fn add_endpoints(&mut self, assignments: Vec<Value>) {
        for cla in assignments {
            if let Some(name) = cla["cluster_name"].as_str() {
                self.0
                    .insert((ResourceType::Endpoint, name.to_string()), cla);
            }
        }
    }

    /// The resources of an Envoy `/config_dump`: static and dynamic
    /// listeners, route configurations (inline ones belong to their
    /// listener), clusters, endpoints and secrets. `@type` is dropped.
    pub fn from_dump(mut dump: Value) -> Resources {
        use ResourceType::*;
        let mut out = BTreeMap::new();
        for section in dump["configs"].as_array_mut().into_iter().flatten() {
            let ty = section["@type"].as_str().unwrap_or_default();
            let parts: &[(ResourceType, &str, &[&str], &str)] =
                match ty.rsplit('.').next().unwrap_or_default() {
                    "ListenersConfigDump" => &[
                        (Listener, "static_listeners", &["listener"], "name"),
                        (
                            Listener,
                            "dynamic_listeners",
                            &["active_state", "listener"],
                            "name",
                        ),
                    ],
                    "RoutesConfigDump" => {
                        &[(Route, "dynamic_route_configs", &["route_config"], "name")]
                    }
                    "ClustersConfigDump" => &[
                        (Cluster, "static_clusters", &["cluster"], "name"),
                        (Cluster, "dynamic_active_clusters", &["cluster"], "name"),
                    ],
                    "EndpointsConfigDump" => &[
                        (
                            Endpoint,
                            "static_endpoint_configs",
                            &["endpoint_config"],
                            "cluster_name",
                        ),
                        (
                            Endpoint,
                            "dynamic_endpoint_configs",
                            &["endpoint_config"],
                            "cluster_name",
                        ),
                    ],
                    "SecretsConfigDump" => &[
                        (Secret, "static_secrets", &["secret"], "name"),
                        (Secret, "dynamic_active_secrets", &["secret"], "name"),
                    ],
                    _ => &[],
                };
            for &(t, list, path, key) in parts {
                for item in section[list].as_array_mut().into_iter().flatten() {
                    let mut v = path.iter().fold(item, |v, p| &mut v[*p]).take();
                    if let Some(m) = v.as_object_mut() {
                        m.shift_remove("@type");
                    }
                    if let Some(name) = v[key].as_str() {
                        out.insert((t, name.to_string()), v);
                    }
                }
            }
        }
        Resources(out)
    }

    /// As a snapshot file holds them: `{"listeners": {NAME: resource}, ...}`,
    /// every type present, names sorted.
    pub fn to_json(&self) -> Value {
        let mut sections: Map<String, Value> = ResourceType::ALL
            .iter()
            .map(|t| (t.plural().to_string(), Value::Object(Map::new())))
            .collect();
        for ((t, name), v) in &self.0 {
            sections[t.plural()][name] = v.clone();
        }
        Value::Object(sections)
    }

    /// Read back what [`Resources::to_json`] wrote.
    pub fn from_json(v: &Value) -> Result<Resources, String> {
        let mut out = BTreeMap::new();
        let Some(m) = v.as_object() else {
            return Err("not a JSON object".into());
        };
        for (section, items) in m {
            let t = ResourceType::from_name(section)
                .ok_or_else(|| format!("unknown resource type `{section}`"))?;
            let items = items
                .as_object()
                .ok_or_else(|| format!("`{section}` is not an object"))?;
            for (name, r) in items {
                out.insert((t, name.clone()), r.clone());
            }
        }
        Ok(Resources(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_every_type_and_round_trips() {
        let dump = json!({"configs": [
            {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
             "static_listeners": [{"listener": {"@type": "x", "name": "s"}}],
             "dynamic_listeners": [{"name": "d", "active_state": {"listener": {"name": "d"}}}]},
            {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
             "static_route_configs": [{"route_config": {"name": ""}}],
             "dynamic_route_configs": [{"route_config": {"name": "80"}}]},
            {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
             "dynamic_active_clusters": [{"cluster": {"name": "c"}}]},
            {"@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
             "dynamic_endpoint_configs": [{"endpoint_config": {"cluster_name": "c"}}]},
            {"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
             "dynamic_active_secrets": [{"name": "default", "secret": {"name": "default"}}]},
        ]});
        let r = Resources::from_dump(dump);
        let keys: Vec<String> =
            r.0.keys()
                .map(|(t, n)| format!("{}/{n}", t.name()))
                .collect();
        assert_eq!(
            keys,
            [
                "listener/d",
                "listener/s",
                "route/80",
                "cluster/c",
                "endpoint/c",
                "secret/default"
            ]
        );
        assert_eq!(
            r.0[&(ResourceType::Listener, "s".into())],
            json!({"name": "s"})
        );
        assert_eq!(Resources::from_json(&r.to_json()), Ok(r));
    }
}
