/* Connection files: one [connection] group per file, turned into an
 * IkeConfig.  The keys are documented in docs/ipsecd.conf.5.md; their names
 * follow libreswan's (left/right become local/remote) so that an admin who
 * knows ipsec.conf reads them without a manual. */
#include "config.h"

#include "store.h"

#include <arpa/inet.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>

#include "net-socket.h"

#define GROUP "connection"
#define MAX_NAME 64

static const char *const known_keys[] = {
  "name",
  "local",
  "remote",
  "local-auth",
  "remote-auth",
  "local-id",
  "remote-id",
  "ike",
  "esp",
  "childless",
  "mode",
  "local-ts",
  "remote-ts",
  "auto",
  "dpd-delay",
  "dpd-action",
  "retransmit-timeout",
  "retransmit-limit",
  "rekey-time",
  "life-time",
  "ike-rekey-time",
  "ike-life-time",
  "local-key",
  "remote-pubkey",
  "local-cert",
  "remote-ca",
  "remote-cert",
  "send-cert",
  NULL,
};

typedef struct
{
  const char *config_dir;
  const char *path;
  GKeyFile *file;
  StoreConnection *conn;
  IkeAuthMethod local_auth, remote_auth;
  GChecksum *digest;
  const IkeSecret *psk;   /* NULL: read secrets/<name>.psk */
  GBytes *local_subject;  /* local-cert's DN: our default identity */
  GBytes *remote_subject; /* remote-cert's DN: the peer's default one */
  gboolean remote_ca;     /* remote-ca: any identity its certificate names */
} Loader;

void
store_connection_free (StoreConnection *conn)
{
  if (conn == NULL)
    return;
  g_free (conn->name);
  g_free (conn->path);
  g_free (conn->digest);
  g_clear_pointer (&conn->config, ike_config_unref);
  g_clear_pointer (&conn->remote_id, g_bytes_unref);
  g_free (conn);
}

/* Every error names the file and the key, then says why. */
static gboolean bad_key (Loader *l, const char *key, GError **error, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static gboolean
bad_key (Loader *l, const char *key, GError **error, const char *format, ...)
{
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, _ ("%s: key “%s”: %s"), l->path, key, why);
  return FALSE;
}

static gboolean
bad_value (Loader *l, const char *key, GError *why, GError **error)
{
  return bad_key (l, key, error, "%s", why->message);
}

/* The value of KEY with surrounding blanks removed; NULL when absent. */
static char *
get (Loader *l, const char *key)
{
  char *value = g_key_file_get_string (l->file, GROUP, key, NULL);

  return value != NULL ? g_strstrip (value) : NULL;
}

/* ---- the file's shape ---- */

static gboolean
check_shape (Loader *l, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (l->file, NULL);
  g_auto (GStrv) keys = NULL;

  for (guint i = 0; groups[i] != NULL; i++)
    if (!g_str_equal (groups[i], GROUP))
      {
        g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                     _ ("%s: group [%s]: only one [%s] group is allowed"), l->path, groups[i],
                     GROUP);
        return FALSE;
      }
  keys = g_key_file_get_keys (l->file, GROUP, NULL, NULL);
  if (keys == NULL)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, _ ("%s: no [%s] group"), l->path,
                   GROUP);
      return FALSE;
    }
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autofree char *raw = g_key_file_get_value (l->file, GROUP, keys[i], NULL);

      if (!g_strv_contains (known_keys, keys[i]))
        return bad_key (l, keys[i], error, _ ("unknown key (see ipsecd.conf(5))"));
      /* no value needs one, and a stray one (a lone CR at the end of the
       * file) would not survive writing the file back */
      for (const char *p = raw; p != NULL && *p != '\0'; p++)
        if (g_ascii_iscntrl (*p) && *p != '\t')
          return bad_key (l, keys[i], error, _ ("a control character in the value"));
    }
  return TRUE;
}

