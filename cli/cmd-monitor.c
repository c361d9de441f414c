/* ipsecctl monitor: one line per change the daemon announces, as it
 * happens — connections added and removed, state changes (with the last
 * error), settings changed, IKE SAs up and down, Child SAs installed and
 * gone, a peer's address moving.  Everything comes from the ObjectManager's
 * InterfacesAdded/Removed and PropertiesChanged; nothing is polled.
 * SIGINT and SIGTERM end it with 0; ipsecd leaving the bus with 7, as any
 * command that finds it not running. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ipsecctl.h"

typedef struct
{
  const IpsecctlOptions *options;
  GDBusObjectManager *objects;
  GMainLoop *loop;
  GHashTable *children; /* SA path → its ChildSAs as last seen */
  int status;
} Monitor;

/* ---- one line ---- */

/* JSON lines carry their event's fields as "key":value pairs already in
 * JSON; human lines the text.  Both get the time first. */
static void
emit (Monitor *m, const char *event, const char *json_fields, const char *text)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();

  if (m->options->json)
    {
      g_autofree char *stamp = g_date_time_format_iso8601 (now);

      g_print ("{\"time\":\"%s\",\"event\":\"%s\"%s%s}\n", stamp, event,
               json_fields[0] != '\0' ? "," : "", json_fields);
    }
  else
    {
      g_autofree char *stamp = g_date_time_format (now, "%F %T");

      g_print ("%s.%03d %s\n", stamp, g_date_time_get_microsecond (now) / 1000, text);
    }
  /* a pipe would hold the lines back otherwise */
  fflush (stdout);
}

static void
json_pair (GString *out, const char *key, GVariant *value)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (value);

  if (out->len > 0)
    g_string_append_c (out, ',');
  ipsecctl_json_string (out, key);
  g_string_append_c (out, ':');
  ipsecctl_json_value (out, owned);
}

/* A property not (yet) cached reads as NULL; lines show it empty. */
static const char *
or_empty (const char *text)
{
  return text != NULL ? text : "";
}

/* The name of the connection at PATH.  An OE instance's SA names a
 * connection with no object (docs/oe.md): its name is in the path. */
static const char *
connection_name (Monitor *m, const char *path)
{
  g_autoptr (GDBusObject) object = NULL;
  IpsecDbusConnection *conn = NULL;
  const char *slash = strrchr (path, '/');
  g_autofree char *unescaped = NULL;

  if (g_variant_is_object_path (path))
    object = g_dbus_object_manager_get_object (m->objects, path);
  if (object != NULL)
    conn = ipsec_dbus_object_peek_connection (IPSEC_DBUS_OBJECT (object));
  if (conn != NULL)
    return g_intern_string (or_empty (ipsec_dbus_connection_get_name (conn)));
  if (slash != NULL)
    unescaped = (char *) g_dbus_unescape_object_path (slash + 1);
  return g_intern_string (unescaped != NULL ? unescaped : path);
}

/* ---- connections ---- */

static void
connection_line (Monitor *m, IpsecDbusConnection *conn, const char *event)
{
  const char *name = or_empty (ipsec_dbus_connection_get_name (conn));
  const char *state = or_empty (ipsec_dbus_connection_get_state (conn));
  const char *why = or_empty (ipsec_dbus_connection_get_last_error (conn));
  g_autoptr (GString) json = g_string_new (NULL);
  g_autofree char *shown = ipsecctl_state_text (m->options, state);
  g_autofree char *text = NULL;

  json_pair (json, "connection", g_variant_new_string (name));
  if (g_str_equal (event, "connection-removed"))
    text = g_strdup_printf (_ ("connection %s removed"), name);
  else if (g_str_equal (event, "settings"))
    text = g_strdup_printf (_ ("connection %s: settings changed"), name);
  else
    {
      json_pair (json, "state", g_variant_new_string (state));
      json_pair (json, "last-error", g_variant_new_string (why));
      if (g_str_equal (event, "connection-added"))
        text = g_strdup_printf (_ ("connection %s added (%s)"), name, shown);
      else if (why[0] != '\0' && !g_str_equal (state, "up"))
        text = g_strdup_printf (_ ("connection %s: %s (%s)"), name, shown, why);
      else
        text = g_strdup_printf (_ ("connection %s: %s"), name, shown);
    }
  emit (m, event, json->str, text);
}

/* ---- SAs ---- */

