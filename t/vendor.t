#!/usr/bin/perl

# The vendor side: what vendors receive (raw requests recorded byte for
# byte, through proxy_pass, fastcgi_pass, uwsgi_pass, scgi_pass and
# grpc_pass): never the patron's token, cookie or identifier; the
# per-vendor pseudonym; gateway-signed assertions (claims, signatures
# checked with openssl and by a vendor's own nginx with the module,
# audiences, reuse for half their lifetime, ES256, EdDSA, RS256, HS256);
# digin_strip_credentials off; nginx -t on the vendor directives; claims
# and entitlement values that could inject headers; oversized headers.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

use Time::HiRes qw(time);

require_module();
require_tool();
require_admin();

my $p = prefix();

my $ISS = 'https://login.example';
my $GW_ISS = 'urn:digin:gateway';
my $SUB = 'ola.nordmann-4711';
my $SUB2 = 'kari.hansen-0815';

my $idp = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');

# the gateway's signing keys; vendors get the public ones as one JWKS
my $gw_es = keygen('ec', 'gw-es', kid => 'gw-1');
my $gw_ed = keygen('ed25519', 'gw-ed', kid => 'gw-ed');
my $gw_rs = keygen('rsa', 'gw-rs', kid => 'gw-rs');
my $gw_hs = keygen('oct', 'gw-hs', kid => 'gw-hs', alg => 'HS256');
my $gw_jwks = merge_jwks("$p/keys/gateway.jwks.json",
    $gw_es->{jwks}, $gw_ed->{jwks}, $gw_rs->{jwks});

# the pseudonym secret: bytes, not text (a NUL and a newline included)
my $PKEY = "\x00digin pseudonyms\n" . join('', map { chr int rand 256 } 1 .. 46)
           . "\n";
write_file("$p/keys/pseudonym.key", $PKEY, mode => 0600);

my $redis = start_redis();

my %doc = (
    version  => 1,
    vendors  => {
        bokskya  => { name => 'Bokskya', media => ['ebook'] },
        lydhuset => { name => 'Lydhuset', media => ['audio'] },
        ordflyt  => { name => 'Ordflyt', media => ['ebook', 'audio'] },
        lesehest => { name => 'Lesehest', media => ['ebook'] },
    },
    packages => {
        basis => { name => 'Basispakke',
                   vendors => ['bokskya', 'lydhuset', 'ordflyt',
                               'lesehest'] },
    },
    libraries => {
        '0301'    => { name => 'Deichman', county => '03',
                       status => 'active', packages => ['basis'] },
        'skole-1' => { name => 'Skolen', county => '46',
                       packages => ['basis'] },
    },
    patrons => {
        $ISS => {
            $SUB  => { library => '0301' },
            $SUB2 => { library => '0301' },
        },
    },
);

load_document($redis, \%doc);

my $rec = start_recorder(port => port('rec'));
my $fcgi = start_recorder(port => port('fcgi'), protocol => 'fastcgi');
my $uwsgi = start_recorder(port => port('uwsgi'), protocol => 'uwsgi');
my $scgi = start_recorder(port => port('scgi'), protocol => 'scgi');

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@IDP@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REDIS@;

    digin_pseudonym_key %%TESTDIR%%/keys/pseudonym.key;
    digin_vendor_key bokskya @GW_ES@ kid=gw-1;
    digin_vendor_key lydhuset @GW_ED@ alg=EdDSA kid=gw-ed ttl=2s;
    digin_vendor_key ordflyt @GW_RS@ alg=RS256 kid=gw-rs ttl=5m;
    digin_vendor_key lesehest @GW_HS@ alg=HS256 kid=gw-hs ttl=30s;

    digin_token_cookie digin_token;

    log_format grpc 'auth=[$http_authorization] cookie=[$http_cookie] '
                    'lang=[$http_accept_language] '
                    'pseudonym=[$http_x_digin_pseudonym] uri=[$request_uri]';

    server {
        listen 127.0.0.1:%%PORT_gw%%;

        # what vendors receive, recorded byte for byte

        location /rec/bokskya/ {
            digin_vendor bokskya medium=ebook;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/bokskya/;
            proxy_set_header X-Digin-Pseudonym $digin_pseudonym;
            proxy_set_header X-Digin-County $digin_county;
            proxy_set_header X-Cookie-Seen $http_cookie;
        }

        location /rec/lydhuset/ {
            digin_vendor lydhuset;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/lydhuset/;
            proxy_set_header X-Digin-Pseudonym $digin_pseudonym;
        }

        location /rec/nostrip/ {
            digin_vendor bokskya;
            digin_strip_credentials off;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/nostrip/;
            proxy_set_header X-Cookie-Seen $http_cookie;
        }

        # the token refused, the request let in by "allow"
        location /rec/satisfy/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            digin_vendor bokskya;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/satisfy/;
        }

        # a gate without a vendor
        location /rec/gate/ {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/gate/;
        }

        # a copy of the request to a second upstream
        location /rec/mirror/ {
            digin_vendor bokskya;
            mirror /mirror-copy;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/mirrored/;
        }

        location = /mirror-copy {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/mirror-copy;
        }

        location /fcgi/ {
            digin_vendor bokskya;
            fastcgi_pass 127.0.0.1:%%PORT_fcgi%%;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param DIGIN_PSEUDONYM $digin_pseudonym;
        }

        location /uwsgi/ {
            digin_vendor bokskya;
            uwsgi_pass 127.0.0.1:%%PORT_uwsgi%%;
            uwsgi_param REQUEST_URI $request_uri;
            uwsgi_param DIGIN_PSEUDONYM $digin_pseudonym;
        }

        location /scgi/ {
            digin_vendor bokskya;
            scgi_pass 127.0.0.1:%%PORT_scgi%%;
            scgi_param REQUEST_URI $request_uri;
            scgi_param DIGIN_PSEUDONYM $digin_pseudonym;
        }

        location /grpc/ {
            digin_vendor bokskya;
            grpc_pass grpc://127.0.0.1:%%PORT_h2%%;
            grpc_set_header X-Digin-Pseudonym $digin_pseudonym;
        }

        # the usual vendor locations: an assertion instead of the token

        location /vendor/bokskya/ {
            digin_vendor bokskya medium=ebook;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/;
            proxy_set_header Authorization "Bearer $digin_vendor_token";
            proxy_set_header X-Digin-Pseudonym $digin_pseudonym;
        }

        location /vendor/pseudonym-first/ {
            digin_vendor bokskya medium=ebook;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/;
            proxy_set_header X-Digin-Pseudonym $digin_pseudonym;
            proxy_set_header Authorization "Bearer $digin_vendor_token";
        }

        location /vendor/lydhuset/ {
            digin_vendor lydhuset medium=audio;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/;
            proxy_set_header Authorization "Bearer $digin_vendor_token";
        }

        location /vendor/ordflyt-ebook/ {
            digin_vendor ordflyt medium=ebook;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/;
            proxy_set_header Authorization "Bearer $digin_vendor_token";
        }

        location /vendor/ordflyt-audio/ {
            digin_vendor ordflyt medium=audio;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/;
            proxy_set_header Authorization "Bearer $digin_vendor_token";
        }

        location /vendor/lesehest/ {
            digin_vendor lesehest;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/;
            proxy_set_header Authorization "Bearer $digin_vendor_token";
        }

        # the gateway in front of the vendors' own nginx

        location /to-bokskya/ {
            digin_vendor bokskya medium=ebook;
            proxy_pass http://127.0.0.1:%%PORT_vendor_a%%/;
            proxy_set_header Authorization "Bearer $digin_vendor_token";
        }

        location /to-lydhuset/ {
            digin_vendor lydhuset medium=audio;
            proxy_pass http://127.0.0.1:%%PORT_vendor_b%%/;
            proxy_set_header Authorization "Bearer $digin_vendor_token";
        }
    }

    # room for big headers: stripping in a 20 KB Cookie header
    server {
        listen 127.0.0.1:%%PORT_big%%;
        large_client_header_buffers 4 64k;

        location /rec/ {
            digin_vendor bokskya;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/big/;
            proxy_set_header X-Cookie-Seen $http_cookie;
        }
    }

    # the grpc vendor: HTTP/2 without TLS, logging what it received
    server {
        listen 127.0.0.1:%%PORT_h2%% http2;
        access_log %%TESTDIR%%/logs/grpc.log grpc;

        location / {
            return 200 "grpc\n";
        }
    }
}
EOF

