"""tests/lib/qnetwire.py: the qnet wire format (docs/protocol.md section 1) for every
Python test helper: message and option numbers, TLV encoders, the client and server
messages the helpers send, a lenient option parser, a blocking reader and a TLS
client wrap. Standard library only.

Scripts find it with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
"""
import socket
import ssl
import struct
import time

# ---- numbers (docs/protocol.md 1.5, 1.6) ----------------------------------------------

PREINIT, PREINIT_REPLY, STARTTLS, INIT, INIT_REPLY, SERVER_ERROR = 0, 1, 2, 3, 4, 5
SET_OPTION, SET_OPTION_REPLY, ECHO_REQUEST, ECHO_REPLY = 6, 7, 8, 9
NODE_LIST, NODE_LIST_REPLY, ASK_FOR_VOTE, ASK_FOR_VOTE_REPLY = 10, 11, 12, 13
VOTE_INFO, VOTE_INFO_REPLY, HEURISTICS_CHANGE, HEURISTICS_CHANGE_REPLY = 14, 15, 16, 17

OPT_SEQ, OPT_CLUSTER_NAME, OPT_TLS_SUPPORTED, OPT_TLS_CERT_REQUIRED = 0, 1, 2, 3
OPT_SUPPORTED_MESSAGES, OPT_SUPPORTED_OPTIONS, OPT_REPLY_ERROR_CODE = 4, 5, 6
OPT_MAX_REQUEST, OPT_MAX_REPLY, OPT_NODE_ID, OPT_ALGORITHMS = 7, 8, 9, 10
OPT_ALGORITHM, OPT_HEARTBEAT, OPT_RING_ID, OPT_CONFIG_VERSION = 11, 12, 13, 14
OPT_NODE_INFO, OPT_NODE_LIST_TYPE, OPT_VOTE, OPT_QUORATE = 17, 18, 19, 20
OPT_TIE_BREAKER, OPT_HEURISTICS, OPT_KAP = 21, 22, 23
OPT_ERROR = OPT_REPLY_ERROR_CODE

ALGO_FFSPLIT, ALGO_LMS = 1, 3
TB_LOWEST, TB_HIGHEST = 1, 2
VOTE_ACK, VOTE_NACK, VOTE_ASK_LATER, VOTE_WAIT, VOTE_NO_CHANGE = 1, 2, 3, 4, 5
LIST_INITIAL, LIST_CHANGED, LIST_MEMBERSHIP, LIST_QUORUM = 0, 1, 2, 3
LIST_INITIAL_CONFIG = LIST_INITIAL
HEUR_PASS, HEUR_FAIL = 1, 2
MAX_MSG = 32768

MSG_NAMES = ["Preinit", "Preinit reply", "StartTLS", "Init", "Init reply",
             "Server error", "Set option", "Set option reply", "Echo request",
             "Echo reply", "Node list", "Node list reply", "Ask for vote",
             "Ask for vote reply", "Vote info", "Vote info reply",
             "Heuristics change", "Heuristics change reply"]


def name(mtype):
    return MSG_NAMES[mtype] if mtype < len(MSG_NAMES) else "type %d" % mtype


# ---- encoders ---------------------------------------------------------------------------

def tlv(opt, value):
    return struct.pack(">HH", opt, len(value)) + value


def u8(opt, v):
    return tlv(opt, struct.pack(">B", v))


def u16(opt, v):
    return tlv(opt, struct.pack(">H", v))


def u32(opt, v):
    return tlv(opt, struct.pack(">I", v))


def u16_array(opt, values):
    return tlv(opt, b"".join(struct.pack(">H", v) for v in values))


def message(mtype, *options, length=None):
    """A message of MTYPE; LENGTH, when given, is the (false) length announced."""
    body = b"".join(options)
    return struct.pack(">HI", mtype, len(body) if length is None else length) + body


msg = message


def echo_request(seq):
    """What a client sends every heartbeat interval to stay alive (dead-peer detection)."""
    return message(ECHO_REQUEST, u32(OPT_SEQ, seq))


def ring_tlv(ring):
    return tlv(OPT_RING_ID, struct.pack(">IQ", ring[0], ring[1]))


def node_info(node):
    return tlv(OPT_NODE_INFO, u32(OPT_NODE_ID, node))


# ---- what a client sends ----------------------------------------------------------------

def preinit(seq, cluster):
    """PREINIT naming CLUSTER (str or bytes: hostile names are bytes)."""
    cluster_name = cluster.encode() if isinstance(cluster, str) else cluster
    return message(PREINIT, u32(OPT_SEQ, seq), tlv(OPT_CLUSTER_NAME, cluster_name))


