/* statemgr_names: Heron's state directory names and the node-name check
 * (see statemgr.h). Apart from statemgr.c because they need no open
 * statemgr: topology.c uses them, and its unit test links a stub statemgr
 * in place of statemgr.c. */
#include "statemgr.h"

#include <limits.h>
#include <string.h>

static const char *const dir_names[SM_NDIRS] = {
	[SM_TOPOLOGIES] = "topologies",
	[SM_PACKINGPLANS] = "packingplans",
	[SM_EXECUTIONSTATE] = "executionstate",
	[SM_SCHEDULERS] = "schedulers",
	[SM_TMANAGERS] = "tmanagers",
	[SM_PPLANS] = "pplans",
	[SM_METRICSCACHES] = "metricscaches",
	[SM_STATEFULCHECKPOINTS] = "statefulcheckpoints",
	[SM_LOCKS] = "locks",
};

const char *sm_dir_name(enum sm_dir dir)
{
	return (unsigned)dir < SM_NDIRS ? dir_names[dir] : NULL;
}

hf_rc sm_check_name(const char *name, struct hf_error *err)
{
	if (!name || !*name)
		return hf_fail(err, HF_ERR_INVALID, "empty state node name");
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strchr(name, '/') || strlen(name) > NAME_MAX)
		return hf_fail(err, HF_ERR_INVALID,
			       "invalid state node name '%s'", name);
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return hf_fail(err, HF_ERR_INVALID,
				       "state node name '%s' has a control "
				       "character", name);
	return HF_OK;
}
