//! The stop signal: a deadline and a cancel flag that reach every hot loop of the engine.
//!
//! A caller (the server, per request) builds one [`Stop`] from its timeout and a flag it raises
//! when the request goes away, and passes it to the `*_stoppable` entry points
//! ([`crate::CollectionIndex::search_stoppable`], `search_matryoshka_stoppable`,
//! `calibrate_matryoshka_stoppable`). Graph walks, exact scans, Matryoshka stages and rescoring
//! and calibration poll it through a [`StopCheck`]: a relaxed atomic load every
//! [`CHECK_EVERY`] distance computations and an `Instant` comparison every
//! [`CLOCK_EVERY`]-th poll, so the cost is a few nanoseconds per few hundred distances. A
//! stopped search returns [`crate::IndexError::Stopped`], never a partial result presented
//! as complete.
//!
//! The diagnostics' time budget ([`crate::diagnostics::Budget`]) is this same type.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A cancellation flag a caller can raise to stop work early (a request whose client went away,
/// a job's `DELETE`). Raising it has the same effect as the deadline passing.
pub type CancelFlag = Arc<AtomicBool>;

/// Distance computations between two polls of the cancel flag.
pub const CHECK_EVERY: u64 = 256;

/// Every how many polls the clock is read too.
pub const CLOCK_EVERY: u32 = 4;

/// A deadline plus an optional cancel flag. Cheap to clone (an `Arc` inside).
#[derive(Debug, Clone, Default)]
pub struct Stop {
    deadline: Option<Instant>,
    cancel: Option<CancelFlag>,
}

/// Why work was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCause {
    /// The deadline passed.
    Deadline,
    /// The cancel flag was raised.
    Cancelled,
}

impl StopCause {
    /// `deadline passed` / `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            StopCause::Deadline => "deadline passed",
            StopCause::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for StopCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `Stop` that never fires (what the plain entry points pass).
pub static NEVER: Stop = Stop { deadline: None, cancel: None };

impl Stop {
    /// No limit.
    pub fn unlimited() -> Self {
        Self { deadline: None, cancel: None }
    }

    /// Expires `limit` from now (`None` = no limit).
    pub fn new(limit: Option<Duration>) -> Self {
        Self { deadline: limit.map(|d| Instant::now() + d), cancel: None }
    }

    /// Expires at `deadline` (`None` = no limit).
    pub fn at(deadline: Option<Instant>) -> Self {
        Self { deadline, cancel: None }
    }

    /// The same signal, also firing when `flag` is raised.
    pub fn with_cancel(mut self, flag: Option<CancelFlag>) -> Self {
        self.cancel = flag;
        self
    }

    /// Whether this signal can ever fire (a deadline or a flag is set).
    #[inline]
    pub fn is_armed(&self) -> bool {
        self.deadline.is_some() || self.cancel.is_some()
    }

    /// Why the work should stop now, if it should (reads the flag and the clock).
    #[inline]
    pub fn cause(&self) -> Option<StopCause> {
        if self.cancelled() {
            Some(StopCause::Cancelled)
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(StopCause::Deadline)
        } else {
            None
        }
    }

    /// Whether the deadline has passed or the flag was raised.
    #[inline]
    pub fn exhausted(&self) -> bool {
        self.cause().is_some()
    }

    /// `Err(IndexError::Stopped)` when the signal has fired.
    #[inline]
    pub fn check(&self) -> crate::Result<()> {
        match self.cause() {
            Some(cause) => Err(crate::IndexError::Stopped { cause }),
            None => Ok(()),
        }
    }

    #[inline]
    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// A poller of a [`Stop`] for one hot loop: call [`StopCheck::due`] with the running count of
/// distance computations; it looks at the flag only every [`CHECK_EVERY`] of them and at the
/// clock every [`CLOCK_EVERY`]-th look. Once fired it stays fired.
#[derive(Debug)]
pub struct StopCheck<'a> {
    stop: &'a Stop,
    next: u64,
    polls: u32,
    fired: Option<StopCause>,
}

impl<'a> StopCheck<'a> {
    /// A poller whose first look comes [`CHECK_EVERY`] distances after `work`. An unarmed
    /// signal is never looked at.
    #[inline]
    pub fn new(stop: &'a Stop, work: u64) -> Self {
        let next = if stop.is_armed() { work.saturating_add(CHECK_EVERY) } else { u64::MAX };
        Self { stop, next, polls: 0, fired: None }
    }

    /// Whether to stop, given `work` distances computed so far.
    #[inline]
    pub fn due(&mut self, work: u64) -> bool {
        if work < self.next {
            return self.fired.is_some();
        }
        self.poll(work)
    }

    #[cold]
    fn poll(&mut self, work: u64) -> bool {
        if self.fired.is_some() {
            return true;
        }
        self.next = work.saturating_add(CHECK_EVERY);
        self.polls = self.polls.wrapping_add(1);
        if self.stop.cancelled() {
            self.fired = Some(StopCause::Cancelled);
        } else if self.polls.is_multiple_of(CLOCK_EVERY)
            && self.stop.deadline.is_some_and(|d| Instant::now() >= d)
        {
            self.fired = Some(StopCause::Deadline);
        }
        self.fired.is_some()
    }

    /// Why it fired, if it did.
    pub fn fired(&self) -> Option<StopCause> {
        self.fired
    }

    /// `Err(IndexError::Stopped)` when it fired.
    pub fn result(&self) -> crate::Result<()> {
        match self.fired {
            Some(cause) => Err(crate::IndexError::Stopped { cause }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_fires_and_unarmed_is_never_polled() {
        let mut c = StopCheck::new(&NEVER, 0);
        assert!(!c.due(u64::MAX - 1));
        assert!(NEVER.check().is_ok());
    }

    #[test]
    fn flag_is_seen_within_one_interval() {
        let flag: CancelFlag = Arc::default();
        let stop = Stop::unlimited().with_cancel(Some(Arc::clone(&flag)));
        let mut c = StopCheck::new(&stop, 0);
        assert!(!c.due(CHECK_EVERY));
        flag.store(true, Ordering::Relaxed);
        assert!(!c.due(CHECK_EVERY + 1), "polled only every CHECK_EVERY distances");
        assert!(c.due(2 * CHECK_EVERY));
        assert_eq!(c.fired(), Some(StopCause::Cancelled));
        assert!(c.due(2 * CHECK_EVERY + 1), "stays fired");
        assert!(matches!(stop.check(), Err(crate::IndexError::Stopped { cause: StopCause::Cancelled })));
    }

    #[test]
    fn passed_deadline_is_seen_within_clock_every_polls() {
        let stop = Stop::at(Some(Instant::now()));
        let mut c = StopCheck::new(&stop, 0);
        let fired_at = (1..=u64::from(CLOCK_EVERY)).find(|i| c.due(i * CHECK_EVERY));
        assert_eq!(fired_at, Some(u64::from(CLOCK_EVERY)));
        assert_eq!(c.fired(), Some(StopCause::Deadline));
    }
}
