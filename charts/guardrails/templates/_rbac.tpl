{{/*
The permissions of each component, as RBAC rules. docs/operations.md lists the same verbs; the
chart tests check that the rendered roles grant exactly these.
*/}}

{{/* operator: reconciles AnalysisTasks, reads textFrom Secrets, creates result Secrets. */}}
{{- define "guardrails.operatorRules" -}}
- apiGroups: ["guardrails.io"]
  resources: ["analysistasks"]
  verbs: ["get", "list", "watch", "delete"]
- apiGroups: ["guardrails.io"]
  resources: ["analysistasks/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* agent: delivers webhooks of finished tasks under the WebhookEndpoints' policy. */}}
{{- define "guardrails.agentRules" -}}
- apiGroups: ["guardrails.io"]
  resources: ["analysistasks"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["guardrails.io"]
  resources: ["analysistasks/status"]
  verbs: ["patch"]
- apiGroups: ["guardrails.io"]
  resources: ["webhookendpoints"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["guardrails.io"]
  resources: ["webhookendpoints/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* api: submits tasks (with their text in a Secret), reads them back, and checks webhook URLs against the namespace's WebhookEndpoints. */}}
{{- define "guardrails.apiRules" -}}
- apiGroups: ["guardrails.io"]
  resources: ["analysistasks"]
  verbs: ["create", "get", "list", "watch", "delete", "patch"]
- apiGroups: ["guardrails.io"]
  resources: ["webhookendpoints"]
  verbs: {{ ternary (list "list" "watch" "patch") (list "list" "watch") .Values.api.portal.endpointActions | toJson }}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create", "get", "delete"]
{{- end }}

{{/* What the portal may do in the other namespaces it shows (api.portal.namespaces). */}}
{{- define "guardrails.portalRules" -}}
- apiGroups: ["guardrails.io"]
  resources: ["analysistasks"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["guardrails.io"]
  resources: ["webhookendpoints"]
  verbs: {{ ternary (list "list" "watch" "patch") (list "list" "watch") .Values.api.portal.endpointActions | toJson }}
{{- end }}

{{/* Leader election on one Lease: create it, then read and renew only that one. */}}
{{- define "guardrails.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: [{{ .lease | quote }}]
  verbs: ["get", "patch"]
{{- end }}