static gboolean
name_is_valid (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_NAME || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
load_name (Loader *l, GError **error)
{
  g_autofree char *base = g_path_get_basename (l->path);
  g_autofree char *name = get (l, "name");

  if (name == NULL)
    name = g_strndup (base, strlen (base) - strlen (".conf"));
  if (!name_is_valid (name))
    return bad_key (l, "name", error,
                    _ ("“%s” is not a connection name: 1 to %u letters, digits, “-”, “_” or “.”, "
                       "starting with a letter or digit"),
                    name, MAX_NAME);
  l->conn->name = g_steal_pointer (&name);
  return TRUE;
}

/* ---- addresses and identities ---- */

static gboolean
load_address (Loader *l, const char *key, struct sockaddr_storage *addr, gboolean required,
              GError **error)
{
  g_autofree char *text = get (l, key);
  g_autoptr (GError) why = NULL;

  memset (addr, 0, sizeof *addr);
  if (text == NULL && required)
    return bad_key (l, key, error, _ ("missing: the peer's address, or %%any to only respond"));
  if (text == NULL || g_ascii_strcasecmp (text, "%any") == 0)
    return TRUE;
  if (!net_sockaddr_parse (text, 0, addr, &why))
    return bad_key (l, key, error, _ ("“%s” is not an IPv4 or IPv6 address"), text);
  return TRUE;
}

static gboolean
load_auth (Loader *l, const char *key, const char *fallback, IkeAuthMethod *method, GError **error)
{
  g_autofree char *text = get (l, key);

  if (text == NULL && fallback == NULL)
    return bad_key (l, key, error, _ ("missing: psk, null or pubkey"));
  if (text == NULL)
    text = g_strdup (fallback);
  if (g_str_equal (text, "psk") || g_str_equal (text, "secret"))
    *method = IKE_AUTH_SHARED_KEY;
  else if (g_str_equal (text, "null"))
    *method = IKE_AUTH_NULL;
  else if (g_str_equal (text, "pubkey"))
    *method = IKE_AUTH_DIGITAL_SIGNATURE;
  else
    return bad_key (l, key, error, _ ("“%s” is not psk, null or pubkey"), text);
  return TRUE;
}

static char *
address_text (const struct sockaddr_storage *addr)
{
  char text[INET6_ADDRSTRLEN] = "";
  const void *bytes = addr->ss_family == AF_INET6
                          ? (const void *) &((const struct sockaddr_in6 *) addr)->sin6_addr
                          : (const void *) &((const struct sockaddr_in *) addr)->sin_addr;

  inet_ntop (addr->ss_family, bytes, text, sizeof text);
  return g_strdup (text);
}

/* The text of KEY, or the default identity: %null with NULL auth (ours)
 * or any (theirs), any the peer's certificate names with remote-ca, else
 * the address of that end. */
static char *
id_text (Loader *l, const char *key, IkeAuthMethod method, const struct sockaddr_storage *addr,
         gboolean local)
{
  char *text = get (l, key);

  if (text != NULL)
    return text;
  if (method == IKE_AUTH_NULL)
    return g_strdup (local ? "%null" : "%any");
  if (!local && l->remote_ca)
    return g_strdup ("%any");
  if (addr->ss_family != 0)
    return address_text (addr);
  return local ? NULL : g_strdup ("%any");
}

static gboolean
load_side (Loader *l, gboolean local, GError **error)
{
  const char *key = local ? "local-id" : "remote-id";
  IkeAuthMethod method = local ? l->local_auth : l->remote_auth;
  GBytes *subject = local ? l->local_subject : l->remote_subject;
  g_autofree char *text = get (l, key);
  g_autoptr (GError) why = NULL;
  g_autoptr (GBytes) data = NULL;
  IkeIdType type = 0;
  IkeIdentity id;

  if (text == NULL && subject == NULL)
    text = id_text (l, key, method, local ? &l->conn->local : &l->conn->remote, local);
  /* a certificate's own DN, byte for byte as the certificate has it */
  if (text == NULL && subject != NULL)
    {
      type = IKE_ID_DER_ASN1_DN;
      data = g_bytes_ref (subject);
    }
  else if (text == NULL)
    return bad_key (l, key, error, _ ("missing: needed when “local” is not set"));
  else if (!store_parse_id (text, !local, &type, &data, &why))
    return bad_value (l, key, why, error);
  id = (IkeIdentity){ type, data != NULL ? g_bytes_get_data (data, NULL) : NULL,
                      data != NULL ? g_bytes_get_size (data) : 0 };
  if (!(local ? ike_config_set_local_auth
              : ike_config_set_remote_auth) (l->conn->config, method, type != 0 ? &id : NULL, &why))
    return bad_value (l, key, why, error);
  if (!local)
    {
      l->conn->remote_id_type = type;
      l->conn->remote_id = g_steal_pointer (&data);
    }
  return TRUE;
}

/* ---- secrets and keys ---- */

static gboolean
load_psk (Loader *l, GError **error)
{
  g_autoptr (IkeSecret) psk = NULL;
  g_autoptr (GError) why = NULL;

  const IkeSecret *use;

  if (l->local_auth != IKE_AUTH_SHARED_KEY && l->remote_auth != IKE_AUTH_SHARED_KEY)
    return TRUE;
  if (l->psk == NULL)
    psk = store_read_psk (l->config_dir, l->conn->name, error);
  use = l->psk != NULL ? l->psk : psk;
  if (use == NULL)
    return FALSE;
  if (!ike_config_set_psk (l->conn->config, use->data, use->len, &why))
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_SECRET, _ ("%s: secrets/%s.psk: %s"), l->path,
                   l->conn->name, why->message);
      return FALSE;
    }
  g_checksum_update (l->digest, use->data, use->len);
  return TRUE;
}

