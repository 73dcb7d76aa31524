#!/usr/bin/python3
"""Apache Aurora scheduler emulator for the heronfs test rig.

    /usr/bin/python3 tests/rig/aurora_scheduler.py --port 0 --port-file F --cluster NAME \
        --sandbox-root DIR [--zk HOSTS --zk-path /aurora/scheduler] [--log F]

What it emulates (reference/aurora.md):
  HTTP    POST /api: one Thrift message per body, decoded and answered by Apache Thrift's
          Python library (TJSONProtocol, or TBinaryProtocol for
          application/vnd.apache.thrift.binary), Content-Type rules of §1.1 (415, 500);
          GET /health, GET /leaderhealth (200 once announced as leader).
  ZK      with --zk, the leader announcement: an ephemeral sequential member_ node holding
          ServerSet JSON (§1.4), written with kazoo, re-created after a session loss.
  Tasks   the state machine of §6: createJob/addInstances insert PENDING tasks; a
          background loop assigns them (ports, slave host 127.0.0.1), and an executor
          thread per task runs the processes of executorConfig.data as real child
          processes in a sandbox (<sandbox-root>/<task id>), SequentialTask order,
          logs in .logs/<process>/<run>/{stdout,stderr}: ASSIGNED -> STARTING -> RUNNING ->
          FINISHED or FAILED. killTasks: KILLING, SIGTERM then SIGKILL to each process group,
          KILLED (PENDING tasks just vanish). restartShards: RESTARTING -> KILLED and a new
          task. Services and failing tasks are rescheduled per §6.2; a task that ends within
          FLAPPING_SECS of its start is rescheduled THROTTLED with a growing delay.

Signals: SIGTERM/SIGINT stop everything (every task's process groups are killed);
SIGUSR1 takes the scheduler offline (HTTP listener closed, ZK member withdrawn) while its
tasks keep running, as when a real scheduler dies; SIGUSR2 brings it back on the same port.

Simplified: no health checks (RUNNING as soon as the first process starts), no
announcer, no quota, no updates, no cron, no auth, one agent with unlimited resources,
terminal tasks are never pruned.
"""
import argparse
import copy
import json
import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from rig import aurora_thrift                                    # noqa: E402

from thrift.protocol import TBinaryProtocol, TJSONProtocol       # noqa: E402
from thrift.transport import TTransport                          # noqa: E402

API = aurora_thrift.load()
T = API.ttypes
S = T.ScheduleStatus
ACTIVE = API.constants.ACTIVE_STATES
TERMINAL = API.constants.TERMINAL_STATES
NAME = S._VALUES_TO_NAMES

log = logging.getLogger("aurora-emulator")

# Timings (seconds). Real Aurora is much slower; these keep tests fast but bounded.
TICK = 0.05                 # scheduling loop period
KILL_GRACE = 2.0            # SIGTERM -> SIGKILL
FLAPPING_SECS = 5.0         # a run shorter than this is "flapping" (real: 5 minutes)
THROTTLE_MIN, THROTTLE_MAX = 0.5, 10.0   # first and largest flapping penalty
RETRY_DELAY_MAX = 1.0       # cap on a process's min_duration between reruns

JSON_TYPES = ("application/x-thrift", "application/json", aurora_thrift.JSON,
              aurora_thrift.JSON + "; charset=utf-8")
ENVIRONMENT = re.compile(r"^(prod|devel|test|staging\d*)$")
IDENTIFIER = re.compile(r"^[\w\-\.]+$")
AUDIT_USER = "UNSECURE"     # Aurora's audit user when authentication is off
TIERS = {"preemptible": {"preemptible": "true", "revocable": "false"},
         "preferred": {"preemptible": "false", "revocable": "false"},
         "revocable": {"preemptible": "true", "revocable": "true"}}
DEFAULT_TIER = "preemptible"
RUNTIME_REF = re.compile(r"\{\{\s*(mesos\.instance|mesos\.hostname|thermos\.task_id|"
                         r"thermos\.ports\[([^\]]+)\])\s*\}\}")


