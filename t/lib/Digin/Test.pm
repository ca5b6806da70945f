package Digin::Test;

# Test harness for the Digin gateway, in the style of nginx-tests.
#
# One temporary prefix per test file: nginx configuration, logs, temp
# paths, keys and helper daemons all live there and are removed at exit
# (set DIGIN_KEEP=1 to keep them).  nginx runs in the foreground
# ("daemon off") as our child in its own process group, so it can always
# be stopped.  Plain Perl, core modules only.
#
#   use Digin::Test;            # also imports Test::More
#   require_module();
#   start_nginx(<<'EOF');
#   %%TEST_GLOBALS%%
#   %%LOAD_MODULE%%
#   events { }
#   http {
#       %%TEST_GLOBALS_HTTP%%
#       server { listen 127.0.0.1:%%PORT_8080%%; ... }
#   }
#   EOF
#   my $r = http_get(port(8080), '/', headers => { Authorization => ... });
#   is($r->{status}, 401);
#   done_testing();             # stops everything, checks error.log

use strict;
use warnings;
no warnings qw(exec);      # code after exec is the failure path

use Carp qw(croak);
use Cwd qw(abs_path);
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512);
use Exporter ();
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64url decode_base64url);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);

use Test::More ();

our @ISA = qw(Exporter);

our @EXPORT = qw(
    prefix build_dir module_path tool_path nginx_binary
    require_module require_tool
    port free_port
    conf_text write_file read_file
    start_nginx stop_nginx nginx_t nginx_pid line_of
    start_daemon stop_daemon start_redis stop_redis redis_cmd
    http http_get
    wait_until
    error_log_path error_log_text error_log_problems check_error_log
    error_log_lines_since error_log_size
    keygen mint
    is_denied echo_vars
    b64url b64url_decode json_encode json_decode token_parts
    craft_token openssl_sign der_to_raw hmac_sign
    done_testing
);


my $json = JSON::PP->new->canonical(1)->allow_nonref(1);

our %ECHO;          # the echo backend, see echo_vars()

my $PREFIX;         # per test file
my %PORTS;          # name => port
my %PORT_USED;      # port => 1
my @DAEMONS;        # handles still running
my $NGINX;          # handle of the running nginx
my $FINISHED = 0;
my $T_DIR = dirname(dirname(dirname(abs_path(__FILE__))));   # t/


sub import {
    my ($class, @args) = @_;

    # Test::More without its done_testing: ours wraps it
    Test::More->export_to_level(1, 'Test::More',
        grep { $_ ne 'done_testing' } @Test::More::EXPORT);

    __PACKAGE__->export_to_level(1, $class, @args ? @args : @EXPORT);
}


sub prefix {
    return $PREFIX if defined $PREFIX;

    $PREFIX = tempdir('digin-test-XXXXXXXX', TMPDIR => 1,
        CLEANUP => !$ENV{DIGIN_KEEP});
    chmod 0755, $PREFIX;
    Test::More::diag("test prefix: $PREFIX") if $ENV{DIGIN_KEEP};

    for my $d (qw(logs temp keys)) {
        make_path("$PREFIX/$d");
    }

    return $PREFIX;
}


sub build_dir {
    return $ENV{DIGIN_BUILD} if defined $ENV{DIGIN_BUILD}
                                && $ENV{DIGIN_BUILD} ne '';
    return File::Spec->catdir(dirname($T_DIR), 'build');
}

sub module_path { return build_dir() . '/ngx_http_digin_module.so' }
sub tool_path { return build_dir() . '/digin-token' }
sub nginx_binary { return $ENV{DIGIN_NGINX} || '/usr/sbin/nginx' }


# Without the module there is nothing to test.  Under "make prove"
# (DIGIN_BUILD set) a missing build is an error, not a skip.

sub require_module {
    _require_file(module_path(), 'module');
}

sub require_tool {
    _require_file(tool_path(), 'digin-token');
}

