//! Diff benchmark: `meshsim diff a b` on the two revisions
//! `gen-mesh.py --revisions` writes (b: weights moved, a subset added,
//! services added and removed, a Sidecar changed), against
//! ../shared/bench/parse-baseline reading both trees together.
//!
//! `cargo bench --bench diff [-- SERVICES [STYLE]]` (default 10000 dump).

mod common;

fn main() {
    let Some(setup) = common::setup(true) else {
        return;
    };
    let a = setup.mesh.join("a").display().to_string();
    let b = setup.mesh.join("b").display().to_string();
    setup.compare("diff a b", &["diff", "-q", "-o", "json", &a, &b], 3.0);
}
