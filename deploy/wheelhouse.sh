#!/usr/bin/env bash
# Build a wheelhouse for an offline install: every Python package Tumaini runs
# on, as wheels, in one directory to carry on a USB stick with the code.
#
#   bash deploy/wheelhouse.sh [OUT]        (default OUT: ./wheelhouse)
#
# Run it on a connected machine with the same system and Python version as the
# server (Debian 12 has Python 3.11, Ubuntu 24.04 3.12, Debian 13 3.13): wheels
# built from source here only install there if both match. A container of the
# server's system works. On the server:
#
#   sudo bash deploy/install.sh --wheelhouse /media/usb/wheelhouse --wheelhouse-sha256 HEX ...
#
# OUT/requirements.lock pins every wheel by sha256 and the server installs with
# pip --require-hashes. Note the lock's sha256 printed at the end, carried apart
# from the stick (a message, a note): with --wheelhouse-sha256 the installer
# refuses a wheelhouse whose lock was changed on the way.
#
# Models travel separately: `flask --app bot models bundle OUT.tar` on the
# connected machine, `flask --app bot models import OUT.tar` on the server.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

case "${1:-}" in -h | --help) sed -n '2,/^$/p' "$0" | sed -e '/^$/d' -e 's/^# \{0,1\}//'; exit 0 ;; esac
OUT="${1:-wheelhouse}"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "$PYTHON is older than 3.11"

mkdir -p "$OUT"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
"$PYTHON" -m venv "$BUILD/venv"
"$BUILD/venv/bin/pip" install --quiet --upgrade pip wheel
say "collecting wheels for requirements.txt into $OUT"
# pip wheel downloads wheels where they exist and builds the rest, so the
# server needs no compiler and no network.
"$BUILD/venv/bin/pip" wheel --quiet --wheel-dir "$OUT" -r "$(dirname "$HERE")/requirements.txt" pip setuptools wheel
(cd "$OUT" && sha256sum ./*.whl >SHA256SUMS)
lock_wheelhouse "$OUT"
say "requirements.lock sha256 $(sha256sum "$OUT/requirements.lock" | cut -d' ' -f1): give it to install.sh as"
say "  --wheelhouse-sha256 (install.sh installs with pip --require-hashes, exactly these wheels)"
say "$(find "$OUT" -name '*.whl' | wc -l) wheels, $(du -sh "$OUT" | cut -f1), for $("$PYTHON" -c \
  'import platform; print("Python", platform.python_version(), platform.machine())')"
