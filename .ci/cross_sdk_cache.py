"""The Python side of .ci/cross_sdk_cache.sh: ConfigCat's official Python SDK
(configcat-client) with a small Redis-backed ConfigCache.

  cross_sdk_cache.py write --redis-port P --sdk-key KEY --base-url URL --users FILE
      an online client fetches from URL (manual polling), which writes the
      config to Redis; prints its evaluations
  cross_sdk_cache.py read --redis-port P --sdk-key KEY --users FILE
      an offline client reads the config from Redis; prints its evaluations

Evaluations are printed as the Rust example `shared_cache` prints them:
"<identifier>\t<key>\t<value>\t<variation id>", sorted.
"""

import argparse
import logging
import sys

import redis
from configcatclient import ConfigCatClient
from configcatclient.configcatoptions import ConfigCatOptions
from configcatclient.interfaces import ConfigCache
from configcatclient.pollingmode import PollingMode
from configcatclient.user import User


class RedisConfigCache(ConfigCache):
    """The cache class of ConfigCat's documentation: one string per key."""

    def __init__(self, port):
        self._redis = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

    def get(self, key):
        value = self._redis.get(key)
        return value.decode("utf-8") if value is not None else None

    def set(self, key, value):
        self._redis.set(key, value)


def read_users(path):
    users = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            line = line.rstrip("\n")
            if line.startswith("#") or not line.strip():
                continue
            fields = (line.split("\t") + ["", "", ""])[:4]
            identifier, email, country, custom_text = fields
            custom = {}
            for attribute in custom_text.split(";"):
                if "=" in attribute:
                    name, value = attribute.split("=", 1)
                    custom[name] = value
            users.append(User(identifier, email=email or None, country=country or None, custom=custom or None))
    return users


def format_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # As Rust's Display: "10" for 10.0, shortest round-trip digits otherwise.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def print_evaluations(client, users):
    lines = []
    for user in users:
        for details in client.get_all_value_details(user):
            if details.error:
                value = "ERROR: " + str(details.error)
            else:
                value = format_value(details.value)
            lines.append("\t".join([user.get_identifier(), details.key, value, details.variation_id or "-"]))
    for line in sorted(lines):
        print(line)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["write", "read"])
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--sdk-key", required=True)
    parser.add_argument("--base-url")
    parser.add_argument("--users", required=True)
    args = parser.parse_args()

    # Warnings about missing user attributes are expected; errors are not.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    cache = RedisConfigCache(args.redis_port)
    users = read_users(args.users)

    if args.command == "write":
        options = ConfigCatOptions(
            base_url=args.base_url,
            polling_mode=PollingMode.manual_poll(),
            config_cache=cache,
        )
        client = ConfigCatClient.get(args.sdk_key, options)
        result = client.force_refresh()
        if not result.is_success:
            print("fetching the config failed: %s" % result.error, file=sys.stderr)
            return 1
    else:
        options = ConfigCatOptions(
            polling_mode=PollingMode.manual_poll(),
            config_cache=cache,
            offline=True,
        )
        client = ConfigCatClient.get(args.sdk_key, options)
        if not client.get_all_keys():
            print("no config in the cache", file=sys.stderr)
            return 1

    print_evaluations(client, users)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
