/* Unit tests for backend/proc.c: running a command with /bin/sh as the
 * subject (never through a shell of proc's own). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "proc.h"

/* cmocka's test signature takes a state these tests do not use. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* proc_run takes execve's char *const argv[]; literals are const. */
#define S(literal) ((char *)(literal))
#define SH(script) ((char *const[]){S("/bin/sh"), S("-c"), S(script), NULL})

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Runs a script expected to exit (HF_OK). */
static void run_sh(const char *script, char *const env[],
		   struct proc_result *res)
{
	struct hf_error err = {0};
	hf_rc rc = proc_run(SH(script), env, 10000, res, &err);

	if (rc != HF_OK)
		fail_msg("%s: %s", script, err.msg);
	assert_false(res->timed_out);
}

static void assert_output(struct proc_result *res, const char *want)
{
	assert_non_null(res->output.data);
	assert_int_equal(res->output.len, strlen(want));
	assert_string_equal(res->output.data, want);
}

/* Dead: no such process, or a zombie nobody reaped yet (the test runner
 * may not reap orphans). Waits up to 2 s for it. */
static bool process_gone(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		char path[64], stat[512] = "";
		FILE *f;
		const char *paren;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (!f)
			return true;
		if (!fgets(stat, sizeof(stat), f))
			stat[0] = '\0';
		fclose(f);
		paren = strrchr(stat, ')');
		if (paren && (paren[2] == 'Z' || paren[2] == 'X'))
			return true;
		usleep(10000);
	}
	return false;
}

static pid_t first_line_pid(struct proc_result *res)
{
	assert_non_null(res->output.data);
	return (pid_t)atoi(res->output.data);
}

/* ---- exit status and output --------------------------------------------- */

static void test_exit_status(void **state)
{
	struct proc_result res;

	run_sh("exit 0", NULL, &res);
	assert_int_equal(res.exit_status, 0);
	proc_result_free(&res);

	run_sh("exit 3", NULL, &res);
	assert_int_equal(res.exit_status, 3);
	assert_int_equal(res.term_signal, 0);
	assert_string_equal(proc_last_line(&res), "");
	proc_result_free(&res);

	run_sh("kill -USR1 $$", NULL, &res);
	assert_int_equal(res.exit_status, -1);
	assert_int_equal(res.term_signal, SIGUSR1);
	proc_result_free(&res);
}

static void test_output_order(void **state)
{
	struct proc_result res;

	run_sh("echo one; echo two >&2; printf three; echo ' four' >&2",
	       NULL, &res);
	assert_output(&res, "one\ntwo\nthree four\n");
	proc_result_free(&res);
}

/* Only the last PROC_OUTPUT_MAX bytes are kept, intact. */
static void test_output_bound(void **state)
{
	struct proc_result res;
	struct buf want = {0};
	const char *tail;

	run_sh("seq 1 400000", NULL, &res);
	for (int i = 1; i <= 400000; i++)
		buf_printf(&want, "%d\n", i);
	assert_true(want.len > PROC_OUTPUT_MAX);
	assert_int_equal(res.output.len, PROC_OUTPUT_MAX);
	tail = want.data + want.len - PROC_OUTPUT_MAX;
	assert_memory_equal(res.output.data, tail, PROC_OUTPUT_MAX);
	assert_int_equal(res.output.data[res.output.len], '\0');
	assert_string_equal(proc_last_line(&res), "400000");
	buf_free(&want);
	proc_result_free(&res);
}

static void test_last_line(void **state)
{
	struct proc_result res;

	run_sh("printf 'first\\n  Job already exists \\r\\n\\n\\t\\n'", NULL,
	       &res);
	assert_string_equal(proc_last_line(&res), "Job already exists");
	proc_result_free(&res);

	run_sh("printf '\\tonly line'", NULL, &res);
	assert_string_equal(proc_last_line(&res), "only line");
	proc_result_free(&res);

	run_sh(":", NULL, &res);
	assert_null(res.output.data);
	assert_string_equal(proc_last_line(&res), "");
	proc_result_free(&res);
}

