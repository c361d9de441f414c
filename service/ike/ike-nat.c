/* NAT traversal once IKE_SA_INIT detected a NAT (RFC 7296 §2.23, RFC 3948):
 * the initiator's move to port 4500, UDP encapsulation of Child SAs,
 * following a peer whose NAT mapping changed, and NAT keepalives. */
#include "ike-engine-private.h"

#include <netinet/in.h>

static const guint8 keepalive[] = { 0xff };

static void
set_port (struct sockaddr_storage *addr, guint16 port)
{
  if (addr->ss_family == AF_INET)
    ((struct sockaddr_in *) addr)->sin_port = g_htons (port);
  else if (addr->ss_family == AF_INET6)
    ((struct sockaddr_in6 *) addr)->sin6_port = g_htons (port);
}

static gboolean
behind_nat (IkeSa *sa)
{
  return sa->nat_local || sa->nat_remote;
}

void
ike_nat_float (IkeSa *sa)
{
  if (!behind_nat (sa))
    return;
  set_port (&sa->ends.local, IKE_NATT_PORT);
  set_port (&sa->ends.remote, IKE_NATT_PORT);
}

void
ike_nat_encap (IkeSa *sa, IkeKernelRequest *k)
{
  gsize len;

  k->udp_encap = behind_nat (sa);
  if (!k->udp_encap)
    return;
  ike_addr_bytes (&sa->ends.local, &len, &k->encap_sport);
  ike_addr_bytes (&sa->ends.remote, &len, &k->encap_dport);
}

gboolean
ike_nat_follow (IkeSa *sa, const IkeEnds *ends)
{
  IkeEvent event;

  /* Without a NAT, other ends mean another host (or a reflection): the
   * message is not ours to follow, authenticated or not. */
  if (!behind_nat (sa) || ends->remote.ss_family != sa->ends.remote.ss_family)
    return FALSE;
  sa->ends = *ends;
  if (sa->state != IKE_STATE_ESTABLISHED || sa->children->len == 0)
    return TRUE;
  ike_sa_event_init (sa, &event, IKE_EVENT_IKE_MOVED);
  event.ends = sa->ends;
  ike_engine_emit_event (sa->engine, &event);
  return TRUE;
}

void
ike_nat_start_keepalive (IkeSa *sa, gint64 now)
{
  sa->keepalive_at = G_MAXINT64;
  /* Only the side behind the NAT has a mapping to keep open. */
  if (sa->nat_local && sa->config->nat_keepalive > 0)
    sa->keepalive_at = now + sa->config->nat_keepalive;
}

gint64
ike_nat_deadline (IkeSa *sa)
{
  return sa->state == IKE_STATE_ESTABLISHED ? sa->keepalive_at : G_MAXINT64;
}

void
ike_nat_tick (IkeSa *sa, gint64 now)
{
  g_autoptr (GBytes) data = NULL;

  if (now < ike_nat_deadline (sa))
    return;
  data = g_bytes_new_static (keepalive, sizeof keepalive);
  ike_engine_emit_send (sa->engine, &sa->ends, data);
  sa->keepalive_at = now + sa->config->nat_keepalive;
}
