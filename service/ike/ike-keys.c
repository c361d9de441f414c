/* Key derivation (RFC 7296 §2.14, §2.17, §2.18): SKEYSEED, the seven SK_*
 * keys, rekeyed IKE SAs and Child SA keying material.  Every intermediate
 * value is a PK11SymKey; only ESP keys leave NSS, as wiped IkeSecrets. */
#include "ike-crypto-private.h"

#include <pkcs11n.h>
#include <string.h>

/* RFC 5282 §7.1 and RFC 7634 §2: the salt at the end of an AEAD key. */
#define AEAD_SALT_LEN 4
#define IKE_SPI_LEN 8

gboolean
ike_encr_is_aead (IkeEncrId encr)
{
  return encr == IKE_ENCR_AES_GCM_16 || encr == IKE_ENCR_CHACHA20_POLY1305;
}

gsize
ike_encr_key_length (IkeEncrId encr, guint16 key_bits)
{
  gboolean aes_size = key_bits == 128 || key_bits == 192 || key_bits == 256;

  switch (encr)
    {
    case IKE_ENCR_AES_CBC:
      return aes_size ? key_bits / 8 : 0;
    case IKE_ENCR_AES_GCM_16:
      return aes_size ? key_bits / 8 + AEAD_SALT_LEN : 0;
    case IKE_ENCR_CHACHA20_POLY1305:
      /* RFC 7634 §2: one key size, so no Key Length attribute. */
      return key_bits == 0 || key_bits == 256 ? 32 + AEAD_SALT_LEN : 0;
    default:
      return 0;
    }
}

gsize
ike_integ_key_length (IkeIntegId integ)
{
  switch (integ)
    {
    case IKE_INTEG_HMAC_SHA1_96:
      return 20;
    case IKE_INTEG_HMAC_SHA2_256_128:
      return 32;
    case IKE_INTEG_HMAC_SHA2_384_192:
      return 48;
    case IKE_INTEG_HMAC_SHA2_512_256:
      return 64;
    default:
      return 0;
    }
}

gboolean
ike_cipher_spec_check (const IkeCipherSpec *spec, GError **error)
{
  if (ike_encr_key_length (spec->encr, spec->key_bits) == 0)
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_UNSUPPORTED,
                   "encryption transform %u with a %u-bit key is not supported", (guint) spec->encr,
                   (guint) spec->key_bits);
      return FALSE;
    }
  /* An AEAD cipher authenticates by itself (RFC 5282 §8); a plain cipher
   * without integrity would leave the SK payload forgeable. */
  if (ike_encr_is_aead (spec->encr) ? spec->integ != IKE_INTEG_NONE
                                    : ike_integ_key_length (spec->integ) == 0)
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_UNSUPPORTED,
                   "integrity transform %u does not go with encryption transform %u",
                   (guint) spec->integ, (guint) spec->encr);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_prf (IkePrfId prf, GError **error)
{
  if (ike_prf_length (prf) > 0)
    return TRUE;
  g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_UNSUPPORTED,
               "PRF transform %u is not supported", (guint) prf);
  return FALSE;
}

/* CKM_NSS_IKE_PRF_DERIVE: prf(Ni | Nr, base) with data_as_key, otherwise
 * prf(base, [new_key |] Ni | Nr). */
static PK11SymKey *
ike_prf_derive (IkePrfId prf, PK11SymKey *base, gboolean data_as_key, PK11SymKey *new_key,
                GBytes *ni, GBytes *nr, GError **error)
{
  gsize ni_len, nr_len;
  const guint8 *ni_data = g_bytes_get_data (ni, &ni_len);
  const guint8 *nr_data = g_bytes_get_data (nr, &nr_len);
  CK_NSS_IKE_PRF_DERIVE_PARAMS params = {
    .prfMechanism = ike_prf_mechanism (prf),
    .bDataAsKey = data_as_key,
    .bRekey = new_key != NULL,
    .pNi = (CK_BYTE_PTR) ni_data,
    .ulNiLen = ni_len,
    .pNr = (CK_BYTE_PTR) nr_data,
    .ulNrLen = nr_len,
    .hNewKey = new_key != NULL ? PK11_GetSymKeyHandle (new_key) : CK_INVALID_HANDLE,
  };

  if (!check_prf (prf, error))
    return NULL;
  return ike_symkey_derive (base, CKM_NSS_IKE_PRF_DERIVE, &params, sizeof params,
                            CKM_GENERIC_SECRET_KEY_GEN, IKE_KEY_FLAGS_SECRET, 0, error);
}

PK11SymKey *
ike_skeyseed (IkePrfId prf, PK11SymKey *g_ir, GBytes *ni, GBytes *nr, GError **error)
{
  /* §2.14 keys the PRF with the whole of Ni | Nr.  Its exception (only 64
   * bits of each nonce) is for the fixed-key AES PRFs, which this suite does
   * not offer, so it never applies here. */
  return ike_prf_derive (prf, g_ir, TRUE, NULL, ni, nr, error);
}

PK11SymKey *
ike_skeyseed_rekey (IkePrfId old_prf, PK11SymKey *old_sk_d, PK11SymKey *g_ir_new, GBytes *ni,
                    GBytes *nr, GError **error)
{
  g_return_val_if_fail (g_ir_new != NULL, NULL);
  return ike_prf_derive (old_prf, old_sk_d, FALSE, g_ir_new, ni, nr, error);
}

