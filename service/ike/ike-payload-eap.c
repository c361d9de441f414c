/* EAP payload (RFC 7296 §3.16): one EAP packet (RFC 3748 §4) whose own
 * Length must be the payload body's.  Success and Failure are 4 bytes;
 * every other code carries a type. */
#include "ike-payload-private.h"

#define EAP_HEADER_LEN 4
#define EAP_CODE_SUCCESS 3
#define EAP_CODE_FAILURE 4

static gboolean
has_type (guint8 code)
{
  return code != EAP_CODE_SUCCESS && code != EAP_CODE_FAILURE;
}

gboolean
ike_eap_validate (const IkeRaw *raw, IkeCheck *check)
{
  guint16 len = ike_get16 (raw->body + 2);

  if (len != raw->body_len)
    return ike_check_fail (check, 2, "EAP length %u in a body of %zu bytes", len, raw->body_len);
  if (has_type (raw->body[0]) && len < EAP_HEADER_LEN + 1)
    return ike_check_fail (check, 0, "EAP code %u without a type", raw->body[0]);
  if (!has_type (raw->body[0]) && len != EAP_HEADER_LEN)
    return ike_check_fail (check, 0, "EAP code %u with %u bytes, 4 expected", raw->body[0], len);
  return TRUE;
}

void
ike_eap_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  IkePayloadEap *eap = &out->u.eap;

  eap->code = raw->body[0];
  eap->identifier = raw->body[1];
  if (!has_type (eap->code))
    return;
  eap->type = raw->body[EAP_HEADER_LEN];
  eap->data = ike_slice (raw->body + EAP_HEADER_LEN + 1, raw->body_len - EAP_HEADER_LEN - 1);
}

gboolean
ike_eap_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  const IkePayloadEap *eap = &payload->u.eap;
  gsize len = EAP_HEADER_LEN + (has_type (eap->code) ? 1 + eap->data.len : 0);

  if (len > G_MAXUINT16)
    {
      g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG, "EAP packet of %zu bytes", len);
      return FALSE;
    }
  ike_put8 (out, eap->code);
  ike_put8 (out, eap->identifier);
  ike_put16 (out, len);
  if (has_type (eap->code))
    {
      ike_put8 (out, eap->type);
      ike_put_slice (out, eap->data);
    }
  return TRUE;
}
