//! Every branch of the person's answers and the team's buttons.

use super::*;
use crate::core::messages::{self, ButtonAction};
use crate::ports::{SecondFactor, SnoozeStore};

fn click(action: ButtonAction, id: &AlertId, who: &str) -> Interaction {
    Interaction::Clicked {
        action,
        alert_id: id.clone(),
        chat_user: who.into(),
        trigger: "trigger-1".into(),
        channel: Some(format!("D{who}")),
    }
}

fn submit_as(
    who: &str,
    id: &AlertId,
    explanation: &str,
    code: &str,
    snooze: Option<u32>,
) -> Interaction {
    Interaction::Submitted {
        alert_id: id.clone(),
        chat_user: who.into(),
        explanation: explanation.into(),
        code: Some(code.into()),
        snooze_minutes: snooze,
    }
}

fn submit(id: &AlertId, code: &str, snooze: Option<u32>) -> Interaction {
    submit_as(ALICE_CHAT, id, "deploying the hotfix", code, snooze)
}

fn code_error(reply: &Reply) -> &str {
    match reply {
        Reply::FormErrors(errors) => &errors.iter().find(|(f, _)| *f == "code").unwrap().1,
        Reply::Done => panic!("expected the form to stay open with an error"),
    }
}

fn is_update(call: &ChatCall) -> bool {
    matches!(call, ChatCall::Update { .. })
}

/// Alice is enrolled with code 111111, said Yes, and the form is open.
async fn awaiting_code(world: &World) -> AlertId {
    world.second_factor.enrolled(ALICE, "111111");
    let id = world.stored(Status::Asked);
    world
        .answer(click(ButtonAction::AnswerYes, &id, ALICE_CHAT))
        .await;
    assert_eq!(world.record(&id).status, Status::AwaitingSecondFactor);
    id
}

#[tokio::test]
async fn a_click_by_someone_else_changes_nothing_and_tells_them_kindly() {
    let world = World::new();
    let id = world.stored(Status::Asked);
    for action in [ButtonAction::AnswerYes, ButtonAction::AnswerNo] {
        let reply = world.answer(click(action, &id, "UMALLORY")).await;
        assert_eq!(reply, Reply::Done);
    }
    assert_eq!(world.record(&id).status, Status::Asked);
    assert!(world.queued().is_empty());
    let whispers = world.calls(|c| {
        matches!(c, ChatCall::Whisper { to, text } if to == "UMALLORY" && text == messages::NOT_YOURS)
    });
    assert_eq!(whispers, 2);
}

#[tokio::test]
async fn no_escalates_once_however_often_it_is_clicked() {
    let world = World::new();
    let id = world.stored(Status::Reminded);
    for _ in 0..2 {
        world
            .answer(click(ButtonAction::AnswerNo, &id, ALICE_CHAT))
            .await;
    }
    world.assert_escalated(&id, EscalationReason::Denied);
    assert_eq!(
        world.record(&id).due_at,
        Some(t0() + Duration::minutes(15)),
        "the team post is owed: looked at again if it is lost"
    );
    // The second click, finding no team post yet, queues it again (in case the first was
    // lost); the notifier posts once whatever it is handed.
    let items = world.queue.drain();
    assert!(
        items
            .iter()
            .all(|i| i.action == Action::Escalate && i.alert_id == id)
    );
    for item in &items {
        world.notifier().handle(item).await.unwrap();
    }
    assert_eq!(world.chat.channel_posts().len(), 1, "one team post");
    assert_eq!(
        world.record(&id).due_at,
        None,
        "posted: nothing more is due"
    );
    assert_eq!(world.calls(is_update), 1, "the question is updated once");
    // Counted once each, however often clicked or handed to the notifier.
    assert_eq!(world.counted("Answers", "Answer", "no"), [1.0]);
    assert_eq!(world.counted("Escalations", "Reason", "denied"), [1.0]);
}

#[tokio::test]
async fn yes_opens_the_form_and_stops_the_reminder_but_not_the_deadline() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    let record = world.record(&id);
    assert_eq!(record.due_at, record.deadline_at);
    let forms: Vec<_> = world
        .chat
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            ChatCall::AnswerForm(form) => Some(form),
            _ => None,
        })
        .collect();
    assert_eq!(forms.len(), 1);
    assert!(forms[0].needs_code);
    assert_eq!(forms[0].snooze_choices, vec![60, 240, 480]);
}

