/* RFC 7427 §3: the AlgorithmIdentifier in front of a method-14 signature.
 *
 * Encoding sends fixed byte strings, exactly those of RFC 7427 Appendix A
 * (the known-answer tests compare them).  Decoding goes through NSS's DER
 * decoder, since a peer may spell the same algorithm differently (NULL or
 * absent hash parameters, RFC 4055 §2.1), and then checks every RSASSA-PSS
 * parameter against the one combination we sign with. */
#include "ike-sign.h"
#include "ike-crypto.h"

#include <cert.h>
#include <prprf.h>
#include <secasn1.h>
#include <secoid.h>
#include <string.h>

typedef struct
{
  IkeSignScheme scheme;
  SECOidTag oid;     /* for RSASSA-PSS the shared SEC_OID_PKCS1_RSA_PSS_SIGNATURE */
  SECOidTag hash;    /* RSASSA-PSS: the hash that tells the schemes apart */
  guint salt;        /* RSASSA-PSS: = hash length */
  const guint8 *der; /* what we send */
  gsize der_len;
} AlgId;

/* RFC 7427 A.1.2-A.1.4: sha{256,384,512}WithRSAEncryption, NULL parameters. */
static const guint8 der_rsa_sha256[]
    = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };
static const guint8 der_rsa_sha384[]
    = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00 };
static const guint8 der_rsa_sha512[]
    = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00 };

/* RFC 7427 A.3.2-A.3.4: ecdsa-with-SHA{256,384,512}, parameters absent. */
static const guint8 der_ecdsa_sha256[]
    = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const guint8 der_ecdsa_sha384[]
    = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
static const guint8 der_ecdsa_sha512[]
    = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 };

/* RFC 7427 A.4.3 is RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte
 * salt; SHA-384 and SHA-512 differ only in the last arc of both hash OIDs
 * (id-sha384 = …4.2.2, id-sha512 = …4.2.3) and in the salt length. */
#define PSS_DER(hash_arc, salt)                                                                    \
  {                                                                                                \
    0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34,      \
        0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,        \
        hash_arc, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,    \
        0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,  \
        0x02, hash_arc, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, salt                                   \
  }
static const guint8 der_pss_sha256[] = PSS_DER (0x01, 32);
static const guint8 der_pss_sha384[] = PSS_DER (0x02, 48);
static const guint8 der_pss_sha512[] = PSS_DER (0x03, 64);

#define ALGID(s, o, h, salt, d)                                                                    \
  {                                                                                                \
    s, o, h, salt, d, sizeof d                                                                     \
  }
#define PSS_OID SEC_OID_PKCS1_RSA_PSS_SIGNATURE

static const AlgId algids[] = {
  ALGID (IKE_SIGN_RSA_PKCS1_SHA256, SEC_OID_PKCS1_SHA256_WITH_RSA_ENCRYPTION, 0, 0, der_rsa_sha256),
  ALGID (IKE_SIGN_RSA_PKCS1_SHA384, SEC_OID_PKCS1_SHA384_WITH_RSA_ENCRYPTION, 0, 0, der_rsa_sha384),
  ALGID (IKE_SIGN_RSA_PKCS1_SHA512, SEC_OID_PKCS1_SHA512_WITH_RSA_ENCRYPTION, 0, 0, der_rsa_sha512),
  ALGID (IKE_SIGN_RSA_PSS_SHA256, PSS_OID, SEC_OID_SHA256, 32, der_pss_sha256),
  ALGID (IKE_SIGN_RSA_PSS_SHA384, PSS_OID, SEC_OID_SHA384, 48, der_pss_sha384),
  ALGID (IKE_SIGN_RSA_PSS_SHA512, PSS_OID, SEC_OID_SHA512, 64, der_pss_sha512),
  ALGID (IKE_SIGN_ECDSA_SHA256, SEC_OID_ANSIX962_ECDSA_SHA256_SIGNATURE, 0, 0, der_ecdsa_sha256),
  ALGID (IKE_SIGN_ECDSA_SHA384, SEC_OID_ANSIX962_ECDSA_SHA384_SIGNATURE, 0, 0, der_ecdsa_sha384),
  ALGID (IKE_SIGN_ECDSA_SHA512, SEC_OID_ANSIX962_ECDSA_SHA512_SIGNATURE, 0, 0, der_ecdsa_sha512),
};

