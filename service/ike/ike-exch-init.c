/* IKE_SA_INIT (RFC 7296 §1.2), both roles: proposals, KE, nonces, NAT
 * detection (§2.23), the notifies that announce what we support
 * (fragmentation, signature hashes, childless), INVALID_KE_PAYLOAD retry,
 * NO_PROPOSAL_CHOSEN and stateless cookies (§2.6).  Ends with the SA's keys
 * (SKEYSEED and SK_*); the DH key pair is dropped right after. */
#include "ike-engine-private.h"

#include <pk11pub.h>
#include <string.h>

#define NONCE_LEN 32
#define MAX_COOKIE_TRIES 3
#define MAX_KE_TRIES 2

/* ---- Pieces ---- */

void
ike_suite_from_proposal (IkeSuite *suite, const IkeProposal *p)
{
  const IkeTransform *t;

  memset (suite, 0, sizeof *suite);
  if ((t = ike_proposal_get (p, IKE_TRANSFORM_ENCR)) != NULL)
    {
      suite->encr = t->id;
      suite->key_bits = t->key_length;
    }
  if ((t = ike_proposal_get (p, IKE_TRANSFORM_INTEG)) != NULL)
    suite->integ = t->id;
  if ((t = ike_proposal_get (p, IKE_TRANSFORM_PRF)) != NULL)
    suite->prf = t->id;
  if ((t = ike_proposal_get (p, IKE_TRANSFORM_KE)) != NULL)
    suite->ke = t->id;
  if ((t = ike_proposal_get (p, IKE_TRANSFORM_ESN)) != NULL)
    suite->esn = t->id;
}

/* SHA-1 (SPIi | SPIr | IP | port): the protocol says SHA-1 (§2.23); it only
 * detects address rewriting and protects nothing. */
static gboolean
nat_hash (guint64 spi_i, guint64 spi_r, const struct sockaddr_storage *addr,
          guint8 out[IKE_NAT_DETECTION_LEN])
{
  guint8 input[8 + 8 + 16 + 2];
  guint64 be_i = GUINT64_TO_BE (spi_i), be_r = GUINT64_TO_BE (spi_r);
  guint16 port, be_port;
  gsize len;
  const guint8 *ip = ike_addr_bytes (addr, &len, &port);

  if (ip == NULL)
    return FALSE;
  be_port = g_htons (port);
  memcpy (input, &be_i, 8);
  memcpy (input + 8, &be_r, 8);
  memcpy (input + 16, ip, len);
  memcpy (input + 16 + len, &be_port, 2);
  return PK11_HashBuf (SEC_OID_SHA1, out, input, (PRInt32) (16 + len + 2)) == SECSuccess;
}

static gboolean
add_nat_notifies (IkeMsgBuilder *b, IkeSa *sa, GError **error)
{
  guint8 src[IKE_NAT_DETECTION_LEN], dst[IKE_NAT_DETECTION_LEN];

  if (!nat_hash (sa->spi_i, sa->spi_r, &sa->ends.local, src)
      || !nat_hash (sa->spi_i, sa->spi_r, &sa->ends.remote, dst))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "NAT detection hash failed");
      return FALSE;
    }
  return ike_msg_builder_add_notify (b, IKE_N_NAT_DETECTION_SOURCE_IP, src, sizeof src, error)
         && ike_msg_builder_add_notify (b, IKE_N_NAT_DETECTION_DESTINATION_IP, dst, sizeof dst,
                                        error);
}

/* The peer's view of the addresses against ours; in a request SPIr is 0. */
static void
check_nat (IkeSa *sa, IkeRx *rx)
{
  guint64 spi_r = sa->initiator ? sa->spi_r : 0;
  const IkePayloadNotify *src = ike_rx_notify (rx, IKE_N_NAT_DETECTION_SOURCE_IP);
  const IkePayloadNotify *dst = ike_rx_notify (rx, IKE_N_NAT_DETECTION_DESTINATION_IP);
  guint8 hash[IKE_NAT_DETECTION_LEN];

  if (src != NULL && nat_hash (sa->spi_i, spi_r, &rx->ends->remote, hash))
    sa->nat_remote = src->data.len != sizeof hash || memcmp (src->data.data, hash, sizeof hash);
  if (dst != NULL && nat_hash (sa->spi_i, spi_r, &rx->ends->local, hash))
    sa->nat_local = dst->data.len != sizeof hash || memcmp (dst->data.data, hash, sizeof hash);
}

