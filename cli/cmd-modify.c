/* ipsecctl modify NAME KEY=VALUE…: change a connection (Connection.Update).
 * "KEY=" removes the key, "psk=-" reads a new key from standard input as
 * add does; the daemon checks the merged settings and changes nothing
 * when any is refused. */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

int
ipsecctl_cmd_modify (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (IpsecDbusConnection) conn = NULL;
  g_autoptr (GVariant) settings = NULL;
  g_autoptr (GVariant) reply = NULL;

  if (argc < 3)
    return ipsecctl_usage ("modify", _ ("NAME KEY=VALUE…"));
  settings = ipsecctl_parse_settings ("modify", NULL, argc - 2, argv + 2);
  if (settings == NULL)
    return IPSECCTL_EXIT_USAGE;
  g_variant_ref_sink (settings);
  objects = ipsecctl_objects (&error);
  if (objects == NULL || (conn = ipsecctl_connection (objects, argv[1], &error)) == NULL)
    return ipsecctl_fail (options, error);
  reply
      = ipsecctl_call (G_DBUS_PROXY (conn), "Update", g_variant_new ("(@a{sv})", settings), &error);
  if (reply == NULL)
    return ipsecctl_fail (options, error);
  if (options->json)
    g_print ("{\"path\":\"%s\"}\n", g_dbus_proxy_get_object_path (G_DBUS_PROXY (conn)));
  else
    g_print (_ ("%s modified\n"), argv[1]);
  return IPSECCTL_EXIT_OK;
}
