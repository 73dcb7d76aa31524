/* Unit tests for conf/: loading, substitution, getters, discovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "heron_conf.h"

/* cmocka's test signature takes a state these tests do not use. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define CONF_DATA TEST_DATA_DIR "/conf"
#define CLUSTERS CONF_DATA "/clusters"
#define FILES CONF_DATA "/files"
#define TEMPLATES TEST_DATA_DIR "/../../../conf/templates"

static const struct conf_tokens test_tokens = {
	.heron_home = "/opt/heron",
	.cluster = "c1",
	.home = "/home/u",
};

static struct heron_conf *load_ok(const char *cluster, const char *release,
				  const char *override)
{
	struct heron_conf *conf = NULL;
	struct hf_error err = {0};
	hf_rc rc = heron_conf_load(cluster, release, override, &test_tokens,
				   &conf, &err);

	if (rc != HF_OK)
		fail_msg("loading %s: %s", cluster, err.msg);
	assert_non_null(conf);
	return conf;
}

/* Loads cluster with override as the override file, expecting a refusal
 * whose message starts with want. */
static void load_fails(const char *cluster, const char *override,
		       hf_rc want_rc, const char *want)
{
	struct heron_conf *conf = (struct heron_conf *)&conf; /* not NULL */
	struct hf_error err = {0};
	hf_rc rc = heron_conf_load(cluster, NULL, override, &test_tokens,
				   &conf, &err);

	assert_int_equal(rc, want_rc);
	assert_int_equal(err.rc, want_rc);
	assert_null(conf);
	if (strncmp(err.msg, want, strlen(want)))
		fail_msg("error \"%s\" does not start with \"%s\"", err.msg,
			 want);
}

static void assert_subst(const struct conf_tokens *t, const char *in,
			 const char *want)
{
	char *got = conf_substitute(in, t);

	if (strcmp(got, want))
		fail_msg("\"%s\" became \"%s\", not \"%s\"", in, got, want);
	free(got);
}

/* ---- load order ---- */

static void test_load_order(void **state)
{
	static const char *const order[] = {
		"cluster", "client", "healthmgr", "packing", "scheduler",
		"statemgr", "uploader", "downloader", "heronfs", "release",
		"override",
	};
	struct heron_conf *conf = load_ok(CLUSTERS "/good",
					  FILES "/release.yaml",
					  FILES "/override.yaml");

	/* Each file sets last.X for itself and every file after it, so
	 * last.X == X means X overrode everything read before it. */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		char *key = xasprintf("last.%s", order[i]);

		assert_string_equal(heron_conf_get(conf, key), order[i]);
		free(key);
	}
	heron_conf_free(conf);
}

static void test_release_and_override_optional(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/good", NULL, NULL);

	assert_string_equal(heron_conf_get(conf, "last.override"), "heronfs");
	assert_string_equal(heron_conf_get(conf, "unset.me"), "scheduler");
	heron_conf_free(conf);

	/* Release and override files that do not exist are skipped too. */
	conf = load_ok(CLUSTERS "/good", FILES "/no-such-release.yaml",
		       FILES "/no-such-override.yaml");
	assert_string_equal(heron_conf_get(conf, "last.override"), "heronfs");
	heron_conf_free(conf);
}

static void test_null_unsets(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/good", NULL,
					  FILES "/override.yaml");

	/* scheduler.yaml sets it, the override file sets it to null. */
	assert_null(heron_conf_get(conf, "unset.me"));
	/* statemgr.yaml sets it to null, uploader.yaml sets it again. */
	assert_string_equal(heron_conf_get(conf, "reset.me"), "uploader");
	heron_conf_free(conf);
}

static void count_keys(void *arg, const char *key, const char *value)
{
	(*(size_t *)arg)++;
}

static void test_missing_files_skipped(void **state)
{
	/* twitter/ has only scheduler.yaml and statemgr.yaml. */
	struct heron_conf *conf = load_ok(CLUSTERS "/twitter", NULL, NULL);
	size_t n = 0;

	assert_non_null(heron_conf_get(conf, "heron.class.scheduler"));
	assert_null(heron_conf_get(conf, "heron.config.is.role.required"));
	assert_string_equal(heron_conf_dir(conf), CLUSTERS "/twitter");
	heron_conf_free(conf);

	/* A directory with none of the files is an empty conf. */
	conf = load_ok(FILES, NULL, NULL);
	heron_conf_foreach(conf, count_keys, &n);
	assert_int_equal(n, 0);
	heron_conf_free(conf);
}

