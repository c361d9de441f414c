/* Traffic selector payloads TSi/TSr (RFC 7296 §3.13).  IPv4 and IPv6
 * ranges are decoded and checked (start ≤ end); selector types we do not
 * know (e.g. RFC 9478 security labels) are kept opaque for the engine to
 * refuse or ignore. */
#include "ike-payload-private.h"

#define TS_PAYLOAD_HEADER_LEN 4
#define TS_HEADER_LEN 4
#define TS_IPV4_LEN 16
#define TS_IPV6_LEN 40
/* RFC 7296 §3.13.1: start 65535, end 0 means "OPAQUE" ports. */
#define PORT_OPAQUE_START 65535
#define PORT_OPAQUE_END 0

static gsize
addr_len (guint8 type)
{
  return type == IKE_TS_IPV4_ADDR_RANGE ? 4 : type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 0;
}

static gboolean
check_range (const guint8 *ts, gsize alen, gsize rel, IkeCheck *check)
{
  guint16 start_port = ike_get16 (ts + 4);
  guint16 end_port = ike_get16 (ts + 6);
  gboolean opaque = start_port == PORT_OPAQUE_START && end_port == PORT_OPAQUE_END;

  if (start_port > end_port && !opaque)
    return ike_check_fail (check, rel + 4, "port range %u-%u ends before it starts", start_port,
                           end_port);
  if (memcmp (ts + 8, ts + 8 + alen, alen) > 0)
    return ike_check_fail (check, rel + 8, "address range ends before it starts");
  return TRUE;
}

static gboolean
check_selector (const guint8 *ts, gsize left, gsize rel, IkeCheck *check)
{
  guint16 len;
  gsize alen;

  if (left < TS_HEADER_LEN)
    return ike_check_fail (check, rel, "truncated traffic selector");
  len = ike_get16 (ts + 2);
  alen = addr_len (ts[0]);
  if (len < TS_HEADER_LEN || len > left)
    return ike_check_fail (check, rel, "selector length %u outside 4..%zu", len, left);
  if (alen == 0)
    return TRUE;
  if (len != 8 + 2 * alen)
    return ike_check_fail (check, rel, "%s selector of %u bytes, not %zu", ike_ts_type_name (ts[0]),
                           len, 8 + 2 * alen);
  return check_range (ts, alen, rel, check);
}

gboolean
ike_ts_validate (const IkeRaw *raw, IkeCheck *check)
{
  guint8 n = raw->body[0];
  gsize pos = TS_PAYLOAD_HEADER_LEN;

  if (n == 0)
    return ike_check_fail (check, 0, "no traffic selector");
  for (guint i = 0; i < n; i++)
    {
      if (!check_selector (raw->body + pos, raw->body_len - pos, pos, check))
        return FALSE;
      pos += ike_get16 (raw->body + pos + 2);
    }
  if (pos != raw->body_len)
    return ike_check_fail (check, pos, "%zu bytes after %u selectors", raw->body_len - pos, n);
  return TRUE;
}

static void
parse_selector (const guint8 *p, IkeTs *ts)
{
  guint16 len = ike_get16 (p + 2);
  gsize alen = addr_len (p[0]);

  ts->type = p[0];
  ts->ip_proto = p[1];
  if (alen == 0)
    {
      ts->opaque = ike_slice (p + TS_HEADER_LEN, len - TS_HEADER_LEN);
      return;
    }
  ts->start_port = ike_get16 (p + 4);
  ts->end_port = ike_get16 (p + 6);
  memcpy (ts->start, p + 8, alen);
  memcpy (ts->end, p + 8 + alen, alen);
}

void
ike_ts_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  guint n = raw->body[0];
  IkeTs *ts = ike_arena_alloc (arena, n, sizeof (IkeTs));
  gsize pos = TS_PAYLOAD_HEADER_LEN;

  for (guint i = 0; i < n; i++)
    {
      parse_selector (raw->body + pos, &ts[i]);
      pos += ike_get16 (raw->body + pos + 2);
    }
  out->u.ts = (IkePayloadTs){ .n_ts = n, .ts = ts };
}

static gboolean
build_selector (GByteArray *out, const IkeTs *ts, GError **error)
{
  gsize alen = addr_len (ts->type);

  ike_put8 (out, ts->type);
  ike_put8 (out, ts->ip_proto);
  if (alen == 0)
    {
      if (ts->opaque.len > G_MAXUINT16 - TS_HEADER_LEN)
        {
          g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG, "selector of %zu bytes",
                       ts->opaque.len);
          return FALSE;
        }
      ike_put16 (out, TS_HEADER_LEN + ts->opaque.len);
      ike_put_slice (out, ts->opaque);
      return TRUE;
    }
  ike_put16 (out, 8 + 2 * alen);
  ike_put16 (out, ts->start_port);
  ike_put16 (out, ts->end_port);
  g_byte_array_append (out, ts->start, alen);
  g_byte_array_append (out, ts->end, alen);
  return TRUE;
}

gboolean
ike_ts_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  const IkePayloadTs *ts = &payload->u.ts;

  if (ts->n_ts > G_MAXUINT8)
    {
      g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_TOO_BIG, "%u selectors, at most 255",
                   ts->n_ts);
      return FALSE;
    }
  ike_put8 (out, ts->n_ts);
  ike_put_zero (out, TS_PAYLOAD_HEADER_LEN - 1);
  for (guint i = 0; i < ts->n_ts; i++)
    if (!build_selector (out, &ts->ts[i], error))
      return FALSE;
  return TRUE;
}
