/* policy/: group files, the kernel footprint and its priorities, applying
 * and reloading through the fake driver, and the ACQUIRE and responder
 * decisions. */
#include "config.h"

#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>

#include "policy.h"
#include "xfrm-fake.h"

static XfrmAddr
addr (const char *text)
{
  XfrmAddr a;
  g_assert_true (xfrm_addr_parse (text, &a, NULL));
  return a;
}

static PolicyGroups *
groups_of (PolicyGroup group, const char *text, GPtrArray *problems)
{
  PolicyGroups *groups = policy_groups_new ();
  policy_groups_parse (groups, group, policy_group_to_string (group), text, strlen (text),
                       problems);
  return groups;
}

static char *
problems_text (GPtrArray *problems)
{
  g_ptr_array_add (problems, NULL);
  char *text = g_strjoinv ("\n", (char **) problems->pdata);
  g_ptr_array_remove_index (problems, problems->len - 1);
  return text;
}

/* ---- Parsing ---- */

static void
test_parse_good (void)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (PolicyGroups) groups = groups_of (POLICY_GROUP_PRIVATE,
                                               "# private peers\n"
                                               "\n"
                                               "10.0.0.0/8\n"
                                               "  192.0.2.7   # one host, spaces and a comment\n"
                                               "2001:db8::/32\r\n"
                                               "198.51.100.0/24 tcp 0 443\n"
                                               "10.1.2.3/16\n" /* host bits cleared */
                                               "203.0.113.9 udp 500 0",
                                               problems);
  const PolicyEntry *e;

  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_cmpuint (policy_groups_get_n_entries (groups), ==, 6);
  e = policy_groups_get_entry (groups, 1);
  g_assert_cmpint (e->group, ==, POLICY_GROUP_PRIVATE);
  g_assert_cmpuint (e->prefix_len, ==, 32);
  g_assert_cmpuint (e->line, ==, 4);
  e = policy_groups_get_entry (groups, 2);
  g_assert_cmpint (e->net.family, ==, AF_INET6);
  g_assert_cmpuint (e->prefix_len, ==, 32);
  e = policy_groups_get_entry (groups, 3);
  g_assert_cmpuint (e->proto, ==, IPPROTO_TCP);
  g_assert_cmpuint (e->sport, ==, 0);
  g_assert_cmpuint (e->dport, ==, 443);
  e = policy_groups_get_entry (groups, 4);
  g_assert_true (xfrm_addr_equal (&e->net, &(XfrmAddr){ .family = AF_INET, .bytes = { 10, 1 } }));
  e = policy_groups_get_entry (groups, 5);
  g_assert_cmpuint (e->sport, ==, 500);
  g_assert_cmpuint (e->line, ==, 8);
}

static void
test_parse_bad (void)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  static const char text[] = "10.0.0.0/8\n"
                             "10.0.0.0/33\n"
                             "not-an-address\n"
                             "192.0.2.0/24 tcp 80\n"
                             "192.0.2.0/24 bogus 0 80\n"
                             "192.0.2.0/24 icmp 1 0\n"
                             "192.0.2.0/24 tcp 0 70000\n"
                             "10.0.0.0/8\n"
                             "1.2.3.4 tcp 0 1 extra\n"
                             "172.16.0.0/12\n";
  g_autoptr (PolicyGroups) groups = groups_of (POLICY_GROUP_PRIVATE, text, problems);
  g_autofree char *got = NULL;

  /* Everything good is used, everything bad named with its line. */
  g_assert_cmpuint (policy_groups_get_n_entries (groups), ==, 2);
  got = problems_text (problems);
  g_assert_cmpstr (got, ==,
                   "private:2: bad CIDR \"10.0.0.0/33\"\n"
                   "private:3: bad CIDR \"not-an-address\"\n"
                   "private:4: expected CIDR or CIDR PROTO SPORT DPORT\n"
                   "private:5: bad protocol \"bogus\"\n"
                   "private:6: ports with protocol 1, which has none\n"
                   "private:7: bad port \"0\" or \"70000\" (0-65535)\n"
                   "private:8: already listed in private line 1\n"
                   "private:9: too many fields (expected CIDR [PROTO SPORT DPORT])");
}

