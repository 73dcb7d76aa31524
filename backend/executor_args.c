/* executor_args: TOPOLOGY_ARGUMENTS, the topology-wide heron-executor
 * flags, as Heron's SchedulerUtils.addExecutorTopologyArgs builds them:
 * "--flag=value" joined by single spaces, in its order, with the flag
 * names of ExecutorFlag (0.20.3 and later; --tmaster-binary before).
 *
 * Values come from the conf converted to cluster mode, with Heron's Key
 * defaults where a key is unset, and from the topology's own config as
 * TopologyUtils reads it. --verbose-gc is never sent: it follows the
 * `heron submit --verbose_gc` option, which heronfs has no counterpart
 * for.
 */
#include "scheduler_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "heron_conf.h"
#include "packing.h"

#define CKPTMGR_RAM_KEY     "topology.stateful.checkpointmanager.ram"
#define CKPTMGR_RAM_DEFAULT 1073741824LL   /* ByteAmount.fromGigabytes(1) */

/* heron.statefulstorage.config is a map in stateful.yaml; the conf loader
 * flattens it with '.'. */
#define CUSTOM_CLASSPATH_KEY \
	"heron.statefulstorage.config.heron.statefulstorage.custom.classpath"

char *sched_conf_str(const struct heron_conf *conf, const char *key,
		     const char *def)
{
	const char *v = heron_conf_get(conf, key);

	return v ? xstrdup(v) : heron_conf_expand(conf, def, NULL);
}

bool sched_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *sched_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- value encodings ---------------------------------------------------- */

/* SchedulerUtils.encodeJavaOpts: base64 of the bytes (UTF-8), in double
 * quotes, each '=' written "(61)" because Aurora may misread '='. */
static void put_java_opts(struct buf *b, const char *opts)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = (const unsigned char *)opts;
	size_t n = strlen(opts);

	buf_puts(b, "\"");
	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (unsigned long)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		buf_append(b, &abc[(v >> 18) & 63], 1);
		buf_append(b, &abc[(v >> 12) & 63], 1);
		if (left > 1)
			buf_append(b, &abc[(v >> 6) & 63], 1);
		if (left > 2)
			buf_append(b, &abc[v & 63], 1);
		for (size_t pad = left; pad < 3; pad++)
			buf_puts(b, "(61)");
	}
	buf_puts(b, "\"");
}

/* Appends s with every occurrence of from removed (Java's
 * String.replace(from, "")). */
static void put_without(struct buf *b, const char *s, const char *from)
{
	size_t n = strlen(from);
	const char *hit;

	while ((hit = strstr(s, from))) {
		buf_append(b, s, (size_t)(hit - s));
		s = hit + n;
	}
	buf_puts(b, s);
}

/* TopologyUtils.makeClassPath: a jar runs as it is; a tar brings libs/
 * and "<name>.jar", the name being the file's with every ".tar.gz", then
 * every ".tar", removed. */
static void put_class_path(struct buf *b, const char *binary,
			   const char *additional)
{
	const char *base = sched_base_name(binary);

	if (sched_ends_with(base, ".jar")) {
		buf_puts(b, base);
	} else {
		struct buf name = {0};

		put_without(&name, base, ".tar.gz");
		buf_puts(b, "libs/*:");
		put_without(b, name.data ? name.data : "", ".tar");
		buf_puts(b, ".jar");
		buf_free(&name);
	}
	if (additional && *additional)
		buf_printf(b, ":%s", additional);
}

/* TopologyUtils.shouldStartCkptMgr: the mode must name a
 * TopologyReliabilityMode constant, or be empty. */
static hf_rc stateful(const char *mode, bool *out, struct hf_error *err)
{
	*out = mode && strcmp(mode, "EFFECTIVELY_ONCE") == 0;
	if (!mode || !*mode || *out || strcmp(mode, "ATMOST_ONCE") == 0 ||
	    strcmp(mode, "ATLEAST_ONCE") == 0)
		return HF_OK;
	return hf_fail(err, HF_ERR_INVALID,
		       "topology.reliability.mode \"%s\" is not ATMOST_ONCE, "
		       "ATLEAST_ONCE or EFFECTIVELY_ONCE", mode);
}

