//! One proxy's configuration as a graph: listener → filter chain → route
//! configuration → virtual host → route → cluster → endpoints.
//!
//! Each node holds its resource's own fields; a parent's child lists live
//! in the edges (in order), so the Envoy resources are reassembled from the
//! graph, and walks (trace, diff, export) follow the same edges. References
//! by name (RDS, tcp_proxy and route targets, EDS) are edges too.

use std::collections::HashMap;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Listener,
    FilterChain,
    RouteConfig,
    VirtualHost,
    Route,
    Cluster,
    Endpoints,
    /// An SDS secret istiod serves; without material it is warming.
    Secret,
}

/// Whether Envoy got the resource from istiod or from its bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Dynamic,
    Static,
    /// A route configuration written inside an HTTP connection manager.
    Inline,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    pub name: String,
    pub origin: Origin,
    /// The resource without its child lists.
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// A listener's `filter_chains[i]`, a route config's `virtual_hosts[i]`,
    /// a virtual host's `routes[i]`.
    Child(usize),
    /// A listener's `default_filter_chain`.
    Default,
    /// An HCM's RDS name or inline route configuration.
    Routes,
    /// A tcp_proxy or route target (weight 0 when not weighted).
    Target(u32),
    /// A cluster's endpoints.
    Eds,
    /// A chain's or cluster's SDS secret.
    Sds,
}

#[derive(Debug, Default)]
pub struct ConfigGraph {
    pub graph: DiGraph<Node, Edge>,
    /// The resources referenced by name (route configurations, clusters,
    /// endpoints, secrets), per kind; the first of a name wins.
    by_name: HashMap<Kind, HashMap<String, NodeIndex>>,
    /// Top-level resources in the order they were added.
    pub roots: Vec<NodeIndex>,
}

impl ConfigGraph {
    fn add(&mut self, kind: Kind, name: String, origin: Origin, value: Value) -> NodeIndex {
        let named = matches!(
            kind,
            Kind::RouteConfig | Kind::Cluster | Kind::Endpoints | Kind::Secret
        );
        if named {
            let next = NodeIndex::new(self.graph.node_count());
            self.by_name
                .entry(kind)
                .or_default()
                .entry(name.clone())
                .or_insert(next);
        }
        self.graph.add_node(Node {
            kind,
            name,
            origin,
            value,
        })
    }

    pub fn node(&self, i: NodeIndex) -> &Node {
        &self.graph[i]
    }

    pub fn find(&self, kind: Kind, name: &str) -> Option<NodeIndex> {
        self.by_name.get(&kind)?.get(name).copied()
    }

    /// Add a listener; its chains become nodes.
    pub fn add_listener(&mut self, mut l: Value, origin: Origin) -> NodeIndex {
        let chains = take_array(&mut l, "filter_chains");
        let default = l
            .as_object_mut()
            .and_then(|m| m.remove("default_filter_chain"));
        let name = str_field(&l, "name");
        let li = self.add(Kind::Listener, name.clone(), origin, l);
        self.roots.push(li);
        for (i, c) in chains.into_iter().enumerate() {
            let ci = self.add(Kind::FilterChain, format!("{name}/{i}"), origin, c);
            self.graph.add_edge(li, ci, Edge::Child(i));
        }
        if let Some(c) = default {
            let ci = self.add(Kind::FilterChain, format!("{name}/default"), origin, c);
            self.graph.add_edge(li, ci, Edge::Default);
        }
        li
    }

    /// Add a route configuration; virtual hosts and routes become nodes.
    pub fn add_route_config(&mut self, mut rc: Value, origin: Origin) -> NodeIndex {
        let vhosts = take_array(&mut rc, "virtual_hosts");
        let name = str_field(&rc, "name");
        let ri = self.add(Kind::RouteConfig, name.clone(), origin, rc);
        if origin != Origin::Inline {
            self.roots.push(ri);
        }
        for (i, mut vh) in vhosts.into_iter().enumerate() {
            let routes = take_array(&mut vh, "routes");
            let vname = format!("{name}/{}", str_field(&vh, "name"));
            let vi = self.add(Kind::VirtualHost, vname.clone(), origin, vh);
            self.graph.add_edge(ri, vi, Edge::Child(i));
            for (j, r) in routes.into_iter().enumerate() {
                let n = format!("{vname}/{j}");
                let rti = self.add(Kind::Route, n, origin, r);
                self.graph.add_edge(vi, rti, Edge::Child(j));
            }
        }
        ri
    }

