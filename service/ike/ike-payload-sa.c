/* SA payload (RFC 7296 §3.3): proposals, their transforms, and the one
 * transform attribute defined (Key Length, §3.3.5).  Parsed into the
 * IkeProposal array that negotiation reads. */
#include "ike-payload-private.h"

#define PROPOSAL_HEADER_LEN 8
#define TRANSFORM_HEADER_LEN 8
#define ATTR_HEADER_LEN 4
#define LAST_PROPOSAL 0
#define MORE_PROPOSALS 2
#define LAST_TRANSFORM 0
#define MORE_TRANSFORMS 3

/* ---- Validate ---- */

static gboolean
check_attributes (const guint8 *p, gsize len, gsize rel, IkeCheck *check)
{
  gsize pos = 0;

  while (pos < len)
    {
      gsize attr_len;

      if (len - pos < ATTR_HEADER_LEN)
        return ike_check_fail (check, rel + pos, "truncated transform attribute");
      /* TV attributes carry their value in the length field. */
      if (ike_get16 (p + pos) & IKE_ATTR_FORMAT_TV)
        attr_len = ATTR_HEADER_LEN;
      else
        attr_len = ATTR_HEADER_LEN + ike_get16 (p + pos + 2);
      if (attr_len > len - pos)
        return ike_check_fail (check, rel + pos, "attribute of %zu bytes overruns its transform",
                               attr_len);
      pos += attr_len;
    }
  return TRUE;
}

static gboolean
check_transforms (const guint8 *p, gsize len, guint count, gsize rel, IkeCheck *check)
{
  gsize pos = 0;

  for (guint i = 0; i < count; i++)
    {
      guint16 tlen;
      guint8 want = i + 1 == count ? LAST_TRANSFORM : MORE_TRANSFORMS;

      if (len - pos < TRANSFORM_HEADER_LEN)
        return ike_check_fail (check, rel + pos, "transform %u of %u truncated", i + 1, count);
      tlen = ike_get16 (p + pos + 2);
      if (tlen < TRANSFORM_HEADER_LEN || tlen > len - pos)
        return ike_check_fail (check, rel + pos, "transform length %u outside 8..%zu", tlen,
                               len - pos);
      if (p[pos] != want)
        return ike_check_fail (check, rel + pos, "transform %u of %u marked %u, not %u", i + 1,
                               count, p[pos], want);
      if (!check_attributes (p + pos + TRANSFORM_HEADER_LEN, tlen - TRANSFORM_HEADER_LEN,
                             rel + pos + TRANSFORM_HEADER_LEN, check))
        return FALSE;
      pos += tlen;
    }
  if (pos != len)
    return ike_check_fail (check, rel + pos, "%zu bytes after the proposal's %u transforms",
                           len - pos, count);
  return TRUE;
}

static gboolean
check_proposal (const guint8 *body, gsize body_len, gsize pos, IkeCheck *check)
{
  const guint8 *p = body + pos;
  gsize left = body_len - pos;
  guint16 plen;
  guint8 spi_len, n_transforms;

  if (left < PROPOSAL_HEADER_LEN)
    return ike_check_fail (check, pos, "truncated proposal");
  plen = ike_get16 (p + 2);
  spi_len = p[6];
  n_transforms = p[7];
  if (plen < PROPOSAL_HEADER_LEN + spi_len || plen > left)
    return ike_check_fail (check, pos, "proposal length %u outside %u..%zu", plen,
                           PROPOSAL_HEADER_LEN + spi_len, left);
  if (p[0] != (plen == left ? LAST_PROPOSAL : MORE_PROPOSALS))
    return ike_check_fail (check, pos, "proposal marked %u, but %s", p[0],
                           plen == left ? "it is the last" : "more follow");
  if (spi_len > IKE_MAX_SPI_LEN)
    return ike_check_fail (check, pos + 6, "SPI of %u bytes, at most %u", spi_len, IKE_MAX_SPI_LEN);
  if (n_transforms > IKE_MAX_TRANSFORMS)
    return ike_check_fail (check, pos + 7, "%u transforms, at most %u", n_transforms,
                           IKE_MAX_TRANSFORMS);
  return check_transforms (p + PROPOSAL_HEADER_LEN + spi_len, plen - PROPOSAL_HEADER_LEN - spi_len,
                           n_transforms, pos + PROPOSAL_HEADER_LEN + spi_len, check);
}

gboolean
ike_sa_validate (const IkeRaw *raw, IkeCheck *check)
{
  gsize pos = 0;
  guint n = 0;

  while (pos < raw->body_len)
    {
      if (n == IKE_MAX_PROPOSALS)
        return ike_check_fail (check, pos, "more than %u proposals", IKE_MAX_PROPOSALS);
      if (!check_proposal (raw->body, raw->body_len, pos, check))
        return FALSE;
      pos += ike_get16 (raw->body + pos + 2);
      n++;
    }
  return TRUE;
}

