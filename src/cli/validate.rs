//! `meshsim validate`: what the API server and istiod's validating webhook
//! would reject, with their messages; exit 1 when anything is rejected.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{ExitStatus, GlobalArgs};
use crate::analyze::validate::{Report, Verdict, validate};
use crate::diag::Diagnostics;
use crate::model::BuildOptions;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ValidateFormat::Text)]
    pub output: ValidateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// `file:line: Kind namespace/name: message` per finding, then a summary.
    Text,
    /// Every judged object with its verdict.
    Json,
}

pub fn run(
    global: &GlobalArgs,
    args: &ValidateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let mut diags = Diagnostics::default();
    let paths = if global.files.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        global.files.clone()
    };
    let loaded = crate::load::load(&paths, &mut diags);
    let report = validate(
        &loaded.documents,
        &BuildOptions {
            default_namespace: global.namespace.clone(),
        },
        &mut diags,
    );
    super::print_diagnostics(&diags, global, err)?;
    match args.output {
        ValidateFormat::Text => out.write_all(render_text(&report).as_bytes())?,
        ValidateFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &JsonReport::from(&report))?;
            out.write_all(b"\n")?;
        }
    }
    Ok(if diags.has_errors() {
        ExitStatus::Error
    } else if report.rejected() > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

fn render_text(report: &Report) -> String {
    let mut s = String::new();
    for v in &report.verdicts {
        let who = v.describe();
        for e in &v.errors {
            s.push_str(&format!("{}: {who}: {e}\n", v.span));
        }
        for w in &v.warnings {
            s.push_str(&format!("{}: {who}: warning: {w}\n", v.span));
        }
    }
    let total = report.verdicts.len();
    let rejected = report.rejected();
    s.push_str(&format!(
        "{total} objects validated: {rejected} rejected, {} accepted ({} with warnings)\n",
        total - rejected,
        report.with_warnings()
    ));
    s
}

#[derive(Serialize)]
struct JsonReport<'a> {
    objects: Vec<JsonVerdict<'a>>,
    validated: usize,
    rejected: usize,
}

#[derive(Serialize)]
struct JsonVerdict<'a> {
    #[serde(flatten)]
    verdict: &'a Verdict,
    /// What `kubectl apply` would print.
    denial: Option<String>,
}

impl<'a> From<&'a Report> for JsonReport<'a> {
    fn from(r: &'a Report) -> Self {
        JsonReport {
            objects: r
                .verdicts
                .iter()
                .map(|v| JsonVerdict {
                    verdict: v,
                    denial: v.denial(),
                })
                .collect(),
            validated: r.verdicts.len(),
            rejected: r.rejected(),
        }
    }
}