static GByteArray *
concat_seed (GBytes *ni, GBytes *nr, const guint8 *spi_i, const guint8 *spi_r)
{
  GByteArray *seed = g_byte_array_new ();

  g_byte_array_append (seed, g_bytes_get_data (ni, NULL), (guint) g_bytes_get_size (ni));
  g_byte_array_append (seed, g_bytes_get_data (nr, NULL), (guint) g_bytes_get_size (nr));
  if (spi_i != NULL)
    g_byte_array_append (seed, spi_i, IKE_SPI_LEN);
  if (spi_r != NULL)
    g_byte_array_append (seed, spi_r, IKE_SPI_LEN);
  return seed;
}

/* Takes the next len bytes of keymat; NULL without error when len is 0. */
static gboolean
take_key (PK11SymKey **out, PK11SymKey *keymat, gsize *offset, gsize len, GError **error)
{
  if (len == 0)
    return TRUE;
  *out = ike_symkey_slice (keymat, *offset, len, error);
  *offset += len;
  return *out != NULL;
}

void
ike_sa_keys_clear (IkeSaKeys *keys)
{
  PK11SymKey **all[] = { &keys->sk_d,  &keys->sk_ai, &keys->sk_ar, &keys->sk_ei,
                         &keys->sk_er, &keys->sk_pi, &keys->sk_pr };

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], PK11_FreeSymKey);
}

gboolean
ike_sa_keys_derive (IkeSaKeys *keys, IkePrfId prf, const IkeCipherSpec *spec, PK11SymKey *skeyseed,
                    GBytes *ni, GBytes *nr, const guint8 *spi_i, const guint8 *spi_r,
                    GError **error)
{
  gsize prf_len = ike_prf_length (prf);
  gsize encr_len = ike_encr_key_length (spec->encr, spec->key_bits);
  gsize integ_len = ike_integ_key_length (spec->integ);
  g_autoptr (GByteArray) seed = NULL;
  g_autoptr (PK11SymKey) keymat = NULL;
  gsize offset = 0;

  memset (keys, 0, sizeof *keys);
  if (!check_prf (prf, error) || !ike_cipher_spec_check (spec, error))
    return FALSE;
  seed = concat_seed (ni, nr, spi_i, spi_r);
  keymat = ike_prf_plus (prf, skeyseed, NULL, seed->data, seed->len,
                         3 * prf_len + 2 * integ_len + 2 * encr_len, error);
  if (keymat == NULL)
    return FALSE;
  /* §2.14: SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr. */
  if (take_key (&keys->sk_d, keymat, &offset, prf_len, error)
      && take_key (&keys->sk_ai, keymat, &offset, integ_len, error)
      && take_key (&keys->sk_ar, keymat, &offset, integ_len, error)
      && take_key (&keys->sk_ei, keymat, &offset, encr_len, error)
      && take_key (&keys->sk_er, keymat, &offset, encr_len, error)
      && take_key (&keys->sk_pi, keymat, &offset, prf_len, error)
      && take_key (&keys->sk_pr, keymat, &offset, prf_len, error))
    return TRUE;
  ike_sa_keys_clear (keys);
  return FALSE;
}

PK11SymKey *
ike_child_keymat (IkePrfId prf, PK11SymKey *sk_d, PK11SymKey *g_ir_new, GBytes *ni, GBytes *nr,
                  gsize length, GError **error)
{
  g_autoptr (GByteArray) seed = concat_seed (ni, nr, NULL, NULL);

  /* With PFS, g^ir (new) goes in front of the nonces as a key handle, so it
   * never leaves NSS either. */
  return ike_prf_plus (prf, sk_d, g_ir_new, seed->data, seed->len, length, error);
}

void
ike_child_keys_clear (IkeChildKeys *keys)
{
  g_clear_pointer (&keys->encr_i, ike_secret_free);
  g_clear_pointer (&keys->integ_i, ike_secret_free);
  g_clear_pointer (&keys->encr_r, ike_secret_free);
  g_clear_pointer (&keys->integ_r, ike_secret_free);
}

static gboolean
take_secret (IkeSecret **out, PK11SymKey *keymat, gsize *offset, gsize len, GError **error)
{
  g_autoptr (PK11SymKey) key = NULL;

  if (!take_key (&key, keymat, offset, len, error))
    return FALSE;
  if (key != NULL)
    *out = ike_symkey_extract (key, error);
  return len == 0 || *out != NULL;
}

gboolean
ike_child_keys_derive (IkeChildKeys *keys, IkePrfId prf, const IkeCipherSpec *esp, PK11SymKey *sk_d,
                       PK11SymKey *g_ir_new, GBytes *ni, GBytes *nr, GError **error)
{
  gsize encr_len = ike_encr_key_length (esp->encr, esp->key_bits);
  gsize integ_len = ike_integ_key_length (esp->integ);
  g_autoptr (PK11SymKey) keymat = NULL;
  gsize offset = 0;

  memset (keys, 0, sizeof *keys);
  if (!check_prf (prf, error) || !ike_cipher_spec_check (esp, error))
    return FALSE;
  keymat = ike_child_keymat (prf, sk_d, g_ir_new, ni, nr, 2 * (encr_len + integ_len), error);
  if (keymat == NULL)
    return FALSE;
  if (take_secret (&keys->encr_i, keymat, &offset, encr_len, error)
      && take_secret (&keys->integ_i, keymat, &offset, integ_len, error)
      && take_secret (&keys->encr_r, keymat, &offset, encr_len, error)
      && take_secret (&keys->integ_r, keymat, &offset, integ_len, error))
    return TRUE;
  ike_child_keys_clear (keys);
  return FALSE;
}
