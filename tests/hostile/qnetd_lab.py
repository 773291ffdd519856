#!/usr/bin/env python3
"""tests/hostile/qnetd_lab.py: a throwaway qnetd on loopback for the repro scripts.

Shared by pipeline_flood.py and hook_churn.py (standard library only): a free port,
lock and admin socket files in a temporary directory, `qnetd -f -s off`, waits until
the port answers, and stops it (SIGTERM, then SIGKILL) when done.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Qnetd:
    """`with Qnetd(path, extra_settings) as q:` q.port, q.dir, q.sock, q.pid, q.log."""

    def __init__(self, binary, settings=""):
        self.binary = binary
        self.settings = settings
        self.dir = tempfile.mkdtemp(prefix="qnetd-lab.")
        self.port = free_port()
        self.sock = os.path.join(self.dir, "q.sock")
        self.log = os.path.join(self.dir, "qnetd.log")
        self.proc = None

    def __enter__(self):
        adv = "lock_file=%s,local_socket_file=%s" % (os.path.join(self.dir, "q.pid"), self.sock)
        if self.settings:
            adv += "," + self.settings
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([self.binary, "-f", "-s", "off", "-l", "127.0.0.1",
                                          "-p", str(self.port), "-S", adv],
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("qnetd exited with %d; log: %s" % (self.proc.returncode, self.log))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("qnetd does not listen on port %d" % self.port)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def __exit__(self, *exc):
        self.stop()
        if os.environ.get("LAB_KEEP"):
            print("# kept %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False
