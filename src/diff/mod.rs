//! `meshsim diff OLD NEW`: what a change to the manifests does to every
//! proxy's Envoy configuration.
//!
//! Each side is generated once per class of equal proxy inputs
//! ([`share`]); each proxy's resources are compared by type and name
//! ([`compare`]); every change is attributed to the manifest objects that
//! differ and reach it ([`attribute`]); changes shown by the same proxies
//! form one group with them ([`Report`]), printed as text, markdown or
//! JSON ([`output`]).

pub mod attribute;
pub mod compare;
mod lines;
pub mod output;
mod pretty;
pub mod resources;
pub mod share;
pub mod snapshot;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

use crate::registry::ProxyType;
use crate::session::Session;

use attribute::{Attribution, ObjectChange, ProxyReach};
use compare::{Change, ChangeKey, Differs, Op, differing};
use lines::{HostLines, Lines, Plan};
use resources::ResourceType;
use resources::Resources;
use share::{PartKind, ProxyEntry, Side};

use crate::xds::generate::ClustersPart;
use crate::xds::generate::focus::Focus;
use crate::xds::generate::telemetry::WorkloadNames;

/// What to compare.
#[derive(Debug, Clone)]
pub struct Options {
    /// Resource types compared (`--type`); all by default.
    pub types: Vec<ResourceType>,
    /// Only these proxy ids (`name.namespace`), when given.
    pub proxies: Option<BTreeSet<String>>,
    /// Generate even the parts no changed object reaches (a check that
    /// skipping them changes nothing).
    pub regenerate_all: bool,
    /// How many services a comparison of clusters parts service by
    /// service generates and compares at once: what it holds against how
    /// often it builds their scopes' services again.
    pub chunk: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            types: ResourceType::ALL.to_vec(),
            proxies: None,
            regenerate_all: false,
            chunk: 500,
        }
    }
}

impl Options {
    fn wants(&self, id: &str) -> bool {
        self.proxies.as_ref().is_none_or(|p| p.contains(id))
    }
}

/// A proxy as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProxyRef {
    pub id: String,
    pub namespace: String,
    pub kind: ProxyType,
}

impl ProxyRef {
    fn of(p: &ProxyEntry) -> ProxyRef {
        ProxyRef {
            id: p.id.clone(),
            namespace: p.namespace.clone(),
            kind: p.kind,
        }
    }
}

/// A changed resource as a group shows it, and the objects that caused it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupChange {
    pub rtype: ResourceType,
    pub name: String,
    /// The virtual host of a route configuration the change is to.
    pub part: Option<String>,
    pub op: Op,
    /// Index into [`Report::diffs`]: a change several groups show (with
    /// other causes) is held (and printed) once.
    pub diff: usize,
    /// Indices into [`Report::objects`].
    pub causes: Vec<usize>,
}

/// The proxies that show a set of changes, and no other proxy does: each
/// change (with its causes) is in one group, and a proxy is in as many
/// groups as it has kinds of change (what its namespace sees, what its
/// workload serves...).
#[derive(Debug, Clone)]
pub struct Group {
    /// Indices into [`Report::changed`], in id order.
    pub proxies: Vec<usize>,
    pub changes: Vec<GroupChange>,
}

/// A proxy whose configuration could be generated on one side only.
#[derive(Debug, Clone)]
pub struct Failed {
    pub proxy: ProxyRef,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Everything `diff` found.
#[derive(Debug, Default)]
pub struct Report {
    pub objects: Vec<ObjectChange>,
    /// Unified diffs of changed resources' JSON, each once, in the order
    /// groups first show them.
    pub diffs: Vec<String>,
    pub groups: Vec<Group>,
    pub added: Vec<ProxyRef>,
    pub removed: Vec<ProxyRef>,
    pub failed: Vec<Failed>,
    /// Proxies with no configuration on either side, for the same reason
    /// (gateways, before gateway generation): not compared, not a change.
    pub not_generated: Vec<(ProxyRef, String)>,
    /// Proxies present on both sides whose compared resources are equal.
    pub unchanged: usize,
    /// Proxies present on both sides with changes, in id order, each in
    /// one group or more: groups name them by index (a mesh-wide change has
    /// thousands of groups of thousands of proxies each).
    pub changed: Vec<ProxyRef>,
    /// Pairs of parts generated and compared (the others no changed
    /// object reaches).
    pub generated: usize,
    /// Of those, pairs generated for some hosts only: listeners and
    /// routes that changed objects reach through some hosts, clusters and
    /// endpoints of the services no comparison before held ([`lines`]).
    pub focused: usize,
    /// Pairs of clusters parts not generated: comparisons before held all
    /// their services (with the same lines on each side).
    pub reused: usize,
    /// Virtual hosts of focused comparisons not generated: a comparison
    /// before held their hosts with the same lines ([`HostLines`]).
    pub reused_hosts: usize,
    /// Services' lines of clusters comparisons not generated: an earlier
    /// comparison generated the side the line is on ([`Lines::derive`]).
    pub reused_lines: usize,
    /// Services of clusters comparisons whose endpoints alone were
    /// generated ([`lines`]).
    pub endpoints_alone: usize,
    /// Wall time by phase (`MESHSIM_TIMINGS`, for performance work).
    pub timings: Timings,
}

/// Wall time spent in each phase, summed, in the order first met.
#[derive(Debug, Default)]
pub struct Timings(pub Vec<(String, Duration)>);

impl Timings {
    /// Add the time since `since` to `phase`; now.
    pub fn add(&mut self, phase: &str, since: Instant) -> Instant {
        let now = Instant::now();
        match self.0.iter_mut().find(|(p, _)| p == phase) {
            Some((_, d)) => *d += now - since,
            None => self.0.push((phase.to_string(), now - since)),
        }
        now
    }
}

impl Report {
    /// Anything a reviewer must look at (exit status 1).
    pub fn has_changes(&self) -> bool {
        !(self.groups.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.failed.is_empty())
    }