static void
sa_line (Monitor *m, IpsecDbusSA *sa, const char *path, const char *event)
{
  const char *name = connection_name (m, or_empty (ipsec_dbus_sa_get_connection (sa)));
  const char *peer = or_empty (ipsec_dbus_sa_get_peer_address (sa));
  guint16 port = ipsec_dbus_sa_get_peer_port (sa);
  g_autoptr (GString) json = g_string_new (NULL);
  g_autofree char *text = NULL;

  json_pair (json, "connection", g_variant_new_string (name));
  json_pair (json, "sa", g_variant_new_string (path));
  json_pair (json, "peer", g_variant_new_string (peer));
  json_pair (json, "port", g_variant_new_uint16 (port));
  if (g_str_equal (event, "sa-up"))
    {
      const char *ike = or_empty (ipsec_dbus_sa_get_ike_algorithms (sa));
      const char *id = or_empty (ipsec_dbus_sa_get_remote_identity (sa));

      json_pair (json, "ike", g_variant_new_string (ike));
      json_pair (json, "initiator", g_variant_new_boolean (ipsec_dbus_sa_get_initiator (sa)));
      json_pair (json, "remote-identity", g_variant_new_string (id));
      json_pair (json, "authenticated",
                 g_variant_new_boolean (ipsec_dbus_sa_get_authenticated (sa)));
      text = g_strdup_printf (_ ("%s: IKE SA up with %s port %u (%s), %s, %s"), name, peer, port,
                              id, ike,
                              ipsec_dbus_sa_get_initiator (sa) ? _ ("initiator") : _ ("responder"));
    }
  else if (g_str_equal (event, "sa-moved"))
    text = g_strdup_printf (_ ("%s: IKE SA moved to %s port %u"), name, peer, port);
  else
    text = g_strdup_printf (_ ("%s: IKE SA with %s port %u down"), name, peer, port);
  emit (m, event, json->str, text);
}

static gboolean
has_child (GVariant *children, guint32 spi_in)
{
  for (gsize i = 0; children != NULL && i < g_variant_n_children (children); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (children, i);
      guint32 spi = 0;

      if (g_variant_lookup (child, "spi-in", "u", &spi) && spi == spi_in)
        return TRUE;
    }
  return FALSE;
}

static void
child_line (Monitor *m, IpsecDbusSA *sa, const char *path, GVariant *child, gboolean up)
{
  const char *name = connection_name (m, or_empty (ipsec_dbus_sa_get_connection (sa)));
  guint32 spi_in = 0, spi_out = 0;
  const char *esp = "", *mode = "";
  g_autoptr (GString) json = g_string_new (NULL);
  g_autofree char *text = NULL;

  g_variant_lookup (child, "spi-in", "u", &spi_in);
  g_variant_lookup (child, "spi-out", "u", &spi_out);
  g_variant_lookup (child, "esp", "&s", &esp);
  g_variant_lookup (child, "mode", "&s", &mode);
  json_pair (json, "connection", g_variant_new_string (name));
  json_pair (json, "sa", g_variant_new_string (path));
  json_pair (json, "child", g_variant_ref (child));
  if (up)
    text = g_strdup_printf (_ ("%s: Child SA %08x/%08x up, %s %s"), name, spi_in, spi_out, mode,
                            esp);
  else
    text = g_strdup_printf (_ ("%s: Child SA %08x/%08x down"), name, spi_in, spi_out);
  emit (m, up ? "child-up" : "child-down", json->str, text);
}

/* ChildSAs changed: a line for each Child SA that came or went. */
static void
children_changed (Monitor *m, IpsecDbusSA *sa, const char *path)
{
  GVariant *now = ipsec_dbus_sa_get_child_sas (sa);
  GVariant *before = g_hash_table_lookup (m->children, path);
  guint32 spi;

  for (gsize i = 0; before != NULL && i < g_variant_n_children (before); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (before, i);

      if (g_variant_lookup (child, "spi-in", "u", &spi) && !has_child (now, spi))
        child_line (m, sa, path, child, FALSE);
    }
  for (gsize i = 0; now != NULL && i < g_variant_n_children (now); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (now, i);

      if (g_variant_lookup (child, "spi-in", "u", &spi) && !has_child (before, spi))
        child_line (m, sa, path, child, TRUE);
    }
  if (now != NULL)
    g_hash_table_insert (m->children, g_strdup (path), g_variant_ref (now));
  else
    g_hash_table_remove (m->children, path);
}

/* ---- the object manager's signals ---- */

static gboolean
daemon_gone (Monitor *m)
{
  g_autofree char *owner
      = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (m->objects));

  return owner == NULL;
}

static void
on_object (GDBusObjectManager *objects, GDBusObject *object, Monitor *m, gboolean added)
{
  IpsecDbusConnection *conn = ipsec_dbus_object_peek_connection (IPSEC_DBUS_OBJECT (object));
  IpsecDbusSA *sa = ipsec_dbus_object_peek_sa (IPSEC_DBUS_OBJECT (object));
  const char *path = g_dbus_object_get_object_path (object);

  /* when ipsecd goes, every object goes with it: one line says so */
  if (daemon_gone (m))
    return;
  if (conn != NULL)
    connection_line (m, conn, added ? "connection-added" : "connection-removed");
  if (sa != NULL)
    {
      sa_line (m, sa, path, added ? "sa-up" : "sa-down");
      if (added)
        children_changed (m, sa, path);
      else
        g_hash_table_remove (m->children, path);
    }
}

