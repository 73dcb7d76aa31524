/* Topology packages: built here with libarchive in a temporary directory,
 * then read with package_read, and the upload package read back. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "package.h"

struct ent {
	const char *name;
	mode_t type;            /* 0 is a regular file */
	const char *data;       /* regular file content (NULL: zeros) */
	size_t zeros;           /* size of a file of zeros */
	const char *link;       /* symlink target, or hard link source */
};

struct ctx {
	char dir[64];
};

static int setup(void **state)
{
	struct ctx *c = xcalloc(1, sizeof(*c));

	strcpy(c->dir, "/tmp/heronfs-pkg-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	*state = c;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	nftw(c->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(c);
	return 0;
}

/* ---- a serialized Topology ----------------------------------------------- */

static Heron__Proto__Api__StreamId *stream_id(const char *comp, const char *id)
{
	Heron__Proto__Api__StreamId *s = xmalloc(sizeof(*s));

	heron__proto__api__stream_id__init(s);
	s->component_name = xstrdup(comp);
	s->id = xstrdup(id);
	return s;
}

static Heron__Proto__Api__Component *component(const char *name)
{
	Heron__Proto__Api__Component *c = xmalloc(sizeof(*c));

	heron__proto__api__component__init(c);
	c->name = xstrdup(name);
	c->config = xmalloc(sizeof(*c->config));
	heron__proto__api__config__init(c->config);
	c->has_serialized_object = 1;
	c->serialized_object.len = 3;
	c->serialized_object.data = (uint8_t *)xstrdup("obj");
	return c;
}

/* A spout "word" with stream "default" and a bolt "exclaim" reading
 * from_stream of "word". */
static Heron__Proto__Api__Topology *topology(const char *name,
					     const char *from_stream)
{
	Heron__Proto__Api__Topology *t = xmalloc(sizeof(*t));
	Heron__Proto__Api__Spout *sp = xmalloc(sizeof(*sp));
	Heron__Proto__Api__Bolt *b = xmalloc(sizeof(*b));
	Heron__Proto__Api__OutputStream *o = xmalloc(sizeof(*o));
	Heron__Proto__Api__InputStream *in = xmalloc(sizeof(*in));

	heron__proto__api__topology__init(t);
	t->id = xasprintf("%s1f0e", name);
	t->name = xstrdup(name);
	t->state = HERON__PROTO__API__TOPOLOGY_STATE__RUNNING;
	heron__proto__api__output_stream__init(o);
	o->stream = stream_id("word", "default");
	o->schema = xmalloc(sizeof(*o->schema));
	heron__proto__api__stream_schema__init(o->schema);
	heron__proto__api__spout__init(sp);
	sp->comp = component("word");
	sp->outputs = xmalloc(sizeof(*sp->outputs));
	sp->outputs[sp->n_outputs++] = o;
	heron__proto__api__input_stream__init(in);
	in->stream = stream_id("word", from_stream);
	in->gtype = HERON__PROTO__API__GROUPING__SHUFFLE;
	heron__proto__api__bolt__init(b);
	b->comp = component("exclaim");
	b->inputs = xmalloc(sizeof(*b->inputs));
	b->inputs[b->n_inputs++] = in;
	t->spouts = xmalloc(sizeof(*t->spouts));
	t->spouts[t->n_spouts++] = sp;
	t->bolts = xmalloc(sizeof(*t->bolts));
	t->bolts[t->n_bolts++] = b;
	return t;
}

/* The .defn of a topology called name, as a string for struct ent. */
static char *defn(const char *name, const char *from_stream, size_t *len)
{
	Heron__Proto__Api__Topology *t = topology(name, from_stream);
	char *data;

	*len = heron__proto__api__topology__get_packed_size(t);
	data = xmalloc(*len + 1);
	heron__proto__api__topology__pack(t, (uint8_t *)data);
	data[*len] = '\0';
	heron__proto__api__topology__free_unpacked(t, NULL);
	return data;
}

/* ---- building packages --------------------------------------------------- */

static void write_entry(struct archive *a, const struct ent *e,
			size_t defn_len, const char *defn_data)
{
	struct archive_entry *ae = archive_entry_new();
	mode_t type = e->type ? e->type : AE_IFREG;
	const char *data = e->data;
	size_t len = data ? strlen(data) : e->zeros;

	if (data && strcmp(data, "@defn") == 0) {
		data = defn_data;
		len = defn_len;
	}
	archive_entry_set_pathname(ae, e->name);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, type == AE_IFDIR ? 0755 : 0644);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(ae, e->link);
	if (type == AE_IFCHR)
		archive_entry_set_rdev(ae, makedev(1, 3));
	if (type == AE_IFREG && e->link)
		archive_entry_set_hardlink(ae, e->link);
	else if (type == AE_IFREG)
		archive_entry_set_size(ae, (la_int64_t)len);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	if (type == AE_IFREG && !e->link && data)
		assert_int_equal(archive_write_data(a, data, len),
				 (la_ssize_t)len);
	for (size_t done = 0; type == AE_IFREG && !data && done < len;) {
		static const char zero[65536];
		size_t n = len - done;

		if (n > sizeof(zero))
			n = sizeof(zero);

		assert_int_equal(archive_write_data(a, zero, n), (la_ssize_t)n);
		done += n;
	}
	archive_entry_free(ae);
}

