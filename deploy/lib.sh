# Shared shell functions for deploy/install.sh, backup.sh and restore.sh.
# Sourced, never run: it only defines functions.
# shellcheck shell=bash
# OS_ID and OS_VERSION are set for the scripts that source this file.
# shellcheck disable=SC2034

die() {
  printf 'tumaini: %s\n' "$*" >&2
  exit 1
}

say() {
  printf '==> %s\n' "$*"
}

# Supported systems: the ones whose packages the installer knows (Python 3.11+,
# PostgreSQL, Redis 6+, nginx, systemd). Anything else is refused up front
# rather than half-installed.
#   check_os FILE  -> sets OS_ID, OS_VERSION; dies on an unsupported system
check_os() {
  local file="$1" id="" version=""
  [ -r "$file" ] || die "cannot read $file: is this a Linux system with systemd?"
  id=$(sed -n 's/^ID=//p' "$file" | tr -d '"' | head -1)
  version=$(sed -n 's/^VERSION_ID=//p' "$file" | tr -d '"' | head -1)
  case "$id:$version" in
    debian:12 | debian:13 | ubuntu:22.04 | ubuntu:24.04) ;;
    *)
      die "unsupported system '${id:-unknown} ${version:-?}' (from $file); supported: Debian 12/13, Ubuntu 22.04/24.04"
      ;;
  esac
  OS_ID="$id"
  OS_VERSION="$version"
}

# The Python that runs the service on each supported system (3.11 or newer).
python_package_for() {
  case "$1:$2" in
    ubuntu:22.04) echo python3.11 ;;
    *) echo python3 ;;
  esac
}

# Replace @NAME@ placeholders with the values of shell variables NAME.
#   render TEMPLATE OUTPUT NAME...
# Values are inserted literally (no escaping rules; newlines allowed). A
# placeholder left unfilled is an error: a half-rendered config must never
# reach /etc. An output that would not change is not touched; one that does
# sets RENDER_CHANGED=1 (so callers restart a service only when needed).
render() {
  local template="$1" output="$2" tmp
  shift 2
  [ -r "$template" ] || die "template $template is missing"
  tmp="$(mktemp "${output}.XXXXXX")"
  (
    for name in "$@"; do export "TUMAINI_RENDER_$name=${!name-}"; done
    awk -v names="$*" '
      BEGIN { n = split(names, list, " ") }
      {
        line = $0
        for (i = 1; i <= n; i++) {
          key = "@" list[i] "@"; value = ENVIRON["TUMAINI_RENDER_" list[i]]; out = ""
          while ((p = index(line, key)) > 0) {
            out = out substr(line, 1, p - 1) value
            line = substr(line, p + length(key))
          }
          line = out line
        }
        print line
      }' "$template" >"$tmp"
  ) || { rm -f "$tmp"; die "could not render $template"; }
  if grep -qE '@[A-Z][A-Z0-9_]*@' "$tmp"; then
    rm -f "$tmp"
    die "$template: placeholders left unfilled: $(grep -oE '@[A-Z][A-Z0-9_]*@' "$template" | sort -u | tr '\n' ' ')"
  fi
  if [ -f "$output" ] && cmp -s "$tmp" "$output"; then
    rm -f "$tmp"
    return 0
  fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$output"
  RENDER_CHANGED=1
}

# A random secret of 64 URL-safe characters (384 bits) from the kernel's CSPRNG.
random_token() {
  openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\n'
}

# An AES-256 key as core.crypto expects it: 32 random bytes, standard base64.
random_aes_key() {
  openssl rand -base64 32 | tr -d '\n'
}

