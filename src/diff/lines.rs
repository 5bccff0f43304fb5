//! Clusters parts compared service by service. A service's clusters and
//! endpoints are a function of its line of its part's key and of the key's
//! general line ([`generate::clusters_key_services`]), so a pair of lines
//! (old side, new side) gives the same changes in every comparison that
//! holds it: the first generates and compares it, the others take what it
//! gave. A comparison holds the services the focus touches and those whose
//! lines differ; the others are equal on both sides.
//!
//! [`generate::clusters_key_services`]: crate::xds::generate::clusters_key_services

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::resources::Resources;
use super::share::Side;
use crate::xds::generate::focus::Focus;
use crate::xds::generate::secrets;

/// A service's lines on each side with their parts' general lines: no
/// line on a side without the service, nor on either for the resources of
/// no service (the blackhole and passthrough clusters).
type Pair<'k> = (&'k str, Option<&'k str>, &'k str, Option<&'k str>);

/// One side's line of a pair: its general line and its service's line.
type Line<'k> = (&'k str, Option<&'k str>);

/// What one comparison of clusters parts holds.
pub struct Plan<'k> {
    /// Its pairs by host ("" for the resources of no service), in host
    /// order, and whether it is the first to hold each.
    pairs: Vec<(&'k str, Pair<'k>, bool)>,
    /// The services it does not hold (equal on both sides), by host with
    /// their line.
    rest: Vec<(&'k str, &'k str)>,
    /// How many services the parts have (the larger side).
    services: usize,
}

impl<'k> Plan<'k> {
    /// Whether it generates some services, fewer than its parts have.
    pub fn is_partial(&self) -> bool {
        let firsts: Vec<usize> = self.firsts().collect();
        !firsts.is_empty() && {
            let [a, b] = self.hosts_of(&firsts);
            a.len().max(b.len()) < self.services
        }
    }

    /// The pairs it holds first, in chunks of at most `size` services to
    /// generate and compare one after the other (a comparison of two views
    /// of a whole mesh whose endpoints all changed holds every service:
    /// generated at once, it held GiBs, and its comparing had the cores to
    /// itself).
    pub fn chunks(&self, size: usize) -> Vec<Chunk<'k>> {
        let firsts: Vec<usize> = self.firsts().collect();
        firsts
            .chunks(size.max(1))
            .map(|pairs| Chunk {
                hosts: self.hosts_of(pairs),
                pairs: pairs.to_vec(),
            })
            .collect()
    }

    fn firsts(&self) -> impl Iterator<Item = usize> {
        (self.pairs.iter().enumerate())
            .filter(|(_, (_, _, first))| *first)
            .map(|(i, _)| i)
    }

    /// The hosts of `pairs` with a line on each side.
    fn hosts_of(&self, pairs: &[usize]) -> [HashSet<&'k str>; 2] {
        let mut out = [HashSet::new(), HashSet::new()];
        for &i in pairs {
            let (host, (_, old, _, new), _) = self.pairs[i];
            for (side, line) in [old, new].into_iter().enumerate() {
                if line.is_some() {
                    out[side].insert(host);
                }
            }
        }
        out
    }
}

/// Some of the pairs a [`Plan`] holds first: indices into its pairs (what
/// comparing them splits by), and the hosts to generate for them on each
/// side (what generating them reads).
pub struct Chunk<'k> {
    pub pairs: Vec<usize>,
    pub hosts: [HashSet<&'k str>; 2],
}

/// The pairs of lines compared so far and what they gave.
#[derive(Default)]
pub struct Lines<'k> {
    held: HashSet<Pair<'k>>,
    /// The changes each pair gave (indices into the changes found).
    changes: HashMap<Pair<'k>, Vec<usize>>,
    /// The secret names each side's lines reference, by general line and
    /// line.
    sds: [HashMap<Line<'k>, Vec<String>>; 2],
}