/* Writes the entries to <dir>/<file>; "@defn" as data stands for the
 * .defn of topology name (reading stream "default"). A gzip tar is pax
 * with raw names, as Python 3's tarfile writes them; a plain tar is GNU
 * format, as GNU tar writes it. */
static char *make_pkg(const struct ctx *c, const char *file, bool gz,
		      const char *name, const struct ent *ents, size_t n)
{
	char *path = xasprintf("%s/%s", c->dir, file);
	struct archive *a = archive_write_new();
	size_t len;
	char *d = defn(name, "default", &len);

	if (gz) {
		archive_write_set_format_pax_restricted(a);
		archive_write_set_format_option(a, "pax", "hdrcharset",
						"BINARY");
		archive_write_add_filter_gzip(a);
	} else {
		archive_write_set_format_gnutar(a);
	}
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++)
		write_entry(a, &ents[i], len, d);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(d);
	return path;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void read_fails(const char *path, const struct package_limits *lim,
		       const char *needle)
{
	struct package *pkg = NULL;
	struct hf_error err = {0};

	assert_int_equal(package_read(path, lim, &pkg, &err), HF_ERR_INVALID);
	assert_null(pkg);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

/* A package of WordCount.defn, WordCount.jar and the extra entries. */
static void bad_pkg(void **state, const struct ent *extra, size_t n,
		    const char *needle)
{
	struct ent ents[8] = {
		{"WordCount.defn", 0, "@defn", 0, NULL},
		{"WordCount.jar", 0, "PK\3\4jar", 0, NULL},
	};
	char *path;

	assert_true(n <= N(ents) - 2);
	memcpy(ents + 2, extra, n * sizeof(*extra));
	path = make_pkg(*state, "bad.tar.gz", true, "WordCount", ents, n + 2);
	read_fails(path, NULL, needle);
	free(path);
}

/* ---- reading ------------------------------------------------------------- */

static const struct ent good[] = {
	{"./", AE_IFDIR, NULL, 0, NULL},
	{"./WordCount.defn", 0, "@defn", 0, NULL},
	{"./WordCount.jar", 0, "PK\3\4not really a jar", 0, NULL},
	{"./lib/", AE_IFDIR, NULL, 0, NULL},
	{"./lib/dep.jar", 0, "PK\3\4dep", 0, NULL},
	{"./lib/current", AE_IFLNK, NULL, 0, "dep.jar"},
	{"./lib/up", AE_IFLNK, NULL, 0, "../WordCount.jar"},
	{"nested/Other.defn", 0, "not a topology, and not at the top", 0, NULL},
};

static void check_good(void **state, bool gz)
{
	char *path = make_pkg(*state, gz ? "wc.tar.gz" : "wc.tar", gz,
			      "WordCount", good, N(good));
	struct package *pkg = NULL;
	struct hf_error err = {0};
	struct stat st;

	if (package_read(path, NULL, &pkg, &err) != HF_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(pkg->topology_name, "WordCount");
	assert_string_equal(pkg->defn_entry, "./WordCount.defn");
	assert_string_equal(pkg->topology_file, "WordCount.jar");
	assert_string_equal(pkg->pkg_type, "jar");
	assert_string_equal(pkg->topology->id, "WordCount1f0e");
	assert_int_equal(pkg->entries, N(good));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(pkg->packed_bytes, st.st_size);
	assert_true(pkg->unpacked_bytes > 40);
	/* Untrimmed: the serialized objects are still there. */
	assert_true(pkg->topology->spouts[0]->comp->has_serialized_object);
	package_free(pkg);
	free(path);
}

static void test_good_tar(void **state)
{
	check_good(state, false);
}

static void test_good_tar_gz(void **state)
{
	check_good(state, true);
}

static void test_package_types(void **state)
{
	static const char *const files[][2] = {
		{"wc.pex", "pex"}, {"wc.tar", "tar"}, {"wc.tar.gz", "tar"},
	};

	for (size_t i = 0; i < N(files); i++) {
		struct ent ents[] = {
			{"WordCount.defn", 0, "@defn", 0, NULL},
			{files[i][0], 0, "binary", 0, NULL},
			{"README", 0, "not a topology file", 0, NULL},
		};
		char *path = make_pkg(*state, "t.tar.gz", true, "WordCount",
				      ents, N(ents));
		struct package *pkg = NULL;

		assert_int_equal(package_read(path, NULL, &pkg, NULL), HF_OK);
		assert_string_equal(pkg->topology_file, files[i][0]);
		assert_string_equal(pkg->pkg_type, files[i][1]);
		package_free(pkg);
		free(path);
	}
}

static void test_no_defn(void **state)
{
	struct ent ents[] = {
		{"WordCount.jar", 0, "jar", 0, NULL},
		{"lib/WordCount.defn", 0, "@defn", 0, NULL},
	};
	char *path = make_pkg(*state, "t.tar.gz", true, "WordCount", ents,
			      N(ents));

	read_fails(path, NULL, "no <TopologyName>.defn at the top level");
	free(path);
}

static void test_two_defns(void **state)
{
	struct ent extra[] = {{"./WordCount.defn", 0, "@defn", 0, NULL}};

	bad_pkg(state, extra, N(extra), "two topology definitions");
}

static void test_garbage_defn(void **state)
{
	struct ent ents[] = {
		{"WordCount.defn", 0, "\xff\xff garbage", 0, NULL},
		{"WordCount.jar", 0, "jar", 0, NULL},
	};
	char *path = make_pkg(*state, "t.tar.gz", true, "WordCount", ents,
			      N(ents));

	read_fails(path, NULL, "is not a serialized Heron topology");
	free(path);
}

static void test_bad_name(void **state)
{
	struct ent dotted[] = {
		{"Word.Count.defn", 0, "@defn", 0, NULL},
		{"wc.jar", 0, "jar", 0, NULL},
	};
	struct ent renamed[] = {
		{"Other.defn", 0, "@defn", 0, NULL},
		{"wc.jar", 0, "jar", 0, NULL},
	};
	char *path;

	path = make_pkg(*state, "t.tar.gz", true, "Word.Count", dotted,
			N(dotted));
	read_fails(path, NULL, "topology name 'Word.Count' is not valid");
	free(path);
	path = make_pkg(*state, "t.tar.gz", true, "WordCount", renamed,
			N(renamed));
	read_fails(path, NULL, "it must be named 'WordCount.defn'");
	free(path);

	assert_true(heron_name_valid("WordCount_2-a"));
	assert_false(heron_name_valid(""));
	assert_false(heron_name_valid("-x"));
	assert_false(heron_name_valid("."));
	assert_false(heron_name_valid(".."));
	assert_false(heron_name_valid("a.b"));
	assert_false(heron_name_valid("a/b"));
	assert_false(heron_name_valid("a b"));
	char *long_name = xcalloc(130, 1);
	memset(long_name, 'a', 128);
	assert_true(heron_name_valid(long_name));
	long_name[128] = 'a';
	assert_false(heron_name_valid(long_name));
	free(long_name);
}

static void test_undeclared_stream(void **state)
{
	struct ctx *c = *state;
	char *path = xasprintf("%s/t.tar", c->dir);
	struct archive *a = archive_write_new();
	size_t len;
	char *d = defn("WordCount", "nosuch", &len);
	struct ent ents[] = {
		{"WordCount.defn", 0, "@defn", 0, NULL},
		{"WordCount.jar", 0, "jar", 0, NULL},
	};

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < N(ents); i++)
		write_entry(a, &ents[i], len, d);
	archive_write_close(a);
	archive_write_free(a);
	read_fails(path, NULL, "bolt 'exclaim' reads stream 'nosuch' of "
		   "'word', which no component declares");
	free(d);
	free(path);
}

static void test_absolute_path(void **state)
{
	struct ent extra[] = {{"/etc/cron.d/x", 0, "x", 0, NULL}};

	bad_pkg(state, extra, N(extra), "entry '/etc/cron.d/x' has an absolute "
		"path");
}

static void test_dotdot(void **state)
{
	struct ent extra[] = {{"lib/../../x", 0, "x", 0, NULL}};

	bad_pkg(state, extra, N(extra), "has a '..' component");
}

static void test_symlink_escape(void **state)
{
	struct ent up[] = {{"lib/l", AE_IFLNK, NULL, 0, "../../etc"}};
	struct ent abs[] = {{"l", AE_IFLNK, NULL, 0, "/etc/passwd"}};
	/* Each looks inside on its own; together they climb out. */
	struct ent chain[] = {
		{"d/l1", AE_IFLNK, NULL, 0, ".."},
		{"l2", AE_IFLNK, NULL, 0, "d/l1/.."},
	};
	/* The link's own directory is a link to the root's parent. */
	struct ent via_dir[] = {
		{"d", AE_IFLNK, NULL, 0, "."},
		{"e", AE_IFLNK, NULL, 0, "d/d/d/.."},
	};
	struct ent loop[] = {
		{"a", AE_IFLNK, NULL, 0, "b"},
		{"b", AE_IFLNK, NULL, 0, "a/x"},
	};

	bad_pkg(state, up, N(up), "symlink 'lib/l' -> '../../etc' points "
		"outside the package");
	bad_pkg(state, abs, N(abs), "symlink 'l' -> '/etc/passwd' points");
	bad_pkg(state, chain, N(chain), "symlink 'l2' -> 'd/l1/..' points");
	bad_pkg(state, via_dir, N(via_dir), "symlink 'e' -> 'd/d/d/..' points");
	bad_pkg(state, loop, N(loop), "loops");
}

static void test_special_entries(void **state)
{
	struct ent dev[] = {{"null", AE_IFCHR, NULL, 0, NULL}};
	struct ent fifo[] = {{"pipe", AE_IFIFO, NULL, 0, NULL}};
	struct ent hard[] = {{"again.jar", 0, NULL, 0, "WordCount.jar"}};

	bad_pkg(state, dev, N(dev), "entry 'null' is a device, fifo or socket");
	bad_pkg(state, fifo, N(fifo), "entry 'pipe' is a device");
	bad_pkg(state, hard, N(hard), "entry 'again.jar' is a hard link");
}

static void test_too_many_entries(void **state)
{
	struct package_limits lim = package_default_limits;
	struct ent ents[6] = {
		{"WordCount.defn", 0, "@defn", 0, NULL},
		{"WordCount.jar", 0, "jar", 0, NULL},
		{"a", 0, "a", 0, NULL}, {"b", 0, "b", 0, NULL},
		{"c", 0, "c", 0, NULL}, {"d", 0, "d", 0, NULL},
	};
	char *path = make_pkg(*state, "t.tar.gz", true, "WordCount", ents,
			      N(ents));
	struct package *pkg = NULL;

	lim.max_entries = 5;
	read_fails(path, &lim, "the package has more than 5 entries");
	lim.max_entries = 6;
	assert_int_equal(package_read(path, &lim, &pkg, NULL), HF_OK);
	package_free(pkg);

	lim = package_default_limits;
	lim.max_unpacked = 10;
	read_fails(path, &lim, "unpacks to more than 10 bytes (at entry "
		   "'WordCount.defn')");
	lim = package_default_limits;
	lim.max_bytes = 100;
	read_fails(path, &lim, "over the limit of 100");
	free(path);
}

/* 64 MiB of zeros gzip to ~64 KiB. The bomb comes first and the file is
 * then cut short: a reader that inflated everything before judging would
 * report the damage, ours stops at the bomb's header. */
static void test_bomb(void **state)
{
	struct ent ents[] = {
		{"zeros.bin", 0, NULL, 64 << 20, NULL},
		{"WordCount.defn", 0, "@defn", 0, NULL},
		{"WordCount.jar", 0, "jar", 0, NULL},
	};
	char *path = make_pkg(*state, "bomb.tar.gz", true, "WordCount", ents,
			      N(ents));
	struct stat st;

	read_fails(path, NULL, "entry 'zeros.bin' unpacks to more than 200 "
		   "times the package size: a compression bomb");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 4), 0);
	read_fails(path, NULL, "a compression bomb");
	free(path);
}

