#!/usr/bin/env bash
# Cross-SDK proof of the shared cache: this client and ConfigCat's official
# Python SDK (configcat-client, from the Python registry, in a throwaway
# virtual environment) read each other's Redis cache entries and evaluate
# every flag for every user to the same value and variation id.
#
#   (a) our client, online against a CDN stand-in, writes the entry; the
#       Python SDK, offline, reads it from Redis and evaluates;
#   (b) the Python SDK, online against the same stand-in, writes the entry;
#       our client, offline, reads it from Redis and evaluates.
#
# Also checks that both SDKs store byte-identical payloads after the fetch
# time. Everything runs on 127.0.0.1: a redis-server and the CDN stand-in of
# this script's own, on free ports; only pip reaches the network.
#
# Needs redis-server, redis-cli and python3 with venv (`bash .ci/services.sh
# install`). Exits non-zero on any mismatch.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=services.sh
. .ci/services.sh

CONFIG=std-adapter/examples/data/shared_cache_config.json
USERS=std-adapter/examples/data/shared_cache_users.tsv
# Variation ids that only a matching targeting rule, segment, prerequisite,
# hashed comparison or % option serves: both directions must show each one,
# so a run that fell back to defaults cannot pass.
EXPECTED_VARIATIONS=(awesome-staff discount-15 upload-100 dashboard-beta app-new age-adult
    confidential-on welcome-insider usa-on usa-held-back greeting-a greeting-b greeting-c)

for tool in redis-server redis-cli python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "cross_sdk_cache: $tool is missing (bash .ci/services.sh install)" >&2
        exit 1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/configcat-cross-sdk.XXXXXX")
