/* The IKEv2 PRF and prf+ (RFC 7296 §2.13).  Public outputs (AUTH values) come
 * from an HMAC context; secret outputs are derived by NSS's IKE mechanisms so
 * that they never exist outside NSS. */
#include "ike-crypto-private.h"

#include <pkcs11n.h>

/* prf+ counts its blocks in one octet (RFC 7296 §2.13). */
#define IKE_PRF_PLUS_MAX_BLOCKS 255

CK_MECHANISM_TYPE
ike_prf_mechanism (IkePrfId prf)
{
  switch (prf)
    {
    case IKE_PRF_HMAC_SHA1:
      return CKM_SHA_1_HMAC;
    case IKE_PRF_HMAC_SHA2_256:
      return CKM_SHA256_HMAC;
    case IKE_PRF_HMAC_SHA2_384:
      return CKM_SHA384_HMAC;
    case IKE_PRF_HMAC_SHA2_512:
      return CKM_SHA512_HMAC;
    default:
      /* MD5 is broken; the AES-based PRFs have a fixed key size and their
       * own SKEYSEED rule, and no peer we interoperate with needs them. */
      return CKM_INVALID_MECHANISM;
    }
}

gsize
ike_prf_length (IkePrfId prf)
{
  switch (prf)
    {
    case IKE_PRF_HMAC_SHA1:
      return 20;
    case IKE_PRF_HMAC_SHA2_256:
      return 32;
    case IKE_PRF_HMAC_SHA2_384:
      return 48;
    case IKE_PRF_HMAC_SHA2_512:
      return 64;
    default:
      return 0;
    }
}

static gboolean
check_prf (IkePrfId prf, GError **error)
{
  if (ike_prf_mechanism (prf) != CKM_INVALID_MECHANISM)
    return TRUE;
  g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_UNSUPPORTED,
               "PRF transform %u is not supported", (guint) prf);
  return FALSE;
}

GBytes *
ike_prf (IkePrfId prf, PK11SymKey *key, const guint8 *data, gsize len, GError **error)
{
  SECItem no_params = { siBuffer, NULL, 0 };
  gsize out_len = ike_prf_length (prf);
  g_autofree guint8 *out = NULL;
  unsigned int written = 0;
  PK11Context *context;
  SECStatus rv;

  if (!check_prf (prf, error))
    return NULL;
  if (len > G_MAXUINT)
    {
      g_set_error_literal (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID, "PRF input too long");
      return NULL;
    }
  context = PK11_CreateContextBySymKey (ike_prf_mechanism (prf), CKA_SIGN, key, &no_params);
  if (context == NULL)
    {
      ike_crypto_set_nss_error (error, "starting the PRF");
      return NULL;
    }
  out = g_malloc (out_len);
  rv = PK11_DigestBegin (context);
  if (rv == SECSuccess && len > 0)
    rv = PK11_DigestOp (context, data, (unsigned int) len);
  if (rv == SECSuccess)
    rv = PK11_DigestFinal (context, out, &written, (unsigned int) out_len);
  PK11_DestroyContext (context, PR_TRUE);
  if (rv != SECSuccess || written != out_len)
    {
      ike_crypto_set_nss_error (error, "computing the PRF");
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&out), out_len);
}

PK11SymKey *
ike_prf_key (IkePrfId prf, PK11SymKey *key, const guint8 *data, gsize len, GError **error)
{
  /* CKM_NSS_IKE_PRF_DERIVE computes prf(key, Ni | Nr); with all the data in
   * "Ni" and an empty "Nr" it is the plain prf(key, data). */
  CK_NSS_IKE_PRF_DERIVE_PARAMS params = {
    .prfMechanism = ike_prf_mechanism (prf),
    .bDataAsKey = CK_FALSE,
    .bRekey = CK_FALSE,
    .pNi = (CK_BYTE_PTR) data,
    .ulNiLen = len,
    .pNr = NULL,
    .ulNrLen = 0,
    .hNewKey = CK_INVALID_HANDLE,
  };

  if (!check_prf (prf, error))
    return NULL;
  return ike_symkey_derive (key, CKM_NSS_IKE_PRF_DERIVE, &params, sizeof params,
                            CKM_GENERIC_SECRET_KEY_GEN, IKE_KEY_FLAGS_SECRET, 0, error);
}

PK11SymKey *
ike_prf_plus (IkePrfId prf, PK11SymKey *key, PK11SymKey *seed_key, const guint8 *seed,
              gsize seed_len, gsize length, GError **error)
{
  CK_NSS_IKE_PRF_PLUS_DERIVE_PARAMS params = {
    .prfMechanism = ike_prf_mechanism (prf),
    .bHasSeedKey = seed_key != NULL,
    .hSeedKey = seed_key != NULL ? PK11_GetSymKeyHandle (seed_key) : CK_INVALID_HANDLE,
    .pSeedData = (CK_BYTE_PTR) seed,
    .ulSeedDataLen = seed_len,
  };

  if (!check_prf (prf, error))
    return NULL;
  if (length == 0 || length > IKE_PRF_PLUS_MAX_BLOCKS * ike_prf_length (prf))
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID,
                   "prf+ cannot produce %" G_GSIZE_FORMAT " bytes", length);
      return NULL;
    }
  if (seed_key == NULL && seed_len == 0)
    {
      g_set_error_literal (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID, "prf+ needs a seed");
      return NULL;
    }
  return ike_symkey_derive (key, CKM_NSS_IKE_PRF_PLUS_DERIVE, &params, sizeof params,
                            CKM_GENERIC_SECRET_KEY_GEN, IKE_KEY_FLAGS_SECRET, length, error);
}
