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
print_settings (GVariant *conn)
{
  g_autoptr (GVariant) settings = g_variant_lookup_value (conn, "Settings", G_VARIANT_TYPE_VARDICT);
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
print_sa (GVariant *sa)
{
  g_autoptr (GDateTime) when
      = g_date_time_new_from_unix_local ((gint64) ipsecctl_property_number (sa, "Established"));
  g_autofree char *when_text = when != NULL ? g_date_time_format (when, "%F %T") : g_strdup ("?");
  g_autoptr (GVariant) children
      = g_variant_lookup_value (sa, "ChildSAs", G_VARIANT_TYPE ("aa{sv}"));

  g_print (_ ("  IKE SA with %s port %u (%s), established %s\n"),
           ipsecctl_property_string (sa, "PeerAddress"),
           (guint) ipsecctl_property_number (sa, "PeerPort"),
           ipsecctl_property_number (sa, "Initiator") ? _ ("initiator") : _ ("responder"),
           when_text);
  g_print (
      _ ("    local %s (%s), remote %s (%s), %s\n"), ipsecctl_property_string (sa, "LocalIdentity"),
      ipsecctl_property_string (sa, "LocalAuth"), ipsecctl_property_string (sa, "RemoteIdentity"),
      ipsecctl_property_string (sa, "RemoteAuth"),
      ipsecctl_property_number (sa, "Authenticated") ? _ ("authenticated") : _ ("anonymous"));
  g_print (_ ("    IKE %s\n"), ipsecctl_property_string (sa, "IkeAlgorithms"));
  for (gsize i = 0; children != NULL && i < g_variant_n_children (children); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (children, i);

      print_child (child);
    }
}

static void
print_json (GVariant *conn, GPtrArray *sas)
{
  g_autoptr (GString) out = g_string_new ("{\"connection\":");

  ipsecctl_json_dict (out, conn);
  g_string_append (out, ",\"sas\":[");
  for (guint i = 0; i < sas->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      ipsecctl_json_dict (out, sas->pdata[i]);
    }
  g_print ("%s]}\n", out->str);
}

static void
print_human (const IpsecctlOptions *options, GVariant *conn, GPtrArray *sas)
{
  g_autofree char *state = ipsecctl_state_text (options, ipsecctl_property_string (conn, "State"));
  const char *last_error = NULL;

  g_print (_ ("Connection %s: %s\n"), ipsecctl_property_string (conn, "Name"), state);
  if (g_variant_lookup (conn, "LastError", "&s", &last_error) && last_error[0] != '\0')
    g_print (_ ("Last error: %s\n"), last_error);
  print_settings (conn);
  if (sas->len > 0)
    g_print (_ ("SAs:\n"));
  for (guint i = 0; i < sas->len; i++)
    print_sa (sas->pdata[i]);
}

/* The properties of the SAs of the connection at PATH (borrowed). */
static GPtrArray *
sas_of (IpsecctlObjects *objects, const char *path)
{
  GPtrArray *sas = g_ptr_array_new ();

  for (guint i = 0; i < objects->sas->len; i++)
    {
      GVariant *sa = g_array_index (objects->sas, IpsecctlObject, i).properties;
      const char *conn = NULL;

      if (g_variant_lookup (sa, "Connection", "&o", &conn) && g_str_equal (conn, path))
        g_ptr_array_add (sas, sa);
    }
  return sas;
}

int
ipsecctl_cmd_show (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IpsecctlObjects) objects = NULL;
  g_autoptr (GPtrArray) sas = NULL;
  const IpsecctlObject *conn = NULL;

  if (argc != 2)
    return ipsecctl_usage ("show", _ ("NAME"));
  objects = ipsecctl_objects_get (&error);
  if (objects == NULL || (conn = ipsecctl_objects_connection (objects, argv[1], &error)) == NULL)
    return ipsecctl_fail (options, error);
  sas = sas_of (objects, conn->path);
  if (options->json)
    print_json (conn->properties, sas);
  else
    print_human (options, conn->properties, sas);
  return IPSECCTL_EXIT_OK;
}
