/* Signatures for the AUTH payload, through NSS only.
 *
 * Two wire encodings exist for the same ECDSA signature, and which one a
 * peer expects depends on the AUTH method, never on the key:
 *
 *   AUTH method 14 (RFC 7427 "Digital Signature"): the Authentication Data
 *   is a one-byte length, a DER AlgorithmIdentifier, and the signature; an
 *   ECDSA signature is the DER-encoded ECDSA-Sig-Value SEQUENCE { r, s }
 *   (IKE_SIGN_ENCODING_DER).
 *
 *   AUTH methods 9/10/11 (RFC 4754): no AlgorithmIdentifier; the curve and
 *   the hash are fixed by the method, and the signature is r || s, each
 *   left-padded to the size of the curve's field (IKE_SIGN_ENCODING_RAW).
 *
 * RSA signatures have one encoding only and ignore the choice.  SHA-1
 * signatures (RSA method 1, ecdsa-with-SHA1, RSASSA-PSS default parameters)
 * are not offered: RFC 8247 deprecates them, and accepting one would let a
 * peer downgrade AUTH to a hash with practical collisions.
 *
 * Functions that take an NSS key need NSS up already; the two that take
 * only bytes (AlgorithmIdentifier decoding, key import) call
 * ike_crypto_init themselves. */
#pragma once

#include <glib.h>
#include <keyhi.h>

#include "ike-types.h"

G_BEGIN_DECLS

/* The crypto layer may define the same cleanups; whoever comes first
 * defines them under this guard so both headers can be included. */
#ifndef IKE_NSS_KEY_AUTOPTR_DEFINED
#define IKE_NSS_KEY_AUTOPTR_DEFINED
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SECKEYPrivateKey, SECKEY_DestroyPrivateKey)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SECKEYPublicKey, SECKEY_DestroyPublicKey)
#endif

#define IKE_SIGN_ERROR (ike_sign_error_quark ())
GQuark ike_sign_error_quark (void);

typedef enum
{
  IKE_SIGN_ERROR_UNSUPPORTED,   /* an algorithm we do not do (or refuse) */
  IKE_SIGN_ERROR_INVALID,       /* malformed AlgorithmIdentifier or signature encoding */
  IKE_SIGN_ERROR_KEY,           /* key does not fit the scheme, or is too weak */
  IKE_SIGN_ERROR_BAD_SIGNATURE, /* well-formed, but does not verify */
  IKE_SIGN_ERROR_FAILED,        /* NSS failed (its reason is in the message) */
} IkeSignError;

typedef enum
{
  IKE_SIGN_NONE = 0,
  IKE_SIGN_RSA_PKCS1_SHA256,
  IKE_SIGN_RSA_PKCS1_SHA384,
  IKE_SIGN_RSA_PKCS1_SHA512,
  /* MGF1 with the same hash, salt length = hash length, trailer 1. */
  IKE_SIGN_RSA_PSS_SHA256,
  IKE_SIGN_RSA_PSS_SHA384,
  IKE_SIGN_RSA_PSS_SHA512,
  /* The curve is the key's: P-256, P-384 or P-521. */
  IKE_SIGN_ECDSA_SHA256,
  IKE_SIGN_ECDSA_SHA384,
  IKE_SIGN_ECDSA_SHA512,
} IkeSignScheme;

typedef enum
{
  IKE_SIGN_ENCODING_DER, /* RFC 7427: ECDSA-Sig-Value */
  IKE_SIGN_ENCODING_RAW, /* RFC 4754: r || s */
} IkeSignEncoding;

typedef enum
{
  IKE_SIGN_FLAGS_NONE = 0,
  /* RSA keys sign with PKCS#1 v1.5 instead of RSASSA-PSS, for peers that
   * verify only the former. */
  IKE_SIGN_FLAG_RSA_PKCS1 = 1 << 0,
} IkeSignFlags;

/* What to put in the AUTH payload: the method, and how to sign for it. */
typedef struct
{
  IkeAuthMethod method; /* IKE_AUTH_DIGITAL_SIGNATURE or IKE_AUTH_ECDSA_256/384/521 */
  IkeSignScheme scheme;
  IkeSignEncoding encoding;
} IkeSignChoice;

/* "rsa-pss-sha256", "ecdsa-sha384", …; NULL for an unknown value. */
const char *ike_sign_scheme_to_string (IkeSignScheme scheme);
IkeHashAlgorithm ike_sign_scheme_hash (IkeSignScheme scheme);

/* The hashes we verify and sign with, for our SIGNATURE_HASH_ALGORITHMS
 * notify (RFC 7427 §4), in ascending order. */
const IkeHashAlgorithm *ike_sign_supported_hashes (gsize *n_hashes);

/* Sign DATA (the AUTH octets of RFC 7296 §2.15) with KEY.  ENCODING only
 * matters for ECDSA. */
GBytes *ike_sign_data (SECKEYPrivateKey *key, IkeSignScheme scheme, IkeSignEncoding encoding,
                       const guint8 *data, gsize data_len, GError **error);

/* TRUE only for a valid signature by KEY over DATA with SCHEME.  A
 * signature that does not verify fails with IKE_SIGN_ERROR_BAD_SIGNATURE;
 * one that cannot even be decoded with IKE_SIGN_ERROR_INVALID. */
gboolean ike_sign_verify (SECKEYPublicKey *key, IkeSignScheme scheme, IkeSignEncoding encoding,
                          const guint8 *data, gsize data_len, const guint8 *signature,
                          gsize signature_len, GError **error);

/* RFC 7427 §3: the start of the Authentication Data of method 14, a
 * one-byte length followed by the DER AlgorithmIdentifier of SCHEME.  The
 * signature goes right after it. */
GBytes *ike_sign_algorithm_id_encode (IkeSignScheme scheme, GError **error);

/* Read the length-prefixed AlgorithmIdentifier at the start of AUTH_DATA
 * (method 14): *SCHEME is what it names, *CONSUMED how many bytes it took,
 * so the signature is AUTH_DATA + *CONSUMED.  RSASSA-PSS parameters are
 * parsed and must be ours (same hash for MGF1, salt = hash length). */
gboolean ike_sign_algorithm_id_decode (const guint8 *auth_data, gsize auth_data_len,
                                       IkeSignScheme *scheme, gsize *consumed, GError **error);

/* Choose how to sign with KEY, given the hashes the peer announced in
 * SIGNATURE_HASH_ALGORITHMS (none: it sent no such notify).  Method 14
 * when we share a hash, else RFC 4754 for ECDSA keys; RSA has no fallback,
 * since method 1 means SHA-1. */
gboolean ike_sign_choose (SECKEYPrivateKey *key, const IkeHashAlgorithm *peer_hashes,
                          gsize n_peer_hashes, IkeSignFlags flags, IkeSignChoice *choice,
                          GError **error);

/* For a received AUTH payload with an RFC 4754 method (9, 10, 11): the
 * scheme, after checking that KEY is on the curve the method names. */
gboolean ike_sign_scheme_for_auth_method (IkeAuthMethod method, SECKEYPublicKey *key,
                                          IkeSignScheme *scheme, GError **error);

/* A peer's public key is usable for AUTH: RSA of at least 2048 bits, or
 * ECDSA on P-256, P-384 or P-521. */
gboolean ike_sign_check_public_key (SECKEYPublicKey *key, GError **error);

/* Import a DER SubjectPublicKeyInfo (RFC 7670 raw public key, or key
 * material from configuration or DNS) and check it as above. */
SECKEYPublicKey *ike_sign_public_key_import (const guint8 *spki, gsize spki_len, GError **error);

G_END_DECLS
