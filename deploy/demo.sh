#!/usr/bin/env bash
# One command: install (first run only) and start the whole service as a demo,
# with an embedded Redis and SQLite, and open the phone simulator.
#   bash deploy/demo.sh [--port 5000]
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=runtime bash deploy/setup.sh
exec .venv/bin/flask --app bot demo "$@"
