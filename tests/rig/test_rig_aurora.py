"""Conformance tests of the rig's Aurora: the scheduler emulator, the `aurora` command and
the Pystachio subset, checked against the facts of reference/aurora.md (section numbers
below) rather than against the rig's own code.

Run: cd /work/main && pytest-3 -x -q tests/rig/test_rig_aurora.py
"""
import http.client
import io
import json
import os
import re
import socket
import subprocess
import tarfile
import urllib.parse
import urllib.request

import pytest
from thrift.protocol import TBinaryProtocol
from thrift.transport import TTransport

from rig import aurora_thrift, pystachio
from rig.aurora_fixtures import wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERON_AURORA = os.path.join(REPO, "conf", "templates", "aurora", "heron.aurora")
KEY = ("www-data", "prod", "hello")

# The request bodies of reference/aurora.md §2.2, byte for byte.
REQ_TASKS_WITHOUT_CONFIGS = (
    b'[1,"getTasksWithoutConfigs",1,0,{"1":{"rec":{"11":{"set":["rec",1,'
    b'{"1":{"str":"www-data"},"2":{"str":"prod"},"3":{"str":"hello"}}]}}}}]')
REQ_TASKS_STATUS_FLAT = (
    b'[1,"getTasksStatus",1,0,{"1":{"rec":{"2":{"str":"hello"},"5":{"set":["i32",2,0,2]},'
    b'"9":{"str":"prod"},"14":{"str":"www-data"}}}}]')
REQ_JOB_SUMMARY = b'[1,"getJobSummary",1,0,{"1":{"str":"www-data"}}]'
REQ_ROLE_SUMMARY = b'[1,"getRoleSummary",1,0,{}]'
REQ_KILL_TASKS = (
    b'[1,"killTasks",1,0,{"4":{"rec":{"1":{"str":"www-data"},"2":{"str":"prod"},'
    b'"3":{"str":"hello"}}},"5":{"set":["i32",2,0,2]},"6":{"str":"bye"}}]')
REQ_ADD_INSTANCES = (
    b'[1,"addInstances",1,0,{"3":{"rec":{"1":{"rec":{"1":{"str":"www-data"},'
    b'"2":{"str":"prod"},"3":{"str":"hello"}}},"2":{"i32":0}}},"4":{"i32":2}}]')
REQ_RESTART_SHARDS = (
    b'[1,"restartShards",1,0,{"3":{"set":["i32",1,1]},"5":{"rec":{"1":{"str":"www-data"},'
    b'"2":{"str":"prod"},"3":{"str":"hello"}}}}]')

# Heron's thirteen bindings (reference/heron.md §1.6, §11.4), as AuroraCLIController passes them.
TOPOLOGY_ARGUMENTS = (
    "--topology-name=WordCount --topology-id=WordCount1f2e3d --topology-defn-file=WordCount.defn "
    "--state-manager-connection=127.0.0.1:2181 --state-manager-root=/heron "
    '--instance-jvm-opts="LVhteDFn(61)" --classpath=libs/*:WordCount.jar --pkg-type=tar')
HERON_BINDINGS = {
    "CLUSTER": "devcluster", "ROLE": "www-data", "ENVIRON": "prod", "TOPOLOGY_NAME": "WordCount",
    "NUM_CONTAINERS": "3", "CPUS_PER_CONTAINER": "2.0", "RAM_PER_CONTAINER": str(3 * 2 ** 30),
    "DISK_PER_CONTAINER": str(5 * 2 ** 30), "TIER": "preferred",
    "CORE_PACKAGE_URI": "file:///pkgs/heron-core.tar.gz",
    "TOPOLOGY_PACKAGE_URI": "file:///pkgs/WordCount/topology.tar.gz",
    "EXECUTOR_BINARY": "./heron-core/bin/heron-executor",
    "TOPOLOGY_ARGUMENTS": TOPOLOGY_ARGUMENTS,
}
HERON_PORTS = {"port1", "port2", "port3", "port4", "http", "scheduler", "yourkit",
               "metricscachemgr_serverport", "metricscachemgr_statsport", "ckptmgr_port"}

# A tiny service whose processes leave evidence in their sandbox: the instance id, the pid
# of the long-running process, and a real HTTP server on the allocated port `http`.
HELLO_PROCESSES = [
    ("setup", "echo {{mesos.instance}} > instance && echo set up on {{mesos.hostname}}"),
    ("serve", "echo $$ > serve.pid; echo {{thermos.ports[http]}} > port; "
              "exec /usr/bin/python3 -m http.server --bind 127.0.0.1 {{thermos.ports[http]}}"),
]


