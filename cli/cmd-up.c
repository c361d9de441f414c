/* ipsecctl up NAME: initiate, then wait until the connection is up or
 * failed, and say which (and why). */
#include "config.h"

#include <glib/gi18n.h>

#include "ipsecctl.h"

#define WAIT_SECONDS 30

typedef struct
{
  GMainLoop *loop;
  gboolean changed; /* a "failed" from before the call does not count */
} Wait;

static gboolean
settled (IpsecDbusConnection *conn, Wait *wait)
{
  const char *state = ipsec_dbus_connection_get_state (conn);

  return g_strcmp0 (state, "up") == 0 || (wait->changed && g_strcmp0 (state, "failed") == 0);
}

static void
on_state (IpsecDbusConnection *conn, GParamSpec *pspec, gpointer user_data)
{
  Wait *wait = user_data;

  wait->changed = TRUE;
  if (settled (conn, wait))
    g_main_loop_quit (wait->loop);
}

static gboolean
on_timeout (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static int
report (const IpsecctlOptions *options, IpsecDbusConnection *conn)
{
  const char *state = ipsec_dbus_connection_get_state (conn);
  gboolean up = g_strcmp0 (state, "up") == 0;

  if (options->json)
    {
      g_autoptr (GString) out = g_string_new (NULL);

      ipsecctl_json_properties (out, G_DBUS_PROXY (conn));
      g_print ("%s\n", out->str);
    }
  else if (up)
    g_print (_ ("%s is up\n"), ipsec_dbus_connection_get_name (conn));
  else if (g_strcmp0 (state, "failed") == 0)
    g_print (_ ("%s failed: %s\n"), ipsec_dbus_connection_get_name (conn),
             ipsec_dbus_connection_get_last_error (conn));
  else
    g_print (_ ("%s is still %s after %d seconds\n"), ipsec_dbus_connection_get_name (conn), state,
             WAIT_SECONDS);
  return up ? IPSECCTL_EXIT_OK : IPSECCTL_EXIT_DOWN;
}

int
ipsecctl_cmd_up (const IpsecctlOptions *options, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusObjectManager) objects = NULL;
  g_autoptr (IpsecDbusConnection) conn = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Wait wait = { loop, FALSE };
  guint timeout;

  if (argc != 2)
    return ipsecctl_usage ("up", _ ("NAME"));
  objects = ipsecctl_objects (&error);
  if (objects == NULL || (conn = ipsecctl_connection (objects, argv[1], &error)) == NULL)
    return ipsecctl_fail (options, error);
  g_signal_connect (conn, "notify::state", G_CALLBACK (on_state), &wait);
  reply = ipsecctl_call (G_DBUS_PROXY (conn), "Up", NULL, &error);
  if (reply == NULL)
    {
      int code = ipsecctl_fail (options, error);

      return code == IPSECCTL_EXIT_FAILURE ? IPSECCTL_EXIT_DOWN : code;
    }
  timeout = g_timeout_add_seconds (WAIT_SECONDS, on_timeout, loop);
  if (!settled (conn, &wait))
    g_main_loop_run (loop);
  g_source_remove (timeout);
  g_signal_handlers_disconnect_by_data (conn, &wait);
  return report (options, conn);
}
