#!/usr/bin/env bash
#
# Checks digin-token against the openssl command line tools: for every
# key type, keygen, then mint with each algorithm that fits the key, and
# verify each token with openssl alone (no code shared with digin-token);
# claims and JWKS members are read with python3's json module.  jwks
# output is turned back into public keys with openssl asn1parse, and
# tokens minted with the private keys must verify with them.
#
#   tests/tools/digin_token_check.sh          uses build/digin-token
#   DIGIN_TOKEN=/path/to/digin-token tests/tools/digin_token_check.sh
#
# It also runs digin-token under valgrind when valgrind is installed;
# DIGIN_TOKEN_VALGRIND=0 skips that (for a sanitizer build, say).
#
# The last line of output is "N passed, M failed"; the exit status is
# non-zero when anything failed.

set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
tool=${DIGIN_TOKEN:-$top/build/digin-token}

if [ ! -x "$tool" ]; then
    echo "digin_token_check: $tool is missing (make tools)" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0

# check DESCRIPTION COMMAND...: one assertion
check() {
    local what=$1
    shift

    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: $what" >&2
    fi
}

# check_not DESCRIPTION COMMAND...: the command must fail
check_not() {
    local what=$1
    shift

    if "$@"; then
        failed=$((failed + 1))
        echo "FAILED: $what" >&2
    else
        passed=$((passed + 1))
    fi
}

b64url_decode() {
    local s=$1

    s=${s//-/+}
    s=${s//_//}

    case $((${#s} % 4)) in
    2) s="$s==" ;;
    3) s="$s=" ;;
    1) return 1 ;;
    esac

    printf '%s' "$s" | openssl base64 -d -A
}

hex() {
    od -An -v -tx1 "$@" | tr -d ' \n'
}

# verify TOKEN ALG KEY: KEY is the public key PEM, or the HMAC key file
verify() {
    local token=$1 alg=$2 key=$3 v=$tmp/verify
    local h p s extra hash field

    IFS=. read -r h p s extra <<<"$token"

    [ -n "$h" ] && [ -n "$p" ] && [ -n "$s" ] && [ -z "$extra" ] || return 1

    printf '%s.%s' "$h" "$p" >"$v.in"
    b64url_decode "$s" >"$v.sig" || return 1

    case $alg in
    EdDSA) ;;
    *) hash=sha${alg:2:3} ;;
    esac

    case $alg in
    HS*)
        openssl dgst "-$hash" -mac HMAC -macopt "hexkey:$(hex "$key")" \
            -binary -out "$v.mac" "$v.in" || return 1
        cmp -s "$v.mac" "$v.sig"
        ;;

    RS*)
        openssl dgst "-$hash" -verify "$key" -signature "$v.sig" "$v.in" \
            >/dev/null 2>&1
        ;;

    PS*)
        # saltlen -1: the salt must be as long as the hash
        openssl dgst "-$hash" -sigopt rsa_padding_mode:pss \
            -sigopt rsa_pss_saltlen:-1 -verify "$key" \
            -signature "$v.sig" "$v.in" >/dev/null 2>&1
        ;;

    ES*)
        case $alg in
        ES256) field=32 ;;
        ES384) field=48 ;;
        ES512) field=66 ;;
        esac

        # JOSE R || S, fixed size, to a DER ECDSA-Sig-Value
        [ "$(stat -c %s "$v.sig")" -eq $((2 * field)) ] || return 1

        printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' \
            "$(hex -N "$field" "$v.sig")" "$(hex -j "$field" "$v.sig")" \
            >"$v.cnf"
        openssl asn1parse -genconf "$v.cnf" -out "$v.der" -noout \
            >/dev/null || return 1
        openssl dgst "-$hash" -verify "$key" -signature "$v.der" "$v.in" \
            >/dev/null 2>&1
        ;;

    EdDSA)
        openssl pkeyutl -verify -pubin -inkey "$key" -rawin -in "$v.in" \
            -sigfile "$v.sig" >/dev/null 2>&1
        ;;

    *)
        return 1
        ;;
    esac
}

