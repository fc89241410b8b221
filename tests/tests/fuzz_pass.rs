//! CI's short pass of every fuzz target, on stable: the same checks libFuzzer runs
//! (`fuzz/src/lib.rs`), fed the seeds (the sample events' bodies), every saved crash input
//! (`fuzz/regressions/<target>/`: each crash found becomes one) and random and mutated inputs.
//! Not coverage-guided: that is `scripts/fuzz.sh` on nightly (its sanitizer build of the AWS
//! SDK takes longer than CI has).

#[path = "../../fuzz/src/lib.rs"]
mod checks;

use proptest::prelude::*;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The sample events whose bodies seed each target.
fn seed_events(target: &str) -> Vec<String> {
    let events = repo().join("events");
    let names: Vec<String> = match target {
        "canonical" => vec![
            "ingest-canonical.json".into(),
            "ingest-canonical-batch.json".into(),
            "ingest-invalid.json".into(),
        ],
        "splunk" | "grafana" | "panther" => vec![format!("ingest-{target}.json")],
        "slack_payload" => std::fs::read_dir(&events)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("interaction-"))
            .collect(),
        _ => Vec::new(),
    };
    names
        .iter()
        .filter_map(|n| {
            let event: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(events.join(n)).unwrap()).unwrap();
            event["body"].as_str().map(str::to_string)
        })
        .collect()
}

fn inputs(target: &str) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = seed_events(target)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    let saved = repo().join("fuzz/regressions").join(target);
    if let Ok(dir) = std::fs::read_dir(saved) {
        all.extend(dir.map(|e| std::fs::read(e.unwrap().path()).unwrap()));
    }
    // Hand-made edges every target gets.
    all.extend([
        Vec::new(),
        b"{}".to_vec(),
        b"[]".to_vec(),
        b"null".to_vec(),
        vec![0xff; 64],
        "-9223372036854775808\n-9223372036854775808\nBEARER \n{".into(),
        "\u{202E}<!channel>&password=\"x".into(),
    ]);
    all
}

#[test]
fn every_target_survives_its_seeds_and_saved_crashes() {
    for (name, check) in checks::TARGETS {
        let inputs = inputs(name);
        assert!(inputs.len() >= 7, "{name} has inputs");
        for input in &inputs {
            check(input);
        }
    }
    assert!(
        !seed_events("canonical").is_empty() && !seed_events("slack_payload").is_empty(),
        "the seeds are found"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_target_survives_random_and_mutated_inputs(
        target in 0..checks::TARGETS.len(),
        random in proptest::collection::vec(any::<u8>(), 0..512),
        pick in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (name, check) = checks::TARGETS[target];
        check(&random);
        let seeds = inputs(name);
        let mut mutated = seeds[pick.index(seeds.len())].clone();
        if !mutated.is_empty() {
            for (at, byte) in &flips {
                let i = at.index(mutated.len());
                mutated[i] = *byte;
            }
            mutated.truncate(cut.index(mutated.len() + 1));
        }
        check(&mutated);
    }
}
