//! Redaction: masks secrets that alerts often carry (passwords on command lines, API keys,
//! tokens) in everything that may later reach Slack. The raw payload is kept only in the store.

use regex::{Regex, RegexSet};
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

pub const MASK: &str = "[REDACTED]";

/// Patterns that are always on. Where a pattern has a capture group named `secret`, only that
/// part is masked, so "password=hunter2" reads "password=[REDACTED]" and stays understandable.
/// Every pattern runs in linear time (the `regex` crate has no backtracking) and matches a
/// secret cut short by truncation as well as a whole one.
pub const BUILTIN_PATTERNS: &[&str] = &[
    // name=value, name: value, "name": "value", name="value": any name that says secret,
    // including env-style ones (AWS_SECRET_ACCESS_KEY, DB_PASSWORD, MYSQL_PWD, GITHUB_TOKEN)
    // and query parameters (?access_token=). A quoted value is masked whole, quotes kept.
    r#"(?i)[A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|private[_-]?key|credentials?|auth[_-]?key|session[_-]?key)[A-Za-z0-9_.-]*["']?\s*[=:]\s*(?P<secret>"[^"\n]*"?|'[^'\n]*'?|[^\s&;,'"}\]]+)"#,
    // command-line flags that take a secret: --password x, --pass=x, --client-secret x, --token x
    r"(?i)--[a-z0-9-]*(?:pass|passwd|password|secret|token|api-?key|access-key|private-key)[a-z0-9-]*(?:=|\s+)(?P<secret>[^\s-]\S*)",
    // mysql -phunter2 (the password glued to -p), sshpass -p x
    r"(?i)\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n|;&]*?\s-p(?P<secret>[^\s-]\S*)",
    r"(?i)\bsshpass\s+-p\s*(?P<secret>\S+)",
    // Authorization headers of any scheme (Bearer, Basic, Token, Digest, AWS4-HMAC-SHA256, ...)
    r#"(?i)\bauthorization\s*["']?\s*[:=]\s*["']?(?:[A-Za-z0-9-]+\s+)?(?P<secret>[^\s"',;]+)"#,
    r"(?i)\b(?:bearer|basic)\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})",
    // credentials inside URLs: scheme://user:password@host
    r"://[^/\s:@]+:(?P<secret>[^/\s@]+)@",
    // well-known token shapes
    r"\b(?P<secret>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{12,})",
    r"\b(?P<secret>xox[abposre]-[A-Za-z0-9-]{8,})",
    r"(?P<secret>hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]+)",
    r"\b(?P<secret>gh[pousr]_[A-Za-z0-9]{16,})",
    r"\b(?P<secret>github_pat_[A-Za-z0-9_]{16,})",
    r"\b(?P<secret>glpat-[A-Za-z0-9_-]{12,})",
    r"\b(?P<secret>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,})",
    r"\b(?P<secret>sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,})",
    r"\b(?P<secret>AIza[0-9A-Za-z_-]{20,})",
    r"\b(?P<secret>npm_[A-Za-z0-9]{20,})",
    r"\b(?P<secret>pypi-[A-Za-z0-9_-]{20,})",
    r"\b(?P<secret>SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,})",
    // JSON Web Tokens, whole or cut
    r"\b(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?)",
    // private keys, whole or cut off before their END line
    r"(?s)(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----.*?(?:-----END [A-Z ]*PRIVATE KEY( BLOCK)?-----|\z))",
];

/// Compiled on first use, not at load: most functions never redact (only the ones that admit
/// alerts do), and compiling the patterns is most of a cold start's configuration time.
/// Operators' own patterns are checked at load, so a bad one still stops the cold start.
#[derive(Debug, Clone)]
pub struct Redactor {
    sources: Arc<Vec<String>>,
    compiled: Arc<OnceLock<Compiled>>,
}

#[derive(Debug)]
struct Compiled {
    any: RegexSet,
    patterns: Vec<Regex>,
}

