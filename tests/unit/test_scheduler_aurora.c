/* Unit tests for the Aurora scheduler: TOPOLOGY_ARGUMENTS worked out by
 * hand from Heron's SchedulerUtils.addExecutorTopologyArgs, ExecutorFlag,
 * TopologyUtils and Key defaults, and the `aurora` argv of
 * AuroraCLIController, recorded by a stand-in `aurora` script. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fixtures.h"
#include "heron_conf.h"
#include "packing.h"
#include "scheduler.h"

/* cmocka's test signature takes a state these tests do not use. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define CLUSTER  "devcluster"
#define ROLE     "ads"
#define ENVIRON  "devel"
#define NAME     "WordCount"
#define ID       "WordCount9b2f1d1e-0c5e-4b8a-9a43-3c2a7d1e5f60"
#define KEY      CLUSTER "/" ROLE "/" ENVIRON "/" NAME
#define PKG_URI  "file:///var/heron/repository/devcluster/ads/WordCount/" \
		 "WordCount-ads-tag-0.tar.gz"
#define CHILDOPTS "-XX:+HeapDumpOnOutOfMemoryError -Dheron.log=debug"
/* Config.setComponentJvmOptions's form: base64 name to base64 options. */
#define COMPONENT_JVMOPTS "{\"d29yZA==\":\"LVhteDUxMm0=\"}"

/* The worked example (see fx_open): WordCount, a "word" spout and a
 * "count" bolt, 2 each, in 2 containers, as a jar, on a ZooKeeper cluster
 * with a custom stateful storage classpath. Java's HashMap puts "count"
 * (bucket 8) before "word" (bucket 13) in the RAM map. */
#define ARGS_HEAD \
	"--topology-name=WordCount" \
	" --topology-id=" ID \
	" --topology-defn-file=WordCount.defn" \
	" --state-manager-connection=zk1:2181,zk2:2181" \
	" --state-manager-root=/heron" \
	" --state-manager-config-file=./heron-conf/statemgr.yaml"
#define ARGS_TAIL \
	" --stmgr-binary=./heron-core/bin/heron-stmgr" \
	" --metrics-manager-classpath=./heron-core/lib/metricsmgr/*" \
	" --instance-jvm-opts=\"LVhYOitIZWFwRHVtcE9uT3V0T2ZNZW1vcnlFcnJvciAt" \
	"RGhlcm9uLmxvZz1kZWJ1Zw(61)(61)\"" \
	" --classpath=heron-examples.jar" \
	" --heron-internals-config-file=./heron-conf/heron_internals.yaml" \
	" --override-config-file=./heron-conf/override.yaml" \
	" --component-ram-map=count:1073741824,word:1073741824" \
	" --component-jvm-opts=\"eyJkMjl5WkE9PSI6IkxWaHRlRFV4TW0wPSJ9\"" \
	" --pkg-type=jar" \
	" --topology-binary-file=heron-examples.jar" \
	" --heron-java-home=/usr/lib/jvm/java-1.8.0-openjdk-amd64/" \
	" --heron-shell-binary=./heron-core/bin/heron-shell" \
	" --cluster=devcluster --role=ads --environment=devel" \
	" --instance-classpath=./heron-core/lib/instance/*" \
	" --metrics-sinks-config-file=./heron-conf/metrics_sinks.yaml" \
	" --scheduler-classpath=./heron-core/lib/scheduler/*:" \
	"./heron-core/lib/packing/*:./heron-core/lib/statemgr/*" \
	" --python-instance-binary=./heron-core/bin/heron-python-instance" \
	" --cpp-instance-binary=./heron-core/bin/heron-cpp-instance" \
	" --metricscache-manager-classpath=./heron-core/lib/metricscachemgr/*" \
	" --metricscache-manager-mode=disabled" \
	" --is-stateful=false" \
	" --checkpoint-manager-classpath=./heron-core/lib/ckptmgr/*:" \
	"./heron-core/lib/statefulstorage/*:/opt/ckpt/custom/*" \
	" --stateful-config-file=./heron-conf/stateful.yaml" \
	" --checkpoint-manager-ram=1073741824" \
	" --health-manager-mode=disabled" \
	" --health-manager-classpath=./heron-core/lib/healthmgr/*"
