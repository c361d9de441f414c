/* The IKEv2 crypto suite, all of it through NSS (DESIGN.md §4): key exchange
 * (MODP, ECP, Curve25519), the PRF and prf+, SKEYSEED and the SK_* keys, Child
 * SA keying material, SK payload protection, the octets AUTH covers, and
 * random numbers.
 *
 * Keys being derived live inside NSS as PK11SymKey.  Keys kept for the life
 * of an SA (SK_d, SK_e, SK_a) and ESP keys for the kernel come out as an
 * IkeSecret, which is wiped when it is freed, and go back into NSS only for
 * the call that uses them: NSS 3.87's softoken costs about 6 KiB of memory
 * per live key object, which would be most of an idle IKE SA's footprint.  Nothing in this part
 * logs key material, at any log level.
 *
 * Sans-I/O: no sockets, no clock.  NSS is thread-safe, so the expensive calls
 * (ike_dh_new, ike_dh_derive) may run on a worker thread; one IkeCipher must
 * not be used from two threads at once. */
#pragma once

#include <glib.h>
#include <keyhi.h>
#include <pk11pub.h>

#include "ike-types.h"

G_BEGIN_DECLS

/* ---- Errors ---- */

#define IKE_CRYPTO_ERROR (ike_crypto_error_quark ())

typedef enum
{
  IKE_CRYPTO_ERROR_FAILED,      /* NSS failed where it should not have */
  IKE_CRYPTO_ERROR_UNSUPPORTED, /* an algorithm or group this suite does not offer */
  IKE_CRYPTO_ERROR_INVALID,     /* an argument that does not fit (a length, a size) */
  IKE_CRYPTO_ERROR_BAD_PUBLIC,  /* the peer's KE value is unusable */
  IKE_CRYPTO_ERROR_INTEGRITY,   /* an SK payload failed to authenticate or decrypt */
  IKE_CRYPTO_ERROR_AUTH_FAILED, /* an AUTH payload does not match */
  IKE_CRYPTO_ERROR_WEAK_SECRET, /* a pre-shared key refused as too weak */
} IkeCryptoError;

GQuark ike_crypto_error_quark (void);

/* Initialises NSS without a database unless someone already initialised it
 * (with one).  Idempotent and thread-safe; every constructor below calls it. */
gboolean ike_crypto_init (GError **error);

/* ---- Secret bytes outside NSS ---- */

typedef struct
{
  gsize len;
  guint8 data[];
} IkeSecret;

IkeSecret *ike_secret_new (gsize len);
IkeSecret *ike_secret_new_from_data (const guint8 *data, gsize len);
/* Wipes, then frees.  NULL is fine. */
void ike_secret_free (IkeSecret *secret);
/* Wipes memory in a way the compiler may not optimise away. */
void ike_memzero (gpointer data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeSecret, ike_secret_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PK11SymKey, PK11_FreeSymKey)

/* Shared with ike-sign.h: whichever header comes first defines them. */
#ifndef IKE_NSS_KEY_AUTOPTR_DEFINED
#define IKE_NSS_KEY_AUTOPTR_DEFINED
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SECKEYPrivateKey, SECKEY_DestroyPrivateKey)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SECKEYPublicKey, SECKEY_DestroyPublicKey)
#endif

/* ---- Keys in NSS ---- */

/* Imports bytes (a PSK, a test key) as a generic secret usable as an HMAC key
 * and as the base of the IKE derivations. */
PK11SymKey *ike_symkey_from_bytes (const guint8 *data, gsize len, GError **error);
/* Copies a key's value out of NSS, e.g. ESP keys for the kernel. */
IkeSecret *ike_symkey_extract (PK11SymKey *key, GError **error);
/* The len bytes of key starting at offset, as a new generic secret. */
PK11SymKey *ike_symkey_slice (PK11SymKey *key, gsize offset, gsize len, GError **error);
gsize ike_symkey_length (PK11SymKey *key);

/* ---- Random (NSS only) ---- */

gboolean ike_random_bytes (guint8 *buffer, gsize len, GError **error);
/* A fresh nonce, 16 to 256 bytes (RFC 7296 §3.9). */
GBytes *ike_random_nonce (gsize len, GError **error);
/* An IKE SPI: 8 random bytes, never all zero (RFC 7296 §3.1). */
gboolean ike_random_ike_spi (guint8 spi[8], GError **error);

/* ---- PRF (RFC 7296 §2.13) ---- */

/* Output length of the PRF in bytes, which is also its preferred key length
 * (the length of SK_d, SK_pi, SK_pr).  0 if the PRF is not supported: the
 * HMAC-SHA2 family, and HMAC-SHA1 for peers that are configured to use it. */
gsize ike_prf_length (IkePrfId prf);
/* prf(key, data) whose output is public, e.g. AUTH. */
GBytes *ike_prf (IkePrfId prf, PK11SymKey *key, const guint8 *data, gsize len, GError **error);
/* prf(key, data) whose output stays secret, inside NSS. */
PK11SymKey *ike_prf_key (IkePrfId prf, PK11SymKey *key, const guint8 *data, gsize len,
                         GError **error);
