//! istioctl conformance: every line of
//! ../shared/conformance/istioctl/CASES.tsv runs the `meshsim` binary on an
//! Envoy dump and compares its output with istioctl's golden, the way the
//! line's `compare` column says. Plus insta snapshots of every table kind on
//! meshsim's own dumps in testdata/dumps/.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Cases known not to pass, with the reason; they still run and are reported.
const KNOWN_GAPS: &[(&str, &str)] = &[];

fn conformance_dir() -> Option<PathBuf> {
    let dir = Path::new(ROOT).join("../shared/conformance/istioctl");
    if dir.join("CASES.tsv").is_file() {
        Some(dir)
    } else {
        println!(
            "SKIPPED: {} is missing (../shared is not checked out beside this crate); \
             the istioctl conformance cases did not run",
            dir.display()
        );
        None
    }
}

struct Case {
    id: String,
    args: Vec<String>,
    expected: String,
    compare: String,
    notes: String,
}

fn read_cases(dir: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join("CASES.tsv")).expect("read CASES.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let col = |i: usize| cols.get(i).copied().unwrap_or("").to_string();
            Case {
                id: col(0),
                args: col(2)
                    .split(' ')
                    .filter(|a| !a.is_empty())
                    .map(String::from)
                    .collect(),
                expected: col(3),
                compare: col(4),
                notes: col(6),
            }
        })
        .collect()
}

/// The start of a `clock=A..B` window in the notes: a "now" inside it.
fn clock(notes: &str) -> Option<&str> {
    let rest = notes.split("clock=").nth(1)?;
    rest.split("..").next()
}

/// Run one case; `Err` says how it failed.
fn run_case(dir: &Path, case: &Case) -> Result<(), String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshsim"));
    cmd.current_dir(dir).args(&case.args);
    if let Some(now) = clock(&case.notes) {
        cmd.args(["--now", now]);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run meshsim: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if let Some(text) = case.compare.strip_prefix("error-contains:") {
        if output.status.success() {
            return Err(format!("expected failure, got success; stdout:\n{stdout}"));
        }
        if !stderr.contains(text) {
            return Err(format!("stderr lacks {text:?}:\n{stderr}"));
        }
        return Ok(());
    }
    if !output.status.success() {
        return Err(format!(
            "exit {:?}; stderr:\n{stderr}",
            output.status.code()
        ));
    }
    let want = std::fs::read_to_string(dir.join(&case.expected))
        .map_err(|e| format!("cannot read {}: {e}", case.expected))?;
    let same = match case.compare.as_str() {
        "exact" => stdout == want,
        "trimspace" => stdout.trim() == want.trim(),
        "json" => {
            let got: Result<serde_json::Value, _> = serde_json::from_str(&stdout);
            let want: Result<serde_json::Value, _> = serde_json::from_str(&want);
            matches!((got, want), (Ok(a), Ok(b)) if a == b)
        }
        other => return Err(format!("unknown compare mode {other:?}")),
    };
    if same {
        Ok(())
    } else {
        let diff = similar::TextDiff::from_lines(want.as_str(), &*stdout)
            .unified_diff()
            .header("expected", "meshsim")
            .to_string();
        Err(format!("output differs ({}):\n{diff}", case.compare))
    }
}

