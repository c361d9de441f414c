/* One libreswan conn into one connection file (docs/ipsecd.conf.5.md,
 * "Importing from libreswan", is the table this code follows).
 *
 * The conn's keys are resolved first as libreswan does: its own, then
 * those of its also= sections in order, then "conn %default".  Each key
 * that is read is marked; whatever is left unread is reported at the end,
 * so no key is ever dropped silently.  A key ipsecd cannot honour either
 * does not matter for what is negotiated (a note; the conn is imported) or
 * would change it (the conn is refused whole, with the reason). */
#include "config.h"

#include "store-import-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ike-proposal.h"
#include "net-socket.h"

#define GROUP "connection"
#define MAX_ALSO_DEPTH 16

typedef struct
{
  const ImportConfig *config;
  ImportSection *conn;
  GHashTable *keys; /* key → ImportKv, the one in effect */
  GHashTable *used; /* ImportKv set */
  GPtrArray *problems;
  GKeyFile *file;
  gboolean refused;
  const char *local, *remote; /* "left"/"right" */
  IkeAuthMethod local_auth, remote_auth;
  char *local_id, *remote_id; /* as libreswan matches secrets; NULL: unknown */
} Mapper;

/* ---- problems ---- */

static void
problem (Mapper *m, const ImportKv *kv, gboolean refuse, const char *why)
{
  g_autofree char *text = refuse ? g_strdup_printf (_ ("%s (conn not imported)"), why) : NULL;

  store_import_problem (m->problems, m->config->label, m->conn, kv, refuse ? text : why);
  if (kv != NULL)
    g_hash_table_add (m->used, (gpointer) kv);
  m->refused |= refuse;
}

static void problem_printf (Mapper *m, const ImportKv *kv, gboolean refuse, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static void
problem_printf (Mapper *m, const ImportKv *kv, gboolean refuse, const char *format, ...)
{
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  problem (m, kv, refuse, why);
}

/* ---- keys in effect ---- */

static gboolean
collect (Mapper *m, ImportSection *section, GHashTable *seen, guint depth)
{
  g_autoptr (GHashTable) own = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_add (seen, section);
  for (guint i = 0; i < section->kvs->len; i++)
    {
      ImportKv *kv = g_ptr_array_index (section->kvs, i);

      if (g_str_equal (kv->key, "also"))
        continue;
      if (!g_hash_table_add (own, kv->key))
        problem (m, kv, TRUE, _ ("set twice in one section"));
      else if (!g_hash_table_contains (m->keys, kv->key))
        g_hash_table_insert (m->keys, kv->key, kv);
    }
  for (guint i = 0; i < section->kvs->len; i++)
    {
      ImportKv *kv = g_ptr_array_index (section->kvs, i);
      ImportSection *target;

      if (!g_str_equal (kv->key, "also"))
        continue;
      g_hash_table_add (m->used, kv);
      target = store_import_find_section (m->config, kv->value);
      if (target == NULL || g_str_equal (kv->value, "%default"))
        problem (m, kv, TRUE, _ ("no conn of that name"));
      else if (g_hash_table_contains (seen, target) || depth >= MAX_ALSO_DEPTH)
        problem (m, kv, TRUE, _ ("also= includes itself in a loop"));
      else if (!collect (m, target, seen, depth + 1))
        return FALSE;
    }
  /* a stack, not a set: two conns may include the same third */
  g_hash_table_remove (seen, section);
  return !m->refused;
}

static void
collect_all (Mapper *m)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);

  if (!collect (m, m->conn, seen, 0))
    return;
  for (guint i = 0; i < m->config->conns->len; i++)
    {
      ImportSection *s = g_ptr_array_index (m->config->conns, i);

      if (g_str_equal (s->name, "%default"))
        collect (m, s, seen, 0);
    }
}

static ImportKv *
kv_of (Mapper *m, const char *key)
{
  return g_hash_table_lookup (m->keys, key);
}

/* The value of KEY, marked as read; NULL when absent or empty. */
static const char *
take (Mapper *m, const char *key)
{
  ImportKv *kv = kv_of (m, key);

  if (kv == NULL)
    return NULL;
  g_hash_table_add (m->used, kv);
  return kv->value[0] != '\0' ? kv->value : NULL;
}

static char *
end_key (const char *end, const char *key)
{
  return g_strconcat (end, key, NULL);
}

