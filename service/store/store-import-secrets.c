/* ipsec.secrets as libreswan reads it, for the PSKs of imported conns.
 *
 * An entry starts in column 0 and continues on indented lines:
 *     INDEX… : KIND VALUE
 * INDEX is an identity or address (none: any), KIND is PSK, RSA, ECDSA,
 * XAUTH, PPKS…; a PSK is "quoted", 0s base64 or 0x hex.  Only PSKs are
 * imported: private keys live in the NSS database with ipsecd as with
 * libreswan, and ipsecd has no XAUTH or PPK.  Messages name lines and
 * kinds, never a secret; our copies of the text are wiped when done. */
#include "config.h"

#include "store-import-private.h"

#include <arpa/inet.h>
#include <glib/gi18n.h>
#include <string.h>

static void
psk_free (gpointer data)
{
  ImportPsk *psk = data;

  g_ptr_array_unref (psk->ids);
  ike_secret_free (psk->secret);
  g_free (psk);
}

static gboolean
bad_entry (GError **error, const char *label, guint line, const char *why)
{
  g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, "%s:%u: %s", label, line, why);
  return FALSE;
}

/* ---- PSK values ---- */

static IkeSecret *
decode_hex (const char *text)
{
  g_autoptr (IkeSecret) out = ike_secret_new (strlen (text) / 2 + 1);
  gsize n = 0;
  int high = -1;

  for (const char *p = text; *p != '\0'; p++)
    {
      int v = g_ascii_xdigit_value (*p);

      if (*p == '_')
        continue;
      if (v < 0)
        return NULL;
      if (high < 0)
        high = v;
      else
        {
          out->data[n++] = (guint8) (high << 4 | v);
          high = -1;
        }
    }
  if (high >= 0 || n == 0)
    return NULL;
  out->len = n;
  return g_steal_pointer (&out);
}

static IkeSecret *
decode_base64 (const char *text)
{
  gsize len = strlen (text), n = 0;
  g_autofree guchar *raw = NULL;
  IkeSecret *secret;

  if (len == 0 || len % 4 != 0
      || strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789+/=")
             != len)
    return NULL;
  raw = g_base64_decode (text, &n);
  if (n == 0)
    return NULL;
  secret = ike_secret_new_from_data (raw, n);
  ike_memzero (raw, n);
  return secret;
}

/* VALUE: "quoted", 0sBASE64 or 0xHEX, and nothing after it. */
static IkeSecret *
parse_psk (const char *value, const char *label, guint line, GError **error)
{
  IkeSecret *secret = NULL;

  if (value[0] == '"')
    {
      const char *end = strchr (value + 1, '"');

      if (end == NULL || end[1 + strspn (end + 1, " \t")] != '\0' || end == value + 1)
        {
          bad_entry (error, label, line, _ ("a quoted PSK must be one non-empty \"string\""));
          return NULL;
        }
      return ike_secret_new_from_data ((const guint8 *) value + 1, end - value - 1);
    }
  if (strchr (value, ' ') == NULL && strchr (value, '\t') == NULL)
    {
      if (g_str_has_prefix (value, "0x") || g_str_has_prefix (value, "0X"))
        secret = decode_hex (value + 2);
      else if (g_str_has_prefix (value, "0s") || g_str_has_prefix (value, "0S"))
        secret = decode_base64 (value + 2);
    }
  if (secret == NULL)
    bad_entry (error, label, line, _ ("a PSK is a \"quoted string\", 0s base64 or 0x hex"));
  return secret;
}

/* ---- entries ---- */

/* Ends the entry at '#' outside quotes. */
static void
cut_comment (char *text)
{
  gboolean quoted = FALSE;

  for (char *p = text; *p != '\0'; p++)
    if (*p == '"')
      quoted = !quoted;
    else if (*p == '#' && !quoted)
      {
        *p = '\0';
        return;
      }
}

static const char *
skip_blanks (const char *p)
{
  return p + strspn (p, " \t\r");
}

static void
report_kind (GPtrArray *problems, const char *label, guint line, const char *kind)
{
  const char *why;

  if (g_ascii_strcasecmp (kind, "RSA") == 0 || g_ascii_strcasecmp (kind, "ECDSA") == 0)
    why = _ ("private keys are not imported: ipsecd uses the certificate's key in its NSS "
             "database (local-cert)");
  else if (g_ascii_strcasecmp (kind, "XAUTH") == 0 || g_ascii_strcasecmp (kind, "EAP") == 0)
    why = _ ("ipsecd has no XAUTH or EAP user passwords");
  else
    why = _ ("ipsecd has no use for this kind of secret");
  g_ptr_array_add (
      problems, g_strdup_printf (_ ("%s:%u: %s secret: %s; not imported"), label, line, kind, why));
}

