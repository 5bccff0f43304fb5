//! The command line, as clap derives it. One shape for every command
//! (../shared/docs/cli.md): global input flags, then a subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::diff::DiffArgs;
use super::dns::DnsArgs;
use super::export::ExportArgs;
use super::proxies::ProxiesArgs;
use super::proxy_config::ProxyConfigArgs;
use super::snapshot::SnapshotArgs;
use super::status::StatusArgs;
use super::translate::TranslateArgs;
use super::validate::ValidateArgs;

#[derive(Debug, Parser)]
#[command(
    name = "meshsim",
    version,
    about = "Offline istiod: the Envoy config istiod would push, from manifest files",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Manifest file, directory (recursive), `-` for stdin, or an Envoy config
    /// dump; repeatable. Default: the current directory.
    #[arg(short = 'f', long = "file", global = true, value_name = "PATH")]
    pub files: Vec<PathBuf>,

    /// Namespace for POD arguments and for objects that name none.
    #[arg(short = 'n', long, global = true, default_value = "default")]
    pub namespace: String,

    /// MeshConfig YAML, laid over Istio's defaults and the `istio` ConfigMap.
    #[arg(long, global = true, value_name = "FILE")]
    pub mesh_config: Option<PathBuf>,

    /// Namespaces no Namespace object declares are not taken as injection-enabled.
    #[arg(long, global = true)]
    pub no_implicit_injection: bool,

    /// Colour on a terminal (NO_COLOR is respected).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Fewer diagnostics on stderr: errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More diagnostics on stderr: informational notes too.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every proxy of the mesh, as `istioctl proxy-status` names them.
    Proxies(ProxiesArgs),
    /// Print a proxy's Envoy configuration as `istioctl proxy-config` does.
    #[command(name = "proxy-config", visible_alias = "pc")]
    ProxyConfig(ProxyConfigArgs),
    /// Write a proxy's configuration as a static Envoy bootstrap (JSON).
    Export(ExportArgs),
    /// Print the DNS name table istiod sends a proxy that captures DNS.
    Dns(DnsArgs),
    /// List the kinds meshsim models and what it does with each.
    Kinds,
    /// Report what the API server and istiod's validating webhook would reject.
    Validate(ValidateArgs),
    /// What a change to the manifests does to every proxy (exit 1 on changes).
    Diff(DiffArgs),
    /// Write every proxy's configuration as files; `--check` compares instead.
    Snapshot(SnapshotArgs),
    /// Print Gateway API and Ingress as istiod's internal Istio objects.
    Translate(TranslateArgs),
    /// Print the Gateway API status istiod would write.
    Status(StatusArgs),
}