impl Redactor {
    /// The built-in patterns plus the operator's own. A bad pattern is a configuration error
    /// naming the pattern's position, never a silent skip.
    pub fn new(extra_patterns: &[String]) -> Result<Self, String> {
        let sources: Vec<String> = BUILTIN_PATTERNS
            .iter()
            .map(|p| p.to_string())
            .chain(extra_patterns.iter().cloned())
            .collect();
        let redactor = Redactor {
            sources: Arc::new(sources),
            compiled: Arc::default(),
        };
        if !extra_patterns.is_empty() {
            // Someone else's regexes: compiled now, so a bad one is refused at load.
            let compiled = redactor.compile()?;
            let _ = redactor.compiled.set(compiled);
        }
        Ok(redactor)
    }

    fn compile(&self) -> Result<Compiled, String> {
        let mut patterns = Vec::with_capacity(self.sources.len());
        for (i, source) in self.sources.iter().enumerate() {
            let regex = Regex::new(source).map_err(|e| {
                let which = i.checked_sub(BUILTIN_PATTERNS.len()).map_or_else(
                    || format!("built-in pattern {i}"),
                    |j| format!("redaction.patterns[{j}]"),
                );
                format!("{which} is not a valid regular expression: {e}")
            })?;
            patterns.push(regex);
        }
        let any =
            RegexSet::new(self.sources.iter()).map_err(|e| format!("redaction patterns: {e}"))?;
        Ok(Compiled { any, patterns })
    }

    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            self.compile()
                .expect("the built-in patterns compile (tested); extra ones were compiled at load")
        })
    }

    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let compiled = self.compiled();
        let hits = compiled.any.matches(text);
        if !hits.matched_any() {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for i in hits.iter() {
            let regex = &compiled.patterns[i];
            out = regex
                .replace_all(&out, |caps: &regex::Captures<'_>| {
                    let whole = caps.get(0).expect("group 0 always matches");
                    match caps.name("secret") {
                        Some(secret) => {
                            let start = secret.start() - whole.start();
                            let end = secret.end() - whole.start();
                            let w = whole.as_str();
                            format!("{}{}{}", &w[..start], masked(secret.as_str()), &w[end..])
                        }
                        None => MASK.to_string(),
                    }
                })
                .into_owned();
        }
        Cow::Owned(out)
    }
}

