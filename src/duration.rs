//! Durations: `--min-ttl 2h`, `mfa_session_duration = 12h`, and the ranges
//! STS accepts, checked before a code is spent.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub what: &'static str,
    pub min: u32,
    pub max: u32,
}

pub const SESSION_TOKEN: Range = Range {
    what: "GetSessionToken",
    min: 900,
    max: 129_600,
};
pub const ASSUME_ROLE: Range = Range {
    what: "AssumeRole",
    min: 900,
    max: 43_200,
};
pub const CHAINED_ROLE: Range = Range {
    what: "a chained AssumeRole",
    min: 900,
    max: 3_600,
};

/// `90`, `90s`, `15m`, `2h`, `1h30m`, `1d`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text)
        .map_err(|_| format!("`{text}` is not a duration (examples: 900, 15m, 2h, 1h30m)"))
}

/// A duration in whole seconds within `range`; the error names the range.
pub fn parse_seconds(text: &str, range: Range) -> Result<u32, String> {
    let seconds = parse(text)?.as_secs();
    if seconds < u64::from(range.min) || seconds > u64::from(range.max) {
        return Err(format!(
            "{} lasts {}-{} seconds ({}-{}); `{text}` is outside that range",
            range.what,
            range.min,
            range.max,
            human(Duration::from_secs(range.min.into())),
            human(Duration::from_secs(range.max.into())),
        ));
    }
    // The range check above bounds seconds by a u32.
    Ok(seconds as u32)
}

/// `1h 5m`-style, rounded to the minute for long spans.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    let rounded = if secs >= 3600 { secs - secs % 60 } else { secs };
    humantime::format_duration(Duration::from_secs(rounded)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse("900").unwrap().as_secs(), 900);
        assert_eq!(parse("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse("1h30m").unwrap().as_secs(), 5400);
        assert!(parse("soon").is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_seconds("12h", SESSION_TOKEN).unwrap(), 43200);
        let e = parse_seconds("60", ASSUME_ROLE).unwrap_err();
        assert!(e.contains("900-43200") && e.contains("15m-12h"), "{e}");
        assert!(parse_seconds("37h", SESSION_TOKEN).is_err());
    }
}
