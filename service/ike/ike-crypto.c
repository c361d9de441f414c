/* The ground the crypto suite stands on: NSS initialisation, the error
 * domain, wiped secret buffers, and moving keys in and out of NSS. */
#include "ike-crypto-private.h"

#include <nss.h>
#include <prerror.h>
#include <secerr.h>
#include <string.h>

GQuark
ike_crypto_error_quark (void)
{
  /* Not G_DEFINE_QUARK: clang-format spaces out its dashed argument, and the
   * spaces would end up in the quark's name. */
  return g_quark_from_static_string ("ike-crypto-error-quark");
}

gboolean
ike_crypto_init (GError **error)
{
  static gsize once = 0;
  static gboolean ok;

  if (g_once_init_enter (&once))
    {
      /* The daemon may open its NSS database first; then it is already up
       * and a second initialisation would fail or, worse, replace it. */
      ok = NSS_IsInitialized () || NSS_NoDB_Init (NULL) == SECSuccess;
      g_once_init_leave (&once, 1);
    }
  if (!ok)
    g_set_error_literal (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_FAILED,
                         "NSS could not be initialised");
  return ok;
}

void
ike_crypto_set_nss_error (GError **error, const char *what)
{
  const char *name = PR_ErrorToName (PR_GetError ());

  g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_FAILED, "%s: %s", what,
               name != NULL ? name : "unknown NSS error");
}

void
ike_memzero (gpointer data, gsize len)
{
  if (data != NULL && len > 0)
    explicit_bzero (data, len);
}

IkeSecret *
ike_secret_new (gsize len)
{
  IkeSecret *secret;

  g_return_val_if_fail (len <= G_MAXSIZE - sizeof (IkeSecret), NULL);
  secret = g_malloc0 (sizeof (IkeSecret) + len);
  secret->len = len;
  return secret;
}

void
ike_secret_free (IkeSecret *secret)
{
  if (secret == NULL)
    return;
  ike_memzero (secret->data, secret->len);
  g_free (secret);
}

IkeSecret *
ike_secret_new_from_data (const guint8 *data, gsize len)
{
  IkeSecret *secret = ike_secret_new (len);

  if (len > 0)
    memcpy (secret->data, data, len);
  return secret;
}

static PK11SymKey *
import_key (const guint8 *data, gsize len, CK_MECHANISM_TYPE target, CK_FLAGS flags, GError **error)
{
  SECItem item = { siBuffer, (unsigned char *) data, (unsigned int) len };
  PK11SlotInfo *slot;
  PK11SymKey *key;

  if (!ike_crypto_init (error))
    return NULL;
  if (len == 0 || len > G_MAXINT)
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID,
                   "a key of %" G_GSIZE_FORMAT " bytes cannot be imported", len);
      return NULL;
    }
  /* The internal slot does every IKE mechanism, so all keys live together and
   * derives that combine two keys (rekey, PFS) never need to move one. */
  slot = PK11_GetInternalSlot ();
  key = PK11_ImportSymKeyWithFlags (slot, target, PK11_OriginUnwrap, CKA_FLAGS_ONLY, &item, flags,
                                    PR_FALSE, NULL);
  PK11_FreeSlot (slot);
  if (key == NULL)
    ike_crypto_set_nss_error (error, "importing a key");
  return key;
}

PK11SymKey *
ike_symkey_from_bytes (const guint8 *data, gsize len, GError **error)
{
  return import_key (data, len, CKM_GENERIC_SECRET_KEY_GEN, IKE_KEY_FLAGS_SECRET, error);
}

PK11SymKey *
ike_symkey_import (const IkeSecret *secret, CK_MECHANISM_TYPE target, CK_FLAGS flags,
                   GError **error)
{
  return import_key (secret->data, secret->len, target, flags, error);
}

gsize
ike_symkey_length (PK11SymKey *key)
{
  return PK11_GetKeyLength (key);
}

IkeSecret *
ike_symkey_extract (PK11SymKey *key, GError **error)
{
  SECItem *value;

  if (PK11_ExtractKeyValue (key) != SECSuccess)
    {
      ike_crypto_set_nss_error (error, "extracting a key");
      return NULL;
    }
  /* The value stays cached in the PK11SymKey; NSS wipes it when the key is
   * freed. */
  value = PK11_GetKeyData (key);
  return ike_secret_new_from_data (value->data, value->len);
}

PK11SymKey *
ike_symkey_derive (PK11SymKey *base, CK_MECHANISM_TYPE mechanism, gpointer params, gsize params_len,
                   CK_MECHANISM_TYPE target, CK_FLAGS flags, gsize len, GError **error)
{
  SECItem param = { siBuffer, params, (unsigned int) params_len };
  PK11SymKey *key;

  if (len > G_MAXINT)
    {
      g_set_error_literal (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID,
                           "derived key too long");
      return NULL;
    }
  key = PK11_DeriveWithFlags (base, mechanism, params != NULL ? &param : NULL, target,
                              CKA_FLAGS_ONLY, (int) len, flags);
  if (key == NULL)
    ike_crypto_set_nss_error (error, "deriving a key");
  return key;
}

PK11SymKey *
ike_symkey_slice_for (PK11SymKey *key, gsize offset, gsize len, CK_MECHANISM_TYPE target,
                      CK_FLAGS flags, GError **error)
{
  /* CKM_EXTRACT_KEY_FROM_KEY counts its offset in bits. */
  CK_EXTRACT_PARAMS bit_offset = offset * 8;
  gsize key_len = ike_symkey_length (key);

  if (len == 0 || offset > key_len || len > key_len - offset)
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID,
                   "no %" G_GSIZE_FORMAT " bytes at %" G_GSIZE_FORMAT " in a %" G_GSIZE_FORMAT
                   "-byte key",
                   len, offset, key_len);
      return NULL;
    }
  return ike_symkey_derive (key, CKM_EXTRACT_KEY_FROM_KEY, &bit_offset, sizeof bit_offset, target,
                            flags, len, error);
}

PK11SymKey *
ike_symkey_slice (PK11SymKey *key, gsize offset, gsize len, GError **error)
{
  return ike_symkey_slice_for (key, offset, len, CKM_GENERIC_SECRET_KEY_GEN, IKE_KEY_FLAGS_SECRET,
                               error);
}

PK11SymKey *
ike_symkey_pad_left (PK11SymKey *key, gsize len, GError **error)
{
  gsize key_len = ike_symkey_length (key);
  g_autofree guint8 *zeros = NULL;
  CK_KEY_DERIVATION_STRING_DATA prefix;

  if (key_len > len)
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID,
                   "a %" G_GSIZE_FORMAT "-byte key does not fit in %" G_GSIZE_FORMAT " bytes",
                   key_len, len);
      return NULL;
    }
  if (key_len == len)
    return ike_symkey_slice (key, 0, len, error);
  /* The zeros go in front inside NSS, so the secret never leaves it. */
  zeros = g_malloc0 (len - key_len);
  prefix.pData = zeros;
  prefix.ulLen = len - key_len;
  return ike_symkey_derive (key, CKM_CONCATENATE_DATA_AND_BASE, &prefix, sizeof prefix,
                            CKM_GENERIC_SECRET_KEY_GEN, IKE_KEY_FLAGS_SECRET, 0, error);
}
