//! Poller throughput: alerts per second pulled from local SIEM stand-ins into moto, through the
//! real poller and the webhook's admission (each alert: snooze + people look-ups, conditional
//! put, queue send, mark queued). Run with scripts/bench.sh. Prints numbers; asserts no speed.

use chrono::Duration;
use securitybot_tests::siem::SiemStandIn;
use securitybot_tests::*;
use std::time::Instant;

const N: usize = 1000;

#[tokio::main]
async fn main() {
    for (kind, config) in [
        (
            "splunk (60-minute windows)",
            "[pollers.splunk_prod]\nkind = \"splunk\"\nsaved_search = \"nmap_scan\"\nwindow_minutes = 60\n",
        ),
        (
            "elastic (pages of 500)",
            "[pollers.elastic_security]\nkind = \"elastic\"\nindex = \"alerts\"\npage_size = 500\nwindow_minutes = 1440\n",
        ),
        (
            "http_json (pages of 10)",
            "[pollers.custom_api]\nkind = \"http_json\"\nitems = \"data.alerts\"\nnext_cursor = \"next\"\nwindow_minutes = 1440\n[pollers.custom_api.mapping]\nid_field = \"alert_id\"\nrule_field = \"detection\"\nuser_fields = [\"actor.email\"]\ntime_field = \"created\"\n",
        ),
    ] {
        let stack = Stack::new("benchpoll").await;
        let siem = SiemStandIn::start().await;
        let t = stack.now();
        siem.add("b", N, t - Duration::minutes(N as i64 + 10), "alice");
        let url = if kind.starts_with("http_json") {
            format!("{}/api/alerts", siem.url())
        } else {
            siem.url()
        };
        let config = config.replacen(
            "\n",
            &format!("\nurl = \"{url}\"\nfirst_lookback_minutes = {}\n", N + 20),
            1,
        );
        let poller = stack.poller(&config, 1000).await;
        let started = Instant::now();
        let reports = poller.run(None).await.expect("the poll succeeds");
        let elapsed = started.elapsed().as_secs_f64();
        assert_eq!(reports[0].new, N);
        let again = Instant::now();
        let repeat = poller.run(None).await.unwrap();
        let idle = again.elapsed().as_secs_f64() * 1000.0;
        println!(
            "poller {kind}: {N} alerts in {} pages, {elapsed:.2} s = {:.0} alerts/s ({:.2} ms per alert); a caught-up run: {} pages in {idle:.1} ms",
            reports[0].pages,
            N as f64 / elapsed,
            elapsed * 1000.0 / N as f64,
            repeat[0].pages
        );
    }
}
