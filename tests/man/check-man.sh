#!/bin/sh
# tests/man/check-man.sh: the manual pages render without warnings and
# document every option the programs accept.
#
# Run by `make check` (TESTS) and `make check-man`; by hand:
#   srcdir=. sh tests/man/check-man.sh
#
# For each page man/PROG.8:
#  1. groff renders it with all warnings enabled (-ww) and prints none;
#     the source is plain ASCII (groff alone does not decode UTF-8).
#  2. Its OPTIONS section has a tagged paragraph (.TP) for every option
#     letter of PROG's getopt string and every long option, and for no
#     option the program lacks. The getopt strings are read from the
#     sources, so adding an option without documenting it fails here:
#       qnetd/tool.c -> qnetd-tool, other qnetd/*.c -> qnetd,
#       qdevice/tool.c -> qdevice-tool, other qdevice/*.c -> qdevice,
#       certs/NAME (getopts) -> NAME.
#  3. qnetd.8 and qdevice.8 name every advanced (-S) setting of
#     qnetd/settings.c and qdevice/settings.c as a tag of their ADVANCED
#     SETTINGS section; qdevice.8 names every corosync key (a string
#     literal starting with quorum., totem., nodelist., logging. or
#     runtime.) of qdevice/corosync-config.c.
# Exit status: 0 pass, 1 fail, 77 skip (groff missing; the source checks
# still ran and passed).

set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
mandir=$srcdir/man
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

err() {
	echo "FAIL: $*"
	fail=1
}

# --- what the sources accept -------------------------------------------

# C: the string after getopt( or getopt_long( on the same line.
c_getopt() {
	sed -n 's/.*getopt\(_long\)\{0,1\}([^"]*"\([^"]*\)".*/\2/p' "$1"
}

# C: long option names of "struct option" tables: { "name", xxx_argument
c_longopts() {
	sed -n 's/.*{[ 	]*"\([a-z][a-z0-9-]*\)",[ 	]*[a-z_]*_argument.*/\1/p' "$1"
}

# sh: the string of getopts.
sh_getopts() {
	sed -n 's/.*getopts[ 	]*"\([^"]*\)".*/\1/p' "$1"
}

# The option letters of a getopt string, one per line.
letters() {
	printf '%s\n' "$1" | sed 's/^[:+-]*//; s/://g' | fold -w1
}

# program name for a source file holding a getopt call
program_of() {
	case $1 in
	*/qnetd/tool.c) echo qnetd-tool ;;
	*/qnetd/*.c) echo qnetd ;;
	*/qdevice/tool.c) echo qdevice-tool ;;
	*/qdevice/*.c) echo qdevice ;;
	*/certs/*) basename "$1" ;;
	esac
}

: >"$tmp/programs"
for f in "$srcdir"/qnetd/*.c "$srcdir"/qdevice/*.c; do
	[ -f "$f" ] || continue
	s=$(c_getopt "$f")
	[ -n "$s" ] || continue
	p=$(program_of "$f")
	letters "$s" >>"$tmp/$p.short"
	c_longopts "$f" >>"$tmp/$p.long"
	echo "$p" >>"$tmp/programs"
done
for f in "$srcdir"/certs/*; do
	[ -f "$f" ] || continue
	s=$(sh_getopts "$f")
	[ -n "$s" ] || continue
	p=$(program_of "$f")
	letters "$s" >>"$tmp/$p.short"
	: >>"$tmp/$p.long"
	echo "$p" >>"$tmp/programs"
done
sort -u "$tmp/programs" -o "$tmp/programs"
if ! [ -s "$tmp/programs" ]; then
	err "no getopt string found under $srcdir (wrong srcdir?)"
	exit 1
fi

# --- what the pages say ------------------------------------------------

# Lines of section $2 (up to the next .SH) of page $1.
section() {
	awk -v want="$2" '
		/^\.SH / { sub(/^\.SH[ \t]+/, ""); gsub(/"/, ""); in_s = ($0 == want); next }
		in_s { print }
	' "$1"
}

# The tag lines (the line after each .TP or .TQ) of a section.
tags() {
	section "$1" "$2" | awk '/^\.T[PQ]/ { grab = 1; next } grab { print; grab = 0 }'
}

# Short options named in tag lines: \-X with X a letter or digit followed
# by something else than a letter or digit (so \-\-metrics is not -m).
tag_short() {
	tags "$1" OPTIONS | grep -oE '\\-[A-Za-z0-9]([^A-Za-z0-9]|$)' |
	    sed 's/^\\-\(.\).*/\1/' | sort -u
}

tag_long() {
	tags "$1" OPTIONS | grep -o '\\-\\-[a-z][a-z0-9-]*' | sed 's/^\\-\\-//' | sort -u
}

# Setting names that are tags of a section: first word of the tag line.
tag_words() {
	tags "$1" "$2" | sed -n 's/^\.B[RI]\{0,1\}[ 	]*\([A-Za-z0-9_.]*\).*/\1/p' | sort -u
}

