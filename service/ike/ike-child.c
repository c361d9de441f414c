/* The first Child SA, negotiated inside IKE_AUTH (RFC 7296 §1.2, §2.9):
 * ESP proposals with an engine-drawn SPI, traffic selectors narrowed to the
 * intersection of both sides' (§2.9), USE_TRANSPORT_MODE (§1.3.1), keys
 * from KEYMAT (§2.17), and the KERNEL outputs that install and remove it. */
#include "ike-engine-private.h"

#include <string.h>

#define MIN_SPI 256 /* 1..255 are reserved by IANA (RFC 4303 §2.1) */

/* ---- Traffic selectors ---- */

static gsize
ts_addr_len (const IkeTs *ts)
{
  return ts->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : ts->type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 0;
}

static void
ts_from_addr (const struct sockaddr_storage *addr, IkeTs *ts)
{
  gsize len;
  guint16 port;
  const guint8 *bytes = ike_addr_bytes (addr, &len, &port);

  memset (ts, 0, sizeof *ts);
  ts->type = len == 4 ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
  ts->end_port = 65535;
  if (bytes != NULL)
    {
      memcpy (ts->start, bytes, len);
      memcpy (ts->end, bytes, len);
    }
}

/* Our configured selectors of one side, or that end's address. */
static guint
config_ts (IkeSa *sa, gboolean local, IkeTs *out)
{
  IkeConfig *config = sa->config;
  guint n = local ? config->n_ts_local : config->n_ts_remote;

  if (n == 0)
    {
      ts_from_addr (local ? &sa->ends.local : &sa->ends.remote, out);
      return 1;
    }
  memcpy (out, local ? config->ts_local : config->ts_remote, n * sizeof (IkeTs));
  return n;
}

static gboolean
ts_intersect (const IkeTs *a, const IkeTs *b, IkeTs *out)
{
  gsize alen = ts_addr_len (a);
  const guint8 *start, *end;

  if (alen == 0 || a->type != b->type || a->start_port > a->end_port || b->start_port > b->end_port)
    return FALSE;
  if (a->ip_proto != 0 && b->ip_proto != 0 && a->ip_proto != b->ip_proto)
    return FALSE;
  start = memcmp (a->start, b->start, alen) > 0 ? a->start : b->start;
  end = memcmp (a->end, b->end, alen) < 0 ? a->end : b->end;
  if (MAX (a->start_port, b->start_port) > MIN (a->end_port, b->end_port)
      || memcmp (start, end, alen) > 0)
    return FALSE;
  memset (out, 0, sizeof *out);
  out->type = a->type;
  out->ip_proto = a->ip_proto != 0 ? a->ip_proto : b->ip_proto;
  out->start_port = MAX (a->start_port, b->start_port);
  out->end_port = MIN (a->end_port, b->end_port);
  memcpy (out->start, start, alen);
  memcpy (out->end, end, alen);
  return TRUE;
}

/* The peer's selectors narrowed to ours: every non-empty intersection. */
static guint
ts_narrow (const IkePayloadTs *peer, const IkeTs *ours, guint n_ours, IkeTs *out)
{
  guint n = 0;

  for (guint i = 0; i < peer->n_ts && n < IKE_CONFIG_MAX_TS; i++)
    for (guint j = 0; j < n_ours && n < IKE_CONFIG_MAX_TS; j++)
      if (ts_intersect (&peer->ts[i], &ours[j], &out[n]))
        n++;
  return n;
}

/* Initiator: each selector the responder chose lies within one we offered. */
static gboolean
ts_within (const IkePayloadTs *got, const IkeTs *offered, guint n_offered, IkeTs *out)
{
  IkeTs common;

  if (got->n_ts == 0 || got->n_ts > IKE_CONFIG_MAX_TS)
    return FALSE;
  for (guint i = 0; i < got->n_ts; i++)
    {
      gboolean inside = FALSE;

      for (guint j = 0; j < n_offered && !inside; j++)
        inside = ts_intersect (&got->ts[i], &offered[j], &common)
                 && common.ip_proto == got->ts[i].ip_proto
                 && common.start_port == got->ts[i].start_port
                 && common.end_port == got->ts[i].end_port
                 && memcmp (common.start, got->ts[i].start, ts_addr_len (&common)) == 0
                 && memcmp (common.end, got->ts[i].end, ts_addr_len (&common)) == 0;
      if (!inside)
        return FALSE;
      out[i] = got->ts[i];
      out[i].opaque = (IkeSlice){ NULL, 0 };
    }
  return TRUE;
}

