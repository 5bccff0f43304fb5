//! What several integration tests share: the bookinfo revisions of
//! ../shared/corpus/istio-bookinfo/overlays.yaml, and reviewed snapshots.

use std::path::{Path, PathBuf};

/// One bookinfo revision: its group's base directory and the overlays it
/// requires (`before`), then its own overlay (none for a base).
pub struct Revision {
    pub name: String,
    /// `base/` or `base-gateway-api/`.
    pub group: String,
    pub before: Vec<PathBuf>,
    pub overlay: Option<PathBuf>,
}

impl Revision {
    /// Every path of the revision, in load order.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.before
            .iter()
            .cloned()
            .chain(self.overlay.clone())
            .collect()
    }
}

/// Each group's base, then base plus each overlay with the overlays it
/// requires, in order. `root` is kept as given (relative paths stay
/// relative, so diagnostics and diffs name files stably).
pub fn bookinfo_revisions(root: &Path) -> Vec<Revision> {
    let text = std::fs::read_to_string(root.join("overlays.yaml")).expect("overlays.yaml");
    let index: serde_json::Value =
        meshsim::load::yaml::decode_text(&text, &mut |_| {}).expect("overlays.yaml parses");
    let mut out = Vec::new();
    for group in index["groups"].as_array().into_iter().flatten() {
        let base = group["base"].as_str().unwrap_or_default().to_string();
        out.push(Revision {
            name: "base".to_string(),
            group: base.clone(),
            before: vec![root.join(&base)],
            overlay: None,
        });
        for o in group["overlays"].as_array().into_iter().flatten() {
            let mut before = vec![root.join(&base)];
            let overlays = Path::new(o["dir"].as_str().unwrap_or_default())
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for r in o["requires"].as_array().into_iter().flatten() {
                before.push(root.join(&overlays).join(r.as_str().unwrap_or_default()));
            }
            out.push(Revision {
                name: o["name"].as_str().unwrap_or_default().to_string(),
                group: base.clone(),
                before,
                overlay: Some(root.join(o["dir"].as_str().unwrap_or_default())),
            });
        }
    }
    out
}

/// Assert `text` against the reviewed snapshot `snapshots/NAME.snap`.
pub fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}
