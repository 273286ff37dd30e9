#!/usr/bin/env bash
# Services some tests need, and helpers to run them on loopback ports.
#
#   bash .ci/services.sh install   installs what is missing: redis-server
#                                  (Debian package) and Python's venv module
#
# Sourced (`. .ci/services.sh`), it defines:
#   install_services               the same as `install` above
#   free_loopback_port             prints a port nothing listens on
#   start_redis PORT DIR LOG       starts a redis-server on 127.0.0.1:PORT
#                                  (no persistence, files in DIR, output to
#                                  LOG) in the background; sets REDIS_PID
#   wait_for_redis PORT            waits (at most 10 s) until it answers PING
#
# The tests start their own redis-server (see std-adapter/tests/redis.rs);
# nothing here starts a system service, so nothing needs stopping afterwards
# beyond the processes a caller starts itself.

apt_updated=""

apt_install() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "need root to apt-get install $*" >&2
        return 1
    fi
    if [[ -z $apt_updated ]]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

install_services() {
    if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
        echo "redis-server: $(redis-server --version | head -n 1)"
    else
        echo "installing redis-server (Debian package)"
        apt_install redis-server
        echo "redis-server: $(redis-server --version | head -n 1)"
    fi
    # The Debian package enables a system service; where an init system runs
    # it, it is left alone: the tests use servers of their own on free ports.
    if ! command -v python3 >/dev/null; then
        echo "installing python3"
        apt_install python3 python3-venv
    fi
    # Debian's python3 has `venv` but not `ensurepip` (which venv needs to
    # install pip) without the python3-venv package.
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        echo "installing python3-venv (Debian package)"
        apt_install python3-venv
    fi
    echo "python3: $(python3 --version 2>&1), venv available"
}

free_loopback_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_redis() {
    local port=$1 dir=$2 log=$3
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$dir" >"$log" 2>&1 &
    REDIS_PID=$!
}

wait_for_redis() {
    local port=$1 i
    for ((i = 0; i < 100; i++)); do
        if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
            return 0
        fi
        sleep 0.1
    done
    echo "redis-server on 127.0.0.1:$port did not answer PING" >&2
    return 1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    case ${1:-} in
        install) install_services ;;
        *)
            echo "usage: bash .ci/services.sh install" >&2
            exit 2
            ;;
    esac
fi
