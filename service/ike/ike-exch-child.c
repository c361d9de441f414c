/* CREATE_CHILD_SA for Child SAs (RFC 7296 §1.3.1, §1.3.3), both roles: a new
 * Child SA, or the rekey of one (REKEY_SA), with PFS when the ESP proposal
 * carries a group (a KE payload, INVALID_KE_PAYLOAD retry).  The new SA is
 * installed before the old one is deleted.  Simultaneous rekeys of one
 * Child SA (§2.8.1): each side answers the other's request, and when its own
 * response arrives, the SA made by the exchange with the lowest of the four
 * nonces is deleted by the side that started that exchange.  The error path
 * (ike_create_handle_error) serves the IKE SA rekey of ike-exch-rekey.c too. */
#include "ike-engine-private.h"

#include <string.h>

#define NONCE_LEN 32
#define MAX_KE_TRIES 2

/* ---- Shared pieces ---- */

void
ike_create_free (IkeCreate *c)
{
  if (c == NULL)
    return;
  g_clear_pointer (&c->ni, g_bytes_unref);
  g_clear_pointer (&c->dh, ike_dh_free);
  g_clear_pointer (&c->peer_low, g_bytes_unref);
  g_free (c);
}

/* Nonces compare as unsigned byte strings; a prefix is the lower. */
gint
ike_nonce_compare (GBytes *a, GBytes *b)
{
  gsize alen, blen;
  const guint8 *ad = g_bytes_get_data (a, &alen);
  const guint8 *bd = g_bytes_get_data (b, &blen);
  gint cmp = memcmp (ad, bd, MIN (alen, blen));

  if (cmp != 0)
    return cmp;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

GBytes *
ike_nonce_low (GBytes *a, GBytes *b)
{
  return g_bytes_ref (ike_nonce_compare (a, b) <= 0 ? a : b);
}

/* §2.25.2: while one side rekeys the IKE SA, the other's Child SA work
 * waits, and the other way round. */
gboolean
ike_create_busy (IkeRx *rx, gboolean ike_rekey)
{
  IkeSa *sa = rx->sa;
  gboolean busy;

  if (ike_rekey)
    busy = (sa->create != NULL && sa->create->kind != IKE_TASK_REKEY_IKE)
           || sa->req_kind == IKE_REQ_DELETE_CHILD;
  else
    busy = sa->create != NULL && sa->create->kind == IKE_TASK_REKEY_IKE;
  if (busy)
    ike_sa_respond_notify (sa, rx, IKE_N_TEMPORARY_FAILURE);
  return busy;
}

static GBytes *
slice_bytes (const IkeSlice *slice)
{
  return g_bytes_new (slice->data, slice->len);
}

/* g^ir of PFS: the responder's KE must be of the group it chose, ours. */
static gboolean
pfs_derive (IkeDh *dh, const IkePayload *ke, guint16 group, PK11SymKey **g_ir, GError **error)
{
  if (group == 0)
    return TRUE;
  if (dh == NULL || ke == NULL || ke->u.ke.group != group || ike_dh_get_group (dh) != group)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                   "the responder's KE does not match the chosen group %u", group);
      return FALSE;
    }
  *g_ir = ike_dh_derive (dh, ke->u.ke.data.data, ke->u.ke.data.len, error);
  return *g_ir != NULL;
}

/* ---- Initiator ---- */

static gboolean
send_request (IkeSa *sa, gint64 now, GError **error)
{
  IkeCreate *c = sa->create;
  g_autoptr (IkeInnerBuilder) inner = ike_inner_builder_new ();
  IkeProposal offers[IKE_MAX_PROPOSALS];
  IkePayload p = { .type = IKE_PAYLOAD_SA };
  IkePayload rekey = { .type = IKE_PAYLOAD_NOTIFY };
  guint32 be = GUINT32_TO_BE (c->rekey_spi);

  ike_child_esp_offers (sa->config, c->spi, TRUE, offers);
  p.u.sa.n_proposals = sa->config->esp.n_proposals;
  p.u.sa.proposals = offers;
  rekey.u.notify = (IkePayloadNotify){ IKE_PROTO_ESP, { (const guint8 *) &be, 4 }, IKE_N_REKEY_SA };
  if ((c->kind == IKE_TASK_REKEY_CHILD && !ike_inner_builder_add (inner, &rekey, error))
      || (c->offer.mode == IKE_MODE_TRANSPORT
          && !ike_inner_builder_add_notify (inner, IKE_N_USE_TRANSPORT_MODE, NULL, 0, error))
      || !ike_inner_builder_add (inner, &p, error)
      || !ike_child_add_nonce_ke (inner, c->ni, c->dh, error)
      || !ike_ts_add (inner, IKE_PAYLOAD_TSI, c->offer.ts_local, c->offer.n_ts_local, error)
      || !ike_ts_add (inner, IKE_PAYLOAD_TSR, c->offer.ts_remote, c->offer.n_ts_remote, error))
    return FALSE;
  if (!ike_sa_request (sa, now, IKE_REQ_CREATE, IKE_EXCHANGE_CREATE_CHILD_SA,
                       g_steal_pointer (&inner)))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "cannot send CREATE_CHILD_SA");
      return FALSE;
    }
  return TRUE;
}

