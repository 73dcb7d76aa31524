/* proc: runs a command without a shell, bounded in time and output.
 *
 * The program is looked up on PATH (unless it contains a '/') and started
 * with execve in its own process group, stdin from /dev/null. stdout and
 * stderr are captured together, in order, keeping at most the last
 * PROC_OUTPUT_MAX bytes. When the timeout passes the whole group gets
 * SIGTERM, then SIGKILL two seconds later. No descriptor of the daemon
 * but 0-2 reaches the command, and signals start at their defaults.
 *
 * The result is in once the command exits: processes it left in the
 * background are neither waited for nor killed. Safe to call from many
 * threads at once; no other thread may reap children with waitpid(-1). */
#ifndef HERONFS_PROC_H
#define HERONFS_PROC_H

#include <stdbool.h>

#include "buf.h"
#include "hferr.h"

#define PROC_OUTPUT_MAX (1024 * 1024)

struct proc_result {
	int exit_status;     /* 0..255, or -1 if killed by a signal */
	int term_signal;     /* the signal, when exit_status is -1 */
	bool timed_out;
	struct buf output;   /* stdout and stderr, interleaved */
};

/* Runs argv[0] with argv. env: extra "NAME=value" entries added to the
 * daemon's environment, replacing entries of the same name
 * (NULL-terminated, may be NULL). timeout_ms <= 0: no limit. Returns
 * HF_OK when the command ran to an exit status (whatever it was),
 * HF_ERR_TIMEOUT when it was killed for taking too long,
 * HF_ERR_UNAVAILABLE when it could not be started (not found, not
 * executable; the reason names the program). res is filled in every
 * case; free it with proc_result_free. */
hf_rc proc_run(char *const argv[], char *const env[], int timeout_ms,
	       struct proc_result *res, struct hf_error *err);
void proc_result_free(struct proc_result *res);

/* The last line of output that is not blank, without surrounding white
 * space, for error messages ("" if none). Points into res, whose output
 * loses its trailing white space. */
const char *proc_last_line(struct proc_result *res);

#endif
