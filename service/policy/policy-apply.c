/* policy_apply: the kernel's template-level policies of ours brought to the
 * desired set with as few calls as possible, failing closed. */
#include "config.h"

#include "policy-private.h"

/* Ours and made by policy_set_from_groups: instances and shunts of the
 * daemon (instance-level priorities) are none of our business here. */
static gboolean
is_managed (const XfrmPolicy *p)
{
  PolicyLevel level;
  return xfrm_index_is_ours (p->index) && policy_priority_decode (p->priority, NULL, &level)
         && level == POLICY_LEVEL_TEMPLATE;
}

static const XfrmPolicy *
find_listed (GArray *listed, const XfrmPolicy *want)
{
  for (guint i = 0; i < listed->len; i++)
    {
      const XfrmPolicy *p = &g_array_index (listed, XfrmPolicy, i);
      if (p->dir == want->dir && xfrm_selector_equal (&p->sel, &want->sel))
        return p;
    }
  return NULL;
}

/* 0 for what protects (drop, trap), 1 for what lets clear text through. */
static guint
openness (const XfrmPolicy *p)
{
  return p->action == XFRM_ACTION_PASS ? 1 : 0;
}

/* Adds (or updates) the desired policies that the kernel lacks, those of
 * @pass_round's openness only. */
static gboolean
install_round (PolicySet *desired, XfrmDriver *driver, GArray *listed, guint pass_round,
               PolicyApplyStats *stats, GError **error)
{
  for (guint i = 0; i < desired->policies->len; i++)
    {
      XfrmPolicy *want = &g_array_index (desired->policies, XfrmPolicy, i);
      const XfrmPolicy *have = find_listed (listed, want);

      if (openness (want) != pass_round)
        continue;
      if (have != NULL && policy_equivalent (have, want))
        {
          want->index = have->index;
          stats->kept++;
          continue;
        }
      /* The kernel replaces a policy in one step: no moment without one. */
      if (!xfrm_driver_update_policy (driver, want, error))
        return FALSE;
      *(have != NULL ? &stats->updated : &stats->added) += 1;
    }
  return TRUE;
}

/* Removes the managed policies that are not desired, of @pass_round's
 * openness only. */
static gboolean
remove_round (PolicySet *desired, XfrmDriver *driver, GArray *listed, guint pass_round,
              PolicyApplyStats *stats, GError **error)
{
  for (guint i = 0; i < listed->len; i++)
    {
      const XfrmPolicy *have = &g_array_index (listed, XfrmPolicy, i);

      if (!is_managed (have) || openness (have) != pass_round
          || policy_set_lookup (desired, &have->sel, have->dir) != NULL)
        continue;
      if (!xfrm_driver_delete_policy (driver, &have->sel, have->dir, error))
        return FALSE;
      stats->removed++;
    }
  return TRUE;
}

gboolean
policy_apply (PolicySet *desired, XfrmDriver *driver, PolicyApplyStats *stats, GError **error)
{
  g_autoptr (GArray) listed = xfrm_driver_list_policies (driver, error);
  PolicyApplyStats local = { 0 };

  if (listed == NULL)
    return FALSE;
  if (stats == NULL)
    stats = &local;
  *stats = local;
  /* Protective first, so that an error half-way leaves nothing more open. */
  if (!install_round (desired, driver, listed, 0, stats, error)
      || !install_round (desired, driver, listed, 1, stats, error))
    return FALSE;
  /* Passes first: removing an old drop or trap first could uncover an old
   * pass inside it that the new set does not have. */
  return remove_round (desired, driver, listed, 1, stats, error)
         && remove_round (desired, driver, listed, 0, stats, error);
}
