#!/usr/bin/perl

# Token sources: Authorization: Bearer (any case of the scheme), the
# cookie named by digin_token_cookie, never a query argument.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();

my $ISS = 'https://idp.test';
my $key = keygen('ec', 'ec', kid => 'e1', alg => 'ES256');

my $conf = <<"EOF";
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_issuer $ISS jwks=$key->{jwks} audience=digin;
    #HTTP_COOKIE#

    server {
        listen 127.0.0.1:%%PORT_cookie%%;
        digin_token_cookie digin_token;

        location / {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
            %%ECHO_HEADERS%%
        }

        location /loc/ {
            digin on;
            digin_token_cookie dl;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
            %%ECHO_HEADERS%%
        }
    }

    server {
        listen 127.0.0.1:%%PORT_none%%;
        location / {
            digin on;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
            %%ECHO_HEADERS%%
        }
    }

    %%ECHO_BACKEND%%
}
EOF

start_nginx($conf);

my $token = mint(key => $key->{pem}, alg => 'ES256', kid => 'e1', iss => $ISS,
    aud => 'digin', sub => 'reader', ttl => 600);
my $other = mint(key => $key->{pem}, alg => 'ES256', kid => 'e1', iss => $ISS,
    aud => 'digin', sub => 'listener', ttl => 600);
my $expired = mint(key => $key->{pem}, alg => 'ES256', kid => 'e1',
    iss => $ISS, aud => 'digin', sub => 'late', exp => time() - 3600,
    iat => time() - 7200);

# the patron the backend saw, or the status of a refusal
sub patron {
    my ($port, $path, @headers) = @_;
    my $r = http_get(port($port), $path, headers => \@headers);
    my $v = echo_vars($r);
    return $v ? $v->{patron} : 'status ' . ($r ? $r->{status} : 'none');
}

sub denied {
    my ($port, $path, $reason, $name, @headers) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return is_denied(http_get(port($port), $path, headers => \@headers),
        $reason, $name);
}

# the cookie named by digin_token_cookie, and only that one

is(patron('cookie', '/', Cookie => "digin_token=$token"), 'reader',
    'cookie alone');
is(patron('cookie', '/', Cookie => "a=1; digin_token=$token; b=2"), 'reader',
    'cookie among others');
is(patron('cookie', '/', Cookie => "xdigin_token=junk; digin_token=$token"),
    'reader', 'cookie name is matched whole');
is(patron('cookie', '/', Cookie => "session=abc",
    Cookie => "digin_token=$token"), 'reader',
    'cookie in a second Cookie header');

denied('cookie', '/', 'token_missing', 'only similarly named cookies',
    Cookie => "digin_token_x=$token; my_digin_token=$token");
denied('cookie', '/', 'token_expired', 'expired token from the cookie',
    Cookie => "digin_token=$expired");
denied('cookie', '/', 'token_malformed', 'garbage in the cookie',
    Cookie => 'digin_token=garbage');

is(patron('cookie', '/loc/x', Cookie => "dl=$token"), 'reader',
    'location-level cookie');
denied('cookie', '/loc/x', 'token_missing',
    'location level replaces the server-level name',
    Cookie => "digin_token=$token");

# without digin_token_cookie no cookie counts

denied('none', '/', 'token_missing', 'digin_token_cookie unset',
    Cookie => "digin_token=$token; dl=$token");

# the Authorization header wins over the cookie

is(patron('cookie', '/', Authorization => "Bearer $token",
    Cookie => "digin_token=$other"), 'reader', 'both: header wins');
is(patron('cookie', '/', Authorization => "Bearer $token",
    Cookie => 'digin_token=garbage'), 'reader', 'both: bad cookie ignored');
denied('cookie', '/', 'token_malformed',
    'both: bad header is not rescued by the cookie',
    Authorization => 'Bearer garbage', Cookie => "digin_token=$token");

# the scheme is case-insensitive

for my $scheme (qw(Bearer bearer BEARER bEaReR)) {
    is(patron('none', '/', Authorization => "$scheme $token"), 'reader',
        "scheme $scheme");
}

# a query argument is never a token source

for my $arg (qw(access_token token digin_token dl)) {
    denied('cookie', "/?$arg=$token", 'token_missing',
        "query argument $arg");
}

# the http level is inherited, and a server level replaces it

stop_nginx();
(my $second = $conf) =~ s/#HTTP_COOKIE#/digin_token_cookie media;/;
start_nginx($second);

is(patron('none', '/', Cookie => "media=$token"), 'reader',
    'http-level cookie inherited');
is(patron('cookie', '/', Cookie => "digin_token=$token"), 'reader',
    'server-level cookie');
denied('cookie', '/', 'token_missing',
    'server level replaces the http-level name', Cookie => "media=$token");

done_testing();
