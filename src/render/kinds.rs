//! `meshsim kinds`: the modelled kinds and what meshsim does with each.

use crate::model::{Effect, KINDS, Scope};

pub fn render_kinds() -> String {
    let mut table = super::table::plain(vec![
        "GROUP",
        "KIND",
        "VERSIONS",
        "SCOPE",
        "EFFECT",
        "WHAT MESHSIM DOES",
    ]);
    for k in KINDS {
        table.add_row([
            if k.group.is_empty() { "core" } else { k.group },
            k.kind,
            &k.versions.join(","),
            match k.scope {
                Scope::Namespaced => "Namespaced",
                Scope::Cluster => "Cluster",
            },
            match k.effect {
                Effect::Used => "used",
                Effect::NotYet => "not yet",
                Effect::NoEffect => "none",
            },
            k.note,
        ]);
    }
    super::table::finish(table)
}
