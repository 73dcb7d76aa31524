"""The local cluster: no ZooKeeper, no Aurora. State in Heron's local
files, the localfs uploader, containers run as local processes by the
local scheduler (with the stand-in Heron core, whose executor plays the
TManager in LOCALMODE)."""
import os
import signal
import subprocess
import tarfile
import time

import pytest

import packages
from mount_fixtures import make_cluster, wait_for
from rig import heron_state as hs


def bash(cmd):
    return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                          timeout=120)


def executors(workdir):
    """PIDs of processes whose working directory is workdir."""
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink("/proc/%s/cwd" % p) == workdir:
                    pids.append(int(p))
            except OSError:
                pass
    return sorted(pids)


class Local:
    def __init__(self, tmp, config_path, heron_core, mount_factory):
        self.tmp = tmp
        self.state = str(tmp / "state")
        self.work = str(tmp / "work")
        dist = tmp / "dist"
        dist.mkdir()
        with tarfile.open(heron_core) as t:
            t.extractall(dist)
        make_cluster(config_path, "local", template="local", **{
            "statemgr.yaml": {"heron.statemgr.root.path": self.state},
            "uploader.yaml": {"heron.uploader.localfs.file.system.directory":
                              str(tmp / "repo") + "/${TOPOLOGY}"},
            "scheduler.yaml": {
                "heron.scheduler.local.working.directory":
                    self.work + "/${TOPOLOGY}",
                "heron.package.core.directory": str(dist / "heron-core")},
            "heronfs.yaml": {"heronfs.local.registry.directory":
                             str(tmp / "registry")},
        })
        self.config_path = config_path
        self.mount_factory = mount_factory

    def mount(self):
        m = self.mount_factory(self.config_path,
                               ["spool_dir=" + str(self.tmp / "spool")])
        m.topologies = m.path("local", "topologies")
        return m


@pytest.fixture
def local(tmp_path, config_path, heron_core, mount_factory):
    lc = Local(tmp_path, config_path, heron_core, mount_factory)
    yield lc
    # Executors outlive the daemon by design: stop whatever a failed test
    # left running in this test's directories.
    for d in os.listdir(lc.work) if os.path.isdir(lc.work) else []:
        for pid in executors(os.path.join(lc.work, d)):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass


def test_local_cluster_end_to_end(local):
    m = local.mount()
    pkg = str(local.tmp / "Local.tar.gz")
    packages.build(pkg, "Local", stmgrs=2, spouts={"word": 2},
                   bolts={"exclaim": 2})
    r = subprocess.run(["cp", pkg, m.topologies + "/"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr + m.output()
    d = os.path.join(m.topologies, "Local")
    workdir = os.path.join(local.work, "Local")
    assert wait_for(lambda: open(os.path.join(d, "state")).read() ==
                    "running\n", 30), m.output()
    # Heron's local state files, decoded as Heron writes them.
    assert hs.read("LOCALMODE", local.state, "executionstate",
                   "Local").cluster == "local"
    assert len(executors(workdir)) == 3
    cdir = os.path.join(d, "containers")
    assert sorted(os.listdir(cdir)) == ["0", "1", "2"]
    assert all(open(os.path.join(cdir, i, "state")).read() == "running\n"
               for i in "012")
    # Control works the same as on Aurora.
    assert bash("echo deactivate > %s/control" % d).returncode == 0
    assert open(os.path.join(d, "state")).read() == "paused\n"
    assert bash("echo activate > %s/control" % d).returncode == 0
    assert open(os.path.join(d, "state")).read() == "running\n"

    # A container whose executor dies is started again.
    events = lambda: open(os.path.join(cdir, "2", "events")).read()
    victim = [p for p in executors(workdir)
              if b"--shard=2" in open("/proc/%d/cmdline" % p, "rb").read()]
    assert len(victim) == 1
    os.kill(victim[0], signal.SIGKILL)
    last_word = lambda: events().splitlines()[-1].split()[1]
    assert wait_for(lambda: "failed" in events() and
                    last_word() == "running", 20), events()
    assert wait_for(lambda: len(executors(workdir)) == 3, 20)

    # A daemon restart finds the executors again: no orphans, no duplicates.
    before = executors(workdir)
    m.stop()
    assert executors(workdir) == before
    m2 = local.mount()
    assert sorted(os.listdir(os.path.join(m2.topologies, "Local",
                                          "containers"))) == ["0", "1", "2"]
    time.sleep(1.5)
    assert executors(workdir) == before
    assert open(os.path.join(m2.topologies, "Local", "state")).read() == \
        "running\n"

    # Kill stops every process and removes the state.
    os.rmdir(os.path.join(m2.topologies, "Local"))
    assert wait_for(lambda: executors(workdir) == [], 10)
    assert os.listdir(m2.topologies) == []
    for d_ in hs.state_dirs():
        path = os.path.join(local.state, d_, "Local")
        assert not os.path.exists(path) or os.path.getsize(path) == 0, path
