//! The replay ring: the most recent events, kept so a reconnecting client can catch up.

use std::collections::VecDeque;

use crate::event::{Event, EventId};

/// What a new subscriber missed before it subscribed.
#[derive(Clone, Debug, PartialEq)]
pub enum Catchup {
    /// Every event after the client's last id, oldest first (possibly none).
    Events(Vec<Event>),
    /// Some missed events are no longer kept (or the id belongs to an earlier server run):
    /// the client must reload a full snapshot.
    Resync,
}

pub(crate) struct ReplayRing {
    events: VecDeque<Event>,
    capacity: usize,
}

impl ReplayRing {
    pub(crate) fn new(capacity: usize) -> Self {
        ReplayRing {
            events: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    pub(crate) fn push(&mut self, event: Event) {
        if self.capacity == 0 {
            return;
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Events after `since`, given that `last_id` is the newest id ever published.
    pub(crate) fn catchup(&self, since: Option<EventId>, last_id: EventId) -> Catchup {
        let Some(since) = since else {
            return Catchup::Events(Vec::new());
        };
        if since > last_id {
            // Ids restart at 1 each run, so an id from the future was issued by a previous run.
            return Catchup::Resync;
        }
        if since == last_id {
            return Catchup::Events(Vec::new());
        }
        // Ids in the ring are contiguous, so nothing is missing iff the oldest kept is since + 1 or older.
        match self.events.front() {
            Some(oldest) if oldest.id <= since + 1 => {
                let start = self.events.partition_point(|event| event.id <= since);
                Catchup::Events(self.events.range(start..).cloned().collect())
            }
            _ => Catchup::Resync,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventBody;

    fn ring_with(capacity: usize, ids: std::ops::RangeInclusive<EventId>) -> ReplayRing {
        let mut ring = ReplayRing::new(capacity);
        for id in ids {
            ring.push(Event {
                id,
                body: EventBody::DeployLog {
                    deploy_id: 1,
                    seq: id as i64,
                    at_ms: 0,
                    message: String::new(),
                },
            });
        }
        ring
    }

    fn ids(catchup: Catchup) -> Option<Vec<EventId>> {
        match catchup {
            Catchup::Events(events) => Some(events.iter().map(|e| e.id).collect()),
            Catchup::Resync => None,
        }
    }

    #[test]
    fn keeps_only_the_newest_capacity_events() {
        let ring = ring_with(3, 1..=5);
        assert_eq!(ids(ring.catchup(Some(3), 5)), Some(vec![4, 5]));
        assert_eq!(ids(ring.catchup(Some(0), 5)), None);
    }

    #[test]
    fn id_just_before_the_oldest_kept_is_still_complete() {
        let ring = ring_with(3, 1..=5);
        assert_eq!(ids(ring.catchup(Some(2), 5)), Some(vec![3, 4, 5]));
        assert_eq!(ids(ring.catchup(Some(1), 5)), None);
    }

    #[test]
    fn zero_capacity_can_only_answer_up_to_date_clients() {
        let ring = ring_with(0, 1..=5);
        assert_eq!(ids(ring.catchup(Some(5), 5)), Some(vec![]));
        assert_eq!(ids(ring.catchup(Some(4), 5)), None);
    }

    #[test]
    fn fresh_client_from_zero_gets_everything_while_nothing_was_evicted() {
        let ring = ring_with(10, 1..=4);
        assert_eq!(ids(ring.catchup(Some(0), 4)), Some(vec![1, 2, 3, 4]));
    }
}
