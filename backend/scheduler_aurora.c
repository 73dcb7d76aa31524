/* scheduler_aurora: Heron's AuroraScheduler driving the `aurora` client as
 * its AuroraCLIController does, with the same argv:
 *
 *   aurora job create --wait-until RUNNING --bind NAME=value ...
 *          [--bind AURORA_METADATA_<i>=value ...] KEY TEMPLATE [--verbose]
 *   aurora job killall KEY [--verbose] --batch-size 2147483647
 *   aurora job restart KEY[/N] [--verbose] --batch-size 2147483647
 *
 * Heron sends the thirteen bindings in the iteration order of a HashMap
 * keyed by the AuroraField enum, which Java leaves undefined (enum hash
 * codes are identity hashes); heronfs sends them in the enum's declaration
 * order. The batch size is Integer.MAX_VALUE because `restart` has no
 * --no-batching.
 *
 * Settings of heronfs itself (heronfs.yaml): heronfs.aurora.command (the
 * client, looked up on PATH), heronfs.aurora.timeout.ms (per command),
 * heronfs.aurora.verbose (adds --verbose as Heron's --verbose does) and
 * heronfs.aurora.environ.pattern (the scheduler's
 * -allowed_job_environments).
 */
#include "scheduler_impl.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aurora_api.h"
#include "heron_conf.h"
#include "log.h"
#include "packing.h"
#include "proc.h"

#define DEFAULT_TIMEOUT_MS       600000
#define DEFAULT_KILL_ATTEMPTS    5
#define DEFAULT_KILL_INTERVAL_MS 2000
#define BATCH_SIZE               "2147483647"
#define TEMPLATE_NAME            "heron.aurora"
#define CORE_URI_DEFAULT         "${HERON_DIST}/heron-core.tar.gz"
/* Aurora's default -allowed_job_environments (a Java regex). */
#define STOCK_ENVIRON_PATTERN    "^(prod|devel|test|staging\\d*)$"

struct sched_backend {
	char *command;
	int timeout_ms;
	bool verbose;
	char *template;           /* before heron.scheduler.properties */
	int kill_attempts;
	long long kill_interval_ms;
	char *environ_pattern;    /* as configured, for messages */
	regex_t environ_re;
	bool have_re;
	struct aurora_api *api;   /* task status, from the scheduler's API */
};

/* ---- argv --------------------------------------------------------------- */

struct cmd {
	char **v;    /* NULL-terminated */
	size_t n;
};

