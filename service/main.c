/* ipsecd: the daemon's entry point.  It parses the command line, sets up
 * logging and signals, and runs the main loop that every layer of the
 * service hangs off (DESIGN.md §4). */
#include "config.h"

#include <glib-unix.h>
#include <glib.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>

typedef struct
{
  GMainLoop *loop;
  int exit_signal;
} Daemon;

static gboolean
on_terminate (gpointer user_data, int signum)
{
  Daemon *daemon = user_data;

  daemon->exit_signal = signum;
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  return on_terminate (user_data, SIGTERM);
}

static gboolean
on_sigint (gpointer user_data)
{
  return on_terminate (user_data, SIGINT);
}

static gboolean
parse_args (int *argc, char ***argv, GError **error)
{
  gboolean version = FALSE;
  gboolean debug = FALSE;
  GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_ ("Print the version and exit"), NULL },
    { "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, N_ ("Log debug messages"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context,
                                _ ("The IPsec service of the system bus (org.libreswan.IPsec)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (version)
    {
      g_print ("ipsecd %s\n", PACKAGE_VERSION);
      exit (EXIT_SUCCESS);
    }
  if (debug)
    g_log_set_debug_enabled (TRUE);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  Daemon daemon = { 0 };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (!parse_args (&argc, &argv, &error))
    {
      g_printerr ("ipsecd: %s\n", error->message);
      return EXIT_FAILURE;
    }

  daemon.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_sigterm, &daemon);
  g_unix_signal_add (SIGINT, on_sigint, &daemon);

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "ipsecd %s started",
                    PACKAGE_VERSION, "IPSECD_EVENT", "start");
  g_main_loop_run (daemon.loop);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "ipsecd stopping on %s",
                    g_strsignal (daemon.exit_signal), "IPSECD_EVENT", "stop");
  g_main_loop_unref (daemon.loop);
  return EXIT_SUCCESS;
}
