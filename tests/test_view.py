"""The read side of the tree against a real ZooKeeper: what `ls` and `cat`
show for topologies written as Heron writes them, how fast changes show,
and what happens on bad days."""
import errno
import json
import os
import re
import subprocess
import time

import pytest

from rig import heron_state as hs
from mount_fixtures import zk_cluster, make_cluster, wait_for

ROOT = "/heron"


def read_or_errno(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return e.errno


@pytest.fixture
def cluster(zk, config_path, mount_factory):
    """A mounted cluster 'devcluster' on the zk fixture."""
    zk_cluster(config_path, "devcluster", zk.hosts, ROOT)
    m = mount_factory(config_path)
    m.topologies = m.path("devcluster", "topologies")
    return m


def status_dict(text):
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        out[key] = value
    return out


def test_tree_and_state_words(zk, cluster):
    levels = {"Sub": "submitted-only", "Start": "starting",
              "Tm": "tmanager-only", "Run": "running", "Pause": "paused"}
    for name, level in levels.items():
        hs.seed(zk.client, ROOT, name, level=level, cluster="devcluster")
    assert sorted(os.listdir(cluster.mnt)) == ["devcluster"]
    assert sorted(os.listdir(cluster.path("devcluster"))) == \
        ["health", "log", "topologies"]
    assert sorted(os.listdir(cluster.topologies)) == sorted(levels)
    want = {"Sub": "starting", "Start": "starting", "Tm": "starting",
            "Run": "running", "Pause": "paused"}
    for name, word in want.items():
        assert cluster.read("devcluster", "topologies", name, "state") == \
            word + "\n", name
    files = sorted(os.listdir(os.path.join(cluster.topologies, "Run")))
    assert files == sorted(["state", "status", "status.json", "error",
                            "logical_plan.json", "packing_plan.json",
                            "physical_plan.json", "execution_state.json",
                            "control", "containers"])
    # No physical plan yet: no physical_plan.json.
    assert "physical_plan.json" not in os.listdir(
        os.path.join(cluster.topologies, "Start"))


def test_status_lines(zk, cluster):
    s = hs.seed(zk.client, ROOT, "WordCount", level="running",
                cluster="devcluster", role="alice", environ="devel",
                user="bob", submission_time=1700000000,
                job_page_link=["http://aurora/devcluster/alice/devel/WordCount"],
                stmgrs=2, spouts={"word": 2}, bolts={"count": 2})
    st = status_dict(cluster.read("devcluster", "topologies", "WordCount",
                                  "status"))
    assert st["name"] == "WordCount"
    assert st["id"] == s.id
    assert st["state"] == "running"
    assert st["cluster"] == "devcluster"
    assert st["role"] == "alice"
    assert st["environ"] == "devel"
    assert st["submitted_by"] == "bob"
    assert st["submitted_at"] == "2023-11-14T22:13:20Z"
    # Heron's NUM_CONTAINERS: two stream manager containers + the TManager's.
    assert st["containers"] == "3"
    assert st["instances"] == "4"
    tm = s.tmanager_location
    assert st["tmanager"] == "%s:%d" % (tm.host, tm.controller_port)
    assert st["job_link"] == "http://aurora/devcluster/alice/devel/WordCount"
    assert "release" in st
    # status.json says the same, for scripts.
    sj = json.loads(cluster.read("devcluster", "topologies", "WordCount",
                                 "status.json"))
    assert sj["name"] == "WordCount" and sj["state"] == "running"
    assert sj["id"] == s.id


def test_json_files_are_faithful(zk, cluster):
    s = hs.seed(zk.client, ROOT, "Plans", level="running",
                cluster="devcluster", stmgrs=2, spouts={"word": 3},
                bolts={"exclaim": 2})
    d = os.path.join(cluster.topologies, "Plans")
    lp = json.load(open(os.path.join(d, "logical_plan.json")))
    assert lp["id"] == s.id and lp["name"] == "Plans"
    assert lp["state"] == "RUNNING"
    assert [sp["comp"]["name"] for sp in lp["spouts"]] == ["word"]
    assert lp["bolts"][0]["inputs"][0]["gtype"] == "SHUFFLE"
    # Trimmed as Heron stores it: no serialized_object.
    assert "serialized_object" not in lp["spouts"][0]["comp"]
    pp = json.load(open(os.path.join(d, "packing_plan.json")))
    want = s.packing_plan
    assert pp["id"] == want.id
    assert len(pp["container_plans"]) == len(want.container_plans)
    for got, exp in zip(pp["container_plans"], want.container_plans):
        assert got["id"] == exp.id
        # Byte sizes are JSON numbers, not strings.
        assert got["requiredResource"]["ram"] == exp.requiredResource.ram
        assert isinstance(got["requiredResource"]["disk"], int)
        assert len(got["instance_plans"]) == len(exp.instance_plans)
    ph = json.load(open(os.path.join(d, "physical_plan.json")))
    assert ph["topology"]["state"] == "RUNNING"
    assert len(ph["stmgrs"]) == len(s.physical_plan.stmgrs)
    es = json.load(open(os.path.join(d, "execution_state.json")))
    assert es["topology_id"] == s.id
    assert es["cluster"] == "devcluster"
    # Key order is stable: field-number order.
    assert list(es)[:2] == ["topology_name", "topology_id"]


def test_tmasters_era_cluster(zk, cluster):
    s = hs.seed(zk.client, ROOT, "Old", level="running",
                cluster="devcluster", tmanager_dir="tmasters")
    st = status_dict(cluster.read("devcluster", "topologies", "Old",
                                  "status"))
    tm = s.tmanager_location
    assert st["tmanager"] == "%s:%d" % (tm.host, tm.controller_port)
    assert st["state"] == "running"


def test_empty_root_is_an_empty_listing(zk, cluster):
    assert not zk.client.exists(ROOT)
    assert os.listdir(cluster.topologies) == []
    assert read_or_errno(os.path.join(cluster.topologies, "x", "state")) == \
        errno.ENOENT
    health = cluster.read("devcluster", "health")
    assert health.startswith("statemgr: ok"), health


def test_orphaned_and_corrupt_nodes(zk, cluster):
    hs.seed(zk.client, ROOT, "Half", level="running", cluster="devcluster")
    zk.client.delete(ROOT + "/topologies/Half")
    hs.seed(zk.client, ROOT, "Bad", level="running", cluster="devcluster")
    hs.corrupt(zk.client, ROOT, "pplans", "Bad")
    hs.corrupt(zk.client, ROOT, "topologies", "Garbage")
    for name, node in (("Half", "topolog"), ("Bad", "pplans"),
                       ("Garbage", "topologies")):
        base = os.path.join(cluster.topologies, name)
        assert wait_for(lambda: read_or_errno(
            os.path.join(base, "state")) == "orphaned\n"), name
        err = open(os.path.join(base, "error")).read()
        assert node in err, (name, err)
        st = status_dict(open(os.path.join(base, "status")).read())
        assert st["state"] == "orphaned"
        assert st["reason"]
    # A node that does not decode has no JSON file, and the daemon lives.
    assert "physical_plan.json" not in os.listdir(
        os.path.join(cluster.topologies, "Bad"))
    assert cluster.proc.poll() is None


def test_names_with_dots_dashes_underscores(zk, cluster):
    names = ["a.b", "word-count", "snake_case_1", "X.y-z_0"]
    for n in names:
        hs.seed(zk.client, ROOT, n, level="paused", cluster="devcluster")
    assert sorted(os.listdir(cluster.topologies)) == sorted(names)
    for n in names:
        assert cluster.read("devcluster", "topologies", n, "state") == \
            "paused\n"


def test_a_thousand_topologies(zk, cluster):
    store = hs.ZkStore(zk.client, ROOT)
    store.init_tree(hs.state_dirs())
    topo = hs.make_topology("T")
    data = hs.trimmed(topo).SerializeToString()
    names = ["topo%04d" % i for i in range(1000)]
    ops = [zk.client.create_async("%s/topologies/%s" % (ROOT, n), data)
           for n in names]
    for op in ops:
        op.get(timeout=30)
    got = wait_for(lambda: len(os.listdir(cluster.topologies)) == 1000)
    assert got, len(os.listdir(cluster.topologies))
    assert sorted(os.listdir(cluster.topologies)) == names


def test_changes_show_within_a_second(zk, cluster):
    s = hs.seed(zk.client, ROOT, "Live", level="running",
                cluster="devcluster")
    state = os.path.join(cluster.topologies, "Live", "state")
    assert open(state).read() == "running\n"
    # A state flip, as the TManager writes it.
    pplan = s.physical_plan
    pplan.topology.state = hs.topology_state("PAUSED")
    t0 = time.monotonic()
    zk.client.set(ROOT + "/pplans/Live", pplan.SerializeToString())
    assert wait_for(lambda: read_or_errno(state) == "paused\n", 1.0)
    flip = time.monotonic() - t0
    # A new topology.
    assert "New" not in os.listdir(cluster.topologies)
    hs.seed(zk.client, ROOT, "New", level="submitted-only",
            cluster="devcluster")
    assert wait_for(lambda: "New" in os.listdir(cluster.topologies), 1.0)
    assert wait_for(lambda: os.path.isdir(
        os.path.join(cluster.topologies, "New")), 1.0)
    # A deleted topology.
    hs.kill_state(zk.client, ROOT, "Live")
    assert wait_for(lambda: not os.path.exists(
        os.path.join(cluster.topologies, "Live")), 1.0)
    assert "Live" not in os.listdir(cluster.topologies)
    print("state flip visible after %.3f s" % flip)


def requests(m):
    health = m.read("devcluster", "health")
    match = re.search(r"(\d+) requests", health)
    assert match, health
    return int(match.group(1))


def test_unchanged_topology_costs_no_request(zk, cluster):
    hs.seed(zk.client, ROOT, "Quiet", level="running", cluster="devcluster")
    d = os.path.join(cluster.topologies, "Quiet")
    for f in os.listdir(d):
        if f not in ("control", "containers"):
            open(os.path.join(d, f)).read()
    before = requests(cluster)
    packets = zk.mntr()["zk_packets_received"]
    for _ in range(100):
        for f in ("state", "status", "status.json", "physical_plan.json"):
            open(os.path.join(d, f)).read()
        os.listdir(cluster.topologies)
    assert requests(cluster) == before
    # The server agrees (pings aside: a few at most in this time).
    assert zk.mntr()["zk_packets_received"] - packets < 10


def test_zookeeper_restart_mid_run(zk, cluster):
    s = hs.seed(zk.client, ROOT, "Steady", level="running",
                cluster="devcluster")
    state = os.path.join(cluster.topologies, "Steady", "state")
    assert open(state).read() == "running\n"
    zk.stop()
    # Cached state is served, and health says it may be stale.
    assert open(state).read() == "running\n"
    assert wait_for(lambda: "unreachable" in cluster.read("devcluster",
                                                          "health"), 10)
    assert "stale" in cluster.read("devcluster", "health")
    zk.start()
    assert wait_for(lambda: cluster.read("devcluster", "health")
                    .startswith("statemgr: ok"), 15)
    # It catches up with changes made after the restart. (A new writer:
    # the old client's session may have expired while the server was down.)
    pplan = s.physical_plan
    pplan.topology.state = hs.topology_state("PAUSED")
    writer = zk.new_client()
    try:
        writer.set(ROOT + "/pplans/Steady", pplan.SerializeToString())
    finally:
        writer.stop()
        writer.close()
    assert wait_for(lambda: read_or_errno(state) == "paused\n", 5)


def test_zookeeper_unreachable_at_mount(config_path, mount_factory):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    zk_cluster(config_path, "devcluster", "127.0.0.1:%d" % port, ROOT,
               **{"heronfs.yaml": {"heronfs.statemgr.timeout.ms": 1500}})
    m = mount_factory(config_path)
    health = m.read("devcluster", "health")
    assert health.startswith("statemgr: unreachable"), health
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        os.listdir(m.path("devcluster", "topologies"))
    assert e.value.errno == errno.EIO
    assert read_or_errno(m.path("devcluster", "topologies", "x", "state")) \
        == errno.EIO
    # Bounded: two requests, each within the configured wait and slack.
    assert time.monotonic() - t0 < 10


def test_local_state_manager(tmp_path, config_path, mount_factory):
    state_root = str(tmp_path / "state")
    make_cluster(config_path, "local", template="local", **{
        "statemgr.yaml": {"heron.statemgr.root.path": state_root},
        "heronfs.yaml": {"heronfs.local.registry.directory":
                         str(tmp_path / "registry")}})
    hs.seed_local(state_root, "LocalTopo", level="running", cluster="local")
    m = mount_factory(config_path)
    topos = m.path("local", "topologies")
    assert os.listdir(topos) == ["LocalTopo"]
    # Launched (a scheduler location), but the local scheduler runs no
    # process for it: orphaned.
    assert m.read("local", "topologies", "LocalTopo", "state") == \
        "orphaned\n"
    # Without the scheduler location, Heron's own view stands.
    os.unlink(os.path.join(state_root, "schedulers", "LocalTopo"))
    assert wait_for(lambda: m.read("local", "topologies", "LocalTopo",
                                   "state") == "running\n", 2)
    hs.seed_local(state_root, "Second", level="submitted-only",
                  cluster="local", init_tree=False)
    assert wait_for(lambda: "Second" in os.listdir(topos), 2)
    assert m.read("local", "topologies", "Second", "state") == "starting\n"


def test_file_permissions_and_errors(zk, cluster):
    hs.seed(zk.client, ROOT, "P", level="running", cluster="devcluster")
    f = os.path.join(cluster.topologies, "P", "state")
    st = os.stat(f)
    assert st.st_mode & 0o777 == 0o444
    # topologies/ takes new files (submissions) from its owner only.
    assert os.stat(cluster.topologies).st_mode & 0o777 == 0o755
    assert os.stat(os.path.dirname(f)).st_mode & 0o777 == 0o555
    for call in (lambda: os.chmod(f, 0o644), lambda: os.chown(f, 1, 1),
                 lambda: os.utime(f, (1, 1)), lambda: os.truncate(f, 0)):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.EPERM
    with pytest.raises(OSError) as e:
        open(f, "w")
    assert e.value.errno in (errno.EACCES, errno.EPERM)
    for bad in ("nope", "devcluster/nope", "devcluster/topologies/P/nope",
                "devcluster/topologies/Absent"):
        assert not os.path.exists(cluster.path(bad))
    # cat reads every byte although st_size is 0 (direct_io).
    out = subprocess.run(["cat", os.path.join(cluster.topologies, "P",
                                              "status")],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("name: P\n")


def test_mount_option_errors(tmp_path, config_path, zk):
    from mount_fixtures import heronfs_bin
    mnt = tmp_path / "m"
    mnt.mkdir()

    def run(*args):
        return subprocess.run([heronfs_bin(), "-f", *args, str(mnt)],
                              capture_output=True, text=True, timeout=30)

    r = run("-o", "config_path=" + str(tmp_path / "missing"))
    assert r.returncode != 0 and "missing" in r.stderr
    r = run("-o", "config_path=" + config_path)
    assert r.returncode != 0 and "no cluster" in r.stderr
    cdir = zk_cluster(config_path, "devcluster", zk.hosts, ROOT)
    with open(os.path.join(cdir, "scheduler.yaml"), "a") as f:
        f.write("heron.bad: [unclosed\n")
    r = run("-o", "config_path=" + config_path)
    assert r.returncode != 0
    assert "scheduler.yaml" in r.stderr and re.search(r":\d+", r.stderr)
    assert not os.path.ismount(mnt)
    r = run("-o", "config_path=%s,environ=../x" % config_path)
    assert r.returncode != 0 and "environ" in r.stderr
    r = run("-o", "config_path=%s,no_such_option" % config_path)
    assert r.returncode != 0
    r = subprocess.run([heronfs_bin(), "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "config_path" in r.stdout


def test_fstab_style_source_argument(zk, config_path, tmp_path):
    """mount(8) runs `heronfs SOURCE MOUNTPOINT -o ...` for an fstab line."""
    from mount_fixtures import heronfs_bin
    zk_cluster(config_path, "devcluster", zk.hosts, ROOT)
    mnt = tmp_path / "fstab"
    mnt.mkdir()
    proc = subprocess.Popen([heronfs_bin(), "heronfs", str(mnt), "-f", "-o",
                             "config_path=%s,_netdev" % config_path],
                            stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: os.path.ismount(mnt), 10)
        assert os.listdir(mnt) == ["devcluster"]
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], check=False)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
