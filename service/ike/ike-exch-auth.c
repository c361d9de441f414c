/* IKE_AUTH (RFC 7296 §1.2, §2.15), both roles: identities, AUTH, and the
 * first Child SA (ike-child.c) or none (RFC 6023).  Each side's identity and
 * AUTH are checked against what the configuration says of that side.  When
 * the IKE SA is up, the handshake state (nonces, IKE_SA_INIT messages, SK_p)
 * is freed. */
#include "ike-engine-private.h"

#include <string.h>

#define ID_HEADER_LEN 4 /* ID Type, RESERVED: part of what AUTH covers */

/* The body of a received payload exactly as it arrived (AUTH covers the
 * RESERVED bytes too, whatever the peer put there). */
static const guint8 *
received_body (IkeRx *rx, const IkePayload *p, gsize *len)
{
  const guint8 *plain = g_bytes_get_data (rx->plain, NULL);
  const guint8 *hdr = plain + p->offset;

  *len = (gsize) ((hdr[2] << 8) | hdr[3]) - IKE_PAYLOAD_HEADER_LEN;
  return hdr + IKE_PAYLOAD_HEADER_LEN;
}

static GBytes *
our_id_body (IkeConfig *config)
{
  GByteArray *body = g_byte_array_new ();
  guint8 header[ID_HEADER_LEN] = { config->local.id_type, 0, 0, 0 };

  g_byte_array_append (body, header, sizeof header);
  if (config->local.id != NULL)
    g_byte_array_append (body, g_bytes_get_data (config->local.id, NULL),
                         g_bytes_get_size (config->local.id));
  return g_byte_array_free_to_bytes (body);
}

/* Initiator: CERTREQ for the CAs we trust (the responder's went out in
 * IKE_SA_INIT). */
static gboolean
add_cert_request (IkeConfig *config, IkeInnerBuilder *inner, GError **error)
{
  g_autoptr (GBytes) data = NULL;
  IkePayload req = { .type = IKE_PAYLOAD_CERTREQ };

  if (config->remote_cas == NULL)
    return TRUE;
  data = ike_cert_request_data (config, error);
  if (data == NULL)
    return FALSE;
  req.u.cert.encoding = IKE_CERT_X509_SIG;
  req.u.cert.data.data = g_bytes_get_data (data, &req.u.cert.data.len);
  return ike_inner_builder_add (inner, &req, error);
}

/* Adds our ID, CERT and AUTH payloads (IDi/IDr by role), and CERTREQ. */
static gboolean
add_id_auth (IkeSa *sa, IkeInnerBuilder *inner, gboolean initial_contact, GError **error)
{
  g_autoptr (GBytes) body = our_id_body (sa->config);
  g_autoptr (GBytes) auth_data = NULL;
  IkePayload id = { .type = sa->initiator ? IKE_PAYLOAD_IDI : IKE_PAYLOAD_IDR };
  IkePayload auth;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (body, &len);

  id.u.id.type = bytes[0];
  id.u.id.data = (IkeSlice){ bytes + ID_HEADER_LEN, len - ID_HEADER_LEN };
  if (!ike_auth_make (sa, bytes, len, &auth, &auth_data, error)
      || !ike_inner_builder_add (inner, &id, error) || !ike_cert_add (sa, inner, error)
      || (sa->initiator && !add_cert_request (sa->config, inner, error)))
    return FALSE;
  if (initial_contact
      && !ike_inner_builder_add_notify (inner, IKE_N_INITIAL_CONTACT, NULL, 0, error))
    return FALSE;
  return ike_inner_builder_add (inner, &auth, error);
}

static gboolean
id_matches (const IkeAuthConfig *want, const IkePayloadId *got)
{
  if (want->id_type == 0)
    return TRUE;
  return want->id_type == got->type && want->id != NULL
         && ike_identity_equal (got->type, g_bytes_get_data (want->id, NULL),
                                g_bytes_get_size (want->id), got->data.data, got->data.len);
}

/* With a CA configured the peer proves itself with a certificate, unless it
 * sends none and a raw public key is configured too. */
static gboolean
peer_uses_cert (IkeConfig *config, IkeRx *rx)
{
  return config->remote.method == IKE_AUTH_DIGITAL_SIGNATURE && config->remote_cas != NULL
         && (ike_rx_find (rx, IKE_PAYLOAD_CERT) != NULL || config->peer_key == NULL);
}

/* The peer's ID against its configuration (and certificate), then its
 * AUTH. */
static gboolean
check_peer (IkeRx *rx, IkePayloadType id_type, GError **error)
{
  IkeSa *sa = rx->sa;
  const IkePayload *id = ike_rx_find (rx, id_type);
  const IkePayload *auth = ike_rx_find (rx, IKE_PAYLOAD_AUTH);
  g_autoptr (SECKEYPublicKey) cert_key = NULL;
  gsize len;
  const guint8 *body = received_body (rx, id, &len);

  if (!id_matches (&sa->config->remote, &id->u.id))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "the peer's identity (%s) is not the configured one",
                   ike_id_type_name (id->u.id.type) ?: "?");
      return FALSE;
    }
  if (peer_uses_cert (sa->config, rx))
    {
      cert_key = ike_cert_check_peer (sa, rx, &id->u.id, error);
      if (cert_key == NULL)
        return FALSE;
    }
  if (!ike_auth_check (sa, body, len, &auth->u.auth, cert_key ?: sa->config->peer_key, error))
    return FALSE;
  g_clear_pointer (&sa->remote_id, g_bytes_unref);
  sa->remote_id_type = id->u.id.type;
  sa->remote_id = g_bytes_new (id->u.id.data.data, id->u.id.data.len);
  return TRUE;
}