for page in "$mandir"/*.8; do
	[ -f "$page" ] || continue
	name=$(basename "$page" .8)
	if ! grep -qx "$name" "$tmp/programs"; then
		err "$name.8: no program with this name found in the sources"
	fi
done

# compare_words HAVE DOC UNDOCUMENTED UNKNOWN: both sorted word lists; for a word of
# HAVE that DOC lacks, err UNDOCUMENTED, for one of DOC that HAVE lacks, err UNKNOWN
# (printf formats, %s the word).
compare_words() {
	for w in $(comm -23 "$1" "$2"); do
		# shellcheck disable=SC2059
		err "$(printf "$3" "$w")"
	done
	for w in $(comm -13 "$1" "$2"); do
		# shellcheck disable=SC2059
		err "$(printf "$4" "$w")"
	done
}

# compare_options PROGRAM short|long DASH: PROGRAM's options of that kind against the
# ones its page's OPTIONS documents, both ways.
compare_options() {
	compare_words "$tmp/$1.$2" "$tmp/$1.doc-$2" "$1.8: option $3%s is not documented in OPTIONS" \
	    "$1.8: OPTIONS documents $3%s, which $1 does not accept"
}

while read -r p; do
	page=$mandir/$p.8
	if ! [ -f "$page" ]; then
		err "$p: no manual page man/$p.8"
		continue
	fi
	sort -u "$tmp/$p.short" -o "$tmp/$p.short"
	sort -u "$tmp/$p.long" -o "$tmp/$p.long"
	tag_short "$page" >"$tmp/$p.doc-short"
	tag_long "$page" >"$tmp/$p.doc-long"
	compare_options "$p" short -
	compare_options "$p" long --
	echo "checked $p.8: options -$(tr -d '\n' <"$tmp/$p.short")$(sed 's/^/ --/' "$tmp/$p.long" | tr -d '\n')"
done <"$tmp/programs"

# --- advanced settings and corosync keys -------------------------------

# Setting names of a settings.c: first string of table entries or of the
# STR/U32/BOOL macros, and names compared with strcasecmp(name, "...").
settings_of() {
	grep -o -e '\(STR\|U32\|BOOL\)("[a-z][a-z0-9_]*"' \
	    -e '{ "[a-z][a-z0-9_]*", \(offsetof\|KIND_\)' \
	    -e 'strcasecmp(name, "[a-z][a-z0-9_]*")' "$1" |
	    sed 's/[^"]*"\([^"]*\)".*/\1/' | sort -u
}

check_settings() {
	prog=$1 src=$srcdir/$2 page=$mandir/$1.8
	[ -f "$src" ] && [ -f "$page" ] || return 0
	settings_of "$src" >"$tmp/$prog.settings"
	if ! [ -s "$tmp/$prog.settings" ]; then
		err "$2: no advanced setting names found (source layout changed? update $0)"
		return
	fi
	tag_words "$page" "ADVANCED SETTINGS" >"$tmp/$prog.doc-settings"
	compare_words "$tmp/$prog.settings" "$tmp/$prog.doc-settings" \
	    "$prog.8: advanced setting %s is not documented in ADVANCED SETTINGS" \
	    "$prog.8: ADVANCED SETTINGS documents %s, unknown to $2"
	echo "checked $prog.8: $(wc -l <"$tmp/$prog.settings") advanced settings"
}
check_settings qnetd qnetd/settings.c
check_settings qdevice qdevice/settings.c

if [ -f "$srcdir/qdevice/corosync-config.c" ] && [ -f "$mandir/qdevice.8" ]; then
	grep -o '"\(quorum\|totem\|nodelist\|logging\|runtime\)\.[A-Za-z0-9_.]*"' \
	    "$srcdir/qdevice/corosync-config.c" | tr -d '"' | sort -u >"$tmp/keys"
	if ! [ -s "$tmp/keys" ]; then
		err "qdevice/corosync-config.c: no corosync key found (source layout changed? update $0)"
	fi
	while read -r k; do
		grep -qF -- "$k" "$mandir/qdevice.8" ||
		    err "qdevice.8: corosync key $k is not documented"
	done <"$tmp/keys"
	echo "checked qdevice.8: $(wc -l <"$tmp/keys") corosync keys"
fi

# --- rendering ---------------------------------------------------------

for page in "$mandir"/*.8; do
	[ -f "$page" ] || continue
	if LC_ALL=C grep -n '[^ -~	]' "$page" >"$tmp/nonascii"; then
		err "$(basename "$page"): non-ASCII characters (use groff escapes):"
		sed 's/^/    /' "$tmp/nonascii"
	fi
done

if ! command -v groff >/dev/null 2>&1; then
	echo "SKIP: groff not installed (Debian: apt-get install groff-base); pages not rendered"
	[ $fail = 0 ] && exit 77
	exit 1
fi
for page in "$mandir"/*.8; do
	[ -f "$page" ] || continue
	for width in 80 120; do
		# -rLL sets the line length the way man(1) does for narrow terminals.
		groff -man -Tutf8 -ww -z -rLL=${width}n "$page" >"$tmp/out" 2>&1
		if [ -s "$tmp/out" ]; then
			err "$(basename "$page"): groff warnings at width $width:"
			sed 's/^/    /' "$tmp/out"
		fi
	done
	echo "rendered $(basename "$page")"
done

if [ $fail != 0 ]; then
	echo "man page check FAILED"
	exit 1
fi
echo "man page check passed"
exit 0
