#!/usr/bin/perl

# Concurrent first requests for an answer not yet cached wait for one
# Redis lookup instead of each asking (counted by digin_status).

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();
require_admin();

my $ISS = 'https://login.example';
my $N = 200;

my $key = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');
my $redis = start_redis();

load_document($redis, {
    version  => 1,
    vendors  => { bokskya => { name => 'Bokskya', media => ['ebook'] } },
    packages => { basis => { name => 'Basis', vendors => ['bokskya'] } },
    libraries => { '0301' => { name => 'Deichman', packages => ['basis'] } },
    patrons  => {},
});

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { worker_connections 1024; }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REDIS@;

    server {
        listen 127.0.0.1:%%PORT_front%% backlog=1024;

        location = /status { digin_status; }

        location /bokskya/ {
            digin_vendor bokskya;
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
    my ($sub) = @_;
    return mint(key => $key->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => 'digin', sub => $sub, library => '0301', ttl => 3600);
}

sub crowd {
    my (@tokens) = @_;
    return http_parallel(port('front'), [ map {
        "GET /bokskya/x HTTP/1.0\r\nHost: t\r\n"
        . "Authorization: Bearer $_\r\n\r\n" } @tokens ]);
}

# one patron, many requests at once: one lookup

my $t = tok('patron-1');
my $before = metrics(port('front'));
my @r = crowd(($t) x $N);
my $after = metrics(port('front'));

is(scalar(grep { $_ && $_->{status} == 204 } @r), $N,
    "$N concurrent requests of one patron all pass");
cmp_ok(metric_delta($before, $after, 'digin_redis_requests_total'), '<=', 2,
    'they made one or two Redis round trips, not one each');

# the same crowd again: all answered from the zone

$before = $after;
@r = crowd(($t) x 50);
$after = metrics(port('front'));

is(scalar(grep { $_ && $_->{status} == 204 } @r), 50, 'the crowd again');
is(metric_delta($before, $after, 'digin_redis_requests_total'), 0,
    'no round trip once cached');

# different patrons cannot share a lookup: the count is real

my @tokens = map { tok("patron-x$_") } 1 .. 20;
$before = $after;
@r = crowd(@tokens);
$after = metrics(port('front'));

is(scalar(grep { $_ && $_->{status} == 204 } @r), 20, '20 patrons pass');
is(metric_delta($before, $after, 'digin_redis_requests_total'), 20,
    '20 patrons, 20 round trips');

done_testing();
