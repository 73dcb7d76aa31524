"""Submit by copy: `cp` a Heron topology package into topologies/ and it is
uploaded and launched on (emulated) Aurora, exactly as `heron submit`
would; every failure reaches cp's exit status and leaves nothing behind."""
import errno
import os
import shutil
import subprocess
import threading
import time

import pytest

import packages
from mount_fixtures import zk_cluster, wait_for
from rig import heron_state as hs

ROOT = "/heron"
ROLE = "root"
ENV = "devel"


class Env:
    """A cluster wired to ZooKeeper, the Aurora emulator and a local
    upload directory, and a way to mount heronfs on it."""

    def __init__(self, tmp_path, config_path, zk, aurora, heron_core,
                 mount_factory, **extra_keys):
        self.zk, self.aurora, self.tmp = zk, aurora, tmp_path
        self.config_path = config_path
        self.repo = str(tmp_path / "repo")
        self.spool = str(tmp_path / "spool")
        keys = {
            "scheduler.yaml": {"heron.package.core.uri": "file://" + heron_core},
            "uploader.yaml": {"heron.uploader.localfs.file.system.directory":
                              self.repo + "/${CLUSTER}/${ROLE}/${TOPOLOGY}"},
            "heronfs.yaml": {"heronfs.aurora.timeout.ms": 120000},
        }
        for f, kv in extra_keys.items():
            keys.setdefault(f, {}).update(kv)
        self.cluster_dir = zk_cluster(config_path, "devcluster", zk.hosts,
                                      ROOT, **keys)
        self.mount_factory = mount_factory

    def mount(self, options=()):
        m = self.mount_factory(self.config_path,
                               ["environ=" + ENV, "spool_dir=" + self.spool]
                               + list(options), env=self.aurora.env)
        m.topologies = m.path("devcluster", "topologies")
        return m

    def package(self, name="WordCount", **kw):
        path = str(self.tmp / (name + ".tar.gz"))
        topo = packages.build(path, name, **kw)
        return path, topo

    def nodes(self, name):
        """Which of the topology's state nodes exist."""
        return {d for d in hs.state_dirs()
                if self.zk.client.exists("%s/%s/%s" % (ROOT, d, name))}

    def uploads(self):
        out = []
        for d, _, files in os.walk(self.repo):
            out += [os.path.join(d, f) for f in files]
        return out

    def spooled(self):
        """Spool files (each daemon spools in its own subdirectory)."""
        out = []
        for d, _, files in os.walk(self.spool):
            out += [os.path.join(d, f) for f in files]
        return out

    def job_tasks(self, name):
        return self.aurora.tasks(ROLE, ENV, name)

    def assert_nothing_of(self, name):
        assert self.nodes(name) == set(), self.nodes(name)
        assert not self.zk.client.exists(ROOT + "/locks/%s__submit" % name)
        assert self.uploads() == []
        active = [t for t in self.job_tasks(name)
                  if t.status not in (self.aurora.types.ScheduleStatus.KILLED,
                                      self.aurora.types.ScheduleStatus.FAILED,
                                      self.aurora.types.ScheduleStatus.FINISHED)]
        assert active == []
        assert wait_for(lambda: self.spooled() == [], 5)


@pytest.fixture
def env(tmp_path, config_path, zk, aurora, heron_core, mount_factory):
    return Env(tmp_path, config_path, zk, aurora, heron_core, mount_factory)


def cp(src, dst):
    return subprocess.run(["cp", src, dst], capture_output=True, text=True,
                          timeout=300)


