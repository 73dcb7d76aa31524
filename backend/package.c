/* package: reading a user's topology package safely, and writing the
 * package that is uploaded for the containers (see package.h).
 *
 * Reading streams the archive once: every header is checked against the
 * limits before its data is touched, so a compression bomb is refused at
 * the first entry that crosses a limit, without inflating it. Only the
 * .defn is read into memory; other entries are skipped. Symlinks are
 * checked once all are known, since one may point through another. */
#include "package.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

const struct package_limits package_default_limits = {
	.max_bytes = 4ULL << 30,
	.max_unpacked = 16ULL << 30,
	.max_entries = 100000,
	.max_ratio = 200,
};

/* The .defn is held in memory to be parsed; real ones are kilobytes. */
#define DEFN_MAX (64 << 20)
/* A few KiB of text compress far beyond any ratio; only sizes past this
 * can hurt, so the ratio is judged from here on. */
#define RATIO_FLOOR (1 << 20)
/* Linux's limit on symlinks followed while resolving one path. */
#define SYMLINK_HOPS 40
#define IO_BLOCK 65536
#define COPY_BLOCK 16384        /* on the stack of a FUSE worker */
/* Where `heron submit` puts the cluster conf in the package. */
#define CONF_ARC_DIR "./heron-conf"

bool heron_name_valid(const char *name)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789_-";
	size_t n = strlen(name);

	return n >= 1 && n <= 128 && name[0] != '-' && strspn(name, ok) == n;
}

void topology_trim(Heron__Proto__Api__Topology *t)
{
	for (size_t i = 0; i < t->n_spouts + t->n_bolts; i++) {
		Heron__Proto__Api__Component *c =
			i < t->n_spouts ? t->spouts[i]->comp
					: t->bolts[i - t->n_spouts]->comp;

		free(c->serialized_object.data);
		c->serialized_object.data = NULL;
		c->serialized_object.len = 0;
		c->has_serialized_object = 0;
	}
}

void package_free(struct package *pkg)
{
	if (!pkg)
		return;
	free(pkg->topology_name);
	free(pkg->defn_entry);
	free(pkg->topology_file);
	free(pkg->pkg_type);
	if (pkg->topology)
		heron__proto__api__topology__free_unpacked(pkg->topology, NULL);
	free(pkg);
}

/* ---- entry paths --------------------------------------------------------- */

/* The path of an entry with "" and "." components dropped ("./a//b" is
 * "a/b", "./" is ""); refused when absolute or with a ".." component. */
static hf_rc entry_path(const char *name, char **out, struct hf_error *err)
{
	struct buf b = {0};
	const char *p = name;

	*out = NULL;
	if (*name == '/')
		return hf_fail(err, HF_ERR_INVALID,
			       "entry '%s' has an absolute path", name);
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.') {
			buf_free(&b);
			return hf_fail(err, HF_ERR_INVALID,
				       "entry '%s' has a '..' component", name);
		}
		if (len && !(len == 1 && *p == '.')) {
			if (b.len)
				buf_puts(&b, "/");
			buf_append(&b, p, len);
		}
		p += len + (p[len] == '/');
	}
	*out = buf_steal(&b);
	return HF_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The package type Heron gives a topology file, by extension (the CLI's
 * jar/tar/pex checks), or NULL. */
static const char *topology_file_type(const char *name)
{
	if (ends_with(name, ".jar"))
		return "jar";
	if (ends_with(name, ".tar") || ends_with(name, ".tar.gz"))
		return "tar";
	if (ends_with(name, ".pex"))
		return "pex";
	return NULL;
}

/* ---- symlinks ------------------------------------------------------------ */

struct link {
	char *path;     /* normalized */
	char *target;
};

static int link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct link *)a)->path,
		      ((const struct link *)b)->path);
}

static const struct link *link_find(const struct link *v, size_t n,
				    const char *path)
{
	struct link key = {.path = (char *)path};

	if (!n)   /* v may be NULL then */
		return NULL;
	return bsearch(&key, v, n, sizeof(*v), link_cmp);
}

enum resolve { INSIDE, ESCAPES, LOOPS };