    /// The proxies of `group`.
    pub fn proxies_of(&self, group: &Group) -> Vec<&ProxyRef> {
        group.proxies.iter().map(|&i| &self.changed[i]).collect()
    }
}

/// Compare two sessions.
pub fn diff(old: &Session, new: &Session, opts: &Options) -> Report {
    let mut timings = Timings::default();
    let start = Instant::now();
    let attribution = Attribution::build(old, new);
    let start = timings.add("attribution", start);
    let wanted = |id: &str| opts.wants(id);
    if attribution.objects.is_empty() {
        // Equal inputs generate equal configuration: nothing to generate.
        return Report {
            unchanged: old
                .mesh
                .proxies()
                .filter(|(_, w, _)| wanted(&w.id()))
                .count(),
            ..Report::default()
        };
    }
    // Both sides at once: classing has long stretches on one core.
    let (mut a, mut b) = crate::parallel::join(
        || share::classify(old, &wanted),
        || share::classify(new, &wanted),
    );
    let skip = (!opts.regenerate_all && attribution.bounded()).then_some(&attribution);
    let focus = skip.map(|a| a.focus([old, new]));
    if let Some(focus) = &focus {
        crate::parallel::join(|| a.read_hosts(focus), || b.read_hosts(focus));
    }
    timings.add("classing", start);
    let mut report = compare_sides(
        &a,
        &b,
        &opts.types,
        Some(&attribution),
        skip,
        focus.as_ref(),
        (!opts.regenerate_all).then_some(opts.chunk),
    );
    report.objects = attribution.objects;
    timings.0.append(&mut report.timings.0);
    report.timings = timings;
    report
}

/// How many comparisons of one workload's parts are generated ahead.
const SMALL_AHEAD: usize = 4;

/// A comparison's sides (or why one has no configuration), and whether
/// they were generated for some hosts only.
type Generated = (Result<Resources, String>, Result<Resources, String>, bool);

/// A comparison's generation under way on a thread of its own: what it
/// sends (its sides, or a comparison by service's chunk by chunk).
struct Generation<'s> {
    from: Receiver<Generated>,
    thread: Option<ScopedJoinHandle<'s, ()>>,
}

impl Generation<'_> {
    /// The next sides it sends; its panic, should it end without.
    fn next(&mut self) -> Generated {
        self.from.recv().unwrap_or_else(|_| {
            let thread = self.thread.take().expect("a generation is joined once");
            match thread.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => unreachable!("a generation sends what it was asked for"),
            }
        })
    }
}

/// One comparison: parts of the old side against parts of the new, with
/// each side's workload tracing values put back when the comparison is
/// one proxy's own (its values differ between the sides, or the sides split
/// it differently).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Job {
    old: Vec<usize>,
    new: Vec<usize>,
    names: (Option<WorkloadNames>, Option<WorkloadNames>),
}

/// A change as comparisons find it, the same in every comparison that
/// finds it (so described once), its diff held in the report's list.
struct Found {
    rtype: ResourceType,
    name: String,
    part: Option<String>,
    op: Op,
    diff: usize,
    /// The changed objects reaching a host it mentions.
    hosts: Vec<usize>,
    own: bool,
}

/// The changes comparisons found, each described once: a change many
/// comparisons find (one endpoint every view sees) has one fingerprint.
#[derive(Default)]
struct Findings {
    found: Vec<Found>,
    // Keys are long: a fast hash.
    known: foldhash::HashMap<ChangeKey, usize>,
    diffs: Texts,
}

/// A change that differs, with its key, described when no change met
/// before has its key: with its diff's hash ([`Texts::hash`]), the changed
/// objects reaching a host it mentions, and whether it is about the proxy
/// itself.
type Described = (ChangeKey, Option<(Change, u64, Vec<usize>, bool)>);

/// The diffs of the changes found, each text once (changes of different
/// sides may show the same hunks).
#[derive(Default)]
struct Texts {
    list: Vec<String>,
    /// Each text's index by its hash; a text of a hash another has is
    /// listed apart.
    by_hash: foldhash::HashMap<u64, usize>,
}

impl Texts {
    /// A text's hash, taken where it is written (on every core) rather
    /// than where it is listed: hundreds of MB in a mesh-wide change.
    fn hash(text: &str) -> u64 {
        use std::hash::BuildHasher;
        foldhash::quality::FixedState::with_seed(0).hash_one(text)
    }

    /// The index of `text`, whose hash is `hash`.
    fn add(&mut self, text: String, hash: u64) -> usize {
        let next = self.list.len();
        let at = *self.by_hash.entry(hash).or_insert(next);
        if at != next && self.list[at] == text {
            return at;
        }
        self.list.push(text);
        next
    }
}

