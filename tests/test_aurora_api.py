"""aurora_api and tmanager, driven through tests/aurora_probe.

Against the rig's Aurora emulator (reached through scheduler_uri or a real
ZooKeeper), a scripted stand-in scheduler defined here (for replies the
emulator never gives: exceptions, error codes, redirects, slowness), and
small HTTP servers playing the TManager. Facts checked come from
reference/aurora.md (sections cited) and heron.md 6.1.

Run through meson test, or: HERONFS_BUILD_DIR=$PWD/build pytest-3 -q tests/test_aurora_api.py
"""
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from mount_fixtures import heronfs_bin

ROLE, ENV, NAME = "www-data", "devel", "probe"
KEY = (ROLE, ENV, NAME)
FIELDS = ("instance", "status", "host", "task_id", "ancestor", "failure_count", "n_events")

# A service of two instances that just sleeps; the sleep length comes from --bind.
JOB_FILE = """\
sleeper = Process(name='sleeper', cmdline='sleep {{sleep_secs}}')
jobs = [Service(cluster='devcluster', role='www-data', environment='devel', name='probe',
                instances=2,
                task=Task(processes=[sleeper],
                          resources=Resources(cpu=0.1, ram=16*MB, disk=16*MB)))]
"""

# reference/aurora.md §2.2, byte for byte.
REQ_HELLO = (b'[1,"getTasksWithoutConfigs",1,0,{"1":{"rec":{"11":{"set":["rec",1,'
             b'{"1":{"str":"www-data"},"2":{"str":"prod"},"3":{"str":"hello"}}]}}}}]')

# The worked reply of reference/aurora.md §2.3, on one line as on the wire. The reference
# prints one '}' too few after the task list ("]}}]}}}}" where five close: lst, the
# ScheduleStatusResult, its rec, the Result union, its rec); Apache Thrift's TJSONProtocol
# reads this corrected form and writes it back byte for byte.
REPLY_HELLO = (
    '[1,"getTasksWithoutConfigs",2,0,{"0":{"rec":{"1":{"i32":1},'
    '"3":{"rec":{"3":{"rec":{"1":{"lst":["rec",1,'
    '{"1":{"rec":{"1":{"str":"www-data-prod-hello-0-6a1f"},'
    '"2":{"str":"agent-1"},"3":{"str":"host1"},'
    '"4":{"rec":{"7":{"tf":1},"11":{"i32":0},"13":{"i32":1},'
    '"25":{"rec":{"1":{"str":"AuroraExecutor"}}},'
    '"28":{"rec":{"1":{"str":"www-data"},"2":{"str":"prod"},"3":{"str":"hello"}}},'
    '"29":{"rec":{"1":{"rec":{}}}},"30":{"str":"preemptible"},'
    '"32":{"set":["rec",3,{"1":{"dbl":0.5}},{"2":{"i64":128}},{"3":{"i64":256}}]}}},'
    '"5":{"map":["str","i32",1,{"http":31000}]},"6":{"i32":0}}},'
    '"2":{"i32":2},"3":{"i32":0},'
    '"4":{"lst":["rec",2,{"1":{"i64":1700000000000},"2":{"i32":0}},'
    '{"1":{"i64":1700000005000},"2":{"i32":2}}]}}]}}}}},'
    '"5":{"rec":{"1":{"str":"devcluster"},"3":{"str":""}}},'
    '"6":{"lst":["rec",0]}}}}]')
HELLO_LINE = "0 running host1 www-data-prod-hello-0-6a1f - 0 2"


# --- helpers ------------------------------------------------------------------------------

def probe_path():
    build = os.environ.get("HERONFS_BUILD_DIR")
    if not build:
        # Beside the daemon: <build>/fs/heronfs and <build>/tests/aurora_probe.
        build = os.path.dirname(os.path.dirname(os.path.abspath(heronfs_bin())))
    path = os.path.join(build, "tests", "aurora_probe")
    if not os.access(path, os.X_OK):
        pytest.fail("%s not built" % path)
    return path