static void cmd_add(struct cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cmd_add(struct cmd *c, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	c->v = xrealloc(c->v, (c->n + 2) * sizeof(*c->v));
	c->v[c->n++] = buf_steal(&b);
	c->v[c->n] = NULL;
}

static void cmd_free(struct cmd *c)
{
	strv_free(c->v);
	*c = (struct cmd){0};
}

/* --verbose and the batch size, in AuroraCLIController's order. */
static void cmd_batch_options(struct cmd *c, const struct sched_backend *be)
{
	if (be->verbose)
		cmd_add(c, "--verbose");
	cmd_add(c, "--batch-size");
	cmd_add(c, BATCH_SIZE);
}

static void log_cmd(const struct cmd *c)
{
	struct buf b = {0};

	if (hf_log_level < HF_LOG_DEBUG)
		return;
	for (size_t i = 0; i < c->n; i++)
		buf_printf(&b, "%s'%s'", i ? " " : "", c->v[i]);
	LOG_D("%s", b.data);
	buf_free(&b);
}

/* Runs c; what names it in messages ("aurora job create KEY"). */
static hf_rc run(const struct sched_backend *be, struct cmd *c,
		 const char *what, struct hf_error *err)
{
	struct proc_result res;
	hf_rc rc;

	log_cmd(c);
	rc = proc_run(c->v, NULL, be->timeout_ms, &res, err);
	if (rc == HF_ERR_TIMEOUT) {
		hf_fail(err, rc, "%s timed out after %d ms "
			"(heronfs.aurora.timeout.ms)", what, be->timeout_ms);
	} else if (rc != HF_OK) {
		hf_error_prefix(err, "%s", what);
	} else if (res.exit_status != 0) {
		const char *line = proc_last_line(&res);
		char how[32];

		if (res.exit_status > 0)
			snprintf(how, sizeof(how), "exit %d", res.exit_status);
		else
			snprintf(how, sizeof(how), "signal %d",
				 res.term_signal);
		rc = hf_fail(err, HF_ERR_UNAVAILABLE, "%s failed (%s)%s%s",
			     what, how, *line ? ": " : "", line);
	}
	proc_result_free(&res);
	return rc;
}

static char *key_string(const struct job_key *k)
{
	return xasprintf("%s/%s/%s/%s", k->cluster, k->role, k->environ,
			 k->name);
}

/* ---- create ------------------------------------------------------------- */

/* AuroraField, in declaration order. */
enum field {
	F_CLUSTER, F_CORE_PACKAGE_URI, F_CPUS_PER_CONTAINER,
	F_DISK_PER_CONTAINER, F_ENVIRON, F_EXECUTOR_BINARY, F_NUM_CONTAINERS,
	F_RAM_PER_CONTAINER, F_ROLE, F_TIER, F_TOPOLOGY_ARGUMENTS,
	F_TOPOLOGY_NAME, F_TOPOLOGY_PACKAGE_URI, NFIELDS
};

static const char *const field_names[NFIELDS] = {
	"CLUSTER", "CORE_PACKAGE_URI", "CPUS_PER_CONTAINER",
	"DISK_PER_CONTAINER", "ENVIRON", "EXECUTOR_BINARY", "NUM_CONTAINERS",
	"RAM_PER_CONTAINER", "ROLE", "TIER", "TOPOLOGY_ARGUMENTS",
	"TOPOLOGY_NAME", "TOPOLOGY_PACKAGE_URI",
};

/* AuroraScheduler.createAuroraProperties. Every container gets the
 * largest container's size; container 0 (the TManager) is added. */
static hf_rc field_values(const struct launch_spec *spec, char *v[NFIELDS],
			  struct hf_error *err)
{
	const struct heron_conf *conf = spec->cluster_conf;
	char cpu_str[32];
	long long ram, disk;
	double cpu;

	packing_max_resource(spec->plan, &cpu, &ram, &disk);
	java_double_string(cpu, cpu_str, sizeof(cpu_str));
	v[F_CLUSTER] = xstrdup(spec->key.cluster);
	v[F_CORE_PACKAGE_URI] = sched_conf_str(conf, "heron.package.core.uri",
					       CORE_URI_DEFAULT);
	v[F_CPUS_PER_CONTAINER] = xstrdup(cpu_str);
	v[F_DISK_PER_CONTAINER] = xasprintf("%lld", disk);
	v[F_ENVIRON] = xstrdup(spec->key.environ);
	v[F_EXECUTOR_BINARY] = sched_conf_str(conf, "heron.binaries.executor",
					      "${HERON_BIN}/heron-executor");
	v[F_NUM_CONTAINERS] =
		xasprintf("%zu", spec->plan->n_container_plans + 1);
	v[F_RAM_PER_CONTAINER] = xasprintf("%lld", ram);
	v[F_ROLE] = xstrdup(spec->key.role);
	v[F_TIER] = xstrdup(strcmp(spec->key.environ, "prod") == 0
				    ? "preferred" : "preemptible");
	v[F_TOPOLOGY_NAME] = xstrdup(spec->topology->name);
	v[F_TOPOLOGY_PACKAGE_URI] = xstrdup(spec->package_uri);
	return executor_args_build(spec, &v[F_TOPOLOGY_ARGUMENTS], err);
}

/* heron.scheduler.properties split as Java's split(",") does (trailing
 * empty elements dropped); NULL when unset or holding nothing. */
static char **scheduler_properties(const struct heron_conf *conf)
{
	const char *p = heron_conf_get(conf, "heron.scheduler.properties");
	char **v = NULL;
	size_t n = 0;

	if (!p || !*p)
		return NULL;
	for (;; p++) {
		size_t len = strcspn(p, ",");

		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = xstrndup(p, len);
		p += len;
		if (!*p)
			break;
	}
	while (n > 0 && !*v[n - 1])
		free(v[--n]);
	v[n] = NULL;
	if (n == 0) {
		/* Only commas: Java's array is empty and Heron throws. */
		strv_free(v);
		return NULL;
	}
	return v;
}

/* AuroraCLIController: the first property replaces every "heron.aurora"
 * in the template path (Java's String.replace). */
static char *template_path(const char *tmpl, char *const *props)
{
	struct buf b = {0};
	const char *hit;

	if (!props)
		return xstrdup(tmpl);
	while ((hit = strstr(tmpl, TEMPLATE_NAME))) {
		buf_append(&b, tmpl, (size_t)(hit - tmpl));
		buf_puts(&b, props[0]);
		tmpl = hit + strlen(TEMPLATE_NAME);
	}
	buf_puts(&b, tmpl);
	return buf_steal(&b);
}

static void create_cmd(struct cmd *c, const struct sched_backend *be,
		       char *const v[NFIELDS], char *const *props,
		       const char *key)
{
	char *tmpl = template_path(be->template, props);

	cmd_add(c, "%s", be->command);
	cmd_add(c, "job");
	cmd_add(c, "create");
	cmd_add(c, "--wait-until");
	cmd_add(c, "RUNNING");
	for (int i = 0; i < NFIELDS; i++) {
		cmd_add(c, "--bind");
		cmd_add(c, "%s=%s", field_names[i], v[i]);
	}
	for (size_t i = 1; props && props[i]; i++) {
		cmd_add(c, "--bind");
		cmd_add(c, "AURORA_METADATA_%zu=%s", i, props[i]);
	}
	cmd_add(c, "%s", key);
	cmd_add(c, "%s", tmpl);
	if (be->verbose)
		cmd_add(c, "--verbose");
	free(tmpl);
}

static hf_rc aurora_launch(struct sched_backend *be,
			   const struct launch_spec *spec, struct hf_error *err)
{
	char *v[NFIELDS] = {0}, *key = key_string(&spec->key);
	char *what = xasprintf("aurora job create %s", key);
	struct cmd c = {0};
	hf_rc rc = field_values(spec, v, err);

	if (rc == HF_OK) {
		char **props = scheduler_properties(spec->cluster_conf);

		create_cmd(&c, be, v, props, key);
		strv_free(props);
		rc = run(be, &c, what, err);
	} else {
		hf_error_prefix(err, "%s", what);
	}
	for (int i = 0; i < NFIELDS; i++)
		free(v[i]);
	cmd_free(&c);
	free(what);
	free(key);
	return rc;
}

/* ---- kill and restart --------------------------------------------------- */

static void sleep_ms(long long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
	       EINTR)
		;
}

