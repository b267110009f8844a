//! What the npm-client tests share: a client for a double, and tiny HTTP backends to route to.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use npm_client::{NpmClient, NpmConfig};
use npm_double::{ADMIN_EMAIL, ADMIN_PASSWORD, NpmDouble};

/// A client of `npm` logged in as its admin, with default settings.
pub fn client(npm: &NpmDouble) -> NpmClient {
    client_with(npm, NpmConfig::default())
}

pub fn client_with(npm: &NpmDouble, config: NpmConfig) -> NpmClient {
    NpmClient::new(&npm.url(), ADMIN_EMAIL, ADMIN_PASSWORD, config).unwrap()
}

/// Settings with a short timeout, for tests of an NPM that does not answer.
pub fn impatient() -> NpmConfig {
    NpmConfig {
        timeout: Duration::from_secs(1),
        ..NpmConfig::default()
    }
}

/// A backend on a free port of 127.0.0.1 that answers every request with `body`; it runs
/// until the test process ends. Returns its port.
pub fn backend(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                let mut stream = &stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}