#[tokio::test]
async fn yes_without_a_second_factor_is_an_unverified_escalation_never_a_confirmation() {
    let world = World::new();
    let id = world.stored(Status::Asked);
    world
        .answer(click(ButtonAction::AnswerYes, &id, ALICE_CHAT))
        .await;
    world.assert_escalated(&id, EscalationReason::UnverifiedYes);
    assert_eq!(world.queued(), vec![Action::Escalate]);
    assert!(world.snoozes.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_wrong_code_keeps_the_form_open_and_counts_down() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    let reply = world.answer(submit(&id, "999999", None)).await;
    assert_eq!(code_error(&reply), messages::wrong_code(ATTEMPTS - 1));
    assert!(code_error(&reply).contains("(2 attempts left)"));
    let record = world.record(&id);
    assert_eq!(record.status, Status::AwaitingSecondFactor);
    assert_eq!(record.code_attempts, 1);
}

#[tokio::test]
async fn the_last_wrong_code_for_an_alert_escalates_it_with_the_explanation() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    for n in 1..ATTEMPTS {
        let reply = world.answer(submit(&id, &format!("00000{n}"), None)).await;
        assert!(matches!(reply, Reply::FormErrors(_)), "attempt {n}");
    }
    assert_eq!(world.answer(submit(&id, "000009", None)).await, Reply::Done);
    world.assert_escalated(&id, EscalationReason::SecondFactorFailed);
    assert_eq!(
        world.record(&id).explanation.as_deref(),
        Some("deploying the hotfix")
    );
    // The right code after that changes nothing.
    world.answer(submit(&id, "111111", None)).await;
    assert_eq!(world.record(&id).status, Status::Escalated);
    assert_eq!(
        world
            .counted("SecondFactorChecks", "Result", "wrong_code")
            .len(),
        ATTEMPTS as usize
    );
    assert!(
        world
            .counted("SecondFactorChecks", "Result", "verified")
            .is_empty()
    );
    assert_eq!(world.counted("Answers", "Answer", "yes"), [1.0]);
}

#[tokio::test]
async fn a_person_locked_out_across_alerts_is_escalated_at_once() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    // Wrong codes on other alerts used up the person's hourly allowance.
    for _ in 0..PERSON_LIMIT {
        world
            .second_factor
            .verify(ALICE, "000000", t0())
            .await
            .unwrap();
    }
    world.answer(submit(&id, "111111", None)).await;
    world.assert_escalated(&id, EscalationReason::SecondFactorFailed);
}

#[tokio::test]
async fn a_replayed_code_is_a_wrong_code() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    world
        .second_factor
        .verify(ALICE, "111111", t0())
        .await
        .unwrap();
    let reply = world.answer(submit(&id, "111111", None)).await;
    assert!(code_error(&reply).starts_with("That code didn't work"));
    assert_eq!(world.record(&id).status, Status::AwaitingSecondFactor);
}

#[tokio::test]
async fn a_verified_yes_confirms_snoozes_in_scope_and_updates_the_question() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    assert_eq!(
        world.answer(submit(&id, "111111", Some(240))).await,
        Reply::Done
    );
    let record = world.record(&id);
    assert_eq!(record.status, Status::Confirmed);
    assert_eq!(record.explanation.as_deref(), Some("deploying the hotfix"));
    assert_eq!(record.due_at, None);
    let snoozes = world.snoozes.list().await.unwrap();
    assert_eq!(snoozes.len(), 1);
    assert_eq!(snoozes[0].confirmed_alert, id);
    assert_eq!(snoozes[0].scope.user, ALICE);
    assert_eq!(snoozes[0].expires_at, t0() + Duration::minutes(240));
    assert_eq!(world.calls(is_update), 1);
    assert!(world.queued().is_empty(), "nothing for the team");
}

#[tokio::test]
async fn a_snooze_longer_than_the_rule_allows_is_cut_to_the_rule() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    world.answer(submit(&id, "111111", Some(100_000))).await;
    let snoozes = world.snoozes.list().await.unwrap();
    assert_eq!(snoozes[0].expires_at, t0() + Duration::minutes(480));
}

#[tokio::test]
async fn a_yes_counts_only_with_an_enrollment_vouched_for_before_the_alert() {
    for (setup, detail) in [
        (
            Setup::AwaitingApproval,
            "two-factor set up, not yet approved by the security team",
        ),
        (
            Setup::ActiveAfterTheAlert,
            "two-factor became active just now, after this alert came in",
        ),
    ] {
        let world = World::new();
        match setup {
            Setup::AwaitingApproval => world.second_factor.awaiting_approval(ALICE, "111111"),
            Setup::ActiveAfterTheAlert => world.second_factor.active_from(ALICE, "111111", t0()),
        }
        let id = world.stored(Status::Asked);
        world.edit(&id, |r| r.received_at = t0() - Duration::seconds(1));
        world
            .answer(click(ButtonAction::AnswerYes, &id, ALICE_CHAT))
            .await;
        world.assert_escalated(&id, EscalationReason::UnverifiedYes);
        let record = world.record(&id);
        assert_eq!(record.escalation_detail.as_deref(), Some(detail));
        assert!(world.snoozes.0.lock().unwrap().is_empty(), "never a snooze");
        let told = messages::answered(&record, messages::Answered::NotYetVouched);
        assert!(world.chat.calls().contains(&ChatCall::Update {
            at: record.ask_message.clone().unwrap(),
            message: told
        }));
    }
}

