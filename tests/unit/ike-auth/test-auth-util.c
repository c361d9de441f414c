/* Helpers shared by the ike-auth tests; see test-auth-util.h. */
#include "test-auth-util.h"

#include <nss.h>
#include <pk11pub.h>
#include <string.h>

#include "ike-crypto.h"

static TestKey keys[TEST_N_KEYS] = {
  [TEST_KEY_RSA2048] = { "RSA-2048" }, [TEST_KEY_RSA3072] = { "RSA-3072" },
  [TEST_KEY_P256] = { "P-256" },       [TEST_KEY_P384] = { "P-384" },
  [TEST_KEY_P521] = { "P-521" },
};

/* DER namedCurve OIDs: prime256v1, secp384r1, secp521r1. */
static const char *curve_oids[TEST_N_KEYS] = {
  [TEST_KEY_P256] = "06082a8648ce3d030107",
  [TEST_KEY_P384] = "06052b81040022",
  [TEST_KEY_P521] = "06052b81040023",
};

void
test_nss_init (void)
{
  g_autoptr (GError) error = NULL;

  if (!ike_crypto_init (&error))
    g_error ("%s", error->message);
}

void
test_nss_shutdown (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_clear_pointer (&keys[i].priv, SECKEY_DestroyPrivateKey);
      g_clear_pointer (&keys[i].pub, SECKEY_DestroyPublicKey);
    }
  if (NSS_Shutdown () != SECSuccess)
    g_error ("NSS_Shutdown failed: something still holds an NSS object");
}

GBytes *
test_hex (const char *text)
{
  GByteArray *out = g_byte_array_new ();

  for (const char *p = text; *p != '\0';)
    {
      guint8 byte;

      if (g_ascii_isspace (*p))
        {
          p++;
          continue;
        }
      g_assert_true (g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]));
      byte = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      g_byte_array_append (out, &byte, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (out);
}

void
test_assert_bytes_equal (GBytes *got, GBytes *want)
{
  gsize got_len, want_len;
  const guint8 *g = g_bytes_get_data (got, &got_len);
  const guint8 *w = g_bytes_get_data (want, &want_len);

  g_assert_cmpmem (g, got_len, w, want_len);
}

GBytes *
test_flip_bit (GBytes *bytes, gsize at)
{
  gsize len;
  guint8 *copy = g_memdup2 (g_bytes_get_data (bytes, &len), g_bytes_get_size (bytes));

  copy[at % len] ^= 0x01;
  return g_bytes_new_take (copy, len);
}

gboolean
test_verify_str (SECKEYPublicKey *key, IkeSignScheme scheme, IkeSignEncoding encoding,
                 const char *msg, GBytes *sig, GError **error)
{
  return ike_sign_verify (key, scheme, encoding, (const guint8 *) msg, strlen (msg),
                          g_bytes_get_data (sig, NULL), g_bytes_get_size (sig), error);
}

static void
generate_key (TestKey *key, TestKeyIndex index)
{
  PK11SlotInfo *slot = PK11_GetInternalSlot ();

  if (curve_oids[index] == NULL)
    {
      PK11RSAGenParams rsa = { index == TEST_KEY_RSA2048 ? 2048 : 3072, 65537 };

      key->priv = PK11_GenerateKeyPair (slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &rsa, &key->pub, PR_FALSE,
                                        PR_FALSE, NULL);
    }
  else
    {
      g_autoptr (GBytes) oid = test_hex (curve_oids[index]);
      SECItem params = { siBuffer, (unsigned char *) g_bytes_get_data (oid, NULL),
                         (unsigned int) g_bytes_get_size (oid) };

      key->priv = PK11_GenerateKeyPair (slot, CKM_EC_KEY_PAIR_GEN, &params, &key->pub, PR_FALSE,
                                        PR_FALSE, NULL);
    }
  PK11_FreeSlot (slot);
  g_assert_nonnull (key->priv);
  g_assert_nonnull (key->pub);
}

TestKey *
test_key (TestKeyIndex index)
{
  g_assert_cmpint (index, <, TEST_N_KEYS);
  if (keys[index].priv == NULL)
    generate_key (&keys[index], index);
  return &keys[index];
}
