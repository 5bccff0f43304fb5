//! `meshsim translate` and `meshsim status`: the internal Istio objects and
//! the Gateway API status, as istiod's conformance goldens print them
//! (sigs.k8s.io/yaml: alphabetical keys, each document followed by `---`).

use serde_json::{Map, Value, json};

use crate::model::{Body, Object};
use crate::registry::translate::{StatusDoc, proto_json};

/// One translated object as `crd.ConvertConfig` writes it: metadata with
/// annotations, creationTimestamp (when the source had one), name and
/// namespace only; the spec in proto-JSON.
pub fn object_value(o: &Object) -> Value {
    let m = o.meta();
    let mut metadata = Map::new();
    if !m.annotations.is_empty() {
        metadata.insert("annotations".into(), json!(m.annotations));
    }
    if let Some(ts) = &m.creation_timestamp {
        metadata.insert("creationTimestamp".into(), json!(ts));
    }
    metadata.insert("name".into(), json!(m.name));
    metadata.insert("namespace".into(), json!(o.namespace()));
    let spec = match &o.body {
        Body::IstioGateway(g) => proto_json(&g.spec),
        Body::VirtualService(v) => proto_json(&v.spec),
        Body::DestinationRule(d) => proto_json(&d.spec),
        _ => Value::Null,
    };
    json!({
        "apiVersion": o.api_version,
        "kind": o.info.kind,
        "metadata": metadata,
        "spec": spec,
    })
}

/// Documents as YAML, each followed by `---`.
pub fn yaml_documents(docs: &[Value]) -> String {
    let mut out = String::new();
    for d in docs {
        out.push_str(&super::goyaml::to_yaml(d));
        out.push_str("---\n");
    }
    out
}

pub fn objects_yaml(objects: &[Object]) -> String {
    yaml_documents(&objects.iter().map(object_value).collect::<Vec<_>>())
}

pub fn status_yaml(status: &[StatusDoc]) -> String {
    yaml_documents(&status.iter().map(StatusDoc::to_value).collect::<Vec<_>>())
}

/// The documents as one pretty JSON list.
pub fn json_list(docs: Vec<Value>) -> String {
    let mut s = serde_json::to_string_pretty(&Value::Array(docs)).unwrap_or_default();
    s.push('\n');
    s
}