static void
on_added (GDBusObjectManager *objects, GDBusObject *object, gpointer user_data)
{
  on_object (objects, object, user_data, TRUE);
}

static void
on_removed (GDBusObjectManager *objects, GDBusObject *object, gpointer user_data)
{
  on_object (objects, object, user_data, FALSE);
}

static gboolean
changed (GVariant *properties, const char *name)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (properties, name, NULL);

  return value != NULL;
}

static void
on_properties (GDBusObjectManagerClient *objects, GDBusObjectProxy *object, GDBusProxy *iface,
               GVariant *properties, const char *const *invalidated, gpointer user_data)
{
  Monitor *m = user_data;
  const char *path = g_dbus_object_get_object_path (G_DBUS_OBJECT (object));

  if (IPSEC_DBUS_IS_CONNECTION (iface))
    {
      /* State and LastError change together; one line has both */
      if (changed (properties, "State") || changed (properties, "LastError"))
        connection_line (m, IPSEC_DBUS_CONNECTION (iface), "state");
      if (changed (properties, "Settings"))
        connection_line (m, IPSEC_DBUS_CONNECTION (iface), "settings");
    }
  else if (IPSEC_DBUS_IS_SA (iface))
    {
      if (changed (properties, "PeerAddress") || changed (properties, "PeerPort"))
        sa_line (m, IPSEC_DBUS_SA (iface), path, "sa-moved");
      if (changed (properties, "ChildSAs"))
        children_changed (m, IPSEC_DBUS_SA (iface), path);
    }
}

static void
on_owner (GObject *objects, GParamSpec *pspec, gpointer user_data)
{
  Monitor *m = user_data;

  if (!daemon_gone (m))
    return;
  emit (m, "daemon-gone", "", _ ("ipsecd left the bus"));
  m->status = IPSECCTL_EXIT_NO_DAEMON;
  g_main_loop_quit (m->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  Monitor *m = user_data;

  m->status = IPSECCTL_EXIT_OK;
  g_main_loop_quit (m->loop);
  return G_SOURCE_CONTINUE;
}

/* The first line: what is being watched; once it is out, every later
 * change is reported (the signals are subscribed before the objects are
 * read), which lets scripts wait for it. */
static void
watching (Monitor *m)
{
  GList *all = g_dbus_object_manager_get_objects (m->objects);
  guint conns = 0, sas = 0;
  g_autoptr (GString) json = g_string_new (NULL);
  g_autofree char *text = NULL;

  for (GList *l = all; l != NULL; l = l->next)
    {
      IpsecDbusSA *sa = ipsec_dbus_object_peek_sa (l->data);

      conns += ipsec_dbus_object_peek_connection (l->data) != NULL;
      sas += sa != NULL;
      if (sa != NULL && ipsec_dbus_sa_get_child_sas (sa) != NULL)
        g_hash_table_insert (m->children, g_strdup (g_dbus_object_get_object_path (l->data)),
                             g_variant_ref (ipsec_dbus_sa_get_child_sas (sa)));
    }
  g_list_free_full (all, g_object_unref);
  json_pair (json, "connections", g_variant_new_uint32 (conns));
  json_pair (json, "sas", g_variant_new_uint32 (sas));
  text = g_strdup_printf (_ ("watching ipsecd: %u connections, %u IKE SAs"), conns, sas);
  emit (m, "watching", json->str, text);
}

int
ipsecctl_cmd_monitor (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GHashTable) children = NULL;
  Monitor m = { options };
  guint sigint, sigterm;

  if (argc > 1)
    return ipsecctl_usage ("monitor", "");
  objects = ipsecctl_objects (&error);
  if (objects == NULL)
    return ipsecctl_fail (options, error);
  loop = g_main_loop_new (NULL, FALSE);
  children
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
  m.objects = objects;
  m.loop = loop;
  m.children = children;
  g_signal_connect (objects, "object-added", G_CALLBACK (on_added), &m);
  g_signal_connect (objects, "object-removed", G_CALLBACK (on_removed), &m);
  g_signal_connect (objects, "interface-proxy-properties-changed", G_CALLBACK (on_properties), &m);
  g_signal_connect (objects, "notify::name-owner", G_CALLBACK (on_owner), &m);
  sigint = g_unix_signal_add (SIGINT, on_signal, &m);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &m);
  watching (&m);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handlers_disconnect_by_data (objects, &m);
  return m.status;
}
