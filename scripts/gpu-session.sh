#!/usr/bin/env bash
# gpu-session.sh — every measurement a session with the GPU machine should take, in ONE device call (a session
# has 15 minutes of device time in all, the machine's start included, and a machine goes back 30 s after a call,
# so nothing survives between calls). Prepare here, then run there:
#
#   npm ci && node scripts/build.mjs && bash ../shared/gpu/prepare.sh --data
#   device run, carry [".gpu", "dist/cli.js", "dist/index.js", "dist/chunks"] (not dist/test or dist/web: the
#   carried tree must stay under 64 MiB and .gpu with the data is 60 MiB), timeout_s 600:
#     EVAL=0 bash .gpu/enter.sh bash scripts/gpu-session.sh all "$OUT"   (EVAL=0: see "Two calls" below)
#
# `all` ends within TOTAL_S seconds (default 540; the device call's limit is 600), whatever the speed:
#   1. benchmarks, alone on the GPU: bench/train-step.js --profile (issue 7; with the conv tiles timed per
#      problem, the data for pickTile's hardware rule), the AC-GAN step again with --split-k off (what conv2d's
#      split-K buys), 1000 AC-GAN steps (memory), bench/conv.js --quick (issue 3), bench/matmul.js;
#   2. the evaluation classifier (issue 6), only with CNN=1 or where models/ has none (it ships there since the
#      first GPU session): the CNN for CNN_S seconds (default 100), its best checkpoint tested and written slim
#      with its SHA-256 (`npm run eval -- cnn --ship`);
#   3. AC-GAN, then cGAN (issue 5), one after the other (side by side they time-share the GPU and each ran 2.4×
#      slower), each 20 epochs or until its share of what is left minus EVAL_S + 20 s, FID and accuracy on
#      generated images every 5 epochs on the classifier's features (this session's, else the shipped one), of the
#      generator's weight average and of the trained weights; the default presets (projection cGAN, AC-GAN with a
#      real-only class head);
#   4. the evaluation of both, unless EVAL=0 (FID with the real-vs-real floor, KID, precision/recall, the classifier
#      score, accuracy, balance, the truncation study, latent figures, report.html;
#      EVAL_WHAT adds `augment`, the augmentation study: four classifier trainings, ~2 min per GAN on an H200 at
#      10 epochs (EVAL_ARGS='--augment-epochs 5' halves it); then the two run one after the other);
#   5. back in $OUT (at most 8 files of 16 MiB come back from a device call): results.tar.gz (benchmarks, logs,
#      curves, grids, metrics, eval reports), cgan-samples.tar and acgan-samples.tar (the grid of every epoch),
#      eval-classifier.safetensors and .sha256 (`eval cnn --ship`: the FID ruler; commit both to models/),
#      session.log.
# Back here: `node scripts/gpu-ingest.mjs OUT --ship` (SUMMARY.md of every figure; the classifier into models/).
# CNN_ARGS, CNN_EVAL_ARGS, GAN_ARGS and EVAL_ARGS add flags (a trial on lavapipe: BENCH=0 CNN=1 TOTAL_S=420 EPOCHS=2
# CNN_ARGS='--train-subset 256 --test-subset 256 --epochs 2' CNN_EVAL_ARGS='--test-subset 256'
# GAN_ARGS='--train-subset 128 --fid-n 100 --fid-every 1' EVAL_ARGS='--n 100 --real-n 100').
# Two calls in one session (the usual plan): EVAL=0 on the first (`EVAL=0 … all`: benchmarks, then all the rest
# of the call trains), then `TOTAL_S=… gans` on the still-warm machine trains on and evaluates. A GAN whose run
# already has its EPOCHS is not trained again (nor re-evaluated, unless EVAL_WHAT asks for `augment`).
# Single parts for a longer lease: bench | cnn | cgan | acgan | gans (training parts resume from runs/gpu-*, which a
# warm machine keeps between calls: `gans` in a second call right after `all` trains both GANs further, with
# TOTAL_S set to what that call may take).
# RUNS moves runs/ (test/gpu_session.test.ts runs the trial into a temporary directory).
set -uo pipefail
part=${1:?usage: gpu-session.sh all|bench|cnn|cgan|acgan|gans OUT}
out=${2:?usage: gpu-session.sh PART OUT}
mkdir -p "$out"
exec > >(tee -a "$out/session.log") 2>&1
runs=${RUNS:-runs}
res=$runs/gpu-results   # what gets packed
mkdir -p "$res"
stamp() { echo "== $(date -u +%FT%TZ) (+$SECONDS s) $*"; }
node dist/cli.js info | tee "$res/device.txt"

