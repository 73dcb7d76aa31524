"""The subset of Pystachio/Aurora configuration that Heron's heron.aurora uses.

An .aurora file is Python run with the schema names defined; it must leave a list `jobs`.
This module defines those names (Process, Resources, Task, SequentialTask, Job, Service,
Announcer, HealthCheckConfig and its checkers, order, MB, GB...), evaluates {{mustaches}}
the way Pystachio does for the cases heron.aurora needs, and turns the chosen job into
Aurora's thrift JobConfiguration (reference/aurora.md §5).

Mustache resolution: `{{ref}}` is looked up in the --bind values first, then in the struct
that holds the string, then in its enclosing structs (Process -> Task -> Job), so
`{{role}}`, `{{task.name}}` and `{{processes[0].name}}` work. A value found that itself holds
mustaches is resolved where it was found. `{{mesos.instance}}`, `{{mesos.hostname}}`,
`{{thermos.task_id}}` and `{{thermos.ports[NAME]}}` are left in place for the executor;
each referenced port becomes a named port to allocate. Any other ref left unresolved is an
error ("Config contains unbound variables").

Not modelled: Docker containers, cron, update_config semantics, include() of JSON,
--read-json, Pystachio type checking beyond coercing numbers and booleans.
"""
import getpass
import json
import os
import re

B = 1
KB = 1024 * B
MB = 1024 * KB
GB = 1024 * MB
TB = 1024 * GB

MUSTACHE = re.compile(r"\{\{([^{}]*)\}\}")
RUNTIME_SCOPES = ("mesos.instance", "mesos.hostname", "thermos.task_id")
PORT_REF = re.compile(r"^thermos\.ports\[([^\]]+)\]$")
IDENTIFIER = re.compile(r"^[\w\-\.]+$")


class ConfigError(Exception):
    """The configuration cannot be loaded, selected or converted (CLI exit 3)."""


class UnboundError(ConfigError):
    def __init__(self, refs):
        super().__init__("Config contains unbound variables: %s" % " ".join(sorted(refs)))
        self.refs = sorted(refs)


# --- schema --------------------------------------------------------------------------

REQUIRED = object()


def List(of):
    return ("list", of)


def Map(key, value):
    return ("map", key, value)


class Struct:
    """A typed record with defaults; calling an instance returns a copy with updates."""
    FIELDS = ()                      # (name, type, default-or-REQUIRED-or-None) triples

    def __init__(self, **values):
        known = {name for name, _, _ in self.FIELDS}
        for name in values:
            if name not in known:
                raise ConfigError("%s has no field %r" % (type(self).__name__, name))
        self.values = values

    def __call__(self, **updates):
        merged = dict(self.values)
        merged.update(updates)
        return type(self)(**merged)

    def field(self, name):
        """(type, value) of a field: the value set, else the default, else None."""
        for fname, ftype, default in self.FIELDS:
            if fname == name:
                if name in self.values:
                    return ftype, self.values[name]
                return ftype, (None if default is REQUIRED else default)
        return None, None

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in self.values.items()))


class Process(Struct):
    FIELDS = (("name", str, REQUIRED), ("cmdline", str, REQUIRED),
              ("max_failures", int, 1), ("daemon", bool, False), ("ephemeral", bool, False),
              ("min_duration", int, 5), ("final", bool, False))


class Resources(Struct):
    FIELDS = (("cpu", float, REQUIRED), ("ram", int, REQUIRED), ("disk", int, REQUIRED),
              ("gpu", int, 0))


class Constraint(Struct):
    FIELDS = (("order", List(str), None),)


class Task(Struct):
    FIELDS = (("name", str, "{{processes[0].name}}"), ("processes", List(Process), None),
              ("constraints", List(Constraint), []), ("resources", Resources, None),
              ("max_failures", int, 1), ("max_concurrency", int, 0),
              ("finalization_wait", int, 30))


class HttpHealthChecker(Struct):
    FIELDS = (("endpoint", str, "/health"), ("expected_response", str, "ok"),
              ("expected_response_code", int, 200))


class ShellHealthChecker(Struct):
    FIELDS = (("shell_command", str, None),)


class HealthCheckerConfig(Struct):
    FIELDS = (("http", HttpHealthChecker, None), ("shell", ShellHealthChecker, None))


