/* Inside the codec: the payload table and what its rows are made of.  Not
 * for use outside service/ike/ike-msg*.c, ike-payload*.c and ike-names.c. */
#pragma once

#include <stdarg.h>
#include <string.h>

#include "ike-msg.h"

G_BEGIN_DECLS

/* Where a payload type may appear. */
typedef enum
{
  IKE_WHERE_CLEAR = 1 << 0, /* in the datagram, outside SK */
  IKE_WHERE_INNER = 1 << 1, /* inside SK */
  IKE_WHERE_BOTH = IKE_WHERE_CLEAR | IKE_WHERE_INNER,
} IkeWhere;

/* One payload as found in a buffer whose lengths the chain walk checked. */
typedef struct
{
  const guint8 *hdr; /* generic payload header */
  const guint8 *body;
  gsize body_len;
  gsize offset; /* of hdr in the message or plaintext */
} IkeRaw;

/* What a validator needs to report a fault precisely. */
typedef struct
{
  IkeMsgFault *fault; /* may be NULL */
  GError **error;
  guint8 payload;
  guint index;
  gsize body_offset; /* of the body, for turning body-relative offsets absolute */
} IkeCheck;

typedef gboolean (*IkeValidateFunc) (const IkeRaw *raw, IkeCheck *check);
/* Runs only on what the validator accepted, so it checks nothing. */
typedef void (*IkeParseFunc) (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
/* Appends the body (not the generic header). */
typedef gboolean (*IkeBuildFunc) (const IkePayload *payload, GByteArray *out, GError **error);

typedef struct
{
  guint8 type;
  const char *name;       /* IANA-like, for logs */
  const char *short_name; /* as in RFC 7296's exchange figures */
  guint16 min_body;
  IkeWhere where;
  IkeValidateFunc validate;
  IkeParseFunc parse;
  IkeBuildFunc build; /* NULL for SK/SKF: the builder reserves those */
} IkePayloadClass;

const IkePayloadClass *ike_payload_class (guint type);

/* min_body, then the row's validator. */
gboolean ike_payload_check (const IkePayloadClass *cls, const IkeRaw *raw, IkeCheck *check);

/* ---- Reporting ---- */

void ike_fault_set (IkeMsgFault *fault, GError **error, IkeMsgError code, guint8 payload,
                    guint index, gsize offset, const char *format, ...) G_GNUC_PRINTF (7, 8);
/* INVALID_SYNTAX at @rel bytes into the body; always returns FALSE. */
gboolean ike_check_fail (IkeCheck *check, gsize rel, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* ---- Big-endian access ---- */

static inline guint16
ike_get16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static inline guint32
ike_get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static inline void
ike_set16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

void ike_put8 (GByteArray *out, guint8 v);
void ike_put16 (GByteArray *out, guint16 v);
void ike_put32 (GByteArray *out, guint32 v);
void ike_put_zero (GByteArray *out, gsize n);
void ike_put_slice (GByteArray *out, IkeSlice s);

/* Zeroed n × size bytes that live as long as @arena (the parsed message). */
gpointer ike_arena_alloc (GPtrArray *arena, gsize n, gsize size);

static inline IkeSlice
ike_slice (const guint8 *data, gsize len)
{
  return (IkeSlice){ len ? data : NULL, len };
}

/* ---- The chain walk, shared by IkeMsg and IkeInner ---- */

typedef struct
{
  const guint8 *data;
  gsize len;      /* of the whole buffer */
  gsize start;    /* where the first payload starts */
  guint8 first;   /* its type */
  IkeWhere where; /* which payload types may appear */
} IkeChainSrc;

typedef struct
{
  IkePayload *payloads; /* in the arena */
  guint n;
} IkeChain;

gboolean ike_chain_parse (const IkeChainSrc *src, GPtrArray *arena, IkeChain *chain,
                          IkeMsgFault *fault, GError **error);
const IkePayload *ike_chain_find (const IkeChain *chain, guint type);
const IkePayloadNotify *ike_chain_find_notify (const IkeChain *chain, guint16 type);
char *ike_chain_describe (const IkeChain *chain);

/* ---- The chain writer, shared by the two builders ---- */

typedef struct
{
  GByteArray *buf;
  gssize link; /* offset of the byte that names the next payload; -1: none yet */
  guint8 first;
  guint n;
  gboolean sealed; /* ended by SK/SKF: nothing may follow */
} IkeChainWriter;

gboolean ike_chain_writer_add (IkeChainWriter *w, const IkePayload *payload, IkeWhere where,
                               GError **error);
void ike_chain_writer_link (IkeChainWriter *w, guint8 type, gsize header_at);
gboolean ike_chain_add_notify (IkeChainWriter *w, IkeWhere where, guint16 type, const guint8 *data,
                               gsize len, GError **error);

/* ---- Rows of the table, one family per file ---- */

gboolean ike_sa_validate (const IkeRaw *raw, IkeCheck *check);
void ike_sa_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_sa_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_ke_validate (const IkeRaw *raw, IkeCheck *check);
void ike_ke_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_ke_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_id_validate (const IkeRaw *raw, IkeCheck *check);
void ike_id_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_id_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_cert_validate (const IkeRaw *raw, IkeCheck *check);
gboolean ike_certreq_validate (const IkeRaw *raw, IkeCheck *check);
void ike_cert_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_cert_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_auth_validate (const IkeRaw *raw, IkeCheck *check);
void ike_auth_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_auth_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_nonce_validate (const IkeRaw *raw, IkeCheck *check);
void ike_nonce_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_nonce_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_vendor_validate (const IkeRaw *raw, IkeCheck *check);
void ike_vendor_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_vendor_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_notify_validate (const IkeRaw *raw, IkeCheck *check);
void ike_notify_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_notify_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_delete_validate (const IkeRaw *raw, IkeCheck *check);
void ike_delete_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_delete_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_ts_validate (const IkeRaw *raw, IkeCheck *check);
void ike_ts_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_ts_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_cp_validate (const IkeRaw *raw, IkeCheck *check);
void ike_cp_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_cp_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_eap_validate (const IkeRaw *raw, IkeCheck *check);
void ike_eap_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_eap_build (const IkePayload *payload, GByteArray *out, GError **error);

gboolean ike_sk_validate (const IkeRaw *raw, IkeCheck *check);
void ike_sk_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);
gboolean ike_skf_validate (const IkeRaw *raw, IkeCheck *check);
void ike_skf_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out);

G_END_DECLS
