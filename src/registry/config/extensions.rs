//! WasmPlugins and TrafficExtensions (istiod-gateway-security.md §4.2):
//! every WasmPlugin becomes the TrafficExtension Istio 1.30+ translates it
//! into (`<name>~istio-translated-wasmplugin`), invalid ones are dropped
//! with a warning (istiod only logs), and a proxy's are looked up as
//! istiod's `TrafficExtensionsByListenerInfo` does.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diag::{Diagnostics, Severity};
use crate::model::istio::{
    MatchLabelsSelector, PolicyTargetReference, TrafficExtension, TrafficSelector, VmConfig,
    WasmConfig, WasmPlugin,
};
use crate::model::{Labels, Object, Store};

use super::super::Mesh;
use super::ConfigMeta;
use super::attachment::{attaches, policy_namespaces, target_refs};

/// What istiod appends to a WasmPlugin's name when it translates it; `~`
/// is no Kubernetes name character, so it never collides.
pub const TRANSLATED_WASMPLUGIN: &str = "~istio-translated-wasmplugin";

/// The prefix of extension filter names and their ECDS resources.
pub const RESOURCE_PREFIX: &str = "extensions.istio.io/trafficextension/";

/// Where in a filter chain an extension goes, relative to Istio's own
/// authentication, authorization and stats filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Authn,
    Authz,
    Stats,
    Unspecified,
}

/// A Wasm module and how it runs (the `wasm` of a TrafficExtension).
#[derive(Debug, Clone)]
pub struct Wasm {
    /// With a scheme (`oci://` when none was written).
    pub url: String,
    pub sha256: Option<String>,
    pub image_pull_policy: Option<String>,
    /// `kubernetes://<namespace>/<name>`, in the extension's namespace.
    pub image_pull_secret: Option<String>,
    /// JSON, as the plugin reads it; None when empty.
    pub plugin_config: Option<String>,
    pub plugin_name: Option<String>,
    pub fail_strategy: Option<String>,
    pub vm_config: Option<VmConfig>,
    /// A network (L4) filter rather than an HTTP one.
    pub network: bool,
}

#[derive(Debug, Clone)]
pub enum Filter {
    Wasm(Wasm),
    /// Inline Lua source (HTTP only).
    Lua(String),
}

#[derive(Debug, Clone)]
pub struct Extension {
    /// Its TrafficExtension identity: a WasmPlugin's name carries
    /// [`TRANSLATED_WASMPLUGIN`]; `meta.source` names the object written.
    pub meta: ConfigMeta,
    pub selector: Option<Labels>,
    pub target_refs: Vec<PolicyTargetReference>,
    pub phase: Phase,
    pub priority: Option<i32>,
    pub matches: Vec<TrafficSelector>,
    pub filter: Filter,
    /// `metadata.resourceVersion` (the agent's cache key); empty when not written.
    pub resource_version: String,
}

impl Extension {
    /// The filter name and ECDS resource name: `extensions.istio.io/trafficextension/<ns>.<name>`.
    pub fn resource_name(&self) -> String {
        format!(
            "{RESOURCE_PREFIX}{}.{}",
            self.meta.namespace, self.meta.name
        )
    }

    /// An HTTP filter (Lua, or Wasm of type HTTP or unspecified).
    pub fn is_http(&self) -> bool {
        match &self.filter {
            Filter::Wasm(w) => !w.network,
            Filter::Lua(_) => true,
        }
    }
}

#[derive(Debug, Default)]
pub struct Extensions {
    /// Per namespace, in config order (creation time, name, namespace).
    by_ns: BTreeMap<String, Vec<Extension>>,
    root_namespace: String,
}

impl Extensions {
    /// Each extension's namespace and selector labels, for those with one.
    pub fn selectors(&self) -> impl Iterator<Item = (&str, &Labels)> {
        self.by_ns
            .values()
            .flatten()
            .filter_map(|e| Some((e.meta.namespace.as_str(), e.selector.as_ref()?)))
    }

    /// The extensions attached to a workload in `ns` with `labels`: its
    /// namespace's, then the root namespace's, each in config order (the
    /// order priority ties keep).
    pub fn for_workload(&self, ns: &str, labels: &Labels) -> Vec<&Extension> {
        let mut namespaces = policy_namespaces(&self.root_namespace, ns);
        namespaces.reverse();
        namespaces
            .into_iter()
            .flat_map(|n| self.by_ns.get(n).into_iter().flatten())
            .filter(|e| {
                attaches(
                    &e.meta.namespace,
                    e.selector.as_ref(),
                    &e.target_refs,
                    ns,
                    labels,
                )
            })
            .collect()
    }