static void
read_capabilities (IkeSa *sa, IkeRx *rx)
{
  const IkePayloadNotify *hashes = ike_rx_notify (rx, IKE_N_SIGNATURE_HASH_ALGORITHMS);

  sa->hs->peer_childless = ike_rx_notify (rx, IKE_N_CHILDLESS_IKEV2_SUPPORTED) != NULL;
  sa->frag_peer = ike_rx_notify (rx, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
  if (hashes != NULL)
    sa->hs->n_peer_hashes
        = MIN (ike_notify_get_hash_algorithms (hashes, sa->hs->peer_hashes,
                                               G_N_ELEMENTS (sa->hs->peer_hashes)),
               G_N_ELEMENTS (sa->hs->peer_hashes));
  check_nat (sa, rx);
}

static gboolean
add_capabilities (IkeMsgBuilder *b, IkeSa *sa, GError **error)
{
  gsize n_hashes;
  const IkeHashAlgorithm *hashes = ike_sign_supported_hashes (&n_hashes);
  guint16 algs[8];
  g_autoptr (GBytes) data = NULL;

  n_hashes = MIN (n_hashes, G_N_ELEMENTS (algs));
  for (gsize i = 0; i < n_hashes; i++)
    algs[i] = hashes[i];
  data = ike_notify_data_hash_algorithms (algs, n_hashes);
  /* RFC 7383 §2.3: the responder announces fragmentation only in answer to
   * an initiator that did. */
  if (sa->config->fragmentation && (sa->initiator || sa->frag_peer)
      && !ike_msg_builder_add_notify (b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0, error))
    return FALSE;
  return ike_msg_builder_add_notify (b, IKE_N_SIGNATURE_HASH_ALGORITHMS,
                                     g_bytes_get_data (data, NULL), g_bytes_get_size (data), error)
         && ike_msg_builder_add_notify (b, IKE_N_CHILDLESS_IKEV2_SUPPORTED, NULL, 0, error);
}

/* Responder: CERTREQ for the CAs we trust (RFC 7296 §1.2), so that the
 * initiator knows which certificate to send in IKE_AUTH. */
static gboolean
add_cert_request (IkeMsgBuilder *b, IkeSa *sa, GError **error)
{
  g_autoptr (GBytes) data = NULL;
  IkePayload req = { .type = IKE_PAYLOAD_CERTREQ };

  if (sa->config->remote_cas == NULL)
    return TRUE;
  data = ike_cert_request_data (sa->config, error);
  if (data == NULL)
    return FALSE;
  req.u.cert.encoding = IKE_CERT_X509_SIG;
  req.u.cert.data.data = g_bytes_get_data (data, &req.u.cert.data.len);
  return ike_msg_builder_add (b, &req, error);
}

/* Our IKE_SA_INIT message: the request (all our proposals) or the response
 * (the one chosen). */
static GBytes *
build_init (IkeSa *sa, const IkeProposal *chosen, GError **error)
{
  IkeHandshake *hs = sa->hs;
  IkeHeader hdr;
  g_autoptr (IkeMsgBuilder) b = NULL;
  g_autoptr (GBytes) pub = ike_dh_get_public (hs->dh);
  GBytes *nonce = sa->initiator ? hs->ni : hs->nr;
  IkePayload sa_p = { .type = IKE_PAYLOAD_SA };
  IkePayload ke_p = { .type = IKE_PAYLOAD_KE };
  IkePayload no_p = { .type = IKE_PAYLOAD_NONCE };

  ike_sa_header (sa, &hdr, IKE_EXCHANGE_SA_INIT, !sa->initiator, 0);
  b = ike_msg_builder_new (&hdr);
  if (hs->cookie != NULL
      && !ike_msg_builder_add_notify (b, IKE_N_COOKIE, g_bytes_get_data (hs->cookie, NULL),
                                      g_bytes_get_size (hs->cookie), error))
    return NULL;
  sa_p.u.sa.n_proposals = chosen != NULL ? 1 : sa->config->ike.n_proposals;
  sa_p.u.sa.proposals = chosen != NULL ? chosen : sa->config->ike.proposals;
  ke_p.u.ke.group = ike_dh_get_group (hs->dh);
  ke_p.u.ke.data.data = g_bytes_get_data (pub, &ke_p.u.ke.data.len);
  no_p.u.nonce.data = g_bytes_get_data (nonce, &no_p.u.nonce.len);
  if (!ike_msg_builder_add (b, &sa_p, error) || !ike_msg_builder_add (b, &ke_p, error)
      || !ike_msg_builder_add (b, &no_p, error) || !add_nat_notifies (b, sa, error)
      || !add_capabilities (b, sa, error) || (!sa->initiator && !add_cert_request (b, sa, error)))
    return NULL;
  return ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
}

/* SKEYSEED and SK_* from g^ir; the DH pair is no longer needed after. */
static gboolean
derive_keys (IkeSa *sa, const IkeSlice *peer_ke, GError **error)
{
  IkeHandshake *hs = sa->hs;
  IkeCipherSpec spec = { sa->suite.encr, sa->suite.key_bits, sa->suite.integ };
  guint64 be_i = GUINT64_TO_BE (sa->spi_i), be_r = GUINT64_TO_BE (sa->spi_r);
  g_autoptr (PK11SymKey) g_ir = NULL;
  g_autoptr (PK11SymKey) skeyseed = NULL;
  g_auto (IkeSaKeys) keys = { 0 };
  gboolean i = sa->initiator;

  g_ir = ike_dh_derive (hs->dh, peer_ke->data, peer_ke->len, error);
  if (g_ir == NULL)
    return FALSE;
  g_clear_pointer (&hs->dh, ike_dh_free);
  skeyseed = ike_skeyseed (sa->suite.prf, g_ir, hs->ni, hs->nr, error);
  if (skeyseed == NULL
      || !ike_sa_keys_derive (&keys, sa->suite.prf, &spec, skeyseed, hs->ni, hs->nr,
                              (const guint8 *) &be_i, (const guint8 *) &be_r, error))
    return FALSE;
  sa->c_out
      = ike_cipher_new (&spec, i ? keys.sk_ei : keys.sk_er, i ? keys.sk_ai : keys.sk_ar, error);
  if (sa->c_out == NULL)
    return FALSE;
  sa->c_in
      = ike_cipher_new (&spec, i ? keys.sk_er : keys.sk_ei, i ? keys.sk_ar : keys.sk_ai, error);
  if (sa->c_in == NULL)
    return FALSE;
  sa->sk_d = ike_symkey_extract (keys.sk_d, error);
  if (sa->sk_d == NULL)
    return FALSE;
  hs->sk_pi = g_steal_pointer (&keys.sk_pi);
  hs->sk_pr = g_steal_pointer (&keys.sk_pr);
  return TRUE;
}

static GBytes *
slice_bytes (const IkeSlice *slice)
{
  return g_bytes_new (slice->data, slice->len);
}

/* ---- Initiator ---- */

static gboolean
send_init (IkeSa *sa, gint64 now, GError **error)
{
  g_autoptr (GBytes) msg = build_init (sa, NULL, error);

  if (msg == NULL)
    return FALSE;
  g_clear_pointer (&sa->hs->init_msg, g_bytes_unref);
  sa->hs->init_msg = g_bytes_ref (msg);
  sa->mid_out = 0;
  ike_sa_send_request (sa, now, IKE_REQ_INIT, msg);
  return TRUE;
}

gboolean
ike_init_start (IkeSa *sa, gint64 now, GError **error)
{
  IkeConfig *config = sa->config;
  guint16 group = ike_proposal_first_ke (config->ike.proposals, config->ike.n_proposals);

  sa->hs->dh = ike_dh_new (group, error);
  if (sa->hs->dh == NULL)
    return FALSE;
  sa->hs->ni = ike_random_nonce (NONCE_LEN, error);
  if (sa->hs->ni == NULL || !send_init (sa, now, error))
    return FALSE;
  sa->state = IKE_STATE_I_INIT_SENT;
  return TRUE;
}

static IkeRxResult init_fail (IkeSa *sa, guint16 notify, gboolean from_peer, const char *format,
                              ...) G_GNUC_PRINTF (4, 5);

static IkeRxResult
init_fail (IkeSa *sa, guint16 notify, gboolean from_peer, const char *format, ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);
  ike_sa_fail (sa, reason, notify, from_peer);
  return IKE_RX_DEAD;
}

