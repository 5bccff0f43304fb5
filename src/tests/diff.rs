//! `meshsim diff` and `meshsim snapshot` end to end: bookinfo overlays as
//! reviewed snapshots, git revisions, snapshot drift, exit codes, the JSON
//! schema, markdown and colour; and the generation sharing diff relies on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use meshsim::diff::output;
use meshsim::diff::resources::{ResourceType, Resources};
use meshsim::diff::share::{self, Side};
use meshsim::session::{Inputs, Session};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SHOP: &str = "testdata/shop";
const SHOP_V2: &str = "testdata/shop,testdata/diff/catalog-50-50";

fn shared() -> Option<PathBuf> {
    if Path::new(ROOT).join("../shared").is_dir() {
        Some(PathBuf::from("../shared"))
    } else {
        println!(
            "SKIPPED: ../shared is not present beside the checkout; bookinfo diff checks did not run"
        );
        None
    }
}

/// Run the binary from the crate root with NO_COLOR; (exit code, stdout, stderr).
fn meshsim(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshsim"));
    cmd.current_dir(ROOT).args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("meshsim runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A session of `paths` (relative to the crate), `default` as namespace.
fn open<P: AsRef<Path>>(paths: &[P]) -> Session {
    Session::open(&Inputs {
        paths: paths.iter().map(|p| Path::new(ROOT).join(p)).collect(),
        namespace: "default".into(),
        mesh_config: None,
        implicit_injection: true,
    })
    .unwrap()
}

/// The proxies and changes of a report's only group.
fn only_group(report: &serde_json::Value) -> (Vec<&serde_json::Value>, &[serde_json::Value]) {
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{report}");
    (
        group_proxies(report, &groups[0]),
        groups[0]["changes"].as_array().unwrap(),
    )
}

/// A JSON report's group's proxies, looked up by their indices in
/// `changed`.
fn group_proxies<'r>(
    report: &'r serde_json::Value,
    group: &serde_json::Value,
) -> Vec<&'r serde_json::Value> {
    (group["proxies"].as_array().unwrap().iter())
        .map(|i| &report["changed"][i.as_u64().unwrap() as usize])
        .collect()
}

fn join(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn bookinfo_overlays_diff_against_their_base() {
    let Some(shared) = shared() else { return };
    let root = shared.join("corpus/istio-bookinfo");
    let mut changed = 0;
    let mut empty = Vec::new();
    for r in common::bookinfo_revisions(&root) {
        if r.overlay.is_none() {
            continue;
        }
        let (old, new) = (join(&r.before), join(&r.paths()));
        let (code, out, err) = meshsim(&["diff", &old, &new, "-q"], &[]);
        assert!(code == 0 || code == 1, "{}: exit {code}: {err}", r.name);
        // diff(1): 0 exactly when there is nothing to show.
        assert_eq!(code == 0, out.is_empty(), "{}:\n{out}", r.name);
        if code == 0 {
            empty.push(r.name.clone());
        } else {
            changed += 1;
        }
        let group = r.group.trim_end_matches('/');
        common::snapshot(
            &format!("diff-{group}-{}", r.name),
            &format!("exit: {code}\n{out}"),
        );
    }
    // The corpus says so of this overlay: an identical copy of a Service.
    assert!(
        empty.contains(&"ratings-discovery".to_string()),
        "{empty:?}"
    );
    println!("diff: {changed} bookinfo overlays change proxies; no change: {empty:?}");
}

#[test]
fn reviews_50_v3_changes_route_9080_on_every_sidecar() {
    let Some(shared) = shared() else { return };
    let b = shared.join("corpus/istio-bookinfo");
    let base = b.join("base");
    let v1 = b.join("overlays/all-v1");
    let old = join(&[base.clone(), v1.clone()]);
    let new = join(&[base.clone(), v1, b.join("overlays/reviews-50-v3")]);
    let (code, out, err) = meshsim(&["diff", &old, &new, "-o", "json"], &[]);
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    let (in_group, changes) = only_group(&report);
    let proxies: Vec<&str> = in_group.iter().map(|p| p["id"].as_str().unwrap()).collect();
    // Every sidecar of the revision (none has a Sidecar narrowing its view),
    // and no gateway.
    let session = open(&[&base]);
    let mut sidecars: Vec<String> = session
        .mesh
        .proxies()
        .filter(|(_, _, k)| *k == meshsim::registry::ProxyType::Sidecar)
        .map(|(_, w, _)| w.id())
        .collect();
    sidecars.sort();
    assert_eq!(proxies, sidecars);
    assert!(in_group.iter().all(|p| p["type"] == "sidecar"));
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0]["type"].as_str(), changes[0]["name"].as_str()),
        (Some("route"), Some("9080"))
    );
    let cause = &report["objects"][changes[0]["causes"][0].as_u64().unwrap() as usize];
    assert_eq!(
        (cause["kind"].as_str(), cause["name"].as_str()),
        (Some("VirtualService"), Some("reviews"))
    );
    assert!(report["added"].as_array().unwrap().is_empty());
    assert!(report["removed"].as_array().unwrap().is_empty());
}

