#!/usr/bin/env bash
# Install (or upgrade) Tumaini on one regional server. Safe to rerun: every
# step checks what is there first, and an existing /etc/tumaini/env is never
# overwritten. Rerunning it with new code is the upgrade: the new release is
# unpacked beside the old one, migrations run while the old one still serves,
# then the services switch over.
#
#   sudo bash deploy/install.sh --domain sms.example.org --email ops@example.org
#   sudo bash deploy/install.sh --domain sms.example.org --cert /path/full.pem --key /path/key.pem
#   sudo bash deploy/install.sh --workers 2 --wheelhouse /media/usb/wheelhouse   # offline
#   sudo bash deploy/install.sh --no-web --no-local-services --workers 2         # a worker-only machine
#
# Options:
#   --domain NAME          public host name; PUBLIC_BASE_URL becomes https://NAME
#   --email ADDRESS        with --domain: get a Let's Encrypt certificate (certbot, HTTP-01)
#   --cert PATH --key PATH use this certificate chain and key instead
#   --workers N            worker processes on this machine (default 1; 0 for none)
#   --web-workers N        gunicorn processes (default 2)
#   --no-web               no web process and no nginx here (a worker machine)
#   --no-local-services    do not install Redis or PostgreSQL here (DATABASE_URL and
#                          REDIS_URL in /etc/tumaini/env point at shared servers)
#   --upstream LIST        web backends nginx balances over, host:port,host:port
#                          (default: this machine's gunicorn)
#   --web-bind ADDR        where gunicorn listens (default 127.0.0.1:8000; a private
#                          address when a load balancer on another machine uses it)
#   --forwarded-allow-ips LIST  proxies gunicorn trusts for X-Forwarded-* (default 127.0.0.1,::1;
#                          add the load balancer's address on web machines behind one)
#   --metrics-allow LIST   extra addresses or networks allowed to read /metrics and /healthz
#   --webhook-rate N       webhook requests per second per client address (default 50)
#   --http-port N / --https-port N   (default 80 / 443)
#   --wheelhouse DIR       install Python packages offline from DIR (deploy/wheelhouse.sh), exactly
#                          the wheels its requirements.lock pins by sha256 (pip --require-hashes)
#   --wheelhouse-sha256 HEX  the lock's sha256 that wheelhouse.sh printed: refuse any other
#   --prefix DIR           where releases live (default /opt/tumaini)
#   --root DIR             write files under DIR instead of /, and skip every step
#                          that changes the running system (packages, users, services)
#   --os-release PATH      read the system's identity from PATH (default /etc/os-release)
#   --only STEPS           run only these steps, comma-separated, in the usual order:
#                          os,packages,user,code,venv,env,redis,database,units,nginx,tls,
#                          logs,release,services

# Settings below are read by name when templates are rendered (render in lib.sh).
# shellcheck disable=SC2034
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SOURCE_DIR="$(dirname "$HERE")"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# ---- settings ---------------------------------------------------------------
DOMAIN="" EMAIL="" CERT="" KEY="" WORKERS=1 WEB_WORKERS=2 WEB=1 LOCAL_SERVICES=1
UPSTREAM="" WEB_BIND="127.0.0.1:8000" METRICS_ALLOW_LIST="" WEBHOOK_RATE=50 FORWARDED_ALLOW_IPS="127.0.0.1,::1"
HTTP_PORT=80 HTTPS_PORT=443 WHEELHOUSE="" WHEELHOUSE_SHA256="" PREFIX="/opt/tumaini" ROOT="" OS_RELEASE="/etc/os-release"
ONLY=""
ALL_STEPS="os packages user code venv env redis database units nginx tls logs release services"

