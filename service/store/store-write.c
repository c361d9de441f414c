/* Connections written by the daemon itself (AddConnection, Update, Delete
 * on the bus).  Settings are checked by the very code that loads files
 * (store_connection_parse), so what can be saved always loads; only then
 * are the files written, each atomically and owner-only, the PSK last
 * into its own file.  A setting that fails leaves every file as it was. */
#include "config.h"

#include "store.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#define GROUP "connection"
#define PSK_KEY "psk"

static gboolean
invalid_key (const char *key, GError **error, const char *why)
{
  g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, _ ("key “%s”: %s"), key, why);
  return FALSE;
}

/* A value as the file spells it: strings as they are, booleans yes/no,
 * numbers in decimal, string lists joined with commas. */
static char *
value_text (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "yes" : "no");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **items = g_variant_get_strv (value, NULL);

      return g_strjoinv (",", (char **) items);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    return g_strdup_printf ("%d", g_variant_get_int32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_strdup_printf ("%u", g_variant_get_uint32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
  return NULL;
}

gboolean
store_settings_merge (GKeyFile *file, GVariant *settings, IkeSecret **psk, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, settings);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      g_autofree char *text = value_text (value);

      if (text == NULL)
        {
          g_variant_unref (value);
          return invalid_key (key, error, _ ("must be a string, boolean, number or string list"));
        }
      if (g_str_equal (key, PSK_KEY))
        {
          g_clear_pointer (psk, ike_secret_free);
          *psk = ike_secret_new_from_data ((const guint8 *) text, strlen (text));
          ike_memzero (text, strlen (text));
        }
      else if (text[0] == '\0')
        g_key_file_remove_key (file, GROUP, key, NULL);
      else
        g_key_file_set_string (file, GROUP, key, text);
    }
  return TRUE;
}

char *
store_connection_path (const char *config_dir, const char *name)
{
  g_autofree char *base = g_strconcat (name, ".conf", NULL);

  return g_build_filename (config_dir, "connections", base, NULL);
}

static char *
psk_path (const char *config_dir, const char *name)
{
  g_autofree char *base = g_strconcat (name, ".psk", NULL);

  return g_build_filename (config_dir, "secrets", base, NULL);
}

static gboolean
make_dir (const char *config_dir, const char *sub, GError **error)
{
  g_autofree char *dir = g_build_filename (config_dir, sub, NULL);

  if (g_mkdir_with_parents (dir, 0700) == 0)
    return TRUE;
  g_set_error (error, STORE_ERROR, STORE_ERROR_IO, _ ("cannot create %s: %s"), dir,
               g_strerror (errno));
  return FALSE;
}

static gboolean
write_file (const char *path, const void *data, gsize len, GError **error)
{
  g_autoptr (GError) why = NULL;

  if (g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &why))
    return TRUE;
  g_set_error (error, STORE_ERROR, STORE_ERROR_IO, "%s", why->message);
  return FALSE;
}

static gboolean
write_psk (const char *config_dir, const char *name, const IkeSecret *psk, GError **error)
{
  g_autofree char *path = psk_path (config_dir, name);
  g_autoptr (IkeSecret) line = ike_secret_new (psk->len + 1);

  memcpy (line->data, psk->data, psk->len);
  line->data[psk->len] = '\n';
  return make_dir (config_dir, "secrets", error) && write_file (path, line->data, line->len, error);
}

StoreConnection *
store_save (const char *config_dir, const char *path, GKeyFile *file, const IkeSecret *psk,
            GError **error)
{
  g_autoptr (StoreConnection) conn = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  /* everything is checked before anything is written */
  conn = store_connection_parse (config_dir, path, file, psk, error);
  if (conn == NULL)
    return NULL;
  data = g_key_file_to_data (file, &len, NULL);
  if (psk != NULL && !write_psk (config_dir, conn->name, psk, error))
    return NULL;
  if (!make_dir (config_dir, "connections", error) || !write_file (path, data, len, error))
    return NULL;
  return g_steal_pointer (&conn);
}

gboolean
store_remove (const char *config_dir, const StoreConnection *conn, GError **error)
{
  g_autofree char *secret = psk_path (config_dir, conn->name);

  if (g_unlink (conn->path) != 0 && errno != ENOENT)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_IO, _ ("cannot remove %s: %s"), conn->path,
                   g_strerror (errno));
      return FALSE;
    }
  /* the connection is gone already; a PSK left behind is only untidy */
  if (g_unlink (secret) != 0 && errno != ENOENT)
    g_warning (_ ("cannot remove %s: %s"), secret, g_strerror (errno));
  return TRUE;
}

GKeyFile *
store_connection_keys (const StoreConnection *conn, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();

  if (!g_key_file_load_from_file (file, conn->path, G_KEY_FILE_KEEP_COMMENTS, error))
    return NULL;
  return g_steal_pointer (&file);
}

GVariant *
store_connection_settings (const StoreConnection *conn)
{
  g_autoptr (GKeyFile) file = store_connection_keys (conn, NULL);
  g_auto (GStrv) keys = NULL;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (file != NULL)
    keys = g_key_file_get_keys (file, GROUP, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *value = g_key_file_get_string (file, GROUP, keys[i], NULL);

      /* the file never holds the PSK; this is belt and braces */
      if (value != NULL && !g_str_equal (keys[i], PSK_KEY))
        g_variant_builder_add (&builder, "{sv}", keys[i],
                               g_variant_new_string (g_strstrip (value)));
    }
  /* a file named after its connection need not say the name */
  if (file != NULL && !g_key_file_has_key (file, GROUP, "name", NULL))
    g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string (conn->name));
  return g_variant_builder_end (&builder);
}
