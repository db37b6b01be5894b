//! HTTP front of the test server: authentication, faults, URL parsing and dispatch to the verbs.

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    Json,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{
    RecordedRequest, ServerState,
    api_error::{ApiError, reason_for_code},
    discovery,
    faults::FaultAction,
    lifecycle::Propagation,
    patch::PatchKind,
    selectors::{FieldSelector, LabelSelector},
    verbs::{self, DeleteOptions, ListQuery, Target, WriteOptions},
    watch::{self, WatchRequest},
};

/// Handles every request the test server receives.
pub async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    state.record(RecordedRequest {
        method: method.to_string(),
        path_and_query: path_and_query.clone(),
    });
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == state.token);
    if !authorised {
        return ApiError::new(401, "Unauthorized", "Unauthorized").into_response();
    }
    for action in state.faults.take(method.as_str(), &path_and_query) {
        match action {
            FaultAction::Delay(d) => tokio::time::sleep(d).await,
            FaultAction::Respond(code) => {
                return ApiError::new(
                    code,
                    reason_for_code(code),
                    format!("injected fault: {code}"),
                )
                .into_response();
            }
        }
    }
    match dispatch(&state, &method, &uri, &headers, &body) {
        Ok(Reply::Json(code, value)) => (code, Json(value)).into_response(),
        Ok(Reply::Stream(body)) => Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        Err(e) => e.into_response(),
    }
}

enum Reply {
    Json(StatusCode, Value),
    Stream(Body),
}

fn query_map(uri: &Uri) -> HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn truthy(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

fn field_manager(q: &HashMap<String, String>, headers: &HeaderMap) -> String {
    if let Some(m) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.split('/').next().unwrap_or(ua).to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn dispatch(
    state: &Arc<ServerState>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let segs: Vec<&str> = uri
        .path()
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let ok = |v: Value| Ok(Reply::Json(StatusCode::OK, v));
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return ok(discovery::version()),
        ["healthz"] | ["readyz"] | ["livez"] => {
            return Ok(Reply::Json(StatusCode::OK, Value::String("ok".into())));
        }
        ["api"] => return ok(discovery::core_versions()),
        ["apis"] => {
            return ok(discovery::groups(
                &state.store.lock().expect("store lock").registry,
            ));
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(ApiError::not_found("path", uri.path())),
    };
    if rest.is_empty() {
        let store = state.store.lock().expect("store lock");
        return discovery::resources(&store.registry, group, version)
            .map(|v| Reply::Json(StatusCode::OK, v))
            .ok_or_else(|| ApiError::not_found("group version", &format!("{group}/{version}")));
    }
    let (namespace, plural, name, subresource) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => (
            ns.to_string(),
            *plural,
            tail.first().map(|s| s.to_string()),
            tail.get(1).map(|s| s.to_string()),
        ),
        [plural, tail @ ..] => (
            String::new(),
            *plural,
            tail.first().map(|s| s.to_string()),
            tail.get(1).map(|s| s.to_string()),
        ),
        [] => unreachable!("rest is not empty"),
    };
    let rt = state
        .store
        .lock()
        .expect("store lock")
        .registry
        .find(group, version, plural)
        .ok_or_else(|| {
            ApiError::not_found("the server could not find the requested resource", plural)
        })?;
    if let Some(sub) = &subresource
        && sub != "status"
    {
        return Err(ApiError::not_found("subresource", sub));
    }
    let target = Target {
        rt,
        version: version.to_string(),
        namespace,
        name,
        subresource,
    };
    let q = query_map(uri);
    let opts = WriteOptions {
        manager: field_manager(&q, headers),
        dry_run: q.get("dryRun").is_some_and(|v| v == "All"),
        force: truthy(&q, "force"),
    };
    let json_body = || -> Result<Value, ApiError> {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding body: {e}")))
    };
    let list_query = || -> Result<ListQuery, ApiError> {
        Ok(ListQuery {
            labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?,
            fields: FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str))?,
            limit: q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(0),
            continue_token: q.get("continue").filter(|c| !c.is_empty()).cloned(),
        })
    };
    let metadata_only = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=PartialObjectMetadata"));
    match (method.as_str(), target.name.is_some()) {
        ("GET", true) => {
            let object = verbs::get(&state.store.lock().expect("store lock"), &target)?;
            ok(if metadata_only {
                verbs::metadata_only(object)
            } else {
                object
            })
        }
        ("GET", false) if truthy(&q, "watch") => {
            let lq = list_query()?;
            let req = WatchRequest {
                target,
                resource_version: q.get("resourceVersion").cloned(),
                bookmarks: truthy(&q, "allowWatchBookmarks"),
                send_initial_events: truthy(&q, "sendInitialEvents"),
                timeout: q
                    .get("timeoutSeconds")
                    .and_then(|t| t.parse().ok())
                    .map(Duration::from_secs),
                labels: lq.labels,
                fields: lq.fields,
                metadata_only,
            };
            Ok(Reply::Stream(watch::open(state.clone(), req)?))
        }
        ("GET", false) => {
            let list = verbs::list(
                &state.store.lock().expect("store lock"),
                &target,
                &list_query()?,
            )?;
            ok(if metadata_only {
                verbs::metadata_only_list(list)
            } else {
                list
            })
        }
        ("POST", false) => {
            let created = verbs::create(
                &mut state.store.lock().expect("store lock"),
                &target,
                json_body()?,
                &opts,
                None,
            )?;
            Ok(Reply::Json(StatusCode::CREATED, created))
        }
        ("PUT", true) => ok(verbs::update(
            &mut state.store.lock().expect("store lock"),
            &target,
            json_body()?,
            &opts,
        )?),
        ("PATCH", true) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let kind = PatchKind::from_content_type(content_type)?;
            ok(verbs::patch(
                &mut state.store.lock().expect("store lock"),
                &target,
                kind,
                body,
                &opts,
            )?)
        }
        ("DELETE", named) => {
            let delete_opts = delete_options(&q, body)?;
            let mut store = state.store.lock().expect("store lock");
            if named {
                ok(verbs::delete(&mut store, &target, &delete_opts)?)
            } else {
                ok(verbs::delete_collection(
                    &mut store,
                    &target,
                    &list_query()?,
                    &delete_opts,
                )?)
            }
        }
        (m, _) => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            format!("{m} is not supported on this path"),
        )),
    }
}

fn delete_options(q: &HashMap<String, String>, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let policy = body
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or(q.get("propagationPolicy").map(String::as_str));
    let text = |ptr: &str| {
        body.pointer(ptr)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(DeleteOptions {
        propagation: policy
            .map(Propagation::parse)
            .transpose()?
            .unwrap_or_default(),
        uid: text("/preconditions/uid"),
        resource_version: text("/preconditions/resourceVersion"),
        dry_run: q.get("dryRun").is_some_and(|v| v == "All")
            || body
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == "All")),
    })
}
