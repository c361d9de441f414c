/* ipsecctl list: one line per connection (name, state, peer); with
 * --names only the names, one a line (for shell completion and scripts). */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

static int
compare_names (gconstpointer a, gconstpointer b)
{
  IpsecDbusConnection *x = ipsec_dbus_object_peek_connection (*(IpsecDbusObject **) a);
  IpsecDbusConnection *y = ipsec_dbus_object_peek_connection (*(IpsecDbusObject **) b);

  return g_strcmp0 (ipsec_dbus_connection_get_name (x), ipsec_dbus_connection_get_name (y));
}

/* The Connection objects, sorted by name (the array owns references). */
static GPtrArray *
connections (GDBusObjectManager *objects)
{
  GList *all = g_dbus_object_manager_get_objects (objects);
  GPtrArray *found = g_ptr_array_new_with_free_func (g_object_unref);

  for (GList *l = all; l != NULL; l = l->next)
    if (ipsec_dbus_object_peek_connection (l->data) != NULL)
      g_ptr_array_add (found, g_object_ref (l->data));
  g_list_free_full (all, g_object_unref);
  g_ptr_array_sort (found, compare_names);
  return found;
}

static const char *
setting (IpsecDbusConnection *conn, const char *key)
{
  GVariant *settings = ipsec_dbus_connection_get_settings (conn);
  const char *value = NULL;

  if (settings == NULL || !g_variant_lookup (settings, key, "&s", &value))
    return "-";
  return value;
}

static void
print_json (GPtrArray *conns)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < conns->len; i++)
    {
      IpsecDbusConnection *conn = ipsec_dbus_object_peek_connection (conns->pdata[i]);

      if (i > 0)
        g_string_append_c (out, ',');
      ipsecctl_json_properties (out, G_DBUS_PROXY (conn));
    }
  g_print ("%s]\n", out->str);
}

void
ipsecctl_print_connections (const IpsecctlOptions *options, GDBusObjectManager *objects)
{
  g_autoptr (GPtrArray) conns = connections (objects);

  if (options->json)
    {
      print_json (conns);
      return;
    }
  /* TRANSLATORS: column headings of "ipsecctl list" */
  g_print ("%-24s %-12s %-20s %s\n", _ ("NAME"), _ ("STATE"), _ ("REMOTE"), _ ("SAS"));
  for (guint i = 0; i < conns->len; i++)
    {
      IpsecDbusConnection *conn = ipsec_dbus_object_peek_connection (conns->pdata[i]);
      g_autofree char *path = g_strdup (g_dbus_object_get_object_path (conns->pdata[i]));
      GList *sas = ipsecctl_sas_of (objects, path);
      const char *state = ipsec_dbus_connection_get_state (conn);
      g_autofree char *shown = ipsecctl_state_text (options, state);

      /* pad by the plain text: colour codes have no width */
      g_print ("%-24s %s%*s %-20s %u\n", ipsec_dbus_connection_get_name (conn), shown,
               (int) (12 - MIN (12, strlen (state))), "", setting (conn, "remote"),
               g_list_length (sas));
      g_list_free_full (sas, g_object_unref);
    }
}

int
ipsecctl_cmd_list (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  gboolean names = argc == 2 && g_str_equal (argv[1], "--names");

  if (argc > 1 && !names)
    return ipsecctl_usage ("list", "[--names]");
  objects = ipsecctl_objects (&error);
  if (objects == NULL)
    return ipsecctl_fail (options, error);
  if (names)
    {
      g_autoptr (GPtrArray) conns = connections (objects);

      for (guint i = 0; i < conns->len; i++)
        g_print ("%s\n", ipsec_dbus_connection_get_name (
                             ipsec_dbus_object_peek_connection (conns->pdata[i])));
      return IPSECCTL_EXIT_OK;
    }
  ipsecctl_print_connections (options, objects);
  return IPSECCTL_EXIT_OK;
}
