/* errmap: the one place where backend codes become errno values. */
#ifndef HERONFS_FS_ERRMAP_H
#define HERONFS_FS_ERRMAP_H

#include "hferr.h"

/* The positive errno for rc (0 for HF_OK). */
int hf_errno(hf_rc rc);

#endif
