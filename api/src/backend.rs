//! Where tasks live: in this process's store (standalone) or as AnalysisTasks in Kubernetes.

use std::sync::Arc;

use crate::kubernetes::{KubernetesTasks, view_of};
use crate::model::{Submission, SubmittedTask, TaskView};
use crate::problem::ApiError;
use crate::standalone::StandaloneTasks;

/// A task as listed: its namespace (Kubernetes mode) and its view.
#[derive(Clone, Debug)]
pub struct Listed {
    /// The AnalysisTask's namespace; `None` in standalone mode.
    pub namespace: Option<String>,
    /// The task, without its result.
    pub view: TaskView,
}

/// The task store behind the async endpoints.
#[derive(Clone)]
pub enum Backend {
    /// In the embedded store, analysed and delivered in this process.
    Standalone(Arc<StandaloneTasks>),
    /// AnalysisTask resources, analysed by the operator and delivered by the agent.
    Kubernetes(Arc<KubernetesTasks>),
}

impl Backend {
    /// Creates a task for a validated submission.
    pub async fn submit(&self, submission: Submission) -> Result<SubmittedTask, ApiError> {
        match self {
            Backend::Standalone(tasks) => tasks.submit(submission).await,
            Backend::Kubernetes(tasks) => tasks.submit(submission).await,
        }
    }

    /// The task with this id, or `None` if there is none.
    pub async fn get(&self, task_id: &str) -> Result<Option<TaskView>, ApiError> {
        match self {
            Backend::Standalone(tasks) => tasks.get(task_id).await,
            Backend::Kubernetes(tasks) => tasks.get(task_id).await,
        }
    }

    /// The most recent tasks, newest first, without their results, with their namespace in
    /// Kubernetes mode (the api's own and those the portal also shows).
    pub fn recent(&self, limit: usize) -> Vec<Listed> {
        match self {
            Backend::Standalone(tasks) => tasks
                .recent(limit)
                .into_iter()
                .map(|view| Listed {
                    namespace: None,
                    view,
                })
                .collect(),
            Backend::Kubernetes(tasks) => tasks
                .recent(limit)
                .iter()
                .map(|task| Listed {
                    namespace: task.metadata.namespace.clone(),
                    view: view_of(task, task.metadata.uid.as_deref().unwrap_or_default()),
                })
                .collect(),
        }
    }

    /// Starts a new delivery round of a task whose delivery `Failed` or was `Rejected`.
    pub async fn redeliver(&self, task_id: &str) -> Result<(), ApiError> {
        match self {
            Backend::Standalone(tasks) => tasks.redeliver(task_id).await,
            Backend::Kubernetes(tasks) => tasks.redeliver(task_id).await,
        }
    }

    /// Why the backend cannot serve requests now, if it cannot.
    pub fn not_ready(&self) -> Option<&'static str> {
        match self {
            Backend::Standalone(_) => None,
            Backend::Kubernetes(tasks) if !tasks.cache().is_synced() => {
                Some("the AnalysisTask cache has not synced with Kubernetes yet")
            }
            Backend::Kubernetes(tasks) if !tasks.cache().is_ready() => {
                Some("the watch of AnalysisTasks is failing: Kubernetes is unreachable")
            }
            Backend::Kubernetes(_) => None,
        }
    }

    /// A name for logs and metrics: `standalone` or `kubernetes`.
    pub fn mode(&self) -> &'static str {
        match self {
            Backend::Standalone(_) => "standalone",
            Backend::Kubernetes(_) => "kubernetes",
        }
    }
}
