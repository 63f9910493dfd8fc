#!/usr/bin/env bash
# Installs what building haproxy-rs needs on a fresh Debian machine: the
# system OpenSSL's headers and pkg-config (the openssl crate links them).
# Skips what is present.
set -eu
need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "missing: ${need[*]} (run as root or install them)" >&2
        exit 1
    fi
fi
