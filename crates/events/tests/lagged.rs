//! A subscriber that falls behind loses events, is told so once, and slows no one else.

use events::{EventBody, Hub, HubConfig, Next};

fn log(seq: i64) -> EventBody {
    EventBody::DeployLog {
        deploy_id: 1,
        seq,
        at_ms: 0,
        message: String::new(),
    }
}

fn small_buffers() -> Hub {
    Hub::new(HubConfig {
        replay_capacity: 16,
        subscriber_buffer: 8,
    })
}

#[test]
fn stalled_subscriber_does_not_block_publish_or_the_others() {
    let hub = small_buffers();
    let stalled = hub.subscribe(None);
    let fast = hub.subscribe(None);
    for seq in 0..10_000 {
        let id = hub.publish(log(seq));
        match fast.try_next() {
            Next::Event(event) => assert_eq!(event.id, id),
            other => panic!("fast subscriber got {other:?} for event {id}"),
        }
    }
    assert_eq!(fast.try_next(), Next::Empty);
    assert_eq!(hub.subscriber_count(), 2);

    // Told once, with the stale backlog gone, then back to live events.
    assert_eq!(stalled.try_next(), Next::Lagged);
    assert_eq!(stalled.try_next(), Next::Empty);
    let id = hub.publish(log(10_000));
    assert!(matches!(stalled.try_next(), Next::Event(event) if event.id == id));
}

#[test]
fn nothing_is_lost_while_within_the_buffer() {
    let hub = small_buffers();
    let sub = hub.subscribe(None);
    for seq in 0..8 {
        hub.publish(log(seq));
    }
    for id in 1..=8 {
        assert!(matches!(sub.try_next(), Next::Event(event) if event.id == id));
    }
    assert_eq!(sub.try_next(), Next::Empty);
}

#[test]
fn one_event_over_the_buffer_reports_lagged() {
    let hub = small_buffers();
    let sub = hub.subscribe(None);
    for seq in 0..9 {
        hub.publish(log(seq));
    }
    assert_eq!(sub.try_next(), Next::Lagged);
    assert_eq!(sub.try_next(), Next::Empty);
}

#[test]
fn next_timeout_reports_lagged_too() {
    let hub = small_buffers();
    let sub = hub.subscribe(None);
    for seq in 0..20 {
        hub.publish(log(seq));
    }
    let wait = std::time::Duration::from_millis(1);
    assert_eq!(sub.next_timeout(wait), Next::Lagged);
    assert_eq!(sub.next_timeout(wait), Next::Empty);
}

#[test]
fn lag_is_per_subscriber() {
    let hub = small_buffers();
    let behind = hub.subscribe(None);
    for seq in 0..20 {
        hub.publish(log(seq));
    }
    // Joined after the overflow: it owes nothing and must not inherit the lag.
    let late = hub.subscribe(None);
    let id = hub.publish(log(20));
    assert!(matches!(late.try_next(), Next::Event(event) if event.id == id));
    assert_eq!(behind.try_next(), Next::Lagged);
}
