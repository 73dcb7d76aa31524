"""Submits a large package by `cp` and prints the daemon's peak memory.

The package is spooled to disk and streamed through validation and the
upload, so the daemon's resident set should not grow with the package.
Run with bench/submit-memory (which sets the size)."""
import os
import subprocess
import tarfile
import time

from rig import heron_state as hs
from test_submit import Env, cp, ROLE, ENV


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def make_package(path, name, size):
    """A plain tar with the .defn and a `size`-byte jar of random data
    (random so that no compression makes it small)."""
    defn = hs.make_topology(name).SerializeToString()
    jar = path + ".jar"
    with open(jar, "wb") as f:
        left = size
        while left > 0:
            chunk = os.urandom(min(left, 8 << 20))
            f.write(chunk)
            left -= len(chunk)
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo(name + ".defn")
        info.size = len(defn)
        import io
        tar.addfile(info, io.BytesIO(defn))
        tar.add(jar, arcname=name + ".jar")
    os.unlink(jar)


def test_submit_memory(tmp_path, config_path, zk, aurora, heron_core,
                       mount_factory):
    size = int(os.environ.get("HERONFS_BENCH_BYTES", str(1 << 30)))
    env = Env(tmp_path, config_path, zk, aurora, heron_core, mount_factory,
              **{"heronfs.yaml": {"heronfs.package.max.bytes": 8 << 30}})
    m = env.mount()
    idle = peak_rss_kib(m.proc.pid)
    pkg = str(tmp_path / "Big.tar")
    make_package(pkg, "Big", size)
    t0 = time.monotonic()
    r = cp(pkg, m.topologies + "/")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr + m.output()
    peak = peak_rss_kib(m.proc.pid)
    print("\npackage: %.0f MiB; cp (spool, check, upload, launch): %.1f s; "
          "daemon peak RSS: %.1f MiB (%.1f MiB before the copy)"
          % (os.path.getsize(pkg) / 2**20, took, peak / 1024, idle / 1024))
