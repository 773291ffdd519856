#!/bin/bash
# tests/pkg/test-packages.sh: the Debian packages (debian/) as an admin
# meets them. Builds qnet-qnetd, qnet-qdevice and the packages of Debian's
# names that pull them in (corosync-qnetd/-qdevice, epoch 1) from a copy of
# the tree (dpkg-buildpackage -b, lintian), then in a minimal Debian 12
# root: installs them over Debian's corosync-qnetd/-qdevice and goes back,
# on a host that never had Debian's checks what crmsh's package check
# says of qnet-* alone and with the name packages, checks
# both names of every program, the units (systemd-analyze verify, real
# files, systemctl is-enabled), the options files and variables of
# upstream's units, the kill by process name of pcs (pcs qdevice kill, pcs
# cluster kill), pcs's qdevice setup/destroy and `pcs quorum device add`
# (through pcsd), the certutil calls of `pvecm qdevice setup`, crmsh's
# local qdevice steps and its package check, against a one-node corosync
# cluster, and what remove and purge leave. The commands an admin types
# and their output are printed at the end as "# " lines (README's Install
# section shows them).
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
# crmsh lists the node's addresses with ip (iproute2).
BASE_PACKAGES=corosync,corosync-qnetd,corosync-qdevice,pcs,crmsh,psmisc,libnss3-tools,adduser,systemd,iproute2
# A changed package list makes a new base.
BASE=$CACHE/bookworm-base-$(echo "$BASE_PACKAGES" | md5sum | cut -c 1-8).tar

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
	if [ -s "$dir/transcript" ]; then
		echo "# ---- the admin's commands in the root and their output (README.md, Install) ----"
		sed 's/^/# /' "$dir/transcript"
	fi
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
	ls "$dir"/src/qnet-qnetd_*.deb "$dir"/src/qnet-qdevice_*.deb \
		"$dir"/src/corosync-qnetd_*.deb "$dir"/src/corosync-qdevice_*.deb
}
check "dpkg-buildpackage -us -uc -b builds qnet-qnetd, qnet-qdevice, corosync-qnetd, corosync-qdevice" build_debs
qnetd_deb=$(ls "$dir"/src/qnet-qnetd_*_*.deb 2>/dev/null | head -n 1)
qdevice_deb=$(ls "$dir"/src/qnet-qdevice_*_*.deb 2>/dev/null | head -n 1)
qnetd_name_deb=$(ls "$dir"/src/corosync-qnetd_*_*.deb 2>/dev/null | head -n 1)
qdevice_name_deb=$(ls "$dir"/src/corosync-qdevice_*_*.deb 2>/dev/null | head -n 1)
[ -n "$qnetd_deb" ] && [ -n "$qdevice_deb" ] && [ -n "$qnetd_name_deb" ] && [ -n "$qdevice_name_deb" ] ||
	finish

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

# crmsh asks dpkg for the names themselves (dpkg ignores Provides): empty
# packages of those names, with an epoch so that apt prefers them to
# Debian's, pull in ours.
our_version=$(dpkg-deb -f "$qnetd_deb" Version)
check "corosync-qnetd and corosync-qdevice 1:$our_version depend on qnet-qnetd and qnet-qdevice" eval '
	[ "$(dpkg-deb -f "$qnetd_name_deb" Version)" = "1:$our_version" ] &&
	[ "$(dpkg-deb -f "$qdevice_name_deb" Version)" = "1:$our_version" ] &&
	dpkg-deb -f "$qnetd_name_deb" Depends | grep -qF "qnet-qnetd (= $our_version)" &&
	dpkg-deb -f "$qdevice_name_deb" Depends | grep -qF "qnet-qdevice (= $our_version)" &&
	dpkg --compare-versions "1:$our_version" gt "$(dpkg-deb -f "$qnetd_deb" Version)"'