/* What we offer: a rekey keeps the old SA's mode and selectors. */
static void
offer_from (IkeSa *sa, const IkeChild *old, IkeKernelRequest *offer)
{
  if (old == NULL)
    {
      offer->mode = sa->config->mode;
      offer->n_ts_local = ike_ts_config (sa, TRUE, offer->ts_local);
      offer->n_ts_remote = ike_ts_config (sa, FALSE, offer->ts_remote);
      return;
    }
  offer->mode = old->mode;
  offer->n_ts_local = old->n_ts_local;
  offer->n_ts_remote = old->n_ts_remote;
  memcpy (offer->ts_local, old->ts_local, sizeof offer->ts_local);
  memcpy (offer->ts_remote, old->ts_remote, sizeof offer->ts_remote);
}

gboolean
ike_create_child_start (IkeSa *sa, gint64 now, IkeTaskKind kind, guint32 rekey_spi, GError **error)
{
  IkeConfig *config = sa->config;
  g_autoptr (IkeCreate) c = g_new0 (IkeCreate, 1);
  guint16 group = ike_proposal_first_ke (config->esp.proposals, config->esp.n_proposals);

  c->kind = kind;
  c->rekey_spi = rekey_spi;
  offer_from (sa, kind == IKE_TASK_REKEY_CHILD ? ike_child_find (sa, rekey_spi) : NULL, &c->offer);
  if (!ike_child_random_spi (&c->spi, error)
      || (c->ni = ike_random_nonce (NONCE_LEN, error)) == NULL)
    return FALSE;
  if (group != IKE_KE_NONE && (c->dh = ike_dh_new (group, error)) == NULL)
    return FALSE;
  sa->create = g_steal_pointer (&c);
  if (send_request (sa, now, error))
    return TRUE;
  g_clear_pointer (&sa->create, ike_create_free);
  return FALSE;
}

/* The peer's exchange rekeyed the same Child SA and had the lowest nonce:
 * ours is the one to go (it never reached our kernel). */
static gboolean
lost_collision (IkeCreate *c, GBytes *nr)
{
  g_autoptr (GBytes) ours = NULL;

  if (c->peer_low == NULL)
    return FALSE;
  ours = ike_nonce_low (c->ni, nr);
  return ike_nonce_compare (ours, c->peer_low) < 0;
}

static void
commit_child (IkeSa *sa, IkeCreate *c, IkeKernelRequest *k, GBytes *nr)
{
  IkeChild *old = c->kind == IKE_TASK_REKEY_CHILD ? ike_child_find (sa, c->rekey_spi) : NULL;
  IkeOutput wipe = { 0 };

  if (lost_collision (c, nr))
    {
      g_message ("IKE SA %" G_GUINT64_FORMAT ": simultaneous Child SA rekey lost", sa->handle);
      wipe.kernel = *k;
      ike_output_clear (&wipe);
      if (old != NULL)
        old->replaced_by = c->peer_spi;
      ike_task_add (sa, IKE_TASK_DELETE_CHILD, c->spi);
      return;
    }
  if (old != NULL)
    old->replaced_by = k->spi_in;
  ike_child_install (sa, k, c->rekey_spi);
  if (c->kind == IKE_TASK_REKEY_CHILD && ike_child_find (sa, c->rekey_spi) != NULL)
    ike_task_add (sa, IKE_TASK_DELETE_CHILD, c->rekey_spi);
}

IkeRxResult
ike_create_child_handle_response (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  g_autoptr (IkeCreate) c = g_steal_pointer (&sa->create);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) nr = NULL;
  g_autoptr (PK11SymKey) g_ir = NULL;
  IkeProposal offers[IKE_MAX_PROPOSALS], chosen;
  IkeKernelRequest k = { 0 };
  const IkeTransform *ke;
  const char *why = "not a Child SA exchange";

  ike_sa_request_done (sa);
  if (c == NULL || c->kind == IKE_TASK_REKEY_IKE)
    goto refuse;
  k = c->offer;
  k.spi_in = c->spi;
  ike_child_esp_offers (sa->config, c->spi, TRUE, offers);
  if (!ike_child_read_reply (rx, offers, sa->config->esp.n_proposals, &k, &chosen, &why))
    goto refuse;
  ke = ike_proposal_get (&chosen, IKE_TRANSFORM_KE);
  nr = slice_bytes (&ike_rx_find (rx, IKE_PAYLOAD_NONCE)->u.nonce);
  if (!pfs_derive (c->dh, ike_rx_find (rx, IKE_PAYLOAD_KE), ke != NULL ? ke->id : 0, &g_ir, &error)
      || !ike_child_derive (sa, &k, TRUE, g_ir, c->ni, nr, &error))
    {
      why = error->message;
      goto refuse;
    }
  commit_child (sa, c, &k, nr);
  return IKE_RX_STAY;