static void
test_parse_nul (void)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (PolicyGroups) groups = policy_groups_new ();
  static const char text[] = "10.0.0.1\0junk\n10.0.0.2";

  g_assert_cmpuint (
      policy_groups_parse (groups, POLICY_GROUP_CLEAR, "clear", text, sizeof text - 1, problems),
      ==, 1);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_cmpstr (problems->pdata[0], ==, "clear:1: a NUL byte");
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, "policies", name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
test_load_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("policy-XXXXXX", &error);
  g_autofree char *sub = g_build_filename (dir, "policies", NULL);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (PolicyGroups) groups = NULL;
  g_autofree char *want = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  write_file (dir, "clear", "192.0.2.0/24\n10.9.9.9\n");
  write_file (dir, "private", "10.9.9.9\nbad\n");
  groups = policy_groups_load (dir, problems, &error);
  g_assert_no_error (error);
  /* `private` is read before `clear`: the protective listing wins. */
  g_assert_cmpuint (policy_groups_get_n_entries (groups), ==, 2);
  g_assert_cmpint (policy_groups_get_entry (groups, 0)->group, ==, POLICY_GROUP_PRIVATE);
  g_assert_cmpuint (problems->len, ==, 2);
  want = g_strdup_printf ("%s/private:2: bad CIDR \"bad\"", sub);
  g_assert_cmpstr (problems->pdata[0], ==, want);
  g_assert_nonnull (g_strrstr (problems->pdata[1], "/clear:2: already listed in private line 1"));
  for (guint i = 0; i < POLICY_N_GROUPS; i++)
    {
      g_autofree char *path = g_build_filename (sub, policy_group_to_string (i), NULL);
      g_remove (path);
    }
  g_rmdir (sub);
  g_rmdir (dir);
}

/* ---- Priorities ---- */

static void
test_priorities (void)
{
  /* Each row must beat (a lower number) every row below it. */
  static const struct
  {
    PolicyClass klass;
    guint prefix;
    guint bits;
    gboolean proto;
    PolicyLevel level;
  } order[] = {
    { POLICY_CLASS_BYPASS, 0, 128, TRUE, POLICY_LEVEL_TEMPLATE },
    { POLICY_CLASS_STATIC, 32, 32, FALSE, POLICY_LEVEL_INSTANCE },
    { POLICY_CLASS_STATIC, 0, 32, FALSE, POLICY_LEVEL_TEMPLATE },
    { POLICY_CLASS_OE_AUTH, 32, 32, TRUE, POLICY_LEVEL_INSTANCE },
    { POLICY_CLASS_OE_AUTH, 32, 32, FALSE, POLICY_LEVEL_INSTANCE },
    { POLICY_CLASS_OE_AUTH, 0, 32, FALSE, POLICY_LEVEL_TEMPLATE },
    { POLICY_CLASS_OE_ANON, 128, 128, FALSE, POLICY_LEVEL_INSTANCE },
    { POLICY_CLASS_OE_ANON, 32, 32, FALSE, POLICY_LEVEL_TEMPLATE },
    { POLICY_CLASS_OE_ANON, 24, 32, TRUE, POLICY_LEVEL_TEMPLATE },
    { POLICY_CLASS_OE_ANON, 24, 32, FALSE, POLICY_LEVEL_INSTANCE },
    { POLICY_CLASS_OE_ANON, 24, 32, FALSE, POLICY_LEVEL_TEMPLATE },
    { POLICY_CLASS_OE_ANON, 0, 32, FALSE, POLICY_LEVEL_TEMPLATE },
    { POLICY_CLASS_OE_ANON, 0, 128, FALSE, POLICY_LEVEL_TEMPLATE },
  };
  guint32 prev = 0;

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      guint32 p = policy_priority (order[i].klass, order[i].prefix, order[i].bits, order[i].proto,
                                   order[i].level);
      PolicyClass klass;
      PolicyLevel level;

      if (i > 0)
        g_assert_cmpuint (prev, <, p);
      g_assert_true (policy_priority_decode (p, &klass, &level));
      g_assert_cmpint (klass, ==, order[i].klass);
      g_assert_cmpint (level, ==, order[i].level);
      prev = p;
    }
  /* IPv4 /32 and IPv6 /128 rank alike. */
  g_assert_cmpuint (policy_priority (POLICY_CLASS_OE_ANON, 32, 32, FALSE, POLICY_LEVEL_TEMPLATE),
                    ==,
                    policy_priority (POLICY_CLASS_OE_ANON, 128, 128, FALSE, POLICY_LEVEL_TEMPLATE));
  g_assert_false (policy_priority_decode (0, NULL, NULL));
  g_assert_false (policy_priority_decode (666, NULL, NULL));
  g_assert_false (policy_priority_decode (POLICY_PRIORITY_BASE + 0x3ff, NULL, NULL));
  g_assert_false (
      policy_priority_decode (POLICY_PRIORITY_BASE + 4 * POLICY_PRIORITY_CLASS_SPAN, NULL, NULL));
}

