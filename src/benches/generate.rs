//! Generation benchmark: `meshsim proxy-config all POD` for one sidecar of
//! a generated mesh (every service visible to it) against
//! ../shared/bench/parse-baseline on the same files.
//!
//! `cargo bench --bench generate [-- SERVICES [STYLE]]` (default 10000 dump).

mod common;

use std::process::Command;

fn main() {
    let Some(setup) = common::setup() else { return };
    let mesh = setup.mesh.display().to_string();
    // The first sidecar `meshsim proxies` lists.
    let out = Command::new(env!("CARGO_BIN_EXE_meshsim"))
        .args(["proxies", "-q", "-o", "json", "-f", &mesh])
        .output()
        .expect("meshsim proxies runs");
    let proxies: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("proxies -o json is JSON");
    let pod = proxies
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["type"] == "sidecar")
        .and_then(|p| p["name"].as_str())
        .map(str::to_string)
        .expect("the mesh has a sidecar");
    println!("proxy: {pod}");
    setup.compare("pc all", &["pc", "all", &pod, "-q", "-f", &mesh], 2.0);
}
