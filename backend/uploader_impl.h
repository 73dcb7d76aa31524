/* uploader_impl: what uploader.c asks of an uploader back end.
 *
 * uploader.c picks the back end from heron.class.uploader and checks each
 * request first: a back end's put sees a valid topology name and a role
 * that is a single path component. Adding an uploader means one ops table
 * here and one line in uploader.c's list.
 *
 * Private to backend/uploader*.c. */
#ifndef HERONFS_UPLOADER_IMPL_H
#define HERONFS_UPLOADER_IMPL_H

#include "uploader.h"

struct upl_backend;   /* a back end's own state; NULL if it needs none */

struct upl_ops {
	const char *kind;        /* "localfs": for messages and health */
	const char *class_name;  /* heron.class.uploader, package root
				  * stripped (heron_conf_class) */

	hf_rc (*open)(const struct heron_conf *conf, struct upl_backend **out,
		      struct hf_error *err);
	void (*close)(struct upl_backend *be);
	hf_rc (*put)(struct upl_backend *be, const struct upload_req *req,
		     char **uri, struct hf_error *err);
	hf_rc (*undo)(struct upl_backend *be, const char *uri,
		      struct hf_error *err);
	/* Appends the health line after "uploader: ". */
	void (*health)(struct upl_backend *be, const struct heron_conf *conf,
		       struct buf *out);
};

extern const struct upl_ops upl_localfs_ops;

#endif
