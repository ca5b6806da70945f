/*
 * Copyright (C) Digin gateway developers
 *
 * digin-token: a tool for tests, the demo and operators.
 *
 *   digin-token keygen   generates a signing key: a PKCS#8 private key PEM
 *                        (or a raw HMAC secret), the public key PEM and a
 *                        JWKS document holding the public JWK;
 *   digin-token mint     signs a patron token (compact JWS) with such a key;
 *   digin-token jwks     prints the JWKS of the public keys of PEM files
 *                        (the gateway's vendor assertion keys, for vendors).
 *
 * Tokens are signed with libjwt where libjwt 1.10 knows the algorithm
 * (HS*, RS*, ES*), so tests exercise the gateway's verifier against an
 * independent signer, and with OpenSSL EVP for PS* and EdDSA, which
 * libjwt 1.10 lacks.  libjwt 1.10 writes "alg" and "typ": "JWT" itself,
 * so a --header-json that names "alg" or sets another "typ" has OpenSSL
 * sign instead.  Both paths serialise the JOSE header and the claims the
 * same way (compact JSON, members sorted by name, as libjwt does), so the
 * bytes of a token do not depend on the path that signed it.
 */


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "digin_b64.h"


#define DIGIN_TOKEN_OK           0
#define DIGIN_TOKEN_FAILED       1    /* I/O and crypto errors */
#define DIGIN_TOKEN_USAGE        2    /* bad command line, unfit key */
#define DIGIN_TOKEN_HELP         -1   /* --help after the command */

#define DIGIN_TOKEN_MAX_FILE     (1024 * 1024)
#define DIGIN_TOKEN_OCT_BYTES    64
#define DIGIN_TOKEN_RSA_BITS     2048
#define DIGIN_TOKEN_KID_LEN      16
#define DIGIN_TOKEN_TTL          3600

/* serialisation of the JOSE header and the claims, as libjwt 1.10 does */
#define DIGIN_TOKEN_JSON_FLAGS   (JSON_COMPACT | JSON_SORT_KEYS)


typedef enum {
    DIGIN_TOKEN_KTY_RSA = 1,
    DIGIN_TOKEN_KTY_EC,
    DIGIN_TOKEN_KTY_OKP,
    DIGIN_TOKEN_KTY_OCT
} digin_token_kty_e;


typedef struct {
    const char           *name;
    digin_token_kty_e     kty;
    int                   curve_nid;  /* ES*: the one curve it allows */
    size_t                field;      /* ES*: bytes of R and of S */
    int                   pss;        /* PS*: RSASSA-PSS */
    jwt_alg_t             jwt_alg;    /* JWT_ALG_NONE: libjwt lacks it */
    const EVP_MD       *(*md)(void);  /* NULL for EdDSA */
} digin_token_alg_t;


typedef struct {
    const char           *name;       /* --type */
    digin_token_kty_e     kty;
    const char           *keygen;     /* OpenSSL key type */
    const char           *curve;      /* OpenSSL group name */
    const char           *crv;        /* JWK "crv" */
    size_t                field;      /* EC: bytes of a coordinate */
    const char           *alg;        /* default JWK "alg" */
} digin_token_type_t;


typedef enum {
    DIGIN_TOKEN_OPT_TYPE = 0,
    DIGIN_TOKEN_OPT_OUT,
    DIGIN_TOKEN_OPT_KID,
    DIGIN_TOKEN_OPT_ALG,
    DIGIN_TOKEN_OPT_BITS,
    DIGIN_TOKEN_OPT_KEY,
    DIGIN_TOKEN_OPT_ISS,
    DIGIN_TOKEN_OPT_AUD,
    DIGIN_TOKEN_OPT_SUB,
    DIGIN_TOKEN_OPT_LIBRARY,
    DIGIN_TOKEN_OPT_TTL,
    DIGIN_TOKEN_OPT_EXP,
    DIGIN_TOKEN_OPT_NO_EXP,
    DIGIN_TOKEN_OPT_NBF,
    DIGIN_TOKEN_OPT_IAT,
    DIGIN_TOKEN_OPT_NO_IAT,
    DIGIN_TOKEN_OPT_JTI,
    DIGIN_TOKEN_OPT_CLAIM,
    DIGIN_TOKEN_OPT_CLAIM_JSON,
    DIGIN_TOKEN_OPT_HEADER_JSON,
    DIGIN_TOKEN_OPT_COUNT,
    DIGIN_TOKEN_OPT_FILE,             /* arguments without "--" */
    DIGIN_TOKEN_OPT_MAX
} digin_token_opt_e;


typedef struct {
    const char           *name;
    digin_token_opt_e     id;
    unsigned              value:1;    /* takes a value */
    unsigned              repeat:1;   /* may be given more than once */
} digin_token_opt_t;


/* the parsed command line: values[id] is the last value of option id */
typedef struct {
    const char           *values[DIGIN_TOKEN_OPT_MAX];
    unsigned              given[DIGIN_TOKEN_OPT_MAX];
} digin_token_args_t;


typedef struct {
    const digin_token_alg_t  *alg;
    EVP_PKEY                 *pkey;       /* RSA, EC, OKP; NULL for HS* */
    unsigned char            *bytes;      /* the key file */
    size_t                    len;
} digin_token_key_t;


static int digin_token_error(int rc, const char *fmt, ...);
static int digin_token_crypto_error(const char *what);
static void digin_token_usage(FILE *fp);
static int digin_token_parse(int argc, char **argv,
    const digin_token_opt_t *opts, digin_token_args_t *args,
    json_t *repeated);
static int digin_token_number(const char *opt, const char *s,
    long long *n);
static int digin_token_name_value(const char *opt, const char *arg,
    char **name, const char **value);
static const digin_token_alg_t *digin_token_alg(const char *name);
static int digin_token_read_file(const char *path, unsigned char **data,
    size_t *len);
static int digin_token_write_file(const char *path,
    const unsigned char *data, size_t len, mode_t mode, int force_mode);
static int digin_token_write_pem(const char *path, EVP_PKEY *pkey,
    int private);
static int digin_token_json_str(json_t *obj, const char *name,
    const char *value);
static int digin_token_json_b64(json_t *obj, const char *name,
    const unsigned char *data, size_t len);
static int digin_token_json_bn(json_t *obj, const char *name,
    EVP_PKEY *pkey, const char *param, size_t pad);
static int digin_token_thumbprint(json_t *jwk, char *kid);
static json_t *digin_token_jwk(const digin_token_type_t *type,
    EVP_PKEY *pkey, const unsigned char *secret, size_t secret_len);
static int digin_token_jwk_full(const digin_token_type_t *type,
    const digin_token_alg_t *alg, const char *kid, EVP_PKEY *pkey,
    const unsigned char *secret, size_t secret_len, json_t **out);
static int digin_token_print_json(json_t *json);
static int digin_token_keygen(int argc, char **argv);
static int digin_token_no_password(char *buf, int size, int rwflag,
    void *data);
static int digin_token_load_key(const char *path, digin_token_key_t *key);
static void digin_token_free_key(digin_token_key_t *key);
static int digin_token_json_int(json_t *obj, const char *name,
    long long n);
static int digin_token_json_member(json_t *obj, const char *opt,
    const char *arg, char **name);
static int digin_token_claims(digin_token_args_t *args, json_t *repeated,
    json_t *payload);
static int digin_token_headers(digin_token_args_t *args, json_t *repeated,
    const digin_token_alg_t *alg, json_t *header, int *alg_given);
static char *digin_token_encode_libjwt(digin_token_key_t *key,
    json_t *header, json_t *payload);
static int digin_token_sign(digin_token_key_t *key,
    const unsigned char *in, size_t in_len, unsigned char **sig,
    size_t *sig_len);
static char *digin_token_encode_openssl(digin_token_key_t *key,
    json_t *header, json_t *payload);
static int digin_token_mint(int argc, char **argv);
static int digin_token_load_public(const char *path, EVP_PKEY **pkey,
    const digin_token_type_t **type);
static int digin_token_jwks(int argc, char **argv);


static const digin_token_alg_t  digin_token_algs[] = {
    { "HS256", DIGIN_TOKEN_KTY_OCT, 0, 0, 0, JWT_ALG_HS256, EVP_sha256 },
    { "HS384", DIGIN_TOKEN_KTY_OCT, 0, 0, 0, JWT_ALG_HS384, EVP_sha384 },
    { "HS512", DIGIN_TOKEN_KTY_OCT, 0, 0, 0, JWT_ALG_HS512, EVP_sha512 },
    { "RS256", DIGIN_TOKEN_KTY_RSA, 0, 0, 0, JWT_ALG_RS256, EVP_sha256 },
    { "RS384", DIGIN_TOKEN_KTY_RSA, 0, 0, 0, JWT_ALG_RS384, EVP_sha384 },
    { "RS512", DIGIN_TOKEN_KTY_RSA, 0, 0, 0, JWT_ALG_RS512, EVP_sha512 },
    { "PS256", DIGIN_TOKEN_KTY_RSA, 0, 0, 1, JWT_ALG_NONE, EVP_sha256 },
    { "PS384", DIGIN_TOKEN_KTY_RSA, 0, 0, 1, JWT_ALG_NONE, EVP_sha384 },
    { "PS512", DIGIN_TOKEN_KTY_RSA, 0, 0, 1, JWT_ALG_NONE, EVP_sha512 },
    { "ES256", DIGIN_TOKEN_KTY_EC, NID_X9_62_prime256v1, 32, 0,
      JWT_ALG_ES256, EVP_sha256 },
    { "ES384", DIGIN_TOKEN_KTY_EC, NID_secp384r1, 48, 0,
      JWT_ALG_ES384, EVP_sha384 },
    { "ES512", DIGIN_TOKEN_KTY_EC, NID_secp521r1, 66, 0,
      JWT_ALG_ES512, EVP_sha512 },
    { "EdDSA", DIGIN_TOKEN_KTY_OKP, NID_ED25519, 0, 0, JWT_ALG_NONE, NULL },
    { NULL, 0, 0, 0, 0, JWT_ALG_NONE, NULL }
};


