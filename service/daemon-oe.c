/* Opportunistic encryption in the daemon (issue 5, docs/oe.md).
 *
 * service/policy/ decides; this file carries it out:
 *
 *   groups     <config-dir>/policies/<group> become the kernel footprint
 *              (policy_apply), at start, on reload and on SetPolicy;
 *   ACQUIRE    a packet hit a trap: an IKE SA with NULL authentication to
 *              the packet's destination (an "instance", named oe-ADDRESS),
 *              transport mode, the host pair as traffic selectors;
 *   responder  an IKE_SA_INIT that no connection matches is answered with
 *              an instance when a group covers the peer;
 *   shunts     while negotiating (hold by default: the trap stays and the
 *              kernel queues the packets, xfrm_larval_drop=0), and after a
 *              failure (pass for private-or-clear, drop for private) with a
 *              lifetime the kernel enforces (POLEXPIRE), after which the
 *              trap catches the next packet and OE is tried again.
 *
 * The kernel keeps the footprint when the daemon dies, so `private` fails
 * closed even after SIGKILL; a clean stop leaves only `block` and `private`
 * (their promise outlives the daemon) and removes the rest.  The instance
 * table lives only in memory: a restarted daemon finds the template
 * policies again (policy_apply adopts them) and negotiates anew. */
#include "config.h"

#include "daemon-private.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "ipsec-error.h"
#include "policy.h"

#define OE_PREFIX "oe-"
#define OE_SETTINGS_FILE "oe.conf"
#define OE_GROUP "oe"
/* A peer that does not answer is given up quickly: the packets wait. */
#define OE_RETRANSMIT_LIMIT "3"
/* seconds: see own_acq_expires () */
#define OE_ACQ_EXPIRES 5

typedef enum
{
  OE_NEGOTIATING,
  OE_UP,
  OE_SHUNTED, /* failed; a shunt policy with a lifetime is in the kernel */
} OeState;

typedef struct
{
  char *name; /* oe-ADDRESS: the IKE SA's config name */
  OeState state;
  gboolean initiator;
  PolicyAcquireDecision decision; /* initiator: what the ACQUIRE meant */
  gboolean shunt;                 /* a host-pair shunt of ours is installed */
  guint32 acquire_seq;
} OeInstance;

struct _IpsecdOe
{
  PolicyGroups *groups;
  PolicyShuntConfig shunts;
  PolicySet *applied;     /* the footprint last applied */
  GKeyFile *settings;     /* [oe] keys handed to every instance's config */
  GHashTable *instances;  /* name → OeInstance */
  gboolean larval_logged; /* xfrm_larval_drop could not be set: said once */
};

static void
instance_free (gpointer data)
{
  OeInstance *inst = data;

  g_free (inst->name);
  g_free (inst);
}

static void
oe_log (const char *event, GLogLevelFlags level, const char *message)
{
  g_log_structured (G_LOG_DOMAIN, level, "IPSECD_EVENT", event, "MESSAGE", "%s", message);
}

/* ---- instances' connections ---- */

/* oe-192.0.2.7, oe-2001.db8..7: a connection name (no ':') that says who. */
static char *
instance_name (const XfrmAddr *remote)
{
  g_autofree char *text = xfrm_addr_to_string (remote);

  return g_strconcat (OE_PREFIX, g_strdelimit (text, ":", '.'), NULL);
}

/* The instance as a connection file would say it, checked by the same code
 * (service/store/), with the admin 's [oe] keys (proposals, retransmission,
 * DPD) added. */
