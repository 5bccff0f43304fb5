//! `meshsim dns POD`: the DNS name table istiod sends the proxy when it
//! captures DNS (`ISTIO_META_DNS_CAPTURE`), as istiod's `/debug/ndsz` prints it.

use std::io::Write;

use clap::Args;

use super::{ExitStatus, GlobalArgs, finish};

#[derive(Debug, Args)]
pub struct DnsArgs {
    /// The proxy: a pod name, `name.namespace`, `deploy/NAME`, ...
    #[arg(value_name = "POD")]
    pub pod: String,
}

pub fn run(
    global: &GlobalArgs,
    args: &DnsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let session = super::open_session(global)?;
    let had_errors = super::report(&session, global, err)?;
    let i = session.mesh.resolve(&args.pod, &global.namespace)?;
    let table = session.name_table(i).map_err(anyhow::Error::msg)?;
    serde_json::to_writer_pretty(&mut *out, &table)?;
    writeln!(out)?;
    Ok(finish(had_errors, ExitStatus::Success))
}