static void test_missing_cluster_dir(void **state)
{
	load_fails(CLUSTERS "/no-such-cluster", NULL, HF_ERR_NOTFOUND,
		   "cluster conf " CLUSTERS "/no-such-cluster: ");
	load_fails(FILES "/empty.yaml", NULL, HF_ERR_INVALID,
		   "cluster conf " FILES "/empty.yaml: not a directory");
}

/* ---- refusals ---- */

static void test_malformed_names_file_and_line(void **state)
{
	load_fails(CLUSTERS "/malformed", NULL, HF_ERR_INVALID,
		   CLUSTERS "/malformed/scheduler.yaml:4: ");
}

static void test_refused_shapes(void **state)
{
	load_fails(CLUSTERS "/good", FILES "/toplevel-seq.yaml",
		   HF_ERR_INVALID, FILES "/toplevel-seq.yaml:2: "
		   "the top level is not a mapping");
	load_fails(CLUSTERS "/good", FILES "/seq-of-maps.yaml",
		   HF_ERR_INVALID, FILES "/seq-of-maps.yaml:3: "
		   "a sequence may only hold scalars");
	load_fails(CLUSTERS "/good", FILES "/complex-key.yaml",
		   HF_ERR_INVALID, FILES "/complex-key.yaml:2: "
		   "a key must be a scalar");
	load_fails(CLUSTERS "/good", FILES "/two-docs.yaml",
		   HF_ERR_INVALID, FILES "/two-docs.yaml:2: "
		   "more than one YAML document");
	load_fails(CLUSTERS "/good", FILES "/alias-cycle.yaml",
		   HF_ERR_INVALID, FILES "/alias-cycle.yaml:1: "
		   "mappings nested too deeply");
	load_fails(CLUSTERS "/good", FILES "/alias-bomb.yaml",
		   HF_ERR_INVALID, FILES "/alias-bomb.yaml:");
	load_fails(CLUSTERS "/good", FILES "/bad-utf8.yaml",
		   HF_ERR_INVALID, FILES "/bad-utf8.yaml: invalid");
}

static void test_unreadable_file(void **state)
{
	char dir[] = "/tmp/test_conf.XXXXXX";
	char *sub;

	assert_non_null(mkdtemp(dir));
	sub = xasprintf("%s/scheduler.yaml", dir);
	assert_int_equal(mkdir(sub, 0700), 0);

	char *want = xasprintf("%s/scheduler.yaml: not a regular file", dir);

	load_fails(dir, NULL, HF_ERR_INVALID, want);
	free(want);
	rmdir(sub);
	rmdir(dir);
	free(sub);
}

static void test_empty_documents(void **state)
{
	struct heron_conf *conf;

	conf = load_ok(CLUSTERS "/twitter", FILES "/empty.yaml",
		       FILES "/comments-only.yaml");
	assert_non_null(heron_conf_get(conf, "heron.class.scheduler"));
	heron_conf_free(conf);
}

/* ---- flattening ---- */

static void test_nested_flattening(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/nested", NULL, NULL);

	assert_string_equal(heron_conf_get(conf, "heron.statemgr.root.path"),
			    "/nested");
	assert_string_equal(heron_conf_get(conf,
		"heron.statemgr.zookeeper.retry.count"), "10");
	assert_string_equal(heron_conf_get(conf,
		"heron.downloader.registry.http"),
		"org.apache.heron.downloader.HttpDownloader");
	assert_string_equal(heron_conf_get(conf, "hosts"),
			    "zk1:2181,zk2:2181");
	assert_string_equal(heron_conf_get(conf, "flow.list"), "a,b,c");
	assert_string_equal(heron_conf_get(conf, "empty.list"), "");
	assert_null(heron_conf_get(conf, "empty.map"));
	assert_null(heron_conf_get(conf, "heron"));
	assert_null(heron_conf_get(conf, "heron.statemgr"));
	assert_string_equal(heron_conf_get(conf, "block"),
			    "line one\nline two\n");
	heron_conf_free(conf);
}

