#!/usr/bin/perl

# Signature algorithms: each one accepted with the right key; keys pinned
# to their type, curve and JWK "alg"; alg confusion; DER ECDSA
# signatures; the algorithms= list; PEM keys with key= and kid=.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();

my $AUD = 'digin';
my $now = time();

my %keys;       # kid => key

for my $k (
    [ rsa => 'RS256' ], [ rsa => 'RS384' ], [ rsa => 'RS512' ],
    [ rsa => 'PS256' ], [ rsa => 'PS384' ], [ rsa => 'PS512' ],
    [ ec => 'ES256' ], [ ec384 => 'ES384' ], [ ec521 => 'ES512' ],
    [ ed25519 => 'EdDSA' ],
    [ oct => 'HS256' ], [ oct => 'HS384' ], [ oct => 'HS512' ],
) {
    my ($type, $alg) = @$k;
    my $kid = lc $alg;
    $keys{$kid} = keygen($type, $kid, kid => $kid, alg => $alg);
    is($keys{$kid}{jwk}{alg}, $alg, "keygen $type: JWK alg $alg");
    is($keys{$kid}{jwk}{kid}, $kid, "keygen $type: JWK kid");
}

# an RSA key whose JWK names no algorithm: any RSA algorithm fits it
$keys{'rsa-any'} = keygen('rsa', 'rsa-any', kid => 'rsa-any');
delete $keys{'rsa-any'}{jwk}{alg};

sub jwks {
    my ($name, @kids) = @_;
    my $file = prefix() . "/keys/$name.json";
    my @jwks = map { $keys{$_}{jwk} } @kids;
    write_file($file, json_encode({ keys => \@jwks }));
    return $file;
}

my $asym = jwks('asym', grep { !/^hs/ } sort keys %keys);
my $hmac = jwks('hmac', qw(hs256 hs384 hs512));
my $rs256 = jwks('rs256-only', 'rs256');

start_nginx(<<"EOF");
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_issuer https://asym.test jwks=$asym audience=$AUD;
    digin_issuer https://hmac.test jwks=$hmac audience=$AUD
                 algorithms=HS256,HS384,HS512;
    digin_issuer https://confused.test jwks=$rs256 audience=$AUD
                 algorithms=RS256,HS256;
    digin_issuer https://es-only.test jwks=$asym audience=$AUD
                 algorithms=ES256;
    digin_issuer https://pem.test key=$keys{rs256}{pub} kid=pem-1
                 audience=$AUD;
    digin_issuer https://pem-confused.test key=$keys{rs256}{pub} kid=pem-2
                 audience=$AUD algorithms=RS256,HS256;
    digin_issuer https://ed-pem.test key=$keys{eddsa}{pub} kid=ed-pem
                 audience=$AUD;
    digin_issuer https://no-kid.test key=$keys{rs256}{pub} audience=$AUD;

    server {
        listen 127.0.0.1:%%PORT_front%%;
        location / {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
            %%ECHO_HEADERS%%
        }
    }

    %%ECHO_BACKEND%%
}
EOF

sub get {
    my ($token) = @_;
    return bearer_get($token, '/');
}

