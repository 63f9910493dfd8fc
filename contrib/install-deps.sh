#!/usr/bin/env bash
# Installs with apt-get what a fresh Debian machine lacks, skipping what is
# present.
#   install-deps.sh build   OpenSSL's headers and pkg-config (the openssl
#                           crate links the system library)
#   install-deps.sh test    the tests' tools: openssl and curl (TLS clients,
#                           certificates), python3 (helpers), HAProxy 2.6
#                           (reference behaviour), nginx (a real upstream)
set -eu
need=()
case "${1:-}" in
build)
    command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
    [ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
    ;;
test)
    command -v python3 >/dev/null 2>&1 || need+=(python3)
    command -v openssl >/dev/null 2>&1 || need+=(openssl)
    command -v curl >/dev/null 2>&1 || need+=(curl)
    command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
    [ -x /usr/sbin/nginx ] || need+=(nginx-light)
    ;;
*)
    echo "usage: $0 build|test" >&2
    exit 2
    ;;
esac
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "missing: ${need[*]} (run as root or install them)" >&2
        exit 1
    fi
fi