    pub fn add_cluster(&mut self, c: Value, origin: Origin) -> NodeIndex {
        let name = str_field(&c, "name");
        let i = self.add(Kind::Cluster, name, origin, c);
        self.roots.push(i);
        i
    }

    pub fn add_endpoints(&mut self, cla: Value) -> NodeIndex {
        let name = str_field(&cla, "cluster_name");
        let i = self.add(Kind::Endpoints, name, Origin::Dynamic, cla);
        self.roots.push(i);
        i
    }

    pub fn add_secret(&mut self, secret: Value) -> NodeIndex {
        let name = str_field(&secret, "name");
        let i = self.add(Kind::Secret, name, Origin::Dynamic, secret);
        self.roots.push(i);
        i
    }

    /// Draw the reference edges once every resource is in: chains to route
    /// configurations (inline ones become nodes) and clusters, routes to
    /// clusters, clusters to their endpoints.
    pub fn link(&mut self) {
        /// What a chain's filter refers to.
        enum Reference {
            Rds(String),
            Inline(Value),
        }
        // References are collected first and edges drawn after, so nothing
        // is copied out of the graph to be read while it changes.
        let mut refs: Vec<(NodeIndex, Reference)> = Vec::new();
        let mut targets: Vec<(NodeIndex, String, u32)> = Vec::new();
        for ci in self.graph.node_indices() {
            let node = &self.graph[ci];
            if node.kind != Kind::FilterChain {
                continue;
            }
            for f in node.value["filters"].as_array().into_iter().flatten() {
                let tc = &f["typed_config"];
                if let Some(rds) = tc["rds"]["route_config_name"].as_str() {
                    refs.push((ci, Reference::Rds(rds.to_string())));
                } else if let Some(rc) = tc.get("route_config") {
                    refs.push((ci, Reference::Inline(rc.clone())));
                }
                targets_of(ci, tc, &mut targets);
            }
        }
        for (ci, r) in refs {
            let ri = match r {
                Reference::Rds(name) => self.find(Kind::RouteConfig, &name),
                Reference::Inline(mut rc) => {
                    if rc.get("name").is_none() {
                        rc["name"] = Value::String(String::new());
                    }
                    Some(self.add_route_config(rc, Origin::Inline))
                }
            };
            if let Some(ri) = ri {
                self.graph.add_edge(ci, ri, Edge::Routes);
            }
        }
        // Routes after the inline route configurations became nodes: theirs
        // are linked too.
        for ri in self.graph.node_indices() {
            let node = &self.graph[ri];
            if node.kind == Kind::Route {
                targets_of(ri, &node.value["route"], &mut targets);
            }
        }
        for (from, cluster, weight) in targets {
            if let Some(ci) = self.find(Kind::Cluster, &cluster) {
                self.graph.add_edge(from, ci, Edge::Target(weight));
            }
        }
        let eds: Vec<(NodeIndex, NodeIndex)> = self
            .graph
            .node_indices()
            .filter(|&i| self.graph[i].kind == Kind::Cluster)
            .filter_map(|ci| Some((ci, self.find(Kind::Endpoints, &self.graph[ci].name)?)))
            .collect();
        for (ci, ei) in eds {
            self.graph.add_edge(ci, ei, Edge::Eds);
        }
    }

    /// Add the secrets `make` builds from the SDS names the chains and
    /// clusters reference (in first-reference order), with an edge from
    /// each holder to its secrets; returns the names. The only search of
    /// the transport sockets.
    pub fn add_secrets(&mut self, make: impl FnOnce(&[String]) -> Vec<Value>) -> Vec<String> {
        let holders: Vec<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|&i| matches!(self.graph[i].kind, Kind::FilterChain | Kind::Cluster))
            .collect();
        let held: Vec<(NodeIndex, Vec<String>)> = crate::parallel::map(&holders, |&h| {
            let names = super::secrets::referenced(std::iter::once(&self.graph[h].value));
            (h, names)
        })
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .collect();
        let mut names: Vec<String> = Vec::new();
        for n in held.iter().flat_map(|(_, n)| n) {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        for secret in make(&names) {
            self.add_secret(secret);
        }
        for (h, refs) in held {
            for name in refs {
                if let Some(si) = self.find(Kind::Secret, &name) {
                    self.graph.add_edge(h, si, Edge::Sds);
                }
            }
        }
        names
    }