impl<'k> Lines<'k> {
    /// The plan of comparing the clusters part `x` of `a` with `y` of `b`,
    /// the pairs no comparison held before taken as this one's. None
    /// when they are not split by service, or a side sees a host twice.
    pub fn plan(
        &mut self,
        (a, x): (&'k dyn Side, usize),
        (b, y): (&'k dyn Side, usize),
        focus: Option<&Focus>,
    ) -> Option<Plan<'k>> {
        let (ga, old) = a.service_lines(x)?;
        let (gb, new) = b.service_lines(y)?;
        let services = old.len().max(new.len());
        let mut hosts: BTreeMap<&str, [Option<&str>; 2]> = BTreeMap::new();
        for (side, lines) in [old, new].into_iter().enumerate() {
            for (host, line) in lines {
                hosts.entry(host).or_default()[side]
                    .replace(line)
                    .is_none()
                    .then_some(())?;
            }
        }
        let mut pairs = vec![("", (ga, None, gb, None))];
        let mut rest = Vec::new();
        for (host, [p, q]) in hosts {
            if ga != gb || p != q || focus.is_none_or(|f| f.touches_any(host)) {
                pairs.push((host, (ga, p, gb, q)));
            } else if let Some(line) = p {
                rest.push((host, line));
            }
        }
        let pairs = pairs
            .into_iter()
            .map(|(host, pair)| (host, pair, self.held.insert(pair)))
            .collect();
        Some(Plan {
            pairs,
            rest,
            services,
        })
    }

    /// Split what was generated for the pairs `pairs` of `plan` (a
    /// chunk's) by pair: (index into the plan's pairs, old side's
    /// resources, new side's).
    pub fn split(
        plan: &Plan<'k>,
        pairs: &[usize],
        old: Resources,
        new: Resources,
    ) -> Vec<(usize, Resources, Resources)> {
        let index: HashMap<&str, usize> = pairs.iter().map(|&i| (plan.pairs[i].0, i)).collect();
        let mut out: BTreeMap<usize, (Resources, Resources)> = BTreeMap::new();
        for (side, resources) in [old, new].into_iter().enumerate() {
            for (key, value) in resources.0 {
                let at = host_of(&key.1).and_then(|h| index.get(h)).or(index.get(""));
                if let Some(&i) = at {
                    let both = out.entry(i).or_default();
                    [&mut both.0, &mut both.1][side].0.insert(key, value);
                }
            }
        }
        out.into_iter().map(|(i, (x, y))| (i, x, y)).collect()
    }

    /// Keep the secret names each side's resources of the pair `i` of
    /// `plan` reference.
    pub fn record_secrets(&mut self, plan: &Plan<'k>, i: usize, sides: [&Resources; 2]) {
        let (_, pair @ (ga, old, gb, new), _) = plan.pairs[i];
        for (side, (key, resources)) in [(ga, old), (gb, new)].into_iter().zip(sides).enumerate() {
            if held_on(pair, key) {
                self.sds[side].insert(key, secrets::referenced(resources.0.values()));
            }
        }
    }

    /// Keep the changes the pair `i` of `plan` gave.
    pub fn record_changes(&mut self, plan: &Plan<'k>, i: usize, changes: Vec<usize>) {
        self.changes.insert(plan.pairs[i].1, changes);
    }

    /// The changes of the comparison `plan` (its pairs', each compared by
    /// now), and whether both sides' parts reference the same secret
    /// names. The services it does not hold reference the same on both
    /// sides: those of its own that differ are looked for there, among
    /// what the old side's part `x` of `a` references for them (generated
    /// for the lines no comparison generated before).
    pub fn outcome(&mut self, plan: &Plan<'k>, (a, x): (&dyn Side, usize)) -> (Vec<usize>, bool) {
        let mut changes = Vec::new();
        let mut sds: [BTreeSet<&String>; 2] = Default::default();
        for (_, pair @ (ga, old, gb, new), _) in &plan.pairs {
            changes.extend(self.changes.get(pair).into_iter().flatten());
            for (side, key) in [(*ga, *old), (*gb, *new)].into_iter().enumerate() {
                if held_on(*pair, key) {
                    sds[side].extend(self.sds[side].get(&key).into_iter().flatten());
                }
            }
        }
        let [x_names, y_names] = sds;
        let differ: BTreeSet<String> = x_names
            .symmetric_difference(&y_names)
            .map(|n| n.to_string())
            .collect();
        if differ.is_empty() {
            return (changes, true);
        }
        let general = plan.pairs[0].1.0;
        let known = |lines: &Self, line: &str| lines.sds[0].contains_key(&(general, Some(line)));
        let unknown: HashSet<&str> = plan
            .rest
            .iter()
            .filter(|(_, line)| !known(self, line))
            .map(|(host, _)| *host)
            .collect();
        if !unknown.is_empty()
            && let Some(part) = a.by_service(x)
        {
            let (generated, _) = part.generate(Some(&|h| unknown.contains(h)));
            let generated = Resources::from_config(generated);
            let mut by_host: HashMap<&str, Vec<&serde_json::Value>> = HashMap::new();
            for ((_, name), value) in &generated.0 {
                if let Some(host) = host_of(name).filter(|h| unknown.contains(h)) {
                    by_host.entry(host).or_default().push(value);
                }
            }
            for &(host, line) in &plan.rest {
                if unknown.contains(host) {
                    let names = by_host.remove(host).unwrap_or_default();
                    let names = secrets::referenced(names.into_iter());
                    self.sds[0].insert((general, Some(line)), names);
                }
            }
        }
        let shared: BTreeSet<&String> = plan
            .rest
            .iter()
            .flat_map(|(_, line)| self.sds[0].get(&(general, Some(*line))))
            .flatten()
            .collect();
        let same = differ.iter().all(|n| shared.contains(n));
        (changes, same)
    }
}

/// The host of a cluster or its endpoints (`outbound|PORT|SUBSET|HOST`);
/// None for those of no service.
fn host_of(name: &str) -> Option<&str> {
    name.strip_prefix("outbound|")
        .and_then(|r| r.rsplit('|').next())
}

/// Whether a side's `key` (general line, line) of `pair` holds resources: a
/// side without the service has none of it.
fn held_on(pair: Pair, key: Line) -> bool {
    key.1.is_some() || (pair.1.is_none() && pair.3.is_none())
}

/// A host's lines on each side ([`Side::host_lines`]): none on a side
/// whose view has no virtual host of it the focus touches.
///
/// [`Side::host_lines`]: super::share::Side::host_lines
type HostPair = (Option<u32>, Option<u32>);

/// Why a comparison's sides had no configuration (old, new).
pub type Errors = (Option<String>, Option<String>);

/// Focused outbound comparisons, virtual host by virtual host. The virtual
/// hosts of a host are a function of its lines, so a pair of lines gives
/// the same changes in every comparison holding it: the first generates
/// and compares them, the others take what it gave. Views of a large mesh
/// that differ by namespace alone share all but their own namespaces'
/// hosts' lines.
#[derive(Default)]
pub struct HostLines {
    held: HashSet<HostPair>,
    /// The changes each pair gave (indices into the changes found), or why
    /// its comparison had no configuration.
    given: HashMap<HostPair, Result<Vec<usize>, Errors>>,
}

/// What one focused comparison holds of its hosts' pairs.
pub struct HostPlan<'k> {
    /// The hosts it holds first, with their pairs.
    firsts: Vec<(&'k str, HostPair)>,
    /// The pairs of the hosts an earlier comparison held.
    taken: Vec<HostPair>,
}

impl HostLines {
    /// The plan of a comparison of an outbound part whose host lines are
    /// `old` and `new`, the pairs no comparison held before taken as this
    /// one's; and the hosts whose virtual hosts it need not generate. A
    /// host without a line on a side is generated.
    pub fn plan<'k>(
        &mut self,
        old: &'k [(String, Option<u32>)],
        new: &'k [(String, Option<u32>)],
    ) -> (HostPlan<'k>, HashSet<&'k str>) {
        let mut hosts: BTreeMap<&str, [Option<Option<u32>>; 2]> = BTreeMap::new();
        for (side, lines) in [old, new].into_iter().enumerate() {
            for (host, line) in lines {
                hosts.entry(host).or_default()[side] = Some(*line);
            }
        }
        let mut plan = HostPlan {
            firsts: Vec::new(),
            taken: Vec::new(),
        };
        let mut reused = HashSet::new();
        for (host, [a, b]) in hosts {
            if a == Some(None) || b == Some(None) {
                continue;
            }
            let pair = (a.flatten(), b.flatten());
            if self.held.insert(pair) {
                plan.firsts.push((host, pair));
            } else {
                plan.taken.push(pair);
                reused.insert(host);
            }
        }
        (plan, reused)
    }