/* ---- Footprint ---- */

static const XfrmPolicy *
find (const PolicySet *set, XfrmDir dir, const char *src, const char *dst)
{
  XfrmSelector sel = { 0 };
  g_assert_true (xfrm_prefix_parse (src, &sel.src, &sel.src_prefix, NULL));
  g_assert_true (xfrm_prefix_parse (dst, &sel.dst, &sel.dst_prefix, NULL));
  return policy_set_lookup (set, &sel, dir);
}

static void
test_footprint_groups (void)
{
  static const struct
  {
    PolicyGroup group;
    int out, in; /* -1: none */
  } rows[] = {
    { POLICY_GROUP_BLOCK, XFRM_ACTION_DROP, XFRM_ACTION_DROP },
    { POLICY_GROUP_CLEAR, XFRM_ACTION_PASS, XFRM_ACTION_PASS },
    { POLICY_GROUP_CLEAR_OR_PRIVATE, -1, -1 },
    { POLICY_GROUP_PRIVATE_OR_CLEAR, XFRM_ACTION_TRAP, XFRM_ACTION_PASS },
    { POLICY_GROUP_PRIVATE, XFRM_ACTION_TRAP, XFRM_ACTION_IPSEC },
  };
  guint32 prio24 = policy_priority (POLICY_CLASS_OE_ANON, 24, 32, FALSE, POLICY_LEVEL_TEMPLATE);

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr (PolicyGroups) groups = groups_of (rows[i].group, "192.0.2.0/24\n", NULL);
      g_autoptr (PolicySet) set = policy_set_from_groups (groups);
      const XfrmPolicy *out = find (set, XFRM_DIR_OUT, "0.0.0.0/0", "192.0.2.0/24");
      const XfrmPolicy *in = find (set, XFRM_DIR_IN, "192.0.2.0/24", "0.0.0.0/0");

      g_test_message ("group %s", policy_group_to_string (rows[i].group));
      if (rows[i].out < 0)
        {
          g_assert_null (out);
          g_assert_null (in);
          g_assert_cmpuint (policy_set_get_n_policies (set), ==, 0); /* no bypasses either */
          continue;
        }
      g_assert_nonnull (out);
      g_assert_nonnull (in);
      g_assert_cmpint (out->action, ==, rows[i].out);
      g_assert_cmpint (in->action, ==, rows[i].in);
      g_assert_cmpuint (out->priority, ==, prio24);
      g_assert_cmpuint (in->priority, ==, prio24);
      if (out->action == XFRM_ACTION_TRAP)
        {
          g_assert_cmpint (out->mode, ==, XFRM_TRANSPORT);
          g_assert_cmphex (out->reqid, ==, POLICY_REQID_GROUP (rows[i].group));
          g_assert_cmpint (out->tmpl_dst.family, ==, 0); /* the flow's own addresses */
        }
      /* 2 for the line, 4 loopback, 8 neighbour discovery */
      g_assert_cmpuint (policy_set_get_n_policies (set), ==, 14);
    }
}