# Set KEY=VALUE in an env file: replace the first line that sets or comments out
# KEY, or append one. Only for files this installer writes itself.
set_env_value() {
  local file="$1" key="$2" value="$3" escaped
  escaped=$(printf '%s' "$value" | sed -e 's/[\\&|]/\\&/g')
  if grep -qE "^${key}=" "$file"; then
    sed -i "0,/^${key}=.*/s||${key}=${escaped}|" "$file"
  elif grep -qE "^# ?${key}=" "$file"; then
    sed -i "0,/^# \{0,1\}${key}=.*/s||${key}=${escaped}|" "$file"
  else
    printf '%s=%s\n' "$key" "$value" >>"$file"
  fi
}

# Read KEY from an env file (KEY=VALUE lines; no shell evaluation of the file).
env_value() {
  local file="$1" key="$2"
  sed -n "s/^${key}=//p" "$file" | tail -1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# A PostgreSQL URL without its password, which goes into PASSFILE (mode 600) instead, for
# PGPASSFILE: a password on a command line is visible to every local user in ps. A URL without
# a password takes the one in FALLBACK_URL (optional; e.g. DATABASE_URL from /etc/tumaini/env).
#   export PGPASSFILE="$STAGE/pgpass"; url="$(pg_url_without_password "$DATABASE_URL" "$PGPASSFILE")"
pg_url_without_password() {
  python3 - "$1" "$2" "${3:-}" <<'PY'
import os, sys
from urllib.parse import quote, unquote, urlsplit, urlunsplit

url, passfile, fallback = sys.argv[1], sys.argv[2], sys.argv[3]
parts = urlsplit(url)
scheme = "postgresql"
password = unquote(parts.password or "") or unquote(urlsplit(fallback).password or "")
user = unquote(parts.username or "")
host = parts.hostname or ""
if ":" in host:
    host = f"[{host}]"
netloc = (quote(user, safe="") + "@" if user else "") + host + (f":{parts.port}" if parts.port else "")
fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as handle:
    if password:
        escaped = password.replace("\\", "\\\\").replace(":", "\\:")
        handle.write(f"*:*:*:*:{escaped}\n")
print(urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment)))
PY
}

# requirements.lock for a wheelhouse: every wheel in DIR pinned by name, version and sha256, so
# `pip install --require-hashes` installs exactly these files and refuses any other.
lock_wheelhouse() {
  python3 - "$1" <<'PY'
import hashlib, re, sys
from collections import defaultdict
from pathlib import Path

folder = Path(sys.argv[1])
pins = defaultdict(list)
for wheel in sorted(folder.glob("*.whl")):
    name, version = wheel.name.split("-")[:2]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    pins[(re.sub(r"[-_.]+", "-", name).lower(), version)].append(digest)
if not pins:
    sys.exit(f"no wheels in {folder}")
lines = ["# Generated by deploy/wheelhouse.sh: every wheel of this wheelhouse, by sha256."]
for (name, version), digests in sorted(pins.items()):
    lines.append(f"{name}=={version} " + " ".join(f"--hash=sha256:{d}" for d in digests))
(folder / "requirements.lock").write_text("\n".join(lines) + "\n")
PY
}

# Install a wheelhouse into a virtualenv: offline, and only the exact files its lock names.
# EXPECTED (optional) is the lock's sha256 as wheelhouse.sh printed it on the building machine.
install_wheelhouse() {
  local venv="$1" wheelhouse="$2" expected="${3:-}" actual
  [ -f "$wheelhouse/requirements.lock" ] \
    || die "$wheelhouse has no requirements.lock: build it with deploy/wheelhouse.sh"
  actual="$(sha256sum "$wheelhouse/requirements.lock" | cut -d' ' -f1)"
  if [ -n "$expected" ] && [ "$actual" != "$expected" ]; then
    die "$wheelhouse/requirements.lock has sha256 $actual, not the $expected given: refusing this wheelhouse"
  fi
  say "installing from the wheelhouse (requirements.lock sha256 $actual)"
  "$venv/bin/pip" install --quiet --no-index --require-hashes --find-links "$wheelhouse" \
    -r "$wheelhouse/requirements.lock" || die "the wheelhouse does not match its requirements.lock"
}
