/* ipsecctl: one file per command; each fills in an IpsecctlCommand.
 * ipsecctl-client.c has what they share: the bus, errors, JSON, colour. */
#pragma once

#include <gio/gio.h>

#include "ipsec-dbus.h"

typedef struct
{
  gboolean json;
  gboolean color; /* a terminal, and no NO_COLOR */
} IpsecctlOptions;

typedef int (*IpsecctlRunFunc) (const IpsecctlOptions *options, int argc, char **argv);

typedef struct
{
  const char *name;
  const char *usage;
  const char *summary;
  IpsecctlRunFunc run;
} IpsecctlCommand;

/* Exit codes, documented in ipsecctl(1) and docs/dbus.md. */
enum
{
  IPSECCTL_EXIT_OK = 0,
  IPSECCTL_EXIT_FAILURE = 1,        /* anything else */
  IPSECCTL_EXIT_USAGE = 2,          /* bad command line */
  IPSECCTL_EXIT_NOT_FOUND = 3,      /* no such connection */
  IPSECCTL_EXIT_NOT_AUTHORIZED = 4, /* polkit said no */
  IPSECCTL_EXIT_INVALID = 5,        /* a setting was refused */
  IPSECCTL_EXIT_DOWN = 6,           /* up: the connection failed */
  IPSECCTL_EXIT_NO_DAEMON = 7,      /* ipsecd is not on the bus */
};

int ipsecctl_cmd_status (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_list (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_show (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_up (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_down (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_add (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_delete (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_reload (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_import (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_version (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_modify (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_monitor (const IpsecctlOptions *options, int argc, char **argv);
int ipsecctl_cmd_policy (const IpsecctlOptions *options, int argc, char **argv);

/* ---- ipsecctl-client.c ---- */

/* The daemon's objects or Manager, or NULL with an error (exit code via
 * fail; ServiceUnknown when ipsecd is not running). */
GDBusObjectManager *ipsecctl_objects (GError **error);
IpsecDbusManager *ipsecctl_manager (GError **error);
/* The Connection NAME (a new reference), or NULL with NotFound. */
IpsecDbusConnection *ipsecctl_connection (GDBusObjectManager *objects, const char *name,
                                          GError **error);
/* The SA objects of the connection at PATH (new references). */
GList *ipsecctl_sas_of (GDBusObjectManager *objects, const char *path);

/* One object of the daemon: its path, the properties (a{sv}) of its
 * Connection or SA interface and a Connection's Name (NULL for an SA), all
 * owned by the IpsecctlObjects. */
typedef struct
{
  const char *path;
  GVariant *properties;
  GVariant *name;
} IpsecctlObject;

/* The read-only commands' view of the daemon: one GetManagedObjects reply,
 * without a proxy per object (1,000 proxies cost ~100 ms). */
typedef struct
{
  GVariant *reply;
  GArray *connections; /* IpsecctlObject, sorted by Name */
  GArray *sas;         /* IpsecctlObject, oldest (lowest handle) first */
} IpsecctlObjects;

IpsecctlObjects *ipsecctl_objects_get (GError **error);
void ipsecctl_objects_free (IpsecctlObjects *objects);
/* A Connection's Name ("?" when it has none). */
const char *ipsecctl_object_name (const IpsecctlObject *object);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IpsecctlObjects, ipsecctl_objects_free)
/* The Connection NAME, or NULL with NotFound. */
const IpsecctlObject *ipsecctl_objects_connection (IpsecctlObjects *objects, const char *name,
                                                   GError **error);
/* A Manager method without arguments that needs no authorization; its
 * reply of TYPE, or NULL with an error. */
GVariant *ipsecctl_call_manager (const char *method, const char *type, GError **error);
/* The Manager's properties (a{sv}), or NULL with an error. */
GVariant *ipsecctl_manager_properties (GError **error);
/* Property KEY of PROPERTIES as a string ("?" when missing) or a number (0). */
const char *ipsecctl_property_string (GVariant *properties, const char *key);
guint64 ipsecctl_property_number (GVariant *properties, const char *key);

/* A method call that may need polkit: on a CanObtain denial it retries
 * once with a text agent (pkttyagent), if there is one and a terminal. */
GVariant *ipsecctl_call (GDBusProxy *proxy, const char *method, GVariant *args, GError **error);

/* Prints ERROR (human, or {"error": {...}} with --json); the exit code. */
int ipsecctl_fail (const IpsecctlOptions *options, const GError *error);
/* Prints a usage error for COMMAND; IPSECCTL_EXIT_USAGE. */
int ipsecctl_usage (const char *command, const char *usage);

/* KEY=VALUE arguments as a{sv} (floating), with "name" first if NAME is
 * not NULL; "psk=-" reads the key from standard input.  NULL after
 * printing what was wrong (a usage error). */
GVariant *ipsecctl_parse_settings (const char *command, const char *name, int argc, char **argv);

/* JSON text of VALUE (strings, numbers, booleans, arrays, dictionaries). */
void ipsecctl_json_value (GString *out, GVariant *value);
void ipsecctl_json_string (GString *out, const char *text);
/* The properties of a proxy, or of an a{sv}, as one JSON object (keys
 * sorted, as GDBusProxy sorts its cached property names). */
void ipsecctl_json_properties (GString *out, GDBusProxy *proxy);
void ipsecctl_json_dict (GString *out, GVariant *properties);

/* ListConnections' a(ossssu), and its table (or JSON) for list and
 * status (cmd-list.c). */
GVariant *ipsecctl_list_connections (GError **error);
void ipsecctl_print_connections (const IpsecctlOptions *options, GVariant *conns);

/* TEXT in the colour of a state ("up" green, "failed" red, ...). */
char *ipsecctl_state_text (const IpsecctlOptions *options, const char *state);
