/* opts: heronfs's command line. */
#ifndef HERONFS_FS_OPTS_H
#define HERONFS_FS_OPTS_H

#include <fuse.h>

struct hfs_opts {
	char *config_path;     /* -o config_path=DIR (default ~/.heron/conf) */
	char *heron_home;      /* -o heron_home=DIR (default: parent of
				* config_path); release.yaml lives there */
	char *role;            /* -o role=R (default: the caller's name) */
	char *environ;         /* -o environ=E, or NULL (see cluster.h) */
	char *log_level;       /* -o log_level=error|warning|info|debug */
	char *spool_dir;       /* -o spool_dir=DIR where copies are spooled */
	double cache_timeout;  /* -o cache_timeout=S kernel entry/attr cache */
	char *mountpoint;      /* the last non-option argument */
	int nonopts;           /* how many non-option arguments */
	int show_help;
	int show_version;
};

/* Parses argv into o and leaves in args what libfuse must see. Returns 0,
 * or -1 after printing the reason to stderr. */
int hfs_opts_parse(struct fuse_args *args, struct hfs_opts *o);
void hfs_opts_free(struct hfs_opts *o);
void hfs_usage(const char *prog);

#endif
