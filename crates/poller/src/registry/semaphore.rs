//! A counting semaphore, so one client never has more than `max_concurrent` requests open to
//! its registry however many poller threads share it: registries (Docker Hub above all)
//! throttle clients that open many connections at once.

use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Debug)]
pub(crate) struct Semaphore {
    available: Mutex<usize>,
    released: Condvar,
}

/// Holds one slot until dropped.
pub(crate) struct Permit<'a> {
    semaphore: &'a Semaphore,
}

impl Semaphore {
    /// At least one slot, so a zero from configuration cannot block every request forever.
    pub fn new(slots: usize) -> Semaphore {
        Semaphore {
            available: Mutex::new(slots.max(1)),
            released: Condvar::new(),
        }
    }

    pub fn acquire(&self) -> Permit<'_> {
        let mut available = self.lock();
        while *available == 0 {
            available = self
                .released
                .wait(available)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *available -= 1;
        Permit { semaphore: self }
    }

    // The count stays consistent even if a holder panicked, so poisoning is not fatal here.
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.available
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.semaphore.lock() += 1;
        self.semaphore.released.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn never_more_holders_than_slots() {
        let semaphore = Semaphore::new(2);
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    let _permit = semaphore.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    inside.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
