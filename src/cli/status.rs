//! `meshsim status`: the Gateway API status istiod would write.

use std::io::Write;

use clap::Args;

use super::translate::DocFormat;
use super::{ExitStatus, GlobalArgs, finish};
use crate::registry::translate::StatusDoc;
use crate::render::translate::{json_list, status_yaml};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = DocFormat::Yaml)]
    pub output: DocFormat,
}

pub fn run(
    global: &GlobalArgs,
    args: &StatusArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let session = super::open_session(global)?;
    let had_errors = super::report(&session, global, err)?;
    let status = &session.translated.status;
    let text = match args.output {
        DocFormat::Yaml => status_yaml(status),
        DocFormat::Json => json_list(status.iter().map(StatusDoc::to_value).collect()),
    };
    out.write_all(text.as_bytes())?;
    Ok(finish(had_errors, ExitStatus::Success))
}