# token_is TOKEN PYTHON-EXPRESSION: h is the header, p the claims
token_is() {
    python3 -c '
import base64, json, sys

def part(s):
    return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))

h, p, s = sys.argv[1].split(".")
h, p = part(h), part(p)
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
' "$1" "$2"
}

# jwks_is FILE PYTHON-EXPRESSION: k is the one JWK, d(name) its bytes
jwks_is() {
    python3 -c '
import base64, json, sys

def d(name):
    s = k[name]
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

jwks = json.load(open(sys.argv[1]))
assert len(jwks["keys"]) == 1
k = jwks["keys"][0]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
' "$1" "$2"
}

# thumbprint_ok FILE: the default kid is the RFC 7638 thumbprint's start
thumbprint_ok() {
    python3 -c '
import base64, hashlib, json, sys

k = json.load(open(sys.argv[1]))["keys"][0]
need = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}[k["kty"]]
m = json.dumps({n: k[n] for n in need}, sort_keys=True,
               separators=(",", ":"))
t = base64.urlsafe_b64encode(hashlib.sha256(m.encode()).digest())
sys.exit(0 if t.decode().rstrip("=")[:16] == k["kid"] else 1)
' "$1"
}

# jwk_matches_pem FILE PUB: the JWK's key is the PEM's key
jwk_matches_pem() {
    local jwks=$1 pub=$2 modulus

    openssl pkey -pubin -in "$pub" -outform DER -out "$tmp/pub.der" \
        || return 1
    modulus=$(openssl rsa -pubin -in "$pub" -noout -modulus 2>/dev/null \
              || true)

    python3 -c '
import base64, json, sys

def d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

k = json.load(open(sys.argv[1]))["keys"][0]
der = open(sys.argv[2], "rb").read()
if k["kty"] == "RSA":
    n = int(sys.argv[3].split("=")[1], 16)
    ok = d(k["n"]) == n.to_bytes((n.bit_length() + 7) // 8, "big")
elif k["kty"] == "EC":
    point = b"\x04" + d(k["x"]) + d(k["y"])
    ok = der.endswith(point)
else:
    ok = der.endswith(d(k["x"]))
sys.exit(0 if ok else 1)
' "$jwks" "$tmp/pub.der" "$modulus"
}

# mint ARGS...: the token, or a word no check accepts when minting failed
mint() {
    "$tool" mint "$@" || echo "mint-failed"
}

quiet() {
    "$@" >/dev/null
}

mode_is() {
    [ "$(stat -c %a "$1")" = "$2" ]
}

# fails_with STATUS COMMAND...: exit status and one "digin-token: " line
fails_with() {
    local want=$1 rc=0
    shift

    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?

    [ "$rc" -eq "$want" ] \
        && [ ! -s "$tmp/out" ] \
        && [ "$(wc -l <"$tmp/err")" -eq 1 ] \
        && grep -q '^digin-token: ' "$tmp/err"
}

# mint_check TYPE PREFIX ALG: mint, verify, tamper, verify again
mint_check() {
    local type=$1 prefix=$2 alg=$3 key pub token forged

    if [ "$type" = oct ]; then
        key=$prefix.secret
        pub=$prefix.secret
    else
        key=$prefix.pem
        pub=$prefix.pub.pem
    fi

    token=$(mint --key "$key" --alg "$alg" --kid "k-$type" \
            --iss https://idp.example --aud gateway --sub patron-1 \
            --library central --ttl 600 --jti "j-$alg")

    check "$type $alg: openssl verifies" verify "$token" "$alg" "$pub"
    check "$type $alg: header" token_is "$token" \
        "list(h) == ['alg', 'kid', 'typ'] and h['alg'] == '$alg'
         and h['typ'] == 'JWT' and h['kid'] == 'k-$type'"
    check "$type $alg: claims" token_is "$token" \
        "p['iss'] == 'https://idp.example' and p['aud'] == 'gateway'
         and p['sub'] == 'patron-1' and p['library'] == 'central'
         and p['jti'] == 'j-$alg' and p['exp'] - p['iat'] == 600
         and isinstance(p['iat'], int)"

    # the same signature over other claims must not verify
    forged=$(printf '%s' "$token" | cut -d. -f1).$(printf '{"sub":"x"}' \
             | openssl base64 -A | tr '+/' '-_' | tr -d =).$(printf '%s' \
             "$token" | cut -d. -f3)
    check_not "$type $alg: openssl rejects a forged token" \
        verify "$forged" "$alg" "$pub"
}

cd "$tmp"

# keygen for every type, then mint with every algorithm that fits

declare -A algs=(
    [rsa]="RS256 RS384 RS512 PS256 PS384 PS512"
    [ec]="ES256"
    [ec384]="ES384"
    [ec521]="ES512"
    [ed25519]="EdDSA"
    [oct]="HS256 HS384 HS512"
)

declare -A kty=(
    [rsa]=RSA [ec]=EC [ec384]=EC [ec521]=EC [ed25519]=OKP [oct]=oct
)

declare -A default_alg=(
    [rsa]=RS256 [ec]=ES256 [ec384]=ES384 [ec521]=ES512 [ed25519]=EdDSA
    [oct]=HS256
)

declare -A jwk_shape=(
    [rsa]="len(d('n')) == 256 and d('n')[0] != 0
           and int.from_bytes(d('e'), 'big') == 65537"
    [ec]="k['crv'] == 'P-256' and len(d('x')) == 32 and len(d('y')) == 32"
    [ec384]="k['crv'] == 'P-384' and len(d('x')) == 48 and len(d('y')) == 48"
    [ec521]="k['crv'] == 'P-521' and len(d('x')) == 66 and len(d('y')) == 66"
    [ed25519]="k['crv'] == 'Ed25519' and len(d('x')) == 32"
    [oct]="d('k') == open('oct.secret', 'rb').read() and len(d('k')) == 64"
)

for type in rsa ec ec384 ec521 ed25519 oct; do
    out=$("$tool" keygen --type "$type" --out "$type") || {
        check "$type: keygen" false
        continue
    }

    if [ "$type" = oct ]; then
        check "$type: summary" [ "$(printf '%s' "$out" | cut -d' ' -f1-3)" \
            = "wrote oct.secret oct.jwks.json" ]
        check "$type: secret mode 0600" mode_is oct.secret 600
        check "$type: jwks mode 0600 (it holds the secret)" \
            mode_is oct.jwks.json 600
        check "$type: no PEM files" [ ! -e oct.pem -a ! -e oct.pub.pem ]
    else
        check "$type: summary" [ "$(printf '%s' "$out" | cut -d' ' -f1-4)" \
            = "wrote $type.pem $type.pub.pem $type.jwks.json" ]
        check "$type: private key mode 0600" mode_is "$type.pem" 600
        check "$type: private key is PKCS#8" \
            grep -qx -- '-----BEGIN PRIVATE KEY-----' "$type.pem"
        check "$type: private key parses" \
            openssl pkey -in "$type.pem" -noout
        check "$type: public key is SubjectPublicKeyInfo" \
            grep -qx -- '-----BEGIN PUBLIC KEY-----' "$type.pub.pem"
        check "$type: public key belongs to the private key" \
            cmp -s <(openssl pkey -in "$type.pem" -pubout) "$type.pub.pem"
        check "$type: JWK holds the PEM's public key" \
            jwk_matches_pem "$type.jwks.json" "$type.pub.pem"
        check "$type: JWK has no private members" jwks_is "$type.jwks.json" \
            "not set(k) & {'d', 'p', 'q', 'dp', 'dq', 'qi', 'k'}"
    fi

    check "$type: JWK members" jwks_is "$type.jwks.json" \
        "list(k)[:4] == ['kty', 'kid', 'use', 'alg']
         and k['kty'] == '${kty[$type]}' and k['use'] == 'sig'
         and k['alg'] == '${default_alg[$type]}'"
    check "$type: JWK key" jwks_is "$type.jwks.json" "${jwk_shape[$type]}"
    check "$type: kid is the RFC 7638 thumbprint" \
        thumbprint_ok "$type.jwks.json"
    check "$type: summary names the kid" [ "${out##* (kid }" = \
        "$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["keys"][0]["kid"] + ")")' \
           "$type.jwks.json")" ]

    for alg in ${algs[$type]}; do
        mint_check "$type" "$type" "$alg"
    done
