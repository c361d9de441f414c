/* Fuzz target: libreswan's ipsec.conf and ipsec.secrets as ipsecctl import
 * and ImportConnections hand them to the store (store-import*.c).
 *
 * The input is the config, then optionally a NUL byte and the secrets.
 * Beyond not crashing, every input checks: a refusal is one error naming
 * one of the two files; otherwise every connection has a valid [connection]
 * group named after its conn, every problem line names a file and a line,
 * and the loader's own checks (run without writing anything) keep only
 * connections that load. */
#include <glib.h>
#include <netinet/in.h>
#include <string.h>

#include "store.h"
#include "fuzz.h"

#define CONFIG "fuzz.conf"
#define SECRETS "fuzz.secrets"

/* Addresses whose last byte is odd are "this host". */
static gboolean
odd_is_local (const struct sockaddr_storage *addr, gpointer user_data)
{
  if (addr->ss_family == AF_INET)
    return ((const guint8 *) &((const struct sockaddr_in *) addr)->sin_addr)[3] & 1;
  return ((const guint8 *) &((const struct sockaddr_in6 *) addr)->sin6_addr)[15] & 1;
}

static void
check_import (StoreImport *imp)
{
  for (guint i = 0; i < imp->connections->len; i++)
    {
      StoreImported *c = g_ptr_array_index (imp->connections, i);
      g_autofree char *name = g_key_file_get_string (c->file, "connection", "name", NULL);
      g_auto (GStrv) groups = g_key_file_get_groups (c->file, NULL);

      CHECK (name != NULL && g_str_equal (name, c->name));
      CHECK (g_strv_length (groups) == 1);
      CHECK (c->line >= 1);
      CHECK (c->psk == NULL || c->psk->len > 0);
    }
  for (guint i = 0; i < imp->problems->len; i++)
    {
      const char *line = imp->problems->pdata[i];

      CHECK (g_str_has_prefix (line, CONFIG ":") || g_str_has_prefix (line, SECRETS ":"));
      CHECK (strchr (line, '\n') == NULL);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, 0, size);
  g_autofree char *config = g_strndup ((const char *) data, nul ? (gsize) (nul - data) : size);
  g_autofree char *secrets
      = nul ? g_strndup ((const char *) nul + 1, size - (nul - data) - 1) : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (StoreImport) imp
      = store_import_parse (config, CONFIG, secrets, SECRETS, odd_is_local, NULL, &error);

  if (imp == NULL)
    {
      CHECK (error != NULL);
      CHECK (g_str_has_prefix (error->message, CONFIG ":")
             || g_str_has_prefix (error->message, SECRETS ":"));
      return 0;
    }
  CHECK (error == NULL);
  check_import (imp);
  /* a directory that does not exist: nothing is read from or written to it */
  store_import_check (imp, "/nonexistent/ipsecd-fuzz", CONFIG);
  check_import (imp);
  return 0;
}
