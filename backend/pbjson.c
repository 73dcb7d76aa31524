/* pbjson: protobuf-c messages as JSON, walking the message descriptors.
 *
 * protobuf-c lays a message out as a C struct whose members the field
 * descriptors locate: `offset` is the value (or, for a repeated field, the
 * array pointer) and `quantifier_offset` the has_ flag, the element count or
 * the oneof case. Everything here reads the message through those offsets,
 * so one walker serves every message type. */
#include "pbjson.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *message_value(const ProtobufCMessage *m);

/* jansson fails only when it cannot allocate; heronfs treats that as
 * fatal, as buf.c does. */
static void oom(void)
{
	fputs("heronfs: out of memory\n", stderr);
	abort();
}

static json_t *must(json_t *v)
{
	if (!v)
		oom();
	return v;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if there is none. */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		if (s[0] == 0xE0)
			lo = 0xA0;
		else if (s[0] == 0xED)
			hi = 0x9F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		if (s[0] == 0xF0)
			lo = 0x90;
		else if (s[0] == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* protobuf-c does not check proto2 strings, so stored text may be any
 * bytes. */
static json_t *sanitized_string(const char *s)
{
	static const char replacement[] = "\xEF\xBF\xBD";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	struct buf b = {0};

	while (n > 0) {
		size_t len = utf8_char_len(p, n);

		if (len) {
			buf_append(&b, p, len);
		} else {
			buf_append(&b, replacement, sizeof(replacement) - 1);
			len = 1;
		}
		p += len;
		n -= len;
	}
	json_t *v = must(json_stringn(b.data ? b.data : "", b.len));
	buf_free(&b);
	return v;
}

void *pbjson_string(const char *s)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	return v ? v : sanitized_string(s);
}

static json_t *base64_value(const ProtobufCBinaryData *d)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s = xmalloc(4 * ((d->len + 2) / 3) + 1);
	char *o = s;

	for (size_t i = 0; i < d->len; i += 3) {
		size_t left = d->len - i;
		uint32_t v = (uint32_t)d->data[i] << 16;

		if (left > 1)
			v |= (uint32_t)d->data[i + 1] << 8;
		if (left > 2)
			v |= d->data[i + 2];
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = left > 1 ? abc[v >> 6 & 63] : '=';
		*o++ = left > 2 ? abc[v & 63] : '=';
	}
	*o = '\0';
	json_t *j = must(json_string(s));
	free(s);
	return j;
}

/* JSON has no NaN or infinity; these are the proto3 JSON mapping's words. */
static json_t *real_value(double d)
{
	if (isnan(d))
		return must(json_string("NaN"));
	if (isinf(d))
		return must(json_string(d > 0 ? "Infinity" : "-Infinity"));
	return must(json_real(d));
}

/* json_int_t is signed 64-bit: a larger uint64 can only be a string. */
static json_t *uint64_value(uint64_t v)
{
	char s[24];

	if (v <= INT64_MAX)
		return must(json_integer((json_int_t)v));
	snprintf(s, sizeof(s), "%" PRIu64, v);
	return must(json_string(s));
}

static json_t *enum_value(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

	return ev ? must(json_string(ev->name)) : must(json_integer(v));
}

/* The size of one element of a repeated field (and of a singular member),
 * as protobuf-c lays them out. */
static size_t member_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return sizeof(int32_t);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(int64_t);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* One value of field f stored at p. */
static json_t *field_value(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return must(json_integer(*(const int32_t *)p));
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return must(json_integer(*(const uint32_t *)p));
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return must(json_integer(*(const int64_t *)p));
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return uint64_value(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return real_value(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return real_value(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_value(f->descriptor, *(const int *)p);
	case PROTOBUF_C_TYPE_STRING:
		return pbjson_string(*(char *const *)p);
	case PROTOBUF_C_TYPE_BYTES:
		return base64_value(p);
	case PROTOBUF_C_TYPE_MESSAGE:
		return message_value(*(const ProtobufCMessage *const *)p);
	}
	return json_null();
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Whether singular field f holds a value, by the rules protobuf-c packs
 * by: the oneof case; a non-NULL pointer other than the default for
 * optional strings and messages; the has_ flag for other optionals; a
 * non-zero value for proto3 fields without presence. */
static bool field_present(const ProtobufCFieldDescriptor *f, const char *m)
{
	const void *member = m + f->offset;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(m + f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_STRING ||
	    f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const void *ptr = *(const void *const *)member;

		if (!ptr)
			return false;
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
			return ptr != f->default_value;
		if (f->label == PROTOBUF_C_LABEL_NONE &&
		    f->type == PROTOBUF_C_TYPE_STRING)
			return *(const char *)ptr != '\0';
		return true;
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_OPTIONAL:
		return *(const protobuf_c_boolean *)(m + f->quantifier_offset);
	case PROTOBUF_C_LABEL_NONE:
		if (f->type == PROTOBUF_C_TYPE_BYTES)
			return ((const ProtobufCBinaryData *)member)->len > 0;
		return !all_zero(member, member_size(f->type));
	default:
		return true;
	}
}

static json_t *repeated_value(const ProtobufCFieldDescriptor *f, const char *m)
{
	size_t n = *(const size_t *)(m + f->quantifier_offset);
	const char *elts = *(const char *const *)(m + f->offset);
	size_t size = member_size(f->type);
	json_t *a = must(json_array());

	for (size_t i = 0; elts && i < n; i++)
		json_array_append_new(a, field_value(f, elts + i * size));
	return a;
}

/* Fields in descriptor order, which protobuf-c sorts by field number. */
static json_t *message_value(const ProtobufCMessage *m)
{
	if (!m)
		return json_null();

	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	json_t *o = must(json_object());

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		json_t *v;

		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			v = repeated_value(f, base);
		else if (field_present(f, base))
			v = field_value(f, base + f->offset);
		else
			continue;
		json_object_set_new(o, f->name, v);
	}
	return o;
}

void *pbjson_value(const ProtobufCMessage *msg)
{
	return message_value(msg);
}

/* The fewest significant digits (at most 17) that read back as exactly d. */
static int digits_needed(double d)
{
	char s[40];

	for (int p = 1; p < 17; p++) {
		snprintf(s, sizeof(s), "%.*g", p, d);
		if (strtod(s, NULL) == d)
			return p;
	}
	return 17;
}

/* jansson prints every real with one precision, 17 digits by default, which
 * turns 0.1 into 0.10000000000000001; the largest precision that some real
 * in v needs keeps every value exact and most of them short. */
static int max_digits(json_t *v)
{
	int most = 1;
	const char *key;
	json_t *e;
	size_t i;

	if (json_is_real(v))
		return digits_needed(json_real_value(v));
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			int d = max_digits(e);
			most = d > most ? d : most;
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, e) {
			int d = max_digits(e);
			most = d > most ? d : most;
		}
	}
	return most;
}

static int append_cb(const char *s, size_t n, void *data)
{
	buf_append(data, s, n);
	return 0;
}

void pbjson_dump(const void *json, struct buf *out)
{
	/* jansson's iteration API takes non-const values; nothing is changed. */
	json_t *v = (json_t *)json;
	size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
		       JSON_REAL_PRECISION(max_digits(v));

	if (json_dump_callback(v, append_cb, out, flags) != 0)
		oom();
	buf_puts(out, "\n");
}

void pbjson_render(const ProtobufCMessage *msg, struct buf *out)
{
	json_t *v = pbjson_value(msg);

	pbjson_dump(v, out);
	json_decref(v);
}
