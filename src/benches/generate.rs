//! Generation benchmark: `meshsim proxy-config all POD` for one sidecar of
//! a generated mesh (every service visible to it) against
//! ../shared/bench/parse-baseline on the same files.
//!
//! `cargo bench --bench generate [-- SERVICES [STYLE]]` (default 10000 dump).

mod common;

use std::process::Command;

fn main() {
    let Some(setup) = common::setup(false) else {
        return;
    };
    let mesh = setup.mesh.display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_meshsim"))
        .args(["proxies", "-q", "-o", "json", "-f", &mesh])
        .output()
        .expect("meshsim proxies runs");
    let proxies: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("proxies -o json is JSON");
    // gen-mesh writes one file per namespace and gives some namespaces a
    // Sidecar that narrows what their proxies see: time one proxy of each
    // kind, the narrowed one (typical) and one that sees every service.
    let narrowed = |ns: &str| {
        std::fs::read_to_string(setup.mesh.join(format!("{ns}.yaml")))
            .is_ok_and(|t| t.contains("kind: Sidecar"))
    };
    let sidecars: Vec<(&str, &str)> = proxies
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["type"] == "sidecar")
        .filter_map(|p| Some((p["name"].as_str()?, p["namespace"].as_str()?)))
        .collect();
    for (label, with_sidecar) in [("with a Sidecar", true), ("seeing every service", false)] {
        let Some((pod, _)) = sidecars.iter().find(|(_, ns)| narrowed(ns) == with_sidecar) else {
            println!("no proxy {label}");
            continue;
        };
        println!("proxy {label}: {pod}");
        setup.compare("pc all", &["pc", "all", pod, "-q", "-f", &mesh], 2.0);
    }
}
