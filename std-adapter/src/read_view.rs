//! What readers see, published by the client and cached per thread.
//!
//! The client publishes a [`Snapshot`] and the default user in `arc-swap`
//! cells and bumps a generation counter after every change. A read first
//! loads the counter (a plain atomic load: threads that only read never write
//! to a shared cache line) and, while it is unchanged, evaluates on the
//! `Arc`s a thread-local cache took at the last change, through a handle
//! counted by this thread alone (`Rc`). Only the first read of a thread
//! after a change loads the cells (an `arc-swap` load, whose shared debt
//! slots are what kept two reading threads from scaling).
//!
//! A thread's cache keeps the snapshots of the last few clients it read
//! until it reads them again after a change, reads other clients, or exits.
//! A closed client's view is dropped by the thread that closes it
//! at once, and by every other thread at its next update of its cache.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::{ArcSwap, ArcSwapOption};
use configcat_core::refresh::Instant;
use configcat_core::{Config, User};

/// What evaluations read: swapped as a whole, never modified in place.
#[derive(Default)]
pub(crate) struct Snapshot {
    /// What evaluations use: the remote config, the overrides, or both merged.
    pub(crate) effective: Option<Arc<Config>>,
    pub(crate) fetch_time_ms: Option<u64>,
    /// The refresher's deadline: in lazy loading, reads before it need not
    /// look at the refresher.
    pub(crate) refresh_due: Option<Instant>,
}

/// The published state of one client.
pub(crate) struct Published {
    /// Unique per client in this process (never reused, unlike an address).
    id: u64,
    /// Bumped after every store into `snapshot` or `default_user`.
    generation: AtomicU64,
    snapshot: ArcSwap<Snapshot>,
    default_user: ArcSwapOption<User>,
    /// Set when the client is closed (shared with its views): threads stop
    /// keeping them.
    closed: Arc<AtomicBool>,
}

/// One client's state as a thread last saw it. Aligned to two cache lines
/// (the prefetcher's pair): every read writes the `Rc` count beside it, and
/// no other thread's data may share those lines.
#[repr(align(128))]
struct View {
    client: u64,
    generation: u64,
    snapshot: Arc<Snapshot>,
    default_user: Option<Arc<User>>,
    closed: Arc<AtomicBool>,
}

impl View {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Clients whose views a thread keeps; more than a program usually reads.
const VIEWS_PER_THREAD: usize = 4;

/// A thread's views. A read takes a counted handle (`Rc`: this thread's
/// own count, no shared write) and evaluates outside the cache, so a read
/// inside it (a hook evaluating a flag) may update the cache meanwhile.
type Views = [Option<Rc<View>>; VIEWS_PER_THREAD];

thread_local! {
    static VIEWS: RefCell<Views> = const { RefCell::new([None, None, None, None]) };
}

impl Published {
    pub(crate) fn new(snapshot: Snapshot, default_user: Option<User>) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            snapshot: ArcSwap::from_pointee(snapshot),
            default_user: ArcSwapOption::new(default_user.map(Arc::new)),
            closed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Marks the client closed: no thread keeps its view from now on. This
    /// thread's goes at once; the others' at their next cache update (they
    /// cannot be reached from here). Reads still work, from the cells.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let _ = VIEWS.try_with(|views| {
            if let Ok(mut views) = views.try_borrow_mut() {
                drop_closed(&mut views);
            }
        });
    }

    /// Whether [`Published::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The current snapshot, straight from the cell (for writers and rare reads).
    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    pub(crate) fn store_snapshot(&self, snapshot: Snapshot) {
        self.snapshot.store(Arc::new(snapshot));
        // Release: a reader that sees the new generation sees the new snapshot.
        self.generation.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn store_default_user(&self, user: Option<User>) {
        self.default_user.store(user.map(Arc::new));
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Runs `f` on the current snapshot and default user, from the calling
    /// thread's cache when nothing changed since its last read.
    ///
    /// Re-entrant: `f` may read again (a hook that evaluates a flag).
    #[inline]
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Snapshot, Option<&User>) -> R) -> R {
        // Loaded before the cells: a change after this load makes the cached
        // view stale at the next read, never hides a change.
        let generation = self.generation.load(Ordering::Acquire);
        // The closure only finds a handle: small enough to be inlined with
        // the thread-local access, and `f` is not moved into it.
        let cached = VIEWS.try_with(|views| {
            let views = views.try_borrow().ok()?;
            views
                .iter()
                .flatten()
                .find(|view| view.client == self.id && view.generation == generation)
                .cloned()
        });
        let view = match cached {
            Ok(Some(view)) => view,
            Ok(None) => self.load_and_remember(generation),
            // The thread is exiting and its cache is gone.
            Err(_) => self.load(generation),
        };
        // Called in one place: the cold paths above return a view instead
        // of taking `f`, so its environment is never built for them.
        f(&view.snapshot, view.default_user.as_deref())
    }

    /// The first read of this thread after a change: the view from the
    /// cells, kept for the next reads. Out of line: it is rare.
    #[cold]
    #[inline(never)]
    fn load_and_remember(&self, generation: u64) -> Rc<View> {
        let view = self.load(generation);
        self.remember(Rc::clone(&view));
        view
    }

    #[cold]
    fn load(&self, generation: u64) -> Rc<View> {
        Rc::new(View {
            client: self.id,
            generation,
            snapshot: self.snapshot.load_full(),
            default_user: self.default_user.load_full(),
            closed: Arc::clone(&self.closed),
        })
    }

    /// Keeps `view` in the thread's cache, replacing this client's older view
    /// or else the least recently added one.
    #[cold]
    fn remember(&self, view: Rc<View>) {
        let _ = VIEWS.try_with(|views| {
            let Ok(mut views) = views.try_borrow_mut() else {
                return;
            };
            drop_closed(&mut views);
            if view.is_closed() {
                return;
            }
            let slot = views
                .iter()
                .position(|old| old.as_ref().is_some_and(|old| old.client == self.id))
                .or_else(|| views.iter().position(Option::is_none));
            match slot.and_then(|index| views.get_mut(index)) {
                Some(slot) => *slot = Some(view),
                None => {
                    views.rotate_right(1);
                    if let Some(first) = views.first_mut() {
                        *first = Some(view);
                    }
                }
            }
        });
    }
}

