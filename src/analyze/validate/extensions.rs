//! istiod's rules for Telemetry, WasmPlugin and TrafficExtension.

use std::collections::BTreeSet;

use super::Findings;
use super::common;
use crate::model::istio::{
    ProviderRef, TelemetrySpec, TrafficExtensionSpec, TrafficSelector, VmConfig, WasmPluginSpec,
};

fn providers(f: &mut Findings, providers: &[ProviderRef]) {
    if providers.iter().any(|p| p.name.is_empty()) {
        f.error("providers.name may not be empty");
    }
}

pub fn telemetry(spec: &TelemetrySpec, f: &mut Findings) {
    common::attachment(
        f,
        spec.selector.as_ref(),
        spec.target_ref.as_ref(),
        &spec.target_refs,
    );
    for m in &spec.metrics {
        providers(f, &m.providers);
        for o in &m.overrides {
            for (name, tag) in &o.tag_overrides {
                if name.is_empty() {
                    f.warn("tagOverrides.name may not be empty");
                }
                let value_set = tag.value.as_deref().is_some_and(|v| !v.is_empty());
                match tag.operation.as_deref().unwrap_or("UPSERT") {
                    "UPSERT" if !value_set => {
                        f.error("tagOverrides.value must be set when operation is UPSERT");
                    }
                    "REMOVE" if value_set => {
                        f.error("tagOverrides.value may only be set when operation is UPSERT");
                    }
                    _ => {}
                }
            }
            if o.r#match.as_ref().and_then(|m| m.custom_metric.as_deref()) == Some("") {
                f.error("customMetric may not be empty");
            }
        }
    }
    if spec.tracing.len() > 1 {
        f.warn("multiple tracing is not currently supported");
    }
    for t in &spec.tracing {
        if t.providers.len() > 1 {
            f.warn("multiple providers is not currently supported");
        }
        providers(f, &t.providers);
        if t.random_sampling_percentage
            .is_some_and(|p| !(0.0..=100.0).contains(&p))
        {
            f.error("randomSamplingPercentage must be in range [0.0, 100.0]");
        }
        for (name, tag) in &t.custom_tags {
            if name.is_empty() {
                f.error("tag name may not be empty");
            }
            if let Some(l) = &tag.literal {
                if l.value.as_deref().unwrap_or("").is_empty() {
                    f.error("literal tag value may not be empty");
                }
            } else if let Some(h) = &tag.header {
                if h.name.is_empty() {
                    f.error("header tag name may not be empty");
                }
            } else if let Some(e) = &tag.environment
                && e.name.is_empty()
            {
                f.error("environment tag name may not be empty");
            }
        }
    }
    for l in &spec.access_logging {
        providers(f, &l.providers);
    }
}

/// `validateWasmPluginURL`: empty, unparsable or of a scheme Istio cannot
/// fetch.
fn url(f: &mut Findings, url: &str) {
    if url.is_empty() {
        f.error("url field needs to be set");
        return;
    }
    // Go's url.ParseRequestURI, retried with "http://" prepended: a scheme
    // is letters, digits, '+', '-', '.' before the first ':'.
    let scheme = url
        .split_once("://")
        .map(|(s, _)| s)
        .filter(|s| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
        .unwrap_or("");
    if url.contains(' ') || !common::escapes_ok(url) {
        f.error(format!(
            "failed to parse url: parse {url:?}: invalid URL escape"
        ));
        return;
    }
    if !matches!(
        scheme.to_ascii_lowercase().as_str(),
        "" | "file" | "http" | "https" | "oci"
    ) {
        f.error(format!("url contains unsupported scheme: {scheme}"));
    }
}

fn sha256(f: &mut Findings, sha: Option<&str>) {
    let Some(sha) = sha.filter(|s| !s.is_empty()) else {
        return;
    };
    if sha.len() != 64 {
        f.error("sha256 field must be 64 characters long");
    } else if !sha.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9')) {
        f.error("sha256 field must match [a-f0-9]{64} pattern");
    }
}

