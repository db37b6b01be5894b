//! The chart's security: every pod meets Pod Security "restricted", each component gets exactly
//! the RBAC verbs it needs (cluster-wide, or in the watched namespace), each pod runs under its
//! own ServiceAccount, and the NetworkPolicies let each pod reach only what it needs.

#[allow(dead_code)]
mod chart_kit;

use std::collections::{BTreeMap, BTreeSet};

use chart_kit::*;
use k8s_openapi::api::{apps::v1::Deployment, networking::v1::NetworkPolicy};
use serde_json::Value;

// ---------------------------------------------------------------- Pod Security "restricted"

fn check_restricted(objects: &[Value]) {
    let deployments = of_kind(objects, "Deployment");
    assert!(!deployments.is_empty());
    for obj in deployments {
        let deployment: Deployment = typed(obj);
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let who = name(obj);
        let psc = pod.security_context.clone().unwrap_or_default();
        assert_eq!(psc.run_as_non_root, Some(true), "{who}: pod runAsNonRoot");
        assert_ne!(psc.run_as_user, Some(0), "{who}: pod runs as root");
        assert_eq!(
            psc.seccomp_profile.as_ref().map(|s| s.type_.as_str()),
            Some("RuntimeDefault"),
            "{who}: pod seccomp"
        );
        assert_ne!(pod.host_network, Some(true), "{who}: hostNetwork");
        assert_ne!(pod.host_pid, Some(true), "{who}: hostPID");
        assert_ne!(pod.host_ipc, Some(true), "{who}: hostIPC");
        for volume in pod.volumes.iter().flatten() {
            assert!(volume.host_path.is_none(), "{who}: hostPath volume");
        }
        let containers = pod
            .containers
            .iter()
            .chain(pod.init_containers.iter().flatten());
        for c in containers {
            let what = format!("{who}/{}", c.name);
            let sc = c
                .security_context
                .clone()
                .unwrap_or_else(|| panic!("{what}: no securityContext"));
            assert_eq!(
                sc.allow_privilege_escalation,
                Some(false),
                "{what}: allowPrivilegeEscalation"
            );
            assert_eq!(
                sc.read_only_root_filesystem,
                Some(true),
                "{what}: readOnlyRootFilesystem"
            );
            assert_ne!(sc.privileged, Some(true), "{what}: privileged");
            assert_ne!(sc.run_as_user, Some(0), "{what}: runs as root");
            assert_ne!(sc.run_as_non_root, Some(false), "{what}: runAsNonRoot");
            let caps = sc.capabilities.unwrap_or_default();
            assert_eq!(
                caps.drop.unwrap_or_default(),
                ["ALL"],
                "{what}: capabilities dropped"
            );
            assert!(
                caps.add.unwrap_or_default().is_empty(),
                "{what}: capabilities added"
            );
            if let Some(profile) = sc.seccomp_profile {
                assert_eq!(profile.type_, "RuntimeDefault", "{what}: seccomp");
            }
        }
    }
}

#[test]
fn every_pod_meets_the_restricted_profile_with_the_default_values() {
    check_restricted(&render(&[]));
}

#[test]
fn every_pod_meets_the_restricted_profile_with_the_production_values_and_bundled_redis() {
    let objects = production();
    assert!(objects.iter().any(|o| name(o) == "guardrails-redis"));
    check_restricted(&objects);
}

// ---------------------------------------------------------------- RBAC

/// One granted permission: (API group, resource, verb, resource name or `*`).
type Grant = (String, String, String, String);

fn grants(rules: &Value) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for rule in rules.as_array().expect("rules") {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        let names = strings(&rule["resourceNames"]);
        let names = if names.is_empty() {
            vec!["*".to_owned()]
        } else {
            names
        };
        assert!(rule.get("nonResourceURLs").is_none(), "{rule}");
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for verb in strings(&rule["verbs"]) {
                    for n in &names {
                        assert!(
                            group != "*" && resource != "*" && verb != "*",
                            "wildcard in {rule}"
                        );
                        out.insert((group.clone(), resource.clone(), verb.clone(), n.clone()));
                    }
                }
            }
        }
    }
    out
}

fn expect(list: &[(&str, &str, &[&str])]) -> BTreeSet<Grant> {
    expect_named(list, "*")
}

fn expect_named(list: &[(&str, &str, &[&str])], resource_name: &str) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for (group, resource, verbs) in list {
        for verb in *verbs {
            out.insert((
                group.to_string(),
                resource.to_string(),
                verb.to_string(),
                resource_name.to_owned(),
            ));
        }
    }
    out
}

fn operator_grants() -> BTreeSet<Grant> {
    expect(&[
        (
            "guardrails.io",
            "analysistasks",
            &["get", "list", "watch", "delete"],
        ),
        ("guardrails.io", "analysistasks/status", &["patch"]),
        ("", "secrets", &["get", "create"]),
        ("events.k8s.io", "events", &["create", "patch"]),
    ])
}

