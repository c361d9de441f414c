/* Child SAs (RFC 7296 §1.2, §2.9, §2.17): the first one, negotiated inside
 * IKE_AUTH, and the pieces CREATE_CHILD_SA shares with it (ike-exch-child.c):
 * ESP proposals with an engine-drawn SPI, traffic selectors narrowed to the
 * intersection of both sides' (ike-ts.c), USE_TRANSPORT_MODE (§1.3.1), keys
 * from KEYMAT, the KERNEL outputs that install and remove them, and their
 * events. */
#include "ike-engine-private.h"

#include <string.h>

#define MIN_SPI 256 /* 1..255 are reserved by IANA (RFC 4303 §2.1) */

/* ---- Proposals and keys ---- */

gboolean
ike_child_random_spi (guint32 *spi, GError **error)
{
  do
    if (!ike_random_bytes ((guint8 *) spi, sizeof *spi, error))
      return FALSE;
  while (GUINT32_FROM_BE (*spi) < MIN_SPI);
  *spi = GUINT32_FROM_BE (*spi);
  return TRUE;
}

/* IKE_AUTH offers no KE (§1.2); CREATE_CHILD_SA keeps it for PFS. */
void
ike_child_esp_offers (IkeConfig *config, guint32 spi, gboolean with_ke, IkeProposal *out)
{
  guint32 be = GUINT32_TO_BE (spi);

  for (guint i = 0; i < config->esp.n_proposals; i++)
    {
      out[i] = config->esp.proposals[i];
      if (!with_ke)
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

gboolean
ike_child_derive (IkeSa *sa, IkeKernelRequest *k, gboolean exch_initiator, PK11SymKey *g_ir,
                  GBytes *ni, GBytes *nr, GError **error)
{
  g_auto (IkeChildKeys) keys = { 0 };
  IkeCipherSpec spec = { k->esp.encr, k->esp.key_bits, k->esp.integ };
  g_autoptr (PK11SymKey) sk_d = ike_sa_sk_d (sa, error);

  if (sk_d == NULL
      || !ike_child_keys_derive (&keys, sa->suite.prf, &spec, sk_d, g_ir, ni, nr, error))
    return FALSE;
  {
    /* encr_i/integ_i protect what the exchange's initiator sends. */
    IkeSecret **in_e = exch_initiator ? &keys.encr_r : &keys.encr_i;
    IkeSecret **in_a = exch_initiator ? &keys.integ_r : &keys.integ_i;
    IkeSecret **out_e = exch_initiator ? &keys.encr_i : &keys.encr_r;
    IkeSecret **out_a = exch_initiator ? &keys.integ_i : &keys.integ_r;

    k->encr_in = g_steal_pointer (in_e);
    k->integ_in = g_steal_pointer (in_a);
    k->encr_out = g_steal_pointer (out_e);
    k->integ_out = g_steal_pointer (out_a);
  }
  return TRUE;
}

void
ike_child_request (IkeSa *sa, const IkeChild *child, IkeKernelOp op, IkeKernelRequest *k)
{
  *k = (IkeKernelRequest){ .op = op,
                           .sa = sa->handle,
                           .ends = sa->ends,
                           .protocol = IKE_PROTO_ESP,
                           .mode = child->mode,
                           .spi_in = child->spi_in,
                           .spi_out = child->spi_out,
                           .esp = child->esp,
                           .n_ts_local = child->n_ts_local,
                           .n_ts_remote = child->n_ts_remote };
  memcpy (k->ts_local, child->ts_local, sizeof k->ts_local);
  memcpy (k->ts_remote, child->ts_remote, sizeof k->ts_remote);
  ike_nat_encap (sa, k);
}

/* ---- The first Child SA: initiator ---- */

gboolean
ike_child_add_request (IkeSa *sa, IkeInnerBuilder *inner, GError **error)
{
  IkeConfig *config = sa->config;
  IkeProposal offers[IKE_MAX_PROPOSALS];
  IkeTs local[IKE_CONFIG_MAX_TS], remote[IKE_CONFIG_MAX_TS];
  guint n_local = ike_ts_config (sa, TRUE, local), n_remote = ike_ts_config (sa, FALSE, remote);
  IkePayload p = { .type = IKE_PAYLOAD_SA };

  if (config->childless)
    return TRUE;
  if (!ike_child_random_spi (&sa->hs->child_spi, error))
    return FALSE;
  ike_child_esp_offers (config, sa->hs->child_spi, FALSE, offers);
  p.u.sa.n_proposals = config->esp.n_proposals;
  p.u.sa.proposals = offers;
  if (config->mode == IKE_MODE_TRANSPORT
      && !ike_inner_builder_add_notify (inner, IKE_N_USE_TRANSPORT_MODE, NULL, 0, error))
    return FALSE;
  return ike_inner_builder_add (inner, &p, error)
         && ike_ts_add (inner, IKE_PAYLOAD_TSI, local, n_local, error)
         && ike_ts_add (inner, IKE_PAYLOAD_TSR, remote, n_remote, error);
}

static const guint16 child_errors[] = {
  IKE_N_NO_PROPOSAL_CHOSEN,       IKE_N_TS_UNACCEPTABLE,    IKE_N_SINGLE_PAIR_REQUIRED,
  IKE_N_INTERNAL_ADDRESS_FAILURE, IKE_N_FAILED_CP_REQUIRED, IKE_N_NO_ADDITIONAL_SAS,
  IKE_N_INVALID_KE_PAYLOAD,       IKE_N_CHILD_SA_NOT_FOUND, IKE_N_TEMPORARY_FAILURE,
};

guint16
ike_child_error_notify (IkeRx *rx)
{
  for (guint i = 0; i < G_N_ELEMENTS (child_errors); i++)
    if (ike_rx_notify (rx, child_errors[i]) != NULL)
      return child_errors[i];
  return 0;
}

/* Initiator: the Child SA part of a successful response against what we
 * offered (@k: mode and selectors on entry, what was agreed on return). */
gboolean
ike_child_read_reply (IkeRx *rx, const IkeProposal *offers, guint n_offers, IkeKernelRequest *k,
                      IkeProposal *chosen, const char **why)
{
  const IkePayload *sa_p = ike_rx_find (rx, IKE_PAYLOAD_SA);
  const IkePayload *tsi = ike_rx_find (rx, IKE_PAYLOAD_TSI);
  const IkePayload *tsr = ike_rx_find (rx, IKE_PAYLOAD_TSR);
  gboolean transport = ike_rx_notify (rx, IKE_N_USE_TRANSPORT_MODE) != NULL;
  IkeTs local[IKE_CONFIG_MAX_TS], remote[IKE_CONFIG_MAX_TS];
  guint32 spi_out;

  *why = "the responder's Child SA is incomplete";
  if (sa_p == NULL || tsi == NULL || tsr == NULL || sa_p->u.sa.n_proposals != 1)
    return FALSE;
  *why = "the responder chose an ESP proposal we did not offer";
  if (!ike_proposal_check_reply (offers, n_offers, &sa_p->u.sa.proposals[0], NULL, NULL)
      || sa_p->u.sa.proposals[0].spi_len != 4)
    return FALSE;
  *chosen = sa_p->u.sa.proposals[0];
  /* §1.3.1: transport mode only when asked, and tunnel instead only when
   * the config accepts it. */
  *why = transport ? "the responder chose transport mode, we asked for tunnel"
                   : "the responder refused transport mode";
  if (transport != (k->mode == IKE_MODE_TRANSPORT))
    {
      if (transport || rx->sa == NULL || !rx->sa->config->accept_tunnel)
        return FALSE;
      k->mode = IKE_MODE_TUNNEL;
    }
  *why = "the responder's traffic selectors are wider than ours";
  memcpy (local, k->ts_local, sizeof local);
  memcpy (remote, k->ts_remote, sizeof remote);
  if (!ike_ts_within (&tsi->u.ts, local, k->n_ts_local, k->ts_local)
      || !ike_ts_within (&tsr->u.ts, remote, k->n_ts_remote, k->ts_remote))
    return FALSE;
  k->n_ts_local = tsi->u.ts.n_ts;
  k->n_ts_remote = tsr->u.ts.n_ts;
  memcpy (&spi_out, chosen->spi, 4);
  k->spi_out = GUINT32_FROM_BE (spi_out);
  ike_suite_from_proposal (&k->esp, chosen);
  return TRUE;
}

void
ike_child_handle_response (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  IkeKernelRequest *k;
  IkeProposal offers[IKE_MAX_PROPOSALS], chosen;
  const char *why = NULL;
  guint16 refused;
  g_autoptr (GError) error = NULL;

  if (sa->config->childless)
    return;
  if ((refused = ike_child_error_notify (rx)) != 0)
    return child_fail (sa->hs, "the responder refused the Child SA", refused, TRUE);
  k = g_new0 (IkeKernelRequest, 1);
  k->op = IKE_KERNEL_INSTALL;
  k->protocol = IKE_PROTO_ESP;
  k->mode = sa->config->mode;
  k->spi_in = sa->hs->child_spi;
  k->n_ts_local = ike_ts_config (sa, TRUE, k->ts_local);
  k->n_ts_remote = ike_ts_config (sa, FALSE, k->ts_remote);
  sa->hs->child = k;
  ike_child_esp_offers (sa->config, sa->hs->child_spi, FALSE, offers);
  if (ike_child_read_reply (rx, offers, sa->config->esp.n_proposals, k, &chosen, &why)
      && ike_child_derive (sa, k, sa->initiator, NULL, sa->hs->ni, sa->hs->nr, &error))
    return;
  ike_child_pending_free (sa->hs);
  child_fail (sa->hs, error != NULL ? error->message : why, 0, FALSE);
  /* The responder installed what it answered: ask it to delete it. */
  if (ike_rx_find (rx, IKE_PAYLOAD_SA) != NULL)
    ike_task_add (sa, IKE_TASK_DELETE_CHILD, sa->hs->child_spi);
}

/* ---- Responder ---- */

/* The ESP proposal, selectors and mode for the initiator's request, or the
 * notify that refuses it. */
guint16
ike_child_choose (IkeRx *rx, const IkeProposal *ours, guint n_ours, IkeProposal *chosen,
                  IkeKernelRequest *k)
{
  IkeSa *sa = rx->sa;
  const IkePayloadSa *peer = &ike_rx_find (rx, IKE_PAYLOAD_SA)->u.sa;
  IkeTs local[IKE_CONFIG_MAX_TS], remote[IKE_CONFIG_MAX_TS];
  guint n_local = ike_ts_config (sa, TRUE, local), n_remote = ike_ts_config (sa, FALSE, remote);

  if (!ike_proposal_select (ours, n_ours, peer->proposals, peer->n_proposals,
                            IKE_PROPOSAL_PEER_ORDER, chosen, NULL)
      || chosen->spi_len != 4)
    return IKE_N_NO_PROPOSAL_CHOSEN;
  k->n_ts_remote
      = ike_ts_narrow (&ike_rx_find (rx, IKE_PAYLOAD_TSI)->u.ts, remote, n_remote, k->ts_remote);
  k->n_ts_local
      = ike_ts_narrow (&ike_rx_find (rx, IKE_PAYLOAD_TSR)->u.ts, local, n_local, k->ts_local);
  if (k->n_ts_local == 0 || k->n_ts_remote == 0)
    return IKE_N_TS_UNACCEPTABLE;
  k->mode = ike_rx_notify (rx, IKE_N_USE_TRANSPORT_MODE) != NULL
                    && sa->config->mode == IKE_MODE_TRANSPORT
                ? IKE_MODE_TRANSPORT
                : IKE_MODE_TUNNEL;
  ike_suite_from_proposal (&k->esp, chosen);
  return 0;
}

/* Responder: the answer's SA (with our inbound SPI), TS and mode. */
gboolean
ike_child_add_reply (IkeInnerBuilder *inner, IkeProposal *chosen, const IkeKernelRequest *k,
                     GError **error)
{
  IkePayload p = { .type = IKE_PAYLOAD_SA };
  guint32 be = GUINT32_TO_BE (k->spi_in);

  memcpy (chosen->spi, &be, 4);
  p.u.sa.n_proposals = 1;
  p.u.sa.proposals = chosen;
  if (k->mode == IKE_MODE_TRANSPORT
      && !ike_inner_builder_add_notify (inner, IKE_N_USE_TRANSPORT_MODE, NULL, 0, error))
    return FALSE;
  return ike_inner_builder_add (inner, &p, error)
         && ike_ts_add (inner, IKE_PAYLOAD_TSI, k->ts_remote, k->n_ts_remote, error)
         && ike_ts_add (inner, IKE_PAYLOAD_TSR, k->ts_local, k->n_ts_local, error);
}

gboolean
ike_child_respond (IkeRx *rx, IkeInnerBuilder *inner, GError **error)
{
  IkeSa *sa = rx->sa;
  const guint32 want
      = IKE_PBIT (IKE_PAYLOAD_SA) | IKE_PBIT (IKE_PAYLOAD_TSI) | IKE_PBIT (IKE_PAYLOAD_TSR);
  IkeKernelRequest *k;
  IkeProposal ours[IKE_MAX_PROPOSALS], chosen;
  guint32 spi_out;
  guint16 refusal;

  if ((rx->present & want) == 0)
    return TRUE; /* childless (RFC 6023): we announced support in IKE_SA_INIT */
  if ((rx->present & want) != want)
    return ike_inner_builder_add_notify (inner, IKE_N_INVALID_SYNTAX, NULL, 0, error);
  ike_child_esp_offers (sa->config, 0, FALSE, ours);
  k = sa->hs->child = g_new0 (IkeKernelRequest, 1);
  refusal = ike_child_choose (rx, ours, sa->config->esp.n_proposals, &chosen, k);
  if (refusal != 0)
    {
      ike_child_pending_free (sa->hs);
      child_fail (sa->hs, "the initiator's Child SA does not fit our configuration", refusal,
                  FALSE);
      return ike_inner_builder_add_notify (inner, refusal, NULL, 0, error);
    }
  k->op = IKE_KERNEL_INSTALL;
  k->protocol = IKE_PROTO_ESP;
  memcpy (&spi_out, chosen.spi, 4);
  k->spi_out = GUINT32_FROM_BE (spi_out);
  return ike_child_random_spi (&k->spi_in, error)
         && ike_child_derive (sa, k, FALSE, NULL, sa->hs->ni, sa->hs->nr, error)
         && ike_child_add_reply (inner, &chosen, k, error);
}

/* ---- Installing, reporting, removing ---- */

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
ike_child_fail_event (IkeSa *sa, const char *reason, guint16 notify, gboolean from_peer)
{
  child_event (sa, IKE_EVENT_CHILD_FAILED, NULL, reason, notify, from_peer);
}

void
ike_child_install (IkeSa *sa, IkeKernelRequest *k, guint32 replaces)
{
  IkeConfig *config = sa->config;
  gint64 now = ike_engine_now (sa->engine);
  IkeChild child = { 0 };
  IkeEvent event;

  child.spi_in = k->spi_in;
  child.spi_out = k->spi_out;
  child.esp = k->esp;
  child.mode = k->mode;
  child.n_ts_local = k->n_ts_local;
  child.n_ts_remote = k->n_ts_remote;
  memcpy (child.ts_local, k->ts_local, sizeof child.ts_local);
  memcpy (child.ts_remote, k->ts_remote, sizeof child.ts_remote);
  child.rekey_at = ike_config_rekey_time (config, now, config->child_soft);
  child.expire_at = config->child_hard > 0 ? now + config->child_hard : G_MAXINT64;
  g_array_append_val (sa->children, child);
  k->op = IKE_KERNEL_INSTALL;
  k->sa = sa->handle;
  k->ends = sa->ends;
  k->protocol = IKE_PROTO_ESP;
  ike_nat_encap (sa, k);
  ike_engine_emit_kernel (sa->engine, k);
  ike_sa_event_init (sa, &event, IKE_EVENT_CHILD_UP);
  event.spi_in = child.spi_in;
  event.spi_out = child.spi_out;
  event.esp = child.esp;
  event.mode = child.mode;
  event.child_replaces = replaces;
  ike_engine_emit_event (sa->engine, &event);
}

void
ike_child_commit (IkeSa *sa)
{
  IkeHandshake *hs = sa->hs;

  if (hs->child_error != NULL)
    return ike_child_fail_event (sa, hs->child_error, hs->child_notify, hs->child_notify_from_peer);
  if (hs->child == NULL)
    return;
  ike_child_install (sa, hs->child, 0);
  g_clear_pointer (&hs->child, g_free);
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

IkeChild *
ike_child_find_out (IkeSa *sa, guint32 spi_out)
{
  for (guint i = 0; i < sa->children->len; i++)
    if (g_array_index (sa->children, IkeChild, i).spi_out == spi_out)
      return &g_array_index (sa->children, IkeChild, i);
  return NULL;
}

static void
remove_at (IkeSa *sa, guint index, const char *reason, gboolean from_peer)
{
  const IkeChild *child = &g_array_index (sa->children, IkeChild, index);
  IkeKernelRequest k;
  IkeEvent event;

  ike_child_request (sa, child, IKE_KERNEL_REMOVE, &k);
  ike_engine_emit_kernel (sa->engine, &k);
  ike_sa_event_init (sa, &event, IKE_EVENT_CHILD_DOWN);
  /* An old SA of a rekey goes down because its successor is up. */
  event.reason = g_strdup (child->replaced_by != 0 ? "rekeyed" : reason);
  event.notify_from_peer = from_peer;
  event.spi_in = child->spi_in;
  event.spi_out = child->spi_out;
  event.esp = child->esp;
  event.mode = child->mode;
  event.child_replaced_by = child->replaced_by;
  ike_engine_emit_event (sa->engine, &event);
  g_array_remove_index (sa->children, index);
}

void
ike_child_remove (IkeSa *sa, guint32 spi_in, const char *reason, gboolean from_peer)
{
  for (guint i = 0; i < sa->children->len; i++)
    if (g_array_index (sa->children, IkeChild, i).spi_in == spi_in)
      return remove_at (sa, i, reason, from_peer);
}

void
ike_child_remove_all (IkeSa *sa, const char *reason)
{
  while (sa->children->len > 0)
    remove_at (sa, 0, reason, FALSE);
}

/* Nonce, then KE when @dh is set (PFS, or an IKE rekey): the payloads a
 * CREATE_CHILD_SA request and its reply carry beside the SA. */
gboolean
ike_child_add_nonce_ke (IkeInnerBuilder *inner, GBytes *nonce, IkeDh *dh, GError **error)
{
  IkePayload no_p = { .type = IKE_PAYLOAD_NONCE };
  IkePayload ke_p = { .type = IKE_PAYLOAD_KE };
  g_autoptr (GBytes) pub = NULL;

  no_p.u.nonce.data = g_bytes_get_data (nonce, &no_p.u.nonce.len);
  if (!ike_inner_builder_add (inner, &no_p, error))
    return FALSE;
  if (dh == NULL)
    return TRUE;
  pub = ike_dh_get_public (dh);
  ke_p.u.ke.group = ike_dh_get_group (dh);
  ke_p.u.ke.data.data = g_bytes_get_data (pub, &ke_p.u.ke.data.len);
  return ike_inner_builder_add (inner, &ke_p, error);
}
