//! One proxy's resources on two sides: what was added, removed and changed,
//! each change as a unified diff of the resource's JSON, and the strings in
//! the parts that differ (for attribution).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash, Hasher};

use serde_json::Value;
use similar::{Algorithm, TextDiff};

use super::resources::{ResourceType, Resources};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Added,
    Removed,
    Changed,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Added => "added",
            Op::Removed => "removed",
            Op::Changed => "changed",
        }
    }
}

/// One resource that differs, or one virtual host of a route
/// configuration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub rtype: ResourceType,
    pub name: String,
    /// The virtual host, when the change is to one of the route
    /// configuration's.
    pub part: Option<String>,
    pub op: Op,
    /// Unified diff of the pretty-printed JSON (three lines of context).
    pub diff: String,
}

/// Strings inside the parts of a change that differ, and the resource's
/// name: what attribution matches manifest objects against. Borrowed from
/// the resources: a resource added whole mentions every string in it
/// (listed as found, some more than once).
pub type Mentions<'v> = Vec<&'v str>;

/// What a change is, as fingerprints of its two sides ([`Differs::key`]).
pub type ChangeKey = (ResourceType, String, Option<String>, u64, u64);

/// A resource (or a route configuration's virtual host) that differs
/// between two sides, not yet described.
pub struct Differs<'r> {
    pub rtype: ResourceType,
    pub name: &'r str,
    pub part: Option<&'r str>,
    pub op: Op,
    old: Option<Cow<'r, Value>>,
    new: Option<Cow<'r, Value>>,
}

impl Differs<'_> {
    /// What the change is, as a fingerprint: equal keys describe alike, so
    /// a change many comparisons find (one endpoint every view sees) is
    /// described once. Member order counts, as it does in the diff.
    pub fn key(&self) -> ChangeKey {
        // SipHash spent more time on large route configurations than
        // describing their changes did; the fingerprint needs no DoS
        // resistance, only few collisions (one in 2^64 per pair).
        let print = |v: Option<&Value>| {
            let mut h = foldhash::quality::FixedState::with_seed(0).build_hasher();
            if let Some(v) = v {
                fingerprint(v, &mut h);
            }
            h.finish()
        };
        (
            self.rtype,
            self.name.to_string(),
            self.part.map(str::to_string),
            print(self.old.as_deref()),
            print(self.new.as_deref()),
        )
    }

    /// The unified diff and the strings where the sides differ.
    pub fn describe(&self) -> (Change, Mentions<'_>) {
        static NULL: Value = Value::Null;
        let (a, b) = (
            self.old.as_deref().unwrap_or(&NULL),
            self.new.as_deref().unwrap_or(&NULL),
        );
        let mut mentions = vec![self.name];
        mentions.extend(self.part);
        differing_strings(a, b, &mut mentions);
        let label = match self.part {
            Some(vhost) => format!("{} {} virtual host {vhost}", self.rtype.name(), self.name),
            None => format!("{} {}", self.rtype.name(), self.name),
        };
        let change = Change {
            rtype: self.rtype,
            name: self.name.to_string(),
            part: self.part.map(str::to_string),
            op: self.op,
            diff: unified(a, b, &label),
        };
        (change, mentions)
    }
}

/// Every resource of the selected types that differs, in type then name
/// order. A route configuration both sides have differs virtual host by
/// virtual host (then in its other fields): a change to one service's
/// routes is one change, the same in every view that sees it, not a
/// change of each view's whole configuration.
pub fn differing<'r>(
    old: &'r Resources,
    new: &'r Resources,
    types: &[ResourceType],
) -> Vec<Differs<'r>> {
    let keys: BTreeSet<_> = old.0.keys().chain(new.0.keys()).collect();
    let mut out = Vec::new();
    for key @ (rtype, name) in keys {
        if !types.contains(rtype) {
            continue;
        }
        let (a, b) = (old.0.get(key), new.0.get(key));
        let op = match (a, b) {
            (Some(x), Some(y)) if same(x, y) => continue,
            (Some(x), Some(y)) => {
                if *rtype == ResourceType::Route
                    && let Some(hosts) = virtual_hosts_differing(name, x, y)
                {
                    out.extend(hosts);
                    continue;
                }
                Op::Changed
            }
            (None, Some(_)) => Op::Added,
            _ => Op::Removed,
        };
        out.push(Differs {
            rtype: *rtype,
            name,
            part: None,
            op,
            old: a.map(Cow::Borrowed),
            new: b.map(Cow::Borrowed),
        });
    }
    out
}