fn vm_config(f: &mut Findings, vm: Option<&VmConfig>) {
    let Some(vm) = vm else { return };
    let mut seen = BTreeSet::new();
    for env in &vm.env {
        if env.name.is_empty() {
            f.error("spec.vmConfig.env invalid");
            return;
        }
        if env.name.len() > 256 {
            f.error("env.name field must be less than 255 characters long");
            return;
        }
        if !seen.insert(env.name.as_str()) {
            f.error("duplicate env");
            return;
        }
        if env.value_from.as_deref().unwrap_or("INLINE") != "INLINE"
            && env.value.as_deref().is_some_and(|v| !v.is_empty())
        {
            f.error("value may only be set when valueFrom is INLINE");
            return;
        }
    }
}

fn traffic_match(f: &mut Findings, selectors: &[TrafficSelector]) {
    for (i, sel) in selectors.iter().enumerate() {
        for (j, port) in sel.ports.iter().enumerate() {
            let n = port.number.unwrap_or(0);
            if n == 0 || n > 65535 {
                f.error(format!("spec.Match[{i}].Ports[{j}] is out of range: {n}"));
                return;
            }
        }
    }
}

/// Where a Wasm module comes from and how it runs: the fields WasmPlugin
/// and TrafficExtension's `wasm` share.
struct Module<'a> {
    url: Option<&'a str>,
    sha256: Option<&'a str>,
    image_pull_secret: Option<&'a str>,
    plugin_name: Option<&'a str>,
    vm_config: Option<&'a VmConfig>,
}

fn module(f: &mut Findings, m: &Module, plugin_name_message: &str) {
    url(f, m.url.unwrap_or(""));
    sha256(f, m.sha256);
    if m.image_pull_secret.unwrap_or("").len() > 253 {
        f.error("imagePullSecret field must be less than 253 characters long");
    }
    if m.plugin_name.unwrap_or("").len() > 256 {
        f.error(plugin_name_message);
    }
    vm_config(f, m.vm_config);
}

pub fn wasm_plugin(spec: &WasmPluginSpec, f: &mut Findings) {
    common::attachment(
        f,
        spec.selector.as_ref(),
        spec.target_ref.as_ref(),
        &spec.target_refs,
    );
    module(
        f,
        &Module {
            url: spec.url.as_deref(),
            sha256: spec.sha256.as_deref(),
            image_pull_secret: spec.image_pull_secret.as_deref(),
            plugin_name: spec.plugin_name.as_deref(),
            vm_config: spec.vm_config.as_ref(),
        },
        "pluginName field must be less than 255 characters long",
    );
    traffic_match(f, &spec.r#match);
}

pub fn traffic_extension(spec: &TrafficExtensionSpec, f: &mut Findings) {
    if spec.wasm.is_some() == spec.lua.is_some() {
        f.error("exactly one of wasm or lua must be set");
    }
    common::attachment(f, spec.selector.as_ref(), None, &spec.target_refs);
    if let Some(lua) = &spec.lua {
        let code = lua.inline_code.as_deref().unwrap_or("");
        if code.is_empty() {
            f.error("lua.inlineCode cannot be empty");
        } else if code.len() > 65536 {
            f.error("lua.inlineCode exceeds maximum size of 64KB");
        }
    }
    if let Some(wasm) = &spec.wasm {
        module(
            f,
            &Module {
                url: wasm.url.as_deref(),
                sha256: wasm.sha256.as_deref(),
                image_pull_secret: wasm.image_pull_secret.as_deref(),
                plugin_name: wasm.plugin_name.as_deref(),
                vm_config: wasm.vm_config.as_ref(),
            },
            // istiod words the same limit differently for the two kinds.
            "pluginName field must be less than 256 characters long",
        );
    }
    traffic_match(f, &spec.r#match);
}
