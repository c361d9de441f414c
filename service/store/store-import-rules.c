/* The parts of the libreswan import that are tables and spellings rather
 * than conn structure: proposal strings in ipsecd's dialect, durations, and
 * what each key without a direct equivalent means (docs/ipsecd.conf.5.md,
 * "Importing from libreswan"). */
#include "config.h"

#include "store-import-private.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
store_import_one_of (const char *value, const char *list)
{
  g_auto (GStrv) items = g_strsplit (list, "|", -1);

  return g_strv_contains ((const char *const *) items, value);
}

/* ---- proposals ---- */

/* libreswan's spellings of AES-GCM that ipsecd's proposal parser lacks:
 * "aes_gcm_16_256" and "aes_gcm_c_256" are its "aes_gcm16_256". */
static char *
gcm_names (const char *text)
{
  static const char *const from[]
      = { "aes_gcm_16_", "aes_gcm_c_", "aes_gcm_12_", "aes_gcm_b_", "aes_gcm_8_", "aes_gcm_a_" };
  static const char *const to[]
      = { "aes_gcm16_", "aes_gcm16_", "aes_gcm12_", "aes_gcm12_", "aes_gcm8_", "aes_gcm8_" };
  GString *out = g_string_new (text);

  for (gsize i = 0; i < G_N_ELEMENTS (from); i++)
    g_string_replace (out, from[i], to[i], 0);
  return g_string_free (out, FALSE);
}

/* In libreswan's ike= an AEAD cipher's hash is the PRF ("aes_gcm256-sha2"),
 * which ipsecd spells "prfsha256". */
static char *
aead_prf (const char *proposal)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean aead = strstr (proposal, "gcm") != NULL || strstr (proposal, "chacha") != NULL;
  const char *p = proposal;

  while (*p != '\0')
    {
      gsize len = strcspn (p, "-;+");
      g_autofree char *token = g_strndup (p, len);

      if (aead && g_str_has_prefix (token, "sha"))
        g_string_append (out, g_str_equal (token, "sha2") ? "prfsha256" : "prf");
      if (!(aead && g_str_equal (token, "sha2")))
        g_string_append (out, token);
      p += len;
      if (*p != '\0')
        g_string_append_c (out, *p++);
    }
  return g_strdup (out->str);
}

static char *
libreswan_ike (const char *text)
{
  g_auto (GStrv) proposals = g_strsplit (text, ",", -1);

  for (guint i = 0; proposals[i] != NULL; i++)
    {
      char *fixed = aead_prf (proposals[i]);

      g_free (proposals[i]);
      proposals[i] = fixed;
    }
  return g_strjoinv (",", proposals);
}

char *
store_import_proposal (const char *value, IkeProtocolId protocol)
{
  g_autofree char *text = gcm_names (value);

  /* a trailing '!' was libreswan's "strict"; ipsecd is always strict */
  if (g_str_has_suffix (text, "!"))
    text[strlen (text) - 1] = '\0';
  return protocol == IKE_PROTO_IKE ? libreswan_ike (text) : g_steal_pointer (&text);
}

/* ---- durations ---- */

/* libreswan's durations: seconds, or with s, m, h, d (ms only for
 * retransmit-interval, whose bare number is milliseconds). */
gboolean
store_import_duration (const char *text, gboolean bare_ms, gint64 *ms)
{
  char *end = NULL;
  double value = g_ascii_strtod (text, &end);
  double scale = bare_ms ? 1 : 1000;

  if (end == text || !(value >= 0) || value > 86400.0 * 365)
    return FALSE;
  if (g_str_equal (end, "ms"))
    scale = 1;
  else if (g_str_equal (end, "s"))
    scale = 1000;
  else if (g_str_equal (end, "m"))
    scale = 60000;
  else if (g_str_equal (end, "h"))
    scale = 3600000;
  else if (g_str_equal (end, "d"))
    scale = 86400000;
  else if (*end != '\0')
    return FALSE;
  *ms = (gint64) (value * scale);
  return TRUE;
}

/* ---- keys without a direct equivalent ---- */

typedef struct
{
  const char *key;  /* after left/right for END */
  gboolean end;     /* leftKEY and rightKEY */
  const char *fine; /* values that mean what ipsecd does anyway ('|'), or NULL */
  gboolean refuse;  /* other values: the conn is not imported */
  const char *why;
} KeyRule;

