#!/bin/bash
#
# Interoperability test of certs/qnetd-certutil and certs/qdevice-net-certutil
# with each other and with Debian's corosync-qnetd-certutil and
# corosync-qdevice-net-certutil (3.0.3, fixed /etc/corosync paths: these run
# in a private mount namespace with a scratch directory bound over
# /etc/corosync, so the real /etc stays untouched).
#   A  our tools only          B  Debian qnetd tool + our node tool
#   C  our qnetd tool + Debian node tool      D  -Q with fake ssh/scp
#   E  TLS: Debian's corosync-qnetd on 127.0.0.1 with these databases and
#      a small Python client (skipped without corosync-qnetd / python3)
#   F  export (-e) / import (-I) of the whole arbiter identity: same CA, server
#      certificate and keys; our qnetd (QNET_BUILD, default ./build) on
#      127.0.0.1 with the imported database accepts a cluster certificate
#      signed on the original host (skipped without that build / python3)
#
# Needs root, certutil/pk12util (libnss3-tools), openssl, unshare.  No network.
# Usage: tests/certs/test-certutil.sh [-v]     (-v shows each check's output)
# KEEP=1 keeps the scratch directory.

set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
Q=$TOP/certs/qnetd-certutil
N=$TOP/certs/qdevice-net-certutil
DEB_Q=corosync-qnetd-certutil
DEB_N=corosync-qdevice-net-certutil
NODE_SUB=qdevice/net/nssdb
QNETD_SUB=qnetd/nssdb
VERBOSE=${1:-}
unset QNETD_NSSDB_DIR QDEVICE_NET_NSSDB_DIR

. "$TOP/tests/lib.sh"
T=$dir
QNETD_PID=""
tests_at_exit() {
    if [ -n "$QNETD_PID" ]; then kill "$QNETD_PID" 2>/dev/null || true; fi
}
[ "$VERBOSE" != -v ] || TESTS_VERBOSE=1

# run CAPTURE COMMAND...: run, keep stdout in CAPTURE, stderr in CAPTURE.err
run() {
    local cap=$1
    shift
    "$@" >"$cap" 2>"$cap.err"
}

# in_root ROOT COMMAND...: COMMAND sees ROOT as /etc/corosync.
in_root() {
    local root=$1
    shift
    mkdir -p "$root"
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare -m bash -c 'mount --bind "$1" /etc/corosync && shift && exec "$@"' \
        _ "$root" "$@"
}

rc_is() {
    local want=$1 rc=0
    shift
    "$@" || rc=$?
    echo "exit status $rc, expected $want"
    [ "$rc" = "$want" ]
}

has_files() {
    local dir=$1 f
    shift
    for f in "$@"; do
        [ -f "$dir/$f" ] || { echo "missing $dir/$f"; return 1; }
    done
}

# trust DB NICK FLAGS: the listing shows NICK with exactly these flags.
trust() {
    local got
    got=$(certutil -L -d "$1" | sed -n "s/^$2  *//p")
    echo "$2: '$got', expected '$3'"
    [ "$got" = "$3" ]
}

# field DB NICK LABEL VALUE: e.g. field DB "Cluster Cert" Subject '"CN=x"'
field() {
    local got
    got=$(certutil -L -d "$1" -n "$2" | sed -n "s/^ *$3: *//p" | head -n1)
    echo "$2 $3: $got, expected $4"
    [ "$got" = "$4" ]
}

has_key() {
    certutil -K -d "$1" -f "$1/pwdfile.txt" | grep -F "$2"
}

# key_type DB NICK TYPE: certutil -K lists NICK's private key as TYPE (rsa, ec)
key_type() {
    certutil -K -d "$1" -f "$1/pwdfile.txt" | grep -E "^< *[0-9]+> $3 .*:$2\$"
}

valid() {
    certutil -V -d "$1" -n "$2" -u "$3" | grep -x 'certutil: certificate is valid'
}

mode_is() {
    local got
    got=$(stat -c %a "$1")
    echo "$1: $got, expected $2"
    [ "$got" = "$2" ]
}

line_in() {
    grep -Fx -- "$2" "$1"
}

same() {
    diff -u "$1" "$2"
}

