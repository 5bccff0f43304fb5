//! `proxy-config bootstrap` (spec §3.7, §4.3).

use super::{Options, Output, RenderError, section_url};
use crate::render::gojson::to_jsonpb_indented;
use crate::render::goyaml::to_yaml;
use crate::render::tabwriter::{self, Params};
use crate::xds::admin::{BootstrapConfigDump, ConfigDump};

fn find(dump: &ConfigDump) -> Result<&BootstrapConfigDump, RenderError> {
    section!(dump, BootstrapConfigDump, else NoSection)
}

pub(super) fn render(
    dump: &ConfigDump,
    opts: &Options,
    out: &mut String,
) -> Result<(), RenderError> {
    let section = find(dump)?;
    match opts.output {
        Output::Short => render_short(dump, opts, out),
        Output::Json | Output::Yaml => {
            let value = serde_json::to_value(section)?;
            if opts.output == Output::Json {
                out.push_str(&to_jsonpb_indented(&value, &is_struct));
            } else {
                out.push_str(&to_yaml(&value));
            }
            out.push('\n');
            Ok(())
        }
    }
}

/// Where a bootstrap holds `google.protobuf.Struct`s (they get jsonpb's
/// deeper indentation).
fn is_struct(path: &[&str]) -> bool {
    match path {
        [.., parent, "metadata"] => matches!(*parent, "node" | "userAgentBuildVersion"),
        [.., "filterMetadata", _] => true,
        [.., "staticLayer"] => true,
        _ => false,
    }
}

/// The three version lines (also the first section of `all`).
pub(super) fn render_short(
    dump: &ConfigDump,
    _opts: &Options,
    out: &mut String,
) -> Result<(), RenderError> {
    let section = find(dump)?;
    let node = section.bootstrap.as_ref().and_then(|b| b.node.as_ref());
    let metadata = node.and_then(|n| n.metadata.as_ref());
    let istio_version = metadata
        .and_then(|m| m.get_str("ISTIO_VERSION"))
        .unwrap_or("");
    let mut sha = metadata
        .and_then(|m| m.get_str("ISTIO_PROXY_SHA"))
        .unwrap_or("");
    if sha.contains(':') {
        sha = sha.split(':').nth(1).unwrap_or("");
    }
    let build = node.and_then(|n| n.user_agent_build_version.as_ref());
    let version = build.and_then(|b| b.version.as_ref());
    let mut envoy = match version {
        Some(v) => format!("{}.{}.{}", v.major_number, v.minor_number, v.patch),
        None => "0.0.0".to_string(),
    };
    if let Some(meta) = build.and_then(|b| b.metadata.as_ref()) {
        if let Some(label) = meta.get_str("build.label") {
            envoy.push_str(&format!("-{label}"));
        }
        for key in ["revision.status", "build.type", "ssl.version"] {
            if let Some(v) = meta.get_str(key) {
                envoy.push_str(&format!("/{v}"));
            }
        }
    }
    let mut text = String::new();
    if !istio_version.is_empty() {
        text.push_str(&format!("Istio Version:\t{istio_version}\n"));
    }
    if !sha.is_empty() {
        text.push_str(&format!("Istio Proxy Version:\t{sha}\n"));
    }
    text.push_str(&format!("Envoy Version:\t{envoy}\n"));
    out.push_str(&tabwriter::format(&text, Params::padding(1)));
    Ok(())
}