static void test_no_topology_file(void **state)
{
	struct ent ents[] = {
		{"WordCount.defn", 0, "@defn", 0, NULL},
		{"lib/WordCount.jar", 0, "jar", 0, NULL},
		{"WordCount.zip", 0, "zip", 0, NULL},
	};
	struct ent two[] = {{"Other.pex", 0, "pex", 0, NULL}};
	char *path = make_pkg(*state, "t.tar.gz", true, "WordCount", ents,
			      N(ents));

	read_fails(path, NULL, "no topology file (.jar, .tar, .tar.gz or .pex)"
		   " at the top level");
	free(path);
	bad_pkg(state, two, N(two), "two topology files, 'WordCount.jar' and "
		"'Other.pex'");
}

static void test_not_a_tar(void **state)
{
	struct ctx *c = *state;
	char *path = xasprintf("%s/t.jar", c->dir);
	FILE *f = fopen(path, "w");
	struct package *pkg = NULL;
	struct hf_error err = {0};

	assert_non_null(f);
	fputs("PK\3\4 this is a zip, not a tar", f);
	fclose(f);
	read_fails(path, NULL, "not a tar or gzip tar");
	free(path);
	assert_int_equal(package_read("/nonexistent/x.tar.gz", NULL, &pkg,
				      &err), HF_ERR_NOTFOUND);
}

