#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft: broker + controller in one JVM) on loopback, from the official
# jars on Maven Central. Usage: kafka.sh start|stop|restart|status|address
#   start   fetch the jars once (mvn, cached), format storage on first start, run, wait until it answers
#   stop    stop it by its pid
#   restart run the broker that was last started here again after it stopped or died (kill -9): same
#           config, ports and data, nothing formatted; refuses when it is still running (tools/chaos)
#   address print host:port of the running broker
# Env: KAFKA_HEAP (default 768m), KAFKA_PORT (default: a free port), KAFKA_START_TIMEOUT_S (default 90:
# how long a starting broker may take to answer; a loaded machine needs more), KAFKA_JVM_OPTS (replaces
# the GC options, default "-XX:+UseParallelGC": for experiments, e.g. "-XX:+UseG1GC -XX:MaxGCPauseMillis=20",
# the default until session 12).
#
# KAFKA_CLUSTER_SIZE=3 (any N from 2 to 9) runs N brokers instead, each broker + controller in one JVM
# (a KRaft quorum of N voters), on free loopback ports, under $STATE/node-<i>/. Every topic then defaults to
# replication factor min(N, 3) and min.insync.replicas 2, so an acks=all write is on two brokers before
# it is acknowledged, and the cluster keeps taking writes with one broker down. The same commands apply
# to all brokers; `address` and `start` print the bootstrap list host:port,host:port,...; and
#   status          "running at LIST" when every broker runs, else "degraded: K/N brokers running at ..."
#                   (exit 4) or "stopped" (exit 3)
#   pid I           the pid of broker I (1..N), e.g. for kill -9
#   restart [I]     run broker I (default: every broker that is not running) again, data kept
# KAFKA_CLUSTER_SIZE must be given to every command of a cluster (the state directory says which mode it
# is in: commands refuse the other mode's state).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$LOCAL_LIB_DIR/kafka/pom.xml")
JARS_DIR="$SMSHUB_CACHE_DIR/kafka-$KAFKA_VERSION/libs"
START_TIMEOUT=${KAFKA_START_TIMEOUT_S:-90}
[[ "$START_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "KAFKA_START_TIMEOUT_S must be a whole number of seconds (got '$START_TIMEOUT')"
STATE="$SMSHUB_LOCAL_DIR/kafka"
# The JVM's GC and compiler options (KAFKA_JVM_OPTS replaces them, e.g. for an experiment). The parallel
# collector: no write barriers for concurrent refinement and a young generation sized for throughput (G1
# with a 20 ms goal kept eden at ~40 MB: ~4x as many young collections). libs/kafka/README.md "Where the
# broker's CPU goes", two rounds of three brokers of the same age under hub-shaped-load.ts at the same time
# (load 3-14): broker CPU-us per message G1 248, 220, 212, 306, 211, 207 -> parallel 234, 196, 190, 290,
# 199, 193. Price: a full collection stops the broker when the old generation fills (115 ms for 182 MB
# at load 3; rare under a steady flow, more often under test churn) where G1 marks concurrently.
KAFKA_JVM_DEFAULT="-XX:+UseParallelGC"
PID_FILE="$STATE/kafka.pid"
ADDR_FILE="$STATE/address"

fetch_jars() {
  [ -f "$JARS_DIR/.complete" ] && return 0
  command -v mvn >/dev/null || die "mvn is needed to fetch the Kafka jars from Maven Central (apt-get install maven)"
  command -v java >/dev/null || die "java 17+ is needed to run Kafka (apt-get install openjdk-17-jre-headless)"
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (once)"
  rm -rf "$JARS_DIR"; mkdir -p "$JARS_DIR"
  mvn -q -B -f "$LOCAL_LIB_DIR/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$JARS_DIR" -DincludeScope=runtime >"$SMSHUB_CACHE_DIR/kafka-mvn.log" 2>&1 \
    || { tail -20 "$SMSHUB_CACHE_DIR/kafka-mvn.log" >&2; die "mvn could not fetch the Kafka jars"; }
  touch "$JARS_DIR/.complete"
}

write_config() {
  local port=$1 cport=$2
  mkdir -p "$STATE/data"
  cat >"$STATE/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$STATE/data
# Topics are created by the project (libs/contracts topic registry), never by auto-create.
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
# Threads for a development machine of 2 cores (defaults 3 network, 8 I/O, 10 background): fewer hand-offs
# and wake-ups per request. libs/kafka/bench/request-cost.ts, 3 alternated pairs at load 22-32: broker CPU
# per produce 237-309 -> 162-201 us, per offset commit 148-283 -> 109-190, per fetch 225-320 -> 155-230.
# Durability settings (flush, acks) stay Kafka's defaults.
num.network.threads=1
num.io.threads=2
background.threads=2
PROPS
  cat >"$STATE/log4j.properties" <<'L4J'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
L4J
}

start() {
  cluster_check_state
  if pid_alive "$PID_FILE"; then log "kafka already running at $(cat "$ADDR_FILE")"; cat "$ADDR_FILE"; return 0; fi
  fetch_jars
  mkdir -p "$STATE"
  local port=${KAFKA_PORT:-$(free_port)} cport
  cport=$(free_port)
  [ "$cport" = "$port" ] && cport=$((port + 1))
  # The data directory is formatted for one controller address; a restart on new ports starts afresh.
  rm -rf "$STATE/data" "$STATE/meta.properties"
  write_config "$port" "$cport"
  local cp="$JARS_DIR/*" cluster_id
  # A leading '-' would make the storage tool read the id as an option (1 start in 64 failed so).
  cluster_id=$(node -e 'process.stdout.write(require("crypto").randomBytes(16).toString("base64url").replace(/^-/, "A"))')
  java -cp "$cp" -Dlog4j.configuration="file:$STATE/log4j.properties" -Dkafka.logs.dir="$STATE" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$STATE/server.properties" >"$STATE/format.log" 2>&1 \
    || { cat "$STATE/format.log" >&2; die "formatting KRaft storage failed (its output is above): fix what it says and run again, or set KAFKA_BROKERS to a broker you have"; }
  : >"$STATE/server.log"
  run_broker "$port"
}

# run_broker PORT: run the JVM on $STATE/server.properties, record its pid, wait until it answers.
run_broker() {
  local port=$1 cp="$JARS_DIR/*"
  # shellcheck disable=SC2086 # KAFKA_JVM_OPTS is a list of options
  nohup java -Xms"${KAFKA_HEAP:-768m}" -Xmx"${KAFKA_HEAP:-768m}" ${KAFKA_JVM_OPTS:-$KAFKA_JVM_DEFAULT} \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$STATE/log4j.properties" -Dkafka.logs.dir="$STATE" \
    -cp "$cp" kafka.Kafka "$STATE/server.properties" >"$STATE/stdout.log" 2>&1 &
  echo $! >"$PID_FILE"
  echo "127.0.0.1:$port" >"$ADDR_FILE"
  local started=$SECONDS
  until grep -q "Kafka Server started" "$STATE/server.log" 2>/dev/null && port_open 127.0.0.1 "$port"; do
    if ! pid_alive "$PID_FILE"; then tail -30 "$STATE/stdout.log" "$STATE/server.log" >&2; die "kafka exited while starting (the end of its logs is above): fix what they say (a port in use: run again, another is picked; too little memory: KAFKA_HEAP=512m), or set KAFKA_BROKERS to a broker you have"; fi
    [ $((SECONDS - started)) -gt "$START_TIMEOUT" ] && { stop_pid "$PID_FILE" kafka; die "kafka did not answer within $START_TIMEOUT s (see $STATE/server.log): on a busy machine run again, or set KAFKA_BROKERS to a broker you have"; }
    sleep 0.2
  done
  log "kafka $KAFKA_VERSION up at 127.0.0.1:$port in $((SECONDS - started)) s (pid $(cat "$PID_FILE"))"
  cat "$ADDR_FILE"
}

# restart: after a stop or a crash, the same broker again (data kept); the old server.log becomes server.log.1.
# A killed process stays a zombie until init reaps it, and kill -0 still answers for it.
is_zombie() { case "$(ps -o stat= -p "$1" 2>/dev/null)" in Z*) return 0 ;; *) return 1 ;; esac; }