impl Findings {
    /// The indices of `differs` in the changes found.
    fn of(&mut self, differs: Vec<&Differs>, attribution: Option<&Attribution>) -> Vec<usize> {
        let described = self.describe(differs, attribution);
        self.number(described)
    }

    /// `differs` keyed, and those not met before described, on every
    /// core.
    fn describe(
        &self,
        differs: Vec<&Differs>,
        attribution: Option<&Attribution>,
    ) -> Vec<Described> {
        let keys = crate::parallel::map_owned(differs.clone(), Differs::key);
        let mut fresh: Vec<&Differs> = Vec::new();
        let mut fresh_keys = foldhash::HashSet::default();
        let mut is_fresh = Vec::with_capacity(keys.len());
        for (d, k) in differs.iter().zip(&keys) {
            let new = !self.known.contains_key(k) && fresh_keys.insert(k);
            if new {
                fresh.push(d);
            }
            is_fresh.push(new);
        }
        let described = crate::parallel::map_owned(fresh, |d| {
            let (c, mentions) = d.describe();
            let hosts = attribution
                .map(|a| a.of_change(&mentions))
                .unwrap_or_default();
            let hash = Texts::hash(&c.diff);
            (c, hash, hosts, attribute::is_own(&mentions))
        });
        let mut described = described.into_iter();
        keys.into_iter()
            .zip(is_fresh)
            .map(|(k, new)| (k, new.then(|| described.next()).flatten()))
            .collect()
    }

    /// The indices of described changes in the changes found, in order
    /// (a change is numbered where first found).
    fn number(&mut self, described: Vec<Described>) -> Vec<usize> {
        described
            .into_iter()
            .map(|(k, described)| {
                *self.known.entry(k).or_insert_with(|| {
                    let (c, hash, hosts, own) = described.expect("each fresh change described");
                    self.found.push(Found {
                        hosts,
                        own,
                        diff: self.diffs.add(c.diff, hash),
                        rtype: c.rtype,
                        name: c.name,
                        part: c.part,
                        op: c.op,
                    });
                    self.found.len() - 1
                })
            })
            .collect()
    }
}

/// What comparing one pair of parts (or of whole proxies) gave.
#[derive(Default)]
struct Outcome {
    /// Indices into the changes found.
    changes: Vec<usize>,
    /// Why a side has no configuration (old, new), when one has none.
    errors: Option<(Option<String>, Option<String>)>,
}

