//! Watch streams: replay from a resourceVersion, live events, bookmarks and 410 Gone.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::body::{Body, Bytes};
use serde_json::{Value, json};
use tokio::sync::{broadcast::error::RecvError, mpsc};

use super::{
    ServerState,
    api_error::ApiError,
    selectors::{FieldSelector, LabelSelector},
    store::{Change, EventType, ObjectKey},
    verbs::Target,
};

/// The parameters of one watch request.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// What is watched.
    pub target: Target,
    /// `resourceVersion` to start after; unset or `0` starts with the current state.
    pub resource_version: Option<String>,
    /// `allowWatchBookmarks`.
    pub bookmarks: bool,
    /// `sendInitialEvents` (streaming list).
    pub send_initial_events: bool,
    /// `timeoutSeconds`.
    pub timeout: Option<Duration>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `Accept: …;as=PartialObjectMetadata`: only metadata is sent.
    pub metadata_only: bool,
}

impl WatchRequest {
    fn matches(&self, key: &ObjectKey, object: &Value) -> bool {
        let rt = &self.target.rt;
        key.group == rt.group
            && key.plural == rt.plural
            && (self.target.namespace.is_empty()
                || !rt.namespaced
                || key.namespace == self.target.namespace)
            && self.target.name.as_ref().is_none_or(|n| *n == key.name)
            && self.labels.matches(object)
            && self.fields.matches(object)
    }

    /// The event a change means for this watch: a modification moving an object into or out
    /// of the selectors is an addition or a deletion, as on the real server.
    fn event_for(&self, change: &Change) -> Option<&'static str> {
        let now = self.matches(&change.key, &change.object);
        let before = change
            .previous
            .as_ref()
            .map(|p| self.matches(&change.key, p));
        match (change.event, before, now) {
            (EventType::Modified, Some(false), true) => Some("ADDED"),
            (EventType::Modified, Some(true), false) => Some("DELETED"),
            (_, _, true) => Some(change.event.as_str()),
            _ => None,
        }
    }

    fn line(&self, kind: &str, object: &Value) -> Bytes {
        let mut object = object.clone();
        object["apiVersion"] = json!(self.target.rt.api_version(&self.target.version));
        object["kind"] = json!(self.target.rt.kind);
        if self.metadata_only && kind != "BOOKMARK" {
            object = super::verbs::metadata_only(object);
        }
        let mut text = json!({"type": kind, "object": object}).to_string();
        text.push('\n');
        Bytes::from(text)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        self.line("BOOKMARK", &json!({"metadata": meta}))
    }
}

fn gone_line(requested: u64, oldest: u64) -> Bytes {
    let status =
        ApiError::gone(format!("too old resource version: {requested} ({oldest})")).to_status();
    let mut text = json!({"type": "ERROR", "object": status}).to_string();
    text.push('\n');
    Bytes::from(text)
}

/// Opens a watch: the initial lines are decided under the store lock, then a task streams the rest.
pub fn open(state: Arc<ServerState>, req: WatchRequest) -> Result<Body, ApiError> {
    let requested = match req.resource_version.as_deref() {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?,
        ),
    };
    let (mut initial, start_rv, mut changes, expired) = {
        let store = state.store.lock().expect("store lock");
        let changes = store.subscribe();
        let mut lines = Vec::new();
        let mut expired = false;
        match requested {
            Some(rv) if !req.send_initial_events => match store.changes_since(rv) {
                Some(past) => {
                    for c in &past {
                        if let Some(kind) = req.event_for(c) {
                            lines.push(req.line(kind, &c.object));
                        }
                    }
                }
                None => {
                    expired = true;
                    lines.push(gone_line(rv, store.compacted_rv()));
                }
            },
            _ => {
                for (key, entry) in store.list(&req.target.rt.group, &req.target.rt.plural, None) {
                    if req.matches(key, &entry.object) {
                        lines.push(req.line("ADDED", &entry.object));
                    }
                }
                if req.send_initial_events {
                    lines.push(req.bookmark(store.current_rv(), true));
                }
            }
        }
        (lines, store.current_rv(), changes, expired)
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut closed = state.close_watches.subscribe();
    let bookmark_every = state.bookmark_interval;
    let timeout = req.timeout.unwrap_or(Duration::from_secs(1800));
    tokio::spawn(async move {
        for line in initial.drain(..) {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        if expired {
            return;
        }
        let mut last_rv = start_rv;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(bookmark_every);
        ticker.tick().await;
        loop {
            let line = tokio::select! {
                _ = &mut deadline => return,
                _ = closed.changed() => return,
                _ = ticker.tick(), if req.bookmarks => req.bookmark(last_rv, false),
                change = changes.recv() => match change {
                    Ok(c) => {
                        let c: Arc<Change> = c;
                        if c.rv <= last_rv {
                            continue;
                        }
                        last_rv = c.rv;
                        match req.event_for(&c) {
                            Some(kind) => req.line(kind, &c.object),
                            None => continue,
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        let _ = tx.send(gone_line(last_rv, last_rv + 1)).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                },
            };
            if tx.send(line).await.is_err() {
                return;
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Ok(Body::from_stream(stream))
}