/* Resolves path (relative to the package root; freed here) as the kernel
 * would once the package is extracted, following the package's own
 * symlinks, and tells whether it ever climbs above the root. */
static enum resolve resolve_path(const struct link *v, size_t n, char *path)
{
	struct buf cur = {0};
	const char *p = path;
	enum resolve r = INSIDE;
	int hops = 0;

	buf_puts(&cur, "");
	while (r == INSIDE && *p) {
		size_t len = strcspn(p, "/"), mark = cur.len;
		const char *next = p + len + (p[len] == '/');
		const struct link *l;

		if (!len || (len == 1 && *p == '.')) {
			p = next;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(cur.data, '/');

			if (!cur.len)
				r = ESCAPES;
			cur.len = slash ? (size_t)(slash - cur.data) : 0;
			cur.data[cur.len] = '\0';
			p = next;
			continue;
		}
		if (cur.len)
			buf_puts(&cur, "/");
		buf_append(&cur, p, len);
		l = link_find(v, n, cur.data);
		if (!l) {
			p = next;
			continue;
		}
		/* Put the link's target in place of its name. */
		cur.len = mark;
		cur.data[mark] = '\0';
		if (l->target[0] == '/')
			r = ESCAPES;
		else if (++hops > SYMLINK_HOPS)
			r = LOOPS;
		char *expanded = xasprintf("%s/%s", l->target, next);
		free(path);
		p = path = expanded;
	}
	free(path);
	buf_free(&cur);
	return r;
}

/* Where resolving link l starts: its target, from its own directory. */
static char *link_start(const struct link *l)
{
	const char *slash = strrchr(l->path, '/');

	if (!slash)
		return xstrdup(l->target);
	return xasprintf("%.*s/%s", (int)(slash - l->path), l->path, l->target);
}

static hf_rc check_links(struct link *v, size_t n, struct hf_error *err)
{
	if (!n)
		return HF_OK;
	qsort(v, n, sizeof(*v), link_cmp);
	for (size_t i = 0; i < n; i++) {
		enum resolve r = ESCAPES;

		if (v[i].target[0] != '/')
			r = resolve_path(v, n, link_start(&v[i]));
		if (r == ESCAPES)
			return hf_fail(err, HF_ERR_INVALID,
				       "symlink '%s' -> '%s' points outside "
				       "the package", v[i].path, v[i].target);
		if (r == LOOPS)
			return hf_fail(err, HF_ERR_INVALID,
				       "symlink '%s' -> '%s' loops", v[i].path,
				       v[i].target);
	}
	return HF_OK;
}

/* ---- the topology -------------------------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "component/stream" of each output stream; v stays NULL-ended. */
static void add_outputs(char ***v, size_t *n,
			Heron__Proto__Api__OutputStream **o, size_t no)
{
	*v = xrealloc(*v, (*n + no + 1) * sizeof(**v));
	for (size_t i = 0; i < no; i++)
		(*v)[(*n)++] = xasprintf("%s/%s", o[i]->stream->component_name,
					 o[i]->stream->id);
	(*v)[*n] = NULL;
}

/* Heron's TopologyUtils.verifyTopology: every stream a bolt reads must be
 * declared by some component (as "component/stream"). */
static hf_rc check_streams(const Heron__Proto__Api__Topology *t,
			   struct hf_error *err)
{
	char **out = NULL;
	size_t n = 0;
	hf_rc rc = HF_OK;

