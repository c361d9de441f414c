/* Values of connection files: identities, selectors, durations, booleans,
 * and the secrets and keys a connection names.  Each parser says in its
 * error what it expected; the caller adds the file and the key. */
#include "config.h"

#include "store.h"

#include "ike-sign.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <keyhi.h>
#include <pk11pub.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A PSK longer than this is a mistake (a key file named by accident). */
#define MAX_PSK_FILE 4096
#define MAX_KEY_FILE (64 * 1024)
#define MAX_FQDN 255

G_DEFINE_QUARK (store - error - quark, store_error)

static gboolean invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, STORE_ERROR, STORE_ERROR_INVALID, message);
  return FALSE;
}

/* ---- identities ---- */

static gboolean
parse_id_address (const char *text, IkeIdType *type, GBytes **data)
{
  guint8 buf[16];

  if (inet_pton (AF_INET, text, buf) == 1)
    {
      *type = IKE_ID_IPV4_ADDR;
      *data = g_bytes_new (buf, 4);
      return TRUE;
    }
  if (inet_pton (AF_INET6, text, buf) == 1)
    {
      *type = IKE_ID_IPV6_ADDR;
      *data = g_bytes_new (buf, 16);
      return TRUE;
    }
  return FALSE;
}

static gboolean
name_is_sane (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_FQDN)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isgraph (*p))
      return FALSE;
  return TRUE;
}

gboolean
store_parse_id (const char *text, gboolean allow_any, IkeIdType *type, GBytes **data,
                GError **error)
{
  const char *at = strchr (text, '@');

  *data = NULL;
  if (g_ascii_strcasecmp (text, "%null") == 0)
    {
      *type = IKE_ID_NULL;
      *data = g_bytes_new (NULL, 0);
      return TRUE;
    }
  if (allow_any && g_ascii_strcasecmp (text, "%any") == 0)
    {
      *type = 0;
      return TRUE;
    }
  if (parse_id_address (text, type, data))
    return TRUE;
  /* as libreswan: an "=" makes it a distinguished name */
  if (strchr (text, '=') != NULL)
    {
      *type = IKE_ID_DER_ASN1_DN;
      return store_parse_dn (text, data, error);
    }
  /* libreswan: "@host" is an FQDN taken literally (never resolved). */
  if (at == text)
    text++;
  if (!name_is_sane (text) || strchr (text, '%') != NULL)
    return invalid (
        error, _ ("“%s” is not an identity: use an address, @fqdn, user@domain, a DN or %%null"),
        text);
  *type = (at != NULL && at != text - 1) ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN;
  *data = g_bytes_new (text, strlen (text));
  return TRUE;
}

/* ---- traffic selectors ---- */

static void
fill_range (IkeTs *ts, const guint8 *addr, gsize len, guint prefix)
{
  memcpy (ts->start, addr, len);
  memcpy (ts->end, addr, len);
  for (gsize i = 0; i < len; i++)
    {
      guint bits = prefix > i * 8 ? MIN (prefix - i * 8, 8) : 0;
      guint8 mask = bits == 0 ? 0 : (guint8) (0xff << (8 - bits));

      ts->start[i] &= mask;
      ts->end[i] |= (guint8) ~mask;
    }
}

gboolean
store_parse_cidr (const char *text, IkeTs *ts, GError **error)
{
  /* "" would split into no parts at all: make it an empty address instead */
  g_auto (GStrv) parts = g_strsplit (*text != '\0' ? text : "/", "/", 2);
  guint8 addr[16];
  gboolean v6 = strchr (parts[0], ':') != NULL;
  guint max = v6 ? 128 : 32;
  guint64 prefix = max;

  memset (ts, 0, sizeof *ts);
  if (inet_pton (v6 ? AF_INET6 : AF_INET, parts[0], addr) != 1
      || (parts[1] != NULL && (!g_ascii_string_to_unsigned (parts[1], 10, 0, max, &prefix, NULL))))
    return invalid (error, _ ("“%s” is not an address or a prefix like 192.0.2.0/24"), text);
  ts->type = v6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
  ts->start_port = 0;
  ts->end_port = 65535;
  fill_range (ts, addr, v6 ? 16 : 4, (guint) prefix);
  return TRUE;
}

