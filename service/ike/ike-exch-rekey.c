/* Rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18), both
 * roles: new SPIs, a fresh KE and nonces, SKEYSEED = prf (SK_d (old),
 * g^ir (new) | Ni | Nr).  The new SA takes over the Child SAs and the queued
 * work; the one who started the rekey deletes the old SA.  Simultaneous
 * rekeys (§2.8.1): each side answers the other, and when its own response
 * arrives the new SA whose exchange holds the lowest of the four nonces is
 * deleted by the side that started that exchange; the other survives.
 *
 * Events: the surviving new SA reports IKE_UP naming the SA it replaces;
 * the old SA's IKE_DOWN names its successor.  A new SA that lost a
 * collision was never reported and ends without an event. */
#include "ike-engine-private.h"

#include <string.h>

#define NONCE_LEN 32
#define REKEYED_LINGER (30 * G_TIME_SPAN_SECOND) /* waiting for the peer's Delete */

/* ---- The new SA ---- */

static gboolean
install_keys (IkeSa *sa, IkeSa *old, PK11SymKey *g_ir, GBytes *ni, GBytes *nr, GError **error)
{
  IkeCipherSpec spec = { sa->suite.encr, sa->suite.key_bits, sa->suite.integ };
  guint64 be_i = GUINT64_TO_BE (sa->spi_i), be_r = GUINT64_TO_BE (sa->spi_r);
  g_autoptr (PK11SymKey) skeyseed = NULL;
  g_auto (IkeSaKeys) keys = { 0 };
  gboolean i = sa->initiator;
  g_autoptr (PK11SymKey) old_sk_d = ike_sa_sk_d (old, error);

  if (old_sk_d != NULL)
    skeyseed = ike_skeyseed_rekey (old->suite.prf, old_sk_d, g_ir, ni, nr, error);
  if (skeyseed == NULL
      || !ike_sa_keys_derive (&keys, sa->suite.prf, &spec, skeyseed, ni, nr, (const guint8 *) &be_i,
                              (const guint8 *) &be_r, error))
    return FALSE;
  sa->c_out
      = ike_cipher_new (&spec, i ? keys.sk_ei : keys.sk_er, i ? keys.sk_ai : keys.sk_ar, error);
  sa->c_in = sa->c_out == NULL ? NULL
                               : ike_cipher_new (&spec, i ? keys.sk_er : keys.sk_ei,
                                                 i ? keys.sk_ar : keys.sk_ai, error);
  if (sa->c_in == NULL)
    return FALSE;
  sa->sk_d = ike_symkey_extract (keys.sk_d, error);
  return sa->sk_d != NULL;
}

/* The SA a rekey makes; @initiator: we started the rekey exchange, which
 * makes us the new SA's original initiator (§2.18). */
static IkeSa *
new_sa (IkeSa *old, gboolean initiator, guint64 our_spi, guint64 peer_spi,
        const IkeProposal *chosen, PK11SymKey *g_ir, GBytes *ni, GBytes *nr, GError **error)
{
  IkeSa *sa = ike_sa_new (old->engine, initiator, &old->ends, error);

  if (sa == NULL)
    return NULL;
  sa->our_spi = our_spi;
  sa->spi_i = initiator ? our_spi : peer_spi;
  sa->spi_r = initiator ? peer_spi : our_spi;
  ike_suite_from_proposal (&sa->suite, chosen);
  ike_sa_inherit (sa, old);
  if (!install_keys (sa, old, g_ir, ni, nr, error))
    {
      ike_sa_free (sa);
      return NULL;
    }
  sa->state = IKE_STATE_ESTABLISHED;
  sa->replaces = old->handle;
  ike_task_ike_lifetime (sa, ike_engine_now (sa->engine));
  ike_engine_register_sa (sa->engine, sa);
  return sa;
}

/* The new SA takes over the old one's Child SAs and queued work. */
static void
adopt (IkeSa *old, IkeSa *sa, gint64 now)
{
  g_array_append_vals (sa->children, old->children->data, old->children->len);
  g_array_set_size (old->children, 0);
  g_array_append_vals (sa->tasks, old->tasks->data, old->tasks->len);
  g_array_set_size (old->tasks, 0);
  old->replaced_by = sa->handle;
  g_message ("IKE SA %" G_GUINT64_FORMAT " (%s) rekeyed into %" G_GUINT64_FORMAT, old->handle,
             old->config->name, sa->handle);
  ike_sa_report_up (sa);
  ike_task_kick (sa, now);
}