usage() {
  sed -n '2,/^$/p' "$0" | sed -e '/^$/d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --domain) DOMAIN="$2"; shift 2 ;;
    --email) EMAIL="$2"; shift 2 ;;
    --cert) CERT="$2"; shift 2 ;;
    --key) KEY="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --web-workers) WEB_WORKERS="$2"; shift 2 ;;
    --no-web) WEB=0; shift ;;
    --no-local-services) LOCAL_SERVICES=0; shift ;;
    --upstream) UPSTREAM="$2"; shift 2 ;;
    --web-bind) WEB_BIND="$2"; shift 2 ;;
    --metrics-allow) METRICS_ALLOW_LIST="$2"; shift 2 ;;
    --forwarded-allow-ips) FORWARDED_ALLOW_IPS="$2"; shift 2 ;;
    --webhook-rate) WEBHOOK_RATE="$2"; shift 2 ;;
    --http-port) HTTP_PORT="$2"; shift 2 ;;
    --https-port) HTTPS_PORT="$2"; shift 2 ;;
    --wheelhouse) WHEELHOUSE="$(cd "$2" && pwd)" || die "--wheelhouse $2 is not a directory"; shift 2 ;;
    --wheelhouse-sha256) WHEELHOUSE_SHA256="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --root) ROOT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --os-release) OS_RELEASE="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$WORKERS$WEB_WORKERS$WEBHOOK_RATE$HTTP_PORT$HTTPS_PORT" in
  *[!0-9]*) die "--workers, --web-workers, --webhook-rate and the ports must be whole numbers" ;;
esac
if { [ -n "$CERT" ] && [ -z "$KEY" ]; } || { [ -z "$CERT" ] && [ -n "$KEY" ]; }; then
  die "--cert and --key go together"
fi
if [ -n "$EMAIL" ] && [ -z "$DOMAIN" ]; then
  die "--email needs --domain (Let's Encrypt certifies a name)"
fi

SERVICE_USER=tumaini
ETC_DIR="/etc/tumaini"
ENV_FILE="$ETC_DIR/env"
STATE_DIR="/var/lib/tumaini"
APP_DIR="$PREFIX/current"
BACKUP_DIR="/var/backups/tumaini"
BACKUP_PASSPHRASE_FILE="$ETC_DIR/backup.passphrase"
BACKUP_KEEP=14
NGINX_LOG_DIR="${TUMAINI_NGINX_LOG_DIR:-/var/log/nginx}"
ACME_ROOT="/var/www/letsencrypt"
LOG_RETENTION_DAYS=30
JOURNAL_MAX_USE="1G"
WEB_MEMORY_HIGH="${TUMAINI_WEB_MEMORY_HIGH:-800M}"
WEB_MEMORY_MAX="${TUMAINI_WEB_MEMORY_MAX:-1G}"
WORKER_MEMORY_HIGH="${TUMAINI_WORKER_MEMORY_HIGH:-2400M}"
WORKER_MEMORY_MAX="${TUMAINI_WORKER_MEMORY_MAX:-3G}"
WORKER_STOP_TIMEOUT=150 # > JOB_TIMEOUT_S: a stopping worker finishes the job in hand
CLIENT_MAX_BODY="64k"
WEBHOOK_BURST=$((WEBHOOK_RATE * 4))
REDIS_MAXMEMORY="${TUMAINI_REDIS_MAXMEMORY:-512mb}"
REDIS_BIND="127.0.0.1 -::1"
SERVER_NAME="${DOMAIN:-_}"
SYSTEMD_DIR="/etc/systemd/system"

# Under --root, files go to ROOT and nothing touches the running system.
at() { printf '%s%s' "$ROOT" "$1"; }
live() { [ -z "$ROOT" ]; }
wants() {
  [ -z "$ONLY" ] && return 0
  case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac
}

# ---- steps ------------------------------------------------------------------
step_os() {
  check_os "$OS_RELEASE"
  say "system: $OS_ID $OS_VERSION"
  if live && [ "$(id -u)" -ne 0 ]; then
    die "run as root (sudo bash deploy/install.sh ...), or use --root DIR to only render files"
  fi
}

step_packages() {
  live || return 0
  [ -n "${OS_ID:-}" ] || check_os "$OS_RELEASE"
  local py packages
  py="$(python_package_for "$OS_ID" "$OS_VERSION")"
  packages="$py $py-venv $py-dev build-essential openssl ca-certificates logrotate postgresql-client"
  if [ "$LOCAL_SERVICES" = 1 ]; then packages="$packages redis-server postgresql"; fi
  if [ "$WEB" = 1 ]; then packages="$packages nginx"; fi
  if [ -n "$EMAIL" ]; then packages="$packages certbot"; fi
  local installed wanted
  # shellcheck disable=SC2086 # a list of package names
  installed="$(dpkg-query -W -f='${db:Status-Status}\n' $packages 2>/dev/null | grep -c '^installed$' || true)"
  wanted="$(echo "$packages" | wc -w)"
  if [ "$installed" -ne "$wanted" ]; then
    say "installing system packages: $packages"
    apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages
  else
    say "system packages already installed"
  fi
}

