/* Importing libreswan's ipsec.conf: the text into sections, then each conn
 * into a connection file (store-import-map.c) with its PSK from
 * ipsec.secrets (store-import-secrets.c).
 *
 * ipsec.conf as libreswan reads it: a line starting in column 0 opens a
 * section ("config setup", "conn NAME") or is "include"/"version"; an
 * indented line is "key=value" of the open section; '#' outside quotes
 * starts a comment; a value is one word, "a quoted string" or {a braced
 * list}.  We import text, not files, so "include" is reported, not
 * followed.  Syntax errors fail the whole import (nothing half-read is
 * acted on); everything that parses but does not map is a problem line. */
#include "config.h"

#include "store-import-private.h"

#include <glib/gi18n.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>

/* The name of the "config setup" section: no conn can have a blank in its
 * name. */
#define SETUP "config setup"
/* A line longer than this is not configuration. */
#define MAX_LINE 8192

static void
kv_free (gpointer data)
{
  ImportKv *kv = data;

  g_free (kv->key);
  g_free (kv->value);
  g_free (kv);
}

static void
section_free (gpointer data)
{
  ImportSection *section = data;

  g_free (section->name);
  g_ptr_array_unref (section->kvs);
  g_free (section);
}

void
store_imported_free (StoreImported *imported)
{
  if (imported == NULL)
    return;
  g_free (imported->name);
  g_clear_pointer (&imported->file, g_key_file_unref);
  g_clear_pointer (&imported->psk, ike_secret_free);
  g_free (imported);
}

void
store_import_free (StoreImport *import)
{
  if (import == NULL)
    return;
  g_clear_pointer (&import->connections, g_ptr_array_unref);
  g_clear_pointer (&import->problems, g_ptr_array_unref);
  g_free (import);
}

/* ---- problems ---- */

/* Keys whose value could be a secret are never echoed. */
static gboolean
value_is_secret (const char *key)
{
  return strstr (key, "pass") != NULL || strstr (key, "secret") != NULL
         || strstr (key, "psk") != NULL || strstr (key, "ppk") != NULL;
}

void
store_import_problem (GPtrArray *problems, const char *label, const ImportSection *section,
                      const ImportKv *kv, const char *why)
{
  g_autofree char *where = NULL;
  guint line = kv != NULL ? kv->line : section->line;

  if (g_str_equal (section->name, SETUP))
    where = g_strdup (SETUP);
  else
    where = g_strdup_printf ("conn %s", section->name);
  if (kv == NULL)
    g_ptr_array_add (problems, g_strdup_printf ("%s:%u: %s: %s", label, line, where, why));
  else
    g_ptr_array_add (problems, g_strdup_printf ("%s:%u: %s: %s=%s: %s", label, line, where, kv->key,
                                                value_is_secret (kv->key) ? "…" : kv->value, why));
}

static gboolean
syntax_error (GError **error, const char *label, guint line, const char *why)
{
  g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, "%s:%u: %s", label, line, why);
  return FALSE;
}

/* ---- the lexer ---- */

typedef struct
{
  const char *label;
  guint line;
  ImportConfig *config;
  ImportSection *open; /* the section indented lines belong to */
  GPtrArray *problems;
} Reader;

/* The line without its comment: '#' outside quotes and braces. */
static void
cut_comment (char *line)
{
  gboolean quoted = FALSE;
  int braces = 0;

  for (char *p = line; *p != '\0'; p++)
    if (*p == '"')
      quoted = !quoted;
    else if (!quoted && *p == '{')
      braces++;
    else if (!quoted && *p == '}' && braces > 0)
      braces--;
    else if (!quoted && braces == 0 && *p == '#')
      {
        *p = '\0';
        return;
      }
}

/* The value at TEXT: "quoted", {braced} or a word; what follows must be
 * blank. */
static gboolean
read_value (Reader *r, const char *text, char **value, GError **error)
{
  const char *end;

  if (*text == '"' || *text == '{')
    {
      end = strchr (text + 1, *text == '"' ? '"' : '}');
      if (end == NULL)
        return syntax_error (error, r->label, r->line,
                             *text == '"' ? _ ("a quoted value does not end on its line")
                                          : _ ("a {braced} value does not end on its line"));
      *value = g_strndup (text + 1, end - text - 1);
      end++;
    }
  else
    {
      end = text + strcspn (text, " \t");
      *value = g_strndup (text, end - text);
    }
  if (end[strspn (end, " \t")] != '\0')
    {
      g_clear_pointer (value, g_free);
      return syntax_error (error, r->label, r->line,
                           _ ("more than one value after “=” (quote a value with blanks)"));
    }
  return TRUE;
}

static gboolean
key_is_valid (const char *key, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (key[i]) && key[i] != '-' && key[i] != '_' && key[i] != '.')
      return FALSE;
  return TRUE;
}

