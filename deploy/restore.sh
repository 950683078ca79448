#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into a fresh database.
#
#   bash deploy/restore.sh BACKUP --passphrase-file FILE --database-url URL \
#        [--create-database] [--content-dir DIR] [--models-dir DIR] [--env-out FILE]
#        [--allow-unauthenticated] [--env-file /etc/tumaini/env] [--ledger FILE]... [--no-replay]
#
# The backup's HMAC tag is checked over the whole file before anything is
# decrypted: a damaged or altered backup is refused and nothing is touched.
# Backups from before authentication (format 1) are refused unless
# --allow-unauthenticated is given, for a file you know was never out of your
# hands. The database password never appears on a command line: give --database-url
# without it and --env-file, whose DATABASE_URL holds it (or use ~/.pgpass); restore.sh
# hands it to the PostgreSQL tools in a PGPASSFILE.
#
# The target database must be empty (--create-database creates it on the same
# PostgreSQL server); a populated one is refused, never merged into. The
# content library is unpacked into --content-dir if given (which must be empty
# or absent). Models are not in the backup: the script lists the ones that were
# installed and, with --models-dir, which are missing here; bring them back
# with `flask --app bot models import BUNDLE`. --env-out writes the settings
# file if the backup was made --with-keys.
#
# Then recorded erasures are replayed: everyone the erasure ledger names who is back
# in the restored database (the backup predates their DELETE) is erased again, with
# `flask --app bot erasure replay` on the restored database. The ledger is not in any
# backup; it is found through the settings: --env-file, else the --env-out file, else
# the environment (ERASURE_LEDGER, or erasure-ledger.jsonl in INSTANCE_DIR). --ledger
# names ledger files instead (repeat it for each worker machine's). A ledger line that
# fails its integrity check is reported and the script fails, after replaying every
# sound line. --no-replay skips this: then run the command yourself before starting.
#
# Stop the workers and web first (systemctl stop tumaini.target), restore,
# point DATABASE_URL at the restored database, then start them again.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

BACKUP="" PASSPHRASE_FILE="" DATABASE_URL_TARGET="" CREATE=0 CONTENT_OUT="" MODELS_DIR="" ENV_OUT=""
UNAUTHENTICATED=0 ENV_FILE="" REPLAY=1 RESTORED_URL=""
LEDGERS=()

while [ $# -gt 0 ]; do
  case "$1" in
    --passphrase-file) PASSPHRASE_FILE="$2"; shift 2 ;;
    --database-url) DATABASE_URL_TARGET="$2"; shift 2 ;;
    --create-database) CREATE=1; shift ;;
    --content-dir) CONTENT_OUT="$2"; shift 2 ;;
    --models-dir) MODELS_DIR="$2"; shift 2 ;;
    --env-out) ENV_OUT="$2"; shift 2 ;;
    --allow-unauthenticated) UNAUTHENTICATED=1; shift ;;
    --env-file) ENV_FILE="$2"; shift 2 ;;
    --ledger) LEDGERS+=(--ledger "$2"); shift 2 ;;
    --no-replay) REPLAY=0; shift ;;
    -h | --help) sed -n '2,/^$/p' "$0" | sed -e '/^$/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$BACKUP" ] || die "one backup file at a time"; BACKUP="$1"; shift ;;
  esac
done

[ -n "$BACKUP" ] || die "which backup? restore.sh BACKUP --passphrase-file FILE --database-url URL"
[ -f "$BACKUP" ] || die "backup $BACKUP does not exist"
[ -s "$PASSPHRASE_FILE" ] || die "--passphrase-file is required and must not be empty"
[ -n "$DATABASE_URL_TARGET" ] || die "--database-url is required (the fresh database to restore into)"

if [ -f "$BACKUP.sha256" ]; then
  (cd "$(dirname "$BACKUP")" && sha256sum --quiet -c "$(basename "$BACKUP").sha256") \
    || die "$BACKUP does not match its .sha256: the file is damaged"
fi

umask 077
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
decrypt() {
  openssl enc -d -aes-256-cbc -pbkdf2 -iter 200000 -pass "file:$PASSPHRASE_FILE" 2>/dev/null
}
if python3 "$HERE/backup_seal.py" is-sealed "$BACKUP"; then
  # The tag is checked over the whole file first; not one byte is decrypted unless it matches.
  python3 "$HERE/backup_seal.py" open --passphrase-file "$PASSPHRASE_FILE" "$BACKUP" >/dev/null 2>&1 \
    || die "$BACKUP failed authentication: wrong passphrase, or the file was damaged or altered"
  if ! python3 "$HERE/backup_seal.py" open --passphrase-file "$PASSPHRASE_FILE" "$BACKUP" 2>/dev/null \
    | decrypt | tar -xf - -C "$STAGE" 2>/dev/null; then
    die "cannot decrypt $BACKUP: wrong passphrase, or the file is damaged"
  fi
elif [ "$UNAUTHENTICATED" = 1 ]; then
  say "warning: $BACKUP is an older backup without authentication (format 1); restoring as asked"
  if ! decrypt <"$BACKUP" | tar -xf - -C "$STAGE" 2>/dev/null; then
    die "cannot decrypt $BACKUP: wrong passphrase, or the file is damaged"
  fi
else
  die "$BACKUP is not an authenticated backup (an older format, or not a Tumaini backup); if it is an old backup that never left your hands, rerun with --allow-unauthenticated"
fi
if [ ! -f "$STAGE/BACKUP" ] || [ ! -f "$STAGE/SHA256SUMS" ]; then
  die "cannot decrypt $BACKUP: wrong passphrase, or not a Tumaini backup"
