/* The AUTH payload (RFC 7296 §2.15): making ours and checking the peer's,
 * each side by the method its own configuration names, so authentication
 * may be asymmetric (PSK one way, a signature the other, or NULL, RFC 7619).
 * Signatures are RFC 7427's method 14 when we send them; we accept the
 * RFC 4754 ECDSA methods from peers that have no RFC 7427. */
#include "ike-engine-private.h"

/* The octets an AUTH covers: the sender's IKE_SA_INIT message, the other
 * side's nonce, prf(SK_p of the sender, its ID payload body). */
static GBytes *
signed_octets (IkeSa *sa, gboolean ours, const guint8 *id_body, gsize id_len, GError **error)
{
  IkeHandshake *hs = sa->hs;
  gboolean by_initiator = ours == sa->initiator;
  GBytes *message = ours ? hs->init_msg : hs->peer_init;

  return ike_auth_signed_octets (sa->suite.prf, by_initiator ? hs->sk_pi : hs->sk_pr, message,
                                 by_initiator ? hs->nr : hs->ni, id_body, id_len, error);
}

static GBytes *
make_signature (IkeSa *sa, GBytes *octets, IkeAuthMethod *method, GError **error)
{
  IkeHashAlgorithm peer_hashes[G_N_ELEMENTS (sa->hs->peer_hashes)];
  IkeSignChoice choice;
  g_autoptr (GBytes) algid = NULL;
  g_autoptr (GBytes) sig = NULL;
  GByteArray *data;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (octets, &len);

  for (guint i = 0; i < sa->hs->n_peer_hashes; i++)
    peer_hashes[i] = sa->hs->peer_hashes[i];
  if (!ike_sign_choose (sa->config->private_key, peer_hashes, sa->hs->n_peer_hashes,
                        IKE_SIGN_FLAGS_NONE, &choice, error))
    return NULL;
  sig = ike_sign_data (sa->config->private_key, choice.scheme, choice.encoding, bytes, len, error);
  if (sig == NULL)
    return NULL;
  *method = choice.method;
  if (choice.method != IKE_AUTH_DIGITAL_SIGNATURE)
    return g_steal_pointer (&sig);
  algid = ike_sign_algorithm_id_encode (choice.scheme, error);
  if (algid == NULL)
    return NULL;
  data = g_byte_array_new ();
  g_byte_array_append (data, g_bytes_get_data (algid, NULL), g_bytes_get_size (algid));
  g_byte_array_append (data, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
  return g_byte_array_free_to_bytes (data);
}

gboolean
ike_auth_make (IkeSa *sa, const guint8 *id_body, gsize id_len, IkePayload *auth, GBytes **data,
               GError **error)
{
  IkeConfig *config = sa->config;
  IkeAuthMethod method = config->local.method;
  g_autoptr (GBytes) octets = signed_octets (sa, TRUE, id_body, id_len, error);
  PK11SymKey *sk_p = sa->initiator ? sa->hs->sk_pi : sa->hs->sk_pr;

  if (octets == NULL)
    return FALSE;
  if (method == IKE_AUTH_SHARED_KEY)
    *data = ike_auth_psk (sa->suite.prf, config->psk->data, config->psk->len, octets, error);
  else if (method == IKE_AUTH_NULL)
    *data = ike_auth_null (sa->suite.prf, sk_p, octets, error);
  else
    *data = make_signature (sa, octets, &method, error);
  if (*data == NULL)
    return FALSE;
  *auth = (IkePayload){ .type = IKE_PAYLOAD_AUTH };
  auth->u.auth.method = method;
  auth->u.auth.data.data = g_bytes_get_data (*data, &auth->u.auth.data.len);
  sa->local_auth = config->local.method;
  return TRUE;
}

static gboolean
check_signature (SECKEYPublicKey *key, GBytes *octets, const IkePayloadAuth *auth, GError **error)
{
  IkeSignScheme scheme;
  IkeSignEncoding encoding = IKE_SIGN_ENCODING_DER;
  gsize consumed = 0, len;
  const guint8 *bytes = g_bytes_get_data (octets, &len);

  if (auth->method == IKE_AUTH_DIGITAL_SIGNATURE)
    {
      if (!ike_sign_algorithm_id_decode (auth->data.data, auth->data.len, &scheme, &consumed,
                                         error))
        return FALSE;
    }
  else if (auth->method == IKE_AUTH_ECDSA_256 || auth->method == IKE_AUTH_ECDSA_384
           || auth->method == IKE_AUTH_ECDSA_521)
    {
      if (!ike_sign_scheme_for_auth_method (auth->method, key, &scheme, error))
        return FALSE;
      encoding = IKE_SIGN_ENCODING_RAW;
    }
  else
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_AUTH_FAILED,
                   "AUTH method %s where a signature is required",
                   ike_auth_method_name (auth->method) ?: "?");
      return FALSE;
    }
  return ike_sign_verify (key, scheme, encoding, bytes, len, auth->data.data + consumed,
                          auth->data.len - consumed, error);
}

gboolean
ike_auth_check (IkeSa *sa, const guint8 *id_body, gsize id_len, const IkePayloadAuth *auth,
                SECKEYPublicKey *peer_key, GError **error)
{
  IkeConfig *config = sa->config;
  IkeAuthMethod method = config->remote.method;
  g_autoptr (GBytes) octets = signed_octets (sa, FALSE, id_body, id_len, error);
  g_autoptr (GBytes) expected = NULL;
  PK11SymKey *sk_p = sa->initiator ? sa->hs->sk_pr : sa->hs->sk_pi;

  if (octets == NULL)
    return FALSE;
  if (method == IKE_AUTH_DIGITAL_SIGNATURE)
    {
      if (!check_signature (peer_key, octets, auth, error))
        return FALSE;
    }
  else if (auth->method != method)
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_AUTH_FAILED,
                   "AUTH method %s, but %s is configured for the peer",
                   ike_auth_method_name (auth->method) ?: "?", ike_auth_method_name (method));
      return FALSE;
    }
  else
    {
      expected = method == IKE_AUTH_SHARED_KEY ? ike_auth_psk (sa->suite.prf, config->psk->data,
                                                               config->psk->len, octets, error)
                                               : ike_auth_null (sa->suite.prf, sk_p, octets, error);
      if (expected == NULL || !ike_auth_verify (expected, auth->data.data, auth->data.len, error))
        return FALSE;
    }
  sa->remote_auth = method;
  sa->authenticated = method != IKE_AUTH_NULL;
  return TRUE;
}
