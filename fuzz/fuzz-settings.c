/* Fuzz target: connection keyfiles (service/store/), which an administrator
 * writes and AddConnection/Update build from D-Bus settings.
 *
 * The input is the keyfile text; if it holds a NUL byte, the bytes after
 * the first one are the contents of the private key file, and any
 * local-key setting is pointed at that file in a private temporary folder
 * (the harness never lets an input name a file of the machine: a path is
 * not what is being tested, and /dev/zero would only measure the disk).
 *
 * Beyond not crashing, each input checks that
 *   - every value of the group goes through the value parsers
 *     (store_parse_id, _cidr, _duration, _bool), each either failing with an
 *     error or giving a value in range: an identity type and its data, a
 *     prefix's range with start <= end, a duration that is not negative;
 *   - a connection that loads has a valid name, a config the engine
 *     accepts, no "psk" in its D-Bus settings, and loads again from its own
 *     serialisation with the same digest (loading is deterministic). */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike-engine-private.h"
#include "store.h"
#include "fuzz.h"

#define GROUP "connection"

static char *config_dir, *key_path;

static void
cleanup (void)
{
  g_autofree char *secrets = g_build_filename (config_dir, "secrets", NULL);

  g_unlink (key_path);
  g_rmdir (secrets);
  g_rmdir (config_dir);
}

static void
setup (void)
{
  g_autofree char *secrets = NULL;

  if (config_dir != NULL)
    return;
  config_dir = g_dir_make_tmp ("fuzz-settings-XXXXXX", NULL);
  CHECK (config_dir != NULL);
  secrets = g_build_filename (config_dir, "secrets", NULL);
  CHECK (g_mkdir (secrets, 0700) == 0);
  key_path = g_build_filename (config_dir, "key.pem", NULL);
  atexit (cleanup);
}

static void
check_values (const char *text)
{
  IkeIdType type;
  g_autoptr (GBytes) id = NULL;
  IkeTs ts;
  gint64 usec;
  gboolean flag;
  GError *error = NULL;

  if (store_parse_id (text, TRUE, &type, &id, &error))
    CHECK (type == 0 || id != NULL);
  else
    CHECK (error != NULL && id == NULL);
  g_clear_error (&error);
  if (store_parse_cidr (text, &ts, &error))
    {
      gsize len = ts.type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;

      CHECK (ts.type == IKE_TS_IPV4_ADDR_RANGE || ts.type == IKE_TS_IPV6_ADDR_RANGE);
      CHECK (memcmp (ts.start, ts.end, len) <= 0);
    }
  else
    CHECK (error != NULL);
  g_clear_error (&error);
  if (store_parse_duration (text, &usec, &error))
    CHECK (usec >= 0);
  else
    CHECK (error != NULL);
  g_clear_error (&error);
  if (!store_parse_bool (text, &flag, &error))
    CHECK (error != NULL);
  g_clear_error (&error);
}

static void
check_loaded (const StoreConnection *conn, GKeyFile *file, const IkeSecret *psk)
{
  g_autoptr (GVariant) settings = g_variant_ref_sink (store_connection_settings (conn));
  g_autofree char *data = g_key_file_to_data (file, NULL, NULL);
  g_autoptr (GKeyFile) again = g_key_file_new ();
  g_autoptr (StoreConnection) conn2 = NULL;
  g_autoptr (GError) error = NULL;

  CHECK (conn->name != NULL && conn->name[0] != '\0' && conn->digest != NULL);
  CHECK (ike_config_check (conn->config, NULL));
  CHECK (!g_variant_lookup (settings, "psk", "s", NULL));
  CHECK (g_key_file_load_from_data (again, data, -1, G_KEY_FILE_NONE, NULL));
  conn2 = store_connection_parse (config_dir, conn->path, again, psk, &error);
  CHECK (conn2 != NULL);
  CHECK (g_str_equal (conn2->digest, conn->digest));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (IkeSecret) psk = ike_secret_new (32);
  g_autofree char *path = NULL;
  g_auto (GStrv) keys = NULL;
  g_autoptr (StoreConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  const uint8_t *nul = memchr (data, '\0', size);
  gsize text_len = nul != NULL ? (gsize) (nul - data) : size;

  setup ();
  if (!g_key_file_load_from_data (file, (const char *) data, text_len, G_KEY_FILE_NONE, NULL))
    return 0;
  /* A fixed PSK that passes the strength checks (length and entropy). */
  for (guint i = 0; i < psk->len; i++)
    psk->data[i] = "Kx7#qL2$vR9!mW4@pZ6&tY8*nB3^hJ5%"[i];
  keys = g_key_file_get_keys (file, GROUP, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *value = g_key_file_get_string (file, GROUP, keys[i], NULL);

      if (value != NULL)
        check_values (g_strstrip (value));
    }
  if (g_key_file_has_key (file, GROUP, "local-key", NULL))
    {
      CHECK (g_file_set_contents (key_path, nul != NULL ? (const char *) nul + 1 : "",
                                  nul != NULL ? (gssize) (size - text_len - 1) : 0, NULL));
      g_key_file_set_string (file, GROUP, "local-key", key_path);
    }
  path = g_build_filename (config_dir, "connections", "fuzz.conf", NULL);
  conn = store_connection_parse (config_dir, path, file, psk, &error);
  if (conn == NULL)
    CHECK (error != NULL && error->message[0] != '\0');
  else
    check_loaded (conn, file, psk);
  return 0;
}