/* prf+(key, S) truncated to length bytes, S = [seed_key |] seed.  seed_key may
 * be NULL; at most 255 PRF blocks. */
PK11SymKey *ike_prf_plus (IkePrfId prf, PK11SymKey *key, PK11SymKey *seed_key, const guint8 *seed,
                          gsize seed_len, gsize length, GError **error);

/* ---- Key exchange (RFC 7296 §2.14, RFC 3526, RFC 5903, RFC 8031) ---- */

typedef struct _IkeDh IkeDh;

gboolean ike_dh_supported (IkeKeId group);
/* Length of the KE payload's key exchange data for the group, 0 if unsupported. */
gsize ike_dh_public_length (IkeKeId group);
/* A fresh key pair.  Measured with NSS 3.87 on one core, per key pair and
 * about the same per derive: X25519 0.07 ms, P-256 0.8 ms, P-384 2 ms,
 * P-521 1 ms, MODP-2048 0.7 ms, MODP-4096 3 ms (NSS uses short exponents). */
IkeDh *ike_dh_new (IkeKeId group, GError **error);
/* Wraps an existing key pair of the group (known-answer tests); takes both. */
IkeDh *ike_dh_new_from_keys (IkeKeId group, SECKEYPrivateKey *priv, SECKEYPublicKey *pub,
                             GError **error);
void ike_dh_free (IkeDh *dh);
IkeKeId ike_dh_get_group (const IkeDh *dh);
/* Our public value exactly as it goes into the KE payload: MODP left-padded
 * to the prime's length, ECP x || y without the 0x04 prefix, X25519 u. */
GBytes *ike_dh_get_public (const IkeDh *dh);
/* g^ir from the peer's KE data, after checking it (length, range, on the
 * curve, not a low-order point).  MODP results are left-padded to the prime's
 * length (RFC 7296 §2.14). */
PK11SymKey *ike_dh_derive (IkeDh *dh, const guint8 *peer, gsize peer_len, GError **error);
/* The embedded RFC 3526 prime of a MODP group, for known-answer tests. */
const guint8 *ike_dh_modp_prime (IkeKeId group, gsize *len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeDh, ike_dh_free)

/* ---- Algorithms of an SA's protection ---- */

typedef struct
{
  IkeEncrId encr;
  guint16 key_bits; /* the Key Length attribute; 0 where the cipher has one size */
  IkeIntegId integ; /* IKE_INTEG_NONE with an AEAD cipher */
} IkeCipherSpec;

gboolean ike_encr_is_aead (IkeEncrId encr);
/* Bytes of keying material for one direction's encryption key, including the
 * 4-byte salt of AES-GCM and ChaCha20-Poly1305.  0 if unsupported. */
gsize ike_encr_key_length (IkeEncrId encr, guint16 key_bits);
/* Bytes of one direction's integrity key; 0 for none or unsupported. */
gsize ike_integ_key_length (IkeIntegId integ);
/* Checks that the combination is one this suite implements: an AEAD cipher
 * without integrity, or AES-CBC with an HMAC integrity algorithm. */
gboolean ike_cipher_spec_check (const IkeCipherSpec *spec, GError **error);

/* ---- IKE SA keys (RFC 7296 §2.14, §2.18) ---- */

typedef struct
{
  PK11SymKey *sk_d;
  PK11SymKey *sk_ai; /* NULL with an AEAD cipher */
  PK11SymKey *sk_ar; /* NULL with an AEAD cipher */
  PK11SymKey *sk_ei; /* including the salt of an AEAD cipher */
  PK11SymKey *sk_er;
  PK11SymKey *sk_pi;
  PK11SymKey *sk_pr;
} IkeSaKeys;

void ike_sa_keys_clear (IkeSaKeys *keys);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IkeSaKeys, ike_sa_keys_clear)

/* SKEYSEED = prf(Ni | Nr, g^ir).  Ni and Nr are the nonces' data, without
 * payload headers. */
PK11SymKey *ike_skeyseed (IkePrfId prf, PK11SymKey *g_ir, GBytes *ni, GBytes *nr, GError **error);
/* SKEYSEED of a rekeyed IKE SA = prf(SK_d (old), g^ir (new) | Ni | Nr), with
 * the old IKE SA's PRF (RFC 7296 §2.18). */
PK11SymKey *ike_skeyseed_rekey (IkePrfId old_prf, PK11SymKey *old_sk_d, PK11SymKey *g_ir_new,
                                GBytes *ni, GBytes *nr, GError **error);
/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *   = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), each SPI 8 bytes as on the wire. */
gboolean ike_sa_keys_derive (IkeSaKeys *keys, IkePrfId prf, const IkeCipherSpec *spec,
                             PK11SymKey *skeyseed, GBytes *ni, GBytes *nr, const guint8 *spi_i,
                             const guint8 *spi_r, GError **error);

