//! Durations as people write them in fleet files: `30s`, `5m`, `1h30m`, `250ms`.

use std::time::Duration;

/// Parses `90s`, `2m`, `1h30m`, `250ms`. A bare number is rejected: the unit
/// is what makes a fleet file readable.
pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration; write it like `30s`, `5m` or `1h30m`".into());
    }
    if s.contains(char::is_whitespace)
        || s.contains(|c: char| c.is_ascii_alphabetic() && c.is_ascii_uppercase())
    {
        return Err(match suggest(s) {
            Some(fix) => format!("`{s}` is not in the short form; write `{fix}`"),
            None => format!("`{s}` is not a duration; write it like `30s`, `5m` or `1h30m`"),
        });
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

/// Rewrites `5 minutes`, `90 Seconds`, `1 hour 30 min` in the short form, if
/// every part reads as a number and a unit word.
fn suggest(s: &str) -> Option<String> {
    let mut out = String::new();
    let lower = s.to_ascii_lowercase();
    let mut words = lower.split_whitespace().peekable();
    while let Some(w) = words.next() {
        let digits = w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len());
        if digits == 0 {
            return None;
        }
        let (n, unit) = w.split_at(digits);
        let unit = if unit.is_empty() { words.next()? } else { unit };
        let short = match unit {
            "ms" | "millisecond" | "milliseconds" => "ms",
            "s" | "sec" | "secs" | "second" | "seconds" => "s",
            "m" | "min" | "mins" | "minute" | "minutes" => "m",
            "h" | "hr" | "hrs" | "hour" | "hours" => "h",
            _ => return None,
        };
        out.push_str(n);
        out.push_str(short);
    }
    (!out.is_empty()).then_some(out)
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
        assert_eq!(
            parse("5 minutes").unwrap_err(),
            "`5 minutes` is not in the short form; write `5m`"
        );
        assert_eq!(
            parse("1 hour 30 min").unwrap_err(),
            "`1 hour 30 min` is not in the short form; write `1h30m`"
        );
        assert_eq!(
            parse("5M").unwrap_err(),
            "`5M` is not in the short form; write `5m`"
        );
        assert!(parse("5 fortnights").unwrap_err().contains("write it like"));
    }

    #[test]
    fn format_round_trips() {
        for s in ["30s", "5m", "1h30m", "250ms", "2h", "1m5s"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }
}
