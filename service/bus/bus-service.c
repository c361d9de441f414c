/* The exported objects and the dispatch of their methods: authorize
 * (bus-auth.c), log who did what, then hand over to the daemon. */
#include "config.h"

#include "bus.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ipsec-error.h"
#include "ipsec-names.h"

#define CONNECTION_PREFIX IPSEC_OBJECT_ROOT "/Connection/"
#define SA_PREFIX IPSEC_OBJECT_ROOT "/SA/"

struct _BusService
{
  BusHandlers handlers;
  gpointer daemon;
  GDBusConnection *bus;
  GDBusObjectManagerServer *objects;
  IpsecDbusManager *manager;
  BusAuth *auth;
  GHashTable *connections; /* name → IpsecDbusObjectSkeleton */
  guint owner_id;
};

typedef enum
{
  CALL_ADD,
  CALL_RELOAD,
  CALL_UP,
  CALL_DOWN,
  CALL_UPDATE,
  CALL_DELETE,
  CALL_SET_POLICY,
  CALL_IMPORT,
} CallKind;

/* One authorized-to-be call, kept while polkit thinks. */
typedef struct
{
  BusService *service;
  CallKind kind;
  GObject *iface;     /* the skeleton, to complete the call on */
  char *name;         /* the connection, for its methods; SetPolicy's group */
  GVariant *settings; /* SetPolicy: its entries (as) */
} Call;

static void
call_free (gpointer data)
{
  Call *call = data;

  g_clear_object (&call->iface);
  g_free (call->name);
  g_clear_pointer (&call->settings, g_variant_unref);
  g_free (call);
}

static const char *const call_names[] = {
  [CALL_ADD] = "AddConnection",
  [CALL_RELOAD] = "Reload",
  [CALL_UP] = "Up",
  [CALL_DOWN] = "Down",
  [CALL_UPDATE] = "Update",
  [CALL_DELETE] = "Delete",
  [CALL_SET_POLICY] = "SetPolicy",
  [CALL_IMPORT] = "ImportConnections",
};

/* Every privileged action in the log, with who asked for it. */
static void
log_action (Call *call, guint32 uid, const GError *error)
{
  const char *name = call->name != NULL ? call->name : "";
  /* SetPolicy names an OE group, not a connection */
  const char *field = call->kind == CALL_SET_POLICY ? "IPSECD_GROUP" : "IPSECD_CONNECTION";
  char uid_text[16];

  g_snprintf (uid_text, sizeof uid_text, "%u", uid);
  if (error == NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "bus-call", "IPSECD_CALL",
                      call_names[call->kind], field, name, "IPSECD_UID", uid_text, "MESSAGE",
                      _ ("%s “%s” by uid %u"), call_names[call->kind], name, uid);
  else
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "IPSECD_EVENT", "bus-call-failed",
                      "IPSECD_CALL", call_names[call->kind], field, name, "IPSECD_UID", uid_text,
                      "IPSECD_REASON", error->message, "MESSAGE",
                      _ ("%s “%s” by uid %u failed: %s"), call_names[call->kind], name, uid,
                      error->message);
}

static gboolean
run_connection_call (Call *call, GError **error)
{
  BusHandlers *h = &call->service->handlers;
  gpointer daemon = call->service->daemon;

  switch (call->kind)
    {
    case CALL_UP:
      return h->up (daemon, call->name, error);
    case CALL_DOWN:
      return h->down (daemon, call->name, error);
    case CALL_UPDATE:
      return h->update (daemon, call->name, call->settings, error);
    case CALL_DELETE:
      return h->remove (daemon, call->name, error);
    default:
      g_assert_not_reached ();
    }
}

static void
complete (Call *call, GDBusMethodInvocation *invocation)
{
  IpsecDbusConnection *conn = IPSEC_DBUS_CONNECTION (call->iface);

  switch (call->kind)
    {
    case CALL_UP:
      ipsec_dbus_connection_complete_up (conn, invocation);
      break;
    case CALL_DOWN:
      ipsec_dbus_connection_complete_down (conn, invocation);
      break;
    case CALL_UPDATE:
      ipsec_dbus_connection_complete_update (conn, invocation);
      break;
    default:
      ipsec_dbus_connection_complete_delete (conn, invocation);
      break;
    }
}

