/* The engine's kernel requests carried out through the XFRM driver
 * (service/xfrm/): each Child SA becomes two SAs (in: peer → us with the
 * inbound SPI, out: us → peer) and ipsec policies for its traffic
 * selectors, all under one reqid of ours.  What was installed is kept here,
 * so that REMOVE (and the daemon's end) deletes exactly that, even when
 * the engine's view of the SA's ends has moved since. */
#include "config.h"

#include "daemon-private.h"

#include <arpa/inet.h>
#include <glib/gi18n.h>
#include <string.h>

#include "ike-msg.h"
#include "policy.h"

/* Inbound replay window, in packets (RFC 4303 §3.4.3 recommends 32 at
 * least; reordering on busy links wants more). */
#define IPSECD_REPLAY_WINDOW 64
/* The reqid the driver's probe uses stays free of Child SAs. */
#define IPSECD_REQID_LAST (XFRM_REQID_MAX - 1)
/* Directions of one selector pair: out, in, and fwd for tunnel gateways. */
#define IPSECD_MAX_POLICIES (IKE_CONFIG_MAX_TS * IKE_CONFIG_MAX_TS * 3)

typedef struct
{
  XfrmSelector sel;
  XfrmDir dir;
} IpsecdPolicyKey;

/* One installed Child SA. */
typedef struct
{
  IkeSaHandle sa;
  guint32 spi_in, spi_out;
  guint32 reqid;
  XfrmMode mode;
  XfrmAddr local, remote;
  /* UDP encapsulation ports, 0 without (what a NAT move compares) */
  guint16 encap_sport, encap_dport;
  guint n_policies;
  IpsecdPolicyKey policies[IPSECD_MAX_POLICIES];
  /* A rekey's outbound SA waits for the Child SA it replaces (spi_in
   * waits_for) to go: see install_child.  The keys are ours until then. */
  guint32 waits_for;
  XfrmSa pending;
  IkeSecret *pending_encr, *pending_integ;
} IpsecdChild;

static void
child_free (gpointer data)
{
  IpsecdChild *child = data;

  ike_secret_free (child->pending_encr);
  ike_secret_free (child->pending_integ);
  g_free (child);
}

/* ---- start and end ---- */

void
ipsecd_kernel_open (IpsecdDaemon *daemon)
{
  g_autoptr (GError) error = NULL;

  daemon->children = g_hash_table_new_full (g_int_hash, g_int_equal, NULL, child_free);
  /* below it: the OE groups' trap templates (service/policy/) */
  daemon->next_reqid = POLICY_REQID_INSTANCE_MIN;
  if (daemon->record != NULL)
    return;
  daemon->xfrm = xfrm_netlink_new (&error);
  /* Without the driver IKE still works; every Child SA is reported as
   * failed rather than pretending that traffic is protected. */
  if (daemon->xfrm == NULL)
    g_log_structured (
        G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "kernel-unavailable", "MESSAGE",
        _ ("cannot open the kernel's XFRM interface: %s; Child SAs will fail"), error->message);
}

static void remove_child (IpsecdDaemon *daemon, IpsecdChild *child);

/* The engine removes its Child SAs when the daemon stops; whatever is left
 * (a peer that never answered, a failed Delete) is removed here, so that no
 * SA of ours outlives the daemon. */
void
ipsecd_kernel_close (IpsecdDaemon *daemon)
{
  GHashTableIter iter;
  IpsecdChild *child;

  if (daemon->children == NULL)
    return;
  g_hash_table_iter_init (&iter, daemon->children);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &child))
    {
      /* out of the table first: a shared policy then goes with the last */
      g_hash_table_iter_steal (&iter);
      if (daemon->xfrm != NULL)
        remove_child (daemon, child);
      child_free (child);
    }
  g_clear_pointer (&daemon->children, g_hash_table_unref);
  g_clear_pointer (&daemon->xfrm, xfrm_driver_free);
}

/* ---- traffic selectors to XFRM selectors ---- */

static gboolean
ts_bit (const guint8 *bytes, guint bit)
{
  return (bytes[bit / 8] >> (7 - bit % 8)) & 1;
}