/* The peer started the rekey (or won): it deletes the old SA. */
static void
await_delete (IkeSa *old, gint64 now)
{
  old->state = IKE_STATE_REKEYED;
  old->expire = now + REKEYED_LINGER;
}

static guint64
random_ike_spi (GError **error)
{
  guint8 spi[8];

  if (!ike_random_ike_spi (spi, error))
    return 0;
  return GUINT64_FROM_BE (*(guint64 *) spi);
}

/* ---- Initiator ---- */

/* Our IKE proposals, each with the new SA's SPI (§3.3.1). */
static void
offers_with_spi (IkeConfig *config, guint64 spi, IkeProposal *offers)
{
  guint64 be = GUINT64_TO_BE (spi);

  for (guint i = 0; i < config->ike.n_proposals; i++)
    {
      offers[i] = config->ike.proposals[i];
      offers[i].spi_len = 8;
      memcpy (offers[i].spi, &be, 8);
    }
}

gboolean
ike_rekey_resend (IkeSa *sa, gint64 now, GError **error)
{
  IkeCreate *c = sa->create;
  g_autoptr (IkeInnerBuilder) inner = ike_inner_builder_new ();
  IkeProposal offers[IKE_MAX_PROPOSALS];
  IkePayload p = { .type = IKE_PAYLOAD_SA };

  offers_with_spi (sa->config, c->ike_spi, offers);
  p.u.sa.n_proposals = sa->config->ike.n_proposals;
  p.u.sa.proposals = offers;
  if (!ike_inner_builder_add (inner, &p, error)
      || !ike_child_add_nonce_ke (inner, c->ni, c->dh, error))
    return FALSE;
  if (!ike_sa_request (sa, now, IKE_REQ_CREATE, IKE_EXCHANGE_CREATE_CHILD_SA,
                       g_steal_pointer (&inner)))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "cannot send the IKE rekey");
      return FALSE;
    }
  return TRUE;
}

gboolean
ike_rekey_start (IkeSa *sa, gint64 now, GError **error)
{
  IkeCreate *c = g_new0 (IkeCreate, 1);

  c->kind = IKE_TASK_REKEY_IKE;
  sa->create = c;
  /* The group that works already: no INVALID_KE round trip. */
  if ((c->ike_spi = random_ike_spi (error)) != 0
      && (c->ni = ike_random_nonce (NONCE_LEN, error)) != NULL
      && (c->dh = ike_dh_new (sa->suite.ke, error)) != NULL && ike_rekey_resend (sa, now, error))
    return TRUE;
  g_clear_pointer (&sa->create, ike_create_free);
  return FALSE;
}

/* The reply's proposal, SPI and KE against what we sent. */
static gboolean
read_reply (IkeRx *rx, IkeCreate *c, IkeProposal *chosen, guint64 *peer_spi, PK11SymKey **g_ir,
            GError **error)
{
  IkeConfig *config = rx->sa->config;
  const IkePayloadSa *sa_p = &ike_rx_find (rx, IKE_PAYLOAD_SA)->u.sa;
  const IkePayloadKe *ke = &ike_rx_find (rx, IKE_PAYLOAD_KE)->u.ke;
  IkeProposal offers[IKE_MAX_PROPOSALS];
  guint64 be;

  offers_with_spi (config, c->ike_spi, offers);
  if (sa_p->n_proposals != 1 || sa_p->proposals[0].spi_len != 8
      || !ike_proposal_check_reply (offers, config->ike.n_proposals, &sa_p->proposals[0], NULL,
                                    error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "not one IKE proposal");
      return FALSE;
    }
  *chosen = sa_p->proposals[0];
  memcpy (&be, chosen->spi, 8);
  *peer_spi = GUINT64_FROM_BE (be);
  if (ke->group != ike_dh_get_group (c->dh) || *peer_spi == 0)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "KE group %u, SPI %s",
                   ke->group, *peer_spi == 0 ? "zero" : "fine");
      return FALSE;
    }
  *g_ir = ike_dh_derive (c->dh, ke->data.data, ke->data.len, error);
  return *g_ir != NULL;
}

