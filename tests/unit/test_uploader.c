/* The uploader with LocalFileSystemUploader: packages put into a temporary
 * directory and read back with libarchive; undo; refused settings and
 * requests; a full file system (a 64 KiB tmpfs in a private mount
 * namespace, so nothing stays mounted if the test dies); health. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "heron_conf.h"
#include "uploader.h"

#define CLASS_LOCALFS \
	"org.apache.heron.uploader.localfs.LocalFileSystemUploader"
#define PKG_NAME      "WordCount-alice-tag-0.tar.gz"
#define RELEASE       "heron.build.version: 0.20.5\n"
#define OVERRIDE      "heron.config.topology.x: 1\n"
#define JAR_DATA      "PK-not-really-a-jar"

struct ctx {
	char dir[64];
	char *cluster;     /* <dir>/conf/test */
	char *src;         /* the user's package */
	struct heron_conf *conf;
	struct uploader *u;
};

/* ---- fixtures ------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A gzip tar with WordCount.defn and word.jar; jar_size > 0 makes the jar
 * that many incompressible bytes instead of JAR_DATA. */
static void make_src(const char *path, size_t jar_size)
{
	struct archive *w = archive_write_new();
	const char *names[] = {"WordCount.defn", "word.jar"};
	uint32_t x = 2463534242u;
	char *jar = NULL;

	if (jar_size) {
		jar = xmalloc(jar_size);
		for (size_t i = 0; i < jar_size; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			jar[i] = (char)x;
		}
	}
	assert_int_equal(archive_write_add_filter_gzip(w), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_pax_restricted(w),
			 ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(w, path), ARCHIVE_OK);
	for (int i = 0; i < 2; i++) {
		struct archive_entry *e = archive_entry_new();
		const char *data = i == 0 ? "defn" : jar ? jar : JAR_DATA;
		size_t len = i == 1 && jar ? jar_size : strlen(data);

		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(w, data, len),
				 (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_free(w), ARCHIVE_OK);
	free(jar);
}

/* Writes the cluster's uploader.yaml: class (NULL: localfs) and
 * directory (NULL: unset, Heron's default). */
static void write_uploader_yaml(struct ctx *c, const char *cls,
				const char *dir)
{
	char *path = xasprintf("%s/uploader.yaml", c->cluster);
	struct buf y = {0};

	buf_printf(&y, "heron.class.uploader: %s\n", cls ? cls : CLASS_LOCALFS);
	if (dir)
		buf_printf(&y, "heron.uploader.localfs.file.system.directory: "
			   "\"%s\"\n", dir);
	write_file(path, y.data);
	buf_free(&y);
	free(path);
}

/* Loads the cluster conf; with_topology adds the topology's tokens, as
 * for a put; without, it is the conf of the mount. */
static struct heron_conf *load(struct ctx *c, bool with_topology)
{
	char *home = xasprintf("%s/home", c->dir);
	struct conf_tokens t = {.cluster = "test", .home = home};
	struct heron_conf *conf;
	struct hf_error err = {0};

	if (with_topology) {
		t.role = "alice";
		t.topology_name = "WordCount";
	}
	if (heron_conf_load(c->cluster, NULL, NULL, &t, &conf, &err))
		fail_msg("conf: %s", err.msg);
	free(home);
	return conf;
}

/* Configures the uploader and opens it; conf has the topology's tokens. */
static hf_rc configure(struct ctx *c, const char *cls, const char *dir,
		       struct hf_error *err)
{
	uploader_close(c->u);
	c->u = NULL;
	heron_conf_free(c->conf);
	write_uploader_yaml(c, cls, dir);
	c->conf = load(c, true);
	return uploader_open(c->conf, &c->u, err);
}

static char *repo_dir(const struct ctx *c)
{
	return xasprintf("%s/repo/${CLUSTER}/${ROLE}/${TOPOLOGY}", c->dir);
}

static int setup(void **state)
{
	struct ctx *c = xcalloc(1, sizeof(*c));
	char *path;

	strcpy(c->dir, "/tmp/heronfs-upl-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	path = xasprintf("%s/conf", c->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	free(path);
	c->cluster = xasprintf("%s/conf/test", c->dir);
	assert_int_equal(mkdir(c->cluster, 0755), 0);
	path = xasprintf("%s/scheduler.yaml", c->cluster);
	write_file(path, "heron.class.scheduler: "
		   "org.apache.heron.scheduler.aurora.AuroraScheduler\n");
	free(path);
	c->src = xasprintf("%s/src.tar.gz", c->dir);
	make_src(c->src, 0);
	*state = c;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void release(struct ctx *c)
{
	uploader_close(c->u);
	heron_conf_free(c->conf);
	free(c->cluster);
	free(c->src);
	free(c);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	nftw(c->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	release(c);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

struct progress_log {
	unsigned calls;
	uint64_t last;
	bool backwards;
};

static void on_progress(void *arg, uint64_t bytes)
{
	struct progress_log *p = arg;

	p->backwards |= bytes < p->last;
	p->last = bytes;
	p->calls++;
}

static struct upload_req request(const struct ctx *c, const char *release)
{
	return (struct upload_req){
		.conf = c->conf, .topology = "WordCount", .role = "alice",
		.package_path = c->src, .release_yaml = release,
		.override_yaml = OVERRIDE,
	};
}

/* "name" lines for every entry, "name=content" for regular files. */
static void read_back(const char *path, struct buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char data[256];

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 16384),
			 ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		la_ssize_t n = archive_read_data(a, data, sizeof(data));

		assert_true(n >= 0);
		buf_puts(out, archive_entry_pathname(e));
		if (archive_entry_filetype(e) == AE_IFREG)
			buf_printf(out, "=%.*s", (int)n, data);
		buf_puts(out, "\n");
	}
	assert_int_equal(archive_filter_code(a, 0), ARCHIVE_FILTER_GZIP);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

/* Appends the names in dir, sorted, one a line; false if dir cannot be
 * read (errno set). */
static bool list_dir(const char *dir, struct buf *out)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	if (n < 0)
		return false;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (strcmp(name, ".") && strcmp(name, ".."))
			buf_printf(out, "%s\n", name);
		free(ents[i]);
	}
	free(ents);
	return true;
}

static void assert_dir_holds(const char *dir, const char *names)
{
	struct buf got = {0};

	assert_true(list_dir(dir, &got));
	assert_string_equal(got.data ? got.data : "", names);
	buf_free(&got);
}

/* ---- put ----------------------------------------------------------------- */

static void test_put(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	char *target = xasprintf("%s/repo/test/alice/WordCount", c->dir);
	char *path = xasprintf("%s/" PKG_NAME, target);
	char *want_uri = xasprintf("file://%s", path);
	struct progress_log log = {0};
	struct upload_req req;
	struct hf_error err = {0};
	struct buf got = {0};
	struct stat st;
	char *uri, *want;

	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	req = request(c, RELEASE);
	req.progress = on_progress;
	req.progress_arg = &log;
	if (uploader_put(c->u, &req, &uri, &err))
		fail_msg("put: %s", err.msg);
	assert_string_equal(uri, want_uri);
	assert_dir_holds(target, PKG_NAME "\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);   /* 0666 less umask 022 */
	assert_true(log.calls >= 1);
	assert_false(log.backwards);
	assert_int_equal(log.last, st.st_size);
	want = xasprintf(
		"WordCount.defn=defn\n"
		"word.jar=" JAR_DATA "\n"
		"./heron-conf/\n"
		"./heron-conf/scheduler.yaml=heron.class.scheduler: "
		"org.apache.heron.scheduler.aurora.AuroraScheduler\n\n"
		"./heron-conf/uploader.yaml=heron.class.uploader: "
		CLASS_LOCALFS "\n"
		"heron.uploader.localfs.file.system.directory: \"%s\"\n\n"
		"./heron-conf/release.yaml=" RELEASE "\n"
		"./heron-conf/override.yaml=" OVERRIDE "\n", dir);

	read_back(path, &got);
	assert_string_equal(got.data, want);
	buf_free(&got);
	free(want);
	free(uri);
	free(want_uri);
	free(path);
	free(target);
	free(dir);
}

/* Big enough for the helper thread to report before the end (always
 * under valgrind): reports only grow and end at the package's size. */
static void test_put_progress(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	struct progress_log log = {0};
	struct upload_req req;
	struct hf_error err = {0};
	struct stat st;
	char *uri;

	make_src(c->src, 8 << 20);
	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	req = request(c, RELEASE);
	req.progress = on_progress;
	req.progress_arg = &log;
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_OK);
	assert_int_equal(stat(uri + strlen("file://"), &st), 0);
	assert_true(st.st_size > 8 << 20);
	assert_false(log.backwards);
	assert_int_equal(log.last, st.st_size);
	free(uri);
	free(dir);
}

/* Heron's copy replaces the package; so does put. */
static void test_put_overwrites(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	char *target = xasprintf("%s/repo/test/alice/WordCount", c->dir);
	char *path = xasprintf("%s/" PKG_NAME, target);
	struct upload_req req;
	struct hf_error err = {0};
	struct buf got = {0};
	char *uri;

	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	req = request(c, "first: 1\n");
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_OK);
	free(uri);
	req = request(c, "second: 2\n");
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_OK);
	free(uri);
	assert_dir_holds(target, PKG_NAME "\n");
	read_back(path, &got);
	assert_non_null(strstr(got.data, "release.yaml=second: 2\n"));
	assert_null(strstr(got.data, "first"));
	buf_free(&got);
	free(path);
	free(target);
	free(dir);
}

