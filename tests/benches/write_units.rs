//! DynamoDB write units per step of an alert's life, counted from the requests the functions
//! make (through the fault proxy, nothing faulted) and priced as on-demand DynamoDB would
//! (`securitybot_tests::write_units`). Run with scripts/bench.sh --bench write_units (it starts
//! moto). Prints numbers.

#[tokio::main]
async fn main() {
    let steps = securitybot_tests::write_units::alert_lives().await;
    println!("DynamoDB write units per step (on-demand pricing; index units included):");
    println!(
        "  {:<34} {:>8} {:>7} {:>7} {:>7} {:>7}",
        "step", "requests", "table", "indexes", "total", "~reads"
    );
    let figures: Vec<serde_json::Value> = steps
        .iter()
        .map(|(step, units)| {
            serde_json::json!({
                "step": step, "units": units.total(), "indexes": units.indexes(),
                "reads": units.read_units,
            })
        })
        .collect();
    securitybot_tests::bench_result("write_units", &figures.into());
    for (step, units) in &steps {
        println!(
            "  {step:<34} {:>8} {:>7} {:>7} {:>7} {:>7}",
            units.requests,
            units.total() - units.indexes(),
            units.indexes(),
            units.total(),
            units.read_units
        );
        for (target, n) in &units.by_target {
            println!("      {target:<40} {n:>5}");
        }
    }
}
