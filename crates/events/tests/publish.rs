//! Ids, registration and closing.

use events::{Catchup, EventBody, Hub, HubConfig, Next, Subscription};

fn log(seq: i64) -> EventBody {
    EventBody::DeployLog {
        deploy_id: 1,
        seq,
        at_ms: 0,
        message: format!("line {seq}"),
    }
}

fn next_id(sub: &Subscription) -> Option<u64> {
    match sub.try_next() {
        Next::Event(event) => Some(event.id),
        _ => None,
    }
}

#[test]
fn ids_start_at_one_and_increase_by_one() {
    let hub = Hub::new(HubConfig::default());
    assert_eq!(hub.last_id(), 0);
    let ids: Vec<u64> = (0..5).map(|seq| hub.publish(log(seq))).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(hub.last_id(), 5);
}

#[test]
fn clones_share_one_id_sequence() {
    let hub = Hub::new(HubConfig::default());
    let other = hub.clone();
    assert_eq!(hub.publish(log(0)), 1);
    assert_eq!(other.publish(log(1)), 2);
    assert_eq!(hub.last_id(), 2);
}

#[test]
fn subscriber_receives_events_published_after_subscribing_in_order() {
    let hub = Hub::new(HubConfig::default());
    hub.publish(log(0));
    let sub = hub.subscribe(None);
    assert_eq!(sub.catchup(), Catchup::Events(vec![]));
    assert_eq!(sub.try_next(), Next::Empty);
    hub.publish(log(1));
    hub.publish(log(2));
    match sub.try_next() {
        Next::Event(event) => {
            assert_eq!(event.id, 2);
            assert_eq!(event.body, log(1));
        }
        other => panic!("expected an event, got {other:?}"),
    }
    assert_eq!(next_id(&sub), Some(3));
    assert_eq!(sub.try_next(), Next::Empty);
}

#[test]
fn every_subscriber_gets_every_event() {
    let hub = Hub::new(HubConfig::default());
    let first = hub.subscribe(None);
    let second = hub.subscribe(None);
    hub.publish(log(0));
    assert_eq!(next_id(&first), Some(1));
    assert_eq!(next_id(&second), Some(1));
}

#[test]
fn dropping_a_subscription_unregisters_it() {
    let hub = Hub::new(HubConfig::default());
    let first = hub.subscribe(None);
    let second = hub.subscribe(Some(0));
    assert_eq!(hub.subscriber_count(), 2);
    drop(first);
    assert_eq!(hub.subscriber_count(), 1);
    hub.publish(log(0));
    assert_eq!(hub.subscriber_count(), 1);
    assert_eq!(next_id(&second), Some(1));
    drop(second);
    assert_eq!(hub.subscriber_count(), 0);
}

#[test]
fn subscription_outliving_the_hub_is_closed_after_its_buffered_events() {
    let hub = Hub::new(HubConfig::default());
    let clone = hub.clone();
    let sub = hub.subscribe(None);
    hub.publish(log(0));
    drop(hub);
    // One clone still open: not closed.
    assert_eq!(next_id(&sub), Some(1));
    assert_eq!(sub.try_next(), Next::Empty);
    clone.publish(log(1));
    drop(clone);
    assert_eq!(next_id(&sub), Some(2));
    assert_eq!(sub.try_next(), Next::Closed);
    assert_eq!(
        sub.next_timeout(std::time::Duration::from_millis(1)),
        Next::Closed
    );
}

#[test]
fn next_timeout_returns_empty_when_nothing_arrives_and_events_from_other_threads() {
    let hub = Hub::new(HubConfig::default());
    let sub = hub.subscribe(None);
    assert_eq!(
        sub.next_timeout(std::time::Duration::from_millis(5)),
        Next::Empty
    );
    let publisher = hub.clone();
    let thread = std::thread::spawn(move || publisher.publish(log(0)));
    let next = sub.next_timeout(std::time::Duration::from_secs(30));
    assert_eq!(thread.join().unwrap(), 1);
    assert!(matches!(next, Next::Event(event) if event.id == 1));
}

#[test]
fn hub_and_subscription_can_move_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Hub>();
    assert_send_sync::<Subscription>();
}