class HealthCheckConfig(Struct):
    FIELDS = (("health_checker", HealthCheckerConfig,
               HealthCheckerConfig(http=HttpHealthChecker())),
              ("initial_interval_secs", float, 15.0), ("interval_secs", float, 10.0),
              ("max_consecutive_failures", int, 0), ("min_consecutive_successes", int, 1),
              ("timeout_secs", float, 1.0))


class HttpLifecycleConfig(Struct):
    FIELDS = (("port", str, "health"), ("graceful_shutdown_endpoint", str, "/quitquitquit"),
              ("shutdown_endpoint", str, "/abortabortabort"))


class LifecycleConfig(Struct):
    FIELDS = (("http", HttpLifecycleConfig, None),)


class Announcer(Struct):
    FIELDS = (("primary_port", str, "http"),
              ("portmap", Map(str, str), {"aurora": "{{primary_port}}"}),
              ("zk_path", str, None))


class UpdateConfig(Struct):
    FIELDS = (("batch_size", int, 1), ("watch_secs", int, 45),
              ("max_per_shard_failures", int, 0), ("max_total_failures", int, 0))


class Metadata(Struct):
    FIELDS = (("key", str, REQUIRED), ("value", str, REQUIRED))


class Job(Struct):
    FIELDS = (("name", str, "{{task.name}}"), ("role", str, REQUIRED),
              ("contact", str, None), ("cluster", str, REQUIRED),
              ("environment", str, REQUIRED), ("instances", int, 1),
              ("task", Task, REQUIRED), ("announce", Announcer, None), ("tier", str, None),
              ("cron_schedule", str, None), ("cron_collision_policy", str, "KILL_EXISTING"),
              ("update_config", UpdateConfig, UpdateConfig()),
              ("constraints", Map(str, str), None), ("service", bool, False),
              ("max_task_failures", int, 1), ("production", bool, False),
              ("priority", int, 0), ("health_check_config", HealthCheckConfig, HealthCheckConfig()),
              ("lifecycle", LifecycleConfig, LifecycleConfig(http=HttpLifecycleConfig())),
              ("task_links", Map(str, str), None), ("metadata", List(Metadata), []),
              ("enable_hooks", bool, False))


Service = Job(service=True)


def order(*processes):
    """[Constraint(order=[names])]: run the processes one after another."""
    names = [p if isinstance(p, str) else p.values.get("name") for p in processes]
    return [Constraint(order=names)]


def SequentialTask(**fields):
    """A Task whose processes run in the order given."""
    if fields.pop("constraints", None):
        raise ConfigError("SequentialTask cannot take constraints")
    return Task(constraints=order(*fields.get("processes", [])), **fields)


SCHEMA = {name: value for name, value in globals().items()
          if isinstance(value, type) and issubclass(value, Struct) and value is not Struct}
SCHEMA.update(Service=Service, SequentialTask=SequentialTask, order=order,
              B=B, KB=KB, MB=MB, GB=GB, TB=TB)


# --- loading ---------------------------------------------------------------------------

def load(path):
    """Run an .aurora file and return its `jobs` list."""
    namespace = dict(SCHEMA)

    def include(name):
        included = os.path.join(os.path.dirname(os.path.abspath(path)), name)
        with open(included) as f:
            exec(compile(f.read(), included, "exec"), namespace)

    namespace["include"] = include
    try:
        with open(path) as f:
            exec(compile(f.read(), path, "exec"), namespace)
    except ConfigError:
        raise
    except Exception as e:              # a syntax error or a bad call in the file
        raise ConfigError("%s: %s" % (type(e).__name__, e)) from None
    jobs = namespace.get("jobs")
    if not jobs or not isinstance(jobs, list):
        raise ConfigError("No job defined in this config!")
    return jobs


def parse_ref(ref):
    """'processes[0].name' -> ['processes', '0', 'name']."""
    parts = []
    for name, index in re.findall(r"([^.\[\]]+)|\[([^\]]*)\]", ref):
        parts.append(name or index)
    return parts


