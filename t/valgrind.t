#!/usr/bin/perl

# The module under valgrind (memcheck) across reloads: nginx's master
# and its worker run under valgrind (workers are forked, so valgrind
# follows them and writes a log per process), with every part of the
# module in use: issuers from a JWKS and a PEM file, Redis, the zone,
# vendor assertions, pseudonyms, loans, whoami, status.  Requests, a
# key rotation, five reloads (each followed by requests to the new
# workers), then QUIT.  No process may report memory the module lost
# ("definitely lost" with a frame of the module) or a memcheck error
# in the module's code (invalid reads and writes, uninitialised values).
# What nginx or the libraries themselves keep until exit is not looked
# at.
#
# Skipped without valgrind, and under make test-asan (valgrind and ASan
# do not mix).

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

use POSIX qw(:sys_wait_h);

plan(skip_all => 'not under ASan (make test-asan)') if $ENV{DIGIN_ASAN};

my $VALGRIND = '/usr/bin/valgrind';
plan(skip_all => "no $VALGRIND (apt-get install valgrind)")
    unless -x $VALGRIND;

require_module();
require_tool();
require_admin();

my $ISS = 'https://login.example';
my $p = prefix();

my $k1 = keygen('rsa', 'k1', kid => 'k1', alg => 'RS256');
my $k2 = keygen('ec', 'k2', kid => 'k2', alg => 'ES256');
my $pem = keygen('ed25519', 'pem');
my $gw = keygen('ec', 'gw', kid => 'gw-1');

my $jwks = "$p/keys/live.jwks.json";
write_file($jwks, read_file($k1->{jwks}));
write_file("$p/keys/pseudonym.key", 'p' x 64, mode => 0600);

my $redis = start_redis();

load_document($redis, {
    version   => 1,
    vendors   => { bokskya => { name => 'Bokskya', media => ['ebook'] } },
    packages  => { basis => { name => 'Basis', vendors => ['bokskya'] } },
    libraries => { '0301' => { name => 'Deichman', county => '03',
                               packages => ['basis'],
                               quota => { period_days => 30, ebook => 50 } } },
    patrons   => { $ISS => { 'patron-1' => { library => '0301' } } },
});

# nginx under valgrind: a script that nginx_binary() names
my $vgdir = "$p/valgrind";
mkdir $vgdir;

write_file("$p/valgrind-nginx", <<"EOF", mode => 0755);
#!/bin/sh
exec $VALGRIND --tool=memcheck --leak-check=full \\
    --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
    --keep-debuginfo=yes --num-callers=40 --trace-children=yes \\
    --log-file=$vgdir/vg.%p.log /usr/sbin/nginx "\$@"
EOF

$ENV{DIGIN_NGINX} = "$p/valgrind-nginx";