def now_ms():
    return int(time.time() * 1000)


def key_tuple(key):
    return (key.role, key.environment, key.name)


def key_str(key):
    return "/".join(key_tuple(key))


def free_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


class RigTask:
    """One Aurora task: its thrift record plus what the emulated executor needs."""

    def __init__(self, scheduled):
        self.st = scheduled              # T.ScheduledTask, the record served over the API
        self.kill = threading.Event()    # set by killTasks / restartShards / shutdown
        self.run_started = None          # time.time() when RUNNING
        self.not_before = 0.0            # THROTTLED until then; PENDING assign time
        self.procs = []                  # every Popen started for this task

    @property
    def id(self):
        return self.st.assignedTask.taskId

    @property
    def status(self):
        return self.st.status


class Scheduler:
    """The AuroraAdmin handler, the task table and the emulated agent."""

    def __init__(self, cluster, sandbox_root, hostname, assign_delay):
        self.cluster = cluster
        self.sandbox_root = sandbox_root
        self.hostname = hostname
        self.assign_delay = assign_delay
        self.lock = threading.RLock()
        self.tasks = {}                  # task id -> RigTask, in creation order
        self.flaps = {}                  # (job key tuple, instance) -> consecutive short runs
        self.stopping = threading.Event()
        self.executors = []              # executor threads, joined at shutdown
        self.leader = False              # what GET /leaderhealth reports
        self.loop = threading.Thread(target=self._schedule_loop, name="schedule", daemon=True)

    # --- replies --------------------------------------------------------------------

    def reply(self, code, result=None, messages=()):
        return T.Response(responseCode=code, result=result,
                          serverInfo=T.ServerInfo(clusterName=self.cluster, statsUrlPrefix=""),
                          details=[T.ResponseDetail(message=m) for m in messages])

    def _ok(self, result=None, messages=()):
        return self.reply(T.ResponseCode.OK, result, messages)

    def _invalid(self, message):
        return self.reply(T.ResponseCode.INVALID_REQUEST, None, [message])

    # --- queries --------------------------------------------------------------------

    @staticmethod
    def _matches(q, task):
        at = task.st.assignedTask
        key = at.task.job
        return ((q.role is None or key.role == q.role)
                and (q.environment is None or key.environment == q.environment)
                and (q.jobName is None or key.name == q.jobName)
                and (not q.taskIds or at.taskId in q.taskIds)
                and (not q.statuses or task.status in q.statuses)
                and (not q.instanceIds or at.instanceId in q.instanceIds)
                and (not q.slaveHosts or at.slaveHost in q.slaveHosts)
                and (not q.jobKeys or key_tuple(key) in {key_tuple(k) for k in q.jobKeys}))

    def _query(self, q):
        found = [t for t in self.tasks.values() if self._matches(q or T.TaskQuery(), t)]
        if q is not None and q.offset and q.offset > 0:
            found = found[q.offset:]
        if q is not None and q.limit and q.limit > 0:
            found = found[:q.limit]
        return found

    def _active(self, key, instances=None):
        return [t for t in self.tasks.values()
                if key_tuple(t.st.assignedTask.task.job) == key_tuple(key)
                and t.status in ACTIVE
                and (instances is None or t.st.assignedTask.instanceId in instances)]

    def getTasksStatus(self, query):
        with self.lock:
            # Copies: the replies are serialized after the lock is released.
            tasks = [copy.deepcopy(t.st) for t in self._query(query)]
        return self._ok(T.Result(scheduleStatusResult=T.ScheduleStatusResult(tasks=tasks)))

    def getTasksWithoutConfigs(self, query):
        reply = self.getTasksStatus(query)
        for st in reply.result.scheduleStatusResult.tasks:
            if st.assignedTask.task.executorConfig is not None:
                st.assignedTask.task.executorConfig.data = None
        return reply

    def _jobs(self, role, states):
        """{job key tuple: [RigTask]} over tasks in `states` (None = all), role filtered."""
        jobs = {}
        for t in self.tasks.values():
            key = t.st.assignedTask.task.job
            if (role is None or key.role == role) and (states is None or t.status in states):
                jobs.setdefault(key_tuple(key), []).append(t)
        return jobs

    def _job_config(self, tasks):
        # Aurora synthesizes the job from one task's config: active tasks first, then newest.
        best = max(tasks, key=lambda t: (t.status in ACTIVE, t.st.taskEvents[-1].timestamp))
        config = copy.deepcopy(best.st.assignedTask.task)
        return T.JobConfiguration(key=copy.deepcopy(config.job), owner=config.owner,
                                  cronCollisionPolicy=T.CronCollisionPolicy.KILL_EXISTING,
                                  taskConfig=config, instanceCount=len(tasks))

    def getJobSummary(self, role):
        pending = {S.INIT, S.PENDING, S.THROTTLED}
        finished = {S.FINISHED, S.KILLED}
        failed = {S.FAILED, S.LOST}
        summaries = set()
        with self.lock:
            for tasks in self._jobs(role, None).values():
                statuses = [t.status for t in tasks]
                stats = T.JobStats(
                    pendingTaskCount=sum(s in pending for s in statuses),
                    finishedTaskCount=sum(s in finished for s in statuses),
                    failedTaskCount=sum(s in failed for s in statuses),
                    activeTaskCount=sum(s not in pending | finished | failed for s in statuses))
                summaries.add(T.JobSummary(job=self._job_config(tasks), stats=stats))
        return self._ok(T.Result(jobSummaryResult=T.JobSummaryResult(summaries=summaries)))

    def getJobs(self, ownerRole):
        with self.lock:
            configs = {self._job_config(tasks) for tasks in self._jobs(ownerRole, ACTIVE).values()}
        return self._ok(T.Result(getJobsResult=T.GetJobsResult(configs=configs)))

    def getRoleSummary(self):
        with self.lock:
            roles = {}
            for key in self._jobs(None, None):
                roles[key[0]] = roles.get(key[0], 0) + 1
        summaries = {T.RoleSummary(role=r, jobCount=n, cronJobCount=0) for r, n in roles.items()}
        return self._ok(T.Result(roleSummaryResult=T.RoleSummaryResult(summaries=summaries)))

    def getTierConfigs(self):
        tiers = {T.TierConfig(name=n, settings=dict(s)) for n, s in TIERS.items()}
        return self._ok(T.Result(getTierConfigResult=T.GetTierConfigResult(
            defaultTierName=DEFAULT_TIER, tiers=tiers)))

    # --- mutations ------------------------------------------------------------------

    def _validate(self, job):
        """Aurora's ConfigurationManager checks, reduced to what the rig can get wrong."""
        key, config = job.key, job.taskConfig
        if key is None or config is None:
            return "Job key and task configuration are required."
        if not all(isinstance(p, str) and IDENTIFIER.match(p) for p in key_tuple(key)):
            return "Job key %s is invalid." % key_str(key)
        if not ENVIRONMENT.match(key.environment):
            return "Job environment %s doesn't match: %s" % (key.environment, ENVIRONMENT.pattern)
        if job.cronSchedule:
            return "Cron jobs may only be created/updated by calling scheduleCronJob."
        if not job.instanceCount or job.instanceCount <= 0:
            return "Instance count must be positive."
        if config.tier is not None and config.tier not in TIERS:
            return "Tier '%s' does not exist." % config.tier
        for name, field in (("num_cpus", "numCpus"), ("ram_mb", "ramMb"), ("disk_mb", "diskMb")):
            values = [getattr(r, field) for r in config.resources or ()
                      if getattr(r, field) is not None]
            if len(values) > 1:
                return "Multiple resource values are not supported for %s" % name
            if not values or values[0] <= 0:
                return "%s must be greater than 0.0" % name
        if config.executorConfig is None or not config.executorConfig.data:
            return "Configuration may not be null: executorConfig"
        return None

    def createJob(self, description):
        with self.lock:
            problem = self._validate(description)
            if problem:
                return self._invalid(problem)
            key = description.key
            if self._active(key):
                return self._invalid("Job %s already exists" % key_str(key))
            config = description.taskConfig
            config.job = key
            if config.container is None:                 # the thrift default
                config.container = T.Container(mesos=T.MesosContainer())
            for instance in range(description.instanceCount):
                self._insert(config, instance)
            log.info("createJob %s: %d instances", key_str(key), description.instanceCount)
        return self._ok()

    def addInstances(self, key, count):
        with self.lock:
            if count is None or count <= 0:
                return self._invalid("Instance count must be positive.")
            job = key.jobKey
            active = self._active(job)
            source = [t for t in active if t.st.assignedTask.instanceId == key.instanceId]
            if not source:
                return self._invalid("No active task found for a given instance ID.")
            first = max(t.st.assignedTask.instanceId for t in active) + 1
            for instance in range(first, first + count):
                self._insert(source[0].st.assignedTask.task, instance)
            log.info("addInstances %s: %s", key_str(job), list(range(first, first + count)))
        return self._ok()

    def killTasks(self, job, instances, message):
        text = "Killed by %s" % AUDIT_USER + (".\n%s" % message if message else "")
        with self.lock:
            tasks = self._active(job, set(instances) if instances else None)
            for t in tasks:
                if t.status in (S.PENDING, S.THROTTLED):
                    del self.tasks[t.id]                 # never ran: no KILLED record
                elif t.status != S.KILLING:
                    self._transition(t, S.KILLING, text)
                    t.kill.set()
            log.info("killTasks %s %s: %d tasks", key_str(job), instances, len(tasks))
        return self._ok(messages=() if tasks else ["No tasks to kill."])

    def restartShards(self, job, shardIds):
        with self.lock:
            active = {t.st.assignedTask.instanceId: t for t in self._active(job)}
            if not shardIds or not set(shardIds) <= set(active):
                return self._invalid("Not all requested shards are active.")
            for instance in sorted(shardIds):
                t = active[instance]
                if t.status in (S.PENDING, S.THROTTLED):
                    continue                             # nothing runs yet
                if t.status not in (S.KILLING, S.RESTARTING):
                    self._transition(t, S.RESTARTING, "Restarted by %s" % AUDIT_USER)
                    t.kill.set()
            log.info("restartShards %s %s", key_str(job), sorted(shardIds))
        return self._ok()

    # --- task lifecycle -------------------------------------------------------------

    def _insert(self, config, instance, ancestor=None, failures=0, throttle=0.0):
        """A new task for one instance, PENDING (or THROTTLED for `throttle` seconds)."""
        key = config.job
        task_id = re.sub(r"[^A-Za-z0-9_-]", "-", "%s-%s-%s-%d-%s" % (
            key.role, key.environment, key.name, instance, uuid.uuid4()))
        st = T.ScheduledTask(
            assignedTask=T.AssignedTask(taskId=task_id, task=copy.deepcopy(config),
                                        assignedPorts={}, instanceId=instance),
            status=S.INIT, failureCount=failures, timesPartitioned=0, taskEvents=[],
            ancestorId=ancestor)
        task = RigTask(st)
        self.tasks[task_id] = task
        if throttle > 0:
            task.not_before = time.time() + throttle
            self._transition(task, S.THROTTLED, "Rescheduled, penalized for %d ms for flapping"
                             % (throttle * 1000))
        else:
            task.not_before = time.time() + self.assign_delay
            self._transition(task, S.PENDING, "Rescheduled" if ancestor else None)
        return task

    def _transition(self, task, status, message=None):
        task.st.status = status
        task.st.taskEvents.append(T.TaskEvent(timestamp=now_ms(), status=status,
                                              message=message, scheduler=self.hostname))
        log.info("%s -> %s%s", task.id, NAME[status], " (%s)" % message if message else "")

    def _schedule_loop(self):
        while not self.stopping.wait(TICK):
            with self.lock:
                for task in list(self.tasks.values()):
                    if task.status == S.THROTTLED and time.time() >= task.not_before:
                        task.not_before = time.time() + self.assign_delay
                        self._transition(task, S.PENDING)
                    elif task.status == S.PENDING and time.time() >= task.not_before:
                        self._assign(task)

    def _assign(self, task):
        at = task.st.assignedTask
        at.slaveId = "rig-agent-" + self.hostname
        at.slaveHost = self.hostname
        at.assignedPorts = {r.namedPort: free_port() for r in at.task.resources or ()
                            if r.namedPort is not None}
        self._transition(task, S.ASSIGNED)
        executor = threading.Thread(target=self._executor, args=(task,), name=task.id, daemon=True)
        self.executors.append(executor)
        executor.start()

    def _finish(self, task, outcome, message):
        """Record how the executor ended and reschedule as Aurora's state machine does."""
        with self.lock:
            config = task.st.assignedTask.task
            instance = task.st.assignedTask.instanceId
            previous = task.status
            if outcome == "killed" or previous in (S.KILLING, S.RESTARTING):
                final = S.KILLED
            else:
                final = S.FINISHED if outcome == "success" else S.FAILED
            if task.id not in self.tasks:               # removed meanwhile; nothing to record
                return
            self._transition(task, final, message)
            if self.stopping.is_set():
                return
            failures = task.st.failureCount + (final == S.FAILED)
            task.st.failureCount = failures
            if previous == S.RESTARTING:
                reschedule = True
            elif previous == S.KILLING:
                reschedule = False
            elif final == S.FAILED:
                reschedule = (config.isService or config.maxTaskFailures == -1
                              or failures < config.maxTaskFailures)
            else:
                reschedule = bool(config.isService)
            if not reschedule:
                return
            throttle = 0.0
            flap_key = (key_tuple(config.job), instance)
            ran = time.time() - (task.run_started or time.time())
            if previous not in (S.RESTARTING, S.KILLING) and ran < FLAPPING_SECS:
                self.flaps[flap_key] = self.flaps.get(flap_key, 0) + 1
                throttle = min(THROTTLE_MIN * 2 ** (self.flaps[flap_key] - 1), THROTTLE_MAX)
            else:
                self.flaps.pop(flap_key, None)
            self._insert(config, instance, ancestor=task.id, failures=failures, throttle=throttle)

    def shutdown(self):
        """Stop scheduling and kill every task's processes (their executors do it; a final
        sweep catches anything started in the meantime)."""
        self.stopping.set()
        with self.lock:
            tasks = list(self.tasks.values())
            for task in tasks:
                task.kill.set()
        for executor in self.executors:
            executor.join(KILL_GRACE + 5)
        terminate([p for task in tasks for p in task.procs], 0)

    # --- the emulated executor (Thermos) --------------------------------------------

    def _executor(self, task):
        outcome, message = "failed", "Executor error"
        try:
            outcome, message = self._run_task(task)
        except Exception as e:                           # a rig bug must not hang the task
            log.exception("executor of %s failed", task.id)
            message = "Executor error: %s" % e
        finally:
            terminate(task.procs, KILL_GRACE)   # also stray children of finished processes
        self._finish(task, outcome, message)

    def _run_task(self, task):
        at = task.st.assignedTask
        sandbox = os.path.join(self.sandbox_root, at.taskId)
        with self.lock:
            if task.kill.is_set():
                return "killed", "Task killed before launch"
            self._transition(task, S.STARTING, "Initializing sandbox.")
        os.makedirs(os.path.join(sandbox, ".logs"), exist_ok=True)
        job = json.loads(at.task.executorConfig.data)
        ports = dict(at.assignedPorts)
        for alias, target in job.get("announce", {}).get("portmap", {}).items():
            if target in ports:
                ports.setdefault(alias, ports[target])
            elif str(target).isdigit():
                ports.setdefault(alias, int(target))
        bind = Binder(at.instanceId, self.hostname, at.taskId, ports)
        processes = job["task"]["processes"]
        for p in processes:
            p["cmdline"] = bind(p["cmdline"])
        if bind.unbound:
            return "failed", "Unbound variables in the task: %s" % ", ".join(sorted(bind.unbound))
        with self.lock:
            if task.kill.is_set():
                return "killed", "Task killed before launch"
            task.run_started = time.time()
            self._transition(task, S.RUNNING)
        return ProcessRunner(task, sandbox, processes, job["task"]).run()


