#!/usr/bin/perl

# Streaming through the gateway: Range requests to an audio vendor (206,
# the exact bytes and Content-Range, one range after another, a
# multipart answer, 416), the token cookie of media elements (stripped
# before the vendor), and a 50 MB file streamed with proxy_buffering off
# without a temporary file on the gateway, byte for byte.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();
require_admin();

my $p = prefix();

my $ISS = 'https://login.example';
my $SUB = 'lytter-2718';

my $idp = keygen('ec', 'idp', kid => 'e1', alg => 'ES256');
my $redis = start_redis();

load_document($redis, {
    version  => 1,
    vendors  => {
        lydhuset => { name => 'Lydhuset', media => ['audio'] },
    },
    packages => {
        basis => { name => 'Basispakke', vendors => ['lydhuset'] },
    },
    libraries => {
        '0301' => { name => 'Deichman', county => '03',
                    packages => ['basis'] },
    },
    patrons => { $ISS => { $SUB => { library => '0301' } } },
});

# the vendor's files: 3 MB and a little (an audio book chapter), 50 MB
my $SMALL = 3 * 1048576 + 12345;
my $BIG = 50 * 1048576;

my $chapter = generate_file("$p/www/chapter-1.mp3", $SMALL);
my $big = generate_file("$p/www/book.m4b", $BIG);
my $data = read_file($chapter);

is(length $data, $SMALL, 'the chapter file');
isnt(substr($data, 1048576, 16), substr($data, 0, 16),
    'the chapter\'s bytes differ from place to place');

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REDIS@;
    digin_token_cookie digin_token;

    log_format seen '$request_uri range=[$http_range] '
                    'auth=[$http_authorization] cookie=[$http_cookie]';

    server {
        listen 127.0.0.1:%%PORT_gw%%;

        location /audio/ {
            digin_vendor lydhuset medium=audio;
            proxy_pass http://127.0.0.1:%%PORT_files%%/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location /stream/ {
            digin_vendor lydhuset medium=audio;
            proxy_pass http://127.0.0.1:%%PORT_files%%/;
            proxy_buffering off;
        }

        # the same, buffered (the default): shows that the temp file
        # checks can see one
        location /buffered/ {
            digin_vendor lydhuset medium=audio;
            proxy_pass http://127.0.0.1:%%PORT_files%%/;
        }
    }

    # the audio vendor: static files
    server {
        listen 127.0.0.1:%%PORT_files%%;
        access_log %%TESTDIR%%/logs/vendor.log seen;
        root %%TESTDIR%%/www;
    }
}
EOF

$conf =~ s/\@ISS\@/$ISS/g;
$conf =~ s/\@JWKS\@/$idp->{jwks}/g;
$conf =~ s/\@REDIS\@/$redis->{port}/g;

start_nginx($conf);

my $token = mint(key => $idp->{pem}, alg => 'ES256', kid => 'e1',
    iss => $ISS, aud => 'digin', sub => $SUB, ttl => 3600);

my $COOKIE = "volume=80; digin_token=$token; player=compact";

sub get {
    my ($path, @headers) = @_;
    return http_get(port('gw'), $path,
        headers => [ Cookie => $COOKIE, @headers ], timeout => 60);
}

# the vendor's access log line for $uri
sub vendor_saw {
    my ($uri) = @_;

    return wait_until(sub {
        my ($line) = grep { index($_, "$uri ") == 0 }
                     split /\n/, read_file("$p/logs/vendor.log") // '';
        return $line;
    }, timeout => 5);
}

###########################################################################
# Range requests with the token in a cookie, as an <audio> element sends

is_denied(http_get(port('gw'), '/audio/chapter-1.mp3',
        headers => { Range => 'bytes=0-99' }),
    'token_missing', 'a range without a token');

my @ranges = (
    [ 'bytes=0-99',               0,             100 ],
    [ 'bytes=1048570-1048585',    1048570,       16 ],
    [ 'bytes=2000000-2999999',    2000000,       1000000 ],
    [ "bytes=@{[ $SMALL - 1000 ]}-", $SMALL - 1000, 1000 ],
    [ 'bytes=-500',               $SMALL - 500,  500 ],
    [ 'bytes=3145000-3200000',    3145000,       $SMALL - 3145000 ],
);

my $n = 0;

for my $rg (@ranges) {
    my ($range, $from, $len) = @$rg;
    my $uri = '/chapter-1.mp3?n=' . ++$n;

    my $r = get("/audio$uri", Range => $range);

    is($r && $r->{status}, 206, "$range: 206")
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");
    is($r && $r->{headers}{'content-range'},
        "bytes $from-" . ($from + $len - 1) . "/$SMALL",
        "$range: Content-Range");
    is($r && $r->{headers}{'content-length'}, $len, "$range: Content-Length");
    ok($r && $r->{body} eq substr($data, $from, $len),
        "$range: exactly the file's bytes");

    my $line = vendor_saw($uri) // '';
    like($line, qr/range=\[\Q$range\E\]/, "$range: the vendor got the Range");
    like($line, qr/auth=\[-?\]/, "$range: no Authorization at the vendor");
    like($line, qr/cookie=\[volume=80; player=compact\]/,
        "$range: the token cookie stripped, the others kept");
    ok(index($line, $SUB) < 0
       && !grep({ index($line, substr($token, $_, 20)) >= 0 }
                0 .. length($token) - 20),
        "$range: nothing of the patron or the token at the vendor");
}