fn agent_grants() -> BTreeSet<Grant> {
    expect(&[
        ("guardrails.io", "analysistasks", &["get", "list", "watch"]),
        ("guardrails.io", "analysistasks/status", &["patch"]),
        (
            "guardrails.io",
            "webhookendpoints",
            &["get", "list", "watch"],
        ),
        ("guardrails.io", "webhookendpoints/status", &["patch"]),
        ("", "secrets", &["get", "list", "watch"]),
        ("events.k8s.io", "events", &["create", "patch"]),
    ])
}

fn api_grants() -> BTreeSet<Grant> {
    expect(&[
        (
            "guardrails.io",
            "analysistasks",
            &["create", "get", "list", "watch", "delete", "patch"],
        ),
        ("guardrails.io", "webhookendpoints", &["list", "watch"]),
        ("", "secrets", &["create", "get", "delete"]),
    ])
}

fn lease_grants(lease: &str) -> BTreeSet<Grant> {
    let mut out = expect(&[("coordination.k8s.io", "leases", &["create"])]);
    out.extend(expect_named(
        &[("coordination.k8s.io", "leases", &["get", "patch"])],
        lease,
    ));
    out
}

/// What each ServiceAccount may do, by the namespace it may do it in (`*` = cluster-wide).
fn permissions_by_account(
    objects: &[Value],
) -> BTreeMap<String, BTreeMap<String, BTreeSet<Grant>>> {
    let mut roles: BTreeMap<(String, String, String), BTreeSet<Grant>> = BTreeMap::new();
    for obj in objects {
        if matches!(kind(obj), "Role" | "ClusterRole") {
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or("*");
            roles.insert(
                (kind(obj).into(), ns.into(), name(obj).into()),
                grants(&obj["rules"]),
            );
        }
    }
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<Grant>>> = BTreeMap::new();
    for obj in objects {
        if !matches!(kind(obj), "RoleBinding" | "ClusterRoleBinding") {
            continue;
        }
        let scope = obj["metadata"]["namespace"].as_str().unwrap_or("*");
        let role_kind = obj["roleRef"]["kind"].as_str().unwrap();
        let role_ns = if role_kind == "Role" { scope } else { "*" };
        let role_name = obj["roleRef"]["name"].as_str().unwrap();
        let granted = roles
            .get(&(role_kind.into(), role_ns.into(), role_name.into()))
            .unwrap_or_else(|| panic!("{} binds a missing {role_kind} {role_name}", name(obj)));
        for subject in obj["subjects"].as_array().unwrap() {
            assert_eq!(subject["kind"], "ServiceAccount", "{}", name(obj));
            assert_eq!(subject["namespace"], NAMESPACE, "{}", name(obj));
            let account = subject["name"].as_str().unwrap().to_owned();
            out.entry(account)
                .or_default()
                .entry(scope.to_owned())
                .or_default()
                .extend(granted.iter().cloned());
        }
    }
    out
}

fn role_rules(objects: &[Value], kind_: &str, name_: &str) -> BTreeSet<Grant> {
    grants(&object(objects, kind_, name_)["rules"])
}

#[test]
fn each_component_gets_exactly_its_verbs_cluster_wide_by_default() {
    let objects = render(&[]);
    let prefix = format!("{RELEASE}-guardrails");
    assert_eq!(
        role_rules(&objects, "ClusterRole", &format!("{prefix}-operator")),
        operator_grants()
    );
    assert_eq!(
        role_rules(&objects, "ClusterRole", &format!("{prefix}-agent")),
        agent_grants()
    );
    assert_eq!(
        role_rules(&objects, "Role", &format!("{prefix}-api")),
        api_grants()
    );
    assert_eq!(
        role_rules(
            &objects,
            "Role",
            &format!("{prefix}-operator-leader-election")
        ),
        lease_grants(&format!("{prefix}-operator"))
    );
    assert_eq!(
        role_rules(&objects, "Role", &format!("{prefix}-agent-leader-election")),
        lease_grants(&format!("{prefix}-agent"))
    );

    let accounts = permissions_by_account(&objects);
    assert_eq!(
        accounts.keys().collect::<Vec<_>>(),
        [&format!("{prefix}-api"), &format!("{prefix}-operator")],
        "one ServiceAccount per pod"
    );
    let operator_pod = &accounts[&format!("{prefix}-operator")];
    let mut cluster_wide = operator_grants();
    cluster_wide.extend(agent_grants());
    assert_eq!(operator_pod["*"], cluster_wide);
    let mut leases = lease_grants(&format!("{prefix}-operator"));
    leases.extend(lease_grants(&format!("{prefix}-agent")));
    assert_eq!(operator_pod[NAMESPACE], leases);
    assert_eq!(operator_pod.len(), 2);
    let api = &accounts[&format!("{prefix}-api")];
    assert_eq!(
        api.keys().collect::<Vec<_>>(),
        [NAMESPACE],
        "api is namespaced"
    );
    assert_eq!(api[NAMESPACE], api_grants());
}

