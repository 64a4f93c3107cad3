//! Metric handles registered once per series and kept per thread, for the paths every
//! request takes.
//!
//! The `metrics` macros find their series in the recorder's registry on every call: they
//! build the key (allocating each label value), sort the labels, hash and compare them. On
//! a cached lookup that was about 3,000 of its ~47,000 instructions (callgrind) and more of
//! its time, since both worker threads hashed into the same registry shards. Here a series
//! is registered the first time a thread meets its label set; after that the thread finds
//! the handle in its own map, allocating nothing and sharing no lock (the handle's value
//! itself is the recorder's shared atomic, so every thread still counts into one series).
//!
//! Handles are kept only once a recorder is installed (`recording_started`): one taken
//! from the no-op recorder before then would stay a no-op for good. Label values must come
//! from a bounded set (route templates, instance names, fixed words), as for any series.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

use foldhash::fast::FixedState;
use metrics::{Counter, Histogram, Label};

static RECORDING: AtomicBool = AtomicBool::new(false);

/// Called once the process-wide recorder is installed: from then on handles are kept.
pub fn recording_started() {
    RECORDING.store(true, Ordering::Release);
}

/// Adds `by` to the counter `name` with these labels.
pub fn increment(name: &'static str, labels: &[(&'static str, &str)], by: u64) {
    if !RECORDING.load(Ordering::Acquire) {
        return;
    }
    COUNTERS.with(|kept| {
        kept.borrow_mut()
            .get(name, labels, |labels| metrics::counter!(name, labels))
            .increment(by)
    });
}

/// Records `value` in the histogram `name` with these labels.
pub fn record(name: &'static str, labels: &[(&'static str, &str)], value: f64) {
    if !RECORDING.load(Ordering::Acquire) {
        return;
    }
    HISTOGRAMS.with(|kept| {
        kept.borrow_mut()
            .get(name, labels, |labels| metrics::histogram!(name, labels))
            .record(value)
    });
}

const REQUESTS: &str = "refund_gateway_http_requests_total";
const REQUEST_DURATION: &str = "refund_gateway_http_request_duration_seconds";

/// One answered request: counted in `refund_gateway_http_requests_total` (by route, method
/// and status) and timed in `refund_gateway_http_request_duration_seconds` (by route and
/// method), both handles found with one lookup.
pub fn request_answered(route: &str, method: &'static str, status: &str, seconds: f64) {
    if !RECORDING.load(Ordering::Acquire) {
        return;
    }
    let labels = [("route", route), ("method", method), ("status", status)];
    ANSWERED.with(|kept| {
        let mut kept = kept.borrow_mut();
        let (count, duration) = kept.get(REQUESTS, &labels, |labels| {
            let timed = labels[..2].to_vec();
            (
                metrics::counter!(REQUESTS, labels),
                metrics::histogram!(REQUEST_DURATION, timed),
            )
        });
        count.increment(1);
        duration.record(seconds);
    });
}

thread_local! {
    static COUNTERS: RefCell<Kept<Counter>> = RefCell::new(Kept::default());
    static HISTOGRAMS: RefCell<Kept<Histogram>> = RefCell::new(Kept::default());
    static ANSWERED: RefCell<Kept<(Counter, Histogram)>> = RefCell::new(Kept::default());
}

/// One thread's handles, by a hash of the series (name and label pairs, in the order the
/// caller gives them); the few series sharing a hash are told apart by comparing. Hashed
/// with `foldhash` (hashbrown's own hasher): std's SipHash took more time than the registry
/// lookup it replaces. Label values are the gateway's own bounded words, so a fixed seed
/// is safe.
struct Kept<H> {
    by_hash: HashMap<u64, Vec<(Series, H)>, FixedState>,
}

impl<H> Default for Kept<H> {
    fn default() -> Self {
        Kept {
            by_hash: HashMap::with_hasher(FixedState::default()),
        }
    }
}

impl<H> Kept<H> {
    fn get(
        &mut self,
        name: &'static str,
        labels: &[(&'static str, &str)],
        register: impl FnOnce(Vec<Label>) -> H,
    ) -> &H {
        let same = self.by_hash.entry(hash_of(name, labels)).or_default();
        let at = match same.iter().position(|(series, _)| series.is(name, labels)) {
            Some(at) => at,
            None => {
                let owned: Vec<Label> = labels
                    .iter()
                    .map(|(key, value)| Label::new(*key, value.to_string()))
                    .collect();
                same.push((Series::new(name, labels), register(owned)));
                same.len() - 1
            }
        };
        &same[at].1
    }
}

/// A series' identity as its caller names it.
struct Series {
    name: &'static str,
    labels: Box<[(&'static str, Box<str>)]>,
}

impl Series {
    fn new(name: &'static str, labels: &[(&'static str, &str)]) -> Series {
        Series {
            name,
            labels: labels.iter().map(|(k, v)| (*k, Box::from(*v))).collect(),
        }
    }

    fn is(&self, name: &str, labels: &[(&'static str, &str)]) -> bool {
        self.name == name
            && self.labels.len() == labels.len()
            && self
                .labels
                .iter()
                .zip(labels)
                .all(|((k, v), (key, value))| k == key && **v == **value)
    }
}

/// Names and label keys are `&'static str`: hashed by address (the same words at another
/// address only make a second handle of the same series; `Series::is` compares text). The
/// label values are hashed by content.
fn hash_of(name: &'static str, labels: &[(&'static str, &str)]) -> u64 {
    let mut hasher = FixedState::default().build_hasher();
    hasher.write_usize(name.as_ptr() as usize);
    for (key, value) in labels {
        hasher.write_usize(key.as_ptr() as usize);
        hasher.write(value.as_bytes());
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_told_apart_by_every_label_and_its_order() {
        let a = Series::new("m", &[("route", "/a"), ("status", "200")]);
        assert!(a.is("m", &[("route", "/a"), ("status", "200")]));
        assert!(!a.is("m", &[("route", "/a"), ("status", "201")]));
        assert!(!a.is("m", &[("route", "/b"), ("status", "200")]));
        assert!(!a.is("n", &[("route", "/a"), ("status", "200")]));
        assert!(!a.is("m", &[("route", "/a")]));
        assert!(!a.is("m", &[("status", "200"), ("route", "/a")]));
    }

    #[test]
    fn a_series_is_registered_once_per_thread() {
        let mut kept: Kept<usize> = Kept::default();
        let mut registered = 0;
        for status in ["200", "404", "200", "200", "404"] {
            kept.get("m", &[("status", status)], |labels| {
                registered += 1;
                assert_eq!(labels[0].value(), status);
                registered
            });
        }
        assert_eq!(registered, 2);
        assert_eq!(*kept.get("m", &[("status", "404")], |_| 0), 2);
    }
}