sub _require_file {
    my ($file, $what) = @_;

    return if -f $file;

    if ($ENV{DIGIN_BUILD}) {
        Test::More::BAIL_OUT("$what not built: $file is missing");
    }

    Test::More::plan(skip_all => "$what not built ($file); run make");
}


# Free loopback ports: bind port 0, read the port the kernel chose.
# Ports handed out once are not handed out again in this file.

sub free_port {
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => 0,
            Proto     => 'tcp',
            Listen    => 1,
        ) or croak "cannot bind a loopback port: $!";

        my $port = $s->sockport();
        close $s;

        next if $PORT_USED{$port}++;
        return $port;
    }

    croak "no free port found";
}

# port('8080') is the port behind %%PORT_8080%%, the same all file long
# (port('8080', 9000) sets it)
sub port {
    my ($name, $set) = @_;

    croak "port() needs a name" unless defined $name;
    $PORTS{$name} = $set if defined $set;
    return $PORTS{$name} //= free_port();
}


sub write_file {
    my ($file, $data, %opts) = @_;

    make_path(dirname($file));
    open my $fh, '>:raw', $file or croak "cannot write $file: $!";
    print $fh $data;
    close $fh or croak "cannot write $file: $!";
    chmod $opts{mode}, $file if defined $opts{mode};

    return $file;
}

sub read_file {
    my ($file) = @_;

    open my $fh, '<:raw', $file or return undef;
    local $/;
    my $data = <$fh>;
    close $fh;

    return $data // '';
}


# nginx loads a copy of the module: "make module" rewrites the built
# file in place, which would crash workers that have it mapped when a
# build runs during the tests.

my $MODULE_COPY;

sub _module_copy {
    return $MODULE_COPY if defined $MODULE_COPY;

    my $src = module_path();
    return $src unless -f $src;

    my $dst = prefix() . '/modules/ngx_http_digin_module.so';
    write_file($dst, read_file($src), mode => 0755);

    return $MODULE_COPY = $dst;
}


# Expands the placeholders of a configuration template:
#   %%TEST_GLOBALS%%       pid, error_log (info), daemon off, user, workers
#   %%TEST_GLOBALS_HTTP%%  temp paths, access_log in the prefix
#   %%LOAD_MODULE%%        load_module of (a copy of) the built module
#   %%TESTDIR%%            the prefix
#   %%BUILD%%              the build directory
#   %%PORT_name%%          a free port, see port()
#   %%ECHO_HEADERS%%, %%ECHO_BODY%%  see echo_vars()

sub conf_text {
    my ($template, %opts) = @_;

    my $p = prefix();
    my $conf = $template;

    my $workers = $conf =~ /^\s*worker_processes\s/m ? ''
                                                     : "worker_processes 1;\n";
    my $user = $> == 0 ? "user root root;\n" : '';

    my $elog = $opts{error_log} // "$p/logs/error.log";

    my $globals = <<"EOF";
daemon off;
master_process on;
${workers}${user}pid $p/logs/nginx.pid;
error_log $elog info;
EOF

    my $globals_http = <<"EOF";
client_body_temp_path $p/temp/client_body;
proxy_temp_path $p/temp/proxy;
fastcgi_temp_path $p/temp/fastcgi;
uwsgi_temp_path $p/temp/uwsgi;
scgi_temp_path $p/temp/scgi;
access_log $p/logs/access.log;
EOF

    my $load = 'load_module ' . _module_copy() . ";\n";

    $conf =~ s/%%TEST_GLOBALS%%/$globals/g;
    $conf =~ s/%%TEST_GLOBALS_HTTP%%/$globals_http/g;
    $conf =~ s/%%LOAD_MODULE%%/$load/g;
    $conf =~ s/%%TESTDIR%%/$p/g;
    $conf =~ s/%%BUILD%%/build_dir()/ge;
    $conf =~ s/%%ECHO_HEADERS%%/$ECHO{headers}/g;
    $conf =~ s/%%ECHO_BODY%%/$ECHO{body}/g;
    $conf =~ s/%%PORT_(\w+)%%/port($1)/ge;

    croak "unknown placeholder $1 in configuration" if $conf =~ /(%%\w+%%)/;

    return $conf;
}


