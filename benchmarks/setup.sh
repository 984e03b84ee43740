#!/usr/bin/env bash
# Installs the peers the benchmark compares against: Debian's hugo (and GNU time), and Pelican in its own
# venv (benchmarks/.venv-peers, git-ignored) so it never touches countnight's dependencies.
# Also pyinstrument there, for the profile section of BENCHMARKS.md. Idempotent; run as root (apt-get).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Pelican runs on the interpreter countnight's own environment was made with (the Makefile chooses it), so the
# two Python tools are measured on the same Python; an environment made with another one is made again.
base='import sys; print(sys._base_executable)'
python="${PYTHON:-$("$here/../.venv/bin/python" -c "$base" 2>/dev/null || echo python3)}"
if [ -x "$here/.venv-peers/bin/python" ] && [ "$("$here/.venv-peers/bin/python" -c "$base")" != "$("$python" -c "$base")" ]; then
    rm -rf "$here/.venv-peers"
fi

if ! command -v hugo >/dev/null || [ ! -x /usr/bin/time ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq hugo time >/dev/null
fi

if [ ! -x "$here/.venv-peers/bin/pelican" ]; then
    "$python" -m venv "$here/.venv-peers"
    "$here/.venv-peers/bin/python" -m pip install --quiet --upgrade pip
    "$here/.venv-peers/bin/python" -m pip install --quiet pelican markdown pyinstrument
fi

echo "hugo:     $(hugo version 2>/dev/null | head -1)"
echo "pelican:  $("$here/.venv-peers/bin/pelican" --version)"