restart() {
  if pid_alive "$PID_FILE" && ! is_zombie "$(cat "$PID_FILE")"; then
    die "kafka is still running (pid $(cat "$PID_FILE")): stop or kill it first"
  fi
  [ -f "$STATE/server.properties" ] && [ -f "$ADDR_FILE" ] || die "no kafka was started under $STATE"
  fetch_jars
  [ -f "$STATE/server.log" ] && mv -f "$STATE/server.log" "$STATE/server.log.1"
  : >"$STATE/server.log"
  run_broker "$(sed 's/.*://' "$ADDR_FILE")"
}

# ------------------------------------------------------------------ cluster mode (KAFKA_CLUSTER_SIZE > 1)
CLUSTER_SIZE=${KAFKA_CLUSTER_SIZE:-1}
[[ "$CLUSTER_SIZE" =~ ^[1-9]$ ]] || die "KAFKA_CLUSTER_SIZE must be a number from 1 to 9 (got '$CLUSTER_SIZE')"
CLUSTER_FILE="$STATE/cluster-size"

node_dir() { echo "$STATE/node-$1"; }

# cluster_check_state: refuse a single-broker state dir in cluster mode and the reverse.
cluster_check_state() {
  local recorded
  recorded=$(cat "$CLUSTER_FILE" 2>/dev/null || echo 1)
  if [ "$CLUSTER_SIZE" -gt 1 ] && [ "$recorded" = 1 ] && pid_alive "$PID_FILE"; then
    die "a single broker runs under $STATE; stop it first or use another SMSHUB_LOCAL_DIR"
  fi
  if [ -f "$CLUSTER_FILE" ] && [ "$recorded" != "$CLUSTER_SIZE" ]; then
    local any=0 i
    for i in $(seq 1 "$recorded"); do pid_alive "$(node_dir "$i")/kafka.pid" && any=1; done
    [ "$any" = 1 ] && die "a cluster of $recorded brokers runs under $STATE: run with KAFKA_CLUSTER_SIZE=$recorded"
  fi
  return 0
}

