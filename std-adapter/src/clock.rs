//! Where a client's time comes from: the system's clocks, or a clock a test moves.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use configcat_core::refresh::Instant;

/// A client's clocks: a monotonic one that schedules every poll, TTL and
/// deadline, and the wall clock, read only for what ConfigCat's formats
/// record (the fetch time in a cache payload, in evaluation details).
///
/// [`Clock::system`] (the default) reads the operating system's clocks. A
/// [`ManualClock`] is moved by hand, for tests and simulations: the client's
/// background work then runs on its time.
///
/// ```
/// use configcat_std::{ClientOptions, Clock};
///
/// let options = ClientOptions::default().with_clock(Clock::system());
/// ```
#[derive(Clone, Default)]
pub struct Clock(Source);

#[derive(Clone, Default)]
enum Source {
    #[default]
    System,
    Manual(Arc<Manual>),
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(_) => f.write_str("Clock::Manual"),
        }
    }
}

/// Something that waits on a clock and must be woken when a manual clock moves.
pub(crate) trait Wake: Send + Sync {
    /// Wakes every thread waiting for the clock; called with no lock held.
    fn wake(&self);
}

/// The origin of the system clock's [`Instant`]s: the first time a client asked.
fn system_origin() -> std::time::Instant {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Clock {
    /// The operating system's monotonic and wall clocks.
    #[must_use]
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// The monotonic time now.
    pub(crate) fn now(&self) -> Instant {
        match &self.0 {
            Source::System => Instant::from_millis(millis(system_origin().elapsed())),
            Source::Manual(manual) => Instant::from_millis(manual.state().now_ms),
        }
    }

    /// The wall clock now, in Unix milliseconds.
    pub(crate) fn unix_ms(&self) -> u64 {
        match &self.0 {
            Source::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, millis),
            Source::Manual(manual) => manual.state().unix_ms,
        }
    }

    /// Registers a waiter to wake whenever a manual clock moves.
    pub(crate) fn subscribe(&self, waiter: Weak<dyn Wake>) {
        if let Source::Manual(manual) = &self.0 {
            manual.state().waiters.push(waiter);
        }
    }

    /// Waits on `condvar` until it is notified or `deadline` (on this
    /// clock) has come; `None` waits for a notification only. Callers check
    /// their condition again afterwards: wake-ups may be spurious.
    pub(crate) fn wait_until<'a, T>(
        &self,
        condvar: &Condvar,
        guard: MutexGuard<'a, T>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, T> {
        if deadline.is_some_and(|deadline| deadline <= self.now()) {
            return guard;
        }
        let timeout = match (&self.0, deadline) {
            (_, None) | (Source::Manual(_), Some(_)) => None,
            (Source::System, Some(deadline)) => Some(deadline.saturating_millis_since(self.now())),
        };
        match timeout {
            Some(0) => guard,
            Some(ms) => {
                // Rounded up: a wake-up before the deadline would only wait again.
                condvar
                    .wait_timeout(guard, Duration::from_millis(ms.saturating_add(1)))
                    .map_or_else(|poison| poison.into_inner().0, |(guard, _)| guard)
            }
            // A manual clock wakes its waiters when it moves (`Wake`).
            None => condvar.wait(guard).unwrap_or_else(PoisonError::into_inner),
        }
    }
}

/// A clock moved by hand, for tests and simulations. Its monotonic time
/// starts at 0; its wall clock at the time it was made with. Moving it wakes
/// the background work of every client using it.
///
/// ```
/// use configcat_std::{ClientOptions, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new(1_700_000_000_000);
/// let options = ClientOptions::default().with_clock(clock.clock());
/// clock.advance(Duration::from_secs(60)); // the next poll is due
/// clock.step_wall_clock(-3_600_000); // NTP sets the wall clock back an hour
/// ```
pub struct ManualClock(Arc<Manual>);

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.0.state();
        f.debug_struct("ManualClock")
            .field("now_ms", &state.now_ms)
            .field("unix_ms", &state.unix_ms)
            .finish()
    }
}

#[derive(Default)]
struct Manual {
    state: Mutex<ManualState>,
}

#[derive(Default)]
struct ManualState {
    now_ms: u64,
    unix_ms: u64,
    waiters: Vec<Weak<dyn Wake>>,
}

impl Manual {
    fn state(&self) -> MutexGuard<'_, ManualState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change`, then wakes every live waiter (outside the lock:
    /// waking takes the waiters' own locks).
    fn update(&self, change: impl FnOnce(&mut ManualState)) {
        let waiters: Vec<Arc<dyn Wake>> = {
            let mut state = self.state();
            change(&mut state);
            state.waiters.retain(|waiter| waiter.strong_count() > 0);
            state.waiters.iter().filter_map(Weak::upgrade).collect()
        };
        for waiter in waiters {
            waiter.wake();
        }
    }
}

impl ManualClock {
    /// A clock at monotonic time 0 whose wall clock reads `unix_ms`.
    #[must_use]
    pub fn new(unix_ms: u64) -> Self {
        let manual = Manual::default();
        manual.state().unix_ms = unix_ms;
        Self(Arc::new(manual))
    }

    /// The [`Clock`] to give a client ([`ClientOptions::with_clock`](crate::ClientOptions::with_clock)).
    #[must_use]
    pub fn clock(&self) -> Clock {
        Clock(Source::Manual(Arc::clone(&self.0)))
    }

    /// Moves both clocks forward by `by`, as time passing does.
    pub fn advance(&self, by: Duration) {
        let by = millis(by);
        self.0.update(|state| {
            state.now_ms = state.now_ms.saturating_add(by);
            state.unix_ms = state.unix_ms.saturating_add(by);
        });
    }

    /// Steps the wall clock alone by `by_ms` (negative: back), as NTP or
    /// SNTP setting the time does; the monotonic clock does not move.
    pub fn step_wall_clock(&self, by_ms: i64) {
        self.0
            .update(|state| state.unix_ms = state.unix_ms.saturating_add_signed(by_ms));
    }

    /// The monotonic time, in milliseconds since the clock was made.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.0.state().now_ms
    }
}
