#!/usr/bin/env bash
# One command: install (first run only) and run the whole test suite.
#   bash deploy/test.sh [pytest args]
# Integration tests use Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432
# (override with TEST_REDIS_URL / TEST_POSTGRES_URL); they skip when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
exec .venv/bin/python -m pytest "$@"
