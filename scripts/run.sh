#!/usr/bin/env bash
# README's first command: install what is missing, build hvemu (release), and run it.
# With no arguments it boots the bundled default guest; arguments are passed to hvemu.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target hvemu >/dev/null
exec build/hvemu "$@"