static void test_topology_trim(void **state)
{
	Heron__Proto__Api__Topology *t = topology("WordCount", "default");

	(void)state;
	topology_trim(t);
	assert_false(t->spouts[0]->comp->has_serialized_object);
	assert_null(t->spouts[0]->comp->serialized_object.data);
	assert_false(t->bolts[0]->comp->has_serialized_object);
	assert_int_equal(t->bolts[0]->comp->serialized_object.len, 0);
	heron__proto__api__topology__free_unpacked(t, NULL);
}

/* ---- writing the upload package ------------------------------------------ */

static void put_file(const char *dir, const char *name, const char *data)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(data, f);
	fclose(f);
	free(path);
}

/* A cluster conf dir with a subdirectory, a symlinked file and a stale
 * release.yaml that the generated one replaces. */
static char *make_conf(const struct ctx *c)
{
	char *conf = xasprintf("%s/devcluster", c->dir);
	char *sub = xasprintf("%s/sub", conf);
	char *link = xasprintf("%s/link.yaml", conf);

	assert_int_equal(mkdir(conf, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	put_file(conf, "scheduler.yaml", "heron.class.scheduler: aurora\n");
	put_file(conf, "heron.aurora", "job = Job()\n");
	put_file(conf, "release.yaml", "stale: true\n");
	put_file(sub, "inner.yaml", "inner: 1\n");
	assert_int_equal(symlink("scheduler.yaml", link), 0);
	free(sub);
	free(link);
	return conf;
}

/* One line per entry: "name/" for a directory, "name=content" for a file
 * (content with its own newline). */
static void read_back(const char *path, struct buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char data[256];

	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 4096), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		size_t len = strlen(name);
		la_ssize_t n;

		if (archive_entry_filetype(e) == AE_IFDIR) {
			buf_printf(out, "%.*s/\n", (int)(len - (name[len - 1] ==
								'/')), name);
			continue;
		}
		assert_int_equal(archive_entry_filetype(e), AE_IFREG);
		n = archive_read_data(a, data, sizeof(data) - 1);
		assert_true(n >= 0);
		data[n] = '\0';
		buf_printf(out, "%s=%s\n", name, data);
	}
	archive_read_free(a);
}