/* ---- scalars ---- */

gboolean
store_parse_duration (const char *text, gint64 *usec, GError **error)
{
  char *end = NULL;
  double value = g_ascii_strtod (text, &end);
  double scale = G_USEC_PER_SEC;

  if (end == text || !(value >= 0) || value > 86400.0 * 365)
    return invalid (error, _ ("“%s” is not a duration like 30, 1.5s, 500ms, 2m or 1h"), text);
  if (g_str_equal (end, "ms"))
    scale = 1000;
  else if (g_str_equal (end, "m"))
    scale = 60.0 * G_USEC_PER_SEC;
  else if (g_str_equal (end, "h"))
    scale = 3600.0 * G_USEC_PER_SEC;
  else if (!g_str_equal (end, "") && !g_str_equal (end, "s"))
    return invalid (error, _ ("“%s” is not a duration like 30, 1.5s, 500ms, 2m or 1h"), text);
  *usec = (gint64) (value * scale);
  return TRUE;
}

gboolean
store_parse_bool (const char *text, gboolean *value, GError **error)
{
  static const char *const yes[] = { "yes", "true", "1", "on", NULL };
  static const char *const no[] = { "no", "false", "0", "off", NULL };

  for (guint i = 0; yes[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (text, yes[i]) == 0)
        return (*value = TRUE);
      if (g_ascii_strcasecmp (text, no[i]) == 0)
        return (*value = FALSE, TRUE);
    }
  return invalid (error, _ ("“%s” is neither yes nor no"), text);
}

/* ---- secrets ---- */

/* The file must be ours and closed to everyone else: a PSK that others
 * could read is a PSK an attacker may know. */
static gboolean
check_secret_file (int fd, const char *path, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SECRET, _ ("%s: not a regular file"), path);
      return FALSE;
    }
  if ((st.st_mode & 077) != 0 || st.st_uid != geteuid ())
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SECRET,
                   _ ("%s: refused: group or others may access it (mode %04o, owner %u); "
                      "it must be owned by the daemon's user with mode 0600 or 0400"),
                   path, (guint) (st.st_mode & 07777), (guint) st.st_uid);
      return FALSE;
    }
  return TRUE;
}

static IkeSecret *
read_secret_fd (int fd, const char *path, GError **error)
{
  g_autoptr (IkeSecret) buf = ike_secret_new (MAX_PSK_FILE + 1);
  gssize n;
  gsize len;
  IkeSecret *psk;

  do
    n = read (fd, buf->data, buf->len);
  while (n < 0 && errno == EINTR);
  if (n < 0 || n > MAX_PSK_FILE)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SECRET,
                   n < 0 ? _ ("%s: cannot read it") : _ ("%s: longer than any PSK"), path);
      return NULL;
    }
  /* One trailing newline is the editor's, not the key's. */
  len = n;
  if (len > 0 && buf->data[len - 1] == '\n')
    len--;
  if (len > 0 && buf->data[len - 1] == '\r')
    len--;
  if (len == 0)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SECRET, _ ("%s: empty"), path);
      return NULL;
    }
  psk = ike_secret_new (len);
  memcpy (psk->data, buf->data, len);
  return psk;
}

IkeSecret *
store_read_psk (const char *config_dir, const char *name, GError **error)
{
  g_autofree char *file = g_strconcat (name, ".psk", NULL);
  g_autofree char *path = g_build_filename (config_dir, "secrets", file, NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  IkeSecret *psk = NULL;

  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, STORE_ERROR, STORE_ERROR_SECRET, _ ("%s: cannot open it: %s"), path,
                   g_strerror (errsv));
      return NULL;
    }
  if (check_secret_file (fd, path, error))
    psk = read_secret_fd (fd, path, error);
  close (fd);
  return psk;
}

/* ---- keys ---- */

typedef struct
{
  guchar *data;
  gsize len;
} WipeBlock;

static void
wipe_block_free (gpointer user_data)
{
  WipeBlock *block = user_data;

  ike_memzero (block->data, block->len);
  g_free (block->data);
  g_free (block);
}

