//! Kubernetes mode: a submission becomes an AnalysisTask whose text sits in a Secret the task
//! owns; task status is served from the [`TaskCache`] and the result from the result Secret.
//!
//! Order of creation: the AnalysisTask first, with `textFrom` naming a Secret that does not
//! exist yet (the operator waits a grace period for it), then the Secret with an ownerReference
//! to the task's uid. If the Secret cannot be created the task is deleted, so nothing is left
//! half-made; if even that delete fails, the task fails on its own once the grace period ends
//! and holds no text. A Secret is never created without its owner, so none can be orphaned.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use guardrails_crds::delivery::DeliveryPhase;
use guardrails_crds::task::{REDELIVER_ANNOTATION, SecretKeyRef, TextSource, WebhookTarget};
use guardrails_crds::{AnalysisTask, AnalysisTaskSpec, TaskPhase, WebhookEndpoint};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::Value;

use crate::model::{
    AttemptView, SUBMITTED_MESSAGE, Submission, SubmittedTask, TaskState, TaskView, WebhookView,
    rfc3339,
};
use crate::portal::namespaces::PortalNamespaces;
use crate::problem::{ApiError, Code};
use crate::task_cache::TaskCache;

/// Key of the input Secret that holds the text.
pub const TEXT_KEY: &str = "text";

pub use guardrails_crds::result_secret::RESULT_KEY;

/// Label put on every object this api creates.
pub const CREATED_BY_LABEL: (&str, &str) = ("app.kubernetes.io/created-by", "guardrails-api");

/// How long a `GET` waits for the watch to bring a task it does not know yet.
const CACHE_WAIT: Duration = Duration::from_millis(500);

/// How long one call to the Kubernetes API may take before the client gets a 503.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Tasks as AnalysisTask resources in one namespace.
pub struct KubernetesTasks {
    client: Client,
    namespace: String,
    cache: Arc<TaskCache>,
    ttl_seconds_after_finished: Option<i32>,
    others: PortalNamespaces,
}

impl KubernetesTasks {
    /// Tasks in `namespace`, read through `cache` (which the caller keeps running).
    pub fn new(
        client: Client,
        namespace: impl Into<String>,
        cache: Arc<TaskCache>,
        ttl_seconds_after_finished: Option<i32>,
    ) -> Self {
        Self {
            client,
            namespace: namespace.into(),
            cache,
            ttl_seconds_after_finished,
            others: PortalNamespaces::default(),
        }
    }

    /// The same tasks, with the other namespaces the portal shows.
    pub fn with_portal_namespaces(mut self, others: PortalNamespaces) -> Self {
        self.others = others;
        self
    }

    /// The namespace the tasks are created in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The AnalysisTask API of the namespace.
    pub fn tasks(&self) -> Api<AnalysisTask> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The cache of tasks.
    pub fn cache(&self) -> &Arc<TaskCache> {
        &self.cache
    }