	add_outputs(&out, &n, NULL, 0);   /* never NULL, even when empty */
	for (size_t i = 0; i < t->n_spouts; i++)
		add_outputs(&out, &n, t->spouts[i]->outputs,
			    t->spouts[i]->n_outputs);
	for (size_t i = 0; i < t->n_bolts; i++)
		add_outputs(&out, &n, t->bolts[i]->outputs,
			    t->bolts[i]->n_outputs);
	qsort(out, n, sizeof(*out), str_cmp);
	for (size_t i = 0; i < t->n_bolts && !rc; i++) {
		const Heron__Proto__Api__Bolt *b = t->bolts[i];

		for (size_t j = 0; j < b->n_inputs && !rc; j++) {
			const Heron__Proto__Api__StreamId *s =
				b->inputs[j]->stream;
			char *key = xasprintf("%s/%s", s->component_name,
					      s->id);

			if (!bsearch(&key, out, n, sizeof(*out), str_cmp))
				rc = hf_fail(err, HF_ERR_INVALID,
					     "bolt '%s' reads stream '%s' of "
					     "'%s', which no component "
					     "declares", b->comp->name, s->id,
					     s->component_name);
			free(key);
		}
	}
	strv_free(out);
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

struct scan {
	const struct package_limits *lim;
	struct package *pkg;
	struct link *links;
	size_t nlinks;
};

static hf_rc archive_fail(struct archive *a, const char *what,
			  struct hf_error *err)
{
	return hf_fail(err, archive_errno(a) == EIO ? HF_ERR_UNAVAILABLE
						    : HF_ERR_INVALID,
		       "%s: %s", what, archive_error_string(a) ?
		       archive_error_string(a) : "unknown error");
}

/* A reader for tar and gzip tar only, over fd (which stays the caller's). */
static hf_rc tar_reader(int fd, struct archive **out, struct hf_error *err)
{
	struct archive *a = archive_read_new();
	hf_rc rc = HF_OK;

	*out = NULL;
	if (!a)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "libarchive: out of memory");
	/* ARCHIVE_WARN would mean running an external gzip: refuse that. */
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK)
		rc = hf_fail(err, HF_ERR_UNAVAILABLE,
			     "libarchive lacks built-in gzip or tar support");
	else if (archive_read_open_fd(a, fd, IO_BLOCK) != ARCHIVE_OK)
		rc = archive_fail(a, "not a tar or gzip tar", err);
	if (rc)
		archive_read_free(a);
	else
		*out = a;
	return rc;
}

static hf_rc read_defn(struct scan *s, struct archive *a, const char *raw,
		       const char *path, int64_t size, struct hf_error *err)
{
	Heron__Proto__Api__Topology *t;
	uint8_t *data;
	la_ssize_t got = 0;

	if (s->pkg->topology)
		return hf_fail(err, HF_ERR_INVALID,
			       "two topology definitions: '%s' and '%s'",
			       s->pkg->defn_entry, raw);
	if (size > DEFN_MAX)
		return hf_fail(err, HF_ERR_INVALID,
			       "'%s' is %lld bytes; heronfs reads definitions "
			       "of at most %d bytes", raw, (long long)size,
			       DEFN_MAX);
	data = xmalloc((size_t)size);
	while (got < size) {
		la_ssize_t r = archive_read_data(a, data + got,
						 (size_t)(size - got));

		if (r <= 0) {
			free(data);
			return r < 0 ? archive_fail(a, raw, err)
				     : hf_fail(err, HF_ERR_INVALID,
					       "'%s' is truncated", raw);
		}
		got += r;
	}
	t = heron__proto__api__topology__unpack(NULL, (size_t)size, data);
	free(data);
	if (!t)
		return hf_fail(err, HF_ERR_INVALID,
			       "'%s' is not a serialized Heron topology", raw);
	s->pkg->topology = t;
	s->pkg->defn_entry = xstrdup(raw);
	if (!heron_name_valid(t->name))
		return hf_fail(err, HF_ERR_INVALID,
			       "topology name '%s' is not valid: 1 to 128 "
			       "letters, digits, '_' or '-', not starting with "
			       "'-'", t->name);
	if (strncmp(path, t->name, strlen(t->name)) ||
	    strcmp(path + strlen(t->name), ".defn"))
		return hf_fail(err, HF_ERR_INVALID,
			       "'%s' defines topology '%s'; it must be named "
			       "'%s.defn'", raw, t->name, t->name);
	return HF_OK;
}

static hf_rc note_topology_file(struct scan *s, const char *path,
				const char *type, struct hf_error *err)
{
	if (s->pkg->topology_file)
		return hf_fail(err, HF_ERR_INVALID,
			       "two topology files, '%s' and '%s'; a package "
			       "holds one", s->pkg->topology_file, path);
	s->pkg->topology_file = xstrdup(path);
	s->pkg->pkg_type = xstrdup(type);
	return HF_OK;
}

