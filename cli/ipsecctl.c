/* ipsecctl: the command-line front end of ipsecd (DESIGN.md §4, cli/). */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "ipsecctl.h"

static const IpsecctlCommand commands[] = {
  { "version", N_ ("Print the version"), ipsecctl_cmd_version },
};

static const IpsecctlCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static char *
describe_commands (void)
{
  GString *text = g_string_new (_ ("Commands:\n"));

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %-10s %s\n", commands[i].name, _ (commands[i].summary));
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
  if (version)
    return ipsecctl_cmd_version (&options, 1, argv);
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
