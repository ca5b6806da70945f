/*
 * Copyright (C) Digin gateway developers
 *
 * digin_jwt.c: a patron token through every check of digin_jwt_verify(),
 * one table row per case, at a fixed clock.
 */


#include "digin_test.h"


#define NOW     1700000000
#define LEEWAY  30


/* the issuers of the trust built in group_setup(), by index */
enum {
    ISS_IDP = 0,        /* one RSA key "rsa1"; RS256 PS256 ES256 HS256 */
    ISS_HMAC,           /* one oct key "hs1"; HS256 HS384 HS512 */
    ISS_MIXED,          /* RSA, P-256, P-384, P-521, Ed25519; default */
    ISS_TWO,            /* two RSA keys "a" and "b"; default */
    ISS_CUSTOM,         /* one RSA key, no kid; claims "patron_id", "lib" */
    ISS_JOE,            /* RFC 7515 A.1: "joe", its oct key; HS256 */
    ISS_N
};

#define IDP     "\"iss\":\"https://idp.example.org\""
#define HMAC_I  "\"iss\":\"https://hmac.example.org\""
#define MIXED   "\"iss\":\"https://mixed.example.org\""
#define TWO     "\"iss\":\"https://two.example.org\""
#define CUSTOM  "\"iss\":\"https://custom.example.org\""
#define AUD     "\"aud\":\"digin\""
#define EXP     "\"exp\":1700000600"
#define SUB     "\"sub\":\"patron-42\""
#define CLAIMS  AUD "," EXP "," SUB

/* "x" repeated */
#define X16     "xxxxxxxxxxxxxxxx"
#define X63     X16 X16 X16 "xxxxxxxxxxxxxxx"
#define X64     X16 X16 X16 X16
#define X127    X64 X63
#define X128    X64 X64
#define X255    X64 X64 X64 X63
#define X256    X64 X64 X64 X64

#define RFC_A1_K                                                             \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hc" \
    "gUuTwjAzZr1Z9CAow"
#define RFC_A1_TOKEN                                                         \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."                              \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"       \
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."                                        \
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


typedef enum {
    S_NONE = 0,         /* an empty signature */
    S_RSA,
    S_RSA_OTHER,
    S_EC256,
    S_EC384,
    S_EC521,
    S_ED,
    S_HS,               /* the ISS_HMAC secret */
    S_HS_WRONG,         /* another secret */
    S_HS_PEM,           /* the RSA public key's PEM as the HMAC secret */
    S_MAX
} signer_e;


typedef enum {
    M_NONE = 0,
    /* on the text that is then signed */
    M_ONE_SEGMENT,      /* "h" */
    M_TWO_SEGMENTS,     /* "h.p" */
    M_EMPTY_HEADER,     /* ".p.s" */
    M_EMPTY_PAYLOAD,    /* "h..s" */
    M_HEADER_PADDED,    /* "h=.p.s" */
    M_HEADER_PLUS,      /* a '+' in the header */
    M_PAYLOAD_SLASH,    /* a '/' in the payload */
    M_PAYLOAD_NEWLINE,  /* a line break in the payload */
    M_HEADER_NONCANON,  /* unused low bits of the last character set */
    M_PAYLOAD_NONCANON,
    /* after signing */
    M_FOUR_SEGMENTS,    /* "h.p.s.e30" */
    M_FIVE_SEGMENTS,    /* "h.p.s.e30.e30", the shape of a JWE */
    M_TAMPER,           /* the payload replaced by row->tamper */
    M_SIG_EMPTY,
    M_SIG_DER,          /* ES: the DER form instead of R||S */
    M_SIG_FLIP,         /* one bit of the signature */
    M_SIG_TRUNCATE      /* the last byte of the signature dropped */
} mutation_e;


typedef struct {
    const char      *name;
    const char      *header;    /* NULL: {"alg":"<alg>"} */
    const char      *payload;
    signer_e         signer;
    digin_alg_e      alg;       /* what signs; names the default header */
    mutation_e       mutate;
    const char      *tamper;
    size_t           size;      /* pad the payload to this token length */
    time_t           now;       /* 0: NOW */
    const char      *raw;       /* instead of all the above */
    digin_result_e   expect;
    /* when DIGIN_OK */
    size_t           issuer;
    const char      *patron;
    const char      *library;   /* NULL: "" */
    const char      *jti;       /* NULL: "" */
    int64_t          exp;
} jwt_case_t;


typedef struct {
    EVP_PKEY        *pkeys[S_MAX];
    char            *rsa_pem;
    dt_signer_t      signers[S_MAX];
    digin_issuer_t  *issuers[ISS_N];
    digin_trust_t    trust;
} jwt_state_t;


static const unsigned char  hs_secret[64] =
    "digin-test-secret-0123456789abcdef-0123456789abcdef-0123456789ab";
static const unsigned char  hs_wrong[64] =
    "digin-test-secret-0123456789abcdef-0123456789abcdef-0123456789aX";


