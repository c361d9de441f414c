/* ipsecctl show NAME: the connection's state and settings, and each of
 * its IKE SAs with identities, algorithms and Child SAs. */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static void
print_settings (IpsecDbusConnection *conn)
{
  GVariant *settings = ipsec_dbus_connection_get_settings (conn);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *key;

  if (settings == NULL)
    return;
  g_variant_iter_init (&iter, settings);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    g_ptr_array_add (keys, g_strdup (key));
  g_ptr_array_sort (keys, compare_strings);
  g_print (_ ("Settings:\n"));
  for (guint i = 0; i < keys->len; i++)
    {
      const char *value = "";

      g_variant_lookup (settings, keys->pdata[i], "&s", &value);
      g_print ("  %-20s %s\n", (char *) keys->pdata[i], value);
    }
}

/* The kernel's counters, when the daemon could read them. */
static void
print_counters (GVariant *child)
{
  guint64 bytes_in, bytes_out, packets_in, packets_out;
  g_autofree char *in = NULL, *out = NULL;

  if (!g_variant_lookup (child, "bytes-in", "t", &bytes_in)
      || !g_variant_lookup (child, "bytes-out", "t", &bytes_out)
      || !g_variant_lookup (child, "packets-in", "t", &packets_in)
      || !g_variant_lookup (child, "packets-out", "t", &packets_out))
    return;
  /* numbers first: a translation cannot carry G_GUINT64_FORMAT */
  in = g_strdup_printf ("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, bytes_in, packets_in);
  out = g_strdup_printf ("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, bytes_out, packets_out);
  g_print (_ ("      bytes/packets in %s, out %s\n"), in, out);
}

static void
print_child (GVariant *child)
{
  guint32 spi_in = 0, spi_out = 0;
  const char *esp = "?", *mode = "?";
  g_autofree const char **local = NULL;
  g_autofree const char **remote = NULL;
  g_autofree char *local_text = NULL, *remote_text = NULL;

  g_variant_lookup (child, "spi-in", "u", &spi_in);
  g_variant_lookup (child, "spi-out", "u", &spi_out);
  g_variant_lookup (child, "esp", "&s", &esp);
  g_variant_lookup (child, "mode", "&s", &mode);
  g_variant_lookup (child, "local-ts", "^a&s", &local);
  g_variant_lookup (child, "remote-ts", "^a&s", &remote);
  local_text = local != NULL ? g_strjoinv (", ", (char **) local) : g_strdup ("-");
  remote_text = remote != NULL ? g_strjoinv (", ", (char **) remote) : g_strdup ("-");
  g_print (_ ("    Child SA %08x/%08x %s %s\n      %s === %s\n"), spi_in, spi_out, mode, esp,
           local_text, remote_text);
  print_counters (child);
}

static void
print_sa (IpsecDbusSA *sa)
{
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (ipsec_dbus_sa_get_established (sa));
  g_autofree char *when_text = when != NULL ? g_date_time_format (when, "%F %T") : g_strdup ("?");
  GVariant *children = ipsec_dbus_sa_get_child_sas (sa);

  g_print (_ ("  IKE SA with %s port %u (%s), established %s\n"),
           ipsec_dbus_sa_get_peer_address (sa), ipsec_dbus_sa_get_peer_port (sa),
           ipsec_dbus_sa_get_initiator (sa) ? _ ("initiator") : _ ("responder"), when_text);
  g_print (_ ("    local %s (%s), remote %s (%s), %s\n"), ipsec_dbus_sa_get_local_identity (sa),
           ipsec_dbus_sa_get_local_auth (sa), ipsec_dbus_sa_get_remote_identity (sa),
           ipsec_dbus_sa_get_remote_auth (sa),
           ipsec_dbus_sa_get_authenticated (sa) ? _ ("authenticated") : _ ("anonymous"));
  g_print (_ ("    IKE %s\n"), ipsec_dbus_sa_get_ike_algorithms (sa));
  for (gsize i = 0; children != NULL && i < g_variant_n_children (children); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (children, i);

      print_child (child);
    }
}

static void
print_json (IpsecDbusConnection *conn, GList *sas)
{
  g_autoptr (GString) out = g_string_new ("{\"connection\":");

  ipsecctl_json_properties (out, G_DBUS_PROXY (conn));
  g_string_append (out, ",\"sas\":[");
  for (GList *l = sas; l != NULL; l = l->next)
    {
      if (l != sas)
        g_string_append_c (out, ',');
      ipsecctl_json_properties (out, G_DBUS_PROXY (l->data));
    }
  g_print ("%s]}\n", out->str);
}

static void
print_human (const IpsecctlOptions *options, IpsecDbusConnection *conn, GList *sas)
{
  g_autofree char *state = ipsecctl_state_text (options, ipsec_dbus_connection_get_state (conn));
  const char *last_error = ipsec_dbus_connection_get_last_error (conn);

  g_print (_ ("Connection %s: %s\n"), ipsec_dbus_connection_get_name (conn), state);
  if (last_error != NULL && last_error[0] != '\0')
    g_print (_ ("Last error: %s\n"), last_error);
  print_settings (conn);
  if (sas != NULL)
    g_print (_ ("SAs:\n"));
  for (GList *l = sas; l != NULL; l = l->next)
    print_sa (l->data);
}

int
ipsecctl_cmd_show (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (IpsecDbusConnection) conn = NULL;
  GList *sas;

  if (argc != 2)
    return ipsecctl_usage ("show", _ ("NAME"));
  objects = ipsecctl_objects (&error);
  if (objects == NULL || (conn = ipsecctl_connection (objects, argv[1], &error)) == NULL)
    return ipsecctl_fail (options, error);
  sas = ipsecctl_sas_of (objects, g_dbus_proxy_get_object_path (G_DBUS_PROXY (conn)));
  if (options->json)
    print_json (conn, sas);
  else
    print_human (options, conn, sas);
  g_list_free_full (sas, g_object_unref);
  return IPSECCTL_EXIT_OK;
}