def test_cp_submits_and_launches(env):
    m = env.mount()
    pkg, topo = env.package("WordCount", spouts={"word": 2},
                            bolts={"exclaim": 2}, stmgrs=2)
    r = cp(pkg, m.topologies + "/")
    assert r.returncode == 0, r.stderr + m.output()
    # The staged copy goes when cp's file is released.
    assert wait_for(lambda: os.listdir(m.topologies) == ["WordCount"], 5)

    # Aurora runs NUM_CONTAINERS = 3 instances whose sandboxes fetched both
    # packages with curl.
    env.aurora.wait_states(ROLE, ENV, "WordCount",
                           {0: "RUNNING", 1: "RUNNING", 2: "RUNNING"})
    for t in env.job_tasks("WordCount"):
        box = env.aurora.sandbox(t)
        assert os.path.isfile(os.path.join(box, "heron-core", "bin",
                                           "heron-executor"))
        assert os.path.isfile(os.path.join(box, "WordCount.defn"))
        assert os.path.isfile(os.path.join(box, "WordCount.jar"))
        assert os.path.isdir(os.path.join(box, "heron-conf"))

    # Every node decodes as Heron writes it.
    name = "WordCount"
    stored = hs.read(env.zk.client, ROOT, "topologies", name)
    assert stored.id == topo.id and stored.name == name
    assert all(not s.comp.serialized_object for s in stored.spouts)
    plan = hs.read(env.zk.client, ROOT, "packingplans", name)
    assert plan.id == topo.id and len(plan.container_plans) == 2
    for cp_ in plan.container_plans:
        assert cp_.HasField("scheduledResource")
    es = hs.read(env.zk.client, ROOT, "executionstate", name)
    assert (es.topology_name, es.topology_id) == (name, topo.id)
    assert (es.cluster, es.role, es.environ) == ("devcluster", ROLE, ENV)
    assert es.submission_user == ROLE
    assert abs(es.submission_time - time.time()) < 300
    sl = hs.read(env.zk.client, ROOT, "schedulers", name)
    assert sl.topology_name == name
    assert sl.http_endpoint == "scheduler_as_lib_no_endpoint"

    # The upload, under Heron's name, with the cluster conf inside.
    want = os.path.join(env.repo, "devcluster", ROLE, name,
                        "%s-%s-tag-0.tar.gz" % (name, ROLE))
    assert env.uploads() == [want]
    inside = packages.entries(want)
    assert "WordCount.defn" in inside and "WordCount.jar" in inside
    assert any(e.endswith("heron-conf/release.yaml") for e in inside)
    assert any(e.endswith("heron-conf/override.yaml") for e in inside)
    assert any(e.endswith("heron-conf/scheduler.yaml") for e in inside)

    # The TManager stand-in writes the physical plan: state becomes running.
    state = os.path.join(m.topologies, name, "state")
    assert wait_for(lambda: open(state).read() == "running\n", 30), \
        open(state).read()
    log = m.read("devcluster", "log")
    assert "submit WordCount" in log and "ok" in log
    assert wait_for(lambda: env.spooled() == [], 5)


def test_restarted_daemon_shows_the_same(env):
    m = env.mount()
    pkg, _ = env.package("Again")
    assert cp(pkg, m.topologies).returncode == 0
    st = os.path.join(m.topologies, "Again", "state")
    assert wait_for(lambda: open(st).read() == "running\n", 30)
    before = open(os.path.join(m.topologies, "Again", "status")).read()
    m.stop()
    m2 = env.mount()
    assert os.listdir(m2.topologies) == ["Again"]
    assert open(os.path.join(m2.topologies, "Again", "status")).read() == \
        before


@pytest.mark.parametrize("case", ["not-a-tar", "no-defn", "two-defns",
                                  "bad-defn", "bad-name", "abs-path",
                                  "dotdot", "no-topology-file",
                                  "symlink-out"])
