//! When and how long to wait before repeating an upstream request that failed in a way that
//! may pass: only idempotent methods (repeating a POST or PATCH could do its work twice),
//! only on 429, 502, 503 and 504 answers or a failure to connect, honouring `Retry-After`, with
//! jittered exponential back-off, and never past an overall deadline.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Retry limits of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Repeats after the first attempt (0 turns retries off).
    pub max_retries: u32,
    /// No repeat starts later than this after the first attempt started.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            budget: Duration::from_secs(10),
        }
    }
}

/// The first wait; each further one doubles, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(250);
/// The longest back-off between two attempts when the upstream does not say.
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Statuses that say "not now" rather than "no": rate limits and overloaded or unreachable
/// servers behind a gateway.
pub fn is_retryable_status(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// The wait before retry number `retry` (0 for the first): `BASE_BACKOFF * 2^retry`, capped,
/// then scaled by a random factor in [0.5, 1), so that clients that failed together do not
/// all come back at the same instant.
pub fn backoff(retry: u32) -> Duration {
    let full = BASE_BACKOFF
        .saturating_mul(1u32 << retry.min(16))
        .min(MAX_BACKOFF);
    full.mul_f64(0.5 + random_unit() / 2.0)
}

/// A number in [0, 1) that differs from call to call. Jitter needs no cryptographic
/// randomness; the standard library's randomly keyed hasher gives enough without another
/// dependency.
fn random_unit() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    hasher.write_u32(nanos);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait an answer's `Retry-After` header asks for: a number of seconds or an HTTP date.
/// `None` when the header is absent or unreadable.
pub fn retry_after(headers: &http::HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(text)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an HTTP date (RFC 9110, section 5.6.7): the preferred IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37
/// GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) forms.
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: the weekday ends with a comma.
        [_, day, month, year, time, "GMT"] => (*day, *month, year.parse::<i64>().ok()?, *time),
        // RFC 850: `06-Nov-94`.
        [_, date, time, "GMT"] => {
            let mut fields = date.split('-');
            let (day, month, year) = (fields.next()?, fields.next()?, fields.next()?);
            let year = year.parse::<i64>().ok()?;
            // Two-digit years: RFC 9110 reads those more than 50 years ahead as the past.
            let year = if year < 100 {
                if year < 70 { 2000 + year } else { 1900 + year }
            } else {
                year
            };
            (day, month, year, *time)
        }
        // asctime: `Nov  6 08:49:37 1994`.
        [_, month, day, time, year] => (*day, *month, year.parse::<i64>().ok()?, *time),
        _ => return None,
    };
    let day: i64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == month)? as i64
        + 1;
    let mut clock = time.split(':').map(|n| n.parse::<i64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    // The year bound keeps the arithmetic below far from overflow whatever the header says.
    if !(1..=31).contains(&day)
        || !(1970..=9999).contains(&year)
        || !(0..=23).contains(&hour)
        || !(0..=59).contains(&minute)
        || !(0..=60).contains(&second)
    {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let seconds = u64::try_from(seconds).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_in_all_three_forms() {
        let expected = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(expected)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(expected)
        );
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(expected));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_http_date("Sun, 32 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 99999999999999 08:49:37 GMT"),
            None
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 -1:49:37 GMT"), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
        let mut headers = http::HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert("retry-after", http::HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3)));
        headers.insert(
            "retry-after",
            http::HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        let later = now + Duration::from_secs(100);
        assert_eq!(retry_after(&headers, later), Some(Duration::ZERO));
        headers.insert("retry-after", http::HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        for retry in 0..3 {
            let full = BASE_BACKOFF * (1 << retry);
            let wait = backoff(retry);
            assert!(wait >= full / 2 && wait < full, "{retry}: {wait:?}");
        }
        assert!(backoff(30) < MAX_BACKOFF);
        let waits: std::collections::HashSet<Duration> = (0..20).map(|_| backoff(2)).collect();
        assert!(waits.len() > 1, "jitter varies the wait");
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for status in [429, 502, 503, 504] {
            assert!(is_retryable_status(
                http::StatusCode::from_u16(status).unwrap()
            ));
        }
        for status in [200, 400, 401, 404, 500, 501] {
            assert!(!is_retryable_status(
                http::StatusCode::from_u16(status).unwrap()
            ));
        }
    }
}
