#!/usr/bin/perl

# Every reason code: status, WWW-Authenticate, JSON body, the access
# log's $digin_result; variables of a token that passes; the token never
# reaching a response or the error log.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();

my $ISS = 'https://idp.test';
my $AUD = 'digin';

my $rsa = keygen('rsa', 'rsa', kid => 'k1', alg => 'RS256');
my $other = keygen('rsa', 'other', kid => 'k1', alg => 'RS256');

start_nginx(<<"EOF");
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    large_client_header_buffers 4 64k;

    digin_zone digin:1m;
    digin_issuer $ISS jwks=$rsa->{jwks} audience=$AUD library_claim=library;

    log_format digin '\$request_uri \$status \$digin_result';

    server {
        listen 127.0.0.1:%%PORT_front%%;
        access_log %%TESTDIR%%/logs/digin.log digin;

        location / {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
            %%ECHO_HEADERS%%
        }

        location /open/ {
            digin off;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
    }

    %%ECHO_BACKEND%%
}
EOF

my $now = time();
my (%tokens, @expected_log, @responses);
my $n = 0;

# a request on a path of its own, so that the access log can be checked
sub get {
    my ($token, $expect, %headers) = @_;

    my $uri = '/r/' . ++$n;
    $headers{Authorization} = "Bearer $token" if defined $token;
    $tokens{$token} = 1 if defined $token && length $token;

    my $r = http_get(port('front'), $uri, headers => \%headers);
    push @expected_log, [$uri, $expect];
    push @responses, $r if $r;

    return $r;
}

sub tok {
    my (%o) = @_;
    my %d = (key => $rsa->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => $AUD, sub => 'patron-1', library => 'lib-0301', ttl => 600);
    delete $d{ttl} if exists $o{exp} || $o{no_exp};
    return mint(%d, %o);
}