static const digin_token_type_t  digin_token_types[] = {
    { "rsa", DIGIN_TOKEN_KTY_RSA, "RSA", NULL, NULL, 0, "RS256" },
    { "ec", DIGIN_TOKEN_KTY_EC, "EC", "P-256", "P-256", 32, "ES256" },
    { "ec384", DIGIN_TOKEN_KTY_EC, "EC", "P-384", "P-384", 48, "ES384" },
    { "ec521", DIGIN_TOKEN_KTY_EC, "EC", "P-521", "P-521", 66, "ES512" },
    { "ed25519", DIGIN_TOKEN_KTY_OKP, "ED25519", NULL, "Ed25519", 0,
      "EdDSA" },
    { "oct", DIGIN_TOKEN_KTY_OCT, NULL, NULL, NULL, 0, "HS256" },
    { NULL, 0, NULL, NULL, NULL, 0, NULL }
};


static const digin_token_opt_t  digin_token_keygen_opts[] = {
    { "type", DIGIN_TOKEN_OPT_TYPE, 1, 0 },
    { "out", DIGIN_TOKEN_OPT_OUT, 1, 0 },
    { "kid", DIGIN_TOKEN_OPT_KID, 1, 0 },
    { "alg", DIGIN_TOKEN_OPT_ALG, 1, 0 },
    { "bits", DIGIN_TOKEN_OPT_BITS, 1, 0 },
    { NULL, 0, 0, 0 }
};


static const digin_token_opt_t  digin_token_mint_opts[] = {
    { "key", DIGIN_TOKEN_OPT_KEY, 1, 0 },
    { "alg", DIGIN_TOKEN_OPT_ALG, 1, 0 },
    { "kid", DIGIN_TOKEN_OPT_KID, 1, 0 },
    { "iss", DIGIN_TOKEN_OPT_ISS, 1, 0 },
    { "aud", DIGIN_TOKEN_OPT_AUD, 1, 1 },
    { "sub", DIGIN_TOKEN_OPT_SUB, 1, 0 },
    { "library", DIGIN_TOKEN_OPT_LIBRARY, 1, 0 },
    { "ttl", DIGIN_TOKEN_OPT_TTL, 1, 0 },
    { "exp", DIGIN_TOKEN_OPT_EXP, 1, 0 },
    { "no-exp", DIGIN_TOKEN_OPT_NO_EXP, 0, 0 },
    { "nbf", DIGIN_TOKEN_OPT_NBF, 1, 0 },
    { "iat", DIGIN_TOKEN_OPT_IAT, 1, 0 },
    { "no-iat", DIGIN_TOKEN_OPT_NO_IAT, 0, 0 },
    { "jti", DIGIN_TOKEN_OPT_JTI, 1, 0 },
    { "claim", DIGIN_TOKEN_OPT_CLAIM, 1, 1 },
    { "claim-json", DIGIN_TOKEN_OPT_CLAIM_JSON, 1, 1 },
    { "header-json", DIGIN_TOKEN_OPT_HEADER_JSON, 1, 1 },
    { "count", DIGIN_TOKEN_OPT_COUNT, 1, 0 },
    { NULL, 0, 0, 0 }
};


static const digin_token_opt_t  digin_token_jwks_opts[] = {
    { "kid", DIGIN_TOKEN_OPT_KID, 1, 1 },
    { "alg", DIGIN_TOKEN_OPT_ALG, 1, 1 },
    { "KEYFILE", DIGIN_TOKEN_OPT_FILE, 1, 1 },
    { NULL, 0, 0, 0 }
};


static const char  digin_token_usage_text[] =
"usage:\n"
"  digin-token keygen --type rsa|ec|ec384|ec521|ed25519|oct --out PREFIX\n"
"                     [--kid KID] [--alg ALG] [--bits N]\n"
"  digin-token mint --key FILE --alg ALG [--kid KID] [--iss ISS]\n"
"                   [--aud AUD]... [--sub SUB] [--library LIB]\n"
"                   [--ttl SECONDS | --exp EPOCH | --no-exp] [--nbf EPOCH]\n"
"                   [--iat EPOCH | --no-iat] [--jti JTI]\n"
"                   [--claim NAME=STRING]... [--claim-json NAME=JSON]...\n"
"                   [--header-json NAME=JSON]... [--count N]\n"
"  digin-token jwks [--kid KID]... [--alg ALG]... KEYFILE...\n"
"  digin-token help\n"
"\n"
"keygen writes PREFIX.pem (PKCS#8 private key, mode 0600), PREFIX.pub.pem\n"
"and PREFIX.jwks.json (the public JWK); for --type oct PREFIX.secret\n"
"(64 random bytes, mode 0600) and PREFIX.jwks.json (holding the secret).\n"
"--bits sets the RSA modulus size (default 2048) or the oct secret size\n"
"(default 512).  The kid defaults to the first 16 characters of the\n"
"RFC 7638 thumbprint; the JWK alg defaults to RS256, ES256, ES384, ES512,\n"
"EdDSA or HS256.\n"
"\n"
"mint prints a compact JWS.  ALG is one of HS256 HS384 HS512 RS256 RS384\n"
"RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA.  FILE is a private key\n"
"PEM; for HS* the bytes of any file are the secret.  iat defaults to now,\n"
"exp to iat + 3600.  --aud given twice makes an array.  --claim,\n"
"--claim-json and --header-json add or replace a member; a --header-json\n"
"alg is written as given.  --count N prints N tokens, one a line, told\n"
"apart by their jti (JTI-1 ... JTI-N, JTI defaulting to \"t\").\n"
"\n"
"jwks prints a JWKS holding the public key of each KEYFILE (a private or\n"
"public key PEM: RSA, EC P-256, P-384, P-521 or Ed25519), in order, with\n"
"use \"sig\" and never a private member: the key set that vendors verify\n"
"the gateway's assertions with.  The i-th --kid and --alg are for the\n"
"i-th KEYFILE; an absent or empty one takes the default of keygen (the\n"
"thumbprint; RS256, PS256 for an RSA-PSS key, ES256, ES384, ES512 or\n"
"EdDSA).  Two keys with the same kid are refused.\n"
"\n"
"exit status: 0 done, 1 I/O or crypto error, 2 usage error or unfit key.\n";


int
main(int argc, char **argv)
{
    const char  *cmd;

    if (argc < 2) {
        digin_token_usage(stderr);
        return DIGIN_TOKEN_USAGE;
    }

    cmd = argv[1];

    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0
        || strcmp(cmd, "-h") == 0)
    {
        digin_token_usage(stdout);
        return DIGIN_TOKEN_OK;
    }

    if (strcmp(cmd, "keygen") == 0) {
        return digin_token_keygen(argc, argv);
    }

    if (strcmp(cmd, "mint") == 0) {
        return digin_token_mint(argc, argv);
    }

    if (strcmp(cmd, "jwks") == 0) {
        return digin_token_jwks(argc, argv);
    }

    return digin_token_error(DIGIN_TOKEN_USAGE,
                             "unknown command \"%s\" (try digin-token help)",
                             cmd);
}


static int
digin_token_error(int rc, const char *fmt, ...)
{
    va_list  args;

    fputs("digin-token: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);

    return rc;
}


/* reports what failed with OpenSSL's reason for the last error */
static int
digin_token_crypto_error(const char *what)
{
    unsigned long   e;
    const char     *reason;

    e = ERR_peek_last_error();
    reason = (e != 0) ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();

    if (reason != NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "%s: %s", what, reason);
    }

    return digin_token_error(DIGIN_TOKEN_FAILED, "%s", what);
}


static void
digin_token_usage(FILE *fp)
{
    fputs(digin_token_usage_text, fp);
}


/*
 * Parses "--name value" and "--name=value" options from argv[2].
 * Repeatable options are appended to the array "repeated" as
 * [id, value] pairs, in command line order; so are the arguments that do
 * not start with "--", as values of DIGIN_TOKEN_OPT_FILE when opts has
 * it.
 */

