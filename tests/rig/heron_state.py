"""Heron's state, built and stored exactly as Heron writes it (reference/heron.md §4, §5).

Three layers:
  builders   make_topology, make_packing_plan, make_execution_state,
             make_physical_plan, make_tmanager_location, make_scheduler_location:
             protobuf messages (python3-protobuf, see heron_proto.py) with the
             content Heron's client and TManager put in them;
  stores     ZkStore (a kazoo client and a root znode) and LocalStore (Heron's
             LocalFileSystemStateManager: plain files under a root directory),
             both <root>/<dir>/<topology name> holding raw serialized protobuf;
  scenarios  seed() writes a topology's nodes in Heron's order up to a given
             lifecycle level, kill_state() deletes them in Heron's kill order,
             corrupt() writes bytes no decoder accepts.

Wherever a function takes a `target` it accepts a kazoo KazooClient (state in
ZooKeeper under `root`), the string "LOCALMODE" (Heron's connection string for
local files; `root` is then the state directory), or a store.

This module is also shipped inside the stand-in Heron core package, where
the executor uses it; it must not depend on pytest.
"""
import getpass
import os
import shutil
import socket
import tempfile
import time as _time
import uuid
from dataclasses import dataclass, field
from typing import List

from . import heron_proto as hp

topology_pb2 = hp.topology_pb2
packing_plan_pb2 = hp.packing_plan_pb2
execution_state_pb2 = hp.execution_state_pb2
physical_plan_pb2 = hp.physical_plan_pb2
tmanager_pb2 = hp.tmanager_pb2
scheduler_pb2 = hp.scheduler_pb2

GiB = 1 << 30

# Heron's defaults (heron.resources.instance.*, RoundRobinPacking paddings).
INSTANCE_CPU, INSTANCE_RAM, INSTANCE_DISK = 1.0, GiB, GiB
CONTAINER_CPU_PADDING = 1.0
CONTAINER_RAM_PADDING = 2 * GiB       # topology.stmgr.ram + topology.metricsmgr.ram
CONTAINER_DISK_PADDING = 12 * GiB

# What AuroraScheduler writes as http_endpoint when the scheduler runs as a
# library inside the client (heron.scheduler.is.service: False).
SCHEDULER_AS_LIB = "scheduler_as_lib_no_endpoint"

# A length-delimited field 1 claiming 127 bytes that are not there: every
# protobuf decoder (python3-protobuf, protobuf-c) rejects it.
CORRUPT_BYTES = b"\x0a\x7fnot a protobuf"


def state_dirs(tmanager_dir="tmanagers"):
    """The nine directories Heron's initTree creates under the root."""
    return ("topologies", "packingplans", "executionstate", "schedulers",
            tmanager_dir, "pplans", "metricscaches", "statefulcheckpoints",
            "locks")


def kill_order(tmanager_dir="tmanagers"):
    """The directories `heron kill` deletes from, in its order (§6.2)."""
    return (tmanager_dir, "metricscaches", "packingplans", "pplans",
            "schedulers", "locks", "executionstate", "topologies")


def message_class(dir_name):
    """The protobuf class stored in dir_name (tmanagers or tmasters alike)."""
    return {
        "topologies": topology_pb2.Topology,
        "packingplans": packing_plan_pb2.PackingPlan,
        "executionstate": execution_state_pb2.ExecutionState,
        "schedulers": scheduler_pb2.SchedulerLocation,
        "tmanagers": tmanager_pb2.TManagerLocation,
        "tmasters": tmanager_pb2.TManagerLocation,
        # MetricsCacheLocation has the TManagerLocation layout.
        "metricscaches": tmanager_pb2.TManagerLocation,
        "pplans": physical_plan_pb2.PhysicalPlan,
    }[dir_name]


def topology_state(state):
    """A TopologyState number from 'RUNNING'/'PAUSED'/'KILLED' or a number."""
    if isinstance(state, str):
        return topology_pb2.TopologyState.Value(state.upper())
    return int(state)


