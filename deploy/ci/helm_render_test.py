#!/usr/bin/env python3
"""Render tests for the smshub Helm chart, run by deploy/ci/check-helm.sh.

For the default values and every ci/*-values.yaml: `helm lint`, `helm template`, then assertions on the
rendered objects that an SRE would notice if broken (probes, resources, non-root, secrets kept out of
ConfigMaps, SMPP ports exposed, references that resolve). Then values that must be refused.

Usage: HELM=/path/to/helm helm_render_test.py <chart-dir>. Needs PyYAML. Exit 1 on any failure.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HELM = os.environ.get("HELM", "helm")
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

    # Which Secrets/ConfigMaps a pod may refer to: rendered ones, plus the existing Secrets the values name.
    existing = {values["postgres"].get("existingSecret"), values["kafka"]["sasl"].get("existingSecret"),
                values["kafka"]["tls"]["caSecret"].get("name"), values["smppTls"].get("existingSecret")}
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
            for e in c.get("env", []):
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

    # Exactly one scaler per Deployment, or fixed replicas.
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind.get("HorizontalPodAutoscaler", [])}
    keda = {s["spec"]["scaleTargetRef"]["name"] for s in by_kind.get("ScaledObject", [])}
    check(not (scaled & keda), f"{name}: Deployments with both an HPA and a KEDA ScaledObject: {sorted(scaled & keda)}")
    for d in deployments:
        n = d["metadata"]["name"]
        check((n in scaled or n in keda) != ("replicas" in d["spec"]),
              f"{name}: Deployment {n} must set replicas exactly when no autoscaler manages it")
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
    sim = values["services"].get("smsc-simulator") or {}
    check(("Deployment", "rel-smshub-smsc-simulator") in names if sim.get("enabled") else ("Deployment", "rel-smshub-smsc-simulator") not in names,
          f"{name}: smsc-simulator Deployment presence does not follow services.smsc-simulator.enabled")
    return len(docs)


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


def main():
    chart = os.path.abspath(sys.argv[1])
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
    print("  ok   bad values are refused" if len(failures) == before else "  FAIL bad values: some were accepted")

    if failures:
        print(f"\n{len(failures)} of {checks} checks failed:", file=sys.stderr)
        for f in failures:
            print(f"  FAIL {f}", file=sys.stderr)
        sys.exit(1)
    print(f"helm chart: {checks} checks passed")


if __name__ == "__main__":
    main()