static StoreConnection *
instance_connection (IpsecdDaemon *daemon, const XfrmAddr *local, const XfrmAddr *remote,
                     GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *name = instance_name (remote);
  g_autofree char *l = xfrm_addr_to_string (local);
  g_autofree char *r = xfrm_addr_to_string (remote);
  g_auto (GStrv) keys = g_key_file_get_keys (daemon->oe->settings, OE_GROUP, NULL, NULL);
  StoreConnection *conn;
  const char *const fixed[][2] = {
    { "name", name },
    { "local", l },
    { "remote", r },
    { "local-auth", "null" },
    { "remote-auth", "null" },
    { "mode", "transport" },
    { "local-ts", l },
    { "remote-ts", r },
    { "retransmit-limit", OE_RETRANSMIT_LIMIT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_key_file_set_string (file, "connection", fixed[i][0], fixed[i][1]);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *value
          = g_key_file_get_string (daemon->oe->settings, OE_GROUP, keys[i], NULL);

      g_key_file_set_string (file, "connection", keys[i], value);
    }
  conn = store_connection_parse (daemon->options.config_dir, OE_SETTINGS_FILE, file, NULL, error);
  /* a host pair is protected alike in tunnel mode, which libreswan's OE
   * answers by default */
  if (conn != NULL)
    ike_config_set_accept_tunnel (conn->config, TRUE);
  return conn;
}

/* ---- settings: <config-dir>/oe.conf ---- */

static gboolean
parse_shunt (const char *text, PolicyShunt *shunt)
{
  for (PolicyShunt s = POLICY_SHUNT_HOLD; s <= POLICY_SHUNT_DROP; s++)
    if (g_strcmp0 (text, policy_shunt_to_string (s)) == 0)
      {
        *shunt = s;
        return TRUE;
      }
  return FALSE;
}

/* Takes the shunt keys out of FILE; the rest are connection keys. */
static gboolean
take_shunt_keys (GKeyFile *file, PolicyShuntConfig *shunts, GError **error)
{
  g_autofree char *negotiation = g_key_file_get_string (file, OE_GROUP, "negotiation-shunt", NULL);
  g_autofree char *lifetime = g_key_file_get_string (file, OE_GROUP, "shunt-lifetime", NULL);
  gint64 usec = 0;

  if (negotiation != NULL && !parse_shunt (negotiation, &shunts->negotiation))
    {
      g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING,
                   _ ("negotiation-shunt: “%s” is not hold, pass or drop"), negotiation);
      return FALSE;
    }
  if (lifetime != NULL && !store_parse_duration (lifetime, &usec, error))
    {
      g_prefix_error (error, "shunt-lifetime: ");
      return FALSE;
    }
  if (lifetime != NULL)
    shunts->failure_seconds = MAX (1, usec / G_USEC_PER_SEC);
  g_key_file_remove_key (file, OE_GROUP, "negotiation-shunt", NULL);
  g_key_file_remove_key (file, OE_GROUP, "shunt-lifetime", NULL);
  return TRUE;
}

/* A missing file is the defaults; a bad one is reported and ignored whole
 * (the defaults are safe: hold, then pass or drop as the group says). */
static void
load_settings (IpsecdDaemon *daemon)
{
  IpsecdOe *oe = daemon->oe;
  g_autofree char *path = g_build_filename (daemon->options.config_dir, OE_SETTINGS_FILE, NULL);
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  PolicyShuntConfig shunts;
  XfrmAddr a = { AF_INET, { 192, 0, 2, 1 } }, b = { AF_INET, { 192, 0, 2, 2 } };
  g_autoptr (StoreConnection) probe = NULL;

  policy_shunt_config_init (&oe->shunts);
  g_clear_pointer (&oe->settings, g_key_file_unref);
  oe->settings = g_key_file_new ();
  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "config-error",
                          "MESSAGE", _ ("%s ignored: %s"), path, error->message);
      return;
    }
  shunts = oe->shunts;
  if (take_shunt_keys (file, &shunts, &error))
    {
      /* the other keys must make a valid instance */
      g_key_file_unref (oe->settings);
      oe->settings = g_key_file_ref (file);
      probe = instance_connection (daemon, &a, &b, &error);
    }
  if (error == NULL)
    {
      oe->shunts = shunts;
      return;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "config-error", "MESSAGE",
                    _ ("%s ignored: %s"), path, error->message);
  g_key_file_unref (oe->settings);
  oe->settings = g_key_file_new ();
}

/* ---- the footprint ---- */

static gboolean
groups_have_traps (const PolicyGroups *groups)
{
  for (guint i = 0; i < policy_groups_get_n_entries (groups); i++)
    {
      PolicyGroup g = policy_groups_get_entry (groups, i)->group;

      if (g == POLICY_GROUP_PRIVATE || g == POLICY_GROUP_PRIVATE_OR_CLEAR)
        return TRUE;
    }
  return FALSE;
}