done

# keygen options

check "keygen rsa --bits --alg --kid" \
    quiet "$tool" keygen --type rsa --bits 3072 --alg PS256 --kid my-key \
    --out rsa3072
check "rsa 3072: JWK" jwks_is rsa3072.jwks.json \
    "len(d('n')) == 384 and k['alg'] == 'PS256' and k['kid'] == 'my-key'"
mint_check rsa rsa3072 PS512

check "keygen oct --bits 256" quiet "$tool" keygen --type oct --bits 256 \
    --out oct256
check "oct 256: 32 bytes" [ "$(stat -c %s oct256.secret)" -eq 32 ]
mint_check oct oct256 HS256

check "keygen rejects --alg that does not fit" \
    fails_with 2 "$tool" keygen --type ec --alg ES384 --out x
check "keygen rejects --alg HS256 for rsa" \
    fails_with 2 "$tool" keygen --type rsa --alg HS256 --out x
check "keygen rejects --bits for ec" \
    fails_with 2 "$tool" keygen --type ec --bits 256 --out x
check "keygen rejects an unknown type" \
    fails_with 2 "$tool" keygen --type dsa --out x
check "keygen needs --out" fails_with 2 "$tool" keygen --type ec
check "keygen reports an unwritable prefix" \
    fails_with 1 "$tool" keygen --type ec --out "$tmp/none/x"