def job_file(path, processes, name="hello", instances=2, service=True, environment="prod",
             cluster="devcluster"):
    """Write an .aurora file with one job <cluster>/www-data/<environment>/<name>; processes
    are (name, cmdline) or (name, cmdline, {more Process fields})."""
    procs = ", ".join("Process(name=%r, cmdline=%r, **%r)" % (p[0], p[1], (p[2:] or [{}])[0])
                      for p in processes)
    path.write_text(
        "jobs = [Job(cluster=%r, role='www-data', environment=%r, name=%r,\n"
        "            instances=%d, service=%r,\n"
        "            task=SequentialTask(processes=[%s],\n"
        "                                resources=Resources(cpu=0.1, ram=16*MB, disk=16*MB)))]\n"
        % (cluster, environment, name, instances, service, procs))
    return str(path)


@pytest.fixture
def hello(aurora, tmp_path):
    """devcluster/www-data/prod/hello created with `aurora job create --wait-until RUNNING`."""
    config = job_file(tmp_path / "hello.aurora", HELLO_PROCESSES)
    result = aurora.cli("job", "create", "--wait-until", "RUNNING",
                        aurora.job_key(*KEY), config, "--verbose")
    assert result.returncode == 0, result.stderr
    aurora.wait_states(*KEY, {0: "RUNNING", 1: "RUNNING"})
    return result