# Generic helper daemons.  The process runs in its own process group
# with stdout and stderr in a file; it is ready when "port" accepts
# connections and/or the "ready" callback returns true.

sub start_daemon {
    my ($cmd, %opts) = @_;

    croak "start_daemon needs a command" unless ref $cmd eq 'ARRAY' && @$cmd;

    my $name = $opts{name} // (split m{/}, $cmd->[0])[-1];
    my $out = $opts{output} // prefix() . "/logs/$name.out";
    my $timeout = $opts{timeout} // 10;

    make_path(dirname($out));

    my $pid = fork();
    croak "fork: $!" unless defined $pid;

    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        chdir $opts{chdir} if defined $opts{chdir};
        exec { $cmd->[0] } @$cmd;
        print STDERR "exec $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }

    my $h = {
        name   => $name,
        pid    => $pid,
        cmd    => $cmd,
        output => $out,
        signal => $opts{signal} // 'TERM',
    };
    push @DAEMONS, $h;

    my @ports = @{ $opts{ports} // [] };
    push @ports, $opts{port} if defined $opts{port};

    my $ready = wait_until(sub {
        if (waitpid($pid, WNOHANG) == $pid) {
            $h->{status} = $?;
            $h->{exited} = 1;
            return 1;
        }
        for my $port (@ports) {
            return 0 unless _can_connect($port);
        }
        return $opts{ready} ? $opts{ready}->() : 1;
    }, timeout => $timeout);

    if ($h->{exited} || !$ready) {
        my $why = $h->{exited} ? "exited with status $h->{status}"
                               : "not ready after ${timeout}s";
        my $log = read_file($out) // '';
        $log .= "\n" . ($opts{diag_file} ? read_file($opts{diag_file}) // ''
                                         : '');
        stop_daemon($h);
        croak "$name $why:\n$log";
    }

    return $h;
}

sub stop_daemon {
    my ($h, %opts) = @_;

    return unless $h;
    @DAEMONS = grep { $_ != $h } @DAEMONS;
    return $h->{status} if $h->{exited};

    my $sig = $opts{signal} // $h->{signal};
    my $timeout = $opts{timeout} // 10;

    kill $sig, $h->{pid};

    my $gone = wait_until(sub { waitpid($h->{pid}, WNOHANG) == $h->{pid} },
        timeout => $timeout, interval => 0.02);

    if (!$gone) {
        Test::More::diag("$h->{name} did not stop on SIG$sig, killing it");
        kill 'KILL', -$h->{pid};
        kill 'KILL', $h->{pid};
        waitpid($h->{pid}, 0);
    }

    $h->{status} = $?;
    $h->{exited} = 1;

    # whatever the group left behind (nginx workers of a killed master)
    kill 'KILL', -$h->{pid};

    return $h->{status};
}


sub _listen_ports {
    my ($conf) = @_;
    my %seen;

    return grep { !$seen{$_}++ }
        $conf =~ /^\s*listen\s+(?:127\.0\.0\.1:)?(\d+)\b/mg;
}

sub start_nginx {
    my ($template, %opts) = @_;

    croak "nginx already running" if $NGINX && !$NGINX->{exited};

    my $p = prefix();

    for my $try (1 .. 3) {
        my $conf = conf_text($template);
        my $file = write_file("$p/nginx.conf", $conf);

        unlink "$p/logs/nginx.pid";

        # ready: the configuration was accepted (the pid file is written
        # after it is parsed) and every listen port accepts connections
        $NGINX = eval {
            start_daemon(
                [ nginx_binary(), '-p', "$p/", '-c', $file, '-e',
                  "$p/logs/error.log" ],
                name      => 'nginx',
                output    => "$p/logs/nginx.out",
                ports     => [ _listen_ports($conf) ],
                signal    => 'QUIT',
                diag_file => "$p/logs/error.log",
                ready     => sub {
                    my $pid = read_file("$p/logs/nginx.pid") // '';
                    return $pid =~ /^\d+$/m;
                },
                %opts,
            );
        };

        return $NGINX if $NGINX;

        my $err = $@;

        # a port taken by someone else since free_port() saw it free:
        # new ports, and the failed attempt's log kept out of the checks
        croak $err unless $try < 3 && $err =~ /Address already in use/;

        delete $PORTS{$_} for $template =~ /%%PORT_(\w+)%%/g;
        rename "$p/logs/error.log", "$p/logs/error.log.bind-$try";
        unlink "$p/logs/nginx.out";
    }
}

sub stop_nginx {
    my $h = $NGINX;
    undef $NGINX;
    return stop_daemon($h);
}

sub nginx_pid { return $NGINX ? $NGINX->{pid} : undef }


# line_of($file, qr/.../): the number of the first line of $file that
# matches, for "in FILE:LINE" in nginx's messages

sub line_of {
    my ($file, $re) = @_;

    my $n = 0;
    for my $line (split /\n/, read_file($file) // '') {
        $n++;
        return $n if $line =~ $re;
    }

    croak "no line of $file matches $re";
}


# nginx -t on a configuration; returns (exit code, its stdout, stderr
# and error log, the configuration file).  The file is written as
# $opts{file} (default PREFIX/nginx-t/nginx.conf), so that messages can
# be matched against "in FILE:LINE"; its logs stay out of the checks of
# PREFIX/logs.

sub nginx_t {
    my ($template, %opts) = @_;

    my $p = prefix();
    my $dir = "$p/nginx-t";
    my $file = $opts{file} // "$dir/nginx.conf";
    my $out = "$dir/nginx.out";

    make_path($dir);
    write_file($file, conf_text($template, error_log => "$dir/error.log"));

    my $pid = fork();
    croak "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec { nginx_binary() } nginx_binary(), '-t', '-p', "$p/",
            '-c', $file, '-e', "$dir/error.log";
        POSIX::_exit(127);
    }

    my $done = wait_until(sub { waitpid($pid, WNOHANG) == $pid },
        timeout => 30, interval => 0.02);

    if (!$done) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
        croak "nginx -t did not finish";
    }

    my $code = $? >> 8;
    my $output = (read_file($out) // '') . (read_file("$dir/error.log") // '');
    unlink "$dir/error.log", $out;

    return ($code, $output, $file);
}


