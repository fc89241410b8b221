//! Cold start (for the function's own `main` and the shared bootstrap): read and check the
//! configuration, build the clients once, serve requests.

use lambda_http::{run, service_fn};
use securitybot::config::{BotConfig, ConversationSettings, EnvReader};

pub async fn serve() -> Result<(), lambda_http::Error> {
    let settings = ConversationSettings::from_env(EnvReader::from_process())?;
    let bot = BotConfig::load(settings.config_path.as_deref())?;
    let aws = securitybot::wiring::aws::config().await;
    // Built again whenever an operator saves new rules (checked at most once a minute).
    let live = securitybot::wiring::live::for_main(&aws, &settings.resources, bot, {
        let (aws, settings) = (aws.clone(), settings.clone());
        move |bot, clock, metrics| crate::wire(&aws, &settings, bot, clock, metrics)
    });
    run(service_fn(|req| {
        let live = &live;
        async move { crate::handle(&*live.current().await, req).await }
    }))
    .await
}