/* Counts the entry against the limits from its header alone. */
static hf_rc check_budget(struct scan *s, const char *raw, int64_t size,
			  struct hf_error *err)
{
	const struct package_limits *lim = s->lim;
	struct package *pkg = s->pkg;

	if (++pkg->entries > lim->max_entries)
		return hf_fail(err, HF_ERR_INVALID,
			       "the package has more than %llu entries",
			       (unsigned long long)lim->max_entries);
	if ((uint64_t)size > lim->max_unpacked - pkg->unpacked_bytes)
		return hf_fail(err, HF_ERR_INVALID,
			       "the package unpacks to more than %llu bytes "
			       "(at entry '%s')",
			       (unsigned long long)lim->max_unpacked, raw);
	pkg->unpacked_bytes += (uint64_t)size;
	if (pkg->unpacked_bytes > RATIO_FLOOR &&
	    (double)pkg->unpacked_bytes >
		    lim->max_ratio * (double)pkg->packed_bytes)
		return hf_fail(err, HF_ERR_INVALID,
			       "entry '%s' unpacks to more than %g times the "
			       "package size: a compression bomb", raw,
			       lim->max_ratio);
	return HF_OK;
}

/* Refuses what could write outside the extraction directory or create
 * special files; notes symlinks for the final check. */
static hf_rc check_type(struct scan *s, struct archive_entry *e,
			const char *raw, const char *path, struct hf_error *err)
{
	mode_t type = archive_entry_filetype(e);

	if (archive_entry_hardlink(e))
		return hf_fail(err, HF_ERR_INVALID, "entry '%s' is a hard link",
			       raw);
	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);

		if (!target || !*target || !*path)
			return hf_fail(err, HF_ERR_INVALID,
				       "symlink '%s' is malformed", raw);
		s->links = xrealloc(s->links,
				    (s->nlinks + 1) * sizeof(*s->links));
		s->links[s->nlinks++] = (struct link){xstrdup(path),
						      xstrdup(target)};
		return HF_OK;
	}
	if (type != AE_IFREG && type != AE_IFDIR)
		return hf_fail(err, HF_ERR_INVALID,
			       "entry '%s' is a device, fifo or socket", raw);
	if (type == AE_IFREG && !*path)
		return hf_fail(err, HF_ERR_INVALID, "entry '%s' has no name",
			       raw);
	return HF_OK;
}

/* One entry: checked, then read (the .defn) or skipped. */
static hf_rc scan_entry(struct scan *s, struct archive *a,
			struct archive_entry *e, struct hf_error *err)
{
	const char *raw = archive_entry_pathname(e), *type;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	char *path;
	hf_rc rc;

	if (!raw)
		return hf_fail(err, HF_ERR_INVALID, "an entry has no name");
	if (size < 0)
		return hf_fail(err, HF_ERR_INVALID, "entry '%s' has a negative "
			       "size", raw);
	if ((rc = check_budget(s, raw, size, err)))
		return rc;
	if ((rc = entry_path(raw, &path, err)))
		return rc;
	rc = check_type(s, e, raw, path, err);
	/* Only top-level files can be the .defn or the topology file. */
	if (!rc && archive_entry_filetype(e) == AE_IFREG &&
	    !strchr(path, '/')) {
		if (ends_with(path, ".defn"))
			rc = read_defn(s, a, raw, path, size, err);
		else if ((type = topology_file_type(path)))
			rc = note_topology_file(s, path, type, err);
	}
	free(path);
	if (!rc && archive_read_data_skip(a) != ARCHIVE_OK)
		rc = archive_fail(a, raw, err);
	return rc;
}

static hf_rc scan_entries(struct scan *s, struct archive *a,
			  struct hf_error *err)
{
	struct archive_entry *e;
	hf_rc rc = HF_OK;
	int r;

	while (!rc) {
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return archive_fail(a, s->pkg->entries ?
					    "damaged package" :
					    "not a tar or gzip tar", err);
		rc = scan_entry(s, a, e, err);
	}
	return rc;
}

