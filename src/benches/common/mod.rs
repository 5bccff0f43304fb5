//! What the benchmarks share: running a program the fastest of several
//! times, its peak memory, the generated mesh and the parse baseline.

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
    // 1 is `diff`'s "changes found"; 2 an input error the bench reports.
    assert!(
        status.success() || matches!(status.code(), Some(1 | 2)),
        "{cmd:?} failed: {status}"
    );
    start.elapsed()
}

/// The fastest of several runs: the least noisy figure on a shared machine.
pub fn fastest(mut make: impl FnMut() -> Command) -> Duration {
    (0..RUNS)
        .map(|_| run(&mut make()))
        .min()
        .unwrap_or_default()
}

/// Peak resident memory in MiB, via GNU time's %M (KiB).
pub fn peak_mib(program: &Path, args: &[&str]) -> Option<f64> {
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

/// The bench inputs: a generated mesh and the built parse baseline.
pub struct Setup {
    pub mesh: PathBuf,
    pub baseline: PathBuf,
    pub services: String,
    pub style: String,
}

/// `[SERVICES [STYLE]]` from the command line (default 10000 dump); None
/// when ../shared/bench is absent. With `revisions`, the mesh is written
/// by `gen-mesh.py --revisions`: its directory holds `a` and `b`, b a
/// small edit of a.
pub fn setup(revisions: bool) -> Option<Setup> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/bench");
    if !shared.is_dir() {
        println!("SKIPPED: ../shared/bench is not present");
        return None;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let services = args.first().cloned().unwrap_or_else(|| "10000".into());
    let style = args.get(1).cloned().unwrap_or_else(|| "dump".into());
    let work = std::env::temp_dir().join("meshsim-bench");
    let suffix = if revisions { "-rev" } else { "" };
    let mesh: PathBuf = work.join(format!("mesh-{services}-{style}{suffix}"));
    if !mesh.is_dir() {
        let ok = Command::new("python3")
            .arg(shared.join("gen-mesh.py"))
            .args(["--services", &services, "--style", &style, "--out"])
            .arg(&mesh)
            .args(revisions.then_some("--revisions"))
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
    Some(Setup {
        mesh,
        baseline: baseline_target.join("release/parse-baseline"),
        services,
        style,
    })
}

impl Setup {
    /// Size of the mesh's files (both revisions' for a revision mesh).
    pub fn megabytes(&self) -> f64 {
        fn bytes(dir: &Path) -> u64 {
            std::fs::read_dir(dir)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => bytes(&e.path()),
                            Ok(m) => m.len(),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        bytes(&self.mesh) as f64 / 1e6
    }

    /// Time meshsim with `args` against the baseline and print the ratio.
    pub fn compare(&self, label: &str, args: &[&str], target: f64) {
        let meshsim = PathBuf::from(env!("CARGO_BIN_EXE_meshsim"));
        let mesh_str = self.mesh.display().to_string();
        let t_base = fastest(|| {
            let mut c = Command::new(&self.baseline);
            c.arg(&self.mesh);
            c
        });
        let t_ms = fastest(|| {
            let mut c = Command::new(&meshsim);
            c.args(args);
            c
        });
        println!(
            "mesh: {} services ({}), {:.1} MB in {}",
            self.services,
            self.style,
            self.megabytes(),
            self.mesh.display()
        );
        println!("parse-baseline:   {:>8.1} ms", t_base.as_secs_f64() * 1e3);
        println!("meshsim {label}:  {:>8.1} ms", t_ms.as_secs_f64() * 1e3);
        println!(
            "ratio:            {:>8.2}x  (target: at most {target}x)",
            t_ms.as_secs_f64() / t_base.as_secs_f64()
        );
        match (
            peak_mib(&self.baseline, &[mesh_str.as_str()]),
            peak_mib(&meshsim, args),
        ) {
            (Some(b), Some(m)) => {
                println!("peak memory:      baseline {b:.0} MiB, meshsim {m:.0} MiB")
            }
            _ => println!("peak memory:      unavailable (GNU time not installed)"),
        }
    }
}
