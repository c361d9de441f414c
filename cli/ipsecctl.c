/* ipsecctl: the command-line front end of ipsecd (DESIGN.md §4, cli/). */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipsec-error.h"
#include "ipsecctl.h"

static const IpsecctlCommand commands[] = {
  { "status", "", N_ ("Show the daemon and its connections"), ipsecctl_cmd_status },
  { "list", "", N_ ("List the connections"), ipsecctl_cmd_list },
  { "show", N_ ("NAME"), N_ ("Show a connection and its SAs"), ipsecctl_cmd_show },
  { "up", N_ ("NAME"), N_ ("Bring a connection up and wait for the result"), ipsecctl_cmd_up },
  { "down", N_ ("NAME"), N_ ("Take a connection down"), ipsecctl_cmd_down },
  { "add", N_ ("NAME KEY=VALUE…"),
    N_ ("Add a connection (keys of ipsecd.conf(5), psk=- reads stdin)"), ipsecctl_cmd_add },
  { "modify", N_ ("NAME KEY=VALUE…"),
    N_ ("Change a connection (KEY= removes a key, psk=- reads stdin)"), ipsecctl_cmd_modify },
  { "delete", N_ ("NAME"), N_ ("Delete a connection and its PSK"), ipsecctl_cmd_delete },
  { "reload", "", N_ ("Read the connection files again"), ipsecctl_cmd_reload },
  { "import", N_ ("FILE [--secrets FILE] [--dry-run] [--replace]"),
    N_ ("Import libreswan's ipsec.conf (and ipsec.secrets)"), ipsecctl_cmd_import },
  { "policy", N_ ("[GROUP [ENTRY…|--clear|--add ENTRY…|--remove ENTRY…]]"),
    N_ ("Show or set the opportunistic encryption groups"), ipsecctl_cmd_policy },
  { "monitor", "", N_ ("Print changes as they happen until interrupted"), ipsecctl_cmd_monitor },
  { "version", "", N_ ("Print the client's and the daemon's version"), ipsecctl_cmd_version },
};

static const IpsecctlCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

/* "--json" may also follow the command ("ipsecctl show NAME --json"). */
static void
take_json (int *argc, char **argv, IpsecctlOptions *options)
{
  int out = 1;

  for (int i = 1; i < *argc; i++)
    if (g_str_equal (argv[i], "--json"))
      options->json = TRUE;
    else
      argv[out++] = argv[i];
  *argc = out;
  argv[out] = NULL;
}

static char *
describe_commands (void)
{
  GString *text = g_string_new (_ ("Commands:\n"));

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *head = g_strdup_printf ("%s %s", commands[i].name,
                                               commands[i].usage[0] ? _ (commands[i].usage) : "");

      /* pad by characters: "…" is three bytes; a long head gets its own line */
      glong width = g_utf8_strlen (head, -1);

      g_string_append_printf (text, "  %s%*s %s\n", head, width > 24 ? 0 : (int) (24 - width),
                              width > 24 ? "\n                          " : "",
                              _ (commands[i].summary));
    }
  g_string_append (text, _ ("\nExit status: 0 ok, 1 failure, 2 usage, 3 no such connection, 4 not "
                            "authorized, 5 invalid setting, 6 connection failed, 7 ipsecd not "
                            "running.\nColour only on a terminal, never with NO_COLOR set.\n"));
  return g_string_free (text, FALSE);
}

int
main (int argc, char **argv)
{
  gboolean version = FALSE;
  IpsecctlOptions options = { 0 };
  GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_ ("Print the version and exit"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &options.json, N_ ("Print JSON for scripts"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("COMMAND [ARGUMENTS…]"));
  g_autoptr (GError) error = NULL;
  g_autofree char *description = describe_commands ();
  const IpsecctlCommand *command;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_description (context, description);
  /* Options after the command belong to the command. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("ipsecctl: %s\n", error->message);
      return IPSECCTL_EXIT_USAGE;
    }
  /* registers the domain: the daemon's errors arrive as IPSEC_ERROR codes */
  ipsec_error_quark ();
  take_json (&argc, argv, &options);
  options.color = isatty (STDOUT_FILENO) && g_getenv ("NO_COLOR") == NULL;
  if (version)
    {
      /* only this program's: --version must work without a bus */
      g_print ("ipsecctl %s\n", PACKAGE_VERSION);
      return IPSECCTL_EXIT_OK;
    }
  if (argc < 2)
    {
      g_printerr (_ ("ipsecctl: no command given; see “ipsecctl --help”\n"));
      return IPSECCTL_EXIT_USAGE;
    }
  command = find_command (argv[1]);
  if (command == NULL)
    {
      g_printerr (_ ("ipsecctl: unknown command “%s”; see “ipsecctl --help”\n"), argv[1]);
      return IPSECCTL_EXIT_USAGE;
    }
  return command->run (&options, argc - 1, argv + 1);
}