# Redis on a free loopback port, its own directory, no persistence.

sub start_redis {
    my (%opts) = @_;

    my $port = $opts{port} // free_port();
    my $dir = prefix() . "/redis-$port";
    make_path($dir);

    my $h = start_daemon(
        [ $opts{binary} // '/usr/bin/redis-server',
          '--port', $port, '--bind', '127.0.0.1', '--dir', $dir,
          '--save', '', '--appendonly', 'no', '--daemonize', 'no',
          '--protected-mode', 'no', '--logfile', "$dir/redis.log",
          @{ $opts{args} // [] } ],
        name      => "redis-$port",
        output    => "$dir/redis.out",
        diag_file => "$dir/redis.log",
        signal    => 'TERM',
        ready     => sub {
            my $r = eval { redis_cmd($port, 'PING') };
            return defined $r && $r eq 'PONG';
        },
    );

    $h->{port} = $port;
    return $h;
}

sub stop_redis { return stop_daemon(@_) }


# One command over RESP; returns the reply (arrays as array refs),
# dies on an error reply or a timeout.

sub redis_cmd {
    my ($port, @args) = @_;

    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => 2,
    ) or die "cannot connect to redis on $port: $!\n";

    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;

    _write_all($s, $req, 5);

    my $buf = '';
    my $reply = _resp_parse($s, \$buf, time() + 5);
    close $s;

    return $reply;
}

sub _resp_read_line {
    my ($s, $buf, $deadline) = @_;

    while ($$buf !~ /\r\n/) {
        _read_more($s, $buf, $deadline) or die "redis: connection closed\n";
    }

    $$buf =~ s/^(.*?)\r\n//s;
    return $1;
}

sub _resp_parse {
    my ($s, $buf, $deadline) = @_;

    my $line = _resp_read_line($s, $buf, $deadline);
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+';
    return $rest + 0 if $type eq ':';
    die "redis: $rest\n" if $type eq '-';

    if ($type eq '$') {
        return undef if $rest < 0;
        while (length($$buf) < $rest + 2) {
            _read_more($s, $buf, $deadline)
                or die "redis: connection closed\n";
        }
        my $v = substr($$buf, 0, $rest);
        substr($$buf, 0, $rest + 2) = '';
        return $v;
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [ map { _resp_parse($s, $buf, $deadline) } 1 .. $rest ];
    }

    die "redis: unexpected reply \"$line\"\n";
}


sub _can_connect {
    my ($port) = @_;

    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => 1,
    );

    return 0 unless $s;
    close $s;
    return 1;
}

