//! Types every Kubernetes object shares: ObjectMeta, label selectors,
//! int-or-string, and the macro that declares a top-level kind.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `metadata` as the API server serves it. Fields meshsim does not use are
/// still declared, so that a real export loads without unknown-field noise.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub generate_name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub owner_references: Vec<OwnerReference>,
    #[serde(default)]
    pub creation_timestamp: Option<String>,
    #[serde(default)]
    pub deletion_timestamp: Option<String>,
    #[serde(default)]
    pub deletion_grace_period_seconds: Option<i64>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub resource_version: Option<String>,
    #[serde(default)]
    pub generation: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub finalizers: Vec<String>,
    #[serde(default)]
    pub self_link: Option<String>,
    /// Server bookkeeping, opaque to meshsim.
    #[serde(default)]
    pub managed_fields: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub controller: Option<bool>,
    #[serde(default)]
    pub block_owner_deletion: Option<bool>,
}

/// `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, deserialize_with = "nullable")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default, deserialize_with = "nullable")]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Kubernetes semantics: every term must hold; an empty selector matches all.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }
}

impl LabelSelectorRequirement {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator.as_str() {
            "In" => value.is_some_and(|v| self.values.contains(v)),
            "NotIn" => value.is_none_or(|v| !self.values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            // An operator the API server would reject selects nothing.
            _ => false,
        }
    }
}

/// `intstr.IntOrString`: a port number or a port name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    String(String),
}

/// A sub-tree meshsim keeps but never reads (affinity, probes, controller
/// status), boxed: a model of a large mesh holds tens of such fields per
/// pod, nearly all absent, each a pointer rather than a JSON value.
pub type Opaque = Option<Box<serde_json::Value>>;

/// For collections: `key:` with nothing after it (YAML null) means empty, as
/// the API server reads it; serde alone would reject the null.
pub fn nullable<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

/// A `{ key: value }` map with string values, as labels, selectors and
/// annotations are.
pub type Labels = BTreeMap<String, String>;

/// Declares a top-level kind: `apiVersion`, `kind` and `metadata`, then the
/// given fields, all optional on input, camelCase on the wire.
macro_rules! kube_kind {
    ($(#[$attr:meta])* $name:ident { $($(#[$fattr:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            #[serde(default, skip_serializing)]
            pub api_version: Option<String>,
            #[serde(default, skip_serializing)]
            pub kind: Option<String>,
            #[serde(default, deserialize_with = "crate::model::meta::nullable")]
            pub metadata: $crate::model::meta::ObjectMeta,
            $(
                $(#[$fattr])*
                #[serde(default, deserialize_with = "crate::model::meta::nullable")]
                pub $field: $ty,
            )*
        }

        impl $crate::model::HasMeta for $name {
            fn meta(&self) -> &$crate::model::meta::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut $crate::model::meta::ObjectMeta {
                &mut self.metadata
            }
        }
    };
}
pub(crate) use kube_kind;

/// Labels from literal pairs, for tests across the crate.
#[cfg(test)]
pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_semantics() {
        let sel = LabelSelector {
            match_labels: labels(&[("app", "web")]),
            match_expressions: vec![LabelSelectorRequirement {
                key: "istio-injection".into(),
                operator: "NotIn".into(),
                values: vec!["disabled".into()],
            }],
        };
        assert!(sel.matches(&labels(&[("app", "web")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("istio-injection", "disabled")])));
        assert!(!sel.matches(&labels(&[("app", "db")])));
        assert!(LabelSelector::default().matches(&labels(&[])));
    }
}