refuse:
  /* The responder installed what it answered: it must go again. */
  ike_child_fail_event (sa, why, 0, FALSE);
  if (c != NULL && c->kind != IKE_TASK_REKEY_IKE)
    ike_task_add (sa, IKE_TASK_DELETE_CHILD, c->spi);
  {
    IkeOutput wipe = { .kernel = k };

    ike_output_clear (&wipe);
  }
  return IKE_RX_STAY;
}

/* ---- Responder ---- */

/* KE for the chosen group, or the INVALID_KE_PAYLOAD naming it. */
static guint16
pfs_respond (IkeRx *rx, const IkeProposal *chosen, IkeDh **dh, PK11SymKey **g_ir,
             GBytes **invalid_ke)
{
  const IkeTransform *group = ike_proposal_get (chosen, IKE_TRANSFORM_KE);
  const IkePayload *ke = ike_rx_find (rx, IKE_PAYLOAD_KE);

  if (group == NULL || group->id == IKE_KE_NONE)
    return 0;
  if (ke == NULL || ke->u.ke.group != group->id)
    {
      *invalid_ke = ike_notify_data_u16 (group->id);
      return IKE_N_INVALID_KE_PAYLOAD;
    }
  *dh = ike_dh_new (group->id, NULL);
  if (*dh == NULL)
    return IKE_N_NO_PROPOSAL_CHOSEN;
  *g_ir = ike_dh_derive (*dh, ke->u.ke.data.data, ke->u.ke.data.len, NULL);
  return *g_ir != NULL ? 0 : IKE_N_INVALID_SYNTAX;
}

static IkeRxResult
respond_error (IkeRx *rx, guint16 notify, GBytes *data)
{
  ike_engine_reject (rx->engine, rx->ends, "CREATE_CHILD_SA refused: %s",
                     ike_notify_name (notify) ?: "?");
  ike_sa_respond_notify_data (rx->sa, rx, notify, data);
  return IKE_RX_STAY;
}

/* The Child SA a REKEY_SA names by the peer's inbound SPI (our outbound). */
static IkeChild *
rekeyed_child (IkeRx *rx, gboolean *not_found)
{
  const IkePayloadNotify *n = ike_rx_notify (rx, IKE_N_REKEY_SA);
  IkeChild *child;
  guint32 be;

  *not_found = FALSE;
  if (n == NULL)
    return NULL;
  if (n->protocol != IKE_PROTO_ESP || n->spi.len != 4)
    {
      *not_found = TRUE;
      return NULL;
    }
  memcpy (&be, n->spi.data, 4);
  child = ike_child_find_out (rx->sa, GUINT32_FROM_BE (be));
  *not_found = child == NULL || child->replaced_by != 0;
  return *not_found ? NULL : child;
}

/* Our own rekey of the same Child SA is out: remember the peer's exchange
 * to settle the collision when our response comes. */
static void
note_collision (IkeSa *sa, guint32 old_spi_in, GBytes *ni, GBytes *nr, guint32 new_spi_in)
{
  IkeCreate *c = sa->create;

  if (c == NULL || c->kind != IKE_TASK_REKEY_CHILD || c->rekey_spi != old_spi_in)
    return;
  g_clear_pointer (&c->peer_low, g_bytes_unref);
  c->peer_low = ike_nonce_low (ni, nr);
  c->peer_spi = new_spi_in;
}

static gboolean
build_reply (IkeRx *rx, IkeProposal *chosen, IkeKernelRequest *k, GBytes *nr, IkeDh *dh,
             GError **error)
{
  g_autoptr (IkeInnerBuilder) inner = ike_inner_builder_new ();

  if (!ike_child_add_reply (inner, chosen, k, error)
      || !ike_child_add_nonce_ke (inner, nr, dh, error))
    return FALSE;
  return ike_sa_respond (rx->sa, rx, g_steal_pointer (&inner));
}

