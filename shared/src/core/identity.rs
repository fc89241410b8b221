//! Who an alert is about. Sources name people as emails or bare usernames; the chat side
//! needs an email to find them, so bare usernames get the configured company domain.

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Appended to bare usernames ("alice" -> "alice@example.com"). Without it, a bare
    /// username cannot be mapped and the alert goes to the team instead.
    pub email_domain: Option<String>,
}

impl IdentityConfig {
    /// The person's email, lower-cased, or `None` when the name cannot be mapped to anyone.
    pub fn map_user(&self, raw: &str) -> Option<String> {
        let name = raw.trim().to_lowercase();
        // Windows-style "DOMAIN\user" names the user after the backslash.
        let name = name.rsplit('\\').next().unwrap_or(&name).to_string();
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        match name.split_once('@') {
            Some((local, domain)) => {
                let plausible = !local.is_empty() && domain.contains('.') && !domain.contains('@');
                plausible.then_some(name)
            }
            None => {
                let domain = self.email_domain.as_deref()?.trim().trim_start_matches('@');
                (!domain.is_empty()).then(|| format!("{name}@{}", domain.to_lowercase()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_usernames_get_the_domain() {
        let c = IdentityConfig {
            email_domain: Some("Example.com".into()),
        };
        assert_eq!(
            c.map_user(" Alice@Example.COM "),
            Some("alice@example.com".into())
        );
        assert_eq!(c.map_user("bob"), Some("bob@example.com".into()));
        assert_eq!(c.map_user("CORP\\carol"), Some("carol@example.com".into()));
    }

    #[test]
    fn unmappable_names_are_none() {
        let no_domain = IdentityConfig::default();
        assert_eq!(no_domain.map_user("bob"), None);
        let c = IdentityConfig {
            email_domain: Some("example.com".into()),
        };
        for bad in ["", "   ", "two words", "@example.com", "a@b", "a@@b.com"] {
            assert_eq!(c.map_user(bad), None, "{bad:?}");
        }
    }
}
