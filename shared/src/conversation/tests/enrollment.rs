//! Self-service enrollment and the team vouching for it.

use super::*;
use crate::core::enrollment::{Approval, EnrollmentState};
use crate::core::messages::{self, ButtonAction};
use crate::core::work::{Notice, QueueMessage};
use crate::ports::SecondFactor;

fn start() -> Interaction {
    Interaction::StartEnrollment {
        chat_user: ALICE_CHAT.into(),
        trigger: "t".into(),
    }
}

fn first_code(code: String) -> Interaction {
    Interaction::SubmittedEnrollment {
        chat_user: ALICE_CHAT.into(),
        code,
    }
}

fn yes(id: &AlertId) -> Interaction {
    Interaction::Clicked {
        action: ButtonAction::AnswerYes,
        alert_id: id.clone(),
        chat_user: ALICE_CHAT.into(),
        trigger: "t".into(),
        channel: None,
    }
}

fn vouch(approve: bool, who: &str) -> Interaction {
    Interaction::Vouched {
        approve,
        user: ALICE.into(),
        chat_user: who.into(),
        message: Some(ChatRef {
            channel: CHANNEL.into(),
            ts: "9.9".into(),
        }),
    }
}

async fn state(world: &World) -> Option<EnrollmentState> {
    world
        .second_factor
        .enrollment(ALICE)
        .await
        .unwrap()
        .map(|e| e.state)
}

/// Alice set up two-factor from the Home tab and entered her first code.
async fn set_up(world: &World) {
    world.answer(start()).await;
    world.answer(first_code(setup_code(t0()))).await;
    assert_eq!(state(world).await, Some(EnrollmentState::AwaitingApproval));
}

#[tokio::test]
async fn a_setup_whose_first_code_never_came_can_start_again() {
    let world = World::new();
    world.answer(start()).await;
    world.later(5); // the form never opened, or the seed was lost
    world.answer(start()).await;
    let forms = world.calls(|c| *c == ChatCall::EnrollmentForm);
    assert_eq!(forms, 2, "a new seed for a setup never finished");
    let stale = world.answer(first_code(setup_code(t0()))).await;
    let told = vec![("code", messages::ENROLLMENT_WRONG_CODE.to_string())];
    assert_eq!(stale, Reply::FormErrors(told), "the first seed is gone");
    world
        .answer(first_code(setup_code(t0() + Duration::minutes(5))))
        .await;
    assert_eq!(state(&world).await, Some(EnrollmentState::AwaitingApproval));
    // Once its first code came, only an operator's reset allows a new seed.
    world.answer(start()).await;
    assert_eq!(world.calls(|c| *c == ChatCall::EnrollmentForm), 2);
}

#[tokio::test]
async fn the_first_code_asks_the_team_to_vouch_through_the_queue() {
    let world = World::new();
    set_up(&world).await;
    let announced = world.queue.announcements();
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].announce, Notice::EnrollmentRequest);
    assert_eq!(announced[0].user, ALICE);
    assert_eq!(announced[0].actor, format!("chat:{ALICE_CHAT}"));
    // The notifier posts it with Approve / Reject, once however often it is delivered.
    for _ in 0..2 {
        world
            .notifier()
            .handle_message(&QueueMessage::Announce(announced[0].clone()))
            .await
            .unwrap();
    }
    let posts = world.chat.channel_posts();
    assert_eq!(posts.len(), 1);
    let buttons: Vec<_> = posts[0]
        .blocks
        .iter()
        .filter_map(|b| match b {
            messages::Block::Buttons(b) => Some(b.iter().map(|b| (b.action, b.value.clone()))),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        buttons,
        vec![
            (ButtonAction::ApproveEnrollment, ALICE.to_string()),
            (ButtonAction::RejectEnrollment, ALICE.to_string())
        ]
    );
}

#[tokio::test]
async fn a_failed_announcement_is_posted_by_the_retry() {
    let world = World::new();
    set_up(&world).await;
    let announced = world.queue.announcements();
    world.chat.fail(Fault::Outage);
    assert!(
        world
            .notifier()
            .handle_message(&QueueMessage::Announce(announced[0].clone()))
            .await
            .is_err()
    );
    world.chat.heal();
    world
        .notifier()
        .handle_message(&QueueMessage::Announce(announced[0].clone()))
        .await
        .unwrap();
    assert_eq!(world.chat.channel_posts().len(), 1);
}