fi
(cd "$STAGE" && sha256sum --quiet -c SHA256SUMS) || die "$BACKUP decrypted but its contents are damaged"
kind="$(sed -n 's/^database=//p' "$STAGE/BACKUP")"
say "backup of $(sed -n 's/^created=//p' "$STAGE/BACKUP") from $(sed -n 's/^host=//p' "$STAGE/BACKUP") ($kind)"

restore_postgresql() {
  local url name admin tables
  command -v pg_restore >/dev/null || die "pg_restore is needed (apt-get install postgresql-client)"
  local fallback=""
  if [ -n "$ENV_FILE" ]; then
    [ -r "$ENV_FILE" ] || die "cannot read $ENV_FILE"
    fallback="$(env_value "$ENV_FILE" DATABASE_URL)"
  fi
  export PGPASSFILE="$STAGE/.pgpass"
  url="$(pg_url_without_password "$DATABASE_URL_TARGET" "$PGPASSFILE" "$fallback")"
  [ -s "$PGPASSFILE" ] || unset PGPASSFILE  # no password given: ~/.pgpass, or trust, as the system has it
  name="${url##*/}"
  name="${name%%\?*}"
  if [ "$CREATE" = 1 ]; then
    case "$name" in *[!A-Za-z0-9_]*) die "database name '$name' must be letters, digits and _" ;; esac
    admin="${url%/*}/postgres"
    psql -q -v ON_ERROR_STOP=1 "$admin" -c "CREATE DATABASE \"$name\"" >/dev/null \
      || die "could not create database $name (does it exist already?)"
  fi
  tables="$(psql -At -v ON_ERROR_STOP=1 "$url" -c \
    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")" \
    || die "cannot connect to the target database"
  [ "$tables" = 0 ] || die "the target database $name is not empty ($tables tables): restore into a fresh one"
  pg_restore --no-owner --no-privileges --exit-on-error --single-transaction -d "$url" "$STAGE/database.pgdump" \
    || die "pg_restore failed; the target database was left unchanged"
  RESTORED_URL="$url"
}

restore_sqlite() {
  local path="${DATABASE_URL_TARGET#sqlite:///}"
  [ ! -e "$path" ] || die "$path exists: restore into a new SQLite file"
  mkdir -p "$(dirname "$path")"
  cp "$STAGE/database.sqlite" "$path"
  RESTORED_URL="$DATABASE_URL_TARGET"
}

case "$kind:$DATABASE_URL_TARGET" in
  postgresql:postgres://* | postgresql:postgresql://* | postgresql:postgresql+*://*) restore_postgresql ;;
  sqlite:sqlite:///*) restore_sqlite ;;
  *) die "this backup holds a $kind database; --database-url must be a $kind URL" ;;
esac
say "database restored"

if [ -n "$CONTENT_OUT" ]; then
  if [ -d "$CONTENT_OUT" ] && [ -n "$(ls -A "$CONTENT_OUT")" ]; then
    die "$CONTENT_OUT is not empty: give an empty or new directory for the content library"
  fi
  mkdir -p "$CONTENT_OUT"
  tar -xf "$STAGE/content.tar" -C "$CONTENT_OUT"
  say "content library restored into $CONTENT_OUT"
fi

missing=0
for manifest in "$STAGE"/models/*/manifest.json; do
  [ -f "$manifest" ] || continue
  name="$(basename "$(dirname "$manifest")")"
  if [ -n "$MODELS_DIR" ] && ! cmp -s "$manifest" "$MODELS_DIR/$name/manifest.json"; then
    say "model $name: not installed here in the backed-up version"
    missing=$((missing + 1))
  else
    say "model $name: listed in the backup"
  fi
done
if [ "$missing" -gt 0 ]; then
  say "$missing model(s) to bring back: flask --app bot models import BUNDLE (see docs/deploy.md)"
fi

if [ -n "$ENV_OUT" ]; then
  [ -f "$STAGE/env" ] || die "this backup was made without --with-keys; it holds no settings file"
  [ ! -e "$ENV_OUT" ] || die "$ENV_OUT exists; not overwritten"
  cp "$STAGE/env" "$ENV_OUT"
  chmod 600 "$ENV_OUT"
  say "settings (with keys) written to $ENV_OUT"
fi

# The service's own command, with its settings (sourced as the release step does) and the
# restored database; the password stays in the private PGPASSFILE, which libpq reads.
replay_erasures() {
  local app_dir settings
  app_dir="$(dirname "$HERE")"
  settings="${ENV_FILE:-$ENV_OUT}"
  [ -x "$app_dir/.venv/bin/python" ] \
    || die "database restored, but erasures were NOT replayed: no $app_dir/.venv; run \`flask --app bot erasure replay\` with DATABASE_URL set to the restored database before starting the service"
  if [ -n "$settings" ]; then
    [ -r "$settings" ] || die "database restored, but erasures were NOT replayed: cannot read $settings"
    say "replaying recorded erasures (settings from $settings)"
  else
    say "replaying recorded erasures (settings from the environment)"
  fi
  (
    if [ -n "$settings" ]; then
      set -a
      # shellcheck disable=SC1090 # the service's env file, as the release step reads it
      . "$settings"
      set +a
    fi
    export DATABASE_URL="$RESTORED_URL"
    cd "$app_dir" && exec .venv/bin/python -m flask --app bot erasure replay "${LEDGERS[@]}"
  ) || die "database restored, but the erasure replay reported problems (above): resolve them before the service starts, then run \`flask --app bot erasure replay\` again"
}
if [ "$REPLAY" = 1 ]; then
  replay_erasures
else
  say "warning: recorded erasures were NOT replayed (--no-replay): run \`flask --app bot erasure replay\` on the restored database before the service starts, or people who asked to be erased come back"
fi
say "restore complete"
