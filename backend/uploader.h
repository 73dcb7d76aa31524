/* uploader: puts a topology's upload package where the containers can
 * fetch it, as Heron's uploaders do (heron.class.uploader).
 *
 * Implemented: uploader.localfs.LocalFileSystemUploader. Others are
 * refused at mount with a clear message.
 *
 * One uploader serves every topology and may be used by many threads at
 * once; it keeps no per-topology state. */
#ifndef HERONFS_UPLOADER_H
#define HERONFS_UPLOADER_H

#include <stdint.h>

#include "buf.h"
#include "hferr.h"

struct heron_conf;
struct uploader;

/* conf is the cluster's conf; the topology's tokens (TOPOLOGY_NAME, ROLE,
 * ...) may still be unset. The uploader reads its keys again from each
 * request's conf at put time. HF_ERR_INVALID for an unset or unsupported
 * heron.class.uploader, or for settings no topology could use (localfs: a
 * directory that is not absolute). */
hf_rc uploader_open(const struct heron_conf *conf, struct uploader **out,
		    struct hf_error *err);
void uploader_close(struct uploader *u);   /* NULL is fine */

/* Called now and then during put with the bytes written so far, from a
 * helper thread of put: never twice at once and never after put returns. */
typedef void (*upload_progress_fn)(void *arg, uint64_t bytes);

struct upload_req {
	const struct heron_conf *conf;  /* with this topology's tokens */
	const char *topology;           /* the topology name */
	const char *role;
	const char *package_path;       /* the user's package (spool file) */
	const char *release_yaml;       /* contents of heron-conf/release.yaml */
	const char *override_yaml;      /* contents of heron-conf/override.yaml */
	upload_progress_fn progress;    /* may be NULL */
	void *progress_arg;
};

/* Writes the upload package (package_write_upload) to its place and
 * returns its URI in *uri (malloc'd), e.g. for localfs
 * file://<dir>/<topology>-<role>-tag-0.tar.gz; a package already there is
 * replaced, as in Heron. The package appears atomically (written beside,
 * then renamed), so a reader never sees half a package; a failed put
 * leaves nothing behind. HF_ERR_INVALID for a topology name that is not
 * valid (heron_name_valid), a role that cannot be part of a file name, or
 * a target the containers could not fetch as written (localfs: a path
 * that is not absolute, keeps a ${TOKEN}, has a "." or ".." component, or
 * a character a URI or a shell would read differently). HF_ERR_NOSPACE
 * when the target is full; HF_ERR_UNAVAILABLE for other failures, with the
 * path and cause. */
hf_rc uploader_put(struct uploader *u, const struct upload_req *req,
		   char **uri, struct hf_error *err);

/* Removes what put wrote at uri. A missing package is success. A URI this
 * uploader cannot have written (localfs: not file://<absolute path> of a
 * *-tag-0.tar.gz) is refused with HF_ERR_INVALID and nothing is removed. */
hf_rc uploader_undo(struct uploader *u, const char *uri,
		    struct hf_error *err);

/* Appends one line for `health`, without newline, e.g. "uploader: ok
 * localfs /srv/heron/topologies/devcluster (writable)" or "uploader:
 * failing localfs ... (Permission denied)". conf as in uploader_open.
 * localfs checks the configured directory up to its first component that
 * still holds a ${TOKEN}; when that does not exist yet, its nearest
 * existing ancestor must let put create it. */
void uploader_health(struct uploader *u, const struct heron_conf *conf,
		     struct buf *out);

#endif
