#!/usr/bin/perl

# Tests of the test harness itself: ports, configuration templates,
# nginx start/stop and requests, nginx -t, Redis, log checks.  Uses
# stock nginx only, so it runs before the module is built.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

# ports

my %seen;
my @ports = map { free_port() } 1 .. 5;
is(scalar(grep { !$seen{$_}++ } @ports), 5, 'free ports are distinct');
is(port('a'), port('a'), 'a named port is stable');
isnt(port('a'), port('b'), 'two names, two ports');

like(conf_text("listen %%PORT_a%%; root %%TESTDIR%%;\n"),
    qr/^listen ${\ port('a')}; root ${\ prefix()};$/, 'placeholders expanded');
ok(!eval { conf_text("%%NOPE%%\n"); 1 }, 'unknown placeholder refused');

# nginx: start, request, stop

write_file(prefix() . '/html/index.html', "hello\n");

my $nginx = start_nginx(<<'EOF');
%%TEST_GLOBALS%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    log_format t '$request_uri $status';
    server {
        listen 127.0.0.1:%%PORT_front%%;
        access_log %%TESTDIR%%/logs/front.log t;
        location / {
            root %%TESTDIR%%/html;
            add_header X-Seen "$http_x_test" always;
        }
        location /proxy {
            proxy_pass http://127.0.0.1:%%PORT_back%%;
            proxy_set_header X-From front;
        }
        location /headers {
            add_header X-Twice one;
            add_header X-Twice two;
            return 204;
        }
    }
    server {
        listen 127.0.0.1:%%PORT_back%%;
        location / {
            return 200 "back from=$http_x_from\n";
        }
    }
}
EOF

ok(nginx_pid(), 'nginx started');

my $r = http_get(port('front'), '/index.html', headers => { 'X-Test' => 'x1' });
is($r->{status}, 200, 'static file status');
is($r->{body}, "hello\n", 'static file body');
is($r->{headers}{'x-seen'}, 'x1', 'request header sent, response parsed');

$r = http_get(port('front'), '/missing');
is($r->{status}, 404, 'missing file');

$r = http_get(port('front'), '/proxy');
is($r->{body}, "back from=front\n", 'proxied to the second server');

$r = http_get(port('front'), '/headers');
is_deeply($r->{header_list}{'x-twice'}, ['one', 'two'], 'repeated headers');

ok(wait_until(sub {
    (read_file(prefix() . '/logs/front.log') // '') =~ m{^/proxy 200$}m
}, timeout => 5), 'access log written');

# a server that never answers: http() gives up within its timeout

my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 5) or die $!;
my $t0 = time();
$r = http_get($silent->sockport(), '/', timeout => 1);
ok(!defined $r, 'no answer: undef');
ok(time() - $t0 < 4, 'no answer: bounded wait');
close $silent;

my $pid = nginx_pid();
is(stop_nginx(), 0, 'nginx stopped gracefully');
ok(!kill(0, $pid), 'nginx master gone');
ok(!defined http_get(port('front'), '/', timeout => 1), 'port closed');

# start failure is reported, not hung on

ok(!eval {
    start_nginx("%%TEST_GLOBALS%%\nevents { }\nhttp { bogus; }\n");
    1;
}, 'broken configuration: start_nginx dies');
like($@, qr/unknown directive "bogus"/, 'start failure carries the log');

# that [emerg] was wanted; the final log check must not see it
like(error_log_text(), qr/\[emerg\]/, 'start failure logged');
write_file(error_log_path(), '');
unlink prefix() . '/logs/nginx.out';

# a port taken between free_port() and nginx's bind(): new ports

my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 5, ReuseAddr => 0) or die $!;
port('busy', $busy->sockport());

start_nginx(<<'EOF');
%%TEST_GLOBALS%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_busy%%;
        return 204;
    }
}
EOF

isnt(port('busy'), $busy->sockport(), 'busy port: another one chosen');
is(http_get(port('busy'), '/')->{status}, 204, 'busy port: nginx started');
stop_nginx();
close $busy;

