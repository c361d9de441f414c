/* Signatures for AUTH (RFC 7427, RFC 4754) through NSS; see ike-sign.h. */
#include "ike-sign.h"
#include "ike-crypto.h"

#include <cryptohi.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secoid.h>
#include <string.h>

GQuark
ike_sign_error_quark (void)
{
  return g_quark_from_static_string ("ike-sign-error-quark");
}

typedef enum
{
  KIND_RSA_PKCS1,
  KIND_RSA_PSS,
  KIND_ECDSA,
} SchemeKind;

typedef struct
{
  IkeSignScheme scheme;
  const char *name;
  SchemeKind kind;
  IkeHashAlgorithm hash;
  SECOidTag hash_oid;
  guint hash_len;
  /* RSA: the hash-and-sign mechanism; PSS also needs the hash and MGF. */
  CK_MECHANISM_TYPE mechanism;
  CK_MECHANISM_TYPE hash_mechanism;
  CK_RSA_PKCS_MGF_TYPE mgf;
} SchemeInfo;

#define SCHEME(s, n, k, h, hl, m, hm, mgf)                                                         \
  {                                                                                                \
    s, n, k, IKE_HASH_##h, SEC_OID_##h, hl, m, hm, mgf                                             \
  }

/* NSS spells the hashes SEC_OID_SHA256 and we IKE_HASH_SHA2_256. */
#define SEC_OID_SHA2_256 SEC_OID_SHA256
#define SEC_OID_SHA2_384 SEC_OID_SHA384
#define SEC_OID_SHA2_512 SEC_OID_SHA512

static const SchemeInfo schemes[] = {
  SCHEME (IKE_SIGN_RSA_PKCS1_SHA256, "rsa-pkcs1-sha256", KIND_RSA_PKCS1, SHA2_256, 32,
          CKM_SHA256_RSA_PKCS, 0, 0),
  SCHEME (IKE_SIGN_RSA_PKCS1_SHA384, "rsa-pkcs1-sha384", KIND_RSA_PKCS1, SHA2_384, 48,
          CKM_SHA384_RSA_PKCS, 0, 0),
  SCHEME (IKE_SIGN_RSA_PKCS1_SHA512, "rsa-pkcs1-sha512", KIND_RSA_PKCS1, SHA2_512, 64,
          CKM_SHA512_RSA_PKCS, 0, 0),
  SCHEME (IKE_SIGN_RSA_PSS_SHA256, "rsa-pss-sha256", KIND_RSA_PSS, SHA2_256, 32,
          CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256),
  SCHEME (IKE_SIGN_RSA_PSS_SHA384, "rsa-pss-sha384", KIND_RSA_PSS, SHA2_384, 48,
          CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384),
  SCHEME (IKE_SIGN_RSA_PSS_SHA512, "rsa-pss-sha512", KIND_RSA_PSS, SHA2_512, 64,
          CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512),
  SCHEME (IKE_SIGN_ECDSA_SHA256, "ecdsa-sha256", KIND_ECDSA, SHA2_256, 32, CKM_ECDSA, 0, 0),
  SCHEME (IKE_SIGN_ECDSA_SHA384, "ecdsa-sha384", KIND_ECDSA, SHA2_384, 48, CKM_ECDSA, 0, 0),
  SCHEME (IKE_SIGN_ECDSA_SHA512, "ecdsa-sha512", KIND_ECDSA, SHA2_512, 64, CKM_ECDSA, 0, 0),
};

#define HASH_LEN_MAX 64

typedef struct
{
  const char *name;
  const guint8 *oid_der; /* the key's parameters: a DER namedCurve OID */
  gsize oid_der_len;
  IkeAuthMethod method; /* RFC 4754 */
  /* Our hash preference with this curve: its own strength first. */
  IkeHashAlgorithm hashes[3];
} CurveInfo;

static const guint8 oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const guint8 oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const guint8 oid_p521[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };

#define CURVE(name, oid, method, h1, h2, h3)                                                       \
  {                                                                                                \
    name, oid, sizeof oid, method,                                                                 \
    {                                                                                              \
      IKE_HASH_##h1, IKE_HASH_##h2, IKE_HASH_##h3                                                  \
    }                                                                                              \
  }

static const CurveInfo curves[] = {
  CURVE ("P-256", oid_p256, IKE_AUTH_ECDSA_256, SHA2_256, SHA2_384, SHA2_512),
  CURVE ("P-384", oid_p384, IKE_AUTH_ECDSA_384, SHA2_384, SHA2_512, SHA2_256),
  CURVE ("P-521", oid_p521, IKE_AUTH_ECDSA_521, SHA2_512, SHA2_384, SHA2_256),
};