# ---- the root ----
make_base() {
	if [ -f "$BASE" ] && [ -n "$(find "$BASE" -mtime -7)" ]; then
		return 0
	fi
	mkdir -p "$CACHE" &&
	mmdebstrap --quiet --variant=minbase --skip=cleanup/apt \
		--include="$BASE_PACKAGES" bookworm "$CACHE/base-tmp.tar" \
		/etc/apt/sources.list.d/*.sources &&
	mv "$CACHE/base-tmp.tar" "$BASE" &&
	find "$CACHE" -maxdepth 1 -name 'bookworm-base*.tar' ! -path "$BASE" -delete
}
unpack_root() {
	make_base && mkdir "$root" && tar -C "$root" -xf "$BASE" &&
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" &&
	chmod 0755 "$root/usr/sbin/policy-rc.d" &&
	cp "$qnetd_deb" "$qdevice_deb" "$qnetd_name_deb" "$qdevice_name_deb" "$root/tmp/" &&
	innet sh -c 'dpkg -s corosync-qnetd corosync-qdevice pcs crmsh >/dev/null'
}
check "a Debian 12 root with Debian's corosync-qnetd/-qdevice, pcs and crmsh" unpack_root
[ -d "$root/usr" ] || finish
QNET_DEBS="/tmp/${qnetd_deb##*/} /tmp/${qdevice_deb##*/}"
NAME_DEBS="/tmp/${qnetd_name_deb##*/} /tmp/${qdevice_name_deb##*/}"
debian_qnetd_version=$(inroot dpkg-query -W -f='${Version}' corosync-qnetd)
debian_qdevice_version=$(inroot dpkg-query -W -f='${Version}' corosync-qdevice)

# show CMD...: CMD in the root; the command and its output also go to the
# transcript printed at the end.
show() {
	local rc
	inroot "$@" >"$dir/shown" 2>&1
	rc=$?
	{ echo "\$ $*"; cat "$dir/shown"; } >>"$dir/transcript"
	cat "$dir/shown"
	return $rc
}
# Scripts in the root call their own show(), into /tmp/shown.txt; this
# moves that to the transcript (the colours of crmsh's messages removed).
take_shown() {
	[ -f "$root/tmp/shown.txt" ] || return 0
	sed 's/\x1b\[[0-9;]*m//g' "$root/tmp/shown.txt" >>"$dir/transcript"
	rm -f "$root/tmp/shown.txt"
}
note() { printf '%s\n' "$*" >>"$dir/transcript"; }

# The database Debian's postinst made, and a node database, must survive.
inroot sh -c 'corosync-qdevice-net-certutil -i -c /etc/corosync/qnetd/nssdb/qnetd-cacert.crt' \
	>/dev/null 2>&1
db_sums() { inroot sh -c 'md5sum /etc/corosync/qnetd/nssdb/cert9.db /etc/corosync/qdevice/net/nssdb/cert9.db'; }
sums_before=$(db_sums 2>&1)

status_is() {	# package, status word (ii, rc, un)[, version]
	local s v
	s=$(inroot dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)
	s=${s%% *}
	[ "${s:-un}" = "$2" ] || { echo "$1 is '${s:-un}', not $2"; return 1; }
	[ -z "${3-}" ] && return 0
	v=$(inroot dpkg-query -W -f='${Version}' "$1")
	[ "$v" = "$3" ] || { echo "$1 is version $v, not $3"; return 1; }
}
install_ours() {
	innet sh -c "$APT install $QNET_DEBS $NAME_DEBS" </dev/null >"$dir/apt.log" 2>&1 ||
		{ tail -n 20 "$dir/apt.log"; return 1; }
	status_is qnet-qnetd ii && status_is qnet-qdevice ii &&
	status_is corosync-qnetd ii "1:$our_version" &&
	status_is corosync-qdevice ii "1:$our_version" &&
	! [ -e "$root/etc/init.d/corosync-qnetd" ] && ! [ -e "$root/etc/init.d/corosync-qdevice" ] &&
	[ -z "$(find "$root/etc" -path "*/rc?.d/*corosync-q*")" ] &&
	inroot dpkg -S /usr/bin/corosync-qnetd | grep -q '^qnet-qnetd:' &&
	inroot dpkg -S /usr/sbin/corosync-qdevice | grep -q '^qnet-qdevice:'
}
check "apt-get install ./*.deb replaces Debian's packages (corosync-qnetd/-qdevice upgraded to ours, their SysV scripts gone)" \
	install_ours
# What crmsh's package check (utils.package_is_installed) runs.
check "dpkg-query --status corosync-qnetd and corosync-qdevice: installed, ours" eval '
	inroot dpkg-query --status corosync-qnetd | grep -qx "Status: install ok installed" &&
	inroot dpkg-query --status corosync-qdevice | grep -qx "Status: install ok installed" &&
	inroot dpkg-query --status corosync-qnetd | grep -qx "Version: 1:$our_version"'
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
# on the node once its checks and the ssh steps on the qnetd host are done.
cat >"$root/tmp/crmsh-qdevice.py" <<'EOF'
import sys
from crmsh import qdevice, utils
q = qdevice.QDevice("127.0.0.1", port=int(sys.argv[1]), cluster_name="pkgtest", tls="on")
q.write_qdevice_config()
utils.ServiceManager.enable_service("corosync-qdevice.service")
assert utils.ServiceManager.service_is_enabled("corosync-qdevice.service")
assert utils.is_qdevice_configured() and utils.is_qdevice_tls_on()
EOF
# crmsh's own package check, as `crm cluster init qdevice` calls it.
cat >"$root/tmp/crmsh-installed.py" <<'EOF'
import sys
from crmsh import utils
for name in sys.argv[1:]:
    print(name, "installed" if utils.package_is_installed(name) else "not installed")
EOF
crmsh_says() {	# what crmsh must say of corosync-qnetd, then of corosync-qdevice
	local got
	got=$(inroot python3 /tmp/crmsh-installed.py corosync-qnetd corosync-qdevice) || return 1
	echo "$got"
	[ "$got" = "corosync-qnetd $1
corosync-qdevice $2" ]
}
check "crmsh's utils.package_is_installed finds corosync-qnetd and corosync-qdevice" \
	crmsh_says installed installed

# What the scripts below run in the root share: show CMD... (CMD, with its
# output, into the transcript's /tmp/shown.txt) and wait_for.
cat >"$root/tmp/script-lib.sh" <<'EOF'
set -u
show() { echo "\$ $*" >>/tmp/shown.txt; "$@" >>/tmp/shown.txt 2>&1; }
wait_for() {	# tries of 0.2 s, command...
	n=$1; shift
	while [ "$n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; n=$((n - 1)); done
	return 1
}
EOF
# pvecm qdevice setup (docs/protocol.md 6.3) runs these certutil calls, on
# the qnetd host over ssh and on the node; scp is a cp in this one root.
cat >"$root/tmp/pvecm-certs.sh" <<'EOF'
. /tmp/script-lib.sh
mkdir -p /etc/pve
rm -rf /etc/corosync/qdevice/net/nssdb	# pvecm --force
show corosync-qnetd-certutil -i	# qnetd host; pvecm ignores a failure
cp /etc/corosync/qnetd/nssdb/qnetd-cacert.crt /etc/pve/ &&
show corosync-qdevice-net-certutil -i -c /etc/pve/qnetd-cacert.crt &&
show corosync-qdevice-net-certutil -r -n pkgtest &&
cp /etc/corosync/qdevice/net/nssdb/qdevice-net-node.crq /tmp/ &&
show corosync-qnetd-certutil -s -c /tmp/qdevice-net-node.crq -n pkgtest &&
cp /etc/corosync/qnetd/nssdb/cluster-pkgtest.crt /etc/corosync/qdevice/net/nssdb/ &&
show corosync-qdevice-net-certutil -M -c /etc/corosync/qdevice/net/nssdb/cluster-pkgtest.crt &&
cp /etc/corosync/qdevice/net/nssdb/qdevice-net-node.p12 /etc/pve/ &&
show corosync-qdevice-net-certutil -m -c /etc/pve/qdevice-net-node.p12 &&
certutil -L -d sql:/etc/corosync/qdevice/net/nssdb -n "Cluster Cert"
EOF
# pcs quorum device add, on the node: pcsd (with its Ruby half) and
# corosync run as their units would; pcs asks pcsd on the node and on the
# qnetd host (both this root), which run our certutils.
cat >"$root/tmp/pcs-add.sh" <<'EOF'
. /tmp/script-lib.sh
echo 'hacluster:pkgtest' | chpasswd
(set -a; . /etc/default/pcsd; set +a; exec /usr/share/pcsd/pcsd) >/tmp/pcsd-ruby.log 2>&1 &
pcsd >/tmp/pcsd.log 2>&1 &
corosync -f >/tmp/corosync.log 2>&1 &
wait_for 100 corosync-cmapctl totem.cluster_name || { echo "corosync did not start"; exit 1; }
wait_for 150 test -S /run/pcsd-ruby.socket || { echo "pcsd-ruby did not start"; exit 1; }
wait_for 150 bash -c 'echo >/dev/tcp/127.0.0.1/2224' || { echo "pcsd did not start"; exit 1; }
rm -rf /etc/corosync/qdevice/net/nssdb
show pcs host auth n1 addr=127.0.0.1 127.0.0.1 -u hacluster -p pkgtest &&
show pcs quorum device add model net host=127.0.0.1 algorithm=ffsplit &&
certutil -L -d sql:/etc/corosync/qdevice/net/nssdb -n "Cluster Cert" >/dev/null &&
corosync-cmapctl quorum.device.net.host | grep -q "= 127.0.0.1$" ||
	{ tail -n 20 /tmp/shown.txt /tmp/pcsd.log; exit 1; }
EOF
# crm cluster init qdevice, on the node. crmsh wants an address on an
# interface other than loopback (a veth pair in the namespace here) and ssh
# on port 22 of the qnetd host, which this root has not: it must stop
# there, past its package check.
crm_init() {
	inroot sh -c 'ip link add qnet0 type veth peer name qnet1 &&
		ip addr add 198.18.0.1/24 dev qnet0 && ip link set qnet0 up && ip link set qnet1 up &&
		echo "\$ crm cluster init qdevice --qnetd-hostname=127.0.0.1 -y" >>/tmp/shown.txt &&
		crm cluster init qdevice --qnetd-hostname=127.0.0.1 -y >>/tmp/shown.txt 2>&1
		echo "(exit status $?)" >>/tmp/shown.txt'
	cat "$root/tmp/shown.txt"
	grep -q 'ssh service on "127.0.0.1" not available' "$root/tmp/shown.txt" &&
	! grep -q "not installed" "$root/tmp/shown.txt"
}

note "-- pcs, on the qnetd host"
check "pcs qdevice destroy net removes the arbiter's database" eval '
	show pcs qdevice destroy net &&
	! [ -e "$root/etc/corosync/qnetd/nssdb" ] &&
	[ "$(inroot systemctl is-enabled corosync-qnetd.service)" = disabled ]'
check "pcs qdevice setup model net --enable --start makes it with our certutil" eval '
	show pcs qdevice setup model net --enable --start &&
	[ -f "$root/etc/corosync/qnetd/nssdb/cert9.db" ] &&
	[ -f "$root/etc/corosync/qnetd/nssdb/qnetd-cacert.crt" ] &&
	[ "$(inroot systemctl is-enabled corosync-qnetd.service)" = enabled ]'
note "-- pvecm qdevice setup: its certutil calls (qnetd host and node in one root)"
check "the certutil calls of pvecm qdevice setup give the node its certificate" \
	inroot sh /tmp/pvecm-certs.sh
take_shown
note "-- pcs, on a cluster node (pcsd and corosync running)"
check "pcs quorum device add (through pcsd) makes the node's certificate and device section" \
	inroot sh /tmp/pcs-add.sh
take_shown
check "crmsh writes the quorum.device section and enables the unit" \
	inroot python3 /tmp/crmsh-qdevice.py 5411
note "-- crmsh, on a cluster node"
check "crm cluster init qdevice passes its package check, stops at ssh to the qnetd host" crm_init
take_shown

# One session: the arbiter and the node's daemon started as their units
# would start them (the arbiter on crmsh's port, from /etc/sysconfig, with
# TLS as pcs set it up), corosync; pcs sees the cluster, then kills by
# process name.
cat >"$root/tmp/session.sh" <<'EOF'
. /tmp/script-lib.sh
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
{ echo '$ pcs qdevice status net'; pcs qdevice status net; } >>/tmp/shown.txt 2>&1
grep -q 'Cluster "pkgtest"' /tmp/shown.txt && say "pcs status"
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
note "-- pcs, on the qnetd host, with both daemons running"
take_shown
said() { grep -qx "session: $1" "$dir/session.out" || { cat "$dir/session.out"; return 1; }; }
check "our daemons form a quorum device with TLS, as pcs and crmsh set it up" eval 'said connected && said tls'
check "pcs qdevice status net lists the cluster (corosync-qnetd-tool)" said "pcs status"
check "pcs qdevice kill net (killall corosync-qnetd) stops our arbiter" eval \
	'said "pcs qdevice kill rc=0" && said "qnetd killed" && said "node side alive"'
check "pcs cluster kill (killall corosync-qdevice corosync) stops our node daemon" eval \
	'said "node side killed"'

# ---- back to Debian's, forth, then remove and purge ----
# Ours have the higher version: going back names Debian's.
back_to_debian() {
	innet sh -c "$APT install --allow-downgrades corosync-qnetd=$debian_qnetd_version \
		corosync-qdevice=$debian_qdevice_version" </dev/null || return 1
	status_is corosync-qnetd ii "$debian_qnetd_version" &&
	status_is corosync-qdevice ii "$debian_qdevice_version" &&
	status_is qnet-qnetd rc && status_is qnet-qdevice rc &&
	inroot dpkg -S /usr/bin/corosync-qnetd | grep -q '^corosync-qnetd:' &&
	! [ -e "$root/usr/bin/qnetd" ] && ! [ -e "$root/usr/sbin/qdevice" ] &&
	inroot corosync-qnetd-tool -h 2>&1 | grep -q usage
}
check "apt-get install --allow-downgrades corosync-qnetd=$debian_qnetd_version ... goes back to Debian's" \
	back_to_debian
check "and ./*.deb over them again" install_ours

# Every path of the packages, and where they left something.
our_paths() {
	inroot sh -c 'cd /var/lib/dpkg/info &&
		cat qnet-qnetd.list qnet-qdevice.list corosync-qnetd.list corosync-qdevice.list' | sort -u
}
our_paths >"$dir/paths"
leftovers() {	# what of those paths still exists, without the shared directories
	while read -r p; do
		case $p in /. | /etc | /etc/default | /lib | /lib/systemd | /lib/systemd/system | \
		    /usr | /usr/bin | /usr/sbin | /usr/lib | /usr/lib/sysusers.d | /usr/lib/tmpfiles.d | /usr/share | \
		    /usr/share/doc | /usr/share/man | /usr/share/man/man8 | /etc/corosync | \
		    /usr/lib/ocf | /usr/lib/ocf/resource.d) continue ;;	# resource-agents (pcs, crmsh) has them
		esac
		if [ -e "$root$p" ] || [ -L "$root$p" ]; then echo "$p"; fi
	done <"$dir/paths"
}
check "remove leaves the configuration and the databases, no program" eval '
	innet sh -c "$APT remove qnet-qnetd qnet-qdevice" </dev/null &&
	status_is qnet-qnetd rc && status_is qnet-qdevice rc &&
	status_is corosync-qnetd rc && status_is corosync-qdevice rc &&
	left=$(leftovers) &&
	[ "$(echo $left)" = "/etc/corosync/qdevice /etc/corosync/qdevice/net /etc/corosync/qnetd /etc/default/corosync-qdevice /etc/default/corosync-qnetd" ] ||
	{ echo "left: $left"; false; }'
check "purge leaves only the node's NSS database (as Debian's packages do)" eval '
	innet sh -c "$APT purge qnet-qnetd qnet-qdevice corosync-qnetd corosync-qdevice" </dev/null &&
	status_is qnet-qnetd un && status_is qnet-qdevice un &&
	status_is corosync-qnetd un && status_is corosync-qdevice un &&
	left=$(leftovers) &&
	[ "$(echo $left)" = "/etc/corosync/qdevice /etc/corosync/qdevice/net" ] &&
	[ "$(ls "$root/etc/corosync/qdevice/net")" = nssdb ] &&
	! [ -e "$root/etc/corosync/qnetd" ] &&
	! [ -e "$root/etc/systemd/system/multi-user.target.wants/corosync-qnetd.service" ] ||
	{ echo "left: $left"; ls -R "$root/etc/corosync"; false; }'

# A host that never had Debian's packages (nor their status entries: dpkg
# answers --status for a removed package whose files stay): qnet-* alone,
# which only took the place of the names, do not satisfy crmsh; with the
# packages of those names they do.
check "on a fresh host, qnet-* alone: crmsh's check says corosync-qnetd/-qdevice are missing" eval '
	status_is corosync-qnetd un && status_is corosync-qdevice un &&
	innet sh -c "$APT install $QNET_DEBS" </dev/null >/dev/null &&
	crmsh_says "not installed" "not installed"'
check "with ./corosync-qnetd_*.deb and ./corosync-qdevice_*.deb crmsh's check passes" eval '
	innet sh -c "$APT install $NAME_DEBS" </dev/null >/dev/null &&
	crmsh_says installed installed'

finish