static void
test_footprint_bypass (void)
{
  g_autoptr (PolicyGroups) groups = groups_of (POLICY_GROUP_PRIVATE, "0.0.0.0/0\n::/0\n", NULL);
  g_autoptr (PolicySet) set = policy_set_from_groups (groups);
  const XfrmPolicy *any = find (set, XFRM_DIR_OUT, "0.0.0.0/0", "0.0.0.0/0");
  const XfrmPolicy *lo = find (set, XFRM_DIR_OUT, "0.0.0.0/0", "127.0.0.0/8");
  const XfrmPolicy *lo6 = find (set, XFRM_DIR_IN, "::1/128", "::/0");
  guint nd = 0;

  g_assert_nonnull (any);
  g_assert_nonnull (lo);
  g_assert_nonnull (lo6);
  g_assert_cmpint (lo->action, ==, XFRM_ACTION_PASS);
  g_assert_cmpint (lo6->action, ==, XFRM_ACTION_PASS);
  g_assert_cmpuint (lo->priority, <, any->priority);
  for (guint i = 0; i < policy_set_get_n_policies (set); i++)
    {
      const XfrmPolicy *p = policy_set_get_policy (set, i);
      if (p->sel.proto == IPPROTO_ICMPV6)
        {
          g_assert_cmpuint (p->sel.sport, >=, 133);
          g_assert_cmpuint (p->sel.sport, <=, 136);
          g_assert_cmpint (p->action, ==, XFRM_ACTION_PASS);
          g_assert_cmpuint (p->priority, <, any->priority);
          nd++;
        }
    }
  g_assert_cmpuint (nd, ==, 8);
}

static void
test_footprint_loopback_line (void)
{
  /* A line naming loopback itself: the bypass keeps it, once (found by
   * fuzzing: two policies of one identity never settled). */
  g_autoptr (PolicyGroups) groups = groups_of (POLICY_GROUP_PRIVATE, "::1\n127.0.0.0/8\n", NULL);
  g_autoptr (PolicySet) set = policy_set_from_groups (groups);
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  const XfrmPolicy *lo6 = find (set, XFRM_DIR_OUT, "::/0", "::1/128");
  PolicyApplyStats stats;

  g_assert_nonnull (lo6);
  g_assert_cmpint (lo6->action, ==, XFRM_ACTION_PASS);
  g_assert_cmpint (find (set, XFRM_DIR_IN, "127.0.0.0/8", "0.0.0.0/0")->action, ==,
                   XFRM_ACTION_PASS);
  g_assert_cmpuint (policy_set_get_n_policies (set), ==, 12);
  g_assert_true (policy_apply (set, fake, &stats, NULL));
  g_assert_true (policy_apply (set, fake, &stats, NULL));
  g_assert_cmpuint (stats.added + stats.updated + stats.removed, ==, 0);
}

static void
test_footprint_ports (void)
{
  g_autoptr (PolicyGroups) groups
      = groups_of (POLICY_GROUP_CLEAR, "198.51.100.0/24 tcp 0 443\n", NULL);
  g_autoptr (PolicySet) set = policy_set_from_groups (groups);
  const XfrmPolicy *out = policy_set_get_policy (set, 0);
  const XfrmPolicy *in = policy_set_get_policy (set, 1);

  g_assert_cmpint (out->dir, ==, XFRM_DIR_OUT);
  g_assert_cmpuint (out->sel.proto, ==, IPPROTO_TCP);
  g_assert_cmpuint (out->sel.dport, ==, 443);
  g_assert_cmpuint (out->sel.sport, ==, 0);
  /* Replies come from the remote port. */
  g_assert_cmpint (in->dir, ==, XFRM_DIR_IN);
  g_assert_cmpuint (in->sel.sport, ==, 443);
  g_assert_cmpuint (in->sel.dport, ==, 0);
  g_assert_cmpuint (out->priority, <,
                    policy_priority (POLICY_CLASS_OE_ANON, 24, 32, FALSE, POLICY_LEVEL_TEMPLATE));
}

/* ---- Apply ---- */

static PolicySet *
set_of (const char *private_text, const char *clear_text)
{
  g_autoptr (PolicyGroups) groups = policy_groups_new ();
  policy_groups_parse (groups, POLICY_GROUP_PRIVATE, "private", private_text, strlen (private_text),
                       NULL);
  policy_groups_parse (groups, POLICY_GROUP_CLEAR, "clear", clear_text, strlen (clear_text), NULL);
  return policy_set_from_groups (groups);
}

static void
apply_ok (PolicySet *set, XfrmDriver *fake, PolicyApplyStats *stats)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (policy_apply (set, fake, stats, &error));
  g_assert_no_error (error);
}