{
    my $r = get('/audio/chapter-1.mp3?whole');

    is($r && $r->{status}, 200, 'no Range: 200');
    is($r && $r->{headers}{'accept-ranges'}, 'bytes', 'Accept-Ranges: bytes');
    ok($r && $r->{body} eq $data, 'no Range: the whole file');

    $r = get('/audio/chapter-1.mp3?past-end', Range => "bytes=$SMALL-");
    is($r && $r->{status}, 416, 'a range past the end: 416');
    is($r && $r->{headers}{'content-range'}, "bytes */$SMALL",
        'a range past the end: Content-Range');

    $r = get('/audio/chapter-1.mp3?multi',
        Range => 'bytes=0-9,1048576-1048591');
    my ($boundary) = (($r && $r->{headers}{'content-type'}) // '')
                     =~ m{^multipart/byteranges; boundary=(\S+)$};

    is($r && $r->{status}, 206, 'two ranges: 206');
    ok($boundary, 'two ranges: multipart/byteranges');

    my @parts = defined $boundary
        ? grep { /Content-Range/ } split /\r?\n--\Q$boundary\E(?:--)?\r?\n/,
                                         $r->{body}
        : ();
    my @got = map { /Content-Range: bytes (\d+)-(\d+)\/(\d+)\r\n\r\n(.*)\z/s
                    ? [ $1, $2, $3, $4 ] : () } @parts;

    is_deeply(\@got, [ [ 0, 9, $SMALL, substr($data, 0, 10) ],
                       [ 1048576, 1048591, $SMALL,
                         substr($data, 1048576, 16) ] ],
        'two ranges: both parts, with the right bytes');
}

###########################################################################
# 50 MB with proxy_buffering off: no temporary file, the same bytes

my $temp = "$p/temp/proxy";
my $WARN = qr/an upstream response is buffered to a temporary file/;
my $want = file_sha256($big);

# temporary files of the gateway: in the directory, or open in a worker
# (nginx unlinks them as soon as they are open)
sub spooled {
    return (files_under($temp), open_files_under($temp, nginx_workers()));
}

ok(scalar nginx_workers(), 'the workers of the gateway are known');
is_deeply([ spooled() ], [], 'no temporary file to begin with');

{
    my $since = error_log_size();

    my $r = get('/stream/book.m4b?whole');

    is($r && $r->{status}, 200, 'unbuffered: 200')
        or diag($r ? "$r->{status}" : "no response: $@");
    is($r && $r->{headers}{'content-length'}, $BIG,
        'unbuffered: Content-Length');
    is($r && length $r->{body}, $BIG, 'unbuffered: 50 MB received');
    is($r && Digest::SHA::sha256_hex($r->{body}), $want,
        'unbuffered: SHA-256 of the bytes');

    undef $r;

    # a client that stops reading: the gateway stops reading from the
    # vendor instead of spooling to disk
    my $h = http_send(port('gw'), "GET /stream/book.m4b?slow HTTP/1.0\r\n"
        . "Host: localhost\r\nCookie: $COOKIE\r\n\r\n");

    my $spooled = wait_until(sub { scalar spooled() },
        timeout => 2);
    ok(!$spooled, 'unbuffered, the client not reading: no temporary file');

    $r = http_receive($h, timeout => 60);
    is($r && Digest::SHA::sha256_hex($r->{body}), $want,
        'unbuffered, read late: SHA-256 of the bytes');

    my @warned = grep { $_ =~ $WARN } error_log_lines_since($since);
    is(scalar @warned, 0, 'unbuffered: no "buffered to a temporary file"')
        or diag($warned[0]);
    is_deeply([ spooled() ], [],
        'unbuffered: the proxy temp directory stays empty');
}

# the control: buffered, a client that stops reading makes nginx spool,
# and the checks above see it

{
    my $since = error_log_size();

    my $h = http_send(port('gw'), "GET /buffered/book.m4b?slow HTTP/1.0\r\n"
        . "Host: localhost\r\nCookie: $COOKIE\r\n\r\n");

    my $spooled = wait_until(sub { scalar spooled() },
        timeout => 10);
    ok($spooled, 'buffered, the client not reading: a temporary file');

    my $r = http_receive($h, timeout => 60);
    is($r && Digest::SHA::sha256_hex($r->{body}), $want,
        'buffered: SHA-256 of the bytes');

    ok((grep { $_ =~ $WARN } error_log_lines_since($since)),
        'buffered: "buffered to a temporary file" logged');
}

done_testing();
