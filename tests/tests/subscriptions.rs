//! Resource subscriptions through a real MCP client over stdio: a client subscribed to a pet
//! (the resource template `petstore://pets/{petId}`) is told when the pet changes upstream,
//! and no longer once it unsubscribes; the server then stops reading the pet.

#![allow(deprecated)] // resources/subscribe is for clients before 2026-07-28, and still served.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpgen_tests::{Upstream, call, mcpgen_binary, stdio_client_with, workspace_root};
use rmcp::ClientHandler;
use rmcp::model::{
    ResourceUpdatedNotificationParam, SubscribeRequestParams, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RoleClient};
use serde_json::json;

const PET: &str = "petstore://pets/1";

/// Records the resources the server says were updated.
#[derive(Clone, Default)]
struct Watcher {
    updated: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Watcher {
    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.updated.lock().unwrap().push(params.uri);
    }
}

/// The reads of pet 1 the upstream has seen.
fn pet_reads(up: &Upstream) -> usize {
    up.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/pets/1")
        .count()
}

#[tokio::test]
async fn a_subscriber_is_told_of_changes_until_it_unsubscribes() {
    let up = Upstream::start(0).await.unwrap();
    let spec = workspace_root().join("examples/petstore/openapi.yaml");
    let base = up.base_url();
    let watcher = Watcher::default();
    let client = stdio_client_with(
        watcher.clone(),
        mcpgen_binary(),
        &[
            "mcpgen",
            "serve",
            spec.to_str().unwrap(),
            "--base-url",
            &base,
            "--get-resources",
            "--subscription-poll-secs",
            "1",
        ],
        &[("PETSTORE_BEARER_AUTH_TOKEN", "secret-token")],
    )
    .await;
    let info = client.peer_info().unwrap();
    let resources = info.capabilities.resources.as_ref().unwrap();
    assert_eq!(resources.subscribe, Some(true));

    // A resource that does not exist cannot be subscribed to.
    let missing = client
        .subscribe(SubscribeRequestParams::new("petstore://pets/999"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("999") || missing.contains("not found"),
        "{missing}"
    );

    client
        .subscribe(SubscribeRequestParams::new(PET))
        .await
        .unwrap();
    // Unchanged: reads, and no notification.
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert!(watcher.updated.lock().unwrap().is_empty());
    assert!(pet_reads(&up) >= 2, "the pet is read again while watched");

    // Changed upstream: the subscriber is told, with the subscriber's credential on the reads.
    let renamed = call(
        &client,
        "updatePet",
        json!({"petId": "1", "body": {"name": "Rex II"}}),
    )
    .await;
    assert_ne!(renamed.is_error, Some(true), "{renamed:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while watcher.updated.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(*watcher.updated.lock().unwrap(), [PET]);
    assert!(
        up.requests()
            .iter()
            .filter(|r| r.path == "/v1/pets/1")
            .all(|r| r.header("authorization") == Some("Bearer secret-token"))
    );

    // Unsubscribed: no more reads, no more notifications.
    client
        .unsubscribe(UnsubscribeRequestParams::new(PET))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reads = pet_reads(&up);
    call(
        &client,
        "updatePet",
        json!({"petId": "1", "body": {"name": "Rex III"}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert_eq!(pet_reads(&up), reads);
    assert_eq!(watcher.updated.lock().unwrap().len(), 1);
    client.cancel().await.unwrap();
}