static void
test_apply_idempotent (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (PolicySet) set = set_of ("10.0.0.0/8\n", "10.1.0.0/16\n");
  PolicyApplyStats stats;
  guint n = policy_set_get_n_policies (set);

  apply_ok (set, fake, &stats);
  g_assert_cmpuint (stats.added, ==, n);
  g_assert_cmpuint (xfrm_fake_n_policies (fake), ==, n);
  g_assert_cmpuint (xfrm_fake_count (fake, XFRM_FAKE_UPDATE_POLICY), ==, n);
  /* Protective first: the first pass is installed after every trap and drop. */
  for (guint i = 0, seen_pass = 0; i < xfrm_fake_get_n_calls (fake); i++)
    {
      const XfrmFakeCall *call = xfrm_fake_get_call (fake, i);
      if (call->op != XFRM_FAKE_UPDATE_POLICY)
        continue;
      if (call->policy.action == XFRM_ACTION_PASS)
        seen_pass = 1;
      else
        g_assert_false (seen_pass);
    }

  xfrm_fake_clear_calls (fake);
  apply_ok (set, fake, &stats);
  g_assert_cmpuint (xfrm_fake_get_n_calls (fake), ==, 1); /* the listing, nothing else */
  g_assert_cmpint (xfrm_fake_get_call (fake, 0)->op, ==, XFRM_FAKE_LIST_POLICIES);
  g_assert_cmpuint (stats.kept, ==, n);
  g_assert_cmpuint (stats.added + stats.updated + stats.removed, ==, 0);
}

static void
test_apply_reload_one (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (PolicySet) before = set_of ("10.0.0.0/8\n192.0.2.0/24\n", "10.1.0.0/16\n");
  g_autoptr (PolicySet) after = set_of ("10.0.0.0/8\n192.0.2.0/25\n", "10.1.0.0/16\n");
  PolicyApplyStats stats;
  const XfrmFakeCall *call;

  apply_ok (before, fake, &stats);
  xfrm_fake_clear_calls (fake);
  apply_ok (after, fake, &stats);
  /* The /24 line became /25: its out and in policies, nothing else. */
  g_assert_cmpuint (stats.added, ==, 2);
  g_assert_cmpuint (stats.removed, ==, 2);
  g_assert_cmpuint (stats.updated, ==, 0);
  g_assert_cmpuint (xfrm_fake_get_n_calls (fake), ==, 5);
  for (guint i = 1; i < 5; i++)
    {
      g_autofree char *sel = NULL;
      call = xfrm_fake_get_call (fake, i);
      g_assert_cmpint (call->op, ==, i < 3 ? XFRM_FAKE_UPDATE_POLICY : XFRM_FAKE_DELETE_POLICY);
      sel = xfrm_selector_to_string (&call->policy.sel);
      g_assert_nonnull (strstr (sel, i < 3 ? "192.0.2.0/25" : "192.0.2.0/24"));
    }
  g_assert_cmpuint (xfrm_fake_n_policies (fake), ==, policy_set_get_n_policies (after));
}

static void
test_apply_update_in_place (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (PolicySet) before = set_of ("", "192.0.2.0/24\n");
  g_autoptr (PolicySet) after = set_of ("192.0.2.0/24\n", "");
  PolicyApplyStats stats;

  apply_ok (before, fake, &stats);
  xfrm_fake_clear_calls (fake);
  /* clear → private for the same CIDR: replaced in one step each, no gap. */
  apply_ok (after, fake, &stats);
  g_assert_cmpuint (stats.updated, ==, 2);
  g_assert_cmpuint (stats.added + stats.removed, ==, 0);
  g_assert_cmpuint (xfrm_fake_count (fake, XFRM_FAKE_DELETE_POLICY), ==, 0);
  g_assert_cmpint (xfrm_fake_get_call (fake, 1)->policy.action, ==, XFRM_ACTION_TRAP);
}

static void
test_apply_remove_order (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (PolicySet) before = set_of ("10.0.0.0/8\n", "10.1.0.0/16\n");
  g_autoptr (PolicySet) after = set_of ("192.0.2.0/24\n", "");
  PolicyApplyStats stats;
  guint first_delete = 0, last_update = 0;

  apply_ok (before, fake, &stats);
  xfrm_fake_clear_calls (fake);
  apply_ok (after, fake, &stats);
  for (guint i = 0; i < xfrm_fake_get_n_calls (fake); i++)
    {
      const XfrmFakeCall *call = xfrm_fake_get_call (fake, i);
      if (call->op == XFRM_FAKE_UPDATE_POLICY)
        last_update = i;
      if (call->op == XFRM_FAKE_DELETE_POLICY && first_delete == 0)
        {
          first_delete = i;
          /* The old pass goes before the old trap that surrounds it. */
          g_autofree char *sel = xfrm_selector_to_string (&call->policy.sel);
          g_assert_nonnull (strstr (sel, "10.1.0.0/16"));
        }
    }
  g_assert_cmpuint (last_update, <, first_delete);
  g_assert_cmpuint (stats.removed, ==, 4);
}

