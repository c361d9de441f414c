/* ipsecctl delete NAME: delete the SAs, the connection and its PSK. */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

int
ipsecctl_cmd_delete (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (IpsecDbusConnection) conn = NULL;
  g_autoptr (GVariant) reply = NULL;

  if (argc != 2)
    return ipsecctl_usage ("delete", _ ("NAME"));
  objects = ipsecctl_objects (&error);
  if (objects == NULL || (conn = ipsecctl_connection (objects, argv[1], &error)) == NULL
      || (reply = ipsecctl_call (G_DBUS_PROXY (conn), "Delete", NULL, &error)) == NULL)
    return ipsecctl_fail (options, error);
  if (options->json)
    g_print ("{}\n");
  else
    g_print (_ ("%s deleted\n"), argv[1]);
  return IPSECCTL_EXIT_OK;
}
