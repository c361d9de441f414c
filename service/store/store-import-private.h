/* What the three parts of the libreswan import share: the sections of an
 * ipsec.conf as read (store-import.c), the PSKs of an ipsec.secrets
 * (store-import-secrets.c) and the mapping of one conn to a connection
 * file (store-import-map.c). */
#pragma once

#include "store.h"

G_BEGIN_DECLS

/* One "key=value" line of a section. */
typedef struct
{
  char *key;
  char *value; /* quotes and braces removed; "" for "key=" */
  guint line;
} ImportKv;

/* "config setup", "conn NAME" or "conn %default". */
typedef struct
{
  char *name;
  guint line;
  GPtrArray *kvs;      /* ImportKv, in file order */
  gboolean referenced; /* named by another section's also= */
} ImportSection;

typedef struct
{
  const char *label; /* FILE in problem lines */
  GPtrArray *conns;  /* ImportSection, in file order, %default included */
} ImportConfig;

/* One PSK line of ipsec.secrets. */
typedef struct
{
  GPtrArray *ids; /* char *, the indexes as written; empty: matches anything */
  IkeSecret *secret;
  guint line;
} ImportPsk;

/* store-import.c */
ImportSection *store_import_find_section (const ImportConfig *config, const char *name);
/* "LABEL:LINE: conn NAME: key=value: why" into PROBLEMS (never a secret). */
void store_import_problem (GPtrArray *problems, const char *label, const ImportSection *section,
                           const ImportKv *kv, const char *why);

/* store-import-secrets.c: the PSK lines of TEXT; other kinds of secret
 * and include lines are reported in PROBLEMS. */
GPtrArray *store_import_secrets_parse (const char *text, const char *label, GPtrArray *problems,
                                       GError **error);
/* The PSK libreswan would choose for LOCAL_ID and REMOTE_ID (NULL: not
 * known from the text), or NULL; *AMBIGUOUS when equally good lines have
 * different secrets. */
const ImportPsk *store_import_secrets_match (GPtrArray *psks, const char *local_id,
                                             const char *remote_id, gboolean *ambiguous);

/* store-import-map.c: the connection for CONN, or NULL when it cannot be
 * imported faithfully; either way its problems go to PROBLEMS. */
StoreImported *store_import_map (const ImportConfig *config, ImportSection *conn, GPtrArray *psks,
                                 const char *secrets_label, StoreImportIsLocalFunc is_local,
                                 gpointer user_data, GPtrArray *problems);

/* store-import-rules.c */
/* Is VALUE one of the '|'-separated LIST? */
gboolean store_import_one_of (const char *value, const char *list);
/* libreswan's ike=/esp= text in the spelling ipsecd's parser reads. */
char *store_import_proposal (const char *value, IkeProtocolId protocol);
/* libreswan's duration (seconds, or s/m/h/d; BARE_MS: a bare number is
 * milliseconds) in milliseconds. */
gboolean store_import_duration (const char *text, gboolean bare_ms, gint64 *ms);
/* Why KEY=VALUE, left unread by the mapping, is reported (and *REFUSE if
 * the conn cannot be imported), or NULL when it is what ipsecd does anyway. */
const char *store_import_rule (const char *key, const char *value, gboolean *refuse);

G_END_DECLS