static gboolean
add_ts (IkeInnerBuilder *inner, IkePayloadType type, const IkeTs *ts, guint n, GError **error)
{
  IkePayload p = { .type = type };

  p.u.ts.n_ts = n;
  p.u.ts.ts = ts;
  return ike_inner_builder_add (inner, &p, error);
}

/* ---- Proposals and keys ---- */

static gboolean
random_spi (guint32 *spi, GError **error)
{
  do
    if (!ike_random_bytes ((guint8 *) spi, sizeof *spi, error))
      return FALSE;
  while (GUINT32_FROM_BE (*spi) < MIN_SPI);
  *spi = GUINT32_FROM_BE (*spi);
  return TRUE;
}

/* Our ESP offers for IKE_AUTH: no KE (§1.2), our inbound SPI in each. */
static void
esp_offers (IkeConfig *config, guint32 spi, IkeProposal *out)
{
  guint32 be = GUINT32_TO_BE (spi);

  for (guint i = 0; i < config->esp.n_proposals; i++)
    {
      out[i] = config->esp.proposals[i];
      ike_proposal_remove_type (&out[i], IKE_TRANSFORM_KE);
      out[i].spi_len = spi != 0 ? 4 : 0;
      memcpy (out[i].spi, &be, 4);
    }
}

static void
child_fail (IkeHandshake *hs, const char *reason, guint16 notify, gboolean from_peer)
{
  g_free (hs->child_error);
  hs->child_error = g_strdup (reason);
  hs->child_notify = notify;
  hs->child_notify_from_peer = from_peer;
}

/* The KERNEL install for the first Child SA, with keys from KEYMAT. */
static gboolean
prepare_install (IkeSa *sa, const IkeProposal *chosen, guint32 spi_in, guint32 spi_out,
                 IkeMode mode, GError **error)
{
  IkeHandshake *hs = sa->hs;
  IkeKernelRequest *k = g_new0 (IkeKernelRequest, 1);
  g_auto (IkeChildKeys) keys = { 0 };
  IkeCipherSpec spec;

  hs->child = k;
  k->op = IKE_KERNEL_INSTALL;
  k->sa = sa->handle;
  k->ends = sa->ends;
  k->protocol = IKE_PROTO_ESP;
  k->mode = mode;
  k->spi_in = spi_in;
  k->spi_out = spi_out;
  ike_suite_from_proposal (&k->esp, chosen);
  spec = (IkeCipherSpec){ k->esp.encr, k->esp.key_bits, k->esp.integ };
  if (!ike_child_keys_derive (&keys, sa->suite.prf, &spec, sa->sk_d, NULL, hs->ni, hs->nr, error))
    return FALSE;
  /* encr_i/integ_i protect what the initiator sends. */
  if (sa->initiator)
    {
      k->encr_in = g_steal_pointer (&keys.encr_r);
      k->integ_in = g_steal_pointer (&keys.integ_r);
      k->encr_out = g_steal_pointer (&keys.encr_i);
      k->integ_out = g_steal_pointer (&keys.integ_i);
    }
  else
    {
      k->encr_in = g_steal_pointer (&keys.encr_i);
      k->integ_in = g_steal_pointer (&keys.integ_i);
      k->encr_out = g_steal_pointer (&keys.encr_r);
      k->integ_out = g_steal_pointer (&keys.integ_r);
    }
  return TRUE;
}

/* ---- Initiator ---- */