/* SHA-256 verifies everywhere; bigger RSA keys gain nothing from more. */
static const IkeHashAlgorithm rsa_hashes[]
    = { IKE_HASH_SHA2_256, IKE_HASH_SHA2_384, IKE_HASH_SHA2_512 };

#define RSA_MIN_BITS 2048

static const SchemeInfo *
scheme_info (IkeSignScheme scheme)
{
  for (gsize i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (schemes[i].scheme == scheme)
      return &schemes[i];
  return NULL;
}

static const SchemeInfo *
scheme_by_kind (SchemeKind kind, IkeHashAlgorithm hash)
{
  for (gsize i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (schemes[i].kind == kind && schemes[i].hash == hash)
      return &schemes[i];
  return NULL;
}

static const SchemeInfo *
require_scheme (IkeSignScheme scheme, GError **error)
{
  const SchemeInfo *info = scheme_info (scheme);

  if (info == NULL)
    g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED, "unknown signature scheme %d",
                 (int) scheme);
  return info;
}

const char *
ike_sign_scheme_to_string (IkeSignScheme scheme)
{
  const SchemeInfo *info = scheme_info (scheme);

  return info != NULL ? info->name : NULL;
}

IkeHashAlgorithm
ike_sign_scheme_hash (IkeSignScheme scheme)
{
  const SchemeInfo *info = scheme_info (scheme);

  return info != NULL ? info->hash : 0;
}

const IkeHashAlgorithm *
ike_sign_supported_hashes (gsize *n_hashes)
{
  static const IkeHashAlgorithm hashes[]
      = { IKE_HASH_SHA2_256, IKE_HASH_SHA2_384, IKE_HASH_SHA2_512 };

  *n_hashes = G_N_ELEMENTS (hashes);
  return hashes;
}

static void
set_nss_error (GError **error, IkeSignError code, const char *what)
{
  g_set_error (error, IKE_SIGN_ERROR, code, "%s: %s", what, PORT_ErrorToString (PORT_GetError ()));
}

/* ---- keys and curves ---- */

static const CurveInfo *
curve_from_params (const SECItem *params)
{
  for (gsize i = 0; i < G_N_ELEMENTS (curves); i++)
    if (params->len == curves[i].oid_der_len
        && memcmp (params->data, curves[i].oid_der, params->len) == 0)
      return &curves[i];
  return NULL;
}

static const CurveInfo *
curve_by_method (IkeAuthMethod method)
{
  for (gsize i = 0; i < G_N_ELEMENTS (curves); i++)
    if (curves[i].method == method)
      return &curves[i];
  return NULL;
}

static const CurveInfo *
private_key_curve (SECKEYPrivateKey *key)
{
  SECItem params = { siBuffer, NULL, 0 };
  const CurveInfo *curve;

  if (PK11_ReadRawAttribute (PK11_TypePrivKey, key, CKA_EC_PARAMS, &params) != SECSuccess)
    return NULL;
  curve = curve_from_params (&params);
  SECITEM_FreeItem (&params, PR_FALSE);
  return curve;
}

static const CurveInfo *
public_key_curve (SECKEYPublicKey *key)
{
  if (SECKEY_GetPublicKeyType (key) != ecKey)
    return NULL;
  return curve_from_params (&key->u.ec.DEREncodedParams);
}

/* The key must be of the scheme's family; for ECDSA on a curve we know. */
static gboolean
check_private_key (SECKEYPrivateKey *key, const SchemeInfo *info, GError **error)
{
  KeyType type = SECKEY_GetPrivateKeyType (key);
  gboolean ok;

  if (info->kind == KIND_ECDSA)
    ok = type == ecKey && private_key_curve (key) != NULL;
  else
    ok = type == rsaKey;
  if (!ok)
    g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY,
                 "private key does not fit signature scheme %s", info->name);
  return ok;
}

gboolean
ike_sign_check_public_key (SECKEYPublicKey *key, GError **error)
{
  KeyType type = SECKEY_GetPublicKeyType (key);

  if (type == ecKey)
    {
      if (public_key_curve (key) != NULL)
        return TRUE;
      g_set_error_literal (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY,
                           "EC key on a curve other than P-256, P-384 or P-521");
      return FALSE;
    }
  if (type != rsaKey)
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY,
                   "unsupported public key type %d (RSA or ECDSA only)", (int) type);
      return FALSE;
    }
  if (SECKEY_PublicKeyStrengthInBits (key) < RSA_MIN_BITS)
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY,
                   "RSA key of %u bits is too weak (at least %u)",
                   SECKEY_PublicKeyStrengthInBits (key), RSA_MIN_BITS);
      return FALSE;
    }
  return TRUE;
}