step_user() {
  live || return 0
  if ! id "$SERVICE_USER" >/dev/null 2>&1; then
    say "creating system user $SERVICE_USER"
    useradd --system --home-dir "$STATE_DIR" --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  install -d -m 750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE_DIR" "$STATE_DIR/models"
}

# The release id is a digest of the code, so the same code is the same release.
release_id() {
  (cd "$SOURCE_DIR" && find bot core content translation workers deploy requirements.txt Procfile pyproject.toml README.md \
    -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 2>/dev/null | sort -z | xargs -0 sha256sum) \
    | sha256sum | cut -c1-12
}

step_code() {
  local id target
  id="$(release_id)"
  target="$(at "$PREFIX/releases/$id")"
  if [ ! -d "$target" ]; then
    say "unpacking release $id into $PREFIX/releases/$id"
    mkdir -p "$target.partial"
    (cd "$SOURCE_DIR" && tar --exclude='.venv' --exclude='.git' --exclude='instance' --exclude='__pycache__' \
      --exclude='*.pyc' --exclude='.*_cache' --exclude='test-artifacts' -cf - \
      bot core content translation workers deploy requirements.txt Procfile pyproject.toml README.md) \
      | tar -xf - -C "$target.partial"
    mv "$target.partial" "$target"
  else
    say "release $id already unpacked"
  fi
  RELEASE_DIR="$PREFIX/releases/$id"
}

step_venv() {
  live || return 0
  [ -n "${RELEASE_DIR:-}" ] || step_code
  local venv="$RELEASE_DIR/.venv" py
  [ -n "${OS_ID:-}" ] || check_os "$OS_RELEASE"
  py="$(python_package_for "$OS_ID" "$OS_VERSION")"
  if [ -f "$venv/.complete" ]; then
    say "virtualenv for this release is ready"
    return 0
  fi
  say "creating the virtualenv for this release"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  if [ -n "$WHEELHOUSE" ]; then
    install_wheelhouse "$venv" "$WHEELHOUSE" "$WHEELHOUSE_SHA256"
  else
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet -r "$RELEASE_DIR/requirements.txt"
  fi
  # The services run with a read-only /opt (ProtectSystem=strict): compile now.
  "$venv/bin/python" -m compileall -q "$RELEASE_DIR/bot" "$RELEASE_DIR/content" "$RELEASE_DIR/translation" \
    "$RELEASE_DIR/workers" >/dev/null
  touch "$venv/.complete"
}

step_env() {
  local file
  file="$(at "$ENV_FILE")"
  mkdir -p "$(dirname "$file")"
  chmod 755 "$(dirname "$file")"
  if [ -e "$file" ]; then
    say "$ENV_FILE exists; left as it is"
  else
    say "writing $ENV_FILE with fresh secrets"
    local tmp db_password
    tmp="$(mktemp "$file.XXXXXX")"
    chmod 600 "$tmp"
    cp "$SOURCE_DIR/deploy/env.example" "$tmp"
    set_env_value "$tmp" ENV production
    set_env_value "$tmp" SECRET_KEY "$(random_token)"
    set_env_value "$tmp" ENCRYPTION_KEYS "$(random_aes_key)"
    set_env_value "$tmp" HMAC_KEY "$(random_token)"
    if [ -n "$DOMAIN" ]; then set_env_value "$tmp" PUBLIC_BASE_URL "https://$DOMAIN"; fi
    if [ "$LOCAL_SERVICES" = 1 ]; then
      db_password="$(random_token)"
      set_env_value "$tmp" DATABASE_URL "postgresql://tumaini:$db_password@127.0.0.1:5432/tumaini"
      # Redis runs jobs: without a password any local process could queue one.
      set_env_value "$tmp" REDIS_URL "redis://:$(random_token)@127.0.0.1:6379/0"
    fi
    # nginx is the one proxy in front: client addresses (login throttling, logs) come from it.
    if [ "$WEB" = 1 ]; then set_env_value "$tmp" PROXY_HOPS 1; fi
    set_env_value "$tmp" INSTANCE_DIR "$STATE_DIR"
    set_env_value "$tmp" MODELS_DIR "$STATE_DIR/models"
    mv "$tmp" "$file"
  fi
  if live && getent group "$SERVICE_USER" >/dev/null; then
    chown "root:$SERVICE_USER" "$file"
    chmod 640 "$file"
  fi
  if [ "$WEB" = 1 ] && [ -z "$(env_value "$file" PROXY_HOPS)" ]; then
    say "warning: $ENV_FILE has no PROXY_HOPS: behind nginx set PROXY_HOPS=1, or every client looks like 127.0.0.1"
  fi
  case "$(env_value "$file" REDIS_URL)" in
    redis://127.0.0.1:*|redis://localhost:*)
      say "warning: REDIS_URL in $ENV_FILE has no password: set one (redis://:PASSWORD@127.0.0.1:6379/0) and rerun" ;;
  esac
  local passfile
  passfile="$(at "$BACKUP_PASSPHRASE_FILE")"
  if [ ! -e "$passfile" ]; then
    say "writing a backup passphrase to $BACKUP_PASSPHRASE_FILE: copy it somewhere safe, off this server"
    (umask 077 && random_token >"$passfile")
  fi
}