/* AuroraScheduler.onKill: Aurora may be away for a while, so every
 * failure (a timeout too) is retried after kill_interval_ms, up to
 * kill_attempts runs in all. */
static hf_rc aurora_kill(struct sched_backend *be, const struct job_key *key,
			 struct hf_error *err)
{
	char *k = key_string(key);
	char *what = xasprintf("aurora job killall %s", k);
	struct cmd c = {0};
	struct hf_error e = {0};
	hf_rc rc;

	cmd_add(&c, "%s", be->command);
	cmd_add(&c, "job");
	cmd_add(&c, "killall");
	cmd_add(&c, "%s", k);
	cmd_batch_options(&c, be);
	for (int attempt = 1;; attempt++) {
		rc = run(be, &c, what, &e);
		if (rc == HF_OK || attempt >= be->kill_attempts)
			break;
		LOG_W("%s (attempt %d of %d); trying again in %lld ms", e.msg,
		      attempt, be->kill_attempts, be->kill_interval_ms);
		sleep_ms(be->kill_interval_ms);
	}
	if (rc != HF_OK && be->kill_attempts > 1)
		hf_fail(err, rc, "%s (%d attempts)", e.msg, be->kill_attempts);
	else if (rc != HF_OK)
		hf_fail(err, rc, "%s", e.msg);
	/* The tasks changed: the next read asks the scheduler. */
	aurora_api_forget(be->api, key->role, key->environ, key->name);
	cmd_free(&c);
	free(what);
	free(k);
	return rc;
}

