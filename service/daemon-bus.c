/* The daemon as org.libreswan.IPsec: what the bus module (service/bus/)
 * exports is kept in step with the connections and the engine's events,
 * and its authorized calls become the same actions as SIGHUP and
 * auto=start.  With --bus=none every function here does nothing. */
#include "config.h"

#include "daemon-private.h"

#include <arpa/inet.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ipsec-error.h"
#include "net-socket.h"

/* ---- errors for the caller ---- */

/* Store errors as the bus's typed ones; a secret's problem names "psk".
 * The caller gave no file, so the file's path is left out. */
static void
to_bus_error (GError **error, GError *store_error, const char *path)
{
  g_autofree char *prefix = g_strconcat (path, ": ", NULL);

  if (g_str_has_prefix (store_error->message, prefix))
    memmove (store_error->message, store_error->message + strlen (prefix),
             strlen (store_error->message) - strlen (prefix) + 1);
  if (store_error->domain == STORE_ERROR && store_error->code == STORE_ERROR_INVALID)
    g_set_error_literal (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING, store_error->message);
  else if (store_error->domain == STORE_ERROR && store_error->code == STORE_ERROR_SECRET)
    g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING, _ ("key “psk”: %s"),
                 store_error->message);
  else
    g_set_error_literal (error, IPSEC_ERROR, IPSEC_ERROR_FAILED, store_error->message);
  g_error_free (store_error);
}

static StoreConnection *
find (IpsecdDaemon *daemon, const char *name, GError **error)
{
  StoreConnection *conn = store_find (daemon->connections, name);

  if (conn == NULL)
    g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_NOT_FOUND, _ ("no connection “%s”"), name);
  return conn;
}

/* Is an established IKE SA of NAME left besides HANDLE (0: any)? */
static gboolean
other_sa_up (IpsecdDaemon *daemon, const char *name, IkeSaHandle handle)
{
  GHashTableIter iter;
  IpsecdSa *sa;

  g_hash_table_iter_init (&iter, daemon->sas);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &sa))
    if (sa->handle != handle && sa->up && g_strcmp0 (sa->name, name) == 0)
      return TRUE;
  return FALSE;
}

/* ---- the handlers of authorized calls ---- */

static char *
on_add (gpointer user_data, GVariant *settings, GError **error)
{
  IpsecdDaemon *daemon = user_data;
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (IkeSecret) psk = NULL;
  g_autoptr (StoreConnection) conn = NULL;
  g_autofree char *path = NULL;
  const char *name = NULL;
  GError *store_error = NULL;

  if (!g_variant_lookup (settings, "name", "&s", &name))
    {
      g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING,
                   _ ("key “name”: missing (a string)"));
      return NULL;
    }
  path = store_connection_path (daemon->options.config_dir, name);
  if (store_find (daemon->connections, name) != NULL || g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_EXISTS, _ ("connection “%s” exists"), name);
      return NULL;
    }
  if (!store_settings_merge (file, settings, &psk, &store_error)
      || (conn = store_save (daemon->options.config_dir, path, file, psk, &store_error)) == NULL)
    {
      to_bus_error (error, store_error, path);
      return NULL;
    }
  ipsecd_daemon_reload (daemon);
  return g_strdup (conn->name);
}

static gboolean
on_update (gpointer user_data, const char *name, GVariant *settings, GError **error)
{
  IpsecdDaemon *daemon = user_data;
  StoreConnection *conn = find (daemon, name, error);
  g_autoptr (GKeyFile) file = NULL;
  g_autoptr (IkeSecret) psk = NULL;
  g_autoptr (StoreConnection) saved = NULL;
  const char *new_name = NULL;
  GError *store_error = NULL;

  if (conn == NULL)
    return FALSE;
  if (g_variant_lookup (settings, "name", "&s", &new_name) && !g_str_equal (new_name, name))
    {
      g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING,
                   _ ("key “name”: cannot change; add a new connection instead"));
      return FALSE;
    }
  file = store_connection_keys (conn, &store_error);
  if (file == NULL || !store_settings_merge (file, settings, &psk, &store_error)
      || (saved = store_save (daemon->options.config_dir, conn->path, file, psk, &store_error))
             == NULL)
    {
      to_bus_error (error, store_error, conn->path);
      return FALSE;
    }
  ipsecd_daemon_reload (daemon);
  return TRUE;
}

