/* Protection of the Encrypted (SK) payload, RFC 7296 §3.14: AES-GCM with a
 * 16-byte ICV (RFC 5282), ChaCha20-Poly1305 (RFC 7634), and AES-CBC with an
 * HMAC (RFC 3602, RFC 4868).  The body is IV || ciphertext || ICV, where the
 * plaintext is the inner payload chain followed by padding and a Pad Length
 * octet. */
#include "ike-crypto-private.h"

#include <hasht.h>
#include <secport.h>
#include <string.h>

#define AEAD_SALT_LEN 4
#define AEAD_IV_LEN 8
#define AEAD_NONCE_LEN (AEAD_SALT_LEN + AEAD_IV_LEN)
#define AEAD_ICV_LEN 16
#define AES_BLOCK_LEN 16

typedef enum
{
  CIPHER_AES_GCM,
  CIPHER_CHACHA20_POLY1305,
  CIPHER_AES_CBC,
} CipherKind;

struct _IkeCipher
{
  CipherKind kind;
  /* Bytes, not NSS keys: they enter NSS per call (ike-crypto.h says why). */
  IkeSecret *key;
  IkeSecret *salt;  /* AEAD only */
  IkeSecret *integ; /* AES-CBC only */
  CK_MECHANISM_TYPE integ_mechanism;
  gsize icv_len;
  /* AEAD IVs: a counter (see setup_aead) */
  guint64 next_iv;
  guint64 first_iv;
  gboolean ivs_exhausted;
};

static void
set_integrity_error (GError **error)
{
  /* One message for every way an SK payload can be wrong, so that a peer
   * learns nothing from which check failed (no padding oracle). */
  g_set_error_literal (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INTEGRITY,
                       "the encrypted payload failed its integrity check");
}

static gboolean
is_aead (const IkeCipher *cipher)
{
  return cipher->kind != CIPHER_AES_CBC;
}

gsize
ike_cipher_iv_length (const IkeCipher *cipher)
{
  return is_aead (cipher) ? AEAD_IV_LEN : AES_BLOCK_LEN;
}

gsize
ike_cipher_icv_length (const IkeCipher *cipher)
{
  return cipher->icv_len;
}

/* AEAD ciphers need no block alignment (RFC 5282 §3, RFC 7634 §3). */
static gsize
block_length (const IkeCipher *cipher)
{
  return is_aead (cipher) ? 1 : AES_BLOCK_LEN;
}

gsize
ike_cipher_sealed_length (const IkeCipher *cipher, gsize plain_len)
{
  gsize block = block_length (cipher);
  gsize inner = (plain_len + 1 + block - 1) / block * block;

  return ike_cipher_iv_length (cipher) + inner + cipher->icv_len;
}

gsize
ike_cipher_max_plaintext (const IkeCipher *cipher, gsize body_len)
{
  gsize overhead = ike_cipher_iv_length (cipher) + cipher->icv_len;
  gsize inner;

  if (body_len <= overhead)
    return 0;
  inner = (body_len - overhead) / block_length (cipher) * block_length (cipher);
  return inner > 0 ? inner - 1 : 0;
}

static CK_MECHANISM_TYPE
cipher_mechanism (CipherKind kind)
{
  switch (kind)
    {
    case CIPHER_AES_GCM:
      return CKM_AES_GCM;
    case CIPHER_CHACHA20_POLY1305:
      return CKM_CHACHA20_POLY1305;
    case CIPHER_AES_CBC:
    default:
      return CKM_AES_CBC;
    }
}

/* RFC 4868 §2.1: the ICV is the HMAC truncated to half its length (SHA-1:
 * 96 of 160 bits, RFC 2404). */
