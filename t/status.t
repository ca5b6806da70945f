#!/usr/bin/perl

# digin_status: Prometheus text format, and counters that move with
# what happens (results, cache hits and misses, evictions, Redis
# requests, errors, timeouts, reconnects, invalidations, latency).

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

use Time::HiRes qw(time);

require_module();
require_tool();
require_admin();

my $ISS = 'https://login.example';
my $BULK = 'https://bulk.example';

my $key = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');

# an HMAC issuer, so that hundreds of tokens can be made in Perl
my $secret = join '', map { chr(($_ * 37 + 11) % 256) } 1 .. 32;
my $hs_jwks = write_file(prefix() . '/keys/bulk.jwks.json', json_encode({
    keys => [ { kty => 'oct', kid => 'h1', alg => 'HS256',
                k => b64url($secret) } ] }));

my $redis = start_redis();
my $RPORT = $redis->{port};

my %doc = (
    version   => 1,
    vendors   => { bokskya  => { name => 'Bokskya', media => ['ebook'] },
                   lesehest => { name => 'Lesehest', media => ['ebook'] } },
    packages  => { basis => { name => 'Basis', vendors => ['bokskya'] } },
    libraries => { '0301' => { name => 'Deichman', county => '03',
                               packages => ['basis'] } },
);