#[test]
fn istioctl_conformance() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let cases = read_cases(&dir);
    let mut passed: Vec<&str> = Vec::new();
    let mut failures = Vec::new();
    let mut gaps = Vec::new();
    for case in &cases {
        let gap = KNOWN_GAPS.iter().find(|(id, _)| *id == case.id);
        match (run_case(&dir, case), gap) {
            (Ok(()), None) => passed.push(&case.id),
            (Ok(()), Some(_)) => {
                passed.push(&case.id);
                println!(
                    "NOTE: known gap {} passes now; take it off KNOWN_GAPS",
                    case.id
                );
            }
            (Err(e), None) => failures.push(format!("--- {} ---\n{e}", case.id)),
            (Err(_), Some((id, why))) => gaps.push(format!("{id}: {why}")),
        }
    }
    let mut by_kind = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    for case in &cases {
        let kind = case.compare.split(':').next().unwrap_or("");
        let entry = by_kind.entry(kind).or_default();
        entry.1 += 1;
        if passed.contains(&case.id.as_str()) {
            entry.0 += 1;
        }
    }
    println!(
        "istioctl conformance: {}/{} cases pass",
        passed.len(),
        cases.len()
    );
    for (kind, (ok, total)) in &by_kind {
        println!("  {kind}: {ok}/{total}");
    }
    for gap in &gaps {
        println!("  known gap: {gap}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every table kind (and the JSON/YAML encoders) on meshsim's own dumps:
/// a sidecar (with a 13-chain listener whose rows tie on DESTINATION, so
/// Go's unstable sort order shows) and a gateway (with non-ASCII cells).
#[test]
fn snapshots_of_own_dumps() {
    const NOW: &str = "2025-03-01T12:00:00Z";
    let cases: &[(&str, &str, &[&str])] = &[
        ("sidecar-all", "sidecar.json", &["all"]),
        (
            "sidecar-all-headers-summary",
            "sidecar.json",
            &["all", "--with-headers", "--verbose=false"],
        ),
        ("sidecar-cluster", "sidecar.json", &["cluster"]),
        (
            "sidecar-cluster-filtered",
            "sidecar.json",
            &["cluster", "--fqdn", "reviews", "--port", "9080"],
        ),
        ("sidecar-listener", "sidecar.json", &["listener"]),
        (
            "sidecar-listener-summary",
            "sidecar.json",
            &["listener", "--verbose=false"],
        ),
        (
            "sidecar-listener-port",
            "sidecar.json",
            &["listener", "--port", "15006", "--type", "http+tcp"],
        ),
        ("sidecar-route", "sidecar.json", &["route"]),
        (
            "sidecar-route-summary",
            "sidecar.json",
            &["route", "--verbose=false"],
        ),
        (
            "sidecar-route-json",
            "sidecar.json",
            &["route", "--name", "15010", "-o", "json"],
        ),
        ("sidecar-eds", "sidecar.json", &["eds"]),
        (
            "sidecar-eds-yaml",
            "sidecar.json",
            &[
                "eds",
                "--cluster",
                "outbound|53||kube-dns.kube-system.svc.cluster.local",
                "-o",
                "yaml",
            ],
        ),
        ("sidecar-endpoint", "sidecar-clusters.json", &["endpoint"]),
        (
            "sidecar-endpoint-json",
            "sidecar-clusters.json",
            &["endpoint", "--status", "unhealthy", "-o", "json"],
        ),
        ("sidecar-secret", "sidecar.json", &["secret"]),
        (
            "sidecar-bootstrap",
            "sidecar.json",
            &["bootstrap", "-o", "short"],
        ),
        ("sidecar-bootstrap-json", "sidecar.json", &["bootstrap"]),
        ("sidecar-ecds", "sidecar.json", &["ecds"]),
        ("sidecar-ecds-json", "sidecar.json", &["ecds", "-o", "json"]),
        ("sidecar-ecds-yaml", "sidecar.json", &["ecds", "-o", "yaml"]),
        ("gateway-all", "gateway.json", &["all"]),
        (
            "gateway-cluster-json",
            "gateway.json",
            &["cluster", "--fqdn", "café", "-o", "json"],
        ),
        ("gateway-listener", "gateway.json", &["listener"]),
        ("gateway-route", "gateway.json", &["route"]),
        (
            "gateway-eds",
            "gateway.json",
            &["eds", "--address", "10.244.3.42:8080"],
        ),
        ("gateway-secret", "gateway.json", &["secret"]),
    ];
    let dumps = Path::new(ROOT).join("testdata/dumps");
    for (name, file, args) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_meshsim"))
            .arg("proxy-config")
            .args(*args)
            .arg("-f")
            .arg(dumps.join(file))
            .args(["--now", NOW])
            .output()
            .expect("run meshsim");
        let stdout = String::from_utf8(output.stdout).expect("utf-8");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stderr}");
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
            prepend_module_to_snapshot => false,
            description => format!("meshsim proxy-config {} -f testdata/dumps/{file}", args.join(" ")),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("istioctl-{name}"), stdout);
        });
    }
}
