/* Certificates in IKE_AUTH (RFC 7296 §3.6, §3.7, §2.15), X.509 only.
 *
 * What we send: our certificate and intermediates in CERT payloads, and a
 * CERTREQ naming the CAs we trust.  What we check of the peer: its CERT
 * payloads are decoded by NSS into temporary certificates (the
 * intermediates only have to exist while the chain is built), the end
 * entity must chain to one of the CAs of the configuration, which are the
 * only trust anchors (never the system store), at the wall-clock time the
 * host gave the engine; then the identity it sent must be one the
 * certificate names.  The caller checks AUTH with the key we return.
 *
 * Revocation (CRL, OCSP) is not checked: both need I/O the engine does not
 * do, and NSS is told never to fetch anything. */
#include "ike-engine-private.h"

#include <arpa/inet.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secerr.h>
#include <string.h>

#define SHA1_LEN 20

/* ---- Sending ---- */

gboolean
ike_cert_add (const IkeSa *sa, IkeInnerBuilder *inner, GError **error)
{
  const IkeConfig *config = sa->config;

  if (config->local_certs == NULL || config->local.method != IKE_AUTH_DIGITAL_SIGNATURE
      || config->send_cert == IKE_SEND_CERT_NEVER
      || (config->send_cert == IKE_SEND_CERT_IFASKED && !sa->peer_certreq))
    return TRUE;
  for (guint i = 0; i < config->local_certs->len; i++)
    {
      CERTCertificate *cert = config->local_certs->pdata[i];
      IkePayload p = { .type = IKE_PAYLOAD_CERT };

      p.u.cert.encoding = IKE_CERT_X509_SIG;
      p.u.cert.data = (IkeSlice){ cert->derCert.data, cert->derCert.len };
      if (!ike_inner_builder_add (inner, &p, error))
        return FALSE;
    }
  return TRUE;
}

/* §3.7: the SHA-1 hash of the CA's SubjectPublicKeyInfo, as it is encoded
 * in the CA certificate. */
static gboolean
ca_key_hash (CERTCertificate *ca, guint8 *out, GError **error)
{
  SECItem *spki = SEC_ASN1EncodeItem (NULL, NULL, &ca->subjectPublicKeyInfo,
                                      SEC_ASN1_GET (CERT_SubjectPublicKeyInfoTemplate));
  gboolean ok = spki != NULL
                && PK11_HashBuf (SEC_OID_SHA1, out, spki->data, (PRInt32) spki->len) == SECSuccess;

  if (spki != NULL)
    SECITEM_FreeItem (spki, PR_TRUE);
  if (!ok)
    g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                 "cannot hash the public key of CA %s", ca->subjectName);
  return ok;
}

GBytes *
ike_cert_request_data (const IkeConfig *config, GError **error)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  guint8 hash[SHA1_LEN];

  for (guint i = 0; config->remote_cas != NULL && i < config->remote_cas->len; i++)
    {
      if (!ca_key_hash (config->remote_cas->pdata[i], hash, error))
        return NULL;
      g_byte_array_append (data, hash, sizeof hash);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/* ---- The peer's certificates ---- */

static CERTCertificate *
decode_one (const IkePayloadCert *cert, guint index, GError **error)
{
  SECItem der = { siDERCertBuffer, (unsigned char *) cert->data.data, (unsigned) cert->data.len };
  CERTCertificate *decoded;

  if (cert->data.len > IKE_CERT_MAX_LEN)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                   "CERT payload %u is over %u bytes", index + 1, IKE_CERT_MAX_LEN);
      return NULL;
    }
  decoded = CERT_NewTempCertificate (CERT_GetDefaultCertDB (), &der, NULL, PR_FALSE, PR_TRUE);
  if (decoded == NULL)
    g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                 "CERT payload %u is not a usable X.509 certificate: %s", index + 1,
                 PORT_ErrorToString (PORT_GetError ()));
  return decoded;
}

/* Every CERT payload, end entity first.  Other encodings than X.509 are
 * skipped, but the first must be one: it holds the key AUTH is made with. */
static GPtrArray *
decode_certs (IkeRx *rx, GError **error)
{
  g_autoptr (GPtrArray) certs
      = g_ptr_array_new_with_free_func ((GDestroyNotify) CERT_DestroyCertificate);
  guint n = ike_inner_get_n_payloads (rx->inner), seen = 0;

  for (guint i = 0; i < n; i++)
    {
      const IkePayload *p = ike_inner_get_payload (rx->inner, i);
      CERTCertificate *cert;

      if (p->skipped || p->type != IKE_PAYLOAD_CERT)
        continue;
      if (++seen > IKE_CERT_MAX)
        {
          g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                       "more than %u CERT payloads", IKE_CERT_MAX);
          return NULL;
        }
      if (seen == 1 && p->u.cert.encoding != IKE_CERT_X509_SIG)
        {
          g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                       "the first CERT has encoding %s, not X.509",
                       ike_cert_encoding_name (p->u.cert.encoding) ?: "?");
          return NULL;
        }
      if (p->u.cert.encoding != IKE_CERT_X509_SIG)
        continue;
      if ((cert = decode_one (&p->u.cert, seen - 1, error)) == NULL)
        return NULL;
      g_ptr_array_add (certs, cert);
    }
  if (certs->len > 0)
    return g_steal_pointer (&certs);
  g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "the peer sent no certificate");
  return NULL;
}

