#!/usr/bin/env bash
# Installs the peers the benchmark compares against: Debian's hugo (and GNU time), and Pelican in its own
# venv (benchmarks/.venv-peers, git-ignored) so it never touches countnight's dependencies.
# Also pyinstrument there, for the profile section of BENCHMARKS.md. Idempotent; run as root (apt-get).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"

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
