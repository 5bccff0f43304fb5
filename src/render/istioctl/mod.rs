//! `istioctl proxy-config`'s views of an Envoy config dump, byte for byte.
//!
//! Specification: ../shared/docs/istioctl-format.md. Each view collects its
//! resources from the dump, filters and sorts them as istioctl does (Go's
//! unstable sort, see [`super::gosort`]), and prints a tabwriter table, or
//! JSON/YAML in istioctl's encodings.

/// The last section of a dump with the given type (istioctl takes the
/// last); with `else Error`, a missing section is that error, naming the
/// section's type URL as istioctl does.
macro_rules! section {
    ($dump:expr, $variant:ident) => {
        $dump.configs.iter().rev().find_map(|a| match a {
            crate::xds::Any::$variant(s) => Some(&**s),
            _ => None,
        })
    };
    ($dump:expr, $variant:ident, else $error:ident) => {
        section!($dump, $variant)
            .ok_or_else(|| RenderError::$error(section_url(stringify!($variant))))
    };
}

mod bootstrap;
pub mod cert;
mod clusters;
mod ecds;
mod endpoints;
mod listeners;
mod routes;
mod secrets;

use serde::Serialize;
use serde_json::Value;

use super::gojson::encode_go_json;
use super::goyaml::to_yaml;
use super::tabwriter::{self, Params};
use crate::xds::DumpError;
use crate::xds::admin::{Clusters, ConfigDump};

/// Which `proxy-config` subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    All,
    Cluster,
    Listener,
    Route,
    Endpoint,
    Eds,
    Secret,
    Bootstrap,
    Ecds,
}

impl View {
    /// The subcommand for a name or one of istioctl's aliases.
    pub fn from_name(s: &str) -> Option<View> {
        Some(match s {
            "all" | "a" => View::All,
            "cluster" | "clusters" | "c" => View::Cluster,
            "listener" | "listeners" | "l" => View::Listener,
            "route" | "routes" | "r" => View::Route,
            "endpoint" | "endpoints" | "ep" => View::Endpoint,
            "eds" => View::Eds,
            "secret" | "secrets" | "s" => View::Secret,
            "bootstrap" | "b" => View::Bootstrap,
            "ecds" | "ec" => View::Ecds,
            _ => return None,
        })
    }

    /// What istioctl prints without `-o`.
    pub fn default_output(self) -> Output {
        if self == View::Bootstrap {
            Output::Json
        } else {
            Output::Short
        }
    }
}

impl View {
    /// Whether the view prints text of its input with `output` (`all -o
    /// json|yaml` prints the dump, `endpoint` reads `/clusters`), so needs
    /// [`render`] rather than [`render_dump`].
    pub fn prints_input(self, output: Output) -> bool {
        self == View::Endpoint || (self == View::All && output != Output::Short)
    }
}

/// `-o short|json|yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Short,
    Json,
    Yaml,
}

impl Output {
    pub fn from_name(s: &str) -> Option<Output> {
        match s {
            "short" => Some(Output::Short),
            "json" => Some(Output::Json),
            "yaml" => Some(Output::Yaml),
            _ => None,
        }
    }
}

/// istioctl's filter and display flags; empty/zero means "not given".
#[derive(Debug, Clone)]
pub struct Options {
    pub output: Output,
    pub fqdn: String,
    pub port: u32,
    pub subset: String,
    pub direction: String,
    pub r#type: String,
    pub address: String,
    pub name: String,
    pub cluster: String,
    pub status: String,
    pub verbose: bool,
    pub with_headers: bool,
    /// "Now" for VALID CERT, in seconds since the Unix epoch.
    pub now: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            output: Output::Short,
            fqdn: String::new(),
            port: 0,
            subset: String::new(),
            direction: String::new(),
            r#type: String::new(),
            address: String::new(),
            name: String::new(),
            cluster: String::new(),
            status: String::new(),
            verbose: true,
            with_headers: false,
            now: 0,
        }
    }
}

/// Why a view could not be printed; the texts are istioctl's.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error("config dump has no configuration type {0}")]
    NoSection(String),
    #[error("listener dump: config dump has no configuration type {0}")]
    NoListenerSection(String),
    #[error("no clusters found")]
    NoClusters,
    #[error("no listeners found")]
    NoListeners,
    #[error("no routes found")]
    NoRoutes,
    #[error("cannot encode output: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The input of a view: a `/config_dump` or a `/clusters?format=json` text.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    ConfigDump(&'a str),
    Clusters(&'a str),
}

/// Render `view` of `input` into `out`. On error, `out` keeps what was
/// printed before it (`all` prints its sections as it goes, as istioctl does).
pub fn render(
    input: Input<'_>,
    view: View,
    opts: &Options,
    out: &mut String,
) -> Result<(), RenderError> {
    let text = match input {
        Input::ConfigDump(t) | Input::Clusters(t) => t,
    };
    if view == View::Endpoint {
        // istioctl reads /clusters here; a config dump yields no hosts.
        return endpoints::render_clusters(&Clusters::from_json(text)?, opts, out);
    }
    if view == View::All && opts.output != Output::Short {
        // istioctl prints the raw dump it fetched.
        if opts.output == Output::Json {
            out.push_str(text);
        } else {
            let value: Value = serde_json::from_str(text).map_err(DumpError::from)?;
            out.push_str(&to_yaml(&value));
        }
        out.push('\n');
        return Ok(());
    }
    render_dump(&ConfigDump::from_json(text)?, view, opts, out)
}