/* Why NSS refused a chain, for people; NULL: NSS's own words. */
static const char *
chain_failure (int code)
{
  switch (code)
    {
    case SEC_ERROR_UNKNOWN_ISSUER:
    case SEC_ERROR_UNTRUSTED_ISSUER:
    case SEC_ERROR_UNTRUSTED_CERT:
    case SEC_ERROR_CA_CERT_INVALID:
      return "it is not issued by a configured CA";
    case SEC_ERROR_EXPIRED_CERTIFICATE:
    case SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE:
      return "it is expired or not yet valid";
    case SEC_ERROR_INADEQUATE_KEY_USAGE:
    case SEC_ERROR_INADEQUATE_CERT_TYPE:
      return "its key usage does not allow IKE";
    case SEC_ERROR_BAD_SIGNATURE:
      return "a signature in its chain does not verify";
    default:
      return NULL;
    }
}

static CERTCertList *
anchors (const IkeConfig *config)
{
  CERTCertList *list = CERT_NewCertList ();

  for (guint i = 0; list != NULL && i < config->remote_cas->len; i++)
    if (CERT_AddCertToListTail (list, CERT_DupCertificate (config->remote_cas->pdata[i]))
        != SECSuccess)
      g_clear_pointer (&list, CERT_DestroyCertList);
  return list;
}

/* PKIX path building with the config's CAs as the only anchors, at @wall,
 * with no revocation check and nothing fetched from the network. */
static gboolean
pkix_verify (CERTCertificate *cert, CERTCertList *trust, PRTime wall)
{
  PRUint64 methods[cert_revocation_method_count];
  CERTRevocationFlags rev = {
    { cert_revocation_method_count, methods, 0, NULL, 0 },
    { cert_revocation_method_count, methods, 0, NULL, 0 },
  };
  CERTValInParam in[5];
  CERTValOutParam out[1];

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    methods[i] = CERT_REV_M_DO_NOT_TEST_USING_THIS_METHOD | CERT_REV_M_FORBID_NETWORK_FETCHING;
  in[0].type = cert_pi_trustAnchors;
  in[0].value.pointer.chain = trust;
  in[1].type = cert_pi_useOnlyTrustAnchors;
  in[1].value.scalar.b = PR_TRUE;
  in[2].type = cert_pi_date;
  in[2].value.scalar.time = wall;
  in[3].type = cert_pi_revocationFlags;
  in[3].value.pointer.revocation = &rev;
  in[4].type = cert_pi_end;
  out[0].type = cert_po_end;
  return CERT_PKIXVerifyCert (cert, certificateUsageIPsec, in, out, NULL) == SECSuccess;
}

static gboolean
verify_chain (IkeSa *sa, CERTCertificate *cert, GError **error)
{
  g_autoptr (CERTCertList) trust = anchors (sa->config);
  gint64 wall;
  int code;

  if (!ike_engine_wall_time (sa->engine, &wall))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                   "cannot check certificate %s: the host gave no wall-clock time",
                   cert->subjectName);
      return FALSE;
    }
  if (trust != NULL && pkix_verify (cert, trust, wall))
    return TRUE;
  code = PORT_GetError ();
  g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "certificate %s refused: %s (%s)",
               cert->subjectName, chain_failure (code) ?: PORT_ErrorToString (code),
               PR_ErrorToName (code) ?: "?");
  return FALSE;
}

/* ---- Identity ---- */

