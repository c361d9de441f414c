/* The IKE SA's life: creation, message IDs (window 1), the request in flight
 * and its retransmission with exponential back-off, the cached response, the
 * timers (half-open expiry, liveness) and the end, reported once. */
#include "ike-engine-private.h"

#include <string.h>

#define MAX_BACKOFF_SHIFT 16

IkeSa *
ike_sa_new (IkeEngine *engine, gboolean initiator, const IkeEnds *ends, GError **error)
{
  g_autofree IkeSa *sa = g_new0 (IkeSa, 1);
  guint8 spi[8];

  if (!ike_random_ike_spi (spi, error))
    return NULL;
  sa->engine = engine;
  sa->handle = ike_engine_new_handle (engine);
  sa->ends = *ends;
  sa->initiator = initiator;
  sa->our_spi = GUINT64_FROM_BE (*(guint64 *) spi);
  if (initiator)
    sa->spi_i = sa->our_spi;
  else
    sa->spi_r = sa->our_spi;
  sa->hs = g_new0 (IkeHandshake, 1);
  sa->children = g_array_new (FALSE, TRUE, sizeof (IkeChild));
  sa->tasks = g_array_new (FALSE, TRUE, sizeof (IkeTask));
  sa->rekey_at = sa->expire_at = G_MAXINT64;
  sa->keepalive_at = G_MAXINT64;
  return g_steal_pointer (&sa);
}

void
ike_sa_handshake_free (IkeSa *sa)
{
  IkeHandshake *hs = sa->hs;

  if (hs == NULL)
    return;
  g_clear_pointer (&hs->dh, ike_dh_free);
  g_clear_pointer (&hs->ni, g_bytes_unref);
  g_clear_pointer (&hs->nr, g_bytes_unref);
  g_clear_pointer (&hs->init_msg, g_bytes_unref);
  g_clear_pointer (&hs->peer_init, g_bytes_unref);
  ike_child_pending_free (hs);
  g_clear_pointer (&hs->cookie, g_bytes_unref);
  g_clear_pointer (&hs->sk_pi, PK11_FreeSymKey);
  g_clear_pointer (&hs->sk_pr, PK11_FreeSymKey);
  g_clear_pointer (&sa->hs, g_free);
}

void
ike_sa_free (IkeSa *sa)
{
  ike_engine_count_sa (sa->engine, sa, FALSE);
  ike_sa_handshake_free (sa);
  g_clear_pointer (&sa->c_out, ike_cipher_free);
  g_clear_pointer (&sa->c_in, ike_cipher_free);
  g_clear_pointer (&sa->sk_d, ike_secret_free);
  g_clear_pointer (&sa->req, g_ptr_array_unref);
  g_clear_pointer (&sa->resp, g_ptr_array_unref);
  ike_frag_clear (sa);
  g_clear_pointer (&sa->remote_id, g_bytes_unref);
  g_clear_pointer (&sa->config, ike_config_unref);
  g_clear_pointer (&sa->create, ike_create_free);
  g_array_unref (sa->children);
  g_array_unref (sa->tasks);
  g_free (sa);
}

void
ike_sa_set_config (IkeSa *sa, IkeConfig *config)
{
  ike_config_ref (config);
  ike_engine_count_sa (sa->engine, sa, FALSE);
  g_clear_pointer (&sa->config, ike_config_unref);
  sa->config = config;
  ike_engine_count_sa (sa->engine, sa,
                       sa->state != IKE_STATE_TOMBSTONE && sa->state != IKE_STATE_DEAD);
}

PK11SymKey *
ike_sa_sk_d (IkeSa *sa, GError **error)
{
  return ike_symkey_from_bytes (sa->sk_d->data, sa->sk_d->len, error);
}

void
ike_sa_header (IkeSa *sa, IkeHeader *hdr, guint8 exchange, gboolean response, guint32 mid)
{
  *hdr = (IkeHeader){ .spi_i = sa->spi_i,
                      .spi_r = sa->spi_r,
                      .exchange = exchange,
                      .flags = (sa->initiator ? IKE_FLAG_INITIATOR : 0)
                               | (response ? IKE_FLAG_RESPONSE : 0),
                      .message_id = mid };
}

/* ---- Requests and responses ---- */

