//! Names and IPs for things a live cluster would have made up: pods of a
//! Deployment, their IPs, Service cluster IPs.
//!
//! Each is a hash of the owning object's own identity (kind, namespace, name,
//! replica), never of its position in the input, so an unrelated edit does not
//! rename anything and a diff shows only real changes. Hash collisions of IPs
//! are settled by [`IpPool`] in favour of the lexically smaller owner.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// 64-bit FNV-1a: small, stable across platforms and Rust versions.
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The alphabet Kubernetes uses for generated suffixes (no vowels, no
/// look-alikes), from apimachinery's rand.String.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn encode(mut h: u64, len: usize) -> String {
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        s.push(ALPHABET[(h % ALPHABET.len() as u64) as usize] as char);
        h /= ALPHABET.len() as u64;
    }
    s
}

/// The pod-template-hash a Deployment's ReplicaSet carries (10 characters,
/// like `7d9f6b8c5d`).
pub fn template_hash(namespace: &str, deployment: &str) -> String {
    encode(fnv1a(&["Deployment", namespace, deployment]), 10)
}

/// A generated pod-name suffix (5 characters) for one pod of `owner`;
/// `which` tells its pods apart (a replica index, a node name).
pub fn pod_suffix(owner_kind: &str, namespace: &str, owner: &str, which: &str) -> String {
    encode(fnv1a(&[owner_kind, namespace, owner, which]), 5)
}

/// An IPv4 range handed out by hash.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    base: u32,
    size: u32,
}

impl Range {
    /// Synthesized pod IPs: 10.128.0.0/9, away from the common service and
    /// node ranges, large enough that collisions stay rare.
    pub const PODS: Range = Range {
        base: u32::from_be_bytes([10, 128, 0, 0]),
        size: 1 << 23,
    };
    /// Synthesized Service cluster IPs: 10.96.0.0/12, Kubernetes' default.
    pub const SERVICES: Range = Range {
        base: u32::from_be_bytes([10, 96, 0, 0]),
        size: 1 << 20,
    };

    fn pick(&self, key: &str, attempt: u32) -> Ipv4Addr {
        let h = fnv1a(&[key, &attempt.to_string()]);
        // Skip .0 and .255 of every /24: they look wrong to people.
        let mut offset = (h % u64::from(self.size)) as u32;
        if offset & 0xff == 0 || offset & 0xff == 0xff {
            offset ^= 0x01;
        }
        Ipv4Addr::from(self.base + offset)
    }
}

/// Hands out addresses by hash of a key, settling collisions among keys and
/// against addresses already taken by the input, independently of the order
/// in which keys are asked for.
#[derive(Debug)]
pub struct IpPool {
    range: Range,
    taken: BTreeSet<Ipv4Addr>,
    wanted: BTreeSet<String>,
}

impl IpPool {
    pub fn new(range: Range, taken: impl IntoIterator<Item = Ipv4Addr>) -> Self {
        IpPool {
            range,
            taken: taken.into_iter().collect(),
            wanted: BTreeSet::new(),
        }
    }

    /// Ask for an address for `key`; answered by [`IpPool::assign`].
    pub fn want(&mut self, key: String) {
        self.wanted.insert(key);
    }

    /// Every wanted key's address. Keys are settled in sorted order, so the
    /// smaller key keeps a contested address whatever the input order was.
    pub fn assign(self) -> BTreeMap<String, Ipv4Addr> {
        let mut taken = self.taken;
        let mut out = BTreeMap::new();
        for key in self.wanted {
            let mut attempt = 0;
            let ip = loop {
                let ip = self.range.pick(&key, attempt);
                if taken.insert(ip) {
                    break ip;
                }
                attempt += 1;
            };
            out.insert(key, ip);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_kubernetes_and_are_stable() {
        let h = template_hash("shop", "reviews-v1");
        assert_eq!(h.len(), 10);
        assert!(h.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(h, template_hash("shop", "reviews-v1"));
        assert_ne!(h, template_hash("shop", "reviews-v2"));
        assert_eq!(pod_suffix("ReplicaSet", "shop", "x", "0").len(), 5);
    }

    #[test]
    fn ip_assignment_ignores_request_order() {
        let mut a = IpPool::new(Range::PODS, []);
        let mut b = IpPool::new(Range::PODS, []);
        for k in ["x", "y", "z"] {
            a.want(k.to_string());
        }
        for k in ["z", "y", "x"] {
            b.want(k.to_string());
        }
        assert_eq!(a.assign(), b.assign());
    }

    #[test]
    fn taken_addresses_are_avoided() {
        let first = Range::SERVICES.pick("k", 0);
        let mut pool = IpPool::new(Range::SERVICES, [first]);
        pool.want("k".into());
        let got = pool.assign();
        assert_ne!(got["k"], first);
    }
}
