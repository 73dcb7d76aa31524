"""Conformance tests of the rig's Heron side: the ZooKeeper fixture, Heron's
state as the rig seeds it, and the stand-in heron-executor (run directly,
without Aurora) against a real ZooKeeper and against local state files.

Run: cd /work/main && pytest-3 -x -q tests/rig/test_rig_core.py
"""
import os
import re
import signal
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request

import pytest
from google.protobuf.message import DecodeError

from rig import core
from rig import heron_state as hs
from rig.heron_proto import topology_pb2
from rig.zk_fixtures import ZkServer

GiB = 1 << 30
RUNNING, PAUSED = topology_pb2.RUNNING, topology_pb2.PAUSED


# ---------------------------------------------------------------- helpers

@pytest.fixture
def root(request):
    """A ZooKeeper root of this test's own in the shared server."""
    return "/" + re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)


def wait_for(predicate, timeout=10.0, what="condition"):
    """Polls predicate until it returns a true value; returns that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url):
    """(status, body) of a GET, for any status; None if nothing listens."""
    try:
        with _OPENER.open(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except urllib.error.URLError:
        return None


class Executor:
    """A heron-executor process with its stderr in a file."""

    def __init__(self, argv, cwd):
        self.log = os.path.join(cwd, "executor.stderr")
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)

    def stderr(self):
        with open(self.log) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def terminate(self, timeout=10):
        """SIGTERM; returns the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def wait(self, timeout=10):
        return self.proc.wait(timeout)


@pytest.fixture
def executors():
    """Starts executors: executors(argv, cwd) -> Executor; kills leftovers."""
    started = []

    def start(argv, cwd):
        ex = Executor(argv, os.fspath(cwd))
        started.append(ex)
        return ex
    yield start
    for ex in started:
        if ex.alive():
            ex.proc.kill()
            ex.proc.wait()


def sandbox(tmp_path, seeded):
    """A container working directory holding the user package's .defn."""
    box = tmp_path / "sandbox"
    box.mkdir(exist_ok=True)
    (box / (seeded.name + ".defn")).write_bytes(seeded.defn)
    return box


def ports():
    """Free ports for every Thermos port name of the template."""
    return {name: hs.free_port() for name in core.PORT_NAMES}


# ------------------------------------------------------- ZooKeeper fixture

def test_zk_fixture_stop_start_keeps_data_and_port(zk):
    """The server restarts on the same port with its data; mntr/srvr work."""
    zk.client.create("/kept", b"value", makepath=True)
    port = zk.port
    assert zk.mntr()["zk_packets_received"] > 0
    assert "Mode: standalone" in zk.srvr()
    zk.stop()
    assert not zk.running
    with pytest.raises(OSError):
        zk.srvr()
    zk.start()
    assert zk.port == port and zk.hosts == "127.0.0.1:%d" % port
    client = zk.new_client()
    try:
        assert client.get("/kept")[0] == b"value"
    finally:
        client.stop()
        client.close()
    # The fixture's client reconnects by itself.
    wait_for(lambda: zk.client.connected, what="reconnect")
    assert zk.client.get("/kept")[0] == b"value"


def test_zk_server_close_leaves_nothing_running(tmp_path):
    """close() stops the JVM and its port is free again."""
    server = ZkServer(tmp_path).start()
    java = server.proc
    server.client.ensure_path("/x")
    server.close()
    assert java.poll() is not None
    with pytest.raises(OSError):
        server.srvr()


# ---------------------------------------------------------------- builders

