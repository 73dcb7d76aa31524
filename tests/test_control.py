"""Control: activate, deactivate, restart and kill through a topology's
control file and rmdir, end to end against ZooKeeper, the Aurora emulator
and the stand-in TManager; each leaves ZooKeeper and Aurora as the `heron`
client would."""
import errno
import os
import subprocess

import pytest

from mount_fixtures import wait_for
from rig import heron_state as hs
from test_submit import Env, ROLE, ENV, ROOT, cp


@pytest.fixture
def env(tmp_path, config_path, zk, aurora, heron_core, mount_factory):
    return Env(tmp_path, config_path, zk, aurora, heron_core, mount_factory,
               **{"heronfs.yaml": {"heronfs.tmanager.timeout.ms": 5000}})


def write(path, text):
    """`echo TEXT > path` as the shell does it: returns (status, stderr)."""
    r = subprocess.run(["bash", "-c", 'echo "$1" > "$2"', "bash", text, path],
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stderr


def submitted(env, name="Ctl", **kw):
    m = env.mount()
    pkg, topo = env.package(name, **kw)
    r = cp(pkg, m.topologies + "/")
    assert r.returncode == 0, r.stderr + m.output()
    d = os.path.join(m.topologies, name)
    assert wait_for(lambda: open(os.path.join(d, "state")).read() ==
                    "running\n", 30)
    return m, d, topo


def pplan_state(env, name):
    return hs.read(env.zk.client, ROOT, "pplans", name).topology.state


def test_deactivate_activate(env):
    m, d, _ = submitted(env)
    ctl, state = os.path.join(d, "control"), os.path.join(d, "state")
    assert oct(os.stat(ctl).st_mode & 0o777) == "0o200"
    assert write(ctl, "deactivate") == (0, "")
    # The new state shows as soon as the write returns.
    assert open(state).read() == "paused\n"
    assert pplan_state(env, "Ctl") == hs.topology_state("PAUSED")
    # Already paused: success, nothing sent.
    assert write(ctl, "deactivate") == (0, "")
    assert write(ctl, "activate") == (0, "")
    assert open(state).read() == "running\n"
    assert pplan_state(env, "Ctl") == hs.topology_state("RUNNING")
    assert write(ctl, "activate") == (0, "")
    assert open(os.path.join(d, "error")).read() == ""
    log = m.read("devcluster", "log")
    assert "deactivate Ctl by root: ok" in log
    assert "activate Ctl by root: ok" in log


def test_wrong_verbs_are_einval(env):
    m, d, _ = submitted(env)
    ctl = os.path.join(d, "control")
    for bad in ("pause", "restart x", "restart -1", "activate now", ""):
        status, err = write(ctl, bad)
        if bad == "":
            # A lone newline is no command either.
            assert status != 0 and "Invalid argument" in err
            continue
        assert status != 0 and "Invalid argument" in err, (bad, err)
    assert "restart" in open(os.path.join(d, "error")).read() or \
        "command" in open(os.path.join(d, "error")).read()
    with pytest.raises(OSError) as e:
        open(ctl).read()
    assert e.value.errno == errno.EACCES
    # Nothing changed.
    assert open(os.path.join(d, "state")).read() == "running\n"


def test_activate_before_physical_plan_is_eagain(env, config_path):
    m = env.mount()
    hs.seed(env.zk.client, ROOT, "Early", level="starting",
            cluster="devcluster", role=ROLE, environ=ENV)
    ctl = os.path.join(m.topologies, "Early", "control")
    status, err = write(ctl, "activate")
    assert status != 0 and "temporarily unavailable" in err, err
    assert "not initialized yet" in open(
        os.path.join(m.topologies, "Early", "error")).read()


def test_other_role_is_refused(env):
    m = env.mount()
    hs.seed(env.zk.client, ROOT, "Theirs", level="running",
            cluster="devcluster", role="bob", environ=ENV)
    status, err = write(os.path.join(m.topologies, "Theirs", "control"),
                        "deactivate")
    assert status != 0 and "not permitted" in err, err
    assert "bob" in open(os.path.join(m.topologies, "Theirs",
                                      "error")).read()


def test_restart_one_container(env):
    m, d, _ = submitted(env, stmgrs=2)
    before = {t.assignedTask.instanceId: t.assignedTask.taskId
              for t in env.job_tasks("Ctl")}
    assert write(os.path.join(d, "control"), "restart 1") == (0, "")
    env.aurora.wait_states(ROLE, ENV, "Ctl", {0: "RUNNING", 1: "RUNNING",
                                              2: "RUNNING"})
    tasks = env.job_tasks("Ctl")
    newest = {}
    for t in tasks:
        newest[t.assignedTask.instanceId] = t  # oldest first per instance
    assert newest[1].assignedTask.taskId != before[1]
    assert newest[1].ancestorId == before[1]
    for i in (0, 2):
        assert newest[i].assignedTask.taskId == before[i]
    status, err = write(os.path.join(d, "control"), "restart 7")
    assert status != 0 and "Invalid argument" in err


def test_restart_all_deletes_tmanager_first(env):
    m, d, topo = submitted(env)
    assert write(os.path.join(d, "control"), "restart") == (0, "")
    # The TManager came back and wrote its location again.
    assert wait_for(lambda: env.zk.client.exists(
        ROOT + "/tmanagers/Ctl"), 30)
    assert wait_for(lambda: open(os.path.join(d, "state")).read() ==
                    "running\n", 30)


def test_kill_and_rmdir(env):
    m, d, _ = submitted(env)
    assert write(os.path.join(d, "control"), "kill") == (0, "")
    assert wait_for(lambda: not os.path.exists(d), 5)
    assert env.nodes("Ctl") == set()
    assert all(t.status == env.aurora.types.ScheduleStatus.KILLED
               for t in env.job_tasks("Ctl"))
    # The uploaded package stays, as with `heron kill`.
    assert len(env.uploads()) == 1
    # rmdir kills too.
    pkg, _ = env.package("Other")
    assert cp(pkg, m.topologies + "/").returncode == 0
    os.rmdir(os.path.join(m.topologies, "Other"))
    assert env.nodes("Other") == set()
    assert not os.path.exists(os.path.join(m.topologies, "Other"))
    log = m.read("devcluster", "log")
    assert "kill Ctl by root: ok" in log and "kill Other by root: ok" in log


def test_kill_finishes_a_half_done_kill(env):
    m = env.mount()
    hs.seed(env.zk.client, ROOT, "Half", level="running",
            cluster="devcluster", role=ROLE, environ=ENV)
    hs.kill_state(env.zk.client, ROOT, "Half", stop_after="pplans")
    assert env.nodes("Half") == {"schedulers", "executionstate",
                                 "topologies"}
    d = os.path.join(m.topologies, "Half")
    assert os.path.isdir(d)
    os.rmdir(d)
    assert env.nodes("Half") == set()
    # Only leftovers, no topologies node: an orphan, killed all the same.
    hs.seed(env.zk.client, ROOT, "Orphan", level="running",
            cluster="devcluster", role=ROLE, environ=ENV)
    env.zk.client.delete(ROOT + "/topologies/Orphan")
    d = os.path.join(m.topologies, "Orphan")
    assert wait_for(lambda: open(os.path.join(d, "state")).read() ==
                    "orphaned\n", 5)
    assert write(os.path.join(d, "control"), "kill") == (0, "")
    assert env.nodes("Orphan") == set()


def test_scheduler_down_gives_clear_errors(env):
    m, d, _ = submitted(env)
    env.aurora.stop()
    try:
        status, err = write(os.path.join(d, "control"), "restart 1")
        assert status != 0 and "Input/output error" in err, err
        status, err = write(os.path.join(d, "control"), "kill")
        assert status != 0
        # The kill failed at the scheduler: the state is untouched.
        assert "topologies" in env.nodes("Ctl")
        assert "aurora" in open(os.path.join(d, "error")).read()
    finally:
        env.aurora.start()


def test_tmanager_down_gives_eio(env):
    m = env.mount()
    # A TManager location where nothing listens.
    hs.seed(env.zk.client, ROOT, "Deaf", level="running",
            cluster="devcluster", role=ROLE, environ=ENV)
    status, err = write(os.path.join(m.topologies, "Deaf", "control"),
                        "deactivate")
    assert status != 0 and "Input/output error" in err, err
    assert "Deaf" in m.read("devcluster", "log")


def api_calls(env, method):
    with open(env.aurora.log_path) as f:
        return sum(1 for line in f if "api call %s" % method in line)


def test_containers_show_aurora_tasks(env):
    m, d, _ = submitted(env, stmgrs=2)
    cdir = os.path.join(d, "containers")
    assert sorted(os.listdir(cdir)) == ["0", "1", "2"]
    for i in ("0", "1", "2"):
        assert sorted(os.listdir(os.path.join(cdir, i))) == \
            ["events", "host", "state"]
        assert open(os.path.join(cdir, i, "state")).read() == "running\n"
        assert open(os.path.join(cdir, i, "host")).read() == "127.0.0.1\n"
        events = open(os.path.join(cdir, i, "events")).read().splitlines()
        words = [line.split()[1] for line in events]
        assert words[0] == "pending" and words[-1] == "running", events
    status = open(os.path.join(d, "status")).read()
    assert "containers: 3 (3 running)\n" in status, status
    health = m.read("devcluster", "health")
    assert "\nscheduler: ok aurora http://127.0.0.1:%d" % env.aurora.port \
        in health, health


def test_hundred_reads_one_scheduler_request(tmp_path, config_path, zk,
                                              aurora, heron_core,
                                              mount_factory):
    # A cache period longer than the test, so no timing can split it.
    env = Env(tmp_path, config_path, zk, aurora, heron_core, mount_factory,
              **{"heronfs.yaml": {"heronfs.aurora.cache.ms": 600000}})
    submitted(env, stmgrs=2)
    fresh = env.mount()      # a daemon that has asked nothing yet
    cdir = os.path.join(fresh.topologies, "Ctl", "containers")
    before = api_calls(env, "getTasksWithoutConfigs")
    for _ in range(100):
        for i in ("0", "1", "2"):
            assert open(os.path.join(cdir, i, "state")).read() == \
                "running\n"
            open(os.path.join(cdir, i, "host")).read()
            open(os.path.join(cdir, i, "events")).read()
    assert api_calls(env, "getTasksWithoutConfigs") - before == 1


def test_job_killed_behind_herons_back_is_orphaned(env):
    m, d, _ = submitted(env)
    r = env.aurora.cli("job", "killall", "devcluster/%s/%s/Ctl" % (ROLE, ENV))
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: open(os.path.join(d, "state")).read() ==
                    "orphaned\n", 10)
    assert "scheduler runs no job" in open(os.path.join(d, "error")).read()
    # And kill cleans it up.
    os.rmdir(d)
    assert env.nodes("Ctl") == set()


def test_health_names_every_dependency(env):
    m, d, _ = submitted(env)
    health = m.read("devcluster", "health").splitlines()
    kinds = [line.split(":")[0] for line in health]
    assert kinds == ["statemgr", "scheduler", "uploader", "core package"], \
        health
    assert all(": ok" in line for line in health), health
    env.aurora.stop()
    try:
        health = m.read("devcluster", "health")
        assert "scheduler: unreachable" in health, health
        # Heron's own view still reads, without waiting on Aurora.
        assert open(os.path.join(d, "state")).read() == "running\n"
    finally:
        env.aurora.start()


def test_silent_tmanager_times_out(env):
    import socket
    import threading
    import time
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()),
                     daemon=True).start()
    m = env.mount()
    hs.seed(env.zk.client, ROOT, "Mute", level="running",
            cluster="devcluster", role=ROLE, environ=ENV,
            controller_port=listener.getsockname()[1])
    t0 = time.monotonic()
    status, err = write(os.path.join(m.topologies, "Mute", "control"),
                        "deactivate")
    took = time.monotonic() - t0
    listener.close()
    assert status != 0 and "timed out" in err, err
    # heronfs.tmanager.timeout.ms is 5000 here: bounded, with slack.
    assert took < 30