IkeRxResult
ike_init_handle_response (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  IkeConfig *config = sa->config;
  const IkePayloadSa *sa_p = &ike_rx_find (rx, IKE_PAYLOAD_SA)->u.sa;
  const IkePayloadKe *ke = &ike_rx_find (rx, IKE_PAYLOAD_KE)->u.ke;
  const IkeSlice *nonce = &ike_rx_find (rx, IKE_PAYLOAD_NONCE)->u.nonce;
  g_autoptr (GError) error = NULL;

  if (rx->hdr->spi_r == 0)
    return IKE_RX_DROP;
  if (sa_p->n_proposals != 1
      || !ike_proposal_check_reply (config->ike.proposals, config->ike.n_proposals,
                                    &sa_p->proposals[0], NULL, &error))
    return init_fail (sa, 0, FALSE, "IKE_SA_INIT response: %s",
                      error != NULL ? error->message : "not one proposal");
  ike_suite_from_proposal (&sa->suite, &sa_p->proposals[0]);
  if (ke->group != sa->suite.ke || ke->group != ike_dh_get_group (sa->hs->dh))
    return init_fail (sa, 0, FALSE, "IKE_SA_INIT response: KE group %u, not the chosen %u",
                      ke->group, sa->suite.ke);
  sa->spi_r = rx->hdr->spi_r;
  sa->hs->nr = slice_bytes (nonce);
  sa->hs->peer_init = g_bytes_ref (ike_msg_get_bytes (rx->msg));
  read_capabilities (sa, rx);
  sa->peer_certreq = ike_rx_find (rx, IKE_PAYLOAD_CERTREQ) != NULL;
  ike_sa_request_done (sa);
  /* §2.23: behind a NAT, IKE_AUTH onward goes between the 4500 ports. */
  ike_nat_float (sa);
  if (!derive_keys (sa, &ke->data, &error) || !ike_auth_start (sa, rx->now, &error))
    return init_fail (sa, 0, FALSE, "IKE_SA_INIT: %s", error->message);
  return IKE_RX_NEXT;
}