static void test_nulls_and_quotes(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/nested", NULL, NULL);

	assert_null(heron_conf_get(conf, "null.plain"));
	assert_null(heron_conf_get(conf, "null.tilde"));
	assert_null(heron_conf_get(conf, "null.word"));
	/* Quoted, they are strings; "~" is then a home component. */
	assert_string_equal(heron_conf_get(conf, "quoted.tilde"), "/home/u");
	assert_string_equal(heron_conf_get(conf, "quoted.null"), "null");
	assert_string_equal(heron_conf_get(conf, "quoted.empty"), "");
	heron_conf_free(conf);
}

struct collected {
	struct buf keys;
	size_t n;
	int unsorted;
	char *last;
};

static void collect(void *arg, const char *key, const char *value)
{
	struct collected *c = arg;

	assert_non_null(value);
	if (c->last && strcmp(c->last, key) >= 0)
		c->unsorted++;
	free(c->last);
	c->last = xstrdup(key);
	if (!strncmp(key, "heron.statemgr.", 15))
		buf_printf(&c->keys, "%s=%s;", key, value);
	c->n++;
}

static void test_foreach(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/good", NULL, NULL);
	struct collected c = {0};

	heron_conf_foreach(conf, collect, &c);
	assert_int_equal(c.unsorted, 0);
	/* 11 last.*; then scheduler, statemgr, uploader, client, packing,
	 * heronfs keys; unset.me and reset.me. */
	assert_int_equal(c.n, 11 + 4 + 3 + 2 + 2 + 1 + 2 + 2);
	/* Values come substituted. */
	assert_string_equal(c.keys.data,
		"heron.statemgr.connection.string=zk1:2181,zk2:2181;"
		"heron.statemgr.root.path=/heron/c1;");
	free(c.last);
	buf_free(&c.keys);
	heron_conf_free(conf);
}

/* ---- substitution ---- */

static void test_subst_whole_components(void **state)
{
	const struct conf_tokens *t = &test_tokens;

	assert_subst(t, "/a/${CLUSTER}/b", "/a/c1/b");
	assert_subst(t, "${CLUSTER}", "c1");
	assert_subst(t, "${CLUSTER}/${CLUSTER}", "c1/c1");
	assert_subst(t, "/a/x-${CLUSTER}", "/a/x-${CLUSTER}");
	assert_subst(t, "/a/${CLUSTER}x/b", "/a/${CLUSTER}x/b");
	assert_subst(t, "${CLUSTER}${CLUSTER}", "${CLUSTER}${CLUSTER}");
	assert_subst(t, "${CLUSTER}.yaml", "${CLUSTER}.yaml");
	assert_subst(t, "/a/${CLUSTER}/", "/a/c1/");
	assert_subst(t, "//${CLUSTER}//", "//c1//");
	assert_subst(t, "", "");
	assert_subst(t, "/", "/");
	assert_subst(t, "no tokens here", "no tokens here");
}

static void test_subst_scheme(void **state)
{
	const struct conf_tokens *t = &test_tokens;

	assert_subst(t, "file:///${CLUSTER}/x", "file:///c1/x");
	assert_subst(t, "file://${HERON_DIST}/core.tar.gz",
		     "file:///opt/heron/dist/core.tar.gz");
	assert_subst(t, "hdfs://${CLUSTER}/x", "hdfs://c1/x");
	assert_subst(t, "http://${CLUSTER}:8080/x", "http://${CLUSTER}:8080/x");
	assert_subst(t, "s3+x.y-z://~/k", "s3+x.y-z:///home/u/k");
}

static void test_subst_home(void **state)
{
	const struct conf_tokens *t = &test_tokens;
	struct conf_tokens env_home = { .cluster = "c1" };
	char *saved = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;

	assert_subst(t, "~", "/home/u");
	assert_subst(t, "~/x", "/home/u/x");
	assert_subst(t, "${HOME}/.herondata", "/home/u/.herondata");
	assert_subst(t, "/a/~/b", "/a//home/u/b");
	assert_subst(t, "~user/x", "~user/x");
	assert_subst(t, "/a/~b", "/a/~b");

	/* Without tokens.home, $HOME. */
	setenv("HOME", "/env/home", 1);
	assert_subst(&env_home, "~/${CLUSTER}", "/env/home/c1");
	assert_subst(NULL, "${HOME}/x", "/env/home/x");
	if (saved)
		setenv("HOME", saved, 1);
	else
		unsetenv("HOME");
	free(saved);
}