gboolean
ike_child_add_request (IkeSa *sa, IkeInnerBuilder *inner, GError **error)
{
  IkeConfig *config = sa->config;
  IkeProposal offers[IKE_MAX_PROPOSALS];
  IkeTs local[IKE_CONFIG_MAX_TS], remote[IKE_CONFIG_MAX_TS];
  guint n_local = config_ts (sa, TRUE, local), n_remote = config_ts (sa, FALSE, remote);
  IkePayload p = { .type = IKE_PAYLOAD_SA };

  if (config->childless)
    return TRUE;
  if (!random_spi (&sa->hs->child_spi, error))
    return FALSE;
  esp_offers (config, sa->hs->child_spi, offers);
  p.u.sa.n_proposals = config->esp.n_proposals;
  p.u.sa.proposals = offers;
  if (config->mode == IKE_MODE_TRANSPORT
      && !ike_inner_builder_add_notify (inner, IKE_N_USE_TRANSPORT_MODE, NULL, 0, error))
    return FALSE;
  return ike_inner_builder_add (inner, &p, error)
         && add_ts (inner, IKE_PAYLOAD_TSI, local, n_local, error)
         && add_ts (inner, IKE_PAYLOAD_TSR, remote, n_remote, error);
}

static const guint16 child_errors[] = {
  IKE_N_NO_PROPOSAL_CHOSEN,       IKE_N_TS_UNACCEPTABLE,    IKE_N_SINGLE_PAIR_REQUIRED,
  IKE_N_INTERNAL_ADDRESS_FAILURE, IKE_N_FAILED_CP_REQUIRED, IKE_N_NO_ADDITIONAL_SAS,
};

/* Reads the Child SA part of a successful IKE_AUTH response. */
static gboolean
read_child_response (IkeRx *rx, IkeKernelRequest *k_ts, IkeProposal *chosen, const char **why)
{
  IkeSa *sa = rx->sa;
  IkeConfig *config = sa->config;
  const IkePayload *sa_p = ike_rx_find (rx, IKE_PAYLOAD_SA);
  const IkePayload *tsi = ike_rx_find (rx, IKE_PAYLOAD_TSI);
  const IkePayload *tsr = ike_rx_find (rx, IKE_PAYLOAD_TSR);
  IkeProposal offers[IKE_MAX_PROPOSALS];
  IkeTs local[IKE_CONFIG_MAX_TS], remote[IKE_CONFIG_MAX_TS];
  guint n_local = config_ts (sa, TRUE, local), n_remote = config_ts (sa, FALSE, remote);

  *why = "the responder's Child SA is incomplete";
  if (sa_p == NULL || tsi == NULL || tsr == NULL || sa_p->u.sa.n_proposals != 1)
    return FALSE;
  esp_offers (config, sa->hs->child_spi, offers);
  *why = "the responder chose an ESP proposal we did not offer";
  if (!ike_proposal_check_reply (offers, config->esp.n_proposals, &sa_p->u.sa.proposals[0], NULL,
                                 NULL)
      || sa_p->u.sa.proposals[0].spi_len != 4)
    return FALSE;
  *chosen = sa_p->u.sa.proposals[0];
  *why = "the responder's traffic selectors are wider than ours";
  if (!ts_within (&tsi->u.ts, local, n_local, k_ts->ts_local)
      || !ts_within (&tsr->u.ts, remote, n_remote, k_ts->ts_remote))
    return FALSE;
  k_ts->n_ts_local = tsi->u.ts.n_ts;
  k_ts->n_ts_remote = tsr->u.ts.n_ts;
  return TRUE;
}

