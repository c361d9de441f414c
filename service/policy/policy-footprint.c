/* From groups to the desired kernel policies, and the one place where
 * XFRM priorities are computed. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "policy-private.h"

/* ---- Priorities ---- */

/* Steps inside a class, least significant first. */
#define PRIO_TEMPLATE 1u /* a template loses to its instance */
#define PRIO_NO_PROTO 2u /* no protocol/ports loses to a narrower selector */
#define PRIO_PER_BIT 4u  /* each bit shorter than a host prefix loses */

guint32
policy_priority (PolicyClass klass, guint prefix_len, guint host_bits, gboolean has_proto,
                 PolicyLevel level)
{
  guint32 prio = POLICY_PRIORITY_BASE + klass * POLICY_PRIORITY_CLASS_SPAN;

  g_return_val_if_fail (klass <= POLICY_CLASS_OE_ANON, G_MAXUINT32);
  g_return_val_if_fail (host_bits <= 128 && prefix_len <= host_bits, G_MAXUINT32);
  /* 128 bits of prefix, 4 steps each, fit in a class (0x400). */
  prio += (host_bits - prefix_len) * PRIO_PER_BIT;
  prio += has_proto ? 0 : PRIO_NO_PROTO;
  prio += level == POLICY_LEVEL_TEMPLATE ? PRIO_TEMPLATE : 0;
  return prio;
}

gboolean
policy_priority_decode (guint32 priority, PolicyClass *klass, PolicyLevel *level)
{
  guint32 offset;

  if (priority < POLICY_PRIORITY_BASE
      || priority >= POLICY_PRIORITY_BASE + (POLICY_CLASS_OE_ANON + 1) * POLICY_PRIORITY_CLASS_SPAN)
    return FALSE;
  offset = (priority - POLICY_PRIORITY_BASE) % POLICY_PRIORITY_CLASS_SPAN;
  if (offset > 128 * PRIO_PER_BIT + PRIO_NO_PROTO + PRIO_TEMPLATE)
    return FALSE;
  if (klass != NULL)
    *klass = (priority - POLICY_PRIORITY_BASE) / POLICY_PRIORITY_CLASS_SPAN;
  if (level != NULL)
    *level = offset & PRIO_TEMPLATE ? POLICY_LEVEL_TEMPLATE : POLICY_LEVEL_INSTANCE;
  return TRUE;
}

/* ---- The set ---- */

static gboolean
is_template_action (XfrmAction action)
{
  return action == XFRM_ACTION_TRAP || action == XFRM_ACTION_IPSEC;
}

gboolean
policy_equivalent (const XfrmPolicy *a, const XfrmPolicy *b)
{
  gboolean tmpl = is_template_action (a->action);

  if (!xfrm_selector_equal (&a->sel, &b->sel) || a->dir != b->dir || a->priority != b->priority
      || tmpl != is_template_action (b->action))
    return FALSE;
  if (!tmpl && a->action != b->action)
    return FALSE;
  if (tmpl && (a->mode != b->mode || a->reqid != b->reqid))
    return FALSE;
  return a->soft_seconds == b->soft_seconds && a->hard_seconds == b->hard_seconds;
}

void
policy_set_free (PolicySet *set)
{
  if (set == NULL)
    return;
  g_array_unref (set->policies);
  g_free (set);
}

guint
policy_set_get_n_policies (const PolicySet *set)
{
  return set->policies->len;
}

const XfrmPolicy *
policy_set_get_policy (const PolicySet *set, guint i)
{
  g_return_val_if_fail (i < set->policies->len, NULL);
  return &g_array_index (set->policies, XfrmPolicy, i);
}

const XfrmPolicy *
policy_set_lookup (const PolicySet *set, const XfrmSelector *sel, XfrmDir dir)
{
  for (guint i = 0; i < set->policies->len; i++)
    {
      const XfrmPolicy *p = &g_array_index (set->policies, XfrmPolicy, i);
      if (p->dir == dir && xfrm_selector_equal (&p->sel, sel))
        return p;
    }
  return NULL;
}

/* ---- Footprint ---- */

static void
any_addr (int family, XfrmAddr *addr)
{
  memset (addr, 0, sizeof *addr);
  addr->family = family;
}

/* The selector of traffic between any local address and @remote/@len, as
 * seen in @dir: the remote is the destination out and the source in. */
static XfrmSelector
selector_for (XfrmDir dir, const XfrmAddr *remote, guint8 len, guint8 proto, guint16 local_port,
              guint16 remote_port)
{
  XfrmSelector sel = { .proto = proto };
  gboolean out = dir == XFRM_DIR_OUT;

  any_addr (remote->family, out ? &sel.src : &sel.dst);
  *(out ? &sel.dst : &sel.src) = *remote;
  *(out ? &sel.dst_prefix : &sel.src_prefix) = len;
  sel.sport = out ? local_port : remote_port;
  sel.dport = out ? remote_port : local_port;
  return sel;
}

