#!/usr/bin/env bash
# Microcontroller targets: cross builds, code size and QEMU runs.
#
#   bash .ci/mcu.sh install      installs what is missing (root, Debian bookworm):
#                                rustc-web, cargo-web, rust-web-src, lld, and
#                                QEMU 10 from bookworm-backports
#   bash .ci/mcu.sh build        cross-builds the firmware in mcu/ for the three
#                                targets; code-size table, fails above budget
#   bash .ci/mcu.sh conformance  ConfigCat's suites on each emulated machine
#   bash .ci/mcu.sh hostile      hostile input on each emulated machine
#   bash .ci/mcu.sh icount       instruction counts on riscv32, gated on
#                                mcu/instruction_budgets.txt
#   bash .ci/mcu.sh e2e          the embedded client end to end on riscv32 virt:
#                                virtio-net, smoltcp, the CDN stand-in on a
#                                loopback port, flash in a host file; then the
#                                largest-config figure of docs/targets.md
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

# ---- cross builds, code size, QEMU runs ------------------------------------

TARGETS="riscv32imc-unknown-none-elf thumbv6m-none-eabi thumbv7em-none-eabihf"
# Flash bytes (.text + .rodata + .data + vector table) of the device firmware
# (configcat-core's evaluation, parse, override and refresh API, the embedded
# client, the request loop, embedded-alloc and semihosting), opt-level "s",
# LTO, Debian's rustc-web 1.96: measured + about 10%. Raise with a reason.
declare -A SIZE_BUDGET=(
    [riscv32imc-unknown-none-elf]=222000
    [thumbv6m-none-eabi]=188000
    [thumbv7em-none-eabihf]=184000
)
declare -A MACHINE=(
    [riscv32imc-unknown-none-elf]=riscv32
    [thumbv6m-none-eabi]=mps2-an385
    [thumbv7em-none-eabihf]=mps2-an386
)

firmware() {
    echo "mcu/target/$1/release/device"
}

# With rustup and the target installed, the ordinary build; otherwise
# Debian's rustc-web with core and alloc built from rust-web-src.
# cross_build TARGET [CARGO ARGS]: the `device` firmware unless told otherwise.
cross_build() {
    local target=$1
    shift
    local what=("$@")
    [[ ${#what[@]} -gt 0 ]] || what=(--bin device)
    if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        (cd mcu && cargo build --release --locked --target "$target" "${what[@]}")
    else
        (cd mcu && PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 \
            cargo build --release --locked -Zbuild-std=core,alloc --target "$target" "${what[@]}")
    fi
}

section_size() {
    # readelf -SW: [Nr] Name Type Addr Off Size ...; sizes are hex.
    local elf=$1 name=$2 hex
    hex=$(readelf -SW "$elf" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v n="$name" '$1 == n { print $5 }')
    echo $((16#${hex:-0}))
}

build_and_size() {
    local failed=0 target elf text rodata data vectors flash
    for target in $TARGETS; do
        cross_build "$target"
    done
    echo
    echo "| target | .text | .rodata | .data | flash total | budget |"
    echo "|---|---:|---:|---:|---:|---:|"
    for target in $TARGETS; do
        elf=$(firmware "$target")
        text=$(section_size "$elf" .text)
        rodata=$(section_size "$elf" .rodata)
        data=$(section_size "$elf" .data)
        vectors=$(($(section_size "$elf" .vector_table) + $(section_size "$elf" .init.rust)))
        flash=$((text + rodata + data + vectors))
        echo "| $target | $text | $rodata | $data | $flash | ${SIZE_BUDGET[$target]} |"
        if ((flash > SIZE_BUDGET[$target])); then
            echo "$target: $flash flash bytes, over the budget of ${SIZE_BUDGET[$target]}" >&2
            failed=1
        fi
    done
    return $failed
}

# The dev profile: it shares the workspace test step's build, and the
# harness spends its time in QEMU, not in itself.
harness() {
    cargo build --locked -p configcat-mcu-harness
    ./target/debug/mcu-harness "$@"
}

conformance() {
    local target
    for target in $TARGETS; do
        harness conformance --machine "${MACHINE[$target]}" --elf "$(firmware "$target")"
    done
}

hostile() {
    local target
    for target in $TARGETS; do
        harness hostile --machine "${MACHINE[$target]}" --elf "$(firmware "$target")"
    done
}

instructions() {
    harness icount --elf "$(firmware riscv32imc-unknown-none-elf)" \
        --budgets mcu/instruction_budgets.txt
}

# The largest config the client fetches, stores and switches to in a 64 KiB
# heap, as bisected with `mcu-harness e2e-size` (docs/targets.md): this size
# must keep passing. Raise it when the client needs less memory.
E2E_CONFIG_BYTES=11800

end_to_end() {
    local elf=mcu/target/riscv32imc-unknown-none-elf/release/e2e
    cross_build riscv32imc-unknown-none-elf --features e2e --bin e2e
    harness e2e --elf "$elf" --interval-ms 2000
    harness e2e-size --elf "$elf" --config-bytes "$E2E_CONFIG_BYTES"
}

case "${1:-}" in
    install) install_tools ;;
    build) build_and_size ;;
    conformance) conformance ;;
    hostile) hostile ;;
    icount) instructions ;;
    e2e) end_to_end ;;
    *)
        echo "usage: $0 install|build|conformance|hostile|icount|e2e" >&2
        exit 2
        ;;
esac