/* Keys that only mean something with another: KEY is an error without
 * WITH, which the message names. */
static gboolean
only_with (Loader *l, const char *key, gboolean with, const char *what, GError **error)
{
  g_autofree char *text = get (l, key);

  return text == NULL || with || bad_key (l, key, error, _ ("only with %s"), what);
}

static gboolean
load_local_cert (Loader *l, const char *nickname, GError **error)
{
  g_autofree char *send = get (l, "send-cert");
  g_autoptr (GError) why = NULL;
  IkeSendCert when;

  if (!store_parse_send_cert (send, &when, &why))
    return bad_value (l, "send-cert", why, error);
  if (!store_cert_load_local (l->conn->config, nickname, when, l->digest, &l->local_subject, &why))
    return bad_value (l, "local-cert", why, error);
  return TRUE;
}

/* local-auth=pubkey signs with local-cert (NSS) or local-key (a file). */
static gboolean
load_private_key (Loader *l, GError **error)
{
  g_autofree char *path = get (l, "local-key");
  g_autofree char *nickname = get (l, "local-cert");
  g_autoptr (SECKEYPrivateKey) key = NULL;
  g_autoptr (GError) why = NULL;
  gboolean pubkey = l->local_auth == IKE_AUTH_DIGITAL_SIGNATURE;
  struct stat st;

  if (!only_with (l, "local-key", pubkey, "local-auth=pubkey", error)
      || !only_with (l, "local-cert", pubkey, "local-auth=pubkey", error)
      || !only_with (l, "send-cert", nickname != NULL, "local-cert", error))
    return FALSE;
  if (!pubkey)
    return TRUE;
  if (path != NULL && nickname != NULL)
    return bad_key (l, "local-cert", error,
                    _ ("contradicts “local-key”: sign with a certificate of the NSS database "
                       "or with a key file, not both"));
  if (nickname != NULL)
    return load_local_cert (l, nickname, error);
  if (path == NULL)
    return bad_key (l, "local-key", error,
                    _ ("missing: local-auth=pubkey needs local-key (a key file) or local-cert "
                       "(a certificate in the NSS database)"));
  key = store_read_private_key (path, &why);
  if (key == NULL || !ike_config_set_private_key (l->conn->config, key, &why))
    return bad_value (l, "local-key", why, error);
  /* a replaced key file must count as a change on reload */
  if (stat (path, &st) == 0)
    {
      g_checksum_update (l->digest, (const guchar *) &st.st_mtim, sizeof st.st_mtim);
      g_checksum_update (l->digest, (const guchar *) &st.st_ino, sizeof st.st_ino);
    }
  return TRUE;
}

static gboolean
load_raw_public_key (Loader *l, const char *text, GError **error)
{
  g_autoptr (SECKEYPublicKey) key = NULL;
  g_autoptr (GError) why = NULL;

  key = store_parse_public_key (text, &why);
  if (key == NULL || !ike_config_set_peer_public_key (l->conn->config, key, &why))
    return bad_value (l, "remote-pubkey", why, error);
  return TRUE;
}

/* remote-auth=pubkey: the peer proves itself with exactly one of a raw
 * key (remote-pubkey), a certificate from a CA (remote-ca) or a pinned
 * certificate (remote-cert).  Two would leave it unclear which one counts:
 * a CA accepts certificates a pin refuses. */
