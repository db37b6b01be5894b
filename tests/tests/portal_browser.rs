//! The delivery portal in headless Chromium, as the owner of a receiver uses it: log in with a
//! key, submit a task, watch its attempts appear, press Redeliver and see a new round, suspend
//! and resume an endpoint, send a test event; every page free of PII values and passing the
//! accessibility smoke check, and forms refused without their CSRF token.
//!
//! Kubernetes mode runs the real api, operator and agent binaries on the test cluster (or on
//! `E2E_KUBECONFIG`). With `GUARDRAILS_PORTAL_SCREENSHOTS=<dir>` each page is saved there as a
//! PNG (docs/portal.md shows them). Skipped where Debian's chromium is not installed.

use std::time::Duration;

use guardrails_crds::{AnalysisTask, WebhookEndpoint};
use guardrails_e2e::kit::{
    BinarySpec, Browser, BrowserCookie, Probe, Reply, RunningBinary, TestCluster, WebhookReceiver,
    free_local_addr, wait_for,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(60);
const KEY: &str = "portal-browser-key";
const SSN: &str = "536-22-1234";
const EMAIL: &str = "jane.roe@example.com";

/// Reloads `url` until its text contains every one of `wanted`; the text then.
async fn reload_until(
    browser: &Browser,
    url: &str,
    wanted: &[&str],
    logs: &[&RunningBinary],
) -> String {
    wait_for(
        &format!("{url} to show {wanted:?}"),
        DEADLINE,
        logs,
        || async {
            // NB: a page that does not load yet (the api still starting) is waited for too.
            if let Err(err) = browser.goto(url).await {
                return Probe::Pending(err.to_string());
            }
            let text = shown(browser).await;
            if wanted.iter().all(|w| text.contains(w)) {
                Probe::Ready(text)
            } else {
                Probe::Pending(text)
            }
        },
    )
    .await
    .unwrap()
}

/// Checks the page a user sees now: no PII value, no accessibility problem; saves a screenshot
/// when asked to.
async fn check_page(browser: &Browser, name: &str) {
    let source = browser.source().await.unwrap();
    for value in [SSN, EMAIL, KEY] {
        assert!(!source.contains(value), "the {name} page shows {value:?}");
    }
    let problems = browser.accessibility_problems().await.unwrap();
    assert!(problems.is_empty(), "the {name} page: {problems:#?}");
    if let Some(dir) = std::env::var_os("GUARDRAILS_PORTAL_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        let path = std::path::Path::new(&dir).join(format!("{name}.png"));
        browser.screenshot(path).await.unwrap();
    }
}

/// The text of the page shown now.
async fn shown(browser: &Browser) -> String {
    browser.text().await.unwrap()
}

/// The portal's session cookie, checked to be out of scripts' reach and never sent cross-site.
async fn session_cookie(browser: &Browser) -> BrowserCookie {
    let cookies = browser.cookies().await.unwrap();
    let session = cookies
        .into_iter()
        .find(|c| c.name == "guardrails_session")
        .expect("a session cookie");
    assert!(
        session.http_only && session.same_site.as_deref() == Some("Strict"),
        "{session:?}"
    );
    session
}

fn binary(cluster: &TestCluster, name: &str) -> BinarySpec {
    cluster
        .binary(name, name)
        .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true")
        .env("RUST_LOG", "info")
}

#[tokio::test]
async fn a_receiver_owner_follows_a_failed_delivery_and_redelivers_it_in_kubernetes_mode() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let cluster = TestCluster::start().await.unwrap();
    let endpoint: WebhookEndpoint = serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "WebhookEndpoint",
        "metadata": {"name": "loopback-receiver"},
        "spec": {"domains": ["127.0.0.1"], "maxAttempts": 2},
    }))
    .unwrap();
    let endpoints = Api::<WebhookEndpoint>::namespaced(cluster.client(), cluster.namespace());
    endpoints
        .create(&PostParams::default(), &endpoint)
        .await
        .unwrap();
    // A team's namespace the portal also shows, with a task created there by kubectl.
    let team = format!("{}-team", cluster.namespace());
    let namespaces = Api::<Namespace>::all(cluster.client());
    let team_ns: Namespace = serde_json::from_value(json!({"metadata": {"name": team}})).unwrap();
    namespaces
        .create(&PostParams::default(), &team_ns)
        .await
        .unwrap();
    let team_task: AnalysisTask = serde_json::from_value(json!({
        "apiVersion": "guardrails.io/v1alpha1", "kind": "AnalysisTask",
        "metadata": {"name": "from-kubectl"}, "spec": {"text": "nothing personal"},
    }))
    .unwrap();
    let team_task = Api::<AnalysisTask>::namespaced(cluster.client(), &team)
        .create(&PostParams::default(), &team_task)
        .await
        .unwrap();
    // NB: a 400 is not retried, so the first round fails at once; the second gets 200.
    let receiver = WebhookReceiver::start([Reply::Status(400)]).await.unwrap();
    let api_addr = free_local_addr().unwrap();
    let namespace = ["--namespace", cluster.namespace()];
    let api = RunningBinary::start(
        binary(&cluster, "guardrails-api")
            .args(["--listen", &api_addr.to_string()])
            .args(namespace)
            .args(["--portal-namespaces", &team])
            .env("API_KEYS", KEY),
    )
    .await
    .unwrap();
    let operator = RunningBinary::start(
        binary(&cluster, "guardrails-operator")
            .args(namespace)
            .args(["--listen", &free_local_addr().unwrap().to_string()]),
    )
    .await
    .unwrap();
    let agent = RunningBinary::start(
        binary(&cluster, "guardrails-agent")
            .args(["run"])
            .args(namespace)
            .env(
                "GUARDRAILS_AGENT_LISTEN",
                free_local_addr().unwrap().to_string(),
            )
            .env("WEBHOOK_SIGNING_SECRET", "portal-signing-secret"),
    )
    .await
    .unwrap();
    let logs = [&api, &operator, &agent];
    let base = format!("http://{api_addr}");
    reload_until(&browser, &format!("{base}/ui/login"), &["API key"], &logs).await;
    check_page(&browser, "login").await;

    browser.fill("API key", "not-a-key").await.unwrap();
    browser.press("Log in").await.unwrap();
    assert!(shown(&browser).await.contains("This API key is not valid."));
    browser.fill("API key", KEY).await.unwrap();
    browser.press("Log in").await.unwrap();
    assert_eq!(browser.current_path().await.unwrap(), "/ui/tasks");
    assert!(!session_cookie(&browser).await.value.contains(KEY));

    browser
        .fill(
            "Text to analyse",
            &format!("Patient SSN {SSN}, mail {EMAIL}"),
        )
        .await
        .unwrap();
    browser
        .fill("Webhook URL (optional)", &receiver.url())
        .await
        .unwrap();
    browser.press("Submit").await.unwrap();
    let task_path = browser.current_path().await.unwrap();
    assert!(task_path.starts_with("/ui/tasks/"), "{task_path}");
    let task_url = format!("{base}{task_path}");
    let failed = reload_until(&browser, &task_url, &["Failed", "http_error", "400"], &logs).await;
    assert!(
        failed.contains("US_SSN") && failed.contains("EMAIL_ADDRESS"),
        "{failed}"
    );
    check_page(&browser, "task-failed").await;

    browser.press("Redeliver").await.unwrap();
    assert!(
        shown(&browser)
            .await
            .contains("A new delivery round was requested.")
    );
    reload_until(&browser, &task_url, &["Succeeded", "succeeded"], &logs).await;
    let source = browser.source().await.unwrap();
    assert!(source.contains("<dt>Round</dt><dd>2</dd>"), "{source}");
    assert!(
        source.contains("<td>2</td><td>1</td>"),
        "attempt 1 of round 2: {source}"
    );
    let received = receiver.requests();
    assert_eq!(received.len(), 2, "one attempt per round");
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id"),
        "a redelivery keeps the event id"
    );
    check_page(&browser, "task").await;

    browser.goto(&format!("{base}/ui/tasks")).await.unwrap();
    let listed = shown(&browser).await;
    assert!(
        listed.contains(cluster.namespace()) && listed.contains(&team),
        "{listed}"
    );
    check_page(&browser, "tasks").await;
    browser.select("Namespace", &team).await.unwrap();
    browser.press("Filter").await.unwrap();
    let filtered = browser.source().await.unwrap();
    let team_uid = team_task.metadata.uid.clone().unwrap();
    assert!(filtered.contains(&team_uid), "{filtered}");
    assert_eq!(filtered.matches("<tr><td><a href").count(), 1, "{filtered}");
    browser
        .goto(&format!("{base}/ui/tasks/{team_uid}"))
        .await
        .unwrap();
    let team_page = shown(&browser).await;
    assert!(
        team_page.contains(&team_uid) && team_page.contains("PENDING"),
        "{team_page}"
    );

    browser.goto(&format!("{base}/ui/endpoints")).await.unwrap();
    assert!(shown(&browser).await.contains("loopback-receiver"));
    browser.press("Suspend").await.unwrap();
    assert!(shown(&browser).await.contains("The endpoint is suspended"));
    let suspended = endpoints.get("loopback-receiver").await.unwrap();
    assert!(suspended.spec.suspend, "the portal set spec.suspend");
    browser.press("Resume").await.unwrap();
    assert!(
        !endpoints
            .get("loopback-receiver")
            .await
            .unwrap()
            .spec
            .suspend
    );
    browser.fill("Webhook URL", &receiver.url()).await.unwrap();
    browser.press("Send test event").await.unwrap();
    let test_url = format!("{base}{}", browser.current_path().await.unwrap());
    reload_until(&browser, &test_url, &["Succeeded"], &logs).await;
    assert_eq!(receiver.requests().len(), 3, "the test event arrived");
    browser.goto(&format!("{base}/ui/endpoints")).await.unwrap();
    check_page(&browser, "endpoints").await;

    browser
        .goto(&format!("{base}/ui/deliveries"))
        .await
        .unwrap();
    assert!(shown(&browser).await.contains("succeeded"));
    check_page(&browser, "deliveries").await;

    // A form whose token was taken out (as a forged cross-site form would be) is refused.
    browser.goto(&format!("{base}/ui/tasks")).await.unwrap();
    browser
        .client()
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove());",
            vec![],
        )
        .await
        .unwrap();
    browser.fill("Text to analyse", "no token").await.unwrap();
    browser.press("Submit").await.unwrap();
    let refused = shown(&browser).await;
    assert!(refused.contains("security token"), "{refused}");
    browser.goto(&format!("{base}/ui/tasks")).await.unwrap();
    let listed = browser.source().await.unwrap();
    assert_eq!(
        listed.matches("<td>SUCCESS</td>").count(),
        2,
        "nothing was created: {listed}"
    );

    browser.press("Log out").await.unwrap();
    assert_eq!(browser.current_path().await.unwrap(), "/ui/login");
    browser.goto(&format!("{base}/ui/tasks")).await.unwrap();
    assert_eq!(browser.current_path().await.unwrap(), "/ui/login");
    browser.close().await.unwrap();
    namespaces.delete(&team, &Default::default()).await.unwrap();
    cluster.cleanup().await.unwrap();
}