#[test]
fn the_portal_may_suspend_endpoints_only_when_the_chart_grants_it() {
    let prefix = format!("{RELEASE}-guardrails");
    let api_role = |objects: &[Value]| role_rules(objects, "Role", &format!("{prefix}-api"));
    let endpoint_patch = expect(&[("guardrails.io", "webhookendpoints", &["patch"])]);
    assert!(api_role(&render(&[])).is_disjoint(&endpoint_patch));
    let granted = api_role(&render(&["--set", "api.portal.endpointActions=true"]));
    assert_eq!(
        granted
            .difference(&api_grants())
            .cloned()
            .collect::<BTreeSet<_>>(),
        endpoint_patch,
        "exactly the one verb more"
    );
}

#[test]
fn the_portal_reads_other_namespaces_only_where_the_chart_lists_them() {
    let portal = expect(&[
        (
            "guardrails.io",
            "analysistasks",
            &["get", "list", "watch", "patch"],
        ),
        ("guardrails.io", "webhookendpoints", &["list", "watch"]),
    ]);
    let listed = render(&[
        "--set",
        &format!("api.portal.namespaces={{team-a,{NAMESPACE},team-a}}"),
    ]);
    let accounts = permissions_by_account(&listed);
    let api = &accounts[&format!("{RELEASE}-guardrails-api")];
    assert_eq!(
        api.keys().collect::<Vec<_>>(),
        [NAMESPACE, "team-a"],
        "the release namespace keeps its own Role"
    );
    assert_eq!(api["team-a"], portal);
    assert_eq!(api[NAMESPACE], api_grants());

    let everywhere = permissions_by_account(&render(&["--set", "api.portal.namespaces={*}"]));
    assert_eq!(
        everywhere[&format!("{RELEASE}-guardrails-api")]["*"],
        portal
    );
}

#[test]
fn watch_namespaces_replaces_every_cluster_role_with_roles_in_that_namespace() {
    let objects = production();
    assert!(of_kind(&objects, "ClusterRole").is_empty());
    assert!(of_kind(&objects, "ClusterRoleBinding").is_empty());
    let accounts = permissions_by_account(&objects);
    let operator_pod = &accounts["guardrails-operator"];
    let mut watched = operator_grants();
    watched.extend(agent_grants());
    assert_eq!(operator_pod["pii-workloads"], watched);
    let mut leases = lease_grants("guardrails-operator");
    leases.extend(lease_grants("guardrails-agent"));
    assert_eq!(operator_pod[NAMESPACE], leases);
    assert_eq!(operator_pod.len(), 2);
    assert_eq!(accounts["guardrails-api"][NAMESPACE], api_grants());
    assert_eq!(accounts["guardrails-api"].len(), 1);
}

#[test]
fn pods_run_under_their_own_service_accounts_and_mount_a_token() {
    let objects = render(&[]);
    for (deployment, account) in [
        ("gr-guardrails-operator", "gr-guardrails-operator"),
        ("gr-guardrails-api", "gr-guardrails-api"),
    ] {
        let d: Deployment = typed(object(&objects, "Deployment", deployment));
        let pod = d.spec.unwrap().template.spec.unwrap();
        assert_eq!(pod.service_account_name.as_deref(), Some(account));
        assert_eq!(pod.automount_service_account_token, Some(true));
        object(&objects, "ServiceAccount", account);
    }
}

#[test]
fn network_policies_let_each_pod_reach_only_what_it_needs() {
    let objects = production();
    let operator: NetworkPolicy = typed(object(&objects, "NetworkPolicy", "guardrails-operator"));
    let spec = operator.spec.unwrap();
    assert_eq!(
        spec.policy_types.unwrap(),
        ["Ingress".to_owned(), "Egress".to_owned()]
    );
    let egress = serde_json::to_value(spec.egress.unwrap()).unwrap();
    let text = egress.to_string();
    assert!(text.contains("172.20.0.1/32"), "API server: {text}");
    assert!(text.contains("kube-dns"), "DNS: {text}");
    assert!(
        text.contains("\"app.kubernetes.io/component\":\"redis\""),
        "Redis: {text}"
    );
    assert!(text.contains("203.0.113.0/24"), "webhooks: {text}");

    let api: NetworkPolicy = typed(object(&objects, "NetworkPolicy", "guardrails-api"));
    let api_egress = serde_json::to_value(api.spec.unwrap().egress.unwrap()).unwrap();
    assert!(
        !api_egress.to_string().contains("203.0.113.0/24"),
        "the api sends no webhook"
    );

    let redis: NetworkPolicy = typed(object(&objects, "NetworkPolicy", "guardrails-redis"));
    let spec = redis.spec.unwrap();
    assert_eq!(spec.egress, Some(vec![]), "Redis talks to no one");
    let from = serde_json::to_value(&spec.ingress.unwrap()[0].from).unwrap();
    assert!(
        from.to_string()
            .contains("\"app.kubernetes.io/component\":\"operator\"")
    );
}
