#!/usr/bin/perl

# Configuration errors are caught by nginx -t, with a message naming the
# directive, the file and line, and what is wrong.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();

my $p = prefix();
my $key = keygen('rsa', 'k', kid => 'k1', alg => 'RS256');
my $oct = keygen('oct', 'o', kid => 'o1', alg => 'HS256');

write_file("$p/keys/garbage.json", "not json at all\n");
write_file("$p/keys/truncated.json", '{"keys": [ {"kty": "RSA", "n": ');
write_file("$p/keys/nokeys.json", '{"keys": []}');

# a configuration with $directives at http level, one per line, and a
# location with "digin on"
sub conf {
    my ($directives) = @_;
    return <<"EOF";
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
$directives
    server {
        listen 127.0.0.1:%%PORT_a%%;
        location / {
            digin on;
        }
    }
}
EOF
}

# nginx -t fails; the message names the directive, "in FILE:LINE" where
# LINE is the first line matching $at (or any line), and matches $what
sub fails {
    my ($name, $directives, %o) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($code, $out, $file) = nginx_t(conf($directives));
    my $line = $o{at} ? line_of($file, $o{at}) : '\d+';

    isnt($code, 0, "$name: nginx -t fails");
    like($out, qr/\[emerg\] .*"\Q$o{directive}\E"/,
        "$name: names the directive");
    like($out, qr/\[emerg\] .* in \Q$file\E:$line$/m,
        "$name: file and line");

    for my $re (@{ $o{what} }) {
        like($out, $re, "$name: says $re");
    }

    unlike($out, qr/\[alert\]|\[crit\]|AddressSanitizer|runtime error:/,
        "$name: no alert, crash or sanitizer report");
}

my $ok = "digin_issuer https://idp.test jwks=$key->{jwks} audience=digin;";

# a valid configuration passes

my ($code, $out) = nginx_t(conf(<<"EOF"));
    digin_zone digin:1m;
    digin_leeway 10s;
    digin_token_max_size 16k;
    digin_token_cookie digin_token;
    $ok
    digin_issuer https://pem.test key=$key->{pub} kid=pem audience=digin
                 algorithms=RS256,PS256 patron_claim=pid library_claim=library;
    digin_issuer https://hmac.test jwks=$oct->{jwks} audience=other
                 algorithms=HS256;
EOF
is($code, 0, 'valid configuration: nginx -t passes') or diag($out);
like($out, qr/test is successful/, 'valid configuration: message');

# key files

fails('missing JWKS file',
    "digin_issuer https://idp.test jwks=$p/keys/missing.json audience=digin;",
    directive => 'digin_issuer', at => qr/missing\.json/,
    what => [ qr/cannot load keys from "\Q$p\E\/keys\/missing\.json"/,
              qr/No such file or directory/ ]);

fails('missing PEM file',
    "digin_issuer https://idp.test key=$p/keys/missing.pem kid=k "
    . 'audience=digin;',
    directive => 'digin_issuer', at => qr/missing\.pem/,
    what => [ qr/cannot load keys from "\Q$p\E\/keys\/missing\.pem"/,
              qr/No such file or directory/ ]);

fails('unparsable JWKS',
    "digin_issuer https://idp.test jwks=$p/keys/garbage.json audience=digin;",
    directive => 'digin_issuer', at => qr/garbage\.json/,
    what => [ qr/cannot load keys from "\Q$p\E\/keys\/garbage\.json"/,
              qr/JWKS/ ]);

fails('truncated JWKS',
    "digin_issuer https://idp.test jwks=$p/keys/truncated.json "
    . 'audience=digin;',
    directive => 'digin_issuer', at => qr/truncated\.json/,
    what => [ qr/"\Q$p\E\/keys\/truncated\.json"/, qr/JWKS/ ]);

fails('JWKS without keys',
    "digin_issuer https://idp.test jwks=$p/keys/nokeys.json audience=digin;",
    directive => 'digin_issuer', at => qr/nokeys\.json/,
    what => [ qr/"\Q$p\E\/keys\/nokeys\.json"/, qr/JWKS/, qr/key/ ]);

