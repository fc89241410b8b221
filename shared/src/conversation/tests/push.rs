//! A Yes proven by a push (Duo): every way a push can end, on the in-memory twins.

use super::*;
use crate::core::messages::ButtonAction;
use crate::ports::{PushOutcome, SnoozeStore, WorkQueue};

fn pushing() -> World {
    World {
        pushing: true,
        ..World::new()
    }
}

/// Alice presses Yes (the form asks for no code and says a push follows) and explains.
async fn yes_explained(world: &World, id: &AlertId, snooze: Option<u32>) {
    world
        .answer(Interaction::Clicked {
            action: ButtonAction::AnswerYes,
            alert_id: id.clone(),
            chat_user: ALICE_CHAT.into(),
            trigger: "trigger-1".into(),
            channel: None,
        })
        .await;
    let form = world
        .chat
        .calls()
        .into_iter()
        .rev()
        .find_map(|c| match c {
            ChatCall::AnswerForm(form) => Some(form),
            _ => None,
        })
        .expect("the Yes form opened");
    assert!(!form.needs_code && form.push_follows, "{form:?}");
    let reply = world
        .answer(Interaction::Submitted {
            alert_id: id.clone(),
            chat_user: ALICE_CHAT.into(),
            explanation: "rotating the deploy keys".into(),
            code: None,
            snooze_minutes: snooze,
        })
        .await;
    assert_eq!(reply, Reply::Done);
}

/// Runs the queued push items through the notifier, as the queue would deliver them, until
/// none is left or `rounds` ran; the other queued actions.
async fn deliver_pushes(world: &World, rounds: usize) -> Vec<Action> {
    let mut others = Vec::new();
    for _ in 0..rounds {
        let items = world.queue.drain();
        if items.is_empty() {
            break;
        }
        for item in items {
            match item.action {
                Action::Push => world.notifier().handle(&item).await.unwrap(),
                other => others.push(other),
            }
        }
    }
    others
}

#[tokio::test]
async fn an_approved_push_confirms_with_the_explanation_and_the_chosen_snooze() {
    let world = pushing();
    // No TOTP enrollment at all: with a push factor, Duo is who vouches.
    world
        .push
        .person(ALICE, &[PushOutcome::Waiting, PushOutcome::Approved]);
    let id = world.stored(Status::Asked);
    yes_explained(&world, &id, Some(240)).await;
    assert_eq!(world.record(&id).status, Status::AwaitingPush);
    assert_eq!(
        world.record(&id).explanation.as_deref(),
        Some("rotating the deploy keys")
    );
    assert!(
        world.push.sent().is_empty(),
        "nothing is pushed on the request path"
    );

    let others = deliver_pushes(&world, 5).await;
    assert!(others.is_empty(), "{others:?}");
    let record = world.record(&id);
    assert_eq!(record.status, Status::Confirmed);
    assert_eq!(
        record.explanation.as_deref(),
        Some("rotating the deploy keys")
    );
    let sent = world.push.sent();
    assert_eq!(sent.len(), 1, "one push");
    assert_eq!(sent[0].0, ALICE);
    assert_eq!(sent[0].1.alert_id, id);
    let snoozes = world.snoozes.list().await.unwrap();
    assert_eq!(snoozes.len(), 1);
    assert_eq!(snoozes[0].expires_at, t0() + Duration::minutes(240));
    let waited = world.queue.1.lock().unwrap().clone();
    assert!(
        waited
            .iter()
            .any(|(what, secs)| what.starts_with("later:") && *secs == 3),
        "a waiting push is looked at again a few seconds later: {waited:?}"
    );
    assert_eq!(
        world.calls(|c| matches!(c, ChatCall::Reply { message, .. } if message.summary.contains("sent a push"))),
        1,
        "the person is told the push is on its way"
    );
}

#[tokio::test]
async fn a_denied_push_goes_to_the_team_at_once_and_snoozes_nothing() {
    for (outcome, words) in [
        (PushOutcome::Denied, "pressed Deny"),
        (PushOutcome::ReportedFraud, "fraudulent"),
    ] {
        let world = pushing();
        world.push.person(ALICE, &[outcome]);
        let id = world.stored(Status::Asked);
        yes_explained(&world, &id, Some(240)).await;
        let others = deliver_pushes(&world, 3).await;
        world.assert_escalated(&id, EscalationReason::SecondFactorDenied);
        let record = world.record(&id);
        assert!(record.escalation_detail.unwrap().contains(words));
        assert_eq!(
            record.explanation.as_deref(),
            Some("rotating the deploy keys")
        );
        assert_eq!(others, [Action::Escalate], "the team post is queued");
        assert!(world.snoozes.list().await.unwrap().is_empty());
        let post = crate::core::messages::escalation(&world.record(&id));
        assert!(format!("{post:?}").contains("denied the push"));
    }
}

#[tokio::test]
async fn someone_duo_does_not_know_is_an_unverified_yes_and_never_pushed() {
    let world = pushing();
    let id = world.stored(Status::Asked);
    yes_explained(&world, &id, None).await;
    deliver_pushes(&world, 3).await;
    world.assert_escalated(&id, EscalationReason::UnverifiedYes);
    assert!(
        world
            .record(&id)
            .escalation_detail
            .unwrap()
            .contains("not enrolled in Duo")
    );
    assert!(world.push.sent().is_empty());
}