def test_make_topology_as_heron_writes_the_defn():
    """Id = name + uuid, config keys, per-component parallelism, streams."""
    topo = hs.make_topology("wc", spouts={"word": 2}, bolts={"exclaim": 3},
                            stmgrs=2, role="alice", environ="devel",
                            extra_config={"topology.debug": "true"})
    assert re.fullmatch(r"wc[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        topo.id)
    cfg = topo.topology_config
    assert hs.config_value(cfg, "topology.stmgrs") == "2"
    assert hs.config_value(cfg, "topology.team.name") == "alice"
    assert hs.config_value(cfg, "topology.team.environment") == "devel"
    assert hs.config_value(cfg, "topology.debug") == "true"
    assert hs.component_parallelism(topo) == [("word", 2), ("exclaim", 3)]
    assert topo.spouts[0].comp.serialized_object
    assert topo.bolts[0].inputs[0].stream.component_name == "word"
    assert topo.bolts[0].inputs[0].gtype == topology_pb2.SHUFFLE
    trimmed = hs.trimmed(topo)
    assert not trimmed.spouts[0].comp.HasField("serialized_object")
    assert not trimmed.bolts[0].comp.HasField("serialized_object")
    assert topo.spouts[0].comp.HasField("serialized_object")  # copy, not in place


def test_packing_plan_is_round_robin_with_heron_numbers():
    """Round robin over containers 1..N, task ids from 1, Heron's paddings."""
    topo = hs.make_topology("wc", spouts={"word": 3}, bolts={"exclaim": 2}, stmgrs=2)
    plan = hs.make_packing_plan(topo, scheduled=True)
    assert plan.id == topo.id
    layout = {c.id: [(i.component_name, i.task_id, i.component_index)
                     for i in c.instance_plans] for c in plan.container_plans}
    assert layout == {1: [("word", 1, 0), ("word", 3, 2), ("exclaim", 5, 1)],
                      2: [("word", 2, 1), ("exclaim", 4, 0)]}
    c1, c2 = plan.container_plans
    assert (c1.requiredResource.cpu, c1.requiredResource.ram,
            c1.requiredResource.disk) == (4.0, 5 * GiB, 15 * GiB)
    assert (c2.requiredResource.cpu, c2.requiredResource.ram,
            c2.requiredResource.disk) == (3.0, 4 * GiB, 15 * GiB)
    for c in (c1, c2):
        assert c.scheduledResource == c1.requiredResource
    assert not hs.make_packing_plan(topo).container_plans[0].HasField("scheduledResource")
    # The reference's example: 2 components x 1, 1 stmgr -> 3.0 / 4 GiB / 14 GiB.
    one = hs.make_packing_plan(hs.make_topology("x")).container_plans[0].requiredResource
    assert (one.cpu, one.ram, one.disk) == (3.0, 4294967296, 15032385536)
    with pytest.raises(ValueError):
        hs.make_packing_plan(hs.make_topology("x", stmgrs=3))


# ----------------------------------------------------------------- seeding

def test_seed_running_matches_heron_layout(zk_session, root):
    """Nodes in Heron's order, each decoding with the generated modules."""
    client = zk_session.client
    s = hs.seed(client, root, "wc", level="running", cluster="dev", role="alice",
                environ="devel", user="bob", spouts={"word": 3},
                bolts={"exclaim": 2}, stmgrs=2, submission_time=1700000000,
                job_page_link=["http://aurora/dev/alice/devel/wc"])
    assert s.written == ["topologies/wc", "packingplans/wc", "executionstate/wc",
                         "packingplans/wc", "schedulers/wc", "tmanagers/wc", "pplans/wc"]
    assert sorted(client.get_children(root)) == sorted(hs.state_dirs())

    topo = hs.read(client, root, "topologies", "wc")
    assert topo.id == s.id and topo.state == RUNNING
    assert not any(c.comp.HasField("serialized_object")
                   for c in list(topo.spouts) + list(topo.bolts))
    assert topo == hs.trimmed(s.topology)

    plan = hs.read(client, root, "packingplans", "wc")
    assert plan == s.packing_plan
    assert all(c.HasField("scheduledResource") for c in plan.container_plans)

    es = hs.read(client, root, "executionstate", "wc")
    assert (es.topology_name, es.topology_id, es.cluster, es.role, es.environ,
            es.submission_user, es.submission_time) == (
                "wc", s.id, "dev", "alice", "devel", "bob", 1700000000)
    assert es.release_state.release_version

    sched = hs.read(client, root, "schedulers", "wc")
    assert sched.http_endpoint == "scheduler_as_lib_no_endpoint"
    assert list(sched.job_page_link) == ["http://aurora/dev/alice/devel/wc"]

    tm_path = root + "/tmanagers/wc"
    assert client.exists(tm_path).ephemeralOwner == client.client_id[0]
    assert not client.exists(root + "/topologies/wc").ephemeralOwner
    tm = hs.read(client, root, "tmanagers", "wc")
    assert (tm.topology_name, tm.topology_id) == ("wc", s.id) and tm.controller_port > 0

    pplan = hs.read(client, root, "pplans", "wc")
    assert pplan.topology.state == RUNNING
    assert [m.id for m in pplan.stmgrs] == ["stmgr-1", "stmgr-2"]
    assert sorted(i.instance_id for i in pplan.instances) == sorted([
        "container_1_word_1", "container_1_word_3", "container_1_exclaim_5",
        "container_2_word_2", "container_2_exclaim_4"])
    assert {i.instance_id: i.stmgr_id for i in pplan.instances}[
        "container_2_exclaim_4"] == "stmgr-2"


@pytest.mark.parametrize("level,present", [
    ("topology-only", ["topologies"]),
    ("submitted-only", ["topologies", "packingplans", "executionstate"]),
    ("starting", ["topologies", "packingplans", "executionstate", "schedulers"]),
    ("tmanager-only", ["topologies", "packingplans", "executionstate", "schedulers",
                       "tmanagers"]),
    ("paused", ["topologies", "packingplans", "executionstate", "schedulers",
                "tmanagers", "pplans"]),
])
def test_seed_levels(zk_session, root, level, present):
    """Each level writes exactly the nodes Heron has written by then."""
    s = hs.seed(zk_session.client, root, "wc", level=level)
    found = [d for d, names in hs.listing(zk_session.client, root).items() if "wc" in names]
    assert sorted(found) == sorted(present)
    submitted_plan = hs.read(zk_session.client, root, "packingplans", "wc")
    if submitted_plan is not None:  # scheduledResource only once launched
        assert submitted_plan.container_plans[0].HasField("scheduledResource") == (
            "schedulers" in present)
    if level == "paused":
        assert hs.read(zk_session.client, root, "pplans", "wc").topology.state == PAUSED
        assert hs.read(zk_session.client, root, "topologies", "wc").state == RUNNING
    assert s.written[0] == "topologies/wc"


def test_seed_tmasters_and_deploy_deactivated(zk_session, root):
    """tmanager_dir='tmasters' lays out a pre-0.20.3 cluster."""
    hs.seed(zk_session.client, root, "old", level="running", tmanager_dir="tmasters",
            initial_state="PAUSED")
    dirs = zk_session.client.get_children(root)
    assert "tmasters" in dirs and "tmanagers" not in dirs
    assert hs.read(zk_session.client, root, "tmasters", "old").topology_name == "old"
    assert hs.read(zk_session.client, root, "topologies", "old").state == PAUSED
    with pytest.raises(hs.NodeExists):
        hs.seed(zk_session.client, root, "old", level="submitted-only")


def test_seed_local_files(tmp_path):
    """LocalFileSystemStateManager: plain files, create-new where Heron says."""
    state = tmp_path / "state" / "local"
    s = hs.seed_local(state, "wc", level="running")
    assert sorted(os.listdir(state)) == sorted(hs.state_dirs())
    raw = (state / "topologies" / "wc").read_bytes()
    assert topology_pb2.Topology.FromString(raw) == hs.trimmed(s.topology)
    assert hs.read("LOCALMODE", state, "pplans", "wc").topology.state == RUNNING
    store = hs.LocalStore(state)
    with pytest.raises(hs.NodeExists):
        store.create("topologies", "wc", b"x")
    store.create("tmanagers", "wc", b"overwritten")   # overwrite, as in Heron
    assert store.get("tmanagers", "wc") == b"overwritten"
    (state / "topologies" / "empty").write_bytes(b"")
    assert store.get("topologies", "empty") is None    # empty reads as absent


def test_kill_state_follows_heron_kill_order(zk_session, root):
    """kill_state deletes in Heron's order and can stop part way."""
    client = zk_session.client
    hs.seed(client, root, "wc", level="running")
    client.create(root + "/locks/wc__updateTopology/lease", makepath=True)
    done = hs.kill_state(client, root, "wc", stop_after="schedulers")
    assert done == ["tmanagers/wc", "packingplans/wc", "pplans/wc", "schedulers/wc"]
    left = [d for d, n in hs.listing(client, root).items() if any(x.startswith("wc") for x in n)]
    assert sorted(left) == ["executionstate", "locks", "topologies"]
    assert hs.kill_state(client, root, "wc") == [
        "locks/wc__updateTopology", "executionstate/wc", "topologies/wc"]
    assert all(not names for names in hs.listing(client, root).values())


def test_corrupt_writes_undecodable_bytes(zk_session, root, tmp_path):
    """corrupt() bytes are rejected by every message's decoder."""
    for target, where in ((zk_session.client, root), ("LOCALMODE", tmp_path)):
        hs.seed(target, where, "wc", level="running")
        for d in ("topologies", "packingplans", "executionstate", "schedulers",
                  "tmanagers", "pplans"):
            hs.corrupt(target, where, d, "wc")
            with pytest.raises(DecodeError):
                hs.read(target, where, d, "wc")


# -------------------------------------------------------------- executor

def start_tmanager(executors, tmp_path, seeded, connection, root, spelling="tmanager",
                   executor=core.EXECUTOR, cwd=None, port_map=None):
    """Runs shard 0 as the template would; returns (Executor, ports)."""
    port_map = port_map or ports()
    argv = core.executor_argv(seeded.topology, connection, os.fspath(root), shard=0,
                              ports=port_map, spelling=spelling, executor=executor)
    return executors(argv, cwd or sandbox(tmp_path, seeded)), port_map


def test_executor_plays_the_tmanager(zk_session, root, tmp_path, executors):
    """Location, physical plan, the controller's checks, health, SIGTERM."""
    client = zk_session.client
    s = hs.seed(client, root, "wc", level="starting", stmgrs=2,
                spouts={"word": 2}, bolts={"exclaim": 2})
    ex, p = start_tmanager(executors, tmp_path, s, zk_session.hosts, root)
    pplan_raw = wait_for(lambda: client.exists(root + "/pplans/wc") and
                         client.get(root + "/pplans/wc")[0], what="pplan")

    stat = client.exists(root + "/tmanagers/wc")
    assert stat.ephemeralOwner not in (0, client.client_id[0])
    tm = hs.read(client, root, "tmanagers", "wc")
    assert (tm.topology_name, tm.topology_id, tm.host, tm.controller_port,
            tm.server_port, tm.stats_port) == (
                "wc", s.id, "127.0.0.1", p["port2"], p["port1"], p["port3"])
    pplan = hs.physical_plan_pb2.PhysicalPlan.FromString(pplan_raw)
    assert pplan.topology.state == RUNNING and pplan.topology.id == s.id
    assert [m.id for m in pplan.stmgrs] == ["stmgr-1", "stmgr-2"]
    assert sorted(i.instance_id for i in pplan.instances) == [
        "container_1_exclaim_3", "container_1_word_1",
        "container_2_exclaim_4", "container_2_word_2"]

    base = "http://127.0.0.1:%d" % tm.controller_port
    assert http_get(base + "/deactivate?topologyid=" + s.id) == (
        200, "Topology successfully deactivated")
    assert hs.read(client, root, "pplans", "wc").topology.state == PAUSED
    assert http_get(base + "/deactivate?topologyid=" + s.id)[0] == 400
    assert http_get(base + "/activate?topologyid=wrong" + s.id)[0] == 400
    assert http_get(base + "/activate")[0] == 400
    assert hs.read(client, root, "pplans", "wc").topology.state == PAUSED
    assert http_get(base + "/activate?topologyid=" + s.id) == (
        200, "Topology successfully activated")
    assert hs.read(client, root, "pplans", "wc").topology.state == RUNNING
    assert http_get(base + "/activate?topologyid=" + s.id)[0] == 400
    assert http_get("http://127.0.0.1:%d/health" % p["http"]) == (200, "ok")

    assert ex.terminate() == 0, ex.stderr()
    assert client.exists(root + "/tmanagers/wc") is None    # session closed
    assert client.exists(root + "/pplans/wc") is not None   # persistent


def test_executor_waits_for_location_and_answers_500_without_pplan(
        zk_session, root, tmp_path, executors):
    """While another TManager's location exists it retries (and has no
    physical plan: 500); once that node goes it takes over."""
    holder = zk_session.new_client()
    try:
        s = hs.seed(holder, root, "wc", level="tmanager-only")
        ex, p = start_tmanager(executors, tmp_path, s, zk_session.hosts, root)
        url = "http://127.0.0.1:%d/deactivate?topologyid=%s" % (p["port2"], s.id)
        wait_for(lambda: "retrying" in ex.stderr(), what="a retry")
        assert http_get(url)[0] == 500
        assert ex.alive()
    finally:
        holder.stop()
        holder.close()
    wait_for(lambda: zk_session.client.exists(root + "/pplans/wc"), what="pplan")
    tm = hs.read(zk_session.client, root, "tmanagers", "wc")
    assert tm.controller_port == p["port2"]
    assert http_get(url)[0] == 200
    assert ex.terminate() == 0


def test_restarted_executor_keeps_the_paused_state(zk_session, root, tmp_path, executors):
    """A TManager restarted over an existing physical plan keeps its state."""
    s = hs.seed(zk_session.client, root, "wc", level="paused")
    hs.as_store(zk_session.client, root).delete("tmanagers", "wc")  # the old TManager died
    ex, p = start_tmanager(executors, tmp_path, s, zk_session.hosts, root)
    wait_for(lambda: zk_session.client.exists(root + "/tmanagers/wc"), what="location")
    wait_for(lambda: "wrote " + root + "/pplans/wc" in ex.stderr(), what="pplan")
    assert hs.read(zk_session.client, root, "pplans", "wc").topology.state == PAUSED
    url = "http://127.0.0.1:%d/activate?topologyid=%s" % (p["port2"], s.id)
    assert http_get(url)[0] == 200
    assert ex.terminate() == 0


def test_executor_exits_when_packing_plan_replaced(zk_session, root, tmp_path, executors):
    """Like Heron's TManager: delete the physical plan and exit to be restarted."""
    client = zk_session.client
    s = hs.seed(client, root, "wc", level="starting")
    ex, _ = start_tmanager(executors, tmp_path, s, zk_session.hosts, root)
    wait_for(lambda: client.exists(root + "/pplans/wc"), what="pplan")
    store = hs.as_store(client, root)
    store.delete("packingplans", "wc")
    new_plan = hs.make_packing_plan(hs.make_topology("wc", id=s.id, spouts={"word": 2}))
    store.create("packingplans", "wc", new_plan.SerializeToString())
    assert ex.wait() == 1
    assert "packing plan changed" in ex.stderr()
    assert client.exists(root + "/pplans/wc") is None
    assert client.exists(root + "/tmanagers/wc") is None


def test_core_package_executor_with_tmaster_spellings(zk_session, root, tmp_path,
                                                      heron_core, executors):
    """Untarred from heron-core.tar.gz, with the pre-0.20.3 flags, the
    executor writes tmasters/<name>."""
    s = hs.seed(zk_session.client, root, "old", level="starting", tmanager_dir="tmasters")
    box = sandbox(tmp_path, s)
    with tarfile.open(heron_core) as tar:
        tar.extractall(box)
    argv = core.executor_argv(s.topology, zk_session.hosts, root, ports=ports(),
                              spelling="tmaster", executor="./heron-core/bin/heron-executor")
    assert "--master-port" in " ".join(argv) and "--tmaster-binary" in " ".join(argv)
    ex = executors(argv, box)
    wait_for(lambda: zk_session.client.exists(root + "/pplans/old"), what="pplan")
    assert hs.read(zk_session.client, root, "tmasters", "old").topology_id == s.id
    assert zk_session.client.exists(root + "/tmanagers/old") is None
    assert ex.terminate() == 0
    assert zk_session.client.exists(root + "/tmasters/old") is None


def test_executor_local_mode(tmp_path, executors):
    """LOCALMODE: the same files as Heron's local state manager."""
    state = tmp_path / "state"
    s = hs.seed_local(state, "wc", level="starting")
    ex, p = start_tmanager(executors, tmp_path, s, "LOCALMODE", state)
    wait_for(lambda: hs.read("LOCALMODE", state, "pplans", "wc"), what="pplan file")
    tm = hs.read("LOCALMODE", state, "tmanagers", "wc")
    assert (tm.topology_id, tm.controller_port) == (s.id, p["port2"])
    url = "http://127.0.0.1:%d/deactivate?topologyid=%s" % (p["port2"], s.id)
    assert http_get(url)[0] == 200
    assert hs.read("LOCALMODE", state, "pplans", "wc").topology.state == PAUSED
    assert ex.terminate() == 0
    # No ephemeral files: the location stays until kill removes it.
    assert hs.read("LOCALMODE", state, "tmanagers", "wc") is not None


def test_other_shards_only_wait(zk_session, root, tmp_path, executors):
    """Shard 1 writes nothing, answers the health check, exits 0 on SIGTERM."""
    s = hs.seed(zk_session.client, root, "wc", level="starting")
    p = ports()
    argv = core.executor_argv(s.topology, zk_session.hosts, root, shard=1, ports=p)
    ex = executors(argv, sandbox(tmp_path, s))
    health = "http://127.0.0.1:%d/health" % p["http"]
    assert wait_for(lambda: http_get(health) or not ex.alive(), what="health") == (200, "ok")
    assert zk_session.client.exists(root + "/tmanagers/wc") is None
    assert ex.terminate() == 0


@pytest.mark.parametrize("case", ["unknown", "missing-shard", "missing-root",
                                  "mixed-spellings", "abbreviated"])
def test_executor_refuses_bad_command_lines(tmp_path, case):
    """Exit 2 with a message for flags a real executor would refuse."""
    topo = hs.make_topology("wc")
    argv = core.executor_argv(topo, "LOCALMODE", str(tmp_path), ports={"port1": 1})
    if case == "unknown":
        argv.append("--no-such-flag=1")
    elif case == "missing-shard":
        argv = [a for a in argv if not a.startswith("--shard=")]
    elif case == "missing-root":
        argv = [a for a in argv if not a.startswith("--state-manager-root=")]
    elif case == "mixed-spellings":
        argv.append("--tmaster-controller-port=2")
    elif case == "abbreviated":
        argv.append("--topology-def=x")
    r = subprocess.run(argv, cwd=tmp_path, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "heron-executor: error:" in r.stderr
    assert not os.path.exists(tmp_path / "tmanagers")


def test_executor_fails_on_inconsistent_state(zk_session, root, tmp_path, executors):
    """A topology id other than --topology-id, a missing .defn, a taken
    controller port: exit 1, nothing written."""
    s = hs.seed(zk_session.client, root, "wc", level="starting")
    other = hs.make_topology("wc")      # same name, another id
    argv = core.executor_argv(other, zk_session.hosts, root, ports=ports())
    ex = executors(argv, sandbox(tmp_path, s))
    assert ex.wait() == 1
    assert "is not --topology-id" in ex.stderr()
    assert zk_session.client.exists(root + "/tmanagers/wc") is None

    empty = tmp_path / "empty"
    empty.mkdir()
    argv = core.executor_argv(s.topology, zk_session.hosts, root, ports=ports())
    ex = executors(argv, empty)
    assert ex.wait() == 1
    assert "no topology definition wc.defn" in ex.stderr()

    p = ports()
    with socket.socket() as busy:               # the controller port is taken
        busy.bind(("127.0.0.1", p["port2"]))
        busy.listen()
        ex, _ = start_tmanager(executors, tmp_path, s, zk_session.hosts, root,
                               port_map=p)
        assert ex.wait() == 1
    assert "cannot serve the controller" in ex.stderr()
    assert zk_session.client.exists(root + "/tmanagers/wc") is None