static hf_rc aurora_restart(struct sched_backend *be,
			    const struct job_key *key, int container,
			    struct hf_error *err)
{
	char *k = key_string(key), *target, *what;
	struct cmd c = {0};
	hf_rc rc;

	target = container < 0 ? xstrdup(k)
			       : xasprintf("%s/%d", k, container);
	what = xasprintf("aurora job restart %s", target);
	cmd_add(&c, "%s", be->command);
	cmd_add(&c, "job");
	cmd_add(&c, "restart");
	cmd_add(&c, "%s", target);
	cmd_batch_options(&c, be);
	rc = run(be, &c, what, err);
	aurora_api_forget(be->api, key->role, key->environ, key->name);
	cmd_free(&c);
	free(what);
	free(target);
	free(k);
	return rc;
}

/* ---- environment and job link ------------------------------------------- */

static hf_rc aurora_check_environ(struct sched_backend *be,
				  const char *environ, struct hf_error *err)
{
	if (regexec(&be->environ_re, environ, 0, NULL, 0) == 0)
		return HF_OK;
	return hf_fail(err, HF_ERR_INVALID,
		       "Aurora refuses environment \"%s\": it takes only "
		       "names matching %s", environ, be->environ_pattern);
}

/* AuroraScheduler.getJobLinks: the template, token-substituted; an empty
 * one means none. */
static char *aurora_job_link(struct sched_backend *be,
			     const struct heron_conf *topology_conf)
{
	const char *t = heron_conf_get(topology_conf,
				       "heron.scheduler.job.link.template");

	return t && *t ? heron_conf_expand(topology_conf, t, NULL) : NULL;
}

/* ---- open and close ----------------------------------------------------- */

/* Aurora matches the whole name against a Java regex: anchored here, with
 * \d (which POSIX EREs lack) as [0-9]. */
static char *posix_pattern(const char *java)
{
	struct buf b = {0};

	buf_puts(&b, "^(");
	for (const char *p = java; *p; p++) {
		if (p[0] == '\\' && p[1] == 'd') {
			buf_puts(&b, "[0-9]");
			p++;
		} else if (p[0] == '\\' && p[1]) {
			buf_append(&b, p++, 2);
		} else {
			buf_append(&b, p, 1);
		}
	}
	buf_puts(&b, ")$");
	return buf_steal(&b);
}

static hf_rc compile_environ(struct sched_backend *be,
			     const struct heron_conf *conf,
			     struct hf_error *err)
{
	char *re, msg[256];
	int rc;

	be->environ_pattern = xstrdup(heron_conf_get_str(
		conf, "heronfs.aurora.environ.pattern", STOCK_ENVIRON_PATTERN));
	re = posix_pattern(be->environ_pattern);
	rc = regcomp(&be->environ_re, re, REG_EXTENDED | REG_NOSUB);
	free(re);
	be->have_re = rc == 0;
	if (rc == 0)
		return HF_OK;
	regerror(rc, &be->environ_re, msg, sizeof(msg));
	return hf_fail(err, HF_ERR_INVALID,
		       "heronfs.aurora.environ.pattern %s: %s",
		       be->environ_pattern, msg);
}

