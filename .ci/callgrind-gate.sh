#!/usr/bin/env bash
# Instruction-count gate of the std client's read path (W1-W8) and of P1
# through the client (client build to ready plus the first read).
#
#   bash .ci/callgrind-gate.sh            measures, prints budget and count,
#                                         fails when a count is over budget
#   bash .ci/callgrind-gate.sh --update   measures and writes the counts as
#                                         the new budgets
#
# callgrind (valgrind, Debian package; installed if missing) counts the
# instructions of one function of bench/src/bin/callgrind_gate.rs,
# `measured_region`, which makes OPS reads (or client builds) through
# configcat-std's public API; setup, checksum checks and teardown are not
# counted. A count is instructions per op; it fails the gate when it is more
# than tolerance_percent above its budget in bench/callgrind-budget.txt.
# Counts repeat to within 0.01 % on one machine; they move with the
# compiler and glibc's allocator, so re-measure (--update) after either.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUDGET_FILE=bench/callgrind-budget.txt
BIN=target/release/callgrind_gate

update=""
case ${1:-} in
    --update) update=1 ;;
    "") ;;
    *)
        echo "usage: bash .ci/callgrind-gate.sh [--update]" >&2
        exit 2
        ;;
esac

if ! command -v valgrind >/dev/null; then
    echo "installing valgrind (Debian package)"
    # shellcheck source=services.sh
    . .ci/services.sh
    apt_install valgrind
fi
echo "$(valgrind --version); budgets: $BUDGET_FILE"

cargo build --release --locked -p configcat-bench --bin callgrind_gate

tolerance=$(awk '$1 == "tolerance_percent" { print $2 }' "$BUDGET_FILE")
if [[ -z $tolerance ]]; then
    echo "$BUDGET_FILE has no tolerance_percent line" >&2
    exit 1
fi

out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT

# Instructions per op of one workload: callgrind's total for the region / OPS.
measure() {
    local id=$1 ops=$2 out="$out_dir/$1.callgrind" log="$out_dir/$1.log"
    if ! valgrind --tool=callgrind --toggle-collect='*measured_region*' \
        --callgrind-out-file="$out" "$BIN" "$id" "$ops" >"$log" 2>&1; then
        cat "$log" >&2
        echo "callgrind_gate $id $ops failed" >&2
        return 1
    fi
    local total
    total=$(awk '$1 == "totals:" { print $2 }' "$out")
    if [[ -z $total || $total -eq 0 ]]; then
        echo "$id: callgrind counted nothing (is measured_region in the binary?)" >&2
        return 1
    fi
    echo $(((total + ops / 2) / ops))
}

failed=()
new_budget=()
printf '%-16s %6s %14s %14s %9s\n' workload ops budget measured change
while read -r id ops budget _; do
    [[ -z $id || $id == \#* || $id == tolerance_percent ]] && continue
    count=$(measure "$id" "$ops")
    change=$(awk -v c="$count" -v b="$budget" 'BEGIN { printf "%+.2f%%", (c - b) * 100 / b }')
    verdict=""
    if awk -v c="$count" -v b="$budget" -v t="$tolerance" 'BEGIN { exit !(c > b * (1 + t / 100)) }'; then
        verdict="  OVER BUDGET"
        failed+=("$id")
    fi
    printf '%-16s %6s %14s %14s %9s%s\n' "$id" "$ops" "$budget" "$count" "$change" "$verdict"
    new_budget+=("$id $ops $count")
done <"$BUDGET_FILE"

if [[ -n $update ]]; then
    {
        sed -n '/^#/p; /^tolerance_percent/p' "$BUDGET_FILE"
        printf '%s\n' "${new_budget[@]}"
    } >"$out_dir/budget"
    cp "$out_dir/budget" "$BUDGET_FILE"
    echo "wrote the measured counts to $BUDGET_FILE"
    exit 0
fi

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "over budget (tolerance $tolerance %): ${failed[*]}" >&2
    echo "(a deliberate cost: raise its budget with --update, and say why in the commit)" >&2
    exit 1
fi
echo "all counts within $tolerance % of their budgets"