step_redis() {
  [ "$LOCAL_SERVICES" = 1 ] || return 0
  local conf main url REDIS_PASSWORD
  conf="$(at /etc/redis/tumaini.conf)"
  main="$(at /etc/redis/redis.conf)"
  mkdir -p "$(dirname "$conf")"
  # The password is the one in REDIS_URL (redis://:PASSWORD@host:port/db).
  url="$(env_value "$(at "$ENV_FILE")" REDIS_URL)"
  REDIS_PASSWORD=""
  case "$url" in redis://:*@*) REDIS_PASSWORD="${url#redis://:}"; REDIS_PASSWORD="${REDIS_PASSWORD%%@*}" ;; esac
  [ -n "$REDIS_PASSWORD" ] || die "REDIS_URL in $ENV_FILE must carry a password: redis://:PASSWORD@127.0.0.1:6379/0"
  RENDER_CHANGED=0
  render "$SOURCE_DIR/deploy/redis/tumaini.conf" "$conf" REDIS_MAXMEMORY REDIS_BIND REDIS_PASSWORD
  chmod 600 "$conf"  # it holds the password: readable by redis (chown below) and root only
  if [ -f "$main" ] && ! grep -qx 'include /etc/redis/tumaini.conf' "$main"; then
    say "including /etc/redis/tumaini.conf from redis.conf (append-only persistence, no eviction)"
    printf '\n# Tumaini (deploy/install.sh)\ninclude /etc/redis/tumaini.conf\n' >>"$main"
    RENDER_CHANGED=1
  fi
  if live; then
    chown redis:redis "$conf" 2>/dev/null || true
    systemctl enable --now redis-server >/dev/null
    if [ "$RENDER_CHANGED" = 1 ]; then systemctl restart redis-server; fi
  fi
}

step_database() {
  [ "$LOCAL_SERVICES" = 1 ] || return 0
  live || return 0
  local url password
  url="$(env_value "$ENV_FILE" DATABASE_URL)"
  case "$url" in
    postgresql://tumaini:*@127.0.0.1:5432/tumaini) ;;
    *) say "DATABASE_URL is not the local tumaini database; leaving PostgreSQL alone"; return 0 ;;
  esac
  password="${url#postgresql://tumaini:}"
  password="${password%@127.0.0.1:5432/tumaini}"
  systemctl enable --now postgresql >/dev/null
  say "PostgreSQL: role and database tumaini"
  # The password reaches psql on its standard input, never its command line (visible in ps).
  local quoted="${password//\\/\\\\}"
  quoted="${quoted//\'/\'\'}"
  {
    printf "\\set pw '%s'\n" "$quoted"
    cat <<'SQL'
SELECT 'CREATE ROLE tumaini LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tumaini')\gexec
ALTER ROLE tumaini WITH LOGIN PASSWORD :'pw';
SELECT 'CREATE DATABASE tumaini OWNER tumaini' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tumaini')\gexec
SQL
  } | runuser -u postgres -- psql -q -v ON_ERROR_STOP=1
}

upstream_lines() {
  local list="${UPSTREAM:-$WEB_BIND}" item
  local IFS=','
  for item in $list; do
    printf '    server %s max_fails=3 fail_timeout=10s;\n' "$item"
  done
}

metrics_allow_lines() {
  local item
  local IFS=','
  for item in $METRICS_ALLOW_LIST; do
    printf '        allow %s;\n' "$item"
  done
}