train() { # budget_s model extra-args... — trains into runs/gpu-MODEL, resuming when a checkpoint is there
  local budget=$1 model=$2; shift 2
  local dir=$runs/gpu-$model ckpt
  ckpt=$dir/checkpoint.safetensors; [ "$model" = cnn ] && ckpt=$dir/last.safetensors
  local resume=(); [ -f "$ckpt" ] && resume=(--resume "$ckpt")
  stamp "train $model (budget ${budget}s) $*"
  # SIGTERM makes training write its checkpoint and stop; progress bars (lines starting with '[') are dropped
  timeout -s TERM -k 30 "$budget" node dist/cli.js train "$model" --out "$dir" "${resume[@]}" "$@" 2>&1 \
    | grep --line-buffered -v '^\[' >> "$res/$model-log.txt"
  stamp "train $model ended (exit ${PIPESTATUS[0]})"
}
features() { # what Dawn offers here, with and without allow_unsafe_apis (issue 22 (a)): a second, no device
  stamp scripts/gpu-features.mjs
  timeout 30 node scripts/gpu-features.mjs --json "$res/features.json" > "$res/features.txt" 2>&1
  cat "$res/features.txt"
}
bench() { # each under its own timeout (at most 280 s together); BENCH=steps: the training steps alone (120 s)
  features
  # train-step times every conv problem of each step under every tile after its first warm-up step (as training
  # does) and keeps the fastest: its JSON holds each problem's ms per tile (the sweep for pickTile's hardware rule)
  stamp bench/train-step.js
  timeout 120 node bench/train-step.js --profile --json "$res/train-step.json" > "$res/train-step.txt" 2>&1
  [ "${BENCH:-1}" = steps ] && return 0
  # issue 7's "GPU memory flat over 1000 steps after warm-up": the AC-GAN step 1000 times (allocated growth)
  stamp bench/train-step.js 1000 steps
  timeout 40 node bench/train-step.js --model acgan --batch 64 --steps 1000 --json "$res/train-step-1000.json" > "$res/train-step-1000.txt" 2>&1
  # what conv2d's split-K of the forward and input gradient buys (unmeasured when it landed): the AC-GAN step without it
  stamp bench/train-step.js --split-k off
  timeout 40 node bench/train-step.js --model acgan --split-k off --tune-budget 5 --json "$res/train-step-nosplit.json" > "$res/train-step-nosplit.txt" 2>&1
  stamp bench/conv.js --quick
  timeout 50 node bench/conv.js --quick --json "$res/conv.json" > "$res/conv.txt" 2>&1
  stamp bench/matmul.js
  timeout 30 node bench/matmul.js --json "$res/matmul.json" > "$res/matmul.txt" 2>&1
}
left() { echo $(( ${TOTAL_S:-540} - SECONDS )); }
epochs_done() { # the last epoch runs/gpu-MODEL/metrics.jsonl records (0 without one)
  local f=$runs/gpu-$1/metrics.jsonl e=0
  [ -s "$f" ] && e=$(tail -n 1 "$f" | grep -o '"epoch":[0-9]*' | cut -d: -f2)
  echo "${e:-0}"
}
evalgan() { # model — evaluation of runs/gpu-MODEL with the classifier, unless training already wrote it (its
  # end-of-run evaluation leaves the augmentation study out: asked for in EVAL_WHAT, the evaluation runs again)
  local dir=$runs/gpu-$1 what=${EVAL_WHAT:-fid,kid,prc,isc,accuracy,balance,truncation,latent,report}
  [ -f "$dir/eval/report.html" ] && [[ $what != *augment* ]] && return 0
  [ -f "$dir/checkpoint.safetensors" ] || { echo "no $dir/checkpoint.safetensors to evaluate"; return 0; }
  stamp "eval $1"
  timeout -k 10 "${EVAL_S:-90}" node dist/cli.js eval gan --checkpoint "$dir/checkpoint.safetensors" \
    --classifier "$(classifier)" --out "$dir/eval" --what "$what" ${EVAL_ARGS:-} \
    >> "$res/$1-eval-log.txt" 2>&1
}
pack() { # at most 8 files of 16 MiB come back: results.tar.gz, <gan>-samples.tar (one grid per epoch), the weights
  for m in cnn cgan acgan; do
    local dir=$runs/gpu-$m
    [ -d "$dir" ] || continue
    mkdir -p "$res/$m"
    local dest; dest=$(realpath "$res/$m")
    # small files only: metrics, curves, grids, summaries, eval reports (samples/ and weights travel apart)
    (cd "$dir" && find . -maxdepth 3 -path ./samples -prune -o -type f \( -name '*.jsonl' -o -name '*.json' -o -name '*.svg' \
      -o -name '*.png' -o -name '*.html' -o -name '*.txt' -o -name '*.md' \) -size -4M -print0 | xargs -0r cp --parents -t "$dest")
    [ -d "$dir/samples" ] && tar cf "$out/$m-samples.tar" -C "$dir" samples
    # a GAN's checkpoint (its weights to ship, slimmed back here) in parts under the 16 MiB a file may have
    [ "$m" != cnn ] && [ -f "$dir/checkpoint.safetensors" ] && split -b 15M -d "$dir/checkpoint.safetensors" "$out/$m-checkpoint.part"
  done
  [ -f "$runs/gpu-cnn/eval-classifier.safetensors" ] && cp "$runs"/gpu-cnn/eval-classifier.safetensors* "$out/"
  tar czf "$out/results.tar.gz" -C "$runs" gpu-results
  ls -la "$out"
}

