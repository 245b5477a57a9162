#!/usr/bin/env bash
# setup.sh — installs what the engine needs outside npm, only where it is missing:
#   1. a Vulkan driver Dawn accepts. On a machine without a GPU that is Mesa >= 24 lavapipe; on Debian
#      bookworm that comes from bookworm-backports (bookworm's own Mesa 22.3 fails Dawn's adapter check).
#   2. the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist).
#   3. with --browser: Chromium (Debian package chromium -> /usr/bin/chromium), which the report test drives
#      headless; best effort: when it cannot be installed (no root, offline) that test is skipped, not failed.
#   4. with --torch: PyTorch for /usr/bin/python3 (Debian package python3-torch), which the PyTorch interop test
#      (test/torch_interop.test.ts, interop/pytorch) runs; best effort like Chromium.
# Idempotent: `--check` only reports; without root or off Debian it prints the commands to run instead.
# Usage: bash scripts/setup.sh [--check] [--no-data] [--browser] [--torch] [--quiet]
set -euo pipefail
check=0; data=1; quiet=0; browser=0; torch=0
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    --no-data) data=0 ;;
    --browser) browser=1 ;;
    --torch) torch=1 ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown flag '$a' (try --help)" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "setup: $*"; }

# --- what is there already -------------------------------------------------------------------------------
data_dir=/usr/share/datasets/fashion-mnist
have_data() {
  for d in "${FASHION_MNIST_DIR:-}" ./data "$data_dir"; do
    [ -n "$d" ] && [ -f "$d/train-images-idx3-ubyte.gz" ] && [ -f "$d/t10k-labels-idx1-ubyte.gz" ] && return 0
  done
  return 1
}
# Mesa's lavapipe ICD version (0 when absent). A hardware Vulkan ICD (e.g. NVIDIA) also counts as usable.
mesa_major() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  v=${v#*:}; echo "${v%%.*}" | grep -E '^[0-9]+$' || echo 0
}
have_vulkan() {
  local icd
  [ "$(mesa_major)" -ge 24 ] && ldconfig -p 2>/dev/null | grep 'libvulkan.so.1' >/dev/null && return 0
  for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
             /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json "${VK_DRIVER_FILES:-/nonexistent}"; do
    [ -f "$icd" ] && ldconfig -p 2>/dev/null | grep 'libvulkan.so.1' >/dev/null && return 0
  done
  return 1
}

have_browser() { [ -x /usr/bin/chromium ]; }
# Debian's python3-torch is for Debian's python (a pyenv python3 earlier on the PATH does not see it)
have_torch() { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)' 2>/dev/null; }

need_vk=0; need_data=0; need_browser=0; need_torch=0
have_vulkan || need_vk=1
[ "$data" = 1 ] && ! have_data && need_data=1
[ "$browser" = 1 ] && ! have_browser && need_browser=1
[ "$torch" = 1 ] && ! have_torch && need_torch=1
if [ "$need_vk" = 0 ] && [ "$need_data" = 0 ] && [ "$need_browser" = 0 ] && [ "$need_torch" = 0 ]; then
  say "Vulkan driver and dataset$([ "$browser" = 1 ] && echo ' and Chromium')$([ "$torch" = 1 ] && echo ' and PyTorch') present; nothing to do"; exit 0
fi
[ "$need_vk" = 1 ] && say "missing: a Vulkan driver Dawn accepts (Mesa >= 24 lavapipe or a GPU driver); found Mesa $(mesa_major)"
[ "$need_data" = 1 ] && say "missing: Fashion-MNIST IDX files (looked in \$FASHION_MNIST_DIR, ./data, $data_dir)"
[ "$need_browser" = 1 ] && say "missing: Chromium (/usr/bin/chromium) for the report's browser test"
[ "$need_torch" = 1 ] && say "missing: PyTorch for /usr/bin/python3 (python3-torch) for the PyTorch interop test"
[ "$check" = 1 ] && exit 1

# Chromium and PyTorch: best effort, never a failure (their tests skip without them)
install_browser() {
  if apt-get install -y -qq chromium >/dev/null; then say "installed chromium"
  else echo "setup: could not install chromium (apt-get install chromium); the report's browser test will be skipped" >&2; fi
}
install_torch() {
  if apt-get install -y -qq python3-torch >/dev/null; then say "installed python3-torch"
  else echo "setup: could not install python3-torch (apt-get install python3-torch); the PyTorch interop test will be skipped" >&2; fi
}
install_extras() {
  [ "$need_browser" = 1 ] && install_browser
  [ "$need_torch" = 1 ] && install_torch
  return 0
}
if [ "$need_vk" = 0 ] && [ "$need_data" = 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    install_extras
  else
    [ "$need_browser" = 1 ] && echo "setup: Chromium is missing; install it with: sudo apt-get install chromium (the report's browser test is skipped meanwhile)" >&2
    [ "$need_torch" = 1 ] && echo "setup: PyTorch is missing; install it with: sudo apt-get install python3-torch (the PyTorch interop test is skipped meanwhile)" >&2
  fi
  exit 0
fi

# --- can we install? -------------------------------------------------------------------------------------
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ "$(id -u)" != 0 ] || [ "$codename" != bookworm ] || ! command -v apt-get >/dev/null; then
  cat >&2 <<MSG
setup: cannot install automatically here (needs root on Debian bookworm; this is ${codename:-not Debian}, uid $(id -u)).
Run these yourself (Debian/Ubuntu shown; elsewhere install Mesa >= 24 'lavapipe' Vulkan or a GPU Vulkan driver):
  echo 'deb http://deb.debian.org/debian bookworm-backports main' | sudo tee /etc/apt/sources.list.d/backports.list
  sudo apt-get update
  sudo apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1
  sudo apt-get install dataset-fashion-mnist     # or put the 4 IDX .gz files in ./data or \$FASHION_MNIST_DIR
  sudo apt-get install chromium                  # optional (--browser): the report test's headless browser
  sudo apt-get install python3-torch             # optional (--torch): the PyTorch interop test
MSG
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ "$need_vk" = 1 ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # take the mirror from the machine's own Debian source (deb822 or one-line format)
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
    > /etc/apt/sources.list.d/backports.sources
  say "added bookworm-backports from $uri"
fi
say "apt-get update"
apt-get update -qq
if [ "$need_vk" = 1 ]; then
  say "installing mesa-vulkan-drivers and libvulkan1 from bookworm-backports"
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi
if [ "$need_data" = 1 ]; then
  say "installing dataset-fashion-mnist"
  apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
install_extras
say "done: Mesa $(mesa_major).x lavapipe; data in $data_dir"
