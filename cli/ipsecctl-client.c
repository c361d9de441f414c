/* What the commands share: reaching the daemon through the generated
 * proxies, calls that may need polkit, errors, JSON and colour. */
#include "config.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ipsec-error.h"
#include "ipsec-names.h"
#include "ipsecctl.h"

/* ---- the daemon ---- */

GDBusObjectManager *
ipsecctl_objects (GError **error)
{
  g_autoptr (GDBusObjectManager) objects = ipsec_dbus_object_manager_client_new_for_bus_sync (
      G_BUS_TYPE_SYSTEM, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, IPSEC_BUS_NAME,
      IPSEC_OBJECT_ROOT, NULL, error);
  g_autofree char *owner = NULL;

  if (objects == NULL)
    return NULL;
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (objects));
  if (owner == NULL)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                   _ ("ipsecd is not running (nobody owns %s on the system bus)"), IPSEC_BUS_NAME);
      return NULL;
    }
  return g_steal_pointer (&objects);
}

static gboolean
owned (GDBusProxy *proxy, GError **error)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (proxy);

  if (owner != NULL)
    return TRUE;
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
               _ ("ipsecd is not running (nobody owns %s on the system bus)"), IPSEC_BUS_NAME);
  return FALSE;
}

IpsecDbusManager *
ipsecctl_manager (GError **error)
{
  g_autoptr (IpsecDbusManager) manager = ipsec_dbus_manager_proxy_new_for_bus_sync (
      G_BUS_TYPE_SYSTEM, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, IPSEC_BUS_NAME, IPSEC_OBJECT_ROOT,
      NULL, error);

  /* a call through a proxy without an owner fails with a plain G_IO_ERROR */
  if (manager == NULL || !owned (G_DBUS_PROXY (manager), error))
    return NULL;
  return g_steal_pointer (&manager);
}

IpsecDbusConnection *
ipsecctl_connection (GDBusObjectManager *objects, const char *name, GError **error)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);
  g_autofree char *path = g_strconcat (IPSEC_OBJECT_ROOT "/Connection/", escaped, NULL);
  g_autoptr (GDBusObject) object = g_dbus_object_manager_get_object (objects, path);
  IpsecDbusConnection *conn
      = object != NULL ? ipsec_dbus_object_get_connection (IPSEC_DBUS_OBJECT (object)) : NULL;

  if (conn == NULL)
    g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_NOT_FOUND, _ ("no connection “%s”"), name);
  return conn;
}

GList *
ipsecctl_sas_of (GDBusObjectManager *objects, const char *path)
{
  GList *all = g_dbus_object_manager_get_objects (objects);
  GList *sas = NULL;

  for (GList *l = all; l != NULL; l = l->next)
    {
      IpsecDbusSA *sa = ipsec_dbus_object_get_sa (l->data);

      if (sa != NULL && g_strcmp0 (ipsec_dbus_sa_get_connection (sa), path) == 0)
        sas = g_list_append (sas, sa);
      else if (sa != NULL)
        g_object_unref (sa);
    }
  g_list_free_full (all, g_object_unref);
  return sas;
}

/* ---- the daemon's objects in one call ---- */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  const IpsecctlObject *x = a, *y = b;

  return g_strcmp0 (ipsecctl_object_name (x), ipsecctl_object_name (y));
}

/* SA paths end in a handle counted up from 1: a shorter one is older */
static int
compare_paths (gconstpointer a, gconstpointer b)
{
  const IpsecctlObject *x = a, *y = b;
  size_t lx = strlen (x->path), ly = strlen (y->path);

  return lx != ly ? (lx < ly ? -1 : 1) : strcmp (x->path, y->path);
}

static void
clear_object (gpointer data)
{
  IpsecctlObject *object = data;

  g_variant_unref (object->properties);
  g_clear_pointer (&object->name, g_variant_unref);
}

const char *
ipsecctl_object_name (const IpsecctlObject *object)
{
  return object->name != NULL ? g_variant_get_string (object->name, NULL) : "?";
}

void
ipsecctl_objects_free (IpsecctlObjects *objects)
{
  g_clear_pointer (&objects->connections, g_array_unref);
  g_clear_pointer (&objects->sas, g_array_unref);
  g_clear_pointer (&objects->reply, g_variant_unref);
  g_free (objects);
}

/* The reply of a call to ipsecd at its root; ServiceUnknown with the same
 * message as the proxies give when nobody owns the name. */