/// The virtual hosts of route configuration `name` that differ, by name,
/// and its other fields when they differ; None when its virtual hosts are
/// not one per name on each side, or the ones both sides have come in
/// another order (then the configuration is compared whole).
fn virtual_hosts_differing<'r>(
    name: &'r str,
    x: &'r Value,
    y: &'r Value,
) -> Option<Vec<Differs<'r>>> {
    type Hosts<'r> = BTreeMap<&'r str, (usize, &'r Value)>;
    let hosts = |v: &'r Value| -> Option<Hosts<'r>> {
        let list = v.get("virtual_hosts")?.as_array()?;
        let mut out = BTreeMap::new();
        for (i, h) in list.iter().enumerate() {
            out.insert(h.get("name")?.as_str()?, (i, h))
                .is_none()
                .then_some(())?;
        }
        Some(out)
    };
    let (hx, hy) = (hosts(x)?, hosts(y)?);
    // The names both sides have, in this side's order.
    let order = |of: &Hosts<'r>, other: &Hosts<'r>| -> Vec<&'r str> {
        let mut common: Vec<(usize, &'r str)> = of
            .iter()
            .filter(|(n, _)| other.contains_key(*n))
            .map(|(n, (i, _))| (*i, *n))
            .collect();
        common.sort_unstable();
        common.into_iter().map(|(_, n)| n).collect()
    };
    if order(&hx, &hy) != order(&hy, &hx) {
        return None;
    }
    let rest = |v: &Value| -> Value {
        let fields = v.as_object().into_iter().flatten();
        Value::Object(
            fields
                .filter(|(k, _)| *k != "virtual_hosts")
                .map(|(k, x)| (k.clone(), x.clone()))
                .collect(),
        )
    };
    let mut out = Vec::new();
    let (rx, ry) = (rest(x), rest(y));
    if !same(&rx, &ry) {
        out.push(Differs {
            rtype: ResourceType::Route,
            name,
            part: None,
            op: Op::Changed,
            old: Some(Cow::Owned(rx)),
            new: Some(Cow::Owned(ry)),
        });
    }
    let names: BTreeSet<&str> = hx.keys().chain(hy.keys()).copied().collect();
    for host in names {
        let (a, b) = (hx.get(host).map(|h| h.1), hy.get(host).map(|h| h.1));
        let op = match (a, b) {
            (Some(p), Some(q)) if same(p, q) => continue,
            (Some(_), Some(_)) => Op::Changed,
            (None, Some(_)) => Op::Added,
            _ => Op::Removed,
        };
        out.push(Differs {
            rtype: ResourceType::Route,
            name,
            part: Some(host),
            op,
            old: a.map(Cow::Borrowed),
            new: b.map(Cow::Borrowed),
        });
    }
    Some(out)
}

/// Whether two values print alike: members compared in their order (as
/// the diff and the fingerprint see them), without the hashing a map
/// lookup per member costs on thousands of virtual hosts.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k, p), (l, q))| k == l && same(p, q))
        }
        _ => a == b,
    }
}

/// A structural hash of `v`, members in their order.
fn fingerprint(v: &Value, h: &mut impl Hasher) {
    match v {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => {
            h.write_u8(1);
            b.hash(h);
        }
        Value::Number(n) => {
            h.write_u8(2);
            n.hash(h);
        }
        Value::String(s) => {
            h.write_u8(3);
            s.hash(h);
        }
        Value::Array(a) => {
            h.write_u8(4);
            h.write_usize(a.len());
            a.iter().for_each(|x| fingerprint(x, h));
        }
        Value::Object(m) => {
            h.write_u8(5);
            h.write_usize(m.len());
            for (k, x) in m {
                k.hash(h);
                fingerprint(x, h);
            }
        }
    }
}

