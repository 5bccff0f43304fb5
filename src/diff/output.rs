//! A diff report as text (for a terminal, optionally coloured), markdown
//! (a pull-request comment: summary table, then collapsible details) or
//! JSON (schema `meshsim.diff/v5`, documented in the README).

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
            write_json(report, &mut out)?;
            out.write_all(b"\n")?;
            out.flush()
        }
        _ => out.write_all(render(report, format, color).as_bytes()),
    }
}

/// "6 sidecars in default", "2 proxies in 3 namespaces (a, b, c)".
fn who(proxies: &[&ProxyRef]) -> String {
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

fn title(report: &Report, group: &Group) -> String {
    format!("{}: {}", who(&report.proxies_of(group)), what(group))
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
    let changed = report.changed.len();
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
        let _ = writeln!(s, "{}", p.bold(&title(report, g)));
        let ids: Vec<&str> = report.proxies_of(g).iter().map(|p| p.id.as_str()).collect();
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
            who(&report.proxies_of(g)),
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
        let ids: Vec<String> = (report.proxies_of(g).iter())
            .map(|p| format!("`{}`", p.id))
            .collect();
        let _ = writeln!(
            s,
            "\n<details><summary>{}</summary>\n\nProxies: {}\n",
            cell(&title(report, g)),
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

impl ProxyJson<'_> {
    fn of(p: &ProxyRef) -> ProxyJson<'_> {
        ProxyJson {
            id: &p.id,
            namespace: &p.namespace,
            kind: p.kind.as_str(),
        }
    }
}

/// A group in the JSON report, at depth 2: its proxies by index into
/// `changed`, one a line as `serde_json` writes numbers pretty.
fn write_group(report: &Report, g: &Group, out: &mut Vec<u8>) -> std::io::Result<()> {
    out.extend_from_slice(b"{\n      \"title\": ");
    serde_json::to_writer(&mut *out, &title(report, g))?;
    out.extend_from_slice(b",\n      \"proxies\": ");
    nested(out, b"      ", &g.proxies)?;
    out.extend_from_slice(b",\n      \"changes\": ");
    let changes: Vec<ChangeJson> = g.changes.iter().map(ChangeJson::of).collect();
    nested(out, b"      ", &changes)?;
    out.extend_from_slice(b"\n    }");
    Ok(())
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

impl ChangeJson<'_> {
    fn of(c: &GroupChange) -> ChangeJson<'_> {
        ChangeJson {
            rtype: c.rtype.name(),
            name: &c.name,
            virtual_host: c.part.as_deref(),
            change: c.op.name(),
            causes: &c.causes,
            diff: c.diff,
        }
    }
}

/// `value` pretty at depth `indent` (its line breaks followed by it).
fn nested(
    out: &mut impl std::io::Write,
    indent: &'static [u8],
    value: &impl serde::Serialize,
) -> std::io::Result<()> {
    super::pretty::write(out, indent, value).map(drop)
}

/// A list in the top object, as `serde_json` writes it pretty, its items
/// written by `item` (at depth 2) on every core a run at a time: a
/// mesh-wide change has thousands of groups listing millions of proxies,
/// and only one run is held written at once.
fn list<T: Sync>(
    out: &mut impl std::io::Write,
    items: &[T],
    item: impl Fn(&T, &mut Vec<u8>) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let mut first = true;
    for run in items.chunks(4096) {
        let written = crate::parallel::map(run, |x| {
            let mut text = Vec::new();
            item(x, &mut text).map(|()| text)
        });
        for text in written {
            out.write_all(if first { b"\n    " } else { b",\n    " })?;
            out.write_all(&text?)?;
            first = false;
        }
    }
    out.write_all(b"\n  ]")
}

