/* What an ACQUIRE or an unknown peer's IKE_SA_INIT means: pure functions of
 * the groups, so that the daemon only carries them out. */
#include "config.h"

#include <string.h>

#include "policy-private.h"

/* libreswan's shuntlifetime default: a failed peer is retried after 15 min. */
#define FAILURE_SECONDS_DEFAULT 900

static const char *const shunt_names[] = { "hold", "pass", "drop" };

const char *
policy_shunt_to_string (PolicyShunt shunt)
{
  return shunt <= POLICY_SHUNT_DROP ? shunt_names[shunt] : NULL;
}

void
policy_shunt_config_init (PolicyShuntConfig *config)
{
  config->negotiation = POLICY_SHUNT_HOLD;
  config->failure_seconds = FAILURE_SECONDS_DEFAULT;
}

static gboolean
group_negotiates (PolicyGroup group)
{
  return group == POLICY_GROUP_PRIVATE || group == POLICY_GROUP_PRIVATE_OR_CLEAR;
}

void
policy_acquire_decide (const PolicyGroups *groups, const PolicyShuntConfig *config,
                       const XfrmEvent *event, PolicyAcquireDecision *decision)
{
  const XfrmSelector *flow = &event->sel;
  const PolicyEntry *entry;
  gboolean private_;

  memset (decision, 0, sizeof *decision);
  if (event->kind != XFRM_EVENT_ACQUIRE || event->dir != XFRM_DIR_OUT)
    return;
  entry = policy_groups_lookup (groups, &flow->dst, flow->proto, flow->sport, flow->dport);
  /* A trap of a line removed since, or a narrower clear line: not ours to
   * negotiate (the next apply or the narrower policy takes over). */
  if (entry == NULL || !group_negotiates (entry->group))
    return;
  private_ = entry->group == POLICY_GROUP_PRIVATE;
  decision->initiate = TRUE;
  decision->group = entry->group;
  decision->entry = *entry;
  decision->local = flow->src;
  decision->remote = flow->dst;
  decision->fail_open = !private_;
  decision->failure = private_ ? POLICY_SHUNT_DROP : POLICY_SHUNT_PASS;
  decision->failure_seconds = config->failure_seconds;
  /* Whatever the setting, `private` never lets a packet out in clear. */
  decision->negotiation = private_ && config->negotiation == POLICY_SHUNT_PASS
                              ? POLICY_SHUNT_HOLD
                              : config->negotiation;
}

gboolean
policy_shunt_policy (const PolicyAcquireDecision *decision, PolicyShunt shunt, guint64 seconds,
                     XfrmPolicy *policy)
{
  guint host_bits = xfrm_addr_host_bits (decision->remote.family);

  memset (policy, 0, sizeof *policy);
  if (shunt == POLICY_SHUNT_HOLD || !decision->initiate)
    return FALSE;
  xfrm_selector_host_pair (&policy->sel, &decision->local, &decision->remote);
  policy->dir = XFRM_DIR_OUT;
  policy->action = shunt == POLICY_SHUNT_PASS ? XFRM_ACTION_PASS : XFRM_ACTION_DROP;
  /* An instance of the group's line: it beats the trap it came from, and
   * the instance's own policy later replaces it (same selector). */
  policy->priority
      = policy_priority (POLICY_CLASS_OE_ANON, host_bits, host_bits, FALSE, POLICY_LEVEL_INSTANCE);
  policy->hard_seconds = seconds;
  return TRUE;
}

gboolean
policy_responder_decide (const PolicyGroups *groups, const XfrmAddr *remote, PolicyGroup *group)
{
  /* No flow yet: only lines for all protocols decide. */
  const PolicyEntry *entry = policy_groups_lookup (groups, remote, 0, 0, 0);

  if (entry == NULL || entry->group == POLICY_GROUP_CLEAR || entry->group == POLICY_GROUP_BLOCK)
    return FALSE;
  if (group != NULL)
    *group = entry->group;
  return TRUE;
}