# the two signing paths give the same bytes: a --header-json alg makes
# OpenSSL sign what libjwt signs otherwise (HS and RS are deterministic)

for spec in "oct.secret HS256" "oct.secret HS512" "rsa.pem RS256" \
            "rsa.pem RS512"
do
    read -r key alg <<<"$spec"
    a=$(mint --key "$key" --alg "$alg" --iat 1700000000 --sub s --kid k)
    b=$(mint --key "$key" --alg "$alg" --iat 1700000000 --sub s --kid k \
        --header-json "alg=\"$alg\"")
    check "$alg: libjwt and OpenSSL tokens are identical" \
        [ "$a" = "$b" -a "$a" != mint-failed ]
done

for spec in "ec ES256" "ec384 ES384" "ec521 ES512"; do
    read -r type alg <<<"$spec"
    t=$(mint --key "$type.pem" --alg "$alg" --header-json "alg=\"$alg\"")
    check "$alg signed by OpenSSL: openssl verifies" \
        verify "$t" "$alg" "$type.pub.pem"
done

# alg confusion: HS256 keyed with the bytes of an RSA public key PEM

t=$(mint --key rsa.pub.pem --alg HS256 --sub attacker)
check "HS256 keyed with a public key PEM" verify "$t" HS256 rsa.pub.pem
check "HS256 keyed with a public key PEM: header" token_is "$t" \
    "h['alg'] == 'HS256' and p['sub'] == 'attacker'"

# claims options

t=$(mint --key ec.pem --alg ES256 --iat 1000 --exp 5000 --nbf 900)
check "--iat --exp --nbf" token_is "$t" \
    "p == {'iat': 1000, 'exp': 5000, 'nbf': 900} and 'kid' not in h"

t=$(mint --key ec.pem --alg ES256 --iat 1000 --ttl -60)
check "--ttl counts from --iat, may be negative" token_is "$t" \
    "p == {'iat': 1000, 'exp': 940}"

t=$(mint --key ec.pem --alg ES256 --no-iat --no-exp)
check "--no-iat --no-exp" token_is "$t" "p == {}"

