/* Parsed messages: the IKE header, the cleartext chain of a datagram
 * (IkeMsg), the decrypted chain of an SK (IkeInner), and NAT-T framing.
 * The two chain types differ only in which payload types the walk admits:
 * that difference is the whole encrypted-only guarantee (see ike-msg.h). */
#include "ike-payload-private.h"

#define IKE_MAJOR_VERSION 2
#define HDR_NEXT_PAYLOAD 16
#define HDR_VERSION 17
#define HDR_LENGTH 24
#define ESP_MIN_LEN 8 /* SPI, sequence number */
#define NATT_KEEPALIVE 0xff

G_DEFINE_QUARK (ike - msg - error - quark, ike_msg_error)

struct _IkeMsg
{
  GBytes *bytes;
  IkeHeader header;
  GPtrArray *arena; /* every array the payloads point to */
  IkeChain chain;
};

struct _IkeInner
{
  GBytes *bytes;
  GPtrArray *arena;
  IkeChain chain;
};

/* ---- Header ---- */

static guint64
get64 (const guint8 *p)
{
  return ((guint64) ike_get32 (p) << 32) | ike_get32 (p + 4);
}

static void
read_header (const guint8 *data, IkeHeader *header)
{
  *header = (IkeHeader){
    .spi_i = get64 (data),
    .spi_r = get64 (data + 8),
    .next_payload = data[HDR_NEXT_PAYLOAD],
    .version = data[HDR_VERSION],
    .exchange = data[18],
    /* RFC 7296 §3.1: other flag bits are ignored on receipt. */
    .flags = data[19] & (IKE_FLAG_INITIATOR | IKE_FLAG_VERSION | IKE_FLAG_RESPONSE),
    .message_id = ike_get32 (data + 20),
    .length = ike_get32 (data + HDR_LENGTH),
  };
}

/* On failure *header is still filled whenever the datagram holds one, so
 * the engine has the SPIs and message ID to answer with. */
gboolean
ike_header_parse (const guint8 *data, gsize len, IkeHeader *header, IkeMsgFault *fault,
                  GError **error)
{
  guint major;

  if (len < IKE_HEADER_LEN || len > IKE_MSG_MAX_LEN)
    {
      ike_fault_set (fault, error, IKE_MSG_ERROR_DROP, 0, 0, 0, "datagram of %zu bytes, not %u..%u",
                     len, IKE_HEADER_LEN, IKE_MSG_MAX_LEN);
      return FALSE;
    }
  read_header (data, header);
  major = header->version >> 4;
  if (major != IKE_MAJOR_VERSION)
    {
      /* RFC 7296 §2.5: answer a newer major version; an older one is IKEv1. */
      ike_fault_set (fault, error,
                     major > IKE_MAJOR_VERSION ? IKE_MSG_ERROR_MAJOR_VERSION : IKE_MSG_ERROR_DROP,
                     0, 0, HDR_VERSION, "IKE version %u.%u", major, header->version & 0x0f);
      return FALSE;
    }
  if (header->length != len)
    {
      ike_fault_set (fault, error, IKE_MSG_ERROR_SYNTAX, 0, 0, HDR_LENGTH,
                     "Length field says %u, datagram has %zu bytes", header->length, len);
      return FALSE;
    }
  return TRUE;
}

/* ---- IkeMsg ---- */

IkeMsg *
ike_msg_parse (GBytes *datagram, IkeMsgFault *fault, GError **error)
{
  g_autoptr (IkeMsg) msg = g_new0 (IkeMsg, 1);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (datagram, &len);
  IkeChainSrc src;

  msg->arena = g_ptr_array_new_with_free_func (g_free);
  if (!ike_header_parse (data, len, &msg->header, fault, error))
    return NULL;
  src = (IkeChainSrc){ data, len, IKE_HEADER_LEN, msg->header.next_payload, IKE_WHERE_CLEAR };
  if (!ike_chain_parse (&src, msg->arena, &msg->chain, fault, error))
    return NULL;
  msg->bytes = g_bytes_ref (datagram);
  return g_steal_pointer (&msg);
}

void
ike_msg_free (IkeMsg *msg)
{
  if (msg == NULL)
    return;
  g_clear_pointer (&msg->bytes, g_bytes_unref);
  g_ptr_array_unref (msg->arena);
  g_free (msg);
}

const IkeHeader *
ike_msg_get_header (const IkeMsg *msg)
{
  return &msg->header;
}

GBytes *
ike_msg_get_bytes (const IkeMsg *msg)
{
  return msg->bytes;
}

guint
ike_msg_get_n_payloads (const IkeMsg *msg)
{
  return msg->chain.n;
}

const IkePayload *
ike_msg_get_payload (const IkeMsg *msg, guint index)
{
  g_return_val_if_fail (index < msg->chain.n, NULL);
  return &msg->chain.payloads[index];
}

const IkePayload *
ike_msg_find (const IkeMsg *msg, IkePayloadType type)
{
  /* Asking a cleartext message for AUTH is a bug in the caller, not in the
   * peer: it could never be there. */
  g_return_val_if_fail (ike_payload_type_is_cleartext (type), NULL);
  return ike_chain_find (&msg->chain, type);
}

const IkePayloadNotify *
ike_msg_find_notify (const IkeMsg *msg, guint16 type)
{
  return ike_chain_find_notify (&msg->chain, type);
}

const IkePayloadSk *
ike_msg_get_sk (const IkeMsg *msg)
{
  const IkePayload *p = ike_chain_find (&msg->chain, IKE_PAYLOAD_SK);

  return p ? &p->u.sk : NULL;
}

