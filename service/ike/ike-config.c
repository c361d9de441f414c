/* IkeConfig: what one connection asks of an IKE SA.  Checks happen here,
 * when the configuration is built, so that a weak PSK or an unusable key is
 * refused before anything is sent. */
#include "ike-engine-private.h"

#include <string.h>

#define DEFAULT_RETRANSMIT_BASE (500 * G_TIME_SPAN_MILLISECOND)
#define DEFAULT_RETRANSMIT_LIMIT 5
#define MAX_ID_LEN 1024
#define DEFAULT_IKE_SOFT (4 * G_TIME_SPAN_HOUR)
#define DEFAULT_IKE_HARD (DEFAULT_IKE_SOFT + 30 * G_TIME_SPAN_MINUTE)
#define DEFAULT_CHILD_SOFT G_TIME_SPAN_HOUR
#define DEFAULT_CHILD_HARD (DEFAULT_CHILD_SOFT + 10 * G_TIME_SPAN_MINUTE)
#define DEFAULT_JITTER 10
/* Below this a fragment holds too little to carry an IKE_AUTH in 32. */
#define MIN_FRAGMENT_DATAGRAM 256
/* Well inside the UDP mapping timeouts of common NATs (30 s and up). */
#define DEFAULT_NAT_KEEPALIVE (20 * G_TIME_SPAN_SECOND)

G_DEFINE_QUARK (ike - engine - error - quark, ike_engine_error)

IkeConfig *
ike_config_new (const char *name)
{
  IkeConfig *config = g_new0 (IkeConfig, 1);

  config->ref_count = 1;
  config->name = g_strdup (name);
  ike_proposal_list_default (IKE_PROTO_IKE, &config->ike);
  ike_proposal_list_default (IKE_PROTO_ESP, &config->esp);
  config->mode = IKE_MODE_TUNNEL;
  config->retransmit_base = DEFAULT_RETRANSMIT_BASE;
  config->retransmit_limit = DEFAULT_RETRANSMIT_LIMIT;
  config->peer_gone = IKE_PEER_GONE_CLEAR;
  config->ike_soft = DEFAULT_IKE_SOFT;
  config->ike_hard = DEFAULT_IKE_HARD;
  config->child_soft = DEFAULT_CHILD_SOFT;
  config->child_hard = DEFAULT_CHILD_HARD;
  config->jitter = DEFAULT_JITTER;
  config->fragmentation = TRUE;
  config->nat_keepalive = DEFAULT_NAT_KEEPALIVE;
  return config;
}

IkeConfig *
ike_config_ref (IkeConfig *config)
{
  g_atomic_int_inc (&config->ref_count);
  return config;
}

static void
auth_config_clear (IkeAuthConfig *auth)
{
  g_clear_pointer (&auth->id, g_bytes_unref);
}

void
ike_config_unref (IkeConfig *config)
{
  if (config == NULL || !g_atomic_int_dec_and_test (&config->ref_count))
    return;
  auth_config_clear (&config->local);
  auth_config_clear (&config->remote);
  g_clear_pointer (&config->psk, ike_secret_free);
  g_clear_pointer (&config->private_key, SECKEY_DestroyPrivateKey);
  g_clear_pointer (&config->peer_key, SECKEY_DestroyPublicKey);
  g_clear_pointer (&config->local_certs, g_ptr_array_unref);
  g_clear_pointer (&config->remote_cas, g_ptr_array_unref);
  g_free (config->name);
  g_free (config);
}

const char *
ike_config_get_name (const IkeConfig *config)
{
  return config->name;
}

static gboolean
set_auth (IkeAuthConfig *auth, IkeAuthMethod method, const IkeIdentity *id, gboolean local,
          GError **error)
{
  if (method != IKE_AUTH_SHARED_KEY && method != IKE_AUTH_NULL
      && method != IKE_AUTH_DIGITAL_SIGNATURE)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "authentication method %u is not one the engine offers", method);
      return FALSE;
    }
  if (id != NULL && (id->len > MAX_ID_LEN || (id->type == 0 && local)))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "identity must have a type and at most %u bytes", MAX_ID_LEN);
      return FALSE;
    }
  auth_config_clear (auth);
  auth->method = method;
  auth->id_type = id != NULL ? id->type : (method == IKE_AUTH_NULL && local) ? IKE_ID_NULL : 0;
  if (id != NULL)
    auth->id = g_bytes_new (id->data, id->len);
  else if (auth->id_type == IKE_ID_NULL)
    auth->id = g_bytes_new (NULL, 0);
  return TRUE;
}

gboolean
ike_config_set_local_auth (IkeConfig *config, IkeAuthMethod method, const IkeIdentity *id,
                           GError **error)
{
  return set_auth (&config->local, method, id, TRUE, error);
}

gboolean
ike_config_set_remote_auth (IkeConfig *config, IkeAuthMethod method, const IkeIdentity *id,
                            GError **error)
{
  return set_auth (&config->remote, method, id, FALSE, error);
}