def free_port():
    """A loopback TCP port the kernel just handed out (nothing listens on it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- builders

def _config(pairs):
    """A Config message of string key/values, in order."""
    cfg = topology_pb2.Config()
    for key, value in pairs:
        cfg.kvs.add(key=key, value=str(value), type=topology_pb2.STRING_VALUE)
    return cfg


def _component(comp, name, parallelism):
    comp.name = name
    comp.spec = topology_pb2.JAVA_SERIALIZED_OBJECT
    # What a Java topology carries: a serialized spout/bolt object. The
    # client trims it before writing topologies/<name>.
    comp.serialized_object = b"\xac\xed\x00\x05rig-component-" + name.encode()
    comp.config.CopyFrom(_config([("topology.component.parallelism", parallelism)]))


def _output(outputs, component):
    out = outputs.add()
    out.stream.id = "default"
    out.stream.component_name = component
    out.schema.keys.add(key="word", type=topology_pb2.OBJECT)


def make_topology(name, spouts=None, bolts=None, stmgrs=1, state="RUNNING",
                  extra_config=None, id=None, role=None, environ="default"):
    """A Topology as the user's main writes it into <name>.defn (untrimmed).

    spouts, bolts: {component: parallelism}, default {'word': 1} and
    {'exclaim': 1}; every bolt reads the default stream of every spout with
    shuffle grouping. stmgrs: topology.stmgrs (number of containers besides
    the TManager's). state: the submitted state, 'RUNNING' or 'PAUSED'
    (--deploy-deactivated). id: default name + uuid4, no separator, as
    HeronTopology makes it. role/environ fill topology.team.name and
    topology.team.environment (role defaults to the OS user).
    extra_config: more topology config keys, overriding the ones above.
    """
    spouts = {"word": 1} if spouts is None else spouts
    bolts = {"exclaim": 1} if bolts is None else bolts
    topo = topology_pb2.Topology()
    topo.id = id if id is not None else name + str(uuid.uuid4())
    topo.name = name
    topo.state = topology_state(state)
    config = {"topology.name": name,
              "topology.stmgrs": stmgrs,
              "topology.team.name": role or getpass.getuser(),
              "topology.team.environment": environ}
    config.update(extra_config or {})
    topo.topology_config.CopyFrom(_config(config.items()))
    for comp, parallelism in spouts.items():
        spout = topo.spouts.add()
        _component(spout.comp, comp, parallelism)
        _output(spout.outputs, comp)
    for comp, parallelism in bolts.items():
        bolt = topo.bolts.add()
        _component(bolt.comp, comp, parallelism)
        for source in spouts:
            inp = bolt.inputs.add()
            inp.stream.id = "default"
            inp.stream.component_name = source
            inp.gtype = topology_pb2.SHUFFLE
        _output(bolt.outputs, comp)
    return topo


def trimmed(topology):
    """A copy of topology with serialized_object cleared in every spout and
    bolt: what the client writes to topologies/<name>."""
    topo = topology_pb2.Topology()
    topo.CopyFrom(topology)
    for comp in [s.comp for s in topo.spouts] + [b.comp for b in topo.bolts]:
        comp.ClearField("serialized_object")
    return topo


def config_value(config, key, default=None):
    """The string value of key in a Config message, or default."""
    for kv in config.kvs:
        if kv.key == key:
            return kv.value
    return default


def component_parallelism(topology):
    """[(component, parallelism)] for spouts then bolts, in topology order."""
    comps = [s.comp for s in topology.spouts] + [b.comp for b in topology.bolts]
    return [(c.name, int(config_value(c.config, "topology.component.parallelism", 1)))
            for c in comps]


def _resource(msg, cpu, ram, disk):
    msg.cpu, msg.ram, msg.disk = cpu, ram, disk


def make_packing_plan(topology, scheduled=False):
    """The PackingPlan of RoundRobinPacking with Heron's default resources.

    Containers 1..topology.stmgrs; instances dealt round robin over them,
    spouts then bolts, global task ids from 1, component index from 0.
    Required resource per container: CPU = instances + 1.0, RAM = instances
    GiB + 2 GiB, disk = (instances of the largest container) GiB + 12 GiB.
    scheduled=True adds the homogeneous scheduledResource (the maximum over
    containers) that AuroraScheduler writes back after launching.
    """
    count = int(config_value(topology.topology_config, "topology.stmgrs", 1))
    instances = component_parallelism(topology)
    total = sum(p for _, p in instances)
    if not 1 <= count <= total:
        raise ValueError("topology.stmgrs=%d but %d instances" % (count, total))
    per_container = {cid: [] for cid in range(1, count + 1)}
    cid, task = 1, 1
    for comp, parallelism in instances:
        for index in range(parallelism):
            per_container[cid].append((comp, task, index))
            cid = 1 if cid == count else cid + 1
            task += 1
    largest = max(len(v) for v in per_container.values())
    plan = packing_plan_pb2.PackingPlan(id=topology.id)
    for cid, members in per_container.items():
        cplan = plan.container_plans.add(id=cid)
        for comp, task, index in members:
            iplan = cplan.instance_plans.add(component_name=comp, task_id=task,
                                             component_index=index)
            _resource(iplan.resource, INSTANCE_CPU, INSTANCE_RAM, INSTANCE_DISK)
        n = len(members)
        _resource(cplan.requiredResource,
                  n * INSTANCE_CPU + CONTAINER_CPU_PADDING,
                  n * INSTANCE_RAM + CONTAINER_RAM_PADDING,
                  largest * INSTANCE_DISK + CONTAINER_DISK_PADDING)
    if scheduled:
        req = [c.requiredResource for c in plan.container_plans]
        for cplan in plan.container_plans:
            _resource(cplan.scheduledResource, max(r.cpu for r in req),
                      max(r.ram for r in req), max(r.disk for r in req))
    return plan


def make_execution_state(topology, cluster="local", role=None, environ="default",
                         user=None, time=None, release=None):
    """The ExecutionState the client writes at submit.

    role and user default to the OS user, time to now (epoch seconds).
    release: HeronReleaseState fields (release_username, release_tag,
    release_version); default a plausible release.yaml.
    """
    user = user or getpass.getuser()
    state = execution_state_pb2.ExecutionState(
        topology_name=topology.name, topology_id=topology.id,
        submission_time=int(_time.time()) if time is None else int(time),
        submission_user=user, cluster=cluster, role=role or user,
        environ=environ)
    if release is None:
        release = {"release_username": "heron", "release_tag": "",
                   "release_version": "0.20.5-incubating"}
    state.release_state.CopyFrom(execution_state_pb2.HeronReleaseState(**release))
    return state


def make_physical_plan(topology, state=None, packing_plan=None, host="127.0.0.1",
                       data_port=0, shell_port=0, cwd=None, pid=None):
    """The PhysicalPlan the TManager writes once all stream managers registered.

    topology: as read from topologies/<name> (it is trimmed again here);
    state: the topology state to record (default: the topology's own).
    One StMgr 'stmgr-<c>' per container of packing_plan (default
    make_packing_plan(topology)) on host, one Instance
    'container_<c>_<component>_<taskid>' per instance plan.
    """
    plan = physical_plan_pb2.PhysicalPlan()
    plan.topology.CopyFrom(trimmed(topology))
    if state is not None:
        plan.topology.state = topology_state(state)
    packing_plan = packing_plan or make_packing_plan(topology)
    for cplan in packing_plan.container_plans:
        stmgr_id = "stmgr-%d" % cplan.id
        stmgr = plan.stmgrs.add(id=stmgr_id, host_name=host, data_port=data_port,
                                local_endpoint="/unused", shell_port=shell_port)
        if cwd is not None:
            stmgr.cwd = cwd
        if pid is not None:
            stmgr.pid = pid
        for iplan in cplan.instance_plans:
            inst = plan.instances.add(
                instance_id="container_%d_%s_%d" % (cplan.id, iplan.component_name,
                                                    iplan.task_id),
                stmgr_id=stmgr_id)
            inst.info.task_id = iplan.task_id
            inst.info.component_index = iplan.component_index
            inst.info.component_name = iplan.component_name
    return plan


def make_tmanager_location(topology_name, topology_id, host="127.0.0.1",
                           controller_port=0, server_port=0, stats_port=None):
    """The TManagerLocation (TMasterLocation before the rename: same wire
    format, field 5 then called master_port)."""
    loc = tmanager_pb2.TManagerLocation(
        topology_name=topology_name, topology_id=topology_id, host=host,
        controller_port=controller_port, server_port=server_port)
    if stats_port is not None:
        loc.stats_port = stats_port
    return loc


def make_scheduler_location(topology_name, http_endpoint=SCHEDULER_AS_LIB,
                            job_page_link=()):
    """The SchedulerLocation AuroraScheduler writes after `aurora job create`."""
    return scheduler_pb2.SchedulerLocation(topology_name=topology_name,
                                           http_endpoint=http_endpoint,
                                           job_page_link=list(job_page_link))


# ------------------------------------------------------------------ stores

class NodeExists(Exception):
    """A create found the node (or, for local files, a non-empty file)."""


class ZkStore:
    """Heron's layout in ZooKeeper: znode <root>/<dir>/<name> = raw protobuf."""

    kind = "zookeeper"

    def __init__(self, client, root, owns_client=False):
        self.client = client
        self.root = "/" + root.strip("/") if root.strip("/") else ""
        self._owns = owns_client

    def path(self, dir_name, name=None):
        """The znode path of dir_name (and name)."""
        parts = [self.root, dir_name] + ([name] if name is not None else [])
        return "/".join(parts)

    def init_tree(self, dirs):
        for d in dirs:
            self.client.ensure_path(self.path(d))

    def create(self, dir_name, name, data, ephemeral=False):
        from kazoo.exceptions import NodeExistsError
        try:
            self.client.create(self.path(dir_name, name), data,
                               ephemeral=ephemeral, makepath=True)
        except NodeExistsError:
            raise NodeExists(self.path(dir_name, name)) from None

    def put(self, dir_name, name, data):
        """Create, or set when the node exists (as the TManager does for pplans)."""
        from kazoo.exceptions import NodeExistsError
        path = self.path(dir_name, name)
        try:
            self.client.create(path, data, makepath=True)
        except NodeExistsError:
            self.client.set(path, data)

    def get(self, dir_name, name):
        """The node's bytes, or None when it does not exist."""
        from kazoo.exceptions import NoNodeError
        try:
            return self.client.get(self.path(dir_name, name))[0]
        except NoNodeError:
            return None

    def is_ephemeral(self, dir_name, name):
        stat = self.client.exists(self.path(dir_name, name))
        return stat is not None and stat.ephemeralOwner != 0

    def children(self, dir_name):
        from kazoo.exceptions import NoNodeError
        try:
            return sorted(self.client.get_children(self.path(dir_name)))
        except NoNodeError:
            return []

    def delete(self, dir_name, name, recursive=False):
        """Deletes the node; True if it existed (a missing node is fine)."""
        from kazoo.exceptions import NoNodeError
        try:
            self.client.delete(self.path(dir_name, name), recursive=recursive)
            return True
        except NoNodeError:
            return False

    def close(self):
        if self._owns:
            self.client.stop()
            self.client.close()


class LocalStore:
    """Heron's LocalFileSystemStateManager: file <root>/<dir>/<name>.

    Create-new (fail if present) for topologies, executionstate and pplans,
    overwrite for the other directories; an empty file reads as absent.
    There are no ephemeral files: a TManager location stays until deleted.
    """

    kind = "localfs"
    CREATE_NEW = ("topologies", "executionstate", "pplans")

    def __init__(self, root):
        self.root = os.fspath(root)

    def path(self, dir_name, name=None):
        parts = [self.root, dir_name] + ([name] if name is not None else [])
        return os.path.join(*parts)

    def init_tree(self, dirs):
        for d in dirs:
            os.makedirs(self.path(d), exist_ok=True)

    def create(self, dir_name, name, data, ephemeral=False):
        if dir_name in self.CREATE_NEW and self.get(dir_name, name) is not None:
            raise NodeExists(self.path(dir_name, name))
        self.put(dir_name, name, data)

    def put(self, dir_name, name, data):
        """Writes the file whole (temporary file, then rename)."""
        directory = self.path(dir_name)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + name + ".", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, self.path(dir_name, name))

    def get(self, dir_name, name):
        try:
            with open(self.path(dir_name, name), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        return data or None

    def is_ephemeral(self, dir_name, name):
        return False

    def children(self, dir_name):
        try:
            return sorted(n for n in os.listdir(self.path(dir_name))
                          if not n.startswith("."))
        except FileNotFoundError:
            return []

    def delete(self, dir_name, name, recursive=False):
        path = self.path(dir_name, name)
        try:
            if os.path.isdir(path) and recursive:
                shutil.rmtree(path)
            else:
                os.unlink(path)
            return True
        except FileNotFoundError:
            return False

    def close(self):
        pass


def open_store(connection, root, timeout=10.0):
    """A store from Heron's --state-manager-connection/--state-manager-root:
    'LOCALMODE' -> local files under root; 'host:port[,host:port]' -> a new
    kazoo session (closed by store.close())."""
    if connection == "LOCALMODE":
        return LocalStore(root)
    from kazoo.client import KazooClient
    client = KazooClient(hosts=connection, timeout=timeout)
    client.start(timeout=timeout)
    return ZkStore(client, root, owns_client=True)


def as_store(target, root):
    """A store for target: a store, a KazooClient, 'LOCALMODE', or a
    ZooKeeper fixture (its .client is used)."""
    if isinstance(target, (ZkStore, LocalStore)):
        return target
    if hasattr(target, "hosts") and hasattr(target, "client"):
        target = target.client
    if target == "LOCALMODE":
        return LocalStore(root)
    return ZkStore(target, root)


def read(target, root, dir_name, name):
    """The decoded message at <root>/<dir_name>/<name>, or None if absent."""
    data = as_store(target, root).get(dir_name, name)
    return None if data is None else message_class(dir_name).FromString(data)


def listing(target, root, tmanager_dir="tmanagers"):
    """{dir: [names]} of every state directory (handy in assertions)."""
    store = as_store(target, root)
    return {d: store.children(d) for d in state_dirs(tmanager_dir)}


# --------------------------------------------------------------- scenarios

# Lifecycle levels of seed(), in the order Heron reaches them.
LEVELS = (
    "topology-only",   # crash right after the first write of a submit
    "submitted-only",  # topologies, packingplans, executionstate written
    "starting",        # aurora job created: scheduled packing plan, schedulers
    "tmanager-only",   # the TManager wrote its location, no physical plan yet
    "running",         # physical plan, state RUNNING
    "paused",          # physical plan, state PAUSED
)


@dataclass
class Seeded:
    """What seed() wrote: the messages and the paths, in write order."""
    name: str
    topology: object                    # untrimmed, as in <name>.defn
    packing_plan: object                # as finally stored
    execution_state: object = None
    scheduler_location: object = None
    tmanager_location: object = None
    physical_plan: object = None
    written: List[str] = field(default_factory=list)

    @property
    def id(self):
        return self.topology.id

    @property
    def defn(self):
        """The bytes of <name>.defn (the untrimmed topology)."""
        return self.topology.SerializeToString()


def seed(target, root, name, level="running", tmanager_dir="tmanagers",
         cluster="local", role=None, environ="default", user=None,
         spouts=None, bolts=None, stmgrs=1, extra_config=None, topology=None,
         initial_state="RUNNING", submission_time=None, release=None,
         job_page_link=(), tmanager_host="127.0.0.1", controller_port=None,
         server_port=None, stats_port=None, init_tree=True):
    """Writes topology `name` up to `level` (see LEVELS) in Heron's order:

      1. topologies/<name>     trimmed Topology (state = initial_state)
      2. packingplans/<name>   RoundRobin plan
      3. executionstate/<name>
      -- 'submitted-only' stops here
      4. packingplans/<name>   deleted and recreated with scheduledResource
      5. schedulers/<name>     SchedulerLocation
      -- 'starting' stops here
      6. <tmanager_dir>/<name> TManagerLocation, ephemeral in ZooKeeper (it
                               lives as long as target's session)
      -- 'tmanager-only' stops here
      7. pplans/<name>         PhysicalPlan, state RUNNING or PAUSED by level

    target: KazooClient, 'LOCALMODE' (root = state directory) or a store.
    topology: a prebuilt Topology (from make_topology) instead of building
    one from spouts/bolts/stmgrs/extra_config/initial_state. Ports of the
    TManager location default to free ports where nothing listens.
    init_tree creates the nine directories first, as Heron's client does.
    Raises NodeExists if a create-new node exists. Returns a Seeded.
    """
    if level not in LEVELS:
        raise ValueError("level must be one of %s" % (LEVELS,))
    upto = LEVELS.index(level)
    store = as_store(target, root)
    if init_tree:
        store.init_tree(state_dirs(tmanager_dir))
    if topology is None:
        topology = make_topology(name, spouts=spouts, bolts=bolts, stmgrs=stmgrs,
                                 state=initial_state, extra_config=extra_config,
                                 role=role, environ=environ)
    user = user or getpass.getuser()
    out = Seeded(name=name, topology=topology,
                 packing_plan=make_packing_plan(topology))

    def write(dir_name, msg, ephemeral=False):
        store.create(dir_name, name, msg.SerializeToString(), ephemeral=ephemeral)
        out.written.append("%s/%s" % (dir_name, name))

    write("topologies", trimmed(topology))
    if upto < LEVELS.index("submitted-only"):
        return out
    write("packingplans", out.packing_plan)
    out.execution_state = make_execution_state(
        topology, cluster=cluster, role=role or user, environ=environ, user=user,
        time=submission_time, release=release)
    write("executionstate", out.execution_state)
    if upto < LEVELS.index("starting"):
        return out
    out.packing_plan = make_packing_plan(topology, scheduled=True)
    store.delete("packingplans", name)
    write("packingplans", out.packing_plan)
    out.scheduler_location = make_scheduler_location(name, job_page_link=job_page_link)
    write("schedulers", out.scheduler_location)
    if upto < LEVELS.index("tmanager-only"):
        return out
    out.tmanager_location = make_tmanager_location(
        name, topology.id, host=tmanager_host,
        controller_port=controller_port or free_port(),
        server_port=server_port or free_port(),
        stats_port=stats_port or free_port())
    write(tmanager_dir, out.tmanager_location, ephemeral=True)
    if upto < LEVELS.index("running"):
        return out
    out.physical_plan = make_physical_plan(
        topology, state="PAUSED" if level == "paused" else "RUNNING",
        packing_plan=out.packing_plan, host=tmanager_host)
    write("pplans", out.physical_plan)
    return out


def seed_local(state_root, name, **kwargs):
    """seed() into Heron's local state files under the directory state_root."""
    return seed("LOCALMODE", state_root, name, **kwargs)


def kill_state(target, root, name, tmanager_dir="tmanagers", stop_after=None):
    """Deletes the topology's state as `heron kill` does, in its order:
    tmanagers, metricscaches, packingplans, pplans, schedulers,
    locks/<name>__updateTopology (recursive), executionstate, topologies.

    stop_after: a directory name; deleting stops after it, leaving what a
    kill interrupted there leaves. Returns the paths that existed and were
    deleted, in order.
    """
    store = as_store(target, root)
    deleted = []
    for d in kill_order(tmanager_dir):
        node = name + "__updateTopology" if d == "locks" else name
        if store.delete(d, node, recursive=(d == "locks")):
            deleted.append("%s/%s" % (d, node))
        if d == stop_after:
            break
    return deleted


def corrupt(target, root, dir_name, name, data=CORRUPT_BYTES):
    """Writes bytes no protobuf decoder accepts to <root>/<dir_name>/<name>
    (created if absent, replaced if present)."""
    as_store(target, root).put(dir_name, name, data)