# cluster_write_config I PORT CPORT VOTERS: server.properties of broker I.
cluster_write_config() {
  local i=$1 port=$2 cport=$3 voters=$4 dir rf
  dir=$(node_dir "$i")
  rf=$((CLUSTER_SIZE < 3 ? CLUSTER_SIZE : 3))
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
# Topics are created by the project (libs/contracts topic registry), never by auto-create.
auto.create.topics.enable=false
num.partitions=1
# Every copy counts: acks=all waits for min.insync.replicas copies; one broker may be down.
default.replication.factor=$rf
min.insync.replicas=2
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=4
# A killed broker's partitions move within seconds (defaults: 9 s session, 18 s fence).
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
PROPS
  sed "s:\${kafka.logs.dir}:$dir:" "$STATE/log4j.properties" >"$dir/log4j.properties"
}

# cluster_run I: start broker I's JVM on its config (does not wait).
cluster_run() {
  local dir heap cp="$JARS_DIR/*"
  dir=$(node_dir "$1")
  heap=${KAFKA_HEAP:-512m}
  [ -f "$dir/server.log" ] && mv -f "$dir/server.log" "$dir/server.log.1"
  : >"$dir/server.log"
  nohup java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties" -Dkafka.logs.dir="$dir" \
    -cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
}

# cluster_wait I...: until each broker logged its start and answers on its port ($START_TIMEOUT s).
cluster_wait() {
  local started=$SECONDS i dir port
  for i in "$@"; do
    dir=$(node_dir "$i")
    port=$(sed -n 's/^listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' "$dir/server.properties")
    until grep -q "Kafka Server started" "$dir/server.log" 2>/dev/null && port_open 127.0.0.1 "$port"; do
      if ! pid_alive "$dir/kafka.pid"; then
        tail -30 "$dir/stdout.log" "$dir/server.log" >&2
        die "kafka broker $i exited while starting"
      fi
      if [ $((SECONDS - started)) -gt "$START_TIMEOUT" ]; then
        cluster_stop
        die "kafka broker $i did not answer within $START_TIMEOUT s (see $dir/server.log)"
      fi
      sleep 0.2
    done
  done
}

