/* What an earlier ipsecd left in the kernel when it died without cleaning up
 * (SIGKILL, a crash, a power cut of the process): found by the XFRM driver's
 * tags of ours (service/xfrm/xfrm.h), removed once at start, before any
 * connection is started.
 *
 *   - every SA with a reqid of ours: its keys died with the process that
 *     negotiated them, no IKE SA of this process can rekey or delete it, and
 *     the peer will negotiate anew;
 *   - every ipsec policy of ours (a template bound to a Child SA's reqid)
 *     that is not template-level: those are Child SA policies; they are
 *     removed before the SAs, as remove_child () does, so that no packet
 *     meets a policy whose SA is gone.
 *
 * Left alone: the OE groups' template-level policies (traps and their
 * bypasses), which policy_apply () adopts (daemon-oe.c), and OE shunts
 * (pass or drop, no template), which carry a lifetime the kernel enforces.
 * Foreign objects are never listed by the driver, so never touched.
 *
 * Between this and the new Child SAs, traffic that the old policies
 * covered is not protected; a connection with auto=start is negotiated
 * again right after. */
#include "config.h"

#include "daemon-private.h"

#include <glib/gi18n.h>

#include "policy.h"

static gboolean
leftovers_policy_is_child (const XfrmPolicy *policy)
{
  PolicyLevel level;

  if (policy->action != XFRM_ACTION_IPSEC)
    return FALSE;
  return !policy_priority_decode (policy->priority, NULL, &level) || level != POLICY_LEVEL_TEMPLATE;
}

static guint
leftovers_remove_policies (XfrmDriver *xfrm, GError **error)
{
  g_autoptr (GArray) policies = xfrm_driver_list_policies (xfrm, error);
  guint removed = 0;

  if (policies == NULL)
    return 0;
  for (guint i = 0; i < policies->len; i++)
    {
      const XfrmPolicy *p = &g_array_index (policies, XfrmPolicy, i);
      g_autoptr (GError) local = NULL;

      if (!leftovers_policy_is_child (p))
        continue;
      if (xfrm_driver_delete_policy (xfrm, &p->sel, p->dir, &local))
        removed++;
      else if (!g_error_matches (local, XFRM_ERROR, XFRM_ERROR_NOT_FOUND))
        g_warning (_ ("cannot remove a policy an earlier ipsecd left: %s"), local->message);
    }
  return removed;
}

static guint
leftovers_remove_sas (XfrmDriver *xfrm, GError **error)
{
  g_autoptr (GArray) sas = xfrm_driver_list_sas (xfrm, error);
  guint removed = 0;

  if (sas == NULL)
    return 0;
  for (guint i = 0; i < sas->len; i++)
    {
      const XfrmSa *sa = &g_array_index (sas, XfrmSaInfo, i).sa;
      g_autoptr (GError) local = NULL;

      if (xfrm_driver_delete_sa (xfrm, &sa->dst, sa->spi, &local))
        removed++;
      else if (!g_error_matches (local, XFRM_ERROR, XFRM_ERROR_NOT_FOUND))
        g_warning (_ ("cannot remove the SA %08x an earlier ipsecd left: %s"), sa->spi,
                   local->message);
    }
  return removed;
}

/* Once, at start, after ipsecd_kernel_open (): nothing when recording or
 * without a driver. */
void
ipsecd_leftovers_remove (IpsecdDaemon *daemon)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *policies_text = NULL, *sas_text = NULL;
  guint n_policies, n_sas = 0;

  if (daemon->xfrm == NULL)
    return;
  n_policies = leftovers_remove_policies (daemon->xfrm, &error);
  if (error == NULL)
    n_sas = leftovers_remove_sas (daemon->xfrm, &error);
  if (error != NULL)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "kernel-error",
                        "MESSAGE", _ ("cannot list what an earlier ipsecd left in the kernel: %s"),
                        error->message);
      return;
    }
  if (n_policies + n_sas == 0)
    return;
  policies_text = g_strdup_printf ("%u", n_policies);
  sas_text = g_strdup_printf ("%u", n_sas);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "kernel-leftovers",
                    "IPSECD_POLICIES", policies_text, "IPSECD_SAS", sas_text, "MESSAGE",
                    _ ("removed %u policies and %u SAs an earlier ipsecd left in the kernel"),
                    n_policies, n_sas);
}
