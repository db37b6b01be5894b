//! What the benchmarks measure about processes and the API: CPU time and memory from `/proc`,
//! latency percentiles, and the API server's requests by verb and resource.

use std::{collections::BTreeMap, fmt, time::Duration};

use kube::Client;

use crate::{Error, apiserver::TestServer};

/// CPU time (user + system) of a process so far, from `/proc/<pid>/stat` (`"self"` for this one).
pub fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // NB: the fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // NB: /proc counts in USER_HZ, which Linux fixes at 100 for user space.
    Duration::from_millis(ticks * 10)
}

/// A `/proc/<pid>/status` memory field in KiB (`"VmRSS:"`, `"VmHWM:"` for the peak).
pub fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The machine's load averages over 1, 5 and 15 minutes, as `/proc/loadavg` prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The process ids whose command name (`/proc/<pid>/comm`) is `name`, e.g. `kube-apiserver`.
pub fn pids_named(name: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
        })
        .collect()
}

/// CPU time of every process named `name` together.
pub fn cpu_time_of_named(name: &str) -> Duration {
    pids_named(name).iter().map(|p| cpu_time(p)).sum()
}

/// The `p` quantile (0..=1) of sorted durations, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Milliseconds of a duration, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// API requests by verb and resource (`APPLY analysistasks/status`), counted by the API server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiRequests(BTreeMap<String, f64>);

impl ApiRequests {
    /// The counts so far: from the real API server's `/metrics` (`apiserver_request_total`), or
    /// from the test server's request log.
    pub async fn read(client: &Client, test_server: Option<&TestServer>) -> Result<Self, Error> {
        match test_server {
            Some(server) => Ok(Self::from_log(server)),
            None => {
                let request = http::Request::get("/metrics")
                    .body(Vec::new())
                    .expect("a request for a fixed path");
                let text = client.request_text(request).await?;
                Ok(Self::from_metrics(&text))
            }
        }
    }

    /// Parses `apiserver_request_total` lines of a Prometheus text exposition.
    pub fn from_metrics(text: &str) -> Self {
        let mut counts = BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
                continue;
            };
            let Some((labels, value)) = rest.rsplit_once("} ") else {
                continue;
            };
            let label = |name: &str| {
                let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
                labels[start..].split('"').next()
            };
            let (Some(verb), Some(resource)) = (label("verb"), label("resource")) else {
                continue;
            };
            // NB: the control plane's own requests (namespace cleanup, garbage collection of
            // other tests' objects) are not the pipeline's.
            if label("system_client").is_some_and(|c| !c.is_empty()) {
                continue;
            }
            let key = match label("subresource").filter(|s| !s.is_empty()) {
                Some(sub) => format!("{verb} {resource}/{sub}"),
                None => format!("{verb} {resource}"),
            };
            *counts.entry(key).or_insert(0.0) += value.trim().parse::<f64>().unwrap_or(0.0);
        }
        Self(counts)
    }

    /// Counts the test server's recorded requests the way the real server labels them.
    fn from_log(server: &TestServer) -> Self {
        let mut counts = BTreeMap::new();
        for request in server.requests() {
            let (path, query) = request
                .path_and_query
                .split_once('?')
                .unwrap_or((&request.path_and_query, ""));
            let verb = match request.method.as_str() {
                "POST" => "POST",
                "PUT" => "PUT",
                "DELETE" => "DELETE",
                "PATCH" if query.contains("fieldManager=") => "APPLY",
                "PATCH" => "PATCH",
                _ if query.contains("watch=true") || query.contains("watch=1") => "WATCH",
                _ => "GET",
            };
            *counts
                .entry(format!("{verb} {}", resource_of(path)))
                .or_insert(0.0) += 1.0;
        }
        Self(counts)
    }

    /// The requests counted in `self` since `before`, without the reads (GET, LIST, WATCH).
    pub fn writes_since(&self, before: &Self) -> Self {
        Self(
            self.0
                .iter()
                .filter(|(k, _)| !["GET ", "LIST ", "WATCH "].iter().any(|r| k.starts_with(r)))
                .map(|(k, v)| (k.clone(), v - before.0.get(k).copied().unwrap_or(0.0)))
                .filter(|(_, v)| *v > 0.0)
                .collect(),
        )
    }

    /// The sum of every count.
    pub fn total(&self) -> f64 {
        self.0.values().sum()
    }

    /// The sum of the counts whose resource is one of `resources` (with or without subresource).
    pub fn total_for(&self, resources: &[&str]) -> f64 {
        self.0
            .iter()
            .filter(|(k, _)| {
                let resource = k.split_once(' ').map_or("", |(_, r)| r);
                let base = resource.split('/').next().unwrap_or("");
                resources.contains(&base)
            })
            .map(|(_, v)| v)
            .sum()
    }

    /// The counts divided by `n`, printed `verb resource: x.xx` per entry.
    pub fn per(&self, n: usize) -> PerTask<'_> {
        PerTask(self, n)
    }
}

/// [`ApiRequests`] divided by a number of tasks, for printing.
pub struct PerTask<'a>(&'a ApiRequests, usize);

impl fmt::Display for PerTask<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = (self.0)
            .0
            .iter()
            .map(|(k, v)| format!("{k} {:.2}", v / self.1 as f64))
            .collect();
        write!(f, "{}", parts.join(", "))
    }
}

/// `resource` or `resource/subresource` of an API path (`/apis/g/v/namespaces/ns/r/name/sub`).
fn resource_of(path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match segments.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return path.to_owned(),
    };
    let rest = match rest {
        ["namespaces", _ns, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    match rest {
        [resource] | [resource, _] => (*resource).to_owned(),
        [resource, _, sub, ..] => format!("{resource}/{sub}"),
        [] => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_server_metrics_are_summed_by_verb_and_resource() {
        let text = r#"# HELP apiserver_request_total x
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="secrets",scope="resource",subresource="",system_client="kube-controller-manager",verb="DELETE",version="v1"} 9
apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="guardrails.io",resource="analysistasks",scope="resource",subresource="status",verb="APPLY",version="v1alpha1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="guardrails.io",resource="analysistasks",scope="namespace",subresource="",verb="WATCH",version="v1alpha1"} 2
"#;
        let before = ApiRequests::from_metrics(
            "apiserver_request_total{code=\"201\",resource=\"secrets\",subresource=\"\",verb=\"POST\"} 1",
        );
        let writes = ApiRequests::from_metrics(text).writes_since(&before);
        assert_eq!(
            writes.per(1).to_string(),
            "APPLY analysistasks/status 7.00, POST secrets 3.00"
        );
        assert_eq!(writes.total_for(&["analysistasks"]), 7.0);
    }

    #[test]
    fn api_paths_name_their_resource_and_subresource() {
        assert_eq!(resource_of("/api/v1/namespaces/n/secrets"), "secrets");
        assert_eq!(resource_of("/api/v1/namespaces/n/secrets/s"), "secrets");
        assert_eq!(
            resource_of("/apis/guardrails.io/v1alpha1/namespaces/n/analysistasks/t/status"),
            "analysistasks/status"
        );
        assert_eq!(
            resource_of("/apis/events.k8s.io/v1/namespaces/n/events"),
            "events"
        );
        assert_eq!(resource_of("/api/v1/namespaces"), "namespaces");
    }
}