    /// Creates the task and its text Secret; see the module documentation for the order.
    pub async fn submit(&self, submission: Submission) -> Result<SubmittedTask, ApiError> {
        let name = format!("api-{}", &uuid::Uuid::new_v4().simple().to_string()[..20]);
        let secret_name = format!("{name}-text");
        let task = AnalysisTask {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(created_by()),
                ..ObjectMeta::default()
            },
            spec: AnalysisTaskSpec {
                text: None,
                text_from: Some(TextSource {
                    secret_key_ref: SecretKeyRef {
                        name: secret_name.clone(),
                        key: TEXT_KEY.into(),
                    },
                }),
                frameworks: submission.frameworks.clone(),
                include_redaction: submission.include_redaction,
                webhook: submission.webhook.as_ref().map(|w| WebhookTarget {
                    url: w.url.clone(),
                    sign_payload: w.sign_payload,
                }),
                ttl_seconds_after_finished: self.ttl_seconds_after_finished,
            },
            status: None,
        };
        let created = bounded(
            "create the AnalysisTask",
            self.tasks().create(&PostParams::default(), &task),
        )
        .await?;
        let uid =
            created.metadata.uid.clone().ok_or_else(|| {
                ApiError::new(Code::Internal, "the API server gave the task no uid")
            })?;
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(secret_name),
                labels: Some(created_by()),
                owner_references: Some(vec![OwnerReference {
                    api_version: AnalysisTask::api_version(&()).into_owned(),
                    kind: AnalysisTask::kind(&()).into_owned(),
                    name: name.clone(),
                    uid: uid.clone(),
                    controller: Some(true),
                    block_owner_deletion: None,
                }]),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".into()),
            data: Some(BTreeMap::from([(
                TEXT_KEY.to_owned(),
                ByteString(submission.text.into_bytes()),
            )])),
            ..Secret::default()
        };
        let (secrets, post) = (self.secrets(), PostParams::default());
        let created_secret = bounded("create the text Secret", secrets.create(&post, &secret));
        if let Err(problem) = created_secret.await {
            let (tasks, background) = (self.tasks(), DeleteParams::background());
            let delete = bounded(
                "delete the task whose Secret failed",
                tasks.delete(&name, &background),
            );
            if let Err(cleanup) = delete.await {
                tracing::error!(task = %name, task_id = %uid, error = %cleanup.detail,
                    "could not delete the task whose Secret failed; it will fail when its grace period ends");
            }
            return Err(problem);
        }
        let submitted_at = created
            .metadata
            .creation_timestamp
            .as_ref()
            .map_or_else(|| rfc3339(jiff::Timestamp::now()), |t| rfc3339(t.0));
        self.cache.insert_created(created);
        tracing::info!(task = %name, task_id = %uid, "analysis task created");
        Ok(SubmittedTask {
            task_id: uid,
            status: TaskState::Pending,
            submitted_at,
            message: SUBMITTED_MESSAGE.into(),
        })
    }

    /// The task with this id, from the cache (waiting briefly for the watch), with its result.
    pub async fn get(&self, task_id: &str) -> Result<Option<TaskView>, ApiError> {
        if !self.cache.is_synced() {
            return Err(ApiError::new(
                Code::Unavailable,
                "the task cache is still loading from Kubernetes",
            ));
        }
        let Some(task) = self.cache.wait_for(task_id, CACHE_WAIT).await else {
            return Ok(None);
        };
        let mut view = view_of(&task, task_id);
        if task.phase() == TaskPhase::Succeeded
            && let Some(secret) = task
                .status
                .as_ref()
                .and_then(|s| s.result_secret_ref.as_ref())
        {
            view.result = self.read_result(&secret.name).await?;
        }
        Ok(Some(view))
    }

    /// The most recent tasks of the namespace and of the portal's other namespaces, newest
    /// first.
    pub fn recent(&self, limit: usize) -> Vec<Arc<AnalysisTask>> {
        let mut tasks = self.cache.all();
        let known: std::collections::HashSet<String> = tasks
            .iter()
            .filter_map(|t| t.metadata.uid.clone())
            .collect();
        tasks.extend(self.others.tasks().into_iter().filter(|t| {
            t.metadata
                .uid
                .as_ref()
                .is_some_and(|uid| !known.contains(uid))
        }));
        tasks.sort_by_key(|task| std::cmp::Reverse(task.creation_timestamp()));
        tasks.truncate(limit);
        tasks
    }

    /// A task of the portal's other namespaces, by uid (its result is not read: the api may
    /// read Secrets in its own namespace only).
    pub fn other_task(&self, task_id: &str) -> Option<Arc<AnalysisTask>> {
        self.others.task(task_id)
    }

    /// The WebhookEndpoints of the portal's other namespaces.
    pub fn other_endpoints(&self) -> Vec<Arc<WebhookEndpoint>> {
        self.others.endpoints()
    }

    /// Asks the agent for a new delivery round (the `guardrails.io/redeliver` annotation) of a
    /// task whose delivery `Failed` or was `Rejected`, in any namespace the portal shows.
    pub async fn redeliver(&self, task_id: &str) -> Result<(), ApiError> {
        let task = self
            .cache
            .get(task_id)
            .or_else(|| self.others.task(task_id))
            .ok_or_else(|| ApiError::new(Code::TaskNotFound, "no task has this id"))?;
        let phase = task
            .status
            .as_ref()
            .and_then(|s| s.delivery.as_ref())
            .map(|d| d.phase);
        if !matches!(phase, Some(DeliveryPhase::Failed | DeliveryPhase::Rejected)) {
            return Err(ApiError::new(
                Code::Conflict,
                "only a Failed or Rejected delivery can be redelivered",
            ));
        }
        let request = rfc3339(jiff::Timestamp::now());
        // NB: with the version the phase was read at, so two presses on one page make one request.
        let patch = serde_json::json!({"metadata": {
            "resourceVersion": task.resource_version(),
            "annotations": {REDELIVER_ANNOTATION: request},
        }});
        let namespace = task.namespace().unwrap_or_else(|| self.namespace.clone());
        let tasks: Api<AnalysisTask> = Api::namespaced(self.client.clone(), &namespace);
        let name = task.name_any();
        bounded(
            "request a redelivery",
            tasks.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)),
        )
        .await?;
        tracing::info!(task = %name, namespace, task_id, "redelivery requested");
        Ok(())
    }

    /// Suspends or resumes the WebhookEndpoint `namespace/name` (its `spec.suspend`).
    pub async fn suspend_endpoint(
        &self,
        namespace: &str,
        name: &str,
        suspend: bool,
    ) -> Result<(), ApiError> {
        let endpoints: Api<WebhookEndpoint> = Api::namespaced(self.client.clone(), namespace);
        let patch = serde_json::json!({"spec": {"suspend": suspend}});
        let action = if suspend {
            "suspend the endpoint"
        } else {
            "resume the endpoint"
        };
        bounded(
            action,
            endpoints.patch(name, &PatchParams::default(), &Patch::Merge(&patch)),
        )
        .await?;
        tracing::info!(
            endpoint = name,
            namespace,
            suspend,
            "endpoint suspension changed from the portal"
        );
        Ok(())
    }

    async fn read_result(&self, secret_name: &str) -> Result<Option<Value>, ApiError> {
        let secrets = self.secrets();
        let Some(secret) = bounded("read the result Secret", secrets.get_opt(secret_name)).await?
        else {
            return Ok(None);
        };
        let data = secret.data.unwrap_or_default();
        // NB: a Secret with one key is read whatever the key's name, so a renamed key still works.
        let bytes = data
            .get(RESULT_KEY)
            .or_else(|| (data.len() == 1).then(|| data.values().next()).flatten());
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes.0).map(Some).map_err(|_| {
            ApiError::new(
                Code::Internal,
                "the result Secret does not hold a JSON result",
            )
        })
    }
}