static void
run_set_policy (Call *call, GDBusMethodInvocation *invocation, guint32 uid)
{
  BusService *service = call->service;
  g_autofree const char **entries = g_variant_get_strv (call->settings, NULL);
  g_autoptr (GError) error = NULL;

  service->handlers.set_policy (service->daemon, call->name, entries, &error);
  log_action (call, uid, error);
  if (error != NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    ipsec_dbus_manager_complete_set_policy (service->manager, invocation);
}

/* Call->settings is the call's (config, secrets, flags); no text of it is
 * logged, it may hold secrets. */
static void
run_import (Call *call, GDBusMethodInvocation *invocation, guint32 uid)
{
  BusService *service = call->service;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GVariant) flags = NULL;
  g_autoptr (GError) error = NULL;
  const char *config = NULL, *secrets = NULL;

  g_variant_get (call->settings, "(&s&s@a{sv})", &config, &secrets, &flags);
  service->handlers.import (service->daemon, config, secrets, flags, names, problems, &error);
  log_action (call, uid, error);
  if (error != NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (paths, bus_connection_path (names->pdata[i]));
  g_ptr_array_add (paths, NULL);
  g_ptr_array_add (problems, NULL);
  ipsec_dbus_manager_complete_import_connections (service->manager, invocation,
                                                  (const char *const *) paths->pdata,
                                                  (const char *const *) problems->pdata);
}

static void
on_authorized (GDBusMethodInvocation *invocation, guint32 uid, gpointer user_data)
{
  Call *call = user_data;
  BusService *service = call->service;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;

  if (call->kind == CALL_RELOAD)
    {
      log_action (call, uid, NULL);
      service->handlers.reload (service->daemon);
      ipsec_dbus_manager_complete_reload (service->manager, invocation);
      return;
    }
  if (call->kind == CALL_SET_POLICY)
    {
      run_set_policy (call, invocation, uid);
      return;
    }
  if (call->kind == CALL_IMPORT)
    {
      run_import (call, invocation, uid);
      return;
    }
  if (call->kind == CALL_ADD)
    name = service->handlers.add (service->daemon, call->settings, &error);
  else
    run_connection_call (call, &error);
  log_action (call, uid, error);
  if (error != NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else if (call->kind == CALL_ADD)
    {
      g_autofree char *path = bus_connection_path (name);

      ipsec_dbus_manager_complete_add_connection (service->manager, invocation, path);
    }
  else
    complete (call, invocation);
}

static gboolean
dispatch (BusService *service, GDBusMethodInvocation *invocation, CallKind kind, GObject *iface,
          const char *name, GVariant *settings)
{
  Call *call = g_new0 (Call, 1);
  const char *action = kind == CALL_UP || kind == CALL_DOWN ? IPSEC_ACTION_CONNECTION_TOGGLE
                       : kind == CALL_SET_POLICY            ? IPSEC_ACTION_POLICY_MANAGE
                                                            : IPSEC_ACTION_CONNECTION_MANAGE;

  call->service = service;
  call->kind = kind;
  call->iface = g_object_ref (iface);
  call->name = g_strdup (name);
  if (name == NULL && settings != NULL)
    g_variant_lookup (settings, "name", "s", &call->name);
  call->settings = settings != NULL ? g_variant_ref (settings) : NULL;
  bus_auth_check (service->auth, invocation, action, on_authorized, call, call_free);
  return TRUE; /* handled, now or later */
}

/* ---- the Manager ---- */

static gboolean
on_add (IpsecDbusManager *manager, GDBusMethodInvocation *invocation, GVariant *settings,
        gpointer user_data)
{
  return dispatch (user_data, invocation, CALL_ADD, G_OBJECT (manager), NULL, settings);
}

static gboolean
on_reload (IpsecDbusManager *manager, GDBusMethodInvocation *invocation, gpointer user_data)
{
  return dispatch (user_data, invocation, CALL_RELOAD, G_OBJECT (manager), NULL, NULL);
}

/* Reading, as a property is: no authorization. */
static gboolean
on_get_policies (IpsecDbusManager *manager, GDBusMethodInvocation *invocation, gpointer user_data)
{
  BusService *service = user_data;

  ipsec_dbus_manager_complete_get_policies (manager, invocation,
                                            service->handlers.get_policies (service->daemon));
  return TRUE;
}

/* SA objects per connection path, in one pass over the exported objects. */
static GHashTable *
count_sas (BusService *service)
{
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GList *objects = g_dbus_object_manager_get_objects (G_DBUS_OBJECT_MANAGER (service->objects));

  for (GList *l = objects; l != NULL; l = l->next)
    {
      IpsecDbusSA *sa = ipsec_dbus_object_peek_sa (IPSEC_DBUS_OBJECT (l->data));
      const char *conn = sa != NULL ? ipsec_dbus_sa_get_connection (sa) : NULL;

      if (conn != NULL)
        g_hash_table_insert (
            counts, g_strdup (conn),
            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, conn)) + 1));
    }
  g_list_free_full (objects, g_object_unref);
  return counts;
}