static IkeRxResult
retry_with_group (IkeRx *rx, const IkePayloadNotify *n)
{
  IkeSa *sa = rx->sa;
  IkeConfig *config = sa->config;
  guint16 group = 0, sent = ike_dh_get_group (sa->hs->dh);
  g_autoptr (GError) error = NULL;

  if (!ike_notify_get_u16 (n, &group)
      || !ike_proposal_retry_ke (config->ike.proposals, config->ike.n_proposals, sent, group,
                                 &error)
      || sa->hs->n_ke_tries++ >= MAX_KE_TRIES)
    return init_fail (sa, IKE_N_INVALID_KE_PAYLOAD, TRUE,
                      "the responder wants KE group %u, which we do not offer", group);
  g_clear_pointer (&sa->hs->dh, ike_dh_free);
  sa->hs->dh = ike_dh_new (group, &error);
  if (sa->hs->dh == NULL || !send_init (sa, rx->now, &error))
    return init_fail (sa, 0, FALSE, "IKE_SA_INIT retry: %s", error->message);
  return IKE_RX_STAY;
}

IkeRxResult
ike_init_handle_notify (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  const IkePayloadNotify *cookie = ike_rx_notify (rx, IKE_N_COOKIE);
  const IkePayloadNotify *invalid_ke = ike_rx_notify (rx, IKE_N_INVALID_KE_PAYLOAD);
  const IkePayloadNotify *error_n = ike_rx_error_notify (rx);
  g_autoptr (GError) error = NULL;

  if (cookie != NULL && cookie->data.len > 0 && cookie->data.len <= IKE_COOKIE_MAX_LEN)
    {
      if (sa->hs->n_cookie_tries++ >= MAX_COOKIE_TRIES)
        return init_fail (sa, IKE_N_COOKIE, TRUE, "the responder keeps asking for cookies");
      g_clear_pointer (&sa->hs->cookie, g_bytes_unref);
      sa->hs->cookie = slice_bytes (&cookie->data);
      if (!send_init (sa, rx->now, &error))
        return init_fail (sa, 0, FALSE, "IKE_SA_INIT with cookie: %s", error->message);
      return IKE_RX_STAY;
    }
  if (invalid_ke != NULL)
    return retry_with_group (rx, invalid_ke);
  if (error_n != NULL)
    return init_fail (sa, error_n->type, TRUE, "the responder refused: %s",
                      ike_notify_name (error_n->type) ? ike_notify_name (error_n->type) : "?");
  return IKE_RX_DROP;
}

