#!/usr/bin/perl
# tests/e2e/drill-delay-relay.pl LISTEN_ADDR LISTEN_PORT TARGET_ADDR TARGET_PORT DELAY_MS
#
# A TCP relay that delays every byte by DELAY_MS in each direction: the failure drills use
# it for a slow link to the arbiter where the kernel has no tc netem. Each accepted
# connection gets its own connection to the target; data and end-of-stream are passed on
# in order, DELAY_MS after they arrived. Runs until killed. Core Perl modules only.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

die "usage: $0 LISTEN_ADDR LISTEN_PORT TARGET_ADDR TARGET_PORT DELAY_MS\n" unless @ARGV == 5;
my ($laddr, $lport, $taddr, $tport, $delay_ms) = @ARGV;
my $delay = $delay_ms / 1000;
$SIG{PIPE} = 'IGNORE';
$| = 1;

my $listener = IO::Socket::INET->new(
	LocalAddr => $laddr, LocalPort => $lport, Listen => 64, ReuseAddr => 1, Proto => 'tcp',
) or die "relay: cannot listen on $laddr:$lport: $!\n";
print "relay: $laddr:$lport -> $taddr:$tport, delay $delay_ms ms each way\n";

my $sel = IO::Select->new($listener);
my %other;	# fileno -> the socket on the other side
my %eof;	# fileno -> 1 once that socket has delivered end-of-stream
my @queue;	# [due time, destination socket, data or undef for end-of-stream]

sub drop_pair {
	my ($s) = @_;
	my $o = delete $other{fileno $s};
	for my $x ($s, $o) {
		next unless $x;
		delete $other{fileno $x};
		delete $eof{fileno $x};
		$sel->remove($x);
		close $x;
	}
	@queue = grep { $_->[1] != $s && (!$o || $_->[1] != $o) } @queue;
}

while (1) {
	my $wait = 0.05;
	if (@queue) {
		my $d = $queue[0][0] - time;
		$wait = $d < 0 ? 0 : ($d < $wait ? $d : $wait);
	}
	for my $s ($sel->can_read($wait)) {
		if ($s == $listener) {
			my $c = $listener->accept or next;
			my $u = IO::Socket::INET->new(PeerAddr => $taddr, PeerPort => $tport, Proto => 'tcp');
			unless ($u) { close $c; next; }
			$other{fileno $c} = $u;
			$other{fileno $u} = $c;
			$sel->add($c, $u);
			next;
		}
		my $o = $other{fileno $s} or next;
		my $buf;
		my $n = sysread($s, $buf, 65536);
		if ($n) {
			push @queue, [time + $delay, $o, $buf];
		} else {
			# end of stream or error: pass it on (delayed), stop reading this side
			push @queue, [time + $delay, $o, undef];
			$eof{fileno $s} = 1;
			$sel->remove($s);
		}
	}
	my $now = time;
	while (@queue && $queue[0][0] <= $now) {
		my (undef, $dst, $data) = @{shift @queue};
		next unless defined fileno($dst) && exists $other{fileno $dst};
		if (defined $data) {
			my $off = 0;
			while ($off < length $data) {
				my $w = syswrite($dst, $data, length($data) - $off, $off);
				last unless defined $w && $w > 0;
				$off += $w;
			}
		} else {
			shutdown($dst, 1);
			drop_pair($dst) if $eof{fileno $dst};
		}
	}
}
