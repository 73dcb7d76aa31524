/* packing: Heron's RoundRobinPacking as in Heron's last sources
 * (incubator-heron HEAD: RoundRobinPacking.java, TopologyUtils,
 * ByteAmount, CPUShare), reproduced step by step so that every number, and
 * the order in which components are dealt, is the one Heron computes.
 *
 * Outline: components are dealt round-robin over containers 1..N, largest
 * requested RAM first; each container then shares a RAM and a CPU budget
 * among its instances (explicit rammap/cpumap values first, the rest split
 * evenly); containers get their instances' sum plus padding, capped by the
 * topology's container hints. Arithmetic follows Java: RAM is a long with
 * overflow checks and rounded division, CPU a double summed in the same
 * order as Heron sums it. */
#include "packing.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "heron_conf.h"

#define MIB (1024LL * 1024)
#define GIB (1024LL * MIB)

/* Heron's constants (RoundRobinPacking, spi Key defaults). */
#define DAEMON_RAM_PADDING GIB      /* each of stmgr, metricsmgr, ckptmgr */
#define DISK_PADDING (12 * GIB)
#define CPU_PADDING 1.0
#define MIN_INSTANCE_RAM (16 * MIB)
#define NOT_SPECIFIED (-1)          /* Heron's value for an unset hint */
#define DEFAULT_INSTANCE_RAM GIB
#define DEFAULT_INSTANCE_CPU 1.0
#define DEFAULT_INSTANCE_DISK GIB

/* Heron itself has no bound, but a plan this large could never be stored
 * (ZooKeeper nodes hold 1 MB by default, ~40 bytes an instance), and the
 * bound keeps a hostile .defn from making us allocate gigabytes. */
#define MAX_INSTANCES 100000

/* ---- Java number parsing and formatting -------------------------------- */

/* String.trim(): strips every char <= ' ' at both ends. */
static char *java_trim(const char *s)
{
	size_t len;

	while (*s && (unsigned char)*s <= ' ')
		s++;
	len = strlen(s);
	while (len && (unsigned char)s[len - 1] <= ' ')
		len--;
	return xstrndup(s, len);
}

