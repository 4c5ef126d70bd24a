//! Resource subscriptions (`resources/subscribe`, `resources/unsubscribe`) for clients in a
//! session: stdio, or HTTP with `--sessions`, on revisions before 2026-07-28 (which has no
//! sessions to hold a subscription; its stateless requests get "method not found").
//!
//! An HTTP API does not tell anyone when a resource changes, so the server watches for the
//! client: it reads each subscribed resource again every `--subscription-poll-secs`, through
//! the same path as `resources/read` with the subscriber's own request headers and identity,
//! and sends `notifications/resources/updated` when the contents differ from the last read.
//! Watching ends with `resources/unsubscribe`, or when the session's connection is gone.
//!
//! Bounded: [`MAX_PER_SESSION`] subscriptions per session and [`MAX_TOTAL`] in all; a read
//! that fails is tried again at the next interval, and the client is not told about it.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use rmcp::model::ResourceContents;
use tokio::task::AbortHandle;

/// The most resources one session watches.
pub const MAX_PER_SESSION: usize = 32;
/// The most resources the server watches for all sessions together.
pub const MAX_TOTAL: usize = 4_096;

/// The watches under way, by session and URI.
#[derive(Default)]
pub struct Subscriptions(Mutex<HashMap<(String, String), AbortHandle>>);

/// Why a subscription was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The session watches as many resources as it may.
    #[error("this session already watches {MAX_PER_SESSION} resources; unsubscribe from one first")]
    SessionFull,
    /// The server watches as many resources as it may.
    #[error("the server watches as many resources as it can ({MAX_TOTAL}); try again later")]
    ServerFull,
}

impl Subscriptions {
    /// Starts watching `uri` for `session` with `watch` (spawned here), unless it already is
    /// watched; `Ok(false)` then.
    pub fn add<F>(&self, session: &str, uri: &str, watch: F) -> Result<bool, SubscribeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut watches = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Watches whose session went away ended on their own.
        watches.retain(|_, handle| !handle.is_finished());
        let key = (session.to_owned(), uri.to_owned());
        if watches.contains_key(&key) {
            return Ok(false);
        }
        if watches.keys().filter(|(s, _)| s == session).count() >= MAX_PER_SESSION {
            return Err(SubscribeError::SessionFull);
        }
        if watches.len() >= MAX_TOTAL {
            return Err(SubscribeError::ServerFull);
        }
        watches.insert(key, tokio::spawn(watch).abort_handle());
        Ok(true)
    }

    /// Stops watching `uri` for `session`; whether it was watched.
    pub fn remove(&self, session: &str, uri: &str) -> bool {
        let mut watches = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match watches.remove(&(session.to_owned(), uri.to_owned())) {
            Some(handle) => {
                handle.abort();
                true
            }
            None => false,
        }
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        let watches = self.0.get_mut().unwrap_or_else(|p| p.into_inner());
        for handle in watches.values() {
            handle.abort();
        }
    }
}

/// A fingerprint of a resource's contents, to tell whether they changed between two reads.
pub fn fingerprint(contents: &[ResourceContents]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for content in contents {
        // Every kind of contents, as the client would read it.
        serde_json::to_string(content)
            .unwrap_or_default()
            .hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Vec<ResourceContents> {
        vec![ResourceContents::TextResourceContents {
            uri: "test://a".to_owned(),
            mime_type: Some("text/plain".to_owned()),
            text: t.to_owned(),
            meta: None,
        }]
    }

    #[test]
    fn fingerprints_follow_the_contents() {
        assert_eq!(fingerprint(&text("a")), fingerprint(&text("a")));
        assert_ne!(fingerprint(&text("a")), fingerprint(&text("b")));
    }

    #[tokio::test]
    async fn watches_are_bounded_per_session_and_ended_by_unsubscribing() {
        let subscriptions = Subscriptions::default();
        let forever = || std::future::pending::<()>();
        assert!(subscriptions.add("s", "test://a", forever()).unwrap());
        assert!(!subscriptions.add("s", "test://a", forever()).unwrap());
        for i in 1..MAX_PER_SESSION {
            assert!(
                subscriptions
                    .add("s", &format!("test://{i}"), forever())
                    .unwrap()
            );
        }
        assert!(matches!(
            subscriptions.add("s", "test://one-more", forever()),
            Err(SubscribeError::SessionFull)
        ));
        // Another session has room of its own.
        assert!(subscriptions.add("t", "test://a", forever()).unwrap());
        assert!(subscriptions.remove("s", "test://a"));
        assert!(!subscriptions.remove("s", "test://a"));
        assert!(
            subscriptions
                .add("s", "test://one-more", forever())
                .unwrap()
        );
    }
}