# a token with any header and payload, signed RS256 by $rsa
sub signed {
    my ($header, $payload, $key) = @_;
    return craft_token(header => $header, payload => $payload,
        sign => sub { openssl_sign(($key // $rsa)->{pem}, 'sha256', $_[0]) });
}

# $digin_result as the backend saw it, or the status of a refusal
sub result {
    my ($r) = @_;
    my $v = echo_vars($r);
    return $v ? $v->{result} : 'status ' . ($r ? $r->{status} : 'none');
}

my %claims = (iss => $ISS, aud => $AUD, sub => 'patron-1',
    exp => $now + 600, iat => $now);
my %header = (alg => 'RS256', kid => 'k1', typ => 'JWT');

# passes, with variables

my $good = tok();
my $r = get($good, 'ok');
is_deeply(echo_vars($r), { patron => 'patron-1', library => 'lib-0301',
    issuer => $ISS, result => 'ok' }, 'valid token: variables upstream');

$r = get($good, 'ok');
is((echo_vars($r) // {})->{patron}, 'patron-1', 'same token again (cached)');

$r = get(tok(sub => 'patron-2', library => undef), 'ok');
is_deeply(echo_vars($r), { patron => 'patron-2', library => '',
    issuer => $ISS, result => 'ok' }, 'no library claim: empty variable');

is(result(get(signed(\%header, \%claims), 'ok')), 'ok',
    'hand-signed token passes');

$r = http_get(port('front'), '/open/x');
is($r->{status}, 200, 'digin off: no token needed');

# token_missing

is_denied(get(undef, 'token_missing'), 'token_missing', 'no Authorization');
is_denied(get(undef, 'token_missing', Cookie => "digin=$good"),
    'token_missing', 'cookie without digin_token_cookie');

# token_malformed

my ($h64, $p64, $s64) = split /\./, $good;

for my $case (
    [ 'one segment', 'abcdef' ],
    [ 'two segments', "$h64.$p64" ],
    [ 'four segments', "$good.$s64" ],
    [ 'bad base64 in header', "$h64!.$p64.$s64" ],
    [ 'bad base64 in payload', "$h64.$p64*.$s64" ],
    [ 'header not JSON', b64url('{"alg":"RS256",') . ".$p64.$s64" ],
    [ 'header is an array', b64url('["RS256"]') . ".$p64.$s64" ],
    [ 'payload not JSON', "$h64." . b64url('exp=1') . ".$s64" ],
    [ 'duplicate header member',
      signed('{"alg":"RS256","kid":"k1","alg":"RS256"}', \%claims) ],
    [ 'duplicate payload member (signed)',
      signed(\%header, '{"aud":"digin","exp":' . ($now + 600)
          . ',"iss":"https://idp.test","sub":"patron-1","sub":"admin"}') ],
    [ 'crit header (signed)', tok(header_json => { crit => '["exp"]' }) ],
    [ 'empty header segment', ".$p64.$s64" ],
    [ 'payload nested 20 deep (signed)',
      signed(\%header, '{"aud":"digin","exp":' . ($now + 600)
          . ',"iss":"https://idp.test","sub":"patron-1","deep":'
          . ('[' x 20) . '1' . (']' x 20) . '}') ],
) {
    is_denied(get($case->[1], 'token_malformed'), 'token_malformed',
        "malformed: $case->[0]");
}

# token_too_large: the limit is 8k, a token of exactly 8192 bytes passes

# a token's length is never 1 more than a multiple of 4 past the header
# and signature, so a header member of 0 to 3 bytes moves the gap
my ($at, $over);

for my $fill (0 .. 3) {
    my $pad_token = sub {
        return tok(claim => { pad => 'x' x $_[0] },
            $fill ? (header_json => { x => '"' . 'y' x $fill . '"' }) : ());
    };
    my $base = length $pad_token->(6000);
    my $guess = 6000 + int((8192 - $base) * 3 / 4);

    for my $pad ($guess - 4 .. $guess + 4) {
        my $t = $pad_token->($pad);
        $at //= $t if length $t == 8192;
        $over //= $t if length $t == 8193;
    }
}

ok(defined $at && defined $over, 'tokens around the size limit');
is(result(get($at, 'ok')), 'ok', 'token of 8192 bytes passes');
is_denied(get($over, 'token_too_large'), 'token_too_large',
    'token of ' . length($over) . ' bytes');
is_denied(get(tok(claim => { pad => 'x' x 20000 }), 'token_too_large'),
    'token_too_large', 'token of 27k');

# times, with the default leeway of 30 s

is(result(get(tok(exp => $now - 10, iat => $now - 600), 'ok')),
    'ok', 'expired 10 s ago: within leeway');
is(result(get(tok(nbf => $now + 10), 'ok')), 'ok',
    'nbf 10 s ahead: within leeway');
is(result(get(tok(iat => $now + 10), 'ok')), 'ok',
    'iat 10 s ahead: within leeway');

is_denied(get(tok(exp => $now - 120, iat => $now - 600), 'token_expired'),
    'token_expired', 'expired 2 min ago');
is_denied(get(tok(exp => $now - 86400, iat => $now - 90000),
    'token_expired'), 'token_expired', 'expired yesterday');
is_denied(get(tok(nbf => $now + 120), 'token_not_yet_valid'),
    'token_not_yet_valid', 'nbf 2 min ahead');
is_denied(get(tok(iat => $now + 120), 'token_not_yet_valid'),
    'token_not_yet_valid', 'iat 2 min ahead');

# signature_invalid

my $flip = substr($s64, 20, 1) eq 'A' ? 'B' : 'A';
my $bad_sig = "$h64.$p64." . substr($s64, 0, 20) . $flip . substr($s64, 21);
is_denied(get($bad_sig, 'signature_invalid'), 'signature_invalid',
    'signature altered');

my $payload = json_decode((token_parts($good))[1]);
$payload->{sub} = 'someone-else';
is_denied(get("$h64." . b64url(json_encode($payload)) . ".$s64",
    'signature_invalid'), 'signature_invalid', 'payload altered');

is_denied(get("$h64.$p64.", 'signature_invalid'), 'signature_invalid',
    'signature empty');
is_denied(get(mint(key => $other->{pem}, alg => 'RS256', kid => 'k1',
    iss => $ISS, aud => $AUD, sub => 'patron-1', ttl => 600),
    'signature_invalid'), 'signature_invalid', 'signed by another key');

# issuer_unknown

is_denied(get(tok(iss => 'https://evil.test'), 'issuer_unknown'),
    'issuer_unknown', 'unknown iss');
is_denied(get(tok(iss => "$ISS/"), 'issuer_unknown'), 'issuer_unknown',
    'iss with a trailing slash');
my %no_iss = %claims;
delete $no_iss{iss};
is_denied(get(signed(\%header, \%no_iss), 'issuer_unknown'),
    'issuer_unknown', 'no iss');

# audience_mismatch

is(result(get(tok(aud => ['vendor', $AUD]), 'ok')), 'ok',
    'aud array holding the audience');
is_denied(get(tok(aud => 'vendor'), 'audience_mismatch'),
    'audience_mismatch', 'aud string');
is_denied(get(tok(aud => ['vendor', 'digin2']), 'audience_mismatch'),
    'audience_mismatch', 'aud array without the audience');
is_denied(get(tok(aud => []), 'audience_mismatch'),
    'audience_mismatch', 'no aud');

# algorithm_not_allowed

is_denied(get(craft_token(header => { alg => 'none', typ => 'JWT' },
    payload => \%claims), 'algorithm_not_allowed'),
    'algorithm_not_allowed', 'alg none');
is_denied(get(craft_token(header => { alg => 'none', kid => 'k1' },
    payload => \%claims, signature => (token_parts($good))[2]),
    'algorithm_not_allowed'), 'algorithm_not_allowed',
    'alg none with a signature');
is_denied(get(mint(key => $rsa->{pub}, alg => 'HS256', kid => 'k1',
    iss => $ISS, aud => $AUD, sub => 'patron-1', ttl => 600),
    'algorithm_not_allowed'), 'algorithm_not_allowed',
    'HS256 keyed with the public key');
is_denied(get(tok(alg => 'RS512'), 'algorithm_not_allowed'),
    'algorithm_not_allowed', 'RS512 with a key pinned to RS256');

# key_unknown

is_denied(get(tok(kid => 'k2'), 'key_unknown'), 'key_unknown', 'unknown kid');

# claim_invalid

is_denied(get(tok(no_exp => 1), 'claim_invalid'), 'claim_invalid', 'no exp');
is_denied(get(signed(\%header, { %claims, exp => 'tomorrow' }),
    'claim_invalid'), 'claim_invalid', 'exp not a number');

my %no_sub = %claims;
delete $no_sub{sub};
is_denied(get(signed(\%header, \%no_sub), 'claim_invalid'), 'claim_invalid',
    'no sub');
is_denied(get(tok(claim_json => { sub => '42' }), 'claim_invalid'),
    'claim_invalid', 'sub a number');
is_denied(get(tok(claim_json => { sub => '"a\r\nX-Injected: 1"' }),
    'claim_invalid'), 'claim_invalid', 'sub with CR LF');
is_denied(get(tok(claim_json => { sub => '"a\u0001b"' }), 'claim_invalid'),
    'claim_invalid', 'sub with a control character');
is_denied(get(tok(sub => ''), 'claim_invalid'), 'claim_invalid',
    'sub empty');

# the access log holds $digin_result of every request

my $log_re = join '', map { "\Q$_->[0]\E \\d+ (\\S+)\n" } @expected_log;
my $log = wait_until(sub {
    my $text = read_file(prefix() . '/logs/digin.log') // '';
    my @lines = split /\n/, $text;
    return @lines >= @expected_log ? $text : undef;
}, timeout => 5) // '';

my %logged = $log =~ m{^(\S+) \d+ (\S+)$}mg;
is_deeply([ map { $logged{ $_->[0] } // '-' } @expected_log ],
    [ map { $_->[1] } @expected_log ], 'access log $digin_result');

# the token goes nowhere

my @secrets;
for my $t (keys %tokens) {
    my @seg = split /\./, $t;
    push @secrets, $t;
    push @secrets, grep { defined && length > 40 } @seg[1, 2];
}

my $err = error_log_text();
my @in_log = grep { index($err, $_) >= 0 } @secrets;
ok(!@in_log, 'no token content in error.log')
    or diag("found: " . substr($in_log[0], 0, 60));

my @in_answer;
for my $resp (@responses) {
    push @in_answer, grep { index($resp->{raw}, $_) >= 0 } @secrets;
}
ok(!@in_answer, 'no token content in responses');

like($err, qr/\[notice\]/, 'error.log was read');

done_testing();
