#!/bin/bash
# tests/pkg/test-packages.sh: the Debian packages (debian/) as an admin
# meets them. Builds qnet-qnetd and qnet-qdevice from a copy of the tree
# (dpkg-buildpackage -b, lintian), then in a minimal Debian 12 root:
# installs them over Debian's corosync-qnetd/-qdevice and goes back, checks
# both names of every program, the units (systemd-analyze verify, real
# files, systemctl is-enabled), the options files and variables of
# upstream's units, the kill by process name of pcs (pcs qdevice kill, pcs
# cluster kill), pcs's qdevice setup/destroy and crmsh's local qdevice steps
# against a one-node corosync cluster, and what remove and purge leave.
#
# Needs root, mmdebstrap, dpkg-dev, debhelper and unshare. Every command in
# the root runs in private mount, PID and network namespaces: killall only
# sees the root's processes, the daemons only its loopback, and no mount
# outlives the command. The base root (Debian 12 with corosync, Debian's
# qnetd/qdevice, pcs, crmsh) is made once with mmdebstrap from the
# machine's apt sources and kept as a tar in $QNET_PKG_CACHE (default
# /var/cache/qnet-pkg-test) for a week.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${QNET_PKG_CACHE:-/var/cache/qnet-pkg-test}
BASE=$CACHE/bookworm-base.tar
BASE_PACKAGES=corosync,corosync-qnetd,corosync-qdevice,pcs,crmsh,psmisc,libnss3-tools,adduser,systemd

passed=0 failed=0
dir=$(mktemp -d /var/tmp/test-packages.XXXXXX)
root=$dir/root

