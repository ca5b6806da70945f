#!/usr/bin/perl

# Hostile input: a table of attacks on the gate, each a named test
# (SECURITY.md maps every threat to these names).  Tokens are crafted by
# hand where digin-token would refuse to make them; those that should
# fail only for the reason under test carry a good RS256 signature.
#
#   A  algorithms: alg none, HS256 keyed with the RSA public key
#   K  kid: path traversal, SQL-ish text, NUL, size, type
#   U  jku, x5u, jwk, x5c: never fetched (a local listener sees no
#      connection), never trusted
#   C  crit
#   D  duplicate JSON members
#   N  numbers: huge, negative, not numbers
#   J  structure: nesting depth, invalid UTF-8, \u0000, base64url that is
#      not canonical, JWE shape
#   S  signatures: ECDSA in DER form, a cached token with its bytes
#      changed (forged cache-key collisions), an expired token cached
#      while it was valid
#   F  a flood of distinct invalid tokens: the zone does not fill, the
#      time per bad token is reported (wrk)
#   H  headers: claims with CR/LF or non-ASCII, a forged identity
#      header, oversized headers and cookies (4xx, never 5xx), 1 MB
#      tokens, NUL bytes, query arguments
#   R  a Redis answering an oversized library record (503, no crash)

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;
use Digin::FakeRedis;
use Digin::Load;

use Time::HiRes qw(time);

require_module();
require_tool();
require_admin();

my $ISS = 'https://idp.test';
my $AUD = 'digin';
my $now = time();

my $k1 = keygen('rsa', 'k1', kid => 'k1', alg => 'RS256');
my $ec = keygen('ec', 'ec1', kid => 'ec1', alg => 'ES256');
my $evil = keygen('rsa', 'evil', kid => 'evil', alg => 'RS256');

my $jwks = merge_jwks(prefix() . '/keys/trusted.jwks.json',
                      $k1->{jwks}, $ec->{jwks});

my $redis = start_redis();

load_document($redis, {
    version   => 1,
    vendors   => { bokskya => { name => 'Bokskya', media => ['ebook'] } },
    packages  => { basis => { name => 'Basis', vendors => ['bokskya'] } },
    libraries => { '0301' => { name => 'Deichman', county => '03',
                               packages => ['basis'] },
                   '0302' => { name => 'Bergen', county => '46',
                               packages => ['basis'] } },
});

# a listener where jku and x5u point: counts every connection
my $lure = Digin::FakeRedis->start(mode => 'silent');
my $LURE = 'http://127.0.0.1:' . $lure->port;
# its start's readiness check connects once, counted when accepted
wait_until(sub { $lure->connections >= 1 });
my $lured = $lure->connections;

my $rec = start_recorder(protocol => 'http');