void
ike_child_handle_response (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  IkeKernelRequest ts = { 0 };
  IkeProposal chosen;
  const char *why = NULL;
  guint32 spi_out;
  IkeMode mode;
  g_autoptr (GError) error = NULL;

  if (sa->config->childless)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (child_errors); i++)
    if (ike_rx_notify (rx, child_errors[i]) != NULL)
      return child_fail (sa->hs, "the responder refused the Child SA", child_errors[i], TRUE);
  if (!read_child_response (rx, &ts, &chosen, &why))
    return child_fail (sa->hs, why, 0, FALSE);
  memcpy (&spi_out, chosen.spi, 4);
  mode
      = ike_rx_notify (rx, IKE_N_USE_TRANSPORT_MODE) != NULL ? IKE_MODE_TRANSPORT : IKE_MODE_TUNNEL;
  if (!prepare_install (sa, &chosen, sa->hs->child_spi, GUINT32_FROM_BE (spi_out), mode, &error))
    return child_fail (sa->hs, error->message, 0, FALSE);
  memcpy (sa->hs->child->ts_local, ts.ts_local, sizeof ts.ts_local);
  memcpy (sa->hs->child->ts_remote, ts.ts_remote, sizeof ts.ts_remote);
  sa->hs->child->n_ts_local = ts.n_ts_local;
  sa->hs->child->n_ts_remote = ts.n_ts_remote;
}

/* ---- Responder ---- */

/* Answers the Child SA request: SA/TS, or the notify saying why not (the
 * IKE SA comes up either way). */
static gboolean
respond_child (IkeRx *rx, IkeInnerBuilder *inner, IkeProposal *chosen, IkeKernelRequest *k,
               GError **error)
{
  IkeSa *sa = rx->sa;
  IkeConfig *config = sa->config;
  const IkePayloadSa *peer = &ike_rx_find (rx, IKE_PAYLOAD_SA)->u.sa;
  IkeProposal ours[IKE_MAX_PROPOSALS];
  IkeTs local[IKE_CONFIG_MAX_TS], remote[IKE_CONFIG_MAX_TS];
  guint n_local = config_ts (sa, TRUE, local), n_remote = config_ts (sa, FALSE, remote);
  guint16 refusal = 0;

  esp_offers (config, 0, ours);
  if (!ike_proposal_select (ours, config->esp.n_proposals, peer->proposals, peer->n_proposals,
                            IKE_PROPOSAL_PEER_ORDER, chosen, NULL)
      || chosen->spi_len != 4)
    refusal = IKE_N_NO_PROPOSAL_CHOSEN;
  else
    {
      k->n_ts_remote
          = ts_narrow (&ike_rx_find (rx, IKE_PAYLOAD_TSI)->u.ts, remote, n_remote, k->ts_remote);
      k->n_ts_local
          = ts_narrow (&ike_rx_find (rx, IKE_PAYLOAD_TSR)->u.ts, local, n_local, k->ts_local);
      if (k->n_ts_local == 0 || k->n_ts_remote == 0)
        refusal = IKE_N_TS_UNACCEPTABLE;
    }
  if (refusal != 0)
    {
      child_fail (sa->hs, "the initiator's Child SA does not fit our configuration", refusal,
                  FALSE);
      return ike_inner_builder_add_notify (inner, refusal, NULL, 0, error);
    }
  k->mode
      = ike_rx_notify (rx, IKE_N_USE_TRANSPORT_MODE) != NULL && config->mode == IKE_MODE_TRANSPORT
            ? IKE_MODE_TRANSPORT
            : IKE_MODE_TUNNEL;
  return TRUE;
}

