/* Negotiation (RFC 7296 §2.7): the responder's choice, the initiator's
 * check of it, and the KE group to send; see ike-proposal.h. */
#include "ike-proposal.h"

#include <string.h>

/* Types whose transform ID 0 means "none", so that offering it makes the
 * type optional: integrity (AEAD), KE (no PFS), and the additional key
 * exchanges of RFC 9370 (types 6-12). */
static gboolean
type_has_none (guint8 type)
{
  return type == IKE_TRANSFORM_INTEG || type == IKE_TRANSFORM_KE || (type >= 6 && type <= 12);
}

static gboolean
sane (const IkeProposal *p)
{
  return p->n_transforms <= IKE_MAX_TRANSFORMS && p->spi_len <= IKE_MAX_SPI_LEN;
}

static gboolean
same_transform (const IkeTransform *a, const IkeTransform *b)
{
  return a->type == b->type && a->id == b->id && a->key_length == b->key_length;
}

static gboolean
has_transform (const IkeProposal *p, const IkeTransform *t)
{
  for (guint i = 0; i < p->n_transforms; i++)
    if (same_transform (&p->transforms[i], t))
      return TRUE;
  return FALSE;
}

static gboolean
has_type (const IkeProposal *p, guint8 type)
{
  for (guint i = 0; i < p->n_transforms; i++)
    if (p->transforms[i].type == type)
      return TRUE;
  return FALSE;
}

static gboolean
is_none (const IkeTransform *t)
{
  return type_has_none (t->type) && t->id == 0;
}

static gboolean
offers_none (const IkeProposal *p, guint8 type)
{
  for (guint i = 0; i < p->n_transforms; i++)
    if (p->transforms[i].type == type && is_none (&p->transforms[i]))
      return TRUE;
  return FALSE;
}

/* Settle TYPE: the first transform in FIRST's order that SECOND has too.
 * A type only one side has is settled as NONE if that side offers NONE. */
static gboolean
settle_type (const IkeProposal *first, const IkeProposal *second, guint8 type, IkeProposal *out)
{
  if (!has_type (first, type) || !has_type (second, type))
    return offers_none (has_type (first, type) ? first : second, type);
  for (guint i = 0; i < first->n_transforms; i++)
    {
      const IkeTransform *t = &first->transforms[i];

      if (t->type != type || !has_transform (second, t))
        continue;
      if (!is_none (t))
        out->transforms[out->n_transforms++] = *t;
      return TRUE;
    }
  return FALSE;
}

static gboolean
match (const IkeProposal *ours, const IkeProposal *peer, IkeProposalOrder order, IkeProposal *out)
{
  const IkeProposal *first = order == IKE_PROPOSAL_PEER_ORDER ? peer : ours;
  const IkeProposal *second = order == IKE_PROPOSAL_PEER_ORDER ? ours : peer;
  gboolean seen[256] = { FALSE };

  if (!sane (ours) || !sane (peer) || ours->protocol != peer->protocol)
    return FALSE;
  *out = (IkeProposal){ .number = peer->number,
                        .protocol = peer->protocol,
                        .spi_len = peer->spi_len };
  memcpy (out->spi, peer->spi, peer->spi_len);
  for (guint i = 0; i < ours->n_transforms; i++)
    seen[ours->transforms[i].type] = TRUE;
  for (guint i = 0; i < peer->n_transforms; i++)
    seen[peer->transforms[i].type] = TRUE;
  /* Ascending type order keeps the result in wire order. */
  for (guint type = 0; type < G_N_ELEMENTS (seen); type++)
    if (seen[type] && !settle_type (first, second, (guint8) type, out))
      return FALSE;
  return TRUE;
}

gboolean
ike_proposal_select (const IkeProposal *ours, guint n_ours, const IkeProposal *peer, guint n_peer,
                     IkeProposalOrder order, IkeProposal *chosen, GError **error)
{
  gboolean peer_first = order == IKE_PROPOSAL_PEER_ORDER;
  guint n_outer = peer_first ? n_peer : n_ours, n_inner = peer_first ? n_ours : n_peer;

  for (guint i = 0; i < n_outer; i++)
    for (guint j = 0; j < n_inner; j++)
      {
        const IkeProposal *p = peer_first ? &peer[i] : &peer[j];
        const IkeProposal *o = peer_first ? &ours[j] : &ours[i];

        if (match (o, p, order, chosen))
          return TRUE;
      }
  g_set_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_NO_PROPOSAL_CHOSEN,
               "none of the peer's %u proposals matches one of our %u", n_peer, n_ours);
  return FALSE;
}