IkeRxResult
ike_create_child_handle_request (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  IkeProposal ours[IKE_MAX_PROPOSALS], chosen;
  IkeKernelRequest k = { 0 };
  g_autoptr (IkeDh) dh = NULL;
  g_autoptr (PK11SymKey) g_ir = NULL;
  g_autoptr (GBytes) invalid_ke = NULL;
  g_autoptr (GBytes) ni = slice_bytes (&ike_rx_find (rx, IKE_PAYLOAD_NONCE)->u.nonce);
  g_autoptr (GBytes) nr = NULL;
  g_autoptr (GError) error = NULL;
  gboolean not_found;
  IkeChild *old;
  guint32 old_spi, spi_out;
  guint16 refusal;

  if (ike_create_busy (rx, FALSE))
    return IKE_RX_STAY;
  old = rekeyed_child (rx, &not_found);
  if (not_found)
    return respond_error (rx, IKE_N_CHILD_SA_NOT_FOUND, NULL);
  old_spi = old != NULL ? old->spi_in : 0;
  ike_child_esp_offers (sa->config, 0, TRUE, ours);
  refusal = ike_child_choose (rx, ours, sa->config->esp.n_proposals, &chosen, &k);
  if (refusal == 0)
    refusal = pfs_respond (rx, &chosen, &dh, &g_ir, &invalid_ke);
  if (refusal != 0)
    return respond_error (rx, refusal, invalid_ke);
  memcpy (&spi_out, chosen.spi, 4);
  k.spi_out = GUINT32_FROM_BE (spi_out);
  if (!ike_child_random_spi (&k.spi_in, &error)
      || (nr = ike_random_nonce (NONCE_LEN, &error)) == NULL
      || !ike_child_derive (sa, &k, FALSE, g_ir, ni, nr, &error)
      || !build_reply (rx, &chosen, &k, nr, dh, &error))
    {
      IkeOutput wipe = { .kernel = k };

      ike_output_clear (&wipe);
      return respond_error (rx, IKE_N_NO_ADDITIONAL_SAS, NULL);
    }
  note_collision (sa, old_spi, ni, nr, k.spi_in);
  if (old != NULL)
    old->replaced_by = k.spi_in;
  ike_child_install (sa, &k, old_spi);
  return IKE_RX_STAY;
}

/* ---- Errors, for Child SAs and the IKE SA rekey ---- */

static gboolean
retry_ke (IkeSa *sa, IkeCreate *c, const IkePayloadNotify *n, gint64 now)
{
  const IkeProposalList *list = c->kind == IKE_TASK_REKEY_IKE ? &sa->config->ike : &sa->config->esp;
  guint16 group = 0;
  IkeDh *dh;

  if (c->dh == NULL || !ike_notify_get_u16 (n, &group) || c->n_ke_tries++ >= MAX_KE_TRIES
      || !ike_proposal_retry_ke (list->proposals, list->n_proposals, ike_dh_get_group (c->dh),
                                 group, NULL)
      || (dh = ike_dh_new (group, NULL)) == NULL)
    return FALSE;
  ike_dh_free (c->dh);
  c->dh = dh;
  sa->create = c;
  if (c->kind == IKE_TASK_REKEY_IKE ? ike_rekey_resend (sa, now, NULL)
                                    : send_request (sa, now, NULL))
    return TRUE;
  sa->create = NULL;
  return FALSE;
}

/* Our rekey failed, but the peer's of the same SA stood: nothing to undo. */
static void
child_error (IkeSa *sa, IkeCreate *c, guint16 notify)
{
  g_autofree char *reason
      = g_strdup_printf ("the peer refused the Child SA: %s", ike_notify_name (notify) ?: "error");

  if (c->kind == IKE_TASK_REKEY_CHILD && c->peer_low != NULL)
    return;
  if (c->kind == IKE_TASK_REKEY_CHILD && notify == IKE_N_CHILD_SA_NOT_FOUND)
    ike_child_remove (sa, c->rekey_spi, "the peer no longer has it", TRUE);
  ike_child_fail_event (sa, reason, notify, TRUE);
}

IkeRxResult
ike_create_handle_error (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  IkeCreate *c = g_steal_pointer (&sa->create);
  const IkePayloadNotify *n = ike_rx_error_notify (rx);
  guint16 notify = n != NULL ? n->type : 0;

  ike_sa_request_done (sa);
  if (c == NULL)
    return IKE_RX_STAY;
  if (notify == IKE_N_INVALID_KE_PAYLOAD && retry_ke (sa, c, n, rx->now))
    return IKE_RX_STAY;
  if (notify == IKE_N_TEMPORARY_FAILURE)
    ike_task_retry_later (sa, rx->now, c->kind, c->rekey_spi);
  else if (c->kind == IKE_TASK_REKEY_IKE)
    ike_rekey_failed (sa, c, notify);
  else
    child_error (sa, c, notify);
  ike_create_free (c);
  return IKE_RX_STAY;
}