/* ---- Responder ---- */

void
ike_init_respond_stateless (IkeRx *rx, guint16 notify, GBytes *data)
{
  IkeHeader hdr
      = { .spi_i = rx->hdr->spi_i, .exchange = IKE_EXCHANGE_SA_INIT, .flags = IKE_FLAG_RESPONSE };
  g_autoptr (IkeMsgBuilder) b = ike_msg_builder_new (&hdr);
  g_autoptr (GBytes) msg = NULL;

  if (!ike_msg_builder_add_notify (b, notify, data ? g_bytes_get_data (data, NULL) : NULL,
                                   data ? g_bytes_get_size (data) : 0, NULL))
    return;
  msg = ike_msg_builder_free_to_bytes (g_steal_pointer (&b));
  ike_engine_emit_send (rx->engine, rx->ends, msg);
}

/* Under load (§2.6) a peer proves it receives at its address before we keep
 * any state: FALSE when we answered with a COOKIE instead. */
static gboolean
cookie_ok (IkeRx *rx, GBytes *ni)
{
  IkeEngine *engine = rx->engine;
  const IkePayloadNotify *cookie = ike_rx_notify (rx, IKE_N_COOKIE);
  g_autoptr (GBytes) fresh = NULL;

  if (ike_engine_count_half_open (engine) < ike_engine_cookie_threshold (engine))
    return TRUE;
  if (cookie != NULL
      && ike_engine_check_cookie (engine, rx->now, ni, rx->ends, rx->hdr->spi_i, &cookie->data))
    return TRUE;
  fresh = ike_engine_make_cookie (engine, rx->now, ni, rx->ends, rx->hdr->spi_i);
  if (fresh != NULL)
    ike_init_respond_stateless (rx, IKE_N_COOKIE, fresh);
  return FALSE;
}

