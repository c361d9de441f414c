/* ipsecctl down NAME: delete the connection's IKE SAs. */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

int
ipsecctl_cmd_down (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (IpsecDbusConnection) conn = NULL;
  g_autoptr (GVariant) reply = NULL;

  if (argc != 2)
    return ipsecctl_usage ("down", _ ("NAME"));
  objects = ipsecctl_objects (&error);
  if (objects == NULL || (conn = ipsecctl_connection (objects, argv[1], &error)) == NULL
      || (reply = ipsecctl_call (G_DBUS_PROXY (conn), "Down", NULL, &error)) == NULL)
    return ipsecctl_fail (options, error);
  if (options->json)
    g_print ("{}\n");
  else
    g_print (_ ("%s: going down\n"), argv[1]);
  return IPSECCTL_EXIT_OK;
}
