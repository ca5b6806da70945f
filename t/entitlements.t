#!/usr/bin/perl

# Entitlements read from Redis: vendors and media through a library's
# packages, package media narrowing, suspended libraries, blocked
# patrons, revoked tokens, the library from the token claim or from the
# patron record, nothing loaded yet, $digin_result in the access log,
# and answers served from the cache without Redis.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

use Time::HiRes qw(time);

require_module();
require_tool();
require_admin();

my $ISS = 'https://login.example';

my $key = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');
my $redis = start_redis();

my %doc = (
    version  => 1,
    vendors  => {
        bokskya  => { name => 'Bokskya', media => ['ebook'] },
        lydhuset => { name => 'Lydhuset', media => ['audio'],
                      loan_cost => 10 },
        ordflyt  => { name => 'Ordflyt', media => ['ebook', 'audio'] },
        lesehest => { name => 'Lesehest', media => ['ebook'] },
    },
    packages => {
        basis => { name => 'Basispakke',
                   vendors => ['bokskya', 'lydhuset', 'ordflyt'] },
        skole => { name => 'Skolepakke', vendors => ['bokskya', 'ordflyt'],
                   media => ['ebook'] },
    },
    libraries => {
        '0301'    => { name => 'Deichman', county => '03',
                       status => 'active', packages => ['basis'] },
        '1103'    => { name => 'Stavanger', county => '11',
                       status => 'suspended', packages => ['basis'] },
        'skole-1' => { name => 'Skolen', county => '46',
                       packages => ['skole'] },
    },
    patrons => {
        $ISS => {
            'patron-7' => { library => '0301' },
            'patron-8' => { library => '0301' },
            'patron-9' => { library => '0301', blocked => JSON::PP::true() },
            'pupil-3'  => { library => 'skole-1' },
            'patron-x' => { library => '1103' },
        },
    },
);

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { worker_connections 1024; }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REDIS@ timeout=500ms;

    log_format ent '$request_uri $status $digin_result';

    server {
        listen 127.0.0.1:%%PORT_front%%;
        access_log %%TESTDIR%%/logs/ent.log ent;

        proxy_set_header X-County $digin_county;
        proxy_set_header X-Result $digin_result;

        location /bokskya/       { digin_vendor bokskya;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }
        location /bokskya-ebook/ { digin_vendor bokskya medium=ebook;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }
        location /bokskya-audio/ { digin_vendor bokskya medium=audio;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }
        location /lydhuset/      { digin_vendor lydhuset;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }
        location /lydhuset-ebook/ { digin_vendor lydhuset medium=ebook;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }
        location /ordflyt/       { digin_vendor ordflyt;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }
        location /ordflyt-ebook/ { digin_vendor ordflyt medium=ebook;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }
        location /ordflyt-audio/ { digin_vendor ordflyt medium=audio;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }
        location /lesehest/      { digin_vendor lesehest;
                                   proxy_pass http://127.0.0.1:%%PORT_back%%; }

        location = /status { digin_status; }
    }

    server {
        listen 127.0.0.1:%%PORT_back%%;
        access_log off;
        location / {
            return 200 "county=[$http_x_county] result=[$http_x_result]\n";
        }
    }
}
EOF

$conf =~ s/\@ISS\@/$ISS/g;
$conf =~ s/\@JWKS\@/$key->{jwks}/g;
$conf =~ s/\@REDIS\@/$redis->{port}/g;

start_nginx($conf);

my $n = 0;
my @expected_log;

sub tok {
    my (%o) = @_;
    return mint(key => $key->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => 'digin', ttl => 3600, %o);
}

# a request on a URI of its own, remembered for the access log check
sub get {
    my ($token, $path, $result) = @_;

    my $uri = $path . 'item?n=' . ++$n;
    push @expected_log, [ $uri, $result ] if defined $result;

    return http_get(port('front'), $uri,
        headers => defined $token ? { Authorization => "Bearer $token" }
                                  : {});
}

# the variables the vendor saw, or undef when the request did not pass
sub upstream {
    my ($r) = @_;
    return undef unless $r && $r->{status} == 200;
    my %v = $r->{body} =~ /(\w+)=\[([^\]]*)\]/g;
    return \%v;
}

