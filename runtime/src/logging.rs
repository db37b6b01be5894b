//! Logging on stderr, as human-readable text or one JSON object per line, level from `RUST_LOG`.

use std::fmt;
use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::layer;
use tracing_subscriber::{EnvFilter, prelude::*};

/// Format of the log lines on stderr.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global logger; call once at start-up.
///
/// The level comes from `RUST_LOG`, else `default_level` (e.g. `info`). Text lines are coloured
/// only when stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Json => registry
            .with(layer().json().with_writer(std::io::stderr))
            .init(),
        LogFormat::Text => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let ansi = !no_color && std::io::stderr().is_terminal();
            registry
                .with(
                    layer()
                        .fmt_fields(EscapedFields)
                        .with_ansi(ansi)
                        .with_writer(std::io::stderr),
                )
                .init()
        }
    }
}

/// Text-format fields as `name=value`, quoting and escaping any value that holds a space, a
/// quote, `=`, `\` or a control character, so a value from a client cannot forge a field.
#[derive(Clone, Copy, Debug, Default)]
pub struct EscapedFields;

impl<'a> MakeVisitor<Writer<'a>> for EscapedFields {
    type Visitor = EscapingVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> Self::Visitor {
        EscapingVisitor {
            writer,
            first: true,
            result: Ok(()),
        }
    }
}

/// Writes the fields of one span or event for [`EscapedFields`].
pub struct EscapingVisitor<'a> {
    writer: Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl EscapingVisitor<'_> {
    fn write(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if !self.first {
            self.result = self.writer.write_char(' ');
        }
        self.first = false;
        self.result = self.result.and_then(|()| {
            if field.name() == "message" {
                // NB: the message is ours; only line breaks and other controls are escaped.
                value.chars().try_for_each(|c| {
                    if c.is_control() {
                        write!(self.writer, "{}", c.escape_debug())
                    } else {
                        self.writer.write_char(c)
                    }
                })
            } else if needs_quotes(value) {
                write!(self.writer, "{}={value:?}", field.name())
            } else {
                write!(self.writer, "{}={value}", field.name())
            }
        });
    }
}

fn needs_quotes(value: &str) -> bool {
    value.is_empty()
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'))
}

impl Visit for EscapingVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.write(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, &format!("{value:?}"));
    }
}

impl VisitOutput<fmt::Result> for EscapingVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for EscapingVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;
    use std::sync::{Arc, Mutex};

    #[test]
    fn the_flag_values_are_text_and_json() {
        assert_eq!(LogFormat::from_str("text", false), Ok(LogFormat::Text));
        assert_eq!(LogFormat::from_str("json", false), Ok(LogFormat::Json));
        assert!(LogFormat::from_str("xml", false).is_err());
    }

    /// The text lines written while `log` runs.
    fn text_lines(log: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = {
            let buffer = buffer.clone();
            move || SharedBuffer(buffer.clone())
        };
        let subscriber = tracing_subscriber::registry().with(
            layer()
                .fmt_fields(EscapedFields)
                .with_ansi(false)
                .with_writer(writer),
        );
        tracing::subscriber::with_default(subscriber, log);
        String::from_utf8(buffer.lock().unwrap().clone()).unwrap()
    }

    struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for SharedBuffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_client_value_cannot_forge_a_field_or_a_line() {
        let forged = "abc\" status=500 fake=\"1";
        let lines = text_lines(|| {
            let span = tracing::info_span!("request", request_id = %forged, path = "/a\nb");
            let _entered = span.enter();
            tracing::info!(status = 200, "answered\nfake line");
        });
        assert!(
            lines.contains(r#"request_id="abc\" status=500 fake=\"1""#),
            "{lines}"
        );
        assert!(lines.contains(r#"path="/a\nb""#), "{lines}");
        assert!(lines.contains(r"answered\nfake line status=200"), "{lines}");
        assert_eq!(lines.lines().count(), 1, "{lines}");
    }

    #[test]
    fn plain_values_stay_unquoted() {
        let lines = text_lines(|| tracing::info!(task_id = "2f1c-6a0e", count = 3, "done"));
        assert!(lines.contains("done task_id=2f1c-6a0e count=3"), "{lines}");
    }
}