def test_bad_packages_are_refused(env, case):
    import tarfile
    m = env.mount()
    path = str(env.tmp / "bad.tar.gz")
    if case == "not-a-tar":
        open(path, "wb").write(b"this is not a package\n" * 100)
    elif case == "no-defn":
        packages.build(path, "X", defn_name="X.txt")
    elif case == "two-defns":
        other = hs.make_topology("Y").SerializeToString()
        packages.build(path, "X", extra=[("Y.defn", other)])
    elif case == "bad-defn":
        packages.build(path, "X", extra=[("Z.defn", b"\xff\xff garbage")],
                       defn_name="ignored.bin")
    elif case == "bad-name":
        packages.build(path, "bad name!")
    elif case == "abs-path":
        packages.build(path, "X", extra=[("/etc/evil", b"x")])
    elif case == "dotdot":
        packages.build(path, "X", extra=[("../../evil", b"x")])
    elif case == "no-topology-file":
        packages.build(path, "X", jar=False)
    elif case == "symlink-out":
        link = tarfile.TarInfo("lib/escape")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../../etc/passwd"
        packages.build(path, "X", extra=[(link, None)])
    r = cp(path, m.topologies + "/")
    assert r.returncode != 0
    assert "Invalid argument" in r.stderr, r.stderr
    assert wait_for(lambda: os.listdir(m.topologies) == [], 5)
    for name in ("X", "Y", "bad name!"):
        env.assert_nothing_of(name)
    assert "failed" in m.read("devcluster", "log")


def test_existing_name_is_eexist(env):
    m = env.mount()
    hs.seed(env.zk.client, ROOT, "Taken", level="running",
            cluster="devcluster")
    state = os.path.join(m.topologies, "Taken", "state")
    before = open(state).read()
    pkg, _ = env.package("Taken")
    r = cp(pkg, m.topologies + "/Taken.tar.gz")
    assert r.returncode != 0 and "File exists" in r.stderr, r.stderr
    assert env.uploads() == []
    assert env.job_tasks("Taken") == []
    # The seeded topology is untouched.
    assert hs.read(env.zk.client, ROOT, "pplans", "Taken").topology.state \
        == hs.topology_state("RUNNING")
    assert open(state).read() == before


def test_environment_aurora_refuses_fails_early(env, mount_factory):
    m = mount_factory(env.config_path, ["environ=default",
                                        "spool_dir=" + env.spool],
                      env=env.aurora.env)
    pkg, _ = env.package("EnvTopo")
    r = cp(pkg, m.path("devcluster", "topologies") + "/")
    assert r.returncode != 0 and "Invalid argument" in r.stderr
    assert "environ" in m.read("devcluster", "log")
    env.assert_nothing_of("EnvTopo")


def test_scheduler_down_undoes_everything(env):
    m = env.mount()
    env.aurora.stop()
    pkg, _ = env.package("Doomed")
    r = cp(pkg, m.topologies + "/")
    assert r.returncode != 0
    assert "Input/output error" in r.stderr or "timed out" in r.stderr, \
        r.stderr
    env.aurora.start()
    assert wait_for(lambda: os.listdir(m.topologies) == [], 5)
    env.assert_nothing_of("Doomed")
    log = m.read("devcluster", "log")
    assert "Doomed" in log and "failed" in log
    assert open(os.path.join(m.path("devcluster", "log"))).read()


def test_spool_full_is_enospc(env, tmp_path):
    small = tmp_path / "smallspool"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700",
                    "tmpfs", str(small)], check=True)
    try:
        m = env.mount(["spool_dir=" + str(small)])
        big = tmp_path / "Big.tar.gz"
        packages.build(str(big), "Big",
                       extra=[("blob.bin", os.urandom(1024 * 1024))])
        r = cp(str(big), m.topologies + "/")
        assert r.returncode != 0
        assert "No space left on device" in r.stderr, r.stderr
        env.assert_nothing_of("Big")
        m.stop()
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_submitting_state_while_launch_runs(env, tmp_path):
    slow = tmp_path / "slow-aurora"
    slow.write_text("#!/bin/sh\nsleep 3\nexec aurora \"$@\"\n")
    slow.chmod(0o755)
    with open(os.path.join(env.cluster_dir, "heronfs.yaml"), "a") as f:
        f.write("heronfs.aurora.command: %s\n" % slow)
    m = env.mount()
    pkg, _ = env.package("Slow")
    proc = subprocess.Popen(["cp", pkg, m.topologies + "/"],
                            stderr=subprocess.PIPE, text=True)
    state = os.path.join(m.topologies, "Slow", "state")
    assert wait_for(lambda: os.path.exists(state) and
                    open(state).read() == "submitting\n", 20)
    status = open(os.path.join(m.topologies, "Slow", "status")).read()
    assert "phase: " in status and "uploaded_bytes: " in status
    # ls stays fast while the submit waits on Aurora.
    t0 = time.monotonic()
    os.listdir(m.topologies)
    open(os.path.join(m.topologies, "Slow", "status")).read()
    assert time.monotonic() - t0 < 2
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert wait_for(lambda: open(state).read() in ("starting\n",
                                                   "running\n"), 10)


