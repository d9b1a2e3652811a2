#!/usr/bin/env bash
# Fuzzing (issue 15): runs the libFuzzer targets of Benchmarks/Fuzz one after another, each for
# SECONDS, and prints per target the executions per second, the coverage libFuzzer reached
# (cov: edges, ft: features) and the crashes it found.
#
# The targets (Benchmarks/Fuzz/Sources): FuzzSIPMessage (the SIP datagram and stream parser),
# FuzzStreamFramer (TCP/TLS framing), FuzzSDP (SDP and offer/answer), FuzzRTP (RTP packets,
# RFC 4733 events, the DTMF detector) and FuzzDialplan (the YAML dialplan loader and validator).
# Each starts from its committed seed corpus, Benchmarks/Fuzz/Corpus/<target>, plus what
# earlier runs found, var/fuzz/corpus/<target> (new finds go there, never into the seeds).
#
# One fuzzer process at a time (the machine has two cores); a release build instrumented by
# Swift's -sanitize=fuzzer,address, in Benchmarks/Fuzz/.build (not under git).
#
# Usage: Benchmarks/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, all five targets)
# Environment: SKIP_BUILD=1 to use the binaries already built; FUZZ_ARGS for more libFuzzer flags
# (e.g. FUZZ_ARGS=-dict=...).
# Output: var/fuzz/logs/<target>-<date>.log, crash/timeout/leak/oom inputs in
# var/fuzz/artifacts/<target>/. Exits non-zero if any target left such an artifact or failed.
# Reproduce a finding: Benchmarks/Fuzz/.build/release/<target> <artifact>
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzSIPMessage FuzzStreamFramer FuzzSDP FuzzRTP FuzzDialplan)
[ "$seconds" -gt 0 ] 2>/dev/null || { echo "SECONDS_PER_TARGET must be a positive number" >&2; exit 2; }

fuzz=Benchmarks/Fuzz
bin=$fuzz/.build/release
var=var/fuzz
mkdir -p "$var/logs"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # The same dependency versions as the product build.
  [ -f Package.resolved ] && cp Package.resolved "$fuzz/Package.resolved"
  # --sanitize fuzzer links libFuzzer's main (and keeps SwiftPM from renaming the executables'
  # entry points); -Xswiftc -sanitize=fuzzer,address instruments the Swift code itself, which
  # --sanitize alone leaves out (it reaches only the C targets).
  echo "building the fuzz targets (release, -sanitize=fuzzer,address)..."
  swift build -c release --package-path "$fuzz" --sanitize fuzzer --sanitize address \
    -Xswiftc -sanitize=fuzzer,address >"$var/logs/build.log" 2>&1 \
    || { tail -30 "$var/logs/build.log" >&2; echo "build failed (see $var/logs/build.log)" >&2; exit 2; }
fi

failed=0
summary=()
for target in "${targets[@]}"; do
  [ -x "$bin/$target" ] || { echo "no such target: $target" >&2; failed=1; continue; }
  [ -d "$fuzz/Corpus/$target" ] || { echo "no seed corpus: $fuzz/Corpus/$target" >&2; failed=1; continue; }
  corpus=$var/corpus/$target; artifacts=$var/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  log=$var/logs/$target-$(date +%Y%m%d-%H%M%S).log
  before=$(ls "$artifacts" | wc -l)
  echo "$target: ${seconds} s, log $log"
  started=$(date +%s)
  # libFuzzer stops at the first crash; `timeout` bounds a run that would not end by itself.
  # SWIFT_BACKTRACE=enable=no: Swift's own crash backtracer, run under ASan, reads memory ASan
  # reports as a second error; libFuzzer's stack trace is enough.
  # shellcheck disable=SC2086
  SWIFT_BACKTRACE=enable=no timeout --signal=INT --kill-after=60 $((seconds + 300)) \
    "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "$corpus" "$fuzz/Corpus/$target" >"$log" 2>&1
  status=$?
  after=$(ls "$artifacts" | wc -l)
  found=$((after - before))

  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log")
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log")
  last=$(grep -aE '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
  elapsed=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log")
  elapsed=${elapsed:-$(( $(date +%s) - started ))} # a crash ends the run before libFuzzer's "Done"
  line=$(printf "%-17s %5s s  %11s execs  %7s exec/s  cov %5s  ft %6s  corpus %-12s  crashes %s  (exit %s)" \
    "$target" "${elapsed:-?}" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found" "$status")
  echo "$line"
  summary+=("$line")
  if [ "$found" -gt 0 ] || [ "$status" -ne 0 ]; then
    failed=1
    ls -t "$artifacts" | head -"$((found > 0 ? found : 1))" | sed "s|^|  artifact: $artifacts/|"
    grep -aE '^(==[0-9]+==ERROR|invariant failed|Fatal error|SUMMARY|.*Fatal error)' "$log" | head -5 | sed 's/^/  /'
  fi
done

echo
echo "summary ($(date -u +%Y-%m-%dT%H:%MZ), ${seconds} s per target):"
printf '%s\n' "${summary[@]}"
exit $failed
