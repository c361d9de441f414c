/* ipsecd: the daemon's entry point.  It parses the command line, sets up
 * logging, and hands over to the daemon object (daemon.h), which runs the
 * main loop that every layer of the service hangs off (DESIGN.md §4). */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "net-socket.h"

typedef struct
{
  gboolean version;
  gboolean debug;
  char *config_dir;
  char *state_dir;
  char *runtime_dir;
  int ike_port;
  int natt_port;
  char *record_kernel;
  char *bus;
  GBusType bus_type;
} Args;

static void
args_clear (Args *args)
{
  g_free (args->config_dir);
  g_free (args->state_dir);
  g_free (args->runtime_dir);
  g_free (args->record_kernel);
  g_free (args->bus);
}

static gboolean
check_port (int port, const char *option, GError **error)
{
  if (port >= 1 && port <= 65535)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _ ("%s must be a UDP port from 1 to 65535"), option);
  return FALSE;
}

static gboolean
parse_bus (const char *text, GBusType *type, GError **error)
{
  if (text == NULL || g_str_equal (text, "system"))
    *type = G_BUS_TYPE_SYSTEM;
  else if (g_str_equal (text, "session"))
    *type = G_BUS_TYPE_SESSION;
  else if (g_str_equal (text, "none"))
    *type = G_BUS_TYPE_NONE;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("--bus must be system, session or none"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_args (int *argc, char ***argv, Args *args, GError **error)
{
  GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &args->version, N_ ("Print the version and exit"), NULL },
    { "debug", 'd', 0, G_OPTION_ARG_NONE, &args->debug, N_ ("Log debug messages"), NULL },
    { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &args->config_dir,
      N_ ("Configuration directory (default SYSCONFDIR/ipsecd)"), N_ ("DIR") },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &args->state_dir,
      N_ ("State directory (default $STATE_DIRECTORY or LOCALSTATEDIR/lib/ipsecd)"), N_ ("DIR") },
    { "runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &args->runtime_dir,
      N_ ("Runtime directory (default $RUNTIME_DIRECTORY or /run/ipsecd)"), N_ ("DIR") },
    { "ike-port", 0, 0, G_OPTION_ARG_INT, &args->ike_port, N_ ("UDP port for IKE (default 500)"),
      N_ ("PORT") },
    { "natt-port", 0, 0, G_OPTION_ARG_INT, &args->natt_port,
      N_ ("UDP port for NAT traversal (default 4500)"), N_ ("PORT") },
    { "record-kernel", 0, 0, G_OPTION_ARG_FILENAME, &args->record_kernel,
      N_ ("TEST ONLY: append kernel requests to FILE as JSON lines instead of installing them"),
      N_ ("FILE") },
    { "bus", 0, 0, G_OPTION_ARG_STRING, &args->bus,
      N_ ("Own org.libreswan.IPsec on the system or session bus, or none (default system)"),
      N_ ("system|session|none") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context,
                                _ ("The IPsec service of the system bus (org.libreswan.IPsec)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  return check_port (args->ike_port, "--ike-port", error)
         && check_port (args->natt_port, "--natt-port", error)
         && parse_bus (args->bus, &args->bus_type, error);
}

static char *
env_or (const char *variable, const char *fallback)
{
  const char *value = g_getenv (variable);

  /* systemd may list several directories; the first is ours */
  if (value != NULL && value[0] != '\0')
    return g_strndup (value, strcspn (value, ":"));
  return g_strdup (fallback);
}

static void
fill_options (Args *args, IpsecdOptions *options)
{
  options->config_dir = args->config_dir != NULL ? args->config_dir : g_strdup (IPSECD_CONFIG_DIR);
  options->state_dir
      = args->state_dir != NULL ? args->state_dir : env_or ("STATE_DIRECTORY", IPSECD_STATE_DIR);
  options->runtime_dir
      = args->runtime_dir != NULL ? args->runtime_dir : env_or ("RUNTIME_DIRECTORY", "/run/ipsecd");
  options->ike_port = (guint16) args->ike_port;
  options->natt_port = (guint16) args->natt_port;
  options->record_kernel = args->record_kernel;
  options->bus = args->bus_type;
  g_clear_pointer (&args->bus, g_free); /* parsed into bus_type */
  /* the options own them now */
  args->config_dir = args->state_dir = args->runtime_dir = args->record_kernel = NULL;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IpsecdDaemon) daemon = NULL;
  Args args = { .ike_port = NET_IKE_PORT, .natt_port = NET_NATT_PORT };
  IpsecdOptions options = { 0 };
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_log_set_writer_func (ipsecd_log_writer, NULL, NULL);

  if (!parse_args (&argc, &argv, &args, &error))
    {
      g_printerr ("ipsecd: %s\n", error->message);
      args_clear (&args);
      return EXIT_FAILURE;
    }
  if (args.version)
    {
      g_print ("ipsecd %s\n", PACKAGE_VERSION);
      args_clear (&args);
      return EXIT_SUCCESS;
    }
  if (args.debug)
    g_log_set_debug_enabled (TRUE);
  fill_options (&args, &options);
  daemon = ipsecd_daemon_new (&options, &error);
  g_free (options.config_dir);
  g_free (options.state_dir);
  g_free (options.runtime_dir);
  g_free (options.record_kernel);
  if (daemon == NULL)
    {
      g_printerr ("ipsecd: %s\n", error->message);
      return EXIT_FAILURE;
    }
  status = ipsecd_daemon_run (daemon);
  return status;
}