class Probe:
    """Runs aurora_probe with an environment of the test's own: HOME is a temporary
    directory, so ~/.aurora/clusters.json is the test's, never the machine's."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.env = dict(os.environ, HOME=str(self.home))

    def conf(self, name="conf", **keys):
        """A Heron cluster conf directory whose heronfs.yaml holds keys (dots allowed)."""
        d = self.tmp / name / "devcluster"
        d.mkdir(parents=True)
        (d / "scheduler.yaml").write_text("")
        (d / "heronfs.yaml").write_text("".join("%s: %s\n" % kv for kv in keys.items()))
        return str(d)

    def run(self, *argv, env=None, wrapper=(), timeout=60):
        start = time.monotonic()
        result = subprocess.run(list(wrapper) + [probe_path()] + [str(a) for a in argv],
                                env=env or self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, timeout=timeout)
        result.elapsed = time.monotonic() - start
        return result

    def tasks(self, conf, *options, env=None, **kw):
        return self.run(conf, "devcluster", "tasks", *KEY, *options, env=env, **kw)

    def health(self, conf, env=None):
        return self.run(conf, "devcluster", "health", env=env)


def task_lines(result):
    """The task lines of a successful `tasks` run and its request count."""
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("requests "), lines
    return [l for l in lines[:-1] if not l.startswith("latest ")], int(lines[-1].split()[1])


def expected_lines(aurora, key=KEY):
    """The rig's own view (decoded by Apache Thrift's library) in the probe's format."""
    names = aurora.types.ScheduleStatus._VALUES_TO_NAMES
    return ["%d %s %s %s %s %d %d" % (
        t.assignedTask.instanceId, names[t.status].lower(), t.assignedTask.slaveHost or "-",
        t.assignedTask.taskId, t.ancestorId or "-", t.failureCount, len(t.taskEvents))
        for t in aurora.tasks(*key)]


def create_job(aurora, tmp_path):
    config = tmp_path / "probe.aurora"
    config.write_text(JOB_FILE)
    result = aurora.cli("job", "create", "--wait-until", "RUNNING", aurora.job_key(*KEY),
                        str(config), "--bind", "sleep_secs=1000")
    assert result.returncode == 0, result.stderr
    aurora.wait_states(*KEY, {0: "RUNNING", 1: "RUNNING"})


def clusters_root(tmp_path, name, entries):
    """A separate AURORA_CONFIG_ROOT holding clusters.json = entries (list or dict)."""
    root = tmp_path / name
    root.mkdir()
    (root / "clusters.json").write_text(json.dumps(entries))
    return str(root)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def member_data(http=None, https=None, service=None):
    """ServerSet member JSON (reference/aurora.md §1.4) for ports on 127.0.0.1."""
    ep = lambda port: {"host": "127.0.0.1", "port": port}
    data = {"status": "ALIVE", "additionalEndpoints": {}}
    if service:
        data["serviceEndpoint"] = ep(service)
    if http:
        data["additionalEndpoints"]["http"] = ep(http)
    if https:
        data["additionalEndpoints"]["https"] = ep(https)
    return json.dumps(data).encode()