# Modes, owners and names of the files of a database directory.
listing() {
    (cd "$1" && stat -c '%a %U:%G %n' . ./*)
}

der_crt() {
    openssl x509 -inform DER -in "$1" -noout -subject -issuer
}

# Four signings at once: four certificates, four different serial numbers.
parallel_serials() {
    local i
    for i in 1 2 3 4; do
        "$Q" -d "$A/q" -s -c "$A/n1/qdevice-net-node.crq" -n "par$i" &
    done
    wait
    for i in 1 2 3 4; do
        der_crt_serial "$A/q/cluster-par$i.crt" || return 1
    done | sort -u | tee /dev/stderr | wc -l | grep -qx 4
}

der_crt_serial() {
    openssl x509 -inform DER -in "$1" -noout -serial
}

crq_subject() {
    openssl req -inform DER -in "$1" -noout -subject | grep -Fx "subject=CN = $2"
}

# node_ok DB CLUSTER: a fully set up node database
node_ok() {
    local db=$1 cl=$2 tag=$3
    check "$tag: QNet CA trusted CT,c,c" trust "$db" "QNet CA" "CT,c,c"
    check "$tag: Cluster Cert u,u,u" trust "$db" "Cluster Cert" "u,u,u"
    check "$tag: cluster cert subject CN=$cl" \
        field "$db" "Cluster Cert" Subject "\"CN=$cl\""
    check "$tag: cluster cert issuer CN=QNet CA" \
        field "$db" "Cluster Cert" Issuer '"CN=QNet CA"'
    check "$tag: private key of Cluster Cert present" has_key "$db" "Cluster Cert"
    check "$tag: Cluster Cert valid as SSL client" valid "$db" "Cluster Cert" C
}

# qnetd_ok DB: a freshly initialized qnetd database
qnetd_ok() {
    local db=$1 tag=$2
    check "$tag: database files" has_files "$db" cert9.db key4.db pkcs11.txt \
        pwdfile.txt noise.txt serial.txt qnetd-cacert.crt
    check "$tag: QNet CA CTu,u,u" trust "$db" "QNet CA" "CTu,u,u"
    check "$tag: QNetd Cert u,u,u" trust "$db" "QNetd Cert" "u,u,u"
    check "$tag: server subject CN=Qnetd Server" \
        field "$db" "QNetd Cert" Subject '"CN=Qnetd Server"'
    check "$tag: server issuer CN=QNet CA" \
        field "$db" "QNetd Cert" Issuer '"CN=QNet CA"'
    check "$tag: serials 101 (CA) and 102 (server)" eval \
        "field '$db' 'QNet CA' 'Serial Number' '101 (0x65)' &&
         field '$db' 'QNetd Cert' 'Serial Number' '102 (0x66)'"
    check "$tag: QNetd Cert valid as SSL server" valid "$db" "QNetd Cert" V
    # ours makes an ECDSA server key (man qnetd-certutil), Debian's certutil's RSA default
    local srv_key=ec
    [ "$tag" = debian ] && srv_key=rsa
    check "$tag: QNetd Cert's key is $srv_key, the CA's rsa" eval \
        "key_type '$db' 'QNetd Cert' $srv_key && key_type '$db' 'QNet CA' rsa"
    check "$tag: QNet CA valid as SSL CA" valid "$db" "QNet CA" L
}

for tool in certutil pk12util openssl unshare; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }

###########################################################################
echo "# A: our tools only (moved database directories)"
A=$T/a
check "qnetd -i" run "$T/a-i" "$Q" -d "$A/q" -i
qnetd_ok "$A/q" "ours"
check "qnetd -i: export line" \
    line_in "$T/a-i" "QNetd CA certificate is exported as $A/q/qnetd-cacert.crt"
check "qnetd -i: pwdfile empty, serial.txt 102" \
    eval "[ ! -s '$A/q/pwdfile.txt' ] && [ \"\$(cat '$A/q/serial.txt')\" = 102 ]"
check "qnetd -i: dir 0770, files 0660, CA export 0644" eval \
    "mode_is '$A/q' 770 && mode_is '$A/q/cert9.db' 660 &&
     mode_is '$A/q/noise.txt' 660 && mode_is '$A/q/qnetd-cacert.crt' 644"
check "CA export: text dump then PEM" eval \
    "head -n1 '$A/q/qnetd-cacert.crt' | grep -x Certificate: &&
     grep -x -- '-----BEGIN CERTIFICATE-----' '$A/q/qnetd-cacert.crt'"
check "qnetd -i twice fails with 1" rc_is 1 "$Q" -d "$A/q" -i
check "qnetd -i -G: dir 0750, files 0640" eval \
    "'$Q' -G -d '$A/g' -i && mode_is '$A/g' 750 && mode_is '$A/g/key4.db' 640 &&
     mode_is '$A/g/serial.txt' 640"
check "QNETD_NSSDB_DIR selects the database" eval \
    "QNETD_NSSDB_DIR='$A/e' '$Q' -i && [ -f '$A/e/cert9.db' ]"

check "node -i" run "$T/a-ni" "$N" -d "$A/n1" -i -c "$A/q/qnetd-cacert.crt"
check "node -i: dir 0770, files 0660" eval \
    "mode_is '$A/n1' 770 && mode_is '$A/n1/cert9.db' 660 && mode_is '$A/n1/pwdfile.txt' 660"
check "node -i twice fails with 1" \
    rc_is 1 "$N" -d "$A/n1" -i -c "$A/q/qnetd-cacert.crt"
check "node -r" run "$T/a-r" "$N" -d "$A/n1" -r -n alpha
check "node -r: request line" line_in "$T/a-r" \
    "Certificate request stored in $A/n1/qdevice-net-node.crq"
check "node -r: DER request CN=alpha" crq_subject "$A/n1/qdevice-net-node.crq" alpha
check "node -r: key stays in node database" has_key "$A/n1" "(orphan)"
check "qnetd -s" run "$T/a-s" "$Q" -d "$A/q" -s -c "$A/n1/qdevice-net-node.crq" -n alpha
check "qnetd -s: stored line" \
    line_in "$T/a-s" "Certificate stored in $A/q/cluster-alpha.crt"
check "qnetd -s: DER cert CN=alpha by CN=QNet CA" eval \
    "der_crt '$A/q/cluster-alpha.crt' | grep -x 'subject=CN = alpha' &&
     der_crt '$A/q/cluster-alpha.crt' | grep -x 'issuer=CN = QNet CA'"
check "qnetd -s: serial 103" eval "[ \"\$(cat '$A/q/serial.txt')\" = 103 ]"
check "node -M" run "$T/a-M" "$N" -d "$A/n1" -M -c "$A/q/cluster-alpha.crt"
check "node -M: stored line" \
    line_in "$T/a-M" "Certificate stored in $A/n1/qdevice-net-node.p12"
node_ok "$A/n1" alpha "ours node1"
check "node2 -i, -m" eval "'$N' -d '$A/n2' -i -c '$A/q/qnetd-cacert.crt' &&
    QDEVICE_NET_NSSDB_DIR='$A/n2' '$N' -m -c '$A/n1/qdevice-net-node.p12'"
node_ok "$A/n2" alpha "ours node2"

check "qnetd -s: missing CRQ -> 2" rc_is 2 "$Q" -d "$A/q" -s -c "$T/nope" -n x
check "qnetd -s: no cluster name -> 2" \
    rc_is 2 "$Q" -d "$A/q" -s -c "$A/n1/qdevice-net-node.crq"
check "qnetd -s: no database -> 1" \
    rc_is 1 "$Q" -d "$T/nodb" -s -c "$A/n1/qdevice-net-node.crq" -n x
check "qnetd -s: garbage CRQ -> 1" rc_is 1 "$Q" -d "$A/q" -s -c "$A/q/serial.txt" -n x
check "qnetd -s: a refused request leaves the cluster's certificate as it was" eval \
    "cp '$A/q/cluster-alpha.crt' '$T/alpha.keep' &&
     rc_is 1 '$Q' -d '$A/q' -s -c '$A/q/serial.txt' -n alpha &&
     cmp '$A/q/cluster-alpha.crt' '$T/alpha.keep' && ! ls '$A/q'/cluster-alpha.crt.new.* 2>/dev/null"
check "qnetd -s: signings at once get distinct serials" parallel_serials
check "qnetd -s: serial.txt that is not a number -> 1, never evaluated" eval \
    "cp '$A/q/serial.txt' '$T/serial.keep' &&
     echo 'SERIAL[\$(touch $T/evaluated)]' >'$A/q/serial.txt' &&
     rc_is 1 '$Q' -d '$A/q' -s -c '$A/n1/qdevice-net-node.crq' -n alpha;
     rc=\$?; cp '$T/serial.keep' '$A/q/serial.txt'; [ \$rc = 0 ] && [ ! -e '$T/evaluated' ]"
check "qnetd: bad option -> 1, -h -> 0, no op -> 0" eval \
    "rc_is 1 '$Q' -x && rc_is 0 '$Q' -h && rc_is 0 '$Q'"
check "node -i: missing CA -> 2" rc_is 2 "$N" -d "$T/nodb" -i -c "$T/nope"
check "node -r: no cluster name -> 2" rc_is 2 "$N" -d "$A/n1" -r
check "node -r/-M/-m: no database -> 1" eval \
    "rc_is 1 '$N' -d '$T/nodb' -r -n x &&
     rc_is 1 '$N' -d '$T/nodb' -M -c '$A/q/cluster-alpha.crt' &&
     rc_is 1 '$N' -d '$T/nodb' -m -c '$A/n1/qdevice-net-node.p12'"
check "node -M/-m: missing file -> 2" eval \
    "rc_is 2 '$N' -d '$A/n1' -M -c '$T/nope' && rc_is 2 '$N' -d '$A/n1' -m -c '$T/nope'"
check "node -Q: no qnetd/no nodes -> 2" eval \
    "rc_is 2 '$N' -Q -n x && rc_is 2 '$N' -Q -n x qnetd"
check "node: bad option -> 1, -h -> 0" eval "rc_is 1 '$N' -s && rc_is 0 '$N' -h"

###########################################################################
DEBIAN=no
if ! command -v "$DEB_Q" >/dev/null || ! command -v "$DEB_N" >/dev/null ||
    [ ! -d /etc/corosync ]; then
    echo "# B/C skipped: $DEB_Q / $DEB_N / /etc/corosync missing"
else
    DEBIAN=yes
    echo "# B: Debian qnetd CA, our node tool; same output as Debian's qnetd tool"
    B=$T/b
    check "debian qnetd -i" run "$T/b-deb-i" in_root "$B/deb" "$DEB_Q" -i
    check "our qnetd -i in /etc/corosync" run "$T/b-our-i" in_root "$B/our" "$Q" -i
    check "qnetd -i: same stdout as Debian" same "$T/b-deb-i" "$T/b-our-i"
    check "qnetd -i: same files and modes as Debian" same \
        <(listing "$B/deb/$QNETD_SUB") <(listing "$B/our/$QNETD_SUB")
    check "qnetd -i -G: same files and modes as Debian" eval \
        "in_root '$B/debG' '$DEB_Q' -i -G && in_root '$B/ourG' '$Q' -i -G &&
         same <(listing '$B/debG/$QNETD_SUB') <(listing '$B/ourG/$QNETD_SUB')"
    qnetd_ok "$B/deb/$QNETD_SUB" "debian"
    QB=$B/deb/$QNETD_SUB
    check "our node -i with Debian CA" "$N" -d "$B/n1" -i -c "$QB/qnetd-cacert.crt"
    check "our node -r" "$N" -d "$B/n1" -r -n beta
    check "debian qnetd -s of our request" run "$T/b-deb-s" \
        in_root "$B/deb" "$DEB_Q" -s -c "$B/n1/qdevice-net-node.crq" -n beta
    check "our qnetd -s in /etc/corosync" run "$T/b-our-s" \
        in_root "$B/our" "$Q" -s -c "$B/n1/qdevice-net-node.crq" -n beta
    check "qnetd -s: same stdout as Debian" same "$T/b-deb-s" "$T/b-our-s"
    check "qnetd -s: same files and modes as Debian" same \
        <(listing "$B/deb/$QNETD_SUB") <(listing "$B/our/$QNETD_SUB")
    check "our node -M of Debian-signed cert" \
        "$N" -d "$B/n1" -M -c "$QB/cluster-beta.crt"
    node_ok "$B/n1" beta "Debian CA, our node1"
    check "our node2 -i, -m" eval "'$N' -d '$B/n2' -i -c '$QB/qnetd-cacert.crt' &&
        '$N' -d '$B/n2' -m -c '$B/n1/qdevice-net-node.p12'"
    node_ok "$B/n2" beta "Debian CA, our node2"

    echo "# C: our qnetd CA, Debian node tool; same output as Debian's node tool"
    C=$T/c
    QC=$C/q
    check "our qnetd -i" "$Q" -d "$QC" -i
    D1=$C/deb1/$NODE_SUB
    check "debian node -i with our CA" run "$T/c-deb-i" \
        in_root "$C/deb1" "$DEB_N" -i -c "$QC/qnetd-cacert.crt"
    check "our node -i in /etc/corosync" run "$T/c-our-i" \
        in_root "$C/our1" "$N" -i -c "$QC/qnetd-cacert.crt"
    check "node -i: same stdout as Debian" same "$T/c-deb-i" "$T/c-our-i"
    check "debian node -r" run "$T/c-deb-r" in_root "$C/deb1" "$DEB_N" -r -n gamma
    check "our node -r in /etc/corosync" run "$T/c-our-r" \
        in_root "$C/our1" "$N" -r -n gamma
    check "node -r: same stdout as Debian" same "$T/c-deb-r" "$T/c-our-r"
    check "our qnetd -s of our request" eval \
        "'$Q' -d '$QC' -s -c '$C/our1/$NODE_SUB/qdevice-net-node.crq' -n gamma &&
         mv '$QC/cluster-gamma.crt' '$C/our-gamma.crt'"
    check "our qnetd -s of Debian request" \
        "$Q" -d "$QC" -s -c "$D1/qdevice-net-node.crq" -n gamma
    check "debian node -M" run "$T/c-deb-M" \
        in_root "$C/deb1" "$DEB_N" -M -c "$QC/cluster-gamma.crt"
    check "our node -M in /etc/corosync" run "$T/c-our-M" \
        in_root "$C/our1" "$N" -M -c "$C/our-gamma.crt"
    check "node -M: same stdout as Debian" same "$T/c-deb-M" "$T/c-our-M"
    check "node -i/-r/-M: same files and modes as Debian" same \
        <(listing "$D1") <(listing "$C/our1/$NODE_SUB")
    node_ok "$D1" gamma "our CA, Debian node1"
    D2=$C/deb2/$NODE_SUB
    check "debian node2 -i, -m" eval \
        "in_root '$C/deb2' '$DEB_N' -i -c '$QC/qnetd-cacert.crt' &&
         in_root '$C/deb2' '$DEB_N' -m -c '$D1/qdevice-net-node.p12'"
    node_ok "$D2" gamma "our CA, Debian node2"
    check "our node3 -m of Debian p12" eval \
        "'$N' -d '$C/n3' -i -c '$QC/qnetd-cacert.crt' &&
         '$N' -d '$C/n3' -m -c '$D1/qdevice-net-node.p12'"
    node_ok "$C/n3" gamma "our CA, Debian p12, our node3"
    check "debian node -m of our p12 (set A)" eval \
        "in_root '$C/deb4' '$DEB_N' -i -c '$A/q/qnetd-cacert.crt' &&
         in_root '$C/deb4' '$DEB_N' -m -c '$A/n1/qdevice-net-node.p12'"
    node_ok "$C/deb4/$NODE_SUB" alpha "our p12, Debian node4"
fi

###########################################################################
quick_start_test() {
    echo "# D: node -Q quick start, ssh/scp replaced by local namespaces"
    # Each host H is a directory $T/d/H with etc (-> /etc/corosync) and tmp (-> /tmp).
    D=$T/d
    mkdir -p "$T/bin"
    # The tools are copied, not linked: inside a fake host /tmp is another
    # directory, and the checkout may well live under /tmp.  -Q runs the node
    # tool remotely under its own path ($0), so it runs from /etc/corosync/.bin
    # here too (host "local").
    # The second node is named by an IPv6 literal.
    for h in qn n1 fd00::2 local; do
        mkdir -p "$D/$h/etc/.bin" "$D/$h/tmp"
        cp "$Q" "$D/$h/etc/.bin/qnetd-certutil"
        cp "$N" "$D/$h/etc/.bin/qdevice-net-certutil"
    done
    QL=/etc/corosync/.bin/qdevice-net-certutil
    mkdir -p "$T/bin"
    cat >"$T/bin/local_n" <<EOF
#!/bin/bash
exec unshare -m bash -c 'mount --bind "\$1" /etc/corosync && shift && exec "\$@"' _ "$D/local/etc" "\$@"
EOF
    chmod +x "$T/bin/local_n"
    cat >"$T/bin/ssh" <<EOF
#!/bin/bash
h=\${1#root@}
shift
exec unshare -m bash -c 'mount --bind "\$1/etc" /etc/corosync &&
    mount --bind "\$1/tmp" /tmp && PATH=/etc/corosync/.bin:\$PATH && eval "\$2"' \
    _ "$D/\$h" "\$*"
EOF
    # scp: root@HOST:PATH, or root@[HOST]:PATH for an IPv6 literal, as scp wants.
    cat >"$T/bin/scp" <<EOF
#!/bin/bash
map() {
    local h p
    case \$1 in
        root@\[*\]:*) h=\${1#root@[}; h=\${h%%]*}; p=\${1#*]:} ;;
        root@*:*) h=\${1#root@}; h=\${h%%:*}; p=\${1#*:} ;;
        *:*) echo "unexpected \$1" >&2; return 1 ;;
        *) echo "\$1"; return 0 ;;
    esac
    case \$p in
        /etc/corosync/*) echo "$D/\$h/etc/\${p#/etc/corosync/}" ;;
        /tmp/*) echo "$D/\$h/tmp/\${p#/tmp/}" ;;
        *) echo "unexpected \$1" >&2; return 1 ;;
    esac
}
src=\$(map "\$1") && dst=\$(map "\$2") && cp "\$src" "\$dst"
EOF
    chmod +x "$T/bin/ssh" "$T/bin/scp"
    check "node -Q -n delta qn n1 fd00::2" \
        env PATH="$T/bin:$PATH" local_n "$QL" -Q -n delta qn n1 fd00::2
    qnetd_ok "$D/qn/etc/$QNETD_SUB" "-Q qnetd"
    node_ok "$D/n1/etc/$NODE_SUB" delta "-Q node1"
    node_ok "$D/fd00::2/etc/$NODE_SUB" delta "-Q node2 (IPv6 literal)"
    check "node -Q leaves no file in transit in any /tmp" eval \
        "[ -z \"\$(ls -A '$D/qn/tmp' '$D/n1/tmp' '$D/fd00::2/tmp' | grep -v ':\$' | grep .)\" ]"
    check "node -Q refuses initialized nodes" \
        rc_is 1 env PATH="$T/bin:$PATH" local_n "$QL" -Q -n delta qn n1 fd00::2
}
if [ -d /etc/corosync ]; then
    quick_start_test
else
    echo "# D skipped: /etc/corosync missing (needed as mount point)"
fi

###########################################################################
# A minimal qdevice-net client: PREINIT, STARTTLS, TLS handshake with the
# cluster certificate, INIT.  Exit 0 = INIT_REPLY without error, 3 = the
# server dropped the connection after the handshake.
write_probe() {
    cat >"$T/probe.py" <<'EOF'
import socket, ssl, struct, sys

port, cluster, client_pem, ca_file = sys.argv[1:5]

def tlv(kind, value):
    return struct.pack(">HH", kind, len(value)) + value

def u32(value):
    return struct.pack(">I", value)

def send(sock, kind, *opts):
    body = b"".join(opts)
    sock.sendall(struct.pack(">HI", kind, len(body)) + body)

def recv_exact(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("server closed the connection")
        data += chunk
    return data

def receive(sock):
    kind, size = struct.unpack(">HI", recv_exact(sock, 6))
    body, opts = recv_exact(sock, size), {}
    while body:
        otype, olen = struct.unpack(">HH", body[:4])
        opts[otype], body = body[4:4 + olen], body[4 + olen:]
    return kind, opts

sock = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
send(sock, 0, tlv(0, u32(1)), tlv(1, cluster.encode()))
kind, opts = receive(sock)
print("preinit reply", kind, "tls", opts[2][0], "cert required", opts[3][0])
send(sock, 2, tlv(0, u32(2)))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)   # verifies the server chain
ctx.check_hostname = False                      # CN "Qnetd Server" checked below
ctx.load_verify_locations(ca_file)
ctx.load_cert_chain(client_pem)
tls = ctx.wrap_socket(sock)
subject = dict(item[0] for item in tls.getpeercert()["subject"])
print(tls.version(), "server CN", subject["commonName"])
if subject["commonName"] != "Qnetd Server":
    sys.exit(4)
send(tls, 3, tlv(0, u32(3)), tlv(9, u32(1)), tlv(11, struct.pack(">H", 1)),
     tlv(12, u32(10000)), tlv(21, b"\x01" + u32(0)),
     tlv(13, u32(1) + struct.pack(">Q", 1)))
try:
    kind, opts = receive(tls)
except (EOFError, ssl.SSLError, ConnectionError) as err:
    print("dropped:", err)
    sys.exit(3)
print("init reply", kind, "error code", struct.unpack(">H", opts[6])[0])
sys.exit(0 if kind == 4 and opts[6] == b"\0\0" else 4)
EOF
}

# start_qnetd DB [DAEMON]: Debian's daemon (or DAEMON) on 127.0.0.1:$PORT
# using database DB
start_qnetd() {
    PORT=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${2:-corosync-qnetd}" -f -s on -c on -l 127.0.0.1 -p "$PORT" \
        -S "nss_db_dir=$1,lock_file=$T/qnetd.pid,local_socket_file=$T/qnetd.sock" \
        >>"$T/qnetd.log" 2>&1 &
    QNETD_PID=$!
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        kill -0 "$QNETD_PID" || break
        sleep 0.1
    done
    cat "$T/qnetd.log"
    return 1
}

stop_qnetd() {
    kill "$QNETD_PID"
    wait "$QNETD_PID" || true
    QNETD_PID=""
}

probe() {
    python3 "$T/probe.py" "$PORT" "$1" "$2" "$3"
}

# client_pem P12 PEM: the cluster certificate and key for OpenSSL
client_pem() {
    openssl pkcs12 -in "$1" -passin pass: -nodes -clcerts -out "$2"
}

tls_test() {
    echo "# E: TLS through Debian's corosync-qnetd with these databases"
    write_probe
    check "p12 files convert to PEM" eval \
        "client_pem '$A/n1/qdevice-net-node.p12' '$T/alpha.pem' &&
         client_pem '$B/n1/qdevice-net-node.p12' '$T/beta.pem'"
    check "qnetd starts on our database" start_qnetd "$A/q"
    check "our DB: cluster alpha cert, INIT accepted" \
        probe alpha "$T/alpha.pem" "$A/q/qnetd-cacert.crt"
    check "our DB: alpha cert for cluster 'other' dropped" \
        rc_is 3 probe other "$T/alpha.pem" "$A/q/qnetd-cacert.crt"
    check "our DB: cert of another CA refused" \
        eval "! probe beta '$T/beta.pem' '$A/q/qnetd-cacert.crt'"
    stop_qnetd
    check "qnetd starts on Debian's database" start_qnetd "$B/deb/$QNETD_SUB"
    check "Debian DB: beta cert from our node tool, INIT accepted" \
        probe beta "$T/beta.pem" "$QB/qnetd-cacert.crt"
    stop_qnetd
}
if [ "$DEBIAN" = yes ] && command -v corosync-qnetd >/dev/null &&
    command -v python3 >/dev/null; then
    tls_test
else
    echo "# E skipped: needs corosync-qnetd, python3 and parts B/C"
fi

###########################################################################
# cert_pem DB NICK: the certificate in PEM (identical PEM = identical cert)
cert_pem() {
    certutil -L -d "$1" -n "$2" -a
}

# key_ids DB: the private keys (algorithm, key id, nickname), sorted
key_ids() {
    certutil -K -d "$1" -f "$1/pwdfile.txt" | sed -n 's/^<[ 0-9]*> *//p' | sort
}

# sha256 DB NICK: the certificate's SHA-256 fingerprint as certutil shows it
sha256() {
    certutil -L -d "$1" -n "$2" | sed -n '/Fingerprint (SHA-256):/{n;s/^ *//;p;q}'
}

same_identity() {
    local a=$1 b=$2 nick
    for nick in "QNet CA" "QNetd Cert"; do
        echo "$nick: $(sha256 "$a" "$nick") / $(sha256 "$b" "$nick")"
        [ -n "$(sha256 "$a" "$nick")" ] || return 1
        same <(cert_pem "$a" "$nick") <(cert_pem "$b" "$nick") || return 1
    done
    key_ids "$b"
    same <(key_ids "$a") <(key_ids "$b") &&
        key_ids "$b" | grep -F "QNetd Cert" && key_ids "$b" | grep -F "QNet CA"
}

# tar_of DIR FILE...: an archive of FILE... (relative to DIR) with given names
evil_tar() {
    python3 - "$1" <<'PYEOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"x"
    info = tarfile.TarInfo("../escaped")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PYEOF
}

export_test() {
    echo "# F: export / import of the arbiter identity (-e / -I)"
    local F=$T/f exp=$T/f/arbiter.tar
    mkdir -p "$F"
    check "qnetd -e" run "$T/f-e" "$Q" -d "$A/q" -e "$exp"
    check "qnetd -e: archive mode 0600" mode_is "$exp" 600
    check "qnetd -e: tar of the database files" eval \
        "tar -tf '$exp' | sort | tr '\n' ' ' | grep -x 'cert9.db cluster-alpha.crt .*key4.db noise.txt pkcs11.txt pwdfile.txt qnetd-cacert.crt serial.txt '"
    check "qnetd -e: no database -> 1" rc_is 1 "$Q" -d "$T/nodb" -e "$F/none.tar"
    check "qnetd -I into a new directory" run "$T/f-I" "$Q" -d "$F/standby" -I "$exp"
    check "qnetd -I: imported line" line_in "$T/f-I" "QNetd database imported into $F/standby"
    check "imported: same CA and server certificate (fingerprints, PEM) and keys" \
        same_identity "$A/q" "$F/standby"
    qnetd_trust_ok() {
        trust "$1" "QNet CA" "CTu,u,u" && trust "$1" "QNetd Cert" "u,u,u" &&
            valid "$1" "QNetd Cert" V
    }
    check "imported: trust flags kept, server certificate valid" qnetd_trust_ok "$F/standby"
    check "imported: dir 0770, database 0660, CA export 0644" eval \
        "mode_is '$F/standby' 770 && mode_is '$F/standby/key4.db' 660 &&
         mode_is '$F/standby/qnetd-cacert.crt' 644"
    next_serial_is() {
        local want
        want=$(printf 'serial=%02X' $(($(cat "$A/q/serial.txt") + 1)))
        "$Q" -d "$F/standby" -s -c "$A/n1/qdevice-net-node.crq" -n epsilon &&
            der_crt_serial "$F/standby/cluster-epsilon.crt" | tee /dev/stderr | grep -x "$want"
    }
    check "imported: serial.txt carried on, the next signing continues it" next_serial_is
    check "qnetd -I over an existing database -> 1, database unchanged" eval \
        "cp '$F/standby/serial.txt' '$T/f-serial' &&
         rc_is 1 '$Q' -d '$F/standby' -I '$exp' && same '$T/f-serial' '$F/standby/serial.txt'"
    check "qnetd -I -f replaces it (old one kept aside), from standard input" eval \
        "'$Q' -d '$F/standby' -f -I - <'$exp' >'$T/f-If' &&
         grep -q '^Previous database kept in $F/standby.replaced.' '$T/f-If' &&
         ! [ -e '$F/standby/cluster-epsilon.crt' ] && same_identity '$A/q' '$F/standby'"
    check "qnetd -e - | qnetd -I -: a pipe (as over ssh) works" eval \
        "'$Q' -d '$A/q' -e - | '$Q' -d '$F/piped' -I - && same_identity '$A/q' '$F/piped'"
    check "qnetd -I of a file that is no archive -> 1" \
        rc_is 1 "$Q" -d "$F/bad1" -I "$A/q/serial.txt"
    check "qnetd -I of an archive with ../ names -> 1, nothing written" eval \
        "evil_tar '$F/evil.tar' && rc_is 1 '$Q' -d '$F/bad2' -I '$F/evil.tar' &&
         { '$Q' -d '$F/bad2' -I '$F/evil.tar' 2>&1 || true; } | grep -x '.* holds a file name with a path' &&
         ! [ -e '$F/escaped' ] && ! [ -e '$F/bad2' ]"
    check "qnetd -I of an archive without the server key -> 1" eval \
        "mkdir -p '$F/nokey' && (cd '$F/nokey' && tar -xf '$exp' && rm key4.db &&
         certutil -N -d . --empty-password && tar -cf '$F/nokey.tar' ./*) &&
         { '$Q' -d '$F/bad3' -I '$F/nokey.tar' 2>&1 || true; } |
         grep -x '.* lacks the private key of \"QNetd Cert\"' &&
         rc_is 1 '$Q' -d '$F/bad3' -I '$F/nokey.tar'"
    check "qnetd -I: missing archive -> 2" rc_is 2 "$Q" -d "$F/bad4" -I "$F/none.tar"

    # The proof that nodes keep trusting the arbiter after a failover: our
    # qnetd on the imported database accepts cluster alpha's certificate,
    # which the original host signed, and presents the same server certificate.
    [ -f "$T/probe.py" ] || write_probe
    check "alpha p12 to PEM" client_pem "$A/n1/qdevice-net-node.p12" "$T/alpha-f.pem"
    check "our qnetd starts on the imported database" \
        start_qnetd "$F/piped" "$QNET_QNETD"
    check "imported DB: alpha certificate from the original CA, INIT accepted" \
        probe alpha "$T/alpha-f.pem" "$A/q/qnetd-cacert.crt"
    check "imported DB: alpha certificate for cluster 'other' dropped" \
        rc_is 3 probe other "$T/alpha-f.pem" "$A/q/qnetd-cacert.crt"
    stop_qnetd
}
QNET_QNETD=${QNET_BUILD:-$TOP/build}/qnetd/qnetd
if [ -x "$QNET_QNETD" ] && command -v python3 >/dev/null; then
    export_test
else
    echo "# F skipped: needs $QNET_QNETD (QNET_BUILD) and python3"
fi

tests_summary
