/* Authorization of bus calls: who is calling (the bus's own
 * GetConnectionCredentials, never anything the caller says), then polkit.
 * Each step is asynchronous: a slow polkit never stalls IKE. */
#include "config.h"

#include "bus.h"

#include <glib/gi18n.h>
#include <polkit/polkit.h>

#include "ipsec-error.h"

struct _BusAuth
{
  PolkitAuthority *authority;
  GError *unavailable; /* why polkit could not be reached, once known */
};

typedef struct
{
  BusAuth *auth;
  GDBusMethodInvocation *invocation;
  char *action;
  guint32 uid;
  guint32 pid;
  BusAuthorizedFunc authorized;
  gpointer user_data;
  GDestroyNotify destroy;
} Check;

static void
check_free (Check *check)
{
  if (check->destroy != NULL)
    check->destroy (check->user_data);
  g_object_unref (check->invocation);
  g_free (check->action);
  g_free (check);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Check, check_free)

BusAuth *
bus_auth_new (void)
{
  return g_new0 (BusAuth, 1);
}

void
bus_auth_free (BusAuth *auth)
{
  if (auth == NULL)
    return;
  g_clear_object (&auth->authority);
  g_clear_error (&auth->unavailable);
  g_free (auth);
}

static void
log_decision (Check *check, const char *result, const char *why)
{
  char uid[16];

  g_snprintf (uid, sizeof uid, "%u", check->uid);
  g_log_structured (G_LOG_DOMAIN, result[0] == 'a' ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_WARNING,
                    "IPSECD_EVENT", "auth", "IPSECD_ACTION", check->action, "IPSECD_UID", uid,
                    "IPSECD_RESULT", result, "MESSAGE", _ ("%s by uid %u (pid %u): %s (%s)"),
                    g_dbus_method_invocation_get_method_name (check->invocation), check->uid,
                    check->pid, result, why);
}

static void
deny (Check *check, IpsecError code, const char *why)
{
  log_decision (check, code == IPSEC_ERROR_CAN_OBTAIN ? "can-obtain" : "denied", why);
  g_dbus_method_invocation_return_error (check->invocation, IPSEC_ERROR, code,
                                         _ ("Not authorized to %s: %s"), check->action, why);
}

static void
allow (Check *check, const char *why)
{
  log_decision (check, "authorized", why);
  check->authorized (check->invocation, check->uid, check->user_data);
}

static void
on_checked (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (Check) check = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (PolkitAuthorizationResult) result
      = polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);

  if (result == NULL)
    deny (check, IPSEC_ERROR_NOT_AUTHORIZED, error->message);
  else if (polkit_authorization_result_get_is_authorized (result))
    allow (check, "polkit");
  else if (polkit_authorization_result_get_is_challenge (result))
    deny (check, IPSEC_ERROR_CAN_OBTAIN, _ ("authentication is required"));
  else
    deny (check, IPSEC_ERROR_NOT_AUTHORIZED, _ ("polkit says no"));
}

static void
ask_polkit (Check *check)
{
  GDBusMessage *message = g_dbus_method_invocation_get_message (check->invocation);
  PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
  g_autoptr (PolkitSubject) subject = NULL;

  if (check->auth->authority == NULL)
    {
      deny (check, IPSEC_ERROR_NOT_AUTHORIZED,
            check->auth->unavailable != NULL ? check->auth->unavailable->message
                                             : _ ("polkit is not available"));
      check_free (check);
      return;
    }
  if (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
    flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
  /* the process with its start time (looked up now), so a recycled pid
   * cannot borrow another process's authorization */
  subject = polkit_unix_process_new_for_owner ((gint) check->pid, 0, (gint) check->uid);
  polkit_authority_check_authorization (check->auth->authority, subject, check->action, NULL, flags,
                                        NULL, on_checked, check);
}

static void
on_authority (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Check *check = user_data;

  if (check->auth->authority == NULL)
    {
      g_clear_error (&check->auth->unavailable);
      check->auth->authority = polkit_authority_get_finish (res, &check->auth->unavailable);
    }
  ask_polkit (check);
}

static void
on_credentials (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (Check) check = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  g_autoptr (GVariant) creds = NULL;

  check->uid = G_MAXUINT32;
  if (reply == NULL)
    {
      deny (check, IPSEC_ERROR_NOT_AUTHORIZED, error->message);
      return;
    }
  creds = g_variant_get_child_value (reply, 0);
  if (!g_variant_lookup (creds, "UnixUserID", "u", &check->uid)
      || !g_variant_lookup (creds, "ProcessID", "u", &check->pid))
    {
      deny (check, IPSEC_ERROR_NOT_AUTHORIZED, _ ("the bus does not know the caller"));
      return;
    }
  if (check->uid == 0)
    {
      allow (check, "root");
      return;
    }
  if (check->auth->authority != NULL)
    ask_polkit (g_steal_pointer (&check));
  else
    polkit_authority_get_async (NULL, on_authority, g_steal_pointer (&check));
}

void
bus_auth_check (BusAuth *auth, GDBusMethodInvocation *invocation, const char *action,
                BusAuthorizedFunc authorized, gpointer user_data, GDestroyNotify destroy)
{
  Check *check = g_new0 (Check, 1);

  *check = (Check){
    auth,   g_object_ref (invocation), g_strdup (action), G_MAXUINT32, 0, authorized, user_data,
    destroy
  };
  g_dbus_connection_call (
      g_dbus_method_invocation_get_connection (invocation), "org.freedesktop.DBus",
      "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionCredentials",
      g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
      G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_credentials, check);
}
