//! End-to-end tests: the `meshsim` binary on testdata/, compared with insta
//! snapshots in snapshots/, plus library-level checks of the derived mesh
//! (determinism, name stability, POD resolution) and load tests over
//! ../shared when it is present.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use meshsim::diag::{Diagnostics, Severity};
use meshsim::registry::Mesh;
use meshsim::session::{Inputs, Session};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn shared() -> Option<PathBuf> {
    let p = Path::new(ROOT).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        println!(
            "SKIPPED: ../shared is not present beside the checkout; corpus and conformance checks did not run"
        );
        None
    }
}

/// Run the binary from the crate root; returns (exit code, stdout, stderr).
fn meshsim(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshsim"));
    cmd.current_dir(ROOT)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("meshsim runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("meshsim finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One snapshot holds the command, its exit code and both streams.
fn snap(name: &str, args: &[&str], stdin: Option<&str>) {
    let (code, stdout, stderr) = meshsim(args, stdin);
    let text = format!(
        "$ meshsim {}\nexit: {code}\n----- stdout -----\n{stdout}----- stderr -----\n{stderr}",
        args.join(" ")
    );
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn dns_name_table() {
    snap(
        "dns_client",
        &["dns", "deploy/client", "-q", "-f", "testdata/dns"],
        None,
    );
}

#[test]
fn proxies_of_the_shop() {
    snap("proxies_shop", &["proxies", "-f", "testdata/shop"], None);
}

#[test]
fn sidecar_config_of_the_shop_frontend() {
    snap(
        "proxy_config_shop_frontend",
        &[
            "proxy-config",
            "all",
            "deploy/frontend",
            "-n",
            "shop",
            "-f",
            "testdata/shop",
        ],
        None,
    );
}

#[test]
fn gateway_config_of_the_shop() {
    snap(
        "proxy_config_shop_gateway",
        &[
            "pc",
            "all",
            "deploy/shop-gateway",
            "-n",
            "istio-ingress",
            "-q",
            "-f",
            "testdata/shop",
        ],
        None,
    );
}

#[test]
fn proxies_with_reasons_for_pods_without_one() {
    snap(
        "proxies_shop_all",
        &["proxies", "-f", "testdata/shop", "--all"],
        None,
    );
}

#[test]
fn proxies_as_json() {
    snap(
        "proxies_shop_json",
        &["proxies", "-f", "testdata/shop", "-o", "json"],
        None,
    );
}

#[test]
fn broken_documents_are_reported_and_the_rest_loads() {
    snap(
        "errors",
        &["proxies", "-f", "testdata/errors", "--all"],
        None,
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("testdata/shop/cart.yaml")).expect("read");
    snap(
        "stdin",
        &[
            "proxies",
            "-f",
            "-",
            "-n",
            "shop",
            "--no-implicit-injection",
            "--all",
        ],
        Some(&text),
    );
}

#[test]
fn kinds_table() {
    snap("kinds", &["kinds"], None);
}

#[test]
fn output_is_byte_identical_across_runs() {
    let a = meshsim(
        &["proxies", "-f", "testdata/shop", "--all", "-o", "yaml"],
        None,
    );
    let b = meshsim(
        &["proxies", "-f", "testdata/shop", "--all", "-o", "yaml"],
        None,
    );
    assert_eq!(a, b);
}

fn mesh_of(paths: &[PathBuf]) -> (Mesh, Diagnostics) {
    let session = Session::open(&Inputs {
        paths: paths.to_vec(),
        namespace: "default".to_string(),
        mesh_config: None,
        implicit_injection: true,
    })
    .expect("no --mesh-config to fail");
    // Notes (a summary, skipped files) are counted apart from problems.
    (session.mesh, session.diags)
}

fn shop() -> Mesh {
    mesh_of(&[Path::new(ROOT).join("testdata/shop")]).0
}

#[test]
fn an_unrelated_edit_changes_no_other_name_or_ip() {
    let before = shop();
    let dir = std::env::temp_dir().join(format!("meshsim-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let extra = dir.join("extra.yaml");
    std::fs::write(
        &extra,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: aaa\n  namespace: shop\nspec:\n  selector:\n    app: aaa\n  ports:\n  - port: 80\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: aaa\n  namespace: shop\nspec:\n  replicas: 5\n  selector:\n    matchLabels:\n      app: aaa\n  template:\n    metadata:\n      labels:\n        app: aaa\n    spec:\n      containers:\n      - name: a\n",
    )
    .expect("write");
    // The extra objects come first in load order, the worst case for any
    // scheme that numbers things by position.
    let (after, _) = mesh_of(&[extra, Path::new(ROOT).join("testdata/shop")]);
    let _ = std::fs::remove_dir_all(&dir);
    for w in &before.workloads {
        let same = after
            .workloads
            .iter()
            .find(|x| x.namespace == w.namespace && x.name == w.name)
            .unwrap_or_else(|| panic!("{} disappeared", w.id()));
        assert_eq!(same.ip, w.ip, "{} changed IP", w.id());
    }
    for s in &before.services {
        let same = after
            .services
            .iter()
            .find(|x| x.hostname == s.hostname)
            .expect("service kept");
        assert_eq!(
            same.cluster_ip, s.cluster_ip,
            "{} changed cluster IP",
            s.hostname
        );
    }
    assert_eq!(after.workloads.len(), before.workloads.len() + 5);
}

#[test]
fn pod_arguments_resolve_like_istioctl() {
    let mesh = shop();
    let name = |i: usize| mesh.workloads[i].id();
    let first_v1 = name(mesh.resolve("deploy/catalog-v1", "shop").expect("deploy/"));
    assert!(
        first_v1.starts_with("catalog-v1-") && first_v1.ends_with(".shop"),
        "{first_v1}"
    );
    assert_eq!(
        name(mesh.resolve("sts/cart-db.shop", "default").expect("sts/")),
        "cart-db-0.shop"
    );
    assert_eq!(
        name(mesh.resolve("cart-db-1", "shop").expect("exact")),
        "cart-db-1.shop"
    );
    assert_eq!(
        name(mesh.resolve("cart-db-1.shop", "default").expect("name.ns")),
        "cart-db-1.shop"
    );
    let cart = mesh.resolve("cart-s", "shop").expect("unambiguous prefix");
    assert!(name(cart).starts_with("cart-"));
    let err = mesh.resolve("catalog", "shop").expect_err("ambiguous");
    let msg = err.to_string();
    assert!(
        msg.contains("ambiguous") && msg.contains("catalog-v2-"),
        "{msg}"
    );
    let err = mesh
        .resolve("payments", "shop")
        .expect_err("wrong namespace");
    assert!(
        err.to_string().contains("found in other namespaces"),
        "{err}"
    );
    assert!(mesh.resolve("ds/log-agent", "legacy").is_ok());
    assert!(mesh.resolve("job/x", "shop").is_err());
}

#[test]
fn endpoints_follow_selectors_and_named_ports() {
    let mesh = shop();
    let (i, frontend) = mesh
        .services
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == "frontend")
        .expect("frontend");
    assert!(frontend.cluster_ip_synthesized);
    let eps: Vec<_> = mesh.endpoints_of(i).collect();
    assert_eq!(eps.len(), 2);
    // targetPort `http-web` resolves to the container's 8080.
    assert!(
        eps.iter()
            .all(|e| e.port == 8080 && e.service_port == 80 && e.ready)
    );
    let (c, catalog) = mesh
        .services
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == "catalog")
        .expect("catalog");
    // 3 v1 replicas + HPA minReplicas 2 for v2, on two ports each.
    assert_eq!(mesh.endpoints_of(c).count(), 10, "{catalog:?}");
}

#[test]
fn bookinfo_with_istio_install_lists_six_sidecars_and_the_ingress_gateway() {
    let Some(shared) = shared() else { return };
    let (mesh, diags) = mesh_of(&[
        shared.join("corpus/istio-bookinfo/base"),
        shared.join("corpus/istio-install/all-on"),
    ]);
    assert!(
        !diags.has_errors(),
        "{:?}",
        diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect::<Vec<_>>()
    );
    let proxies: Vec<(String, &str, String)> = mesh
        .proxies()
        .map(|(_, w, t)| {
            (
                w.controller
                    .as_ref()
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                t.as_str(),
                w.namespace.clone(),
            )
        })
        .collect();
    let sidecars: Vec<&str> = proxies
        .iter()
        .filter(|p| p.1 == "sidecar")
        .map(|p| p.0.as_str())
        .collect();
    assert_eq!(
        sidecars,
        [
            "details-v1",
            "productpage-v1",
            "ratings-v1",
            "reviews-v1",
            "reviews-v2",
            "reviews-v3"
        ]
    );
    assert!(
        proxies
            .iter()
            .any(|p| p.0 == "istio-ingressgateway" && p.1 == "router" && p.2 == "istio-system"),
        "{proxies:?}"
    );
}

/// Summary of loading one directory: what a person checks first.
fn load_summary(dir: &Path) -> String {
    let (mesh, diags) = mesh_of(&[dir.to_path_buf()]);
    let mut codes = std::collections::BTreeMap::new();
    for d in diags.iter().filter(|d| d.severity > Severity::Info) {
        *codes.entry(d.code).or_insert(0) += 1;
    }
    let codes: Vec<String> = codes.iter().map(|(c, n)| format!("{c}={n}")).collect();
    format!(
        "errors={} warnings={} infos={} workloads={} proxies={} services={} [{}]",
        diags.count(Severity::Error),
        diags.count(Severity::Warning),
        diags.count(Severity::Info),
        mesh.workloads.len(),
        mesh.proxies().count(),
        mesh.services.len(),
        codes.join(" "),
    )
}

/// Load a directory on a thread, so a hang fails the test instead of
/// stalling it, and a panic is caught and named.
fn load_guarded(dir: &Path) -> Result<String, String> {
    let (tx, rx) = mpsc::channel();
    let d = dir.to_path_buf();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| load_summary(&d));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(_)) => Err("panicked".to_string()),
        Err(_) => Err("did not finish in 120 s".to_string()),
    }
}

