//! An incremental Server-Sent Events parser, enough for MCP responses: it
//! yields the `data` of each complete event, in order, from chunks cut
//! anywhere (inside a line, inside a UTF-8 character, between `\r` and `\n`).
//!
//! Events without data, such as rmcp's priming event (`id` and `retry`
//! only), and comment lines (`:` keep-alives) are skipped, as the SSE
//! specification says a client must.

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line being received.
    line: Vec<u8>,
    /// `data` lines of the event being received.
    data: Vec<String>,
    /// The previous chunk ended with `\r`: a `\n` starting this one ends no line.
    after_cr: bool,
}

impl SseParser {
    /// Feeds bytes; returns the data of every event they complete.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<String>, String> {
        let mut events = Vec::new();
        for &b in chunk {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    let line = String::from_utf8(line)
                        .map_err(|_| "an SSE line is not valid UTF-8".to_string())?;
                    if let Some(data) = self.line_done(&line) {
                        events.push(data);
                    }
                }
                _ => self.line.push(b),
            }
        }
        Ok(events)
    }

    /// Handles one complete line; returns an event's data when the line ends it.
    fn line_done(&mut self, line: &str) -> Option<String> {
        if line.is_empty() {
            let data = std::mem::take(&mut self.data).join("\n");
            return (!data.trim().is_empty()).then_some(data);
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        if field == "data" {
            self.data.push(value.to_string());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<String> {
        let mut p = SseParser::default();
        chunks.iter().flat_map(|c| p.feed(c).unwrap()).collect()
    }

    #[test]
    fn priming_event_without_data_is_skipped() {
        let text = b"data: \nid: 0\nretry: 3000\n\ndata: {\"id\":1}\n\n";
        assert_eq!(all(&[text]), vec!["{\"id\":1}"]);
    }

    #[test]
    fn events_split_anywhere_are_reassembled() {
        let text =
            "event: message\r\ndata: {\"a\":\"é\"}\r\n\r\n: keep-alive\r\n\r\ndata: 2\r\n\r\n"
                .as_bytes();
        let whole = all(&[text]);
        assert_eq!(whole, vec!["{\"a\":\"é\"}", "2"]);
        // Every split point, including inside "é" and between \r and \n.
        for i in 0..text.len() {
            assert_eq!(all(&[&text[..i], &text[i..]]), whole, "split at {i}");
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(all(&bytes), whole);
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines_and_cr_alone_ends_lines() {
        assert_eq!(all(&[b"data: a\rdata:b\r\r"]), vec!["a\nb"]);
    }

    #[test]
    fn an_unfinished_event_yields_nothing() {
        assert!(all(&[b"data: {\"id\":1}\n"]).is_empty());
    }

    #[test]
    fn comments_and_other_fields_carry_no_data() {
        assert!(all(&[b": ping\n\nid: 5\nevent: x\n\n"]).is_empty());
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut p = SseParser::default();
        assert!(p.feed(b"data: \xff\xfe\n\n").is_err());
    }
}