/* ---- Child SA keys (RFC 7296 §2.17) ---- */

/* KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), length bytes; g_ir_new is NULL
 * without PFS. */
PK11SymKey *ike_child_keymat (IkePrfId prf, PK11SymKey *sk_d, PK11SymKey *g_ir_new, GBytes *ni,
                              GBytes *nr, gsize length, GError **error);

typedef struct
{
  IkeSecret *encr_i;  /* initiator to responder, salt included */
  IkeSecret *integ_i; /* NULL with an AEAD cipher */
  IkeSecret *encr_r;  /* responder to initiator */
  IkeSecret *integ_r;
} IkeChildKeys;

void ike_child_keys_clear (IkeChildKeys *keys);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IkeChildKeys, ike_child_keys_clear)

/* The ESP keys of a Child SA, taken from KEYMAT in the order of §2.17: both
 * keys of the initiator's direction first, encryption before integrity. */
gboolean ike_child_keys_derive (IkeChildKeys *keys, IkePrfId prf, const IkeCipherSpec *esp,
                                PK11SymKey *sk_d, PK11SymKey *g_ir_new, GBytes *ni, GBytes *nr,
                                GError **error);

/* ---- SK payload protection (RFC 7296 §3.14, RFC 5282, RFC 7634) ---- */

typedef struct _IkeCipher IkeCipher;

/* One direction's protection: SK_ei/SK_ai for what the initiator sends,
 * SK_er/SK_ar for what the responder sends.  sk_a is NULL with AEAD. */
IkeCipher *ike_cipher_new (const IkeCipherSpec *spec, PK11SymKey *sk_e, PK11SymKey *sk_a,
                           GError **error);
void ike_cipher_free (IkeCipher *cipher);
gsize ike_cipher_iv_length (const IkeCipher *cipher);
gsize ike_cipher_icv_length (const IkeCipher *cipher);
/* Length of the SK payload body that sealing plain_len bytes produces, so that
 * the caller can write the lengths into the IKE and SK headers (the AAD)
 * before sealing. */
gsize ike_cipher_sealed_length (const IkeCipher *cipher, gsize plain_len);
/* The most plaintext that fits in a body of body_len bytes (fragmentation). */
gsize ike_cipher_max_plaintext (const IkeCipher *cipher, gsize body_len);
/* Seals the inner payload chain into an SK body: IV || ciphertext (padding
 * and Pad Length included) || ICV.  aad is the message from the IKE header
 * through the SK (or SKF) payload header, with final lengths. */
GBytes *ike_cipher_seal (IkeCipher *cipher, const guint8 *aad, gsize aad_len, const guint8 *plain,
                         gsize plain_len, GError **error);
/* Verifies and decrypts an SK body; returns the inner payload chain.  Every
 * failure (length, ICV, padding) is the same IKE_CRYPTO_ERROR_INTEGRITY. */
GBytes *ike_cipher_open (IkeCipher *cipher, const guint8 *aad, gsize aad_len, const guint8 *body,
                         gsize body_len, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeCipher, ike_cipher_free)

/* ---- AUTH (RFC 7296 §2.15, RFC 7619) ---- */

/* The octets an AUTH payload covers: message | nonce | prf(SK_p, id_body).
 * For the initiator's AUTH: its first message (IKE_SA_INIT request), the
 * responder's nonce Nr, SK_pi and the IDi payload; for the responder's: its
 * IKE_SA_INIT response, Ni, SK_pr and IDr.  id_body is the ID payload
 * without its 4-byte generic header (ID Type, RESERVED, identification). */
GBytes *ike_auth_signed_octets (IkePrfId prf, PK11SymKey *sk_p, GBytes *message, GBytes *nonce,
                                const guint8 *id_body, gsize id_len, GError **error);
/* prf(prf(secret, "Key Pad for IKEv2"), signed octets). */
GBytes *ike_auth_shared_key (IkePrfId prf, PK11SymKey *secret, GBytes *signed_octets,
                             GError **error);
/* Shared Key Message Integrity Code with a configured PSK; refuses a weak one. */
GBytes *ike_auth_psk (IkePrfId prf, const guint8 *psk, gsize psk_len, GBytes *signed_octets,
                      GError **error);
/* NULL authentication (method 13): the same computation with SK_pi (initiator)
 * or SK_pr (responder) as the shared secret (RFC 7619 §2.1). */
GBytes *ike_auth_null (IkePrfId prf, PK11SymKey *sk_p, GBytes *signed_octets, GError **error);
/* Compares a received AUTH value with the expected one in constant time. */
gboolean ike_auth_verify (GBytes *expected, const guint8 *received, gsize received_len,
                          GError **error);
/* Refuses a PSK shorter than 20 bytes or with a Shannon entropy below 3.5
 * bits per character (DESIGN.md §6), naming the reason. */
gboolean ike_psk_check_strength (const guint8 *psk, gsize len, GError **error);

G_END_DECLS
