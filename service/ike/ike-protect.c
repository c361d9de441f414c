/* SK protection of whole messages (RFC 7296 §3.14): seal an inner payload
 * chain into a message, and open a received one into an IkeInner.  Only
 * what opens here can hold IDs, AUTH, TS or Delete payloads (ike-msg.h). */
#include "ike-engine-private.h"

#include <string.h>

GPtrArray *
ike_packets_new (GBytes *msg)
{
  GPtrArray *packets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_ptr_array_add (packets, g_bytes_ref (msg));
  return packets;
}

/* Seals @plain into the SK or SKF body just reserved in @builder (so every
 * length, and with them the AAD, is final) and finishes the message.  Takes
 * @builder. */
GBytes *
ike_protect_fill (IkeSa *sa, IkeMsgBuilder *builder, guint8 *body, gsize body_len,
                  const guint8 *plain, gsize len, GError **error)
{
  g_autoptr (IkeMsgBuilder) owned = builder;
  g_autoptr (GBytes) sealed = NULL;
  gsize msg_len, aad_len;
  const guint8 *aad = ike_msg_builder_peek (owned, &msg_len, &aad_len);

  sealed = ike_cipher_seal (sa->c_out, aad, aad_len, plain, len, error);
  if (sealed == NULL)
    return NULL;
  g_assert (g_bytes_get_size (sealed) == body_len);
  memcpy (body, g_bytes_get_data (sealed, NULL), body_len);
  return ike_msg_builder_free_to_bytes (g_steal_pointer (&owned));
}

static GBytes *
seal_whole (IkeSa *sa, const IkeHeader *hdr, GBytes *plain, guint8 first, GError **error)
{
  g_autoptr (IkeMsgBuilder) builder = ike_msg_builder_new (hdr);
  gsize plain_len = g_bytes_get_size (plain);
  gsize body_len = ike_cipher_sealed_length (sa->c_out, plain_len);
  guint8 *body = ike_msg_builder_reserve_sk (builder, first, body_len, error);

  if (body == NULL)
    return NULL;
  return ike_protect_fill (sa, g_steal_pointer (&builder), body, body_len,
                           g_bytes_get_data (plain, NULL), plain_len, error);
}

GPtrArray *
ike_protect_seal (IkeSa *sa, const IkeHeader *hdr, IkeInnerBuilder *inner, GError **error)
{
  guint8 first = 0;
  g_autoptr (GBytes) plain = ike_inner_builder_free_to_bytes (inner, &first);
  g_autoptr (GBytes) whole = NULL;
  gsize limit = ike_frag_limit (sa->config, &sa->ends.remote);
  gsize size = IKE_HEADER_LEN + IKE_SK_HEADER_LEN
               + ike_cipher_sealed_length (sa->c_out, g_bytes_get_size (plain));

  /* RFC 7383 §2.5: only when both announced support, and only when the
   * message would not fit whole. */
  if (sa->frag_peer && sa->config->fragmentation && size > limit)
    return ike_frag_seal (sa, hdr, plain, first, limit, error);
  whole = seal_whole (sa, hdr, plain, first, error);
  return whole != NULL ? ike_packets_new (whole) : NULL;
}

gboolean
ike_protect_open (IkeSa *sa, IkeRx *rx, GError **error)
{
  const IkePayloadSk *sk = ike_msg_get_sk (rx->msg);
  const guint8 *msg = g_bytes_get_data (ike_msg_get_bytes (rx->msg), NULL);
  IkeMsgFault fault = { 0 };

  if (sa->c_in == NULL)
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INTEGRITY, "no keys yet");
      return FALSE;
    }
  if (sk == NULL)
    {
      /* SKF went to ike_frag_receive; anything else is not protected. */
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INTEGRITY, "no SK payload");
      return FALSE;
    }
  rx->plain = ike_cipher_open (sa->c_in, msg, sk->aad_len, sk->body.data, sk->body.len, error);
  if (rx->plain == NULL)
    return FALSE;
  rx->inner = ike_inner_parse (rx->plain, sk->first_inner, &fault, error);
  return rx->inner != NULL;
}

const IkePayload *
ike_rx_find (IkeRx *rx, IkePayloadType type)
{
  if (rx->inner != NULL)
    return ike_inner_find (rx->inner, type);
  return ike_payload_type_is_cleartext (type) ? ike_msg_find (rx->msg, type) : NULL;
}

const IkePayloadNotify *
ike_rx_notify (IkeRx *rx, guint16 type)
{
  if (rx->inner != NULL)
    return ike_inner_find_notify (rx->inner, type);
  return ike_msg_find_notify (rx->msg, type);
}

const IkePayloadNotify *
ike_rx_error_notify (IkeRx *rx)
{
  guint n
      = rx->inner != NULL ? ike_inner_get_n_payloads (rx->inner) : ike_msg_get_n_payloads (rx->msg);

  for (guint i = 0; i < n; i++)
    {
      const IkePayload *p = rx->inner != NULL ? ike_inner_get_payload (rx->inner, i)
                                              : ike_msg_get_payload (rx->msg, i);

      if (p->type == IKE_PAYLOAD_NOTIFY && !p->skipped && IKE_NOTIFY_IS_ERROR (p->u.notify.type))
        return &p->u.notify;
    }
  return NULL;
}
