/* Building: the message builder (header, cleartext payloads, a final
 * SK/SKF) and the inner-chain builder (what SK encrypts).  Both write
 * through one chain writer that keeps the Next Payload links and checks
 * each payload with the parser's own validator, so whatever is built parses. */
#include "ike-payload-private.h"

#define HDR_NEXT_PAYLOAD 16
#define HDR_LENGTH 24

struct _IkeMsgBuilder
{
  IkeChainWriter w;
  gsize aad_len; /* 0 until an SK/SKF is reserved */
};

struct _IkeInnerBuilder
{
  IkeChainWriter w;
};

/* ---- The chain writer ---- */

void
ike_chain_writer_link (IkeChainWriter *w, guint8 type, gsize header_at)
{
  if (w->link >= 0)
    w->buf->data[w->link] = type;
  else
    w->first = type;
  w->link = header_at;
  w->n++;
}

/* Writes the payload's length, then runs the parser's checks on it. */
static gboolean
finish_payload (IkeChainWriter *w, const IkePayload *p, gsize at, GError **error)
{
  const IkePayloadClass *cls = p->skipped ? NULL : ike_payload_class (p->type);
  gsize len = w->buf->len - at;
  IkeRaw raw;
  IkeCheck check = { .error = error, .payload = p->type, .index = w->n };

  if (len > G_MAXUINT16 || w->buf->len > IKE_MSG_MAX_LEN)
    {
      g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG,
                   "%s payload of %zu bytes makes the message %u bytes",
                   ike_payload_type_name (p->type), len, w->buf->len);
      return FALSE;
    }
  ike_set16 (w->buf->data + at + 2, len);
  if (cls == NULL)
    return TRUE;
  raw = (IkeRaw){ .hdr = w->buf->data + at,
                  .body = w->buf->data + at + IKE_PAYLOAD_HEADER_LEN,
                  .body_len = len - IKE_PAYLOAD_HEADER_LEN,
                  .offset = at };
  check.body_offset = at + IKE_PAYLOAD_HEADER_LEN;
  return ike_payload_check (cls, &raw, &check);
}

gboolean
ike_chain_writer_add (IkeChainWriter *w, const IkePayload *p, IkeWhere where, GError **error)
{
  const IkePayloadClass *cls = ike_payload_class (p->type);
  gsize at = w->buf->len;
  gboolean ok = TRUE;

  g_return_val_if_fail (!w->sealed, FALSE);
  g_return_val_if_fail (
      p->skipped ? cls == NULL : cls != NULL && cls->build != NULL && (cls->where & where), FALSE);
  if (w->n == IKE_MSG_MAX_PAYLOADS)
    {
      g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG, "more than %u payloads",
                   IKE_MSG_MAX_PAYLOADS);
      return FALSE;
    }
  ike_put_zero (w->buf, IKE_PAYLOAD_HEADER_LEN);
  if (p->skipped)
    ike_put_slice (w->buf, p->u.raw);
  else
    ok = cls->build (p, w->buf, error);
  if (!ok || !finish_payload (w, p, at, error))
    {
      g_byte_array_set_size (w->buf, at);
      return FALSE;
    }
  ike_chain_writer_link (w, p->type, at);
  return TRUE;
}

gboolean
ike_chain_add_notify (IkeChainWriter *w, IkeWhere where, guint16 type, const guint8 *data,
                      gsize len, GError **error)
{
  IkePayload p = { .type = IKE_PAYLOAD_NOTIFY };

  p.u.notify.type = type;
  p.u.notify.data = ike_slice (data, len);
  return ike_chain_writer_add (w, &p, where, error);
}

/* ---- IkeMsgBuilder ---- */

static void
put64 (GByteArray *out, guint64 v)
{
  ike_put32 (out, v >> 32);
  ike_put32 (out, v & 0xffffffff);
}

IkeMsgBuilder *
ike_msg_builder_new (const IkeHeader *header)
{
  IkeMsgBuilder *b = g_new0 (IkeMsgBuilder, 1);
  GByteArray *out = g_byte_array_sized_new (512);

  put64 (out, header->spi_i);
  put64 (out, header->spi_r);
  ike_put8 (out, IKE_PAYLOAD_NONE); /* linked by the first payload */
  ike_put8 (out, header->version ? header->version : IKE_VERSION);
  ike_put8 (out, header->exchange);
  ike_put8 (out, header->flags & (IKE_FLAG_INITIATOR | IKE_FLAG_VERSION | IKE_FLAG_RESPONSE));
  ike_put32 (out, header->message_id);
  ike_put32 (out, 0); /* Length, when finished */
  b->w.buf = out;
  b->w.link = HDR_NEXT_PAYLOAD;
  return b;
}

void
ike_msg_builder_free (IkeMsgBuilder *builder)
{
  if (builder == NULL)
    return;
  g_byte_array_unref (builder->w.buf);
  g_free (builder);
}

gboolean
ike_msg_builder_add (IkeMsgBuilder *builder, const IkePayload *payload, GError **error)
{
  return ike_chain_writer_add (&builder->w, payload, IKE_WHERE_CLEAR, error);
}

