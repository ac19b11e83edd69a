{{/* Release-wide name: the release name when it already says smshub, else <release>-smshub. */}}
{{- define "smshub.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "smshub" .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "smshub.name" -}}
{{- default "smshub" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object; the selector labels are the stable subset. */}}
{{- define "smshub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "smshub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: smshub
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "ingress") */}}
{{- define "smshub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "smshub.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "smshub.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "smshub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- include "smshub.fullname" . -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the chart creates from values (only what has no existingSecret). */}}
{{- define "smshub.chartSecretName" -}}
{{- printf "%s-secrets" (include "smshub.fullname" .) -}}
{{- end -}}

{{/*
Deep merge for the `defaults` + per-service pattern: (list base override) -> YAML. Unlike sprig's
mergeOverwrite, a `false`, 0 or "" in the override does replace the base value (mergo skips "empty"
values, which would make `autoscaling: {enabled: false}` a no-op).
*/}}
{{- define "smshub.merge" -}}
{{- $out := deepCopy (index . 0) -}}
{{- range $k, $v := (index . 1) -}}
{{- if and (kindIs "map" $v) (kindIs "map" (get $out $k)) -}}
{{- $_ := set $out $k (include "smshub.merge" (list (get $out $k) $v) | fromYaml) -}}
{{- else -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
Where a secret value comes from: (dict "root" $ "what" "..." "existing" name "key" key "value" v "chartKey" K)
-> "name: ...\nkey: ..." for a secretKeyRef. Fails with a sentence an SRE can act on when neither is set.
*/}}
{{- define "smshub.secretRef" -}}
{{- if .existing -}}
name: {{ .existing }}
key: {{ .key }}
{{- else if .value -}}
name: {{ include "smshub.chartSecretName" .root }}
key: {{ .chartKey }}
{{- else -}}
{{- fail (printf "%s: set an existing Secret or a value (see values.yaml)" .what) -}}
{{- end -}}
{{- end -}}

{{- define "smshub.databaseRef" -}}
{{- include "smshub.secretRef" (dict "root" . "what" "postgres.existingSecret or postgres.url (DATABASE_URL)" "existing" .Values.postgres.existingSecret "key" .Values.postgres.existingSecretKey "value" .Values.postgres.url "chartKey" "DATABASE_URL") -}}
{{- end -}}

{{- define "smshub.kafkaPasswordRef" -}}
{{- include "smshub.secretRef" (dict "root" . "what" "kafka.sasl.existingSecret or kafka.sasl.password (SASL is enabled by kafka.sasl.mechanism)" "existing" .Values.kafka.sasl.existingSecret "key" .Values.kafka.sasl.existingSecretKey "value" .Values.kafka.sasl.password "chartKey" "KAFKA_SASL_PASSWORD") -}}
{{- end -}}

{{/* Kafka CA: "name: ...\nkey: ..." or "" when the system CAs are trusted. */}}
{{- define "smshub.kafkaCaRef" -}}
{{- if .Values.kafka.tls.enabled -}}
{{- if .Values.kafka.tls.caSecret.name -}}
name: {{ .Values.kafka.tls.caSecret.name }}
key: {{ .Values.kafka.tls.caSecret.key }}
{{- else if .Values.kafka.tls.ca -}}
name: {{ include "smshub.chartSecretName" . }}
key: KAFKA_CA
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "smshub.smppTlsSecretName" -}}
{{- if .Values.smppTls.existingSecret -}}
{{- .Values.smppTls.existingSecret -}}
{{- else if and .Values.smppTls.cert .Values.smppTls.key -}}
{{- printf "%s-smpp-tls" (include "smshub.fullname" .) -}}
{{- else -}}
{{- fail "smppTls is enabled: set smppTls.existingSecret (a kubernetes.io/tls Secret) or smppTls.cert and smppTls.key, or set smppTls.enabled=false" -}}
{{- end -}}
{{- end -}}

{{/* The kubernetes.io/tls Secret of the gRPC servers: existing, cert-manager's, or the chart's own. */}}
{{- define "smshub.grpcTlsSecretName" -}}
{{- $t := .Values.grpcTls -}}
{{- if $t.certManager.enabled -}}
{{- if not $t.certManager.issuerRef.name -}}
{{- fail "grpcTls.certManager.enabled needs grpcTls.certManager.issuerRef.name (an Issuer or ClusterIssuer of cert-manager)" -}}
{{- end -}}
{{- default (printf "%s-grpc-tls" (include "smshub.fullname" .)) $t.existingSecret -}}
{{- else if $t.existingSecret -}}
{{- $t.existingSecret -}}
{{- else if and $t.cert $t.key -}}
{{- printf "%s-grpc-tls" (include "smshub.fullname" .) -}}
{{- else -}}
{{- fail "grpcTls is enabled: set grpcTls.existingSecret (a kubernetes.io/tls Secret), grpcTls.cert and grpcTls.key, or grpcTls.certManager, or set grpcTls.enabled=false (plaintext gRPC)" -}}
{{- end -}}
{{- end -}}

{{/* Non-secret Kafka variables, as "NAME: value" lines. */}}
{{- define "smshub.kafkaEnv" -}}
KAFKA_BROKERS: {{ join "," .Values.kafka.brokers | quote }}
KAFKA_SSL: {{ .Values.kafka.tls.enabled | toString | quote }}
{{- if .Values.kafka.namespace }}
KAFKA_NAMESPACE: {{ .Values.kafka.namespace | quote }}
{{- end }}
{{- if include "smshub.kafkaCaRef" . }}
KAFKA_SSL_CA_FILE: /etc/smshub/kafka-ca/ca.crt
{{- end }}
{{- if .Values.kafka.sasl.mechanism }}
KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
KAFKA_SASL_USERNAME: {{ required "kafka.sasl.username is required when kafka.sasl.mechanism is set" .Values.kafka.sasl.username | quote }}
{{- end }}
{{- end -}}

{{/* Secret Kafka/Postgres env entries (container env list items) for a process. */}}
{{- define "smshub.commonSecretEnv" -}}
{{- $root := .root -}}
{{- if .database }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- include "smshub.databaseRef" $root | nindent 6 }}
{{- end }}
{{- if and .kafka $root.Values.kafka.sasl.mechanism }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- include "smshub.kafkaPasswordRef" $root | nindent 6 }}
{{- end }}
{{- end -}}
