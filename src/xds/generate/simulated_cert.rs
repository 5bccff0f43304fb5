//! Stand-in certificates for what istio-agent serves a proxy over SDS: the
//! workload certificate (`default`) and the mesh root (`ROOTCA`). meshsim
//! has no CA and no clock, so these are well-formed X.509 certificates with
//! fixed dates, serials derived from the identity, a subject that says
//! they are simulated, and no valid signature.

use crate::base64;
use crate::registry::catalog::fnv32a;

/// ecdsa-with-SHA256.
const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// id-ecPublicKey.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1.
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// Validity shown for every simulated certificate.
const NOT_BEFORE: &str = "260101000000Z";
const NOT_AFTER: &str = "360101000000Z";

/// The subject (and issuer) organisation that marks them.
pub const SIMULATED: &str = "meshsim simulated certificate (no CA offline)";

/// A simulated certificate as base64 of its PEM text (what Envoy's dump
/// shows in `inline_bytes`). `uri_san`: the SPIFFE identity of a workload
/// certificate; `None` makes a CA.
pub fn pem_base64(seed: &str, uri_san: Option<&str>) -> String {
    let is_ca = uri_san.is_none();
    let name = seq(&[set(&[seq(&[oid(ORGANIZATION), utf8(SIMULATED)])])]);
    let mut extensions = vec![seq(&[
        oid(BASIC_CONSTRAINTS),
        tlv(0x01, &[0xff]),
        octets(&seq(&if is_ca {
            vec![tlv(0x01, &[0xff])]
        } else {
            vec![]
        })),
    ])];
    if let Some(uri) = uri_san {
        extensions.push(seq(&[
            oid(SUBJECT_ALT_NAME),
            octets(&seq(&[tlv(0x86, uri.as_bytes())])),
        ]));
    }
    // A fixed point stands in for the key: nothing verifies it.
    let mut point = vec![0x04];
    point.extend(std::iter::repeat_n(0x11, 64));
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[0x02])),
        integer(&serial(seed)),
        seq(&[oid(ECDSA_SHA256)]),
        name.clone(),
        seq(&[
            tlv(0x17, NOT_BEFORE.as_bytes()),
            tlv(0x17, NOT_AFTER.as_bytes()),
        ]),
        name,
        seq(&[seq(&[oid(EC_PUBLIC_KEY), oid(P256)]), bits(&point)]),
        tlv(0xa3, &seq(&extensions)),
    ]);
    let der = seq(&[tbs, seq(&[oid(ECDSA_SHA256)]), bits(&[0x30, 0x00])]);
    let body = base64::encode(&der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    base64::encode(pem.as_bytes())
}

/// 16 bytes from the seed (FNV-1a, four rounds), top bit clear so the
/// INTEGER stays positive.
fn serial(seed: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    for round in 0u8..4 {
        let mut bytes = seed.as_bytes().to_vec();
        bytes.push(round);
        let h = fnv32a(&bytes);
        out.extend(h.to_be_bytes());
    }
    out[0] &= 0x7f;
    out
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}

fn set(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &items.concat())
}

fn oid(body: &[u8]) -> Vec<u8> {
    tlv(0x06, body)
}

fn utf8(text: &str) -> Vec<u8> {
    tlv(0x0c, text.as_bytes())
}

fn octets(body: &[u8]) -> Vec<u8> {
    tlv(0x04, body)
}

fn integer(body: &[u8]) -> Vec<u8> {
    tlv(0x02, body)
}

/// A BIT STRING with no unused bits.
fn bits(body: &[u8]) -> Vec<u8> {
    let mut b = vec![0];
    b.extend_from_slice(body);
    tlv(0x03, &b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::istioctl::cert::parse_pem;

    #[test]
    fn istioctl_reads_them() {
        let leaf = pem_base64(
            "spiffe://cluster.local/ns/a/sa/b",
            Some("spiffe://cluster.local/ns/a/sa/b"),
        );
        let info = parse_pem(&base64::decode(&leaf).unwrap()).unwrap();
        assert!(!info.is_ca);
        assert_eq!(info.trust_domain, "cluster.local");
        assert_eq!(info.serial.len(), 32);
        assert_eq!(info.not_before, 1_767_225_600);
        let root = pem_base64("cluster.local", None);
        let info = parse_pem(&base64::decode(&root).unwrap()).unwrap();
        assert!(info.is_ca);
        // Deterministic per seed, different across seeds.
        assert_eq!(root, pem_base64("cluster.local", None));
        assert_ne!(
            leaf,
            pem_base64("spiffe://cluster.local/ns/a/sa/c", Some("x"))
        );
    }
}
