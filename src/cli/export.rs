//! `meshsim export POD`: one proxy's generated configuration as a static
//! Envoy bootstrap that a stock Envoy loads (`envoy -c FILE`), with the
//! istio-proxy-only extensions left out and listed on stderr.

use std::io::Write;

use clap::Args;

use super::{ExitStatus, GlobalArgs, finish};
use crate::render::envoy_bootstrap::from_config_dump;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The proxy: a pod name, `name.namespace`, `deploy/NAME`, ...
    #[arg(value_name = "POD")]
    pub pod: String,
}

pub fn run(
    global: &GlobalArgs,
    args: &ExportArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let mut session = super::open_session(global)?;
    let had_errors = super::report(&session, global, err)?;
    session.release_objects();
    let i = session.mesh.resolve(&args.pod, &global.namespace)?;
    let config = session.generate(i).map_err(anyhow::Error::msg)?;
    let export = from_config_dump(&config.config_dump())?;
    if !global.quiet {
        for line in &export.replaced {
            writeln!(err, "note: {line}")?;
        }
    }
    serde_json::to_writer_pretty(&mut *out, &export.bootstrap)?;
    writeln!(out)?;
    Ok(finish(had_errors, ExitStatus::Success))
}
