//! `meshsim proxy-config` (alias `pc`): istioctl's proxy-config views.
//!
//! Reads an Envoy `/config_dump` (or `/clusters?format=json` for the endpoint
//! view) given with `-f`, and prints it exactly as `istioctl proxy-config
//! --file` would, or the configuration meshsim generates for a POD of the
//! manifests.

use std::io::Write;

use anyhow::{Context, bail};
use clap::Args;

use super::{ExitStatus, GlobalArgs, Session, finish};
use crate::load::DumpKind;
use crate::render::istioctl::{self, Input, Options, Output, View, cert};
use crate::xds::ConfigDump;

#[derive(Debug, Args)]
pub struct ProxyConfigArgs {
    /// `[TYPE] [POD]`: TYPE is all, cluster, listener, route, endpoint, eds,
    /// secret, bootstrap or ecds (and istioctl's aliases); POD alone means all.
    #[arg(value_name = "TYPE|POD", num_args = 0..=2)]
    pub args: Vec<String>,

    /// Output format: short, json or yaml (bootstrap defaults to json).
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<String>,

    /// istioctl's filter flags (boxed: they are many strings, and clap's
    /// command enum should stay small).
    #[command(flatten)]
    pub filters: Box<Filters>,

    /// listener/route/all: the detailed table (default true; `--verbose=false`
    /// for the summary). Inside proxy-config this is istioctl's flag, not
    /// meshsim's `-v` (it shares its name, so clap keeps one value for both).
    #[arg(
        long,
        action = clap::ArgAction::Set,
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub verbose: bool,

    /// all: print a title before each section.
    #[arg(long)]
    pub with_headers: bool,

    /// The time certificate validity is judged at (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
}

/// The filters of cluster, listener, route, endpoint and eds.
#[derive(Debug, Args)]
pub struct Filters {
    /// cluster: keep clusters whose name contains this FQDN.
    #[arg(long, default_value = "")]
    pub fqdn: String,

    /// cluster/listener/endpoint/eds: keep this port.
    #[arg(long, default_value_t = 0)]
    pub port: u32,

    /// cluster: keep clusters whose name contains this subset.
    #[arg(long, default_value = "")]
    pub subset: String,

    /// cluster: keep clusters whose name contains this direction.
    #[arg(long, default_value = "")]
    pub direction: String,

    /// listener: keep listeners of this type (HTTP, TCP, HTTP+TCP, UNKNOWN).
    #[arg(long = "type", default_value = "")]
    pub r#type: String,

    /// listener/endpoint/eds: keep this address.
    #[arg(long, default_value = "")]
    pub address: String,

    /// route: keep the route configuration with this name.
    #[arg(long, default_value = "")]
    pub name: String,

    /// endpoint/eds: keep this cluster.
    #[arg(long, default_value = "")]
    pub cluster: String,

    /// endpoint/eds: keep endpoints with this health status.
    #[arg(long, default_value = "")]
    pub status: String,
}