cleanup() {
	local m
	# Mounts live in the namespaces of the commands; this only catches one
	# that escaped, before anything is deleted below it.
	if [ -d "$root" ]; then
		for m in $(findmnt -rn -o TARGET | grep -F "$root" | sort -r); do
			umount -l "$m" 2>/dev/null
		done
	fi
	rm -rf --one-file-system "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() {
	local desc=$1
	shift
	if "$@" >"$dir/out" 2>&1; then
		echo "ok - $desc"
		passed=$((passed + 1))
	else
		echo "not ok - $desc"
		sed 's/^/#   /' "$dir/out" | tail -n 25
		failed=$((failed + 1))
	fi
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

# inroot CMD...: CMD in the root, in new mount, PID and network namespaces
# (loopback up), with /proc and /dev; everything it started dies with it.
# PID 1 of the namespace stays outside the root, so systemctl knows it runs
# in a chroot and handles enable/disable offline (start/stop: ignored).
inroot() {
	unshare --mount --pid --net --fork --kill-child sh -c '
		r=$1; shift
		ip link set lo up && mount -t proc proc "$r/proc" &&
		mount --rbind /dev "$r/dev" && chroot "$r" "$@"' sh "$root" "$@"
}
# innet CMD...: the same with the host's network, for apt.
innet() {
	unshare --mount --pid --fork --kill-child sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" &&
		chroot "$r" "$@"' sh "$root" "$@"
}
# An option file changed by the test stays, as an unattended admin would have it.
APT="DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

for tool in mmdebstrap dpkg-buildpackage dh unshare findmnt; do
	command -v "$tool" >/dev/null || {
		echo "not ok - $tool is missing (scripts/dev deps installs it)"
		failed=$((failed + 1))
	}
done
[ "$(id -u)" = 0 ] || { echo "not ok - needs root (chroot, namespaces)"; failed=$((failed + 1)); }
[ "$failed" = 0 ] || finish

# ---- build ----
copy_tree() {	# the working tree as it is, without build products
	mkdir -p "$dir/src/qnet"
	if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$TOP" && git ls-files -co --exclude-standard -z |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -xf - -C "$dir/src/qnet"
	else
		tar -C "$TOP" --exclude='./build*' --exclude=./autom4te.cache -cf - . |
			tar -xf - -C "$dir/src/qnet"
	fi
}
build_debs() {
	copy_tree && cd "$dir/src/qnet" &&
	DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log"; return 1; }
	ls "$dir"/src/qnet-qnetd_*.deb "$dir"/src/qnet-qdevice_*.deb
}
check "dpkg-buildpackage -us -uc -b builds qnet-qnetd and qnet-qdevice" build_debs
qnetd_deb=$(ls "$dir"/src/qnet-qnetd_*_*.deb 2>/dev/null | head -n 1)
qdevice_deb=$(ls "$dir"/src/qnet-qdevice_*_*.deb 2>/dev/null | head -n 1)
[ -n "$qnetd_deb" ] && [ -n "$qdevice_deb" ] || finish

if command -v lintian >/dev/null; then
	check "lintian finds no error" eval 'lintian --fail-on error "$dir"/src/qnet_*.changes'
fi

# deb_has DEB TYPE PATH [TARGET]: the package holds PATH as a file (f) or a
# symbolic link (l) to TARGET.
deb_has() {
	dpkg-deb -c "$1" | awk -v t="$2" -v p="./$3" -v l="${4-}" '
		substr($1, 1, 1) == (t == "f" ? "-" : "l") && $6 == p &&
		(t == "f" || $8 == l) { found = 1 } END { exit !found }' ||
		{ echo "$1: no $2 $3 ${4-}"; return 1; }
}
check "the programs and units are real files under upstream's names" eval '
	deb_has "$qnetd_deb" f usr/bin/corosync-qnetd &&
	deb_has "$qnetd_deb" f usr/bin/corosync-qnetd-tool &&
	deb_has "$qnetd_deb" f usr/bin/corosync-qnetd-certutil &&
	deb_has "$qnetd_deb" f lib/systemd/system/corosync-qnetd.service &&
	deb_has "$qnetd_deb" f etc/default/corosync-qnetd &&
	deb_has "$qdevice_deb" f usr/sbin/corosync-qdevice &&
	deb_has "$qdevice_deb" f usr/sbin/corosync-qdevice-tool &&
	deb_has "$qdevice_deb" f usr/sbin/corosync-qdevice-net-certutil &&
	deb_has "$qdevice_deb" f lib/systemd/system/corosync-qdevice.service &&
	deb_has "$qdevice_deb" f etc/default/corosync-qdevice'
check "our names are links to them" eval '
	deb_has "$qnetd_deb" l usr/bin/qnetd corosync-qnetd &&
	deb_has "$qnetd_deb" l usr/bin/qnetd-tool corosync-qnetd-tool &&
	deb_has "$qnetd_deb" l usr/bin/qnetd-certutil corosync-qnetd-certutil &&
	deb_has "$qnetd_deb" l lib/systemd/system/qnetd.service corosync-qnetd.service &&
	deb_has "$qdevice_deb" l usr/sbin/qdevice corosync-qdevice &&
	deb_has "$qdevice_deb" l usr/sbin/qdevice-tool corosync-qdevice-tool &&
	deb_has "$qdevice_deb" l usr/sbin/qdevice-net-certutil corosync-qdevice-net-certutil &&
	deb_has "$qdevice_deb" l lib/systemd/system/qdevice.service corosync-qdevice.service'

# ---- the root ----
make_base() {
	if [ -f "$BASE" ] && [ -n "$(find "$BASE" -mtime -7)" ]; then
		return 0
	fi
	mkdir -p "$CACHE" &&
	mmdebstrap --quiet --variant=minbase --skip=cleanup/apt \
		--include="$BASE_PACKAGES" bookworm "$CACHE/base-tmp.tar" \
		/etc/apt/sources.list.d/*.sources &&
	mv "$CACHE/base-tmp.tar" "$BASE"
}
unpack_root() {
	make_base && mkdir "$root" && tar -C "$root" -xf "$BASE" &&
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" &&
	chmod 0755 "$root/usr/sbin/policy-rc.d" &&
	cp "$qnetd_deb" "$qdevice_deb" "$root/tmp/" &&
	innet sh -c 'dpkg -s corosync-qnetd corosync-qdevice pcs crmsh >/dev/null'
}
check "a Debian 12 root with Debian's corosync-qnetd/-qdevice, pcs and crmsh" unpack_root
[ -d "$root/usr" ] || finish
QNETD_DEB=/tmp/${qnetd_deb##*/}
QDEVICE_DEB=/tmp/${qdevice_deb##*/}

# The database Debian's postinst made, and a node database, must survive.
inroot sh -c 'corosync-qdevice-net-certutil -i -c /etc/corosync/qnetd/nssdb/qnetd-cacert.crt' \
	>/dev/null 2>&1
db_sums() { inroot sh -c 'md5sum /etc/corosync/qnetd/nssdb/cert9.db /etc/corosync/qdevice/net/nssdb/cert9.db'; }
sums_before=$(db_sums 2>&1)

status_is() {	# package, status word (ii, rc, un)
	local s
	s=$(inroot dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)
	s=${s%% *}
	[ "${s:-un}" = "$2" ] || { echo "$1 is '${s:-un}', not $2"; return 1; }
}
install_ours() {
	innet sh -c "$APT install $QNETD_DEB $QDEVICE_DEB" </dev/null || return 1
	status_is qnet-qnetd ii && status_is qnet-qdevice ii &&
	status_is corosync-qnetd rc && status_is corosync-qdevice rc &&
	inroot dpkg -S /usr/bin/corosync-qnetd | grep -q '^qnet-qnetd:' &&
	inroot dpkg -S /usr/sbin/corosync-qdevice | grep -q '^qnet-qdevice:'
}
check "apt-get install ./qnet-*.deb replaces Debian's packages" install_ours
check "the NSS databases of the arbiter and the node are kept" eval '[ "$(db_sums 2>&1)" = "$sums_before" ]'
check "the coroqnetd user exists and owns the arbiter's database group" eval '
	inroot getent passwd coroqnetd &&
	[ "$(inroot stat -c %G /etc/corosync/qnetd/nssdb)" = coroqnetd ]'

# Both names answer, identically: -h prints usage (programs exit 1, as
# upstream's), -v the version.
same_answer() {	# upstream name, our name, option
	local a b
	# The certificate tools print the name they were called by: compare
	# with it replaced.
	a=$(inroot "$1" "$3" 2>&1; echo "rc=$?")
	b=$(inroot "$2" "$3" 2>&1; echo "rc=$?")
	a=${a//"$1"/PROG} b=${b//"$2"/PROG}
	[ "$a" = "$b" ] && [[ $a == *usage* || $a == *version* || $a == PROG:* ]] ||
		{ echo "$1 $3: $a"; echo "$2 $3: $b"; return 1; }
}
check "every program answers under both names" eval '
	same_answer /usr/bin/corosync-qnetd /usr/bin/qnetd -h &&
	same_answer /usr/bin/corosync-qnetd /usr/bin/qnetd -v &&
	same_answer /usr/bin/corosync-qnetd-tool /usr/bin/qnetd-tool -h &&
	same_answer /usr/bin/corosync-qnetd-certutil /usr/bin/qnetd-certutil -h &&
	same_answer /usr/sbin/corosync-qdevice /usr/sbin/qdevice -h &&
	same_answer /usr/sbin/corosync-qdevice-tool /usr/sbin/qdevice-tool -h &&
	same_answer /usr/sbin/corosync-qdevice-net-certutil /usr/sbin/qdevice-net-certutil -h'

check "systemd-analyze verify accepts both units" \
	inroot systemd-analyze verify --man=no corosync-qnetd.service corosync-qdevice.service
check "systemctl is-enabled answers for the units themselves, not an alias" eval '
	[ "$(inroot systemctl is-enabled corosync-qnetd.service)" = enabled ] &&
	[ "$(inroot systemctl is-enabled corosync-qdevice.service)" = disabled ]'

# What systemd would run: the unit's EnvironmentFile= lines read in order
# (a missing "-" file skipped), then ExecStart= with its variables expanded.
unit_command() {	# unit
	inroot sh -c '
		u=/lib/systemd/system/$1
		for f in $(sed -n "s/^EnvironmentFile=-\{0,1\}//p" "$u"); do
			[ -f "$f" ] && { set -a; . "$f"; set +a; }
		done
		eval "echo $(sed -n "s/^ExecStart=//p" "$u")"' sh "$1"
}
check "the qnetd unit reads COROSYNC_QNETD_OPTIONS from /etc/default/corosync-qnetd" eval '
	echo "COROSYNC_QNETD_OPTIONS=\"-p 5409 -s off\"" >>"$root/etc/default/corosync-qnetd" &&
	[ "$(unit_command corosync-qnetd.service)" = "/usr/bin/corosync-qnetd -f -p 5409 -s off" ]'
# crmsh (SUSE) sets the port in /etc/sysconfig/corosync-qnetd.
check "and from /etc/sysconfig/corosync-qnetd, which wins" eval '
	mkdir -p "$root/etc/sysconfig" &&
	echo "COROSYNC_QNETD_OPTIONS=\"-p 5410 -s off\"" >"$root/etc/sysconfig/corosync-qnetd" &&
	[ "$(unit_command corosync-qnetd.service)" = "/usr/bin/corosync-qnetd -f -p 5410 -s off" ]'
check "the qdevice unit reads COROSYNC_QDEVICE_OPTIONS" eval '
	echo "COROSYNC_QDEVICE_OPTIONS=-d" >>"$root/etc/default/corosync-qdevice" &&
	[ "$(unit_command corosync-qdevice.service)" = "/usr/sbin/corosync-qdevice -f -d" ]'

# ---- pcs and crmsh against a one-node cluster in the root ----
cat >"$root/etc/corosync/corosync.conf" <<'EOF'
totem {
    version: 2
    cluster_name: pkgtest
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}
nodelist {
    node {
        ring0_addr: 127.0.0.1
        name: n1
        nodeid: 1
    }
}
quorum {
    provider: corosync_votequorum
}
logging {
    to_stderr: yes
    to_syslog: no
}
EOF
# crmsh writes the quorum.device section (its QDevice.write_qdevice_config)
# and enables the unit through systemctl, as `crm cluster init qdevice` does
# on the node; the certificates are made with pcs's own functions
# (pcs.lib.corosync.qdevice_net), which run our certutil tools by their
# absolute paths, as pcsd does for `pcs quorum device add`.
cat >"$root/tmp/crmsh-qdevice.py" <<'EOF'
import sys
from crmsh import qdevice, utils
q = qdevice.QDevice("127.0.0.1", port=int(sys.argv[1]), cluster_name="pkgtest", tls="on")
q.write_qdevice_config()
utils.ServiceManager.enable_service("corosync-qdevice.service")
assert utils.ServiceManager.service_is_enabled("corosync-qdevice.service")
assert utils.is_qdevice_configured() and utils.is_qdevice_tls_on()
EOF
cat >"$root/tmp/pcs-certs.py" <<'EOF'
import logging
from pcs.lib.corosync import qdevice_net
from pcs.lib.external import CommandRunner
from pcs.common.reports.processor import ReportProcessor

class Reports(ReportProcessor):
    def _do_report(self, report_item):
        pass

run = CommandRunner(logging.getLogger("pcs"), Reports(), {"LC_ALL": "C"})
with open("/etc/corosync/qnetd/nssdb/qnetd-cacert.crt", "rb") as f:
    ca = f.read()
qdevice_net.client_destroy()
qdevice_net.client_setup(run, ca)
request = qdevice_net.client_generate_certificate_request(run, "pkgtest")
signed = qdevice_net.qdevice_sign_certificate_request(run, request, "pkgtest")
pk12 = qdevice_net.client_cert_request_to_pk12(run, signed)
qdevice_net.client_import_certificate_and_key(run, pk12)
assert qdevice_net.client_initialized()
EOF

check "pcs qdevice destroy net removes the arbiter's database" eval '
	inroot pcs qdevice destroy net &&
	! [ -e "$root/etc/corosync/qnetd/nssdb" ] &&
	[ "$(inroot systemctl is-enabled corosync-qnetd.service)" = disabled ]'
check "pcs qdevice setup model net --enable makes it with our certutil" eval '
	inroot pcs qdevice setup model net --enable &&
	[ -f "$root/etc/corosync/qnetd/nssdb/cert9.db" ] &&
	[ -f "$root/etc/corosync/qnetd/nssdb/qnetd-cacert.crt" ] &&
	[ "$(inroot systemctl is-enabled corosync-qnetd.service)" = enabled ]'
check "pcs's certificate functions give the node its certificate" inroot python3 /tmp/pcs-certs.py
check "crmsh writes the quorum.device section and enables the unit" \
	inroot python3 /tmp/crmsh-qdevice.py 5411

# One session: the arbiter and the node's daemon started as their units
# would start them (the arbiter on crmsh's port, from /etc/sysconfig, with
# TLS as pcs set it up), corosync; pcs sees the cluster, then kills by
# process name.
cat >"$root/tmp/session.sh" <<'EOF'
set -u
wait_for() {	# tries of 0.2 s, command...
	n=$1; shift
	while [ "$n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; n=$((n - 1)); done
	return 1
}
alive() { ps -eo comm= | grep -qx "$1"; }
say() { echo "session: $*"; }
$1 >/tmp/qnetd.log 2>&1 &
corosync -f >/tmp/corosync.log 2>&1 &
wait_for 100 corosync-cmapctl totem.cluster_name || { say "corosync did not start"; exit 1; }
$2 >/tmp/qdevice.log 2>&1 &
wait_for 100 sh -c 'corosync-qdevice-tool -s | grep -q "State:.*Connected"' ||
	{ say "qdevice did not connect"; corosync-qdevice-tool -s; tail /tmp/qdevice.log; exit 1; }
say "connected"
corosync-qdevice-tool -s -v | grep -q "TLS active:.*Yes (client certificate sent)" && say "tls"
pcs qdevice status net | grep -q "Cluster \"pkgtest\"" && say "pcs status"
pcs qdevice kill net; echo "session: pcs qdevice kill rc=$?"
wait_for 25 sh -c '! ps -eo comm= | grep -qx corosync-qnetd' && say "qnetd killed"
alive corosync-qdevic && alive corosync && say "node side alive"
pcs cluster kill; echo "session: pcs cluster kill rc=$?"
wait_for 25 sh -c '! ps -eo comm= | grep -q "^corosync"' && say "node side killed"
exit 0
EOF
echo 'COROSYNC_QNETD_OPTIONS="-p 5411"' >"$root/etc/sysconfig/corosync-qnetd"
qnetd_cmd=$(unit_command corosync-qnetd.service)
qdevice_cmd=$(unit_command corosync-qdevice.service)
echo "# started as: $qnetd_cmd; $qdevice_cmd"
inroot sh /tmp/session.sh "$qnetd_cmd" "$qdevice_cmd" >"$dir/session.out" 2>&1
said() { grep -qx "session: $1" "$dir/session.out" || { cat "$dir/session.out"; return 1; }; }
check "our daemons form a quorum device with TLS, as pcs and crmsh set it up" eval 'said connected && said tls'
check "pcs qdevice status net lists the cluster (corosync-qnetd-tool)" said "pcs status"
check "pcs qdevice kill net (killall corosync-qnetd) stops our arbiter" eval \
	'said "pcs qdevice kill rc=0" && said "qnetd killed" && said "node side alive"'
check "pcs cluster kill (killall corosync-qdevice corosync) stops our node daemon" eval \
	'said "node side killed"'

# ---- back to Debian's, forth, then remove and purge ----
back_to_debian() {
	innet sh -c "$APT install corosync-qnetd corosync-qdevice" </dev/null || return 1
	status_is corosync-qnetd ii && status_is corosync-qdevice ii &&
	status_is qnet-qnetd rc && status_is qnet-qdevice rc &&
	inroot dpkg -S /usr/bin/corosync-qnetd | grep -q '^corosync-qnetd:' &&
	! [ -e "$root/usr/bin/qnetd" ] && ! [ -e "$root/usr/sbin/qdevice" ] &&
	inroot corosync-qnetd-tool -h 2>&1 | grep -q usage
}
check "apt-get install corosync-qnetd corosync-qdevice goes back to Debian's" back_to_debian
check "and ./qnet-*.deb over them again" install_ours

# Every path of the packages, and where they left something.
our_paths() { inroot sh -c 'cat /var/lib/dpkg/info/qnet-qnetd.list /var/lib/dpkg/info/qnet-qdevice.list' | sort -u; }
our_paths >"$dir/paths"
leftovers() {	# what of those paths still exists, without the shared directories
	while read -r p; do
		case $p in /. | /etc | /etc/default | /lib | /lib/systemd | /lib/systemd/system | \
		    /usr | /usr/bin | /usr/sbin | /usr/lib | /usr/lib/sysusers.d | /usr/lib/tmpfiles.d | /usr/share | \
		    /usr/share/doc | /usr/share/man | /usr/share/man/man8 | /etc/corosync) continue ;;
		esac
		if [ -e "$root$p" ] || [ -L "$root$p" ]; then echo "$p"; fi
	done <"$dir/paths"
}
check "remove leaves the configuration and the databases, no program" eval '
	innet sh -c "$APT remove qnet-qnetd qnet-qdevice" </dev/null &&
	status_is qnet-qnetd rc && status_is qnet-qdevice rc &&
	left=$(leftovers) &&
	[ "$(echo $left)" = "/etc/corosync/qdevice /etc/corosync/qdevice/net /etc/corosync/qnetd /etc/default/corosync-qdevice /etc/default/corosync-qnetd" ] ||
	{ echo "left: $left"; false; }'
check "purge leaves only the node's NSS database (as Debian's packages do)" eval '
	innet sh -c "$APT purge qnet-qnetd qnet-qdevice" </dev/null &&
	status_is qnet-qnetd un && status_is qnet-qdevice un &&
	left=$(leftovers) &&
	[ "$(echo $left)" = "/etc/corosync/qdevice /etc/corosync/qdevice/net" ] &&
	[ "$(ls "$root/etc/corosync/qdevice/net")" = nssdb ] &&
	! [ -e "$root/etc/corosync/qnetd" ] &&
	! [ -e "$root/etc/systemd/system/multi-user.target.wants/corosync-qnetd.service" ] ||
	{ echo "left: $left"; ls -R "$root/etc/corosync"; false; }'

finish
