//! Benchmark: parsing and rendering the largest config dump of the istioctl
//! conformance set (`proxy-config all`, and `eds -o json`), against plain
//! `serde_json::from_str::<Value>` of the same text. Prints the ratios; the
//! target is under 2x. Minimum of many runs, as wall clocks here are noisy.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use meshsim::render::istioctl::{self, Input, Options, Output, View};

const REPS: usize = 200;

fn largest_dump(dir: &Path) -> Option<PathBuf> {
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        if !text.contains("\"configs\"") {
            continue;
        }
        let size = text.len() as u64;
        if best.as_ref().is_none_or(|(s, _)| size > *s) {
            best = Some((size, path.to_path_buf()));
        }
    }
    best.map(|(_, p)| p)
}

fn min_time(mut f: impl FnMut()) -> Duration {
    (0..REPS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/istioctl");
    let Some(path) = largest_dump(&dir) else {
        println!(
            "SKIPPED: no config dump under {} (../shared missing)",
            dir.display()
        );
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read dump");
    println!("dump: {} ({} bytes)", path.display(), text.len());
    let parse = min_time(|| {
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        std::hint::black_box(v);
    });
    println!("serde_json::Value parse: {parse:?}");
    let now = istioctl::cert::parse_rfc3339("2025-01-01T00:00:00Z").unwrap_or(0);
    for (label, view, output) in [
        ("all (tables)", View::All, Output::Short),
        ("eds -o json", View::Eds, Output::Json),
    ] {
        let opts = Options {
            output,
            now,
            ..Options::default()
        };
        let render = min_time(|| {
            let mut out = String::new();
            // Sections missing from a dump end `all` early; that is still its cost.
            let _ = istioctl::render(Input::ConfigDump(&text), view, &opts, &mut out);
            std::hint::black_box(out);
        });
        let ratio = render.as_secs_f64() / parse.as_secs_f64();
        println!("parse + render {label}: {render:?}  ratio {ratio:.2}x (target < 2x)");
    }
}