/// The `meshsim.diff/v5` document as `serde_json` writes it pretty, each
/// part written as it is serialized: a mesh-wide change lists hundreds of
/// thousands of group changes, which a `Value` of the whole document would
/// hold several times over.
fn write_json(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    // Items of the top object's lists are at depth 2.
    const ITEM: &[u8] = b"    ";
    out.write_all(b"{\n  \"schema\": \"meshsim.diff/v5\",\n  \"summary\": ")?;
    nested(
        out,
        b"  ",
        &json!({
            "changed": report.changed.len(),
            "groups": report.groups.len(),
            "added": report.added.len(),
            "removed": report.removed.len(),
            "failed": report.failed.len(),
            "unchanged": report.unchanged,
            "not_generated": report.not_generated.len(),
        }),
    )?;
    let entry = |out: &mut dyn std::io::Write, key: &str| {
        out.write_all(format!(",\n  \"{key}\": ").as_bytes())
    };
    entry(out, "objects")?;
    list(out, &report.objects, |o, text| {
        let value = json!({
            "group": o.group,
            "kind": o.kind,
            "namespace": o.namespace,
            "name": o.name,
            "change": o.op.name(),
            "old": o.old.as_ref().map(ToString::to_string),
            "new": o.new.as_ref().map(ToString::to_string),
        });
        nested(text, ITEM, &value)
    })?;
    entry(out, "changed")?;
    let proxy = |p: &ProxyRef, text: &mut Vec<u8>| nested(text, ITEM, &ProxyJson::of(p));
    list(out, &report.changed, proxy)?;
    entry(out, "groups")?;
    list(out, &report.groups, |g, text| write_group(report, g, text))?;
    entry(out, "diffs")?;
    // A string: one line.
    list(out, &report.diffs, |d, text| {
        serde_json::to_writer(text, d).map_err(std::io::Error::from)
    })?;
    entry(out, "added")?;
    list(out, &report.added, proxy)?;
    entry(out, "removed")?;
    list(out, &report.removed, proxy)?;
    // A proxy and why it has no configuration on a side or both.
    entry(out, "failed")?;
    list(out, &report.failed, |f, text| {
        let value = json!({"proxy": ProxyJson::of(&f.proxy), "old": f.old, "new": f.new});
        nested(text, ITEM, &value)
    })?;
    entry(out, "not_generated")?;
    list(out, &report.not_generated, |(p, why), text| {
        nested(
            text,
            ITEM,
            &json!({"proxy": ProxyJson::of(p), "reason": why}),
        )
    })?;
    out.write_all(b"\n}")
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
    fn json_is_laid_out_as_serde_json_writes_it_pretty() {
        use crate::diff::compare::Op;
        use crate::diff::resources::ResourceType;
        let p = ProxyRef {
            id: "a.x".into(),
            namespace: "x".into(),
            kind: ProxyType::Sidecar,
        };
        let q = ProxyRef {
            id: "b.y".into(),
            namespace: "y".into(),
            ..p.clone()
        };
        let change = GroupChange {
            rtype: ResourceType::Route,
            name: "80".into(),
            part: Some("h:80".into()),
            op: Op::Changed,
            diff: 0,
            causes: vec![0, 1],
        };
        let report = Report {
            diffs: vec!["--- old/route 80\n+++ new/route 80\n-  \"a\"\n".into()],
            changed: vec![p.clone(), q.clone()],
            groups: vec![Group {
                proxies: vec![0, 1],
                changes: vec![change],
            }],
            added: vec![p.clone()],
            failed: vec![crate::diff::Failed {
                proxy: p.clone(),
                old: None,
                new: Some("no \"pod\"".into()),
            }],
            not_generated: vec![(p, "why".into())],
            ..Report::default()
        };
        let text = render(&report, Format::Json, false);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(text, serde_json::to_string_pretty(&value).unwrap() + "\n");
        assert_eq!(value["removed"], json!([]));
        assert_eq!(value["groups"][0]["changes"][0]["causes"], json!([0, 1]));
        // A group names its proxies by their index in `changed`.
        assert_eq!(value["groups"][0]["proxies"], json!([0, 1]));
        assert_eq!(value["changed"][1]["id"], json!("b.y"));
        assert_eq!(value["summary"]["changed"], json!(2));
        assert!(
            value["groups"][0]["title"]
                .as_str()
                .unwrap()
                .starts_with("2 sidecars in 2 namespaces (x, y): ")
        );
        assert_eq!(value["failed"][0]["new"], json!("no \"pod\""));
        assert_eq!(value["not_generated"][0]["proxy"]["id"], json!("a.x"));
    }

    #[test]
    fn names_groups() {
        let p = |id: &str, ns: &str, kind| ProxyRef {
            id: id.into(),
            namespace: ns.into(),
            kind,
        };
        assert_eq!(who(&[&p("a.x", "x", ProxyType::Sidecar)]), "1 sidecar in x");
        assert_eq!(
            who(&[
                &p("a.x", "x", ProxyType::Sidecar),
                &p("b.y", "y", ProxyType::Router)
            ]),
            "2 proxies in 2 namespaces (x, y)"
        );
    }
}
