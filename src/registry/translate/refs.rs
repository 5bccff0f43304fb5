//! ReferenceGrant: which cross-namespace references are permitted
//! (istiod-gateway-security.md §2.10). Route → Gateway attachment is
//! governed by `allowedRoutes`, never by grants.

use std::collections::BTreeSet;

use crate::model::Store;
use crate::model::gateway_api::ReferenceGrant;

/// (from kind, from namespace, to kind, to namespace, to name or "" for all).
type Grant = (String, String, String, String, String);

#[derive(Debug, Default)]
pub(crate) struct ReferenceGrants {
    grants: BTreeSet<Grant>,
}

const FROM_KINDS: &[&str] = &[
    "Gateway",
    "HTTPRoute",
    "GRPCRoute",
    "TLSRoute",
    "TCPRoute",
    "ListenerSet",
];
const TO_KINDS: &[(&str, &str)] = &[
    ("", "Secret"),
    ("", "ConfigMap"),
    ("", "Service"),
    ("gateway.networking.x-k8s.io", "XBackend"),
    ("inference.networking.k8s.io", "InferencePool"),
];

impl ReferenceGrants {
    pub fn build(store: &Store) -> ReferenceGrants {
        let mut grants = BTreeSet::new();
        for (o, g) in store.of::<ReferenceGrant>() {
            for from in &g.spec.from {
                if from.group != "gateway.networking.k8s.io"
                    || !FROM_KINDS.contains(&from.kind.as_str())
                {
                    continue;
                }
                for to in &g.spec.to {
                    let group = if to.group == "core" {
                        ""
                    } else {
                        to.group.as_str()
                    };
                    if !TO_KINDS.contains(&(group, to.kind.as_str())) {
                        continue;
                    }
                    grants.insert((
                        from.kind.clone(),
                        from.namespace.clone(),
                        to.kind.clone(),
                        o.namespace().to_string(),
                        to.name.clone().unwrap_or_default(),
                    ));
                }
            }
        }
        ReferenceGrants { grants }
    }

    /// May a `from_kind` in `from_ns` refer to `to_kind` `to_ns/to_name`?
    pub fn allowed(
        &self,
        from_kind: &str,
        from_ns: &str,
        to_kind: &str,
        to_ns: &str,
        to_name: &str,
    ) -> bool {
        let key = |name: &str| {
            (
                from_kind.to_string(),
                from_ns.to_string(),
                to_kind.to_string(),
                to_ns.to_string(),
                name.to_string(),
            )
        };
        self.grants.contains(&key("")) || self.grants.contains(&key(to_name))
    }
}
