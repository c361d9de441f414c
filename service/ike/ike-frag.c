/* IKE fragmentation (RFC 7383).  Sending: a protected message too big for
 * the path is split into SKF payloads, each sealed on its own with the IKE
 * header and the SKF header (Fragment Number, Total Fragments) as AAD.
 * Receiving: every fragment is opened before it is kept, so a forged one
 * changes nothing; one message is reassembled per SA at a time, bounded in
 * count and size, and dropped when another message ID shows up or after
 * FRAG_TIMEOUT. */
#include "ike-engine-private.h"

#include <string.h>

/* RFC 7383 §2.5.1: IPv6's minimum MTU, and IPv4's 576 every host takes. */
#define FRAG_SIZE_IPV6 1280
#define FRAG_SIZE_IPV4 576
#define IPV6_HEADER_LEN 40
#define IPV4_HEADER_LEN 20
#define UDP_HEADER_LEN 8
#define NON_ESP_MARKER_LEN IKE_NON_ESP_MARKER_LEN
/* Plaintext of one reassembled message, at most: far above any IKE_AUTH
 * with a certificate chain, and a cap on what a peer can make us hold. */
#define FRAG_MAX_PLAIN (64 * 1024)
#define FRAG_TIMEOUT (30 * G_TIME_SPAN_SECOND)

struct _IkeFragBuf
{
  guint32 mid;
  gboolean response;
  guint16 total;
  guint16 n_have;
  guint8 first_inner;
  gsize size;
  gint64 expire;
  GBytes *parts[IKE_FRAG_MAX];
};

gsize
ike_frag_limit (const IkeConfig *config, const struct sockaddr_storage *remote)
{
  gboolean v6 = remote->ss_family == AF_INET6;
  gsize size = config->fragment_size;

  if (size == 0)
    size = v6 ? FRAG_SIZE_IPV6 : FRAG_SIZE_IPV4;
  /* The marker is counted even on port 500, so that a float to 4500 never
   * makes a message that fitted too big. */
  return size - (v6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN) - UDP_HEADER_LEN - NON_ESP_MARKER_LEN;
}

/* ---- Sending ---- */

static GBytes *
seal_fragment (IkeSa *sa, const IkeHeader *hdr, const guint8 *plain, gsize len, guint8 first,
               guint16 number, guint16 total, GError **error)
{
  g_autoptr (IkeMsgBuilder) builder = ike_msg_builder_new (hdr);
  gsize body_len = ike_cipher_sealed_length (sa->c_out, len);
  guint8 *body = ike_msg_builder_reserve_skf (builder, first, number, total, body_len, error);

  if (body == NULL)
    return NULL;
  return ike_protect_fill (sa, g_steal_pointer (&builder), body, body_len, plain, len, error);
}

GPtrArray *
ike_frag_seal (IkeSa *sa, const IkeHeader *hdr, GBytes *plain, guint8 first, gsize limit,
               GError **error)
{
  g_autoptr (GPtrArray) packets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gsize len, overhead = IKE_HEADER_LEN + IKE_SKF_HEADER_LEN;
  const guint8 *data = g_bytes_get_data (plain, &len);
  gsize chunk = limit > overhead ? ike_cipher_max_plaintext (sa->c_out, limit - overhead) : 0;
  gsize total = chunk > 0 ? (len + chunk - 1) / chunk : 0;

  if (chunk == 0 || total > IKE_FRAG_MAX)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                   "%" G_GSIZE_FORMAT " bytes do not fit in %u fragments of %" G_GSIZE_FORMAT, len,
                   IKE_FRAG_MAX, limit);
      return NULL;
    }
  for (gsize i = 0; i < total; i++)
    {
      gsize off = i * chunk;
      GBytes *frag = seal_fragment (sa, hdr, data + off, MIN (chunk, len - off), i == 0 ? first : 0,
                                    (guint16) (i + 1), (guint16) total, error);

      if (frag == NULL)
        return NULL;
      g_ptr_array_add (packets, frag);
    }
  return g_steal_pointer (&packets);
}

/* ---- Receiving ---- */

void
ike_frag_clear (IkeSa *sa)
{
  IkeFragBuf *buf = sa->frag_rx;

  if (buf == NULL)
    return;
  for (guint i = 0; i < IKE_FRAG_MAX; i++)
    g_clear_pointer (&buf->parts[i], g_bytes_unref);
  g_clear_pointer (&sa->frag_rx, g_free);
}

