/* ipsecctl reload: read the connection files again (as SIGHUP). */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

int
ipsecctl_cmd_reload (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IpsecDbusManager) manager = NULL;
  g_autoptr (GVariant) reply = NULL;

  if (argc != 1)
    return ipsecctl_usage ("reload", "");
  manager = ipsecctl_manager (&error);
  if (manager == NULL
      || (reply = ipsecctl_call (G_DBUS_PROXY (manager), "Reload", NULL, &error)) == NULL)
    return ipsecctl_fail (options, error);
  if (options->json)
    g_print ("{}\n");
  else
    g_print (_ ("reloaded\n"));
  return IPSECCTL_EXIT_OK;
}
