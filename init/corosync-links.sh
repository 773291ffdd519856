#!/bin/sh
# init/corosync-links.sh: the upstream (corosync-*) names of the programs,
# units and man pages, as relative symbolic links, for
# `./configure --enable-corosync-names` (see README-install.md).
#
#   corosync-links.sh install   DIR NAME TARGET [NAME TARGET ...]
#   corosync-links.sh uninstall DIR NAME TARGET [NAME TARGET ...]
#
# install makes DIR/NAME a link to TARGET (in DIR). It never replaces a
# file that is not a symbolic link: that is upstream's own program (a
# distribution package), and taking it over silently would break that
# package. A TARGET missing from DIR is reported and skipped.
# uninstall removes DIR/NAME if it is a symbolic link to TARGET.
set -eu

usage() {
	echo "usage: $0 install|uninstall DIR NAME TARGET [NAME TARGET ...]" >&2
	exit 2
}

[ $# -ge 4 ] || usage
action=$1 dir=$2
shift 2
case $action in install|uninstall) ;; *) usage ;; esac

status=0
while [ $# -ge 2 ]; do
	name=$1 target=$2
	shift 2
	link=$dir/$name
	if [ "$action" = uninstall ]; then
		if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
			rm -f "$link"
		fi
		continue
	fi
	if [ -e "$link" ] && ! [ -L "$link" ]; then
		echo "$0: $link exists and is not a symbolic link (upstream's package?);" \
		    "not replacing it" >&2
		status=1
		continue
	fi
	if ! [ -e "$dir/$target" ]; then
		echo "$0: warning: $dir/$target is not installed; no link $name" >&2
		continue
	fi
	rm -f "$link"
	ln -s "$target" "$link"
	echo "  $link -> $target"
done
[ $# = 0 ] || usage
exit $status