static void
test_apply_leaves_others (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (PolicySet) set = set_of ("10.0.0.0/8\n", "");
  g_autoptr (PolicySet) empty = set_of ("", "");
  g_autoptr (GError) error = NULL;
  XfrmPolicy foreign = { .dir = XFRM_DIR_OUT, .action = XFRM_ACTION_DROP, .priority = 5 };
  XfrmPolicy shunt = { .dir = XFRM_DIR_OUT, .action = XFRM_ACTION_PASS };
  PolicyApplyStats stats;

  g_assert_true (xfrm_prefix_parse ("0.0.0.0/0", &foreign.sel.src, &foreign.sel.src_prefix, NULL));
  g_assert_true (
      xfrm_prefix_parse ("172.16.0.0/12", &foreign.sel.dst, &foreign.sel.dst_prefix, NULL));
  xfrm_fake_add_foreign_policy (fake, &foreign);
  /* An instance-level shunt of the daemon: ours, but not the footprint's. */
  xfrm_selector_host_pair (&shunt.sel, &(XfrmAddr){ .family = AF_INET, .bytes = { 10, 0, 0, 1 } },
                           &(XfrmAddr){ .family = AF_INET, .bytes = { 10, 0, 0, 2 } });
  shunt.priority = policy_priority (POLICY_CLASS_OE_ANON, 32, 32, FALSE, POLICY_LEVEL_INSTANCE);
  g_assert_true (xfrm_driver_add_policy (fake, &shunt, &error));
  apply_ok (set, fake, &stats);
  apply_ok (empty, fake, &stats);
  g_assert_cmpuint (stats.removed, ==, policy_set_get_n_policies (set));
  g_assert_cmpuint (xfrm_fake_n_policies (fake), ==, 2);
}

static void
test_apply_adopts_leftovers (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (PolicySet) old = set_of ("10.0.0.0/8\n", "");
  g_autoptr (PolicySet) now = set_of ("10.0.0.0/8\n", "");
  PolicyApplyStats stats;

  /* A previous run (killed) left its footprint; a new run adopts it as is. */
  apply_ok (old, fake, &stats);
  xfrm_fake_clear_calls (fake);
  apply_ok (now, fake, &stats);
  g_assert_cmpuint (stats.kept, ==, policy_set_get_n_policies (now));
  g_assert_cmpuint (xfrm_fake_get_n_calls (fake), ==, 1);
  for (guint i = 0; i < policy_set_get_n_policies (now); i++)
    g_assert_true (xfrm_index_is_ours (policy_set_get_policy (now, i)->index));
}

static void
test_apply_error (void)
{
  g_autoptr (XfrmDriver) fake = xfrm_fake_new ();
  g_autoptr (PolicySet) set = set_of ("10.0.0.0/8\n", "10.1.0.0/16\n");
  g_autoptr (GError) error = NULL;
  PolicyApplyStats stats;

  xfrm_fake_fail_next (fake, XFRM_FAKE_UPDATE_POLICY, XFRM_ERROR_FAILED);
  g_assert_false (policy_apply (set, fake, &stats, &error));
  g_assert_error (error, XFRM_ERROR, XFRM_ERROR_FAILED);
  /* Running it again finishes the job. */
  apply_ok (set, fake, &stats);
  g_assert_cmpuint (xfrm_fake_n_policies (fake), ==, policy_set_get_n_policies (set));
}

/* ---- Decisions ---- */

static XfrmEvent
acquire (const char *src, const char *dst, guint8 proto, guint16 dport)
{
  XfrmEvent ev = { .kind = XFRM_EVENT_ACQUIRE, .dir = XFRM_DIR_OUT };
  ev.sel.src = addr (src);
  ev.sel.dst = addr (dst);
  ev.sel.src_prefix = ev.sel.dst_prefix = xfrm_addr_host_bits (ev.sel.src.family);
  ev.sel.proto = proto;
  ev.sel.sport = 40000;
  ev.sel.dport = dport;
  return ev;
}

