#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller) on loopback.
# No Docker, no Apache download site: the broker is assembled from Maven Central
# artifacts (scripts/kafka/pom.xml) and run with plain `java`.
#
# Usage: scripts/kafka.sh fetch|start|stop|restart|status|logs [-f] [-n N]
#
# Environment (all optional):
#   ZT_KAFKA_VERSION          Kafka version from Maven Central (default 4.1.1)
#   ZT_KAFKA_CACHE            jar cache (default ${XDG_CACHE_HOME:-~/.cache}/zhengtong/kafka-<version>)
#   ZT_KAFKA_DATA             data + logs (default <repo>/.data/kafka)
#   ZT_KAFKA_PORT             PLAINTEXT listener port (default 9092)
#   ZT_KAFKA_CONTROLLER_PORT  KRaft controller port (default 9093)
#   ZT_KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
#   ZT_KAFKA_STOP_TIMEOUT     seconds to wait after SIGTERM before SIGKILL (default 30)
#   ZT_KAFKA_HEAP_OPTS        JVM heap flags (default "-Xms256m -Xmx512m")
#   ZT_KAFKA_AUTO_CREATE_TOPICS  auto.create.topics.enable (default false)
#   ZT_KAFKA_EXTRA_CONFIG     extra server.properties lines (newline separated)
#   JAVA_HOME                 Java 17+ to use (default: `java` on PATH)
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
POM="$SCRIPT_DIR/kafka/pom.xml"

KAFKA_VERSION=${ZT_KAFKA_VERSION:-4.1.1}
CACHE_DIR=${ZT_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zhengtong/kafka-$KAFKA_VERSION}
LIB_DIR="$CACHE_DIR/libs"
MARKER="$CACHE_DIR/.fetch-complete"

DATA_DIR=${ZT_KAFKA_DATA:-$REPO_ROOT/.data/kafka}
LOG_DIRS="$DATA_DIR/data"          # Kafka's log.dirs (topic data + KRaft metadata)
APP_LOG_DIR="$DATA_DIR/logs"       # broker's own log files
CONF_FILE="$DATA_DIR/server.properties"
LOG4J_FILE="$DATA_DIR/log4j2.properties"
PID_FILE="$DATA_DIR/kafka.pid"
SERVER_LOG="$APP_LOG_DIR/server.log"
STDOUT_LOG="$APP_LOG_DIR/kafka.out"