/* Unset, the directory is LocalFileSystemContext's default. */
static void test_put_default_dir(void **state)
{
	struct ctx *c = *state;
	char *want = xasprintf("file://%s/home/.herondata/repository/test/"
			       "alice/WordCount/" PKG_NAME, c->dir);
	struct upload_req req;
	struct hf_error err = {0};
	char *uri;

	assert_int_equal(configure(c, NULL, NULL, &err), HF_OK);
	req = request(c, RELEASE);
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_OK);
	assert_string_equal(uri, want);
	assert_int_equal(access(uri + strlen("file://"), R_OK), 0);
	free(uri);
	free(want);
}

/* Redundant and trailing slashes do not reach the URI. */
static void test_put_normalizes_dir(void **state)
{
	struct ctx *c = *state;
	char *dir = xasprintf("%s//repo/${TOPOLOGY}/", c->dir);
	char *want = xasprintf("file://%s/repo/WordCount/" PKG_NAME, c->dir);
	struct upload_req req;
	struct hf_error err = {0};
	char *uri;

	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	req = request(c, RELEASE);
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_OK);
	assert_string_equal(uri, want);
	free(uri);
	free(want);
	free(dir);
}

/* A failed put leaves no temporary file behind. */
static void test_put_missing_source(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	char *target = xasprintf("%s/repo/test/alice/WordCount", c->dir);
	struct upload_req req;
	struct hf_error err = {0};
	char *uri = (char *)1;

	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	req = request(c, RELEASE);
	req.package_path = "/nonexistent/wc.tar.gz";
	assert_int_equal(uploader_put(c->u, &req, &uri, &err),
			 HF_ERR_UNAVAILABLE);
	assert_null(uri);
	assert_non_null(strstr(err.msg, "localfs uploader: "));
	assert_non_null(strstr(err.msg, "/nonexistent/wc.tar.gz"));
	assert_dir_holds(target, "");
	free(target);
	free(dir);
}