#[tokio::test]
async fn nobody_approves_their_own_enrollment_and_only_the_team_approves() {
    let world = World::new();
    set_up(&world).await;
    // Alice (from her own session) and a team member who is Alice herself: both refused.
    world.answer(vouch(true, ALICE_CHAT)).await;
    {
        let mut people = world.chat.people.lock().unwrap();
        people.remove(TEAM_EMAIL);
        people.insert(ALICE.into(), TEAM_MEMBER.into()); // Alice is on the team
    }
    world.answer(vouch(true, TEAM_MEMBER)).await;
    assert_eq!(state(&world).await, Some(EnrollmentState::AwaitingApproval));
    let whispers = world.calls(|c| matches!(c, ChatCall::Whisper { .. }));
    assert_eq!(whispers, 2);
}

#[tokio::test]
async fn a_team_approval_activates_it_for_alerts_from_then_on() {
    let world = World::new();
    set_up(&world).await;
    world.queue.announcements();
    world.later(10);
    world.answer(vouch(true, TEAM_MEMBER)).await;
    world.answer(vouch(false, TEAM_MEMBER)).await; // a second click changes nothing
    let enrollment = world
        .second_factor
        .enrollment(ALICE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enrollment.state, EnrollmentState::Active);
    assert_eq!(enrollment.active_from, Some(t0() + Duration::minutes(10)));
    assert_eq!(enrollment.vouched_by.as_deref(), Some("chat:UTEAM"));
    let announced = world.queue.announcements();
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].announce, Notice::EnrollmentApproved);
    let decided =
        messages::enrollment_decided(ALICE, true, TEAM_MEMBER, t0() + Duration::minutes(10));
    assert!(
        world.calls(|c| matches!(c, ChatCall::Update { message, .. } if *message == decided)) == 1
    );

    // An alert received after the approval: a Yes with a code confirms.
    let id = world.another("al_later", |r| {
        r.status = Status::Asked;
        r.chat_user = Some(ALICE_CHAT.into());
        r.received_at = t0() + Duration::minutes(11);
    });
    world.later(12);
    world.answer(yes(&id)).await;
    world.second_factor.set_code(ALICE, "333333"); // the app's code a minute later
    let code = "333333".to_string();
    world
        .answer(Interaction::Submitted {
            alert_id: id.clone(),
            chat_user: ALICE_CHAT.into(),
            explanation: "me".into(),
            code: Some(code),
            snooze_minutes: None,
        })
        .await;
    assert_eq!(world.record(&id).status, Status::Confirmed);
}

#[tokio::test]
async fn a_rejected_enrollment_never_verifies_and_cannot_be_set_up_again_alone() {
    let world = World::new();
    set_up(&world).await;
    world.answer(vouch(false, TEAM_MEMBER)).await;
    assert_eq!(state(&world).await, Some(EnrollmentState::Rejected));
    world.answer(start()).await;
    assert_eq!(
        world.calls(|c| *c == ChatCall::EnrollmentForm),
        1,
        "only the first"
    );
    let id = world.stored(Status::Asked);
    world.answer(yes(&id)).await;
    world.assert_escalated(&id, EscalationReason::UnverifiedYes);
}

#[tokio::test]
async fn with_cooling_off_the_team_is_told_and_it_activates_later() {
    let mut world = World::new();
    world.bot.approval = Approval::CoolingOff {
        cooling_off_hours: 24,
    };
    set_up(&world).await;
    let announced = world.queue.announcements();
    assert_eq!(announced[0].announce, Notice::EnrollmentCoolingOff);
    assert_eq!(
        announced[0].detail.as_deref(),
        Some("active from 2026-11-29 10:00 UTC")
    );
    let enrollment = world
        .second_factor
        .enrollment(ALICE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enrollment.active_from, Some(t0() + Duration::hours(24)));
    assert_eq!(enrollment.vouched_by.as_deref(), Some("cooling-off"));
}