/* RFC 4055 defaults when RSASSA-PSS-params leave a field out. */
#define PSS_DEFAULT_HASH SEC_OID_SHA1
#define PSS_DEFAULT_SALT 20
#define PSS_TRAILER_BC 1

static const AlgId *
algid_by_scheme (IkeSignScheme scheme)
{
  for (gsize i = 0; i < G_N_ELEMENTS (algids); i++)
    if (algids[i].scheme == scheme)
      return &algids[i];
  return NULL;
}

static const AlgId *
algid_by_oid (SECOidTag oid, SECOidTag hash)
{
  for (gsize i = 0; i < G_N_ELEMENTS (algids); i++)
    if (algids[i].oid == oid && algids[i].hash == hash)
      return &algids[i];
  return NULL;
}

GBytes *
ike_sign_algorithm_id_encode (IkeSignScheme scheme, GError **error)
{
  const AlgId *algid = algid_by_scheme (scheme);
  guint8 buf[1 + 255];

  G_STATIC_ASSERT (sizeof der_pss_sha512 <= 255);
  if (algid == NULL)
    {
      g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED, "unknown signature scheme %d",
                   (int) scheme);
      return NULL;
    }
  buf[0] = (guint8) algid->der_len;
  memcpy (buf + 1, algid->der, algid->der_len);
  return g_bytes_new (buf, 1 + algid->der_len);
}

/* ---- decoding ---- */

static gboolean
fail (GError **error, IkeSignError code, const char *message)
{
  g_set_error_literal (error, IKE_SIGN_ERROR, code, message);
  return FALSE;
}

static gboolean
params_null_or_absent (const SECItem *params)
{
  return params->len == 0 || (params->len == 2 && params->data[0] == 0x05 && params->data[1] == 0);
}

/* A small non-negative DER INTEGER (its content octets), or DEFAULT when
 * the optional field was absent. */
static gboolean
der_small_uint (const SECItem *item, guint fallback, guint *out)
{
  guint value = 0;

  if (item->len == 0)
    {
      *out = fallback;
      return TRUE;
    }
  if (item->len > 2 || (item->data[0] & 0x80) != 0)
    return FALSE;
  for (unsigned int i = 0; i < item->len; i++)
    value = value << 8 | item->data[i];
  *out = value;
  return TRUE;
}

static SECOidTag
decode_hash_algorithm (PLArenaPool *arena, const SECItem *der)
{
  SECAlgorithmID id;

  memset (&id, 0, sizeof id);
  if (der->len == 0
      || SEC_QuickDERDecodeItem (arena, &id, SEC_ASN1_GET (SECOID_AlgorithmIDTemplate), der)
             != SECSuccess
      || !params_null_or_absent (&id.parameters))
    return SEC_OID_UNKNOWN;
  return SECOID_GetAlgorithmTag (&id);
}

/* maskGenAlgorithm: MGF1 (the only one defined) with a hash. */
static SECOidTag
mgf1_hash (PLArenaPool *arena, const SECAlgorithmID *mask)
{
  if (mask == NULL)
    return PSS_DEFAULT_HASH; /* mgf1SHA1 */
  if (SECOID_GetAlgorithmTag (mask) != SEC_OID_PKCS1_MGF1)
    return SEC_OID_UNKNOWN;
  return decode_hash_algorithm (arena, &mask->parameters);
}

static SECOidTag
pss_hash (const SECAlgorithmID *hash)
{
  if (hash == NULL)
    return PSS_DEFAULT_HASH;
  if (!params_null_or_absent (&hash->parameters))
    return SEC_OID_UNKNOWN;
  return SECOID_GetAlgorithmTag (hash);
}