static void
add_summary (GVariantBuilder *builder, IpsecDbusObjectSkeleton *object, GHashTable *counts)
{
  IpsecDbusConnection *conn = ipsec_dbus_object_peek_connection (IPSEC_DBUS_OBJECT (object));
  const char *path = g_dbus_object_get_object_path (G_DBUS_OBJECT (object));
  GVariant *settings = ipsec_dbus_connection_get_settings (conn);
  const char *remote = "";

  if (settings != NULL)
    g_variant_lookup (settings, "remote", "&s", &remote);
  g_variant_builder_add (builder, "(ossssu)", path, ipsec_dbus_connection_get_name (conn),
                         ipsec_dbus_connection_get_state (conn), remote,
                         ipsec_dbus_connection_get_last_error (conn),
                         GPOINTER_TO_UINT (g_hash_table_lookup (counts, path)));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
on_list_connections (IpsecDbusManager *manager, GDBusMethodInvocation *invocation,
                     gpointer user_data)
{
  BusService *service = user_data;
  g_autoptr (GHashTable) counts = count_sas (service);
  g_autoptr (GPtrArray) names = bus_service_connection_names (service);
  GVariantBuilder builder;

  g_ptr_array_sort (names, compare_strings);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ossssu)"));
  for (guint i = 0; i < names->len; i++)
    add_summary (&builder, g_hash_table_lookup (service->connections, names->pdata[i]), counts);
  ipsec_dbus_manager_complete_list_connections (manager, invocation,
                                                g_variant_builder_end (&builder));
  return TRUE;
}

static gboolean
on_set_policy (IpsecDbusManager *manager, GDBusMethodInvocation *invocation, const char *group,
               const char *const *entries, gpointer user_data)
{
  g_autoptr (GVariant) list = g_variant_ref_sink (g_variant_new_strv (entries, -1));

  return dispatch (user_data, invocation, CALL_SET_POLICY, G_OBJECT (manager), group, list);
}

/* The log names the import by the file it came from (flag "config-file"). */
static gboolean
on_import (IpsecDbusManager *manager, GDBusMethodInvocation *invocation, const char *config,
           const char *secrets, GVariant *flags, gpointer user_data)
{
  g_autoptr (GVariant) args
      = g_variant_ref_sink (g_variant_new ("(ss@a{sv})", config, secrets, flags));
  const char *label = "ipsec.conf";

  g_variant_lookup (flags, "config-file", "&s", &label);
  return dispatch (user_data, invocation, CALL_IMPORT, G_OBJECT (manager), label, args);
}

/* ---- Connection objects ---- */