/// Render `view` of a config dump already read. For the views that print
/// no text of their input: not `all -o json|yaml` (the dump's text), nor
/// `endpoint` (a `/clusters` text); [`render`] takes those.
pub fn render_dump(
    dump: &ConfigDump,
    view: View,
    opts: &Options,
    out: &mut String,
) -> Result<(), RenderError> {
    match view {
        View::Cluster => clusters::render(dump, opts, false, out),
        View::Listener => listeners::render(dump, opts, false, out),
        View::Route => routes::render(dump, opts, false, out),
        View::Eds => endpoints::render_eds(dump, opts, false, out),
        View::Secret => secrets::render(dump, opts, false, out),
        View::Bootstrap => bootstrap::render(dump, opts, out),
        View::Ecds => ecds::render(dump, opts, out),
        View::All => render_all(dump, opts, out),
        View::Endpoint => Ok(()),
    }
}

fn render_all(dump: &ConfigDump, opts: &Options, out: &mut String) -> Result<(), RenderError> {
    type Section = fn(&ConfigDump, &Options, bool, &mut String) -> Result<(), RenderError>;
    let sections: [(&str, Section); 6] = [
        ("BOOTSTRAP INFO", |d, o, _, out| {
            bootstrap::render_short(d, o, out)
        }),
        ("CLUSTER INFO", clusters::render),
        ("LISTENER INFO", listeners::render),
        ("ROUTE INFO", routes::render),
        ("SECRET INFO", secrets::render),
        ("ENDPOINTS INFO", endpoints::render_eds),
    ];
    // Sections are independent: they are rendered in parallel (a large
    // proxy's cluster and endpoint tables take the longest), joined in order.
    let rendered = crate::parallel::map_owned(
        sections.into_iter().enumerate().collect(),
        |(i, (title, section))| {
            let mut text = String::new();
            if i > 0 {
                text.push('\n');
            }
            if opts.with_headers {
                text.push_str(&format!("------ {title} ------\n\n"));
            }
            let result = section(dump, opts, true, &mut text);
            (text, result)
        },
    );
    for (text, result) in rendered {
        out.push_str(&text);
        result?;
    }
    Ok(())
}

/// The type URL named in "has no configuration type" errors.
fn section_url(name: &str) -> String {
    format!("type.googleapis.com/envoy.admin.v3.{name}")
}

/// Format a table (header and rows of tab-separated cells).
fn table(rows: &[Vec<String>], params: Params, out: &mut String) {
    let mut text = String::new();
    for row in rows {
        text.push_str(&row.join("\t"));
        text.push('\n');
    }
    out.push_str(&tabwriter::format(&text, params));
}

/// `-o json|yaml` of a serialisable value, istioctl's array encoder (§4.2).
fn encode<T: Serialize + ?Sized>(
    value: &T,
    output: Output,
    out: &mut String,
) -> Result<(), RenderError> {
    match output {
        Output::Yaml => out.push_str(&to_yaml(&serde_json::to_value(value)?)),
        _ => out.push_str(&encode_go_json(value)?),
    }
    out.push('\n');
    Ok(())
}

/// The management string of `metadata.filter_metadata.istio.config`:
/// `name.namespace` for an Istio networking object, `<unknown>` otherwise.
fn management(metadata: Option<&crate::xds::core::Metadata>) -> String {
    let Some(config) = metadata.and_then(|m| m.filter_str("istio", "config")) else {
        return String::new();
    };
    if !config.starts_with("/apis/networking.istio.io/") {
        return "<unknown>".into();
    }
    let parts: Vec<&str> = config.split('/').collect();
    if parts.len() != 8 {
        return String::new();
    }
    format!("{}.{}", parts[7], parts[5])
}

/// The (hostname, subset, port, direction) of a `dir|port|subset|host` name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClusterKey<'a> {
    parsed: bool,
    direction: &'a str,
    port: i64,
    subset: &'a str,
    host: &'a str,
}

impl<'a> ClusterKey<'a> {
    fn parse(name: &'a str) -> ClusterKey<'a> {
        if name.split('|').count() > 3 {
            let mut parts = name.splitn(4, '|');
            let direction = parts.next().unwrap_or("");
            let port = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            let subset = parts.next().unwrap_or("");
            let rest = parts.next().unwrap_or("");
            let host = if rest.contains('|') { "" } else { rest };
            ClusterKey {
                parsed: true,
                direction,
                port,
                subset,
                host,
            }
        } else {
            ClusterKey {
                parsed: false,
                direction: "",
                port: 0,
                subset: "",
                host: name,
            }
        }
    }

    fn less(&self, other: &ClusterKey<'_>) -> bool {
        if self.host != other.host {
            return self.host < other.host;
        }
        if self.subset != other.subset {
            return self.subset < other.subset;
        }
        if self.port != other.port {
            return self.port < other.port;
        }
        self.direction < other.direction
    }
}