static gboolean
load_public_key (Loader *l, GError **error)
{
  static const char *const keys[] = { "remote-pubkey", "remote-ca", "remote-cert" };
  g_autofree char *raw = get (l, "remote-pubkey");
  g_autofree char *ca = get (l, "remote-ca");
  g_autofree char *pinned = get (l, "remote-cert");
  const char *values[] = { raw, ca, pinned };
  g_autoptr (GError) why = NULL;
  int first = -1;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      if (values[i] != NULL && l->remote_auth != IKE_AUTH_DIGITAL_SIGNATURE)
        return bad_key (l, keys[i], error, _ ("only with remote-auth=pubkey"));
      if (values[i] != NULL && first >= 0)
        return bad_key (l, keys[i], error, _ ("contradicts “%s”: the peer proves itself one way"),
                        keys[first]);
      if (values[i] != NULL)
        first = (int) i;
    }
  if (l->remote_auth != IKE_AUTH_DIGITAL_SIGNATURE)
    return TRUE;
  if (first < 0)
    return bad_key (l, "remote-pubkey", error,
                    _ ("missing: remote-auth=pubkey needs remote-pubkey (the peer's key), "
                       "remote-ca (the CA of its certificate) or remote-cert (its certificate)"));
  if (raw != NULL)
    return load_raw_public_key (l, raw, error);
  if (ca != NULL && !store_cert_load_cas (l->conn->config, ca, l->digest, &why))
    return bad_value (l, "remote-ca", why, error);
  if (pinned != NULL
      && !store_cert_load_pinned (l->conn->config, pinned, l->digest, &l->remote_subject, &why))
    return bad_value (l, "remote-cert", why, error);
  l->remote_ca = ca != NULL;
  return TRUE;
}

/* ---- negotiation ---- */

static gboolean
load_proposals (Loader *l, GError **error)
{
  g_autofree char *ike_text = get (l, "ike");
  g_autofree char *esp_text = get (l, "esp");
  IkeProposalList ike, esp;
  g_autoptr (GError) why = NULL;

  ike_proposal_list_default (IKE_PROTO_IKE, &ike);
  ike_proposal_list_default (IKE_PROTO_ESP, &esp);
  if (ike_text != NULL
      && !ike_proposal_list_parse (ike_text, IKE_PROTO_IKE, IKE_PROPOSAL_FLAGS_NONE, &ike, NULL,
                                   &why))
    return bad_value (l, "ike", why, error);
  if (esp_text != NULL
      && !ike_proposal_list_parse (esp_text, IKE_PROTO_ESP, IKE_PROPOSAL_FLAGS_NONE, &esp, NULL,
                                   &why))
    return bad_value (l, "esp", why, error);
  ike_config_set_proposals (l->conn->config, &ike, &esp);
  return TRUE;
}

static gboolean
load_selectors (Loader *l, const char *key, gboolean local, GError **error)
{
  g_autofree char *text = get (l, key);
  g_auto (GStrv) items = NULL;
  g_autoptr (GError) why = NULL;

  if (text == NULL)
    return TRUE;
  items = g_strsplit_set (text, ",; \t", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      IkeTs ts;

      if (items[i][0] == '\0')
        continue;
      if (!store_parse_cidr (items[i], &ts, &why)
          || !ike_config_add_ts (l->conn->config, local, &ts, &why))
        return bad_value (l, key, why, error);
    }
  return TRUE;
}

static gboolean
load_choice (Loader *l, const char *key, const char *a, const char *b, gboolean *is_b,
             GError **error)
{
  g_autofree char *text = get (l, key);

  *is_b = FALSE;
  if (text == NULL || g_str_equal (text, a))
    return TRUE;
  if (g_str_equal (text, b))
    return (*is_b = TRUE);
  return bad_key (l, key, error, _ ("“%s” is neither %s nor %s"), text, a, b);
}

