/* The one table from IKE transform ids to the kernel's algorithms.
 *
 * Names are the kernel crypto API's, as xfrm_algo.c lists them for ESP.
 * AEAD and counter-mode keys carry a 4-byte salt after the key proper
 * (RFC 4106 §8.1, RFC 7634 §4, RFC 3686 §5.1): IKE derives it as part of the
 * key material, and the kernel wants it at the end of the same key. */
#include "config.h"

#include <string.h>

#include "ike-types.h"
#include "xfrm.h"

static const XfrmAlgorithm xfrm_algorithms[] = {
  /* AEAD (RFC 4106, RFC 7634): ICV length by transform id */
  { IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16, "rfc4106(gcm(aes))", TRUE, 128, 4, 0 },
  { IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_12, "rfc4106(gcm(aes))", TRUE, 96, 4, 0 },
  { IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_8, "rfc4106(gcm(aes))", TRUE, 64, 4, 0 },
  { IKE_TRANSFORM_ENCR, IKE_ENCR_CHACHA20_POLY1305, "rfc7539esp(chacha20,poly1305)", TRUE, 128, 4,
    256 },
  /* Ciphers, combined with one integrity algorithm below */
  { IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, "cbc(aes)", FALSE, 0, 0, 0 },
  { IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CTR, "rfc3686(ctr(aes))", FALSE, 0, 4, 0 },
  /* Integrity (RFC 4868: key as long as the hash, ICV half of it) */
  { IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_256_128, "hmac(sha256)", FALSE, 128, 0, 256 },
  { IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_384_192, "hmac(sha384)", FALSE, 192, 0, 384 },
  { IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_512_256, "hmac(sha512)", FALSE, 256, 0, 512 },
  { IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA1_96, "hmac(sha1)", FALSE, 96, 0, 160 },
};

const XfrmAlgorithm *
xfrm_algorithm_lookup (guint8 transform_type, guint16 id)
{
  for (gsize i = 0; i < G_N_ELEMENTS (xfrm_algorithms); i++)
    if (xfrm_algorithms[i].transform_type == transform_type && xfrm_algorithms[i].id == id)
      return &xfrm_algorithms[i];
  return NULL;
}

/* Ciphers have no ICV: @icv_bits is ignored for them. */
const XfrmAlgorithm *
xfrm_algorithm_lookup_kernel (const char *kernel_name, guint icv_bits)
{
  for (gsize i = 0; i < G_N_ELEMENTS (xfrm_algorithms); i++)
    {
      const XfrmAlgorithm *alg = &xfrm_algorithms[i];
      gboolean cipher = alg->transform_type == IKE_TRANSFORM_ENCR && !alg->aead;
      if (strcmp (alg->kernel_name, kernel_name) == 0 && (cipher || alg->icv_bits == icv_bits))
        return alg;
    }
  return NULL;
}
