//! `meshsim proxies`: every proxy of the mesh.

use std::io::Write;

use clap::Args;

use super::{ExitStatus, GlobalArgs};

#[derive(Debug, Args)]
pub struct ProxiesArgs {
    /// Also list pods without a proxy, and why they have none.
    #[arg(long)]
    pub all: bool,
}

pub fn run(
    _global: &GlobalArgs,
    _args: &ProxiesArgs,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    Ok(ExitStatus::Success)
}
