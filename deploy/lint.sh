#!/usr/bin/env bash
# The code's habits, checked in CI before the tests:
#   ruff (style and likely bugs), mypy (strict on the core and the conversation),
#   import-linter (the layers of docs/architecture.md), pip-audit (known vulnerabilities
#   in the pinned requirements, when the vulnerability database can be reached).
#   bash deploy/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
bin=.venv/bin

echo "ruff:"
"$bin/ruff" check bot core content translation workers tests bench
echo "mypy:"
"$bin/mypy" core bot/conversation
echo "import contracts:"
"$bin/lint-imports" --no-cache
echo "pip-audit:"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
"$bin/pip-audit" -r requirements.txt --no-deps --disable-pip --progress-spinner off -f json -o "$report" >/dev/null 2>&1 \
  || audit_rc=$?
"$bin/python" - "$report" "${audit_rc:-0}" <<'PY'
import json
import sys

path, rc = sys.argv[1], int(sys.argv[2])
try:
    deps = json.load(open(path)).get("dependencies", [])
except (OSError, ValueError):
    deps = []
vulnerable = [(d["name"], d.get("version"), [v["id"] for v in d.get("vulns", [])]) for d in deps if d.get("vulns")]
audited = [d for d in deps if "skip_reason" not in d]
for name, version, ids in vulnerable:
    print(f"  {name} {version}: {', '.join(ids)}")
if vulnerable:
    sys.exit(f"pip-audit: {len(vulnerable)} pinned requirement(s) have known vulnerabilities")
if deps and not audited:
    print(f"  vulnerability database unreachable from here: {len(deps)} pinned requirements not audited")
elif rc and not deps:
    sys.exit("pip-audit failed to run")
else:
    print(f"  {len(audited)} pinned requirements audited, none with known vulnerabilities")
PY