pub fn run(
    global: &GlobalArgs,
    args: &ProxyConfigArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let (view, pod) = match args.args.as_slice() {
        [] => (View::All, None),
        [one] => match View::from_name(one) {
            Some(v) => (v, None),
            None => (View::All, Some(one.as_str())),
        },
        [kind, pod] => match View::from_name(kind) {
            Some(v) => (v, Some(pod.as_str())),
            None => bail!("unknown proxy-config type {kind:?}"),
        },
        _ => bail!("too many arguments"),
    };
    let output = match &args.output {
        Some(o) => {
            Output::from_name(o).with_context(|| format!("output format {o:?} not supported"))?
        }
        None => view.default_output(),
    };
    let now = match &args.now {
        Some(t) => cert::parse_rfc3339(t)
            .with_context(|| format!("--now {t:?} is not an RFC 3339 time"))?,
        None => system_now(),
    };
    let opts = Options {
        output,
        fqdn: args.filters.fqdn.clone(),
        port: args.filters.port,
        subset: args.filters.subset.clone(),
        direction: args.filters.direction.clone(),
        r#type: args.filters.r#type.clone(),
        address: args.filters.address.clone(),
        name: args.filters.name.clone(),
        cluster: args.filters.cluster.clone(),
        status: args.filters.status.clone(),
        verbose: args.verbose,
        with_headers: args.with_headers,
        now,
    };

    let mut opened = super::open_session(global)?;
    let had_errors = super::report(&opened, global, err)?;
    if opened.loaded.dumps.is_empty() {
        opened.release_objects();
    }
    let mut session = Some(opened);
    let opened = session.as_ref().expect("just opened");
    let command = command_name(view);
    // Input read or generated here, rather than a dump the session holds.
    let mut own: Option<Own> = None;
    if opened.loaded.dumps.is_empty() {
        match empty_response(opened, global)? {
            Some(t) => own = Some(Own::Text(t, DumpKind::ConfigDump)),
            None if let Some(pod) = pod => {
                let i = opened.mesh.resolve(pod, &global.namespace)?;
                let config = opened.generate(i).map_err(anyhow::Error::msg)?;
                if matches!(view, View::All | View::Secret) && !global.quiet {
                    writeln!(
                        err,
                        "note: the `default` and `ROOTCA` certificates are simulated \
                         (there is no CA offline): their serial numbers and dates are made up"
                    )?;
                }
                for w in &config.warnings {
                    writeln!(err, "warning: {w}")?;
                }
                // Generation is done: the mesh's objects go before the
                // proxy's (possibly large) config is written and read.
                session = None;
                // The endpoint view reads /clusters; every other view a config dump.
                own = Some(if view == View::Endpoint {
                    Own::Text(config.clusters_status().to_string(), DumpKind::Clusters)
                } else if view.prints_input(output) {
                    let dump = config.config_dump();
                    let text = serde_json::to_string(&dump)?;
                    // Freeing a large tree takes a while; not on the way out.
                    std::thread::spawn(move || drop(dump));
                    Own::Text(text, DumpKind::ConfigDump)
                } else {
                    Own::Read(config.read_config_dump()?)
                });
            }
            None => bail!("{command} requires pod name or --file parameter"),
        }
    }
    let mut rendered = String::new();
    let result = match (&own, &session) {
        (Some(Own::Read(dump)), _) => istioctl::render_dump(dump, view, &opts, &mut rendered),
        (Some(Own::Text(text, kind)), _) => {
            istioctl::render(input(text, *kind), view, &opts, &mut rendered)
        }
        (None, None) => bail!("no input to show"),
        (None, Some(session)) => {
            let dumps = &session.loaded.dumps;
            if pod.is_some() {
                bail!("{command} requires pod name or --file parameter");
            }
            // The endpoint view reads /clusters; every other view a config dump.
            let wanted = if view == View::Endpoint {
                DumpKind::Clusters
            } else {
                DumpKind::ConfigDump
            };
            let dump = dumps.iter().find(|d| d.kind == wanted).unwrap_or(&dumps[0]);
            if dumps.len() > 1 {
                writeln!(
                    err,
                    "warning: {} dumps given; showing {}",
                    dumps.len(),
                    dump.file.display()
                )?;
            }
            istioctl::render(input(&dump.text, dump.kind), view, &opts, &mut rendered)
        }
    };
    out.write_all(rendered.as_bytes())?;
    result?;
    // Freeing a large read dump takes a while; not on the way out.
    std::thread::spawn(move || drop(own));
    Ok(finish(had_errors, ExitStatus::Success))
}

/// A text of this kind as a view's input.
fn input(text: &str, kind: DumpKind) -> Input<'_> {
    match kind {
        DumpKind::ConfigDump => Input::ConfigDump(text),
        DumpKind::Clusters => Input::Clusters(text),
    }
}

/// What a generated configuration (or an empty response) gives a view.
enum Own {
    /// A text, as a file would hold it.
    Text(String, DumpKind),
    /// A config dump already read.
    Read(ConfigDump),
}

/// istioctl's name for the subcommand in its usage errors.
fn command_name(view: View) -> &'static str {
    match view {
        View::All => "all",
        View::Cluster => "cluster",
        View::Listener => "listener",
        View::Route => "route",
        View::Endpoint => "endpoints",
        View::Eds => "eds",
        View::Secret => "secret",
        View::Bootstrap => "bootstrap",
        View::Ecds => "ecds",
    }
}

/// An `-f` file holding just `{}` is an empty Envoy response (istioctl reads
/// it as a dump without sections); any other file that is neither manifests
/// nor a dump is an error.
fn empty_response(session: &Session, global: &GlobalArgs) -> anyhow::Result<Option<String>> {
    for skipped in &session.loaded.skipped {
        let named = global.files.iter().any(|f| f.as_path() == &*skipped.file);
        if !named {
            continue;
        }
        let text = std::fs::read_to_string(&skipped.file)
            .with_context(|| format!("cannot read {}", skipped.file.display()))?;
        let value: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        if value
            .as_ref()
            .and_then(|v| v.as_object())
            .is_some_and(|m| m.is_empty())
        {
            return Ok(Some(text));
        }
        bail!(
            "{} is neither Kubernetes manifests nor an Envoy dump \
             (no apiVersion/kind, no \"configs\", no \"cluster_statuses\"): {}",
            skipped.file.display(),
            skipped.reason
        );
    }
    Ok(None)
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
