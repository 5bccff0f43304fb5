//! meshsim's own `proxies` view: one row per proxy (with `--all`, per pod).

use serde::Serialize;

use crate::registry::{Decision, Mesh};

/// One row of `meshsim proxies`, also its JSON/YAML shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyRow {
    /// `pod.namespace`, as istioctl proxy-status names proxies.
    pub name: String,
    pub pod: String,
    pub namespace: String,
    /// sidecar, router, or none (with --all).
    #[serde(rename = "type")]
    pub kind: String,
    pub service_account: String,
    pub services: Vec<String>,
    pub ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The controller it was synthesized from, or "Pod" for a given pod.
    pub owner: String,
    /// Where the defining object was written (file:line).
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Rows for every proxy; with `all`, for every workload.
pub fn rows(mesh: &Mesh, all: bool) -> Vec<ProxyRow> {
    mesh.workloads
        .iter()
        .zip(&mesh.decisions)
        .filter(|(_, d)| all || matches!(d, Decision::Proxy { .. }))
        .map(|(w, d)| {
            let (kind, revision, reason) = match d {
                Decision::Proxy { kind, revision } => {
                    (kind.as_str().to_string(), Some(revision.clone()), None)
                }
                Decision::None(why) => ("none".to_string(), None, Some(why.clone())),
            };
            ProxyRow {
                name: w.id(),
                pod: w.name.clone(),
                namespace: w.namespace.clone(),
                kind,
                service_account: w.service_account.clone(),
                services: mesh.services_of(w).map(|s| s.name.clone()).collect(),
                ip: w.ip.to_string(),
                locality: w.locality.clone(),
                revision,
                owner: match &w.controller {
                    Some(c) if !matches!(w.origin, crate::registry::workloads::Origin::Pod) => {
                        format!("{}/{} (synthesized)", c.kind, c.name)
                    }
                    Some(c) => format!("{}/{}", c.kind, c.name),
                    None => "Pod".to_string(),
                },
                source: w.span.to_string(),
                reason,
            }
        })
        .collect()
}

/// The table `meshsim proxies` prints.
pub fn render_table(rows: &[ProxyRow], all: bool) -> String {
    let mut header = vec!["NAME", "TYPE", "SERVICE ACCOUNT", "SERVICES"];
    if all {
        header.push("REASON");
    }
    let mut table = super::table::plain(header);
    for r in rows {
        let mut row = vec![
            r.name.clone(),
            r.kind.clone(),
            r.service_account.clone(),
            if r.services.is_empty() {
                "-".to_string()
            } else {
                r.services.join(",")
            },
        ];
        if all {
            row.push(r.reason.clone().unwrap_or_default());
        }
        table.add_row(row);
    }
    super::table::finish(table)
}
