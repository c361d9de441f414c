/* ipsecctl policy [GROUP [ENTRY…]]: the opportunistic encryption groups
 * (Manager.GetPolicies, SetPolicy).  Without arguments every group's
 * lines; with GROUP that group's; with entries they replace the group's
 * lines.  --clear empties the group; --add and --remove change some lines
 * by reading the group, editing it here and setting the result (another
 * client's change in between is overwritten: SetPolicy has no compare). */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

/* The daemon's group names, in the order it lists them (docs/dbus.md). */
static const char *const groups[] = {
  "block", "clear", "clear-or-private", "private-or-clear", "private", NULL,
};

typedef enum
{
  POLICY_SHOW,
  POLICY_SET,
  POLICY_CLEAR,
  POLICY_ADD,
  POLICY_REMOVE,
} PolicyAction;

#define POLICY_USAGE N_ ("[GROUP [ENTRY…|--clear|--add ENTRY…|--remove ENTRY…]]")

static GVariant *
get_policies (IpsecDbusManager *manager, GError **error)
{
  GVariant *policies = NULL;

  if (!ipsec_dbus_manager_call_get_policies_sync (manager, &policies, NULL, error))
    return NULL;
  return policies;
}

/* GROUP's entries in POLICIES (strings owned by the array). */
static GPtrArray *
group_entries (GVariant *policies, const char *group)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *g, *entry;

  g_variant_iter_init (&iter, policies);
  while (g_variant_iter_next (&iter, "(&s&s)", &g, &entry))
    if (g_str_equal (g, group))
      g_ptr_array_add (entries, g_strdup (entry));
  return entries;
}

/* Every group of POLICIES: the known ones first, in their order, then any
 * other the daemon names (a newer daemon). */
static GPtrArray *
group_names (GVariant *policies)
{
  GPtrArray *names = g_ptr_array_new ();
  GVariantIter iter;
  const char *g;

  for (guint i = 0; groups[i] != NULL; i++)
    g_ptr_array_add (names, (gpointer) groups[i]);
  g_variant_iter_init (&iter, policies);
  while (g_variant_iter_next (&iter, "(&s&s)", &g, NULL))
    if (!g_strv_contains (groups, g)
        && !g_ptr_array_find_with_equal_func (names, g, g_str_equal, NULL))
      g_ptr_array_add (names, (gpointer) g_intern_string (g));
  return names;
}

/* {"GROUP": [entries], …} for ONLY, or for every group. */
static void
print_json (GVariant *policies, const char *only)
{
  g_autoptr (GPtrArray) names = group_names (policies);
  g_autoptr (GString) out = g_string_new ("{");

  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GPtrArray) entries = NULL;

      if (only != NULL && !g_str_equal (only, names->pdata[i]))
        continue;
      entries = group_entries (policies, names->pdata[i]);
      if (out->len > 1)
        g_string_append_c (out, ',');
      ipsecctl_json_string (out, names->pdata[i]);
      g_string_append (out, ":[");
      for (guint j = 0; j < entries->len; j++)
        {
          if (j > 0)
            g_string_append_c (out, ',');
          ipsecctl_json_string (out, entries->pdata[j]);
        }
      g_string_append_c (out, ']');
    }
  g_print ("%s}\n", out->str);
}

/* A table of every line, or ONLY's lines one per line (for scripts). */
static void
print_human (GVariant *policies, const char *only)
{
  g_autoptr (GPtrArray) names = group_names (policies);

  if (only != NULL)
    {
      g_autoptr (GPtrArray) entries = group_entries (policies, only);

      for (guint j = 0; j < entries->len; j++)
        g_print ("%s\n", (char *) entries->pdata[j]);
      return;
    }
  /* TRANSLATORS: column headings of "ipsecctl policy" */
  g_print ("%-18s %s\n", _ ("GROUP"), _ ("ENTRY"));
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GPtrArray) entries = group_entries (policies, names->pdata[i]);

      for (guint j = 0; j < entries->len; j++)
        g_print ("%-18s %s\n", (char *) names->pdata[i], (char *) entries->pdata[j]);
    }
}

static gboolean
find_entry (GPtrArray *entries, const char *entry, guint *index)
{
  return g_ptr_array_find_with_equal_func (entries, entry, g_str_equal, index);
}

/* The group's new lines: ARGS replace, are added to or removed from OLD.
 * Adding a line that is there, or removing one that is not, changes
 * nothing (said on stderr), so a script can repeat itself. */