static int
digin_token_parse(int argc, char **argv, const digin_token_opt_t *opts,
    digin_token_args_t *args, json_t *repeated)
{
    int                       i;
    size_t                    len;
    const char               *arg, *eq, *value;
    const digin_token_opt_t  *opt;

    memset(args, 0, sizeof(digin_token_args_t));

    for (i = 2; i < argc; i++) {
        arg = argv[i];

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            digin_token_usage(stdout);
            return DIGIN_TOKEN_HELP;
        }

        if (strncmp(arg, "--", 2) != 0) {
            for (opt = opts; opt->name != NULL; opt++) {
                if (opt->id == DIGIN_TOKEN_OPT_FILE) {
                    break;
                }
            }

            if (opt->name == NULL) {
                return digin_token_error(DIGIN_TOKEN_USAGE,
                                         "unexpected argument \"%s\"", arg);
            }

            args->given[opt->id]++;
            args->values[opt->id] = arg;

            if (json_array_append_new(repeated,
                                      json_pack("[io]", (int) opt->id,
                                                json_string_nocheck(arg)))
                != 0)
            {
                return digin_token_error(DIGIN_TOKEN_FAILED,
                                         "out of memory");
            }

            continue;
        }

        arg += 2;
        eq = strchr(arg, '=');
        len = (eq != NULL) ? (size_t) (eq - arg) : strlen(arg);

        for (opt = opts; opt->name != NULL; opt++) {
            if (opt->id != DIGIN_TOKEN_OPT_FILE
                && strlen(opt->name) == len
                && strncmp(opt->name, arg, len) == 0)
            {
                break;
            }
        }

        if (opt->name == NULL) {
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "unknown option \"--%.*s\" for %s",
                                     (int) len, arg, argv[1]);
        }

        if (!opt->value) {
            if (eq != NULL) {
                return digin_token_error(DIGIN_TOKEN_USAGE,
                                         "option --%s takes no value",
                                         opt->name);
            }

            value = "";

        } else if (eq != NULL) {
            value = eq + 1;

        } else if (i + 1 < argc) {
            value = argv[++i];

        } else {
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "option --%s needs a value", opt->name);
        }

        if (args->given[opt->id] && !opt->repeat) {
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "option --%s is duplicate", opt->name);
        }

        args->given[opt->id]++;
        args->values[opt->id] = value;

        /* UTF-8 is checked where a value becomes a member */

        if (opt->repeat
            && json_array_append_new(repeated,
                                     json_pack("[io]", (int) opt->id,
                                               json_string_nocheck(value)))
               != 0)
        {
            return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        }
    }

    return DIGIN_TOKEN_OK;
}


static int
digin_token_number(const char *opt, const char *s, long long *n)
{
    char  *end;

    errno = 0;
    *n = strtoll(s, &end, 10);

    if (*s == '\0' || *end != '\0' || errno != 0) {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "invalid --%s \"%s\"", opt, s);
    }

    return DIGIN_TOKEN_OK;
}


/* splits NAME=VALUE; *name is allocated */
static int
digin_token_name_value(const char *opt, const char *arg, char **name,
    const char **value)
{
    const char  *eq;

    eq = strchr(arg, '=');

    if (eq == NULL || eq == arg) {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "invalid --%s \"%s\", expected NAME=VALUE",
                                 opt, arg);
    }

    *name = strndup(arg, (size_t) (eq - arg));
    if (*name == NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    *value = eq + 1;

    return DIGIN_TOKEN_OK;
}


static const digin_token_alg_t *
digin_token_alg(const char *name)
{
    const digin_token_alg_t  *alg;

    for (alg = digin_token_algs; alg->name != NULL; alg++) {
        if (strcmp(alg->name, name) == 0) {
            return alg;
        }
    }

    return NULL;
}


static int
digin_token_read_file(const char *path, unsigned char **data, size_t *len)
{
    int             rc;
    FILE           *fp;
    size_t          n;
    unsigned char  *buf;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "cannot open %s: %s",
                                 path, strerror(errno));
    }

    buf = OPENSSL_secure_malloc(DIGIN_TOKEN_MAX_FILE + 1);
    if (buf == NULL) {
        fclose(fp);
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    n = fread(buf, 1, DIGIN_TOKEN_MAX_FILE + 1, fp);
    rc = ferror(fp);
    fclose(fp);

    if (rc != 0) {
        OPENSSL_secure_clear_free(buf, DIGIN_TOKEN_MAX_FILE + 1);
        return digin_token_error(DIGIN_TOKEN_FAILED, "cannot read %s", path);
    }

    if (n > DIGIN_TOKEN_MAX_FILE) {
        OPENSSL_secure_clear_free(buf, DIGIN_TOKEN_MAX_FILE + 1);
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "%s is larger than %d bytes",
                                 path, DIGIN_TOKEN_MAX_FILE);
    }

    *data = buf;
    *len = n;

    return DIGIN_TOKEN_OK;
}


/*
 * Creates or truncates path; force_mode sets the mode of a file that
 * already existed too (private keys and secrets).
 */

static int
digin_token_write_file(const char *path, const unsigned char *data,
    size_t len, mode_t mode, int force_mode)
{
    int      fd;
    ssize_t  n;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd == -1) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "cannot create %s: %s",
                                 path, strerror(errno));
    }

    if (force_mode && fchmod(fd, mode) == -1) {
        close(fd);
        return digin_token_error(DIGIN_TOKEN_FAILED, "cannot chmod %s: %s",
                                 path, strerror(errno));
    }

    while (len > 0) {
        n = write(fd, data, len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            close(fd);
            return digin_token_error(DIGIN_TOKEN_FAILED,
                                     "cannot write %s: %s",
                                     path, strerror(errno));
        }

        data += n;
        len -= (size_t) n;
    }

    if (close(fd) == -1) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "cannot write %s: %s",
                                 path, strerror(errno));
    }

    return DIGIN_TOKEN_OK;
}


static int
digin_token_write_pem(const char *path, EVP_PKEY *pkey, int private)
{
    int     rc;
    long    len;
    BIO    *bio;
    char   *data;

    bio = BIO_new(private ? BIO_s_secmem() : BIO_s_mem());
    if (bio == NULL) {
        return digin_token_crypto_error("cannot allocate a BIO");
    }

    /* PEM_write_bio_PrivateKey() writes PKCS#8 "BEGIN PRIVATE KEY" */

    rc = private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
                                            NULL, NULL)
                 : PEM_write_bio_PUBKEY(bio, pkey);

    if (rc != 1) {
        BIO_free(bio);
        return digin_token_crypto_error("cannot encode the key as PEM");
    }

    len = BIO_get_mem_data(bio, &data);

    rc = digin_token_write_file(path, (unsigned char *) data, (size_t) len,
                                private ? 0600 : 0644, private);

    BIO_free(bio);

    return rc;
}


static int
digin_token_json_str(json_t *obj, const char *name, const char *value)
{
    if (json_object_set_new(obj, name, json_string(value)) != 0) {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "\"%s\": \"%s\" is not UTF-8",
                                 name, value);
    }

    return DIGIN_TOKEN_OK;
}