#[tokio::test]
async fn without_authentication_the_standalone_portal_needs_no_login_but_keeps_its_tokens() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let receiver = WebhookReceiver::start([]).await.unwrap();
    let addr = free_local_addr().unwrap();
    let api = RunningBinary::start(
        BinarySpec::new("guardrails-api", "guardrails-api")
            .args(["--standalone", "--auth", "none", "--data-dir", ":memory:"])
            .args(["--listen", &addr.to_string()])
            .env("WEBHOOK_ALLOW_PRIVATE_DESTINATIONS", "true"),
    )
    .await
    .unwrap();
    let base = format!("http://{addr}");
    reload_until(
        &browser,
        &format!("{base}/ui/"),
        &["Submit a task"],
        &[&api],
    )
    .await;
    assert_eq!(browser.current_path().await.unwrap(), "/ui/tasks");
    session_cookie(&browser).await;
    check_page(&browser, "standalone-tasks").await;

    browser.goto(&format!("{base}/ui/endpoints")).await.unwrap();
    assert!(shown(&browser).await.contains("every host"));
    check_page(&browser, "standalone-endpoints").await;
    browser.fill("Webhook URL", &receiver.url()).await.unwrap();
    browser.press("Send test event").await.unwrap();
    let url = format!("{base}{}", browser.current_path().await.unwrap());
    reload_until(&browser, &url, &["Succeeded", "succeeded"], &[&api]).await;
    assert_eq!(receiver.requests().len(), 1);
    browser.close().await.unwrap();
}
