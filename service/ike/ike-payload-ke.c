/* Key exchange material: KE (RFC 7296 §3.4), Nonce (§3.9), and the Vendor
 * ID (§3.12) that travels beside them in IKE_SA_INIT. */
#include "ike-payload-private.h"

#define KE_HEADER_LEN 4

/* ---- KE ---- */

gboolean
ike_ke_validate (const IkeRaw *raw, IkeCheck *check)
{
  return TRUE; /* group, reserved, at least one octet: min_body; the crypto
                * code checks the length the group needs */
}

void
ike_ke_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.ke.group = ike_get16 (raw->body);
  out->u.ke.data = ike_slice (raw->body + KE_HEADER_LEN, raw->body_len - KE_HEADER_LEN);
}

gboolean
ike_ke_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  ike_put16 (out, payload->u.ke.group);
  ike_put16 (out, 0);
  ike_put_slice (out, payload->u.ke.data);
  return TRUE;
}

/* ---- Nonce ---- */

gboolean
ike_nonce_validate (const IkeRaw *raw, IkeCheck *check)
{
  if (raw->body_len > IKE_NONCE_MAX_LEN)
    return ike_check_fail (check, 0, "nonce of %zu bytes, at most %u", raw->body_len,
                           IKE_NONCE_MAX_LEN);
  return TRUE;
}

void
ike_nonce_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.nonce = ike_slice (raw->body, raw->body_len);
}

gboolean
ike_nonce_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  ike_put_slice (out, payload->u.nonce);
  return TRUE;
}

/* ---- Vendor ID ---- */

gboolean
ike_vendor_validate (const IkeRaw *raw, IkeCheck *check)
{
  return TRUE;
}

void
ike_vendor_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.vendor = ike_slice (raw->body, raw->body_len);
}

gboolean
ike_vendor_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  ike_put_slice (out, payload->u.vendor);
  return TRUE;
}