/* What can only be judged once every entry has been seen. */
static hf_rc scan_finish(struct scan *s, struct hf_error *err)
{
	struct package *pkg = s->pkg;
	hf_rc rc;

	if (!pkg->topology)
		return hf_fail(err, HF_ERR_INVALID,
			       "no <TopologyName>.defn at the top level: not a "
			       "Heron topology package");
	if (!pkg->topology_file)
		return hf_fail(err, HF_ERR_INVALID,
			       "no topology file (.jar, .tar, .tar.gz or .pex) "
			       "at the top level");
	if ((rc = check_links(s->links, s->nlinks, err)))
		return rc;
	pkg->topology_name = xstrdup(pkg->topology->name);
	return check_streams(pkg->topology, err);
}

static hf_rc open_package(const char *path, const struct package_limits *lim,
			  int *fd, uint64_t *size, struct hf_error *err)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return hf_fail(err, errno == ENOENT ? HF_ERR_NOTFOUND
						    : HF_ERR_UNAVAILABLE,
			       "cannot open %s: %s", path, strerror(errno));
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		return hf_fail(err, HF_ERR_INVALID, "%s is not a regular file",
			       path);
	}
	*size = (uint64_t)st.st_size;
	if (*size > lim->max_bytes) {
		close(*fd);
		return hf_fail(err, HF_ERR_INVALID,
			       "the package is %llu bytes, over the limit of "
			       "%llu", (unsigned long long)*size,
			       (unsigned long long)lim->max_bytes);
	}
	return HF_OK;
}

hf_rc package_read(const char *path, const struct package_limits *limits,
		   struct package **out, struct hf_error *err)
{
	struct scan s = {.lim = limits ? limits : &package_default_limits};
	struct archive *a;
	int fd;
	hf_rc rc;

	*out = NULL;
	s.pkg = xcalloc(1, sizeof(*s.pkg));
	rc = open_package(path, s.lim, &fd, &s.pkg->packed_bytes, err);
	if (rc) {
		package_free(s.pkg);
		return rc;
	}
	if (!(rc = tar_reader(fd, &a, err))) {
		if (!(rc = scan_entries(&s, a, err)))
			rc = scan_finish(&s, err);
		archive_read_free(a);
	}
	close(fd);
	for (size_t i = 0; i < s.nlinks; i++) {
		free(s.links[i].path);
		free(s.links[i].target);
	}
	free(s.links);
	if (rc) {
		package_free(s.pkg);
		return rc;
	}
	*out = s.pkg;
	return HF_OK;
}

/* ---- writing ------------------------------------------------------------- */

struct sink {
	int fd;
	uint64_t written;
	int error;              /* errno of the failed write, or 0 */
};

static la_ssize_t sink_write(struct archive *w, void *arg, const void *data,
			     size_t len)
{
	struct sink *o = arg;
	const char *p = data;

	for (size_t left = len; left;) {
		ssize_t n = write(o->fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			o->error = errno;
			archive_set_error(w, errno, "%s", strerror(errno));
			return -1;
		}
		p += n;
		left -= (size_t)n;
		o->written += (uint64_t)n;
	}
	return (la_ssize_t)len;
}

static hf_rc write_fail(struct archive *w, const struct sink *o,
			struct hf_error *err)
{
	bool full = o->error == ENOSPC || o->error == EDQUOT;

	return hf_fail(err, full ? HF_ERR_NOSPACE : HF_ERR_UNAVAILABLE,
		       "writing the upload package: %s",
		       archive_error_string(w) ? archive_error_string(w)
					       : strerror(o->error));
}

/* Copies the data of the entry just read from a to w. */
static hf_rc copy_data(struct archive *a, struct archive *w,
		       const struct sink *o, const char *name,
		       struct hf_error *err)
{
	char block[COPY_BLOCK];
	la_ssize_t n;

	while ((n = archive_read_data(a, block, sizeof(block))) > 0)
		if (archive_write_data(w, block, (size_t)n) < 0)
			return write_fail(w, o, err);
	if (n < 0)
		return archive_fail(a, name, err);
	return HF_OK;
}

/* True for "heron-conf" and what is under it: the cluster conf written
 * after the user's entries replaces any the package carried. */