static void test_dir_not_creatable(void **state)
{
	struct ctx *c = *state;
	char *file = xasprintf("%s/file", c->dir);
	char *dir = xasprintf("%s/repo/${TOPOLOGY}", file);
	char *want = xasprintf("localfs uploader: cannot create directory "
			       "%s/repo: Not a directory", file);
	struct upload_req req;
	struct hf_error err = {0};
	char *uri;

	write_file(file, "");
	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	req = request(c, RELEASE);
	assert_int_equal(uploader_put(c->u, &req, &uri, &err),
			 HF_ERR_UNAVAILABLE);
	assert_string_equal(err.msg, want);
	free(want);
	free(dir);
	free(file);
}

/* ---- refused settings and requests --------------------------------------- */

static void test_unsupported_class(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	struct hf_error err = {0};

	assert_int_equal(configure(c, "org.apache.heron.uploader.s3.S3Uploader",
				   dir, &err), HF_ERR_INVALID);
	assert_null(c->u);
	assert_string_equal(err.msg, "uploader class "
			    "org.apache.heron.uploader.s3.S3Uploader is not "
			    "supported by heronfs (supported: localfs)");
	/* Heron's old package root names the same class. */
	assert_int_equal(configure(c, "com.twitter.heron.uploader.localfs."
				   "LocalFileSystemUploader", dir, &err),
			 HF_OK);
	free(dir);
}