static GPtrArray *
new_entries (PolicyAction action, const char *group, GPtrArray *old, int n, char **args)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func (g_free);
  guint at;

  if (action == POLICY_ADD || action == POLICY_REMOVE)
    for (guint i = 0; i < old->len; i++)
      g_ptr_array_add (entries, g_strdup (old->pdata[i]));
  for (int i = 0; i < n && action != POLICY_CLEAR; i++)
    {
      gboolean present = find_entry (entries, args[i], &at);

      if (action == POLICY_REMOVE && present)
        g_ptr_array_remove_index (entries, at);
      else if (action == POLICY_REMOVE)
        g_printerr (_ ("ipsecctl policy: “%s” is not in %s\n"), args[i], group);
      else if (action == POLICY_ADD && present)
        g_printerr (_ ("ipsecctl policy: “%s” is already in %s\n"), args[i], group);
      else
        g_ptr_array_add (entries, g_strdup (args[i]));
    }
  return entries;
}

static gboolean
same_entries (GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!g_str_equal (a->pdata[i], b->pdata[i]))
      return FALSE;
  return TRUE;
}

static int
set_group (const IpsecctlOptions *options, IpsecDbusManager *manager, PolicyAction action,
           const char *group, int n, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) before = NULL;
  g_autoptr (GVariant) after = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GPtrArray) old = NULL;
  g_autoptr (GPtrArray) entries = NULL;

  if ((before = get_policies (manager, &error)) == NULL)
    return ipsecctl_fail (options, error);
  old = group_entries (before, group);
  entries = new_entries (action, group, old, n, args);
  /* --add/--remove that change nothing need no authorization */
  if ((action != POLICY_ADD && action != POLICY_REMOVE) || !same_entries (old, entries))
    {
      g_ptr_array_add (entries, NULL);
      reply = ipsecctl_call (G_DBUS_PROXY (manager), "SetPolicy",
                             g_variant_new ("(s^as)", group, entries->pdata), &error);
      g_ptr_array_remove_index (entries, entries->len - 1);
      if (reply == NULL)
        return ipsecctl_fail (options, error);
    }
  /* what the daemon has now, as it spells the lines */
  if ((after = get_policies (manager, &error)) == NULL)
    return ipsecctl_fail (options, error);
  if (options->json)
    print_json (after, group);
  else
    {
      g_autoptr (GPtrArray) now = group_entries (after, group);

      g_print (g_dngettext (GETTEXT_PACKAGE, "%s: %u entry\n", "%s: %u entries\n", now->len), group,
               now->len);
    }
  return IPSECCTL_EXIT_OK;
}

/* ARGV after GROUP: the action and where its entries start; -1 if bad. */
static int
parse_action (int argc, char **argv, PolicyAction *action)
{
  static const struct
  {
    const char *option;
    PolicyAction action;
  } options[] = {
    { "--clear", POLICY_CLEAR },
    { "--add", POLICY_ADD },
    { "--remove", POLICY_REMOVE },
  };

  *action = argc <= 2 ? POLICY_SHOW : POLICY_SET;
  for (gsize i = 0; argc > 2 && i < G_N_ELEMENTS (options); i++)
    if (g_str_equal (argv[2], options[i].option))
      *action = options[i].action;
  if (*action == POLICY_CLEAR)
    return argc == 3 ? 3 : -1;
  if (*action == POLICY_ADD || *action == POLICY_REMOVE)
    return argc > 3 ? 3 : -1;
  for (int i = 2; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--"))
      return -1;
  return 2;
}

int
ipsecctl_cmd_policy (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IpsecDbusManager) manager = NULL;
  g_autoptr (GVariant) policies = NULL;
  const char *group = argc > 1 ? argv[1] : NULL;
  PolicyAction action = POLICY_SHOW;
  int first = 2;

  if (group != NULL && !g_strv_contains (groups, group))
    {
      g_printerr (_ ("ipsecctl policy: no group “%s”; the groups are block, clear, "
                     "clear-or-private, private-or-clear and private\n"),
                  group);
      return IPSECCTL_EXIT_USAGE;
    }
  if (group != NULL && (first = parse_action (argc, argv, &action)) < 0)
    return ipsecctl_usage ("policy", _ (POLICY_USAGE));
  manager = ipsecctl_manager (&error);
  if (manager == NULL)
    return ipsecctl_fail (options, error);
  if (action != POLICY_SHOW)
    return set_group (options, manager, action, group, argc - first, argv + first);
  if ((policies = get_policies (manager, &error)) == NULL)
    return ipsecctl_fail (options, error);
  if (options->json)
    print_json (policies, group);
  else
    print_human (policies, group);
  return IPSECCTL_EXIT_OK;
}
