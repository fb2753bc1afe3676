{{/* The release's name, cut to what a Kubernetes name allows. */}}
{{- define "jitflow.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; "component" is server, worker or setup. */}}
{{- define "jitflow.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "jitflow.selectorLabels" . }}
{{- end -}}

{{- define "jitflow.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "jitflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "jitflow.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "jitflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Flags for Temporal that have no environment variable. */}}
{{- define "jitflow.temporalArgs" -}}
{{- if .Values.temporal.tls.enabled }}
- --temporal-tls
{{- with .Values.temporal.tls.serverName }}
- --temporal-tls-server-name
- {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Where Temporal is, and the credential for it (setup, server, worker):
.root is the chart's context, .apiKey the Secret reference of the token. */}}
{{- define "jitflow.temporalEnv" -}}
{{- with .root -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
{{- with .Values.temporal.tls }}
{{- if and .enabled .existingSecret }}
- name: TEMPORAL_TLS_CERT
  value: /etc/jitflow/temporal-tls/{{ .certKey }}
- name: TEMPORAL_TLS_KEY
  value: /etc/jitflow/temporal-tls/{{ .keyKey }}
{{- end }}
{{- if and .enabled .existingSecret .caKey }}
- name: TEMPORAL_TLS_CA
  value: /etc/jitflow/temporal-tls/{{ .caKey }}
{{- end }}
{{- end }}
{{- end }}
{{- with .apiKey }}
{{- if .existingSecret }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "jitflow.temporalMounts" -}}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/jitflow/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "jitflow.temporalVolumes" -}}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{/* What server and worker share: Temporal, the Graph credential, the key list. */}}
{{- define "jitflow.commonEnv" -}}
{{ include "jitflow.temporalEnv" (dict "root" . "apiKey" .Values.temporal.apiKey) }}
- name: AZURE_TENANT_ID
  value: {{ .Values.tenantID | quote }}
{{- with .Values.azure.clientID }}
- name: AZURE_CLIENT_ID
  value: {{ . | quote }}
{{- end }}
- name: JITFLOW_CREDENTIAL
  value: {{ .Values.azure.credential | quote }}
{{- if .Values.azure.clientSecret.existingSecret }}
- name: JITFLOW_CLIENT_SECRET_FILE
  value: /etc/jitflow/azure/client-secret
{{- end }}
- name: JITFLOW_APPROVAL_KEYS_FILE
  value: /etc/jitflow/keys/approval-keys
- name: JITFLOW_BASE_URL
  value: {{ .Values.baseURL | quote }}
{{- end -}}

{{- define "jitflow.commonMounts" -}}
{{ include "jitflow.temporalMounts" . }}
- name: approval-keys
  mountPath: /etc/jitflow/keys
  readOnly: true
{{- if .Values.azure.clientSecret.existingSecret }}
- name: azure-client-secret
  mountPath: /etc/jitflow/azure
  readOnly: true
{{- end }}
{{- end -}}

{{- define "jitflow.commonVolumes" -}}
{{ include "jitflow.temporalVolumes" . }}
- name: approval-keys
  secret:
    secretName: {{ .Values.secrets.approvalKeys.name }}
    defaultMode: 0440
    items:
      - key: {{ .Values.secrets.approvalKeys.key }}
        path: approval-keys
{{- with .Values.azure.clientSecret }}
{{- if .existingSecret }}
- name: azure-client-secret
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: client-secret
{{- end }}
{{- end }}
{{- end -}}

{{/* Scheduling and pod-level settings of server and worker. */}}
{{- define "jitflow.podSpec" -}}
serviceAccountName: {{ include "jitflow.serviceAccountName" .root }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