#define ARGS_TMANAGER ARGS_HEAD \
	" --tmanager-binary=./heron-core/bin/heron-tmanager" ARGS_TAIL
#define ARGS_TMASTER ARGS_HEAD \
	" --tmaster-binary=./heron-core/bin/heron-tmaster" ARGS_TAIL

/* ---- a cluster conf directory and a stand-in `aurora` ------------------- */

/* Records its argv, one per line, then "---", into argv; exits with the
 * n-th line of status for its n-th run (the last line after that, 0
 * without one); sleeps first while a file named sleep exists. */
static const char aurora_script[] =
	"#!/bin/sh\n"
	"D='%s'\n"
	"n=$(cat \"$D/argv\" 2>/dev/null | grep -c '^---$')\n"
	"for a in \"$0\" \"$@\"; do printf '%%s\\n' \"$a\"; done >> \"$D/argv\"\n"
	"echo --- >> \"$D/argv\"\n"
	"if [ -f \"$D/sleep\" ]; then sleep 10; fi\n"
	"code=$(sed -n \"$((n + 1))p\" \"$D/status\" 2>/dev/null)\n"
	"[ -n \"$code\" ] || code=$(tail -n 1 \"$D/status\" 2>/dev/null)\n"
	"echo 'INFO: talking to the scheduler'\n"
	"if [ \"${code:-0}\" != 0 ]; then\n"
	"  printf 'Error executing command:\\n\\tJob %s already exists\\n\\n' >&2\n"
	"fi\n"
	"exit \"${code:-0}\"\n";

static const char *const cluster_files[][2] = {
	{"scheduler.yaml",
	 "heron.class.scheduler: org.apache.heron.scheduler.aurora.AuroraScheduler\n"
	 "heron.class.launcher: org.apache.heron.scheduler.aurora.AuroraLauncher\n"
	 "heron.scheduler.is.service: False\n"
	 "heron.directory.sandbox.java.home: /usr/lib/jvm/java-1.8.0-openjdk-amd64/\n"
	 "heron.scheduler.job.max.kill.attempts: 3\n"
	 "heron.scheduler.job.kill.retry.interval.ms: 100\n"},
	{"client.yaml",
	 "heron.package.core.uri: file:///var/heron/dist/heron-core.tar.gz\n"},
	{"statemgr.yaml",
	 "heron.class.state.manager: org.apache.heron.statemgr.zookeeper.curator.CuratorStateManager\n"
	 "heron.statemgr.connection.string: zk1:2181,zk2:2181\n"
	 "heron.statemgr.root.path: /heron\n"},
	{"stateful.yaml",
	 "heron.statefulstorage.classname: org.apache.heron.statefulstorage.localfs.LocalFileSystemStorage\n"
	 "heron.statefulstorage.config:\n"
	 "  heron.statefulstorage.localfs.root.path: /tmp/ckpt\n"
	 "  heron.statefulstorage.custom.classpath: /opt/ckpt/custom/*\n"},
};

struct fx {
	char root[32];
	char *dir;       /* the cluster conf directory */
	char *script;
	struct heron_conf *conf, *cluster_conf;
	struct scheduler *sched;
	Heron__Proto__Api__Topology *topo;
	Heron__Proto__System__PackingPlan *plan;
	struct launch_spec spec;
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);

	write_text(path, text);
	free(path);
}

static void write_status(struct fx *f, const char *codes)
{
	write_file(f->root, "status", codes);
}

static void write_cluster(struct fx *f, const char *heronfs_yaml)
{
	char *script = xasprintf(aurora_script, f->root, KEY);

	f->dir = xasprintf("%s/" CLUSTER, f->root);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	for (size_t i = 0; i < sizeof(cluster_files) / sizeof(*cluster_files);
	     i++)
		write_file(f->dir, cluster_files[i][0], cluster_files[i][1]);
	write_file(f->dir, "heronfs.yaml", heronfs_yaml);
	f->script = xasprintf("%s/aurora", f->root);
	write_file(f->root, "aurora", script);
	assert_int_equal(chmod(f->script, 0755), 0);
	free(script);
}