static PolicyGroups *
oe_groups (void)
{
  PolicyGroups *groups = policy_groups_new ();
  static const char *const text[POLICY_N_GROUPS] = {
    [POLICY_GROUP_BLOCK] = "10.66.0.0/16\n",
    [POLICY_GROUP_CLEAR] = "10.1.0.0/16\n10.0.0.0/8 tcp 0 22\n",
    [POLICY_GROUP_CLEAR_OR_PRIVATE] = "203.0.113.0/24\n",
    [POLICY_GROUP_PRIVATE_OR_CLEAR] = "0.0.0.0/0\n::/0\n",
    [POLICY_GROUP_PRIVATE] = "10.0.0.0/8\n2001:db8:1::/48\n",
  };
  for (guint g = 0; g < POLICY_N_GROUPS; g++)
    policy_groups_parse (groups, g, "t", text[g], strlen (text[g]), NULL);
  return groups;
}

static void
test_acquire_decisions (void)
{
  g_autoptr (PolicyGroups) groups = oe_groups ();
  static const struct
  {
    const char *dst;
    guint8 proto;
    guint16 dport;
    gboolean initiate;
    PolicyGroup group;
    PolicyShunt failure;
  } rows[] = {
    { "10.2.3.4", IPPROTO_UDP, 53, TRUE, POLICY_GROUP_PRIVATE, POLICY_SHUNT_DROP },
    { "10.2.3.4", IPPROTO_TCP, 22, FALSE, 0, 0 },  /* clear for ssh, longer match by port */
    { "10.1.2.3", IPPROTO_UDP, 53, FALSE, 0, 0 },  /* clear /16 inside private /8 */
    { "10.66.1.1", IPPROTO_UDP, 53, FALSE, 0, 0 }, /* block */
    { "198.51.100.1", IPPROTO_ICMP, 0, TRUE, POLICY_GROUP_PRIVATE_OR_CLEAR, POLICY_SHUNT_PASS },
    { "203.0.113.5", IPPROTO_UDP, 53, FALSE, 0, 0 }, /* clear-or-private: respond only */
    { "2001:db8:1::9", IPPROTO_UDP, 53, TRUE, POLICY_GROUP_PRIVATE, POLICY_SHUNT_DROP },
    { "2001:db8:2::9", IPPROTO_UDP, 53, TRUE, POLICY_GROUP_PRIVATE_OR_CLEAR, POLICY_SHUNT_PASS },
  };
  PolicyShuntConfig config;

  policy_shunt_config_init (&config);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      const char *src = strchr (rows[i].dst, ':') ? "2001:db8::1" : "192.0.2.1";
      XfrmEvent ev = acquire (src, rows[i].dst, rows[i].proto, rows[i].dport);
      PolicyAcquireDecision d;

      g_test_message ("acquire to %s", rows[i].dst);
      policy_acquire_decide (groups, &config, &ev, &d);
      g_assert_cmpint (d.initiate, ==, rows[i].initiate);
      if (!d.initiate)
        continue;
      g_assert_cmpint (d.group, ==, rows[i].group);
      g_assert_true (xfrm_addr_equal (&d.local, &ev.sel.src));
      g_assert_true (xfrm_addr_equal (&d.remote, &ev.sel.dst));
      g_assert_cmpint (d.failure, ==, rows[i].failure);
      g_assert_cmpint (d.fail_open, ==, rows[i].failure == POLICY_SHUNT_PASS);
      g_assert_cmpint (d.negotiation, ==, POLICY_SHUNT_HOLD);
      g_assert_cmpuint (d.failure_seconds, ==, 900);
    }
}