gboolean
ike_child_respond (IkeRx *rx, IkeInnerBuilder *inner, GError **error)
{
  IkeSa *sa = rx->sa;
  const guint32 want
      = IKE_PBIT (IKE_PAYLOAD_SA) | IKE_PBIT (IKE_PAYLOAD_TSI) | IKE_PBIT (IKE_PAYLOAD_TSR);
  IkeKernelRequest k = { 0 };
  IkeProposal chosen;
  IkePayload p = { .type = IKE_PAYLOAD_SA };
  guint32 spi_in, spi_out, be;

  if ((rx->present & want) == 0)
    return TRUE; /* childless (RFC 6023): we announced support in IKE_SA_INIT */
  if ((rx->present & want) != want)
    return ike_inner_builder_add_notify (inner, IKE_N_INVALID_SYNTAX, NULL, 0, error);
  if (!respond_child (rx, inner, &chosen, &k, error))
    return FALSE;
  if (sa->hs->child_error != NULL)
    return TRUE;
  memcpy (&spi_out, chosen.spi, 4);
  if (!random_spi (&spi_in, error)
      || !prepare_install (sa, &chosen, spi_in, GUINT32_FROM_BE (spi_out), k.mode, error))
    return FALSE;
  memcpy (sa->hs->child->ts_local, k.ts_local, sizeof k.ts_local);
  memcpy (sa->hs->child->ts_remote, k.ts_remote, sizeof k.ts_remote);
  sa->hs->child->n_ts_local = k.n_ts_local;
  sa->hs->child->n_ts_remote = k.n_ts_remote;
  be = GUINT32_TO_BE (spi_in);
  memcpy (chosen.spi, &be, 4);
  p.u.sa.n_proposals = 1;
  p.u.sa.proposals = &chosen;
  if (k.mode == IKE_MODE_TRANSPORT
      && !ike_inner_builder_add_notify (inner, IKE_N_USE_TRANSPORT_MODE, NULL, 0, error))
    return FALSE;
  return ike_inner_builder_add (inner, &p, error)
         && add_ts (inner, IKE_PAYLOAD_TSI, k.ts_remote, k.n_ts_remote, error)
         && add_ts (inner, IKE_PAYLOAD_TSR, k.ts_local, k.n_ts_local, error);
}

/* ---- Reporting ---- */

static void
child_event (IkeSa *sa, IkeEventKind kind, const IkeChild *child, const char *reason,
             guint16 notify, gboolean from_peer)
{
  IkeEvent event;

  ike_sa_event_init (sa, &event, kind);
  event.reason = g_strdup (reason);
  event.notify = notify;
  event.notify_from_peer = from_peer;
  if (child != NULL)
    {
      event.spi_in = child->spi_in;
      event.spi_out = child->spi_out;
      event.esp = child->esp;
      event.mode = child->mode;
    }
  ike_engine_emit_event (sa->engine, &event);
}

void
ike_child_commit (IkeSa *sa)
{
  IkeHandshake *hs = sa->hs;
  IkeChild child = { 0 };

  if (hs->child_error != NULL)
    return child_event (sa, IKE_EVENT_CHILD_FAILED, NULL, hs->child_error, hs->child_notify,
                        hs->child_notify_from_peer);
  if (hs->child == NULL)
    return;
  child.spi_in = hs->child->spi_in;
  child.spi_out = hs->child->spi_out;
  child.esp = hs->child->esp;
  child.mode = hs->child->mode;
  g_array_append_val (sa->children, child);
  ike_engine_emit_kernel (sa->engine, hs->child);
  g_clear_pointer (&hs->child, g_free);
  child_event (sa, IKE_EVENT_CHILD_UP, &child, NULL, 0, FALSE);
}

void
ike_child_pending_free (IkeHandshake *hs)
{
  if (hs->child != NULL)
    {
      IkeOutput wipe = { .kernel = *hs->child };

      ike_output_clear (&wipe);
      g_clear_pointer (&hs->child, g_free);
    }
  g_clear_pointer (&hs->child_error, g_free);
}

IkeChild *
ike_child_find (IkeSa *sa, guint32 spi_in)
{
  for (guint i = 0; i < sa->children->len; i++)
    if (g_array_index (sa->children, IkeChild, i).spi_in == spi_in)
      return &g_array_index (sa->children, IkeChild, i);
  return NULL;
}

void
ike_child_remove_all (IkeSa *sa, const char *reason)
{
  for (guint i = 0; i < sa->children->len; i++)
    {
      const IkeChild *child = &g_array_index (sa->children, IkeChild, i);
      IkeKernelRequest k = { .op = IKE_KERNEL_REMOVE,
                             .sa = sa->handle,
                             .ends = sa->ends,
                             .protocol = IKE_PROTO_ESP,
                             .mode = child->mode,
                             .spi_in = child->spi_in,
                             .spi_out = child->spi_out,
                             .esp = child->esp };

      ike_engine_emit_kernel (sa->engine, &k);
      child_event (sa, IKE_EVENT_CHILD_DOWN, child, reason, 0, FALSE);
    }
  g_array_set_size (sa->children, 0);
}