    /// The changes of the comparison `plan` is of, given what it found
    /// (`found`, each change's host by `host_of`): those it found, with
    /// those its taken pairs gave, in order; why they had no
    /// configuration, should one not have. Its first pairs keep their
    /// hosts' changes.
    pub fn settle(
        &mut self,
        plan: &HostPlan,
        found: Result<Vec<usize>, Errors>,
        host_of: impl Fn(usize) -> Option<String>,
    ) -> Result<Vec<usize>, Errors> {
        let mut by_host: HashMap<String, Vec<usize>> = HashMap::new();
        if let Ok(changes) = &found {
            for &c in changes {
                if let Some(host) = host_of(c) {
                    by_host.entry(host).or_default().push(c);
                }
            }
        }
        for &(host, pair) in &plan.firsts {
            let given = match &found {
                Ok(_) => Ok(by_host.remove(host).unwrap_or_default()),
                Err(e) => Err(e.clone()),
            };
            self.given.insert(pair, given);
        }
        let mut changes = found?;
        for pair in &plan.taken {
            match self.given.get(pair) {
                Some(Ok(given)) => changes.extend(given),
                Some(Err(e)) => return Err(e.clone()),
                None => unreachable!("a pair is given before a later comparison takes it"),
            }
        }
        changes.sort_unstable();
        changes.dedup();
        Ok(changes)
    }

