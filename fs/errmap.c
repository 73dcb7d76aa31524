#include "errmap.h"

#include <errno.h>

int hf_errno(hf_rc rc)
{
	switch (rc) {
	case HF_OK: return 0;
	case HF_ERR_INVALID: return EINVAL;
	case HF_ERR_NOTFOUND: return ENOENT;
	case HF_ERR_EXISTS: return EEXIST;
	case HF_ERR_BUSY: return EBUSY;
	case HF_ERR_NOTREADY: return EAGAIN;
	case HF_ERR_TIMEOUT: return ETIMEDOUT;
	case HF_ERR_NOSPACE: return ENOSPC;
	case HF_ERR_PERM: return EPERM;
	case HF_ERR_UNAVAILABLE:
	case HF_ERR_CORRUPT:
		return EIO;
	}
	return EIO;
}