classifier() { # the FID ruler: this session's classifier if it trained one, else the shipped one
  local own=$runs/gpu-cnn/eval-classifier.safetensors
  if [ -f "$own" ]; then echo "$own"; elif [ -f models/eval-classifier.safetensors ]; then echo models/eval-classifier.safetensors; fi
}
gans() { # AC-GAN, then cGAN (resuming runs/gpu-*), until what is left minus EVAL_S + 20 s, then their evaluations.
  # One after the other: side by side (first session) each ran at 31.9 s per epoch, where one alone takes ~13.5 s
  # (the two processes time-share the GPU). EVAL=0 leaves the evaluations (and their EVAL_S) to a later call: for a
  # first call that a second will continue, so that its time goes to training (a run that ends its epochs still
  # evaluates itself, within its training share)
  local cls fid=() m s p1 p2 ev=${EVAL_S:-90} n=${EPOCHS:-20}
  [ "${EVAL:-1}" = 0 ] && ev=0
  [[ ${EVAL_WHAT:-} == *augment* ]] && ev=$(( 2 * ev )) # one evaluation after the other (below)
  cls=$(classifier)
  [ -n "$cls" ] && fid=(--classifier "$cls" --fid-every 5)
  for m in ${GANS:-acgan cgan}; do
    if (( $(epochs_done "$m") >= n )); then
      # an earlier call finished it (and its run evaluated itself): its time goes to the other and the evaluation
      echo "$m: $n epochs done in an earlier call; not trained again"
      continue
    fi
    rm -rf "$runs/gpu-$m/eval" # an evaluation left by an earlier call describes an older checkpoint
    # the AC-GAN gets half of what is left, the cGAN the rest (all of it where the AC-GAN had nothing to do)
    s=$(( $(left) - ev - 20 ))
    [ "$m" = acgan ] && [[ " ${GANS:-acgan cgan} " == *" cgan "* ]] && (( $(epochs_done cgan) < n )) && s=$(( s / 2 ))
    (( s < 30 )) && s=30
    # a NaN reloads the last checkpoint at half the learning rate instead of ending the GAN's share of the session
    train "$s" "$m" --epochs "$n" --on-nan rollback "${fid[@]}" ${GAN_ARGS:-}
  done
  [ -n "$cls" ] && [ "${EVAL:-1}" != 0 ] || return 0
  if [[ ${EVAL_WHAT:-} == *augment* ]]; then
    # the augmentation study trains classifiers for minutes: one GAN after the other, so that a call that runs out
    # of time still has one whole study (side by side, both would be cut)
    for m in ${GANS:-cgan acgan}; do evalgan "$m"; done
  elif [ "${GANS:-acgan cgan}" = cgan ] || [ "${GANS:-acgan cgan}" = acgan ]; then
    evalgan "$GANS"
  else
    # explicit PIDs: a bare `wait` would also wait for the `tee` behind exec (bash ≥ 5.1), i.e. for ever
    evalgan cgan & p1=$!; evalgan acgan & p2=$!; wait "$p1" "$p2"
  fi
}

case "$part" in
  all)
    [ "${BENCH:-1}" != 0 ] && bench
    # the evaluation classifier ships in models/ since the first GPU session: trained again only with CNN=1
    if [ "${CNN:-0}" = 1 ] || [ ! -f models/eval-classifier.safetensors ]; then
      train "${CNN_S:-100}" cnn --epochs 30 ${CNN_ARGS:-}
    fi
    # the evaluation classifier as it is to be shipped (models/): weights only, test accuracy and SHA-256
    cls=$runs/gpu-cnn/eval-classifier.safetensors
    if [ -f "$runs/gpu-cnn/best.safetensors" ]; then
      stamp "ship the classifier"
      timeout 60 node dist/cli.js eval cnn --checkpoint "$runs/gpu-cnn/best.safetensors" --ship "$cls" ${CNN_EVAL_ARGS:-} > "$res/cnn-ship.txt" 2>&1
      cat "$res/cnn-ship.txt"
    fi
    gans
    pack
    ;;
  gans) gans; pack ;;
  bench) bench; pack ;;
  cnn) train "${BUDGET_S:-540}" cnn --epochs 30; pack ;;
  cgan|acgan) train "${BUDGET_S:-540}" "$part" --epochs "${EPOCHS:-20}"; pack ;;
  *) echo "unknown part '$part' (all, bench, cnn, cgan, acgan, gans)" >&2; exit 2 ;;
esac
stamp done
