//! The registry: the mesh as istiod sees it, derived from the typed model.
//!
//! Services, workloads (given pods, pods synthesized from controllers,
//! WorkloadEntries), endpoints, which workloads run a proxy and of which type,
//! and the mesh configuration.

pub mod names;

use std::path::Path;

use crate::diag::Diagnostics;
use crate::model::Store;
use crate::model::mesh_config::MeshConfig;

/// Options of the registry stage.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Take namespaces no Namespace object declares as `istio-injection: enabled`.
    pub implicit_injection: bool,
    /// `--mesh-config`, laid over the `istio` ConfigMap.
    pub mesh_config: Option<MeshConfig>,
}

/// The derived mesh.
#[derive(Debug, Default)]
pub struct Mesh {
    pub mesh_config: MeshConfig,
}

pub fn build(_store: &Store, opts: &Options, _diags: &mut Diagnostics) -> Mesh {
    Mesh {
        mesh_config: opts.mesh_config.clone().unwrap_or_default(),
    }
}

pub fn read_mesh_config_file(_path: &Path, _diags: &mut Diagnostics) -> anyhow::Result<MeshConfig> {
    Ok(MeshConfig::default())
}
