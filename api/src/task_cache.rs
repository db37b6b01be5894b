//! The watch-backed cache of AnalysisTasks, indexed by task id (`metadata.uid`).
//!
//! Tasks this api creates are put in the cache as soon as the API server answers, so a `GET`
//! right after the `POST` finds them (read-your-writes); tasks created elsewhere appear with the
//! watch, which `GET` waits for briefly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use guardrails_crds::AnalysisTask;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;

/// AnalysisTasks by uid, kept current by a watch.
#[derive(Default)]
pub struct TaskCache {
    tasks: RwLock<HashMap<String, Arc<AnalysisTask>>>,
    synced: AtomicBool,
    watch_healthy: AtomicBool,
    changed: Notify,
}

impl TaskCache {
    /// An empty cache, not synced yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The task with this uid, if the cache has it.
    pub fn get(&self, uid: &str) -> Option<Arc<AnalysisTask>> {
        self.read().get(uid).cloned()
    }

    /// Every task the cache holds, in no order.
    pub fn all(&self) -> Vec<Arc<AnalysisTask>> {
        self.read().values().cloned().collect()
    }

    /// How many tasks the cache holds.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the cache holds no task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the first full list has been loaded and the watch is running without errors.
    pub fn is_ready(&self) -> bool {
        self.synced.load(Ordering::Acquire) && self.watch_healthy.load(Ordering::Acquire)
    }

    /// Whether the first full list has been loaded.
    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// Adds a task just created by this api, unless the watch already brought a newer copy.
    pub fn insert_created(&self, task: AnalysisTask) {
        let Some(uid) = task.metadata.uid.clone() else {
            return;
        };
        self.write().entry(uid).or_insert_with(|| Arc::new(task));
        self.changed.notify_waiters();
    }

    /// The task with this uid, waiting up to `timeout` for the watch to bring it.
    pub async fn wait_for(&self, uid: &str, timeout: Duration) -> Option<Arc<AnalysisTask>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            if let Some(task) = self.get(uid) {
                return Some(task);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.get(uid);
            }
        }
    }

    /// Applies one watch event.
    pub fn apply(
        &self,
        event: watcher::Event<AnalysisTask>,
        buffer: &mut Option<HashMap<String, Arc<AnalysisTask>>>,
    ) {
        match event {
            watcher::Event::Apply(task) => {
                if let Some(uid) = task.metadata.uid.clone() {
                    self.write().insert(uid, Arc::new(task));
                }
            }
            watcher::Event::Delete(task) => {
                if let Some(uid) = &task.metadata.uid {
                    self.write().remove(uid);
                }
            }
            watcher::Event::Init => *buffer = Some(HashMap::new()),
            watcher::Event::InitApply(task) => {
                if let (Some(map), Some(uid)) = (buffer.as_mut(), task.metadata.uid.clone()) {
                    map.insert(uid, Arc::new(task));
                }
            }
            watcher::Event::InitDone => {
                if let Some(map) = buffer.take() {
                    *self.write() = map;
                }
                self.synced.store(true, Ordering::Release);
            }
        }
        self.changed.notify_waiters();
    }

    /// Keeps the cache current from a watch on `api`, until the process ends.
    pub async fn run(self: Arc<Self>, api: Api<AnalysisTask>) {
        let mut events = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        let mut buffer = None;
        while let Some(event) = events.next().await {
            match event {
                Ok(event) => {
                    self.watch_healthy.store(true, Ordering::Release);
                    self.apply(event, &mut buffer);
                }
                Err(err) => {
                    if self.watch_healthy.swap(false, Ordering::AcqRel) {
                        tracing::warn!(error = %err, "watch of AnalysisTasks failed; retrying");
                    }
                }
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<AnalysisTask>>> {
        self.tasks.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<AnalysisTask>>> {
        self.tasks.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(uid: &str) -> AnalysisTask {
        let mut task = AnalysisTask::new("t", Default::default());
        task.metadata.uid = Some(uid.into());
        task
    }

    #[test]
    fn a_relist_replaces_the_cache_only_when_done() {
        let cache = TaskCache::new();
        let mut buffer = None;
        cache.apply(watcher::Event::Apply(task("old")), &mut buffer);
        cache.apply(watcher::Event::Init, &mut buffer);
        cache.apply(watcher::Event::InitApply(task("new")), &mut buffer);
        assert!(cache.get("old").is_some() && cache.get("new").is_none());
        assert!(!cache.is_synced());
        cache.apply(watcher::Event::InitDone, &mut buffer);
        assert!(cache.get("old").is_none() && cache.get("new").is_some());
        assert!(cache.is_synced());
    }

    #[test]
    fn deleted_tasks_leave_the_cache() {
        let cache = TaskCache::new();
        let mut buffer = None;
        cache.apply(watcher::Event::Apply(task("a")), &mut buffer);
        cache.apply(watcher::Event::Delete(task("a")), &mut buffer);
        assert!(cache.is_empty());
    }

    #[tokio::test]
    async fn a_waiting_reader_sees_a_task_created_meanwhile() {
        let cache = TaskCache::new();
        let reader = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.wait_for("late", Duration::from_secs(10)).await })
        };
        tokio::task::yield_now().await;
        cache.insert_created(task("late"));
        assert!(reader.await.unwrap().is_some());
        assert!(
            cache
                .wait_for("never", Duration::from_millis(20))
                .await
                .is_none()
        );
    }
}