load_document($redis, \%doc);

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:32k;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_issuer @BULK@ jwks=@HSJWKS@ audience=digin algorithms=HS256
                 library_claim=library;
    digin_redis 127.0.0.1:@REDIS@ connect_timeout=300ms timeout=300ms;

    server {
        listen 127.0.0.1:%%PORT_front%%;

        location /bokskya/ {
            digin_vendor bokskya;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /lesehest/ {
            digin_vendor lesehest;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location = /status  { digin_status; }
    }
    server {
        listen 127.0.0.1:%%PORT_back%%;
        access_log off;
        location / { return 204; }
    }
}
EOF

$conf =~ s/\@ISS\@/$ISS/g;
$conf =~ s/\@BULK\@/$BULK/g;
$conf =~ s/\@JWKS\@/$key->{jwks}/g;
$conf =~ s/\@HSJWKS\@/$hs_jwks/g;
$conf =~ s/\@REDIS\@/$RPORT/g;

start_nginx($conf);

sub tok {
    my (%o) = @_;
    return mint(key => $key->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => 'digin', ttl => 3600, library => '0301', %o);
}

my $now = time();

sub bulk_tok {
    my ($sub) = @_;
    return craft_token(
        header  => { alg => 'HS256', kid => 'h1', typ => 'JWT' },
        payload => { iss => $BULK, aud => 'digin', sub => $sub,
                     library => '0301', iat => $now, exp => $now + 3600 },
        sign    => sub { hmac_sign('HS256', $secret, $_[0]) });
}

sub snap { return metrics(port('front'), '/status') }

# undef (failing every comparison below) when a snapshot is missing
sub delta {
    my $d = metric_delta(@_);
    return defined $d ? $d : 'no metrics';
}

# the format

my %detail;
my $m = metrics(port('front'), '/status', \%detail);
my $resp = $detail{response};

ok($m, 'digin_status answers 200 without a token');
like($resp && $resp->{headers}{'content-type'} // '',
    qr{^text/plain; version=0\.0\.4\b}, 'content type');

my @lines = split /\n/, $resp ? $resp->{body} : '';
my @bad = grep {
    !/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S/
    && !/^\# \ TYPE \ [a-zA-Z_:][a-zA-Z0-9_:]*
          \ (?:counter|gauge|histogram|summary|untyped)$/x
    && !/^[a-zA-Z_:][a-zA-Z0-9_:]*
          (?:\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"
             (?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?\})?
          \ (?:[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)|[-+]Inf|NaN)
          (?:\ -?\d+)?$/x
} @lines;

ok(@lines && !@bad, 'every line is a sample, # HELP or # TYPE')
    or diag(join "\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
ok($resp && $resp->{body} =~ /\n\z/, 'the text ends with a newline');

my %type = map { /^# TYPE (\S+) (\S+)$/ ? ($1 => $2) : () } @lines;
my %sample = map { /^([a-zA-Z_:][a-zA-Z0-9_:]*)/ ? ($1 => 1) : () }
             grep { !/^#/ } @lines;

for my $name (qw(digin_cache_hits_total digin_cache_misses_total
                 digin_cache_evictions_total digin_redis_requests_total
                 digin_redis_errors_total digin_redis_timeouts_total
                 digin_redis_reconnects_total digin_invalidations_total
                 digin_redis_latency_seconds_bucket
                 digin_redis_latency_seconds_sum
                 digin_redis_latency_seconds_count))
{
    ok($sample{$name}, "$name present");
}

is($type{digin_redis_latency_seconds}, 'histogram',
    '# TYPE digin_redis_latency_seconds histogram');

for my $name (grep { $type{$_} } qw(digin_cache_hits_total
                                    digin_redis_requests_total))
{
    is($type{$name}, 'counter', "$name is a counter");
}

# results, cache and Redis requests

my $pa = tok(sub => 'patron-a');

my $m0 = snap();
is(status_of(bearer_get($pa, '/bokskya/x')), 204, 'patron-a passes');
my $m1 = snap();
is(status_of(bearer_get($pa, '/bokskya/x')), 204, 'patron-a again');
my $m2 = snap();

is(delta($m0, $m1, 'digin_requests_total', result => 'ok'), 1,
    'requests_total{result="ok"} +1');
cmp_ok(delta($m0, $m1, 'digin_cache_misses_total'), '>=', 1,
    'first request: a cache miss');
cmp_ok(delta($m0, $m1, 'digin_redis_requests_total'), '>=', 1,
    'first request: a Redis request');
cmp_ok(delta($m0, $m1, 'digin_redis_latency_seconds_count'), '>=', 1,
    'first request: a latency observation');
cmp_ok(delta($m0, $m1, 'digin_redis_latency_seconds_sum'), '>=', 0,
    'first request: latency sum does not shrink');

is(delta($m1, $m2, 'digin_requests_total', result => 'ok'), 1,
    'second request: requests_total{result="ok"} +1');
cmp_ok(delta($m1, $m2, 'digin_cache_hits_total'), '>=', 1,
    'second request: a cache hit');
is(delta($m1, $m2, 'digin_cache_misses_total'), 0,
    'second request: no cache miss');
is(delta($m1, $m2, 'digin_redis_requests_total'), 0,
    'second request: no Redis request');
is(delta($m1, $m2, 'digin_redis_latency_seconds_count'), 0,
    'second request: no latency observation');

# the histogram is cumulative and ends in +Inf = _count

my @buckets = sort { $a->[0] <=> $b->[0] }
    map { /^digin_redis_latency_seconds_bucket\{le="([^"]+)"\}$/
          ? [ $1 eq '+Inf' ? 9**9**9 : $1, $m2->{$_} ] : () } keys %$m2;

ok(@buckets >= 2, 'latency buckets');
ok(!(grep { $buckets[$_][1] < $buckets[$_ - 1][1] } 1 .. $#buckets),
    'buckets are cumulative');
is(@buckets ? $buckets[-1][0] : 0, 9**9**9, 'last bucket le="+Inf"');
is(@buckets ? $buckets[-1][1] : -1,
    metric($m2, 'digin_redis_latency_seconds_count'),
    'bucket +Inf equals _count');

# a slow round trip: Redis held for 150ms (under the 300ms timeout)
# shows in the sum and lands in a bucket above 0.1s

$m0 = snap();
kill 'STOP', $redis->{pid};
my $held = http_send(port('front'), "GET /bokskya/x HTTP/1.0\r\n"
    . "Host: localhost\r\nAuthorization: Bearer "
    . tok(sub => 'patron-slow') . "\r\n\r\n");
select undef, undef, undef, 0.15;     # the latency being measured
kill 'CONT', $redis->{pid};
is(status_of(http_receive($held)), 204, 'a slow round trip passes');
$m1 = snap();

cmp_ok(delta($m0, $m1, 'digin_redis_latency_seconds_sum'), '>=', 0.1,
    'slow round trip: latency sum grows by its duration');

my ($le_fast) = grep { $_ <= 0.1 } sort { $b <=> $a } map {
    /^digin_redis_latency_seconds_bucket\{le="([0-9.]+)"\}$/ ? $1 : () }
    keys %{ $m1 // {} };

is(defined $le_fast ? delta($m0, $m1, 'digin_redis_latency_seconds_bucket',
                            le => $le_fast) : 'no bucket <= 0.1', 0,
    'slow round trip: not counted in the buckets up to 0.1s');
cmp_ok(delta($m0, $m1, 'digin_redis_latency_seconds_bucket', le => '+Inf'),
    '>=', 1, 'slow round trip: counted in le="+Inf"');

# refusals by reason

$m0 = snap();
is(status_of(bearer_get($pa, '/lesehest/x')), 403, 'not entitled');
is(status_of(bearer_get(undef, '/bokskya/x')), 401, 'no token');
$m1 = snap();

is(delta($m0, $m1, 'digin_requests_total', result => 'not_entitled'), 1,
    'requests_total{result="not_entitled"} +1');
is(delta($m0, $m1, 'digin_requests_total', result => 'token_missing'), 1,
    'requests_total{result="token_missing"} +1');
is(delta($m0, $m1, 'digin_requests_total', result => 'ok'), 0,
    'requests_total{result="ok"} unchanged');

# invalidations

$m0 = snap();
my ($code, $out) = digin_admin($redis, 'block', $ISS, 'patron-a');
is($code, 0, 'digin-admin block') or diag($out);

ok(wait_until(sub { delta($m0, snap(), 'digin_invalidations_total') >= 1 },
    timeout => 2), 'invalidations_total grows after a block');

# Redis killed: errors; restarted on the same port: a reconnect

$m0 = snap();
stop_redis($redis, signal => 'KILL');

is(status_of(bearer_get(tok(sub => 'patron-b'), '/bokskya/x')), 503,
    'Redis killed: 503');

$m1 = snap();
cmp_ok(delta($m0, $m1, 'digin_redis_errors_total'), '>=', 1,
    'redis_errors_total grows');
is(delta($m0, $m1, 'digin_requests_total',
    result => 'entitlements_unavailable'), 1,
    'requests_total{result="entitlements_unavailable"} +1');

$redis = start_redis(port => $RPORT);
load_document($redis, \%doc);

my $c = tok(sub => 'patron-c');
ok(wait_until(sub { status_of(bearer_get($c, '/bokskya/x')) == 204 },
    timeout => 5), 'Redis back: requests pass again');

cmp_ok(delta($m0, snap(), 'digin_redis_reconnects_total'), '>=', 1,
    'redis_reconnects_total grows');

# Redis stalled: timeouts

$m0 = snap();
kill 'STOP', $redis->{pid};

my $t0 = time();
my $r = bearer_get(tok(sub => 'patron-d'), '/bokskya/x');
my $took = time() - $t0;

kill 'CONT', $redis->{pid};

is(status_of($r), 503, 'Redis stalled: 503');
cmp_ok($took, '<', 3, 'Redis stalled: answered after the timeout');
cmp_ok(delta($m0, snap(), 'digin_redis_timeouts_total'), '>=', 1,
    'redis_timeouts_total grows');

my $e = tok(sub => 'patron-e');
ok(wait_until(sub { status_of(bearer_get($e, '/bokskya/x')) == 204 },
    timeout => 5), 'Redis resumed: requests pass again');

# evictions: far more patrons than a 32k zone holds

$m0 = snap();
my %st;
$st{ status_of(bearer_get(bulk_tok("bulk-$_"), '/bokskya/x')) }++ for 1 .. 400;
is($st{204} // 0, 400, '400 patrons pass') or diag(explain \%st);

cmp_ok(delta($m0, snap(), 'digin_cache_evictions_total'), '>', 0,
    'cache_evictions_total grows when the zone is full');

done_testing();
