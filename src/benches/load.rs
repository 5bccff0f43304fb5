//! Load benchmark: `meshsim proxies` on a generated mesh against
//! ../shared/bench/parse-baseline (read and parse the same YAML, nothing else).
//!
//! `cargo bench --bench load [-- SERVICES [STYLE]]` (default 10000 dump).
//! Both programs run as processes on the same files; each is timed several
//! times and the fastest run counts. Peak memory comes from GNU time when it
//! is installed.

mod common;

fn main() {
    let Some(setup) = common::setup(false) else {
        return;
    };
    let mesh = setup.mesh.display().to_string();
    setup.compare("proxies", &["proxies", "-q", "-f", &mesh], 1.5);
}
