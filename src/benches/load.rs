//! Load benchmark: `meshsim proxies` on a generated mesh against
//! ../shared/bench/parse-baseline (read and parse the same YAML, nothing else).
//!
//! `cargo bench --bench load [-- SERVICES [STYLE]]` (default 10000 dump).
//! Both programs run as processes on the same files; each is timed several
//! times and the fastest run counts, which is the least noisy figure on a
//! shared machine. Peak memory comes from GNU time when it is installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn run(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        status.success() || status.code() == Some(2),
        "{cmd:?} failed: {status}"
    );
    start.elapsed()
}

fn fastest(mut make: impl FnMut() -> Command) -> Duration {
    (0..RUNS)
        .map(|_| run(&mut make()))
        .min()
        .unwrap_or_default()
}

/// Peak resident memory in MiB, via GNU time's %M (KiB).
fn peak_mib(program: &Path, args: &[&str]) -> Option<f64> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let kib: f64 = text.lines().last()?.trim().parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/bench");
    if !shared.is_dir() {
        println!("SKIPPED: ../shared/bench is not present");
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let services = args.first().map(String::as_str).unwrap_or("10000");
    let style = args.get(1).map(String::as_str).unwrap_or("dump");
    let work = std::env::temp_dir().join("meshsim-bench");
    let mesh: PathBuf = work.join(format!("mesh-{services}-{style}"));
    if !mesh.is_dir() {
        let ok = Command::new("python3")
            .arg(shared.join("gen-mesh.py"))
            .args(["--services", services, "--style", style, "--out"])
            .arg(&mesh)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "gen-mesh.py failed");
    }
    let baseline_target = work.join("baseline-target");
    let built = Command::new("cargo")
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(shared.join("parse-baseline/Cargo.toml"))
        .arg("--target-dir")
        .arg(&baseline_target)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(built, "parse-baseline did not build");
    let baseline = baseline_target.join("release/parse-baseline");
    let meshsim = PathBuf::from(env!("CARGO_BIN_EXE_meshsim"));
    let mesh_str = mesh.display().to_string();

    let t_base = fastest(|| {
        let mut c = Command::new(&baseline);
        c.arg(&mesh);
        c
    });
    let ms_args = ["proxies", "-q", "-f", mesh_str.as_str()];
    let t_ms = fastest(|| {
        let mut c = Command::new(&meshsim);
        c.args(ms_args);
        c
    });
    let bytes: u64 = std::fs::read_dir(&mesh)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    println!(
        "mesh: {services} services ({style}), {:.1} MB in {}",
        bytes as f64 / 1e6,
        mesh.display()
    );
    println!("parse-baseline:   {:>8.1} ms", t_base.as_secs_f64() * 1e3);
    println!("meshsim proxies:  {:>8.1} ms", t_ms.as_secs_f64() * 1e3);
    println!(
        "ratio:            {:>8.2}x  (target: at most 1.5x)",
        t_ms.as_secs_f64() / t_base.as_secs_f64()
    );
    match (
        peak_mib(&baseline, &[mesh_str.as_str()]),
        peak_mib(&meshsim, &ms_args),
    ) {
        (Some(b), Some(m)) => println!("peak memory:      baseline {b:.0} MiB, meshsim {m:.0} MiB"),
        _ => println!("peak memory:      unavailable (GNU time not installed)"),
    }
}
