#!/usr/bin/env bash
# build.sh — builds, serves, tests and benchmarks Glassbox.
#
#   ./build.sh          native CLI + tests, the WASM module, and the static site in dist/
#   ./build.sh serve    build, then serve dist/ on http://localhost:8000
#   ./build.sh test     build, then run every suite (native under ASan/UBSan, node, browser)
#   ./build.sh bench    build, then Glassbox vs onnxruntime-web and wllama -> bench/results/REPORT.md
#                       (./build.sh bench --quick: fewer repetitions, a smoke run)
#   ./build.sh fuzz [SECONDS]  run every libFuzzer target (tests/fuzz/) SECONDS each (default 60)
#   ./build.sh valgrind the native test suites, unsanitized, under Valgrind's memcheck
#
# On a fresh Debian machine it installs what is missing (apt-get as root, npm ci).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
export NODE_PATH=/usr/share/nodejs   # Debian's emcc runs JS tools that need Debian's node modules

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

# ------------------------------------------------------------------ dependencies
need_apt=()
command -v cc >/dev/null || need_apt+=(gcc)
command -v make >/dev/null || need_apt+=(make)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v emcc >/dev/null || need_apt+=(emscripten)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v clang >/dev/null || need_apt+=(clang)
# libFuzzer and clang's sanitizer runtimes (tests/fuzz/), and memcheck
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null || need_apt+=(libclang-rt-14-dev)
command -v valgrind >/dev/null || need_apt+=(valgrind)