/* The local conf (as mounted) and the cluster-mode one of a submit. */
static void load_confs(struct fx *f)
{
	const struct conf_tokens local = {
		.heron_home = "/opt/heron", .heron_conf = f->dir,
		.cluster = CLUSTER,
	};
	const struct conf_tokens cluster = {
		.heron_home = "./heron-core", .heron_conf = "./heron-conf",
		.cluster = CLUSTER, .role = ROLE, .environ = ENVIRON,
		.topology_name = NAME, .topology_id = ID, .submit_user = ROLE,
	};

	f->conf = conf_load(f->dir, &local);
	f->cluster_conf = conf_load(f->dir, &cluster);
}

/* ---- the topology -------------------------------------------------------- */

/* The fixtures' word count with the worked example's options. */
static Heron__Proto__Api__Topology *example_topology(void)
{
	Heron__Proto__Api__Topology *t = word_count_topology(ID, NAME);

	config_put(t->topology_config, "topology.worker.childopts", CHILDOPTS);
	config_put(t->topology_config, "topology.component.jvmopts",
		   COMPONENT_JVMOPTS);
	config_put(t->topology_config, "topology.reliability.mode",
		   "ATLEAST_ONCE");
	return t;
}

static void topo_set(struct fx *f, const char *key, const char *value)
{
	Heron__Proto__Api__Config *c = f->topo->topology_config;

	for (size_t i = 0; i < c->n_kvs; i++) {
		if (strcmp(c->kvs[i]->key, key) == 0) {
			free(c->kvs[i]->value);
			c->kvs[i]->value = xstrdup(value);
			return;
		}
	}
	config_put(c, key, value);
}

/* ---- fixture ------------------------------------------------------------ */

/* The cluster conf directory and its two confs, no scheduler yet.
 * heronfs_yaml: the cluster's heronfs.yaml, with the stand-in aurora (its
 * path is appended) unless it names its own command. */