#[tokio::test]
async fn an_expired_push_leaves_the_question_open_and_yes_sends_a_fresh_one_within_the_limit() {
    let world = pushing();
    world.push.person(ALICE, &[PushOutcome::Expired]);
    let id = world.stored(Status::Asked);
    for round in 1..=ATTEMPTS {
        yes_explained(&world, &id, None).await;
        deliver_pushes(&world, 3).await;
        let record = world.record(&id);
        assert_eq!(record.status, Status::AwaitingSecondFactor, "round {round}");
        assert!(record.push.is_none(), "the expired push is forgotten");
        assert_eq!(world.push.sent().len() as u32, round);
    }
    // One push per attempt: the next Yes is one too many.
    yes_explained(&world, &id, None).await;
    world.assert_escalated(&id, EscalationReason::SecondFactorFailed);
    assert_eq!(world.push.sent().len() as u32, ATTEMPTS);
}

#[tokio::test]
async fn a_push_nobody_answers_is_given_up_and_the_deadline_still_escalates() {
    let world = pushing();
    world.push.person(ALICE, &[PushOutcome::Waiting]);
    let id = world.stored(Status::Asked);
    yes_explained(&world, &id, None).await;
    deliver_pushes(&world, 2).await;
    assert_eq!(world.record(&id).status, Status::AwaitingPush);
    // A provider that never stops saying "waiting" does not keep the item alive for ever.
    world.later(6);
    deliver_pushes(&world, 2).await;
    assert_eq!(world.record(&id).status, Status::AwaitingSecondFactor);
    // Yes again, and silence past the rule's deadline (30 min): the sweep escalates.
    yes_explained(&world, &id, None).await;
    world.queue.drain();
    assert_eq!(world.record(&id).status, Status::AwaitingPush);
    world.later(31);
    let sweep = world.deadlines().run().await.unwrap();
    assert_eq!(sweep.escalated, 1);
    world.assert_escalated(&id, EscalationReason::NoAnswer);
}

#[tokio::test]
async fn a_failing_provider_is_retried_and_never_confirms() {
    let world = pushing();
    world.push.person(ALICE, &[PushOutcome::Approved]);
    let id = world.stored(Status::Asked);
    yes_explained(&world, &id, None).await;
    let item = world.queue.drain().pop().unwrap();
    world.push.fail();
    let error = world.notifier().handle(&item).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(world.record(&id).status, Status::AwaitingPush);
    assert!(world.push.sent().is_empty());
    // The queue delivers it again once Duo is back.
    world.push.heal();
    world.queue.send(&item).await.unwrap();
    deliver_pushes(&world, 3).await;
    assert_eq!(world.record(&id).status, Status::Confirmed);
    assert_eq!(world.push.sent().len(), 1);
}

#[tokio::test]
async fn redelivery_and_a_double_submit_never_push_twice() {
    let world = pushing();
    world.push.person(ALICE, &[PushOutcome::Waiting]);
    let id = world.stored(Status::Asked);
    yes_explained(&world, &id, None).await;
    // The same form submitted again (a double click): no second push item.
    world
        .answer(Interaction::Submitted {
            alert_id: id.clone(),
            chat_user: ALICE_CHAT.into(),
            explanation: "again".into(),
            code: None,
            snooze_minutes: None,
        })
        .await;
    let items = world.queue.drain();
    assert_eq!(
        items.len(),
        2,
        "re-queued while no push was recorded (the first may be lost)"
    );
    // Both copies delivered, and one of them twice: one push.
    for item in items.iter().chain(items.iter()) {
        world.notifier().handle(item).await.unwrap();
    }
    assert_eq!(world.push.sent().len(), 1);
    assert_eq!(world.record(&id).code_attempts, 1, "one attempt taken");
}

#[tokio::test]
async fn without_a_push_factor_a_push_item_fails_loudly() {
    let world = World::new();
    let id = world.stored(Status::AwaitingPush);
    let error = world.notify(Action::Push, &id).await.unwrap_err();
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("no push second factor"));
}

#[tokio::test]
async fn a_delivery_that_read_the_alert_before_another_pushed_does_not_push_again() {
    let world = pushing();
    world.push.person(ALICE, &[PushOutcome::Waiting]);
    let id = world.stored(Status::Asked);
    yes_explained(&world, &id, None).await;
    // The second delivery loads the alert (no push yet), then stalls; the first pushes,
    // records it and gives the claim back before the second goes on.
    let stale = world.record(&id);
    assert!(stale.push.is_none());
    for item in world.queue.drain() {
        world.notifier().handle(&item).await.unwrap();
    }
    assert_eq!(world.push.sent().len(), 1);
    let pushes = world.notifier().pushes.expect("a push factor");
    pushes.handle(stale).await.unwrap();
    assert_eq!(
        world.push.sent().len(),
        1,
        "the claim holder reads again before pushing"
    );
}