static void
add_policy (PolicySet *set, const XfrmSelector *sel, XfrmDir dir, XfrmAction action,
            guint32 priority, guint32 reqid)
{
  XfrmPolicy p = { .sel = *sel, .dir = dir, .action = action, .priority = priority };

  const XfrmPolicy *same = policy_set_lookup (set, sel, dir);

  if (is_template_action (action))
    {
      p.mode = XFRM_TRANSPORT;
      p.reqid = reqid;
    }
  /* One policy per kernel identity: the later one wins, and the bypasses
   * come last (a group line "::1" must not cover loopback). */
  if (same != NULL)
    *(XfrmPolicy *) same = p;
  else
    g_array_append_val (set->policies, p);
}

/* What each group installs in each direction; -1 for nothing.  Inbound
 * `private` is an ipsec policy with a template of any reqid: only packets
 * that came through ESP pass (see policy.h for why each). */
static const struct
{
  int out, in;
} footprint[POLICY_N_GROUPS] = {
  [POLICY_GROUP_BLOCK] = { XFRM_ACTION_DROP, XFRM_ACTION_DROP },
  [POLICY_GROUP_CLEAR] = { XFRM_ACTION_PASS, XFRM_ACTION_PASS },
  [POLICY_GROUP_CLEAR_OR_PRIVATE] = { -1, -1 },
  [POLICY_GROUP_PRIVATE_OR_CLEAR] = { XFRM_ACTION_TRAP, XFRM_ACTION_PASS },
  [POLICY_GROUP_PRIVATE] = { XFRM_ACTION_TRAP, XFRM_ACTION_IPSEC },
};

static void
add_entry (PolicySet *set, const PolicyEntry *e)
{
  guint host_bits = xfrm_addr_host_bits (e->net.family);
  guint32 prio = policy_priority (POLICY_CLASS_OE_ANON, e->prefix_len, host_bits, e->proto != 0,
                                  POLICY_LEVEL_TEMPLATE);
  XfrmSelector out
      = selector_for (XFRM_DIR_OUT, &e->net, e->prefix_len, e->proto, e->sport, e->dport);
  XfrmSelector in
      = selector_for (XFRM_DIR_IN, &e->net, e->prefix_len, e->proto, e->sport, e->dport);

  if (footprint[e->group].out >= 0)
    add_policy (set, &out, XFRM_DIR_OUT, footprint[e->group].out, prio,
                POLICY_REQID_GROUP (e->group));
  /* The trap's template reqid would make the kernel refuse an instance's
   * SA; inbound, any ESP SA proves the packet was not sent in clear. */
  if (footprint[e->group].in >= 0)
    add_policy (set, &in, XFRM_DIR_IN, footprint[e->group].in, prio, 0);
}

const XfrmPolicy *
policy_set_lookup_entry (const PolicySet *set, const PolicyEntry *entry, XfrmDir dir)
{
  XfrmSelector sel = selector_for (dir, &entry->net, entry->prefix_len, entry->proto, entry->sport,
                                   entry->dport);

  return policy_set_lookup (set, &sel, dir);
}

static void
add_bypass_pair (PolicySet *set, const char *prefix, guint8 proto, guint16 icmp_type)
{
  XfrmAddr net;
  guint8 len;
  XfrmSelector sel;
  guint32 prio;

  g_assert (xfrm_prefix_parse (prefix, &net, &len, NULL));
  prio = policy_priority (POLICY_CLASS_BYPASS, len, xfrm_addr_host_bits (net.family), proto != 0,
                          POLICY_LEVEL_TEMPLATE);
  /* ICMP selectors carry the type in the source port, in both directions:
   * the local "port" out, the remote one in. */
  sel = selector_for (XFRM_DIR_OUT, &net, len, proto, icmp_type, 0);
  add_policy (set, &sel, XFRM_DIR_OUT, XFRM_ACTION_PASS, prio, 0);
  sel = selector_for (XFRM_DIR_IN, &net, len, proto, 0, icmp_type);
  add_policy (set, &sel, XFRM_DIR_IN, XFRM_ACTION_PASS, prio, 0);
}

static void
add_bypasses (PolicySet *set)
{
  add_bypass_pair (set, "127.0.0.0/8", 0, 0);
  add_bypass_pair (set, "::1/128", 0, 0);
  /* Router and neighbour solicitations and advertisements (RFC 4861). */
  for (guint16 type = 133; type <= 136; type++)
    add_bypass_pair (set, "::/0", IPPROTO_ICMPV6, type);
}

PolicySet *
policy_set_from_groups (const PolicyGroups *groups)
{
  g_autoptr (PolicySet) set = g_new0 (PolicySet, 1);

  set->policies = g_array_new (FALSE, TRUE, sizeof (XfrmPolicy));
  for (guint i = 0; i < groups->entries->len; i++)
    add_entry (set, &g_array_index (groups->entries, PolicyEntry, i));
  if (set->policies->len > 0)
    add_bypasses (set);
  return g_steal_pointer (&set);
}
