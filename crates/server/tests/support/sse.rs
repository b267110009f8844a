//! A small Server-Sent Events client over a plain `TcpStream`: it sends the request itself, so a
//! test controls every header (`Last-Event-ID`), reads the response headers, and sees every frame
//! as sent — comments and `retry:` included — with a deadline on each wait. Dropping it closes
//! the connection, which is how a test "loses" a stream.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One frame: the fields up to a blank line.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    /// `data:` lines joined with `\n`, as EventSource does.
    pub data: Option<String>,
    pub retry: Option<u64>,
    /// Comment lines (`: text`), without the colon and the one space after it.
    pub comments: Vec<String>,
    /// When the frame's blank line arrived.
    pub received: Option<Instant>,
}

impl Frame {
    /// The `id:` as a number; fails the test when it is missing or not a number.
    pub fn id_number(&self) -> u64 {
        self.id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("expected a numeric id on {self:?}"))
    }

    /// `data` parsed as JSON; fails the test when it is not JSON.
    pub fn json(&self) -> Value {
        let data = self
            .data
            .as_deref()
            .unwrap_or_else(|| panic!("expected data on {self:?}"));
        serde_json::from_str(data).unwrap_or_else(|error| panic!("data of {self:?}: {error}"))
    }

    /// Whether this frame is an event a browser would dispatch (it has data).
    pub fn is_event(&self) -> bool {
        self.data.is_some()
    }

    fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.event.is_none()
            && self.data.is_none()
            && self.retry.is_none()
            && self.comments.is_empty()
    }
}

/// What waiting for the next frame gave.
#[derive(Debug)]
pub enum Next {
    Frame(Frame),
    /// The response body ended (the server closed the stream).
    End,
    /// Nothing complete arrived before the deadline.
    TimedOut,
}

enum Framing {
    /// `Transfer-Encoding: chunked`: the bytes left in the current chunk, if inside one.
    Chunked(ChunkState),
    /// `Content-Length`: bytes left.
    Length(usize),
    /// Neither: the body ends when the connection closes.
    UntilClose,
}

#[derive(Clone, Copy)]
enum ChunkState {
    Size,
    Data(usize),
    DataEnd,
}

/// An open SSE response.
pub struct SseStream {
    socket: TcpStream,
    pub status: u16,
    /// Lowercase names.
    pub headers: Vec<(String, String)>,
    /// Bytes read from the socket, not yet de-framed.
    raw: Vec<u8>,
    /// Body bytes not yet split into lines.
    body: Vec<u8>,
    framing: Framing,
    body_done: bool,
    socket_closed: bool,
    pending: Frame,
    what: String,
}

