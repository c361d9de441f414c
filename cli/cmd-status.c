/* ipsecctl status: the daemon (version, kernel support, counters), then
 * its connections as "list" shows them. */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

static void
print_json (const IpsecctlOptions *options, GVariant *manager, GVariant *conns)
{
  g_autoptr (GString) out = g_string_new ("{\"daemon\":");

  ipsecctl_json_dict (out, manager);
  g_print ("%s,\"connections\":", out->str);
  ipsecctl_print_connections (options, conns);
  /* the connections line ended with a newline; close the object after it */
  g_print ("}\n");
}

int
ipsecctl_cmd_status (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) conns = NULL;
  g_autoptr (GVariant) manager = NULL;
  g_autofree char *established = NULL;
  g_autofree char *failed = NULL;

  if (argc > 1)
    return ipsecctl_usage ("status", "");
  conns = ipsecctl_list_connections (&error);
  if (conns == NULL || (manager = ipsecctl_manager_properties (&error)) == NULL)
    return ipsecctl_fail (options, error);
  if (options->json)
    {
      print_json (options, manager, conns);
      return IPSECCTL_EXIT_OK;
    }
  g_print (_ ("ipsecd %s, kernel support: %s\n"), ipsecctl_property_string (manager, "Version"),
           ipsecctl_property_string (manager, "KernelSupport"));
  /* numbers first: a G_GUINT64_FORMAT inside _() hides the string from xgettext */
  established = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                 ipsecctl_property_number (manager, "EstablishedTotal"));
  failed
      = g_strdup_printf ("%" G_GUINT64_FORMAT, ipsecctl_property_number (manager, "FailedTotal"));
  g_print (_ ("%u connections, %u IKE SAs up (%s established, %s failed since start)\n\n"),
           (guint) ipsecctl_property_number (manager, "ConnectionCount"),
           (guint) ipsecctl_property_number (manager, "SACount"), established, failed);
  ipsecctl_print_connections (options, conns);
  return IPSECCTL_EXIT_OK;
}
