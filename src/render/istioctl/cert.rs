//! Just enough X.509 for istioctl's secret table: the first PEM certificate's
//! serial, validity, CA flag and SPIFFE trust domain, plus UTC time handling
//! for the VALID CERT column. A small DER walker instead of a crate: the
//! table needs five fields, and meshsim owns the clock (`--now`).

/// What the secret table shows about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub is_ca: bool,
    /// Lowercase hex, at least 32 digits.
    pub serial: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// Host of the last `spiffe://` URI SAN.
    pub trust_domain: String,
}

/// Parse the first certificate of PEM text; `None` when it is not one.
pub fn parse_pem(pem: &[u8]) -> Option<CertInfo> {
    let text = std::str::from_utf8(pem).ok()?;
    let begin = "-----BEGIN CERTIFICATE-----";
    let start = text.find(begin)? + begin.len();
    let end = start + text[start..].find("-----END CERTIFICATE-----")?;
    let der = crate::base64::decode(&text[start..end])?;
    parse_der(&der)
}

/// One DER element: tag, contents, and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

fn parse_der(der: &[u8]) -> Option<CertInfo> {
    let (SEQUENCE, cert, _) = element(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = element(cert)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, body, next) = element(rest)?;
    let serial_bytes = if tag == 0xa0 {
        let (_, serial, next) = element(next)?;
        rest = next;
        serial
    } else {
        rest = next;
        body
    };
    let (_, _sig_alg, next) = element(rest)?;
    let (_, _issuer, next) = element(next)?;
    let (SEQUENCE, validity, next) = element(next)? else {
        return None;
    };
    let (t1, nb, after_nb) = element(validity)?;
    let (t2, na, _) = element(after_nb)?;
    let not_before = der_time(t1, nb)?;
    let not_after = der_time(t2, na)?;
    let (_, _subject, next) = element(next)?;
    let (_, _spki, mut next) = element(next)?;
    let mut info = CertInfo {
        is_ca: false,
        serial: serial_hex(serial_bytes),
        not_before,
        not_after,
        trust_domain: String::new(),
    };
    while !next.is_empty() {
        let (tag, body, after) = element(next)?;
        next = after;
        if tag == 0xa3 {
            let (SEQUENCE, mut exts, _) = element(body)? else {
                return None;
            };
            while !exts.is_empty() {
                let (_, ext, after) = element(exts)?;
                exts = after;
                read_extension(ext, &mut info);
            }
        }
    }
    Some(info)
}

fn read_extension(ext: &[u8], info: &mut CertInfo) -> Option<()> {
    let (_, oid, mut rest) = element(ext)?;
    let (mut tag, mut value, after) = element(rest)?;
    if tag == 0x01 {
        // `critical`
        rest = after;
        (tag, value, _) = element(rest)?;
    }
    if tag != 0x04 {
        return None;
    }
    if oid == OID_BASIC_CONSTRAINTS {
        let (_, seq, _) = element(value)?;
        if let Some((0x01, b, _)) = element(seq) {
            info.is_ca = b.first().is_some_and(|&v| v != 0);
        }
    } else if oid == OID_SUBJECT_ALT_NAME {
        let (_, mut names, _) = element(value)?;
        while !names.is_empty() {
            let (tag, name, after) = element(names)?;
            names = after;
            if tag == 0x86
                && let Ok(uri) = std::str::from_utf8(name)
                && let Some(rest) = uri.strip_prefix("spiffe://")
            {
                info.trust_domain = rest.split('/').next().unwrap_or(rest).to_string();
            }
        }
    }
    Some(())
}

fn serial_hex(bytes: &[u8]) -> String {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    let hex: String = trimmed.iter().map(|b| format!("{b:02x}")).collect();
    let hex = hex.trim_start_matches('0');
    format!("{hex:0>32}")
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn der_time(tag: u8, body: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(body).ok()?;
    let s = s.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| rest.get(i..i + 2).and_then(|f| f.parse::<i64>().ok());
    Some(epoch_seconds(
        year,
        field(0)?,
        field(2)?,
        field(4)?,
        field(6)?,
        field(8)?,
    ))
}

/// Seconds since the epoch of a UTC civil time.
pub fn epoch_seconds(y: i64, m: i64, d: i64, hh: i64, mm: i64, ss: i64) -> i64 {
    days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ` of an epoch second.
pub fn format_utc(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parse an RFC 3339 time (`2024-01-02T03:04:05Z`, `...+02:00`, fractions
/// ignored) to epoch seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let base = epoch_seconds(
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    match rest {
        "Z" | "z" => Some(base),
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            Some(base - sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trip() {
        let t = parse_rfc3339("2023-05-16T01:32:52Z").expect("time");
        assert_eq!(format_utc(t), "2023-05-16T01:32:52Z");
        assert_eq!(parse_rfc3339("2023-05-16T03:32:52+02:00"), Some(t));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.5Z"), Some(0));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