now=$(date +%s)
t=$(mint --key ec.pem --alg ES256)
check "iat defaults to now, exp to iat + 3600" token_is "$t" \
    "abs(p['iat'] - $now) < 60 and p['exp'] == p['iat'] + 3600"

t=$(mint --key ec.pem --alg ES256 --no-iat --ttl 100)
check "--no-iat: exp counts from now" token_is "$t" \
    "'iat' not in p and abs(p['exp'] - $now - 100) < 60"

t=$(mint --key ec.pem --alg ES256 --aud a --aud b --aud c)
check "--aud twice makes an array" token_is "$t" "p['aud'] == ['a', 'b', 'c']"

t=$(mint --key ec.pem --alg ES256 --sub s --claim sub=t \
    --claim 'scope=read write' --claim-json 'n=42' \
    --claim-json 'titles=["t1","t2"]' --claim-json 'o={"a":{"b":null}}' \
    --claim-json 'exp="soon"' --claim-json 'f=1.5' --claim-json 'yes=true')
check "--claim and --claim-json" token_is "$t" \
    "p['sub'] == 't' and p['scope'] == 'read write' and p['n'] == 42
     and p['titles'] == ['t1', 't2'] and p['o'] == {'a': {'b': None}}
     and p['exp'] == 'soon' and p['f'] == 1.5 and p['yes'] is True"
check "--claim and --claim-json: openssl verifies" \
    verify "$t" ES256 ec.pub.pem

t=$(mint --key ed25519.pem --alg EdDSA --claim 'name=Zoë ☃')
check "UTF-8 claim" token_is "$t" "p['name'] == 'Zoë ☃'"

t=$(mint --key oct.secret --alg HS256 --kid k1 \
    --header-json 'typ="at+jwt"' --header-json 'crit=["exp"]' \
    --header-json 'x5u=null')
check "--header-json adds and replaces" token_is "$t" \
    "h == {'alg': 'HS256', 'typ': 'at+jwt', 'kid': 'k1', 'crit': ['exp'],
           'x5u': None}"
check "--header-json: openssl verifies" verify "$t" HS256 oct.secret

t=$(mint --key rsa.pem --alg RS256 --header-json 'alg="none"')
check "--header-json alg is written as given" token_is "$t" \
    "h['alg'] == 'none'"
check "--header-json alg: signed with --alg" verify "$t" RS256 rsa.pub.pem

t=$(mint --key rsa.pem --alg PS256 --header-json 'typ=1')
check "--header-json typ=1 (OpenSSL path)" token_is "$t" "h['typ'] == 1"

t=$(mint --key oct.secret --alg HS256 --header-json 'typ=1')
check "--header-json typ=1 with HS256" token_is "$t" "h['typ'] == 1"
check "--header-json typ=1 with HS256: openssl verifies" \
    verify "$t" HS256 oct.secret

t=$(mint --key ec.pem --alg ES256 --header-json 'typ="JOSE"')
check "--header-json typ with ES256" token_is "$t" "h['typ'] == 'JOSE'"
check "--header-json typ with ES256: openssl verifies" \
    verify "$t" ES256 ec.pub.pem

t=$(mint --key=ec.pem --alg=ES256 --sub=x)
check "--name=value" token_is "$t" "p['sub'] == 'x'"

# the output is the token and one new line, nothing else

"$tool" mint --key ec.pem --alg ES256 >"$tmp/stdout" || true
check "stdout holds one line" [ "$(wc -l <"$tmp/stdout")" -eq 1 ]
check "stdout is a compact JWS" \
    grep -qxE '[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+' "$tmp/stdout"

# keys that do not fit the algorithm, and other errors

check "ES384 with a P-256 key" fails_with 2 "$tool" mint --key ec.pem \
    --alg ES384
check "ES256 with a P-521 key" fails_with 2 "$tool" mint --key ec521.pem \
    --alg ES256
check "RS256 with an EC key" fails_with 2 "$tool" mint --key ec.pem \
    --alg RS256
