//! `meshsim proxy-config`: istioctl's proxy-config views.

use clap::Args;

#[derive(Debug, Args)]
pub struct ProxyConfigArgs {
    /// `[TYPE] [POD]`: TYPE is all, cluster, listener, route, endpoint, eds,
    /// secret, bootstrap or ecds (and istioctl's aliases); POD alone means all.
    #[arg(value_name = "TYPE|POD", num_args = 0..=2)]
    pub args: Vec<String>,
}

use std::io::Write;

use super::{ExitStatus, GlobalArgs};

pub fn run(
    _global: &GlobalArgs,
    _args: &ProxyConfigArgs,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("proxy-config is not built yet")
}
