#!/usr/bin/perl

# digin_leeway and digin_token_max_size set to other than their
# defaults (30s and 8k, which t/reasons.t covers).

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();

my $ISS = 'https://idp.test';
my $key = keygen('ed25519', 'ed', kid => 'd1', alg => 'EdDSA');

start_nginx(<<"EOF");
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_issuer $ISS jwks=$key->{jwks} audience=digin;
    digin_leeway 2m;
    digin_token_max_size 1k;

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

my $now = time();

sub get {
    my (%o) = @_;
    my %d = (key => $key->{pem}, alg => 'EdDSA', kid => 'd1', iss => $ISS,
        aud => 'digin', sub => 'p', ttl => 600);
    delete $d{ttl} if exists $o{exp};
    my $t = mint(%d, %o);
    return (http_get(port('front'), '/',
        headers => { Authorization => "Bearer $t" }), length $t);
}

sub passes {
    my ($name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($r) = get(%o);
    is((echo_vars($r) // {})->{result}, 'ok', $name);
}

# leeway 2m

passes('expired 90 s ago: within 2m', exp => $now - 90, iat => $now - 600);
passes('nbf 90 s ahead: within 2m', nbf => $now + 90);
is_denied((get(exp => $now - 200, iat => $now - 600))[0], 'token_expired',
    'expired 200 s ago');
is_denied((get(nbf => $now + 200))[0], 'token_not_yet_valid',
    'nbf 200 s ahead');

# max size 1k

my ($r, $len) = get(claim => { pad => 'x' x 400 });
cmp_ok($len, '<=', 1024, 'token under 1k');
is((echo_vars($r) // {})->{result}, 'ok', 'token under 1k passes');

($r, $len) = get(claim => { pad => 'x' x 800 });
cmp_ok($len, '>', 1024, 'token over 1k');
is_denied($r, 'token_too_large', 'token over 1k');

done_testing();