/* XFRM selectors are prefixes: a range that is not exactly one cannot be
 * installed as negotiated, and a wider one would protect what the peer
 * refused, a narrower one leak the rest in clear. */
static gboolean
ts_prefix (const IkeTs *ts, XfrmAddr *addr, guint8 *prefix)
{
  guint bits = ts->type == IKE_TS_IPV6_ADDR_RANGE ? 128 : 32;
  gboolean common = TRUE;

  if (ts->type != IKE_TS_IPV4_ADDR_RANGE && ts->type != IKE_TS_IPV6_ADDR_RANGE)
    return FALSE;
  *prefix = 0;
  for (guint i = 0; i < bits; i++)
    {
      gboolean s = ts_bit (ts->start, i), e = ts_bit (ts->end, i);

      if (common && s == e)
        (*prefix)++;
      else if (s || !e)
        return FALSE;
      else
        common = FALSE;
    }
  *addr = (XfrmAddr){ .family = bits == 32 ? AF_INET : AF_INET6 };
  memcpy (addr->bytes, ts->start, bits / 8);
  return TRUE;
}

/* One port or all of them: XFRM has no port ranges. */
static gboolean
ts_port (const IkeTs *ts, guint16 *port)
{
  if (ts->start_port == 0 && ts->end_port == 65535)
    *port = 0;
  else if (ts->start_port == ts->end_port)
    *port = ts->start_port;
  else
    return FALSE;
  return TRUE;
}

/* The outbound selector of a local/remote TS pair; FALSE when the pair
 * cannot be one (families or protocols differ, not a prefix). */
static gboolean
ts_pair_selector (const IkeTs *local, const IkeTs *remote, XfrmSelector *sel)
{
  *sel = (XfrmSelector){ 0 };
  if (local->type != remote->type)
    return FALSE;
  if (local->ip_proto != 0 && remote->ip_proto != 0 && local->ip_proto != remote->ip_proto)
    return FALSE;
  sel->proto = local->ip_proto != 0 ? local->ip_proto : remote->ip_proto;
  return ts_prefix (local, &sel->src, &sel->src_prefix)
         && ts_prefix (remote, &sel->dst, &sel->dst_prefix) && ts_port (local, &sel->sport)
         && ts_port (remote, &sel->dport);
}

static XfrmSelector
selector_reversed (const XfrmSelector *sel)
{
  return (XfrmSelector){ .src = sel->dst,
                         .dst = sel->src,
                         .src_prefix = sel->dst_prefix,
                         .dst_prefix = sel->src_prefix,
                         .proto = sel->proto,
                         .sport = sel->dport,
                         .dport = sel->sport };
}

static void
child_add_policy (IpsecdChild *child, const XfrmSelector *sel, XfrmDir dir)
{
  if (child->n_policies < IPSECD_MAX_POLICIES)
    child->policies[child->n_policies++] = (IpsecdPolicyKey){ *sel, dir };
}

/* Every policy the Child SA needs, into child->policies. */
static gboolean
child_plan_policies (IpsecdChild *child, const IkeKernelRequest *k, GError **error)
{
  for (guint i = 0; i < k->n_ts_local; i++)
    for (guint j = 0; j < k->n_ts_remote; j++)
      {
        XfrmSelector out, in;

        if (!ts_pair_selector (&k->ts_local[i], &k->ts_remote[j], &out))
          continue;
        in = selector_reversed (&out);
        child_add_policy (child, &out, XFRM_DIR_OUT);
        child_add_policy (child, &in, XFRM_DIR_IN);
        if (child->mode == XFRM_TUNNEL)
          child_add_policy (child, &in, XFRM_DIR_FWD);
      }
  if (child->n_policies == 0)
    {
      g_set_error (error, XFRM_ERROR, XFRM_ERROR_UNSUPPORTED,
                   _ ("no traffic selector pair is an address prefix the kernel can match"));
      return FALSE;
    }
  return TRUE;
}

/* ---- policies shared by Child SAs ---- */

/* A rekeyed Child SA has the same selectors as the one it replaces, and
 * both live for a while: the policy follows the newest, and goes when the
 * last of them does. */