static gboolean
read_key_value (Reader *r, const char *text, GError **error)
{
  const char *eq = strchr (text, '=');
  g_autofree char *key = NULL;
  ImportKv *kv;
  char *value = NULL;

  if (r->open == NULL)
    return syntax_error (error, r->label, r->line,
                         _ ("an indented line outside any conn or config setup section"));
  if (eq == NULL)
    return syntax_error (error, r->label, r->line, _ ("expected key=value"));
  key = g_strstrip (g_strndup (text, eq - text));
  if (!key_is_valid (key, strlen (key)))
    return syntax_error (error, r->label, r->line,
                         _ ("expected key=value, the key of letters, digits and “-”"));
  eq++;
  if (!read_value (r, eq + strspn (eq, " \t"), &value, error))
    return FALSE;
  kv = g_new0 (ImportKv, 1);
  kv->key = g_steal_pointer (&key);
  kv->value = value;
  kv->line = r->line;
  g_ptr_array_add (r->open->kvs, kv);
  return TRUE;
}

static gboolean
open_section (Reader *r, const char *name, GError **error)
{
  ImportSection *section;

  if (!g_str_equal (name, SETUP) && !g_str_equal (name, "%default")
      && store_import_find_section (r->config, name) != NULL)
    {
      g_autofree char *why = g_strdup_printf (_ ("conn %s is defined twice"), name);

      return syntax_error (error, r->label, r->line, why);
    }
  section = g_new0 (ImportSection, 1);
  section->name = g_strdup (name);
  section->line = r->line;
  section->kvs = g_ptr_array_new_with_free_func (kv_free);
  g_ptr_array_add (r->config->conns, section);
  r->open = section;
  return TRUE;
}

/* A line in column 0: a section, include or version. */
static gboolean
read_top (Reader *r, const char *text, GError **error)
{
  g_auto (GStrv) words = g_strsplit_set (text, " \t", -1);
  g_autoptr (GPtrArray) w = g_ptr_array_new ();

  for (guint i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0')
      g_ptr_array_add (w, words[i]);
  if (w->len == 2 && g_str_equal (w->pdata[0], "config") && g_str_equal (w->pdata[1], "setup"))
    return open_section (r, SETUP, error);
  if (w->len == 2 && g_str_equal (w->pdata[0], "conn"))
    return open_section (r, w->pdata[1], error);
  if (w->len >= 1 && (g_str_equal (w->pdata[0], "include") || g_str_equal (w->pdata[0], "version")))
    {
      gboolean include = g_str_equal (w->pdata[0], "include");

      r->open = NULL;
      if (include)
        g_ptr_array_add (r->problems,
                         g_strdup_printf (_ ("%s:%u: %s: not followed: import the text of that "
                                             "file too (ipsecctl import reads one file)"),
                                          r->label, r->line, text));
      return TRUE;
    }
  return syntax_error (error, r->label, r->line,
                       _ ("expected “conn NAME”, “config setup” or “include FILE” at the start "
                          "of a line (keys are indented)"));
}

static gboolean
read_line (Reader *r, char *line, GError **error)
{
  gboolean indented = line[0] == ' ' || line[0] == '\t';

  if (strlen (line) > MAX_LINE)
    return syntax_error (error, r->label, r->line, _ ("line too long"));
  if (!g_utf8_validate (line, -1, NULL))
    return syntax_error (error, r->label, r->line, _ ("not UTF-8 text"));
  for (const char *p = line; *p != '\0'; p++)
    if ((guchar) *p < 0x20 && *p != '\t' && *p != '\r')
      return syntax_error (error, r->label, r->line, _ ("a control character"));
  cut_comment (line);
  g_strstrip (line);
  if (line[0] == '\0')
    return TRUE;
  return indented ? read_key_value (r, line, error) : read_top (r, line, error);
}

static ImportConfig *
read_config (const char *text, const char *label, GPtrArray *problems, GError **error)
{
  g_autoptr (GPtrArray) conns = g_ptr_array_new_with_free_func (section_free);
  ImportConfig config = { label, conns };
  Reader r = { label, 0, &config, NULL, problems };
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      r.line = i + 1;
      if (!read_line (&r, lines[i], error))
        return NULL;
    }
  return g_memdup2 (&(ImportConfig){ label, g_steal_pointer (&conns) }, sizeof (ImportConfig));
}

static void
config_free (ImportConfig *config)
{
  if (config == NULL)
    return;
  g_ptr_array_unref (config->conns);
  g_free (config);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImportConfig, config_free)

ImportSection *
store_import_find_section (const ImportConfig *config, const char *name)
{
  for (guint i = 0; i < config->conns->len; i++)
    {
      ImportSection *s = g_ptr_array_index (config->conns, i);

      if (g_str_equal (s->name, name))
        return s;
    }
  return NULL;
}

/* ---- config setup ---- */

/* Daemon-wide settings: ipsecd has command-line options and the OE group
 * files instead, so each key is only reported. */