/// Compare two sides, attributing changes when `attribution` is given. A
/// proxy present on both sides is compared part by part when both split
/// it alike, else as the union of its parts; each pair of parts is
/// generated and compared once, then dropped. With `skip` (the changed
/// objects, their reach all known), a pair of parts generated from equal
/// inputs that no changed object reaches is taken as unchanged without
/// generating it, and one reached through some of its hosts only (its
/// inputs equal for the other hosts) is generated for the hosts of `focus`
/// when both sides can be. With `frugal`, a pair of parts that can hold
/// none of `types` is not generated, and clusters parts are compared
/// service by service ([`lines`]), `frugal` services at a time.
pub fn compare_sides<'s>(
    a: &'s dyn Side,
    b: &'s dyn Side,
    types: &[ResourceType],
    attribution: Option<&Attribution>,
    skip: Option<&Attribution>,
    focus: Option<&Focus>,
    frugal: Option<usize>,
) -> Report {
    let mut report = Report::default();
    for (id, p) in a.proxies() {
        if !b.proxies().contains_key(id) {
            report.removed.push(ProxyRef::of(p));
        }
    }
    // Each proxy's comparisons: (parts of a, parts of b).
    let mut pairs: Vec<(&ProxyEntry, Vec<Job>)> = Vec::new();
    for (id, q) in b.proxies() {
        let Some(p) = a.proxies().get(id) else {
            report.added.push(ProxyRef::of(q));
            continue;
        };
        let kinds = |s: &dyn Side, e: &ProxyEntry| -> Vec<PartKind> {
            e.parts.iter().map(|&x| s.part_kind(x)).collect()
        };
        let own = (p.names.clone(), q.names.clone());
        let jobs = if kinds(a, p) == kinds(b, q) {
            p.parts
                .iter()
                .zip(&q.parts)
                .map(|(&x, &y)| Job {
                    old: vec![x],
                    new: vec![y],
                    names: if p.names != q.names && a.part_kind(x) == PartKind::Outbound {
                        own.clone()
                    } else {
                        (None, None)
                    },
                })
                .collect()
        } else {
            vec![Job {
                old: p.parts.clone(),
                new: q.parts.clone(),
                names: own,
            }]
        };
        pairs.push((q, jobs));
    }
    // Halves before the own parts that need their secret names.
    let mut jobs: Vec<&Job> = pairs.iter().flat_map(|(_, j)| j).collect();
    jobs.sort_by_key(|j| (j.old.len(), j.old.first().map(|&x| a.part_kind(x)), *j));
    jobs.dedup();
    let union = |side: &dyn Side,
                 parts: &[usize],
                 names: &Option<WorkloadNames>|
     -> Result<Resources, String> {
        let mut out = Resources::default();
        for &part in parts {
            out.0.append(&mut side.resources(part)?.0);
        }
        if let Some(names) = names {
            out.unmask(names);
        }
        Ok(out)
    };
    // What reaches each proxy directly, for skipping and for causes.
    let reach: Vec<Option<ProxyReach>> = pairs
        .iter()
        .map(|(q, _)| attribution.map(|a| a.of_proxy(&q.id, &q.namespace)))
        .collect();
    let Unreached {
        skipped,
        own_if_same_sds,
        focused,
        serving,
    } = match skip {
        Some(attribution) => unreached(a, b, &pairs, &reach, &jobs, attribution, focus),
        None => Unreached::default(),
    };
    // Pairs that can hold none of the types compared; kept apart from
    // `skipped`, whose parts' secret names are known to be the same.
    let holds = |side: &dyn Side, parts: &[usize]| {
        parts
            .iter()
            .any(|&p| side.part_kind(p).types().iter().any(|t| types.contains(t)))
    };
    let unwanted: HashSet<&Job> = jobs
        .iter()
        .copied()
        .filter(|j| frugal.is_some() && !holds(a, &j.old) && !holds(b, &j.new))
        .collect();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(jobs.len());
    let mut findings = Findings::default();
    // Clusters parts compared service by service, and whether the sides of
    // such a comparison reference the same secret names.
    let mut by_service = Lines::default();
    // Focused outbound comparisons' virtual hosts, compared host by host.
    let by_host = RefCell::new(HostLines::default());
    let same_secrets: RefCell<HashMap<&Job, bool>> = RefCell::default();
    // A pair that changed objects reach through some of its hosts only is
    // generated for those when both sides can be (then `true`), less the
    // virtual hosts of the `reused` hosts.
    let generate = |job: &Job, reused: &HashSet<&str>| -> Generated {
        let reused = |h: &str| reused.contains(h);
        if let Some(focus) = focus.filter(|_| focused.contains(job))
            && let (Some(x), Some(y)) = crate::parallel::join(
                || a.focused(job.old[0], focus, &reused),
                || b.focused(job.new[0], focus, &reused),
            )
        {
            return (Ok(x), Ok(y), true);
        }
        let (x, y) = crate::parallel::join(
            || union(a, &job.old, &job.names.0),
            || union(b, &job.new, &job.names.1),
        );
        (x, y, false)
    };
    // A clusters pair compared by service: the services of each chunk on
    // each side, sent as they are generated (at most one chunk waits).
    let by_chunks = |job: &Job, chunks: Vec<[lines::Hosts; 2]>, to: SyncSender<Generated>| {
        let split = "a part split by service generates by service";
        let (x, y) = crate::parallel::join(
            || a.by_service(job.old[0]).expect(split),
            || b.by_service(job.new[0]).expect(split),
        );
        let generate = |part: &ClustersPart, hosts: &lines::Hosts| {
            let (config, _) = part.generate(Some(&|h| hosts.whole.contains(h)));
            let mut out = Resources::from_config(config);
            out.add_endpoints(part.load_assignments(&|h| hosts.endpoints.contains(h)));
            out
        };
        for [p, q] in chunks {
            let (old, new) = crate::parallel::join(|| generate(&x, &p), || generate(&y, &q));
            if to.send((Ok(old), Ok(new), true)).is_err() {
                return;
            }
        }
    };
    // An own part skips when its proxies' other parts were skipped or
    // reference the same secret names on both sides: decided once those
    // are generated (they come first).
    let same_sds = |job: &Job, skipped: &HashSet<&Job>| {
        serving[job].iter().all(|&i| {
            pairs[i].1.iter().filter(|j| *j != job).all(|j| {
                skipped.contains(j)
                    || same_secrets.borrow().get(j).copied().unwrap_or_else(|| {
                        match (j.old.as_slice(), j.new.as_slice()) {
                            ([x], [y]) => a.part_sds(*x).is_some_and(|n| Some(n) == b.part_sds(*y)),
                            _ => false,
                        }
                    })
            })
        })
    };
    // The clusters comparisons' plans, made in the order the comparisons
    // run (a pair of lines is the first comparison's to hold it), so that
    // a line generated once is not generated again for a comparison that
    // holds it on one side only.
    let mut in_order: Vec<(&Job, Plan)> = Vec::new();
    if frugal.is_some() {
        for &job in &jobs {
            if let ([x], [y]) = (job.old.as_slice(), job.new.as_slice())
                && !unwanted.contains(job)
                && !skipped.contains(job)
                && let Some(plan) = by_service.plan((a, *x), (b, *y), focus)
            {
                in_order.push((job, plan));
            }
        }
        by_service.derive(in_order.iter_mut().map(|(_, plan)| plan));
    }
    let mut plans: HashMap<&Job, Plan> = in_order.into_iter().collect();
    // What comparisons described for the pairs later ones take.
    let mut derived: HashMap<lines::Pair, Vec<Described>> = HashMap::new();
    std::thread::scope(|s| {
        // The next comparisons' parts are generated while this one's
        // changes are described: one pair of large parts (views), or a few
        // of one workload's, each too quick to keep the cores busy alone.
        let skipped = RefCell::new(skipped);
        let mut queue = jobs.iter().copied().peekable();
        let small = |j: &&Job| matches!(a.part_kind(j.old[0]), PartKind::Inbound | PartKind::Own);
        // The next comparison to generate, deciding the skips on the way;
        // none while comparisons are `pending` and the next is an own part
        // whose skip needs their secret names. A clusters comparison holds
        // its services' pairs of lines no comparison before held, and
        // generates those alone (or nothing), chunk by chunk.
        let drop_job = |job: &Job| {
            job.old.iter().for_each(|&x| a.skipped(x));
            job.new.iter().for_each(|&y| b.skipped(y));
        };
        let mut next = |pending: bool| loop {
            let &job = queue.peek()?;
            if unwanted.contains(job) {
                drop_job(job);
                queue.next();
                continue;
            }
            let own = own_if_same_sds.contains(job);
            if pending && own {
                return None;
            }
            queue.next();
            let mut skipped = skipped.borrow_mut();
            if skipped.contains(job) || (own && same_sds(job, &skipped)) {
                skipped.insert(job);
                drop_job(job);
                continue;
            }
            let plan = plans.remove(job);
            let chunks = match (&plan, frugal) {
                (Some(plan), Some(size)) => plan.chunks(size),
                _ => Vec::new(),
            };
            // Comparing splits by the chunks' pairs; generating reads their
            // hosts.
            let (chunks, hosts): (Vec<Vec<usize>>, Vec<[lines::Hosts; 2]>) =
                chunks.into_iter().map(|c| (c.pairs, c.hosts)).unzip();
            // A focused comparison whose views have host lines.
            let lines = (job.old.as_slice(), job.new.as_slice());
            let lines = match lines {
                ([x], [y]) if focus.is_some() && focused.contains(job) => {
                    a.host_lines(*x).zip(b.host_lines(*y))
                }
                _ => None,
            };
            let (host_plan, reused) = match lines {
                Some((x, y)) => {
                    let (plan, reused) = by_host.borrow_mut().plan(x, y);
                    (Some(plan), reused)
                }
                None => (None, HashSet::new()),
            };
            let (to, from) = std::sync::mpsc::sync_channel(1);
            let thread = match &plan {
                Some(_) if chunks.is_empty() => None,
                Some(_) => Some(s.spawn(move || by_chunks(job, hosts, to))),
                None => Some(s.spawn(move || {
                    // The receiver waits for it while it lives.
                    let _ = to.send(generate(job, &reused));
                })),
            };
            let generation = thread.map(|thread| Generation {
                from,
                thread: Some(thread),
            });
            return Some((job, (generation, plan, chunks, host_plan)));
        };
        let mut ahead = VecDeque::new();
        for job in &jobs {
            if ahead.is_empty() {
                refill(&mut ahead, small, &mut next);
            }
            if unwanted.contains(job) || skipped.borrow().contains(job) {
                outcomes.push(Outcome::default());
                continue;
            }
            let (mut generation, plan, chunks, host_plan) = ahead
                .pop_front()
                .expect("a generation per comparison not skipped")
                .1;
            report.reused_hosts += host_plan.as_ref().map_or(0, HostLines::taken);
            let waited = Instant::now();
            let generated = match (&plan, &mut generation) {
                (None, Some(g)) => Some(g.next()),
                _ => None,
            };
            let in_focus = plan.is_some() || matches!(generated, Some((_, _, true)));
            let mut kind = format!("{:?}", a.part_kind(job.old[0])).to_lowercase();
            if plan.is_none() && in_focus {
                kind.push_str(", focused");
            }
            let (waiting, comparing) = (
                format!("comparisons: {kind}: waiting"),
                format!("comparisons: {kind}: comparing"),
            );
            let mut compared = report.timings.add(&waiting, waited);
            report.reused += usize::from(generation.is_none());
            // A comparison by service knows its secret names once compared.
            let recording = plan.is_some();
            refill(&mut ahead, small, |pending| next(pending || recording));
            if generation.is_some() {
                report.generated += 1;
                report.focused +=
                    usize::from(in_focus && plan.as_ref().is_none_or(Plan::is_partial));
            }
            let outcome = match (generated, plan) {
                (_, Some(plan)) => {
                    // The changes of every chunk, numbered once all are
                    // described: in type and name order, as one part's
                    // are, each with the index of its pair in the plan.
                    let mut described: Vec<(usize, Described)> = Vec::new();
                    // The pairs that generated resources.
                    let mut generated_pairs: Vec<usize> = Vec::new();
                    if let Some(generation) = &mut generation {
                        for pairs in &chunks {
                            compared = report.timings.add(&comparing, compared);
                            let (Ok(x), Ok(y), _) = generation.next() else {
                                unreachable!("a comparison by service generates without errors")
                            };
                            compared = report.timings.add(&waiting, compared);
                            let split = Lines::split(&plan, pairs, x, y);
                            let differs: Vec<(usize, Differs)> = split
                                .iter()
                                .flat_map(|(i, x, y)| {
                                    differing(x, y, types).into_iter().map(move |d| (*i, d))
                                })
                                .collect();
                            let keyed = findings
                                .describe(differs.iter().map(|(_, d)| d).collect(), attribution);
                            described.extend(differs.iter().map(|(i, _)| *i).zip(keyed));
                            // The sides later comparisons take whole: each
                            // resource added or removed, with its takers.
                            let none = Resources::default();
                            let mut taken: Vec<(&[lines::Pair], Differs)> = Vec::new();
                            for (i, x, y) in &split {
                                by_service.record_secrets(&plan, *i, [x, y]);
                                generated_pairs.push(*i);
                            }
                            for (i, x, y) in &split {
                                for (side, (p, q)) in [(0, (x, &none)), (1, (&none, y))] {
                                    let takers = by_service.takers(&plan, *i, side);
                                    if !takers.is_empty() {
                                        let whole = differing(p, q, types);
                                        taken.extend(whole.into_iter().map(|d| (takers, d)));
                                    }
                                }
                            }
                            let keyed = findings
                                .describe(taken.iter().map(|(_, d)| d).collect(), attribution);
                            for ((takers, _), d) in taken.iter().zip(keyed) {
                                for pair in *takers {
                                    derived.entry(*pair).or_default().push(d.clone());
                                }
                            }
                            drop(differs);
                            crate::parallel::drop_later(split);
                        }
                    }
                    report.reused_lines += plan.derived().count();
                    report.endpoints_alone += plan.endpoints_alone();
                    for (i, pair) in plan.derived() {
                        let taken = derived
                            .remove(&pair)
                            .expect("an earlier comparison described");
                        described.extend(taken.into_iter().map(|d| (i, d)));
                        generated_pairs.push(i);
                    }
                    described.sort_by(|(_, (x, _)), (_, (y, _))| (x.0, &x.1).cmp(&(y.0, &y.1)));
                    let (at, described): (Vec<usize>, Vec<Described>) =
                        described.into_iter().unzip();
                    let mut changes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
                    for (i, f) in at.into_iter().zip(findings.number(described)) {
                        changes.entry(i).or_default().push(f);
                    }
                    for i in generated_pairs {
                        by_service.record_changes(&plan, i, changes.remove(&i).unwrap_or_default());
                    }
                    let (changes, same) = by_service.outcome(&plan, (a, job.old[0]));
                    same_secrets.borrow_mut().insert(job, same);
                    Outcome {
                        changes,
                        errors: None,
                    }
                }
                (Some(generated), None) => {
                    let found = match generated {
                        (Ok(x), Ok(y), _) => {
                            let differs = differing(&x, &y, types);
                            let changes = findings.of(differs.iter().collect(), attribution);
                            drop(differs);
                            // Large parts take a while to free: not on the
                            // way to the next.
                            crate::parallel::drop_later((x, y));
                            Ok(changes)
                        }
                        (x, y, _) => Err((x.err(), y.err())),
                    };
                    // A focused comparison by host takes what earlier ones
                    // gave for the hosts it did not generate.
                    let found = match &host_plan {
                        Some(plan) => by_host.borrow_mut().settle(plan, found, |c| {
                            let f = &findings.found[c];
                            let vhost = (f.rtype == ResourceType::Route)
                                .then(|| lines::vhost_host(&f.name, f.part.as_deref()));
                            vhost.flatten().map(str::to_string)
                        }),
                        None => found,
                    };
                    match found {
                        Ok(changes) => Outcome {
                            changes,
                            errors: None,
                        },
                        Err(errors) => Outcome {
                            changes: Vec::new(),
                            errors: Some(errors),
                        },
                    }
                }
                (None, None) => unreachable!("only a clusters comparison generates nothing"),
            };
            outcomes.push(outcome);
            report.timings.add(&comparing, compared);
        }
    });
    let start = Instant::now();
    let Findings { found, diffs, .. } = findings;
    let job_index: HashMap<&Job, usize> = jobs.iter().enumerate().map(|(i, &j)| (j, i)).collect();
    // Proxies classed first by the comparisons that found their changes and
    // by what reaches them (so by their causes): cheap to compare. Each
    // proxy by its index in `pairs`, which is in id order, as the report
    // lists proxies.
    type Coarse = (Vec<usize>, Option<ProxyReach>);
    let mut coarse: BTreeMap<Coarse, Vec<usize>> = BTreeMap::new();
    // Each changed proxy's index in the report's list.
    let mut changed_at = vec![0; pairs.len()];
    for (i, ((q, jobs), reach)) in pairs.iter().zip(reach).enumerate() {
        let mut with_changes: Vec<usize> = Vec::new();
        let mut errors: Option<(Option<String>, Option<String>)> = None;
        for job in jobs {
            let j = job_index[job];
            let outcome = &outcomes[j];
            if !outcome.changes.is_empty() {
                with_changes.push(j);
            }
            if let Some((x, y)) = &outcome.errors {
                let e = errors.get_or_insert((None, None));
                e.0 = e.0.take().or_else(|| x.clone());
                e.1 = e.1.take().or_else(|| y.clone());
            }
        }
        match errors {
            Some((Some(x), Some(y))) if x == y => {
                report.not_generated.push((ProxyRef::of(q), y));
                continue;
            }
            Some((old, new)) => {
                report.failed.push(Failed {
                    proxy: ProxyRef::of(q),
                    old,
                    new,
                });
                continue;
            }
            None => {}
        }
        if with_changes.is_empty() {
            report.unchanged += 1;
            continue;
        }
        changed_at[i] = report.changed.len();
        report.changed.push(ProxyRef::of(q));
        coarse.entry((with_changes, reach)).or_default().push(i);
    }
    let classes: Vec<(Coarse, Vec<usize>)> = coarse.into_iter().collect();
    // The classes each comparison's changes reach, by what of their reach
    // the changes' causes read: a change about what proxies see is caused
    // the same way on every proxy their namespace-wide reach agrees on,
    // whatever their own workloads' changes (which differ per workload).
    type Slice<'r> = (usize, bool, Option<ProxyReach>);
    // Whether each comparison found changes of what its proxies see, and
    // of what they are: once, not for each class (a view's comparison
    // finds thousands and reaches thousands of classes).
    let holds: Vec<[bool; 2]> = outcomes
        .iter()
        .map(|o| {
            let mut holds = [false; 2];
            for &f in &o.changes {
                holds[usize::from(found[f].own)] = true;
            }
            holds
        })
        .collect();
    let mut by_job: BTreeMap<Slice, Vec<usize>> = BTreeMap::new();
    for (c, ((jobs, reach), _)) in classes.iter().enumerate() {
        for &j in jobs {
            for own in [false, true] {
                if holds[j][usize::from(own)] {
                    let reach = reach.as_ref().map(|r| r.as_seen_by(own));
                    by_job.entry((j, own, reach)).or_default().push(c);
                }
            }
        }
    }
    let slices: Vec<(Slice, Vec<usize>)> = by_job.into_iter().collect();
    let causes_of = |reach: &Option<ProxyReach>, f: &Found| match (attribution, reach) {
        (Some(a), Some(r)) => a.causes(r, &f.hosts, f.own),
        _ => Vec::new(),
    };
    // Each slice's changes with their causes.
    let found_in: Vec<Vec<(usize, Vec<usize>)>> = slices
        .iter()
        .map(|((j, own, reach), _)| {
            outcomes[*j]
                .changes
                .iter()
                .filter(|&&f| found[f].own == *own)
                .map(|&f| (f, causes_of(reach, &found[f])))
                .collect()
        })
        .collect();
    let mut slices_of: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
    for (k, (_, cs)) in slices.iter().enumerate() {
        for &c in cs {
            slices_of[c].push(k);
        }
    }
    // A change that names no host (a listener whose route configuration
    // changed) is put down to what caused the rest of its comparison's
    // changes, else the rest of its proxies' changes.
    let fallback = |k: usize| -> Vec<usize> {
        let of = |k: usize| found_in[k].iter().flat_map(|(_, c)| c.iter().copied());
        let mut out: BTreeSet<usize> = of(k).collect();
        if out.is_empty() {
            let others: BTreeSet<usize> = slices[k]
                .1
                .iter()
                .flat_map(|&c| slices_of[c].iter().copied())
                .collect();
            out.extend(others.into_iter().flat_map(of));
        }
        out.into_iter().collect()
    };
    // Each change found with its causes (index into `found`, causes), and
    // the sets of classes showing it.
    type Shown = (usize, Vec<usize>);
    let mut shown_by: BTreeMap<Shown, Vec<usize>> = BTreeMap::new();
    let mut sets: HashMap<&[usize], usize> = HashMap::new();
    for (k, changes) in found_in.iter().enumerate() {
        let cs = &slices[k].1;
        let next = sets.len();
        let set = *sets.entry(cs.as_slice()).or_insert(next);
        let mut missing: Option<Vec<usize>> = None;
        for (f, causes) in changes {
            let causes = if causes.is_empty() {
                missing.get_or_insert_with(|| fallback(k)).clone()
            } else {
                causes.clone()
            };
            shown_by.entry((*f, causes)).or_default().push(set);
        }
    }
    let mut set_classes: Vec<&[usize]> = vec![&[]; sets.len()];
    for (cs, i) in sets {
        set_classes[i] = cs;
    }
    // Changes shown by the same sets form a group; its proxies are those
    // of the sets' classes.
    let mut groups: BTreeMap<Vec<usize>, Vec<Shown>> = BTreeMap::new();
    for (shown, mut by) in shown_by {
        by.sort_unstable();
        by.dedup();
        groups.entry(by).or_default().push(shown);
    }
    let mut groups: Vec<(Vec<usize>, Vec<Shown>)> = groups
        .into_iter()
        .map(|(by, mut changes)| {
            let mut in_classes: Vec<usize> = by
                .iter()
                .flat_map(|&s| set_classes[s].iter().copied())
                .collect();
            in_classes.sort_unstable();
            in_classes.dedup();
            let mut proxies: Vec<usize> = in_classes
                .iter()
                .flat_map(|&c| classes[c].1.iter().copied())
                .collect();
            proxies.sort_unstable();
            let proxies: Vec<usize> = proxies.iter().map(|&i| changed_at[i]).collect();
            changes.sort_by(|x, y| {
                let (a, b) = (&found[x.0], &found[y.0]);
                (a.rtype, &a.name, &a.part, &x.1).cmp(&(b.rtype, &b.name, &b.part, &y.1))
            });
            (proxies, changes)
        })
        .collect();
    // Largest groups first (a mesh-wide change leads), then by first proxy
    // and first change.
    groups.sort_by(|x, y| (y.0.len(), &x.0[0], x.1[0].0).cmp(&(x.0.len(), &y.0[0], y.1[0].0)));
    // Diffs numbered in the order groups show them; the others dropped.
    let mut text: Vec<Option<String>> = diffs.list.into_iter().map(Some).collect();
    let mut diff_at: HashMap<usize, usize> = HashMap::new();
    for (proxies, shown) in groups {
        let changes = shown
            .into_iter()
            .map(|(f, causes)| {
                let c = &found[f];
                let next = report.diffs.len();
                let diff = *diff_at.entry(c.diff).or_insert_with(|| {
                    report.diffs.push(text[c.diff].take().unwrap_or_default());
                    next
                });
                GroupChange {
                    rtype: c.rtype,
                    name: c.name.clone(),
                    part: c.part.clone(),
                    op: c.op,
                    diff,
                    causes,
                }
            })
            .collect();
        report.groups.push(Group { proxies, changes });
    }
    report.not_generated.sort();
    report.failed.sort_by(|x, y| x.proxy.cmp(&y.proxy));
    report.timings.add("grouping", start);
    report
}

