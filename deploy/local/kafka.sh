#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft: broker + controller in one JVM) on loopback, from the official
# jars on Maven Central. Usage: kafka.sh start|stop|restart|status|address
#   start   fetch the jars once (mvn, cached), format storage on first start, run, wait until it answers
#   stop    stop it by its pid
#   restart run the broker that was last started here again after it stopped or died (kill -9): same
#           config, ports and data, nothing formatted; refuses when it is still running (tools/chaos)
#   address print host:port of the running broker
# Env: KAFKA_HEAP (default 768m), KAFKA_PORT (default: a free port).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$LOCAL_LIB_DIR/kafka/pom.xml")
JARS_DIR="$SMSHUB_CACHE_DIR/kafka-$KAFKA_VERSION/libs"
STATE="$SMSHUB_LOCAL_DIR/kafka"
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
    || { cat "$STATE/format.log" >&2; die "formatting KRaft storage failed"; }
  : >"$STATE/server.log"
  run_broker "$port"
}

# run_broker PORT: run the JVM on $STATE/server.properties, record its pid, wait until it answers.
run_broker() {
  local port=$1 cp="$JARS_DIR/*"
  nohup java -Xms"${KAFKA_HEAP:-768m}" -Xmx"${KAFKA_HEAP:-768m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$STATE/log4j.properties" -Dkafka.logs.dir="$STATE" \
    -cp "$cp" kafka.Kafka "$STATE/server.properties" >"$STATE/stdout.log" 2>&1 &
  echo $! >"$PID_FILE"
  echo "127.0.0.1:$port" >"$ADDR_FILE"
  local started=$SECONDS
  until grep -q "Kafka Server started" "$STATE/server.log" 2>/dev/null && port_open 127.0.0.1 "$port"; do
    if ! pid_alive "$PID_FILE"; then tail -30 "$STATE/stdout.log" "$STATE/server.log" >&2; die "kafka exited while starting"; fi
    [ $((SECONDS - started)) -gt 90 ] && { stop_pid "$PID_FILE" kafka; die "kafka did not answer within 90 s (see $STATE/server.log)"; }
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

case "${1:-}" in
  start) start ;;
  restart) restart ;;
  stop) stop_pid "$PID_FILE" kafka ;;
  status) if pid_alive "$PID_FILE"; then echo "running at $(cat "$ADDR_FILE")"; else echo stopped; exit 3; fi ;;
  address) pid_alive "$PID_FILE" || die "kafka is not running"; cat "$ADDR_FILE" ;;
  fetch) fetch_jars ;;
  *) echo "usage: kafka.sh start|stop|restart|status|address|fetch" >&2; exit 2 ;;
esac
