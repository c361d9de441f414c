/* Certificates of connection files: nicknames in the daemon's NSS database
 * (local-cert, remote-ca, remote-cert) and distinguished names as
 * identities.  DNs are written as libreswan and strongSwan write them, the
 * first RDN of the encoding first: "C=US, O=Example, CN=east.example". */
#include "config.h"

#include "store.h"

#include <cert.h>
#include <glib/gi18n.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secasn1.h>
#include <secerr.h>
#include <string.h>

static const char *
nss_reason (void)
{
  return PORT_ErrorToString (PORT_GetError ());
}

/* ---- distinguished names ---- */

static void
reverse_rdns (CERTName *name)
{
  guint n = 0;

  while (name->rdns != NULL && name->rdns[n] != NULL)
    n++;
  for (guint i = 0; i < n / 2; i++)
    {
      CERTRDN *swap = name->rdns[i];

      name->rdns[i] = name->rdns[n - 1 - i];
      name->rdns[n - 1 - i] = swap;
    }
}

gboolean
store_parse_dn (const char *text, GBytes **der, GError **error)
{
  CERTName *name;
  SECItem *item;

  if (!ike_crypto_init (error))
    return FALSE;
  /* NSS reads RFC 4514's order (the last RDN of the encoding first) */
  name = CERT_AsciiToName (text);
  if (name == NULL || name->rdns == NULL || name->rdns[0] == NULL)
    {
      if (name != NULL)
        CERT_DestroyName (name);
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                   _ ("“%s” is not a distinguished name like “C=US, O=Example, CN=host”"), text);
      return FALSE;
    }
  reverse_rdns (name);
  item = SEC_ASN1EncodeItem (NULL, NULL, name, SEC_ASN1_GET (CERT_NameTemplate));
  CERT_DestroyName (name);
  if (item == NULL)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, _ ("“%s”: cannot encode it: %s"), text,
                   nss_reason ());
      return FALSE;
    }
  *der = g_bytes_new (item->data, item->len);
  SECITEM_FreeItem (item, PR_TRUE);
  return TRUE;
}

char *
store_format_dn (const guint8 *der, gsize len)
{
  SECItem item = { siBuffer, (unsigned char *) der, (unsigned int) len };
  PLArenaPool *arena = PORT_NewArena (DER_DEFAULT_CHUNKSIZE);
  g_autoptr (GString) text = g_string_new (NULL);
  CERTName name = { 0 };

  if (arena == NULL)
    return NULL;
  if (SEC_QuickDERDecodeItem (arena, &name, SEC_ASN1_GET (CERT_NameTemplate), &item) != SECSuccess
      || name.rdns == NULL)
    {
      PORT_FreeArena (arena, PR_FALSE);
      return NULL;
    }
  /* one RDN at a time, in the order of the encoding */
  for (guint i = 0; name.rdns[i] != NULL; i++)
    {
      CERTRDN *one[2] = { name.rdns[i], NULL };
      CERTName single = { arena, one };
      char *rdn = CERT_NameToAscii (&single);

      if (rdn == NULL)
        continue;
      g_string_append_printf (text, "%s%s", i > 0 ? ", " : "", rdn);
      PORT_Free (rdn);
    }
  PORT_FreeArena (arena, PR_FALSE);
  /* the peer chose these bytes: nothing but valid UTF-8 goes to the log */
  if (!g_utf8_validate (text->str, text->len, NULL))
    return g_strescape (text->str, NULL);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ---- certificates in the NSS database ---- */

CERTCertificate *
store_find_cert (const char *nickname, GError **error)
{
  CERTCertificate *cert;

  if (!ike_crypto_init (error))
    return NULL;
  cert = CERT_FindCertByNickname (CERT_GetDefaultCertDB (), nickname);
  if (cert == NULL)
    g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                 _ ("no certificate with nickname “%s” in the NSS database (see “certutil -L”)"),
                 nickname);
  return cert;
}

