//! Live lookups' turns per key (see the module doc of `lookup_cache`): who waits on a key,
//! and the last answer with when its call began.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use refund_provider::ProviderError;

use super::{Entry, Key};

/// The turns of live lookups of one key, and the last answer with when its call began.
#[derive(Default)]
pub(super) struct LiveTurns {
    pub(super) last: tokio::sync::Mutex<Option<(Instant, Result<Entry, ProviderError>)>>,
}

/// One live lookup's place among the turns of its key. The key leaves the map when its
/// last lookup leaves, however it leaves: answered, or dropped midway (a client gone, a
/// request timeout), so keys clients name cannot pile up.
pub(super) struct LiveTurn<'a> {
    live: &'a std::sync::Mutex<HashMap<Key, Arc<LiveTurns>>>,
    key: &'a Key,
    pub(super) turns: Arc<LiveTurns>,
}

impl<'a> LiveTurn<'a> {
    pub(super) fn join(
        live: &'a std::sync::Mutex<HashMap<Key, Arc<LiveTurns>>>,
        key: &'a Key,
    ) -> Self {
        let turns = live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        LiveTurn { live, key, turns }
    }
}

impl Drop for LiveTurn<'_> {
    fn drop(&mut self) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        // The map's and ours: nobody else waits on this key.
        if Arc::strong_count(&self.turns) <= 2 {
            live.remove(self.key);
        }
    }
}