fn created_by() -> BTreeMap<String, String> {
    BTreeMap::from([(CREATED_BY_LABEL.0.to_owned(), CREATED_BY_LABEL.1.to_owned())])
}

/// The REST view of a task (without its result, which lives in a Secret).
pub fn view_of(task: &AnalysisTask, task_id: &str) -> TaskView {
    let status = task.status.clone().unwrap_or_default();
    let webhook = task.spec.webhook.as_ref().map(|_| {
        let delivery = status.delivery.clone().unwrap_or_default();
        WebhookView {
            status: delivery.phase.as_str().to_owned(),
            attempts: delivery.attempts.iter().map(AttemptView::from).collect(),
            message: delivery.message.clone(),
            round: delivery.round.and_then(|r| u32::try_from(r).ok()),
            next_attempt_at: delivery.next_attempt_at.as_ref().map(|t| rfc3339(t.0)),
        }
    });
    TaskView {
        task_id: task_id.to_owned(),
        status: TaskState::from(task.phase()),
        submitted_at: task
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| rfc3339(t.0))
            .unwrap_or_default(),
        started_at: status.started_at.as_ref().map(|t| rfc3339(t.0)),
        completed_at: status.completed_at.as_ref().map(|t| rfc3339(t.0)),
        result: None,
        error: status.error.clone(),
        webhook,
    }
}

