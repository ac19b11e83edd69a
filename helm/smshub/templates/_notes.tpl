{{/* The text of NOTES.txt, as a named template so CI can render it without a cluster (helm template skips NOTES.txt). */}}
{{- define "smshub.notes" -}}
{{- $fullname := include "smshub.fullname" . -}}
{{- $ing := include "smshub.merge" (list .Values.defaults (default dict .Values.services.ingress)) | fromYaml -}}
smshub {{ .Chart.AppVersion }} is installed as release "{{ .Release.Name }}" in namespace "{{ .Release.Namespace }}".
{{- if .Values.setup.enabled }}
The setup job (migrations + Kafka topics) ran before the services started{{ if not .Values.setup.hook }} (as a plain Job: check `kubectl -n {{ .Release.Namespace }} get job {{ $fullname }}-setup`){{ end }}.
{{- end }}

1. Wait for every stage to be ready:

   kubectl -n {{ .Release.Namespace }} get deploy -l app.kubernetes.io/instance={{ .Release.Name }}

{{- if $ing.enabled }}
{{- $ext := $ing.externalService }}
{{- $svcName := printf "%s-ingress-external" $fullname | trunc 63 | trimSuffix "-" }}

2. Where customers bind (SMPP):
{{- if eq $ext.type "LoadBalancer" }}

   export SMPP_HOST=$(kubectl -n {{ .Release.Namespace }} get svc {{ $svcName }} -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}')
   SMPP (plain TCP):  $SMPP_HOST:{{ $ing.ports.smpp.port }}
{{- if .Values.smppTls.enabled }}
   SMPP over TLS:     $SMPP_HOST:{{ (index $ing.ports "smpp-tls").port }}   (certificate from Secret {{ include "smshub.smppTlsSecretName" . }})
{{- end }}
   The address can take a minute to appear: kubectl -n {{ .Release.Namespace }} get svc {{ $svcName }} -w
{{- else }}

   export SMPP_HOST=<the address of any node>
   export SMPP_PORT=$(kubectl -n {{ .Release.Namespace }} get svc {{ $svcName }} -o jsonpath='{.spec.ports[?(@.name=="smpp")].nodePort}')
   SMPP (plain TCP):  $SMPP_HOST:$SMPP_PORT
{{- if .Values.smppTls.enabled }}
   export SMPP_TLS_PORT=$(kubectl -n {{ .Release.Namespace }} get svc {{ $svcName }} -o jsonpath='{.spec.ports[?(@.name=="smpp-tls")].nodePort}')
   SMPP over TLS:     $SMPP_HOST:$SMPP_TLS_PORT   (certificate from Secret {{ include "smshub.smppTlsSecretName" . }})
{{- end }}
{{- end }}
   Each account binds with the system_id and password created through the admin API.
{{- if eq $ext.externalTrafficPolicy "Local" }}
   externalTrafficPolicy is Local: customers' source IPs reach ingress unchanged (IP allow-lists work).
{{- end }}
{{- end }}

{{- $api := include "smshub.merge" (list .Values.defaults (default dict (index .Values.services "http-api"))) | fromYaml }}
{{- if $api.enabled }}

   HTTP API (API keys from `hubctl api-keys create <account-id>`):
{{- if $api.ingress.enabled }}
   {{ if $api.ingress.tlsSecret }}https{{ else }}http{{ end }}://{{ $api.ingress.host }}/v1/openapi.json   (Ingress {{ $fullname }}-http-api)
{{- end }}
{{- if $api.externalService.enabled }}
   kubectl -n {{ .Release.Namespace }} get svc {{ $fullname }}-http-api-external   (port {{ $api.ports.api.port }})
{{- end }}
{{- if not (or $api.ingress.enabled $api.externalService.enabled) }}
   Not published yet: set services.http-api.ingress (host, tlsSecret) or services.http-api.externalService.enabled.
   In the cluster: http://{{ $fullname }}-http-api.{{ .Release.Namespace }}.svc:{{ $api.ports.api.port }}
{{- end }}
{{- end }}

3. Admin API (gRPC, bearer token from the ADMIN_TOKEN Secret), from pods of this namespace:

   {{ $fullname }}-admin.{{ .Release.Namespace }}.svc:50051
{{- if .Values.grpcTls.enabled }}
   gRPC speaks TLS only (certificate from Secret {{ include "smshub.grpcTlsSecretName" . }}): hubctl needs
   --ca <the issuing CA's PEM> (or HUBCTL_CA), and the address must be a name the certificate holds.
{{- else }}
   gRPC is plaintext (grpcTls.enabled=false): keep it inside the cluster.
{{- end }}
   From your machine: kubectl -n {{ .Release.Namespace }} port-forward svc/{{ $fullname }}-admin 50051:50051

4. Metrics, health and traces:

   Every pod serves /metrics, /livez and /readyz on port {{ .Values.defaults.httpPort }} (Service port "http").
{{- if .Values.serviceMonitor.enabled }}
   ServiceMonitors {{ $fullname }}-<service> are installed: Prometheus scrapes every {{ .Values.serviceMonitor.interval }}.
{{- else }}
   No ServiceMonitor (serviceMonitor.enabled=false): point your Prometheus at the "http" port of the
   Services {{ $fullname }}-<service>, or enable the ServiceMonitors.
{{- end }}
{{- if .Values.telemetry.otlpEndpoint }}
   Traces and OTLP metrics go to {{ .Values.telemetry.otlpEndpoint }}.
{{- else }}
   Tracing export is off: set telemetry.otlpEndpoint to your OpenTelemetry collector (http/protobuf).
{{- end }}
   Quick look: kubectl -n {{ .Release.Namespace }} port-forward svc/{{ $fullname }}-ingress 9400:9400 && curl localhost:9400/metrics

Guide (sizing, scaling, upgrades, backups, alerts): docs/deploy.md in the smshub repository.

{{- end -}}
