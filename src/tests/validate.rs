//! `meshsim validate`: Istio's own CRD-validation cases
//! (../shared/corpus/istio-testdata/crd-validation, scored per object), a
//! scenario of our own with its messages snapshotted, and every testdata
//! mesh validating clean.

mod common;

use std::path::{Path, PathBuf};

use meshsim::cli::{ExitStatus, run};
use meshsim::load::{Format, split_documents};
use serde_json::Value;

/// `meshsim validate ARGS` in-process: exit status, stdout, stderr.
fn validate(args: &[&str]) -> (ExitStatus, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = ["meshsim", "validate"].iter().chain(args);
    let status = run(argv.copied(), &mut out, &mut err);
    (
        status,
        String::from_utf8(out).expect("utf-8 stdout"),
        String::from_utf8(err).expect("utf-8 stderr"),
    )
}

/// One snapshot holds the command, its exit status and both streams.
fn snap(name: &str, args: &[&str]) -> ExitStatus {
    let (status, stdout, stderr) = validate(args);
    common::snapshot(
        name,
        &format!(
            "$ meshsim validate {}\nexit: {}\n----- stdout -----\n{stdout}----- stderr -----\n{stderr}",
            args.join(" "),
            status as u8
        ),
    );
    status
}

#[test]
fn scenario_messages_and_exit_codes() {
    let status = snap("validate_objects", &["-f", "testdata/validate/objects"]);
    assert_eq!(status, ExitStatus::Findings);
    let status = snap("validate_revision", &["-f", "testdata/validate/revision"]);
    assert_eq!(status, ExitStatus::Findings);
}

#[test]
fn json_names_the_judge_and_the_denial() {
    let (status, stdout, _) = validate(&["-o", "json", "-f", "testdata/validate/revision"]);
    assert_eq!(status, ExitStatus::Findings);
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["validated"], 3);
    assert_eq!(report["rejected"], 2);
    let by_name = |name: &str| {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("no verdict for {name}"))
            .clone()
    };
    let canary = by_name("canary-deny");
    assert_eq!(canary["rejected_by"], "webhook");
    assert_eq!(canary["webhook"], "rev.validation.istio.io");
    assert!(
        canary["denial"]
            .as_str()
            .unwrap()
            .starts_with("admission webhook \"rev.validation.istio.io\" denied the request: configuration is invalid: invalid policy canary-deny.shop: DENY action without `rules`")
    );
    let unlabelled = by_name("unlabelled-deny");
    assert_eq!(unlabelled["webhook"], Value::Null);
    assert_eq!(unlabelled["errors"].as_array().unwrap().len(), 0);
    let bad = by_name("bad-action");
    assert_eq!(bad["rejected_by"], "schema");
    assert!(bad["denial"].as_str().unwrap().starts_with(
        "The AuthorizationPolicy \"bad-action\" is invalid: spec.action: Unsupported value"
    ));
}

#[test]
fn testdata_meshes_validate_clean() {
    for mesh in ["shop", "gateway", "sidecar", "seed", "export"] {
        let dir = format!("testdata/{mesh}");
        let (status, stdout, stderr) = validate(&["-q", "-f", &dir]);
        assert_eq!(status, ExitStatus::Success, "{dir}:\n{stdout}{stderr}");
        assert!(stdout.contains(" 0 rejected"), "{dir}: {stdout}");
    }
}

/// A document of a crd-validation file: its first line in the copy we
/// write, its name, and the message upstream expects (`_err`) if invalid.
struct Case {
    line: usize,
    name: String,
    want: Option<String>,
}

/// Upstream's counts: every invalid object rejected, every valid one
/// accepted (`serviceentry-valid.yaml` `full` holds `[1.2.3.4, 001:db8::]`,
/// which only a reader that parses flow scalars as Go does accepts).
const INVALID: usize = 77;
const VALID: usize = 35;

/// Copy `src` into `dst` without the `_err` lines (upstream strips them
/// before validating too); returns the cases of its documents.
fn strip_expectations(src: &Path, dst: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(src).expect("corpus file");
    let mut out = String::new();
    let mut cases = Vec::new();
    for (_, range) in split_documents(&text, Format::Yaml) {
        let doc = &text[range];
        let mut want = None;
        let mut kept = String::new();
        for line in doc.lines() {
            match line.strip_prefix("_err:") {
                Some(v) => {
                    want = Some(v.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
                }
                None => {
                    kept.push_str(line);
                    kept.push('\n');
                }
            }
        }
        if !kept.lines().any(|l| l.starts_with("kind:")) {
            continue;
        }
        let name = kept
            .lines()
            .find_map(|l| l.trim().strip_prefix("name: "))
            .unwrap_or_default()
            .to_string();
        out.push_str("---\n");
        // The object's header starts after the separator and any comments.
        let first = kept
            .lines()
            .position(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
            .unwrap_or(0);
        cases.push(Case {
            line: out.lines().count() + 1 + first,
            name,
            want,
        });
        out.push_str(&kept);
    }
    std::fs::write(dst, out).expect("write the stripped copy");
    cases
}

#[test]
fn istio_crd_validation_cases() {
    let Some(shared) = common::shared() else {
        return;
    };
    let corpus = shared.join("corpus/istio-testdata/crd-validation");
    let work: PathBuf =
        std::env::temp_dir().join(format!("meshsim-crd-validation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("crd-validation")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let (mut invalid, mut valid, mut messages) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut unmatched = Vec::new();
    for group in ["invalid", "valid"] {
        let dir = work.join(group);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut cases = Vec::new();
        for f in files.iter().filter(|f| {
            f.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s.ends_with(&format!("-{group}")))
        }) {
            let file = f.file_name().unwrap().to_str().unwrap().to_string();
            for case in strip_expectations(f, &dir.join(&file)) {
                cases.push((file.clone(), case));
            }
        }
        let (status, stdout, stderr) = validate(&["-q", "-o", "json", "-f", dir.to_str().unwrap()]);
        let report: Value = serde_json::from_str(&stdout).expect("JSON report");
        for (file, case) in &cases {
            let at = format!("{}:{}", dir.join(file).display(), case.line);
            let verdict = report["objects"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["span"] == at.as_str());
            let Some(verdict) = verdict else {
                failures.push(format!("{file} {}: no verdict at {at}", case.name));
                continue;
            };
            let errors: Vec<&str> = verdict["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
                .collect();
            match (&case.want, errors.is_empty()) {
                (Some(_), true) => failures.push(format!(
                    "{file} {}: accepted, upstream rejects it",
                    case.name
                )),
                (None, false) => {
                    failures.push(format!("{file} {}: rejected: {errors:?}", case.name))
                }
                (Some(want), false) => {
                    invalid += 1;
                    if errors.iter().any(|e| e.contains(want.as_str())) {
                        messages += 1;
                    } else {
                        unmatched.push(format!(
                            "{file} {}: want {want:?}, got {errors:?}",
                            case.name
                        ));
                    }
                }
                (None, true) => valid += 1,
            }
        }
        let want_status = if group == "invalid" {
            ExitStatus::Findings
        } else {
            ExitStatus::Success
        };
        assert_eq!(status, want_status, "{group}: exit status\n{stderr}");
    }
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "crd-validation: {invalid} invalid objects rejected ({messages} with upstream's message), {valid} valid objects accepted"
    );
    assert!(
        failures.is_empty(),
        "crd-validation verdicts:\n{}",
        failures.join("\n")
    );
    assert!(
        unmatched.is_empty(),
        "crd-validation messages:\n{}",
        unmatched.join("\n")
    );
    assert_eq!((invalid, valid), (INVALID, VALID));
}