check "PS256 with an Ed25519 key" fails_with 2 "$tool" mint \
    --key ed25519.pem --alg PS256
check "EdDSA with an RSA key" fails_with 2 "$tool" mint --key rsa.pem \
    --alg EdDSA
check "RS256 with a public key" fails_with 2 "$tool" mint \
    --key rsa.pub.pem --alg RS256
check "ES256 with a secret" fails_with 2 "$tool" mint --key oct.secret \
    --alg ES256
: >empty
check "HS256 with an empty file" fails_with 2 "$tool" mint --key empty \
    --alg HS256
check "unknown alg" fails_with 2 "$tool" mint --key ec.pem --alg none
check "mint needs --alg" fails_with 2 "$tool" mint --key ec.pem
check "mint needs --key" fails_with 2 "$tool" mint --alg ES256
check "missing key file" fails_with 1 "$tool" mint --key "$tmp/none" \
    --alg ES256
check "--ttl with --no-exp" fails_with 2 "$tool" mint --key ec.pem \
    --alg ES256 --ttl 5 --no-exp
check "--iat with --no-iat" fails_with 2 "$tool" mint --key ec.pem \
    --alg ES256 --iat 5 --no-iat
check "bad number" fails_with 2 "$tool" mint --key ec.pem --alg ES256 \
    --ttl 5s
check "bad --claim-json" fails_with 2 "$tool" mint --key ec.pem \
    --alg ES256 --claim-json 'x={'
check "--claim without =" fails_with 2 "$tool" mint --key ec.pem \
    --alg ES256 --claim x
check "duplicate --sub" fails_with 2 "$tool" mint --key ec.pem \
    --alg ES256 --sub a --sub b
check "unknown option" fails_with 2 "$tool" mint --key ec.pem \
    --alg ES256 --frob
check "unknown command" fails_with 2 "$tool" frob

rc=0
"$tool" >/dev/null 2>&1 || rc=$?
check "no arguments: exit 2" [ "$rc" -eq 2 ]

for help in help --help; do
    check "$help: exit 0 and usage on stdout" \
        bash -c '"$1" "$2" | grep -q "digin-token mint --key FILE"' \
        _ "$tool" "$help"
done

# jwks: the public JWK of each PEM file, private or public, in order

# jwk_pem JWKS INDEX OUT: the JWK's key as a public key PEM, built from
# its members with openssl asn1parse alone (no code of digin-token)
jwk_pem() {
    local jwks=$1 i=$2 out=$3

    python3 -c '
import base64, json, sys

def h(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).hex()

k = json.load(open(sys.argv[1]))["keys"][int(sys.argv[2])]
print("asn1=SEQUENCE:spki\n[spki]\nalgorithm=SEQUENCE:alg")
if k["kty"] == "RSA":
    print("pub=BITWRAP,SEQUENCE:rsa\n[alg]\nalgorithm=OID:rsaEncryption")
    print("parameter=NULL\n[rsa]\nn=INTEGER:0x%s\ne=INTEGER:0x%s"
          % (h(k["n"]), h(k["e"])))
elif k["kty"] == "EC":
    curve = {"P-256": "prime256v1", "P-384": "secp384r1",
             "P-521": "secp521r1"}[k["crv"]]
    print("pub=FORMAT:HEX,BITSTRING:04%s%s" % (h(k["x"]), h(k["y"])))
    print("[alg]\nalgorithm=OID:id-ecPublicKey\ncurve=OID:%s" % curve)
else:
    print("pub=FORMAT:HEX,BITSTRING:%s\n[alg]\nalgorithm=OID:ED25519"
          % h(k["x"]))
' "$jwks" "$i" >"$out.cnf" || return 1

    openssl asn1parse -genconf "$out.cnf" -out "$out.der" -noout \
        >/dev/null || return 1
    openssl pkey -pubin -inform DER -in "$out.der" -out "$out" 2>/dev/null
}

