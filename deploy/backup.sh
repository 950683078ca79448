#!/usr/bin/env bash
# Back up Tumaini: the database, the content library and the list of installed
# models (their manifests, not the weights, which come back from a model
# bundle), in one file encrypted with a passphrase.
#
#   sudo bash deploy/backup.sh --passphrase-file /etc/tumaini/backup.passphrase \
#        [--env-file /etc/tumaini/env] [--out /var/backups/tumaini] [--keep 14] [--with-keys]
#
# Settings (DATABASE_URL, CONTENT_DIR, MODELS_DIR, INSTANCE_DIR) come from the
# env file, or from the environment when there is none. The output is
# OUT/tumaini-YYYYmmddTHHMMSSZ.tar.enc and a .sha256 beside it; its path is
# printed on the last line. The file is authenticated encryption, encrypt-then-MAC
# (deploy/backup_seal.py): AES-256-CBC with PBKDF2 (openssl enc), then
# HMAC-SHA256 over the whole ciphertext with a key of its own from the same
# passphrase; restore.sh checks the tag before it decrypts anything.
#
# The database password never appears on a command line: pg_dump reads it from
# a PGPASSFILE (mode 600) in the private staging directory.
#
# Message bodies and phone numbers in the database stay encrypted with
# ENCRYPTION_KEYS, which are not in the backup unless --with-keys is given: keep
# a copy of /etc/tumaini/env somewhere safe, away from the backups, or the
# restored data cannot be read.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

ENV_FILE="" OUT="/var/backups/tumaini" PASSPHRASE_FILE="" KEEP=0 WITH_KEYS=0
PBKDF2_ITER=200000

while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) ENV_FILE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --passphrase-file) PASSPHRASE_FILE="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    --with-keys) WITH_KEYS=1; shift ;;
    -h | --help) sed -n '2,/^$/p' "$0" | sed -e '/^$/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[ -n "$PASSPHRASE_FILE" ] || die "--passphrase-file is required (a backup is never written unencrypted)"
[ -s "$PASSPHRASE_FILE" ] || die "passphrase file $PASSPHRASE_FILE is missing or empty"
case "$KEEP" in *[!0-9]*) die "--keep must be a whole number" ;; esac
command -v openssl >/dev/null || die "openssl is needed to encrypt the backup"
command -v python3 >/dev/null || die "python3 is needed to authenticate the backup"

setting() {
  local name="$1" default="$2" value=""
  if [ -n "$ENV_FILE" ]; then
    [ -r "$ENV_FILE" ] || die "cannot read $ENV_FILE"
    value="$(env_value "$ENV_FILE" "$name")"
  else
    value="${!name-}"
  fi
  printf '%s' "${value:-$default}"
}

APP_DIR="$(dirname "$HERE")"
INSTANCE_DIR="$(setting INSTANCE_DIR "$APP_DIR/instance")"
DATABASE_URL="$(setting DATABASE_URL "sqlite:///$INSTANCE_DIR/tumaini.db")"
CONTENT_DIR="$(setting CONTENT_DIR "$APP_DIR/content/library")"
MODELS_DIR="$(setting MODELS_DIR "$INSTANCE_DIR/models")"

umask 077
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/models"

case "$DATABASE_URL" in
  postgres://* | postgresql://* | postgresql+*://*)
    command -v pg_dump >/dev/null || die "pg_dump is needed (apt-get install postgresql-client)"
    export PGPASSFILE="$STAGE/.pgpass"
    url="$(pg_url_without_password "$DATABASE_URL" "$PGPASSFILE")"
    [ -s "$PGPASSFILE" ] || unset PGPASSFILE  # no password in the URL: ~/.pgpass, or trust
    pg_dump --format=custom --no-owner --no-privileges --file "$STAGE/database.pgdump" "$url" \
      || die "pg_dump failed for the database in DATABASE_URL"
    rm -f "$STAGE/.pgpass"
    kind=postgresql
    ;;
  sqlite:///*)
    path="${DATABASE_URL#sqlite:///}"
    [ -f "$path" ] || die "the SQLite database $path does not exist"
    # The online-backup API: a consistent copy even while workers write.
    python3 -c 'import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()' "$path" "$STAGE/database.sqlite"
    kind=sqlite
    ;;
  *) die "unsupported DATABASE_URL scheme: ${DATABASE_URL%%://*}" ;;
esac

[ -d "$CONTENT_DIR" ] || die "content library $CONTENT_DIR does not exist"
tar -C "$CONTENT_DIR" -cf "$STAGE/content.tar" .

models=0
if [ -d "$MODELS_DIR" ]; then
  for manifest in "$MODELS_DIR"/*/manifest.json; do
    [ -f "$manifest" ] || continue
    name="$(basename "$(dirname "$manifest")")"
    mkdir -p "$STAGE/models/$name"
    cp "$manifest" "$STAGE/models/$name/manifest.json"
    models=$((models + 1))
  done
fi

if [ "$WITH_KEYS" = 1 ]; then
  [ -n "$ENV_FILE" ] || die "--with-keys needs --env-file"
  cp "$ENV_FILE" "$STAGE/env"
fi

{
  echo "format=2"
  echo "created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host=$(hostname)"
  echo "database=$kind"
  echo "models=$models"
  echo "keys=$WITH_KEYS"
} >"$STAGE/BACKUP"
(cd "$STAGE" && find . -type f -print0 | sort -z | xargs -0 sha256sum >"$STAGE.sums" && mv "$STAGE.sums" SHA256SUMS)

mkdir -p "$OUT"
name="tumaini-$(date -u +%Y%m%dT%H%M%SZ).tar.enc"
tar -C "$STAGE" -cf - . \
  | openssl enc -aes-256-cbc -pbkdf2 -iter "$PBKDF2_ITER" -salt -pass "file:$PASSPHRASE_FILE" \
  | python3 "$HERE/backup_seal.py" seal --passphrase-file "$PASSPHRASE_FILE" >"$OUT/$name.partial"
mv "$OUT/$name.partial" "$OUT/$name"
(cd "$OUT" && sha256sum "$name" >"$name.sha256")

if [ "$KEEP" -gt 0 ]; then
  find "$OUT" -maxdepth 1 -name 'tumaini-*.tar.enc' -printf '%f\n' | sort -r | tail -n +$((KEEP + 1)) \
    | while read -r old; do rm -f "$OUT/$old" "$OUT/$old.sha256"; done
fi

say "backup written: $kind database, content library, $models model manifest(s)"
echo "$OUT/$name"