gboolean
ike_config_set_psk (IkeConfig *config, const guint8 *psk, gsize len, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!ike_psk_check_strength (psk, len, &local_error))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_WEAK, "%s: pre-shared key refused: %s",
                   config->name, local_error->message);
      return FALSE;
    }
  g_clear_pointer (&config->psk, ike_secret_free);
  config->psk = ike_secret_new_from_data (psk, len);
  return TRUE;
}

gboolean
ike_config_set_private_key (IkeConfig *config, SECKEYPrivateKey *key, GError **error)
{
  SECKEYPrivateKey *copy = SECKEY_CopyPrivateKey (key);

  if (copy == NULL)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                   "%s: cannot copy the private key", config->name);
      return FALSE;
    }
  g_clear_pointer (&config->private_key, SECKEY_DestroyPrivateKey);
  config->private_key = copy;
  return TRUE;
}

gboolean
ike_config_set_peer_public_key (IkeConfig *config, SECKEYPublicKey *key, GError **error)
{
  SECKEYPublicKey *copy;

  if (!ike_sign_check_public_key (key, error))
    return FALSE;
  copy = SECKEY_CopyPublicKey (key);
  if (copy == NULL)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                   "%s: cannot copy the public key", config->name);
      return FALSE;
    }
  g_clear_pointer (&config->peer_key, SECKEY_DestroyPublicKey);
  config->peer_key = copy;
  return TRUE;
}

/* @key is the private half of @cert's public key: it signs a challenge the
 * certificate's key verifies.  Comparing the two keys' encodings instead
 * would trust NSS's reading of an EC private key's public point, which takes
 * a raw point whose X starts with 0x3f for a DER OCTET STRING and mangles it
 * (about one key in 256). */
static gboolean
key_fits_cert (CERTCertificate *cert, SECKEYPrivateKey *key)
{
  static const guint8 challenge[] = "ipsecd: is this the certificate's key?";
  g_autoptr (SECKEYPublicKey) pub = CERT_ExtractPublicKey (cert);
  g_autoptr (GBytes) sig = NULL;
  gsize n_hashes = 0;
  const IkeHashAlgorithm *hashes = ike_sign_supported_hashes (&n_hashes);
  IkeSignChoice choice;

  if (pub == NULL || !ike_sign_choose (key, hashes, n_hashes, IKE_SIGN_FLAGS_NONE, &choice, NULL))
    return FALSE;
  sig = ike_sign_data (key, choice.scheme, choice.encoding, challenge, sizeof challenge, NULL);
  return sig != NULL
         && ike_sign_verify (pub, choice.scheme, choice.encoding, challenge, sizeof challenge,
                             g_bytes_get_data (sig, NULL), g_bytes_get_size (sig), NULL);
}

static GPtrArray *
cert_list_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) CERT_DestroyCertificate);
}

gboolean
ike_config_set_local_certificate (IkeConfig *config, CERTCertificate *cert, SECKEYPrivateKey *key,
                                  GError **error)
{
  if (!key_fits_cert (cert, key))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "%s: the private key is not the certificate's", config->name);
      return FALSE;
    }
  if (!ike_config_set_private_key (config, key, error))
    return FALSE;
  g_clear_pointer (&config->local_certs, g_ptr_array_unref);
  config->local_certs = cert_list_new ();
  g_ptr_array_add (config->local_certs, CERT_DupCertificate (cert));
  return TRUE;
}

gboolean
ike_config_add_local_intermediate (IkeConfig *config, CERTCertificate *cert, GError **error)
{
  if (config->local_certs == NULL || config->local_certs->len >= IKE_CERT_MAX)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "%s: intermediates need our certificate first, and at most %u in all",
                   config->name, IKE_CERT_MAX);
      return FALSE;
    }
  g_ptr_array_add (config->local_certs, CERT_DupCertificate (cert));
  return TRUE;
}

gboolean
ike_config_set_remote_ca (IkeConfig *config, CERTCertificate *ca, GError **error)
{
  /* CERTREQ carries 20 bytes per CA; a long list only helps a peer guess
   * whom we trust. */
  if (config->remote_cas != NULL && config->remote_cas->len >= IKE_CERT_MAX_CAS)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID, "%s: at most %u remote CAs",
                   config->name, IKE_CERT_MAX_CAS);
      return FALSE;
    }
  if (config->remote_cas == NULL)
    config->remote_cas = cert_list_new ();
  g_ptr_array_add (config->remote_cas, CERT_DupCertificate (ca));
  return TRUE;
}

void
ike_config_set_send_cert (IkeConfig *config, IkeSendCert when)
{
  config->send_cert = when;
}

void
ike_config_set_proposals (IkeConfig *config, const IkeProposalList *ike, const IkeProposalList *esp)
{
  if (ike != NULL)
    config->ike = *ike;
  if (esp != NULL)
    config->esp = *esp;
}

void
ike_config_set_childless (IkeConfig *config, gboolean childless)
{
  config->childless = childless;
}