/// The mask for one secret: a quoted value keeps its quotes (`"password": "[REDACTED]"`),
/// and a value masked already stays as it is, so redacting twice changes nothing.
fn masked(secret: &str) -> String {
    let unquoted = secret.trim_matches(|c| c == '"' || c == '\'');
    // `[REDACTED` is what a value pattern that stops at `]` sees of an earlier mask.
    if unquoted.is_empty() || (unquoted.starts_with('[') && MASK.starts_with(unquoted)) {
        return secret.to_string();
    }
    match secret.chars().next() {
        Some(q @ ('"' | '\'')) => format!(
            "{q}{MASK}{}",
            if secret.len() > 1 && secret.ends_with(q) {
                q.to_string()
            } else {
                String::new()
            }
        ),
        _ => MASK.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Built once: compiling the patterns is the slow part, and the properties run it often.
    fn r() -> &'static Redactor {
        static R: std::sync::LazyLock<Redactor> =
            std::sync::LazyLock::new(|| Redactor::new(&[]).unwrap());
        &R
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

    /// One real-looking secret per family, in the text around it that real logs carry. Each
    /// secret is the part that must not survive.
    pub(crate) const CORPUS: &[(&str, &str)] = &[
        (
            "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        (
            "DB_PASSWORD=correct-horse-battery ./migrate",
            "correct-horse-battery",
        ),
        ("MYSQL_PWD=s3cr3tpw mysql -u app", "s3cr3tpw"),
        (
            "GITHUB_TOKEN=0123456789abcdef0123 make release",
            "0123456789abcdef0123",
        ),
        (
            r#"{"user": "svc", "password": "hunter2 with spaces"}"#,
            "hunter2 with spaces",
        ),
        ("password=\"quoted secret\" next", "quoted secret"),
        ("db:\n  password: yamlsecret99\n", "yamlsecret99"),
        (
            "GET /api?user=a&access_token=qwertyuiop123 HTTP/1.1",
            "qwertyuiop123",
        ),
        ("psql --pass=pgpass987 -h db", "pgpass987"),
        (
            "az login --client-secret azsecret654 --tenant t",
            "azsecret654",
        ),
        ("mysql -u root -phunter2pw prod", "hunter2pw"),
        ("sshpass -p 'sshsecret321' ssh root@host", "sshsecret321"),
        (
            "curl -H 'Authorization: Token tok_abcdef123456' https://x",
            "tok_abcdef123456",
        ),
        ("Authorization: Bearer abc.def.ghi12345", "abc.def.ghi12345"),
        (
            "Authorization: Basic dXNlcjpwYXNzd29yZA==",
            "dXNlcjpwYXNzd29yZA==",
        ),
        (
            "git clone https://bob:urlpass77@git.example.com/r",
            "urlpass77",
        ),
        ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
        (
            "slack xoxb-123456789012-abcdefABCDEF",
            "xoxb-123456789012-abcdefABCDEF",
        ),
        (
            "post https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
            "T000/B000/XXXXXXXXXXXXXXXX",
        ),
        (
            "gh ghp_0123456789abcdefghijABCDEFGHIJ012345 push",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        ),
        (
            "pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        ),
        (
            "gitlab glpat-abcdefghij1234567890",
            "glpat-abcdefghij1234567890",
        ),
        (
            "stripe sk_live_51Habcdefghijklmnop",
            "sk_live_51Habcdefghijklmnop",
        ),
        (
            "openai sk-proj-abcdefghijklmnopqrstuvwx",
            "sk-proj-abcdefghijklmnopqrstuvwx",
        ),
        (
            "maps AIzaSyA-abcdefghijklmnopqrstuvwxyz12345",
            "AIzaSyA-abcdefghijklmnopqrstuvwxyz12345",
        ),
        (
            "npm npm_abcdefghijklmnopqrstuvwxyz0123456789",
            "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        (
            "twine pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAw",
            "pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAw",
        ),
        (
            "sendgrid SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "SG.abcdefghijklmnopqrstuv",
        ),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAexample\n-----END RSA PRIVATE KEY-----",
            "MIIEowIBAAKCAQEAexample",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAcut",
            "b3BlbnNzaC1rZXktdjEAAAAAcut",
        ),
    ];

    #[test]
    fn every_family_in_the_corpus_is_masked() {
        for (text, secret) in CORPUS {
            let out = r().redact(text);
            assert!(!out.contains(secret), "{secret:?} survived in {out:?}");
            assert!(out.contains(MASK), "{out:?}");
        }
    }

    #[test]
    fn quoted_values_keep_their_quotes_and_names_stay_readable() {
        assert_eq!(
            r().redact(r#"{"password": "hunter2"}"#),
            r#"{"password": "[REDACTED]"}"#
        );
        assert_eq!(
            r().redact("AWS_SECRET_ACCESS_KEY=abc123"),
            "AWS_SECRET_ACCESS_KEY=[REDACTED]"
        );
        assert_eq!(r().redact("sudo -u root -i"), "sudo -u root -i");
        assert_eq!(
            r().redact("the token rotation ran"),
            "the token rotation ran",
            "prose about tokens is not a token"
        );
    }

    proptest::proptest! {
        #[test]
        fn redaction_is_idempotent(text in "[ -~\n]{0,200}") {
            let once = r().redact(&text).into_owned();
            proptest::prop_assert_eq!(r().redact(&once).into_owned(), once);
        }

        #[test]
        fn no_corpus_secret_survives_in_any_surroundings(
            i in 0..CORPUS.len(),
            before in "[ -~]{0,40}",
            after in "[ -~]{0,40}",
        ) {
            let (text, secret) = CORPUS[i];
            // Separated from its surroundings as real logs separate fields.
            let out = r().redact(&format!("{before}\n{text}\n{after}")).into_owned();
            proptest::prop_assert!(!out.contains(secret), "{} survived in {}", secret, out);
            proptest::prop_assert_eq!(r().redact(&out).into_owned(), out.clone());
        }
    }
}
