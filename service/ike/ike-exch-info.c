/* INFORMATIONAL (RFC 7296 §1.4, §2.4): Delete of the IKE SA or of Child SAs
 * in both directions, liveness checks (an empty request, §2.4), and the
 * report that the peer failed our authentication (§2.21.2), and
 * INITIAL_CONTACT (§2.4). */
#include "ike-engine-private.h"

#include <string.h>

#define MAX_DELETE_SPIS 64

static gboolean
add_delete_ike (IkeInnerBuilder *inner, GError **error)
{
  IkePayload d = { .type = IKE_PAYLOAD_DELETE };

  d.u.del.protocol = IKE_PROTO_IKE;
  return ike_inner_builder_add (inner, &d, error);
}

/* The peer deletes Child SAs by its inbound SPIs (our outbound); we answer
 * with ours for the same SAs and remove them. */
static gboolean
delete_children (IkeSa *sa, const IkePayloadDelete *del, IkeInnerBuilder *inner, GError **error)
{
  guint32 ours[MAX_DELETE_SPIS];
  guint n = 0;
  IkePayload d = { .type = IKE_PAYLOAD_DELETE };

  if (del->protocol != IKE_PROTO_ESP || del->spi_len != 4)
    return TRUE;
  for (guint i = 0; i < del->n_spis && n < MAX_DELETE_SPIS; i++)
    {
      guint32 be;
      IkeChild *child;

      memcpy (&be, del->spis.data + 4 * i, 4);
      child = ike_child_find_out (sa, GUINT32_FROM_BE (be));
      if (child == NULL)
        continue;
      ours[n++] = GUINT32_TO_BE (child->spi_in);
      ike_child_remove (sa, child->spi_in, "deleted by the peer", TRUE);
    }
  if (n == 0)
    return TRUE;
  d.u.del = (IkePayloadDelete){ IKE_PROTO_ESP, 4, n, { (const guint8 *) ours, 4 * n } };
  return ike_inner_builder_add (inner, &d, error);
}

IkeRxResult
ike_info_handle_request (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  g_autoptr (IkeInnerBuilder) inner = ike_inner_builder_new ();
  gboolean delete_ike = FALSE;

  for (guint i = 0; i < ike_inner_get_n_payloads (rx->inner); i++)
    {
      const IkePayload *p = ike_inner_get_payload (rx->inner, i);

      if (p->type != IKE_PAYLOAD_DELETE || p->skipped)
        continue;
      if (p->u.del.protocol == IKE_PROTO_IKE)
        delete_ike = TRUE;
      else if (!delete_children (sa, &p->u.del, inner, NULL))
        return IKE_RX_DROP;
    }
  if (delete_ike || ike_rx_notify (rx, IKE_N_AUTHENTICATION_FAILED) != NULL)
    {
      /* §1.4.1: the answer to a Delete of the IKE SA is empty. */
      g_clear_pointer (&inner, ike_inner_builder_free);
      ike_sa_respond (sa, rx, ike_inner_builder_new ());
      if (delete_ike)
        ike_sa_end (sa, "deleted by the peer", 0, TRUE, FALSE);
      else
        ike_sa_fail (sa, "the peer failed our authentication", IKE_N_AUTHENTICATION_FAILED, TRUE);
      return IKE_RX_DEAD;
    }
  ike_sa_respond (sa, rx, g_steal_pointer (&inner));
  return IKE_RX_STAY;
}

IkeRxResult
ike_info_handle_response (IkeRx *rx)
{
  IkeSa *sa = rx->sa;
  IkeRequestKind kind = sa->req_kind;

  ike_sa_request_done (sa);
  if (kind == IKE_REQ_DELETE)
    {
      ike_sa_end (sa, "deleted locally", 0, FALSE, FALSE);
      return IKE_RX_DEAD;
    }
  return IKE_RX_STAY;
}

void
ike_info_start_dpd (IkeSa *sa, gint64 now)
{
  ike_sa_request (sa, now, IKE_REQ_DPD, IKE_EXCHANGE_INFORMATIONAL, ike_inner_builder_new ());
}

gboolean
ike_info_start_delete (IkeSa *sa, gint64 now, GError **error)
{
  g_autoptr (IkeInnerBuilder) inner = ike_inner_builder_new ();

  if (sa->req != NULL && sa->req_kind != IKE_REQ_NOTIFY)
    {
      /* Window 1: the exchange in flight is abandoned for the Delete. */
      ike_sa_request_done (sa);
    }
  g_clear_pointer (&sa->create, ike_create_free);
  if (!add_delete_ike (inner, error))
    return FALSE;
  ike_child_remove_all (sa, "IKE SA deleted locally");
  sa->state = IKE_STATE_DELETING;
  if (!ike_sa_request (sa, now, IKE_REQ_DELETE, IKE_EXCHANGE_INFORMATIONAL,
                       g_steal_pointer (&inner)))
    ike_sa_end (sa, "deleted locally (could not tell the peer)", 0, FALSE, FALSE);
  return TRUE;
}

void
ike_info_send_auth_failed (IkeSa *sa, gint64 now)
{
  IkeInnerBuilder *inner = ike_inner_builder_new ();

  if (!ike_inner_builder_add_notify (inner, IKE_N_AUTHENTICATION_FAILED, NULL, 0, NULL))
    {
      ike_inner_builder_free (inner);
      return;
    }
  ike_sa_request (sa, now, IKE_REQ_NOTIFY, IKE_EXCHANGE_INFORMATIONAL, inner);
}

/* The Delete of one Child SA, removed here at once: an SA that is leaving
 * takes no more traffic whether or not the peer answers. */
gboolean
ike_info_start_delete_child (IkeSa *sa, gint64 now, guint32 spi_in, GError **error)
{
  g_autoptr (IkeInnerBuilder) inner = ike_inner_builder_new ();
  IkePayload d = { .type = IKE_PAYLOAD_DELETE };
  guint32 be = GUINT32_TO_BE (spi_in);

  d.u.del = (IkePayloadDelete){ IKE_PROTO_ESP, 4, 1, { (const guint8 *) &be, 4 } };
  if (!ike_inner_builder_add (inner, &d, error))
    return FALSE;
  ike_child_remove (sa, spi_in, "deleted locally", FALSE);
  if (!ike_sa_request (sa, now, IKE_REQ_DELETE_CHILD, IKE_EXCHANGE_INFORMATIONAL,
                       g_steal_pointer (&inner)))
    {
      g_set_error (error, IKE_ENGINE_ERROR, IKE_ENGINE_ERROR_FAILED, "cannot send the Delete");
      return FALSE;
    }
  return TRUE;
}

static void
forgotten (IkeSa *other, gpointer data)
{
  IkeSa *sa = data;

  if (other == sa || other->remote_id == NULL || !other->authenticated
      || other->remote_id_type != sa->remote_id_type
      || !g_bytes_equal (other->remote_id, sa->remote_id)
      || (other->state != IKE_STATE_ESTABLISHED && other->state != IKE_STATE_DELETING
          && other->state != IKE_STATE_REKEYED))
    return;
  ike_engine_touch (other->engine, other);
  ike_sa_end (other, "the peer started over (INITIAL_CONTACT)", IKE_N_INITIAL_CONTACT, TRUE, FALSE);
}

/* Only an authenticated identity can vouch for its own older SAs: with NULL
 * authentication anyone could claim them. */
void
ike_info_initial_contact (IkeSa *sa)
{
  if (!sa->authenticated || sa->remote_id == NULL)
    return;
  ike_engine_foreach_sa (sa->engine, forgotten, sa);
}
