#!/usr/bin/env bash
# Benchmark helper (not a test): where a running Kafka broker's CPU goes. Attaches async-profiler (the
# tools.profiler:async-profiler jar from Maven Central, fetched once with mvn into the smshub cache) to the
# broker's JVM for SECONDS, samples on-CPU stacks with itimer (perf events are not allowed in a container),
# writes the collapsed stacks and prints the CPU per thread group, the top self frames and the top
# inclusive frames. Run it on a broker of your own (deploy/local/kafka.sh with SMSHUB_LOCAL_DIR=/tmp/x)
# while a load runs on it (hub-shaped-load.ts).
# Usage: libs/kafka/bench/broker-profile.sh PID [SECONDS=30] [OUT=/tmp/broker-profile.txt] [EVENT=itimer|alloc]
set -euo pipefail
pid=${1:?usage: broker-profile.sh PID [SECONDS] [OUT] [EVENT]}
secs=${2:-30}
out=${3:-/tmp/broker-profile.txt}
event=${4:-itimer}
AP_VERSION=3.0
cache=${SMSHUB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smshub}/async-profiler-$AP_VERSION
lib="$cache/linux-x64/libasyncProfiler.so"
if [ ! -f "$lib" ]; then
  mkdir -p "$cache"
  mvn -q -B dependency:copy -Dartifact="tools.profiler:async-profiler:$AP_VERSION" -DoutputDirectory="$cache" \
    >"$cache/mvn.log" 2>&1 || { cat "$cache/mvn.log" >&2; exit 1; }
  (cd "$cache" && unzip -o -q "async-profiler-$AP_VERSION.jar" linux-x64/libasyncProfiler.so)
fi
# jcmd JVMTI.agent_load splits the agent's options at commas: load it through the Attach API instead.
attach="$cache/Attach.java"
[ -f "$attach" ] || cat >"$attach" <<'JAVA'
import com.sun.tools.attach.VirtualMachine;
public class Attach {
  public static void main(String[] a) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(a[0]);
    vm.loadAgentPath(a[1], a[2]);
    vm.detach();
  }
}
JAVA
interval=""; [ "$event" = itimer ] && interval=",interval=2ms"
java "$attach" "$pid" "$lib" "start,event=$event$interval,threads"
sleep "$secs"
java "$attach" "$pid" "$lib" "stop,file=$out,collapsed$([ "$event" = alloc ] && echo ,total)"
node - "$out" <<'JS'
const lines = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n');
const thr = new Map(), self = new Map(), incl = new Map();
let n = 0;
const add = (m, k, c) => m.set(k, (m.get(k) ?? 0) + c);
for (const l of lines) {
  const i = l.lastIndexOf(' '), c = Number(l.slice(i + 1)), fr = l.slice(0, i).split(';');
  n += c;
  add(thr, fr[0].replace(/ tid=\d+/, '').replace(/\d+/g, '#'), c);
  add(self, fr[fr.length - 1], c);
  for (const f of new Set(fr.slice(1))) add(incl, f, c);
}
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k)
  .map(([f, c]) => `${((100 * c) / n).toFixed(1).padStart(5)}%  ${f}`).join('\n');
console.log(`${n} samples\n-- thread groups\n${top(thr, 12)}\n-- self\n${top(self, 30)}\n-- inclusive\n${top(incl, 60)}`);
JS
echo "collapsed stacks: $out" >&2