/* Key material as GBytes that is wiped when the last reference goes. */
static GBytes *
wiped_bytes_take (guchar *data, gsize len)
{
  WipeBlock *block = g_new (WipeBlock, 1);

  block->data = data;
  block->len = len;
  return g_bytes_new_with_free_func (data, len, wipe_block_free, block);
}

/* Base64 with whitespace anywhere; NULL unless every other byte is base64. */
static GBytes *
decode_base64 (const char *text)
{
  g_autoptr (GString) clean = g_string_new (NULL);
  gsize len;
  guchar *data;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        continue;
      if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
        return NULL;
      g_string_append_c (clean, *p);
    }
  if (clean->len == 0 || clean->len % 4 != 0)
    return NULL;
  data = g_base64_decode (clean->str, &len);
  ike_memzero (clean->str, clean->len);
  return wiped_bytes_take (data, len);
}

SECKEYPublicKey *
store_parse_public_key (const char *text, GError **error)
{
  g_autoptr (GBytes) der = NULL;
  g_autoptr (GError) local_error = NULL;
  SECKEYPublicKey *key;

  /* libreswan writes base64 values with a "0s" prefix. */
  if (g_str_has_prefix (text, "0s"))
    text += 2;
  der = decode_base64 (text);
  if (der == NULL)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                   _ ("not base64 (a DER SubjectPublicKeyInfo is expected)"));
      return NULL;
    }
  key = ike_sign_public_key_import (g_bytes_get_data (der, NULL), g_bytes_get_size (der),
                                    &local_error);
  if (key == NULL)
    g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, _ ("unusable public key: %s"),
                 local_error->message);
  return key;
}

#define PEM_BEGIN "-----BEGIN PRIVATE KEY-----"
#define PEM_END "-----END PRIVATE KEY-----"

/* The DER PKCS#8 inside a PEM file, or the file itself when it is DER. */
static GBytes *
pkcs8_der (const char *path, char *text, gsize len, GError **error)
{
  char *copy = text;
  const char *begin, *end;
  GBytes *der;

  if (len > 0 && text[0] == 0x30) /* DER: a SEQUENCE */
    return wiped_bytes_take (g_memdup2 (text, len), len);
  begin = strstr (copy, PEM_BEGIN);
  end = begin != NULL ? strstr (begin, PEM_END) : NULL;
  if (end == NULL)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                   _ ("%s: no unencrypted PKCS#8 key (“%s”); convert it with "
                      "“openssl pkcs8 -topk8 -nocrypt”"),
                   path, PEM_BEGIN);
      return NULL;
    }
  copy[end - copy] = '\0';
  der = decode_base64 (begin + strlen (PEM_BEGIN));
  if (der == NULL)
    g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, _ ("%s: bad base64 in the PEM block"),
                 path);
  return der;
}

static SECKEYPrivateKey *
import_pkcs8 (const char *path, GBytes *der, GError **error)
{
  PK11SlotInfo *slot = PK11_GetInternalSlot ();
  SECItem item = { siBuffer, (unsigned char *) g_bytes_get_data (der, NULL),
                   (unsigned int) g_bytes_get_size (der) };
  SECKEYPrivateKey *key = NULL;
  SECStatus rv;

  rv = PK11_ImportDERPrivateKeyInfoAndReturnKey (slot, &item, NULL, NULL, PR_FALSE, PR_TRUE, KU_ALL,
                                                 &key, NULL);
  PK11_FreeSlot (slot);
  if (rv != SECSuccess || key == NULL)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                   _ ("%s: NSS cannot import the PKCS#8 key (error %d)"), path, PORT_GetError ());
      return NULL;
    }
  return key;
}

SECKEYPrivateKey *
store_read_private_key (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GBytes) der = NULL;
  gsize len = 0;
  SECKEYPrivateKey *key;

  if (!ike_crypto_init (error))
    return NULL;
  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  if (len > MAX_KEY_FILE)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, _ ("%s: too large for a key"), path);
      ike_memzero (contents, len);
      return NULL;
    }
  /* g_file_get_contents NUL-terminates, so the PEM search stays inside. */
  der = pkcs8_der (path, contents, len, error);
  ike_memzero (contents, len);
  key = der != NULL ? import_pkcs8 (path, der, error) : NULL;
  return key;
}