sub _read_more {
    my ($s, $buf, $deadline) = @_;

    my $left = $deadline - time();
    die "timeout\n" if $left <= 0;

    my $sel = IO::Select->new($s);
    die "timeout\n" unless $sel->can_read($left);

    my $n = sysread($s, $$buf, 65536, length $$buf);
    die "read: $!\n" unless defined $n;

    return $n;
}

sub _write_all {
    my ($s, $data, $timeout) = @_;

    my $deadline = time() + $timeout;
    my $sel = IO::Select->new($s);

    while (length $data) {
        my $left = $deadline - time();
        die "timeout\n" if $left <= 0 || !$sel->can_write($left);
        my $n = syswrite($s, $data);
        die "write: $!\n" unless defined $n;
        substr($data, 0, $n) = '';
    }
}


# HTTP over a socket.  http() sends a raw request, http_get() builds a
# GET.  Both return { status, reason, headers => { lc name => value,
# repeated ones joined with ", " }, header_list => { lc name =>
# [values] }, body, raw }, or undef with $@ set on a timeout or error.

sub http {
    my ($port, $request, %opts) = @_;

    my $timeout = $opts{timeout} // 5;
    my $raw = '';

    my $ok = eval {
        my $s = IO::Socket::INET->new(
            PeerAddr => '127.0.0.1',
            PeerPort => $port,
            Proto    => 'tcp',
            Timeout  => $timeout,
        ) or die "connect to $port: $!\n";

        my $deadline = time() + $timeout;

        _write_all($s, $request, $timeout);
        while (_read_more($s, \$raw, $deadline)) { }
        close $s;
        1;
    };

    return undef unless $ok;
    return _parse_response($raw);
}

sub http_get {
    my ($port, $path, %opts) = @_;

    my $req = "GET $path HTTP/1.0\r\nHost: localhost\r\n";
    my $h = $opts{headers} // [];
    my @pairs = ref $h eq 'HASH' ? map { ($_, $h->{$_}) } sort keys %$h
                                 : @$h;

    while (my ($name, $value) = splice @pairs, 0, 2) {
        $req .= "$name: $value\r\n";
    }

    $req .= "\r\n";

    return http($port, $req, %opts);
}

