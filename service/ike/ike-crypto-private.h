/* Internals the files of the crypto suite share, and the raw primitives the
 * known-answer tests reach past the IKE framing for.  Not for other layers. */
#pragma once

#include <pkcs11t.h>

#include "ike-crypto.h"

G_BEGIN_DECLS

/* What a generic secret may be used for: HMAC key, base or seed of a derive. */
#define IKE_KEY_FLAGS_SECRET (CKF_SIGN | CKF_VERIFY | CKF_DERIVE)
#define IKE_KEY_FLAGS_CIPHER (CKF_ENCRYPT | CKF_DECRYPT)

/* Sets error to "<what>: <NSS error name>". */
void ike_crypto_set_nss_error (GError **error, const char *what);

/* The HMAC mechanism of a PRF, CKM_INVALID_MECHANISM if unsupported. */
CK_MECHANISM_TYPE ike_prf_mechanism (IkePrfId prf);

/* PK11_Derive with explicit usage flags and a GError. */
PK11SymKey *ike_symkey_derive (PK11SymKey *base, CK_MECHANISM_TYPE mechanism, gpointer params,
                               gsize params_len, CK_MECHANISM_TYPE target, CK_FLAGS flags,
                               gsize len, GError **error);
/* A short-lived NSS key of an IkeSecret's bytes, typed for target. */
PK11SymKey *ike_symkey_import (const IkeSecret *secret, CK_MECHANISM_TYPE target, CK_FLAGS flags,
                               GError **error);
/* Like ike_symkey_slice, but typed for target and its usage. */
PK11SymKey *ike_symkey_slice_for (PK11SymKey *key, gsize offset, gsize len,
                                  CK_MECHANISM_TYPE target, CK_FLAGS flags, GError **error);
/* A copy of key left-padded with zero bytes to len (no-op copy if already). */
PK11SymKey *ike_symkey_pad_left (PK11SymKey *key, gsize len, GError **error);

/* Raw cipher operation with a given IV, no IKE padding, no separate ICV:
 * AEAD output is ciphertext || tag, CBC output the ciphertext alone. */
GBytes *ike_cipher_encrypt_raw (IkeCipher *cipher, const guint8 *iv, const guint8 *aad,
                                gsize aad_len, const guint8 *in, gsize in_len, GError **error);
GBytes *ike_cipher_decrypt_raw (IkeCipher *cipher, const guint8 *iv, const guint8 *aad,
                                gsize aad_len, const guint8 *in, gsize in_len, GError **error);

/* Shannon entropy in bits per character (per code point of valid UTF-8,
 * otherwise per byte). */
double ike_psk_entropy (const guint8 *psk, gsize len);

G_END_DECLS
