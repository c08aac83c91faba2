//! Small helpers: timestamps in the API's formats, uids, generated names, JSON paths.

use serde_json::{Map, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

tokio::task_local! {
    /// The skew of the server whose request (or controller pass) runs in this task, in
    /// milliseconds ahead of the machine's clock (negative: behind). Every time the server
    /// writes or shows is read through [`now`].
    pub static CLOCK_SKEW_MS: Arc<AtomicI64>;
}

/// Now by the server's clock: the machine's plus the skew of the server this task runs for
/// (none outside one).
pub fn now() -> SystemTime {
    let skew = CLOCK_SKEW_MS
        .try_with(|s| s.load(Ordering::Relaxed))
        .unwrap_or(0);
    let t = SystemTime::now();
    let d = Duration::from_millis(skew.unsigned_abs());
    if skew >= 0 { t + d } else { t - d }
}

fn since_epoch() -> Duration {
    now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `metav1.Time`: RFC 3339 in UTC with second precision ("2026-11-21T05:56:58Z").
pub fn now_rfc3339() -> String {
    format_time(since_epoch().as_secs() as i64, None)
}

/// `metav1.MicroTime`: RFC 3339 with exactly six fractional digits.
pub fn now_micro() -> String {
    let d = since_epoch();
    format_time(d.as_secs() as i64, Some(d.subsec_micros()))
}

/// An HTTP `Date` (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") of now by the server's clock.
pub fn http_date_now() -> String {
    http_date(since_epoch().as_secs() as i64)
}

fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[m as usize - 1],
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn format_time(secs: i64, micros: Option<u32>) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    match micros {
        Some(us) => format!("{base}.{us:06}Z"),
        None => format!("{base}Z"),
    }
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses an RFC 3339 UTC timestamp ("...Z", optional fraction) to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: i64 = dp.next()?.parse().ok()?;
    let d: i64 = dp.next()?.parse().ok()?;
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, format!("0.{b}").parse::<f64>().ok()?),
        None => (time, 0.0),
    };
    let mut tp = hms.split(':');
    let hh: i64 = tp.next()?.parse().ok()?;
    let mm: i64 = tp.next()?.parse().ok()?;
    let ss: i64 = tp.next()?.parse().ok()?;
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64 + frac)
}

pub fn unix_now() -> f64 {
    now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// A random version-4 UUID, the form `metadata.uid` takes on a real server.
pub fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The alphabet of `k8s.io/apimachinery/pkg/util/rand.String` (no vowels, no confusable digits).
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Suffix for `metadata.generateName` (5 characters, like the real name generator).
pub fn random_suffix(n: usize) -> String {
    (0..n)
        .map(|_| SAFE[rand::random_range(0..SAFE.len())] as char)
        .collect()
}

/// A stable 10-character hash of a value, in the safe alphabet (like pod-template-hash).
pub fn stable_hash(v: &Value) -> String {
    let text = v.to_string();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::new();
    for _ in 0..10 {
        out.push(SAFE[(h % SAFE.len() as u64) as usize] as char);
        h /= SAFE.len() as u64;
        h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
    }
    out
}

pub fn get_path<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

pub fn get_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get_path(v, path).and_then(Value::as_str)
}

pub fn get_i64(v: &Value, path: &[&str]) -> Option<i64> {
    get_path(v, path).and_then(Value::as_i64)
}

/// Returns the object at `path`, creating empty objects on the way.
pub fn obj_mut<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Map<String, Value> {
    let mut cur = v;
    for p in path {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let m = cur.as_object_mut().expect("object");
        cur = m
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    cur.as_object_mut().expect("object")
}

pub fn sort_map(m: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    m.extend(entries);
}

/// Sorts object keys recursively (custom resources are served as unstructured JSON, whose keys
/// come out sorted; see transcript 66).
pub fn sort_keys_deep(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (_, c) in m.iter_mut() {
                sort_keys_deep(c);
            }
            sort_map(m);
        }
        Value::Array(a) => a.iter_mut().for_each(sort_keys_deep),
        _ => {}
    }
}

/// Label-selector string form of a `matchLabels` map ("a=b,c=d"), as the Scale subresource
/// reports it in `status.selector`.
pub fn selector_string(sel: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for k in keys {
            parts.push(format!("{k}={}", m[k].as_str().unwrap_or_default()));
        }
    }
    for MatchExpression {
        key,
        operator,
        values,
    } in match_expressions(sel)
    {
        match operator {
            "In" => parts.push(format!("{key} in ({})", values.join(","))),
            "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
            "Exists" => parts.push(key.to_string()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

/// One entry of a label selector's `matchExpressions` (missing parts read as empty).
pub struct MatchExpression<'a> {
    pub key: &'a str,
    pub operator: &'a str,
    pub values: Vec<&'a str>,
}

/// The `matchExpressions` of a label selector, in order (none when absent).
pub fn match_expressions(sel: &Value) -> Vec<MatchExpression<'_>> {
    let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) else {
        return Vec::new();
    };
    exprs
        .iter()
        .map(|e| MatchExpression {
            key: e.get("key").and_then(Value::as_str).unwrap_or_default(),
            operator: e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            values: e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        // 1994-11-06T08:49:37Z, the example of RFC 9110.
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(1_795_240_618), "Sat, 21 Nov 2026 05:56:58 GMT");
    }

    #[test]
    fn skew_moves_the_server_clock() {
        let skew = Arc::new(AtomicI64::new(-90_000));
        let skewed = CLOCK_SKEW_MS.sync_scope(skew, unix_now);
        let behind = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            - skewed;
        assert!((89.0..91.0).contains(&behind), "{behind}");
    }

    #[test]
    fn formats_and_parses_times() {
        assert_eq!(format_time(1_795_240_618, None), "2026-11-21T05:56:58Z");
        assert_eq!(parse_rfc3339("2026-11-21T05:56:58Z"), Some(1_795_240_618.0));
        assert_eq!(format_time(0, Some(42)), "1970-01-01T00:00:00.000042Z");
    }

    #[test]
    fn uid_shape() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
