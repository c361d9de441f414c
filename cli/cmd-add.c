/* ipsecctl add NAME KEY=VALUE…: a new connection; the keys are those of
 * ipsecd.conf(5), plus psk=SECRET (stored root-only, never shown).
 * "psk=-" reads the secret from standard input, so it stays out of the
 * process list and the shell history. */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

int
ipsecctl_cmd_add (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IpsecDbusManager) manager = NULL;
  g_autoptr (GVariant) settings = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *path = NULL;

  if (argc < 2)
    return ipsecctl_usage ("add", _ ("NAME KEY=VALUE…"));
  settings = ipsecctl_parse_settings ("add", argv[1], argc - 2, argv + 2);
  if (settings == NULL)
    return IPSECCTL_EXIT_USAGE;
  g_variant_ref_sink (settings);
  manager = ipsecctl_manager (&error);
  if (manager == NULL
      || (reply = ipsecctl_call (G_DBUS_PROXY (manager), "AddConnection",
                                 g_variant_new ("(@a{sv})", settings), &error))
             == NULL)
    return ipsecctl_fail (options, error);
  g_variant_get (reply, "(o)", &path);
  if (options->json)
    g_print ("{\"path\":\"%s\"}\n", path);
  else
    g_print (_ ("%s added\n"), argv[1]);
  return IPSECCTL_EXIT_OK;
}