static GVariant *
call_daemon (const char *interface, const char *method, GVariant *args, const char *type,
             GError **error)
{
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  g_autoptr (GError) local = NULL;
  GVariant *reply;

  if (bus == NULL)
    return NULL;
  reply = g_dbus_connection_call_sync (bus, IPSEC_BUS_NAME, IPSEC_OBJECT_ROOT, interface, method,
                                       args, G_VARIANT_TYPE (type), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       -1, NULL, &local);
  if (reply != NULL)
    return reply;
  if (g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
      || g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                 _ ("ipsecd is not running (nobody owns %s on the system bus)"), IPSEC_BUS_NAME);
  else
    g_propagate_error (error, g_steal_pointer (&local));
  return NULL;
}

IpsecctlObjects *
ipsecctl_objects_get (GError **error)
{
  g_autoptr (IpsecctlObjects) objects = g_new0 (IpsecctlObjects, 1);
  g_autoptr (GVariant) all = NULL;

  objects->reply = call_daemon ("org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
                                "(a{oa{sa{sv}}})", error);
  if (objects->reply == NULL)
    return NULL;
  objects->connections = g_array_new (FALSE, FALSE, sizeof (IpsecctlObject));
  objects->sas = g_array_new (FALSE, FALSE, sizeof (IpsecctlObject));
  g_array_set_clear_func (objects->connections, clear_object);
  g_array_set_clear_func (objects->sas, clear_object);
  all = g_variant_get_child_value (objects->reply, 0);
  /* no "&" format strings on the reply: they make GLib serialise again
   * what GDBus has just built (≈ 10 ms with 1,000 objects); the path
   * strings stay in the reply, which owns its children */
  for (gsize i = 0, n = g_variant_n_children (all); i < n; i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (all, i);
      g_autoptr (GVariant) path = g_variant_get_child_value (entry, 0);
      g_autoptr (GVariant) interfaces = g_variant_get_child_value (entry, 1);
      IpsecctlObject object = { g_variant_get_string (path, NULL), NULL, NULL };

      if ((object.properties = g_variant_lookup_value (interfaces, IPSEC_IFACE_CONNECTION, NULL)))
        {
          object.name = g_variant_lookup_value (object.properties, "Name", G_VARIANT_TYPE_STRING);
          g_array_append_val (objects->connections, object);
        }
      else if ((object.properties = g_variant_lookup_value (interfaces, IPSEC_IFACE_SA, NULL)))
        g_array_append_val (objects->sas, object);
    }
  g_array_sort (objects->connections, compare_names);
  g_array_sort (objects->sas, compare_paths);
  return g_steal_pointer (&objects);
}

const IpsecctlObject *
ipsecctl_objects_connection (IpsecctlObjects *objects, const char *name, GError **error)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);
  g_autofree char *path = g_strconcat (IPSEC_OBJECT_ROOT "/Connection/", escaped, NULL);

  for (guint i = 0; i < objects->connections->len; i++)
    {
      const IpsecctlObject *conn = &g_array_index (objects->connections, IpsecctlObject, i);

      if (g_str_equal (conn->path, path))
        return conn;
    }
  g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_NOT_FOUND, _ ("no connection “%s”"), name);
  return NULL;
}

GVariant *
ipsecctl_call_manager (const char *method, const char *type, GError **error)
{
  return call_daemon (IPSEC_IFACE_MANAGER, method, NULL, type, error);
}

GVariant *
ipsecctl_manager_properties (GError **error)
{
  g_autoptr (GVariant) reply
      = call_daemon ("org.freedesktop.DBus.Properties", "GetAll",
                     g_variant_new ("(s)", IPSEC_IFACE_MANAGER), "(a{sv})", error);

  return reply != NULL ? g_variant_get_child_value (reply, 0) : NULL;
}

const char *
ipsecctl_property_string (GVariant *properties, const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (properties, key, "&s", &value))
    return "?";
  return value;
}

guint64
ipsecctl_property_number (GVariant *properties, const char *key)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (properties, key, NULL);

  if (value == NULL)
    return 0;
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      return g_variant_get_boolean (value);
    case G_VARIANT_CLASS_UINT16:
      return g_variant_get_uint16 (value);
    case G_VARIANT_CLASS_UINT32:
      return g_variant_get_uint32 (value);
    case G_VARIANT_CLASS_INT64:
      return (guint64) g_variant_get_int64 (value);
    case G_VARIANT_CLASS_UINT64:
      return g_variant_get_uint64 (value);
    default:
      return 0;
    }
}

/* ---- calls that may need polkit ---- */

/* pkttyagent for this process; its pid, or 0.  It says on NOTIFY_FD when
 * it is registered, so the retry cannot overtake it. */
