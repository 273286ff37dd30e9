//! The core's monotonic time.

/// A point on the adapter's monotonic clock, in milliseconds since an origin
/// the adapter picks (its start, the device's boot).
///
/// Every deadline of the refresh logic is one of these. It never goes back,
/// so a wall clock that NTP or SNTP steps cannot stop polling or cause a
/// burst of fetches; wall-clock time is only data ([`CacheEntry`]'s fetch
/// time), passed separately as Unix milliseconds where ConfigCat's cache
/// format needs it.
///
/// ```
/// use configcat_core::refresh::Instant;
///
/// let boot = Instant::from_millis(0);
/// let later = boot.saturating_add_millis(1_500);
/// assert_eq!(later.saturating_millis_since(boot), 1_500);
/// assert_eq!(boot.saturating_millis_since(later), 0);
/// ```
///
/// [`CacheEntry`]: crate::refresh::CacheEntry
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The clock's origin.
    pub const ZERO: Self = Self(0);

    /// The instant `millis` milliseconds after the clock's origin.
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the clock's origin.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The instant `millis` later, saturating at the end of time.
    #[must_use]
    pub const fn saturating_add_millis(self, millis: u64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// Milliseconds from `earlier` to `self`; zero when `earlier` is later.
    #[must_use]
    pub const fn saturating_millis_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}