static const KeyRule rules[] = {
  { "fragmentation", FALSE, "yes", FALSE,
    N_ ("ipsecd always offers IKE fragmentation (RFC 7383) and uses it when the peer does") },
  { "encapsulation", FALSE, "auto", FALSE,
    N_ ("ipsecd encapsulates ESP in UDP exactly when it detects a NAT") },
  { "narrowing", FALSE, "no", FALSE, N_ ("ipsecd has no narrowing setting") },
  { "negotiationshunt", FALSE, "hold", FALSE, N_ ("ipsecd installs no shunt while negotiating") },
  { "failureshunt", FALSE, "none", FALSE, N_ ("ipsecd installs no shunt after a failure") },
  { "mobike", FALSE, "no", FALSE, N_ ("ipsecd has no MOBIKE (RFC 4555)") },
  { "esn", FALSE, "no|either", FALSE, N_ ("write esn in esp= for extended sequence numbers") },
  { "compress", FALSE, "no", FALSE, N_ ("ipsecd does not negotiate IPComp") },
  { "pfs", FALSE, "yes", FALSE,
    N_ ("ipsecd uses PFS exactly when esp= names a DH group (its default esp does)") },
  { "rekey", FALSE, "yes", FALSE, N_ ("ipsecd always rekeys before a lifetime ends") },
  { "reauth", FALSE, "no", FALSE, N_ ("ipsecd rekeys, it does not reauthenticate") },
  { "keyingtries", FALSE, "1", FALSE, N_ ("ipsecd does not retry a failed initiation") },
  { "dpdaction", FALSE, "clear", FALSE, N_ ("ipsecd clears the IKE SA of a peer that is gone") },
  { "dpdtimeout", FALSE, NULL, FALSE,
    N_ ("ipsecd declares the peer gone when retransmit-limit liveness checks go unanswered") },
  { "retransmit-timeout", FALSE, NULL, FALSE,
    N_ ("libreswan's total time; ipsecd counts retransmissions (retransmit-limit)") },
  { "ipsec-lifetime", FALSE, NULL, FALSE, N_ ("write salifetime (ipsecd's life-time)") },
  { "rekeymargin", FALSE, NULL, FALSE,
    N_ ("ipsecd rekeys 10 % before the lifetime (rekey-time, ike-rekey-time)") },
  { "rekeyfuzz", FALSE, NULL, FALSE, N_ ("ipsecd adds its own jitter to rekey times") },
  { "aggressive", FALSE, "no", TRUE, N_ ("aggressive mode is IKEv1") },
  { "aggrmode", FALSE, "no", TRUE, N_ ("aggressive mode is IKEv1") },
  { "phase2", FALSE, "esp", TRUE, N_ ("ipsecd does ESP only") },
  { "ah", FALSE, NULL, TRUE, N_ ("ipsecd does ESP only") },
  { "sha2-truncbug", FALSE, "no", TRUE,
    N_ ("ipsecd does not reproduce the SHA-256 truncation bug") },
  { "ppk", FALSE, "no|never|propose|permit", TRUE, N_ ("ipsecd has no post-quantum PPK") },
  { "modecfgpull", FALSE, "no", TRUE, N_ ("ipsecd has no mode config") },
  { "subnets", TRUE, NULL, TRUE,
    N_ ("libreswan makes one Child SA per pair of subnets, ipsecd one per connection: write one "
        "conn per pair, or one subnet= list") },
  { "protoport", TRUE, "0/0", TRUE,
    N_ ("ipsecd's traffic selectors are whole prefixes, without protocol or port") },
  { "addresspool", TRUE, NULL, TRUE, N_ ("ipsecd hands out no addresses (configuration payload)") },
  { "modecfgserver", TRUE, "no", TRUE, N_ ("ipsecd has no mode config") },
  { "modecfgclient", TRUE, "no", TRUE, N_ ("ipsecd has no mode config") },
  { "xauthserver", TRUE, "no", TRUE, N_ ("ipsecd has no XAUTH") },
  { "xauthclient", TRUE, "no", TRUE, N_ ("ipsecd has no XAUTH") },
  { "username", TRUE, NULL, TRUE, N_ ("ipsecd has no XAUTH") },
  { "xauthusername", TRUE, NULL, TRUE, N_ ("ipsecd has no XAUTH") },
  { "ckaid", TRUE, NULL, TRUE,
    N_ ("a raw key by CKA_ID: ipsecd needs local-key= (a PKCS#8 file) or a certificate") },
  { "sourceip", TRUE, NULL, FALSE, N_ ("ipsecd sets no source address: routing decides") },
  { "nexthop", TRUE, NULL, FALSE, N_ ("ipsecd routes by the routing table") },
  { "updown", TRUE, NULL, FALSE, N_ ("ipsecd runs no updown script") },
  { "ca", TRUE, NULL, FALSE,
    N_ ("our own CA: ipsecd sends the chain its NSS database has for local-cert") },
  { "sendcert", TRUE, NULL, FALSE, N_ ("what the peer sends is the peer's choice") },
};

static const KeyRule *
rule_for (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      const char *rest = key;

      if (rules[i].end && g_str_has_prefix (key, "left"))
        rest = key + 4;
      else if (rules[i].end && g_str_has_prefix (key, "right"))
        rest = key + 5;
      else if (rules[i].end)
        continue;
      if (g_str_equal (rest, rules[i].key))
        return &rules[i];
    }
  return NULL;
}

const char *
store_import_rule (const char *key, const char *value, gboolean *refuse)
{
  const KeyRule *rule = rule_for (key);

  *refuse = FALSE;
  if (rule == NULL)
    return _ ("no ipsecd equivalent; ignored");
  if (rule->fine != NULL && store_import_one_of (value, rule->fine))
    return NULL;
  *refuse = rule->refuse;
  return _ (rule->why);
}
