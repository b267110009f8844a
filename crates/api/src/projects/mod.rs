//! Project endpoints.

pub mod list;