static gboolean
load_flags (Loader *l, GError **error)
{
  g_autofree char *childless = get (l, "childless");
  g_autoptr (GError) why = NULL;
  gboolean value = FALSE, transport, start;

  if (childless != NULL && !store_parse_bool (childless, &value, &why))
    return bad_value (l, "childless", why, error);
  ike_config_set_childless (l->conn->config, value);
  if (!load_choice (l, "mode", "tunnel", "transport", &transport, error)
      || !load_choice (l, "auto", "add", "start", &start, error))
    return FALSE;
  ike_config_set_mode (l->conn->config, transport ? IKE_MODE_TRANSPORT : IKE_MODE_TUNNEL);
  l->conn->auto_ = start ? STORE_AUTO_START : STORE_AUTO_ADD;
  if (start && l->conn->remote.ss_family == 0)
    return bad_key (l, "auto", error, _ ("start needs a peer address in “remote”, not %%any"));
  return TRUE;
}

static gboolean
load_duration (Loader *l, const char *key, gint64 fallback, gint64 *usec, GError **error)
{
  g_autofree char *text = get (l, key);
  g_autoptr (GError) why = NULL;

  *usec = fallback;
  if (text != NULL && !store_parse_duration (text, usec, &why))
    return bad_value (l, key, why, error);
  return TRUE;
}

static gboolean
load_timers (Loader *l, GError **error)
{
  g_autofree char *limit_text = get (l, "retransmit-limit");
  guint64 limit = 5;
  gint64 base, dpd;
  gboolean restart;

  /* libreswan's dpdaction names; its "hold" needs a trap policy, which
   * ipsecd puts in place only for opportunistic encryption */
  if (!load_duration (l, "retransmit-timeout", 500 * G_TIME_SPAN_MILLISECOND, &base, error)
      || !load_duration (l, "dpd-delay", 0, &dpd, error)
      || !load_choice (l, "dpd-action", "clear", "restart", &restart, error))
    return FALSE;
  if (base < 10 * G_TIME_SPAN_MILLISECOND)
    return bad_key (l, "retransmit-timeout", error, _ ("must be at least 10ms"));
  if (limit_text != NULL && !g_ascii_string_to_unsigned (limit_text, 10, 0, 20, &limit, NULL))
    return bad_key (l, "retransmit-limit", error, _ ("“%s” is not a number from 0 to 20"),
                    limit_text);
  ike_config_set_retransmit (l->conn->config, base, (guint) limit);
  ike_config_set_dpd (l->conn->config, dpd, restart ? IKE_PEER_GONE_RESTART : IKE_PEER_GONE_CLEAR);
  return TRUE;
}

/* One kind of SA's lifetimes, named as strongSwan's rekey_time and
 * life_time: a missing one follows from the other, the hard lifetime 10 %
 * after the rekey, as strongSwan does.  0 is never. */
static gboolean
load_lifetime (Loader *l, const char *rekey_key, const char *life_key, gint64 rekey_default,
               gint64 life_default, gint64 *rekey, gint64 *life, GError **error)
{
  g_autofree char *rekey_text = get (l, rekey_key);
  g_autofree char *life_text = get (l, life_key);

  if (!load_duration (l, rekey_key, rekey_default, rekey, error)
      || !load_duration (l, life_key, life_default, life, error))
    return FALSE;
  if (rekey_text != NULL && life_text == NULL)
    *life = *rekey + *rekey / 10;
  else if (rekey_text == NULL && life_text != NULL)
    *rekey = *life - *life / 11;
  /* a rekey every few milliseconds would only load both ends */
  if (*rekey != 0 && *rekey < G_USEC_PER_SEC)
    return bad_key (l, rekey_text != NULL ? rekey_key : life_key, error,
                    _ ("must be 0 (never) or at least 1s"));
  if (*rekey != 0 && *life != 0 && *rekey >= *life)
    return bad_key (l, rekey_key, error, _ ("must be shorter than “%s”"), life_key);
  return TRUE;
}

static gboolean
load_lifetimes (Loader *l, GError **error)
{
  gint64 rekey, life;

  if (!load_lifetime (l, "rekey-time", "life-time", 60 * G_TIME_SPAN_MINUTE,
                      70 * G_TIME_SPAN_MINUTE, &rekey, &life, error))
    return FALSE;
  ike_config_set_child_lifetime (l->conn->config, rekey, life, NULL);
  if (!load_lifetime (l, "ike-rekey-time", "ike-life-time", 4 * G_TIME_SPAN_HOUR,
                      270 * G_TIME_SPAN_MINUTE, &rekey, &life, error))
    return FALSE;
  ike_config_set_ike_lifetime (l->conn->config, rekey, life, NULL);
  return TRUE;
}

/* ---- one file ---- */