cluster_start() {
  cluster_check_state
  local i running=0
  for i in $(seq 1 "$CLUSTER_SIZE"); do pid_alive "$(node_dir "$i")/kafka.pid" && running=$((running + 1)); done
  if [ "$running" = "$CLUSTER_SIZE" ] && [ -f "$ADDR_FILE" ]; then
    log "kafka cluster already running at $(cat "$ADDR_FILE")"; cat "$ADDR_FILE"; return 0
  fi
  [ "$running" -gt 0 ] && die "$running of $CLUSTER_SIZE brokers run under $STATE: use restart, or stop first"
  fetch_jars
  rm -rf "$STATE"; mkdir -p "$STATE"
  echo "$CLUSTER_SIZE" >"$CLUSTER_FILE"
  # The single-broker log4j template, with each node's own log directory.
  write_config 0 0
  rm -rf "$STATE/data" "$STATE/server.properties"
  local ports=() cports=() voters="" addrs="" p used=" "
  for i in $(seq 1 "$CLUSTER_SIZE"); do
    for _ in 1 2; do
      p=$(free_port)
      while [[ "$used" == *" $p "* ]]; do p=$(free_port); done
      used="$used$p "
      if [ ${#ports[@]} -lt "$i" ]; then ports+=("$p"); else cports+=("$p"); fi
    done
    voters="$voters${voters:+,}$i@127.0.0.1:${cports[$((i - 1))]}"
    addrs="$addrs${addrs:+,}127.0.0.1:${ports[$((i - 1))]}"
  done
  local cluster_id
  cluster_id=$(node -e 'process.stdout.write(require("crypto").randomBytes(16).toString("base64url").replace(/^-/, "A"))')
  for i in $(seq 1 "$CLUSTER_SIZE"); do
    cluster_write_config "$i" "${ports[$((i - 1))]}" "${cports[$((i - 1))]}" "$voters"
    java -cp "$JARS_DIR/*" -Dlog4j.configuration="file:$(node_dir "$i")/log4j.properties" \
      -Dkafka.logs.dir="$(node_dir "$i")" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$(node_dir "$i")/server.properties" >"$(node_dir "$i")/format.log" 2>&1 \
      || { cat "$(node_dir "$i")/format.log" >&2; die "formatting KRaft storage of broker $i failed"; }
  done
  echo "$addrs" >"$ADDR_FILE"
  local started=$SECONDS
  for i in $(seq 1 "$CLUSTER_SIZE"); do cluster_run "$i"; done
  cluster_wait $(seq 1 "$CLUSTER_SIZE")
  log "kafka $KAFKA_VERSION cluster of $CLUSTER_SIZE brokers up at $addrs in $((SECONDS - started)) s"
  cat "$ADDR_FILE"
}

cluster_stop() {
  local i
  for i in $(seq 1 "$CLUSTER_SIZE"); do stop_pid "$(node_dir "$i")/kafka.pid" "kafka broker $i" & done
  wait
}

# cluster_restart [I]: broker I, or every broker not running, again with its data (after kill -9 or stop).
cluster_restart() {
  [ -f "$ADDR_FILE" ] && [ -f "$(node_dir 1)/server.properties" ] || die "no kafka cluster was started under $STATE"
  local i todo=()
  if [ -n "${1:-}" ]; then
    [[ "$1" =~ ^[1-9]$ ]] && [ "$1" -le "$CLUSTER_SIZE" ] || die "no broker $1 in a cluster of $CLUSTER_SIZE"
    todo=("$1")
  else
    for i in $(seq 1 "$CLUSTER_SIZE"); do todo+=("$i"); done
  fi
  local run=()
  for i in "${todo[@]}"; do
    local pf
    pf="$(node_dir "$i")/kafka.pid"
    if pid_alive "$pf" && ! is_zombie "$(cat "$pf")"; then
      [ -n "${1:-}" ] && die "kafka broker $i is still running (pid $(cat "$pf")): stop or kill it first"
      continue
    fi
    run+=("$i")
  done
  [ ${#run[@]} -eq 0 ] && { log "every broker is running"; cat "$ADDR_FILE"; return 0; }
  fetch_jars
  for i in "${run[@]}"; do cluster_run "$i"; done
  cluster_wait "${run[@]}"
  log "kafka broker(s) ${run[*]} running again"
  cat "$ADDR_FILE"
}

cluster_status() {
  local i alive=0
  for i in $(seq 1 "$CLUSTER_SIZE"); do
    pid_alive "$(node_dir "$i")/kafka.pid" && ! is_zombie "$(cat "$(node_dir "$i")/kafka.pid")" && alive=$((alive + 1))
  done
  if [ "$alive" = "$CLUSTER_SIZE" ]; then echo "running at $(cat "$ADDR_FILE")"
  elif [ "$alive" -gt 0 ]; then echo "degraded: $alive/$CLUSTER_SIZE brokers running at $(cat "$ADDR_FILE")"; exit 4
  else echo stopped; exit 3; fi
}

if [ "$CLUSTER_SIZE" -gt 1 ]; then
  case "${1:-}" in
    start) cluster_start ;;
    restart) cluster_restart "${2:-}" ;;
    stop) cluster_stop ;;
    status) cluster_status ;;
    address) [ -f "$ADDR_FILE" ] && [ -f "$CLUSTER_FILE" ] || die "no kafka cluster runs under $STATE"; cat "$ADDR_FILE" ;;
    pid)
      [[ "${2:-}" =~ ^[1-9]$ ]] && [ "$2" -le "$CLUSTER_SIZE" ] || die "usage: kafka.sh pid 1..$CLUSTER_SIZE"
      pid_alive "$(node_dir "$2")/kafka.pid" || die "kafka broker $2 is not running"
      cat "$(node_dir "$2")/kafka.pid" ;;
    fetch) fetch_jars ;;
    *) echo "usage: KAFKA_CLUSTER_SIZE=$CLUSTER_SIZE kafka.sh start|stop|restart [I]|status|address|pid I|fetch" >&2; exit 2 ;;
  esac
  exit 0
fi

case "${1:-}" in
  start) start ;;
  restart) restart ;;
  stop) stop_pid "$PID_FILE" kafka ;;
  status) if pid_alive "$PID_FILE"; then echo "running at $(cat "$ADDR_FILE")"; else echo stopped; exit 3; fi ;;
  address) pid_alive "$PID_FILE" || die "kafka is not running"; cat "$ADDR_FILE" ;;
  fetch) fetch_jars ;;
  *) echo "usage: kafka.sh start|stop|restart|status|address|fetch" >&2; exit 2 ;;
esac