$conf =~ s/\@ISS\@/$ISS/g;
$conf =~ s/\@IDP\@/$idp->{jwks}/g;
$conf =~ s/\@REDIS\@/$redis->{port}/g;
$conf =~ s/\@GW_ES\@/$gw_es->{pem}/g;
$conf =~ s/\@GW_ED\@/$gw_ed->{pem}/g;
$conf =~ s/\@GW_RS\@/$gw_rs->{pem}/g;
$conf =~ s/\@GW_HS\@/$gw_hs->{secret}/g;

start_nginx($conf);

# A vendor's own nginx with the module: trusts the gateway's assertions
# for its own audience only, and nothing else.

sub vendor_conf {
    my ($name, $audience) = @_;

    return <<"EOF";
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_issuer $GW_ISS jwks=$gw_jwks audience=$audience
                 algorithms=ES256,EdDSA,RS256 library_claim=library;

    server {
        listen 127.0.0.1:%%PORT_$name%%;
        location / {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_${name}_back%%;
            %%ECHO_HEADERS%%
        }
    }

    server {
        listen 127.0.0.1:%%PORT_${name}_back%%;
        location / {
            return 200 "%%ECHO_BODY%%";
        }
    }
}
EOF
}

my $vendor_a = start_nginx_instance('vendor-a',
    vendor_conf('vendor_a', 'bokskya'));
my $vendor_b = start_nginx_instance('vendor-b',
    vendor_conf('vendor_b', 'lydhuset'));


# the patron's tokens: each with a jti of its own, issued two days ago
# and valid for two more, so that their iat and exp share no leading
# digits with an assertion's (',"iat":17952838' is 15 bytes: 20 base64
# characters of the token could show upstream by coincidence)
my $jti = 0;

sub tok {
    my (%o) = @_;
    return mint(key => $idp->{pem}, alg => 'RS256', kid => 'k1',
        iss => $ISS, aud => 'digin', sub => $SUB,
        iat => int(time()) - 2 * 86400, ttl => 4 * 86400,
        jti => 'patron-jti-' . ++$jti, %o);
}

# a request to the gateway; returns the response and, when the recorder
# answered, the request it received (parsed, with the raw bytes in raw)
my $n = 0;

sub through {
    my ($path, @headers) = @_;

    my $r = http_get(port('gw'), $path . 'item-' . ++$n,
        headers => \@headers);
    return ($r, undef) unless $r && $r->{status} == 200;

    my $req = parse_http_request($r->{body});
    $req->{raw} = $r->{body} if $req;

    return ($r, $req);
}

# what of the patron's secrets shows in $raw: the patron id, or any 20
# bytes of one of the tokens
sub leaks {
    my ($raw, @tokens) = @_;

    my @found;

    push @found, "patron id" if index($raw, $SUB) >= 0;

    for my $t (@tokens) {
        for my $i (0 .. length($t) - 20) {
            if (index($raw, substr($t, $i, 20)) >= 0) {
                push @found, "20 bytes of a token at $i";
                last;
            }
        }
    }

    return @found;
}

