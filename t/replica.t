#!/usr/bin/perl

# Scale-out: the gateway reads entitlements from a replica
# (digin_redis) and writes loan counters to the primary
# (digin_redis_primary).  A replica refuses writes, so a loan that
# succeeds and shows up on the primary proves the split.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();
require_admin();

my $ISS = 'https://login.example';
my $PERIOD = 30 * 86400;

my $key = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');

my $primary = start_redis();
my $replica = start_redis(args => [ '--replicaof', '127.0.0.1',
                                    $primary->{port} ]);

ok(wait_until(sub {
    my $i = eval { redis_info($replica->{port}, 'replication') } // {};
    return ($i->{master_link_status} // '') eq 'up';
}, timeout => 10), 'replica: master_link_status up');

load_document($primary, {
    version   => 1,
    vendors   => { bokskya  => { name => 'Bokskya', media => ['ebook'] },
                   lydhuset => { name => 'Lydhuset', media => ['audio'],
                                 loan_cost => 10 } },
    packages  => { basis => { name => 'Basis',
                              vendors => ['bokskya', 'lydhuset'] } },
    libraries => { '0301' => { name => 'Deichman', county => '03',
                               packages => ['basis'],
                               quota => { period_days => 30, ebook => 3,
                                          audio => 2 },
                               monthly_budget => 5000, loan_days => 21 } },
    patrons   => { $ISS => { 'patron-7' => { library => '0301' },
                             'patron-8' => { library => '0301' } } },
});

ok(wait_replica_synced($replica->{port}, $primary->{port}),
    'replica has the document');
is(redis_cmd($replica->{port}, 'GET', 'digin:gen'),
   redis_cmd($primary->{port}, 'GET', 'digin:gen'),
   'replica: same generation as the primary');

ok(!eval { redis_cmd($replica->{port}, 'SET', 'digin:probe', '1'); 1 }
   && $@ =~ /READONLY/, 'the replica refuses writes');

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REPLICA@ timeout=500ms;
    digin_redis_primary 127.0.0.1:@PRIMARY@ timeout=500ms;

    server {
        listen 127.0.0.1:%%PORT_front%%;

        location /bokskya/ {
            digin_vendor bokskya;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /loan/bokskya/ {
            digin_vendor bokskya;
            digin_loan;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /loan/lydhuset/ {
            digin_vendor lydhuset;
            digin_loan;
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
$conf =~ s/\@REPLICA\@/$replica->{port}/g;
$conf =~ s/\@PRIMARY\@/$primary->{port}/g;

start_nginx($conf);

sub tok {
    my (%o) = @_;
    return mint(key => $key->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => 'digin', ttl => 3600, %o);
}

my $p7 = tok(sub => 'patron-7');

is(status_of(bearer_get($p7, '/bokskya/x')), 204, 'read through the replica');

# loans: counted on the primary

is(status_of(bearer_get($p7, '/loan/bokskya/t1')), 204, 'loan 1');
is(status_of(bearer_get($p7, '/loan/bokskya/t2')), 204, 'loan 2');
is(status_of(bearer_get($p7, '/loan/bokskya/t1')), 204, 'loan 1 again');
is(status_of(bearer_get($p7, '/loan/lydhuset/a1')), 204, 'audio loan');

my $start = int(time() / $PERIOD) * $PERIOD;
my @t = gmtime(time());
my $month = sprintf('%04d-%02d', $t[5] + 1900, $t[4] + 1);

my $qkey = "digin:quota:$ISS patron-7:ebook:$start";
my $akey = "digin:quota:$ISS patron-7:audio:$start";
my $bkey = "digin:budget:0301:$month";

is(redis_cmd($primary->{port}, 'GET', $qkey), 2,
    "primary: $qkey is 2")
    or diag('quota keys on the primary: ' . join(', ', @{
        redis_cmd($primary->{port}, 'KEYS', 'digin:quota:*') // [] }));
is(redis_cmd($primary->{port}, 'GET', $akey), 1, "primary: $akey is 1");
is(redis_cmd($primary->{port}, 'GET', $bkey), 12,
    "primary: $bkey is 12 (2 x 1 + 10)")
    or diag('budget keys on the primary: ' . join(', ', @{
        redis_cmd($primary->{port}, 'KEYS', 'digin:budget:*') // [] }));

my $lkey = "digin:loan:$ISS patron-7:bokskya:/loan/bokskya/t1";
my $ttl = redis_cmd($primary->{port}, 'TTL', $lkey);
ok($ttl > 20 * 86400 && $ttl <= 21 * 86400,
    "primary: $lkey expires with the loan (21 days)")
    or diag("TTL $ttl; loan keys: " . join(', ', @{
        redis_cmd($primary->{port}, 'KEYS', 'digin:loan:*') // [] }));

ok(wait_replica_synced($replica->{port}, $primary->{port}),
    'the counters replicate');
is(redis_cmd($replica->{port}, 'GET', $qkey), 2, 'replica: quota counter');

# the quota holds across the split

is(status_of(bearer_get($p7, '/loan/bokskya/t3')), 204, 'loan 3');
is(status_of(bearer_get($p7, '/loan/bokskya/t4')), 429,
    'loan 4: quota exhausted');
is(redis_cmd($primary->{port}, 'GET', $qkey), 3,
    'primary: the refused loan was not counted');

# invalidations published on the primary reach an edge that reads the
# replica (Redis replicates PUBLISH)

my $p8 = tok(sub => 'patron-8');
is(status_of(bearer_get($p8, '/bokskya/x')), 204, 'patron-8 passes (cached)');

my ($code, $out) = digin_admin($primary, 'block', $ISS, 'patron-8');
is($code, 0, 'digin-admin block on the primary') or diag($out);

ok(wait_until(sub { status_of(bearer_get($p8, '/bokskya/x')) == 403 },
    timeout => 2), 'the block reaches the edge through the replica');

# without the primary: reads go on from the replica, loans stop

stop_redis($primary, signal => 'KILL');

is(status_of(bearer_get(tok(sub => 'reader-1', library => '0301'),
                        '/bokskya/x')),
    204, 'primary gone: an uncached patron still reads from the replica');

my $r = bearer_get(tok(sub => 'reader-2', library => '0301'),
                   '/loan/bokskya/z');
is_refused($r, 503, 'entitlements_unavailable', 'primary gone: a loan',
    body => { error => 'entitlements_unavailable' });

done_testing();