impl SseStream {
    /// Sends `GET path` (with `Last-Event-ID` when given) and reads the response headers.
    pub fn open(addr: SocketAddr, path: &str, last_event_id: Option<&str>) -> SseStream {
        let what = format!("GET {path}");
        let mut socket = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|error| panic!("{what}: cannot connect to {addr}: {error}"));
        socket.set_nodelay(true).ok();
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
        );
        if let Some(id) = last_event_id {
            request.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        request.push_str("\r\n");
        socket
            .write_all(request.as_bytes())
            .unwrap_or_else(|error| panic!("{what}: cannot send the request: {error}"));

        let mut stream = SseStream {
            socket,
            status: 0,
            headers: Vec::new(),
            raw: Vec::new(),
            body: Vec::new(),
            framing: Framing::UntilClose,
            body_done: false,
            socket_closed: false,
            pending: Frame::default(),
            what,
        };
        stream.read_head(Instant::now() + Duration::from_secs(10));
        stream
    }

    fn read_head(&mut self, deadline: Instant) {
        let end = loop {
            if let Some(at) = find(&self.raw, b"\r\n\r\n") {
                break at;
            }
            match self.fill(deadline) {
                Fill::Read => {}
                Fill::Closed => panic!(
                    "{}: the connection closed before the response headers",
                    self.what
                ),
                Fill::TimedOut => panic!("{}: no response headers in time", self.what),
            }
        };
        let head = String::from_utf8_lossy(&self.raw[..end]).into_owned();
        self.raw.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        self.status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{}: bad status line {status_line:?}", self.what));
        self.headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
        self.framing = if chunked {
            Framing::Chunked(ChunkState::Size)
        } else if let Some(length) = self.header("content-length") {
            Framing::Length(length.parse().unwrap_or(0))
        } else {
            Framing::UntilClose
        };
    }

    /// The first value of a response header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Waits up to `timeout` for the next complete frame.
    pub fn next(&mut self, timeout: Duration) -> Next {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(frame) = self.take_frame() {
                return Next::Frame(frame);
            }
            if self.body_done {
                return Next::End;
            }
            if self.decode() {
                continue;
            }
            if self.socket_closed {
                // Whatever the framing promised, nothing more can come.
                self.body_done = true;
                continue;
            }
            match self.fill(deadline) {
                Fill::Read => {}
                Fill::Closed => self.socket_closed = true,
                Fill::TimedOut => return Next::TimedOut,
            }
        }
    }

    /// Frames until (and including) the first one `stop` accepts; fails the test if the stream
    /// ends or `timeout` passes first.
    pub fn collect_until(
        &mut self,
        timeout: Duration,
        mut stop: impl FnMut(&Frame) -> bool,
    ) -> Vec<Frame> {
        let deadline = Instant::now() + timeout;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Next::Frame(frame) => {
                    let done = stop(&frame);
                    frames.push(frame);
                    if done {
                        return frames;
                    }
                }
                Next::End => panic!(
                    "{}: the stream ended before the expected frame; got {frames:#?}",
                    self.what
                ),
                Next::TimedOut => panic!(
                    "{}: the expected frame did not arrive within {timeout:?}; got {frames:#?}",
                    self.what
                ),
            }
        }
    }

    /// Every frame until the stream ends; fails the test if it does not end within `timeout`.
    pub fn collect_to_end(&mut self, timeout: Duration) -> Vec<Frame> {
        let deadline = Instant::now() + timeout;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Next::Frame(frame) => frames.push(frame),
                Next::End => return frames,
                Next::TimedOut => panic!(
                    "{}: the stream did not end within {timeout:?}; got {frames:#?}",
                    self.what
                ),
            }
        }
    }

    /// Reads more bytes from the socket, waiting at most until `deadline`.
    fn fill(&mut self, deadline: Instant) -> Fill {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Fill::TimedOut;
        }
        self.socket.set_read_timeout(Some(left)).ok();
        let mut buffer = [0u8; 16 * 1024];
        match self.socket.read(&mut buffer) {
            Ok(0) => Fill::Closed,
            Ok(count) => {
                self.raw.extend_from_slice(&buffer[..count]);
                Fill::Read
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Fill::TimedOut
            }
            Err(error) if error.kind() == ErrorKind::Interrupted => Fill::Read,
            Err(_) => Fill::Closed,
        }
    }

    /// Moves body bytes from `raw` to `body`; true when anything changed.
    fn decode(&mut self) -> bool {
        let mut progressed = false;
        loop {
            match &mut self.framing {
                Framing::UntilClose => {
                    if self.raw.is_empty() {
                        return progressed;
                    }
                    self.body.append(&mut self.raw);
                    return true;
                }
                Framing::Length(left) => {
                    let take = (*left).min(self.raw.len());
                    self.body.extend(self.raw.drain(..take));
                    *left -= take;
                    if *left == 0 {
                        self.body_done = true;
                        return true;
                    }
                    return progressed || take > 0;
                }
                Framing::Chunked(state) => match *state {
                    ChunkState::Size => {
                        let Some(end) = find(&self.raw, b"\r\n") else {
                            return progressed;
                        };
                        let line = String::from_utf8_lossy(&self.raw[..end]).into_owned();
                        self.raw.drain(..end + 2);
                        let size_text = line.split(';').next().unwrap_or("").trim();
                        let size = usize::from_str_radix(size_text, 16).unwrap_or_else(|_| {
                            panic!("{}: bad chunk size line {line:?}", self.what)
                        });
                        progressed = true;
                        if size == 0 {
                            // The last chunk: the body is complete (trailers are not used here).
                            self.body_done = true;
                            return true;
                        }
                        *state = ChunkState::Data(size);
                    }
                    ChunkState::Data(left) => {
                        if self.raw.is_empty() {
                            return progressed;
                        }
                        let take = left.min(self.raw.len());
                        self.body.extend(self.raw.drain(..take));
                        progressed = true;
                        *state = if take == left {
                            ChunkState::DataEnd
                        } else {
                            ChunkState::Data(left - take)
                        };
                    }
                    ChunkState::DataEnd => {
                        if self.raw.len() < 2 {
                            return progressed;
                        }
                        assert_eq!(
                            &self.raw[..2],
                            b"\r\n",
                            "{}: a chunk does not end with CRLF",
                            self.what
                        );
                        self.raw.drain(..2);
                        progressed = true;
                        *state = ChunkState::Size;
                    }
                },
            }
        }
    }

    /// Parses complete lines from `body`; returns a frame when a blank line completes one.
    fn take_frame(&mut self) -> Option<Frame> {
        while let Some(end) = self.body.iter().position(|&byte| byte == b'\n') {
            let mut line: Vec<u8> = self.body.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8(line)
                .unwrap_or_else(|error| panic!("{}: a line is not UTF-8: {error}", self.what));
            if line.is_empty() {
                if self.pending.is_empty() {
                    continue;
                }
                let mut frame = std::mem::take(&mut self.pending);
                frame.received = Some(Instant::now());
                return Some(frame);
            }
            if let Some(comment) = line.strip_prefix(':') {
                let comment = comment.strip_prefix(' ').unwrap_or(comment);
                self.pending.comments.push(comment.to_string());
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line.as_str(), ""),
            };
            match field {
                "id" => self.pending.id = Some(value.to_string()),
                "event" => self.pending.event = Some(value.to_string()),
                "data" => match &mut self.pending.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => self.pending.data = Some(value.to_string()),
                },
                "retry" => self.pending.retry = value.parse().ok(),
                other => panic!("{}: unknown SSE field {other:?} in {line:?}", self.what),
            }
        }
        None
    }
}

enum Fill {
    Read,
    Closed,
    TimedOut,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
