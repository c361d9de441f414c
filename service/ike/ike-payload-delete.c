/* Delete payload (RFC 7296 §3.11): which protocol, and N SPIs of the size
 * that protocol uses.  Deleting the IKE SA names no SPI (it is in the
 * header); ESP and AH name 4-byte SPIs, N × 4 = the rest of the body. */
#include "ike-payload-private.h"

#define DELETE_HEADER_LEN 4
#define CHILD_SPI_LEN 4

gboolean
ike_delete_validate (const IkeRaw *raw, IkeCheck *check)
{
  guint8 protocol = raw->body[0];
  guint8 spi_len = raw->body[1];
  guint16 n = ike_get16 (raw->body + 2);
  gsize spis_len = raw->body_len - DELETE_HEADER_LEN;

  if (protocol == IKE_PROTO_IKE && (spi_len != 0 || n != 0))
    return ike_check_fail (check, 1, "deleting the IKE SA names no SPI, not %u of %u bytes", n,
                           spi_len);
  if ((protocol == IKE_PROTO_ESP || protocol == IKE_PROTO_AH) && spi_len != CHILD_SPI_LEN)
    return ike_check_fail (check, 1, "%s SPIs have 4 bytes, not %u", ike_protocol_name (protocol),
                           spi_len);
  if (protocol != IKE_PROTO_IKE && protocol != IKE_PROTO_ESP && protocol != IKE_PROTO_AH)
    return ike_check_fail (check, 0, "unknown protocol %u", protocol);
  if ((gsize) n * spi_len != spis_len)
    return ike_check_fail (check, 2, "%u SPIs of %u bytes in %zu bytes", n, spi_len, spis_len);
  return TRUE;
}

void
ike_delete_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  out->u.del = (IkePayloadDelete){
    .protocol = raw->body[0],
    .spi_len = raw->body[1],
    .n_spis = ike_get16 (raw->body + 2),
    .spis = ike_slice (raw->body + DELETE_HEADER_LEN, raw->body_len - DELETE_HEADER_LEN),
  };
}

gboolean
ike_delete_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  const IkePayloadDelete *del = &payload->u.del;

  ike_put8 (out, del->protocol);
  ike_put8 (out, del->spi_len);
  ike_put16 (out, del->n_spis);
  ike_put_slice (out, del->spis);
  return TRUE;
}
