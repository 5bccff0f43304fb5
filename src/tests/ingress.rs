//! Ingress translation against istiod's goldens
//! (../shared/conformance/istio-pilot/ingress), byte for byte.

use std::path::Path;

use meshsim::diag::Diagnostics;
use meshsim::load::{self, Loaded};
use meshsim::model;
use meshsim::registry::translate::ingress::{self, IngressOptions};
use meshsim::render::translate::objects_yaml;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn istiod_ingress_goldens() {
    let dir = Path::new(ROOT).join("../shared/conformance/istio-pilot/ingress");
    if !dir.is_dir() {
        println!(
            "SKIPPED: ../shared is not present beside the checkout; Ingress conformance did not run"
        );
        return;
    }
    // The harness: mode DEFAULT, no ingress class, suffix `mydomain`.
    let opts = IngressOptions {
        mode: "DEFAULT".to_string(),
        class: String::new(),
        ..IngressOptions::default()
    };
    let mut failed = Vec::new();
    for case in ["simple", "tls", "overlay", "tls-no-secret"] {
        let mut diags = Diagnostics::default();
        let mut loaded = Loaded::default();
        let text = std::fs::read_to_string(dir.join(format!("{case}.yaml"))).expect("case input");
        load::load_text(Path::new("case.yaml").into(), text, &mut loaded, &mut diags);
        let store = model::build(&loaded.documents, &Default::default(), &mut diags);
        let ours = objects_yaml(&ingress::translate(&store, &opts, "mydomain", &mut diags));
        let golden =
            std::fs::read_to_string(dir.join(format!("{case}.yaml.golden"))).expect("golden");
        let ok = ours == golden;
        println!("{case:<16} {}", if ok { "PASS" } else { "FAIL" });
        if !ok {
            failed.push(format!("{case}:\n--- ours\n{ours}--- golden\n{golden}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