#define CONNECTION_HANDLER(func, kind)                                                             \
  static gboolean func (IpsecDbusConnection *conn, GDBusMethodInvocation *invocation,              \
                        gpointer user_data)                                                        \
  {                                                                                                \
    return dispatch (user_data, invocation, kind, G_OBJECT (conn),                                 \
                     ipsec_dbus_connection_get_name (conn), NULL);                                 \
  }

CONNECTION_HANDLER (on_up, CALL_UP)
CONNECTION_HANDLER (on_down, CALL_DOWN)
CONNECTION_HANDLER (on_delete, CALL_DELETE)

static gboolean
on_update (IpsecDbusConnection *conn, GDBusMethodInvocation *invocation, GVariant *settings,
           gpointer user_data)
{
  return dispatch (user_data, invocation, CALL_UPDATE, G_OBJECT (conn),
                   ipsec_dbus_connection_get_name (conn), settings);
}

char *
bus_connection_path (const char *name)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);

  return g_strconcat (CONNECTION_PREFIX, escaped, NULL);
}

static IpsecDbusConnection *
lookup_connection (BusService *service, const char *name)
{
  IpsecDbusObject *object = g_hash_table_lookup (service->connections, name);

  return object != NULL ? ipsec_dbus_object_peek_connection (object) : NULL;
}

void
bus_service_set_connection (BusService *service, const char *name, GVariant *settings)
{
  g_autofree char *path = NULL;
  g_autoptr (IpsecDbusObjectSkeleton) object = NULL;
  g_autoptr (IpsecDbusConnection) conn = NULL;

  if (lookup_connection (service, name) != NULL)
    {
      ipsec_dbus_connection_set_settings (lookup_connection (service, name), settings);
      return;
    }
  path = bus_connection_path (name);
  object = ipsec_dbus_object_skeleton_new (path);
  conn = ipsec_dbus_connection_skeleton_new ();
  ipsec_dbus_connection_set_name (conn, name);
  ipsec_dbus_connection_set_state (conn, "down");
  ipsec_dbus_connection_set_last_error (conn, "");
  ipsec_dbus_connection_set_settings (conn, settings);
  g_signal_connect (conn, "handle-up", G_CALLBACK (on_up), service);
  g_signal_connect (conn, "handle-down", G_CALLBACK (on_down), service);
  g_signal_connect (conn, "handle-update", G_CALLBACK (on_update), service);
  g_signal_connect (conn, "handle-delete", G_CALLBACK (on_delete), service);
  ipsec_dbus_object_skeleton_set_connection (object, conn);
  g_dbus_object_manager_server_export (service->objects, G_DBUS_OBJECT_SKELETON (object));
  g_hash_table_insert (service->connections, g_strdup (name), g_steal_pointer (&object));
}

void
bus_service_remove_connection (BusService *service, const char *name)
{
  g_autofree char *path = bus_connection_path (name);

  g_dbus_object_manager_server_unexport (service->objects, path);
  g_hash_table_remove (service->connections, name);
}

GPtrArray *
bus_service_connection_names (BusService *service)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  const char *name;

  g_hash_table_iter_init (&iter, service->connections);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    g_ptr_array_add (names, g_strdup (name));
  return names;
}

void
bus_service_set_state (BusService *service, const char *name, const char *state,
                       const char *last_error)
{
  IpsecDbusConnection *conn = lookup_connection (service, name);

  if (conn == NULL)
    return;
  /* the error first: a client that sees "failed" can read why at once */
  if (last_error != NULL)
    ipsec_dbus_connection_set_last_error (conn, last_error);
  ipsec_dbus_connection_set_state (conn, state);
}

/* ---- SA objects ---- */

static char *
sa_path (guint64 handle)
{
  return g_strdup_printf (SA_PREFIX "%" G_GUINT64_FORMAT, handle);
}

void
bus_service_export_sa (BusService *service, guint64 handle, IpsecDbusSA *sa)
{
  g_autofree char *path = sa_path (handle);
  g_autoptr (IpsecDbusObjectSkeleton) object = ipsec_dbus_object_skeleton_new (path);

  ipsec_dbus_object_skeleton_set_sa (object, sa);
  g_dbus_object_manager_server_export (service->objects, G_DBUS_OBJECT_SKELETON (object));
}