G_GNUC_PRINTF (2, 3)
static gboolean
changed (GError **error, const char *format, ...)
{
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_PEER_CHANGED,
               "the peer's reply is not one of our proposals: %s", why);
  return FALSE;
}

static const IkeProposal *
find_number (const IkeProposal *ours, guint n_ours, guint8 number, guint *index)
{
  for (guint i = 0; i < n_ours; i++)
    if (ours[i].number == number)
      {
        *index = i;
        return &ours[i];
      }
  return NULL;
}

/* Each transform of REPLY was offered, and is the only one of its type. */
static gboolean
check_reply_transforms (const IkeProposal *offer, const IkeProposal *reply, GError **error)
{
  for (guint i = 0; i < reply->n_transforms; i++)
    {
      const IkeTransform *t = &reply->transforms[i];

      for (guint j = 0; j < i; j++)
        if (reply->transforms[j].type == t->type)
          return changed (error, "more than one transform of type %u", t->type);
      /* An explicit NONE where we offered nothing of the type means the
       * same as leaving the type out. */
      if (!has_transform (offer, t) && !(is_none (t) && !has_type (offer, t->type)))
        return changed (error, "transform %u of type %u (key length %u) was not offered", t->id,
                        t->type, t->key_length);
    }
  for (guint i = 0; i < offer->n_transforms; i++)
    {
      guint8 type = offer->transforms[i].type;

      if (!has_type (reply, type) && !offers_none (offer, type))
        return changed (error, "no transform of type %u", type);
    }
  return TRUE;
}

gboolean
ike_proposal_check_reply (const IkeProposal *ours, guint n_ours, const IkeProposal *reply,
                          guint *index, GError **error)
{
  const IkeProposal *offer;
  guint at = 0;

  if (!sane (reply))
    return changed (error, "malformed proposal");
  offer = find_number (ours, n_ours, reply->number, &at);
  if (offer == NULL)
    return changed (error, "proposal number %u was never offered", reply->number);
  if (reply->protocol != offer->protocol)
    return changed (error, "protocol %u instead of %u", reply->protocol, offer->protocol);
  if (reply->spi_len != offer->spi_len)
    return changed (error, "SPI of %u bytes instead of %u", reply->spi_len, offer->spi_len);
  if (!check_reply_transforms (offer, reply, error))
    return FALSE;
  if (index != NULL)
    *index = at;
  return TRUE;
}

guint16
ike_proposal_first_ke (const IkeProposal *ours, guint n_ours)
{
  for (guint i = 0; i < n_ours; i++)
    for (guint j = 0; j < ours[i].n_transforms && j < IKE_MAX_TRANSFORMS; j++)
      if (ours[i].transforms[j].type == IKE_TRANSFORM_KE && ours[i].transforms[j].id != IKE_KE_NONE)
        return ours[i].transforms[j].id;
  return IKE_KE_NONE;
}

gboolean
ike_proposal_retry_ke (const IkeProposal *ours, guint n_ours, guint16 sent, guint16 requested,
                       GError **error)
{
  IkeTransform wanted = { IKE_TRANSFORM_KE, requested, 0 };

  if (requested == IKE_KE_NONE || requested == sent)
    {
      g_set_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_INVALID_KE,
                   "INVALID_KE_PAYLOAD asks for group %u, which we %s", requested,
                   requested == sent ? "already sent" : "cannot send");
      return FALSE;
    }
  for (guint i = 0; i < n_ours; i++)
    if (sane (&ours[i]) && has_transform (&ours[i], &wanted))
      return TRUE;
  g_set_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_INVALID_KE,
               "INVALID_KE_PAYLOAD asks for group %u, which we did not offer", requested);
  return FALSE;
}