/* While the kernel's larval SA for a flow lives (net.core.xfrm_acq_expires,
 * 30 s by default) the flow's packets wait and no new ACQUIRE comes: after
 * a failure and a short shunt lifetime, OE would not be tried again for
 * that long.  A few seconds keep the ACQUIREs coming (a peer being
 * negotiated with is asked for once: see on_acquire). */
static void
own_acq_expires (void)
{
  const char *path = "/proc/sys/net/core/xfrm_acq_expires";
  g_autofree char *now = NULL;
  g_autoptr (GError) error = NULL;

  if (g_file_get_contents (path, &now, NULL, NULL) && atoi (now) <= OE_ACQ_EXPIRES)
    return;
  if (!g_file_set_contents_full (path, G_STRINGIFY (OE_ACQ_EXPIRES) "\n", -1,
                                 G_FILE_SET_CONTENTS_NONE, 0644, &error))
    g_message (_ ("cannot set %s: %s"), path, error->message);
}

/* `hold` must hold: with the kernel's default (1) the packet that hit the
 * trap is dropped and the application retransmits a second later. */
static void
own_larval_drop (IpsecdDaemon *daemon)
{
  g_autoptr (GError) error = NULL;
  gboolean drop = TRUE;

  if (!groups_have_traps (daemon->oe->groups))
    return;
  own_acq_expires ();
  if (xfrm_larval_drop_get (&drop, &error) && !drop)
    return;
  if (error == NULL && xfrm_larval_drop_set (FALSE, &error))
    {
      oe_log ("oe-larval-drop", G_LOG_LEVEL_MESSAGE,
              _ ("net.core.xfrm_larval_drop set to 0: packets wait for their SA"));
      return;
    }
  if (!daemon->oe->larval_logged)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "oe-larval-drop",
                      "MESSAGE",
                      _ ("cannot set net.core.xfrm_larval_drop to 0 (%s): the first packets to "
                         "a new peer are dropped while negotiating"),
                      error->message);
  daemon->oe->larval_logged = TRUE;
}

static gboolean
apply (IpsecdDaemon *daemon, const PolicyGroups *groups, const char *why)
{
  g_autoptr (PolicySet) set = policy_set_from_groups (groups);
  g_autoptr (GError) error = NULL;
  PolicyApplyStats stats = { 0 };

  gboolean ok = policy_apply (set, daemon->xfrm, &stats, &error);

  policy_set_free (daemon->oe->applied);
  daemon->oe->applied = g_steal_pointer (&set);
  if (!ok)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "oe-error", "MESSAGE",
                        _ ("OE policies (%s) not fully applied: %s"), why, error->message);
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "oe-apply", "MESSAGE",
                    _ ("OE policies (%s): %u entries, %u added, %u updated, %u removed, %u kept"),
                    why, policy_groups_get_n_entries (groups), stats.added, stats.updated,
                    stats.removed, stats.kept);
  return TRUE;
}

static PolicyGroups *
load_groups (IpsecdDaemon *daemon)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  PolicyGroups *groups = policy_groups_load (daemon->options.config_dir, problems, &error);

  for (guint i = 0; i < problems->len; i++)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "config-error", "MESSAGE",
                      _ ("OE group line skipped: %s"),
                      (const char *) g_ptr_array_index (problems, i));
  if (groups == NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "config-error", "MESSAGE",
                      _ ("OE groups not reloaded: %s"), error->message);
  return groups;
}

/* ---- shunts ---- */

/* Add or replace: the negotiation shunt becomes the failure shunt, and a
 * killed daemon's shunt for the same pair is taken over. */
static gboolean
shunt_install (IpsecdDaemon *daemon, OeInstance *inst, PolicyShunt shunt, guint64 seconds)
{
  g_autoptr (GError) error = NULL;
  XfrmPolicy policy;

  if (!policy_shunt_policy (&inst->decision, shunt, seconds, &policy))
    return FALSE;
  if (!xfrm_driver_update_policy (daemon->xfrm, &policy, &error))
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "oe-error", "MESSAGE",
                        _ ("%s: cannot install the %s shunt: %s"), inst->name,
                        policy_shunt_to_string (shunt), error->message);
      return FALSE;
    }
  inst->shunt = TRUE;
  return TRUE;
}

