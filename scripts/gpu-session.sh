#!/usr/bin/env bash
# gpu-session.sh — the measurements a session with the GPU machine should take, in parts that each fit the
# device tool's 10-minute command limit. Run there as (after `npm ci && bash ../shared/gpu/prepare.sh --data`
# here, carrying .gpu):   bash .gpu/enter.sh bash scripts/gpu-session.sh PART "$OUT"
# PART: bench | cnn | cgan | acgan. Training parts resume from runs/ (kept between calls while the machine stays
# warm), stop themselves before the limit with a checkpoint (SIGTERM), and copy what is small enough to $OUT
# (at most 8 files, 16 MiB each: metrics, curves, grids, summaries; not the optimizer-heavy checkpoints).
set -uo pipefail
part=${1:?usage: gpu-session.sh bench|cnn|cgan|acgan OUT}
out=${2:?usage: gpu-session.sh PART OUT}
mkdir -p "$out"
budget=${BUDGET_S:-540}   # seconds of training per call, leaving time to copy results
node dist/cli.js info | tee "$out/device.txt"
train() { # model, extra args...
  local model=$1; shift
  local dir=runs/gpu-$model ckpt
  ckpt=$dir/checkpoint.safetensors; [ "$model" = cnn ] && ckpt=$dir/last.safetensors
  local resume=(); [ -f "$ckpt" ] && resume=(--resume "$ckpt")
  timeout -s TERM -k 30 "$budget" node dist/cli.js train "$model" --out "$dir" "${resume[@]}" "$@" 2>&1 | grep -v '^\[' | tee "$out/$model-log.txt"
  for f in metrics.jsonl summary.json grid.png losses.svg d_outputs.svg accuracy.svg loss.svg confusion.svg; do
    [ -f "$dir/$f" ] && cp "$dir/$f" "$out/$model-$f"
  done
  true
}
case "$part" in
  bench)
    node bench/matmul.js --json "$out/matmul-h100.json"
    node bench/conv.js --json "$out/conv-h100.json"
    node bench/train-step.js --profile --json "$out/train-step-h100.json" | tee "$out/train-step-h100.txt"
    ;;
  cnn) train cnn --epochs 30 ;;
  cgan) train cgan --epochs "${EPOCHS:-20}" ;;
  acgan) train acgan --epochs "${EPOCHS:-20}" ;;
  *) echo "unknown part '$part' (bench, cnn, cgan, acgan)" >&2; exit 2 ;;
esac