    /// Children of `i` under `Child` edges, in order, and the `Default` one.
    fn children(&self, i: NodeIndex) -> (Vec<NodeIndex>, Option<NodeIndex>) {
        let mut ordered: Vec<(usize, NodeIndex)> = Vec::new();
        let mut default = None;
        for e in self.graph.edges_directed(i, Direction::Outgoing) {
            match e.weight() {
                Edge::Child(n) => ordered.push((*n, e.target())),
                Edge::Default => default = Some(e.target()),
                _ => {}
            }
        }
        ordered.sort();
        (ordered.into_iter().map(|(_, t)| t).collect(), default)
    }

    /// The Envoy resource a root node stands for, children put back.
    pub fn resource(&self, i: NodeIndex) -> Value {
        self.shape(i).build(|n| self.graph[n].value.clone())
    }

    /// The same, moving the values out of the graph (which keeps its
    /// structure but not its contents): for output that needs each
    /// resource once, without holding two copies of a large mesh.
    pub fn take_resource(&mut self, i: NodeIndex) -> Value {
        let shape = self.shape(i);
        shape.build(|n| std::mem::take(&mut self.graph[n].value))
    }

    /// Which nodes make up a root's resource.
    fn shape(&self, i: NodeIndex) -> Shape {
        let (kids, default) = self.children(i);
        let kids = kids
            .into_iter()
            .map(|k| {
                let grandkids = if self.graph[i].kind == Kind::RouteConfig {
                    self.children(k).0
                } else {
                    Vec::new()
                };
                (k, grandkids)
            })
            .collect();
        Shape {
            root: i,
            kind: self.graph[i].kind,
            kids,
            default,
        }
    }

    /// Root nodes of one kind and origin, in insertion order.
    pub fn roots_of(&self, kind: Kind, origin: Origin) -> impl Iterator<Item = NodeIndex> + '_ {
        self.roots.iter().copied().filter(move |&i| {
            let n = &self.graph[i];
            n.kind == kind && n.origin == origin
        })
    }
}

/// The clusters a tcp_proxy or route action names, with their weights (0
/// when not weighted).
fn targets_of(from: NodeIndex, action: &Value, out: &mut Vec<(NodeIndex, String, u32)>) {
    if let Some(c) = action["cluster"].as_str() {
        out.push((from, c.to_string(), 0));
    }
    for w in action["weighted_clusters"]["clusters"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(c) = w["name"].as_str() {
            let weight = w["weight"].as_u64().unwrap_or(0) as u32;
            out.push((from, c.to_string(), weight));
        }
    }
}

/// A root and its children (and theirs, for route configurations).
struct Shape {
    root: NodeIndex,
    kind: Kind,
    kids: Vec<(NodeIndex, Vec<NodeIndex>)>,
    default: Option<NodeIndex>,
}

impl Shape {
    fn build(self, mut value_of: impl FnMut(NodeIndex) -> Value) -> Value {
        let mut v = value_of(self.root);
        match self.kind {
            Kind::Listener => {
                let chains: Vec<Value> = self.kids.iter().map(|(c, _)| value_of(*c)).collect();
                insert_after(
                    &mut v,
                    "filter_chains",
                    Value::Array(chains),
                    &["name", "address"],
                );
                if let Some(d) = self.default {
                    insert_before(&mut v, "default_filter_chain", value_of(d), "bind_to_port");
                }
            }
            Kind::RouteConfig => {
                let vhosts: Vec<Value> = self
                    .kids
                    .iter()
                    .map(|(vh, routes)| {
                        let mut vv = value_of(*vh);
                        let routes: Vec<Value> = routes.iter().map(|&r| value_of(r)).collect();
                        insert_after(
                            &mut vv,
                            "routes",
                            Value::Array(routes),
                            &["name", "domains"],
                        );
                        vv
                    })
                    .collect();
                insert_after(&mut v, "virtual_hosts", Value::Array(vhosts), &["name"]);
            }
            _ => {}
        }
        v
    }
}

