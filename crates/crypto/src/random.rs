//! The one source of randomness for keys and nonces: the operating system.

use rand::TryRngCore;
use rand::rngs::OsRng;

/// Fills `buffer` from the operating system's random source.
///
/// Panics if the OS cannot provide randomness: there is no safe way to go on without it, and on
/// the systems we run on it does not happen once the system has booted.
pub(crate) fn fill(buffer: &mut [u8]) {
    OsRng
        .try_fill_bytes(buffer)
        .expect("the operating system's random number generator failed");
}