sub _parse_response {
    my ($raw) = @_;

    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    return undef
        unless defined $head
               && $head =~ s{^HTTP/\d\.\d (\d{3})(?: ([^\r\n]*))?\r?\n?}{};

    my $r = {
        status      => $1 + 0,
        reason      => $2 // '',
        headers     => {},
        header_list => {},
        body        => $body // '',
        raw         => $raw,
    };

    for my $line (split /\r\n/, $head) {
        my ($name, $value) = $line =~ /^([^:]+):\s*(.*?)\s*$/ or next;
        push @{ $r->{header_list}{ lc $name } }, $value;
    }

    for my $name (keys %{ $r->{header_list} }) {
        $r->{headers}{$name} = join ', ', @{ $r->{header_list}{$name} };
    }

    if (($r->{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
        my ($in, $out) = ($r->{body}, '');
        while ($in =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($in, 0, $n);
            substr($in, 0, $n + 2) = '';
        }
        $r->{body} = $out;
    }

    return $r;
}


# Polls $cond until it returns true or the time is up; returns the
# last value.  The interval is a poll period, not a synchronisation.

sub wait_until {
    my ($cond, %opts) = @_;

    my $deadline = time() + ($opts{timeout} // 10);
    my $interval = $opts{interval} // 0.05;

    while (1) {
        my $v = $cond->();
        return $v if $v;
        return $v if time() >= $deadline;
        sleep $interval;
    }
}


# The error log and what must never be in it.

sub error_log_path { return prefix() . '/logs/error.log' }

sub error_log_text {
    my ($file) = @_;
    return read_file($file // error_log_path()) // '';
}

sub error_log_size {
    return -s error_log_path() // 0;
}

# lines written after byte offset $since (from error_log_size())
sub error_log_lines_since {
    my ($since) = @_;
    my $text = error_log_text();
    return split /\n/, substr($text, $since // 0);
}

my @PROBLEMS = (
    qr/\[alert\]/,
    qr/\[crit\]/,
    qr/\[emerg\]/,
    qr/AddressSanitizer/,
    qr/LeakSanitizer/,
    qr/runtime error:/,
);

# Lines of a log that fail a test: [alert], [crit], [emerg] (unless
# allow_emerg), sanitizer reports.  %opts: file, allow_emerg.

sub error_log_problems {
    my (%opts) = @_;

    my @files = $opts{file} ? ($opts{file})
                            : (error_log_path(),
                               glob(prefix() . '/logs/*.out'));
    my @bad;

    for my $file (@files) {
        for my $line (split /\n/, error_log_text($file)) {
            for my $re (@PROBLEMS) {
                next if $opts{allow_emerg} && "$re" =~ /emerg/;
                if ($line =~ $re) {
                    push @bad, $line;
                    last;
                }
            }
        }
    }

    return @bad;
}

sub check_error_log {
    my (%opts) = @_;

    my $name = delete $opts{name} // 'no alerts or sanitizer reports in logs';
    my @bad = error_log_problems(%opts);

    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::ok(!@bad, $name)
        or Test::More::diag(join "\n", @bad[0 .. ($#bad > 19 ? 19 : $#bad)]);

    return !@bad;
}

sub _stop_all {
    stop_nginx() if $NGINX;
    stop_daemon($_) for reverse @DAEMONS;
}

# Stops nginx and the daemons, checks the logs, ends the plan.
sub done_testing {
    my (@args) = @_;

    _stop_all();
    $FINISHED = 1;

    local $Test::Builder::Level = $Test::Builder::Level + 1;
    check_error_log() if defined $PREFIX;

    return Test::More::done_testing(@args);
}

END {
    my $status = $?;

    _stop_all();

    if (!$FINISHED && defined $PREFIX) {
        my @bad = error_log_problems();
        if (@bad) {
            Test::More::diag("problems in logs:\n" . join "\n", @bad);
        }
    }

    $? = $status;
}


# Answers of the module.

# is_denied($r, 'token_expired', $name): 401, the RFC 6750 challenge
# (no error attribute when the token is missing), {"error": reason} as
# application/json; one test per property, all named after $name.

sub is_denied {
    my ($r, $reason, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    $name //= $reason;

    if (!defined $r) {
        Test::More::fail("$name: no response ($@)");
        return 0;
    }

    my $ok = Test::More::is($r->{status}, 401, "$name: status");

    my $challenges = $r->{header_list}{'www-authenticate'} // [];
    $ok &= Test::More::is(scalar @$challenges, 1,
        "$name: one WWW-Authenticate");

    my $re = $reason eq 'token_missing'
        ? qr/^Bearer realm="digin"$/
        : qr/^Bearer\ realm="digin",\ error="invalid_token",
              \ error_description="[^"\\\x00-\x1f]+"$/x;

    $ok &= Test::More::like($challenges->[0] // '', $re,
        "$name: WWW-Authenticate");

    $ok &= Test::More::like($r->{headers}{'content-type'} // '',
        qr{^application/json\b}, "$name: content type");

    my $body = eval { json_decode($r->{body}) };
    $ok &= Test::More::is_deeply($body, { error => $reason }, "$name: body")
        || Test::More::diag("body: $r->{body}");

    return $ok;
}

# A backend that echoes the variables the gateway sent it:
#
#   location / { digin on; proxy_pass http://127.0.0.1:%%PORT_back%%;
#                %%ECHO_HEADERS%% }
#   server { listen 127.0.0.1:%%PORT_back%%;
#            location / { return 200 "%%ECHO_BODY%%"; } }
#
# echo_vars($r) parses its answer into { patron, library, issuer,
# result }, or undef when the request did not pass.

%ECHO = (
    headers => 'proxy_set_header X-Patron $digin_patron; '
               . 'proxy_set_header X-Library $digin_library; '
               . 'proxy_set_header X-Issuer $digin_issuer; '
               . 'proxy_set_header X-Result $digin_result;',
    body    => 'patron=[$http_x_patron] library=[$http_x_library] '
               . 'issuer=[$http_x_issuer] result=[$http_x_result]\n',
);

sub echo_vars {
    my ($r) = @_;

    return undef unless defined $r && $r->{status} == 200;

    my %v = $r->{body} =~ /(\w+)=\[([^\]]*)\]/g;
    return keys %v == 4 ? \%v : undef;
}


# Keys and tokens through build/digin-token.

sub _run_tool {
    my (@args) = @_;

    my $tool = tool_path();
    my $err = prefix() . '/logs/digin-token.err';

    my $pid = open(my $fh, '-|');
    croak "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>', $err or POSIX::_exit(127);
        exec { $tool } $tool, @args;
        POSIX::_exit(127);
    }

    local $/;
    my $out = <$fh> // '';
    close $fh;

    if ($? != 0) {
        my $e = read_file($err) // '';
        croak "digin-token @args: exit " . ($? >> 8) . ": $e";
    }

    return $out;
}

# keygen('rsa', 'name', kid => 'k1', alg => 'RS256', bits => 2048)
# returns { pem, pub, jwks, secret, kid, jwk } with absolute paths
# under PREFIX/keys.

sub keygen {
    my ($type, $name, %opts) = @_;

    my $out = prefix() . "/keys/$name";
    my @args = ('keygen', '--type', $type, '--out', $out);
    push @args, '--kid', $opts{kid} if defined $opts{kid};
    push @args, '--alg', $opts{alg} if defined $opts{alg};
    push @args, '--bits', $opts{bits} if defined $opts{bits};

    _run_tool(@args);

    my $k = {
        type => $type,
        kid  => $opts{kid},
        alg  => $opts{alg},
        jwks => "$out.jwks.json",
    };

    if ($type eq 'oct') {
        $k->{secret} = "$out.secret";
        $k->{key} = $k->{secret};
    } else {
        $k->{pem} = "$out.pem";
        $k->{pub} = "$out.pub.pem";
        $k->{key} = $k->{pem};
    }

    for my $f (grep { defined } @$k{qw(jwks pem pub secret)}) {
        croak "keygen did not write $f" unless -f $f;
    }

    $k->{jwk} = json_decode(read_file($k->{jwks}))->{keys}[0];

    return $k;
}

# mint(key => FILE, alg => 'RS256', kid => ..., iss => ..., aud => STR or
# [STR...], sub => ..., library => ..., ttl | exp | no_exp, nbf, iat |
# no_iat, jti, claim => { NAME => STR }, claim_json => { NAME => JSON },
# header_json => { NAME => JSON }); returns the compact token.

sub mint {
    my (%o) = @_;

    croak "mint needs key and alg" unless defined $o{key} && defined $o{alg};

    my @args = ('mint', '--key', $o{key}, '--alg', $o{alg});

    for my $opt (qw(kid iss sub library ttl exp nbf iat jti)) {
        push @args, "--$opt", $o{$opt} if defined $o{$opt};
    }

    my @aud = ref $o{aud} ? @{ $o{aud} } : defined $o{aud} ? ($o{aud}) : ();
    push @args, '--aud', $_ for @aud;

    push @args, '--no-exp' if $o{no_exp};
    push @args, '--no-iat' if $o{no_iat};

    for my $kind (qw(claim claim_json header_json)) {
        my $v = $o{$kind} or next;
        my @pairs = ref $v eq 'HASH' ? map { ($_, $v->{$_}) } sort keys %$v
                                     : @$v;
        (my $flag = "--$kind") =~ tr/_/-/;
        while (my ($name, $value) = splice @pairs, 0, 2) {
            push @args, $flag, "$name=$value";
        }
    }

    my $token = _run_tool(@args);
    $token =~ s/\s+\z//;

    croak "digin-token mint printed no token" unless $token =~ /^[\w-]+\./;

    return $token;
}


# Hand-made tokens, for what the tool refuses to produce.

sub b64url { return encode_base64url($_[0]) }
sub b64url_decode { return decode_base64url($_[0]) }

sub json_encode { return $json->encode($_[0]) }
sub json_decode { return $json->decode($_[0]) }

# (header, payload, signature) decoded, header and payload as text
sub token_parts {
    my ($token) = @_;
    my @p = split /\./, $token, -1;
    return map { b64url_decode($_) } @p;
}

# craft_token(header => HASH or raw JSON text, payload => HASH or text,
#             sign => sub { my ($signing_input) = @_; return $sig_bytes })
# or signature => raw bytes; no sign and no signature: empty signature.

sub craft_token {
    my (%o) = @_;

    my $h = ref $o{header} ? json_encode($o{header}) : $o{header};
    my $p = ref $o{payload} ? json_encode($o{payload}) : $o{payload};

    my $input = b64url($h) . '.' . b64url($p);
    my $sig = $o{sign} ? $o{sign}->($input) : $o{signature} // '';

    return "$input." . b64url($sig);
}

sub hmac_sign {
    my ($alg, $secret, $data) = @_;

    return hmac_sha256($data, $secret) if $alg eq 'HS256';
    return hmac_sha384($data, $secret) if $alg eq 'HS384';
    return hmac_sha512($data, $secret) if $alg eq 'HS512';
    croak "hmac_sign: unknown alg $alg";
}

# openssl dgst -sign: PKCS#1 v1.5 for RSA keys, DER (not JWS) for EC keys
sub openssl_sign {
    my ($keyfile, $digest, $data) = @_;

    my $in = prefix() . '/temp/sign.in';
    my $out = prefix() . '/temp/sign.out';

    write_file($in, $data);
    unlink $out;

    system('openssl', 'dgst', "-$digest", '-sign', $keyfile, '-out', $out,
           $in) == 0
        or croak "openssl dgst -sign failed";

    return read_file($out);
}

# DER ECDSA-Sig-Value -> JWS R||S, each padded to $size bytes
sub der_to_raw {
    my ($der, $size) = @_;

    my @b = unpack 'C*', $der;
    my $i = 0;

    croak "not a DER sequence" unless $b[$i++] == 0x30;
    my $len = $b[$i++];
    $i += $len & 0x7f if $len & 0x80;

    my $raw = '';
    for (1 .. 2) {
        croak "not a DER integer" unless $b[$i++] == 0x02;
        my $n = $b[$i++];
        my $int = pack 'C*', @b[$i .. $i + $n - 1];
        $i += $n;
        $int =~ s/^\x00+//;
        $raw .= ("\x00" x ($size - length $int)) . $int;
    }

    return $raw;
}


1;