#[test]
fn unchanged_inputs_exit_0_with_no_output() {
    for format in ["text", "markdown"] {
        let (code, out, _) = meshsim(&["diff", SHOP, SHOP, "-o", format], &[]);
        assert_eq!((code, out.as_str()), (0, ""), "{format}");
    }
}

#[test]
fn exit_codes() {
    assert_eq!(meshsim(&["diff", SHOP, SHOP_V2], &[]).0, 1);
    let (code, _, err) = meshsim(&["diff", SHOP, "testdata/no-such-dir"], &[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = meshsim(&["diff", SHOP, SHOP_V2, "no-such-pod", "-n", "shop"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-pod"), "{err}");
    let (code, _, err) = meshsim(&["diff", "-f", SHOP, SHOP, SHOP], &[]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn shop_text_json_and_markdown() {
    let (code, text, _) = meshsim(&["diff", SHOP, SHOP_V2], &[]);
    assert_eq!(code, 1);
    common::snapshot("diff-shop-text", &text);
    let (_, md, _) = meshsim(&["diff", SHOP, SHOP_V2, "-o", "markdown"], &[]);
    common::snapshot("diff-shop-markdown", &md);
    let (_, json, _) = meshsim(&["diff", SHOP, SHOP_V2, "-o", "json"], &[]);
    common::snapshot("diff-shop-json", &json);
    // The documented schema: these keys, in this order.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "schema",
            "summary",
            "objects",
            "changed",
            "groups",
            "diffs",
            "added",
            "removed",
            "failed",
            "not_generated"
        ]
    );
    assert_eq!(v["schema"], "meshsim.diff/v5");
    let added: Vec<&str> = v["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(added.len(), 1);
    assert!(added[0].starts_with("reviews-"), "{added:?}");
    // Every proxy generates, the gateways included.
    assert_eq!(v["not_generated"], serde_json::json!([]));
}

#[test]
fn filters_by_pod_and_type() {
    let (code, out, _) = meshsim(
        &[
            "diff",
            SHOP,
            SHOP_V2,
            "-o",
            "json",
            "--type",
            "cluster",
            "deploy/frontend",
            "-n",
            "shop",
        ],
        &[],
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    let proxies = group_proxies(&v, &groups[0]);
    assert_eq!(proxies.len(), 1);
    assert!(proxies[0]["id"].as_str().unwrap().starts_with("frontend-"));
    for c in groups[0]["changes"].as_array().unwrap() {
        assert_eq!(c["type"], "cluster");
    }
    // A proxy that appears is a change whatever the types; one proxy's
    // secrets (none generated yet) are not.
    let (code, _, _) = meshsim(
        &[
            "diff",
            SHOP,
            SHOP_V2,
            "--type",
            "secret",
            "deploy/frontend",
            "-n",
            "shop",
        ],
        &[],
    );
    assert_eq!(code, 0, "no secrets are generated yet");
}

#[test]
fn colour_only_when_asked() {
    let (_, plain, _) = meshsim(&["diff", SHOP, SHOP_V2], &[]);
    assert!(!plain.contains('\u{1b}'));
    let (_, forced, _) = meshsim(&["diff", SHOP, SHOP_V2, "--color", "always"], &[]);
    assert!(forced.contains("\u{1b}[32m+"), "{forced}");
    let (_, never, _) = meshsim(
        &["diff", SHOP, SHOP_V2, "--color", "never"],
        &[("NO_COLOR", "")],
    );
    assert!(!never.contains('\u{1b}'));
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("meshsim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn git(repo: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        ok.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn git_revisions_diff_as_directories_do() {
    if Command::new("git").arg("--version").output().is_err() {
        println!("SKIPPED: git not found; the git revision test did not run");
        return;
    }
    let root = Path::new(ROOT);
    let tmp = TempDir::new("git");
    // Two directories: the shop, and the shop with the overlay laid over it
    // (a later directory, as an overlay is loaded after its base).
    let (a, b) = (tmp.0.join("a"), tmp.0.join("b"));
    copy_dir(&root.join(SHOP), &a.join("mesh/shop"));
    copy_dir(&root.join(SHOP), &b.join("mesh/shop"));
    copy_dir(
        &root.join("testdata/diff/catalog-50-50"),
        &b.join("mesh/zz-overlay"),
    );
    // The same trees as two commits; the working tree then holds neither.
    let repo = tmp.0.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    copy_dir(&a.join("mesh"), &repo.join("mesh"));
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "a"]);
    copy_dir(&b.join("mesh/zz-overlay"), &repo.join("mesh/zz-overlay"));
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "b"]);
    std::fs::remove_dir_all(repo.join("mesh")).unwrap();

    let dirs = meshsim(
        &[
            "diff",
            &a.join("mesh").to_string_lossy(),
            &b.join("mesh").to_string_lossy(),
            "-o",
            "json",
        ],
        &[],
    );
    let repo_arg = repo.to_string_lossy();
    let revs = meshsim(
        &[
            "diff",
            "git:HEAD~1:mesh",
            "git:HEAD:mesh",
            "--repo",
            &repo_arg,
            "-o",
            "json",
        ],
        &[],
    );
    assert_eq!(dirs.0, 1, "{}", dirs.2);
    assert_eq!(revs.0, 1, "{}", revs.2);
    // Equal but for how files are named.
    let normalize = |s: &str| {
        s.replace(&format!("{}/", a.to_string_lossy()), "")
            .replace(&format!("{}/", b.to_string_lossy()), "")
            .replace("git:HEAD~1:", "")
            .replace("git:HEAD:", "")
    };
    assert_eq!(normalize(&dirs.1), normalize(&revs.1));
    assert!(
        revs.1.contains("git:HEAD:mesh/zz-overlay/catalog.yaml:1"),
        "{}",
        revs.1
    );
    // A revision that does not exist is an error.
    let bad = meshsim(
        &["diff", "git:no-such-rev", "git:HEAD", "--repo", &repo_arg],
        &[],
    );
    assert_eq!(bad.0, 2);
    assert!(bad.2.contains("no-such-rev"), "{}", bad.2);
}

#[test]
fn snapshot_writes_deterministically_and_check_finds_drift() {
    let tmp = TempDir::new("snapshot");
    let dir = tmp.0.join("snap");
    let dir_arg = dir.to_string_lossy().into_owned();
    let (code, _, err) = meshsim(&["snapshot", "-f", SHOP, "--out", &dir_arg], &[]);
    assert_eq!(code, 0, "{err}");
    let files = |d: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for ns in std::fs::read_dir(d).unwrap() {
            for f in std::fs::read_dir(ns.unwrap().path()).unwrap() {
                let p = f.unwrap().path();
                let bytes = std::fs::read(&p).unwrap();
                out.push((p, bytes));
            }
        }
        out.sort();
        out
    };
    let first = files(&dir);
    // One file per proxy: 12 sidecars and 2 gateways (with their error).
    assert_eq!(first.len(), 14);
    assert!(
        first
            .iter()
            .any(|(p, _)| p.ends_with("shop/cart-db-0.json"))
    );
    assert_eq!(
        meshsim(&["snapshot", "-f", SHOP, "--out", &dir_arg], &[]).0,
        0
    );
    assert_eq!(files(&dir), first, "a rerun rewrites the same bytes");

    let (code, out, _) = meshsim(&["snapshot", "--check", "-f", SHOP, "--out", &dir_arg], &[]);
    assert_eq!((code, out.as_str()), (0, ""));
    let mut args = vec!["snapshot", "--check", "--out", &dir_arg];
    for p in SHOP_V2.split(',') {
        args.extend(["-f", p]);
    }
    let (code, out, _) = meshsim(&args, &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("route 80 virtual host catalog.shop.svc.cluster.local:80 changed"),
        "{out}"
    );
    assert!(out.contains("-              \"weight\": 90"), "{out}");
    assert!(out.contains("proxies added:\n  reviews-"), "{out}");
    // --check wrote nothing.
    assert_eq!(files(&dir), first);
}

/// An AuthorizationPolicy changes what its namespace's sidecars serve, not
/// what anyone sees: one group (the payments sidecars' inbound listener),
/// caused by the policy alone, and only the parts that serve are generated.
#[test]
fn a_policy_reaches_what_its_namespace_serves() {
    let (code, out, err) = meshsim(
        &[
            "diff",
            SHOP,
            "testdata/shop,testdata/diff/payments-policy",
            "-o",
            "json",
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (proxies, changes) = only_group(&v);
    assert!(proxies.iter().all(|p| p["namespace"] == "payments"));
    assert_eq!(changes.len(), 1, "{out}");
    assert_eq!(changes[0]["name"], "virtualInbound");
    assert_eq!(changes[0]["causes"], serde_json::json!([0]));
    assert_eq!(v["objects"][0]["kind"], "AuthorizationPolicy");
    // The payments workload's inbound part, nothing it sees, not its own
    // part (whose key and secret names are the same), and the two ingress
    // gateway pods, which are always generated whole.
    let (old, new) = (
        open(&[SHOP]),
        open(&[SHOP, "testdata/diff/payments-policy"]),
    );
    let report = meshsim::diff::diff(&old, &new, &Default::default());
    assert_eq!(report.generated, 3);
}

/// Scaling a Deployment changes the endpoints its clients see, not what
/// its pods serve: their inbound and own parts have equal keys and are not
/// generated; a new ServiceAccount reaches nothing.
#[test]
fn scaling_changes_endpoints_not_what_the_pods_serve() {
    let (old, new) = (open(&[SHOP]), open(&[SHOP, "testdata/diff/catalog-scale"]));
    let report = meshsim::diff::diff(&old, &new, &Default::default());
    let changes: Vec<_> = report.groups.iter().flat_map(|g| &g.changes).collect();
    assert!(!changes.is_empty());
    assert!(
        changes.iter().all(|c| c.rtype == ResourceType::Endpoint),
        "{changes:?}"
    );
    let causes: BTreeSet<String> = changes
        .iter()
        .flat_map(|c| &c.causes)
        .map(|&o| report.objects[o].describe())
        .collect();
    assert_eq!(
        causes,
        BTreeSet::from(["Deployment shop/catalog-v1".to_string()])
    );
    assert_eq!(report.added.len(), 1);
    assert!(report.added[0].id.starts_with("catalog-v1-"));
    // The sidecars' clusters parts (endpoints) and the gateways, whole: no
    // outbound listeners or routes (catalog is not headless), no inbound
    // or own part.
    let classes = share::classify(&new, &|_| true);
    let kinds = |kind: share::PartKind| {
        (0..classes.len())
            .filter(|&p| classes.part_kind(p) == kind)
            .count()
    };
    use share::PartKind::{Clusters, Whole};
    assert_eq!(report.generated, kinds(Clusters) + kinds(Whole));
}

/// A policy with a selector reaches the own side of the proxies it
/// selects, not of its whole namespace; an Istio Gateway reaches gateways
/// only. The catalog pods' inbound listener and the gateways change; no
/// other sidecar part is generated.
#[test]
fn selectors_and_gateways_narrow_what_a_change_reaches() {
    let (old, new) = (open(&[SHOP]), open(&[SHOP, "testdata/diff/catalog-policy"]));
    let attribution = meshsim::diff::attribute::Attribution::build(&old, &new);
    let reach = |id: &str| {
        let ns = id.rsplit('.').next().unwrap();
        attribution.of_proxy(id, ns)
    };
    let catalog = reach("catalog-v1-sgqwjz766d-qj85n.shop");
    assert!(catalog.own() && !catalog.whole());
    let frontend = reach("frontend-fmrgbb5fjx-gf5gg.shop");
    assert!(!frontend.own() && !frontend.whole());
    let gateway = reach("shop-gateway-wfkqbhjz74-7w2zw.istio-ingress");
    assert!(gateway.sees() && !gateway.whole());
    let report = meshsim::diff::diff(&old, &new, &Default::default());
    let shown: BTreeSet<(String, String)> = report
        .groups
        .iter()
        .flat_map(|g| {
            report.proxies_of(g).into_iter().flat_map(|p| {
                g.changes
                    .iter()
                    .map(|c| (p.id.split('-').next().unwrap().to_string(), c.name.clone()))
            })
        })
        .collect();
    let mut changed: Vec<&str> = shown.iter().map(|(p, _)| p.as_str()).collect();
    changed.dedup();
    assert_eq!(changed, ["catalog", "shop"], "{shown:?}");
    assert!(shown.contains(&("catalog".into(), "virtualInbound".into())));
    // The catalog workloads' inbound parts (v1, v2) and the two gateway
    // pods, whole.
    assert_eq!(report.generated, 4);
}

/// A Sidecar reaches what its sidecars see, not what they serve: their
/// outbound parts are generated, their inbound and own parts are not,
/// unless it has ingress listeners (the inbound key holds them).
#[test]
fn a_sidecar_reaches_what_its_sidecars_see() {
    use share::PartKind::{Clusters, Outbound, Whole};
    let diff = |overlay: &str| {
        let (old, new) = (open(&[SHOP]), open(&[SHOP, overlay]));
        let report = meshsim::diff::diff(&old, &new, &Default::default());
        assert!(!report.groups.is_empty(), "{overlay} changed nothing");
        let causes: BTreeSet<String> = report
            .groups
            .iter()
            .flat_map(|g| &g.changes)
            .flat_map(|c| &c.causes)
            .map(|&o| report.objects[o].describe())
            .collect();
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert!(causes.iter().all(|c| c.starts_with("Sidecar shop/")));
        report
    };
    // The distinct parts of a kind: of the shop sidecars, or all.
    let session = open(&[SHOP]);
    let classes = share::classify(&session, &|_| true);
    let parts = |kind: share::PartKind, shop_sidecars: bool| {
        let parts: BTreeSet<usize> = classes
            .proxies()
            .values()
            .filter(|p| {
                !shop_sidecars
                    || (p.namespace == "shop" && p.kind == meshsim::registry::ProxyType::Sidecar)
            })
            .flat_map(|p| p.parts.iter().copied())
            .filter(|&x| classes.part_kind(x) == kind)
            .collect();
        parts.len()
    };
    let report = diff("testdata/diff/sidecar-egress");
    assert_eq!(
        report.generated,
        parts(Outbound, true) + parts(Clusters, true) + parts(Whole, false),
        "{:?}",
        report.groups
    );
    let changed: BTreeSet<ResourceType> = report
        .groups
        .iter()
        .flat_map(|g| &g.changes)
        .map(|c| c.rtype)
        .collect();
    assert!(changed.contains(&ResourceType::Cluster), "{changed:?}");
    // With ingress, the catalog pods' inbound parts too (the rest of the
    // shop is not reached).
    let report = diff("testdata/diff/sidecar-ingress");
    let inbound = report
        .groups
        .iter()
        .filter(|g| g.changes.iter().any(|c| c.name == "virtualInbound"))
        .flat_map(|g| report.proxies_of(g))
        .collect::<Vec<_>>();
    assert!(!inbound.is_empty(), "{:?}", report.groups);
    assert!(
        inbound.iter().all(|p| p.id.starts_with("catalog-")),
        "{inbound:?}"
    );
}

/// Clusters and endpoints are shared across namespaces when the sidecars
/// see the same services under the same DestinationRules; listeners and
/// routes (short names, lookups by namespace) stay per namespace.
#[test]
fn clusters_are_shared_across_namespaces_under_the_same_rules() {
    let session = open(&["testdata/diff/teams"]);
    let classes = share::classify(&session, &|_| true);
    let part = |ns: &str, kind: share::PartKind| -> usize {
        let p = classes
            .proxies()
            .values()
            .find(|p| p.namespace == ns)
            .unwrap_or_else(|| panic!("a proxy in {ns}"));
        *p.parts
            .iter()
            .find(|&&x| classes.part_kind(x) == kind)
            .unwrap_or_else(|| panic!("{ns} has a {kind:?} part"))
    };
    use share::PartKind::{Clusters, Outbound};
    assert_eq!(part("team-a", Clusters), part("team-b", Clusters));
    assert_ne!(part("team-a", Clusters), part("team-c", Clusters));
    let outbound: BTreeSet<usize> = ["team-a", "team-b", "team-c"]
        .iter()
        .map(|ns| part(ns, Outbound))
        .collect();
    assert_eq!(outbound.len(), 3);
}

/// Listeners and routes that changed objects reach through some hosts are
/// generated for those hosts only, unless a virtual host shares a domain
/// with theirs; a VirtualService is regenerated when a host it routes to
/// changes, and its change is put down to that host's objects.
#[test]
fn routes_reached_through_some_hosts_are_generated_for_those() {
    let base = [SHOP, "testdata/diff/focus/base"];
    let diff = |change: &str| {
        let change = format!("testdata/diff/focus/{change}");
        let (old, new) = (open(&base), open(&[base[0], base[1], &change]));
        meshsim::diff::diff(&old, &new, &Default::default())
    };
    let hash = diff("hash");
    // Every view of the sidecars, its listeners and routes and its
    // clusters (the gateway is not split in parts).
    let session = open(&base);
    let classes = share::classify(&session, &|_| true);
    let views: BTreeSet<usize> = classes
        .proxies()
        .values()
        .flat_map(|p| p.parts.iter().copied())
        .filter(|&x| classes.part_kind(x).is_outbound())
        .collect();
    assert_eq!(hash.focused, views.len());
    let causes = |report: &meshsim::diff::Report, vhost: &str| -> Vec<String> {
        let change = report
            .groups
            .iter()
            .flat_map(|g| &g.changes)
            .find(|c| c.part.as_deref() == Some(vhost))
            .unwrap_or_else(|| panic!("{vhost} changed"));
        change
            .causes
            .iter()
            .map(|&o| report.objects[o].describe())
            .collect()
    };
    assert_eq!(
        causes(&hash, "checkout.example.com:80"),
        ["DestinationRule shop/cart"]
    );
    assert_eq!(
        causes(&hash, "stock.shop.svc.cluster.local:7070"),
        ["DestinationRule shop/stock"]
    );
    let shared = diff("shared-domain");
    // Listeners and routes whole; clusters for ledger alone.
    let clusters = views
        .iter()
        .filter(|&&x| classes.part_kind(x) == share::PartKind::Clusters)
        .count();
    assert_eq!(shared.focused, clusters);
    assert_eq!(
        causes(&shared, "ledger.shop:80"),
        ["DestinationRule shop/ledger"]
    );
    // A Service given the address synthesized for stock moves it: stock's
    // listeners and routes change, put down to that Service.
    let taken = diff("taken-address");
    assert_eq!(taken.focused, views.len());
    assert_eq!(
        causes(&taken, "stock.shop.svc.cluster.local:80"),
        ["Service shop/till"]
    );
    let moved_listener = taken
        .groups
        .iter()
        .flat_map(|g| &g.changes)
        .find(|c| c.name.ends_with("_7070") && c.op == meshsim::diff::compare::Op::Removed)
        .expect("stock's old listener removed");
    let cause = &taken.objects[moved_listener.causes[0]];
    assert_eq!(cause.describe(), "Service shop/till");
}

/// Clusters parts are compared service by service: a service whose lines
/// (what its clusters read) two comparisons share is generated and
/// compared once; one whose lines differ, in each. The reports equal
/// generating every part whole.
#[test]
fn clusters_are_compared_once_per_pair_of_service_lines() {
    let base = ["testdata/diff/teams"];
    let diff = |overlay: &str, opts: &meshsim::diff::Options| {
        let (old, new) = (open(&base), open(&[base[0], overlay]));
        meshsim::diff::diff(&old, &new, opts)
    };
    let all = meshsim::diff::Options {
        regenerate_all: true,
        ..Default::default()
    };
    let render = |r: &meshsim::diff::Report| output::render(r, output::Format::Json, false);
    // Two clusters parts: team-a's and team-b's, and team-c's.
    let rule = diff("testdata/diff/teams-rule", &Default::default());
    assert_eq!(
        render(&rule),
        render(&diff("testdata/diff/teams-rule", &all))
    );
    let changed_in = |r: &meshsim::diff::Report, host: &str| {
        r.groups
            .iter()
            .filter(|g| {
                g.changes
                    .iter()
                    .any(|c| c.rtype == ResourceType::Cluster && c.name.ends_with(host))
            })
            .flat_map(|g| r.proxies_of(g).into_iter().map(|p| p.namespace.clone()))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        changed_in(&rule, "api.team-b.svc.cluster.local"),
        BTreeSet::from(["team-a".into(), "team-b".into(), "team-c".into()])
    );
    // team-b's api is read alike by both: the second takes the first's.
    assert_eq!(rule.reused, 1, "{rule:?}");
    let scale = diff("testdata/diff/teams-scale", &Default::default());
    assert_eq!(
        render(&scale),
        render(&diff("testdata/diff/teams-scale", &all))
    );
    // team-a's api is read under two rules: each part generates it alone.
    assert_eq!(scale.reused, 0);
    let scaled: BTreeSet<&str> = scale
        .groups
        .iter()
        .flat_map(|g| &g.changes)
        .filter(|c| c.rtype == ResourceType::Endpoint)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        scaled,
        BTreeSet::from(["outbound|80||api.team-a.svc.cluster.local"])
    );
    assert!(scale.focused >= 2, "{scale:?}");
    // Its clusters read only its endpoints' service accounts, the same:
    // its endpoints alone are generated, in each comparison.
    assert_eq!(scale.endpoints_alone, 2, "{scale:?}");
    // Generated and compared a service at a time, they say the same.
    let one = meshsim::diff::Options {
        chunk: 1,
        ..Default::default()
    };
    let both = (
        open(&base),
        open(&[
            base[0],
            "testdata/diff/teams-rule",
            "testdata/diff/teams-scale",
        ]),
    );
    let both = |opts: &meshsim::diff::Options| render(&meshsim::diff::diff(&both.0, &both.1, opts));
    assert_eq!(both(&one), both(&Default::default()));
    assert_eq!(both(&one), both(&all));
}

/// A DestinationRule without consistent hashing reaches clusters alone,
/// unless it shadows or unshadows a hashing rule: routes read a rule's hash
/// policy and nothing else of it.
#[test]
fn rules_without_hashing_reach_routes_only_through_hashing_rules() {
    let all = meshsim::diff::Options {
        regenerate_all: true,
        ..Default::default()
    };
    let render = |r: &meshsim::diff::Report| output::render(r, output::Format::Json, false);
    let diff = |old: &[&str], new: &[&str], opts: &meshsim::diff::Options| {
        meshsim::diff::diff(&open(old), &open(new), opts)
    };
    let types = |r: &meshsim::diff::Report| {
        r.groups
            .iter()
            .flat_map(|g| &g.changes)
            .map(|c| c.rtype)
            .collect::<BTreeSet<_>>()
    };
    let teams = "testdata/diff/teams";
    let hashing = "testdata/diff/teams-hashing";
    let rule = "testdata/diff/teams-rule";
    // No hashing rule: one pair of clusters parts is generated, the other
    // proxy class's clusters take its changes.
    let plain = diff(&[teams], &[teams, rule], &Default::default());
    assert_eq!(
        render(&plain),
        render(&diff(&[teams], &[teams, rule], &all))
    );
    assert_eq!(types(&plain), BTreeSet::from([ResourceType::Cluster]));
    assert_eq!((plain.generated, plain.reused), (1, 1), "{plain:?}");
    // Under team-b's hashing rule, exporting its api's rule takes the hash
    // off the other namespaces' routes to it.
    let (old, new) = ([teams, hashing], [teams, hashing, rule]);
    let shadowing = diff(&old, &new, &Default::default());
    assert_eq!(render(&shadowing), render(&diff(&old, &new, &all)));
    assert!(
        types(&shadowing).contains(&ResourceType::Route),
        "{shadowing:?}"
    );
    assert!(shadowing.focused > plain.focused, "{shadowing:?}");
    // team-a's and team-c's views read api.team-b alike: the second takes
    // the first's virtual hosts of it.
    assert!(shadowing.reused_hosts > 0, "{shadowing:?}");
    // Through VirtualServices of one name in each namespace, the two views
    // read api.team-b differently: each generates its own.
    let routes = "testdata/diff/teams-routes";
    let (old, new) = ([teams, hashing, routes], [teams, hashing, routes, rule]);
    let routed = diff(&old, &new, &Default::default());
    assert_eq!(render(&routed), render(&diff(&old, &new, &all)));
    let timeouts: BTreeSet<&str> = (routed.groups.iter().flat_map(|g| &g.changes))
        .filter(|c| c.rtype == ResourceType::Route)
        .flat_map(|c| {
            ["5s", "10s"]
                .into_iter()
                .filter(|t| routed.diffs[c.diff].contains(t))
        })
        .collect();
    assert_eq!(timeouts, BTreeSet::from(["5s", "10s"]), "{routed:?}");
}

/// A view a Sidecar narrows loses a service whose clusters another view's
/// comparison generates anyway: the narrowed view's comparison takes the
/// removed side from it, and the report is the same as generating it.
#[test]
fn a_service_leaving_a_view_is_taken_from_the_comparison_generating_it() {
    let all = meshsim::diff::Options {
        regenerate_all: true,
        ..Default::default()
    };
    let render = |r: &meshsim::diff::Report| output::render(r, output::Format::Json, false);
    let teams = "testdata/diff/teams";
    let (old, new) = (
        open(&[teams]),
        open(&[
            teams,
            "testdata/diff/teams-scale",
            "testdata/diff/teams-narrow",
        ]),
    );
    let fast = meshsim::diff::diff(&old, &new, &Default::default());
    assert!(fast.reused_lines > 0, "{fast:?}");
    assert_eq!(
        render(&fast),
        render(&meshsim::diff::diff(&old, &new, &all))
    );
    // team-b's sidecars lose api.team-a's clusters and endpoints.
    let removed: BTreeSet<&str> = (fast.groups.iter())
        .filter(|g| fast.proxies_of(g).iter().all(|p| p.namespace == "team-b"))
        .flat_map(|g| &g.changes)
        .filter(|c| c.op == meshsim::diff::compare::Op::Removed)
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        removed
            .iter()
            .any(|n| n.ends_with("|api.team-a.svc.cluster.local")),
        "{removed:?}"
    );
}

/// Sharing one generation between proxies of equal inputs gives each of
/// them exactly what generating it alone gives.
#[test]
fn shared_generation_equals_generating_each_proxy() {
    let mut revisions: Vec<Vec<PathBuf>> = vec![
        vec![PathBuf::from(SHOP)],
        vec![PathBuf::from("testdata/sidecar")],
        vec![PathBuf::from("testdata/telemetry/mesh")],
        vec![PathBuf::from("testdata/wasm")],
        vec![PathBuf::from("testdata/authz")],
        vec![PathBuf::from("testdata/gateway")],
        vec![PathBuf::from("testdata/diff/teams")],
    ];
    if let Some(shared) = shared() {
        revisions.extend(
            common::bookinfo_revisions(&shared.join("corpus/istio-bookinfo"))
                .iter()
                .map(|r| r.paths()),
        );
    }
    let mut shared_count = 0;
    for paths in revisions {
        let session = open(&paths);
        let classes = share::classify(&session, &|_| true);
        let parts: usize = classes.proxies().values().map(|p| p.parts.len()).sum();
        shared_count += parts - classes.len();
        // The first pass's outbound parts take the scopes classing built;
        // the second's build them again.
        for pass in 0..2 {
            classes
                .each_proxy(|p, together| -> Result<(), ()> {
                    let i = session.mesh.resolve(&p.id, "default").unwrap();
                    let alone = session.generate(i).map(Resources::from_config);
                    assert!(
                        *together == alone,
                        "{paths:?}: {} differs when shared (pass {pass})",
                        p.id
                    );
                    Ok(())
                })
                .unwrap();
        }
    }
    assert!(shared_count > 0, "no two proxies shared a part");
    println!("diff: {shared_count} configuration parts were shared with another proxy");
}

/// Sidecars no Sidecar resource selects share one scope when every
/// namespace sees the same services and VirtualServices; one kept to its
/// namespace (teams-routes' VirtualServices) makes each build its own.
/// Either way, each gets what building its own gives, and reads what its
/// own reads (team-c's rule for team-a's api, kept to team-c, is written
/// for team-c's view alone).
#[test]
fn views_share_a_scope_only_when_every_namespace_sees_the_same() {
    use meshsim::registry::ProxyType;
    use meshsim::xds::generate::{ViewScopes, scope, view_reads, view_scope};
    let teams = "testdata/diff/teams";
    for (paths, alike) in [
        (vec![teams], true),
        (vec![teams, "testdata/diff/teams-routes"], false),
        (vec![SHOP], true),
    ] {
        let session = open(&paths);
        let ctx = session.context();
        assert_eq!(scope::same_in_every_namespace(&ctx), alike, "{paths:?}");
        let scopes = ViewScopes::new(&ctx);
        let mut compared = 0;
        for (i, _, kind) in session.mesh.proxies() {
            if kind == ProxyType::Sidecar {
                let (shared, alone) = (scopes.of(i), view_scope(&ctx, i));
                assert_eq!(format!("{shared:?}"), format!("{alone:?}"), "{paths:?}");
                // What it reads too, lines copied between namespaces or not.
                let (reads, own) = (scopes.reads(i, &shared), view_reads(&ctx, i, &alone));
                assert_eq!(reads.clusters_key, own.clusters_key, "{paths:?}");
                assert_eq!(reads.hosts, own.hosts, "{paths:?}");
                compared += 1;
            }
        }
        assert!(compared >= 3, "{paths:?}");
    }
}

/// Listener diffs show the tracing values naming each workload as
/// placeholders, so workloads group; a workload whose own values change is
/// compared with its real ones.
#[test]
fn workload_tracing_values_group_and_their_changes_show() {
    let tmp = TempDir::new("canonical");
    let new = tmp.0.join("shop");
    copy_dir(&Path::new(ROOT).join(SHOP), &new);
    let file = new.join("catalog.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    // The catalog-v1 pods' own revision: their canonical revision label.
    let edited = text.replacen(
        "        version: v1\n",
        "        version: v1\n        service.istio.io/canonical-revision: r7\n",
        1,
    );
    assert_ne!(text, edited, "catalog-v1's pod labels moved");
    std::fs::write(&file, edited).unwrap();
    let (code, json, err) = meshsim(&["diff", SHOP, new.to_str().unwrap(), "-o", "json"], &[]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let diffs = v["diffs"].as_array().unwrap();
    // Its endpoints changed for every client (they carry the labels); its
    // own listeners, for catalog-v1's sidecars alone.
    let groups = v["groups"].as_array().unwrap();
    let own: Vec<&serde_json::Value> = groups
        .iter()
        .filter(|g| {
            group_proxies(&v, g)
                .iter()
                .all(|p| p["id"].as_str().unwrap().starts_with("catalog-v1-"))
        })
        .collect();
    assert_eq!(own.len(), 1, "{json}");
    let listener = own[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "listener")
        .expect("a listener change");
    let diff = diffs[listener["diff"].as_u64().unwrap() as usize]
        .as_str()
        .unwrap();
    assert!(
        diff.contains("-                    \"value\": \"v1\""),
        "{diff}"
    );
    assert!(
        diff.contains("+                    \"value\": \"r7\""),
        "{diff}"
    );
    assert!(!diff.contains("{canonical_revision}"), "{diff}");
}

/// `--type` generates only the parts that can hold the types compared, and
/// reports what generating every part and filtering it reports.
#[test]
fn a_type_filter_generates_only_parts_holding_it() {
    let mut fewer = Vec::new();
    for overlay in ["catalog-policy", "sidecar-ingress", "catalog-scale"] {
        let old = open(&[SHOP]);
        let new = open(&[SHOP.to_string(), format!("testdata/diff/{overlay}")]);
        let all = meshsim::diff::diff(&old, &new, &Default::default());
        for t in ResourceType::ALL {
            let opts = |regenerate_all| meshsim::diff::Options {
                types: vec![t],
                regenerate_all,
                ..Default::default()
            };
            let full = meshsim::diff::diff(&old, &new, &opts(true));
            let fast = meshsim::diff::diff(&old, &new, &opts(false));
            let render = |r| output::render(r, output::Format::Json, false);
            assert_eq!(
                render(&fast),
                render(&full),
                "{overlay} --type {}",
                t.name()
            );
            if fast.generated < all.generated {
                fewer.push((overlay, t.name()));
            }
        }
    }
    // No clusters part holds a route, no outbound or own part an endpoint.
    for t in ["route", "endpoint"] {
        assert!(
            fewer.iter().any(|(_, n)| *n == t),
            "--type {t} generated as much as every type: {fewer:?}"
        );
    }
}

/// Parts no changed object reaches are not generated; the report is the
/// same as generating every part, on every bookinfo overlay and the shop.
#[test]
fn unreached_parts_are_not_regenerated_and_change_nothing() {
    let overlay = |dir: &str| -> (String, Vec<PathBuf>, Vec<PathBuf>) {
        let new = vec![PathBuf::from(SHOP), PathBuf::from(dir)];
        (dir.into(), vec![PathBuf::from(SHOP)], new)
    };
    let mut sides = vec![
        overlay("testdata/diff/catalog-50-50"),
        overlay("testdata/diff/payments-policy"),
        overlay("testdata/diff/catalog-scale"),
        overlay("testdata/diff/catalog-policy"),
        overlay("testdata/diff/sidecar-egress"),
        overlay("testdata/diff/sidecar-ingress"),
    ];
    let focus_base = [SHOP, "testdata/diff/focus/base"]
        .map(PathBuf::from)
        .to_vec();
    for change in ["hash", "shared-domain", "taken-address"] {
        let mut new = focus_base.clone();
        new.push(format!("testdata/diff/focus/{change}").into());
        sides.push((change.into(), focus_base.clone(), new));
    }
    if let Some(shared) = shared() {
        for r in common::bookinfo_revisions(&shared.join("corpus/istio-bookinfo")) {
            if r.overlay.is_some() {
                sides.push((r.name.clone(), r.before.clone(), r.paths()));
            }
        }
    }
    let (mut generated, mut focused, mut reused_hosts) = ((0, 0), 0, 0);
    for (name, old, new) in sides {
        let (old, new) = (open(&old), open(&new));
        let all = meshsim::diff::Options {
            regenerate_all: true,
            ..Default::default()
        };
        let full = meshsim::diff::diff(&old, &new, &all);
        let fast = meshsim::diff::diff(&old, &new, &Default::default());
        let render = |r| output::render(r, output::Format::Json, false);
        assert_eq!(render(&fast), render(&full), "{name}");
        generated.0 += full.generated;
        generated.1 += fast.generated;
        focused += fast.focused;
        reused_hosts += fast.reused_hosts;
    }
    assert!(
        generated.1 < generated.0,
        "nothing was skipped: {generated:?}"
    );
    assert!(focused > 0, "no part was generated in focus");
    println!(
        "diff: {} of {} part pairs generated when unreached ones are skipped, {focused} of them for the changed hosts only, {reused_hosts} virtual hosts taken from an earlier comparison",
        generated.1, generated.0
    );
}