static void test_write_upload(void **state)
{
	struct ctx *c = *state;
	struct ent ents[] = {
		{"WordCount.defn", 0, "defn bytes", 0, NULL},
		{"WordCount.jar", 0, "jar bytes", 0, NULL},
		{"./heron-conf/stale.yaml", 0, "from the user", 0, NULL},
		{"docs/\xc3\xa9t\xc3\xa9.txt", 0, "summer", 0, NULL},
	};
	char *src = make_pkg(c, "wc.tar.gz", true, "WordCount", ents, N(ents));
	char *conf = make_conf(c);
	char *out = xasprintf("%s/upload.tar.gz", c->dir);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct hf_error err = {0};
	uint64_t written = 0;
	struct buf got = {0};
	struct stat st;

	assert_true(fd >= 0);
	if (package_write_upload(src, conf, "heron.build.version: 0.20.5\n",
				 "k: v\n", fd, &written, &err) != HF_OK)
		fail_msg("%s", err.msg);
	close(fd);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(written, st.st_size);
	read_back(out, &got);
	assert_string_equal(got.data,
		"WordCount.defn=defn bytes\n"
		"WordCount.jar=jar bytes\n"
		"docs/\xc3\xa9t\xc3\xa9.txt=summer\n"
		"./heron-conf/\n"
		"./heron-conf/heron.aurora=job = Job()\n\n"
		"./heron-conf/link.yaml=heron.class.scheduler: aurora\n\n"
		"./heron-conf/scheduler.yaml=heron.class.scheduler: aurora\n\n"
		"./heron-conf/sub/\n"
		"./heron-conf/sub/inner.yaml=inner: 1\n\n"
		"./heron-conf/release.yaml=heron.build.version: 0.20.5\n\n"
		"./heron-conf/override.yaml=k: v\n\n");
	buf_free(&got);
	free(src);
	free(conf);
	free(out);
}

