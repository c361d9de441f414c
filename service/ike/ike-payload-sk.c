/* SK (RFC 7296 §3.14) and SKF (RFC 7383 §2.5): the codec keeps the body
 * (IV ‖ ciphertext ‖ ICV) opaque and records how much of the message the
 * AEAD associated data covers; the crypto code opens it, and the plaintext
 * comes back to ike_inner_parse().  Building them is the builder's reserve
 * step, since their bodies are sealed after the lengths are final. */
#include "ike-payload-private.h"

#define SKF_FIELDS_LEN (IKE_SKF_HEADER_LEN - IKE_PAYLOAD_HEADER_LEN)

gboolean
ike_sk_validate (const IkeRaw *raw, IkeCheck *check)
{
  return TRUE; /* IV and ICV sizes depend on the cipher: the crypto code checks */
}

void
ike_sk_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.sk = (IkePayloadSk){
    .first_inner = raw->hdr[0],
    .aad_len = raw->offset + IKE_SK_HEADER_LEN,
    .body = ike_slice (raw->body, raw->body_len),
  };
}

gboolean
ike_skf_validate (const IkeRaw *raw, IkeCheck *check)
{
  guint16 number = ike_get16 (raw->body);
  guint16 total = ike_get16 (raw->body + 2);

  if (number == 0 || total == 0 || number > total)
    return ike_check_fail (check, 0, "fragment %u of %u", number, total);
  return TRUE;
}

void
ike_skf_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.skf = (IkePayloadSkf){
    .first_inner = raw->hdr[0],
    .number = ike_get16 (raw->body),
    .total = ike_get16 (raw->body + 2),
    .aad_len = raw->offset + IKE_SKF_HEADER_LEN,
    .body = ike_slice (raw->body + SKF_FIELDS_LEN, raw->body_len - SKF_FIELDS_LEN),
  };
}
