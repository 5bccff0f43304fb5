//! `meshsim diff OLD NEW [POD...]`: per-proxy changes between two revisions.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::{ColorChoice, ExitStatus, GlobalArgs, finish, print_diagnostics};
use crate::diag::Diagnostics;
use crate::diff::output::{self, Format};
use crate::diff::resources::ResourceType;
use crate::diff::{self, Options};
use crate::load::revision;
use crate::session::{Inputs, Session};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old revision: paths loaded in order (`base,overlays/canary`), or
    /// `git:REV[:PATH]`.
    #[arg(value_name = "OLD")]
    pub old: String,

    /// The new revision, written as OLD.
    #[arg(value_name = "NEW")]
    pub new: String,

    /// Only these proxies (POD syntax; `-n` names their namespace).
    #[arg(value_name = "POD")]
    pub pods: Vec<String>,

    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = DiffFormat::Text)]
    pub output: DiffFormat,

    /// Only these resource types (repeatable or comma-separated).
    #[arg(long = "type", value_enum, value_delimiter = ',')]
    pub types: Vec<TypeArg>,

    /// The git repository `git:` revisions are read from.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TypeArg {
    Listener,
    Route,
    Cluster,
    Endpoint,
    Secret,
}

impl TypeArg {
    fn resource_type(self) -> ResourceType {
        match self {
            TypeArg::Listener => ResourceType::Listener,
            TypeArg::Route => ResourceType::Route,
            TypeArg::Cluster => ResourceType::Cluster,
            TypeArg::Endpoint => ResourceType::Endpoint,
            TypeArg::Secret => ResourceType::Secret,
        }
    }
}

/// Open one side.
fn open_side(spec: &str, a: &DiffArgs, global: &GlobalArgs) -> anyhow::Result<Session> {
    let sources = revision::parse(spec);
    if sources.is_empty() {
        bail!("empty revision `{spec}`");
    }
    let mut diags = Diagnostics::default();
    let loaded = revision::load(&sources, &a.repo, &mut diags);
    let inputs = Inputs {
        paths: Vec::new(),
        namespace: global.namespace.clone(),
        mesh_config: global.mesh_config.clone(),
        implicit_injection: !global.no_implicit_injection,
    };
    Session::from_loaded(loaded, &inputs, diags).with_context(|| format!("revision {spec}"))
}

/// Should stdout be coloured?
pub fn color(global: &GlobalArgs) -> bool {
    let choice = match global.color {
        ColorChoice::Always => Some(true),
        ColorChoice::Never => Some(false),
        ColorChoice::Auto => None,
    };
    let no_color = std::env::var("NO_COLOR").ok();
    output::use_color(choice, no_color.as_deref(), std::io::stdout().is_terminal())
}

pub fn run(
    global: &GlobalArgs,
    a: &DiffArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    if !global.files.is_empty() {
        bail!("diff reads its inputs from OLD and NEW; -f is not used");
    }
    let start = std::time::Instant::now();
    // Both sides at once: loading alone keeps the cores only partly busy.
    let (old, new) = crate::parallel::join(
        || open_side(&a.old, a, global),
        || open_side(&a.new, a, global),
    );
    // Each side's diagnostics, the old side's first; whether it had errors.
    let mut failed = |side: &Session| -> anyhow::Result<bool> {
        print_diagnostics(&side.diags, global, err)?;
        Ok(side.diags.has_errors())
    };
    let old = old?;
    let old_failed = failed(&old)?;
    let new = new?;
    let new_failed = failed(&new)?;
    let mut opts = Options::default();
    if !a.types.is_empty() {
        opts.types = a.types.iter().map(|t| t.resource_type()).collect();
    }
    if !a.pods.is_empty() {
        let mut ids = BTreeSet::new();
        for pod in &a.pods {
            // A proxy of either side: one that appears or disappears too.
            let id = match new.mesh.resolve(pod, &global.namespace) {
                Ok(i) => new.mesh.workloads[i].id(),
                Err(e) => match old.mesh.resolve(pod, &global.namespace) {
                    Ok(i) => old.mesh.workloads[i].id(),
                    Err(_) => return Err(e.into()),
                },
            };
            ids.insert(id);
        }
        opts.proxies = Some(ids);
    }
    let loaded = start.elapsed();
    let mut report = diff::diff(&old, &new, &opts);
    report.timings.0.insert(0, ("loading".to_string(), loaded));
    if !report.not_generated.is_empty() {
        let (first, why) = &report.not_generated[0];
        writeln!(
            err,
            "note: {} proxies have no configuration on either side and were not compared (e.g. {}: {why})",
            report.not_generated.len(),
            first.id
        )?;
    }
    let format = match a.output {
        DiffFormat::Text => Format::Text,
        DiffFormat::Markdown => Format::Markdown,
        DiffFormat::Json => Format::Json,
    };
    let start = std::time::Instant::now();
    output::write(&report, format, color(global), out)?;
    if std::env::var_os("MESHSIM_TIMINGS").is_some() {
        report.timings.add("writing", start);
        for (phase, took) in &report.timings.0 {
            writeln!(err, "timing: {phase}: {:.2} s", took.as_secs_f64())?;
        }
        writeln!(
            err,
            "counts: {} pairs of parts generated, {} focused, {} reused; {} virtual hosts, {} services' lines reused; {} services' endpoints generated alone",
            report.generated,
            report.focused,
            report.reused,
            report.reused_hosts,
            report.reused_lines,
            report.endpoints_alone
        )?;
    }
    let status = if report.has_changes() {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    };
    // Freeing two large meshes takes a while and nothing waits for it: the
    // process exits as soon as the command returns.
    std::thread::spawn(move || drop((old, new, report)));
    Ok(finish(old_failed || new_failed, status))
}