/// `--- old/LABEL`, `+++ new/LABEL`, hunks; an absent side is empty.
fn unified(a: &Value, b: &Value, label: &str) -> String {
    match (a.is_null(), b.is_null()) {
        (true, false) => one_sided(b, true, label),
        (false, true) => one_sided(a, false, label),
        _ => {
            let text = |v: &Value| {
                let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
                s.push('\n');
                s
            };
            line_diff(&text(a), &text(b), label)
        }
    }
}

/// The unified diff of two texts.
fn line_diff(ta: &str, tb: &str, label: &str) -> String {
    // Patience anchors on lines found once on each side (every object's
    // name): a route configuration with thousands of virtual hosts and
    // changes all over diffs in pieces instead of one quadratic search.
    TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .diff_lines(ta, tb)
        .unified_diff()
        .context_radius(3)
        .header(&format!("old/{label}"), &format!("new/{label}"))
        .to_string()
}

/// The unified diff of `value`'s pretty JSON against nothing, as
/// [`line_diff`] writes it (one hunk of every line), each line signed as
/// it is serialized: most changes add or remove a resource whole.
fn one_sided(value: &Value, added: bool, label: &str) -> String {
    let sign = if added { "+" } else { "-" };
    let mut body = sign.as_bytes().to_vec();
    let lines = 1 + super::pretty::write(&mut body, sign.as_bytes(), value)
        .expect("a JSON value writes into memory");
    body.push(b'\n');
    // A hunk range: its first line and length, the length left out when 1.
    let range = if lines == 1 {
        "1".to_string()
    } else {
        format!("1,{lines}")
    };
    let none = "0,0";
    let (old, new) = if added {
        (none, range.as_str())
    } else {
        (range.as_str(), none)
    };
    let mut out = format!("--- old/{label}\n+++ new/{label}\n@@ -{old} +{new} @@\n");
    out.push_str(std::str::from_utf8(&body).expect("serde_json writes UTF-8"));
    out
}

/// Strings found where `a` and `b` differ: objects compared key by key,
/// arrays element by element (by `name` when their elements have one), and
/// whatever differs wholly taken from both sides, together with the `name`
/// of every object on the way down (a changed weight names its cluster and
/// virtual host).
fn differing_strings<'v>(a: &'v Value, b: &'v Value, out: &mut Mentions<'v>) {
    differing_within(a, b, &mut Vec::new(), out);
}

/// Whether `a` and `b` print differently ([`same`]), the strings where they
/// differ added to `out` on the way. One walk down: asking [`same`] at every
/// depth first walked each differing path once per level above it.
fn differing_within<'v>(
    a: &'v Value,
    b: &'v Value,
    path: &mut Vec<&'v str>,
    out: &mut Mentions<'v>,
) -> bool {
    let whole = |x: &'v Value, path: &[&'v str], out: &mut Mentions<'v>| {
        out.extend(path);
        all_strings(x, out);
    };
    let named = |v: &'v Value| v.get("name").and_then(Value::as_str);
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let pushed = named(a).or(named(b)).map(|n| path.push(n)).is_some();
            // Members in the same order (the usual case) are paired without
            // a lookup; out of order, they print differently.
            let mut differs = x.len() != y.len();
            let mut ys = y.iter();
            for (k, va) in x {
                let vb = match ys.next() {
                    Some((l, vb)) if l == k => Some(vb),
                    _ => {
                        differs = true;
                        y.get(k)
                    }
                };
                differs |= differing_within(va, vb.unwrap_or(&Value::Null), path, out);
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    whole(vb, path, out);
                }
            }
            if pushed {
                path.pop();
            }
            // A changed route action names the clusters it routes to: their
            // DestinationRules give it its hash policy.
            if differs {
                for v in [a, b] {
                    out.extend(v.get("cluster").and_then(Value::as_str));
                    let weighted = v
                        .pointer("/weighted_clusters/clusters")
                        .and_then(Value::as_array);
                    out.extend(weighted.into_iter().flatten().filter_map(named));
                }
            }
            differs
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() == y.len() && x.iter().zip(y).all(|(p, q)| named(p) == named(q)) {
                let mut differs = false;
                for (p, q) in x.iter().zip(y) {
                    differs |= differing_within(p, q, path, out);
                }
                differs
            } else if x.iter().chain(y).all(|v| named(v).is_some()) {
                // By name through an index: a route configuration holds
                // thousands of virtual hosts.
                let (by_x, by_y) = (by_name(x), by_name(y));
                for p in x {
                    match named(p).and_then(|n| by_y.get(n)) {
                        Some(q) => {
                            differing_within(p, q, path, out);
                        }
                        None => whole(p, path, out),
                    }
                }
                for q in y {
                    if !named(q).is_some_and(|n| by_x.contains_key(n)) {
                        whole(q, path, out);
                    }
                }
                true
            } else if same(a, b) {
                false
            } else {
                whole(a, path, out);
                whole(b, path, out);
                true
            }
        }
        _ if a == b => false,
        _ => {
            whole(a, path, out);
            whole(b, path, out);
            true
        }
    }
}

