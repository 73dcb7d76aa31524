"""Aurora's Thrift API for the test rig: compile aurora.thrift, load it, call it over HTTP.

`load()` runs `thrift --gen py` on tests/rig/aurora.thrift into tests/rig/gen/ when the
generated code is missing or older than the IDL, and returns the generated package
(`.ttypes`, `.constants`, `.AuroraAdmin`). The emulator, the `aurora` command and the pytest
fixtures all call it, possibly at the same time, so compilation is serialized by a lock file
and the result is moved into place atomically.

`Client(url)` is an `AuroraAdmin.Client` over HTTP POST, speaking TBinaryProtocol (what the
stock `aurora` command speaks) or TJSONProtocol (what heronfs speaks).
"""
import fcntl
import importlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from thrift.protocol import TBinaryProtocol, TJSONProtocol
from thrift.transport import TTransport

RIG_DIR = os.path.dirname(os.path.abspath(__file__))
IDL = os.path.join(RIG_DIR, "aurora.thrift")
GEN_DIR = os.path.join(RIG_DIR, "gen")
PACKAGE = "aurora_api"          # `namespace py` in aurora.thrift

BINARY = "application/vnd.apache.thrift.binary"
JSON = "application/vnd.apache.thrift.json"


def _generated_is_fresh():
    marker = os.path.join(GEN_DIR, PACKAGE, "ttypes.py")
    return os.path.exists(marker) and os.path.getmtime(marker) >= os.path.getmtime(IDL)


def compile_idl():
    """Run `thrift --gen py` unless tests/rig/gen/ already holds code at least as new."""
    if _generated_is_fresh():
        return
    os.makedirs(GEN_DIR, exist_ok=True)
    with open(os.path.join(GEN_DIR, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _generated_is_fresh():           # another process compiled it meanwhile
            return
        scratch = tempfile.mkdtemp(dir=GEN_DIR)
        try:
            subprocess.run(["thrift", "--gen", "py", "-out", scratch, IDL], check=True)
            target = os.path.join(GEN_DIR, PACKAGE)
            if os.path.exists(target):
                shutil.rmtree(target)
            os.rename(os.path.join(scratch, PACKAGE), target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def load():
    """Compile if needed and import the generated package (cached by Python's import system)."""
    compile_idl()
    if GEN_DIR not in sys.path:
        sys.path.insert(0, GEN_DIR)
    package = importlib.import_module(PACKAGE)
    for name in ("ttypes", "constants", "AuroraAdmin"):
        importlib.import_module(PACKAGE + "." + name)
    _make_structs_hashable(package.ttypes)
    return package


def _make_structs_hashable(ttypes):
    # Thrift's Python generator defines __eq__ but no __hash__, which leaves structs
    # unhashable, so decoding any set<struct> (TaskQuery.jobKeys, TaskConfig.resources,
    # getJobsResult.configs...) raises TypeError. Identity hashing makes those sets work;
    # two equal structs may then both sit in one set, which the rig never relies on.
    for value in vars(ttypes).values():
        if isinstance(value, type) and hasattr(value, "thrift_spec") and value.__hash__ is None:
            value.__hash__ = object.__hash__


class HttpError(TTransport.TTransportException):
    """The scheduler answered with an HTTP status other than 200."""

    def __init__(self, status, body):
        super().__init__(TTransport.TTransportException.UNKNOWN,
                         "HTTP %d: %s" % (status, body[:200].decode("utf-8", "replace")))
        self.status = status


class HttpTransport(TTransport.TTransportBase):
    """One Thrift message per HTTP POST, as Aurora's TRequestsTransport does."""

    def __init__(self, url, content_type=BINARY, timeout=10.0):
        self.url = url
        self.content_type = content_type
        self.timeout = timeout
        self._wbuf = io.BytesIO()
        self._rbuf = io.BytesIO()

    def isOpen(self):
        return True

    def open(self):
        pass

    def close(self):
        pass

    def write(self, buf):
        self._wbuf.write(buf)

    def read(self, sz):
        return self._rbuf.read(sz)

    def flush(self):
        body, self._wbuf = self._wbuf.getvalue(), io.BytesIO()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": self.content_type, "Accept": self.content_type,
            "User-Agent": "Aurora V2 (heronfs test rig)"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                self._rbuf = io.BytesIO(reply.read())
        except urllib.error.HTTPError as e:
            raise HttpError(e.code, e.read()) from None
        except (urllib.error.URLError, OSError) as e:
            raise TTransport.TTransportException(
                TTransport.TTransportException.NOT_OPEN, "%s: %s" % (self.url, e)) from None


def Client(url, protocol="binary", timeout=10.0):
    """An AuroraAdmin.Client posting to `url` (the full .../api URL)."""
    api = load()
    if protocol == "binary":
        transport = HttpTransport(url, BINARY, timeout)
        proto = TBinaryProtocol.TBinaryProtocol(transport)
    else:
        transport = HttpTransport(url, JSON, timeout)
        proto = TJSONProtocol.TJSONProtocol(transport)
    return api.AuroraAdmin.Client(proto)
