//! Which links an alert may carry into chat: only to the SIEM hosts the operator lists
//! (`[links] siem_hosts`, plus every poller's own host). Any other link would let whoever can
//! send an alert DM an employee a link to any site, under the bot's name; it is kept, defanged
//! (`hxxps://evil[.]example/...`), as plain text for the team to read, never as a link.

use url::Url;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkPolicy {
    /// Host names, lower case; `*.example.com` allows every subdomain of example.com.
    hosts: Vec<String>,
}

/// What became of an alert's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vetted {
    /// To a listed host over http(s): shown as a link.
    Link(String),
    /// Anything else: shown defanged, as text.
    Text(String),
}

impl LinkPolicy {
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(hosts: I) -> Self {
        LinkPolicy {
            hosts: hosts
                .into_iter()
                .map(|h| h.as_ref().trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    /// A host entry that is not a plain host name (a URL, a path), for the config check.
    pub fn problems(hosts: &[String]) -> Vec<String> {
        hosts
            .iter()
            .filter(|h| {
                let bare = h.strip_prefix("*.").unwrap_or(h);
                bare.is_empty()
                    || !bare
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            })
            .map(|h| format!("[links] siem_hosts: '{h}' is not a host name (write splunk.example.com, or *.example.com)"))
            .collect()
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts
            .iter()
            .any(|allowed| match allowed.strip_prefix("*.") {
                Some(domain) => host
                    .strip_suffix(domain)
                    .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                None => *allowed == host,
            })
    }

    pub fn vet(&self, link: &str) -> Vetted {
        let allowed = Url::parse(link.trim()).ok().filter(|url| {
            matches!(url.scheme(), "https" | "http")
                && url.username().is_empty()
                && url.host_str().is_some_and(|h| self.allows_host(h))
        });
        match allowed {
            Some(url) => Vetted::Link(url.to_string()),
            None => Vetted::Text(defang(link)),
        }
    }
}

/// The convention security teams read without clicking: `hxxp`, and `[.]` for dots.
pub fn defang(link: &str) -> String {
    let link = link.trim();
    let (scheme, rest) = link.split_once("://").unwrap_or(("", link));
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "" => String::new(),
        "http" => "hxxp://".into(),
        "https" => "hxxps://".into(),
        other => format!("{other}[://]"),
    };
    format!("{scheme}{}", rest.replace('.', "[.]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LinkPolicy {
        LinkPolicy::new(["splunk.example.com", "*.elastic-cloud.com"])
    }

    #[test]
    fn listed_hosts_are_links_and_everything_else_is_defanged_text() {
        let p = policy();
        assert_eq!(
            p.vet("https://splunk.example.com/app/search?sid=1"),
            Vetted::Link("https://splunk.example.com/app/search?sid=1".into())
        );
        assert!(matches!(
            p.vet("https://acme.elastic-cloud.com/app/security"),
            Vetted::Link(_)
        ));
        for hostile in [
            "https://evil.example/login",
            "https://splunk.example.com.evil.example/",
            "https://elastic-cloud.com/",
            "https://evilelastic-cloud.com/",
            "https://splunk.example.com@evil.example/",
            "javascript:alert(1)",
            "slack://open",
            "not a url",
        ] {
            match p.vet(hostile) {
                Vetted::Text(text) => {
                    assert!(
                        !text.contains("http://") && !text.contains("https://"),
                        "{text}"
                    );
                    assert!(!text.contains(".example/"), "{text}");
                }
                Vetted::Link(link) => panic!("{hostile} passed as {link}"),
            }
        }
        assert_eq!(
            p.vet("https://evil.example/x"),
            Vetted::Text("hxxps://evil[.]example/x".into())
        );
        assert!(matches!(
            LinkPolicy::default().vet("https://splunk.example.com/"),
            Vetted::Text(_)
        ));
    }

    #[test]
    fn host_entries_are_checked() {
        assert!(LinkPolicy::problems(&["splunk.example.com".into(), "*.x.io".into()]).is_empty());
        let bad = LinkPolicy::problems(&["https://splunk.example.com".into()]);
        assert!(bad[0].contains("is not a host name"), "{bad:?}");
    }
}
