/* ipsecctl import FILE [--secrets FILE] [--dry-run] [--replace]: libreswan's
 * ipsec.conf (and ipsec.secrets) into ipsecd connections, through
 * Manager.ImportConnections.  The daemon does the mapping, so what is
 * imported here is exactly what a D-Bus client would get; this command
 * only reads the files (ipsecctl runs as the user who can read them) and
 * prints what came back.  The secrets' text is wiped once sent. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ipsecctl.h"

#define USAGE N_ ("FILE [--secrets FILE] [--dry-run] [--replace]")

typedef struct
{
  const char *config;
  const char *secrets;
  gboolean dry_run, replace;
} ImportArgs;

static gboolean
parse_args (int argc, char **argv, ImportArgs *args)
{
  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--dry-run"))
        args->dry_run = TRUE;
      else if (g_str_equal (arg, "--replace"))
        args->replace = TRUE;
      else if (g_str_equal (arg, "--secrets") && i + 1 < argc && args->secrets == NULL)
        args->secrets = argv[++i];
      else if (g_str_has_prefix (arg, "--secrets=") && args->secrets == NULL)
        args->secrets = arg + strlen ("--secrets=");
      else if (arg[0] == '-' && arg[1] != '\0')
        return FALSE;
      else if (args->config == NULL)
        args->config = arg;
      else
        return FALSE;
    }
  return args->config != NULL && (args->secrets == NULL || args->secrets[0] != '\0');
}

/* PATH as text D-Bus can carry ("-": standard input). */
static char *
read_text (const char *path, gsize *len, GError **error)
{
  g_autoptr (GError) why = NULL;
  char *data = NULL;

  if (g_str_equal (path, "-"))
    {
      GString *in = g_string_new (NULL);
      char buf[4096];
      size_t n;

      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        g_string_append_len (in, buf, n);
      memset (buf, 0, sizeof buf);
      *len = in->len;
      data = g_string_free (in, FALSE);
    }
  else if (!g_file_get_contents (path, &data, len, &why))
    goto fail;
  if (strlen (data) != *len || !g_utf8_validate (data, *len, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("%s: not UTF-8 text"), path);
      memset (data, 0, *len);
      g_free (data);
      return NULL;
    }
  return data;
fail:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", why->message);
  return NULL;
}

static void
print_result (const IpsecctlOptions *options, const ImportArgs *args, GVariant *reply)
{
  g_autoptr (GVariant) paths = g_variant_get_child_value (reply, 0);
  g_autoptr (GVariant) problems = g_variant_get_child_value (reply, 1);
  g_autoptr (GString) out = g_string_new (NULL);
  gsize n = g_variant_n_children (paths), n_problems = g_variant_n_children (problems);

  if (options->json)
    {
      g_string_append_printf (out,
                              "{\"dry-run\":%s,\"connections\":", args->dry_run ? "true" : "false");
      ipsecctl_json_value (out, paths);
      g_string_append (out, ",\"problems\":");
      ipsecctl_json_value (out, problems);
      g_print ("%s}\n", out->str);
      return;
    }
  for (gsize i = 0; i < n; i++)
    {
      const char *path = NULL;
      g_autofree char *name = NULL;

      g_variant_get_child (paths, i, "&o", &path);
      name = (char *) g_dbus_unescape_object_path (strrchr (path, '/') + 1);
      g_print (args->dry_run ? _ ("would import %s\n") : _ ("imported %s\n"),
               name != NULL ? name : path);
    }
  if (n == 0)
    g_print (_ ("no connection imported\n"));
  if (n_problems > 0)
    g_print (_ ("%zu problem(s):\n"), n_problems);
  for (gsize i = 0; i < n_problems; i++)
    {
      const char *line = NULL;

      g_variant_get_child (problems, i, "&s", &line);
      g_print ("  %s\n", line);
    }
}

static GVariant *
call_import (const ImportArgs *args, const char *config, const char *secrets, GError **error)
{
  g_autoptr (IpsecDbusManager) manager = ipsecctl_manager (error);
  GVariantBuilder flags;

  if (manager == NULL)
    return NULL;
  g_variant_builder_init (&flags, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&flags, "{sv}", "dry-run", g_variant_new_boolean (args->dry_run));
  g_variant_builder_add (&flags, "{sv}", "replace", g_variant_new_boolean (args->replace));
  /* problem lines name the files as the user gave them */
  g_variant_builder_add (&flags, "{sv}", "config-file", g_variant_new_string (args->config));
  if (args->secrets != NULL)
    g_variant_builder_add (&flags, "{sv}", "secrets-file", g_variant_new_string (args->secrets));
  return ipsecctl_call (
      G_DBUS_PROXY (manager), "ImportConnections",
      g_variant_new ("(ss@a{sv})", config, secrets, g_variant_builder_end (&flags)), error);
}

int
ipsecctl_cmd_import (const IpsecctlOptions *options, int argc, char **argv)
{
  ImportArgs args = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *config = NULL;
  char *secrets = NULL;
  gsize config_len = 0, secrets_len = 0;

  if (!parse_args (argc, argv, &args))
    return ipsecctl_usage ("import", _ (USAGE));
  config = read_text (args.config, &config_len, &error);
  if (config != NULL && args.secrets != NULL)
    secrets = read_text (args.secrets, &secrets_len, &error);
  if (config != NULL && (args.secrets == NULL || secrets != NULL))
    reply = call_import (&args, config, secrets != NULL ? secrets : "", &error);
  if (secrets != NULL)
    {
      memset (secrets, 0, secrets_len);
      g_free (secrets);
    }
  if (reply == NULL)
    return ipsecctl_fail (options, error);
  print_result (options, &args, reply);
  return IPSECCTL_EXIT_OK;
}
