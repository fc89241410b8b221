//! The write budget of an alert's life: DynamoDB write units per step, counted from the
//! requests the real handlers make (`securitybot_tests::write_units`). A change that makes a
//! step write more than its budget fails here; lower a budget when a change earns it. The
//! numbers print with `--nocapture`, and with `scripts/bench.sh --bench write_units`.

/// Units per step (the canonical sample alert, a person asked for the first time). Before the
/// write diet of 2026-11-28 (#13): admit 9, ask 9, Yes click 7, Yes submit 12, snoozed 4,
/// No click 11, team post 12 - claims and the hand-off mark rewrote the alert, and
/// `by_received_day` copied every change of it.
const BUDGETS: [(&str, f64); 7] = [
    ("admit (webhook)", 5.0),
    ("ask (notifier DMs)", 6.0),
    ("Yes clicked (form opens)", 5.0),
    ("Yes submitted with a code", 8.0),
    ("repeat admitted as snoozed", 4.0),
    ("No clicked", 9.0),
    ("escalate (notifier posts to team)", 5.0),
];

#[tokio::test]
async fn each_step_of_an_alert_stays_within_its_write_budget() {
    let steps = securitybot_tests::write_units::alert_lives().await;
    for (step, units) in &steps {
        println!(
            "{step:<34} requests {:>2}  units {:>5} (indexes {:>4}) reads ~{:>4}  {:?}",
            units.requests,
            units.total(),
            units.indexes(),
            units.read_units,
            units.by_target
        );
        for (write, n) in &units.writes {
            println!("      {n:>4}  {write}");
        }
    }
    for (step, budget) in BUDGETS {
        let units = &steps
            .iter()
            .find(|(name, _)| name == step)
            .unwrap_or_else(|| panic!("no step {step}"))
            .1;
        assert!(units.requests > 0, "{step}: the meter saw its writes");
        assert!(units.total() > 0.0, "{step}: its writes were priced");
        assert!(
            units.total() <= budget,
            "{step}: {} write units, over its budget of {budget}: {:?}",
            units.total(),
            units.by_target
        );
    }
}