sub no_leaks {
    my ($raw, $name, @tokens) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my @found = leaks($raw // '', @tokens);
    ok(defined $raw && !@found, "$name: no patron id or token bytes")
        or diag(join(', ', @found) . "\n" . ($raw // 'no request'));
}

my $token = tok();
my $token2 = tok();                     # the same patron, another jti
my $other = tok(sub => $SUB2);

isnt($token, $token2, 'two tokens of the same patron differ');

my $P_BOK = pseudonym($PKEY, $ISS, $SUB, 'bokskya');
my $P_LYD = pseudonym($PKEY, $ISS, $SUB, 'lydhuset');
my $P2_BOK = pseudonym($PKEY, $ISS, $SUB2, 'bokskya');

like($P_BOK, qr/^[\w-]{43}$/, 'expected pseudonym: 43 base64url characters');


###########################################################################
# Stripping: what a vendor receives through proxy_pass

my $LANG = 'nb-NO, nn;q=0.9, en;q=0.5';

{
    my ($r, $req) = through('/rec/bokskya/',
        Authorization     => "Bearer $token",
        'Accept-Language' => $LANG,
        Cookie            => "theme=dark; digin_token=$token; lang=nb",
        'X-Reader-Build'  => '2026.11');

    ok($req, 'bearer and cookie: passes, the recorder saw the request')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");

    $req //= { headers => {}, header_list => {}, raw => undef };
    my $h = $req->{headers};

    ok(!exists $h->{authorization}, 'bearer: no Authorization upstream')
        or diag("Authorization: $h->{authorization}");
    is_deeply($req->{header_list}{cookie}, ['theme=dark; lang=nb'],
        'bearer: the other cookies pass unchanged, the token cookie not');
    is($h->{'x-cookie-seen'}, 'theme=dark; lang=nb',
        '$http_cookie has no token cookie');
    is($h->{'accept-language'}, $LANG, 'Accept-Language passes unchanged');
    is($h->{'x-reader-build'}, '2026.11', 'other headers pass unchanged');
    is($req->{target}, "/bokskya/item-$n", 'the URI as proxied');
    is($h->{'x-digin-pseudonym'}, $P_BOK,
        'pseudonym: HMAC-SHA256 of iss, sub, vendor with the key bytes');
    is($h->{'x-digin-county'}, '03', '$digin_county upstream');
    no_leaks($req->{raw}, 'bearer and cookie', $token);
}

{
    my ($r, $req) = through('/rec/bokskya/',
        Authorization => 'Basic cmVhZGVyOnNlY3JldA==',
        Cookie        => "digin_token=$token; theme=dark");

    ok($req, 'cookie token with Basic auth: passes')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");

    $req //= { headers => {}, header_list => {}, raw => undef };

    is_deeply($req->{header_list}{authorization},
        ['Basic cmVhZGVyOnNlY3JldA=='],
        'Authorization: Basic is not the patron\'s token and passes');
    is_deeply($req->{header_list}{cookie}, ['theme=dark'],
        'cookie token first: stripped, the other cookie passes');
    is($req->{headers}{'x-digin-pseudonym'}, $P_BOK,
        'cookie token: the same pseudonym');
    no_leaks($req->{raw}, 'cookie token with Basic auth', $token);
}

{
    my ($r, $req) = through('/rec/bokskya/',
        Cookie => "digin_token=$token");

    ok($req, 'the token cookie alone: passes')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");
    $req //= { headers => {}, header_list => {}, raw => undef };

    ok(!exists $req->{headers}{cookie},
        'the token cookie alone: no Cookie header upstream')
        or diag("Cookie: $req->{headers}{cookie}");
    ok(!exists $req->{headers}{'x-cookie-seen'},
        'the token cookie alone: $http_cookie empty');
    no_leaks($req->{raw}, 'the token cookie alone', $token);
}

{
    my ($r, $req) = through('/rec/bokskya/',
        Cookie        => 'theme=dark',
        Cookie        => "digin_token=$token;lang=nb",
        Authorization => "bearer $token");

    ok($req, 'two Cookie headers, lowercase "bearer": passes')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");
    $req //= { headers => {}, header_list => {}, raw => undef };

    ok(!exists $req->{headers}{authorization},
        'lowercase "bearer": no Authorization upstream');
    is(join('; ', @{ $req->{header_list}{cookie} // [] }),
        'theme=dark; lang=nb',
        'two Cookie headers: the token cookie out of the second');
    no_leaks($req->{raw}, 'two Cookie headers', $token);
}

{
    # names that only look like the token cookie are other cookies
    my $look = 'my_digin_token=a; digin_token2=b; digin_tokenx=c';

    my ($r, $req) = through('/rec/bokskya/',
        Authorization => "Bearer $token",
        Cookie        => $look);

    ok($req, 'look-alike cookie names: passes');
    is_deeply($req ? $req->{header_list}{cookie} : undef, [$look],
        'look-alike cookie names pass unchanged');
}

{
    # cookie names are matched without regard to case when the token is
    # read: whatever the gateway takes as the token must not pass
    my ($r, $req) = through('/rec/bokskya/',
        Cookie => "Digin_Token=$token; theme=dark");

    ok($r && ($r->{status} == 401 || $req),
        'the token cookie in another case: refused or passed')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");
    no_leaks($req->{raw}, 'the token cookie in another case', $token)
        if $req;

    ($r, $req) = through('/rec/bokskya/',
        Cookie => "digin_token=$token; theme=dark; digin_token=$token2");

    ok($req, 'two token cookies: passes');
    is_deeply($req ? $req->{header_list}{cookie} : undef, ['theme=dark'],
        'two token cookies: both stripped');
    no_leaks($req ? $req->{raw} : undef, 'two token cookies', $token,
        $token2);
}

# stripping wherever the gate ran: a location with "digin on" and no
# vendor, a mirrored copy, and a refused token let in by "allow" under
# "satisfy any"

{
    my ($r, $req) = through('/rec/gate/',
        Authorization => "Bearer $token",
        Cookie        => "digin_token=$token; theme=dark");

    ok($req, 'digin on: passes');
    ok($req && !exists $req->{headers}{authorization},
        'digin on: no Authorization upstream');
    is_deeply($req ? $req->{header_list}{cookie} : undef, ['theme=dark'],
        'digin on: the token cookie stripped');
    no_leaks($req ? $req->{raw} : undef, 'digin on', $token);

    my $before = () = recorded_requests($rec);

    ($r, $req) = through('/rec/mirror/',
        Authorization => "Bearer $token",
        Cookie        => "digin_token=$token; theme=dark");
    ok($req, 'mirror: the main request passes');
    no_leaks($req ? $req->{raw} : undef, 'mirror: the main request', $token);

    my $copy = wait_until(sub {
        my ($c) = grep { m{^GET /mirror-copy } } recorded_requests($rec);
        return $c;
    }, timeout => 5);

    ok($copy, 'mirror: the copy was recorded');
    no_leaks($copy, 'mirror: the copy', $token);

    my $expired = tok(iat => int(time()) - 7200, ttl => 3600);

    ($r, $req) = through('/rec/satisfy/',
        Authorization => "Bearer $expired",
        Cookie        => "digin_token=$expired; theme=dark");
    ok($req, 'satisfy any: an expired token, let in by allow')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");
    ok($req && !exists $req->{headers}{authorization},
        'satisfy any, refused token: no Authorization upstream')
        or diag('Authorization: '
                . substr($req->{headers}{authorization} // '', 0, 40)
                . '...');
    is_deeply($req ? $req->{header_list}{cookie} : undef, ['theme=dark'],
        'satisfy any, refused token: the token cookie stripped');
    no_leaks($req ? $req->{raw} : undef, 'satisfy any, refused token',
        $expired);

    ($r, $req) = through('/rec/satisfy/',
        Authorization => "Bearer $token",
        Cookie        => "theme=dark");
    ok($req && !exists $req->{headers}{authorization},
        'satisfy any, good token: no Authorization upstream');
}

# the pseudonym: stable for a patron and vendor, per vendor, per patron

{
    my @seen;

    for my $t ($token, $token2, $token) {
        my (undef, $req) = through('/rec/bokskya/',
            Authorization => "Bearer $t");
        push @seen, $req ? $req->{headers}{'x-digin-pseudonym'} : undef;
    }

    is_deeply(\@seen, [ ($P_BOK) x 3 ],
        'pseudonym stable across requests and tokens of the patron');

    my (undef, $req) = through('/rec/lydhuset/',
        Authorization => "Bearer $token");
    my $lyd = $req ? $req->{headers}{'x-digin-pseudonym'} : undef;

    is($lyd, $P_LYD, 'pseudonym for lydhuset as computed');
    isnt($lyd, $P_BOK, 'pseudonyms differ between vendors');

    (undef, $req) = through('/rec/bokskya/', Authorization => "Bearer $other");
    is($req ? $req->{headers}{'x-digin-pseudonym'} : undef, $P2_BOK,
        'another patron: another pseudonym');
}

# digin_strip_credentials off: the patron's credentials pass

{
    my ($r, $req) = through('/rec/nostrip/',
        Authorization => "Bearer $token",
        Cookie        => "theme=dark; digin_token=$token");

    ok($req, 'strip off: passes');
    $req //= { headers => {}, header_list => {} };

    is_deeply($req->{header_list}{authorization}, ["Bearer $token"],
        'strip off: the patron\'s Authorization passes');
    is_deeply($req->{header_list}{cookie},
        ["theme=dark; digin_token=$token"],
        'strip off: the token cookie passes');
    is($req->{headers}{'x-cookie-seen'}, "theme=dark; digin_token=$token",
        'strip off: $http_cookie has the token cookie');
}

###########################################################################
# Stripping through the other upstream modules

# the CGI-style parameters of a recorded FastCGI, uwsgi or SCGI request
sub cgi_params {
    my ($proto, $raw) = @_;

    my %v;
    return \%v unless defined $raw;

    if ($proto eq 'fastcgi') {
        my $params = '';

        while (length $raw >= 8) {
            my (undef, $type, undef, $clen, $plen) = unpack 'C C n n C', $raw;
            $params .= substr($raw, 8, $clen) if $type == 4;
            substr($raw, 0, 8 + $clen + $plen) = '';
        }

        while (length $params) {
            my @len;
            for (1 .. 2) {
                my $b = ord $params;
                if ($b & 0x80) {
                    push @len, unpack('N', $params) & 0x7fffffff;
                    substr($params, 0, 4) = '';
                } else {
                    push @len, $b;
                    substr($params, 0, 1) = '';
                }
            }
            my $name = substr($params, 0, $len[0], '');
            $v{$name} = substr($params, 0, $len[1], '');
        }

    } elsif ($proto eq 'uwsgi') {
        my (undef, $size) = unpack 'C v', $raw;
        my $vars = substr($raw, 4, $size);

        while (length $vars >= 4) {
            my $kl = unpack 'v', $vars;
            my $k = substr($vars, 2, $kl);
            my $vl = unpack 'v', substr($vars, 2 + $kl, 2);
            $v{$k} = substr($vars, 4 + $kl, $vl);
            substr($vars, 0, 4 + $kl + $vl) = '';
        }

    } else {
        my ($len) = $raw =~ /^(\d+):/ or return \%v;
        %v = split /\0/, substr($raw, length($len) + 1, $len);
    }

    return \%v;
}

for my $u ([ 'fcgi', 'fastcgi', $fcgi ], [ 'uwsgi', 'uwsgi', $uwsgi ],
           [ 'scgi', 'scgi', $scgi ])
{
    my ($loc, $proto, $recorder) = @$u;

    my $r = http_get(port('gw'), "/$loc/item",
        headers => [ Authorization     => "Bearer $token",
                     'Accept-Language' => $LANG,
                     Cookie            => "theme=dark; digin_token=$token" ]);

    is($r ? $r->{status} : undef, 200, "$proto: passes");

    my ($raw) = grep { index($_, "/$loc/item") >= 0 }
                recorded_requests($recorder);
    my $v = cgi_params($proto, $raw);

    is($v->{REQUEST_URI}, "/$loc/item", "$proto: the request was recorded");
    ok(!exists $v->{HTTP_AUTHORIZATION}, "$proto: no HTTP_AUTHORIZATION")
        or diag("HTTP_AUTHORIZATION: $v->{HTTP_AUTHORIZATION}");
    is($v->{HTTP_COOKIE}, 'theme=dark', "$proto: HTTP_COOKIE without token");
    is($v->{HTTP_ACCEPT_LANGUAGE}, $LANG, "$proto: other headers pass");
    is($v->{DIGIN_PSEUDONYM}, $P_BOK, "$proto: the pseudonym");
    no_leaks($raw, $proto, $token);

    $r = http_get(port('gw'), "/$loc/basic",
        headers => [ Authorization => 'Basic cmVhZGVyOnNlY3JldA==',
                     Cookie        => "digin_token=$token" ]);

    ($raw) = grep { index($_, "/$loc/basic") >= 0 }
             recorded_requests($recorder);
    $v = cgi_params($proto, $raw);

    is($v->{HTTP_AUTHORIZATION}, 'Basic cmVhZGVyOnNlY3JldA==',
        "$proto: Basic passes");
    ok(!exists $v->{HTTP_COOKIE}, "$proto: no cookie left, no HTTP_COOKIE");
    no_leaks($raw, "$proto, cookie token", $token);
}

{
    my $r = http_get(port('gw'), '/grpc/item',
        headers => [ Authorization     => "Bearer $token",
                     'Accept-Language' => $LANG,
                     Cookie            => "theme=dark; digin_token=$token" ]);

    ok($r, 'grpc: an answer') or diag("no response: $@");

    my $log = "$p/logs/grpc.log";
    my $line = wait_until(sub {
        my ($l) = grep { /uri=\[\/grpc\/item\]/ }
                  split /\n/, read_file($log) // '';
        return $l;
    }, timeout => 5);

    ok($line, 'grpc: the vendor logged the request');
    $line //= '';

    like($line, qr/auth=\[-?\] /, 'grpc: no Authorization');
    like($line, qr/cookie=\[theme=dark\] /, 'grpc: cookie without token');
    like($line, qr/lang=\[\Q$LANG\E\] /, 'grpc: other headers pass');
    like($line, qr/pseudonym=\[\Q$P_BOK\E\] /, 'grpc: the pseudonym');
    no_leaks(read_file($log), 'grpc: the vendor\'s log', $token);
}

###########################################################################
# Assertions

# the assertion a vendor received through location $path
sub assertion {
    my ($path, $t) = @_;

    my ($r, $req) = through($path, Authorization => "Bearer $t");
    my $auth = $req ? $req->{header_list}{authorization} // [] : [];

    return undef unless @$auth == 1 && $auth->[0] =~ /^Bearer (\S+)$/;
    return wantarray ? ($1, $req) : $1;
}

sub decode {
    my ($jws) = @_;
    my ($h, $pl) = token_parts($jws // '');
    return (eval { json_decode($h) } // {}, eval { json_decode($pl) } // {});
}

# the claims of an assertion: header and payload exactly as the spec
# lists them
sub check_assertion {
    my ($jws, $name, %want) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    ok(defined $jws && $jws =~ /^[\w-]+\.[\w-]+\.[\w-]+$/,
        "$name: a compact JWS") or return;

    my ($h, $pl) = decode($jws);

    is_deeply($h, { alg => $want{alg}, typ => 'JWT', kid => $want{kid} },
        "$name: header");

    is_deeply([ sort keys %$pl ],
        [ qw(aud county exp iat iss jti library medium sub) ],
        "$name: the payload's claims");

    is($pl->{iss}, $want{iss} // $GW_ISS, "$name: iss");
    is($pl->{aud}, $want{aud}, "$name: aud is the vendor");
    is($pl->{sub}, $want{sub}, "$name: sub is the pseudonym");
    is($pl->{library}, $want{library} // '0301', "$name: library");
    is($pl->{county}, $want{county} // '03', "$name: county");
    is($pl->{medium}, $want{medium}, "$name: medium");
    ok(defined $pl->{iat} && $pl->{iat} =~ /^\d+$/
       && abs($pl->{iat} - time()) < 5,
       "$name: iat is now");
    is(($pl->{exp} // 0) - ($pl->{iat} // 0), $want{ttl}, "$name: exp - iat");
    like($pl->{jti} // '', qr/^[\w-]{16,}$/, "$name: jti");

    my $payload = (token_parts($jws))[1];
    ok(index($payload, $SUB) < 0 && index($payload, $ISS) < 0,
        "$name: neither the patron id nor the patron's issuer");

    ok(verify_jws($jws, $want{alg}, $want{key}),
        "$name: the signature verifies with the gateway's key");

    return $pl;
}

my ($A1, $req_a) = assertion('/vendor/bokskya/', $token);

my $pl_a = check_assertion($A1, 'ES256 assertion (bokskya)',
    alg => 'ES256', kid => 'gw-1', aud => 'bokskya', sub => $P_BOK,
    medium => 'ebook', ttl => 60, key => $gw_es->{pub});

is($req_a ? $req_a->{headers}{'x-digin-pseudonym'} : undef, $P_BOK,
    'assertion location: $digin_pseudonym as well');
no_leaks($req_a ? $req_a->{raw} : undef, 'assertion location', $token);

# the checker can fail: a changed payload or signature does not verify

{
    my ($h, $pl, $sig) = split /\./, $A1 // '..';
    my %claims = (%{ $pl_a // {} }, library => '9999');
    my $forged = join '.', $h, b64url(json_encode(\%claims)), $sig;

    ok(!verify_jws($forged, 'ES256', $gw_es->{pub}),
        'a changed payload does not verify with openssl');
    ok(!verify_jws($A1, 'ES256', $gw_ed->{pub}),
        'the assertion does not verify with another key');
}

# the vendors' own nginx

sub vendor_get {
    my ($port, @headers) = @_;
    return http_get(port($port), '/books/1', headers => \@headers);
}

{
    my $r = vendor_get('vendor_a', Authorization => "Bearer $A1");
    my $v = echo_vars($r);

    ok($v, 'vendor bokskya\'s nginx accepts the assertion')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");
    is($v && $v->{patron}, $P_BOK, 'vendor side: the patron is the pseudonym');
    is($v && $v->{library}, '0301', 'vendor side: the library claim');
    is($v && $v->{issuer}, $GW_ISS, 'vendor side: the gateway is the issuer');

    is_denied(vendor_get('vendor_b', Authorization => "Bearer $A1"),
        'audience_mismatch', 'bokskya\'s assertion at lydhuset\'s nginx');

    is_denied(vendor_get('vendor_a'), 'token_missing',
        'vendor side without an assertion');
    is_denied(vendor_get('vendor_a', Authorization => "Bearer $token"),
        'issuer_unknown', 'vendor side with the patron\'s token');

    my ($h, $pl, $sig) = split /\./, $A1 // '..';
    my %claims = (%{ $pl_a // {} }, sub => $P2_BOK);
    is_denied(vendor_get('vendor_a', Authorization => 'Bearer '
            . join('.', $h, b64url(json_encode(\%claims)), $sig)),
        'signature_invalid', 'vendor side: an assertion with another sub');

    $r = http_get(port('gw'), '/to-bokskya/books/1',
        headers => { Authorization => "Bearer $token" });
    $v = echo_vars($r);
    ok($v && $v->{patron} eq $P_BOK,
        'patron -> gateway -> vendor bokskya\'s nginx: passes as the pseudonym')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");

    $r = http_get(port('gw'), '/to-lydhuset/books/1',
        headers => { Cookie => "digin_token=$token" });
    $v = echo_vars($r);
    ok($v && $v->{patron} eq $P_LYD,
        'patron -> gateway -> vendor lydhuset\'s nginx (EdDSA): passes')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");
}

# reuse: the same assertion for the first half of its lifetime, per
# patron, vendor, library and medium

{
    my $again = assertion('/vendor/bokskya/', $token);
    my $other_token = assertion('/vendor/bokskya/', $token2);
    my $patron2 = assertion('/vendor/bokskya/', $other);
    my $school = assertion('/vendor/bokskya/', tok(library => 'skole-1'));

    is($again, $A1, 'reuse: the same assertion again within ttl/2');

    # a reused assertion brings its pseudonym along: the same as computed,
    # whether $digin_pseudonym is read before or after the assertion
    for my $path ('/vendor/bokskya/', '/vendor/pseudonym-first/') {
        my ($jws, $req) = assertion($path, $token);
        is($jws, $A1, "reuse through $path");
        is($req ? $req->{headers}{'x-digin-pseudonym'} : undef, $P_BOK,
            "reuse through $path: the pseudonym as computed");
    }
    is($other_token, $A1,
        'reuse: the same assertion for another token of the patron');

    isnt($patron2, $A1, 'another patron: another assertion');
    check_assertion($patron2, 'another patron', alg => 'ES256',
        kid => 'gw-1', aud => 'bokskya', sub => $P2_BOK, medium => 'ebook',
        ttl => 60, key => $gw_es->{pub});

    isnt($school, $A1, 'another library (claim): another assertion');
    check_assertion($school, 'library skole-1', alg => 'ES256',
        kid => 'gw-1', aud => 'bokskya', sub => $P_BOK, medium => 'ebook',
        library => 'skole-1', county => '46', ttl => 60,
        key => $gw_es->{pub});

    my $ebook = assertion('/vendor/ordflyt-ebook/', $token);
    my $audio = assertion('/vendor/ordflyt-audio/', $token);
    my $P_ORD = pseudonym($PKEY, $ISS, $SUB, 'ordflyt');

    check_assertion($ebook, 'RS256 assertion (ordflyt ebook)',
        alg => 'RS256', kid => 'gw-rs', aud => 'ordflyt', sub => $P_ORD,
        medium => 'ebook', ttl => 300, key => $gw_rs->{pub});
    check_assertion($audio, 'RS256 assertion (ordflyt audio)',
        alg => 'RS256', kid => 'gw-rs', aud => 'ordflyt', sub => $P_ORD,
        medium => 'audio', ttl => 300, key => $gw_rs->{pub});
    isnt($ebook, $audio, 'another medium: another assertion');
    is(assertion('/vendor/ordflyt-ebook/', $token), $ebook,
        'reuse: RS256 ebook again');

    my $hs = assertion('/vendor/lesehest/', $token);
    check_assertion($hs, 'HS256 assertion (lesehest, no medium=)',
        alg => 'HS256', kid => 'gw-hs', aud => 'lesehest',
        sub => pseudonym($PKEY, $ISS, $SUB, 'lesehest'), medium => 'ebook',
        ttl => 30, key => read_file($gw_hs->{secret}));
    ok(!verify_jws($hs, 'HS256', 'x' x 64),
        'HS256 assertion: not with another secret');
}

# lydhuset: EdDSA, ttl=2s; the same assertion for one second, then a new
# one, and never one with less than half its lifetime left

{
    my $L1 = assertion('/vendor/lydhuset/', $token);
    my ($h1, $pl1) = decode($L1);

    check_assertion($L1, 'EdDSA assertion (lydhuset)', alg => 'EdDSA',
        kid => 'gw-ed', aud => 'lydhuset', sub => $P_LYD, medium => 'audio',
        ttl => 2, key => $gw_ed->{pub});

    my (@late, $L2);

    # the assertion is stamped in whole seconds: reused while the clock
    # is before iat + ttl/2 (+1 for the rounding of iat)
    wait_until(sub {
        my $at = time();
        my $a = assertion('/vendor/lydhuset/', $token) // return 0;
        my (undef, $pl) = decode($a);

        push @late, sprintf('%.2f', $at - ($pl->{exp} // 0))
            if $at > ($pl->{exp} // 0) - 1;

        return 0 if $a eq ($L1 // '');
        $L2 = $a;
        return 1;
    }, timeout => 5, interval => 0.1);

    ok(defined $L2, 'ttl=2s: a new assertion after half the lifetime');
    ok(!@late, 'ttl=2s: never handed out with less than ttl/2 left')
        or diag("handed out at exp @late");

    my ($h2, $pl2) = decode($L2);
    ok(($pl2->{iat} // 0) >= ($pl1->{iat} // 0) + 1,
        'ttl=2s: the new one is issued at least a second later');
    isnt($pl2->{jti}, $pl1->{jti}, 'ttl=2s: with a new jti');
    ok(verify_jws($L2, 'EdDSA', $gw_ed->{pub}), 'ttl=2s: the new one verifies');

    my $r = vendor_get('vendor_b', Authorization => "Bearer $L2");
    my $v = echo_vars($r);
    ok($v && $v->{patron} eq $P_LYD,
        'vendor lydhuset\'s nginx accepts the EdDSA assertion')
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");
}

# digin_assertion_issuer: another gateway naming itself

{
    my $gw2 = start_nginx_instance('gateway-2', <<"EOF");
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin2:1m;
    digin_issuer $ISS jwks=$idp->{jwks} audience=digin;
    digin_redis 127.0.0.1:$redis->{port};
    digin_assertion_issuer https://gateway-2.digin.example;
    digin_pseudonym_key $p/keys/pseudonym.key;
    digin_vendor_key bokskya $gw_es->{pem} kid=gw-1 ttl=10m;

    server {
        listen 127.0.0.1:%%PORT_gw2%%;
        location /vendor/bokskya/ {
            digin_vendor bokskya medium=ebook;
            proxy_pass http://127.0.0.1:%%PORT_rec%%/;
            proxy_set_header Authorization "Bearer \$digin_vendor_token";
        }
    }
}
EOF

    my $r = http_get(port('gw2'), '/vendor/bokskya/x',
        headers => { Authorization => "Bearer $token" });
    my $req = $r && $r->{status} == 200 ? parse_http_request($r->{body})
                                        : undef;
    my ($jws) = (($req && $req->{headers}{authorization}) // '')
                =~ /^Bearer (\S+)$/;

    check_assertion($jws, 'digin_assertion_issuer', alg => 'ES256',
        kid => 'gw-1', aud => 'bokskya', sub => $P_BOK, medium => 'ebook',
        ttl => 600, iss => 'https://gateway-2.digin.example',
        key => $gw_es->{pub});

    is_denied(vendor_get('vendor_a', Authorization => "Bearer " . ($jws // '')),
        'issuer_unknown', 'vendor side: an assertion of an untrusted gateway');

    stop_daemon($gw2);
    check_error_log(file => instance_error_log('gateway-2'),
        name => 'gateway-2: no alerts in the error log');
}

###########################################################################
# Header injection: claims with control characters never reach a header

{
    my @bad = (
        [ 'sub with CRLF',     sub => "$SUB\r\nX-Injected: 1" ],
        [ 'sub with LF',       sub => "$SUB\nX-Injected: 1" ],
        [ 'sub with CR',       sub => "$SUB\rX-Injected: 1" ],
        [ 'sub with a tab',    sub => "$SUB\tX-Injected: 1" ],
        [ 'sub with \\x01',    sub => "$SUB\x01" ],
        [ 'sub with DEL',      sub => "$SUB\x7f" ],
        [ 'library with CRLF', library => "0301\r\nX-Injected: 1" ],
        [ 'library with LF',   library => "0301\nX-Injected: 1" ],
        [ 'jti with CRLF',     jti => "j-1\r\nX-Injected: 1" ],
    );

    for my $b (@bad) {
        my ($name, %claims) = @$b;
        my $t = tok(%claims);

        for my $loc ('/rec/bokskya/', '/vendor/bokskya/', '/fcgi/') {
            my $r = http_get(port('gw'), "${loc}inject",
                headers => { Authorization => "Bearer $t" });
            is_denied($r, 'claim_invalid', "$name at $loc");
        }

        my $r = http_get(port('gw'), '/rec/bokskya/inject',
            headers => { Cookie => "digin_token=$t" });
        is_denied($r, 'claim_invalid', "$name in the cookie");
    }

    my @injected = grep { /X-Injected/i }
        map { recorded_requests($_) } $rec, $fcgi, $uwsgi, $scgi;
    is(scalar @injected, 0, 'no recorded request has X-Injected')
        or diag($injected[0]);
}

# digin-admin refuses control characters in names; what was loaded
# stays

{
    my @bad = (
        [ 'county with CRLF', 'county',
          sub { $_[0]{libraries}{'0301'}{county} = "03\r\nX-Injected: 1" } ],
        [ 'county with a tab', 'county',
          sub { $_[0]{libraries}{'0301'}{county} = "0\t3" } ],
        [ 'library name with LF', 'name',
          sub { $_[0]{libraries}{'0301'}{name} = "Deichman\nX-Injected: 1" } ],
        [ 'library id with CRLF', 'libraries',
          sub { my $id = "0301\r\nX-Injected: 1";
                $_[0]{libraries}{$id} = delete $_[0]{libraries}{'0301'};
                $_->{library} = $id for values %{ $_[0]{patrons}{$ISS} }; } ],
        [ 'vendor id with CRLF', 'vendors',
          sub { my $id = "bokskya\r\nX-Injected: 1";
                $_[0]{vendors}{$id} = delete $_[0]{vendors}{bokskya};
                $_[0]{packages}{basis}{vendors}[0] = $id; } ],
        [ 'vendor name with DEL', 'name',
          sub { $_[0]{vendors}{bokskya}{name} = "Bok\x7fskya" } ],
        [ 'patron id with CRLF', 'patron',
          sub { $_[0]{patrons}{$ISS}{"p\r\nX-Injected: 1"}
                    = { library => '0301' } } ],
        [ 'issuer with a control character', 'issuer',
          sub { $_[0]{patrons}{"https://idp\x01.example"}
                    = { p => { library => '0301' } } } ],
    );

    my $seq = 0;

    for my $b (@bad) {
        my ($name, $where, $change) = @$b;

        my $copy = json_decode(json_encode(\%doc));
        $change->($copy);

        my $file = "$p/bad-doc-" . ++$seq . '.json';
        write_file($file, json_encode($copy));

        my ($code, $out) = digin_admin($redis, 'load', $file);
        is($code, 3, "digin-admin load refuses it: $name") or diag($out);
        like($out, qr/\Q$where\E/i, "digin-admin names the place: $name")
            or diag($out);
    }

    my (undef, $req) = through('/rec/bokskya/',
        Authorization => "Bearer $token");
    is($req ? $req->{headers}{'x-digin-county'} : undef, '03',
        'after the refused loads: the county as loaded before');
    ok($req && $req->{raw} !~ /X-Injected/i, 'and nothing injected');
}

###########################################################################
# Oversized headers: 4xx from nginx, never 5xx

{
    my $cookie = join '; ', map { "c$_=" . ('v' x 12) } 1 .. 1300;
    ok(length $cookie > 20000, 'a 20 KB Cookie header');

    my $r = http_get(port('gw'), '/rec/bokskya/big',
        headers => [ Authorization => "Bearer $token", Cookie => $cookie ]);
    ok($r && $r->{status} >= 400 && $r->{status} < 500,
        'default buffers: a 20 KB Cookie header answers 4xx')
        or diag($r ? "status $r->{status}" : "no response: $@");

    $r = http_get(port('gw'), '/rec/bokskya/big',
        headers => [ Authorization => 'Bearer ' . ('A' x 20000) ]);
    ok($r && $r->{status} >= 400 && $r->{status} < 500,
        'default buffers: a 20 KB Authorization header answers 4xx')
        or diag($r ? "status $r->{status}" : "no response: $@");

    # room for them: the token cookie in the middle of 20 KB of cookies

    my @c = map { "c$_=" . ('v' x 12) } 1 .. 1300;
    my $with = join '; ', @c[0 .. 649], "digin_token=$token", @c[650 .. $#c];

    $r = http_get(port('big'), '/rec/x',
        headers => [ Cookie => $with, 'Accept-Language' => $LANG ]);
    my $req = $r && $r->{status} == 200 ? parse_http_request($r->{body})
                                        : undef;

    ok($req, 'large buffers: the token cookie among 20 KB of cookies passes')
        or diag($r ? "status $r->{status}" : "no response: $@");
    ok($req && join('; ', @{ $req->{header_list}{cookie} // [] }) eq $cookie,
        'large buffers: every other cookie passes, in order');
    ok($req && ($req->{headers}{'x-cookie-seen'} // '') eq $cookie,
        'large buffers: $http_cookie without the token cookie');
    no_leaks($r ? $r->{body} : undef, 'large buffers', $token);

    # many Cookie header lines, the token in one of them
    my @lines = map { (Cookie => "k$_=$_") } 1 .. 40;
    splice @lines, 40, 0, Cookie => "digin_token=$token";

    $r = http_get(port('big'), '/rec/y', headers => \@lines);
    $req = $r && $r->{status} == 200 ? parse_http_request($r->{body}) : undef;

    is_deeply($req ? $req->{header_list}{cookie} : undef,
        [ map { "k$_=$_" } 1 .. 40 ],
        '41 Cookie lines: the token\'s line is gone, the others pass');

    $r = http_get(port('big'), '/rec/z',
        headers => [ Authorization => 'Bearer ' . ('A' x 20000) ]);
    is_denied($r, 'token_too_large', 'large buffers: a 20 KB bearer token');
}

###########################################################################
# nginx -t on the vendor directives

{
    write_file("$p/keys/short.key", 'k' x 31, mode => 0600);
    write_file("$p/keys/exact.key", 'k' x 32, mode => 0600);
    write_file("$p/keys/world.key", 'k' x 64, mode => 0644);
    write_file("$p/keys/world-w.key", 'k' x 64, mode => 0602);
    write_file("$p/keys/world-r.key", 'k' x 64, mode => 0604);
    write_file("$p/keys/group.key", 'k' x 64, mode => 0640);
    write_file("$p/keys/short.secret", 's' x 16, mode => 0600);

    my $pk = "$p/keys/pseudonym.key";

    sub t_conf {
        my ($directives) = @_;
        return <<"EOF";
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    digin_zone digin:1m;
    digin_issuer $ISS jwks=$idp->{jwks} audience=digin;
    digin_redis 127.0.0.1:$redis->{port};
$directives
    server {
        listen 127.0.0.1:%%PORT_t%%;
        location / { digin_vendor bokskya; proxy_pass http://127.0.0.1:1; }
    }
}
EOF
    }

    sub t_passes {
        my ($name, $directives) = @_;

        local $Test::Builder::Level = $Test::Builder::Level + 1;

        my ($code, $out) = nginx_t(t_conf($directives));
        is($code, 0, "nginx -t passes: $name") or diag($out);
    }

    # the message names the directive (with the file and line, when
    # $at matches the directive's line), and matches $what
    sub t_fails {
        my ($name, $directives, $directive, $what, $at) = @_;

        local $Test::Builder::Level = $Test::Builder::Level + 1;

        my ($code, $out, $file) = nginx_t(t_conf($directives));

        isnt($code, 0, "nginx -t fails: $name");
        like($out, qr/\[emerg\] .*"\Q$directive\E"/,
            "$name: the message names \"$directive\"") or diag($out);
        like($out, $what, "$name: says what is wrong") if $what;

        if ($at) {
            my $line = line_of($file, $at);
            like($out, qr/\[emerg\] .* in \Q$file\E:$line$/m,
                "$name: file and line");
        }

        unlike($out, qr/\[alert\]|\[crit\]|AddressSanitizer|runtime error:/,
            "$name: no alert or crash");
    }

    my $vk = "digin_vendor_key bokskya $gw_es->{pem};";

    t_passes('the pseudonym key and an ES256 vendor key',
        "digin_pseudonym_key $pk;\n$vk");
    t_passes('a pseudonym key of 32 bytes',
        "digin_pseudonym_key $p/keys/exact.key;\n$vk");
    t_passes('a group-readable pseudonym key',
        "digin_pseudonym_key $p/keys/group.key;\n$vk");
    t_passes('every alg, kid, ttl from 2s to 1h', <<"EOF");
digin_pseudonym_key $pk;
digin_assertion_issuer https://gw.example;
digin_strip_credentials off;
digin_vendor_key bokskya $gw_es->{pem} alg=ES256 kid=a ttl=2s;
digin_vendor_key lydhuset $gw_ed->{pem} alg=EdDSA kid=b ttl=1h;
digin_vendor_key ordflyt $gw_rs->{pem} alg=RS256;
digin_vendor_key lesehest $gw_hs->{secret} alg=HS256 ttl=90s;
EOF

    t_fails('pseudonym key of 31 bytes',
        "digin_pseudonym_key $p/keys/short.key;\n$vk",
        'digin_pseudonym_key', qr/32/, qr/digin_pseudonym_key/);
    t_fails('world-readable pseudonym key (0644)',
        "digin_pseudonym_key $p/keys/world.key;\n$vk",
        'digin_pseudonym_key', qr/world|others|permission|mode/i,
        qr/digin_pseudonym_key/);
    t_fails('world-readable pseudonym key (0604)',
        "digin_pseudonym_key $p/keys/world-r.key;\n$vk",
        'digin_pseudonym_key', undef, qr/digin_pseudonym_key/);
    t_fails('world-writable pseudonym key (0602)',
        "digin_pseudonym_key $p/keys/world-w.key;\n$vk",
        'digin_pseudonym_key', undef, qr/digin_pseudonym_key/);
    t_fails('missing pseudonym key',
        "digin_pseudonym_key $p/keys/nonexistent.key;\n$vk",
        'digin_pseudonym_key', qr/nonexistent\.key/,
        qr/digin_pseudonym_key/);

    t_fails('an RSA key for ES256 (the default)',
        "digin_pseudonym_key $pk;\ndigin_vendor_key bokskya $gw_rs->{pem};",
        'digin_vendor_key', qr/ES256/, qr/digin_vendor_key/);
    t_fails('an RSA key with alg=ES256',
        "digin_pseudonym_key $pk;\n"
        . "digin_vendor_key bokskya $gw_rs->{pem} alg=ES256;",
        'digin_vendor_key', qr/ES256/, qr/digin_vendor_key/);
    t_fails('an EC key with alg=EdDSA',
        "digin_pseudonym_key $pk;\n"
        . "digin_vendor_key bokskya $gw_es->{pem} alg=EdDSA;",
        'digin_vendor_key', qr/EdDSA/, qr/digin_vendor_key/);
    t_fails('an Ed25519 key with alg=RS256',
        "digin_pseudonym_key $pk;\n"
        . "digin_vendor_key bokskya $gw_ed->{pem} alg=RS256;",
        'digin_vendor_key', qr/RS256/, qr/digin_vendor_key/);
    t_fails('an HS256 secret of 16 bytes',
        "digin_pseudonym_key $pk;\n"
        . "digin_vendor_key bokskya $p/keys/short.secret alg=HS256;",
        'digin_vendor_key', qr/HS256/, qr/digin_vendor_key/);

    for my $alg (qw(PS256 ES384 HS512 none XY999)) {
        t_fails("unknown or unsupported alg=$alg",
            "digin_pseudonym_key $pk;\n"
            . "digin_vendor_key bokskya $gw_es->{pem} alg=$alg;",
            'digin_vendor_key', qr/\Q$alg\E/, qr/digin_vendor_key/);
    }

    t_fails('a missing vendor key file',
        "digin_pseudonym_key $pk;\n"
        . "digin_vendor_key bokskya $p/keys/nonexistent.pem;",
        'digin_vendor_key', qr/nonexistent\.pem/, qr/digin_vendor_key/);
    t_fails('duplicate vendor',
        "digin_pseudonym_key $pk;\n$vk\n"
        . "digin_vendor_key bokskya $gw_ed->{pem} alg=EdDSA;",
        'digin_vendor_key', qr/duplicate/, qr/alg=EdDSA/);
    t_fails('ttl=1s', "digin_pseudonym_key $pk;\n"
        . "digin_vendor_key bokskya $gw_es->{pem} ttl=1s;",
        'digin_vendor_key', qr/ttl/, qr/ttl=1s/);
    t_fails('ttl=2h', "digin_pseudonym_key $pk;\n"
        . "digin_vendor_key bokskya $gw_es->{pem} ttl=2h;",
        'digin_vendor_key', qr/ttl/, qr/ttl=2h/);
    t_fails('an unknown parameter', "digin_pseudonym_key $pk;\n"
        . "digin_vendor_key bokskya $gw_es->{pem} lifetime=60s;",
        'digin_vendor_key', qr/lifetime=60s/, qr/lifetime=60s/);
    t_fails('a vendor key without digin_pseudonym_key', $vk,
        'digin_vendor_key', qr/digin_pseudonym_key/);
}

###########################################################################

stop_daemon($vendor_a);
stop_daemon($vendor_b);

check_error_log(file => instance_error_log('vendor-a'),
    name => 'vendor-a: no alerts in the error log');
check_error_log(file => instance_error_log('vendor-b'),
    name => 'vendor-b: no alerts in the error log');

done_testing();