def test_parallel_submits_of_different_topologies(env):
    m = env.mount()
    pkgs = [env.package("Par%d" % i)[0] for i in range(3)]
    procs = [subprocess.Popen(["cp", p, m.topologies + "/"],
                              stderr=subprocess.PIPE) for p in pkgs]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    assert wait_for(lambda: sorted(os.listdir(m.topologies)) ==
                    ["Par0", "Par1", "Par2"], 5)


def test_two_mounts_racing_one_wins(env):
    m1 = env.mount()
    m2 = env.mount()
    for round_ in range(3):
        pkg, topo = env.package("Race")
        results = {}

        def go(key, mnt):
            results[key] = cp(pkg, mnt.topologies + "/")

        threads = [threading.Thread(target=go, args=(k, mm))
                   for k, mm in (("a", m1), ("b", m2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.returncode for r in results.values())
        assert codes[0] == 0 and codes[1] != 0, results
        loser = [r for r in results.values() if r.returncode != 0][0]
        assert "File exists" in loser.stderr, loser.stderr
        # The winner's package and state are intact.
        assert len(env.uploads()) == 1
        assert hs.read(env.zk.client, ROOT, "topologies", "Race").id == \
            topo.id
        assert env.nodes("Race") >= {"topologies", "packingplans",
                                     "executionstate", "schedulers"}
        # Clean up for the next round as `heron kill` would.
        r = env.aurora.cli("job", "killall", "devcluster/%s/%s/Race" %
                           (ROLE, ENV), "--batch-size", "2147483647")
        assert r.returncode == 0, r.stderr
        hs.kill_state(env.zk.client, ROOT, "Race")
        for f in env.uploads():
            os.unlink(f)
        assert wait_for(lambda: not os.path.exists(
            os.path.join(m1.topologies, "Race")) and not os.path.exists(
            os.path.join(m2.topologies, "Race")), 5)


def test_shell_redirection_submits(env):
    """`cat pkg > topologies/x`: the shell's own close of the redirected
    descriptor (a flush before any write) does not submit an empty file."""
    m = env.mount()
    pkg, _ = env.package("Redirected")
    r = subprocess.run(["bash", "-c", 'cat "$1" > "$2"', "bash", pkg,
                        m.topologies + "/Redirected.tar.gz"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr + m.output()
    assert wait_for(lambda: os.listdir(m.topologies) == ["Redirected"], 5)


def test_deleted_copy_is_not_submitted(env):
    m = env.mount()
    pkg, _ = env.package("Abandoned")
    dst = m.topologies + "/Abandoned.tar.gz"
    with open(dst, "wb") as f:
        f.write(open(pkg, "rb").read())
        f.flush()
        os.unlink(dst)
    assert wait_for(lambda: os.listdir(m.topologies) == [], 5)
    env.assert_nothing_of("Abandoned")


def test_mkdir_and_rename_are_refused(env):
    m = env.mount()
    with pytest.raises(OSError) as e:
        os.mkdir(m.topologies + "/New")
    assert e.value.errno == errno.EPERM
    hs.seed(env.zk.client, ROOT, "Named", level="running",
            cluster="devcluster")
    with pytest.raises(OSError) as e:
        os.rename(m.topologies + "/Named", m.topologies + "/Other")
    assert e.value.errno == errno.EXDEV