class Binder:
    """Replaces the mustaches Pystachio leaves for the executor (§5.2)."""

    def __init__(self, instance, hostname, task_id, ports):
        self.values = {"mesos.instance": str(instance), "mesos.hostname": hostname,
                       "thermos.task_id": task_id}
        self.ports = ports
        self.unbound = set()

    def __call__(self, text):
        def replace(m):
            if m.group(2) is not None:
                if m.group(2) in self.ports:
                    return str(self.ports[m.group(2)])
                self.unbound.add(m.group(1))
                return m.group(0)
            return self.values[m.group(1)]
        return RUNTIME_REF.sub(replace, text)


class ProcessRunner:
    """Runs a Thermos task's processes: ordered by its constraints, each retried up to
    max_failures times (0 = forever), in its own process group, until all succeed, one
    fails for good, or the task is killed."""

    def __init__(self, task, sandbox, processes, spec):
        self.task = task
        self.sandbox = sandbox
        self.processes = {p["name"]: p for p in processes}
        self.waiting = [p["name"] for p in processes]          # declaration order
        self.after = {name: set() for name in self.processes}  # name -> must succeed first
        for constraint in spec.get("constraints", []):
            chain = constraint.get("order") or []
            for i, name in enumerate(chain):
                self.after.setdefault(name, set()).update(chain[:i])
        self.max_concurrency = spec.get("max_concurrency", 0)
        self.runs = {name: 0 for name in self.processes}
        self.not_before = {}
        self.running = {}                                       # name -> Popen
        self.done = set()

    def run(self):
        while True:
            if self.task.kill.is_set():
                return "killed", "Task killed"
            self._start_ready()
            for name, proc in list(self.running.items()):
                rc = proc.poll()
                if rc is None:
                    continue
                del self.running[name]
                if rc == 0:
                    self.done.add(name)
                    continue
                max_failures = self.processes[name].get("max_failures", 1)
                if max_failures == 0 or self.runs[name] < max_failures:
                    delay = min(self.processes[name].get("min_duration", 5), RETRY_DELAY_MAX)
                    self.not_before[name] = time.time() + delay
                    self.waiting.insert(0, name)
                    continue
                return "failed", "Task failed: process %s exited with status %d" % (name, rc)
            if not self.waiting and not self.running:
                return "success", "Task finished"
            time.sleep(TICK)

    def _start_ready(self):
        for name in list(self.waiting):
            if self.max_concurrency and len(self.running) >= self.max_concurrency:
                return
            if not self.after.get(name, set()) <= self.done:
                continue
            if time.time() < self.not_before.get(name, 0):
                continue
            self.waiting.remove(name)
            self.running[name] = self._launch(name)

    def _launch(self, name):
        logs = os.path.join(self.sandbox, ".logs", name, str(self.runs[name]))
        self.runs[name] += 1
        os.makedirs(logs, exist_ok=True)
        env = dict(os.environ, MESOS_SANDBOX=self.sandbox)
        with open(os.path.join(logs, "stdout"), "wb") as out, \
                open(os.path.join(logs, "stderr"), "wb") as err:
            proc = subprocess.Popen(["/bin/bash", "-c", self.processes[name]["cmdline"]],
                                    cwd=self.sandbox, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, env=env, start_new_session=True)
        self.task.procs.append(proc)
        log.info("%s: started process %s (pid %d)", self.task.id, name, proc.pid)
        return proc