/* ---- what the child gets ------------------------------------------------ */

static void test_environment(void **state)
{
	char *const env[] = {S("HERONFS_TEST_A=a b"), S("HOME=/nowhere"), NULL};
	struct proc_result res;

	run_sh("echo \"$HERONFS_TEST_A|$HOME|${PATH:+has path}\"", env, &res);
	assert_output(&res, "a b|/nowhere|has path\n");
	proc_result_free(&res);
}

static void test_stdin_is_devnull(void **state)
{
	struct proc_result res;

	run_sh("readlink /proc/self/fd/0; cat; echo end", NULL, &res);
	assert_output(&res, "/dev/null\nend\n");
	proc_result_free(&res);
}

/* A descriptor left inheritable, here by the test, by the test runner or
 * in the daemon by a library, does not reach the command. */
static void test_no_fd_leak(void **state)
{
	int fd = open("/dev/null", O_RDONLY);   /* no O_CLOEXEC on purpose */
	int p[2];
	struct proc_result res;

	assert_true(fd >= 0);
	assert_int_equal(pipe(p), 0);
	run_sh("ls /proc/$$/fd", NULL, &res);
	assert_output(&res, "0\n1\n2\n");
	proc_result_free(&res);
	close(fd);
	close(p[0]);
	close(p[1]);
}

/* An ignored signal would otherwise survive the exec. */
static void test_signals_reset(void **state)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	struct proc_result res;

	sigaction(SIGTERM, &ign, &old);
	run_sh("kill -TERM $$; echo survived", NULL, &res);
	sigaction(SIGTERM, &old, NULL);
	assert_int_equal(res.exit_status, -1);
	assert_int_equal(res.term_signal, SIGTERM);
	proc_result_free(&res);
}

/* ---- finding the program ------------------------------------------------ */