static void test_write_upload_errors(void **state)
{
	struct ctx *c = *state;
	struct ent ents[] = {{"WordCount.defn", 0, "defn", 0, NULL}};
	char *src = make_pkg(c, "wc.tar.gz", true, "WordCount", ents, N(ents));
	char *conf = make_conf(c);
	char *loop = xasprintf("%s/sub/loop", conf);
	struct hf_error err = {0};
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(package_write_upload(src, conf, "", "", fd, NULL,
					      &err), HF_ERR_NOSPACE);
	assert_non_null(strstr(err.msg, "writing the upload package"));
	close(fd);

	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_int_equal(package_write_upload(src, "/nonexistent/conf", "", "",
					      fd, NULL, &err),
			 HF_ERR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "cluster conf: cannot read "
			       "/nonexistent/conf"));
	assert_int_equal(symlink("..", loop), 0);
	assert_int_equal(package_write_upload(src, conf, "", "", fd, NULL,
					      &err), HF_ERR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "loops back to a parent directory"));
	close(fd);
	free(loop);
	free(src);
	free(conf);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_good_tar),
		T(test_good_tar_gz),
		T(test_package_types),
		T(test_no_defn),
		T(test_two_defns),
		T(test_garbage_defn),
		T(test_bad_name),
		T(test_undeclared_stream),
		T(test_absolute_path),
		T(test_dotdot),
		T(test_symlink_escape),
		T(test_special_entries),
		T(test_too_many_entries),
		T(test_bomb),
		T(test_no_topology_file),
		T(test_not_a_tar),
		cmocka_unit_test(test_topology_trim),
		T(test_write_upload),
		T(test_write_upload_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