# nginx -t

my ($code, $out, $file) = nginx_t(<<'EOF');
%%TEST_GLOBALS%%
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_t%%;
        bogus_directive on;
    }
}
EOF
isnt($code, 0, 'nginx -t: failure exit code');
my $line = line_of($file, qr/bogus_directive/);
like($out, qr/unknown directive "bogus_directive" in \Q$file\E:$line\b/,
    'nginx -t: message with file and line');

($code, $out) = nginx_t(<<'EOF');
%%TEST_GLOBALS%%
events { }
http { server { listen 127.0.0.1:%%PORT_t%%; } }
EOF
is($code, 0, 'nginx -t: valid configuration');
like($out, qr/test is successful/, 'nginx -t: success message');

# Redis

my $redis = start_redis();
is(redis_cmd($redis->{port}, 'PING'), 'PONG', 'redis: ping');
is(redis_cmd($redis->{port}, 'SET', 'digin:test', "a b\r\nc"), 'OK',
    'redis: set');
is(redis_cmd($redis->{port}, 'GET', 'digin:test'), "a b\r\nc",
    'redis: get binary-safe');
is_deeply(redis_cmd($redis->{port}, 'MGET', 'digin:test', 'nope'),
    ["a b\r\nc", undef], 'redis: array reply');
ok(!eval { redis_cmd($redis->{port}, 'NOSUCHCOMMAND'); 1 },
    'redis: error reply dies');
like(redis_cmd($redis->{port}, 'CONFIG', 'GET', 'save')->[1] // 'x', qr/^$/,
    'redis: no persistence');
my $rport = $redis->{port};
stop_redis($redis);
ok(!eval { redis_cmd($rport, 'PING'); 1 }, 'redis: stopped');

# generic daemon whose readiness callback never succeeds

ok(!eval {
    start_daemon(['/bin/sleep', '30'], name => 'sleeper', timeout => 0.5,
        ready => sub { 0 });
    1;
}, 'daemon never ready: dies');
like($@, qr/not ready/, 'daemon never ready: reason');

# log checks

my $log = prefix() . '/temp/fake-error.log';
my $info = "2024/01/01 00:00:00 [info] 1#1: *1 client closed connection\n"
           . "2024/01/01 00:00:00 [error] 1#1: *2 open() failed\n";

write_file($log, $info);
is(scalar error_log_problems(file => $log), 0, 'info and error lines pass');

for my $bad ('[alert] 1#1: worker process exited on signal 11',
             '[crit] 1#1: *3 pread() failed',
             '[emerg] 1#1: bind() failed',
             '==12==ERROR: AddressSanitizer: heap-use-after-free',
             '==12==ERROR: LeakSanitizer: detected memory leaks',
             'src/x.c:10:5: runtime error: signed integer overflow')
{
    write_file($log, $info . "2024/01/01 00:00:00 $bad\n");
    my @p = error_log_problems(file => $log);
    is(scalar @p, 1, "detected: $bad");
}

write_file($log, "[emerg] 1#1: bad\n");
is(scalar error_log_problems(file => $log, allow_emerg => 1), 0,
    'emerg allowed when asked');

unlink $log;

# keys and tokens crafted in Perl

my $hs = craft_token(header => { alg => 'HS256', typ => 'JWT' },
    payload => { sub => 'p' },
    sign => sub { hmac_sign('HS256', 'secret', $_[0]) });
my ($h, $p, $s) = token_parts($hs);
is_deeply(json_decode($h), { alg => 'HS256', typ => 'JWT' }, 'token header');
is(length $s, 32, 'HS256 signature length');
unlike($hs, qr/[=+\/]/, 'base64url without padding');

my $der = "\x30\x08\x02\x02\x00\x81\x02\x02\x01\x02";
is(unpack('H*', der_to_raw($der, 4)), '0000008100000102', 'DER to raw');

done_testing();
