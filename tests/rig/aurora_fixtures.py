"""pytest plugin: the Aurora scheduler emulator and the `aurora` command.

Fixtures (function scope):
  aurora          an emulated Aurora cluster named 'devcluster', found through
                  scheduler_uri; see AuroraCluster for its attributes
  aurora_factory  aurora_factory(cluster='devcluster', zk=None, zk_path='/aurora/scheduler',
                  assign_delay=None) -> AuroraCluster; call it once per cluster. With zk
                  (the `zk` fixture, or "host:port[,host:port]") the scheduler announces
                  itself in ZooKeeper and clusters.json points the client there.

All clusters of a test share one AURORA_CONFIG_ROOT (a tmp dir holding clusters.json). PATH
starts with tests/rig/bin, so `aurora` is the rig's command, for the test and for the
programs it starts (heronfs). Teardown stops every emulator, which kills its tasks'
processes; anything still running in a sandbox after that is killed and reported. The
emulator log path and its tail are printed at teardown; pytest shows them when a test fails.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from . import aurora_thrift

RIG_DIR = os.path.dirname(os.path.abspath(__file__))
BIN_DIR = os.path.join(RIG_DIR, "bin")
EMULATOR = os.path.join(RIG_DIR, "aurora_scheduler.py")
PYTHON = "/usr/bin/python3"          # not the pyenv shim: it cannot import thrift or kazoo
START_TIMEOUT = 20.0


def wait_for(predicate, timeout=10.0, interval=0.05, message="condition"):
    """Poll `predicate` until it returns something truthy; return that, or fail the test."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))
        time.sleep(interval)