static bool in_conf_dir(const char *name)
{
	char *path;
	bool in = !entry_path(name, &path, NULL) &&
		  strncmp(path, "heron-conf", 10) == 0 &&
		  (path[10] == '\0' || path[10] == '/');

	free(path);
	return in;
}

static hf_rc copy_package(struct archive *w, const struct sink *o,
			  const char *src, struct hf_error *err)
{
	struct archive_entry *e;
	struct archive *a;
	hf_rc rc = HF_OK;
	int fd = open(src, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "cannot open %s: %s",
			       src, strerror(errno));
	if ((rc = tar_reader(fd, &a, err))) {
		close(fd);
		return rc;
	}
	while (!rc && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		const char *name = archive_entry_pathname(e);

		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			rc = archive_fail(a, "damaged package", err);
		else if (name && in_conf_dir(name))
			continue;
		else if (archive_write_header(w, e) != ARCHIVE_OK)
			rc = write_fail(w, o, err);
		else
			rc = copy_data(a, w, o, name ? name : "?", err);
	}
	archive_read_free(a);
	close(fd);
	return rc;
}

static hf_rc write_blob(struct archive *w, const struct sink *o,
			const char *name, const char *data, size_t len,
			struct hf_error *err)
{
	struct archive_entry *e = archive_entry_new();
	hf_rc rc = HF_OK;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, time(NULL), 0);
	archive_entry_set_uid(e, geteuid());
	archive_entry_set_gid(e, getegid());
	if (archive_write_header(w, e) != ARCHIVE_OK ||
	    (len && archive_write_data(w, data, len) < 0))
		rc = write_fail(w, o, err);
	archive_entry_free(e);
	return rc;
}

static hf_rc conf_fail(const char *path, struct hf_error *err)
{
	return hf_fail(err, HF_ERR_UNAVAILABLE, "cluster conf: cannot read "
		       "%s: %s", path, strerror(errno));
}

/* One file of the conf dir, opened first so that the header matches what
 * is read even if the file is being replaced. */
