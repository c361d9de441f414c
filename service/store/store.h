/* service/store/: connections and secrets as files in the config directory
 * (DESIGN.md §3, docs/ipsecd.conf.5.md).
 *
 *   <config-dir>/connections/<file>.conf   one [connection] group (GKeyFile)
 *   <config-dir>/secrets/<name>.psk        the PSK of connection <name>,
 *                                          owner-only (mode 0600 or 0400)
 *
 * Loading turns each file into a StoreConnection holding a ready IkeConfig.
 * A file with any bad key or value is refused whole, with one error naming
 * the file, the key and why; the other files still load. */
#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

#include "ike-crypto.h"
#include "ike-engine.h"

G_BEGIN_DECLS

#define STORE_ERROR (store_error_quark ())
GQuark store_error_quark (void);

typedef enum
{
  STORE_ERROR_INVALID, /* a key or value that is wrong */
  STORE_ERROR_SECRET,  /* a secret file missing, unreadable or too open */
  STORE_ERROR_IO,
} StoreError;

/* What a connection does when the daemon starts or reloads it. */
typedef enum
{
  STORE_AUTO_ADD,   /* wait for the peer (respond only) */
  STORE_AUTO_START, /* initiate at once */
} StoreAuto;

typedef struct
{
  char *name;
  char *path;                     /* the .conf file */
  char *digest;                   /* of everything it was built from (reload) */
  IkeConfig *config;              /* complete: auth, keys, proposals, selectors */
  struct sockaddr_storage local;  /* ss_family 0: any local address */
  struct sockaddr_storage remote; /* ss_family 0: any peer (%any, respond only) */
  IkeIdType remote_id_type;       /* 0: any identity */
  GBytes *remote_id;
  StoreAuto auto_;
} StoreConnection;

void store_connection_free (StoreConnection *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreConnection, store_connection_free)

/* One connection file.  Secrets are read from CONFIG_DIR/secrets. */
StoreConnection *store_connection_load (const char *config_dir, const char *path, GError **error);

/* FILE as if read from PATH; PSK, when not NULL, instead of the secrets
 * file.  The same checks as store_connection_load(). */
StoreConnection *store_connection_parse (const char *config_dir, const char *path, GKeyFile *file,
                                         const IkeSecret *psk, GError **error);

/* ---- writing (store-write.c) ---- */

/* CONFIG_DIR/connections/NAME.conf */
char *store_connection_path (const char *config_dir, const char *name);
/* Settings (a{sv}, see org.libreswan.IPsec.xml) into FILE's [connection]
 * group: an empty string removes a key; "psk" goes to *PSK, never FILE. */
gboolean store_settings_merge (GKeyFile *file, GVariant *settings, IkeSecret **psk, GError **error);
/* Checks FILE (and PSK) as store_connection_parse() does, then writes PSK
 * (if any) to secrets/<name>.psk and FILE to PATH, atomically and mode
 * 0600.  On any error nothing is written. */
StoreConnection *store_save (const char *config_dir, const char *path, GKeyFile *file,
                             const IkeSecret *psk, GError **error);
/* Removes the connection's file and its PSK file. */
gboolean store_remove (const char *config_dir, const StoreConnection *conn, GError **error);
/* The connection's file as it is now. */
GKeyFile *store_connection_keys (const StoreConnection *conn, GError **error);
/* Its keys as a{sv} of strings; never a secret. */
GVariant *store_connection_settings (const StoreConnection *conn);

/* Every CONFIG_DIR/connections/ *.conf in name order.  Files that fail are
 * left out, each with its error in *PROBLEMS (GError *); so are later files
 * whose connection name is taken.  A missing directory is no connections. */
GPtrArray *store_load_all (const char *config_dir, GPtrArray **problems);

/* The connection of that name, or NULL. */
StoreConnection *store_find (GPtrArray *connections, const char *name);

/* ---- values, as the file and the documentation spell them ---- */

/* "%null", "%any" (when ALLOW_ANY), an IPv4/IPv6 address, "@fqdn",
 * "user@domain" (RFC 822), a bare "fqdn" or a DN ("C=US, O=Ex, CN=host",
 * anything with "="; see store_parse_dn). */
gboolean store_parse_id (const char *text, gboolean allow_any, IkeIdType *type, GBytes **data,
                         GError **error);
