{{/* Names, labels and the security settings every podfence pod shares. */}}

{{- define "podfence.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name; at most 40 characters so "<prefix>-node-agent" etc. stay valid. */}}
{{- define "podfence.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "podfence.controller.name" -}}{{ include "podfence.fullname" . }}-controller{{- end -}}
{{- define "podfence.webhook.name" -}}{{ include "podfence.fullname" . }}-webhook{{- end -}}
{{- define "podfence.nodeAgent.name" -}}{{ include "podfence.fullname" . }}-node-agent{{- end -}}
{{/* The Secret holding the webhook's serving certificate (and, self-managed, its CA). */}}
{{- define "podfence.webhook.callerSecret" -}}{{ include "podfence.webhook.name" . }}-caller{{- end -}}
{{- /* The webhook's caller token: the one already installed (kept across upgrades), else a new random one. */}}
{{- define "podfence.webhook.callerToken" -}}
{{- $s := lookup "v1" "Secret" .Release.Namespace (include "podfence.webhook.callerSecret" .) -}}
{{- if and $s $s.data (index $s.data "token") -}}
{{- index $s.data "token" | b64dec -}}
{{- else -}}
{{- randAlphaNum 43 | lower -}}
{{- end -}}
{{- end -}}
{{- define "podfence.webhook.tlsSecret" -}}{{ include "podfence.fullname" . }}-webhook-tls{{- end -}}
{{/* Both webhook configurations share this name (they are different kinds). */}}
{{- define "podfence.webhook.configName" -}}{{ include "podfence.fullname" . }}{{- end -}}
{{- define "podfence.webhook.certificate" -}}{{ include "podfence.fullname" . }}-webhook-serving{{- end -}}
{{/* The namespace label that opts in and names the profile (fixed: the webhook reads this key). */}}
{{- define "podfence.optInLabel" -}}podfence.dev/profile{{- end -}}
{{- define "podfence.admissionParams" -}}{{ include "podfence.fullname" . }}-sandbox-params{{- end -}}
{{- define "podfence.controller.lease" -}}{{ include "podfence.fullname" . }}-controller{{- end -}}

{{- define "podfence.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "podfence.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: podfence
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: include with (dict "ctx" $ "component" "webhook"). */}}
{{- define "podfence.selectorLabels" -}}
app.kubernetes.io/name: {{ include "podfence.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "podfence.componentLabels" -}}
{{ include "podfence.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image reference from {repository, tag, digest}; include with (dict "ctx" $ "image" .Values.image.operator). */}}
{{- define "podfence.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Namespaces the webhooks never touch: the release namespace first, then the configured ones. */}}
{{- define "podfence.excludedNamespaces" -}}
{{- prepend (without .Values.excludedNamespaces .Release.Namespace) .Release.Namespace | uniq | toJson -}}
{{- end -}}

{{/* Pod-level securityContext: Pod Security Standard "restricted". */}}
{{- define "podfence.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.runAsUser }}
runAsGroup: {{ .Values.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level securityContext: restricted, and a read-only root filesystem. */}}
{{- define "podfence.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment every podfence process gets. */}}
{{- define "podfence.commonEnv" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end -}}

{{- define "podfence.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "podfence.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: ops
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: ops
  periodSeconds: 5
  failureThreshold: 2
startupProbe:
  httpGet:
    path: /healthz
    port: ops
  periodSeconds: 2
  failureThreshold: 30
{{- end -}}
