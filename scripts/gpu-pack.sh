#!/usr/bin/env bash
# gpu-pack.sh — packs .gpu/ for the GPU machine (../shared/gpu/prepare.sh) with the runtime's packages only: the
# `dependencies` (Dawn, pngjs), not the devDependencies (the linters alone are ~100 MB, and a device call carries
# 64 MiB at most). node_modules is set aside while prepare.sh packs and put back after, whatever happens.
# Usage (after npm ci and a build): bash scripts/gpu-pack.sh [--data]   (flags go to prepare.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.js ] || { echo "gpu-pack: build first (node scripts/build.mjs)" >&2; exit 1; }
full=node_modules.full
[ -e "$full" ] && { echo "gpu-pack: $full exists (an earlier run cut short?): rm -rf node_modules && mv $full node_modules" >&2; exit 1; }
# every package the runtime needs, dependencies of dependencies included, as paths under node_modules/
mapfile -t pkgs < <(npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s|^$PWD/node_modules/||p")
[ "${#pkgs[@]}" -gt 0 ] || { echo "gpu-pack: npm ls found no runtime packages (run npm ci)" >&2; exit 1; }
mv node_modules "$full"
trap 'rm -rf node_modules; mv "$full" node_modules' EXIT
mkdir node_modules
for p in "${pkgs[@]}"; do mkdir -p "node_modules/$(dirname "$p")"; cp -a "$full/$p" "node_modules/$p"; done
echo "gpu-pack: node_modules with ${#pkgs[@]} runtime packages: ${pkgs[*]}"
bash ../shared/gpu/prepare.sh "$@"