    /// How many virtual hosts' pairs `plan` takes.
    pub fn taken(plan: &HostPlan) -> usize {
        plan.taken.len()
    }
}

/// The host of a virtual host of a `"PORT"` route configuration (named
/// `HOST:PORT`): what host lines split a focused comparison's changes by.
/// None for other changes (a sniffed `HOST:PORT` configuration is
/// generated with its listener, in every view).
pub fn vhost_host<'n>(name: &str, part: Option<&'n str>) -> Option<&'n str> {
    name.parse::<u16>().ok()?;
    let (host, port) = part?.rsplit_once(':')?;
    port.parse::<u16>().ok().map(|_| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(hosts: &[(&str, Option<u32>)]) -> Vec<(String, Option<u32>)> {
        hosts.iter().map(|(h, l)| (h.to_string(), *l)).collect()
    }

    /// A pair of lines is generated by the first comparison holding it and
    /// taken by the later ones; a host without a line always generates.
    #[test]
    fn later_comparisons_take_the_first_ones_hosts() {
        let mut by_host = HostLines::default();
        let old = lines(&[("a", Some(1)), ("b", Some(2)), ("c", None)]);
        let new = lines(&[("a", Some(7)), ("b", Some(8)), ("c", None)]);
        let (first, reused) = by_host.plan(&old, &new);
        assert!(reused.is_empty());
        assert_eq!(first.firsts.len(), 2);
        // a changed (change 4), b did not; 9 is no virtual host's.
        let host = |c: usize| (c == 4).then(|| "a".to_string());
        let settled = by_host.settle(&first, Ok(vec![4, 9]), host);
        assert_eq!(settled, Ok(vec![4, 9]));
        // The same lines for a and b, and a host only the new side has.
        let new2 = lines(&[("a", Some(7)), ("b", Some(8)), ("d", Some(3))]);
        let (second, reused) = by_host.plan(&old[..2], &new2);
        assert_eq!(reused, HashSet::from(["a", "b"]));
        assert_eq!(HostLines::taken(&second), 2);
        let settled = by_host.settle(&second, Ok(vec![2]), |_| Some("d".into()));
        assert_eq!(settled, Ok(vec![2, 4]));
        // Different lines for a: generated again.
        let new3 = lines(&[("a", Some(5))]);
        let (third, reused) = by_host.plan(&old[..1], &new3);
        assert!(reused.is_empty());
        assert_eq!(HostLines::taken(&third), 0);
    }

    /// A comparison whose sides had no configuration passes that on to
    /// those that take its hosts.
    #[test]
    fn errors_are_taken_with_the_hosts() {
        let mut by_host = HostLines::default();
        let both = lines(&[("a", Some(1))]);
        let (first, _) = by_host.plan(&both, &both);
        let error: Errors = (Some("no proxy".into()), None);
        let settled = by_host.settle(&first, Err(error.clone()), |_| None);
        assert_eq!(settled, Err(error.clone()));
        let (second, _) = by_host.plan(&both, &both);
        assert_eq!(by_host.settle(&second, Ok(vec![]), |_| None), Err(error));
    }

    #[test]
    fn virtual_hosts_of_port_route_configurations_name_their_host() {
        let vhost = |name, part| vhost_host(name, part);
        assert_eq!(
            vhost("9080", Some("reviews.default.svc:9080")),
            Some("reviews.default.svc")
        );
        assert_eq!(vhost("9080", Some("allow_any")), None);
        assert_eq!(vhost("stock.shop:7070", Some("stock.shop:7070")), None);
        assert_eq!(vhost("9080", None), None);
    }
}
