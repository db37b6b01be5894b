{{/* Name of the chart, or nameOverride. */}}
{{- define "guardrails.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every object name: fullnameOverride, else <release>-<chart> (or the release when it contains the chart name). */}}
{{- define "guardrails.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "guardrails.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "guardrails.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: guardrails
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "operator"). */}}
{{- define "guardrails.selectorLabels" -}}
app.kubernetes.io/name: {{ include "guardrails.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's objects; same argument as guardrails.selectorLabels. */}}
{{- define "guardrails.componentLabels" -}}
{{ include "guardrails.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Image reference of one component; call with (dict "ctx" $ "image" .Values.operator.image). */}}
{{- define "guardrails.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* ServiceAccount name of the operator pod (operator and agent containers). */}}
{{- define "guardrails.operatorServiceAccount" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (printf "%s-operator" (include "guardrails.fullname" .)) .Values.operator.serviceAccount.name }}
{{- else }}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* ServiceAccount name of the api pods. */}}
{{- define "guardrails.apiServiceAccount" -}}
{{- if .Values.api.serviceAccount.create }}
{{- default (printf "%s-api" (include "guardrails.fullname" .)) .Values.api.serviceAccount.name }}
{{- else }}
{{- required "api.serviceAccount.name is required when api.serviceAccount.create is false" .Values.api.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Lease names used for leader election. */}}
{{- define "guardrails.operatorLease" -}}
{{- printf "%s-operator" (include "guardrails.fullname" .) }}
{{- end }}
{{- define "guardrails.agentLease" -}}
{{- printf "%s-agent" (include "guardrails.fullname" .) }}
{{- end }}

{{/* Secret (name and key) holding the server-wide signing secret, or nothing. */}}
{{- define "guardrails.signingSecretName" -}}
{{- with .Values.webhooks.signingSecret }}
{{- if .existingSecret }}{{ .existingSecret }}{{ else if .value }}{{ include "guardrails.fullname" $ }}-webhook-signing{{ end }}
{{- end }}
{{- end }}

{{/* Secret (name) holding the Redis URL, or nothing. */}}
{{- define "guardrails.redisSecretName" -}}
{{- if .Values.redis.existingSecret }}{{ .Values.redis.existingSecret }}{{ else if .Values.redis.url }}{{ include "guardrails.fullname" . }}-redis-url{{ end }}
{{- end }}

{{/* Key of the Redis URL inside its Secret. */}}
{{- define "guardrails.redisSecretKey" -}}
{{- if .Values.redis.existingSecret }}{{ .Values.redis.existingSecretKey }}{{ else }}redis-url{{ end }}
{{- end }}

{{/* Name of the bundled Redis objects. */}}
{{- define "guardrails.redisName" -}}
{{- printf "%s-redis" (include "guardrails.fullname" .) }}
{{- end }}

{{/* Secret (name) holding the api keys file. */}}
{{- define "guardrails.apiKeysSecretName" -}}
{{- if .Values.api.apiKeys.existingSecret }}{{ .Values.api.apiKeys.existingSecret }}{{ else }}{{ include "guardrails.fullname" . }}-api-keys{{ end }}
{{- end }}

{{/* The environment shared by the agent and the api: allowlist and SSRF guard (docs/configuration.md). */}}
{{- define "guardrails.destinationEnv" -}}
- name: ALLOWED_WEBHOOK_DOMAINS
  value: {{ join "," .Values.webhooks.allowedDomains | quote }}
- name: WEBHOOK_ALLOW_PRIVATE_DESTINATIONS
  value: {{ .Values.webhooks.allowPrivateDestinations | quote }}
- name: WEBHOOK_ALLOWED_CIDRS
  value: {{ join "," .Values.webhooks.allowedCidrs | quote }}
{{- end }}

{{/* Pod fields shared by every pod: pull secrets and the pod security context. */}}
{{- define "guardrails.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Scheduling fields of one component's pods; call with the component's values. */}}
{{- define "guardrails.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/* Refuses values that cannot work together, with a message saying what to change. */}}
{{- define "guardrails.validate" -}}
{{- if gt (len .Values.watchNamespaces) 1 }}
{{- fail "watchNamespaces: the operator and the agent watch one namespace or all of them; list at most one namespace" }}
{{- end }}
{{- if and (gt (int .Values.operator.replicas) 1) (not .Values.operator.leaderElection.enabled) }}
{{- fail "operator.replicas > 1 needs operator.leaderElection.enabled: several active replicas would analyse and deliver the same tasks" }}
{{- end }}
{{- if and (gt (int .Values.webhooks.rateLimitPerMinute) 0) (not (or .Values.redis.url .Values.redis.existingSecret .Values.redis.bundled.enabled)) }}
{{- fail "webhooks.rateLimitPerMinute needs Redis: set redis.url, redis.existingSecret or redis.bundled.enabled" }}
{{- end }}
{{- if and .Values.redis.bundled.enabled (or .Values.redis.url .Values.redis.existingSecret) }}
{{- fail "redis.bundled.enabled conflicts with redis.url / redis.existingSecret: choose one Redis" }}
{{- end }}
{{- end }}

{{/* Egress rule to the Kubernetes API server; call with .Values.networkPolicy.apiServer. */}}
{{- define "guardrails.apiServerEgress" -}}
- ports:
    {{- range .ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with .cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}
