#include "opts.h"

#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define HFS_OPT(t, p, v) { t, offsetof(struct hfs_opts, p), v }

enum { KEY_HELP, KEY_VERSION };

static const struct fuse_opt hfs_opt_spec[] = {
	HFS_OPT("config_path=%s", config_path, 0),
	HFS_OPT("heron_home=%s", heron_home, 0),
	HFS_OPT("role=%s", role, 0),
	HFS_OPT("environ=%s", environ, 0),
	HFS_OPT("log_level=%s", log_level, 0),
	HFS_OPT("spool_dir=%s", spool_dir, 0),
	HFS_OPT("cache_timeout=%lf", cache_timeout, 0),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	/* fstab noise */
	FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_END
};

void hfs_usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-o option[,option...]] MOUNTPOINT\n"
	       "\n"
	       "Shows the Apache Heron topologies of every cluster under the\n"
	       "Heron conf directory as files, and manages them.\n"
	       "\n"
	       "heronfs options:\n"
	       "    -o config_path=DIR     Heron conf directory; each subdirectory\n"
	       "                           holding scheduler.yaml is a cluster\n"
	       "                           (default ~/.heron/conf)\n"
	       "    -o heron_home=DIR      Heron client home, for release.yaml\n"
	       "                           (default: the parent of config_path)\n"
	       "    -o role=NAME           role for submissions (default: the\n"
	       "                           name of the user who submits)\n"
	       "    -o environ=NAME        environment (default: the cluster's\n"
	       "                           heronfs.environ.default, else\n"
	       "                           default)\n"
	       "    -o spool_dir=DIR       where packages being copied in are\n"
	       "                           kept until submitted (default\n"
	       "                           /var/tmp/heronfs)\n"
	       "    -o cache_timeout=SECS  kernel name/attribute cache, refreshed\n"
	       "                           early by ZooKeeper watches (default 1)\n"
	       "    -o log_level=LEVEL     error, warning, info or debug\n"
	       "                           (default info; -d sets debug)\n"
	       "    -f                     stay in the foreground\n"
	       "    -d                     debug: foreground, libfuse tracing\n"
	       "    -h, --help             this text\n"
	       "    -V, --version          print the version\n"
	       "\n"
	       "libfuse options (e.g. -o allow_other,auto_unmount) are passed on.\n",
	       prog);
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct hfs_opts *o = data;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		/* mount(8) and fstab pass a source before the mount point
		 * ("heronfs /heron"); heronfs has no use for it. */
		free(o->mountpoint);
		o->mountpoint = xstrdup(arg);
		o->nonopts++;
		return 0;
	case KEY_HELP:
		o->show_help = 1;
		return 0;
	case KEY_VERSION:
		o->show_version = 1;
		return 0;
	}
	return 1;
}

static char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return xstrdup(h);
	pw = getpwuid(getuid());
	return xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
}

/* Names Heron, ZooKeeper and Aurora all accept in a path component. */
static int check_word(const char *what, const char *v)
{
	if (!*v || strlen(v) > 128 || v[0] == '.' || v[0] == '-' ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") != strlen(v)) {
		fprintf(stderr, "heronfs: bad %s '%s': use letters, digits, "
			"'.', '_' and '-'\n", what, v);
		return -1;
	}
	return 0;
}

static int apply_log_level(const char *v)
{
	static const char *const names[] = {"error", "warning", "info",
					    "debug"};

	for (int i = 0; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			hf_log_level = (enum hf_log_level)i;
			return 0;
		}
	fprintf(stderr, "heronfs: bad log_level '%s': use error, warning, "
		"info or debug\n", v);
	return -1;
}

static char *parent_dir(const char *path)
{
	char *p = xstrdup(path);
	char *slash;

	while (strlen(p) > 1 && p[strlen(p) - 1] == '/')
		p[strlen(p) - 1] = '\0';
	slash = strrchr(p, '/');
	if (!slash) {
		free(p);
		return xstrdup(".");
	}
	if (slash == p)
		slash[1] = '\0';
	else
		*slash = '\0';
	return p;
}

/* Daemonizing changes to "/": make a relative path absolute now. */
static void make_absolute(char **path)
{
	char cwd[4096];

	if (!*path || (*path)[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return;
	char *abs = xasprintf("%s/%s", cwd, *path);

	free(*path);
	*path = abs;
}

int hfs_opts_parse(struct fuse_args *args, struct hfs_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cache_timeout = 1.0;
	if (fuse_opt_parse(args, o, hfs_opt_spec, opt_proc) == -1)
		return -1;
	if (o->show_help || o->show_version)
		return 0;
	if (o->nonopts > 2) {
		fprintf(stderr, "heronfs: too many arguments: give one mount "
			"point (see --help)\n");
		return -1;
	}
	if (o->mountpoint)
		fuse_opt_add_arg(args, o->mountpoint);
	if (!o->config_path) {
		char *home = home_dir();

		o->config_path = xasprintf("%s/.heron/conf", home);
		free(home);
	}
	make_absolute(&o->config_path);
	if (!o->heron_home)
		o->heron_home = parent_dir(o->config_path);
	make_absolute(&o->heron_home);
	if (!o->spool_dir)
		o->spool_dir = xstrdup("/var/tmp/heronfs");
	make_absolute(&o->spool_dir);
	if (o->environ && check_word("environ", o->environ) != 0)
		return -1;
	if (o->role && check_word("role", o->role) != 0)
		return -1;
	if (o->log_level && apply_log_level(o->log_level) != 0)
		return -1;
	if (!(o->cache_timeout >= 0 && o->cache_timeout <= 3600)) {
		fprintf(stderr, "heronfs: bad cache_timeout: use 0 to 3600 "
			"seconds\n");
		return -1;
	}
	return 0;
}

void hfs_opts_free(struct hfs_opts *o)
{
	free(o->config_path);
	free(o->heron_home);
	free(o->role);
	free(o->environ);
	free(o->log_level);
	free(o->spool_dir);
	free(o->mountpoint);
}
