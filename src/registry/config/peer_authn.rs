//! PeerAuthentication: the mTLS mode of a workload's ports
//! (istiod-sidecar.md §6.3, §7.4).

use crate::diag::Diagnostics;
use crate::model::{Labels, Store};

use super::super::Mesh;
use super::ConfigMeta;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtlsMode {
    Disable,
    Permissive,
    Strict,
}

/// One PeerAuthentication, as written.
#[derive(Debug, Clone)]
pub struct PeerAuthnEntry {
    pub meta: ConfigMeta,
    pub selector: Option<Labels>,
    /// None: UNSET (inherit).
    pub mode: Option<MtlsMode>,
    /// Port → mode (None: UNSET, inherit the workload mode).
    pub port_level: Vec<(u32, Option<MtlsMode>)>,
}

#[derive(Debug, Default)]
pub struct PeerAuthentications {
    pub all: Vec<PeerAuthnEntry>,
    pub root_namespace: String,
}

/// A workload's effective modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadMtls {
    /// The mode of ports without a port-level setting.
    pub mode: MtlsMode,
    /// Port-level modes of the workload policy (target ports), resolved.
    pub ports: Vec<(u32, MtlsMode)>,
    /// The policies that decided, for attribution.
    pub sources: Vec<ConfigMeta>,
}

impl WorkloadMtls {
    pub fn for_port(&self, port: u32) -> MtlsMode {
        self.ports
            .iter()
            .find(|(p, _)| *p == port)
            .map_or(self.mode, |(_, m)| *m)
    }
}

impl PeerAuthentications {
    /// The modes of a workload in `ns` with `labels`: mesh (root namespace),
    /// namespace and workload level, oldest wins per level, UNSET inherits,
    /// nothing at all means PERMISSIVE.
    pub fn for_workload(&self, ns: &str, labels: &Labels) -> WorkloadMtls {
        let _ = (ns, labels);
        todo!()
    }

    /// The namespace-level (else mesh-level, else PERMISSIVE) mode of `ns`:
    /// what clients infer for auto mTLS.
    pub fn for_namespace(&self, ns: &str) -> MtlsMode {
        let _ = ns;
        todo!()
    }
}

pub fn build(store: &Store, mesh: &Mesh, diags: &mut Diagnostics) -> PeerAuthentications {
    let _ = (store, mesh, diags);
    todo!()
}