static int
digin_token_json_b64(json_t *obj, const char *name,
    const unsigned char *data, size_t len)
{
    int             rc;
    size_t          n;
    unsigned char  *buf;

    buf = malloc(digin_b64url_encoded_len(len) + 1);
    if (buf == NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    n = digin_b64url_encode(buf, data, len);

    rc = json_object_set_new(obj, name, json_stringn((char *) buf, n));

    OPENSSL_cleanse(buf, n);
    free(buf);

    if (rc != 0) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    return DIGIN_TOKEN_OK;
}


/*
 * Adds a big integer parameter of pkey, base64url: without leading zero
 * bytes when pad is 0, else left-padded to pad bytes.
 */

static int
digin_token_json_bn(json_t *obj, const char *name, EVP_PKEY *pkey,
    const char *param, size_t pad)
{
    int             rc, len;
    BIGNUM         *bn;
    unsigned char  *buf;

    bn = NULL;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        return digin_token_crypto_error("cannot read the public key");
    }

    len = (pad != 0) ? (int) pad : BN_num_bytes(bn);

    /* a JWK integer has at least one byte, BN_num_bytes() of 0 is 0 */

    if (len == 0) {
        len = 1;
    }

    buf = malloc((size_t) len);
    if (buf == NULL) {
        BN_free(bn);
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    if (BN_bn2binpad(bn, buf, len) != len) {
        free(buf);
        BN_free(bn);
        return digin_token_crypto_error("cannot encode the public key");
    }

    BN_free(bn);

    rc = digin_token_json_b64(obj, name, buf, (size_t) len);

    free(buf);

    return rc;
}


/*
 * The first DIGIN_TOKEN_KID_LEN characters of the RFC 7638 thumbprint:
 * base64url of SHA-256 over the required members of the public JWK,
 * sorted by name, without white space.
 */

static int
digin_token_thumbprint(json_t *jwk, char *kid)
{
    int                  rc;
    char                *json;
    json_t              *members, *value;
    size_t               len;
    unsigned int         digest_len;
    const char         **name;
    unsigned char        digest[EVP_MAX_MD_SIZE];
    unsigned char        b64[digin_b64url_encoded_len(EVP_MAX_MD_SIZE)];
    static const char   *required[] = {
        "crv", "e", "k", "kty", "n", "x", "y", NULL
    };

    members = json_object();
    if (members == NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    /* jwk holds exactly the required members of its key type */

    for (name = required; *name != NULL; name++) {
        value = json_object_get(jwk, *name);

        if (value != NULL && json_object_set(members, *name, value) != 0) {
            json_decref(members);
            return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        }
    }

    json = json_dumps(members, DIGIN_TOKEN_JSON_FLAGS);
    json_decref(members);

    if (json == NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    len = strlen(json);
    rc = EVP_Digest(json, len, digest, &digest_len, EVP_sha256(), NULL);

    OPENSSL_cleanse(json, len);
    free(json);

    if (rc != 1) {
        return digin_token_crypto_error("cannot compute the kid");
    }

    digin_b64url_encode(b64, digest, digest_len);

    memcpy(kid, b64, DIGIN_TOKEN_KID_LEN);
    kid[DIGIN_TOKEN_KID_LEN] = '\0';

    return DIGIN_TOKEN_OK;
}


/* the key members of the public JWK: kty, then as RFC 7518 lists them */
static json_t *
digin_token_jwk(const digin_token_type_t *type, EVP_PKEY *pkey,
    const unsigned char *secret, size_t secret_len)
{
    int             rc;
    json_t         *jwk;
    size_t          len;
    unsigned char   raw[64];

    jwk = json_object();
    if (jwk == NULL) {
        digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        return NULL;
    }

    switch (type->kty) {

    case DIGIN_TOKEN_KTY_RSA:
        rc = digin_token_json_str(jwk, "kty", "RSA");

        if (rc == DIGIN_TOKEN_OK) {
            rc = digin_token_json_bn(jwk, "n", pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        }

        if (rc == DIGIN_TOKEN_OK) {
            rc = digin_token_json_bn(jwk, "e", pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        }

        break;

    case DIGIN_TOKEN_KTY_EC:
        rc = digin_token_json_str(jwk, "kty", "EC");

        if (rc == DIGIN_TOKEN_OK) {
            rc = digin_token_json_str(jwk, "crv", type->crv);
        }

        if (rc == DIGIN_TOKEN_OK) {
            rc = digin_token_json_bn(jwk, "x", pkey, OSSL_PKEY_PARAM_EC_PUB_X,
                                     type->field);
        }

        if (rc == DIGIN_TOKEN_OK) {
            rc = digin_token_json_bn(jwk, "y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
                                     type->field);
        }

        break;

    case DIGIN_TOKEN_KTY_OKP:
        len = sizeof(raw);

        if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1) {
            rc = digin_token_crypto_error("cannot read the public key");
            break;
        }

        rc = digin_token_json_str(jwk, "kty", "OKP");

        if (rc == DIGIN_TOKEN_OK) {
            rc = digin_token_json_str(jwk, "crv", type->crv);
        }

        if (rc == DIGIN_TOKEN_OK) {
            rc = digin_token_json_b64(jwk, "x", raw, len);
        }

        break;

    default: /* DIGIN_TOKEN_KTY_OCT */
        rc = digin_token_json_str(jwk, "kty", "oct");

        if (rc == DIGIN_TOKEN_OK) {
            rc = digin_token_json_b64(jwk, "k", secret, secret_len);
        }

        break;
    }

    if (rc != DIGIN_TOKEN_OK) {
        json_decref(jwk);
        return NULL;
    }

    return jwk;
}


/*
 * The JWK as keygen and jwks write it: kty, kid (when kid is NULL the
 * start of the RFC 7638 thumbprint), use "sig", alg, then the key
 * members of digin_token_jwk().
 */

static int
digin_token_jwk_full(const digin_token_type_t *type,
    const digin_token_alg_t *alg, const char *kid, EVP_PKEY *pkey,
    const unsigned char *secret, size_t secret_len, json_t **out)
{
    int      rc;
    char     thumbprint[DIGIN_TOKEN_KID_LEN + 1];
    json_t  *jwk, *key;

    jwk = digin_token_jwk(type, pkey, secret, secret_len);
    if (jwk == NULL) {
        return DIGIN_TOKEN_FAILED;
    }

    if (kid == NULL) {
        rc = digin_token_thumbprint(jwk, thumbprint);
        if (rc != DIGIN_TOKEN_OK) {
            json_decref(jwk);
            return rc;
        }

        kid = thumbprint;
    }

    key = json_object();
    if (key == NULL) {
        json_decref(jwk);
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    rc = digin_token_json_str(key, "kty",
                              json_string_value(json_object_get(jwk, "kty")));

    if (rc == DIGIN_TOKEN_OK) {
        rc = digin_token_json_str(key, "kid", kid);
    }

    if (rc == DIGIN_TOKEN_OK) {
        rc = digin_token_json_str(key, "use", "sig");
    }

    if (rc == DIGIN_TOKEN_OK) {
        rc = digin_token_json_str(key, "alg", alg->name);
    }

    if (rc == DIGIN_TOKEN_OK && json_object_update_missing(key, jwk) != 0) {
        rc = digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    json_decref(jwk);

    if (rc != DIGIN_TOKEN_OK) {
        json_decref(key);
        return rc;
    }

    *out = key;

    return DIGIN_TOKEN_OK;
}


static int
digin_token_keygen(int argc, char **argv)
{
    int                        rc;
    char                      *path, *json;
    json_t                    *jwk, *key, *jwks, *repeated;
    size_t                     len, secret_len, json_len;
    long long                  bits;
    EVP_PKEY                  *pkey;
    const char                *prefix, *alg_name, *kid;
    unsigned char             *secret;
    digin_token_args_t         args;
    const digin_token_alg_t   *alg;
    const digin_token_type_t  *type;

    repeated = json_array();
    if (repeated == NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    rc = digin_token_parse(argc, argv, digin_token_keygen_opts, &args,
                           repeated);
    json_decref(repeated);

    if (rc != DIGIN_TOKEN_OK) {
        return (rc == DIGIN_TOKEN_HELP) ? DIGIN_TOKEN_OK : rc;
    }

    if (args.values[DIGIN_TOKEN_OPT_TYPE] == NULL) {
        return digin_token_error(DIGIN_TOKEN_USAGE, "keygen needs --type");
    }

    prefix = args.values[DIGIN_TOKEN_OPT_OUT];

    if (prefix == NULL || prefix[0] == '\0') {
        return digin_token_error(DIGIN_TOKEN_USAGE, "keygen needs --out");
    }

    for (type = digin_token_types; type->name != NULL; type++) {
        if (strcmp(type->name, args.values[DIGIN_TOKEN_OPT_TYPE]) == 0) {
            break;
        }
    }

    if (type->name == NULL) {
        return digin_token_error(DIGIN_TOKEN_USAGE, "invalid --type \"%s\"",
                                 args.values[DIGIN_TOKEN_OPT_TYPE]);
    }

    alg_name = args.values[DIGIN_TOKEN_OPT_ALG];

    if (alg_name == NULL) {
        alg_name = type->alg;
    }

    alg = digin_token_alg(alg_name);

    /* an EC type has one algorithm, the one of its curve */

    if (alg == NULL
        || alg->kty != type->kty
        || (alg->kty == DIGIN_TOKEN_KTY_EC
            && strcmp(alg->name, type->alg) != 0))
    {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "--alg \"%s\" does not fit --type %s",
                                 alg_name, type->name);
    }

    bits = (type->kty == DIGIN_TOKEN_KTY_RSA) ? DIGIN_TOKEN_RSA_BITS
                                              : DIGIN_TOKEN_OCT_BYTES * 8;

    if (args.values[DIGIN_TOKEN_OPT_BITS] != NULL) {
        if (type->kty != DIGIN_TOKEN_KTY_RSA
            && type->kty != DIGIN_TOKEN_KTY_OCT)
        {
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "--bits is for --type rsa and oct");
        }

        rc = digin_token_number("bits", args.values[DIGIN_TOKEN_OPT_BITS],
                                &bits);
        if (rc != DIGIN_TOKEN_OK) {
            return rc;
        }

        if ((type->kty == DIGIN_TOKEN_KTY_RSA
             && (bits < 512 || bits > 16384))
            || (type->kty == DIGIN_TOKEN_KTY_OCT
                && (bits < 8 || bits > 8192 || bits % 8 != 0)))
        {
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "invalid --bits \"%s\" for --type %s",
                                     args.values[DIGIN_TOKEN_OPT_BITS],
                                     type->name);
        }
    }

    kid = args.values[DIGIN_TOKEN_OPT_KID];

    if (kid != NULL) {
        jwk = json_string(kid);

        if (jwk == NULL) {
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "--kid \"%s\" is not UTF-8", kid);
        }

        json_decref(jwk);
    }

    len = strlen(prefix) + sizeof(".jwks.json");

    path = malloc(len);
    if (path == NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    pkey = NULL;
    secret = NULL;
    secret_len = 0;
    jwk = NULL;
    key = NULL;
    jwks = NULL;
    json = NULL;
    json_len = 0;

    /* the key and its private file */

    if (type->kty == DIGIN_TOKEN_KTY_OCT) {
        secret_len = (size_t) bits / 8;

        secret = OPENSSL_secure_malloc(secret_len);
        if (secret == NULL) {
            rc = digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
            goto done;
        }

        if (RAND_bytes(secret, (int) secret_len) != 1) {
            rc = digin_token_crypto_error("cannot generate the secret");
            goto done;
        }

        snprintf(path, len, "%s.secret", prefix);
        rc = digin_token_write_file(path, secret, secret_len, 0600, 1);

    } else {
        if (type->kty == DIGIN_TOKEN_KTY_RSA) {
            pkey = EVP_PKEY_Q_keygen(NULL, NULL, type->keygen,
                                     (size_t) bits);

        } else if (type->kty == DIGIN_TOKEN_KTY_EC) {
            pkey = EVP_PKEY_Q_keygen(NULL, NULL, type->keygen, type->curve);

        } else {
            pkey = EVP_PKEY_Q_keygen(NULL, NULL, type->keygen);
        }

        if (pkey == NULL) {
            rc = digin_token_crypto_error("cannot generate the key");
            goto done;
        }

        snprintf(path, len, "%s.pem", prefix);
        rc = digin_token_write_pem(path, pkey, 1);

        if (rc == DIGIN_TOKEN_OK) {
            snprintf(path, len, "%s.pub.pem", prefix);
            rc = digin_token_write_pem(path, pkey, 0);
        }
    }

    if (rc != DIGIN_TOKEN_OK) {
        goto done;
    }

    /* the JWKS: kty, kid, use, alg, then the key members */

    rc = digin_token_jwk_full(type, alg, kid, pkey, secret, secret_len,
                              &key);
    if (rc != DIGIN_TOKEN_OK) {
        goto done;
    }

    kid = json_string_value(json_object_get(key, "kid"));

    jwks = json_pack("{s:[O]}", "keys", key);

    if (jwks == NULL) {
        rc = digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        goto done;
    }

    json = json_dumps(jwks, JSON_INDENT(2));
    if (json == NULL) {
        rc = digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        goto done;
    }

    json_len = strlen(json);

    /* the file ends with a new line: it replaces the terminating NUL */

    json[json_len] = '\n';

    /* an oct JWKS holds the secret */

    snprintf(path, len, "%s.jwks.json", prefix);

    rc = digin_token_write_file(path, (unsigned char *) json, json_len + 1,
                                (secret != NULL) ? 0600 : 0644,
                                secret != NULL);
    if (rc != DIGIN_TOKEN_OK) {
        goto done;
    }

    if (secret != NULL) {
        printf("wrote %s.secret %s.jwks.json (kid %s)\n",
               prefix, prefix, kid);

    } else {
        printf("wrote %s.pem %s.pub.pem %s.jwks.json (kid %s)\n",
               prefix, prefix, prefix, kid);
    }

    if (fflush(stdout) != 0) {
        rc = digin_token_error(DIGIN_TOKEN_FAILED, "cannot write stdout");
    }

done:

    if (json != NULL) {
        OPENSSL_cleanse(json, json_len + 1);
        free(json);
    }

    json_decref(jwks);
    json_decref(key);
    json_decref(jwk);
    EVP_PKEY_free(pkey);
    OPENSSL_secure_clear_free(secret, secret_len);
    free(path);

    return rc;
}


/* PEM_read_bio_PrivateKey() must not prompt for a pass phrase */
static int
digin_token_no_password(char *buf, int size, int rwflag, void *data)
{
    return -1;
}


/*
 * Reads the key file for key->alg.  HS* take the file's bytes, whatever
 * they are (tokens keyed with a public key PEM test alg confusion); the
 * other algorithms take a private key PEM of their key type and, for ES*,
 * of their curve.
 */

static int
digin_token_load_key(const char *path, digin_token_key_t *key)
{
    int                       rc, nid, fits;
    BIO                      *bio;
    char                      group[64];
    size_t                    len;
    const char               *name;
    const digin_token_alg_t  *alg;

    alg = key->alg;

    rc = digin_token_read_file(path, &key->bytes, &key->len);
    if (rc != DIGIN_TOKEN_OK) {
        return rc;
    }

    if (alg->kty == DIGIN_TOKEN_KTY_OCT) {
        if (key->len == 0) {
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "%s is empty, %s needs a secret",
                                     path, alg->name);
        }

        return DIGIN_TOKEN_OK;
    }

    bio = BIO_new_mem_buf(key->bytes, (int) key->len);
    if (bio == NULL) {
        return digin_token_crypto_error("cannot allocate a BIO");
    }

    key->pkey = PEM_read_bio_PrivateKey(bio, NULL, digin_token_no_password,
                                        NULL);
    BIO_free(bio);

    if (key->pkey == NULL) {
        ERR_clear_error();
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "%s holds no unencrypted private key PEM, "
                                 "%s needs one", path, alg->name);
    }

    switch (alg->kty) {

    case DIGIN_TOKEN_KTY_RSA:
        fits = EVP_PKEY_is_a(key->pkey, "RSA")
               || (alg->pss && EVP_PKEY_is_a(key->pkey, "RSA-PSS"));
        break;

    case DIGIN_TOKEN_KTY_EC:
        fits = EVP_PKEY_is_a(key->pkey, "EC");

        if (!fits) {
            break;
        }

        if (EVP_PKEY_get_group_name(key->pkey, group, sizeof(group), &len)
            != 1)
        {
            return digin_token_crypto_error("cannot read the EC key's curve");
        }

        nid = EC_curve_nist2nid(group);

        if (nid == NID_undef) {
            nid = OBJ_sn2nid(group);
        }

        if (nid != alg->curve_nid) {
            name = EC_curve_nid2nist(nid);

            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "the key in %s is on curve %s, "
                                     "%s needs %s", path,
                                     (name != NULL) ? name : group,
                                     alg->name,
                                     EC_curve_nid2nist(alg->curve_nid));
        }

        break;

    default: /* DIGIN_TOKEN_KTY_OKP */
        fits = EVP_PKEY_is_a(key->pkey, "ED25519");
        break;
    }

    if (!fits) {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "the key in %s is %s, not a key for %s",
                                 path, EVP_PKEY_get0_type_name(key->pkey),
                                 alg->name);
    }

    return DIGIN_TOKEN_OK;
}