/* A peer's key must fit the scheme and be strong enough: a factorable
 * RSA key would let anyone forge the peer's AUTH. */
static gboolean
check_public_key (SECKEYPublicKey *key, const SchemeInfo *info, GError **error)
{
  gboolean ecdsa = SECKEY_GetPublicKeyType (key) == ecKey;

  if (ecdsa != (info->kind == KIND_ECDSA))
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY,
                   "public key does not fit signature scheme %s", info->name);
      return FALSE;
    }
  return ike_sign_check_public_key (key, error);
}

SECKEYPublicKey *
ike_sign_public_key_import (const guint8 *spki, gsize spki_len, GError **error)
{
  SECItem item = { siBuffer, (unsigned char *) spki, (unsigned int) spki_len };
  CERTSubjectPublicKeyInfo *info;
  g_autoptr (SECKEYPublicKey) key = NULL;

  if (!ike_crypto_init (error))
    return NULL;
  if (spki_len == 0 || spki_len > G_MAXUINT16)
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID,
                   "SubjectPublicKeyInfo of %" G_GSIZE_FORMAT " bytes", spki_len);
      return NULL;
    }
  info = SECKEY_DecodeDERSubjectPublicKeyInfo (&item);
  if (info == NULL)
    {
      set_nss_error (error, IKE_SIGN_ERROR_INVALID, "malformed SubjectPublicKeyInfo");
      return NULL;
    }
  key = SECKEY_ExtractPublicKey (info);
  SECKEY_DestroySubjectPublicKeyInfo (info);
  if (key == NULL)
    {
      set_nss_error (error, IKE_SIGN_ERROR_KEY, "unusable public key");
      return NULL;
    }
  if (!ike_sign_check_public_key (key, error))
    return NULL;
  return g_steal_pointer (&key);
}

/* ---- signing and verifying ---- */

static gboolean
hash_data (const SchemeInfo *info, const SECItem *data, guint8 *digest, GError **error)
{
  if (PK11_HashBuf (info->hash_oid, digest, data->data, (PRInt32) data->len) != SECSuccess)
    {
      set_nss_error (error, IKE_SIGN_ERROR_FAILED, "hashing the AUTH octets");
      return FALSE;
    }
  return TRUE;
}

/* NSS takes lengths as unsigned int; AUTH octets are far smaller. */
static gboolean
data_item (const guint8 *data, gsize len, SECItem *item, GError **error)
{
  static guint8 empty[1];

  if (len > G_MAXINT32)
    {
      g_set_error_literal (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID, "data too long to sign");
      return FALSE;
    }
  item->type = siBuffer;
  item->data = len > 0 ? (unsigned char *) data : empty;
  item->len = (unsigned int) len;
  return TRUE;
}

static GBytes *
sign_rsa (SECKEYPrivateKey *key, const SchemeInfo *info, const SECItem *data, GError **error)
{
  CK_RSA_PKCS_PSS_PARAMS pss = { info->hash_mechanism, info->mgf, info->hash_len };
  SECItem param = { siBuffer, (unsigned char *) &pss, sizeof pss };
  int len = PK11_SignatureLen (key);
  g_autofree guint8 *buf = NULL;
  SECItem sig;

  if (len <= 0)
    {
      set_nss_error (error, IKE_SIGN_ERROR_KEY, "RSA signature length");
      return NULL;
    }
  buf = g_malloc (len);
  sig = (SECItem){ siBuffer, buf, (unsigned int) len };
  if (PK11_SignWithMechanism (key, info->mechanism, info->kind == KIND_RSA_PSS ? &param : NULL,
                              &sig, data)
      != SECSuccess)
    {
      set_nss_error (error, IKE_SIGN_ERROR_FAILED, "RSA signing");
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&buf), sig.len);
}

static GBytes *
sign_ecdsa (SECKEYPrivateKey *key, const SchemeInfo *info, IkeSignEncoding encoding,
            const SECItem *data, GError **error)
{
  guint8 digest[HASH_LEN_MAX];
  SECItem hash = { siBuffer, digest, info->hash_len };
  int len = PK11_SignatureLen (key);
  g_autofree guint8 *raw = NULL;
  SECItem sig, der = { siBuffer, NULL, 0 };
  GBytes *out;

  if (len <= 0)
    {
      set_nss_error (error, IKE_SIGN_ERROR_KEY, "ECDSA signature length");
      return NULL;
    }
  if (!hash_data (info, data, digest, error))
    return NULL;
  raw = g_malloc (len);
  sig = (SECItem){ siBuffer, raw, (unsigned int) len };
  if (PK11_Sign (key, &sig, &hash) != SECSuccess)
    {
      set_nss_error (error, IKE_SIGN_ERROR_FAILED, "ECDSA signing");
      return NULL;
    }
  if (encoding == IKE_SIGN_ENCODING_RAW)
    return g_bytes_new_take (g_steal_pointer (&raw), sig.len);
  if (DSAU_EncodeDerSigWithLen (&der, &sig, sig.len) != SECSuccess)
    {
      set_nss_error (error, IKE_SIGN_ERROR_FAILED, "encoding ECDSA-Sig-Value");
      return NULL;
    }
  out = g_bytes_new (der.data, der.len);
  SECITEM_FreeItem (&der, PR_FALSE);
  return out;
}