step_units() {
  local dir wants="" i
  dir="$(at "$SYSTEMD_DIR")"
  mkdir -p "$dir"
  [ "$WEB" = 1 ] && wants="tumaini-web.service"
  for i in $(seq 1 "$WORKERS"); do wants="$wants tumaini-worker@$i.service"; done
  TARGET_WANTS="tumaini-release.service${wants:+ $wants}"
  local vars="SERVICE_USER APP_DIR ENV_FILE STATE_DIR WEB_BIND WEB_WORKERS FORWARDED_ALLOW_IPS WEB_MEMORY_HIGH
    WEB_MEMORY_MAX WORKER_MEMORY_HIGH WORKER_MEMORY_MAX WORKER_STOP_TIMEOUT TARGET_WANTS BACKUP_DIR
    BACKUP_PASSPHRASE_FILE BACKUP_KEEP"
  local unit
  for unit in tumaini.target tumaini-release.service tumaini-web.service tumaini-worker@.service \
    tumaini-backup.service tumaini-backup.timer; do
    # shellcheck disable=SC2086 # the variable names
    render "$SOURCE_DIR/deploy/systemd/$unit" "$dir/$unit" $vars
  done
  if [ "$WEB" = 0 ]; then rm -f "$dir/tumaini-web.service"; fi
  say "systemd units written (web: $WEB, workers: $WORKERS)"
}

step_nginx() {
  [ "$WEB" = 1 ] || return 0
  UPSTREAM_SERVERS="$(upstream_lines)"
  METRICS_ALLOW="$(metrics_allow_lines)"
  if [ -z "$METRICS_ALLOW" ]; then METRICS_ALLOW="        # (only this machine)"; fi
  tls_paths
  local available enabled
  available="$(at /etc/nginx/sites-available/tumaini.conf)"
  enabled="$(at /etc/nginx/sites-enabled/tumaini.conf)"
  mkdir -p "$(dirname "$available")" "$(dirname "$enabled")" "$(at "$ACME_ROOT")"
  render "$SOURCE_DIR/deploy/nginx/tumaini.conf" "$available" UPSTREAM_SERVERS METRICS_ALLOW SERVER_NAME \
    HTTP_PORT HTTPS_PORT TLS_CERT TLS_KEY CLIENT_MAX_BODY WEBHOOK_RATE WEBHOOK_BURST NGINX_LOG_DIR ACME_ROOT
  ln -sfn /etc/nginx/sites-available/tumaini.conf "$enabled"
  # Debian's stock default site also claims port 80.
  if [ -L "$(at /etc/nginx/sites-enabled/default)" ]; then rm -f "$(at /etc/nginx/sites-enabled/default)"; fi
  if live; then
    nginx -t -q || die "nginx rejected the rendered configuration"
    systemctl enable nginx >/dev/null
    systemctl reload-or-restart nginx
  fi
  say "nginx configured for ${DOMAIN:-any host name} (certificate $TLS_CERT)"
}