start_nginx(<<"EOF");
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
worker_processes 1;
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    # small: a few hundred answers; a flood that were kept would evict
    digin_zone digin:64k;
    digin_leeway 1s;
    digin_issuer $ISS jwks=$jwks audience=$AUD library_claim=library
                 algorithms=RS256,ES256,HS256;
    digin_redis 127.0.0.1:$redis->{port};
    digin_cache_ttl 1h negative=1h;
    digin_token_cookie digin_token;

    server {
        listen 127.0.0.1:%%PORT_front%%;

        location / {
            digin on;
            proxy_pass http://127.0.0.1:$rec->{port};
            proxy_set_header X-Patron \$digin_patron;
            proxy_set_header X-Library \$digin_library;
            proxy_set_header X-Result \$digin_result;
        }
        location /vendor/ {
            digin_vendor bokskya;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location = /status {
            digin_status;
        }
    }

    # room for large headers: tokens over digin_token_max_size reach
    # the module
    server {
        listen 127.0.0.1:%%PORT_big%%;
        large_client_header_buffers 4 64k;

        location / {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_back%%;
        access_log off;
        location / { return 200 "ok\\n"; }
    }
}
EOF


# tokens

my %claims = (iss => $ISS, aud => $AUD, sub => 'mallory',
              exp => int($now) + 600, iat => int($now) - 10);
my %header = (alg => 'RS256', kid => 'k1', typ => 'JWT');

sub rs256 {
    my ($keyfile) = @_;
    return sub { openssl_sign($keyfile, 'sha256', $_[0]) };
}

# header and payload as given (hashes, or raw JSON text), signed RS256
# by k1 (or by $o{key})
sub signed {
    my ($h, $p, %o) = @_;
    return craft_token(header => $h, payload => $p,
        sign => rs256($o{key} // $k1->{pem}));
}

sub tok {
    my (%o) = @_;
    $o{ttl} //= 600 unless defined $o{exp};
    return mint(key => $k1->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => $AUD, sub => 'patron-1', %o);
}

sub payload_json {
    my (%extra) = @_;
    return json_encode({ %claims, %extra });
}

sub get {
    my ($token, %o) = @_;
    return http_get(port($o{port} // 'front'), $o{uri} // '/x',
        headers => defined $token ? { Authorization => "Bearer $token" }
                                  : {},
        %o);
}

# the denial of every row, with its reason
sub attack {
    my ($name, $token, $reason) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_denied(get($token), $reason, $name);
}

sub passes {
    my ($name, $token) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = get($token);
    is($r ? $r->{status} : undef, 200, $name)
        or diag($r ? "status $r->{status}: $r->{body}" : "no answer: $@");
}

# a 4xx from nginx or the module, never a 5xx or no answer
sub answers_4xx {
    my ($name, $r) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok($r && $r->{status} >= 400 && $r->{status} < 500,
        "$name: 4xx (" . ($r ? $r->{status} : 'no answer') . ')');
}

# the base64url text of $bytes with its last character moved to the
# next one that decodes to the same bytes (the unused low bits set)
sub noncanonical {
    my ($b64) = @_;
    my $alphabet = join '', 'A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_';
    my $rem = length($b64) % 4;
    return undef unless $rem == 2 || $rem == 3;   # no unused bits else
    my $last = substr($b64, -1);
    my $i = index($alphabet, $last);
    return substr($b64, 0, -1) . substr($alphabet, $i + 1, 1);
}

my $good = tok();
passes('baseline: a good token passes', $good);


###########################################################################
# A: algorithms (more in t/algorithms.t and t/reasons.t)

attack('A01 alg none, no signature',
    craft_token(header => { alg => 'none', typ => 'JWT' },
                payload => \%claims),
    'algorithm_not_allowed');

attack('A02 alg none, with a valid RS256 signature appended',
    signed({ alg => 'none', kid => 'k1' }, \%claims),
    'algorithm_not_allowed');

for my $alg ('None', 'NONE', 'nOnE', 'none ', '') {
    attack("A03 alg \"$alg\"",
        craft_token(header => { alg => $alg }, payload => \%claims),
        'algorithm_not_allowed');
}

attack('A04 HS256 keyed with the RSA public key PEM, kid of the RSA key',
    craft_token(header => { alg => 'HS256', kid => 'k1' },
                payload => \%claims,
                sign => sub { hmac_sign('HS256', read_file($k1->{pub}),
                                        $_[0]) }),
    'algorithm_not_allowed');

attack('A05 HS256 keyed with the RSA public key PEM, no kid',
    craft_token(header => { alg => 'HS256' }, payload => \%claims,
                sign => sub { hmac_sign('HS256', read_file($k1->{pub}),
                                        $_[0]) }),
    'algorithm_not_allowed');

attack('A06 HS256 keyed with the JWKS text',
    craft_token(header => { alg => 'HS256', kid => 'k1' },
                payload => \%claims,
                sign => sub { hmac_sign('HS256', read_file($jwks), $_[0]) }),
    'algorithm_not_allowed');

attack('A07 RS256 token naming the EC key',
    signed({ alg => 'RS256', kid => 'ec1' }, \%claims),
    'algorithm_not_allowed');


###########################################################################
# K: kid

for my $kid ('../../../../etc/passwd', '/dev/null', 'k1/../k1', './k1',
             "' OR '1'='1", 'k1\'; DROP TABLE keys; --', 'k1 ', 'K1',
             'k1%00', '${jndi:ldap://127.0.0.1/x}', 'x' x 256)
{
    my $shown = length $kid > 40 ? substr($kid, 0, 10) . '... (256 bytes)'
                                 : $kid;
    attack("K01 kid \"$shown\"", signed({ %header, kid => $kid }, \%claims),
        'key_unknown');
}

attack('K02 kid with a NUL (\\u0000)',
    signed('{"alg":"RS256","kid":"k1\u0000x"}', \%claims),
    'token_malformed');
attack('K03 kid of 257 bytes', signed({ %header, kid => 'x' x 257 }, \%claims),
    'token_malformed');
attack('K04 kid empty', signed({ %header, kid => '' }, \%claims),
    'token_malformed');
attack('K05 kid a number', signed('{"alg":"RS256","kid":1}', \%claims),
    'token_malformed');
attack('K06 kid an array', signed('{"alg":"RS256","kid":["k1"]}', \%claims),
    'token_malformed');


###########################################################################
# U: keys and URLs in the header are never fetched nor trusted

my $evil_jwk = $evil->{jwk};

attack('U01 jku to a local listener, signed by another key, its kid',
    signed({ alg => 'RS256', kid => 'evil', jku => "$LURE/jwks.json" },
           \%claims, key => $evil->{pem}),
    'key_unknown');
attack('U02 jku to a local listener, signed by another key, no kid',
    signed({ alg => 'RS256', jku => "$LURE/jwks.json" }, \%claims,
           key => $evil->{pem}),
    'signature_invalid');
attack('U03 x5u to a local listener, signed by another key',
    signed({ alg => 'RS256', x5u => "$LURE/cert.pem" }, \%claims,
           key => $evil->{pem}),
    'signature_invalid');
attack('U04 jwk header holding the signing key',
    signed({ alg => 'RS256', jwk => $evil_jwk }, \%claims,
           key => $evil->{pem}),
    'signature_invalid');
attack('U05 jwk header holding the signing key, kid of the trusted key',
    signed({ alg => 'RS256', kid => 'k1', jwk => $evil_jwk }, \%claims,
           key => $evil->{pem}),
    'signature_invalid');

# x5c: a self-signed certificate of the signing key
my $cert = prefix() . '/keys/evil.crt';
system('openssl', 'req', '-x509', '-new', '-key', $evil->{pem}, '-out', $cert,
       '-days', '1', '-subj', '/CN=' . $ISS =~ s{.*/}{}r) == 0
    or die "openssl req failed";
my ($der64) = read_file($cert) =~ /-----BEGIN CERTIFICATE-----(.*?)-----END/s;
$der64 =~ s/\s+//g;

attack('U06 x5c with a certificate of the signing key',
    signed({ alg => 'RS256', x5c => [ $der64 ] }, \%claims,
           key => $evil->{pem}),
    'signature_invalid');

passes('U07 a good token carrying jku, x5u and jwk passes (they are ignored)',
    signed({ %header, jku => "$LURE/jwks.json", x5u => "$LURE/cert.pem",
             jwk => $evil_jwk }, \%claims));

# give a fetch, were there one, time to connect
ok(!wait_until(sub { $lure->connections > $lured }, timeout => 1),
    'U08 the jku/x5u listener got no connection');


###########################################################################
# C: crit

attack('C01 crit ["exp"]', signed({ %header, crit => ['exp'] }, \%claims),
    'token_malformed');
attack('C02 crit ["b64"] with b64 false',
    signed({ %header, crit => ['b64'], b64 => JSON::PP::false() },
           \%claims),
    'token_malformed');
attack('C03 crit []', signed({ %header, crit => [] }, \%claims),
    'token_malformed');
attack('C04 crit "exp" (not an array)',
    signed({ %header, crit => 'exp' }, \%claims), 'token_malformed');


###########################################################################
# D: duplicate members

attack('D01 duplicate alg in the header (RS256, then none)',
    signed('{"alg":"RS256","kid":"k1","alg":"none"}', \%claims),
    'token_malformed');
attack('D02 duplicate kid in the header',
    signed('{"alg":"RS256","kid":"nope","kid":"k1"}', \%claims),
    'token_malformed');
attack('D03 duplicate sub in the payload',
    signed(\%header, substr(payload_json(), 0, -1) . ',"sub":"admin"}'),
    'token_malformed');
attack('D04 duplicate exp in the payload',
    signed(\%header, substr(payload_json(), 0, -1)
                     . ',"exp":' . (int($now) + 999999) . '}'),
    'token_malformed');
attack('D05 duplicate iss in the payload',
    signed(\%header, substr(payload_json(), 0, -1)
                     . ',"iss":"https://evil.test"}'),
    'token_malformed');


###########################################################################
# N: numbers

sub with_claim {
    my ($name, $json) = @_;
    my $p = payload_json();
    $p =~ s/"\Q$name\E":[^,}]+/"$name":$json/ or $p =~ s/\}$/,"$name":$json}/;
    return signed(\%header, $p);
}

attack('N01 exp 1e400 (beyond a double)', with_claim('exp', '1e400'),
    'token_malformed');
attack('N02 exp 99999999999999999999999 (beyond an integer)',
    with_claim('exp', '99999999999999999999999'), 'token_malformed');
attack('N03 exp -1e300', with_claim('exp', '-1e300'), 'token_expired');
attack('N04 exp -9223372036854775808', with_claim('exp',
    '-9223372036854775808'), 'token_expired');
attack('N05 nbf 1e300', with_claim('nbf', '1e300'), 'token_not_yet_valid');
attack('N06 iat 9223372036854775807', with_claim('iat',
    '9223372036854775807'), 'token_not_yet_valid');
attack('N07 exp a string of digits', with_claim('exp', '"9999999999"'),
    'claim_invalid');
attack('N08 exp true', with_claim('exp', 'true'), 'claim_invalid');
attack('N09 exp null', with_claim('exp', 'null'), 'claim_invalid');
attack('N10 exp NaN (not JSON)', with_claim('exp', 'NaN'), 'token_malformed');
# an issuer may sign a token that never expires: far dates are clamped,
# never overflow (and the cache keeps it no longer than it would any)
passes('N11 exp 1e300 signed by the issuer passes (clamped)',
    with_claim('exp', '1e300'));


###########################################################################
# J: structure

my $deep8 = '[' x 7 . '1' . ']' x 7;     # the payload object is level 1
my $deep9 = '[' x 8 . '1' . ']' x 8;

passes('J01 a claim nested 8 deep passes', with_claim('x', $deep8));
attack('J02 a claim nested 9 deep', with_claim('x', $deep9),
    'token_malformed');
attack('J03 2000 levels of nesting (within the size limit)',
    with_claim('x', '[' x 2000 . ']' x 2000), 'token_malformed');
attack('J04 a header nested 9 deep',
    signed('{"alg":"RS256","kid":"k1","x":' . $deep9 . '}', \%claims),
    'token_malformed');
attack('J05 \\u0000 in sub', with_claim('sub', '"a\u0000b"'),
    'token_malformed');
attack('J06 invalid UTF-8 (0xff) in a claim',
    signed(\%header, substr(payload_json(), 0, -1) . ",\"x\":\"\xff\"}"),
    'token_malformed');
attack('J07 overlong UTF-8 (0xc0 0xaf) in sub',
    signed(\%header, payload_json(sub => 'PLACEHOLDER')
                     =~ s/PLACEHOLDER/a\xc0\xafb/r),
    'token_malformed');
attack('J08 a lone surrogate (\\ud800) in sub',
    with_claim('sub', '"\ud800"'), 'token_malformed');
attack('J09 invalid UTF-8 in the header',
    signed("{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\":\"\xfe\"}", \%claims),
    'token_malformed');

my ($gh, $gp, $gs) = split /\./, $good;

attack('J10 base64url with padding', "$gh==.$gp.$gs", 'token_malformed');
# a header whose encoding holds "-" or "_", signed, then with those
# written the way standard base64 writes them
my ($std_h, $std_rest);
for my $pad ('~', '~~', '~~~', '?>', '??>') {
    my $t = signed({ %header, x => $pad }, \%claims);
    ($std_h, $std_rest) = split /\./, $t, 2;
    last if $std_h =~ /[-_]/;
}
attack('J11 base64 "+" and "/" instead of "-" and "_" (signed)',
    ($std_h =~ tr{-_}{+/}r) . ".$std_rest", 'token_malformed');
attack('J12 a space inside the token', "$gh. $gp.$gs", 'token_malformed');

my $gp_nc = noncanonical($gp);
my $payload_for_nc = $gp;
if (!defined $gp_nc) {
    # a payload whose length leaves unused bits in its last character
    my $p = payload_json(pad => 'x');
    $p = payload_json(pad => 'xx') if length(b64url($p)) % 4 == 0;
    my $t = signed(\%header, $p);
    (undef, $payload_for_nc) = split /\./, $t;
    $gp_nc = noncanonical($payload_for_nc);
}
attack('J13 payload in a non-canonical encoding (unused bits set)',
    "$gh.$gp_nc.$gs", 'token_malformed');
attack('J14 five segments (the shape of a JWE)', "$good.e30.e30",
    'token_malformed');
attack('J15 a trailing dot', "$good.", 'token_malformed');


###########################################################################
# S: signatures and the cache of verified tokens

# ECDSA: the DER form of a good signature (RFC 7518 wants R||S)
my %ech = (alg => 'ES256', kid => 'ec1');
attack('S01 ES256 signature in DER form',
    craft_token(header => \%ech, payload => \%claims,
                sign => sub { openssl_sign($ec->{pem}, 'sha256', $_[0]) }),
    'signature_invalid');
passes('S02 the same signature as R||S passes',
    craft_token(header => \%ech, payload => \%claims,
                sign => sub { der_to_raw(openssl_sign($ec->{pem}, 'sha256',
                                                      $_[0]), 32) }));

# a token verified once is cached under the hash of all its bytes;
# nothing but those bytes may reach that answer
passes('S03 the good token again (now from the cache)', $good);

my $other_sig = (split /\./, tok(sub => 'someone-else'))[2];
attack('S04 cached token, signature of another token', "$gh.$gp.$other_sig",
    'signature_invalid');

my $flip = b64url_decode($gs);
substr($flip, 10, 1) = chr(ord(substr($flip, 10, 1)) ^ 1);
attack('S05 cached token, one bit of the signature flipped',
    "$gh.$gp." . b64url($flip), 'signature_invalid');

attack('S06 cached token, signature in a non-canonical encoding',
    "$gh.$gp." . noncanonical($gs), 'signature_invalid');

my $later = json_decode(b64url_decode($gp));
$later->{exp} += 86400 * 365;
attack('S07 cached token, a later exp, the same signature',
    "$gh." . b64url(json_encode($later)) . ".$gs", 'signature_invalid');

my $hdr2 = json_decode(b64url_decode($gh));
$hdr2->{typ} = 'at+jwt';
attack('S08 cached token, another header, the same signature',
    b64url(json_encode($hdr2)) . ".$gp.$gs", 'signature_invalid');

my $sub2 = json_decode(b64url_decode($gp));
$sub2->{sub} = 'admin';
attack('S09 cached token, another patron, the same signature',
    "$gh." . b64url(json_encode($sub2)) . ".$gs", 'signature_invalid');

passes('S10 the good token still passes after the attempts', $good);

# a token cached while valid is refused once it expires (leeway 1 s)
my $short = tok(sub => 'short-lived', exp => int(time()) + 3, no_iat => 1);
passes('S11 a token about to expire passes (and is cached)', $short);
my $expired = wait_until(sub {
    my $r = get($short);
    $r && $r->{status} == 401;
}, timeout => 10, interval => 0.2);
ok($expired, 'S12 the cached token is refused once expired');
is_denied(get($short), 'token_expired', 'S12 expired after being cached');


###########################################################################
# F: a flood of distinct invalid tokens

SKIP: {
    skip 'wrk is not installed', 10 unless have_wrk();

    my $patron = tok(sub => 'steady', library => '0301');
    my $r = get($patron, uri => '/vendor/x');
    is($r ? $r->{status} : undef, 200, 'F00 a patron passes at a vendor');

    my $m0 = metrics(port('front'), '/status');

    # 20,000 of each: garbage, and a good token's shape with a signature
    # that fails (a full RS256 check each)
    my ($fh, $fp, $fs) = split /\./, $good;
    my $garbage = prefix() . '/garbage.tokens';
    my $badsig = prefix() . '/badsig.tokens';

    write_file($garbage, join '', map {
        "eyJhbGciOiJSUzI1NiJ9.garbage-$_.x\n" } 1 .. 20000);
    write_file($badsig, join '', map {
        "$fh.$fp." . sprintf('%08d', $_) . substr($fs, 8) . "\n"
    } 1 .. 20000);

    for my $kind ([ garbage => $garbage ], [ badsig => $badsig ]) {
        my ($name, $file) = @$kind;

        # long enough for every token once (wrk runs for a duration):
        # a second's run says how fast this machine goes
        my $probe = wrk_run(port('front'), '/vendor/x', duration => 1,
            connections => 8, tokens => $file);
        my $secs = int(1.3 * 20000 / ($probe->{rate} || 1000)) + 1;
        $secs = 30 if $secs > 30;

        my $res = wrk_run(port('front'), '/vendor/x', duration => $secs,
            connections => 8, tokens => $file);

        is($res->{statuses}{401}, $res->{requests},
            "F01 $name: every token refused (401)")
            or diag(wrk_summary($res));
        ok($res->{requests} >= 20000,
            "F02 $name: 20,000 distinct tokens sent, each at least once")
            or diag(wrk_summary($res));

        note(sprintf '[hostile] 20,000 distinct %s tokens: %s; '
             . '%.1f us per token (one worker)', $name, wrk_summary($res),
             $res->{rate} ? 1e6 / $res->{rate} : 0);
    }

    my $m1 = metrics(port('front'), '/status');

    is(metric_delta($m0, $m1, 'digin_cache_evictions_total'), 0,
        'F03 the zone evicted nothing: no invalid token was kept');

    my $before = metric($m1, 'digin_redis_requests_total');
    $r = get($patron, uri => '/vendor/x');
    is($r ? $r->{status} : undef, 200, 'F04 the patron still passes');
    my $m2 = metrics(port('front'), '/status');
    is(metric($m2, 'digin_redis_requests_total') - $before, 0,
        'F05 its answer is still in the zone (no Redis round trip)');
    passes('F06 a token verified before the flood still passes', $good);

    my $log = error_log_text();
    ok(index($log, 'garbage-1') < 0 && index($log, substr($fs, 8, 40)) < 0,
        'F07 no token bytes in the error log');
}


###########################################################################
# H: headers

# claims that would reach headers and logs (t/reasons.t: sub with CRLF)
attack('H01 sub with CR LF and a header after it',
    with_claim('sub', '"a\r\nX-Injected: 1"'), 'claim_invalid');
attack('H02 library with CR LF',
    signed(\%header, payload_json(library => "0301\r\nX-Injected: 1")),
    'claim_invalid');
attack('H03 jti with a LF', signed(\%header, payload_json(jti => "j\nk")),
    'claim_invalid');
attack('H04 sub with U+2028 (line separator)',
    with_claim('sub', '"a\u2028b"'), 'claim_invalid');
attack('H05 sub with a quote', with_claim('sub', '"a\"b"'), 'claim_invalid');
attack('H06 sub with DEL (0x7f)', with_claim('sub', '"a\u007fb"'),
    'claim_invalid');
attack('H07 sub of 256 bytes (255 at most)',
    signed(\%header, payload_json(sub => 'p' x 256)), 'claim_invalid');

# a client's own identity headers never reach the upstream
{
    my $r = http_get(port('front'), '/rec/forged', headers => [
        Authorization => "Bearer $good",
        'X-Patron' => 'admin', 'X-Library' => '9999',
        'X-Result' => 'ok' ]);
    my $req = $r && $r->{status} == 200 ? parse_http_request($r->{body})
                                        : undef;

    is_deeply($req ? $req->{header_list}{'x-patron'} : undef, ['patron-1'],
        'H08 a forged X-Patron is replaced by the gateway\'s');
    ok($req && !exists $req->{headers}{'x-library'},
        'H08 a forged X-Library is dropped (the gateway\'s is empty)');
    ok($req && !exists $req->{headers}{authorization},
        'H08 the token does not reach the upstream');
}

ok(!grep({ /x-injected/i } recorded_requests($rec)),
    'H09 no upstream request ever held an injected header');

# oversized headers and cookies: 4xx from nginx or the module, not 5xx
my $mb = 'A' x (1024 * 1024);

answers_4xx('H10 a 1 MB bearer token', get($mb));
answers_4xx('H11 a 1 MB token cookie',
    http_get(port('front'), '/x', headers => [ Cookie => "digin_token=$mb" ]));
answers_4xx('H12 a 1 MB token with large header buffers',
    get($mb, port => 'big'));
answers_4xx('H13 a 9 KB Authorization header (default buffers)',
    get('A' x 9000));
answers_4xx('H14 500 Cookie lines of 200 bytes',
    http_get(port('front'), '/x', headers => [
        map { (Cookie => "c$_=" . ('v' x 200)) } 1 .. 500 ]));
answers_4xx('H15 10,000 header lines',
    http_get(port('front'), '/x', headers => [
        map { ("X-H$_" => 'v') } 1 .. 10000 ]));
answers_4xx('H16 two Authorization headers',
    http_get(port('front'), '/x', headers => [
        Authorization => "Bearer $good", Authorization => "Bearer $good" ]));

is_denied(get('A' x 20000, port => 'big'), 'token_too_large',
    'H17 a 20 KB token that reaches the module');
is_denied(http_get(port('big'), '/x',
        headers => [ Cookie => 'digin_token=' . ('A' x 20000) ]),
    'token_too_large', 'H18 a 20 KB token cookie that reaches the module');

answers_4xx('H19 a NUL byte in the Authorization header',
    http(port('front'), "GET /x HTTP/1.0\r\nHost: localhost\r\n"
         . "Authorization: Bearer $gh\0.$gp.$gs\r\n\r\n"));
answers_4xx('H20 a bare CR in the Authorization header',
    http(port('front'), "GET /x HTTP/1.0\r\nHost: localhost\r\n"
         . "Authorization: Bearer $gh\r.$gp.$gs\r\n\r\n"));

is_denied(http_get(port('front'), "/x?access_token=$good"), 'token_missing',
    'H21 a token in the query string is never read');
is_denied(http_get(port('front'), '/x', headers => [
        Authorization => "Bearer $gh.$gp.x", Cookie => "digin_token=$good" ]),
    'signature_invalid',
    'H22 a bad bearer token is not rescued by a good cookie');


###########################################################################
# R: a Redis answering what digin-admin would never write

{
    my $gen = redis_cmd($redis->{port}, 'GET', 'digin:gen');

    # each field within the gateway's limit of 1000 bytes, together
    # eleven times what one cached answer holds
    redis_cmd($redis->{port}, 'HSET', "digin:$gen:lib:0302",
        map { ($_ => 'x' x 1000) }
            qw(name county grants status period_days quota_ebook
               quota_audio budget loan_days));

    my $t = tok(sub => 'bergen', library => '0302');
    my $r = get($t, uri => '/vendor/x');

    is_refused($r, 503, 'entitlements_unavailable',
        'R01 an oversized library record answers 503', token => $t);
    passes('R02 the gateway still answers after it', $good);
    is(get(tok(sub => 'oslo', library => '0301'), uri => '/vendor/x')->{status},
        200, 'R03 other libraries still pass');
}

done_testing();