static gboolean
on_remove (gpointer user_data, const char *name, GError **error)
{
  IpsecdDaemon *daemon = user_data;
  StoreConnection *conn = find (daemon, name, error);
  GError *store_error = NULL;

  if (conn == NULL)
    return FALSE;
  if (!store_remove (daemon->options.config_dir, conn, &store_error))
    {
      to_bus_error (error, store_error, conn->path);
      return FALSE;
    }
  /* the reload sees it gone and deletes its SAs */
  ipsecd_daemon_reload (daemon);
  return TRUE;
}

static gboolean
on_up (gpointer user_data, const char *name, GError **error)
{
  IpsecdDaemon *daemon = user_data;
  StoreConnection *conn = find (daemon, name, error);
  g_autoptr (GError) why = NULL;

  if (conn == NULL)
    return FALSE;
  if (conn->remote.ss_family == 0)
    {
      g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_FAILED,
                   _ ("connection “%s” has no peer address (remote=%%any): it only responds"),
                   name);
      return FALSE;
    }
  /* Up is "be up", not "one more IKE SA" */
  if (other_sa_up (daemon, name, 0))
    return TRUE;
  if (ipsecd_daemon_initiate (daemon, conn, &why))
    return TRUE;
  g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_FAILED, _ ("connection “%s”: %s"), name,
               why->message);
  return FALSE;
}

static gboolean
on_down (gpointer user_data, const char *name, GError **error)
{
  IpsecdDaemon *daemon = user_data;

  if (find (daemon, name, error) == NULL)
    return FALSE;
  if (ipsecd_daemon_delete_sas (daemon, name) == 0)
    ipsecd_daemon_bus_state (daemon, name, "down", NULL);
  ipsecd_daemon_drain (daemon);
  return TRUE;
}

static void
on_reload (gpointer user_data)
{
  ipsecd_daemon_reload (user_data);
}

static void
on_name_lost (gpointer user_data)
{
  IpsecdDaemon *daemon = user_data;

  daemon->status = EXIT_FAILURE;
  g_main_loop_quit (daemon->loop);
}

/* ---- ImportConnections ---- */

typedef struct
{
  gboolean dry_run, replace;
  char *config_label, *secrets_label; /* "FILE" in problem lines */
} ImportFlags;

static gboolean
import_flags (GVariant *flags, ImportFlags *f, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, flags);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gboolean is_bool = g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN);
      gboolean is_text = g_variant_is_of_type (value, G_VARIANT_TYPE_STRING);
      char **label = g_str_equal (key, "config-file")    ? &f->config_label
                     : g_str_equal (key, "secrets-file") ? &f->secrets_label
                                                         : NULL;

      if (is_bool && g_str_equal (key, "dry-run"))
        f->dry_run = g_variant_get_boolean (value);
      else if (is_bool && g_str_equal (key, "replace"))
        f->replace = g_variant_get_boolean (value);
      else if (is_text && label != NULL)
        {
          g_free (*label);
          *label = g_variant_dup_string (value, NULL);
        }
      else
        {
          g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING,
                       _ ("flag “%s”: not one of dry-run (b), replace (b), config-file (s), "
                          "secrets-file (s)"),
                       key);
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

/* A taken name is an error without "replace", before anything is written. */
static gboolean
import_names_free (IpsecdDaemon *daemon, StoreImport *import, gboolean replace, GError **error)
{
  for (guint i = 0; i < import->connections->len && !replace; i++)
    {
      StoreImported *imported = g_ptr_array_index (import->connections, i);
      g_autofree char *path = store_connection_path (daemon->options.config_dir, imported->name);

      if (store_find (daemon->connections, imported->name) != NULL
          || g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, IPSEC_ERROR, IPSEC_ERROR_EXISTS,
                       _ ("connection “%s” exists (import with replace to overwrite it)"),
                       imported->name);
          return FALSE;
        }
    }
  return TRUE;
}

/* Every file, or on an I/O error none of the new ones. */
static gboolean
import_write (IpsecdDaemon *daemon, StoreImport *import, GError **error)
{
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < import->connections->len; i++)
    {
      StoreImported *imported = g_ptr_array_index (import->connections, i);
      StoreConnection *old = store_find (daemon->connections, imported->name);
      g_autofree char *path
          = old != NULL ? g_strdup (old->path)
                        : store_connection_path (daemon->options.config_dir, imported->name);
      g_autoptr (StoreConnection) saved = NULL;
      gboolean existed = g_file_test (path, G_FILE_TEST_EXISTS);
      GError *store_error = NULL;

      saved = store_save (daemon->options.config_dir, path, imported->file, imported->psk,
                          &store_error);
      if (saved == NULL)
        {
          for (guint k = 0; k < written->len; k++)
            g_unlink (written->pdata[k]);
          to_bus_error (error, store_error, path);
          return FALSE;
        }
      if (!existed)
        g_ptr_array_add (written, g_steal_pointer (&path));
    }
  return TRUE;
}