def init(seq, node, algorithm=ALGO_FFSPLIT, tie_breaker=TB_LOWEST, hb=8000, ring=None):
    """INIT of NODE; the ring id is (NODE, 8) unless RING is given."""
    return message(INIT, u32(OPT_SEQ, seq), u32(OPT_NODE_ID, node),
                   u16(OPT_ALGORITHM, algorithm), u32(OPT_HEARTBEAT, hb),
                   tlv(OPT_TIE_BREAKER, struct.pack(">BI", tie_breaker, 0)),
                   ring_tlv(ring or (node, 8)))


def node_list(seq, list_type, ids, ring=None, heuristics=None, config_version=None,
              quorate=None):
    """NODE_LIST with one NODE_INFO per id, in the given order."""
    opts = [u32(OPT_SEQ, seq), u8(OPT_NODE_LIST_TYPE, list_type)]
    if ring is not None:
        opts.append(ring_tlv(ring))
    if config_version is not None:
        opts.append(tlv(OPT_CONFIG_VERSION, struct.pack(">Q", config_version)))
    if quorate is not None:
        opts.append(u8(OPT_QUORATE, quorate))
    opts.extend(node_info(i) for i in ids)
    if heuristics is not None:
        opts.append(u8(OPT_HEURISTICS, heuristics))
    return message(NODE_LIST, *opts)


def seq_only(mtype, seq):
    return message(mtype, u32(OPT_SEQ, seq))


def heuristics_change(seq, heuristics):
    return message(HEURISTICS_CHANGE, u32(OPT_SEQ, seq), u8(OPT_HEURISTICS, heuristics))


# ---- what a server sends ----------------------------------------------------------------

def preinit_reply(seq, tls=1, cert_required=1):
    opts = [] if seq is None else [u32(OPT_SEQ, seq)]
    opts += [u8(OPT_TLS_SUPPORTED, tls), u8(OPT_TLS_CERT_REQUIRED, cert_required)]
    return message(PREINIT_REPLY, *opts)


def init_reply(seq, code=0, max_request=MAX_MSG, max_reply=MAX_MSG, skip=()):
    """INIT_REPLY as upstream qnetd sends it; options named in SKIP left out."""
    parts = [
        (OPT_ERROR, u16(OPT_ERROR, code)),
        (OPT_SUPPORTED_MESSAGES, u16_array(OPT_SUPPORTED_MESSAGES, range(18))),
        (OPT_SUPPORTED_OPTIONS, u16_array(OPT_SUPPORTED_OPTIONS, range(24))),
        (OPT_SEQ, u32(OPT_SEQ, seq) if seq is not None else b""),
        (OPT_MAX_REQUEST, u32(OPT_MAX_REQUEST, max_request)),
        (OPT_MAX_REPLY, u32(OPT_MAX_REPLY, max_reply)),
        (OPT_ALGORITHMS, u16_array(OPT_ALGORITHMS, [0, 1, 2, 3])),
    ]
    return message(INIT_REPLY, *[b for o, b in parts if o not in skip])


# ---- decoding -----------------------------------------------------------------------------

def options(body):
    """opt -> every value it had, in order; a truncated last option is dropped."""
    opts = {}
    pos = 0
    while len(body) - pos >= 4:
        opt, length = struct.unpack_from(">HH", body, pos)
        if len(body) - pos - 4 < length:
            break
        opts.setdefault(opt, []).append(body[pos + 4:pos + 4 + length])
        pos += 4 + length
    return opts


class Message:
    """A received message: .type, .body, .all (opt -> values), .opts (opt -> last value)."""

    def __init__(self, mtype, body):
        self.type = mtype
        self.body = body
        self.all = options(body)
        self.opts = {opt: values[-1] for opt, values in self.all.items()}

    def u(self, opt, default=None):
        v = self.opts.get(opt)
        return default if v is None else int.from_bytes(v, "big")

    def raw(self, opt):
        return self.opts.get(opt)

    def __str__(self):
        s = name(self.type)
        if OPT_SEQ in self.opts:
            s += " seq %d" % self.u(OPT_SEQ)
        if OPT_REPLY_ERROR_CODE in self.opts:
            s += " code %d" % self.u(OPT_REPLY_ERROR_CODE)
        return s


def opt_u(opts, opt):
    """An option's value as an unsigned integer, None when it is absent."""
    v = opts.get(opt)
    return None if v is None else int.from_bytes(v, "big")


