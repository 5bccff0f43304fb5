//! `meshsim snapshot --out DIR [--check]`: every proxy's configuration as
//! files, and a check that committed files still match the manifests.

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;

use super::{ExitStatus, GlobalArgs, finish, open_session, report};
use crate::diff::output::{self, Format};
use crate::diff::resources::ResourceType;
use crate::diff::{compare_sides, share, snapshot};

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Directory of the snapshot (`DIR/<namespace>/<pod>.json`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Write nothing: compare DIR with the manifests, print the diff, exit 1
    /// when they differ.
    #[arg(long)]
    pub check: bool,
}

pub fn run(
    global: &GlobalArgs,
    a: &SnapshotArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let session = open_session(global)?;
    let had_errors = report(&session, global, err)?;
    let current = share::classify(&session, &|_| true);
    if !a.check {
        let n = snapshot::write(&a.out, &current)?;
        writeln!(err, "wrote {n} proxies to {}", a.out.display())?;
        return Ok(finish(had_errors, ExitStatus::Success));
    }
    let committed = snapshot::read(&a.out).map_err(|e| anyhow!(e))?;
    // No manifests of the snapshot's side: changes are not attributed.
    let diff = compare_sides(
        &committed,
        &current,
        &ResourceType::ALL,
        None,
        None,
        None,
        None,
    );
    out.write_all(output::render(&diff, Format::Text, super::diff::color(global)).as_bytes())?;
    let status = if diff.has_changes() {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    };
    Ok(finish(had_errors, status))
}