static gboolean
decode_pss (PLArenaPool *arena, const SECItem *params, IkeSignScheme *scheme, GError **error)
{
  SECKEYRSAPSSParams pss;
  const AlgId *algid;
  guint salt, trailer;

  memset (&pss, 0, sizeof pss);
  if (params_null_or_absent (params))
    return fail (error, IKE_SIGN_ERROR_UNSUPPORTED,
                 "RSASSA-PSS with default parameters (SHA-1) is refused");
  if (SEC_QuickDERDecodeItem (arena, &pss, SEC_ASN1_GET (SECKEY_RSAPSSParamsTemplate), params)
      != SECSuccess)
    return fail (error, IKE_SIGN_ERROR_INVALID, "malformed RSASSA-PSS parameters");
  algid = algid_by_oid (SEC_OID_PKCS1_RSA_PSS_SIGNATURE, pss_hash (pss.hashAlg));
  if (algid == NULL)
    return fail (error, IKE_SIGN_ERROR_UNSUPPORTED,
                 "RSASSA-PSS with a hash other than SHA-256, SHA-384 or SHA-512");
  if (mgf1_hash (arena, pss.maskAlg) != algid->hash)
    return fail (error, IKE_SIGN_ERROR_UNSUPPORTED,
                 "RSASSA-PSS mask generation must be MGF1 with the message hash");
  if (!der_small_uint (&pss.saltLength, PSS_DEFAULT_SALT, &salt) || salt != algid->salt)
    return fail (error, IKE_SIGN_ERROR_UNSUPPORTED,
                 "RSASSA-PSS salt length must equal the hash length");
  if (!der_small_uint (&pss.trailerField, PSS_TRAILER_BC, &trailer) || trailer != PSS_TRAILER_BC)
    return fail (error, IKE_SIGN_ERROR_UNSUPPORTED, "RSASSA-PSS trailer field must be 1");
  *scheme = algid->scheme;
  return TRUE;
}

static gboolean
unsupported_oid (const SECAlgorithmID *id, GError **error)
{
  SECOidTag tag = SECOID_GetAlgorithmTag (id);
  char *dotted = CERT_GetOidString (&id->algorithm);

  g_set_error (error, IKE_SIGN_ERROR, IKE_SIGN_ERROR_UNSUPPORTED,
               "unsupported signature algorithm %s (%s)",
               tag != SEC_OID_UNKNOWN ? SECOID_FindOIDTagDescription (tag) : "unknown",
               dotted != NULL ? dotted : "unprintable OID");
  PR_smprintf_free (dotted);
  return FALSE;
}

static gboolean
decode_algorithm (PLArenaPool *arena, const SECItem *der, IkeSignScheme *scheme, GError **error)
{
  SECAlgorithmID id;
  const AlgId *algid;
  SECOidTag tag;

  memset (&id, 0, sizeof id);
  if (SEC_QuickDERDecodeItem (arena, &id, SEC_ASN1_GET (SECOID_AlgorithmIDTemplate), der)
      != SECSuccess)
    return fail (error, IKE_SIGN_ERROR_INVALID, "malformed AlgorithmIdentifier");
  tag = SECOID_GetAlgorithmTag (&id);
  if (tag == SEC_OID_PKCS1_RSA_PSS_SIGNATURE)
    return decode_pss (arena, &id.parameters, scheme, error);
  algid = algid_by_oid (tag, 0);
  if (algid == NULL)
    return unsupported_oid (&id, error);
  /* RFC 7427 A.1 sends NULL, A.3 nothing; either spelling is harmless. */
  if (!params_null_or_absent (&id.parameters))
    return fail (error, IKE_SIGN_ERROR_INVALID, "unexpected AlgorithmIdentifier parameters");
  *scheme = algid->scheme;
  return TRUE;
}

gboolean
ike_sign_algorithm_id_decode (const guint8 *auth_data, gsize auth_data_len, IkeSignScheme *scheme,
                              gsize *consumed, GError **error)
{
  SECItem der;
  PLArenaPool *arena;
  gboolean ok;

  if (!ike_crypto_init (error))
    return FALSE;
  if (auth_data_len < 1 || (gsize) auth_data[0] + 1 > auth_data_len)
    return fail (error, IKE_SIGN_ERROR_INVALID,
                 "AlgorithmIdentifier length exceeds the Authentication Data");
  /* NSS's DER decoder fails on bytes left over, so the announced length
   * must be exactly the SEQUENCE's (tested). */
  der = (SECItem){ siBuffer, (unsigned char *) auth_data + 1, auth_data[0] };
  arena = PORT_NewArena (DER_DEFAULT_CHUNKSIZE);
  if (arena == NULL)
    return fail (error, IKE_SIGN_ERROR_FAILED, "out of memory");
  ok = decode_algorithm (arena, &der, scheme, error);
  PORT_FreeArena (arena, PR_FALSE);
  if (ok)
    *consumed = 1 + der.len;
  return ok;
}
