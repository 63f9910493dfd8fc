#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine, beyond the
# build's own (install-build-deps.sh): the openssl and curl tools (TLS
# clients and certificates in the tests), python3 (test helpers), HAProxy
# 2.6 (reference behaviour) and nginx (a real HTTP upstream). Skips what is
# present.
set -eu
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "missing: ${need[*]} (run as root or install them)" >&2
        exit 1
    fi
fi
