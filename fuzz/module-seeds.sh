#!/bin/bash
# Makes seed inputs for fuzz-module-loader in DIR: a CA, certificates and a
# CRL from openssl, and revoked.idx written by WRITER (the test helper
# revoked-index-write), packed as the target reads them (see its header),
# with RSA and EC keys, with and without revoked.idx, and with revoked.idx
# after a compaction and appends.
#
#   fuzz/module-seeds.sh DIR WRITER

set -euo pipefail

out=${1:?usage: $0 DIR WRITER}
writer=${2:?usage: $0 DIR WRITER}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# u16 N: two octets, big-endian.
u16() {
        # shellcheck disable=SC2059 # the format is the escape being built
        printf "\\x$(printf %02x $(($1 >> 8)))\\x$(printf %02x $(($1 & 255)))"
}

# pack CA.der CRL.der REVOKED.idx OUT
pack() {
        {
                u16 "$(stat -c %s "$1")"
                cat "$1"
                u16 "$(stat -c %s "$2")"
                cat "$2"
                cat "$3"
        } >"$4"
}

seeds() {
        local type=$1 d=$work/$1 i
        mkdir -p "$d/newcerts"
        : >"$d/index.txt"
        echo 1000 >"$d/serial"
        echo 01 >"$d/crlnumber"
        cat >"$d/ca.cnf" <<CNF
[ ca ]
default_ca = x
[ x ]
dir = $d
database = $d/index.txt
new_certs_dir = $d/newcerts
certificate = $d/ca.pem
private_key = $d/ca.key
serial = $d/serial
crlnumber = $d/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = p
unique_subject = no
x509_extensions = u
crl_extensions = c
[ p ]
commonName = supplied
userId = optional
[ u ]
basicConstraints = critical, CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ c ]
authorityKeyIdentifier = keyid:always
[ v3_ca ]
basicConstraints = critical, CA:TRUE
subjectKeyIdentifier = hash
CNF
        if [[ $type == rsa ]]; then
                openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$d/ca.key" 2>/dev/null
        else
                openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/ca.key" 2>/dev/null
        fi
        openssl req -new -x509 -key "$d/ca.key" -subj "/CN=Fuzz CA" -days 30 \
                -extensions v3_ca -config "$d/ca.cnf" -out "$d/ca.pem" 2>/dev/null
        for i in 1 2 3; do
                openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/u$i.key" \
                        -subj "/UID=user$i/CN=User $i" -out "$d/u$i.csr" 2>/dev/null
                openssl ca -batch -config "$d/ca.cnf" -in "$d/u$i.csr" -out "$d/u$i.pem" 2>/dev/null
        done
        openssl ca -config "$d/ca.cnf" -revoke "$d/u1.pem" -crl_reason keyCompromise 2>/dev/null
        openssl ca -config "$d/ca.cnf" -revoke "$d/u2.pem" 2>/dev/null
        openssl ca -config "$d/ca.cnf" -gencrl -out "$d/crl.pem" 2>/dev/null
        openssl crl -in "$d/crl.pem" -outform DER -out "$d/crl.der"
        openssl x509 -in "$d/ca.pem" -outform DER -out "$d/ca.der"
        mkdir -p "$d/pub"
        "$writer" "$d/pub" "$d/ca.pem" "$d/crl.der" "$d"/u[123].pem
        : >"$d/empty"
        pack "$d/ca.der" "$d/crl.der" "$d/pub/revoked.idx" "$out/seed-$type-full"
        pack "$d/ca.der" "$d/crl.der" "$d/empty" "$out/seed-$type-no-revoked"
        # a second CRL: u2 taken off (as a released hold would be), u3 added
        openssl ca -config "$d/ca.cnf" -revoke "$d/u3.pem" 2>/dev/null
        openssl ca -config "$d/ca.cnf" -gencrl -out "$d/crl2.pem" 2>/dev/null
        openssl crl -in "$d/crl2.pem" -outform DER -out "$d/crl2.der"
        "$writer" "$d/pub" "$d/ca.pem" "$d/crl2.der" "$d/u1.pem" "$d/u3.pem"
        pack "$d/ca.der" "$d/crl2.der" "$d/pub/revoked.idx" "$out/seed-$type-appended"
        pack "$d/ca.der" "$d/crl.der" "$d/pub/revoked.idx" "$out/seed-$type-appended-older-crl"
}

seeds rsa
seeds ec