start_nginx(<<"EOF", timeout => 120);
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
worker_processes 1;
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer $ISS jwks=$jwks audience=digin library_claim=library;
    digin_issuer https://pem.example key=$pem->{pub} kid=pem-1
                 audience=digin;
    digin_redis 127.0.0.1:$redis->{port};
    digin_cache_ttl 1m negative=10s;
    digin_pseudonym_key %%TESTDIR%%/keys/pseudonym.key;
    digin_vendor_key bokskya $gw->{pem} kid=gw-1;

    server {
        listen 127.0.0.1:%%PORT_front%%;

        location /token/ {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /vendor/ {
            digin_vendor bokskya;
            proxy_set_header X-Pseudonym \$digin_pseudonym;
            proxy_set_header X-Assertion \$digin_vendor_token;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /loan/ {
            digin_vendor bokskya;
            digin_loan;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location = /me { digin_whoami; }
        location = /status { digin_status; }
    }

    server {
        listen 127.0.0.1:%%PORT_back%%;
        location / { return 200 "ok\\n"; }
    }
}
EOF

my $master = nginx_pid();

sub tok {
    my (%o) = @_;
    return mint(key => $k1->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => 'digin', ttl => 600, sub => 'patron-1', %o);
}

sub status_for {
    my ($uri, $token) = @_;
    my $r = http_get(port('front'), $uri, timeout => 60, headers => {
        defined $token ? (Authorization => "Bearer $token") : () });
    return $r ? $r->{status} : 'none';
}

my $round = 0;

# a bit of everything, with tokens never seen before and again
sub exercise {
    my ($name) = @_;

    $round++;
    my $t = tok(jti => "j-$round");
    my $lib = tok(jti => "l-$round", library => '0301', sub => "p-$round");
    my $ed = mint(key => $pem->{pem}, alg => 'EdDSA', kid => 'pem-1',
        iss => 'https://pem.example', aud => 'digin', ttl => 600,
        sub => 'ed');

    my @got = (
        status_for('/token/a', $t), status_for('/token/a', $t),
        status_for('/token/b', $ed),
        status_for('/vendor/a', $t), status_for('/vendor/a', $lib),
        status_for('/loan/isbn-' . $round, $t),
        status_for('/me', $t), status_for('/status'),
        status_for('/token/c', "$t.x"), status_for('/token/c', 'garbage'),
    );

    is_deeply(\@got, [ 200, 200, 200, 200, 200, 200, 200, 200, 401, 401 ],
        "$name: requests answered");
}

# the master's children (under valgrind /proc shows valgrind's command
# line, not nginx's process titles)
sub workers_of {
    my @w = nginx_workers($master);
    return @w;
}

sub reload {
    my ($n) = @_;

    my %old = map { $_ => 1 } workers_of();
    kill 'HUP', $master;

    ok(wait_until(sub { grep { !$old{$_} } workers_of() },
                  timeout => 60, interval => 0.2),
        "reload $n: a new worker");
}

exercise('start');

# a rotated key set: the workers load it, the old one is freed
write_file("$jwks.new", read_file(merge_jwks("$p/keys/both.json",
                                             $k1->{jwks}, $k2->{jwks})));
rename "$jwks.new", $jwks or die "rename: $!";

my $t2 = mint(key => $k2->{pem}, alg => 'ES256', kid => 'k2', iss => $ISS,
    aud => 'digin', ttl => 600, sub => 'patron-1');
ok(wait_until(sub { status_for('/token/r', $t2) == 200 }, timeout => 60,
              interval => 0.5), 'rotation: the new key is picked up');

# the last generation works three times as much: what a worker loses
# must not depend on how much it did
for my $n (1 .. 5) {
    reload($n);
    exercise("after reload $n") for 1 .. ($n == 5 ? 3 : 1);
}

# QUIT, and give valgrind the time to check every process's memory
# (the master is reaped by stop_nginx() below)
kill 'QUIT', $master;
ok(wait_until(sub {
    my $stat = read_file("/proc/$master/stat") // '';
    return $stat eq '' || $stat =~ /^\d+ \(.*?\) Z/;
}, timeout => 120, interval => 0.2), 'nginx exits on QUIT');

my @logs = glob("$vgdir/vg.*.log");
ok(@logs >= 7, 'valgrind logs of the master and each worker (' . @logs . ')');

# "definitely lost" records and memcheck errors with a frame of the
# module (by its functions' names or its file), per process
my $module_frame = qr/\b(?:ngx_http_digin_\w+|digin_\w+)\b/
                   . qr/|ngx_http_digin_module\.so/;
my $lost_record = qr/([\d,]+) (?:\([\d,]+ direct, [\d,]+ indirect\) )?/
                  . qr/bytes in [\d,]+ blocks are definitely lost/;
my (%lost, @errors, $checked);

for my $log (@logs) {
    my ($pid) = $log =~ /vg\.(\d+)\.log$/;
    my $text = read_file($log) // '';
    $checked++ if $text =~ /LEAK SUMMARY|All heap blocks were freed/;

    $lost{$pid} = { bytes => 0, records => [] };

    # records are separated by an empty "==PID== " line
    for my $rec (split /\n==\d+== *\n/, $text) {
        next unless $rec =~ $module_frame;

        if ($rec =~ $lost_record) {
            (my $bytes = $1) =~ tr/,//d;
            $lost{$pid}{bytes} += $bytes;
            push @{ $lost{$pid}{records} }, $rec;

        } elsif ($rec =~ /Invalid (?:read|write|free)|uninitialised|
                          Mismatched free|overlap|
                          Conditional jump or move/x)
        {
            push @errors, "$log:\n$rec";
        }
    }
}

is($checked, scalar @logs, 'every process ran its leak check at exit');
is(scalar @errors, 0, 'no memcheck error in the module\'s code')
    or diag(join "\n\n", @errors[0 .. ($#errors > 2 ? 2 : $#errors)]);

# the master parsed the configuration six times and loaded two key sets
is($lost{$master}{bytes}, 0,
    'the master, after five reloads: nothing lost by the module')
    or diag(join "\n\n", @{ $lost{$master}{records} });

# A worker keeps a few OpenSSL objects for its whole life (the HMAC and
# the message digests, fetched once, see digin_assert.c and
# digin_key.c); nginx unloads the module before a process exits, so
# memcheck counts them as lost.  They must not grow with the work done:
# every worker, whatever it did, the same amount, and little of it.
my @workers = grep { $_ != $master } sort keys %lost;
my %amounts = map { $lost{$_}{bytes} => 1 } @workers;

is(scalar keys %amounts, 1,
    'every worker lost the same: nothing grows with requests, reloads or '
    . 'key rotation')
    or diag(join ', ', map { "$_: $lost{$_}{bytes} bytes" } @workers);
ok((keys %amounts)[0] <= 2048,
    'and what a worker keeps for its life is small')
    or diag(join "\n\n", @{ $lost{ $workers[0] }{records} });

note(sprintf '[valgrind] %d processes: the master lost %d bytes through '
     . 'the module; each worker %s bytes (process-lifetime OpenSSL '
     . 'objects)', scalar @logs, $lost{$master}{bytes},
     join('/', sort keys %amounts));

stop_nginx();

done_testing();
