//! The POD argument every per-proxy command takes: a pod name, `name.namespace`,
//! `deploy/NAME`, `sts/NAME`, `ds/NAME`, `rs/NAME`, `pod/NAME`, or an
//! unambiguous prefix; `-n` gives the namespace when the argument names none.

use super::Mesh;
use super::workloads::Workload;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("no pod {name} in namespace {namespace}{hint}")]
    NotFound {
        name: String,
        namespace: String,
        hint: String,
    },
    #[error("{arg} is ambiguous in namespace {namespace}; candidates: {}", candidates.join(", "))]
    Ambiguous {
        arg: String,
        namespace: String,
        candidates: Vec<String>,
    },
    #[error("unknown resource type `{0}` (use pod/, deploy/, sts/, ds/ or rs/)")]
    UnknownType(String),
}

/// Controller kinds by the prefixes kubectl accepts.
fn controller_kind(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "deploy" | "deployment" | "deployments" => "Deployment",
        "sts" | "statefulset" | "statefulsets" => "StatefulSet",
        "ds" | "daemonset" | "daemonsets" => "DaemonSet",
        "rs" | "replicaset" | "replicasets" => "ReplicaSet",
        _ => return None,
    })
}

/// `NAME.NAMESPACE` when the part after the last dot is a known namespace.
fn split_namespace<'a>(mesh: &Mesh, arg: &'a str, default_ns: &'a str) -> (&'a str, &'a str) {
    match arg.rsplit_once('.') {
        Some((name, ns)) if mesh.namespaces.contains_key(ns) => (name, ns),
        _ => (arg, default_ns),
    }
}

impl Mesh {
    /// Resolve a POD argument to a workload index.
    pub fn resolve(&self, arg: &str, default_ns: &str) -> Result<usize, ResolveError> {
        if let Some((prefix, rest)) = arg.split_once('/') {
            let (name, ns) = split_namespace(self, rest, default_ns);
            if matches!(prefix, "pod" | "pods" | "po") {
                return self.resolve_name(name, ns);
            }
            let kind = controller_kind(prefix)
                .ok_or_else(|| ResolveError::UnknownType(prefix.to_string()))?;
            // The first replica by name, as a stable stand-in for kubectl's choice.
            return self
                .workloads
                .iter()
                .enumerate()
                .filter(|(_, w)| w.namespace == ns)
                .filter(|(_, w)| {
                    w.controller
                        .as_ref()
                        .is_some_and(|c| c.kind == kind && c.name == name)
                        || (kind == "ReplicaSet" && owned_by_replica_set(w, name))
                })
                .min_by(|a, b| a.1.name.cmp(&b.1.name))
                .map(|(i, _)| i)
                .ok_or_else(|| ResolveError::NotFound {
                    name: format!("{prefix}/{name}"),
                    namespace: ns.to_string(),
                    hint: String::new(),
                });
        }
        let (name, ns) = split_namespace(self, arg, default_ns);
        self.resolve_name(name, ns)
    }

    fn resolve_name(&self, name: &str, ns: &str) -> Result<usize, ResolveError> {
        let candidates: Vec<(usize, &Workload)> = self
            .workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| w.namespace == ns && w.name.starts_with(name))
            .collect();
        if let Some((i, _)) = candidates.iter().find(|(_, w)| w.name == name) {
            return Ok(*i);
        }
        match candidates.as_slice() {
            [(i, _)] => Ok(*i),
            [] => {
                let elsewhere: Vec<String> = self
                    .workloads
                    .iter()
                    .filter(|w| w.name.starts_with(name))
                    .map(Workload::id)
                    .take(5)
                    .collect();
                Err(ResolveError::NotFound {
                    name: name.to_string(),
                    namespace: ns.to_string(),
                    hint: if elsewhere.is_empty() {
                        String::new()
                    } else {
                        format!(" (found in other namespaces: {})", elsewhere.join(", "))
                    },
                })
            }
            many => Err(ResolveError::Ambiguous {
                arg: name.to_string(),
                namespace: ns.to_string(),
                candidates: many.iter().map(|(_, w)| w.name.clone()).collect(),
            }),
        }
    }
}

/// Pods of a Deployment's ReplicaSet carry its name plus a suffix.
fn owned_by_replica_set(w: &Workload, rs: &str) -> bool {
    w.name
        .strip_prefix(rs)
        .is_some_and(|rest| rest.starts_with('-') && rest[1..].len() == 5)
}