/* One logical entry (continuation lines joined) starting at LINE. */
static gboolean
parse_entry (char *text, guint line, const char *label, GPtrArray *psks, GPtrArray *problems,
             GError **error)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *kind = NULL;
  const char *p = skip_blanks (text), *end;
  ImportPsk *psk;

  if (g_str_has_prefix (p, "include") && (p[7] == ' ' || p[7] == '\t'))
    {
      g_ptr_array_add (problems, g_strdup_printf (_ ("%s:%u: %s: not followed: import the PSKs "
                                                     "of that file too"),
                                                  label, line, g_strstrip (text)));
      return TRUE;
    }
  /* the indexes, up to a ':' on its own (IPv6 addresses have colons) */
  while (*p != '\0' && !(p[0] == ':' && (p[1] == '\0' || p[1] == ' ' || p[1] == '\t')))
    {
      end = p + strcspn (p, " \t\r");
      g_ptr_array_add (ids, g_strndup (p, end - p));
      p = skip_blanks (end);
    }
  if (*p == '\0')
    return bad_entry (error, label, line, _ ("no “:” between the indexes and the secret"));
  p = skip_blanks (p + 1);
  end = p + strcspn (p, " \t\r");
  kind = g_strndup (p, end - p);
  if (g_ascii_strcasecmp (kind, "PSK") != 0)
    {
      if (kind[0] == '\0' || kind[0] == '"')
        return bad_entry (error, label, line, _ ("the kind of secret (PSK, RSA, …) is missing"));
      report_kind (problems, label, line, kind);
      return TRUE;
    }
  psk = g_new0 (ImportPsk, 1);
  psk->secret = parse_psk (g_strchomp ((char *) skip_blanks (end)), label, line, error);
  psk->ids = g_steal_pointer (&ids);
  psk->line = line;
  if (psk->secret == NULL)
    {
      psk_free (psk);
      return FALSE;
    }
  g_ptr_array_add (psks, psk);
  return TRUE;
}

static void
wipe_lines (char **lines)
{
  for (guint i = 0; lines[i] != NULL; i++)
    ike_memzero (lines[i], strlen (lines[i]));
}

GPtrArray *
store_import_secrets_parse (const char *text, const char *label, GPtrArray *problems,
                            GError **error)
{
  g_autoptr (GPtrArray) psks = g_ptr_array_new_with_free_func (psk_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *entry = g_string_new (NULL);
  guint start = 0;
  gboolean ok = TRUE;

  for (guint i = 0; ok && lines[i] != NULL; i++)
    {
      gboolean indented = lines[i][0] == ' ' || lines[i][0] == '\t';

      cut_comment (lines[i]);
      if (*skip_blanks (lines[i]) == '\0')
        continue;
      if (!indented && entry->len > 0)
        {
          ok = parse_entry (entry->str, start, label, psks, problems, error);
          ike_memzero (entry->str, entry->len);
          g_string_truncate (entry, 0);
        }
      if (!indented || entry->len == 0)
        start = i + 1;
      g_string_append_c (g_string_append (entry, lines[i]), ' ');
    }
  if (ok && entry->len > 0)
    ok = parse_entry (entry->str, start, label, psks, problems, error);
  ike_memzero (entry->str, entry->allocated_len);
  g_string_free (entry, TRUE);
  wipe_lines (lines);
  return ok ? g_steal_pointer (&psks) : NULL;
}

/* ---- which PSK a conn gets ---- */

/* libreswan's match bits: a more specific match has a higher value. */
enum
{
  MATCH_DEFAULT = 1,
  MATCH_ANY = 2,
  MATCH_HIM = 4,
  MATCH_ME = 8,
};

static gboolean
id_is_any (const char *id)
{
  return g_str_equal (id, "%any") || g_str_equal (id, "%any6") || g_str_equal (id, "0.0.0.0")
         || g_str_equal (id, "::");
}

/* Addresses by value, names without the "take literally" '@' and case. */
static gboolean
id_equal (const char *a, const char *b)
{
  guint8 x[16], y[16];

  for (int family = AF_INET; family != 0; family = family == AF_INET ? AF_INET6 : 0)
    if (inet_pton (family, a, x) == 1)
      return inet_pton (family, b, y) == 1 && memcmp (x, y, family == AF_INET ? 4 : 16) == 0;
  if (a[0] == '@')
    a++;
  if (b[0] == '@')
    b++;
  return g_ascii_strcasecmp (a, b) == 0;
}

static guint
match_of (const ImportPsk *psk, const char *local_id, const char *remote_id)
{
  guint match = 0;

  if (psk->ids->len == 0)
    return MATCH_DEFAULT;
  for (guint i = 0; i < psk->ids->len; i++)
    {
      const char *id = g_ptr_array_index (psk->ids, i);

      if (id_is_any (id))
        match |= MATCH_ANY;
      else if (local_id != NULL && id_equal (id, local_id))
        match |= MATCH_ME;
      else if (remote_id != NULL && id_equal (id, remote_id))
        match |= MATCH_HIM;
    }
  /* our end alone on the line: any peer */
  if (match == MATCH_ME && psk->ids->len == 1)
    match |= MATCH_DEFAULT;
  switch (match)
    {
    case MATCH_DEFAULT:
    case MATCH_ANY:
    case MATCH_ME | MATCH_DEFAULT:
    case MATCH_ME | MATCH_ANY:
    case MATCH_HIM | MATCH_ANY:
    case MATCH_ME | MATCH_HIM:
      return match;
    default:
      return 0;
    }
}

const ImportPsk *
store_import_secrets_match (GPtrArray *psks, const char *local_id, const char *remote_id,
                            gboolean *ambiguous)
{
  const ImportPsk *best = NULL;
  guint best_match = 0;

  *ambiguous = FALSE;
  for (guint i = 0; i < psks->len; i++)
    {
      const ImportPsk *psk = g_ptr_array_index (psks, i);
      guint match = match_of (psk, local_id, remote_id);

      if (match == 0 || match < best_match)
        continue;
      if (match == best_match
          && (psk->secret->len != best->secret->len
              || memcmp (psk->secret->data, best->secret->data, psk->secret->len) != 0))
        *ambiguous = TRUE;
      if (match > best_match)
        *ambiguous = FALSE;
      if (match > best_match)
        best = psk;
      best_match = match;
    }
  return best;
}