GBytes *
ike_sign_data (SECKEYPrivateKey *key, IkeSignScheme scheme, IkeSignEncoding encoding,
               const guint8 *data, gsize data_len, GError **error)
{
  const SchemeInfo *info = require_scheme (scheme, error);
  SECItem item;

  if (info == NULL || !check_private_key (key, info, error)
      || !data_item (data, data_len, &item, error))
    return NULL;
  if (info->kind == KIND_ECDSA)
    return sign_ecdsa (key, info, encoding, &item, error);
  return sign_rsa (key, info, &item, error);
}

static gboolean
bad_signature (GError **error, const SchemeInfo *info)
{
  g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_BAD_SIGNATURE, "%s signature does not verify",
               info->name);
  return FALSE;
}

static gboolean
verify_rsa (SECKEYPublicKey *key, const SchemeInfo *info, const SECItem *data, const SECItem *sig,
            GError **error)
{
  CK_RSA_PKCS_PSS_PARAMS pss = { info->hash_mechanism, info->mgf, info->hash_len };
  SECItem param = { siBuffer, (unsigned char *) &pss, sizeof pss };

  if (PK11_VerifyWithMechanism (key, info->mechanism, info->kind == KIND_RSA_PSS ? &param : NULL,
                                sig, data, NULL)
      != SECSuccess)
    return bad_signature (error, info);
  return TRUE;
}

/* NSS's decoder takes canonical DER only: no long-form lengths, no extra
 * zeros, no trailing bytes, so one signature has one spelling (tested). */
static SECItem *
decode_der_signature (const SECItem *sig, unsigned int raw_len, GError **error)
{
  SECItem *raw = DSAU_DecodeDerSigToLen (sig, raw_len);

  if (raw == NULL)
    g_set_error_literal (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID,
                         "malformed ECDSA-Sig-Value");
  return raw;
}

static gboolean
verify_ecdsa (SECKEYPublicKey *key, const SchemeInfo *info, IkeSignEncoding encoding,
              const SECItem *data, const SECItem *sig, GError **error)
{
  guint8 digest[HASH_LEN_MAX];
  SECItem hash = { siBuffer, digest, info->hash_len };
  unsigned int raw_len = SECKEY_SignatureLen (key);
  SECItem *raw = NULL;
  SECStatus rv;

  if (encoding == IKE_SIGN_ENCODING_RAW && sig->len != raw_len)
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID,
                   "raw ECDSA signature of %u bytes, expected %u", sig->len, raw_len);
      return FALSE;
    }
  if (encoding == IKE_SIGN_ENCODING_DER
      && (raw = decode_der_signature (sig, raw_len, error)) == NULL)
    return FALSE;
  if (!hash_data (info, data, digest, error))
    {
      SECITEM_FreeItem (raw, PR_TRUE);
      return FALSE;
    }
  rv = PK11_Verify (key, raw != NULL ? raw : sig, &hash, NULL);
  SECITEM_FreeItem (raw, PR_TRUE);
  return rv == SECSuccess ? TRUE : bad_signature (error, info);
}

gboolean
ike_sign_verify (SECKEYPublicKey *key, IkeSignScheme scheme, IkeSignEncoding encoding,
                 const guint8 *data, gsize data_len, const guint8 *signature, gsize signature_len,
                 GError **error)
{
  const SchemeInfo *info = require_scheme (scheme, error);
  SECItem item, sig;

  if (info == NULL || !check_public_key (key, info, error)
      || !data_item (data, data_len, &item, error)
      || !data_item (signature, signature_len, &sig, error))
    return FALSE;
  if (sig.len == 0)
    {
      g_set_error_literal (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_INVALID, "empty signature");
      return FALSE;
    }
  if (info->kind == KIND_ECDSA)
    return verify_ecdsa (key, info, encoding, &item, &sig, error);
  return verify_rsa (key, info, &item, &sig, error);
}