static gint64
retransmit_delay (IkeSa *sa)
{
  return sa->config->retransmit_base << MIN (sa->req_tries, MAX_BACKOFF_SHIFT);
}

/* Takes @packets. */
static void
send_packets (IkeSa *sa, gint64 now, IkeRequestKind kind, GPtrArray *packets)
{
  g_clear_pointer (&sa->req, g_ptr_array_unref);
  sa->req = packets;
  sa->req_kind = kind;
  sa->req_tries = 0;
  sa->req_due = now + retransmit_delay (sa);
  sa->mid_out++;
  ike_engine_emit_packets (sa->engine, &sa->ends, packets);
}

void
ike_sa_send_request (IkeSa *sa, gint64 now, IkeRequestKind kind, GBytes *msg)
{
  send_packets (sa, now, kind, ike_packets_new (msg));
}

void
ike_sa_request_done (IkeSa *sa)
{
  g_clear_pointer (&sa->req, g_ptr_array_unref);
  sa->req_kind = IKE_REQ_NONE;
}

gboolean
ike_sa_request (IkeSa *sa, gint64 now, IkeRequestKind kind, guint8 exchange, IkeInnerBuilder *inner)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *packets;
  IkeHeader hdr;

  ike_sa_header (sa, &hdr, exchange, FALSE, sa->mid_out);
  packets = ike_protect_seal (sa, &hdr, inner, &error);
  if (packets == NULL)
    {
      g_warning ("IKE SA %" G_GUINT64_FORMAT ": cannot build %s: %s", sa->handle,
                 ike_exchange_name (exchange), error->message);
      return FALSE;
    }
  send_packets (sa, now, kind, packets);
  return TRUE;
}

gboolean
ike_sa_respond (IkeSa *sa, IkeRx *rx, IkeInnerBuilder *inner)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *packets;
  IkeHeader hdr;

  ike_sa_header (sa, &hdr, rx->hdr->exchange, TRUE, rx->hdr->message_id);
  packets = ike_protect_seal (sa, &hdr, inner, &error);
  if (packets == NULL)
    {
      g_warning ("IKE SA %" G_GUINT64_FORMAT ": cannot answer %s: %s", sa->handle,
                 ike_exchange_name (hdr.exchange), error->message);
      return FALSE;
    }
  g_clear_pointer (&sa->resp, g_ptr_array_unref);
  sa->resp = packets;
  sa->mid_in = rx->hdr->message_id + 1;
  ike_engine_emit_packets (sa->engine, &sa->ends, packets);
  return TRUE;
}

/* A response that is one notify, with its data (e.g. INVALID_KE_PAYLOAD's
 * group) or none. */
gboolean
ike_sa_respond_notify_data (IkeSa *sa, IkeRx *rx, guint16 notify, GBytes *data)
{
  IkeInnerBuilder *inner = ike_inner_builder_new ();
  gsize len = 0;
  const guint8 *bytes = data != NULL ? g_bytes_get_data (data, &len) : NULL;

  if (!ike_inner_builder_add_notify (inner, notify, bytes, len, NULL))
    {
      ike_inner_builder_free (inner);
      return FALSE;
    }
  return ike_sa_respond (sa, rx, inner);
}

gboolean
ike_sa_respond_notify (IkeSa *sa, IkeRx *rx, guint16 notify)
{
  return ike_sa_respond_notify_data (sa, rx, notify, NULL);
}

/* ---- Timers ---- */

static gint64
dpd_due (IkeSa *sa)
{
  if (sa->state != IKE_STATE_ESTABLISHED || sa->config->dpd_delay == 0 || sa->req != NULL)
    return G_MAXINT64;
  return sa->last_rx + sa->config->dpd_delay;
}

gint64
ike_sa_deadline (IkeSa *sa)
{
  gint64 due = dpd_due (sa);

  if (sa->state == IKE_STATE_DEAD)
    return G_MAXINT64;
  if (sa->req != NULL)
    due = MIN (due, sa->req_due);
  due = MIN (due, ike_frag_deadline (sa));
  due = MIN (due, ike_nat_deadline (sa));
  if (sa->state == IKE_STATE_R_INIT_DONE || sa->state == IKE_STATE_REKEYED
      || sa->state == IKE_STATE_TOMBSTONE)
    due = MIN (due, sa->expire);
  return MIN (due, ike_task_deadline (sa));
}

