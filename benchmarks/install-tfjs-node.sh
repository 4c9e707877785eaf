#!/usr/bin/env bash
# Installs @tensorflow/tfjs-node into benchmarks/node_modules, offline (issue 20, DESIGN.md "Known traps").
#
# The package's own install script downloads libtensorflow, which fails here. Instead:
#   1. npm install --ignore-scripts @tensorflow/tfjs-node (from the local npm mirror);
#   2. libtensorflow from the local pip mirror's tensorflow-cpu==2.21.0 wheel: libtensorflow_cc.so.2,
#      libtensorflow_framework.so.2 and include/tensorflow/c/... go into the package's deps/ (with the file
#      deps/lib/libtensorflow.so.2.9.1 its scripts/install.js checks for, so that it does not download);
#   3. the binding built from source: node-pre-gyp install --build-from-source --nodedir=<local Node headers>.
#
# Run by the benchmarks only (npm run bench calls it; `bash benchmarks/install-tfjs-node.sh` by hand), never by
# vugrad's install, its tests or CI. About 900 MB on disk. Idempotent: does nothing when the binding already
# loads. Exits 0 with a "skipped: ..." line when something it needs is missing (the suite's tfjs-node column
# then says it did not load). Env: TF_WHEEL=/path/to/tensorflow_cpu-2.21.0-*.whl to skip the pip download.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$here/node_modules/@tensorflow/tfjs-node"
skip() { echo "install-tfjs-node: skipped: $*"; exit 0; }
say() { echo "install-tfjs-node: $*"; }

loads() { (cd "$here" && node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1); }
if [ -d "$pkg" ] && loads; then say "already installed ($pkg)"; exit 0; fi

for tool in node npm python3 unzip make g++; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
pip=(python3 -m pip)
"${pip[@]}" --version >/dev/null 2>&1 || { command -v pip >/dev/null 2>&1 && pip=(pip); } || skip "pip not found"

# Local Node headers for node-gyp (no download): the prefix of the running node, /usr, or node-gyp's cache.
nodedir=""
prefix="$(dirname "$(dirname "$(node -p process.execPath)")")"
for d in "$prefix" /usr /usr/local "$HOME/.cache/node-gyp/$(node -p process.versions.node)"; do
  if [ -f "$d/include/node/node_api.h" ] && [ -f "$d/include/node/common.gypi" ]; then nodedir="$d"; break; fi
done
[ -n "$nodedir" ] || skip "no local Node headers (include/node/node_api.h under $prefix, /usr or ~/.cache/node-gyp)"

# 1. the package, without its scripts
if [ ! -f "$pkg/package.json" ]; then
  say "npm install --ignore-scripts @tensorflow/tfjs-node ..."
  (cd "$here" && npm install --no-audit --no-fund --no-save --ignore-scripts @tensorflow/tfjs-node@^4.22.0) || skip "npm install @tensorflow/tfjs-node failed"
fi
[ -f "$pkg/package.json" ] || skip "npm did not install $pkg"

# 2. libtensorflow from the pip mirror's tensorflow-cpu wheel
if [ ! -f "$pkg/deps/lib/libtensorflow_cc.so.2" ] || [ ! -f "$pkg/deps/include/tensorflow/c/c_api.h" ]; then
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/vugrad-tfwheel-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  wheel="${TF_WHEEL:-}"
  if [ -z "$wheel" ]; then
    say "pip download tensorflow-cpu==2.21.0 (about 270 MB) ..."
    "${pip[@]}" download --no-deps --only-binary=:all: --python-version 3.11 tensorflow-cpu==2.21.0 -d "$tmp" >"$tmp/pip.log" 2>&1 ||
      skip "pip download tensorflow-cpu==2.21.0 failed: $(tail -1 "$tmp/pip.log")"
    wheel="$(ls "$tmp"/tensorflow_cpu-2.21.0-*.whl 2>/dev/null | head -1)"
  fi
  [ -f "$wheel" ] || skip "no tensorflow-cpu wheel"
  say "unpacking libtensorflow from $(basename "$wheel") ..."
  unzip -q -o "$wheel" 'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' 'tensorflow/include/tensorflow/c/*' \
    'tensorflow/include/tensorflow/core/platform/*' 'tensorflow/include/tsl/platform/*' 'tensorflow/include/xla/tsl/c/*' 'tensorflow/include/xla/tsl/platform/*' \
    -d "$tmp/w" 2>/dev/null
  [ -f "$tmp/w/tensorflow/libtensorflow_cc.so.2" ] && [ -f "$tmp/w/tensorflow/include/tensorflow/c/c_api.h" ] ||
    skip "the wheel lacks libtensorflow_cc.so.2 or include/tensorflow/c/c_api.h"
  mkdir -p "$pkg/deps/lib" "$pkg/deps/include"
  cp -f "$tmp/w/tensorflow/libtensorflow_cc.so.2" "$tmp/w/tensorflow/libtensorflow_framework.so.2" "$pkg/deps/lib/"
  cp -rf "$tmp/w/tensorflow/include/." "$pkg/deps/include/"
fi
# The binding links -ltensorflow; the wheel's C API lives in libtensorflow_cc. The versioned name is what
# scripts/install.js checks before it downloads.
(cd "$pkg/deps/lib" &&
  ln -sf libtensorflow_cc.so.2 libtensorflow.so.2 &&
  ln -sf libtensorflow.so.2 libtensorflow.so &&
  ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so &&
  { [ -e libtensorflow.so.2.9.1 ] || ln -sf libtensorflow_cc.so.2 libtensorflow.so.2.9.1; })

# 3. the binding, from source against the local headers
gyp="$here/node_modules/.bin/node-pre-gyp"
[ -x "$gyp" ] || gyp="$(command -v node-pre-gyp || true)"
[ -n "$gyp" ] || skip "node-pre-gyp not found (a dependency of @tensorflow/tfjs-node)"
say "building the binding (node-pre-gyp --build-from-source --nodedir=$nodedir) ..."
(cd "$pkg" && "$gyp" install --build-from-source --nodedir="$nodedir" >"$pkg/deps/build.log" 2>&1) ||
  skip "the binding did not build: $(grep -m3 -i 'error' "$pkg/deps/build.log" | tr '\n' ' ') (log: $pkg/deps/build.log)"
loads || skip "the binding built but does not load: $(cd "$here" && node -e "require('@tensorflow/tfjs-node')" 2>&1 | grep -m1 -i error)"
say "installed: @tensorflow/tfjs-node $(cd "$here" && node -p "require('@tensorflow/tfjs-node').version['tfjs-node']" 2>/dev/null) with libtensorflow from tensorflow-cpu 2.21.0 ($pkg/deps)"
