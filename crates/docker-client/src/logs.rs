//! The last lines a container wrote, to explain why it failed.

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;

use crate::client::DockerClient;
use crate::error::{DockerError, check_identifier};

impl DockerClient {
    /// The last `lines` lines of the container's stdout and stderr, oldest first.
    pub async fn container_logs_tail(
        &self,
        id_or_name: &str,
        lines: usize,
    ) -> Result<Vec<String>, DockerError> {
        check_identifier("container", id_or_name)?;
        let docker = self.docker().await?;
        if lines == 0 {
            return Ok(Vec::new());
        }
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = docker.logs(id_or_name, Some(options));
        let mut assembler = LineAssembler::default();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|err| self.container_failure("reading logs of", id_or_name, err))?;
            assembler.push(&chunk);
        }
        let mut all = assembler.finish();
        let keep_from = all.len().saturating_sub(lines);
        Ok(all.split_off(keep_from))
    }
}

/// Reassembles lines from log frames: a frame may hold several lines or part
/// of one, and stdout and stderr frames interleave.
#[derive(Debug, Default)]
struct LineAssembler {
    lines: Vec<String>,
    partial_out: Vec<u8>,
    partial_err: Vec<u8>,
}

impl LineAssembler {
    fn push(&mut self, chunk: &LogOutput) {
        let partial = match chunk {
            LogOutput::StdErr { .. } => &mut self.partial_err,
            _ => &mut self.partial_out,
        };
        partial.extend_from_slice(chunk.as_ref());
        while let Some(end) = partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            self.lines.push(clean(&line));
        }
    }

    fn finish(mut self) -> Vec<String> {
        for partial in [self.partial_out, self.partial_err] {
            if !partial.is_empty() {
                self.lines.push(clean(&partial));
            }
        }
        self.lines
    }
}

fn clean(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .trim_end_matches(['\n', '\r'])
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(text: &str) -> LogOutput {
        LogOutput::StdOut {
            message: text.as_bytes().to_vec().into(),
        }
    }

    fn err(text: &str) -> LogOutput {
        LogOutput::StdErr {
            message: text.as_bytes().to_vec().into(),
        }
    }

    #[test]
    fn lines_split_across_frames_and_streams_are_reassembled() {
        let mut assembler = LineAssembler::default();
        for chunk in [
            out("listen"),
            err("warn: disk\n"),
            out("ing on 8080\r\nready\n"),
            out("bye"),
        ] {
            assembler.push(&chunk);
        }
        assert_eq!(
            assembler.finish(),
            ["warn: disk", "listening on 8080", "ready", "bye"]
        );
    }
}
