//! A diff report as text (for a terminal, optionally coloured), markdown
//! (a pull-request comment: summary table, then collapsible details) or
//! JSON (schema `meshsim.diff/v4`, documented in the README).

use std::fmt::Write;

use serde_json::json;

use crate::registry::ProxyType;

use super::attribute::ObjectChange;
use super::{Group, GroupChange, ProxyRef, Report};

/// Which rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Render `report`; text and markdown are empty when nothing changed.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => text(report, color),
        Format::Markdown => markdown(report),
        Format::Json => {
            let mut out = Vec::new();
            // Writing into memory fails only with serialization, which
            // leaves the document short, as the writer would.
            let _ = write(report, format, color, &mut out);
            String::from_utf8(out).unwrap_or_default()
        }
    }
}

/// Write `report` to `out` as [`render`] gives it. A JSON report is
/// written as it is serialized, never held whole: a mesh-wide change makes
/// hundreds of megabytes of it.
pub fn write(
    report: &Report,
    format: Format,
    color: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use std::io::Write;
    match format {
        Format::Json => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
            serde_json::to_writer_pretty(&mut out, &JsonReport(report))?;
            out.write_all(b"\n")?;
            out.flush()
        }
        _ => out.write_all(render(report, format, color).as_bytes()),
    }
}

/// "6 sidecars in default", "2 proxies in 3 namespaces (a, b, c)".
fn who(proxies: &[ProxyRef]) -> String {
    let n = proxies.len();
    let kinds = |k: ProxyType| proxies.iter().all(|p| p.kind == k);
    let (one, many) = if kinds(ProxyType::Sidecar) {
        ("sidecar", "sidecars")
    } else if kinds(ProxyType::Router) {
        ("gateway", "gateways")
    } else {
        ("proxy", "proxies")
    };
    let noun = if n == 1 { one } else { many };
    let mut namespaces: Vec<&str> = proxies.iter().map(|p| p.namespace.as_str()).collect();
    namespaces.sort();
    namespaces.dedup();
    let wher = match namespaces.len() {
        1 => namespaces[0].to_string(),
        k if k <= 4 => format!("{k} namespaces ({})", namespaces.join(", ")),
        k => format!("{k} namespaces"),
    };
    format!("{n} {noun} in {wher}")
}

/// "route 9080 changed, cluster X added and 3 more".
fn what(group: &Group) -> String {
    let phrases: Vec<String> = group
        .changes
        .iter()
        .map(|c| c.op.phrase(c.rtype, &c.name, c.part.as_deref()))
        .collect();
    let shown = phrases
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match phrases.len() {
        0..=3 => shown,
        n => format!("{shown} and {} more", n - 3),
    }
}

fn title(group: &Group) -> String {
    format!("{}: {}", who(&group.proxies), what(group))
}

fn spans(o: &ObjectChange) -> String {
    match (&o.old, &o.new) {
        (Some(a), Some(b)) => format!("{a} → {b}"),
        (Some(a), None) => format!("was at {a}"),
        (None, Some(b)) => format!("new at {b}"),
        (None, None) => String::new(),
    }
}

