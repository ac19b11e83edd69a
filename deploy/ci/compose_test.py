#!/usr/bin/env python3
"""Assertions on the resolved docker-compose configuration and the files it mounts, run by
deploy/ci/check-compose.sh after both compose loaders accepted the file.

Usage: compose_test.py <repo> <resolved-default.yaml> <resolved-observability.yaml>. Needs PyYAML.
"""
import base64
import json
import os
import re
import sys

import yaml

SMSHUB = ["ingress", "routing", "egress", "dlr", "rating", "admin", "webhooks", "http-api", "stats"]
PROCESSES = SMSHUB + ["smsc-simulator"]
# Containers without an in-container healthcheck, and why: one-shot jobs, and images without a shell.
NO_HEALTHCHECK = {"setup", "dev-certs", "otel-collector", "jaeger"}
METRICS = [
    "smshub_ingress_submits_total", "smshub_ingress_submit_latency_seconds", "smshub_ingress_throttled_total",
    "smshub_egress_submits_total", "smshub_egress_throttled_total", "smshub_dlr_delivery_ratio",
    "smshub_dlr_receipt_latency_seconds", "smshub_kafka_consumer_lag",
]
SECRET_LIKE = re.compile(r"password|token|secret|database_url", re.I)
failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
    return cond


def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return env


def looks_dev(value):
    if "dev" in value.lower():
        return True
    try:
        return "dev" in base64.b64decode(value, validate=True).decode("utf-8", "replace").lower()
    except Exception:
        return False