gboolean
ike_msg_builder_add_notify (IkeMsgBuilder *builder, guint16 type, const guint8 *data, gsize len,
                            GError **error)
{
  return ike_chain_add_notify (&builder->w, IKE_WHERE_CLEAR, type, data, len, error);
}

static void
write_length (IkeMsgBuilder *builder)
{
  guint32 len = builder->w.buf->len;
  guint8 *p = builder->w.buf->data + HDR_LENGTH;

  p[0] = len >> 24;
  p[1] = (len >> 16) & 0xff;
  p[2] = (len >> 8) & 0xff;
  p[3] = len & 0xff;
}

/* SK and SKF: header, @fields (SKF's numbers), then room for the body. */
static guint8 *
reserve_encrypted (IkeMsgBuilder *builder, guint8 type, guint8 first_inner, const guint8 *fields,
                   gsize fields_len, gsize body_len, GError **error)
{
  IkeChainWriter *w = &builder->w;
  gsize at = w->buf->len;
  gsize len = IKE_PAYLOAD_HEADER_LEN + fields_len + body_len;

  g_return_val_if_fail (!w->sealed, NULL);
  if (len > G_MAXUINT16 || at + len > IKE_MSG_MAX_LEN || w->n == IKE_MSG_MAX_PAYLOADS)
    {
      g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG,
                   "%s payload of %zu bytes does not fit the message", ike_payload_type_name (type),
                   len);
      return NULL;
    }
  ike_put8 (w->buf, first_inner);
  ike_put8 (w->buf, 0);
  ike_put16 (w->buf, len);
  g_byte_array_append (w->buf, fields, fields_len);
  ike_put_zero (w->buf, body_len);
  ike_chain_writer_link (w, type, at);
  w->sealed = TRUE;
  builder->aad_len = at + IKE_PAYLOAD_HEADER_LEN + fields_len;
  write_length (builder);
  return w->buf->data + builder->aad_len;
}

guint8 *
ike_msg_builder_reserve_sk (IkeMsgBuilder *builder, guint8 first_inner, gsize body_len,
                            GError **error)
{
  return reserve_encrypted (builder, IKE_PAYLOAD_SK, first_inner, NULL, 0, body_len, error);
}

guint8 *
ike_msg_builder_reserve_skf (IkeMsgBuilder *builder, guint8 first_inner, guint16 number,
                             guint16 total, gsize body_len, GError **error)
{
  guint8 fields[4];

  g_return_val_if_fail (number >= 1 && number <= total, NULL);
  ike_set16 (fields, number);
  ike_set16 (fields + 2, total);
  return reserve_encrypted (builder, IKE_PAYLOAD_SKF, first_inner, fields, sizeof fields, body_len,
                            error);
}

gboolean
ike_msg_builder_add_sk (IkeMsgBuilder *builder, guint8 first_inner, const guint8 *body,
                        gsize body_len, GError **error)
{
  guint8 *dest = ike_msg_builder_reserve_sk (builder, first_inner, body_len, error);

  if (dest == NULL)
    return FALSE;
  if (body_len > 0)
    memcpy (dest, body, body_len);
  return TRUE;
}

const guint8 *
ike_msg_builder_peek (const IkeMsgBuilder *builder, gsize *len, gsize *aad_len)
{
  if (len != NULL)
    *len = builder->w.buf->len;
  if (aad_len != NULL)
    *aad_len = builder->aad_len;
  return builder->w.buf->data;
}

GBytes *
ike_msg_builder_free_to_bytes (IkeMsgBuilder *builder)
{
  GByteArray *out = builder->w.buf;

  write_length (builder);
  g_free (builder);
  return g_byte_array_free_to_bytes (out);
}

/* ---- IkeInnerBuilder ---- */

IkeInnerBuilder *
ike_inner_builder_new (void)
{
  IkeInnerBuilder *b = g_new0 (IkeInnerBuilder, 1);

  b->w.buf = g_byte_array_sized_new (512);
  b->w.link = -1;
  return b;
}

void
ike_inner_builder_free (IkeInnerBuilder *builder)
{
  if (builder == NULL)
    return;
  g_byte_array_unref (builder->w.buf);
  g_free (builder);
}

gboolean
ike_inner_builder_add (IkeInnerBuilder *builder, const IkePayload *payload, GError **error)
{
  return ike_chain_writer_add (&builder->w, payload, IKE_WHERE_INNER, error);
}

gboolean
ike_inner_builder_add_notify (IkeInnerBuilder *builder, guint16 type, const guint8 *data, gsize len,
                              GError **error)
{
  return ike_chain_add_notify (&builder->w, IKE_WHERE_INNER, type, data, len, error);
}

GBytes *
ike_inner_builder_free_to_bytes (IkeInnerBuilder *builder, guint8 *first_payload)
{
  GByteArray *out = builder->w.buf;

  if (first_payload != NULL)
    *first_payload = builder->w.first;
  g_free (builder);
  return g_byte_array_free_to_bytes (out);
}
