//! Where the person, the context and the severity are found in each SIEM's native body.
//! Paths are dotted ("alertContext.actor.email"); each source has sensible defaults and the
//! `[sources.<name>]` tables of the config file override them.

use super::fields::{MAX_USER, first_text, truncate};
use crate::core::alert::Severity;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceMapping {
    /// Tried in order; the first non-empty one names the person.
    pub user_fields: Vec<String>,
    /// Each adds its value to the context, or all members when it names an object.
    pub context_fields: Vec<String>,
    pub severity_field: Option<String>,
}

impl SourceMapping {
    /// The person the alert is about, from the first user field that has one.
    pub fn user(&self, root: &Value) -> Option<String> {
        first_text(root, &self.user_fields).map(|u| truncate(&u, MAX_USER))
    }

    /// The alert's own severity, when it has a recognisable one (else the rule's default applies).
    pub fn severity(&self, root: &Value) -> Option<Severity> {
        let field = self.severity_field.as_deref()?;
        first_text(root, &[field.to_string()])?.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceMappings {
    /// Paths inside Splunk's `result` object.
    pub splunk: SourceMapping,
    /// Paths inside each entry of Grafana's `alerts` array.
    pub grafana: SourceMapping,
    /// Paths inside Panther's body.
    pub panther: SourceMapping,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Default for SourceMappings {
    fn default() -> Self {
        SourceMappings {
            splunk: SourceMapping {
                user_fields: strings(&["user", "src_user", "user_name", "username", "email"]),
                // Splunk CIM names first, then the spellings other add-ons use for a command
                // line (CIM's `process` is the full command string).
                context_fields: strings(&[
                    "host",
                    "src",
                    "src_ip",
                    "dest",
                    "dest_ip",
                    "command",
                    "command=process",
                    "command=cmdline",
                    "command=CommandLine",
                    "command=process_command_line",
                    "command=process_cmdline",
                    "process_name",
                    "parent_process",
                    "app",
                ]),
                severity_field: Some("severity".into()),
            },
            grafana: SourceMapping {
                user_fields: strings(&["labels.user", "labels.username", "labels.email"]),
                context_fields: strings(&["labels"]),
                severity_field: Some("labels.severity".into()),
            },
            panther: SourceMapping {
                user_fields: strings(&[
                    "alertContext.user",
                    "alertContext.email",
                    "alertContext.username",
                    "alertContext.actor",
                ]),
                context_fields: strings(&["alertContext"]),
                severity_field: Some("severity".into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_overrides_one_source_and_keeps_the_others() {
        let m: SourceMappings =
            toml::from_str("[splunk]\nuser_fields = [\"actor\"]\ncontext_fields = [\"host\"]\n")
                .unwrap();
        assert_eq!(m.splunk.user_fields, vec!["actor"]);
        assert_eq!(m.splunk.severity_field, None);
        assert_eq!(m.grafana, SourceMappings::default().grafana);
    }
}