/// Comparisons generated ahead (with `next`, told whether some are still
/// pending): at least one, and up to [`SMALL_AHEAD`] while they are
/// `small`.
fn refill<J, H>(
    ahead: &mut VecDeque<(J, H)>,
    small: impl Fn(&J) -> bool,
    mut next: impl FnMut(bool) -> Option<(J, H)>,
) {
    while ahead.is_empty()
        || (ahead.len() < SMALL_AHEAD && ahead.back().is_some_and(|(j, _)| small(j)))
    {
        let Some(n) = next(!ahead.is_empty()) else {
            break;
        };
        ahead.push_back(n);
    }
}

/// Where [`unreached`] puts a job.
enum Fate {
    Skipped,
    Focused,
    OwnIfSameSds,
}

/// What [`unreached`] found.
#[derive(Default)]
struct Unreached<'j> {
    /// The jobs no changed object reaches.
    skipped: HashSet<&'j Job>,
    /// Own jobs no changed object reaches, skipped when their proxies'
    /// other parts reference the same secret names on both sides.
    own_if_same_sds: HashSet<&'j Job>,
    /// Outbound jobs changed objects reach through some hosts only.
    focused: HashSet<&'j Job>,
    /// The pairs (proxies) each job serves.
    serving: HashMap<&'j Job, Vec<usize>>,
}