static const char *
take_end (Mapper *m, const char *end, const char *key)
{
  g_autofree char *full = end_key (end, key);

  return take (m, full);
}

static ImportKv *
kv_of_end (Mapper *m, const char *end, const char *key)
{
  g_autofree char *full = end_key (end, key);

  return kv_of (m, full);
}

static void
set (Mapper *m, const char *key, const char *value)
{
  g_key_file_set_string (m->file, GROUP, key, value);
}

/* ---- the conn as a whole ---- */

static gboolean
name_is_valid (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > 64 || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static void
map_version (Mapper *m)
{
  const char *ikev2 = take (m, "ikev2");
  const char *exchange = take (m, "keyexchange");

  /* absent: IKEv2, libreswan's default since 4.0 */
  if (ikev2 != NULL && !store_import_one_of (ikev2, "insist|yes|permit|propose"))
    problem (m, kv_of (m, "ikev2"), TRUE, _ ("IKEv1 only: ipsecd speaks IKEv2"));
  if (exchange != NULL && !store_import_one_of (exchange, "ikev2|ike"))
    problem (m, kv_of (m, "keyexchange"), TRUE, _ ("IKEv1 only: ipsecd speaks IKEv2"));
}

static void
map_type (Mapper *m)
{
  const char *type = take (m, "type");
  const char *auto_ = take (m, "auto");
  ImportKv *auto_kv = kv_of (m, "auto");

  if (type != NULL && g_str_equal (type, "transport"))
    set (m, "mode", "transport");
  else if (type != NULL && !g_str_equal (type, "tunnel"))
    problem (m, kv_of (m, "type"), TRUE,
             _ ("a shunt, not an IPsec connection: ipsecd's OE policy groups (ipsecctl policy) "
                "pass or block traffic"));
  /* absent: add; libreswan's default "ignore" loads nothing, and a conn is
   * imported to be used */
  if (auto_ == NULL || g_str_equal (auto_, "add"))
    set (m, "auto", "add");
  else if (g_str_equal (auto_, "start") || g_str_equal (auto_, "up"))
    set (m, "auto", "start");
  else if (store_import_one_of (auto_, "ondemand|route|keep"))
    {
      set (m, "auto", "start");
      problem (m, auto_kv, FALSE,
               _ ("ipsecd has no on-demand (trap) policy for a connection: imported as "
                  "auto=start, which initiates at once"));
    }
  else if (g_str_equal (auto_, "ignore"))
    problem (m, auto_kv, TRUE, _ ("libreswan does not load this conn"));
  else
    problem (m, auto_kv, TRUE, _ ("not add, start, ondemand or ignore"));
}

/* ---- the ends ---- */

typedef enum
{
  END_MISSING,
  END_ADDRESS,
  END_ANY,
  END_DEFAULTROUTE,
  END_OPPORTUNISTIC,
  END_NAME,
} EndKind;

static EndKind
end_kind (const char *value, struct sockaddr_storage *addr)
{
  memset (addr, 0, sizeof *addr);
  if (value == NULL)
    return END_MISSING;
  if (store_import_one_of (value, "%any|%any4|%any6"))
    return END_ANY;
  if (store_import_one_of (value, "%defaultroute|%defaultroute4|%defaultroute6"))
    return END_DEFAULTROUTE;
  if (g_str_has_prefix (value, "%opportunistic") || g_str_equal (value, "%group"))
    return END_OPPORTUNISTIC;
  if (net_sockaddr_parse (value, 0, addr, NULL))
    return END_ADDRESS;
  return END_NAME;
}

/* Which end is this host: the one with an address of this host, else the
 * one written %defaultroute, else left (docs/ipsecd.conf.5.md). */
static void
choose_local (Mapper *m, StoreImportIsLocalFunc is_local, gpointer user_data)
{
  const char *left = take (m, "left"), *right = take (m, "right");
  struct sockaddr_storage l, r;
  EndKind lk = end_kind (left, &l), rk = end_kind (right, &r);
  gboolean left_here = lk == END_ADDRESS && is_local (&l, user_data);
  gboolean right_here = rk == END_ADDRESS && is_local (&r, user_data);

  m->local = "left";
  m->remote = "right";
  if ((right_here && !left_here)
      || (!left_here && !right_here && rk == END_DEFAULTROUTE && lk != END_DEFAULTROUTE))
    {
      m->local = "right";
      m->remote = "left";
    }
  if (lk == END_ADDRESS && rk == END_ADDRESS && !left_here && !right_here)
    problem (m, kv_of (m, "left"), FALSE,
             _ ("neither left nor right is an address of this host: left is taken as this "
                "host's end"));
}

static void
map_end (Mapper *m, gboolean local)
{
  const char *end = local ? m->local : m->remote;
  const char *value = take (m, end);
  ImportKv *kv = kv_of (m, end);
  struct sockaddr_storage addr;

  switch (end_kind (value, &addr))
    {
    case END_MISSING:
      problem_printf (m, NULL, TRUE, _ ("%s= is missing"), end);
      break;
    case END_ADDRESS:
      set (m, local ? "local" : "remote", value);
      break;
    case END_ANY:
      if (!local)
        set (m, "remote", "%any");
      break;
    case END_DEFAULTROUTE:
      if (!local)
        problem (m, kv, TRUE, _ ("both ends would be this host"));
      break;
    case END_OPPORTUNISTIC:
      problem (m, kv, TRUE,
               _ ("opportunistic encryption is ipsecd's OE policy groups (ipsecctl policy), not "
                  "a connection"));
      break;
    case END_NAME:
      problem (m, kv, TRUE,
               _ ("not an IP address: libreswan resolves names through DNS, ipsecd needs the "
                  "address"));
      break;
    }
}

/* The identity as libreswan matches secrets: the id, else the address. */
static char *
secret_id (const char *id, const char *address)
{
  struct sockaddr_storage addr;

  if (id != NULL)
    return store_import_one_of (id, "%fromcert|%any|%none") ? NULL : g_strdup (id);
  return end_kind (address, &addr) == END_ADDRESS ? g_strdup (address) : NULL;
}

static void
map_id (Mapper *m, gboolean local)
{
  const char *end = local ? m->local : m->remote;
  const char *id = take_end (m, end, "id");
  ImportKv *kv = kv_of_end (m, end, "id");
  struct sockaddr_storage addr;
  const char *key = local ? "local-id" : "remote-id";

  *(local ? &m->local_id : &m->remote_id)
      = secret_id (id, kv_of (m, end) ? kv_of (m, end)->value : NULL);
  if (id == NULL || store_import_one_of (id, "%fromcert|%none"))
    return;
  if (g_str_equal (id, "%any"))
    {
      if (local)
        problem (m, kv, TRUE, _ ("our own identity cannot be any"));
      else
        set (m, key, "%any");
      return;
    }
  /* an address, @fqdn, user@domain, a DN or %null are the same in ipsecd;
   * a bare name libreswan resolves through DNS */
  if (id[0] != '@' && id[0] != '%' && strchr (id, '@') == NULL && strchr (id, '=') == NULL
      && end_kind (id, &addr) != END_ADDRESS)
    problem (m, kv, TRUE,
             _ ("a name without @ is resolved through DNS by libreswan: write @name for the "
                "name itself, or the address"));
  else
    set (m, key, id);
}

/* ---- authentication ---- */

/* One authby/leftauth word as ipsecd's method; 0 when ipsecd has none. */
static IkeAuthMethod
auth_word (const char *word)
{
  if (g_str_equal (word, "secret") || g_str_equal (word, "psk"))
    return IKE_AUTH_SHARED_KEY;
  if (g_str_equal (word, "null"))
    return IKE_AUTH_NULL;
  if (g_str_has_prefix (word, "rsa") || g_str_has_prefix (word, "ecdsa"))
    return IKE_AUTH_DIGITAL_SIGNATURE;
  return 0;
}

/* A list like "rsasig,ecdsa": one method, or 0. */
static IkeAuthMethod
auth_list (const char *text)
{
  g_auto (GStrv) words = g_strsplit_set (text, ", ", -1);
  IkeAuthMethod method = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      IkeAuthMethod one;

      if (words[i][0] == '\0')
        continue;
      one = auth_word (words[i]);
      if (one == 0 || (method != 0 && one != method))
        return 0;
      method = one;
    }
  return method;
}