def post(url, body, content_type="application/x-thrift", accept=None):
    """(status, content type, body) of a POST; content_type None sends no Content-Type."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Content-Length": str(len(body))}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if accept:
        headers["Accept"] = accept
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.getheader("Content-Type"), reply.read()
    finally:
        conn.close()


def reply_response(method, raw):
    """The Response object of a TJSONProtocol reply to `method`, with the envelope checked."""
    message = json.loads(raw)
    assert message[:4] == [1, method, 2, 0], message[:4]        # version, name, REPLY, seqid
    response = message[4]["0"]["rec"]
    assert response["1"] == {"i32": 1}, response                  # OK
    assert response["5"]["rec"]["1"] == {"str": "devcluster"}     # serverInfo.clusterName
    assert response["6"]["lst"][0] == "rec"                       # details, maybe empty
    return response


def tasks_of(response):
    lst = response["3"]["rec"]["3"]["rec"]["1"]["lst"]           # result.scheduleStatusResult.tasks
    assert lst[0] == "rec" and lst[1] == len(lst) - 2
    return lst[2:]


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


# --- HTTP and TJSONProtocol (§1.1, §2) ----------------------------------------------------

def test_reference_read_requests_get_well_formed_replies(aurora, hello):
    status, ctype, raw = post(aurora.api_url, REQ_TASKS_WITHOUT_CONFIGS)
    assert (status, ctype) == (200, "application/vnd.apache.thrift.json")
    tasks = tasks_of(reply_response("getTasksWithoutConfigs", raw))
    assert len(tasks) == 2
    for task in tasks:
        assigned = task["1"]["rec"]
        config = assigned["4"]["rec"]
        assert config["28"]["rec"] == {"1": {"str": "www-data"}, "2": {"str": "prod"},
                                       "3": {"str": "hello"}}
        assert config["25"]["rec"] == {"1": {"str": "AuroraExecutor"}}   # data left out
        assert task["2"] == {"i32": 2}                                    # RUNNING
        assert assigned["3"] == {"str": "127.0.0.1"}
        ports = assigned["5"]["map"]
        assert ports[:3] == ["str", "i32", 1] and set(ports[3]) == {"http"}

    status, _, raw = post(aurora.api_url, REQ_TASKS_STATUS_FLAT)
    tasks = tasks_of(reply_response("getTasksStatus", raw))
    assert len(tasks) == 2 and all(t["2"]["i32"] in (0, 2) for t in tasks)
    assert all(json.loads(t["1"]["rec"]["4"]["rec"]["25"]["rec"]["2"]["str"])["name"] == "hello"
               for t in tasks)                                            # data included

    status, _, raw = post(aurora.api_url, REQ_JOB_SUMMARY)
    summaries = reply_response("getJobSummary", raw)["3"]["rec"]["18"]["rec"]["1"]["set"]
    assert summaries[:2] == ["rec", 1]
    assert summaries[2]["1"]["rec"]["9"]["rec"]["3"] == {"str": "hello"}   # job.key.name
    assert summaries[2]["2"]["rec"]["1"] == {"i32": 2}                    # activeTaskCount

    status, _, raw = post(aurora.api_url, REQ_ROLE_SUMMARY)
    roles = reply_response("getRoleSummary", raw)["3"]["rec"]["17"]["rec"]["1"]["set"]
    assert roles == ["rec", 1, {"1": {"str": "www-data"}, "2": {"i32": 1}, "3": {"i32": 0}}]


def test_reference_write_requests_take_effect(aurora, hello):
    before = {t.assignedTask.instanceId: t.assignedTask.taskId for t in aurora.tasks(*KEY)}

    reply_response("addInstances", post(aurora.api_url, REQ_ADD_INSTANCES)[2])
    aurora.wait_states(*KEY, {i: "RUNNING" for i in range(4)})          # new ids max+1..max+2

    reply_response("restartShards", post(aurora.api_url, REQ_RESTART_SHARDS)[2])
    states = aurora.wait_states(*KEY, lambda s: s[1] == "RUNNING" and len(aurora.tasks(*KEY)) == 5)
    restarted = [t for t in aurora.tasks(*KEY) if t.assignedTask.instanceId == 1]
    assert restarted[1].ancestorId == before[1] and restarted[0].assignedTask.taskId == before[1]

    reply_response("killTasks", post(aurora.api_url, REQ_KILL_TASKS)[2])
    states = aurora.wait_states(*KEY, lambda s: s[0] == s[2] == "KILLED")
    assert states[1] == states[3] == "RUNNING"
    killed = [t for t in aurora.tasks(*KEY) if t.assignedTask.instanceId == 0][0]
    assert [(e.status, e.message) for e in killed.taskEvents[-2:]] == [
        (aurora.types.ScheduleStatus.KILLING, "Killed by UNSECURE.\nbye"),
        (aurora.types.ScheduleStatus.KILLED, "Task killed")]


@pytest.mark.parametrize("content_type", [None, "application/x-thrift", "application/json",
                                          "application/vnd.apache.thrift.json",
                                          "application/vnd.apache.thrift.json; charset=utf-8"])
def test_json_content_types_are_accepted(aurora, content_type):
    status, _, raw = post(aurora.api_url, b'[1,"getTierConfigs",1,0,{}]', content_type)
    assert status == 200
    tiers = reply_response("getTierConfigs", raw)["3"]["rec"]["27"]["rec"]
    assert tiers["1"] == {"str": "preemptible"}                           # defaultTierName
    settings = {t["1"]["str"]: t["2"]["map"][3] for t in tiers["2"]["set"][2:]}
    assert settings == {"preemptible": {"preemptible": "true", "revocable": "false"},
                        "preferred": {"preemptible": "false", "revocable": "false"},
                        "revocable": {"preemptible": "true", "revocable": "true"}}


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "application/json; charset=utf-8", "text/plain"])
def test_other_content_types_get_415(aurora, content_type):
    status, ctype, body = post(aurora.api_url, REQ_ROLE_SUMMARY, content_type)
    assert (status, ctype) == (415, "text/plain")
    assert body.decode() == "Unsupported Content-Type: " + content_type


def test_whitespace_padded_json_gets_500(aurora):
    assert post(aurora.api_url, b'[1, "getRoleSummary", 1, 0, {}]')[0] == 500
    assert post(aurora.api_url, b" " + REQ_ROLE_SUMMARY)[0] == 500


def test_unknown_method_gets_a_thrift_exception(aurora):
    status, _, raw = post(aurora.api_url, b'[1,"noSuchMethod",1,0,{}]')
    message = json.loads(raw)
    assert status == 200 and message[:4] == [1, "noSuchMethod", 3, 0]   # EXCEPTION
    assert message[4]["2"] == {"i32": 1}                                  # UNKNOWN_METHOD


def test_binary_protocol_round_trip(aurora):
    api = aurora_thrift.load()
    out = TTransport.TMemoryBuffer()
    api.AuroraAdmin.Client(TBinaryProtocol.TBinaryProtocol(out)).send_getRoleSummary()
    status, ctype, raw = post(aurora.api_url, out.getvalue(), aurora_thrift.BINARY,
                              accept=aurora_thrift.BINARY)
    assert (status, ctype) == (200, aurora_thrift.BINARY)
    client = api.AuroraAdmin.Client(TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(raw)))
    assert client.recv_getRoleSummary().responseCode == api.ttypes.ResponseCode.OK


def test_health_endpoints(aurora):
    for path in ("/health", "/leaderhealth"):
        with urllib.request.urlopen(aurora.url + path, timeout=5) as reply:
            assert reply.status == 200


# --- Pystachio and heron.aurora (§5, heron.md §2) -----------------------------------------

def test_heron_template_evaluates_with_herons_bindings():
    data, ports = pystachio.load_job(HERON_AURORA, HERON_BINDINGS, "devcluster", "www-data",
                                     "prod", "WordCount")
    assert ports == HERON_PORTS
    api = aurora_thrift.load()
    config = pystachio.job_configuration(api, data, ports, tiers=None, user="heron")
    task = config.taskConfig
    assert (config.instanceCount, task.isService, task.job.name) == (3, True, "WordCount")
    res = {(k, getattr(r, k)) for r in task.resources for k in vars(r) if getattr(r, k) is not None}
    assert res == ({("numCpus", 2.0), ("ramMb", 3072), ("diskMb", 5120)}
                   | {("namedPort", p) for p in HERON_PORTS})

    executor = json.loads(task.executorConfig.data)
    assert "instances" not in executor and "update_config" not in executor
    processes = executor["task"]["processes"]
    names = [p["name"] for p in processes]
    assert names == ["fetch_heron_system", "fetch_user_package", "launch_heron_executor",
                     "discover_profiler_port"]
    assert executor["task"]["constraints"] == [{"order": names}]
    assert processes[0]["cmdline"] == ("curl file:///pkgs/heron-core.tar.gz -o heron-core.tar.gz"
                                       " && tar zxf heron-core.tar.gz")
    assert processes[2]["max_failures"] == 1
    assert processes[2]["cmdline"] == (
        "./heron-core/bin/heron-executor --shard={{mesos.instance}}"
        " --server-port={{thermos.ports[port1]}}"
        " --tmanager-controller-port={{thermos.ports[port2]}}"
        " --tmanager-stats-port={{thermos.ports[port3]}}"
        " --shell-port={{thermos.ports[http]}}"
        " --metrics-manager-port={{thermos.ports[port4]}}"
        " --scheduler-port={{thermos.ports[scheduler]}}"
        " --metricscache-manager-server-port={{thermos.ports[metricscachemgr_serverport]}}"
        " --metricscache-manager-stats-port={{thermos.ports[metricscachemgr_statsport]}}"
        " --checkpoint-manager-port={{thermos.ports[ckptmgr_port]}} " + TOPOLOGY_ARGUMENTS)
    assert executor["announce"] == {"primary_port": "http",
                                    "portmap": {"admin": "http", "health": "http"}}
    health = executor["health_check_config"]
    assert health["health_checker"]["http"] == {"endpoint": "/health", "expected_response": "ok",
                                                "expected_response_code": 200}
    assert (health["initial_interval_secs"], health["interval_secs"],
            health["max_consecutive_failures"], health["timeout_secs"]) == (30, 10, 2, 5)


def tarball(path, files):
    """A .tar.gz holding {name: (text, mode)}."""
    with tarfile.open(path, "w:gz") as tar:
        for name, (text, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(text.encode()), mode
            tar.addfile(info, io.BytesIO(text.encode()))
    return "file://" + str(path)


def test_heron_template_runs_unchanged(aurora, tmp_path):
    # A core package whose executor records its argv; a topology package with a .defn.
    executor = "#!/bin/bash\nprintf '%s\\n' \"$@\" > executor.args\nexec sleep 60\n"
    binds = dict(HERON_BINDINGS, NUM_CONTAINERS="2", CORE_PACKAGE_URI=tarball(
        tmp_path / "heron-core.tar.gz", {"heron-core/bin/heron-executor": (executor, 0o755)}),
        TOPOLOGY_PACKAGE_URI=tarball(tmp_path / "topology.tar.gz",
                                     {"WordCount.defn": ("defn", 0o644),
                                      "heron-conf/override.yaml": ("{}\n", 0o644)}))
    argv = [a for k, v in binds.items() for a in ("--bind", "%s=%s" % (k, v))]
    result = aurora.cli("job", "create", "--wait-until", "RUNNING", *argv,
                        "devcluster/www-data/prod/WordCount", HERON_AURORA, "--verbose")
    assert result.returncode == 0, result.stderr
    for task in aurora.tasks("www-data", "prod", "WordCount"):
        at, sandbox = task.assignedTask, aurora.sandbox(task)
        args_file = os.path.join(sandbox, "executor.args")
        wait_for(lambda: os.path.exists(args_file), message="the executor of %s" % at.taskId)
        assert set(at.assignedPorts) == HERON_PORTS
        assert os.path.exists(os.path.join(sandbox, "WordCount.defn"))
        p = at.assignedPorts
        with open(args_file) as f:
            assert f.read().splitlines() == [
                "--shard=%d" % at.instanceId, "--server-port=%d" % p["port1"],
                "--tmanager-controller-port=%d" % p["port2"],
                "--tmanager-stats-port=%d" % p["port3"], "--shell-port=%d" % p["http"],
                "--metrics-manager-port=%d" % p["port4"], "--scheduler-port=%d" % p["scheduler"],
                "--metricscache-manager-server-port=%d" % p["metricscachemgr_serverport"],
                "--metricscache-manager-stats-port=%d" % p["metricscachemgr_statsport"],
                "--checkpoint-manager-port=%d" % p["ckptmgr_port"],
            ] + TOPOLOGY_ARGUMENTS.replace('"', "").split(" ")    # bash removed the quotes


def test_unbound_variable_exits_3(aurora):
    binds = [a for k, v in HERON_BINDINGS.items() if k != "CORE_PACKAGE_URI"
             for a in ("--bind", "%s=%s" % (k, v))]
    result = aurora.cli("job", "create", "--wait-until", "RUNNING", *binds,
                        "devcluster/www-data/prod/WordCount", HERON_AURORA, "--verbose")
    assert result.returncode == 3, result.stderr
    assert "Config contains unbound variables: CORE_PACKAGE_URI" in result.stderr
    assert aurora.tasks("www-data", "prod", "WordCount") == []


def test_tier_is_filled_from_production(aurora, tmp_path):
    config = job_file(tmp_path / "hello.aurora", [("sleep", "sleep 60")], instances=1)
    assert aurora.cli("job", "create", aurora.job_key(*KEY), config).returncode == 0
    task = aurora.tasks(*KEY)[0].assignedTask.task
    assert (task.tier, task.production) == ("preemptible", False)
    assert task.owner.user and task.container.mesos is not None


# --- the task lifecycle (§3.4, §6) and the CLI (§4) -----------------------------------------

def test_create_runs_the_processes_in_sandboxes_with_real_ports(aurora, hello):
    assert hello.stdout == ("Job create succeeded: job url=%s/scheduler/www-data/prod/hello\n"
                            % aurora.url)
    S = aurora.types.ScheduleStatus
    for task in aurora.tasks(*KEY):
        at, sandbox = task.assignedTask, aurora.sandbox(task)
        assert re.fullmatch(r"www-data-prod-hello-%d-[0-9a-f-]{36}" % at.instanceId, at.taskId)
        assert [e.status for e in task.taskEvents] == [S.PENDING, S.ASSIGNED, S.STARTING, S.RUNNING]
        assert task.taskEvents == sorted(task.taskEvents, key=lambda e: e.timestamp)
        port = at.assignedPorts["http"]
        assert {r.namedPort for r in at.task.resources} == {None, "http"}
        wait_for(lambda: os.path.exists(os.path.join(sandbox, "port")), message="serve to start")
        with open(os.path.join(sandbox, "instance")) as f:
            assert f.read() == "%d\n" % at.instanceId
        with open(os.path.join(sandbox, "port")) as f:
            assert f.read() == "%d\n" % port
        with open(os.path.join(sandbox, ".logs", "setup", "0", "stdout")) as f:
            assert f.read() == "set up on 127.0.0.1\n"
        wait_for(lambda: port_open(port), message="the http server on port %d" % port)


def test_killall_kills_the_processes(aurora, hello):
    tasks = aurora.tasks(*KEY)
    pid_files = [os.path.join(aurora.sandbox(t), "serve.pid") for t in tasks]
    wait_for(lambda: all(os.path.exists(f) for f in pid_files), message="the servers to start")
    pids = [int(open(f).read()) for f in pid_files]
    assert all(pid_alive(p) for p in pids)
    result = aurora.cli("job", "killall", aurora.job_key(*KEY), "--verbose",
                        "--batch-size", "2147483647")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Successfully killed instances [0, 1]",
                                          "Job killall succeeded"]
    assert aurora.states(*KEY) == {0: "KILLED", 1: "KILLED"}
    assert not any(pid_alive(p) for p in pids)
    assert not any(port_open(t.assignedTask.assignedPorts["http"]) for t in tasks)

    # Nothing left to kill: Aurora says so on stderr and still exits 0 (see README.md).
    again = aurora.cli("job", "killall", aurora.job_key(*KEY), "--batch-size", "2147483647")
    assert again.returncode == 0
    assert "No tasks to kill found for job devcluster/www-data/prod/hello" in again.stderr


def test_kill_listed_instances(aurora, hello):
    assert aurora.cli("job", "kill", aurora.job_key(*KEY)).returncode == 6
    result = aurora.cli("job", "kill", aurora.job_key(*KEY) + "/1", "--batch-size", "2147483647")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("Job kill succeeded\n")
    assert aurora.states(*KEY) == {0: "RUNNING", 1: "KILLED"}


def test_restart_one_instance_gives_a_new_task(aurora, hello):
    old = {t.assignedTask.instanceId: t for t in aurora.tasks(*KEY)}
    result = aurora.cli("job", "restart", aurora.job_key(*KEY) + "/1", "--verbose",
                        "--batch-size", "2147483647")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Job devcluster/www-data/prod/hello restarted successfully\n"
    tasks = [t for t in aurora.tasks(*KEY) if t.assignedTask.instanceId == 1]
    S = aurora.types.ScheduleStatus
    assert [t.status for t in tasks] == [S.KILLED, S.RUNNING]
    assert tasks[0].assignedTask.taskId == old[1].assignedTask.taskId
    assert (tasks[0].taskEvents[-2].status, tasks[0].taskEvents[-2].message) == (
        S.RESTARTING, "Restarted by UNSECURE")
    assert tasks[1].ancestorId == old[1].assignedTask.taskId != tasks[1].assignedTask.taskId
    assert [t.assignedTask.taskId for t in aurora.tasks(*KEY) if t.assignedTask.instanceId == 0] \
        == [old[0].assignedTask.taskId]


def test_restart_of_inactive_instance_is_refused(aurora, hello):
    result = aurora.cli("job", "restart", aurora.job_key(*KEY) + "/7")
    assert result.returncode == 10
    assert result.stderr.endswith("Error restarting job devcluster/www-data/prod/hello:\n"
                                  "\tNot all requested shards are active.\n")


def test_add_prints_the_new_instance_ids(aurora, hello):
    result = aurora.cli("job", "add", "--wait-until", "RUNNING", aurora.job_key(*KEY) + "/0",
                        "2", "--verbose")
    assert result.returncode == 0, result.stderr
    assert "Querying instance statuses: [2, 3]" in result.stderr
    assert aurora.states(*KEY) == {0: "RUNNING", 1: "RUNNING", 2: "RUNNING", 3: "RUNNING"}
    refused = aurora.cli("job", "add", aurora.job_key(*KEY) + "/9", "1")
    assert refused.returncode == 6 and "Invalid instance parameter: [9]" in refused.stderr


def test_status_and_list(aurora, hello):
    listed = aurora.cli("job", "list", "devcluster/www-data")
    assert listed.stdout == "devcluster/www-data/prod/hello\n"
    status = aurora.cli("job", "status", aurora.job_key(*KEY), "--write-json")
    assert status.returncode == 0, status.stderr
    [job] = json.loads(status.stdout)
    assert job["job"] == "devcluster/www-data/prod/hello" and job["inactive"] == []
    assert [t["status"] for t in job["active"]] == ["RUNNING", "RUNNING"]
    assert job["active"][0]["assignedTask"]["task"]["isService"] is True
    assert [e["status"] for e in job["active"][1]["taskEvents"]] == [
        "PENDING", "ASSIGNED", "STARTING", "RUNNING"]
    text = aurora.cli("job", "status", aurora.job_key(*KEY))
    assert text.stdout.startswith(
        "Active tasks (2):\n\tTask role: www-data, env: prod, name: hello, instance: 0")
    missing = aurora.cli("job", "status", "devcluster/www-data/prod/nothing", "--write-json")
    assert (missing.returncode, json.loads(missing.stdout)) == (
        0, {"jobspec": "devcluster/www-data/prod/nothing", "error": "No matching jobs found"})


def test_failing_service_is_rescheduled_with_a_throttle(aurora, tmp_path):
    config = job_file(tmp_path / "bad.aurora", [("boom", "echo oops >&2; exit 3")], instances=1)
    assert aurora.cli("job", "create", aurora.job_key(*KEY), config).returncode == 0
    tasks = wait_for(lambda: [t for t in aurora.tasks(*KEY)][:2] if len(aurora.tasks(*KEY)) >= 2
                     else None, message="a rescheduled task")
    S = aurora.types.ScheduleStatus
    first, second = tasks
    assert first.status == S.FAILED and first.failureCount == 1
    assert first.taskEvents[-1].message == "Task failed: process boom exited with status 3"
    assert second.ancestorId == first.assignedTask.taskId and second.failureCount == 1
    assert second.taskEvents[0].status == S.THROTTLED          # it ran for less than a second
    with open(os.path.join(aurora.sandbox(first), ".logs", "boom", "0", "stderr")) as f:
        assert f.read() == "oops\n"


def test_failing_batch_job_is_not_rescheduled(aurora, tmp_path):
    config = job_file(tmp_path / "bad.aurora", [("boom", "exit 3")], instances=1, service=False)
    result = aurora.cli("job", "create", "--wait-until", "FINISHED", aurora.job_key(*KEY), config)
    assert result.returncode == 0, result.stderr       # a terminal state is what FINISHED waits for
    assert aurora.states(*KEY) == {0: "FAILED"} and len(aurora.tasks(*KEY)) == 1


def test_a_failed_process_is_rerun_up_to_max_failures(aurora, tmp_path):
    flaky = "test -e failed-once || { touch failed-once; echo first >&2; exit 1; }"
    config = job_file(tmp_path / "flaky.aurora",
                      [("flaky", flaky, {"max_failures": 2}), ("after", "echo ran > after")],
                      instances=1, service=False)
    result = aurora.cli("job", "create", "--wait-until", "FINISHED", aurora.job_key(*KEY), config)
    assert result.returncode == 0, result.stderr
    assert aurora.states(*KEY) == {0: "FINISHED"}
    sandbox = aurora.sandbox(aurora.tasks(*KEY)[0])
    with open(os.path.join(sandbox, ".logs", "flaky", "0", "stderr")) as f:
        assert f.read() == "first\n"                              # run 0 failed
    assert os.path.exists(os.path.join(sandbox, ".logs", "flaky", "1", "stderr"))   # run 1
    assert os.path.exists(os.path.join(sandbox, "after"))         # then the next process


def test_create_job_validation(aurora):
    t = aurora.types
    api = aurora_thrift.load()
    data, ports = pystachio.load_job(HERON_AURORA, HERON_BINDINGS, "devcluster", "www-data",
                                     "prod", "WordCount")

    def create(**changes):
        config = pystachio.job_configuration(api, data, ports)
        for name, value in changes.items():
            target = config.taskConfig if name == "resources" else config
            setattr(target, name, value)
        reply = aurora.call("createJob", config)
        code = t.ResponseCode._VALUES_TO_NAMES[reply.responseCode]
        return code, [d.message for d in reply.details]

    assert create(resources={t.Resource(numCpus=0.0), t.Resource(ramMb=1), t.Resource(diskMb=1)}) \
        == ("INVALID_REQUEST", ["num_cpus must be greater than 0.0"])
    assert create(instanceCount=0) == ("INVALID_REQUEST", ["Instance count must be positive."])
    assert create() == ("OK", [])
    assert create() == ("INVALID_REQUEST", ["Job www-data/prod/WordCount already exists"])
    instance7 = t.InstanceKey(jobKey=t.JobKey("www-data", "prod", "WordCount"), instanceId=7)
    reply = aurora.call("addInstances", instance7, 1)
    assert [d.message for d in reply.details] == ["No active task found for a given instance ID."]


def test_two_clusters_share_one_config_root(aurora_factory, tmp_path):
    east, west = aurora_factory("east"), aurora_factory("west")
    with open(os.path.join(east.config_root, "clusters.json")) as f:
        assert [c["name"] for c in json.load(f)] == ["east", "west"]
    for cluster in (east, west):
        config = job_file(tmp_path / (cluster.cluster + ".aurora"), [("sleep", "sleep 60")],
                          instances=1, cluster=cluster.cluster)
        result = west.cli("job", "create", cluster.job_key(*KEY), config)
        assert result.returncode == 0, result.stderr
    listed = west.cli("job", "list", "*/www-data")
    assert listed.stdout == "east/www-data/prod/hello\nwest/www-data/prod/hello\n"


def test_killed_pending_tasks_vanish(aurora_factory, tmp_path):
    aurora = aurora_factory(assign_delay=60)
    config = job_file(tmp_path / "hello.aurora", HELLO_PROCESSES)
    assert aurora.cli("job", "create", aurora.job_key(*KEY), config).returncode == 0
    assert aurora.states(*KEY) == {0: "PENDING", 1: "PENDING"}
    assert aurora.cli("job", "killall", aurora.job_key(*KEY)).returncode == 0
    assert aurora.tasks(*KEY) == []


def test_exit_codes(aurora, tmp_path, hello):
    config = job_file(tmp_path / "hello.aurora", HELLO_PROCESSES)
    unknown = aurora.cli("job", "create", "nocluster/www-data/prod/hello", config)
    assert unknown.returncode == 3
    assert unknown.stderr == "Error executing command: Unknown cluster: nocluster\n"

    exists = aurora.cli("job", "create", aurora.job_key(*KEY), config)
    assert exists.returncode == 4
    assert exists.stderr == ("Job creation failed due to error:\n"
                             "\tJob www-data/prod/hello already exists\n")

    bad_env = job_file(tmp_path / "default.aurora", HELLO_PROCESSES, environment="default")
    refused = aurora.cli("job", "create", "devcluster/www-data/default/hello", bad_env)
    assert refused.returncode == 4
    assert ("Job environment default doesn't match: ^(prod|devel|test|staging\\d*)$"
            in refused.stderr)

    assert aurora.cli("job", "create", "not-a-key", config).returncode == 2   # argparse usage


def test_offline_scheduler_then_back(aurora, hello):
    aurora.stop()
    env = dict(aurora.env, AURORA_RIG_CONNECT_TIMEOUT="0.5")
    result = subprocess.run(["aurora", "job", "list", "devcluster/www-data"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 9 and "Timed out talking to the scheduler" in result.stderr
    aurora.start()
    assert aurora.states(*KEY) == {0: "RUNNING", 1: "RUNNING"}        # tasks kept running


def test_stop_kills_every_process(aurora_factory, tmp_path):
    aurora = aurora_factory()
    config = job_file(tmp_path / "hello.aurora", HELLO_PROCESSES)
    assert aurora.cli("job", "create", "--wait-until", "RUNNING", aurora.job_key(*KEY),
                      config).returncode == 0
    wait_for(lambda: len(aurora.leftover_processes()) == 2, message="both servers to run")
    pids = aurora.leftover_processes()
    assert aurora.close() == []                     # nothing had to be killed after the stop
    assert aurora.proc.returncode == 0
    assert not any(pid_alive(p) for p in pids)


# --- leader discovery through ZooKeeper (§1.4, §4.2) -----------------------------------------

def test_leader_announcement_in_zookeeper(zk, aurora_factory, tmp_path):
    aurora = aurora_factory(zk=zk)
    members = zk.client.get_children("/aurora/scheduler")
    assert len(members) == 1 and re.fullmatch(r"member_\d{10}", members[0])
    data = json.loads(zk.client.get("/aurora/scheduler/" + members[0])[0])
    endpoint = {"host": "127.0.0.1", "port": aurora.port}
    assert data == {"serviceEndpoint": endpoint, "additionalEndpoints": {"http": endpoint},
                    "status": "ALIVE"}
    with open(os.path.join(aurora.config_root, "clusters.json")) as f:
        assert json.load(f) == [{"name": "devcluster", "auth_mechanism": "UNAUTHENTICATED",
                                 "zk": "127.0.0.1", "zk_port": zk.port,
                                 "scheduler_zk_path": "/aurora/scheduler"}]

    config = job_file(tmp_path / "hello.aurora", [("sleep", "sleep 60")], instances=1)
    result = aurora.cli("job", "create", aurora.job_key(*KEY), config)    # found through ZK
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("Job create succeeded: job url=%s/scheduler/www-data/prod/hello\n"
                             % aurora.url)

    aurora.stop()
    assert zk.client.get_children("/aurora/scheduler") == []
    aurora.start()
    assert len(zk.client.get_children("/aurora/scheduler")) == 1