static void
shunt_remove (IpsecdDaemon *daemon, OeInstance *inst)
{
  g_autoptr (GError) error = NULL;
  XfrmPolicy policy;

  if (!inst->shunt || !policy_shunt_policy (&inst->decision, POLICY_SHUNT_DROP, 0, &policy))
    return;
  inst->shunt = FALSE;
  if (!xfrm_driver_delete_policy (daemon->xfrm, &policy.sel, policy.dir, &error)
      && !g_error_matches (error, XFRM_ERROR, XFRM_ERROR_NOT_FOUND))
    g_warning (_ ("%s: cannot remove its shunt: %s"), inst->name, error->message);
}

/* The kernel re-examines packets held by a trap on a timer that doubles
 * from 100 ms, so a packet held for 1.6 s would wait until 3.2 s.
 * Replacing the trap with itself moves its queue to the "new" policy and
 * examines it at once (the kernel's xfrm_policy_requeue): the packets leave
 * through the new SA, or the shunt, now. */
static void
kick_held (IpsecdDaemon *daemon, OeInstance *inst)
{
  const XfrmPolicy *trap;
  XfrmPolicy copy;
  g_autoptr (GError) error = NULL;

  if (!inst->initiator || daemon->oe->applied == NULL)
    return;
  trap = policy_set_lookup_entry (daemon->oe->applied, &inst->decision.entry, XFRM_DIR_OUT);
  if (trap == NULL || trap->action != XFRM_ACTION_TRAP)
    return;
  copy = *trap;
  if (!xfrm_driver_update_policy (daemon->xfrm, &copy, &error))
    g_debug ("%s: held packets wait for the kernel's timer: %s", inst->name, error->message);
}

/* ---- instance life ---- */

static void
instance_drop (IpsecdDaemon *daemon, OeInstance *inst)
{
  g_debug ("%s: instance ended", inst->name);
  shunt_remove (daemon, inst);
  g_hash_table_remove (daemon->oe->instances, inst->name);
}

/* Negotiation failed (or the Child SA could not be had): the failure shunt
 * until its lifetime ends, then the trap tries again. */
static void
instance_failed (IpsecdDaemon *daemon, OeInstance *inst, const char *reason)
{
  const PolicyAcquireDecision *d = &inst->decision;

  if (!inst->initiator || !shunt_install (daemon, inst, d->failure, d->failure_seconds))
    {
      instance_drop (daemon, inst);
      return;
    }
  inst->state = OE_SHUNTED;
  kick_held (daemon, inst);
  g_log_structured (
      G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "oe-shunt", "IPSECD_CONNECTION",
      inst->name, "IPSECD_SHUNT", policy_shunt_to_string (d->failure), "MESSAGE",
      _ ("%s: opportunistic encryption failed (%s); %s for %" G_GUINT64_FORMAT " s"), inst->name,
      reason != NULL ? reason : "-",
      d->failure == POLICY_SHUNT_PASS ? _ ("clear text") : _ ("blocked"), d->failure_seconds);
}

static OeInstance *
instance_new (IpsecdDaemon *daemon, const char *name)
{
  OeInstance *inst = g_new0 (OeInstance, 1);

  inst->name = g_strdup (name);
  g_hash_table_replace (daemon->oe->instances, inst->name, inst);
  return inst;
}

static void
on_acquire (IpsecdDaemon *daemon, const XfrmEvent *ev)
{
  IpsecdOe *oe = daemon->oe;
  PolicyAcquireDecision d;
  g_autofree char *name = NULL;
  g_autoptr (StoreConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  OeInstance *inst;

  policy_acquire_decide (oe->groups, &oe->shunts, ev, &d);
  if (!d.initiate || daemon->stopping)
    return;
  name = instance_name (&d.remote);
  /* the kernel asks again for each new flow to a peer being negotiated */
  if (g_hash_table_contains (oe->instances, name))
    return;
  inst = instance_new (daemon, name);
  inst->initiator = TRUE;
  inst->decision = d;
  inst->acquire_seq = ev->seq;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "oe-acquire",
                    "IPSECD_CONNECTION", name, "IPSECD_GROUP", policy_group_to_string (d.group),
                    "MESSAGE", _ ("%s: traffic to a %s destination; negotiating (%s meanwhile)"),
                    name, policy_group_to_string (d.group), policy_shunt_to_string (d.negotiation));
  shunt_install (daemon, inst, d.negotiation, 0);
  conn = instance_connection (daemon, &d.local, &d.remote, &error);
  if (conn == NULL)
    instance_failed (daemon, inst, error->message);
  else if (!ipsecd_daemon_initiate (daemon, conn, &error))
    {
      /* initiate's failure event may have handled it already */
      inst = g_hash_table_lookup (oe->instances, name);
      if (inst != NULL && inst->state == OE_NEGOTIATING)
        instance_failed (daemon, inst, error->message);
    }
}