def terminate(procs, grace):
    """SIGTERM every process group, wait up to `grace` seconds for the leaders, SIGKILL."""
    def signal_all(sig):
        for p in procs:
            try:
                os.killpg(p.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
    if grace > 0:
        signal_all(signal.SIGTERM)
        deadline = time.time() + grace
        while time.time() < deadline and any(p.poll() is None for p in procs):
            time.sleep(TICK)
    signal_all(signal.SIGKILL)
    for p in procs:
        p.wait()


# --- HTTP -------------------------------------------------------------------------------

class ApiHandler(BaseHTTPRequestHandler):
    """POST /api (Thrift), GET /health, GET /leaderhealth."""
    protocol_version = "HTTP/1.1"
    scheduler = None                 # set by make_server
    processor = None

    def do_POST(self):
        path = urlsplit(self.path).path
        body = self._body()             # always consumed: the connection is kept alive
        if path == "/api":
            self._api(body)
        elif path == "/health":
            self._send(200, "text/plain", b"OK")
        elif path == "/leaderhealth":
            # 200 once elected (announced in ZooKeeper, when --zk is given); 502 = no leader.
            if self.scheduler.leader:
                self._send(200, "text/plain", b"OK")
            else:
                self._send(502, "text/plain", b"No leader")
        else:
            self._send(404, "text/plain", b"Not found")

    do_GET = do_POST                 # Aurora routes GET /api to the same servlet

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:size]
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _api(self, body):
        content_type = self.headers.get("Content-Type")
        if content_type is None or content_type in JSON_TYPES:
            in_factory = TJSONProtocol.TJSONProtocolFactory()
        elif content_type == aurora_thrift.BINARY:
            in_factory = TBinaryProtocol.TBinaryProtocolFactory()
        else:
            self._send(415, "text/plain", ("Unsupported Content-Type: %s" % content_type).encode())
            return
        if self.headers.get("Accept") == aurora_thrift.BINARY:
            out_type, out_factory = aurora_thrift.BINARY, TBinaryProtocol.TBinaryProtocolFactory()
        else:
            out_type, out_factory = aurora_thrift.JSON, TJSONProtocol.TJSONProtocolFactory()
        # One line per call, so tests can count what a client asked.
        log.info("api call %s", body.split(b",", 2)[1].strip(b'"').decode(errors="replace")
                 if content_type != aurora_thrift.BINARY and body.count(b",") >= 2 else "(binary)")
        out = TTransport.TMemoryBuffer()
        try:
            self.processor.process(in_factory.getProtocol(TTransport.TMemoryBuffer(body)),
                                   out_factory.getProtocol(out))
        except Exception as e:       # undecodable body: Aurora's servlet answers 500
            log.warning("undecodable /api request (%s): %r", e, body[:200])
            self._send(500, "text/plain", ("TException: %s" % e).encode())
            return
        self._send(200, out_type, out.getvalue())

    def _send(self, status, content_type, payload):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, fmt, *args):
        log.debug("http %s %s", self.address_string(), fmt % args)