static gboolean
on_import (gpointer user_data, const char *config, const char *secrets, GVariant *flags,
           GPtrArray *names, GPtrArray *problems, GError **error)
{
  IpsecdDaemon *daemon = user_data;
  ImportFlags f = { FALSE, FALSE, g_strdup ("ipsec.conf"), g_strdup ("ipsec.secrets") };
  g_autoptr (StoreImport) import = NULL;
  g_autoptr (GError) why = NULL;
  gboolean ok = FALSE;

  if (!import_flags (flags, &f, error))
    goto out;
  import = store_import_parse (config, f.config_label, secrets, f.secrets_label, NULL, NULL, &why);
  if (import == NULL)
    {
      g_set_error_literal (error, IPSEC_ERROR, IPSEC_ERROR_INVALID_SETTING, why->message);
      goto out;
    }
  store_import_check (import, daemon->options.config_dir, f.config_label);
  if (!import_names_free (daemon, import, f.replace, error)
      || (!f.dry_run && !import_write (daemon, import, error)))
    goto out;
  for (guint i = 0; i < import->connections->len; i++)
    g_ptr_array_add (names, g_strdup (((StoreImported *) import->connections->pdata[i])->name));
  for (guint i = 0; i < import->problems->len; i++)
    g_ptr_array_add (problems, g_strdup (import->problems->pdata[i]));
  if (!f.dry_run && import->connections->len > 0)
    ipsecd_daemon_reload (daemon);
  ok = TRUE;
out:
  g_free (f.config_label);
  g_free (f.secrets_label);
  return ok;
}

static GVariant *
on_get_policies (gpointer user_data)
{
  return ipsecd_oe_get_policies (user_data);
}

static gboolean
on_set_policy (gpointer user_data, const char *group, const char *const *entries, GError **error)
{
  return ipsecd_oe_set_policy (user_data, group, entries, error);
}

static const BusHandlers handlers = {
  .add = on_add,
  .update = on_update,
  .remove = on_remove,
  .up = on_up,
  .down = on_down,
  .reload = on_reload,
  .name_lost = on_name_lost,
  .get_policies = on_get_policies,
  .set_policy = on_set_policy,
  .import = on_import,
};

/* ---- life ---- */

gboolean
ipsecd_daemon_bus_start (IpsecdDaemon *daemon, GError **error)
{
  if (daemon->options.bus == G_BUS_TYPE_NONE)
    return TRUE;
  daemon->bus = bus_service_new (daemon->options.bus, &handlers, daemon, error);
  if (daemon->bus == NULL)
    return FALSE;
  daemon->child_ts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                            (GDestroyNotify) g_variant_unref);
  ipsecd_daemon_bus_sync (daemon);
  return TRUE;
}

void
ipsecd_daemon_bus_stop (IpsecdDaemon *daemon)
{
  g_clear_pointer (&daemon->bus, bus_service_free);
  g_clear_pointer (&daemon->child_ts, g_hash_table_unref);
}

void
ipsecd_daemon_bus_sync (IpsecdDaemon *daemon)
{
  g_autoptr (GPtrArray) exported = NULL;

  if (daemon->bus == NULL)
    return;
  exported = bus_service_connection_names (daemon->bus);
  for (guint i = 0; i < exported->len; i++)
    if (store_find (daemon->connections, exported->pdata[i]) == NULL)
      bus_service_remove_connection (daemon->bus, exported->pdata[i]);
  for (guint i = 0; i < daemon->connections->len; i++)
    {
      StoreConnection *conn = g_ptr_array_index (daemon->connections, i);

      bus_service_set_connection (daemon->bus, conn->name, store_connection_settings (conn));
    }
  ipsec_dbus_manager_set_connection_count (bus_service_get_manager (daemon->bus),
                                           daemon->connections->len);
}

void
ipsecd_daemon_bus_state (IpsecdDaemon *daemon, const char *name, const char *state,
                         const char *last_error)
{
  if (daemon->bus != NULL && name != NULL)
    bus_service_set_state (daemon->bus, name, state, last_error);
}