/* A shunt's lifetime ended (the kernel removed it): OE may be tried again. */
static void
on_polexpire (IpsecdDaemon *daemon, const XfrmEvent *ev)
{
  GHashTableIter iter;
  OeInstance *inst;
  XfrmPolicy policy;

  if (!ev->hard || ev->dir != XFRM_DIR_OUT)
    return;
  g_hash_table_iter_init (&iter, daemon->oe->instances);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &inst))
    if (inst->state == OE_SHUNTED
        && policy_shunt_policy (&inst->decision, POLICY_SHUNT_DROP, 0, &policy)
        && xfrm_selector_equal (&policy.sel, &ev->sel))
      {
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "oe-retry",
                          "IPSECD_CONNECTION", inst->name, "MESSAGE",
                          _ ("%s: shunt expired; the next packet tries again"), inst->name);
        g_hash_table_iter_remove (&iter);
        return;
      }
}

static void
on_xfrm_event (const XfrmEvent *ev, gpointer user_data)
{
  IpsecdDaemon *daemon = user_data;

  switch (ev->kind)
    {
    case XFRM_EVENT_ACQUIRE:
      on_acquire (daemon, ev);
      break;
    case XFRM_EVENT_POLEXPIRE:
      on_polexpire (daemon, ev);
      break;
    case XFRM_EVENT_EXPIRE:
      /* a byte or packet limit of the kernel (time limits are the engine's) */
      ike_engine_child_expired (daemon->engine, g_get_monotonic_time (), ev->spi, ev->hard);
      ipsecd_daemon_drain (daemon);
      ipsecd_daemon_rearm (daemon);
      break;
    default:
      /* MAPPING: the engine learns NAT changes from IKE itself */
      break;
    }
}

/* ---- what the rest of the daemon calls ---- */

gboolean
ipsecd_oe_event (IpsecdDaemon *daemon, const char *name, const IkeEvent *ev,
                 gboolean failed_install)
{
  OeInstance *inst;

  if (daemon->oe == NULL || name == NULL || !g_str_has_prefix (name, OE_PREFIX))
    return FALSE;
  inst = g_hash_table_lookup (daemon->oe->instances, name);
  if (inst == NULL && ev->kind == IKE_EVENT_IKE_UP && !ev->initiator)
    inst = instance_new (daemon, name);
  if (inst == NULL)
    return TRUE;
  switch (ev->kind)
    {
    case IKE_EVENT_CHILD_UP:
      if (!failed_install)
        {
          /* the Child SA's out policy replaced the shunt (same selector) */
          inst->shunt = FALSE;
          inst->state = OE_UP;
          kick_held (daemon, inst);
          break;
        }
      G_GNUC_FALLTHROUGH;
    case IKE_EVENT_CHILD_FAILED:
      /* OE without a Child SA protects nothing */
      if (inst->state == OE_NEGOTIATING)
        {
          ike_engine_delete (daemon->engine, g_get_monotonic_time (), ev->sa, NULL);
          instance_failed (daemon, inst, ev->reason);
        }
      break;
    case IKE_EVENT_IKE_FAILED:
      if (inst->state == OE_NEGOTIATING)
        instance_failed (daemon, inst, ev->reason);
      break;
    case IKE_EVENT_IKE_DOWN:
      if (ev->ike_replaced_by == 0 && inst->state == OE_UP)
        instance_drop (daemon, inst);
      break;
    default:
      break;
    }
  return TRUE;
}

guint32
ipsecd_oe_acquire_seq (IpsecdDaemon *daemon, const char *name)
{
  OeInstance *inst;

  if (daemon->oe == NULL || name == NULL)
    return 0;
  inst = g_hash_table_lookup (daemon->oe->instances, name);
  return inst != NULL && inst->state == OE_NEGOTIATING ? inst->acquire_seq : 0;
}