static gboolean
load_keys (Loader *l, GError **error)
{
  return check_shape (l, error) && load_name (l, error)
         && (l->conn->config = ike_config_new (l->conn->name)) != NULL
         && load_address (l, "remote", &l->conn->remote, TRUE, error)
         && load_address (l, "local", &l->conn->local, FALSE, error)
         && load_auth (l, "local-auth", NULL, &l->local_auth, error)
         && load_auth (l, "remote-auth",
                       l->local_auth == IKE_AUTH_NULL         ? "null"
                       : l->local_auth == IKE_AUTH_SHARED_KEY ? "psk"
                                                              : "pubkey",
                       &l->remote_auth, error)
         && load_private_key (l, error) && load_public_key (l, error) && load_side (l, TRUE, error)
         && load_side (l, FALSE, error) && load_psk (l, error) && load_proposals (l, error)
         && load_selectors (l, "local-ts", TRUE, error)
         && load_selectors (l, "remote-ts", FALSE, error) && load_flags (l, error)
         && load_timers (l, error) && load_lifetimes (l, error);
}

StoreConnection *
store_connection_parse (const char *config_dir, const char *path, GKeyFile *file,
                        const IkeSecret *psk, GError **error)
{
  g_autoptr (StoreConnection) conn = g_new0 (StoreConnection, 1);
  g_autoptr (GChecksum) digest = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *data = g_key_file_to_data (file, NULL, NULL);
  Loader l = { config_dir, path, file, conn, 0, 0, digest, psk };
  gboolean ok;

  conn->path = g_strdup (path);
  g_checksum_update (digest, (const guchar *) data, -1);
  ok = load_keys (&l, error);
  g_clear_pointer (&l.local_subject, g_bytes_unref);
  g_clear_pointer (&l.remote_subject, g_bytes_unref);
  if (!ok)
    return NULL;
  conn->digest = g_strdup (g_checksum_get_string (digest));
  return g_steal_pointer (&conn);
}

StoreConnection *
store_connection_load (const char *config_dir, const char *path, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autoptr (GError) why = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &why)
      || !g_key_file_load_from_data (file, data, len, G_KEY_FILE_NONE, &why))
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_IO, _ ("%s: %s"), path, why->message);
      return NULL;
    }
  return store_connection_parse (config_dir, path, file, NULL, error);
}

/* ---- the directory ---- */

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static GPtrArray *
list_files (const char *dir, GPtrArray *problems)
{
  g_autoptr (GDir) d = NULL;
  g_autoptr (GError) why = NULL;
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return paths;
  d = g_dir_open (dir, 0, &why);
  if (d == NULL)
    {
      g_ptr_array_add (problems, g_error_new (STORE_ERROR, STORE_ERROR_IO, "%s", why->message));
      return paths;
    }
  while ((entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (entry, ".conf") && entry[0] != '.')
      g_ptr_array_add (paths, g_build_filename (dir, entry, NULL));
  g_ptr_array_sort (paths, compare_paths);
  return paths;
}

StoreConnection *
store_find (GPtrArray *connections, const char *name)
{
  for (guint i = 0; i < connections->len; i++)
    {
      StoreConnection *conn = g_ptr_array_index (connections, i);

      if (g_str_equal (conn->name, name))
        return conn;
    }
  return NULL;
}

GPtrArray *
store_load_all (const char *config_dir, GPtrArray **problems)
{
  g_autofree char *dir = g_build_filename (config_dir, "connections", NULL);
  GPtrArray *conns = g_ptr_array_new_with_free_func ((GDestroyNotify) store_connection_free);
  g_autoptr (GPtrArray) paths = NULL;

  *problems = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  paths = list_files (dir, *problems);
  for (guint i = 0; i < paths->len; i++)
    {
      GError *error = NULL;
      StoreConnection *conn = store_connection_load (config_dir, paths->pdata[i], &error);

      if (conn != NULL && store_find (conns, conn->name) != NULL)
        {
          error = g_error_new (STORE_ERROR, STORE_ERROR_INVALID,
                               _ ("%s: key “name”: connection “%s” is already defined"), conn->path,
                               conn->name);
          g_clear_pointer (&conn, store_connection_free);
        }
      if (conn != NULL)
        g_ptr_array_add (conns, conn);
      else
        g_ptr_array_add (*problems, error);
    }
  return conns;
}