    /// The extension an ECDS resource `name` asks for, if a proxy in `ns`
    /// may have it (its own namespace or the root namespace).
    pub fn by_resource_name(&self, ns: &str, name: &str) -> Option<&Extension> {
        let (ext_ns, ext_name) = name.strip_prefix(RESOURCE_PREFIX)?.split_once('.')?;
        if ext_ns != ns && ext_ns != self.root_namespace {
            return None;
        }
        self.by_ns
            .get(ext_ns)?
            .iter()
            .find(|e| e.meta.name == ext_name)
    }
}

fn phase(p: Option<&str>) -> Phase {
    match p {
        Some("AUTHN") => Phase::Authn,
        Some("AUTHZ") => Phase::Authz,
        Some("STATS") => Phase::Stats,
        _ => Phase::Unspecified,
    }
}

/// Go's `url.Parse` refuses control characters and bad `%` escapes; a URL
/// without a scheme is an OCI image reference.
fn parse_url(url: &str) -> Result<String, String> {
    let bytes = url.as_bytes();
    let bad_escape = bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if bad_escape || url.chars().any(char::is_control) {
        return Err(format!("failure to parse URL {url:?}"));
    }
    Ok(if url.contains("://") {
        url.to_string()
    } else {
        format!("oci://{url}")
    })
}

/// A pull secret as istiod rewrites it: the named Secret of the
/// extension's own namespace.
fn pull_secret(secret: &str, ns: &str) -> String {
    let name = secret.strip_prefix("kubernetes://").unwrap_or(secret);
    let name = name.rsplit('/').next().unwrap_or(name);
    format!("kubernetes://{ns}/{name}")
}

fn wasm(w: &WasmConfig, ns: &str) -> Result<Wasm, String> {
    let url = w.url.as_deref().unwrap_or("");
    if url.is_empty() {
        return Err("wasm.url is required".to_string());
    }
    let plugin_config = w
        .plugin_config
        .as_ref()
        .filter(|c| c.as_object().is_some_and(|m| !m.is_empty()))
        .map(Value::to_string);
    Ok(Wasm {
        url: parse_url(url)?,
        sha256: w.sha256.clone().filter(|s| !s.is_empty()),
        image_pull_policy: w.image_pull_policy.clone(),
        image_pull_secret: w
            .image_pull_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| pull_secret(s, ns)),
        plugin_config,
        plugin_name: w.plugin_name.clone().filter(|s| !s.is_empty()),
        fail_strategy: w.fail_strategy.clone(),
        vm_config: w.vm_config.clone(),
        network: w.r#type.as_deref() == Some("NETWORK"),
    })
}

/// One extension as istiod keeps it, or why istiod drops it.
struct Parts<'a> {
    selector: Option<&'a MatchLabelsSelector>,
    target_refs: Vec<PolicyTargetReference>,
    phase: Option<&'a str>,
    priority: Option<i32>,
    matches: &'a [TrafficSelector],
    filter: Result<Filter, String>,
}

fn entry(o: &Object, name: String, p: Parts, diags: &mut Diagnostics) -> Option<Extension> {
    let filter = match p.filter {
        Ok(f) => f,
        Err(why) => {
            diags.report(
                Severity::Warning,
                "extension-dropped",
                Some(o.span.clone()),
                Some(o.describe()),
                format!("discarded, as istiod discards it: {why}"),
            );
            return None;
        }
    };
    if let Filter::Wasm(w) = &filter
        && !w.url.starts_with("file://")
    {
        diags.report(
            Severity::Info,
            "offline",
            Some(o.span.clone()),
            Some(o.describe()),
            format!(
                "the Wasm module at {} is not fetched offline; ECDS shows istiod's resource, which istio-agent rewrites to a local file once it has the module",
                w.url
            ),
        );
    }
    let mut meta = ConfigMeta::of(o);
    meta.name = name;
    Some(Extension {
        meta,
        selector: p.selector.map(|s| s.match_labels.clone()),
        target_refs: p.target_refs,
        phase: phase(p.phase),
        priority: p.priority,
        matches: p.matches.to_vec(),
        filter,
        resource_version: o.meta().resource_version.clone().unwrap_or_default(),
    })
}