static const char *
auth_name (IkeAuthMethod method)
{
  return method == IKE_AUTH_SHARED_KEY ? "psk" : method == IKE_AUTH_NULL ? "null" : "pubkey";
}

static void
map_auth (Mapper *m)
{
  const char *authby = take (m, "authby");
  /* absent: libreswan signs (rsasig, ecdsa) */
  IkeAuthMethod both = authby != NULL ? auth_list (authby) : IKE_AUTH_DIGITAL_SIGNATURE;

  for (int local = 1; local >= 0; local--)
    {
      const char *end = local ? m->local : m->remote;
      const char *own = take_end (m, end, "auth");
      IkeAuthMethod method = own != NULL ? auth_list (own) : both;
      ImportKv *kv = own != NULL ? kv_of_end (m, end, "auth") : kv_of (m, "authby");

      if (method == 0)
        problem (m, kv, TRUE,
                 _ ("ipsecd authenticates with one of secret (PSK), rsasig/ecdsa (signatures) or "
                    "null"));
      *(local ? &m->local_auth : &m->remote_auth) = method;
    }
  if (m->local_auth == 0 || m->remote_auth == 0)
    return;
  set (m, "local-auth", auth_name (m->local_auth));
  if (m->remote_auth != m->local_auth)
    set (m, "remote-auth", auth_name (m->remote_auth));
}

