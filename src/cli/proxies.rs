//! `meshsim proxies`: every proxy of the mesh.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::{ExitStatus, GlobalArgs, finish};
use crate::render::proxies::{render_table, rows};

#[derive(Debug, Args)]
pub struct ProxiesArgs {
    /// Also list pods without a proxy, and why they have none.
    #[arg(long)]
    pub all: bool,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
}

/// `-o` of meshsim's own list views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Yaml,
}

pub fn run(
    global: &GlobalArgs,
    args: &ProxiesArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let session = super::open_session(global)?;
    let had_errors = super::report(&session, global, err)?;
    let rows = rows(&session.mesh, args.all);
    let text = match args.output {
        ListFormat::Table => render_table(&rows, args.all),
        ListFormat::Json => {
            let mut s = serde_json::to_string_pretty(&rows)?;
            s.push('\n');
            s
        }
        ListFormat::Yaml => crate::load::yaml::to_yaml(&rows)?,
    };
    out.write_all(text.as_bytes())?;
    Ok(finish(had_errors, ExitStatus::Success))
}
