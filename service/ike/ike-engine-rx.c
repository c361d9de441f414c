/* The receive path: parse a datagram, find its IKE SA, check the message ID
 * window, answer retransmitted requests from the cache, open SK (or
 * reassemble SKF fragments) and hand the message to the exchange table. */
#include "ike-engine-private.h"

#include <string.h>

/* RFC 7296 §2.21.1: an IKE_SA_INIT request we cannot parse may be answered
 * with the notify the codec names; anything else is dropped. */
static void
parse_failed (IkeRx *rx, const guint8 *data, gsize len, const IkeMsgFault *fault,
              const GError *error)
{
  IkeHeader hdr = { 0 };

  ike_engine_reject (rx->engine, rx->ends, "malformed message: %s", error->message);
  if (fault->notify == 0 || len < IKE_HEADER_LEN)
    return;
  hdr.spi_i = GUINT64_FROM_BE (*(const guint64 *) data);
  hdr.spi_r = GUINT64_FROM_BE (*(const guint64 *) (data + 8));
  hdr.exchange = data[18];
  hdr.flags = data[19];
  hdr.message_id = GUINT32_FROM_BE (*(const guint32 *) (data + 20));
  if (hdr.exchange != IKE_EXCHANGE_SA_INIT || hdr.spi_r != 0 || hdr.message_id != 0
      || (hdr.flags & IKE_FLAG_RESPONSE) || !(hdr.flags & IKE_FLAG_INITIATOR))
    return;
  rx->hdr = &hdr;
  if (fault->notify == IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD)
    {
      g_autoptr (GBytes) type = g_bytes_new (&fault->notify_data, 1);

      ike_init_respond_stateless (rx, fault->notify, type);
    }
  else
    ike_init_respond_stateless (rx, fault->notify, NULL);
  rx->hdr = NULL;
}

static gboolean
same_ends (const IkeEnds *a, const IkeEnds *b)
{
  return ike_ends_equal (&a->local, &b->local) && ike_ends_equal (&a->remote, &b->remote);
}

/* A retransmitted request gets our cached response again, whole.  Of a
 * fragmented request only fragment 1 draws it, so that one retransmission
 * costs one response, not one per fragment (RFC 7383 §2.6.1). */
static gboolean
answer_retransmit (IkeRx *rx, IkeSa *sa)
{
  const IkePayloadSkf *skf = ike_msg_get_skf (rx->msg);

  if ((rx->hdr->flags & IKE_FLAG_RESPONSE) || sa->mid_in == 0 || sa->resp == NULL
      || rx->hdr->message_id != sa->mid_in - 1)
    return FALSE;
  if (skf == NULL || skf->number == 1)
    ike_engine_emit_packets (rx->engine, &sa->ends, sa->resp);
  return TRUE;
}

/* The response to our request in flight, or the next request. */
static gboolean
in_window (IkeRx *rx, IkeSa *sa)
{
  const IkeHeader *hdr = rx->hdr;

  if (hdr->flags & IKE_FLAG_RESPONSE)
    {
      if (sa->req != NULL && sa->req_kind != IKE_REQ_NOTIFY && hdr->message_id + 1 == sa->mid_out)
        return TRUE;
      ike_engine_reject (rx->engine, rx->ends, "unexpected response #%u", hdr->message_id);
      return FALSE;
    }
  if (hdr->message_id == sa->mid_in)
    return TRUE;
  ike_engine_reject (rx->engine, rx->ends, "request #%u outside the window (#%u)", hdr->message_id,
                     sa->mid_in);
  return FALSE;
}

/* SK opened, or the last SKF fragment in: TRUE when there is a whole
 * authenticated message to dispatch. */
static gboolean
open_message (IkeRx *rx, IkeSa *sa)
{
  const IkeHeader *hdr = rx->hdr;
  g_autoptr (GError) error = NULL;
  gboolean complete = TRUE;
  gboolean ok;

  if (hdr->exchange == IKE_EXCHANGE_SA_INIT)
    return TRUE;
  if (ike_msg_get_skf (rx->msg) != NULL)
    ok = ike_frag_receive (sa, rx, &complete, &error);
  else
    ok = ike_protect_open (sa, rx, &error);
  if (ok)
    return complete;
  ike_engine_reject (rx->engine, rx->ends, "%s: %s", ike_exchange_name (hdr->exchange),
                     error->message);
  if (error->domain == IKE_MSG_ERROR && !(hdr->flags & IKE_FLAG_RESPONSE))
    ike_sa_respond_notify (sa, rx, IKE_N_INVALID_SYNTAX);
  return FALSE;
}

