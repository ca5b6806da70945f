#!/usr/bin/perl

# The Debian package built by "make deb" (tools/debian/): its control
# fields and file list, the maintainer scripts dh_nginx wrote, and, once
# extracted into a throwaway root, that nginx loads the packaged module
# through the packaged load_module snippet and that the packaged tools
# run.

use strict;
use warnings;
no warnings qw(exec);      # code after exec is the failure path

use lib 't/lib';
use Digin::Test;

use File::Find qw(find);
use File::Path qw(make_path);
use POSIX ();

my $PKG = 'libnginx-mod-http-digin';
my $DOC = "usr/share/doc/$PKG";
my $SNIPPET = 'usr/share/nginx/modules-available/mod-http-digin.conf';
my $MODULE = 'usr/lib/nginx/modules/ngx_http_digin_module.so';

# the newest package in the build directory
my ($deb) = sort { -M $a <=> -M $b } glob(build_dir() . "/${PKG}_*.deb");

if (!defined $deb) {
    plan(skip_all => 'no ' . build_dir() . "/${PKG}_*.deb: "
                     . 'run "make deb" (make test builds it first)');
}

diag("package: $deb") if $ENV{TEST_VERBOSE};

# a command's exit code and its output (stdout and stderr)
sub run {
    my (@cmd) = @_;

    my $pid = open(my $fh, '-|') // die "fork: $!";

    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec { $cmd[0] } @cmd;
        print "exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }

    my $out = do { local $/; <$fh> } // '';
    close $fh;

    return ($? >> 8, $out);
}

sub field {
    my ($name) = @_;

    my ($code, $out) = run('dpkg-deb', '-f', $deb, $name);
    die "dpkg-deb -f $deb $name: $out" if $code != 0;
    chomp $out;

    return $out;
}


# control fields

is(field('Package'), $PKG, 'Package');
is(field('Architecture'), (run('dpkg', '--print-architecture'))[1] =~ s/\s+//r,
    'Architecture is the build machine\'s');

my $depends = field('Depends');
my ($abi) = $depends =~ /(?:^|,\s*)(nginx-abi-[^\s,]+)/;

ok(defined $abi, 'Depends on the nginx ABI') or diag("Depends: $depends");

SKIP: {
    my $kit = '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars';
    skip("no $kit", 1) unless -f $kit;

    my ($want) = read_file($kit) =~ /^nginx:abi=(\S+)$/m;
    is($abi, $want, 'the ABI is the nginx-dev kit\'s (nginx:abi)');
}

SKIP: {
    my ($code, $provides) = run('dpkg-query', '-W', '-f=${Provides}',
                                'nginx');
    skip('nginx is not installed as a Debian package', 1) if $code != 0;

    like($provides, qr/(?:^|,\s*)\Q$abi\E(?:,|\s|$)/,
        "the installed nginx provides $abi")
        if defined $abi;
}

for my $lib (qw(libjwt libhiredis libjansson libssl)) {
    like($depends, qr/(?:^|,\s*)\Q$lib\E\d/, "shlibs: depends on $lib");
}


# files

my ($code, $list) = run('dpkg-deb', '-c', $deb);
is($code, 0, 'dpkg-deb -c') or diag($list);

my %files = map { (split ' ', $_, 6)[5] =~ s{^\./}{}r => 1 }
            split /\n/, $list;

for my $f ($MODULE, $SNIPPET, 'usr/bin/digin-token', 'usr/bin/digin-admin',
           "$DOC/README.md.gz", "$DOC/copyright")
{
    ok($files{$f}, "ships /$f");
}

my @examples;
find({ no_chdir => 1, wanted => sub {
    push @examples, $File::Find::name =~ s{^conf-examples/}{}r if -f $_;
} }, 'conf-examples');

ok(@examples, 'conf-examples has files');
for my $f (sort @examples) {
    # private example keys and secrets stay out of the package
    if ($f =~ m{^keys/(example-.*\.pem|.*\.key|.*\.pass)$}) {
        ok(!$files{"$DOC/examples/$f"}, "leaves out conf-examples/$f");
        next;
    }

    ok($files{"$DOC/examples/$f"}, "ships conf-examples/$f as an example");
}

is_deeply([ grep { m{^usr/lib/nginx/modules/.} } sort keys %files ],
    [ $MODULE ], 'one module, nothing else in the modules directory');


# maintainer scripts: dh_nginx enables the snippet as 50-mod-http-digin.conf

my ($pcode, $postinst) = run('dpkg-deb', '-I', $deb, 'postinst');
is($pcode, 0, 'has a postinst');
like($postinst, qr/\bmod-http-digin\.conf:50-mod-http-digin\.conf\b/,
    'postinst enables mod-http-digin.conf with priority 50');
like($postinst,
    qr{ln\s+-sf\s+/usr/share/nginx/modules-available/\$from[\s\\]+
       /etc/nginx/modules-enabled/\$to}x,
    'postinst links it into /etc/nginx/modules-enabled');

for my $script (qw(prerm postrm)) {
    my ($c, $text) = run('dpkg-deb', '-I', $deb, $script);
    like($text, qr{/etc/nginx/modules-enabled/\$to},
        "$script takes the link away") or diag("exit $c");
}


# extracted: nginx loads the module through the snippet

my $root = prefix() . '/root';
make_path($root);

my ($xcode, $xout) = run('dpkg-deb', '-x', $deb, $root);
is($xcode, 0, 'dpkg-deb -x') or diag($xout);

my $snippet = read_file("$root/$SNIPPET") // '';
is($snippet, "load_module modules/ngx_http_digin_module.so;\n",
    'the snippet loads the module from nginx\'s modules/ directory');

# Debian's nginx: modules/ of the prefix /usr/share/nginx is a link to
# /usr/lib/nginx/modules, where the package puts the module
SKIP: {
    skip('no /usr/share/nginx/modules', 1) unless -e '/usr/share/nginx/modules';
    is(readlink('/usr/share/nginx/modules'), '../../lib/nginx/modules',
        'modules/ of the nginx prefix is /usr/lib/nginx/modules');
}

# what postinst does, inside the root, with the snippet pointing at the
# extracted module
write_file("$root/$SNIPPET",
    $snippet =~ s{\bmodules/}{$root/usr/lib/nginx/modules/}r);
make_path("$root/etc/nginx/modules-enabled");
symlink("$root/$SNIPPET",
    "$root/etc/nginx/modules-enabled/50-mod-http-digin.conf")
    or die "symlink: $!";

# digin_zone and $digin_result exist only with the module loaded
my $conf = <<"EOF";
%%TEST_GLOBALS%%
include $root/etc/nginx/modules-enabled/*.conf;
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    digin_zone digin:1m;
    server {
        listen 127.0.0.1:%%PORT_a%%;
        location / {
            return 200 "\$digin_result\\n";
        }
    }
}
EOF

my ($tcode, $tout) = nginx_t($conf);
is($tcode, 0, 'nginx -t with the packaged snippet included') or diag($tout);
unlike($tout, qr/\[(warn|emerg|alert|crit)\]/, 'no warnings');

my ($ncode, $nout) = nginx_t($conf =~ s/^include .*\n//mr);
isnt($ncode, 0, 'without the snippet the same configuration fails');
like($nout, qr/unknown directive "digin_zone"/, '... on digin_zone');

# extracted: the tools run

for my $tool (qw(digin-token digin-admin)) {
    my ($c, $out) = run("$root/usr/bin/$tool", 'help');
    is($c, 0, "$tool help exits 0") or diag($out);
    like($out, qr/^usage:/m, "$tool help prints the usage");
}

done_testing();