static IpsecdChild *
policy_other_owner (IpsecdDaemon *daemon, const IpsecdChild *child, const IpsecdPolicyKey *key)
{
  GHashTableIter iter;
  IpsecdChild *other;

  g_hash_table_iter_init (&iter, daemon->children);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
    {
      if (other == child)
        continue;
      for (guint i = 0; i < other->n_policies; i++)
        if (other->policies[i].dir == key->dir
            && xfrm_selector_equal (&other->policies[i].sel, &key->sel))
          return other;
    }
  return NULL;
}

static XfrmPolicy
policy_for (const IpsecdChild *child, const IpsecdPolicyKey *key)
{
  gboolean out = key->dir == XFRM_DIR_OUT;
  XfrmPolicy policy = { .sel = key->sel,
                        .dir = key->dir,
                        .action = XFRM_ACTION_IPSEC,
                        /* the more specific selectors win */
                        .priority = 1000 + 256 - key->sel.src_prefix - key->sel.dst_prefix,
                        .mode = child->mode,
                        .reqid = child->reqid };

  if (child->mode == XFRM_TUNNEL)
    {
      policy.tmpl_src = out ? child->local : child->remote;
      policy.tmpl_dst = out ? child->remote : child->local;
    }
  return policy;
}

/* Of the same IKE SA, between the same addresses: a rekey, not a move. */
static gboolean
same_ends (const IpsecdChild *a, const IpsecdChild *b)
{
  return a->sa == b->sa && xfrm_addr_equal (&a->local, &b->local)
         && xfrm_addr_equal (&a->remote, &b->remote);
}

