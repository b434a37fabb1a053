#!/bin/bash
# Makes seed inputs for fuzz-ocsp-request in DIR and the CA they ask about
# in CA.pem: requests from openssl ocsp (SHA-1 and SHA-256 CertIDs, with and
# without a nonce, two CertIDs, another issuer) as a POST body (first octet
# 0) and as a GET path, escaped and not (first octet 1), as the target
# reads them (see its header).
#
#   fuzz/ocsp-seeds.sh DIR CA.pem

set -euo pipefail

out=${1:?usage: $0 DIR CA.pem}
ca_out=${2:?usage: $0 DIR CA.pem}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# ca NAME: a self-signed EC CA, NAME.pem and NAME.key.
ca() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1.key" \
                -subj "/CN=$1" -days 30 -out "$work/$1.pem" 2>/dev/null
}

# cert CA NAME: a certificate NAME.pem issued by CA.
cert() {
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$2.key" \
                -subj "/CN=$2" -out "$work/$2.csr" 2>/dev/null
        openssl x509 -req -in "$work/$2.csr" -CA "$work/$1.pem" -CAkey "$work/$1.key" -days 30 \
                -set_serial "0x$(openssl rand -hex 8)" -out "$work/$2.pem" 2>/dev/null
}

# seed NAME REQ.der: the request as a POST body and as two GET paths.
seed() {
        { printf '\0'; cat "$2"; } >"$out/$1-post"
        { printf '\1/'; base64 -w0 <"$2" | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g'; } >"$out/$1-get"
        { printf '\1/'; base64 -w0 <"$2"; } >"$out/$1-get-raw"
}

ca ca
ca other
cert ca alice
cert ca bob
cert other alien
openssl ocsp -issuer "$work/ca.pem" -cert "$work/alice.pem" -reqout "$work/1.der" >/dev/null 2>&1
openssl ocsp -issuer "$work/ca.pem" -cert "$work/alice.pem" -no_nonce -reqout "$work/2.der" >/dev/null 2>&1
openssl ocsp -sha256 -issuer "$work/ca.pem" -cert "$work/bob.pem" -no_nonce -reqout "$work/3.der" >/dev/null 2>&1
openssl ocsp -issuer "$work/ca.pem" -cert "$work/alice.pem" -cert "$work/bob.pem" -reqout "$work/4.der" \
        >/dev/null 2>&1
openssl ocsp -issuer "$work/other.pem" -cert "$work/alien.pem" -reqout "$work/5.der" >/dev/null 2>&1
for i in 1 2 3 4 5; do
        seed "req$i" "$work/$i.der"
done
printf '\1/MEIwQDA%%2BMDwwOjAJBgUrDgMCGgUABBQ' >"$out/get-cut"
cp "$work/ca.pem" "$ca_out"