static void
digin_token_free_key(digin_token_key_t *key)
{
    EVP_PKEY_free(key->pkey);

    if (key->bytes != NULL) {
        OPENSSL_secure_clear_free(key->bytes, DIGIN_TOKEN_MAX_FILE + 1);
    }
}


/* sets an integer member */
static int
digin_token_json_int(json_t *obj, const char *name, long long n)
{
    if (json_object_set_new(obj, name, json_integer(n)) != 0) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    return DIGIN_TOKEN_OK;
}


/*
 * Sets the NAME=JSON of a --claim-json or --header-json; the value may be
 * any JSON text, a number or a string too.
 */

static int
digin_token_json_member(json_t *obj, const char *opt, const char *arg,
    char **name)
{
    json_t        *value;
    const char    *text;
    json_error_t   error;

    if (digin_token_name_value(opt, arg, name, &text) != DIGIN_TOKEN_OK) {
        return DIGIN_TOKEN_USAGE;
    }

    value = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                       &error);

    if (value == NULL) {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "--%s %s: invalid JSON: %s",
                                 opt, *name, error.text);
    }

    if (json_object_set_new(obj, *name, value) != 0) {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "--%s: \"%s\" is not UTF-8", opt, *name);
    }

    return DIGIN_TOKEN_OK;
}


/*
 * The claims: iss, sub, aud, library, iat, nbf, exp, jti, then --claim
 * and --claim-json in command line order, each replacing an earlier
 * member of the same name.
 */