static gboolean
install_policy (IpsecdDaemon *daemon, const IpsecdChild *child, const IpsecdPolicyKey *key,
                GError **error)
{
  XfrmPolicy policy = policy_for (child, key);
  g_autoptr (GError) local_error = NULL;

  /* A rekey (the same IKE SA; another IKE SA with these selectors is a
   * stale one of a restarted peer, replaced at once): outbound traffic
   * stays on the Child SA being replaced until it goes (uninstall_policy
   * hands the policy over then).  The peer installs its inbound SA only
   * when our answer reaches it, so switching now would send ESP it cannot
   * decrypt yet.  Inbound switches at once: the peer may use the new SA as
   * soon as it has it. */
  IpsecdChild *other = policy_other_owner (daemon, child, key);

  if (key->dir == XFRM_DIR_OUT && other != NULL && same_ends (other, child))
    return TRUE;

  if (xfrm_driver_add_policy (daemon->xfrm, &policy, &local_error))
    return TRUE;
  /* ours already (a rekey's predecessor, or left by an ipsecd that was
   * killed): it now leads to this Child SA */
  if (g_error_matches (local_error, XFRM_ERROR, XFRM_ERROR_EXISTS))
    return xfrm_driver_update_policy (daemon->xfrm, &policy, error);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static void
uninstall_policy (IpsecdDaemon *daemon, const IpsecdChild *child, const IpsecdPolicyKey *key)
{
  IpsecdChild *other = policy_other_owner (daemon, child, key);
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (other != NULL)
    {
      XfrmPolicy policy = policy_for (other, key);

      ok = xfrm_driver_update_policy (daemon->xfrm, &policy, &error);
    }
  else
    ok = xfrm_driver_delete_policy (daemon->xfrm, &key->sel, key->dir, &error)
         || g_error_matches (error, XFRM_ERROR, XFRM_ERROR_NOT_FOUND);
  if (!ok)
    g_warning (_ ("cannot remove the policy of Child SA %08x: %s"), child->spi_in, error->message);
}

/* ---- SAs ---- */

static XfrmSa
sa_for (const IpsecdChild *child, const IkeKernelRequest *k, gboolean in)
{
  const IkeSecret *encr = in ? k->encr_in : k->encr_out;
  const IkeSecret *integ = in ? k->integ_in : k->integ_out;
  /* Keys are borrowed from the request, never copied: the driver wipes
   * its message and the engine's output clear wipes the IkeSecrets. */
  XfrmSa sa = { .src = in ? child->remote : child->local,
                .dst = in ? child->local : child->remote,
                .spi = in ? child->spi_in : child->spi_out,
                .mode = child->mode,
                .reqid = child->reqid,
                .encr = k->esp.encr,
                .key_bits = k->esp.key_bits,
                .integ = k->esp.integ,
                .esn = k->esp.esn == IKE_ESN_YES,
                .encr_key = encr != NULL ? encr->data : NULL,
                .encr_key_len = encr != NULL ? encr->len : 0,
                .integ_key = integ != NULL ? integ->data : NULL,
                .integ_key_len = integ != NULL ? integ->len : 0,
                .replay_window = in ? IPSECD_REPLAY_WINDOW : 0 };

  if (k->udp_encap)
    {
      sa.encap_sport = in ? k->encap_dport : k->encap_sport;
      sa.encap_dport = in ? k->encap_sport : k->encap_dport;
    }
  return sa;
}

static void
delete_sa (IpsecdDaemon *daemon, const XfrmAddr *dst, guint32 spi)
{
  g_autoptr (GError) error = NULL;

  if (!xfrm_driver_delete_sa (daemon->xfrm, dst, spi, &error)
      && !g_error_matches (error, XFRM_ERROR, XFRM_ERROR_NOT_FOUND))
    g_warning (_ ("cannot remove the SA %08x: %s"), spi, error->message);
}

static IkeSecret *
secret_copy (const guint8 *data, gsize len)
{
  return len > 0 ? ike_secret_new_from_data (data, len) : NULL;
}

static void
keep_pending (IpsecdChild *child, const XfrmSa *out, const IpsecdChild *predecessor)
{
  child->waits_for = predecessor->spi_in;
  child->pending = *out;
  child->pending_encr = secret_copy (out->encr_key, out->encr_key_len);
  child->pending_integ = secret_copy (out->integ_key, out->integ_key_len);
  child->pending.encr_key = child->pending_encr != NULL ? child->pending_encr->data : NULL;
  child->pending.integ_key = child->pending_integ != NULL ? child->pending_integ->data : NULL;
}

/* GONE is about to be removed: the outbound SAs that waited for it go in
 * first, so that there is no moment without one. */
static void
release_successors (IpsecdDaemon *daemon, const IpsecdChild *gone)
{
  GHashTableIter iter;
  IpsecdChild *next;

  g_hash_table_iter_init (&iter, daemon->children);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &next))
    {
      g_autoptr (GError) error = NULL;

      if (next == gone || next->waits_for != gone->spi_in)
        continue;
      next->waits_for = 0;
      if (!xfrm_driver_add_sa (daemon->xfrm, &next->pending, &error))
        g_warning (_ ("Child SA %08x: cannot install its outbound SA: %s"), next->spi_in,
                   error->message);
      g_clear_pointer (&next->pending_encr, ike_secret_free);
      g_clear_pointer (&next->pending_integ, ike_secret_free);
      memset (&next->pending, 0, sizeof next->pending);
    }
}

static void
remove_child (IpsecdDaemon *daemon, IpsecdChild *child)
{
  if (daemon->children != NULL)
    release_successors (daemon, child);
  /* policies first: no packet meets a policy whose SA is gone */
  for (guint i = 0; i < child->n_policies; i++)
    uninstall_policy (daemon, child, &child->policies[i]);
  delete_sa (daemon, &child->remote, child->spi_out);
  delete_sa (daemon, &child->local, child->spi_in);
}

/* ---- install and remove ---- */

static guint32
next_reqid (IpsecdDaemon *daemon)
{
  guint32 reqid = daemon->next_reqid;

  daemon->next_reqid = reqid >= IPSECD_REQID_LAST ? POLICY_REQID_INSTANCE_MIN : reqid + 1;
  return reqid;
}

static IpsecdChild *
child_new (IpsecdDaemon *daemon, const IkeKernelRequest *k)
{
  IpsecdChild *child = g_new0 (IpsecdChild, 1);

  child->sa = k->sa;
  child->spi_in = k->spi_in;
  child->spi_out = k->spi_out;
  child->reqid = next_reqid (daemon);
  child->mode = k->mode == IKE_MODE_TRANSPORT ? XFRM_TRANSPORT : XFRM_TUNNEL;
  xfrm_addr_from_sockaddr (&k->ends.local, &child->local);
  xfrm_addr_from_sockaddr (&k->ends.remote, &child->remote);
  if (k->udp_encap)
    {
      child->encap_sport = k->encap_sport;
      child->encap_dport = k->encap_dport;
    }
  return child;
}

