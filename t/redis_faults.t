#!/usr/bin/perl

# Redis failing: killed (deny answers 503, stale serves the last cached
# answer, recovery without a reload once Redis is back), stalled (503
# after the timeout while the worker keeps serving everything else),
# and a server that answers garbage, half a reply, the wrong type, or
# nothing at all (503, no worker crash).

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;
use Digin::FakeRedis;

use Time::HiRes qw(time);

require_module();
require_tool();
require_admin();

my $ISS = 'https://login.example';
my $TIMEOUT = 1;         # digin_redis timeout=, seconds
my $MARGIN = 1.5;        # what "about the timeout" allows on top

my $key = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');

my %doc = (
    version   => 1,
    vendors   => { bokskya => { name => 'Bokskya', media => ['ebook'] } },
    packages  => { basis => { name => 'Basis', vendors => ['bokskya'] } },
    libraries => { '0301' => { name => 'Deichman', county => '03',
                               packages => ['basis'] } },
);

my $redis = start_redis();
my $RPORT = $redis->{port};
load_document($redis, \%doc);

my $template = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
worker_processes 1;
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REDIS@ connect_timeout=@TIMEOUT@s
                timeout=@TIMEOUT@s;
    digin_cache_ttl 1s negative=1s stale=@STALE@;

    server {
        listen 127.0.0.1:%%PORT_front%%;

        location /deny/ {
            digin_vendor bokskya;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /stale/ {
            digin_vendor bokskya;
            digin_redis_failure stale;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location = /fast { return 200 "$pid"; }
    }
    server {
        listen 127.0.0.1:%%PORT_back%%;
        access_log off;
        location / { return 204; }
    }
}
EOF

sub conf {
    my ($port, $stale) = @_;
    my $c = $template;
    $c =~ s/\@STALE\@/$stale \/\/ '1h'/e;
    $c =~ s/\@ISS\@/$ISS/g;
    $c =~ s/\@JWKS\@/$key->{jwks}/g;
    $c =~ s/\@REDIS\@/$port/g;
    $c =~ s/\@TIMEOUT\@/$TIMEOUT/g;
    return $c;
}

my $seq = 0;

sub tok {
    my (%o) = @_;
    return mint(key => $key->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => 'digin', ttl => 3600, library => '0301', %o);
}

sub fresh { return tok(sub => 'fresh-' . ++$seq) }

sub get {
    my ($token, $uri) = @_;
    return bearer_get($token, $uri, timeout => 10);
}

sub unavailable {
    my ($r, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_refused($r, 503, 'entitlements_unavailable', $name,
        body => { error => 'entitlements_unavailable' });
}

sub worker_pid {
    my $r = http_get(port('front'), '/fast');
    return $r && $r->{status} == 200 ? $r->{body} : undef;
}

start_nginx(conf($RPORT));

my $pid = worker_pid();
ok($pid, 'the worker answers');

# Redis killed

my $pa = tok(sub => 'patron-a');
is(status_of(get($pa, '/deny/x')), 204, 'deny: passes with Redis up');
is(status_of(get($pa, '/stale/x')), 204, 'stale: passes with Redis up');

stop_redis($redis, signal => 'KILL');

# within the 1s TTL the cached answer may still be fresh; once it has
# expired, deny refuses
my $r;
ok(wait_until(sub { $r = get($pa, '/deny/x'); status_of($r) == 503 },
    timeout => 5), 'deny: 503 once the cached answer has expired');
unavailable($r, 'deny, Redis killed');

is(status_of(get($pa, '/stale/x')), 204,
    'stale: the expired answer is served while Redis is down');

unavailable(get(fresh(), '/stale/x'), 'stale, a patron never cached');
unavailable(get(fresh(), '/deny/x'), 'deny, a patron never cached');

# Redis back on the same port, no reload

$redis = start_redis(port => $RPORT);
load_document($redis, \%doc);

ok(wait_until(sub { status_of(get($pa, '/deny/x')) == 204 }, timeout => 5),
    'deny: passes again once Redis is back');
is(status_of(get(fresh(), '/deny/x')), 204, 'a new patron passes');
is(worker_pid(), $pid, 'the same worker');

# Redis stalled (SIGSTOP): 503 after the timeout, while the single
# worker keeps answering other requests at once

is(status_of(get($pa, '/stale/x')), 204, 'stale: cached before the stall');

kill 'STOP', $redis->{pid};

my $slow = http_send(port('front'), "GET /deny/x HTTP/1.0\r\n"
    . "Host: localhost\r\nAuthorization: Bearer " . fresh() . "\r\n\r\n");

my $t0 = time();
my $fast = http_get(port('front'), '/fast', timeout => 10);
my $fast_took = time() - $t0;

is(status_of($fast), 200, 'stall: another location answers');
cmp_ok($fast_took, '<', $TIMEOUT / 2,
    'stall: ... without waiting for the Redis timeout');

$r = http_receive($slow, timeout => $TIMEOUT + $MARGIN + 5);
unavailable($r, 'stall: deny');
cmp_ok($slow->{elapsed}, '<', $TIMEOUT + $MARGIN,
    'stall: 503 within about the timeout');

ok(wait_until(sub { status_of(get($pa, '/deny/x')) == 503 }, timeout => 5),
    'stall: deny, the cached answer expired');

$t0 = time();
is(status_of(get($pa, '/stale/x')), 204,
    'stall: stale serves the expired answer');
cmp_ok(time() - $t0, '<', $TIMEOUT + $MARGIN,
    'stall: stale answered within about the timeout');

kill 'CONT', $redis->{pid};

my $after = fresh();
ok(wait_until(sub { status_of(get($after, '/deny/x')) == 204 },
    timeout => 5), 'stall over: requests pass again');
is(worker_pid(), $pid, 'the same worker after the stall');

# a fake server: garbage, half replies, wrong types, silence

stop_nginx();

my $fake = Digin::FakeRedis->start(mode => 'proxy', upstream => $RPORT);

start_nginx(conf($fake->port));

$pid = worker_pid();
ok($pid, 'fake server: the worker answers');

is(status_of(get(fresh(), '/deny/x')), 204,
    'fake server relaying to Redis: passes');

for my $mode (qw(garbage half wrongtype close silent garbage)) {
    $fake->mode($mode);

    $t0 = time();
    unavailable(get(fresh(), '/deny/x'), "$mode: a new patron");
    unavailable(get(fresh(), '/deny/x'), "$mode: another new patron");
    cmp_ok(time() - $t0, '<', 2 * ($TIMEOUT + $MARGIN),
        "$mode: answered within about the timeout");

    is(worker_pid(), $pid, "$mode: no worker crash");
}

$fake->mode('proxy');
my $back = fresh();
ok(wait_until(sub { status_of(get($back, '/deny/x')) == 204 },
    timeout => 5), 'relaying again: passes');

is(worker_pid(), $pid, 'fake server: the same worker throughout');

# a reload while Redis is stalled and a request waits for it: the old
# worker finishes it, the new one takes over, nothing crashes

stop_nginx();
$fake->stop();

start_nginx(conf($RPORT));
my $old = worker_pid();

kill 'STOP', $redis->{pid};

$slow = http_send(port('front'), "GET /deny/x HTTP/1.0\r\n"
    . "Host: localhost\r\nAuthorization: Bearer " . fresh() . "\r\n\r\n");
select undef, undef, undef, 0.1;      # let the worker send the command
kill 'HUP', nginx_pid();

my $new;
ok(wait_until(sub { $new = worker_pid(); $new && $new ne $old },
    timeout => 5), 'reload during a stall: a new worker answers');

unavailable(http_receive($slow, timeout => $TIMEOUT + $MARGIN + 5),
    'reload during a stall: the waiting request');

kill 'CONT', $redis->{pid};

# a worker shutting down must not be kept alive by its Redis
# connections or timers
ok(wait_until(sub { !kill 0, $old }, timeout => 10),
    'reload during a stall: the old worker exits');

my $later = fresh();
ok(wait_until(sub { status_of(get($later, '/deny/x')) == 204 },
    timeout => 5), 'after the reload and the stall: requests pass');

# staleness is bounded: with stale=2s an answer is served at most
# ttl (1s) + 2s after it was cached

stop_nginx();

start_nginx(conf($RPORT, '2s'));

my $pb = tok(sub => 'patron-b');
is(status_of(get($pb, '/stale/x')), 204, 'stale=2s: cached');
my $cached_at = time();

stop_redis($redis, signal => 'KILL');

ok(wait_until(sub { status_of(get($pb, '/deny/x')) == 503 }, timeout => 5),
    'stale=2s: deny refuses once the answer has expired');
is(status_of(get($pb, '/stale/x')), 204,
    'stale=2s: stale serves the expired answer');

$r = undef;
ok(wait_until(sub { $r = get($pb, '/stale/x'); status_of($r) == 503 },
    timeout => 6), 'stale=2s: then refuses');
my $served_for = time() - $cached_at;
cmp_ok($served_for, '<', 1 + 2 + $MARGIN,
    'stale=2s: no longer than ttl + stale');
unavailable($r, 'stale=2s: past the bound');

done_testing();