# Which certificate nginx uses: a given one, Let's Encrypt's once issued, or a
# self-signed one until then (so nginx can start and answer the ACME challenge).
tls_paths() {
  if [ -n "$CERT" ]; then
    TLS_CERT="$CERT" TLS_KEY="$KEY"
  elif [ -n "$DOMAIN" ] && [ -f "$(at "/etc/letsencrypt/live/$DOMAIN/fullchain.pem")" ]; then
    TLS_CERT="/etc/letsencrypt/live/$DOMAIN/fullchain.pem" TLS_KEY="/etc/letsencrypt/live/$DOMAIN/privkey.pem"
  else
    TLS_CERT="$ETC_DIR/tls/selfsigned.crt" TLS_KEY="$ETC_DIR/tls/selfsigned.key"
    if [ ! -f "$(at "$TLS_CERT")" ]; then
      mkdir -p "$(at "$ETC_DIR/tls")"
      (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=${DOMAIN:-tumaini.local}" \
        -keyout "$(at "$TLS_KEY")" -out "$(at "$TLS_CERT")" 2>/dev/null)
      chmod 644 "$(at "$TLS_CERT")"
    fi
  fi
}

step_tls() {
  [ "$WEB" = 1 ] && [ -n "$EMAIL" ] && [ -z "$CERT" ] || return 0
  live || return 0
  if [ -f "/etc/letsencrypt/live/$DOMAIN/fullchain.pem" ]; then
    say "Let's Encrypt certificate for $DOMAIN present (certbot's timer renews it)"
  else
    say "requesting a Let's Encrypt certificate for $DOMAIN"
    certbot certonly --webroot -w "$ACME_ROOT" -d "$DOMAIN" --email "$EMAIL" --agree-tos --non-interactive \
      --deploy-hook 'systemctl reload nginx'
  fi
  step_nginx
}

step_logs() {
  local dir
  dir="$(at /etc/systemd/journald.conf.d)"
  mkdir -p "$dir" "$(at /etc/logrotate.d)"
  RENDER_CHANGED=0
  render "$SOURCE_DIR/deploy/journald/tumaini.conf" "$dir/tumaini.conf" JOURNAL_MAX_USE LOG_RETENTION_DAYS
  local journald_changed="$RENDER_CHANGED"
  if [ "$WEB" = 1 ]; then
    render "$SOURCE_DIR/deploy/logrotate/tumaini" "$(at /etc/logrotate.d/tumaini)" NGINX_LOG_DIR LOG_RETENTION_DAYS
  fi
  if live && [ "$journald_changed" = 1 ]; then systemctl restart systemd-journald; fi
}

# Migrations run here, before the switch, while the previous release still
# serves: they are additive by rule, so old code keeps working on the new schema.
step_release() {
  live || return 0
  [ -n "${RELEASE_DIR:-}" ] || step_code
  if [ -z "$(env_value "$ENV_FILE" TWILIO_AUTH_TOKEN)" ]; then
    say "TWILIO_* settings are empty in $ENV_FILE: fill them in, then rerun this script to finish"
    SKIP_START=1
    return 0
  fi
  say "release step: migrating the database"
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  runuser -u "$SERVICE_USER" -- bash -c \
    'cd "$1" && set -a && . "$2" && set +a && exec .venv/bin/flask --app bot release' _ "$RELEASE_DIR" "$ENV_FILE"
}

step_services() {
  live || return 0
  [ -n "${RELEASE_DIR:-}" ] || step_code
  ln -sfn "$RELEASE_DIR" "$PREFIX/current.new"
  mv -T "$PREFIX/current.new" "$PREFIX/current"
  systemctl daemon-reload
  local i unit
  # Workers beyond --workers from an earlier install are stopped and disabled.
  for unit in $(systemctl list-units --all --plain --no-legend 'tumaini-worker@*.service' | awk '{print $1}'); do
    i="${unit#tumaini-worker@}"
    i="${i%.service}"
    if [ "$i" -gt "$WORKERS" ] 2>/dev/null; then systemctl disable --now "$unit"; fi
  done
  systemctl enable tumaini.target tumaini-release.service >/dev/null
  if [ "$WEB" = 1 ]; then systemctl enable tumaini-web.service >/dev/null; fi
  for i in $(seq 1 "$WORKERS"); do systemctl enable "tumaini-worker@$i.service" >/dev/null; done
  # Nightly backups on the machine that holds the database.
  if [ "$LOCAL_SERVICES" = 1 ]; then systemctl enable --now tumaini-backup.timer >/dev/null; fi
  if [ "${SKIP_START:-0}" = 1 ]; then
    say "services enabled, not started (settings incomplete)"
    return 0
  fi
  # The release step already ran above; this only marks it done after a first install.
  systemctl start tumaini-release.service
  # The web restart is a gap of a second or two (set Twilio's fallback URL to the same
  # address); workers restart one at a time, so the others keep answering.
  if [ "$WEB" = 1 ]; then systemctl restart tumaini-web.service; fi
  for i in $(seq 1 "$WORKERS"); do systemctl restart "tumaini-worker@$i.service"; done
  systemctl start tumaini.target
  prune_releases
  say "Tumaini is running: systemctl status tumaini.target; curl -k https://127.0.0.1/healthz"
}

prune_releases() {
  local current old
  current="$(readlink -f "$PREFIX/current")"
  # Newest first; keep the current release and the two before it.
  find "$PREFIX/releases" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +4 \
    | cut -d' ' -f2- | while read -r old; do
    if [ "$old" != "$current" ]; then rm -rf "$old"; fi
  done
}

for step in $ALL_STEPS; do
  if wants "$step"; then "step_$step"; fi
done
if [ -n "$ROOT" ]; then say "files rendered under $ROOT (nothing on this system was changed)"; fi