class Renderer:
    """Resolves mustaches of one job against --bind values; collects unbound refs and ports."""

    def __init__(self, bindings):
        self.bindings = dict(bindings)
        self.unbound = set()
        self.ports = set()

    # A scope chain is a list of structs, innermost first.
    def lookup(self, ref, chain, depth):
        if ref in self.bindings:
            return True, self.render_str(self.bindings[ref], chain, depth + 1)
        parts = parse_ref(ref)
        for i, scope in enumerate(chain):
            found, value, where = self.walk(scope, parts, chain[i:])
            if found:
                if isinstance(value, str):
                    value = self.render_str(value, where, depth + 1)
                return True, value
        return False, None

    def walk(self, value, parts, chain):
        for part in parts:
            if isinstance(value, Struct):
                _, value = value.field(part)
                if value is None:
                    return False, None, chain
                if isinstance(value, Struct):
                    chain = [value] + chain
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
                if isinstance(value, Struct):
                    chain = [value] + chain
            elif isinstance(value, dict) and part in value:
                value = value[part]
            else:
                return False, None, chain
        if isinstance(value, Struct):
            return False, None, chain      # a struct is not a string value
        return True, value, chain

    def render_str(self, text, chain, depth=0):
        if depth > 20:
            raise ConfigError("Mustache recursion too deep in %r" % text)

        def replace(match):
            ref = match.group(1).strip()
            port = PORT_REF.match(ref)
            if port:
                self.ports.add(port.group(1))
                return match.group(0)
            if ref in RUNTIME_SCOPES:
                return match.group(0)
            found, value = self.lookup(ref, chain, depth)
            if not found:
                self.unbound.add(ref)
                return match.group(0)
            return str(value)

        return MUSTACHE.sub(replace, text) if isinstance(text, str) else text

    def render(self, value, ftype, chain):
        """Plain data (dicts, lists, scalars) for a value of type ftype."""
        if isinstance(value, Struct):
            return self.render_struct(value, chain)
        if isinstance(ftype, tuple) and ftype[0] == "list":
            return [self.render(v, ftype[1], chain) for v in value]
        if isinstance(ftype, tuple) and ftype[0] == "map":
            return {self.render(k, ftype[1], chain): self.render(v, ftype[2], chain)
                    for k, v in value.items()}
        if isinstance(value, str):
            value = self.render_str(value, chain)
        return coerce(value, ftype)

    def render_struct(self, struct, chain):
        chain = [struct] + chain
        data = {}
        for name, ftype, default in struct.FIELDS:
            _, value = struct.field(name)
            if value is None:
                if default is REQUIRED:
                    raise ConfigError("%s[%s] is required" % (type(struct).__name__, name))
                continue
            data[name] = self.render(value, ftype, chain)
        return data


def coerce(value, ftype):
    if ftype in (int, float, bool) and isinstance(value, str):
        if "{{" in value:
            return value                       # unbound; reported by the renderer
        try:
            if ftype is bool:
                if value.lower() in ("true", "1"):
                    return True
                if value.lower() in ("false", "0"):
                    return False
                raise ValueError(value)
            return ftype(value)
        except ValueError:
            raise ConfigError("%r is not a valid %s" % (value, ftype.__name__)) from None
    if ftype is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def select(jobs, bindings, cluster, role, environment, name):
    """The one job whose cluster/role/environment/name, after binding, equal the key."""
    matches, seen = [], []
    for job in jobs:
        if not isinstance(job, Job):
            raise ConfigError("jobs must hold Job objects, got %r" % (job,))
        renderer = Renderer(bindings)
        key = [renderer.render_str(str(job.field(f)[1]), [job])
               for f in ("cluster", "role", "environment", "name")]
        seen.append("/".join(key))
        if key == [cluster, role, environment, name]:
            matches.append(job)
    if len(matches) != 1:
        what = "Could not find job" if not matches else "Multiple jobs match"
        raise ConfigError("%s %s/%s/%s/%s. Candidates are: %s" % (
            what, cluster, role, environment, name, ", ".join(seen)))
    return matches[0]


def evaluate(job, bindings):
    """(plain job data, allocated port names) of a job, or UnboundError."""
    renderer = Renderer(dict(bindings))
    # Aurora's standard bindings (AuroraConfig.standard_bindings).
    renderer.bindings.setdefault("thermos.user", "{{role}}")
    renderer.bindings.setdefault("mesos.role", "{{role}}")
    renderer.bindings.setdefault("mesos.cluster", "{{cluster}}")
    data = renderer.render_struct(job, [])
    if renderer.unbound:
        raise UnboundError(renderer.unbound)
    # Ports: every referenced name, seen through the announcer's portmap aliases, plus the
    # portmap targets themselves (AuroraConfig.ports()).
    portmap = data.get("announce", {}).get("portmap", {})
    ports = {portmap.get(p, p) for p in renderer.ports} | set(portmap.values())
    return data, {p for p in ports if not str(p).isdigit()}