static int
digin_token_claims(digin_token_args_t *args, json_t *repeated,
    json_t *payload)
{
    int           rc;
    char         *name;
    size_t        i;
    json_t       *entry, *aud;
    long long     iat, exp, ttl, nbf;
    const char   *arg, *value;
    json_int_t    id;

    if ((args->given[DIGIN_TOKEN_OPT_TTL] != 0)
        + (args->given[DIGIN_TOKEN_OPT_EXP] != 0)
        + (args->given[DIGIN_TOKEN_OPT_NO_EXP] != 0) > 1)
    {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "--ttl, --exp and --no-exp exclude "
                                 "each other");
    }

    if (args->given[DIGIN_TOKEN_OPT_IAT] && args->given[DIGIN_TOKEN_OPT_NO_IAT])
    {
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "--iat and --no-iat exclude each other");
    }

    iat = (long long) time(NULL);
    ttl = DIGIN_TOKEN_TTL;
    exp = 0;
    nbf = 0;

    rc = DIGIN_TOKEN_OK;

    if (args->values[DIGIN_TOKEN_OPT_IAT] != NULL) {
        rc = digin_token_number("iat", args->values[DIGIN_TOKEN_OPT_IAT],
                                &iat);
    }

    if (rc == DIGIN_TOKEN_OK && args->values[DIGIN_TOKEN_OPT_NBF] != NULL) {
        rc = digin_token_number("nbf", args->values[DIGIN_TOKEN_OPT_NBF],
                                &nbf);
    }

    if (rc == DIGIN_TOKEN_OK && args->values[DIGIN_TOKEN_OPT_TTL] != NULL) {
        rc = digin_token_number("ttl", args->values[DIGIN_TOKEN_OPT_TTL],
                                &ttl);
    }

    if (rc != DIGIN_TOKEN_OK) {
        return rc;
    }

    if (args->values[DIGIN_TOKEN_OPT_EXP] != NULL) {
        rc = digin_token_number("exp", args->values[DIGIN_TOKEN_OPT_EXP],
                                &exp);
        if (rc != DIGIN_TOKEN_OK) {
            return rc;
        }

    } else {

        /* exp counts from iat: --iat, or now */

        if ((ttl > 0 && iat > LLONG_MAX - ttl)
            || (ttl < 0 && iat < LLONG_MIN - ttl))
        {
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "iat + ttl is out of range");
        }

        exp = iat + ttl;
    }

    if (args->values[DIGIN_TOKEN_OPT_ISS] != NULL) {
        rc = digin_token_json_str(payload, "iss",
                                  args->values[DIGIN_TOKEN_OPT_ISS]);
    }

    if (rc == DIGIN_TOKEN_OK && args->values[DIGIN_TOKEN_OPT_SUB] != NULL) {
        rc = digin_token_json_str(payload, "sub",
                                  args->values[DIGIN_TOKEN_OPT_SUB]);
    }

    if (rc != DIGIN_TOKEN_OK) {
        return rc;
    }

    /* one --aud is a string, more are an array */

    if (args->given[DIGIN_TOKEN_OPT_AUD] == 1) {
        rc = digin_token_json_str(payload, "aud",
                                  args->values[DIGIN_TOKEN_OPT_AUD]);
        if (rc != DIGIN_TOKEN_OK) {
            return rc;
        }

    } else if (args->given[DIGIN_TOKEN_OPT_AUD] > 1) {
        aud = json_array();

        if (aud == NULL || json_object_set_new(payload, "aud", aud) != 0) {
            return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        }

        json_array_foreach(repeated, i, entry) {
            id = json_integer_value(json_array_get(entry, 0));

            if (id != DIGIN_TOKEN_OPT_AUD) {
                continue;
            }

            value = json_string_value(json_array_get(entry, 1));

            if (json_array_append_new(aud, json_string(value)) != 0) {
                return digin_token_error(DIGIN_TOKEN_USAGE,
                                         "\"aud\": \"%s\" is not UTF-8",
                                         value);
            }
        }
    }

    if (args->values[DIGIN_TOKEN_OPT_LIBRARY] != NULL) {
        rc = digin_token_json_str(payload, "library",
                                  args->values[DIGIN_TOKEN_OPT_LIBRARY]);
    }

    if (rc == DIGIN_TOKEN_OK && !args->given[DIGIN_TOKEN_OPT_NO_IAT]) {
        rc = digin_token_json_int(payload, "iat", iat);
    }

    if (rc == DIGIN_TOKEN_OK && args->given[DIGIN_TOKEN_OPT_NBF]) {
        rc = digin_token_json_int(payload, "nbf", nbf);
    }

    if (rc == DIGIN_TOKEN_OK && !args->given[DIGIN_TOKEN_OPT_NO_EXP]) {
        rc = digin_token_json_int(payload, "exp", exp);
    }

    if (rc == DIGIN_TOKEN_OK && args->values[DIGIN_TOKEN_OPT_JTI] != NULL) {
        rc = digin_token_json_str(payload, "jti",
                                  args->values[DIGIN_TOKEN_OPT_JTI]);
    }

    if (rc != DIGIN_TOKEN_OK) {
        return rc;
    }

    json_array_foreach(repeated, i, entry) {
        id = json_integer_value(json_array_get(entry, 0));
        arg = json_string_value(json_array_get(entry, 1));
        name = NULL;

        if (id == DIGIN_TOKEN_OPT_CLAIM) {
            rc = digin_token_name_value("claim", arg, &name, &value);

            if (rc == DIGIN_TOKEN_OK) {
                rc = digin_token_json_str(payload, name, value);
            }

        } else if (id == DIGIN_TOKEN_OPT_CLAIM_JSON) {
            rc = digin_token_json_member(payload, "claim-json", arg, &name);
        }

        free(name);

        if (rc != DIGIN_TOKEN_OK) {
            return rc;
        }
    }

    return DIGIN_TOKEN_OK;
}


/*
 * The JOSE header: alg, typ "JWT", kid, then --header-json in command
 * line order, each replacing an earlier member of the same name.
 * *alg_given tells whether a --header-json named "alg".
 */

static int
digin_token_headers(digin_token_args_t *args, json_t *repeated,
    const digin_token_alg_t *alg, json_t *header, int *alg_given)
{
    int       rc;
    char     *name;
    size_t    i;
    json_t   *entry;

    *alg_given = 0;

    rc = digin_token_json_str(header, "alg", alg->name);

    if (rc == DIGIN_TOKEN_OK) {
        rc = digin_token_json_str(header, "typ", "JWT");
    }

    if (rc == DIGIN_TOKEN_OK && args->values[DIGIN_TOKEN_OPT_KID] != NULL) {
        rc = digin_token_json_str(header, "kid",
                                  args->values[DIGIN_TOKEN_OPT_KID]);
    }

    if (rc != DIGIN_TOKEN_OK) {
        return rc;
    }

    json_array_foreach(repeated, i, entry) {
        if (json_integer_value(json_array_get(entry, 0))
            != DIGIN_TOKEN_OPT_HEADER_JSON)
        {
            continue;
        }

        name = NULL;
        rc = digin_token_json_member(header, "header-json",
                               json_string_value(json_array_get(entry, 1)),
                               &name);

        if (name != NULL && strcmp(name, "alg") == 0) {
            *alg_given = 1;
        }

        free(name);

        if (rc != DIGIN_TOKEN_OK) {
            return rc;
        }
    }

    return DIGIN_TOKEN_OK;
}


/*
 * Signs with libjwt 1.10.  It writes "alg" and "typ": "JWT" itself, and
 * serialises both parts compact with sorted keys.
 */

static char *
digin_token_encode_libjwt(digin_token_key_t *key, json_t *header,
    json_t *payload)
{
    int             rc;
    BIO            *bio;
    long            len;
    char           *json, *token, *pem;
    jwt_t          *jwt;
    json_t         *members;
    const char     *what;

    jwt = NULL;
    bio = NULL;
    token = NULL;
    what = "cannot allocate a JWT";

    rc = jwt_new(&jwt);
    if (rc != 0) {
        goto failed;
    }

    members = json_deep_copy(header);
    if (members == NULL) {
        rc = ENOMEM;
        goto failed;
    }

    json_object_del(members, "alg");

    json = json_dumps(members, DIGIN_TOKEN_JSON_FLAGS);
    json_decref(members);

    if (json == NULL) {
        rc = ENOMEM;
        goto failed;
    }

    what = "cannot set the JOSE header";
    rc = jwt_add_headers_json(jwt, json);
    free(json);

    if (rc != 0) {
        goto failed;
    }

    json = json_dumps(payload, DIGIN_TOKEN_JSON_FLAGS);
    if (json == NULL) {
        rc = ENOMEM;
        goto failed;
    }

    what = "cannot set the claims";
    rc = jwt_add_grants_json(jwt, json);
    free(json);

    if (rc != 0) {
        goto failed;
    }

    what = "cannot set the key";

    if (key->pkey == NULL) {
        rc = jwt_set_alg(jwt, key->alg->jwt_alg, key->bytes, (int) key->len);

    } else {

        /* the key loaded and checked, rather than the file */

        bio = BIO_new(BIO_s_secmem());

        if (bio == NULL
            || PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL,
                                        NULL)
               != 1)
        {
            jwt_free(jwt);
            BIO_free(bio);
            digin_token_crypto_error("cannot encode the key as PEM");
            return NULL;
        }

        len = BIO_get_mem_data(bio, &pem);
        rc = jwt_set_alg(jwt, key->alg->jwt_alg, (unsigned char *) pem,
                         (int) len);
    }

    if (rc != 0) {
        goto failed;
    }

    what = "cannot sign with libjwt";
    errno = 0;

    token = jwt_encode_str(jwt);
    if (token == NULL) {
        rc = (errno != 0) ? errno : EINVAL;
        goto failed;
    }

    jwt_free(jwt);
    BIO_free(bio);

    return token;

failed:

    jwt_free(jwt);
    BIO_free(bio);
    ERR_clear_error();

    digin_token_error(DIGIN_TOKEN_FAILED, "%s: %s", what, strerror(rc));

    return NULL;
}


/*
 * Signs with OpenSSL.  PS*: RSASSA-PSS, MGF1 with the same hash, salt as
 * long as the hash (RFC 7518 section 3.5).  ES*: R || S, each left-padded
 * to the curve's size (RFC 7518 section 3.4).  EdDSA: pure Ed25519.
 */