static void test_class_unset(void **state)
{
	struct ctx *c = *state;
	char *path = xasprintf("%s/uploader.yaml", c->cluster);
	struct hf_error err = {0};
	struct uploader *u = (struct uploader *)1;

	write_file(path, "heron.uploader.localfs.file.system.directory: /x\n");
	c->conf = load(c, true);
	assert_int_equal(uploader_open(c->conf, &u, &err), HF_ERR_INVALID);
	assert_null(u);
	assert_non_null(strstr(err.msg, "heron.class.uploader is not set"));
	free(path);
}

/* Directories whose file:// URI would not name them are refused at mount
 * when the fixed part is at fault, else at put. */
static void test_bad_directories(void **state)
{
	static const struct {
		const char *dir;
		const char *why;
	} at_open[] = {
		{"relative/${TOPOLOGY}", "not an absolute path"},
		{"/srv/with space/${TOPOLOGY}", "' '"},
		{"/srv/a#b", "'#'"},
		{"/srv/a%20b", "'%'"},
		{"/srv/$(reboot)", "'$'"},
		{"/srv/../etc", "\"..\" component"},
	};
	struct ctx *c = *state;
	struct hf_error err = {0};
	struct upload_req req;
	char *uri;

	for (size_t i = 0; i < sizeof(at_open) / sizeof(at_open[0]); i++) {
		assert_int_equal(configure(c, NULL, at_open[i].dir, &err),
				 HF_ERR_INVALID);
		if (!strstr(err.msg, at_open[i].why))
			fail_msg("%s: %s", at_open[i].dir, err.msg);
		assert_non_null(strstr(err.msg, "localfs uploader: heron."
				       "uploader.localfs.file.system."
				       "directory"));
	}
	/* ${ENVIRON} is not set for this conf: refused at put. */
	assert_int_equal(configure(c, NULL, "/srv/${ENVIRON}/x", &err), HF_OK);
	req = request(c, RELEASE);
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_ERR_INVALID);
	assert_non_null(strstr(err.msg, "\"${ENVIRON}\" holds a token that "
			       "nothing substitutes"));
}

static void test_bad_requests(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	char *repo = xasprintf("%s/repo", c->dir);
	struct hf_error err = {0};
	struct upload_req req;
	char *uri;

	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	req = request(c, RELEASE);
	req.topology = "Word.Count";
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_ERR_INVALID);
	assert_non_null(strstr(err.msg, "topology name \"Word.Count\""));
	req = request(c, RELEASE);
	req.role = "../alice";
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_ERR_INVALID);
	assert_non_null(strstr(err.msg, "role \"../alice\""));
	req.role = "al;ice";
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_ERR_INVALID);
	assert_non_null(strstr(err.msg, "';' cannot stand unescaped"));
	assert_int_equal(access(repo, F_OK), -1);   /* nothing created */
	free(repo);
	free(dir);
}

/* ---- undo ---------------------------------------------------------------- */

static void test_undo(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	char *target = xasprintf("%s/repo/test/alice/WordCount", c->dir);
	struct upload_req req;
	struct hf_error err = {0};
	char *uri;

	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	req = request(c, RELEASE);
	assert_int_equal(uploader_put(c->u, &req, &uri, &err), HF_OK);
	assert_int_equal(uploader_undo(c->u, uri, &err), HF_OK);
	assert_dir_holds(target, "");
	/* Gone already, or never written: success. */
	assert_int_equal(uploader_undo(c->u, uri, &err), HF_OK);
	free(uri);
	free(target);
	free(dir);
}

static void test_undo_refuses_foreign_uris(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	char *victim = xasprintf("%s/victim.txt", c->dir);
	char *victim_uri = xasprintf("file://%s", victim);
	const char *uris[] = {
		"http://host/WordCount-alice-tag-0.tar.gz",
		"file://host/WordCount-alice-tag-0.tar.gz",
		"file:///srv/../WordCount-alice-tag-0.tar.gz",
		"file:///srv/%2e%2e/WordCount-alice-tag-0.tar.gz",
		"file:",
		victim_uri,
	};
	struct hf_error err = {0};

	write_file(victim, "keep me");
	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		assert_int_equal(uploader_undo(c->u, uris[i], &err),
				 HF_ERR_INVALID);
		assert_non_null(strstr(err.msg, "localfs uploader: "));
	}
	assert_int_equal(access(victim, F_OK), 0);
	free(victim_uri);
	free(victim);
	free(dir);
}

/* ---- a full file system -------------------------------------------------- */

