//! `meshsim translate`: Gateway API and Ingress as istiod's internal Istio
//! Gateways, VirtualServices and DestinationRules.

use std::io::Write;

use clap::{Args, ValueEnum};

use super::{ExitStatus, GlobalArgs, finish};
use crate::render::translate::{json_list, object_value, objects_yaml};

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = DocFormat::Yaml)]
    pub output: DocFormat,
}

/// `-o` of the document views (translate, status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    Yaml,
    Json,
}

pub fn run(
    global: &GlobalArgs,
    args: &TranslateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let session = super::open_session(global)?;
    let had_errors = super::report(&session, global, err)?;
    let objects = &session.translated.objects;
    let text = match args.output {
        DocFormat::Yaml => objects_yaml(objects),
        DocFormat::Json => json_list(objects.iter().map(object_value).collect()),
    };
    out.write_all(text.as_bytes())?;
    Ok(finish(had_errors, ExitStatus::Success))
}