const IkePayloadSkf *
ike_msg_get_skf (const IkeMsg *msg)
{
  const IkePayload *p = ike_chain_find (&msg->chain, IKE_PAYLOAD_SKF);

  return p ? &p->u.skf : NULL;
}

static gboolean
rebuild_payload (IkeMsgBuilder *builder, const IkePayload *p, GError **error)
{
  guint8 *body;

  if (p->type == IKE_PAYLOAD_SK && !p->skipped)
    return ike_msg_builder_add_sk (builder, p->u.sk.first_inner, p->u.sk.body.data,
                                   p->u.sk.body.len, error);
  if (p->type == IKE_PAYLOAD_SKF && !p->skipped)
    {
      body = ike_msg_builder_reserve_skf (builder, p->u.skf.first_inner, p->u.skf.number,
                                          p->u.skf.total, p->u.skf.body.len, error);
      if (body != NULL && p->u.skf.body.len > 0)
        memcpy (body, p->u.skf.body.data, p->u.skf.body.len);
      return body != NULL;
    }
  return ike_msg_builder_add (builder, p, error);
}

GBytes *
ike_msg_to_bytes (const IkeMsg *msg, GError **error)
{
  g_autoptr (IkeMsgBuilder) builder = ike_msg_builder_new (&msg->header);

  for (guint i = 0; i < msg->chain.n; i++)
    if (!rebuild_payload (builder, &msg->chain.payloads[i], error))
      return NULL;
  return ike_msg_builder_free_to_bytes (g_steal_pointer (&builder));
}

char *
ike_msg_describe (const IkeMsg *msg)
{
  g_autofree char *chain = ike_chain_describe (&msg->chain);
  const char *exchange = ike_exchange_name (msg->header.exchange);
  g_autofree char *number = g_strdup_printf ("%u", msg->header.exchange);

  return g_strdup_printf ("%s %s #%u %s", exchange ? exchange : number,
                          msg->header.flags & IKE_FLAG_RESPONSE ? "response" : "request",
                          msg->header.message_id, chain);
}

/* ---- IkeInner ---- */

IkeInner *
ike_inner_parse (GBytes *plaintext, guint8 first_payload, IkeMsgFault *fault, GError **error)
{
  g_autoptr (IkeInner) inner = g_new0 (IkeInner, 1);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (plaintext, &len);
  IkeChainSrc src = { data, len, 0, first_payload, IKE_WHERE_INNER };

  inner->arena = g_ptr_array_new_with_free_func (g_free);
  if (len > IKE_MSG_MAX_LEN)
    {
      ike_fault_set (fault, error, IKE_MSG_ERROR_SYNTAX, 0, 0, 0, "%zu bytes of plaintext", len);
      return NULL;
    }
  if (!ike_chain_parse (&src, inner->arena, &inner->chain, fault, error))
    return NULL;
  inner->bytes = g_bytes_ref (plaintext);
  return g_steal_pointer (&inner);
}

void
ike_inner_free (IkeInner *inner)
{
  if (inner == NULL)
    return;
  g_clear_pointer (&inner->bytes, g_bytes_unref);
  g_ptr_array_unref (inner->arena);
  g_free (inner);
}

guint
ike_inner_get_n_payloads (const IkeInner *inner)
{
  return inner->chain.n;
}

const IkePayload *
ike_inner_get_payload (const IkeInner *inner, guint index)
{
  g_return_val_if_fail (index < inner->chain.n, NULL);
  return &inner->chain.payloads[index];
}

const IkePayload *
ike_inner_find (const IkeInner *inner, IkePayloadType type)
{
  return ike_chain_find (&inner->chain, type);
}

const IkePayloadNotify *
ike_inner_find_notify (const IkeInner *inner, guint16 type)
{
  return ike_chain_find_notify (&inner->chain, type);
}

GBytes *
ike_inner_to_bytes (const IkeInner *inner, guint8 *first_payload, GError **error)
{
  g_autoptr (IkeInnerBuilder) builder = ike_inner_builder_new ();

  for (guint i = 0; i < inner->chain.n; i++)
    if (!ike_inner_builder_add (builder, &inner->chain.payloads[i], error))
      return NULL;
  return ike_inner_builder_free_to_bytes (g_steal_pointer (&builder), first_payload);
}

char *
ike_inner_describe (const IkeInner *inner)
{
  return ike_chain_describe (&inner->chain);
}

/* ---- NAT-T ---- */

IkeNattKind
ike_natt_classify (const guint8 *data, gsize len, gsize *ike_offset)
{
  static const guint8 marker[IKE_NON_ESP_MARKER_LEN] = { 0 };

  if (len == 1 && data[0] == NATT_KEEPALIVE)
    return IKE_NATT_KEEPALIVE;
  if (len >= IKE_NON_ESP_MARKER_LEN && memcmp (data, marker, sizeof marker) == 0)
    {
      *ike_offset = IKE_NON_ESP_MARKER_LEN;
      return IKE_NATT_IKE;
    }
  /* ESP's SPI is never 0 (RFC 4303 §2.1), so it cannot look like the marker. */
  return len >= ESP_MIN_LEN ? IKE_NATT_ESP : IKE_NATT_INVALID;
}

GBytes *
ike_natt_add_marker (GBytes *message)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (message, &len);
  GByteArray *out = g_byte_array_sized_new (IKE_NON_ESP_MARKER_LEN + len);

  ike_put_zero (out, IKE_NON_ESP_MARKER_LEN);
  if (len > 0)
    g_byte_array_append (out, data, len);
  return g_byte_array_free_to_bytes (out);
}
