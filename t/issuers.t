#!/usr/bin/perl

# Several issuers at once, each with its own keys, audience and claims;
# a token of one issuer is never accepted on the keys of another.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();

my $A = 'https://idp.library.test';
my $B = 'https://login.school.test';

my $ka = keygen('rsa', 'a', kid => 'a1', alg => 'RS256');
my $kb = keygen('ec', 'b', kid => 'b1', alg => 'ES256');
my $kb_other = keygen('ec', 'b-other', kid => 'b1', alg => 'ES256');

start_nginx(<<"EOF");
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;

    digin_issuer $A jwks=$ka->{jwks} audience=digin-a
                 library_claim=library;
    digin_issuer $B key=$kb->{pub} kid=b1 audience=digin-b
                 algorithms=ES256 patron_claim=pid library_claim=school;

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

sub tok_a {
    return mint(key => $ka->{pem}, alg => 'RS256', kid => 'a1', iss => $A,
        aud => 'digin-a', sub => 'lib-patron', library => 'lib-0301',
        ttl => 600, @_);
}

sub tok_b {
    return mint(key => $kb->{pem}, alg => 'ES256', kid => 'b1', iss => $B,
        aud => 'digin-b', sub => 'feide:pupil@school.test',
        claim => { pid => 'pupil-7', school => 'vgs-12' }, ttl => 600, @_);
}

# each issuer with its own claims

is_deeply(echo_vars(get(tok_a())), { patron => 'lib-patron',
    library => 'lib-0301', issuer => $A, result => 'ok' },
    'issuer A: sub and library');

is_deeply(echo_vars(get(tok_b())), { patron => 'pupil-7', library => 'vgs-12',
    issuer => $B, result => 'ok' }, 'issuer B: pid and school');

is_deeply(echo_vars(get(tok_b(library => 'not-this'))), { patron => 'pupil-7',
    library => 'vgs-12', issuer => $B, result => 'ok' },
    'issuer B: the library claim is the configured one');

is_deeply(echo_vars(get(tok_a(claim => { pid => 'x', school => 'y' }))),
    { patron => 'lib-patron', library => 'lib-0301', issuer => $A,
      result => 'ok' }, 'issuer A: the claims of B mean nothing');

is_denied(get(tok_b(claim => { school => 'vgs-12' })), 'claim_invalid',
    'issuer B: no pid, though sub is there');
is_denied(get(tok_b(claim => { pid => "pupil\n7", school => 'vgs-12' })),
    'claim_invalid', 'issuer B: pid with a newline');

# audiences do not cross

is_denied(get(tok_a(aud => 'digin-b')), 'audience_mismatch',
    'issuer A with the audience of B');
is_denied(get(tok_b(aud => 'digin-a')), 'audience_mismatch',
    'issuer B with the audience of A');
is(echo_vars(get(tok_b(aud => ['digin-a', 'digin-b'])))->{issuer}, $B,
    'issuer B, both audiences');

# keys do not cross

is_denied(get(mint(key => $kb->{pem}, alg => 'ES256', kid => 'b1', iss => $A,
    aud => 'digin-a', sub => 'x', ttl => 600)), 'key_unknown',
    'iss A, signed with the key of B (kid b1)');

is_denied(get(mint(key => $kb->{pem}, alg => 'ES256', kid => 'a1', iss => $A,
    aud => 'digin-a', sub => 'x', ttl => 600)), 'algorithm_not_allowed',
    'iss A, signed with the key of B (kid a1)');

is_denied(get(mint(key => $ka->{pem}, alg => 'RS256', kid => 'a1', iss => $B,
    aud => 'digin-b', claim => { pid => 'x' }, ttl => 600)),
    'algorithm_not_allowed', 'iss B, signed with the key of A');

is_denied(get(mint(key => $ka->{pem}, alg => 'RS256', kid => 'b1', iss => $B,
    aud => 'digin-b', claim => { pid => 'x' }, ttl => 600)),
    'algorithm_not_allowed', 'iss B, signed with the key of A (kid b1)');

is_denied(get(tok_b(key => $kb_other->{pem})), 'signature_invalid',
    'iss B, signed with another EC key of kid b1');

is_denied(get(tok_a(iss => 'https://idp.library.test/other')),
    'issuer_unknown', 'a third issuer');

done_testing();