/// Named elements by name, the first of each name (as a search would find).
fn by_name(items: &[Value]) -> HashMap<&str, &Value> {
    let mut out = HashMap::new();
    for v in items {
        if let Some(n) = v.get("name").and_then(Value::as_str) {
            out.entry(n).or_insert(v);
        }
    }
    out
}

fn all_strings<'v>(v: &'v Value, out: &mut Mentions<'v>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| all_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| all_strings(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_resource_added_or_removed_diffs_as_the_line_diff_does() {
        let cluster =
            json!({"name": "outbound|80||a", "type": "EDS", "lb_policy": ["x", {"y": 1}]});
        for value in [cluster, json!(1), json!(["a", "b"]), json!({})] {
            let mut pretty = serde_json::to_string_pretty(&value).unwrap();
            pretty.push('\n');
            for added in [true, false] {
                let (a, b) = if added {
                    ("", &*pretty)
                } else {
                    (&*pretty, "")
                };
                assert_eq!(
                    one_sided(&value, added, "cluster x"),
                    line_diff(a, b, "cluster x"),
                    "{value} added: {added}"
                );
            }
            assert_eq!(
                unified(&Value::Null, &value, "c"),
                line_diff("", &pretty, "c")
            );
        }
    }

    fn resources(items: &[(&str, Value)]) -> Resources {
        Resources(
            items
                .iter()
                .map(|(n, v)| ((ResourceType::Cluster, n.to_string()), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn added_removed_changed_with_mentions() {
        let old = resources(&[
            ("a", json!({"name": "a", "x": 1})),
            (
                "b",
                json!({"name": "b", "routes": [{"name": "r1", "to": "c1"}, {"name": "r2", "to": "c2"}]}),
            ),
        ]);
        let new = resources(&[
            (
                "b",
                json!({"name": "b", "routes": [{"name": "r2", "to": "c2"}, {"name": "r1", "to": "c3"}]}),
            ),
            ("c", json!({"name": "c"})),
        ]);
        let differs = differing(&old, &new, &ResourceType::ALL);
        let (changes, mentions): (Vec<Change>, Vec<Mentions>) =
            differs.iter().map(Differs::describe).unzip();
        let ops: Vec<(&str, Op)> = changes.iter().map(|c| (c.name.as_str(), c.op)).collect();
        assert_eq!(
            ops,
            [("a", Op::Removed), ("b", Op::Changed), ("c", Op::Added)]
        );
        // Reordered but equal elements are matched by name: only r1's
        // target differs, named with the objects around it.
        let b = &changes[1];
        let named: BTreeSet<&str> = mentions[1].iter().copied().collect();
        assert_eq!(named, BTreeSet::from(["b", "c1", "c3", "r1"]));
        assert!(
            b.diff
                .starts_with("--- old/cluster b\n+++ new/cluster b\n@@")
        );
        assert!(b.diff.contains("-      \"to\": \"c1\"\n"), "{}", b.diff);
        assert!(changes[2].diff.contains("+{\n"));
        assert!(differing(&old, &new, &[ResourceType::Route]).is_empty());
    }

    #[test]
    fn route_configurations_differ_by_virtual_host() {
        let route = |validate: bool, hosts: &[(&str, u32)]| {
            let hosts: Vec<Value> = hosts
                .iter()
                .map(|(n, w)| json!({"name": n, "routes": [{"weight": w}]}))
                .collect();
            let rc = json!({"name": "80", "virtual_hosts": hosts, "validate_clusters": validate});
            Resources([((ResourceType::Route, "80".to_string()), rc)].into())
        };
        let old = route(false, &[("a", 1), ("b", 1), ("c", 1)]);
        let new = route(true, &[("a", 1), ("b", 2), ("d", 1)]);
        let found: Vec<(Option<&str>, Op)> = differing(&old, &new, &ResourceType::ALL)
            .iter()
            .map(|d| (d.part, d.op))
            .collect();
        assert_eq!(
            found,
            [
                (None, Op::Changed),
                (Some("b"), Op::Changed),
                (Some("c"), Op::Removed),
                (Some("d"), Op::Added)
            ]
        );
        let differs = differing(&old, &new, &ResourceType::ALL);
        let (b, mentions) = differs[1].describe();
        assert!(
            b.diff.starts_with("--- old/route 80 virtual host b\n"),
            "{}",
            b.diff
        );
        assert!(mentions.contains(&"b"));
        // Virtual hosts in another order: the configuration, whole.
        let swapped = route(false, &[("b", 1), ("a", 1), ("c", 1)]);
        let found: Vec<(Option<&str>, Op)> = differing(&old, &swapped, &ResourceType::ALL)
            .iter()
            .map(|d| (d.part, d.op))
            .collect();
        assert_eq!(found, [(None, Op::Changed)]);
    }

    #[test]
    fn differing_strings_are_found_where_values_print_differently() {
        let found = |a: Value, b: Value| {
            let mut out = Vec::new();
            let differs = differing_within(&a, &b, &mut Vec::new(), &mut out);
            assert_eq!(differs, !same(&a, &b), "{a} {b}");
            let out: BTreeSet<String> = out.into_iter().map(str::to_string).collect();
            out.into_iter().collect::<Vec<_>>()
        };
        let route = |timeout: &str, weight: u32| json!({"name": "r", "route": {"cluster": "c1", "timeout": timeout}, "weight": weight});
        assert!(found(route("1s", 1), route("1s", 1)).is_empty());
        // The route's name on the way down; its action, unchanged, names no
        // cluster.
        assert_eq!(found(route("1s", 1), route("1s", 2)), ["r"]);
        // A changed action names its cluster.
        assert_eq!(
            found(route("1s", 1), route("2s", 1)),
            ["1s", "2s", "c1", "r"]
        );
        // Members in another order print differently: the object differs
        // though none of its members does.
        assert!(found(json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1})).is_empty());
        assert_eq!(
            found(
                json!({"cluster": "c1", "x": 1}),
                json!({"x": 1, "cluster": "c1"})
            ),
            ["c1"]
        );
        assert_eq!(found(json!(["a"]), json!(["a", "b"])), ["a", "b"]);
        assert_eq!(found(json!({"x": "a"}), json!({})), ["a"]);
    }

    #[test]
    fn keys_tell_changes_apart_by_content_and_order() {
        let key = |a: Value, b: Value| {
            let (old, new) = (resources(&[("x", a)]), resources(&[("x", b)]));
            differing(&old, &new, &ResourceType::ALL)[0].key()
        };
        let k = key(json!({"a": 1, "b": 2}), json!({"a": 1, "b": 3}));
        assert_eq!(k, key(json!({"a": 1, "b": 2}), json!({"a": 1, "b": 3})));
        assert_ne!(k, key(json!({"a": 1, "b": 2}), json!({"a": 1, "b": 4})));
        // Reordered members print differently, so they are another change.
        assert_ne!(k, key(json!({"b": 2, "a": 1}), json!({"a": 1, "b": 3})));
        assert_ne!(k, key(json!({"a": 1, "b": "2"}), json!({"a": 1, "b": 3})));
    }
}
