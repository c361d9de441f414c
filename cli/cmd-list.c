/* ipsecctl list: one line per connection (name, state, peer); with
 * --names only the names, one a line (for shell completion and scripts). */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

/* A copy: a borrowed string could go with SETTINGS when PROPERTIES is
 * serialised by a later lookup. */
static char *
setting (GVariant *properties, const char *key)
{
  g_autoptr (GVariant) settings
      = g_variant_lookup_value (properties, "Settings", G_VARIANT_TYPE_VARDICT);
  char *value = NULL;

  if (settings == NULL || !g_variant_lookup (settings, key, "s", &value))
    return g_strdup ("-");
  return value;
}

static void
print_json (GArray *conns)
{
  g_autoptr (GString) out = g_string_new ("[");

  for (guint i = 0; i < conns->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      ipsecctl_json_dict (out, g_array_index (conns, IpsecctlObject, i).properties);
    }
  g_print ("%s]\n", out->str);
}

/* Connection path -> number of its SAs, in one pass over the SAs. */
static GHashTable *
count_sas (IpsecctlObjects *objects)
{
  GHashTable *counts = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < objects->sas->len; i++)
    {
      GVariant *properties = g_array_index (objects->sas, IpsecctlObject, i).properties;
      const char *conn = NULL;

      if (g_variant_lookup (properties, "Connection", "&o", &conn))
        g_hash_table_insert (
            counts, (gpointer) conn,
            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, conn)) + 1));
    }
  return counts;
}

void
ipsecctl_print_connections (const IpsecctlOptions *options, IpsecctlObjects *objects)
{
  g_autoptr (GHashTable) counts = NULL;

  if (options->json)
    {
      print_json (objects->connections);
      return;
    }
  counts = count_sas (objects);
  /* TRANSLATORS: column headings of "ipsecctl list" */
  g_print ("%-24s %-12s %-20s %s\n", _ ("NAME"), _ ("STATE"), _ ("REMOTE"), _ ("SAS"));
  for (guint i = 0; i < objects->connections->len; i++)
    {
      const IpsecctlObject *conn = &g_array_index (objects->connections, IpsecctlObject, i);
      const char *state = ipsecctl_property_string (conn->properties, "State");
      g_autofree char *shown = ipsecctl_state_text (options, state);
      g_autofree char *remote = setting (conn->properties, "remote");

      /* pad by the plain text: colour codes have no width */
      g_print ("%-24s %s%*s %-20s %u\n", ipsecctl_object_name (conn), shown,
               (int) (12 - MIN (12, strlen (state))), "", remote,
               GPOINTER_TO_UINT (g_hash_table_lookup (counts, conn->path)));
    }
}

int
ipsecctl_cmd_list (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IpsecctlObjects) objects = NULL;
  gboolean names = argc == 2 && g_str_equal (argv[1], "--names");

  if (argc > 1 && !names)
    return ipsecctl_usage ("list", "[--names]");
  objects = ipsecctl_objects_get (&error);
  if (objects == NULL)
    return ipsecctl_fail (options, error);
  if (names)
    {
      for (guint i = 0; i < objects->connections->len; i++)
        g_print ("%s\n",
                 ipsecctl_object_name (&g_array_index (objects->connections, IpsecctlObject, i)));
      return IPSECCTL_EXIT_OK;
    }
  ipsecctl_print_connections (options, objects);
  return IPSECCTL_EXIT_OK;
}