fn drop_closed(views: &mut Views) {
    for slot in views {
        if slot.as_ref().is_some_and(|view| view.is_closed()) {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(value: bool) -> Option<Arc<Config>> {
        let json = format!(r#"{{"f":{{"flag":{{"t":0,"v":{{"b":{value}}}}}}}}}"#);
        Config::parse(json.as_bytes()).ok().map(Arc::new)
    }

    fn flag(published: &Published) -> Option<bool> {
        published.read(|snapshot, _| {
            let config = snapshot.effective.as_ref()?;
            Some(config.get_value("flag", false, None, &configcat_core::NoLog))
        })
    }

    #[test]
    fn reads_see_every_change_and_many_clients_share_a_thread() {
        let clients: Vec<Published> = (0..VIEWS_PER_THREAD + 2)
            .map(|_| Published::new(Snapshot::default(), None))
            .collect();
        for round in 0..3 {
            for (index, client) in clients.iter().enumerate() {
                assert_eq!(
                    flag(client),
                    (round > 0).then_some(round == 1 || index % 2 == 0)
                );
                let value = round == 0 || index % 2 == 0;
                client.store_snapshot(Snapshot {
                    effective: config(value),
                    ..Snapshot::default()
                });
                assert_eq!(flag(client), Some(value));
            }
        }
    }

    #[test]
    fn readers_never_go_back_and_see_the_last_change() {
        // A writer publishes configs with increasing ints while two threads
        // read: each reader's values never decrease, and a read after the
        // writer is done sees the last one.
        fn int_config(value: i64) -> Option<Arc<Config>> {
            let json = format!(r#"{{"f":{{"n":{{"t":2,"v":{{"i":{value}}}}}}}}}"#);
            Config::parse(json.as_bytes()).ok().map(Arc::new)
        }
        fn read_int(published: &Published) -> i64 {
            published.read(|snapshot, _| {
                snapshot.effective.as_ref().map_or(-1, |config| {
                    config.get_value("n", -2_i64, None, &configcat_core::NoLog)
                })
            })
        }
        const LAST: i64 = 300;
        let published = Published::new(Snapshot::default(), None);
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        let mut last = -1;
                        while !done.load(Ordering::Acquire) {
                            let value = read_int(&published);
                            assert!(value >= last, "{value} after {last}");
                            last = value;
                        }
                        read_int(&published)
                    })
                })
                .collect();
            for value in 0..=LAST {
                published.store_snapshot(Snapshot {
                    effective: int_config(value),
                    ..Snapshot::default()
                });
            }
            done.store(true, Ordering::Release);
            for reader in readers {
                assert_eq!(reader.join().ok(), Some(LAST));
            }
        });
    }

    #[test]
    fn a_closed_client_is_not_kept_in_threads_caches() {
        // Holders of the current snapshot besides its cell: threads' views.
        fn views_holding(published: &Published) -> usize {
            Arc::strong_count(&published.snapshot.load_full()) - 2
        }
        let closing = Published::new(Snapshot::default(), None);
        closing.store_snapshot(Snapshot {
            effective: config(true),
            ..Snapshot::default()
        });
        let other = Published::new(Snapshot::default(), None);
        assert_eq!(flag(&closing), Some(true));
        std::thread::scope(|scope| {
            let (cached, wait_cached) = std::sync::mpsc::channel();
            let (closed, wait_closed) = std::sync::mpsc::channel();
            let (closing, other) = (&closing, &other);
            scope.spawn(move || {
                assert_eq!(flag(closing), Some(true));
                cached.send(()).ok();
                wait_closed.recv().ok();
                // Its next cache update (a first read of another client).
                assert_eq!(flag(other), None);
            });
            wait_cached.recv().ok();
            assert_eq!(views_holding(closing), 2);
            // The closing thread's own view goes at once.
            closing.close();
            assert_eq!(views_holding(closing), 1);
            closed.send(()).ok();
        });
        assert_eq!(views_holding(&closing), 0);
        // Still readable, from the cells, and not cached again.
        assert_eq!(flag(&closing), Some(true));
        assert_eq!(views_holding(&closing), 0);
    }

    #[test]
    fn the_default_user_and_nested_reads() {
        let published = Published::new(Snapshot::default(), Some(User::new("a")));
        let id = |published: &Published| {
            published.read(|_, user| user.map(|user| user.identifier().to_owned()))
        };
        assert_eq!(id(&published).as_deref(), Some("a"));
        published.store_default_user(Some(User::new("b")));
        // A read inside a read (a hook evaluating a flag) after a change.
        let nested = published.read(|_, outer| {
            published.store_default_user(None);
            (
                outer.map(User::identifier).map(str::to_owned),
                id(&published),
            )
        });
        assert_eq!(nested, (Some("b".to_owned()), None));
        assert_eq!(id(&published), None);
        let other = std::thread::scope(|scope| scope.spawn(|| id(&published)).join().ok());
        assert_eq!(other, Some(None));
    }
}
