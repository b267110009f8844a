//! Publishers and subscribers on many threads at once.

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use events::{Catchup, EventBody, Hub, HubConfig, Next, Subscription};

const PUBLISHERS: u64 = 4;
const PER_PUBLISHER: u64 = 2_500;
const TOTAL: u64 = PUBLISHERS * PER_PUBLISHER;

fn log(seq: u64) -> EventBody {
    EventBody::DeployLog {
        deploy_id: 1,
        seq: seq as i64,
        at_ms: 0,
        message: String::new(),
    }
}

// Big enough that nothing is evicted or dropped: these tests are about ordering, not lag.
fn roomy_hub() -> Hub {
    Hub::new(HubConfig {
        replay_capacity: TOTAL as usize,
        subscriber_buffer: TOTAL as usize,
    })
}

#[test]
fn concurrent_publishers_yield_unique_ids_seen_strictly_increasing() {
    let hub = roomy_hub();
    let sub = hub.subscribe(None);
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|_| {
            let hub = hub.clone();
            thread::spawn(move || {
                (0..PER_PUBLISHER)
                    .map(|seq| hub.publish(log(seq)))
                    .collect::<Vec<_>>()
            })
        })
        .collect();

    let mut received = Vec::with_capacity(TOTAL as usize);
    while (received.len() as u64) < TOTAL {
        match sub.next_timeout(Duration::from_secs(30)) {
            Next::Event(event) => {
                if let Some(&previous) = received.last() {
                    assert!(event.id > previous, "{} after {previous}", event.id);
                }
                received.push(event.id);
            }
            other => panic!("after {} events got {other:?}", received.len()),
        }
    }

    let mut returned = BTreeSet::new();
    for publisher in publishers {
        let ids = publisher.join().unwrap();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        returned.extend(ids);
    }
    assert_eq!(returned, (1..=TOTAL).collect());
    assert_eq!(received, (1..=TOTAL).collect::<Vec<_>>());
    assert_eq!(hub.last_id(), TOTAL);
}

fn everything_after(since: u64, sub: &Subscription) -> Vec<u64> {
    let mut ids: Vec<u64> = match sub.catchup() {
        Catchup::Events(events) => events.iter().map(|e| e.id).collect(),
        Catchup::Resync => panic!("nothing should have been evicted"),
    };
    loop {
        match sub.try_next() {
            Next::Event(event) => ids.push(event.id),
            Next::Empty => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(ids.first().is_none_or(|&first| first == since + 1));
    ids
}

#[test]
fn subscribing_during_publishing_neither_loses_nor_repeats_events() {
    let hub = roomy_hub();
    // Both sides start together, so subscribing overlaps publishing however the threads are
    // scheduled; and at least one subscription is taken even if the publisher is very quick.
    let start = std::sync::Arc::new(std::sync::Barrier::new(2));
    let publisher = {
        let hub = hub.clone();
        let start = start.clone();
        thread::spawn(move || {
            start.wait();
            for seq in 0..TOTAL {
                hub.publish(log(seq));
            }
        })
    };
    let mut subscriptions = Vec::new();
    start.wait();
    loop {
        let since = hub.last_id().saturating_sub(2);
        subscriptions.push((since, hub.subscribe(Some(since))));
        if publisher.is_finished() {
            break;
        }
        thread::yield_now();
    }
    publisher.join().unwrap();

    for (since, sub) in &subscriptions {
        let ids = everything_after(*since, sub);
        assert_eq!(
            ids,
            (since + 1..=TOTAL).collect::<Vec<_>>(),
            "subscribed after {since}"
        );
    }
}