/* Proposal and KE group, or the stateless answer saying why not. */
static gboolean
choose (IkeRx *rx, IkeConfig *config, IkeProposal *chosen)
{
  const IkePayloadSa *sa_p = &ike_rx_find (rx, IKE_PAYLOAD_SA)->u.sa;
  const IkePayloadKe *ke = &ike_rx_find (rx, IKE_PAYLOAD_KE)->u.ke;
  const IkeTransform *group;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = NULL;

  if (!ike_proposal_select (config->ike.proposals, config->ike.n_proposals, sa_p->proposals,
                            sa_p->n_proposals, IKE_PROPOSAL_PEER_ORDER, chosen, &error))
    {
      ike_engine_reject (rx->engine, rx->ends, "IKE_SA_INIT (%s): %s", config->name,
                         error->message);
      ike_init_respond_stateless (rx, IKE_N_NO_PROPOSAL_CHOSEN, NULL);
      return FALSE;
    }
  group = ike_proposal_get (chosen, IKE_TRANSFORM_KE);
  if (group == NULL || group->id != ke->group)
    {
      data = ike_notify_data_u16 (group != NULL ? group->id : 0);
      ike_init_respond_stateless (rx, IKE_N_INVALID_KE_PAYLOAD, data);
      return FALSE;
    }
  return TRUE;
}

static gboolean
respond_init (IkeSa *sa, IkeRx *rx, const IkeProposal *chosen, GError **error)
{
  const IkePayloadKe *ke = &ike_rx_find (rx, IKE_PAYLOAD_KE)->u.ke;
  g_autoptr (GBytes) msg = NULL;

  sa->hs->dh = ike_dh_new (ke->group, error);
  sa->hs->nr = ike_random_nonce (NONCE_LEN, error);
  if (sa->hs->dh == NULL || sa->hs->nr == NULL)
    return FALSE;
  msg = build_init (sa, chosen, error);
  if (msg == NULL || !derive_keys (sa, &ke->data, error))
    return FALSE;
  sa->hs->init_msg = g_bytes_ref (msg);
  sa->resp = ike_packets_new (msg);
  sa->mid_in = 1;
  ike_engine_emit_send (sa->engine, &sa->ends, msg);
  return TRUE;
}

IkeRxResult
ike_init_handle_request (IkeRx *rx)
{
  const IkeSlice *nonce = &ike_rx_find (rx, IKE_PAYLOAD_NONCE)->u.nonce;
  g_autoptr (GBytes) ni = slice_bytes (nonce);
  g_autoptr (IkeConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  IkeProposal chosen;
  IkeSa *sa;

  if (!cookie_ok (rx, ni))
    return IKE_RX_DROP;
  if (ike_engine_count_half_open (rx->engine) >= ike_engine_half_open_max (rx->engine))
    {
      ike_engine_reject (rx->engine, rx->ends, "IKE_SA_INIT dropped: too many half-open SAs");
      return IKE_RX_DROP;
    }
  config = ike_engine_lookup (rx->engine, rx->ends, NULL);
  if (config == NULL)
    {
      ike_engine_reject (rx->engine, rx->ends, "IKE_SA_INIT: no configuration for this peer");
      ike_init_respond_stateless (rx, IKE_N_NO_PROPOSAL_CHOSEN, NULL);
      return IKE_RX_DROP;
    }
  if (!choose (rx, config, &chosen))
    return IKE_RX_DROP;
  sa = ike_sa_new (rx->engine, FALSE, rx->ends, &error);
  if (sa == NULL)
    return IKE_RX_DROP;
  sa->spi_i = rx->hdr->spi_i;
  ike_sa_set_config (sa, config);
  ike_suite_from_proposal (&sa->suite, &chosen);
  sa->hs->ni = g_steal_pointer (&ni);
  sa->hs->peer_init = g_bytes_ref (ike_msg_get_bytes (rx->msg));
  read_capabilities (sa, rx);
  if (!respond_init (sa, rx, &chosen, &error))
    {
      ike_engine_reject (rx->engine, rx->ends, "IKE_SA_INIT: %s", error->message);
      ike_sa_free (sa);
      return IKE_RX_DROP;
    }
  sa->expire = rx->now + ike_engine_half_open_timeout (rx->engine);
  ike_engine_register_sa (rx->engine, sa);
  ike_engine_register_half_open (rx->engine, sa, TRUE);
  ike_engine_register_spi_i (rx->engine, sa);
  rx->sa = sa;
  return IKE_RX_NEXT;
}