/* heron.scheduler.job.template, else heron.aurora in the (local) cluster
 * conf directory, as AuroraContext.getHeronAuroraPath. */
static char *job_template(const struct heron_conf *conf)
{
	const char *t = heron_conf_get(conf, "heron.scheduler.job.template");
	const char *dir = heron_conf_dir(conf);
	size_t n = strlen(dir);

	if (t)
		return xstrdup(t);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, dir, TEMPLATE_NAME);
}

static hf_rc read_settings(struct sched_backend *be,
			   const struct heron_conf *conf, struct hf_error *err)
{
	long long timeout = heron_conf_get_int(
		conf, "heronfs.aurora.timeout.ms", DEFAULT_TIMEOUT_MS);
	long long attempts = heron_conf_get_int(
		conf, "heron.scheduler.job.max.kill.attempts",
		DEFAULT_KILL_ATTEMPTS);

	if (timeout <= 0 || timeout > INT_MAX)
		return hf_fail(err, HF_ERR_INVALID,
			       "heronfs.aurora.timeout.ms must be between 1 "
			       "and %d", INT_MAX);
	be->timeout_ms = (int)timeout;
	be->command = xstrdup(heron_conf_get_str(conf, "heronfs.aurora.command",
						 "aurora"));
	if (!*be->command)
		return hf_fail(err, HF_ERR_INVALID,
			       "heronfs.aurora.command is empty");
	be->verbose =
		heron_conf_get_bool(conf, "heronfs.aurora.verbose", false);
	be->template = job_template(conf);
	/* Heron always makes a first attempt. */
	if (attempts < 1)
		attempts = 1;
	be->kill_attempts = attempts > INT_MAX ? INT_MAX : (int)attempts;
	be->kill_interval_ms = heron_conf_get_int(
		conf, "heron.scheduler.job.kill.retry.interval.ms",
		DEFAULT_KILL_INTERVAL_MS);
	if (be->kill_interval_ms < 0)
		be->kill_interval_ms = 0;
	return HF_OK;
}

/* The Aurora cluster is the Heron cluster: the conf directory's name, as
 * in the job keys Heron builds. */
static const char *aurora_cluster_name(const struct heron_conf *conf)
{
	const char *dir = heron_conf_dir(conf);
	const char *slash = strrchr(dir, '/');

	return slash ? slash + 1 : dir;
}

static void aurora_close(struct sched_backend *be)
{
	if (!be)
		return;
	if (be->have_re)
		regfree(&be->environ_re);
	aurora_api_close(be->api);
	free(be->environ_pattern);
	free(be->template);
	free(be->command);
	free(be);
}

static hf_rc aurora_open(const struct heron_conf *conf,
			 struct sched_backend **out, struct hf_error *err)
{
	struct sched_backend *be = xcalloc(1, sizeof(*be));
	hf_rc rc = read_settings(be, conf, err);

	if (rc == HF_OK)
		rc = compile_environ(be, conf, err);
	if (rc == HF_OK)
		rc = aurora_api_open(conf, aurora_cluster_name(conf), &be->api,
				     err);
	if (rc != HF_OK) {
		aurora_close(be);
		be = NULL;
	}
	*out = be;
	return rc;
}

static hf_rc aurora_containers(struct sched_backend *be,
			       const struct job_key *key,
			       struct container_set **out,
			       struct hf_error *err)
{
	return aurora_api_tasks(be->api, key->role, key->environ, key->name,
				out, err);
}

static void aurora_health(struct sched_backend *be, struct buf *out)
{
	aurora_api_health(be->api, out);
}

const struct sched_ops sched_aurora_ops = {
	.kind = "aurora",
	.open = aurora_open,
	.close = aurora_close,
	.check_environ = aurora_check_environ,
	.launch = aurora_launch,
	.kill = aurora_kill,
	.restart = aurora_restart,
	.job_link = aurora_job_link,
	.containers = aurora_containers,
	.health = aurora_health,
};