/* The Child SA of the same IKE SA with the same selectors that CHILD
 * rekeys, or NULL. */
static IpsecdChild *
rekey_predecessor (IpsecdDaemon *daemon, const IpsecdChild *child)
{
  IpsecdChild *other = policy_other_owner (daemon, child, &child->policies[0]);

  return other != NULL && same_ends (other, child) ? other : NULL;
}

/* Both SAs, then the policies; on failure what was added goes again.
 *
 * A rekey keeps its predecessor's reqid, so that the inbound policies
 * accept both SAs while the peer switches, and its outbound SA waits for
 * the predecessor to go (the kernel sends on the newest SA of a reqid):
 * the peer may not have the matching inbound SA before our answer reaches
 * it.  strongSwan delays a rekey responder's outbound SA the same way. */
static gboolean
install_child (IpsecdDaemon *daemon, IpsecdChild *child, const IkeKernelRequest *k, GError **error)
{
  IpsecdSa *owner = g_hash_table_lookup (daemon->sas, &k->sa);
  IpsecdChild *predecessor;
  XfrmSa in, out;
  guint n = 0;

  if (!child_plan_policies (child, k, error))
    return FALSE;
  predecessor = rekey_predecessor (daemon, child);
  if (predecessor != NULL)
    child->reqid = predecessor->reqid;
  in = sa_for (child, k, TRUE);
  out = sa_for (child, k, FALSE);
  if (!xfrm_driver_add_sa (daemon->xfrm, &in, error))
    return FALSE;
  /* an OE instance's outbound SA retires the kernel's larval SA at once */
  out.acquire_seq = ipsecd_oe_acquire_seq (daemon, owner != NULL ? owner->name : NULL);
  if (predecessor != NULL)
    keep_pending (child, &out, predecessor);
  else if (!xfrm_driver_add_sa (daemon->xfrm, &out, error))
    {
      delete_sa (daemon, &child->local, child->spi_in);
      return FALSE;
    }
  for (; n < child->n_policies; n++)
    if (!install_policy (daemon, child, &child->policies[n], error))
      break;
  if (n == child->n_policies)
    return TRUE;
  child->n_policies = n;
  remove_child (daemon, child);
  return FALSE;
}

/* The reason a Child SA's event gives; the error's details go to the log
 * (ESP missing: only once, it will not change by itself). */
static const char *
install_failure (IpsecdDaemon *daemon, const IkeKernelRequest *k, const GError *error)
{
  if (g_error_matches (error, XFRM_ERROR, XFRM_ERROR_NO_ESP))
    {
      if (!daemon->no_esp_logged)
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "kernel-no-esp",
                          "MESSAGE",
                          _ ("the kernel lacks ESP support (esp4/esp6): no Child SA can be "
                             "installed"));
      daemon->no_esp_logged = TRUE;
      return _ ("kernel SA installation not available: the kernel lacks ESP support");
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "kernel-error", "MESSAGE",
                    _ ("Child SA %08x/%08x: the kernel refused it: %s"), k->spi_in, k->spi_out,
                    error->message);
  return _ ("the kernel refused the Child SA");
}

/* NULL when the Child SA is installed, else why not. */
const char *
ipsecd_kernel_install (IpsecdDaemon *daemon, const IkeKernelRequest *k)
{
  IpsecdChild *child;
  g_autoptr (GError) error = NULL;

  if (daemon->xfrm == NULL)
    return _ ("kernel SA installation not available: no XFRM interface");
  child = child_new (daemon, k);
  if (!install_child (daemon, child, k, &error))
    {
      child_free (child);
      return install_failure (daemon, k, error);
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "IPSECD_EVENT", "kernel-installed", "MESSAGE",
                    "Child SA %08x/%08x installed: reqid %08x, %u policies", child->spi_in,
                    child->spi_out, child->reqid, child->n_policies);
  g_hash_table_insert (daemon->children, &child->spi_in, child);
  return NULL;
}

