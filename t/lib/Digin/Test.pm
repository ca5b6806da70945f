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
    http http_get bearer_get status_of
    wait_until
    error_log_path error_log_text error_log_problems check_error_log
    error_log_lines_since error_log_size
    keygen mint
    is_denied echo_vars
    b64url b64url_decode json_encode json_decode token_parts
    craft_token openssl_sign der_to_raw hmac_sign
    done_testing
    admin_path require_admin digin_admin load_document
    redis_addr redis_info wait_replica_synced
    is_refused http_parallel http_send http_receive
    metrics metric metric_key metric_delta iso8601_epoch
    start_nginx_instance instance_error_log
    start_recorder recorded_requests parse_http_request
    pseudonym verify_jws raw_to_der merge_jwks
    generate_file file_sha256 files_under nginx_workers open_files_under
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
#   %%ECHO_BACKEND%%       the echoing server on %%PORT_back%%, see echo_vars()

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
    $conf =~ s/%%ECHO_BACKEND%%/$ECHO{backend}/g;
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

# GET uri from the "front" server with the token as a bearer token (no
# Authorization when it is undef); %opts as for http_get
sub bearer_get {
    my ($token, $uri, %opts) = @_;
    return http_get(port('front'), $uri, %opts,
        headers => defined $token ? { Authorization => "Bearer $token" }
                                  : {});
}

# a response's status, or 'none' when there was no response
sub status_of {
    my ($r) = @_;
    return $r ? $r->{status} : 'none';
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

    # a copy: stop_daemon() rewrites @DAEMONS, which "for (reverse
    # @DAEMONS)" would otherwise walk in place
    my @daemons = reverse @DAEMONS;
    stop_daemon($_) for @daemons;
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
#   %%ECHO_BACKEND%%
#
# where %%ECHO_BACKEND%% is
#
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
    backend => 'server { listen 127.0.0.1:%%PORT_back%%; '
               . 'location / { return 200 "%%ECHO_BODY%%"; } }',
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



# Entitlements: build/digin-admin, Redis, refusals, metrics.

sub admin_path { return build_dir() . '/digin-admin' }

sub require_admin {
    _require_file(admin_path(), 'digin-admin');
}

# "127.0.0.1:PORT" for a start_redis() handle, a port or an address
sub redis_addr {
    my ($redis) = @_;

    return "127.0.0.1:$redis->{port}" if ref $redis;
    return "127.0.0.1:$redis" if $redis =~ /^\d+$/;
    return $redis;
}

# digin_admin($redis, 'block', $iss, $sub): runs build/digin-admin
# against that Redis; returns (exit code, stdout and stderr).

sub digin_admin {
    my ($redis, @args) = @_;

    my $tool = admin_path();
    my $out = prefix() . '/logs/digin-admin.run';

    my $pid = fork();
    croak "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec { $tool } $tool, '--redis', redis_addr($redis), @args;
        POSIX::_exit(127);
    }

    my $done = wait_until(sub { waitpid($pid, WNOHANG) == $pid },
        timeout => 30, interval => 0.01);

    if (!$done) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
        croak "digin-admin @args did not finish";
    }

    my $code = $? >> 8;
    my $text = read_file($out) // '';
    unlink $out;

    return ($code, $text);
}

# load_document($redis, $doc): the document (a hash, or JSON text)
# written to a file and loaded with "digin-admin load"; croaks when the
# tool fails.  Returns the file name.

my $DOC_SEQ = 0;

sub load_document {
    my ($redis, $doc) = @_;

    my $file = prefix() . '/entitlements-' . ++$DOC_SEQ . '.json';
    write_file($file, ref $doc ? json_encode($doc) : $doc);

    my ($code, $out) = digin_admin($redis, 'load', $file);
    croak "digin-admin load $file: exit $code: $out" if $code != 0;

    return $file;
}