fn take_array(v: &mut Value, key: &str) -> Vec<Value> {
    match v.as_object_mut().and_then(|m| m.remove(key)) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    }
}

fn str_field(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// Put `key` back right after the last of `after` present (field order is
/// proto order, which the dump keeps).
fn insert_after(v: &mut Value, key: &str, value: Value, after: &[&str]) {
    let Some(m) = v.as_object_mut() else { return };
    let old = std::mem::take(m);
    let pos = old
        .keys()
        .rposition(|k| after.contains(&k.as_str()))
        .map_or(0, |p| p + 1);
    let mut out = Map::new();
    let mut value = Some(value);
    for (i, (k, val)) in old.into_iter().enumerate() {
        if i == pos
            && let Some(x) = value.take()
        {
            out.insert(key.to_string(), x);
        }
        out.insert(k, val);
    }
    if let Some(x) = value {
        out.insert(key.to_string(), x);
    }
    *m = out;
}

/// Put `key` back right before `before` (or at the end).
fn insert_before(v: &mut Value, key: &str, value: Value, before: &str) {
    let Some(m) = v.as_object_mut() else { return };
    let old = std::mem::take(m);
    let mut out = Map::new();
    let mut value = Some(value);
    for (k, val) in old {
        if k == before
            && let Some(x) = value.take()
        {
            out.insert(key.to_string(), x);
        }
        out.insert(k, val);
    }
    if let Some(x) = value {
        out.insert(key.to_string(), x);
    }
    *m = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_and_edges() {
        let mut g = ConfigGraph::default();
        let l = json!({
            "name": "0.0.0.0_80",
            "address": {"socket_address": {"address": "0.0.0.0", "port_value": 80}},
            "filter_chains": [{"filters": [{"name": "hcm", "typed_config": {"rds": {"route_config_name": "80"}}}]}],
            "traffic_direction": "OUTBOUND",
            "default_filter_chain": {"filters": [{"name": "tcp", "typed_config": {"cluster": "c1"}}]},
            "bind_to_port": false,
        });
        let rc = json!({
            "name": "80",
            "virtual_hosts": [{"name": "a:80", "domains": ["a"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "c1"}}], "include_request_attempt_count": true}],
            "validate_clusters": false,
        });
        let li = g.add_listener(l.clone(), Origin::Dynamic);
        let ri = g.add_route_config(rc.clone(), Origin::Dynamic);
        let ci = g.add_cluster(json!({"name": "c1", "type": "EDS"}), Origin::Dynamic);
        g.add_endpoints(json!({"cluster_name": "c1", "endpoints": []}));
        g.link();
        assert_eq!(g.resource(li), l);
        assert_eq!(g.resource(ri), rc);
        // chain → route config, default chain → cluster, route → cluster, cluster → endpoints
        assert_eq!(g.graph.edges_directed(ci, Direction::Incoming).count(), 2);
        assert_eq!(g.graph.edges_directed(ci, Direction::Outgoing).count(), 1);
    }

    #[test]
    fn inline_route_configurations_are_linked() {
        let mut g = ConfigGraph::default();
        let l = json!({
            "name": "virtualInbound",
            "filter_chains": [{"filters": [{"name": "hcm", "typed_config": {"route_config": {
                "name": "inbound|8080||",
                "virtual_hosts": [{"name": "inbound|http|8080", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "inbound|8080||"}}]}],
            }}}]}],
        });
        let li = g.add_listener(l.clone(), Origin::Dynamic);
        let ci = g.add_cluster(
            json!({"name": "inbound|8080||", "type": "STATIC"}),
            Origin::Dynamic,
        );
        g.link();
        let inline = g
            .graph
            .node_indices()
            .find(|&i| g.node(i).origin == Origin::Inline && g.node(i).kind == Kind::RouteConfig)
            .expect("the inline route configuration is a node");
        assert!(
            g.graph
                .contains_edge(g.graph.neighbors(li).next().unwrap(), inline)
        );
        // The inline configuration's route targets the cluster.
        let from: Vec<Kind> = g
            .graph
            .edges_directed(ci, Direction::Incoming)
            .filter(|e| matches!(e.weight(), Edge::Target(_)))
            .map(|e| g.node(e.source()).kind)
            .collect();
        assert_eq!(from, vec![Kind::Route]);
        assert_eq!(g.resource(li), l);
    }
}
