//! Redaction: masks secrets that alerts often carry (passwords on command lines, API keys,
//! tokens) in everything that may later reach Slack. The raw payload is kept only in the store.

use regex::{Regex, RegexSet};
use std::borrow::Cow;

pub const MASK: &str = "[REDACTED]";

/// Patterns that are always on. Where a pattern has a capture group named `secret`, only that
/// part is masked, so "password=hunter2" reads "password=[REDACTED]" and stays understandable.
pub const BUILTIN_PATTERNS: &[&str] = &[
    // key=value and key: value pairs whose key names a secret
    r"(?i)\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)\b\s*[=:]\s*(?P<secret>[^\s&;,'\x22]+)",
    // command-line flags that take a secret: --password x, --token=x, -p'x' is too ambiguous
    r"(?i)--(?:password|passwd|token|secret|api-key)(?:=|\s+)(?P<secret>\S+)",
    // HTTP authorization values
    r"(?i)\b(?:bearer|basic)\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})",
    // credentials inside URLs: scheme://user:password@host
    r"://[^/\s:@]+:(?P<secret>[^/\s@]+)@",
    // well-known token shapes: AWS access keys, Slack tokens, GitHub tokens, private keys
    r"\b(?P<secret>(?:AKIA|ASIA)[0-9A-Z]{16})\b",
    r"\b(?P<secret>xox[abposr]-[A-Za-z0-9-]{10,})",
    r"\b(?P<secret>gh[pousr]_[A-Za-z0-9]{30,})",
    r"(?s)(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----)",
];

#[derive(Debug, Clone)]
pub struct Redactor {
    any: RegexSet,
    patterns: Vec<Regex>,
}

impl Redactor {
    /// Builds from the built-in patterns plus the operator's own. A bad pattern is a
    /// configuration error naming the pattern's position, never a silent skip.
    pub fn new(extra_patterns: &[String]) -> Result<Self, String> {
        let all: Vec<String> = BUILTIN_PATTERNS
            .iter()
            .map(|p| p.to_string())
            .chain(extra_patterns.iter().cloned())
            .collect();
        let mut patterns = Vec::with_capacity(all.len());
        for (i, source) in all.iter().enumerate() {
            let regex = Regex::new(source).map_err(|e| {
                let which = i.checked_sub(BUILTIN_PATTERNS.len()).map_or_else(
                    || format!("built-in pattern {i}"),
                    |j| format!("redaction.patterns[{j}]"),
                );
                format!("{which} is not a valid regular expression: {e}")
            })?;
            patterns.push(regex);
        }
        let any = RegexSet::new(&all).map_err(|e| format!("redaction patterns: {e}"))?;
        Ok(Redactor { any, patterns })
    }

    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let hits = self.any.matches(text);
        if !hits.matched_any() {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for i in hits.iter() {
            let regex = &self.patterns[i];
            out = regex
                .replace_all(&out, |caps: &regex::Captures<'_>| {
                    let whole = caps.get(0).expect("group 0 always matches");
                    match caps.name("secret") {
                        Some(secret) => {
                            let start = secret.start() - whole.start();
                            let end = secret.end() - whole.start();
                            let w = whole.as_str();
                            format!("{}{MASK}{}", &w[..start], &w[end..])
                        }
                        None => MASK.to_string(),
                    }
                })
                .into_owned();
        }
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new(&[]).unwrap()
    }

    #[test]
    fn masks_values_but_keeps_what_they_were() {
        assert_eq!(
            r().redact("mysql -u root password=hunter2 db"),
            "mysql -u root password=[REDACTED] db"
        );
        assert_eq!(
            r().redact("curl --token abc123def https://x"),
            "curl --token [REDACTED] https://x"
        );
        assert_eq!(
            r().redact("curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y'"),
            "curl -H 'Authorization: Bearer [REDACTED]'"
        );
        assert_eq!(
            r().redact("git clone https://bob:s3cret@git.example.com/r"),
            "git clone https://bob:[REDACTED]@git.example.com/r"
        );
    }

    #[test]
    fn masks_known_token_shapes() {
        let text = "export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP; slack xoxb-1234567890-abcdef";
        let out = r().redact(text);
        assert!(!out.contains("AKIAABCDEFGHIJKLMNOP"), "{out}");
        assert!(!out.contains("xoxb-1234567890-abcdef"), "{out}");
    }

    #[test]
    fn leaves_innocent_text_alone_and_borrows_it() {
        let text = "sudo -i on build-01";
        assert!(matches!(r().redact(text), Cow::Borrowed(_)));
    }

    #[test]
    fn operator_patterns_apply_and_bad_ones_are_named() {
        let custom = Redactor::new(&[r"EMP-\d{6}".to_string()]).unwrap();
        assert_eq!(
            custom.redact("badge EMP-123456 used"),
            "badge [REDACTED] used"
        );
        let err = Redactor::new(&["ok".into(), "(unclosed".into()]).unwrap_err();
        assert!(err.starts_with("redaction.patterns[1]"), "{err}");
    }
}
