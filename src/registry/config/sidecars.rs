//! Sidecar resources and which one applies to a proxy (istiod-sidecar.md §3.1).

use crate::diag::Diagnostics;
use crate::model::istio::SidecarSpec;
use crate::model::{Labels, Store};

use super::super::Mesh;
use super::ConfigMeta;

#[derive(Debug, Clone)]
pub struct SidecarEntry {
    pub meta: ConfigMeta,
    pub spec: SidecarSpec,
}

#[derive(Debug, Default)]
pub struct Sidecars {
    pub all: Vec<SidecarEntry>,
    pub root_namespace: String,
}

impl Sidecars {
    /// The Sidecar for a proxy: its namespace's (selector ones first, oldest
    /// first), else the root namespace's selector-less one.
    pub fn for_proxy(&self, ns: &str, labels: &Labels) -> Option<&SidecarEntry> {
        let _ = (ns, labels);
        todo!()
    }
}

pub fn build(store: &Store, mesh: &Mesh, diags: &mut Diagnostics) -> Sidecars {
    let _ = (store, mesh, diags);
    todo!()
}