static gboolean
integ_algorithm (IkeIntegId integ, CK_MECHANISM_TYPE *mechanism, gsize *icv_len)
{
  static const struct
  {
    IkeIntegId id;
    CK_MECHANISM_TYPE mechanism;
    gsize icv_len;
  } table[] = {
    { IKE_INTEG_HMAC_SHA1_96, CKM_SHA_1_HMAC, 12 },
    { IKE_INTEG_HMAC_SHA2_256_128, CKM_SHA256_HMAC, 16 },
    { IKE_INTEG_HMAC_SHA2_384_192, CKM_SHA384_HMAC, 24 },
    { IKE_INTEG_HMAC_SHA2_512_256, CKM_SHA512_HMAC, 32 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    {
      if (table[i].id == integ)
        {
          *mechanism = table[i].mechanism;
          *icv_len = table[i].icv_len;
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
check_key_length (PK11SymKey *key, gsize want, const char *name, GError **error)
{
  if (key != NULL && ike_symkey_length (key) == want)
    return TRUE;
  g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID,
               "%s must be a %" G_GSIZE_FORMAT "-byte key", name, want);
  return FALSE;
}

/* AEAD: SK_e is the cipher key followed by the salt. */
static gboolean
setup_aead (IkeCipher *cipher, PK11SymKey *sk_e, GError **error)
{
  g_autoptr (IkeSecret) value = ike_symkey_extract (sk_e, error);
  gsize key_len;

  if (value == NULL)
    return FALSE;
  key_len = value->len - AEAD_SALT_LEN;
  cipher->icv_len = AEAD_ICV_LEN;
  cipher->key = ike_secret_new_from_data (value->data, key_len);
  cipher->salt = ike_secret_new_from_data (value->data + key_len, AEAD_SALT_LEN);
  /* The explicit IV only has to be unique per key (RFC 5282 §3.1, RFC 7634
   * §3), not unpredictable, so a counter is enough and saves a call into the
   * DRBG per message.  It starts at a random point: should two IkeCiphers
   * ever be made from one SK_e, their IVs still will not collide. */
  if (!ike_random_bytes ((guint8 *) &cipher->next_iv, sizeof cipher->next_iv, error))
    return FALSE;
  cipher->first_iv = cipher->next_iv;
  return TRUE;
}

static gboolean
setup_cbc (IkeCipher *cipher, const IkeCipherSpec *spec, PK11SymKey *sk_e, PK11SymKey *sk_a,
           GError **error)
{
  if (!check_key_length (sk_a, ike_integ_key_length (spec->integ), "SK_a", error))
    return FALSE;
  integ_algorithm (spec->integ, &cipher->integ_mechanism, &cipher->icv_len);
  cipher->key = ike_symkey_extract (sk_e, error);
  cipher->integ = cipher->key != NULL ? ike_symkey_extract (sk_a, error) : NULL;
  return cipher->integ != NULL;
}

IkeCipher *
ike_cipher_new (const IkeCipherSpec *spec, PK11SymKey *sk_e, PK11SymKey *sk_a, GError **error)
{
  g_autoptr (IkeCipher) cipher = NULL;

  if (!ike_cipher_spec_check (spec, error)
      || !check_key_length (sk_e, ike_encr_key_length (spec->encr, spec->key_bits), "SK_e", error))
    return NULL;
  cipher = g_new0 (IkeCipher, 1);
  switch (spec->encr)
    {
    case IKE_ENCR_AES_GCM_16:
      cipher->kind = CIPHER_AES_GCM;
      break;
    case IKE_ENCR_CHACHA20_POLY1305:
      cipher->kind = CIPHER_CHACHA20_POLY1305;
      break;
    default:
      cipher->kind = CIPHER_AES_CBC;
      break;
    }
  if (is_aead (cipher) ? !setup_aead (cipher, sk_e, error)
                       : !setup_cbc (cipher, spec, sk_e, sk_a, error))
    return NULL;
  return g_steal_pointer (&cipher);
}

void
ike_cipher_free (IkeCipher *cipher)
{
  if (cipher == NULL)
    return;
  g_clear_pointer (&cipher->key, ike_secret_free);
  g_clear_pointer (&cipher->integ, ike_secret_free);
  g_clear_pointer (&cipher->salt, ike_secret_free);
  g_free (cipher);
}

/* One PK11_Encrypt or PK11_Decrypt call with the cipher's parameters.  AEAD
 * output carries the tag after the ciphertext; out must have room for it. */
static gboolean
run_cipher (IkeCipher *cipher, gboolean encrypt, const guint8 *iv, const guint8 *aad, gsize aad_len,
            const guint8 *in, gsize in_len, guint8 *out, gsize out_max, gsize *out_len)
{
  guint8 nonce[AEAD_NONCE_LEN];
  CK_GCM_PARAMS_V3 gcm = { 0 };
  CK_SALSA20_CHACHA20_POLY1305_PARAMS chacha = { 0 };
  SECItem param = { siBuffer, NULL, 0 };
  g_autoptr (PK11SymKey) key = NULL;
  unsigned int written = 0;
  SECStatus rv;

  if (in_len > G_MAXUINT || out_max > G_MAXUINT || aad_len > G_MAXUINT)
    return FALSE;
  key = ike_symkey_import (cipher->key, cipher_mechanism (cipher->kind), IKE_KEY_FLAGS_CIPHER,
                           NULL);
  if (key == NULL)
    return FALSE;
  if (is_aead (cipher))
    {
      memcpy (nonce, cipher->salt->data, AEAD_SALT_LEN);
      memcpy (nonce + AEAD_SALT_LEN, iv, AEAD_IV_LEN);
    }
  switch (cipher->kind)
    {
    case CIPHER_AES_GCM:
      gcm.pIv = nonce;
      gcm.ulIvLen = sizeof nonce;
      gcm.ulIvBits = sizeof nonce * 8;
      gcm.pAAD = (CK_BYTE_PTR) aad;
      gcm.ulAADLen = aad_len;
      gcm.ulTagBits = AEAD_ICV_LEN * 8;
      param.data = (unsigned char *) &gcm;
      param.len = sizeof gcm;
      break;
    case CIPHER_CHACHA20_POLY1305:
      chacha.pNonce = nonce;
      chacha.ulNonceLen = sizeof nonce;
      chacha.pAAD = (CK_BYTE_PTR) aad;
      chacha.ulAADLen = aad_len;
      param.data = (unsigned char *) &chacha;
      param.len = sizeof chacha;
      break;
    case CIPHER_AES_CBC:
      param.data = (unsigned char *) iv;
      param.len = AES_BLOCK_LEN;
      break;
    }
  rv = (encrypt ? PK11_Encrypt : PK11_Decrypt) (key, cipher_mechanism (cipher->kind), &param, out,
                                                &written, (unsigned int) out_max, in,
                                                (unsigned int) in_len);
  *out_len = written;
  return rv == SECSuccess;
}

/* The HMAC over aad || data, truncated to the ICV length (RFC 7296 §3.14:
 * the checksum covers the message from the IKE header through the
 * ciphertext). */
static gboolean
compute_icv (IkeCipher *cipher, const guint8 *aad, gsize aad_len, const guint8 *data,
             gsize data_len, guint8 *icv)
{
  SECItem no_params = { siBuffer, NULL, 0 };
  guint8 mac[HASH_LENGTH_MAX];
  unsigned int mac_len = 0;
  g_autoptr (PK11SymKey) key = NULL;
  PK11Context *context;
  SECStatus rv;

  if (aad_len > G_MAXUINT || data_len > G_MAXUINT)
    return FALSE;
  key = ike_symkey_import (cipher->integ, cipher->integ_mechanism, CKF_SIGN | CKF_VERIFY, NULL);
  if (key == NULL)
    return FALSE;
  context = PK11_CreateContextBySymKey (cipher->integ_mechanism, CKA_SIGN, key, &no_params);
  if (context == NULL)
    return FALSE;
  rv = PK11_DigestBegin (context);
  if (rv == SECSuccess && aad_len > 0)
    rv = PK11_DigestOp (context, aad, (unsigned int) aad_len);
  if (rv == SECSuccess && data_len > 0)
    rv = PK11_DigestOp (context, data, (unsigned int) data_len);
  if (rv == SECSuccess)
    rv = PK11_DigestFinal (context, mac, &mac_len, sizeof mac);
  PK11_DestroyContext (context, PR_TRUE);
  if (rv != SECSuccess || mac_len < cipher->icv_len)
    return FALSE;
  memcpy (icv, mac, cipher->icv_len);
  return TRUE;
}

static gboolean
next_iv (IkeCipher *cipher, guint8 *iv, GError **error)
{
  guint64 counter;

  if (!is_aead (cipher))
    /* RFC 7296 §3.14: a CBC IV must be unpredictable, so it is random. */
    return ike_random_bytes (iv, AES_BLOCK_LEN, error);
  if (cipher->ivs_exhausted)
    {
      g_set_error_literal (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_FAILED,
                           "every IV of this key has been used; rekey");
      return FALSE;
    }
  counter = GUINT64_TO_BE (cipher->next_iv);
  memcpy (iv, &counter, AEAD_IV_LEN);
  cipher->next_iv++;
  cipher->ivs_exhausted = cipher->next_iv == cipher->first_iv;
  return TRUE;
}

GBytes *
ike_cipher_seal (IkeCipher *cipher, const guint8 *aad, gsize aad_len, const guint8 *plain,
                 gsize plain_len, GError **error)
{
  gsize iv_len = ike_cipher_iv_length (cipher);
  gsize body_len, inner_len;
  g_autofree guint8 *body = NULL;
  guint8 *inner;
  gsize written = 0;
  gboolean ok;

  /* An IKE message is at most 64 KiB; NSS counts in unsigned int. */
  if (plain_len > G_MAXUINT16 || aad_len > G_MAXUINT16)
    {
      g_set_error_literal (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID,
                           "too long for an IKE message");
      return NULL;
    }
  body_len = ike_cipher_sealed_length (cipher, plain_len);
  inner_len = body_len - iv_len - cipher->icv_len;
  body = g_malloc0 (body_len);
  if (!next_iv (cipher, body, error))
    return NULL;
  /* Padding of zeros, then the Pad Length octet. */
  inner = g_malloc0 (inner_len);
  if (plain_len > 0)
    memcpy (inner, plain, plain_len);
  inner[inner_len - 1] = (guint8) (inner_len - plain_len - 1);
  ok = run_cipher (cipher, TRUE, body, aad, aad_len, inner, inner_len, body + iv_len,
                   body_len - iv_len, &written);
  ike_memzero (inner, inner_len);
  g_free (inner);
  ok = ok && written == body_len - iv_len - (is_aead (cipher) ? 0 : cipher->icv_len);
  if (ok && !is_aead (cipher))
    ok = compute_icv (cipher, aad, aad_len, body, iv_len + inner_len, body + iv_len + inner_len);
  if (!ok)
    {
      ike_crypto_set_nss_error (error, "encrypting a payload");
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&body), body_len);
}

/* Verifies the ICV of a CBC body in constant time, before anything is
 * decrypted. */
static gboolean
check_icv (IkeCipher *cipher, const guint8 *aad, gsize aad_len, const guint8 *body, gsize body_len)
{
  guint8 icv[HASH_LENGTH_MAX];
  gsize covered = body_len - cipher->icv_len;

  return compute_icv (cipher, aad, aad_len, body, covered, icv)
         && NSS_SecureMemcmp (icv, body + covered, cipher->icv_len) == 0;
}

GBytes *
ike_cipher_open (IkeCipher *cipher, const guint8 *aad, gsize aad_len, const guint8 *body,
                 gsize body_len, GError **error)
{
  gsize iv_len = ike_cipher_iv_length (cipher);
  gsize block = block_length (cipher);
  gsize ct_len, inner_len = 0, pad_len;
  g_autofree guint8 *inner = NULL;
  gboolean ok;

  /* At least a block of ciphertext, which holds the Pad Length octet. */
  if (body_len < iv_len + block + cipher->icv_len || body_len > G_MAXUINT)
    goto fail;
  ct_len = body_len - iv_len - (is_aead (cipher) ? 0 : cipher->icv_len);
  if ((ct_len - (is_aead (cipher) ? cipher->icv_len : 0)) % block != 0)
    goto fail;
  if (!is_aead (cipher) && !check_icv (cipher, aad, aad_len, body, body_len))
    goto fail;
  inner = g_malloc (ct_len);
  ok = run_cipher (cipher, FALSE, body, aad, aad_len, body + iv_len, ct_len, inner, ct_len,
                   &inner_len);
  if (!ok || inner_len == 0)
    goto fail;
  pad_len = inner[inner_len - 1];
  if (pad_len + 1 > inner_len)
    goto fail;
  return g_bytes_new_take (g_steal_pointer (&inner), inner_len - pad_len - 1);

fail:
  if (inner != NULL)
    ike_memzero (inner, inner_len);
  set_integrity_error (error);
  return NULL;
}

GBytes *
ike_cipher_encrypt_raw (IkeCipher *cipher, const guint8 *iv, const guint8 *aad, gsize aad_len,
                        const guint8 *in, gsize in_len, GError **error)
{
  gsize out_max = in_len + (is_aead (cipher) ? cipher->icv_len : 0);
  g_autofree guint8 *out = g_malloc0 (MAX (out_max, 1));
  gsize written = 0;

  if (!run_cipher (cipher, TRUE, iv, aad, aad_len, in, in_len, out, out_max, &written))
    {
      ike_crypto_set_nss_error (error, "encrypting");
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&out), written);
}

GBytes *
ike_cipher_decrypt_raw (IkeCipher *cipher, const guint8 *iv, const guint8 *aad, gsize aad_len,
                        const guint8 *in, gsize in_len, GError **error)
{
  g_autofree guint8 *out = g_malloc0 (MAX (in_len, 1));
  gsize written = 0;

  if (!run_cipher (cipher, FALSE, iv, aad, aad_len, in, in_len, out, in_len, &written))
    {
      set_integrity_error (error);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&out), written);
}
