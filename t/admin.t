#!/usr/bin/perl

# digin-admin against a real redis-server: load (keys and fields of the
# layout in digin_ent.h, the generation switch, the old generation and
# leftovers deleted, "all N" published, invalid documents rejected with
# the JSON path and nothing written), block/unblock/revoke (keys and
# messages), show library/patron (with counters set here), options,
# exit codes, Redis unreachable or refusing AUTH.

use strict;
use warnings;
no warnings qw(exec);      # code after exec is the failure path

use lib 't/lib';
use Digin::Test;

use IO::Select;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time);
use Time::Local qw(timegm);

my $ADMIN = build_dir() . '/digin-admin';

if (!-x $ADMIN) {
    BAIL_OUT("digin-admin not built: $ADMIN is missing") if $ENV{DIGIN_BUILD};
    plan(skip_all => "digin-admin not built ($ADMIN); run make tools");
}

my $p = prefix();
my $redis = start_redis(args => [ '--unixsocket', "$p/redis.sock",
                                  '--unixsocketperm', '700' ]);
my $port = $redis->{port};
my $ADDR = "127.0.0.1:$port";


# build/digin-admin ARGS with --redis ADDR first (unless redis => undef);
# now => T sets DIGIN_ADMIN_NOW.  Returns (exit code, stdout, stderr).

sub admin {
    my ($opts, @args) = ref $_[0] eq 'HASH' ? @_ : ({}, @_);

    my $out = "$p/logs/admin.out";
    my $err = "$p/logs/admin.err";
    my @redis = exists $opts->{redis}
        ? (defined $opts->{redis} ? ('--redis', $opts->{redis}) : ())
        : ('--redis', $ADDR);

    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>', $err or POSIX::_exit(127);
        if (defined $opts->{now}) {
            $ENV{DIGIN_ADMIN_NOW} = $opts->{now};
        } else {
            delete $ENV{DIGIN_ADMIN_NOW};
        }
        exec { $ADMIN } $ADMIN, @redis, @args;
        POSIX::_exit(127);
    }

    my $done = wait_until(sub { waitpid($pid, WNOHANG) == $pid },
        timeout => 60, interval => 0.01);

    if (!$done) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
        die "digin-admin @args did not finish\n";
    }

    return ($? >> 8, read_file($out) // '', read_file($err) // '');
}


# A RESP connection of our own: several commands on one connection
# (SELECT, SUBSCRIBE), replies read with a deadline.

sub resp_connect {
    my ($to) = @_;

    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $to,
        Proto    => 'tcp',
        Timeout  => 5,
    ) or die "connect to $to: $!\n";

    return { sock => $s, buf => '' };
}

sub resp_send {
    my ($c, @args) = @_;

    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;

    my $s = $c->{sock};
    print {$s} $req;
    $s->flush;
}

sub resp_line {
    my ($c, $deadline) = @_;

    while ($c->{buf} !~ /\r\n/) {
        my $left = $deadline - time();
        die "timeout\n" if $left <= 0;
        IO::Select->new($c->{sock})->can_read($left) or die "timeout\n";
        my $n = sysread($c->{sock}, $c->{buf}, 65536, length $c->{buf});
        die "connection closed\n" unless $n;
    }

    $c->{buf} =~ s/^(.*?)\r\n//s;
    return $1;
}