/* ---- SA objects ---- */

/* ChildSAs with each Child SA's counters, read from the kernel whenever a
 * client reads the property (Get, GetAll, GetManagedObjects): the stored
 * value has none, so PropertiesChanged never carries stale ones. */
typedef struct
{
  IpsecDbusSASkeleton parent;
  IpsecdDaemon *daemon;
} IpsecdSaObject;

typedef struct
{
  IpsecDbusSASkeletonClass parent_class;
} IpsecdSaObjectClass;

GType ipsecd_sa_object_get_type (void);
G_DEFINE_TYPE (IpsecdSaObject, ipsecd_sa_object, IPSEC_DBUS_TYPE_SA_SKELETON)

static GVariant *
child_with_counters (IpsecdDaemon *daemon, GVariant *child)
{
  IpsecdCounters c;
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  guint32 spi_in = 0;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, child);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_variant_builder_add (&builder, "{sv}", key, value);
      g_variant_unref (value);
    }
  if (g_variant_lookup (child, "spi-in", "u", &spi_in)
      && ipsecd_kernel_counters (daemon, spi_in, &c))
    {
      g_variant_builder_add (&builder, "{sv}", "bytes-in", g_variant_new_uint64 (c.bytes_in));
      g_variant_builder_add (&builder, "{sv}", "bytes-out", g_variant_new_uint64 (c.bytes_out));
      g_variant_builder_add (&builder, "{sv}", "packets-in", g_variant_new_uint64 (c.packets_in));
      g_variant_builder_add (&builder, "{sv}", "packets-out", g_variant_new_uint64 (c.packets_out));
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
children_with_counters (IpsecdDaemon *daemon, GVariant *children)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (gsize i = 0; i < g_variant_n_children (children); i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (children, i);

      g_variant_builder_add_value (&builder, child_with_counters (daemon, child));
    }
  return g_variant_builder_end (&builder);
}

/* Get: the generated skeleton's getter, then the counters.  (A GObject
 * get_property override would not do: GObject asks the class that owns
 * the property, the generated one.) */
static GVariant *
sa_object_dbus_get (GDBusConnection *connection, const char *sender, const char *path,
                    const char *interface, const char *property, GError **error, gpointer user_data)
{
  IpsecdSaObject *self = user_data;
  GDBusInterfaceSkeletonClass *parent
      = G_DBUS_INTERFACE_SKELETON_CLASS (ipsecd_sa_object_parent_class);
  GVariant *value
      = parent->get_vtable (G_DBUS_INTERFACE_SKELETON (self))
            ->get_property (connection, sender, path, interface, property, error, user_data);
  g_autoptr (GVariant) plain = NULL;

  if (value == NULL || !g_str_equal (property, "ChildSAs") || self->daemon == NULL)
    return value;
  plain = g_variant_ref_sink (value);
  return children_with_counters (self->daemon, plain);
}

static GDBusInterfaceVTable *
sa_object_get_vtable (GDBusInterfaceSkeleton *skeleton)
{
  static GDBusInterfaceVTable vtable;
  static gsize done;

  if (g_once_init_enter (&done))
    {
      vtable
          = *G_DBUS_INTERFACE_SKELETON_CLASS (ipsecd_sa_object_parent_class)->get_vtable (skeleton);
      vtable.get_property = sa_object_dbus_get;
      g_once_init_leave (&done, 1);
    }
  return &vtable;
}

/* GetAll and GetManagedObjects */
static GVariant *
sa_object_get_properties (GDBusInterfaceSkeleton *skeleton)
{
  IpsecdSaObject *self = (IpsecdSaObject *) skeleton;
  g_autoptr (GVariant) all = g_variant_ref_sink (
      G_DBUS_INTERFACE_SKELETON_CLASS (ipsecd_sa_object_parent_class)->get_properties (skeleton));
  GVariantBuilder builder;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, all);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      if (g_str_equal (name, "ChildSAs") && self->daemon != NULL)
        g_variant_builder_add (&builder, "{sv}", name,
                               children_with_counters (self->daemon, value));
      else
        g_variant_builder_add (&builder, "{sv}", name, value);
      g_variant_unref (value);
    }
  return g_variant_builder_end (&builder);
}

static void
ipsecd_sa_object_class_init (IpsecdSaObjectClass *klass)
{
  GDBusInterfaceSkeletonClass *skeleton_class = G_DBUS_INTERFACE_SKELETON_CLASS (klass);

  skeleton_class->get_vtable = sa_object_get_vtable;
  skeleton_class->get_properties = sa_object_get_properties;
}