static GPid
start_agent (void)
{
  g_autofree char *agent = g_find_program_in_path ("pkttyagent");
  g_autofree char *pid = g_strdup_printf ("%d", getpid ());
  int fds[2];
  GPid child = 0;
  char byte;

  if (agent == NULL || !isatty (STDIN_FILENO) || pipe (fds) != 0)
    return 0;
  {
    g_autofree char *fd = g_strdup_printf ("%d", fds[1]);
    const char *argv[] = { agent, "--process", pid, "--notify-fd", fd, "--fallback", NULL };

    if (!g_spawn_async (NULL, (char **) argv, NULL,
                        G_SPAWN_LEAVE_DESCRIPTORS_OPEN | G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                        &child, NULL))
      child = 0;
  }
  close (fds[1]);
  if (child != 0 && read (fds[0], &byte, 1) < 0)
    child = 0;
  close (fds[0]);
  return child;
}

GVariant *
ipsecctl_call (GDBusProxy *proxy, const char *method, GVariant *args, GError **error)
{
  g_autoptr (GVariant) owned = args != NULL ? g_variant_ref_sink (args) : NULL;
  g_autoptr (GError) denied = NULL;
  GVariant *reply;
  GPid agent;

  reply = g_dbus_proxy_call_sync (proxy, method, owned, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &denied);
  if (reply != NULL || !g_error_matches (denied, IPSEC_ERROR, IPSEC_ERROR_CAN_OBTAIN))
    {
      if (denied != NULL)
        g_propagate_error (error, g_steal_pointer (&denied));
      return reply;
    }
  agent = start_agent ();
  if (agent == 0)
    {
      g_propagate_error (error, g_steal_pointer (&denied));
      return NULL;
    }
  reply = g_dbus_proxy_call_sync (
      proxy, method, owned, G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1, NULL, error);
  kill (agent, SIGTERM);
  g_spawn_close_pid (agent);
  return reply;
}

/* ---- errors ---- */

static int
exit_code (const GError *error)
{
  if (error->domain == IPSEC_ERROR)
    switch (error->code)
      {
      case IPSEC_ERROR_NOT_FOUND:
        return IPSECCTL_EXIT_NOT_FOUND;
      case IPSEC_ERROR_NOT_AUTHORIZED:
      case IPSEC_ERROR_CAN_OBTAIN:
        return IPSECCTL_EXIT_NOT_AUTHORIZED;
      case IPSEC_ERROR_INVALID_SETTING:
      case IPSEC_ERROR_EXISTS:
        return IPSECCTL_EXIT_INVALID;
      default:
        return IPSECCTL_EXIT_FAILURE;
      }
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return IPSECCTL_EXIT_NO_DAEMON;
  return IPSECCTL_EXIT_FAILURE;
}

int
ipsecctl_fail (const IpsecctlOptions *options, const GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);
  g_autoptr (GError) copy = g_error_copy (error);
  const char *message = copy->message;

  if (name == NULL)
    name = g_dbus_error_encode_gerror (error);
  g_dbus_error_strip_remote_error (copy);
  message = copy->message;
  if (options->json)
    {
      g_autoptr (GString) out = g_string_new ("{\"error\":{\"name\":");

      ipsecctl_json_string (out, name);
      g_string_append (out, ",\"message\":");
      ipsecctl_json_string (out, message);
      g_print ("%s}}\n", out->str);
    }
  else
    g_printerr ("ipsecctl: %s\n", message);
  return exit_code (error);
}

int
ipsecctl_usage (const char *command, const char *usage)
{
  g_printerr (_ ("Usage: ipsecctl %s %s\n"), command, usage);
  return IPSECCTL_EXIT_USAGE;
}

/* ---- settings on the command line ---- */

/* One line of standard input, without echo on a terminal; NULL when there
 * is none (an empty PSK would read as "remove the key" in modify). */
static char *
read_secret (void)
{
  char line[4096];
  struct termios saved, quiet;
  gboolean tty = isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0;
  char *secret = NULL;

  if (tty)
    {
      /* echo off before the prompt: what is typed after it is never shown */
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
      g_printerr (_ ("Pre-shared key: "));
    }
  if (fgets (line, sizeof line, stdin) != NULL)
    {
      line[strcspn (line, "\r\n")] = '\0';
      if (line[0] != '\0')
        secret = g_strdup (line);
    }
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      g_printerr ("\n");
    }
  explicit_bzero (line, sizeof line);
  return secret;
}