/// Every directory one level below each set (and each conformance suite).
fn units(root: &Path, depth: usize) -> Vec<PathBuf> {
    let mut level = vec![root.to_path_buf()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for dir in level {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_dir())
                        .collect()
                })
                .unwrap_or_default();
            entries.sort();
            next.extend(entries);
        }
        level = next;
    }
    level
}

#[test]
fn every_corpus_set_and_conformance_input_loads_without_panic_or_hang() {
    let Some(shared) = shared() else { return };
    let mut report = String::new();
    let mut failures = Vec::new();
    for (root, depth) in [(shared.join("corpus"), 2), (shared.join("conformance"), 2)] {
        for unit in units(&root, depth) {
            let rel = unit
                .strip_prefix(&shared)
                .unwrap_or(&unit)
                .display()
                .to_string();
            match load_guarded(&unit) {
                Ok(summary) => report.push_str(&format!("{rel}: {summary}\n")),
                Err(why) => failures.push(format!("{rel}: {why}")),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("corpus_load_counts", report);
    });
}

/// README's copy of `meshsim kinds` must match the program. Set
/// MESHSIM_UPDATE_README=1 to rewrite it.
#[test]
fn readme_lists_the_kinds_meshsim_models() {
    let (_, kinds, _) = meshsim(&["kinds"], None);
    let path = Path::new(ROOT).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let (begin, end) = ("<!-- kinds:begin -->\n", "<!-- kinds:end -->");
    let start = readme.find(begin).expect("kinds:begin marker") + begin.len();
    let stop = readme.find(end).expect("kinds:end marker");
    let want = format!("```text\n{kinds}```\n");
    if readme[start..stop] != want {
        if std::env::var_os("MESHSIM_UPDATE_README").is_some() {
            let updated = format!("{}{want}{}", &readme[..start], &readme[stop..]);
            std::fs::write(&path, updated).expect("write README.md");
        } else {
            panic!(
                "README.md's kinds table is out of date; run MESHSIM_UPDATE_README=1 cargo test --test e2e readme"
            );
        }
    }
}

#[test]
fn a_cluster_export_is_taken_as_it_is() {
    let (mesh, diags) = mesh_of(&[Path::new(ROOT).join("testdata/export")]);
    let problems: Vec<_> = diags
        .iter()
        .filter(|d| d.severity > Severity::Info)
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    let names: Vec<String> = mesh.workloads.iter().map(|w| w.id()).collect();
    // The Deployment's two pods are the given ones, not two more synthesized.
    assert_eq!(
        names,
        ["api-5d8f7c9b6-q7w9z.web", "api-5d8f7c9b6-x2k4p.web"]
    );
    let first = mesh.resolve("deploy/api", "web").expect("deploy/api");
    assert_eq!(mesh.workloads[first].name, "api-5d8f7c9b6-q7w9z");
    assert!(mesh.proxies().all(|(_, _, t)| t.as_str() == "sidecar"));
    let svc = &mesh.services[0];
    assert_eq!(
        svc.cluster_ip.map(|ip| ip.to_string()).as_deref(),
        Some("10.100.7.7")
    );
    assert!(!svc.cluster_ip_synthesized);
    let eps: Vec<(String, u16, bool, Option<String>)> = mesh
        .endpoints_of(0)
        .map(|e| {
            (
                e.address.to_string(),
                e.port,
                e.ready,
                e.workload.map(|i| mesh.workloads[i].name.clone()),
            )
        })
        .collect();
    assert_eq!(
        eps,
        [
            (
                "10.20.0.11".to_string(),
                8080,
                true,
                Some("api-5d8f7c9b6-x2k4p".to_string())
            ),
            (
                "10.20.0.12".to_string(),
                8080,
                false,
                Some("api-5d8f7c9b6-q7w9z".to_string())
            ),
        ]
    );
}

#[test]
fn locality_comes_from_the_node_or_the_pod_label() {
    let mesh = shop();
    let agent: Vec<Option<&str>> = mesh
        .workloads
        .iter()
        .filter(|w| w.name.starts_with("log-agent-"))
        .map(|w| w.locality.as_deref())
        .collect();
    assert_eq!(agent.len(), 2);
    assert!(agent.contains(&Some("eu-west1/eu-west1-a/")), "{agent:?}");
    assert!(agent.contains(&Some("eu-west1/eu-west1-b/")), "{agent:?}");
    // Deployment pods are not scheduled offline: no node, no locality.
    assert!(
        mesh.workloads
            .iter()
            .filter(|w| w.name.starts_with("frontend-"))
            .all(|w| w.locality.is_none())
    );
}