def check_resolved(name, cfg, repo):
    services = cfg["services"]
    for sname, svc in services.items():
        where = f"{name}: service {sname}"
        image = svc.get("image", "")
        if "build" not in svc:
            check(re.search(r":[^/:]+$", image) and not image.endswith(":latest"), f"{where} image {image!r} is not pinned to a tag")
        check(svc.get("mem_limit") or (svc.get("deploy") or {}).get("resources", {}).get("limits", {}).get("memory"),
              f"{where} has no memory limit")
        hc = svc.get("healthcheck") or {}
        if sname not in NO_HEALTHCHECK:
            check(hc.get("test") and not hc.get("disable"), f"{where} has no healthcheck")
        for dep, cond in (svc.get("depends_on") or {}).items():
            c = cond.get("condition") if isinstance(cond, dict) else "service_started"
            if c == "service_healthy":
                dhc = services.get(dep, {}).get("healthcheck") or {}
                check(dhc.get("test") and not dhc.get("disable"), f"{where} waits for {dep} to be healthy, but {dep} has no healthcheck")
        for k, v in env_of(svc).items():
            if SECRET_LIKE.search(k) and not k.endswith("_FILE") and v:
                check(looks_dev(str(v)), f"{where} default for {k} does not say it is a development value")
    for p in PROCESSES:
        check(p in services, f"{name}: service {p} is missing")
    for p in SMSHUB:
        svc = services.get(p, {})
        deps = svc.get("depends_on") or {}
        check((deps.get("setup") or {}).get("condition") == "service_completed_successfully",
              f"{name}: {p} does not wait for setup to complete successfully")
        env = env_of(svc)
        for var in ("KAFKA_BROKERS", "DATABASE_URL", "HTTP_PORT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"):
            check(env.get(var), f"{name}: {p} has no {var}")
        cmd = svc.get("command") or []
        check(cmd == [f"services/{p}/dist/main.js"], f"{name}: {p} does not run services/{p}/dist/main.js (command {cmd})")
    check(env_of(services.get("admin", {})).get("CONNECTOR_SECRET_KEY") == env_of(services.get("egress", {})).get("CONNECTOR_SECRET_KEY"),
          f"{name}: admin does not get the CONNECTOR_SECRET_KEY egress opens connector passwords with")
    tokens = {p: env_of(services.get(p, {})).get("ADMIN_TOKEN") for p in ("admin", "dlr", "rating", "webhooks")}
    check(tokens["admin"] and len(set(tokens.values())) == 1, f"{name}: admin, dlr and rating do not share one ADMIN_TOKEN (the bootstrap credential of every gRPC API)")
    # The processes default to 127.0.0.1: inside a container each listener must take every interface, or
    # the published ports lead nowhere.
    listeners = {p: ["HTTP_HOST"] for p in SMSHUB + ["smsc-simulator"]}
    listeners["ingress"].append("SMPP_HOST")
    listeners["smsc-simulator"].append("SIM_HOST")
    listeners["http-api"].append("HTTP_API_HOST")
    for p in ("admin", "dlr", "rating", "webhooks"):
        listeners[p].append("GRPC_HOST")
    for p, vars_ in listeners.items():
        env = env_of(services.get(p, {}))
        for var in vars_:
            check(env.get(var) == "0.0.0.0", f"{name}: {p} {var} is {env.get(var)!r}, not 0.0.0.0 (its published port would lead nowhere)")
    # ...and the host publishes them on loopback unless SMSHUB_BIND says otherwise.
    for p in SMSHUB + ["smsc-simulator"]:
        for port in services.get(p, {}).get("ports", []):
            check(str(port).startswith("127.0.0.1:"), f"{name}: {p} publishes {port} beyond loopback by default")
    setup = services.get("setup", {})
    check((setup.get("command") or []) == ["tools/ops/dist/main.js", "setup"], f"{name}: setup does not run the ops setup command")
    # The front doors answer customers while the batch services can catch up: a larger CPU weight
    # (docs/performance.md, "CPU priority decides the submit_sm_resp tail"), as Helm's CPU requests.
    for p in SMSHUB:
        shares = int(services.get(p, {}).get("cpu_shares") or 1024)
        if p in ("ingress", "http-api"):
            check(shares > 1024, f"{name}: {p} has no larger CPU weight (cpu_shares {shares}) than the batch services")
        else:
            check(shares <= 1024, f"{name}: batch service {p} has cpu_shares {shares}, as large as a front door's")
    ing = services.get("ingress", {})
    ports = " ".join(str(p) for p in ing.get("ports", []))
    check("2775" in ports and "3550" in ports, f"{name}: ingress does not publish SMPP 2775 and SMPP-TLS 3550")
    env = env_of(ing)
    check(env.get("SMPP_TLS_CERT_FILE") and env.get("SMPP_TLS_KEY_FILE"), f"{name}: ingress has no SMPP TLS certificate files")
    # The HTTP API: customers' port 8080 published (on loopback by default), dlr's MessageService at its
    # compose address (plaintext gRPC here, as dlr serves it), started once dlr is ready.
    api = services.get("http-api", {})
    check(any(re.fullmatch(r"127\.0\.0\.1:8080:8080(/tcp)?", str(p)) for p in api.get("ports", [])), f"{name}: http-api does not publish its API port 8080")
    env = env_of(api)
    check(env.get("HTTP_API_PORT") == "8080", f"{name}: http-api HTTP_API_PORT is {env.get('HTTP_API_PORT')!r}, not 8080")
    dlr_env = env_of(services.get("dlr", {}))
    check(env.get("DLR_GRPC_ADDRESS") == f"dlr:{dlr_env.get('GRPC_PORT')}", f"{name}: http-api DLR_GRPC_ADDRESS {env.get('DLR_GRPC_ADDRESS')!r} is not dlr's gRPC port")
    check(str(env.get("DLR_GRPC_TLS")).lower() == ("true" if dlr_env.get("GRPC_TLS_CERT_FILE") else "false"),
          f"{name}: http-api DLR_GRPC_TLS does not match whether dlr serves TLS")
    check(((api.get("depends_on") or {}).get("dlr") or {}).get("condition") == "service_healthy", f"{name}: http-api does not wait for dlr to be healthy")
    check(env.get("HTTP_API_REPLICA_ID"), f"{name}: http-api has no HTTP_API_REPLICA_ID")
    kafka = services.get("kafka", {})
    check(env_of(kafka).get("KAFKA_PROCESS_ROLES") == "broker,controller", f"{name}: kafka is not a KRaft combined node")
    check(str(env_of(kafka).get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).lower() == "false",
          f"{name}: kafka auto-creates topics (the setup job owns topic layout)")
    return services


