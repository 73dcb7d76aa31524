#include "hferr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

hf_rc hf_fail(struct hf_error *err, hf_rc rc, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->rc = rc;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

void hf_error_prefix(struct hf_error *err, const char *fmt, ...)
{
	char prefix[HF_ERRMSG_MAX];
	size_t plen, mlen;
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	strcat(prefix, ": ");
	plen = strlen(prefix);
	mlen = strnlen(err->msg, sizeof(err->msg) - 1);
	/* Shift the old message right; truncate its tail if it must go. */
	if (plen + mlen > sizeof(err->msg) - 1)
		mlen = plen < sizeof(err->msg) - 1 ? sizeof(err->msg) - 1 - plen
						  : 0;
	if (plen > sizeof(err->msg) - 1)
		plen = sizeof(err->msg) - 1;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = '\0';
}

void hf_error_clear(struct hf_error *err)
{
	if (err) {
		err->rc = HF_OK;
		err->msg[0] = '\0';
	}
}

const char *hf_rc_name(hf_rc rc)
{
	switch (rc) {
	case HF_OK: return "ok";
	case HF_ERR_INVALID: return "invalid";
	case HF_ERR_NOTFOUND: return "not found";
	case HF_ERR_EXISTS: return "exists";
	case HF_ERR_BUSY: return "busy";
	case HF_ERR_NOTREADY: return "not ready";
	case HF_ERR_UNAVAILABLE: return "unavailable";
	case HF_ERR_TIMEOUT: return "timeout";
	case HF_ERR_NOSPACE: return "no space";
	case HF_ERR_PERM: return "not permitted";
	case HF_ERR_CORRUPT: return "corrupt";
	}
	return "error";
}
