#!/usr/bin/perl

# Under "make test-asan" (DIGIN_ASAN=1, nginx started by
# tools/asan-nginx with the module of build/asan/): that the sanitizer
# is really there and that its reports reach what the harness checks.
# A worker is sent SIGSEGV, which AddressSanitizer's handler reports
# like any crash; the report must show in the error log as a problem.
# Skipped in the ordinary run.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

plan(skip_all => 'only under make test-asan (DIGIN_ASAN=1)')
    unless $ENV{DIGIN_ASAN};

require_module();
require_tool();

my $key = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');

start_nginx(<<"EOF");
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
worker_processes 1;
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    digin_zone digin:1m;
    digin_issuer https://idp.test jwks=$key->{jwks} audience=digin;
    server {
        listen 127.0.0.1:%%PORT_front%%;
        location / { digin on; return 204; }
    }
}
EOF

my ($worker) = nginx_workers();
ok($worker, 'a worker runs');

my $maps = read_file("/proc/$worker/maps") // '';
like($maps, qr/libasan\.so/, 'the worker has the ASan runtime');
like($maps, qr/ngx_http_digin_module\.so/, 'and the module');

my $module = module_path();
my $syms = `nm -D --undefined-only $module 2>/dev/null`;
like($syms, qr/__asan_report_/, 'the module is instrumented by ASan');
like($syms, qr/__ubsan_handle_/, 'and by UBSan');

my $tool = tool_path();
like(`nm -D --undefined-only $tool 2>/dev/null` . `nm $tool 2>/dev/null`,
     qr/__asan_/, 'digin-token is built with ASan too');

kill 'SEGV', $worker;

my $seen = wait_until(sub {
    grep({ /AddressSanitizer/ } error_log_problems())
        && error_log_text() =~ /worker process $worker exited/;
}, timeout => 20);

ok($seen, 'the sanitizer report of a crashing worker is found in the logs');

my $text = error_log_text();
like($text, qr/ERROR: AddressSanitizer: SEGV/, 'as an AddressSanitizer error');
like($text, qr/worker process $worker exited on signal/,
    'and nginx saw the worker go');

stop_nginx();

# the deliberate report is not one the end of this test should fail on
rename error_log_path(), error_log_path() . '.deliberate'
    or die "rename: $!";

done_testing();
