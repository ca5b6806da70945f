#!/usr/bin/perl

# The demo as a newcomer runs it: "make demo" from the repository, wait
# until it says it is running, fetch the front end, sign in as a demo
# patron, stream a byte range of an audiobook through the gateway, then
# Ctrl-C, after which nothing it started is still running.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

use POSIX qw(setsid WNOHANG);
use Time::HiRes qw(time);

require_module();
require_tool();
require_admin();

# four ports in a row: the gateway, two vendors, Redis.  They are free
# when chosen but bound only later, by the demo's own servers, so a
# process elsewhere on the machine can take one meanwhile: the demo then
# stops ("port N ... is in use", or a server's "Address already in use"),
# and it starts again on others.
my $out = prefix() . '/demo.out';
my ($base, $pid);

for my $attempt (1 .. 3) {
    $base = four_free_ports() or last;
    $pid = start_demo($base);
    wait_until(sub {
        (read_file($out) // '') =~ /Digin demo is running at (\S+)/
            || waitpid($pid, WNOHANG) == $pid
    }, timeout => 600, interval => 0.2);

    last unless (read_file($out) // '')
                    =~ /is in use|Address already in use/
                && !kill(0, $pid);
    diag("attempt $attempt: a port of $base-" . ($base + 3)
         . ' was taken before the demo bound it; again on others');
}
ok($base, 'four free ports in a row') or BAIL_OUT('no free ports');

sub four_free_ports {
    for (1 .. 50) {
        my $p = free_port();
        next if $p > 65000;
        return $p unless grep { _busy($_) } $p + 1 .. $p + 3;
    }
    return undef;
}

sub _busy {
    return IO::Socket::INET->new(PeerAddr => "127.0.0.1:$_[0]") ? 1 : 0;
}

sub start_demo {
    my ($port) = @_;

    my $child = fork();
    die "fork: $!" unless defined $child;
    return $child if $child;

    setsid();
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', $out or POSIX::_exit(127);
    open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
    { exec 'make', '--no-print-directory', 'demo', "PORT=$port" };
    POSIX::_exit(127);
}

my $text = read_file($out) // '';
like($text, qr{Digin demo is running at http://127\.0\.0\.1:$base/},
    'the demo says where it runs') or diag($text);
like($text, qr/ola .*\n.*2 of 3/, 'it names the demo patrons');
like($text, qr/Gateway error log: \S+gateway\.error\.log/,
    'it tells where the error log is');

# the front end

my $r = http_get($base, '/');
is($r && $r->{status}, 200, 'the front end is served');
like($r ? $r->{body} : '', qr/<html/i, 'as an HTML page');

# sign in as a demo patron, as the front end does

$r = http_get($base, '/demo/patrons.json');
my $patrons = $r && $r->{status} == 200
              ? eval { json_decode($r->{body}) } : undef;
ok(ref $patrons eq 'ARRAY' && @$patrons >= 5, 'the demo patrons');

my ($ola) = grep { $_->{id} eq 'ola' } @{ $patrons // [] };
my $token = $ola ? $ola->{token} : 'none';

$r = http_get($base, '/api/me',
    headers => { Authorization => "Bearer $token" });
my $me = $r && $r->{status} == 200 ? eval { json_decode($r->{body}) } : {};
is($me->{patron}, 'ola', 'signed in as ola');
is($me->{quota}{ebook}{used}, 2, 'ola has used two e-book loans');

# an audiobook: its manifest, then a byte range of its first track

my $feed = _json(get_with($token, '/vendor/lydhuset/opds/catalog.json'));
my ($isbn) = map { $_->{metadata}{identifier} =~ /(\d{13})$/ }
             @{ $feed->{publications} // [] };
ok($isbn, 'an audiobook in the vendor feed');

my $manifest = _json(get_with($token,
    "/vendor/lydhuset/manifests/$isbn.json"));
my $href = $manifest->{readingOrder}[0]{href} // '';
ok($href, 'its manifest has a reading order');

$href = "/vendor/lydhuset$href" if $href =~ m{^/};
$r = http_get($base, $href, headers => {
    Cookie => "digin_token=$token",
    Range  => 'bytes=0-1023',
});
is($r && $r->{status}, 206, 'a byte range of the audio (token in a cookie)');
is($r ? length $r->{body} : 0, 1024, '1024 bytes of it');
like($r ? $r->{headers}{'content-range'} // '' : '', qr{^bytes 0-1023/\d+$},
    'Content-Range');

# Ctrl-C

kill 'INT', -$pid;
my $gone = wait_until(sub { waitpid($pid, WNOHANG) == $pid },
    timeout => 30, interval => 0.1);
ok($gone, 'Ctrl-C ends the demo');

# make returns at once; the demo stops its servers within seconds
my @left;
wait_until(sub {
    @left = grep { /build\/demo|redis-server 127\.0\.0\.1:@{[$base + 3]}/ }
            split /\n/, `ps -eo pid,stat,args`;
    @left = grep { !/^\s*\d+\s+Z/ } @left;
    !@left;
}, timeout => 20, interval => 0.2);
is(scalar @left, 0, 'nothing it started is still running')
    or diag(join "\n", @left);
ok(!grep({ _busy($_) } $base .. $base + 3), 'its ports are free again');

like(read_file($out) // '', qr/stopped/, 'it said it stopped');

done_testing();

sub get_with {
    my ($t, $path) = @_;
    return http_get($base, $path, headers => { Authorization => "Bearer $t" });
}

sub _json {
    my ($r) = @_;
    return {} unless $r && $r->{status} == 200;
    return eval { json_decode($r->{body}) } // {};
}
