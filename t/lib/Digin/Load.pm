package Digin::Load;

# Bounded wrk runs against 127.0.0.1 for the tests of faults under load
# (t/faults.t) and of hostile input (t/hostile.t).  A run goes on in the
# background while the test does something to nginx or Redis, and is
# read back when it ends:
#
#   use Digin::Load;
#   my $run = wrk_start(port('front'), '/vendor/x', duration => 5,
#                       headers => { Authorization => "Bearer $t" });
#   ... reload, kill, restart ...
#   my $res = wrk_wait($run);
#   # { requests, seconds, rate, statuses => { 200 => n, 503 => n },
#   #   failed (answers not 2xx), errors => { connect, read, write,
#   #   timeout }, socket_errors (their sum), latency_ms => { p50, p99,
#   #   max }, output }
#
# Every answer's status is counted by a wrk Lua script (wrk itself only
# counts "non-2xx or 3xx").  tokens => FILE makes each request carry the
# next line of FILE as its bearer token (cycling).  Timing is
# reported, never asserted.

use strict;
use warnings;
no warnings qw(exec);      # code after exec is the failure path

use Carp qw(croak);
use Exporter ();
use POSIX qw(:sys_wait_h);
use Time::HiRes ();

use Digin::Test ();

our @ISA = qw(Exporter);
our @EXPORT = qw(wrk_start wrk_wait wrk_run have_wrk wrk_summary);

our $SEQ = 0;


sub have_wrk {
    for my $dir (split /:/, $ENV{PATH} // '') {
        return "$dir/wrk" if -x "$dir/wrk";
    }
    return undef;
}


my $LUA = <<'EOF';
-- written by Digin::Load: counts statuses, optional token list
local threads = {}
local tokens = nil
local next_token = 0
local headers_line = os.getenv("DIGIN_WRK_HEADERS") or ""
local path = os.getenv("DIGIN_WRK_PATH") or "/"

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
    local file = os.getenv("DIGIN_WRK_TOKENS")
    if file and file ~= "" then
        tokens = {}
        for line in io.lines(file) do
            if line ~= "" then table.insert(tokens, line) end
        end
    end
    base_headers = {}
    for name, value in string.gmatch(headers_line, "([^\1\2]+)\1([^\2]*)\2") do
        base_headers[name] = value
    end
end

function request()
    local h = {}
    for k, v in pairs(base_headers) do h[k] = v end
    if tokens then
        next_token = next_token % #tokens + 1
        h["Authorization"] = "Bearer " .. tokens[next_token]
    end
    return wrk.format("GET", path, h)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        for k, v in pairs(s or {}) do
            total[k] = (total[k] or 0) + v
        end
    end
    for k, v in pairs(total) do
        io.write(string.format("digin-status %d %d\n", k, v))
    end
    io.write(string.format("digin-latency %d %d %d\n",
        latency:percentile(50), latency:percentile(99), latency.max))
    io.write(string.format("digin-summary %d %d %d %d %d %d\n",
        summary.requests, summary.duration, summary.errors.connect,
        summary.errors.read, summary.errors.write, summary.errors.timeout))
end
EOF


# wrk_start($port, $path, duration => S, connections => N, threads => N,
# headers => { ... }, tokens => FILE, timeout => S)

sub wrk_start {
    my ($port, $path, %o) = @_;

    my $wrk = have_wrk() or croak 'wrk is not installed';
    my $dir = Digin::Test::prefix() . '/wrk';
    mkdir $dir;

    my $script = "$dir/count.lua";
    Digin::Test::write_file($script, $LUA) unless -f $script;

    my $out = "$dir/run-" . ++$SEQ . '.out';

    my $h = $o{headers} // {};
    my $hline = join '', map { "$_\x01$h->{$_}\x02" } sort keys %$h;

    my @cmd = ($wrk, '-t', $o{threads} // 1, '-c', $o{connections} // 16,
               '-d', ($o{duration} // 5) . 's',
               '--timeout', ($o{timeout} // 5) . 's',
               '-s', $script, "http://127.0.0.1:$port$path");

    my $pid = fork();
    croak "fork: $!" unless defined $pid;

    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        $ENV{DIGIN_WRK_HEADERS} = $hline;
        $ENV{DIGIN_WRK_PATH} = $path;
        $ENV{DIGIN_WRK_TOKENS} = $o{tokens} // '';
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec { $cmd[0] } @cmd;
        POSIX::_exit(127);
    }

    return { pid => $pid, out => $out, started => Time::HiRes::time(),
             limit => ($o{duration} // 5) + ($o{timeout} // 5) + 30 };
}

sub wrk_wait {
    my ($run) = @_;

    my $done = Digin::Test::wait_until(
        sub { waitpid($run->{pid}, WNOHANG) == $run->{pid} },
        timeout => $run->{limit}, interval => 0.05);

    if (!$done) {
        kill 'KILL', -$run->{pid};
        waitpid($run->{pid}, 0);
        croak "wrk did not finish";
    }

    my $text = Digin::Test::read_file($run->{out}) // '';
    my %res = (output => $text, statuses => {}, errors => {});

    for my $line (split /\n/, $text) {
        if ($line =~ /^digin-status (\d+) (\d+)$/) {
            $res{statuses}{$1} = $2;

        } elsif ($line =~ /^digin-latency (\d+) (\d+) (\d+)$/) {
            $res{latency_ms} = { p50 => $1 / 1000, p99 => $2 / 1000,
                                 max => $3 / 1000 };

        } elsif ($line =~ /^digin-summary ((?:\d+ ){5}\d+)$/) {
            my @n = split / /, $1;
            $res{requests} = $n[0];
            $res{seconds} = $n[1] / 1e6;
            @{ $res{errors} }{qw(connect read write timeout)} = @n[2 .. 5];
        }
    }

    croak "wrk printed no summary:\n$text" unless defined $res{requests};

    $res{rate} = $res{seconds} ? $res{requests} / $res{seconds} : 0;
    $res{failed} = 0;
    $res{failed} += $res{statuses}{$_}
        for grep { !/^2/ } keys %{ $res{statuses} };
    $res{socket_errors} = 0;
    $res{socket_errors} += $_ for values %{ $res{errors} };

    return \%res;
}

sub wrk_run {
    my ($port, $path, %o) = @_;
    return wrk_wait(wrk_start($port, $path, %o));
}

# one line: requests, rate, statuses, socket errors, latency
sub wrk_summary {
    my ($res) = @_;

    my $st = join ' ', map { "$_:$res->{statuses}{$_}" }
                           sort keys %{ $res->{statuses} };
    my $e = $res->{errors};

    return sprintf '%d requests in %.1f s (%.0f/s), statuses %s, '
        . 'socket errors %d (connect %d, read %d, write %d, timeout %d), '
        . 'latency p50 %.2f ms p99 %.2f ms max %.2f ms',
        $res->{requests}, $res->{seconds}, $res->{rate}, $st || '-',
        $res->{socket_errors}, @$e{qw(connect read write timeout)},
        @{ $res->{latency_ms} // {} }{qw(p50 p99 max)};
}

1;