SECKEYPrivateKey *
store_find_cert_key (CERTCertificate *cert, const char *nickname, GError **error)
{
  SECKEYPrivateKey *key = PK11_FindKeyByAnyCert (cert, NULL);

  if (key == NULL)
    g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                 _ ("the NSS database has no private key for certificate “%s” (import the "
                    "certificate with its key by “pk12util -i”; a database with a password is "
                    "not supported)"),
                 nickname);
  return key;
}

gboolean
store_check_ca (CERTCertificate *cert, const char *nickname, GError **error)
{
  if (CERT_IsCACert (cert, NULL))
    return TRUE;
  g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
               _ ("certificate “%s” is not a CA certificate (no basicConstraints CA:TRUE)"),
               nickname);
  return FALSE;
}

/* ---- a connection's certificates ---- */

gboolean
store_parse_send_cert (const char *text, IkeSendCert *when, GError **error)
{
  if (text == NULL || g_str_equal (text, "ifasked"))
    *when = IKE_SEND_CERT_IFASKED;
  else if (g_str_equal (text, "always"))
    *when = IKE_SEND_CERT_ALWAYS;
  else if (g_str_equal (text, "never"))
    *when = IKE_SEND_CERT_NEVER;
  else
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                   _ ("“%s” is not always, ifasked or never"), text);
      return FALSE;
    }
  return TRUE;
}

/* A certificate is part of what a connection was built from: replacing it
 * in the database must count as a change on reload. */
static void
digest_cert (GChecksum *digest, CERTCertificate *cert)
{
  g_checksum_update (digest, cert->derCert.data, cert->derCert.len);
}

gboolean
store_cert_load_local (IkeConfig *config, const char *nickname, IkeSendCert when, GChecksum *digest,
                       GBytes **subject, GError **error)
{
  g_autoptr (CERTCertificate) cert = store_find_cert (nickname, error);
  g_autoptr (SECKEYPrivateKey) key = NULL;

  if (cert == NULL || (key = store_find_cert_key (cert, nickname, error)) == NULL)
    return FALSE;
  if (!ike_config_set_local_certificate (config, cert, key, error))
    return FALSE;
  ike_config_set_send_cert (config, when);
  digest_cert (digest, cert);
  *subject = g_bytes_new (cert->derSubject.data, cert->derSubject.len);
  return TRUE;
}

gboolean
store_cert_load_cas (IkeConfig *config, const char *nicknames, GChecksum *digest, GError **error)
{
  g_auto (GStrv) names = g_strsplit (nicknames, ",", -1);
  guint n = 0;

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr (CERTCertificate) ca = NULL;
      const char *nickname = g_strstrip (names[i]);

      if (nickname[0] == '\0')
        continue;
      ca = store_find_cert (nickname, error);
      if (ca == NULL || !store_check_ca (ca, nickname, error)
          || !ike_config_set_remote_ca (config, ca, error))
        return FALSE;
      digest_cert (digest, ca);
      n++;
    }
  if (n > 0)
    return TRUE;
  g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID, _ ("no CA nickname in “%s”"), nicknames);
  return FALSE;
}

gboolean
store_cert_load_pinned (IkeConfig *config, const char *nickname, GChecksum *digest,
                        GBytes **subject, GError **error)
{
  g_autoptr (CERTCertificate) cert = store_find_cert (nickname, error);
  g_autoptr (SECKEYPublicKey) key = NULL;

  if (cert == NULL)
    return FALSE;
  key = CERT_ExtractPublicKey (cert);
  if (key == NULL)
    {
      g_set_error (error, STORE_ERROR, STORE_ERROR_INVALID,
                   _ ("certificate “%s”: cannot read its public key: %s"), nickname, nss_reason ());
      return FALSE;
    }
  if (!ike_config_set_peer_public_key (config, key, error))
    return FALSE;
  digest_cert (digest, cert);
  *subject = g_bytes_new (cert->derSubject.data, cert->derSubject.len);
  return TRUE;
}