static void
ipsecd_sa_object_init (IpsecdSaObject *self)
{
}

static IpsecDbusSA *
new_sa (IpsecdDaemon *daemon, const IkeEvent *ev, const IpsecdSa *sa)
{
  IpsecdSaObject *self = g_object_new (ipsecd_sa_object_get_type (), NULL);
  IpsecDbusSA *obj = IPSEC_DBUS_SA (self);
  g_autofree char *conn_path = bus_connection_path (sa->name != NULL ? sa->name : "unknown");
  g_autofree char *address = ipsecd_addr_format (&sa->peer, FALSE);
  g_autofree char *local_id = ipsecd_id_format (ev->local_id_type, ev->local_id);
  g_autofree char *remote_id = ipsecd_id_format (ev->remote_id_type, ev->remote_id);
  g_autofree char *suite = ipsecd_suite_format (&ev->ike, IKE_PROTO_IKE);

  self->daemon = daemon;
  ipsec_dbus_sa_set_connection (obj, conn_path);
  ipsec_dbus_sa_set_peer_address (obj, address);
  ipsec_dbus_sa_set_peer_port (obj, net_sockaddr_get_port (&sa->peer));
  ipsec_dbus_sa_set_initiator (obj, ev->initiator);
  ipsec_dbus_sa_set_local_identity (obj, local_id);
  ipsec_dbus_sa_set_remote_identity (obj, remote_id);
  ipsec_dbus_sa_set_local_auth (obj, ipsecd_auth_name (ev->local_auth));
  ipsec_dbus_sa_set_remote_auth (obj, ipsecd_auth_name (ev->remote_auth));
  ipsec_dbus_sa_set_authenticated (obj, ev->authenticated);
  ipsec_dbus_sa_set_ike_algorithms (obj, suite);
  ipsec_dbus_sa_set_established (obj, g_get_real_time () / G_USEC_PER_SEC);
  ipsec_dbus_sa_set_child_sas (obj, g_variant_new ("aa{sv}", NULL));
  return obj;
}

static void
count_sas (IpsecdDaemon *daemon, int delta)
{
  IpsecDbusManager *manager = bus_service_get_manager (daemon->bus);

  daemon->sa_count = (guint) MAX (0, (int) daemon->sa_count + delta);
  ipsec_dbus_manager_set_sacount (manager, daemon->sa_count);
  ipsec_dbus_manager_set_established_total (manager, daemon->established_total);
  ipsec_dbus_manager_set_failed_total (manager, daemon->failed_total);
}

static void
ike_up (IpsecdDaemon *daemon, IpsecdSa *sa, const IkeEvent *ev)
{
  g_autoptr (IpsecDbusSA) obj = new_sa (daemon, ev, sa);

  daemon->established_total++;
  bus_service_export_sa (daemon->bus, ev->sa, obj);
  count_sas (daemon, +1);
  ipsecd_daemon_bus_state (daemon, sa->name, "up", NULL);
}

static void
ike_end (IpsecdDaemon *daemon, IpsecdSa *sa, const IkeEvent *ev)
{
  const char *reason = ev->reason != NULL ? ev->reason : "";

  if (bus_service_lookup_sa (daemon->bus, ev->sa) != NULL)
    {
      bus_service_remove_sa (daemon->bus, ev->sa);
      count_sas (daemon, -1);
    }
  if (ev->kind == IKE_EVENT_IKE_FAILED)
    {
      daemon->failed_total++;
      count_sas (daemon, 0);
      ipsecd_daemon_bus_state (daemon, sa->name, "failed", reason);
    }
  else if (ev->ike_replaced_by == 0 && !other_sa_up (daemon, sa->name, ev->sa))
    ipsecd_daemon_bus_state (daemon, sa->name, "down", reason);
}

/* ---- Child SAs ---- */

static GVariant *
ts_list (const IkeTs *ts, guint n)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < n; i++)
    {
      int family = ts[i].type == IKE_TS_IPV6_ADDR_RANGE ? AF_INET6 : AF_INET;
      char start[INET6_ADDRSTRLEN], end[INET6_ADDRSTRLEN];

      inet_ntop (family, ts[i].start, start, sizeof start);
      inet_ntop (family, ts[i].end, end, sizeof end);
      g_variant_builder_add_value (&builder, g_variant_new_take_string (g_strdup_printf (
                                                 "%s-%s %u %u-%u", start, end, ts[i].ip_proto,
                                                 ts[i].start_port, ts[i].end_port)));
    }
  return g_variant_builder_end (&builder);
}

