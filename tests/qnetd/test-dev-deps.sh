#!/bin/bash
# tests/qnetd/test-dev-deps.sh: `scripts/dev deps` never leaves one of Debian's cluster
# daemons running. Nothing is installed: apt-get, dpkg-query, systemctl and id are fakes on
# PATH, and QNET_DEV_ROOT moves the policy file, /run/systemd and the NSS database into a
# scratch directory. The fake apt-get acts like the packages' postinst: it enables the
# units and starts each one unless /usr/sbin/policy-rc.d answers 101, as
# deb-systemd-invoke and invoke-rc.d do.
#
# Checked: no stock daemon starts during the install, and other services get the answer
# of the policy that was there before; the policy file is afterwards what it was (absent,
# or the same bytes and mode), also when apt-get fails or a killed run left its policy;
# daemons installed earlier are stopped (only under a running systemd) and disabled, and
# the script says so; nothing is masked; units of packages that are not Debian's stock
# daemons are left alone; the NSS database Debian's postinst made is reported.
# Runs as any user, in well under a minute. DEV=path/to/scripts/dev tests another copy.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
DEV=${DEV:-$HERE/../../scripts/dev}

# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

# The packages scripts/dev installs, from its own list.
eval "$(sed -n '/^DEBIAN_DEPS=(/,/^)/p' "$DEV")"
[[ ${#DEBIAN_DEPS[@]} -gt 5 ]] || { echo "not ok - no DEBIAN_DEPS in $DEV"; exit 1; }

# --- fakes ------------------------------------------------------------------------------
# State files in $dir/state: installed (packages), enabled and active (units), log (what
# the fakes were asked), decisions ("UNIT RC" of every policy query), policy-during.
bin=$dir/bin
mkdir -p "$bin"
cat >"$bin/dpkg-query" <<'EOF'
#!/bin/sh
for pkg; do :; done
grep -qxF "$pkg" "$STATE/installed" 2>/dev/null || exit 1
printf 'install ok installed'
EOF
cat >"$bin/id" <<'EOF'
#!/bin/bash
[[ $1 == -u ]] && { echo 0; exit 0; }
exec /usr/bin/id "$@"
EOF
cat >"$bin/systemctl" <<'EOF'
#!/bin/bash
echo "systemctl $*" >>"$STATE/log"
args=()
for a; do [[ $a == -* ]] || args+=("$a"); done
verb=${args[0]} unit=${args[1]:-}
case $verb in
is-active)	grep -qxF "$unit" "$STATE/active";;
is-enabled)	grep -qxF "$unit" "$STATE/enabled";;
stop)		sed -i "/^$unit\$/d" "$STATE/active";;
disable)	sed -i "/^$unit\$/d" "$STATE/enabled";;
*)		exit 0;;
esac
EOF
# apt-get install: every package becomes installed; a package with a daemon gets its unit
# enabled and is then started as the postinst would: deb-systemd-invoke under systemd,
# invoke-rc.d --quiet NAME start otherwise, each asking the policy first.
cat >"$bin/apt-get" <<'EOF'
#!/bin/bash
echo "apt-get $*" >>"$STATE/log"
[[ $1 == install ]] || exit 0
[[ -n ${FAKE_APT_FAIL:-} ]] && exit 100
policy=$QNET_DEV_ROOT/usr/sbin/policy-rc.d
[[ -e $policy ]] && cp "$policy" "$STATE/policy-during"
shift
for p; do
	[[ $p == -* ]] && continue
	echo "$p" >>"$STATE/installed"
	case $p in
	corosync | corosync-qnetd | corosync-qdevice | nftables) unit=$p;;
	*) continue;;
	esac
	[[ $p == corosync-qnetd ]] && mkdir -p "$QNET_DEV_ROOT/etc/corosync/qnetd/nssdb"
	echo "$unit.service" >>"$STATE/enabled"
	rc=0
	if [[ -d $QNET_DEV_ROOT/run/systemd/system ]]; then
		[[ -x $policy ]] && { "$policy" "$unit.service" start; rc=$?; }
	else
		[[ -x $policy ]] && { "$policy" --quiet "$unit" start; rc=$?; }
	fi
	echo "$unit.service $rc" >>"$STATE/decisions"
	[[ $rc == 0 || $rc == 104 ]] && echo "$unit.service" >>"$STATE/active"