# jwks_all FILE PYTHON-EXPRESSION: ks is the list of JWKs
jwks_all() {
    python3 -c '
import json, sys

ks = json.load(open(sys.argv[1]))["keys"]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
' "$1" "$2"
}

# the keys of keygen above, private and public PEM mixed; kids for the
# first two, an empty one (the default) for the third
check "jwks of five keys" bash -c '"${@:2}" >"$1"' _ "$tmp/set.json" \
    "$tool" jwks --kid gw-rsa --kid gw-ec --kid '' rsa.pem ec.pub.pem \
    ec384.pem ec521.pub.pem ed25519.pem

check "jwks: parses, one JWK per file, in order" jwks_all set.json \
    "[k['kty'] for k in ks] == ['RSA', 'EC', 'EC', 'EC', 'OKP']
     and [k.get('crv') for k in ks]
         == [None, 'P-256', 'P-384', 'P-521', 'Ed25519']"
check "jwks: public members only" jwks_all set.json \
    "all(set(k) <= {'kty', 'kid', 'use', 'alg', 'n', 'e', 'crv', 'x', 'y'}
         for k in ks)"
check "jwks: member order and use" jwks_all set.json \
    "all(list(k)[:4] == ['kty', 'kid', 'use', 'alg'] and k['use'] == 'sig'
         for k in ks)"
check "jwks: alg by key type" jwks_all set.json \
    "[k['alg'] for k in ks] == ['RS256', 'ES256', 'ES384', 'ES512', 'EdDSA']"
check "jwks: the i-th --kid for the i-th file" jwks_all set.json \
    "[k['kid'] for k in ks][:2] == ['gw-rsa', 'gw-ec']"

i=0
for type in rsa ec ec384 ec521 ed25519; do
    # keygen's JWK of the same key: same members, same default kid
    check "jwks $type: the key members of keygen's JWK" python3 -c '
import json, sys

