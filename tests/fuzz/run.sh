#!/usr/bin/env bash
# run.sh [--smoke] [SECONDS] [TARGET...] — builds and runs the libFuzzer targets.
#
#   SECONDS   time per target (default 60; --smoke: 4)
#   TARGET    safetensors json config tokenizer_load model_load load_stream tokenize sample
#             (default: all)
#
# Each target first replays its committed crash inputs (tests/fuzz/regressions/
# <target>/), then fuzzes from its corpus build/fuzz/corpus/<target> (kept
# between runs, so coverage accumulates) plus fresh seeds from make_seeds.sh.
# Crashes are written to build/fuzz/crashes/<target>/. A table of executions,
# exec/s and coverage (cov = edges, ft = features) closes the run; the exit
# status is the number of targets that failed.
# Environment: FUZZ_NICE (default 10), FUZZ_ARGS (extra libFuzzer flags).
set -uo pipefail
cd "$(dirname "$0")/../.."
smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi
secs=60
[ $smoke = 1 ] && secs=4
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
targets=("$@")
[ ${#targets[@]} = 0 ] && targets=(safetensors json config tokenizer_load model_load load_stream tokenize sample)

make -s -j"$(nproc)" fuzz || exit 1
tests/fuzz/make_seeds.sh build/fuzz/seeds >/dev/null || exit 1

dict_for() {
  case $1 in
    safetensors) echo tests/fuzz/safetensors.dict ;;
    json | config | tokenizer_load) echo tests/fuzz/json.dict ;;
    model_load | load_stream) cat tests/fuzz/json.dict tests/fuzz/safetensors.dict >build/fuzz/model_load.dict
                echo build/fuzz/model_load.dict ;;
    tokenize) echo tests/fuzz/tokenize.dict ;;
    *) echo "" ;;
  esac
}

fails=0
summary=()
for t in "${targets[@]}"; do
  bin=build/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "no such target: $t" >&2; fails=$((fails + 1)); continue; }
  mkdir -p "build/fuzz/corpus/$t" "build/fuzz/crashes/$t"
  log=build/fuzz/$t.log
  if compgen -G "tests/fuzz/regressions/$t/*" >/dev/null; then
    if ! "$bin" -rss_limit_mb=2048 -malloc_limit_mb=2048 tests/fuzz/regressions/$t/* >"build/fuzz/$t.replay.log" 2>&1; then
      echo "FAILED: $t regression inputs (build/fuzz/$t.replay.log)"; tail -20 "build/fuzz/$t.replay.log"
      fails=$((fails + 1)); summary+=("$(printf '%-15s %s' "$t" "REGRESSION INPUT FAILS")"); continue
    fi
  fi
  dict=$(dict_for "$t")
  # -rss_limit_mb / -malloc_limit_mb: a parser that asks for more than 2 GB on a
  # small input is a bug (the limits in core/ should have refused it).
  nice -n "${FUZZ_NICE:-10}" "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 ${dict:+-dict=$dict} \
    -artifact_prefix="build/fuzz/crashes/$t/" ${FUZZ_ARGS:-} \
    "build/fuzz/corpus/$t" "build/fuzz/seeds/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(find "build/fuzz/corpus/$t" -type f | wc -l)
  status=ok
  if [ $rc != 0 ]; then
    status="CRASH (see $log, build/fuzz/crashes/$t/)"; fails=$((fails + 1))
    grep -E 'FZ_ASSERT|ERROR|SUMMARY|runtime error' "$log" | head -5
  fi
  summary+=("$(printf '%-15s %12s %9s %7s %7s %7s  %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$status")")
done
printf '%-15s %12s %9s %7s %7s %7s  %s\n' target executions exec/s cov ft corpus status
printf '%s\n' "${summary[@]}"
exit $fails
