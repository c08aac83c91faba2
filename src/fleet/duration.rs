//! Durations as people write them in fleet files: `30s`, `5m`, `1h30m`, `250ms`.

use std::time::Duration;

/// Parses `90s`, `2m`, `1h30m`, `250ms`. A bare number is rejected: the unit
/// is what makes a fleet file readable.
pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration; write it like `30s`, `5m` or `1h30m`".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{s}` is not a duration; write it like `30s`, `5m` or `1h30m`"
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{s}`: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            "" => {
                return Err(format!(
                    "`{s}` has no unit; write `{s}s` for seconds or `{s}m` for minutes"
                ));
            }
            other => {
                return Err(format!(
                    "`{s}` has an unknown unit `{other}`; use ms, s, m or h"
                ));
            }
        };
        total += part;
    }
    Ok(total)
}

/// Formats a duration the way `parse` reads it, largest units first.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let mut secs = ms / 1000;
    let mut out = String::new();
    for (unit, size) in [("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
    }

    #[test]
    fn rejects_bad_forms_with_advice() {
        assert!(parse("30").unwrap_err().contains("no unit"));
        assert!(parse("5 minutes").is_err());
        assert!(parse("2d").unwrap_err().contains("unknown unit `d`"));
        assert!(parse("").is_err());
        assert!(parse("m5").is_err());
    }

    #[test]
    fn format_round_trips() {
        for s in ["30s", "5m", "1h30m", "250ms", "2h", "1m5s"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }
}
