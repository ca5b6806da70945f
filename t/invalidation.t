#!/usr/bin/perl

# Invalidation over Redis pub/sub: with answers cached for 300s,
# digin-admin block, unblock, revoke and load take effect within a
# second on every worker.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

use Time::HiRes qw(time);

require_module();
require_tool();
require_admin();

my $ISS = 'https://login.example';
my $WITHIN = 1.0;        # seconds, from the end of the digin-admin run

my $key = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');
my $redis = start_redis();

sub document {
    my (%o) = @_;

    my %lib0301 = (name => 'Deichman', county => '03', status => 'active',
                   packages => ['basis']);
    %lib0301 = (%lib0301, %{ $o{lib0301} }) if $o{lib0301};

    return {
        version  => 1,
        vendors  => {
            bokskya  => { name => 'Bokskya', media => ['ebook'] },
            lydhuset => { name => 'Lydhuset', media => ['audio'] },
        },
        packages => {
            basis => { name => 'Basis', vendors => ['bokskya', 'lydhuset'] },
            skole => { name => 'Skole', vendors => ['bokskya'] },
        },
        libraries => {
            '0301' => \%lib0301,
            '0402' => { name => 'Kongsvinger', county => '34',
                        packages => ['basis'] },
        },
        patrons => {
            $ISS => {
                'patron-7'  => { library => '0301' },
                'patron-8'  => { library => '0301' },
                'patron-9'  => { library => '0301' },
                'patron-10' => { library => '0402',
                                 $o{block10} ? (blocked => JSON::PP::true())
                                             : () },
                'patron-11' => { library => '0402' },
            },
        },
    };
}