static void test_subst_java_home(void **state)
{
	char *saved = getenv("JAVA_HOME") ? xstrdup(getenv("JAVA_HOME")) : NULL;

	setenv("JAVA_HOME", "/usr/lib/jvm/jdk", 1);
	assert_subst(&test_tokens, "${JAVA_HOME}/bin/java",
		     "/usr/lib/jvm/jdk/bin/java");
	unsetenv("JAVA_HOME");
	assert_subst(&test_tokens, "${JAVA_HOME}/bin/java",
		     "${JAVA_HOME}/bin/java");
	if (saved)
		setenv("JAVA_HOME", saved, 1);
	free(saved);
}

static void test_subst_named_tokens(void **state)
{
	const struct conf_tokens all = {
		.heron_home = "/opt/heron/", .heron_conf = "/etc/heron/c1",
		.cluster = "c1", .role = "r", .environ = "e",
		.topology_name = "t", .topology_id = "t-id",
		.submit_user = "u", .home = "/h",
	};

	assert_subst(&all,
		"${HERON_HOME}/${HERON_CONF}/${CLUSTER}/${ROLE}/${ENVIRON}",
		"/opt/heron///etc/heron/c1/c1/r/e");
	assert_subst(&all, "${TOPOLOGY_NAME}/${TOPOLOGY}/${TOPOLOGY_ID}",
		     "t/t/t-id");
	assert_subst(&all, "${SUBMIT_USER}", "u");
	assert_subst(&all, "${HERON_BIN}:${HERON_LIB}", "${HERON_BIN}:${HERON_LIB}");
	/* The derived directories drop heron_home's trailing '/'. */
	assert_subst(&all, "${HERON_BIN}/${HERON_LIB}/${HERON_DIST}/${HERON_ETC}",
		     "/opt/heron/bin//opt/heron/lib//opt/heron/dist//opt/heron/etc");
}

static void test_subst_unknown_left(void **state)
{
	const struct conf_tokens *t = &test_tokens;

	assert_subst(t, "/a/${NOPE}/b", "/a/${NOPE}/b");
	assert_subst(t, "${ROLE}/${TOPOLOGY}", "${ROLE}/${TOPOLOGY}");
	assert_subst(t, "${cluster}", "${cluster}");
	assert_subst(t, "${}/${/x", "${}/${/x");
	assert_subst(NULL, "${CLUSTER}/${HERON_BIN}", "${CLUSTER}/${HERON_BIN}");
}

static void test_subst_repeats(void **state)
{
	const struct conf_tokens nested = {
		.heron_home = "${HOME}/.heron", .home = "~x/../${ROLE}",
		.role = "${CLUSTER}", .cluster = "c1",
	};
	const struct conf_tokens growing = { .role = "${ROLE}/x" };
	char *got;

	assert_subst(&nested, "${HERON_BIN}", "~x/../c1/.heron/bin");
	assert_subst(&nested, "${ROLE}", "c1");

	/* A token whose value holds itself stops after a bounded number of
	 * passes, with the token still in place. */
	got = conf_substitute("${ROLE}", &growing);
	assert_true(!strncmp(got, "${ROLE}/x/x/x", 13));
	assert_true(strlen(got) < 100);
	free(got);
}

/* ---- getters ---- */

static void test_get_bool(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/nested", NULL, NULL);
	static const char *const yes[] = { "t1", "t2", "t3", "t4" };
	static const char *const no[] = { "f1", "f2", "f3", "f4" };

	for (size_t i = 0; i < 4; i++) {
		char *ky = xasprintf("bool.%s", yes[i]);
		char *kn = xasprintf("bool.%s", no[i]);

		assert_true(heron_conf_get_bool(conf, ky, false));
		assert_false(heron_conf_get_bool(conf, kn, true));
		free(ky);
		free(kn);
	}
	assert_true(heron_conf_get_bool(conf, "bool.bad", true));
	assert_false(heron_conf_get_bool(conf, "bool.bad", false));
	assert_true(heron_conf_get_bool(conf, "bool.empty", true));
	assert_true(heron_conf_get_bool(conf, "bool.unset", true));
	assert_false(heron_conf_get_bool(conf, "bool.unset", false));
	heron_conf_free(conf);
}

