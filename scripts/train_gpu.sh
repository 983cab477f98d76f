#!/usr/bin/env bash
# Train the round-2 recipe on the whole data pool on one CUDA GPU (bf16 autocast), within about
# nine minutes, then calibrate and evaluate the result (on the CPU unless EVAL_DEVICE says otherwise).
#
#   scripts/train_gpu.sh [OUTPUT_DIR] [more `nli-check train` options...]
#
# Steps:
#   1. nli-check train: the recipe's data and schedule, bigger batches, --max-minutes (default 8;
#      the leg counts from the start, data preparation included, and ends with a dev evaluation),
#      the best model saved fp16 in safetensors shards of at most SHARD (default 16MiB; a single
#      tensor larger than that, such as the 30,522 x 384 word-embedding matrix, fills a shard alone).
#   2. nli-check calibrate on EVAL_DEVICE: temperature from the recipe's [[calibration]] sets.
#   3. nli-check eval on EVAL_DEVICE: the recipe's dev sets in full -> OUTPUT_DIR/dev_metrics.json.
# An unfinished run (time limit) keeps its checkpoint: rerun with --resume to continue it.
#
# Settings (environment): CONFIG, DATA_DIR, DEVICE (cuda), MINUTES (8), SHARD (16MiB),
# BATCH_SIZE (256), BATCH_TOKENS (32768), LEARNING_RATE (1e-4), NLI (the nli-check command),
# EVAL_DEVICE (cpu: where steps 2 and 3 run; cuda makes them take seconds instead of minutes).
set -euo pipefail

CONFIG=${CONFIG:-models/nli-minilm-l6-round2.toml}
DATA_DIR=${DATA_DIR:-../shared/nli-data}
OUTPUT=${1:-runs/nli-round2-gpu}
shift || true
DEVICE=${DEVICE:-cuda}
MINUTES=${MINUTES:-8}
SHARD=${SHARD:-16MiB}
BATCH_SIZE=${BATCH_SIZE:-256}
BATCH_TOKENS=${BATCH_TOKENS:-32768}
LEARNING_RATE=${LEARNING_RATE:-1e-4}
EVAL_DEVICE=${EVAL_DEVICE:-cpu}
read -r -a NLI <<< "${NLI:-nli-check}"
mkdir -p "$(dirname "$OUTPUT")"
export TOKENIZERS_PARALLELISM=${TOKENIZERS_PARALLELISM:-true}  # data preparation tokenises on every core

echo "1. train on $DEVICE for at most $MINUTES minutes -> $OUTPUT" >&2
"${NLI[@]}" train --config "$CONFIG" --data-dir "$DATA_DIR" -o "$OUTPUT" --device "$DEVICE" \
    --max-minutes "$MINUTES" --batch-size "$BATCH_SIZE" --learning-rate "$LEARNING_RATE" \
    --set batch_tokens="$BATCH_TOKENS" --set max_shard_size="$SHARD" --set save_dtype=float16 \
    "$@" > "$OUTPUT.train.json"
cat "$OUTPUT.train.json"

echo "2. calibrate on $EVAL_DEVICE" >&2
"${NLI[@]}" calibrate "$OUTPUT" --config "$CONFIG" --data-dir "$DATA_DIR" --device "$EVAL_DEVICE" --json \
    -o "$OUTPUT/calibration_report.json" > /dev/null

echo "3. evaluate on $EVAL_DEVICE" >&2
"${NLI[@]}" eval --config "$CONFIG" --data-dir "$DATA_DIR" --model "$OUTPUT" --device "$EVAL_DEVICE" \
    -o "$OUTPUT/dev_metrics.json"
ls -l "$OUTPUT" >&2
