//! Sealing and opening secrets at rest (XChaCha20-Poly1305) and managing the key that does it.
//!
//! Owns: the secret key (loading, creating, rotating) and the ciphertext format.
//! Does not own: where ciphertext is stored (that is `store`) or who may read a secret.
//!
//! Nothing lives here yet: the walking skeleton keeps no secret but the webhook secret.