/// The jobs no changed object reaches: their parts were generated from
/// equal inputs on both sides (equal keys, the same workload values), and
/// no changed object reaches the namespace of any proxy they serve, nor
/// its Sidecar (outbound parts) or its own side (inbound parts; the
/// objects defining its workload aside: the keys show their changes), nor
/// what their parts read of a host. An own part
/// (static resources, secrets) reads the secret names its proxy's other
/// parts reference.
fn unreached<'j>(
    a: &dyn Side,
    b: &dyn Side,
    pairs: &'j [(&ProxyEntry, Vec<Job>)],
    reach: &[Option<ProxyReach>],
    jobs: &[&'j Job],
    attribution: &Attribution,
    focus: Option<&Focus>,
) -> Unreached<'j> {
    let mut out = Unreached::default();
    for (i, (_, js)) in pairs.iter().enumerate() {
        for j in js {
            out.serving.entry(j).or_default().push(i);
        }
    }
    // Each job's fate on every core: a mesh has thousands of workloads,
    // and an inbound part's hosts are worked out from its services.
    let fates = crate::parallel::map(jobs, |&job| {
        let ([x], [y]) = (job.old.as_slice(), job.new.as_slice()) else {
            return None;
        };
        let kind = a.part_kind(*x);
        if job.names != (None, None) || kind != b.part_kind(*y) {
            return None;
        }
        let reached = out.serving[job].iter().any(|&i| {
            reach[i].as_ref().is_none_or(|r| match kind {
                PartKind::Outbound | PartKind::Clusters => r.sees(),
                PartKind::Inbound => r.whole() || r.own(),
                // Its key and the secret names decide it.
                PartKind::Own | PartKind::Whole => r.whole(),
            })
        });
        if reached {
            return None;
        }
        let same_key = a.part_key(*x).is_some() && a.part_key(*x) == b.part_key(*y);
        let hosts_reached = || {
            [a.part_hosts(*x), b.part_hosts(*y)]
                .iter()
                .any(|h| attribution.reaches_hosts(h))
        };
        match kind {
            PartKind::Outbound | PartKind::Clusters | PartKind::Inbound
                if same_key && !hosts_reached() =>
            {
                Some(Fate::Skipped)
            }
            // Its key holds nothing of hosts: equal, the changed hosts
            // alone give changes. (Clusters parts are compared by service,
            // see `lines`.)
            PartKind::Outbound if same_key && focus.is_some() => Some(Fate::Focused),
            PartKind::Own if same_key => Some(Fate::OwnIfSameSds),
            _ => None,
        }
    });
    for (&job, fate) in jobs.iter().zip(fates) {
        match fate {
            Some(Fate::Skipped) => out.skipped.insert(job),
            Some(Fate::Focused) => out.focused.insert(job),
            Some(Fate::OwnIfSameSds) => out.own_if_same_sds.insert(job),
            None => false,
        };
    }
    out
}

impl Op {
    /// Changes of a group in a short phrase: `route 9080 changed`, `route
    /// 9080 virtual host reviews.default.svc.cluster.local:9080 changed`.
    pub fn phrase(self, rtype: ResourceType, name: &str, part: Option<&str>) -> String {
        match part {
            Some(vhost) => format!(
                "{} {name} virtual host {vhost} {}",
                rtype.name(),
                self.name()
            ),
            None => format!("{} {name} {}", rtype.name(), self.name()),
        }
    }
}