a = json.load(open(sys.argv[1]))["keys"][int(sys.argv[2])]
b = json.load(open(sys.argv[3]))["keys"][0]
same = all(a[m] == b[m] for m in b if m not in ("kid",))
kid = a["kid"] == b["kid"] if int(sys.argv[2]) >= 2 else True
sys.exit(0 if same and kid and len(a) == len(b) else 1)
' set.json "$i" "$type.jwks.json"

    check "jwks $type: the JWK rebuilt by openssl is the PEM's key" \
        jwk_pem set.json "$i" "$tmp/jwk-$type.pem"
    check "jwks $type: same public key" \
        cmp -s "$tmp/jwk-$type.pem" "$type.pub.pem"

    alg=$(python3 -c 'import json, sys
k = json.load(open(sys.argv[1]))["keys"][int(sys.argv[2])]
print(k["alg"] + " " + k["kid"])' set.json "$i")
    read -r alg kid <<<"$alg"

    t=$(mint --key "$type.pem" --alg "$alg" --kid "$kid" \
        --iss urn:digin:gateway --aud bokskya --sub pseudonym)
    check "jwks $type: a $alg token verifies with the JWK's key" \
        verify "$t" "$alg" "$tmp/jwk-$type.pem"
    check "jwks $type: the token's kid names the JWK" token_is "$t" \
        "h['kid'] == '$kid'"

    i=$((i + 1))
done

check "jwks: private and public PEM give the same JWKS" bash -c \
    'cmp -s <("$1" jwks ec.pem rsa.pub.pem) <("$1" jwks ec.pub.pem rsa.pem)' \
    _ "$tool"

openssl ec -in ec.pem -out ec-traditional.pem 2>/dev/null
check "jwks reads a traditional EC PRIVATE KEY PEM" bash -c \
    'cmp -s <("$1" jwks ec-traditional.pem) <("$1" jwks ec.pem)' _ "$tool"

check "jwks --alg PS256 for an RSA key" bash -c \
    '"$1" jwks --alg PS256 rsa.pem >"$2"' _ "$tool" "$tmp/ps.json"
check "jwks --alg PS256: alg" jwks_all ps.json "ks[0]['alg'] == 'PS256'"

"$tool" jwks ed25519.pem >"$tmp/stdout" 2>"$tmp/stderr" || true
check "jwks: stdout is the JWKS, stderr empty" bash -c \
    'python3 -m json.tool "$1" >/dev/null && [ ! -s "$2" ]' \
    _ "$tmp/stdout" "$tmp/stderr"

check "jwks refuses an HMAC secret" fails_with 2 "$tool" jwks oct.secret
check "jwks refuses the same kid twice" fails_with 2 "$tool" jwks \
    ec.pem ec.pub.pem
check "jwks refuses a kid given to two keys" fails_with 2 "$tool" jwks \
    --kid k --kid k ec.pem rsa.pem
check "jwks refuses more --kid than files" fails_with 2 "$tool" jwks \
    --kid a --kid b ec.pem
check "jwks refuses an --alg that does not fit" fails_with 2 "$tool" jwks \
    --alg ES384 ec.pem
check "jwks refuses HS256 for an RSA key" fails_with 2 "$tool" jwks \
    --alg HS256 rsa.pem
openssl genpkey -algorithm X25519 -out x25519.pem 2>/dev/null
check "jwks refuses an X25519 key" fails_with 2 "$tool" jwks x25519.pem
openssl ecparam -name secp256k1 -genkey -noout -out k1.pem 2>/dev/null
check "jwks refuses a curve JOSE does not name" fails_with 2 "$tool" jwks \
    k1.pem
check "jwks needs a file" fails_with 2 "$tool" jwks --kid a
check "jwks reports a missing file" fails_with 1 "$tool" jwks "$tmp/none"

# valgrind: no leaks, no memory errors

if [ "${DIGIN_TOKEN_VALGRIND:-1}" = 0 ]; then
    echo "DIGIN_TOKEN_VALGRIND=0: memory checks skipped" >&2
elif command -v valgrind >/dev/null; then
    vg=(valgrind -q --leak-check=full --error-exitcode=9)

    check "valgrind: keygen rsa" \
        quiet "${vg[@]}" "$tool" keygen --type rsa --out vg
    check "valgrind: mint RS256" bash -c '"${@:2}" >"$1"' _ "$tmp/vg.jwt" \
        "${vg[@]}" "$tool" mint --key vg.pem --alg RS256 --aud a --aud b \
        --claim-json 'o={"a":[1]}' --header-json 'crit=["x"]'
    check "valgrind: RS256 token verifies" \
        verify "$(cat "$tmp/vg.jwt")" RS256 vg.pub.pem

    for spec in "vg.pem PS256" "ec521.pem ES512" "ed25519.pem EdDSA" \
                "oct.secret HS384"
    do
        read -r key alg <<<"$spec"
        check "valgrind: mint $alg" quiet "${vg[@]}" "$tool" mint \
            --key "$key" --alg "$alg" --kid k --claim a=b
        check "valgrind: mint $alg signed by OpenSSL" quiet "${vg[@]}" \
            "$tool" mint --key "$key" --alg "$alg" \
            --header-json "alg=\"$alg\""
    done

    check "valgrind: an unfit key exits 2" fails_with 2 "${vg[@]}" \
        "$tool" mint --key ec.pem --alg ES384 --sub s --aud a --aud b
    check "valgrind: a usage error exits 2" fails_with 2 "${vg[@]}" \
        "$tool" mint --key ec.pem --alg ES256 --claim-json 'x=['
    check "valgrind: jwks" quiet "${vg[@]}" "$tool" jwks --kid a \
        vg.pem ec.pub.pem ec521.pem ed25519.pub.pem
    check "valgrind: jwks refusing a duplicate kid exits 2" fails_with 2 \
        "${vg[@]}" "$tool" jwks ec.pem ec.pub.pem
else
    echo "valgrind is not installed: memory checks skipped" >&2
fi

echo "$passed passed, $failed failed"

[ "$failed" -eq 0 ]