static void
test_acquire_shunts (void)
{
  g_autoptr (PolicyGroups) groups = oe_groups ();
  XfrmEvent ev = acquire ("192.0.2.1", "10.2.3.4", IPPROTO_UDP, 53);
  PolicyShuntConfig config = { .negotiation = POLICY_SHUNT_PASS, .failure_seconds = 60 };
  PolicyAcquireDecision d;
  XfrmPolicy p;

  /* `private` never passes while negotiating, whatever the setting. */
  policy_acquire_decide (groups, &config, &ev, &d);
  g_assert_cmpint (d.negotiation, ==, POLICY_SHUNT_HOLD);
  g_assert_false (policy_shunt_policy (&d, d.negotiation, 0, &p));
  g_assert_true (policy_shunt_policy (&d, d.failure, d.failure_seconds, &p));
  g_assert_cmpint (p.action, ==, XFRM_ACTION_DROP);
  g_assert_cmpint (p.dir, ==, XFRM_DIR_OUT);
  g_assert_cmpuint (p.sel.dst_prefix, ==, 32);
  g_assert_cmpuint (p.sel.src_prefix, ==, 32);
  g_assert_cmpuint (p.hard_seconds, ==, 60);
  /* It beats the group's trap: an instance beats its template. */
  g_assert_cmpuint (p.priority, <,
                    policy_priority (POLICY_CLASS_OE_ANON, 32, 32, FALSE, POLICY_LEVEL_TEMPLATE));

  ev = acquire ("192.0.2.1", "198.51.100.1", IPPROTO_UDP, 53);
  policy_acquire_decide (groups, &config, &ev, &d);
  g_assert_cmpint (d.negotiation, ==, POLICY_SHUNT_PASS); /* private-or-clear may */
  g_assert_true (policy_shunt_policy (&d, d.negotiation, 0, &p));
  g_assert_cmpint (p.action, ==, XFRM_ACTION_PASS);

  ev.dir = XFRM_DIR_IN;
  policy_acquire_decide (groups, &config, &ev, &d);
  g_assert_false (d.initiate);
}

static void
test_responder (void)
{
  g_autoptr (PolicyGroups) groups = oe_groups ();
  g_autoptr (PolicyGroups) none = policy_groups_new ();
  static const struct
  {
    const char *remote;
    gboolean allow;
    PolicyGroup group;
  } rows[] = {
    { "10.2.3.4", TRUE, POLICY_GROUP_PRIVATE },
    { "198.51.100.1", TRUE, POLICY_GROUP_PRIVATE_OR_CLEAR },
    { "203.0.113.5", TRUE, POLICY_GROUP_CLEAR_OR_PRIVATE },
    { "10.1.2.3", FALSE, 0 },
    { "10.66.1.1", FALSE, 0 },
    { "2001:db8:1::9", TRUE, POLICY_GROUP_PRIVATE },
  };
  PolicyGroup group;

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      XfrmAddr remote = addr (rows[i].remote);
      g_test_message ("responder for %s", rows[i].remote);
      group = POLICY_N_GROUPS;
      g_assert_cmpint (policy_responder_decide (groups, &remote, &group), ==, rows[i].allow);
      if (rows[i].allow)
        g_assert_cmpint (group, ==, rows[i].group);
    }
  XfrmAddr remote = addr ("10.2.3.4");
  g_assert_false (policy_responder_decide (none, &remote, &group));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/parse/good", test_parse_good);
  g_test_add_func ("/policy/parse/bad", test_parse_bad);
  g_test_add_func ("/policy/parse/nul", test_parse_nul);
  g_test_add_func ("/policy/parse/load-dir", test_load_dir);
  g_test_add_func ("/policy/priorities", test_priorities);
  g_test_add_func ("/policy/footprint/groups", test_footprint_groups);
  g_test_add_func ("/policy/footprint/bypass", test_footprint_bypass);
  g_test_add_func ("/policy/footprint/ports", test_footprint_ports);
  g_test_add_func ("/policy/footprint/loopback-line", test_footprint_loopback_line);
  g_test_add_func ("/policy/apply/idempotent", test_apply_idempotent);
  g_test_add_func ("/policy/apply/reload-one", test_apply_reload_one);
  g_test_add_func ("/policy/apply/update-in-place", test_apply_update_in_place);
  g_test_add_func ("/policy/apply/remove-order", test_apply_remove_order);
  g_test_add_func ("/policy/apply/leaves-others", test_apply_leaves_others);
  g_test_add_func ("/policy/apply/adopts-leftovers", test_apply_adopts_leftovers);
  g_test_add_func ("/policy/apply/error", test_apply_error);
  g_test_add_func ("/policy/acquire/decisions", test_acquire_decisions);
  g_test_add_func ("/policy/acquire/shunts", test_acquire_shunts);
  g_test_add_func ("/policy/responder", test_responder);
  return g_test_run ();
}