/// Runs a Kubernetes call with [`CALL_TIMEOUT`], mapping its failure with [`kubernetes_error`].
async fn bounded<T>(
    action: &str,
    call: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result.map_err(|e| kubernetes_error(action, e)),
        Err(_) => {
            tracing::warn!("could not {action}: no answer within {CALL_TIMEOUT:?}");
            Err(ApiError::new(
                Code::Unavailable,
                format!("could not {action}: Kubernetes did not answer in time; retry later"),
            ))
        }
    }
}

/// A failed Kubernetes call as the client sees it: 503 when Kubernetes is unreachable or
/// overloaded, 500 otherwise (the details go to the log, not to the client).
pub fn kubernetes_error(action: &str, err: kube::Error) -> ApiError {
    let code = match &err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    };
    tracing::warn!(error = %err, "could not {action}");
    let (code, why) = match code {
        Some(403) => (
            Code::Forbidden,
            "the api's Kubernetes RBAC does not allow it",
        ),
        Some(404) => (Code::NotFound, "it no longer exists"),
        Some(409) => (
            Code::Conflict,
            "it changed meanwhile (or already exists); reload and try again",
        ),
        Some(408 | 429 | 500..=599) | None => {
            (Code::Unavailable, "Kubernetes is unavailable; retry later")
        }
        Some(_) => return ApiError::new(Code::Internal, format!("could not {action}")),
    };
    ApiError::new(code, format!("could not {action}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrails_crds::{AttemptOutcome, DeliveryAttempt, DeliveryPhase, DeliveryStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn a_running_task_with_a_webhook_shows_started_and_its_attempts() {
        let mut task = AnalysisTask::new(
            "t",
            AnalysisTaskSpec {
                webhook: Some(WebhookTarget {
                    url: "https://partner.io/h".into(),
                    sign_payload: false,
                }),
                ..AnalysisTaskSpec::default()
            },
        );
        let at = Time("2026-03-01T12:00:00Z".parse().unwrap());
        task.metadata.creation_timestamp = Some(at.clone());
        task.status = Some(guardrails_crds::AnalysisTaskStatus {
            phase: Some(TaskPhase::Running),
            started_at: Some(at.clone()),
            delivery: Some(DeliveryStatus {
                phase: DeliveryPhase::Pending,
                attempts: vec![DeliveryAttempt {
                    number: 1,
                    round: Some(1),
                    started_at: at,
                    duration_ms: Some(12),
                    outcome: AttemptOutcome::HttpError,
                    http_status: Some(503),
                    error: Some("receiver answered HTTP 503".into()),
                    warning: None,
                }],
                ..DeliveryStatus::default()
            }),
            ..Default::default()
        });
        let view = view_of(&task, "uid-1");
        assert_eq!(view.status, TaskState::Started);
        assert_eq!(view.submitted_at, "2026-03-01T12:00:00.000000Z");
        let webhook = view.webhook.unwrap();
        assert_eq!(webhook.status, "Pending");
        assert_eq!(webhook.attempts[0].outcome, "http_error");
        assert_eq!(webhook.attempts[0].http_status, Some(503));
    }

    #[test]
    fn refusals_of_kubernetes_become_errors_a_person_can_act_on() {
        let status = |code: u16| {
            kube::Error::Api(
                kube::core::Status::failure("denied by the API server", "Forbidden")
                    .with_code(code)
                    .boxed(),
            )
        };
        let forbidden = kubernetes_error("suspend the endpoint", status(403));
        assert_eq!(forbidden.code, Code::Forbidden);
        assert!(forbidden.detail.contains("RBAC"), "{}", forbidden.detail);
        assert_eq!(kubernetes_error("x", status(404)).code, Code::NotFound);
        assert_eq!(kubernetes_error("x", status(409)).code, Code::Conflict);
        assert_eq!(kubernetes_error("x", status(503)).code, Code::Unavailable);
        assert_eq!(kubernetes_error("x", status(422)).code, Code::Internal);
    }

    #[test]
    fn a_task_without_status_is_pending_and_without_webhook_has_none() {
        let view = view_of(&AnalysisTask::new("t", AnalysisTaskSpec::default()), "u");
        assert_eq!(view.status, TaskState::Pending);
        assert!(view.webhook.is_none() && view.result.is_none());
    }
}