void
ike_config_set_mode (IkeConfig *config, IkeMode mode)
{
  config->mode = mode;
}

void
ike_config_set_accept_tunnel (IkeConfig *config, gboolean accept)
{
  config->accept_tunnel = accept;
}

gboolean
ike_config_add_ts (IkeConfig *config, gboolean local, const IkeTs *ts, GError **error)
{
  guint *n = local ? &config->n_ts_local : &config->n_ts_remote;
  IkeTs *list = local ? config->ts_local : config->ts_remote;

  if (*n == IKE_CONFIG_MAX_TS
      || (ts->type != IKE_TS_IPV4_ADDR_RANGE && ts->type != IKE_TS_IPV6_ADDR_RANGE))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "%s: at most %u IPv4/IPv6 range selectors per side", config->name,
                   IKE_CONFIG_MAX_TS);
      return FALSE;
    }
  list[*n] = *ts;
  list[*n].opaque = (IkeSlice){ NULL, 0 };
  (*n)++;
  return TRUE;
}

void
ike_config_set_retransmit (IkeConfig *config, gint64 base_us, guint limit)
{
  config->retransmit_base = MAX (base_us, 1);
  config->retransmit_limit = limit;
}

void
ike_config_set_dpd (IkeConfig *config, gint64 delay_us, IkePeerGoneAction action)
{
  config->dpd_delay = MAX (delay_us, 0);
  config->peer_gone = action;
}

static gboolean
check_lifetime (IkeConfig *config, gint64 soft, gint64 hard, GError **error)
{
  if (soft < 0 || hard < 0 || (soft > 0 && hard > 0 && soft >= hard))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "%s: the rekey time must come before the hard lifetime", config->name);
      return FALSE;
    }
  return TRUE;
}

gboolean
ike_config_set_ike_lifetime (IkeConfig *config, gint64 soft_us, gint64 hard_us, GError **error)
{
  if (!check_lifetime (config, soft_us, hard_us, error))
    return FALSE;
  config->ike_soft = soft_us;
  config->ike_hard = hard_us;
  return TRUE;
}

gboolean
ike_config_set_child_lifetime (IkeConfig *config, gint64 soft_us, gint64 hard_us, GError **error)
{
  if (!check_lifetime (config, soft_us, hard_us, error))
    return FALSE;
  config->child_soft = soft_us;
  config->child_hard = hard_us;
  return TRUE;
}

void
ike_config_set_lifetime_jitter (IkeConfig *config, guint percent)
{
  config->jitter = MIN (percent, 100);
}

/* The jitter comes from NSS like every other random number of the engine:
 * the clock is an input here, never a source of randomness. */
gint64
ike_config_rekey_time (const IkeConfig *config, gint64 now, gint64 soft)
{
  guint32 r = 0;
  gint64 span;

  if (soft <= 0)
    return G_MAXINT64;
  span = soft / 100 * config->jitter;
  if (span > 0 && ike_random_bytes ((guint8 *) &r, sizeof r, NULL))
    soft -= (gint64) (((guint64) r * (guint64) span) >> 32);
  return now + soft;
}

static gboolean
check_side (const IkeConfig *config, const IkeAuthConfig *auth, gboolean local, GError **error)
{
  const char *side = local ? "local" : "remote";

  if (auth->method == 0)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "%s: no %s authentication method", config->name, side);
      return FALSE;
    }
  if (auth->method == IKE_AUTH_SHARED_KEY && config->psk == NULL)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "%s: %s PSK authentication without a PSK", config->name, side);
      return FALSE;
    }
  if (auth->method == IKE_AUTH_DIGITAL_SIGNATURE
      && (local ? config->private_key == NULL
                : config->peer_key == NULL && config->remote_cas == NULL))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "%s: %s signature authentication without a %s", config->name, side,
                   local ? "private key" : "peer's public key or CA");
      return FALSE;
    }
  return TRUE;
}

gboolean
ike_config_check (const IkeConfig *config, GError **error)
{
  if (!check_side (config, &config->local, TRUE, error)
      || !check_side (config, &config->remote, FALSE, error))
    return FALSE;
  if (config->ike.n_proposals == 0 || (!config->childless && config->esp.n_proposals == 0))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID, "%s: no proposals",
                   config->name);
      return FALSE;
    }
  return TRUE;
}

gboolean
ike_config_set_fragmentation (IkeConfig *config, gboolean enable, guint max_datagram,
                              GError **error)
{
  if (max_datagram != 0 && (max_datagram < MIN_FRAGMENT_DATAGRAM || max_datagram > G_MAXUINT16))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "fragment datagram size %u outside %u..%u", max_datagram, MIN_FRAGMENT_DATAGRAM,
                   G_MAXUINT16);
      return FALSE;
    }
  config->fragmentation = enable;
  config->fragment_size = max_datagram;
  return TRUE;
}

void
ike_config_set_nat_keepalive (IkeConfig *config, gint64 interval_us)
{
  config->nat_keepalive = MAX (interval_us, 0);
}