class Handler:
    """Delegates Thrift calls to the scheduler; an exception becomes an ERROR reply with
    its text in details, as Aurora's interceptors do."""

    def __init__(self, scheduler):
        self._scheduler = scheduler

    def __getattr__(self, method):
        target = getattr(self._scheduler, method)

        def call(*args):
            log.debug("call %s%r", method, args)
            try:
                return target(*args)
            except Exception as e:
                log.exception("%s failed", method)
                return self._scheduler.reply(T.ResponseCode.ERROR, None, [str(e)])
        return call


def make_server(scheduler, port):
    handler = type("BoundApiHandler", (ApiHandler,), {
        "scheduler": scheduler,
        "processor": API.AuroraAdmin.Processor(Handler(scheduler))})
    server = ThreadingHTTPServer((scheduler.hostname, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(TICK,), name="http", daemon=True).start()
    return server


# --- ZooKeeper leader announcement --------------------------------------------------------

class Announcer:
    """The elected leader's ServerSet member node (reference/aurora.md §1.4)."""

    def __init__(self, hosts, path, host, port):
        from kazoo.client import KazooClient, KazooState
        self.path = path
        self.data = json.dumps({"serviceEndpoint": {"host": host, "port": port},
                                "additionalEndpoints": {"http": {"host": host, "port": port}},
                                "status": "ALIVE"}).encode()
        self.node = None
        self.wanted = False
        self.states = KazooState
        self.zk = KazooClient(hosts=hosts, timeout=5.0)
        self.zk.add_listener(self._state)
        self.zk.start(timeout=15)

    def _state(self, state):
        # After a session loss the ephemeral node is gone: announce again once reconnected.
        if state == self.states.LOST:
            self.node = None
        elif state == self.states.CONNECTED and self.wanted and self.node is None:
            threading.Thread(target=self.announce, daemon=True).start()

    def announce(self):
        self.wanted = True
        self.zk.ensure_path(self.path)
        self.node = self.zk.create(self.path + "/member_", self.data, ephemeral=True,
                                   sequence=True)
        log.info("announced leadership at %s", self.node)

    def withdraw(self):
        self.wanted = False
        if self.node is not None:
            try:
                self.zk.delete(self.node)
            except Exception as e:
                log.warning("could not delete %s: %s", self.node, e)
            self.node = None

    def close(self):
        self.withdraw()
        self.zk.stop()
        self.zk.close()


# --- main -------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="HTTP port (0: kernel's choice)")
    parser.add_argument("--port-file", help="write the port here once ready")
    parser.add_argument("--cluster", required=True, help="ServerInfo.clusterName")
    parser.add_argument("--sandbox-root", required=True, help="task sandboxes go here")
    parser.add_argument("--hostname", default="127.0.0.1",
                        help="address to listen on; also slaveHost and the announced host")
    parser.add_argument("--zk", help="ZooKeeper hosts (host:port,...) for the announcement")
    parser.add_argument("--zk-path", default="/aurora/scheduler", help="ServerSet path")
    parser.add_argument("--assign-delay", type=float, default=0.1,
                        help="seconds a task stays PENDING before it is assigned")
    parser.add_argument("--log", help="log file (default: stderr)")
    args = parser.parse_args(argv)

    logging.basicConfig(filename=args.log, level=logging.DEBUG,
                        format="%(asctime)s %(threadName)s %(levelname)s %(message)s")
    logging.getLogger("kazoo").setLevel(logging.INFO)
    os.makedirs(args.sandbox_root, exist_ok=True)
    scheduler = Scheduler(args.cluster, args.sandbox_root, args.hostname, args.assign_delay)
    scheduler.loop.start()

    events = queue.SimpleQueue()
    for sig, event in ((signal.SIGTERM, "stop"), (signal.SIGINT, "stop"),
                       (signal.SIGUSR1, "offline"), (signal.SIGUSR2, "online")):
        signal.signal(sig, lambda *_, e=event: events.put(e))

    server = make_server(scheduler, args.port)
    port = server.server_address[1]
    announcer = Announcer(args.zk, args.zk_path, args.hostname, port) if args.zk else None
    if announcer:
        announcer.announce()
    scheduler.leader = True
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    log.info("scheduler for cluster %s listening on port %d", args.cluster, port)

    while True:
        try:
            event = events.get(timeout=TICK)
        except queue.Empty:
            continue
        log.info("signal: %s", event)
        if event in ("stop", "offline") and server is not None:
            scheduler.leader = False
            if announcer:
                announcer.withdraw()
            server.shutdown()
            server.server_close()
            server = None
        if event == "online" and server is None:
            server = make_server(scheduler, port)
            if announcer:
                announcer.announce()
            scheduler.leader = True
        if event == "stop":
            break

    scheduler.shutdown()
    if announcer:
        announcer.close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
