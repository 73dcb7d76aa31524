/* hferr: how backend operations report failure.
 *
 * Every backend call that can fail returns an hf_rc and, when given a
 * struct hf_error, fills it with the code and a one-line reason meant for a
 * person (it goes to a topology's `error` file and the cluster's `log`).
 * The FUSE layer turns codes into errno in exactly one place (fs/errno.c). */
#ifndef HERONFS_HFERR_H
#define HERONFS_HFERR_H

#include <stddef.h>

typedef enum {
	HF_OK = 0,
	HF_ERR_INVALID,     /* bad input: package, verb, name, value   EINVAL */
	HF_ERR_NOTFOUND,    /* no such topology / node / file          ENOENT */
	HF_ERR_EXISTS,      /* name taken                              EEXIST */
	HF_ERR_BUSY,        /* state forbids the action                EBUSY */
	HF_ERR_NOTREADY,    /* not yet possible, try later             EAGAIN */
	HF_ERR_UNAVAILABLE, /* a dependency failed or is unreachable   EIO */
	HF_ERR_TIMEOUT,     /* a dependency did not answer in time     ETIMEDOUT */
	HF_ERR_NOSPACE,     /* spool or target full                    ENOSPC */
	HF_ERR_PERM,        /* not allowed                             EPERM */
	HF_ERR_CORRUPT,     /* stored data does not decode             EIO */
} hf_rc;

#define HF_ERRMSG_MAX 512

struct hf_error {
	hf_rc rc;
	char msg[HF_ERRMSG_MAX];
};

/* Records rc and a printf-style reason in err (which may be NULL) and
 * returns rc, so callers can write `return hf_fail(err, HF_ERR_X, ...)`. */
hf_rc hf_fail(struct hf_error *err, hf_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes err->msg with "<prefix>: " (keeps the code). */
void hf_error_prefix(struct hf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void hf_error_clear(struct hf_error *err);

/* A short lowercase name for a code ("invalid", "timeout", ...). */
const char *hf_rc_name(hf_rc rc);

#endif