static gboolean
same_bytes (const SECItem *item, const guint8 *data, gsize len, gboolean nocase)
{
  if (item->len != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (nocase ? g_ascii_tolower (item->data[i]) != g_ascii_tolower (data[i])
               : item->data[i] != data[i])
      return FALSE;
  return TRUE;
}

static gboolean
same_dn (const guint8 *a, gsize a_len, const guint8 *b, gsize b_len)
{
  SECItem a_der = { siBuffer, (unsigned char *) a, (unsigned) a_len };
  SECItem b_der = { siBuffer, (unsigned char *) b, (unsigned) b_len };
  PLArenaPool *arena = PORT_NewArena (DER_DEFAULT_CHUNKSIZE);
  CERTName a_name = { 0 }, b_name = { 0 };
  gboolean same;

  if (arena == NULL)
    return FALSE;
  same = SEC_QuickDERDecodeItem (arena, &a_name, SEC_ASN1_GET (CERT_NameTemplate), &a_der)
             == SECSuccess
         && SEC_QuickDERDecodeItem (arena, &b_name, SEC_ASN1_GET (CERT_NameTemplate), &b_der)
                == SECSuccess
         && CERT_CompareName (&a_name, &b_name) == SECEqual;
  PORT_FreeArena (arena, PR_FALSE);
  return same;
}

gboolean
ike_identity_equal (guint8 type, const guint8 *a, gsize a_len, const guint8 *b, gsize b_len)
{
  if (a_len == b_len && (a_len == 0 || memcmp (a, b, a_len) == 0))
    return TRUE;
  return type == IKE_ID_DER_ASN1_DN && same_dn (a, a_len, b, b_len);
}

/* A subjectAltName entry of @type equal to @data (names without case). */
static gboolean
alt_name_has (CERTCertificate *cert, CERTGeneralNameType type, const guint8 *data, gsize len)
{
  SECItem ext = { siBuffer, NULL, 0 };
  PLArenaPool *arena;
  CERTGeneralName *first, *name;
  gboolean found = FALSE;

  if (CERT_FindCertExtension (cert, SEC_OID_X509_SUBJECT_ALT_NAME, &ext) != SECSuccess)
    return FALSE;
  arena = PORT_NewArena (DER_DEFAULT_CHUNKSIZE);
  first = arena != NULL ? CERT_DecodeAltNameExtension (arena, &ext) : NULL;
  name = first;
  while (name != NULL && !found)
    {
      found
          = name->type == type && same_bytes (&name->name.other, data, len, type != certIPAddress);
      name = CERT_GetNextGeneralName (name);
      if (name == first)
        break;
    }
  if (arena != NULL)
    PORT_FreeArena (arena, PR_FALSE);
  SECITEM_FreeItem (&ext, PR_FALSE);
  return found;
}

/* The identity for a message: names and addresses as text, escaped. */
static char *
describe_id (guint8 type, const guint8 *data, gsize len)
{
  char addr[INET6_ADDRSTRLEN] = "";
  g_autofree char *raw = NULL;

  if ((type == IKE_ID_IPV4_ADDR && len == 4) || (type == IKE_ID_IPV6_ADDR && len == 16))
    return g_strdup (
        inet_ntop (type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6, data, addr, sizeof addr));
  if (type != IKE_ID_FQDN && type != IKE_ID_RFC822_ADDR)
    return g_strdup ("");
  raw = g_strndup ((const char *) data, MIN (len, 256));
  return g_strescape (raw, NULL);
}

gboolean
ike_cert_names_id (CERTCertificate *cert, guint8 type, const guint8 *data, gsize len,
                   GError **error)
{
  g_autofree char *what = NULL;
  gboolean named;

  if (type == IKE_ID_DER_ASN1_DN)
    named = ike_identity_equal (type, cert->derSubject.data, cert->derSubject.len, data, len);
  else if (type == IKE_ID_FQDN)
    named = alt_name_has (cert, certDNSName, data, len);
  else if (type == IKE_ID_RFC822_ADDR)
    named = alt_name_has (cert, certRFC822Name, data, len);
  else if (type == IKE_ID_IPV4_ADDR || type == IKE_ID_IPV6_ADDR)
    named = alt_name_has (cert, certIPAddress, data, len);
  else
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                   "identity type %s cannot be bound to a certificate",
                   ike_id_type_name (type) ?: "?");
      return FALSE;
    }
  if (named)
    return TRUE;
  what = describe_id (type, data, len);
  g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
               "certificate %s does not name the identity %s %s", cert->subjectName,
               ike_id_type_name (type) ?: "?", what);
  return FALSE;
}

/* ---- All of it ---- */

SECKEYPublicKey *
ike_cert_check_peer (IkeSa *sa, IkeRx *rx, const IkePayloadId *id, GError **error)
{
  g_autoptr (GPtrArray) certs = decode_certs (rx, error);
  g_autoptr (SECKEYPublicKey) key = NULL;
  CERTCertificate *cert;

  if (certs == NULL)
    return NULL;
  cert = certs->pdata[0];
  if (!verify_chain (sa, cert, error)
      || !ike_cert_names_id (cert, id->type, id->data.data, id->data.len, error))
    return NULL;
  key = CERT_ExtractPublicKey (cert);
  if (key == NULL)
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED,
                   "certificate %s: cannot read its public key", cert->subjectName);
      return NULL;
    }
  if (!ike_sign_check_public_key (key, error))
    return NULL;
  return g_steal_pointer (&key);
}
