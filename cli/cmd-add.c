/* ipsecctl add NAME KEY=VALUE…: a new connection; the keys are those of
 * ipsecd.conf(5), plus psk=SECRET (stored root-only, never shown).
 * "psk=-" reads the secret from standard input, so it stays out of the
 * process list and the shell history. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ipsecctl.h"

static char *
read_secret (void)
{
  char line[4096];

  if (fgets (line, sizeof line, stdin) == NULL)
    return g_strdup ("");
  line[strcspn (line, "\r\n")] = '\0';
  return g_strdup (line);
}

static gboolean
add_pair (GVariantBuilder *builder, const char *arg)
{
  const char *eq = strchr (arg, '=');
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;

  if (eq == NULL || eq == arg)
    {
      g_printerr (_ ("ipsecctl add: “%s” is not KEY=VALUE\n"), arg);
      return FALSE;
    }
  key = g_strndup (arg, eq - arg);
  value
      = g_str_equal (key, "psk") && g_str_equal (eq + 1, "-") ? read_secret () : g_strdup (eq + 1);
  g_variant_builder_add (builder, "{sv}", key, g_variant_new_string (value));
  return TRUE;
}

int
ipsecctl_cmd_add (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IpsecDbusManager) manager = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *path = NULL;
  GVariantBuilder builder;

  if (argc < 2)
    return ipsecctl_usage ("add", _ ("NAME KEY=VALUE…"));
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string (argv[1]));
  for (int i = 2; i < argc; i++)
    if (!add_pair (&builder, argv[i]))
      {
        g_variant_builder_clear (&builder);
        return IPSECCTL_EXIT_USAGE;
      }
  manager = ipsecctl_manager (&error);
  if (manager == NULL
      || (reply
          = ipsecctl_call (G_DBUS_PROXY (manager), "AddConnection",
                           g_variant_new ("(@a{sv})", g_variant_builder_end (&builder)), &error))
             == NULL)
    {
      g_variant_builder_clear (&builder);
      return ipsecctl_fail (options, error);
    }
  g_variant_get (reply, "(o)", &path);
  if (options->json)
    g_print ("{\"path\":\"%s\"}\n", path);
  else
    g_print (_ ("%s added\n"), argv[1]);
  return IPSECCTL_EXIT_OK;
}
