/* uploader: the back-end independent part of the uploader.
 *
 * It picks the back end from heron.class.uploader, checks every request
 * once and names the back end in every error it passes on. */
#include "uploader.h"
#include "uploader_impl.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "heron_conf.h"
#include "package.h"

#define CLASS_KEY "heron.class.uploader"

struct uploader {
	const struct upl_ops *ops;
	struct upl_backend *be;
};

static const struct upl_ops *const backends[] = {
	&upl_localfs_ops,
};

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

static const struct upl_ops *find_backend(const char *class_name)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (strcmp(backends[i]->class_name, class_name) == 0)
			return backends[i];
	return NULL;
}

static hf_rc unsupported(const char *cls, struct hf_error *err)
{
	struct buf kinds = {0};
	hf_rc rc;

	for (size_t i = 0; i < NBACKENDS; i++)
		buf_printf(&kinds, "%s%s", i ? ", " : "", backends[i]->kind);
	rc = hf_fail(err, HF_ERR_INVALID, "uploader class %s is not supported "
		     "by heronfs (supported: %s)", cls, kinds.data);
	buf_free(&kinds);
	return rc;
}

hf_rc uploader_open(const struct heron_conf *conf, struct uploader **out,
		    struct hf_error *err)
{
	const char *cls = heron_conf_class(conf, CLASS_KEY);
	const struct upl_ops *ops;
	struct upl_backend *be;
	hf_rc rc;

	*out = NULL;
	if (!cls)
		return hf_fail(err, HF_ERR_INVALID, "%s is not set in %s",
			       CLASS_KEY, heron_conf_dir(conf));
	if (!(ops = find_backend(cls)))
		return unsupported(heron_conf_get(conf, CLASS_KEY), err);
	if ((rc = ops->open(conf, &be, err))) {
		hf_error_prefix(err, "%s uploader", ops->kind);
		return rc;
	}
	*out = xmalloc(sizeof(**out));
	(*out)->ops = ops;
	(*out)->be = be;
	return HF_OK;
}

void uploader_close(struct uploader *u)
{
	if (!u)
		return;
	u->ops->close(u->be);
	free(u);
}

/* The role becomes part of a file or object name: one path component. */
static bool role_valid(const char *role)
{
	return role[0] && !strchr(role, '/') && strcmp(role, ".") != 0 &&
	       strcmp(role, "..") != 0;
}

static hf_rc check_req(const struct upload_req *req, struct hf_error *err)
{
	if (!heron_name_valid(req->topology))
		return hf_fail(err, HF_ERR_INVALID, "topology name \"%s\" is "
			       "not valid", req->topology);
	if (!role_valid(req->role))
		return hf_fail(err, HF_ERR_INVALID, "role \"%s\" cannot be "
			       "part of a file name", req->role);
	return HF_OK;
}

hf_rc uploader_put(struct uploader *u, const struct upload_req *req,
		   char **uri, struct hf_error *err)
{
	hf_rc rc;

	*uri = NULL;
	if ((rc = check_req(req, err)) ||
	    (rc = u->ops->put(u->be, req, uri, err)))
		hf_error_prefix(err, "%s uploader", u->ops->kind);
	return rc;
}

hf_rc uploader_undo(struct uploader *u, const char *uri,
		    struct hf_error *err)
{
	hf_rc rc = u->ops->undo(u->be, uri, err);

	if (rc)
		hf_error_prefix(err, "%s uploader", u->ops->kind);
	return rc;
}

void uploader_health(struct uploader *u, const struct heron_conf *conf,
		     struct buf *out)
{
	buf_puts(out, "uploader: ");
	u->ops->health(u->be, conf, out);
}