/* "192.0.2.0/24", "2001:db8::/32", a bare address (/32, /128). */
gboolean store_parse_cidr (const char *text, IkeTs *ts, GError **error);
/* Seconds: "30", "1.5", "500ms", "30s", "2m". */
gboolean store_parse_duration (const char *text, gint64 *usec, GError **error);
/* "yes"/"no" and libreswan's and GKeyFile's synonyms. */
gboolean store_parse_bool (const char *text, gboolean *value, GError **error);

/* The PSK of connection NAME; refuses a file others may read or write. */
IkeSecret *store_read_psk (const char *config_dir, const char *name, GError **error);
/* A PKCS#8 private key, PEM ("BEGIN PRIVATE KEY") or DER, through NSS. */
SECKEYPrivateKey *store_read_private_key (const char *path, GError **error);
/* A base64 DER SubjectPublicKeyInfo ("0s" prefix and spaces allowed). */
SECKEYPublicKey *store_parse_public_key (const char *text, GError **error);

/* ---- certificates in the daemon's NSS database (store-cert.c) ---- */

/* "C=US, O=Example, CN=host" (libreswan's and strongSwan's order: the first
 * RDN of the encoding first) into DER, for ID_DER_ASN1_DN. */
gboolean store_parse_dn (const char *text, GBytes **der, GError **error);
/* DER back into that syntax; NULL if it is no DN. */
char *store_format_dn (const guint8 *der, gsize len);
/* By nickname, as certutil -L lists them. */
CERTCertificate *store_find_cert (const char *nickname, GError **error);
SECKEYPrivateKey *store_find_cert_key (CERTCertificate *cert, const char *nickname, GError **error);
gboolean store_check_ca (CERTCertificate *cert, const char *nickname, GError **error);
/* send-cert: "always", "ifasked" (also for NULL, the default) or "never". */
gboolean store_parse_send_cert (const char *text, IkeSendCert *when, GError **error);
/* Into CONFIG, each adding what it used to DIGEST (so a certificate
 * replaced in the database is a change on reload).  local-cert: our
 * certificate and its private key; *SUBJECT gets its DN.  remote-ca: a
 * comma list of CA nicknames.  remote-cert: the peer's pinned certificate,
 * whose key the peer must sign with; *SUBJECT gets its DN. */
gboolean store_cert_load_local (IkeConfig *config, const char *nickname, IkeSendCert when,
                                GChecksum *digest, GBytes **subject, GError **error);
gboolean store_cert_load_cas (IkeConfig *config, const char *nicknames, GChecksum *digest,
                              GError **error);
gboolean store_cert_load_pinned (IkeConfig *config, const char *nickname, GChecksum *digest,
                                 GBytes **subject, GError **error);

/* ---- importing libreswan's ipsec.conf and ipsec.secrets (store-import*.c,
 * docs/ipsecd.conf.5.md "Importing from libreswan") ---- */

/* One conn section as a connection file. */
typedef struct
{
  char *name;
  GKeyFile *file; /* one [connection] group, name= included */
  IkeSecret *psk; /* from ipsec.secrets when an end uses a PSK, else NULL */
  guint line;     /* of "conn NAME" */
} StoreImported;

void store_imported_free (StoreImported *imported);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreImported, store_imported_free)

typedef struct
{
  GPtrArray *connections; /* StoreImported, in file order */
  GPtrArray *problems;    /* char *: "FILE:LINE: conn NAME: key=value: why" */
} StoreImport;

void store_import_free (StoreImport *import);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreImport, store_import_free)

/* Is ADDR one of this host's?  Decides which of left/right is local. */
typedef gboolean (*StoreImportIsLocalFunc) (const struct sockaddr_storage *addr,
                                            gpointer user_data);
/* The host's interface addresses (getifaddrs); USER_DATA unused. */
gboolean store_import_address_is_local (const struct sockaddr_storage *addr, gpointer user_data);

/* CONFIG (ipsec.conf text) and SECRETS (ipsec.secrets text, may be NULL)
 * into connections.  CONFIG_LABEL and SECRETS_LABEL name the files in
 * problems and errors.  Text that does not parse is an error naming the
 * file and line (STORE_ERROR_INVALID); a conn that cannot be imported
 * faithfully is left out with its reasons in problems; keys without an
 * ipsecd equivalent are problems too.  No secret is ever in a message. */
StoreImport *store_import_parse (const char *config, const char *config_label, const char *secrets,
                                 const char *secrets_label, StoreImportIsLocalFunc is_local,
                                 gpointer user_data, GError **error);
/* Checks every connection as store_connection_parse() will load it from
 * CONFIG_DIR; one that fails moves to problems with the loader's reason. */
void store_import_check (StoreImport *import, const char *config_dir, const char *config_label);

G_END_DECLS
