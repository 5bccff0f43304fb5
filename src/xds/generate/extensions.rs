//! WasmPlugin and TrafficExtension filters (istiod-gateway-security.md
//! §4.2; istiod's `networking/core/extension` and
//! `TrafficExtensionsByListenerInfo`): which of a proxy's extensions a
//! listener gets, in which phase and order, and the ECDS resources that
//! carry the Wasm modules' configuration.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::filters::{ListenerClass, ads, named};
use super::json::any;
use super::{Context, Proxy};
use crate::registry::config::extensions::{Extension, Filter, Phase, RESOURCE_PREFIX, Wasm};

const HTTP_WASM: &str = "envoy.extensions.filters.http.wasm.v3.Wasm";
const NETWORK_WASM: &str = "envoy.extensions.filters.network.wasm.v3.Wasm";
const HTTP_RBAC: &str = "envoy.extensions.filters.http.rbac.v3.RBAC";
const NETWORK_RBAC: &str = "envoy.extensions.filters.network.rbac.v3.RBAC";

/// The extensions attached to one proxy, in lookup order (its namespace's,
/// then the root namespace's).
#[derive(Debug, Clone, Default)]
pub struct ProxyExtensions<'a> {
    attached: Vec<&'a Extension>,
}

/// The extension filters of one chain, by where they go: after the CUSTOM
/// authorization filters (AUTHN), before the RBAC filters (AUTHZ), after
/// them (STATS, then unspecified).
#[derive(Debug, Clone, Default)]
pub struct PhaseFilters {
    pub authn: Vec<Value>,
    pub authz: Vec<Value>,
    pub stats: Vec<Value>,
}

impl PhaseFilters {
    /// All of them in chain order, for chains without security filters.
    pub fn all(&self) -> impl Iterator<Item = &Value> {
        self.authn.iter().chain(&self.authz).chain(&self.stats)
    }
}