install_deps() {
  if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      say "installing ${need_apt[*]}"
      apt-get update -q
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
    else
      echo "missing packages: run  sudo apt-get install -y ${need_apt[*]}" >&2
      exit 1
    fi
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# ------------------------------------------------------------------ builds
build_native() {
  say "native build"
  make -s -j"$(nproc)" all
}

# Linker flags for the standalone module, in one place:
#   STANDALONE_WASM   no Emscripten JS glue (3.1.6's glue is broken on Node >= 18);
#                     wasm/glassbox.js instantiates the module itself.
#   ALLOW_MEMORY_GROWTH + MAXIMUM_MEMORY=4GB  so gpt2 and gpt2-medium fit in a tab.
#   EXPORTED_FUNCTIONS  every EMSCRIPTEN_KEEPALIVE-free export is listed by wasm/exports.txt.
# Compiles the engine's C for wasm into DIR: the hot path (kernels, the forward
# pass, the activation store, the loader and the thread pool) at -O3,
# everything else (interpretability tools, sampling, reads, loaders' parsers,
# tokenizer, API) at -Os: glassbox.wasm 174 -> 148 KiB, the forward pass's code
# unchanged.
wasm_objects() {
  local dir=$1; shift
  local flags=(-msimd128 -mbulk-memory -std=c11 -I"$ROOT/core" "$@")
  local hot=() cold=() f
  for f in core/*.c core/*/*.c wasm/exports.c wasm/pool.c; do
    case $f in
      core/kernels/*|core/run/forward.c|core/run/par.c|core/run/acts.c|core/load/loader.c|wasm/pool.c) hot+=("$ROOT/$f") ;;
      *) cold+=("$ROOT/$f") ;;
    esac
  done
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && emcc -O3 "${flags[@]}" -c "${hot[@]}" && emcc -Os "${flags[@]}" -c "${cold[@]}")
}

build_wasm() {
  say "wasm build"
  mkdir -p build/wasm
  local exports
  exports=$(grep -v '^#' wasm/exports.txt | grep . | sed 's/^/"_/; s/$/"/' | paste -sd, -)
  # TOTAL_STACK: emcc 3.1.6's name for what later releases call STACK_SIZE.
  # ABORTING_MALLOC=0: malloc returns NULL at the 4 GB limit, so the engine
  # reports GB_E_OOM instead of trapping (already the default with growth).
  # -mbulk-memory: memcpy/memset become memory.copy/fill (every current browser
  # and Node 20 has them); measured -6 to -8 ms per GPT-2-small load.
  # MALLOC=emmalloc: the engine makes few, large allocations (the model, the
  # activation store), so dlmalloc's bins buy nothing; emmalloc is 7.6 KB less
  # code (151,932 -> 144,303 bytes) and, unlike 3.1.6's dlmalloc, hands out
  # single blocks over 2 GB under MAXIMUM_MEMORY=4GB.
  local common=(-O3 -msimd128 -mbulk-memory -std=c11 -Icore --no-entry -s MALLOC=emmalloc
    -s STANDALONE_WASM=1 -s ALLOW_MEMORY_GROWTH=1 -s MAXIMUM_MEMORY=4GB
    -s INITIAL_MEMORY=16MB -s TOTAL_STACK=1MB -s FILESYSTEM=0 -s ABORTING_MALLOC=0
    -s EXPORTED_FUNCTIONS="[$exports]")
  wasm_objects build/wasm/obj
  emcc "${common[@]}" build/wasm/obj/*.o -o build/wasm/glassbox.wasm
  # glassbox-mt.wasm: the same engine plus wasm/pool.c's thread pool, over a
  # shared memory the JS imports (wasm/threads.js: MT_MEMORY must match the
  # INITIAL/MAXIMUM_MEMORY above). No -pthread: 3.1.6's pthreads need its JS
  # glue, which STANDALONE_WASM has not; the pool is our own (wasm/pool.c).
  #   -matomics                  atomics and memory.atomic.wait/notify
  #   --shared-memory            the memory is shared; wasm-ld makes the data
  #                              segments passive and initialises them once, in
  #                              the first instance (its start function)
  #   --no-check-features        emcc's prebuilt libc is not compiled for shared
  #                              memory (its thread-locals, errno, are plain
  #                              globals). Only the engine thread calls into libc
  #                              state (malloc); workers run kernels, whose libm
  #                              calls keep no state (musl sets no errno).
  wasm_objects build/wasm/obj-mt -matomics
  emcc "${common[@]}" -matomics -s IMPORTED_MEMORY=1 -Wl,--shared-memory -Wl,--no-check-features \
    build/wasm/obj-mt/*.o -o build/wasm/glassbox-mt.wasm
  ls -l build/wasm/glassbox.wasm build/wasm/glassbox-mt.wasm | awk '{print $NF ": " $5 " bytes"}'
}

# The static site: web/ (minus its build-time tools), the engine, vendored
# Mustache (never committed), the default model and its precomputed trace
# (trace/default.json: the page draws it before the model has loaded), and
# the lesson models (models/lessons/<name>/, lesson mode).
# Until models/default/ exists (it is being trained), a small random-weights
# placeholder with GPT-2's tokenizer stands in, marked as such in its config.
build_site() {
  say "site -> dist/"
  rm -rf dist && mkdir -p dist/vendor dist/models dist/trace
  cp -r web/. dist/
  rm -rf dist/tools
  # glassbox.js replaces web/glassbox.js, which forwards to wasm/ in the source tree
  cp wasm/glassbox.js wasm/interp.js wasm/threads.js wasm/thread-worker.js build/wasm/glassbox.wasm build/wasm/glassbox-mt.wasm dist/
  cp -r wasm/glassbox dist/
  cp node_modules/mustache/mustache.mjs dist/vendor/mustache.mjs
  if [ -f models/default/config.json ]; then
    cp -r models/default dist/models/
  else
    echo "WARNING: models/default/ is missing; dist/models/default is a random-weights placeholder"
    node tests/e2e/synth-model.js dist/models/default --placeholder 1 >/dev/null
  fi
  node web/tools/make-trace.js dist/models/default build/wasm/glassbox.wasm dist/trace/default.json
  # Lesson mode (issue 9): each trained lesson model with its card and lesson.json
  # (the page's walk reads the claims and the held-out sample from it).
  local d f
  for d in models/lessons/*/; do
    if [ ! -f "$d/lesson.json" ] || [ ! -f "$d/model.safetensors" ]; then continue; fi
    mkdir -p "dist/$d"
    for f in config.json model.safetensors vocab.json merges.txt lesson.json MODEL_CARD.md; do
      if [ -f "$d/$f" ]; then cp "$d/$f" "dist/$d"; fi
    done
  done
}

build_all() { install_deps; build_native; build_wasm; build_site; }

# ------------------------------------------------------------------ bench
# What bench/run.js needs beyond build_all: the kernel micro-benchmark (WASM
# and native), the native job-1 program, a scalar-kernel glassbox.wasm (no
# -msimd128, so kernels.h dispatches to the _ref kernels), and the peers,
# onnxruntime-web and wllama (llama.cpp in WASM), from bench/package-lock.json
# (kept out of the root package so CI never downloads them). The checkpoint
# (and its GGUF for wllama) is generated by bench/run.js.
build_bench() {
  say "bench builds"
  local flags=(-std=c11 -D_POSIX_C_SOURCE=200809L -Icore)
  local wasi=(-s STANDALONE_WASM=1 -s INITIAL_MEMORY=64MB -s ALLOW_MEMORY_GROWTH=1)
  emcc -O3 -msimd128 "${flags[@]}" "${wasi[@]}" bench/kernels_bench.c core/kernels/*.c \
    -o build/kernels_bench.wasm
  cc -O2 "${flags[@]}" bench/kernels_bench.c core/kernels/*.c -lm -o build/kernels_bench
  cc -O2 "${flags[@]}" bench/native_bench.c cli/pool.c build/rel/libglassbox.a -lm -pthread -o build/bench_native
  mkdir -p bench/results/tmp
  local exports
  exports=$(grep -v '^#' wasm/exports.txt | grep . | sed 's/^/"_/; s/$/"/' | paste -sd, -)
  emcc -O3 -std=c11 -Icore --no-entry \
    -s STANDALONE_WASM=1 -s ALLOW_MEMORY_GROWTH=1 -s MAXIMUM_MEMORY=4GB \
    -s INITIAL_MEMORY=16MB -s TOTAL_STACK=1MB -s FILESYSTEM=0 -s ABORTING_MALLOC=0 \
    -s EXPORTED_FUNCTIONS="[$exports]" \
    core/*.c core/*/*.c wasm/exports.c wasm/pool.c -o bench/results/tmp/glassbox-scalar.wasm
  if [ ! -d bench/node_modules/onnxruntime-web ] || [ ! -d bench/node_modules/@wllama/wllama ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
    say "npm ci --prefix bench (onnxruntime-web, @wllama/wllama)"
    npm ci --prefix bench --no-audit --no-fund --loglevel=error
  fi
}

# ------------------------------------------------------------------ tests
run_native_tests() {
  say "native tests (ASan + UBSan)"
  local pass=0 fail=0 t
  for t in build/asan/test_*; do
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
  done
  echo "native suites: $pass passed, $fail failed"
  [ "$fail" = 0 ]
}

# A few seconds of every fuzz target (replaying its committed crash inputs
# first), so a parser regression fails CI; ./build.sh fuzz runs them for long.
run_fuzz_smoke() {
  say "fuzz smoke run (tests/fuzz/, 4 s per target)"
  tests/fuzz/run.sh --smoke 4
}

# The unsanitized native tests under memcheck: any error or leak fails. Not in
# `test`: the whole pass takes ~160 s on 2 cores (test_lessons, test_default_model
# and test_kernels dominate), over the 60 s a CI step may spend here.
run_valgrind() {
  say "native tests under valgrind memcheck"
  make -s -j"$(nproc)" plain
  local pass=0 fail=0 t
  for t in build/plain/test_*; do
    if valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
         --errors-for-leak-kinds=definite,indirect,possible "$t" >"$t.valgrind.log" 2>&1; then
      pass=$((pass + 1)); tail -1 "$t.valgrind.log"
    else
      fail=$((fail + 1)); echo "FAILED under valgrind: $t"; tail -30 "$t.valgrind.log"
    fi
  done
  echo "valgrind: $pass clean, $fail failed"
  [ "$fail" = 0 ]
}

run_node_tests() {
  say "node tests"
  node --test tests/node/
}

run_browser_tests() {
  say "browser tests"
  if ls tests/e2e/*.test.js >/dev/null 2>&1; then node --test tests/e2e/; else echo "no browser tests yet"; fi
}

cmd=${1:-build}
case "$cmd" in
  build) build_all ;;
  serve) build_all; say "serving dist/ at http://localhost:8000"; exec node tools/serve.js dist 8000 ;;
  test)
    build_all
    status=0
    run_native_tests || status=1
    run_fuzz_smoke || status=1
    run_node_tests || status=1
    run_browser_tests || status=1
    [ $status = 0 ] && say "all suites passed" || say "SOME SUITES FAILED"
    exit $status ;;
  # run.js: the peers side by side (REPORT.md); longtasks.js: the page in Chromium on the checkpoint run.js made (LONGTASKS.md).
  bench) build_all; build_bench; node bench/run.js "${@:2}" && node bench/longtasks.js > /dev/null ;;
  fuzz) install_deps; tests/fuzz/run.sh "${2:-60}" ;;
  valgrind) install_deps; run_valgrind ;;
  *) echo "usage: ./build.sh [build|serve|test|bench|fuzz [SECONDS]|valgrind]" >&2; exit 2 ;;
esac
