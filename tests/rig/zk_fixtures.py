"""pytest plugin: a real ZooKeeper server on loopback, and the stand-in Heron core.

Fixtures:
  zk          (function scope) a fresh ZooKeeper server for one test
  zk_session  (session scope) one server shared by the session; tests must
              use their own root znode (e.g. the test's name)
  heron_core  (session scope) path of a built heron-core.tar.gz (core.py)

A server is Debian's ZooKeeper (ZooKeeperServerMain) with its data directory
and log in a temporary directory, on a port the kernel picked. The log path is
printed at setup, so pytest shows it with a failing test's captured output.
"""
import os
import signal
import socket
import subprocess
import time

import pytest

from . import core

ZK_JARS = ["/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-simple.jar"]
START_TIMEOUT = 30.0


def _pick_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter_word(port, word, timeout=2.0):
    """Sends a ZooKeeper four-letter word; returns the reply text."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                return b"".join(chunks).decode()
            chunks.append(data)


class ZkServer:
    """A standalone ZooKeeper server in directory `base`.

    .hosts   "127.0.0.1:PORT"         .port   the client port
    .client  a connected kazoo client (created on first use, reconnects
             by itself across stop()/start())
    .log     the server log file
    .start() starts (again) with the same data directory and port
    .stop()  SIGTERM, then wait
    .mntr() / .srvr()  the four-letter words, parsed into a dict / as text
    .close() stops the client and the server (the fixture calls it)
    """

    def __init__(self, base):
        self.base = os.fspath(base)
        self.data_dir = os.path.join(self.base, "data")
        self.cfg = os.path.join(self.base, "zoo.cfg")
        self.log = os.path.join(self.base, "zookeeper.log")
        self.port = None
        self.proc = None
        self._client = None

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.port

    def _write_cfg(self):
        os.makedirs(self.data_dir, exist_ok=True)
        with open(self.cfg, "w") as f:
            f.write("tickTime=500\n"
                    "dataDir=%s\n"
                    "clientPort=%d\n"
                    "clientPortAddress=127.0.0.1\n"
                    "maxClientCnxns=0\n"
                    "admin.enableServer=false\n"
                    "4lw.commands.whitelist=*\n"
                    "forceSync=no\n" % (self.data_dir, self.port))

    def _ready(self):
        """ruok answers imok as soon as the port is open, before the server
        serves sessions; srvr shows the mode only once it does."""
        try:
            return (four_letter_word(self.port, "ruok", timeout=0.5) == "imok"
                    and "Mode: " in four_letter_word(self.port, "srvr", timeout=0.5))
        except OSError:
            return False

    def start(self, timeout=START_TIMEOUT):
        """Starts the server; the first start picks the port (retrying with
        another one if the server could not bind it)."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("ZooKeeper already running")
        attempts = 3 if self.port is None else 1
        for _ in range(attempts):
            if attempts > 1:
                self.port = _pick_port()
            self._write_cfg()
            if self._launch(timeout):
                return self
        raise RuntimeError("ZooKeeper did not start; log: %s" % self.log)

    def _launch(self, timeout):
        jars = ":".join(j for j in ZK_JARS if os.path.exists(j))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                ["java", "-Xms32m", "-Xmx128m", "-XX:+UseSerialGC", "-cp", jars,
                 "org.apache.zookeeper.server.ZooKeeperServerMain", self.cfg],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self._ready():
                return True
            time.sleep(0.05)
        self.stop()
        return False

    def stop(self, timeout=10.0):
        """SIGTERM and wait (SIGKILL after timeout). Data stays on disk."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def client(self):
        if self._client is None:
            from kazoo.client import KazooClient
            self._client = KazooClient(hosts=self.hosts, timeout=10.0)
            self._client.start(timeout=10.0)
        return self._client

    def new_client(self, timeout=10.0):
        """Another connected kazoo client (a separate session); the caller
        stops it."""
        from kazoo.client import KazooClient
        client = KazooClient(hosts=self.hosts, timeout=timeout)
        client.start(timeout=timeout)
        return client

    def mntr(self):
        """The 'mntr' four-letter word as a dict; numeric values as int."""
        out = {}
        for line in four_letter_word(self.port, "mntr").splitlines():
            key, _, value = line.partition("\t")
            try:
                out[key] = int(value)
            except ValueError:
                out[key] = value
        return out

    def srvr(self):
        """The 'srvr' four-letter word (version, latency, mode, node count)."""
        return four_letter_word(self.port, "srvr")

    def close(self):
        if self._client is not None:
            self._client.stop()
            self._client.close()
            self._client = None
        self.stop()


def _server(base):
    server = ZkServer(base).start()
    print("zookeeper: %s (log %s)" % (server.hosts, server.log))
    return server


@pytest.fixture
def zk(tmp_path):
    """A fresh ZooKeeper server for this test (see ZkServer)."""
    server = _server(tmp_path / "zookeeper")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def zk_session(tmp_path_factory):
    """One ZooKeeper server for the whole session; use a root of your own.
    Do not stop it (use `zk` for that)."""
    server = _server(tmp_path_factory.mktemp("zookeeper"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def heron_core(tmp_path_factory):
    """Path (str) of the stand-in heron-core.tar.gz (see core.py)."""
    return core.build_core_package(tmp_path_factory.mktemp("heron-core"))
