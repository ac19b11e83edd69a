#!/usr/bin/env python3
"""Render tests for the smshub Helm chart, run by deploy/ci/check-helm.sh.

For the default values and every ci/*-values.yaml: `helm lint`, `helm template`, then assertions on the
rendered objects that an SRE would notice if broken (probes, resources, non-root, secrets kept out of
ConfigMaps, SMPP ports exposed, references that resolve, every port listening on listenAddress, gRPC TLS on
the four API servers, the http-api's call to dlr verified against the cluster's CA, its Ingress, a
NetworkPolicy per workload admitting each port only from where it is needed).
Then values that must be refused (including `replicas` an autoscaler would ignore).

Usage: HELM=/path/to/helm helm_render_test.py <chart-dir>. Needs PyYAML. Exit 1 on any failure.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HELM = os.environ.get("HELM", "helm")
COMPOSE_ALERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compose", "alerts.yml")
COMPOSE_DASHBOARDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compose", "grafana", "dashboards")
# The alerts issue 20 asks every install to ship: delivery ratio per connector, consumer lag, dead letters,
# MISSING_RATE, bind failures, balance exhaustion.
REQUIRED_ALERTS = ["SmshubDeliveryRatioDropped", "SmshubConsumerLagHigh", "SmshubDeadLetterGrowing",
                   "SmshubUnbilledMessages", "SmshubConnectorUnbound", "SmshubBalanceExhausted"]
SECRET_LIKE = re.compile(r"password|token|secret|database_url", re.I)
failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
    return cond


def helm(*args):
    return subprocess.run([HELM, *args], capture_output=True, text=True)


def render(chart, values_file):
    args = ["template", "rel", chart, "--namespace", "smshub"]
    if values_file:
        args += ["-f", values_file]
    res = helm(*args)
    if res.returncode != 0:
        return None, res.stderr.strip()
    return [d for d in yaml.safe_load_all(res.stdout) if d], None


def values_of(chart, values_file):
    with open(os.path.join(chart, "values.yaml")) as f:
        base = yaml.safe_load(f)
    if values_file:
        with open(values_file) as f:
            over = yaml.safe_load(f) or {}
        base = merge(base, over)
    return base


def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def pod_spec(obj):
    if obj["kind"] in ("Deployment", "Job"):
        return obj["spec"]["template"]["spec"]
    return None


def check_render(name, docs, values):
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    deployments = by_kind.get("Deployment", [])
    check(deployments, f"{name}: no Deployment rendered")

    # The alert rules: a PrometheusRule exactly when asked for, holding every rule of the compose file
    # (the MISSING_RATE alert included), with the labels the operator's ruleSelector needs.
    rules = by_kind.get("PrometheusRule", [])
    if values.get("prometheusRule", {}).get("enabled"):
        if check(len(rules) == 1, f"{name}: prometheusRule.enabled but {len(rules)} PrometheusRule objects"):
            with open(COMPOSE_ALERTS) as f:
                want = yaml.safe_load(f)
            check(rules[0]["spec"] == want, f"{name}: the PrometheusRule's groups differ from deploy/compose/alerts.yml")
            alerts = {r.get("alert") for g in rules[0]["spec"].get("groups", []) for r in g.get("rules", [])}
            for a in REQUIRED_ALERTS:
                check(a in alerts, f"{name}: the PrometheusRule has no {a} alert")
            for k, v in values["prometheusRule"].get("labels", {}).items():
                check(rules[0]["metadata"]["labels"].get(k) == v, f"{name}: PrometheusRule lacks label {k}={v}")
    else:
        check(not rules, f"{name}: a PrometheusRule rendered although prometheusRule.enabled is false")

    # The dashboards: one ConfigMap per compose dashboard exactly when asked for, labelled for the Grafana
    # sidecar, holding the compose file's JSON unchanged.
    gd = values.get("grafanaDashboards", {})
    boards = [c for c in by_kind.get("ConfigMap", []) if gd.get("label", "grafana_dashboard") in c["metadata"].get("labels", {})]
    files = sorted(f for f in os.listdir(COMPOSE_DASHBOARDS) if f.endswith(".json"))
    if gd.get("enabled"):
        if check(len(boards) == len(files), f"{name}: grafanaDashboards.enabled but {len(boards)} dashboard ConfigMaps for {len(files)} dashboards"):
            for f in files:
                cm = [c for c in boards if f in c.get("data", {})]
                if check(len(cm) == 1, f"{name}: no dashboard ConfigMap holds {f}"):
                    check(cm[0]["metadata"]["labels"][gd["label"]] == gd["labelValue"],
                          f"{name}: dashboard {f} is not labelled {gd['label']}={gd['labelValue']!r} for the Grafana sidecar")
                    with open(os.path.join(COMPOSE_DASHBOARDS, f)) as g:
                        check(json.loads(cm[0]["data"][f]) == json.load(g), f"{name}: dashboard {f} differs from compose's")
                    if gd.get("folder"):
                        check(cm[0]["metadata"].get("annotations", {}).get(gd["folderAnnotation"]) == gd["folder"],
                              f"{name}: dashboard {f} lacks the folder annotation")
    else:
        check(not boards, f"{name}: dashboard ConfigMaps rendered although grafanaDashboards.enabled is false")

    # Which Secrets/ConfigMaps a pod may refer to: rendered ones, plus the existing Secrets the values name.
    existing = {values["postgres"].get("existingSecret"), values["kafka"]["sasl"].get("existingSecret"),
                values["kafka"]["tls"]["caSecret"].get("name"), values["smppTls"].get("existingSecret"),
                values.get("grpcTls", {}).get("existingSecret")}
    existing |= {s.get("existingSecret") for s in values.get("secrets", {}).values()}
    existing.discard("")
    existing.discard(None)

    for obj in deployments + by_kind.get("Job", []):
        kind, oname = obj["kind"], obj["metadata"]["name"]
        spec = pod_spec(obj)
        pod_sc = spec.get("securityContext") or {}
        for c in spec["containers"]:
            where = f"{name}: {kind} {oname} container {c['name']}"
            sc = c.get("securityContext") or {}
            if kind == "Deployment":
                for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
                    p = c.get(probe)
                    if check(p, f"{where} has no {probe}"):
                        check(p.get("httpGet", {}).get("path") == path, f"{where} {probe} does not GET {path}")
                port_names = {p["name"] for p in c.get("ports", [])}
                check("http" in port_names, f"{where} has no port named http (probes and metrics use it)")
            r = c.get("resources") or {}
            for part in ("requests", "limits"):
                for res in ("cpu", "memory"):
                    check(res in (r.get(part) or {}), f"{where} has no resources.{part}.{res}")
            check(sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, f"{where} may run as root")
            check(sc.get("readOnlyRootFilesystem") is True, f"{where} root filesystem is writable")
            check("ALL" in (sc.get("capabilities") or {}).get("drop", []), f"{where} does not drop ALL capabilities")
            check(sc.get("allowPrivilegeEscalation") is False, f"{where} allows privilege escalation")
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    check(("Secret", ref["name"]) in names or ref["name"] in existing,
                          f"{where} env {e['name']} refers to Secret {ref['name']}, which is neither rendered nor named in values")
                check("value" not in e or not SECRET_LIKE.search(e["name"]),
                      f"{where} env {e['name']} carries a secret as a plain value")
            for ef in c.get("envFrom", []):
                if "configMapRef" in ef:
                    check(("ConfigMap", ef["configMapRef"]["name"]) in names,
                          f"{where} envFrom ConfigMap {ef['configMapRef']['name']} is not rendered")
        if kind == "Job":
            ann = obj["metadata"].get("annotations") or {}
            if values["setup"].get("hook", True):
                check(ann.get("helm.sh/hook") == "pre-install,pre-upgrade", f"{name}: Job {oname} is not a pre-install/pre-upgrade hook")
                check("hook-succeeded" in ann.get("helm.sh/hook-delete-policy", ""), f"{name}: Job {oname} has no hook-delete-policy")
            args = spec["containers"][0].get("args", [])
            check(args == ["tools/ops/dist/main.js", "setup"], f"{name}: Job {oname} does not run the ops setup command")

    for cm in by_kind.get("ConfigMap", []):
        for k, v in (cm.get("data") or {}).items():
            # SMPP_TLS_KEY_FILE is a path to the mounted Secret, not the key.
            check(not SECRET_LIKE.search(k) or k.endswith("_FILE"),
                  f"{name}: ConfigMap {cm['metadata']['name']} has secret-looking key {k}")
            check("ci-only" not in str(v), f"{name}: ConfigMap {cm['metadata']['name']} key {k} holds a value given as a secret")

    # Services select pods that exist.
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments]
    for svc in by_kind.get("Service", []):
        sel = svc["spec"].get("selector") or {}
        check(any(all(l.get(k) == v for k, v in sel.items()) for l in pod_labels),
              f"{name}: Service {svc['metadata']['name']} selects no Deployment's pods")

    # Customers reach SMPP (2775) and, with smppTls, SMPP over TLS (3550) from outside the cluster.
    ext = [s for s in by_kind.get("Service", []) if s["metadata"]["name"] == "rel-smshub-ingress-external"]
    if check(len(ext) == 1, f"{name}: no external Service for ingress"):
        s = ext[0]["spec"]
        ports = {p["port"] for p in s["ports"]}
        check(2775 in ports, f"{name}: ingress external Service does not expose SMPP 2775")
        if values["smppTls"]["enabled"]:
            check(3550 in ports, f"{name}: ingress external Service does not expose SMPP-TLS 3550")
        else:
            check(3550 not in ports, f"{name}: SMPP-TLS 3550 exposed although smppTls is disabled")
        want_type = merge(values["defaults"]["externalService"], values["services"]["ingress"].get("externalService", {}))["type"]
        check(s["type"] == want_type, f"{name}: ingress external Service is {s['type']}, values ask for {want_type}")
    ing = [d for d in deployments if d["metadata"]["name"] == "rel-smshub-ingress"]
    if check(len(ing) == 1, f"{name}: no ingress Deployment"):
        env = {e["name"]: e for e in ing[0]["spec"]["template"]["spec"]["containers"][0].get("env", [])}
        check(env.get("INGRESS_REPLICA_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name",
              f"{name}: ingress INGRESS_REPLICA_ID is not the pod name")
    # Variables a process refuses to start without (its config.ts), from Secrets.
    required = {"rel-smshub-admin": ["DATABASE_URL", "ADMIN_TOKEN", "CONNECTOR_SECRET_KEY"],
                "rel-smshub-egress": ["DATABASE_URL", "CONNECTOR_SECRET_KEY"],
                # The bootstrap admin token works on every gRPC API (libs/auth), not only on admin.
                "rel-smshub-dlr": ["DATABASE_URL", "ADMIN_TOKEN"],
                "rel-smshub-rating": ["DATABASE_URL", "ADMIN_TOKEN"],
                "rel-smshub-webhooks": ["DATABASE_URL", "ADMIN_TOKEN", "WEBHOOK_SECRET_KEY"],
                "rel-smshub-stats": ["DATABASE_URL", "ADMIN_TOKEN"],
                "rel-smshub-routing": ["DATABASE_URL", "ADMIN_TOKEN"],
                "rel-smshub-http-api": ["DATABASE_URL"]}
    for d in deployments:
        want = required.get(d["metadata"]["name"])
        if want:
            have = {e["name"] for e in d["spec"]["template"]["spec"]["containers"][0].get("env", [])}
            check(set(want) <= have, f"{name}: {d['metadata']['name']} lacks {sorted(set(want) - have)} (it would not start)")

    # Exactly one scaler per Deployment, or fixed replicas.
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind.get("HorizontalPodAutoscaler", [])}
    keda = {s["spec"]["scaleTargetRef"]["name"] for s in by_kind.get("ScaledObject", [])}
    check(not (scaled & keda), f"{name}: Deployments with both an HPA and a KEDA ScaledObject: {sorted(scaled & keda)}")
    for d in deployments:
        n = d["metadata"]["name"]
        check((n in scaled or n in keda) != ("replicas" in d["spec"]),
              f"{name}: Deployment {n} must set replicas exactly when no autoscaler manages it")
    # No replica count may decide a limit (issue 16): the chart never sets EGRESS_REPLICAS, so the
    # autoscalers of ingress and egress are safe, and with the default values both are on.
    check("EGRESS_REPLICAS" not in yaml.safe_dump_all(docs),
          f"{name}: EGRESS_REPLICAS is rendered (connector TPS follows the live egress replicas)")
    for svc in ("ingress", "egress"):
        w = merge(values["defaults"], values["services"].get(svc) or {})
        if w.get("enabled", True) and (w["autoscaling"]["enabled"] or (w["keda"]["enabled"] and w.get("consumer"))):
            check(f"rel-smshub-{svc}" in scaled | keda, f"{name}: {svc} should be autoscaled but is not")
    for so in by_kind.get("ScaledObject", []):
        check(so["spec"]["maxReplicaCount"] <= 6, f"{name}: ScaledObject {so['metadata']['name']} scales beyond 6 partitions")
        for t in so["spec"]["triggers"]:
            check(t["metadata"].get("consumerGroup", "").startswith("smshub-"), f"{name}: KEDA trigger without an smshub-<service> group")
        auth = so["spec"]["triggers"][0].get("authenticationRef")
        if auth:
            check(("TriggerAuthentication", auth["name"]) in names, f"{name}: TriggerAuthentication {auth['name']} is not rendered")
    admin_cfg = merge(values["defaults"], values["services"].get("admin") or {})
    admin_hpa = admin_cfg["autoscaling"]["enabled"] and not (admin_cfg["keda"]["enabled"] and admin_cfg.get("consumer"))
    check(("rel-smshub-admin" in scaled) == bool(admin_hpa), f"{name}: admin's autoscaling setting was not honoured")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        check(("Deployment", pdb["metadata"]["name"]) in names, f"{name}: PDB {pdb['metadata']['name']} has no Deployment")
    if values.get("serviceMonitor", {}).get("enabled"):
        check(len(by_kind.get("ServiceMonitor", [])) == len(deployments), f"{name}: not one ServiceMonitor per Deployment")
    else:
        check(not by_kind.get("ServiceMonitor"), f"{name}: ServiceMonitor rendered although disabled")
    check_listeners(name, by_kind, names, values, existing)
    check_http_api(name, by_kind, values)
    check_console(name, by_kind, values)
    sim = values["services"].get("smsc-simulator") or {}
    check(("Deployment", "rel-smshub-smsc-simulator") in names if sim.get("enabled") else ("Deployment", "rel-smshub-smsc-simulator") not in names,
          f"{name}: smsc-simulator Deployment presence does not follow services.smsc-simulator.enabled")
    return len(docs)


def workload_values(values, service):
    return merge(values["defaults"], values["services"].get(service) or {})


def check_listeners(name, by_kind, names, values, existing):
    """Listen addresses, gRPC TLS and the NetworkPolicy of every workload (issue 15, items 3 and 4)."""
    listen = values.get("listenAddress")
    grpc_tls = values.get("grpcTls", {})
    np_values = values.get("networkPolicy", {})
    configmaps = {c["metadata"]["name"]: c.get("data") or {} for c in by_kind.get("ConfigMap", [])}
    policies = {p["metadata"]["name"]: p for p in by_kind.get("NetworkPolicy", [])}
    certs = by_kind.get("Certificate", [])
    grpc_services = []
    for d in by_kind.get("Deployment", []):
        oname = d["metadata"]["name"]
        service = d["metadata"]["labels"]["app.kubernetes.io/component"]
        w = workload_values(values, service)
        env = configmaps.get(oname, {})
        # The processes default to 127.0.0.1; in a pod every port must listen on listenAddress.
        check(env.get("HTTP_HOST") == listen, f"{name}: {oname} HTTP_HOST is {env.get('HTTP_HOST')!r}, not listenAddress {listen!r}")
        for pname, p in (w.get("ports") or {}).items():
            if p.get("tls") and not values["smppTls"]["enabled"]:
                continue
            host_vars = {"GRPC_PORT": "GRPC_HOST", "SMPP_PORT": "SMPP_HOST", "SIM_SMPP_PORT": "SIM_HOST", "HTTP_API_PORT": "HTTP_API_HOST"}
            if p.get("env") in host_vars:
                host_var = host_vars[p["env"]]
                check(env.get(host_var) == listen, f"{name}: {oname} port {pname} listens on {env.get(host_var)!r} ({host_var}), not {listen!r}")
        spec = d["spec"]["template"]["spec"]
        c = spec["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        has_grpc = "grpc" in ports
        if has_grpc:
            grpc_services.append(oname)
        # gRPC TLS: every gRPC server gets the certificate when grpcTls is on, none when it is off.
        tls_on = bool(grpc_tls.get("enabled")) and has_grpc
        check(("GRPC_TLS_CERT_FILE" in env) == tls_on and ("GRPC_TLS_KEY_FILE" in env) == tls_on,
              f"{name}: {oname} GRPC_TLS_* {'missing' if tls_on else 'set'} (grpcTls.enabled={grpc_tls.get('enabled')}, gRPC port: {has_grpc})")
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        if tls_on:
            if check("grpc-tls" in vols and mounts.get("grpc-tls") == "/etc/smshub/grpc-tls", f"{name}: {oname} does not mount the gRPC certificate"):
                secret = vols["grpc-tls"]["secret"]["secretName"]
                from_cert_manager = any(cert["spec"]["secretName"] == secret for cert in certs)
                check(("Secret", secret) in names or secret in existing or from_cert_manager,
                      f"{name}: {oname} mounts gRPC TLS Secret {secret}, which is neither rendered, named in values, nor written by a Certificate")
                check(env.get("GRPC_TLS_CERT_FILE", "").startswith("/etc/smshub/grpc-tls/"), f"{name}: {oname} GRPC_TLS_CERT_FILE is not the mounted file")

        # NetworkPolicy: every port admitted only from where it is needed.
        if not np_values.get("enabled", True):
            check(oname not in policies, f"{name}: NetworkPolicy {oname} rendered although disabled")
            continue
        pol = policies.get(oname)
        if not check(pol is not None, f"{name}: no NetworkPolicy for {oname}"):
            continue
        pspec = pol["spec"]
        check(pspec["podSelector"]["matchLabels"] == d["spec"]["selector"]["matchLabels"], f"{name}: NetworkPolicy {oname} selects other pods than its Deployment")
        check(pspec.get("policyTypes") == ["Ingress"], f"{name}: NetworkPolicy {oname} is not an ingress policy")
        rules_for = {}
        for rule in pspec.get("ingress", []):
            for p in rule.get("ports", []):
                rules_for.setdefault(p["port"], []).append(rule.get("from"))
        external = {pn for pn, p in (w.get("ports") or {}).items() if p.get("external")}
        for pname in ports:
            peers = rules_for.get(pname, [])
            if pname == "http":
                want = ([{"namespaceSelector": np_values["metricsNamespaceSelector"]}] if isinstance(np_values.get("metricsNamespaceSelector"), dict) else []) + (np_values.get("httpFrom") or [])
                if want:
                    check(peers == [want], f"{name}: NetworkPolicy {oname} admits http from {peers}, expected the monitoring namespace and httpFrom {want}")
                else:
                    check(peers == [], f"{name}: NetworkPolicy {oname} admits http although no peer is configured")
            elif pname in external:
                want = np_values.get("externalFrom") or None
                check(peers == [want], f"{name}: NetworkPolicy {oname} admits external port {pname} from {peers}, expected {want or 'anyone'}")
            else:
                want = [{"podSelector": {}}] + (np_values.get("grpcFrom") or [])
                check(peers == [want], f"{name}: NetworkPolicy {oname} admits internal port {pname} from {peers}, expected the release's namespace and grpcFrom")
            # Only SMPP may be open to anyone.
            check(pname in external or None not in peers, f"{name}: NetworkPolicy {oname} admits {pname} from anyone")
        check(set(rules_for) <= set(ports), f"{name}: NetworkPolicy {oname} names ports the pod does not have: {sorted(set(rules_for) - set(ports))}")
        # The kubelet's probes use the http port (admitted from the node by the CNI).
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if c.get(probe):
                check(c[probe]["httpGet"]["port"] == "http", f"{name}: {oname} {probe} is not on the http port")

    # gRPC is on the API servers: exactly the services whose values declare a grpc port, which include
    # admin, dlr, rating, webhooks, stats and routing (RoutingService on every replica).
    declared = sorted(f"rel-smshub-{n}" for n, v in values["services"].items() if "grpc" in (v or {}).get("ports", {}))
    check(sorted(grpc_services) == declared, f"{name}: gRPC ports on {sorted(grpc_services)}, expected {declared}")
    api = ["rel-smshub-admin", "rel-smshub-dlr", "rel-smshub-rating", "rel-smshub-stats", "rel-smshub-webhooks",
           "rel-smshub-routing"]
    check(set(api) <= set(grpc_services), f"{name}: gRPC ports on {sorted(grpc_services)}, expected at least {api}")
    cm = grpc_tls.get("certManager", {})
    if grpc_tls.get("enabled") and cm.get("enabled"):
        if check(len(certs) == 1, f"{name}: grpcTls.certManager is on but {len(certs)} Certificates rendered"):
            dns = set(certs[0]["spec"]["dnsNames"])
            for svc in grpc_services:
                check({svc, f"{svc}.smshub.svc"} <= dns, f"{name}: the gRPC Certificate does not name Service {svc}")
            check(certs[0]["spec"]["issuerRef"] == {"group": "cert-manager.io", **cm["issuerRef"]} or certs[0]["spec"]["issuerRef"] == cm["issuerRef"],
                  f"{name}: the gRPC Certificate does not use grpcTls.certManager.issuerRef")
    else:
        check(not certs, f"{name}: a Certificate rendered although grpcTls.certManager is off")


def check_http_api(name, by_kind, values):
    """The customer HTTP API (issue 18): its port open to customers, dlr's gRPC verified, its Ingress."""
    w = workload_values(values, "http-api")
    if not w.get("enabled", True):
        return
    deps = [d for d in by_kind.get("Deployment", []) if d["metadata"]["name"] == "rel-smshub-http-api"]
    if not check(len(deps) == 1, f"{name}: no http-api Deployment"):
        return
    spec = deps[0]["spec"]["template"]["spec"]
    c = spec["containers"][0]
    check(c.get("args") == ["services/http-api/dist/main.js"], f"{name}: http-api does not run services/http-api/dist/main.js")
    check({"name": "api", "containerPort": 8080, "protocol": "TCP"} in c.get("ports", []), f"{name}: http-api has no api port 8080")
    env = next((cm.get("data") or {} for cm in by_kind.get("ConfigMap", []) if cm["metadata"]["name"] == "rel-smshub-http-api"), {})
    check(env.get("HTTP_API_PORT") == "8080" and env.get("HTTP_API_HOST") == values["listenAddress"],
          f"{name}: http-api listens on {env.get('HTTP_API_HOST')}:{env.get('HTTP_API_PORT')}, not listenAddress:8080")
    replica = next((e for e in c.get("env", []) if e["name"] == "HTTP_API_REPLICA_ID"), {})
    check(replica.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name", f"{name}: HTTP_API_REPLICA_ID is not the pod name")
    # GET /v1/messages reads dlr's MessageService: its Service address, TLS exactly when dlr has it, and
    # then verified against the gRPC Secret's CA only (grpc-js's roots file), never with the private key.
    check(env.get("DLR_GRPC_ADDRESS") == "rel-smshub-dlr:50052", f"{name}: http-api DLR_GRPC_ADDRESS is {env.get('DLR_GRPC_ADDRESS')!r}")
    tls = bool(values["grpcTls"]["enabled"]) and workload_values(values, "dlr").get("grpcTls", False)
    check(env.get("DLR_GRPC_TLS") == ("true" if tls else "false"), f"{name}: http-api DLR_GRPC_TLS is {env.get('DLR_GRPC_TLS')!r}, dlr's gRPC TLS is {tls}")
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    check("grpc-tls" not in vols, f"{name}: http-api mounts the gRPC server certificate and key (it is only a client)")
    if tls:
        ca = vols.get("grpc-ca", {}).get("secret", {})
        check(ca.get("items") == [{"key": values["grpcTls"]["caKey"], "path": "ca.crt"}],
              f"{name}: http-api's CA volume is {ca.get('items')}, expected only grpcTls.caKey")
        check(mounts.get("grpc-ca") == "/etc/smshub/grpc-ca", f"{name}: http-api does not mount the gRPC CA")
        check(env.get("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH") == "/etc/smshub/grpc-ca/ca.crt",
              f"{name}: http-api does not verify dlr against the mounted CA (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH)")
        dlr_tls = [d for d in by_kind.get("Deployment", []) if d["metadata"]["name"] == "rel-smshub-dlr"]
        dlr_secret = {v["name"]: v for v in dlr_tls[0]["spec"]["template"]["spec"]["volumes"]}["grpc-tls"]["secret"]["secretName"] if dlr_tls else None
        check(ca.get("secretName") == dlr_secret, f"{name}: http-api verifies with Secret {ca.get('secretName')}, dlr serves from {dlr_secret}")
    else:
        check("grpc-ca" not in vols and "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH" not in env, f"{name}: http-api mounts a gRPC CA although dlr has no TLS")
    # The API port is for customers: admitted from anyone (or externalFrom), like SMPP; metrics as everywhere.
    pol = next((p for p in by_kind.get("NetworkPolicy", []) if p["metadata"]["name"] == "rel-smshub-http-api"), None)
    if values["networkPolicy"]["enabled"] and check(pol is not None, f"{name}: no NetworkPolicy for http-api"):
        api_rules = [r for r in pol["spec"]["ingress"] if {"port": "api", "protocol": "TCP"} in r.get("ports", [])]
        want = values["networkPolicy"].get("externalFrom") or None
        check(len(api_rules) == 1 and api_rules[0].get("from") == want,
              f"{name}: http-api's NetworkPolicy admits the api port by {api_rules}, expected from {want or 'anyone'}")
    # Exposure: the Ingress when enabled (host, TLS secret, class, to the api port of its Service) and the
    # external LoadBalancer only when asked for.
    ing_values = w["ingress"]
    ingresses = by_kind.get("Ingress", [])
    if ing_values.get("enabled"):
        if check(len(ingresses) == 1, f"{name}: http-api ingress enabled but {len(ingresses)} Ingress objects"):
            s = ingresses[0]["spec"]
            rule = s["rules"][0]
            check(rule["host"] == ing_values["host"], f"{name}: Ingress host {rule['host']}, values {ing_values['host']}")
            backend = rule["http"]["paths"][0]["backend"]["service"]
            check(backend == {"name": "rel-smshub-http-api", "port": {"name": "api"}}, f"{name}: Ingress backend is {backend}")
            svc = next((x for x in by_kind.get("Service", []) if x["metadata"]["name"] == backend["name"]), None)
            check(svc and any(p["name"] == "api" for p in svc["spec"]["ports"]), f"{name}: the Ingress's Service has no api port")
            if ing_values.get("tlsSecret"):
                check(s.get("tls") == [{"hosts": [ing_values["host"]], "secretName": ing_values["tlsSecret"]}], f"{name}: Ingress TLS is {s.get('tls')}")
            check(s.get("ingressClassName") == (ing_values.get("className") or None), f"{name}: Ingress class {s.get('ingressClassName')}")
            for k, v in (ing_values.get("annotations") or {}).items():
                check(ingresses[0]["metadata"].get("annotations", {}).get(k) == v, f"{name}: Ingress lacks annotation {k}")
            # Behind the controller the client address (IP allow lists) comes from X-Forwarded-For.
            check(env.get("HTTP_API_TRUST_PROXY") == str(ing_values["forwardedFor"]), f"{name}: http-api behind the Ingress does not trust its X-Forwarded-For")
    else:
        check(not ingresses, f"{name}: an Ingress rendered although services.http-api.ingress is off")
        check("HTTP_API_TRUST_PROXY" not in env, f"{name}: http-api trusts X-Forwarded-For without an Ingress in front")
    ext = [x for x in by_kind.get("Service", []) if x["metadata"]["name"] == "rel-smshub-http-api-external"]
    if w["externalService"].get("enabled", True):
        check(len(ext) == 1 and [p["port"] for p in ext[0]["spec"]["ports"]] == [8080], f"{name}: http-api external Service missing or not on 8080")
    else:
        check(not ext, f"{name}: http-api external Service rendered although externalService.enabled is false")


def check_console(name, by_kind, values):
    """The console (issue 20): its sessions sealed with CONSOLE_SESSION_KEY from a Secret, so its replicas
    need no session affinity."""
    w = workload_values(values, "console")
    if not w.get("enabled", True):
        return
    deps = [d for d in by_kind.get("Deployment", []) if d["metadata"]["name"] == "rel-smshub-console"]
    if not check(len(deps) == 1, f"{name}: no console Deployment"):
        return
    env = {e["name"]: e for e in deps[0]["spec"]["template"]["spec"]["containers"][0].get("env") or []}
    key = env.get("CONSOLE_SESSION_KEY", {})
    check("secretKeyRef" in (key.get("valueFrom") or {}),
          f"{name}: console has no CONSOLE_SESSION_KEY from a Secret (its replicas would not share sessions)")


def check_notes(chart, values_file, name):
    """NOTES.txt is not rendered by `helm template`: render its named template from a copy of the chart."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "smshub")
        shutil.copytree(chart, copy)
        with open(os.path.join(copy, "templates", "zz-notes-test.yaml"), "w") as f:
            f.write('notes: {{ include "smshub.notes" . | toJson }}\n')
        args = ["template", "rel", copy, "--show-only", "templates/zz-notes-test.yaml"]
        if values_file:
            args += ["-f", values_file]
        res = helm(*args)
        if not check(res.returncode == 0, f"{name}: NOTES.txt does not render: {res.stderr.strip()}"):
            return
        notes = yaml.safe_load(res.stdout)["notes"]
        values = values_of(chart, values_file)
        check("2775" in notes or "nodePort" in notes, f"{name}: NOTES do not say where to bind SMPP")
        if values["smppTls"]["enabled"]:
            check("TLS" in notes, f"{name}: NOTES do not mention the SMPP TLS port")
        check("/metrics" in notes, f"{name}: NOTES do not say where metrics are")


def must_refuse(chart, why, *sets):
    args = ["lint", chart]
    for s in sets:
        args += ["--set", s]
    res = helm(*args)
    check(res.returncode != 0, f"helm lint accepted {why} ({' '.join(sets)})")
    res = helm("template", "rel", chart, *[a for s in sets for a in ("--set", s)])
    check(res.returncode != 0, f"helm template accepted {why} ({' '.join(sets)})")


def must_refuse_render(chart, why, *sets):
    """A refusal by the templates (fail): helm lint only logs those, helm template/install stop."""
    res = helm("template", "rel", chart, *[a for s in sets for a in ("--set", s)])
    check(res.returncode != 0, f"helm template accepted {why} ({' '.join(sets)})")


def main():
    chart = os.path.abspath(sys.argv[1])
    # The chart's copy of the alert rules is the compose file, byte for byte (Helm reads only chart files).
    with open(os.path.join(chart, "files", "alerts.yml")) as f, open(COMPOSE_ALERTS) as g:
        check(f.read() == g.read(), "helm/smshub/files/alerts.yml differs from deploy/compose/alerts.yml: copy it over")
    # Likewise the dashboards: the same files, byte for byte, none more or fewer.
    chart_boards = sorted(os.listdir(os.path.join(chart, "files", "dashboards")))
    compose_boards = sorted(os.listdir(COMPOSE_DASHBOARDS))
    check(chart_boards == compose_boards,
          f"helm/smshub/files/dashboards holds {chart_boards}, deploy/compose/grafana/dashboards {compose_boards}: copy them over")
    for f in set(chart_boards) & set(compose_boards):
        with open(os.path.join(chart, "files", "dashboards", f)) as a, open(os.path.join(COMPOSE_DASHBOARDS, f)) as b:
            check(a.read() == b.read(), f"helm/smshub/files/dashboards/{f} differs from deploy/compose/grafana/dashboards/{f}: copy it over")
    cases = [("default values", None)] + [(os.path.relpath(f, chart), f) for f in sorted(glob.glob(os.path.join(chart, "ci", "*-values.yaml")))]
    for name, vf in cases:
        before = len(failures)
        lint = helm("lint", chart, "--strict", *(["-f", vf] if vf else []))
        if not check(lint.returncode == 0, f"{name}: helm lint failed:\n{lint.stdout}{lint.stderr}"):
            continue
        docs, err = render(chart, vf)
        if not check(docs is not None, f"{name}: helm template failed: {err}"):
            continue
        n = check_render(name, docs, values_of(chart, vf))
        check_notes(chart, vf, name)
        status = "ok  " if len(failures) == before else "FAIL"
        print(f"  {status} {name}: lint, template ({n} objects), assertions")

    before = len(failures)
    must_refuse(chart, "an unknown SASL mechanism", "kafka.sasl.mechanism=gssapi")
    must_refuse(chart, "a misspelt service key", "services.routing.replicaz=3")
    must_refuse(chart, "a CPU target above 100%", "defaults.autoscaling.targetCPUUtilizationPercentage=150")
    must_refuse(chart, "a broker without a port", "kafka.brokers={kafka}")
    must_refuse(chart, "a node port outside 30000-32767", "defaults.externalService.type=NodePort", "defaults.externalService.nodePorts.smpp=2775")
    must_refuse(chart, "a secret in plain env (it would land in a ConfigMap)", "services.egress.env.UPSTREAM_PASSWORD=x")
    must_refuse(chart, "no DATABASE_URL source", "postgres.existingSecret=")
    must_refuse(chart, "SASL without a password source", "kafka.sasl.mechanism=plain", "kafka.sasl.username=u")
    must_refuse(chart, "SMPP TLS without a certificate", "smppTls.existingSecret=")
    must_refuse(chart, "gRPC TLS without a certificate", "grpcTls.existingSecret=")
    must_refuse(chart, "a cert-manager gRPC certificate without an issuer", "grpcTls.certManager.enabled=true")
    must_refuse(chart, "an Ingress without a host", "services.http-api.ingress.enabled=true")
    must_refuse_render(chart, "an Ingress to a port the service does not have", "services.http-api.ingress.enabled=true",
                       "services.http-api.ingress.host=api.example.com", "services.http-api.ingress.port=nope")
    must_refuse_render(chart, "http-api calling a disabled dlr", "services.dlr.enabled=false")
    # replicas beside an autoscaler would be ignored: refused with a message, unless it is the minimum.
    must_refuse_render(chart, "services.<name>.replicas while the HPA scales it", "services.routing.replicas=3")
    must_refuse_render(chart, "defaults.replicas while the HPA scales the services", "defaults.replicas=3")
    must_refuse_render(chart, "replicas unlike KEDA's minimum", "defaults.keda.enabled=true", "services.dlr.replicas=4")
    res = helm("template", "rel", chart, "--set", "services.routing.replicas=3")
    check("services.routing.replicas is 3" in res.stderr and "autoscaling.minReplicas" in res.stderr,
          f"the replicas refusal does not say what to set instead: {res.stderr.strip()}")
    scaled_cases = [
        ("the autoscaler's minimum alone", ["services.routing.autoscaling.minReplicas=3"], {"HorizontalPodAutoscaler": 3}),
        ("replicas equal to the minimum", ["services.routing.autoscaling.minReplicas=4", "services.routing.replicas=4"], {"HorizontalPodAutoscaler": 4}),
        ("replicas with autoscaling off", ["services.routing.autoscaling.enabled=false", "services.routing.replicas=3"], {"Deployment": 3}),
    ]
    for why, sets, want in scaled_cases:
        res = helm("template", "rel", chart, *[a for s in sets for a in ("--set", s)])
        if not check(res.returncode == 0, f"helm template refused {why}: {res.stderr.strip()}"):
            continue
        docs = [d for d in yaml.safe_load_all(res.stdout) if d]
        for kind, n in want.items():
            obj = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == "rel-smshub-routing"]
            got = obj and (obj[0]["spec"]["minReplicas"] if kind == "HorizontalPodAutoscaler" else obj[0]["spec"].get("replicas"))
            check(got == n, f"{why}: routing {kind} has {got}, expected {n}")
    print("  ok   bad values are refused" if len(failures) == before else "  FAIL bad values: some were accepted")

    if failures:
        print(f"\n{len(failures)} of {checks} checks failed:", file=sys.stderr)
        for f in failures:
            print(f"  FAIL {f}", file=sys.stderr)
        sys.exit(1)
    print(f"helm chart: {checks} checks passed")


if __name__ == "__main__":
    main()
