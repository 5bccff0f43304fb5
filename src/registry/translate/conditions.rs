//! Status conditions as istiod writes them, and the status documents of
//! `meshsim status` (the shape of the conformance `.status.yaml.golden`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// A condition before it is written: the success reason and message, and
/// the error that replaces them (inverting the status) when there is one.
#[derive(Debug, Clone)]
pub(crate) struct Cond {
    pub reason: String,
    pub message: String,
    /// The status on success; "True" unless said otherwise.
    pub status: bool,
    pub error: Option<ConfigError>,
}

/// A reason and message reported in place of success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    pub reason: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(reason: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            reason: reason.to_string(),
            message: message.into(),
        }
    }
}

impl Cond {
    pub fn ok(reason: &str, message: &str) -> Cond {
        Cond {
            reason: reason.to_string(),
            message: message.to_string(),
            status: true,
            error: None,
        }
    }

    pub fn with_status(mut self, status: bool) -> Cond {
        self.status = status;
        self
    }
}

/// Conditions by type; written in type order, as istiod sorts them.
pub(crate) type Conds = BTreeMap<&'static str, Cond>;

/// Condition `ty` of `conds`, to change (an empty one when absent).
pub(crate) fn cond<'a>(conds: &'a mut Conds, ty: &'static str) -> &'a mut Cond {
    conds.entry(ty).or_insert_with(|| Cond::ok("", ""))
}

/// The `conditions` list of `conds`.
pub(crate) fn write(conds: &Conds, generation: i64) -> Value {
    Value::Array(
        conds
            .iter()
            .map(|(ty, c)| {
                let (status, reason, message) = match &c.error {
                    Some(e) => (!c.status, e.reason.as_str(), e.message.as_str()),
                    None => (c.status, c.reason.as_str(), c.message.as_str()),
                };
                let mut m = Map::new();
                m.insert("lastTransitionTime".into(), json!("fake"));
                m.insert("message".into(), json!(message));
                if generation != 0 {
                    m.insert("observedGeneration".into(), json!(generation));
                }
                m.insert("reason".into(), json!(reason));
                m.insert(
                    "status".into(),
                    json!(if status { "True" } else { "False" }),
                );
                m.insert("type".into(), json!(ty));
                Value::Object(m)
            })
            .collect(),
    )
}

/// Conditions of the same type replaced in place, new types appended.
pub(crate) fn merge_conditions(existing: &mut Value, new: Value) {
    if !existing.is_array() {
        *existing = Value::Array(Vec::new());
    }
    let Some(list) = existing.as_array_mut() else {
        return;
    };
    for c in new.as_array().cloned().unwrap_or_default() {
        match list.iter_mut().find(|e| e["type"] == c["type"]) {
            Some(e) => *e = c,
            None => list.push(c),
        }
    }
}

/// The status istiod would write for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusDoc {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub status: Value,
}

impl StatusDoc {
    /// The document as the goldens print it (`spec: null`).
    pub fn to_value(&self) -> Value {
        let mut metadata = Map::new();
        metadata.insert("name".into(), json!(self.name));
        if !self.namespace.is_empty() {
            metadata.insert("namespace".into(), json!(self.namespace));
        }
        json!({
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": metadata,
            "spec": null,
            "status": self.status,
        })
    }
}

/// The order of istiod's status dump (its conversion test): GatewayClass,
/// Gateway, HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, every other kind
/// first; then namespace and name (the dump carries no creation time).
pub(crate) fn sort_status(docs: &mut [StatusDoc]) {
    const ORDER: [&str; 6] = [
        "GatewayClass",
        "Gateway",
        "HTTPRoute",
        "GRPCRoute",
        "TLSRoute",
        "TCPRoute",
    ];
    let rank = |k: &str| ORDER.iter().position(|x| *x == k).map_or(-1, |i| i as i64);
    docs.sort_by(|a, b| {
        (rank(&a.kind), &a.namespace, &a.name).cmp(&(rank(&b.kind), &b.namespace, &b.name))
    });
}