IpsecDbusSA *
bus_service_lookup_sa (BusService *service, guint64 handle)
{
  g_autofree char *path = sa_path (handle);
  g_autoptr (GDBusObject) object
      = g_dbus_object_manager_get_object (G_DBUS_OBJECT_MANAGER (service->objects), path);

  return object != NULL ? ipsec_dbus_object_peek_sa (IPSEC_DBUS_OBJECT (object)) : NULL;
}

void
bus_service_remove_sa (BusService *service, guint64 handle)
{
  g_autofree char *path = sa_path (handle);

  g_dbus_object_manager_server_unexport (service->objects, path);
}

/* ---- life ---- */

IpsecDbusManager *
bus_service_get_manager (BusService *service)
{
  return service->manager;
}

static void
on_name_lost (GDBusConnection *bus, const char *name, gpointer user_data)
{
  BusService *service = user_data;

  g_warning (_ ("cannot own %s on the bus (is another ipsecd running?)"), name);
  service->handlers.name_lost (service->daemon);
}

static void
on_name_acquired (GDBusConnection *bus, const char *name, gpointer user_data)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "IPSECD_EVENT", "bus-name", "MESSAGE",
                    _ ("owning %s on the bus"), name);
}

static void
export_manager (BusService *service, GError **error)
{
  service->manager = ipsec_dbus_manager_skeleton_new ();
  ipsec_dbus_manager_set_version (service->manager, PACKAGE_VERSION);
  /* the kernel layer does not report ESP support yet */
  ipsec_dbus_manager_set_kernel_support (service->manager, "unknown");
  g_signal_connect (service->manager, "handle-add-connection", G_CALLBACK (on_add), service);
  g_signal_connect (service->manager, "handle-reload", G_CALLBACK (on_reload), service);
  g_signal_connect (service->manager, "handle-get-policies", G_CALLBACK (on_get_policies), service);
  g_signal_connect (service->manager, "handle-set-policy", G_CALLBACK (on_set_policy), service);
  g_signal_connect (service->manager, "handle-list-connections", G_CALLBACK (on_list_connections),
                    service);
  g_signal_connect (service->manager, "handle-import-connections", G_CALLBACK (on_import), service);
  /* on the ObjectManager's own path, which its children may not use */
  g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (service->manager), service->bus,
                                    IPSEC_OBJECT_ROOT, error);
}

BusService *
bus_service_new (GBusType type, const BusHandlers *handlers, gpointer daemon, GError **error)
{
  g_autoptr (BusService) service = g_new0 (BusService, 1);
  GError *local_error = NULL;

  service->handlers = *handlers;
  service->daemon = daemon;
  service->auth = bus_auth_new ();
  service->connections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  service->bus = g_bus_get_sync (type, NULL, error);
  if (service->bus == NULL)
    return NULL;
  export_manager (service, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  service->objects = g_dbus_object_manager_server_new (IPSEC_OBJECT_ROOT);
  g_dbus_object_manager_server_set_connection (service->objects, service->bus);
  service->owner_id = g_bus_own_name_on_connection (service->bus, IPSEC_BUS_NAME,
                                                    G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                    on_name_acquired, on_name_lost, service, NULL);
  return g_steal_pointer (&service);
}

void
bus_service_free (BusService *service)
{
  if (service == NULL)
    return;
  if (service->owner_id != 0)
    g_bus_unown_name (service->owner_id);
  if (service->manager != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (service->manager));
  g_clear_object (&service->manager);
  g_clear_pointer (&service->connections, g_hash_table_unref);
  g_clear_object (&service->objects);
  if (service->bus != NULL)
    g_dbus_connection_flush_sync (service->bus, NULL, NULL);
  g_clear_object (&service->bus);
  g_clear_pointer (&service->auth, bus_auth_free);
  g_free (service);
}