/* Keys of END that only matter with signatures, when that end does not
 * sign. */
static void
unused_keys (Mapper *m, const char *end, const char *const *keys)
{
  IkeAuthMethod method = end == m->local ? m->local_auth : m->remote_auth;

  for (guint i = 0; keys[i] != NULL; i++)
    {
      ImportKv *kv = kv_of_end (m, end, keys[i]);

      if (kv != NULL && kv->value[0] != '\0' && !g_str_equal (kv->value, "%cert"))
        problem_printf (m, kv, FALSE, _ ("only used with signatures; this end uses %s"),
                        auth_name (method));
    }
}

static const char *
send_cert (const char *value)
{
  if (store_import_one_of (value, "always|yes|alwayssend|forcedsend"))
    return "always";
  if (store_import_one_of (value, "ifasked|sendifasked"))
    return "ifasked";
  if (store_import_one_of (value, "never|no|neversend"))
    return "never";
  return NULL;
}

static void
map_local_keys (Mapper *m)
{
  const char *cert = take_end (m, m->local, "cert");
  const char *sendcert = take_end (m, m->local, "sendcert");
  const char *key = take_end (m, m->local, "rsasigkey");

  if (key == NULL)
    key = take_end (m, m->local, "pubkey");
  if (m->local_auth != IKE_AUTH_DIGITAL_SIGNATURE)
    {
      unused_keys (m, m->local,
                   (const char *[]){ "cert", "sendcert", "rsasigkey", "pubkey", NULL });
      return;
    }
  if (cert != NULL)
    set (m, "local-cert", cert);
  else if (key != NULL && !g_str_equal (key, "%cert"))
    problem_printf (m, NULL, TRUE,
                    _ ("signing with a raw key (%srsasigkey/%sckaid): ipsecd needs local-key= "
                       "(a PKCS#8 file) instead; add it with ipsecctl add"),
                    m->local, m->local);
  else
    problem_printf (m, NULL, TRUE, _ ("this end signs but %scert= (the NSS nickname) is missing"),
                    m->local);
  if (sendcert != NULL && send_cert (sendcert) != NULL)
    set (m, "send-cert", send_cert (sendcert));
  else if (sendcert != NULL)
    problem (m, kv_of_end (m, m->local, "sendcert"), TRUE, _ ("not always, ifasked or never"));
}

/* rightca=%same: the CA of leftca. */
static void
map_remote_ca (Mapper *m, const char *ca)
{
  const char *own_ca;

  if (!g_str_equal (ca, "%same"))
    {
      set (m, "remote-ca", ca);
      return;
    }
  own_ca = take_end (m, m->local, "ca");
  if (own_ca != NULL && !g_str_equal (own_ca, "%same"))
    set (m, "remote-ca", own_ca);
  else
    problem_printf (m, kv_of_end (m, m->remote, "ca"), TRUE,
                    _ ("the issuer of %scert is not known from the text: name the CA's NSS "
                       "nickname"),
                    m->local);
}