IkeConfig *
ipsecd_oe_lookup (IpsecdDaemon *daemon, const IkeEnds *ends)
{
  g_autoptr (StoreConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  XfrmAddr local, remote;

  if (daemon->oe == NULL || daemon->stopping)
    return NULL;
  xfrm_addr_from_sockaddr (&ends->local, &local);
  xfrm_addr_from_sockaddr (&ends->remote, &remote);
  if (!policy_responder_decide (daemon->oe->groups, &remote, NULL))
    return NULL;
  conn = instance_connection (daemon, &local, &remote, &error);
  if (conn == NULL)
    {
      g_autofree char *peer = ipsecd_addr_format (&ends->remote, FALSE);

      g_warning (_ ("cannot answer %s's opportunistic IKE: %s"), peer, error->message);
      return NULL;
    }
  return ike_config_ref (conn->config);
}

/* Instances whose peer a reload moved to another group (or out of every
 * group) are ended; the others stay up. */
static void
end_moved_instances (IpsecdDaemon *daemon)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  const char *name;

  /* a copy: ending one changes the table */
  g_hash_table_iter_init (&iter, daemon->oe->instances);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    g_ptr_array_add (names, g_strdup (name));

  for (guint i = 0; i < names->len; i++)
    {
      OeInstance *inst = g_hash_table_lookup (daemon->oe->instances, names->pdata[i]);
      const PolicyEntry *now;

      if (inst == NULL || !inst->initiator)
        continue;
      now = policy_groups_lookup (daemon->oe->groups, &inst->decision.remote,
                                  inst->decision.entry.proto, inst->decision.entry.sport,
                                  inst->decision.entry.dport);
      if (now != NULL && now->group == inst->decision.group)
        continue;
      ipsecd_daemon_delete_sas (daemon, inst->name);
      instance_drop (daemon, inst);
    }
}

void
ipsecd_oe_reload (IpsecdDaemon *daemon)
{
  PolicyGroups *groups;

  if (daemon->oe == NULL)
    return;
  groups = load_groups (daemon);
  if (groups == NULL)
    return;
  load_settings (daemon);
  policy_groups_free (daemon->oe->groups);
  daemon->oe->groups = groups;
  own_larval_drop (daemon);
  apply (daemon, groups, _ ("reload"));
  end_moved_instances (daemon);
}

void
ipsecd_oe_open (IpsecdDaemon *daemon)
{
  g_autoptr (GError) error = NULL;
  IpsecdOe *oe;

  /* without the kernel there is nothing to trap (and --record-kernel is a
   * test of the engine, not of OE) */
  if (daemon->xfrm == NULL)
    return;
  oe = daemon->oe = g_new0 (IpsecdOe, 1);
  oe->instances = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, instance_free);
  oe->groups = load_groups (daemon);
  if (oe->groups == NULL)
    oe->groups = policy_groups_new ();
  load_settings (daemon);
  if (!xfrm_driver_set_event_func (daemon->xfrm, on_xfrm_event, daemon, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "oe-error", "MESSAGE",
                      _ ("cannot follow kernel events (%s): no opportunistic encryption"),
                      error->message);
  own_larval_drop (daemon);
  apply (daemon, oe->groups, _ ("start"));
}

/* What stays in the kernel once the daemon is gone: `block` and `private`,
 * whose promise does not depend on it. */
static PolicyGroups *
fail_closed_groups (const PolicyGroups *groups)
{
  PolicyGroups *kept = policy_groups_new ();

  for (guint i = 0; i < policy_groups_get_n_entries (groups); i++)
    {
      const PolicyEntry *e = policy_groups_get_entry (groups, i);
      g_autofree char *line = NULL;

      if (e->group != POLICY_GROUP_BLOCK && e->group != POLICY_GROUP_PRIVATE)
        continue;
      line = policy_entry_format (e);
      policy_groups_parse (kept, e->group, "(stop)", line, strlen (line), NULL);
    }
  return kept;
}

