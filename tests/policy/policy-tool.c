/* policy-tool: policy/ on the real driver from the command line, for the
 * netns test.
 *
 *   policy-tool apply DIR        loads DIR/policies/, applies the footprint;
 *                                prints the problems (stderr), then
 *                                "added=N updated=N removed=N kept=N"
 *   policy-tool watch DIR [COUNT [TIMEOUT]]
 *                                prints "ready", then one line per ACQUIRE:
 *                                its decision (policy_acquire_decide)
 *
 * Exit status: 0 done, 1 failed, 2 usage. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "policy.h"

typedef struct
{
  PolicyGroups *groups;
  GMainLoop *loop;
  guint64 left;
} Watch;

static PolicyGroups *
load (const char *dir, GError **error)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  PolicyGroups *groups = policy_groups_load (dir, problems, error);

  for (guint i = 0; i < problems->len; i++)
    g_printerr ("%s\n", (char *) problems->pdata[i]);
  return groups;
}

static gboolean
cmd_apply (XfrmDriver *driver, const char *dir, GError **error)
{
  g_autoptr (PolicyGroups) groups = load (dir, error);
  g_autoptr (PolicySet) set = NULL;
  PolicyApplyStats stats;

  if (groups == NULL)
    return FALSE;
  set = policy_set_from_groups (groups);
  if (!policy_apply (set, driver, &stats, error))
    return FALSE;
  printf ("added=%u updated=%u removed=%u kept=%u\n", stats.added, stats.updated, stats.removed,
          stats.kept);
  return TRUE;
}

static void
print_decision (const XfrmEvent *ev, gpointer data)
{
  Watch *watch = data;
  PolicyShuntConfig config;
  PolicyAcquireDecision d;
  g_autofree char *local = NULL, *remote = NULL;

  if (ev->kind != XFRM_EVENT_ACQUIRE)
    return;
  policy_shunt_config_init (&config);
  policy_acquire_decide (watch->groups, &config, ev, &d);
  local = xfrm_addr_to_string (&ev->sel.src);
  remote = xfrm_addr_to_string (&ev->sel.dst);
  printf ("acquire initiate=%d group=%s local=%s remote=%s negotiation=%s failure=%s "
          "reqid=0x%08x\n",
          d.initiate, d.initiate ? policy_group_to_string (d.group) : "-", local, remote,
          policy_shunt_to_string (d.negotiation), policy_shunt_to_string (d.failure), ev->reqid);
  fflush (stdout);
  if (--watch->left == 0)
    g_main_loop_quit (watch->loop);
}

static gboolean
watch_timeout (gpointer data)
{
  Watch *watch = data;
  g_printerr ("timeout waiting for ACQUIRE\n");
  g_main_loop_quit (watch->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
cmd_watch (XfrmDriver *driver, const char *dir, guint64 count, guint64 timeout, GError **error)
{
  g_autoptr (PolicyGroups) groups = load (dir, error);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Watch watch = { groups, loop, count };

  if (groups == NULL || !xfrm_driver_set_event_func (driver, print_decision, &watch, error))
    return FALSE;
  g_timeout_add_seconds (timeout, watch_timeout, &watch);
  printf ("ready\n");
  fflush (stdout);
  g_main_loop_run (loop);
  return watch.left == 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (XfrmDriver) driver = NULL;
  gboolean ok;

  if (argc < 3)
    {
      g_printerr ("usage: policy-tool apply|watch DIR [COUNT [TIMEOUT]]\n");
      return 2;
    }
  driver = xfrm_netlink_new (&error);
  if (driver == NULL)
    {
      g_printerr ("policy-tool: %s\n", error->message);
      return 1;
    }
  if (g_str_equal (argv[1], "apply"))
    ok = cmd_apply (driver, argv[2], &error);
  else if (g_str_equal (argv[1], "watch"))
    ok = cmd_watch (driver, argv[2], argc > 3 ? g_ascii_strtoull (argv[3], NULL, 10) : 1,
                    argc > 4 ? g_ascii_strtoull (argv[4], NULL, 10) : 10, &error);
  else
    return 2;
  if (!ok && error != NULL)
    g_printerr ("policy-tool: %s\n", error->message);
  return ok ? 0 : 1;
}
