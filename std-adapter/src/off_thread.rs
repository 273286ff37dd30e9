//! Futures for the client's blocking calls, for async code on any executor.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// A blocking call run on a thread of its own, as a future: awaiting it never
/// blocks the executor's thread, on any executor (tokio's `current_thread`
/// and `multi_thread` runtimes, smol, `futures::executor::block_on`).
///
/// Returned by [`Client::wait_for_ready_async`](crate::Client::wait_for_ready_async)
/// and [`Client::force_refresh_async`](crate::Client::force_refresh_async).
/// Like every future it does nothing until polled: the thread starts at
/// the first poll. Dropping it does not stop the call, only the wait for it.
#[must_use = "futures do nothing unless awaited"]
pub struct OffThread<T> {
    call: Option<Box<dyn FnOnce() -> T + Send>>,
    slot: Arc<Mutex<Slot<T>>>,
}

struct Slot<T> {
    /// The call's result, or its panic, resumed in the awaiting task.
    result: Option<std::thread::Result<T>>,
    waker: Option<Waker>,
}

impl<T> fmt::Debug for OffThread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OffThread")
            .field("started", &self.call.is_none())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> OffThread<T> {
    pub(crate) fn new(call: impl FnOnce() -> T + Send + 'static) -> Self {
        Self {
            call: Some(Box::new(call)),
            slot: Arc::new(Mutex::new(Slot {
                result: None,
                waker: None,
            })),
        }
    }
}

// Nothing is pinned in place: the call and the slot are boxed.
impl<T> Unpin for OffThread<T> {}

impl<T: Send + 'static> Future for OffThread<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.result.take() {
            Some(Ok(result)) => return Poll::Ready(result),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => {}
        }
        slot.waker = Some(cx.waker().clone());
        drop(slot);
        if let Some(call) = self.call.take() {
            let slot = Arc::clone(&self.slot);
            std::thread::spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
                let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
                slot.result = Some(result);
                let waker = slot.waker.take();
                drop(slot);
                if let Some(waker) = waker {
                    waker.wake();
                }
            });
        }
        Poll::Pending
    }
}
