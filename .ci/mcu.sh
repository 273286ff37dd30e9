#!/usr/bin/env bash
# Microcontroller targets: cross builds, code size and QEMU runs.
#
#   bash .ci/mcu.sh install   installs what is missing (root, Debian bookworm):
#                             rustc-web, cargo-web, rust-web-src, lld, and
#                             QEMU 10 from bookworm-backports
#
# A rustup user needs none of the Debian toolchain: `rustup target add
# riscv32imc-unknown-none-elf thumbv6m-none-eabi thumbv7em-none-eabihf`
# (see docs/targets.md); the build steps below use it when it is there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BACKPORTS_LIST=/etc/apt/sources.list.d/bookworm-backports.sources

install_tools() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "need root to install the cross toolchain and QEMU" >&2
        return 1
    fi
    local need_update=""
    if [[ ! -e $BACKPORTS_LIST ]] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "adding the apt source bookworm-backports ($BACKPORTS_LIST)"
        cat >"$BACKPORTS_LIST" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    fi
    local missing=()
    for pkg in rustc-web cargo-web rust-web-src lld; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    local qemu_missing=()
    command -v qemu-system-riscv32 >/dev/null || qemu_missing+=(qemu-system-misc)
    command -v qemu-system-arm >/dev/null || qemu_missing+=(qemu-system-arm)
    if [[ ${#missing[@]} -eq 0 && ${#qemu_missing[@]} -eq 0 ]]; then
        echo "cross toolchain and QEMU are installed"
    else
        apt-get update -qq
        if [[ ${#missing[@]} -gt 0 ]]; then
            echo "installing: ${missing[*]}"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        fi
        if [[ ${#qemu_missing[@]} -gt 0 ]]; then
            # bookworm's own QEMU 7.2 conflicts with the preinstalled
            # qemu-utils from backports, and lacks nothing we need but is older.
            echo "installing from bookworm-backports: ${qemu_missing[*]}"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports \
                "${qemu_missing[@]}" >/dev/null
        fi
    fi
    /usr/bin/rustc --version
    /usr/bin/cargo --version
    ld.lld --version
    qemu-system-riscv32 --version | head -n 1
    qemu-system-arm --version | head -n 1
}

case "${1:-}" in
    install) install_tools ;;
    *)
        echo "usage: $0 install" >&2
        exit 2
        ;;
esac