static void
map_remote_keys (Mapper *m)
{
  const char *cert = take_end (m, m->remote, "cert");
  const char *ca = take_end (m, m->remote, "ca");
  const char *key = take_end (m, m->remote, "rsasigkey");
  ImportKv *key_kv = kv_of_end (m, m->remote, key != NULL ? "rsasigkey" : "pubkey");
  g_autoptr (SECKEYPublicKey) pub = NULL;
  g_autoptr (GError) why = NULL;

  if (key == NULL)
    key = take_end (m, m->remote, "pubkey");
  if (m->remote_auth != IKE_AUTH_DIGITAL_SIGNATURE)
    {
      unused_keys (m, m->remote, (const char *[]){ "cert", "ca", "rsasigkey", "pubkey", NULL });
      return;
    }
  if (cert != NULL)
    set (m, "remote-cert", cert);
  if (ca != NULL)
    map_remote_ca (m, ca);
  if (key != NULL && !g_str_equal (key, "%cert"))
    {
      pub = store_parse_public_key (key, &why);
      if (pub == NULL)
        problem_printf (m, key_kv, TRUE,
                        _ ("%s; ipsecd takes a SubjectPublicKeyInfo in base64 as remote-pubkey"),
                        why->message);
      else
        set (m, "remote-pubkey", key);
    }
  else if (cert == NULL && ca == NULL)
    problem_printf (m, NULL, TRUE,
                    _ ("the peer signs: ipsecd needs %sca= (the CA's NSS nickname), %scert= or a "
                       "raw %srsasigkey="),
                    m->remote, m->remote, m->remote);
}

/* ---- traffic ---- */

static void
map_subnet (Mapper *m, gboolean local)
{
  const char *end = local ? m->local : m->remote;
  const char *subnet = take_end (m, end, "subnet");
  ImportKv *kv = kv_of_end (m, end, "subnet");
  g_auto (GStrv) items = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  if (subnet == NULL)
    return;
  items = g_strsplit_set (subnet, ", \t", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_autoptr (GError) why = NULL;
      IkeTs ts;

      if (items[i][0] == '\0')
        continue;
      if (!store_parse_cidr (items[i], &ts, &why))
        {
          problem (m, kv, TRUE, why->message);
          return;
        }
      g_string_append_printf (out, "%s%s", out->len > 0 ? ", " : "", items[i]);
    }
  set (m, local ? "local-ts" : "remote-ts", out->str);
}

static void
map_proposal (Mapper *m, const char *key, const char *store_key, IkeProtocolId protocol)
{
  const char *value = take (m, key);
  g_autofree char *text = NULL;
  g_autoptr (GError) why = NULL;
  IkeProposalList list;

  if (value == NULL)
    return;
  /* a trailing '!' was libreswan's "strict"; ipsecd is always strict */
  text = store_import_proposal (value, protocol);
  if (!ike_proposal_list_parse (text, protocol, IKE_PROPOSAL_FLAGS_NONE, &list, NULL, &why))
    problem (m, kv_of (m, key), TRUE, why->message);
  else
    set (m, store_key, text);
}

/* ---- timers ---- */

static void
map_duration (Mapper *m, const char *key, const char *store_key, gboolean bare_ms)
{
  const char *value = take (m, key);
  g_autofree char *text = NULL;
  gint64 ms;

  if (value == NULL)
    return;
  if (!store_import_duration (value, bare_ms, &ms))
    {
      problem (m, kv_of (m, key), TRUE, _ ("not a duration"));
      return;
    }
  if (ms == 0 && g_str_equal (store_key, "dpd-delay"))
    return;
  if (ms % 1000 == 0)
    text = g_strdup_printf ("%" G_GINT64_FORMAT "s", ms / 1000);
  else
    text = g_strdup_printf ("%" G_GINT64_FORMAT "ms", ms);
  set (m, store_key, text);
}

/* dpdaction=restart has an equivalent; clear is the default and hold is
 * reported with the other keys (store-import-rules.c). */
static void
map_dpd_action (Mapper *m)
{
  const ImportKv *kv = kv_of (m, "dpdaction");

  if (kv != NULL && g_str_equal (kv->value, "restart"))
    set (m, "dpd-action", take (m, "dpdaction"));
}

/* ---- keys read last: equivalent values, notes and refusals ---- */

