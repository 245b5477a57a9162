#!/usr/bin/env bash
# gpu-session.sh — what a session with the GPU machine runs: 15 minutes of device time in all (the machine's start
# included), at most 10 minutes a call, a fresh machine each session, ~64 MiB returned per call. So each session
# finishes ONE piece (issue 22); bench/RESULTS.md ("GPU sessions: the plan") says which piece is next. Prepare here:
#
#   npm ci && node scripts/build.mjs && bash scripts/gpu-pack.sh --data   (../shared/gpu/prepare.sh, runtime packages only)
#   device run, carry [".gpu", "dist/cli.js", "dist/index.js", "dist/chunks"], timeout_s 600 (the carried tree must
#   stay under 64 MiB: .gpu with the data is 60 MB; move bench/results/gpu-*/ and docs/ aside for the call if needed):
#     GANS=cgan EPOCHS=50 EVAL=0 TOTAL_S=530 bash .gpu/enter.sh bash scripts/gpu-session.sh all "$OUT"
#
# `all` ends within TOTAL_S seconds (default 540), whatever the speed:
#   1. scripts/gpu-features.mjs (what Dawn offers, with and without allow_unsafe_apis), then the training steps
#      against PyTorch, with the profile (bench/train-step.js --profile; BENCH=1 adds 1000 AC-GAN steps for memory,
#      the step without split-K, bench/conv.js --quick and bench/matmul.js; BENCH=0 none of it);
#   2. the evaluation classifier, only with CNN=1 or where models/ has none;
#   3. the GANs in GANS (default "acgan cgan"), one after the other, each EPOCHS (default 20) or until its share of
#      what is left minus EVAL_S + 20 s, FID and accuracy every 5 epochs; the default presets;
#   4. their evaluation, unless EVAL=0 (FID, KID, precision/recall, classifier score, accuracy, balance, truncation,
#      latent figures, report.html; a run that finishes its epochs evaluates itself anyway);
#   5. back in $OUT: results.tar.gz (logs, metrics, curves, grids, eval reports), <gan>-samples.tar (a grid per
#      epoch), <gan>.safetensors + .sha256 (the weights to ship: scripts/ship-gan.mjs), eval-classifier.*, session.log.
# A second call on the still-warm machine (30 s) continues: `TOTAL_S=… gans` trains on from runs/ and evaluates.
# `augment`: the augmentation study of each shipped GAN (models/*.safetensors) and `train cnn --augment`.
# Back here: `node scripts/gpu-ingest.mjs OUT` (SUMMARY.md of every figure; --ship copies a new classifier).
# Other parts: bench | cnn | cgan | acgan | gans. CNN_ARGS, CNN_EVAL_ARGS, GAN_ARGS and EVAL_ARGS add flags; RUNS
# moves runs/; CNN_S (100), EVAL_S (90; 200 for augment) and SHIP_S (60) bound the classifier's training, a GAN's
# evaluation and the classifier's shipping. A trial on lavapipe (test/gpu_session.test.ts): BENCH=0 CNN=1 EPOCHS=2
# CNN_ARGS='--train-subset 256 --test-subset 256 --epochs 2' CNN_EVAL_ARGS='--test-subset 256'
# GAN_ARGS='--train-subset 128 --fid-n 100 --fid-every 1' EVAL_ARGS='--n 100 --real-n 100', with every time budget
# (TOTAL_S, CNN_S, EVAL_S, SHIP_S) far above what that work takes, so that the work bounds it, not the clock.
set -uo pipefail
part=${1:?usage: gpu-session.sh all|bench|cnn|cgan|acgan|gans|augment OUT}
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
    # a GAN's weights as the repo ships them (models/M.safetensors: weight average and D, F16, ~9 MB; the full
    # checkpoint is ~66 MB, and a call returns ~64 MiB in all)
    [ "$m" != cnn ] && [ -f "$dir/checkpoint.safetensors" ] && node scripts/ship-gan.mjs "$dir/checkpoint.safetensors" "$out/$m.safetensors"
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

augment() { # the augmentation study of each shipped GAN (models/, any machine: it samples the shipped weights), one
  # after the other, then the CNN trained with shifts and flips (`train cnn --augment`); issue 22's later piece
  local m f
  for m in ${GANS:-cgan acgan}; do
    f=models/$m.safetensors
    [ -f "$f" ] || { echo "no $f: nothing to study for $m"; continue; }
    stamp "augmentation study $m"
    timeout -k 10 "${EVAL_S:-200}" node dist/cli.js eval gan --checkpoint "$f" --classifier "$(classifier)" \
      --out "$runs/gpu-$m/eval-augment" --what augment ${EVAL_ARGS:-} >> "$res/$m-augment-log.txt" 2>&1
  done
  train "${CNN_S:-100}" cnn --epochs 30 --augment ${CNN_ARGS:-}
}

case "$part" in
  all)
    [ "${BENCH:-steps}" != 0 ] && BENCH=${BENCH:-steps} bench
    # the evaluation classifier ships in models/ since the first GPU session: trained again only with CNN=1
    if [ "${CNN:-0}" = 1 ] || [ ! -f models/eval-classifier.safetensors ]; then
      train "${CNN_S:-100}" cnn --epochs 30 ${CNN_ARGS:-}
    fi
    # the evaluation classifier as it is to be shipped (models/): weights only, test accuracy and SHA-256
    cls=$runs/gpu-cnn/eval-classifier.safetensors
    if [ -f "$runs/gpu-cnn/best.safetensors" ]; then
      stamp "ship the classifier"
      timeout "${SHIP_S:-60}" node dist/cli.js eval cnn --checkpoint "$runs/gpu-cnn/best.safetensors" --ship "$cls" \
        ${CNN_EVAL_ARGS:-} > "$res/cnn-ship.txt" 2>&1
      cat "$res/cnn-ship.txt"
    fi
    gans
    pack
    ;;
  gans) gans; pack ;;
  augment) [ "${BENCH:-steps}" != 0 ] && BENCH=${BENCH:-steps} bench; augment; pack ;;
  bench) bench; pack ;;
  cnn) train "${BUDGET_S:-540}" cnn --epochs 30; pack ;;
  cgan|acgan) train "${BUDGET_S:-540}" "$part" --epochs "${EPOCHS:-20}"; pack ;;
  *) echo "unknown part '$part' (all, bench, cnn, cgan, acgan, gans, augment)" >&2; exit 2 ;;
esac
stamp done
