//! What a reconnecting client is told it missed.

use events::{Catchup, EventBody, Hub, HubConfig, Next, Subscription};

fn log(seq: i64) -> EventBody {
    EventBody::DeployLog {
        deploy_id: 1,
        seq,
        at_ms: 0,
        message: String::new(),
    }
}

fn hub(replay_capacity: usize) -> Hub {
    Hub::new(HubConfig {
        replay_capacity,
        ..HubConfig::default()
    })
}

fn catchup_ids(sub: &Subscription) -> Option<Vec<u64>> {
    match sub.catchup() {
        Catchup::Events(events) => Some(events.iter().map(|e| e.id).collect()),
        Catchup::Resync => None,
    }
}

fn drain_ids(sub: &Subscription) -> Vec<u64> {
    let mut ids = Vec::new();
    loop {
        match sub.try_next() {
            Next::Event(event) => ids.push(event.id),
            Next::Empty => return ids,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn reconnect_resumes_without_gaps_or_duplicates() {
    let hub = hub(100);
    let first = hub.subscribe(None);
    for seq in 0..5 {
        hub.publish(log(seq));
    }
    // The client saw 1..=3, then dropped its connection; 4..=8 happen around the reconnect.
    let seen: Vec<u64> = drain_ids(&first).into_iter().take(3).collect();
    drop(first);
    for seq in 5..8 {
        hub.publish(log(seq));
    }
    let second = hub.subscribe(seen.last().copied());
    hub.publish(log(8));

    let mut all = seen;
    all.extend(catchup_ids(&second).expect("nothing was evicted"));
    all.extend(drain_ids(&second));
    assert_eq!(all, (1..=9).collect::<Vec<_>>());
}

#[test]
fn catchup_carries_the_event_bodies() {
    let hub = hub(10);
    hub.publish(log(10));
    hub.publish(log(11));
    let sub = hub.subscribe(Some(1));
    match sub.catchup() {
        Catchup::Events(events) => {
            assert_eq!(events.len(), 1);
            assert_eq!(events[0].id, 2);
            assert_eq!(events[0].body, log(11));
        }
        Catchup::Resync => panic!("expected events"),
    }
}

#[test]
fn up_to_date_client_gets_an_empty_catchup() {
    let hub = hub(10);
    hub.publish(log(0));
    hub.publish(log(1));
    assert_eq!(catchup_ids(&hub.subscribe(Some(2))), Some(vec![]));
}

#[test]
fn no_last_event_id_means_no_catchup() {
    let hub = hub(10);
    hub.publish(log(0));
    assert_eq!(catchup_ids(&hub.subscribe(None)), Some(vec![]));
}

#[test]
fn resync_when_missed_events_were_evicted() {
    let hub = hub(3);
    for seq in 0..10 {
        hub.publish(log(seq));
    }
    // Ring holds 8, 9, 10.
    assert_eq!(catchup_ids(&hub.subscribe(Some(7))), Some(vec![8, 9, 10]));
    assert_eq!(catchup_ids(&hub.subscribe(Some(6))), None);
    assert_eq!(catchup_ids(&hub.subscribe(Some(0))), None);
}

#[test]
fn resync_for_an_id_from_a_previous_server_run() {
    let hub = hub(10);
    hub.publish(log(0));
    assert_eq!(catchup_ids(&hub.subscribe(Some(2))), None);
    assert_eq!(
        catchup_ids(&Hub::new(HubConfig::default()).subscribe(Some(1))),
        None
    );
}

#[test]
fn resyncing_subscriber_still_receives_live_events() {
    let hub = hub(1);
    hub.publish(log(0));
    hub.publish(log(1));
    let sub = hub.subscribe(Some(0));
    assert_eq!(sub.catchup(), Catchup::Resync);
    hub.publish(log(2));
    assert_eq!(drain_ids(&sub), vec![3]);
}