load_document($redis, document());

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
worker_processes 2;
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REDIS@;
    digin_cache_ttl 300s negative=300s;

    server {
        listen 127.0.0.1:%%PORT_front%% reuseport;

        add_header X-Worker $pid always;

        location = /status { digin_status; }

        location /bokskya/ {
            digin_vendor bokskya;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /lydhuset/ {
            digin_vendor lydhuset;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
    }
    server {
        listen 127.0.0.1:%%PORT_back%%;
        access_log off;
        location / { return 204; }
    }
}
EOF

$conf =~ s/\@ISS\@/$ISS/g;
$conf =~ s/\@JWKS\@/$key->{jwks}/g;
$conf =~ s/\@REDIS\@/$redis->{port}/g;

start_nginx($conf);

sub tok {
    my (%o) = @_;
    return mint(key => $key->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => 'digin', ttl => 3600, %o);
}

# one request: [ status, error code ('' for 204), worker pid ]
sub ask {
    my ($token, $uri) = @_;

    my $r = http_get(port('front'), $uri,
        headers => { Authorization => "Bearer $token" });

    return [ 'none', '', '' ] unless $r;

    my $body = $r->{status} == 204 ? {}
                                   : eval { json_decode($r->{body}) } // {};
    return [ $r->{status}, $body->{error} // '', $r->{headers}{'x-worker'} ];
}

sub answer_is {
    my ($ans, $status, $error) = @_;
    return $ans->[0] eq $status && $ans->[1] eq ($error // '');
}

# requests until both workers have answered as wanted (at most 400)
sub on_every_worker {
    my ($token, $uri, $status, $error) = @_;

    my (%seen, @wrong);

    for (1 .. 400) {
        my $ans = ask($token, $uri);
        if (!answer_is($ans, $status, $error)) {
            push @wrong, "@$ans";
            last if @wrong > 3;
            next;
        }
        $seen{ $ans->[2] } = 1;
        last if keys %seen >= 2;
    }

    return (scalar(keys %seen) >= 2 && !@wrong, \%seen, \@wrong);
}

# a patron seen (and cached) as $status/$error by both workers
sub warm {
    my ($token, $uri, $status, $error, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($ok, $seen, $wrong) = on_every_worker($token, $uri, $status,
        $error);

    ok($ok, "$name: both workers answer $status")
        or diag("workers: " . join(',', keys %$seen)
                . "; wrong answers: @$wrong");
}

# digin-admin @args, then: within $WITHIN seconds every answer is
# $status/$error, and then both workers keep answering so
sub takes_effect {
    my ($name, $admin, $token, $uri, $status, $error) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($code, $out) = ref $admin eq 'CODE' ? $admin->()
                                            : digin_admin($redis, @$admin);
    my $t0 = time();

    is($code, 0, "$name: digin-admin") or diag($out);

    my $last;
    my $done = wait_until(sub {
        for (1 .. 6) {
            $last = ask($token, $uri);
            return 0 unless answer_is($last, $status, $error);
        }
        return 1;
    }, timeout => $WITHIN, interval => 0.01);

    my $took = time() - $t0;

    ok($done && $took <= $WITHIN + 0.1,
        sprintf("%s: %s%s within %.1fs", $name, $status,
                $error ? " $error" : '', $WITHIN))
        or diag(sprintf("after %.2fs the last answer was %s", $took,
                        join(' ', @{ $last // [] })));

    my ($ok, $seen, $wrong) = on_every_worker($token, $uri, $status,
        $error);

    ok($ok, "$name: then on both workers")
        or diag("workers: " . join(',', keys %$seen)
                . "; wrong answers: @$wrong");
}

my $p7 = tok(sub => 'patron-7');
my $p8 = tok(sub => 'patron-8');

# block and unblock

warm($p7, '/bokskya/a', 204, '', 'patron-7 before the block');
warm($p8, '/bokskya/a', 204, '', 'patron-8 before the block');

# the answers are cached: what follows is invalidation, not a new
# question to Redis
my $m0 = metrics(port('front'), '/status');
warm($p7, '/bokskya/a', 204, '', 'patron-7 again');
is(metric_delta($m0, metrics(port('front'), '/status'),
    'digin_redis_requests_total'), 0, 'cached on both workers');

takes_effect('block', [ 'block', $ISS, 'patron-7' ],
    $p7, '/bokskya/a', 403, 'patron_blocked');

warm($p8, '/bokskya/a', 204, '', 'another patron of the library unaffected');

takes_effect('unblock', [ 'unblock', $ISS, 'patron-7' ],
    $p7, '/bokskya/a', 204, '');

# revoke

my $t1 = tok(sub => 'patron-8', jti => 'inv-jti-1');
my $t2 = tok(sub => 'patron-8', jti => 'inv-jti-2');

warm($t1, '/bokskya/b', 204, '', 'token 1 before the revocation');
warm($t2, '/bokskya/b', 204, '', 'token 2 before the revocation');

takes_effect('revoke', [ 'revoke', 'inv-jti-1' ],
    $t1, '/bokskya/b', 403, 'token_revoked');

warm($t2, '/bokskya/b', 204, '', 'another token of the patron unaffected');

# loads

my $p9 = tok(sub => 'patron-9');

warm($p9, '/lydhuset/c', 204, '', 'patron-9 lydhuset before the load');
warm($p9, '/bokskya/c', 204, '', 'patron-9 bokskya before the load');

takes_effect('load: 0301 loses lydhuset',
    sub { load_document($redis, document(lib0301 => {
              packages => ['skole'] })); return (0, '') },
    $p9, '/lydhuset/c', 403, 'not_entitled');

warm($p9, '/bokskya/c', 204, '', 'load: bokskya still there');

takes_effect('load: 0301 suspended',
    sub { load_document($redis, document(lib0301 => {
              packages => ['skole'], status => 'suspended' }));
          return (0, '') },
    $p9, '/bokskya/c', 403, 'library_suspended');

my $p10 = tok(sub => 'patron-10');
my $p11 = tok(sub => 'patron-11');

warm($p10, '/bokskya/d', 204, '', 'patron-10 before the load');
warm($p11, '/bokskya/d', 204, '', 'patron-11 before the load');

takes_effect('load: patron-10 blocked in the document',
    sub { load_document($redis, document(lib0301 => {
              packages => ['skole'], status => 'suspended' },
              block10 => 1));
          return (0, '') },
    $p10, '/bokskya/d', 403, 'patron_blocked');

warm($p11, '/bokskya/d', 204, '', 'load: patron-11 unaffected');

# Redis restarted: the gateway subscribes again, invalidations still
# arrive

my $rport = $redis->{port};
stop_redis($redis, signal => 'KILL');
$redis = start_redis(port => $rport);
load_document($redis, document());

my $p12 = tok(sub => 'patron-11', jti => 'after-restart');

ok(wait_until(sub { answer_is(ask($p12, '/bokskya/e'), 204) },
    timeout => 5), 'Redis restarted: patrons pass again');

warm($p12, '/bokskya/e', 204, '', 'patron-11 after the restart');

takes_effect('block after a Redis restart', [ 'block', $ISS, 'patron-11' ],
    $p12, '/bokskya/e', 403, 'patron_blocked');

done_testing();