static bool write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) ==
			     (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* A mount namespace of our own; without root, inside a user namespace. */
static bool private_mounts(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWNS) < 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 ||
		    !write_proc("/proc/self/setgroups", "deny"))
			return false;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		if (!write_proc("/proc/self/uid_map", map))
			return false;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		if (!write_proc("/proc/self/gid_map", map))
			return false;
	}
	return mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0;
}

enum { FULL_OK, FULL_SKIP = 77, FULL_RC, FULL_MSG, FULL_LEFTOVER };

/* In a child: puts a 256 KiB package into a 64 KiB tmpfs. No cmocka
 * asserts here, they would unwind into the child's copy of the runner. */
static int put_into_full_fs(struct ctx *c, const char *small)
{
	char *target = xasprintf("%s/test/alice/WordCount", small);
	struct upload_req req = request(c, RELEASE);
	struct hf_error err = {0};
	struct buf left = {0};
	char *uri = NULL;
	int status = FULL_OK;

	if (!private_mounts() ||
	    mount("tmpfs", small, "tmpfs", 0, "size=64k") < 0) {
		free(target);
		return FULL_SKIP;
	}
	if (uploader_put(c->u, &req, &uri, &err) != HF_ERR_NOSPACE)
		status = FULL_RC;
	else if (!strstr(err.msg, "No space left on device"))
		status = FULL_MSG;
	else if ((!list_dir(target, &left) && errno != ENOENT) || left.len)
		status = FULL_LEFTOVER;
	if (status != FULL_OK)
		fprintf(stderr, "full fs: %s\n", err.msg);
	buf_free(&left);
	free(uri);
	free(target);
	return status;
}

static void test_put_nospace(void **state)
{
	struct ctx *c = *state;
	char *small = xasprintf("%s/small", c->dir);
	char *dir = xasprintf("%s/${CLUSTER}/${ROLE}/${TOPOLOGY}", small);
	struct hf_error err = {0};
	int status;
	pid_t pid;

	assert_int_equal(mkdir(small, 0755), 0);
	make_src(c->src, 256 * 1024);
	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = put_into_full_fs(c, small);

		free(dir);
		free(small);
		release(c);
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	free(dir);
	free(small);
	if (WEXITSTATUS(status) == FULL_SKIP)
		skip();
	assert_int_equal(WEXITSTATUS(status), FULL_OK);
}

/* ---- health -------------------------------------------------------------- */

static void assert_health(struct ctx *c, const char *want)
{
	struct heron_conf *mount_conf = load(c, false);
	struct buf got = {0};

	uploader_health(c->u, mount_conf, &got);
	assert_string_equal(got.data, want);
	buf_free(&got);
	heron_conf_free(mount_conf);
}

static void test_health_ok(void **state)
{
	struct ctx *c = *state;
	char *dir = repo_dir(c);
	char *repo = xasprintf("%s/repo", c->dir);
	char *base = xasprintf("%s/test", repo);
	char *want = xasprintf("uploader: ok localfs %s (to be created; %s "
			       "writable)", base, c->dir);
	struct hf_error err = {0};

	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	assert_health(c, want);
	free(want);
	assert_int_equal(mkdir(repo, 0755), 0);
	assert_int_equal(mkdir(base, 0755), 0);
	want = xasprintf("uploader: ok localfs %s (writable)", base);
	assert_health(c, want);
	free(want);
	free(base);
	free(repo);
	free(dir);
}

static void test_health_failing(void **state)
{
	struct ctx *c = *state;
	char *file = xasprintf("%s/file", c->dir);
	char *dir = xasprintf("%s/repo/${CLUSTER}/${ROLE}", file);
	char *want = xasprintf("uploader: failing localfs %s/repo/test (%s: "
			       "not a directory)", file, file);
	struct hf_error err = {0};

	write_file(file, "");
	assert_int_equal(configure(c, NULL, dir, &err), HF_OK);
	assert_health(c, want);
	free(want);
	free(dir);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_put),
		T(test_put_progress),
		T(test_put_overwrites),
		T(test_put_default_dir),
		T(test_put_normalizes_dir),
		T(test_put_missing_source),
		T(test_dir_not_creatable),
		T(test_unsupported_class),
		T(test_class_unset),
		T(test_bad_directories),
		T(test_bad_requests),
		T(test_undo),
		T(test_undo_refuses_foreign_uris),
		T(test_put_nospace),
		T(test_health_ok),
		T(test_health_failing),
#undef T
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