class Scripted(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 answering every request with the next of `replies`
    ((status, body[, headers]); the last one repeats) after `delay` seconds, calling
    `before_reply(n)` first if set. Records (method, path, headers, body) of each request."""
    daemon_threads = True

    def __init__(self, replies=((200, ""),), delay=0.0):
        self.replies, self.delay, self.before_reply = list(replies), delay, None
        self.requests = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.port = self.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def next_reply(self, record):
        with self.lock:
            self.requests.append(record)
            n = len(self.requests)
        if self.before_reply:
            self.before_reply(n)
        return self.replies[min(n, len(self.replies)) - 1]

    def close(self):
        self.shutdown()
        self.server_close()


class ScriptedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.server.next_reply((self.command, self.path, dict(self.headers), body))
        time.sleep(self.server.delay)
        status, payload, headers = (list(reply) + [{}])[:3]
        payload = payload.encode() if isinstance(payload, str) else payload
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def probe(tmp_path):
    return Probe(tmp_path)


@pytest.fixture
def scripted():
    servers = []

    def make(*args, **kw):
        servers.append(Scripted(*args, **kw))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel's backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


@pytest.fixture
def job(aurora, tmp_path):
    create_job(aurora, tmp_path)
    return aurora


# --- reading tasks ---------------------------------------------------------------------------

def test_tasks_through_scheduler_uri(job, probe):
    lines, requests = task_lines(probe.tasks(probe.conf(), env=dict(job.env,
                                                                      HOME=str(probe.home))))
    assert lines == expected_lines(job)
    assert [l.split()[:3] for l in lines] == [["0", "running", "127.0.0.1"],
                                              ["1", "running", "127.0.0.1"]]
    assert requests == 1


def test_health_names_the_scheduler_and_how_it_was_found(job, probe):
    env = dict(job.env, HOME=str(probe.home))
    result = probe.health(probe.conf(), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "scheduler: ok aurora %s (scheduler_uri in %s/clusters.json)\n" % (
        job.url, job.config_root)


def test_tasks_and_health_through_zookeeper(zk, aurora_factory, probe, tmp_path):
    aurora = aurora_factory(zk=zk)
    create_job(aurora, tmp_path)
    env = dict(aurora.env, HOME=str(probe.home))
    conf = probe.conf()
    lines, requests = task_lines(probe.tasks(conf, env=env))
    assert lines == expected_lines(aurora) and requests == 1
    result = probe.health(conf, env=env)
    assert result.stdout == ("scheduler: ok aurora %s (leader from zookeeper 127.0.0.1:%d"
                             "/aurora/scheduler)\n" % (aurora.url, zk.port))
    # With zk set, scheduler_uri is not used (§4.2), even when it names another scheduler.
    root = clusters_root(tmp_path, "both", [{
        "name": "devcluster", "zk": "127.0.0.1", "zk_port": zk.port,
        "scheduler_zk_path": "/aurora/scheduler",
        "scheduler_uri": "http://127.0.0.1:%d" % closed_port()}])
    lines, _ = task_lines(probe.tasks(conf, env=dict(env, AURORA_CONFIG_ROOT=root)))
    assert lines == expected_lines(aurora)


def test_member_choice(aurora, zk, probe, scripted, tmp_path):
    """First member_ child in sorted order; https, then http, then serviceEndpoint (§1.4)."""
    create_job(aurora, tmp_path)
    client = zk.client
    env = dict(probe.env, AURORA_CONFIG_ROOT=clusters_root(tmp_path, "zkroot", {
        "dev": {"name": "devcluster", "zk": "127.0.0.1", "zk_port": str(zk.port),
                "scheduler_zk_path": "/members/"}}))
    conf = probe.conf(**{"heronfs.aurora.request.timeout.ms": 3000})
    dead = closed_port()

    def only(*datas):
        client.delete("/members", recursive=True)
        client.ensure_path("/members")
        client.create("/members/_c_4fe1-lock-0000000000", b"not a member")
        for data in datas:
            client.create("/members/member_", data, sequence=True)

    only(member_data(http=aurora.port, service=dead), member_data(http=dead))
    assert task_lines(probe.tasks(conf, env=env))[0] == expected_lines(aurora)
    only(member_data(service=aurora.port))
    assert task_lines(probe.tasks(conf, env=env))[0] == expected_lines(aurora)
    only(member_data(https=aurora.port, http=aurora.port))
    result = probe.tasks(conf, env=env)
    assert result.returncode == 1
    assert "https://127.0.0.1:%d/api" % aurora.port in result.stderr
    only()
    result = probe.tasks(conf, env=env)
    assert result.returncode == 1
    assert "ZooKeeper 127.0.0.1:%d: no schedulers detected under /members" % zk.port \
        in result.stderr


def test_clusters_json_home_file_overrides_config_root(job, probe, tmp_path):
    """Aurora's client reads $AURORA_CONFIG_ROOT, then ~/.aurora; the later entry of a
    name wins; object form and entries without a name are accepted (§4.2)."""
    dead = "http://127.0.0.1:%d" % closed_port()
    root = clusters_root(tmp_path, "root", [{"name": "devcluster", "scheduler_uri": dead},
                                             {"scheduler_uri": dead}])
    env = dict(probe.env, AURORA_CONFIG_ROOT=root)
    conf = probe.conf()
    result = probe.tasks(conf, env=env)
    assert result.returncode == 1 and dead + "/api" in result.stderr
    (probe.home / ".aurora").mkdir()
    (probe.home / ".aurora" / "clusters.json").write_text(json.dumps({
        "nameless": {"scheduler_uri": dead},
        "dev": {"name": "devcluster", "scheduler_uri": job.url}}))
    assert task_lines(probe.tasks(conf, env=env))[0] == expected_lines(job)


def test_scheduler_uri_key_overrides_clusters_json(job, probe, tmp_path):
    env = dict(probe.env, AURORA_CONFIG_ROOT=str(tmp_path / "nowhere"))
    conf = probe.conf(**{"heronfs.aurora.scheduler_uri": job.url + "/"})
    assert task_lines(probe.tasks(conf, env=env))[0] == expected_lines(job)
    assert probe.health(conf, env=env).stdout == \
        "scheduler: ok aurora %s/ (heronfs.aurora.scheduler_uri)\n" % job.url


def test_missing_cluster_is_reported_not_fatal(probe, tmp_path):
    root = clusters_root(tmp_path, "root", [{"name": "elsewhere", "scheduler_uri": "http://x"}])
    env = dict(probe.env, AURORA_CONFIG_ROOT=root)
    conf = probe.conf()
    result = probe.tasks(conf, env=env)
    assert result.returncode == 1
    assert "Aurora cluster devcluster is in neither %s/clusters.json nor %s/.aurora/" \
        "clusters.json" % (root, probe.home) in result.stderr
    assert probe.health(conf, env=env).stdout.startswith(
        "scheduler: unreachable aurora cluster devcluster (Aurora cluster devcluster is in")


def test_restart_shows_a_new_task_with_its_ancestor(job, probe):
    env = dict(job.env, HOME=str(probe.home))
    before, _ = task_lines(probe.tasks(probe.conf(), env=env))
    old = {int(l.split()[0]): l.split()[3] for l in before}
    result = job.cli("job", "restart", job.job_key(*KEY) + "/1", "--batch-size", "2147483647")
    assert result.returncode == 0, result.stderr
    job.wait_states(*KEY, {0: "RUNNING", 1: "RUNNING"})
    result = probe.tasks(probe.conf("conf2"), "latest", env=env)
    lines, _ = task_lines(result)
    assert lines == expected_lines(job)
    one = [dict(zip(FIELDS, l.split())) for l in lines if l.startswith("1 ")]
    assert [(t["status"], t["task_id"]) for t in one][0] == ("killed", old[1])
    assert one[1]["status"] == "running" and one[1]["ancestor"] == old[1] != one[1]["task_id"]
    assert [l for l in result.stdout.splitlines() if l.startswith("latest ")] == [
        "latest 0 running %s" % old[0], "latest 1 running %s" % one[1]["task_id"]]


# --- the cache ---------------------------------------------------------------------------------

def test_reads_within_a_cache_period_make_one_request(job, probe):
    env = dict(job.env, HOME=str(probe.home))
    conf = probe.conf(**{"heronfs.aurora.cache.ms": 60000})
    lines, requests = task_lines(probe.tasks(conf, "repeat", 100, env=env))
    assert requests == 1 and lines == expected_lines(job)
    nocache = probe.conf("nocache", **{"heronfs.aurora.cache.ms": 0})
    assert task_lines(probe.tasks(nocache, "repeat", 3, env=env))[1] == 3


def test_concurrent_readers_share_one_request(probe, scripted):
    """Eight threads ask while a slow request is in flight: they all take its answer,
    even with no cache period at all."""
    server = scripted([(200, REPLY_HELLO)], delay=1.0)
    conf = probe.conf(**{"heronfs.aurora.scheduler_uri": server.url,
                         "heronfs.aurora.cache.ms": 0})
    lines, requests = task_lines(probe.run(conf, "devcluster", "tasks", "www-data", "prod",
                                           "hello", "threads", 8))
    assert lines == [HELLO_LINE]
    assert requests == 1 and len(server.requests) == 1


# --- the wire ----------------------------------------------------------------------------------

def test_request_is_the_clients_query_and_the_reference_reply_parses(probe, scripted):
    server = scripted([(200, REPLY_HELLO, {"Content-Type": "application/vnd.apache.thrift.json"})])
    conf = probe.conf(**{"heronfs.aurora.scheduler_uri": server.url})
    result = probe.run(conf, "devcluster", "tasks", "www-data", "prod", "hello")
    assert task_lines(result)[0] == [HELLO_LINE]
    (method, path, headers, body), = server.requests
    assert (method, path, body) == ("POST", "/api", REQ_HELLO)
    assert headers["Content-Type"] == "application/x-thrift"
    assert headers["Accept"] == "application/vnd.apache.thrift.json"


def test_307_is_followed_with_the_post_kept(job, probe, scripted):
    follower = scripted([(307, "", {"Location": job.api_url})])
    conf = probe.conf(**{"heronfs.aurora.scheduler_uri": follower.url + "/scheduler"})
    lines, requests = task_lines(probe.tasks(conf))
    assert lines == expected_lines(job) and requests == 1
    (method, path, _, _), = follower.requests
    assert (method, path) == ("POST", "/api")      # urljoin(base, 'api') (§1.2)


@pytest.mark.parametrize("status, body, expected", [
    (200, '[1,"getTasksWithoutConfigs",3,0,{"1":{"str":"Invalid method name: \'x\'"},'
          '"2":{"i32":1}}]', "Thrift exception: Invalid method name: 'x'"),
    (200, '[1,"getTasksWithoutConfigs",2,0,{"0":{"rec":{"1":{"i32":2},"5":{"rec":{}},'
          '"6":{"lst":["rec",2,{"1":{"str":"storage is on fire"}},{"1":{"str":"again"}}]}}}}]',
     "ERROR: storage is on fire, again"),
    (200, '[1,"getTasksWithoutConfigs",2,0,{"0":{"rec":{"1":{"i32":1},"3":{"rec":{"3":{"rec":'
          '{"1":{"lst":["rec",1,{"2":{"i32":2}}]}}}}}}}}]', "lacks its taskId"),
    (200, "<html>not thrift</html>", "reply is not JSON"),
    (415, "Unsupported Content-Type: x\nmore", "HTTP 415: Unsupported Content-Type: x"),
    (503, "<html>no leader</html>", "HTTP 503: <html>no leader</html>"),
])
def test_failed_replies_name_the_url_and_the_cause(probe, scripted, status, body, expected):
    server = scripted([(status, body)])
    conf = probe.conf(**{"heronfs.aurora.scheduler_uri": server.url})
    result = probe.tasks(conf)
    assert result.returncode == 1
    assert "getTasksWithoutConfigs %s/api" % server.url in result.stderr
    assert expected in result.stderr


def test_an_empty_job_is_not_an_error(aurora, probe):
    env = dict(aurora.env, HOME=str(probe.home))
    assert task_lines(probe.tasks(probe.conf(), env=env)) == ([], 1)


def test_bad_job_key_is_refused_before_any_request(probe, scripted):
    server = scripted()
    conf = probe.conf(**{"heronfs.aurora.scheduler_uri": server.url})
    result = probe.run(conf, "devcluster", "tasks", "www-data", "prod", "a/b")
    assert result.returncode == 1 and "invalid: Aurora job key" in result.stderr
    assert server.requests == []


# --- a scheduler that is gone ----------------------------------------------------------------

def test_stopped_scheduler_fails_at_once_and_comes_back(job, probe):
    env = dict(job.env, HOME=str(probe.home))
    conf = probe.conf(**{"heronfs.aurora.request.timeout.ms": 3000})
    job.stop()
    result = probe.tasks(conf, env=env)
    assert result.returncode == 1 and result.elapsed < 3.0
    assert "unavailable: getTasksWithoutConfigs %s: " % job.api_url in result.stderr
    assert "connect" in result.stderr.lower()
    health = probe.health(conf, env=env)
    assert health.returncode == 1
    assert health.stdout.startswith("scheduler: unreachable aurora %s (getTierConfigs %s: "
                                    % (job.url, job.api_url))
    job.start()
    assert task_lines(probe.tasks(conf, env=env))[0] == expected_lines(job)


def test_stopped_scheduler_in_zookeeper(zk, aurora_factory, probe, tmp_path):
    aurora = aurora_factory(zk=zk)
    create_job(aurora, tmp_path)
    env = dict(aurora.env, HOME=str(probe.home))
    conf = probe.conf(**{"heronfs.aurora.request.timeout.ms": 3000})
    aurora.stop()
    result = probe.tasks(conf, env=env)
    assert result.returncode == 1 and result.elapsed < 3.5
    assert "ZooKeeper 127.0.0.1:%d: no schedulers detected under /aurora/scheduler" % zk.port \
        in result.stderr
    assert probe.health(conf, env=env).stdout == (
        "scheduler: unreachable aurora zookeeper 127.0.0.1:%d/aurora/scheduler (ZooKeeper "
        "127.0.0.1:%d: no schedulers detected under /aurora/scheduler)\n" % (zk.port, zk.port))
    aurora.start()
    assert task_lines(probe.tasks(conf, env=env))[0] == expected_lines(aurora)


def test_a_leader_that_goes_away_is_looked_up_again(aurora, zk, probe, scripted, tmp_path):
    """The first leader answers 503 (it lost leadership) and withdraws; the same call
    looks the leader up again and asks the new one."""
    create_job(aurora, tmp_path)
    old = scripted([(503, "no leader")])
    client = zk.client
    first = client.create("/moving/member_", member_data(http=old.port), makepath=True,
                          sequence=True)

    def hand_over(n):
        if n == 1:
            client.delete(first)
            client.create("/moving/member_", member_data(http=aurora.port), sequence=True)
    old.before_reply = hand_over
    env = dict(probe.env, AURORA_CONFIG_ROOT=clusters_root(tmp_path, "moving", [{
        "name": "devcluster", "zk": "127.0.0.1", "zk_port": zk.port,
        "scheduler_zk_path": "/moving"}]))
    lines, requests = task_lines(probe.tasks(probe.conf(), env=env))
    assert lines == expected_lines(aurora)
    assert requests == 2 and len(old.requests) == 1


def test_a_scheduler_that_never_answers_times_out(probe, silent_port):
    url = "http://127.0.0.1:%d" % silent_port
    conf = probe.conf(**{"heronfs.aurora.scheduler_uri": url,
                         "heronfs.aurora.request.timeout.ms": 1500})
    result = probe.tasks(conf)
    assert result.returncode == 1 and 1.4 < result.elapsed < 3.5
    assert "timeout: getTasksWithoutConfigs %s/api: no answer within 1500 ms" % url \
        in result.stderr


def test_zookeeper_down_times_out(probe, tmp_path):
    port = closed_port()
    env = dict(probe.env, AURORA_CONFIG_ROOT=clusters_root(tmp_path, "nozk", [{
        "name": "devcluster", "zk": "127.0.0.1", "zk_port": port,
        "scheduler_zk_path": "/aurora/scheduler"}]))
    conf = probe.conf(**{"heronfs.aurora.request.timeout.ms": 1500})
    result = probe.tasks(conf, env=env)
    assert result.returncode == 1 and result.elapsed < 3.5
    assert "timeout: ZooKeeper 127.0.0.1:%d: no session within 1500 ms" % port in result.stderr


# --- TManager (heron.md 6.1) -------------------------------------------------------------------

def tmanager_server(scripted, topology_id):
    """200 for /activate or /deactivate with the right topologyid, else 400, as the
    TManager's controller answers."""
    server = scripted()

    def check(n):
        _, path, _, _ = server.requests[n - 1]
        parts = urllib.parse.urlsplit(path)
        ok = (parts.path in ("/activate", "/deactivate")
              and urllib.parse.parse_qs(parts.query).get("topologyid") == [topology_id])
        server.replies = [(200, "Topology successfully activated")] if ok else \
            [(400, "Topology id does not match\nsecond line")]
    server.before_reply = check
    return server


def test_tmanager_activate(probe, scripted):
    topology_id = "WordCount 1f/2e&3d=?"
    server = tmanager_server(scripted, topology_id)
    result = probe.run("tmanager", "127.0.0.1", server.port, "activate", topology_id)
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
    (method, path, _, _), = server.requests
    assert method == "GET"
    assert path == "/activate?topologyid=WordCount%201f%2F2e%263d%3D%3F"


def test_tmanager_refusal_gives_status_and_first_line(probe, scripted):
    server = tmanager_server(scripted, "right-id")
    result = probe.run("tmanager", "127.0.0.1", server.port, "deactivate", "wrong-id")
    assert result.returncode == 1
    assert result.stderr == ("aurora_probe: unavailable: GET http://127.0.0.1:%d/deactivate?"
                             "topologyid=wrong-id: HTTP 400: Topology id does not match\n"
                             % server.port)


def test_tmanager_closed_port(probe):
    port = closed_port()
    result = probe.run("tmanager", "127.0.0.1", port, "activate", "t")
    assert result.returncode == 1
    assert "unavailable: GET http://127.0.0.1:%d/activate?topologyid=t: " % port in result.stderr


def test_tmanager_that_never_answers_times_out(probe, silent_port):
    result = probe.run("tmanager", "127.0.0.1", silent_port, "activate", "t", 1000)
    assert result.returncode == 1 and 0.9 < result.elapsed < 3.0
    assert "timeout: GET http://127.0.0.1:%d/activate?topologyid=t: no answer within " \
        "1000 ms" % silent_port in result.stderr


def test_tmanager_unknown_verb(probe):
    result = probe.run("tmanager", "127.0.0.1", 1, "restart", "t")
    assert result.returncode == 1 and "invalid: TManager verb 'restart'" in result.stderr


# --- memory -------------------------------------------------------------------------------------

@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind not installed")
def test_probe_is_valgrind_clean(zk, aurora_factory, probe, scripted, tmp_path):
    """ZooKeeper discovery, HTTP, parsing, the cache with four threads, health, and the
    TManager client, with no leak and no error."""
    if "libasan" in subprocess.run(["ldd", probe_path()], capture_output=True,
                                   text=True).stdout:
        pytest.skip("valgrind cannot run a binary built with AddressSanitizer")
    aurora = aurora_factory(zk=zk)
    create_job(aurora, tmp_path)
    env = dict(aurora.env, HOME=str(probe.home))
    valgrind = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect"]
    conf = probe.conf(**{"heronfs.aurora.request.timeout.ms": 20000})
    result = probe.tasks(conf, "repeat", 5, "threads", 4, "latest", env=env, wrapper=valgrind)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert probe.run(conf, "devcluster", "health", env=env, wrapper=valgrind).returncode == 0
    server = tmanager_server(scripted, "t")
    result = probe.run("tmanager", "127.0.0.1", server.port, "activate", "t", wrapper=valgrind)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    failing = scripted([(200, '[1,"getTasksWithoutConfigs",2,0,{"0":{"rec":{"1":{"i32":1},'
                               '"3":{"rec":{"3":{"rec":{"1":{"lst":["rec",2,{"1":{"rec":{"1":'
                               '{"str":"x"},"6":{"i32":0}}},"2":{"i32":2},"4":{"lst":["rec",1,'
                               '{"1":{"i64":5}}]}},{}]}}}}}}}}]')])
    bad = probe.conf("bad", **{"heronfs.aurora.scheduler_uri": failing.url})
    result = probe.tasks(bad, wrapper=valgrind)
    assert result.returncode == 1 and "==" not in result.stderr, result.stderr
