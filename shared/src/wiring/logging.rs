//! Log set-up, once per cold start. As `lambda_runtime`'s default subscriber (level from
//! `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, JSON when the function's log format is JSON, no
//! timestamps: CloudWatch adds its own), except that a JSON line names its spans once: the
//! default writes the innermost span twice (`span` and again at the end of `spans`), about
//! 40% of a typical line, paid for in CloudWatch ingestion.

use std::str::FromStr;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the subscriber for the process, writing to stdout.
pub fn init() {
    let format = std::env::var("AWS_LAMBDA_LOG_FORMAT").unwrap_or_default();
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let json = format.eq_ignore_ascii_case("json");
    let directives = std::env::var("RUST_LOG").unwrap_or_default();
    let _ = tracing::subscriber::set_global_default(subscriber(
        std::io::stdout,
        json,
        level.as_deref().unwrap_or("info"),
        &directives,
    ));
}

/// The subscriber `init` installs: its writer, format, default level and `RUST_LOG`-style
/// directives given (for tests).
pub fn subscriber<W>(
    writer: W,
    json: bool,
    level: &str,
    directives: &str,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let level = LevelFilter::from_str(level).unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .parse_lossy(directives);
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .with_writer(writer);
    if json {
        Box::new(builder.json().with_current_span(false).finish())
    } else {
        Box::new(builder.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_json_line_names_each_span_once_and_the_level_filters() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = subscriber(move || writer.clone(), true, "info", "");
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("handle", alert_id = "a1b2");
            let _in = span.enter();
            tracing::info!(status = "asked", "asked the person");
            tracing::debug!("not at info");
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let logged: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(logged.len(), 1, "{text}");
        let line = &logged[0];
        assert_eq!(line["fields"]["message"], "asked the person");
        assert_eq!(line["fields"]["status"], "asked");
        assert_eq!(line["spans"][0]["alert_id"], "a1b2");
        assert_eq!(line["spans"][0]["name"], "handle");
        assert!(
            line.get("span").is_none(),
            "the span once, not twice: {line}"
        );
        assert_eq!(text.matches("a1b2").count(), 1);
    }
}