enum Setup {
    AwaitingApproval,
    ActiveAfterTheAlert,
}

#[tokio::test]
async fn an_enrollment_reset_after_the_yes_makes_the_code_unverified() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    world.second_factor.reset(ALICE).await.unwrap();
    world.answer(submit(&id, "111111", None)).await;
    world.assert_escalated(&id, EscalationReason::UnverifiedYes);
}

#[tokio::test]
async fn codes_submitted_at_once_never_try_more_than_the_alerts_limit() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    let answers = world.answers();
    let wrong: Vec<_> = (0..10)
        .map(|n| answers.handle(submit(&id, &format!("00000{n}"), None)))
        .collect();
    futures_util::future::join_all(wrong).await;
    let record = world.record(&id);
    assert_eq!(record.code_attempts, ATTEMPTS, "never more than the limit");
    world.assert_escalated(&id, EscalationReason::SecondFactorFailed);
}

#[tokio::test]
async fn a_team_member_cannot_close_an_alert_about_themselves() {
    let world = World::new();
    let id = world.another("al_tess", |r| {
        r.user = Some(TEAM_EMAIL.into());
        r.status = Status::Escalated;
        r.escalation_message = Some(ChatRef {
            channel: CHANNEL.into(),
            ts: "1.2".into(),
        });
    });
    for action in [ButtonAction::TeamAcknowledge, ButtonAction::TeamResolve] {
        world.answer(click(action, &id, TEAM_MEMBER)).await;
    }
    assert_eq!(world.record(&id).status, Status::Escalated);
    let refusals = world.calls(|c| {
        matches!(c, ChatCall::Whisper { to, text } if to == TEAM_MEMBER && text == messages::NOT_YOURS_TO_DECIDE)
    });
    assert_eq!(refusals, 2);
}

#[tokio::test]
async fn an_empty_explanation_is_asked_for_and_nothing_is_checked() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    let reply = world
        .answer(submit_as(ALICE_CHAT, &id, "", "111111", None))
        .await;
    let asked = vec![("explanation", messages::EXPLANATION_NEEDED.to_string())];
    assert_eq!(reply, Reply::FormErrors(asked));
    assert_eq!(world.record(&id).status, Status::AwaitingSecondFactor);
}

#[tokio::test]
async fn a_form_submitted_by_someone_else_is_refused() {
    let world = World::new();
    let id = awaiting_code(&world).await;
    let reply = world
        .answer(submit_as("UMALLORY", &id, "me", "111111", None))
        .await;
    assert!(matches!(reply, Reply::FormErrors(_)));
    assert_eq!(world.record(&id).status, Status::AwaitingSecondFactor);
}

#[tokio::test]
async fn only_the_team_closes_escalations_and_the_post_says_who() {
    let world = World::new();
    let id = world.stored(Status::Escalated);
    let post = ChatRef {
        channel: CHANNEL.into(),
        ts: "1.2".into(),
    };
    world.edit(&id, |r| r.escalation_message = Some(post));
    world
        .answer(click(ButtonAction::TeamAcknowledge, &id, ALICE_CHAT))
        .await;
    assert_eq!(world.record(&id).status, Status::Escalated, "not the team");
    world
        .answer(click(ButtonAction::TeamAcknowledge, &id, TEAM_MEMBER))
        .await;
    assert_eq!(world.record(&id).status, Status::Acknowledged);
    world
        .answer(click(ButtonAction::TeamResolve, &id, TEAM_MEMBER))
        .await;
    let record = world.record(&id);
    assert_eq!(record.status, Status::ResolvedBenign);
    assert_eq!(
        record.history.last().unwrap().actor,
        format!("chat:{TEAM_MEMBER}")
    );
    let updates =
        world.calls(|c| matches!(c, ChatCall::Update { at, .. } if at.channel == CHANNEL));
    assert_eq!(updates, 2);
}

#[tokio::test]
async fn a_click_on_an_alert_that_moved_on_does_nothing() {
    let world = World::new();
    let id = world.stored(Status::Confirmed);
    for action in [ButtonAction::AnswerNo, ButtonAction::AnswerYes] {
        world.answer(click(action, &id, ALICE_CHAT)).await;
    }
    assert_eq!(world.record(&id).status, Status::Confirmed);
    assert!(world.queued().is_empty());
    assert!(world.chat.calls().is_empty());
}

#[tokio::test]
async fn a_retried_no_after_a_lost_queue_message_queues_the_post_again() {
    let world = World::new();
    let id = world.stored(Status::Escalated); // escalated, but no team post recorded yet
    world
        .answer(click(ButtonAction::AnswerNo, &id, ALICE_CHAT))
        .await;
    assert_eq!(world.queued(), vec![Action::Escalate]);
}