static void test_get_int(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/nested", NULL, NULL);

	assert_int_equal(heron_conf_get_int(conf, "int.plain", -1), 30000);
	assert_int_equal(heron_conf_get_int(conf, "int.neg", -1), -5);
	assert_int_equal(heron_conf_get_int(conf, "int.plus", -1), 7);
	assert_int_equal(heron_conf_get_int(conf, "int.hex", -1), -1);
	assert_int_equal(heron_conf_get_int(conf, "int.frac", -1), -1);
	assert_int_equal(heron_conf_get_int(conf, "int.trailing", -1), -1);
	assert_int_equal(heron_conf_get_int(conf, "int.leading", -1), -1);
	assert_int_equal(heron_conf_get_int(conf, "int.huge", -1), -1);
	assert_int_equal(heron_conf_get_int(conf, "int.word", -1), -1);
	assert_int_equal(heron_conf_get_int(conf, "int.unset", 42), 42);
	heron_conf_free(conf);
}

static void test_get_double(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/nested", NULL, NULL);
	static const struct { const char *key; double want; } cases[] = {
		{ "double.plain", 1.5 }, { "double.int", 3.0 },
		{ "double.exp", 2000.0 }, { "double.dot", 0.25 },
		{ "double.neg", -0.5 }, { "double.nan", -1.0 },
		{ "double.inf", -1.0 }, { "double.huge", -1.0 },
		{ "double.trailing", -1.0 }, { "double.unset", -1.0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double got = heron_conf_get_double(conf, cases[i].key, -1.0);

		if (got != cases[i].want)
			fail_msg("%s: got %g, want %g", cases[i].key, got,
				 cases[i].want);
	}
	heron_conf_free(conf);
}

static void test_get_str(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/good", NULL, NULL);

	assert_string_equal(heron_conf_get_str(conf,
		"heronfs.tmanager.directory", "auto"), "tmasters");
	assert_string_equal(heron_conf_get_str(conf, "heronfs.none", "auto"),
			    "auto");
	assert_null(heron_conf_get_str(conf, "heronfs.none", NULL));
	assert_int_equal(heron_conf_get_int(conf, "heronfs.statemgr.timeout.ms",
					    5000), 2500);
	assert_false(heron_conf_get_bool(conf, "heron.scheduler.is.service",
					 true));
	heron_conf_free(conf);
}

/* ---- classes ---- */

static void test_class_spellings(void **state)
{
	struct heron_conf *apache = load_ok(CLUSTERS "/good", NULL, NULL);
	struct heron_conf *twitter = load_ok(CLUSTERS "/twitter", NULL, NULL);
	struct heron_conf *nested = load_ok(CLUSTERS "/nested", NULL, NULL);

	assert_string_equal(heron_conf_class(apache, "heron.class.state.manager"),
			    "statemgr.zookeeper.curator.CuratorStateManager");
	assert_string_equal(heron_conf_class(twitter, "heron.class.state.manager"),
			    "statemgr.zookeeper.curator.CuratorStateManager");
	assert_string_equal(heron_conf_class(apache, "heron.class.scheduler"),
			    heron_conf_class(twitter, "heron.class.scheduler"));
	/* A class outside both roots is returned whole. */
	assert_string_equal(heron_conf_class(nested, "my.class"),
			    "com.example.heron.MyScheduler");
	assert_null(heron_conf_class(nested, "heron.class.uploader"));
	heron_conf_free(apache);
	heron_conf_free(twitter);
	heron_conf_free(nested);
}

/* ---- values through the conf ---- */

static void test_values_substituted_at_load(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/good", NULL, NULL);

	assert_string_equal(heron_conf_get(conf, "heron.package.core.uri"),
			    "file:///opt/heron/dist/heron-core.tar.gz");
	/* ROLE and TOPOLOGY are not among the load tokens: left for expand. */
	assert_string_equal(heron_conf_get(conf,
		"heron.uploader.localfs.file.system.directory"),
		"/home/u/.herondata/repository/topologies/c1/${ROLE}/${TOPOLOGY}");
	heron_conf_free(conf);
}

static void test_expand(void **state)
{
	struct heron_conf *conf = load_ok(CLUSTERS "/good", NULL, NULL);
	const struct conf_tokens extra = {
		.role = "alice", .environ = "devel", .topology_name = "wc",
	};
	const struct conf_tokens other_cluster = { .cluster = "c2" };
	char *s;

	s = heron_conf_expand(conf, heron_conf_get(conf,
		"heron.uploader.localfs.file.system.directory"), &extra);
	assert_string_equal(s,
		"/home/u/.herondata/repository/topologies/c1/alice/wc");
	free(s);
	s = heron_conf_expand(conf, heron_conf_get(conf,
		"heron.scheduler.job.link.template"), &extra);
	assert_string_equal(s, "http://aurora:8081/scheduler/alice/devel/wc");
	free(s);

	/* extra overlays the load tokens; NULL extra uses them alone. */
	s = heron_conf_expand(conf, "${CLUSTER}/${ROLE}", &other_cluster);
	assert_string_equal(s, "c2/${ROLE}");
	free(s);
	s = heron_conf_expand(conf, "${CLUSTER}/${HERON_BIN}", NULL);
	assert_string_equal(s, "c1//opt/heron/bin");
	free(s);
	assert_null(heron_conf_expand(conf, NULL, &extra));
	heron_conf_free(conf);
}

static void test_tokens_copied(void **state)
{
	char cluster[] = "c1";
	struct conf_tokens t = { .cluster = cluster };
	struct heron_conf *conf = NULL;
	struct hf_error err = {0};
	char *s;

	assert_int_equal(heron_conf_load(CLUSTERS "/twitter", NULL, NULL, &t,
					 &conf, &err), HF_OK);
	cluster[1] = '9';
	t.cluster = NULL;
	s = heron_conf_expand(conf, "${CLUSTER}", NULL);
	assert_string_equal(s, "c1");
	free(s);
	heron_conf_free(conf);

	/* NULL tokens are allowed: nothing but HOME and JAVA_HOME. */
	assert_int_equal(heron_conf_load(CLUSTERS "/twitter", NULL, NULL, NULL,
					 &conf, &err), HF_OK);
	s = heron_conf_expand(conf, "${CLUSTER}", NULL);
	assert_string_equal(s, "${CLUSTER}");
	free(s);
	heron_conf_free(conf);
}

/* ---- discovery ---- */

static void test_discover(void **state)
{
	char **names = NULL;
	struct hf_error err = {0};

	assert_int_equal(heron_conf_discover(CLUSTERS, &names, &err), HF_OK);
	assert_int_equal(strv_len(names), 4);
	assert_string_equal(names[0], "good");
	assert_string_equal(names[1], "malformed");
	assert_string_equal(names[2], "nested");
	assert_string_equal(names[3], "twitter");
	assert_null(names[4]);
	strv_free(names);
}

static void test_discover_empty_and_missing(void **state)
{
	char dir[] = "/tmp/test_conf.XXXXXX";
	char **names = (char **)&names;        /* not NULL */
	struct hf_error err = {0};

	assert_non_null(mkdtemp(dir));
	assert_int_equal(heron_conf_discover(dir, &names, &err), HF_OK);
	assert_non_null(names);
	assert_null(names[0]);
	strv_free(names);
	rmdir(dir);

	assert_int_equal(heron_conf_discover(dir, &names, &err),
			 HF_ERR_NOTFOUND);
	assert_null(names);
	assert_int_equal(err.rc, HF_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, dir));

	/* A file is not a config path either. */
	assert_int_equal(heron_conf_discover(FILES "/empty.yaml", &names,
					     &err), HF_ERR_INVALID);
	assert_null(names);
}

