/* ipsecctl version: this program's version and, if it runs, the daemon's. */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

int
ipsecctl_cmd_version (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (IpsecDbusManager) manager = NULL;
  g_autofree char *owner = NULL;
  const char *daemon = NULL;

  if (argc > 1)
    {
      g_printerr (_ ("ipsecctl version: unexpected argument “%s”\n"), argv[1]);
      return IPSECCTL_EXIT_USAGE;
    }
  /* the client's version is useful even without a daemon */
  manager = ipsecctl_manager (NULL);
  if (manager != NULL)
    owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (manager));
  if (owner != NULL)
    daemon = ipsec_dbus_manager_get_version (manager);
  if (options->json)
    {
      /* no "daemon" key when none runs */
      g_autoptr (GString) out = g_string_new ("{\"client\":");

      ipsecctl_json_string (out, PACKAGE_VERSION);
      if (daemon != NULL)
        {
          g_string_append (out, ",\"daemon\":");
          ipsecctl_json_string (out, daemon);
        }
      g_print ("%s}\n", out->str);
    }
  else
    {
      g_print ("ipsecctl %s\n", PACKAGE_VERSION);
      g_print (_ ("ipsecd %s\n"), daemon != NULL ? daemon : _ ("(not running)"));
    }
  return IPSECCTL_EXIT_OK;
}