static hf_rc write_file(struct archive *w, const struct sink *o,
			const char *fs_path, const char *name,
			struct hf_error *err)
{
	char block[COPY_BLOCK];
	struct archive_entry *e;
	struct stat st;
	hf_rc rc = HF_OK;
	ssize_t n = 0;
	int fd = open(fs_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = conf_fail(fs_path, err);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	e = archive_entry_new();
	archive_entry_copy_stat(e, &st);
	archive_entry_set_pathname(e, name);
	if (archive_write_header(w, e) != ARCHIVE_OK)
		rc = write_fail(w, o, err);
	while (!rc && (n = read(fd, block, sizeof(block))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = conf_fail(fs_path, err);
		else if (archive_write_data(w, block, (size_t)n) < 0)
			rc = write_fail(w, o, err);
	}
	archive_entry_free(e);
	close(fd);
	return rc;
}

/* The directories being walked, to stop at a symlink loop. */
struct walk {
	dev_t dev;
	ino_t ino;
	const struct walk *up;
};

static bool walk_seen(const struct walk *w, const struct stat *st)
{
	for (; w; w = w->up)
		if (w->dev == st->st_dev && w->ino == st->st_ino)
			return true;
	return false;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static hf_rc write_tree(struct archive *w, const struct sink *o,
			const char *fs_path, const char *name,
			const struct stat *st, const struct walk *up,
			struct hf_error *err);

/* One entry of a conf directory; symlinks are followed, as `heron submit`
 * does. Sockets and other special files are left out. */
static hf_rc write_child(struct archive *w, const struct sink *o,
			 const char *dir, const char *arc_dir, const char *base,
			 const struct walk *up, struct hf_error *err)
{
	char *fs_path = xasprintf("%s/%s", dir, base);
	char *name = xasprintf("%s/%s", arc_dir, base);
	struct stat st;
	hf_rc rc = HF_OK;

	if (stat(fs_path, &st) < 0)
		rc = conf_fail(fs_path, err);
	else if (S_ISDIR(st.st_mode) && walk_seen(up, &st))
		rc = hf_fail(err, HF_ERR_UNAVAILABLE,
			     "cluster conf: %s loops back to a parent "
			     "directory", fs_path);
	else if (S_ISDIR(st.st_mode))
		rc = write_tree(w, o, fs_path, name, &st, up, err);
	else if (S_ISREG(st.st_mode))
		rc = write_file(w, o, fs_path, name, err);
	free(fs_path);
	free(name);
	return rc;
}

/* A directory and, in name order, everything under it. At the top, the
 * release and override files are left for the generated ones. */
static hf_rc write_tree(struct archive *w, const struct sink *o,
			const char *fs_path, const char *name,
			const struct stat *st, const struct walk *up,
			struct hf_error *err)
{
	struct walk here = {st->st_dev, st->st_ino, up};
	struct archive_entry *e = archive_entry_new();
	struct dirent **ents;
	hf_rc rc = HF_OK;
	int n;

	archive_entry_copy_stat(e, st);
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, 0);
	if (archive_write_header(w, e) != ARCHIVE_OK)
		rc = write_fail(w, o, err);
	archive_entry_free(e);
	if (rc)
		return rc;
	if ((n = scandir(fs_path, &ents, NULL, name_cmp)) < 0)
		return conf_fail(fs_path, err);
	for (int i = 0; i < n; i++) {
		const char *base = ents[i]->d_name;
		bool skip = !strcmp(base, ".") || !strcmp(base, "..") ||
			    (!up && (!strcmp(base, "release.yaml") ||
				     !strcmp(base, "override.yaml")));

		if (!rc && !skip)
			rc = write_child(w, o, fs_path, name, base, &here, err);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static hf_rc write_conf(struct archive *w, const struct sink *o,
			const char *conf_dir, const char *release_yaml,
			const char *override_yaml, struct hf_error *err)
{
	struct stat st;
	hf_rc rc;

	if (stat(conf_dir, &st) < 0)
		return conf_fail(conf_dir, err);
	if (!S_ISDIR(st.st_mode))
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "cluster conf: %s is not a directory", conf_dir);
	if ((rc = write_tree(w, o, conf_dir, CONF_ARC_DIR, &st, NULL, err)))
		return rc;
	release_yaml = release_yaml ? release_yaml : "";
	override_yaml = override_yaml ? override_yaml : "";
	if ((rc = write_blob(w, o, CONF_ARC_DIR "/release.yaml", release_yaml,
			     strlen(release_yaml), err)))
		return rc;
	return write_blob(w, o, CONF_ARC_DIR "/override.yaml", override_yaml,
			  strlen(override_yaml), err);
}

static hf_rc gzip_writer(struct sink *o, struct archive **out,
			 struct hf_error *err)
{
	struct archive *w = archive_write_new();
	hf_rc rc;

	*out = NULL;
	if (!w)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "libarchive: out of memory");
	/* GNU tar format: names go out as the bytes they are. pax would want
	 * them converted to UTF-8, which libarchive refuses for non-ASCII
	 * names under the C locale. (Heron's CLI wrote GNU format under
	 * Python 2, pax under Python 3; every tar reads both.) No padding
	 * after the gzip stream, as Python's tarfile writes it. */
	if (archive_write_add_filter_gzip(w) != ARCHIVE_OK ||
	    archive_write_set_format_gnutar(w) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK ||
	    archive_write_open(w, o, NULL, sink_write, NULL) != ARCHIVE_OK) {
		rc = write_fail(w, o, err);
		archive_write_free(w);
		return rc;
	}
	*out = w;
	return HF_OK;
}

hf_rc package_write_upload(const char *src_path, const char *conf_dir,
			   const char *release_yaml, const char *override_yaml,
			   int out_fd, uint64_t *written,
			   struct hf_error *err)
{
	struct sink o = {.fd = out_fd};
	struct archive *w;
	hf_rc rc = gzip_writer(&o, &w, err);

	if (!rc && !(rc = copy_package(w, &o, src_path, err)) &&
	    !(rc = write_conf(w, &o, conf_dir, release_yaml, override_yaml,
			      err)) &&
	    archive_write_close(w) != ARCHIVE_OK)
		rc = write_fail(w, &o, err);
	if (w)
		archive_write_free(w);
	if (written)
		*written = o.written;
	return rc;
}