# mint(kid => ...) with the key of that kid unless key/alg are given
sub tok {
    my (%o) = @_;
    my $kid = $o{kid};
    my $k = $keys{ $o{signer} // $kid };
    delete $o{signer};
    return mint(key => $k->{key}, alg => $k->{alg}, iss => 'https://asym.test',
        aud => $AUD, sub => "patron-$kid", ttl => 600, %o);
}

sub passes {
    my ($token, $iss, $patron, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = get($token);
    is_deeply(echo_vars($r), { patron => $patron, library => '',
        issuer => $iss, result => 'ok' }, $name)
        or diag("status $r->{status}: $r->{body}");
}

# each algorithm with its key

for my $alg (qw(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512
                EdDSA))
{
    my $kid = lc $alg;
    passes(tok(kid => $kid), 'https://asym.test', "patron-$kid", "$alg");
}

for my $alg (qw(HS256 HS384 HS512)) {
    my $kid = lc $alg;
    passes(tok(kid => $kid, iss => 'https://hmac.test'), 'https://hmac.test',
        "patron-$kid", "$alg with an oct JWK");
}

passes(tok(kid => 'rsa-any', alg => 'RS256'), 'https://asym.test',
    'patron-rsa-any', 'JWK without alg: RS256');
passes(tok(kid => 'rsa-any', alg => 'PS384'), 'https://asym.test',
    'patron-rsa-any', 'JWK without alg: PS384');

# keys pinned by type, curve and alg

my %cross = (
    'ES256 token, kid of an RSA key' =>
        tok(kid => 'rs256', signer => 'es256'),
    'RS256 token, kid of an EC key' =>
        tok(kid => 'es256', signer => 'rs256'),
    'ES256 token, kid of a P-384 key' =>
        tok(kid => 'es384', signer => 'es256'),
    'EdDSA token, kid of an EC key' =>
        tok(kid => 'es256', signer => 'eddsa'),
    'ES256 token, kid of an Ed25519 key' =>
        tok(kid => 'eddsa', signer => 'es256'),
    'RS384 token, kid of a key pinned to RS256' =>
        tok(kid => 'rs256', alg => 'RS384'),
    'PS256 token, kid of a key pinned to RS256' =>
        tok(kid => 'rs256', alg => 'PS256'),
    'RS256 token, kid of a key pinned to PS256' =>
        tok(kid => 'ps256', alg => 'RS256'),
    'HS256 token at an issuer without HS256' =>
        tok(kid => 'hs256'),
    'RS256 token at an HMAC issuer' =>
        tok(kid => 'rs256', iss => 'https://hmac.test'),
    'HS384 token, kid of an HS256 key' =>
        tok(kid => 'hs256', alg => 'HS384', iss => 'https://hmac.test'),
);

for my $name (sort keys %cross) {
    is_denied(get($cross{$name}), 'algorithm_not_allowed', $name);
}

# alg confusion: an HMAC token keyed with the public key, where HS256 is
# listed, is still never checked against the public key

for my $case (
    [ 'HS256 keyed with the RSA public PEM, kid of the RSA key',
      'https://confused.test', $keys{rs256}{pub}, 'rs256' ],
    [ 'HS256 keyed with the RSA public PEM, no kid',
      'https://confused.test', $keys{rs256}{pub}, undef ],
    [ 'HS256 keyed with the JWKS file',
      'https://confused.test', $rs256, 'rs256' ],
    [ 'HS256 keyed with the PEM of key=',
      'https://pem-confused.test', $keys{rs256}{pub}, 'pem-2' ],
) {
    my ($name, $iss, $file, $kid) = @$case;
    my $t = mint(key => $file, alg => 'HS256', iss => $iss, aud => $AUD,
        sub => 'mallory', ttl => 600, defined $kid ? (kid => $kid) : ());
    is_denied(get($t), 'algorithm_not_allowed', $name);
}

passes(tok(kid => 'rs256', iss => 'https://confused.test'),
    'https://confused.test', 'patron-rs256', 'RS256 where HS256 is listed too');

# ECDSA signatures are R||S; the DER form of the same signature fails

my %claims = (iss => 'https://asym.test', aud => $AUD, sub => 'patron-der',
    exp => $now + 600);

for my $c ([ 'es256', 'sha256', 32 ], [ 'es384', 'sha384', 48 ],
           [ 'es512', 'sha512', 66 ])
{
    my ($kid, $md, $size) = @$c;
    my $hdr = { alg => uc $kid, kid => $kid, typ => 'JWT' };
    my $der;
    my $sign = sub { $der = openssl_sign($keys{$kid}{pem}, $md, $_[0]) };

    my $t_der = craft_token(header => $hdr, payload => \%claims,
        sign => $sign);
    my $t_raw = craft_token(header => $hdr, payload => \%claims,
        sign => sub { der_to_raw($sign->($_[0]), $size) });

    passes($t_raw, 'https://asym.test', 'patron-der',
        uc($kid) . ' R||S signed with openssl');
    is_denied(get($t_der), 'signature_invalid', uc($kid) . ' DER signature');

    my ($h, $p, $s) = split /\./, $t_raw;
    my $short = b64url(substr(b64url_decode($s), 0, 2 * $size - 1));
    is_denied(get("$h.$p.$short"), 'signature_invalid',
        uc($kid) . ' R||S one byte short');
}

# the algorithms= list

passes(tok(kid => 'es256', iss => 'https://es-only.test'),
    'https://es-only.test', 'patron-es256', 'algorithms=ES256: ES256');
is_denied(get(tok(kid => 'rs256', iss => 'https://es-only.test')),
    'algorithm_not_allowed', 'algorithms=ES256: RS256');
is_denied(get(tok(kid => 'es384', iss => 'https://es-only.test')),
    'algorithm_not_allowed', 'algorithms=ES256: ES384');
is_denied(get(tok(kid => 'rs256', iss => 'https://hmac.test')),
    'algorithm_not_allowed', 'algorithms=HS*: RS256');

# PEM keys with key= and kid=

passes(tok(kid => 'pem-1', signer => 'rs256', iss => 'https://pem.test'),
    'https://pem.test', 'patron-pem-1', 'RSA PEM with kid');
is_denied(get(tok(kid => 'rs256', iss => 'https://pem.test')),
    'key_unknown', 'RSA PEM, other kid');
is_denied(get(tok(kid => 'pem-1', signer => 'rs512', alg => 'RS256',
    iss => 'https://pem.test')), 'signature_invalid',
    'RSA PEM, signed by another key');
is_denied(get(tok(kid => 'pem-1', signer => 'es256',
    iss => 'https://pem.test')), 'algorithm_not_allowed',
    'RSA PEM, ES256 token');
passes(tok(kid => 'ed-pem', signer => 'eddsa', iss => 'https://ed-pem.test'),
    'https://ed-pem.test', 'patron-ed-pem', 'Ed25519 PEM with kid');

# a key without a kid is the issuer's only key: a token's kid does not
# choose among keys that have none
passes(tok(kid => 'rs256', iss => 'https://no-kid.test'),
    'https://no-kid.test', 'patron-rs256', 'PEM without kid, token with kid');
passes(mint(key => $keys{rs256}{key}, alg => 'RS256',
        iss => 'https://no-kid.test', aud => $AUD, sub => 'patron-rs256'),
    'https://no-kid.test', 'patron-rs256', 'PEM without kid, token without');
is_denied(get(tok(kid => 'ps256', iss => 'https://no-kid.test')),
    'signature_invalid', 'PEM without kid, token signed by another key');

done_testing();
