//! The write budget of an alert's life: DynamoDB write units per step, counted from the
//! requests the real handlers make (`securitybot_tests::write_units`). A change that makes a
//! step write more than its budget fails here; lower a budget when a change earns it. The
//! numbers print with `--nocapture`, and with `scripts/bench.sh --bench write_units`.

/// Units per step as measured on 2026-11-28 (the canonical sample alert; its item is just over
/// 1 KB once asked, so each write of it costs 2 units, and 2 more in each index projecting ALL).
const BUDGETS: [(&str, f64); 7] = [
    ("admit (webhook)", 9.0),
    ("ask (notifier DMs)", 9.0),
    ("Yes clicked (form opens)", 7.0),
    ("Yes submitted with a code", 12.0),
    ("repeat admitted as snoozed", 4.0),
    ("No clicked", 11.0),
    ("escalate (notifier posts to team)", 12.0),
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
        assert!(
            units.total() <= budget,
            "{step}: {} write units, over its budget of {budget}: {:?}",
            units.total(),
            units.by_target
        );
    }
}