/// The causes of a change: `Kind ns/name`, with where each was written
/// when `located`.
fn causes(report: &Report, causes: &[usize], located: bool) -> String {
    if causes.is_empty() {
        return "no changed object found to explain it".into();
    }
    causes
        .iter()
        .map(|&i| {
            let o = &report.objects[i];
            if located {
                format!("{} ({})", o.describe(), spans(o))
            } else {
                o.describe()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "caused by ..." for one change; nothing when the report compares no
/// manifests (a snapshot check).
fn caused_by(report: &Report, c: &[usize], located: bool) -> String {
    if report.objects.is_empty() {
        String::new()
    } else {
        format!(", caused by: {}", causes(report, c, located))
    }
}

fn summary(report: &Report) -> String {
    let changed = report.changed;
    let groups = report.groups.len();
    let mut s = format!(
        "{changed} proxies changed in {groups} group{}, {} added, {} removed, {} unchanged",
        if groups == 1 { "" } else { "s" },
        report.added.len(),
        report.removed.len(),
        report.unchanged
    );
    if !report.failed.is_empty() {
        s += &format!(", {} failed to generate on one side", report.failed.len());
    }
    s
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    /// A unified diff's line, coloured by its first character.
    fn diff_line(&self, line: &str) -> String {
        match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => self.wrap("32", line),
            Some(b'-') if !line.starts_with("---") => self.wrap("31", line),
            Some(b'@') => self.wrap("36", line),
            _ => line.to_string(),
        }
    }
}

fn text(report: &Report, color: bool) -> String {
    if !report.has_changes() {
        return String::new();
    }
    let p = Paint(color);
    let mut s = String::new();
    if !report.objects.is_empty() {
        let _ = writeln!(s, "{}", p.bold("changed objects:"));
        for o in &report.objects {
            let _ = writeln!(s, "  {:<8} {}  {}", o.op.name(), o.describe(), spans(o));
        }
        s.push('\n');
    }
    let mut shown = vec![false; report.diffs.len()];
    for g in &report.groups {
        let _ = writeln!(s, "{}", p.bold(&title(g)));
        let ids: Vec<&str> = g.proxies.iter().map(|p| p.id.as_str()).collect();
        let _ = writeln!(s, "  proxies: {}", ids.join(", "));
        for c in &g.changes {
            let _ = writeln!(
                s,
                "  {}{}",
                c.op.phrase(c.rtype, &c.name, c.part.as_deref()),
                caused_by(report, &c.causes, true)
            );
            if std::mem::replace(&mut shown[c.diff], true) {
                let _ = writeln!(s, "    (diff shown above)");
                continue;
            }
            for line in report.diffs[c.diff].lines() {
                let _ = writeln!(s, "    {}", p.diff_line(line));
            }
        }
        s.push('\n');
    }
    for (label, list) in [
        ("proxies added:", &report.added),
        ("proxies removed:", &report.removed),
    ] {
        if !list.is_empty() {
            let _ = writeln!(s, "{}", p.bold(label));
            for r in list {
                let _ = writeln!(s, "  {} ({})", r.id, r.kind.as_str());
            }
            s.push('\n');
        }
    }
    if !report.failed.is_empty() {
        let _ = writeln!(s, "{}", p.bold("generation failed on one side:"));
        for f in &report.failed {
            let why = |side: &Option<String>| side.as_deref().unwrap_or("generated").to_string();
            let _ = writeln!(
                s,
                "  {}: old: {}; new: {}",
                f.proxy.id,
                why(&f.old),
                why(&f.new)
            );
        }
        s.push('\n');
    }
    let _ = writeln!(s, "{}", summary(report));
    s
}

fn markdown(report: &Report) -> String {
    if !report.has_changes() {
        return String::new();
    }
    let mut s = String::new();
    let _ = writeln!(s, "### meshsim diff\n\n{}\n", summary(report));
    let _ = writeln!(s, "| proxies | changes | caused by |\n|---|---|---|");
    let cell = |t: &str| t.replace('|', "\\|");
    for g in &report.groups {
        let mut causes_of: Vec<usize> = g.changes.iter().flat_map(|c| c.causes.clone()).collect();
        causes_of.sort();
        causes_of.dedup();
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            who(&g.proxies),
            cell(&what(g)),
            cell(&causes(report, &causes_of, false))
        );
    }
    for r in &report.added {
        let _ = writeln!(s, "| `{}` ({}) | proxy added | |", r.id, r.kind.as_str());
    }
    for r in &report.removed {
        let _ = writeln!(s, "| `{}` ({}) | proxy removed | |", r.id, r.kind.as_str());
    }
    for f in &report.failed {
        let _ = writeln!(s, "| `{}` | generation failed on one side | |", f.proxy.id);
    }
    if !report.objects.is_empty() {
        let _ = writeln!(
            s,
            "\n<details><summary>{} changed objects</summary>\n\n| object | change | where |\n|---|---|---|",
            report.objects.len()
        );
        for o in &report.objects {
            let _ = writeln!(s, "| {} | {} | `{}` |", o.describe(), o.op.name(), spans(o));
        }
        let _ = writeln!(s, "\n</details>");
    }
    let mut shown = vec![false; report.diffs.len()];
    for g in &report.groups {
        let ids: Vec<String> = g.proxies.iter().map(|p| format!("`{}`", p.id)).collect();
        let _ = writeln!(
            s,
            "\n<details><summary>{}</summary>\n\nProxies: {}\n",
            cell(&title(g)),
            ids.join(", ")
        );
        for c in &g.changes {
            let phrase = c.op.phrase(c.rtype, &c.name, c.part.as_deref());
            let by = caused_by(report, &c.causes, true);
            if std::mem::replace(&mut shown[c.diff], true) {
                let _ = writeln!(s, "**{phrase}**{by}: the diff shown above\n");
            } else {
                let _ = writeln!(
                    s,
                    "**{phrase}**{by}\n\n```diff\n{}```\n",
                    report.diffs[c.diff]
                );
            }
        }
        let _ = writeln!(s, "</details>");
    }
    s
}

/// A proxy in the JSON report.
#[derive(serde::Serialize)]
struct ProxyJson<'a> {
    id: &'a str,
    namespace: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

fn proxy_json(p: &ProxyRef) -> ProxyJson<'_> {
    ProxyJson {
        id: &p.id,
        namespace: &p.namespace,
        kind: p.kind.as_str(),
    }
}

/// A group in the JSON report.
#[derive(serde::Serialize)]
struct GroupJson<'a> {
    title: String,
    #[serde(serialize_with = "serialize_proxies")]
    proxies: &'a [ProxyRef],
    #[serde(serialize_with = "serialize_changes")]
    changes: &'a [GroupChange],
}

fn serialize_proxies<S: serde::Serializer>(p: &&[ProxyRef], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(proxy_json))
}

/// A group's change in the JSON report.
#[derive(serde::Serialize)]
struct ChangeJson<'a> {
    #[serde(rename = "type")]
    rtype: &'a str,
    name: &'a str,
    virtual_host: Option<&'a str>,
    change: &'a str,
    causes: &'a [usize],
    diff: usize,
}

