"""Heron topology packages built by the tests: a (gzip) tar holding
<Name>.defn (a serialized Topology, as the user's main writes it) and the
topology file, plus helpers to build broken ones."""
import io
import os
import tarfile

from rig import heron_state as hs


def _add(tar, name, data, **attrs):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    for k, v in attrs.items():
        setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data))


def build(path, name="WordCount", topology=None, jar=True, extra=(),
          defn_name=None, compress=True, **topo_kwargs):
    """Writes a package to path and returns the Topology in it.

    extra: (entry name, bytes) pairs or (TarInfo, bytes) pairs added as
    they are (for broken packages); defn_name: store the .defn under
    another name."""
    topology = topology or hs.make_topology(name, **topo_kwargs)
    with tarfile.open(path, "w:gz" if compress else "w") as tar:
        _add(tar, defn_name or name + ".defn", topology.SerializeToString())
        if jar:
            _add(tar, name + ".jar", b"PK\x03\x04 a stand-in topology jar")
        for entry, data in extra:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry, io.BytesIO(data) if data else None)
            else:
                _add(tar, entry, data)
    return topology


def entries(path):
    with tarfile.open(path) as tar:
        return sorted(m.name for m in tar.getmembers())