static void
report_setup (const ImportConfig *config, ImportSection *setup, GPtrArray *problems)
{
  for (guint i = 0; i < setup->kvs->len; i++)
    {
      ImportKv *kv = g_ptr_array_index (setup->kvs, i);

      store_import_problem (
          problems, config->label, setup, kv,
          _ ("daemon-wide settings are not imported (see ipsecd's options in ipsecd.conf(5))"));
    }
}

/* Sections named by also= are fragments: marked so that one without auto=
 * is not imported by itself. */
static void
mark_referenced (ImportConfig *config)
{
  for (guint i = 0; i < config->conns->len; i++)
    {
      ImportSection *s = g_ptr_array_index (config->conns, i);

      for (guint k = 0; k < s->kvs->len; k++)
        {
          ImportKv *kv = g_ptr_array_index (s->kvs, k);
          ImportSection *target = NULL;

          if (g_str_equal (kv->key, "also"))
            target = store_import_find_section (config, kv->value);
          if (target != NULL)
            target->referenced = TRUE;
        }
    }
}

static gboolean
has_key (const ImportSection *section, const char *key)
{
  for (guint i = 0; i < section->kvs->len; i++)
    if (g_str_equal (((ImportKv *) g_ptr_array_index (section->kvs, i))->key, key))
      return TRUE;
  return FALSE;
}

StoreImport *
store_import_parse (const char *config_text, const char *config_label, const char *secrets,
                    const char *secrets_label, StoreImportIsLocalFunc is_local, gpointer user_data,
                    GError **error)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) psks = NULL;
  g_autoptr (ImportConfig) config = read_config (config_text, config_label, problems, error);
  StoreImport *import;

  if (config == NULL)
    return NULL;
  psks
      = store_import_secrets_parse (secrets != NULL ? secrets : "", secrets_label, problems, error);
  if (psks == NULL)
    return NULL;
  if (is_local == NULL)
    is_local = store_import_address_is_local;
  mark_referenced (config);
  import = g_new0 (StoreImport, 1);
  import->connections = g_ptr_array_new_with_free_func ((GDestroyNotify) store_imported_free);
  for (guint i = 0; i < config->conns->len; i++)
    {
      ImportSection *s = g_ptr_array_index (config->conns, i);
      StoreImported *imported;

      if (g_str_equal (s->name, SETUP))
        {
          report_setup (config, s, problems);
          continue;
        }
      if (g_str_equal (s->name, "%default"))
        continue;
      if (s->referenced && !has_key (s, "auto"))
        {
          store_import_problem (problems, config_label, s, NULL,
                                _ ("only used through also= (no auto=): not imported by itself"));
          continue;
        }
      imported = store_import_map (config, s, psks, secrets_label, is_local, user_data, problems);
      if (imported != NULL)
        g_ptr_array_add (import->connections, imported);
    }
  import->problems = g_steal_pointer (&problems);
  return import;
}

/* ---- checks by the loader ---- */

void
store_import_check (StoreImport *import, const char *config_dir, const char *config_label)
{
  for (guint i = 0; i < import->connections->len;)
    {
      StoreImported *imported = g_ptr_array_index (import->connections, i);
      g_autofree char *path = store_connection_path (config_dir, imported->name);
      g_autofree char *prefix = g_strconcat (path, ": ", NULL);
      g_autoptr (StoreConnection) conn = NULL;
      g_autoptr (GError) why = NULL;
      const char *message;

      conn = store_connection_parse (config_dir, path, imported->file, imported->psk, &why);
      if (conn != NULL)
        {
          i++;
          continue;
        }
      /* the file does not exist yet: its path would only confuse */
      message
          = g_str_has_prefix (why->message, prefix) ? why->message + strlen (prefix) : why->message;
      g_ptr_array_add (import->problems,
                       g_strdup_printf (_ ("%s:%u: conn %s: %s (conn not imported)"), config_label,
                                        imported->line, imported->name, message));
      g_ptr_array_remove_index (import->connections, i);
    }
}

/* ---- which end is this host ---- */

static gboolean
same_address (const struct sockaddr *a, const struct sockaddr_storage *b)
{
  if (a == NULL || a->sa_family != b->ss_family)
    return FALSE;
  if (a->sa_family == AF_INET)
    return memcmp (&((const struct sockaddr_in *) a)->sin_addr,
                   &((const struct sockaddr_in *) b)->sin_addr, sizeof (struct in_addr))
           == 0;
  if (a->sa_family == AF_INET6)
    return memcmp (&((const struct sockaddr_in6 *) a)->sin6_addr,
                   &((const struct sockaddr_in6 *) b)->sin6_addr, sizeof (struct in6_addr))
           == 0;
  return FALSE;
}

gboolean
store_import_address_is_local (const struct sockaddr_storage *addr, gpointer user_data)
{
  struct ifaddrs *list = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&list) != 0)
    return FALSE;
  for (struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next)
    found = same_address (i->ifa_addr, addr);
  freeifaddrs (list);
  return found;
}
