#!/usr/bin/perl

# Loans (digin_loan): quotas per patron and medium in fixed periods,
# the 429 answers and Retry-After, the same title again within the loan
# period, the library's monthly budget with vendor loan costs, exactly
# "limit" loans under concurrency, and $digin_quota_left upstream.

use strict;
use warnings;

use lib 't/lib';
use Digin::Test;

require_module();
require_tool();
require_admin();

my $ISS = 'https://login.example';
my $PERIOD = 30 * 86400;

my $key = keygen('rsa', 'idp', kid => 'k1', alg => 'RS256');
my $redis = start_redis();

load_document($redis, {
    version  => 1,
    vendors  => {
        bokskya  => { name => 'Bokskya', media => ['ebook'] },
        lydhuset => { name => 'Lydhuset', media => ['audio'],
                      loan_cost => 10 },
        ordflyt  => { name => 'Ordflyt', media => ['ebook', 'audio'] },
    },
    packages => {
        basis => { name => 'Basispakke',
                   vendors => ['bokskya', 'lydhuset', 'ordflyt'] },
    },
    libraries => {
        '0301' => { name => 'Deichman', county => '03', status => 'active',
                    packages => ['basis'],
                    quota => { period_days => 30, ebook => 3, audio => 2 },
                    monthly_budget => 5000, loan_days => 21 },
        '0402' => { name => 'Kongsvinger', county => '34',
                    packages => ['basis'], monthly_budget => 20 },
        '0403' => { name => 'Hamar', county => '34',
                    packages => ['basis'], monthly_budget => 30 },
        '0501' => { name => 'Lillehammer', county => '34',
                    packages => ['basis'],
                    quota => { period_days => 7, ebook => 1 } },
    },
    patrons => {
        $ISS => { 'patron-7' => { library => '0301' } },
    },
});

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
worker_processes 2;
events { worker_connections 2048; }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:4m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REDIS@;

    log_format loans '$request_uri $status $digin_result';

    server {
        listen 127.0.0.1:%%PORT_front%%;
        access_log %%TESTDIR%%/logs/loans.log loans;

        proxy_set_header X-Quota-Left $digin_quota_left;
        proxy_set_header X-Result $digin_result;

        location /loan/bokskya/ {
            digin_vendor bokskya;
            digin_loan;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /loan/lydhuset/ {
            digin_vendor lydhuset;
            digin_loan;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /loan/ordflyt-audio/ {
            digin_vendor ordflyt medium=audio;
            digin_loan;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /loan/ordflyt/ {
            digin_vendor ordflyt;
            digin_loan title=isbn:$arg_isbn medium=ebook;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /same/bokskya {
            digin_vendor bokskya;
            digin_loan title=$arg_isbn;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location /same/lydhuset {
            digin_vendor lydhuset;
            digin_loan title=$arg_isbn;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
        location = /me {
            digin_whoami;
        }
        location /read/bokskya/ {
            digin_vendor bokskya;
            proxy_pass http://127.0.0.1:%%PORT_back%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_back%%;
        access_log off;
        location / {
            return 200 "left=[$http_x_quota_left] result=[$http_x_result]\n";
        }
    }
}
EOF

$conf =~ s/\@ISS\@/$ISS/g;
$conf =~ s/\@JWKS\@/$key->{jwks}/g;
$conf =~ s/\@REDIS\@/$redis->{port}/g;

start_nginx($conf);

sub tok {
    my (%o) = @_;
    return mint(key => $key->{pem}, alg => 'RS256', kid => 'k1', iss => $ISS,
        aud => 'digin', ttl => 3600, %o);
}

my $TOKEN;     # the token of the last request, never to be echoed

sub get {
    my ($token, $uri) = @_;
    $TOKEN = $token;
    return http_get(port('front'), $uri,
        headers => { Authorization => "Bearer $token" });
}

# a loan that passes; returns $digin_quota_left as the vendor saw it
sub lent {
    my ($token, $uri, $name, $left) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $r = get($token, $uri);
    my %v = $r && $r->{status} == 200 ? $r->{body} =~ /(\w+)=\[([^\]]*)\]/g
                                      : ();

    ok(exists $v{left}, "$name: passes")
        or diag($r ? "$r->{status} $r->{body}" : "no response: $@");

    is($v{left}, $left, "$name: \$digin_quota_left upstream")
        if exists $v{left} && defined $left;

    return $v{left};
}

sub quota_end {
    my ($days) = @_;
    my $len = defined $days ? $days * 86400 : $PERIOD;
    my $start = int(time() / $len) * $len;
    return $start + $len;
}

sub month_end {
    my @t = gmtime(time());
    my ($y, $m) = ($t[5] + 1900, $t[4] + 1);
    ($y, $m) = $m == 12 ? ($y + 1, 1) : ($y, $m + 1);
    require Time::Local;
    return Time::Local::timegm(0, 0, 0, 1, $m - 1, $y);
}

# a 429 with its body and Retry-After
sub exhausted {
    my ($r, $want, $reset, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $body = is_refused($r, 429, $want->{error}, $name, token => $TOKEN)
        or return;

    my %got = %$body;
    my $at = delete $got{resets_at};

    is_deeply(\%got, $want, "$name: body members");
    is(iso8601_epoch($at), $reset, "$name: resets_at")
        or diag("resets_at: " . ($at // '<none>'));

    my $ra = $r->{headers}{'retry-after'} // -1;
    ok(abs($ra - ($reset - time())) <= 5,
        "$name: Retry-After is the time to the reset")
        or diag("Retry-After: $ra, reset in " . ($reset - time()) . 's');
}

# quotas per medium (0301: 3 ebook, 2 audio a period)

my $p7 = tok(sub => 'patron-7');

lent($p7, '/loan/bokskya/t1', 'ebook loan 1', 2);
lent($p7, '/loan/bokskya/t1', 'ebook loan 1 again: not a new loan');
lent($p7, '/loan/bokskya/t2', 'ebook loan 2', 1);
lent($p7, '/loan/bokskya/t3', 'ebook loan 3', 0);

exhausted(get($p7, '/loan/bokskya/t4'),
    { error => 'quota_exhausted', medium => 'ebook', limit => 3, used => 3 },
    quota_end(), 'ebook loan 4');

exhausted(get($p7, '/loan/ordflyt/?isbn=9788202000000'),
    { error => 'quota_exhausted', medium => 'ebook', limit => 3, used => 3 },
    quota_end(), 'ebook quota spans vendors');

lent($p7, '/loan/bokskya/t2', 'an earlier title again after exhaustion');

my $r = get($p7, '/read/bokskya/t9');
is($r && $r->{status}, 200, 'a location without digin_loan is no loan');

lent($p7, '/loan/lydhuset/a1', 'audio loan 1 (own quota)', 1);
lent($p7, '/loan/lydhuset/a2', 'audio loan 2', 0);

exhausted(get($p7, '/loan/lydhuset/a3'),
    { error => 'quota_exhausted', medium => 'audio', limit => 2, used => 2 },
    quota_end(), 'audio loan 3');

exhausted(get($p7, '/loan/ordflyt-audio/a4'),
    { error => 'quota_exhausted', medium => 'audio', limit => 2, used => 2 },
    quota_end(), 'audio through digin_vendor medium=audio');

# another period: 7 days, counted from the epoch; no audio limit

my $l5 = tok(sub => 'week-1', library => '0501');

lent($l5, '/loan/bokskya/w1', 'period 7 days: loan 1', 0);
exhausted(get($l5, '/loan/bokskya/w2'),
    { error => 'quota_exhausted', medium => 'ebook', limit => 1, used => 1 },
    quota_end(7), 'period 7 days: loan 2');
lent($l5, '/loan/lydhuset/w3', 'period 7 days: audio unlimited', '');

# quotas are per patron; title= with a variable

my $q2 = tok(sub => 'patron-q2', library => '0301');

lent($q2, '/loan/ordflyt/?isbn=111', 'another patron, title from $arg_isbn',
    2);
lent($q2, '/loan/ordflyt/?isbn=111&page=2', 'same isbn, another URI');
lent($q2, '/loan/ordflyt/?isbn=222', 'a second isbn', 1);
lent($q2, '/loan/bokskya/x1', 'the ebook quota counts every vendor', 0);

# the library's monthly budget (0402: 20, no quota; lydhuset costs 10)

my @b = map { tok(sub => "budget-$_", library => '0402') } 1 .. 3;

lent($b[0], '/loan/lydhuset/b1', 'budget: loan 1 (no quota: left empty)',
    '');
lent($b[1], '/loan/lydhuset/b2', 'budget: loan 2, another patron', '');
lent($b[0], '/loan/lydhuset/b1', 'budget: the same title again is free');

exhausted(get($b[2], '/loan/lydhuset/b3'),
    { error => 'budget_exhausted', limit => 20, spent => 20 },
    month_end(), 'budget: loan 3');

exhausted(get($b[2], '/loan/bokskya/b4'),
    { error => 'budget_exhausted', limit => 20, spent => 20 },
    month_end(), 'budget: a vendor of cost 1 as well');

# $digin_result for loans in the access log

my $log = prefix() . '/logs/loans.log';

ok(wait_until(sub {
    my $text = read_file($log) // '';
    return $text =~ m{^/loan/bokskya/t4 429 quota_exhausted$}m
        && $text =~ m{^/loan/lydhuset/b3 429 budget_exhausted$}m
        && $text =~ m{^/loan/bokskya/t1 200 ok$}m;
}, timeout => 5), '$digin_result in the access log')
    or diag(read_file($log));

# concurrency: 100 loans at once against an ebook quota of 3

my $rush = tok(sub => 'rush', library => '0301');

my @res = http_parallel(port('front'), [ map {
    "GET /loan/bokskya/c$_ HTTP/1.0\r\nHost: localhost\r\n"
    . "Authorization: Bearer $rush\r\n\r\n"
} 1 .. 100 ], timeout => 30);

my %status;
$status{ defined $_ ? $_->{status} : 'none' }++ for @res;

is($status{200} // 0, 3, '100 parallel loans, quota 3: 3 pass');
is($status{429} // 0, 97, '100 parallel loans, quota 3: 97 get 429')
    or diag(explain \%status);

my @bodies = grep { defined $_ && $_->{status} == 429 } @res;
is(scalar(grep { my $b = eval { json_decode($_->{body}) };
                 $b && $b->{error} eq 'quota_exhausted' } @bodies),
    scalar @bodies, 'parallel: every 429 is quota_exhausted');

exhausted(get($rush, '/loan/bokskya/c-after'),
    { error => 'quota_exhausted', medium => 'ebook', limit => 3, used => 3 },
    quota_end(), 'after the rush: used is 3');

# concurrency: the budget (0403: 30, lydhuset costs 10), 40 patrons

my @tokens = map { tok(sub => "hamar-$_", library => '0403') } 1 .. 40;
my $i = 0;

@res = http_parallel(port('front'), [ map {
    "GET /loan/lydhuset/h" . ++$i . " HTTP/1.0\r\nHost: localhost\r\n"
    . "Authorization: Bearer $_\r\n\r\n"
} @tokens ], timeout => 30);

%status = ();
$status{ defined $_ ? $_->{status} : 'none' }++ for @res;

is($status{200} // 0, 3, '40 parallel loans, budget 30 at 10: 3 pass');
is($status{429} // 0, 37, '40 parallel loans: 37 get 429')
    or diag(explain \%status);

exhausted(get($tokens[0], '/loan/lydhuset/h-after'),
    { error => 'budget_exhausted', limit => 30, spent => 30 },
    month_end(), 'after the budget rush: spent is 30');

# one title at two vendors: the e-book and the audiobook are two loans

my $both = tok(sub => 'both-media', library => '0301');

lent($both, '/same/bokskya?isbn=9788293700104', 'the e-book of a title', 2);
lent($both, '/same/lydhuset?isbn=9788293700104', 'its audiobook', 1);
lent($both, '/same/lydhuset?isbn=9788293700104', 'the audiobook again', 1);

$r = get($both, '/me');
my $me = $r && $r->{status} == 200 ? json_decode($r->{body}) : {};
is($me->{quota}{ebook}{used}, 1, 'whoami: one e-book loan');
is($me->{quota}{audio}{used}, 1, 'whoami: one audiobook loan');
is_deeply([ sort map { "$_->{vendor} $_->{medium} $_->{title}" }
            @{ $me->{loans} // [] } ],
    [ 'bokskya ebook 9788293700104', 'lydhuset audio 9788293700104' ],
    'whoami lists both loans');

done_testing();
