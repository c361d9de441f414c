/* ipsecctl list: one line per connection (name, state, peer, SAs); with
 * --names only the names, one a line (for shell completion and scripts).
 * Both come from the Manager's ListConnections, one small reply however
 * many connections there are. */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

GVariant *
ipsecctl_list_connections (GError **error)
{
  g_autoptr (GVariant) reply = ipsecctl_call_manager ("ListConnections", "(a(ossssu))", error);

  return reply != NULL ? g_variant_get_child_value (reply, 0) : NULL;
}

static void
print_json (GVariant *conns)
{
  g_autoptr (GString) out = g_string_new ("[");
  GVariantIter iter;
  const char *path, *name, *state, *remote, *last_error;
  guint32 sas;

  g_variant_iter_init (&iter, conns);
  while (g_variant_iter_next (&iter, "(&o&s&s&s&su)", &path, &name, &state, &remote, &last_error,
                              &sas))
    {
      if (out->len > 1)
        g_string_append_c (out, ',');
      g_string_append (out, "{\"Path\":");
      ipsecctl_json_string (out, path);
      g_string_append (out, ",\"Name\":");
      ipsecctl_json_string (out, name);
      g_string_append (out, ",\"State\":");
      ipsecctl_json_string (out, state);
      g_string_append (out, ",\"Remote\":");
      ipsecctl_json_string (out, remote);
      g_string_append (out, ",\"LastError\":");
      ipsecctl_json_string (out, last_error);
      g_string_append_printf (out, ",\"SAs\":%u}", sas);
    }
  g_print ("%s]\n", out->str);
}

void
ipsecctl_print_connections (const IpsecctlOptions *options, GVariant *conns)
{
  GVariantIter iter;
  const char *name, *state, *remote;
  guint32 sas;

  if (options->json)
    {
      print_json (conns);
      return;
    }
  /* TRANSLATORS: column headings of "ipsecctl list" */
  g_print ("%-24s %-12s %-20s %s\n", _ ("NAME"), _ ("STATE"), _ ("REMOTE"), _ ("SAS"));
  g_variant_iter_init (&iter, conns);
  while (g_variant_iter_next (&iter, "(o&s&s&ssu)", NULL, &name, &state, &remote, NULL, &sas))
    {
      g_autofree char *shown = ipsecctl_state_text (options, state);

      /* pad by the plain text: colour codes have no width */
      g_print ("%-24s %s%*s %-20s %u\n", name, shown, (int) (12 - MIN (12, strlen (state))), "",
               *remote != '\0' ? remote : "-", sas);
    }
}

int
ipsecctl_cmd_list (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) conns = NULL;
  gboolean names = argc == 2 && g_str_equal (argv[1], "--names");
  GVariantIter iter;
  const char *name;

  if (argc > 1 && !names)
    return ipsecctl_usage ("list", "[--names]");
  conns = ipsecctl_list_connections (&error);
  if (conns == NULL)
    return ipsecctl_fail (options, error);
  if (!names)
    {
      ipsecctl_print_connections (options, conns);
      return IPSECCTL_EXIT_OK;
    }
  g_variant_iter_init (&iter, conns);
  while (g_variant_iter_next (&iter, "(o&ssssu)", NULL, &name, NULL, NULL, NULL, NULL))
    g_print ("%s\n", name);
  return IPSECCTL_EXIT_OK;
}