static void
retransmit_exhausted (IkeSa *sa)
{
  g_autofree char *reason = g_strdup_printf (
      "no response to %s after %u retransmissions",
      ike_exchange_name (sa->req_kind == IKE_REQ_INIT   ? IKE_EXCHANGE_SA_INIT
                         : sa->req_kind == IKE_REQ_AUTH ? IKE_EXCHANGE_AUTH
                                                        : IKE_EXCHANGE_INFORMATIONAL),
      sa->req_tries);

  if (sa->state == IKE_STATE_DELETING || sa->state == IKE_STATE_REKEYED)
    ike_sa_end (sa, "deleted locally (the peer did not confirm)", 0, FALSE, FALSE);
  else if (sa->state == IKE_STATE_ESTABLISHED)
    ike_sa_end (sa, reason, 0, FALSE, TRUE);
  else
    ike_sa_fail (sa, reason, 0, FALSE);
}

static void
retransmit (IkeSa *sa, gint64 now)
{
  if (sa->req_kind == IKE_REQ_NOTIFY)
    {
      ike_sa_request_done (sa);
      return ike_task_kick (sa, now);
    }
  if (sa->req_tries >= sa->config->retransmit_limit)
    return retransmit_exhausted (sa);
  sa->req_tries++;
  sa->req_due = now + retransmit_delay (sa);
  ike_engine_emit_packets (sa->engine, &sa->ends, sa->req);
}

void
ike_sa_tick (IkeSa *sa, gint64 now)
{
  if (sa->state == IKE_STATE_R_INIT_DONE && now >= sa->expire)
    {
      /* Nobody asked for this SA: no event, one log line. */
      ike_engine_reject (sa->engine, &sa->ends, "half-open IKE SA expired without IKE_AUTH");
      sa->state = IKE_STATE_DEAD;
      ike_engine_bury (sa->engine, sa);
      return;
    }
  if (sa->state == IKE_STATE_TOMBSTONE && now >= sa->expire)
    {
      sa->state = IKE_STATE_DEAD;
      ike_engine_bury (sa->engine, sa);
      return;
    }
  /* The peer never deleted the SA it replaced by rekeying. */
  if (sa->state == IKE_STATE_REKEYED && now >= sa->expire)
    return ike_sa_end (sa, "rekeyed", 0, FALSE, FALSE);
  ike_frag_tick (sa, now);
  ike_nat_tick (sa, now);
  if (sa->req != NULL && now >= sa->req_due)
    retransmit (sa, now);
  else if (now >= dpd_due (sa))
    ike_info_start_dpd (sa, now);
  ike_task_lifetimes (sa, now);
  ike_task_kick (sa, now);
}

/* ---- The end ---- */

void
ike_sa_event_init (IkeSa *sa, IkeEvent *event, IkeEventKind kind)
{
  IkeConfig *config = sa->config;

  memset (event, 0, sizeof *event);
  event->kind = kind;
  event->sa = sa->handle;
  event->config = config != NULL ? g_strdup (config->name) : NULL;
  event->initiator = sa->initiator;
  event->ike = sa->suite;
  event->local_auth = sa->local_auth;
  event->remote_auth = sa->remote_auth;
  event->authenticated = sa->authenticated;
  event->nat_local = sa->nat_local;
  event->nat_remote = sa->nat_remote;
  if (config != NULL && config->local.id != NULL)
    {
      event->local_id_type = config->local.id_type;
      event->local_id = g_bytes_ref (config->local.id);
    }
  if (sa->remote_id != NULL)
    {
      event->remote_id_type = sa->remote_id_type;
      event->remote_id = g_bytes_ref (sa->remote_id);
    }
}

static void
sa_event (IkeSa *sa, IkeEventKind kind, const char *reason, guint16 notify, gboolean from_peer)
{
  IkeEvent event;

  ike_sa_event_init (sa, &event, kind);
  event.reason = g_strdup (reason);
  event.notify = notify;
  event.notify_from_peer = from_peer;
  ike_engine_emit_event (sa->engine, &event);
}

