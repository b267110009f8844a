//! The consumer side: one subscriber's buffer, lag reporting and waking.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::event::Event;
use crate::hub::Shared;
use crate::replay::Catchup;

/// What a subscriber gets when it asks for the next live event.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    Event(Event),
    /// Events were dropped because this subscriber fell behind; what was buffered has been
    /// discarded too. Reload a snapshot, then keep reading: newer events follow.
    Lagged,
    /// Nothing waiting (or the timeout passed).
    Empty,
    /// The hub is gone; no more events will come.
    Closed,
}

/// The part of a subscriber the publish path touches.
#[derive(Default)]
pub(crate) struct Signal {
    lagged: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    pub(crate) fn mark_lagged(&self) {
        self.lagged.store(true, Ordering::SeqCst);
    }

    fn clear_lagged(&self) -> bool {
        self.lagged.swap(false, Ordering::SeqCst)
    }

    /// Taken, not cloned, so each registration costs at most one wake.
    pub(crate) fn take_waker(&self) -> Option<Waker> {
        self.waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn register(&self, waker: &Waker) {
        let mut slot = self.waker.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            Some(current) if current.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }
}

/// A live feed of events published after [`crate::Hub::subscribe`], plus the catch-up
/// computed at that moment. Dropping it unregisters it from the hub.
pub struct Subscription {
    key: u64,
    receiver: Receiver<Event>,
    signal: Arc<Signal>,
    // Weak so that a forgotten subscription cannot keep the hub open.
    hub: Weak<Shared>,
    catchup: Catchup,
}

impl Subscription {
    pub(crate) fn new(
        key: u64,
        receiver: Receiver<Event>,
        signal: Arc<Signal>,
        hub: Weak<Shared>,
        catchup: Catchup,
    ) -> Self {
        Subscription {
            key,
            receiver,
            signal,
            hub,
            catchup,
        }
    }

    /// Events missed before subscribing, computed atomically with registration: they
    /// neither overlap nor leave a gap with the live events that follow.
    pub fn catchup(&self) -> Catchup {
        self.catchup.clone()
    }

    /// The next live event without waiting.
    pub fn try_next(&self) -> Next {
        if self.signal.clear_lagged() {
            return self.discard_backlog();
        }
        match self.receiver.try_recv() {
            Ok(event) => self.deliver(event),
            Err(TryRecvError::Empty) => Next::Empty,
            Err(TryRecvError::Disconnected) => Next::Closed,
        }
    }

    /// The next live event, waiting at most `timeout`; [`Next::Empty`] when it passes.
    pub fn next_timeout(&self, timeout: Duration) -> Next {
        if self.signal.clear_lagged() {
            return self.discard_backlog();
        }
        // No lag can start while we wait: a drop needs a full buffer, which ends the wait.
        match self.receiver.recv_timeout(timeout) {
            Ok(event) => self.deliver(event),
            Err(RecvTimeoutError::Timeout) => Next::Empty,
            Err(RecvTimeoutError::Disconnected) => Next::Closed,
        }
    }

    /// Async form of [`Subscription::try_next`]: when nothing is waiting, registers the
    /// task's waker, which the next publish (or the hub closing) wakes.
    pub fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Next> {
        match self.try_next() {
            Next::Empty => {}
            ready => return Poll::Ready(ready),
        }
        self.signal.register(cx.waker());
        // Look again: a publish between the first look and registering would not have woken us.
        match self.try_next() {
            Next::Empty => Poll::Pending,
            ready => Poll::Ready(ready),
        }
    }

    fn deliver(&self, event: Event) -> Next {
        // A drop flagged after our first check may precede this event; checking again means
        // an event after a gap is never handed out as if nothing were missing.
        if self.signal.clear_lagged() {
            self.discard_backlog()
        } else {
            Next::Event(event)
        }
    }

    fn discard_backlog(&self) -> Next {
        // Bounded by what is buffered now, so a busy publisher cannot keep us draining.
        for _ in 0..self.receiver.len() {
            if self.receiver.try_recv().is_err() {
                break;
            }
        }
        Next::Lagged
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.unregister(self.key);
        }
    }
}