impl<'a> ProxyExtensions<'a> {
    pub fn for_proxy(ctx: &Context<'a>, proxy: &Proxy) -> ProxyExtensions<'a> {
        ProxyExtensions {
            attached: ctx
                .config
                .extensions
                .for_workload(&proxy.namespace, &proxy.labels),
        }
    }

    /// The HTTP (`http`) or network filters a listener of `class` on `port`
    /// gets (istiod passes port 0 where it knows none, which a port match
    /// never takes). Within a phase, higher `priority` first, ties in
    /// lookup order.
    pub fn filters(&self, class: ListenerClass, port: u16, http: bool) -> PhaseFilters {
        let mut picked: Vec<&Extension> = self
            .attached
            .iter()
            .copied()
            .filter(|e| e.is_http() == http && selected(e, class, port))
            .collect();
        picked.sort_by_key(|e| std::cmp::Reverse(e.priority.unwrap_or(i32::MIN)));
        let of = |phases: &[Phase]| -> Vec<Value> {
            phases
                .iter()
                .flat_map(|ph| picked.iter().filter(move |e| e.phase == *ph))
                .filter_map(|e| filter(e, http))
                .collect()
        };
        PhaseFilters {
            authn: of(&[Phase::Authn]),
            authz: of(&[Phase::Authz]),
            stats: of(&[Phase::Stats, Phase::Unspecified]),
        }
    }
}

/// `match`: none matches every listener; otherwise one whose mode fits the
/// class (inbound is SERVER, outbound and gateways CLIENT) and whose ports,
/// if any, include `port`.
fn selected(e: &Extension, class: ListenerClass, port: u16) -> bool {
    if e.matches.is_empty() {
        return true;
    }
    let mode = match class {
        ListenerClass::SidecarInbound => "SERVER",
        ListenerClass::SidecarOutbound | ListenerClass::Gateway => "CLIENT",
    };
    e.matches.iter().any(|m| {
        let mode_ok = match m.mode.as_deref() {
            None | Some("UNDEFINED") | Some("CLIENT_AND_SERVER") => true,
            Some(other) => other == mode,
        };
        let port_ok = m.ports.is_empty()
            || m.ports
                .iter()
                .any(|p| p.number.is_some_and(|n| n != 0 && n == u32::from(port)));
        mode_ok && port_ok
    })
}

/// The filter: Lua inline; Wasm fetched over ECDS (Envoy waits for it:
/// extensions may enforce security).
fn filter(e: &Extension, http: bool) -> Option<Value> {
    let name = e.resource_name();
    match &e.filter {
        Filter::Lua(code) => http.then(|| {
            named(
                &name,
                any(
                    "envoy.extensions.filters.http.lua.v3.Lua",
                    json!({"default_source_code": {"inline_string": code}}),
                ),
            )
        }),
        Filter::Wasm(_) => {
            let (wasm, rbac) = if http {
                (HTTP_WASM, HTTP_RBAC)
            } else {
                (NETWORK_WASM, NETWORK_RBAC)
            };
            Some(json!({
                "name": name,
                "config_discovery": {
                    "config_source": ads(),
                    "type_urls": [
                        format!("type.googleapis.com/{wasm}"),
                        format!("type.googleapis.com/{rbac}"),
                    ],
                },
            }))
        }
    }
}

/// The ECDS resources of the Wasm extensions named in `names` (what the
/// proxy's filters ask for) that it may have: its namespace's and the root
/// namespace's.
pub fn extension_configs(ctx: &Context, proxy: &Proxy, names: &BTreeSet<String>) -> Vec<Value> {
    names
        .iter()
        .filter(|n| n.starts_with(RESOURCE_PREFIX))
        .filter_map(|n| ctx.config.extensions.by_resource_name(&proxy.namespace, n))
        .filter_map(|e| match &e.filter {
            Filter::Wasm(w) => Some(json!({
                "name": e.resource_name(),
                "typed_config": any(
                    if w.network { NETWORK_WASM } else { HTTP_WASM },
                    json!({"config": plugin_config(e, w)}),
                ),
            })),
            Filter::Lua(_) => None,
        })
        .collect()
}

/// The Wasm `PluginConfig` istiod serves: the module as the agent must
/// fetch it (OCI and HTTP modules remote, through a placeholder cluster),
/// the agent's pull settings as `ISTIO_META_*` variables (which it strips
/// before Envoy sees them), the plugin configuration as a JSON string.
fn plugin_config(e: &Extension, w: &Wasm) -> Value {
    let code = match w.url.strip_prefix("file://") {
        Some(path) => json!({"local": {"filename": path}}),
        None => {
            let mut remote = Map::new();
            remote.insert(
                "http_uri".into(),
                json!({"uri": w.url, "cluster": "_", "timeout": "30s"}),
            );
            if let Some(sha) = &w.sha256 {
                remote.insert("sha256".into(), json!(sha));
            }
            json!({"remote": remote})
        }
    };
    let mut env = std::collections::BTreeMap::new();
    if let Some(secret) = &w.image_pull_secret {
        env.insert(
            "ISTIO_META_WASM_IMAGE_PULL_SECRET".to_string(),
            secret.clone(),
        );
    }
    if let Some(policy) = w
        .image_pull_policy
        .as_deref()
        .filter(|p| *p != "UNSPECIFIED_POLICY")
    {
        env.insert(
            "ISTIO_META_WASM_IMAGE_PULL_POLICY".to_string(),
            policy.to_string(),
        );
    }
    env.insert(
        "ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION".to_string(),
        e.resource_version.clone(),
    );
    let mut host_keys = Vec::new();
    for v in w.vm_config.iter().flat_map(|vm| &vm.env) {
        match v.value_from.as_deref() {
            Some("HOST") => host_keys.push(v.name.clone()),
            _ => {
                env.insert(v.name.clone(), v.value.clone().unwrap_or_default());
            }
        }
    }
    let mut vars = Map::new();
    if !host_keys.is_empty() {
        vars.insert("host_env_keys".into(), json!(host_keys));
    }
    vars.insert("key_values".into(), json!(env));
    let mut m = Map::new();
    m.insert(
        "name".into(),
        json!(format!("{}.{}", e.meta.namespace, e.meta.name)),
    );
    if let Some(root) = &w.plugin_name {
        m.insert("root_id".into(), json!(root));
    }
    m.insert(
        "vm_config".into(),
        json!({"runtime": "envoy.wasm.runtime.v8", "code": code, "environment_variables": vars}),
    );
    // Without plugin configuration istiod sends an empty Any.
    m.insert(
        "configuration".into(),
        match &w.plugin_config {
            Some(c) => any("google.protobuf.StringValue", json!({"value": c})),
            None => json!({}),
        },
    );
    let policy = match w.fail_strategy.as_deref() {
        Some("FAIL_OPEN") => "FAIL_OPEN",
        Some("FAIL_RELOAD") => "FAIL_RELOAD",
        _ => "FAIL_CLOSED",
    };
    m.insert("failure_policy".into(), json!(policy));
    Value::Object(m)
}
