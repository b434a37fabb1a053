#!/bin/bash
# Makes seed inputs for fuzz-sync in DIR: a CRL from openssl with
# revocations and a hold, and revoked.idx written by WRITER (the test
# helper revoked-index-write), each as the target reads them (one octet
# saying how much is the CRL's head, then the file).
#
#   fuzz/sync-seeds.sh DIR WRITER

set -euo pipefail

out=${1:?usage: $0 DIR WRITER}
writer=${2:?usage: $0 DIR WRITER}
mkdir -p "$out"
d=$(mktemp -d)
trap 'rm -rf -- "$d"' EXIT

mkdir -p "$d/newcerts" "$d/pub"
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
crl_extensions = c
[ p ]
commonName = supplied
[ c ]
authorityKeyIdentifier = keyid:always
[ v3_ca ]
basicConstraints = critical, CA:TRUE
subjectKeyIdentifier = hash
CNF
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/ca.key" 2>/dev/null
openssl req -new -x509 -key "$d/ca.key" -subj "/CN=Fuzz CA" -days 30 -extensions v3_ca -config "$d/ca.cnf" \
        -out "$d/ca.pem" 2>/dev/null
for i in 1 2 3 4; do
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/u$i.key" \
                -subj "/CN=User $i" -out "$d/u$i.csr" 2>/dev/null
        openssl ca -batch -config "$d/ca.cnf" -in "$d/u$i.csr" -out "$d/u$i.pem" 2>/dev/null
done
openssl ca -config "$d/ca.cnf" -revoke "$d/u1.pem" -crl_reason keyCompromise 2>/dev/null
openssl ca -config "$d/ca.cnf" -revoke "$d/u2.pem" 2>/dev/null
openssl ca -config "$d/ca.cnf" -revoke "$d/u3.pem" -crl_hold holdInstructionNone 2>/dev/null
openssl ca -config "$d/ca.cnf" -gencrl -out "$d/crl.pem" 2>/dev/null
openssl crl -in "$d/crl.pem" -outform DER -out "$d/crl.der"
"$writer" "$d/pub" "$d/ca.pem" "$d/crl.der" "$d"/u[1234].pem
{ printf '\x80'; cat "$d/crl.der"; } >"$out/seed-crl"
{ printf '\x10'; cat "$d/crl.der"; } >"$out/seed-crl-short-head"
# the header page, the records and the first certificate: what a sync reads
{ printf '\x00'; head -c 8192 "$d/pub/revoked.idx"; } >"$out/seed-index"