/* Both rekeyed at once; @ours is the new SA of our exchange, @theirs the
 * one we made answering the peer's. */
static void
settle (IkeSa *old, IkeCreate *c, IkeSa *ours, GBytes *nr, gint64 now)
{
  IkeSa *theirs = ike_engine_find_handle (old->engine, c->peer_sa);
  g_autoptr (GBytes) low = ike_nonce_low (c->ni, nr);

  if (theirs != NULL && ike_nonce_compare (low, c->peer_low) < 0)
    {
      g_message ("IKE SA %" G_GUINT64_FORMAT ": simultaneous IKE rekey lost", old->handle);
      ours->quiet = TRUE;
      adopt (old, theirs, now);
      await_delete (old, now);
      ike_info_start_delete (ours, now, NULL);
      return;
    }
  if (theirs != NULL)
    theirs->quiet = TRUE; /* the peer deletes it */
  adopt (old, ours, now);
  ike_info_start_delete (old, now, NULL);
}

IkeRxResult
ike_rekey_handle_response (IkeRx *rx)
{
  IkeSa *old = rx->sa, *sa;
  g_autoptr (IkeCreate) c = g_steal_pointer (&old->create);
  g_autoptr (GError) error = NULL;
  g_autoptr (PK11SymKey) g_ir = NULL;
  g_autoptr (GBytes) nr = NULL;
  IkeProposal chosen;
  guint64 peer_spi = 0;

  ike_sa_request_done (old);
  if (c == NULL || c->kind != IKE_TASK_REKEY_IKE)
    {
      ike_engine_reject (rx->engine, rx->ends, "an IKE rekey response to another request");
      return IKE_RX_STAY;
    }
  nr = g_bytes_new (ike_rx_find (rx, IKE_PAYLOAD_NONCE)->u.nonce.data,
                    ike_rx_find (rx, IKE_PAYLOAD_NONCE)->u.nonce.len);
  if (!read_reply (rx, c, &chosen, &peer_spi, &g_ir, &error)
      || (sa = new_sa (old, TRUE, c->ike_spi, peer_spi, &chosen, g_ir, c->ni, nr, &error)) == NULL)
    {
      ike_engine_reject (rx->engine, rx->ends, "IKE rekey response: %s", error->message);
      ike_rekey_failed (old, c, 0);
      return IKE_RX_STAY;
    }
  if (c->peer_low != NULL)
    settle (old, c, sa, nr, rx->now);
  else
    {
      adopt (old, sa, rx->now);
      ike_info_start_delete (old, rx->now, NULL);
    }
  return IKE_RX_STAY;
}

/* Our rekey failed; if the peer's stood meanwhile, its SA takes over. */
void
ike_rekey_failed (IkeSa *old, IkeCreate *c, guint16 notify)
{
  IkeSa *theirs = c->peer_sa != 0 ? ike_engine_find_handle (old->engine, c->peer_sa) : NULL;
  gint64 now = ike_engine_now (old->engine);

  g_message ("IKE SA %" G_GUINT64_FORMAT ": IKE rekey failed (%s)", old->handle,
             notify != 0 ? ike_notify_name (notify) ?: "?" : "bad response");
  if (theirs == NULL)
    return;
  adopt (old, theirs, now);
  await_delete (old, now);
}

/* ---- Responder ---- */

static IkeRxResult
refuse (IkeRx *rx, guint16 notify, GBytes *data)
{
  ike_engine_reject (rx->engine, rx->ends, "IKE rekey refused: %s",
                     ike_notify_name (notify) ?: "?");
  ike_sa_respond_notify_data (rx->sa, rx, notify, data);
  return IKE_RX_STAY;
}

