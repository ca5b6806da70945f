package Digin::FakeRedis;

# A fake Redis server for fault tests: it accepts connections on a free
# loopback port and answers whatever is sent to it according to a mode
# that the test may change at any time (the new mode applies to the next
# data a client sends, on connections old and new):
#
#   proxy      relays to a real Redis (upstream => PORT)
#   silent     reads and never answers
#   garbage    answers each request with bytes that are not RESP
#   wrongtype  answers each request with a well-formed integer reply
#              (":42"), not what any command of the gateway expects
#   half       answers with the first bytes of a multi-bulk reply, then
#              closes the connection
#   close      closes the connection as soon as a request arrives
#
#   use Digin::FakeRedis;
#   my $fake = Digin::FakeRedis->start(mode => 'proxy',
#                                      upstream => $redis->{port});
#   ... digin_redis 127.0.0.1:${\ $fake->port };
#   $fake->mode('garbage');
#   $fake->connections;     # how many it accepted so far
#   $fake->stop;            # also stopped by done_testing()
#
# The server is a separate perl process started with the harness's
# start_daemon(), forking a child per connection.

use strict;
use warnings;

use Carp qw(croak);
use File::Basename qw(dirname);
use IO::Select;
use IO::Socket::INET;
use POSIX ();

use Digin::Test ();

my %MODES = map { $_ => 1 } qw(proxy silent garbage wrongtype half close);


sub start {
    my ($class, %opts) = @_;

    my $mode = $opts{mode} // 'silent';
    croak "unknown mode $mode" unless $MODES{$mode};
    croak "proxy mode needs upstream" if $mode eq 'proxy'
                                         && !defined $opts{upstream};

    my $port = $opts{port} // Digin::Test::free_port();
    my $dir = Digin::Test::prefix() . "/fake-redis-$port";

    my $self = bless {
        port     => $port,
        dir      => $dir,
        upstream => $opts{upstream},
    }, $class;

    $self->mode($mode);
    Digin::Test::write_file("$dir/accepted", '');

    my $lib = dirname(dirname(__FILE__));

    $self->{daemon} = Digin::Test::start_daemon(
        [ $^X, "-I$lib", '-MDigin::FakeRedis', '-e',
          'Digin::FakeRedis::serve(@ARGV)', $port, $dir,
          $opts{upstream} // 0 ],
        name   => "fake-redis-$port",
        output => "$dir/fake-redis.out",
        port   => $port,
        signal => 'TERM',
    );

    return $self;
}

sub port { return $_[0]{port} }

sub mode {
    my ($self, $mode) = @_;

    if (defined $mode) {
        croak "unknown mode $mode" unless $MODES{$mode};
        Digin::Test::write_file("$self->{dir}/mode.tmp", $mode);
        rename "$self->{dir}/mode.tmp", "$self->{dir}/mode"
            or croak "rename: $!";
        $self->{mode} = $mode;
    }

    return $self->{mode};
}

sub connections {
    my ($self) = @_;
    return length(Digin::Test::read_file("$self->{dir}/accepted") // '');
}

sub stop {
    my ($self) = @_;
    Digin::Test::stop_daemon(delete $self->{daemon}) if $self->{daemon};
}


# The server process.

sub serve {
    my ($port, $dir, $upstream) = @_;

    $SIG{CHLD} = 'IGNORE';
    $SIG{PIPE} = 'IGNORE';

    my $l = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => $port,
        Proto     => 'tcp',
        Listen    => 128,
        ReuseAddr => 1,
    ) or die "fake redis: cannot listen on $port: $!\n";

    while (1) {
        my $c = $l->accept() or next;

        if (open my $fh, '>>', "$dir/accepted") {
            syswrite $fh, '.';
            close $fh;
        }

        my $pid = fork();

        if (!defined $pid) {
            close $c;
            next;
        }

        if ($pid == 0) {
            close $l;
            _connection($c, $dir, $upstream);
            POSIX::_exit(0);
        }

        close $c;
    }
}

sub _current_mode {
    my ($dir) = @_;

    open my $fh, '<', "$dir/mode" or return 'silent';
    my $mode = <$fh> // 'silent';
    close $fh;
    $mode =~ s/\s+//g;

    return $mode;
}

sub _connection {
    my ($c, $dir, $upstream) = @_;

    my $up;
    my $sel = IO::Select->new($c);

    while (1) {
        for my $s ($sel->can_read()) {
            my $buf = '';
            my $n = sysread($s, $buf, 65536);

            return if !$n;     # either side closed (or failed)

            if ($up && $s == $up) {
                _write($c, $buf) or return;
                next;
            }

            my $mode = _current_mode($dir);

            if ($mode ne 'proxy' && $up) {
                $sel->remove($up);
                close $up;
                undef $up;
            }

            if ($mode eq 'proxy') {
                if (!$up) {
                    $up = IO::Socket::INET->new(
                        PeerAddr => '127.0.0.1',
                        PeerPort => $upstream,
                        Proto    => 'tcp',
                    ) or return;
                    $sel->add($up);
                }
                _write($up, $buf) or return;

            } elsif ($mode eq 'garbage') {
                _write($c, "\@\x01garbage \xff\xfe not RESP\r\n") or return;

            } elsif ($mode eq 'wrongtype') {
                _write($c, ":42\r\n") or return;

            } elsif ($mode eq 'half') {
                _write($c, "*3\r\n\$5\r\nhello\r\n\$12\r\nhal");
                return;

            } elsif ($mode eq 'close') {
                return;
            }

            # silent: nothing
        }
    }
}

sub _write {
    my ($s, $data) = @_;

    while (length $data) {
        my $n = syswrite($s, $data);
        return 0 unless $n;
        substr($data, 0, $n) = '';
    }

    return 1;
}


1;