def main():
    repo, default_file, obs_file = sys.argv[1:4]
    with open(default_file) as f:
        default = check_resolved("default", yaml.safe_load(f), repo)
    with open(obs_file) as f:
        obs = check_resolved("observability", yaml.safe_load(f), repo)
    # docker-compose 1.29's `config` prints every service with its `profiles`; check the profile there.
    obs_only = {"prometheus", "grafana", "jaeger"}
    for sname, svc in obs.items():
        want = ["observability"] if sname in obs_only else None
        check(svc.get("profiles") == want, f"{sname}: profiles {svc.get('profiles')}, expected {want}")
    for s in obs_only:
        check(s in obs, f"observability: {s} is missing")
    print(f"  ok   resolved services (default: {len(default)}, observability: {len(obs)})" if not failures else "  FAIL resolved services")

    before = len(failures)
    d = os.path.join(repo, "deploy", "compose")
    with open(os.path.join(d, "prometheus.yml")) as f:
        prom = yaml.safe_load(f)
    targets = {t for job in prom["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]}
    for p in PROCESSES:
        check(f"{p}:9400" in targets, f"prometheus.yml does not scrape {p}:9400")
    with open(os.path.join(d, "alerts.yml")) as f:
        alerts = yaml.safe_load(f)
    rules = [r for g in alerts["groups"] for r in g["rules"]]
    for r in rules:
        check(r.get("alert") and r.get("expr") and r.get("for"), f"alerts.yml: rule {r.get('alert')} lacks alert/expr/for")
    # Messages sent with no sell (or buy) rate are money lost: an alert on every MISSING_RATE record.
    unbilled = [r for r in rules if r.get("alert") == "SmshubUnbilledMessages"]
    check(unbilled and "smshub_rating_missing_rate_total" in unbilled[0]["expr"],
          "alerts.yml: no SmshubUnbilledMessages alert on smshub_rating_missing_rate_total")
    with open(os.path.join(d, "grafana", "dashboards", "smshub.json")) as f:
        dash = json.load(f)
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p.get("targets", []))
    for m in METRICS:
        check(m in exprs, f"Grafana dashboard has no panel using {m}")
    for p in dash["panels"]:
        for t in p.get("targets", []):
            check(t["expr"].count("(") == t["expr"].count(")"), f"Grafana panel {p['title']!r}: unbalanced parentheses")
    with open(os.path.join(d, "grafana", "provisioning", "datasources", "datasources.yaml")) as f:
        ds = yaml.safe_load(f)
    uids = {x["uid"] for x in ds["datasources"]}
    for p in dash["panels"]:
        if p.get("datasource"):
            check(p["datasource"]["uid"] in uids, f"Grafana panel {p['title']!r} uses an unprovisioned datasource")
    with open(os.path.join(d, "otel-collector.yaml")) as f:
        otel = yaml.safe_load(f)
    for pname, pipe in otel["service"]["pipelines"].items():
        for part in ("receivers", "processors", "exporters"):
            for c in pipe.get(part, []):
                check(c in (otel.get(part) or {}), f"otel-collector.yaml: pipeline {pname} uses undefined {part[:-1]} {c}")
    check(4318 in [int(e.split(":")[-1]) for e in [otel["receivers"]["otlp"]["protocols"]["http"]["endpoint"]]],
          "otel-collector.yaml: OTLP http receiver is not on 4318")
    print(f"  ok   prometheus targets, {len(rules)} alert rules, dashboard, collector pipelines" if len(failures) == before
          else "  FAIL mounted configuration files")

    before = len(failures)
    with open(os.path.join(repo, "Dockerfile")) as f:
        dockerfile = f.read()
    m = re.search(r"^ARG NODE_IMAGE=(\S+)$", dockerfile, re.M)
    check(m and re.fullmatch(r"node:20\.\d+\.\d+-bookworm-slim(@sha256:[a-f0-9]{64})?", m.group(1)),
          "Dockerfile: NODE_IMAGE is not pinned to an exact node 20 bookworm-slim version")
    froms = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    check(froms and all(f == "${NODE_IMAGE}" for f in froms), "Dockerfile: a stage does not use the pinned NODE_IMAGE")
    check(re.search(r"^USER 10001", dockerfile, re.M), "Dockerfile: the runtime does not run as uid 10001")
    for var in ("HTTP_HOST", "GRPC_HOST", "SMPP_HOST", "SIM_HOST", "HTTP_API_HOST"):
        check(re.search(rf"^\s+{var}=0\.0\.0\.0\b", dockerfile, re.M), f"Dockerfile: the runtime does not set {var}=0.0.0.0 (processes default to 127.0.0.1)")
    check(re.search(r"^HEALTHCHECK .*\n?.*livez", dockerfile, re.M), "Dockerfile: no HEALTHCHECK on /livez")
    check("npm ci --omit=dev" in dockerfile, "Dockerfile: the runtime's dependencies are not production-only")
    check("libs/db/migrations" in dockerfile, "Dockerfile: the image does not carry libs/db/migrations")
    check("services/*/src/main.ts" in dockerfile, "Dockerfile: the bundles of services/* are not copied")
    for t in ("tools/smsc-simulator", "tools/ops", "tools/hubctl"):
        check(t in dockerfile, f"Dockerfile: bundle of {t} is not copied")
    with open(os.path.join(repo, ".dockerignore")) as f:
        ignore = f.read().split()
    for pat in (".git", "**/node_modules", "**/dist", ".cache"):
        check(pat in ignore, f".dockerignore does not exclude {pat}")
    print("  ok   Dockerfile and .dockerignore" if len(failures) == before else "  FAIL Dockerfile and .dockerignore")

    if failures:
        print(f"\n{len(failures)} of {checks} checks failed:", file=sys.stderr)
        for f in failures:
            print(f"  FAIL {f}", file=sys.stderr)
        sys.exit(1)
    print(f"compose: {checks} checks passed")


if __name__ == "__main__":
    main()