static const jwt_case_t  cases[] = {

    /* ok */

    { .name = "ok: RS256 with every claim",
      .payload = "{" IDP "," CLAIMS ",\"library\":\"branch-7\","
                 "\"jti\":\"t-1\",\"nbf\":1699999000,\"iat\":1699999000}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .library = "branch-7",
      .jti = "t-1", .exp = 1700000600 },

    { .name = "ok: PS256 with kid, no library, no jti",
      .header = "{\"alg\":\"PS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_PS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: HS256",
      .payload = "{" HMAC_I "," CLAIMS "}",
      .signer = S_HS, .alg = DIGIN_ALG_HS256, .expect = DIGIN_OK,
      .issuer = ISS_HMAC, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: HS384",
      .payload = "{" HMAC_I "," CLAIMS "}",
      .signer = S_HS, .alg = DIGIN_ALG_HS384, .expect = DIGIN_OK,
      .issuer = ISS_HMAC, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: HS512, library claim not configured",
      .payload = "{" HMAC_I "," CLAIMS ",\"library\":\"\\n\"}",
      .signer = S_HS, .alg = DIGIN_ALG_HS512, .expect = DIGIN_OK,
      .issuer = ISS_HMAC, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: RS512 by kid in a mixed set",
      .header = "{\"alg\":\"RS512\",\"kid\":\"rsa\"}",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS512, .expect = DIGIN_OK,
      .issuer = ISS_MIXED, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: PS384 without kid, one RSA key in a mixed set",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_PS384, .expect = DIGIN_OK,
      .issuer = ISS_MIXED, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: ES256 by kid",
      .header = "{\"alg\":\"ES256\",\"kid\":\"ec256\"}",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_EC256, .alg = DIGIN_ALG_ES256, .expect = DIGIN_OK,
      .issuer = ISS_MIXED, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: ES384 without kid",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_EC384, .alg = DIGIN_ALG_ES384, .expect = DIGIN_OK,
      .issuer = ISS_MIXED, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: ES512",
      .header = "{\"alg\":\"ES512\",\"kid\":\"ec521\"}",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_EC521, .alg = DIGIN_ALG_ES512, .expect = DIGIN_OK,
      .issuer = ISS_MIXED, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: EdDSA",
      .header = "{\"alg\":\"EdDSA\",\"kid\":\"ed\"}",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_ED, .alg = DIGIN_ALG_EDDSA, .expect = DIGIN_OK,
      .issuer = ISS_MIXED, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: the second of two keys by kid",
      .header = "{\"alg\":\"RS256\",\"kid\":\"b\"}",
      .payload = "{" TWO "," CLAIMS "}",
      .signer = S_RSA_OTHER, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_TWO, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: custom patron and library claims",
      .payload = "{" CUSTOM "," AUD "," EXP ",\"patron_id\":\"p-9\","
                 "\"lib\":\"central\",\"sub\":\"ignored\","
                 "\"library\":\"ignored\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_CUSTOM, .patron = "p-9", .library = "central",
      .exp = 1700000600 },

    { .name = "ok: custom library claim absent",
      .payload = "{" CUSTOM "," AUD "," EXP ",\"patron_id\":\"p-9\","
                 "\"library\":\"ignored\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_CUSTOM, .patron = "p-9", .exp = 1700000600 },

    { .name = "ok: longest patron, library and jti",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"" X255 "\","
                 "\"library\":\"" X63 "\",\"jti\":\"" X127 "\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = X255, .library = X63, .jti = X127,
      .exp = 1700000600 },

    { .name = "ok: printable patron with space and symbols",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"Jo Smith <j@x.org>~\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "Jo Smith <j@x.org>~",
      .exp = 1700000600 },

    { .name = "ok: header nesting of exactly DIGIN_JSON_DEPTH",
      .header = "{\"alg\":\"RS256\",\"x\":[[[[[[[]]]]]]]}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: values inside the deepest allowed container",
      .header = "{\"alg\":\"RS256\",\"x\":[[[[[[[1,\"s\"]]]]]]]}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: payload nesting of exactly DIGIN_JSON_DEPTH",
      .payload = "{" IDP "," CLAIMS ",\"x\":{\"a\":[{\"b\":[[[{}]]]}]}}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: exactly max_size bytes",
      .payload = "{" IDP "," CLAIMS "}", .size = 8192,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "key: kid of 256 bytes passes the header check",
      .header = "{\"alg\":\"RS256\",\"kid\":\"" X256 "\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_KEY_UNKNOWN },

    /* token_missing, token_too_large */

    { .name = "missing: empty", .raw = "", .expect = DIGIN_TOKEN_MISSING },

    { .name = "too large: max_size + 1 bytes",
      .header = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
      .payload = "{" IDP "," CLAIMS "}", .size = 8193,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_TOO_LARGE },

    /* token_malformed: structure */

    { .name = "malformed: one segment",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_ONE_SEGMENT,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: two segments",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_TWO_SEGMENTS,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: four segments",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_FOUR_SEGMENTS,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: five segments",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_FIVE_SEGMENTS,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: empty header",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_EMPTY_HEADER,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: empty payload",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_EMPTY_PAYLOAD,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: dots only", .raw = "..",
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: a word", .raw = "Bearer",
      .expect = DIGIN_TOKEN_MALFORMED },

    /* token_malformed: base64url */

    { .name = "malformed: padded header",
      .header = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_HEADER_PADDED,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: '+' in the header",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_HEADER_PLUS,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: '/' in the payload",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_PAYLOAD_SLASH,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: line break in the payload",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_PAYLOAD_NEWLINE,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: non-canonical header",
      .header = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_HEADER_NONCANON,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: non-canonical payload",
      .payload = "{" IDP "," CLAIMS ",\"j\":1}", .mutate = M_PAYLOAD_NONCANON,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    /* token_malformed: JSON */

    { .name = "malformed: header not JSON",
      .header = "alg=RS256", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: header a JSON array",
      .header = "[\"alg\",\"RS256\"]", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: header a JSON string",
      .header = "\"RS256\"", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: header with trailing bytes",
      .header = "{\"alg\":\"RS256\"}x", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: header of two objects",
      .header = "{\"alg\":\"RS256\"}{}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: duplicate alg in the header",
      .header = "{\"alg\":\"none\",\"alg\":\"RS256\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: duplicate alg, same value",
      .header = "{\"alg\":\"RS256\",\"alg\":\"RS256\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: duplicate sub in the payload",
      .payload = "{" IDP "," CLAIMS ",\"sub\":\"someone-else\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: duplicate iss in the payload",
      .payload = "{\"iss\":\"https://evil.example.org\"," IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: crit",
      .header = "{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: empty crit",
      .header = "{\"alg\":\"RS256\",\"crit\":[]}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: b64 false under crit",
      .header = "{\"alg\":\"RS256\",\"b64\":false,\"crit\":[\"b64\"]}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: no alg",
      .header = "{\"typ\":\"JWT\"}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: alg a number",
      .header = "{\"alg\":256}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: alg null",
      .header = "{\"alg\":null}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: alg an array",
      .header = "{\"alg\":[\"RS256\"]}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: kid a number",
      .header = "{\"alg\":\"RS256\",\"kid\":1}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: kid null",
      .header = "{\"alg\":\"RS256\",\"kid\":null}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: kid empty",
      .header = "{\"alg\":\"RS256\",\"kid\":\"\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: kid of 257 bytes",
      .header = "{\"alg\":\"RS256\",\"kid\":\"" X256 "x\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: typ a number",
      .header = "{\"alg\":\"RS256\",\"typ\":1}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: header nested deeper than DIGIN_JSON_DEPTH",
      .header = "{\"alg\":\"RS256\",\"x\":[[[[[[[[]]]]]]]]}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: payload nested deeper than DIGIN_JSON_DEPTH",
      .payload = "{" IDP "," CLAIMS ","
                 "\"x\":{\"a\":[{\"b\":[[[{\"c\":{}}]]]}]}}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: payload nested 64 deep",
      .payload = "{" IDP "," CLAIMS ",\"x\":"
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
                 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: \\u0000 in the header",
      .header = "{\"alg\":\"RS256\",\"kid\":\"rsa1\\u0000x\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: \\u0000 in the patron",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"patron\\u0000admin\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: invalid UTF-8 in the header",
      .header = "{\"alg\":\"RS256\",\"x\":\"\xc3\x28\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: overlong UTF-8 in the payload",
      .payload = "{" IDP "," CLAIMS ",\"x\":\"\xc0\xaf\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: lone surrogate in the payload",
      .payload = "{" IDP "," CLAIMS ",\"x\":\"\\ud800\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: payload a JSON array",
      .payload = "[" IDP "]",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    { .name = "malformed: payload not JSON",
      .payload = "Example of Ed25519 signing",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_MALFORMED },

    /* algorithm_not_allowed */

    { .name = "algorithm: none, empty signature",
      .header = "{\"alg\":\"none\"}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_NONE, .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: none with a signature",
      .header = "{\"alg\":\"none\"}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: None",
      .header = "{\"alg\":\"None\"}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_NONE, .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: none from an unknown issuer",
      .header = "{\"alg\":\"none\"}",
      .payload = "{\"iss\":\"https://evil.example.org\"," CLAIMS "}",
      .signer = S_NONE, .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: unknown RS257",
      .header = "{\"alg\":\"RS257\"}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: lower case rs256",
      .header = "{\"alg\":\"rs256\"}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: empty alg",
      .header = "{\"alg\":\"\"}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: RS512 not in the issuer's list",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS512,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: HS256 not in the issuer's default list",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_HS, .alg = DIGIN_ALG_HS256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: HS256 keyed with the RSA PEM (alg confusion)",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_HS_PEM, .alg = DIGIN_ALG_HS256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: alg confusion naming the RSA kid",
      .header = "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_HS_PEM, .alg = DIGIN_ALG_HS256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: ES256 against an RSA key",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_EC256, .alg = DIGIN_ALG_ES256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: kid of an RSA key for ES256",
      .header = "{\"alg\":\"ES256\",\"kid\":\"rsa\"}",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_EC256, .alg = DIGIN_ALG_ES256,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: kid of a P-256 key for ES384",
      .header = "{\"alg\":\"ES384\",\"kid\":\"ec256\"}",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_EC384, .alg = DIGIN_ALG_ES384,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    { .name = "algorithm: kid of an EC key for EdDSA",
      .header = "{\"alg\":\"EdDSA\",\"kid\":\"ec256\"}",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_ED, .alg = DIGIN_ALG_EDDSA,
      .expect = DIGIN_ALGORITHM_NOT_ALLOWED },

    /* key_unknown */

    { .name = "key: unknown kid",
      .header = "{\"alg\":\"RS256\",\"kid\":\"rsa2\"}",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_KEY_UNKNOWN },

    { .name = "key: no kid, two candidate keys",
      .payload = "{" TWO "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_KEY_UNKNOWN },

    { .name = "key: kid of another issuer",
      .header = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
      .payload = "{" MIXED "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_KEY_UNKNOWN },

    /* signature_invalid */

    { .name = "signature: payload tampered",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_TAMPER,
      .tamper = "{" IDP "," AUD "," EXP ",\"sub\":\"patron-43\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: exp extended",
      .payload = "{" HMAC_I "," CLAIMS "}", .mutate = M_TAMPER,
      .tamper = "{" HMAC_I "," AUD ",\"exp\":1800000600," SUB "}",
      .signer = S_HS, .alg = DIGIN_ALG_HS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: wrong RSA key",
      .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA_OTHER, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: other key of the set by kid",
      .header = "{\"alg\":\"RS256\",\"kid\":\"a\"}",
      .payload = "{" TWO "," CLAIMS "}",
      .signer = S_RSA_OTHER, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: wrong HMAC secret",
      .payload = "{" HMAC_I "," CLAIMS "}",
      .signer = S_HS_WRONG, .alg = DIGIN_ALG_HS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: RS256 signature under PS256",
      .header = "{\"alg\":\"PS256\"}", .payload = "{" IDP "," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: empty, RS256",
      .payload = "{" IDP "," CLAIMS "}", .mutate = M_SIG_EMPTY,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: empty, HS256",
      .payload = "{" HMAC_I "," CLAIMS "}", .mutate = M_SIG_EMPTY,
      .signer = S_HS, .alg = DIGIN_ALG_HS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: ES256 in DER",
      .header = "{\"alg\":\"ES256\",\"kid\":\"ec256\"}",
      .payload = "{" MIXED "," CLAIMS "}", .mutate = M_SIG_DER,
      .signer = S_EC256, .alg = DIGIN_ALG_ES256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: ES512 in DER",
      .header = "{\"alg\":\"ES512\",\"kid\":\"ec521\"}",
      .payload = "{" MIXED "," CLAIMS "}", .mutate = M_SIG_DER,
      .signer = S_EC521, .alg = DIGIN_ALG_ES512,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: one bit flipped, EdDSA",
      .header = "{\"alg\":\"EdDSA\",\"kid\":\"ed\"}",
      .payload = "{" MIXED "," CLAIMS "}", .mutate = M_SIG_FLIP,
      .signer = S_ED, .alg = DIGIN_ALG_EDDSA,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: one bit flipped, HS512",
      .payload = "{" HMAC_I "," CLAIMS "}", .mutate = M_SIG_FLIP,
      .signer = S_HS, .alg = DIGIN_ALG_HS512,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: truncated, PS256",
      .header = "{\"alg\":\"PS256\"}", .payload = "{" IDP "," CLAIMS "}",
      .mutate = M_SIG_TRUNCATE,
      .signer = S_RSA, .alg = DIGIN_ALG_PS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: truncated, ES384",
      .payload = "{" MIXED "," CLAIMS "}", .mutate = M_SIG_TRUNCATE,
      .signer = S_EC384, .alg = DIGIN_ALG_ES384,
      .expect = DIGIN_SIGNATURE_INVALID },

    { .name = "signature: truncated, HS256",
      .payload = "{" HMAC_I "," CLAIMS "}", .mutate = M_SIG_TRUNCATE,
      .signer = S_HS, .alg = DIGIN_ALG_HS256,
      .expect = DIGIN_SIGNATURE_INVALID },

    /* issuer_unknown */

    { .name = "issuer: unknown",
      .payload = "{\"iss\":\"https://evil.example.org\"," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ISSUER_UNKNOWN },

    { .name = "issuer: missing",
      .payload = "{" CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ISSUER_UNKNOWN },

    { .name = "issuer: a number",
      .payload = "{\"iss\":42," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ISSUER_UNKNOWN },

    { .name = "issuer: an array of the right name",
      .payload = "{\"iss\":[\"https://idp.example.org\"]," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ISSUER_UNKNOWN },

    { .name = "issuer: a prefix",
      .payload = "{\"iss\":\"https://idp.example.or\"," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ISSUER_UNKNOWN },

    { .name = "issuer: trailing slash",
      .payload = "{\"iss\":\"https://idp.example.org/\"," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ISSUER_UNKNOWN },

    { .name = "issuer: other case",
      .payload = "{\"iss\":\"https://IDP.example.org\"," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ISSUER_UNKNOWN },

    { .name = "issuer: empty",
      .payload = "{\"iss\":\"\"," CLAIMS "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_ISSUER_UNKNOWN },

    /* audience_mismatch */

    { .name = "audience: missing",
      .payload = "{" IDP "," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_AUDIENCE_MISMATCH },

    { .name = "audience: another",
      .payload = "{" IDP ",\"aud\":\"catalog\"," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_AUDIENCE_MISMATCH },

    { .name = "audience: other case",
      .payload = "{" IDP ",\"aud\":\"Digin\"," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_AUDIENCE_MISMATCH },

    { .name = "audience: a prefix",
      .payload = "{" IDP ",\"aud\":\"digi\"," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_AUDIENCE_MISMATCH },

    { .name = "audience: array without it",
      .payload = "{" IDP ",\"aud\":[\"catalog\",\"digin2\"]," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_AUDIENCE_MISMATCH },

    { .name = "audience: empty array",
      .payload = "{" IDP ",\"aud\":[]," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_AUDIENCE_MISMATCH },

    { .name = "audience: a number",
      .payload = "{" IDP ",\"aud\":1," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_AUDIENCE_MISMATCH },

    { .name = "audience: an object",
      .payload = "{" IDP ",\"aud\":{\"digin\":true}," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_AUDIENCE_MISMATCH },

    { .name = "ok: audience array with it",
      .payload = "{" IDP ",\"aud\":[\"catalog\",1,\"digin\"]," EXP "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    /* token_expired, token_not_yet_valid: now 1700000000, leeway 30 */

    { .name = "time: expired beyond the leeway",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":1699999969}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_EXPIRED },

    { .name = "time: exp == now - leeway is expired",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":1699999970}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_EXPIRED },

    { .name = "time: exp == now - leeway as a real",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":1699999970.0}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_EXPIRED },

    { .name = "time: exp long ago",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":0}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_EXPIRED },

    { .name = "time: exp negative and huge",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":-1e300}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_EXPIRED },

    { .name = "time: expired and not yet valid is expired",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":1699999000,"
                 "\"nbf\":1800000000}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_EXPIRED },

    { .name = "ok: exp within the leeway",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":1699999971}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1699999971 },

    { .name = "ok: exp == now",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":1700000000}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000000 },

    { .name = "ok: exp as a real",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":1700000600.75}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: exp far ahead",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":1e300}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1000000000000000 },

    { .name = "time: nbf beyond the leeway",
      .payload = "{" IDP "," CLAIMS ",\"nbf\":1700000031}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_NOT_YET_VALID },

    { .name = "time: iat beyond the leeway",
      .payload = "{" IDP "," CLAIMS ",\"iat\":1700000031}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_NOT_YET_VALID },

    { .name = "time: iat real beyond the leeway",
      .payload = "{" IDP "," CLAIMS ",\"iat\":1700000031.0}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_NOT_YET_VALID },

    { .name = "ok: nbf within the leeway",
      .payload = "{" IDP "," CLAIMS ",\"nbf\":1700000030}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: iat within the leeway",
      .payload = "{" IDP "," CLAIMS ",\"iat\":1700000030}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "ok: nbf 0",
      .payload = "{" IDP "," CLAIMS ",\"nbf\":0}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    { .name = "time: a later clock expires a good token",
      .payload = "{" IDP "," CLAIMS "}", .now = 1700000630,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_TOKEN_EXPIRED },

    { .name = "ok: a later clock within the leeway",
      .payload = "{" IDP "," CLAIMS "}", .now = 1700000629,
      .signer = S_RSA, .alg = DIGIN_ALG_RS256, .expect = DIGIN_OK,
      .issuer = ISS_IDP, .patron = "patron-42", .exp = 1700000600 },

    /* claim_invalid */

    { .name = "claim: exp missing",
      .payload = "{" IDP "," AUD "," SUB "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: exp a string",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":\"1700000600\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: exp null",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":null}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: exp true",
      .payload = "{" IDP "," AUD "," SUB ",\"exp\":true}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: nbf a string",
      .payload = "{" IDP "," CLAIMS ",\"nbf\":\"0\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: iat an object",
      .payload = "{" IDP "," CLAIMS ",\"iat\":{}}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron missing",
      .payload = "{" IDP "," AUD "," EXP "}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron a number",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":42}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron empty",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron with CR LF",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"p\\r\\nX-Admin: 1\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron with LF",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"p\\n\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron with a quote",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"p\\\"q\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron with a backslash",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"p\\\\q\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron with DEL",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"p\\u007f\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: patron longer than DIGIN_PATRON_MAX",
      .payload = "{" IDP "," AUD "," EXP ",\"sub\":\"" X256 "\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: library with a control character",
      .payload = "{" IDP "," CLAIMS ",\"library\":\"branch\\t7\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: library with ESC",
      .payload = "{" IDP "," CLAIMS ",\"library\":\"\\u001b[31m\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: library longer than DIGIN_LIBRARY_MAX",
      .payload = "{" IDP "," CLAIMS ",\"library\":\"" X64 "\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: library a number",
      .payload = "{" IDP "," CLAIMS ",\"library\":7}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: library empty",
      .payload = "{" IDP "," CLAIMS ",\"library\":\"\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: jti longer than DIGIN_JTI_MAX",
      .payload = "{" IDP "," CLAIMS ",\"jti\":\"" X128 "\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: jti a number",
      .payload = "{" IDP "," CLAIMS ",\"jti\":1}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: custom patron claim missing, sub present",
      .payload = "{" CUSTOM "," CLAIMS ",\"lib\":\"central\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },

    { .name = "claim: custom library claim invalid",
      .payload = "{" CUSTOM "," AUD "," EXP ",\"patron_id\":\"p-9\","
                 "\"lib\":\"a\\rb\"}",
      .signer = S_RSA, .alg = DIGIN_ALG_RS256,
      .expect = DIGIN_CLAIM_INVALID },
};


static EVP_PKEY *
state_pkey(jwt_state_t *st, signer_e s)
{
    return st->pkeys[s];
}


static int
group_setup(void **state)
{
    char         *jwk[5], *jwks;
    size_t        i;
    jwt_state_t  *st;

    st = calloc(1, sizeof(jwt_state_t));
    assert_non_null(st);

    st->pkeys[S_RSA] = dt_rsa(2048);
    st->pkeys[S_RSA_OTHER] = dt_rsa(2048);
    st->pkeys[S_EC256] = dt_ec("P-256");
    st->pkeys[S_EC384] = dt_ec("P-384");
    st->pkeys[S_EC521] = dt_ec("P-521");
    st->pkeys[S_ED] = dt_keygen("ED25519");
    st->rsa_pem = dt_pem(st->pkeys[S_RSA]);

    for (i = 0; i < S_MAX; i++) {
        st->signers[i].pkey = st->pkeys[i];
    }

    st->signers[S_HS].secret = hs_secret;
    st->signers[S_HS].secret_len = sizeof(hs_secret);
    st->signers[S_HS_WRONG].secret = hs_wrong;
    st->signers[S_HS_WRONG].secret_len = sizeof(hs_wrong);
    st->signers[S_HS_PEM].secret = (const unsigned char *) st->rsa_pem;
    st->signers[S_HS_PEM].secret_len = strlen(st->rsa_pem);

    /* ISS_IDP */
    jwk[0] = dt_jwk(state_pkey(st, S_RSA), "rsa1", NULL);
    jwks = dt_jwks(jwk[0], NULL);
    st->issuers[ISS_IDP] = dt_issuer("https://idp.example.org", "digin",
        DIGIN_ALG_BIT(DIGIN_ALG_RS256) | DIGIN_ALG_BIT(DIGIN_ALG_PS256)
        | DIGIN_ALG_BIT(DIGIN_ALG_ES256) | DIGIN_ALG_BIT(DIGIN_ALG_HS256),
        "sub", "library", dt_keyset(jwks));
    free(jwks);
    free(jwk[0]);

    /* ISS_HMAC: hs_secret in base64url */
    jwk[0] = dt_b64url(hs_secret, sizeof(hs_secret));
    jwks = malloc(strlen(jwk[0]) + 64);
    assert_non_null(jwks);
    sprintf(jwks, "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"hs1\",\"k\":\"%s\"}]}",
            jwk[0]);
    st->issuers[ISS_HMAC] = dt_issuer("https://hmac.example.org", "digin",
                                      DIGIN_ALGS_HMAC, "sub", NULL,
                                      dt_keyset(jwks));
    free(jwks);
    free(jwk[0]);

    /* ISS_MIXED */
    jwk[0] = dt_jwk(state_pkey(st, S_RSA), "rsa", NULL);
    jwk[1] = dt_jwk(state_pkey(st, S_EC256), "ec256", NULL);
    jwk[2] = dt_jwk(state_pkey(st, S_EC384), "ec384", NULL);
    jwk[3] = dt_jwk(state_pkey(st, S_EC521), "ec521", "ES512");
    jwk[4] = dt_jwk(state_pkey(st, S_ED), "ed", NULL);
    jwks = dt_jwks(jwk[0], jwk[1], jwk[2], jwk[3], jwk[4], NULL);
    st->issuers[ISS_MIXED] = dt_issuer("https://mixed.example.org", "digin",
                                       DIGIN_ALGS_DEFAULT, "sub", "library",
                                       dt_keyset(jwks));
    free(jwks);

    for (i = 0; i < 5; i++) {
        free(jwk[i]);
    }

    /* ISS_TWO */
    jwk[0] = dt_jwk(state_pkey(st, S_RSA), "a", NULL);
    jwk[1] = dt_jwk(state_pkey(st, S_RSA_OTHER), "b", NULL);
    jwks = dt_jwks(jwk[0], jwk[1], NULL);
    st->issuers[ISS_TWO] = dt_issuer("https://two.example.org", "digin",
                                     DIGIN_ALGS_DEFAULT, "sub", "library",
                                     dt_keyset(jwks));
    free(jwks);
    free(jwk[0]);
    free(jwk[1]);

    /* ISS_CUSTOM: the key from PEM, as an operator might configure it */
    st->issuers[ISS_CUSTOM] = dt_issuer("https://custom.example.org",
        "digin", DIGIN_ALGS_DEFAULT, "patron_id", "lib",
        digin_keyset_from_pem(st->rsa_pem, strlen(st->rsa_pem), NULL, NULL,
                              0));
    assert_non_null(st->issuers[ISS_CUSTOM]->keys);

    /* ISS_JOE */
    st->issuers[ISS_JOE] = dt_issuer("joe", "digin",
        DIGIN_ALG_BIT(DIGIN_ALG_HS256), "sub", NULL,
        dt_keyset("{\"keys\":[{\"kty\":\"oct\",\"k\":\"" RFC_A1_K "\"}]}"));

    st->trust.issuers = st->issuers;
    st->trust.nissuers = ISS_N;
    st->trust.leeway = LEEWAY;
    st->trust.max_size = 8192;

    *state = st;

    return 0;
}


static int
group_teardown(void **state)
{
    size_t        i;
    jwt_state_t  *st;

    st = *state;

    for (i = 0; i < ISS_N; i++) {
        dt_issuer_free(st->issuers[i]);
    }

    for (i = 0; i < S_MAX; i++) {
        EVP_PKEY_free(st->pkeys[i]);
    }

    free(st->rsa_pem);
    free(st);

    return 0;
}


/* the unused low bits of a segment's last character set */

static void
make_noncanonical(char *seg)
{
    size_t       len;
    const char  *p;
    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    len = strlen(seg);
    assert_int_not_equal(len % 4, 0);

    p = strchr(alphabet, seg[len - 1]);
    assert_non_null(p);
    assert_int_equal((p - alphabet) & 0x01, 0);

    seg[len - 1] = p[1];
}


/* a segment with one character replaced, in the middle */

static void
replace_middle(char *seg, char c)
{
    seg[strlen(seg) / 2] = c;
}


/* the payload with a "pad" claim of n bytes */

static char *
padded_payload(const char *payload, size_t n)
{
    char    *p;
    size_t   len;

    len = strlen(payload);
    assert_int_equal(payload[len - 1], '}');

    p = malloc(len + n + 16);
    assert_non_null(p);

    memcpy(p, payload, len - 1);
    memcpy(p + len - 1, ",\"pad\":\"", 8);
    memset(p + len + 7, 'p', n);
    strcpy(p + len + 7 + n, "\"}");

    return p;
}


static size_t
b64_len(size_t n)
{
    return (n * 4 + 2) / 3;
}


/* builds the row's token; returns a new string */

static char *
build_token(jwt_state_t *st, const jwt_case_t *c)
{
    char                *h, *p, *s, *t, *payload, header[64];
    size_t               siglen, n, derlen, len;
    const char          *hdr;
    unsigned char        sig[1024], *der;
    const dt_signer_t   *signer;

    if (c->raw != NULL) {
        return strdup(c->raw);
    }

    hdr = c->header;

    if (hdr == NULL) {
        snprintf(header, sizeof(header), "{\"alg\":\"%s\"}",
                 digin_alg_name(c->alg));
        hdr = header;
    }

    payload = strdup(c->payload);
    assert_non_null(payload);

    if (c->size != 0) {
        /* the signature's length is that of the first try */
        signer = &st->signers[c->signer];
        siglen = dt_sign(signer, c->alg, (const unsigned char *) "x", 1, sig);

        for (n = 0; n < c->size; n++) {
            len = b64_len(strlen(hdr)) + 1
                  + b64_len(strlen(c->payload) + n + 9) + 1
                  + b64_len(siglen);
            if (len == c->size) {
                break;
            }
        }

        assert_int_equal(len, c->size);
        free(payload);
        payload = padded_payload(c->payload, n);
    }

    h = dt_b64url_str(hdr);
    p = dt_b64url_str(payload);
    free(payload);

    switch (c->mutate) {

    case M_EMPTY_HEADER:
        h[0] = '\0';
        break;

    case M_EMPTY_PAYLOAD:
        p[0] = '\0';
        break;

    case M_HEADER_PADDED:
        assert_int_not_equal(strlen(h) % 4, 0);
        h = realloc(h, strlen(h) + 4);
        assert_non_null(h);
        while (strlen(h) % 4 != 0) {
            strcat(h, "=");
        }
        break;

    case M_HEADER_PLUS:
        replace_middle(h, '+');
        break;

    case M_PAYLOAD_SLASH:
        replace_middle(p, '/');
        break;

    case M_PAYLOAD_NEWLINE:
        replace_middle(p, '\n');
        break;

    case M_HEADER_NONCANON:
        make_noncanonical(h);
        break;

    case M_PAYLOAD_NONCANON:
        make_noncanonical(p);
        break;

    default:
        break;
    }

    t = malloc(strlen(h) + strlen(p) + 2048);
    assert_non_null(t);

    if (c->mutate == M_ONE_SEGMENT) {
        strcpy(t, h);
        goto done;
    }

    sprintf(t, "%s.%s", h, p);

    if (c->mutate == M_TWO_SEGMENTS) {
        goto done;
    }

    siglen = 0;

    if (c->signer != S_NONE) {
        siglen = dt_sign(&st->signers[c->signer], c->alg,
                         (unsigned char *) t, strlen(t), sig);
    }

    switch (c->mutate) {

    case M_TAMPER:
        free(p);
        p = dt_b64url_str(c->tamper);
        sprintf(t, "%s.%s", h, p);
        break;

    case M_SIG_EMPTY:
        siglen = 0;
        break;

    case M_SIG_DER:
        der = dt_raw_to_der(sig, siglen, &derlen);
        memcpy(sig, der, derlen);
        siglen = derlen;
        OPENSSL_free(der);
        break;

    case M_SIG_FLIP:
        sig[siglen / 3] ^= 0x04;
        break;

    case M_SIG_TRUNCATE:
        siglen--;
        break;

    default:
        break;
    }

    s = dt_b64url(sig, siglen);
    strcat(t, ".");
    strcat(t, s);
    free(s);

    if (c->mutate == M_FOUR_SEGMENTS) {
        strcat(t, ".e30");

    } else if (c->mutate == M_FIVE_SEGMENTS) {
        strcat(t, ".e30.e30");
    }

done:

    free(h);
    free(p);

    return t;
}


static void
test_cases(void **state)
{
    char            *token;
    size_t           i, failed, covered;
    time_t           now;
    unsigned         pass;
    jwt_state_t     *st;
    digin_result_e   rc, first;
    digin_claims_t   claims;
    const char      *library, *jti;
    unsigned         seen;

    st = *state;
    failed = 0;
    seen = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        token = build_token(st, &cases[i]);
        now = cases[i].now ? cases[i].now : NOW;

        /* the second time the header is answered from memory */
        for (pass = 0; pass < 2; pass++) {
            memset(&claims, 0xa5, sizeof(claims));
            rc = digin_jwt_verify(&st->trust, (const unsigned char *) token,
                                  strlen(token), now, &claims);

            if (pass == 0) {
                first = rc;

            } else if (rc != first) {
                print_error("%s: got %s, then %s\n", cases[i].name,
                            digin_result_name(first), digin_result_name(rc));
                failed++;
            }
        }

        seen |= 1u << cases[i].expect;

        if (rc != cases[i].expect) {
            print_error("%s: got %s, expected %s\n", cases[i].name,
                        digin_result_name(rc),
                        digin_result_name(cases[i].expect));
            failed++;
            free(token);
            continue;
        }

        if (rc != DIGIN_OK) {
            free(token);
            continue;
        }

        library = cases[i].library ? cases[i].library : "";
        jti = cases[i].jti ? cases[i].jti : "";

        if (claims.issuer != cases[i].issuer
            || strcmp(claims.patron, cases[i].patron) != 0
            || strcmp(claims.library, library) != 0
            || strcmp(claims.jti, jti) != 0
            || claims.exp != cases[i].exp)
        {
            print_error("%s: claims issuer %zu patron \"%.40s\" library "
                        "\"%.40s\" jti \"%.40s\" exp %lld\n", cases[i].name,
                        claims.issuer, claims.patron, claims.library,
                        claims.jti, (long long) claims.exp);
            failed++;
        }

        free(token);
    }

    /* every code digin_jwt_verify() can answer has a row */
    for (covered = 0, i = 0; i <= DIGIN_CLAIM_INVALID; i++) {
        if (seen & (1u << i)) {
            covered++;

        } else {
            print_error("no row expects %s\n",
                        digin_result_name((digin_result_e) i));
        }
    }

    assert_int_equal(covered, DIGIN_CLAIM_INVALID + 1);
    assert_int_equal(failed, 0);
}


/* a huge token is refused before anything is read */

static void
test_too_large_junk(void **state)
{
    char            *junk;
    jwt_state_t     *st;
    digin_claims_t   claims;

    st = *state;

    junk = malloc(100000);
    assert_non_null(junk);
    memset(junk, '.', 100000);

    assert_int_equal(digin_jwt_verify(&st->trust, (unsigned char *) junk,
                                      100000, NOW, &claims),
                     DIGIN_TOKEN_TOO_LARGE);
    assert_int_equal(digin_jwt_verify(&st->trust, (unsigned char *) junk,
                                      8193, NOW, &claims),
                     DIGIN_TOKEN_TOO_LARGE);
    assert_int_equal(digin_jwt_verify(&st->trust, (unsigned char *) junk,
                                      8192, NOW, &claims),
                     DIGIN_TOKEN_MALFORMED);
    assert_int_equal(digin_jwt_verify(&st->trust, (unsigned char *) junk,
                                      0, NOW, &claims),
                     DIGIN_TOKEN_MISSING);

    free(junk);
}


/* only len bytes are read: a token followed by more text */

static void
test_length_honoured(void **state)
{
    char            *token, *longer;
    size_t           len;
    jwt_state_t     *st;
    digin_claims_t   claims;

    st = *state;

    token = dt_token(&st->signers[S_RSA], DIGIN_ALG_RS256,
                     "{\"alg\":\"RS256\"}", "{" IDP "," CLAIMS "}");
    len = strlen(token);

    longer = malloc(len + 8);
    assert_non_null(longer);
    sprintf(longer, "%s.e30 x", token);

    assert_int_equal(digin_jwt_verify(&st->trust, (unsigned char *) longer,
                                      len, NOW, &claims), DIGIN_OK);
    assert_int_equal(digin_jwt_verify(&st->trust, (unsigned char *) longer,
                                      len + 4, NOW, &claims),
                     DIGIN_TOKEN_MALFORMED);
    assert_int_equal(digin_jwt_verify(&st->trust, (unsigned char *) longer,
                                      len - 1, NOW, &claims),
                     DIGIN_SIGNATURE_INVALID);

    free(longer);
    free(token);
}


/*
 * RFC 7515 A.1 itself, issuer "joe": no "aud" in the example, and the
 * audience is checked after the signature, so audience_mismatch proves
 * the signature was accepted.
 */

static void
test_rfc7515_a1(void **state)
{
    char             t[sizeof(RFC_A1_TOKEN)];
    size_t           i;
    jwt_state_t     *st;
    digin_claims_t   claims;
    static const struct {
        time_t           now;
        digin_result_e   expect;
    } rows[] = {
        { 1300819300, DIGIN_AUDIENCE_MISMATCH },
        { 1300819380 + 29, DIGIN_AUDIENCE_MISMATCH },
        { 1300819380 + 30, DIGIN_TOKEN_EXPIRED },
        { 1300819380 + 31, DIGIN_TOKEN_EXPIRED },
        { NOW, DIGIN_TOKEN_EXPIRED },
    };

    st = *state;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(digin_jwt_verify(&st->trust,
                             (const unsigned char *) RFC_A1_TOKEN,
                             strlen(RFC_A1_TOKEN), rows[i].now, &claims),
                         rows[i].expect);
    }

    /* the same with the last signature character changed */
    assert_int_equal(digin_jwt_verify(&st->trust,
                         (const unsigned char *) RFC_A1_TOKEN "k",
                         strlen(RFC_A1_TOKEN), 1300819300, &claims),
                     DIGIN_AUDIENCE_MISMATCH);

    memcpy(t, RFC_A1_TOKEN, sizeof(t));
    t[sizeof(t) - 2] = 'E';     /* "...EjXk" -> "...EjXE" */
    assert_int_equal(digin_jwt_verify(&st->trust, (unsigned char *) t,
                                      sizeof(t) - 1, 1300819300, &claims),
                     DIGIN_SIGNATURE_INVALID);
}


/* the same trust answers the same way each time */

static void
test_repeatable(void **state)
{
    char            *token;
    size_t           i;
    jwt_state_t     *st;
    digin_claims_t   claims;

    st = *state;

    token = dt_token(&st->signers[S_EC256], DIGIN_ALG_ES256,
                     "{\"alg\":\"ES256\",\"kid\":\"ec256\"}",
                     "{" MIXED "," CLAIMS ",\"jti\":\"r\"}");

    for (i = 0; i < 100; i++) {
        assert_int_equal(digin_jwt_verify(&st->trust,
                                          (unsigned char *) token,
                                          strlen(token), NOW, &claims),
                         DIGIN_OK);
        assert_string_equal(claims.jti, "r");
        assert_int_equal(claims.issuer, ISS_MIXED);
    }

    assert_int_equal(ERR_peek_error(), 0);

    free(token);
}


static void
test_result_names(void **state)
{
    size_t  i;
    static const char  *names[DIGIN_RESULT_MAX] = {
        [DIGIN_OK] = "ok",
        [DIGIN_TOKEN_MISSING] = "token_missing",
        [DIGIN_TOKEN_MALFORMED] = "token_malformed",
        [DIGIN_TOKEN_TOO_LARGE] = "token_too_large",
        [DIGIN_TOKEN_EXPIRED] = "token_expired",
        [DIGIN_TOKEN_NOT_YET_VALID] = "token_not_yet_valid",
        [DIGIN_SIGNATURE_INVALID] = "signature_invalid",
        [DIGIN_ISSUER_UNKNOWN] = "issuer_unknown",
        [DIGIN_AUDIENCE_MISMATCH] = "audience_mismatch",
        [DIGIN_ALGORITHM_NOT_ALLOWED] = "algorithm_not_allowed",
        [DIGIN_KEY_UNKNOWN] = "key_unknown",
        [DIGIN_CLAIM_INVALID] = "claim_invalid",
        [DIGIN_NOT_ENTITLED] = "not_entitled",
        [DIGIN_LIBRARY_SUSPENDED] = "library_suspended",
        [DIGIN_PATRON_BLOCKED] = "patron_blocked",
        [DIGIN_TOKEN_REVOKED] = "token_revoked",
        [DIGIN_QUOTA_EXHAUSTED] = "quota_exhausted",
        [DIGIN_BUDGET_EXHAUSTED] = "budget_exhausted",
        [DIGIN_ENTITLEMENTS_UNAVAILABLE] = "entitlements_unavailable",
        [DIGIN_TITLE_MISSING] = "title_missing",
    };

    /* the codes are stable: their numbers never change */
    assert_int_equal(DIGIN_OK, 0);
    assert_int_equal(DIGIN_TOKEN_MISSING, 1);
    assert_int_equal(DIGIN_TOKEN_MALFORMED, 2);
    assert_int_equal(DIGIN_TOKEN_TOO_LARGE, 3);
    assert_int_equal(DIGIN_TOKEN_EXPIRED, 4);
    assert_int_equal(DIGIN_TOKEN_NOT_YET_VALID, 5);
    assert_int_equal(DIGIN_SIGNATURE_INVALID, 6);
    assert_int_equal(DIGIN_ISSUER_UNKNOWN, 7);
    assert_int_equal(DIGIN_AUDIENCE_MISMATCH, 8);
    assert_int_equal(DIGIN_ALGORITHM_NOT_ALLOWED, 9);
    assert_int_equal(DIGIN_KEY_UNKNOWN, 10);
    assert_int_equal(DIGIN_CLAIM_INVALID, 11);
    assert_int_equal(DIGIN_NOT_ENTITLED, 12);
    assert_int_equal(DIGIN_LIBRARY_SUSPENDED, 13);
    assert_int_equal(DIGIN_PATRON_BLOCKED, 14);
    assert_int_equal(DIGIN_TOKEN_REVOKED, 15);
    assert_int_equal(DIGIN_QUOTA_EXHAUSTED, 16);
    assert_int_equal(DIGIN_BUDGET_EXHAUSTED, 17);
    assert_int_equal(DIGIN_ENTITLEMENTS_UNAVAILABLE, 18);
    assert_int_equal(DIGIN_TITLE_MISSING, 19);
    assert_int_equal(DIGIN_RESULT_MAX, 20);

    for (i = 0; i < DIGIN_RESULT_MAX; i++) {
        assert_string_equal(digin_result_name((digin_result_e) i), names[i]);
        assert_true(strlen(digin_result_text((digin_result_e) i)) > 0);
    }

    assert_string_equal(digin_result_name(DIGIN_RESULT_MAX), "");
    assert_string_equal(digin_result_name((digin_result_e) -1), "");
    assert_string_equal(digin_result_text(DIGIN_RESULT_MAX), "");
    assert_string_equal(digin_result_text((digin_result_e) -1), "");
}


static void
test_claim_value_ok(void **state)
{
    size_t  i, failed;
    static const struct {
        const char  *s;
        size_t       len;
        int          ok;
    } rows[] = {
        { "patron-42", 9, 1 },
        { "a", 1, 1 },
        { " ", 1, 1 },
        { "~!#$%&'()*+,-./:;<=>?@[]^_`{|}", 30, 1 },
        { "", 0, 0 },
        { "a\"b", 3, 0 },
        { "a\\b", 3, 0 },
        { "a\rb", 3, 0 },
        { "a\nb", 3, 0 },
        { "\t", 1, 0 },
        { "\x1f", 1, 0 },
        { "\x7f", 1, 0 },
        { "a\0b", 3, 0 },
        /* only len bytes count */
        { "ab\n", 2, 1 },
        { "\nab", 0, 0 },
    };

    failed = 0;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (digin_claim_value_ok(rows[i].s, rows[i].len) != rows[i].ok) {
            print_error("row %zu: expected %d\n", i, rows[i].ok);
            failed++;
        }
    }

    assert_int_equal(failed, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_too_large_junk),
        cmocka_unit_test(test_length_honoured),
        cmocka_unit_test(test_rfc7515_a1),
        cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_claim_value_ok),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