static void
report_unread (Mapper *m)
{
  GHashTableIter iter;
  ImportKv *kv;
  g_autoptr (GPtrArray) unread = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, m->keys);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &kv))
    if (!g_hash_table_contains (m->used, kv))
      g_ptr_array_add (unread, kv);
  /* in the order of the file, for the reader */
  for (guint i = 0; i < unread->len; i++)
    for (guint j = i + 1; j < unread->len; j++)
      if (((ImportKv *) unread->pdata[j])->line < ((ImportKv *) unread->pdata[i])->line)
        {
          gpointer t = unread->pdata[i];

          unread->pdata[i] = unread->pdata[j];
          unread->pdata[j] = t;
        }
  for (guint i = 0; i < unread->len; i++)
    {
      gboolean refuse = FALSE;
      const char *why;

      kv = unread->pdata[i];
      why = store_import_rule (kv->key, kv->value, &refuse);
      if (why != NULL)
        problem (m, kv, refuse, why);
    }
}

/* ---- the PSK ---- */

static void
map_psk (Mapper *m, GPtrArray *psks, const char *secrets_label, IkeSecret **out)
{
  const ImportPsk *psk;
  gboolean ambiguous = FALSE;

  if (m->local_auth != IKE_AUTH_SHARED_KEY && m->remote_auth != IKE_AUTH_SHARED_KEY)
    return;
  psk = store_import_secrets_match (psks, m->local_id, m->remote_id, &ambiguous);
  if (psk == NULL)
    problem_printf (m, NULL, TRUE, _ ("no PSK in %s matches %s and %s"), secrets_label,
                    m->local_id != NULL ? m->local_id : _ ("this end"),
                    m->remote_id != NULL ? m->remote_id : _ ("any peer"));
  else if (ambiguous)
    problem_printf (m, NULL, TRUE,
                    _ ("%s: lines with different PSKs match equally well (line %u is one)"),
                    secrets_label, psk->line);
  else
    {
      *out = ike_secret_new_from_data (psk->secret->data, psk->secret->len);
    }
}

/* ---- one conn ---- */

static void
map_keys (Mapper *m, StoreImportIsLocalFunc is_local, gpointer user_data)
{
  map_version (m);
  map_type (m);
  choose_local (m, is_local, user_data);
  map_end (m, TRUE);
  map_end (m, FALSE);
  map_id (m, TRUE);
  map_id (m, FALSE);
  map_auth (m);
  map_local_keys (m);
  map_remote_keys (m);
  map_subnet (m, TRUE);
  map_subnet (m, FALSE);
  map_proposal (m, "ike", "ike", IKE_PROTO_IKE);
  if (kv_of (m, "esp") != NULL)
    map_proposal (m, "esp", "esp", IKE_PROTO_ESP);
  else
    map_proposal (m, "phase2alg", "esp", IKE_PROTO_ESP);
  map_duration (m, "dpddelay", "dpd-delay", FALSE);
  map_dpd_action (m);
  map_duration (m, "retransmit-interval", "retransmit-timeout", TRUE);
  /* libreswan's lifetimes are the hard ones; ipsecd rekeys 10 % before */
  map_duration (m, "ikelifetime", "ike-life-time", FALSE);
  map_duration (m, "salifetime", "life-time", FALSE);
  map_duration (m, "lifetime", "life-time", FALSE);
  map_duration (m, "keylife", "life-time", FALSE);
  report_unread (m);
}

StoreImported *
store_import_map (const ImportConfig *config, ImportSection *conn, GPtrArray *psks,
                  const char *secrets_label, StoreImportIsLocalFunc is_local, gpointer user_data,
                  GPtrArray *problems)
{
  g_autoptr (GHashTable) keys = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) used = g_hash_table_new (NULL, NULL);
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (IkeSecret) psk = NULL;
  Mapper m = { config, conn, keys, used, problems, file };
  StoreImported *imported;

  if (!name_is_valid (conn->name))
    {
      problem (&m, NULL, TRUE,
               _ ("ipsecd's names are 1 to 64 letters, digits, “-”, “_” or “.”, starting with a "
                  "letter or digit: rename the conn"));
      return NULL;
    }
  set (&m, "name", conn->name);
  collect_all (&m);
  if (!m.refused)
    map_keys (&m, is_local, user_data);
  if (!m.refused)
    map_psk (&m, psks, secrets_label, &psk);
  g_free (m.local_id);
  g_free (m.remote_id);
  if (m.refused)
    return NULL;
  imported = g_new0 (StoreImported, 1);
  imported->name = g_strdup (conn->name);
  imported->file = g_steal_pointer (&file);
  imported->psk = g_steal_pointer (&psk);
  imported->line = conn->line;
  return imported;
}