/* ---- Parse ---- */

/* RFC 7296 §3.3.6: a transform with an attribute we do not understand is
 * rejected.  Leaving it out of the proposal does exactly that: the
 * transforms of one type are alternatives, and a proposal left without one
 * of a type it needs cannot be chosen. */
static gboolean
transform_usable (const guint8 *attrs, gsize len, guint16 *key_length)
{
  gboolean seen = FALSE;

  *key_length = 0;
  for (gsize pos = 0; pos < len; pos += ATTR_HEADER_LEN)
    {
      if (ike_get16 (attrs + pos) != (IKE_ATTR_FORMAT_TV | IKE_ATTR_KEY_LENGTH) || seen)
        return FALSE;
      *key_length = ike_get16 (attrs + pos + 2);
      seen = TRUE;
    }
  return TRUE;
}

static void
parse_proposal (const guint8 *p, IkeProposal *prop)
{
  gsize pos = PROPOSAL_HEADER_LEN + p[6];

  prop->number = p[4];
  prop->protocol = p[5];
  prop->spi_len = p[6];
  memcpy (prop->spi, p + PROPOSAL_HEADER_LEN, prop->spi_len);
  for (guint i = 0; i < p[7]; i++)
    {
      const guint8 *t = p + pos;
      guint16 tlen = ike_get16 (t + 2);
      IkeTransform *tr = &prop->transforms[prop->n_transforms];

      if (transform_usable (t + TRANSFORM_HEADER_LEN, tlen - TRANSFORM_HEADER_LEN, &tr->key_length))
        {
          tr->type = t[4];
          tr->id = ike_get16 (t + 6);
          prop->n_transforms++;
        }
      pos += tlen;
    }
}

void
ike_sa_parse (const IkeRaw *raw, GPtrArray *arena, IkePayload *out)
{
  IkeProposal *props;
  guint n = 0;

  for (gsize pos = 0; pos < raw->body_len; pos += ike_get16 (raw->body + pos + 2))
    n++;
  props = ike_arena_alloc (arena, n, sizeof (IkeProposal));
  n = 0;
  for (gsize pos = 0; pos < raw->body_len; pos += ike_get16 (raw->body + pos + 2))
    parse_proposal (raw->body + pos, &props[n++]);
  out->u.sa = (IkePayloadSa){ .n_proposals = n, .proposals = props };
}

/* ---- Build ---- */

static void
build_transform (GByteArray *out, const IkeTransform *tr, gboolean last)
{
  gsize start = out->len;

  ike_put8 (out, last ? LAST_TRANSFORM : MORE_TRANSFORMS);
  ike_put8 (out, 0);
  ike_put16 (out, 0); /* length, below */
  ike_put8 (out, tr->type);
  ike_put8 (out, 0);
  ike_put16 (out, tr->id);
  if (tr->key_length != 0)
    {
      ike_put16 (out, IKE_ATTR_FORMAT_TV | IKE_ATTR_KEY_LENGTH);
      ike_put16 (out, tr->key_length);
    }
  ike_set16 (out->data + start + 2, out->len - start);
}

static gboolean
build_proposal (GByteArray *out, const IkeProposal *prop, gboolean last, GError **error)
{
  gsize start = out->len;

  /* The fixed arrays bound these; the validator would not see the overrun. */
  if (prop->spi_len > IKE_MAX_SPI_LEN || prop->n_transforms > IKE_MAX_TRANSFORMS)
    {
      g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_SYNTAX,
                   "proposal %u: SPI of %u bytes or %u transforms is too many", prop->number,
                   prop->spi_len, prop->n_transforms);
      return FALSE;
    }
  ike_put8 (out, last ? LAST_PROPOSAL : MORE_PROPOSALS);
  ike_put8 (out, 0);
  ike_put16 (out, 0); /* length, below */
  ike_put8 (out, prop->number);
  ike_put8 (out, prop->protocol);
  ike_put8 (out, prop->spi_len);
  ike_put8 (out, prop->n_transforms);
  g_byte_array_append (out, prop->spi, prop->spi_len);
  for (guint i = 0; i < prop->n_transforms; i++)
    build_transform (out, &prop->transforms[i], i + 1 == prop->n_transforms);
  ike_set16 (out->data + start + 2, out->len - start);
  return TRUE;
}

gboolean
ike_sa_build (const IkePayload *payload, GByteArray *out, GError **error)
{
  const IkePayloadSa *sa = &payload->u.sa;

  if (sa->n_proposals > IKE_MAX_PROPOSALS)
    {
      g_set_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_SYNTAX, "%u proposals, at most %u",
                   sa->n_proposals, IKE_MAX_PROPOSALS);
      return FALSE;
    }
  for (guint i = 0; i < sa->n_proposals; i++)
    if (!build_proposal (out, &sa->proposals[i], i + 1 == sa->n_proposals, error))
      return FALSE;
  return TRUE;
}