# --- thrift conversion (reference/aurora.md §5.3) ----------------------------------------

def job_configuration(api, data, ports, tiers=None, user=None):
    """A thrift JobConfiguration from evaluated job data."""
    t = api.ttypes
    for field in ("role", "environment", "name"):
        if not isinstance(data[field], str) or not IDENTIFIER.match(data[field]):
            raise ConfigError("Invalid %s '%s'" % (field, data[field]))
    key = t.JobKey(role=data["role"], environment=data["environment"], name=data["name"])
    owner = t.Identity(user=user or getpass.getuser())

    res = data["task"].get("resources")
    if res is None:
        raise ConfigError("Task must specify resources!")
    if res["ram"] == 0 or res["disk"] == 0:
        raise ConfigError("Must specify ram and disk resources, got ram:%r disk:%r"
                          % (res["ram"], res["disk"]))
    resources = {t.Resource(numCpus=res["cpu"]), t.Resource(ramMb=res["ram"] // MB),
                 t.Resource(diskMb=res["disk"] // MB)}
    resources |= {t.Resource(namedPort=p) for p in sorted(ports)}
    if res.get("gpu", 0) > 0:
        resources.add(t.Resource(numGpus=res["gpu"]))

    production, tier = data["production"], data.get("tier")
    if tiers is not None:               # the CLI backfills one from the other (§5.3)
        production, tier = backfill_tier(tiers, production, tier)

    executor_data = {k: v for k, v in data.items() if k not in ("update_config", "instances")}
    task = t.TaskConfig(
        job=key, owner=owner, isService=data["service"], priority=data["priority"],
        maxTaskFailures=data["max_task_failures"], production=production, tier=tier,
        resources=resources, constraints=constraints(t, data.get("constraints") or {}),
        taskLinks=data.get("task_links") or {}, contactEmail=data.get("contact"),
        executorConfig=t.ExecutorConfig(name=api.constants.AURORA_EXECUTOR_NAME,
                                        data=json.dumps(executor_data, sort_keys=True)),
        metadata={t.Metadata(key=m["key"], value=m["value"]) for m in data["metadata"]},
        container=t.Container(mesos=t.MesosContainer()))
    policy = t.CronCollisionPolicy._NAMES_TO_VALUES.get(data["cron_collision_policy"])
    if policy is None:
        raise ConfigError("Invalid cron policy: %s" % data["cron_collision_policy"])
    return t.JobConfiguration(key=key, owner=owner, cronSchedule=data.get("cron_schedule"),
                              cronCollisionPolicy=policy, taskConfig=task,
                              instanceCount=data["instances"])


def constraints(t, spec):
    """Job.constraints map -> set<Constraint>: 'limit:N', '!a,b' (negated) or 'a,b'."""
    result = set()
    for name, value in spec.items():
        if value.startswith("limit:"):
            inner = t.TaskConstraint(limit=t.LimitConstraint(limit=int(value[len("limit:"):])))
        else:
            negated = value.startswith("!")
            values = set((value[1:] if negated else value).split(","))
            inner = t.TaskConstraint(value=t.ValueConstraint(negated=negated, values=values))
        result.add(t.Constraint(name=name, constraint=inner))
    return result


def backfill_tier(tier_result, production, tier):
    """Fill `tier` from `production`, or `production` from `tier`, with getTierConfigs."""
    settings = {tc.name: tc.settings for tc in tier_result.tiers}
    if tier is None:
        if production:
            tier = next((n for n, s in sorted(settings.items())
                         if s.get("preemptible") == "false" and s.get("revocable") == "false"),
                        tier_result.defaultTierName)
        else:
            tier = tier_result.defaultTierName
    elif tier not in settings:
        raise ConfigError("Tier '%s' does not exist" % tier)
    else:
        production = settings[tier].get("preemptible") == "false"
    return production, tier


def load_job(path, bindings, cluster, role, environment, name):
    """What `aurora job create` does locally before asking the scheduler anything: load the
    file, bind, select the job for the key, resolve. Returns (job data, port names)."""
    return evaluate(select(load(path), bindings, cluster, role, environment, name), bindings)
