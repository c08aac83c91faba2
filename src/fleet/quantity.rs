//! Kubernetes resource quantities (`100m`, `128Mi`, `1.5`, `2e3`), parsed to a
//! number so that requests can be compared with limits.

/// The value of a quantity in base units (cores, bytes), or why it is not one.
pub fn parse(s: &str) -> Result<f64, String> {
    let bad = || {
        format!(
            "`{s}` is not a Kubernetes quantity; write it like `250m` or `0.5` (CPU) or `128Mi` or `1Gi` (memory)"
        )
    };
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '+' | '-')))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    let digits = num.strip_prefix(['+', '-']).unwrap_or(num);
    if digits.is_empty()
        || digits == "."
        || digits.matches('.').count() > 1
        || digits.contains(['+', '-'])
    {
        return Err(bad());
    }
    let n: f64 = num.parse().map_err(|_| bad())?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().map_err(|_| bad())?;
            10f64.powi(exp)
        }
        _ => return Err(bad()),
    };
    if n < 0.0 {
        return Err(format!(
            "`{s}` is negative; resource quantities must be 0 or more"
        ));
    }
    Ok(n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_and_memory() {
        assert_eq!(parse("100m").unwrap(), 0.1);
        assert_eq!(parse("1").unwrap(), 1.0);
        assert_eq!(parse("1.5").unwrap(), 1.5);
        assert_eq!(parse("128Mi").unwrap(), 128.0 * 1024.0 * 1024.0);
        assert_eq!(parse("1G").unwrap(), 1e9);
        assert_eq!(parse("2e3").unwrap(), 2000.0);
    }

    #[test]
    fn rejects_typos() {
        assert!(parse("512MB").is_err());
        assert!(parse("abc").is_err());
        assert!(parse("").is_err());
        assert!(parse("1..5").is_err());
        assert!(parse("-1").unwrap_err().contains("negative"));
    }
}