static void fx_open_conf(struct fx *f, const char *heronfs_yaml)
{
	struct buf yaml = {0};

	memset(f, 0, sizeof(*f));
	strcpy(f->root, "/tmp/heronfs-sched-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	buf_puts(&yaml, heronfs_yaml ? heronfs_yaml : "");
	if (!strstr(yaml.data ? yaml.data : "", "heronfs.aurora.command"))
		buf_printf(&yaml, "heronfs.aurora.command: %s/aurora\n",
			   f->root);
	write_cluster(f, yaml.data);
	buf_free(&yaml);
	load_confs(f);
	f->topo = example_topology();
	f->plan = scheduled_plan(f->topo, f->cluster_conf);
	f->spec = (struct launch_spec){
		.key = {CLUSTER, ROLE, ENVIRON, NAME},
		.topology_id = ID,
		.defn_file = "WordCount.defn",
		.topology_binary = "heron-examples.jar",
		.pkg_type = "jar",
		.package_uri = PKG_URI,
		.topology = f->topo,
		.plan = f->plan,
		.cluster_conf = f->cluster_conf,
		.spelling = SPELL_TMANAGER,
	};
}

static void fx_open(struct fx *f, const char *heronfs_yaml)
{
	struct hf_error err = {0};

	fx_open_conf(f, heronfs_yaml);
	if (scheduler_open(f->conf, &f->sched, &err) != HF_OK)
		fail_msg("scheduler_open: %s", err.msg);
}

static void fx_close(struct fx *f)
{
	scheduler_close(f->sched);
	heron__proto__system__packing_plan__free_unpacked(f->plan, NULL);
	heron__proto__api__topology__free_unpacked(f->topo, NULL);
	heron_conf_free(f->cluster_conf);
	heron_conf_free(f->conf);
	remove_tree(f->root);
	free(f->script);
	free(f->dir);
}

/* The runs of the stand-in aurora: each one's argv, one per line. */
static char **runs(struct fx *f)
{
	char *path = xasprintf("%s/argv", f->root);
	FILE *in = fopen(path, "r");
	char **v = xcalloc(1, sizeof(*v)), line[65536];
	struct buf cur = {0};
	size_t n = 0;

	free(path);
	while (in && fgets(line, sizeof(line), in)) {
		if (strcmp(line, "---\n") == 0) {
			v = xrealloc(v, (n + 2) * sizeof(*v));
			v[n++] = cur.data ? buf_steal(&cur) : xstrdup("");
			v[n] = NULL;
		} else {
			buf_puts(&cur, line);
		}
	}
	if (in)
		fclose(in);
	buf_free(&cur);
	return v;
}

static void assert_no_runs(struct fx *f)
{
	char **v = runs(f);

	assert_null(v[0]);
	strv_free(v);
}

/* The only run's argv. */
static char *only_run(struct fx *f)
{
	char **v = runs(f);
	char *argv;

	assert_int_equal(strv_len(v), 1);
	argv = v[0];
	v[0] = NULL;
	strv_free(v);
	return argv;
}

/* The value of --flag= in TOPOLOGY_ARGUMENTS (values hold no spaces). */
static char *arg_value(const struct launch_spec *spec, const char *flag)
{
	char *args = executor_topology_arguments(spec), *v;
	char *want = xasprintf(" %s=", flag);
	const char *p;

	assert_non_null(args);
	p = strstr(args, want);
	assert_non_null(p);
	p += strlen(want);
	v = xstrndup(p, strcspn(p, " "));
	free(want);
	free(args);
	return v;
}

static void assert_arg(const struct launch_spec *spec, const char *flag,
		       const char *want)
{
	char *v = arg_value(spec, flag);

	assert_string_equal(v, want);
	free(v);
}

/* ---- TOPOLOGY_ARGUMENTS ------------------------------------------------- */

static void test_arguments_tmanager(void **state)
{
	struct fx f;
	char *args;

	fx_open(&f, NULL);
	args = executor_topology_arguments(&f.spec);
	assert_string_equal(args, ARGS_TMANAGER);
	free(args);
	fx_close(&f);
}

static void test_arguments_tmaster(void **state)
{
	struct fx f;
	char *args;

	fx_open(&f, NULL);
	f.spec.spelling = SPELL_TMASTER;
	args = executor_topology_arguments(&f.spec);
	assert_string_equal(args, ARGS_TMASTER);
	free(args);
	fx_close(&f);
}

/* Keys set in the conf win over Heron's defaults; an unset custom
 * stateful classpath leaves Heron's trailing ':'. */
static void test_arguments_from_conf(void **state)
{
	struct fx f;

	fx_open(&f, "heron.binaries.tmanager: ${HERON_HOME}/sbin/tm\n"
		    "heron.topology.healthmgr.mode: cluster\n"
		    "heron.topology.metricscachemgr.mode: cluster\n"
		    "heron.statefulstorage.config:\n"
		    "  heron.statefulstorage.custom.classpath:\n");
	assert_arg(&f.spec, "--tmanager-binary", "./heron-core/sbin/tm");
	assert_arg(&f.spec, "--health-manager-mode", "cluster");
	assert_arg(&f.spec, "--metricscache-manager-mode", "cluster");
	assert_arg(&f.spec, "--checkpoint-manager-classpath",
		   "./heron-core/lib/ckptmgr/*:"
		   "./heron-core/lib/statefulstorage/*:");
	fx_close(&f);
}

static void test_jvm_opts_encoding(void **state)
{
	static const char *const cases[][2] = {
		{"", "\"\""},
		{"a", "\"YQ(61)(61)\""},
		{"ab", "\"YWI(61)\""},
		{"abc", "\"YWJj\""},
		{"\xc3\xa9", "\"w6k(61)\""},   /* UTF-8 bytes as they are */
		{"-Xmx1g -Da=b", "\"LVhteDFnIC1EYT1i\""},
	};
	struct fx f;

	fx_open(&f, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		topo_set(&f, "topology.worker.childopts", cases[i][0]);
		topo_set(&f, "topology.component.jvmopts", cases[i][0]);
		assert_arg(&f.spec, "--instance-jvm-opts", cases[i][1]);
		assert_arg(&f.spec, "--component-jvm-opts", cases[i][1]);
	}
	fx_close(&f);
}

/* TopologyUtils.makeClassPath, quirks included. */
static void test_classpath(void **state)
{
	static const char *const cases[][4] = {
		{"heron-examples.jar", "jar", NULL, "heron-examples.jar"},
		{"word-count.tar.gz", "tar", NULL, "libs/*:word-count.jar"},
		{"word-count.tar", "tar", NULL, "libs/*:word-count.jar"},
		{"dir/x.jar", "jar", NULL, "x.jar"},
		{"wc.tar.gz", "tar", "extra/*:more.jar",
		 "libs/*:wc.jar:extra/*:more.jar"},
		{"wc.jar", "jar", "", "wc.jar"},
		/* Every ".tar" goes, not just the suffix. */
		{"my.tarball.tar.gz", "tar", NULL, "libs/*:myball.jar"},
		{"topology.pex", "pex", NULL, "libs/*:topology.pex.jar"},
	};
	struct fx f;

	fx_open(&f, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		f.spec.topology_binary = cases[i][0];
		f.spec.pkg_type = cases[i][1];
		if (cases[i][2])
			topo_set(&f, "topology.additional.classpath",
				 cases[i][2]);
		assert_arg(&f.spec, "--classpath", cases[i][3]);
		assert_arg(&f.spec, "--pkg-type", cases[i][1]);
		assert_arg(&f.spec, "--topology-binary-file", cases[i][0]);
	}
	f.spec.pkg_type = "TAR";
	assert_arg(&f.spec, "--pkg-type", "tar");
	fx_close(&f);
}

static void test_stateful(void **state)
{
	struct fx f;
	struct hf_error err = {0};

	fx_open(&f, NULL);
	topo_set(&f, "topology.reliability.mode", "EFFECTIVELY_ONCE");
	topo_set(&f, "topology.stateful.checkpointmanager.ram", "2147483648");
	assert_arg(&f.spec, "--is-stateful", "true");
	assert_arg(&f.spec, "--checkpoint-manager-ram", "2147483648");
	topo_set(&f, "topology.reliability.mode", "ATMOST_ONCE");
	assert_arg(&f.spec, "--is-stateful", "false");
	topo_set(&f, "topology.reliability.mode", "");
	assert_arg(&f.spec, "--is-stateful", "false");

	/* Values Heron's submitter throws on. */
	topo_set(&f, "topology.reliability.mode", "EXACTLY_ONCE");
	assert_null(executor_topology_arguments(&f.spec));
	assert_int_equal(scheduler_launch(f.sched, &f.spec, &err),
			 HF_ERR_INVALID);
	assert_string_equal(err.msg, "aurora job create " KEY ": "
				     "topology.reliability.mode \"EXACTLY_ONCE\" "
				     "is not ATMOST_ONCE, ATLEAST_ONCE or "
				     "EFFECTIVELY_ONCE");
	topo_set(&f, "topology.reliability.mode", "ATLEAST_ONCE");
	topo_set(&f, "topology.stateful.checkpointmanager.ram", "1g");
	assert_null(executor_topology_arguments(&f.spec));
	assert_no_runs(&f);
	fx_close(&f);
}

/* ---- the environment check ---------------------------------------------- */

static void test_environ_stock(void **state)
{
	static const char *const ok[] = {"prod", "devel", "test", "staging",
					 "staging7", "staging123"};
	static const char *const refused[] = {"default", "production",
					      "staging1a", "dev", "Prod",
					      "xprod"};
	struct fx f;
	struct hf_error err = {0};

	fx_open(&f, NULL);
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		assert_int_equal(scheduler_check_environ(f.sched, ok[i], &err),
				 HF_OK);
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		assert_int_equal(scheduler_check_environ(f.sched, refused[i],
							 &err),
				 HF_ERR_INVALID);
	assert_string_equal(err.msg, "Aurora refuses environment \"xprod\": "
				     "it takes only names matching "
				     "^(prod|devel|test|staging\\d*)$");
	assert_int_equal(scheduler_check_environ(f.sched, "", &err),
			 HF_ERR_INVALID);
	fx_close(&f);
}

/* A pattern in Aurora's form (a Java regex matched against the whole
 * name); a broken one stops the scheduler from opening. */
static void test_environ_pattern(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	struct scheduler *s = (struct scheduler *)&s;

	fx_open(&f, "heronfs.aurora.environ.pattern: 'qa\\d+|default'\n");
	assert_int_equal(scheduler_check_environ(f.sched, "qa12", &err),
			 HF_OK);
	assert_int_equal(scheduler_check_environ(f.sched, "default", &err),
			 HF_OK);
	assert_int_equal(scheduler_check_environ(f.sched, "qa", &err),
			 HF_ERR_INVALID);
	assert_int_equal(scheduler_check_environ(f.sched, "xqa1", &err),
			 HF_ERR_INVALID);
	assert_int_equal(scheduler_check_environ(f.sched, "prod", &err),
			 HF_ERR_INVALID);
	fx_close(&f);

	fx_open_conf(&f, "heronfs.aurora.environ.pattern: 'prod|(dev'\n");
	assert_int_equal(scheduler_open(f.conf, &s, &err), HF_ERR_INVALID);
	assert_null(s);
	assert_non_null(strstr(err.msg, "heronfs.aurora.environ.pattern "
					"prod|(dev: "));
	fx_close(&f);
}

/* ---- aurora job create -------------------------------------------------- */

/* The whole create argv of the worked example up to the job key; tail
 * is what follows it. */
static char *expected_create(struct fx *f, const char *tail)
{
	return xasprintf(
		"%s\njob\ncreate\n--wait-until\nRUNNING\n"
		"--bind\nCLUSTER=devcluster\n"
		"--bind\nCORE_PACKAGE_URI=file:///var/heron/dist/heron-core.tar.gz\n"
		"--bind\nCPUS_PER_CONTAINER=3.0\n"
		"--bind\nDISK_PER_CONTAINER=15032385536\n"
		"--bind\nENVIRON=devel\n"
		"--bind\nEXECUTOR_BINARY=./heron-core/bin/heron-executor\n"
		"--bind\nNUM_CONTAINERS=3\n"
		"--bind\nRAM_PER_CONTAINER=4294967296\n"
		"--bind\nROLE=ads\n"
		"--bind\nTIER=preemptible\n"
		"--bind\nTOPOLOGY_ARGUMENTS=" ARGS_TMANAGER "\n"
		"--bind\nTOPOLOGY_NAME=WordCount\n"
		"--bind\nTOPOLOGY_PACKAGE_URI=" PKG_URI "\n"
		KEY "\n%s",
		f->script, tail);
}

/* Sizes: 2 instances of 1 GiB, 1.0 CPU and 1 GiB disk per container,
 * plus RoundRobinPacking's padding (2 GiB RAM for the stream and metrics
 * managers, 1.0 CPU, 12 GiB disk); 2 containers and the TManager's. */
static void test_launch(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	char *got, *tail, *want;

	fx_open(&f, NULL);
	assert_int_equal(scheduler_launch(f.sched, &f.spec, &err), HF_OK);
	got = only_run(&f);
	tail = xasprintf("%s/heron.aurora\n", f.dir);
	want = expected_create(&f, tail);
	assert_string_equal(got, want);
	free(want);
	free(tail);
	free(got);
	fx_close(&f);
}

/* heron.scheduler.properties: the first one replaces the template's file
 * name, the others become AURORA_METADATA_<i>; then --verbose last. */
static void test_launch_properties_verbose(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	char *got, *tail;

	fx_open(&f, "heronfs.aurora.verbose: true\n"
		    "heron.scheduler.properties: "
		    "[custom.aurora, team a, ops]\n");
	f.spec.key.environ = "prod";
	assert_int_equal(scheduler_launch(f.sched, &f.spec, &err), HF_OK);
	got = only_run(&f);
	assert_non_null(strstr(got, "--bind\nENVIRON=prod\n"));
	assert_non_null(strstr(got, "--bind\nTIER=preferred\n"));
	tail = xasprintf("--bind\nAURORA_METADATA_1=team a\n"
			 "--bind\nAURORA_METADATA_2=ops\n"
			 CLUSTER "/" ROLE "/prod/" NAME "\n"
			 "%s/custom.aurora\n--verbose\n", f.dir);
	assert_non_null(strstr(got, tail));
	assert_true(strlen(strstr(got, tail)) == strlen(tail));
	free(tail);
	free(got);
	fx_close(&f);
}

/* An explicit template path, left alone without properties. */
static void test_launch_template(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	char *got;

	fx_open(&f,
		"heron.scheduler.job.template: /etc/heron/jobs/wc.aurora\n");
	assert_int_equal(scheduler_launch(f.sched, &f.spec, &err), HF_OK);
	got = only_run(&f);
	assert_non_null(strstr(got, KEY "\n/etc/heron/jobs/wc.aurora\n"));
	free(got);
	fx_close(&f);
}

static void test_launch_fails(void **state)
{
	struct fx f;
	struct hf_error err = {0};

	fx_open(&f, NULL);
	write_status(&f, "4\n");
	assert_int_equal(scheduler_launch(f.sched, &f.spec, &err),
			 HF_ERR_UNAVAILABLE);
	assert_string_equal(err.msg, "aurora job create " KEY " failed "
				     "(exit 4): Job " KEY " already exists");
	fx_close(&f);
}

static void test_launch_timeout(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	long long t0;

	fx_open(&f, "heronfs.aurora.timeout.ms: 300\n");
	write_file(f.root, "sleep", "");
	t0 = now_ms();
	assert_int_equal(scheduler_launch(f.sched, &f.spec, &err),
			 HF_ERR_TIMEOUT);
	assert_true(now_ms() - t0 < 2500);
	assert_string_equal(err.msg,
			    "aurora job create " KEY " timed out after 300 ms "
			    "(heronfs.aurora.timeout.ms)");
	fx_close(&f);
}

static void test_command_not_found(void **state)
{
	struct fx f;
	struct hf_error err = {0};

	fx_open(&f, "heronfs.aurora.command: heronfs-no-such-aurora\n");
	assert_int_equal(scheduler_launch(f.sched, &f.spec, &err),
			 HF_ERR_UNAVAILABLE);
	assert_string_equal(err.msg, "aurora job create " KEY ": "
				     "heronfs-no-such-aurora: command not "
				     "found on PATH");
	fx_close(&f);
}

/* ---- kill and restart --------------------------------------------------- */

static void test_kill(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	char *got, *want;

	fx_open(&f, NULL);
	assert_int_equal(scheduler_kill(f.sched, &f.spec.key, &err), HF_OK);
	got = only_run(&f);
	want = xasprintf("%s\njob\nkillall\n" KEY "\n--batch-size\n"
			 "2147483647\n", f.script);
	assert_string_equal(got, want);
	free(want);
	free(got);
	fx_close(&f);
}

/* heron.scheduler.job.max.kill.attempts (3 here) runs, 100 ms apart. */
static void test_kill_retries(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	long long t0;
	char **v;

	fx_open(&f, "heronfs.aurora.verbose: yes\n");
	write_status(&f, "4\n");
	t0 = now_ms();
	assert_int_equal(scheduler_kill(f.sched, &f.spec.key, &err),
			 HF_ERR_UNAVAILABLE);
	assert_true(now_ms() - t0 >= 200);
	assert_string_equal(err.msg, "aurora job killall " KEY " failed "
				     "(exit 4): Job " KEY " already exists "
				     "(3 attempts)");
	v = runs(&f);
	assert_int_equal(strv_len(v), 3);
	for (int i = 0; i < 3; i++)
		assert_non_null(strstr(v[i], "\nkillall\n" KEY "\n--verbose\n"
					     "--batch-size\n2147483647\n"));
	strv_free(v);
	fx_close(&f);

	/* Success on the second run ends the retries. */
	fx_open(&f, NULL);
	write_status(&f, "9\n0\n");
	assert_int_equal(scheduler_kill(f.sched, &f.spec.key, &err), HF_OK);
	v = runs(&f);
	assert_int_equal(strv_len(v), 2);
	strv_free(v);
	fx_close(&f);
}

static void test_restart(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	char **v, *all, *one;

	fx_open(&f, NULL);
	assert_int_equal(scheduler_restart(f.sched, &f.spec.key, -1, &err),
			 HF_OK);
	assert_int_equal(scheduler_restart(f.sched, &f.spec.key, 2, &err),
			 HF_OK);
	assert_int_equal(scheduler_restart(f.sched, &f.spec.key, -2, &err),
			 HF_ERR_INVALID);
	write_status(&f, "7\n");
	assert_int_equal(scheduler_restart(f.sched, &f.spec.key, 0, &err),
			 HF_ERR_UNAVAILABLE);
	assert_string_equal(err.msg, "aurora job restart " KEY "/0 failed "
				     "(exit 7): Job " KEY " already exists");
	v = runs(&f);
	assert_int_equal(strv_len(v), 3);
	all = xasprintf("%s\njob\nrestart\n" KEY "\n--batch-size\n"
			"2147483647\n", f.script);
	one = xasprintf("%s\njob\nrestart\n" KEY "/2\n--batch-size\n"
			"2147483647\n", f.script);
	assert_string_equal(v[0], all);
	assert_string_equal(v[1], one);
	free(all);
	free(one);
	strv_free(v);
	fx_close(&f);
}

/* ---- opening, keys, job link -------------------------------------------- */

static void test_open_refuses_other_schedulers(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	struct scheduler *s = (struct scheduler *)&s;
	struct heron_conf *conf;
	const struct conf_tokens t = {.cluster = CLUSTER};

	fx_open(&f, NULL);
	write_file(f.dir, "override.yaml",
		   "heron.class.scheduler: org.apache.heron.scheduler.yarn.YarnScheduler\n");
	conf = NULL;
	{
		char *override = xasprintf("%s/override.yaml", f.dir);

		assert_int_equal(heron_conf_load(f.dir, NULL, override, &t,
						 &conf, &err),
				 HF_OK);
		free(override);
	}
	assert_int_equal(scheduler_open(conf, &s, &err), HF_ERR_INVALID);
	assert_null(s);
	assert_string_equal(err.msg, "scheduler class org.apache.heron."
				     "scheduler.yarn.YarnScheduler is not "
				     "supported by heronfs");
	heron_conf_free(conf);

	/* The pre-0.18 package name works as well. */
	write_file(f.dir, "override.yaml",
		   "heron.class.scheduler: com.twitter.heron.scheduler.aurora.AuroraScheduler\n");
	{
		char *override = xasprintf("%s/override.yaml", f.dir);

		assert_int_equal(heron_conf_load(f.dir, NULL, override, &t,
						 &conf, &err),
				 HF_OK);
		free(override);
	}
	assert_int_equal(scheduler_open(conf, &s, &err), HF_OK);
	scheduler_close(s);
	heron_conf_free(conf);
	fx_close(&f);
}

static void test_bad_settings(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	struct scheduler *s = (struct scheduler *)&s;

	fx_open_conf(&f, "heronfs.aurora.timeout.ms: 0\n");
	assert_int_equal(scheduler_open(f.conf, &s, &err), HF_ERR_INVALID);
	assert_null(s);
	assert_string_equal(err.msg, "heronfs.aurora.timeout.ms must be "
				     "between 1 and 2147483647");
	fx_close(&f);
}

static void test_bad_job_key(void **state)
{
	struct fx f;
	struct hf_error err = {0};
	const struct job_key bad = {CLUSTER, "a/b", ENVIRON, NAME};

	fx_open(&f, NULL);
	assert_int_equal(scheduler_kill(f.sched, &bad, &err), HF_ERR_INVALID);
	assert_string_equal(err.msg, "job key devcluster/a/b/devel/WordCount: "
				     "every part must be non-empty and free "
				     "of '/'");
	f.spec.key.name = "";
	assert_int_equal(scheduler_launch(f.sched, &f.spec, &err),
			 HF_ERR_INVALID);
	assert_no_runs(&f);
	fx_close(&f);
}

/* Substituted with the topology's tokens, as getJobLinks does. */
static void test_job_link(void **state)
{
	struct fx f;
	char *link;

	fx_open(&f, "heron.scheduler.job.link.template: "
		    "http://aurora:8081/scheduler/${ROLE}/${ENVIRON}/${TOPOLOGY}\n");
	link = scheduler_job_link(f.sched, f.cluster_conf);
	assert_string_equal(link, "http://aurora:8081/scheduler/ads/devel/"
				  "WordCount");
	free(link);
	fx_close(&f);

	fx_open(&f, NULL);
	assert_null(scheduler_job_link(f.sched, f.cluster_conf));
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arguments_tmanager),
		cmocka_unit_test(test_arguments_tmaster),
		cmocka_unit_test(test_arguments_from_conf),
		cmocka_unit_test(test_jvm_opts_encoding),
		cmocka_unit_test(test_classpath),
		cmocka_unit_test(test_stateful),
		cmocka_unit_test(test_environ_stock),
		cmocka_unit_test(test_environ_pattern),
		cmocka_unit_test(test_launch),
		cmocka_unit_test(test_launch_properties_verbose),
		cmocka_unit_test(test_launch_template),
		cmocka_unit_test(test_launch_fails),
		cmocka_unit_test(test_launch_timeout),
		cmocka_unit_test(test_command_not_found),
		cmocka_unit_test(test_kill),
		cmocka_unit_test(test_kill_retries),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_open_refuses_other_schedulers),
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_bad_job_key),
		cmocka_unit_test(test_job_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