void
ipsecd_kernel_remove (IpsecdDaemon *daemon, const IkeKernelRequest *k)
{
  IpsecdChild *child = g_hash_table_lookup (daemon->children, &k->spi_in);

  /* never installed (it failed): nothing to remove */
  if (child == NULL || child->sa != k->sa || daemon->xfrm == NULL)
    return;
  g_hash_table_steal (daemon->children, &k->spi_in);
  remove_child (daemon, child);
  child_free (child);
}

/* ---- counters ---- */

/* Both SAs' counters; FALSE when the kernel cannot tell (no driver, an SA
 * it no longer holds). */
gboolean
ipsecd_kernel_counters (IpsecdDaemon *daemon, guint32 spi_in, IpsecdCounters *counters)
{
  IpsecdChild *child;
  XfrmSaInfo in, out;

  if (daemon->children == NULL || daemon->xfrm == NULL
      || (child = g_hash_table_lookup (daemon->children, &spi_in)) == NULL)
    return FALSE;
  if (!xfrm_driver_get_sa (daemon->xfrm, &child->local, child->spi_in, &in, NULL)
      || !xfrm_driver_get_sa (daemon->xfrm, &child->remote, child->spi_out, &out, NULL))
    return FALSE;
  *counters = (IpsecdCounters){ .bytes_in = in.stats.bytes,
                                .packets_in = in.stats.packets,
                                .bytes_out = out.stats.bytes,
                                .packets_out = out.stats.packets };
  return TRUE;
}

/* ---- the peer moved ---- */

static gboolean
child_follows (const IpsecdChild *child, const IkeEnds *ends)
{
  XfrmAddr remote;

  xfrm_addr_from_sockaddr (&ends->remote, &remote);
  return xfrm_addr_equal (&remote, &child->remote)
         && (child->encap_dport == 0
             || child->encap_dport == net_sockaddr_get_port (&ends->remote));
}

/* The peer's NAT mapping changed (IKE_MOVED): its Child SAs would still
 * send to the old mapping.  Each is rekeyed rather than changed in place:
 * the kernel keeps an SA's destination for life, and a re-added outbound
 * SA would start its sequence numbers again below the peer's replay
 * window.  The new Child SA is installed with the IKE SA's new ends; until
 * then the old inbound SA still accepts what the peer sends. */
void
ipsecd_kernel_moved (IpsecdDaemon *daemon, const IkeEvent *ev)
{
  g_autoptr (GArray) spis = g_array_new (FALSE, FALSE, sizeof (guint32));
  GHashTableIter iter;
  IpsecdChild *child;

  if (daemon->children == NULL)
    return;
  g_hash_table_iter_init (&iter, daemon->children);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &child))
    if (child->sa == ev->sa && !child_follows (child, &ev->ends))
      g_array_append_val (spis, child->spi_in);
  for (guint i = 0; i < spis->len; i++)
    {
      guint32 spi = g_array_index (spis, guint32, i);
      g_autofree char *spi_text = g_strdup_printf ("%08x", spi);
      g_autoptr (GError) error = NULL;

      if (ike_engine_rekey_child (daemon->engine, g_get_monotonic_time (), ev->sa, spi, &error))
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "kernel-moved",
                          "IPSECD_SPI_IN", spi_text, "MESSAGE",
                          _ ("Child SA %08x is rekeyed to follow the peer's new address"), spi);
      else
        g_warning (_ ("Child SA %08x cannot follow the peer's new address: %s"), spi,
                   error->message);
    }
}

/* An IKE SA was rekeyed: its Child SAs now belong to the new one, whose
 * handle the engine's later requests and events carry (a REMOVE or a move
 * must still find them). */
void
ipsecd_kernel_ike_rekeyed (IpsecdDaemon *daemon, IkeSaHandle old_sa, IkeSaHandle new_sa)
{
  GHashTableIter iter;
  IpsecdChild *child;

  if (daemon->children == NULL)
    return;
  g_hash_table_iter_init (&iter, daemon->children);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &child))
    if (child->sa == old_sa)
      child->sa = new_sa;
}
