//! The publish side: assigning ids, fanning events out, registering subscribers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crossbeam_channel::{Sender, TrySendError};

use crate::event::{Event, EventBody, EventId};
use crate::replay::ReplayRing;
use crate::subscription::{Signal, Subscription};

/// Sizes for the hub's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HubConfig {
    /// How many recent events are kept for reconnecting clients.
    pub replay_capacity: usize,
    /// How many undelivered events one subscriber may hold before it is marked lagged.
    /// Treated as at least 1: a zero-size channel would drop every event.
    pub subscriber_buffer: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            replay_capacity: 1024,
            subscriber_buffer: 256,
        }
    }
}

/// Fans published events out to subscribers. Cheap to clone; all clones are one hub, and it
/// closes (subscribers see [`crate::Next::Closed`]) when the last clone is dropped.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    subscriber_buffer: usize,
}

struct State {
    last_id: EventId,
    ring: ReplayRing,
    subscribers: Vec<Registered>,
    next_key: u64,
}

struct Registered {
    key: u64,
    sender: Sender<Event>,
    signal: Arc<Signal>,
}

impl Hub {
    pub fn new(config: HubConfig) -> Hub {
        Hub {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    last_id: 0,
                    ring: ReplayRing::new(config.replay_capacity),
                    subscribers: Vec::new(),
                    next_key: 0,
                }),
                subscriber_buffer: config.subscriber_buffer.max(1),
            }),
        }
    }

    /// Assigns the next id and hands the event to every subscriber without waiting for any:
    /// a subscriber whose buffer is full misses it and is marked lagged instead.
    pub fn publish(&self, body: EventBody) -> EventId {
        let mut to_wake = Vec::new();
        let id = {
            let mut state = self.shared.lock();
            state.last_id += 1;
            let event = Event {
                id: state.last_id,
                body,
            };
            state.ring.push(event.clone());
            state
                .subscribers
                .retain(|sub| match sub.sender.try_send(event.clone()) {
                    Ok(()) => {
                        to_wake.extend(sub.signal.take_waker());
                        true
                    }
                    Err(TrySendError::Full(_)) => {
                        sub.signal.mark_lagged();
                        to_wake.extend(sub.signal.take_waker());
                        true
                    }
                    Err(TrySendError::Disconnected(_)) => false,
                });
            event.id
        };
        // Outside the lock: a waker may run arbitrary code, even code that publishes.
        for waker in to_wake {
            waker.wake();
        }
        id
    }

    /// The id of the newest event; 0 before the first publish.
    pub fn last_id(&self) -> EventId {
        self.shared.lock().last_id
    }

    /// Registers a subscriber for events published from now on. With `last_event_id` (an
    /// SSE `Last-Event-ID`), the subscription's catch-up holds what it missed since then.
    pub fn subscribe(&self, last_event_id: Option<EventId>) -> Subscription {
        let (sender, receiver) = crossbeam_channel::bounded(self.shared.subscriber_buffer);
        let signal = Arc::new(Signal::default());
        // Snapshot and registration under one lock, so no publish falls between them.
        let (key, catchup) = {
            let mut state = self.shared.lock();
            let catchup = state.ring.catchup(last_event_id, state.last_id);
            let key = state.next_key;
            state.next_key += 1;
            state.subscribers.push(Registered {
                key,
                sender,
                signal: Arc::clone(&signal),
            });
            (key, catchup)
        };
        Subscription::new(key, receiver, signal, Arc::downgrade(&self.shared), catchup)
    }

    pub fn subscriber_count(&self) -> usize {
        self.shared.lock().subscribers.len()
    }
}

impl Shared {
    // A panic elsewhere while holding the lock leaves the state usable (every update is a
    // single push or retain), so the event stream should survive it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn unregister(&self, key: u64) {
        self.lock().subscribers.retain(|sub| sub.key != key);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        for Registered { sender, signal, .. } in state.subscribers.drain(..) {
            // Disconnect before waking, so the woken task sees Closed rather than Empty.
            drop(sender);
            if let Some(waker) = signal.take_waker() {
                waker.wake();
            }
        }
    }
}