/* Long.parseLong: an optional sign and decimal digits, nothing else. */
static bool java_parse_long(const char *s, long long min, long long max,
			    long long *out)
{
	bool neg = (*s == '-');
	unsigned long long v = 0, limit;

	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	limit = neg ? (unsigned long long)-(min + 1) + 1
		    : (unsigned long long)max;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (limit - (unsigned)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

/* Double.parseDouble for decimal input: trimmed, an optional f/d suffix.
 * Non-finite values are refused (Heron would carry them into nonsense
 * sizes); hexadecimal floats are refused as no topology writes them. */
static bool java_parse_double(const char *s, double *out)
{
	char *t = java_trim(s), *end;
	size_t len = strlen(t);
	bool ok;

	if (len && strchr("fFdD", t[len - 1]))
		t[--len] = '\0';
	ok = len && strspn(t, "0123456789+-.eE") == len;
	if (ok) {
		*out = strtod(t, &end);
		ok = *end == '\0' && isfinite(*out);
	}
	free(t);
	return ok;
}

/* Math.round(double): nearest, ties towards positive infinity, saturating. */
static long long java_round(double x)
{
	double f = floor(x), r;

	if (isnan(x))
		return 0;
	r = (x - f >= 0.5) ? f + 1 : f;
	if (r >= 0x1p63)
		return LLONG_MAX;
	if (r < -0x1p63)
		return LLONG_MIN;
	return (long long)r;
}

/* The shortest correctly rounded decimal digits that read back as v
 * (finite, not zero), without trailing zeros; *exp is the power of ten of
 * the first digit. Returns the number of digits. */
static int shortest_digits(double v, char digits[static 18], int *exp)
{
	char sci[40];
	int nd = 0;

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec - 1, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	/* sci is "-d.ddde+XX". */
	for (const char *p = sci; *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	*exp = atoi(strchr(sci, 'e') + 1);
	return nd;
}

void java_double_string(double v, char *out, size_t size)
{
	char digits[18];
	struct buf b = {0};
	int exp, nd;

	if (isnan(v) || isinf(v) || v == 0) {
		snprintf(out, size, "%s", isnan(v) ? "NaN" : isinf(v) ?
			 (v > 0 ? "Infinity" : "-Infinity") :
			 (signbit(v) ? "-0.0" : "0.0"));
		return;
	}
	nd = shortest_digits(v, digits, &exp);
	if (v < 0)
		buf_puts(&b, "-");
	if (fabs(v) < 1e-3 || fabs(v) >= 1e7) {
		/* Computerized scientific notation: d.dddE[-]n. */
		buf_printf(&b, "%c.%sE%d", digits[0], nd > 1 ? digits + 1 : "0",
			   exp);
	} else if (exp < 0) {
		buf_puts(&b, "0.");
		for (int i = -1; i > exp; i--)
			buf_puts(&b, "0");
		buf_puts(&b, digits);
	} else {
		/* At least one digit on each side of the point. */
		for (int i = 0; i <= exp; i++)
			buf_append(&b, i < nd ? &digits[i] : "0", 1);
		buf_puts(&b, ".");
		buf_puts(&b, nd > exp + 1 ? digits + exp + 1 : "0");
	}
	snprintf(out, size, "%s", b.data);
	buf_free(&b);
}

/* ---- Java's HashMap iteration order ------------------------------------ */

/* Decodes one UTF-8 sequence at p into *cp; its length, or 0 if it is not
 * valid (overlong, a surrogate, past U+10FFFF, cut short). */
static int utf8_next(const unsigned char *p, uint32_t *cp)
{
	static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
	int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
		(*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;

	if (!n)
		return 0;
	*cp = n == 1 ? *p : *p & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if (*cp < min_cp[n] || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/* String.hashCode() of a UTF-8 string, computed over its UTF-16 form as
 * Java sees it. Returns false (the hash then covers the raw bytes) when s
 * is not valid UTF-8. */
static bool java_string_hash(const char *s, uint32_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t h = 0, cp;
	int n;

	for (; *p; p += n) {
		if (!(n = utf8_next(p, &cp))) {
			for (h = 0, p = (const unsigned char *)s; *p; p++)
				h = 31 * h + *p;
			*out = h;
			return false;
		}
		if (cp >= 0x10000) {    /* a surrogate pair */
			h = 31 * h + (0xd800 + ((cp - 0x10000) >> 10));
			cp = 0xdc00 + ((cp - 0x10000) & 0x3ff);
		}
		h = 31 * h + cp;
	}
	*out = h;
	return true;
}

struct slot {
	size_t bin;
	size_t idx;
};

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->bin != y->bin)
		return x->bin < y->bin ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* HashMap.hash(): the high half folded into the low half. */
static size_t java_bin(uint32_t h, size_t cap)
{
	return (h ^ (h >> 16)) & (cap - 1);
}

/* Doubles the table of java_hashmap_order, recounting the first n keys. */
static size_t table_grow(const uint32_t *h, size_t n, size_t cap,
			 size_t **count)
{
	cap *= 2;
	*count = xrealloc(*count, cap * sizeof(**count));
	memset(*count, 0, cap * sizeof(**count));
	for (size_t i = 0; i < n; i++)
		(*count)[java_bin(h[i], cap)]++;
	return cap;
}

/* The order in which a java.util.HashMap iterates the distinct keys with
 * hashes h, put in index order: by bin, then by insertion within a bin.
 * The table size is replayed: 16 slots, doubled when the size passes 3/4
 * of it, and doubled early while under 64 slots whenever a bin reaches 9
 * keys. (A bin Java turns into a tree, 9+ colliding keys in a table of 64
 * or more, iterates differently; we keep insertion order there.) */
static void java_hashmap_order(const uint32_t *h, size_t n, size_t *order)
{
	size_t cap = 16, *count = xcalloc(cap, sizeof(*count));
	struct slot *s = xcalloc(n, sizeof(*s));

	for (size_t i = 0; i < n; i++) {
		/* treeifyBin resizes instead while the table is small. */
		if (count[java_bin(h[i], cap)]++ >= 8 && cap < 64)
			cap = table_grow(h, i + 1, cap, &count);
		if (i + 1 > cap / 4 * 3)
			cap = table_grow(h, i + 1, cap, &count);
	}
	for (size_t i = 0; i < n; i++)
		s[i] = (struct slot){java_bin(h[i], cap), i};
	qsort(s, n, sizeof(*s), slot_cmp);
	for (size_t i = 0; i < n; i++)
		order[i] = s[i].idx;
	free(s);
	free(count);
}

/* ---- Heron's resource measures ----------------------------------------- */

/* ByteAmount (a long) or CPUShare (a double): one algorithm serves both,
 * as Heron's generic calculateInstancesResourceMapInContainer does. */
enum res_kind { RES_RAM, RES_CPU };

union amount {
	long long bytes;
	double cpu;
};

static const char *res_word(enum res_kind k)
{
	return k == RES_RAM ? "RAM" : "CPU";
}

static void amount_str(enum res_kind k, union amount a, char *out, size_t sz)
{
	if (k == RES_RAM)
		snprintf(out, sz, "%lld bytes", a.bytes);
	else
		java_double_string(a.cpu, out, sz);
}

static int amount_cmp(enum res_kind k, union amount a, union amount b)
{
	if (k == RES_RAM)
		return (a.bytes > b.bytes) - (a.bytes < b.bytes);
	return (a.cpu > b.cpu) - (a.cpu < b.cpu);
}

/* a + sign*b; false where ByteAmount would throw (past a long). */
static bool amount_add(enum res_kind k, union amount a, union amount b,
		       int sign, union amount *r)
{
	if (k == RES_CPU) {
		r->cpu = a.cpu + sign * b.cpu;
		return true;
	}
	if (sign > 0)
		return !__builtin_add_overflow(a.bytes, b.bytes, &r->bytes);
	return !__builtin_sub_overflow(a.bytes, b.bytes, &r->bytes);
}

/* divide(int): ByteAmount rounds the quotient of doubles, CPU divides. */
static union amount amount_div(enum res_kind k, union amount a, size_t n)
{
	union amount r;

	if (k == RES_RAM)
		r.bytes = java_round((double)a.bytes / (double)n);
	else
		r.cpu = a.cpu / (double)n;
	return r;
}

static bool amount_unset(enum res_kind k, union amount a)
{
	return k == RES_RAM ? a.bytes == NOT_SPECIFIED : a.cpu == NOT_SPECIFIED;
}

/* ---- the packer --------------------------------------------------------- */

struct comp {
	const char *name;
	int parallelism;
	bool has_ram, has_cpu;          /* named in rammap / cpumap */
	union amount ram, cpu;
};

struct inst {
	size_t comp;
	int component_index;
	union amount ram, cpu;
};

/* Round-robin dealing puts instance j (0-based) in container j % N + 1. */
#define FOR_CONTAINER(p, id, j) \
	for (size_t j = (size_t)(id) - 1; j < (p)->ninst; \
	     j += (size_t)(p)->containers)

struct packer {
	const Heron__Proto__Api__Config *tc;   /* topology config, or NULL */
	struct comp *comps;
	size_t ncomps;
	size_t *by_name;                /* comps indexes sorted by name */
	struct inst *inst;              /* dealing order: task id = index + 1 */
	size_t ninst;
	int containers;
	size_t largest;                 /* instances in the largest container */
	long long inst_ram, inst_disk;
	double inst_cpu;
	long long ram_padding;
	union amount hint_ram, hint_cpu; /* topology.container.{ram,cpu} */
	long long hint_disk;
};

const char *topo_config_get(const Heron__Proto__Api__Config *c,
			    const char *key)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_kvs; i++)
		if (strcmp(c->kvs[i]->key, key) == 0)
			/* Java's getValue() of an unset value is "". */
			return c->kvs[i]->value ? c->kvs[i]->value : "";
	return NULL;
}

/* getConfigWithDefault for a ByteAmount/long key. */
static hf_rc cfg_long(const struct packer *p, const char *key, long long def,
		      long long *out, struct hf_error *err)
{
	const char *v = topo_config_get(p->tc, key);

	if (!v) {
		*out = def;
		return HF_OK;
	}
	if (!java_parse_long(v, LLONG_MIN, LLONG_MAX, out))
		return hf_fail(err, HF_ERR_INVALID,
			       "topology config %s='%s' is not a whole number",
			       key, v);
	return HF_OK;
}

static hf_rc cfg_double(const struct packer *p, const char *key, double def,
			double *out, struct hf_error *err)
{
	const char *v = topo_config_get(p->tc, key);

	if (!v) {
		*out = def;
		return HF_OK;
	}
	if (!java_parse_double(v, out))
		return hf_fail(err, HF_ERR_INVALID,
			       "topology config %s='%s' is not a number",
			       key, v);
	return HF_OK;
}

/* Integer.parseInt(value.trim()) for topology.stmgrs and parallelism. */
static bool parse_count(const char *v, int *out)
{
	char *t = java_trim(v);
	long long n;
	bool ok = java_parse_long(t, INT_MIN, INT_MAX, &n);

	free(t);
	*out = (int)n;
	return ok;
}

/* The container RAM padding: topology.container.ram.padding, else what
 * the stmgr, metrics manager and (EFFECTIVELY_ONCE only) checkpoint
 * manager request. */
static hf_rc read_ram_padding(struct packer *p, struct hf_error *err)
{
	const char *mode = topo_config_get(p->tc, "topology.reliability.mode");
	bool stateful = mode && strcmp(mode, "EFFECTIVELY_ONCE") == 0;
	long long stmgr, metricsmgr, ckptmgr, sum;
	hf_rc rc;

	if ((rc = cfg_long(p, "topology.stmgr.ram", DAEMON_RAM_PADDING,
			   &stmgr, err)) ||
	    (rc = cfg_long(p, "topology.metricsmgr.ram", DAEMON_RAM_PADDING,
			   &metricsmgr, err)) ||
	    (rc = cfg_long(p, "topology.stateful.checkpointmanager.ram",
			   stateful ? DAEMON_RAM_PADDING : 0, &ckptmgr, err)))
		return rc;
	if (__builtin_add_overflow(stmgr, metricsmgr, &sum) ||
	    __builtin_add_overflow(sum, ckptmgr, &sum))
		return hf_fail(err, HF_ERR_INVALID,
			       "the stmgr, metricsmgr and checkpoint manager "
			       "RAM add up to more than a 64-bit byte count");
	return cfg_long(p, "topology.container.ram.padding", sum,
			&p->ram_padding, err);
}

static hf_rc read_hints(struct packer *p, struct hf_error *err)
{
	hf_rc rc;

	if ((rc = cfg_double(p, "topology.container.cpu", NOT_SPECIFIED,
			     &p->hint_cpu.cpu, err)) ||
	    (rc = cfg_long(p, "topology.container.ram", NOT_SPECIFIED,
			   &p->hint_ram.bytes, err)))
		return rc;
	return cfg_long(p, "topology.container.disk", NOT_SPECIFIED,
			&p->hint_disk, err);
}

static hf_rc read_containers(struct packer *p, struct hf_error *err)
{
	const char *v = topo_config_get(p->tc, "topology.stmgrs");

	if (!v)
		v = "1";
	if (!parse_count(v, &p->containers))
		return hf_fail(err, HF_ERR_INVALID,
			       "topology config topology.stmgrs='%s' is not a "
			       "whole number", v);
	if (p->containers < 1)
		return hf_fail(err, HF_ERR_INVALID,
			       "topology.stmgrs is %d: a topology needs at "
			       "least one container", p->containers);
	return HF_OK;
}

static const Heron__Proto__Api__Component *
component_at(const Heron__Proto__Api__Topology *t, size_t i)
{
	return i < t->n_spouts ? t->spouts[i]->comp
			       : t->bolts[i - t->n_spouts]->comp;
}

static int by_name_cmp(const void *a, const void *b, void *arg)
{
	const struct comp *c = arg;

	return strcmp(c[*(const size_t *)a].name, c[*(const size_t *)b].name);
}

/* Index of the component called name, or -1. */
static long find_comp(const struct packer *p, const char *name)
{
	size_t lo = 0, hi = p->ncomps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, p->comps[p->by_name[mid]].name);

		if (c == 0)
			return (long)p->by_name[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static hf_rc read_parallelism(struct comp *c,
			      const Heron__Proto__Api__Component *pc,
			      struct hf_error *err)
{
	const char *v = topo_config_get(pc->config,
					"topology.component.parallelism");

	if (!v)
		return hf_fail(err, HF_ERR_INVALID,
			       "component '%s' has no "
			       "topology.component.parallelism", c->name);
	if (!parse_count(v, &c->parallelism))
		return hf_fail(err, HF_ERR_INVALID,
			       "component '%s': parallelism '%s' is not a "
			       "whole number", c->name, v);
	/* Heron's topology builders refuse these; a .defn made by hand could
	 * still carry one, and a component without instances cannot run. */
	if (c->parallelism < 1)
		return hf_fail(err, HF_ERR_INVALID,
			       "component '%s': parallelism is %d, it must be "
			       "at least 1", c->name, c->parallelism);
	return HF_OK;
}

/* The components with their parallelism, and a name index for lookups. */
static hf_rc read_components(struct packer *p,
			     const Heron__Proto__Api__Topology *t,
			     struct hf_error *err)
{
	hf_rc rc;

	p->ncomps = t->n_spouts + t->n_bolts;
	if (!p->ncomps)
		return hf_fail(err, HF_ERR_INVALID,
			       "the topology has no spouts and no bolts");
	p->comps = xcalloc(p->ncomps, sizeof(*p->comps));
	p->by_name = xcalloc(p->ncomps, sizeof(*p->by_name));
	for (size_t i = 0; i < p->ncomps; i++) {
		uint32_t h;

		p->comps[i].name = component_at(t, i)->name;
		p->by_name[i] = i;
		/* Heron orders components by their Java hash; for a name that
		 * is not UTF-8 we cannot tell what Java would make of it. */
		if (!java_string_hash(p->comps[i].name, &h))
			return hf_fail(err, HF_ERR_INVALID,
				       "a component name is not valid UTF-8");
		if ((rc = read_parallelism(&p->comps[i], component_at(t, i),
					   err)))
			return rc;
	}
	qsort_r(p->by_name, p->ncomps, sizeof(*p->by_name), by_name_cmp,
		p->comps);
	/* Heron would silently merge two components of one name. */
	for (size_t i = 1; i < p->ncomps; i++)
		if (!strcmp(p->comps[p->by_name[i]].name,
			    p->comps[p->by_name[i - 1]].name))
			return hf_fail(err, HF_ERR_INVALID,
				       "two components are named '%s'",
				       p->comps[p->by_name[i]].name);
	return HF_OK;
}

/* Splits "component:value" as Java's token.split(":") does, which drops
 * trailing empty pieces: true if exactly two pieces remain. s is cut in
 * place. */
static bool split_pair(char *s, char **name, char **value)
{
	size_t n = 0, kept = 0;
	char *piece[2] = {NULL, NULL};

	for (char *q = s, *next; q; q = next, n++) {
		next = strchr(q, ':');
		if (next)
			*next++ = '\0';
		if (n < 2)
			piece[n] = q;
		if (*q)
			kept = n + 1;
	}
	*name = piece[0];
	*value = piece[1];
	return kept == 2;
}

static hf_rc set_comp_value(struct packer *p, const char *key,
			    enum res_kind kind, char *name, const char *value,
			    struct hf_error *err)
{
	long i = find_comp(p, name);
	struct comp *c;

	if (i < 0)
		return hf_fail(err, HF_ERR_INVALID,
			       "%s names '%s', which is not a component of the "
			       "topology", key, name);
	c = &p->comps[i];
	if (kind == RES_RAM) {
		c->has_ram = java_parse_long(value, LLONG_MIN, LLONG_MAX,
					     &c->ram.bytes);
		if (!c->has_ram)
			return hf_fail(err, HF_ERR_INVALID,
				       "%s: '%s' for component '%s' is not a "
				       "whole number of bytes", key, value,
				       name);
	} else {
		c->has_cpu = java_parse_double(value, &c->cpu.cpu);
		if (!c->has_cpu)
			return hf_fail(err, HF_ERR_INVALID,
				       "%s: '%s' for component '%s' is not a "
				       "number", key, value, name);
	}
	return HF_OK;
}

static bool blank(const char *s)
{
	while (*s && (unsigned char)*s <= ' ')
		s++;
	return !*s;
}

/* topology.component.{rammap,cpumap}: "comp:value,comp:value"; blank
 * entries are skipped and a later entry for a component wins. */
static hf_rc read_comp_map(struct packer *p, const char *key,
			   enum res_kind kind, struct hf_error *err)
{
	const char *v = topo_config_get(p->tc, key);
	char *copy, *name, *value;
	hf_rc rc = HF_OK;

	if (!v)
		return HF_OK;
	copy = xstrdup(v);
	for (char *tok = copy, *next; tok && !rc; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		if (blank(tok))
			continue;
		char *orig = xstrdup(tok);
		if (!split_pair(tok, &name, &value))
			rc = hf_fail(err, HF_ERR_INVALID,
				     "%s: malformed entry '%s' (expected "
				     "component:value)", key, orig);
		else
			rc = set_comp_value(p, key, kind, name, value, err);
		free(orig);
	}
	free(copy);
	return rc;
}

struct ram_rank {
	long long ram;
	size_t pos;                     /* position in HashMap order */
	size_t comp;
};

static int ram_rank_cmp(const void *a, const void *b)
{
	const struct ram_rank *x = a, *y = b;

	if (x->ram != y->ram)
		return x->ram > y->ram ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Heron deals components in the order of a stable sort by requested RAM,
 * descending, of the keys of a HashMap filled spouts first then bolts. */
static size_t *dealing_order(const struct packer *p)
{
	uint32_t *h = xcalloc(p->ncomps, sizeof(*h));
	size_t *order = xcalloc(p->ncomps, sizeof(*order));
	struct ram_rank *r = xcalloc(p->ncomps, sizeof(*r));

	for (size_t i = 0; i < p->ncomps; i++)
		java_string_hash(p->comps[i].name, &h[i]);
	java_hashmap_order(h, p->ncomps, order);
	for (size_t i = 0; i < p->ncomps; i++) {
		const struct comp *c = &p->comps[order[i]];

		r[i] = (struct ram_rank){c->has_ram ? c->ram.bytes : 0, i,
					 order[i]};
	}
	qsort(r, p->ncomps, sizeof(*r), ram_rank_cmp);
	for (size_t i = 0; i < p->ncomps; i++)
		order[i] = r[i].comp;
	free(r);
	free(h);
	return order;
}

static hf_rc deal(struct packer *p, struct hf_error *err)
{
	long long total = 0;
	size_t *order, k = 0;

	for (size_t i = 0; i < p->ncomps; i++)
		total += p->comps[i].parallelism;
	if (total > MAX_INSTANCES)
		return hf_fail(err, HF_ERR_INVALID,
			       "the topology has %lld instances; heronfs "
			       "handles at most %d", total, MAX_INSTANCES);
	if (p->containers > total)
		return hf_fail(err, HF_ERR_INVALID,
			       "topology.stmgrs is %d but the topology has "
			       "only %lld instances: more containers than "
			       "instances",
			       p->containers, total);
	p->ninst = (size_t)total;
	p->largest = (p->ninst + (size_t)p->containers - 1) /
		     (size_t)p->containers;
	p->inst = xcalloc(p->ninst, sizeof(*p->inst));
	order = dealing_order(p);
	for (size_t i = 0; i < p->ncomps; i++)
		for (int j = 0; j < p->comps[order[i]].parallelism; j++)
			p->inst[k++] = (struct inst){.comp = order[i],
						     .component_index = j};
	free(order);
	return HF_OK;
}

/* What one resource needs to share a container among its instances. */
struct share_spec {
	enum res_kind kind;
	const char *map_key;            /* for messages */
	const char *hint_key;
	union amount hint;              /* the container hint, or unset */
	union amount container_default; /* the budget without a hint */
	union amount instance_default;
	union amount padding;
};

static union amount *inst_amount(struct inst *in, enum res_kind k)
{
	return k == RES_RAM ? &in->ram : &in->cpu;
}

static bool comp_has(const struct comp *c, enum res_kind k)
{
	return k == RES_RAM ? c->has_ram : c->has_cpu;
}

static hf_rc share_overflow(const struct share_spec *s, int id,
			    struct hf_error *err)
{
	return hf_fail(err, HF_ERR_INVALID,
		       "container %d: the %s sizes add up to more than a "
		       "64-bit byte count", id, res_word(s->kind));
}

/* Sums the explicit values of container id's instances; true if the hint
 * leaves no room for the padding (Heron then lets instances use it). */
static hf_rc share_explicit(const struct share_spec *s, struct packer *p,
			    int id, union amount *used, size_t *unset,
			    bool *throttled, struct hf_error *err)
{
	union amount v, room;
	char a[40], b[40];

	memset(used, 0, sizeof(*used));
	*unset = 0;
	*throttled = false;
	FOR_CONTAINER(p, id, j) {
		const struct comp *c = &p->comps[p->inst[j].comp];

		if (!comp_has(c, s->kind)) {
			(*unset)++;
			continue;
		}
		v = s->kind == RES_RAM ? c->ram : c->cpu;
		*inst_amount(&p->inst[j], s->kind) = v;
		if (!amount_add(s->kind, *used, v, 1, used))
			return share_overflow(s, id, err);
	}
	if (amount_unset(s->kind, s->hint))
		return HF_OK;
	if (!amount_add(s->kind, s->hint, s->padding, -1, &room))
		return share_overflow(s, id, err);
	if (amount_cmp(s->kind, *used, room) <= 0)
		return HF_OK;
	if (amount_cmp(s->kind, *used, s->hint) > 0) {
		amount_str(s->kind, *used, a, sizeof(a));
		amount_str(s->kind, s->hint, b, sizeof(b));
		return hf_fail(err, HF_ERR_INVALID,
			       "container %d: %s gives its instances %s of %s, "
			       "more than %s (%s)", id, s->map_key, a,
			       res_word(s->kind), s->hint_key, b);
	}
	*throttled = true;
	return HF_OK;
}

/* Heron's calculateInstancesResourceMapInContainer for one container:
 * instances named in the map get their value; the others split what is
 * left of the container budget after padding (unless the explicit values
 * already ate into the padding) and the explicit values. */
static hf_rc share_container(const struct share_spec *s, struct packer *p,
			     int id, struct hf_error *err)
{
	union amount used, left, each, zero = {0};
	size_t unset;
	bool throttled;
	hf_rc rc;

	if ((rc = share_explicit(s, p, id, &used, &unset, &throttled, err)))
		return rc;
	if (!unset)
		return HF_OK;
	left = amount_unset(s->kind, s->hint) ? s->container_default : s->hint;
	if ((!throttled &&
	     !amount_add(s->kind, left, s->padding, -1, &left)) ||
	    !amount_add(s->kind, left, used, -1, &left))
		return share_overflow(s, id, err);
	if (amount_cmp(s->kind, left, zero) <= 0)
		return hf_fail(err, HF_ERR_INVALID,
			       "container %d: no %s left for the instances "
			       "that %s does not size", id, res_word(s->kind),
			       s->map_key);
	each = amount_div(s->kind, left, unset);
	FOR_CONTAINER(p, id, j)
		if (!comp_has(&p->comps[p->inst[j].comp], s->kind))
			*inst_amount(&p->inst[j], s->kind) = each;
	return HF_OK;
}

static hf_rc share_all(const struct share_spec *s, struct packer *p,
		       struct hf_error *err)
{
	hf_rc rc = HF_OK;

	for (int id = 1; id <= p->containers && !rc; id++)
		rc = share_container(s, p, id, err);
	return rc;
}

static hf_rc share_resources(struct packer *p, struct hf_error *err)
{
	struct share_spec ram = {
		.kind = RES_RAM, .map_key = "topology.component.rammap",
		.hint_key = "topology.container.ram",
		.hint = p->hint_ram,
		.instance_default.bytes = p->inst_ram,
		.padding.bytes = p->ram_padding,
	};
	struct share_spec cpu = {
		.kind = RES_CPU, .map_key = "topology.component.cpumap",
		.hint_key = "topology.container.cpu",
		.hint = p->hint_cpu,
		.instance_default.cpu = p->inst_cpu,
		.padding.cpu = CPU_PADDING,
	};
	long long base;
	hf_rc rc;

	if (__builtin_mul_overflow(p->inst_ram, (long long)p->largest, &base) ||
	    __builtin_add_overflow(base, p->ram_padding,
				   &ram.container_default.bytes))
		return hf_fail(err, HF_ERR_INVALID,
			       "the default container RAM overflows a 64-bit "
			       "byte count");
	/* Heron rounds this to a whole number of cores, through a float. */
	cpu.container_default.cpu = (double)(float)java_round(
		p->inst_cpu * (double)p->largest + CPU_PADDING);
	if ((rc = share_all(&ram, p, err)))
		return rc;
	return share_all(&cpu, p, err);
}

/* ---- the plan ----------------------------------------------------------- */

static Heron__Proto__System__Resource *resource_new(double cpu, long long ram,
						    long long disk)
{
	Heron__Proto__System__Resource *r = xmalloc(sizeof(*r));

	heron__proto__system__resource__init(r);
	r->cpu = cpu;
	r->ram = ram;
	r->disk = disk;
	return r;
}

static hf_rc check_instance_ram(const struct packer *p, const struct inst *in,
				struct hf_error *err)
{
	if (in->ram.bytes >= MIN_INSTANCE_RAM)
		return HF_OK;
	return hf_fail(err, HF_ERR_INVALID,
		       "component '%s' would get %lld bytes of RAM per "
		       "instance; Heron needs at least 16 MiB (%lld bytes)",
		       p->comps[in->comp].name, in->ram.bytes,
		       MIN_INSTANCE_RAM);
}

static hf_rc container_disk(const struct packer *p, long long *disk,
			    struct hf_error *err)
{
	if (p->hint_disk != NOT_SPECIFIED) {
		*disk = p->hint_disk;
		return HF_OK;
	}
	if (__builtin_mul_overflow(p->inst_disk, (long long)p->largest, disk) ||
	    __builtin_add_overflow(*disk, DISK_PADDING, disk))
		return hf_fail(err, HF_ERR_INVALID,
			       "the container disk overflows a 64-bit byte "
			       "count");
	return HF_OK;
}

/* Container id's plan: its instances, and their sum plus padding capped
 * by the container hints. */
static hf_rc container_plan(const struct packer *p, int id, long long disk,
			    Heron__Proto__System__ContainerPlan **out,
			    struct hf_error *err)
{
	Heron__Proto__System__ContainerPlan *c = xmalloc(sizeof(*c));
	size_t n = (p->ninst - (size_t)id + (size_t)p->containers) /
		   (size_t)p->containers;
	double cpu = 0;
	long long ram = 0;
	hf_rc rc = HF_OK;

	heron__proto__system__container_plan__init(c);
	c->id = id;
	c->instance_plans = xcalloc(n, sizeof(*c->instance_plans));
	FOR_CONTAINER(p, id, j) {
		const struct inst *in = &p->inst[j];
		Heron__Proto__System__InstancePlan *ip = xmalloc(sizeof(*ip));

		heron__proto__system__instance_plan__init(ip);
		ip->component_name = xstrdup(p->comps[in->comp].name);
		ip->task_id = (int32_t)j + 1;
		ip->component_index = in->component_index;
		ip->resource = resource_new(in->cpu.cpu, in->ram.bytes,
					    p->inst_disk);
		c->instance_plans[c->n_instance_plans++] = ip;
		cpu += in->cpu.cpu;
		if (!rc && __builtin_add_overflow(ram, in->ram.bytes, &ram))
			rc = hf_fail(err, HF_ERR_INVALID, "container %d: the "
				     "RAM overflows a 64-bit byte count", id);
		if (!rc)
			rc = check_instance_ram(p, in, err);
	}
	cpu += CPU_PADDING;
	if (p->hint_cpu.cpu != NOT_SPECIFIED && p->hint_cpu.cpu < cpu)
		cpu = p->hint_cpu.cpu;
	if (!rc && __builtin_add_overflow(ram, p->ram_padding, &ram))
		rc = hf_fail(err, HF_ERR_INVALID, "container %d: the RAM "
			     "overflows a 64-bit byte count", id);
	if (p->hint_ram.bytes != NOT_SPECIFIED && p->hint_ram.bytes < ram)
		ram = p->hint_ram.bytes;
	c->requiredresource = resource_new(cpu > p->hint_cpu.cpu ? cpu :
					   p->hint_cpu.cpu, ram, disk);
	*out = c;
	return rc;
}

static hf_rc build_plan(const struct packer *p, const char *id,
			Heron__Proto__System__PackingPlan **out,
			struct hf_error *err)
{
	Heron__Proto__System__PackingPlan *plan = xmalloc(sizeof(*plan));
	long long disk;
	hf_rc rc;

	heron__proto__system__packing_plan__init(plan);
	plan->id = xstrdup(id);
	plan->container_plans = xcalloc((size_t)p->containers,
					sizeof(*plan->container_plans));
	rc = container_disk(p, &disk, err);
	for (int c = 1; c <= p->containers && !rc; c++) {
		size_t i = plan->n_container_plans++;

		rc = container_plan(p, c, disk, &plan->container_plans[i], err);
	}
	if (rc) {
		heron__proto__system__packing_plan__free_unpacked(plan, NULL);
		return rc;
	}
	*out = plan;
	return HF_OK;
}

static void read_instance_defaults(struct packer *p,
				   const struct heron_conf *conf)
{
	p->inst_ram = DEFAULT_INSTANCE_RAM;
	p->inst_cpu = DEFAULT_INSTANCE_CPU;
	p->inst_disk = DEFAULT_INSTANCE_DISK;
	if (!conf)
		return;
	p->inst_ram = heron_conf_get_int(conf, "heron.resources.instance.ram",
					 p->inst_ram);
	p->inst_cpu = heron_conf_get_double(conf,
					    "heron.resources.instance.cpu",
					    p->inst_cpu);
	p->inst_disk = heron_conf_get_int(conf,
					  "heron.resources.instance.disk",
					  p->inst_disk);
}

/* Everything Heron reads before dealing, in Heron's order. */
static hf_rc packer_init(struct packer *p, const Heron__Proto__Api__Topology *t,
			 const struct heron_conf *conf, struct hf_error *err)
{
	hf_rc rc;

	p->tc = t->topology_config;
	read_instance_defaults(p, conf);
	if ((rc = read_ram_padding(p, err)) ||
	    (rc = read_containers(p, err)) ||
	    (rc = read_components(p, t, err)) ||
	    (rc = read_comp_map(p, "topology.component.rammap", RES_RAM,
				err)) ||
	    (rc = read_comp_map(p, "topology.component.cpumap", RES_CPU,
				err)))
		return rc;
	return read_hints(p, err);
}

static void packer_free(struct packer *p)
{
	free(p->comps);
	free(p->by_name);
	free(p->inst);
}

hf_rc packing_round_robin(const Heron__Proto__Api__Topology *t,
			  const struct heron_conf *conf,
			  Heron__Proto__System__PackingPlan **out,
			  struct hf_error *err)
{
	struct packer p = {0};
	hf_rc rc;

	*out = NULL;
	if (!(rc = packer_init(&p, t, conf, err)) &&
	    !(rc = deal(&p, err)) &&
	    !(rc = share_resources(&p, err)))
		rc = build_plan(&p, t->id, out, err);
	packer_free(&p);
	return rc;
}

/* ---- Aurora sizing ------------------------------------------------------ */

void packing_max_resource(const Heron__Proto__System__PackingPlan *plan,
			  double *cpu, long long *ram, long long *disk)
{
	*cpu = 0;
	*ram = 0;
	*disk = 0;
	for (size_t i = 0; i < plan->n_container_plans; i++) {
		const Heron__Proto__System__ContainerPlan *c =
			plan->container_plans[i];
		const Heron__Proto__System__Resource *r =
			c->scheduledresource ? c->scheduledresource
					     : c->requiredresource;

		if (r->cpu > *cpu)
			*cpu = r->cpu;
		if (r->ram > *ram)
			*ram = r->ram;
		if (r->disk > *disk)
			*disk = r->disk;
	}
}

void packing_set_scheduled(Heron__Proto__System__PackingPlan *plan)
{
	double cpu;
	long long ram, disk;

	packing_max_resource(plan, &cpu, &ram, &disk);
	for (size_t i = 0; i < plan->n_container_plans; i++) {
		Heron__Proto__System__ContainerPlan *c =
			plan->container_plans[i];

		if (c->scheduledresource)
			heron__proto__system__resource__free_unpacked(
				c->scheduledresource, NULL);
		c->scheduledresource = resource_new(cpu, ram, disk);
	}
}

struct ram_entry {
	const char *name;
	long long ram;
	size_t first;                   /* where the name first appears */
};

static int ram_by_name(const void *a, const void *b)
{
	const struct ram_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->first > y->first) - (x->first < y->first);
}

static int ram_by_first(const void *a, const void *b)
{
	const struct ram_entry *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

/* One entry per component with its smallest instance RAM, in the order the
 * components first appear in the plan; returns the count. */
static size_t min_ram_per_component(
	const Heron__Proto__System__PackingPlan *plan, struct ram_entry **out)
{
	struct ram_entry *v = NULL;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < plan->n_container_plans; i++) {
		const Heron__Proto__System__ContainerPlan *c =
			plan->container_plans[i];

		v = xrealloc(v, (n + c->n_instance_plans + 1) * sizeof(*v));
		for (size_t j = 0; j < c->n_instance_plans; j++, n++) {
			const Heron__Proto__System__InstancePlan *ip =
				c->instance_plans[j];

			v[n] = (struct ram_entry){ip->component_name,
						  ip->resource->ram, n};
		}
	}
	qsort(v, n, sizeof(*v), ram_by_name);
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(v[k - 1].name, v[i].name) == 0) {
			if (v[i].ram < v[k - 1].ram)
				v[k - 1].ram = v[i].ram;
			continue;
		}
		v[k++] = v[i];
	}
	qsort(v, k, sizeof(*v), ram_by_first);
	*out = v;
	return k;
}

/* Heron builds this string from a HashMap, so it comes in HashMap order;
 * the instances are put in plan order. */
char *packing_component_ram_map(const Heron__Proto__System__PackingPlan *plan)
{
	struct ram_entry *v;
	size_t n = min_ram_per_component(plan, &v), *order;
	uint32_t *h = xcalloc(n, sizeof(*h));
	struct buf b = {0};

	order = xcalloc(n, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		java_string_hash(v[i].name, &h[i]);
	java_hashmap_order(h, n, order);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s:%lld", i ? "," : "", v[order[i]].name,
			   v[order[i]].ram);
	free(order);
	free(h);
	free(v);
	return buf_steal(&b);
}
