//! One run's inputs, read and derived: what every command starts from.
//!
//! Runs the pipeline's first three stages (load, model, registry) once, in
//! order, collecting every diagnostic; the CLI and the tests both start here.

use std::path::PathBuf;

use crate::diag::{Diagnostics, Severity, Span};
use crate::load::{self, Loaded};
use crate::model::{self, Store};
use crate::registry::catalog::Catalog;
use crate::registry::config::IstioConfig;
use crate::registry::translate::{self, Translated};
use crate::registry::{self, Mesh, MeshConfigError};
use crate::xds::generate::{self, Context, ProxyConfig};

/// What to read and how.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Files, directories or `-`; empty means the current directory.
    pub paths: Vec<PathBuf>,
    /// Namespace for namespaced objects that name none.
    pub namespace: String,
    /// `--mesh-config`.
    pub mesh_config: Option<PathBuf>,
    /// Take undeclared namespaces as injection-enabled.
    pub implicit_injection: bool,
}

/// Everything read and derived from the inputs of one run.
pub struct Session {
    /// What was read; its documents are dropped once typed (the store holds
    /// all that is needed), its Envoy dumps kept.
    pub loaded: Loaded,
    pub store: Store,
    pub mesh: Mesh,
    /// Services and endpoints as istiod's push context holds them.
    pub catalog: Catalog,
    /// The Istio objects and status istiod derives from Gateway API and Ingress.
    pub translated: Translated,
    /// Istio configuration indexed for per-proxy lookups.
    pub config: IstioConfig,
    pub diags: Diagnostics,
}

impl Session {
    /// Load, type and derive the mesh.
    pub fn open(inputs: &Inputs) -> Result<Session, MeshConfigError> {
        let mut diags = Diagnostics::default();
        let paths = if inputs.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            inputs.paths.clone()
        };
        let loaded = load::load(&paths, &mut diags);
        Session::from_loaded(loaded, inputs, diags)
    }

    /// The same from documents already read (a git revision, for `diff`);
    /// `inputs.paths` is not read again.
    pub fn from_loaded(
        mut loaded: Loaded,
        inputs: &Inputs,
        mut diags: Diagnostics,
    ) -> Result<Session, MeshConfigError> {
        for skipped in &loaded.skipped {
            diags.report(
                Severity::Info,
                "skipped",
                Some(Span::new(skipped.file.clone(), 1)),
                None,
                format!("file skipped: {}", skipped.reason),
            );
        }
        diags.report(
            Severity::Info,
            "summary",
            None,
            None,
            format!(
                "read {} files: {} documents, {} Envoy dumps, {} files skipped",
                loaded.files_read,
                loaded.documents.len(),
                loaded.dumps.len(),
                loaded.skipped.len()
            ),
        );
        let store = model::build(
            &loaded.documents,
            &model::BuildOptions {
                default_namespace: inputs.namespace.clone(),
            },
            &mut diags,
        );
        loaded.documents = Vec::new();
        let mesh_config = match &inputs.mesh_config {
            Some(path) => Some(registry::read_mesh_config_file(path, &mut diags)?),
            None => None,
        };
        let mesh = registry::build(
            &store,
            &registry::Options {
                implicit_injection: inputs.implicit_injection,
                mesh_config,
            },
            &mut diags,
        );
        let catalog = registry::catalog::build(&store, &mesh, &mut diags);
        let opts = translate::Options {
            ingress: translate::ingress::IngressOptions::from_mesh(&mesh.mesh_config),
            ..translate::Options::default()
        };
        let translated = translate::translate(&store, &catalog, &opts, &mut diags);
        let config =
            registry::config::build(&store, &translated.objects, &mesh, &catalog, &mut diags);
        Ok(Session {
            loaded,
            store,
            mesh,
            catalog,
            translated,
            config,
            diags,
        })
    }
}

impl Session {
    /// Drop the typed objects once the registry is derived: generation reads
    /// only the registry, and a large mesh's objects outweigh the proxy
    /// configuration built next. Freed on another thread, which overlaps
    /// the work.
    pub fn release_objects(&mut self) {
        let store = std::mem::take(&mut self.store);
        std::thread::spawn(move || drop(store));
    }

    /// What generation reads, borrowed from this session.
    pub fn context(&self) -> Context<'_> {
        Context {
            mesh: &self.mesh,
            catalog: &self.catalog,
            config: &self.config,
        }
    }

    /// The DNS name table of workload `i`, or why there is none.
    pub fn name_table(&self, i: usize) -> Result<serde_json::Value, String> {
        let kind = self.proxy_kind(i)?;
        Ok(generate::name_table(&self.context(), i, kind))
    }

    /// The configuration of workload `i`, or why there is none.
    pub fn generate(&self, i: usize) -> Result<ProxyConfig, String> {
        let kind = self.proxy_kind(i)?;
        Ok(generate::generate(&self.context(), i, kind))
    }

    /// The type of workload `i`'s proxy, or why it has none.
    fn proxy_kind(&self, i: usize) -> Result<registry::ProxyType, String> {
        match &self.mesh.decisions[i] {
            registry::Decision::Proxy { kind, .. } => Ok(*kind),
            registry::Decision::None(why) => Err(format!(
                "{} has no proxy: {why}",
                self.mesh.workloads[i].id()
            )),
        }
    }
}