fn serialize_changes<S: serde::Serializer>(c: &&[GroupChange], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(c.iter().map(|c| ChangeJson {
        rtype: c.rtype.name(),
        name: &c.name,
        virtual_host: c.part.as_deref(),
        change: c.op.name(),
        causes: &c.causes,
        diff: c.diff,
    }))
}

/// A list whose items are written as JSON at depth 2 of the document (the
/// elements of a list in the top object) on every core, a run at a time: a
/// mesh-wide change has thousands of groups listing millions of proxies,
/// and only one run is held written at once.
struct Pretty<'a, T, F> {
    items: &'a [T],
    to_json: F,
}

type Raw = Box<serde_json::value::RawValue>;

impl<T: Sync, F: Fn(&T) -> Raw + Sync> serde::Serialize for Pretty<'_, T, F> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.items.len()))?;
        for run in self.items.chunks(4096) {
            let written = crate::parallel::map(run, &self.to_json);
            for item in &written {
                seq.serialize_element(item)?;
            }
        }
        seq.end()
    }
}

/// The `meshsim.diff/v4` document, serialized as it is written: a mesh-wide
/// change lists hundreds of thousands of group changes, which a `Value` of
/// the whole document would hold several times over.
struct JsonReport<'r>(&'r Report);

/// A list serialized item by item.
struct Items<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = T>, T: serde::Serialize> serde::Serialize for Items<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.take().into_iter().flatten())
    }
}

fn items<I: Iterator<Item = T>, T: serde::Serialize>(it: I) -> Items<I> {
    Items(std::cell::Cell::new(Some(it)))
}

impl serde::Serialize for JsonReport<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let report = self.0;
        let changed = report.changed;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("schema", "meshsim.diff/v4")?;
        m.serialize_entry(
            "summary",
            &json!({
                "changed": changed,
                "groups": report.groups.len(),
                "added": report.added.len(),
                "removed": report.removed.len(),
                "failed": report.failed.len(),
                "unchanged": report.unchanged,
                "not_generated": report.not_generated.len(),
            }),
        )?;
        m.serialize_entry(
            "objects",
            &items(report.objects.iter().map(|o| {
                json!({
                    "group": o.group,
                    "kind": o.kind,
                    "namespace": o.namespace,
                    "name": o.name,
                    "change": o.op.name(),
                    "old": o.old.as_ref().map(ToString::to_string),
                    "new": o.new.as_ref().map(ToString::to_string),
                })
            })),
        )?;
        let groups = Pretty {
            items: &report.groups,
            to_json: |g: &Group| {
                let g = GroupJson {
                    title: title(g),
                    proxies: &g.proxies,
                    changes: &g.changes,
                };
                // Pretty, indented to its depth.
                let text = serde_json::to_string_pretty(&g).unwrap_or_default();
                serde_json::value::RawValue::from_string(text.replace('\n', "\n    "))
                    .expect("serde_json wrote JSON")
            },
        };
        m.serialize_entry("groups", &groups)?;
        let diffs = Pretty {
            items: &report.diffs,
            // A string: one line, written once (not parsed again).
            to_json: |d: &String| serde_json::value::to_raw_value(d).expect("a string is JSON"),
        };
        m.serialize_entry("diffs", &diffs)?;
        m.serialize_entry("added", &items(report.added.iter().map(proxy_json)))?;
        m.serialize_entry("removed", &items(report.removed.iter().map(proxy_json)))?;
        m.serialize_entry(
            "failed",
            &items(
                report
                    .failed
                    .iter()
                    .map(|f| json!({"proxy": proxy_json(&f.proxy), "old": f.old, "new": f.new})),
            ),
        )?;
        m.serialize_entry(
            "not_generated",
            &items(
                report
                    .not_generated
                    .iter()
                    .map(|(p, why)| json!({"proxy": proxy_json(p), "reason": why})),
            ),
        )?;
        m.end()
    }
}

/// Colour decision: `--color always|never` wins; `auto` colours a
/// terminal unless NO_COLOR is set to anything non-empty (no-color.org).
pub fn use_color(choice: Option<bool>, no_color: Option<&str>, terminal: bool) -> bool {
    match choice {
        Some(forced) => forced,
        None => terminal && no_color.is_none_or(str::is_empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_rules() {
        assert!(use_color(None, None, true));
        assert!(!use_color(None, Some("1"), true));
        assert!(use_color(None, Some(""), true));
        assert!(!use_color(None, None, false));
        assert!(use_color(Some(true), Some("1"), false));
        assert!(!use_color(Some(false), None, true));
    }

    #[test]
    fn names_groups() {
        let p = |id: &str, ns: &str, kind| ProxyRef {
            id: id.into(),
            namespace: ns.into(),
            kind,
        };
        assert_eq!(who(&[p("a.x", "x", ProxyType::Sidecar)]), "1 sidecar in x");
        assert_eq!(
            who(&[
                p("a.x", "x", ProxyType::Sidecar),
                p("b.y", "y", ProxyType::Router)
            ]),
            "2 proxies in 2 namespaces (x, y)"
        );
    }
}