HOST=127.0.0.1
PORT=${ZT_KAFKA_PORT:-9092}
CONTROLLER_PORT=${ZT_KAFKA_CONTROLLER_PORT:-9093}
START_TIMEOUT=${ZT_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${ZT_KAFKA_STOP_TIMEOUT:-30}
HEAP_OPTS=${ZT_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
AUTO_CREATE_TOPICS=${ZT_KAFKA_AUTO_CREATE_TOPICS:-false}

if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
  JAVA="${JAVA_HOME}/bin/java"
else
  JAVA=java
fi

say() { printf 'kafka: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

usage() {
  cat >&2 <<EOF
usage: ${0##*/} fetch|start|stop|restart|status|logs [-f] [-n N]
  fetch    resolve Kafka $KAFKA_VERSION jars from Maven Central into $CACHE_DIR
  start    start the broker on $HOST:$PORT (fetches and formats storage if needed)
  stop     stop the broker (SIGTERM, then SIGKILL after ${STOP_TIMEOUT}s)
  restart  stop, then start
  status   print running/stopped; exit 0 if running, 3 otherwise
  logs     print the broker log (-f to follow, -n N lines, default 100)
EOF
}

# ---------------------------------------------------------------- helpers

port_open() { # port -> 0 if something accepts TCP on $HOST:port
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$1" 2>/dev/null
}

port_owner() { # best-effort description of who listens on a port
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1
  fi
}

is_our_broker() { # pid -> 0 if it is a live kafka.Kafka using our config file
  local pid=$1 cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *kafka.Kafka* && "$cmdline" == *"$CONF_FILE"* ]]
}

broker_pid() { # prints the pid of our running broker, if any
  local pid="" p
  if [[ -f "$PID_FILE" ]]; then
    pid=$(<"$PID_FILE")
    if is_our_broker "$pid"; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  # Pid file missing or stale: look for a java running kafka.Kafka with our config file.
  local comm
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    comm=""
    read -r comm <"/proc/$p/comm" 2>/dev/null || continue
    [[ "$comm" == java ]] || continue
    if is_our_broker "$p"; then
      printf '%s\n' "$p" >"$PID_FILE" 2>/dev/null || true
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found; install a JDK 17+ or set JAVA_HOME"
  local v
  v=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  if ! [[ "${v%%.*}" =~ ^[0-9]+$ ]] || (( ${v%%.*} < 17 )); then
    die "Kafka $KAFKA_VERSION needs Java 17+, but $JAVA is '${v:-unknown}'; set JAVA_HOME"
  fi
}

with_lock() { # lockfile cmd... -> run cmd holding an exclusive flock (if flock exists)
  local lock=$1; shift
  if command -v flock >/dev/null 2>&1; then
    (
      flock -w 600 9 || die "timed out waiting for lock $lock"
      "$@"
    ) 9>"$lock"
  else
    "$@"
  fi
}

# ---------------------------------------------------------------- fetch

fetched() { [[ -f "$MARKER" && -d "$LIB_DIR" ]] && [[ "$(<"$MARKER")" == "$(fetch_stamp)" ]]; }

fetch_stamp() { # changes whenever the version or the dependency manifest changes
  printf '%s %s\n' "$KAFKA_VERSION" "$(sha256sum "$POM" | cut -d' ' -f1)"
}

do_fetch() {
  if fetched; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install maven)"
  say "fetching $KAFKA_VERSION from Maven Central..."
  local start=$SECONDS tmp="$LIB_DIR.tmp.$$" mvn_log="$CACHE_DIR/fetch.log"
  rm -rf -- "$tmp"
  rm -f -- "$MARKER"
  if ! mvn -B -q -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
      >"$mvn_log" 2>&1; then
    tail -n 30 "$mvn_log" >&2 || true
    rm -rf -- "$tmp"
    die "fetch of Kafka $KAFKA_VERSION failed (full output: $mvn_log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] ||
    { rm -rf -- "$tmp"; die "fetch produced no kafka_2.13-$KAFKA_VERSION.jar (see $mvn_log)"; }
  rm -rf -- "$LIB_DIR"
  mv -- "$tmp" "$LIB_DIR"
  fetch_stamp >"$MARKER"   # written only after a complete copy
  say "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l) jars into $LIB_DIR in $((SECONDS - start)) s"
}

cmd_fetch() {
  mkdir -p -- "$CACHE_DIR"
  if fetched; then
    say "Kafka $KAFKA_VERSION already fetched ($LIB_DIR)"
    return 0
  fi
  with_lock "$CACHE_DIR/.lock" do_fetch
}

# ---------------------------------------------------------------- config

write_config() {
  mkdir -p -- "$LOG_DIRS" "$APP_LOG_DIR"
  cat >"$CONF_FILE" <<EOF
# Generated by scripts/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$LOG_DIRS
num.network.threads=2
num.io.threads=4
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=$AUTO_CREATE_TOPICS
delete.topic.enable=true
log.retention.hours=24
EOF
  if [[ -n "${ZT_KAFKA_EXTRA_CONFIG:-}" ]]; then
    printf '# ZT_KAFKA_EXTRA_CONFIG\n%s\n' "$ZT_KAFKA_EXTRA_CONFIG" >>"$CONF_FILE"
  fi

  cat >"$LOG4J_FILE" <<'EOF'
# Generated by scripts/kafka.sh. Broker log -> ${sys:kafka.logs.dir}/server.log
status = warn
name = zt-kafka
appender.server.type = RollingFile
appender.server.name = server
appender.server.fileName = ${sys:kafka.logs.dir}/server.log
appender.server.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.server.policies.type = Policies
appender.server.policies.size.type = SizeBasedTriggeringPolicy
appender.server.policies.size.size = 50MB
appender.server.strategy.type = DefaultRolloverStrategy
appender.server.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = server
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF
}

java_opts() { # prints one JVM option per line
  local o
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of flags
  for o in $HEAP_OPTS; do printf '%s\n' "$o"; done
  printf '%s\n' -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true \
    "-Dkafka.logs.dir=$APP_LOG_DIR" "-Dlog4j2.configurationFile=$LOG4J_FILE"
}

format_storage() {
  [[ -f "$LOG_DIRS/meta.properties" ]] && return 0
  local cluster_id
  cluster_id=$("$JAVA" -cp "$LIB_DIR/*" "-Dlog4j2.configurationFile=$LOG4J_FILE" \
    "-Dkafka.logs.dir=$APP_LOG_DIR" kafka.tools.StorageTool random-uuid 2>>"$STDOUT_LOG" | tail -n1) || true
  [[ -n "$cluster_id" ]] || die "could not generate a cluster id (see $STDOUT_LOG)"
  say "formatting storage in $LOG_DIRS (cluster id $cluster_id)"
  if ! "$JAVA" -cp "$LIB_DIR/*" "-Dlog4j2.configurationFile=$LOG4J_FILE" \
      "-Dkafka.logs.dir=$APP_LOG_DIR" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$CONF_FILE" >>"$STDOUT_LOG" 2>&1; then
    tail -n 30 "$STDOUT_LOG" >&2 || true
    die "storage format failed (see $STDOUT_LOG)"
  fi
  printf '%s\n' "$cluster_id" >"$DATA_DIR/cluster.id"
}

# ---------------------------------------------------------------- start/stop

show_failure() {
  say "last 30 lines of $SERVER_LOG:"
  tail -n 30 "$SERVER_LOG" >&2 2>/dev/null || true
  if [[ -s "$STDOUT_LOG" ]]; then
    say "last 10 lines of $STDOUT_LOG:"
    tail -n 10 "$STDOUT_LOG" >&2 || true
  fi
}

wait_ready() { # pid t0 -> waits until the broker logged "started" and accepts TCP
  local pid=$1 t0=$2
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_failure
      rm -f -- "$PID_FILE"
      die "broker (pid $pid) exited during startup"
    fi
    if grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null && port_open "$PORT"; then
      return 0
    fi
    if (( SECONDS - t0 >= START_TIMEOUT )); then
      show_failure
      die "broker (pid $pid) not ready on $HOST:$PORT after ${START_TIMEOUT} s (still running; '${0##*/} stop' to stop it)"
    fi
    sleep 1
  done
}

do_start() {
  local pid t0=$SECONDS
  if pid=$(broker_pid); then
    if port_open "$PORT" && grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null; then
      say "already running (pid $pid) on $HOST:$PORT"
      return 0
    fi
    say "broker (pid $pid) is starting; waiting for $HOST:$PORT"
    wait_ready "$pid" "$t0"
    say "started on $HOST:$PORT in $((SECONDS - t0)) s"
    return 0
  fi
  rm -f -- "$PID_FILE"

  local p owner
  for p in "$PORT" "$CONTROLLER_PORT"; do
    if port_open "$p"; then
      owner=$(port_owner "$p")
      die "port $HOST:$p is already in use${owner:+ by $owner}; stop that process or set ZT_KAFKA_PORT/ZT_KAFKA_CONTROLLER_PORT"
    fi
  done

  check_java
  fetched || cmd_fetch

  write_config
  # Fresh server.log per run so the readiness check never sees an older run's lines.
  if [[ -f "$SERVER_LOG" ]]; then
    mv -f -- "$SERVER_LOG" "$SERVER_LOG.prev"
  fi
  format_storage
  printf '\n===== %s start (Kafka %s) =====\n' "$(date -u +%FT%TZ)" "$KAFKA_VERSION" >>"$STDOUT_LOG"

  local -a opts
  mapfile -t opts < <(java_opts)
  say "starting Kafka $KAFKA_VERSION on $HOST:$PORT (data: $DATA_DIR)"
  # setsid: own session, so the broker outlives this shell; fd 9 (the lock) is closed.
  setsid nohup "$JAVA" "${opts[@]}" -cp "$LIB_DIR/*" kafka.Kafka "$CONF_FILE" \
    </dev/null >>"$STDOUT_LOG" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  wait_ready "$pid" "$t0"
  say "started on $HOST:$PORT in $((SECONDS - t0)) s (pid $pid)"
}

do_stop() {
  local pid
  if ! pid=$(broker_pid); then
    rm -f -- "$PID_FILE"
    say "not running"
    return 0
  fi
  say "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS - t0 >= STOP_TIMEOUT )); then
      say "still running after ${STOP_TIMEOUT} s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 1
  done
  rm -f -- "$PID_FILE"
  say "stopped in $((SECONDS - t0)) s"
}

cmd_start() { mkdir -p -- "$DATA_DIR"; with_lock "$DATA_DIR/.lock" do_start; }
cmd_stop() {
  [[ -d "$DATA_DIR" ]] || { say "not running"; return 0; }
  with_lock "$DATA_DIR/.lock" do_stop
}

cmd_status() {
  local pid
  if pid=$(broker_pid); then
    if port_open "$PORT"; then
      printf 'kafka: running (pid %s) on %s:%s, Kafka %s, data %s\n' "$pid" "$HOST" "$PORT" "$KAFKA_VERSION" "$DATA_DIR"
      return 0
    fi
    printf 'kafka: starting/unhealthy (pid %s), %s:%s not accepting connections\n' "$pid" "$HOST" "$PORT"
    return 3
  fi
  printf 'kafka: stopped (port %s:%s)\n' "$HOST" "$PORT"
  return 3
}

cmd_logs() {
  local follow=0 lines=100
  while (( $# )); do
    case $1 in
      -f|--follow) follow=1 ;;
      -n) shift; lines=${1:?-n needs a number} ;;
      *) die "logs: unknown option '$1'" ;;
    esac
    shift
  done
  [[ -f "$SERVER_LOG" ]] || die "no log yet at $SERVER_LOG"
  if (( follow )); then
    exec tail -n "$lines" -F "$SERVER_LOG"
  fi
  tail -n "$lines" "$SERVER_LOG"
}

main() {
  local cmd=${1:-}
  (( $# )) && shift
  case $cmd in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    -h|--help|help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
