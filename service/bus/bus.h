/* service/bus/: org.libreswan.IPsec on D-Bus (data/dbus/org.libreswan.IPsec.xml,
 * docs/dbus.md).  The Manager at /org/libreswan/IPsec, next to an
 * ObjectManager for one Connection object per loaded connection and one
 * SA object per established IKE SA.  Every method is authorized first
 * (bus-auth.c); only then does the daemon's handler run.  This module knows
 * nothing of the daemon: the daemon (service/daemon-bus.c) tells it what
 * exists and is told what to do. */
#pragma once

#include <gio/gio.h>

#include "ipsec-dbus.h"

G_BEGIN_DECLS

typedef struct _BusService BusService;

/* What the daemon does once a call is authorized.  Errors should be in
 * IPSEC_ERROR, which reaches the caller as org.libreswan.IPsec.Error.*. */
typedef struct
{
  char *(*add) (gpointer daemon, GVariant *settings, GError **error); /* → name */
  gboolean (*update) (gpointer daemon, const char *name, GVariant *settings, GError **error);
  gboolean (*remove) (gpointer daemon, const char *name, GError **error);
  gboolean (*up) (gpointer daemon, const char *name, GError **error);
  gboolean (*down) (gpointer daemon, const char *name, GError **error);
  void (*reload) (gpointer daemon);
  void (*name_lost) (gpointer daemon); /* another process has the name */
  /* OE groups: every line as a(ss) (floating); replace one group's lines */
  GVariant *(*get_policies) (gpointer daemon);
  gboolean (*set_policy) (gpointer daemon, const char *group, const char *const *entries,
                          GError **error);
  /* ImportConnections: fills NAMES and PROBLEMS (char *) */
  gboolean (*import) (gpointer daemon, const char *config, const char *secrets, GVariant *flags,
                      GPtrArray *names, GPtrArray *problems, GError **error);
} BusHandlers;

/* Connects to the bus of TYPE, exports the Manager and the ObjectManager
 * and asks for the name (name_lost says if that fails). */
BusService *bus_service_new (GBusType type, const BusHandlers *handlers, gpointer daemon,
                             GError **error);
void bus_service_free (BusService *service);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BusService, bus_service_free)

IpsecDbusManager *bus_service_get_manager (BusService *service);

/* /org/libreswan/IPsec/Connection/<escaped name> */
char *bus_connection_path (const char *name);
/* Creates the Connection object or updates its Settings. */
void bus_service_set_connection (BusService *service, const char *name, GVariant *settings);
void bus_service_remove_connection (BusService *service, const char *name);
/* The names of the exported connections. */
GPtrArray *bus_service_connection_names (BusService *service);
/* STATE "down", "connecting", "up" or "failed"; LAST_ERROR NULL keeps it. */
void bus_service_set_state (BusService *service, const char *name, const char *state,
                            const char *last_error);

/* SA objects, by the engine's handle: export one filled in, look it up to
 * change it, remove it when the IKE SA is gone. */
void bus_service_export_sa (BusService *service, guint64 handle, IpsecDbusSA *sa);
IpsecDbusSA *bus_service_lookup_sa (BusService *service, guint64 handle);
void bus_service_remove_sa (BusService *service, guint64 handle);

/* ---- bus-auth.c ---- */

typedef struct _BusAuth BusAuth;

/* Runs once the caller is authorized, with its uid. */
typedef void (*BusAuthorizedFunc) (GDBusMethodInvocation *invocation, guint32 uid,
                                   gpointer user_data);

BusAuth *bus_auth_new (void);
void bus_auth_free (BusAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BusAuth, bus_auth_free)

/* Asynchronously: uid 0 is authorized at once; anyone else as polkit says
 * for ACTION (denied when polkit is unavailable).  On denial the call is
 * answered with org.libreswan.IPsec.Error.NotAuthorized or .CanObtain and
 * AUTHORIZED never runs; DESTROY frees USER_DATA either way. */
void bus_auth_check (BusAuth *auth, GDBusMethodInvocation *invocation, const char *action,
                     BusAuthorizedFunc authorized, gpointer user_data, GDestroyNotify destroy);

G_END_DECLS