fails('PEM file given as jwks=',
    "digin_issuer https://idp.test jwks=$key->{pub} audience=digin;",
    directive => 'digin_issuer', at => qr/jwks=/,
    what => [ qr/"\Q$key->{pub}\E"/, qr/JWKS/ ]);

fails('JWKS file given as key=',
    "digin_issuer https://idp.test key=$key->{jwks} audience=digin;",
    directive => 'digin_issuer', at => qr/key=/,
    what => [ qr/"\Q$key->{jwks}\E"/, qr/PEM/ ]);

# parameters

fails('unknown algorithm',
    "digin_issuer https://idp.test jwks=$key->{jwks} audience=digin "
    . 'algorithms=RS256,RS999;',
    directive => 'digin_issuer', at => qr/RS999/,
    what => [ qr/unknown algorithm "RS999"/ ]);

fails('algorithm none',
    "digin_issuer https://idp.test jwks=$key->{jwks} audience=digin "
    . 'algorithms=none;',
    directive => 'digin_issuer', at => qr/algorithms=none/,
    what => [ qr/unknown algorithm "none"/ ]);

fails('algorithms that fit no key',
    "digin_issuer https://idp.test jwks=$key->{jwks} audience=digin "
    . 'algorithms=HS256;',
    directive => 'digin_issuer', at => qr/HS256/,
    what => [ qr/algorithm/, qr/"\Q$key->{jwks}\E"/ ]);

fails('duplicate issuer', "    $ok\n    digin_issuer https://idp.test "
    . "key=$key->{pub} audience=other;",
    directive => 'digin_issuer', at => qr/audience=other/,
    what => [ qr/"https:\/\/idp\.test" is duplicate/ ]);

fails('missing audience',
    "digin_issuer https://idp.test jwks=$key->{jwks};",
    directive => 'digin_issuer', at => qr/digin_issuer/,
    what => [ qr/audience/ ]);

fails('no key source', 'digin_issuer https://idp.test audience=digin;',
    directive => 'digin_issuer', at => qr/digin_issuer/,
    what => [ qr/jwks=/, qr/key=/ ]);

fails('unknown parameter',
    "digin_issuer https://idp.test jwks=$key->{jwks} audience=digin "
    . 'colour=blue;',
    directive => 'digin_issuer', at => qr/colour/,
    what => [ qr/"colour=blue"/ ]);

# found when http{} is merged, and still named at their own line

fails('digin on without digin_issuer', '',
    directive => 'digin', at => qr/digin on;/, what => [ qr/digin_issuer/ ]);

fails('digin on inherited from the server, no digin_issuer', <<'EOF',
    server {
        listen 127.0.0.1:%%PORT_b%%;
        digin on;
        location /inner { }
    }
EOF
    directive => 'digin', at => qr/digin on;/, what => [ qr/digin_issuer/ ]);

fails('digin_loan without digin_vendor', <<"EOF",
    $ok
    server {
        listen 127.0.0.1:%%PORT_b%%;
        location /loan/ {
            digin on;
            digin_loan;
        }
    }
EOF
    directive => 'digin_loan', at => qr/digin_loan;/,
    what => [ qr/"digin_vendor" in the same location/ ]);

fails('digin_vendor without digin_redis', <<"EOF",
    $ok
    server {
        listen 127.0.0.1:%%PORT_b%%;
        location /v/ {
            digin_vendor bokskya;
        }
    }
EOF
    directive => 'digin_vendor', at => qr/digin_vendor bokskya/,
    what => [ qr/needs "digin_redis"/ ]);

# other directives

fails('bad leeway', "    $ok\n    digin_leeway soon;",
    directive => 'digin_leeway', at => qr/digin_leeway/,
    what => [ qr/invalid/ ]);

fails('bad token size', "    $ok\n    digin_token_max_size big;",
    directive => 'digin_token_max_size', at => qr/digin_token_max_size/,
    what => [ qr/invalid/ ]);

fails('zone without size', "    $ok\n    digin_zone digin;",
    directive => 'digin_zone', at => qr/digin_zone/,
    what => [ qr/"digin"/ ]);

done_testing();