class AuroraCluster:
    """One emulated Aurora cluster.

    .cluster        cluster name (the first part of job keys)
    .port, .url     the scheduler's HTTP port and base URL (http://127.0.0.1:PORT)
    .api_url        .url + '/api'
    .config_root    the AURORA_CONFIG_ROOT holding clusters.json
    .sandbox_root   task sandboxes: <sandbox_root>/<task id>/
    .log_path       the emulator's log
    .env            environment for subprocesses (PATH, AURORA_CONFIG_ROOT, ...)
    .types          the generated thrift types (JobKey, TaskQuery, ScheduleStatus...)
    .call(method, *args)       a Thrift call (TJSONProtocol) returning the Response
    .tasks(role, env, name)    ScheduledTasks of a job, terminal ones included
    .states(role, env, name)   {instance: status name} of each instance's newest task
    .wait_states(role, env, name, expected, timeout)   poll until .states() == expected
    .sandbox(task)             a task's sandbox directory
    .job_key(role, env, name)  "cluster/role/env/name"
    .cli(*argv)                run `aurora ...` with .env; returns CompletedProcess
    .stop() / .start()         scheduler offline / back online on the same port; tasks keep
                               running meanwhile, as on a real cluster whose scheduler died
    .close()                   terminate the emulator (teardown does it)
    """

    def __init__(self, workdir, cluster, env, zk_hosts=None, zk_path=None, assign_delay=None):
        self.cluster = cluster
        self.workdir = workdir
        self.sandbox_root = os.path.join(workdir, "sandboxes")
        self.log_path = os.path.join(workdir, "emulator.log")
        self.config_root = env["AURORA_CONFIG_ROOT"]
        self.env = env
        self.zk_hosts, self.zk_path = zk_hosts, zk_path
        self.types = aurora_thrift.load().ttypes
        port_file = os.path.join(workdir, "port")
        argv = [PYTHON, EMULATOR, "--port", "0", "--port-file", port_file, "--cluster", cluster,
                "--sandbox-root", self.sandbox_root, "--log", self.log_path]
        if zk_hosts:
            argv += ["--zk", zk_hosts, "--zk-path", zk_path]
        if assign_delay is not None:
            argv += ["--assign-delay", str(assign_delay)]
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(workdir, "emulator.out"), "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for(lambda: os.path.exists(port_file) or self.proc.poll() is not None,
                     START_TIMEOUT, message="the Aurora emulator to start")
            if self.proc.poll() is not None:
                raise AssertionError("Aurora emulator exited with %s; see %s"
                                     % (self.proc.returncode, workdir))
        except BaseException:
            self.close()
            raise
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port
        self.api_url = self.url + "/api"

    def clusters_json_entry(self):
        entry = {"name": self.cluster, "auth_mechanism": "UNAUTHENTICATED"}
        if self.zk_hosts:
            hosts = [h.rsplit(":", 1) for h in self.zk_hosts.split(",")]
            ports = {p for _, p in hosts}
            assert len(ports) == 1, "clusters.json has one zk_port for all hosts"
            entry.update(zk=",".join(h for h, _ in hosts), zk_port=int(ports.pop()),
                         scheduler_zk_path=self.zk_path)
        else:
            entry["scheduler_uri"] = self.url
        return entry

    # --- inspection ---------------------------------------------------------------------

    def call(self, method, *args):
        return getattr(aurora_thrift.Client(self.api_url, protocol="json"), method)(*args)

    def job_key(self, role, env, name):
        return "%s/%s/%s/%s" % (self.cluster, role, env, name)

    def tasks(self, role, env, name):
        t = self.types
        resp = self.call("getTasksStatus", t.TaskQuery(jobKeys={t.JobKey(role, env, name)}))
        assert resp.responseCode == t.ResponseCode.OK, resp
        return sorted(resp.result.scheduleStatusResult.tasks,
                      key=lambda st: (st.assignedTask.instanceId, st.taskEvents[0].timestamp))

    def states(self, role, env, name):
        names = self.types.ScheduleStatus._VALUES_TO_NAMES
        newest = {}
        for st in self.tasks(role, env, name):       # sorted: the newest task comes last
            newest[st.assignedTask.instanceId] = names[st.status]
        return newest

    def wait_states(self, role, env, name, expected, timeout=15.0):
        """Poll until states() == expected (a dict, or a callable taking the dict)."""
        check = expected if callable(expected) else (lambda states: states == expected)
        last = {}

        def reached():
            last["states"] = self.states(role, env, name)
            return check(last["states"])
        try:
            wait_for(reached, timeout, 0.1,
                     "%s to reach %s" % (self.job_key(role, env, name), expected))
        except AssertionError as e:
            raise AssertionError("%s; last states %s" % (e, last.get("states"))) from None
        return last["states"]

    def sandbox(self, task):
        return os.path.join(self.sandbox_root, task.assignedTask.taskId)

    def cli(self, *argv, timeout=90):
        return subprocess.run(["aurora"] + [str(a) for a in argv], env=self.env, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def leftover_processes(self):
        """PIDs of processes whose working directory is under the sandbox root."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cwd = os.readlink("/proc/%s/cwd" % pid)
            except OSError:
                continue
            if cwd == self.sandbox_root or cwd.startswith(self.sandbox_root + os.sep):
                found.append(int(pid))
        return found

    # --- lifecycle ------------------------------------------------------------------------

    def stop(self):
        """Take the scheduler offline (connections refused, ZK member withdrawn)."""
        self.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: not self._answers(), 10, message="the scheduler to go offline")

    def start(self):
        """Bring the scheduler back online on the same port."""
        self.proc.send_signal(signal.SIGUSR2)
        wait_for(self._answers, 10, message="the scheduler to come back")

    def _answers(self):
        """True when the scheduler serves and leads (announced in ZooKeeper, if used)."""
        try:
            with urllib.request.urlopen(self.url + "/leaderhealth", timeout=1) as r:
                return r.status == 200
        except OSError:                   # refused, or HTTPError 502 before the announcement
            return False

    def close(self):
        """Terminate the emulator (it kills its tasks); kill and report stragglers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        leftovers = self.leftover_processes()
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return leftovers

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture
def aurora_factory(tmp_path, monkeypatch):
    config_root = tmp_path / "aurora-config"
    config_root.mkdir()
    monkeypatch.setenv("AURORA_CONFIG_ROOT", str(config_root))
    monkeypatch.setenv("PATH", BIN_DIR + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("AURORA_RIG_WATCH_SECS", "1")
    clusters = []

    def make(cluster="devcluster", zk=None, zk_path="/aurora/scheduler", assign_delay=None):
        hosts = getattr(zk, "hosts", zk)
        rig = AuroraCluster(str(tmp_path / ("aurora-" + cluster)), cluster, dict(os.environ),
                            hosts, zk_path, assign_delay)
        clusters.append(rig)
        with open(config_root / "clusters.json", "w") as f:
            json.dump([c.clusters_json_entry() for c in clusters], f, indent=2)
        return rig

    yield make
    for rig in clusters:
        leftovers = rig.close()
        print("Aurora emulator %s: log %s; last lines:\n%s" % (rig.cluster, rig.log_path,
                                                               rig.log_tail()))
        if leftovers:
            print("killed processes left in sandboxes: %s" % leftovers, file=sys.stderr)


@pytest.fixture
def aurora(aurora_factory):
    return aurora_factory()
