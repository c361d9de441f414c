#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

int
ipsecctl_cmd_version (const IpsecctlOptions *options, int argc, char **argv)
{
  if (argc > 1)
    {
      g_printerr (_ ("ipsecctl version: unexpected argument “%s”\n"), argv[1]);
      return IPSECCTL_EXIT_USAGE;
    }
  if (options->json)
    g_print ("{\"client\":\"%s\"}\n", PACKAGE_VERSION);
  else
    g_print ("ipsecctl %s\n", PACKAGE_VERSION);
  return IPSECCTL_EXIT_OK;
}