static void
bury_quietly (IkeSa *sa)
{
  g_array_set_size (sa->children, 0);
  sa->state = IKE_STATE_DEAD;
  ike_engine_bury (sa->engine, sa);
}

void
ike_sa_fail (IkeSa *sa, const char *reason, guint16 notify, gboolean from_peer)
{
  if (sa->state == IKE_STATE_DEAD)
    return;
  /* Reported already: a tombstone only goes. */
  if (sa->quiet || sa->state == IKE_STATE_TOMBSTONE)
    return bury_quietly (sa);
  if (sa->state == IKE_STATE_ESTABLISHED || sa->state == IKE_STATE_DELETING
      || sa->state == IKE_STATE_REKEYED)
    return ike_sa_end (sa, reason, notify, from_peer, FALSE);
  g_message ("IKE SA %" G_GUINT64_FORMAT " (%s) failed: %s", sa->handle,
             sa->config != NULL ? sa->config->name : "no config", reason);
  sa_event (sa, IKE_EVENT_IKE_FAILED, reason, notify, from_peer);
  sa->state = IKE_STATE_DEAD;
  ike_engine_bury (sa->engine, sa);
}

void
ike_sa_end (IkeSa *sa, const char *reason, guint16 notify, gboolean from_peer, gboolean peer_gone)
{
  IkeEvent event;

  if (sa->state == IKE_STATE_DEAD)
    return;
  if (sa->quiet)
    return bury_quietly (sa);
  /* A rekeyed SA's children live on in its successor. */
  if (sa->replaced_by != 0)
    reason = "rekeyed";
  ike_child_remove_all (sa, reason);
  g_message ("IKE SA %" G_GUINT64_FORMAT " (%s) down: %s", sa->handle, sa->config->name, reason);
  ike_sa_event_init (sa, &event, IKE_EVENT_IKE_DOWN);
  event.ike_replaced_by = sa->replaced_by;
  event.reason = g_strdup (reason);
  event.notify = notify;
  event.notify_from_peer = from_peer;
  event.peer_gone = peer_gone;
  event.action = sa->config->peer_gone;
  ike_engine_emit_event (sa->engine, &event);
  sa->state = IKE_STATE_DEAD;
  ike_engine_bury (sa->engine, sa);
}

void
ike_sa_tombstone (IkeSa *sa, const char *reason, guint16 notify)
{
  g_message ("IKE SA %" G_GUINT64_FORMAT " (%s) failed: %s", sa->handle,
             sa->config != NULL ? sa->config->name : "no config", reason);
  sa_event (sa, IKE_EVENT_IKE_FAILED, reason, notify, FALSE);
  ike_engine_register_half_open (sa->engine, sa, FALSE);
  ike_engine_count_sa (sa->engine, sa, FALSE);
  ike_sa_handshake_free (sa);
  g_clear_pointer (&sa->c_in, ike_cipher_free);
  g_clear_pointer (&sa->c_out, ike_cipher_free);
  g_clear_pointer (&sa->sk_d, ike_secret_free);
  sa->state = IKE_STATE_TOMBSTONE;
  sa->expire = ike_engine_now (sa->engine) + ike_engine_half_open_timeout (sa->engine);
}

void
ike_sa_inherit (IkeSa *sa, IkeSa *old)
{
  ike_sa_set_config (sa, old->config);
  sa->nat_local = old->nat_local;
  sa->nat_remote = old->nat_remote;
  sa->frag_peer = old->frag_peer;
  sa->authenticated = old->authenticated;
  sa->local_auth = old->local_auth;
  sa->remote_auth = old->remote_auth;
  sa->remote_id_type = old->remote_id_type;
  sa->remote_id = old->remote_id != NULL ? g_bytes_ref (old->remote_id) : NULL;
  sa->last_rx = ike_engine_now (sa->engine);
  ike_sa_handshake_free (sa);
}

void
ike_sa_report_up (IkeSa *sa)
{
  IkeEvent event;

  if (sa->up_reported)
    return;
  sa->up_reported = TRUE;
  ike_nat_start_keepalive (sa, ike_engine_now (sa->engine));
  ike_sa_event_init (sa, &event, IKE_EVENT_IKE_UP);
  event.ike_replaces = sa->replaces;
  ike_engine_emit_event (sa->engine, &event);
}