gint64
ike_frag_deadline (IkeSa *sa)
{
  return sa->frag_rx != NULL ? sa->frag_rx->expire : G_MAXINT64;
}

void
ike_frag_tick (IkeSa *sa, gint64 now)
{
  if (sa->frag_rx != NULL && now >= sa->frag_rx->expire)
    {
      ike_engine_reject (sa->engine, &sa->ends, "fragments of #%u never completed: dropped",
                         sa->frag_rx->mid);
      ike_frag_clear (sa);
    }
}

/* The buffer for this fragment's message; NULL when the fragment is to be
 * ignored.  RFC 7383 §2.6: a larger Total than the one seen means the peer
 * fragmented again (smaller, after a PMTU change): start over with it; a
 * smaller one is a stale fragment. */
static IkeFragBuf *
buffer_for (IkeSa *sa, IkeRx *rx, const IkePayloadSkf *skf)
{
  gboolean response = (rx->hdr->flags & IKE_FLAG_RESPONSE) != 0;
  IkeFragBuf *buf = sa->frag_rx;

  if (buf != NULL && (buf->mid != rx->hdr->message_id || buf->response != response))
    ike_frag_clear (sa);
  else if (buf != NULL && skf->total < buf->total)
    return NULL;
  else if (buf != NULL && skf->total > buf->total)
    ike_frag_clear (sa);
  if (sa->frag_rx == NULL)
    {
      sa->frag_rx = g_new0 (IkeFragBuf, 1);
      sa->frag_rx->mid = rx->hdr->message_id;
      sa->frag_rx->response = response;
      sa->frag_rx->total = skf->total;
      sa->frag_rx->expire = rx->now + FRAG_TIMEOUT;
    }
  return sa->frag_rx;
}

/* All fragments in: the plaintext in order, parsed like an SK's. */
static gboolean
reassemble (IkeSa *sa, IkeRx *rx, GError **error)
{
  IkeFragBuf *buf = sa->frag_rx;
  guint8 *plain = g_malloc (MAX (buf->size, 1));
  gsize off = 0;
  IkeMsgFault fault = { 0 };
  guint8 first = buf->first_inner;

  for (guint i = 0; i < buf->total; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (buf->parts[i], &len);

      memcpy (plain + off, data, len);
      off += len;
    }
  ike_frag_clear (sa);
  rx->plain = g_bytes_new_take (plain, off);
  rx->inner = ike_inner_parse (rx->plain, first, &fault, error);
  return rx->inner != NULL;
}

static gboolean
check_skf (IkeSa *sa, const IkePayloadSkf *skf, GError **error)
{
  if (sa->c_in == NULL)
    g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INTEGRITY, "no keys yet");
  else if (skf->number == 0 || skf->number > skf->total || skf->total > IKE_FRAG_MAX)
    g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID, "fragment %u of %u refused",
                 skf->number, skf->total);
  else
    return TRUE;
  return FALSE;
}

gboolean
ike_frag_receive (IkeSa *sa, IkeRx *rx, gboolean *complete, GError **error)
{
  const IkePayloadSkf *skf = ike_msg_get_skf (rx->msg);
  const guint8 *msg = g_bytes_get_data (ike_msg_get_bytes (rx->msg), NULL);
  g_autoptr (GBytes) part = NULL;
  IkeFragBuf *buf;

  *complete = FALSE;
  if (!check_skf (sa, skf, error))
    return FALSE;
  part = ike_cipher_open (sa->c_in, msg, skf->aad_len, skf->body.data, skf->body.len, error);
  if (part == NULL)
    return FALSE;
  buf = buffer_for (sa, rx, skf);
  if (buf == NULL || buf->parts[skf->number - 1] != NULL)
    return TRUE; /* stale or duplicate */
  if (buf->size + g_bytes_get_size (part) > FRAG_MAX_PLAIN)
    {
      ike_frag_clear (sa);
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INTEGRITY,
                   "fragmented message over %u bytes", FRAG_MAX_PLAIN);
      return FALSE;
    }
  if (skf->number == 1)
    buf->first_inner = skf->first_inner;
  buf->size += g_bytes_get_size (part);
  buf->parts[skf->number - 1] = g_steal_pointer (&part);
  if (++buf->n_have < buf->total)
    return TRUE;
  *complete = TRUE;
  return reassemble (sa, rx, error);
}
