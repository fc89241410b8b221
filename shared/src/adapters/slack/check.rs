//! `check_slack`: what a team setting the bot up needs to know before the first alert. Is the
//! token good and allowed to do what the bot does (the manifest's scopes), is the bot in the
//! security channel, are the team's ids people in this workspace? Each problem says what to
//! do; nothing is posted anywhere.

use super::{Body, SCOPES, SlackChat, refusal_code};
use crate::error::Result;
use crate::ports::ChatCheck;

/// The bot scopes of `infra/slack/manifest.yaml` the bot cannot work without.
const NEEDED_SCOPES: &[&str] = &["chat:write", "im:write", "users:read", "users:read.email"];

pub(super) async fn run(slack: &SlackChat, channel: &str, team: &[String]) -> Result<ChatCheck> {
    let mut check = ChatCheck::default();
    let me = match slack.call("auth.test", Body::Form(Vec::new())).await {
        Ok(me) => me,
        Err(e) => {
            check.problems.push(format!(
                "Slack refuses the bot token ({e}): put the app's Bot User OAuth Token (xoxb-...) in the secret as slack_bot_token"
            ));
            return Ok(check);
        }
    };
    check.connected_as = Some(format!(
        "@{} ({}) in {}",
        me["user"].as_str().unwrap_or("?"),
        me["user_id"].as_str().unwrap_or("?"),
        me["team"].as_str().unwrap_or("?")
    ));
    match me[SCOPES].as_str() {
        Some(scopes) => {
            let have: Vec<&str> = scopes.split(',').map(str::trim).collect();
            for needed in NEEDED_SCOPES.iter().filter(|s| !have.contains(s)) {
                check.problems.push(format!(
                    "the token lacks the {needed} scope: add it as in infra/slack/manifest.yaml and reinstall the app"
                ));
            }
        }
        None => check
            .unchecked
            .push("scopes: Slack did not list the token's scopes".into()),
    }
    let info = slack
        .call(
            "conversations.info",
            Body::Form(vec![("channel", channel.to_string())]),
        )
        .await;
    match info {
        Ok(info) if info["channel"]["is_member"].as_bool() == Some(true) => {}
        Ok(_) => check.problems.push(format!(
            "the bot is not in the security channel {channel}: type /invite @{} there",
            me["user"].as_str().unwrap_or("securitybot")
        )),
        Err(e) if refusal_code(&e) == Some("missing_scope") => check.unchecked.push(format!(
            "membership of {channel}: reading a channel needs channels:read (groups:read if private), which the bot does not otherwise use"
        )),
        Err(e) if refusal_code(&e) == Some("channel_not_found") => check.problems.push(format!(
            "no channel {channel} the bot can see: check SecurityChannelId, and invite the bot if the channel is private"
        )),
        Err(e) => return Err(e),
    }
    for id in team {
        let found = slack
            .call("users.info", Body::Form(vec![("user", id.clone())]))
            .await;
        match found {
            Ok(user) if user["user"]["deleted"].as_bool() == Some(true) => check.problems.push(
                format!("team member {id} is deactivated: update TeamUserIds"),
            ),
            Ok(_) => {}
            Err(e) if refusal_code(&e) == Some("user_not_found") => check.problems.push(format!(
                "team member {id} is not in this workspace: update TeamUserIds"
            )),
            Err(e) => return Err(e),
        }
    }
    if team.is_empty() {
        check.problems.push(
            "TeamUserIds is empty: nobody may acknowledge or resolve escalations, or approve two-factor setups".into(),
        );
    }
    tracing::info!(problems = check.problems.len(), "Slack checked");
    Ok(check)
}