/* ---- choosing a scheme ---- */

static gboolean
peer_has_hash (const IkeHashAlgorithm *hashes, gsize n, IkeHashAlgorithm hash)
{
  for (gsize i = 0; i < n; i++)
    if (hashes[i] == hash)
      return TRUE;
  return FALSE;
}

/* The first of OURS (our preference) that the peer announced, or 0. */
static IkeHashAlgorithm
shared_hash (const IkeHashAlgorithm *ours, gsize n_ours, const IkeHashAlgorithm *peer, gsize n_peer)
{
  for (gsize i = 0; i < n_ours; i++)
    if (peer_has_hash (peer, n_peer, ours[i]))
      return ours[i];
  return 0;
}

static gboolean
choose_rsa (SECKEYPrivateKey *key, const IkeHashAlgorithm *peer, gsize n_peer, IkeSignFlags flags,
            IkeSignChoice *choice, GError **error)
{
  SchemeKind kind = (flags & IKE_SIGN_FLAG_RSA_PKCS1) ? KIND_RSA_PKCS1 : KIND_RSA_PSS;
  IkeHashAlgorithm hash = shared_hash (rsa_hashes, G_N_ELEMENTS (rsa_hashes), peer, n_peer);
  int bits = PK11_GetPrivateModulusLen (key) * 8;

  if (bits < RSA_MIN_BITS)
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY,
                   "our RSA key of %d bits is too weak (at least %u)", bits, RSA_MIN_BITS);
      return FALSE;
    }
  if (hash == 0)
    {
      g_set_error_literal (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED,
                           "peer announced no SHA-2 signature hash; RSA without RFC 7427 "
                           "would mean SHA-1");
      return FALSE;
    }
  *choice = (IkeSignChoice){ IKE_AUTH_DIGITAL_SIGNATURE, scheme_by_kind (kind, hash)->scheme,
                             IKE_SIGN_ENCODING_DER };
  return TRUE;
}

static gboolean
choose_ecdsa (SECKEYPrivateKey *key, const IkeHashAlgorithm *peer, gsize n_peer,
              IkeSignChoice *choice, GError **error)
{
  const CurveInfo *curve = private_key_curve (key);
  IkeHashAlgorithm hash;

  if (curve == NULL)
    {
      g_set_error_literal (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY,
                           "our EC key is on a curve other than P-256, P-384 or P-521");
      return FALSE;
    }
  hash = shared_hash (curve->hashes, G_N_ELEMENTS (curve->hashes), peer, n_peer);
  if (hash != 0)
    {
      *choice = (IkeSignChoice){ IKE_AUTH_DIGITAL_SIGNATURE,
                                 scheme_by_kind (KIND_ECDSA, hash)->scheme, IKE_SIGN_ENCODING_DER };
      return TRUE;
    }
  /* RFC 4754 ties each curve to its own hash: a peer without RFC 7427
   * still verifies that. */
  *choice = (IkeSignChoice){ curve->method, scheme_by_kind (KIND_ECDSA, curve->hashes[0])->scheme,
                             IKE_SIGN_ENCODING_RAW };
  return TRUE;
}

gboolean
ike_sign_choose (SECKEYPrivateKey *key, const IkeHashAlgorithm *peer_hashes, gsize n_peer_hashes,
                 IkeSignFlags flags, IkeSignChoice *choice, GError **error)
{
  switch (SECKEY_GetPrivateKeyType (key))
    {
    case rsaKey:
      return choose_rsa (key, peer_hashes, n_peer_hashes, flags, choice, error);
    case ecKey:
      return choose_ecdsa (key, peer_hashes, n_peer_hashes, choice, error);
    default:
      g_set_error_literal (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY,
                           "our private key is neither RSA nor EC");
      return FALSE;
    }
}

gboolean
ike_sign_scheme_for_auth_method (IkeAuthMethod method, SECKEYPublicKey *key, IkeSignScheme *scheme,
                                 GError **error)
{
  const CurveInfo *curve = curve_by_method (method);

  if (method == IKE_AUTH_RSA_SIG)
    {
      g_set_error_literal (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED,
                           "AUTH method 1 (RSA with SHA-1) is refused");
      return FALSE;
    }
  if (curve == NULL)
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED,
                   "AUTH method %d names no fixed signature scheme", (int) method);
      return FALSE;
    }
  if (public_key_curve (key) != curve)
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_KEY, "AUTH method %d needs a %s key",
                   (int) method, curve->name);
      return FALSE;
    }
  *scheme = scheme_by_kind (KIND_ECDSA, curve->hashes[0])->scheme;
  return TRUE;
}
