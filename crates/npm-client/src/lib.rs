//! A client for Nginx Proxy Manager's REST API: tokens and proxy hosts.
//!
//! Owns: talking to NPM over HTTP and NPM's request and response shapes.
//! Does not own: which subdomain an instance gets or when routes change (that is `deployer`).
//!
//! Nothing lives here yet: instances are reached by their container address until routing lands.
