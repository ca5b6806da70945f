#!/usr/bin/perl

# Every configuration in conf-examples/ passes nginx -t with the module
# built here (paths that point at the installed system are moved into
# the test's prefix).

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

use File::Copy qw(copy);
use File::Path qw(make_path);

require_module();

my $p = prefix();
my @confs = glob('conf-examples/*.conf');

ok(@confs, 'conf-examples has configurations');

make_path("$p/keys");
copy($_, "$p/keys/") or die "copy $_: $!" for glob('conf-examples/keys/*');

# secrets as an operator keeps them: git does not record that mode
chmod 0600, glob("$p/keys/*.key");

for my $conf (@confs) {
    my $text = read_file($conf);
    my $module = module_path();

    $text =~ s{^load_module \S+;}{load_module $module;}m;
    $text =~ s{/var/log/nginx/}{$p/logs/}g;
    $text =~ s{\blisten 127\.0\.0\.1:\d+}{'listen 127.0.0.1:' . free_port()}ge;

    my ($code, $out) = nginx_t($text, file => "$p/" . ($conf =~ s{.*/}{}r));

    is($code, 0, "$conf: nginx -t passes") or diag($out);
    unlike($out, qr/\[(warn|emerg|alert|crit)\]/, "$conf: no warnings");
}

done_testing();
