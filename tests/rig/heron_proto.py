"""Heron's protobuf messages for the test rig, compiled with protoc for Python.

heronfs encodes and decodes Heron's state with protobuf-c, from its own
.proto files (backend/proto/*.proto). The rig compiles the very same files
with `protoc --python_out` and uses python3-protobuf, an independent
implementation, so every node the rig writes checks heronfs's decoders and
every node heronfs writes is checked by the rig's decoders.

The generated modules go to tests/rig/gen/ (gitignored). They are
regenerated when one is missing or older than its .proto file. Inside the
stand-in Heron core package (see core.py) there is no backend/proto
directory: the generated modules ship beside this file and are used as is.

Usage:
    from rig import heron_proto as hp
    topo = hp.topology_pb2.Topology()
    hp.topology_pb2.RUNNING
"""
import glob
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GEN_DIR = os.path.join(HERE, "gen")
PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "backend", "proto"))

MODULE_NAMES = ("topology_pb2", "execution_state_pb2", "packing_plan_pb2",
                "physical_plan_pb2", "tmanager_pb2", "scheduler_pb2")


def _stale(proto_files, gen_dir):
    """True when a generated module is missing or older than its .proto."""
    for proto in proto_files:
        base = os.path.splitext(os.path.basename(proto))[0]
        out = os.path.join(gen_dir, base + "_pb2.py")
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(proto):
            return True
    return False


def ensure_generated(proto_dir=PROTO_DIR, gen_dir=GEN_DIR):
    """Runs protoc on proto_dir/*.proto into gen_dir when needed.

    A no-op when proto_dir does not exist (inside the core package, where
    the generated modules are shipped). Files are generated in a temporary
    directory and renamed into place, so concurrent callers never see a
    half-written module. Returns gen_dir.
    """
    if not os.path.isdir(proto_dir):
        return gen_dir
    protos = sorted(glob.glob(os.path.join(proto_dir, "*.proto")))
    if not protos:
        raise RuntimeError("no .proto files in %s" % proto_dir)
    if not _stale(protos, gen_dir):
        return gen_dir
    os.makedirs(gen_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".protoc-", dir=gen_dir)
    try:
        subprocess.run(["protoc", "--proto_path=" + proto_dir,
                        "--python_out=" + tmp] + protos,
                       check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
        for out in os.listdir(tmp):
            os.replace(os.path.join(tmp, out), os.path.join(gen_dir, out))
    except subprocess.CalledProcessError as e:
        raise RuntimeError("protoc failed: %s" % e.stderr.decode(errors="replace"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return gen_dir


def generated_files(gen_dir=GEN_DIR):
    """The paths of the generated *_pb2.py modules (after ensure_generated)."""
    return sorted(glob.glob(os.path.join(ensure_generated(gen_dir=gen_dir), "*_pb2.py")))


def _load():
    ensure_generated()
    # protoc writes `import topology_pb2` for `import "topology.proto"`, so
    # the generated directory itself must be on the path.
    if GEN_DIR not in sys.path:
        sys.path.insert(0, GEN_DIR)
    return {name: importlib.import_module(name) for name in MODULE_NAMES}


_modules = _load()
topology_pb2 = _modules["topology_pb2"]
execution_state_pb2 = _modules["execution_state_pb2"]
packing_plan_pb2 = _modules["packing_plan_pb2"]
physical_plan_pb2 = _modules["physical_plan_pb2"]
tmanager_pb2 = _modules["tmanager_pb2"]
scheduler_pb2 = _modules["scheduler_pb2"]
