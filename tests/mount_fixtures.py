"""Fixtures that build Heron conf directories and mount heronfs.

A mount runs the real daemon in the foreground (`-f`) on a temporary mount
point; tests then use real shell commands against it. Set HERONFS_WRAPPER
(e.g. "valgrind -q --error-exitcode=99 --leak-check=full") to run the
daemon under a checker; the unmount then asserts the daemon's exit status.
"""
import os
import shlex
import shutil
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("HERONFS_SOURCE_DIR", os.path.dirname(HERE))
TEMPLATES = os.path.join(SOURCE_DIR, "conf", "templates")


def heronfs_bin():
    path = os.environ.get("HERONFS_BIN")
    if path:
        return path
    for cand in ("build/fs/heronfs", "build-lead/fs/heronfs"):
        full = os.path.join(SOURCE_DIR, cand)
        if os.path.exists(full):
            return full
    pytest.fail("heronfs binary not found: set HERONFS_BIN or build into build/")


def write_yaml(path, mapping):
    """Writes a flat Heron-style YAML file (key: value per line)."""
    with open(path, "w") as f:
        for key, value in mapping.items():
            if isinstance(value, bool):
                value = "True" if value else "False"
            f.write("%s: %s\n" % (key, value))


def make_cluster(config_path, name, template="aurora", **files):
    """Creates <config_path>/<name> from a shipped template, then writes or
    overrides keys: files maps a yaml file name (e.g. "statemgr.yaml") to a
    dict of keys; a value None deletes the key."""
    cdir = os.path.join(config_path, name)
    shutil.copytree(os.path.join(TEMPLATES, template), cdir)
    for fname, keys in files.items():
        path = os.path.join(cdir, fname)
        current = {}
        if os.path.exists(path):
            current = read_flat_yaml(path)
        for k, v in keys.items():
            if v is None:
                current.pop(k, None)
            else:
                current[k] = v
        write_yaml(path, current)
    return cdir


def read_flat_yaml(path):
    """Reads the key: value lines of a flat yaml file (comments dropped)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].rstrip()
            if not line or line.startswith(" ") or ":" not in line:
                continue
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def zk_cluster(config_path, name, zk_hosts, root="/heron", **extra):
    """A cluster using ZooKeeper at zk_hosts under root."""
    files = {"statemgr.yaml": {
        "heron.class.state.manager":
            "org.apache.heron.statemgr.zookeeper.curator.CuratorStateManager",
        "heron.statemgr.connection.string": zk_hosts,
        "heron.statemgr.root.path": root,
        "heron.statemgr.zookeeper.session.timeout.ms": 4000,
        "heron.statemgr.zookeeper.connection.timeout.ms": 4000,
    }}
    for fname, keys in extra.items():
        files.setdefault(fname, {}).update(keys)
    return make_cluster(config_path, name, **files)


def wait_for(fn, timeout=10.0, interval=0.05):
    """Polls fn until it returns a true value; returns it, or the last
    value after timeout (seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Mount:
    """One running heronfs daemon."""

    def __init__(self, tmp, config_path, options=(), env=None):
        self.tmp = tmp
        self.config_path = config_path
        self.mnt = os.path.join(tmp, "mnt%d" % id(self))
        os.makedirs(self.mnt)
        self.log_path = os.path.join(tmp, "heronfs-%d.log" % id(self))
        opts = ["config_path=" + config_path] + list(options)
        wrapper = shlex.split(os.environ.get("HERONFS_WRAPPER", ""))
        self.argv = wrapper + [heronfs_bin(), "-f", "-o", ",".join(opts),
                               self.mnt]
        self.env = dict(os.environ if env is None else env)
        self.proc = None

    def start(self, timeout=30):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None:
                raise AssertionError("heronfs exited with %d:\n%s" %
                                     (self.proc.returncode, self.output()))
            if time.monotonic() > deadline:
                raise AssertionError("heronfs did not mount:\n" +
                                     self.output())
            time.sleep(0.05)
        return self

    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def read(self, *parts):
        with open(self.path(*parts)) as f:
            return f.read()

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, check=True):
        """Unmounts and waits for the daemon; asserts a clean exit."""
        if self.proc is None:
            return
        if os.path.ismount(self.mnt):
            subprocess.run(["fusermount3", "-u", "-z", self.mnt], check=False)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            check and pytest.fail("heronfs did not exit after unmount:\n" +
                                  self.output())
        self.proc = None
        self.log.close()
        if check:
            assert rc == 0, "heronfs exited %d:\n%s" % (rc, self.output())

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.log.close()
        subprocess.run(["fusermount3", "-u", "-z", self.mnt], check=False,
                       stderr=subprocess.DEVNULL)


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "conf"
    path.mkdir()
    return str(path)


@pytest.fixture
def mount_factory(tmp_path, request):
    """mount_factory(config_path, options=(), env=None) -> started Mount.
    Every mount is unmounted at the end of the test, and its daemon must
    exit 0; on failure the daemon's log is printed."""
    mounts = []

    def factory(config_path, options=(), env=None, start=True):
        m = Mount(str(tmp_path), config_path, options, env)
        mounts.append(m)
        return m.start() if start else m

    yield factory
    failed = getattr(request.node, "rep_call", None)
    for m in mounts:
        if failed is not None and failed.failed:
            print("---- heronfs log (%s) ----\n%s" % (m.mnt, m.output()))
    for m in mounts:
        m.stop()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