/* Java's Long.parseLong: an optional sign, then decimal digits only. */
static bool java_parse_long(const char *s, long long *out)
{
	const char *d = (*s == '+' || *s == '-') ? s + 1 : s;
	char *end;

	if (!isdigit((unsigned char)*d))
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static hf_rc ckptmgr_ram(const char *v, long long *out, struct hf_error *err)
{
	*out = CKPTMGR_RAM_DEFAULT;
	if (!v || java_parse_long(v, out))
		return HF_OK;
	return hf_fail(err, HF_ERR_INVALID,
		       CKPTMGR_RAM_KEY " \"%s\" is not a number of bytes", v);
}

/* ---- the flags, in Heron's order ---------------------------------------- */

/* Opens the next flag: "--name=" after a space unless it is the first. */
static void put_flag(struct buf *b, const char *name)
{
	buf_printf(b, "%s--%s=", b->len ? " " : "", name);
}

static void flag_str(struct buf *b, const char *name, const char *value)
{
	put_flag(b, name);
	buf_puts(b, value ? value : "");
}

static void flag_conf(struct buf *b, const struct launch_spec *spec,
		      const char *name, const char *key, const char *def)
{
	char *v = sched_conf_str(spec->cluster_conf, key, def);

	flag_str(b, name, v);
	free(v);
}

/* "--name=a:b:c" from three keys (Heron's String.format("%s:%s:%s")). */
static void flag_path3(struct buf *b, const struct launch_spec *spec,
		       const char *name, const char *const kd[6])
{
	put_flag(b, name);
	for (int i = 0; i < 3; i++) {
		char *v = sched_conf_str(spec->cluster_conf, kd[2 * i],
					 kd[2 * i + 1]);

		buf_printf(b, "%s%s", i ? ":" : "", v);
		free(v);
	}
}

static const char *topo_conf(const struct launch_spec *spec, const char *key)
{
	return topo_config_get(spec->topology->topology_config, key);
}

static void flags_topology(struct buf *b, const struct launch_spec *spec)
{
	const char *opts;
	bool tmaster = spec->spelling == SPELL_TMASTER;

	flag_str(b, "topology-name", spec->topology->name);
	flag_str(b, "topology-id", spec->topology->id);
	flag_str(b, "topology-defn-file", sched_base_name(spec->defn_file));
	flag_conf(b, spec, "state-manager-connection",
		  "heron.statemgr.connection.string", "");
	flag_conf(b, spec, "state-manager-root", "heron.statemgr.root.path",
		  "");
	flag_conf(b, spec, "state-manager-config-file",
		  "heron.config.file.statemgr.yaml",
		  "${HERON_CONF}/statemgr.yaml");
	if (tmaster)
		flag_conf(b, spec, "tmaster-binary", "heron.binaries.tmaster",
			  "${HERON_BIN}/heron-tmaster");
	else
		flag_conf(b, spec, "tmanager-binary", "heron.binaries.tmanager",
			  "${HERON_BIN}/heron-tmanager");
	flag_conf(b, spec, "stmgr-binary", "heron.binaries.stmgr",
		  "${HERON_BIN}/heron-stmgr");
	flag_conf(b, spec, "metrics-manager-classpath",
		  "heron.classpath.metrics.manager",
		  "${HERON_LIB}/metricsmgr/*");
	opts = topo_conf(spec, "topology.worker.childopts");
	put_flag(b, "instance-jvm-opts");
	put_java_opts(b, opts ? opts : "");
	put_flag(b, "classpath");
	put_class_path(b, spec->topology_binary,
		       topo_conf(spec, "topology.additional.classpath"));
}

static void flags_files(struct buf *b, const struct launch_spec *spec)
{
	const char *opts = topo_conf(spec, "topology.component.jvmopts");
	char *ram_map = packing_component_ram_map(spec->plan);

	flag_conf(b, spec, "heron-internals-config-file",
		  "heron.config.file.system.yaml",
		  "${HERON_CONF}/heron_internals.yaml");
	flag_conf(b, spec, "override-config-file",
		  "heron.config.file.override.yaml",
		  "${HERON_CONF}/override.yaml");
	flag_str(b, "component-ram-map", ram_map);
	free(ram_map);
	put_flag(b, "component-jvm-opts");
	put_java_opts(b, opts ? opts : "");
	put_flag(b, "pkg-type");
	for (const char *p = spec->pkg_type; *p; p++) {
		char c = (char)tolower((unsigned char)*p);

		buf_append(b, &c, 1);
	}
	flag_str(b, "topology-binary-file", spec->topology_binary);
	flag_conf(b, spec, "heron-java-home",
		  "heron.directory.sandbox.java.home",
		  "/usr/lib/jvm/default-java");
}

static void flags_processes(struct buf *b, const struct launch_spec *spec)
{
	static const char *const scheduler_cp[6] = {
		"heron.classpath.scheduler", "${HERON_LIB}/scheduler/*",
		"heron.classpath.packing", "${HERON_LIB}/packing/*",
		"heron.classpath.statemgr", "${HERON_LIB}/statemgr/*",
	};

	flag_conf(b, spec, "heron-shell-binary", "heron.binaries.shell",
		  "${HERON_BIN}/heron-shell");
	flag_str(b, "cluster", spec->key.cluster);
	flag_str(b, "role", spec->key.role);
	flag_str(b, "environment", spec->key.environ);
	flag_conf(b, spec, "instance-classpath", "heron.classpath.instance",
		  "${HERON_LIB}/instance/*");
	flag_conf(b, spec, "metrics-sinks-config-file",
		  "heron.config.file.metrics.yaml",
		  "${HERON_CONF}/metrics_sinks.yaml");
	flag_path3(b, spec, "scheduler-classpath", scheduler_cp);
	flag_conf(b, spec, "python-instance-binary",
		  "heron.binaries.python.instance",
		  "${HERON_BIN}/heron-python-instance");
	flag_conf(b, spec, "cpp-instance-binary", "heron.binaries.cpp.instance",
		  "${HERON_BIN}/heron-cpp-instance");
}

static void flags_managers(struct buf *b, const struct launch_spec *spec,
			   bool is_stateful, long long ckpt_ram)
{
	static const char *const ckptmgr_cp[6] = {
		"heron.classpath.ckptmgr", "${HERON_LIB}/ckptmgr/*",
		"heron.classpath.statefulstorage",
		"${HERON_LIB}/statefulstorage/*",
		CUSTOM_CLASSPATH_KEY, "",
	};

	flag_conf(b, spec, "metricscache-manager-classpath",
		  "heron.classpath.metricscache.manager",
		  "${HERON_LIB}/metricscachemgr/*");
	flag_conf(b, spec, "metricscache-manager-mode",
		  "heron.topology.metricscachemgr.mode", "disabled");
	flag_str(b, "is-stateful", is_stateful ? "true" : "false");
	flag_path3(b, spec, "checkpoint-manager-classpath", ckptmgr_cp);
	flag_conf(b, spec, "stateful-config-file",
		  "heron.config.file.stateful.yaml",
		  "${HERON_CONF}/stateful.yaml");
	put_flag(b, "checkpoint-manager-ram");
	buf_printf(b, "%lld", ckpt_ram);
	flag_conf(b, spec, "health-manager-mode",
		  "heron.topology.healthmgr.mode", "disabled");
	flag_conf(b, spec, "health-manager-classpath",
		  "heron.classpath.healthmgr", "${HERON_LIB}/healthmgr/*");
}

hf_rc executor_args_build(const struct launch_spec *spec, char **out,
			  struct hf_error *err)
{
	struct buf b = {0};
	bool is_stateful;
	long long ram;
	hf_rc rc;

	*out = NULL;
	rc = stateful(topo_conf(spec, "topology.reliability.mode"),
		      &is_stateful, err);
	if (rc == HF_OK)
		rc = ckptmgr_ram(topo_conf(spec, CKPTMGR_RAM_KEY), &ram, err);
	if (rc != HF_OK)
		return rc;
	flags_topology(&b, spec);
	flags_files(&b, spec);
	flags_processes(&b, spec);
	flags_managers(&b, spec, is_stateful, ram);
	*out = buf_steal(&b);
	return HF_OK;
}

char *executor_topology_arguments(const struct launch_spec *spec)
{
	char *args;

	return executor_args_build(spec, &args, NULL) == HF_OK ? args : NULL;
}
