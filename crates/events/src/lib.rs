//! The in-process event hub: publishes deploy and instance events to live subscribers
//! (SSE streams) and replays recent ones to clients that reconnect.
//!
//! Owns: the event shapes and their JSON form, event ids, the replay ring, per-subscriber
//! bounded buffers, lag detection and waking async consumers.
//! Does not own: persistence (events are lost on restart, that is `store`), HTTP/SSE framing
//! (that is `api`), or deciding what happened (the deployer publishes, it does not ask).

mod event;
mod hub;
mod replay;
mod subscription;

pub use event::{Event, EventBody, EventId};
pub use hub::{Hub, HubConfig};
pub use replay::Catchup;
pub use subscription::{Next, Subscription};