sub allowed {
    my ($token, $path, $name, %want) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $r = get($token, $path, 'ok');
    my $v = upstream($r);

    ok($v, "$name: passes")
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");

    is($v->{result}, 'ok', "$name: \$digin_result") if $v;
    is($v->{county}, $want{county}, "$name: \$digin_county")
        if $v && defined $want{county};
}

sub refused {
    my ($token, $path, $status, $reason, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    is_refused(get($token, $path, $reason), $status, $reason, $name,
        token => $token, body => { error => $reason });
}

my $p7 = tok(sub => 'patron-7');

# nothing loaded yet: fail closed

refused($p7, '/bokskya/', 503, 'entitlements_unavailable',
    'nothing loaded');

load_document($redis, \%doc);

ok(wait_until(sub {
    my $r = http_get(port('front'), '/bokskya/after-load',
        headers => { Authorization => "Bearer $p7" });
    return $r && $r->{status} == 200;
}, timeout => 2), 'after the first load the patron passes');

# the library from the patron record (0301: basis)

allowed($p7, '/bokskya/', 'record 0301, bokskya', county => '03');
allowed($p7, '/bokskya-ebook/', 'record 0301, bokskya ebook');
allowed($p7, '/lydhuset/', 'record 0301, lydhuset (audio)');
allowed($p7, '/ordflyt-audio/', 'record 0301, ordflyt audio');
allowed($p7, '/ordflyt/', 'record 0301, ordflyt any medium');

refused($p7, '/lesehest/', 403, 'not_entitled',
    'vendor in no package of the library');
refused($p7, '/bokskya-audio/', 403, 'not_entitled',
    'bokskya medium=audio: the vendor has no audio');
refused($p7, '/lydhuset-ebook/', 403, 'not_entitled',
    'lydhuset medium=ebook: the vendor has no ebook');

# package media narrowing: skole holds bokskya and ordflyt for ebook only

my $pupil = tok(sub => 'pupil-3');

allowed($pupil, '/bokskya-ebook/', 'school patron: bokskya ebook',
    county => '46');
allowed($pupil, '/ordflyt-ebook/', 'school patron: ordflyt ebook');
allowed($pupil, '/ordflyt/', 'school patron: ordflyt, any medium');
refused($pupil, '/ordflyt-audio/', 403, 'not_entitled',
    'school patron: ordflyt audio, narrowed away by the package');
refused($pupil, '/lydhuset/', 403, 'not_entitled',
    'school patron: lydhuset is not in the school package');

# the library from the token claim

my $claim_pupil = tok(sub => 'pupil-99', library => 'skole-1');

allowed($claim_pupil, '/bokskya/', 'claim skole-1 without a patron record',
    county => '46');
refused($claim_pupil, '/ordflyt-audio/', 403, 'not_entitled',
    'claim skole-1: narrowing applies');

my $p7_school = tok(sub => 'patron-7', library => 'skole-1');

allowed($p7_school, '/bokskya/', 'claim skole-1 beats record 0301',
    county => '46');
refused($p7_school, '/lydhuset/', 403, 'not_entitled',
    'claim skole-1 beats record 0301: no lydhuset');

my $pupil_0301 = tok(sub => 'pupil-3', library => '0301');

allowed($pupil_0301, '/lydhuset/', 'claim 0301 beats record skole-1',
    county => '03');

# suspended library

refused(tok(sub => 'patron-x'), '/bokskya/', 403, 'library_suspended',
    'record 1103: suspended');
refused(tok(sub => 'patron-7', library => '1103'), '/bokskya/', 403,
    'library_suspended', 'claim 1103: suspended');

# unknown patron, unknown library

refused(tok(sub => 'nobody'), '/bokskya/', 403, 'not_entitled',
    'unknown patron without a library claim');
refused(tok(sub => 'nobody', library => '9999'), '/bokskya/', 403,
    'not_entitled', 'library claim naming no library');

# blocked patrons

my $p9 = tok(sub => 'patron-9');

refused($p9, '/bokskya/', 403, 'patron_blocked',
    'blocked in the document');
refused(tok(sub => 'patron-9', library => '0301'), '/bokskya/', 403,
    'patron_blocked', 'blocked in the document, library from the claim');

my ($code, $out) = digin_admin($redis, 'block', $ISS, 'patron-8');
is($code, 0, 'digin-admin block') or diag($out);

refused(tok(sub => 'patron-8'), '/bokskya/', 403, 'patron_blocked',
    'blocked with digin-admin block');

# revoked tokens

my $rev = tok(sub => 'patron-7', jti => 'jti-revoked-1');

($code, $out) = digin_admin($redis, 'revoke', 'jti-revoked-1');
is($code, 0, 'digin-admin revoke') or diag($out);

refused($rev, '/bokskya/', 403, 'token_revoked', 'revoked jti');
allowed(tok(sub => 'patron-7', jti => 'jti-fine-1'), '/bokskya/',
    'same patron, another jti');

# without a token the gate still says 401

is_denied(get(undef, '/bokskya/', 'token_missing'), 'token_missing',
    'digin_vendor implies digin on');

# $digin_result in the access log

my $log = prefix() . '/logs/ent.log';
my $last = $expected_log[-1][0];

ok(wait_until(sub { (read_file($log) // '') =~ /^\Q$last\E /m },
    timeout => 5), 'access log written');

my %logged = map { (split / /)[0] => (split / /)[2] // '' }
    split /\n/, read_file($log) // '';

my @wrong = grep { ($logged{ $_->[0] } // '<none>') ne $_->[1] }
    @expected_log;

ok(!@wrong, '$digin_result in the access log')
    or diag(join "\n", map { "$_->[0]: want $_->[1], got "
                             . ($logged{ $_->[0] } // '<none>') }
                       @wrong[0 .. ($#wrong > 9 ? 9 : $#wrong)]);

# the cache: a repeated question does not go to Redis

my $cached = tok(sub => 'cache-1', library => '0301');

my $m0 = metrics(port('front'), '/status');
ok($m0, 'status location answers');

allowed($cached, '/bokskya/', 'cache: first request');
my $m1 = metrics(port('front'), '/status');

allowed($cached, '/bokskya/', 'cache: second request');
my $m2 = metrics(port('front'), '/status');

cmp_ok(metric_delta($m0, $m1, 'digin_redis_requests_total') // -1, '>=', 1,
    'cache: the first request asked Redis');
is(metric_delta($m1, $m2, 'digin_redis_requests_total'), 0,
    'cache: the second request did not');

# Redis gone: cached answers are served within the TTL (60s by
# default), a new question gets 503

stop_redis($redis);

allowed($cached, '/bokskya/', 'cache: served with Redis down');
allowed($p7, '/bokskya/', 'cache: record patron served with Redis down');

refused(tok(sub => 'cache-2', library => '0301'), '/bokskya/', 503,
    'entitlements_unavailable', 'Redis down: an uncached patron');

stop_nginx();

# cache TTLs: answers for 300s, answers that found nothing (no such
# patron) for 1s.  Redis is changed behind the gateway's back (no
# invalidation published), so only expiry can make an answer change.

my $redis2 = start_redis();
load_document($redis2, \%doc);

my $ttl_conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis @ADDR@;
    digin_cache_ttl 300s negative=1s;

    server {
        listen 127.0.0.1:%%PORT_front%%;

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

sub ttl_conf {
    my ($addr) = @_;
    my $c = $ttl_conf;
    $c =~ s/\@ISS\@/$ISS/g;
    $c =~ s/\@JWKS\@/$key->{jwks}/g;
    $c =~ s/\@ADDR\@/$addr/g;
    return $c;
}

sub status_for {
    my ($token) = @_;
    my $r = http_get(port('front'), '/bokskya/x',
        headers => { Authorization => "Bearer $token" });
    return $r ? $r->{status} : 'none';
}

start_nginx(ttl_conf("127.0.0.1:$redis2->{port}"));

# a patron with no record and no library claim: not found, a negative
# answer (1s); patron-7: found (300s)

my $newbie = tok(sub => 'newbie');

is(status_for($p7), 204, 'ttl: patron-7 passes (cached for 300s)');
is(status_for($newbie), 403, 'ttl: no record for newbie (cached for 1s)');

# behind the gateway's back: newbie gets a record, patron-7 a block

my $gen = redis_cmd($redis2->{port}, 'GET', 'digin:gen');
redis_cmd($redis2->{port}, 'HSET', "digin:$gen:pat:$ISS newbie",
    'library', '0301', 'blocked', '0');
redis_cmd($redis2->{port}, 'SADD', "digin:$gen:keys",
    "digin:$gen:pat:$ISS newbie");
redis_cmd($redis2->{port}, 'HSET', 'digin:block', "$ISS patron-7", time());

my $t0 = time();
my (%p7, $newbie_at);

while (time() - $t0 < 2.5) {
    $p7{ status_for($p7) }++;
    $newbie_at //= time() - $t0 if status_for($newbie) == 204;
    select undef, undef, undef, 0.05;
}

$newbie_at //= time() - $t0
    if wait_until(sub { status_for($newbie) == 204 }, timeout => 3);

ok(defined $newbie_at && $newbie_at < 2.5,
    'ttl: the negative answer expires after negative=1s')
    or diag('newbie passed after ' . ($newbie_at // 'never'));
is_deeply(\%p7, { 204 => $p7{204} // -1 },
    'ttl: the positive answer holds for longer')
    or diag(explain \%p7);

stop_nginx();

# digin_redis over a unix socket, with db= and password_file=

my $sock = prefix() . '/redis-auth.sock';
my $redis3 = start_redis(args => [ '--unixsocket', $sock,
                                   '--unixsocketperm', '700' ]);

redis_cmd($redis3->{port}, 'CONFIG', 'SET', 'requirepass', 'Ut7-redis-pw');

my $pwfile = write_file(prefix() . '/redis.pw', 'Ut7-redis-pw', mode => 0600);
my $badpw = write_file(prefix() . '/redis-bad.pw', 'wrong', mode => 0600);
my $docfile = write_file(prefix() . '/entitlements-db2.json',
    json_encode(\%doc));

($code, $out) = digin_admin("unix:$sock", '--password-file', $pwfile,
    '--db', 2, 'load', $docfile);
is($code, 0, 'digin-admin load into db 2 with a password') or diag($out);

start_nginx(ttl_conf("unix:$sock password_file=$pwfile db=2"));
is(status_for($p7), 204, 'unix socket, db=2, password_file: passes');
stop_nginx();

start_nginx(ttl_conf("unix:$sock password_file=$pwfile"));
is(status_for($p7), 503, 'db 0 holds nothing: 503');
stop_nginx();

start_nginx(ttl_conf("unix:$sock password_file=$badpw db=2"));
is(status_for($p7), 503, 'a wrong password: 503');
stop_nginx();

# configuration errors

my $base = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    @ZONE@
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin;
    digin_redis @ADDR@;
    @FAILURE@
    server {
        listen 127.0.0.1:%%PORT_front%%;
        location / {
            @LOCATION@
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
    }
}
EOF

sub check_conf {
    my (%o) = @_;
    my $c = $base;
    $c =~ s/\@ISS\@/$ISS/g;
    $c =~ s/\@JWKS\@/$key->{jwks}/g;
    $c =~ s/\@ZONE\@/$o{zone} \/\/ 'digin_zone digin:1m;'/e;
    $c =~ s/\@ADDR\@/$o{addr} \/\/ '127.0.0.1:6379'/e;
    $c =~ s/\@FAILURE\@/$o{failure} \/\/ ''/e;
    $c =~ s/\@LOCATION\@/$o{location} \/\/ 'digin_vendor bokskya;'/e;
    return nginx_t($c);
}

($code, $out) = check_conf(location => 'digin_vendor bokskya medium=ebook;'
    . ' digin_loan title=$arg_t;');
is($code, 0, 'nginx -t: a valid configuration') or diag($out);

for my $case (
    [ 'digin_redis without digin_zone', zone => '' ],
    [ 'digin_redis with a host name that does not resolve',
      addr => 'redis.invalid:6379' ],
    [ 'digin_redis with an unknown parameter',
      addr => '127.0.0.1:6379 pool=3' ],
    [ 'digin_redis_failure maybe', failure => 'digin_redis_failure maybe;' ],
    [ 'digin_vendor medium=video',
      location => 'digin_vendor bokskya medium=video;' ],
    [ 'digin_loan without digin_vendor', location => 'digin_loan;' ],
    [ 'digin_loan medium=video',
      location => 'digin_vendor bokskya; digin_loan medium=video;' ],
) {
    my ($name, %o) = @$case;
    ($code, $out) = check_conf(%o);
    isnt($code, 0, "nginx -t refuses $name");
    like($out, qr/\[emerg\]/, "$name: [emerg]") or diag($out);
}

done_testing();