static void
established (IkeSa *sa, gint64 now)
{
  sa->state = IKE_STATE_ESTABLISHED;
  ike_engine_register_half_open (sa->engine, sa, FALSE);
  g_message ("IKE SA %" G_GUINT64_FORMAT " (%s) up, peer %s", sa->handle, sa->config->name,
             sa->authenticated ? "authenticated" : "anonymous");
  ike_task_ike_lifetime (sa, now);
  ike_sa_report_up (sa);
  ike_child_commit (sa);
  ike_sa_handshake_free (sa);
}

/* INITIAL_CONTACT (§2.4) says we hold no other SA with the peer: true when
 * no other live SA of this connection exists. */
static gboolean
first_contact (IkeSa *sa)
{
  return ike_engine_live_sas (sa->engine, sa->config) == (sa->counted ? 1u : 0u);
}

/* ---- Initiator ---- */

gboolean
ike_auth_start (IkeSa *sa, gint64 now, GError **error)
{
  g_autoptr (IkeInnerBuilder) inner = ike_inner_builder_new ();

  if (sa->config->childless && !sa->hs->peer_childless)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_INVALID,
                   "childless IKE SA configured, but the responder does not support it");
      return FALSE;
    }
  if (!add_id_auth (sa, inner, first_contact (sa), error)
      || !ike_child_add_request (sa, inner, error))
    return FALSE;
  if (!ike_sa_request (sa, now, IKE_REQ_AUTH, IKE_EXCHANGE_AUTH, g_steal_pointer (&inner)))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "cannot send IKE_AUTH");
      return FALSE;
    }
  return TRUE;
}

IkeRxResult
ike_auth_handle_response (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;

  ike_sa_request_done (sa);
  if (!check_peer (rx, IKE_PAYLOAD_IDR, &error))
    {
      reason = g_strdup_printf ("the responder failed authentication: %s", error->message);
      /* §2.21.2: tell the responder, which believes the SA is up. */
      ike_info_send_auth_failed (sa, rx->now);
      ike_sa_fail (sa, reason, IKE_N_AUTHENTICATION_FAILED, FALSE);
      return IKE_RX_DEAD;
    }
  ike_child_handle_response (rx);
  established (sa, rx->now);
  return IKE_RX_NEXT;
}

IkeRxResult
ike_auth_handle_error (IkeRx *rx)
{
  const IkePayloadNotify *n = ike_rx_error_notify (rx);
  g_autofree char *reason = NULL;

  if (n == NULL)
    return IKE_RX_DROP;
  ike_sa_request_done (rx->sa);
  reason = g_strdup_printf ("the responder refused IKE_AUTH: %s",
                            ike_notify_name (n->type) ?: "error");
  ike_sa_fail (rx->sa, reason, n->type, TRUE);
  return IKE_RX_DEAD;
}

/* ---- Responder ---- */

/* The configuration may depend on who the peer says it is. */
static gboolean
lookup_again (IkeRx *rx)
{
  const IkePayloadId *id = &ike_rx_find (rx, IKE_PAYLOAD_IDI)->u.id;
  IkeIdentity peer = { id->type, id->data.data, id->data.len };
  g_autoptr (IkeConfig) config = ike_engine_lookup (rx->engine, rx->ends, &peer);

  if (config == NULL)
    return FALSE;
  ike_sa_set_config (rx->sa, config);
  return TRUE;
}

static IkeRxResult
refuse (IkeRx *rx, const char *why)
{
  g_autofree char *reason = g_strdup_printf ("the initiator failed authentication: %s", why);

  ike_sa_respond_notify (rx->sa, rx, IKE_N_AUTHENTICATION_FAILED);
  ike_sa_tombstone (rx->sa, reason, IKE_N_AUTHENTICATION_FAILED);
  return IKE_RX_DEAD;
}

IkeRxResult
ike_auth_handle_request (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  g_autoptr (IkeInnerBuilder) inner = NULL;
  g_autoptr (GError) error = NULL;

  if (!lookup_again (rx))
    return refuse (rx, "no configuration for its identity");
  if (!check_peer (rx, IKE_PAYLOAD_IDI, &error))
    return refuse (rx, error->message);
  if (ike_rx_notify (rx, IKE_N_INITIAL_CONTACT) != NULL)
    ike_info_initial_contact (sa);
  sa->peer_certreq = ike_rx_find (rx, IKE_PAYLOAD_CERTREQ) != NULL;
  inner = ike_inner_builder_new ();
  if (!add_id_auth (sa, inner, FALSE, &error) || !ike_child_respond (rx, inner, &error)
      || !ike_sa_respond (sa, rx, g_steal_pointer (&inner)))
    {
      ike_sa_fail (sa, error != NULL ? error->message : "cannot answer IKE_AUTH", 0, FALSE);
      return IKE_RX_DEAD;
    }
  established (sa, rx->now);
  return IKE_RX_NEXT;
}