REDIS_PID=""
CDN_PID=""
cleanup() {
    local pid
    for pid in $REDIS_PID $CDN_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# The Python SDK uses `requests`, which honours proxy variables: never for loopback.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

echo "--- building the Rust side (example shared_cache)"
# All features, as .ci/run's step before this one builds the crate: its
# build is reused, only the example is compiled.
cargo build --locked --quiet -p configcat-std --all-features --example shared_cache
rust_bin="${CARGO_TARGET_DIR:-target}/debug/examples/shared_cache"

echo "--- Python SDK in a throwaway venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
    'configcat-client>=10,<11' 'redis>=5'
"$work/venv/bin/pip" list --disable-pip-version-check 2>/dev/null |
    awk '$1 == "configcat-client" || $1 == "redis" { print "    " $1 " " $2 }'
python=("$work/venv/bin/python" .ci/cross_sdk_cache.py)

echo "--- redis-server and the CDN stand-in on loopback"
redis_port=$(free_loopback_port)
start_redis "$redis_port" "$work" "$work/redis.log"
wait_for_redis "$redis_port"
redis_url="redis://127.0.0.1:$redis_port/0"
"$rust_bin" serve-cdn --config "$CONFIG" --lifetime-secs 600 >"$work/cdn.out" &
CDN_PID=$!
base_url=""
for ((i = 0; i < 100; i++)); do
    base_url=$(awk '$1 == "CDN" { print $2 }' "$work/cdn.out")
    [[ -n $base_url ]] && break
    sleep 0.1
done
if [[ -z $base_url ]]; then
    echo "the CDN stand-in did not start" >&2
    exit 1
fi
echo "    redis: 127.0.0.1:$redis_port   CDN stand-in: $base_url   config: $CONFIG"

# Two SDK keys, so the directions cannot see each other's entry.
key_a="configcat-sdk-1/CrossSdkRustWrites0000/CrossSdkCacheCheck0000"
key_b="configcat-sdk-1/CrossSdkPythonWrites00/CrossSdkCacheCheck0000"
cache_key() {
    python3 -c 'import hashlib, sys; print(hashlib.sha1((sys.argv[1] + "_config_v6.json_v2").encode()).hexdigest())' "$1"
}

failures=0

# compare NAME WRITER_FILE READER_FILE WRITER READER
compare() {
    local name=$1 writer_file=$2 reader_file=$3 writer=$4 reader=$5
    echo
    printf '%-8s %-24s %-20s %-20s %s\n' user flag "$writer" "$reader" "variation ($writer / $reader)"
    paste "$writer_file" "$reader_file" |
        awk -F'\t' '{ printf "%-8s %-24s %-20s %-20s %s / %s%s\n", $1, $2, $3, $7, $4, $8, ($1 != $5 || $2 != $6 || $3 != $7 || $4 != $8) ? "   <-- MISMATCH" : "" }'
    local lines
    lines=$(wc -l <"$writer_file")
    if ! diff -u "$writer_file" "$reader_file" >"$work/$name.diff"; then
        echo "direction $name: MISMATCH between $writer and $reader:" >&2
        cat "$work/$name.diff" >&2
        failures=$((failures + 1))
    elif [[ $lines -eq 0 ]] || grep -q 'ERROR' "$writer_file"; then
        echo "direction $name: no evaluations, or evaluation errors" >&2
        failures=$((failures + 1))
    else
        local missing=()
        for variation in "${EXPECTED_VARIATIONS[@]}"; do
            awk -F'\t' -v v="$variation" '$4 == v { found = 1 } END { exit !found }' "$reader_file" ||
                missing+=("$variation")
        done
        if [[ ${#missing[@]} -gt 0 ]]; then
            echo "direction $name: variations never served: ${missing[*]}" >&2
            failures=$((failures + 1))
        else
            echo "direction $name: $lines evaluations, $writer and $reader agree on every value and variation id"
        fi
    fi
}

echo
echo "=== (a) Rust writes the cache entry, the Python SDK (offline) reads it"
"$rust_bin" write --redis "$redis_url" --sdk-key "$key_a" --base-url "$base_url" --users "$USERS" >"$work/a_rust.txt"
payload_a=$(redis-cli -h 127.0.0.1 -p "$redis_port" --raw GET "$(cache_key "$key_a")")
echo "    Redis key $(cache_key "$key_a"): $(head -n 2 <<<"$payload_a" | paste -sd '|') | <config json, ${#payload_a} bytes in all>"
"${python[@]}" read --redis-port "$redis_port" --sdk-key "$key_a" --users "$USERS" >"$work/a_python.txt"
compare a "$work/a_rust.txt" "$work/a_python.txt" rust python

echo
echo "=== (b) the Python SDK writes the cache entry, Rust (offline) reads it"
"${python[@]}" write --redis-port "$redis_port" --sdk-key "$key_b" --base-url "$base_url" --users "$USERS" >"$work/b_python.txt"
payload_b=$(redis-cli -h 127.0.0.1 -p "$redis_port" --raw GET "$(cache_key "$key_b")")
echo "    Redis key $(cache_key "$key_b"): $(head -n 2 <<<"$payload_b" | paste -sd '|') | <config json, ${#payload_b} bytes in all>"
"$rust_bin" read --redis "$redis_url" --sdk-key "$key_b" --users "$USERS" >"$work/b_rust.txt"
compare b "$work/b_python.txt" "$work/b_rust.txt" python rust

echo
# Same config, same ETag: the payloads differ in the fetch time only.
if [[ -n $payload_a && $(tail -n +2 <<<"$payload_a") == "$(tail -n +2 <<<"$payload_b")" ]] &&
    [[ $(head -n 1 <<<"$payload_a") =~ ^[0-9]+$ && $(head -n 1 <<<"$payload_b") =~ ^[0-9]+$ ]]; then
    echo "payloads: byte-identical after the fetch time (Rust ${#payload_a} bytes, Python ${#payload_b} bytes)"
else
    echo "payloads: Rust's and Python's entries differ beyond the fetch time" >&2
    failures=$((failures + 1))
fi

if [[ $failures -ne 0 ]]; then
    echo "cross-SDK cache check: $failures failure(s)" >&2
    exit 1
fi
echo "cross-SDK cache check: both directions agree"