pub fn build(store: &Store, mesh: &Mesh, diags: &mut Diagnostics) -> Extensions {
    let mut all: Vec<Extension> = Vec::new();
    for (o, wp) in store.of::<WasmPlugin>() {
        let s = &wp.spec;
        let module = WasmConfig {
            url: s.url.clone(),
            sha256: s.sha256.clone(),
            image_pull_policy: s.image_pull_policy.clone(),
            image_pull_secret: s.image_pull_secret.clone(),
            verification_key: s.verification_key.clone(),
            plugin_config: s.plugin_config.clone(),
            plugin_name: s.plugin_name.clone(),
            fail_strategy: s.fail_strategy.clone(),
            vm_config: s.vm_config.clone(),
            r#type: s.r#type.clone(),
        };
        let parts = Parts {
            selector: s.selector.as_ref(),
            target_refs: target_refs(&s.target_refs, &s.target_ref),
            phase: s.phase.as_deref(),
            priority: s.priority,
            matches: &s.r#match,
            filter: wasm(&module, o.namespace()).map(Filter::Wasm),
        };
        let name = format!("{}{TRANSLATED_WASMPLUGIN}", o.name());
        all.extend(entry(o, name, parts, diags));
    }
    for (o, te) in store.of::<TrafficExtension>() {
        let s = &te.spec;
        let filter = match (&s.wasm, &s.lua) {
            (Some(w), _) => wasm(w, o.namespace()).map(Filter::Wasm),
            (None, Some(l)) => match l.inline_code.as_deref().unwrap_or("") {
                "" => Err("lua.inlineCode cannot be empty".to_string()),
                code if code.len() > 65536 => {
                    Err("lua.inlineCode exceeds maximum size of 64KB".to_string())
                }
                code => Ok(Filter::Lua(code.to_string())),
            },
            (None, None) => Err("neither wasm nor lua is set".to_string()),
        };
        let parts = Parts {
            selector: s.selector.as_ref(),
            target_refs: s.target_refs.clone(),
            phase: s.phase.as_deref(),
            priority: s.priority,
            matches: &s.r#match,
            filter,
        };
        all.extend(entry(o, o.name().to_string(), parts, diags));
    }
    all.sort_by(|a, b| a.meta.order_key().cmp(&b.meta.order_key()));
    let mut by_ns: BTreeMap<String, Vec<Extension>> = BTreeMap::new();
    for e in all {
        by_ns.entry(e.meta.namespace.clone()).or_default().push(e);
    }
    Extensions {
        by_ns,
        root_namespace: mesh.mesh_config.root_namespace().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::from_yaml;
    use super::*;

    #[test]
    fn translated_selected_and_dropped() {
        let (config, diags) = from_yaml(
            r#"
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: mesh, namespace: istio-system}
spec:
  url: ghcr.io/acme/filter:1.0
  imagePullSecret: pull
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: own, namespace: shop}
spec:
  selector: {matchLabels: {app: a}}
  url: file:///opt/f.wasm
  type: NETWORK
---
apiVersion: extensions.istio.io/v1alpha1
kind: TrafficExtension
metadata: {name: lua, namespace: shop}
spec:
  lua: {inlineCode: "function envoy_on_request(h) end"}
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: no-url, namespace: shop}
spec: {phase: AUTHN}
"#,
        );
        let labels: Labels = [("app".to_string(), "a".to_string())].into();
        let found = config.extensions.for_workload("shop", &labels);
        let names: Vec<String> = found.iter().map(|e| e.resource_name()).collect();
        assert_eq!(
            names,
            [
                "extensions.istio.io/trafficextension/shop.lua",
                "extensions.istio.io/trafficextension/shop.own~istio-translated-wasmplugin",
                "extensions.istio.io/trafficextension/istio-system.mesh~istio-translated-wasmplugin",
            ]
        );
        let Filter::Wasm(w) = &found[2].filter else {
            panic!("wasm")
        };
        assert_eq!(w.url, "oci://ghcr.io/acme/filter:1.0");
        assert_eq!(
            w.image_pull_secret.as_deref(),
            Some("kubernetes://istio-system/pull")
        );
        assert!(!found[1].is_http());
        assert!(
            diags
                .iter()
                .any(|d| d.message == "discarded, as istiod discards it: wasm.url is required"),
            "{:#?}",
            diags.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
        assert!(
            config
                .extensions
                .by_resource_name("other", "extensions.istio.io/trafficextension/shop.lua")
                .is_none()
        );
    }
}
