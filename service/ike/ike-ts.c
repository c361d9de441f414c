/* Traffic selectors (RFC 7296 §2.9, §3.13): ours from the configuration or
 * the ends' addresses, narrowing the peer's to ours (responder), and the
 * check that the responder's choice lies within what we offered. */
#include "ike-engine-private.h"

#include <string.h>

static gsize
ts_addr_len (const IkeTs *ts)
{
  return ts->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : ts->type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 0;
}

static void
ts_from_addr (const struct sockaddr_storage *addr, IkeTs *ts)
{
  gsize len;
  guint16 port;
  const guint8 *bytes = ike_addr_bytes (addr, &len, &port);

  memset (ts, 0, sizeof *ts);
  ts->type = len == 4 ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
  ts->end_port = 65535;
  if (bytes != NULL)
    {
      memcpy (ts->start, bytes, len);
      memcpy (ts->end, bytes, len);
    }
}

/* Our configured selectors of one side, or that end's address. */
guint
ike_ts_config (IkeSa *sa, gboolean local, IkeTs *out)
{
  IkeConfig *config = sa->config;
  guint n = local ? config->n_ts_local : config->n_ts_remote;

  if (n == 0)
    {
      ts_from_addr (local ? &sa->ends.local : &sa->ends.remote, out);
      return 1;
    }
  memcpy (out, local ? config->ts_local : config->ts_remote, n * sizeof (IkeTs));
  return n;
}

static gboolean
ts_intersect (const IkeTs *a, const IkeTs *b, IkeTs *out)
{
  gsize alen = ts_addr_len (a);
  const guint8 *start, *end;

  if (alen == 0 || a->type != b->type || a->start_port > a->end_port || b->start_port > b->end_port)
    return FALSE;
  if (a->ip_proto != 0 && b->ip_proto != 0 && a->ip_proto != b->ip_proto)
    return FALSE;
  start = memcmp (a->start, b->start, alen) > 0 ? a->start : b->start;
  end = memcmp (a->end, b->end, alen) < 0 ? a->end : b->end;
  if (MAX (a->start_port, b->start_port) > MIN (a->end_port, b->end_port)
      || memcmp (start, end, alen) > 0)
    return FALSE;
  memset (out, 0, sizeof *out);
  out->type = a->type;
  out->ip_proto = a->ip_proto != 0 ? a->ip_proto : b->ip_proto;
  out->start_port = MAX (a->start_port, b->start_port);
  out->end_port = MIN (a->end_port, b->end_port);
  memcpy (out->start, start, alen);
  memcpy (out->end, end, alen);
  return TRUE;
}

guint
ike_ts_narrow (const IkePayloadTs *peer, const IkeTs *ours, guint n_ours, IkeTs *out)
{
  guint n = 0;

  for (guint i = 0; i < peer->n_ts && n < IKE_CONFIG_MAX_TS; i++)
    for (guint j = 0; j < n_ours && n < IKE_CONFIG_MAX_TS; j++)
      if (ts_intersect (&peer->ts[i], &ours[j], &out[n]))
        n++;
  return n;
}

gboolean
ike_ts_within (const IkePayloadTs *got, const IkeTs *offered, guint n_offered, IkeTs *out)
{
  IkeTs common;

  if (got->n_ts == 0 || got->n_ts > IKE_CONFIG_MAX_TS)
    return FALSE;
  for (guint i = 0; i < got->n_ts; i++)
    {
      gboolean inside = FALSE;

      for (guint j = 0; j < n_offered && !inside; j++)
        inside = ts_intersect (&got->ts[i], &offered[j], &common)
                 && common.ip_proto == got->ts[i].ip_proto
                 && common.start_port == got->ts[i].start_port
                 && common.end_port == got->ts[i].end_port
                 && memcmp (common.start, got->ts[i].start, ts_addr_len (&common)) == 0
                 && memcmp (common.end, got->ts[i].end, ts_addr_len (&common)) == 0;
      if (!inside)
        return FALSE;
      out[i] = got->ts[i];
      out[i].opaque = (IkeSlice){ NULL, 0 };
    }
  return TRUE;
}

gboolean
ike_ts_add (IkeInnerBuilder *inner, IkePayloadType type, const IkeTs *ts, guint n, GError **error)
{
  IkePayload p = { .type = type };

  p.u.ts.n_ts = n;
  p.u.ts.ts = ts;
  return ike_inner_builder_add (inner, &p, error);
}
