//! Durations in config (`"30s"`, `"2m"`, humantime's words), bounded: a duration is added to
//! clocks (`Instant`, milliseconds since the epoch) on the request path, and a typo like
//! `"30000000000y"` would overflow them there, long after start-up said the file was fine.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Longer than anything the gateway waits, keeps or retries for, and far from any
/// clock's end.
pub const MAX: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// `deserialize_with` for every config duration.
pub fn bounded<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let duration = humantime_serde::Serde::<Duration>::deserialize(deserializer)?.into_inner();
    if duration > MAX {
        return Err(serde::de::Error::custom(
            "a duration of at most 10 years (\"3650d\")",
        ));
    }
    Ok(duration)
}
