#!/usr/bin/perl

# Key rotation: a JWKS file replaced on disk is picked up by the running
# workers without a reload, in both directions; a broken file keeps the
# keys already loaded, and says so in the error log.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();

my $ISS = 'https://idp.test';
my %k = (
    k1 => keygen('rsa', 'k1', kid => 'k1', alg => 'RS256'),
    k2 => keygen('rsa', 'k2', kid => 'k2', alg => 'RS256'),
    k3 => keygen('ec', 'k3', kid => 'k3', alg => 'ES256'),
);

my $live = prefix() . '/keys/live.jwks.json';

# the way an operator replaces it: a new file renamed over the old one
sub install {
    my ($data) = @_;
    write_file("$live.new", $data);
    rename "$live.new", $live or die "rename: $!";
}

sub jwks {
    return json_encode({ keys => [ map { $k{$_}{jwk} } @_ ] });
}

install(jwks('k1'));

start_nginx(<<"EOF");
%%TEST_GLOBALS%%
worker_processes 2;
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer $ISS jwks=$live audience=digin;

    server {
        listen 127.0.0.1:%%PORT_front%%;
        location / {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
            %%ECHO_HEADERS%%
        }
    }

    %%ECHO_BACKEND%%
}
EOF

# one token per key, minted once: the same strings are sent before and
# after each rotation, so a cached verification must not outlive its key
my %t = map {
    $_ => mint(key => $k{$_}{pem}, alg => $k{$_}{alg}, kid => $_,
               iss => $ISS, aud => 'digin', sub => "patron-$_", ttl => 3600)
} keys %k;

# 'ok' or the error code of the answer
sub result {
    my ($kid) = @_;
    my $r = http_get(port('front'), '/',
        headers => { Authorization => "Bearer $t{$kid}" });
    return 'no answer' unless $r;
    my $v = echo_vars($r);
    return $v->{result} if $v;
    my $body = eval { json_decode($r->{body}) } // {};
    return $body->{error} // "status $r->{status}";
}

sub results {
    my %want = @_;
    return join ' ', map { "$_=" . result($_) } sort keys %want;
}

sub expected {
    my %want = @_;
    return join ' ', map { "$_=$want{$_}" } sort keys %want;
}

# Polls until 20 answers in a row (on new connections, so spread over
# both workers) are as wanted, for at most 15 s.
sub converges {
    my ($name, %want) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $expected = expected(%want);
    my ($in_a_row, $last) = (0, '');

    wait_until(sub {
        $last = results(%want);
        $in_a_row = $last eq $expected ? $in_a_row + 1 : 0;
        return $in_a_row >= 20;
    }, timeout => 15, interval => 0.05);

    is($last, $expected, $name);
}

# stays: 40 answers in a row as wanted
sub stays {
    my ($name, %want) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $expected = expected(%want);
    my $got = $expected;

    for (1 .. 40) {
        $got = results(%want);
        last if $got ne $expected;
    }

    is($got, $expected, $name);
}

stays('k1 loaded at start', k1 => 'ok', k2 => 'key_unknown',
    k3 => 'key_unknown');

install(jwks('k2'));
converges('k1 replaced by k2', k1 => 'key_unknown', k2 => 'ok',
    k3 => 'key_unknown');

install(jwks('k1', 'k3'));
converges('back to k1, with k3', k1 => 'ok', k2 => 'key_unknown',
    k3 => 'ok');

# a broken file: logged, and the keys loaded before stay

my $from = error_log_size();
install('{"keys": [ {"kty": "RSA", "kid": "k2", "n": ');

my $logged = wait_until(sub {
    grep { /\[error\].*\Q$live\E/ } error_log_lines_since($from);
}, timeout => 15);
ok($logged, 'broken JWKS: error logged with the file name');
ok(!grep(/\[(alert|crit|emerg)\]/, error_log_lines_since($from)),
    'broken JWKS: not logged as alert or crit');

stays('broken JWKS: old keys still work', k1 => 'ok', k2 => 'key_unknown',
    k3 => 'ok');

install(jwks('k2'));
converges('after the broken file, k2 installed', k1 => 'key_unknown',
    k2 => 'ok', k3 => 'key_unknown');

# the file's content is what counts, not the name it is reached by

install(jwks('k3'));
converges('k3 only', k1 => 'key_unknown', k2 => 'key_unknown', k3 => 'ok');

done_testing();
