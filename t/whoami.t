#!/usr/bin/perl

# digin_whoami: what the front end shows a patron (library, access,
# quota and budget left, blocked), 401 without a valid token.

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

load_document($redis, <<"EOF");
{ "version": 1,
  "vendors":  { "bokskya": { "name": "Bokskya", "media": ["ebook"] },
                "lydhuset": { "name": "Lydhuset", "media": ["audio"], "loan_cost": 10 } },
  "packages": { "basis": { "name": "Basispakke", "vendors": ["bokskya", "lydhuset"] },
                "skole": { "name": "Skolepakke", "vendors": ["bokskya"], "media": ["ebook"] } },
  "libraries": { "0301": { "name": "Deichman", "county": "03", "status": "active", "packages": ["basis"],
                           "quota": { "period_days": 30, "ebook": 3, "audio": 2 }, "monthly_budget": 5000, "loan_days": 21 },
                 "1103": { "name": "Stavanger", "county": "11", "status": "suspended", "packages": ["basis"] },
                 "skole-1": { "name": "Skolen", "county": "46", "packages": ["skole"] } },
  "patrons": { "$ISS": { "patron-7": { "library": "0301" }, "patron-9": { "library": "0301", "blocked": true } } } }
EOF

my $conf = <<'EOF';
%%TEST_GLOBALS%%
%%LOAD_MODULE%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%

    digin_zone digin:1m;
    digin_issuer @ISS@ jwks=@JWKS@ audience=digin library_claim=library;
    digin_redis 127.0.0.1:@REDIS@;

    server {
        listen 127.0.0.1:%%PORT_front%%;

        location = /whoami { digin_whoami; }

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
    }
    server {
        listen 127.0.0.1:%%PORT_back%%;
        access_log off;
        location / { return 204; }
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

my $QUOTA_END = int(time() / $PERIOD) * $PERIOD + $PERIOD;

my $MONTH_END = do {
    my @t = gmtime(time());
    my ($y, $m) = ($t[5] + 1900, $t[4] + 1);
    ($y, $m) = $m == 12 ? ($y + 1, 1) : ($y, $m + 1);
    require Time::Local;
    Time::Local::timegm(0, 0, 0, 1, $m - 1, $y);
};

# GET /whoami; returns the decoded body with resets_at as Unix time
# and blocked as "true"/"false" (or what it was when not a boolean)
sub whoami {
    my ($token, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $r = bearer_get($token, '/whoami');

    is($r && $r->{status}, 200, "$name: 200") or do {
        diag($r ? $r->{body} : "no response: $@");
        return undef;
    };

    like($r->{headers}{'content-type'} // '', qr{^application/json\b},
        "$name: content type");
    ok(index($r->{raw}, $token) < 0, "$name: token not echoed");

    my $w = eval { json_decode($r->{body}) };
    ok(ref $w eq 'HASH', "$name: a JSON object") or do {
        diag($r->{body});
        return undef;
    };

    for my $part (grep { ref $_ eq 'HASH' } $w->{quota}, $w->{budget}) {
        $part->{resets_at} = iso8601_epoch($part->{resets_at})
                             // "not ISO 8601 UTC: "
                                . ($part->{resets_at} // '<none>');
    }

    if (JSON::PP::is_bool($w->{blocked})) {
        $w->{blocked} = $w->{blocked} ? 'true' : 'false';
    } else {
        $w->{blocked} = 'not a JSON boolean: ' . ($w->{blocked} // 'null');
    }

    if (ref $w->{access} eq 'ARRAY') {
        $w->{access} = [ sort { ($a->{vendor} // '') cmp ($b->{vendor} // '') }
                         grep { ref $_ eq 'HASH' } @{ $w->{access} } ];
    }

    return $w;
}

# the members the interface defines, compared exactly
sub shape_is {
    my ($w, $want, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    return fail("$name: no answer") unless $w;

    my %got = map { $_ => $w->{$_} } grep { exists $w->{$_} } keys %$want;
    is_deeply(\%got, $want, $name) or diag(explain $w);
}

my %deichman = (id => '0301', name => 'Deichman', county => '03',
    status => 'active');
my @basis_access = ({ vendor => 'bokskya', media => ['ebook'] },
    { vendor => 'lydhuset', media => ['audio'] });

sub p7_expected {
    my (%o) = @_;
    my ($e, $a, $spent) = ($o{ebook} // 0, $o{audio} // 0, $o{spent} // 0);
    return {
        issuer  => $ISS,
        library => \%deichman,
        access  => \@basis_access,
        quota   => { period_days => 30, resets_at => $QUOTA_END,
                     ebook => { limit => 3, used => $e, left => 3 - $e },
                     audio => { limit => 2, used => $a, left => 2 - $a } },
        budget  => { limit => 5000, spent => $spent, left => 5000 - $spent,
                     resets_at => $MONTH_END },
        blocked => $o{blocked} // 'false',
    };
}

# a patron of 0301 from the document

my $p7 = tok(sub => 'patron-7');

shape_is(whoami($p7, 'patron-7'), p7_expected(), 'patron-7: whoami');

# used counts after loans: 2 e-books (cost 1 each), 1 audiobook (10)

for my $uri ('/loan/bokskya/t1', '/loan/bokskya/t2', '/loan/lydhuset/a1') {
    my $r = bearer_get($p7, $uri);
    is($r && $r->{status}, 204, "loan $uri");
}

shape_is(whoami($p7, 'patron-7 after loans'),
    p7_expected(ebook => 2, audio => 1, spent => 12),
    'patron-7 after loans: used, left, spent');

my $r = bearer_get($p7, '/loan/bokskya/t1');
is($r && $r->{status}, 204, 'the same title again');

shape_is(whoami($p7, 'patron-7 after the same title'),
    p7_expected(ebook => 2, audio => 1, spent => 12),
    'patron-7: the same title again changes nothing');

# blocked

my $p9 = whoami(tok(sub => 'patron-9'), 'patron-9');
is($p9 && $p9->{blocked}, 'true', 'blocked in the document: blocked true');
is_deeply($p9 && $p9->{library}, \%deichman, 'blocked patron: library');

my ($code, $out) = digin_admin($redis, 'block', $ISS, 'patron-7');
is($code, 0, 'digin-admin block') or diag($out);

ok(wait_until(sub {
    my $w = whoami($p7, 'patron-7 blocked') or return 0;
    return $w->{blocked} eq 'true';
}, timeout => 2), 'digin-admin block: blocked true');

($code, $out) = digin_admin($redis, 'unblock', $ISS, 'patron-7');
is($code, 0, 'digin-admin unblock') or diag($out);

ok(wait_until(sub {
    my $w = whoami($p7, 'patron-7 unblocked') or return 0;
    return $w->{blocked} eq 'false';
}, timeout => 2), 'digin-admin unblock: blocked false');

# a pupil from the token claim: no quota, no budget

my $pupil = whoami(tok(sub => 'pupil-1', library => 'skole-1'), 'pupil');

shape_is($pupil, {
    issuer  => $ISS,
    library => { id => 'skole-1', name => 'Skolen', county => '46',
                 status => 'active' },
    access  => [ { vendor => 'bokskya', media => ['ebook'] } ],
    blocked => 'false',
}, 'pupil: library from the claim, access narrowed to ebook');

is($pupil && $pupil->{quota}{ebook}{limit}, undef,
    'pupil: ebook quota limit null');
ok($pupil && exists $pupil->{quota}{ebook}{limit},
    'pupil: ebook quota limit present');
is($pupil && $pupil->{quota}{audio}{limit}, undef,
    'pupil: audio quota limit null');
is($pupil && $pupil->{budget}{limit}, undef, 'pupil: budget limit null');
ok($pupil && exists $pupil->{budget}{limit}, 'pupil: budget limit present');

# a suspended library

my $x = whoami(tok(sub => 'patron-x', library => '1103'), 'suspended');
is_deeply($x && $x->{library}, { id => '1103', name => 'Stavanger',
    county => '11', status => 'suspended' }, 'suspended library');

# without a valid token

is_denied(bearer_get(undef, '/whoami'), 'token_missing',
    'whoami without token');
is_denied(bearer_get(tok(sub => 'patron-7', ttl => -3600), '/whoami'),
    'token_expired', 'whoami with an expired token');

done_testing();
