//! `meshsim snapshot`: every proxy's resources as files, one per proxy
//! (`DIR/<namespace>/<pod>.json`), and read back for `--check`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::registry::ProxyType;

use super::resources::Resources;
use super::share::{Classes, PartHosts, PartKind, ProxyEntry, Side};

/// The file of one proxy under `dir`.
fn file_of(dir: &Path, namespace: &str, id: &str) -> PathBuf {
    let name = id.strip_suffix(&format!(".{namespace}")).unwrap_or(id);
    dir.join(namespace).join(format!("{name}.json"))
}

/// Write every proxy of `classes` under `dir` (each part generated once),
/// and remove the files of proxies that no longer exist, so the directory
/// is exactly the mesh. Returns how many files were written.
pub fn write(dir: &Path, classes: &Classes) -> std::io::Result<usize> {
    let mut written = BTreeSet::new();
    classes.each_proxy(|p, resources| -> std::io::Result<()> {
        let file = file_of(dir, &p.namespace, &p.id);
        let mut text = serde_json::to_string_pretty(&document(p, resources))?;
        text.push('\n');
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Unchanged files are left alone (their times too).
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&file, text)?;
        }
        written.insert(file);
        Ok(())
    })?;
    for stale in snapshot_files(dir)? {
        if !written.contains(&stale) {
            std::fs::remove_file(&stale)?;
        }
    }
    Ok(written.len())
}

/// One proxy's file: `proxy`, `type`, then its resources by type, or
/// `error` when it has none.
fn document(p: &ProxyEntry, resources: &Result<Resources, String>) -> Value {
    let mut doc = Map::new();
    doc.insert("proxy".into(), json!(p.id));
    doc.insert("type".into(), json!(p.kind.as_str()));
    match resources {
        Ok(r) => {
            if let Value::Object(m) = r.to_json() {
                doc.extend(m);
            }
        }
        Err(e) => {
            doc.insert("error".into(), json!(e));
        }
    }
    Value::Object(doc)
}

/// `DIR/*/*.json`, sorted.
fn snapshot_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for ns in std::fs::read_dir(dir)? {
        let ns = ns?.path();
        if !ns.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&ns)? {
            let f = f?.path();
            if f.extension().is_some_and(|e| e == "json") {
                out.push(f);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A snapshot directory as a side: one class per file, read when compared.
pub struct Snapshot {
    proxies: BTreeMap<String, ProxyEntry>,
    files: Vec<PathBuf>,
}

/// One file: its proxy and its resources.
fn read_file(file: &Path) -> Result<(ProxyEntry, Result<Resources, String>), String> {
    let bad = |why: String| format!("{}: {why}", file.display());
    let text = std::fs::read_to_string(file).map_err(|e| bad(e.to_string()))?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let m = doc
        .as_object_mut()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let mut field = |k: &str| match m.shift_remove(k) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let id = field("proxy").ok_or_else(|| bad("no `proxy`".into()))?;
    let kind = match field("type").as_deref() {
        Some("sidecar") => ProxyType::Sidecar,
        Some("router") => ProxyType::Router,
        other => return Err(bad(format!("unknown proxy type {other:?}"))),
    };
    let error = field("error");
    let namespace = file
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let resources = match error {
        Some(e) => Err(e),
        None => Ok(Resources::from_json(&doc).map_err(bad)?),
    };
    let entry = ProxyEntry {
        id,
        namespace,
        kind,
        parts: Vec::new(),
        names: None,
    };
    Ok((entry, resources))
}

/// Open a snapshot directory; every file is checked here, so a broken one
/// is an error before anything is compared.
pub fn read(dir: &Path) -> Result<Snapshot, String> {
    if !dir.is_dir() {
        return Err(format!("{}: no snapshot directory", dir.display()));
    }
    let files = snapshot_files(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut proxies = BTreeMap::new();
    for (class, file) in files.iter().enumerate() {
        let (entry, _) = read_file(file)?;
        proxies.insert(
            entry.id.clone(),
            ProxyEntry {
                parts: vec![class],
                ..entry
            },
        );
    }
    Ok(Snapshot { proxies, files })
}

impl Side for Snapshot {
    fn proxies(&self) -> &BTreeMap<String, ProxyEntry> {
        &self.proxies
    }

    fn part_kind(&self, _: usize) -> PartKind {
        PartKind::Whole
    }

    fn part_key(&self, _: usize) -> Option<&str> {
        None
    }

    fn part_hosts(&self, _: usize) -> PartHosts<'_> {
        PartHosts::default()
    }

    fn part_sds(&self, _: usize) -> Option<Vec<String>> {
        None
    }

    fn resources(&self, file: usize) -> Result<Resources, String> {
        read_file(&self.files[file])?.1
    }
}