done
exit 0
EOF
chmod +x "$bin"/*

# fresh STATE and root; "systemd" makes /run/systemd/system (systemd is running)
STATE="" ROOT=""
setup() {	# name [systemd]
	STATE=$dir/$1/state ROOT=$dir/$1/root
	mkdir -p "$STATE" "$ROOT/usr/sbin"
	[[ ${2:-} == systemd ]] && mkdir -p "$ROOT/run/systemd/system"
	: >"$STATE/installed"; : >"$STATE/enabled"; : >"$STATE/active"
	: >"$STATE/log"; : >"$STATE/decisions"
}
run_dev() {	# extra env assignments...: scripts/dev deps with the fakes; output in $STATE/out
	env PATH="$bin:$PATH" STATE="$STATE" QNET_DEV_ROOT="$ROOT" "$@" \
	    bash "$DEV" deps >"$STATE/out" 2>&1
}
all_installed() { printf '%s\n' "${DEBIAN_DEPS[@]}" >"$STATE/installed"; }
site_policy() {	# a policy of the host's own: refuses nftables, allows the rest
	printf '#!/bin/sh\n# the site policy\n[ "$1" = nftables.service ] && exit 101\nexit 0\n' \
	    >"$ROOT/usr/sbin/policy-rc.d"
	chmod 0750 "$ROOT/usr/sbin/policy-rc.d"
	cp -p "$ROOT/usr/sbin/policy-rc.d" "$STATE/site-policy"
}
same_policy() {	# the site policy is back: same bytes, same mode, nothing left aside
	cmp "$STATE/site-policy" "$ROOT/usr/sbin/policy-rc.d" &&
	    [[ $(stat -c %a "$ROOT/usr/sbin/policy-rc.d") == 750 ]] &&
	    [[ ! -e $ROOT/usr/sbin/policy-rc.d.qnet-saved ]]
}
no_policy() { [[ ! -e $ROOT/usr/sbin/policy-rc.d && ! -e $ROOT/usr/sbin/policy-rc.d.qnet-saved ]]; }
started() { grep -qxF "$1" "$STATE/active"; }
decision() { grep -qxF "$1 $2" "$STATE/decisions" || { cat "$STATE/decisions"; false; }; }
said() { grep -qF -- "$1" "$STATE/out" || { cat "$STATE/out"; false; }; }
never_masked() { ! grep -q 'mask' "$STATE/log"; }
show() { cat "$STATE/out"; }

# --- a fresh systemd host without a policy ---------------------------------------------------
setup fresh systemd
check "fresh host: scripts/dev deps succeeds" run_dev
show | sed 's/^/# /'
check "fresh host: no stock daemon was started by the install" \
    eval '! started corosync-qnetd.service && ! started corosync.service &&
	  decision corosync-qnetd.service 101 && decision corosync.service 101'
check "fresh host: the policy in place during the install was scripts/dev's" \
    grep -q 'qnet scripts/dev' "$STATE/policy-during"
check "fresh host: afterwards there is no policy file again, as before" no_policy
check "fresh host: the units the postinst enabled are disabled, and it says so" \
    eval '! grep -qx corosync-qnetd.service "$STATE/enabled" &&
	  said "disabled Debian'"'"'s corosync.service corosync-qnetd.service"'
check "fresh host: nothing masked" never_masked
check "fresh host: the NSS database Debian's corosync-qnetd made is named, with how to start clean" \
    said "created $ROOT/etc/corosync/qnetd/nssdb"
check "fresh host: a second run installs nothing and has nothing to stop or disable" \
    eval 'run_dev && said "already installed" && ! said "stopped" && ! said "disabled"'

# --- a host with its own policy ----------------------------------------------------------------
setup site systemd
site_policy
check "site policy: scripts/dev deps succeeds" run_dev
check "site policy: stock daemons refused, other services answered by the site policy" \
    eval 'decision corosync-qnetd.service 101 && decision nftables.service 101 &&
	  ! started corosync-qnetd.service'
check "site policy: restored byte for byte with its mode" same_policy

setup site-fail systemd
site_policy
check "apt-get fails: scripts/dev deps fails" eval '! run_dev FAKE_APT_FAIL=1'
check "apt-get fails: the site policy is still restored" same_policy

setup leftover systemd
site_policy
mv "$ROOT/usr/sbin/policy-rc.d" "$ROOT/usr/sbin/policy-rc.d.qnet-saved"
printf '#!/bin/sh\n# qnet scripts/dev: temporary, removed when its apt-get install ends\nexit 101\n' \
    >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
check "policy left by a killed run: the next run restores the site policy" \
    eval 'run_dev && same_policy && decision nftables.service 101'

# --- daemons installed and started before scripts/dev knew better --------------------------
setup earlier systemd
all_installed
printf '%s\n' corosync.service corosync-qnetd.service pcsd.service >"$STATE/active"
printf '%s\n' corosync.service corosync-qnetd.service pcsd.service >"$STATE/enabled"
check "earlier install under systemd: scripts/dev deps succeeds" run_dev
show | sed 's/^/# /'
check "earlier install under systemd: stock daemons stopped and disabled, and it says so" \
    eval '! started corosync-qnetd.service && ! started corosync.service &&
	  ! grep -qx corosync-qnetd.service "$STATE/enabled" &&
	  said "stopped Debian'"'"'s corosync.service corosync-qnetd.service" &&
	  said "disabled Debian'"'"'s corosync.service corosync-qnetd.service"'
check "earlier install: a unit whose Debian package is not installed (pcsd) is left alone" \
    eval 'started pcsd.service && grep -qx pcsd.service "$STATE/enabled"'
check "earlier install: nothing masked" never_masked

setup nosystemd
all_installed
printf '%s\n' corosync-qnetd.service >"$STATE/enabled"
check "no systemd running: scripts/dev deps succeeds" run_dev
check "no systemd running: nothing stopped, the enabled unit disabled (it would start at boot)" \
    eval '! grep -q "systemctl stop" "$STATE/log" && ! grep -qx corosync-qnetd.service "$STATE/enabled" &&
	  said "disabled Debian'"'"'s corosync-qnetd.service"'

setup nosystemd-install
check "no systemd, fresh: the postinst's invoke-rc.d start is refused too" \
    eval 'run_dev && decision corosync-qnetd.service 101 && ! started corosync-qnetd.service && no_policy'

tests_summary
