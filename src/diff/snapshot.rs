//! `meshsim snapshot`: every proxy's resources as files, one per proxy
//! (`DIR/<namespace>/<pod>.json`), and read back for `--check`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::registry::ProxyType;

use super::ProxyRef;
use super::resources::Resources;
use super::share::Generated;

/// The file of one proxy under `dir`.
fn file_of(dir: &Path, p: &ProxyRef) -> PathBuf {
    let name =
        p.id.strip_suffix(&format!(".{}", p.namespace))
            .unwrap_or(&p.id);
    dir.join(&p.namespace).join(format!("{name}.json"))
}

/// Write every proxy of `side` under `dir`, and remove the files of
/// proxies that no longer exist, so the directory is exactly the mesh.
/// Returns how many files were written.
pub fn write(dir: &Path, side: &Generated) -> std::io::Result<usize> {
    let mut written = std::collections::BTreeSet::new();
    for p in side.proxies.values() {
        let r = ProxyRef {
            id: p.id.clone(),
            namespace: p.namespace.clone(),
            kind: p.kind,
        };
        let mut doc = Map::new();
        doc.insert("proxy".into(), json!(r.id));
        doc.insert("type".into(), json!(r.kind.as_str()));
        match &side.classes[p.class] {
            Ok(res) => {
                if let Value::Object(m) = res.to_json() {
                    doc.extend(m);
                }
            }
            Err(e) => {
                doc.insert("error".into(), json!(e));
            }
        }
        let file = file_of(dir, &r);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut text = serde_json::to_string_pretty(&Value::Object(doc))?;
        text.push('\n');
        // Unchanged files are left alone (their times too).
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&file, text)?;
        }
        written.insert(file);
    }
    for stale in snapshot_files(dir)? {
        if !written.contains(&stale) {
            std::fs::remove_file(&stale)?;
        }
    }
    Ok(written.len())
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

/// Read a snapshot directory back as a side.
pub fn read(dir: &Path) -> Result<Generated, String> {
    if !dir.is_dir() {
        return Err(format!("{}: no snapshot directory", dir.display()));
    }
    let mut proxies = Vec::new();
    for file in snapshot_files(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let bad = |why: String| format!("{}: {why}", file.display());
        let text = std::fs::read_to_string(&file).map_err(|e| bad(e.to_string()))?;
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
        proxies.push((
            ProxyRef {
                id,
                namespace,
                kind,
            },
            resources,
        ));
    }
    Ok(super::side_from(proxies))
}
