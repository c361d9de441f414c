/* Identity and authentication payloads: IDi/IDr (RFC 7296 §3.5, RFC 7619
 * ID_NULL), CERT and CERTREQ (§3.6, §3.7), AUTH (§3.8).  Each is a type
 * octet, maybe reserved octets, and opaque data the auth code interprets. */
#include "ike-payload-private.h"

#define ID_HEADER_LEN 4
#define AUTH_HEADER_LEN 4
#define CERT_HEADER_LEN 1

/* ---- IDi, IDr ---- */

/* Data length an ID type requires: exact, or at least one octet. */
static gboolean
id_length_ok (guint8 type, gsize len, const char **want)
{
  switch (type)
    {
    case IKE_ID_IPV4_ADDR:
      *want = "4";
      return len == 4;
    case IKE_ID_IPV6_ADDR:
      *want = "16";
      return len == 16;
    case IKE_ID_FQDN:
    case IKE_ID_RFC822_ADDR:
    case IKE_ID_DER_ASN1_DN:
    case IKE_ID_DER_ASN1_GN:
    case IKE_ID_KEY_ID:
      *want = "at least 1";
      return len >= 1;
    default:
      /* ID_NULL (RFC 7619) and types we do not know: any data, which the
       * receiver ignores or refuses at authentication. */
      return TRUE;
    }
}

gboolean
ike_id_validate (const IkeRaw *raw, IkeCheck *check)
{
  const char *want = NULL;
  gsize len = raw->body_len - ID_HEADER_LEN;

  if (!id_length_ok (raw->body[0], len, &want))
    return ike_check_fail (check, ID_HEADER_LEN, "ID type %u with %zu bytes of data, %s needed",
                           raw->body[0], len, want);
  return TRUE;
}

void
ike_id_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.id.type = raw->body[0];
  out->u.id.data = ike_slice (raw->body + ID_HEADER_LEN, raw->body_len - ID_HEADER_LEN);
}

gboolean
ike_id_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  ike_put8 (out, payload->u.id.type);
  ike_put_zero (out, ID_HEADER_LEN - 1);
  ike_put_slice (out, payload->u.id.data);
  return TRUE;
}

/* ---- CERT, CERTREQ ---- */

gboolean
ike_cert_validate (const IkeRaw *raw, IkeCheck *check)
{
  return TRUE; /* encoding + at least one octet: min_body */
}

/* An empty CERTREQ means "any CA" to several implementations; hash lists
 * (20-byte SHA-1 per CA for X.509) are the auth code's to interpret. */
gboolean
ike_certreq_validate (const IkeRaw *raw, IkeCheck *check)
{
  return TRUE;
}

void
ike_cert_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.cert.encoding = raw->body[0];
  out->u.cert.data = ike_slice (raw->body + CERT_HEADER_LEN, raw->body_len - CERT_HEADER_LEN);
}

gboolean
ike_cert_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  ike_put8 (out, payload->u.cert.encoding);
  ike_put_slice (out, payload->u.cert.data);
  return TRUE;
}

/* ---- AUTH ---- */

gboolean
ike_auth_validate (const IkeRaw *raw, IkeCheck *check)
{
  return TRUE; /* method, reserved, at least one octet of data: min_body */
}

void
ike_auth_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.auth.method = raw->body[0];
  out->u.auth.data = ike_slice (raw->body + AUTH_HEADER_LEN, raw->body_len - AUTH_HEADER_LEN);
}

gboolean
ike_auth_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  ike_put8 (out, payload->u.auth.method);
  ike_put_zero (out, AUTH_HEADER_LEN - 1);
  ike_put_slice (out, payload->u.auth.data);
  return TRUE;
}
