#!/bin/sh
# init/corosync-links.sh: the install layout of
# `./configure --enable-corosync-names` (see README-install.md).
#
#   corosync-links.sh rename    DIR UPSTREAM OURS [UPSTREAM OURS ...]
#   corosync-links.sh unrename  DIR UPSTREAM OURS [UPSTREAM OURS ...]
#   corosync-links.sh link      DIR NAME TARGET [NAME TARGET ...]
#   corosync-links.sh unlink    DIR NAME TARGET [NAME TARGET ...]
#
# rename turns the program make just installed as DIR/OURS into DIR/UPSTREAM
# and leaves DIR/OURS as a relative symbolic link to it. The daemons must be
# the real files under upstream's names: tools that stop them by process
# name (pcs's killall corosync-qnetd) see the name of the executable, not
# that of a link. unrename removes both.
# link makes DIR/NAME a relative symbolic link to DIR/TARGET (man pages,
# units); unlink removes DIR/NAME if it is that link.
#
# A file that a distribution package owns (Debian's corosync-qnetd, say) is
# never replaced or removed: taking it over behind the package manager's back
# would break that package. Install our package (qnet-qnetd, qnet-qdevice)
# or remove theirs instead.
set -eu

usage() {
	echo "usage: $0 rename|unrename|link|unlink DIR NAME OTHER [NAME OTHER ...]" >&2
	exit 2
}

[ $# -ge 4 ] || usage
action=$1 dir=$2
shift 2
case $action in rename|unrename|link|unlink) ;; *) usage ;; esac

owned_by_package() {	# path: is it a file of an installed package?
	if command -v dpkg-query >/dev/null 2>&1 &&
	    dpkg-query -S "$1" >/dev/null 2>&1; then
		return 0
	fi
	command -v rpm >/dev/null 2>&1 && rpm -qf "$1" >/dev/null 2>&1
}

refuse() {	# path
	echo "$0: $1 belongs to an installed package (upstream's?); not replacing" \
	    "or removing it" >&2
	status=1
}

status=0
while [ $# -ge 2 ]; do
	name=$1 other=$2
	shift 2
	case $action in
	rename)
		upstream=$dir/$name ours=$dir/$other
		if [ -L "$ours" ] || ! [ -e "$ours" ]; then
			echo "$0: warning: $ours is not installed; no $name" >&2
			continue
		fi
		if [ -e "$upstream" ] && ! [ -L "$upstream" ] &&
		    owned_by_package "$upstream"; then
			refuse "$upstream"
			continue
		fi
		mv -f "$ours" "$upstream"
		ln -s "$name" "$ours"
		echo "  $upstream, $ours -> $name"
		;;
	unrename)
		upstream=$dir/$name ours=$dir/$other
		if [ -L "$ours" ] && [ "$(readlink "$ours")" = "$name" ]; then
			rm -f "$ours"
		fi
		if [ -e "$upstream" ] && ! [ -L "$upstream" ]; then
			if owned_by_package "$upstream"; then
				refuse "$upstream"
			else
				rm -f "$upstream"
			fi
		fi
		;;
	link)
		link=$dir/$name
		if [ -e "$link" ] && ! [ -L "$link" ]; then
			echo "$0: $link exists and is not a symbolic link;" \
			    "not replacing it" >&2
			status=1
			continue
		fi
		if ! [ -e "$dir/$other" ]; then
			echo "$0: warning: $dir/$other is not installed; no link $name" >&2
			continue
		fi
		rm -f "$link"
		ln -s "$other" "$link"
		echo "  $link -> $other"
		;;
	unlink)
		link=$dir/$name
		if [ -L "$link" ] && [ "$(readlink "$link")" = "$other" ]; then
			rm -f "$link"
		fi
		;;
	esac
done
[ $# = 0 ] || usage
exit $status
