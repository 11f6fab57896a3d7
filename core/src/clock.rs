//! Time and identity come from outside core: [`Clock`] and [`IdGen`] keep every
//! rule deterministic for tests, scenarios and replays.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The current time, in UTC.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// A source of unique ids; one sequence serves every entity kind.
pub trait IdGen: Send + Sync {
    /// A fresh id, never handed out before by this generator.
    fn next_id(&self) -> u64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to: for tests and QA scenarios
/// ("time passes").
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    /// Moves the clock forward by `by` (backward when negative).
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Ids counting up from a starting value.
#[derive(Debug)]
pub struct SequentialIds(AtomicU64);

impl SequentialIds {
    /// A generator whose first id is `first`.
    pub fn starting_at(first: u64) -> SequentialIds {
        SequentialIds(AtomicU64::new(first))
    }
}

impl IdGen for SequentialIds {
    fn next_id(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}