/* Proposal (with the peer's new SPI) and KE group, or the refusing notify. */
static guint16
choose (IkeRx *rx, IkeProposal *chosen, guint64 *peer_spi, GBytes **data)
{
  IkeConfig *config = rx->sa->config;
  const IkePayloadSa *sa_p = &ike_rx_find (rx, IKE_PAYLOAD_SA)->u.sa;
  const IkePayloadKe *ke = &ike_rx_find (rx, IKE_PAYLOAD_KE)->u.ke;
  const IkeTransform *group;
  guint64 be;

  if (!ike_proposal_select (config->ike.proposals, config->ike.n_proposals, sa_p->proposals,
                            sa_p->n_proposals, IKE_PROPOSAL_PEER_ORDER, chosen, NULL)
      || chosen->spi_len != 8)
    return IKE_N_NO_PROPOSAL_CHOSEN;
  memcpy (&be, chosen->spi, 8);
  *peer_spi = GUINT64_FROM_BE (be);
  group = ike_proposal_get (chosen, IKE_TRANSFORM_KE);
  if (*peer_spi == 0 || group == NULL)
    return IKE_N_NO_PROPOSAL_CHOSEN;
  if (group->id != ke->group)
    {
      *data = ike_notify_data_u16 (group->id);
      return IKE_N_INVALID_KE_PAYLOAD;
    }
  return 0;
}

static gboolean
reply (IkeRx *rx, IkeProposal *chosen, IkeSa *sa, GBytes *nr, IkeDh *dh, GError **error)
{
  g_autoptr (IkeInnerBuilder) inner = ike_inner_builder_new ();
  IkePayload p = { .type = IKE_PAYLOAD_SA };
  guint64 be = GUINT64_TO_BE (sa->our_spi);

  memcpy (chosen->spi, &be, 8);
  p.u.sa.n_proposals = 1;
  p.u.sa.proposals = chosen;
  return ike_inner_builder_add (inner, &p, error) && ike_child_add_nonce_ke (inner, nr, dh, error)
         && ike_sa_respond (rx->sa, rx, g_steal_pointer (&inner));
}

IkeRxResult
ike_rekey_handle_request (IkeRx *rx)
{
  IkeSa *old = rx->sa, *sa;
  const IkePayloadKe *ke = &ike_rx_find (rx, IKE_PAYLOAD_KE)->u.ke;
  const IkeSlice *nonce = &ike_rx_find (rx, IKE_PAYLOAD_NONCE)->u.nonce;
  g_autoptr (GBytes) ni = g_bytes_new (nonce->data, nonce->len);
  g_autoptr (GBytes) nr = NULL;
  g_autoptr (GBytes) data = NULL;
  g_autoptr (IkeDh) dh = NULL;
  g_autoptr (PK11SymKey) g_ir = NULL;
  g_autoptr (GError) error = NULL;
  IkeProposal chosen;
  guint64 peer_spi = 0, our_spi;
  guint16 refusal;

  if (ike_create_busy (rx, TRUE))
    return IKE_RX_STAY;
  if ((refusal = choose (rx, &chosen, &peer_spi, &data)) != 0)
    return refuse (rx, refusal, data);
  if ((our_spi = random_ike_spi (&error)) == 0
      || (nr = ike_random_nonce (NONCE_LEN, &error)) == NULL
      || (dh = ike_dh_new (ke->group, &error)) == NULL
      || (g_ir = ike_dh_derive (dh, ke->data.data, ke->data.len, &error)) == NULL
      || (sa = new_sa (old, FALSE, our_spi, peer_spi, &chosen, g_ir, ni, nr, &error)) == NULL)
    return refuse (rx, IKE_N_NO_PROPOSAL_CHOSEN, NULL);
  if (!reply (rx, &chosen, sa, nr, dh, &error))
    {
      sa->quiet = TRUE;
      ike_sa_fail (sa, "cannot answer the IKE rekey", 0, FALSE);
      return IKE_RX_STAY;
    }
  if (old->create != NULL && old->create->kind == IKE_TASK_REKEY_IKE)
    {
      /* Ours is out too: settled when its response comes. */
      g_clear_pointer (&old->create->peer_low, g_bytes_unref);
      old->create->peer_low = ike_nonce_low (ni, nr);
      old->create->peer_sa = sa->handle;
      return IKE_RX_STAY;
    }
  adopt (old, sa, rx->now);
  await_delete (old, rx->now);
  return IKE_RX_STAY;
}
