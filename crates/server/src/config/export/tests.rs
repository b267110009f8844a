//! Export: what is written, and that importing it gives back the same configuration.