/* The selectors come with the kernel request, before the child-up event. */
void
ipsecd_daemon_bus_kernel (IpsecdDaemon *daemon, const IkeKernelRequest *k)
{
  if (daemon->bus == NULL || k->op != IKE_KERNEL_INSTALL)
    return;
  g_hash_table_insert (
      daemon->child_ts, GUINT_TO_POINTER (k->spi_in),
      g_variant_ref_sink (g_variant_new ("(@as@as)", ts_list (k->ts_local, k->n_ts_local),
                                         ts_list (k->ts_remote, k->n_ts_remote))));
}

/* The SA's ChildSAs without SPI_IN, and with ADD if not NULL. */
static void
update_children (IpsecDbusSA *obj, guint32 spi_in, GVariant *add)
{
  GVariant *old = ipsec_dbus_sa_get_child_sas (obj);
  GVariantBuilder builder;
  GVariantIter iter;
  GVariant *child;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_iter_init (&iter, old);
  while ((child = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint32 spi = 0;

      if (!g_variant_lookup (child, "spi-in", "u", &spi) || spi != spi_in)
        g_variant_builder_add_value (&builder, child);
      g_variant_unref (child);
    }
  if (add != NULL)
    g_variant_builder_add_value (&builder, add);
  ipsec_dbus_sa_set_child_sas (obj, g_variant_builder_end (&builder));
}

static GVariant *
child_dict (IpsecdDaemon *daemon, const IkeEvent *ev)
{
  g_autofree char *esp = ipsecd_suite_format (&ev->esp, IKE_PROTO_ESP);
  GVariant *ts = g_hash_table_lookup (daemon->child_ts, GUINT_TO_POINTER (ev->spi_in));
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "spi-in", g_variant_new_uint32 (ev->spi_in));
  g_variant_builder_add (&builder, "{sv}", "spi-out", g_variant_new_uint32 (ev->spi_out));
  g_variant_builder_add (
      &builder, "{sv}", "mode",
      g_variant_new_string (ev->mode == IKE_MODE_TRANSPORT ? "transport" : "tunnel"));
  g_variant_builder_add (&builder, "{sv}", "esp", g_variant_new_string (esp));
  if (ts != NULL)
    {
      g_variant_builder_add (&builder, "{sv}", "local-ts", g_variant_get_child_value (ts, 0));
      g_variant_builder_add (&builder, "{sv}", "remote-ts", g_variant_get_child_value (ts, 1));
    }
  g_hash_table_remove (daemon->child_ts, GUINT_TO_POINTER (ev->spi_in));
  return g_variant_builder_end (&builder);
}

static void
child_event (IpsecdDaemon *daemon, const IkeEvent *ev, const char *failed_install)
{
  IpsecDbusSA *obj = bus_service_lookup_sa (daemon->bus, ev->sa);

  if (obj == NULL)
    return;
  if (ev->kind == IKE_EVENT_CHILD_UP && failed_install == NULL)
    update_children (obj, ev->spi_in, child_dict (daemon, ev));
  else
    {
      g_hash_table_remove (daemon->child_ts, GUINT_TO_POINTER (ev->spi_in));
      update_children (obj, ev->spi_in, NULL);
    }
}

void
ipsecd_daemon_bus_event (IpsecdDaemon *daemon, IpsecdSa *sa, const IkeEvent *ev,
                         const char *failed_install)
{
  IpsecDbusSA *obj;

  if (daemon->bus == NULL)
    return;
  switch (ev->kind)
    {
    case IKE_EVENT_IKE_UP:
      ike_up (daemon, sa, ev);
      break;
    case IKE_EVENT_IKE_FAILED:
    case IKE_EVENT_IKE_DOWN:
      ike_end (daemon, sa, ev);
      break;
    case IKE_EVENT_IKE_MOVED:
      obj = bus_service_lookup_sa (daemon->bus, ev->sa);
      if (obj != NULL)
        {
          g_autofree char *address = ipsecd_addr_format (&ev->ends.remote, FALSE);

          ipsec_dbus_sa_set_peer_address (obj, address);
          ipsec_dbus_sa_set_peer_port (obj, net_sockaddr_get_port (&ev->ends.remote));
        }
      break;
    default:
      child_event (daemon, ev, failed_install);
      break;
    }
}
