//! Generation end to end: every proxy of testdata/ and of the bookinfo
//! corpus generates, exports as a static bootstrap, and a real Envoy accepts
//! it; reviewed snapshots of `proxy-config` on bookinfo.

mod common;

use std::path::{Path, PathBuf};

use common::*;

#[test]
fn every_testdata_proxy_passes_envoy() {
    let envoy = envoy();
    let n = judge_all(
        "shop",
        &open(vec![Path::new(ROOT).join("testdata/shop")]),
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
        total += judge_all(name, &open(paths.clone()), envoy.as_deref());
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
