//! The command-line edge: parse arguments, run the pipeline, print.
//!
//! The only module that knows clap and anyhow and writes to stdout/stderr.
//! [`run`] takes its writers as arguments so tests call it in-process.
//! Exit codes follow ../shared/docs/cli.md: 0 success, 1 changes/findings,
//! 2 meshsim could not do what was asked (including any input document that
//! failed to load, reported after everything else was done, ripgrep's way).

mod args;
mod diff;
mod dns;
mod export;
mod proxies;
mod proxy_config;
mod snapshot;
mod status;
mod translate;
mod validate;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::diag::{Diagnostics, Severity};
use crate::session::{Inputs, Session};

pub use args::{Cli, ColorChoice, Command, GlobalArgs};

/// The outcome of a command, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    /// `diff`: changes found; `validate`: invalid objects found.
    Findings = 1,
    Error = 2,
}

pub fn main() -> ExitCode {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let status = run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock());
    ExitCode::from(status as u8)
}

/// Run meshsim with `argv`, writing to the given streams.
pub fn run<I, T>(argv: I, out: &mut dyn Write, err: &mut dyn Write) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            return if e.use_stderr() {
                let _ = err.write_all(text.as_bytes());
                ExitStatus::Error
            } else {
                let _ = out.write_all(text.as_bytes());
                ExitStatus::Success
            };
        }
    };
    match dispatch(&cli, out, err) {
        Ok(status) => status,
        Err(e) if is_broken_pipe(&e) => ExitStatus::Success,
        Err(e) => {
            let _ = writeln!(err, "error: {e:#}");
            ExitStatus::Error
        }
    }
}

/// `meshsim pc POD | head` ends quietly.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn dispatch(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    match &cli.command {
        Command::Proxies(a) => proxies::run(&cli.global, a, out, err),
        Command::ProxyConfig(a) => proxy_config::run(&cli.global, a, out, err),
        Command::Export(a) => export::run(&cli.global, a, out, err),
        Command::Dns(a) => dns::run(&cli.global, a, out, err),
        Command::Validate(a) => validate::run(&cli.global, a, out, err),
        Command::Diff(a) => diff::run(&cli.global, a, out, err),
        Command::Snapshot(a) => snapshot::run(&cli.global, a, out, err),
        Command::Translate(a) => translate::run(&cli.global, a, out, err),
        Command::Status(a) => status::run(&cli.global, a, out, err),
        Command::Kinds => {
            out.write_all(crate::render::kinds::render_kinds().as_bytes())?;
            Ok(ExitStatus::Success)
        }
    }
}

/// Open the session the global flags describe.
pub fn open_session(global: &GlobalArgs) -> anyhow::Result<Session> {
    Ok(Session::open(&Inputs {
        paths: global.files.clone(),
        namespace: global.namespace.clone(),
        mesh_config: global.mesh_config.clone(),
        implicit_injection: !global.no_implicit_injection,
    })?)
}

/// Print a session's diagnostics to stderr as the verbosity flags ask, and
/// say whether any input failed (which makes the run exit 2 once its output
/// is done).
pub fn report(session: &Session, global: &GlobalArgs, err: &mut dyn Write) -> io::Result<bool> {
    print_diagnostics(&session.diags, global, err)?;
    Ok(session.diags.has_errors())
}

pub fn print_diagnostics(
    diags: &Diagnostics,
    global: &GlobalArgs,
    err: &mut dyn Write,
) -> io::Result<()> {
    let floor = if global.quiet {
        Severity::Error
    } else if global.verbose {
        Severity::Info
    } else {
        Severity::Warning
    };
    // In file order, so each file's problems read top to bottom whatever stage
    // found them; diagnostics about no place in particular come last.
    let mut shown: Vec<_> = diags.iter().filter(|d| d.severity >= floor).collect();
    shown.sort_by(|a, b| match (&a.span, &b.span) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    for d in shown {
        writeln!(err, "{d}")?;
    }
    Ok(())
}

/// The exit status of a command that printed its output: 2 when any input
/// document failed to load, else `ok`.
pub fn finish(had_errors: bool, ok: ExitStatus) -> ExitStatus {
    if had_errors { ExitStatus::Error } else { ok }
}