void
ipsecd_oe_close (IpsecdDaemon *daemon)
{
  IpsecdOe *oe = daemon->oe;
  GHashTableIter iter;
  OeInstance *inst;

  if (oe == NULL)
    return;
  if (daemon->xfrm != NULL)
    {
      g_autoptr (PolicyGroups) kept = fail_closed_groups (oe->groups);

      g_hash_table_iter_init (&iter, oe->instances);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &inst))
        shunt_remove (daemon, inst);
      apply (daemon, kept, _ ("stop"));
    }
  g_hash_table_unref (oe->instances);
  policy_groups_free (oe->groups);
  policy_set_free (oe->applied);
  g_clear_pointer (&oe->settings, g_key_file_unref);
  g_clear_pointer (&daemon->oe, g_free);
}

/* ---- D-Bus: GetPolicies, SetPolicy ---- */

GVariant *
ipsecd_oe_get_policies (IpsecdDaemon *daemon)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ss)"));
  for (guint i = 0; daemon->oe != NULL && i < policy_groups_get_n_entries (daemon->oe->groups); i++)
    {
      const PolicyEntry *e = policy_groups_get_entry (daemon->oe->groups, i);
      g_autofree char *line = policy_entry_format (e);

      g_variant_builder_add (&builder, "(ss)", policy_group_to_string (e->group), line);
    }
  return g_variant_builder_end (&builder);
}

/* The groups as they would be with GROUP's lines replaced by TEXT: every
 * other group's lines first, so that a line already listed elsewhere is
 * this call's problem. */
static gboolean
check_group_text (IpsecdDaemon *daemon, PolicyGroup group, const char *text, GError **error)
{
  g_autoptr (PolicyGroups) check = policy_groups_new ();
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < policy_groups_get_n_entries (daemon->oe->groups); i++)
    {
      const PolicyEntry *e = policy_groups_get_entry (daemon->oe->groups, i);
      g_autofree char *line = NULL;

      if (e->group == group)
        continue;
      line = policy_entry_format (e);
      policy_groups_parse (check, e->group, "-", line, strlen (line), NULL);
    }
  policy_groups_parse (check, group, policy_group_to_string (group), text, strlen (text), problems);
  if (problems->len == 0)
    return TRUE;
  g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING, "%s",
               (const char *) problems->pdata[0]);
  return FALSE;
}

static gboolean
write_group (IpsecdDaemon *daemon, PolicyGroup group, const char *text, GError **error)
{
  g_autofree char *dir = g_build_filename (daemon->options.config_dir, "policies", NULL);
  g_autofree char *path = g_build_filename (dir, policy_group_to_string (group), NULL);

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int errsv = errno;

      g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_FAILED, _ ("cannot create %s: %s"), dir,
                   g_strerror (errsv));
      return FALSE;
    }
  g_autofree char *contents = g_strconcat ("# written by ipsecd (SetPolicy)\n", text, NULL);

  if (g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    return TRUE;
  g_prefix_error (error, "%s: ", path);
  (*error)->domain = IPSEC_ERROR;
  (*error)->code = IPSEC_ERROR_FAILED;
  return FALSE;
}

gboolean
ipsecd_oe_set_policy (IpsecdDaemon *daemon, const char *group_name, const char *const *entries,
                      GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);
  PolicyGroup group;

  if (daemon->oe == NULL)
    {
      g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_KERNEL_UNSUPPORTED,
                   _ ("opportunistic encryption is off: the kernel's XFRM interface is not "
                      "available"));
      return FALSE;
    }
  if (!policy_group_from_string (group_name, &group))
    {
      g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING,
                   _ ("group “%s”: not one of block, clear, clear-or-private, "
                      "private-or-clear, private"),
                   group_name);
      return FALSE;
    }
  for (guint i = 0; entries[i] != NULL; i++)
    {
      if (strpbrk (entries[i], "\n\r#") != NULL)
        {
          g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING,
                       _ ("entry %u: one CIDR with an optional “proto sport dport”, no line "
                          "breaks or comments"),
                       i + 1);
          return FALSE;
        }
      g_string_append_printf (text, "%s\n", entries[i]);
    }
  if (!check_group_text (daemon, group, text->str, error)
      || !write_group (daemon, group, text->str, error))
    return FALSE;
  ipsecd_oe_reload (daemon);
  return TRUE;
}