GVariant *
ipsecctl_parse_settings (const char *command, const char *name, int argc, char **argv)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (name != NULL)
    g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string (name));
  for (int i = 0; i < argc; i++)
    {
      const char *eq = strchr (argv[i], '=');
      g_autofree char *key = eq != NULL ? g_strndup (argv[i], eq - argv[i]) : NULL;
      g_autofree char *value = NULL;

      if (eq == NULL || eq == argv[i])
        {
          g_printerr (_ ("ipsecctl %s: “%s” is not KEY=VALUE\n"), command, argv[i]);
          return NULL;
        }
      if (!g_hash_table_add (seen, g_strdup (key)) || (name != NULL && g_str_equal (key, "name")))
        {
          g_printerr (_ ("ipsecctl %s: key “%s” given twice\n"), command, key);
          return NULL;
        }
      value = g_str_equal (key, "psk") && g_str_equal (eq + 1, "-") ? read_secret ()
                                                                    : g_strdup (eq + 1);
      if (value == NULL)
        {
          g_printerr (_ ("ipsecctl %s: psk=- but no key on standard input\n"), command);
          return NULL;
        }
      g_variant_builder_add (&builder, "{sv}", key, g_variant_new_string (value));
    }
  return g_variant_builder_end (&builder);
}

/* ---- JSON ---- */

void
ipsecctl_json_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

static void
json_container (GString *out, GVariant *value)
{
  gboolean dict = g_variant_is_of_type (value, G_VARIANT_TYPE ("a{?*}"));
  gsize n = g_variant_n_children (value);

  g_string_append_c (out, dict ? '{' : '[');
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (value, i);

      if (i > 0)
        g_string_append_c (out, ',');
      if (dict)
        {
          g_autoptr (GVariant) key = g_variant_get_child_value (child, 0);
          g_autoptr (GVariant) val = g_variant_get_child_value (child, 1);
          g_autofree char *key_text = g_variant_is_of_type (key, G_VARIANT_TYPE_STRING)
                                          ? g_variant_dup_string (key, NULL)
                                          : g_variant_print (key, FALSE);

          ipsecctl_json_string (out, key_text);
          g_string_append_c (out, ':');
          ipsecctl_json_value (out, val);
        }
      else
        ipsecctl_json_value (out, child);
    }
  g_string_append_c (out, dict ? '}' : ']');
}

void
ipsecctl_json_value (GString *out, GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);

      ipsecctl_json_value (out, inner);
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
           || g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH))
    ipsecctl_json_string (out, g_variant_get_string (value, NULL));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
  else if (g_variant_is_container (value))
    json_container (out, value);
  else
    {
      /* numbers print as JSON numbers */
      g_autofree char *text = g_variant_print (value, FALSE);

      g_string_append (out, text);
    }
}

void
ipsecctl_json_properties (GString *out, GDBusProxy *proxy)
{
  g_auto (GStrv) names = g_dbus_proxy_get_cached_property_names (proxy);

  g_string_append_c (out, '{');
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr (GVariant) value = g_dbus_proxy_get_cached_property (proxy, names[i]);

      if (i > 0)
        g_string_append_c (out, ',');
      ipsecctl_json_string (out, names[i]);
      g_string_append_c (out, ':');
      ipsecctl_json_value (out, value);
    }
  g_string_append_c (out, '}');
}

typedef struct
{
  const char *key;
  GVariant *value;
} JsonEntry;

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  return strcmp (((const JsonEntry *) a)->key, ((const JsonEntry *) b)->key);
}

void
ipsecctl_json_dict (GString *out, GVariant *properties)
{
  gsize n = g_variant_n_children (properties);
  g_autofree JsonEntry *entries = g_new (JsonEntry, n);

  for (gsize i = 0; i < n; i++)
    g_variant_get_child (properties, i, "{&sv}", &entries[i].key, &entries[i].value);
  /* the same order as ipsecctl_json_properties, so --json stays stable */
  qsort (entries, n, sizeof *entries, compare_entries);
  g_string_append_c (out, '{');
  for (gsize i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      ipsecctl_json_string (out, entries[i].key);
      g_string_append_c (out, ':');
      ipsecctl_json_value (out, entries[i].value);
      g_variant_unref (entries[i].value);
    }
  g_string_append_c (out, '}');
}

/* ---- colour ---- */

char *
ipsecctl_state_text (const IpsecctlOptions *options, const char *state)
{
  const char *color = g_str_equal (state, "up")           ? "32"
                      : g_str_equal (state, "failed")     ? "31"
                      : g_str_equal (state, "connecting") ? "33"
                                                          : NULL;

  if (!options->color || color == NULL)
    return g_strdup (state);
  return g_strdup_printf ("\033[%sm%s\033[0m", color, state);
}