static void
receive_for_sa (IkeRx *rx, IkeSa *sa)
{
  const IkeHeader *hdr = rx->hdr;

  /* Other ends are possible only through a NAT, and followed only once the
   * message authenticated (below). */
  if (!ike_ends_equal (&sa->ends.remote, &rx->ends->remote) && !sa->nat_local && !sa->nat_remote)
    return ike_engine_reject (rx->engine, rx->ends,
                              "SA %" G_GUINT64_FORMAT " is with another address", sa->handle);
  if (sa->state == IKE_STATE_TOMBSTONE)
    {
      /* Only the failed request again gets its answer again. */
      if (!(hdr->flags & IKE_FLAG_RESPONSE) && hdr->message_id + 1 == sa->mid_in)
        answer_retransmit (rx, sa);
      return;
    }
  if (answer_retransmit (rx, sa) || !in_window (rx, sa) || !open_message (rx, sa))
    return;
  if (!same_ends (&sa->ends, rx->ends) && !ike_nat_follow (sa, rx->ends)
      && !ike_ends_equal (&sa->ends.remote, &rx->ends->remote))
    return ike_engine_reject (rx->engine, rx->ends,
                              "SA %" G_GUINT64_FORMAT " is with another address", sa->handle);
  rx->sa = sa;
  ike_exchange_dispatch (rx, sa->state);
}

static void
receive_msg (IkeRx *rx)
{
  const IkeHeader *hdr = rx->hdr;
  IkeSa *sa;

  if ((hdr->flags & IKE_FLAG_INITIATOR) && hdr->spi_r == 0)
    {
      if (hdr->exchange != IKE_EXCHANGE_SA_INIT || (hdr->flags & IKE_FLAG_RESPONSE)
          || hdr->message_id != 0)
        return ike_engine_reject (rx->engine, rx->ends, "%s without a responder SPI",
                                  ike_exchange_name (hdr->exchange));
      sa = ike_engine_find_half_open (rx->engine, hdr->spi_i, rx->ends);
      if (sa != NULL && sa->resp != NULL)
        return ike_engine_emit_packets (rx->engine, &sa->ends, sa->resp);
      /* An IKE_SA_INIT again for an SA past it: its answer is gone with
       * the handshake, and a new half-open SA would lead nowhere. */
      if (ike_engine_find_by_spi_i (rx->engine, hdr->spi_i, rx->ends) != NULL)
        return ike_engine_reject (rx->engine, rx->ends,
                                  "IKE_SA_INIT again for an IKE SA past it: ignored");
      return ike_exchange_dispatch (rx, IKE_STATE_NONE);
    }
  sa = ike_engine_find_sa (rx->engine, hdr);
  if (sa == NULL)
    return ike_engine_reject (rx->engine, rx->ends, "%s for an unknown IKE SA",
                              ike_exchange_name (hdr->exchange));
  receive_for_sa (rx, sa);
}

void
ike_engine_receive (IkeEngine *engine, gint64 now, const IkeEnds *ends, const guint8 *data,
                    gsize len)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (GError) error = NULL;
  IkeMsgFault fault = { 0 };
  IkeRx rx = { .engine = engine, .now = now, .ends = ends };

  ike_engine_begin (engine, now);
  rx.msg = ike_msg_parse (bytes, &fault, &error);
  if (rx.msg == NULL)
    parse_failed (&rx, data, len, &fault, error);
  else
    {
      rx.hdr = ike_msg_get_header (rx.msg);
      receive_msg (&rx);
    }
  g_clear_pointer (&rx.inner, ike_inner_free);
  g_clear_pointer (&rx.plain, g_bytes_unref);
  g_clear_pointer (&rx.msg, ike_msg_free);
  ike_engine_sweep (engine);
}
