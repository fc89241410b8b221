//! Where a poller pulls from: `[pollers.<name>]` tables in config/securitybot.toml. Checked at
//! cold start, so a typo stops the deploy's first run with a message naming the setting.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollKind {
    /// Splunk's search export REST API over a saved search.
    Splunk,
    /// An Elasticsearch / OpenSearch search with a time range and `search_after` paging.
    Elastic,
    /// Any HTTP endpoint answering JSON, with a field mapping.
    HttpJson,
}

/// Where the parts of one polled item are (dotted paths into the item).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemMapping {
    /// The source's own id for the item (dedupe across overlapping windows).
    pub id_field: Option<String>,
    /// The rule name; `default_rule` when the item has none.
    pub rule_field: Option<String>,
    pub default_rule: Option<String>,
    /// Tried in order; the first non-empty one names the person.
    #[serde(default)]
    pub user_fields: Vec<String>,
    pub title_field: Option<String>,
    pub description_field: Option<String>,
    pub severity_field: Option<String>,
    pub time_field: Option<String>,
    #[serde(default)]
    pub context_fields: Vec<String>,
    pub link_field: Option<String>,
}

impl ItemMapping {
    /// Elastic Security's alerts index (`.alerts-security.alerts-*`), fields as Kibana writes them.
    pub fn elastic() -> Self {
        ItemMapping {
            id_field: Some("_id".into()),
            rule_field: Some("_source.kibana.alert.rule.name".into()),
            default_rule: None,
            user_fields: vec!["_source.user.email".into(), "_source.user.name".into()],
            title_field: Some("_source.kibana.alert.reason".into()),
            description_field: Some("_source.kibana.alert.rule.description".into()),
            severity_field: Some("_source.kibana.alert.severity".into()),
            time_field: Some("_source.@timestamp".into()),
            // Named as the other sources name them: `host` is what snooze scopes use.
            context_fields: vec![
                "host=_source.host.name".into(),
                "ip=_source.source.ip".into(),
                "command=_source.process.command_line".into(),
                "process_name=_source.process.name".into(),
                "parent_process=_source.process.parent.command_line".into(),
            ],
            link_field: None,
        }
    }

    /// A plain JSON alert: `id`, `rule`, `user`, `title`, `description`, `severity`, `time`, `context`, `link`.
    pub fn plain() -> Self {
        ItemMapping {
            id_field: Some("id".into()),
            rule_field: Some("rule".into()),
            default_rule: None,
            user_fields: vec!["user".into()],
            title_field: Some("title".into()),
            description_field: Some("description".into()),
            severity_field: Some("severity".into()),
            time_field: Some("time".into()),
            context_fields: vec!["context".into()],
            link_field: Some("link".into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollSource {
    pub kind: PollKind,
    /// Splunk's management port (https://splunk:8089), Elastic's endpoint, or the JSON API's URL.
    pub url: String,
    /// Splunk: the saved search to run over each window.
    pub saved_search: Option<String>,
    /// Elastic: the index (or pattern) to search.
    pub index: Option<String>,
    /// Elastic: an extra `query_string` filter (e.g. `kibana.alert.workflow_status:open`).
    pub query: Option<String>,
    /// Elastic: the time field of the range and the sort.
    #[serde(default = "timestamp")]
    pub time_field: String,
    /// Elastic: a unique keyword field that breaks ties in the sort, for `search_after`.
    #[serde(default = "alert_uuid")]
    pub tiebreaker: String,
    /// HTTP JSON: dotted path to the array of items ("" when the body is the array).
    #[serde(default)]
    pub items: String,
    /// HTTP JSON: dotted path to the next page's cursor (absent or null on the last page).
    pub next_cursor: Option<String>,
    #[serde(default = "cursor")]
    pub cursor_param: String,
    #[serde(default = "since")]
    pub since_param: String,
    #[serde(default = "until")]
    pub until_param: String,
    /// Elastic and HTTP JSON: where the alert's parts are (defaults per kind).
    pub mapping: Option<ItemMapping>,
    /// Items per page.
    #[serde(default = "page_size")]
    pub page_size: usize,
    /// The longest time window one page covers (Splunk: one export per window).
    #[serde(default = "window_minutes")]
    pub window_minutes: i64,
    /// How far behind now windows end, so late-indexed events are not skipped.
    #[serde(default = "delay_seconds")]
    pub delay_seconds: i64,
    /// Where the very first run starts.
    #[serde(default = "first_lookback_minutes")]
    pub first_lookback_minutes: i64,
}

fn timestamp() -> String {
    "@timestamp".into()
}
fn alert_uuid() -> String {
    "kibana.alert.uuid".into()
}
fn cursor() -> String {
    "cursor".into()
}
fn since() -> String {
    "since".into()
}
fn until() -> String {
    "until".into()
}
fn page_size() -> usize {
    500
}
fn window_minutes() -> i64 {
    15
}
fn delay_seconds() -> i64 {
    60
}
fn first_lookback_minutes() -> i64 {
    60
}

impl PollSource {
    pub fn mapping(&self) -> ItemMapping {
        self.mapping.clone().unwrap_or_else(|| match self.kind {
            PollKind::Elastic => ItemMapping::elastic(),
            _ => ItemMapping::plain(),
        })
    }

    /// Everything wrong with the source, each naming its setting.
    pub fn problems(&self, name: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let mut need = |ok: bool, what: &str| {
            if !ok {
                problems.push(format!("pollers.{name}: {what}"));
            }
        };
        need(
            self.url.starts_with("https://") || self.url.starts_with("http://"),
            "url must be an http(s) URL",
        );
        need(
            self.kind != PollKind::Splunk || self.saved_search.is_some(),
            "kind = \"splunk\" needs saved_search",
        );
        need(
            self.kind != PollKind::Elastic || self.index.is_some(),
            "kind = \"elastic\" needs index",
        );
        need(
            (1..=10_000).contains(&self.page_size),
            "page_size must be 1 to 10000",
        );
        need(
            (1..=24 * 60).contains(&self.window_minutes),
            "window_minutes must be 1 to 1440",
        );
        need(
            (0..=3600).contains(&self.delay_seconds),
            "delay_seconds must be 0 to 3600",
        );
        need(
            (1..=30 * 24 * 60).contains(&self.first_lookback_minutes),
            "first_lookback_minutes must be 1 to 43200",
        );
        need(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "the name may use letters, digits, _ and - only",
        );
        let mapping = self.mapping();
        need(
            self.kind == PollKind::Splunk
                || mapping.rule_field.is_some()
                || mapping.default_rule.is_some(),
            "mapping needs rule_field or default_rule",
        );
        problems
    }
}
