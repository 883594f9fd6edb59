#!/usr/bin/env bash
# A throwaway PostgreSQL server for the VoicePipeStorePostgres tests, here and in CI.
#
#   VOICEPIPE_POSTGRES_URL="$(bash scripts/start-postgres.sh)"    # starts it (or finds it running)
#   bash scripts/start-postgres.sh stop                           # stops it and deletes its data
#
# Idempotent: a second run finds the cluster running and prints the same URL. On a Debian machine without
# PostgreSQL, it installs the `postgresql` package (as root; `apt-get update` must have run). The cluster runs as
# the `postgres` user when started by root (initdb refuses root), as the caller otherwise, in
# $VOICEPIPE_POSTGRES_DIR (default /tmp/voicepipe-postgres), listening on 127.0.0.1 only, on
# $VOICEPIPE_POSTGRES_PORT (default 54329; the next free port if that one is taken). It has a role `voicepipe`
# (password `voicepipe`, SCRAM) owning a database `voicepipe_test`. Only the URL goes to stdout; progress to stderr.
set -euo pipefail

base="${VOICEPIPE_POSTGRES_DIR:-/tmp/voicepipe-postgres}"
data="$base/data"
sockets="$base/run"
log="$base/server.log"
role=voicepipe
password=voicepipe
database=voicepipe_test

say() { echo "start-postgres: $*" >&2; }

# The newest installed server's binaries (Debian keeps them in /usr/lib/postgresql/<major>/bin).
find_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    elif command -v initdb > /dev/null 2>&1 && command -v pg_ctl > /dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

bindir="$(find_bindir)"
if [[ -z "$bindir" ]]; then
    if [[ "$(id -u)" -ne 0 ]]; then
        say "PostgreSQL is not installed; run as root to install it (apt-get install -y postgresql)"
        exit 1
    fi
    say "installing PostgreSQL"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null
    bindir="$(find_bindir)"
    [[ -n "$bindir" ]] || { say "no initdb after installing postgresql"; exit 1; }
fi

# Who runs the server: root may not, so it hands the cluster to `postgres` (created by the package).
if [[ "$(id -u)" -eq 0 ]]; then
    owner=postgres
    id "$owner" > /dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
    as_owner() { runuser -u "$owner" -- "$@"; }
else
    owner="$(id -un)"
    as_owner() { "$@"; }
fi

pg_ctl() { as_owner "$bindir/pg_ctl" -D "$data" "$@"; }
psql_admin() { as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sockets" -p "$port" -U postgres -d postgres "$@"; }
is_running() { [[ -f "$data/postmaster.pid" ]] && pg_ctl status > /dev/null 2>&1; }
port_taken() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

if [[ "${1:-}" == "stop" ]]; then
    if is_running; then pg_ctl stop -m fast > /dev/null; fi
    rm -rf "$base"
    say "stopped; removed $base"
    exit 0
fi

if is_running; then
    port="$(cat "$base/port")"
    say "already running on 127.0.0.1:$port"
else
    if [[ ! -f "$data/PG_VERSION" ]]; then
        rm -rf "$base"
        mkdir -p "$data" "$sockets"
        chmod 700 "$data"
        chown -R "$owner" "$base"
        superuser_password="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
        printf '%s\n' "$superuser_password" > "$base/superuser-password"
        chown "$owner" "$base/superuser-password"
        chmod 600 "$base/superuser-password"
        say "initdb in $data ($("$bindir/postgres" --version))"
        as_owner "$bindir/initdb" -D "$data" -U postgres --pwfile="$base/superuser-password" --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 > "$base/initdb.log" 2>&1 \
            || { cat "$base/initdb.log" >&2; exit 1; }
    fi
    port="${VOICEPIPE_POSTGRES_PORT:-54329}"
    for _ in $(seq 1 20); do
        port_taken "$port" || break
        say "port $port is taken; trying $((port + 1))"
        port=$((port + 1))
    done
    if port_taken "$port"; then say "no free port"; exit 1; fi
    echo "$port" > "$base/port"
    # fsync off: a throwaway test server, whose data may be lost in a crash.
    pg_ctl start -w -t 60 -l "$log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $sockets -c fsync=off -c synchronous_commit=off -c max_connections=200" \
        > /dev/null || { cat "$log" >&2; exit 1; }
    say "running on 127.0.0.1:$port (log: $log)"
fi

# The role and the database (each only if absent).
if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != "1" ]]; then
    psql_admin -c "CREATE ROLE $role LOGIN PASSWORD '$password'"
fi
if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]]; then
    psql_admin -c "CREATE DATABASE $database OWNER $role"
fi

echo "postgres://$role:$password@127.0.0.1:$port/$database?sslmode=disable"