static char *make_script(const char *dir, const char *name, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("#!/bin/sh\necho \"found $1\"\n", f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_path_lookup(void **state)
{
	char dir[] = "/tmp/heronfs-proc-XXXXXX";
	char *old = xstrdup(getenv("PATH")), *path, *plain, *script;
	char *const argv[] = {S("heronfs-test-hello"), S("it"), NULL};
	struct proc_result res;
	struct hf_error err = {0};

	assert_non_null(mkdtemp(dir));
	/* A non-executable file of the same name earlier on PATH is
	 * skipped, as execvp skips it. */
	plain = xasprintf("%s/first", dir);
	assert_int_equal(mkdir(plain, 0700), 0);
	free(make_script(plain, "heronfs-test-hello", 0644));
	script = make_script(dir, "heronfs-test-hello", 0755);
	path = xasprintf("%s:%s:%s", plain, dir, old);
	setenv("PATH", path, 1);
	assert_int_equal(proc_run(argv, NULL, 10000, &res, &err), HF_OK);
	setenv("PATH", old, 1);
	assert_int_equal(res.exit_status, 0);
	assert_output(&res, "found it\n");
	proc_result_free(&res);

	unlink(script);
	free(script);
	script = xasprintf("%s/heronfs-test-hello", plain);
	unlink(script);
	rmdir(plain);
	rmdir(dir);
	free(script);
	free(plain);
	free(path);
	free(old);
}

static void test_not_found(void **state)
{
	char *const missing[] = {S("heronfs-no-such-command"), NULL};
	char *const absent[] = {S("/nonexistent/heronfs-cmd"), NULL};
	char dir[] = "/tmp/heronfs-proc-XXXXXX";
	char *script;
	struct proc_result res;
	struct hf_error err = {0};

	assert_int_equal(proc_run(missing, NULL, 1000, &res, &err),
			 HF_ERR_UNAVAILABLE);
	assert_string_equal(err.msg, "heronfs-no-such-command: "
				     "command not found on PATH");
	assert_int_equal(res.exit_status, -1);
	proc_result_free(&res);

	assert_int_equal(proc_run(absent, NULL, 1000, &res, &err),
			 HF_ERR_UNAVAILABLE);
	assert_string_equal(err.msg, "cannot run /nonexistent/heronfs-cmd: "
				     "No such file or directory");
	proc_result_free(&res);

	assert_non_null(mkdtemp(dir));
	script = make_script(dir, "not-executable", 0644);
	{
		char *const argv[] = {script, NULL};

		assert_int_equal(proc_run(argv, NULL, 1000, &res, &err),
				 HF_ERR_UNAVAILABLE);
	}
	assert_non_null(strstr(err.msg, "Permission denied"));
	proc_result_free(&res);
	unlink(script);
	rmdir(dir);
	free(script);
}

/* ---- time limits -------------------------------------------------------- */

/* SIGTERM goes to the whole group: the shell and its background child. */
static void test_timeout_kills_group(void **state)
{
	struct proc_result res;
	struct hf_error err = {0};
	long long t0 = now_ms(), ms;
	pid_t sleeper;

	assert_int_equal(proc_run(SH("sleep 100 & echo $!; wait"), NULL, 300,
				  &res, &err),
			 HF_ERR_TIMEOUT);
	ms = now_ms() - t0;
	assert_true(ms >= 300 && ms < 2000);
	assert_true(res.timed_out);
	assert_int_equal(res.exit_status, -1);
	assert_int_equal(res.term_signal, SIGTERM);
	assert_string_equal(err.msg, "/bin/sh timed out after 300 ms");
	sleeper = first_line_pid(&res);
	assert_true(sleeper > 0);
	assert_true(process_gone(sleeper));
	proc_result_free(&res);
}

/* Members that ignore SIGTERM get SIGKILL two seconds later. */
static void test_timeout_then_sigkill(void **state)
{
	struct proc_result res;
	long long t0 = now_ms(), ms;
	pid_t sleeper;

	assert_int_equal(proc_run(SH("trap '' TERM; sleep 100 & echo $!; wait"),
				  NULL, 200, &res, NULL),
			 HF_ERR_TIMEOUT);
	ms = now_ms() - t0;
	assert_true(ms >= 2200 && ms < 4000);
	assert_int_equal(res.term_signal, SIGKILL);
	sleeper = first_line_pid(&res);
	assert_true(sleeper > 0);
	assert_true(process_gone(sleeper));
	proc_result_free(&res);
}

/* A command that never stops writing still stops at its deadline. */
static void test_timeout_chatty(void **state)
{
	char *const argv[] = {S("yes"), S("heronfs"), NULL};
	struct proc_result res;
	long long t0 = now_ms(), ms;

	assert_int_equal(proc_run(argv, NULL, 300, &res, NULL),
			 HF_ERR_TIMEOUT);
	ms = now_ms() - t0;
	assert_true(ms >= 300 && ms < 2000);
	assert_int_equal(res.output.len, PROC_OUTPUT_MAX);
	assert_string_equal(proc_last_line(&res), "heronfs");
	proc_result_free(&res);
}

/* The result is in when the command exits, even while something it left
 * in the background still holds the output pipe. */
static void test_background_child_left_alone(void **state)
{
	struct proc_result res;
	long long t0 = now_ms();
	pid_t sleeper;

	run_sh("sleep 30 & echo $!", NULL, &res);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(res.exit_status, 0);
	sleeper = first_line_pid(&res);
	assert_int_equal(kill(sleeper, 0), 0);   /* not killed by proc */
	kill(sleeper, SIGKILL);
	assert_true(process_gone(sleeper));
	proc_result_free(&res);
}

static void test_no_timeout(void **state)
{
	struct proc_result res;
	struct hf_error err = {0};

	assert_int_equal(proc_run(SH("sleep 0.2; echo slept"), NULL, 0, &res,
				  &err),
			 HF_OK);
	assert_output(&res, "slept\n");
	proc_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_output_order),
		cmocka_unit_test(test_output_bound),
		cmocka_unit_test(test_last_line),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_stdin_is_devnull),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_signals_reset),
		cmocka_unit_test(test_path_lookup),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_timeout_then_sigkill),
		cmocka_unit_test(test_timeout_chatty),
		cmocka_unit_test(test_background_child_left_alone),
		cmocka_unit_test(test_no_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