def recv_exact(sock, n):
    """N bytes from SOCK, or None when it closes first."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_msg(sock):
    """(type, opt -> first value) of the next message, None when SOCK closed."""
    hdr = recv_exact(sock, 6)
    if hdr is None:
        return None
    mtype, length = struct.unpack(">HI", hdr)
    body = recv_exact(sock, length)
    if body is None:
        return None
    return mtype, {opt: values[0] for opt, values in options(body).items()}


def handshake(sock, cluster, node, hb=8000):
    """PREINIT and INIT over SOCK (plaintext); returns INIT_REPLY's error code,
    or None when the server closed or answered something else."""
    sock.sendall(preinit(1, cluster) + init(2, node, hb=hb))
    for want in (PREINIT_REPLY, INIT_REPLY):
        m = read_msg(sock)
        if m is None or m[0] != want:
            return None
    return opt_u(m[1], OPT_REPLY_ERROR_CODE)


class Closed(Exception):
    """The server closed (or reset) the connection."""


class Conn:
    """A client connection that reads whole messages and checks replies."""

    def __init__(self, host, port, timeout=5.0, connect_timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        self.sock.settimeout(timeout)

    def send(self, data):
        self.sock.sendall(data)

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
                raise Closed(repr(e))
            if not chunk:
                raise Closed("EOF")
            buf += chunk
        return buf

    def read(self):
        """The next message; Closed when the server is gone, socket.timeout if silent."""
        hdr = self._exact(6)
        mtype, length = struct.unpack(">HI", hdr)
        if length > 16 * 1024 * 1024:
            raise AssertionError("server sent a length of %d" % length)
        return Message(mtype, self._exact(length))

    def expect(self, mtype, **want):
        """The next message, which must be of MTYPE and carry the seq, code or tls values
        WANT names; a value of None says the reply must not carry that option."""
        r = self.read()
        if r.type != mtype:
            raise AssertionError("want %s, got %s" % (name(mtype), r))
        for key, value in want.items():
            opt = {"seq": OPT_SEQ, "code": OPT_REPLY_ERROR_CODE, "tls": OPT_TLS_SUPPORTED}[key]
            got = r.u(opt)
            if got != value:
                raise AssertionError("%s: want %s %s, got %s" % (r, key, value, got))
        print("# got %s" % r)
        return r

    def dropped(self, within=5.0):
        """True if the server closes the connection within `within` s without a qnet reply.

        Bytes before the close are fine unless they start a qnet message: after
        STARTTLS the server may well send a TLS alert first."""
        deadline = time.monotonic() + within
        got = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                print("# server still holds the connection after %.1f s" % within)
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
                print("# server dropped the connection (%r) after %d bytes" % (e, len(got)))
                return True
            if not chunk:
                print("# server closed the connection after %d bytes%s" % (
                    len(got), " (a TLS alert)" if got[:1] == b"\x15" else ""))
                return True
            if not got and len(chunk) >= 6:
                mtype, length = struct.unpack_from(">HI", chunk)
                if mtype < len(MSG_NAMES) and length <= MAX_MSG:
                    print("# server answered %s instead of dropping us" % name(mtype))
                    return False
            got += chunk

    def starttls(self, seq, certfile=None):
        """PREINIT was answered: send STARTTLS and wrap the socket (we are the TLS client)."""
        self.send(message(STARTTLS, u32(OPT_SEQ, seq)))
        self.sock = tls_wrap(self.sock, certfile)
        print("# TLS %s established, client certificate: %s"
              % (self.sock.version(), certfile or "none"))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- TLS ------------------------------------------------------------------------------------

def tls_wrap(sock, certfile=None, keyfile=None):
    """SOCK as the TLS client after STARTTLS. The server's certificate is not
    judged: the tests check the server's side of the handshake."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    return ctx.wrap_socket(sock, server_hostname=None)


def connect(host, port, timeout=10.0, source=None):
    """A TCP connection to HOST:PORT, from address SOURCE when given."""
    return socket.create_connection((host, port), timeout=timeout,
                                    source_address=(source, 0) if source else None)


def run_case(cases, args, errors=()):
    """Run cases[args.case](args) and print "OK: <what it returned>", or "FAIL: <case>:
    <error>" when it raised an AssertionError, Closed, OSError, ssl.SSLError or one of
    ERRORS; the exit status (0 or 1)."""
    try:
        what = cases[args.case](args)
    except (AssertionError, Closed, OSError, ssl.SSLError) + tuple(errors) as e:
        print("FAIL: %s: %s" % (args.case, e))
        return 1
    print("OK: %s" % what)
    return 0
