//! Async consumers are woken by publish and by the hub closing, with no thread of their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use events::{EventBody, Hub, HubConfig, Next};

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn log(seq: i64) -> EventBody {
    EventBody::DeployLog {
        deploy_id: 1,
        seq,
        at_ms: 0,
        message: String::new(),
    }
}

#[test]
fn publish_wakes_a_pending_subscriber() {
    let hub = Hub::new(HubConfig::default());
    let sub = hub.subscribe(None);
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);

    assert_eq!(sub.poll_next(&mut cx), Poll::Pending);
    assert_eq!(counter.wakes(), 0);
    let id = hub.publish(log(0));
    assert_eq!(counter.wakes(), 1);
    assert!(matches!(sub.poll_next(&mut cx), Poll::Ready(Next::Event(event)) if event.id == id));
}

#[test]
fn each_pending_poll_is_woken_at_most_once() {
    let hub = Hub::new(HubConfig::default());
    let sub = hub.subscribe(None);
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);

    assert_eq!(sub.poll_next(&mut cx), Poll::Pending);
    hub.publish(log(0));
    hub.publish(log(1));
    // The first publish consumed the registration; the second had nothing to wake.
    assert_eq!(counter.wakes(), 1);
    assert!(matches!(
        sub.poll_next(&mut cx),
        Poll::Ready(Next::Event(_))
    ));
    assert!(matches!(
        sub.poll_next(&mut cx),
        Poll::Ready(Next::Event(_))
    ));
    assert_eq!(sub.poll_next(&mut cx), Poll::Pending);
    hub.publish(log(2));
    assert_eq!(counter.wakes(), 2);
}

#[test]
fn overflow_wakes_and_polls_as_lagged() {
    let hub = Hub::new(HubConfig {
        replay_capacity: 4,
        subscriber_buffer: 1,
    });
    let sub = hub.subscribe(None);
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);

    assert_eq!(sub.poll_next(&mut cx), Poll::Pending);
    hub.publish(log(0));
    hub.publish(log(1));
    assert_eq!(counter.wakes(), 1);
    assert_eq!(sub.poll_next(&mut cx), Poll::Ready(Next::Lagged));
    assert_eq!(sub.poll_next(&mut cx), Poll::Pending);
}

#[test]
fn dropping_the_hub_wakes_and_polls_as_closed() {
    let hub = Hub::new(HubConfig::default());
    let sub = hub.subscribe(None);
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);

    assert_eq!(sub.poll_next(&mut cx), Poll::Pending);
    drop(hub);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(sub.poll_next(&mut cx), Poll::Ready(Next::Closed));
}

#[test]
fn publish_from_another_thread_wakes_a_parked_thread() {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    let hub = Hub::new(HubConfig::default());
    let sub = hub.subscribe(None);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let publisher = hub.clone();
    let thread = std::thread::spawn(move || {
        for seq in 0..100 {
            publisher.publish(log(seq));
        }
    });
    let mut ids = Vec::new();
    while ids.len() < 100 {
        match sub.poll_next(&mut cx) {
            Poll::Ready(Next::Event(event)) => ids.push(event.id),
            Poll::Pending => std::thread::park(),
            Poll::Ready(other) => panic!("unexpected {other:?}"),
        }
    }
    thread.join().unwrap();
    assert_eq!(ids, (1..=100).collect::<Vec<_>>());
}