/* ---- shipped templates ---- */

static void test_template_local(void **state)
{
	const struct conf_tokens t = {
		.heron_home = "/opt/heron", .cluster = "local", .home = "/h",
	};
	struct heron_conf *conf = NULL;
	struct hf_error err = {0};

	if (heron_conf_load(TEMPLATES "/local", NULL, NULL, &t, &conf, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(heron_conf_class(conf, "heron.class.scheduler"),
			    "scheduler.local.LocalScheduler");
	assert_string_equal(heron_conf_class(conf, "heron.class.state.manager"),
			    "statemgr.localfs.LocalFileSystemStateManager");
	assert_string_equal(heron_conf_get(conf, "heron.statemgr.root.path"),
			    "/h/.herondata/repository/state/local");
	assert_string_equal(heron_conf_get(conf,
		"heron.uploader.localfs.file.system.directory"),
		"/h/.herondata/repository/topologies/local/${ROLE}/${TOPOLOGY}");
	assert_string_equal(heron_conf_get(conf, "heron.package.core.directory"),
			    "/opt/heron/dist/heron-core");
	assert_string_equal(heron_conf_get(conf, "heronfs.tmanager.directory"),
			    "auto");
	assert_int_equal(heron_conf_get_int(conf, "heronfs.statemgr.timeout.ms",
					    0), 5000);
	heron_conf_free(conf);
}

static void test_template_aurora(void **state)
{
	struct heron_conf *conf = NULL;
	struct hf_error err = {0};
	char **names = NULL;

	if (heron_conf_load(TEMPLATES "/aurora", NULL, NULL, &test_tokens,
			    &conf, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(heron_conf_class(conf, "heron.class.scheduler"),
			    "scheduler.aurora.AuroraScheduler");
	assert_string_equal(heron_conf_class(conf, "heron.class.launcher"),
			    "scheduler.aurora.AuroraLauncher");
	assert_string_equal(heron_conf_class(conf, "heron.class.state.manager"),
			    "statemgr.zookeeper.curator.CuratorStateManager");
	assert_string_equal(heron_conf_class(conf,
		"heron.class.packing.algorithm"),
		"packing.roundrobin.RoundRobinPacking");
	assert_false(heron_conf_get_bool(conf, "heron.scheduler.is.service",
					 true));
	assert_true(heron_conf_get_bool(conf, "heron.config.is.env.required",
					false));
	assert_string_equal(heron_conf_get(conf, "heron.statemgr.root.path"),
			    "/heron");
	assert_string_equal(heron_conf_get(conf, "heronfs.environ.default"),
			    "devel");
	assert_null(heron_conf_get(conf, "heronfs.aurora.scheduler_uri"));
	heron_conf_free(conf);

	assert_int_equal(heron_conf_discover(TEMPLATES, &names, &err), HF_OK);
	assert_int_equal(strv_len(names), 2);
	assert_string_equal(names[0], "aurora");
	assert_string_equal(names[1], "local");
	strv_free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_order),
		cmocka_unit_test(test_release_and_override_optional),
		cmocka_unit_test(test_null_unsets),
		cmocka_unit_test(test_missing_files_skipped),
		cmocka_unit_test(test_missing_cluster_dir),
		cmocka_unit_test(test_malformed_names_file_and_line),
		cmocka_unit_test(test_refused_shapes),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_nested_flattening),
		cmocka_unit_test(test_nulls_and_quotes),
		cmocka_unit_test(test_foreach),
		cmocka_unit_test(test_subst_whole_components),
		cmocka_unit_test(test_subst_scheme),
		cmocka_unit_test(test_subst_home),
		cmocka_unit_test(test_subst_java_home),
		cmocka_unit_test(test_subst_named_tokens),
		cmocka_unit_test(test_subst_unknown_left),
		cmocka_unit_test(test_subst_repeats),
		cmocka_unit_test(test_get_bool),
		cmocka_unit_test(test_get_int),
		cmocka_unit_test(test_get_double),
		cmocka_unit_test(test_get_str),
		cmocka_unit_test(test_class_spellings),
		cmocka_unit_test(test_values_substituted_at_load),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_tokens_copied),
		cmocka_unit_test(test_discover),
		cmocka_unit_test(test_discover_empty_and_missing),
		cmocka_unit_test(test_template_local),
		cmocka_unit_test(test_template_aurora),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
