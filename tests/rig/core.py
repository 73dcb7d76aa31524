"""The stand-in Heron core package, and Heron's executor command line.

build_core_package(dest_dir) writes heron-core.tar.gz:

    heron-core/bin/heron-executor           the stand-in (heron_core/bin/)
    heron-core/lib/python/rig/__init__.py   the small library it runs on:
    heron-core/lib/python/rig/heron_proto.py
    heron-core/lib/python/rig/heron_state.py
    heron-core/lib/python/rig/gen/*_pb2.py  Heron's messages, generated

so that the heron.aurora template's `curl` + `tar zxf` + `./heron-core/bin/
heron-executor --shard=N ...` works in a sandbox. The executor needs
/usr/bin/python3 with python3-protobuf and python3-kazoo.

executor_argv() builds the command line the template runs: the executor,
--shard, the nine per-container port flags (§2), then TOPOLOGY_ARGUMENTS
(topology_arguments(), §1.7), in the tmanager or the tmaster spelling.
"""
import io
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXECUTOR = os.path.join(HERE, "heron_core", "bin", "heron-executor")

# Template port flags (new spelling, old spelling, Thermos port name), in the
# template's order.
PORT_FLAGS = (
    ("--server-port", "--master-port", "port1"),
    ("--tmanager-controller-port", "--tmaster-controller-port", "port2"),
    ("--tmanager-stats-port", "--tmaster-stats-port", "port3"),
    ("--shell-port", "--shell-port", "http"),
    ("--metrics-manager-port", "--metrics-manager-port", "port4"),
    ("--scheduler-port", "--scheduler-port", "scheduler"),
    ("--metricscache-manager-server-port", "--metricscache-manager-master-port",
     "metricscachemgr_serverport"),
    ("--metricscache-manager-stats-port", "--metricscache-manager-stats-port",
     "metricscachemgr_statsport"),
    ("--checkpoint-manager-port", "--checkpoint-manager-port", "ckptmgr_port"),
)
PORT_NAMES = tuple(name for _, _, name in PORT_FLAGS)


def build_core_package(dest_dir):
    """Writes dest_dir/heron-core.tar.gz; returns its path (str)."""
    from . import heron_proto
    files = [(EXECUTOR, "heron-core/bin/heron-executor", 0o755)]
    for module in ("heron_proto.py", "heron_state.py"):
        files.append((os.path.join(HERE, module),
                      "heron-core/lib/python/rig/" + module, 0o644))
    for path in heron_proto.generated_files():
        files.append((path, "heron-core/lib/python/rig/gen/" + os.path.basename(path),
                      0o644))
    out = os.path.join(os.fspath(dest_dir), "heron-core.tar.gz")
    with tarfile.open(out, "w:gz") as tar:
        for d in ("heron-core", "heron-core/bin", "heron-core/lib",
                  "heron-core/lib/python", "heron-core/lib/python/rig",
                  "heron-core/lib/python/rig/gen"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        _add_bytes(tar, "heron-core/lib/python/rig/__init__.py",
                   b'"""The rig library of the stand-in Heron core."""\n', 0o644)
        for src, arcname, mode in files:
            with open(src, "rb") as f:
                _add_bytes(tar, arcname, f.read(), mode)
    return out


def _add_bytes(tar, arcname, data, mode):
    info = tarfile.TarInfo(arcname)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def container_flags(shard, ports, spelling="tmanager"):
    """['--shard=N', port flags...] as the template expands them.

    ports: {Thermos port name (PORT_NAMES): number}; missing names are left
    out. spelling: 'tmanager' or 'tmaster' (pre-0.20.3 flag names)."""
    flags = ["--shard=%d" % shard]
    for new, old, name in PORT_FLAGS:
        if name in ports:
            flags.append("%s=%d" % (new if spelling == "tmanager" else old, ports[name]))
    return flags


def topology_arguments(topology, connection, root, spelling="tmanager",
                       cluster="local", role="heron", environ="default",
                       binary="topology.jar"):
    """TOPOLOGY_ARGUMENTS as Heron's SchedulerUtils builds it (§1.7), as a
    list, with the cluster-mode default paths. topology: a Topology message
    (name, id and the component RAM map come from it)."""
    from . import heron_state as hs
    core, conf = "./heron-core", "./heron-conf"
    ram_map = ",".join("%s:%d" % (comp, hs.INSTANCE_RAM)
                       for comp, _ in hs.component_parallelism(topology))
    tm = "tmanager" if spelling == "tmanager" else "tmaster"
    pairs = [
        ("topology-name", topology.name),
        ("topology-id", topology.id),
        ("topology-defn-file", topology.name + ".defn"),
        ("state-manager-connection", connection),
        ("state-manager-root", root),
        ("state-manager-config-file", conf + "/statemgr.yaml"),
        (tm + "-binary", "%s/bin/heron-%s" % (core, tm)),
        ("stmgr-binary", core + "/bin/heron-stmgr"),
        ("metrics-manager-classpath", core + "/lib/metricsmgr/*"),
        ("instance-jvm-opts", '""'),
        ("classpath", binary),
        ("heron-internals-config-file", conf + "/heron_internals.yaml"),
        ("override-config-file", conf + "/override.yaml"),
        ("component-ram-map", ram_map),
        ("component-jvm-opts", '""'),
        ("pkg-type", binary.rsplit(".", 1)[-1]),
        ("topology-binary-file", binary),
        ("heron-java-home", "/usr/lib/jvm/default-java"),
        ("heron-shell-binary", core + "/bin/heron-shell"),
        ("cluster", cluster),
        ("role", role),
        ("environment", environ),
        ("instance-classpath", core + "/lib/instance/*"),
        ("metrics-sinks-config-file", conf + "/metrics_sinks.yaml"),
        ("scheduler-classpath", "%s/lib/scheduler/*:%s/lib/packing/*:%s/lib/statemgr/*"
         % (core, core, core)),
        ("python-instance-binary", core + "/bin/heron-python-instance"),
        ("cpp-instance-binary", core + "/bin/heron-cpp-instance"),
        ("metricscache-manager-classpath", core + "/lib/metricscachemgr/*"),
        ("metricscache-manager-mode", "disabled"),
        ("is-stateful", "false"),
        ("checkpoint-manager-classpath",
         "%s/lib/ckptmgr/*:%s/lib/statefulstorage/*:" % (core, core)),
        ("stateful-config-file", conf + "/stateful.yaml"),
        ("checkpoint-manager-ram", str(1 << 30)),
        ("health-manager-mode", "disabled"),
        ("health-manager-classpath", core + "/lib/healthmgr/*"),
    ]
    return ["--%s=%s" % (k, v) for k, v in pairs]


def executor_argv(topology, connection, root, shard=0, ports=None,
                  spelling="tmanager", executor=EXECUTOR, **kwargs):
    """The full command line the template runs for one container:
    [executor, --shard, port flags, TOPOLOGY_ARGUMENTS...]. kwargs go to
    topology_arguments (cluster, role, environ, binary)."""
    return ([executor] + container_flags(shard, ports or {}, spelling)
            + topology_arguments(topology, connection, root, spelling, **kwargs))