sub resp_read {
    my ($c, $timeout) = @_;

    my $deadline = time() + ($timeout // 5);
    my $line = resp_line($c, $deadline);
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+' || $type eq ':';
    die "redis: $rest\n" if $type eq '-';

    if ($type eq '$') {
        return undef if $rest < 0;
        while (length($c->{buf}) < $rest + 2) {
            my $left = $deadline - time();
            die "timeout\n" if $left <= 0;
            IO::Select->new($c->{sock})->can_read($left) or die "timeout\n";
            sysread($c->{sock}, $c->{buf}, 65536, length $c->{buf})
                or die "connection closed\n";
        }
        my $v = substr($c->{buf}, 0, $rest);
        substr($c->{buf}, 0, $rest + 2) = '';
        return $v;
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [ map { resp_read($c, $deadline - time()) } 1 .. $rest ];
    }

    die "redis: unexpected reply \"$line\"\n";
}

# every command on one connection; the reply of the last
sub rcmds {
    my ($to, @cmds) = @_;

    my $c = resp_connect($to);
    my $r;

    for my $cmd (@cmds) {
        resp_send($c, @$cmd);
        $r = resp_read($c);
    }

    close $c->{sock};
    return $r;
}

sub subscriber {
    my $c = resp_connect($port);
    resp_send($c, 'SUBSCRIBE', 'digin:invalidate');
    my $r = resp_read($c);
    die "SUBSCRIBE failed\n" unless ref $r && $r->[0] eq 'subscribe';
    return $c;
}

# the next message published on the channel, or undef
sub next_message {
    my ($c, $timeout) = @_;

    my $r = eval { resp_read($c, $timeout // 5) };
    return undef unless ref $r && $r->[0] eq 'message';
    return $r->[2];
}

# the messages published so far, read until none comes for a while
sub drain_messages {
    my ($c) = @_;

    my @m;
    while (defined(my $m = next_message($c, 0.3))) {
        push @m, $m;
    }

    return @m;
}

sub keys_matching {
    my ($pattern) = @_;
    return [ sort @{ redis_cmd($port, 'KEYS', $pattern) } ];
}

sub hash_of {
    my ($key) = @_;
    return { @{ redis_cmd($port, 'HGETALL', $key) } };
}

# every key with its type and value: what "nothing written" compares
sub snapshot {
    my @out;

    for my $key (@{ keys_matching('*') }) {
        my $type = redis_cmd($port, 'TYPE', $key);
        my $v = $type eq 'string' ? redis_cmd($port, 'GET', $key)
              : $type eq 'hash' ? join(',', map { $_ // '' } sort
                                       @{ redis_cmd($port, 'HGETALL',
                                                    $key) })
              : $type eq 'set' ? join(',', sort
                                      @{ redis_cmd($port, 'SMEMBERS',
                                                   $key) })
              : '?';
        push @out, "$key=$type:$v";
    }

    return join "\n", @out;
}

sub write_doc {
    my ($name, $doc) = @_;
    return write_file("$p/$name", ref $doc ? json_encode($doc) : $doc);
}

sub one_line_error {
    my ($err, $re, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;
    like($err, qr/\Adigin-admin: [^\n]*\n\z/, "$name: one line on stderr");
    like($err, $re, "$name: message");
}


# the README's example

my $EXAMPLE = {
    version  => 1,
    vendors  => {
        bokskya  => { name => 'Bokskya', media => ['ebook'] },
        lydhuset => { name => 'Lydhuset', media => ['audio'],
                      loan_cost => 12 },
    },
    packages => {
        basis => { name => 'Basispakke',
                   vendors => [ 'bokskya', 'lydhuset' ] },
        skole => { name => 'Skolepakke', vendors => ['bokskya'],
                   media => ['ebook'] },
    },
    libraries => {
        '0301' => { name => 'Deichman', county => '03', status => 'active',
                    packages => ['basis'],
                    quota => { period_days => 30, ebook => 3, audio => 2 },
                    monthly_budget => 5000, loan_days => 21 },
    },
    patrons => {
        'https://login.example' => {
            'patron-7' => { library => '0301' },
            'patron-9' => { library => '0301', blocked => JSON::PP::true },
        },
    },
};

my $example = write_doc('example.json', $EXAMPLE);
my $ISS = 'https://login.example';


# usage

my ($code, $out, $err) = admin({ redis => undef }, 'help');
is($code, 0, 'help: exit 0');
like($out, qr/^usage: digin-admin .*\n.*load FILE/s, 'help: usage on stdout');

($code, $out, $err) = admin({ redis => undef });
is($code, 2, 'no command: exit 2');
one_line_error($err, qr/no command/, 'no command');

($code, $out, $err) = admin('frobnicate');
is($code, 2, 'unknown command: exit 2');
one_line_error($err, qr/unknown command "frobnicate"/, 'unknown command');

($code, $out, $err) = admin('load');
is($code, 2, 'load without a file: exit 2');

($code, $out, $err) = admin('--db', 'x', 'load', $example);
is($code, 2, 'bad --db: exit 2');
one_line_error($err, qr/invalid --db "x"/, 'bad --db');

($code, $out, $err) = admin('--bogus', 'load', $example);
is($code, 2, 'unknown option: exit 2');

($code, $out, $err) = admin({ redis => 'localhost' }, 'load', $example);
is($code, 2, '--redis without a port: exit 2');

($code, $out, $err) = admin('load', "$p/no-such-file.json");
is($code, 1, 'missing file: exit 1');
one_line_error($err, qr/no-such-file\.json: No such file/, 'missing file');

is(redis_cmd($port, 'DBSIZE'), 0, 'nothing written by usage errors');


# load: the example

my $sub = subscriber();

($code, $out, $err) = admin('load', $example);
is($code, 0, 'load: exit 0') or diag($err);
is($out, "loaded generation 1: 2 vendors, 2 packages, 1 libraries, "
         . "2 patrons\n", 'load: summary');
is($err, '', 'load: nothing on stderr');
is(next_message($sub), 'all 1', 'load: "all 1" published');

is(redis_cmd($port, 'GET', 'digin:gen'), '1', 'digin:gen is 1');

my @gen1 = ('digin:1:lib:0301', "digin:1:pat:$ISS patron-7",
            "digin:1:pat:$ISS patron-9", 'digin:1:vendor:bokskya',
            'digin:1:vendor:lydhuset');

is_deeply([ sort @{ redis_cmd($port, 'SMEMBERS', 'digin:1:keys') } ],
          [ sort @gen1 ], 'digin:1:keys lists every key');
is_deeply(keys_matching('digin:1:*'), [ sort(@gen1, 'digin:1:keys') ],
          'generation 1 is those keys and the set');

is_deeply(hash_of('digin:1:vendor:bokskya'),
          { name => 'Bokskya', media => 'ebook', loan_cost => 1 },
          'vendor bokskya, loan_cost defaulted');
is_deeply(hash_of('digin:1:vendor:lydhuset'),
          { name => 'Lydhuset', media => 'audio', loan_cost => 12 },
          'vendor lydhuset');
is_deeply(hash_of('digin:1:lib:0301'),
          { name => 'Deichman', county => '03', status => 'active',
            grants => 'bokskya/ebook lydhuset/audio', period_days => 30,
            quota_ebook => 3, quota_audio => 2, budget => 5000,
            loan_days => 21 },
          'library 0301');
is_deeply(hash_of("digin:1:pat:$ISS patron-7"),
          { library => '0301', blocked => 0 }, 'patron-7');
is_deeply(hash_of("digin:1:pat:$ISS patron-9"),
          { library => '0301', blocked => 1 }, 'patron-9 blocked');


# a second load: generation 2, generation 1 gone

my $doc2 = json_decode(json_encode($EXAMPLE));
$doc2->{libraries}{'4601'} = {
    name => 'Bergen', packages => [ 'skole' ],
};
$doc2->{vendors}{bokskya}{media} = [ 'ebook', 'audio' ];
delete $doc2->{patrons}{$ISS}{'patron-9'};

($code, $out, $err) = admin('load', write_doc('second.json', $doc2));
is($code, 0, 'second load: exit 0') or diag($err);
is($out, "loaded generation 2: 2 vendors, 2 packages, 2 libraries, "
         . "1 patrons\n", 'second load: summary');
is(next_message($sub), 'all 2', 'second load: "all 2" published');
is(redis_cmd($port, 'GET', 'digin:gen'), '2', 'digin:gen is 2');
is_deeply(keys_matching('digin:1:*'), [], 'generation 1 deleted');
is(redis_cmd($port, 'SCARD', 'digin:2:keys'), 5, 'generation 2: 5 keys');

is_deeply(hash_of('digin:2:lib:4601'),
          { name => 'Bergen', county => '', status => 'active',
            grants => 'bokskya/ebook', period_days => 30,
            quota_ebook => -1, quota_audio => -1, budget => -1,
            loan_days => 21 },
          'library defaults; a package narrowed to e-books');
is(hash_of('digin:2:lib:0301')->{grants},
   'bokskya/audio bokskya/ebook lydhuset/audio',
   'grants sorted, a vendor of both media');
is(hash_of('digin:2:vendor:bokskya')->{media}, 'ebook audio',
   'vendor media in order');
is(redis_cmd($port, 'EXISTS', "digin:2:pat:$ISS patron-9"), 0,
   'patron removed from the document is gone');


# invalid documents: the path in the message, nothing written at all

my @invalid = (
    [ 'unknown member',
      sub { $_[0]{vendors}{bokskya}{medias} = ['ebook'] },
      'vendors["bokskya"].medias: unknown member' ],
    [ 'quota',
      sub { $_[0]{libraries}{'0301'}{quota}{ebook} = -1 },
      'libraries["0301"].quota.ebook: expected a non-negative integer' ],
    [ 'unknown vendor',
      sub { push @{ $_[0]{packages}{skole}{vendors} }, 'x' },
      'packages["skole"].vendors[1]: unknown vendor "x"' ],
    [ 'version',
      sub { $_[0]{version} = 2 },
      'version: expected 1' ],
    [ 'unknown library',
      sub { $_[0]{patrons}{$ISS}{'patron-7'}{library} = '9999' },
      'patrons["https://login.example"]["patron-7"].library: '
      . 'unknown library "9999"' ],
);

for my $case (@invalid) {
    my ($name, $edit, $message) = @$case;

    my $doc = json_decode(json_encode($EXAMPLE));
    $edit->($doc);

    my $file = write_doc('bad-' . ($name =~ tr/ /-/r) . '.json', $doc);
    my $before = snapshot();

    ($code, $out, $err) = admin('load', $file);

    is($code, 3, "invalid ($name): exit 3");
    is($err, "digin-admin: $file: $message\n",
       "invalid ($name): the path in the message");
    is($out, '', "invalid ($name): nothing on stdout");
    is(snapshot(), $before, "invalid ($name): nothing written");
}

{
    my $before = snapshot();

    ($code, $out, $err) = admin('load', write_doc('syntax.json',
                                "{\n  \"version\": 1,\n  \"vendors\": {,\n}"));
    is($code, 3, 'syntax error: exit 3');
    like($err, qr/^digin-admin: \S+syntax\.json: line 3, column \d+: /,
         'syntax error: line and column');

    ($code, $out, $err) = admin('load', write_doc('dup.json',
                                '{"version": 1, "version": 1}'));
    is($code, 3, 'duplicate member: exit 3');
    like($err, qr/duplicate object key/, 'duplicate member: message');

    # many errors: one line each
    my $doc = json_decode(json_encode($EXAMPLE));
    $doc->{libraries}{'0301'}{loan_days} = 0;
    $doc->{libraries}{'0301'}{status} = 'closed';
    ($code, $out, $err) = admin('load', write_doc('two.json', $doc));
    is($code, 3, 'two errors: exit 3');
    my @lines = split /\n/, $err;
    is(scalar @lines, 2, 'two errors: two lines');
    like($lines[0], qr/\Q["0301"].status: expected "active" or "suspended"\E$/,
         'two errors: first');
    like($lines[1], qr/\Q["0301"].loan_days: expected an integer from 1 to\E/,
         'two errors: second');

    is(snapshot(), $before, 'syntax errors: nothing written');
}

is(next_message($sub, 0.5), undef, 'nothing published for invalid documents');


# block, unblock, revoke

($code, $out, $err) = admin({ now => 1700000000 }, 'block', $ISS, 'patron-7');
is($code, 0, 'block: exit 0') or diag($err);
is($out, "blocked $ISS patron-7\n", 'block: output');
is(redis_cmd($port, 'HGET', 'digin:block', "$ISS patron-7"), '1700000000',
   'block: digin:block field holds the time');
is(next_message($sub), "patron $ISS patron-7", 'block: published');

($code, $out, $err) = admin('block', 'https://login example', 'x');
is($code, 2, 'block: issuer with a space refused');
($code, $out, $err) = admin('block', $ISS, 'a"b');
is($code, 2, 'block: sub with a quote refused');
($code, $out, $err) = admin('block', $ISS);
is($code, 2, 'block: missing sub');

($code, $out, $err) = admin('unblock', $ISS, 'patron-7');
is($code, 0, 'unblock: exit 0');
is($out, "unblocked $ISS patron-7\n", 'unblock: output');
is(redis_cmd($port, 'HEXISTS', 'digin:block', "$ISS patron-7"), 0,
   'unblock: field removed');
is(next_message($sub), "patron $ISS patron-7", 'unblock: published');

($code, $out, $err) = admin('unblock', $ISS, 'patron-7');
is($code, 0, 'unblock again: exit 0');
is($out, "not blocked $ISS patron-7\n", 'unblock again: output');
is(next_message($sub), "patron $ISS patron-7", 'unblock again: published');

my $exp = int(time()) + 3600;
($code, $out, $err) = admin('revoke', 'tok-1', $exp);
is($code, 0, 'revoke: exit 0') or diag($err);
like($out, qr/^revoked tok-1 until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n\z/,
     'revoke: output');
is(iso8601_at($out), $exp, 'revoke: the expiry printed');
is(redis_cmd($port, 'GET', 'digin:revoked:tok-1'), '1', 'revoke: key set');
is(redis_cmd($port, 'EXPIRETIME', 'digin:revoked:tok-1'), $exp,
   'revoke: expires with the token');
is(next_message($sub), 'jti tok-1', 'revoke: published');

my $t0 = int(time());
($code, $out, $err) = admin('revoke', 'tok-2');
my $t1 = int(time()) + 1;
is($code, 0, 'revoke without expiry: exit 0');
my $at = redis_cmd($port, 'EXPIRETIME', 'digin:revoked:tok-2');
ok($at >= $t0 + 86400 && $at <= $t1 + 86400,
   'revoke without expiry: a day from now');
is(next_message($sub), 'jti tok-2', 'revoke without expiry: published');

($code, $out, $err) = admin('revoke', 'tok-3', $t0 - 10);
is($code, 2, 'revoke: expiry in the past refused');
one_line_error($err, qr/EXPIRY \d+ is not in the future/, 'past expiry');
is(redis_cmd($port, 'EXISTS', 'digin:revoked:tok-3'), 0,
   'revoke: nothing set for a past expiry');

($code, $out, $err) = admin('revoke', 'tok-4', 'tomorrow');
is($code, 2, 'revoke: non-numeric expiry refused');
($code, $out, $err) = admin('revoke', 'a\\b');
is($code, 2, 'revoke: jti with a backslash refused');
($code, $out, $err) = admin('revoke', 'j' x 128);
is($code, 2, 'revoke: jti of 128 bytes refused');

is(next_message($sub, 0.5), undef, 'nothing published for refused commands');

# the first ISO 8601 UTC time in the text, as Unix time
sub iso8601_at {
    my ($text) = @_;
    my @t = $text =~ /(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z/
        or return undef;
    return timegm($t[5], $t[4], $t[3], $t[2], $t[1] - 1, $t[0]);
}


# show, at a fixed clock: 2023-11-14T22:13:20Z

load_ok($example, 'example again');

my $NOW = 1700000000;
my $START = 1697760000;     # its 30-day window
redis_cmd($port, 'SET', 'digin:budget:0301:2023-11', 120);
redis_cmd($port, 'SET', 'digin:budget:0301:2023-10', 4999);
redis_cmd($port, 'SET', "digin:quota:$ISS patron-7:ebook:$START", 2);
redis_cmd($port, 'SET', "digin:quota:$ISS patron-7:audio:$START", 5);
redis_cmd($port, 'SET', "digin:quota:$ISS patron-7:ebook:"
                        . ($START - 2592000), 3);
redis_cmd($port, 'HSET', 'digin:block', "$ISS patron-7", 1699999000);

my $gen = redis_cmd($port, 'GET', 'digin:gen');

($code, $out, $err) = admin({ now => $NOW }, 'show', 'library', '0301');
is($code, 0, 'show library: exit 0') or diag($err);
is($out, <<"EOF", 'show library: output');
library: 0301
generation: $gen
name: Deichman
county: 03
status: active
grants: bokskya/ebook lydhuset/audio
loan_days: 21
quota_period_days: 30
quota_ebook: 3
quota_audio: 2
budget: 5000
budget_month: 2023-11
budget_spent: 120
budget_left: 4880
budget_reset: 2023-12-01T00:00:00Z
EOF

($code, $out, $err) = admin({ now => $NOW }, '--json', 'show', 'library',
                            '0301');
is($code, 0, 'show library --json: exit 0');
is_deeply(eval { json_decode($out) }, {
    library => '0301', generation => $gen + 0, name => 'Deichman',
    county => '03', status => 'active',
    grants => 'bokskya/ebook lydhuset/audio', loan_days => 21,
    quota => { period_days => 30, ebook => 3, audio => 2 },
    budget => { limit => 5000, month => '2023-11', spent => 120,
                left => 4880, reset => '2023-12-01T00:00:00Z' },
}, 'show library --json: object');

($code, $out, $err) = admin({ now => $NOW }, 'show', '--json', 'library',
                            '0301');
is($code, 0, 'show --json library: exit 0');
ok(eval { json_decode($out) }, 'show --json library: JSON');

# December -> January, an overspent budget
redis_cmd($port, 'SET', 'digin:budget:0301:2023-12', 6000);
($code, $out, $err) = admin({ now => 1704067199 }, 'show', 'library',
                            '0301');
like($out, qr/^budget_month:\ 2023-12\nbudget_spent:\ 6000\n
               budget_left:\ 0\nbudget_reset:\ 2024-01-01T00:00:00Z\n/mx,
     'show library: December resets on January 1st, left never negative');

($code, $out, $err) = admin({ now => $NOW }, 'show', 'patron', $ISS,
                            'patron-7');
is($code, 0, 'show patron: exit 0') or diag($err);
is($out, <<"EOF", 'show patron: output');
issuer: $ISS
sub: patron-7
generation: $gen
library: 0301
library_status: active
grants: bokskya/ebook lydhuset/audio
blocked: no
blocked_by_operator: yes
blocked_since: 2023-11-14T21:56:40Z
ebook_quota: 3
ebook_used: 2
ebook_left: 1
ebook_period_start: 2023-10-20T00:00:00Z
ebook_reset: 2023-11-19T00:00:00Z
audio_quota: 2
audio_used: 5
audio_left: 0
audio_period_start: 2023-10-20T00:00:00Z
audio_reset: 2023-11-19T00:00:00Z
EOF

($code, $out, $err) = admin({ now => $NOW }, '--json', 'show', 'patron',
                            $ISS, 'patron-9');
is($code, 0, 'show patron --json: exit 0');
is_deeply(eval { json_decode($out) }, {
    issuer => $ISS, sub => 'patron-9', generation => $gen + 0,
    library => '0301', library_status => 'active',
    grants => 'bokskya/ebook lydhuset/audio',
    blocked => JSON::PP::true, blocked_by_operator => JSON::PP::false,
    blocked_since => undef,
    quota => {
        ebook => { limit => 3, used => 0, left => 3,
                   period_start => '2023-10-20T00:00:00Z',
                   reset => '2023-11-19T00:00:00Z' },
        audio => { limit => 2, used => 0, left => 2,
                   period_start => '2023-10-20T00:00:00Z',
                   reset => '2023-11-19T00:00:00Z' },
    },
}, 'show patron --json: blocked by the document, nothing used');

($code, $out, $err) = admin('show', 'library', '9999');
is($code, 1, 'show unknown library: exit 1');
one_line_error($err, qr/unknown library "9999" in generation $gen/,
               'show unknown library');

($code, $out, $err) = admin('show', 'patron', $ISS, 'nobody');
is($code, 1, 'show unknown patron: exit 1');
one_line_error($err, qr/unknown patron "nobody"/, 'show unknown patron');

($code, $out, $err) = admin('show', 'library', 'a:b');
is($code, 2, 'show: invalid library id: exit 2');
($code, $out, $err) = admin('show', 'vendor', 'x');
is($code, 2, 'show vendor: exit 2');


# unlimited quotas and budget

{
    my $doc = json_decode(json_encode($EXAMPLE));
    delete $doc->{libraries}{'0301'}{monthly_budget};
    delete $doc->{libraries}{'0301'}{quota}{audio};
    load_ok(write_doc('unlimited.json', $doc), 'unlimited');

    ($code, $out, $err) = admin({ now => $NOW }, 'show', 'library', '0301');
    like($out, qr/^quota_audio: unlimited$/m, 'show library: no audio quota');
    like($out, qr/^budget: unlimited\n(?:.*\n)*budget_left: unlimited$/m,
         'show library: no budget');

    ($code, $out, $err) = admin({ now => $NOW }, 'show', 'patron', $ISS,
                                'patron-7');
    like($out, qr/^audio_quota:\ unlimited\naudio_used:\ 5\n
                   audio_left:\ unlimited$/mx,
         'show patron: no audio quota');

    ($code, $out, $err) = admin({ now => $NOW }, '--json', 'show', 'library',
                                '0301');
    my $j = eval { json_decode($out) } // {};
    ok(exists $j->{budget}{limit} && !defined $j->{budget}{limit}
       && !defined $j->{quota}{audio}, 'show --json: null for no limit');
}


# leftovers of failed loads; a counter behind the generation

{
    my $gen = redis_cmd($port, 'GET', 'digin:gen');
    my $orphan = $gen + 1;

    redis_cmd($port, 'SET', 'digin:gen:next', $orphan);
    redis_cmd($port, 'HSET', "digin:$orphan:vendor:x", 'name', 'X');
    redis_cmd($port, 'SADD', "digin:$orphan:keys", "digin:$orphan:vendor:x");

    load_ok($example, 'after an interrupted load');
    my $now = redis_cmd($port, 'GET', 'digin:gen');
    is($now, $orphan + 1, 'the generation after the leftover');
    is_deeply(keys_matching("digin:$orphan:*"), [],
              'the leftover generation deleted');
    is_deeply(keys_matching("digin:$gen:*"), [],
              'the previous generation deleted');

    redis_cmd($port, 'DEL', 'digin:gen:next');
    load_ok($example, 'without digin:gen:next');
    is(redis_cmd($port, 'GET', 'digin:gen'), $now + 1,
       'the generation still goes up');
    is_deeply(keys_matching("digin:$now:*"), [], 'and the previous is gone');
}

# counters, blocks and revocations survive loads
is(redis_cmd($port, 'GET', 'digin:budget:0301:2023-11'), '120',
   'counters survive loads');
is(redis_cmd($port, 'GET', 'digin:revoked:tok-1'), '1',
   'revocations survive loads');


# the demo document

{
    drain_messages($sub);

    ($code, $out, $err) = admin('load', 'conf-examples/entitlements.json');
    is($code, 0, 'conf-examples/entitlements.json loads') or diag($err);
    like($out, qr/: 2 vendors, 3 packages, 5 libraries, 7 patrons$/,
         'demo: counts');
    is(next_message($sub) // '',
       'all ' . redis_cmd($port, 'GET', 'digin:gen'), 'demo: published');

    my $g = redis_cmd($port, 'GET', 'digin:gen');
    is(hash_of("digin:$g:lib:1103")->{status}, 'suspended',
       'demo: Stavanger suspended');
    is(hash_of("digin:$g:lib:skole-4601-001")->{grants}, 'bokskya/ebook',
       'demo: the school reads e-books only');
    is(hash_of("digin:$g:lib:5001")->{grants}, 'lydhuset/audio',
       'demo: audio package');
    is(hash_of("digin:$g:lib:4601")->{quota_ebook}, 5, 'demo: Bergen quota');
    is(hash_of("digin:$g:pat:https://login.digin.test nils")->{blocked}, 1,
       'demo: nils blocked');
    is(hash_of("digin:$g:pat:https://feide.digin.test elev-1")->{library},
       'skole-4601-001', 'demo: a pupil through the second issuer');
}


# 50,000 patrons (correctness only; bench/ measures time)

{
    my $doc = json_decode(json_encode($EXAMPLE));
    my $pat = $doc->{patrons}{$ISS} = {};

    for my $i (1 .. 200) {
        $doc->{libraries}{sprintf 'lib-%03d', $i} = {
            name => "Library $i", packages => ['basis'],
            quota => { ebook => 3 },
        };
    }

    $pat->{"p$_"} = { library => sprintf 'lib-%03d', 1 + $_ % 200 }
        for 1 .. 50000;

    my $file = write_doc('large.json', $doc);

    ($code, $out, $err) = admin('load', $file);
    is($code, 0, '50,000 patrons: exit 0') or diag($err);
    like($out, qr/201 libraries, 50000 patrons$/, '50,000 patrons: summary');

    my $g = redis_cmd($port, 'GET', 'digin:gen');
    is(redis_cmd($port, 'SCARD', "digin:$g:keys"), 2 + 201 + 50000,
       '50,000 patrons: every key recorded');
    is(scalar @{ keys_matching("digin:$g:pat:*") }, 50000,
       '50,000 patrons: every patron written');
    is_deeply(hash_of("digin:$g:pat:$ISS p49999"),
              { library => 'lib-200', blocked => 0 },
              '50,000 patrons: the last one');

    load_ok($example, 'small after large');
    is_deeply(keys_matching("digin:$g:*"), [],
              'the large generation deleted');
}

is_deeply([ drain_messages($sub) ],
          [ map { 'all ' . $_ } redis_cmd($port, 'GET', 'digin:gen') - 1,
                                redis_cmd($port, 'GET', 'digin:gen') ],
          'one message a load, in order');

close $sub->{sock};


# Another load switching first: a proxy between digin-admin and Redis
# sets digin:gen just before it forwards the switch script.  The load
# must not switch, must delete what it wrote and publish nothing.

{
    my $before = redis_cmd($port, 'GET', 'digin:gen');
    my $next = redis_cmd($port, 'GET', 'digin:gen:next');
    my $listen = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 1, ReuseAddr => 1,
    ) or die "listen: $!";
    my $proxy_port = $listen->sockport();

    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        my $client = $listen->accept() or POSIX::_exit(1);
        my $server = IO::Socket::INET->new(
            PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
        ) or POSIX::_exit(1);
        my $sel = IO::Select->new($client, $server);
        my ($seen, $tail) = (0, '');

        while (1) {
            for my $from ($sel->can_read(30)) {
                my $to = $from == $client ? $server : $client;
                my $n = sysread($from, my $data, 65536);
                POSIX::_exit(0) unless $n;

                if ($from == $client && !$seen) {
                    $tail .= $data;
                    if ($tail =~ /redis\.call\('PUBLISH'/) {
                        redis_cmd($port, 'SET', 'digin:gen', 999999);
                        $seen = 1;
                    }
                    $tail = substr($tail, -64);
                }

                syswrite($to, $data) == $n or POSIX::_exit(1);
            }
        }
    }

    close $listen;

    my $watch = subscriber();

    ($code, $out, $err) = admin({ redis => "127.0.0.1:$proxy_port" },
                                'load', $example);
    waitpid($pid, 0);

    is($code, 1, 'a concurrent switch: exit 1');
    one_line_error($err, qr/digin:gen changed during the load/,
                   'a concurrent switch');
    is(redis_cmd($port, 'GET', 'digin:gen'), 999999,
       'a concurrent switch: the other generation stays');
    my $mine = redis_cmd($port, 'GET', 'digin:gen:next');
    ok($mine > $next, 'a concurrent switch: a generation was reserved');
    is_deeply(keys_matching("digin:$mine:*"), [],
              'a concurrent switch: what the load wrote is deleted');
    is(next_message($watch, 0.5), undef,
       'a concurrent switch: nothing published');
    close $watch->{sock};

    redis_cmd($port, 'SET', 'digin:gen', $before);
}


# --db, unix socket, AUTH

{
    ($code, $out, $err) = admin('--db', '3', 'load', $example);
    is($code, 0, '--db 3: exit 0') or diag($err);
    like($out, qr/^loaded generation 1:/, '--db 3: its own generations');
    is(rcmds($port, [ 'SELECT', 3 ], [ 'GET', 'digin:gen' ]), '1',
       '--db 3: written to database 3');

    ($code, $out, $err) = admin({ redis => "unix:$p/redis.sock" },
                                'show', 'library', '0301');
    is($code, 0, 'unix socket: exit 0') or diag($err);
    like($out, qr/^library: 0301$/m, 'unix socket: output');

    # the harness's readiness check PINGs without AUTH: the password
    # comes after the start
    my $locked = start_redis();
    my $laddr = "127.0.0.1:$locked->{port}";
    redis_cmd($locked->{port}, 'CONFIG', 'SET', 'requirepass', 'hemmelig');

    write_file("$p/pass", "hemmelig\n", mode => 0600);
    write_file("$p/wrong", "feil\n", mode => 0600);

    ($code, $out, $err) = admin({ redis => $laddr }, '--password-file',
                                "$p/pass", 'load', $example);
    is($code, 0, 'AUTH: exit 0') or diag($err);

    ($code, $out, $err) = admin({ redis => $laddr }, '--password-file',
                                "$p/wrong", 'load', $example);
    is($code, 1, 'AUTH with a wrong password: exit 1');
    one_line_error($err, qr/refused AUTH/, 'wrong password');

    ($code, $out, $err) = admin({ redis => $laddr }, 'load', $example);
    is($code, 1, 'no AUTH: exit 1');
    one_line_error($err, qr/NOAUTH/, 'no AUTH');

    stop_redis($locked);
}


# Redis unreachable

{
    my $dead = free_port();

    ($code, $out, $err) = admin({ redis => "127.0.0.1:$dead" }, 'load',
                                $example);
    is($code, 1, 'unreachable: exit 1');
    one_line_error($err,
        qr/^digin-admin: cannot connect to Redis at 127\.0\.0\.1:$dead: /,
        'unreachable');

    ($code, $out, $err) = admin({ redis => "127.0.0.1:$dead" }, 'block',
                                $ISS, 'x');
    is($code, 1, 'unreachable: block exit 1');

    # validation first: an invalid document is reported even so
    ($code, $out, $err) = admin({ redis => "127.0.0.1:$dead" }, 'load',
                                "$p/bad-version.json");
    is($code, 3, 'unreachable: an invalid document is exit 3');
}

done_testing();


sub load_ok {
    my ($file, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($code, $out, $err) = admin('load', $file);
    is($code, 0, "load ($name): exit 0") or diag($err);
}
