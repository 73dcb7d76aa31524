/* tokens: Heron's ${TOKEN} substitution (TokenSub), see heron_conf.h. */
#include "heron_conf.h"

#include <assert.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

/* Each pass can bring in new tokens (HERON_HOME may itself be
 * "${HOME}/.heron"); a token whose value contains itself grows forever, so
 * the number of passes is bounded. */
#define SUBST_MAX_PASSES 16

struct token {
	const char *name;
	const char *value;      /* NULL: left as written */
};

/* The token table of one conf_substitute call, built once for all passes. */
struct subst_ctx {
	struct token tok[15];   /* 11 named in ctx_init, 4 HERON_* dirs */
	size_t ntok;
	char *owned[5];         /* the 4 HERON_* dirs, the passwd home */
	size_t nowned;
};

static void ctx_add(struct subst_ctx *c, const char *name, const char *value)
{
	assert(c->ntok < sizeof(c->tok) / sizeof(c->tok[0]));
	c->tok[c->ntok].name = name;
	c->tok[c->ntok].value = value;
	c->ntok++;
}

static const char *ctx_own(struct subst_ctx *c, char *s)
{
	assert(c->nowned < sizeof(c->owned) / sizeof(c->owned[0]));
	c->owned[c->nowned++] = s;
	return s;
}

/* The home given, else Java's user.home: $HOME, else the passwd entry. */
static const char *user_home(struct subst_ctx *c, const char *given)
{
	const char *env;
	struct passwd pw, *res = NULL;
	char scratch[4096];

	if (given)
		return given;
	env = getenv("HOME");
	if (env && *env)
		return env;
	if (getpwuid_r(getuid(), &pw, scratch, sizeof(scratch), &res) || !res)
		return NULL;
	return ctx_own(c, xstrdup(res->pw_dir));
}

/* HERON_BIN and friends are <heron_home>/<sub>, as Heron's Key defaults. */
static void add_heron_dirs(struct subst_ctx *c, const char *home)
{
	static const struct { const char *name, *sub; } dirs[] = {
		{ "HERON_BIN", "bin" }, { "HERON_LIB", "lib" },
		{ "HERON_DIST", "dist" }, { "HERON_ETC", "etc" },
	};
	size_t len = home ? strlen(home) : 0;

	while (len > 1 && home[len - 1] == '/')
		len--;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		ctx_add(c, dirs[i].name, home ? ctx_own(c, xasprintf("%.*s/%s",
			(int)len, home, dirs[i].sub)) : NULL);
}

static void ctx_init(struct subst_ctx *c, const struct conf_tokens *t)
{
	static const struct conf_tokens none;

	if (!t)
		t = &none;
	c->ntok = c->nowned = 0;
	ctx_add(c, "HERON_HOME", t->heron_home);
	ctx_add(c, "HERON_CONF", t->heron_conf);
	ctx_add(c, "CLUSTER", t->cluster);
	ctx_add(c, "ROLE", t->role);
	ctx_add(c, "ENVIRON", t->environ);
	ctx_add(c, "TOPOLOGY_NAME", t->topology_name);
	ctx_add(c, "TOPOLOGY", t->topology_name);
	ctx_add(c, "TOPOLOGY_ID", t->topology_id);
	ctx_add(c, "SUBMIT_USER", t->submit_user);
	ctx_add(c, "HOME", user_home(c, t->home));
	ctx_add(c, "JAVA_HOME", getenv("JAVA_HOME"));
	add_heron_dirs(c, t->heron_home);
}

static void ctx_free(struct subst_ctx *c)
{
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
}

static const char *token_value(const struct subst_ctx *c, const char *name,
			       size_t n)
{
	for (size_t i = 0; i < c->ntok; i++)
		if (strlen(c->tok[i].name) == n && !memcmp(c->tok[i].name, name, n))
			return c->tok[i].value;
	return NULL;
}

/* The value for a component of length n, or NULL to keep it as written. */
static const char *component_value(const struct subst_ctx *c, const char *s,
				   size_t n)
{
	if (n == 1 && s[0] == '~')
		return token_value(c, "HOME", 4);
	if (n < 4 || s[0] != '$' || s[1] != '{' || s[n - 1] != '}')
		return NULL;
	return token_value(c, s + 2, n - 3);
}

/* One pass: every '/'-separated component that is exactly a known token
 * is replaced; everything else, separators included, is copied as is. So a
 * "scheme://rest" value keeps its scheme ("scheme:" and "" are components
 * that are never tokens) and has the rest substituted, which is what
 * Heron's separate URL case achieves. */
static char *subst_pass(const struct subst_ctx *c, const char *s)
{
	struct buf out = {0};

	for (;;) {
		size_t n = strcspn(s, "/");
		const char *v = component_value(c, s, n);

		if (v)
			buf_puts(&out, v);
		else
			buf_append(&out, s, n);
		if (!s[n])
			break;
		buf_append(&out, "/", 1);
		s += n + 1;
	}
	return buf_steal(&out);
}

char *conf_substitute(const char *value, const struct conf_tokens *tokens)
{
	struct subst_ctx c;
	char *cur = xstrdup(value);

	/* Most values (class names, numbers) hold nothing to substitute. */
	if (!strstr(value, "${") && !strchr(value, '~'))
		return cur;
	ctx_init(&c, tokens);
	for (int pass = 0; pass < SUBST_MAX_PASSES; pass++) {
		char *next = subst_pass(&c, cur);
		bool stable = strcmp(next, cur) == 0;

		free(cur);
		cur = next;
		if (stable)
			break;
	}
	ctx_free(&c);
	return cur;
}