# INFO [section] of a Redis as a hash
sub redis_info {
    my ($port, $section) = @_;

    my $text = redis_cmd($port, 'INFO', defined $section ? $section : ());
    my %info = $text =~ /^(\w+):([^\r\n]*)/mg;

    return \%info;
}

# A replica started with --replicaof: waits until its link to the
# primary is up and it has applied everything the primary has sent.

sub wait_replica_synced {
    my ($replica, $primary, %opts) = @_;

    return wait_until(sub {
        my $r = eval { redis_info($replica, 'replication') } or return 0;
        my $p = eval { redis_info($primary, 'replication') } or return 0;
        return ($r->{master_link_status} // '') eq 'up'
            && ($r->{slave_repl_offset} // -1)
               == ($p->{master_repl_offset} // -2);
    }, timeout => $opts{timeout} // 10);
}

# is_refused($r, 403, 'not_entitled', $name, token => $token,
# body => HASH): the status, a JSON body whose "error" is the reason
# (and that is HASH exactly, when given), and for 429 and 503 a
# Retry-After in seconds; the token (when given) neither in the body
# nor in a header.  Returns the decoded body (undef on failure).

sub is_refused {
    my ($r, $status, $reason, $name, %opts) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    $name //= $reason;

    if (!defined $r) {
        Test::More::fail("$name: no response ($@)");
        return undef;
    }

    my $body = eval { json_decode($r->{body}) };
    my $ok = Test::More::is($r->{status}, $status, "$name: status");

    $ok &= Test::More::like($r->{headers}{'content-type'} // '',
        qr{^application/json\b}, "$name: content type");

    $ok &= Test::More::is(ref $body eq 'HASH' ? $body->{error} : undef,
        $reason, "$name: error")
        || Test::More::diag("body: $r->{body}");

    if ($status == 429 || $status == 503) {
        $ok &= Test::More::like($r->{headers}{'retry-after'} // '',
            qr/^\d+$/, "$name: Retry-After");
    }

    if ($opts{body}) {
        $ok &= Test::More::is_deeply($body, $opts{body}, "$name: body")
            || Test::More::diag("body: $r->{body}");
    }

    if (defined $opts{token}) {
        my $head = substr($r->{raw}, 0, length($r->{raw})
                                        - length($r->{body}));
        $ok &= Test::More::ok(index($r->{body}, $opts{token}) < 0
                              && index($head, $opts{token}) < 0,
            "$name: token not echoed");
    }

    return $ok ? $body : undef;
}

# A request sent without waiting for the answer: http_send() returns a
# handle, http_receive() reads the response (undef on a timeout).

sub http_send {
    my ($port, $request) = @_;

    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => 5,
    ) or croak "connect to $port: $!";

    _write_all($s, $request, 5);

    return { sock => $s, sent => time() };
}

sub http_receive {
    my ($h, %opts) = @_;

    my $deadline = $h->{sent} + ($opts{timeout} // 10);
    my $raw = '';

    my $ok = eval { while (_read_more($h->{sock}, \$raw, $deadline)) { } 1 };
    close $h->{sock};
    $h->{elapsed} = time() - $h->{sent};

    return undef unless $ok;
    return _parse_response($raw);
}

# http_parallel($port, [REQUEST...], timeout => S): every connection
# opened first, then every request written, then the answers read as
# they come; returns the parsed responses in order (undef for those that
# did not complete).

sub http_parallel {
    my ($port, $requests, %opts) = @_;

    my $timeout = $opts{timeout} // 20;
    my (@socks, @raw, %open);

    for my $i (0 .. $#$requests) {
        my $s = IO::Socket::INET->new(
            PeerAddr => '127.0.0.1',
            PeerPort => $port,
            Proto    => 'tcp',
            Timeout  => 5,
        ) or croak "connect to $port: $!";
        push @socks, $s;
        $raw[$i] = '';
    }

    for my $i (0 .. $#socks) {
        _write_all($socks[$i], $requests->[$i], 5);
        $socks[$i]->blocking(0);
        $open{ fileno $socks[$i] } = $i;
    }

    my $sel = IO::Select->new(@socks);
    my $deadline = time() + $timeout;

    while ($sel->count && time() < $deadline) {
        for my $s ($sel->can_read($deadline - time())) {
            my $i = $open{ fileno $s };
            my $n = sysread($s, $raw[$i], 65536, length $raw[$i]);
            next if !defined $n && $!{EAGAIN};
            if (!$n) {
                $sel->remove($s);
                close $s;
                $socks[$i] = undef;
            }
        }
    }

    my @out;
    for my $i (0 .. $#$requests) {
        if (defined $socks[$i]) {     # timed out
            close $socks[$i];
            push @out, undef;
            next;
        }
        push @out, _parse_response($raw[$i]);
    }

    return @out;
}

# metrics($port, '/status'): the Prometheus text of a digin_status
# location as { 'name{label="v",...}' => value }, labels sorted by
# name; undef when the answer is not 200.  With a third argument (a
# hash) the response and the lines that do not parse go there.

sub metrics {
    my ($port, $path, $detail) = @_;

    my $r = http_get($port, $path // '/status');
    return undef unless $r && $r->{status} == 200;

    my (%m, @bad);

    for my $line (split /\n/, $r->{body}) {
        next if $line =~ /^#/ || $line !~ /\S/;

        my ($name, $labels, $value) = $line =~
            /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([^ ]+)(?: -?\d+)?$/;

        if (!defined $name) {
            push @bad, $line;
            next;
        }

        $m{ metric_key($name, _parse_labels($labels // '')) }
            = _metric_number($value);
    }

    if ($detail) {
        $detail->{response} = $r;
        $detail->{bad} = \@bad;
    }

    return \%m;
}

sub _parse_labels {
    my ($text) = @_;

    my %l;
    $text =~ s/^\{|\}$//g;

    while ($text =~ /\G\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"
                     \s*,?/gcx)
    {
        $l{$1} = $2;
    }

    return %l;
}

sub _metric_number {
    my ($v) = @_;

    return 9**9**9 if $v eq '+Inf';
    return -9**9**9 if $v eq '-Inf';
    return $v + 0;
}

sub metric_key {
    my ($name, %labels) = @_;

    return $name unless %labels;
    return $name . '{'
        . join(',', map { "$_=\"$labels{$_}\"" } sort keys %labels) . '}';
}

# metric($m, 'digin_requests_total', result => 'ok'): the value, 0 when
# the series is absent (counters not yet incremented may be left out)
sub metric {
    my ($m, $name, %labels) = @_;

    return undef unless $m;
    return $m->{ metric_key($name, %labels) } // 0;
}

# metric_delta($before, $after, 'digin_cache_hits_total', %labels):
# how much a series grew between two metrics() snapshots; undef when
# either snapshot is missing
sub metric_delta {
    my ($before, $after, $name, %labels) = @_;

    return undef unless $before && $after;
    return metric($after, $name, %labels) - metric($before, $name, %labels);
}

# "2026-12-01T00:00:00Z" (or "+00:00", or with fractions of a second)
# as Unix time; undef for anything else
sub iso8601_epoch {
    my ($text) = @_;

    return undef unless defined $text && $text =~
        /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:Z|\+00:?00)$/;

    require Time::Local;
    return Time::Local::timegm($6, $5, $4, $3, $2 - 1, $1);
}



# Vendors: more nginx instances, a recording upstream, pseudonyms and
# assertions checked outside the module, generated files.

# start_nginx_instance('vendor-a', $template): one more nginx beside the
# one of start_nginx() (a vendor's own server, a second gateway), with
# its own pid file, logs and temp paths under PREFIX/NAME; in $template
# %%TEST_GLOBALS%% and %%TEST_GLOBALS_HTTP%% stand for those, the other
# placeholders are those of conf_text().  Returns the start_daemon()
# handle: stop_daemon() stops it, done_testing() stops it with the rest.
# Its error log, instance_error_log(NAME), is checked with
# check_error_log(file => instance_error_log(NAME)).

sub instance_error_log {
    my ($name) = @_;
    return prefix() . "/$name/logs/error.log";
}

sub start_nginx_instance {
    my ($name, $template, %opts) = @_;

    croak "bad instance name \"$name\"" unless $name =~ /^[\w-]+$/;

    my $dir = prefix() . "/$name";
    make_path("$dir/logs", "$dir/temp");

    my $elog = instance_error_log($name);
    my $workers = $template =~ /^\s*worker_processes\s/m
                  ? '' : "worker_processes 1;\n";
    my $user = $> == 0 ? "user root root;\n" : '';

    my $globals = <<"EOF";
daemon off;
master_process on;
${workers}${user}pid $dir/logs/nginx.pid;
error_log $elog info;
EOF

    my $globals_http = join '',
        map { "${_}_temp_path $dir/temp/$_;\n" }
            qw(client_body proxy fastcgi uwsgi scgi);
    $globals_http .= "access_log $dir/logs/access.log;\n";

    (my $t = $template) =~ s/%%TEST_GLOBALS%%/$globals/g;
    $t =~ s/%%TEST_GLOBALS_HTTP%%/$globals_http/g;

    my $conf = conf_text($t);
    my $file = write_file("$dir/nginx.conf", $conf);

    unlink "$dir/logs/nginx.pid";

    return start_daemon(
        [ nginx_binary(), '-p', "$dir/", '-c', $file, '-e', $elog ],
        name      => "nginx-$name",
        output    => prefix() . "/logs/nginx-$name.out",
        ports     => [ _listen_ports($conf) ],
        signal    => 'QUIT',
        diag_file => $elog,
        ready     => sub {
            return (read_file("$dir/logs/nginx.pid") // '') =~ /^\d+$/m;
        },
        %opts,
    );
}


# start_recorder(protocol => 'http' | 'fastcgi' | 'uwsgi' | 'scgi',
# port => PORT): an upstream that keeps every request it receives, byte
# for byte, in a file of its own (recorded_requests($rec) reads them
# back, oldest first; bytes of a connection closed before a whole
# request arrived are kept too) and answers each with a 200 whose body
# is that request.  One request per connection.  Returns the
# start_daemon() handle with port and dir.

my $RECORDER = <<'EOF';
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;

my ($port, $dir, $proto) = @ARGV;

my $listen = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1',
    LocalPort => $port,
    Proto     => 'tcp',
    Listen    => 128,
    ReuseAddr => 1,
) or die "recorder: cannot listen on $port: $!\n";

$SIG{TERM} = sub { exit 0 };
$SIG{PIPE} = 'IGNORE';

my $sel = IO::Select->new($listen);
my %in;
my $seq = 0;

while (1) {
    for my $s ($sel->can_read) {
        if ($s == $listen) {
            my $c = $listen->accept or next;
            $sel->add($c);
            $in{ fileno $c } = '';
            next;
        }

        my $fd = fileno $s;
        my $n = sysread($s, $in{$fd}, 65536, length $in{$fd});
        my $len = $n ? request_length($in{$fd}) : undef;

        if ($len) {
            my $req = substr($in{$fd}, 0, $len);
            save($req);
            answer($s, $req);

        } elsif (!$n && length $in{$fd}) {
            save($in{$fd});
        }

        if (!$n || $len) {
            $sel->remove($s);
            delete $in{$fd};
            close $s;
        }
    }
}

sub save {
    my ($req) = @_;

    my $name = sprintf '%s/%06d', $dir, ++$seq;

    open my $fh, '>:raw', "$name.tmp" or die "recorder: $name.tmp: $!\n";
    print $fh $req;
    close $fh or die "recorder: $name.tmp: $!\n";
    rename "$name.tmp", "$name.req" or die "recorder: $name.req: $!\n";
}

# the length of the first complete request in $b, undef if incomplete
sub request_length {
    my ($b) = @_;

    return http_length($b) if $proto eq 'http';
    return fastcgi_length($b) if $proto eq 'fastcgi';
    return uwsgi_length($b) if $proto eq 'uwsgi';
    return scgi_length($b);
}

sub http_length {
    my ($b) = @_;

    my $end = index($b, "\r\n\r\n");
    return undef if $end < 0;

    my $head = substr($b, 0, $end);
    my $i = $end + 4;

    if ($head =~ /^Content-Length:[ \t]*(\d+)[ \t]*\r?$/mi) {
        return length($b) >= $i + $1 ? $i + $1 : undef;
    }

    return $i unless $head =~ /^Transfer-Encoding:[ \t]*chunked/mi;

    while (1) {
        my $e = index($b, "\r\n", $i);
        return undef if $e < 0;

        my ($size) = substr($b, $i, $e - $i) =~ /^([0-9a-fA-F]+)/;
        return length $b unless defined $size;

        if (hex $size == 0) {
            my $t = index($b, "\r\n\r\n", $e);
            return $t < 0 ? undef : $t + 4;
        }

        $i = $e + 2 + hex($size) + 2;
        return undef if $i > length $b;
    }
}

sub fastcgi_length {
    my ($b) = @_;

    my $i = 0;

    while (length($b) >= $i + 8) {
        my (undef, $type, undef, $clen, $plen) =
            unpack 'C C n n C', substr($b, $i, 8);
        my $next = $i + 8 + $clen + $plen;

        return undef if length($b) < $next;
        return $next if $type == 5 && $clen == 0;     # end of FCGI_STDIN

        $i = $next;
    }

    return undef;
}

sub uwsgi_length {
    my ($b) = @_;

    return undef if length $b < 4;

    my (undef, $size) = unpack 'C v', $b;
    return undef if length $b < 4 + $size;

    my $vars = substr($b, 4, $size);
    my %v;

    while (length $vars >= 4) {
        my $kl = unpack 'v', $vars;
        my $k = substr($vars, 2, $kl);
        my $vl = unpack 'v', substr($vars, 2 + $kl, 2);
        $v{$k} = substr($vars, 4 + $kl, $vl);
        substr($vars, 0, 4 + $kl + $vl) = '';
    }

    my $total = 4 + $size + ($v{CONTENT_LENGTH} || 0);
    return length $b >= $total ? $total : undef;
}

sub scgi_length {
    my ($b) = @_;

    my ($n) = $b =~ /^(\d+):/ or return undef;
    my $start = length($n) + 1;

    return undef if length $b < $start + $n + 1;

    my %v = split /\0/, substr($b, $start, $n);
    my $total = $start + $n + 1 + ($v{CONTENT_LENGTH} || 0);

    return length $b >= $total ? $total : undef;
}

sub answer {
    my ($s, $req) = @_;

    my $head = "Content-Type: application/octet-stream\r\n"
               . 'Content-Length: ' . length($req) . "\r\n";
    my $out;

    if ($proto eq 'http' || $proto eq 'uwsgi') {
        $out = "HTTP/1.1 200 OK\r\n${head}Connection: close\r\n\r\n$req";

    } elsif ($proto eq 'scgi') {
        $out = "Status: 200 OK\r\n$head\r\n$req";

    } else {
        my $id = unpack 'x2 n', $req;
        my $body = "Status: 200 OK\r\n$head\r\n$req";

        $out = '';

        while (length $body) {
            my $part = substr($body, 0, 65535, '');
            $out .= pack('C C n n C C', 1, 6, $id, length $part, 0, 0)
                    . $part;
        }

        $out .= pack('C C n n C C', 1, 6, $id, 0, 0, 0);
        $out .= pack('C C n n C C', 1, 3, $id, 8, 0, 0) . pack('N C x3', 0, 0);
    }

    $s->blocking(1);

    while (length $out) {
        my $n = syswrite($s, $out);
        return unless $n;
        substr($out, 0, $n) = '';
    }
}
EOF

sub start_recorder {
    my (%opts) = @_;

    my $proto = $opts{protocol} // 'http';
    croak "start_recorder: unknown protocol $proto"
        unless $proto =~ /^(?:http|fastcgi|uwsgi|scgi)$/;

    my $port = $opts{port} // free_port();
    my $dir = prefix() . "/recorder-$port";
    make_path($dir);

    my $script = prefix() . '/recorder.pl';
    write_file($script, $RECORDER) unless -f $script;

    my $h = start_daemon([ $^X, $script, $port, $dir, $proto ],
        name   => "recorder-$port",
        port   => $port,
        signal => 'TERM',
    );

    $h->{port} = $port;
    $h->{dir} = $dir;
    $h->{protocol} = $proto;

    return $h;
}

sub recorded_requests {
    my ($rec) = @_;

    opendir my $dh, $rec->{dir} or return ();
    my @files = sort grep { /^\d+\.req$/ } readdir $dh;
    closedir $dh;

    return map { read_file("$rec->{dir}/$_") } @files;
}

# parse_http_request($raw): { method, target, version, lines => [[name,
# value]...] in order, headers => { lc name => values joined with ", "
# }, header_list => { lc name => [values] }, body }; undef when $raw is
# not an HTTP/1.x request head.

sub parse_http_request {
    my ($raw) = @_;

    return undef unless defined $raw;

    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($start, @lines) = split /\r\n/, $head, -1;

    my ($method, $target, $version) =
        ($start // '') =~ m{^(\S+) (\S+) (HTTP/1\.[01])$} or return undef;

    my $req = {
        method      => $method,
        target      => $target,
        version     => $version,
        lines       => [],
        headers     => {},
        header_list => {},
        body        => $body // '',
    };

    for my $line (@lines) {
        my ($name, $value) = $line =~ /^([^:]+):[ \t]*(.*?)[ \t]*$/s
            or return undef;
        push @{ $req->{lines} }, [ $name, $value ];
        push @{ $req->{header_list}{ lc $name } }, $value;
    }

    for my $name (keys %{ $req->{header_list} }) {
        $req->{headers}{$name} = join ', ', @{ $req->{header_list}{$name} };
    }

    return $req;
}


# pseudonym($key_bytes, $iss, $sub, $vendor): what $digin_pseudonym
# must be, base64url(HMAC-SHA256(key, iss NUL sub NUL vendor NUL))

sub pseudonym {
    my ($key, $iss, $sub, $vendor) = @_;
    return b64url(hmac_sha256("$iss\0$sub\0$vendor\0", $key));
}

# JWS R||S (two equal halves) -> DER ECDSA-Sig-Value, for openssl
sub raw_to_der {
    my ($raw) = @_;

    my $n = length($raw) / 2;
    my $der = '';

    # copies: substr() in a for list would alias into $raw
    for my $int (map { "$_" } substr($raw, 0, $n), substr($raw, $n)) {
        $int =~ s/^\x00+//;
        $int = "\x00$int" if $int eq '' || ord($int) & 0x80;
        $der .= "\x02" . _der_len(length $int) . $int;
    }

    return "\x30" . _der_len(length $der) . $der;
}

sub _der_len {
    my ($len) = @_;
    return chr($len) if $len < 0x80;
    return "\x81" . chr($len) if $len < 0x100;
    return "\x82" . pack('n', $len);
}

# verify_jws($token, $alg, $key): the signature checked without the
# module, by the openssl command line (ES256, RS256, EdDSA: $key is the
# public key PEM file) or by Digest::SHA (HS256: $key is the secret's
# bytes).  True when it verifies.

sub verify_jws {
    my ($token, $alg, $key) = @_;

    return 0 unless defined $token
                    && $token =~ /^([\w-]+\.[\w-]+)\.([\w-]+)$/;

    my ($input, $sig) = ($1, b64url_decode($2));

    if ($alg eq 'HS256') {
        return hmac_sha256($input, $key) eq $sig ? 1 : 0;
    }

    my @cmd;
    my $in = prefix() . '/temp/verify.in';
    my $sf = prefix() . '/temp/verify.sig';

    if ($alg eq 'ES256') {
        return 0 unless length $sig == 64;
        $sig = raw_to_der($sig);
        @cmd = ('openssl', 'dgst', '-sha256', '-verify', $key,
                '-signature', $sf, $in);

    } elsif ($alg eq 'RS256') {
        @cmd = ('openssl', 'dgst', '-sha256', '-verify', $key,
                '-signature', $sf, $in);

    } elsif ($alg eq 'EdDSA') {
        return 0 unless length $sig == 64;
        @cmd = ('openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', $key,
                '-rawin', '-in', $in, '-sigfile', $sf);

    } else {
        croak "verify_jws: unknown alg $alg";
    }

    write_file($in, $input);
    write_file($sf, $sig);

    my $pid = fork();
    croak "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec { $cmd[0] } @cmd;
        POSIX::_exit(127);
    }

    waitpid($pid, 0);
    return $? == 0 ? 1 : 0;
}

# merge_jwks($out, @files): one key set with the keys of every file
sub merge_jwks {
    my ($out, @files) = @_;

    my @keys = map { @{ json_decode(read_file($_))->{keys} } } @files;
    write_file($out, json_encode({ keys => \@keys }));

    return $out;
}


# generate_file($file, $size): $size bytes of known content, big-endian
# 32-bit counters (byte i belongs to counter int(i / 4)), so that any
# misplaced range shows; returns $file.  The file is world-readable (for
# nginx's workers).

sub generate_file {
    my ($file, $size) = @_;

    make_path(dirname($file));
    open my $fh, '>:raw', $file or croak "cannot write $file: $!";

    my $words = 262144;     # 1 MB at a time
    my $left = $size;

    for (my $i = 0; $left > 0; $i += $words) {
        my $chunk = pack 'N*', $i .. $i + $words - 1;
        $chunk = substr($chunk, 0, $left) if $left < length $chunk;
        print $fh $chunk or croak "cannot write $file: $!";
        $left -= length $chunk;
    }

    close $fh or croak "cannot write $file: $!";
    chmod 0644, $file;

    return $file;
}

sub file_sha256 {
    my ($file) = @_;
    return Digest::SHA->new(256)->addfile($file, 'b')->hexdigest;
}

# every plain file below $dir (recursively), as paths
sub files_under {
    my ($dir) = @_;

    my @files;
    return @files unless -d $dir;

    require File::Find;
    # no_chdir: $_ is the whole path
    File::Find::find({ wanted => sub { push @files, $_ if -f $_ },
                       no_chdir => 1 }, $dir);

    return @files;
}

# nginx_workers($master): the pids of the processes the nginx master
# $master (default: the one of start_nginx()) started
sub nginx_workers {
    my ($master) = @_;

    $master //= nginx_pid();
    return () unless $master;

    opendir my $dh, '/proc' or return ();
    my @pids;

    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my $stat = read_file("/proc/$pid/stat") // next;
        my ($ppid) = $stat =~ /\) \S+ (\d+) / or next;
        push @pids, $pid if $ppid == $master;
    }

    closedir $dh;

    return @pids;
}

# open_files_under($dir, @pids): what below $dir those processes hold
# open, as the paths /proc shows (" (deleted)" included: nginx unlinks a
# temporary file as soon as it has opened it, so a directory listing
# never shows one)
sub open_files_under {
    my ($dir, @pids) = @_;

    my @files;

    for my $pid (@pids) {
        opendir my $dh, "/proc/$pid/fd" or next;

        for my $fd (grep { /^\d+$/ } readdir $dh) {
            my $target = readlink "/proc/$pid/fd/$fd";
            push @files, $target
                if defined $target && index($target, "$dir/") == 0;
        }

        closedir $dh;
    }

    return @files;
}

1;