static int
digin_token_sign(digin_token_key_t *key, const unsigned char *in,
    size_t in_len, unsigned char **sig, size_t *sig_len)
{
    int                       rc;
    size_t                    len, field;
    EVP_MD_CTX               *ctx;
    ECDSA_SIG                *es;
    EVP_PKEY_CTX             *pctx;
    const EVP_MD             *md;
    const BIGNUM             *r, *s;
    unsigned char            *buf, *raw;
    unsigned int              mac_len;
    const unsigned char      *p;
    const digin_token_alg_t  *alg;

    alg = key->alg;
    md = (alg->md != NULL) ? alg->md() : NULL;

    if (alg->kty == DIGIN_TOKEN_KTY_OCT) {
        buf = malloc(EVP_MAX_MD_SIZE);
        if (buf == NULL) {
            return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        }

        if (HMAC(md, key->bytes, (int) key->len, in, in_len, buf, &mac_len)
            == NULL)
        {
            free(buf);
            return digin_token_crypto_error("cannot compute the HMAC");
        }

        *sig = buf;
        *sig_len = mac_len;

        return DIGIN_TOKEN_OK;
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return digin_token_crypto_error("cannot allocate a digest");
    }

    buf = NULL;
    pctx = NULL;

    if (EVP_DigestSignInit(ctx, &pctx, md, NULL, key->pkey) != 1) {
        goto failed;
    }

    if (alg->pss
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
               != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))
    {
        goto failed;
    }

    if (EVP_DigestSign(ctx, NULL, &len, in, in_len) != 1) {
        goto failed;
    }

    buf = malloc(len);
    if (buf == NULL) {
        EVP_MD_CTX_free(ctx);
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    if (EVP_DigestSign(ctx, buf, &len, in, in_len) != 1) {
        goto failed;
    }

    EVP_MD_CTX_free(ctx);

    if (alg->kty != DIGIN_TOKEN_KTY_EC) {
        *sig = buf;
        *sig_len = len;
        return DIGIN_TOKEN_OK;
    }

    /* ECDSA-Sig-Value DER to R || S */

    p = buf;
    es = d2i_ECDSA_SIG(NULL, &p, (long) len);
    free(buf);

    if (es == NULL) {
        return digin_token_crypto_error("cannot decode the ECDSA signature");
    }

    field = alg->field;

    raw = malloc(2 * field);
    if (raw == NULL) {
        ECDSA_SIG_free(es);
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    ECDSA_SIG_get0(es, &r, &s);

    rc = BN_bn2binpad(r, raw, (int) field) == (int) field
         && BN_bn2binpad(s, raw + field, (int) field) == (int) field;

    ECDSA_SIG_free(es);

    if (!rc) {
        free(raw);
        return digin_token_error(DIGIN_TOKEN_FAILED,
                                 "the ECDSA signature does not fit %s",
                                 alg->name);
    }

    *sig = raw;
    *sig_len = 2 * field;

    return DIGIN_TOKEN_OK;

failed:

    EVP_MD_CTX_free(ctx);
    free(buf);

    return digin_token_crypto_error("cannot sign");
}


/* base64url(header) "." base64url(payload) "." base64url(signature) */
static char *
digin_token_encode_openssl(digin_token_key_t *key, json_t *header,
    json_t *payload)
{
    char           *h, *p, *token;
    size_t          h_len, p_len, n, sig_len;
    unsigned char  *in, *sig;

    sig = NULL;
    sig_len = 0;

    h = json_dumps(header, DIGIN_TOKEN_JSON_FLAGS);
    p = json_dumps(payload, DIGIN_TOKEN_JSON_FLAGS);

    if (h == NULL || p == NULL) {
        free(h);
        free(p);
        digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        return NULL;
    }

    h_len = strlen(h);
    p_len = strlen(p);

    in = malloc(digin_b64url_encoded_len(h_len) + 1
                + digin_b64url_encoded_len(p_len));

    if (in == NULL) {
        free(h);
        free(p);
        digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        return NULL;
    }

    n = digin_b64url_encode(in, (unsigned char *) h, h_len);
    in[n++] = '.';
    n += digin_b64url_encode(in + n, (unsigned char *) p, p_len);

    free(h);
    free(p);

    if (digin_token_sign(key, in, n, &sig, &sig_len) != DIGIN_TOKEN_OK) {
        free(in);
        return NULL;
    }

    token = malloc(n + 1 + digin_b64url_encoded_len(sig_len) + 1);

    if (token != NULL) {
        memcpy(token, in, n);
        token[n++] = '.';
        n += digin_b64url_encode((unsigned char *) token + n, sig, sig_len);
        token[n] = '\0';

    } else {
        digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    free(in);
    free(sig);

    return token;
}


static int
digin_token_mint(int argc, char **argv)
{
    int                  rc, alg_given;
    char                *token, jti_buf[256];
    json_t              *repeated, *header, *payload;
    long long            n, count;
    const char          *path, *alg_name, *typ, *jti;
    digin_token_key_t    key;
    digin_token_args_t   args;

    memset(&key, 0, sizeof(digin_token_key_t));

    repeated = json_array();
    header = json_object();
    payload = json_object();
    token = NULL;

    if (repeated == NULL || header == NULL || payload == NULL) {
        rc = digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        goto done;
    }

    rc = digin_token_parse(argc, argv, digin_token_mint_opts, &args,
                           repeated);

    if (rc != DIGIN_TOKEN_OK) {
        rc = (rc == DIGIN_TOKEN_HELP) ? DIGIN_TOKEN_OK : rc;
        goto done;
    }

    path = args.values[DIGIN_TOKEN_OPT_KEY];
    alg_name = args.values[DIGIN_TOKEN_OPT_ALG];

    if (path == NULL) {
        rc = digin_token_error(DIGIN_TOKEN_USAGE, "mint needs --key");
        goto done;
    }

    if (alg_name == NULL) {
        rc = digin_token_error(DIGIN_TOKEN_USAGE, "mint needs --alg");
        goto done;
    }

    key.alg = digin_token_alg(alg_name);

    if (key.alg == NULL) {
        rc = digin_token_error(DIGIN_TOKEN_USAGE, "invalid --alg \"%s\"",
                               alg_name);
        goto done;
    }

    rc = digin_token_claims(&args, repeated, payload);

    if (rc == DIGIN_TOKEN_OK) {
        rc = digin_token_headers(&args, repeated, key.alg, header,
                                 &alg_given);
    }

    if (rc == DIGIN_TOKEN_OK) {
        rc = digin_token_load_key(path, &key);
    }

    if (rc != DIGIN_TOKEN_OK) {
        goto done;
    }

    /*
     * libjwt where it can write the token asked for: it knows the
     * algorithm, the header has no "alg" of its own and its "typ" is
     * "JWT" (libjwt 1.10 writes both itself, whatever the header holds).
     */

    typ = json_string_value(json_object_get(header, "typ"));
    jti = args.values[DIGIN_TOKEN_OPT_JTI];
    count = 1;

    if (args.values[DIGIN_TOKEN_OPT_COUNT] != NULL) {
        rc = digin_token_number("count", args.values[DIGIN_TOKEN_OPT_COUNT],
                                &count);

        if (rc == DIGIN_TOKEN_OK && (count < 1 || count > 10000000)) {
            rc = digin_token_error(DIGIN_TOKEN_USAGE, "--count must be "
                                   "1 to 10000000");
        }

        if (rc != DIGIN_TOKEN_OK) {
            goto done;
        }
    }

    for (n = 1; n <= count; n++) {

        if (args.values[DIGIN_TOKEN_OPT_COUNT] != NULL) {
            snprintf(jti_buf, sizeof(jti_buf), "%.200s-%lld",
                     jti ? jti : "t", n);

            if (digin_token_json_str(payload, "jti", jti_buf)
                != DIGIN_TOKEN_OK)
            {
                rc = DIGIN_TOKEN_FAILED;
                goto done;
            }
        }

        if (key.alg->jwt_alg != JWT_ALG_NONE
            && !alg_given
            && typ != NULL
            && strcmp(typ, "JWT") == 0)
        {
            token = digin_token_encode_libjwt(&key, header, payload);

        } else {
            token = digin_token_encode_openssl(&key, header, payload);
        }

        if (token == NULL) {
            rc = DIGIN_TOKEN_FAILED;
            goto done;
        }

        if (printf("%s\n", token) < 0) {
            rc = digin_token_error(DIGIN_TOKEN_FAILED, "cannot write stdout");
            goto done;
        }

        free(token);
        token = NULL;
    }

    if (fflush(stdout) != 0) {
        rc = digin_token_error(DIGIN_TOKEN_FAILED, "cannot write stdout");
    }

done:

    free(token);
    digin_token_free_key(&key);
    json_decref(payload);
    json_decref(header);
    json_decref(repeated);

    return rc;
}


/*
 * Reads a private or a public key PEM for jwks, and finds the keygen type
 * whose JWK it makes: RSA (and RSA-PSS), EC on a curve JOSE names,
 * Ed25519.
 */

static int
digin_token_load_public(const char *path, EVP_PKEY **pkey,
    const digin_token_type_t **type)
{
    int                        rc, nid;
    BIO                       *bio;
    char                       group[64];
    size_t                     len;
    const char                *name;
    unsigned char             *bytes;
    const digin_token_type_t  *t;

    *pkey = NULL;

    rc = digin_token_read_file(path, &bytes, &len);
    if (rc != DIGIN_TOKEN_OK) {
        return rc;
    }

    bio = BIO_new_mem_buf(bytes, (int) len);

    if (bio != NULL) {
        *pkey = PEM_read_bio_PrivateKey(bio, NULL, digin_token_no_password,
                                        NULL);
        BIO_free(bio);
    }

    if (bio != NULL && *pkey == NULL) {
        ERR_clear_error();

        bio = BIO_new_mem_buf(bytes, (int) len);

        if (bio != NULL) {
            *pkey = PEM_read_bio_PUBKEY(bio, NULL, digin_token_no_password,
                                        NULL);
            BIO_free(bio);
        }
    }

    OPENSSL_secure_clear_free(bytes, DIGIN_TOKEN_MAX_FILE + 1);

    if (bio == NULL) {
        return digin_token_crypto_error("cannot allocate a BIO");
    }

    if (*pkey == NULL) {
        ERR_clear_error();
        return digin_token_error(DIGIN_TOKEN_USAGE,
                                 "%s holds no unencrypted private key PEM "
                                 "and no public key PEM", path);
    }

    name = NULL;

    if (EVP_PKEY_is_a(*pkey, "RSA") || EVP_PKEY_is_a(*pkey, "RSA-PSS")) {
        name = "rsa";

    } else if (EVP_PKEY_is_a(*pkey, "ED25519")) {
        name = "ed25519";

    } else if (EVP_PKEY_is_a(*pkey, "EC")) {

        if (EVP_PKEY_get_group_name(*pkey, group, sizeof(group), &len) != 1)
        {
            EVP_PKEY_free(*pkey);
            *pkey = NULL;
            return digin_token_crypto_error("cannot read the EC key's curve");
        }

        nid = EC_curve_nist2nid(group);

        if (nid == NID_undef) {
            nid = OBJ_sn2nid(group);
        }

        switch (nid) {

        case NID_X9_62_prime256v1:
            name = "ec";
            break;

        case NID_secp384r1:
            name = "ec384";
            break;

        case NID_secp521r1:
            name = "ec521";
            break;

        default:
            EVP_PKEY_free(*pkey);
            *pkey = NULL;
            return digin_token_error(DIGIN_TOKEN_USAGE,
                                     "the key in %s is on curve %s, JOSE "
                                     "names P-256, P-384 and P-521 only",
                                     path, group);
        }
    }

    if (name == NULL) {
        rc = digin_token_error(DIGIN_TOKEN_USAGE,
                               "the key in %s is %s, jwks takes RSA, EC "
                               "and Ed25519 keys", path,
                               EVP_PKEY_get0_type_name(*pkey));
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
        return rc;
    }

    for (t = digin_token_types; t->name != NULL; t++) {
        if (strcmp(t->name, name) == 0) {
            break;
        }
    }

    *type = t;

    return DIGIN_TOKEN_OK;
}


/* prints json indented by two spaces, and a new line */
static int
digin_token_print_json(json_t *json)
{
    int    rc;
    char  *text;

    text = json_dumps(json, JSON_INDENT(2));
    if (text == NULL) {
        return digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
    }

    rc = (printf("%s\n", text) < 0 || fflush(stdout) != 0)
         ? digin_token_error(DIGIN_TOKEN_FAILED, "cannot write stdout")
         : DIGIN_TOKEN_OK;

    free(text);

    return rc;
}


/*
 * jwks [--kid KID]... [--alg ALG]... KEYFILE...: the public JWK of each
 * file, in order, the i-th --kid and --alg going with the i-th file.
 * Only public members are written, whatever the file holds: the JWK
 * comes from digin_token_jwk(), which reads the public parameters alone.
 */

static int
digin_token_jwks(int argc, char **argv)
{
    int                        rc;
    size_t                     i, j, n;
    json_t                    *repeated, *lists[DIGIN_TOKEN_OPT_MAX];
    json_t                    *jwks, *keys, *entry, *key;
    EVP_PKEY                  *pkey;
    json_int_t                 id;
    const char                *path, *kid, *alg_name, *other;
    digin_token_args_t         args;
    const digin_token_alg_t   *alg;
    const digin_token_type_t  *type;

    type = NULL;
    memset(lists, 0, sizeof(lists));

    repeated = json_array();
    keys = json_array();
    jwks = json_pack("{s:o}", "keys", keys);
    lists[DIGIN_TOKEN_OPT_FILE] = json_array();
    lists[DIGIN_TOKEN_OPT_KID] = json_array();
    lists[DIGIN_TOKEN_OPT_ALG] = json_array();

    if (repeated == NULL || jwks == NULL
        || lists[DIGIN_TOKEN_OPT_FILE] == NULL
        || lists[DIGIN_TOKEN_OPT_KID] == NULL
        || lists[DIGIN_TOKEN_OPT_ALG] == NULL)
    {
        rc = digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
        goto done;
    }

    rc = digin_token_parse(argc, argv, digin_token_jwks_opts, &args,
                           repeated);

    if (rc != DIGIN_TOKEN_OK) {
        rc = (rc == DIGIN_TOKEN_HELP) ? DIGIN_TOKEN_OK : rc;
        goto done;
    }

    /* the files, the kids and the algorithms, each in command line order */

    json_array_foreach(repeated, i, entry) {
        id = json_integer_value(json_array_get(entry, 0));

        if (json_array_append(lists[id], json_array_get(entry, 1)) != 0) {
            rc = digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
            goto done;
        }
    }

    n = json_array_size(lists[DIGIN_TOKEN_OPT_FILE]);

    if (n == 0) {
        rc = digin_token_error(DIGIN_TOKEN_USAGE,
                               "jwks needs a KEYFILE (try digin-token help)");
        goto done;
    }

    if (json_array_size(lists[DIGIN_TOKEN_OPT_KID]) > n
        || json_array_size(lists[DIGIN_TOKEN_OPT_ALG]) > n)
    {
        rc = digin_token_error(DIGIN_TOKEN_USAGE,
                               "more --kid or --alg than KEYFILEs");
        goto done;
    }

    for (i = 0; i < n; i++) {
        path = json_string_value(json_array_get(lists[DIGIN_TOKEN_OPT_FILE],
                                                i));
        kid = json_string_value(json_array_get(lists[DIGIN_TOKEN_OPT_KID],
                                               i));
        alg_name = json_string_value(
                       json_array_get(lists[DIGIN_TOKEN_OPT_ALG], i));

        rc = digin_token_load_public(path, &pkey, &type);
        if (rc != DIGIN_TOKEN_OK) {
            goto done;
        }

        if (alg_name == NULL || alg_name[0] == '\0') {
            alg_name = EVP_PKEY_is_a(pkey, "RSA-PSS") ? "PS256" : type->alg;
        }

        alg = digin_token_alg(alg_name);

        /* as keygen: the key type's algorithms, the curve's one for EC */

        if (alg == NULL
            || alg->kty != type->kty
            || (alg->kty == DIGIN_TOKEN_KTY_EC
                && strcmp(alg->name, type->alg) != 0)
            || (EVP_PKEY_is_a(pkey, "RSA-PSS") && !alg->pss))
        {
            rc = digin_token_error(DIGIN_TOKEN_USAGE,
                                   "--alg \"%s\" does not fit the %s key "
                                   "in %s", alg_name,
                                   EVP_PKEY_get0_type_name(pkey), path);
            EVP_PKEY_free(pkey);
            goto done;
        }

        if (kid != NULL && kid[0] == '\0') {
            kid = NULL;
        }

        rc = digin_token_jwk_full(type, alg, kid, pkey, NULL, 0, &key);
        EVP_PKEY_free(pkey);

        if (rc != DIGIN_TOKEN_OK) {
            goto done;
        }

        if (json_array_append_new(keys, key) != 0) {
            rc = digin_token_error(DIGIN_TOKEN_FAILED, "out of memory");
            goto done;
        }

        /* a kid selects exactly one key */

        kid = json_string_value(json_object_get(key, "kid"));

        for (j = 0; j < i; j++) {
            other = json_string_value(
                        json_object_get(json_array_get(keys, j), "kid"));

            if (strcmp(kid, other) == 0) {
                rc = digin_token_error(DIGIN_TOKEN_USAGE,
                    "%s and %s have the same kid \"%s\"",
                    json_string_value(
                        json_array_get(lists[DIGIN_TOKEN_OPT_FILE], j)),
                    path, kid);
                goto done;
            }
        }
    }

    rc = digin_token_print_json(jwks);

done:

    json_decref(lists[DIGIN_TOKEN_OPT_ALG]);
    json_decref(lists[DIGIN_TOKEN_OPT_KID]);
    json_decref(lists[DIGIN_TOKEN_OPT_FILE]);
    json_decref(jwks);
    json_decref(repeated);

    return rc;
}
